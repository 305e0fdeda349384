using System.Diagnostics;
using System.Numerics;

namespace Flight.Hal.Resources;

/// <summary>Fixed-size blocks carved from aligned native slabs, rented and returned in O(1) through generational handles.</summary>
/// <remarks>
/// <para><b>Memory.</b> The pool grows slab by slab, from <see cref="PoolConfig.InitialCount"/> up to
/// <see cref="PoolConfig.MaxCount"/> blocks, through its <see cref="NativeAllocator"/>, and frees every slab on
/// <see cref="Dispose"/>. The free list is threaded through the free blocks themselves (a free block holds the
/// next free block's index and address), so it costs no memory. The one per-block cost outside the block is its
/// 4-byte generation, the price of detecting stale handles: a single array of <see cref="PoolConfig.MaxCount"/>
/// generations is reserved at construction and first touched as blocks are first rented. Blocks are handed out
/// uninitialised. Nothing is allocated on the GC heap after warm-up.</para>
/// <para><b>Handles.</b> Returning a block advances its generation, so a second return of the same handle, or a
/// return after the block was rented again, gives <see cref="ResourceStatus.StaleHandle"/> and touches nothing.
/// A block whose generation would wrap is retired, never rented again. A handle from another pool — live, or
/// disposed long ago even if its tag has been reused since — is rejected with an <see cref="ArgumentException"/>.</para>
/// <para><b>Threads.</b> An unsynchronised pool (<see cref="PoolConfig.ThreadSafe"/> false) must be used by one
/// thread at a time. A thread-safe pool may be used by many threads at once: each thread keeps a small cache of
/// free blocks, so rent and return take no lock unless the cache is empty or full; a racing double return is
/// still caught (the generation is advanced with a compare-and-swap). Blocks cached by a thread that has exited go
/// back to the shared list when the pool runs dry. No thread's <see cref="Thread"/> object is kept alive, so a thread
/// the runtime did not start (a C engine's) leaves nothing behind once the runtime collects after its exit.
/// <see cref="Dispose"/> must not race with other members in either mode.</para>
/// </remarks>
// This file holds the pool's life: construction, configuration, stats and disposal. The blocks themselves (slabs,
// generations, the shared free list, rent and return) are in SlabPool.Blocks.cs, the thread caches in
// SlabPool.ThreadSafe.cs, the handle checks and lookups in SlabPool.Handles.cs. Each part says what it holds in a plain
// comment: XML docs on a part would be merged into the public type's documentation.
public sealed unsafe partial class SlabPool : IDisposable
{
    private readonly NativeAllocator _allocator;
    private readonly PoolConfig _config;
    private readonly int _blockSize;         // Effective block size: >= PoolConfig.MinBlockSize, a multiple of _alignment.
    private readonly int _alignment;         // Power of two, >= PoolConfig.MinAlignment.
    private readonly int _maxCount;          // 1..HandleLayout.MaxSlots.
    private readonly int _tag;               // This pool's handle tag.
    private readonly uint _baseGeneration;   // Even; every generation issued here is above it (HandleTagAllocator's floor).
    private bool _disposed;

    /// <summary>Creates a pool as <paramref name="config"/> describes and allocates its initial blocks.</summary>
    /// <param name="config">The pool's shape; validated here.</param>
    /// <param name="allocator">Where slabs come from; <see cref="NativeAllocator.Default"/> when null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="config"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size or count in <paramref name="config"/> is out of range.</exception>
    /// <exception cref="ArgumentException">An alignment in <paramref name="config"/> is not a power of two.</exception>
    /// <exception cref="OutOfMemoryException">The initial memory could not be allocated; nothing is leaked.</exception>
    /// <exception cref="InvalidOperationException">Every handle tag of the process is taken (1,023 tables, pools and arenas
    /// are alive); nothing is leaked.</exception>
    public SlabPool(PoolConfig config, NativeAllocator? allocator = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        _config = config;
        _allocator = allocator ?? NativeAllocator.Default;
        _alignment = config.EffectiveAlignment;
        _blockSize = config.EffectiveBlockSize;
        _maxCount = config.MaxCount;
        _blocksPerSlab = config.BlocksPerSlab > 0
            ? Math.Min(config.BlocksPerSlab, (int)BitOperations.RoundUpToPowerOf2((uint)_maxCount))
            : ChooseBlocksPerSlab(config.InitialCount, _maxCount, _blockSize);
        _slabShift = BitOperations.Log2((uint)_blocksPerSlab);
        _slabMask = _blocksPerSlab - 1;
        _slabAlignment = (nuint)Math.Max(_alignment, 64);
        _slabs = new nint[(_maxCount + _blocksPerSlab - 1) >> _slabShift];
        _ = checked((long)_blocksPerSlab * _blockSize); // a slab's size must fit a long
        _generationBytes = (nuint)_maxCount * sizeof(uint);
        if (config.ThreadSafe)
        {
            _lock = new object();
            _caches = new List<ThreadCache>();
            _cacheSize = config.ThreadCacheSize >= 0 ? config.ThreadCacheSize : Math.Min(32, _maxCount / 16);
        }

        _poolId = Interlocked.Increment(ref s_nextPoolId);
        _generations = (uint*)_allocator.TryAllocate(_generationBytes, 64);
        if (_generations == null)
        {
            GC.SuppressFinalize(this);
            throw new OutOfMemoryException($"Could not allocate the generation array of a {_maxCount}-block pool.");
        }

        try
        {
            _tag = HandleTagAllocator.Rent(out _baseGeneration);
        }
        catch
        {
            // No tag: give the generations back now rather than leave them to the finalizer.
            Release();
            GC.SuppressFinalize(this);
            throw;
        }

        _acceptedTag = _tag;
        _publicTag = _tag;
        while (_totalBlocks < config.InitialCount)
        {
            if (!TryAddSlab())
            {
                Release();
                GC.SuppressFinalize(this);
                throw new OutOfMemoryException($"Could not allocate the initial {config.InitialCount} blocks of {_blockSize} bytes.");
            }
        }
    }

    /// <summary>Frees the native memory if the pool was never disposed.</summary>
    ~SlabPool()
    {
        // A finalizer must never throw: on the finalizer thread that ends the process. Release frees through the
        // allocator, whose own backing may already be gone in any finalization order; what cannot be freed is gone with it.
        try
        {
            Release();
        }
        catch (Exception exception)
        {
            Debug.WriteLine($"SlabPool finalizer: {exception.Message}");
        }
    }

    /// <summary>The configuration the pool was created with.</summary>
    public PoolConfig Config => _config;

    /// <summary>The resource type the pool serves.</summary>
    public ResourceType Type => _config.Type;

    /// <summary>Bytes in each block (the configured size, at least 16, rounded up to the alignment).</summary>
    public int BlockSize => _blockSize;

    /// <summary>The alignment of every block's address.</summary>
    public int Alignment => _alignment;

    /// <summary>The most blocks the pool will hold.</summary>
    public int MaxCount => _maxCount;

    /// <summary>Blocks allocated per native slab.</summary>
    public int BlocksPerSlab => _blocksPerSlab;

    /// <summary>Whether the pool may be used by several threads at once.</summary>
    public bool IsThreadSafe => _lock != null;

    /// <summary>Whether <see cref="Dispose"/> has run.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>The issuer tag in this pool's handles, for routing a handle back to its pool.</summary>
    internal int Tag => _tag;

    /// <summary>Takes a snapshot of the pool's counts.</summary>
    /// <returns>The counts; see <see cref="PoolStats"/> for how exact they are in each mode.</returns>
    /// <exception cref="ObjectDisposedException">The pool has been disposed.</exception>
    public PoolStats GetStats()
    {
        ThrowIfDisposed();
        if (_lock == null)
        {
            return Snapshot(cached: 0);
        }

        lock (_lock)
        {
            return Snapshot(CountCachedLocked());
        }
    }

    /// <summary>Frees every slab and gives up the pool's tag; later use throws. Idempotent.</summary>
    /// <remarks>Blocks still rented are freed with their slab: their handles become invalid and their memory must not
    /// be touched. Must not race with other members. A pool that belongs to a <see cref="PoolManager"/> or a
    /// resource manager is disposed by its owner: calling this on a resource manager's pool does
    /// nothing.</remarks>
    public void Dispose()
    {
        if (_claims != null)
        {
            return; // a resource manager's pool: the manager disposes it
        }

        Release();
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes the pool for its owner (<see cref="PoolManager"/> or resource manager), claimed or not.</summary>
#pragma warning disable CA1816 // The owner's Dispose, reached through the owner's own Dispose.
    internal void DisposeByOwner()
    {
        Release();
        GC.SuppressFinalize(this);
    }
#pragma warning restore CA1816

    private static int ChooseBlocksPerSlab(int initialCount, int maxCount, int blockSize)
    {
        // Enough blocks per slab to make the native allocation worthwhile (about 64 KiB or 64 blocks),
        // the initial count in one slab where that is reasonable, never more than the pool can hold.
        int target = Math.Max(initialCount, Math.Max(64, 64 * 1024 / blockSize));
        target = Math.Min(target, Math.Min(maxCount, 64 * 1024));
        return (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, target));
    }

    private PoolStats Snapshot(int cached)
    {
        int used = _outstanding - cached;
        long nativeBytes = (long)_generationBytes;
        for (int s = 0; s < _slabCount; s++)
        {
            nativeBytes += (long)SlabBytes(s);
        }

        return new PoolStats(
            Type: _config.Type,
            BlockSize: _blockSize,
            Alignment: _alignment,
            TotalBlocks: _totalBlocks,
            UsedBlocks: used,
            FreeBlocks: _totalBlocks - used - _retired,
            CachedBlocks: cached,
            PeakUsedBlocks: _peak,
            RetiredBlocks: _retired,
            CapacityBlocks: _maxCount,
            SlabCount: _slabCount,
            NativeBytes: nativeBytes);
    }

    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowHelper.ThrowObjectDisposed(this);
        }
    }

    private void Release()
    {
        if (_disposed)
        {
            return;
        }

        // Also runs from the finalizer of an instance whose constructor threw, so every field may be unset:
        // slabs and generations exist only if the allocator was assigned first.
        _disposed = true;
        uint highest = HighestGeneration();
        _acceptedTag = -1;
        _publicTag = -1;
        _poolId = 0;
        for (int s = 0; s < _slabCount; s++)
        {
            _allocator.Free((void*)_slabs[s], SlabBytes(s), _slabAlignment);
            _slabs[s] = 0;
        }

        if (_generations != null)
        {
            _allocator.Free(_generations, _generationBytes, 64);
            _generations = null;
        }

        _slabCount = 0;
        _totalBlocks = 0;
        _bumpIndex = 0;
        _freeHead = EndOfList;
        _freeHeadBlock = null;
        _caches?.Clear();
        if (_tag != 0)
        {
            HandleTagAllocator.Return(_tag, highest);
        }
    }

    /// <summary>The highest generation any block was issued with (or will be next); <see cref="uint.MaxValue"/> once a
    /// block was retired at the wrap point.</summary>
    private uint HighestGeneration()
    {
        if (_retired > 0 || _generations == null)
        {
            return _retired > 0 ? uint.MaxValue : _baseGeneration;
        }

        if (!_allocator.AllocationsReadable)
        {
            // Finalizing after the region our generations were carved from: they cannot be read, so the tag is retired.
            return uint.MaxValue;
        }

        uint highest = _baseGeneration;
        for (int i = 0; i < _bumpIndex; i++)
        {
            highest = Math.Max(highest, _generations[i]);
        }

        return highest;
    }
}
