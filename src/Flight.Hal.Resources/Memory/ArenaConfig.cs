using System.Numerics;

namespace Flight.Hal.Resources;

/// <summary>How an <see cref="Arena"/> is shaped: its region size, alignment unit, reserved start and limits.</summary>
/// <remarks>Plain settings; <see cref="Validate"/> (called by the arena's constructor) rejects bad ones with an exception.</remarks>
public sealed record ArenaConfig
{
    /// <summary>Largest alignment a request may ask for (64 KiB); the region itself is aligned to it.</summary>
    public const int MaxAlignment = 64 * 1024;

    /// <summary>Largest region (1 TiB).</summary>
    public const long MaxSize = 1L << 40;

    /// <summary>Region bytes, including <see cref="ReservedStart"/>; 1 to <see cref="MaxSize"/>.</summary>
    public long Size { get; init; }

    /// <summary>Every allocation starts at a multiple of this (a power of two up to <see cref="MaxAlignment"/>);
    /// default 16. The Dreamcast's video RAM uses 32.</summary>
    public int MinAlignment { get; init; } = 16;

    /// <summary>Every allocation's size is rounded up to a multiple of this (a power of two up to
    /// <see cref="MaxAlignment"/>); default 16. The Dreamcast's sound RAM uses 32.</summary>
    public int Granularity { get; init; } = 16;

    /// <summary>Bytes at the start of the region that are never allocated (the Dreamcast's sound driver owns the first
    /// 0x30000 bytes of sound RAM). Rounded up to <see cref="Unit"/>; must leave room for one allocation.</summary>
    public long ReservedStart { get; init; }

    /// <summary>The most live allocations at once, 1 to <see cref="HandleTable{T}.MaxCapacity"/>; 0 (default) picks
    /// <c>clamp(Size / 256, 1024, 65536)</c>. Bounds the arena's own bookkeeping.</summary>
    public int MaxAllocations { get; init; }

    /// <summary>Whether the arena may be used by several threads at once (each operation holds a short spin lock).</summary>
    public bool ThreadSafe { get; init; }

    /// <summary>An optional name for statistics and reports.</summary>
    public string? Name { get; init; }

    /// <summary>The arena's allocation unit: <c>max(MinAlignment, Granularity, 8)</c>. Offsets and sizes are multiples of it.</summary>
    public int Unit => Math.Max(8, Math.Max(MinAlignment, Granularity));

    /// <summary>The live-allocation bound the arena will use.</summary>
    public int EffectiveMaxAllocations => MaxAllocations > 0
        ? MaxAllocations
        : (int)Math.Clamp(Size / 256, 1024, 65536);

    /// <summary>Throws if any setting is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size, count or reserved start is out of range.</exception>
    /// <exception cref="ArgumentException">An alignment or the granularity is not a power of two.</exception>
    public void Validate()
    {
        if (Size < 1 || Size > MaxSize)
        {
            throw new ArgumentOutOfRangeException(nameof(Size), Size, $"Region size must be 1 to {MaxSize} bytes.");
        }

        if (MinAlignment < 1 || !BitOperations.IsPow2(MinAlignment) || MinAlignment > MaxAlignment)
        {
            throw new ArgumentException($"MinAlignment {MinAlignment} must be a power of two up to {MaxAlignment}.", nameof(MinAlignment));
        }

        if (Granularity < 1 || !BitOperations.IsPow2(Granularity) || Granularity > MaxAlignment)
        {
            throw new ArgumentException($"Granularity {Granularity} must be a power of two up to {MaxAlignment}.", nameof(Granularity));
        }

        // ReservedStart is compared with Size before any rounding, so the rounding below cannot overflow.
        if (ReservedStart < 0 || ReservedStart >= Size || RoundUp(ReservedStart, Unit) + Unit > RoundDown(Size, Unit))
        {
            throw new ArgumentOutOfRangeException(nameof(ReservedStart), ReservedStart, "The reserved start must leave room for at least one allocation.");
        }

        if (MaxAllocations < 0 || MaxAllocations > HandleTable<int>.MaxCapacity)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxAllocations), MaxAllocations, $"MaxAllocations must be 0 (automatic) to {HandleTable<int>.MaxCapacity}.");
        }
    }

    internal static long RoundUp(long value, long unit) => (value + unit - 1) & ~(unit - 1);

    internal static long RoundDown(long value, long unit) => value & ~(unit - 1);
}
