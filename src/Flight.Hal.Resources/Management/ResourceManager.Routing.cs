using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

// Routing: a request through its type's budget (held, then committed) to a pool or to its region, the
// acquisition modes, and where each resource's memory is (placements, regions).
public sealed partial class ResourceManager
{
    // Where a resource's memory is: a placement byte (kind in bits 0-3, region index in 4-7) and a 64-bit token.
    private const byte PlacementPool = 1;    // Memory is a pool block's handle.
    private const byte PlacementRegion = 2;  // Memory is an arena handle or a host address; region index in bits 4-7.
    private const byte PlacementShared = 3;  // Memory is the handle of a ShareBody, which holds the real placement.
    private const int NoWait = -1;           // A wait key for a failure no release can cure: never wait for it.

    private readonly Region[] _regions;
    private readonly Region _main;
    private readonly Region _video;          // The main region when the profile has no video RAM.
    private readonly Region _sound;          // The main region when the profile has no sound RAM.
    private readonly long[] _regionBytes;    // Per region: bytes of the manager's allocations there (interlocked; in flight too).

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

    /// <summary>As the public <c>TryAcquire</c>, for an owner that is not one driver thread (a resource cache: the
    /// holders of its memory are its users, who may release at any time): a wait of that owner is not judged by the
    /// wait-for graph, so it is never refused as a deadlock it only seems to close.</summary>
    internal ResourceStatus TryAcquireUntracked(
        in ResourceMetadata metadata, out ResourceHandle handle, string? name, AcquisitionMode mode, TimeSpan timeout, ResourceOwner owner)
    {
        if (name != null && name.Length == 0)
        {
            ThrowHelper.ThrowArgument(nameof(name), "A resource name is not empty; pass null for none.");
        }

        return TryAcquireCore(in metadata, out handle, name.AsSpan(), name, mode, timeout, owner, trackWait: false);
    }

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
        ThrowHelper.ThrowIfFailed(TryAcquire(in metadata, out ResourceHandle handle, name, mode, timeout, owner));
        return handle;
    }

    private ResourceStatus TryAcquireCore(
        in ResourceMetadata metadata,
        out ResourceHandle handle,
        ReadOnlySpan<char> name,
        string? nameText,
        AcquisitionMode mode,
        TimeSpan timeout,
        ResourceOwner owner,
        bool trackWait = true)
    {
        ThrowIfDisposed();
        ValidateRequest(in metadata, mode, timeout, owner);
        if (name.IsEmpty && owner.Id == 0 && mode != AcquisitionMode.Emergency && _safety == null && TryAcquirePooled(in metadata, out handle))
        {
            if (_observer != null)
            {
                ObserveAcquired(handle, in metadata, mode, 0);
            }

            return ResourceStatus.Ok;
        }

        var request = new Request(in metadata, name, nameText, owner.Id, mode == AcquisitionMode.Emergency, trackWait);
        ResourceStatus status = TryAcquireOnce(ref request, default, keepRefusal: false, out handle, out int waitKey, out _);
        if (status != ResourceStatus.Ok && waitKey != NoWait && mode is AcquisitionMode.Blocking or AcquisitionMode.Timeout)
        {
            status = WaitAndRetry(ref request, mode, timeout, out handle);
        }

        if (status != ResourceStatus.Ok)
        {
            CountFailure(metadata.Type, status, metadata.Size); // one failure per refused call, whatever was tried on the way
        }
        else
        {
            if (_observer != null)
            {
                ObserveAcquired(handle, in metadata, mode, owner.Id);
            }

            if (_safety != null)
            {
                ThrowIfCorruptionFound(handle); // strict: the acquisition is undone (and that release heard) first
            }
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
        long blockSize = _safety == null ? size : _safety.PaddedSize(size, r.Metadata.Alignment); // with its guards

        // A request larger than the budget can ever hold fails at once in every mode.
        ResourceBudget budget = _budgets.GetBudget(type);
        if (size > (r.Emergency ? budget.MaxBytes : budget.OrdinaryLimit))
        {
            return ResourceStatus.BudgetExceeded;
        }

        Region region = RegionFor(r.Metadata.PreferredRegion);
        PoolBinding? binding = region == _main && blockSize <= PoolConfig.MaxBlockSize ? FindBinding(type, (int)blockSize, r.Metadata.Alignment) : null;
        if (binding == null && (blockSize > region.Usable || size > MaxResourceSize))
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

        bool anonymous = r.Name.IsEmpty && r.Owner == 0 && (r.Metadata.Flags & ResourceFlags.Shareable) == 0 && _safety == null;
        byte placement = 0;
        ulong memory = 0;
        if (binding != null && binding.Pool.TryRent(out ResourceHandle block) == ResourceStatus.Ok)
        {
            if (anonymous)
            {
                handle = IssueAnonymous(binding, block, in r.Metadata);
                _budgets.Commit(type, size, next);
                return ResourceStatus.Ok;
            }

            WriteRecord(binding, block, in r.Metadata, PooledRecord.Registered);
            placement = PlacementPool;
            memory = block.RawValue;
        }

        if (placement == 0)
        {
            // No pool fits, or the pool is full: the region's allocator.
            status = region.Memory.TryAllocate(blockSize, r.Metadata.Alignment, out memory);
            if (status != ResourceStatus.Ok)
            {
                GiveBackHold(type, size, epochs);
                waitKey = region.Key;
                return status;
            }

            placement = RegionPlacement(region.Index);
            Interlocked.Add(ref _regionBytes[region.Index], blockSize);
        }

        if (_safety != null)
        {
            // Pinned until its guards are written (GuardNew), so that a Defragment on another thread cannot move the
            // block between the address read here and the fill; released memory handed out again: was it written since?
            PinWhileGuarding(placement, memory, pin: true);
            WatchReuse(placement, memory, blockSize);
        }

        status = Register(ref r, placement, memory, out handle);
        if (status != ResourceStatus.Ok)
        {
            FreeMemory(placement, memory, blockSize);
            _budgets.Cancel(type, size);
            WakeWaiters((int)type, RegionKeyOf(placement), epochs); // the memory went back too: a refused request may now fit
            return status;
        }

        if (_safety != null)
        {
            GuardNew(placement, memory, in r, handle);
            PinWhileGuarding(placement, memory, pin: false);
        }

        if (_stacks != null)
        {
            CaptureStack(handle);
        }

        _budgets.Commit(type, size, next);
        return ResourceStatus.Ok;
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

    /// <summary>Emergency: the reserve, then reclamation (inside the hold), then a counted overrun.</summary>
    private ResourceStatus HoldEmergency(ResourceType type, long size, out long next)
    {
        if (_budgets.TryHold(type, size, BudgetMode.UseReserve, countFailure: false, keepRefusal: false, out next) == ResourceStatus.Ok)
        {
            return ResourceStatus.Ok;
        }

        return _budgets.TryHold(type, size, BudgetMode.AllowOverrun, countFailure: false, keepRefusal: false, out next);
    }

    private static byte RegionPlacement(int regionIndex) => (byte)(PlacementRegion | (regionIndex << 4));

    private static int KindOf(byte placement) => placement & 0xF;

    private static int RegionIndexOf(byte placement) => placement >> 4;

    /// <summary>Frees the memory behind a placement (not the budget); <paramref name="size"/> is the bytes allocated for
    /// it. A guarded resource's memory goes through <see cref="FreeGuarded"/> instead.</summary>
    private void FreeMemory(byte placement, ulong memory, long size)
    {
        if (KindOf(placement) == PlacementPool)
        {
            PoolBinding binding = _poolByTag[HandleLayout.Tag(memory)]!;
            ResourceStatus status = binding.Pool.ReturnOwned(ResourceHandle.FromRawValue(memory), toShared: Volatile.Read(ref _waiters) != 0);
            Debug.Assert(status == ResourceStatus.Ok, "A registered pool block is returned exactly once.");
        }
        else
        {
            int index = RegionIndexOf(placement);
            _regions[index].Memory.Free(memory);
            Interlocked.Add(ref _regionBytes[index], -size);
        }
    }

    /// <summary>The address of a resource's first byte (past its guard in the memory-safety mode).</summary>
    private nint AddressOf(byte placement, ulong memory) =>
        _safety == null ? BlockAddressOf(placement, memory) : GuardedAddressOf(placement, memory);

    /// <summary>The address of the block behind a placement.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private nint BlockAddressOf(byte placement, ulong memory) =>
        KindOf(placement) == PlacementPool
            ? _poolByTag[HandleLayout.Tag(memory)]!.Pool.AddressOfRentedUnchecked(memory)
            : _regions[RegionIndexOf(placement)].Memory.AddressOf(memory);

    /// <summary>The wait-for key of the region a placement is in (pools live in main memory).</summary>
    private int RegionKeyOf(byte placement) =>
        KindOf(placement) == PlacementPool ? _main.Key : _regions[RegionIndexOf(placement)].Key;

    /// <summary>Adds region <paramref name="index"/>'s free blocks (in the profile's order) to a histogram by size (see
    /// <see cref="Arena.AddFreeBlocks"/>).</summary>
    internal void AddRegionFreeBlocks(int index, Span<long> counts, Span<long> bytes)
    {
        ThrowIfDisposed();
        _regions[index].Memory.AddFreeBlocks(counts, bytes);
    }

    /// <summary>Snapshots of every region of the profile, in the profile's order.</summary>
    /// <returns>One entry per region.</returns>
    public RegionStats[] GetRegionStats()
    {
        ThrowIfDisposed();
        var stats = new RegionStats[_regions.Length];
        for (int i = 0; i < stats.Length; i++)
        {
            stats[i] = _regions[i].GetStats();
        }

        return stats;
    }

    /// <summary>A snapshot of the region of kind <paramref name="kind"/> (main memory when the profile has none of that kind).</summary>
    /// <param name="kind">Main, video or sound.</param>
    /// <returns>The statistics.</returns>
    public RegionStats GetRegionStats(RegionKind kind)
    {
        ThrowIfDisposed();
        return RegionFor(kind).GetStats();
    }

    private Region RegionFor(RegionKind kind) => kind switch
    {
        RegionKind.Video => _video,
        RegionKind.Sound => _sound,
        _ => _main,
    };

    /// <summary>What one acquisition asks for, passed down the attempt and wait paths.</summary>
    private readonly ref struct Request(in ResourceMetadata metadata, ReadOnlySpan<char> name, string? nameText, int owner, bool emergency, bool trackWait = true)
    {
        public readonly bool TrackWait = trackWait;         // False: the owner's waits are not judged by the wait-for graph.
        public readonly ResourceMetadata Metadata = metadata;
        public readonly ReadOnlySpan<char> Name = name;     // Empty: no name.
        public readonly string? NameText = nameText;        // Name as a string when the caller gave one (kept, not copied).
        public readonly int Owner = owner;                  // 0: none.
        public readonly bool Emergency = emergency;
    }

    /// <summary>One memory region of the profile, with its wait-for key and its allocator (an arena over a fixed block,
    /// or the host heap: the same <see cref="IRegionAllocator"/> either way).</summary>
    private sealed class Region : IDisposable
    {
        public readonly MemoryRegion Spec;
        public readonly int Index;
        public readonly int Key;
        public readonly long Usable;
        public readonly IRegionAllocator Memory;

        public Region(MemoryRegion spec, int index, int key, NativeAllocator allocator)
        {
            Spec = spec;
            Index = index;
            Key = key;
            Usable = spec.Size - spec.ReservedStart;
            Memory = spec.Backing == RegionBacking.Arena
                ? new Arena(spec.ToArenaConfig(threadSafe: true), allocator)
                : new HostHeap(Usable, spec.MinAlignment, allocator); // the reserved start is not the program's
        }

        public RegionStats GetStats()
        {
            ArenaStats a = Memory.GetStats();
            return new RegionStats(
                Spec.Name, Spec.Kind, Spec.Backing, Spec.Size, Spec.Size - a.Capacity + a.ReservedBytes, a.UsedBytes,
                a.PeakUsedBytes, a.LargestFreeBlock, a.Fragmentation, a.AllocationCount, a.FailedAllocations);
        }

        public void Dispose() => Memory.Dispose();
    }
}
