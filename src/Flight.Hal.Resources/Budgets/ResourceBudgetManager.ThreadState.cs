using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Flight.Hal.Resources;

// Per-thread state: each thread counts its acquisitions and releases, and keeps its budget leases (see Leases), in its
// own block, written without atomics; the counts are sums over the blocks. A block holds CountersPerType counters per
// type, reached only through AcquisitionsIndex and ReleasesIndex.
public sealed partial class ResourceBudgetManager
{
    private const int CountersPerType = 2;                       // Acquisitions, then releases (see AcquisitionsIndex).

    private ThreadState?[] _threads = [];                        // Indexed by ThreadIndex.Current; grown copy-on-write.

    /// <summary>Where <paramref name="type"/>'s acquisition count is in a thread's counter block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int AcquisitionsIndex(ResourceType type) => (int)type * CountersPerType;

    /// <summary>Where <paramref name="type"/>'s release count is in a thread's counter block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ReleasesIndex(ResourceType type) => ((int)type * CountersPerType) + 1;

    /// <summary>This thread's block for this manager (created on first use).</summary>
    /// <remarks>PERF: counting every reservation and release with an interlocked increment costs two atomic operations per
    /// acquire+release. Each thread counts in its own block instead, without atomics; the figures are the sums over all
    /// blocks, exact whenever no reservation or release is in flight. Blocks are indexed by <see cref="ThreadIndex"/>,
    /// so each thread has exactly one per manager however many managers exist.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ThreadState LocalState() => LocalState(ThreadIndex.Current);

    /// <summary>The block of the thread whose <see cref="ThreadIndex"/> is <paramref name="index"/>; only that thread calls it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ThreadState LocalState(int index)
    {
        ThreadState?[] blocks = Volatile.Read(ref _threads);
        if ((uint)index < (uint)blocks.Length)
        {
            ThreadState? block = blocks[index];
            if (block != null)
            {
                return block;
            }
        }

        return CreateLocalState(index);
    }

    /// <summary>Counts one acquisition of <paramref name="type"/> by this thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe void CountAcquisition(ResourceType type) => LocalState().Hot.Counters[AcquisitionsIndex(type)]++;

    /// <summary>Counts one release of <paramref name="type"/> by this thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe void CountRelease(ResourceType type) => LocalState().Hot.Counters[ReleasesIndex(type)]++;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ThreadState CreateLocalState(int index)
    {
        lock (_registrationLock)
        {
            ThreadState?[] blocks = _threads;
            if ((uint)index >= (uint)blocks.Length)
            {
                Array.Resize(ref blocks, Math.Max(index + 1, Math.Max(4, ThreadIndex.Count)));
            }
            else
            {
                blocks = (ThreadState?[])blocks.Clone();
            }

            ThreadState block = blocks[index] ??= new ThreadState();
            Volatile.Write(ref _threads, blocks);
            return block;
        }
    }

    private unsafe long SumCounters(int index)
    {
        long sum = 0;
        foreach (ThreadState? block in Volatile.Read(ref _threads))
        {
            if (block != null)
            {
                sum += Volatile.Read(ref block.Hot.Counters[index]);
            }
        }

        return sum;
    }

    /// <summary>One thread's counts and leases for one manager. Written by the thread that holds its
    /// <see cref="ThreadIndex"/>, except where <see cref="RevokeLeasesLocked"/> takes a lease back.</summary>
    private sealed class ThreadState
    {
        public HotFields Hot;
    }

    /// <summary>The fields a thread writes on every operation, padded on both sides so that no other thread's data shares
    /// their cache lines.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct HotFields
    {
        private fixed byte _before[64];

        /// <summary>1 while the owning thread is inside a lease operation (see <see cref="ResourceBudgetManager.TryTakeLease(int, ResourceType, long)"/>).</summary>
        public int Busy;

        /// <summary>Per type: acquisitions, then releases (see <see cref="AcquisitionsIndex"/>).</summary>
        public fixed long Counters[ResourceTypes.Count * CountersPerType];

        /// <summary>Per type: bytes of the lease not in use (counted in the account's current bytes, not in its usage).</summary>
        public fixed long Unused[ResourceTypes.Count];

        /// <summary>Per type: the most the lease may hold unused (0: no lease).</summary>
        public fixed long Caps[ResourceTypes.Count];

        /// <summary>Per type: 1 once a revoker has asked for the lease back; cleared by the owner under the lease lock.</summary>
        public fixed int Revoked[ResourceTypes.Count];

        /// <summary>Per type: slow releases the owner makes before it asks for a lease again (owner only).</summary>
        public fixed int Cooldown[ResourceTypes.Count];

        private fixed byte _after[64];
    }
}
