namespace Flight.Hal.Resources;

// Async: LoadAsync's loads (shared per key, at most MaxConcurrentLoads running, the rest queued by priority), their
// waiters (each with its own cancellation; a reference reserved for each when the load publishes), progress and status.
public sealed partial class ResourceCache<T>
{
    private readonly PriorityQueue<Entry, (int Priority, long Order)> _queue = new(); // under _lock
    private long _queueOrder;                                                         // under _lock
    private int _running;                                                             // async loads running; under _lock
    private readonly CancellationTokenSource _disposing = new();                      // the token of loads no waiter can cancel

    [ThreadStatic]
    private static int t_inlineStarts; // queued loads started inline on this thread's stack (bounded, then the pool)

    /// <summary>Returns the entry for <paramref name="key"/>, loading it with <paramref name="loader"/> on a miss without
    /// blocking the calling thread. Concurrent requests for one key — asynchronous or synchronous — share one load.</summary>
    /// <param name="key">The key (not empty).</param>
    /// <param name="loader">Builds the value and acquires its memory; called only on a miss.</param>
    /// <param name="priority">The entry's eviction priority, and its place in the queue when
    /// <see cref="ResourceCacheOptions{T}.MaxConcurrentLoads"/> loads are running already (highest first).</param>
    /// <param name="cancellationToken">Cancels this request's wait. When every request waiting for a load is cancelled,
    /// the load is cancelled too (its loader's token) and everything it acquired is released.</param>
    /// <returns>A strong reference (a hit completes at once, without allocating). Dispose it when done.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="loader"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="priority"/> is unknown.</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed (also when that happens during the load).</exception>
    /// <remarks>The returned task fails with <see cref="CacheLoadException"/> (every waiter of a failed load gets the
    /// same one), <see cref="OperationCanceledException"/> (this request's token), <see cref="ResourceException"/>
    /// (<see cref="ResourceStatus.CapacityExceeded"/> at <see cref="ResourceCacheOptions{T}.MaxReferences"/>;
    /// <see cref="ResourceStatus.StaleHandle"/> when the entry was unloaded by force before this request took its
    /// reference).</remarks>
    public ValueTask<CacheRef<T>> LoadAsync(
        string key, AsyncCacheLoader<T> loader, ResourcePriority priority = ResourcePriority.Normal, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(loader);
        if ((uint)priority > (uint)ResourcePriority.Critical)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(priority), priority, "Unknown priority.");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<CacheRef<T>>(cancellationToken);
        }

        Entry entry;
        bool start = false;
        Task done;
        int generation;
        lock (_lock)
        {
            ThrowIfDisposedLocked();
            if (TryFindLocked(key, key, out Entry? found) && found.State == CacheEntry.Resident)
            {
                ThrowHelper.ThrowIfFailed(TryAddRefLocked(found, out CacheRef<T> hit));
                _hits++;
                return new ValueTask<CacheRef<T>>(hit);
            }

            if (found != null)
            {
                // Loading (sync or async): wait for it — unless this flow is inside that very load (a cycle).
                entry = found;
                if (CacheLoadChain.IsInside(entry))
                {
                    return ValueTask.FromException<CacheRef<T>>(new CacheLoadException(
                        key, $"'{key}' in cache '{Name}' is being loaded by this load already: its loader depends on itself (a cycle)."));
                }

                if (entry.Queued && CacheLoadChain.Current != null)
                {
                    PromoteLocked(entry); // a load waits for it: it must not wait behind that load's own slot
                }
            }
            else
            {
                entry = _entryPool.Get();
                entry.Key = key;
                entry.State = CacheEntry.Loading;
                entry.Priority = priority;
                entry.IsCached = true;
                entry.AsyncLoader = loader;
                entry.Cancel = cancellationToken.CanBeCanceled ? new CancellationTokenSource() : null; // else only Dispose stops it
                _map.Add(key, entry);
                _live.Add(entry);
                _entries++;
                _loading++;
                _misses++;
                if (_running < _options.MaxConcurrentLoads)
                {
                    _running++;
                    start = true;
                }
                else
                {
                    entry.Queued = true;
                    _queue.Enqueue(entry, (-(int)priority, _queueOrder++));
                }
            }

            entry.Done ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            entry.AsyncWaiters++;
            done = entry.Done.Task;
            generation = entry.Generation;
        }

        if (start)
        {
            _ = RunAsyncLoad(entry); // outside the lock; the loader's first part runs on this thread
        }

        return AwaitLoadAsync(entry, key, generation, done, cancellationToken);
    }

    /// <summary>Where <paramref name="key"/>'s load stands.</summary>
    /// <param name="key">The key.</param>
    /// <returns>Not found, queued, loading (with the loader's reported progress) or loaded.</returns>
    public CacheLoadStatus GetLoadStatus(ReadOnlySpan<char> key)
    {
        lock (_lock)
        {
            if (_disposed || !TryFindLocked(key, out Entry? entry))
            {
                return default;
            }

            return entry.State == CacheEntry.Resident
                ? new CacheLoadStatus(CacheLoadState.Loaded, 1, entry.Bytes)
                : new CacheLoadStatus(entry.Queued ? CacheLoadState.Queued : CacheLoadState.Loading, Volatile.Read(ref entry.Progress), Volatile.Read(ref entry.Bytes));
        }
    }

    /// <summary>Every load in progress, summed: for a loading screen.</summary>
    public CacheLoadingStats GetLoadingStats()
    {
        lock (_lock)
        {
            int queued = 0;
            int running = 0;
            long bytes = 0;
            double progress = 0;
            foreach (Entry entry in _live)
            {
                if (entry.State != CacheEntry.Loading || entry.Cancel?.IsCancellationRequested == true)
                {
                    continue; // a cancelled load is ending (a queued one fails without running when its turn comes)
                }

                if (entry.Queued)
                {
                    queued++;
                }
                else
                {
                    running++;
                    bytes += Volatile.Read(ref entry.Bytes);
                }

                progress += Volatile.Read(ref entry.Progress);
            }

            int count = queued + running;
            return new CacheLoadingStats(queued, running, bytes, count == 0 ? 1 : progress / count);
        }
    }

    /// <summary>Waits for a load and takes this request's reserved reference.</summary>
    private async ValueTask<CacheRef<T>> AwaitLoadAsync(Entry entry, string key, int generation, Task done, CancellationToken cancellationToken)
    {
        try
        {
            await done.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !done.IsFaulted)
        {
            AbandonWait(entry, generation);
            throw;
        }

        Entry? victims = null;
        ResourceStatus refused = ResourceStatus.Ok;
        lock (_lock)
        {
            // The load published (or a sync load did, counting this waiter): take the reference reserved for it.
            if (entry.Generation == generation && entry.State == CacheEntry.Resident && entry.Reserved > 0)
            {
                entry.Reserved--;
                ResourceStatus status = _holds.TryAllocate(new CacheHold { Generation = generation }, out Handle<CacheHold> hold);
                if (status == ResourceStatus.Ok)
                {
                    return new CacheRef<T>(entry, hold, generation);
                }

                victims = DropCountLocked(entry);
                refused = status;
            }
            else
            {
                ThrowIfDisposedLocked();
            }
        }

        if (refused != ResourceStatus.Ok)
        {
            UnloadChain(victims);
            ThrowHelper.ThrowResourceException(refused);
        }

        throw new ResourceException(ResourceStatus.StaleHandle, $"'{key}' in cache '{Name}' was unloaded by force before this request took its reference.");
    }

    /// <summary>A waiter's token was cancelled: it stops waiting. Before the load publishes, it is unregistered (and the
    /// load cancelled if nobody else waits); after, its reserved reference is given back.</summary>
    private void AbandonWait(Entry entry, int generation)
    {
        Entry? victims = null;
        CancellationTokenSource? cancelLoad = null;
        lock (_lock)
        {
            if (entry.Generation != generation)
            {
                return; // the load failed or the entry has ended since: nothing of this waiter is left
            }

            if (entry.State == CacheEntry.Loading)
            {
                if (--entry.AsyncWaiters == 0 && entry.Waiters == 0 && entry.Cancel != null)
                {
                    // Nobody wants it any more: cancel it, and take it out of the key map so that a request from now on
                    // starts a load of its own instead of joining one that is ending.
                    cancelLoad = entry.Cancel;
                    if (entry.IsCached)
                    {
                        _map.Remove(entry.Key);
                        entry.IsCached = false;
                    }
                }
            }
            else if (entry.State == CacheEntry.Resident && entry.Reserved > 0)
            {
                entry.Reserved--;
                victims = DropCountLocked(entry);
            }
        }

        if (cancelLoad != null)
        {
            CancelLoad(cancelLoad, entry.Key);
        }

        UnloadChain(victims);
    }

    /// <summary>Cancels an async load's token (its loader's callbacks run here, outside the lock). A callback that throws
    /// is reported (<see cref="CacheCallbackKind.CancellationCallback"/>), never thrown at the caller; a load that ended
    /// meanwhile has disposed its source, which is then nothing to cancel.</summary>
    private void CancelLoad(CancellationTokenSource cancel, string what)
    {
        try
        {
            cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The load ended and its entry was recycled in between.
        }
        catch (AggregateException thrown)
        {
            ReportFault(what, CacheCallbackKind.CancellationCallback, thrown);
        }
    }

    /// <summary>Runs one async load to its end, then starts the next queued one.</summary>
    private async Task RunAsyncLoad(Entry entry)
    {
        AsyncCacheLoader<T> loader = (AsyncCacheLoader<T>)entry.AsyncLoader!;
        CancellationToken token = entry.Cancel?.Token ?? _disposing.Token;
        CacheLoadSlot slot = _contextPool.Get();
        CacheLoadContext context = slot.Begin(_manager, _owner, entry, _options.Name);
        T value = default!;
        Exception? failure = null;
        CacheLoadChain.Current = new CacheLoadChain(entry, entry.Generation, CacheLoadChain.Current); // this method's flow only
        try
        {
            token.ThrowIfCancellationRequested();
            entry.LoaderThread = Environment.CurrentManagedThreadId;
            ValueTask<T> pending = loader(context, token);
            entry.LoaderThread = 0; // after its first await the loader may go on on any thread
            value = await pending.ConfigureAwait(false);
            if (IsNull(value))
            {
                failure = NullFailure(entry);
            }
        }
        catch (Exception exception)
        {
            entry.LoaderThread = 0;
            failure = LoadFailure(entry, exception);
        }
        finally
        {
            slot.End();
            _contextPool.Return(slot);
        }

        try
        {
            CompleteLoad(entry, default, value, failure, CacheMode.Reuse);
        }
        catch (Exception)
        {
            // Failures and disposal reach the waiters through the entry's task.
        }

        StartNextQueued();
    }

    /// <summary>Starts a queued load at once, beyond <see cref="ResourceCacheOptions{T}.MaxConcurrentLoads"/>, because a
    /// request that cannot wait behind the queue needs it (a blocked thread, or another load). Its queue slot is skipped
    /// when reached.</summary>
    private void PromoteLocked(Entry entry)
    {
        entry.Queued = false;
        _running++;
        ThreadPool.UnsafeQueueUserWorkItem(static queued => _ = queued.Owner.RunAsyncLoad(queued), entry, preferLocal: false);
    }

    /// <summary>One async load has ended: starts the next queued one (on the thread pool), skipping loads whose waiters
    /// all gave up (they fail as cancelled, leaving nothing charged).</summary>
    private void StartNextQueued()
    {
        while (true)
        {
            Entry? next = null;
            lock (_lock)
            {
                _running--;
                while (_queue.TryDequeue(out Entry? queued, out _))
                {
                    if (!queued.Queued)
                    {
                        continue; // promoted (started already) while it waited
                    }

                    queued.Queued = false;
                    _running++;
                    next = queued;
                    break;
                }
            }

            if (next == null)
            {
                return;
            }

            if (next.Cancel?.IsCancellationRequested != true && !Volatile.Read(ref _disposed))
            {
                if (t_inlineStarts < 4)
                {
                    // Start it here (its loader's first part runs on this thread), unless loaders that complete
                    // synchronously have already nested a few starts on this stack.
                    t_inlineStarts++;
                    try
                    {
                        _ = RunAsyncLoad(next);
                    }
                    finally
                    {
                        t_inlineStarts--;
                    }
                }
                else
                {
                    ThreadPool.UnsafeQueueUserWorkItem(static entry => _ = entry.Owner.RunAsyncLoad(entry), next, preferLocal: true);
                }

                return;
            }

            // Cancelled (or the cache disposed) while queued: fail it without running its loader, and look further.
            Exception failure = _disposed
                ? new ObjectDisposedException(GetType().Name, $"Cache '{Name}' was disposed while '{next.Key}' was queued.")
                : new CacheLoadException(next.Key, $"The load of '{next.Key}' in cache '{Name}' was cancelled.", new OperationCanceledException(next.Cancel?.Token ?? default));
            try
            {
                CompleteLoad(next, default, default!, failure, CacheMode.Reuse);
            }
            catch (Exception)
            {
                // Delivered through the entry's task.
            }
        }
    }
}
