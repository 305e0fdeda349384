using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

// Pressure: after a change of usage the type's level is published (and re-published by a thread whose publication was
// overtaken), queued in publication order, and delivered to the pressure callbacks by one thread at a time.
public sealed partial class ResourceBudgetManager
{
    private int _delivering;                                     // 1 while a thread delivers pressure changes.
    private readonly object _queueLock = new();                  // Guards the delivery queue below.
    private readonly int[] _queue = new int[ResourceTypes.Count]; // Types whose level changed, in publication order (a ring).
    private readonly bool[] _queued = new bool[ResourceTypes.Count]; // Whether a type is in the queue (each type once).
    private int _queueHead;
    private int _queueCount;

    /// <summary>After committed usage rose to <paramref name="next"/>: raises the peak and re-evaluates the pressure level.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void PublishPeakAndPressure(Account account, long next)
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

        PublishPressure(account);
    }

    /// <summary>Publishes the level of the committed usage as it is now (holds not yet committed excluded), and keeps
    /// doing so until the published level matches a fresh read of usage: a thread whose publication raced with another's
    /// re-reads and corrects it. Then delivers.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void PublishPressure(Account account)
    {
        bool changed = false;
        while (true)
        {
            int level = (int)account.Budget.PressureAt(Volatile.Read(ref account.Current) - Volatile.Read(ref account.Held));
            int previous = Volatile.Read(ref account.Level);
            if (level == previous)
            {
                break;
            }

            if (Interlocked.CompareExchange(ref account.Level, level, previous) == previous)
            {
                changed = true;
            }
        }

        if (changed)
        {
            Enqueue(account.Type);
            DeliverPressureChanges();
        }
    }

    /// <summary>Delivers every published level not yet delivered, one thread at a time, types in the order their levels
    /// were published (see the class remarks). A thread that finds another delivering leaves its change to it; the
    /// deliverer looks again before it stops.</summary>
    private void DeliverPressureChanges()
    {
        while (Interlocked.CompareExchange(ref _delivering, 1, 0) == 0)
        {
            try
            {
                while (TryDequeue(out int t))
                {
                    Account account = _accounts[t];
                    int level = Volatile.Read(ref account.Level);
                    int delivered = account.Delivered;
                    if (level != delivered)
                    {
                        account.Delivered = level; // only the delivering thread touches Delivered
                        Notify((ResourceType)t, (ResourcePressure)delivered, (ResourcePressure)level);
                    }
                }
            }
            finally
            {
                Interlocked.Exchange(ref _delivering, 0);
            }

            lock (_queueLock)
            {
                if (_queueCount == 0)
                {
                    return; // nothing was published after the last pass; else take the delivery again
                }
            }
        }
    }

    /// <summary>Queues <paramref name="type"/> for delivery unless it is queued already (a later change of the same type
    /// is delivered with it, coalesced).</summary>
    private void Enqueue(ResourceType type)
    {
        lock (_queueLock)
        {
            if (!_queued[(int)type])
            {
                _queued[(int)type] = true;
                _queue[(_queueHead + _queueCount++) % _queue.Length] = (int)type;
            }
        }
    }

    private bool TryDequeue(out int type)
    {
        lock (_queueLock)
        {
            if (_queueCount == 0)
            {
                type = -1;
                return false;
            }

            type = _queue[_queueHead];
            _queueHead = (_queueHead + 1) % _queue.Length;
            _queueCount--;
            _queued[type] = false; // a change published from now on queues it again
            return true;
        }
    }

    private void Notify(ResourceType type, ResourcePressure previous, ResourcePressure current)
    {
        if (ResourceEventSource.Log.IsEnabled())
        {
            ResourceEventSource.Log.PressureChanged((long)type, (long)previous, (long)current, GetStats(type).CurrentBytes);
        }

        PressureCallback[] callbacks = Volatile.Read(ref _pressureCallbacks);
        if (callbacks.Length == 0)
        {
            return;
        }

        var change = new PressureChange(type, previous, current, GetStats(type));
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
}
