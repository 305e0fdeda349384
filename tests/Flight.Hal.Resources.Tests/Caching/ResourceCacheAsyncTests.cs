// These tests look at a ValueTask before awaiting it (is a hit complete at once? is a miss pending?), each once.
#pragma warning disable CA2012

using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Caching;

/// <summary><see cref="ResourceCache{T}.LoadAsync"/>: shared loads, the concurrency limit and its priority queue,
/// progress, cancellation that gives everything back, failures reaching every waiter, disposal during loads.</summary>
public class ResourceCacheAsyncTests
{
    private static readonly TimeSpan Patience = Eventually.Patience;

    private static long MemoryBytes(ResourceManager manager) => manager.GetStats(ResourceType.Memory).CurrentBytes;

    /// <summary>An async loader whose loads wait on a gate of their own, and that counts how many run at once.</summary>
    private sealed class GatedLoader
    {
        private readonly object _lock = new();
        private int _running;

        public List<string> Started { get; } = [];

        public Dictionary<string, TaskCompletionSource> Gates { get; } = [];

        public int MaxRunning { get; private set; }

        public int Calls { get; private set; }

        public AsyncCacheLoader<string> Load => async (context, token) =>
        {
            TaskCompletionSource gate;
            lock (_lock)
            {
                Calls++;
                Started.Add(context.Key);
                gate = Gate(context.Key);
                MaxRunning = Math.Max(MaxRunning, ++_running);
            }

            try
            {
                context.Acquire(new ResourceMetadata(ResourceType.Memory, 1024));
                context.ReportProgress(0.5);
                await gate.Task.WaitAsync(token);
                return context.Key;
            }
            finally
            {
                lock (_lock)
                {
                    _running--;
                }
            }
        };

        public TaskCompletionSource Gate(string key)
        {
            lock (_lock)
            {
                if (!Gates.TryGetValue(key, out TaskCompletionSource? gate))
                {
                    gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    Gates[key] = gate;
                }

                return gate;
            }
        }

        public bool HasStarted(string key)
        {
            lock (_lock)
            {
                return Started.Contains(key);
            }
        }
    }

    [Fact]
    public async Task AMiss_LoadsWithoutBlocking_AndAHit_CompletesAtOnce()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<string>(manager);
        var loader = new GatedLoader();

        ValueTask<CacheRef<string>> pending = cache.LoadAsync("level2/docks.mesh", loader.Load);
        Assert.False(pending.IsCompleted);
        Assert.Equal(CacheLoadState.Loading, cache.GetLoadStatus("level2/docks.mesh").State);
        loader.Gate("level2/docks.mesh").SetResult();
        using CacheRef<string> loaded = await pending.AsTask().WaitAsync(Patience);

        ValueTask<CacheRef<string>> hit = cache.LoadAsync("level2/docks.mesh", loader.Load);
        Assert.True(hit.IsCompletedSuccessfully);
        using CacheRef<string> again = await hit;
        Assert.Equal("level2/docks.mesh", again.Value);
        Assert.Equal(1, loader.Calls);
        Assert.Equal(new CacheLoadStatus(CacheLoadState.Loaded, 1, 1024), cache.GetLoadStatus("level2/docks.mesh"));
        Assert.Equal((1L, 1L), (cache.GetStats().Hits, cache.GetStats().Misses));
    }

    [Fact]
    public async Task ConcurrentRequests_ShareOneLoad_AndEachGetsItsOwnReference()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<string>(manager);
        var loader = new GatedLoader();

        ValueTask<CacheRef<string>>[] requests = [.. Enumerable.Range(0, 5).Select(_ => cache.LoadAsync("a", loader.Load))];
        loader.Gate("a").SetResult();
        CacheRef<string>[] references = await Task.WhenAll(requests.Select(r => r.AsTask())).WaitAsync(Patience);

        Assert.Equal(1, loader.Calls);
        Assert.Equal(5, references.Distinct().Count());
        Assert.Equal(1024, MemoryBytes(manager));
        foreach (CacheRef<string> reference in references)
        {
            Assert.Equal(ResourceStatus.Ok, reference.Release());
        }

        Assert.Equal(1, cache.GetStats().Unreferenced);
    }

    [Fact]
    public async Task AtMostMaxConcurrentLoadsRun_TheRestQueue_HighestPriorityFirst_ThenInOrder()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<string>(manager, new() { MaxConcurrentLoads = 2 });
        var loader = new GatedLoader();
        var requests = new List<ValueTask<CacheRef<string>>>
        {
            cache.LoadAsync("first", loader.Load),
            cache.LoadAsync("second", loader.Load),
            cache.LoadAsync("low", loader.Load, ResourcePriority.Low),
            cache.LoadAsync("normal", loader.Load),
            cache.LoadAsync("critical", loader.Load, ResourcePriority.Critical),
        };

        Assert.Equal(["first", "second"], loader.Started);
        CacheLoadingStats stats = cache.GetLoadingStats();
        Assert.Equal((3, 2, 2048L), (stats.Queued, stats.InFlight, stats.Bytes));
        Assert.Equal(CacheLoadState.Queued, cache.GetLoadStatus("low").State);

        loader.Gate("first").SetResult();
        Eventually.Holds(() => loader.HasStarted("critical"), "the critical load");
        loader.Gate("second").SetResult();
        Eventually.Holds(() => loader.HasStarted("normal"), "the normal load");
        loader.Gate("critical").SetResult();
        loader.Gate("normal").SetResult();
        Eventually.Holds(() => loader.HasStarted("low"), "the low load");
        loader.Gate("low").SetResult();
        CacheRef<string>[] references = await Task.WhenAll(requests.Select(r => r.AsTask())).WaitAsync(Patience);

        Assert.Equal(["first", "second", "critical", "normal", "low"], loader.Started);
        Assert.Equal(2, loader.MaxRunning);
        Assert.Equal(5 * 1024, MemoryBytes(manager));
        Assert.Equal(new CacheLoadingStats(0, 0, 0, 1), cache.GetLoadingStats());
        Array.ForEach(references, r => r.Dispose());
    }

    [Fact]
    public async Task Progress_IsReported_ForAKey_AndInTotal()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<string>(manager);
        var loader = new GatedLoader(); // reports 0.5 once it has acquired its memory

        ValueTask<CacheRef<string>> pending = cache.LoadAsync("a", loader.Load);

        Assert.Equal(new CacheLoadStatus(CacheLoadState.Loading, 0.5, 1024), cache.GetLoadStatus("a"));
        Assert.Equal(new CacheLoadingStats(0, 1, 1024, 0.5), cache.GetLoadingStats());
        Assert.Equal(default, cache.GetLoadStatus("unknown"));
        loader.Gate("a").SetResult();
        (await pending.AsTask().WaitAsync(Patience)).Dispose();
    }

    [Fact]
    public async Task CancellingTheOnlyWaiter_CancelsTheLoad_AndGivesBackWhatItAcquired()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<string>(manager);
        var loader = new GatedLoader();
        using var cancel = new CancellationTokenSource();

        ValueTask<CacheRef<string>> pending = cache.LoadAsync("a", loader.Load, cancellationToken: cancel.Token);
        Assert.Equal(1024, MemoryBytes(manager));
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.AsTask().WaitAsync(Patience));
        Eventually.Holds(() => cache.GetStats().Entries == 0, "the cancelled load's end");
        Assert.Equal(0, MemoryBytes(manager));
        Assert.Equal(1, cache.GetStats().LoadFailures);
        Assert.Equal(CacheLoadState.NotFound, cache.GetLoadStatus("a").State);
    }

    [Fact]
    public async Task CancellingOneOfTwoWaiters_LeavesTheLoadToTheOther()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<string>(manager);
        var loader = new GatedLoader();
        using var cancel = new CancellationTokenSource();

        ValueTask<CacheRef<string>> impatient = cache.LoadAsync("a", loader.Load, cancellationToken: cancel.Token);
        ValueTask<CacheRef<string>> patient = cache.LoadAsync("a", loader.Load);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => impatient.AsTask().WaitAsync(Patience));
        loader.Gate("a").SetResult();
        using CacheRef<string> reference = await patient.AsTask().WaitAsync(Patience);

        Assert.Equal("a", reference.Value);
        Assert.Equal(1, cache.GetStats().Referenced);
        var entries = new CacheEntryInfo[1];
        cache.CopyEntries(entries);
        Assert.Equal(1, entries[0].RefCount); // the cancelled waiter holds nothing
    }

    [Fact]
    public async Task ACancelledWaiterWhoseLoadHadFinished_GivesItsReservedReferenceBack()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<string>(manager);
        var loader = new GatedLoader();
        using var cancel = new CancellationTokenSource();
        ValueTask<CacheRef<string>> waiter = cache.LoadAsync("a", loader.Load, cancellationToken: cancel.Token);
        ValueTask<CacheRef<string>> other = cache.LoadAsync("a", loader.Load);

        loader.Gate("a").SetResult();
        using CacheRef<string> kept = await other.AsTask().WaitAsync(Patience);
        await cancel.CancelAsync(); // maybe before, maybe after the waiter took its reference
        try
        {
            (await waiter.AsTask().WaitAsync(Patience)).Dispose();
        }
        catch (OperationCanceledException)
        {
        }

        kept.Dispose();
        Assert.Equal(0, cache.GetStats().Referenced); // either way, no count is left behind
        Assert.Equal(1024, cache.UnloadUnused());
    }

    [Fact]
    public async Task AFailingLoader_FailsEveryWaiter_AndLeavesNothingCharged()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<string>(manager);
        var boom = new InvalidDataException("bad chunk");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        AsyncCacheLoader<string> failing = async (context, token) =>
        {
            context.Acquire(new ResourceMetadata(ResourceType.Memory, 2048));
            await gate.Task;
            throw boom;
        };

        ValueTask<CacheRef<string>> first = cache.LoadAsync("a", failing);
        ValueTask<CacheRef<string>> second = cache.LoadAsync("a", failing);
        gate.SetResult();

        Assert.Same(boom, (await Assert.ThrowsAsync<CacheLoadException>(() => first.AsTask().WaitAsync(Patience))).InnerException);
        Assert.Same(boom, (await Assert.ThrowsAsync<CacheLoadException>(() => second.AsTask().WaitAsync(Patience))).InnerException);
        Assert.Equal(0, MemoryBytes(manager));
        Assert.Equal(0, cache.GetStats().Entries);

        // The key can be loaded again.
        using CacheRef<string> retry = cache.GetOrLoad("a", _ => "retry");
        Assert.Equal("retry", retry.Value);
        Assert.Equal(1, cache.GetStats().LoadFailures);
    }

    [Fact]
    public async Task ASyncRequest_AndAnAsyncOne_ShareOneLoad_EitherWayRound()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<string>(manager);
        var loader = new GatedLoader();

        // Async first, then a sync request waits for it.
        ValueTask<CacheRef<string>> asyncFirst = cache.LoadAsync("a", loader.Load);
        Task<CacheRef<string>> syncSecond = Task.Factory.StartNew(() => cache.GetOrLoad("a", _ => "other"), TaskCreationOptions.LongRunning);
        Eventually.Holds(() => !syncSecond.IsCompleted, "the sync request waiting");
        loader.Gate("a").SetResult();
        using CacheRef<string> x = await asyncFirst.AsTask().WaitAsync(Patience);
        using CacheRef<string> y = await syncSecond.WaitAsync(Patience);
        Assert.Equal(("a", "a"), (x.Value, y.Value));

        // Sync first (a slow loader on another thread), then an async request waits for it.
        using var loading = new ManualResetEventSlim();
        using var finish = new ManualResetEventSlim();
        Task<CacheRef<string>> syncFirst = Task.Factory.StartNew(
            () => cache.GetOrLoad("b", context =>
            {
                loading.Set();
                finish.Wait(Patience);
                context.Acquire(new ResourceMetadata(ResourceType.Memory, 512));
                return "b";
            }),
            TaskCreationOptions.LongRunning);
        Assert.True(loading.Wait(Patience));
        ValueTask<CacheRef<string>> asyncSecond = cache.LoadAsync("b", loader.Load);
        Assert.False(asyncSecond.IsCompleted);
        finish.Set();
        using CacheRef<string> b1 = await syncFirst.WaitAsync(Patience);
        using CacheRef<string> b2 = await asyncSecond.AsTask().WaitAsync(Patience);
        Assert.Equal(("b", "b"), (b1.Value, b2.Value));
        Assert.Equal(1, loader.Calls); // "b" was never loaded by the async loader
    }

    [Fact]
    public async Task DisposeDuringLoads_FailsTheWaiters_AndLeavesNothingCharged()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var cache = new ResourceCache<string>(manager, new() { MaxConcurrentLoads = 1 });
        var loader = new GatedLoader();
        ValueTask<CacheRef<string>> running = cache.LoadAsync("running", loader.Load);
        ValueTask<CacheRef<string>> queued = cache.LoadAsync("queued", loader.Load);

        cache.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => queued.AsTask().WaitAsync(Patience));
        Exception? failure = await Record.ExceptionAsync(() => running.AsTask().WaitAsync(Patience));
        Assert.True(failure is ObjectDisposedException or CacheLoadException { InnerException: OperationCanceledException }, failure?.ToString());
        Eventually.Holds(() => MemoryBytes(manager) == 0, "the running load's memory released");
        Assert.Equal(1, loader.Calls); // the queued one never ran
        Assert.Throws<ObjectDisposedException>(() => cache.LoadAsync("x", loader.Load));
    }

    [Fact]
    public async Task AThousandSmallLoads_WithALimitOfFour_AllComplete()
    {
        using var manager = new ResourceManager(PlatformProfile.Get("desktop"));
        using var cache = new ResourceCache<string>(manager, new() { MaxConcurrentLoads = 4 });
        int running = 0;
        int maxRunning = 0;
        AsyncCacheLoader<string> loader = async (context, token) =>
        {
            int now = Interlocked.Increment(ref running);
            InterlockedMax(ref maxRunning, now);
            context.Acquire(new ResourceMetadata(ResourceType.Custom, 256));
            await Task.Yield();
            Interlocked.Decrement(ref running);
            return context.Key;
        };

        CacheRef<string>[] references = await Task.WhenAll(
            Enumerable.Range(0, 1000).Select(i => cache.LoadAsync($"asset/{i}", loader, (ResourcePriority)(i % 4)).AsTask())).WaitAsync(Patience);

        Assert.Equal(1000, references.Select(r => r.Value).Distinct().Count());
        Assert.InRange(maxRunning, 1, 4);
        Assert.Equal(1000 * 256, manager.GetStats(ResourceType.Custom).CurrentBytes);
        Array.ForEach(references, r => r.Dispose());
        Assert.Equal(1000 * 256, cache.UnloadUnused());
    }

    [Fact]
    public async Task AnAsyncLoader_AwaitsBudgetRoom_WithoutBlockingAThread_AndACancelledOneGivesBackWhatItHad()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<string>(manager);
        AsyncCacheLoader<string> big = async (context, token) =>
        {
            context.Acquire(new ResourceMetadata(ResourceType.Memory, 1024));                  // room now
            await context.AcquireAsync(new ResourceMetadata(ResourceType.Memory, 40 * 1024), cancellationToken: token);
            return context.Key;
        };
        CacheRef<string> held = cache.GetOrLoad("held", context =>
        {
            context.Acquire(new ResourceMetadata(ResourceType.Memory, 30 * 1024));
            return "held";
        });

        ValueTask<CacheRef<string>> waiting = cache.LoadAsync("big", big);
        Assert.False(waiting.IsCompleted, waiting.IsFaulted ? waiting.AsTask().Exception!.ToString() : "completed"); // 31 + 40 KiB > 56 KiB; "held" is referenced
        using var cancel = new CancellationTokenSource();
        ValueTask<CacheRef<string>> cancelled = cache.LoadAsync("other", big, cancellationToken: cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.AsTask().WaitAsync(Patience));
        Eventually.Holds(() => MemoryBytes(manager) == 31 * 1024, "the cancelled load's 1 KiB given back");

        held.Dispose();                                       // unreferenced now: the manager's reclamation can evict it
        cache.Unload("held");
        using CacheRef<string> loaded = await waiting.AsTask().WaitAsync(Patience);

        Assert.Equal("big", loaded.Value);
        Assert.Equal(41 * 1024, MemoryBytes(manager));
        Assert.Equal(41 * 1024, cache.GetStats().ResidentBytes);
    }

    [Fact]
    public void BadInput_IsRefused()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<string>(manager);
        AsyncCacheLoader<string> loader = (context, _) => ValueTask.FromResult(context.Key);
        Assert.Throws<ArgumentNullException>(() => cache.LoadAsync(null!, loader));
        Assert.Throws<ArgumentException>(() => cache.LoadAsync("", loader));
        Assert.Throws<ArgumentNullException>(() => cache.LoadAsync("a", null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.LoadAsync("a", loader, (ResourcePriority)7));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResourceCache<string>(manager, new() { MaxConcurrentLoads = 0 }));
        Assert.True(cache.LoadAsync("a", loader, cancellationToken: new CancellationToken(true)).IsCanceled);
        Assert.Equal(0, cache.GetStats().Entries);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
