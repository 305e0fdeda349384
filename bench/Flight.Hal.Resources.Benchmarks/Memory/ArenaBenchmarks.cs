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

    private ArenaWindows _windows = null!;

    [GlobalSetup]
    public void Setup() => _windows = new ArenaWindows(Live, seed: 64);

    [GlobalCleanup]
    public void Cleanup() => _windows.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = ArenaWindow.Steps)]
    public long NativeMemoryAllocFree() => _windows.RunNativeMemory();

    [Benchmark(OperationsPerInvoke = ArenaWindow.Steps)]
    public long Arena() => _windows.RunArena();

    [Benchmark(OperationsPerInvoke = ArenaWindow.Steps)]
    public long ArenaThreadSafe() => _windows.RunThreadSafeArena();
}
