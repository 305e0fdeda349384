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
