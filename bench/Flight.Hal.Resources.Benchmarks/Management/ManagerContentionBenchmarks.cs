using System.Buffers;
using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Management;

/// <summary>Acquire + release of 64-byte resources on 1 and 2 threads at once: the <see cref="ResourceManager"/>
/// against the locked string-keyed registry (baseline) and <c>ArrayPool&lt;byte&gt;.Shared</c>.</summary>
/// <remarks>As <c>ThreadSafePoolContentionBenchmarks</c>: every thread runs <see cref="OpsPerThread"/> pairs per
/// invocation; the figure is wall time per pair, so perfect scaling halves it on 2 threads.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Manager, Categories.Contention)]
public class ManagerContentionBenchmarks : ContendedBenchmark
{
    private const int OpsPerThread = 20_000;
    private const int Size = 64;

    private ResourceManager _manager = null!;
    private LockedStringRegistry _registry = null!;
    private ResourceMetadata _metadata;

    [GlobalSetup]
    public void Setup()
    {
        _manager = new ResourceManager(PlatformProfile.Get("desktop"));
        _registry = new LockedStringRegistry(long.MaxValue / 2);
        _metadata = new ResourceMetadata(ResourceType.Memory, Size);
        StartWorkers();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        StopWorkers();
        _manager.Dispose();
        _registry.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = OpsPerThread)]
    public long LockedStringRegistry() => Run(0);

    [Benchmark(OperationsPerInvoke = OpsPerThread)]
    public long ArrayPoolShared() => Run(1);

    [Benchmark(OperationsPerInvoke = OpsPerThread)]
    public long Manager() => Run(2);

    protected override long Body(int scenario)
    {
        long sum = 0;
        switch (scenario)
        {
            case 0:
                for (int i = 0; i < OpsPerThread; i++)
                {
                    string id = _registry.Acquire(ResourceType.Memory, Size)!;
                    sum += _registry.Resolve(id);
                    _registry.Release(id);
                }

                break;
            case 1:
                for (int i = 0; i < OpsPerThread; i++)
                {
                    byte[] array = ArrayPool<byte>.Shared.Rent(Size);
                    sum += array.Length;
                    ArrayPool<byte>.Shared.Return(array);
                }

                break;
            default:
                for (int i = 0; i < OpsPerThread; i++)
                {
                    _manager.TryAcquire(in _metadata, out ResourceHandle handle);
                    sum += _manager.ResolveAddress(handle);
                    _manager.Release(handle);
                }

                break;
        }

        return sum;
    }
}
