namespace Flight.Hal.Resources;

/// <summary>What every cache's entry has, whatever its value type: what a load context fills in and what a dependency
/// releases. Under its cache's lock unless a member says otherwise.</summary>
internal abstract class CacheEntry
{
    public const int Free = 0;       // in the cache's pool (or never used)
    public const int Loading = 1;    // its loader is running on LoaderThread
    public const int Resident = 2;   // loaded
    public const int Unloading = 3;  // taken out by an eviction or unload; its memory is being released
    public const int Failed = 4;     // its load failed; kept until the last waiter has read Failure

    public string Key = string.Empty;
    public int Generation;           // Moves when the entry ends (unload or failed load): a reference or weak reference
                                     // of an older generation is stale. Read without the lock by CacheRef.Value.
    public int State;
    public bool IsCached;            // In the key map (not a replaced version, not a private copy).
    public bool IsPrivate;           // A CacheMode.Ignore copy.
    public int RefCount;
    public long Bytes;
    public ResourcePriority Priority;
    public long LastAccess;
    public long LoadOrder;           // When it was published, among its cache's entries.
    public CacheEntry? Prev;         // On an LRU list (unreferenced cached entries) — or, Next only, a victim chain.
    public CacheEntry? Next;
    public bool InLru;
    public int LoaderThread;         // While Loading: the managed thread id running the loader.
    public int Waiters;              // Threads waiting for this load to end.
    public Exception? Failure;       // While Failed: what the loader did.
    public bool RecycleWhenUnwaited; // Ended while threads waited on it: the last of them returns it to the pool.
    public CacheUnloadReason UnloadReason; // While Unloading: why.
    public TaskCompletionSource<bool>? Done; // Completed when the load ends, for async waiters (created by the first).
    public int AsyncWaiters;         // While Loading: async waiters registered (each gets a reserved reference).
    public int Reserved;             // While Resident: references counted for async waiters not yet taken.
    public CancellationTokenSource? Cancel; // An async load's: cancelled when every waiter gave up, or at Dispose.
    public double Progress;          // What the loader reported, 0 to 1.
    public bool Queued;              // An async load waiting for a slot (MaxConcurrentLoads).
    public object? AsyncLoader;      // An async load's loader (an AsyncCacheLoader of the cache's value type).
    public readonly List<HeldResource> Resources = [];     // Native memory acquired through the load context.
    public readonly List<CacheDependency> Dependencies = []; // Entries of this or other caches it holds.

    /// <summary>The bytes of <paramref name="type"/> it holds.</summary>
    public long BytesOf(ResourceType type)
    {
        long bytes = 0;
        foreach (HeldResource held in Resources)
        {
            if (held.Type == type)
            {
                bytes += held.Size;
            }
        }

        return bytes;
    }

    /// <summary>Releases one strong reference to this entry (a dependency's, through its cache).</summary>
    public abstract ResourceStatus ReleaseHold(Handle<CacheHold> hold, int generation);

    /// <summary>Clears what a previous use left (the lists keep their capacity).</summary>
    public void Reset()
    {
        Key = string.Empty;
        State = Free;
        IsCached = false;
        IsPrivate = false;
        RefCount = 0;
        Bytes = 0;
        Priority = ResourcePriority.Normal;
        LastAccess = 0;
        LoadOrder = 0;
        Prev = null;
        Next = null;
        InLru = false;
        LoaderThread = 0;
        Waiters = 0;
        Failure = null;
        RecycleWhenUnwaited = false;
        UnloadReason = default;
        Done = null;
        AsyncWaiters = 0;
        Reserved = 0;
        Cancel?.Dispose();
        Cancel = null;
        Progress = 0;
        Queued = false;
        AsyncLoader = null;
        Resources.Clear();
        Dependencies.Clear();
    }
}

/// <summary>Native memory an entry holds.</summary>
internal readonly record struct HeldResource(ResourceHandle Handle, ResourceType Type, long Size);

/// <summary>A strong reference one entry holds on another (a material on its textures).</summary>
internal readonly record struct CacheDependency(CacheEntry Entry, Handle<CacheHold> Hold, int Generation);

/// <summary>One strong reference's record in its cache's table: a copy of a reference released twice finds its slot
/// freed (stale) and drops nobody else's count.</summary>
internal struct CacheHold
{
    public int Generation; // The entry's generation when the reference was taken.
}

/// <summary>Which thread waits for which load, across every cache: a wait that would close a cycle (this thread's load
/// needs a load that, through other threads' waits, needs this thread's) fails instead of hanging.</summary>
internal static class CacheLoadWaits
{
    private static readonly object s_lock = new();
    private static readonly Dictionary<int, CacheEntry> s_waitingFor = [];

    /// <summary>Records that this thread waits for <paramref name="entry"/>'s load, unless that closes a cycle.</summary>
    /// <returns>False (nothing recorded) when the load ends up waiting, through other threads, for this thread.</returns>
    public static bool TryBeginWait(CacheEntry entry)
    {
        int self = Environment.CurrentManagedThreadId;
        lock (s_lock)
        {
            CacheEntry? next = entry;
            for (int steps = 0; next != null && steps <= s_waitingFor.Count; steps++)
            {
                if (Volatile.Read(ref next.State) != CacheEntry.Loading)
                {
                    break; // that load has ended: the chain does not come back here
                }

                int loader = Volatile.Read(ref next.LoaderThread);
                if (loader == self)
                {
                    return false;
                }

                s_waitingFor.TryGetValue(loader, out next);
            }

            s_waitingFor[self] = entry;
            return true;
        }
    }

    /// <summary>This thread no longer waits.</summary>
    public static void EndWait()
    {
        lock (s_lock)
        {
            s_waitingFor.Remove(Environment.CurrentManagedThreadId);
        }
    }
}

/// <summary>The async loads the current flow of execution is inside (innermost first): an async loader's continuations
/// carry it, so a request of that flow for one of these keys is a cycle, not a wait that could never end.</summary>
internal sealed class CacheLoadChain(CacheEntry entry, int generation, CacheLoadChain? outer)
{
    private static readonly AsyncLocal<CacheLoadChain?> s_current = new();

    public CacheEntry Entry { get; } = entry;

    public int Generation { get; } = generation;

    public CacheLoadChain? Outer { get; } = outer;

    /// <summary>The innermost async load of this flow, or null outside every async loader.</summary>
    public static CacheLoadChain? Current
    {
        get => s_current.Value;
        set => s_current.Value = value;
    }

    /// <summary>Whether this flow is inside the load of <paramref name="entry"/>'s current life.</summary>
    public static bool IsInside(CacheEntry entry)
    {
        for (CacheLoadChain? link = s_current.Value; link != null; link = link.Outer)
        {
            if (ReferenceEquals(link.Entry, entry) && link.Generation == Volatile.Read(ref entry.Generation))
            {
                return true;
            }
        }

        return false;
    }
}
