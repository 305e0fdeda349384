using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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
public sealed unsafe class SlabPool : IDisposable
{
    private const int EndOfList = -1;
    private const int LinkPointerOffset = 8; // A free block holds the next index at 0 and the next address at 8.

    [ThreadStatic]
    private static ThreadCache?[]? t_caches; // Indexed by pool tag; a slot holds this thread's cache for that pool.

    private static long s_nextPoolId;        // Source of _poolId (first id 1); never reused, unlike tags.

    private readonly NativeAllocator _allocator;
    private readonly PoolConfig _config;
    private readonly int _blockSize;         // Effective block size: >= PoolConfig.MinBlockSize, a multiple of _alignment.
    private readonly int _alignment;         // Power of two, >= PoolConfig.MinAlignment.
    private readonly int _maxCount;          // 1..HandleLayout.MaxSlots.
    private readonly int _blocksPerSlab;     // Power of two; == 1 << _slabShift.
    private readonly int _slabShift;
    private readonly int _slabMask;          // _blocksPerSlab - 1.
    private readonly nuint _slabAlignment;   // Alignment slabs are allocated with: max(_alignment, 64).
    private readonly nint[] _slabs;          // Slab base addresses; [0, _slabCount) are live, each stored before _totalBlocks grows.
    private readonly nuint _generationBytes; // Size of the _generations block: _maxCount * 4.
    private readonly int _tag;               // This pool's handle tag.
    private readonly uint _baseGeneration;   // Even; every generation issued here is above it (HandleTagAllocator's floor).
    private int _acceptedTag;                // _tag while live; -1 once disposed, so the fast paths need no disposed check.
    private int _publicTag;                  // What the public Return accepts at once: _tag, or -1 when disposed or claimed.
    private IBlockClaims? _claims;           // Set when a ResourceManager owns the pool: blocks it hands out as resources.
    private long _poolId;                    // Identifies this pool's thread caches (tags are reused; ids are not); 0 once disposed.
    private readonly object? _lock;          // Guards the shared free list, growth and _caches. Null when unsynchronised.
    private readonly int _cacheSize;         // Thread-safe pools: capacity of each thread's cache; 0 disables caching.
    private readonly List<ThreadCache>? _caches; // Every thread cache of this pool, for stats and reclaiming dead threads'.

    private uint* _generations;              // Owned; _maxCount entries, [0, _bumpIndex) initialised. Odd: rented. Null once disposed.
    private int _slabCount;                  // Slabs allocated.
    private int _totalBlocks;                // Usable blocks in allocated slabs.
    private int _bumpIndex;                  // Blocks [0, _bumpIndex) have been rented at least once; valid handles lie below it.
    private int _freeHead = EndOfList;       // Shared free list head (index) ...
    private byte* _freeHeadBlock;            // ... and its address; null when the list is empty.
    private int _outstanding;                // Blocks that are neither on the shared list nor fresh: rented, or in a thread cache.
    private int _peak;                       // Largest _outstanding seen.
    private int _retired;                    // Blocks retired at the generation wrap point.
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

    /// <summary>Rents one block.</summary>
    /// <param name="handle">On <see cref="ResourceStatus.Ok"/>, the block's handle; otherwise <see langword="default"/>.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>; <see cref="ResourceStatus.PoolExhausted"/> when all
    /// <see cref="MaxCount"/> blocks are in use; <see cref="ResourceStatus.OutOfMemory"/> when a new slab could not
    /// be allocated.</returns>
    /// <exception cref="ObjectDisposedException">The pool has been disposed.</exception>
    /// <remarks>O(1); allocates no managed memory (a thread-safe pool allocates one small cache per thread on first use).
    /// The block's contents are unspecified.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ResourceStatus TryRent(out ResourceHandle handle)
    {
        int index;
        uint* generation;
        if (_lock == null)
        {
            // PERF: the unsynchronised fast path. No disposed check here: disposal empties the free list and the fresh
            // range, so a disposed pool always reaches RentUnsynchronizedSlow, which throws.
            if (!TryTakeFree(out index))
            {
                return RentUnsynchronizedSlow(out handle);
            }

            // SAFETY: index < _bumpIndex <= _maxCount, the length of _generations.
            generation = _generations + index;
            uint rented = *generation + 1; // even (free) -> odd (rented)
            *generation = rented;

            handle = new ResourceHandle(HandleLayout.Pack(_tag, index, rented));
            return ResourceStatus.Ok;
        }

        // No disposed check: disposal zeroes _poolId, so CurrentCache finds no cache and RentShared throws.
        ThreadCache? cache = CurrentCache();
        if (cache == null || cache.Count == 0)
        {
            return RentShared(cache, out handle);
        }

        // PERF: the thread-safe fast path. The block is in this thread's cache, so no other thread may change its
        // generation (a stale return's compare-and-swap fails on the even value), and no lock is needed.
        index = cache.Pop();
        generation = _generations + index;
        uint next = *generation + 1;
        Debug.Assert((next & 1) == 1, "A cached block must be free (even generation).");
        Volatile.Write(ref *generation, next);
        handle = new ResourceHandle(HandleLayout.Pack(_tag, index, next));
        return ResourceStatus.Ok;
    }

    /// <summary>Whether this thread's cache of this (thread-safe) pool holds a block: then the next
    /// <see cref="RentCachedUnchecked"/> on this thread succeeds, since no other thread takes from this thread's cache.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool HasCachedBlock()
    {
        ThreadCache? cache = CurrentCache();
        return cache != null && cache.Count > 0;
    }

    /// <summary>Rents from this thread's cache only (the lock-free path), after <see cref="HasCachedBlock"/> said there is
    /// a block. The resource manager uses it to keep its lock-free path short: anything slower is done with its budget
    /// hold accounted as held.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ResourceHandle RentCachedUnchecked()
    {
        ThreadCache? cache = CurrentCache();
        Debug.Assert(cache != null && cache.Count > 0, "HasCachedBlock said there is one, and only this thread takes from its cache.");
        int index = cache.Pop();
        uint* generation = _generations + index;
        uint next = *generation + 1;
        Debug.Assert((next & 1) == 1, "A cached block must be free (even generation).");
        Volatile.Write(ref *generation, next);
        return new ResourceHandle(HandleLayout.Pack(_tag, index, next));
    }

    /// <summary>Rents one block for <paramref name="byteCount"/> bytes.</summary>
    /// <param name="byteCount">1 to <see cref="BlockSize"/>.</param>
    /// <param name="handle">On <see cref="ResourceStatus.Ok"/>, the block's handle; otherwise <see langword="default"/>.</param>
    /// <returns>As <see cref="TryRent(out ResourceHandle)"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="byteCount"/> is 0, negative or larger than a block.</exception>
    /// <exception cref="ObjectDisposedException">The pool has been disposed.</exception>
    public ResourceStatus TryRent(int byteCount, out ResourceHandle handle)
    {
        if ((uint)(byteCount - 1) >= (uint)_blockSize)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(byteCount), byteCount, $"A block of this pool holds 1 to {_blockSize} bytes.");
        }

        return TryRent(out handle);
    }

    /// <summary>Rents one block, throwing if none can be had.</summary>
    /// <returns>The block's handle.</returns>
    /// <exception cref="ResourceException">No block could be rented; <see cref="ResourceException.Status"/> says why.</exception>
    /// <exception cref="ObjectDisposedException">The pool has been disposed.</exception>
    public ResourceHandle Rent()
    {
        ResourceStatus status = TryRent(out ResourceHandle handle);
        if (status != ResourceStatus.Ok)
        {
            ThrowHelper.ThrowResourceException(status);
        }

        return handle;
    }

    /// <summary>Returns a rented block; every copy of <paramref name="handle"/> becomes stale.</summary>
    /// <param name="handle">A handle this pool issued.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>; <see cref="ResourceStatus.StaleHandle"/> for a double return or a
    /// handle whose block was rented again since; <see cref="ResourceStatus.InvalidHandle"/> for the null handle.
    /// Nothing is touched unless the result is <see cref="ResourceStatus.Ok"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was issued by another pool or table.</exception>
    /// <exception cref="ObjectDisposedException">The pool has been disposed.</exception>
    /// <remarks>O(1); allocates no managed memory.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ResourceStatus Return(ResourceHandle handle) => ReturnCore(handle.RawValue, _publicTag, toShared: false);

    /// <summary>Return for the pool's owning resource manager: as <see cref="Return"/>, without the check
    /// that refuses the manager's own blocks.</summary>
    /// <param name="handle">The block.</param>
    /// <param name="toShared">Put the block on the shared list rather than in this thread's cache, so a thread waiting
    /// for one can have it (the manager asks for this while acquisitions wait).</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ResourceStatus ReturnOwned(ResourceHandle handle, bool toShared) => ReturnCore(handle.RawValue, _acceptedTag, toShared);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ResourceStatus ReturnCore(ulong raw, int acceptedTag, bool toShared)
    {
        int index = HandleLayout.Index(raw);
        uint generation = HandleLayout.Generation(raw);
        if (HandleLayout.Tag(raw) != acceptedTag) // also catches a disposed pool (-1) and a claimed pool's public path (-1)
        {
            return ReturnMismatch(raw);
        }

        // A rented block's generation is odd and above the base; an index at or beyond _bumpIndex was never rented.
        if ((generation & 1) == 0 || generation <= _baseGeneration || (uint)index >= (uint)Volatile.Read(ref _bumpIndex))
        {
            return StaleOrForeign(raw);
        }

        // SAFETY: index < _bumpIndex <= _maxCount, and generations [0, _bumpIndex) are initialised.
        uint* slot = _generations + index;
        uint next = generation == uint.MaxValue ? 0 : generation + 1; // 0: retire rather than wrap (no ABA)
        if (_lock == null)
        {
            if (*slot != generation)
            {
                return ResourceStatus.StaleHandle;
            }

            *slot = next;
            if (next == 0)
            {
                _outstanding--;
                _retired++;
                return ResourceStatus.Ok;
            }

            PushShared(index); // also counts the block off _outstanding
            return ResourceStatus.Ok;
        }

        // Thread-safe: only one of several racing returns of the same handle may win.
        if (Interlocked.CompareExchange(ref *slot, next, generation) != generation)
        {
            return ResourceStatus.StaleHandle;
        }

        if (next == 0)
        {
            lock (_lock)
            {
                _outstanding--;
                _retired++;
            }

            return ResourceStatus.Ok;
        }

        ThreadCache? cache = CurrentCache();
        if (cache != null && cache.Count < cache.Capacity && !toShared)
        {
            cache.Push(index); // PERF: the lock-free fast path.
            return ResourceStatus.Ok;
        }

        if (toShared)
        {
            lock (_lock)
            {
                ThrowIfDisposed();
                PushShared(index);
            }

            return ResourceStatus.Ok;
        }

        ReturnShared(cache, index);
        return ResourceStatus.Ok;
    }

    /// <summary>Whether <paramref name="handle"/> refers to a block of this pool that is rented now.</summary>
    /// <param name="handle">Any handle; null, stale or foreign handles give <see langword="false"/>.</param>
    /// <returns><see langword="true"/> only for a currently rented block of this pool.</returns>
    public bool Contains(ResourceHandle handle) =>
        !_disposed && HandleLayout.IsFromIssuer(handle.RawValue, _tag, _baseGeneration) && TryGetBlock(handle.RawValue, out _) == ResourceStatus.Ok;

    /// <summary>Resolves a handle to its block's memory.</summary>
    /// <param name="handle">A handle this pool issued.</param>
    /// <param name="span">On <see cref="ResourceStatus.Ok"/>, the whole block (<see cref="BlockSize"/> bytes);
    /// otherwise empty.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>, <see cref="ResourceStatus.StaleHandle"/> or
    /// <see cref="ResourceStatus.InvalidHandle"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was issued by another pool or table.</exception>
    /// <exception cref="ObjectDisposedException">The pool has been disposed.</exception>
    /// <remarks>The span is valid until the block is returned or the pool disposed.</remarks>
    public ResourceStatus TryGetSpan(ResourceHandle handle, out Span<byte> span)
    {
        ThrowIfDisposed();
        ResourceStatus status = TryGetBlock(handle.RawValue, out byte* block);
        span = status == ResourceStatus.Ok ? new Span<byte>(block, _blockSize) : default;
        return status;
    }

    /// <summary>Resolves a handle to its block's memory, throwing if it is not rented.</summary>
    /// <param name="handle">A handle this pool issued.</param>
    /// <returns>The whole block (<see cref="BlockSize"/> bytes), valid until it is returned or the pool disposed.</returns>
    /// <exception cref="ResourceException">The handle is stale or null.</exception>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was issued by another pool or table.</exception>
    /// <exception cref="ObjectDisposedException">The pool has been disposed.</exception>
    public Span<byte> GetSpan(ResourceHandle handle)
    {
        ResourceStatus status = TryGetSpan(handle, out Span<byte> span);
        if (status != ResourceStatus.Ok)
        {
            ThrowHelper.ThrowResourceException(status);
        }

        return span;
    }

    /// <summary>Resolves a handle to its block's address, for native code.</summary>
    /// <param name="handle">A handle this pool issued.</param>
    /// <param name="address">On <see cref="ResourceStatus.Ok"/>, the block's address (aligned to
    /// <see cref="Alignment"/>); otherwise 0.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>, <see cref="ResourceStatus.StaleHandle"/> or
    /// <see cref="ResourceStatus.InvalidHandle"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was issued by another pool or table.</exception>
    /// <exception cref="ObjectDisposedException">The pool has been disposed.</exception>
    /// <remarks>The address is valid until the block is returned or the pool disposed; it is not tracked after that.</remarks>
    public ResourceStatus TryResolve(ResourceHandle handle, out nint address)
    {
        ThrowIfDisposed();
        ResourceStatus status = TryGetBlock(handle.RawValue, out byte* block);
        address = (nint)block;
        return status;
    }

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
            int cached = 0;
            foreach (ThreadCache cache in _caches!)
            {
                cached += Volatile.Read(ref cache.Count);
            }

            return Snapshot(cached);
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

    /// <summary>Every generation this pool issues is above this (even) value; a handle with this pool's tag and a
    /// generation at or below it comes from a disposed pool that had the same tag.</summary>
    internal uint BaseGeneration => _baseGeneration;

    /// <summary>The blocks a resource manager hands out as resources; once set, the public
    /// <see cref="Return"/> refuses them (they are released through the manager). Set once, before the pool is shared.</summary>
    internal IBlockClaims? Claims
    {
        get => _claims;
        set
        {
            Debug.Assert(_claims == null && value != null, "Claims are set once.");
            _claims = value;
            _publicTag = -1; // every public Return now takes the checked path in ReturnMismatch
        }
    }

    /// <summary>Whether <paramref name="raw"/> is a handle of this pool whose block is rented under that generation now.</summary>
    /// <remarks>No exception for foreign, null or disposed: all are simply not rented.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool IsRented(ulong raw)
    {
        int index = HandleLayout.Index(raw);
        uint generation = HandleLayout.Generation(raw);
        return HandleLayout.Tag(raw) == _acceptedTag
            && (generation & 1) == 1
            && (uint)index < (uint)Volatile.Read(ref _bumpIndex)
            && Volatile.Read(ref _generations[index]) == generation;
    }

    /// <summary>Why a handle of this pool's tag that <see cref="IsRented"/> refused is not rented:
    /// <see cref="ResourceStatus.StaleHandle"/> when this pool issued exactly that handle once (the block was returned
    /// since), else <see cref="ResourceStatus.InvalidHandle"/> (never issued here: forged, or a disposed pool's).</summary>
    internal ResourceStatus ClassifyNotRented(ulong raw)
    {
        int index = HandleLayout.Index(raw);
        uint generation = HandleLayout.Generation(raw);
        if (_disposed || !HandleLayout.IsFromIssuer(raw, _tag, _baseGeneration) || (generation & 1) == 0
            || (uint)index >= (uint)Volatile.Read(ref _bumpIndex))
        {
            return ResourceStatus.InvalidHandle;
        }

        // A block below _bumpIndex was rented at least once, so its generation is above the base, or 0 once retired (every
        // generation up to the wrap was issued). Rented: odd, the last issued; free: even, one past it.
        uint current = Volatile.Read(ref _generations[index]);
        uint lastIssued = current == 0 ? uint.MaxValue : (current & 1) == 1 ? current : current - 1;
        return generation <= lastIssued ? ResourceStatus.StaleHandle : ResourceStatus.InvalidHandle;
    }

    /// <summary>The address of the block behind a handle <see cref="IsRented"/> accepted.</summary>
    /// <remarks>Undefined for any other handle: the caller must have checked.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal nint AddressOfRentedUnchecked(ulong raw) => (nint)BlockAddress(HandleLayout.Index(raw));

    /// <summary>Blocks ever handed out; indices below it may be rented.</summary>
    internal int IssuedCount => Volatile.Read(ref _bumpIndex);

    /// <summary>The handle of block <paramref name="index"/> if it is rented now, else <see langword="default"/>.</summary>
    internal ResourceHandle RentedHandleAt(int index)
    {
        if (_disposed || (uint)index >= (uint)Volatile.Read(ref _bumpIndex))
        {
            return default;
        }

        uint generation = Volatile.Read(ref _generations[index]);
        return (generation & 1) == 1 ? new ResourceHandle(HandleLayout.Pack(_tag, index, generation)) : default;
    }

    /// <summary>Test hook: sets a rented block's generation (odd), returning the block's new handle, so the wrap
    /// point can be reached without four billion returns.</summary>
    internal ResourceHandle SetGenerationForTesting(ResourceHandle handle, uint generation)
    {
        Debug.Assert((generation & 1) == 1, "Live generations are odd.");
        ResourceStatus status = TryGetBlock(handle.RawValue, out _);
        if (status != ResourceStatus.Ok)
        {
            ThrowHelper.ThrowResourceException(status);
        }

        _generations[handle.Index] = generation;
        return new ResourceHandle(HandleLayout.Pack(_tag, handle.Index, generation));
    }

    private static int ChooseBlocksPerSlab(int initialCount, int maxCount, int blockSize)
    {
        // Enough blocks per slab to make the native allocation worthwhile (about 64 KiB or 64 blocks),
        // the initial count in one slab where that is reasonable, never more than the pool can hold.
        int target = Math.Max(initialCount, Math.Max(64, 64 * 1024 / blockSize));
        target = Math.Min(target, Math.Min(maxCount, 64 * 1024));
        return (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, target));
    }

    /// <summary>The address of block <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* BlockAddress(int index)
    {
        // SAFETY: callers pass index < _bumpIndex <= _totalBlocks; every block below _totalBlocks lies in a slab whose
        // address was stored before _totalBlocks grew past it, so index >> _slabShift < _slabCount <= _slabs.Length.
        Debug.Assert((uint)index < (uint)Volatile.Read(ref _totalBlocks), "Block index beyond the allocated slabs.");
        Debug.Assert((index >> _slabShift) < _slabs.Length, "Slab index out of range.");
        nint slab = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_slabs), index >> _slabShift);
        Debug.Assert(slab != 0, "Slab not allocated.");
        return (byte*)slab + ((nint)(index & _slabMask) * _blockSize);
    }

    /// <summary>Unsynchronised slow path: the free list and the fresh range are empty, or the pool is disposed.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ResourceStatus RentUnsynchronizedSlow(out ResourceHandle handle)
    {
        ThrowIfDisposed();
        ResourceStatus status = TryGrowLocked();
        if (status != ResourceStatus.Ok)
        {
            handle = default;
            return status;
        }

        return TryRent(out handle);
    }

    /// <summary>Thread-safe slow path: refill this thread's cache from the shared list (growing if needed), then rent.</summary>
    private ResourceStatus RentShared(ThreadCache? cache, out ResourceHandle handle)
    {
        Debug.Assert(_lock != null, "Shared path of a thread-safe pool.");
        lock (_lock)
        {
            ThrowIfDisposed();
            cache ??= CreateCacheLocked();
            ResourceStatus status = TakeSharedLocked(out int index, grow: true);
            if (status != ResourceStatus.Ok)
            {
                handle = default;
                return status;
            }

            // Move up to half a cache's worth more into the cache so the next rents stay on the fast path.
            if (cache != null)
            {
                int refill = cache.Capacity / 2;
                while (cache.Count < refill && TakeSharedLocked(out int extra, grow: false) == ResourceStatus.Ok)
                {
                    cache.Push(extra);
                }
            }

            uint* generation = _generations + index;
            uint next = *generation + 1;
            Debug.Assert((next & 1) == 1, "A shared free block must be free (even generation).");
            Volatile.Write(ref *generation, next);
            handle = new ResourceHandle(HandleLayout.Pack(_tag, index, next));
        }

        return ResourceStatus.Ok;
    }

    /// <summary>Takes one free block off the shared list (or the fresh range, or a new slab, or an exited thread's
    /// cache) and counts it as outstanding. Its generation stays even (free).</summary>
    private ResourceStatus TakeSharedLocked(out int index, bool grow)
    {
        if (_freeHeadBlock == null && _bumpIndex >= _totalBlocks)
        {
            ResourceStatus status = grow ? TryGrowLocked() : ResourceStatus.PoolExhausted;
            if (status == ResourceStatus.PoolExhausted && grow && _lock != null && ReclaimDeadThreadCachesLocked() > 0)
            {
                status = ResourceStatus.Ok;
            }

            if (status != ResourceStatus.Ok)
            {
                index = EndOfList;
                return status;
            }
        }

        bool taken = TryTakeFree(out index);
        Debug.Assert(taken, "A free or fresh block was made available above.");
        return ResourceStatus.Ok;
    }

    /// <summary>Takes a free block off the shared list, or else carves the next fresh one, and counts it as
    /// outstanding; its generation stays even (free). Unsynchronised pools, or under the lock.</summary>
    /// <returns>False when the list and the fresh range are both empty (nothing changed).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryTakeFree(out int index)
    {
        byte* block = _freeHeadBlock;
        if (block != null)
        {
            // SAFETY: the head is a free block; its first 16 bytes hold the next free block's index and address.
            index = _freeHead;
            _freeHead = *(int*)block;
            _freeHeadBlock = *(byte**)(block + LinkPointerOffset);
        }
        else if (_bumpIndex < _totalBlocks)
        {
            index = _bumpIndex;
            _generations[index] = _baseGeneration;     // first use: even (free), never issued; the next rent is above the base
            Volatile.Write(ref _bumpIndex, index + 1); // publish after the generation is initialised

            // The fresh range is used only when the free list is empty, so only here can the count of blocks in use
            // pass its earlier peak.
            _peak = Math.Max(_peak, _outstanding + 1);
        }
        else
        {
            index = EndOfList;
            return false;
        }

        _outstanding++;
        return true;
    }

    /// <summary>Thread-safe slow path of Return: the thread's cache is full (or absent); spill to the shared list.</summary>
    private void ReturnShared(ThreadCache? cache, int index)
    {
        lock (_lock!)
        {
            ThrowIfDisposed();
            cache ??= CreateCacheLocked();
            if (cache != null && cache.Count < cache.Capacity)
            {
                cache.Push(index);
                return;
            }

            PushShared(index);
            if (cache != null)
            {
                // Keep half the cache so a thread that alternates rent and return stays on the fast path.
                int keep = cache.Capacity / 2;
                while (cache.Count > keep)
                {
                    PushShared(cache.Pop());
                }
            }
        }
    }

    /// <summary>Pushes a free block onto the shared list. Unsynchronised pools, or under the lock.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PushShared(int index)
    {
        // SAFETY: the block is free (its generation is even) and in no cache, so its first 16 bytes are ours for the link.
        byte* block = BlockAddress(index);
        *(int*)block = _freeHead;
        *(byte**)(block + LinkPointerOffset) = _freeHeadBlock;
        _freeHead = index;
        _freeHeadBlock = block;
        _outstanding--;
    }

    /// <summary>Moves the cached blocks of threads that have exited back to the shared list.</summary>
    private int ReclaimDeadThreadCachesLocked()
    {
        int reclaimed = 0;
        for (int i = _caches!.Count - 1; i >= 0; i--)
        {
            ThreadCache cache = _caches[i];
            if (cache.Life.HasExited)
            {
                // SAFETY: the owning thread has exited, so nothing else touches this cache any more.
                while (cache.Count > 0)
                {
                    PushShared(cache.Pop());
                    reclaimed++;
                }

                _caches.RemoveAt(i);
            }
        }

        return reclaimed;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ThreadCache? CurrentCache()
    {
        ThreadCache?[]? caches = t_caches;
        if (caches != null)
        {
            // SAFETY: t_caches always has HandleLayout.MaxTag + 1 entries and 1 <= _tag <= HandleLayout.MaxTag.
            Debug.Assert((uint)_tag < (uint)caches.Length, "Tag beyond the thread cache table.");
            ThreadCache? cache = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(caches), _tag);
            if (cache != null && cache.PoolId == _poolId)
            {
                return cache;
            }
        }

        return null;
    }

    private ThreadCache? CreateCacheLocked()
    {
        if (_cacheSize == 0)
        {
            return null;
        }

        ThreadCache?[] caches = t_caches ??= new ThreadCache?[HandleLayout.MaxTag + 1];
        var cache = new ThreadCache(_poolId, _cacheSize, ThreadLife.Current);
        caches[_tag] = cache; // replaces a cache left by a disposed pool that had the same tag
        _caches!.Add(cache);
        return cache;
    }

    private ResourceStatus TryGrowLocked()
    {
        if (_totalBlocks >= _maxCount)
        {
            return ResourceStatus.PoolExhausted;
        }

        return TryAddSlab() ? ResourceStatus.Ok : ResourceStatus.OutOfMemory;
    }

    private bool TryAddSlab()
    {
        Debug.Assert(_totalBlocks < _maxCount && _slabCount < _slabs.Length, "Growth past MaxCount.");
        nuint bytes = SlabBytes(_slabCount);
        byte* slab = (byte*)_allocator.TryAllocate(bytes, _slabAlignment);
        if (slab == null)
        {
            return false;
        }

        // Blocks stay untouched (uncommitted, on most systems) until first rented.
        _slabs[_slabCount] = (nint)slab;
        int usable = UsableBlocks(_slabCount);
        _slabCount++;
        Volatile.Write(ref _totalBlocks, _totalBlocks + usable); // publish the slab after its address is stored
        return true;
    }

    private int UsableBlocks(int slab) => Math.Min(_blocksPerSlab, _maxCount - (slab << _slabShift));

    private nuint SlabBytes(int slab) => (nuint)UsableBlocks(slab) * (nuint)_blockSize;

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

    /// <summary>Full validation for lookups: a rented block of this pool, or the reason it is not.</summary>
    private ResourceStatus TryGetBlock(ulong raw, out byte* block)
    {
        block = null;
        if (raw == 0)
        {
            return ResourceStatus.InvalidHandle;
        }

        if (!HandleLayout.IsFromIssuer(raw, _tag, _baseGeneration))
        {
            ThrowHelper.ThrowForeignHandle("handle"); // another pool's, or a disposed pool's that had this tag
        }

        int index = HandleLayout.Index(raw);
        uint generation = HandleLayout.Generation(raw);
        if ((generation & 1) == 0
            || (uint)index >= (uint)Volatile.Read(ref _bumpIndex)
            || Volatile.Read(ref _generations[index]) != generation)
        {
            return ResourceStatus.StaleHandle;
        }

        block = BlockAddress(index);
        return ResourceStatus.Ok;
    }

    /// <summary>The slow path of a public <see cref="Return"/> whose tag was not accepted at once: disposed, null,
    /// foreign, or a pool owned by a resource manager (whose resources must be released through it).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ResourceStatus ReturnMismatch(ulong raw)
    {
        ThrowIfDisposed();
        if (raw == 0)
        {
            return ResourceStatus.InvalidHandle;
        }

        if (HandleLayout.Tag(raw) == _tag && _claims != null)
        {
            if (_claims.IsClaimed(raw))
            {
                ThrowHelper.ThrowArgument(
                    "handle", "The handle is a ResourceManager's resource: release it with ResourceManager.Release, not through its pool.");
            }

            return ReturnCore(raw, _acceptedTag, toShared: false); // a block rented around the manager, returned the same way
        }

        ThrowHelper.ThrowForeignHandle("handle");
        return ResourceStatus.InvalidHandle;
    }

    /// <summary>A return whose generation cannot be a rented block's: from a disposed pool with this tag (foreign: throws),
    /// or a stale or forged handle of this pool.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ResourceStatus StaleOrForeign(ulong raw)
    {
        if (HandleLayout.Generation(raw) <= _baseGeneration)
        {
            ThrowHelper.ThrowForeignHandle("handle");
        }

        return ResourceStatus.StaleHandle;
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

    /// <summary>One thread's stash of free blocks for one pool. Only its thread touches <see cref="Count"/> and the
    /// items, except a reclaimer under the pool lock once that thread has exited.</summary>
    private sealed class ThreadCache
    {
        public readonly long PoolId;   // The owning pool's _poolId (not a reference: a thread must not keep a pool alive).
        public readonly int Capacity;  // 1..PoolConfig.MaxThreadCacheSize.
        public readonly ThreadLife Life; // The owning thread's life (not its Thread: see ThreadLife).
        public int Count;              // Items [0, Count) are free block indices.
        private Items _items;          // PERF: inline, so a push or pop touches only this object.

        public ThreadCache(long poolId, int capacity, ThreadLife life)
        {
            Debug.Assert(capacity is > 0 and <= PoolConfig.MaxThreadCacheSize, "Cache capacity out of range.");
            PoolId = poolId;
            Capacity = capacity;
            Life = life;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Pop()
        {
            // SAFETY: callers check Count > 0, so Count - 1 is within the inline array.
            Debug.Assert(Count > 0, "Pop from an empty cache.");
            return Unsafe.Add(ref Unsafe.As<Items, int>(ref _items), --Count);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Push(int index)
        {
            // SAFETY: callers check Count < Capacity <= MaxThreadCacheSize, the inline array's length.
            Debug.Assert(Count < Capacity, "Push to a full cache.");
            Unsafe.Add(ref Unsafe.As<Items, int>(ref _items), Count++) = index;
        }

        [InlineArray(PoolConfig.MaxThreadCacheSize)]
        private struct Items
        {
            private int _element0;
        }
    }
}
