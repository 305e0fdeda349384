using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Scoping;

/// <summary>A frame of 16 transient 64-byte resources, desktop profile: each resource acquired + resolved + an 8-byte
/// write at offset 0, then all 16 released — by hand (16 handles on the stack, released in reverse: the baseline) or by a
/// <see cref="ResourceScope"/>'s <c>Dispose</c>.</summary>
/// <remarks>Each invocation runs <see cref="Frames"/> frames (<see cref="PerInvoke.Ops"/> resources); figures are per
/// resource.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Manager)]
public class ScopedFrameBenchmarks
{
    private const int FrameSize = 16;
    private const int Frames = PerInvoke.Ops / FrameSize;

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

    [Benchmark(Baseline = true, OperationsPerInvoke = PerInvoke.Ops)]
    public long ManualOf16()
    {
        long sum = 0;
        ResourceManager manager = _manager;
        Span<ResourceHandle> handles = stackalloc ResourceHandle[FrameSize];
        for (int frame = 0; frame < Frames; frame++)
        {
            for (int i = 0; i < FrameSize; i++)
            {
                manager.TryAcquire(in _metadata, out handles[i]);
                manager.TryGetSpan(handles[i], out Span<byte> bytes);
                MemoryMarshal.Write(bytes, (long)i);
                sum += bytes.Length;
            }

            for (int i = FrameSize - 1; i >= 0; i--)
            {
                manager.Release(handles[i]);
            }
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long ScopeOf16()
    {
        long sum = 0;
        ResourceManager manager = _manager;
        for (int frame = 0; frame < Frames; frame++)
        {
            using ResourceScope scope = manager.BeginScope();
            for (int i = 0; i < FrameSize; i++)
            {
                scope.TryAcquire(in _metadata, out ResourceHandle handle);
                manager.TryGetSpan(handle, out Span<byte> bytes);
                MemoryMarshal.Write(bytes, (long)i);
                sum += bytes.Length;
            }
        }

        return sum;
    }
}
