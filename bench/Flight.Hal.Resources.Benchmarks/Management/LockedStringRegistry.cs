using System.Runtime.InteropServices;

namespace Flight.Hal.Resources.Benchmarks.Management;

/// <summary>The peer: the published Flight HAL design implemented straightforwardly — a string-keyed
/// <c>Dictionary</c> of resource records behind one lock, a per-type budget check, <c>NativeMemory</c> for the bytes and
/// a generated string id per resource (the C++ manager's <c>std::unordered_map&lt;std::string, ...&gt;</c> and mutex).</summary>
/// <remarks>Thread-safe through the lock. Written here only as a benchmark baseline.</remarks>
public sealed unsafe class LockedStringRegistry : IDisposable
{
    private readonly object _lock = new();
    private readonly Dictionary<string, Record> _resources = new(StringComparer.Ordinal);
    private readonly long[] _used = new long[6];
    private readonly long[] _budget;
    private long _nextId;

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

    /// <summary>Acquires <paramref name="size"/> bytes of <paramref name="type"/>; returns the new resource's id or null.</summary>
    public string? Acquire(ResourceType type, int size)
    {
        lock (_lock)
        {
            if (_used[(int)type] + size > _budget[(int)type])
            {
                return null;
            }

            void* memory = NativeMemory.Alloc((nuint)size);
            string id = "resource_" + (++_nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _resources.Add(id, new Record((nint)memory, size, type));
            _used[(int)type] += size;
            return id;
        }
    }

    /// <summary>The memory of a live resource, or 0.</summary>
    public nint Resolve(string id)
    {
        lock (_lock)
        {
            return _resources.TryGetValue(id, out Record record) ? record.Memory : 0;
        }
    }

    /// <summary>Releases a resource; false when the id is unknown.</summary>
    public bool Release(string id)
    {
        lock (_lock)
        {
            if (!_resources.Remove(id, out Record record))
            {
                return false;
            }

            NativeMemory.Free((void*)record.Memory);
            _used[(int)record.Type] -= record.Size;
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

    private readonly record struct Record(nint Memory, int Size, ResourceType Type);
}
