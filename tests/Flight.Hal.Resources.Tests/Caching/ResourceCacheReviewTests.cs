#pragma warning disable CA2012

using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Caching;

/// <summary>An independent adversarial review's findings, each a test that failed (or hung) before its fix: a kept load
/// context acting on a later load, async cycles and a queued dependency that hung, Dispose's order and its robustness
/// against throwing cancellation callbacks, a late acquisition charged to another load, stale keys, bad options.</summary>
public class ResourceCacheReviewTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static long MemoryBytes(ResourceManager manager) => manager.GetStats(ResourceType.Memory).CurrentBytes;

    public sealed class Asset(string key) : IDisposable
    {
        public string Key { get; } = key;

        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }

    private static CacheLoader<Asset> Bytes(long bytes) => context =>
    {
        context.Acquire(new ResourceMetadata(ResourceType.Memory, bytes));
        return new Asset(context.Key);
    };

    // 1. A load context kept past its load comes back to life when the pool hands the same object to the next load:
    //    it then acts on that other load (memory charged to another entry) instead of throwing.
    [Fact]
    public async Task AKeptLoadContext_StaysUnusable_WhileAnotherLoadRuns()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager);
        CacheLoadContext kept = default;
        cache.GetOrLoad("a", context =>
        {
            kept = context;
            return new Asset(context.Key);
        }).Dispose();

        using var inLoad = new ManualResetEventSlim();
        using var finish = new ManualResetEventSlim();
        Task<CacheRef<Asset>> b = Task.Factory.StartNew(
            () => cache.GetOrLoad("b", context =>
            {
                context.Acquire(new ResourceMetadata(ResourceType.Memory, 1024));
                inLoad.Set();
                finish.Wait(Patience);
                return new Asset(context.Key);
            }),
            TaskCreationOptions.LongRunning);
        Assert.True(inLoad.Wait(Patience));

        Exception? keyFailure = Record.Exception(() => kept.Key);
        Exception? acquireFailure = Record.Exception(() => kept.Acquire(new ResourceMetadata(ResourceType.Memory, 4096)));
        finish.Set();
        using CacheRef<Asset> loaded = await b.WaitAsync(Patience);

        Assert.IsType<InvalidOperationException>(keyFailure);      // fails: the kept context answers "b"
        Assert.IsType<InvalidOperationException>(acquireFailure);  // fails: 4 KiB acquired and charged to "b"
        Assert.Equal(1024, cache.GetStats().ResidentBytes);
    }

    // 2. An async loader that, after its first await, loads its own key as a dependency: a cycle. The sync wait sees
    //    LoaderThread == 0 (reset after the loader's synchronous part) and waits for itself forever.
    [Fact]
    public async Task AnAsyncLoader_LoadingItsOwnKeyAfterAnAwait_FailsWithACycle_InsteadOfHanging()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager);
        AsyncCacheLoader<Asset> loader = async (context, token) =>
        {
            context.Acquire(new ResourceMetadata(ResourceType.Memory, 512));
            await Task.Yield();
            context.Load(cache, context.Key, Bytes(256)); // a cycle: "loop" needs "loop"
            return new Asset(context.Key);
        };

        Task<CacheRef<Asset>> load = cache.LoadAsync("loop", loader).AsTask();

        Exception? failure = await Record.ExceptionAsync(() => load.WaitAsync(Patience));
        Assert.IsType<CacheLoadException>(failure); // fails: TimeoutException (the loader's thread waits for itself)
    }

    // 3. Same cycle, awaited: an async loader that awaits LoadAsync of its own key joins its own load and never ends.
    [Fact]
    public async Task AnAsyncLoader_AwaitingItsOwnKey_FailsWithACycle_InsteadOfNeverCompleting()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager);
        AsyncCacheLoader<Asset>? loader = null;
        loader = async (context, token) =>
        {
            await Task.Yield();
            using CacheRef<Asset> self = await cache.LoadAsync(context.Key, loader!, cancellationToken: token);
            return new Asset(context.Key);
        };

        Task<CacheRef<Asset>> load = cache.LoadAsync("loop", loader).AsTask();

        Exception? failure = await Record.ExceptionAsync(() => load.WaitAsync(Patience));
        Assert.IsType<CacheLoadException>(failure); // fails: TimeoutException
    }

    // 4. No cycle among keys, yet a hang: with MaxConcurrentLoads = 1, async load "a" (holding the only slot) loads
    //    "b" through its context; "b" is queued behind "a" by an earlier LoadAsync, so the sync wait never ends.
    [Fact]
    public async Task AnAsyncLoader_DependingOnAQueuedKey_DoesNotHang()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager, new() { MaxConcurrentLoads = 1 });
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        AsyncCacheLoader<Asset> loadA = async (context, token) =>
        {
            await gate.Task;
            context.Load(cache, "b", Bytes(256));
            return new Asset(context.Key);
        };
        AsyncCacheLoader<Asset> loadB = (context, token) =>
        {
            context.Acquire(new ResourceMetadata(ResourceType.Memory, 256));
            return ValueTask.FromResult(new Asset(context.Key));
        };

        Task<CacheRef<Asset>> a = cache.LoadAsync("a", loadA).AsTask(); // runs, holds the only slot
        Task<CacheRef<Asset>> b = cache.LoadAsync("b", loadB).AsTask(); // queued behind "a"
        Assert.Equal(CacheLoadState.Queued, cache.GetLoadStatus("b").State);
        gate.SetResult();

        Exception? failure = await Record.ExceptionAsync(async () =>
        {
            using CacheRef<Asset> ra = await a.WaitAsync(Patience);
            using CacheRef<Asset> rb = await b.WaitAsync(Patience);
        });
        Assert.Null(failure); // fails: TimeoutException ("a" waits for "b", "b" waits for "a"'s slot)
    }

    // 5. Dispose unloads a dependency before the entry that holds it: the holder's unload hook (and Dispose of its
    //    value) runs after its dependency's value was disposed.
    [Fact]
    public void Dispose_UnloadsAnEntry_BeforeTheDependenciesItHolds()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var order = new List<string>();
        Asset? texture = null;
        bool textureDisposedWhenMaterialUnloaded = false;
        var cache = new ResourceCache<Asset>(manager, new()
        {
            OnUnloaded = (key, value, _) =>
            {
                order.Add(key);
                if (key == "material")
                {
                    textureDisposedWhenMaterialUnloaded = texture!.Disposed;
                }
            },
        });
        cache.GetOrLoad("material", context =>
        {
            texture = context.Load(cache, "texture", Bytes(512));
            context.Acquire(new ResourceMetadata(ResourceType.Memory, 128));
            return new Asset(context.Key);
        }).Dispose();

        cache.Dispose();

        Assert.Equal(0, MemoryBytes(manager));
        Assert.Equal(["material", "texture"], order);           // fails: ["texture", "material"]
        Assert.False(textureDisposedWhenMaterialUnloaded);     // the material's hook saw a disposed texture
    }

    // 6. CacheRef.Key is documented "readable even when stale", but a stale reference answers a placeholder.
    [Fact]
    public void AStaleReference_StillKnowsItsKey()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager);
        CacheRef<Asset> held = cache.GetOrLoad("level1/boss", Bytes(256));

        Assert.Equal(ResourceStatus.Ok, cache.Unload("level1/boss", force: true));

        Assert.Equal("level1/boss", held.Key); // fails: "(an unloaded entry)"
        var stale = Assert.Throws<ResourceException>(() => held.Value);
        Assert.Contains("level1/boss", stale.Message); // fails: the message names "(an unloaded entry)"
    }

    // 7. An unknown EvictAtPressure level is accepted (and then never matches), instead of being refused.
    [Fact]
    public void AnUnknownPressureLevel_IsRefused()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResourceCache<Asset>(manager, new() { EvictAtPressure = (ResourcePressure)42 }).Dispose());
    }

    // 8. A loader's cancellation callback that throws makes Dispose throw half-way: the resident entries it took out
    //    are never unloaded (no hook, no Dispose, memory still charged) and the reclamation registrations stay.
    [Fact]
    public async Task Dispose_UnloadsEverything_EvenWhenALoadersCancellationCallbackThrows()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var unloaded = new List<string>();
        var cache = new ResourceCache<Asset>(manager, new() { OnUnloaded = (key, _, _) => unloaded.Add(key) });
        cache.GetOrLoad("resident", Bytes(1024)).Dispose();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<CacheRef<Asset>> pending = cache.LoadAsync("slow", async (context, token) =>
        {
            token.Register(() => throw new InvalidOperationException("a loader's callback")); // kept registered
            started.SetResult();
            await Task.Delay(Timeout.Infinite, token);
            return new Asset(context.Key);
        }).AsTask();
        await started.Task.WaitAsync(Patience);

        Exception? failure = Record.Exception(cache.Dispose);

        // Fails with ("AggregateException", 0, 1024): Dispose threw out of _disposing.Cancel(), the resident entry's
        // hook never ran and its 1 KiB stays charged.
        Assert.Equal(("no exception", 1, 0L), (failure?.GetType().Name ?? "no exception", unloaded.Count, MemoryBytes(manager)));
        Exception? waiter = await Record.ExceptionAsync(() => pending.WaitAsync(Patience));
        Assert.True(waiter is ObjectDisposedException or CacheLoadException, waiter?.ToString());
    }

    // 9. The same throwing callback turns a cancelled request's OperationCanceledException into an AggregateException.
    [Fact]
    public async Task ACancelledRequest_FailsWithOperationCanceled_EvenWhenTheLoadersCancellationCallbackThrows()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager);
        using var cts = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<CacheRef<Asset>> pending = cache.LoadAsync("slow", async (context, token) =>
        {
            token.Register(() => throw new InvalidOperationException("a loader's callback")); // kept registered
            context.Acquire(new ResourceMetadata(ResourceType.Memory, 512));
            started.SetResult();
            await Task.Delay(Timeout.Infinite, token);
            return new Asset(context.Key);
        }, cancellationToken: cts.Token).AsTask();
        await started.Task.WaitAsync(Patience);

        cts.Cancel();

        Exception? failure = await Record.ExceptionAsync(() => pending.WaitAsync(Patience));
        Assert.IsAssignableFrom<OperationCanceledException>(failure); // fails: AggregateException
        Eventually.Holds(() => MemoryBytes(manager) == 0, "the cancelled load released its memory");
    }

    // 10. An acquisition a loader started but did not await is meant to be given back when it completes after the
    //     load ended. Contexts and entries are both pooled, so when the next load got the same context and the same
    //     recycled Entry object, the late acquisition is added to that other load's entry instead.
    [Fact]
    public async Task ALateAcquisition_OfAFinishedLoad_IsGivenBack_NotChargedToTheNextLoad()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager);
        ResourceHandle filler = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 56 * 1024)); // the budget full
        Task<ResourceHandle>? late = null;
        cache.GetOrLoad("a", context =>
        {
            late = context.AcquireAsync(new ResourceMetadata(ResourceType.Memory, 2048)).AsTask(); // waits for room
            return new Asset(context.Key);
        }).Dispose();
        Assert.Equal(ResourceStatus.Ok, cache.Unload("a")); // the entry goes back to the pool

        using var inLoad = new ManualResetEventSlim();
        using var finish = new ManualResetEventSlim();
        Task<CacheRef<Asset>> b = Task.Factory.StartNew(
            () => cache.GetOrLoad("b", context =>
            {
                inLoad.Set();
                finish.Wait(Patience);
                return new Asset(context.Key);
            }),
            TaskCreationOptions.LongRunning);
        Assert.True(inLoad.Wait(Patience));

        manager.Release(filler); // room: the late acquisition completes while "b" loads
        Exception? lateFailure = await Record.ExceptionAsync(() => late!.WaitAsync(Patience));
        finish.Set();
        using CacheRef<Asset> loaded = await b.WaitAsync(Patience);

        // Fails with ("no exception", 2048): the late acquisition succeeded, into "b"'s entry.
        Assert.Equal((nameof(InvalidOperationException), 0L), (lateFailure?.GetType().Name ?? "no exception", cache.GetStats().ResidentBytes));
    }
}
