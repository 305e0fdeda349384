using System.Diagnostics;

namespace Flight.Hal.Resources;

// Waiting: Blocking and Timeout acquisitions sleep until a release moves the wake epoch of the budget or region
// they wait for; a named owner's wait is first checked against the wait-for graph (WaitForGraph).
public sealed partial class ResourceManager
{
    private readonly int _keyCount;          // Wait-for keys: one per resource type, then one per region.
    private readonly WaitForGraph _graph;    // Under _lock: who holds and who waits for which key.
    private readonly object _waitLock = new();
    private readonly long[] _keyEpochs;      // Per wait-for key: moves (under _waitLock) when something that may make
                                             // room in it is released; a waiter sleeps while its key's epoch stands.
    private int _waiters;                    // Acquisitions in a Blocking/Timeout/async wait loop (retrying or asleep).
    private TaskCompletionSource? _asyncWake; // Under _waitLock: completed (and dropped) by the next wake, for AcquireAsync.

    [ThreadStatic]
    private static ResourceManager? t_waitingIn; // The manager whose wait loop this thread is in (Dispose from a callback).

    /// <summary>Blocking and Timeout: retry, and if that fails, wait for a release, repeat; with deadlock detection for
    /// named owners. Never polls: it sleeps until a release (or a hold given back that kept someone out) wakes it, or the
    /// deadline.</summary>
    private ResourceStatus WaitAndRetry(ref Request r, AcquisitionMode mode, TimeSpan timeout, out ResourceHandle handle)
    {
        bool bounded = mode == AcquisitionMode.Timeout && timeout != Timeout.InfiniteTimeSpan;
        long deadline = bounded ? DeadlineAfter(timeout) : long.MaxValue;
        ResourceManager? outerWait = t_waitingIn;
        t_waitingIn = this; // Dispose on this thread (from a callback) must not wait for this wait to end
        try
        {
            return WaitLoop(ref r, bounded, deadline, out handle);
        }
        finally
        {
            t_waitingIn = outerWait;
        }
    }

    private ResourceStatus WaitLoop(ref Request r, bool bounded, long deadline, out ResourceHandle handle)
    {
        Span<long> epochs = stackalloc long[_keyCount];
        while (true)
        {
            int trackedKey = NoWait;
            bool refusalKept = false;
            Interlocked.Increment(ref _waiters);
            try
            {
                // Announce the wait first, then retry: a release after the retry sees _waiters and moves its key's epoch,
                // so the wait below cannot miss it. A budget refusal stays registered while this waits (GiveBackHold).
                SnapshotEpochs(epochs);
                ThrowIfDisposed();
                ResourceStatus status = TryAcquireOnce(ref r, epochs, keepRefusal: true, out handle, out int key, out refusalKept);
                GiveBackIfDisposing(status, handle);
                if (status == ResourceStatus.Ok || key == NoWait)
                {
                    return status;
                }

                long remaining = deadline - Stopwatch.GetTimestamp();
                if (remaining <= 0)
                {
                    return ResourceStatus.Timeout;
                }

                // Only now, with the retry failed, ask whether any release could ever end the wait.
                if (TrackWait(r.Owner, r.TrackWait, key, epochs[key], ref trackedKey) == ResourceStatus.Deadlock)
                {
                    return ResourceStatus.Deadlock;
                }

                // Sleep while nothing that could make room in this key is released (wakes for other keys are ignored).
                lock (_waitLock)
                {
                    while (_keyEpochs[key] == epochs[key] && !_disposed)
                    {
                        remaining = deadline - Stopwatch.GetTimestamp();
                        if (remaining <= 0)
                        {
                            break;
                        }

                        Monitor.Wait(_waitLock, bounded ? WaitMilliseconds(remaining) : Timeout.Infinite);
                    }
                }

                ThrowIfDisposed();
                if (Stopwatch.GetTimestamp() >= deadline)
                {
                    // One last try: the release that woke us may have come just at the deadline.
                    status = TryAcquireOnce(ref r, default, keepRefusal: false, out handle, out _, out _);
                    return status == ResourceStatus.Ok ? status : ResourceStatus.Timeout;
                }
            }
            finally
            {
                EndWaitPass(r.Metadata.Type, refusalKept, r.Owner, trackedKey);
            }
        }
    }

    /// <summary>A retry of a wait loop succeeded while Dispose began (and waits for it): the resource goes back (the pools
    /// are still there) rather than out as a handle of a disposed manager, and the caller is told.</summary>
    private void GiveBackIfDisposing(ResourceStatus status, ResourceHandle handle)
    {
        if (status == ResourceStatus.Ok && _disposed)
        {
            ReleaseCore(handle);
            ThrowIfDisposed();
        }
    }

    /// <summary>Before a wait of a named owner: asks the wait-for graph whether any release could ever end it, and on
    /// <see cref="ResourceStatus.Ok"/> records the wait in <paramref name="trackedKey"/> (ended by
    /// <see cref="EndWaitPass"/>). Unnamed owners, and owners whose waits are not tracked, always may wait.</summary>
    private ResourceStatus TrackWait(int owner, bool track, int key, long epoch, ref int trackedKey)
    {
        if (owner == 0 || !track)
        {
            return ResourceStatus.Ok;
        }

        if (BeginTrackedWait(owner, key, epoch) == ResourceStatus.Deadlock)
        {
            return ResourceStatus.Deadlock;
        }

        trackedKey = key;
        return ResourceStatus.Ok;
    }

    /// <summary>The end of one pass of a wait loop (sync or async): the kept budget refusal, the tracked wait and the
    /// waiter count are given back.</summary>
    private void EndWaitPass(ResourceType type, bool refusalKept, int owner, int trackedKey)
    {
        if (refusalKept)
        {
            _budgets.EndRefusal(type);
        }

        if (trackedKey != NoWait)
        {
            EndTrackedWait(owner, trackedKey);
        }

        LeaveWait();
    }

    /// <summary>The timestamp <paramref name="timeout"/> from now, saturating at <see cref="long.MaxValue"/> (in floating
    /// point: <c>TimeSpan.MaxValue</c> in Stopwatch ticks overflows a long).</summary>
    private static long DeadlineAfter(TimeSpan timeout)
    {
        long now = Stopwatch.GetTimestamp();
        double ticks = timeout.Ticks * ((double)Stopwatch.Frequency / TimeSpan.TicksPerSecond);
        return ticks >= long.MaxValue - now ? long.MaxValue : now + (long)ticks;
    }

    /// <summary>A Monitor.Wait length for <paramref name="remaining"/> Stopwatch ticks: rounded up to whole milliseconds,
    /// at least 1 and at most <see cref="int.MaxValue"/> (a longer wait wakes, finds its deadline ahead, and waits again).</summary>
    private static int WaitMilliseconds(long remaining)
    {
        double milliseconds = Math.Ceiling(remaining * 1000.0 / Stopwatch.Frequency);
        return milliseconds >= int.MaxValue ? int.MaxValue : Math.Max(1, (int)milliseconds);
    }

    private ResourceStatus BeginTrackedWait(int owner, int key, long waitEpoch)
    {
        lock (_lock)
        {
            Span<long> usage = stackalloc long[_keyCount];
            for (int t = 0; t < ResourceTypes.Count; t++)
            {
                usage[t] = _budgets.CurrentBytes((ResourceType)t);
            }

            // Regions: the manager's own allocations (what owners hold, in the same units), not the region's used bytes,
            // which include pool slabs no release gives back. Main memory adds the pooled resources: registered ones by
            // size, anonymous ones (held by no owner, so by running code) by count.
            foreach (Region region in _regions)
            {
                usage[region.Key] = Volatile.Read(ref _regionBytes[region.Index]);
            }

            usage[_main.Key] += _registeredPoolBytes + AnonymousPooledCountLocked();
            Span<long> epochs = stackalloc long[_keyCount];
            SnapshotEpochs(epochs);
            ResourceStatus verdict = _graph.TryBeginWait(owner, key, usage, waitEpoch, epochs);
            if (verdict == ResourceStatus.Deadlock && ResourceEventSource.Log.IsEnabled())
            {
                ResourceEventSource.Log.DeadlockRefused(owner, key);
            }

            return verdict;
        }
    }

    /// <summary>Pool blocks held as anonymous resources (or rented around the manager, or on their way to the registry).</summary>
    private long AnonymousPooledCountLocked()
    {
        long used = 0;
        foreach (PoolBinding binding in _bindings)
        {
            used += binding.Pool.GetStats().UsedBlocks;
        }

        return Math.Max(0, used - _registeredPoolBlocks);
    }

    private void EndTrackedWait(int owner, int key)
    {
        lock (_lock)
        {
            _graph.EndWait(owner, key);
        }
    }

    /// <summary>Wakes the acquisitions waiting for <paramref name="typeKey"/> or <paramref name="regionKey"/> (a budget
    /// and a region something was just freed in; <see cref="NoWait"/> for none) after something was freed; one volatile
    /// read when nobody waits. Waiters on other keys sleep on.</summary>
    private void WakeWaiters(int typeKey, int regionKey) => WakeWaiters(typeKey, regionKey, default);

    /// <summary>As <see cref="WakeWaiters(int, int)"/>, for a waiter that is retrying: <paramref name="ownEpochs"/> is
    /// its snapshot of the keys' epochs; a key nobody else moved since moves in the snapshot too, so a waiter does not
    /// count its own wake as a reason to retry at once.</summary>
    private void WakeWaiters(int typeKey, int regionKey, Span<long> ownEpochs)
    {
        if (Volatile.Read(ref _waiters) == 0)
        {
            return;
        }

        lock (_waitLock)
        {
            Bump(typeKey, ownEpochs);
            if (regionKey != NoWait && regionKey != typeKey)
            {
                Bump(regionKey, ownEpochs);
            }

            Monitor.PulseAll(_waitLock);
            WakeAsyncWaitersLocked();
        }
    }

    /// <summary>Wakes every async waiter (each looks at its own key's epoch and waits again if it has not moved).</summary>
    private void WakeAsyncWaitersLocked()
    {
        if (_asyncWake != null)
        {
            _asyncWake.TrySetResult(); // continuations run asynchronously, never under _waitLock
            _asyncWake = null;
        }
    }

    private void Bump(int key, Span<long> ownEpochs)
    {
        if (!ownEpochs.IsEmpty && ownEpochs[key] == _keyEpochs[key])
        {
            ownEpochs[key]++;
        }

        Volatile.Write(ref _keyEpochs[key], _keyEpochs[key] + 1);
    }

    /// <summary>Copies every key's wake epoch (before an attempt: a release after it moves the copy's key).</summary>
    private void SnapshotEpochs(Span<long> epochs)
    {
        for (int key = 0; key < epochs.Length; key++)
        {
            epochs[key] = Volatile.Read(ref _keyEpochs[key]);
        }
    }

    /// <summary>A waiter leaves its wait loop (each pass): once the manager is being disposed, Dispose is told.</summary>
    private void LeaveWait()
    {
        Interlocked.Decrement(ref _waiters);
        if (_disposed)
        {
            lock (_waitLock)
            {
                Monitor.PulseAll(_waitLock);
            }
        }
    }

    /// <summary>Dispose's first step: wakes every waiter (each sees the manager disposed and throws) and waits until all
    /// have left their wait loops, so none is inside the pools when they are freed.</summary>
    private void WakeAndAwaitWaiters()
    {
        lock (_waitLock)
        {
            for (int key = 0; key < _keyEpochs.Length; key++)
            {
                _keyEpochs[key]++;
            }

            Monitor.PulseAll(_waitLock); // blocked acquisitions wake, see the manager disposed and throw
            WakeAsyncWaitersLocked();

            // A waiter may be in the middle of a retry (woken by a release just before): it must finish with the pools
            // before they are freed. A wait of this very thread (Dispose from a callback inside a retry) is not waited for.
            int own = ReferenceEquals(t_waitingIn, this) ? 1 : 0;
            while (Volatile.Read(ref _waiters) > own)
            {
                Monitor.Wait(_waitLock);
            }
        }
    }

    /// <summary>Acquires memory for a resource, waiting for room without blocking a thread: as a
    /// <see cref="AcquisitionMode.Timeout"/> acquisition (woken by releases, never by polling; the same deadlock
    /// detection between owners), but awaited.</summary>
    /// <param name="metadata">As <see cref="TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <param name="name">As that method.</param>
    /// <param name="owner">As that method; an owner's wait that no release could ever end fails with
    /// <see cref="ResourceStatus.Deadlock"/>.</param>
    /// <param name="timeout">The longest wait; null (the default) or <see cref="Timeout.InfiniteTimeSpan"/> waits until
    /// room comes, the token is cancelled or the manager is disposed; <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Ends the wait with <see cref="OperationCanceledException"/>; nothing stays
    /// reserved or acquired.</param>
    /// <returns>The resource's handle; at once (synchronously, without allocating) when there is room now.</returns>
    /// <exception cref="ResourceException">The request failed: <see cref="ResourceStatus.Timeout"/>,
    /// <see cref="ResourceStatus.Deadlock"/>, or a refusal no release can change (larger than the budget or the
    /// region, <see cref="ResourceStatus.CapacityExceeded"/>, <see cref="ResourceStatus.OutOfMemory"/>).</exception>
    /// <exception cref="ArgumentException">As that method.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative (other than infinite).</exception>
    /// <exception cref="ObjectDisposedException">The manager is disposed (also while waiting).</exception>
    /// <remarks>A refused, timed-out or cancelled request counts one failure for its type, as a synchronous one does.</remarks>
    public ValueTask<ResourceHandle> AcquireAsync(
        ResourceMetadata metadata,
        string? name = null,
        ResourceOwner owner = default,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default) =>
        AcquireAsyncCore(metadata, name, owner, timeout, trackWait: true, cancellationToken);

    /// <summary>As <see cref="AcquireAsync"/>; <paramref name="trackWait"/> false for an owner that is not one driver
    /// thread (see <see cref="TryAcquireUntracked"/>).</summary>
    internal ValueTask<ResourceHandle> AcquireAsyncCore(
        ResourceMetadata metadata, string? name, ResourceOwner owner, TimeSpan? timeout, bool trackWait, CancellationToken cancellationToken)
    {
        if (name != null && name.Length == 0)
        {
            ThrowHelper.ThrowArgument(nameof(name), "A resource name is not empty; pass null for none.");
        }

        TimeSpan wait = timeout ?? Timeout.InfiniteTimeSpan;
        ThrowIfDisposed();
        ValidateRequest(in metadata, AcquisitionMode.Timeout, wait, owner);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ResourceHandle>(cancellationToken);
        }

        ResourceStatus status = AttemptOnce(in metadata, name, owner.Id, default, keepRefusal: false, out ResourceHandle handle, out int key, out _);
        if (status == ResourceStatus.Ok)
        {
            return new ValueTask<ResourceHandle>(handle);
        }

        if (key == NoWait)
        {
            CountFailure(metadata.Type, status, metadata.Size);
            return ValueTask.FromException<ResourceHandle>(new ResourceException(status)); // no release can help
        }

        bool bounded = wait != Timeout.InfiniteTimeSpan;
        return WaitAndRetryAsync(metadata, name, owner.Id, trackWait, bounded, bounded ? DeadlineAfter(wait) : long.MaxValue, cancellationToken);
    }

    /// <summary>One attempt for an async acquisition (a synchronous frame: the request's spans live here).</summary>
    private ResourceStatus AttemptOnce(
        in ResourceMetadata metadata, string? name, int owner, Span<long> epochs, bool keepRefusal, out ResourceHandle handle, out int key, out bool refusalKept)
    {
        ResourceManager? outerWait = t_waitingIn;
        t_waitingIn = this; // Dispose from a callback of this attempt must not wait for this wait to end
        try
        {
            var request = new Request(in metadata, name.AsSpan(), name, owner, emergency: false);
            ResourceStatus status = TryAcquireOnce(ref request, epochs, keepRefusal, out handle, out key, out refusalKept);
            if (status == ResourceStatus.Ok && _observer != null)
            {
                ObserveAcquired(handle, in metadata, AcquisitionMode.Timeout, owner); // async waits are Timeout waits
            }

            if (_safety != null)
            {
                ThrowIfCorruptionFound(status == ResourceStatus.Ok ? handle : default); // strict: undone first
            }

            return status;
        }
        finally
        {
            t_waitingIn = outerWait;
        }
    }

    /// <summary>The async twin of <see cref="WaitLoop"/>: the same steps, awaiting the next wake instead of sleeping.</summary>
    private async ValueTask<ResourceHandle> WaitAndRetryAsync(
        ResourceMetadata metadata, string? name, int owner, bool trackWait, bool bounded, long deadline, CancellationToken cancellationToken)
    {
        long[] epochs = new long[_keyCount];
        ResourceStatus outcome = ResourceStatus.Timeout;
        try
        {
            while (true)
            {
                int trackedKey = NoWait;
                bool refusalKept = false;
                Interlocked.Increment(ref _waiters);
                try
                {
                    SnapshotEpochs(epochs);
                    ThrowIfDisposed();
                    ResourceStatus status = AttemptOnce(in metadata, name, owner, epochs, keepRefusal: true, out ResourceHandle handle, out int key, out refusalKept);
                    GiveBackIfDisposing(status, handle);

                    if (status == ResourceStatus.Ok)
                    {
                        return handle;
                    }

                    if (key == NoWait)
                    {
                        outcome = status;
                        break;
                    }

                    if (Stopwatch.GetTimestamp() >= deadline)
                    {
                        break;
                    }

                    if (TrackWait(owner, trackWait, key, epochs[key], ref trackedKey) == ResourceStatus.Deadlock)
                    {
                        outcome = ResourceStatus.Deadlock;
                        break;
                    }

                    // Await the next wake while this key's epoch stands (wakes for other keys: look again, wait again).
                    while (true)
                    {
                        Task wake;
                        lock (_waitLock)
                        {
                            if (_keyEpochs[key] != epochs[key] || _disposed)
                            {
                                break;
                            }

                            wake = (_asyncWake ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
                        }

                        long remaining = deadline - Stopwatch.GetTimestamp();
                        if (remaining <= 0)
                        {
                            break;
                        }

                        try
                        {
                            await wake.WaitAsync(bounded ? TimeSpan.FromMilliseconds(WaitMilliseconds(remaining)) : Timeout.InfiniteTimeSpan, cancellationToken)
                                .ConfigureAwait(false);
                        }
                        catch (TimeoutException)
                        {
                            break;
                        }
                    }

                    ThrowIfDisposed();
                    if (Stopwatch.GetTimestamp() >= deadline)
                    {
                        // One last try: the release that woke us may have come just at the deadline.
                        status = AttemptOnce(in metadata, name, owner, default, keepRefusal: false, out handle, out _, out _);
                        if (status == ResourceStatus.Ok)
                        {
                            return handle;
                        }

                        break;
                    }
                }
                finally
                {
                    EndWaitPass(metadata.Type, refusalKept, owner, trackedKey);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _budgets.CountFailure(metadata.Type);
            throw;
        }

        CountFailure(metadata.Type, outcome, metadata.Size); // one failure per refused call
        throw new ResourceException(outcome);
    }
}
