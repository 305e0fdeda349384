using System.Runtime.CompilerServices;
using System.Diagnostics;

namespace Flight.Hal.Resources;

/// <summary>Exact, lock-free byte accounting per <see cref="ResourceType"/> against its <see cref="ResourceBudget"/>,
/// with pressure and reclamation callbacks.</summary>
/// <remarks>
/// <para><b>Accounting.</b> <see cref="TryReserve(ResourceType, long, BudgetMode)"/> and <see cref="Release"/> update each type's usage with a
/// compare-and-swap: no lock, no allocation. At every quiescent point a type's <see cref="ResourceStats.CurrentBytes"/>
/// equals what was reserved and not released.</para>
/// <para><b>Pressure.</b> After every change of usage the type's level (<see cref="ResourceBudget.PressureAt"/>) is
/// re-evaluated; when it differs from the last published level, the thread that publishes the new level calls every
/// pressure callback once, outside every lock, with a statistics snapshot. Levels that come and go between two
/// evaluations are not reported.</para>
/// <para><b>Reclamation.</b> Before a reservation is refused on budget, the type's reclamation callbacks are asked, in
/// registration order, for the bytes still missing; they release what they can through <see cref="Release"/> and the
/// reservation is retried after each.</para>
/// <para><b>Faults.</b> A callback that throws is caught and reported through <see cref="CallbackFaulted"/>; accounting
/// stays exact and the operation continues.</para>
/// <para>This class is thread-safe. All members may be used by multiple threads concurrently, including from callbacks.</para>
/// </remarks>
public sealed class ResourceBudgetManager
{
    private readonly Account[] _accounts = new Account[ResourceTypes.Count];
    private readonly object _registrationLock = new();           // Serialises callback registration only.
    private PressureCallback[] _pressureCallbacks = [];          // Copy-on-write.
    private readonly ReclamationCallback[][] _reclaimers = new ReclamationCallback[ResourceTypes.Count][]; // Copy-on-write per type.
    private long _callbackFaults;
    private const int CounterSlots = 64;
    private static int s_nextCounterSlot;
    [ThreadStatic]
    private static ThreadCounters?[]? t_counters;             // Per thread: counter blocks by slot; a slot is shared by managers
    private readonly int _counterSlot = (Interlocked.Increment(ref s_nextCounterSlot) & int.MaxValue) % CounterSlots;
    private readonly object _identity = new();                 // What a thread's counter block names as its owner.
    private readonly List<ThreadCounters> _counterBlocks = []; // Every thread's block for this manager (under _registrationLock).

    /// <summary>Creates a manager; types not in <paramref name="budgets"/> get <see cref="ResourceBudget.Unlimited"/>.</summary>
    /// <param name="budgets">Budgets per type, or null.</param>
    public ResourceBudgetManager(IReadOnlyDictionary<ResourceType, ResourceBudget>? budgets = null)
    {
        for (int i = 0; i < ResourceTypes.Count; i++)
        {
            ResourceBudget? budget = null;
            budgets?.TryGetValue((ResourceType)i, out budget);
            _accounts[i] = new Account(budget ?? ResourceBudget.Unlimited);
            _reclaimers[i] = [];
        }
    }

    /// <summary>Raised (on the thread that ran the callback) when a pressure or reclamation callback throws.</summary>
    /// <remarks>An exception thrown by a handler of this event is swallowed.</remarks>
    public event EventHandler<CallbackFaultEventArgs>? CallbackFaulted;

    /// <summary>Callback exceptions caught since creation.</summary>
    public long CallbackFaults => Volatile.Read(ref _callbackFaults);

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
        PublishPressure(type, account, Volatile.Read(ref account.Current));
    }

    /// <summary>Reserves <paramref name="bytes"/> of <paramref name="type"/>'s budget.</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="bytes">Bytes to reserve, at least 1.</param>
    /// <param name="mode">How far the reservation may go.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>, or <see cref="ResourceStatus.BudgetExceeded"/> when the bytes do not fit
    /// even after the reclamation callbacks ran (never in <see cref="BudgetMode.AllowOverrun"/>).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is unknown or <paramref name="bytes"/> is not positive.</exception>
    /// <remarks>No lock and no allocation unless a callback runs.</remarks>
    public ResourceStatus TryReserve(ResourceType type, long bytes, BudgetMode mode = BudgetMode.Ordinary) =>
        TryReserve(type, bytes, mode, countFailure: true);

    /// <summary>Bytes of <paramref name="type"/> reserved now.</summary>
    internal long CurrentBytes(ResourceType type) => Volatile.Read(ref _accounts[(int)type].Current);

    /// <summary><see cref="TryReserve(ResourceType, long, BudgetMode)"/>, optionally without counting a refusal (for a
    /// step of a larger acquisition that goes on to another mode).</summary>
    internal ResourceStatus TryReserve(ResourceType type, long bytes, BudgetMode mode, bool countFailure)
    {
        Account account = AccountOf(type);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        if (TryAdd(type, account, bytes, mode))
        {
            return ResourceStatus.Ok;
        }

        ReclamationCallback[] reclaimers = Volatile.Read(ref _reclaimers[(int)type]);
        foreach (ReclamationCallback reclaimer in reclaimers)
        {
            long missing = Volatile.Read(ref account.Current) + bytes - Limit(account.Budget, mode);
            if (missing <= 0 && TryAdd(type, account, bytes, mode))
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
            if (TryAdd(type, account, bytes, mode))
            {
                return ResourceStatus.Ok;
            }
        }

        if (countFailure)
        {
            Interlocked.Increment(ref account.Failures);
        }

        return ResourceStatus.BudgetExceeded;
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
        long current = Volatile.Read(ref account.Current);
        while (true)
        {
            if (bytes > current)
            {
                ThrowHelper.ThrowInvalidOperation($"Releasing {bytes} bytes of {type}, but only {current} are reserved.");
            }

            long seen = Interlocked.CompareExchange(ref account.Current, current - bytes, current);
            if (seen == current)
            {
                break;
            }

            current = seen;
        }

        LocalCounters().Values[((int)type * 2) + 1]++;
        PublishPressure(type, account, current - bytes);
    }

    /// <summary>The manager's hot path: an ordinary reservation for a validated type and a positive size, without the
    /// reclamation callbacks. One compare-and-swap, no call unless the peak or the pressure level moves.</summary>
    /// <returns><see langword="false"/> when the bytes do not fit now (or the word was contended): the caller then takes
    /// <see cref="TryReserve(ResourceType, long, BudgetMode, bool)"/>, which retries and asks reclamation.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryReserveFast(ResourceType type, long bytes)
    {
        Debug.Assert(ResourceTypes.IsDefined(type) && bytes > 0, "Validated by the caller.");
        Account account = _accounts[(int)type];
        ResourceBudget budget = account.Budget;
        long current = Volatile.Read(ref account.Current);
        long next = current + bytes;
        if (next > budget.OrdinaryLimit || next < current || Interlocked.CompareExchange(ref account.Current, next, current) != current)
        {
            return false;
        }

        LocalCounters().Values[(int)type * 2]++;
        if (next > Volatile.Read(ref account.Peak) || (int)budget.PressureAt(next) != Volatile.Read(ref account.Level))
        {
            PublishPeakAndPressure(type, account, next);
        }

        return true;
    }

    /// <summary>The manager's hot path for <see cref="Release"/>: a validated type and a size it reserved.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ReleaseFast(ResourceType type, long bytes)
    {
        Debug.Assert(ResourceTypes.IsDefined(type) && bytes > 0, "Validated by the caller.");
        Account account = _accounts[(int)type];
        long current = Volatile.Read(ref account.Current);
        if (bytes > current || Interlocked.CompareExchange(ref account.Current, current - bytes, current) != current)
        {
            Release(type, bytes); // contended (or an accounting bug, which Release reports)
            return;
        }

        LocalCounters().Values[((int)type * 2) + 1]++;
        if ((int)account.Budget.PressureAt(current - bytes) != Volatile.Read(ref account.Level))
        {
            PublishPressure(type, account, current - bytes);
        }
    }

    /// <summary>After usage rose to <paramref name="next"/>: raises the peak and re-evaluates the pressure level.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void PublishPeakAndPressure(ResourceType type, Account account, long next)
    {
        long peak = Volatile.Read(ref account.Peak);
        while (next > peak)
        {
            long seen = Interlocked.CompareExchange(ref account.Peak, next, peak);
            if (seen == peak)
            {
                break;
            }

            peak = seen;
        }

        PublishPressure(type, account, next);
    }

    /// <summary>Counts a refusal decided without trying (a request larger than the budget can ever hold).</summary>
    internal void CountFailure(ResourceType type) => Interlocked.Increment(ref _accounts[(int)type].Failures);

    /// <summary>The pressure level last published for <paramref name="type"/>.</summary>
    /// <param name="type">The resource type.</param>
    /// <returns>The level.</returns>
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
            Volatile.Read(ref a.Current),
            Volatile.Read(ref a.Peak),
            SumCounters((int)type * 2),
            SumCounters(((int)type * 2) + 1),
            Volatile.Read(ref a.Failures),
            Volatile.Read(ref a.ReserveAcquisitions),
            Volatile.Read(ref a.Overruns),
            Volatile.Read(ref a.Reclamations),
            Volatile.Read(ref a.ReclaimedBytes),
            (ResourcePressure)Volatile.Read(ref a.Level));
    }

    /// <summary>Registers a callback for every pressure level change of every type.</summary>
    /// <param name="callback">The callback.</param>
    /// <returns>Dispose it to unregister (idempotent).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    public IDisposable RegisterPressureCallback(PressureCallback callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        lock (_registrationLock)
        {
            _pressureCallbacks = [.. _pressureCallbacks, callback];
        }

        return new Registration(() =>
        {
            lock (_registrationLock)
            {
                _pressureCallbacks = Without(_pressureCallbacks, callback);
            }
        });
    }

    /// <summary>Registers a callback asked to free <paramref name="type"/> memory before a request is refused on budget.</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="callback">The callback.</param>
    /// <returns>Dispose it to unregister (idempotent).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is unknown.</exception>
    public IDisposable RegisterReclamationCallback(ResourceType type, ReclamationCallback callback)
    {
        AccountOf(type);
        ArgumentNullException.ThrowIfNull(callback);
        lock (_registrationLock)
        {
            _reclaimers[(int)type] = [.. _reclaimers[(int)type], callback];
        }

        return new Registration(() =>
        {
            lock (_registrationLock)
            {
                _reclaimers[(int)type] = Without(_reclaimers[(int)type], callback);
            }
        });
    }

    /// <summary>This thread's acquisition and release counters for this manager (created on first use).</summary>
    /// <remarks>PERF: counting every reservation and release with an interlocked increment costed two of the five atomic
    /// operations of a manager acquire+release. Each thread counts in its own block instead, without atomics; the
    /// figures are the sums over all blocks, exact whenever no reservation or release is in flight.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ThreadCounters LocalCounters()
    {
        ThreadCounters?[]? blocks = t_counters;
        if (blocks != null)
        {
            ThreadCounters? block = blocks[_counterSlot];
            if (block != null && ReferenceEquals(block.Owner, _identity))
            {
                return block;
            }
        }

        return CreateLocalCounters();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ThreadCounters CreateLocalCounters()
    {
        ThreadCounters?[] blocks = t_counters ??= new ThreadCounters?[CounterSlots];
        var block = new ThreadCounters(_identity);
        lock (_registrationLock)
        {
            _counterBlocks.Add(block); // a block replaced in the slot by another manager's keeps its counts here
        }

        blocks[_counterSlot] = block;
        return block;
    }

    private long SumCounters(int index)
    {
        long sum = 0;
        lock (_registrationLock)
        {
            foreach (ThreadCounters block in _counterBlocks)
            {
                sum += Volatile.Read(ref block.Values[index]);
            }
        }

        return sum;
    }

    private static long Limit(ResourceBudget budget, BudgetMode mode) => mode switch
    {
        BudgetMode.Ordinary => budget.OrdinaryLimit,
        BudgetMode.UseReserve => budget.MaxBytes,
        _ => long.MaxValue,
    };

    private static T[] Without<T>(T[] items, T item)
        where T : class
    {
        int index = Array.IndexOf(items, item);
        return index < 0 ? items : [.. items[..index], .. items[(index + 1)..]];
    }

    private Account AccountOf(ResourceType type)
    {
        if (!ResourceTypes.IsDefined(type))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(type), type, "Unknown resource type.");
        }

        return _accounts[(int)type];
    }

    /// <summary>Adds the bytes if they fit under the mode's limit; counts and publishes on success.</summary>
    private bool TryAdd(ResourceType type, Account account, long bytes, BudgetMode mode)
    {
        ResourceBudget budget = account.Budget;
        long limit = Limit(budget, mode);
        long current = Volatile.Read(ref account.Current);
        long next;
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
                break;
            }

            current = seen;
        }

        LocalCounters().Values[(int)type * 2]++;
        if (next > budget.OrdinaryLimit)
        {
            Interlocked.Increment(ref account.ReserveAcquisitions);
            if (next > budget.MaxBytes)
            {
                Interlocked.Increment(ref account.Overruns);
            }
        }

        PublishPeakAndPressure(type, account, next);
        return true;
    }

    /// <summary>Re-evaluates the level at <paramref name="usage"/>; the thread that publishes a new level fires the callbacks.</summary>
    private void PublishPressure(ResourceType type, Account account, long usage)
    {
        int level = (int)account.Budget.PressureAt(usage);
        int previous = Volatile.Read(ref account.Level);
        if (level == previous || Interlocked.CompareExchange(ref account.Level, level, previous) != previous)
        {
            return; // unchanged, or another thread published a level first (and fires for it)
        }

        PressureCallback[] callbacks = Volatile.Read(ref _pressureCallbacks);
        if (callbacks.Length == 0)
        {
            return;
        }

        var change = new PressureChange(type, (ResourcePressure)previous, (ResourcePressure)level, GetStats(type));
        foreach (PressureCallback callback in callbacks)
        {
            try
            {
                callback(in change);
            }
            catch (Exception exception)
            {
                ReportFault(type, isReclamation: false, exception);
            }
        }
    }

    private void ReportFault(ResourceType type, bool isReclamation, Exception exception)
    {
        Interlocked.Increment(ref _callbackFaults);
        try
        {
            CallbackFaulted?.Invoke(this, new CallbackFaultEventArgs(type, isReclamation, exception));
        }
        catch (Exception handlerException)
        {
            // A fault handler that throws must not break the allocation either.
            Debug.WriteLine($"CallbackFaulted handler threw: {handlerException.Message}");
        }
    }

    /// <summary>One type's counters. Fields are updated with Interlocked operations only.</summary>
    /// <summary>One thread's acquisition and release counts for one manager: [type * 2] acquisitions, [type * 2 + 1] releases.
    /// Written only by its thread.</summary>
    private sealed class ThreadCounters(object owner)
    {
        public readonly object Owner = owner; // the manager's _identity: a thread's blocks must not keep a manager alive
        public readonly long[] Values = new long[ResourceTypes.Count * 2];
    }

    private sealed class Account(ResourceBudget budget)
    {
        public volatile ResourceBudget Budget = budget;
        public long Current;
        public long Peak;
        public long Failures;
        public long ReserveAcquisitions;
        public long Overruns;
        public long Reclamations;
        public long ReclaimedBytes;
        public int Level; // (int)ResourcePressure last published
    }

    private sealed class Registration(Action unregister) : IDisposable
    {
        private Action? _unregister = unregister;

        public void Dispose() => Interlocked.Exchange(ref _unregister, null)?.Invoke();
    }
}
