using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

// Counters: each thread counts its acquisitions and releases in its own block, without atomics; the figures are sums
// over the blocks. A block holds CountersPerType counters per type, reached only through AcquisitionsIndex and
// ReleasesIndex.
public sealed partial class ResourceBudgetManager
{
    private const int CountersPerType = 2;                       // Acquisitions, then releases (see AcquisitionsIndex).

    private ThreadCounters?[] _counters = [];                    // Indexed by ThreadIndex.Current; grown copy-on-write.

    /// <summary>Where <paramref name="type"/>'s acquisition count is in a thread's counter block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int AcquisitionsIndex(ResourceType type) => (int)type * CountersPerType;

    /// <summary>Where <paramref name="type"/>'s release count is in a thread's counter block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ReleasesIndex(ResourceType type) => ((int)type * CountersPerType) + 1;

    /// <summary>This thread's acquisition and release counters for this manager (created on first use).</summary>
    /// <remarks>PERF: counting every reservation and release with an interlocked increment costs two atomic operations per
    /// acquire+release. Each thread counts in its own block instead, without atomics; the figures are the sums over all
    /// blocks, exact whenever no reservation or release is in flight. Blocks are indexed by <see cref="ThreadIndex"/>,
    /// so each thread has exactly one per manager however many managers exist.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long[] LocalCounters()
    {
        int index = ThreadIndex.Current;
        ThreadCounters?[] blocks = Volatile.Read(ref _counters);
        if ((uint)index < (uint)blocks.Length)
        {
            ThreadCounters? block = blocks[index];
            if (block != null)
            {
                return block.Values;
            }
        }

        return CreateLocalCounters(index);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private long[] CreateLocalCounters(int index)
    {
        lock (_registrationLock)
        {
            ThreadCounters?[] blocks = _counters;
            if ((uint)index >= (uint)blocks.Length)
            {
                Array.Resize(ref blocks, Math.Max(index + 1, Math.Max(4, ThreadIndex.Count)));
            }
            else
            {
                blocks = (ThreadCounters?[])blocks.Clone();
            }

            ThreadCounters block = blocks[index] ??= new ThreadCounters();
            Volatile.Write(ref _counters, blocks);
            return block.Values;
        }
    }

    private long SumCounters(int index)
    {
        long sum = 0;
        foreach (ThreadCounters? block in Volatile.Read(ref _counters))
        {
            if (block != null)
            {
                sum += Volatile.Read(ref block.Values[index]);
            }
        }

        return sum;
    }

    /// <summary>One thread's acquisition and release counts for one manager (see <see cref="AcquisitionsIndex"/> and
    /// <see cref="ReleasesIndex"/>). Written only by the thread that holds its <see cref="ThreadIndex"/>.</summary>
    private sealed class ThreadCounters
    {
        public readonly long[] Values = new long[ResourceTypes.Count * CountersPerType];
    }
}
