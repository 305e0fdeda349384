using System.Buffers;
using System.Runtime.CompilerServices;
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
    private BareSlabFreeListPool _bare = null!;

    [Params(64, 4096)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _unsynchronized = new SlabPool(new PoolConfig { BlockSize = Size, MaxCount = 1024, InitialCount = 64 });
        _threadSafe = new SlabPool(new PoolConfig { BlockSize = Size, MaxCount = 1024, InitialCount = 64, ThreadSafe = true });
        _objectPool = new DefaultObjectPoolProvider { MaximumRetained = 64 }.Create(new ArrayPolicy(Size));

        _bare = new BareSlabFreeListPool(Size, 64);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _unsynchronized.Dispose();
        _threadSafe.Dispose();
        _bare.Dispose();
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
        byte* block = _bare.Rent();
        _bare.Return(block);
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

    /// <summary>The floor for a pool API: one slab, a pointer free list through the free blocks, an exhaustion check
    /// and a used count — no handles, no validation, no growth. Calls are not inlined, as a pool's API is not: inlined,
    /// a pop followed by a push of the same block folds away and measures nothing.</summary>
    private sealed class BareSlabFreeListPool : IDisposable
    {
        private readonly byte* _slab;
        private byte* _head;
        private int _used;

        public BareSlabFreeListPool(int blockSize, int count)
        {
            _slab = (byte*)NativeMemory.AlignedAlloc((nuint)(blockSize * count), 64);
            for (int i = 0; i < count; i++)
            {
                *(byte**)(_slab + (i * blockSize)) = i == count - 1 ? null : _slab + ((i + 1) * blockSize);
            }

            _head = _slab;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public byte* Rent()
        {
            byte* block = _head;
            if (block == null)
            {
                return null;
            }

            _head = *(byte**)block;
            _used++;
            return block;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public void Return(byte* block)
        {
            *(byte**)block = _head;
            _head = block;
            _used--;
        }

        public void Dispose() => NativeMemory.AlignedFree(_slab);
    }

    private sealed class ArrayPolicy(int size) : PooledObjectPolicy<byte[]>
    {
        public override byte[] Create() => new byte[size];

        public override bool Return(byte[] obj) => true;
    }
}
