using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

// Leases: a thread that releases bytes of a type may keep them as a lease — still counted in the account's Current, no
// longer in its usage — and serve its next ordinary reservations of that type from them, with no atomic instruction and
// no write to a shared cache line. The rules that keep the published figures exact:
//
//  * A lease never adds to Current: it holds bytes released into it, so admission (Current against the limit) sees
//    them as taken. Before a reservation is refused (and before reclamation is asked), every lease of the type is
//    revoked, so a request is refused only when the budget truly has no room.
//  * Usage is Current - Held - (the leases' unused bytes). Leases exist only while every usage they allow has the
//    published level and does not pass the published peak: with U = Current - Held and Caps the sum of the leases'
//    caps, U <= Peak, PressureAt(U) == Level and U - Caps >= the floor of Level. A lease operation moves usage within
//    [U - Caps, U], so it never changes the level or the peak, and publishes nothing.
//  * Every other change of U (a commit, a release that is not kept, a new budget) checks those rules afterwards when
//    leases exist, and revokes every lease of the type if they no longer hold; then usage is U again and the change is
//    published as before. A grant announces its cap before it reads U, and a change reads whether leases exist after
//    it wrote U (both with full fences): one of them sees the other.
//  * Revoking another thread's lease: set its Revoked flag, run a process-wide memory barrier, wait until the owner is
//    not inside a lease operation (its Busy flag, set before it reads Revoked), then take the unused bytes back. The
//    owner pays two plain stores per operation; the revoker pays the barrier (microseconds). A thread folds its own
//    lease without a barrier, so a single thread never pays it.
//
// GetStats subtracts the unused bytes of every lease, so its figures stay exact at every quiescent point.
public sealed partial class ResourceBudgetManager
{
    private const int LeaseCooldown = 16;        // Slow releases a thread makes without asking for a lease after a refusal.
    private const long MinLeaseSlice = 4096;      // A lease may always grow to this, budget permitting.
    private const long MaxLeaseSlice = 1L << 20;  // ... and never beyond this.

    /// <summary>The most one thread's lease of a type may hold: 1/64 of the budget, within 4 KiB .. 1 MiB.</summary>
    private static long LeaseSlice(ResourceBudget budget) => Math.Clamp(budget.MaxBytes / 64, MinLeaseSlice, MaxLeaseSlice);

    /// <summary>An ordinary reservation served from this thread's lease of <paramref name="type"/>: counted, no atomic
    /// instruction. <see langword="false"/> (nothing changed) when the lease does not hold the bytes, was revoked, or the
    /// type's usage is past its ordinary limit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryTakeLease(ResourceType type, long bytes) => TryTakeLease(ThreadIndex.Current, type, bytes);

    /// <summary><see cref="TryTakeLease(ResourceType, long)"/> with the calling thread's <see cref="ThreadIndex"/>
    /// already read (the manager reads it once, with the pool caches, through <see cref="ThreadIndex.Locals"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal unsafe bool TryTakeLease(int threadIndex, ResourceType type, long bytes)
    {
        Debug.Assert(ResourceTypes.IsDefined(type) && bytes > 0, "Validated by the caller.");
        int t = (int)type;
        ThreadState state = LocalState(threadIndex);
        if (state.Hot.Unused[t] < bytes)
        {
            return false;
        }

        Account account = _accounts[t];
        Volatile.Write(ref state.Hot.Busy, 1); // before reading Revoked: see RevokeLeasesLocked
        long unused = state.Hot.Unused[t];
        bool taken = Volatile.Read(ref state.Hot.Revoked[t]) == 0 && unused >= bytes
            && Volatile.Read(ref account.Current) <= account.Budget.OrdinaryLimit;
        if (taken)
        {
            Volatile.Write(ref state.Hot.Unused[t], unused - bytes);
            state.Hot.Counters[AcquisitionsIndex(type)]++;
        }

        Volatile.Write(ref state.Hot.Busy, 0);
        return taken;
    }

    /// <summary>Undoes <see cref="TryTakeLease(int, ResourceType, long)"/> when the request it was for failed: the bytes go back into the lease (or,
    /// if it was revoked meanwhile, off the account's usage) and the acquisition is uncounted.</summary>
    internal unsafe void UndoTakeLease(ResourceType type, long bytes)
    {
        int t = (int)type;
        ThreadState state = LocalState();
        state.Hot.Counters[AcquisitionsIndex(type)]--;
        Volatile.Write(ref state.Hot.Busy, 1);
        long unused = state.Hot.Unused[t] + bytes;
        bool back = Volatile.Read(ref state.Hot.Revoked[t]) == 0 && unused <= state.Hot.Caps[t];
        if (back)
        {
            Volatile.Write(ref state.Hot.Unused[t], unused);
        }

        Volatile.Write(ref state.Hot.Busy, 0);
        if (!back)
        {
            // Revoked since: these bytes were usage when the lease was taken back, so they leave usage now.
            Account account = _accounts[t];
            SubtractReleased(account, bytes);
            CheckLeases(account);
            if ((int)account.Budget.PressureAt(Volatile.Read(ref account.Current) - Volatile.Read(ref account.Held)) != Volatile.Read(ref account.Level))
            {
                PublishPressure(account);
            }
        }
    }

    /// <summary>A release kept in this thread's lease of <paramref name="type"/>: counted, no atomic instruction.
    /// <see langword="false"/> (nothing changed) when the lease has no room for the bytes or was revoked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe bool TryReturnToLease(int threadIndex, ResourceType type, long bytes)
    {
        int t = (int)type;
        ThreadState state = LocalState(threadIndex);
        if (state.Hot.Unused[t] + bytes > state.Hot.Caps[t])
        {
            return false; // no lease (cap 0), or no room in it
        }

        Volatile.Write(ref state.Hot.Busy, 1);
        long unused = state.Hot.Unused[t] + bytes;
        bool kept = Volatile.Read(ref state.Hot.Revoked[t]) == 0 && unused <= state.Hot.Caps[t];
        if (kept)
        {
            Volatile.Write(ref state.Hot.Unused[t], unused);
            state.Hot.Counters[ReleasesIndex(type)]++;
        }

        Volatile.Write(ref state.Hot.Busy, 0);
        return kept;
    }

    /// <summary>The slow half of a release: keeps the bytes in a new or larger lease of this thread when the rules allow
    /// (see the file header), counting the release. <see langword="false"/> (nothing changed) otherwise.</summary>
    private unsafe bool TryGrantOnRelease(Account account, long bytes)
    {
        int t = (int)account.Type;
        ThreadState state = LocalState();
        if (state.Hot.Cooldown[t] > 0)
        {
            state.Hot.Cooldown[t]--;
            return false;
        }

        lock (account.LeaseLock)
        {
            if (state.Hot.Revoked[t] != 0)
            {
                // Revoked earlier; the revoker held this lock throughout, so the lease is empty now.
                Debug.Assert(state.Hot.Caps[t] == 0 && state.Hot.Unused[t] == 0, "A revoked lease is emptied.");
                Volatile.Write(ref state.Hot.Revoked[t], 0);
            }

            ResourceBudget budget = account.Budget;
            long cap = state.Hot.Caps[t];
            long wanted = state.Hot.Unused[t] + bytes;
            long candidate = Math.Min(Math.Max(wanted, cap * 2), LeaseSlice(budget));
            if (wanted > candidate || Volatile.Read(ref account.RefusedWaiters) != 0)
            {
                state.Hot.Cooldown[t] = LeaseCooldown;
                return false; // too large for a lease, or a refused request waits for these bytes
            }

            // Announce the cap before reading usage: a concurrent change of usage either sees it or is seen here.
            long caps = Interlocked.Add(ref account.LeaseCaps, candidate - cap);
            long usage = Volatile.Read(ref account.Current) - Volatile.Read(ref account.Held);
            int level = Volatile.Read(ref account.Level);
            long room = usage - (caps - candidate) - budget.LevelFloor((ResourcePressure)level); // what all caps may total
            long granted = Math.Min(candidate, room);
            if (granted < wanted || usage > Volatile.Read(ref account.Peak) || (int)budget.PressureAt(usage) != level)
            {
                Interlocked.Add(ref account.LeaseCaps, cap - candidate);
                state.Hot.Cooldown[t] = LeaseCooldown;
                return false;
            }

            Interlocked.Add(ref account.LeaseCaps, granted - candidate);
            state.Hot.Caps[t] = granted;
            Volatile.Write(ref state.Hot.Unused[t], wanted);
            state.Hot.Counters[ReleasesIndex(account.Type)]++;
            return true;
        }
    }

    /// <summary>After a change of usage (U) made outside a lease: when leases of the type exist and the rules no longer
    /// hold, revokes them all, so that usage is U again and the caller publishes it. Call after the change's full fence.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckLeases(Account account)
    {
        if (Volatile.Read(ref account.LeaseCaps) != 0)
        {
            RestoreLeaseRules(account);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RestoreLeaseRules(Account account)
    {
        lock (account.LeaseLock)
        {
            long caps = Volatile.Read(ref account.LeaseCaps);
            if (caps == 0)
            {
                return;
            }

            ResourceBudget budget = account.Budget;
            long usage = Volatile.Read(ref account.Current) - Volatile.Read(ref account.Held);
            int level = Volatile.Read(ref account.Level);
            if (usage > Volatile.Read(ref account.Peak) || (int)budget.PressureAt(usage) != level
                || usage - caps < budget.LevelFloor((ResourcePressure)level))
            {
                RevokeLeasesLocked(account);
            }
        }
    }

    /// <summary>Revokes every lease of the type (before a refusal, or when the rules no longer hold); afterwards no lease
    /// of it exists until one is granted again.</summary>
    private void RevokeLeases(Account account)
    {
        if (Volatile.Read(ref account.LeaseCaps) != 0)
        {
            lock (account.LeaseLock)
            {
                RevokeLeasesLocked(account);
            }
        }
    }

    /// <summary>Takes every lease of the account's type back into its Current. The caller holds the lease lock.</summary>
    private unsafe void RevokeLeasesLocked(Account account)
    {
        Debug.Assert(Monitor.IsEntered(account.LeaseLock), "Revocation holds the lease lock.");
        int t = (int)account.Type;
        ThreadState?[] blocks = Volatile.Read(ref _threads);
        int self = ThreadIndex.Current;
        bool others = false;
        for (int i = 0; i < blocks.Length; i++)
        {
            ThreadState? block = blocks[i];
            if (block == null || block.Hot.Caps[t] == 0)
            {
                continue;
            }

            if (i == self)
            {
                Fold(account, block); // this thread's own lease: it is not inside a lease operation now
            }
            else
            {
                Volatile.Write(ref block.Hot.Revoked[t], 1);
                others = true;
            }
        }

        if (!others)
        {
            return;
        }

        // Each owner has either published Busy = 1 (seen below, so we wait for it) or will read Revoked = 1 before it
        // touches its lease again.
        Interlocked.MemoryBarrierProcessWide();
        for (int i = 0; i < blocks.Length; i++)
        {
            ThreadState? block = blocks[i];
            if (i == self || block == null || block.Hot.Caps[t] == 0)
            {
                continue;
            }

            SpinWait spin = default;
            while (Volatile.Read(ref block.Hot.Busy) != 0)
            {
                spin.SpinOnce();
            }

            Fold(account, block);
        }

        static void Fold(Account account, ThreadState block)
        {
            int t = (int)account.Type;
            long unused = Volatile.Read(ref block.Hot.Unused[t]);
            Interlocked.Add(ref account.LeaseCaps, -block.Hot.Caps[t]);
            block.Hot.Caps[t] = 0;
            Volatile.Write(ref block.Hot.Unused[t], 0);
            if (unused != 0)
            {
                Interlocked.Add(ref account.Current, -unused);
            }
        }
    }

    /// <summary>The unused bytes of every lease of <paramref name="type"/> (for tests and diagnostics).</summary>
    internal long LeasedBytes(ResourceType type) => LeasedBytes(AccountOf(type));

    /// <summary>The unused bytes of every lease of the account's type: exact at a quiescent point.</summary>
    private unsafe long LeasedBytes(Account account)
    {
        if (Volatile.Read(ref account.LeaseCaps) == 0)
        {
            return 0;
        }

        int t = (int)account.Type;
        long sum = 0;
        foreach (ThreadState? block in Volatile.Read(ref _threads))
        {
            if (block != null)
            {
                sum += Volatile.Read(ref block.Hot.Unused[t]);
            }
        }

        return sum;
    }
}
