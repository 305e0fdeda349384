namespace Flight.Hal.Resources;

// Eviction: the unreferenced entries in least-recently-used lists (one per priority), taking entries out of the cache
// under its lock, and unloading them (hook, Dispose, native release) outside it; the manager's reclamation and pressure
// callbacks and the MaxBytes cap that start evictions.
public sealed partial class ResourceCache<T>
{
    private const int PriorityCount = (int)ResourcePriority.Critical + 1;

    private readonly HashSet<Entry> _live = [];                        // every entry not yet taken out; under _lock
    private readonly Entry?[] _lruHead = new Entry?[PriorityCount];    // oldest unreferenced cached entry per priority
    private readonly Entry?[] _lruTail = new Entry?[PriorityCount];    // newest
    private readonly IDisposable?[] _reclaimers = new IDisposable?[ResourceTypes.Count]; // under _lock
    private readonly IDisposable? _pressureRegistration;

    /// <summary>False for a struct that is not <see cref="IDisposable"/>: the test is skipped, since it would box.</summary>
    private static bool MayBeDisposable => !typeof(T).IsValueType || typeof(IDisposable).IsAssignableFrom(typeof(T));

    /// <summary>Appends an entry whose count fell to zero to its priority's list (most recently used).</summary>
    private void LinkLru(Entry entry)
    {
        int p = (int)entry.Priority;
        entry.Prev = _lruTail[p];
        entry.Next = null;
        if (_lruTail[p] is { } tail)
        {
            tail.Next = entry;
        }
        else
        {
            _lruHead[p] = entry;
        }

        _lruTail[p] = entry;
        entry.InLru = true;
    }

    private void UnlinkLru(Entry entry)
    {
        if (!entry.InLru)
        {
            return;
        }

        int p = (int)entry.Priority;
        if (entry.Prev is { } prev)
        {
            prev.Next = entry.Next;
        }
        else
        {
            _lruHead[p] = (Entry?)entry.Next;
        }

        if (entry.Next is { } next)
        {
            next.Prev = entry.Prev;
        }
        else
        {
            _lruTail[p] = (Entry?)entry.Prev;
        }

        entry.Prev = null;
        entry.Next = null;
        entry.InLru = false;
    }

    /// <summary>Takes a loaded entry out of the cache: no request, reference or weak reference reaches it any more,
    /// and its bytes leave the figures. The caller unloads it (<see cref="UnloadChain"/>) after leaving the lock; its
    /// <see cref="CacheEntry.Next"/> is free for chaining victims.</summary>
    private void TakeOutLocked(Entry entry, CacheUnloadReason reason)
    {
        UnlinkLru(entry);
        if (entry.IsCached)
        {
            _map.Remove(entry.Key);
            entry.IsCached = false;
        }

        if (entry.RefCount > 0)
        {
            _referenced--;
            entry.RefCount = 0; // a forced unload: the outstanding references are stale now
        }

        _live.Remove(entry);
        _entries--;
        _residentBytes -= entry.Bytes;
        foreach (HeldResource held in entry.Resources)
        {
            _typeBytes[(int)held.Type] -= held.Size;
        }

        _unloads[(int)reason]++;
        entry.UnloadReason = reason;
        Volatile.Write(ref entry.State, CacheEntry.Unloading);
        Volatile.Write(ref entry.Generation, entry.Generation + 1);
        entry.Next = null;
    }

    /// <summary>Takes unreferenced entries out, lowest priority first and least recently used first within one, until
    /// <paramref name="bytesWanted"/> bytes (of <paramref name="type"/>, or of any type when null) are chosen; entries
    /// holding none of <paramref name="type"/> are skipped.</summary>
    /// <returns>The victims, chained through <see cref="CacheEntry.Next"/> in the order chosen.</returns>
    private Entry? TakeVictimsLocked(CacheUnloadReason reason, ResourceType? type, long bytesWanted, out long bytes)
    {
        Entry? chain = null;
        Entry? last = null;
        bytes = 0;
        for (int p = 0; p < PriorityCount && bytes < bytesWanted; p++)
        {
            Entry? entry = _lruHead[p];
            while (entry != null && bytes < bytesWanted)
            {
                var next = (Entry?)entry.Next;
                long counted = type is ResourceType t ? entry.BytesOf(t) : entry.Bytes;
                if (type == null || counted > 0)
                {
                    TakeOutLocked(entry, reason);
                    if (last == null)
                    {
                        chain = entry;
                    }
                    else
                    {
                        last.Next = entry;
                    }

                    last = entry;
                    bytes += counted;
                }

                entry = next;
            }
        }

        return chain;
    }

    /// <summary>Evicts unreferenced entries while the resident bytes are over the cap.</summary>
    /// <param name="chain">Victims chosen already, to append to.</param>
    /// <returns>All victims.</returns>
    private Entry? EnforceCapLocked(Entry? chain)
    {
        long over = _residentBytes - _options.MaxBytes;
        if (over <= 0)
        {
            return chain;
        }

        Entry? victims = TakeVictimsLocked(CacheUnloadReason.OverCapacity, type: null, over, out _);
        if (chain == null)
        {
            return victims;
        }

        Entry last = chain;
        while (last.Next != null)
        {
            last = (Entry)last.Next;
        }

        last.Next = victims; // the chain given first (a replaced version), then the evictions in the order chosen
        return chain;
    }

    /// <summary>Unloads entries taken out (outside the lock): the unloaded hook, the value's Dispose, the native
    /// memory and the dependencies released; then each entry goes back to the pool.</summary>
    private void UnloadChain(Entry? chain)
    {
        while (chain != null)
        {
            var next = (Entry?)chain.Next;
            chain.Next = null;
            Unload(chain);
            chain = next;
        }
    }

    private void Unload(Entry entry)
    {
        if (_options.OnUnloaded is { } hook)
        {
            try
            {
                hook(entry.Key, entry.Value, entry.UnloadReason);
            }
            catch (Exception exception)
            {
                ReportFault(entry.Key, CacheCallbackKind.Unloaded, exception);
            }
        }

        if (_options.DisposeValues && MayBeDisposable && entry.Value is IDisposable disposable)
        {
            try
            {
                disposable.Dispose();
            }
            catch (Exception exception)
            {
                ReportFault(entry.Key, CacheCallbackKind.DisposeValue, exception);
            }
        }

        ReleaseMemory(entry);
        lock (_lock)
        {
            RecycleLocked(entry);
        }
    }

    /// <summary>Releases an entry's native memory and its dependencies (a load that failed, or an unload).</summary>
    private void ReleaseMemory(Entry entry)
    {
        List<HeldResource> resources = entry.Resources;
        for (int i = resources.Count - 1; i >= 0; i--)
        {
            if (!_manager.IsDisposed)
            {
                try
                {
                    _manager.Release(resources[i].Handle, _owner);
                }
                catch (ObjectDisposedException)
                {
                    // The manager was disposed meanwhile: it has freed everything.
                }
            }
        }

        resources.Clear();
        List<CacheDependency> dependencies = entry.Dependencies;
        for (int i = dependencies.Count - 1; i >= 0; i--)
        {
            CacheDependency dependency = dependencies[i];
            dependency.Entry.ReleaseHold(dependency.Hold, dependency.Generation);
        }

        dependencies.Clear();
    }

    /// <summary>Returns an ended entry to the pool, or leaves that to the last thread still waiting on it.</summary>
    private void RecycleLocked(Entry entry)
    {
        if (entry.Waiters > 0)
        {
            entry.RecycleWhenUnwaited = true;
        }
        else
        {
            _entryPool.Return(entry);
        }
    }

    /// <summary>The types <paramref name="entry"/> holds that the cache is not yet a reclamation callback for (a bit
    /// per type).</summary>
    private int UnregisteredTypesLocked(Entry entry)
    {
        int types = 0;
        foreach (HeldResource held in entry.Resources)
        {
            if (_reclaimers[(int)held.Type] == null)
            {
                types |= 1 << (int)held.Type;
            }
        }

        return types;
    }

    /// <summary>Registers the cache as a reclamation callback for each type in <paramref name="types"/>, once.</summary>
    private void RegisterReclaimers(int types)
    {
        lock (_lock)
        {
            for (int t = 0; t < ResourceTypes.Count && !_disposed; t++)
            {
                if ((types & (1 << t)) != 0)
                {
                    _reclaimers[t] ??= _manager.RegisterReclamationCallback((ResourceType)t, Reclaim);
                }
            }
        }
    }

    /// <summary>The manager's request: free <paramref name="requestedBytes"/> of <paramref name="type"/> (evicting only
    /// unreferenced entries that hold some).</summary>
    private long Reclaim(ResourceType type, long requestedBytes)
    {
        Entry? victims;
        long bytes;
        lock (_lock)
        {
            if (_disposed)
            {
                return 0;
            }

            victims = TakeVictimsLocked(CacheUnloadReason.Reclaimed, type, Math.Max(1, requestedBytes), out bytes);
        }

        UnloadChain(victims);
        return bytes;
    }

    /// <summary>A type's pressure rose to <paramref name="level"/> or above: evict its unreferenced entries, one at a
    /// time, until the level falls below it or none is left.</summary>
    private void OnPressure(in PressureChange change, ResourcePressure level)
    {
        if (change.Current < level || change.Current <= change.Previous)
        {
            return;
        }

        ResourceType type = change.Type;
        while (true)
        {
            Entry? victim;
            lock (_lock)
            {
                if (_disposed || _typeBytes[(int)type] == 0)
                {
                    return;
                }

                victim = TakeVictimsLocked(CacheUnloadReason.Pressure, type, bytesWanted: 1, out _);
            }

            if (victim == null)
            {
                return;
            }

            UnloadChain(victim);
            if (_manager.IsDisposed || _manager.GetPressure(type) < level)
            {
                return;
            }
        }
    }

    private void DisposeRegistrations()
    {
        _pressureRegistration?.Dispose();
        IDisposable?[] registrations;
        lock (_lock)
        {
            registrations = (IDisposable?[])_reclaimers.Clone();
            Array.Clear(_reclaimers);
        }

        foreach (IDisposable? registration in registrations)
        {
            registration?.Dispose();
        }
    }
}
