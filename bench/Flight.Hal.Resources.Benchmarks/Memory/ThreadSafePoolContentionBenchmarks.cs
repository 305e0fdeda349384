using System.Buffers;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.ObjectPool;

namespace Flight.Hal.Resources.Benchmarks.Memory;

/// <summary>A 64-byte block's round trip on 1 and 2 threads at once — rent + resolve to usable memory + a one-byte write
/// at offset 0 + return — for the thread-safe <see cref="SlabPool"/> (rent a handle, <see cref="SlabPool.TryResolve"/>
/// it) against <c>ArrayPool&lt;byte&gt;.Shared</c> (the baseline) and an ObjectPool of arrays.</summary>
/// <remarks>Each invocation runs <see cref="OpsPerThread"/> round trips on every thread (the benchmark thread plus
/// <c>Threads - 1</c> workers started once in setup and released by a barrier); the figure is wall time per round trip
/// per thread, so a perfectly scalable pool shows the same figure for 1 and 2 threads.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Pools, Categories.Contention)]
public unsafe class ThreadSafePoolContentionBenchmarks : ContendedBenchmark
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
                for (int i = 0; i < OpsPerThread; i++)
                {
                    byte[] array = _objectPool.Get();
                    array[0] = (byte)i;
                    sum += array.Length;
                    _objectPool.Return(array);
                }

                break;
            default:
                SlabPool pool = _pool;
                for (int i = 0; i < OpsPerThread; i++)
                {
                    pool.TryRent(out ResourceHandle handle);
                    pool.TryResolve(handle, out nint address);
                    *(byte*)address = (byte)i;
                    sum += address;
                    pool.Return(handle);
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
