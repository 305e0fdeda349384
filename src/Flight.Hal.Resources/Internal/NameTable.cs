using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

/// <summary>Interned strings with small integer ids, reference counts and a value per name; lookup by span allocates
/// nothing, so a name seen before costs no allocation whether it comes as a <see cref="string"/>, a span or UTF-8.</summary>
/// <typeparam name="TValue">What the owner keeps per name.</typeparam>
/// <remarks>
/// <para>A name is held while its reference count is above zero. When the count drops to zero the name becomes
/// <i>idle</i>: it stays interned, so using it again allocates nothing, until more than <c>maxIdle</c> names are idle;
/// then the one idle longest is forgotten and its id reused. Memory is therefore bounded by the names in use plus
/// <c>maxIdle</c>. A name that is never released (an owner) stays for the table's life.</para>
/// <para>Ids are 1-based (0 means "no name") and dense: entry index + 1. Instances are not thread-safe; the manager
/// uses them under its registry lock. One read is also offered without that lock, <see cref="TryFindHeldConcurrent"/>:
/// a sequence lock — writers (holding the lock) make the version odd before they change anything
/// (<see cref="BeginWrite"/>) and even again after (<see cref="EndWrite"/>), and a reader trusts what it read only if it
/// saw the same even version before and after.</para>
/// </remarks>
internal sealed class NameTable<TValue>
    where TValue : struct
{
    private const int None = -1;

    private readonly int _maxIdle;
    private int[] _buckets = new int[16];   // Entry index + 1 of each chain's head; 0 when empty. Length: a power of two.
    private Entry[] _entries = new Entry[16];
    private int _used;                      // Entries [0, _used) have been used.
    private int _freeList = None;           // Forgotten entries, linked through Next.
    private int _count;                     // Names interned now (held and idle).
    private int _idleOldest = None;         // Idle names, oldest first, linked through IdlePrev/IdleNext.
    private int _idleNewest = None;
    private int _idleCount;
    private int _version;                   // Odd while a writer changes the table (see BeginWrite).

    /// <summary>Creates a table that keeps at most <paramref name="maxIdle"/> names no one holds.</summary>
    public NameTable(int maxIdle)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxIdle);
        _maxIdle = maxIdle;
    }

    /// <summary>Names interned now: held plus idle.</summary>
    public int Count => _count;

    /// <summary>Names interned but held by no one.</summary>
    public int IdleCount => _idleCount;

    /// <summary>The id of <paramref name="name"/> if it is interned and held (reference count above zero), else 0.</summary>
    public int FindHeld(ReadOnlySpan<char> name)
    {
        int index = IndexOf(name, Hash(name));
        return index >= 0 && _entries[index].RefCount > 0 ? index + 1 : 0;
    }

    /// <summary>Takes a reference to <paramref name="name"/>, interning it first if needed.</summary>
    /// <param name="name">The name; not empty.</param>
    /// <param name="text"><paramref name="name"/> as a string if the caller has one (it is kept instead of a copy), or null.</param>
    /// <returns>The name's id.</returns>
    public int AddRef(ReadOnlySpan<char> name, string? text)
    {
        Debug.Assert(!name.IsEmpty, "Names are not empty.");
        Debug.Assert(text == null || name.SequenceEqual(text), "The text is the name.");
        int hash = Hash(name);
        int index = IndexOf(name, hash);
        if (index < 0)
        {
            index = Add(text ?? new string(name), hash);
        }

        AddRef(index + 1);
        return index + 1;
    }

    /// <summary>Takes one more reference to an interned name.</summary>
    public void AddRef(int id)
    {
        ref Entry entry = ref _entries[id - 1];
        Debug.Assert(entry.Name != null, "The id names an interned name.");
        if (entry.RefCount++ == 0 && entry.Interned)
        {
            Unlink(id - 1); // idle no more
        }

        entry.Interned = true;
    }

    /// <summary>Drops a reference; a name no one holds becomes idle, and the longest-idle name beyond the bound is forgotten.</summary>
    public void Release(int id)
    {
        int index = id - 1;
        ref Entry entry = ref _entries[index];
        Debug.Assert(entry.RefCount > 0, "Released more often than referenced.");
        if (--entry.RefCount > 0)
        {
            return;
        }

        // Newest idle at the tail.
        entry.IdleNext = None;
        entry.IdlePrev = _idleNewest;
        if (_idleNewest != None)
        {
            _entries[_idleNewest].IdleNext = index;
        }
        else
        {
            _idleOldest = index;
        }

        _idleNewest = index;
        _idleCount++;
        while (_idleCount > _maxIdle)
        {
            Forget(_idleOldest);
        }
    }

    /// <summary>The name of <paramref name="id"/> (held or idle).</summary>
    public string NameOf(int id) => _entries[id - 1].Name!;

    /// <summary>Before changing the table (names or values) under the owner's lock: readers without the lock retry or
    /// take the lock until <see cref="EndWrite"/>.</summary>
    public void BeginWrite()
    {
        Debug.Assert((_version & 1) == 0, "Writes do not nest.");
        Volatile.Write(ref _version, _version + 1);
#if NET10_0_OR_GREATER
        Volatile.WriteBarrier(); // the changes that follow are not seen before the odd version
#else
        Interlocked.MemoryBarrier();
#endif
    }

    /// <summary>After the changes begun with <see cref="BeginWrite"/>.</summary>
    public void EndWrite()
    {
        Debug.Assert((_version & 1) == 1, "A write was begun.");
        Volatile.Write(ref _version, _version + 1); // the changes are seen before the even version
    }

    /// <summary>Without the owner's lock: the value of a held name, as <see cref="FindHeld"/> and <see cref="ValueOf"/>
    /// would give it under the lock.</summary>
    /// <param name="name">The name.</param>
    /// <param name="value">The held name's value, when the result is 1.</param>
    /// <returns>1: found and held, <paramref name="value"/> is its value; 0: not held (a consistent answer);
    /// -1: a writer was at work, ask again under the lock.</returns>
    public int TryFindHeldConcurrent(ReadOnlySpan<char> name, out TValue value)
    {
        value = default;
        int version = Volatile.Read(ref _version);
        if ((version & 1) != 0)
        {
            return -1;
        }

        // Read as if nothing changed; whatever a concurrent writer did is caught by the version below. The arrays are
        // managed (every index is bounds-checked) and the chain walk is bounded, so a torn read cannot fault or loop.
        int[] buckets = Volatile.Read(ref _buckets);
        Entry[] entries = Volatile.Read(ref _entries);
        int hash = Hash(name);
        int found = None;
        int i = buckets[hash & (buckets.Length - 1)] - 1;
        for (int steps = 0; (uint)i < (uint)entries.Length && steps < entries.Length; steps++)
        {
            ref Entry entry = ref entries[i];
            if (entry.Hash == hash && name.SequenceEqual(entry.Name))
            {
                found = i;
                break;
            }

            i = entry.Next;
        }

        bool held = found >= 0 && entries[found].RefCount > 0;
        if (held)
        {
            value = entries[found].Value;
        }

#if NET10_0_OR_GREATER
        Volatile.ReadBarrier(); // the reads above complete before the version is read again
#else
        Interlocked.MemoryBarrier();
#endif
        if (Volatile.Read(ref _version) != version)
        {
            value = default;
            return -1;
        }

        return held ? 1 : 0;
    }

    /// <summary>The value kept for <paramref name="id"/>; reset to default when the name is forgotten.</summary>
    public ref TValue ValueOf(int id) => ref _entries[id - 1].Value;

    /// <summary>References held on <paramref name="id"/>.</summary>
    public int RefCountOf(int id) => _entries[id - 1].RefCount;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Hash(ReadOnlySpan<char> name) => string.GetHashCode(name);

    private int IndexOf(ReadOnlySpan<char> name, int hash)
    {
        for (int i = _buckets[hash & (_buckets.Length - 1)] - 1; i >= 0; i = _entries[i].Next)
        {
            ref Entry entry = ref _entries[i];
            if (entry.Hash == hash && name.SequenceEqual(entry.Name))
            {
                return i;
            }
        }

        return None;
    }

    private int Add(string name, int hash)
    {
        int index;
        if (_freeList != None)
        {
            index = _freeList;
            _freeList = _entries[index].Next;
        }
        else
        {
            if (_used == _entries.Length)
            {
                Grow();
            }

            index = _used++;
        }

        ref int bucket = ref _buckets[hash & (_buckets.Length - 1)];
        _entries[index] = new Entry { Name = name, Hash = hash, Next = bucket - 1, IdlePrev = None, IdleNext = None };
        bucket = index + 1;
        _count++;
        return index;
    }

    private void Grow()
    {
        Array.Resize(ref _entries, _entries.Length * 2);
        _buckets = new int[_entries.Length];
        for (int i = 0; i < _used; i++)
        {
            if (_entries[i].Name != null)
            {
                ref int bucket = ref _buckets[_entries[i].Hash & (_buckets.Length - 1)];
                _entries[i].Next = bucket - 1;
                bucket = i + 1;
            }
        }
    }

    /// <summary>Removes an idle name from the idle list.</summary>
    private void Unlink(int index)
    {
        ref Entry entry = ref _entries[index];
        if (entry.IdlePrev != None)
        {
            _entries[entry.IdlePrev].IdleNext = entry.IdleNext;
        }
        else
        {
            _idleOldest = entry.IdleNext;
        }

        if (entry.IdleNext != None)
        {
            _entries[entry.IdleNext].IdlePrev = entry.IdlePrev;
        }
        else
        {
            _idleNewest = entry.IdlePrev;
        }

        entry.IdlePrev = None;
        entry.IdleNext = None;
        _idleCount--;
    }

    /// <summary>Forgets an idle name: out of its chain, onto the free list.</summary>
    private void Forget(int index)
    {
        Unlink(index);
        ref Entry entry = ref _entries[index];
        ref int bucket = ref _buckets[entry.Hash & (_buckets.Length - 1)];
        if (bucket - 1 == index)
        {
            bucket = entry.Next + 1;
        }
        else
        {
            int i = bucket - 1;
            while (_entries[i].Next != index)
            {
                i = _entries[i].Next;
            }

            _entries[i].Next = entry.Next;
        }

        entry = new Entry { Next = _freeList, IdlePrev = None, IdleNext = None };
        _freeList = index;
        _count--;
    }

    private struct Entry
    {
        public string? Name;      // Null when forgotten.
        public int Hash;
        public int Next;          // Next entry in the bucket chain (or the free list); -1 at the end.
        public int RefCount;
        public int IdlePrev;      // Idle list links; -1 when not idle.
        public int IdleNext;
        public bool Interned;     // Referenced at least once since it was added (so RefCount 0 means idle).
        public TValue Value;
    }
}
