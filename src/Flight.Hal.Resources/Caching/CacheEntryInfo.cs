namespace Flight.Hal.Resources;

/// <summary>One entry of a <see cref="ResourceCache{T}"/>, as <see cref="ResourceCache{T}.CopyEntries"/> reports it.</summary>
/// <param name="Key">The key (the cache's interned string: reading it allocates nothing).</param>
/// <param name="State">Loading, referenced or unreferenced.</param>
/// <param name="RefCount">Strong references outstanding.</param>
/// <param name="Bytes">Native bytes the entry holds (0 while loading).</param>
/// <param name="Priority">Its eviction priority: lower goes first.</param>
/// <param name="LastAccess">The cache's access tick when it was last got or released (larger is more recent).</param>
/// <param name="IsCached">False for a version replaced under its key and for a private <see cref="CacheMode.Ignore"/> copy.</param>
public readonly record struct CacheEntryInfo(
    string Key,
    CacheEntryState State,
    int RefCount,
    long Bytes,
    ResourcePriority Priority,
    long LastAccess,
    bool IsCached);
