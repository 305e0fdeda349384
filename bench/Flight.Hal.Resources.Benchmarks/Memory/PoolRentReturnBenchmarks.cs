using System.Buffers;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.ObjectPool;

namespace Flight.Hal.Resources.Benchmarks.Memory;

/// <summary>Renting and returning one block, single thread: both <see cref="SlabPool"/> modes against the .NET
/// peers (<c>ArrayPool&lt;byte&gt;.Shared</c> as the baseline, <c>NativeMemory.Alloc/Free</c>, an ObjectPool of
/// arrays) and a bare single-threaded slab free list (the floor: a pointer pop and push).</summary>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Pools)]
public unsafe class PoolRentReturnBenchmarks
{
    private SlabPool _unsynchronized = null!;
    private SlabPool _threadSafe = null!;
    private ObjectPool<byte[]> _objectPool = null!;
    private byte* _bareSlab;
    private byte* _bareHead;

    [Params(64, 4096)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _unsynchronized = new SlabPool(new PoolConfig { BlockSize = Size, MaxCount = 1024, InitialCount = 64 });
        _threadSafe = new SlabPool(new PoolConfig { BlockSize = Size, MaxCount = 1024, InitialCount = 64, ThreadSafe = true });
        _objectPool = new DefaultObjectPoolProvider { MaximumRetained = 64 }.Create(new ArrayPolicy(Size));

        // The bare free list: 64 blocks, each free block's first 8 bytes point to the next.
        _bareSlab = (byte*)NativeMemory.AlignedAlloc((nuint)(Size * 64), 64);
        for (int i = 0; i < 64; i++)
        {
            *(byte**)(_bareSlab + (i * Size)) = i == 63 ? null : _bareSlab + ((i + 1) * Size);
        }

        _bareHead = _bareSlab;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _unsynchronized.Dispose();
        _threadSafe.Dispose();
        NativeMemory.AlignedFree(_bareSlab);
    }

    [Benchmark(Baseline = true)]
    public byte[] ArrayPoolShared()
    {
        byte[] array = ArrayPool<byte>.Shared.Rent(Size);
        ArrayPool<byte>.Shared.Return(array);
        return array;
    }

    [Benchmark]
    public nint NativeMemoryAllocFree()
    {
        void* pointer = NativeMemory.Alloc((nuint)Size);
        NativeMemory.Free(pointer);
        return (nint)pointer;
    }

    [Benchmark]
    public byte[] ObjectPoolOfArrays()
    {
        byte[] array = _objectPool.Get();
        _objectPool.Return(array);
        return array;
    }

    [Benchmark]
    public nint BareSlabFreeList()
    {
        byte* block = _bareHead;
        _bareHead = *(byte**)block;
        *(byte**)block = _bareHead;
        _bareHead = block;
        return (nint)block;
    }

    [Benchmark]
    public ResourceStatus SlabPoolUnsynchronized()
    {
        _unsynchronized.TryRent(out ResourceHandle handle);
        return _unsynchronized.Return(handle);
    }

    [Benchmark]
    public ResourceStatus SlabPoolThreadSafe()
    {
        _threadSafe.TryRent(out ResourceHandle handle);
        return _threadSafe.Return(handle);
    }

    private sealed class ArrayPolicy(int size) : PooledObjectPolicy<byte[]>
    {
        public override byte[] Create() => new byte[size];

        public override bool Return(byte[] obj) => true;
    }
}
