using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Flight.Hal.Resources;

// The thread-safe mechanism: each thread keeps a small cache of free blocks per pool, so rent and return take no lock
// unless the cache is empty or full; behind the lock, the shared free list refills and drains the caches, and takes
// back the blocks cached by threads that have exited.
public sealed unsafe partial class SlabPool
{
    private static long s_nextPoolId;        // Source of _poolId (first id 1); never reused, unlike tags.

    private readonly object? _lock;          // Guards the shared free list, growth and _caches. Null when unsynchronised.
    private readonly int _cacheSize;         // Thread-safe pools: capacity of each thread's cache; 0 disables caching.
    private readonly List<ThreadCache>? _caches; // Every thread cache of this pool, for stats and reclaiming dead threads'.
    private long _poolId;                    // Identifies this pool's thread caches (tags are reused; ids are not); 0 once disposed.

    /// <summary>Whether this thread's cache of this (thread-safe) pool holds a block: then the next
    /// <see cref="RentCachedUnchecked"/> on this thread succeeds, since no other thread takes from this thread's cache.</summary>
    /// <param name="locals">The calling thread's <see cref="ThreadIndex.Locals"/> (read once by the caller for all it does).</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool HasCachedBlock(ThreadLocals locals)
    {
        ThreadCache? cache = CacheOf(locals);
        return cache != null && cache.Count > 0;
    }

    /// <summary>Rents from this thread's cache only (the lock-free path), after <see cref="HasCachedBlock"/> said there is
    /// a block. The resource manager uses it to keep its lock-free path short: anything slower is done with its budget
    /// hold accounted as held.</summary>
    /// <param name="locals">The calling thread's <see cref="ThreadIndex.Locals"/>.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ResourceHandle RentCachedUnchecked(ThreadLocals locals)
    {
        ThreadCache? cache = CacheOf(locals);
        Debug.Assert(cache != null && cache.Count > 0, "HasCachedBlock said there is one, and only this thread takes from its cache.");
        return IssueRented(cache.Pop(), publish: true);
    }

    /// <summary>The thread-safe half of <see cref="TryRent(out ResourceHandle)"/>: from this thread's cache without a
    /// lock, else through the shared list.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ResourceStatus TryRentSynchronized(out ResourceHandle handle)
    {
        // No disposed check: disposal zeroes _poolId, so CurrentCache finds no cache and RentShared throws.
        ThreadCache? cache = CurrentCache();
        if (cache == null || cache.Count == 0)
        {
            return RentShared(cache, out handle);
        }

        // PERF: the thread-safe fast path. The block is in this thread's cache, so no other thread may change its
        // generation (a stale return's compare-and-swap fails on the even value), and no lock is needed.
        handle = IssueRented(cache.Pop(), publish: true);
        return ResourceStatus.Ok;
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

            handle = IssueRented(index, publish: true);
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

    /// <summary>The thread-safe half of a return whose handle passed the shape check: frees the block (only one of several
    /// racing returns of the same handle wins the compare-and-swap), then caches it, or puts it on the shared list.</summary>
    /// <param name="raw">The handle, to say why when the block is not rented under it.</param>
    /// <param name="index">The block, below _bumpIndex.</param>
    /// <param name="generation">The (odd) generation the handle claims.</param>
    /// <param name="next">The block's free generation: even, or 0 to retire it at the wrap point.</param>
    /// <param name="toShared">Put the block on the shared list, not in this thread's cache (ReturnOwned's choice while
    /// acquisitions wait).</param>
    /// <param name="locals">The calling thread's <see cref="ThreadIndex.Locals"/> when the caller has read them; else null.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ResourceStatus ReturnSynchronized(ulong raw, int index, uint generation, uint next, bool toShared, ThreadLocals? locals)
    {
        // SAFETY: index < _bumpIndex <= _maxCount, and generations [0, _bumpIndex) are initialised.
        // Only one of several racing returns of the same handle may win.
        if (Interlocked.CompareExchange(ref _generations[index], next, generation) != generation)
        {
            return NotRented(raw); // stale (returned already, perhaps by a racing thread), or a disposed pool's: throws
        }

        if (next == 0)
        {
            lock (_lock!)
            {
                _outstanding--;
                _retired++;
            }

            return ResourceStatus.Ok;
        }

        ThreadCache? cache = CacheOf(locals ?? ThreadIndex.LocalsOrNull);
        if (cache != null && cache.Count < cache.Capacity && !toShared)
        {
            cache.Push(index); // PERF: the lock-free fast path.
            return ResourceStatus.Ok;
        }

        if (toShared)
        {
            lock (_lock!)
            {
                ThrowIfDisposed();
                PushShared(index);
            }

            return ResourceStatus.Ok;
        }

        ReturnShared(cache, index);
        return ResourceStatus.Ok;
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

    /// <summary>Blocks in every thread's cache, for stats: exact whenever no thread is renting or returning.</summary>
    private int CountCachedLocked()
    {
        int cached = 0;
        foreach (ThreadCache cache in _caches!)
        {
            cached += Volatile.Read(ref cache.Count);
        }

        return cached;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ThreadCache? CurrentCache() => CacheOf(ThreadIndex.LocalsOrNull);

    /// <summary>The cache of this pool among a thread's state, or null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ThreadCache? CacheOf(ThreadLocals? locals)
    {
        // A thread's caches, indexed by pool tag, kept with its ThreadIndex (one thread-static for both).
        object?[]? caches = locals?.PoolCaches;
        if (caches != null)
        {
            // SAFETY: PoolCaches always has HandleLayout.MaxTag + 1 entries, 1 <= _tag <= HandleLayout.MaxTag, and every
            // item is a ThreadCache or null (only CreateCacheLocked stores into it).
            Debug.Assert((uint)_tag < (uint)caches.Length, "Tag beyond the thread cache table.");
            ThreadCache? cache = Unsafe.As<ThreadCache?>(Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(caches), _tag));
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

        ThreadLocals locals = ThreadIndex.Locals;
        object?[] caches = locals.PoolCaches ??= new object?[HandleLayout.MaxTag + 1];
        var cache = new ThreadCache(_poolId, _cacheSize, ThreadLife.Current);
        caches[_tag] = cache; // replaces a cache left by a disposed pool that had the same tag
        _caches!.Add(cache);
        return cache;
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
