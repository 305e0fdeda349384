namespace Flight.Hal.Resources;

/// <summary>Behaviour and placement flags of a resource.</summary>
/// <remarks>Values are also the C ABI's <c>FHR_FLAG_*</c> bits; the first eight match the Flight HAL design's.</remarks>
[Flags]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "The Flight HAL design's name for this type.")]
public enum ResourceFlags
{
    /// <summary>No flags.</summary>
    None = 0,

    /// <summary>Other owners may be given their own handle to the resource.</summary>
    Shareable = 0x01,

    /// <summary>Only its owner may use the resource; it cannot be shared.</summary>
    Exclusive = 0x02,

    /// <summary>The resource outlives transient scopes (it is not released with a frame).</summary>
    Persistent = 0x04,

    /// <summary>The resource's contents may be cached and evicted when unused.</summary>
    Cacheable = 0x08,

    /// <summary>The GPU reads the resource: placed in video RAM where the platform has it.</summary>
    GpuAccessible = 0x10,

    /// <summary>The resource is a DMA source or target.</summary>
    DmaCapable = 0x20,

    /// <summary>The resource is memory-mapped.</summary>
    MemoryMapped = 0x40,

    /// <summary>Access to the resource must be synchronised.</summary>
    Synchronized = 0x80,

    /// <summary>The sound processor reads the resource: placed in sound RAM where the platform has it.</summary>
    AudioAccessible = 0x100,
}
