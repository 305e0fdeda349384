using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

// The pooled mechanism: an anonymous, non-shareable resource in main memory is a pool block whose handle is
// the resource's own, with a 12-byte record beside the block; acquired (from the thread's cache), released, resolved
// and described without a lock. Pool blocks that back registry entries carry a record too, marked registered.
public sealed partial class ResourceManager
{
    private readonly PoolManager _pools;
    private readonly PoolBinding[] _bindings;
    private readonly PoolBinding?[] _poolByTag = new PoolBinding?[HandleLayout.MaxTag + 1]; // Every tag is in range.

    /// <summary>The hot path: an anonymous, non-shareable, main-memory request that a pool serves, lock-free. With this
    /// thread's budget lease holding the bytes, no atomic instruction for the budget, and the block may come from the
    /// thread's cache or the pool's shared list; otherwise only from the cache, with one compare-and-swap on the budget
    /// whose hold lasts the few instructions of a cache pop (longer work goes to the general path, whose holds are
    /// accounted as held and so never seen by other threads' peak or pressure). On <see langword="false"/> nothing was
    /// held or counted.</summary>
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
        if (binding == null)
        {
            return false;
        }

        ThreadLocals locals = ThreadIndex.Locals; // one thread-static read for the pool's cache and the budget's lease
        bool cached = binding.Pool.HasCachedBlock(locals);

        // From this thread's budget lease when it holds the bytes (no atomic). A lease's usage is never seen by other
        // threads' peak or pressure, so the block may come from the pool's shared list (its lock) as well as from this
        // thread's cache (which cannot fail: only this thread takes from it).
        if (_budgets.TryTakeLease(locals.Index, md.Type, size))
        {
            if (cached)
            {
                handle = IssueAnonymous(binding, binding.Pool.RentCachedUnchecked(locals), in md);
                return true;
            }

            if (binding.Pool.TryRent(out ResourceHandle block) == ResourceStatus.Ok)
            {
                handle = IssueAnonymous(binding, block, in md);
                return true;
            }

            _budgets.UndoTakeLease(md.Type, size); // the pool is full: the general path takes it from here
            return false;
        }

        // Else one compare-and-swap, committed once the block is issued; only for a cached block, so that the hold, not
        // counted as held, lasts the few instructions of a cache pop.
        if (!cached || !_budgets.TryHoldFast(md.Type, size, out long next))
        {
            return false;
        }

        handle = IssueAnonymous(binding, binding.Pool.RentCachedUnchecked(locals), in md);
        _budgets.CommitOrdinary(md.Type, next);
        return true;
    }

    /// <summary>Makes a freshly rented block an anonymous resource: its record says so, and the block's handle is the
    /// resource's. The one place an anonymous pooled resource is issued (the fast path and the general path both end
    /// here; the caller then commits the budget hold).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ResourceHandle IssueAnonymous(PoolBinding binding, ResourceHandle block, in ResourceMetadata md)
    {
        WriteRecord(binding, block, in md, PooledRecord.Anonymous);
        if (_stacks != null)
        {
            CaptureStack(block);
        }

        return block;
    }

    /// <summary>Fills the record beside a freshly rented block; the state is written last.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteRecord(PoolBinding binding, ResourceHandle block, in ResourceMetadata md, byte state)
    {
        ref PooledRecord record = ref binding.Records[block.Index];
        record.Size = (int)md.Size;
        record.Generation = block.Generation;
        record.Flags = (ushort)md.Flags;
        record.Meta = new PackedMeta(md.Type, md.Priority, md.AccessPattern);
        Volatile.Write(ref record.State, state);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private PoolBinding? FindBinding(ResourceType type, int size, int alignment)
    {
        SlabPool? pool = _pools.FindPoolUnchecked(type, size, Math.Max(alignment, 1));
        return pool == null ? null : _poolByTag[pool.Tag]; // a pool created later through Pools has no binding
    }

    /// <summary>Whether a handle with a pool's tag is a live anonymous pooled resource, with a copy of its record.</summary>
    /// <returns><see cref="ResourceStatus.Ok"/>; <see cref="ResourceStatus.StaleHandle"/> when the block is not rented
    /// under that generation; <see cref="ResourceStatus.InvalidHandle"/> when it is, but not as this handle's anonymous
    /// resource (a registry resource's block, whose handle is never given out, or a block rented around the manager).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ResourceStatus CheckPooled(PoolBinding binding, ulong raw, out PooledRecord record)
    {
        record = default;
        if (!binding.Pool.IsRented(raw))
        {
            return binding.Pool.ClassifyNotRented(raw); // stale if issued once; forged or a disposed issuer's: invalid
        }

        record = binding.Records[HandleLayout.Index(raw)];
        if (record.State == PooledRecord.Anonymous && record.Generation == HandleLayout.Generation(raw))
        {
            return ResourceStatus.Ok;
        }

        // Rewritten meanwhile means released and rented again by another thread: stale after all.
        return binding.Pool.IsRented(raw) ? ResourceStatus.InvalidHandle : ResourceStatus.StaleHandle;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ResourceStatus ReleasePooled(PoolBinding binding, ResourceHandle handle)
    {
        ulong raw = handle.RawValue;
        SlabPool pool = binding.Pool;

        // Read the record before the block goes back: once returned, another thread may rent it and rewrite it.
        ResourceStatus status = CheckPooled(binding, raw, out PooledRecord record);
        if (status != ResourceStatus.Ok)
        {
            return status;
        }

        int size = record.Size;

        // Compare-and-swap: of racing releases exactly one gets Ok. While acquisitions wait, the block goes to the shared
        // list instead of this thread's cache, so a waiter on another thread can have it.
        ThreadLocals locals = ThreadIndex.Locals; // one thread-static read for the pool's cache and the budget's lease
        status = pool.ReturnOwned(handle, toShared: Volatile.Read(ref _waiters) != 0, locals);
        if (status != ResourceStatus.Ok)
        {
            return status;
        }

        _budgets.ReleaseFast(locals.Index, pool.Type, size);
        _stacks?.TryRemove(raw, out _);
        if (_observer != null)
        {
            ObserveReleased(handle); // before waking a waiter, whose acquisition is then heard after this release
        }

        WakeWaiters((int)pool.Type, _main.Key);
        return ResourceStatus.Ok;
    }

    /// <summary>The address and size of a live anonymous pooled resource.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ResourceStatus ResolvePooled(PoolBinding binding, ulong raw, out nint address, out long size)
    {
        ResourceStatus status = CheckPooled(binding, raw, out PooledRecord record);
        address = status == ResourceStatus.Ok ? binding.Pool.AddressOfRentedUnchecked(raw) : 0;
        size = status == ResourceStatus.Ok ? record.Size : 0;
        return status;
    }

    /// <summary>Describes a live anonymous pooled resource: no name, no owner, one handle.</summary>
    private static ResourceStatus DescribePooled(PoolBinding binding, ResourceHandle handle, out ResourceInfo info)
    {
        ResourceStatus status = CheckPooled(binding, handle.RawValue, out PooledRecord record);
        info = status != ResourceStatus.Ok ? default : new ResourceInfo(
            handle, binding.Pool.Type, record.Size, (ResourceFlags)record.Flags, record.Meta.Priority, record.Meta.Access,
            null, ResourceOwner.None, 1, binding.Placement);
        return status;
    }

    /// <summary>The record beside each pool block: 12 bytes.</summary>
    private struct PooledRecord
    {
        public const byte Free = 0;       // Not a manager resource (never used, or rented around the manager).
        public const byte Anonymous = 1;  // An anonymous pooled resource: the block's handle is the resource's handle.
        public const byte Registered = 2; // The memory of a registry entry: its block handle is never given out.

        public int Size;
        public uint Generation;           // The block generation this record was written for.
        public ushort Flags;
        public PackedMeta Meta;
        public byte State;
    }

    /// <summary>A pool the manager routes to, with its per-block records; tells the pool which of its rented blocks are
    /// the manager's resources, so its public Return refuses them.</summary>
    private sealed class PoolBinding(SlabPool pool, NativeAllocator allocator) : IBlockClaims, IDisposable
    {
        public readonly SlabPool Pool = pool;
        public readonly BlockSideTable<PooledRecord> Records = new(pool.MaxCount, allocator);
        public readonly string Placement = $"pool {pool.Type}/{pool.BlockSize}";

        public bool IsClaimed(ulong raw)
        {
            if (!Pool.IsRented(raw))
            {
                return false;
            }

            PooledRecord record = Records[HandleLayout.Index(raw)];
            return record.State != PooledRecord.Free && record.Generation == HandleLayout.Generation(raw);
        }

        public void Dispose() => Records.Dispose();
    }

    /// <summary>Counts the live anonymous pooled resources and, when <paramref name="leaks"/> is given, adds each to it.
    /// O(pool blocks issued); only the manager's own records count (a block rented around the manager through
    /// <see cref="Pools"/> is not its resource).</summary>
    private int CollectLivePooled(List<LeakedResource>? leaks)
    {
        int count = 0;
        foreach (PoolBinding binding in _bindings)
        {
            SlabPool pool = binding.Pool;
            int issued = pool.IssuedCount;
            for (int i = 0; i < issued; i++)
            {
                ResourceHandle handle = pool.RentedHandleAt(i);
                if (handle.IsNull || CheckPooled(binding, handle.RawValue, out PooledRecord record) != ResourceStatus.Ok)
                {
                    continue;
                }

                count++;
                leaks?.Add(new LeakedResource(
                    handle, null, pool.Type, record.Size, ResourceOwner.None.Name, (ResourceFlags)record.Flags, binding.Placement, StackOf(handle)));
            }
        }

        return count;
    }
}
