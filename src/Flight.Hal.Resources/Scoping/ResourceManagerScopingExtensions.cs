namespace Flight.Hal.Resources;

/// <summary>Typed references and scopes over a <see cref="ResourceManager"/>: <c>manager.Acquire&lt;T&gt;()</c>,
/// <c>manager.AcquireScoped(...)</c>, <c>manager.BeginScope()</c>.</summary>
/// <remarks>Extension methods, so the Management layer never names the Scoping layer above it.</remarks>
public static class ResourceManagerScopingExtensions
{
    /// <summary>Acquires memory for one <typeparamref name="T"/> (cleared), owned by a <see cref="ResourceRef{T}"/>.</summary>
    /// <typeparam name="T">An unmanaged type.</typeparam>
    /// <param name="manager">The manager.</param>
    /// <param name="resource">On <see cref="ResourceStatus.Ok"/>, the reference; otherwise <see langword="default"/>.</param>
    /// <param name="type">The budget it counts against.</param>
    /// <param name="flags">Flags (placement, sharing).</param>
    /// <param name="name">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <param name="mode">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <param name="timeout">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <param name="owner">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <returns>As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</returns>
    public static unsafe ResourceStatus TryAcquire<T>(
        this ResourceManager manager,
        out ResourceRef<T> resource,
        ResourceType type = ResourceType.Memory,
        ResourceFlags flags = ResourceFlags.None,
        string? name = null,
        AcquisitionMode mode = AcquisitionMode.NonBlocking,
        TimeSpan timeout = default,
        ResourceOwner owner = default)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(manager);
        var metadata = new ResourceMetadata(type, Math.Max(1, sizeof(T)), alignment: 8, flags);
        ResourceStatus status = manager.TryAcquire(in metadata, out ResourceHandle handle, name, mode, timeout, owner);
        resource = status == ResourceStatus.Ok ? new ResourceRef<T>(manager, handle) : default;
        if (status == ResourceStatus.Ok)
        {
            manager.Resolve(handle).Clear();
        }

        return status;
    }

    /// <summary>Acquires memory for one <typeparamref name="T"/> (cleared), throwing if it cannot.</summary>
    /// <typeparam name="T">An unmanaged type.</typeparam>
    /// <param name="manager">The manager.</param>
    /// <param name="type">The budget it counts against.</param>
    /// <param name="flags">Flags (placement, sharing).</param>
    /// <param name="name">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <param name="mode">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <returns>The reference.</returns>
    /// <exception cref="ResourceException">Nothing could be acquired; <see cref="ResourceException.Status"/> says why.</exception>
    public static ResourceRef<T> Acquire<T>(
        this ResourceManager manager,
        ResourceType type = ResourceType.Memory,
        ResourceFlags flags = ResourceFlags.None,
        string? name = null,
        AcquisitionMode mode = AcquisitionMode.NonBlocking)
        where T : unmanaged
    {
        ThrowHelper.ThrowIfFailed(manager.TryAcquire(out ResourceRef<T> resource, type, flags, name, mode));
        return resource;
    }

    /// <summary>Acquires a resource released at the end of a <c>using</c> block.</summary>
    /// <param name="manager">The manager.</param>
    /// <param name="metadata">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <param name="resource">On <see cref="ResourceStatus.Ok"/>, the scoped resource; otherwise <see langword="default"/>.</param>
    /// <param name="name">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <param name="mode">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <param name="timeout">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <param name="owner">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <returns>As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</returns>
    public static ResourceStatus TryAcquireScoped(
        this ResourceManager manager,
        in ResourceMetadata metadata,
        out ScopedResource resource,
        string? name = null,
        AcquisitionMode mode = AcquisitionMode.NonBlocking,
        TimeSpan timeout = default,
        ResourceOwner owner = default)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ResourceStatus status = manager.TryAcquire(in metadata, out ResourceHandle handle, name, mode, timeout, owner);
        resource = status == ResourceStatus.Ok ? new ScopedResource(manager, handle) : default;
        return status;
    }

    /// <summary>Acquires a resource released at the end of a <c>using</c> block, throwing if it cannot.</summary>
    /// <param name="manager">The manager.</param>
    /// <param name="metadata">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <param name="name">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <param name="mode">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <returns>The scoped resource.</returns>
    /// <exception cref="ResourceException">Nothing could be acquired; <see cref="ResourceException.Status"/> says why.</exception>
    public static ScopedResource AcquireScoped(
        this ResourceManager manager,
        in ResourceMetadata metadata,
        string? name = null,
        AcquisitionMode mode = AcquisitionMode.NonBlocking)
    {
        ThrowHelper.ThrowIfFailed(manager.TryAcquireScoped(in metadata, out ScopedResource resource, name, mode));
        return resource;
    }

    /// <summary>Starts a scope whose resources are all released by its <c>Dispose</c>.</summary>
    /// <param name="manager">The manager.</param>
    /// <param name="scope">On <see cref="ResourceStatus.Ok"/>, the scope; otherwise <see langword="default"/>.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>; <see cref="ResourceStatus.PoolExhausted"/> when no scope page is left
    /// (<see cref="ResourceManagerOptions.MaxScopePages"/>); <see cref="ResourceStatus.OutOfMemory"/> when the page store
    /// or a page could not be allocated; <see cref="ResourceStatus.CapacityExceeded"/> when the page store needs a handle
    /// tag and the process has none left.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="manager"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public static ResourceStatus TryBeginScope(this ResourceManager manager, out ResourceScope scope)
    {
        ArgumentNullException.ThrowIfNull(manager);
        if (manager.IsDisposed)
        {
            ThrowHelper.ThrowObjectDisposed(manager);
        }

        scope = default;
        ResourceStatus status = HandleChain.TryGetFor(manager, out HandleChain pages);
        if (status != ResourceStatus.Ok)
        {
            return status;
        }

        status = pages.TryCreate(out ResourceHandle list);
        if (status == ResourceStatus.Ok)
        {
            scope = new ResourceScope(manager, pages, list);
        }

        return status;
    }

    /// <summary>Starts a scope whose resources are all released by its <c>Dispose</c>, throwing if no page is left.</summary>
    /// <param name="manager">The manager.</param>
    /// <returns>The scope.</returns>
    /// <exception cref="ResourceException">No scope page; <see cref="ResourceException.Status"/> says why.</exception>
    public static ResourceScope BeginScope(this ResourceManager manager)
    {
        ThrowHelper.ThrowIfFailed(manager.TryBeginScope(out ResourceScope scope));
        return scope;
    }
}
