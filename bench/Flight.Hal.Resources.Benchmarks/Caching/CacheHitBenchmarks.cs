using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Caching;

/// <summary>A cache hit and its release, one thread: find a loaded asset by key, take a counted reference, read the
/// value, release the reference. Against <see cref="RefCountedDictionaryCache{T}"/> (a <c>ConcurrentDictionary</c> with
/// an interlocked count: what a straightforward port writes; the baseline). Keys as <see cref="string"/> and as spans.</summary>
/// <remarks>Each invocation loops <see cref="PerInvoke.Ops"/> hits over <see cref="Keys"/> keys, all loaded in setup;
/// figures are per hit. Ours also keeps the entry's LRU position, refuses a stale or doubly released reference, and
/// keeps every asset's native memory inside its budget.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Cache)]
public class CacheHitBenchmarks
{
    private const int Keys = 512;

    private ResourceManager _manager = null!;
    private ResourceCache<Asset> _cache = null!;
    private RefCountedDictionaryCache<Asset> _peer = null!;
    private string[] _keys = null!;
    private char[][] _spans = null!;

    /// <summary>A loaded asset.</summary>
    public sealed class Asset(int id)
    {
        /// <summary>Its id.</summary>
        public int Id { get; } = id;
    }

    private static readonly CacheLoader<Asset> s_loader = static context =>
    {
        context.Acquire(new ResourceMetadata(ResourceType.Memory, 64));
        return new Asset(context.Key.Length);
    };

    private static readonly Func<string, Asset> s_peerLoader = static key => new Asset(key.Length);

    [GlobalSetup]
    public void Setup()
    {
        _manager = new ResourceManager(PlatformProfile.Get("desktop"));
        _cache = new ResourceCache<Asset>(_manager, new() { Name = "bench" });
        _peer = new RefCountedDictionaryCache<Asset>();
        _keys = PerInvoke.MakeNames("textures/", Keys);
        _spans = _keys.Select(k => k.ToCharArray()).ToArray();
        foreach (string key in _keys)
        {
            _cache.GetOrLoad(key, s_loader).Dispose();
            RefCountedDictionaryCache<Asset>.Release(_peer.GetOrLoad(key, s_peerLoader));
        }

        Check.That(_cache.GetStats().Unreferenced == Keys, "every key loaded and unreferenced");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cache.Dispose();
        _manager.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = PerInvoke.Ops)]
    public long Dictionary()
    {
        long sum = 0;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            RefCountedDictionaryCache<Asset>.Slot slot = _peer.GetOrLoad(_keys[i & (Keys - 1)], s_peerLoader);
            sum += slot.Value.Id;
            RefCountedDictionaryCache<Asset>.Release(slot);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long DictionarySpan()
    {
        long sum = 0;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            RefCountedDictionaryCache<Asset>.Slot slot = _peer.TryGet(_spans[i & (Keys - 1)])!;
            sum += slot.Value.Id;
            RefCountedDictionaryCache<Asset>.Release(slot);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long Cache()
    {
        long sum = 0;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            CacheRef<Asset> reference = _cache.GetOrLoad(_keys[i & (Keys - 1)], s_loader);
            sum += reference.Value.Id;
            reference.Dispose();
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long CacheSpan()
    {
        long sum = 0;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            CacheRef<Asset> reference = _cache.GetOrLoad(_spans[i & (Keys - 1)], s_loader);
            sum += reference.Value.Id;
            reference.Dispose();
        }

        return sum;
    }
}
