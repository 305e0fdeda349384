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
    private ArenaWindows _windows = null!;

    [Params(10, 1_000, 10_000)]
    public int Live { get; set; }

    [GlobalSetup]
    public void Setup() => _windows = new ArenaWindows(Live, seed: 65);

    [GlobalCleanup]
    public void Cleanup() => _windows.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = ArenaWindow.Steps)]
    public long NativeMemoryAllocFree() => _windows.RunNativeMemory();

    [Benchmark(OperationsPerInvoke = ArenaWindow.Steps)]
    public long Arena() => _windows.RunArena();

    [Benchmark(OperationsPerInvoke = ArenaWindow.Steps)]
    public long ArenaThreadSafe() => _windows.RunThreadSafeArena();
}
