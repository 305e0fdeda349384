using System.Diagnostics;

namespace Flight.Hal.Resources;

// Callbacks: registration of pressure and reclamation callbacks (copy-on-write arrays, so the paths that call them read
// without a lock), and the reporting of a callback that throws.
public sealed partial class ResourceBudgetManager
{
    private PressureCallback[] _pressureCallbacks = [];          // Copy-on-write.
    private readonly ReclamationCallback[][] _reclaimers = new ReclamationCallback[ResourceTypes.Count][]; // Copy-on-write per type.
    private long _callbackFaults;

    /// <summary>Raised (on the thread that ran the callback) when a pressure or reclamation callback throws.</summary>
    /// <remarks>An exception thrown by a handler of this event is swallowed.</remarks>
    public event EventHandler<CallbackFaultEventArgs>? CallbackFaulted;

    /// <summary>Callback exceptions caught since creation.</summary>
    public long CallbackFaults => Volatile.Read(ref _callbackFaults);

    /// <summary>Registers a callback for every pressure level change of every type.</summary>
    /// <param name="callback">The callback; see the class remarks for when and where it runs.</param>
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

    private static T[] Without<T>(T[] items, T item)
        where T : class
    {
        int index = Array.IndexOf(items, item);
        return index < 0 ? items : [.. items[..index], .. items[(index + 1)..]];
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

    private sealed class Registration(Action unregister) : IDisposable
    {
        private Action? _unregister = unregister;

        public void Dispose() => Interlocked.Exchange(ref _unregister, null)?.Invoke();
    }
}
