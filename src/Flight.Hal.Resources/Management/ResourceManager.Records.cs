using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Flight.Hal.Resources;

/// <summary>The manager's records: registry entries, share bodies, pooled-block records, regions.</summary>
public sealed partial class ResourceManager
{
    private const byte PlacementPool = 1;    // Memory is a pool block's handle.
    private const byte PlacementRegion = 2;  // Memory is an arena handle or a host address; region index in bits 4-7.
    private const byte PlacementShared = 3;  // Memory is the handle of a ShareBody, which holds the real placement.

    private static byte RegionPlacement(int regionIndex) => (byte)(PlacementRegion | (regionIndex << 4));

    private static int KindOf(byte placement) => placement & 0xF;

    private static int RegionIndexOf(byte placement) => placement >> 4;

    private static byte PackMeta(ResourceType type, ResourcePriority priority, AccessPattern access) =>
        (byte)((int)type | ((int)priority << 3) | ((int)access << 5));

    /// <summary>Frees the memory behind a placement (not the budget); <paramref name="size"/> is the resource's size.</summary>
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
            _regions[index].Free(memory);
            Interlocked.Add(ref _regionBytes[index], -size);
        }
    }

    /// <summary>The address behind a placement.</summary>
    private nint AddressOf(byte placement, ulong memory) =>
        KindOf(placement) == PlacementPool
            ? _poolByTag[HandleLayout.Tag(memory)]!.Pool.AddressOfRented(memory)
            : _regions[RegionIndexOf(placement)].Resolve(memory);

    /// <summary>The wait-for key of the region a placement is in (pools live in main memory).</summary>
    private int RegionKeyOf(byte placement) =>
        KindOf(placement) == PlacementPool ? _main.Key : _regions[RegionIndexOf(placement)].Key;

    /// <summary>Resolves a Shared entry to its body's placement. Caller holds <see cref="_lock"/>.</summary>
    private void Underlying(in Entry e, out byte placement, out ulong memory, out int shareCount)
    {
        if (e.Kind != PlacementShared)
        {
            placement = e.Placement;
            memory = e.Memory;
            shareCount = 1;
            return;
        }

        ref ShareBody body = ref _bodies.GetValueRefOrNullRef(Handle<ShareBody>.FromRawValue(e.Memory));
        Debug.Assert(!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref body), "A live shared entry has a live body.");
        placement = body.Placement;
        memory = body.Memory;
        shareCount = body.RefCount;
    }

    private string PlacementName(in Entry e)
    {
        Underlying(in e, out byte placement, out ulong memory, out _);
        return KindOf(placement) == PlacementPool
            ? _poolByTag[HandleLayout.Tag(memory)]!.Placement
            : _regions[RegionIndexOf(placement)].Spec.Name;
    }

    /// <summary>A registry entry: 24 bytes, 32 with the table's key.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private struct Entry
    {
        public ulong Memory;       // Pool: the block's handle. Region: arena handle or host address. Shared: the body's handle.
        public ulong SizeAndFlags; // Size in bits 0-47, flags in bits 48-63.
        public int NameId;         // 0: unnamed; else an id of the manager's name table, holding one reference.
        public ushort Owner;       // 0: none.
        public byte Meta;          // Type in bits 0-2, priority in 3-4, access pattern in 5-7.
        public byte Placement;     // Kind in bits 0-3, region index in 4-7.

        public readonly long Size => (long)(SizeAndFlags & MaxResourceSize);

        public readonly ResourceFlags Flags => (ResourceFlags)(SizeAndFlags >> 48);

        public readonly ResourceType Type => (ResourceType)(Meta & 7);

        public readonly ResourcePriority Priority => (ResourcePriority)((Meta >> 3) & 3);

        public readonly AccessPattern Access => (AccessPattern)(Meta >> 5);

        public readonly int Kind => Placement & 0xF;

        public static Entry Create(in ResourceMetadata md, int nameId, int owner, byte placement, ulong memory) => new()
        {
            Memory = memory,
            SizeAndFlags = (ulong)md.Size | ((ulong)(ushort)md.Flags << 48),
            NameId = nameId,
            Owner = (ushort)owner,
            Meta = PackMeta(md.Type, md.Priority, md.AccessPattern),
            Placement = placement,
        };
    }

    /// <summary>What every owner of a shared resource points at: the memory and how many handles still refer to it.</summary>
    private struct ShareBody
    {
        public ulong Memory;
        public int RefCount;     // Handles to the memory.
        public int OwnedHandles; // Of them, handles with an owner: while above 0 the memory's bytes are named in the graph.
        public byte Placement;   // PlacementPool or a region placement.
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
        public byte Meta;                 // As Entry.Meta.
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

    /// <summary>One memory region of the profile: an arena over a fixed block, or the host heap.</summary>
    private sealed class Region : IDisposable
    {
        public readonly MemoryRegion Spec;
        public readonly int Index;
        public readonly int Key;
        public readonly Arena? Arena;
        public readonly HostHeap? Host;
        public readonly long Usable;

        public Region(MemoryRegion spec, int index, int key, NativeAllocator allocator)
        {
            Spec = spec;
            Index = index;
            Key = key;
            Usable = spec.Size - spec.ReservedStart;
            if (spec.Backing == RegionBacking.Arena)
            {
                Arena = new Arena(spec.ToArenaConfig(threadSafe: true), allocator);
            }
            else
            {
                Host = new HostHeap(Usable, spec.MinAlignment, allocator); // the reserved start is not the program's
            }
        }

        public long Used => Arena != null ? Arena.GetStats().UsedBytes : Host!.Used;

        public ResourceStatus TryAllocate(long size, int alignment, out ulong memory)
        {
            ResourceStatus status;
            if (Arena != null)
            {
                status = Arena.TryAllocate(size, alignment, out ResourceHandle handle);
                memory = handle.RawValue;
            }
            else
            {
                status = Host!.TryAllocate(size, alignment, out nint address);
                memory = (ulong)address;
            }

            return status;
        }

        public void Free(ulong memory)
        {
            if (Arena != null)
            {
                ResourceStatus status = Arena.Free(ResourceHandle.FromRawValue(memory));
                Debug.Assert(status == ResourceStatus.Ok, "A region allocation is freed exactly once.");
            }
            else
            {
                Host!.Free((nint)memory);
            }
        }

        public nint Resolve(ulong memory)
        {
            if (Arena == null)
            {
                return (nint)memory;
            }

            Arena.TryResolve(ResourceHandle.FromRawValue(memory), out nint address, out _);
            return address;
        }

        public RegionStats GetStats()
        {
            if (Arena != null)
            {
                ArenaStats a = Arena.GetStats();
                return new RegionStats(
                    Spec.Name, Spec.Kind, Spec.Backing, a.Capacity, a.ReservedBytes, a.UsedBytes, a.PeakUsedBytes,
                    a.LargestFreeBlock, a.Fragmentation, a.AllocationCount, a.FailedAllocations);
            }

            long used = Host!.Used;
            return new RegionStats(
                Spec.Name, Spec.Kind, Spec.Backing, Spec.Size, Spec.ReservedStart, used, Host.Peak,
                Spec.Size - Spec.ReservedStart - used, 0, Host.LiveCount, Host.Failures);
        }

        public void Dispose()
        {
            Arena?.Dispose();
            Host?.Dispose();
        }
    }
}
