namespace Flight.Hal.Resources.Simulator;

/// <summary>What a trace event does.</summary>
internal enum TraceOp
{
    Acquire,
    Release,
    Share,
}

/// <summary>One event of a workload: in frame <see cref="Frame"/>, acquire, release or share the resource
/// <see cref="Id"/> (the trace's own name for it).</summary>
/// <param name="Frame">0-based frame; events run in file order within a frame.</param>
/// <param name="Op">Acquire, release or share.</param>
/// <param name="Id">The trace's id of the resource (acquire defines it; release and share use it).</param>
/// <param name="Type">Acquire: the budget it counts against.</param>
/// <param name="Size">Acquire: bytes.</param>
/// <param name="Alignment">Acquire: 0 or a power of two.</param>
/// <param name="Flags">Acquire: placement and sharing flags; <c>Cacheable</c> resources may be evicted by reclamation.</param>
/// <param name="Mode">Acquire: the acquisition mode.</param>
/// <param name="Owner">Acquire and share: the owner (share: who gets the new handle).</param>
/// <param name="Target">Share: the id of the new handle.</param>
/// <param name="Line">Where it came from (line in a CSV, index in a JSON list), for messages.</param>
internal sealed record TraceEvent(
    int Frame,
    TraceOp Op,
    string Id,
    ResourceType Type = ResourceType.Memory,
    long Size = 0,
    int Alignment = 0,
    ResourceFlags Flags = ResourceFlags.None,
    AcquisitionMode Mode = AcquisitionMode.NonBlocking,
    string? Owner = null,
    string? Target = null,
    int Line = 0);

/// <summary>A workload: events in frame order and how many frames it spans.</summary>
internal sealed record Workload(string Name, IReadOnlyList<TraceEvent> Events, int FrameCount);
