using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Scoping;

/// <summary>One resource at a time, the size and alignment of a <see cref="long"/> (served by the desktop profile's
/// 32-byte pool), each form doing the same work — acquire + resolve + an 8-byte write at offset 0 + release: manual
/// <c>TryAcquire</c> + <c>TryGetSpan</c> + <c>Release</c> (the baseline), a <see cref="ScopedResource"/> in a
/// <c>using</c> (its <c>Span</c> resolves), and a <see cref="ResourceRef{T}"/> of <see cref="long"/> in a <c>using</c>
/// (one <c>ref</c> to its <c>Value</c>, which resolves; its acquisition also clears the value, a resolve of its
/// own).</summary>
/// <remarks>Each invocation loops <see cref="PerInvoke.Ops"/> resources; figures are per resource.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Manager)]
public class ScopedSingleBenchmarks
{
    private ResourceManager _manager = null!;
    private ResourceMetadata _metadata;

    [GlobalSetup]
    public void Setup()
    {
        _manager = new ResourceManager(PlatformProfile.Get("desktop"));
        _metadata = new ResourceMetadata(ResourceType.Memory, sizeof(long), alignment: sizeof(long));
    }

    [GlobalCleanup]
    public void Cleanup() => _manager.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = PerInvoke.Ops)]
    public long Manual()
    {
        long sum = 0;
        ResourceManager manager = _manager;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            manager.TryAcquire(in _metadata, out ResourceHandle handle);
            manager.TryGetSpan(handle, out Span<byte> bytes);
            MemoryMarshal.Write(bytes, (long)i);
            sum += bytes.Length;
            manager.Release(handle);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long Scoped()
    {
        long sum = 0;
        ResourceManager manager = _manager;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            manager.TryAcquireScoped(in _metadata, out ScopedResource resource);
            using (resource)
            {
                Span<byte> bytes = resource.Span;
                MemoryMarshal.Write(bytes, (long)i);
                sum += bytes.Length;
            }
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long Ref()
    {
        long sum = 0;
        ResourceManager manager = _manager;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            manager.TryAcquire(out ResourceRef<long> resource);
            using (resource)
            {
                ref long value = ref resource.Value;
                value = i;
                sum += sizeof(long);
            }
        }

        return sum;
    }
}
