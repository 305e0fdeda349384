using System.Numerics;

namespace Flight.Hal.Resources;

/// <summary>What a resource is: its type, size, alignment, access pattern, priority and flags.</summary>
/// <remarks>A small immutable value, validated by its constructor; safe to share between threads.</remarks>
public readonly record struct ResourceMetadata
{
    /// <summary>Largest alignment a resource may ask for (64 KiB, as <see cref="ArenaConfig.MaxAlignment"/>).</summary>
    public const int MaxAlignment = ArenaConfig.MaxAlignment;

    /// <summary>Describes a resource.</summary>
    /// <param name="type">Its resource type (whose budget it counts against).</param>
    /// <param name="size">Bytes, at least 1.</param>
    /// <param name="alignment">0 for the region's own alignment, or a power of two up to <see cref="MaxAlignment"/>.</param>
    /// <param name="flags">Behaviour and placement flags; <see cref="ResourceFlags.Shareable"/> and
    /// <see cref="ResourceFlags.Exclusive"/> exclude each other, as do GPU and audio placement.</param>
    /// <param name="accessPattern">How it will be accessed.</param>
    /// <param name="priority">How important it is when memory is short.</param>
    /// <exception cref="ArgumentOutOfRangeException">An enum value is unknown, or the size is not positive.</exception>
    /// <exception cref="ArgumentException">The alignment is not 0 or a power of two up to <see cref="MaxAlignment"/>, or
    /// the flags contradict each other.</exception>
    public ResourceMetadata(
        ResourceType type,
        long size,
        int alignment = 0,
        ResourceFlags flags = ResourceFlags.None,
        AccessPattern accessPattern = AccessPattern.ReadWrite,
        ResourcePriority priority = ResourcePriority.Normal)
    {
        if (!ResourceTypes.IsDefined(type))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown resource type.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        if (alignment < 0 || (alignment != 0 && !BitOperations.IsPow2(alignment)) || alignment > MaxAlignment)
        {
            throw new ArgumentException($"Alignment {alignment} must be 0 or a power of two up to {MaxAlignment}.", nameof(alignment));
        }

        if ((flags & ~AllFlags) != 0)
        {
            throw new ArgumentException($"Unknown flags 0x{(int)(flags & ~AllFlags):x}.", nameof(flags));
        }

        if ((flags & (ResourceFlags.Shareable | ResourceFlags.Exclusive)) == (ResourceFlags.Shareable | ResourceFlags.Exclusive))
        {
            throw new ArgumentException("A resource cannot be both Shareable and Exclusive.", nameof(flags));
        }

        if ((flags & (ResourceFlags.GpuAccessible | ResourceFlags.AudioAccessible)) == (ResourceFlags.GpuAccessible | ResourceFlags.AudioAccessible))
        {
            throw new ArgumentException("A resource is placed for the GPU or for the sound processor, not both.", nameof(flags));
        }

        if ((uint)accessPattern > (uint)AccessPattern.Random)
        {
            throw new ArgumentOutOfRangeException(nameof(accessPattern), accessPattern, "Unknown access pattern.");
        }

        if ((uint)priority > (uint)ResourcePriority.Critical)
        {
            throw new ArgumentOutOfRangeException(nameof(priority), priority, "Unknown priority.");
        }

        Type = type;
        Size = size;
        Alignment = alignment;
        Flags = flags;
        AccessPattern = accessPattern;
        Priority = priority;
    }

    /// <summary>The resource type whose budget the resource counts against.</summary>
    public ResourceType Type { get; }

    /// <summary>Bytes.</summary>
    public long Size { get; }

    /// <summary>0 for the region's own alignment, else a power of two.</summary>
    public int Alignment { get; }

    /// <summary>Behaviour and placement flags.</summary>
    public ResourceFlags Flags { get; }

    /// <summary>How the resource will be accessed.</summary>
    public AccessPattern AccessPattern { get; }

    /// <summary>How important the resource is when memory is short.</summary>
    public ResourcePriority Priority { get; }

    /// <summary>Whether <see cref="ResourceFlags.Shareable"/> is set.</summary>
    public bool IsShareable => (Flags & ResourceFlags.Shareable) != 0;

    /// <summary>The kind of region the resource belongs in: <see cref="RegionKind.Video"/> for GPU-accessible,
    /// <see cref="RegionKind.Sound"/> for audio-accessible, else <see cref="RegionKind.Main"/>. A platform without that
    /// region places it in main RAM.</summary>
    public RegionKind PreferredRegion =>
        (Flags & ResourceFlags.GpuAccessible) != 0 ? RegionKind.Video
        : (Flags & ResourceFlags.AudioAccessible) != 0 ? RegionKind.Sound
        : RegionKind.Main;

    private static ResourceFlags AllFlags =>
        ResourceFlags.Shareable | ResourceFlags.Exclusive | ResourceFlags.Persistent | ResourceFlags.Cacheable |
        ResourceFlags.GpuAccessible | ResourceFlags.DmaCapable | ResourceFlags.MemoryMapped | ResourceFlags.Synchronized |
        ResourceFlags.AudioAccessible;
}
