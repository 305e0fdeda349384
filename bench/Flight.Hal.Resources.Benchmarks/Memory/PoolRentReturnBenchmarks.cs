using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.ObjectPool;

namespace Flight.Hal.Resources.Benchmarks.Memory;

/// <summary>One block's round trip, one thread: rent + resolve to usable memory + a one-byte write at offset 0 + return.
/// Both <see cref="SlabPool"/> modes (rent a handle, <see cref="SlabPool.TryResolve"/> it to an address) against the
/// .NET peers — <c>ArrayPool&lt;byte&gt;.Shared</c> (the baseline), <c>NativeMemory.Alloc/Free</c>, an ObjectPool of
/// arrays — and a bare single-threaded slab free list (the floor: a pointer pop and push, no handles).</summary>
/// <remarks>Each invocation loops <see cref="PerInvoke.Ops"/> round trips; figures are per round trip. The floor's
/// calls are inlinable, as <see cref="SlabPool"/>'s are: with the write between them a rent and return cannot fold
/// away.</remarks>
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

    [Benchmark(Baseline = true, OperationsPerInvoke = PerInvoke.Ops)]
    public long ArrayPoolShared() => PeerLoops.ArrayPoolShared(Size);

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long NativeMemoryAllocFree() => PeerLoops.NativeMemoryAllocFree(Size);

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long ObjectPoolOfArrays()
    {
        long sum = 0;
        ObjectPool<byte[]> pool = _objectPool;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            byte[] array = pool.Get();
            array[0] = (byte)i;
            sum += array.Length;
            pool.Return(array);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long BareSlabFreeList()
    {
        long sum = 0;
        BareSlabFreeListPool pool = _bare;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            byte* block = pool.Rent();
            *block = (byte)i;
            sum += (nint)block;
            pool.Return(block);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long SlabPoolUnsynchronized() => RentResolveWriteReturn(_unsynchronized);

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long SlabPoolThreadSafe() => RentResolveWriteReturn(_threadSafe);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long RentResolveWriteReturn(SlabPool pool)
    {
        long sum = 0;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            pool.TryRent(out ResourceHandle handle);
            pool.TryResolve(handle, out nint address);
            *(byte*)address = (byte)i;
            sum += address;
            pool.Return(handle);
        }

        return sum;
    }

    /// <summary>The floor for a pool API: one slab, a pointer free list through the free blocks, an exhaustion check
    /// and a used count — no handles, no validation, no growth. Inlinable, as <see cref="SlabPool"/>'s rent, resolve and
    /// return are.</summary>
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

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
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

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
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
