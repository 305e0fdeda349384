using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Management;

/// <summary>Defragmentation through the manager's handles: a Fragmented refusal cured by Defragment, every handle still
/// naming its own bytes, pinned resources left in place, and the safety mode's guards following their blocks.</summary>
public unsafe class ResourceManagerDefragmentTests
{
    private static readonly ResourceFlags Gpu = ResourceFlags.GpuAccessible;

    private static void Stamp(ResourceManager manager, ResourceHandle handle, byte value) => manager.GetSpan(handle).Fill(value);

    private static bool Holds(ResourceManager manager, ResourceHandle handle, byte value) => manager.GetSpan(handle).IndexOfAnyExcept(value) < 0;

    /// <summary>Video RAM (256 KiB) filled with 16 KiB textures, every other one released: 128 KiB free in 16 KiB holes.</summary>
    private static List<ResourceHandle> FragmentVideo(ResourceManager manager, out List<ResourceHandle> kept, int count = 16)
    {
        var all = new List<ResourceHandle>();
        for (int i = 0; i < count; i++)
        {
            ResourceHandle texture = manager.Acquire(new ResourceMetadata(ResourceType.Hardware, 16 * 1024, 32, Gpu), name: "tex" + i);
            Stamp(manager, texture, (byte)(i + 1));
            all.Add(texture);
        }

        kept = [];
        for (int i = 0; i < count; i++)
        {
            if (i % 2 == 0)
            {
                manager.Release(all[i]);
            }
            else
            {
                kept.Add(all[i]);
            }
        }

        return all;
    }

    private static ResourceManager Create(ResourceManagerOptions? options = null)
    {
        PlatformProfile profile = TestProfiles.Small();
        var manager = new ResourceManager(profile, options);
        manager.SetBudget(ResourceType.Hardware, new ResourceBudget(1024 * 1024)); // the region, not the budget, is the limit here
        return manager;
    }

    [Fact]
    public void AFragmentedRefusal_IsCuredByDefragment_AndEveryHandleKeepsItsBytes()
    {
        using ResourceManager manager = Create();
        List<ResourceHandle> all = FragmentVideo(manager, out List<ResourceHandle> kept);
        var big = new ResourceMetadata(ResourceType.Hardware, 64 * 1024, 32, Gpu);
        Assert.Equal(ResourceStatus.Fragmented, manager.TryAcquire(in big, out _));

        DefragmentationStats stats = manager.Defragment(RegionKind.Video, long.MaxValue);

        Assert.Equal(8, stats.Moves);
        Assert.Equal(8 * 16 * 1024, stats.BytesMoved);
        Assert.True(stats.LargestFreeBlockAfter >= 128 * 1024);
        RegionStats video = manager.GetRegionStats(RegionKind.Video);
        Assert.Equal(video.FreeBytes, video.LargestFreeBlock);
        for (int i = 0; i < kept.Count; i++)
        {
            Assert.True(Holds(manager, kept[i], (byte)((2 * i) + 2)), $"texture {2 * i + 1} kept its bytes");
            Assert.Equal(kept[i], manager.Find("tex" + ((2 * i) + 1)));
        }

        Assert.Equal(ResourceStatus.Ok, manager.TryAcquire(in big, out ResourceHandle cured));
        Assert.Equal(0, (long)manager.ResolveAddress(cured) % 32);
        Assert.Equal(ResourceStatus.StaleHandle, manager.Release(all[0]));
    }

    [Fact]
    public void PinnedResources_StayPut_ByPinOrByScope_AndUnpinningLetsThemMove()
    {
        using ResourceManager manager = Create();
        FragmentVideo(manager, out List<ResourceHandle> kept);
        nint firstAt = manager.ResolveAddress(kept[0]);
        nint secondAt = manager.ResolveAddress(kept[1]);
        Assert.Equal(ResourceStatus.Ok, manager.Pin(kept[0]));
        using (PinnedResource pin = manager.PinScoped(kept[1]))
        {
            Assert.Equal(kept[1], pin.Handle);
            DefragmentationStats stats = manager.Defragment(RegionKind.Video, long.MaxValue);
            Assert.True(stats.Skipped >= 2);
            Assert.Equal(firstAt, manager.ResolveAddress(kept[0]));
            Assert.Equal(secondAt, manager.ResolveAddress(kept[1]));
        }

        Assert.Equal(ResourceStatus.Ok, manager.Unpin(kept[0]));
        Assert.Throws<InvalidOperationException>(() => manager.Unpin(kept[0]));
        manager.Defragment(RegionKind.Video, long.MaxValue);
        Assert.NotEqual(firstAt, manager.ResolveAddress(kept[0]));
        Assert.True(Holds(manager, kept[0], 2));

        // Pooled and host-heap resources never move: pinning them is accepted and changes nothing; bad handles are refused.
        ResourceHandle pooled = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64));
        Assert.Equal(ResourceStatus.Ok, manager.Pin(pooled));
        Assert.Equal(ResourceStatus.Ok, manager.Unpin(pooled));
        manager.Release(pooled);
        Assert.Equal(ResourceStatus.StaleHandle, manager.Pin(pooled));
        Assert.Equal(ResourceStatus.InvalidHandle, manager.Pin(default));
        Assert.Equal(ResourceStatus.InvalidHandle, manager.Pin(ResourceHandle.FromRawValue(0x1234_5678_9ABC)));
        Assert.Throws<ResourceException>(() => manager.PinScoped(pooled));
        Assert.Throws<ArgumentOutOfRangeException>(() => manager.Defragment(RegionKind.Video, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => manager.Defragment((RegionKind)7, 1));
    }

    [Fact]
    public void SharedMemory_IsPinnedThroughAnyHandle_AndMovesAsOne()
    {
        using ResourceManager manager = Create();
        ResourceHandle hole = manager.Acquire(new ResourceMetadata(ResourceType.Hardware, 8192, 32, Gpu));
        ResourceHandle vertex = manager.Acquire(
            new ResourceMetadata(ResourceType.Hardware, 4096, 32, Gpu | ResourceFlags.Shareable), owner: manager.GetOwner("gfx"));
        ResourceHandle audio = manager.Share(vertex, manager.GetOwner("audio"));
        Stamp(manager, vertex, 7);
        manager.Release(hole);

        manager.Pin(audio);
        Assert.Equal(0, manager.Defragment(RegionKind.Video, long.MaxValue).Moves);
        manager.Unpin(audio);
        Assert.Equal(1, manager.Defragment(RegionKind.Video, long.MaxValue).Moves);

        Assert.Equal(manager.ResolveAddress(vertex), manager.ResolveAddress(audio));
        Assert.True(Holds(manager, audio, 7));
    }

    [Fact]
    public void HostHeapRegions_HaveNothingToCompact()
    {
        using var manager = new ResourceManager(TestProfiles.Small(mainBacking: RegionBacking.HostHeap));
        manager.Acquire(new ResourceMetadata(ResourceType.Memory, 10_000));
        DefragmentationStats stats = manager.Defragment(RegionKind.Main, long.MaxValue);
        Assert.Equal((0, 0L), (stats.Moves, stats.BytesMoved));
        Assert.Equal(stats.LargestFreeBlockBefore, stats.LargestFreeBlockAfter);
    }

    [Fact]
    public void InTheSafetyMode_GuardsFollowTheirBlocks_AndNothingIsMisreported()
    {
        using ResourceManager manager = Create(new ResourceManagerOptions { MemorySafety = new MemorySafetyOptions() });
        FragmentVideo(manager, out List<ResourceHandle> kept, count: 14); // each takes 64 guard bytes more

        DefragmentationStats stats = manager.Defragment(RegionKind.Video, long.MaxValue);

        Assert.True(stats.Moves > 0);
        Assert.Equal(ResourceStatus.Ok, manager.CheckCorruption(out CorruptionFinding[] findings));
        Assert.Empty(findings);
        for (int i = 0; i < kept.Count; i++)
        {
            Assert.True(Holds(manager, kept[i], (byte)((2 * i) + 2)));
        }

        // A write past a moved resource's end is still caught, at its new place.
        byte* end = (byte*)manager.ResolveAddress(kept[3]) + (16 * 1024);
        *end = 0;
        Assert.Equal(ResourceStatus.Corrupted, manager.CheckCorruption(out findings));
        Assert.Equal((CorruptionKind.Overrun, "tex7", 16L * 1024), (findings[0].Kind, findings[0].Name, findings[0].Offset));
        foreach (ResourceHandle handle in kept)
        {
            manager.Release(handle);
        }

        Assert.Equal(0, manager.GetStats(ResourceType.Hardware).CurrentBytes);
    }
}
