namespace Flight.Hal.Resources.Tests.Management;

public class ResourceMetadataTests
{
    [Fact]
    public void Constructor_KeepsEveryField()
    {
        var metadata = new ResourceMetadata(ResourceType.Hardware, 4096, 256, ResourceFlags.Shareable | ResourceFlags.DmaCapable,
            AccessPattern.Streaming, ResourcePriority.High);

        Assert.Equal(ResourceType.Hardware, metadata.Type);
        Assert.Equal(4096, metadata.Size);
        Assert.Equal(256, metadata.Alignment);
        Assert.Equal(ResourceFlags.Shareable | ResourceFlags.DmaCapable, metadata.Flags);
        Assert.Equal(AccessPattern.Streaming, metadata.AccessPattern);
        Assert.Equal(ResourcePriority.High, metadata.Priority);
        Assert.True(metadata.IsShareable);
    }

    [Theory]
    [InlineData(ResourceFlags.None, RegionKind.Main)]
    [InlineData(ResourceFlags.GpuAccessible, RegionKind.Video)]
    [InlineData(ResourceFlags.GpuAccessible | ResourceFlags.Shareable, RegionKind.Video)]
    [InlineData(ResourceFlags.AudioAccessible, RegionKind.Sound)]
    [InlineData(ResourceFlags.DmaCapable, RegionKind.Main)]
    public void PreferredRegion_FollowsThePlacementFlags(ResourceFlags flags, RegionKind expected)
    {
        Assert.Equal(expected, new ResourceMetadata(ResourceType.Memory, 64, flags: flags).PreferredRegion);
    }

    [Fact]
    public void Constructor_BadValues_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResourceMetadata(ResourceType.Memory, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResourceMetadata(ResourceType.Memory, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResourceMetadata((ResourceType)9, 64));
        Assert.Throws<ArgumentException>(() => new ResourceMetadata(ResourceType.Memory, 64, alignment: 3));
        Assert.Throws<ArgumentException>(() => new ResourceMetadata(ResourceType.Memory, 64, alignment: -16));
        Assert.Throws<ArgumentException>(() => new ResourceMetadata(ResourceType.Memory, 64, alignment: ResourceMetadata.MaxAlignment * 2));
        Assert.Throws<ArgumentException>(() => new ResourceMetadata(ResourceType.Memory, 64, flags: ResourceFlags.Shareable | ResourceFlags.Exclusive));
        Assert.Throws<ArgumentException>(() => new ResourceMetadata(ResourceType.Memory, 64, flags: ResourceFlags.GpuAccessible | ResourceFlags.AudioAccessible));
        Assert.Throws<ArgumentException>(() => new ResourceMetadata(ResourceType.Memory, 64, flags: (ResourceFlags)0x8000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResourceMetadata(ResourceType.Memory, 64, accessPattern: (AccessPattern)9));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResourceMetadata(ResourceType.Memory, 64, priority: (ResourcePriority)9));
        Assert.Equal(0, new ResourceMetadata(ResourceType.Memory, 1).Alignment);
    }

    [Theory]
    [InlineData(AcquisitionMode.NonBlocking, 0)]
    [InlineData(AcquisitionMode.Blocking, 1)]
    [InlineData(AcquisitionMode.Timeout, 2)]
    [InlineData(AcquisitionMode.Emergency, 3)]
    public void AcquisitionMode_ValuesArePinnedForTheCAbi(AcquisitionMode mode, int expected)
    {
        Assert.Equal(expected, (int)mode);
    }
}
