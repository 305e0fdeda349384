using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Memory;

/// <summary>What defragmentation costs: an 8 MiB arena holding 1,024 blocks of 4 KiB with every other one freed (512
/// holes), compacted completely by one <see cref="Arena.Defragment"/> call (512 moves, 2 MiB copied, the holes merged
/// into one free block), against the floor: copying the same 2 MiB in the same 512 pieces with
/// <c>Buffer.MemoryCopy</c> (the bytes a move must copy, without the block records, list updates and merges).</summary>
/// <remarks>The arena is fragmented again before each invocation (iteration setup, one invocation per iteration); the
/// figure is per 4 KiB block moved.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Arena)]
public unsafe class ArenaDefragmentBenchmarks
{
    private const int Blocks = 1024;
    private const int BlockSize = 4096;
    private const int Moved = Blocks / 2;

    private Arena _arena = null!;
    private ResourceHandle[] _handles = [];
    private byte* _from;
    private byte* _to;

    [GlobalSetup]
    public void Setup()
    {
        _arena = new Arena(new ArenaConfig { Size = 8 << 20, MinAlignment = 32, Granularity = 32, MaxAllocations = 4096 });
        _handles = new ResourceHandle[Blocks];
        _from = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(Moved * BlockSize, 64);
        _to = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(Moved * BlockSize, 64);
        new Span<byte>(_from, Moved * BlockSize).Fill(1);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _arena.Dispose();
        System.Runtime.InteropServices.NativeMemory.AlignedFree(_from);
        System.Runtime.InteropServices.NativeMemory.AlignedFree(_to);
    }

    [IterationSetup(Target = nameof(ArenaDefragment))]
    public void Fragment()
    {
        foreach (ResourceHandle handle in _handles)
        {
            if (!handle.IsNull)
            {
                _arena.Free(handle);
            }
        }

        for (int i = 0; i < Blocks; i++)
        {
            _handles[i] = _arena.Allocate(BlockSize);
        }

        for (int i = 0; i < Blocks; i += 2)
        {
            _arena.Free(_handles[i]);
            _handles[i] = default;
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Moved)]
    public long MemoryCopyFloor()
    {
        for (int i = 0; i < Moved; i++)
        {
            Buffer.MemoryCopy(_from + ((long)i * BlockSize), _to + ((long)i * BlockSize), BlockSize, BlockSize);
        }

        return _to[BlockSize - 1];
    }

    [Benchmark(OperationsPerInvoke = Moved)]
    public long ArenaDefragment()
    {
        DefragmentationStats stats = _arena.Defragment(long.MaxValue);
        Check.That(stats.Moves == Moved, $"{Moved} moves ({stats.Moves})");
        return stats.BytesMoved;
    }
}
