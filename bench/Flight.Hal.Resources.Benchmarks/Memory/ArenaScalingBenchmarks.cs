using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Memory;

/// <summary>The arena's curve: allocate + resolve + a one-byte write + free of random sizes from 64 B to 4 KiB (the
/// <see cref="ArenaWindow"/> workload) with <see cref="Live"/> blocks live — 10, 1,000, 10,000 — for the
/// <see cref="Arena"/>, unsynchronised and thread-safe, against <c>NativeMemory.Alloc/Free</c> with the same blocks live
/// (the baseline). A flat curve means the arena's cost does not grow with what it holds.</summary>
/// <remarks>Each invocation runs <see cref="ArenaWindow.Steps"/> steps; figures are per step. The arenas are sized at
/// twice the worst-case live bytes (at least 1 MiB), so no step is refused.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Arena, Categories.Scaling)]
public class ArenaScalingBenchmarks
{
    private int[] _sizes = [];
    private Arena _arena = null!;
    private Arena _threadSafeArena = null!;
    private ResourceHandle[] _handles = [];
    private ResourceHandle[] _threadSafeHandles = [];
    private nint[] _pointers = [];
    private int _arenaSlot;
    private int _threadSafeSlot;
    private int _nativeSlot;

    [Params(10, 1_000, 10_000)]
    public int Live { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _sizes = ArenaWindow.Sizes(seed: 65);
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
