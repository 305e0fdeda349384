namespace Flight.Hal.Resources;

/// <summary>Which cache callback threw.</summary>
public enum CacheCallbackKind
{
    /// <summary><see cref="ResourceCacheOptions{T}.OnLoaded"/>.</summary>
    Loaded = 0,

    /// <summary><see cref="ResourceCacheOptions{T}.OnUnloaded"/>.</summary>
    Unloaded = 1,

    /// <summary>The value's <see cref="IDisposable.Dispose"/>.</summary>
    DisposeValue = 2,

    /// <summary>A callback an async loader registered on its cancellation token, run when the load was cancelled (every
    /// request gave up, or the cache was disposed).</summary>
    CancellationCallback = 3,
}
