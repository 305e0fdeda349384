namespace Flight.Hal.Resources.Tests.Management;

/// <summary>Region bookkeeping of host-heap regions.</summary>
public class ResourceManagerRegionTests
{
    [Fact]
    public void HostHeapRegion_HonoursReservedStart()
    {
        // A host-heap region with a reserved start: requests together may not use the reserved bytes (the heap was
        // created with the whole size, so they could), and the region's statistics never go negative.
        var profile = new PlatformProfile(
            "review-reserved",
            "host heap with a reserved start",
            [new MemoryRegion { Name = "main", Kind = RegionKind.Main, Size = 64 * 1024, ReservedStart = 16 * 1024, Backing = RegionBacking.HostHeap }],
            new Dictionary<ResourceType, ResourceBudget>(),
            []);
        using var manager = new ResourceManager(profile);
        var piece = new ResourceMetadata(ResourceType.Custom, 30 * 1024);

        Assert.Equal(ResourceStatus.RegionExhausted, manager.TryAcquire(new ResourceMetadata(ResourceType.Custom, 50 * 1024), out _)); // > 48 KiB: refused
        Assert.Equal(ResourceStatus.Ok, manager.TryAcquire(piece, out _));
        ResourceStatus second = manager.TryAcquire(piece, out _);                 // 60 KiB in a 48 KiB region
        RegionStats stats = manager.GetRegionStats(RegionKind.Main);

        Assert.True(stats.LargestFreeBlock >= 0, $"largest free block {stats.LargestFreeBlock}");
        Assert.Equal(ResourceStatus.RegionExhausted, second);
    }
}
