namespace Flight.Hal.Resources;

/// <summary>Why a cache entry was unloaded (its native memory released, its value disposed).</summary>
/// <remarks>The first four are evictions of an entry nobody referenced; the others end an entry whatever its count.
/// Values are also the C ABI's codes.</remarks>
public enum CacheUnloadReason
{
    /// <summary>Evicted because the manager asked the cache for memory of a type the entry held (a reclamation
    /// callback, before a request was refused on budget).</summary>
    Reclaimed = 0,

    /// <summary>Evicted because the cache's resident bytes were over <see cref="ResourceCacheOptions{T}.MaxBytes"/>.</summary>
    OverCapacity = 1,

    /// <summary>Evicted because a type the entry held reached <see cref="ResourceCacheOptions{T}.EvictAtPressure"/>.</summary>
    Pressure = 2,

    /// <summary>Unloaded, unreferenced, by <see cref="ResourceCache{T}.UnloadUnused"/> or
    /// <see cref="ResourceCache{T}.Unload(string, bool)"/>.</summary>
    Unused = 3,

    /// <summary>Unloaded by <see cref="ResourceCache{T}.Unload(string, bool)"/> with <c>force</c> while still referenced:
    /// the outstanding references turned stale.</summary>
    Forced = 4,

    /// <summary>A version replaced by a <see cref="CacheMode.Replace"/> load, unloaded when its last holder released it.</summary>
    Replaced = 5,

    /// <summary>A private <see cref="CacheMode.Ignore"/> copy whose last reference was released.</summary>
    Released = 6,

    /// <summary>Unloaded by <see cref="ResourceCache{T}.Dispose"/> (or a load that finished after it).</summary>
    CacheDisposed = 7,
}
