using System.Diagnostics.CodeAnalysis;
using CommunityToolkit.HighPerformance.Buffers;
using Microsoft.Extensions.ObjectPool;

namespace Flight.Hal.Resources;

/// <summary>Loads assets by key through a <see cref="ResourceManager"/>, once: counts who holds each, keeps it resident
/// while memory allows, evicts it when the budget needs room, and unloads it when nobody holds it.</summary>
/// <typeparam name="T">The value a loader builds (a texture object, a mesh descriptor); its native bytes are acquired
/// through the load context and charged to the cache's owner.</typeparam>
/// <remarks>
/// <para>One cache per asset kind; many caches per manager. Keys are strings compared ordinally; a key given as a span
/// is interned with CommunityToolkit's <see cref="StringPool"/>, and looking up a key already cached allocates nothing
/// (by <see cref="string"/> or by span).</para>
/// <para><b>Life of an entry.</b> A miss runs the loader on the requesting thread, outside the cache's lock; concurrent
/// requests for the same key wait for that one load. A loaded entry is <i>referenced</i> while a <see cref="CacheRef{T}"/>
/// is outstanding, then <i>unreferenced</i> but resident until it is evicted: lowest <see cref="ResourcePriority"/> first,
/// then least recently used. Evictions happen when the manager asks for memory of a type the cache holds (the cache
/// registers itself as a reclamation callback and frees only that type), when the resident bytes pass
/// <see cref="ResourceCacheOptions{T}.MaxBytes"/>, when a type reaches <see cref="ResourceCacheOptions{T}.EvictAtPressure"/>,
/// and on <see cref="UnloadUnused"/>. The unload hook runs once per entry, then an <see cref="IDisposable"/> value is
/// disposed, then the native memory is released.</para>
/// <para><b>Threads.</b> Every member may be called from any thread. A hit takes one short lock (a dictionary lookup,
/// a count, a reference record); loaders, hooks, disposal of values and the manager's acquire and release all run
/// outside it, so a loader or hook may use the cache again.</para>
/// <para><b>Allocation.</b> Entries and load contexts are recycled through <see cref="ObjectPool{T}"/>s and references
/// are structs, so a steady cycle of load, release and eviction allocates nothing beyond what the loader allocates.</para>
/// </remarks>
public sealed partial class ResourceCache<T> : IDisposable, ICacheReport
{
    private readonly object _lock = new();
    private readonly ResourceManager _manager;
    private readonly ResourceOwner _owner;
    private readonly ResourceCacheOptions<T> _options;
    private readonly Dictionary<string, Entry> _map = new(StringComparer.Ordinal); // cached entries (loading or loaded)
#if NET9_0_OR_GREATER
    private readonly Dictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> _spanMap;
#endif
    private readonly StringPool _keys = new(256);              // interns keys given as spans
    private readonly HandleTable<CacheHold> _holds;            // one record per outstanding strong reference
    private readonly ObjectPool<Entry> _entryPool;
    private readonly ObjectPool<CacheLoadSlot> _contextPool;
    private bool _disposed;

    // Counters and figures, under _lock.
    private int _entries;
    private int _referenced;
    private int _loading;
    private long _residentBytes;
    private readonly long[] _typeBytes = new long[ResourceTypes.Count];
    private long _hits;
    private long _misses;
    private long _loads;
    private long _loadFailures;
    private long _reloads;
    private readonly long[] _unloads = new long[(int)CacheUnloadReason.CacheDisposed + 1];
    private long _accessTick;
    private long _loadOrder;            // entries' publication order (Dispose unloads newest first)
    private long _callbackFaults;

    /// <summary>Creates a cache over <paramref name="manager"/>.</summary>
    /// <param name="manager">Where entries' native memory comes from.</param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="manager"/> is null.</exception>
    /// <exception cref="ArgumentException">The options' owner belongs to another manager, or its name is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="ResourceCacheOptions{T}.MaxBytes"/> or
    /// <see cref="ResourceCacheOptions{T}.MaxReferences"/> is not positive.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public ResourceCache(ResourceManager manager, ResourceCacheOptions<T>? options = null)
    {
        ArgumentNullException.ThrowIfNull(manager);
        options ??= new ResourceCacheOptions<T>();
        ArgumentException.ThrowIfNullOrEmpty(options.Name, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxBytes, nameof(options.MaxBytes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxReferences, nameof(options.MaxReferences));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxConcurrentLoads, nameof(options.MaxConcurrentLoads));
        if (options.EvictAtPressure is ResourcePressure pressure && (uint)pressure > (uint)ResourcePressure.Critical)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(options.EvictAtPressure), pressure, "Unknown pressure level.");
        }

        ObjectDisposedException.ThrowIf(manager.IsDisposed, manager);
        if (!manager.IsOwnOrNone(options.Owner))
        {
            ThrowHelper.ThrowArgument(nameof(options), "The cache's owner belongs to another manager.");
        }

        _manager = manager;
        _options = options;
        _owner = options.Owner.IsNone ? manager.GetOwner("cache:" + options.Name) : options.Owner;
#if NET9_0_OR_GREATER
        _spanMap = _map.GetAlternateLookup<ReadOnlySpan<char>>();
#endif
        _entryPool = new DefaultObjectPool<Entry>(new EntryPolicy(this), 64);
        _contextPool = new DefaultObjectPool<CacheLoadSlot>(new ContextPolicy(), 8);
        _holds = new HandleTable<CacheHold>(options.MaxReferences, manager.Options.Allocator);
        if (options.EvictAtPressure is ResourcePressure level)
        {
            _pressureRegistration = manager.RegisterPressureCallback((in PressureChange change) => OnPressure(in change, level));
        }

        CacheDirectory.Of(manager).Add(this); // last: a constructor that throws leaves no cache listed
    }

    /// <summary>The cache's name.</summary>
    public string Name => _options.Name;

    /// <summary>The manager entries' memory comes from.</summary>
    public ResourceManager Manager => _manager;

    /// <summary>The owner entries' memory is charged to.</summary>
    public ResourceOwner Owner => _owner;

    /// <summary>Its settings.</summary>
    public ResourceCacheOptions<T> Options => _options;

    /// <summary>Whether <see cref="Dispose"/> has run.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed);

    /// <summary>Raised (on the thread that ran it) when a loaded or unloaded hook, or a value's Dispose, throws. The
    /// exception is caught; the load or unload goes on and the accounting stays exact.</summary>
    /// <remarks>An exception thrown by a handler of this event is swallowed.</remarks>
    public event EventHandler<CacheCallbackFaultEventArgs>? CallbackFaulted;

    /// <summary>Hook and Dispose exceptions caught since creation.</summary>
    public long CallbackFaults => Interlocked.Read(ref _callbackFaults);

    /// <summary>Returns the entry for <paramref name="key"/>, loading it with <paramref name="loader"/> on a miss.</summary>
    /// <param name="key">The key (not empty).</param>
    /// <param name="loader">Builds the value and acquires its memory; called only on a miss.</param>
    /// <param name="priority">The entry's eviction priority, if it is loaded by this call.</param>
    /// <param name="mode">Reuse a cached entry (default), replace it with a new version, or load a private copy.</param>
    /// <returns>A strong reference: dispose it when done.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="loader"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="priority"/> or <paramref name="mode"/> is unknown.</exception>
    /// <exception cref="CacheLoadException">The load failed (the loader threw — its exception is the inner one —,
    /// returned null, or the key is being loaded on this thread already). Nothing it acquired stays charged.</exception>
    /// <exception cref="ResourceException">The cache is at <see cref="ResourceCacheOptions{T}.MaxReferences"/>
    /// (<see cref="ResourceStatus.CapacityExceeded"/>).</exception>
    /// <exception cref="ObjectDisposedException">The cache (or its manager) has been disposed.</exception>
    public CacheRef<T> GetOrLoad(string key, CacheLoader<T> loader, ResourcePriority priority = ResourcePriority.Normal, CacheMode mode = CacheMode.Reuse)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return GetOrLoadCore(key, key, loader, priority, mode);
    }

    /// <summary>As <see cref="GetOrLoad(string, CacheLoader{T}, ResourcePriority, CacheMode)"/>, with the key in a span:
    /// a key already cached allocates nothing; a new one is interned.</summary>
    /// <param name="key">The key (not empty).</param>
    /// <param name="loader">As that overload.</param>
    /// <param name="priority">As that overload.</param>
    /// <param name="mode">As that overload.</param>
    /// <returns>As that overload.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="loader"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As that overload.</exception>
    /// <exception cref="CacheLoadException">As that overload.</exception>
    /// <exception cref="ResourceException">As that overload.</exception>
    /// <exception cref="ObjectDisposedException">As that overload.</exception>
    public CacheRef<T> GetOrLoad(ReadOnlySpan<char> key, CacheLoader<T> loader, ResourcePriority priority = ResourcePriority.Normal, CacheMode mode = CacheMode.Reuse)
    {
        if (key.IsEmpty)
        {
            ThrowHelper.ThrowArgument(nameof(key), "A cache key is not empty.");
        }

        return GetOrLoadCore(key, null, loader, priority, mode);
    }

    /// <summary>A strong reference to <paramref name="key"/>'s entry if it is loaded (never loads; a hit counts).</summary>
    /// <param name="key">The key.</param>
    /// <param name="reference">The reference, or <see langword="default"/>.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>; <see cref="ResourceStatus.NotFound"/> when the key is not cached or is
    /// still loading; <see cref="ResourceStatus.CapacityExceeded"/> at <see cref="ResourceCacheOptions{T}.MaxReferences"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The cache has been disposed.</exception>
    public ResourceStatus TryGet(string key, out CacheRef<T> reference)
    {
        ArgumentNullException.ThrowIfNull(key);
        return TryGet(key.AsSpan(), out reference);
    }

    /// <summary>As <see cref="TryGet(string, out CacheRef{T})"/>, by span (allocates nothing).</summary>
    /// <param name="key">The key.</param>
    /// <param name="reference">The reference, or <see langword="default"/>.</param>
    /// <returns>As that overload.</returns>
    /// <exception cref="ObjectDisposedException">The cache has been disposed.</exception>
    public ResourceStatus TryGet(ReadOnlySpan<char> key, out CacheRef<T> reference)
    {
        reference = default;
        lock (_lock)
        {
            ThrowIfDisposedLocked();
            if (!TryFindLocked(key, out Entry? entry) || entry.State != CacheEntry.Resident)
            {
                return ResourceStatus.NotFound;
            }

            ResourceStatus status = TryAddRefLocked(entry, out reference);
            if (status == ResourceStatus.Ok)
            {
                _hits++;
            }

            return status;
        }
    }

    /// <summary>A strong reference to <paramref name="key"/>'s entry, which must be loaded (never loads).</summary>
    /// <param name="key">The key.</param>
    /// <returns>The reference.</returns>
    /// <exception cref="ResourceException"><see cref="ResourceStatus.NotFound"/> when the key is not loaded;
    /// <see cref="ResourceStatus.CapacityExceeded"/> at <see cref="ResourceCacheOptions{T}.MaxReferences"/>.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The cache has been disposed.</exception>
    public CacheRef<T> Get(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Get(key.AsSpan());
    }

    /// <summary>As <see cref="Get(string)"/>, by span (allocates nothing).</summary>
    /// <param name="key">The key.</param>
    /// <returns>The reference.</returns>
    /// <exception cref="ResourceException">As that overload.</exception>
    /// <exception cref="ObjectDisposedException">The cache has been disposed.</exception>
    public CacheRef<T> Get(ReadOnlySpan<char> key)
    {
        ResourceStatus status = TryGet(key, out CacheRef<T> reference);
        if (status != ResourceStatus.Ok)
        {
            throw new ResourceException(status, $"Cache '{Name}': '{key}' {(status == ResourceStatus.NotFound ? "is not loaded" : "cannot be referenced")}: {status.GetDescription()}");
        }

        return reference;
    }

    /// <summary>Whether <paramref name="key"/> is cached and loaded.</summary>
    /// <param name="key">The key.</param>
    /// <returns>True when a request for it now would be a hit.</returns>
    public bool Contains(ReadOnlySpan<char> key)
    {
        lock (_lock)
        {
            return !_disposed && TryFindLocked(key, out Entry? entry) && entry.State == CacheEntry.Resident;
        }
    }

    /// <summary>A snapshot of the cache's entries and counters.</summary>
    public CacheStats GetStats()
    {
        lock (_lock)
        {
            return new CacheStats(
                _entries,
                _referenced,
                _entries - _referenced - _loading,
                _loading,
                _residentBytes,
                _hits,
                _misses,
                _loads,
                _loadFailures,
                _reloads,
                _unloads[(int)CacheUnloadReason.Reclaimed],
                _unloads[(int)CacheUnloadReason.OverCapacity],
                _unloads[(int)CacheUnloadReason.Pressure],
                _unloads[(int)CacheUnloadReason.Unused],
                _unloads[(int)CacheUnloadReason.Forced],
                _unloads.Sum());
        }
    }

    /// <summary>Native bytes of <paramref name="type"/> held by the cache's loaded entries.</summary>
    /// <param name="type">The resource type.</param>
    /// <returns>The bytes.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is unknown.</exception>
    public long GetResidentBytes(ResourceType type)
    {
        if (!ResourceTypes.IsDefined(type))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(type), type, "Unknown resource type.");
        }

        lock (_lock)
        {
            return _typeBytes[(int)type];
        }
    }

    /// <summary>How many times the entries of one unload reason were unloaded.</summary>
    /// <param name="reason">The reason.</param>
    /// <returns>The count.</returns>
    public long GetUnloadCount(CacheUnloadReason reason)
    {
        if ((uint)reason >= (uint)_unloads.Length)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(reason), reason, "Unknown unload reason.");
        }

        lock (_lock)
        {
            return _unloads[(int)reason];
        }
    }

    /// <summary>Copies a description of each cached entry (loading and loaded; replaced versions and private copies
    /// too), without allocating.</summary>
    /// <param name="destination">Where to write; entries past its length are counted, not written.</param>
    /// <returns>How many entries there are (more than written when <paramref name="destination"/> is short).</returns>
    public int CopyEntries(Span<CacheEntryInfo> destination)
    {
        lock (_lock)
        {
            int count = 0;
            foreach (Entry entry in _live)
            {
                if (count < destination.Length)
                {
                    destination[count] = entry.Describe();
                }

                count++;
            }

            return count;
        }
    }

    /// <summary>Unloads <paramref name="key"/>'s entry.</summary>
    /// <param name="key">The key.</param>
    /// <param name="force">Unload even if referenced: the outstanding references turn stale.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>; <see cref="ResourceStatus.NotFound"/> when it is not cached or still
    /// loading; <see cref="ResourceStatus.SharingFailure"/> when it is referenced and <paramref name="force"/> is false
    /// (nothing changes).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The cache has been disposed.</exception>
    public ResourceStatus Unload(string key, bool force = false)
    {
        ArgumentNullException.ThrowIfNull(key);
        Entry? victim;
        CacheUnloadReason reason;
        lock (_lock)
        {
            ThrowIfDisposedLocked();
            if (!TryFindLocked(key, key, out victim) || victim.State != CacheEntry.Resident)
            {
                return ResourceStatus.NotFound;
            }

            if (victim.RefCount > 0 && !force)
            {
                return ResourceStatus.SharingFailure;
            }

            reason = victim.RefCount > 0 ? CacheUnloadReason.Forced : CacheUnloadReason.Unused;
            TakeOutLocked(victim, reason);
        }

        UnloadChain(victim);
        return ResourceStatus.Ok;
    }

    /// <summary>Unloads every unreferenced entry.</summary>
    /// <returns>The native bytes released.</returns>
    /// <exception cref="ObjectDisposedException">The cache has been disposed.</exception>
    public long UnloadUnused()
    {
        Entry? victims;
        long bytes;
        lock (_lock)
        {
            ThrowIfDisposedLocked();
            victims = TakeVictimsLocked(CacheUnloadReason.Unused, type: null, bytesWanted: long.MaxValue, out bytes);
        }

        UnloadChain(victims);
        return bytes;
    }

    /// <summary>Unloads every entry (referenced ones too: their references turn stale) with
    /// <see cref="CacheUnloadReason.CacheDisposed"/>, and stops answering the manager's reclamation requests. A load in
    /// flight finishes, is unloaded at once, and its caller gets <see cref="ObjectDisposedException"/>. Idempotent.</summary>
    public void Dispose()
    {
        Entry? victims = null;
        var cancels = new List<CancellationTokenSource>();
        var queued = new List<Entry>();
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            CacheDirectory.Unlist(_manager, this);

            var resident = new List<Entry>();
            foreach (Entry entry in _live)
            {
                if (entry.State == CacheEntry.Resident)
                {
                    resident.Add(entry);
                }
                else if (entry.Cancel != null && !entry.Queued)
                {
                    cancels.Add(entry.Cancel); // a running async load: told to stop; it unloads itself when it ends
                }
            }

            // Newest load first: an entry finished loading after the dependencies it loaded, so it unloads (and its
            // hook runs) before they do.
            resident.Sort(static (a, b) => b.LoadOrder.CompareTo(a.LoadOrder));
            for (int i = resident.Count - 1; i >= 0; i--)
            {
                Entry entry = resident[i];
                TakeOutLocked(entry, CacheUnloadReason.CacheDisposed);
                entry.Next = victims;
                victims = entry;
            }

            while (_queue.TryDequeue(out Entry? waiting, out _))
            {
                if (waiting.Queued) // else promoted: it is running, and was told to stop above
                {
                    waiting.Queued = false;
                    queued.Add(waiting);
                }
            }

            Monitor.PulseAll(_lock); // waiters for a load see the cache disposed
        }

        foreach (CancellationTokenSource cancel in cancels)
        {
            CancelLoad(cancel, "a running load");
        }

        CancelLoad(_disposing, "the running loads"); // those no waiter could cancel

        foreach (Entry waiting in queued)
        {
            try
            {
                CompleteLoad(waiting, default, default!, new ObjectDisposedException(GetType().Name, $"Cache '{Name}' was disposed while '{waiting.Key}' was queued."), CacheMode.Reuse);
            }
            catch (ObjectDisposedException)
            {
                // Delivered to its waiters through the entry's task.
            }
        }

        UnloadChain(victims);
        DisposeRegistrations();
        lock (_lock)
        {
            DisposeHoldsIfIdleLocked();
        }
    }

    /// <summary>Once the cache is disposed and no load is in flight (a finishing load still frees its record), the
    /// reference records go; whichever comes last — Dispose or the last load — does it.</summary>
    private void DisposeHoldsIfIdleLocked()
    {
        if (_disposed && _loading == 0)
        {
            _holds.Dispose();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"ResourceCache<{typeof(T).Name}>({Name})";

    private CacheRef<T> GetOrLoadCore(ReadOnlySpan<char> key, string? keyText, CacheLoader<T> loader, ResourcePriority priority, CacheMode mode)
    {
        ArgumentNullException.ThrowIfNull(loader);
        if ((uint)priority > (uint)ResourcePriority.Critical)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(priority), priority, "Unknown priority.");
        }

        if ((uint)mode > (uint)CacheMode.Ignore)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(mode), mode, "Unknown cache mode.");
        }

        Entry entry;
        Handle<CacheHold> hold;
        lock (_lock)
        {
            ThrowIfDisposedLocked();
            if (mode == CacheMode.Reuse)
            {
                while (TryFindLocked(key, keyText, out Entry? found))
                {
                    if (found.State == CacheEntry.Resident)
                    {
                        ThrowHelper.ThrowIfFailed(TryAddRefLocked(found, out CacheRef<T> hit));
                        _hits++;
                        return hit;
                    }

                    WaitForLoadLocked(found); // Loading: wait for it to end, then look again
                }
            }

            // A miss: a new entry, cached now (Reuse: later requests wait for this load) or when it has loaded (Replace).
            ThrowHelper.ThrowIfFailed(_holds.TryAllocate(out hold));
            entry = _entryPool.Get();
            entry.Key = keyText ?? FindKeyText(key);
            entry.State = CacheEntry.Loading;
            entry.Priority = priority;
            entry.LoaderThread = Environment.CurrentManagedThreadId;
            entry.IsPrivate = mode == CacheMode.Ignore;
            _holds.Get(hold).Generation = entry.Generation;
            if (mode == CacheMode.Reuse)
            {
                _map.Add(entry.Key, entry);
                entry.IsCached = true;
            }

            _live.Add(entry);
            _entries++;
            _loading++;
            _misses++;
        }

        return Load(entry, hold, loader, mode);
    }

    private CacheRef<T> Load(Entry entry, Handle<CacheHold> hold, CacheLoader<T> loader, CacheMode mode)
    {
        CacheLoadSlot slot = _contextPool.Get();
        T value;
        Exception? failure = null;
        CacheLoadContext context = slot.Begin(_manager, _owner, entry, _options.Name);
        try
        {
            value = loader(context);
            if (IsNull(value))
            {
                failure = NullFailure(entry);
            }
        }
        catch (Exception exception)
        {
            value = default!;
            failure = LoadFailure(entry, exception);
        }
        finally
        {
            slot.End();
            _contextPool.Return(slot);
        }

        int generation = CompleteLoad(entry, hold, value, failure, mode);
        return new CacheRef<T>(entry, hold, generation);
    }

    private CacheLoadException NullFailure(Entry entry) =>
        new(entry.Key, $"The loader of '{entry.Key}' in cache '{Name}' returned null.");

    private CacheLoadException LoadFailure(Entry entry, Exception exception) =>
        exception is CacheLoadException { InnerException: null } cycle && cycle.Key == entry.Key
            ? cycle
            : new CacheLoadException(entry.Key, $"Loading '{entry.Key}' in cache '{Name}' failed: {exception.Message}", exception);

    /// <summary>Ends a load, sync or async: publishes the entry (one reference for the caller when
    /// <paramref name="hold"/> is a record, one reserved for each async waiter), or fails it; then tells every waiter.</summary>
    /// <returns>The entry's generation, for the caller's reference.</returns>
    /// <exception cref="CacheLoadException">The load failed (<paramref name="failure"/>), for a sync caller.</exception>
    /// <exception cref="ObjectDisposedException">The cache was disposed during the load (the entry is unloaded).</exception>
    private int CompleteLoad(Entry entry, Handle<CacheHold> hold, T value, Exception? failure, CacheMode mode)
    {
        TaskCompletionSource<bool>? done;
        if (failure != null)
        {
            done = FailLoad(entry, hold, failure);
            done?.TrySetException(failure);
            throw failure;
        }

        entry.Value = value;
        RunLoadedHook(entry);

        Entry? victims = null;
        bool disposed;
        int unregistered = 0;
        int generation = 0;
        lock (_lock)
        {
            done = entry.Done; // read under the lock: an async waiter that joins before this creates it
            _loading--;
            disposed = _disposed;
            entry.LoaderThread = 0;
            entry.State = CacheEntry.Resident;
            AccountLoadedLocked(entry);
            if (disposed)
            {
                // Dispose ran during the load: this entry is unloaded at once and its callers told.
                if (!hold.IsNull)
                {
                    _holds.Free(hold);
                }

                entry.AsyncWaiters = 0;
                TakeOutLocked(entry, CacheUnloadReason.CacheDisposed);
                victims = entry;
                DisposeHoldsIfIdleLocked();
            }
            else
            {
                generation = entry.Generation; // read here: once the lock is left the entry may be unloaded and reused
                entry.Reserved = entry.AsyncWaiters;
                entry.AsyncWaiters = 0;
                entry.RefCount = (hold.IsNull ? 0 : 1) + entry.Reserved;
                entry.LastAccess = ++_accessTick;
                entry.LoadOrder = ++_loadOrder;
                _loads++;
                if (entry.RefCount > 0)
                {
                    _referenced++;
                }
                else if (entry.IsCached)
                {
                    LinkLru(entry); // every async waiter gave up: resident, unreferenced
                }
                else
                {
                    // Every waiter gave up and the load was cancelled (so uncached), but the loader finished anyway.
                    TakeOutLocked(entry, CacheUnloadReason.Released);
                    victims = entry;
                }

                if (mode == CacheMode.Replace)
                {
                    victims = PublishReplacementLocked(entry, victims);
                }

                victims = EnforceCapLocked(victims);
                unregistered = UnregisteredTypesLocked(entry);
            }

            Monitor.PulseAll(_lock);
        }

        if (unregistered != 0)
        {
            RegisterReclaimers(unregistered);
        }

        UnloadChain(victims);
        if (disposed)
        {
            var gone = new ObjectDisposedException(GetType().Name, $"Cache '{Name}' was disposed while '{entry.Key}' was loading.");
            done?.TrySetException(gone);
            throw gone;
        }

        done?.TrySetResult(true);
        return generation;
    }

    /// <summary>A failed load: releases what it acquired, and tells the sync waiters.</summary>
    /// <returns>The async waiters' completion source, to fail (read under the lock, before the entry is recycled).</returns>
    private TaskCompletionSource<bool>? FailLoad(Entry entry, Handle<CacheHold> hold, Exception failure)
    {
        ReleaseMemory(entry); // nothing of a failed load stays charged
        TaskCompletionSource<bool>? done;
        lock (_lock)
        {
            done = entry.Done;
            if (!hold.IsNull)
            {
                _holds.Free(hold);
            }

            entry.AsyncWaiters = 0;
            if (entry.IsCached)
            {
                _map.Remove(entry.Key);
                entry.IsCached = false;
            }

            _live.Remove(entry);
            _entries--;
            _loading--;
            _loadFailures++;
            entry.Generation++;
            entry.State = CacheEntry.Failed;
            entry.Failure = failure;
            RecycleLocked(entry); // once the last waiter has read the failure
            DisposeHoldsIfIdleLocked();

            Monitor.PulseAll(_lock);
        }

        return done;
    }

    /// <summary>Waits (under the lock, which it releases while waiting) for another thread's load of
    /// <paramref name="entry"/> to end. Rethrows its failure; throws on a load of this thread (a cycle).</summary>
    private void WaitForLoadLocked(Entry entry)
    {
        if (entry.LoaderThread == Environment.CurrentManagedThreadId || CacheLoadChain.IsInside(entry))
        {
            throw new CacheLoadException(
                entry.Key, $"'{entry.Key}' in cache '{Name}' is being loaded by this load already: its loader depends on itself (a cycle).");
        }

        if (entry.Queued)
        {
            PromoteLocked(entry); // a blocked thread (maybe a loader another load waits for) does not wait behind the queue
        }

        if (!CacheLoadWaits.TryBeginWait(entry))
        {
            throw new CacheLoadException(
                entry.Key, $"'{entry.Key}' in cache '{Name}' is being loaded by another thread that waits, directly or through others, for a load of this thread (a cycle).");
        }

        int generation = entry.Generation;
        entry.Waiters++;
        try
        {
            while (entry.Generation == generation && entry.State == CacheEntry.Loading && !_disposed)
            {
                Monitor.Wait(_lock);
            }
        }
        finally
        {
            entry.Waiters--;
            CacheLoadWaits.EndWait();
        }

        // The entry cannot have been recycled while this thread waited on it (see RecycleLocked).
        Exception? failure = entry.State == CacheEntry.Failed && entry.Generation == generation + 1 ? entry.Failure : null;
        string key = entry.Key;
        if (entry.Waiters == 0 && entry.RecycleWhenUnwaited)
        {
            _entryPool.Return(entry);
        }

        ThrowIfDisposedLocked();
        if (failure != null)
        {
            throw new CacheLoadException(key, failure.Message, failure is CacheLoadException { InnerException: { } inner } ? inner : failure);
        }
    }

    private void AccountLoadedLocked(Entry entry)
    {
        _residentBytes += entry.Bytes;
        foreach (HeldResource held in entry.Resources)
        {
            _typeBytes[(int)held.Type] += held.Size;
        }
    }

    /// <summary>A Replace load has finished: it becomes the cached entry; the version it replaces leaves the key map and
    /// is unloaded now if nobody holds it, else when its last holder releases it.</summary>
    /// <returns><paramref name="victims"/>, with the replaced version first when it is unloaded now.</returns>
    private Entry? PublishReplacementLocked(Entry entry, Entry? victims)
    {
        if (_map.Remove(entry.Key, out Entry? old))
        {
            old.IsCached = false;
            _reloads++;
            if (old.State == CacheEntry.Resident && old.RefCount == 0)
            {
                TakeOutLocked(old, CacheUnloadReason.Replaced);
                old.Next = victims;
                victims = old;
            }
        }

        _map.Add(entry.Key, entry);
        entry.IsCached = true;
        return victims;
    }

    private bool TryFindLocked(ReadOnlySpan<char> key, [NotNullWhen(true)] out Entry? entry) => TryFindLocked(key, null, out entry);

    /// <summary>Finds a cached entry; <paramref name="keyText"/> is the key as a string when the caller has one (on .NET 8,
    /// which has no span lookup, it is used as is instead of being interned again).</summary>
    private bool TryFindLocked(ReadOnlySpan<char> key, string? keyText, [NotNullWhen(true)] out Entry? entry)
    {
#if NET9_0_OR_GREATER
        return _spanMap.TryGetValue(key, out entry);
#else
        return _map.TryGetValue(keyText ?? _keys.GetOrAdd(key), out entry);
#endif
    }

    private string FindKeyText(ReadOnlySpan<char> key) => _keys.GetOrAdd(key);

    private ResourceStatus TryAddRefLocked(Entry entry, out CacheRef<T> reference)
    {
        ResourceStatus status = _holds.TryAllocate(new CacheHold { Generation = entry.Generation }, out Handle<CacheHold> hold);
        if (status != ResourceStatus.Ok)
        {
            reference = default;
            return status;
        }

        if (entry.RefCount++ == 0)
        {
            _referenced++;
            UnlinkLru(entry);
        }

        entry.LastAccess = ++_accessTick;
        reference = new CacheRef<T>(entry, hold, entry.Generation);
        return ResourceStatus.Ok;
    }

    internal CacheRef<T> AddRef(Entry entry, Handle<CacheHold> hold, int generation)
    {
        lock (_lock)
        {
            if (_disposed || !_holds.Contains(hold) || entry.Generation != generation || entry.State != CacheEntry.Resident)
            {
                ThrowHelper.ThrowResourceException(ResourceStatus.StaleHandle);
            }

            ThrowHelper.ThrowIfFailed(TryAddRefLocked(entry, out CacheRef<T> reference));
            return reference;
        }
    }

    internal bool TryUpgrade(Entry entry, int generation, out CacheRef<T> reference)
    {
        lock (_lock)
        {
            if (_disposed || entry.Generation != generation || entry.State != CacheEntry.Resident)
            {
                reference = default;
                return false;
            }

            return TryAddRefLocked(entry, out reference) == ResourceStatus.Ok;
        }
    }

    internal ResourceStatus Release(Entry entry, Handle<CacheHold> hold, int generation)
    {
        Entry? victims = null;
        lock (_lock)
        {
            if (_disposed || _holds.TryGet(hold, out CacheHold record) != ResourceStatus.Ok || record.Generation != generation)
            {
                return ResourceStatus.StaleHandle; // released already (this or a copy), or the cache is gone
            }

            _holds.Free(hold);
            if (entry.Generation != generation || entry.State != CacheEntry.Resident)
            {
                return ResourceStatus.StaleHandle; // unloaded by force: its count went with it
            }

            victims = DropCountLocked(entry);
        }

        UnloadChain(victims);
        return ResourceStatus.Ok;
    }

    /// <summary>One strong reference fewer: at zero a cached entry becomes evictable (and the cap is enforced), a
    /// replaced version or private copy is taken out.</summary>
    /// <returns>Entries to unload outside the lock.</returns>
    private Entry? DropCountLocked(Entry entry)
    {
        entry.LastAccess = ++_accessTick;
        if (--entry.RefCount > 0)
        {
            return null;
        }

        _referenced--;
        if (entry.IsCached)
        {
            LinkLru(entry);
            return EnforceCapLocked(null);
        }

        TakeOutLocked(entry, entry.IsPrivate ? CacheUnloadReason.Released : CacheUnloadReason.Replaced);
        return entry;
    }

    internal int CopyResources(Entry entry, int generation, Span<ResourceHandle> destination)
    {
        lock (_lock)
        {
            if (entry.Generation != generation || entry.State != CacheEntry.Resident)
            {
                return 0;
            }

            List<HeldResource> resources = entry.Resources;
            for (int i = 0; i < resources.Count && i < destination.Length; i++)
            {
                destination[i] = resources[i].Handle;
            }

            return resources.Count;
        }
    }

    /// <summary>Whether a loader's result is null; for a struct (not nullable) false, without boxing it.</summary>
    private static bool IsNull(T value) =>
        typeof(T).IsValueType ? Nullable.GetUnderlyingType(typeof(T)) != null && value is null : ReferenceEquals(value, null);

    /// <summary>Throws when the cache — or its manager, which has freed every entry's memory with it — is disposed.</summary>
    private void ThrowIfDisposedLocked()
    {
        if (_disposed)
        {
            ThrowHelper.ThrowObjectDisposed(this);
        }

        if (_manager.IsDisposed)
        {
            throw new ObjectDisposedException(GetType().Name, $"The manager of cache '{Name}' has been disposed (and freed every entry's memory).");
        }
    }

    private void RunLoadedHook(Entry entry)
    {
        Action<string, T>? hook = _options.OnLoaded;
        if (hook == null)
        {
            return;
        }

        try
        {
            hook(entry.Key, entry.Value);
        }
        catch (Exception exception)
        {
            ReportFault(entry.Key, CacheCallbackKind.Loaded, exception);
        }
    }

    private void ReportFault(string key, CacheCallbackKind kind, Exception exception)
    {
        Interlocked.Increment(ref _callbackFaults);
        try
        {
            CallbackFaulted?.Invoke(this, new CacheCallbackFaultEventArgs(key, kind, exception));
        }
        catch (Exception)
        {
            // A throwing fault handler must not break the load or unload that reported the fault.
        }
    }

    /// <summary>One cache entry: the value and the bookkeeping of <see cref="CacheEntry"/>.</summary>
    internal sealed class Entry : CacheEntry
    {
        public Entry(ResourceCache<T> owner)
        {
            Owner = owner;
        }

        public ResourceCache<T> Owner { get; }

        public T Value = default!;

        public bool IsAlive(int generation) => Volatile.Read(ref Generation) == generation && Volatile.Read(ref State) == Resident;

        /// <summary>The value of the life <paramref name="generation"/>, read without the lock: the life is checked
        /// before and after the read, with a load-load barrier between (a no-op on x64), so a value of a later life is
        /// never returned on a weakly ordered CPU either.</summary>
        public bool TryGetValue(int generation, out T value)
        {
            if (IsAlive(generation))
            {
                value = Value;
#if NET10_0_OR_GREATER
                Volatile.ReadBarrier();
#else
                Interlocked.MemoryBarrier();
#endif
                if (Volatile.Read(ref Generation) == generation)
                {
                    return true;
                }
            }

            value = default!;
            return false;
        }

        public CacheEntryInfo Describe() => new(
            Key,
            State == Loading ? CacheEntryState.Loading : RefCount > 0 ? CacheEntryState.Referenced : CacheEntryState.Unreferenced,
            RefCount,
            Bytes,
            Priority,
            LastAccess,
            IsCached);

        public override ResourceStatus ReleaseHold(Handle<CacheHold> hold, int generation) => Owner.Release(this, hold, generation);
    }

    private sealed class EntryPolicy(ResourceCache<T> cache) : PooledObjectPolicy<Entry>
    {
        public override Entry Create() => new(cache);

        public override bool Return(Entry entry)
        {
            Volatile.Write(ref entry.Generation, entry.Generation + 1); // a weak reference to its last life never upgrades to its next
            Interlocked.MemoryBarrier(); // the new generation is visible before the value changes (TryGetValue reads without the lock)
            entry.Value = default!;
            entry.Reset();
            return true;
        }
    }

    private sealed class ContextPolicy : PooledObjectPolicy<CacheLoadSlot>
    {
        public override CacheLoadSlot Create() => new();

        public override bool Return(CacheLoadSlot slot) => true;
    }
}
