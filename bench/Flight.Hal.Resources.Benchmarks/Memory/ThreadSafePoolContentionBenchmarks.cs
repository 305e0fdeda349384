using System.Buffers;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.ObjectPool;

namespace Flight.Hal.Resources.Benchmarks.Memory;

/// <summary>Rent+return of 64-byte blocks on 1 and 2 threads at once: the thread-safe <see cref="SlabPool"/> against
/// <c>ArrayPool&lt;byte&gt;.Shared</c> (baseline) and an ObjectPool of arrays.</summary>
/// <remarks>Each invocation runs <see cref="OpsPerThread"/> rent+return pairs on every thread (the benchmark thread
/// plus <c>Threads - 1</c> workers started once in setup and released by a barrier), so the figure is wall time per
/// pair across all threads: with 2 threads a perfectly scalable pool shows half the 1-thread time.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Pools, Categories.Contention)]
public class ThreadSafePoolContentionBenchmarks : ContendedBenchmark
{
    private const int OpsPerThread = 20_000;
    private const int Size = 64;

    private SlabPool _pool = null!;
    private ObjectPool<byte[]> _objectPool = null!;

    [GlobalSetup]
    public void Setup()
    {
        _pool = new SlabPool(new PoolConfig { BlockSize = Size, MaxCount = 4096, InitialCount = 256, ThreadSafe = true });
        _objectPool = new DefaultObjectPoolProvider { MaximumRetained = 64 }.Create(new ArrayPolicy());
        StartWorkers();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        StopWorkers();
        _pool.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = OpsPerThread)]
    public long ArrayPoolShared() => Run(0);

    [Benchmark(OperationsPerInvoke = OpsPerThread)]
    public long ObjectPoolOfArrays() => Run(1);

    [Benchmark(OperationsPerInvoke = OpsPerThread)]
    public long SlabPoolThreadSafe() => Run(2);

    protected override long Body(int scenario)
    {
        long sum = 0;
        switch (scenario)
        {
            case 0:
                for (int i = 0; i < OpsPerThread; i++)
                {
                    byte[] array = ArrayPool<byte>.Shared.Rent(Size);
                    sum += array.Length;
                    ArrayPool<byte>.Shared.Return(array);
                }

                break;
            case 1:
                for (int i = 0; i < OpsPerThread; i++)
                {
                    byte[] array = _objectPool.Get();
                    sum += array.Length;
                    _objectPool.Return(array);
                }

                break;
            default:
                for (int i = 0; i < OpsPerThread; i++)
                {
                    _pool.TryRent(out ResourceHandle handle);
                    sum += handle.Index;
                    _pool.Return(handle);
                }

                break;
        }

        return sum;
    }

    private sealed class ArrayPolicy : PooledObjectPolicy<byte[]>
    {
        public override byte[] Create() => new byte[Size];

        public override bool Return(byte[] obj) => true;
    }
}
