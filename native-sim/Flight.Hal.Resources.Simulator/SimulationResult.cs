namespace Flight.Hal.Resources.Simulator;

/// <summary>Everything a report shows.</summary>
internal sealed record SimulationResult(
    string Profile,
    string Workload,
    int Frames,
    IReadOnlyList<TypeSummary> Types,
    IReadOnlyList<RegionSummary> Regions,
    IReadOnlyList<PoolStats> Pools,
    IReadOnlyList<SimEvent> Events,
    int Acquisitions,
    int FailedAcquisitions,
    int Evictions,
    LeakReport? Leaks,
    CacheStats Cache)
{
    /// <summary>Resources the workload never released (0 when the report is empty).</summary>
    public int LeakCount => Leaks?.Count ?? 0;
}
