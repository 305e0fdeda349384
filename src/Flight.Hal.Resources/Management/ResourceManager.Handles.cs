using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

/// <summary>What a handle can do: release, share, resolve, describe, find by name.</summary>
public sealed partial class ResourceManager
{
    /// <summary>Releases a handle. The memory is freed (and the budget credited) when the last owner's handle is released.</summary>
    /// <param name="handle">A handle this manager issued.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>; <see cref="ResourceStatus.StaleHandle"/> (released already: nothing
    /// happens); <see cref="ResourceStatus.InvalidHandle"/> (null, forged, or from another manager — live or disposed —:
    /// nothing happens).</returns>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    /// <remarks>Of racing releases of one handle exactly one returns <see cref="ResourceStatus.Ok"/>. An anonymous pooled
    /// resource is released without a lock or allocation; blocked acquisitions are woken.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ResourceStatus Release(ResourceHandle handle)
    {
        ThrowIfDisposed();
        return ReleaseCore(handle);
    }

    /// <summary><see cref="Release(ResourceHandle)"/> without the disposed check (a retry that finished while Dispose
    /// waits for it gives its resource back).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ResourceStatus ReleaseCore(ResourceHandle handle)
    {
        ulong raw = handle.RawValue;
        PoolBinding? binding = _poolByTag[HandleLayout.Tag(raw)]; // every tag is within the table
        if (binding != null)
        {
            return ReleasePooled(binding, handle); // a disposed issuer's handle with this tag fails CheckPooled: Invalid
        }

        return IsRegistryHandle(raw) ? ReleaseRegistered(handle, requiredOwner: -1) : ResourceStatus.InvalidHandle;
    }

    /// <summary>Releases <paramref name="owner"/>'s handle, refusing a handle that belongs to another owner.</summary>
    /// <param name="handle">A handle this manager issued.</param>
    /// <param name="owner">The owner releasing it.</param>
    /// <returns>As <see cref="Release(ResourceHandle)"/>, and <see cref="ResourceStatus.SharingFailure"/> when the handle
    /// is <paramref name="owner"/>'s no more than it is anyone's (nothing happens).</returns>
    /// <exception cref="ArgumentException"><paramref name="owner"/> belongs to another manager.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public ResourceStatus Release(ResourceHandle handle, ResourceOwner owner)
    {
        ThrowIfDisposed();
        ValidateOwner(owner);
        ulong raw = handle.RawValue;
        PoolBinding? binding = _poolByTag[HandleLayout.Tag(raw)];
        if (binding != null)
        {
            // Pooled anonymous handles have no owner.
            if (owner.IsNone)
            {
                return ReleasePooled(binding, handle);
            }

            ResourceStatus status = CheckPooled(binding, raw, out _);
            return status == ResourceStatus.Ok ? ResourceStatus.SharingFailure : status;
        }

        return IsRegistryHandle(raw) ? ReleaseRegistered(handle, owner.Id) : ResourceStatus.InvalidHandle;
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
            if (_registry.TryAllocate(in copy, out Handle<Entry> added) != ResourceStatus.Ok)
            {
                return ResourceStatus.CapacityExceeded;
            }

            if (copy.NameId != 0)
            {
                _names.AddRef(copy.NameId);
            }

            ref ShareBody body = ref _bodies.GetValueRefOrNullRef(Handle<ShareBody>.FromRawValue(copy.Memory));
            body.RefCount++;
            bool firstOwned = owner.Id != 0 && body.OwnedHandles++ == 0;
            shared = (ResourceHandle)added;
            AddHoldingsLocked(in copy, body.Placement, shared, firstOwned);
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
        ResourceStatus status = TryShare(handle, owner, out ResourceHandle shared);
        if (status != ResourceStatus.Ok)
        {
            ThrowHelper.ThrowResourceException(status);
        }

        return shared;
    }

    /// <summary>Finds the address and size of a live resource.</summary>
    /// <param name="handle">A handle this manager issued.</param>
    /// <param name="address">On <see cref="ResourceStatus.Ok"/>, the first byte; otherwise 0.</param>
    /// <param name="size">On <see cref="ResourceStatus.Ok"/>, the size requested; otherwise 0.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>, <see cref="ResourceStatus.StaleHandle"/> or <see cref="ResourceStatus.InvalidHandle"/>.</returns>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    /// <remarks>The address stays valid until the handle (the last owner's, if shared) is released. Pooled anonymous
    /// handles resolve without a lock; registry handles take the registry lock.</remarks>
    public ResourceStatus TryResolve(ResourceHandle handle, out nint address, out long size)
    {
        ThrowIfDisposed();
        ulong raw = handle.RawValue;
        PoolBinding? binding = _poolByTag[HandleLayout.Tag(raw)];
        if (binding != null)
        {
            ResourceStatus status = CheckPooled(binding, raw, out PooledRecord record);
            address = status == ResourceStatus.Ok ? binding.Pool.AddressOfRented(raw) : 0;
            size = status == ResourceStatus.Ok ? record.Size : 0;
            return status;
        }

        address = 0;
        size = 0;
        if (!IsRegistryHandle(raw))
        {
            return ResourceStatus.InvalidHandle;
        }

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

    /// <summary>The bytes of a live resource.</summary>
    /// <param name="handle">A handle this manager issued.</param>
    /// <param name="span">On <see cref="ResourceStatus.Ok"/>, <see cref="ResourceMetadata.Size"/> bytes; otherwise empty.</param>
    /// <returns>As <see cref="TryResolve"/>; <see cref="ResourceStatus.InvalidArgument"/> when the resource is larger
    /// than a span can be (use <see cref="TryResolve"/>).</returns>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public ResourceStatus TryGetSpan(ResourceHandle handle, out Span<byte> span)
    {
        ResourceStatus status = TryResolve(handle, out nint address, out long size);
        if (status == ResourceStatus.Ok && size > int.MaxValue)
        {
            status = ResourceStatus.InvalidArgument;
        }

        span = status == ResourceStatus.Ok ? NativeView.AsSpan(address, (int)size) : default;
        return status;
    }

    /// <summary>The bytes of a live resource, or an empty span when the handle is not live: a stale handle resolves to nothing.</summary>
    /// <param name="handle">A handle this manager issued.</param>
    /// <returns>The bytes, or empty.</returns>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public Span<byte> Resolve(ResourceHandle handle)
    {
        TryGetSpan(handle, out Span<byte> span);
        return span;
    }

    /// <summary>The address of a live resource, or 0 when the handle is not live.</summary>
    /// <param name="handle">A handle this manager issued.</param>
    /// <returns>The address, or 0.</returns>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public nint ResolveAddress(ResourceHandle handle)
    {
        TryResolve(handle, out nint address, out _);
        return address;
    }

    /// <summary>Whether <paramref name="handle"/> is a live handle of this manager.</summary>
    /// <param name="handle">Any handle.</param>
    /// <returns><see langword="true"/> when it resolves.</returns>
    public bool Contains(ResourceHandle handle) => !_disposed && TryResolve(handle, out _, out _) == ResourceStatus.Ok;

    /// <summary>Describes a live resource.</summary>
    /// <param name="handle">A handle this manager issued.</param>
    /// <param name="info">On <see cref="ResourceStatus.Ok"/>, the description; otherwise <see langword="default"/>.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>, <see cref="ResourceStatus.StaleHandle"/> or <see cref="ResourceStatus.InvalidHandle"/>.</returns>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public ResourceStatus TryGetInfo(ResourceHandle handle, out ResourceInfo info)
    {
        ThrowIfDisposed();
        info = default;
        ulong raw = handle.RawValue;
        PoolBinding? binding = _poolByTag[HandleLayout.Tag(raw)];
        if (binding != null)
        {
            ResourceStatus status = CheckPooled(binding, raw, out PooledRecord record);
            if (status != ResourceStatus.Ok)
            {
                return status;
            }

            info = new ResourceInfo(
                handle, binding.Pool.Type, record.Size, (ResourceFlags)record.Flags, (ResourcePriority)((record.Meta >> 3) & 3),
                (AccessPattern)(record.Meta >> 5), null, ResourceOwner.None, 1, binding.Placement);
            return ResourceStatus.Ok;
        }

        if (!IsRegistryHandle(raw))
        {
            return ResourceStatus.InvalidHandle;
        }

        lock (_lock)
        {
            ref Entry e = ref EntryOrNullRef(raw);
            if (Unsafe.IsNullRef(ref e))
            {
                return NotLive(raw);
            }

            Underlying(in e, out _, out _, out int shareCount);
            info = new ResourceInfo(
                handle, e.Type, e.Size, e.Flags, e.Priority, e.Access, e.NameId == 0 ? null : _names.NameOf(e.NameId),
                e.Owner == 0 ? ResourceOwner.None : new ResourceOwner(e.Owner, _id, OwnerName(e.Owner)), shareCount, PlacementName(in e));
            return ResourceStatus.Ok;
        }
    }

    /// <summary>Finds a live resource by name.</summary>
    /// <param name="name">The name it was acquired with.</param>
    /// <param name="handle">On <see cref="ResourceStatus.Ok"/>, a live handle carrying that name (the most recently
    /// acquired or shared one while it lives); otherwise <see langword="default"/>.</param>
    /// <returns><see cref="ResourceStatus.Ok"/> or <see cref="ResourceStatus.NotFound"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    /// <remarks>O(1) and allocation-free, except after the handle it would return was released while others with the
    /// name live: then one scan of the registry finds another.</remarks>
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
                foreach (HandleTable<Entry>.Entry slot in _registry)
                {
                    if (slot.Value.NameId == id)
                    {
                        latest = (ResourceHandle)slot.Handle;
                        break;
                    }
                }
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
        ResourceStatus status = TryFind(name, out ResourceHandle handle);
        if (status != ResourceStatus.Ok)
        {
            ThrowHelper.ThrowResourceException(status);
        }

        return handle;
    }

    /// <summary>Describes a live resource, throwing if the handle is not live.</summary>
    /// <param name="handle">A handle this manager issued.</param>
    /// <returns>The description.</returns>
    /// <exception cref="ResourceException">The handle is stale or invalid; <see cref="ResourceException.Status"/> says which.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public ResourceInfo GetInfo(ResourceHandle handle)
    {
        ResourceStatus status = TryGetInfo(handle, out ResourceInfo info);
        if (status != ResourceStatus.Ok)
        {
            ThrowHelper.ThrowResourceException(status);
        }

        return info;
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

    private void ValidateOwner(ResourceOwner owner)
    {
        if (owner.ManagerId != 0 && owner.ManagerId != _id)
        {
            ThrowHelper.ThrowArgument(nameof(owner), $"Owner '{owner.Name}' belongs to another ResourceManager.");
        }
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
        status = pool.ReturnOwned(handle, toShared: Volatile.Read(ref _waiters) != 0);
        if (status != ResourceStatus.Ok)
        {
            return status;
        }

        _budgets.ReleaseFast(pool.Type, size);
        _stacks?.TryRemove(raw, out _);
        WakeWaiters((int)pool.Type, _main.Key);
        return ResourceStatus.Ok;
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

        FreeMemory(placement, memory, entry.Size);
        _budgets.Release(entry.Type, entry.Size);
        _stacks?.TryRemove(handle.RawValue, out _);
        WakeWaiters((int)entry.Type, RegionKeyOf(placement));
        return ResourceStatus.Ok;
    }
}
