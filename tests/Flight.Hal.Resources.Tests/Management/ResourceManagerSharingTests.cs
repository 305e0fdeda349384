using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Management;

public class ResourceManagerSharingTests
{
    private static readonly ResourceMetadata VertexBuffer = new(ResourceType.Memory, 6000, flags: ResourceFlags.Shareable);

    [Fact]
    public void SharedMemory_LivesUntilEveryOwnerReleased()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceOwner graphics = manager.GetOwner("GraphicsDriver");
        ResourceOwner audio = manager.GetOwner("AudioDriver");
        ResourceHandle mine = manager.Acquire(VertexBuffer, name: "vb0", owner: graphics);
        manager.Resolve(mine)[0] = 42;
        long regionUsed = manager.GetRegionStats(RegionKind.Main).UsedBytes;

        ResourceHandle theirs = manager.Share(mine, audio);

        Assert.NotEqual(mine, theirs);
        Assert.Equal(manager.ResolveAddress(mine), manager.ResolveAddress(theirs));
        Assert.Equal(2, Info(manager, theirs).ShareCount);
        Assert.Equal(audio, Info(manager, theirs).Owner);
        Assert.Equal(6000, manager.GetStats(ResourceType.Memory).CurrentBytes); // counted once
        Assert.Equal(2, manager.LiveCount);

        Assert.Equal(ResourceStatus.Ok, manager.Release(mine, graphics));
        Assert.Equal(42, manager.Resolve(theirs)[0]);                             // still alive for audio
        Assert.Equal(6000, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(ResourceStatus.StaleHandle, manager.Release(mine));          // graphics' handle is gone

        Assert.Equal(ResourceStatus.Ok, manager.Release(theirs, audio));
        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(regionUsed - 6000, manager.GetRegionStats(RegionKind.Main).UsedBytes);
        Assert.Equal(0, manager.LiveCount);
    }

    [Fact]
    public void SharedPooledMemory_IsReturnedToThePoolOnlyAtTheLastRelease()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceHandle first = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 48, flags: ResourceFlags.Shareable));
        ResourceHandle second = manager.Share(first, manager.GetOwner("B"));
        Assert.StartsWith("pool", Info(manager, first).Placement);
        Assert.Equal(1, manager.Pools.GetPoolStats(ResourceType.Memory, 64).UsedBlocks);

        manager.Release(second);
        Assert.Equal(1, manager.Pools.GetPoolStats(ResourceType.Memory, 64).UsedBlocks);
        manager.Release(first);
        Assert.Equal(0, manager.Pools.GetPoolStats(ResourceType.Memory, 64).UsedBlocks);
    }

    [Fact]
    public void Sharing_NonShareable_Stale_Default_OrForeign_ReturnsAClearStatus()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var other = new ResourceManager(TestProfiles.Small());
        ResourceOwner audio = manager.GetOwner("AudioDriver");
        ResourceHandle pooled = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64));
        ResourceHandle registered = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 6000), name: "mesh");
        ResourceHandle gone = manager.Acquire(VertexBuffer);
        manager.Release(gone);

        Assert.Equal(ResourceStatus.SharingFailure, manager.TryShare(pooled, audio, out ResourceHandle s1));
        Assert.Equal(ResourceStatus.SharingFailure, manager.TryShare(registered, audio, out _));
        Assert.Equal(ResourceStatus.StaleHandle, manager.TryShare(gone, audio, out _));
        Assert.Equal(ResourceStatus.InvalidHandle, manager.TryShare(default, audio, out _));
        Assert.Throws<ArgumentException>(() => manager.TryShare(registered, other.GetOwner("X"), out _));
        Assert.Throws<ResourceException>(() => manager.Share(pooled, audio));
        Assert.True(s1.IsNull);
        Assert.Equal(6064, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(2, manager.LiveCount);
    }

    [Fact]
    public void ReleasingThroughAnotherOwnersHandle_IsRefused()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceOwner graphics = manager.GetOwner("GraphicsDriver");
        ResourceOwner audio = manager.GetOwner("AudioDriver");
        ResourceHandle mine = manager.Acquire(VertexBuffer, owner: graphics);
        ResourceHandle theirs = manager.Share(mine, audio);
        ResourceHandle anonymous = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64));

        Assert.Equal(ResourceStatus.SharingFailure, manager.Release(theirs, graphics));
        Assert.Equal(ResourceStatus.SharingFailure, manager.Release(anonymous, audio));
        Assert.True(manager.Contains(theirs));
        Assert.True(manager.Contains(anonymous));
        Assert.Equal(ResourceStatus.Ok, manager.Release(theirs, audio));
        Assert.Equal(ResourceStatus.Ok, manager.Release(anonymous, ResourceOwner.None));
    }

    [Fact]
    public void Owners_AreInterned()
    {
        using var manager = new ResourceManager(TestProfiles.Small());

        ResourceOwner a = manager.GetOwner("GraphicsDriver");
        ResourceOwner b = manager.GetOwner("GraphicsDriver");
        ResourceOwner c = manager.GetOwner("AudioDriver");

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal("GraphicsDriver", a.Name);
        Assert.True(ResourceOwner.None.IsNone);
        Assert.Equal("(none)", ResourceOwner.None.Name);
    }

    [Fact]
    public void Names_AreFound_AndFollowReleases()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceHandle first = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 100), name: "hero.tex");
        ResourceHandle second = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 200), name: "hero.tex");
        manager.Acquire(new ResourceMetadata(ResourceType.Memory, 300), name: "villain.tex");

        Assert.Equal(ResourceStatus.Ok, manager.TryFind("hero.tex", out ResourceHandle found));
        Assert.Equal(second, found);
        Assert.Equal("hero.tex", Info(manager, first).Name);

        manager.Release(second);
        Assert.Equal(ResourceStatus.Ok, manager.TryFind("hero.tex", out found));
        Assert.Equal(first, found);

        manager.Release(first);
        Assert.Equal(ResourceStatus.NotFound, manager.TryFind("hero.tex", out found));
        Assert.True(found.IsNull);
        Assert.Equal(ResourceStatus.NotFound, manager.TryFind("never-acquired", out _));
        Assert.Throws<ArgumentNullException>(() => manager.TryFind(null!, out _));
    }

    [Fact]
    public void SharedHandles_CarryTheName()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceHandle original = manager.Acquire(VertexBuffer, name: "shared.vb");
        ResourceHandle copy = manager.Share(original, manager.GetOwner("Audio"));
        manager.Release(original);

        Assert.Equal(ResourceStatus.Ok, manager.TryFind("shared.vb", out ResourceHandle found));
        Assert.Equal(copy, found);
    }

    private static ResourceInfo Info(ResourceManager manager, ResourceHandle handle)
    {
        Assert.Equal(ResourceStatus.Ok, manager.TryGetInfo(handle, out ResourceInfo info));
        return info;
    }
}
