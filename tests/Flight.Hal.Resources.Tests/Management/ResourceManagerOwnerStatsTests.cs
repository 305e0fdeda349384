using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Management;

/// <summary>Who holds the memory: <see cref="ResourceManager.GetOwnerStats"/> and <see cref="ResourceManager.GetOwnerBytes"/>.</summary>
public class ResourceManagerOwnerStatsTests
{
    [Fact]
    public void EachOwnersHandlesAndBytes_AreReported_SharedMemoryForEveryHolder()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceOwner graphics = manager.GetOwner("GraphicsDriver");
        ResourceOwner audio = manager.GetOwner("AudioDriver");
        ResourceOwner idle = manager.GetOwner("Idle");
        ResourceHandle small = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64), "ui.atlas", owner: graphics); // pooled, registered
        ResourceHandle big = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 10_000), owner: graphics);
        ResourceHandle shared = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 1024, flags: ResourceFlags.Shareable), owner: graphics);
        ResourceHandle bank = manager.Acquire(new ResourceMetadata(ResourceType.Hardware, 2048), owner: audio);
        ResourceHandle audioShare = manager.Share(shared, audio);
        ResourceHandle anonymous = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64)); // nobody's

        OwnerStats[] stats = manager.GetOwnerStats();

        Assert.Equal(
            [new OwnerStats(graphics, 3, 64 + 10_000 + 1024), new OwnerStats(audio, 2, 2048 + 1024), new OwnerStats(idle, 0, 0)],
            stats);
        Assert.Equal(11_088, manager.GetOwnerBytes(graphics, ResourceType.Memory));
        Assert.Equal(1024, manager.GetOwnerBytes(audio, ResourceType.Memory));
        Assert.Equal(2048, manager.GetOwnerBytes(audio, ResourceType.Hardware));

        foreach ((ResourceHandle handle, ResourceOwner owner) in new[] { (small, graphics), (big, graphics), (shared, graphics), (bank, audio), (audioShare, audio) })
        {
            Assert.Equal(ResourceStatus.Ok, manager.Release(handle, owner));
        }

        manager.Release(anonymous);
        Assert.All(manager.GetOwnerStats(), s => Assert.Equal((0, 0L), (s.Resources, s.Bytes)));
    }

    [Fact]
    public void BadInput_IsRefused()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var other = new ResourceManager(TestProfiles.Small());
        ResourceOwner mine = manager.GetOwner("mine");
        Assert.Throws<ArgumentException>(() => manager.GetOwnerBytes(ResourceOwner.None, ResourceType.Memory));
        Assert.Throws<ArgumentException>(() => manager.GetOwnerBytes(other.GetOwner("theirs"), ResourceType.Memory));
        Assert.Throws<ArgumentOutOfRangeException>(() => manager.GetOwnerBytes(mine, (ResourceType)77));
        Assert.DoesNotContain(other.GetOwnerStats(), s => s.Resources > 0);
        manager.Dispose();
        Assert.Throws<ObjectDisposedException>(() => manager.GetOwnerStats());
    }
}
