using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Caching;

/// <summary>A loading screen: 1,000 small assets requested at once, at most 4 loads running, each loader yielding once
/// (as a file read would) and acquiring 256 B; then all released and unloaded. Against what a straightforward port
/// writes (the baseline): a <c>ConcurrentDictionary</c> of <c>Lazy&lt;Task&gt;</c> with a <c>SemaphoreSlim(4)</c>
/// around each load, acquiring from the same manager, then removing and releasing everything.</summary>
/// <remarks>One invocation is the whole batch; figures are per asset (<c>OperationsPerInvoke</c> = 1,000).</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Cache)]
public class CacheLoadAsyncBenchmarks
{
    private const int Assets = 1000;
    private const int Concurrent = 4;

    private ResourceManager _manager = null!;
    private ResourceCache<ResourceHandle> _cache = null!;
    private string[] _keys = null!;
    private ResourceOwner _peerOwner;
    private readonly Task<CacheRef<ResourceHandle>>[] _loads = new Task<CacheRef<ResourceHandle>>[Assets];
    private readonly Task<ResourceHandle>[] _peerLoads = new Task<ResourceHandle>[Assets];

    private static readonly AsyncCacheLoader<ResourceHandle> s_loader = static async (context, token) =>
    {
        await Task.Yield();
        return context.Acquire(new ResourceMetadata(ResourceType.Custom, 256));
    };

    [GlobalSetup]
    public void Setup()
    {
        _manager = new ResourceManager(PlatformProfile.Get("desktop"));
        _cache = new ResourceCache<ResourceHandle>(_manager, new() { Name = "screen", MaxConcurrentLoads = Concurrent });
        _peerOwner = _manager.GetOwner("peer");
        _keys = PerInvoke.MakeNames("ui/", Assets);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cache.Dispose();
        _manager.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Assets)]
    public async Task<long> DictionaryOfLazyTasks()
    {
        var entries = new ConcurrentDictionary<string, Lazy<Task<ResourceHandle>>>(StringComparer.Ordinal);
        using var gate = new SemaphoreSlim(Concurrent);
        for (int i = 0; i < Assets; i++)
        {
            string key = _keys[i];
            _peerLoads[i] = entries.GetOrAdd(key, k => new Lazy<Task<ResourceHandle>>(() => LoadPeer(k, gate))).Value;
        }

        long sum = 0;
        foreach (Task<ResourceHandle> load in _peerLoads)
        {
            sum += (long)(await load).RawValue;
        }

        foreach (KeyValuePair<string, Lazy<Task<ResourceHandle>>> entry in entries)
        {
            _manager.Release(await entry.Value.Value, _peerOwner);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Assets)]
    public async Task<long> Cache()
    {
        for (int i = 0; i < Assets; i++)
        {
            _loads[i] = _cache.LoadAsync(_keys[i], s_loader).AsTask();
        }

        long sum = 0;
        foreach (Task<CacheRef<ResourceHandle>> load in _loads)
        {
            CacheRef<ResourceHandle> reference = await load;
            sum += (long)reference.Value.RawValue;
            reference.Dispose();
        }

        _cache.UnloadUnused();
        return sum;
    }

    private async Task<ResourceHandle> LoadPeer(string key, SemaphoreSlim gate)
    {
        await gate.WaitAsync();
        try
        {
            await Task.Yield();
            return _manager.Acquire(new ResourceMetadata(ResourceType.Custom, 256), key, owner: _peerOwner);
        }
        finally
        {
            gate.Release();
        }
    }
}
