namespace Flight.Hal.Resources.Simulator;

/// <summary>Per-region figures: usage and fragmentation per frame.</summary>
internal sealed record RegionSummary(string Name, RegionKind Kind, long Capacity, long PeakUsed, double MaxFragmentation, long Failures, long[] Used, double[] Fragmentation);
