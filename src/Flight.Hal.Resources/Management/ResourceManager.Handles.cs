using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

// What a handle can do — release, resolve, describe — dispatched by the handle's tag: a pool's tag to the pooled
// mechanism, the registry's to the registry; any other handle is invalid.
public sealed partial class ResourceManager
{
    /// <summary>Releases a handle. The memory is freed (and the budget credited) when the last owner's handle is released.</summary>
    /// <param name="handle">A handle this manager issued.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>; <see cref="ResourceStatus.StaleHandle"/> (released already: nothing
    /// happens); <see cref="ResourceStatus.InvalidHandle"/> (null, forged, or from another manager — live or disposed —:
    /// nothing happens).</returns>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    /// <remarks>Of racing releases of one handle exactly one returns <see cref="ResourceStatus.Ok"/>. An anonymous pooled
    /// resource is released without allocating and, unless the release starts or grows a budget lease (the type's lease
    /// lock, briefly), without a lock; blocked acquisitions are woken.</remarks>
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

    /// <summary>Finds the address and size of a live resource.</summary>
    /// <param name="handle">A handle this manager issued.</param>
    /// <param name="address">On <see cref="ResourceStatus.Ok"/>, the first byte; otherwise 0.</param>
    /// <param name="size">On <see cref="ResourceStatus.Ok"/>, the size requested; otherwise 0.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>, <see cref="ResourceStatus.StaleHandle"/> or <see cref="ResourceStatus.InvalidHandle"/>.</returns>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    /// <remarks>The address stays valid until the handle (the last owner's, if shared) is released. Pooled anonymous
    /// handles resolve without a lock; registry handles without the registry lock too (a region's address is found under
    /// that region's own lock), except shared memory and handles that are not live, which take it.</remarks>
    public ResourceStatus TryResolve(ResourceHandle handle, out nint address, out long size)
    {
        ThrowIfDisposed();
        ulong raw = handle.RawValue;
        PoolBinding? binding = _poolByTag[HandleLayout.Tag(raw)];
        if (binding != null)
        {
            return ResolvePooled(binding, raw, out address, out size);
        }

        if (IsRegistryHandle(raw))
        {
            return ResolveRegistered(raw, out address, out size);
        }

        address = 0;
        size = 0;
        return ResourceStatus.InvalidHandle;
    }

    /// <summary>The bytes of a live resource.</summary>
    /// <param name="handle">A handle this manager issued.</param>
    /// <param name="span">On <see cref="ResourceStatus.Ok"/>, <see cref="ResourceMetadata.Size"/> bytes; otherwise empty.</param>
    /// <returns>As <see cref="TryResolve"/>; <see cref="ResourceStatus.InvalidArgument"/> when the resource is larger
    /// than a span can be (use <see cref="TryResolve"/>).</returns>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public ResourceStatus TryGetSpan(ResourceHandle handle, out Span<byte> span) =>
        NativeView.ToSpan(TryResolve(handle, out nint address, out long size), address, size, out span);

    /// <summary>The bytes of a live resource, throwing if the handle is not live (see <see cref="Resolve"/> for the form
    /// that answers a stale handle with an empty span).</summary>
    /// <param name="handle">A handle this manager issued.</param>
    /// <returns><see cref="ResourceMetadata.Size"/> bytes.</returns>
    /// <exception cref="ResourceException">As <see cref="TryGetSpan"/> would have returned it: stale, invalid, or too large
    /// for a span.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public Span<byte> GetSpan(ResourceHandle handle)
    {
        ThrowHelper.ThrowIfFailed(TryGetSpan(handle, out Span<byte> span));
        return span;
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
        ulong raw = handle.RawValue;
        PoolBinding? binding = _poolByTag[HandleLayout.Tag(raw)];
        if (binding != null)
        {
            return DescribePooled(binding, handle, out info);
        }

        if (IsRegistryHandle(raw))
        {
            return DescribeRegistered(handle, out info);
        }

        info = default;
        return ResourceStatus.InvalidHandle;
    }

    /// <summary>Describes a live resource, throwing if the handle is not live.</summary>
    /// <param name="handle">A handle this manager issued.</param>
    /// <returns>The description.</returns>
    /// <exception cref="ResourceException">The handle is stale or invalid; <see cref="ResourceException.Status"/> says which.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public ResourceInfo GetInfo(ResourceHandle handle)
    {
        ThrowHelper.ThrowIfFailed(TryGetInfo(handle, out ResourceInfo info));
        return info;
    }
}
