using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

/// <summary>A generational reference to one entry of a <see cref="HandleTable{T}"/>.</summary>
/// <typeparam name="T">The table's entry type; the handle carries it only at compile time.</typeparam>
/// <remarks>
/// <para>An 8-byte value with the same layout as <see cref="ResourceHandle"/>. Copying it copies the reference,
/// not the entry, and does not extend the entry's life.</para>
/// <para>Freeing an entry advances its slot's generation, so every older handle to it becomes stale: checked
/// members return <see cref="ResourceStatus.StaleHandle"/> (or a null reference) and touch nothing.
/// <c>default(Handle&lt;T&gt;)</c> is never valid.</para>
/// <para>Immutable, and therefore safe to share between threads.</para>
/// </remarks>
public readonly struct Handle<T> : IEquatable<Handle<T>>
    where T : unmanaged
{
    private readonly ulong _value; // HandleLayout: generation (high 32) | index (22) | tag (10). 0 is null.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal Handle(ulong value) => _value = value;

    /// <summary>The handle's 64-bit encoding; 0 is the null handle.</summary>
    public ulong RawValue => _value;

    /// <summary>Whether this is the null handle (<see langword="default"/>).</summary>
    public bool IsNull => _value == 0;

    /// <summary>The slot the handle refers to; 0 for the null handle.</summary>
    public int Index => HandleLayout.Index(_value);

    /// <summary>The slot generation the handle was issued with; always odd for an issued handle, 0 for null.</summary>
    public uint Generation => HandleLayout.Generation(_value);

    /// <summary>Identifies the table that issued the handle; 0 for the null handle.</summary>
    internal int Tag => HandleLayout.Tag(_value);

    /// <summary>Rebuilds a handle from <see cref="RawValue"/>; a forged value is reported as stale or foreign, never misread.</summary>
    /// <param name="rawValue">A value read from <see cref="RawValue"/>.</param>
    public static Handle<T> FromRawValue(ulong rawValue) => new(rawValue);

    /// <summary>The untyped view of the same handle.</summary>
    /// <param name="handle">The typed handle.</param>
    public static explicit operator ResourceHandle(Handle<T> handle) => ResourceHandle.FromRawValue(handle._value);

    /// <inheritdoc/>
    public bool Equals(Handle<T> other) => _value == other._value;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Handle<T> other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _value.GetHashCode();

    /// <summary>Formats the handle as <c>Handle&lt;T&gt;(tag:index@generation)</c>, or with <c>(null)</c>.</summary>
    public override string ToString() => HandleLayout.Format($"Handle<{typeof(T).Name}>", _value);

    /// <summary>Whether two handles are the same reference.</summary>
    public static bool operator ==(Handle<T> left, Handle<T> right) => left._value == right._value;

    /// <summary>Whether two handles differ.</summary>
    public static bool operator !=(Handle<T> left, Handle<T> right) => left._value != right._value;
}
