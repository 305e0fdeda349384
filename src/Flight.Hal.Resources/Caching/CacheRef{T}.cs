namespace Flight.Hal.Resources;

/// <summary>A strong, counted reference to a loaded <see cref="ResourceCache{T}"/> entry: while one is outstanding the
/// entry is never evicted. Release it with <see cref="Dispose"/> (or <see cref="Release"/>).</summary>
/// <typeparam name="T">The cache's value type.</typeparam>
/// <remarks>
/// <para>A small struct (the entry, its key, the reference's own record and the entry's generation). Copies are safe: each
/// <see cref="ResourceCache{T}.GetOrLoad(string, CacheLoader{T}, ResourcePriority, CacheMode)"/>, <see cref="AddRef"/> or
/// <see cref="CacheWeakRef{T}.TryUpgrade"/> issues its own record, and releasing a copy of an already released reference
/// finds that record gone (<see cref="ResourceStatus.StaleHandle"/>) and drops nobody else's count.</para>
/// <para>A reference whose entry was unloaded by force (<see cref="ResourceCache{T}.Unload(string, bool)"/>) or whose
/// cache was disposed is stale: <see cref="Value"/> throws a <see cref="ResourceException"/> with
/// <see cref="ResourceStatus.StaleHandle"/>, <see cref="TryGetValue"/> returns false.</para>
/// </remarks>
public readonly struct CacheRef<T> : IDisposable, IEquatable<CacheRef<T>>
{
    private readonly ResourceCache<T>.Entry? _entry;
    private readonly string? _key;       // kept: the entry object is recycled for other keys once unloaded
    private readonly Handle<CacheHold> _hold;
    private readonly int _generation;

    internal CacheRef(ResourceCache<T>.Entry entry, Handle<CacheHold> hold, int generation)
    {
        _entry = entry;
        _key = entry.Key;
        _hold = hold;
        _generation = generation;
    }

    /// <summary>Whether this is <see langword="default"/> (refers to nothing).</summary>
    public bool IsNull => _entry == null;

    /// <summary>Whether the entry is still loaded under this reference's generation (it may have been released since
    /// through another copy: use each reference once).</summary>
    public bool IsAlive => _entry != null && _entry.IsAlive(_generation);

    /// <summary>The key (readable even when stale; empty for <see langword="default"/>).</summary>
    public string Key => _key ?? string.Empty;

    /// <summary>The cache this reference belongs to, or null for <see langword="default"/>.</summary>
    public ResourceCache<T>? Cache => _entry?.Owner;

    /// <summary>The loaded value.</summary>
    /// <exception cref="ResourceException"><see cref="ResourceStatus.StaleHandle"/>: the entry was unloaded by force or
    /// its cache disposed; <see cref="ResourceStatus.InvalidHandle"/>: this is <see langword="default"/>.</exception>
    public T Value
    {
        get
        {
            if (_entry == null)
            {
                ThrowHelper.ThrowResourceException(ResourceStatus.InvalidHandle);
            }

            if (!_entry.TryGetValue(_generation, out T value))
            {
                throw new ResourceException(
                    ResourceStatus.StaleHandle,
                    $"The cache entry '{_key}' this reference held was unloaded (by force, or its cache was disposed).");
            }

            return value;
        }
    }

    /// <summary>The value, if the entry is still loaded.</summary>
    /// <param name="value">The value, or <see langword="default"/>.</param>
    /// <returns>False when the reference is stale or <see langword="default"/>.</returns>
    public bool TryGetValue(out T value)
    {
        if (_entry == null)
        {
            value = default!;
            return false;
        }

        return _entry.TryGetValue(_generation, out value);
    }

    /// <summary>The native memory the loader acquired, in the order it acquired it (empty when stale).</summary>
    /// <param name="destination">Where to copy the handles.</param>
    /// <returns>How many handles the entry holds (more than copied when <paramref name="destination"/> is short).</returns>
    public int GetResources(Span<ResourceHandle> destination) => _entry?.Owner.CopyResources(_entry, _generation, destination) ?? 0;

    /// <summary>Takes another strong reference to the same entry (its own record: release each once).</summary>
    /// <returns>The new reference.</returns>
    /// <exception cref="ResourceException">This reference is stale (<see cref="ResourceStatus.StaleHandle"/>) or
    /// <see langword="default"/> (<see cref="ResourceStatus.InvalidHandle"/>); the cache is at
    /// <see cref="ResourceCacheOptions{T}.MaxReferences"/> (<see cref="ResourceStatus.CapacityExceeded"/>).</exception>
    public CacheRef<T> AddRef()
    {
        if (_entry == null)
        {
            ThrowHelper.ThrowResourceException(ResourceStatus.InvalidHandle);
        }

        return _entry.Owner.AddRef(_entry, _hold, _generation);
    }

    /// <summary>A weak reference to the same entry: it does not keep the entry resident.</summary>
    /// <returns>The weak reference (stale at once if this one is).</returns>
    public CacheWeakRef<T> ToWeak() => _entry == null ? default : new CacheWeakRef<T>(_entry, _key!, _generation);

    /// <summary>Releases this reference. When the entry's count reaches zero it stays resident, unreferenced, until
    /// evicted (a replaced version or private copy is unloaded at once).</summary>
    /// <returns><see cref="ResourceStatus.Ok"/>; <see cref="ResourceStatus.StaleHandle"/> when this reference (or a copy
    /// of it) was released already, its entry was unloaded by force or its cache disposed (nothing changes);
    /// <see cref="ResourceStatus.InvalidHandle"/> for <see langword="default"/>.</returns>
    public ResourceStatus Release() => _entry == null ? ResourceStatus.InvalidHandle : _entry.Owner.Release(_entry, _hold, _generation);

    /// <summary>Releases this reference if it is still outstanding; does nothing otherwise.</summary>
    public void Dispose() => Release();

    internal CacheDependency AsDependency() => new(_entry!, _hold, _generation);

    /// <inheritdoc/>
    public bool Equals(CacheRef<T> other) => ReferenceEquals(_entry, other._entry) && _hold == other._hold && _generation == other._generation;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is CacheRef<T> other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _hold.GetHashCode();

    /// <inheritdoc/>
    public override string ToString() => _entry == null ? "CacheRef(null)" : $"CacheRef({Key}, {(IsAlive ? "alive" : "stale")})";

    /// <summary>Equality.</summary>
    public static bool operator ==(CacheRef<T> left, CacheRef<T> right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(CacheRef<T> left, CacheRef<T> right) => !left.Equals(right);
}
