namespace Flight.Hal.Resources;

/// <summary>What a cache tells a diagnostics snapshot about itself, whatever its value type.</summary>
internal interface ICacheReport
{
    /// <summary>The cache's name.</summary>
    string Name { get; }

    /// <summary>The owner its memory is charged to.</summary>
    ResourceOwner Owner { get; }

    /// <summary>Its counters.</summary>
    CacheStats GetStats();
}

/// <summary>The caches alive over one manager, kept as the manager's attachment (created on first use, dropped with
/// it): a cache adds itself when created and removes itself when disposed, so that a snapshot of the manager lists
/// them. Thread-safe.</summary>
internal sealed class CacheDirectory : IDisposable
{
    private readonly List<ICacheReport> _caches = [];

    /// <summary>The directory of <paramref name="manager"/>.</summary>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public static CacheDirectory Of(ResourceManager manager) => manager.GetOrAddAttachment(static _ => new CacheDirectory());

    /// <summary>Takes <paramref name="cache"/> off its manager's directory; nothing to do once the manager is disposed
    /// (the directory went with it).</summary>
    public static void Unlist(ResourceManager manager, ICacheReport cache)
    {
        try
        {
            Of(manager).Remove(cache);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Add(ICacheReport cache)
    {
        lock (_caches)
        {
            _caches.Add(cache);
        }
    }

    public void Remove(ICacheReport cache)
    {
        lock (_caches)
        {
            _caches.Remove(cache);
        }
    }

    /// <summary>The caches alive now, in creation order.</summary>
    public ICacheReport[] ToArray()
    {
        lock (_caches)
        {
            return [.. _caches];
        }
    }

    public void Dispose()
    {
        lock (_caches)
        {
            _caches.Clear();
        }
    }
}
