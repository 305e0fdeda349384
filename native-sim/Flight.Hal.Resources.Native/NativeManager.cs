using System.Collections.Concurrent;

namespace Flight.Hal.Resources.Native;

/// <summary>A manager handed to C, with the callback registrations C made on it. C holds an opaque id, never a
/// pointer into managed memory: an unknown or destroyed id is looked up and refused, so a bad pointer cannot crash.</summary>
internal sealed class NativeManager
{
    private const int SlotBits = 20;                         // Up to 2^20 managers alive at once.
    private static readonly object s_lock = new();           // Guards growth, the free slots and removal.
    private static readonly Stack<int> s_freeSlots = new();
    private static NativeManager?[] s_slots = new NativeManager?[16]; // Replaced by a larger copy when it grows.
    private static int s_slotsUsed;                          // Slots [0, s_slotsUsed) have held a manager.
    private static long s_nextSequence;

    private readonly ConcurrentDictionary<long, IDisposable> _registrations = new();
    private readonly List<NativeCache> _caches = [];   // under itself; disposed (before the manager) by DisposeAll
    private long _nextRegistration;

    private NativeManager(ResourceManager manager, nint id)
    {
        Manager = manager;
        Id = id;
    }

    public ResourceManager Manager { get; }

    /// <summary>The id C holds: a slot index and a sequence number, so an id is never reused.</summary>
    public nint Id { get; }

    /// <summary>Registers a new manager and returns its id (what C sees as <c>fhr_manager*</c>).</summary>
    public static nint Add(ResourceManager manager)
    {
        lock (s_lock)
        {
            NativeManager?[] slots = s_slots;
            int slot;
            if (s_freeSlots.Count > 0)
            {
                slot = s_freeSlots.Pop();
            }
            else
            {
                if (s_slotsUsed == slots.Length)
                {
                    if (slots.Length >= 1 << SlotBits)
                    {
                        throw new ResourceException(ResourceStatus.CapacityExceeded);
                    }

                    Array.Resize(ref slots, slots.Length * 2);
                }

                slot = s_slotsUsed++;
            }

            // Ids look like aligned pointers well above page zero: (sequence, slot) shifted past the low 4 bits. The
            // sequence only grows, so an id is never reused even when its slot is.
            long sequence = ++s_nextSequence;
            nint id = (nint)(0x10000 + ((((sequence << SlotBits) | (uint)slot)) << 4));
            var created = new NativeManager(manager, id);
            slots[slot] = created;
            Volatile.Write(ref s_slots, slots); // publish (a grown array) before the id is handed out
            return id;
        }
    }

    /// <summary>Finds a live manager by id without a lock: decode the slot, compare the id.</summary>
    public static bool TryGet(nint id, out NativeManager manager)
    {
        NativeManager?[] slots = Volatile.Read(ref s_slots);
        int slot = SlotOf(id);
        NativeManager? found = (uint)slot < (uint)slots.Length ? Volatile.Read(ref slots[slot]) : null;
        if (found != null && found.Id == id)
        {
            manager = found;
            return true;
        }

        manager = null!;
        return false;
    }

    /// <summary>Unregisters a manager; its id is refused from then on.</summary>
    public static bool TryRemove(nint id, out NativeManager manager)
    {
        lock (s_lock)
        {
            if (!TryGet(id, out manager))
            {
                return false;
            }

            int slot = SlotOf(id);
            Volatile.Write(ref s_slots[slot], null);
            s_freeSlots.Push(slot);
            return true;
        }
    }

    /// <summary>The slot an id names (any value decodes to some slot; the id compare then decides).</summary>
    private static int SlotOf(nint id) => (int)((((long)id - 0x10000) >> 4) & ((1 << SlotBits) - 1));

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

    /// <summary>Remembers a cache made over this manager, so destroying the manager unloads it first.</summary>
    public void AddCache(NativeCache cache)
    {
        lock (_caches)
        {
            _caches.Add(cache);
        }
    }

    /// <summary>Forgets a cache destroyed by C.</summary>
    public void RemoveCache(NativeCache cache)
    {
        lock (_caches)
        {
            _caches.Remove(cache);
        }
    }

    public void DisposeAll()
    {
        lock (_caches)
        {
            foreach (NativeCache cache in _caches)
            {
                cache.Dispose();
            }

            _caches.Clear();
        }

        foreach (long id in _registrations.Keys)
        {
            RemoveRegistration(id);
        }

        Manager.Dispose();
    }
}
