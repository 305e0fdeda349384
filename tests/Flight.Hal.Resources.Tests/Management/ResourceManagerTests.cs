using System.Runtime.CompilerServices;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Management;

public class ResourceManagerTests
{
    private static ResourceMetadata Mem(long size, ResourceFlags flags = ResourceFlags.None, int alignment = 0) =>
        new(ResourceType.Memory, size, alignment, flags);

    [Fact]
    public void PooledAcquire_ResolvesToWritableMemory_AndIsCountedExactly()
    {
        using var manager = new ResourceManager(TestProfiles.Small());

        ResourceStatus status = manager.TryAcquire(Mem(48), out ResourceHandle handle);

        Assert.Equal(ResourceStatus.Ok, status);
        Span<byte> bytes = manager.Resolve(handle);
        Assert.Equal(48, bytes.Length);
        bytes.Fill(0xAB);
        Assert.Equal(0xAB, manager.Resolve(handle)[47]);
        Assert.Equal(48, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(1, manager.LiveCount);
        Assert.Equal(ResourceStatus.Ok, manager.TryGetInfo(handle, out ResourceInfo info));
        Assert.Equal("pool Memory/64", info.Placement);
        Assert.Equal(48, info.Size);

        Assert.Equal(ResourceStatus.Ok, manager.Release(handle));
        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(0, manager.LiveCount);
    }

    [Fact]
    public void ReleasedHandle_IsStale_Everywhere_AndNothingChanges()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceHandle pooled = manager.Acquire(Mem(32));
        ResourceHandle registered = manager.Acquire(Mem(32), name: "named");
        manager.Release(pooled);
        manager.Release(registered);
        ResourceHandle reused = manager.Acquire(Mem(32)); // likely the same block, a new generation

        foreach (ResourceHandle stale in new[] { pooled, registered })
        {
            Assert.Equal(ResourceStatus.StaleHandle, manager.Release(stale));
            Assert.True(manager.Resolve(stale).IsEmpty);
            Assert.Equal(0, manager.ResolveAddress(stale));
            Assert.False(manager.Contains(stale));
            Assert.Equal(ResourceStatus.StaleHandle, manager.TryGetInfo(stale, out _));
        }

        Assert.True(manager.Contains(reused));
        Assert.Equal(32, manager.GetStats(ResourceType.Memory).CurrentBytes);
    }

    [Fact]
    public void NullForgedAndForeignHandles_AreInvalid_AndNothingChanges()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var other = new ResourceManager(TestProfiles.Small());
        ResourceHandle mine = manager.Acquire(Mem(32));
        ResourceHandle theirs = other.Acquire(Mem(32));
        ResourceHandle theirsNamed = other.Acquire(Mem(32), name: "x");

        Assert.Equal(ResourceStatus.InvalidHandle, manager.Release(default));
        Assert.Equal(ResourceStatus.InvalidHandle, manager.Release(theirs));
        Assert.Equal(ResourceStatus.InvalidHandle, manager.Release(theirsNamed));
        Assert.Equal(ResourceStatus.InvalidHandle, manager.Release(ResourceHandle.FromRawValue(0xDEAD_BEEF_0000_03FFUL)));
        Assert.Equal(ResourceStatus.InvalidHandle, manager.Release(ResourceHandle.FromRawValue(mine.RawValue + (2UL << 32)))); // a generation never issued
        Assert.True(manager.Resolve(theirs).IsEmpty);
        Assert.Equal(ResourceStatus.InvalidHandle, manager.TryShare(theirs, ResourceOwner.None, out _));

        Assert.True(manager.Contains(mine));
        Assert.True(other.Contains(theirs));
        Assert.Equal(32, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(64, other.GetStats(ResourceType.Memory).CurrentBytes);
    }

    [Fact]
    public void DoubleRelease_ReturnsStale_AndTheBudgetIsCreditedOnce()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceHandle a = manager.Acquire(Mem(100));
        ResourceHandle b = manager.Acquire(Mem(5000)); // region-placed
        Assert.Equal(ResourceStatus.Ok, manager.Release(a));
        Assert.Equal(ResourceStatus.Ok, manager.Release(b));

        Assert.Equal(ResourceStatus.StaleHandle, manager.Release(a));
        Assert.Equal(ResourceStatus.StaleHandle, manager.Release(b));
        ResourceStats stats = manager.GetStats(ResourceType.Memory);
        Assert.Equal(0, stats.CurrentBytes);
        Assert.Equal(2, stats.Releases);
    }

    [Fact]
    public void BadRequests_Throw_AndChangeNothing()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var other = new ResourceManager(TestProfiles.Small());

        Assert.Throws<ArgumentException>(() => manager.TryAcquire(default, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResourceMetadata(ResourceType.Memory, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResourceMetadata(ResourceType.Memory, -5));
        Assert.Throws<ArgumentException>(() => new ResourceMetadata(ResourceType.Memory, 64, alignment: 24));
        Assert.Throws<ArgumentOutOfRangeException>(() => manager.TryAcquire(Mem(64), out _, mode: (AcquisitionMode)9));
        Assert.Throws<ArgumentOutOfRangeException>(() => manager.TryAcquire(Mem(64), out _, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromSeconds(-2)));
        Assert.Throws<ArgumentException>(() => manager.TryAcquire(Mem(64), out _, name: ""));
        Assert.Throws<ArgumentException>(() => manager.TryAcquire(Mem(64), out _, owner: other.GetOwner("Stranger")));
        Assert.Throws<ArgumentException>(() => manager.GetOwner(""));

        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(0, manager.LiveCount);
    }

    [Theory]
    [InlineData(AcquisitionMode.NonBlocking)]
    [InlineData(AcquisitionMode.Blocking)]
    [InlineData(AcquisitionMode.Timeout)]
    [InlineData(AcquisitionMode.Emergency)]
    public void ImpossibleRequests_FailAtOnce_InEveryMode(AcquisitionMode mode)
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var watch = System.Diagnostics.Stopwatch.StartNew();

        // Larger than the whole budget; larger than the video region (budget unlimited for Custom); absurdly large.
        ResourceStatus overBudget = manager.TryAcquire(Mem(TestProfiles.MemoryBudget + 1), out _, mode: mode, timeout: TimeSpan.FromSeconds(30));
        ResourceStatus overRegion = manager.TryAcquire(
            new ResourceMetadata(ResourceType.Custom, TestProfiles.VideoSize + 1, flags: ResourceFlags.GpuAccessible), out _, mode: mode, timeout: TimeSpan.FromSeconds(30));
        ResourceStatus huge = manager.TryAcquire(new ResourceMetadata(ResourceType.Custom, long.MaxValue / 2), out _, mode: mode, timeout: TimeSpan.FromSeconds(30));

        Assert.Equal(ResourceStatus.BudgetExceeded, overBudget);
        Assert.Equal(ResourceStatus.RegionExhausted, overRegion);
        Assert.Equal(ResourceStatus.RegionExhausted, huge);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.Equal(0, manager.GetStats(ResourceType.Custom).CurrentBytes);
        Assert.Equal(2, manager.GetStats(ResourceType.Custom).Failures);
    }

    [Fact]
    public void OrdinaryRequestsIntoTheReserve_FailAtOnceEvenBlocking()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        long ordinary = TestProfiles.MemoryBudget - TestProfiles.MemoryReserve;

        ResourceStatus status = manager.TryAcquire(Mem(ordinary + 1), out _, mode: AcquisitionMode.Blocking);

        Assert.Equal(ResourceStatus.BudgetExceeded, status);
        Assert.Equal(ResourceStatus.Ok, manager.TryAcquire(Mem(ordinary), out _));
    }

    [Fact]
    public void Routing_SendsGpuAndAudioToTheirRegions_LargeToMain_SmallToPools()
    {
        using var manager = new ResourceManager(TestProfiles.Small());

        ResourceHandle texture = manager.Acquire(new ResourceMetadata(ResourceType.Hardware, 10_000, flags: ResourceFlags.GpuAccessible));
        ResourceHandle bank = manager.Acquire(new ResourceMetadata(ResourceType.Hardware, 3_000, flags: ResourceFlags.AudioAccessible));
        ResourceHandle mesh = manager.Acquire(Mem(20_000));
        ResourceHandle small = manager.Acquire(Mem(200));
        ResourceHandle smallGpu = manager.Acquire(new ResourceMetadata(ResourceType.Hardware, 200, flags: ResourceFlags.GpuAccessible));

        Assert.Equal("video", Info(manager, texture).Placement);
        Assert.Equal("sound", Info(manager, bank).Placement);
        Assert.Equal("main", Info(manager, mesh).Placement);
        Assert.Equal("pool Memory/256", Info(manager, small).Placement);
        Assert.Equal("video", Info(manager, smallGpu).Placement); // GPU memory never comes from a main-RAM pool
        Assert.Equal(0, manager.ResolveAddress(texture) % 32);
        Assert.Equal(10_016, manager.GetRegionStats(RegionKind.Video).UsedBytes - 224); // 10,000 -> 10,016 and 200 -> 224 (32-byte units)
        Assert.True(manager.ResolveAddress(bank) >= 4096); // sound RAM's reserved start is never handed out
    }

    [Fact]
    public void Routing_WithoutVideoOrSoundRegions_UsesMainMemory()
    {
        PlatformProfile web = PlatformProfile.Get("web");
        using var manager = new ResourceManager(web);

        ResourceHandle texture = manager.Acquire(new ResourceMetadata(ResourceType.Hardware, 100_000, flags: ResourceFlags.GpuAccessible));

        Assert.Equal(web.MainRegion.Name, Info(manager, texture).Placement);
    }

    [Fact]
    public void FullPool_FallsToTheRegion()
    {
        PoolConfig[] pools = [new() { Type = ResourceType.Memory, BlockSize = 64, MaxCount = 2, ThreadCacheSize = 0 }];
        using var manager = new ResourceManager(TestProfiles.Small(pools));

        ResourceHandle a = manager.Acquire(Mem(64));
        ResourceHandle b = manager.Acquire(Mem(64));
        ResourceHandle c = manager.Acquire(Mem(64));

        Assert.StartsWith("pool", Info(manager, a).Placement);
        Assert.StartsWith("pool", Info(manager, b).Placement);
        Assert.Equal("main", Info(manager, c).Placement);
        Assert.Equal(192, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(3, manager.LiveCount);
    }

    [Fact]
    public void BudgetFull_NonBlocking_FailsWithBudgetExceeded_AndCountsIt()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        long ordinary = TestProfiles.MemoryBudget - TestProfiles.MemoryReserve;
        manager.Acquire(Mem(ordinary - 100));

        ResourceStatus status = manager.TryAcquire(Mem(101), out ResourceHandle handle);

        Assert.Equal(ResourceStatus.BudgetExceeded, status);
        Assert.True(handle.IsNull);
        Assert.Equal(1, manager.GetStats(ResourceType.Memory).Failures);
        Assert.Equal(ResourceStatus.Ok, manager.TryAcquire(Mem(100), out _)); // exactly at the ordinary limit
    }

    [Fact]
    public void PooledFastPath_TracksPeakAndPublishesEveryPressureChange()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        manager.SetBudget(ResourceType.Memory, new ResourceBudget(256, 0));
        var changes = new List<(ResourcePressure From, ResourcePressure To)>();
        using IDisposable registration = manager.RegisterPressureCallback((in PressureChange c) => changes.Add((c.Previous, c.Current)));
        var handles = new List<ResourceHandle>();

        for (int i = 0; i < 4; i++)
        {
            handles.Add(manager.Acquire(Mem(64))); // 25 % Low, 50 % Medium, 75 % still Medium (High is 80 %), 100 % Critical
        }

        Assert.Equal(ResourceStatus.BudgetExceeded, manager.TryAcquire(Mem(1), out _));
        handles.ForEach(h => manager.Release(h));

        Assert.Equal(
            [
                (ResourcePressure.None, ResourcePressure.Low), (ResourcePressure.Low, ResourcePressure.Medium),
                (ResourcePressure.Medium, ResourcePressure.Critical), (ResourcePressure.Critical, ResourcePressure.Medium),
                (ResourcePressure.Medium, ResourcePressure.Low),
                (ResourcePressure.Low, ResourcePressure.None),
            ],
            changes);
        ResourceStats stats = manager.GetStats(ResourceType.Memory);
        Assert.Equal(256, stats.PeakBytes);
        Assert.Equal(4, stats.Acquisitions);
        Assert.Equal(4, stats.Releases);
        Assert.Equal(1, stats.Failures);
    }

    [Fact]
    public void SetBudget_ChangesWhatFits()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        manager.SetBudget(ResourceType.Custom, new ResourceBudget(1000));
        Assert.Equal(1000, manager.GetBudget(ResourceType.Custom).MaxBytes);
        manager.Acquire(new ResourceMetadata(ResourceType.Custom, 900));

        Assert.Equal(ResourceStatus.BudgetExceeded, manager.TryAcquire(new ResourceMetadata(ResourceType.Custom, 200), out _));
        manager.SetBudget(ResourceType.Custom, new ResourceBudget(2000));
        Assert.Equal(ResourceStatus.Ok, manager.TryAcquire(new ResourceMetadata(ResourceType.Custom, 200), out _));
    }

    [Fact]
    public void RegistryFull_ReturnsCapacityExceeded_AndGivesEverythingBack()
    {
        using var manager = new ResourceManager(TestProfiles.Small(), new ResourceManagerOptions { MaxRegisteredResources = 2 });
        manager.Acquire(Mem(64), name: "a");
        manager.Acquire(Mem(5000), name: "b");
        long before = manager.GetStats(ResourceType.Memory).CurrentBytes;
        long regionBefore = manager.GetRegionStats(RegionKind.Main).UsedBytes;

        Assert.Equal(ResourceStatus.CapacityExceeded, manager.TryAcquire(Mem(64), out _, name: "c"));
        Assert.Equal(ResourceStatus.CapacityExceeded, manager.TryAcquire(Mem(5000), out _, name: "d"));

        Assert.Equal(before, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(regionBefore, manager.GetRegionStats(RegionKind.Main).UsedBytes);
        Assert.Equal(ResourceStatus.Ok, manager.TryAcquire(Mem(64), out _)); // anonymous pooled needs no registry slot
    }

    [Fact]
    public void HostHeapFailure_ReturnsOutOfMemory_AndGivesTheBudgetBack()
    {
        var allocator = new TrackingAllocator();
        using var manager = new ResourceManager(
            TestProfiles.Small(mainBacking: RegionBacking.HostHeap), new ResourceManagerOptions { Allocator = allocator });
        allocator.FailAll = true;

        ResourceStatus status = manager.TryAcquire(Mem(5000), out _);

        allocator.Heal();
        Assert.Equal(ResourceStatus.OutOfMemory, status);
        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
        ResourceHandle handle = manager.Acquire(Mem(5000));
        Assert.Equal(5000, manager.Resolve(handle).Length);
        Assert.Equal(5000, manager.GetRegionStats(RegionKind.Main).UsedBytes);
        manager.Release(handle);
        Assert.Equal(0, manager.GetRegionStats(RegionKind.Main).UsedBytes);
    }

    [Fact]
    public void DisposedManager_ThrowsObjectDisposed()
    {
        var manager = new ResourceManager(TestProfiles.Small());
        ResourceHandle handle = manager.Acquire(Mem(64));
        manager.Dispose();
        manager.Dispose(); // idempotent

        Assert.Throws<ObjectDisposedException>(() => manager.TryAcquire(Mem(64), out _));
        Assert.Throws<ObjectDisposedException>(() => manager.Release(handle));
        Assert.Throws<ObjectDisposedException>(() => manager.Resolve(handle));
        Assert.False(manager.Contains(handle));
    }

    [Fact]
    public void Sizes_MeetTheDesign()
    {
        Assert.Equal(8, Unsafe.SizeOf<ResourceHandle>());
        Assert.Equal(16, Unsafe.SizeOf<ResourceRef<long>>());
        Assert.Equal(32, ResourceManager.RegistryBytesPerResource);
        Assert.Equal(16, ResourceManager.PooledBytesPerResource);
    }

    [Fact]
    public void AnonymousPooledAcquireRelease_AllocatesNothing()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var metadata = Mem(200);

        long bytes = Allocations.Measure(() =>
        {
            manager.TryAcquire(metadata, out ResourceHandle handle);
            manager.Resolve(handle)[0] = 1;
            manager.Release(handle);
        });

        Assert.Equal(0, bytes);
    }

    [Fact]
    public void NamedAndRegionAcquireRelease_AllocatesNothing_OnceTheNameIsInterned()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var metadata = Mem(3000);
        ResourceOwner owner = manager.GetOwner("Streamer");

        long bytes = Allocations.Measure(() =>
        {
            manager.TryAcquire(metadata, out ResourceHandle handle, name: "level1/hero.mesh", owner: owner);
            manager.TryFind("level1/hero.mesh", out _);
            manager.Release(handle);
        });

        Assert.Equal(0, bytes);
    }

    private static ResourceInfo Info(ResourceManager manager, ResourceHandle handle)
    {
        Assert.Equal(ResourceStatus.Ok, manager.TryGetInfo(handle, out ResourceInfo info));
        return info;
    }
}
