using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Caching;

/// <summary>A steady stream of misses, as level streaming makes: load an asset (its loader acquires 1 KiB of native
/// memory in the manager), use it, release it; the cache is full, so each load evicts the least recently used asset and
/// releases its memory. Against <see cref="RefCountedDictionaryCache{T}"/> doing the same by hand (the baseline):
/// <c>GetOrAdd</c> with a loader that acquires from the same manager, release, then remove the asset
/// <see cref="Resident"/> loads back and release its memory.</summary>
/// <remarks>Each invocation loops <see cref="PerInvoke.Ops"/> cycles over <see cref="Keys"/> keys; figures are per cycle
/// (one load, one eviction). Allocation: ours recycles its entries; the peer allocates a slot per load.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Cache)]
public class CacheLoadEvictBenchmarks
{
    private const int Keys = 64;
    private const int Resident = 16;
    private const long Size = 1024;

    private ResourceManager _manager = null!;
    private ResourceCache<ResourceHandle> _cache = null!;
    private RefCountedDictionaryCache<ResourceHandle> _peer = null!;
    private string[] _keys = null!;
    private Func<string, ResourceHandle> _peerLoader = null!;

    private static readonly CacheLoader<ResourceHandle> s_loader = static context =>
        context.Acquire(new ResourceMetadata(ResourceType.Custom, Size));

    [GlobalSetup]
    public void Setup()
    {
        _manager = new ResourceManager(PlatformProfile.Get("desktop"));
        _cache = new ResourceCache<ResourceHandle>(_manager, new() { Name = "stream", MaxBytes = Resident * Size });
        _peer = new RefCountedDictionaryCache<ResourceHandle>();
        ResourceOwner owner = _manager.GetOwner("peer");
        var metadata = new ResourceMetadata(ResourceType.Custom, Size);
        _peerLoader = key => _manager.Acquire(metadata, key, owner: owner);
        _keys = PerInvoke.MakeNames("chunks/", Keys);
        for (int i = 0; i < Keys; i++)
        {
            _cache.GetOrLoad(_keys[i], s_loader).Dispose();
        }

        Check.That(_cache.GetStats().ResidentBytes == Resident * Size, "the cache full to its cap");
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
            RefCountedDictionaryCache<ResourceHandle>.Slot slot = _peer.GetOrLoad(_keys[i & (Keys - 1)], _peerLoader);
            sum += (long)slot.Value.RawValue;
            RefCountedDictionaryCache<ResourceHandle>.Release(slot);
            if (_peer.TryEvict(_keys[(i - Resident) & (Keys - 1)], out ResourceHandle evicted))
            {
                _manager.Release(evicted);
            }
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long Cache()
    {
        long sum = 0;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            CacheRef<ResourceHandle> reference = _cache.GetOrLoad(_keys[i & (Keys - 1)], s_loader);
            sum += (long)reference.Value.RawValue;
            reference.Dispose();
        }

        return sum;
    }
}
