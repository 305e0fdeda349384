using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

/// <summary>A small, dense number for each live thread (0, 1, 2, ...), so per-thread state can live in plain arrays
/// indexed by it instead of in thread-static dictionaries.</summary>
/// <remarks>
/// <para>A thread gets its index on first use and keeps it for life. The index of a thread that has exited is given to
/// the next new thread, so indices stay below the largest number of threads alive at once. State indexed by a reused
/// index carries over to the new thread: per-thread counters keep their totals exact, because the exited thread never
/// writes again. No thread's <see cref="Thread"/> object is kept alive (see <see cref="ThreadLife"/>).</para>
/// <para>Thread-safe. <see cref="Current"/> is one thread-static read after the first call on a thread.</para>
/// <para>PERF: the index lives in a per-thread object, <see cref="ThreadLocals"/>, that also holds other layers'
/// per-thread state (the pools' thread caches), so a hot path that needs both reads one thread-static, not two.</para>
/// </remarks>
internal static class ThreadIndex
{
    [ThreadStatic]
    private static int t_indexPlusOne;     // 0 until assigned (the index alone: one load fewer than through t_locals).

    [ThreadStatic]
    private static ThreadLocals? t_locals; // Null until assigned.

    private static readonly object s_lock = new();
    private static ThreadLife?[] s_owners = new ThreadLife?[16]; // s_owners[i]: the thread holding index i (it may have exited).
    private static int s_count;                           // Indices handed out: [0, s_count).

    /// <summary>The calling thread's index.</summary>
    public static int Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            int index = t_indexPlusOne - 1;
            return index >= 0 ? index : Assign().Index;
        }
    }

    /// <summary>The calling thread's per-thread state (its index assigned on first use).</summary>
    public static ThreadLocals Locals
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => t_locals ?? Assign();
    }

    /// <summary>The calling thread's per-thread state, or null before its first use.</summary>
    public static ThreadLocals? LocalsOrNull
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => t_locals;
    }

    /// <summary>One more than the largest index handed out so far.</summary>
    public static int Count => Volatile.Read(ref s_count);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ThreadLocals Assign()
    {
        ThreadLife current = ThreadLife.Current;
        lock (s_lock)
        {
            int index = -1;
            for (int i = 0; i < s_count; i++)
            {
                if (s_owners[i]!.HasExited)
                {
                    index = i; // an exited thread's index: it will never use it again
                    break;
                }
            }

            if (index < 0)
            {
                if (s_count == s_owners.Length)
                {
                    Array.Resize(ref s_owners, s_owners.Length * 2);
                }

                index = s_count;
                Volatile.Write(ref s_count, s_count + 1);
            }

            s_owners[index] = current;
            var locals = new ThreadLocals(index);
            t_locals = locals;
            t_indexPlusOne = index + 1;
            return locals;
        }
    }
}

/// <summary>One thread's state shared by the layers: its <see cref="ThreadIndex"/> and, for the Memory layer, its pool
/// thread caches. Touched only by its thread.</summary>
/// <param name="index">The thread's index.</param>
internal sealed class ThreadLocals(int index)
{
    /// <summary>The thread's <see cref="ThreadIndex"/>.</summary>
    public readonly int Index = index;

    /// <summary>The pools' caches of this thread, indexed by pool tag (typed by the Memory layer); null until a
    /// thread-safe pool first caches a block for this thread.</summary>
    public object?[]? PoolCaches;
}
