using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

/// <summary>A generational reference to one resource, pool block or arena allocation.</summary>
/// <remarks>
/// <para>An 8-byte value holding the issuer's tag, a slot index and the slot's generation. Copying it copies the
/// reference, not the resource, and does not extend the resource's life.</para>
/// <para>Releasing the resource advances its slot's generation, so every older copy of the handle becomes stale:
/// checked members return <see cref="ResourceStatus.StaleHandle"/> and touch nothing — in every build, not only
/// debug ones. A handle from another live issuer is rejected with an <see cref="ArgumentException"/>.
/// <c>default(ResourceHandle)</c> is the null handle and is never valid.</para>
/// <para>Immutable, and therefore safe to share between threads.</para>
/// </remarks>
public readonly struct ResourceHandle : IEquatable<ResourceHandle>
{
    private readonly ulong _value; // HandleLayout: generation (high 32) | index (22) | tag (10). 0 is null.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ResourceHandle(ulong value) => _value = value;

    /// <summary>The null handle; equal to <see langword="default"/>.</summary>
    public static ResourceHandle Null => default;

    /// <summary>The handle's 64-bit encoding, for storage or the C ABI (<c>fhr_handle</c>).</summary>
    /// <remarks>0 is the null handle. The encoding is stable within a process, not across versions.</remarks>
    public ulong RawValue => _value;

    /// <summary>Whether this is the null handle (<see langword="default"/>).</summary>
    /// <remarks>A non-null handle may still be stale; only its issuer can tell.</remarks>
    public bool IsNull => _value == 0;

    /// <summary>The slot the handle refers to within its issuer; 0 for the null handle.</summary>
    public int Index => HandleLayout.Index(_value);

    /// <summary>The slot generation the handle was issued with; always odd for an issued handle, 0 for null.</summary>
    public uint Generation => HandleLayout.Generation(_value);

    /// <summary>Identifies the table, pool or manager that issued the handle; 0 for the null handle.</summary>
    internal int Tag => HandleLayout.Tag(_value);

    /// <summary>Rebuilds a handle from <see cref="RawValue"/>.</summary>
    /// <param name="rawValue">A value read from <see cref="RawValue"/>, or any value from untrusted input:
    /// issuers validate every handle, so a forged value is reported as stale or foreign, never misread.</param>
    public static ResourceHandle FromRawValue(ulong rawValue) => new(rawValue);

    /// <inheritdoc/>
    public bool Equals(ResourceHandle other) => _value == other._value;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ResourceHandle other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _value.GetHashCode();

    /// <summary>Formats the handle as <c>ResourceHandle(tag:index@generation)</c>, or <c>ResourceHandle(null)</c>.</summary>
    public override string ToString() => HandleLayout.Format(nameof(ResourceHandle), _value);

    /// <summary>Whether two handles are the same reference (same issuer, slot and generation).</summary>
    public static bool operator ==(ResourceHandle left, ResourceHandle right) => left._value == right._value;

    /// <summary>Whether two handles differ in issuer, slot or generation.</summary>
    public static bool operator !=(ResourceHandle left, ResourceHandle right) => left._value != right._value;
}
