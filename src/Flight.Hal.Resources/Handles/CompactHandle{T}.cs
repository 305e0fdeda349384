using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

/// <summary>A 4-byte generational reference to one entry of a compact <see cref="HandleTable{T}"/> (created with
/// <c>compact: true</c>): half a <see cref="Handle{T}"/>, for tables of references on machines that address 32 bits, or
/// for packing handles into GPU-side structures.</summary>
/// <typeparam name="T">The table's entry type.</typeparam>
/// <remarks>
/// <code>
///  31          20 19                  0
/// +--------------+---------------------+
/// |  generation  |     slot index      |
/// +--------------+---------------------+
/// </code>
/// <para><b>What it keeps.</b> Stale handles are detected exactly as with the 8-byte form, and a key never repeats: the
/// generation counts a slot's entries (1, 3, … 4,095: live generations are odd), and a slot whose entry is freed at
/// generation 4,095 is retired, never reused, as the 8-byte form does at its 32-bit wrap.</para>
/// <para><b>What it costs.</b> Capacity erodes: each slot holds at most 2,048 entries in its life, so a table that
/// allocates and frees <c>F</c> entries over its life retires about <c>F / 2,048</c> slots (<see cref="HandleTable{T}.RetiredCount"/>).
/// The free list reuses the most recently freed slot first, so churn wears out few slots at a time: one allocate/free
/// pair a frame at 60 frames a second retires its slot after 34 s; 1,000 pairs a frame (60,000 a second) retire about
/// 29 slots a second, so a full-size table (1,048,575 slots) lasts about ten hours of that, a 65,536-slot one about 38
/// minutes. Size such a table for its churn, or recreate it between levels (a new table starts afresh). And there is no tag: a compact handle does not say
/// which table issued it, so one from another table is caught only if its slot and generation do not match here — keep
/// compact handles beside the table they came from. Capacity is at most <see cref="MaxCapacity"/> (1,048,575).</para>
/// <para><c>default(CompactHandle&lt;T&gt;)</c> is never valid. Immutable, and therefore safe to share between threads.</para>
/// </remarks>
public readonly struct CompactHandle<T> : IEquatable<CompactHandle<T>>
    where T : unmanaged
{
    /// <summary>Bits of the slot index.</summary>
    public const int IndexBits = 20;

    /// <summary>The largest capacity of a compact table: 1,048,575 slots.</summary>
    public const int MaxCapacity = (1 << IndexBits) - 1;

    /// <summary>The last generation a compact handle can hold (odd: live).</summary>
    public const int MaxGeneration = (1 << (32 - IndexBits)) - 1;

    private const uint IndexMask = (1u << IndexBits) - 1;

    private readonly uint _value; // generation (12) | index (20); 0 is null (live generations are odd).

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal CompactHandle(int index, uint generation) => _value = (generation << IndexBits) | (uint)index;

    private CompactHandle(uint value) => _value = value;

    /// <summary>The handle's 32-bit encoding; 0 is the null handle.</summary>
    public uint RawValue => _value;

    /// <summary>Whether this is the null handle (<see langword="default"/>).</summary>
    public bool IsNull => _value == 0;

    /// <summary>The slot the handle refers to.</summary>
    public int Index => (int)(_value & IndexMask);

    /// <summary>The slot's generation, counted from the table's first: 1, 3, … 4,095 for an issued handle; 0 for null.</summary>
    public uint Generation => _value >> IndexBits;

    /// <summary>Rebuilds a handle from <see cref="RawValue"/>; a forged value is reported as stale or invalid by the
    /// table, never misread as a free slot.</summary>
    /// <param name="rawValue">A value read from <see cref="RawValue"/>.</param>
    /// <returns>The handle.</returns>
    public static CompactHandle<T> FromRawValue(uint rawValue) => new(rawValue);

    /// <inheritdoc/>
    public bool Equals(CompactHandle<T> other) => _value == other._value;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is CompactHandle<T> other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => (int)_value;

    /// <summary>Formats the handle as <c>CompactHandle&lt;T&gt;(index@generation)</c>, or with <c>(null)</c>.</summary>
    public override string ToString() =>
        _value == 0 ? $"CompactHandle<{typeof(T).Name}>(null)" : $"CompactHandle<{typeof(T).Name}>({Index}@{Generation})";

    /// <summary>Whether two handles are the same reference.</summary>
    public static bool operator ==(CompactHandle<T> left, CompactHandle<T> right) => left._value == right._value;

    /// <summary>Whether two handles differ.</summary>
    public static bool operator !=(CompactHandle<T> left, CompactHandle<T> right) => left._value != right._value;
}
