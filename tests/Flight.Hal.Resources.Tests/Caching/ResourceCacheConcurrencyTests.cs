using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Caching;

/// <summary>Many threads on one cache, with a cap, a tight budget (so the manager asks the cache to evict), forced
/// unloads, weak upgrades and a thread that takes memory around the cache: afterwards the totals are exact.</summary>
public class ResourceCacheConcurrencyTests
{
    [Fact]
    public async Task ThreadsLoadingReleasingAndEvicting_LeaveExactTotals()
    {
        using var manager = new ResourceManager(TestProfiles.Small()); // Memory: 56 KiB ordinary
        int loaded = 0;
        int unloaded = 0;
        using var cache = new ResourceCache<string>(manager, new()
        {
            MaxBytes = 40 * 1024,
            OnLoaded = (_, _) => Interlocked.Increment(ref loaded),
            OnUnloaded = (_, _, _) => Interlocked.Increment(ref unloaded),
        });
        CacheLoader<string> loader = static context =>
        {
            long size = 1024L * (1 + (context.Key.Length % 4));
            context.Acquire(new ResourceMetadata(ResourceType.Memory, size));
            if (context.Key.EndsWith('7'))
            {
                Thread.Yield(); // a slower load, so others wait for it
            }

            return context.Key;
        };

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        long budgetFailures = 0;
        long operations = 0;
        Task Worker(int seed) => Task.Factory.StartNew(
            () =>
            {
                var random = new Random(seed);
                var held = new List<CacheRef<string>>();
                var weak = new List<CacheWeakRef<string>>();
                while (!stop.IsCancellationRequested)
                {
                    string key = "asset/" + random.Next(24);
                    int op = random.Next(100);
                    try
                    {
                        if (op < 45 && held.Count < 8)
                        {
                            CacheRef<string> r = cache.GetOrLoad(key, loader, (ResourcePriority)random.Next(4), random.Next(20) == 0 ? CacheMode.Replace : CacheMode.Reuse);
                            Assert.Equal(key, r.TryGetValue(out string? value) ? value : key); // stale only if forced meanwhile
                            held.Add(r);
                            weak.Add(r.ToWeak());
                        }
                        else if (op < 85 && held.Count > 0)
                        {
                            int i = random.Next(held.Count);
                            ResourceStatus status = held[i].Release();
                            Assert.True(status is ResourceStatus.Ok or ResourceStatus.StaleHandle, status.ToString());
                            held.RemoveAt(i);
                        }
                        else if (op < 92 && weak.Count > 0)
                        {
                            if (weak[random.Next(weak.Count)].TryUpgrade(out CacheRef<string> r))
                            {
                                held.Add(r);
                            }
                        }
                        else if (op < 95)
                        {
                            cache.Unload(key, force: random.Next(2) == 0);
                        }
                        else
                        {
                            cache.UnloadUnused();
                        }

                        if (weak.Count > 64)
                        {
                            weak.RemoveRange(0, 32);
                        }
                    }
                    catch (CacheLoadException e) when (e.InnerException is ResourceException { Status: ResourceStatus.BudgetExceeded })
                    {
                        Interlocked.Increment(ref budgetFailures); // everything evictable was evicted and it still did not fit
                    }

                    Interlocked.Increment(ref operations);
                }

                foreach (CacheRef<string> r in held)
                {
                    r.Dispose();
                }
            },
            TaskCreationOptions.LongRunning);

        AsyncCacheLoader<string> asyncLoader = static async (context, token) =>
        {
            context.Acquire(new ResourceMetadata(ResourceType.Memory, 1024L * (1 + (context.Key.Length % 4))));
            context.ReportProgress(0.5);
            await Task.Delay(context.Key.Length % 3, token);
            return context.Key;
        };
        long cancelled = 0;
        async Task AsyncWorker(int seed)
        {
            var random = new Random(seed);
            while (!stop.IsCancellationRequested)
            {
                string key = "asset/" + random.Next(24);
                using var cancel = new CancellationTokenSource();
                if (random.Next(4) == 0)
                {
                    cancel.CancelAfter(random.Next(3));
                }

                try
                {
                    CacheRef<string> r = await cache.LoadAsync(key, asyncLoader, (ResourcePriority)random.Next(4), cancel.Token);
                    Assert.Equal(key, r.TryGetValue(out string? value) ? value : key);
                    r.Dispose();
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref cancelled);
                }
                catch (CacheLoadException e) when (e.InnerException is OperationCanceledException or ResourceException { Status: ResourceStatus.BudgetExceeded })
                {
                    Interlocked.Increment(ref cancelled); // a load cancelled under another waiter, or no room left
                }
                catch (ResourceException e) when (e.Status == ResourceStatus.StaleHandle)
                {
                    // unloaded by force before this request took its reference
                }

                Interlocked.Increment(ref operations);
            }
        }

        Task outsider = Task.Factory.StartNew(
            () =>
            {
                var md = new ResourceMetadata(ResourceType.Memory, 12 * 1024);
                while (!stop.IsCancellationRequested)
                {
                    if (manager.TryAcquire(in md, out ResourceHandle h) == ResourceStatus.Ok) // the cache is asked to make room
                    {
                        Thread.Yield();
                        manager.Release(h);
                    }
                }
            },
            TaskCreationOptions.LongRunning);

        await Task.WhenAll(Worker(1), Worker(2), Worker(3), outsider, Task.Run(() => AsyncWorker(4)), Task.Run(() => AsyncWorker(5)))
            .WaitAsync(TimeSpan.FromSeconds(60));

        CacheStats stats = cache.GetStats();
        Assert.Equal(0, stats.Referenced);
        Assert.Equal(0, stats.Loading);
        Assert.True(cancelled > 0, "no async request was cancelled");
        Assert.Equal(stats.ResidentBytes, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(stats.Misses, stats.Loads + stats.LoadFailures);
        Assert.True(stats.Reclaimed > 0 && stats.EvictedOverCapacity > 0 && stats.ForcedUnloads > 0, stats.ToString());
        Assert.True(operations > 1000, $"{operations} operations");

        cache.UnloadUnused();
        stats = cache.GetStats();
        Assert.Equal((0, 0L), (stats.Entries, stats.ResidentBytes));
        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(stats.Loads, loaded);
        Assert.Equal(stats.Loads, unloaded); // each loaded entry unloaded exactly once
        Assert.Equal(stats.Loads, stats.Unloads);
        Assert.Equal(0, cache.CallbackFaults);
    }
}
