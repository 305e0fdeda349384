using System.Runtime.InteropServices;

namespace Flight.Hal.Resources.Benchmarks.Memory;

/// <summary>The arena suites' workload: a sliding window of live blocks over one pre-generated sequence of random sizes
/// (64 B to 4 KiB). Each step frees the oldest live block and allocates the next size in its place, then resolves the new
/// block to an address and writes one byte at offset 0. The window is filled in setup, so every timed step frees one
/// block and allocates one.</summary>
public static unsafe class ArenaWindow
{
    /// <summary>Steps per invocation (one allocate + resolve + write + free each).</summary>
    public const int Steps = 4 * PerInvoke.Ops;

    /// <summary>The size sequence, <see cref="Steps"/> long; the same for every allocator.</summary>
    public static int[] Sizes(int seed)
    {
        var random = new Random(seed);
        var sizes = new int[Steps];
        for (int i = 0; i < sizes.Length; i++)
        {
            sizes[i] = random.Next(64, 4097);
        }

        return sizes;
    }

    /// <summary>An arena with room for <paramref name="live"/> blocks of up to 4 KiB at any fragmentation the sequence
    /// reaches (twice the worst-case live bytes, at least 1 MiB).</summary>
    public static Arena CreateArena(int live, bool threadSafe) => new(new ArenaConfig
    {
        Size = Math.Max(1L << 20, 2L * live * 4096),
        MaxAllocations = live + 16,
        ThreadSafe = threadSafe,
    });

    public static void Fill(Arena arena, ResourceHandle[] window, int[] sizes)
    {
        for (int i = 0; i < window.Length; i++)
        {
            Check.Ok(arena.TryAllocate(sizes[i % sizes.Length], 0, out window[i]), "filling the arena's window");
        }
    }

    public static void Fill(nint[] window, int[] sizes)
    {
        for (int i = 0; i < window.Length; i++)
        {
            window[i] = (nint)NativeMemory.Alloc((nuint)sizes[i % sizes.Length]);
        }
    }

    public static void Empty(nint[] window)
    {
        foreach (nint pointer in window)
        {
            NativeMemory.Free((void*)pointer);
        }
    }

    /// <summary>One invocation on an arena; <paramref name="slot"/> (the oldest block) persists across invocations.</summary>
    public static long Run(Arena arena, ResourceHandle[] window, int[] sizes, ref int slot)
    {
        long sum = 0;
        int live = window.Length;
        int oldest = slot;
        for (int step = 0; step < sizes.Length; step++)
        {
            arena.Free(window[oldest]);
            arena.TryAllocate(sizes[step], 0, out ResourceHandle handle);
            arena.TryResolve(handle, out nint address, out _);
            *(byte*)address = (byte)step;
            sum += address;
            window[oldest] = handle;
            if (++oldest == live)
            {
                oldest = 0;
            }
        }

        slot = oldest;
        return sum;
    }

    /// <summary>One invocation on <c>NativeMemory.Alloc/Free</c>, the same steps.</summary>
    public static long Run(nint[] window, int[] sizes, ref int slot)
    {
        long sum = 0;
        int live = window.Length;
        int oldest = slot;
        for (int step = 0; step < sizes.Length; step++)
        {
            NativeMemory.Free((void*)window[oldest]);
            byte* memory = (byte*)NativeMemory.Alloc((nuint)sizes[step]);
            *memory = (byte)step;
            sum += (nint)memory;
            window[oldest] = (nint)memory;
            if (++oldest == live)
            {
                oldest = 0;
            }
        }

        slot = oldest;
        return sum;
    }
}

/// <summary>The arena suites' three windows over one size sequence, built alike for <c>ArenaBenchmarks</c> and
/// <c>ArenaScalingBenchmarks</c>: an unsynchronised <see cref="Arena"/>, a thread-safe one and a
/// <c>NativeMemory</c> window, each filled with <c>live</c> blocks, and each window's oldest slot, which persists across
/// invocations. Each <c>Run</c> is one invocation (<see cref="ArenaWindow.Steps"/> steps).</summary>
public sealed class ArenaWindows : IDisposable
{
    private readonly int[] _sizes;
    private readonly Arena _arena;
    private readonly Arena _threadSafeArena;
    private readonly ResourceHandle[] _handles;
    private readonly ResourceHandle[] _threadSafeHandles;
    private readonly nint[] _pointers;
    private int _arenaSlot;
    private int _threadSafeSlot;
    private int _nativeSlot;

    public ArenaWindows(int live, int seed)
    {
        _sizes = ArenaWindow.Sizes(seed);
        _arena = ArenaWindow.CreateArena(live, threadSafe: false);
        _threadSafeArena = ArenaWindow.CreateArena(live, threadSafe: true);
        _handles = new ResourceHandle[live];
        _threadSafeHandles = new ResourceHandle[live];
        _pointers = new nint[live];
        ArenaWindow.Fill(_arena, _handles, _sizes);
        ArenaWindow.Fill(_threadSafeArena, _threadSafeHandles, _sizes);
        ArenaWindow.Fill(_pointers, _sizes);
    }

    public long RunNativeMemory() => ArenaWindow.Run(_pointers, _sizes, ref _nativeSlot);

    public long RunArena() => ArenaWindow.Run(_arena, _handles, _sizes, ref _arenaSlot);

    public long RunThreadSafeArena() => ArenaWindow.Run(_threadSafeArena, _threadSafeHandles, _sizes, ref _threadSafeSlot);

    public void Dispose()
    {
        _arena.Dispose();
        _threadSafeArena.Dispose();
        ArenaWindow.Empty(_pointers);
    }
}
