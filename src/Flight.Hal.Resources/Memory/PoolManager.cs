using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

/// <summary>A set of <see cref="SlabPool"/>s keyed by (<see cref="ResourceType"/>, block size), routing each request
/// to the smallest pool that fits in O(1).</summary>
/// <remarks>
/// <para><b>Routing.</b> For each resource type the manager keeps the pools sorted by block size and a direct
/// table from size class to the first candidate pool, so <see cref="FindPool"/> is a table read plus, at most, a
/// step past pools whose alignment is too small. A request that no pool fits, or whose pool is full, is the
/// caller's to send elsewhere (the manager's arena).</para>
/// <para><b>Handles.</b> A block's handle carries its pool's tag, so <see cref="Return"/> and
/// <see cref="TryGetSpan"/> find the pool without searching.</para>
/// <para><b>Threads.</b> <see cref="CreatePool"/> may run concurrently with everything else (readers see an
/// immutable snapshot). Renting and returning are as thread-safe as the pool they reach: pools created with
/// <see cref="PoolConfig.ThreadSafe"/> may be used by many threads at once, others by one thread at a time.
/// <see cref="Dispose"/> must not race with other members.</para>
/// </remarks>
public sealed class PoolManager : IDisposable
{
    /// <summary>The route table has at most this many entries per type (size classes of equal width).</summary>
    private const int MaxRouteEntries = 4096;

    private readonly object _lock = new();           // Serialises CreatePool and Dispose.
    private readonly NativeAllocator _allocator;
    private readonly SlabPool?[] _byTag = new SlabPool?[HandleLayout.MaxTag + 1]; // tag -> pool, for routing returns
    private Router?[] _routers = new Router?[ResourceTypes.Count]; // Immutable snapshot per type; replaced on CreatePool.
    private SlabPool[] _pools = [];                      // Immutable snapshot, in creation order.
    private bool _disposed;
    private bool _ownedByManager;                        // A resource manager's pools: only the manager disposes them.

    /// <summary>Creates an empty manager.</summary>
    /// <param name="allocator">Where the pools' slabs come from; <see cref="NativeAllocator.Default"/> when null.</param>
    public PoolManager(NativeAllocator? allocator = null)
    {
        _allocator = allocator ?? NativeAllocator.Default;
    }

    /// <summary>Creates a manager with one pool per configuration.</summary>
    /// <param name="configs">The pools to create.</param>
    /// <param name="allocator">Where the pools' slabs come from; <see cref="NativeAllocator.Default"/> when null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="configs"/> is null.</exception>
    /// <exception cref="ArgumentException">A configuration is invalid or two share a key; pools already created are disposed.</exception>
    /// <exception cref="OutOfMemoryException">A pool's initial slabs could not be allocated; pools already created are disposed.</exception>
    public PoolManager(IEnumerable<PoolConfig> configs, NativeAllocator? allocator = null)
        : this(allocator)
    {
        ArgumentNullException.ThrowIfNull(configs);
        try
        {
            foreach (PoolConfig config in configs)
            {
                CreatePool(config);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Every pool, in creation order.</summary>
    public IReadOnlyList<SlabPool> Pools => Volatile.Read(ref _pools);

    /// <summary>Creates a pool and makes it routable.</summary>
    /// <param name="config">The pool's shape.</param>
    /// <returns>The new pool, owned by the manager (disposed with it).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="config"/> is null.</exception>
    /// <exception cref="ArgumentException">A pool with the same type and effective block size exists, or the
    /// configuration is invalid.</exception>
    /// <exception cref="OutOfMemoryException">The pool's initial slabs could not be allocated.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public SlabPool CreatePool(PoolConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            foreach (SlabPool existing in _pools)
            {
                if (existing.Type == config.Type && existing.BlockSize == config.EffectiveBlockSize)
                {
                    throw new ArgumentException(
                        $"A {config.Type} pool with {existing.BlockSize}-byte blocks exists already.", nameof(config));
                }
            }

            var pool = new SlabPool(config, _allocator);
            _byTag[pool.Tag] = pool;
            SlabPool[] pools = [.. _pools, pool];
            Router?[] routers = (Router?[])_routers.Clone();
            routers[(int)config.Type] = Router.Build(pools.Where(p => p.Type == config.Type));
            Volatile.Write(ref _routers, routers);
            Volatile.Write(ref _pools, pools);
            return pool;
        }
    }

    /// <summary>Finds the pool created for exactly this type and block size.</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="blockSize">The configured or the effective (rounded) block size.</param>
    /// <returns>The pool, or <see langword="null"/>.</returns>
    public SlabPool? GetPool(ResourceType type, int blockSize)
    {
        foreach (SlabPool pool in Volatile.Read(ref _pools))
        {
            if (pool.Type == type && (pool.BlockSize == blockSize || pool.Config.BlockSize == blockSize))
            {
                return pool;
            }
        }

        return null;
    }

    /// <summary>Reads the statistics of the pool keyed by (<paramref name="type"/>, <paramref name="blockSize"/>).</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="blockSize">The configured or the effective (rounded) block size.</param>
    /// <param name="stats">On <see cref="ResourceStatus.Ok"/>, the pool's statistics.</param>
    /// <returns><see cref="ResourceStatus.Ok"/> or <see cref="ResourceStatus.NotFound"/>.</returns>
    public ResourceStatus TryGetPoolStats(ResourceType type, int blockSize, out PoolStats stats)
    {
        SlabPool? pool = GetPool(type, blockSize);
        stats = pool?.GetStats() ?? default;
        return pool == null ? ResourceStatus.NotFound : ResourceStatus.Ok;
    }

    /// <summary>Reads the statistics of the pool keyed by (<paramref name="type"/>, <paramref name="blockSize"/>).</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="blockSize">The configured or the effective (rounded) block size.</param>
    /// <returns>The pool's statistics.</returns>
    /// <exception cref="ResourceException">No such pool (<see cref="ResourceStatus.NotFound"/>).</exception>
    public PoolStats GetPoolStats(ResourceType type, int blockSize)
    {
        if (TryGetPoolStats(type, blockSize, out PoolStats stats) != ResourceStatus.Ok)
        {
            throw new ResourceException(ResourceStatus.NotFound, $"No {type} pool with {blockSize}-byte blocks.");
        }

        return stats;
    }

    /// <summary>Finds the smallest pool of <paramref name="type"/> whose blocks hold <paramref name="size"/> bytes at
    /// <paramref name="alignment"/>.</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="size">Bytes needed, at least 1.</param>
    /// <param name="alignment">Alignment needed, a power of two (1 when any will do).</param>
    /// <returns>The pool, or <see langword="null"/> when none fits.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is unknown or <paramref name="size"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="alignment"/> is not a power of two.</exception>
    /// <remarks>O(1): a table read, then a step past any smaller-aligned pools; allocates nothing.</remarks>
    public SlabPool? FindPool(ResourceType type, int size, int alignment = 1)
    {
        if (!ResourceTypes.IsDefined(type))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(type), type, "Unknown resource type.");
        }

        if (size <= 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(size), size, "Size must be positive.");
        }

        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
        {
            ThrowHelper.ThrowArgument(nameof(alignment), $"Alignment {alignment} is not a power of two.");
        }

        Router? router = Volatile.Read(ref _routers)[(int)type];
        return router?.Find(size, alignment);
    }

    /// <summary><see cref="FindPool"/> for arguments the caller has validated (a defined type, a positive size, a
    /// power-of-two alignment).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal SlabPool? FindPoolUnchecked(ResourceType type, int size, int alignment) =>
        Volatile.Read(ref _routers)[(int)type]?.Find(size, alignment);

    /// <summary>Rents a block from the smallest pool that fits.</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="size">Bytes needed, at least 1.</param>
    /// <param name="alignment">Alignment needed, a power of two (1 when any will do).</param>
    /// <param name="handle">On <see cref="ResourceStatus.Ok"/>, the block's handle; otherwise <see langword="default"/>.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>; <see cref="ResourceStatus.NotFound"/> when no pool fits;
    /// <see cref="ResourceStatus.PoolExhausted"/> or <see cref="ResourceStatus.OutOfMemory"/> from the pool.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is unknown or <paramref name="size"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="alignment"/> is not a power of two.</exception>
    /// <remarks>A full pool does not spill into a larger one: blocks of the right size are what the plan budgets.</remarks>
    public ResourceStatus TryRent(ResourceType type, int size, int alignment, out ResourceHandle handle)
    {
        SlabPool? pool = FindPool(type, size, alignment);
        if (pool == null)
        {
            handle = default;
            return ResourceStatus.NotFound;
        }

        return pool.TryRent(out handle);
    }

    /// <summary>Rents a block from the smallest pool that fits, throwing if none can be had.</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="size">Bytes needed, at least 1.</param>
    /// <param name="alignment">Alignment needed, a power of two (1 when any will do).</param>
    /// <returns>The block's handle.</returns>
    /// <exception cref="ResourceException">No block could be rented; <see cref="ResourceException.Status"/> says why, as
    /// <see cref="TryRent"/> would have returned it.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is unknown or <paramref name="size"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="alignment"/> is not a power of two.</exception>
    public ResourceHandle Rent(ResourceType type, int size, int alignment)
    {
        ThrowHelper.ThrowIfFailed(TryRent(type, size, alignment, out ResourceHandle handle));
        return handle;
    }

    /// <summary>Returns a block to the pool that issued it.</summary>
    /// <param name="handle">A handle from <see cref="TryRent"/>.</param>
    /// <returns>As <see cref="SlabPool.Return"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was not issued by one of this manager's pools.</exception>
    public ResourceStatus Return(ResourceHandle handle)
    {
        if (handle.IsNull)
        {
            return ResourceStatus.InvalidHandle;
        }

        return PoolOf(handle).Return(handle);
    }

    /// <summary>Resolves a block handle to its memory.</summary>
    /// <param name="handle">A handle from <see cref="TryRent"/>.</param>
    /// <param name="span">On <see cref="ResourceStatus.Ok"/>, the whole block.</param>
    /// <returns>As <see cref="SlabPool.TryGetSpan"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was not issued by one of this manager's pools.</exception>
    public ResourceStatus TryGetSpan(ResourceHandle handle, out Span<byte> span)
    {
        if (handle.IsNull)
        {
            span = default;
            return ResourceStatus.InvalidHandle;
        }

        return PoolOf(handle).TryGetSpan(handle, out span);
    }

    /// <summary>Resolves a block handle to its memory, throwing if it is not rented.</summary>
    /// <param name="handle">A handle from <see cref="TryRent"/>.</param>
    /// <returns>The whole block.</returns>
    /// <exception cref="ResourceException">The handle is stale or null; <see cref="ResourceException.Status"/> says which.</exception>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was not issued by one of this manager's pools.</exception>
    public Span<byte> GetSpan(ResourceHandle handle)
    {
        ThrowHelper.ThrowIfFailed(TryGetSpan(handle, out Span<byte> span));
        return span;
    }

    /// <summary>The pool that issued <paramref name="handle"/>, or <see langword="null"/> if none of this manager's did.</summary>
    /// <param name="handle">Any handle.</param>
    /// <returns>The issuing pool, or <see langword="null"/>.</returns>
    public SlabPool? FindPoolOf(ResourceHandle handle)
    {
        SlabPool? pool = _byTag[handle.Tag];
        return pool != null && !pool.IsDisposed ? pool : null;
    }

    /// <summary>Disposes every pool. Idempotent.</summary>
    /// <remarks>The pools of a <c>ResourceManager</c> (its <c>Pools</c>) are disposed by the manager: calling this on them
    /// does nothing.</remarks>
    public void Dispose()
    {
        if (!_ownedByManager)
        {
            DisposeByOwner();
        }
    }

    /// <summary>Marks these pools as a resource manager's: public <see cref="Dispose"/> then does nothing.</summary>
    internal void MarkOwnedByManager() => _ownedByManager = true;

    /// <summary>Disposes every pool for the owner. Idempotent.</summary>
    internal void DisposeByOwner()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (SlabPool pool in _pools)
            {
                _byTag[pool.Tag] = null;
                pool.DisposeByOwner();
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private SlabPool PoolOf(ResourceHandle handle)
    {
        SlabPool? pool = FindPoolOf(handle);
        if (pool == null)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ThrowHelper.ThrowForeignHandle(nameof(handle));
        }

        return pool;
    }

    /// <summary>Size routing for one resource type: pools sorted by (block size, alignment) and a table from size
    /// class to the first pool whose blocks are at least the smallest size of that class.</summary>
    private sealed class Router
    {
        private readonly SlabPool[] _pools;   // Sorted by BlockSize, then Alignment.
        private readonly ushort[] _firstFit;  // _firstFit[k]: first pool with BlockSize >= (k << _shift) + 1.
        private readonly int _shift;          // Size class width is 1 << _shift bytes.
        private readonly int _maxBlockSize;   // Largest block; bigger requests fit no pool.

        private Router(SlabPool[] pools, ushort[] firstFit, int shift)
        {
            _pools = pools;
            _firstFit = firstFit;
            _shift = shift;
            _maxBlockSize = pools[^1].BlockSize;
        }

        public static Router? Build(IEnumerable<SlabPool> candidates)
        {
            SlabPool[] pools = candidates.OrderBy(p => p.BlockSize).ThenBy(p => p.Alignment).ToArray();
            if (pools.Length == 0)
            {
                return null;
            }

            int maxBlock = pools[^1].BlockSize;
            // Classes 8 bytes wide (every block size is a multiple of 8) unless that would need more than
            // MaxRouteEntries entries; then wider classes, with Find stepping past a too-small first candidate.
            int shift = Math.Max(3, BitOperations.Log2((uint)maxBlock - 1) + 1 - BitOperations.Log2(MaxRouteEntries));
            int entries = ((maxBlock - 1) >> shift) + 1;
            var firstFit = new ushort[entries];
            int next = 0;
            for (int k = 0; k < entries; k++)
            {
                long smallest = ((long)k << shift) + 1;
                while (next < pools.Length && pools[next].BlockSize < smallest)
                {
                    next++;
                }

                firstFit[k] = (ushort)next;
            }

            return new Router(pools, firstFit, shift);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public SlabPool? Find(int size, int alignment)
        {
            if (size > _maxBlockSize)
            {
                return null;
            }

            Debug.Assert(size > 0, "Validated by the caller.");
            SlabPool[] pools = _pools;
            for (int i = _firstFit[(size - 1) >> _shift]; i < pools.Length; i++)
            {
                SlabPool pool = pools[i];
                if (pool.BlockSize >= size && pool.Alignment >= alignment)
                {
                    return pool;
                }
            }

            return null;
        }
    }
}
