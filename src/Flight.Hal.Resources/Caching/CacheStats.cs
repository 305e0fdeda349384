namespace Flight.Hal.Resources;

/// <summary>A snapshot of a <see cref="ResourceCache{T}"/>'s entries and counters.</summary>
/// <param name="Entries">Live entries: cached ones (loading, referenced, unreferenced), replaced versions still held,
/// and private copies.</param>
/// <param name="Referenced">Loaded entries with at least one strong reference.</param>
/// <param name="Unreferenced">Loaded entries nobody references (evictable).</param>
/// <param name="Loading">Entries whose loader is running.</param>
/// <param name="ResidentBytes">Native bytes held by loaded entries.</param>
/// <param name="Hits">Requests served by a loaded entry.</param>
/// <param name="Misses">Requests that had to load (including those that then failed).</param>
/// <param name="Loads">Loads that succeeded.</param>
/// <param name="LoadFailures">Loads that failed (loader threw, returned null, or loaded itself).</param>
/// <param name="Reloads">Successful <see cref="CacheMode.Replace"/> loads that replaced a cached version.</param>
/// <param name="Reclaimed">Entries evicted for the manager (<see cref="CacheUnloadReason.Reclaimed"/>).</param>
/// <param name="EvictedOverCapacity">Entries evicted for <see cref="ResourceCacheOptions{T}.MaxBytes"/>.</param>
/// <param name="EvictedByPressure">Entries evicted for <see cref="ResourceCacheOptions{T}.EvictAtPressure"/>.</param>
/// <param name="UnloadedUnused">Unreferenced entries unloaded on request (<see cref="CacheUnloadReason.Unused"/>).</param>
/// <param name="ForcedUnloads">Referenced entries unloaded by force.</param>
/// <param name="Unloads">Entries unloaded for any reason.</param>
public readonly record struct CacheStats(
    int Entries,
    int Referenced,
    int Unreferenced,
    int Loading,
    long ResidentBytes,
    long Hits,
    long Misses,
    long Loads,
    long LoadFailures,
    long Reloads,
    long Reclaimed,
    long EvictedOverCapacity,
    long EvictedByPressure,
    long UnloadedUnused,
    long ForcedUnloads,
    long Unloads)
{
    /// <summary>Entries evicted while unreferenced, for any of the four eviction reasons.</summary>
    public long Evictions => Reclaimed + EvictedOverCapacity + EvictedByPressure + UnloadedUnused;
}
