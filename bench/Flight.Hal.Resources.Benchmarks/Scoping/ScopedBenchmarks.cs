using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Scoping;

/// <summary>Scoped forms against manual acquire + release (baseline), one 64-byte resource per operation: a
/// <see cref="ScopedResource"/> in a <c>using</c>, a <see cref="ResourceRef{T}"/>, and a <see cref="ResourceScope"/>
/// holding a frame of 16 transient resources (reported per resource).</summary>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Manager)]
public class ScopedBenchmarks
{
    private const int FrameSize = 16;

    private ResourceManager _manager = null!;
    private ResourceMetadata _metadata;

    [GlobalSetup]
    public void Setup()
    {
        _manager = new ResourceManager(PlatformProfile.Get("desktop"));
        _metadata = new ResourceMetadata(ResourceType.Memory, 64);
    }

    [GlobalCleanup]
    public void Cleanup() => _manager.Dispose();

    [Benchmark(Baseline = true)]
    public int Manual()
    {
        _manager.TryAcquire(in _metadata, out ResourceHandle handle);
        Span<byte> bytes = _manager.Resolve(handle);
        bytes[0] = 1;
        _manager.Release(handle);
        return bytes.Length;
    }

    [Benchmark]
    public int Scoped()
    {
        _manager.TryAcquireScoped(in _metadata, out ScopedResource resource);
        using (resource)
        {
            Span<byte> bytes = resource.Span;
            bytes[0] = 1;
            return bytes.Length;
        }
    }

    [Benchmark]
    public long Ref()
    {
        _manager.TryAcquire(out ResourceRef<long> value);
        using (value)
        {
            value.Value = 1;
            return value.Value;
        }
    }

    [Benchmark(OperationsPerInvoke = FrameSize)]
    public int ScopeOf16()
    {
        int total = 0;
        using ResourceScope frame = _manager.BeginScope();
        for (int i = 0; i < FrameSize; i++)
        {
            frame.TryAcquire(in _metadata, out ResourceHandle handle);
            total += handle.Index;
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = FrameSize)]
    public int ManualOf16()
    {
        Span<ResourceHandle> handles = stackalloc ResourceHandle[FrameSize];
        int total = 0;
        for (int i = 0; i < FrameSize; i++)
        {
            _manager.TryAcquire(in _metadata, out handles[i]);
            total += handles[i].Index;
        }

        for (int i = FrameSize - 1; i >= 0; i--)
        {
            _manager.Release(handles[i]);
        }

        return total;
    }
}
