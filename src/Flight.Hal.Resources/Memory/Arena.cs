using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

/// <summary>Variable-size allocation inside one fixed native region, in O(1) bounded time (two-level segregated fit),
/// with immediate coalescing and generational handles.</summary>
/// <remarks>
/// <para><b>Region.</b> The arena allocates its whole region (<see cref="ArenaConfig.Size"/> bytes, aligned to
/// <see cref="ArenaConfig.MaxAlignment"/>) once, through its <see cref="NativeAllocator"/>, and hands out pieces of it.
/// On a constrained platform the region <i>is</i> the machine's memory: a request fails when no free block is big
/// enough — with <see cref="ResourceStatus.Fragmented"/> when enough bytes are free but only in pieces, exactly as on
/// the real hardware — never by falling back to the host heap.</para>
/// <para><b>Algorithm.</b> Free blocks are kept in lists by size class: a first level per power of two and 16
/// second-level classes within it, with a bitmap over each level, so finding a block is two bit scans. A request is
/// rounded up to the next class boundary so any block in the class found fits. If that finds nothing, the few
/// classes it skipped are searched block by block before the request is refused, so a request fails only when no
/// block can hold it. Freeing merges a block with its free neighbours at once. The arena's bookkeeping (block
/// records and handle slots) lives outside the region: the region's bytes are never touched by the arena, as with
/// real video or sound memory.</para>
/// <para><b>Units.</b> Every offset and size is a multiple of <see cref="Unit"/> (the larger of the configured
/// minimum alignment and granularity); a request for 1 byte takes one unit. Alignments up to
/// <see cref="ArenaConfig.MaxAlignment"/> are supported.</para>
/// <para><b>Threads.</b> With <see cref="ArenaConfig.ThreadSafe"/>, every member may be used by many threads at
/// once (each operation holds a short spin lock: one compare-and-swap to enter, a store to leave). Otherwise use one thread at a time. <see cref="Dispose"/> must not
/// race with other members.</para>
/// </remarks>
public sealed unsafe class Arena : IDisposable, IRegionAllocator
{
    private const int SlLog2 = 4;            // 16 second-level classes per power of two
    private const int SlCount = 1 << SlLog2;
    private const int None = -1;             // end of a list / no neighbour
    private const int Used = -2;             // PrevFree of a block in use
    private const int Unused = -3;           // PrevFree of a record on the record free list

    private readonly NativeAllocator _allocator;
    private readonly ArenaConfig _config;
    private readonly long _capacity;         // Region bytes.
    private readonly int _unitShift;         // Unit == 1 << _unitShift.
    private readonly long _start;            // First allocatable offset: the reserved start rounded up to the unit.
    private readonly long _end;              // End of the allocatable range: the capacity rounded down to the unit.
    private readonly int _flCount;           // First-level classes needed for the largest block.
    private readonly uint[] _slBitmaps;      // Per first-level class: bit sl set when list (fl, sl) is non-empty.
    private readonly int[] _heads;           // Free-list heads, [fl * SlCount + sl]; None when empty.
    private readonly HandleTable<int> _handles; // An allocation's handle -> its block record.
    private readonly int _recordCapacity;    // 2 * max allocations + 1: free blocks never outnumber used ones by more than one.
    private readonly bool _threadSafe;       // Every operation holds _spinLock when set.
    private int _spinLock;                   // 0 free, 1 held; thread-safe arenas only (see Enter).

    private byte* _base;                     // Owned region; null once disposed.
    private Record* _records;                // Owned; _recordCapacity block records.
    private int _recordHighWater;            // Records [0, _recordHighWater) have been used.
    private int _recordFreeHead = None;      // Unused records, linked through NextFree.
    private ulong _flBitmap;                 // Bit fl set when any list of first-level class fl is non-empty.
    private long _usedBytes;
    private long _peakUsedBytes;
    private long _freeBytes;
    private int _freeBlockCount;
    private long _totalAllocations;
    private long _failedAllocations;
    private long _fragmentationFailures;

    /// <summary>Creates an arena over a new region as <paramref name="config"/> describes.</summary>
    /// <param name="config">The region's shape; validated here.</param>
    /// <param name="allocator">Where the region and the bookkeeping come from; <see cref="NativeAllocator.Default"/> when null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="config"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size or count in <paramref name="config"/> is out of range.</exception>
    /// <exception cref="ArgumentException">An alignment in <paramref name="config"/> is not a power of two.</exception>
    /// <exception cref="OutOfMemoryException">The region or bookkeeping could not be allocated; nothing is leaked.</exception>
    public Arena(ArenaConfig config, NativeAllocator? allocator = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        _config = config;
        _allocator = allocator ?? NativeAllocator.Default;
        _capacity = config.Size;
        _unitShift = BitOperations.Log2((uint)config.Unit);
        _start = ArenaConfig.RoundUp(config.ReservedStart, Unit);
        _end = ArenaConfig.RoundDown(config.Size, Unit);
        Mapping((_end - _start) >> _unitShift, out int topFl, out _);
        _flCount = topFl + 1;
        _slBitmaps = new uint[_flCount];
        _heads = new int[_flCount * SlCount];
        Array.Fill(_heads, None);
        int maxAllocations = config.EffectiveMaxAllocations;
        _recordCapacity = checked((2 * maxAllocations) + 1);
        _threadSafe = config.ThreadSafe;

        _handles = new HandleTable<int>(maxAllocations, _allocator);
        _records = (Record*)_allocator.TryAllocate((nuint)_recordCapacity * (nuint)sizeof(Record), 64);
        _base = (byte*)_allocator.TryAllocate((nuint)_capacity, ArenaConfig.MaxAlignment);
        if (_records == null || _base == null)
        {
            Release();
            GC.SuppressFinalize(this);
            throw new OutOfMemoryException($"Could not allocate an arena region of {_capacity} bytes.");
        }

        int first = NewRecord();
        _records[first] = new Record { Offset = _start, Size = _end - _start, PrevPhys = None, NextPhys = None };
        _freeBytes = _end - _start;
        InsertFree(first);
    }

    /// <summary>Frees the region if the arena was never disposed.</summary>
    ~Arena()
    {
        // A finalizer must never throw: on the finalizer thread that ends the process. Release frees through the
        // allocator, whose own backing may already be gone in any finalization order; what cannot be freed is gone with it.
        try
        {
            Release();
        }
        catch (Exception exception)
        {
            Debug.WriteLine($"Arena finalizer: {exception.Message}");
        }
    }

    /// <summary>The configuration the arena was created with.</summary>
    public ArenaConfig Config => _config;

    /// <summary>Region bytes.</summary>
    public long Capacity => _capacity;

    /// <summary>The allocation unit: every offset and size is a multiple of it.</summary>
    public int Unit => 1 << _unitShift;

    /// <summary>The most live allocations at once.</summary>
    public int MaxAllocations => _handles.Capacity;

    /// <summary>Whether the arena may be used by several threads at once.</summary>
    public bool IsThreadSafe => _threadSafe;

    /// <summary>Whether <see cref="Dispose"/> has run.</summary>
    public bool IsDisposed => _base == null;

    /// <summary>Whether allocations can still be freed: not disposed, and its handle table not finalized (when an
    /// abandoned arena and what was built on it are finalized, in any order, the table may go first).</summary>
    internal bool CanFree => _base != null && !_handles.IsDisposed;

    /// <summary>Allocates <paramref name="size"/> bytes aligned to <paramref name="alignment"/>.</summary>
    /// <param name="size">Bytes, at least 1; rounded up to <see cref="Unit"/>.</param>
    /// <param name="alignment">A power of two up to <see cref="ArenaConfig.MaxAlignment"/>; 0 means <see cref="Unit"/>.
    /// Smaller values give <see cref="Unit"/> alignment.</param>
    /// <param name="handle">On <see cref="ResourceStatus.Ok"/>, the allocation's handle; otherwise <see langword="default"/>.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>; <see cref="ResourceStatus.RegionExhausted"/> when fewer bytes are free than
    /// needed; <see cref="ResourceStatus.Fragmented"/> when enough are free but no single block holds the request;
    /// <see cref="ResourceStatus.CapacityExceeded"/> at <see cref="MaxAllocations"/>. Nothing changes on failure.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="alignment"/> is not a power of two or is too large.</exception>
    /// <exception cref="ObjectDisposedException">The arena has been disposed.</exception>
    /// <remarks>O(1) bounded time when it succeeds at the first search; allocates no managed memory.</remarks>
    public ResourceStatus TryAllocate(long size, int alignment, out ResourceHandle handle)
    {
        if (size <= 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(size), size, "Size must be positive.");
        }

        if (alignment < 0 || (alignment & (alignment - 1)) != 0 || alignment > ArenaConfig.MaxAlignment)
        {
            ThrowHelper.ThrowArgument(nameof(alignment), $"Alignment {alignment} must be 0 or a power of two up to {ArenaConfig.MaxAlignment}.");
        }

        if (!_threadSafe)
        {
            return AllocateCore(size, alignment, out handle);
        }

        Enter();
        try
        {
            return AllocateCore(size, alignment, out handle);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Allocates, throwing if the region cannot hold the request.</summary>
    /// <param name="size">Bytes, at least 1.</param>
    /// <param name="alignment">A power of two up to <see cref="ArenaConfig.MaxAlignment"/>; 0 means <see cref="Unit"/>.</param>
    /// <returns>The allocation's handle.</returns>
    /// <exception cref="ResourceException">The request could not be met; <see cref="ResourceException.Status"/> says why.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="alignment"/> is not a power of two or is too large.</exception>
    /// <exception cref="ObjectDisposedException">The arena has been disposed.</exception>
    public ResourceHandle Allocate(long size, int alignment = 0)
    {
        ResourceStatus status = TryAllocate(size, alignment, out ResourceHandle handle);
        if (status != ResourceStatus.Ok)
        {
            ThrowHelper.ThrowResourceException(status);
        }

        return handle;
    }

    /// <summary>Frees an allocation and merges it with free neighbours; every copy of the handle becomes stale.</summary>
    /// <param name="handle">A handle this arena issued.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>, <see cref="ResourceStatus.StaleHandle"/> (a double free, or the slot
    /// reused) or <see cref="ResourceStatus.InvalidHandle"/> (null). Nothing changes unless the result is Ok.</returns>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was issued by another arena, pool or table.</exception>
    /// <exception cref="ObjectDisposedException">The arena has been disposed.</exception>
    /// <remarks>O(1); allocates no managed memory.</remarks>
    public ResourceStatus Free(ResourceHandle handle)
    {
        if (!_threadSafe)
        {
            return FreeCore(handle);
        }

        Enter();
        try
        {
            return FreeCore(handle);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Resolves a handle to its allocation's address and size.</summary>
    /// <param name="handle">A handle this arena issued.</param>
    /// <param name="address">On <see cref="ResourceStatus.Ok"/>, the allocation's address; otherwise 0.</param>
    /// <param name="size">On <see cref="ResourceStatus.Ok"/>, its size (the request rounded up to the unit); otherwise 0.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>, <see cref="ResourceStatus.StaleHandle"/> or <see cref="ResourceStatus.InvalidHandle"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was issued by another arena, pool or table.</exception>
    /// <exception cref="ObjectDisposedException">The arena has been disposed.</exception>
    public ResourceStatus TryResolve(ResourceHandle handle, out nint address, out long size)
    {
        if (!_threadSafe)
        {
            return ResolveCore(handle, out address, out size);
        }

        Enter();
        try
        {
            return ResolveCore(handle, out address, out size);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Resolves a handle to its allocation's memory.</summary>
    /// <param name="handle">A handle this arena issued.</param>
    /// <param name="span">On <see cref="ResourceStatus.Ok"/>, the whole allocation; otherwise empty.</param>
    /// <returns>As <see cref="TryResolve"/>; also <see cref="ResourceStatus.InvalidArgument"/> for an allocation larger
    /// than a span can describe (2 GiB or more): use <see cref="TryResolve"/> for those.</returns>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was issued by another arena, pool or table.</exception>
    /// <exception cref="ObjectDisposedException">The arena has been disposed.</exception>
    public ResourceStatus TryGetSpan(ResourceHandle handle, out Span<byte> span)
    {
        ResourceStatus status = TryResolve(handle, out nint address, out long size);
        if (status == ResourceStatus.Ok && size > int.MaxValue)
        {
            status = ResourceStatus.InvalidArgument;
        }

        span = status == ResourceStatus.Ok ? new Span<byte>((void*)address, (int)size) : default;
        return status;
    }

    /// <summary>Whether <paramref name="handle"/> refers to a live allocation of this arena.</summary>
    /// <param name="handle">Any handle; null, stale or foreign handles give <see langword="false"/>.</param>
    /// <returns><see langword="true"/> only for a live allocation of this arena.</returns>
    /// <exception cref="ObjectDisposedException">The arena has been disposed.</exception>
    public bool Contains(ResourceHandle handle)
    {
        ThrowIfDisposed();
        if (!_threadSafe)
        {
            return _handles.Contains(Handle<int>.FromRawValue(handle.RawValue));
        }

        Enter();
        try
        {
            return _handles.Contains(Handle<int>.FromRawValue(handle.RawValue));
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Takes a snapshot of the region's use.</summary>
    /// <returns>The counts; <c>ReservedBytes + UsedBytes + FreeBytes == Capacity</c>.</returns>
    /// <exception cref="ObjectDisposedException">The arena has been disposed.</exception>
    /// <remarks>O(blocks in the largest size class) for <see cref="ArenaStats.LargestFreeBlock"/>.</remarks>
    public ArenaStats GetStats()
    {
        if (!_threadSafe)
        {
            return StatsCore();
        }

        Enter();
        try
        {
            return StatsCore();
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Frees the region and the bookkeeping; every handle becomes invalid. Idempotent.</summary>
    /// <remarks>Live allocations are dropped with the region: their memory must not be touched afterwards.</remarks>
    public void Dispose()
    {
        if (!_threadSafe)
        {
            Release();
        }
        else
        {
            Enter();
            try
            {
                Release();
            }
            finally
            {
                Exit();
            }
        }

        GC.SuppressFinalize(this);
    }

    /// <inheritdoc/>
    ResourceStatus IRegionAllocator.TryAllocate(long size, int alignment, out ulong memory)
    {
        ResourceStatus status = TryAllocate(size, alignment, out ResourceHandle handle);
        memory = handle.RawValue;
        return status;
    }

    /// <inheritdoc/>
    void IRegionAllocator.Free(ulong memory)
    {
        if (!CanFree)
        {
            return; // disposed: the region went back whole
        }

        ResourceStatus status = Free(ResourceHandle.FromRawValue(memory));
        Debug.Assert(status == ResourceStatus.Ok, "A region allocation is freed exactly once.");
    }

    /// <inheritdoc/>
    nint IRegionAllocator.AddressOf(ulong memory)
    {
        TryResolve(ResourceHandle.FromRawValue(memory), out nint address, out _);
        return address;
    }

    /// <summary>Walks every block in address order and checks the arena's invariants; for tests.</summary>
    /// <returns>null when consistent, otherwise what is wrong.</returns>
    internal string? Validate()
    {
        long offset = _start;
        long used = 0;
        long free = 0;
        int freeBlocks = 0;
        int usedBlocks = 0;
        bool previousFree = false;
        int index = FirstPhysical();
        int previous = None;
        while (index != None)
        {
            Record* r = _records + index;
            if (r->Offset != offset)
            {
                return $"block {index} at {r->Offset}, expected {offset}";
            }

            if (r->PrevPhys != previous)
            {
                return $"block {index} has PrevPhys {r->PrevPhys}, expected {previous}";
            }

            if (r->Size <= 0 || (r->Size & (Unit - 1)) != 0)
            {
                return $"block {index} has size {r->Size}";
            }

            bool isFree = r->PrevFree != Used;
            if (isFree && previousFree)
            {
                return $"two adjacent free blocks at {r->Offset}";
            }

            if (isFree)
            {
                free += r->Size;
                freeBlocks++;
            }
            else
            {
                used += r->Size;
                usedBlocks++;
            }

            previousFree = isFree;
            offset += r->Size;
            previous = index;
            index = r->NextPhys;
        }

        if (offset != _end)
        {
            return $"blocks end at {offset}, expected {_end}";
        }

        if (used != _usedBytes || free != _freeBytes || freeBlocks != _freeBlockCount || usedBlocks != _handles.Count)
        {
            return $"counters: used {_usedBytes}/{used}, free {_freeBytes}/{free}, free blocks {_freeBlockCount}/{freeBlocks}, allocations {_handles.Count}/{usedBlocks}";
        }

        int listed = 0;
        for (int i = 0; i < _heads.Length; i++)
        {
            for (int b = _heads[i]; b != None; b = _records[b].NextFree)
            {
                Mapping(_records[b].Size >> _unitShift, out int fl, out int sl);
                if (fl * SlCount + sl != i)
                {
                    return $"free block {b} of size {_records[b].Size} in list {i}";
                }

                listed++;
            }

            bool bit = (_slBitmaps[i / SlCount] & (1u << (i % SlCount))) != 0;
            if (bit != (_heads[i] != None))
            {
                return $"bitmap disagrees with list {i}";
            }
        }

        return listed == _freeBlockCount ? null : $"{listed} blocks listed, {_freeBlockCount} counted free";
    }

    /// <summary>Takes the arena's spin lock (thread-safe arenas). Operations are short and bounded, so one compare-and-swap
    /// is cheaper than a monitor; under contention the caller spins, then yields, then sleeps (SpinWait).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Enter()
    {
        if (Interlocked.CompareExchange(ref _spinLock, 1, 0) != 0)
        {
            EnterContended();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EnterContended()
    {
        var spinner = default(SpinWait);
        while (Volatile.Read(ref _spinLock) != 0 || Interlocked.CompareExchange(ref _spinLock, 1, 0) != 0)
        {
            spinner.SpinOnce();
        }
    }

    /// <summary>Releases the spin lock: a release store publishes everything written under it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Exit() => Volatile.Write(ref _spinLock, 0);

    /// <summary>TLSF mapping: the (first, second) level class of a size given in units.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Mapping(long units, out int fl, out int sl)
    {
        Debug.Assert(units > 0, "Blocks have at least one unit.");
        if (units < SlCount)
        {
            fl = 0;
            sl = (int)units;
        }
        else
        {
            int log2 = BitOperations.Log2((ulong)units);
            fl = log2 - SlLog2 + 1;
            sl = (int)((units >> (log2 - SlLog2)) - SlCount);
        }
    }

    private ResourceStatus AllocateCore(long size, int alignment, out ResourceHandle handle)
    {
        ThrowIfDisposed();
        handle = default;
        long unit = Unit;
        if (size > _end - _start)
        {
            _failedAllocations++;
            return ResourceStatus.RegionExhausted;
        }

        long need = ArenaConfig.RoundUp(size, unit);
        long align = Math.Max(alignment, unit);
        if (_handles.Count >= _handles.Capacity)
        {
            _failedAllocations++;
            return ResourceStatus.CapacityExceeded;
        }

        int block = FindFree(need, align);
        if (block == None)
        {
            _failedAllocations++;
            if (_freeBytes >= need)
            {
                _fragmentationFailures++;
                return ResourceStatus.Fragmented;
            }

            return ResourceStatus.RegionExhausted;
        }

        RemoveFree(block);
        Record* r = _records + block;
        long aligned = ArenaConfig.RoundUp(r->Offset, align); // the region base is aligned to MaxAlignment >= align
        long gap = aligned - r->Offset;
        Debug.Assert(gap + need <= r->Size, "FindFree returned a block that cannot hold the request.");
        if (gap > 0)
        {
            // The alignment gap becomes a free block of its own: a whole number of units, since offsets and
            // alignments are multiples of the unit. Its left neighbour is in use (no two free blocks touch).
            int front = SplitFront(block, gap);
            InsertFree(front);
        }

        if (r->Size > need)
        {
            int back = SplitBack(block, need);
            InsertFree(back);
        }

        r->PrevFree = Used;
        r->NextFree = Used;
        _freeBytes -= r->Size;
        _usedBytes += r->Size;
        _peakUsedBytes = Math.Max(_peakUsedBytes, _usedBytes);
        _totalAllocations++;
        ResourceStatus status = _handles.TryAllocate(block, out Handle<int> issued);
        Debug.Assert(status == ResourceStatus.Ok, "Capacity was checked before the search.");
        handle = (ResourceHandle)issued;
        return ResourceStatus.Ok;
    }

    private ResourceStatus FreeCore(ResourceHandle handle)
    {
        ThrowIfDisposed();
        var typed = Handle<int>.FromRawValue(handle.RawValue);
        ref int entry = ref _handles.GetValueRefOrNullRef(typed); // throws for a foreign handle
        if (Unsafe.IsNullRef(ref entry))
        {
            return handle.IsNull ? ResourceStatus.InvalidHandle : ResourceStatus.StaleHandle;
        }

        int block = entry;
        _handles.Free(typed);
        Record* r = _records + block;
        Debug.Assert(r->PrevFree == Used, "A live handle's block must be in use.");
        _usedBytes -= r->Size;
        _freeBytes += r->Size;

        int previous = r->PrevPhys;
        if (previous != None && _records[previous].PrevFree != Used)
        {
            RemoveFree(previous);
            MergeIntoPrevious(block);
            block = previous;
            r = _records + block;
        }

        int next = r->NextPhys;
        if (next != None && _records[next].PrevFree != Used)
        {
            RemoveFree(next);
            MergeIntoPrevious(next);
        }

        InsertFree(block);
        return ResourceStatus.Ok;
    }

    private ResourceStatus ResolveCore(ResourceHandle handle, out nint address, out long size)
    {
        ThrowIfDisposed();
        ref int entry = ref _handles.GetValueRefOrNullRef(Handle<int>.FromRawValue(handle.RawValue));
        if (Unsafe.IsNullRef(ref entry))
        {
            address = 0;
            size = 0;
            return handle.IsNull ? ResourceStatus.InvalidHandle : ResourceStatus.StaleHandle;
        }

        Record* r = _records + entry;
        address = (nint)(_base + r->Offset);
        size = r->Size;
        return ResourceStatus.Ok;
    }

    private ArenaStats StatsCore()
    {
        ThrowIfDisposed();
        long largest = 0;
        if (_flBitmap != 0)
        {
            int fl = 63 - BitOperations.LeadingZeroCount(_flBitmap);
            int sl = 31 - BitOperations.LeadingZeroCount(_slBitmaps[fl]);
            for (int b = _heads[(fl * SlCount) + sl]; b != None; b = _records[b].NextFree)
            {
                largest = Math.Max(largest, _records[b].Size);
            }
        }

        return new ArenaStats(
            Capacity: _capacity,
            ReservedBytes: _capacity - (_end - _start),
            UsedBytes: _usedBytes,
            FreeBytes: _freeBytes,
            PeakUsedBytes: _peakUsedBytes,
            LargestFreeBlock: largest,
            AllocationCount: _handles.Count,
            FreeBlockCount: _freeBlockCount,
            TotalAllocations: _totalAllocations,
            FailedAllocations: _failedAllocations,
            FragmentationFailures: _fragmentationFailures);
    }

    /// <summary>Finds a free block that can hold <paramref name="need"/> bytes at <paramref name="align"/>, or None.</summary>
    private int FindFree(long need, long align)
    {
        // Worst-case padding to reach the alignment; zero when the unit alignment suffices.
        long search = need + (align - Unit);
        long units = search >> _unitShift;

        // Good fit: round up to the next class boundary, so every block of the class found is big enough.
        long rounded = units;
        if (units >= SlCount)
        {
            rounded += (1L << (BitOperations.Log2((ulong)units) - SlLog2)) - 1;
        }

        Mapping(rounded, out int fl, out int sl);
        if (fl < _flCount)
        {
            uint slMap = _slBitmaps[fl] & (~0u << sl);
            if (slMap == 0)
            {
                ulong flMap = fl + 1 < 64 ? _flBitmap & (~0UL << (fl + 1)) : 0;
                if (flMap != 0)
                {
                    fl = BitOperations.TrailingZeroCount(flMap);
                    slMap = _slBitmaps[fl];
                }
            }

            if (slMap != 0)
            {
                return _heads[(fl * SlCount) + BitOperations.TrailingZeroCount(slMap)];
            }
        }

        // Nothing at or above the rounded class. Blocks in the classes from the exact size up to the rounded one
        // may still fit (and with less padding than the worst case): look at each before refusing.
        Mapping(need >> _unitShift, out int lowFl, out int lowSl);
        int last = Math.Min((fl * SlCount) + sl, _heads.Length - 1);
        for (int list = (lowFl * SlCount) + lowSl; list <= last; list++)
        {
            for (int b = _heads[list]; b != None; b = _records[b].NextFree)
            {
                Record* r = _records + b;
                if (ArenaConfig.RoundUp(r->Offset, align) - r->Offset + need <= r->Size)
                {
                    return b;
                }
            }
        }

        return None;
    }

    /// <summary>Cuts the first <paramref name="bytes"/> of a block into a new block (returned) before it.</summary>
    private int SplitFront(int block, long bytes)
    {
        int front = NewRecord();
        Record* r = _records + block;
        Record* f = _records + front;
        f->Offset = r->Offset;
        f->Size = bytes;
        f->PrevPhys = r->PrevPhys;
        f->NextPhys = block;
        if (r->PrevPhys != None)
        {
            _records[r->PrevPhys].NextPhys = front;
        }

        r->PrevPhys = front;
        r->Offset += bytes;
        r->Size -= bytes;
        return front;
    }

    /// <summary>Keeps the first <paramref name="keep"/> bytes of a block and returns the rest as a new block after it.</summary>
    private int SplitBack(int block, long keep)
    {
        int back = NewRecord();
        Record* r = _records + block;
        Record* b = _records + back;
        b->Offset = r->Offset + keep;
        b->Size = r->Size - keep;
        b->PrevPhys = block;
        b->NextPhys = r->NextPhys;
        if (r->NextPhys != None)
        {
            _records[r->NextPhys].PrevPhys = back;
        }

        r->NextPhys = back;
        r->Size = keep;
        return back;
    }

    /// <summary>Merges block <paramref name="block"/> into its physical predecessor and releases its record.</summary>
    private void MergeIntoPrevious(int block)
    {
        Record* r = _records + block;
        int previous = r->PrevPhys;
        Record* p = _records + previous;
        p->Size += r->Size;
        p->NextPhys = r->NextPhys;
        if (r->NextPhys != None)
        {
            _records[r->NextPhys].PrevPhys = previous;
        }

        ReleaseRecord(block);
    }

    private void InsertFree(int block)
    {
        Record* r = _records + block;
        Mapping(r->Size >> _unitShift, out int fl, out int sl);
        int list = (fl * SlCount) + sl;
        int head = _heads[list];
        r->PrevFree = None;
        r->NextFree = head;
        if (head != None)
        {
            _records[head].PrevFree = block;
        }

        _heads[list] = block;
        _slBitmaps[fl] |= 1u << sl;
        _flBitmap |= 1UL << fl;
        _freeBlockCount++;
    }

    private void RemoveFree(int block)
    {
        Record* r = _records + block;
        Debug.Assert(r->PrevFree != Used && r->PrevFree != Unused, "Only free blocks are on the free lists.");
        Mapping(r->Size >> _unitShift, out int fl, out int sl);
        int list = (fl * SlCount) + sl;
        if (r->PrevFree != None)
        {
            _records[r->PrevFree].NextFree = r->NextFree;
        }
        else
        {
            _heads[list] = r->NextFree;
        }

        if (r->NextFree != None)
        {
            _records[r->NextFree].PrevFree = r->PrevFree;
        }

        if (_heads[list] == None)
        {
            _slBitmaps[fl] &= ~(1u << sl);
            if (_slBitmaps[fl] == 0)
            {
                _flBitmap &= ~(1UL << fl);
            }
        }

        r->PrevFree = Used; // off the lists; the caller marks it in use or releases it
        r->NextFree = Used;
        _freeBlockCount--;
    }

    private int NewRecord()
    {
        int index = _recordFreeHead;
        if (index != None)
        {
            _recordFreeHead = _records[index].NextFree;
        }
        else
        {
            // SAFETY: free blocks never outnumber used blocks by more than one and used blocks are bounded by
            // MaxAllocations, so 2 * MaxAllocations + 1 records always suffice.
            Debug.Assert(_recordHighWater < _recordCapacity, "Block records exhausted.");
            index = _recordHighWater++;
        }

        _records[index] = default;
        return index;
    }

    private void ReleaseRecord(int index)
    {
        _records[index].PrevFree = Unused;
        _records[index].NextFree = _recordFreeHead;
        _recordFreeHead = index;
    }

    private int FirstPhysical()
    {
        for (int i = 0; i < _recordHighWater; i++)
        {
            if (_records[i].PrevFree != Unused && _records[i].Offset == _start)
            {
                return i;
            }
        }

        return None;
    }

    private void ThrowIfDisposed()
    {
        if (_base == null)
        {
            ThrowHelper.ThrowObjectDisposed(this);
        }
    }

    private void Release()
    {
        // Also runs from the finalizer of an instance whose constructor threw: every field may be unset.
        if (_base != null)
        {
            _allocator.Free(_base, (nuint)_capacity, ArenaConfig.MaxAlignment);
            _base = null;
        }

        if (_records != null)
        {
            _allocator.Free(_records, (nuint)_recordCapacity * (nuint)sizeof(Record), 64);
            _records = null;
        }

        _handles?.Dispose();
    }

    /// <summary>One block of the region, free or in use. Blocks form a list in address order (PrevPhys/NextPhys);
    /// free blocks are also on their size class's list (PrevFree/NextFree).</summary>
    private struct Record
    {
        public long Offset;   // From the region base; a multiple of the unit.
        public long Size;     // A multiple of the unit, > 0.
        public int PrevPhys;  // Block just below, or None.
        public int NextPhys;  // Block just above, or None.
        public int PrevFree;  // Free: previous on its list or None. Used: Used. Unused record: Unused.
        public int NextFree;  // Free: next on its list or None. Unused record: next unused record.
    }
}
