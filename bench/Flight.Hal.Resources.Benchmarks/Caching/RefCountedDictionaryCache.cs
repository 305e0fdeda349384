using System.Collections.Concurrent;

namespace Flight.Hal.Resources.Benchmarks.Caching;

/// <summary>What a straightforward port writes for an asset cache: a <see cref="ConcurrentDictionary{TKey, TValue}"/>
/// from key to a small class holding the value and an interlocked reference count. No eviction order, no weak
/// references, no copy safety (a double release drops another holder's count), no budget: the floor a cache hit can be
/// compared with.</summary>
/// <typeparam name="T">The value.</typeparam>
public sealed class RefCountedDictionaryCache<T>
{
    private readonly ConcurrentDictionary<string, Slot> _entries = new(StringComparer.Ordinal);
#if NET9_0_OR_GREATER
    private readonly ConcurrentDictionary<string, Slot>.AlternateLookup<ReadOnlySpan<char>> _bySpan;
#endif

    /// <summary>Creates an empty cache.</summary>
    public RefCountedDictionaryCache()
    {
#if NET9_0_OR_GREATER
        _bySpan = _entries.GetAlternateLookup<ReadOnlySpan<char>>();
#endif
    }

    /// <summary>The value and its count.</summary>
    public sealed class Slot(T value)
    {
        /// <summary>The value.</summary>
        public T Value { get; } = value;

        private int _refCount;

        /// <summary>References outstanding.</summary>
        public int RefCount => Volatile.Read(ref _refCount);

        /// <summary>One more reference.</summary>
        public void AddRef() => Interlocked.Increment(ref _refCount);

        /// <summary>One fewer.</summary>
        public void Release() => Interlocked.Decrement(ref _refCount);
    }

    /// <summary>Returns the slot for <paramref name="key"/> (loading it with <paramref name="load"/> on a miss) with its
    /// count raised.</summary>
    public Slot GetOrLoad(string key, Func<string, T> load)
    {
        Slot slot = _entries.GetOrAdd(key, static (k, l) => new Slot(l(k)), load);
        slot.AddRef();
        return slot;
    }

    /// <summary>As <see cref="GetOrLoad(string, Func{string, T})"/> for a key already present, found by span.</summary>
    public Slot? TryGet(ReadOnlySpan<char> key)
    {
#if NET9_0_OR_GREATER
        if (!_bySpan.TryGetValue(key, out Slot? slot))
#else
        if (!_entries.TryGetValue(key.ToString(), out Slot? slot))
#endif
        {
            return null;
        }

        slot.AddRef();
        return slot;
    }

    /// <summary>Drops one reference.</summary>
    public static void Release(Slot slot) => slot.Release();

    /// <summary>Removes <paramref name="key"/> if nobody references it.</summary>
    public bool TryEvict(string key, out T value)
    {
        if (_entries.TryGetValue(key, out Slot? slot) && slot.RefCount == 0 && _entries.TryRemove(key, out slot))
        {
            value = slot.Value;
            return true;
        }

        value = default!;
        return false;
    }
}
