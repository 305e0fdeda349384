using System.Buffers;
using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Management;

/// <summary>The pooled anonymous path on 1 and 2 threads at once, 64 B, desktop profile: each thread loops acquire +
/// resolve to an address + a one-byte write at offset 0 + release. Against <c>ArrayPool&lt;byte&gt;.Shared</c> (the
/// baseline: rent + write + return) and <see cref="LockedStringRegistry"/> (acquire under a key + find + write + release;
/// each thread cycles through its own keys, made in setup).</summary>
/// <remarks>As <c>ThreadSafePoolContentionBenchmarks</c>: every thread runs <see cref="OpsPerThread"/> operations per
/// invocation; the figure is wall time per operation per thread, so perfect scaling shows the same figure for 1 and 2
/// threads.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Manager, Categories.Contention)]
public unsafe class ManagerContentionBenchmarks : ContendedBenchmark
{
    private const int OpsPerThread = 20_000;
    private const int Size = 64;

    private ResourceManager _manager = null!;
    private LockedStringRegistry _registry = null!;
    private ResourceMetadata _metadata;
    private string[][] _keys = [];

    [GlobalSetup]
    public void Setup()
    {
        _manager = new ResourceManager(PlatformProfile.Get("desktop"));
        _registry = new LockedStringRegistry(long.MaxValue / 2);
        _metadata = new ResourceMetadata(ResourceType.Memory, Size);
        _keys = [.. Enumerable.Range(0, Threads).Select(t => PerInvoke.MakeNames($"thread{t}-resource-", PerInvoke.Names))];
        ManagerProbe.ExpectPool(_manager, in _metadata);
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
    public long ArrayPoolShared() => Run(0);

    [Benchmark(OperationsPerInvoke = OpsPerThread)]
    public long LockedStringRegistry() => Run(1);

    [Benchmark(OperationsPerInvoke = OpsPerThread)]
    public long Manager() => Run(2);

    protected override long Body(int scenario, int thread)
    {
        long sum = 0;
        switch (scenario)
        {
            case 0:
                for (int i = 0; i < OpsPerThread; i++)
                {
                    byte[] array = ArrayPool<byte>.Shared.Rent(Size);
                    array[0] = (byte)i;
                    sum += array.Length;
                    ArrayPool<byte>.Shared.Return(array);
                }

                break;
            case 1:
                string[] keys = _keys[thread];
                for (int i = 0; i < OpsPerThread; i++)
                {
                    string key = keys[i & (PerInvoke.Names - 1)];
                    _registry.Acquire(key, ResourceType.Memory, Size);
                    nint memory = _registry.Find(key);
                    *(byte*)memory = (byte)i;
                    sum += memory;
                    _registry.Release(key);
                }

                break;
            default:
                ResourceManager manager = _manager;
                for (int i = 0; i < OpsPerThread; i++)
                {
                    manager.TryAcquire(in _metadata, out ResourceHandle handle);
                    manager.TryResolve(handle, out nint address, out _);
                    *(byte*)address = (byte)i;
                    sum += address;
                    manager.Release(handle);
                }

                break;
        }

        return sum;
    }
}
