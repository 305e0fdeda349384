using System.Diagnostics;
using System.Numerics;

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
public sealed unsafe partial class Arena : IDisposable, IRegionAllocator
{
    // The public surface and the lifetime are here; the other parts: Tlsf (size classes, free lists, and the operations
    // run under the lock), Blocks (block records, split and merge), Lock (the spin lock and its Scope), Validation (tests
    // only). Their headers are plain comments: doc comments on several parts of a partial type would all be merged into
    // its one public summary.

    private const int None = -1;             // end of a list / no neighbour
    private const int Used = -2;             // PrevFree of a block in use
    private const int Unused = -3;           // PrevFree of a record on the record free list

    private readonly NativeAllocator _allocator;
    private readonly ArenaConfig _config;
    private readonly long _capacity;         // Region bytes.
    private readonly int _unitShift;         // Unit == 1 << _unitShift.
    private readonly long _start;            // First allocatable offset: the reserved start rounded up to the unit.
    private readonly long _end;              // End of the allocatable range: the capacity rounded down to the unit.
    private readonly HandleTable<int> _handles; // An allocation's handle -> its block record.

    private byte* _base;                     // Owned region; null once disposed.
    private long _usedBytes;
    private long _peakUsedBytes;
    private long _freeBytes;
    private long _totalAllocations;
    private long _failedAllocations;
    private long _fragmentationFailures;
    private long _bytesMoved;                // By Defragment, since creation.
    private long _moves;

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
        bool records = _records.TryInitialize(_recordCapacity, _allocator) && _records.TryCommit(1, _allocator);
        _base = (byte*)_allocator.TryAllocate((nuint)_capacity, ArenaConfig.MaxAlignment);
        if (!records || _base == null)
        {
            Release();
            GC.SuppressFinalize(this);
            throw new OutOfMemoryException($"Could not allocate an arena region of {_capacity} bytes.");
        }

        int first = NewRecord();
        RecordAt(first) = new Record { Offset = _start, Size = _end - _start, PrevPhys = None, NextPhys = None };
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

        using (new Scope(this))
        {
            return AllocateCore(size, alignment, out handle);
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
        ThrowHelper.ThrowIfFailed(TryAllocate(size, alignment, out ResourceHandle handle));
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
        using (new Scope(this))
        {
            return FreeCore(handle);
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
        using (new Scope(this))
        {
            return ResolveCore(handle, out address, out size);
        }
    }

    /// <summary>Resolves a handle to its allocation's memory.</summary>
    /// <param name="handle">A handle this arena issued.</param>
    /// <param name="span">On <see cref="ResourceStatus.Ok"/>, the whole allocation; otherwise empty.</param>
    /// <returns>As <see cref="TryResolve"/>; also <see cref="ResourceStatus.InvalidArgument"/> for an allocation larger
    /// than a span can describe (2 GiB or more): use <see cref="TryResolve"/> for those.</returns>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was issued by another arena, pool or table.</exception>
    /// <exception cref="ObjectDisposedException">The arena has been disposed.</exception>
    public ResourceStatus TryGetSpan(ResourceHandle handle, out Span<byte> span) =>
        NativeView.ToSpan(TryResolve(handle, out nint address, out long size), address, size, out span);

    /// <summary>Resolves a handle to its allocation's memory, throwing if it is not live.</summary>
    /// <param name="handle">A handle this arena issued.</param>
    /// <returns>The whole allocation.</returns>
    /// <exception cref="ResourceException">As <see cref="TryGetSpan"/> would have returned it: stale, null, or too large
    /// for a span.</exception>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was issued by another arena, pool or table.</exception>
    /// <exception cref="ObjectDisposedException">The arena has been disposed.</exception>
    public Span<byte> GetSpan(ResourceHandle handle)
    {
        ThrowHelper.ThrowIfFailed(TryGetSpan(handle, out Span<byte> span));
        return span;
    }

    /// <summary>Whether <paramref name="handle"/> refers to a live allocation of this arena.</summary>
    /// <param name="handle">Any handle; null, stale or foreign handles give <see langword="false"/>.</param>
    /// <returns><see langword="true"/> only for a live allocation of this arena.</returns>
    /// <exception cref="ObjectDisposedException">The arena has been disposed.</exception>
    public bool Contains(ResourceHandle handle)
    {
        ThrowIfDisposed();
        using (new Scope(this))
        {
            return _handles.Contains(Handle<int>.FromRawValue(handle.RawValue));
        }
    }

    /// <summary>Takes a snapshot of the region's use.</summary>
    /// <returns>The counts; <c>ReservedBytes + UsedBytes + FreeBytes == Capacity</c>.</returns>
    /// <exception cref="ObjectDisposedException">The arena has been disposed.</exception>
    /// <remarks>O(blocks in the largest size class) for <see cref="ArenaStats.LargestFreeBlock"/>.</remarks>
    public ArenaStats GetStats()
    {
        using (new Scope(this))
        {
            return StatsCore();
        }
    }

    /// <summary>The free blocks by size: block count and bytes per power of two (entry <c>i</c>: blocks of 2^i to
    /// 2^(i+1) - 1 bytes), added to the spans given. O(free blocks), under the arena's lock.</summary>
    /// <param name="counts">At least 64 counts, added to.</param>
    /// <param name="bytes">At least 64 byte totals, added to.</param>
    /// <exception cref="ArgumentException">A span is shorter than 64.</exception>
    /// <exception cref="ObjectDisposedException">The arena has been disposed.</exception>
    public void AddFreeBlocks(Span<long> counts, Span<long> bytes)
    {
        if (counts.Length < 64 || bytes.Length < 64)
        {
            ThrowHelper.ThrowArgument(nameof(counts), "The histogram has 64 entries, one per power of two.");
        }

        using (new Scope(this))
        {
            ThrowIfDisposed();
            for (int list = 0; list < _heads.Length; list++)
            {
                for (int b = _heads[list]; b != None; b = RecordAt(b).NextFree)
                {
                    long size = RecordAt(b).Size;
                    int bucket = BitOperations.Log2((ulong)size);
                    counts[bucket]++;
                    bytes[bucket] += size;
                }
            }
        }
    }

    /// <summary>Frees the region and the bookkeeping; every handle becomes invalid. Idempotent.</summary>
    /// <remarks>Live allocations are dropped with the region: their memory must not be touched afterwards.</remarks>
    public void Dispose()
    {
        using (new Scope(this))
        {
            Release();
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
    MetadataStats IRegionAllocator.GetMetadataStats()
    {
        using (new Scope(this))
        {
            return new MetadataStats(
                _handles.NativeBytes + _records.CommittedBytes,
                _handles.MaxNativeBytes + _records.ReservedBytes);
        }
    }

    /// <inheritdoc/>
    nint IRegionAllocator.AddressOf(ulong memory)
    {
        TryResolve(ResourceHandle.FromRawValue(memory), out nint address, out _);
        return address;
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

        _records.Free(_allocator); // nothing when never allocated; forgotten when the allocator's backing is gone

        _handles?.Dispose();
    }
}
