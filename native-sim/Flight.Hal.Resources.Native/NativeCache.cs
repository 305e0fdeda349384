namespace Flight.Hal.Resources.Native;

/// <summary>An asset cache handed to C (<c>fhr_cache*</c>): a <see cref="ResourceCache{T}"/> whose value is the number of
/// resources its loader acquired, and the strong references C holds as <c>fhr_cache_ref</c> ids (a slot and a
/// generation, so a reference released twice, or one of a destroyed cache, is refused, never followed).</summary>
internal sealed class NativeCache
{
    private static readonly object s_lock = new();
    private static readonly Dictionary<nint, NativeCache> s_caches = [];
    private static long s_nextSequence;

    private readonly object _lock = new();
    private CacheRef<int>[] _refs = new CacheRef<int>[16];
    private uint[] _generations = new uint[16];
    private readonly Stack<int> _free = new();
    private int _used;

    private NativeCache(NativeManager owner, ResourceCache<int> cache, nint id)
    {
        Owner = owner;
        Cache = cache;
        Id = id;
    }

    public NativeManager Owner { get; }

    public ResourceCache<int> Cache { get; }

    public nint Id { get; }

    /// <summary>Creates a cache over <paramref name="owner"/>'s manager and returns its id.</summary>
    public static nint Add(NativeManager owner, ResourceCacheOptions<int> options)
    {
        var cache = new ResourceCache<int>(owner.Manager, options);
        lock (s_lock)
        {
            nint id = (nint)(0x20000 + (++s_nextSequence << 4)); // never reused
            var created = new NativeCache(owner, cache, id);
            s_caches[id] = created;
            owner.AddCache(created);
            return id;
        }
    }

    public static bool TryGet(nint id, out NativeCache cache)
    {
        lock (s_lock)
        {
            return s_caches.TryGetValue(id, out cache!);
        }
    }

    public static bool TryRemove(nint id, out NativeCache cache)
    {
        lock (s_lock)
        {
            return s_caches.Remove(id, out cache!);
        }
    }

    /// <summary>Keeps a strong reference for C and returns its id.</summary>
    public ulong Keep(CacheRef<int> reference)
    {
        lock (_lock)
        {
            int slot;
            if (!_free.TryPop(out slot))
            {
                if (_used == _refs.Length)
                {
                    Array.Resize(ref _refs, _refs.Length * 2);
                    Array.Resize(ref _generations, _generations.Length * 2);
                }

                slot = _used++;
            }

            _refs[slot] = reference;
            return ((ulong)(_generations[slot] | 1) << 32) | (uint)(slot + 1);
        }
    }

    /// <summary>The strong reference behind an id, if it is still held.</summary>
    public bool TryFind(ulong id, out CacheRef<int> reference)
    {
        lock (_lock)
        {
            if (TrySlot(id, out int slot))
            {
                reference = _refs[slot];
                return true;
            }

            reference = default;
            return false;
        }
    }

    /// <summary>Gives back the strong reference behind an id (once).</summary>
    public bool TryTake(ulong id, out CacheRef<int> reference)
    {
        lock (_lock)
        {
            if (!TrySlot(id, out int slot))
            {
                reference = default;
                return false;
            }

            reference = _refs[slot];
            _refs[slot] = default;
            _generations[slot] += 2; // a new value for the next holder: this id is refused from now on
            _free.Push(slot);
            return true;
        }
    }

    /// <summary>The slot of a held id: in range, held, and of the slot's current generation (an even number while the
    /// slot is free or held; ids carry it with the low bit set, so 0 is never an id).</summary>
    private bool TrySlot(ulong id, out int slot)
    {
        slot = (int)(uint)id - 1;
        return slot >= 0 && slot < _used && !_refs[slot].IsNull && (_generations[slot] | 1) == (uint)(id >> 32);
    }

    /// <summary>Destroys the cache (its entries unloaded; references C still holds are refused from then on).</summary>
    public void Dispose() => Cache.Dispose();
}
