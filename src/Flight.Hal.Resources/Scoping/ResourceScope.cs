using System.Diagnostics;

namespace Flight.Hal.Resources;

/// <summary>A group of resources released together at the end of a <c>using</c> block: per-frame transient memory.</summary>
/// <remarks>
/// <para>Handles acquired through the scope are recorded in the manager's scope pages (256-byte pool blocks, 30
/// handles each; see <see cref="ResourceManagerOptions.MaxScopePages"/>), so a scope allocates no GC memory however
/// many resources it holds. <see cref="Dispose"/> releases them last-acquired first.</para>
/// <para>A <c>ref struct</c>: one thread uses it. Copies are safe — the scope is named by the handle of its first page,
/// so a second <see cref="Dispose"/> meets a stale page and does nothing.</para>
/// </remarks>
public readonly ref struct ResourceScope
{
    private readonly ResourceManager? _manager;
    private readonly HandleChain? _pages;   // The manager's scope page store (an attachment of the manager).
    private readonly ResourceHandle _list;  // This scope's list in it: the handle of its first page.

    internal ResourceScope(ResourceManager manager, HandleChain pages, ResourceHandle list)
    {
        _manager = manager;
        _pages = pages;
        _list = list;
    }

    /// <summary>Resources held by the scope now; 0 once disposed.</summary>
    public int Count => IsUsable ? Math.Max(0, _pages!.Count(_list)) : 0;

    private bool IsUsable => _manager != null && !_manager.IsDisposed;

    /// <summary>Acquires a resource that the scope releases.</summary>
    /// <param name="metadata">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <param name="handle">On <see cref="ResourceStatus.Ok"/>, the handle; otherwise <see langword="default"/>.</param>
    /// <param name="name">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <param name="mode">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <param name="timeout">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <param name="owner">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <returns>As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>; also <see cref="ResourceStatus.StaleHandle"/> when the scope
    /// was disposed, and <see cref="ResourceStatus.PoolExhausted"/> or <see cref="ResourceStatus.OutOfMemory"/> when no
    /// scope page is left: room for the handle is made before the resource is acquired, so a request refused for want
    /// of a page acquires nothing and counts one failure, like any refused request.</returns>
    public ResourceStatus TryAcquire(
        in ResourceMetadata metadata,
        out ResourceHandle handle,
        string? name = null,
        AcquisitionMode mode = AcquisitionMode.NonBlocking,
        TimeSpan timeout = default,
        ResourceOwner owner = default)
    {
        handle = default;
        if (_manager == null)
        {
            return ResourceStatus.InvalidHandle;
        }

        if (!IsUsable)
        {
            return ResourceStatus.StaleHandle;
        }

        HandleChain pages = _pages!;
        ResourceStatus status = pages.TryReserveSlot(_list);
        if (status != ResourceStatus.Ok)
        {
            if (status != ResourceStatus.StaleHandle)
            {
                _manager.CountRefusal(metadata.Type, status, metadata.Size); // refused before anything was acquired
            }

            return status;
        }

        status = _manager.TryAcquire(in metadata, out ResourceHandle acquired, name, mode, timeout, owner);
        if (status != ResourceStatus.Ok)
        {
            return status;
        }

        status = pages.TryAppend(_list, acquired);
        Debug.Assert(status == ResourceStatus.Ok, "The slot was reserved.");
        handle = acquired;
        return ResourceStatus.Ok;
    }

    /// <summary>Acquires a resource that the scope releases, throwing if it cannot.</summary>
    /// <param name="metadata">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <param name="name">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <param name="mode">As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</param>
    /// <returns>The handle.</returns>
    /// <exception cref="ResourceException">No resource; <see cref="ResourceException.Status"/> says why.</exception>
    public ResourceHandle Acquire(in ResourceMetadata metadata, string? name = null, AcquisitionMode mode = AcquisitionMode.NonBlocking)
    {
        ThrowHelper.ThrowIfFailed(TryAcquire(in metadata, out ResourceHandle handle, name, mode));
        return handle;
    }

    /// <summary>Acquires transient memory for <paramref name="count"/> values of <typeparamref name="T"/>, released
    /// with the scope.</summary>
    /// <typeparam name="T">An unmanaged type.</typeparam>
    /// <param name="count">Values needed, at least 1.</param>
    /// <param name="type">The budget to count it against.</param>
    /// <returns>The memory, not cleared.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive, or the values would take
    /// more than <see cref="int.MaxValue"/> bytes (more than a span can describe); nothing is acquired.</exception>
    /// <exception cref="ResourceException">No memory; <see cref="ResourceException.Status"/> says why.</exception>
    public unsafe Span<T> AcquireSpan<T>(int count, ResourceType type = ResourceType.Memory)
        where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        long bytes = (long)count * sizeof(T);
        if (bytes > int.MaxValue)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(count), count, $"{count} values of {sizeof(T)} bytes do not fit a span; acquire it through TryAcquire and TryResolve.");
        }

        ResourceHandle handle = Acquire(new ResourceMetadata(type, Math.Max(1, bytes)));
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(_manager!.Resolve(handle));
    }

    /// <summary>Hands an already acquired handle to the scope, which will release it.</summary>
    /// <param name="handle">A live handle of the scope's manager.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>, <see cref="ResourceStatus.StaleHandle"/> (scope disposed) or
    /// <see cref="ResourceStatus.PoolExhausted"/> (no scope page left).</returns>
    public ResourceStatus TryAdd(ResourceHandle handle)
    {
        if (!IsUsable)
        {
            return _manager == null ? ResourceStatus.InvalidHandle : ResourceStatus.StaleHandle;
        }

        return _pages!.TryAppend(_list, handle);
    }

    /// <summary>Hands an already acquired handle to the scope, which will release it; throws if the scope cannot take it.</summary>
    /// <param name="handle">A live handle of the scope's manager.</param>
    /// <exception cref="ResourceException">The scope is disposed or default (<see cref="ResourceStatus.StaleHandle"/>,
    /// <see cref="ResourceStatus.InvalidHandle"/>) or has no page left (<see cref="ResourceStatus.PoolExhausted"/>); the
    /// handle stays the caller's to release.</exception>
    public void Add(ResourceHandle handle)
    {
        ThrowHelper.ThrowIfFailed(TryAdd(handle));
    }

    /// <summary>Releases everything acquired through the scope, last first; does nothing the second time.</summary>
    public void Dispose()
    {
        if (!IsUsable)
        {
            return;
        }

        HandleChain pages = _pages!;
        while (pages.TryPop(_list, out ResourceHandle handle))
        {
            _manager!.Release(handle); // a handle released by hand already is stale: nothing happens
        }

        pages.Free(_list);
    }
}
