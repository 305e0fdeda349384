namespace Flight.Hal.Resources;

/// <summary>A resource's type, priority and access pattern in one byte, as the manager's registry entries and pooled
/// records store them: type in bits 0-2, priority in 3-4, access pattern in 5-7. The one encode and decode.</summary>
internal readonly struct PackedMeta
{
    private readonly byte _value;

    /// <summary>Packs the three values (each within its enum's range, as validated <see cref="ResourceMetadata"/> is).</summary>
    public PackedMeta(ResourceType type, ResourcePriority priority, AccessPattern access) =>
        _value = (byte)((int)type | ((int)priority << 3) | ((int)access << 5));

    public ResourceType Type => (ResourceType)(_value & 7);

    public ResourcePriority Priority => (ResourcePriority)((_value >> 3) & 3);

    public AccessPattern Access => (AccessPattern)(_value >> 5);
}
