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

    /// <summary>Acquisitions refused as <see cref="ResourceStatus.Fragmented"/> (enough free bytes, no block big enough).</summary>
    public long FragmentedFailures { get; init; }

    /// <summary>Bytes each region could move per frame (<c>--defrag</c>); 0 when not defragmenting.</summary>
    public long DefragPerFrame { get; init; }

    /// <summary>Bytes moved by defragmentation over the run.</summary>
    public long DefragBytesMoved { get; init; }

    /// <summary>Resources moved by defragmentation over the run.</summary>
    public long DefragMoves { get; init; }

    /// <summary>With <c>--defrag</c>: the same workload's run without defragmenting, for the before/after figures.</summary>
    public SimulationResult? WithoutDefrag { get; init; }
}
