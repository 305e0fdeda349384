using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Memory;

/// <summary>Allocate + resolve + a one-byte write + free of random sizes from 64 B to 4 KiB with 512 blocks live (a
/// sliding window: each step frees the oldest block and allocates the next size of one pre-generated sequence,
/// <see cref="ArenaWindow"/>): the <see cref="Arena"/>, unsynchronised and thread-safe, against
/// <c>NativeMemory.Alloc/Free</c> on the same sequence (the baseline).</summary>
/// <remarks>Each invocation runs <see cref="ArenaWindow.Steps"/> steps; figures are per step.
/// <c>ArenaScalingBenchmarks</c> runs the same workload with 10, 1,000 and 10,000 blocks live.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Arena)]
public class ArenaBenchmarks
{
    private const int Live = 512;

    private int[] _sizes = [];
    private Arena _arena = null!;
    private Arena _threadSafeArena = null!;
    private ResourceHandle[] _handles = [];
    private ResourceHandle[] _threadSafeHandles = [];
    private nint[] _pointers = [];
    private int _arenaSlot;
    private int _threadSafeSlot;
    private int _nativeSlot;

    [GlobalSetup]
    public void Setup()
    {
        _sizes = ArenaWindow.Sizes(seed: 64);
        _arena = ArenaWindow.CreateArena(Live, threadSafe: false);
        _threadSafeArena = ArenaWindow.CreateArena(Live, threadSafe: true);
        _handles = new ResourceHandle[Live];
        _threadSafeHandles = new ResourceHandle[Live];
        _pointers = new nint[Live];
        ArenaWindow.Fill(_arena, _handles, _sizes);
        ArenaWindow.Fill(_threadSafeArena, _threadSafeHandles, _sizes);
        ArenaWindow.Fill(_pointers, _sizes);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _arena.Dispose();
        _threadSafeArena.Dispose();
        ArenaWindow.Empty(_pointers);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = ArenaWindow.Steps)]
    public long NativeMemoryAllocFree() => ArenaWindow.Run(_pointers, _sizes, ref _nativeSlot);

    [Benchmark(OperationsPerInvoke = ArenaWindow.Steps)]
    public long Arena() => ArenaWindow.Run(_arena, _handles, _sizes, ref _arenaSlot);

    [Benchmark(OperationsPerInvoke = ArenaWindow.Steps)]
    public long ArenaThreadSafe() => ArenaWindow.Run(_threadSafeArena, _threadSafeHandles, _sizes, ref _threadSafeSlot);
}
