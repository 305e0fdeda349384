using System.Runtime.InteropServices;

namespace Flight.Hal.Resources.Benchmarks.Management;

/// <summary>The peer: the published Flight HAL design implemented straightforwardly — a string-keyed
/// <c>Dictionary</c> of resource records behind one lock, a per-type budget check, per-owner held bytes, and
/// <c>NativeMemory</c> for the bytes (the C++ manager's <c>std::unordered_map&lt;std::string, ...&gt;</c> and mutex).</summary>
/// <remarks>Thread-safe through the lock. Written here only as a benchmark peer. Every resource is keyed by a name the
/// caller passes in (made before any timing): the registry formats no string, so it allocates nothing once its
/// dictionary has grown.</remarks>
public sealed unsafe class LockedStringRegistry : IDisposable
{
    /// <summary>Owners the registry tracks held bytes for (ids 1 to this; 0 is no owner).</summary>
    public const int MaxOwners = 64;

    private readonly object _lock = new();
    private readonly Dictionary<string, Record> _resources = new(StringComparer.Ordinal);
    private readonly long[] _used = new long[6];
    private readonly long[] _budget;
    private readonly long[] _ownerHeld = new long[MaxOwners + 1];

    public LockedStringRegistry(long budgetPerType) => _budget = [.. Enumerable.Repeat(budgetPerType, 6)];

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _resources.Count;
            }
        }
    }

    /// <summary>Acquires <paramref name="size"/> bytes of <paramref name="type"/> under <paramref name="name"/>, held by
    /// <paramref name="owner"/> (0: none). False when the name is taken or the budget has no room.</summary>
    public bool Acquire(string name, ResourceType type, int size, int owner = 0)
    {
        lock (_lock)
        {
            if (_used[(int)type] + size > _budget[(int)type])
            {
                return false;
            }

            // One lookup for the check and the insert, as C++'s try_emplace.
            ref Record slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_resources, name, out bool exists);
            if (exists)
            {
                return false;
            }

            slot = new Record((nint)NativeMemory.Alloc((nuint)size), size, type, owner);
            _used[(int)type] += size;
            _ownerHeld[owner] += size;
            return true;
        }
    }

    /// <summary>The memory of the live resource called <paramref name="name"/>, or 0.</summary>
    public nint Find(string name)
    {
        lock (_lock)
        {
            return _resources.TryGetValue(name, out Record record) ? record.Memory : 0;
        }
    }

    /// <summary>Releases a resource held by <paramref name="owner"/>; false when the name is unknown or another owner
    /// holds it.</summary>
    public bool Release(string name, int owner = 0)
    {
        lock (_lock)
        {
            // One lookup, as C++'s find-then-erase by iterator: remove, and put back in the rare wrong-owner case.
            if (!_resources.Remove(name, out Record record))
            {
                return false;
            }

            if (record.Owner != owner)
            {
                _resources.Add(name, record);
                return false;
            }

            NativeMemory.Free((void*)record.Memory);
            _used[(int)record.Type] -= record.Size;
            _ownerHeld[owner] -= record.Size;
            return true;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (Record record in _resources.Values)
            {
                NativeMemory.Free((void*)record.Memory);
            }

            _resources.Clear();
        }
    }

    private readonly record struct Record(nint Memory, int Size, ResourceType Type, int Owner);
}
