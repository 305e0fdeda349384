using System.Collections.Concurrent;

namespace Flight.Hal.Resources.Native;

/// <summary>A manager handed to C, with the callback registrations C made on it. C holds an opaque id, never a
/// pointer into managed memory: an unknown or destroyed id is looked up and refused, so a bad pointer cannot crash.</summary>
internal sealed class NativeManager
{
    private static readonly ConcurrentDictionary<nint, NativeManager> s_live = new();
    private static long s_nextId;

    private readonly ConcurrentDictionary<long, IDisposable> _registrations = new();
    private long _nextRegistration;

    private NativeManager(ResourceManager manager) => Manager = manager;

    public ResourceManager Manager { get; }

    /// <summary>Registers a new manager and returns its id (what C sees as <c>fhr_manager*</c>).</summary>
    public static nint Add(ResourceManager manager)
    {
        // Ids look like aligned pointers well above page zero, and are never reused.
        nint id = (nint)(0x10000 + (Interlocked.Increment(ref s_nextId) << 4));
        s_live[id] = new NativeManager(manager);
        return id;
    }

    public static bool TryGet(nint id, out NativeManager manager) => s_live.TryGetValue(id, out manager!);

    public static bool TryRemove(nint id, out NativeManager manager) => s_live.TryRemove(id, out manager!);

    public long AddRegistration(IDisposable registration)
    {
        long id = Interlocked.Increment(ref _nextRegistration);
        _registrations[id] = registration;
        return id;
    }

    public bool RemoveRegistration(long id)
    {
        if (!_registrations.TryRemove(id, out IDisposable? registration))
        {
            return false;
        }

        registration.Dispose();
        return true;
    }

    public void DisposeAll()
    {
        foreach (long id in _registrations.Keys)
        {
            RemoveRegistration(id);
        }

        Manager.Dispose();
    }
}
