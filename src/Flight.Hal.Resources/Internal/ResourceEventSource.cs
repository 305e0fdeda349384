using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Tracing;

namespace Flight.Hal.Resources;

/// <summary>The library's events, on the event source <c>Flight-Hal-Resources</c> (<c>dotnet-trace collect --providers
/// Flight-Hal-Resources</c>, or an <see cref="EventListener"/>): pressure changes, refused acquisitions, reclamations,
/// emergency overruns, refused deadlocks, leaks found at dispose, and corruption found by the memory-safety mode.</summary>
/// <remarks>It lives in the floor, below every layer, because the budgets and the manager raise these events; the
/// Diagnostics layer documents it. Every raise is guarded by <see cref="EventSource.IsEnabled()"/>: with no session
/// listening it costs one field read. Payloads are numbers: resource types, statuses and pressure levels by their
/// values (the C ABI's codes).</remarks>
[EventSource(Name = SourceName)]
internal sealed class ResourceEventSource : EventSource
{
    public const string SourceName = "Flight-Hal-Resources";

    public static readonly ResourceEventSource Log = new();

    private ResourceEventSource()
    {
    }

    /// <summary>A type's pressure level changed.</summary>
    [Event(1, Level = EventLevel.Informational, Message = "Type {0}: pressure {1} -> {2} at {3} bytes")]
    public void PressureChanged(long type, long previous, long current, long currentBytes) => WriteLongs(1, type, previous, current, currentBytes);

    /// <summary>An acquisition was refused.</summary>
    [Event(2, Level = EventLevel.Warning, Message = "Type {0}: {2} bytes refused with status {1}")]
    public void AcquisitionFailed(long type, long status, long size) => WriteEvent(2, type, status, size);

    /// <summary>A reclamation callback was asked for memory.</summary>
    [Event(3, Level = EventLevel.Informational, Message = "Type {0}: asked for {1} bytes, {2} freed")]
    public void Reclamation(long type, long requestedBytes, long freedBytes) => WriteEvent(3, type, requestedBytes, freedBytes);

    /// <summary>An emergency acquisition went past the budget.</summary>
    [Event(4, Level = EventLevel.Warning, Message = "Type {0}: {1} bytes past the budget, usage now {2}")]
    public void EmergencyOverrun(long type, long size, long currentBytes) => WriteEvent(4, type, size, currentBytes);

    /// <summary>A wait was refused because no release could ever end it.</summary>
    [Event(5, Level = EventLevel.Warning, Message = "Owner {0}: a wait for key {1} would deadlock")]
    public void DeadlockRefused(long owner, long key) => WriteEvent(5, owner, key);

    /// <summary>A manager was disposed with resources still alive.</summary>
    [Event(6, Level = EventLevel.Warning, Message = "{0} resources ({1} bytes) alive at dispose")]
    public void LeaksAtDispose(long count, long bytes) => WriteEvent(6, count, bytes);

    /// <summary>The memory-safety mode found damage (kind: <c>CorruptionKind</c>'s value).</summary>
    [Event(7, Level = EventLevel.Error, Message = "Memory corruption (kind {0}) of handle {1} at offset {2}: {3} bytes damaged")]
    public void CorruptionFound(long kind, long handle, long offset, long damagedBytes) => WriteLongs(7, kind, handle, offset, damagedBytes);

    /// <summary>An event of four longs (the base class has no WriteEvent overload for them that is trim-safe).</summary>
    [NonEvent]
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "The payload is four longs: primitives, nothing to trim.")]
    private unsafe void WriteLongs(int eventId, long a, long b, long c, long d)
    {
        EventData* data = stackalloc EventData[4];
        data[0].DataPointer = (nint)(&a);
        data[0].Size = sizeof(long);
        data[1].DataPointer = (nint)(&b);
        data[1].Size = sizeof(long);
        data[2].DataPointer = (nint)(&c);
        data[2].Size = sizeof(long);
        data[3].DataPointer = (nint)(&d);
        data[3].Size = sizeof(long);
        WriteEventCore(eventId, 4, data);
    }
}
