namespace Flight.Hal.Resources;

/// <summary>Where the load of a key stands, for a loading screen.</summary>
public enum CacheLoadState
{
    /// <summary>Not cached and not loading (never requested, unloaded, or its load failed).</summary>
    NotFound = 0,

    /// <summary>An asynchronous load waiting for a slot (<see cref="ResourceCacheOptions{T}.MaxConcurrentLoads"/>).</summary>
    Queued = 1,

    /// <summary>Its loader is running.</summary>
    Loading = 2,

    /// <summary>Loaded: a request now is a hit.</summary>
    Loaded = 3,
}
