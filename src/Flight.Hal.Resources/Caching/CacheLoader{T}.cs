namespace Flight.Hal.Resources;

/// <summary>Loads one cache entry: builds its value and acquires its native memory through
/// <paramref name="context"/> (charged to the cache's owner, released when the entry is unloaded).</summary>
/// <typeparam name="T">The cache's value type.</typeparam>
/// <param name="context">The key, and where the memory comes from. Valid only until the loader returns.</param>
/// <returns>The value; null (for a reference type) fails the load.</returns>
/// <remarks>Runs on the requesting thread, outside the cache's lock. An exception fails the load: everything acquired
/// through the context is released and the exception reaches the caller inside a <see cref="CacheLoadException"/>.</remarks>
public delegate T CacheLoader<T>(CacheLoadContext context);
