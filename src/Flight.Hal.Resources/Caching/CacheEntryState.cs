namespace Flight.Hal.Resources;

/// <summary>Where a cache entry is in its life.</summary>
public enum CacheEntryState
{
    /// <summary>Its loader is running.</summary>
    Loading = 0,

    /// <summary>Loaded and referenced by at least one <see cref="CacheRef{T}"/>.</summary>
    Referenced = 1,

    /// <summary>Loaded and referenced by nobody: resident until evicted.</summary>
    Unreferenced = 2,
}
