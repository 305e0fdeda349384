using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

/// <summary>Acquisition: routing, budgets, modes and waiting.</summary>
public sealed partial class ResourceManager
{
    private const int NoWait = -1; // A failure no release can cure: never wait for it.

    /// <summary>Acquires memory for a resource.</summary>
    /// <param name="metadata">Type, size, alignment, flags, access pattern and priority; <see langword="default"/> is refused.</param>
    /// <param name="handle">On <see cref="ResourceStatus.Ok"/>, the resource's handle; otherwise <see langword="default"/>.</param>
    /// <param name="name">An optional name, findable with <see cref="TryFind(string, out ResourceHandle)"/>. Interned while a
    /// resource carries it (and a while after, see <see cref="ResourceManagerOptions.MaxRetainedNames"/>): a repeated
    /// name allocates nothing.</param>
    /// <param name="mode">What to do when the budget or the region has no room now.</param>
    /// <param name="timeout">For <see cref="AcquisitionMode.Timeout"/>: the longest wait (<see cref="Timeout.InfiniteTimeSpan"/>
    /// waits forever; any length up to <see cref="TimeSpan.MaxValue"/> is honoured); ignored otherwise.</param>
    /// <param name="owner">The owner the handle belongs to (<see cref="GetOwner(string)"/>); none by default.</param>
    /// <returns>
    /// <see cref="ResourceStatus.Ok"/>;
    /// <see cref="ResourceStatus.BudgetExceeded"/> (the type's budget has no room, even after reclamation);
    /// <see cref="ResourceStatus.RegionExhausted"/> or <see cref="ResourceStatus.Fragmented"/> (the region has no room,
    /// or no single block large enough); <see cref="ResourceStatus.OutOfMemory"/> (the host refused);
    /// <see cref="ResourceStatus.CapacityExceeded"/> (the registry is full);
    /// <see cref="ResourceStatus.Timeout"/> (a <see cref="AcquisitionMode.Timeout"/> wait ran out);
    /// <see cref="ResourceStatus.Deadlock"/> (a blocking wait by <paramref name="owner"/> could never end).
    /// A refused request changes nothing but the type's failure count (one per call): no acquisition or release is
    /// counted, no pressure level changes, nothing stays charged.
    /// </returns>
    /// <exception cref="ArgumentException"><paramref name="metadata"/> is <see langword="default"/>, <paramref name="name"/>
    /// is empty, or <paramref name="owner"/> belongs to another manager.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mode"/> is unknown, or a Timeout wait is negative.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed (also while waiting).</exception>
    /// <remarks>Anonymous, non-shareable requests that a pool serves are lock-free and allocate nothing; the memory is
    /// not cleared. The budget always counts <see cref="ResourceMetadata.Size"/> bytes.</remarks>
    public ResourceStatus TryAcquire(
        in ResourceMetadata metadata,
        out ResourceHandle handle,
        string? name = null,
        AcquisitionMode mode = AcquisitionMode.NonBlocking,
        TimeSpan timeout = default,
        ResourceOwner owner = default)
    {
        if (name != null && name.Length == 0)
        {
            ThrowHelper.ThrowArgument(nameof(name), "A resource name is not empty; pass null for none.");
        }

        return TryAcquireCore(in metadata, out handle, name.AsSpan(), name, mode, timeout, owner);
    }

    /// <summary>Acquires memory for a resource whose name is in a buffer (the C ABI, names built in place).</summary>
    /// <param name="metadata">As <see cref="TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <param name="handle">As that overload.</param>
    /// <param name="name">The name; empty for none. A name seen before allocates nothing.</param>
    /// <param name="mode">As that overload.</param>
    /// <param name="timeout">As that overload.</param>
    /// <param name="owner">As that overload.</param>
    /// <returns>As that overload.</returns>
    /// <exception cref="ArgumentException">As that overload.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As that overload.</exception>
    /// <exception cref="ObjectDisposedException">As that overload.</exception>
    public ResourceStatus TryAcquire(
        in ResourceMetadata metadata,
        out ResourceHandle handle,
        ReadOnlySpan<char> name,
        AcquisitionMode mode,
        TimeSpan timeout,
        ResourceOwner owner) =>
        TryAcquireCore(in metadata, out handle, name, null, mode, timeout, owner);

    /// <summary>Acquires memory for a resource, throwing if it cannot be had.</summary>
    /// <param name="metadata">As <see cref="TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <param name="name">As that overload.</param>
    /// <param name="mode">As that overload.</param>
    /// <param name="timeout">As that overload.</param>
    /// <param name="owner">As that overload.</param>
    /// <returns>The resource's handle.</returns>
    /// <exception cref="ResourceException">The resource could not be acquired; <see cref="ResourceException.Status"/> says why.</exception>
    /// <exception cref="ArgumentException">As that overload.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public ResourceHandle Acquire(
        in ResourceMetadata metadata,
        string? name = null,
        AcquisitionMode mode = AcquisitionMode.NonBlocking,
        TimeSpan timeout = default,
        ResourceOwner owner = default)
    {
        ResourceStatus status = TryAcquire(in metadata, out ResourceHandle handle, name, mode, timeout, owner);
        if (status != ResourceStatus.Ok)
        {
            ThrowHelper.ThrowResourceException(status);
        }

        return handle;
    }

    private ResourceStatus TryAcquireCore(
        in ResourceMetadata metadata,
        out ResourceHandle handle,
        ReadOnlySpan<char> name,
        string? nameText,
        AcquisitionMode mode,
        TimeSpan timeout,
        ResourceOwner owner)
    {
        ThrowIfDisposed();
        ValidateRequest(in metadata, mode, timeout, owner);
        if (name.IsEmpty && owner.Id == 0 && mode != AcquisitionMode.Emergency && TryAcquirePooled(in metadata, out handle))
        {
            return ResourceStatus.Ok;
        }

        var request = new Request(in metadata, name, nameText, owner.Id, mode == AcquisitionMode.Emergency);
        ResourceStatus status = TryAcquireOnce(ref request, default, keepRefusal: false, out handle, out int waitKey, out _);
        if (status != ResourceStatus.Ok && waitKey != NoWait && mode is AcquisitionMode.Blocking or AcquisitionMode.Timeout)
        {
            status = WaitAndRetry(ref request, mode, timeout, out handle);
        }

        if (status != ResourceStatus.Ok)
        {
            _budgets.CountFailure(metadata.Type); // one failure per refused call, whatever was tried on the way
        }

        return status;
    }

    private void ValidateRequest(in ResourceMetadata metadata, AcquisitionMode mode, TimeSpan timeout, ResourceOwner owner)
    {
        if (metadata.Size == 0)
        {
            ThrowHelper.ThrowArgument(nameof(metadata), "default(ResourceMetadata) describes no resource; construct one with a size.");
        }

        if ((uint)mode > (uint)AcquisitionMode.Emergency)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(mode), mode, "Unknown acquisition mode.");
        }

        if (mode == AcquisitionMode.Timeout && timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(timeout), timeout, "A timeout is zero or more, or Timeout.InfiniteTimeSpan.");
        }

        ValidateOwner(owner);
    }

    /// <summary>One attempt: budget (held, not yet counted), then memory, then (unless anonymous and pooled) a registry
    /// entry, then the budget hold is committed. On failure nothing is held or counted; <paramref name="waitKey"/> says
    /// what a wait would be for, or <see cref="NoWait"/> when waiting cannot help.</summary>
    /// <param name="r">The request.</param>
    /// <param name="epochs">The caller's snapshot of the keys' wake epochs when it is a waiter (see
    /// <see cref="WakeWaiters(int, int, Span{long})"/>), else empty.</param>
    /// <param name="keepRefusal">Whether a budget refusal stays registered for the caller, which is about to wait, to
    /// end with <see cref="ResourceBudgetManager.EndRefusal"/> (see <see cref="GiveBackHold"/>).</param>
    /// <param name="handle">The handle on success.</param>
    /// <param name="waitKey">What to wait for on failure.</param>
    /// <param name="refusalKept">Whether a budget refusal was registered and kept.</param>
    private ResourceStatus TryAcquireOnce(
        ref Request r, scoped Span<long> epochs, bool keepRefusal, out ResourceHandle handle, out int waitKey, out bool refusalKept)
    {
        handle = default;
        waitKey = NoWait;
        refusalKept = false;
        ResourceType type = r.Metadata.Type;
        long size = r.Metadata.Size;

        // A request larger than the budget can ever hold fails at once in every mode.
        ResourceBudget budget = _budgets.GetBudget(type);
        if (size > (r.Emergency ? budget.MaxBytes : budget.OrdinaryLimit))
        {
            return ResourceStatus.BudgetExceeded;
        }

        Region region = RegionFor(r.Metadata.PreferredRegion);
        PoolBinding? binding = region == _main && size <= PoolConfig.MaxBlockSize ? FindBinding(type, (int)size, r.Metadata.Alignment) : null;
        if (binding == null && (size > region.Usable || size > MaxResourceSize))
        {
            return ResourceStatus.RegionExhausted; // larger than the region: no release can make room
        }

        ResourceStatus status = r.Emergency
            ? HoldEmergency(type, size, out long next)
            : _budgets.TryHold(type, size, BudgetMode.Ordinary, countFailure: false, keepRefusal, out next);
        if (status != ResourceStatus.Ok)
        {
            waitKey = (int)type;
            refusalKept = keepRefusal;
            return status;
        }

        bool anonymous = r.Name.IsEmpty && r.Owner == 0 && (r.Metadata.Flags & ResourceFlags.Shareable) == 0;
        byte placement = 0;
        ulong memory = 0;
        if (binding != null && binding.Pool.TryRent(out ResourceHandle block) == ResourceStatus.Ok)
        {
            WriteRecord(binding, block, in r.Metadata, anonymous ? PooledRecord.Anonymous : PooledRecord.Registered);
            if (anonymous)
            {
                handle = block;
                if (_stacks != null)
                {
                    CaptureStack(handle);
                }

                _budgets.Commit(type, size, next);
                return ResourceStatus.Ok;
            }

            placement = PlacementPool;
            memory = block.RawValue;
        }

        if (placement == 0)
        {
            // No pool fits, or the pool is full: the region's allocator.
            status = region.TryAllocate(size, r.Metadata.Alignment, out memory);
            if (status != ResourceStatus.Ok)
            {
                GiveBackHold(type, size, epochs);
                waitKey = region.Key;
                return status;
            }

            placement = RegionPlacement(region.Index);
            Interlocked.Add(ref _regionBytes[region.Index], size);
        }

        status = Register(ref r, placement, memory, out handle);
        if (status != ResourceStatus.Ok)
        {
            FreeMemory(placement, memory, size);
            _budgets.Cancel(type, size);
            WakeWaiters((int)type, RegionKeyOf(placement), epochs); // the memory went back too: a refused request may now fit
            return status;
        }

        if (_stacks != null)
        {
            CaptureStack(handle);
        }

        _budgets.Commit(type, size, next);
        return ResourceStatus.Ok;
    }

    /// <summary>The hot path: an anonymous, non-shareable, main-memory request a pool serves from this thread's cache,
    /// with room in the budget. Lock-free, and its budget hold lasts only the few instructions of a cache pop (longer
    /// work — a shared-list refill, a slab to grow — goes to the general path, whose holds are accounted as held and so
    /// never seen by other threads' peak or pressure). On <see langword="false"/> nothing was held or counted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryAcquirePooled(in ResourceMetadata md, out ResourceHandle handle)
    {
        handle = default;
        long size = md.Size;
        if ((md.Flags & (ResourceFlags.Shareable | ResourceFlags.GpuAccessible | ResourceFlags.AudioAccessible)) != 0 || size > PoolConfig.MaxBlockSize)
        {
            return false; // GPU/audio requests go to main memory only on profiles without that region: the general path
        }

        PoolBinding? binding = FindBinding(md.Type, (int)size, md.Alignment);
        if (binding == null || !binding.Pool.HasCachedBlock() || !_budgets.TryHoldFast(md.Type, size, out long next))
        {
            return false;
        }

        ResourceHandle block = binding.Pool.RentCachedUnchecked(); // cannot fail: only this thread takes from its cache
        WriteRecord(binding, block, in md, PooledRecord.Anonymous);
        handle = block;
        if (_stacks != null)
        {
            CaptureStack(handle);
        }

        _budgets.CommitOrdinary(md.Type, next);
        return true;
    }

    /// <summary>Gives back a budget hold whose request failed on its memory. Waiters are woken only if a request refused
    /// on this budget is waiting for room (the hold may be what refused it); otherwise nobody can have been kept out by
    /// it, and two waiters retrying on a full region would only wake each other in a loop.</summary>
    private void GiveBackHold(ResourceType type, long size, Span<long> epochs)
    {
        _budgets.Cancel(type, size);
        if (_budgets.HasRefusedWaiters(type))
        {
            WakeWaiters((int)type, NoWait, epochs);
        }
    }

    /// <summary>Fills the record beside a freshly rented block; the state is written last.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteRecord(PoolBinding binding, ResourceHandle block, in ResourceMetadata md, byte state)
    {
        ref PooledRecord record = ref binding.Records[block.Index];
        record.Size = (int)md.Size;
        record.Generation = block.Generation;
        record.Flags = (ushort)md.Flags;
        record.Meta = PackMeta(md.Type, md.Priority, md.AccessPattern);
        Volatile.Write(ref record.State, state);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private PoolBinding? FindBinding(ResourceType type, int size, int alignment)
    {
        SlabPool? pool = _pools.FindPoolUnchecked(type, size, Math.Max(alignment, 1));
        return pool == null ? null : _poolByTag[pool.Tag]; // a pool created later through Pools has no binding
    }

    /// <summary>Emergency: the reserve, then reclamation (inside the hold), then a counted overrun.</summary>
    private ResourceStatus HoldEmergency(ResourceType type, long size, out long next)
    {
        if (_budgets.TryHold(type, size, BudgetMode.UseReserve, countFailure: false, keepRefusal: false, out next) == ResourceStatus.Ok)
        {
            return ResourceStatus.Ok;
        }

        return _budgets.TryHold(type, size, BudgetMode.AllowOverrun, countFailure: false, keepRefusal: false, out next);
    }

    /// <summary>Creates the registry entry (and a share body for a shareable resource) for memory already held, interning
    /// its name.</summary>
    private ResourceStatus Register(ref Request r, byte placement, ulong memory, out ResourceHandle handle)
    {
        handle = default;
        lock (_lock)
        {
            Entry entry = Entry.Create(in r.Metadata, nameId: 0, r.Owner, placement, memory);
            Handle<ShareBody> body = default;
            if ((r.Metadata.Flags & ResourceFlags.Shareable) != 0)
            {
                var shared = new ShareBody { Memory = memory, RefCount = 1, OwnedHandles = r.Owner != 0 ? 1 : 0, Placement = placement };
                if (_bodies.TryAllocate(shared, out body) != ResourceStatus.Ok)
                {
                    return ResourceStatus.CapacityExceeded;
                }

                entry.Memory = body.RawValue;
                entry.Placement = PlacementShared;
            }

            if (!r.Name.IsEmpty)
            {
                entry.NameId = _names.AddRef(r.Name, r.NameText);
            }

            if (_registry.TryAllocate(in entry, out Handle<Entry> registered) != ResourceStatus.Ok)
            {
                if (entry.NameId != 0)
                {
                    _names.Release(entry.NameId);
                }

                if (!body.IsNull)
                {
                    _bodies.Free(body);
                }

                return ResourceStatus.CapacityExceeded;
            }

            handle = (ResourceHandle)registered;
            if (KindOf(placement) == PlacementPool)
            {
                _registeredPoolBlocks++;
                _registeredPoolBytes += entry.Size;
            }

            AddHoldingsLocked(in entry, placement, handle, firstOwnedHandle: r.Owner != 0);
            return ResourceStatus.Ok;
        }
    }

    /// <summary>Owner holdings (for deadlock detection) and the name's latest handle, for a new registry handle.</summary>
    /// <param name="entry">The new handle's entry.</param>
    /// <param name="placement">Where its memory is.</param>
    /// <param name="handle">The new handle.</param>
    /// <param name="firstOwnedHandle">Whether this is the memory's first handle with an owner: its bytes become named.</param>
    private void AddHoldingsLocked(in Entry entry, byte placement, ResourceHandle handle, bool firstOwnedHandle)
    {
        if (entry.Owner != 0)
        {
            _graph.AddHolding(entry.Owner, (int)entry.Type, entry.Size, countNamed: firstOwnedHandle);
            _graph.AddHolding(entry.Owner, RegionKeyOf(placement), entry.Size, countNamed: firstOwnedHandle);
        }

        if (entry.NameId != 0)
        {
            _names.ValueOf(entry.NameId) = handle;
        }
    }

    /// <summary>Undoes <see cref="AddHoldingsLocked"/> and drops the name reference of a registry handle being released.</summary>
    private void RemoveHoldingsLocked(in Entry entry, byte placement, ResourceHandle handle, bool lastOwnedHandle)
    {
        if (entry.Owner != 0)
        {
            _graph.RemoveHolding(entry.Owner, (int)entry.Type, entry.Size, countNamed: lastOwnedHandle);
            _graph.RemoveHolding(entry.Owner, RegionKeyOf(placement), entry.Size, countNamed: lastOwnedHandle);
        }

        if (entry.NameId != 0)
        {
            ref ResourceHandle latest = ref _names.ValueOf(entry.NameId);
            if (latest == handle)
            {
                latest = default; // found again by a scan on the next lookup
            }

            _names.Release(entry.NameId);
        }
    }

    private void CaptureStack(ResourceHandle handle) => _stacks![handle.RawValue] = new StackTrace(2, fNeedFileInfo: true).ToString();

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
                if (status == ResourceStatus.Ok && _disposed)
                {
                    // Dispose began during this retry and is waiting for it: give the resource back (the pools are still
                    // there) rather than hand out a handle of a disposed manager.
                    ReleaseCore(handle);
                    handle = default;
                    ThrowIfDisposed();
                }

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
                if (r.Owner != 0)
                {
                    if (BeginTrackedWait(r.Owner, key, epochs[key]) == ResourceStatus.Deadlock)
                    {
                        return ResourceStatus.Deadlock;
                    }

                    trackedKey = key;
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
                if (refusalKept)
                {
                    _budgets.EndRefusal(r.Metadata.Type);
                }

                if (trackedKey != NoWait)
                {
                    EndTrackedWait(r.Owner, trackedKey);
                }

                LeaveWait();
            }
        }
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
            return _graph.TryBeginWait(owner, key, usage, waitEpoch, epochs);
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

    /// <summary>What one acquisition asks for, passed down the attempt and wait paths.</summary>
    private readonly ref struct Request(in ResourceMetadata metadata, ReadOnlySpan<char> name, string? nameText, int owner, bool emergency)
    {
        public readonly ResourceMetadata Metadata = metadata;
        public readonly ReadOnlySpan<char> Name = name;     // Empty: no name.
        public readonly string? NameText = nameText;        // Name as a string when the caller gave one (kept, not copied).
        public readonly int Owner = owner;                  // 0: none.
        public readonly bool Emergency = emergency;
    }
}
