using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Flight.Hal.Resources;

/// <summary>Acquisition: routing, budgets, modes and waiting.</summary>
public sealed partial class ResourceManager
{
    private const int NoWait = -1; // A failure no release can cure: never wait for it.

    /// <summary>Acquires memory for a resource.</summary>
    /// <param name="metadata">Type, size, alignment, flags, access pattern and priority; <see langword="default"/> is refused.</param>
    /// <param name="handle">On <see cref="ResourceStatus.Ok"/>, the resource's handle; otherwise <see langword="default"/>.</param>
    /// <param name="name">An optional name, interned (a repeated name allocates nothing) and findable with <see cref="TryFind"/>.</param>
    /// <param name="mode">What to do when the budget or the region has no room now.</param>
    /// <param name="timeout">For <see cref="AcquisitionMode.Timeout"/>: the longest wait (<see cref="Timeout.InfiniteTimeSpan"/>
    /// waits forever); ignored otherwise.</param>
    /// <param name="owner">The owner the handle belongs to (<see cref="GetOwner"/>); none by default.</param>
    /// <returns>
    /// <see cref="ResourceStatus.Ok"/>;
    /// <see cref="ResourceStatus.BudgetExceeded"/> (the type's budget has no room, even after reclamation);
    /// <see cref="ResourceStatus.RegionExhausted"/> or <see cref="ResourceStatus.Fragmented"/> (the region has no room,
    /// or no single block large enough); <see cref="ResourceStatus.OutOfMemory"/> (the host refused);
    /// <see cref="ResourceStatus.CapacityExceeded"/> (the registry is full);
    /// <see cref="ResourceStatus.Timeout"/> (a <see cref="AcquisitionMode.Timeout"/> wait ran out);
    /// <see cref="ResourceStatus.Deadlock"/> (a blocking wait by <paramref name="owner"/> could never end).
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
        ThrowIfDisposed();
        ValidateRequest(in metadata, mode, timeout, owner);
        int nameId = name == null ? 0 : Intern(name);
        if (nameId == 0 && owner.Id == 0 && mode != AcquisitionMode.Emergency && TryAcquirePooled(in metadata, out handle))
        {
            return ResourceStatus.Ok;
        }

        ResourceStatus status = TryAcquireOnce(in metadata, nameId, owner.Id, mode == AcquisitionMode.Emergency, out handle, out int waitKey);
        if (status == ResourceStatus.Ok || waitKey == NoWait || mode is AcquisitionMode.NonBlocking or AcquisitionMode.Emergency)
        {
            return status;
        }

        return WaitAndRetry(in metadata, nameId, owner.Id, mode, timeout, waitKey, out handle);
    }

    /// <summary>Acquires memory for a resource, throwing if it cannot be had.</summary>
    /// <param name="metadata">As <see cref="TryAcquire"/>.</param>
    /// <param name="name">As <see cref="TryAcquire"/>.</param>
    /// <param name="mode">As <see cref="TryAcquire"/>.</param>
    /// <param name="timeout">As <see cref="TryAcquire"/>.</param>
    /// <param name="owner">As <see cref="TryAcquire"/>.</param>
    /// <returns>The resource's handle.</returns>
    /// <exception cref="ResourceException">The resource could not be acquired; <see cref="ResourceException.Status"/> says why.</exception>
    /// <exception cref="ArgumentException">As <see cref="TryAcquire"/>.</exception>
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

    /// <summary>One attempt: budget, then memory, then (unless anonymous and pooled) a registry entry. On failure nothing
    /// is held; <paramref name="waitKey"/> says what a wait would be for, or <see cref="NoWait"/> when waiting cannot help.</summary>
    private ResourceStatus TryAcquireOnce(in ResourceMetadata md, int nameId, int owner, bool emergency, out ResourceHandle handle, out int waitKey)
    {
        handle = default;
        waitKey = NoWait;
        ResourceType type = md.Type;
        long size = md.Size;

        // A request larger than the budget can ever hold fails at once in every mode.
        ResourceBudget budget = _budgets.GetBudget(type);
        if (size > (emergency ? budget.MaxBytes : budget.OrdinaryLimit))
        {
            _budgets.CountFailure(type);
            return ResourceStatus.BudgetExceeded;
        }

        Region region = RegionFor(md.PreferredRegion);
        PoolBinding? binding = region == _main && size <= PoolConfig.MaxBlockSize ? FindBinding(type, (int)size, md.Alignment) : null;
        if (binding == null && (size > region.Usable || size > MaxResourceSize))
        {
            _budgets.CountFailure(type);
            return ResourceStatus.RegionExhausted; // larger than the region: no release can make room
        }

        ResourceStatus status = emergency ? ReserveEmergency(type, size) : _budgets.TryReserve(type, size);
        if (status != ResourceStatus.Ok)
        {
            waitKey = (int)type;
            return status;
        }

        bool anonymous = nameId == 0 && owner == 0 && (md.Flags & ResourceFlags.Shareable) == 0;
        byte placement = 0;
        ulong memory = 0;
        if (binding != null)
        {
            status = binding.Pool.TryRent(out ResourceHandle block);
            if (status == ResourceStatus.Ok)
            {
                WriteRecord(binding, block, in md, anonymous ? PooledRecord.Anonymous : PooledRecord.Registered);
                if (anonymous)
                {
                    handle = block;
                    if (_stacks != null)
                    {
                        CaptureStack(handle);
                    }

                    return ResourceStatus.Ok;
                }

                placement = PlacementPool;
                memory = block.RawValue;
            }
        }

        if (placement == 0)
        {
            // No pool fits, or the pool is full: the region's allocator.
            status = region.TryAllocate(size, md.Alignment, out memory);
            if (status != ResourceStatus.Ok)
            {
                _budgets.Release(type, size);
                WakeWaiters(); // our reservation may have kept someone else out
                waitKey = region.Key;
                return status;
            }

            placement = RegionPlacement(region.Index);
        }

        status = Register(in md, nameId, owner, placement, memory, out handle);
        if (status != ResourceStatus.Ok)
        {
            FreeMemory(placement, memory);
            _budgets.Release(type, size);
            WakeWaiters();
            return status;
        }

        if (_stacks != null)
        {
            CaptureStack(handle);
        }

        return ResourceStatus.Ok;
    }

    /// <summary>The hot path: an anonymous, non-shareable, main-memory request a pool serves, with room in the budget.
    /// Lock-free; on <see langword="false"/> nothing is held and the general path decides.</summary>
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
        if (binding == null || !_budgets.TryReserveFast(md.Type, size))
        {
            return false;
        }

        if (binding.Pool.TryRent(out ResourceHandle block) != ResourceStatus.Ok)
        {
            _budgets.ReleaseFast(md.Type, size);
            return false;
        }

        WriteRecord(binding, block, in md, PooledRecord.Anonymous);
        handle = block;
        if (_stacks != null)
        {
            CaptureStack(handle);
        }

        return true;
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

    /// <summary>Emergency: the reserve, then reclamation (inside the reservation), then a counted overrun.</summary>
    private ResourceStatus ReserveEmergency(ResourceType type, long size)
    {
        if (_budgets.TryReserve(type, size, BudgetMode.UseReserve, countFailure: false) == ResourceStatus.Ok)
        {
            return ResourceStatus.Ok;
        }

        return _budgets.TryReserve(type, size, BudgetMode.AllowOverrun);
    }

    /// <summary>Creates the registry entry (and a share body for a shareable resource) for memory already held.</summary>
    private ResourceStatus Register(in ResourceMetadata md, int nameId, int owner, byte placement, ulong memory, out ResourceHandle handle)
    {
        handle = default;
        lock (_lock)
        {
            Entry entry = Entry.Create(in md, nameId, owner, placement, memory);
            Handle<ShareBody> body = default;
            if ((md.Flags & ResourceFlags.Shareable) != 0)
            {
                if (_bodies.TryAllocate(new ShareBody { Memory = memory, RefCount = 1, Placement = placement }, out body) != ResourceStatus.Ok)
                {
                    return ResourceStatus.CapacityExceeded;
                }

                entry.Memory = body.RawValue;
                entry.Placement = PlacementShared;
            }

            if (_registry.TryAllocate(in entry, out Handle<Entry> registered) != ResourceStatus.Ok)
            {
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
            }

            AddHoldingsLocked(in entry, placement, handle);
            return ResourceStatus.Ok;
        }
    }

    /// <summary>Owner holdings (for deadlock detection) and the name index for a new registry handle.</summary>
    private void AddHoldingsLocked(in Entry entry, byte placement, ResourceHandle handle)
    {
        if (entry.Owner != 0)
        {
            _graph.AddHolding(entry.Owner, (int)entry.Type, entry.Size);
            _graph.AddHolding(entry.Owner, RegionKeyOf(placement), entry.Size);
        }

        if (entry.NameId != 0)
        {
            ref NamedSet set = ref CollectionsMarshal.GetValueRefOrAddDefault(_liveByName, entry.NameId, out _);
            set.Count++;
            set.Latest = handle;
        }
    }

    /// <summary>Undoes <see cref="AddHoldingsLocked"/> for a registry handle being released.</summary>
    private void RemoveHoldingsLocked(in Entry entry, byte placement, ResourceHandle handle)
    {
        if (entry.Owner != 0)
        {
            _graph.RemoveHolding(entry.Owner, (int)entry.Type, entry.Size);
            _graph.RemoveHolding(entry.Owner, RegionKeyOf(placement), entry.Size);
        }

        if (entry.NameId != 0)
        {
            ref NamedSet set = ref CollectionsMarshal.GetValueRefOrNullRef(_liveByName, entry.NameId);
            Debug.Assert(!Unsafe.IsNullRef(ref set) && set.Count > 0, "A named handle is in the name index.");
            if (--set.Count == 0)
            {
                _liveByName.Remove(entry.NameId);
            }
            else if (set.Latest == handle)
            {
                set.Latest = default; // found again by a scan on the next lookup
            }
        }
    }

    private int Intern(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        lock (_lock)
        {
            if (!_nameIds.TryGetValue(name, out int id))
            {
                id = _names.Count;
                _names.Add(name);
                _nameIds.Add(name, id);
            }

            return id;
        }
    }

    private void CaptureStack(ResourceHandle handle) => _stacks![handle.RawValue] = new StackTrace(2, fNeedFileInfo: true).ToString();

    /// <summary>Blocking and Timeout: wait for a release, retry, repeat; with deadlock detection for named owners.</summary>
    private ResourceStatus WaitAndRetry(
        in ResourceMetadata md, int nameId, int owner, AcquisitionMode mode, TimeSpan timeout, int waitKey, out ResourceHandle handle)
    {
        bool bounded = mode == AcquisitionMode.Timeout && timeout != Timeout.InfiniteTimeSpan;
        long deadline = bounded ? Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        while (true)
        {
            if (owner != 0 && BeginTrackedWait(owner, waitKey) == ResourceStatus.Deadlock)
            {
                handle = default;
                return ResourceStatus.Deadlock;
            }

            int nextKey = waitKey;
            Interlocked.Increment(ref _waiters);
            try
            {
                // Announce the wait first, then retry: a release after the retry sees _waiters and bumps the epoch, so
                // the wait below cannot miss it.
                long epoch = Volatile.Read(ref _releaseEpoch);
                ResourceStatus status = TryAcquireOnce(in md, nameId, owner, emergency: false, out handle, out int key);
                if (status == ResourceStatus.Ok || key == NoWait)
                {
                    return status;
                }

                long remaining = deadline - Stopwatch.GetTimestamp();
                if (remaining <= 0)
                {
                    return ResourceStatus.Timeout;
                }

                lock (_waitLock)
                {
                    if (Volatile.Read(ref _releaseEpoch) == epoch)
                    {
                        int milliseconds = bounded
                            ? (int)Math.Min(int.MaxValue, Math.Max(1, (remaining * 1000 + Stopwatch.Frequency - 1) / Stopwatch.Frequency))
                            : Timeout.Infinite;
                        Monitor.Wait(_waitLock, milliseconds);
                    }
                }

                ThrowIfDisposed();
                if (Stopwatch.GetTimestamp() >= deadline)
                {
                    // One last try: the release that woke us may have come just at the deadline.
                    status = TryAcquireOnce(in md, nameId, owner, emergency: false, out handle, out _);
                    return status == ResourceStatus.Ok ? status : ResourceStatus.Timeout;
                }

                nextKey = key;
            }
            finally
            {
                Interlocked.Decrement(ref _waiters);
                if (owner != 0)
                {
                    EndTrackedWait(owner, waitKey);
                }
            }

            waitKey = nextKey;
        }
    }

    private ResourceStatus BeginTrackedWait(int owner, int key)
    {
        lock (_lock)
        {
            Span<long> usage = stackalloc long[_keyCount];
            for (int t = 0; t < ResourceTypes.Count; t++)
            {
                usage[t] = _budgets.CurrentBytes((ResourceType)t);
            }

            foreach (Region region in _regions)
            {
                usage[region.Key] = region.Used;
            }

            return _graph.TryBeginWait(owner, key, usage);
        }
    }

    private void EndTrackedWait(int owner, int key)
    {
        lock (_lock)
        {
            _graph.EndWait(owner, key);
        }
    }
}
