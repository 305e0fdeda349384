using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

/// <summary>Exact byte accounting, without locks on its fast paths, per <see cref="ResourceType"/> against its <see cref="ResourceBudget"/>,
/// with pressure and reclamation callbacks.</summary>
/// <remarks>
/// <para><b>Accounting.</b> <see cref="TryReserve(ResourceType, long, BudgetMode)"/> and <see cref="Release"/> update each
/// type's usage with a compare-and-swap: no lock, no allocation. A thread may keep bytes it releases as a lease of the
/// type and serve its next ordinary reservations from it without an atomic instruction; leases are taken back before any
/// refusal and never change a published figure (see the Leases part). At every quiescent point a type's
/// <see cref="ResourceStats.CurrentBytes"/> equals what was reserved and not released, and the counters are exact; on
/// one thread, after every call.</para>
/// <para><b>Pressure.</b> After every change of usage the type's level (<see cref="ResourceBudget.PressureAt"/>) is
/// re-evaluated from the usage read <i>after</i> the change, and re-evaluated again by any thread whose publication may
/// have been overtaken, so at every quiescent point <see cref="GetPressure"/> equals <c>PressureAt(CurrentBytes)</c>.</para>
/// <para><b>Delivery.</b> Pressure callbacks are called by one thread at a time, outside every lock, in the order the
/// levels were published, each with a statistics snapshot; the last call always reports the level now published. A
/// change made while callbacks are being delivered — by a callback itself (it may reserve and release), or by another
/// thread — is delivered by the delivering thread after the current callback returns: never by re-entering a callback,
/// so a callback that moves usage across a boundary and back cannot recurse. Changes are coalesced: a level that comes
/// and goes before it could be delivered (as a callback's own reserve and release) is not reported. A change is
/// therefore delivered on the thread that made it, or on the thread that was delivering at that moment.</para>
/// <para><b>Reclamation.</b> Before a reservation is refused on budget, the type's reclamation callbacks are asked, in
/// registration order, for the bytes still missing; they release what they can through <see cref="Release"/> and the
/// reservation is retried after each.</para>
/// <para><b>Faults.</b> A callback that throws is caught and reported through <see cref="CallbackFaulted"/>; accounting
/// stays exact and the operation continues.</para>
/// <para>This class is thread-safe. All members may be used by multiple threads concurrently, including from callbacks.</para>
/// </remarks>
public sealed partial class ResourceBudgetManager
{
    // The accounting is here; the other parts: Pressure (publication and delivery of levels), Callbacks (registration
    // and fault reporting), Counters (per-thread acquisition and release counts). Their headers are plain comments: doc
    // comments on several parts of a partial type would all be merged into its one public summary.

    private readonly Account[] _accounts = new Account[ResourceTypes.Count];
    private readonly object _registrationLock = new();           // Serialises callback registration and counter blocks.

    /// <summary>Creates a manager; types not in <paramref name="budgets"/> get <see cref="ResourceBudget.Unlimited"/>.</summary>
    /// <param name="budgets">Budgets per type, or null.</param>
    public ResourceBudgetManager(IReadOnlyDictionary<ResourceType, ResourceBudget>? budgets = null)
    {
        for (int i = 0; i < ResourceTypes.Count; i++)
        {
            ResourceBudget? budget = null;
            budgets?.TryGetValue((ResourceType)i, out budget);
            _accounts[i] = new Account((ResourceType)i, budget ?? ResourceBudget.Unlimited);
            _reclaimers[i] = [];
        }
    }

    /// <summary>The budget in force for <paramref name="type"/>.</summary>
    /// <param name="type">The resource type.</param>
    /// <returns>The budget.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is unknown.</exception>
    public ResourceBudget GetBudget(ResourceType type) => AccountOf(type).Budget;

    /// <summary>Replaces <paramref name="type"/>'s budget; usage is kept, and pressure re-evaluated against the new budget.</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="budget">The new budget. Usage above it is allowed to drain; new ordinary requests are refused until it does.</param>
    /// <exception cref="ArgumentNullException"><paramref name="budget"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is unknown.</exception>
    public void SetBudget(ResourceType type, ResourceBudget budget)
    {
        ArgumentNullException.ThrowIfNull(budget);
        Account account = AccountOf(type);
        account.Budget = budget;
        RevokeLeases(account); // the levels' bands moved: no lease may outlive the budget it was granted under
        PublishPressure(account);
    }

    /// <summary>Reserves <paramref name="bytes"/> of <paramref name="type"/>'s budget.</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="bytes">Bytes to reserve, at least 1.</param>
    /// <param name="mode">How far the reservation may go.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>, or <see cref="ResourceStatus.BudgetExceeded"/> when the bytes do not fit
    /// even after the reclamation callbacks ran (never in <see cref="BudgetMode.AllowOverrun"/>).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> or <paramref name="mode"/> is unknown, or
    /// <paramref name="bytes"/> is not positive.</exception>
    /// <remarks>No lock and no allocation unless a callback runs. A refusal changes nothing but the failure count.</remarks>
    public ResourceStatus TryReserve(ResourceType type, long bytes, BudgetMode mode = BudgetMode.Ordinary)
    {
        if (mode == BudgetMode.Ordinary && bytes > 0 && ResourceTypes.IsDefined(type) && TryTakeLease(type, bytes))
        {
            return ResourceStatus.Ok; // from this thread's lease: counted, nothing to publish
        }

        ResourceStatus status = TryHold(type, bytes, mode, countFailure: true, keepRefusal: false, out long next);
        if (status == ResourceStatus.Ok)
        {
            Commit(type, bytes, next);
        }

        return status;
    }

    /// <summary>Reserves <paramref name="bytes"/> of <paramref name="type"/>'s budget, throwing if they do not fit.</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="bytes">Bytes to reserve, at least 1.</param>
    /// <param name="mode">How far the reservation may go.</param>
    /// <exception cref="ResourceException">The bytes do not fit (<see cref="ResourceStatus.BudgetExceeded"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="TryReserve(ResourceType, long, BudgetMode)"/>.</exception>
    public void Reserve(ResourceType type, long bytes, BudgetMode mode = BudgetMode.Ordinary)
    {
        ThrowHelper.ThrowIfFailed(TryReserve(type, bytes, mode));
    }

    /// <summary>Returns <paramref name="bytes"/> to <paramref name="type"/>'s budget.</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="bytes">Bytes reserved earlier, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is unknown or <paramref name="bytes"/> is not positive.</exception>
    /// <exception cref="InvalidOperationException">More bytes would be released than are reserved (an accounting bug in
    /// the caller); nothing is changed.</exception>
    /// <remarks>No lock and no allocation unless a pressure callback runs.</remarks>
    public void Release(ResourceType type, long bytes)
    {
        Account account = AccountOf(type);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        if (TryReturnToLease(ThreadIndex.Current, type, bytes))
        {
            return; // kept in this thread's lease: counted, nothing to publish
        }

        ReleaseSlow(account, bytes, keep: true);
    }

    /// <summary>A release not kept in this thread's lease as it is: when <paramref name="keep"/>, into a new or larger
    /// lease if the rules allow; else off the account's usage by compare-and-swap.</summary>
    private void ReleaseSlow(Account account, long bytes, bool keep)
    {
        // Leases' unused bytes are in Current but reserved by no one. Their sum, read beside other threads' lease
        // operations, is only an estimate: a release that looks like more than is reserved is checked again exactly,
        // with every lease revoked and none granted meanwhile, before it is refused.
        if (bytes > Volatile.Read(ref account.Current) - LeasedBytes(account))
        {
            lock (account.LeaseLock)
            {
                RevokeLeasesLocked(account);
                SubtractReleased(account, bytes);
            }
        }
        else if (!keep || !TryGrantOnRelease(account, bytes))
        {
            SubtractReleased(account, bytes);
        }
        else
        {
            return; // kept in a new or larger lease: counted, nothing to publish
        }

        CountRelease(account.Type);
        CheckLeases(account);
        if ((int)account.Budget.PressureAt(Volatile.Read(ref account.Current) - Volatile.Read(ref account.Held)) != Volatile.Read(ref account.Level))
        {
            PublishPressure(account);
        }
    }

    /// <summary>Takes released bytes off the account's Current by compare-and-swap; throws when it holds fewer.</summary>
    private static void SubtractReleased(Account account, long bytes)
    {
        long current = Volatile.Read(ref account.Current);
        while (true)
        {
            if (bytes > current)
            {
                ThrowHelper.ThrowInvalidOperation($"Releasing {bytes} bytes of {account.Type}, but only {current} are reserved.");
            }

            long seen = Interlocked.CompareExchange(ref account.Current, current - bytes, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>The pressure level last published for <paramref name="type"/>.</summary>
    /// <param name="type">The resource type.</param>
    /// <returns>The level; at a quiescent point it is <c>GetBudget(type).PressureAt(CurrentBytes)</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is unknown.</exception>
    public ResourcePressure GetPressure(ResourceType type) => (ResourcePressure)Volatile.Read(ref AccountOf(type).Level);

    /// <summary>Takes a snapshot of <paramref name="type"/>'s accounting.</summary>
    /// <param name="type">The resource type.</param>
    /// <returns>The statistics.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is unknown.</exception>
    public ResourceStats GetStats(ResourceType type)
    {
        Account a = AccountOf(type);
        return new ResourceStats(
            type,
            a.Budget,
            Volatile.Read(ref a.Current) - Volatile.Read(ref a.Held) - LeasedBytes(a), // holds in flight and leases are not usage
            Volatile.Read(ref a.Peak),
            SumCounters(AcquisitionsIndex(type)),
            SumCounters(ReleasesIndex(type)),
            Volatile.Read(ref a.Failures),
            Volatile.Read(ref a.ReserveAcquisitions),
            Volatile.Read(ref a.Overruns),
            Volatile.Read(ref a.Reclamations),
            Volatile.Read(ref a.ReclaimedBytes),
            (ResourcePressure)Volatile.Read(ref a.Level));
    }

    /// <summary>Bytes of <paramref name="type"/> reserved or held now (holds in flight included).</summary>
    internal long CurrentBytes(ResourceType type) => Volatile.Read(ref _accounts[(int)type].Current) - LeasedBytes(_accounts[(int)type]);

    /// <summary>Whether some request refused on <paramref name="type"/>'s budget is waiting for room (see
    /// <see cref="TryHold"/>'s <c>keepRefusal</c>). A holder that gives its hold back (<see cref="Cancel"/>) then wakes
    /// the waiters: the hold may be what refused them. Otherwise it need not, and two waiters retrying on a full region
    /// do not wake each other in a loop.</summary>
    /// <remarks>A refused request registers before its last recheck, and a canceller reads this after giving its bytes
    /// back: either the canceller sees the registration, or the recheck sees the bytes.</remarks>
    internal bool HasRefusedWaiters(ResourceType type) => Volatile.Read(ref _accounts[(int)type].RefusedWaiters) != 0;

    /// <summary>Ends a refusal registered by <see cref="TryHold"/> with <c>keepRefusal</c>: the request no longer waits.</summary>
    internal void EndRefusal(ResourceType type)
    {
        int left = Interlocked.Decrement(ref _accounts[(int)type].RefusedWaiters);
        Debug.Assert(left >= 0, "A refusal is ended once.");
    }

    /// <summary>Counts a refused request (one per refused acquisition, decided by the caller).</summary>
    internal void CountFailure(ResourceType type) => Interlocked.Increment(ref _accounts[(int)type].Failures);

    /// <summary>Takes <paramref name="bytes"/> of the budget without counting or publishing anything yet: the first half
    /// of a reservation whose request may still fail elsewhere. Follow it with <see cref="Commit"/> or
    /// <see cref="Cancel"/>. Runs the reclamation callbacks before refusing. Held bytes count
    /// against the limit at once, but not in the published peak and pressure until committed.</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="bytes">At least 1.</param>
    /// <param name="mode">How far the hold may go.</param>
    /// <param name="countFailure">Whether a refusal counts as a failure (false when the caller counts its own).</param>
    /// <param name="keepRefusal">Whether a refusal stays registered (<see cref="HasRefusedWaiters"/>) until the caller,
    /// which is about to wait for room, calls <see cref="EndRefusal"/>.</param>
    /// <param name="next">On <see cref="ResourceStatus.Ok"/>, the usage just after the hold.</param>
    /// <returns><see cref="ResourceStatus.Ok"/> or <see cref="ResourceStatus.BudgetExceeded"/>.</returns>
    internal ResourceStatus TryHold(ResourceType type, long bytes, BudgetMode mode, bool countFailure, bool keepRefusal, out long next)
    {
        Account account = AccountOf(type);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        if ((uint)mode > (uint)BudgetMode.AllowOverrun)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(mode), mode, "Unknown budget mode.");
        }

        if (mode != BudgetMode.Ordinary)
        {
            RevokeLeases(account); // so that `next` says exactly whether the reserve is used, or the budget overrun
        }

        if (TryAddHeld(account, bytes, mode, out next))
        {
            return ResourceStatus.Ok;
        }

        // Leases hold bytes no one uses: take them back before asking reclamation or refusing.
        if (Volatile.Read(ref account.LeaseCaps) != 0)
        {
            RevokeLeases(account);
            if (TryAddHeld(account, bytes, mode, out next))
            {
                return ResourceStatus.Ok;
            }
        }

        ReclamationCallback[] reclaimers = Volatile.Read(ref _reclaimers[(int)type]);
        foreach (ReclamationCallback reclaimer in reclaimers)
        {
            long missing = Volatile.Read(ref account.Current) + bytes - Limit(account.Budget, mode);
            if (missing <= 0 && TryAddHeld(account, bytes, mode, out next))
            {
                return ResourceStatus.Ok;
            }

            long freed;
            try
            {
                freed = Math.Max(0, reclaimer(type, Math.Max(missing, 1)));
            }
            catch (Exception exception)
            {
                ReportFault(type, isReclamation: true, exception);
                freed = 0;
            }

            Interlocked.Increment(ref account.Reclamations);
            Interlocked.Add(ref account.ReclaimedBytes, freed);
            if (ResourceEventSource.Log.IsEnabled())
            {
                ResourceEventSource.Log.Reclamation((long)type, Math.Max(missing, 1), freed);
            }

            if (TryAddHeld(account, bytes, mode, out next))
            {
                return ResourceStatus.Ok;
            }
        }

        // Register the refusal, then look once more (see HasRefusedWaiters): a hold given back meanwhile is either seen
        // here or sees the registration and wakes the waiters.
        Interlocked.Increment(ref account.RefusedWaiters);
        if (TryAddHeld(account, bytes, mode, out next))
        {
            Interlocked.Decrement(ref account.RefusedWaiters);
            return ResourceStatus.Ok;
        }

        if (!keepRefusal)
        {
            Interlocked.Decrement(ref account.RefusedWaiters);
        }

        if (countFailure)
        {
            Interlocked.Increment(ref account.Failures);
        }

        return ResourceStatus.BudgetExceeded;
    }

    /// <summary><see cref="TryAdd"/>, then counts the bytes as held (not committed): a concurrent publication in between
    /// may see them as usage for a moment, never the other way round.</summary>
    private bool TryAddHeld(Account account, long bytes, BudgetMode mode, out long next)
    {
        // Held first: usage (Current - Held) may dip for a moment, never rise, so a lease granted meanwhile is never
        // larger than the rules allow (see Leases).
        Interlocked.Add(ref account.Held, bytes);
        if (TryAdd(account, bytes, mode, out next))
        {
            return true;
        }

        long held = Interlocked.Add(ref account.Held, -bytes);
        if ((int)account.Budget.PressureAt(Volatile.Read(ref account.Current) - held) != Volatile.Read(ref account.Level))
        {
            PublishPressure(account); // a publication that saw the dip is corrected
        }

        return false;
    }

    /// <summary>The manager's hot path: an ordinary hold for a validated type and a positive size, without the
    /// reclamation callbacks, that the caller commits with <see cref="CommitOrdinary"/> a few instructions later and never
    /// cancels (it takes the hold only once its memory is certain). One compare-and-swap; not counted as held, so a
    /// concurrent publication in those few instructions may see these bytes.</summary>
    /// <returns><see langword="false"/> when the bytes do not fit now (or the word was contended): the caller then takes
    /// <see cref="TryHold"/>, which retries and asks reclamation.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryHoldFast(ResourceType type, long bytes, out long next)
    {
        Debug.Assert(ResourceTypes.IsDefined(type) && bytes > 0, "Validated by the caller.");
        Account account = _accounts[(int)type];
        long current = Volatile.Read(ref account.Current);
        next = current + bytes;
        return next <= account.Budget.OrdinaryLimit && next >= current
            && Interlocked.CompareExchange(ref account.Current, next, current) == current;
    }

    /// <summary>Completes a hold from <see cref="TryHold"/>: counts the acquisition (and any use of the reserve or
    /// overrun), raises the peak and publishes the level.</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="bytes">The bytes held.</param>
    /// <param name="next">The usage <see cref="TryHold"/> reported.</param>
    internal void Commit(ResourceType type, long bytes, long next)
    {
        Account account = _accounts[(int)type];
        ResourceBudget budget = account.Budget;
        if (next > budget.OrdinaryLimit)
        {
            Interlocked.Increment(ref account.ReserveAcquisitions);
            if (next > budget.MaxBytes)
            {
                Interlocked.Increment(ref account.Overruns);
                if (ResourceEventSource.Log.IsEnabled())
                {
                    ResourceEventSource.Log.EmergencyOverrun((long)type, bytes, next);
                }
            }
        }

        Interlocked.Add(ref account.Held, -bytes);
        CountAcquisition(type);
        CheckLeases(account);
        PublishPeakAndPressure(account, Volatile.Read(ref account.Current) - Volatile.Read(ref account.Held));
    }

    /// <summary><see cref="Commit"/> for a hold within the ordinary limit (from <see cref="TryHoldFast"/>): one counter
    /// increment, and no call unless the peak or the pressure level moves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void CommitOrdinary(ResourceType type, long next)
    {
        Account account = _accounts[(int)type];
        CountAcquisition(type);
        if (Volatile.Read(ref account.LeaseCaps) != 0)
        {
            RestoreLeaseRules(account);
            next = Volatile.Read(ref account.Current); // a revocation took leases back out of it
        }

        long committed = next - Volatile.Read(ref account.Held); // other requests' holds are not usage yet
        if (committed > Volatile.Read(ref account.Peak) || (int)account.Budget.PressureAt(committed) != Volatile.Read(ref account.Level))
        {
            PublishPeakAndPressure(account, committed);
        }
    }

    /// <summary>Gives a hold from <see cref="TryHold"/> back without counting it: the request failed elsewhere. The level
    /// is re-checked (a concurrent publication may have seen the bytes for a moment) but normally does not move.</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="bytes">The bytes held.</param>
    internal void Cancel(ResourceType type, long bytes)
    {
        Account account = _accounts[(int)type];
        long after = Interlocked.Add(ref account.Current, -bytes);
        Debug.Assert(after >= 0, "A hold is cancelled once.");
        long stillHeld = Interlocked.Add(ref account.Held, -bytes);
        if ((int)account.Budget.PressureAt(after - stillHeld) != Volatile.Read(ref account.Level))
        {
            PublishPressure(account);
        }
    }

    /// <summary>The manager's hot path for <see cref="Release"/>: a validated type and a size it reserved, on the thread
    /// whose <see cref="ThreadIndex"/> the caller has read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ReleaseFast(int threadIndex, ResourceType type, long bytes)
    {
        Debug.Assert(ResourceTypes.IsDefined(type) && bytes > 0, "Validated by the caller.");
        if (!TryReturnToLease(threadIndex, type, bytes))
        {
            ReleaseSlow(_accounts[(int)type], bytes, keep: true);
        }
    }

    /// <summary>A release for the manager's general path (named, owned, region and shared resources), whose reservations
    /// never come from a lease: off the account's usage by compare-and-swap, never kept as a lease.</summary>
    internal void ReleaseUnleased(ResourceType type, long bytes)
    {
        Debug.Assert(ResourceTypes.IsDefined(type) && bytes > 0, "Validated by the caller.");
        ReleaseSlow(_accounts[(int)type], bytes, keep: false);
    }

    private static long Limit(ResourceBudget budget, BudgetMode mode) => mode switch
    {
        BudgetMode.Ordinary => budget.OrdinaryLimit,
        BudgetMode.UseReserve => budget.MaxBytes,
        _ => long.MaxValue,
    };

    /// <summary>The account of <paramref name="type"/>, after checking that the type is defined.</summary>
    /// <param name="type">The resource type, from a caller.</param>
    /// <returns>Its account.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is unknown.</exception>
    private Account AccountOf(ResourceType type)
    {
        if (!ResourceTypes.IsDefined(type))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(type), type, "Unknown resource type.");
        }

        return _accounts[(int)type];
    }

    /// <summary>Adds the bytes if they fit under the mode's limit. Counts and publishes nothing.</summary>
    private static bool TryAdd(Account account, long bytes, BudgetMode mode, out long next)
    {
        long limit = Limit(account.Budget, mode);
        long current = Volatile.Read(ref account.Current);
        while (true)
        {
            next = current + bytes;
            if (next > limit || next < current)
            {
                return false; // over the limit, or the sum overflowed
            }

            long seen = Interlocked.CompareExchange(ref account.Current, next, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }
    }

    /// <summary>One type's accounting. The counts and <see cref="Level"/> change only by Interlocked operations;
    /// <see cref="Budget"/> is replaced whole (a volatile write, <see cref="SetBudget"/>), and <see cref="Delivered"/> is
    /// written only by the delivering thread.</summary>
    private sealed class Account(ResourceType type, ResourceBudget budget)
    {
        public readonly ResourceType Type = type;
        public volatile ResourceBudget Budget = budget;
        public long Current;   // Committed bytes plus holds not yet committed: what admission compares with the limit.
        public long Held;      // Of Current, bytes held by TryHold and not yet committed or cancelled.
        public long Peak;
        public long Failures;
        public long ReserveAcquisitions;
        public long Overruns;
        public long Reclamations;
        public long ReclaimedBytes;
        public readonly object LeaseLock = new(); // Serialises grants and revocations of this type's leases.
        public long LeaseCaps; // Sum of the caps of this type's leases (see Leases); 0 when there are none.
        public int RefusedWaiters; // Refused requests registered as waiting for room (see HasRefusedWaiters).
        public int Level;      // (int)ResourcePressure last published.
        public int Delivered;  // (int)ResourcePressure last delivered to callbacks; only the delivering thread writes it.
    }
}
