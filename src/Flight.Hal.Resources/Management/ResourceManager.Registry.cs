using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Flight.Hal.Resources;

// The registry: every resource that is not anonymous and pooled (named, owned, shareable, or in a region) has
// an entry, under one short lock (_lock); with it the names, sharing, and what each owner holds.
public sealed partial class ResourceManager
{
    private readonly object _lock = new();   // The registry lock: guards the fields below, the owners and the graph.
    private readonly HandleTable<Entry> _registry;
    private readonly HandleTable<ShareBody> _bodies;
    private readonly int _registryTag;
    private readonly uint _registryBase;     // The registry's base generation: older handles with its tag are foreign.
    private readonly NameTable<ResourceHandle> _names;   // Resource names; the value is the latest live handle with the name.
    private int _registeredPoolBlocks;       // Pool blocks whose resource is in the registry (for the wait-for graph).
    private long _registeredPoolBytes;       // Their sizes: main-memory usage the wait-for graph sees besides regions.

    /// <summary>Creates the registry entry (and a share body for a shareable resource) for memory already held, interning
    /// its name.</summary>
    private ResourceStatus Register(ref Request r, byte placement, ulong memory, out ResourceHandle handle)
    {
        lock (_lock)
        {
            // A named registration changes the name table: lock-free finds by name wait it out (see NameTable).
            bool named = !r.Name.IsEmpty;
            if (named)
            {
                _names.BeginWrite();
            }

            try
            {
                return RegisterLocked(ref r, placement, memory, out handle);
            }
            finally
            {
                if (named)
                {
                    _names.EndWrite();
                }
            }
        }
    }

    /// <summary><see cref="Register"/>'s work; the caller holds <see cref="_lock"/> and, for a named request, has begun
    /// a write of the name table.</summary>
    private ResourceStatus RegisterLocked(ref Request r, byte placement, ulong memory, out ResourceHandle handle)
    {
        handle = default;
        Entry entry = Entry.Create(in r.Metadata, nameId: 0, r.Owner, placement, memory);
        Handle<ShareBody> body = default;
        if ((r.Metadata.Flags & ResourceFlags.Shareable) != 0)
        {
            var shared = new ShareBody { Memory = memory, RefCount = 1, OwnedHandles = r.Owner != 0 ? 1 : 0, Placement = placement };
            ResourceStatus added = _bodies.TryAllocate(shared, out body);
            if (added != ResourceStatus.Ok)
            {
                return added; // CapacityExceeded, or OutOfMemory for the table's next page
            }

            entry.Memory = body.RawValue;
            entry.Placement = PlacementShared;
        }

        if (!r.Name.IsEmpty)
        {
            entry.NameId = _names.AddRef(r.Name, r.NameText);
        }

        ResourceStatus status = _registry.TryAllocate(in entry, out Handle<Entry> registered);
        if (status != ResourceStatus.Ok)
        {
            if (entry.NameId != 0)
            {
                _names.Release(entry.NameId);
            }

            if (!body.IsNull)
            {
                _bodies.Free(body);
            }

            return status;
        }

        handle = (ResourceHandle)registered;
        if (KindOf(placement) == PlacementPool)
        {
            _registeredPoolBlocks++;
            _registeredPoolBytes += entry.Size;
        }

        AddHoldingsLocked(in entry, placement, handle, firstOwnedHandle: r.Owner != 0);
        return ResourceStatus.Ok;
    }

    /// <summary>Owner holdings (for deadlock detection) and the name's latest handle, for a new registry handle.</summary>
    /// <param name="entry">The new handle's entry.</param>
    /// <param name="placement">Where its memory is.</param>
    /// <param name="handle">The new handle.</param>
    /// <param name="firstOwnedHandle">Whether this is the memory's first handle with an owner: its bytes become named.</param>
    private void AddHoldingsLocked(in Entry entry, byte placement, ResourceHandle handle, bool firstOwnedHandle)
    {
        if (entry.Owner != 0)
        {
            _graph.AddHolding(entry.Owner, (int)entry.Type, entry.Size, countNamed: firstOwnedHandle);
            _graph.AddHolding(entry.Owner, RegionKeyOf(placement), entry.Size, countNamed: firstOwnedHandle);
        }

        if (entry.NameId != 0)
        {
            _names.ValueOf(entry.NameId) = handle;
        }
    }

    /// <summary>Undoes <see cref="AddHoldingsLocked"/> and drops the name reference of a registry handle being released.</summary>
    private void RemoveHoldingsLocked(in Entry entry, byte placement, ResourceHandle handle, bool lastOwnedHandle)
    {
        if (entry.Owner != 0)
        {
            _graph.RemoveHolding(entry.Owner, (int)entry.Type, entry.Size, countNamed: lastOwnedHandle);
            _graph.RemoveHolding(entry.Owner, RegionKeyOf(placement), entry.Size, countNamed: lastOwnedHandle);
        }

        if (entry.NameId != 0)
        {
            _names.BeginWrite();
            ref ResourceHandle latest = ref _names.ValueOf(entry.NameId);
            if (latest == handle)
            {
                latest = default; // found again by a scan on the next lookup
            }

            _names.Release(entry.NameId);
            _names.EndWrite();
        }
    }

    private ResourceStatus ReleaseRegistered(ResourceHandle handle, int requiredOwner)
    {
        Entry entry;
        byte placement;
        ulong memory;
        lock (_lock)
        {
            ref Entry slot = ref EntryOrNullRef(handle.RawValue);
            if (Unsafe.IsNullRef(ref slot))
            {
                return NotLive(handle.RawValue);
            }

            if (requiredOwner >= 0 && slot.Owner != requiredOwner)
            {
                return ResourceStatus.SharingFailure;
            }

            entry = slot;
            Underlying(in entry, out placement, out memory, out _);
            _registry.Free(Handle<Entry>.FromRawValue(handle.RawValue));
            if (entry.Kind == PlacementShared)
            {
                var bodyHandle = Handle<ShareBody>.FromRawValue(entry.Memory);
                ref ShareBody body = ref _bodies.GetValueRefOrNullRef(bodyHandle);
                bool lastOwned = entry.Owner != 0 && --body.OwnedHandles == 0;
                RemoveHoldingsLocked(in entry, placement, handle, lastOwned);
                if (--body.RefCount > 0)
                {
                    _stacks?.TryRemove(handle.RawValue, out _);
                    if (_observer != null)
                    {
                        ObserveReleased(handle); // under the lock: before any later share of the same memory is heard
                    }

                    return ResourceStatus.Ok; // other owners still hold it
                }

                Debug.Assert(body.OwnedHandles == 0, "The last handle of shared memory was its last owned one.");
                _bodies.Free(bodyHandle);
            }
            else
            {
                RemoveHoldingsLocked(in entry, placement, handle, lastOwnedHandle: entry.Owner != 0);
            }

            if (KindOf(placement) == PlacementPool)
            {
                _registeredPoolBlocks--;
                _registeredPoolBytes -= entry.Size;
            }
        }

        if (_safety == null || !FreeGuarded(placement, memory))
        {
            FreeMemory(placement, memory, entry.Size);
        }

        _budgets.ReleaseUnleased(entry.Type, entry.Size);
        _stacks?.TryRemove(handle.RawValue, out _);
        if (_observer != null)
        {
            ObserveReleased(handle); // before waking a waiter, whose acquisition is then heard after this release
        }

        WakeWaiters((int)entry.Type, RegionKeyOf(placement));

        if (_safety != null)
        {
            ThrowIfCorruptionFound(default); // strict: the release is complete
        }

        return ResourceStatus.Ok;
    }

    /// <summary>Gives <paramref name="owner"/> its own handle to a shareable resource; the memory lives until every
    /// owner's handle is released.</summary>
    /// <param name="handle">A live handle to a resource acquired with <see cref="ResourceFlags.Shareable"/>.</param>
    /// <param name="owner">The owner that gets the new handle.</param>
    /// <param name="shared">On <see cref="ResourceStatus.Ok"/>, the new handle; otherwise <see langword="default"/>.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>; <see cref="ResourceStatus.SharingFailure"/> (the resource is not
    /// shareable); <see cref="ResourceStatus.StaleHandle"/>; <see cref="ResourceStatus.InvalidHandle"/>;
    /// <see cref="ResourceStatus.CapacityExceeded"/> (the registry is full).</returns>
    /// <exception cref="ArgumentException"><paramref name="owner"/> belongs to another manager.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public ResourceStatus TryShare(ResourceHandle handle, ResourceOwner owner, out ResourceHandle shared)
    {
        ThrowIfDisposed();
        ValidateOwner(owner);
        shared = default;
        ulong raw = handle.RawValue;
        PoolBinding? binding = _poolByTag[HandleLayout.Tag(raw)];
        if (binding != null)
        {
            ResourceStatus status = CheckPooled(binding, raw, out _);
            return status == ResourceStatus.Ok ? ResourceStatus.SharingFailure : status;
        }

        if (!IsRegistryHandle(raw))
        {
            return ResourceStatus.InvalidHandle;
        }

        lock (_lock)
        {
            ref Entry source = ref EntryOrNullRef(raw);
            if (Unsafe.IsNullRef(ref source))
            {
                return NotLive(raw);
            }

            if (source.Kind != PlacementShared)
            {
                return ResourceStatus.SharingFailure;
            }

            Entry copy = source;
            copy.Owner = (ushort)owner.Id;
            ResourceStatus status = _registry.TryAllocate(in copy, out Handle<Entry> added);
            if (status != ResourceStatus.Ok)
            {
                return status;
            }

            bool named = copy.NameId != 0;
            if (named)
            {
                _names.BeginWrite();
                _names.AddRef(copy.NameId);
            }

            ref ShareBody body = ref _bodies.GetValueRefOrNullRef(Handle<ShareBody>.FromRawValue(copy.Memory));
            body.RefCount++;
            bool firstOwned = owner.Id != 0 && body.OwnedHandles++ == 0;
            shared = (ResourceHandle)added;
            AddHoldingsLocked(in copy, body.Placement, shared, firstOwned);
            if (named)
            {
                _names.EndWrite();
            }

            // Under the lock, so that no release of the source is heard before the share.
            Volatile.Read(ref _observer)?.OnShared(handle, owner.Id, shared);
        }

        return ResourceStatus.Ok;
    }

    /// <summary>Gives <paramref name="owner"/> its own handle to a shareable resource, throwing if it cannot.</summary>
    /// <param name="handle">As <see cref="TryShare"/>.</param>
    /// <param name="owner">As <see cref="TryShare"/>.</param>
    /// <returns>The new handle.</returns>
    /// <exception cref="ResourceException">Sharing failed; <see cref="ResourceException.Status"/> says why.</exception>
    public ResourceHandle Share(ResourceHandle handle, ResourceOwner owner)
    {
        ThrowHelper.ThrowIfFailed(TryShare(handle, owner, out ResourceHandle shared));
        return shared;
    }

    /// <summary>Finds a live resource by name.</summary>
    /// <param name="name">The name it was acquired with.</param>
    /// <param name="handle">On <see cref="ResourceStatus.Ok"/>, a live handle carrying that name (the most recently
    /// acquired or shared one while it lives); otherwise <see langword="default"/>.</param>
    /// <returns><see cref="ResourceStatus.Ok"/> or <see cref="ResourceStatus.NotFound"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    /// <remarks>O(1) and allocation-free, and without the registry lock unless a name is being changed meanwhile;
    /// except after the handle it would return was released while others with the name live: then one scan of the
    /// registry, under the lock, finds another.</remarks>
    public ResourceStatus TryFind(string name, out ResourceHandle handle)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TryFind(name.AsSpan(), out handle);
    }

    /// <summary>Finds a live resource by a name in a buffer (the C ABI, names built in place).</summary>
    /// <param name="name">The name it was acquired with.</param>
    /// <param name="handle">As <see cref="TryFind(string, out ResourceHandle)"/>.</param>
    /// <returns>As <see cref="TryFind(string, out ResourceHandle)"/>.</returns>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public ResourceStatus TryFind(ReadOnlySpan<char> name, out ResourceHandle handle)
    {
        ThrowIfDisposed();
        handle = default;
        if (name.IsEmpty)
        {
            return ResourceStatus.NotFound;
        }

        // Without the lock when no name is being changed meanwhile and the name's latest handle is known.
        int found = _names.TryFindHeldConcurrent(name, out ResourceHandle latestSeen);
        if (found == 0)
        {
            return ResourceStatus.NotFound;
        }

        if (found > 0 && !latestSeen.IsNull)
        {
            handle = latestSeen;
            return ResourceStatus.Ok;
        }

        lock (_lock)
        {
            int id = _names.FindHeld(name);
            if (id == 0)
            {
                return ResourceStatus.NotFound;
            }

            ref ResourceHandle latest = ref _names.ValueOf(id);
            if (latest.IsNull)
            {
                _names.BeginWrite();
                foreach (HandleTable<Entry>.Entry slot in _registry)
                {
                    if (slot.Value.NameId == id)
                    {
                        latest = (ResourceHandle)slot.Handle;
                        break;
                    }
                }

                _names.EndWrite();
            }

            Debug.Assert(!latest.IsNull, "A held name has a live handle.");
            handle = latest;
            return ResourceStatus.Ok;
        }
    }

    /// <summary>Finds a live resource by name, throwing if none carries it.</summary>
    /// <param name="name">The name it was acquired with.</param>
    /// <returns>A live handle carrying that name.</returns>
    /// <exception cref="ResourceException">No live resource has the name (<see cref="ResourceStatus.NotFound"/>).</exception>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public ResourceHandle Find(string name)
    {
        ThrowHelper.ThrowIfFailed(TryFind(name, out ResourceHandle handle));
        return handle;
    }

    /// <summary>Whether <paramref name="raw"/> could be a handle of this manager's registry (it may still be stale): its
    /// tag, and a generation above the registry's base (older handles with the tag are a disposed issuer's).</summary>
    private bool IsRegistryHandle(ulong raw) => HandleLayout.IsFromIssuer(raw, _registryTag, _registryBase);

    /// <summary>The live registry entry of <paramref name="raw"/>, or a null reference when not live. Caller holds <see cref="_lock"/>.</summary>
    private ref Entry EntryOrNullRef(ulong raw) => ref _registry.GetValueRefOrNullRef(Handle<Entry>.FromRawValue(raw));

    /// <summary>Why a registry handle has no live entry: stale if the registry issued it once, else invalid (forged).
    /// Caller holds <see cref="_lock"/>.</summary>
    private ResourceStatus NotLive(ulong raw) => _registry.Check(Handle<Entry>.FromRawValue(raw)) == ResourceStatus.StaleHandle
        ? ResourceStatus.StaleHandle
        : ResourceStatus.InvalidHandle;

    /// <summary>The address and size of a live registered resource: without the registry lock for memory that is not
    /// shared (a region's address is found under that region's own lock); a shared resource, or a handle that is not
    /// live, is answered under the registry lock.</summary>
    private ResourceStatus ResolveRegistered(ulong raw, out nint address, out long size)
    {
        // The entry is freed (its key changed) before its memory is: a key unchanged after the address was found means
        // the memory was still the resource's when it was.
        if (_registry.TryReadConcurrent(raw, out Entry copy) && copy.Kind != PlacementShared)
        {
            address = AddressOf(copy.Placement, copy.Memory);
            size = copy.Size;
            if (_registry.IsStillLive(raw))
            {
                return ResourceStatus.Ok;
            }
        }

        address = 0;
        size = 0;
        lock (_lock)
        {
            ref Entry e = ref EntryOrNullRef(raw);
            if (Unsafe.IsNullRef(ref e))
            {
                return NotLive(raw);
            }

            Underlying(in e, out byte placement, out ulong memory, out _);
            address = AddressOf(placement, memory);
            size = e.Size;
            return ResourceStatus.Ok;
        }
    }

    /// <summary>Describes a live registered resource (under the registry lock).</summary>
    private ResourceStatus DescribeRegistered(ResourceHandle handle, out ResourceInfo info)
    {
        info = default;
        lock (_lock)
        {
            ref Entry e = ref EntryOrNullRef(handle.RawValue);
            if (Unsafe.IsNullRef(ref e))
            {
                return NotLive(handle.RawValue);
            }

            Underlying(in e, out _, out _, out int shareCount);
            info = new ResourceInfo(
                handle, e.Type, e.Size, e.Flags, e.Meta.Priority, e.Meta.Access, e.NameId == 0 ? null : _names.NameOf(e.NameId),
                e.Owner == 0 ? ResourceOwner.None : new ResourceOwner(e.Owner, _id, OwnerName(e.Owner)), shareCount, PlacementName(in e));
            return ResourceStatus.Ok;
        }
    }

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
        public PackedMeta Meta;
        public byte Placement;     // Kind in bits 0-3, region index in 4-7.

        public readonly long Size => (long)(SizeAndFlags & MaxResourceSize);

        public readonly ResourceFlags Flags => (ResourceFlags)(SizeAndFlags >> 48);

        public readonly ResourceType Type => Meta.Type;

        public readonly int Kind => Placement & 0xF;

        public static Entry Create(in ResourceMetadata md, int nameId, int owner, byte placement, ulong memory) => new()
        {
            Memory = memory,
            SizeAndFlags = (ulong)md.Size | ((ulong)(ushort)md.Flags << 48),
            NameId = nameId,
            Owner = (ushort)owner,
            Meta = new PackedMeta(md.Type, md.Priority, md.AccessPattern),
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
}
