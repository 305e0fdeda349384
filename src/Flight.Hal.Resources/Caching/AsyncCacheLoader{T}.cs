namespace Flight.Hal.Resources;

/// <summary>Loads one cache entry asynchronously: as <see cref="CacheLoader{T}"/>, awaiting I/O or decoding.</summary>
/// <typeparam name="T">The cache's value type.</typeparam>
/// <param name="context">The key, where the memory comes from, and where to report progress. Valid until the returned
/// task completes.</param>
/// <param name="cancellationToken">Cancelled when every request waiting for this load has been cancelled, or the cache
/// is disposed: stop, and throw <see cref="OperationCanceledException"/>. What was acquired is released.</param>
/// <returns>The value; null (for a reference type) fails the load.</returns>
public delegate ValueTask<T> AsyncCacheLoader<T>(CacheLoadContext context, CancellationToken cancellationToken);
