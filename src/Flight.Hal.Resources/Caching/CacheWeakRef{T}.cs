namespace Flight.Hal.Resources;

/// <summary>A weak reference to a <see cref="ResourceCache{T}"/> entry: it does not keep the entry resident, and
/// <see cref="TryUpgrade"/> turns it into a strong reference while the entry is still loaded.</summary>
/// <typeparam name="T">The cache's value type.</typeparam>
/// <remarks>It names one entry, not a key: once that entry is unloaded it never upgrades again, not even to a later
/// entry loaded under the same key.</remarks>
public readonly struct CacheWeakRef<T> : IEquatable<CacheWeakRef<T>>
{
    private readonly ResourceCache<T>.Entry? _entry;
    private readonly string? _key;
    private readonly int _generation;

    internal CacheWeakRef(ResourceCache<T>.Entry entry, string key, int generation)
    {
        _entry = entry;
        _key = key;
        _generation = generation;
    }

    /// <summary>Whether this is <see langword="default"/>.</summary>
    public bool IsNull => _entry == null;

    /// <summary>Whether the entry is still loaded (it may be unloaded right after: use <see cref="TryUpgrade"/>).</summary>
    public bool IsAlive => _entry != null && _entry.IsAlive(_generation);

    /// <summary>The key (empty for <see langword="default"/>).</summary>
    public string Key => _key ?? string.Empty;

    /// <summary>Takes a strong reference if the entry is still loaded.</summary>
    /// <param name="reference">The strong reference, or <see langword="default"/>.</param>
    /// <returns>False when the entry was unloaded (or this is <see langword="default"/>, or the cache is disposed or at
    /// its reference limit).</returns>
    public bool TryUpgrade(out CacheRef<T> reference)
    {
        if (_entry == null)
        {
            reference = default;
            return false;
        }

        return _entry.Owner.TryUpgrade(_entry, _generation, out reference);
    }

    /// <inheritdoc/>
    public bool Equals(CacheWeakRef<T> other) => ReferenceEquals(_entry, other._entry) && _generation == other._generation;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is CacheWeakRef<T> other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_entry, _generation);

    /// <inheritdoc/>
    public override string ToString() => _entry == null ? "CacheWeakRef(null)" : $"CacheWeakRef({Key}, {(IsAlive ? "alive" : "gone")})";

    /// <summary>Equality.</summary>
    public static bool operator ==(CacheWeakRef<T> left, CacheWeakRef<T> right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(CacheWeakRef<T> left, CacheWeakRef<T> right) => !left.Equals(right);
}
