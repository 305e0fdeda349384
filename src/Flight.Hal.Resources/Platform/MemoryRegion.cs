namespace Flight.Hal.Resources;

/// <summary>One memory region of a <see cref="PlatformProfile"/>: its size and the rules every allocation in it follows.</summary>
/// <remarks>Immutable and thread-safe. <see cref="Validate"/> checks the values (the profile's constructor calls it).</remarks>
public sealed record MemoryRegion
{
    /// <summary>A short name, unique within the profile ("main", "video", "sound").</summary>
    public required string Name { get; init; }

    /// <summary>What the region is for.</summary>
    public required RegionKind Kind { get; init; }

    /// <summary>Bytes, including <see cref="ReservedStart"/>.</summary>
    public required long Size { get; init; }

    /// <summary>Every allocation starts at a multiple of this (a power of two). Default 16.</summary>
    public int MinAlignment { get; init; } = 16;

    /// <summary>Every allocation's size is rounded up to a multiple of this (a power of two). Default 16.</summary>
    public int Granularity { get; init; } = 16;

    /// <summary>Bytes at the start of the region that belong to the system (a sound driver, a kernel).</summary>
    public long ReservedStart { get; init; }

    /// <summary>Where allocations come from.</summary>
    public RegionBacking Backing { get; init; } = RegionBacking.Arena;

    /// <summary>The configuration of an <see cref="Arena"/> that models this region.</summary>
    /// <param name="threadSafe">Whether the arena should be usable from several threads.</param>
    /// <returns>The arena configuration.</returns>
    public ArenaConfig ToArenaConfig(bool threadSafe = false) => new()
    {
        Size = Size,
        MinAlignment = MinAlignment,
        Granularity = Granularity,
        ReservedStart = ReservedStart,
        ThreadSafe = threadSafe,
        Name = Name,
    };

    /// <summary>Throws if a value is out of range.</summary>
    /// <exception cref="ArgumentException">The name is empty, or a value is out of range.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException("A region needs a name.", nameof(Name));
        }

        if (!Enum.IsDefined(Kind) || !Enum.IsDefined(Backing))
        {
            throw new ArgumentException($"Region '{Name}' has an unknown kind or backing.", nameof(Kind));
        }

        try
        {
            ToArenaConfig().Validate();
        }
        catch (ArgumentException exception)
        {
            throw new ArgumentException($"Region '{Name}': {exception.Message}", exception.ParamName, exception);
        }
    }
}
