using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Caching;

/// <summary>The adversarial review's stress: sync loads with dependencies, private copies, async loads with random
/// cancellation, forced unloads and unload-unused on three threads, and Dispose during loads every other round; hooks
/// balance, nothing stays charged, no reference resolves to another key.</summary>
public class ResourceCacheReviewStressTests
{
    [Fact]
    public async Task AsyncSyncDependenciesCancellationAndDispose_LeaveExactTotals()
    {
        for (int round = 0; round < 4; round++)
        {
            using var manager = new ResourceManager(TestProfiles.Small());
            int loaded = 0, unloaded = 0;
            var cache = new ResourceCache<string>(manager, new()
            {
                MaxBytes = 24 * 1024,
                MaxConcurrentLoads = 2,
                OnLoaded = (_, _) => Interlocked.Increment(ref loaded),
                OnUnloaded = (_, _, _) => Interlocked.Increment(ref unloaded),
            });
            CacheLoader<string> leaf = static context =>
            {
                context.Acquire(new ResourceMetadata(ResourceType.Memory, 512 * (1 + context.Key.Length % 3)));
                return context.Key;
            };
            CacheLoader<string> withDep = context =>
            {
                context.Acquire(new ResourceMetadata(ResourceType.Memory, 256));
                string dep = "leaf/" + (context.Key.Length % 5);
                context.Load(cache, dep, leaf);
                return context.Key;
            };
            AsyncCacheLoader<string> slow = async (context, token) =>
            {
                context.Acquire(new ResourceMetadata(ResourceType.Memory, 1024));
                await Task.Delay(1, token);
                return context.Key;
            };

            using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(700));
            var wrong = 0;
            // Each worker on a thread of its own, waiting for its async requests there: the thread pool stays free for the
            // async loads and their continuations (workers looping on pool threads starved them, and the test ran 18 s).
            Task Worker(int seed) => Task.Factory.StartNew(() => Body(seed), TaskCreationOptions.LongRunning);

            void Body(int seed)
            {
                var random = new Random(seed);
                var held = new List<CacheRef<string>>();
                while (!stop.IsCancellationRequested)
                {
                    int op = random.Next(100);
                    try
                    {
                        if (op < 25)
                        {
                            string key = "mat/" + random.Next(10);
                            var r = cache.GetOrLoad(key, withDep, mode: random.Next(10) == 0 ? CacheMode.Ignore : CacheMode.Reuse);
                            if (r.TryGetValue(out string? v) && v != key) Interlocked.Increment(ref wrong);
                            held.Add(r);
                        }
                        else if (op < 50)
                        {
                            string key = "async/" + random.Next(10);
                            using var cts = new CancellationTokenSource();
                            if (random.Next(3) == 0) cts.CancelAfter(random.Next(3));
                            var r = cache.LoadAsync(key, slow, cancellationToken: cts.Token).AsTask().GetAwaiter().GetResult();
                            if (r.TryGetValue(out string? v) && v != key) Interlocked.Increment(ref wrong);
                            held.Add(r);
                        }
                        else if (op < 85 && held.Count > 0)
                        {
                            int i = random.Next(held.Count);
                            held[i].Release();
                            held.RemoveAt(i);
                        }
                        else if (op < 90)
                        {
                            cache.Unload("leaf/" + random.Next(5), force: random.Next(2) == 0);
                        }
                        else
                        {
                            cache.UnloadUnused();
                        }
                    }
                    catch (OperationCanceledException) { }
                    catch (CacheLoadException) { }
                    catch (ResourceException) { }
                    catch (ObjectDisposedException) { }
                }

                foreach (var r in held) r.Release();
            }

            Task[] workers = [Worker(round * 10 + 1), Worker(round * 10 + 2), Worker(round * 10 + 3)];
            await Task.Delay(500);
            if (round % 2 == 1)
            {
                cache.Dispose(); // while loads are in flight
            }

            await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(20));
            cache.Dispose();
            Eventually.Holds(() => Volatile.Read(ref loaded) == Volatile.Read(ref unloaded), $"round {round}: loaded {loaded} == unloaded {unloaded}");
            Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
            Assert.Equal(0, wrong);
        }
    }
}
