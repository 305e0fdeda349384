using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

// Frames and the observer: MarkFrame counts frames; one ResourceObserver (a higher layer's, such as the Diagnostics
// layer's recorder) may be attached to hear every successful acquisition, release and share.
public sealed partial class ResourceManager
{
    private long _frame;
    private ResourceObserver? _observer; // Read once per operation; null when nothing is attached (one test on the hot path).

    /// <summary>Frames marked so far with <see cref="MarkFrame"/> (0 before the first).</summary>
    public long CurrentFrame => Volatile.Read(ref _frame);

    /// <summary>Marks the start of a new frame: a recorder attached to the manager stamps what follows with it
    /// (<see cref="CurrentFrame"/> counts them). Call it once per frame, from the game loop.</summary>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    /// <remarks>Thread-safe; allocates nothing.</remarks>
    public void MarkFrame()
    {
        ThrowIfDisposed();
        Interlocked.Increment(ref _frame);
    }

    /// <summary>Attaches <paramref name="observer"/>; one at a time.</summary>
    /// <exception cref="InvalidOperationException">Another observer is attached.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    internal void AttachObserver(ResourceObserver observer)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            if (Interlocked.CompareExchange(ref _observer, observer, null) != null)
            {
                ThrowHelper.ThrowInvalidOperation("A recorder is already attached to this manager: stop it first.");
            }
        }
    }

    /// <summary>Detaches <paramref name="observer"/> if it is the one attached. Calls already under way may still reach
    /// it until they return.</summary>
    internal void DetachObserver(ResourceObserver observer) => Interlocked.CompareExchange(ref _observer, null, observer);

    /// <summary>An owner's name for an observer writing it down: <c>(none)</c> for 0.</summary>
    internal string OwnerNameOf(int owner)
    {
        lock (_lock)
        {
            return OwnerName(owner);
        }
    }

    /// <summary>Tells the observer the manager is going, then detaches it (from Dispose).</summary>
    private void DetachObserverForDispose()
    {
        ResourceObserver? observer = Volatile.Read(ref _observer);
        if (observer == null)
        {
            return;
        }

        try
        {
            observer.OnManagerDisposing();
        }
        finally
        {
            DetachObserver(observer);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ObserveAcquired(ResourceHandle handle, in ResourceMetadata metadata, AcquisitionMode mode, int owner) =>
        Volatile.Read(ref _observer)?.OnAcquired(handle, in metadata, mode, owner);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ObserveReleased(ResourceHandle handle) => Volatile.Read(ref _observer)?.OnReleased(handle);
}
