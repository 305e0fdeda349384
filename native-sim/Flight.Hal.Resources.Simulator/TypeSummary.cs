namespace Flight.Hal.Resources.Simulator;

/// <summary>Per-type figures at the end of a run.</summary>
internal sealed record TypeSummary(ResourceType Type, ResourceStats Stats, long[] Usage);
