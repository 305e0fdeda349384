namespace Flight.Hal.Resources;

/// <summary>Settings of one <see cref="ResourceCache{T}"/>.</summary>
/// <typeparam name="T">The cache's value type.</typeparam>
public sealed class ResourceCacheOptions<T>
{
    /// <summary>The cache's name, in errors and diagnostics; also names its default owner (<c>cache:Name</c>).</summary>
    public string Name { get; init; } = typeof(T).Name;

    /// <summary>The owner its entries' memory is charged to; by default the manager's owner <c>cache:Name</c>.</summary>
    public ResourceOwner Owner { get; init; }

    /// <summary>The most native bytes the cache keeps resident. Past it, unreferenced entries are evicted (lowest
    /// priority, then least recently used) until it fits; referenced entries are never evicted, so the resident bytes
    /// can stay above it while they are held. Default: no cap.</summary>
    public long MaxBytes { get; init; } = long.MaxValue;

    /// <summary>When a type the cache holds reaches this pressure level, unreferenced entries holding that type are
    /// evicted until the level falls below it or none is left. Default: null (pressure evicts nothing; the manager's
    /// reclamation requests still do).</summary>
    public ResourcePressure? EvictAtPressure { get; init; }

    /// <summary>The most strong references (<see cref="CacheRef{T}"/>) outstanding at once. Default 65,536.</summary>
    public int MaxReferences { get; init; } = 65_536;

    /// <summary>The most asynchronous loads (<see cref="ResourceCache{T}.LoadAsync"/>) running at once; further ones wait
    /// in a queue, highest priority first, then in request order. Synchronous loads run on their caller's thread and are
    /// not counted. Default 4.</summary>
    public int MaxConcurrentLoads { get; init; } = 4;

    /// <summary>Whether a value that is <see cref="IDisposable"/> is disposed when its entry is unloaded. Default true.</summary>
    public bool DisposeValues { get; init; } = true;

    /// <summary>Called once per loaded entry, after its loader returned and before anyone else can see it; outside the
    /// cache's lock. An exception is reported through <see cref="ResourceCache{T}.CallbackFaulted"/> and the entry
    /// loads anyway.</summary>
    public Action<string, T>? OnLoaded { get; init; }

    /// <summary>Called once per unloaded entry (never for a failed load), with the reason, before its value is disposed
    /// and its memory released; outside the cache's lock. An exception is reported through
    /// <see cref="ResourceCache{T}.CallbackFaulted"/> and the entry unloads anyway.</summary>
    public Action<string, T, CacheUnloadReason>? OnUnloaded { get; init; }
}
