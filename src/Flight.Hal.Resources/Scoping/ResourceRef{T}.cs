using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Flight.Hal.Resources;

/// <summary>An owning reference to one <typeparamref name="T"/> in a <see cref="ResourceManager"/>'s memory: a struct that
/// can live in a field, with <c>ref T</c> access, released by <see cref="Dispose"/>.</summary>
/// <typeparam name="T">An unmanaged type.</typeparam>
/// <remarks>
/// <para>16 bytes: the manager and the handle. Copies are safe: every copy refers through the same handle, so after the
/// first <see cref="Dispose"/> the others meet a stale generation and do nothing — never a double free, even once the
/// memory has been reused.</para>
/// <para>The value is aligned to at least 8 bytes and cleared when acquired. Instances are immutable; using one from
/// several threads is as safe as using its handle with the manager.</para>
/// </remarks>
public readonly struct ResourceRef<T> : IDisposable, IEquatable<ResourceRef<T>>
    where T : unmanaged
{
    private readonly ResourceManager? _manager;
    private readonly ResourceHandle _handle;

    internal ResourceRef(ResourceManager manager, ResourceHandle handle)
    {
        _manager = manager;
        _handle = handle;
    }

    /// <summary>The handle behind the reference.</summary>
    public ResourceHandle Handle => _handle;

    /// <summary>The manager that issued it, or null for <see langword="default"/>.</summary>
    public ResourceManager? Manager => _manager;

    /// <summary>Whether this is <see langword="default"/> (refers to nothing).</summary>
    public bool IsNull => _manager == null;

    /// <summary>Whether the resource is still alive (not released, manager not disposed).</summary>
    public bool IsAlive => _manager != null && _manager.Contains(_handle);

    /// <summary>The value.</summary>
    /// <exception cref="ResourceException">The resource was released (<see cref="ResourceStatus.StaleHandle"/>) or this
    /// is <see langword="default"/> (<see cref="ResourceStatus.InvalidHandle"/>).</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public ref T Value
    {
        get
        {
            if (_manager == null)
            {
                ThrowHelper.ThrowResourceException(ResourceStatus.InvalidHandle);
            }

            ThrowHelper.ThrowIfFailed(_manager.TryResolve(_handle, out nint address, out _));
            return ref NativeView.AsRef<T>(address);
        }
    }

    /// <summary>A reference to the value, or a null reference when the resource is not alive.</summary>
    /// <returns>Test it with <see cref="Unsafe.IsNullRef{T}(ref readonly T)"/>.</returns>
    public ref T GetValueRefOrNullRef()
    {
        if (_manager == null || _manager.IsDisposed || _manager.TryResolve(_handle, out nint address, out _) != ResourceStatus.Ok)
        {
            return ref Unsafe.NullRef<T>();
        }

        return ref NativeView.AsRef<T>(address);
    }

    /// <summary>The resource's bytes as <typeparamref name="T"/>s (one for a single value; more when acquired as an array).</summary>
    /// <returns>The values, or empty when the resource is not alive.</returns>
    public Span<T> AsSpan() =>
        _manager == null || _manager.IsDisposed ? default : MemoryMarshal.Cast<byte, T>(_manager.Resolve(_handle));

    /// <summary>Releases the resource.</summary>
    /// <returns>As <see cref="ResourceManager.Release(ResourceHandle)"/>; <see cref="ResourceStatus.InvalidHandle"/> for
    /// <see langword="default"/>; <see cref="ResourceStatus.StaleHandle"/> once the manager is disposed.</returns>
    public ResourceStatus Release() =>
        _manager == null ? ResourceStatus.InvalidHandle
        : _manager.IsDisposed ? ResourceStatus.StaleHandle
        : _manager.Release(_handle);

    /// <summary>Releases the resource if it is still alive; does nothing otherwise (a copy disposed already, a disposed
    /// manager, <see langword="default"/>).</summary>
    public void Dispose() => Release();

    /// <inheritdoc/>
    public bool Equals(ResourceRef<T> other) => ReferenceEquals(_manager, other._manager) && _handle == other._handle;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ResourceRef<T> other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _handle.GetHashCode();

    /// <inheritdoc/>
    public override string ToString() => $"ResourceRef<{typeof(T).Name}>({_handle})";

    /// <summary>Equality.</summary>
    public static bool operator ==(ResourceRef<T> left, ResourceRef<T> right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(ResourceRef<T> left, ResourceRef<T> right) => !left.Equals(right);
}
