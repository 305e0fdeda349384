namespace Flight.Hal.Resources;

/// <summary>What a <see cref="CacheLoader{T}"/> is given: the key, and where the entry's native memory comes from.</summary>
/// <remarks>A small struct over the cache's recycled bookkeeping for one load, valid only while that load runs: a copy
/// kept past it — even one whose bookkeeping now serves another load — makes every member throw
/// <see cref="InvalidOperationException"/>. Use it on the loader's thread (an async loader's continuations included).
/// Memory acquired here is charged to the cache's owner and belongs to the entry: it is released when the entry is
/// unloaded, or at once if the load fails. A wait for room through the context is not judged by the manager's deadlock
/// detection: the cache's owner holds memory for its users, who may release it at any time, so it is not one driver
/// thread that could be blocked.</remarks>
public readonly struct CacheLoadContext
{
    private readonly CacheLoadSlot? _slot;
    private readonly int _version;

    internal CacheLoadContext(CacheLoadSlot slot, int version)
    {
        _slot = slot;
        _version = version;
    }

    /// <summary>The key being loaded.</summary>
    public string Key => Slot.Entry!.Key;

    /// <summary>The eviction priority the entry was requested with.</summary>
    public ResourcePriority Priority => Slot.Entry!.Priority;

    /// <summary>The manager the memory comes from.</summary>
    public ResourceManager Manager => Slot.Manager!;

    /// <summary>The owner the memory is charged to.</summary>
    public ResourceOwner Owner => Slot.Owner;

    /// <summary>Native bytes acquired through this context so far.</summary>
    public long Bytes => Slot.Entry!.Bytes;

    /// <summary>Whether the load this context belongs to is still running.</summary>
    public bool IsActive => _slot != null && Volatile.Read(ref _slot.Version) == _version;

    internal CacheEntry Entry => Slot.Entry!;

    private CacheLoadSlot Slot => IsActive ? _slot! : ThrowInactive<CacheLoadSlot>();

    /// <summary>Acquires native memory for the entry, charged to the cache's owner. A budget refusal first asks the
    /// manager's reclamation callbacks — this cache's own among them — to evict.</summary>
    /// <param name="metadata">What to acquire.</param>
    /// <param name="handle">On success, the memory's handle; it stays the entry's until the entry is unloaded.</param>
    /// <param name="name">The resource's name in the manager; the key by default.</param>
    /// <param name="mode">What to do when there is no room: by default fail at once (a loader that waits holds up every
    /// request for its key); <see cref="AcquisitionMode.Emergency"/> for an asset the game cannot run without.</param>
    /// <param name="timeout">For <see cref="AcquisitionMode.Timeout"/>.</param>
    /// <returns>As <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>.</returns>
    /// <exception cref="InvalidOperationException">The load is over.</exception>
    /// <exception cref="ArgumentException">As that method.</exception>
    public ResourceStatus TryAcquire(
        in ResourceMetadata metadata,
        out ResourceHandle handle,
        string? name = null,
        AcquisitionMode mode = AcquisitionMode.NonBlocking,
        TimeSpan timeout = default)
    {
        CacheLoadSlot slot = Slot;
        CacheEntry entry = slot.Entry!;
        ResourceStatus status = slot.Manager!.TryAcquireUntracked(in metadata, out handle, name ?? entry.Key, mode, timeout, slot.Owner);
        if (status == ResourceStatus.Ok)
        {
            Record(entry, handle, in metadata);
        }

        return status;
    }

    /// <summary>Acquires native memory for the entry, throwing if it cannot be had (which fails the load).</summary>
    /// <param name="metadata">What to acquire.</param>
    /// <param name="name">The resource's name in the manager; the key by default.</param>
    /// <param name="mode">As <see cref="TryAcquire"/>.</param>
    /// <param name="timeout">As <see cref="TryAcquire"/>.</param>
    /// <returns>The memory's handle.</returns>
    /// <exception cref="ResourceException">The memory could not be acquired; <see cref="ResourceException.Status"/> says why.</exception>
    /// <exception cref="InvalidOperationException">The load is over.</exception>
    public ResourceHandle Acquire(
        in ResourceMetadata metadata, string? name = null, AcquisitionMode mode = AcquisitionMode.NonBlocking, TimeSpan timeout = default)
    {
        ThrowHelper.ThrowIfFailed(TryAcquire(in metadata, out ResourceHandle handle, name, mode, timeout));
        return handle;
    }

    /// <summary>Acquires native memory for the entry, waiting for room without blocking a thread (for an
    /// <see cref="AsyncCacheLoader{T}"/>): <see cref="ResourceManager.AcquireAsync"/> charged to the cache's owner. Pass the
    /// loader's token, so that a cancelled load stops waiting.</summary>
    /// <param name="metadata">What to acquire.</param>
    /// <param name="name">The resource's name in the manager; the key by default.</param>
    /// <param name="timeout">The longest wait; null waits until room comes.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>The memory's handle; it stays the entry's until the entry is unloaded.</returns>
    /// <exception cref="ResourceException">As <see cref="ResourceManager.AcquireAsync"/> (which fails the load).</exception>
    /// <exception cref="InvalidOperationException">The load is over.</exception>
    public async ValueTask<ResourceHandle> AcquireAsync(
        ResourceMetadata metadata, string? name = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        CacheLoadSlot slot = Slot;
        CacheEntry entry = slot.Entry!;
        ResourceManager manager = slot.Manager!;
        ResourceOwner owner = slot.Owner;
        ResourceHandle handle = await manager.AcquireAsyncCore(metadata, name ?? entry.Key, owner, timeout, trackWait: false, cancellationToken)
            .ConfigureAwait(false);
        if (!IsActive)
        {
            // The load ended while this waited (a loader that did not await its own acquisition): give it back.
            manager.Release(handle, owner);
            throw new InvalidOperationException("The load this context belongs to ended while an acquisition for it was waiting.");
        }

        Record(entry, handle, in metadata);
        return handle;
    }

    /// <summary>Reports how far the load has come, for <see cref="ResourceCache{T}.GetLoadStatus"/> and a loading
    /// screen.</summary>
    /// <param name="fraction">0 to 1 (clamped).</param>
    /// <exception cref="InvalidOperationException">The load is over.</exception>
    public void ReportProgress(double fraction) =>
        Volatile.Write(ref Entry.Progress, double.IsNaN(fraction) ? 0 : Math.Clamp(fraction, 0, 1));

    /// <summary>The bytes of memory acquired through this context.</summary>
    /// <param name="handle">A handle <see cref="Acquire"/> returned.</param>
    /// <returns>The bytes.</returns>
    public Span<byte> GetSpan(ResourceHandle handle) => Manager.GetSpan(handle);

    /// <summary>Loads (or finds) another key, in this cache or another, as a dependency: the entry being loaded holds a
    /// strong reference to it until it is unloaded. A key that is being loaded on this thread already (a cycle) fails
    /// with <see cref="CacheLoadException"/>, which fails this load too.</summary>
    /// <typeparam name="TDependency">The other cache's value type.</typeparam>
    /// <param name="cache">The cache to load from.</param>
    /// <param name="key">The key.</param>
    /// <param name="loader">How to load it on a miss.</param>
    /// <param name="priority">Its eviction priority if it is loaded now.</param>
    /// <returns>The dependency's value.</returns>
    public TDependency Load<TDependency>(ResourceCache<TDependency> cache, string key, CacheLoader<TDependency> loader, ResourcePriority priority = ResourcePriority.Normal)
    {
        ArgumentNullException.ThrowIfNull(cache);
        CacheEntry entry = Entry;
        CacheRef<TDependency> dependency = cache.GetOrLoad(key, loader, priority);
        entry.Dependencies.Add(dependency.AsDependency());
        return dependency.Value;
    }

    /// <summary>Adds an acquisition to the entry (locked: an async loader's acquisitions may complete on two threads).</summary>
    private static void Record(CacheEntry entry, ResourceHandle handle, in ResourceMetadata metadata)
    {
        lock (entry.Resources)
        {
            entry.Resources.Add(new HeldResource(handle, metadata.Type, metadata.Size));
            Volatile.Write(ref entry.Bytes, entry.Bytes + metadata.Size);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => IsActive ? $"CacheLoadContext({_slot!.CacheName}: {_slot.Entry!.Key})" : "CacheLoadContext(over)";

    private static TResult ThrowInactive<TResult>() =>
        throw new InvalidOperationException("The load this context belongs to is over: a load context is valid only while its loader runs.");
}

/// <summary>A cache's recycled bookkeeping for one load at a time; <see cref="CacheLoadContext"/> copies name it with
/// the version of their load, so a copy kept past its load is refused even after the slot serves another.</summary>
internal sealed class CacheLoadSlot
{
    public ResourceManager? Manager;
    public ResourceOwner Owner;
    public CacheEntry? Entry;
    public string CacheName = string.Empty;
    public int Version;     // moves at the start and the end of every load

    /// <summary>Starts a load: the context to hand to its loader.</summary>
    public CacheLoadContext Begin(ResourceManager manager, ResourceOwner owner, CacheEntry entry, string cacheName)
    {
        Manager = manager;
        Owner = owner;
        Entry = entry;
        CacheName = cacheName;
        int version = Version + 1;
        Volatile.Write(ref Version, version);
        return new CacheLoadContext(this, version);
    }

    /// <summary>Ends the load: every copy of its context is refused from now on.</summary>
    public void End()
    {
        Volatile.Write(ref Version, Version + 1);
        Manager = null;
        Owner = default;
        Entry = null;
        CacheName = string.Empty;
    }
}
