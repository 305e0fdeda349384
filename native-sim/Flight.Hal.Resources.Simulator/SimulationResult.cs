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

    /// <summary>The frame the snapshot was taken at (the most bytes in use at a frame's end), or -1.</summary>
    public int PeakFrame { get; init; } = -1;

    /// <summary>The manager's JSON snapshot at <see cref="PeakFrame"/> when asked for (<c>--snapshot</c>), else null.</summary>
    public byte[]? PeakSnapshot { get; init; }
}
