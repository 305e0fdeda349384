using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Memory;

/// <summary>Allocate + free of random sizes from 64 B to 4 KiB with 512 allocations live (a sliding window: each step
/// frees the oldest and allocates the next size), the same pre-generated sequence for the <see cref="Arena"/> and for
/// <c>NativeMemory.Alloc/Free</c> (the baseline).</summary>
/// <remarks>Each invocation runs <see cref="Steps"/> steps; the figures are per allocate+free pair.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Arena)]
public unsafe class ArenaBenchmarks
{
    private const int Steps = 4096;
    private const int Window = 512;

    private static int[] s_sizes = [];
    private Arena _arena = null!;
    private Arena _threadSafeArena = null!;
    private ResourceHandle[] _handles = null!;
    private ResourceHandle[] _threadSafeHandles = null!;
    private nint[] _pointers = null!;
    private int _cursor;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(64);
        s_sizes = Enumerable.Range(0, Steps).Select(_ => random.Next(64, 4097)).ToArray();
        _arena = new Arena(new ArenaConfig { Size = 16 * 1024 * 1024, MaxAllocations = Window * 2 });
        _threadSafeArena = new Arena(new ArenaConfig { Size = 16 * 1024 * 1024, MaxAllocations = Window * 2, ThreadSafe = true });
        _handles = new ResourceHandle[Window];
        _threadSafeHandles = new ResourceHandle[Window];
        _pointers = new nint[Window];
        for (int i = 0; i < Window; i++)
        {
            _pointers[i] = (nint)NativeMemory.Alloc((nuint)s_sizes[i]);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _arena.Dispose();
        _threadSafeArena.Dispose();
        foreach (nint pointer in _pointers)
        {
            NativeMemory.Free((void*)pointer);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Steps)]
    public nint NativeMemoryAllocFree()
    {
        nint last = 0;
        int[] sizes = s_sizes;
        nint[] pointers = _pointers;
        int cursor = _cursor;
        for (int step = 0; step < sizes.Length; step++)
        {
            int slot = cursor++ & (Window - 1);
            NativeMemory.Free((void*)pointers[slot]);
            last = (nint)NativeMemory.Alloc((nuint)sizes[step]);
            pointers[slot] = last;
        }

        _cursor = cursor;
        return last;
    }

    [Benchmark(OperationsPerInvoke = Steps)]
    public ResourceStatus Arena() => Run(_arena, _handles);

    [Benchmark(OperationsPerInvoke = Steps)]
    public ResourceStatus ArenaThreadSafe() => Run(_threadSafeArena, _threadSafeHandles);

    private static ResourceStatus Run(Arena arena, ResourceHandle[] handles)
    {
        // The window persists across invocations: after the first, every step frees the oldest live allocation.
        ResourceStatus last = ResourceStatus.Ok;
        int[] sizes = s_sizes;
        for (int step = 0; step < sizes.Length; step++)
        {
            int slot = step & (Window - 1);
            if (!handles[slot].IsNull)
            {
                arena.Free(handles[slot]);
            }

            last = arena.TryAllocate(sizes[step], 0, out handles[slot]);
        }

        return last;
    }
}
