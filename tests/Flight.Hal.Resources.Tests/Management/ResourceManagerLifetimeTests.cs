using System.Runtime.CompilerServices;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Management;

public class ResourceManagerLifetimeTests
{
    [Fact]
    public void Dispose_ReportsEveryLiveResource_ThenReturnsAllNativeMemory()
    {
        var allocator = new TrackingAllocator();
        LeakReport? report = null;
        var manager = new ResourceManager(
            TestProfiles.Small(), new ResourceManagerOptions { Allocator = allocator, LeakReported = r => report = r });
        ResourceOwner graphics = manager.GetOwner("GraphicsDriver");
        manager.Acquire(new ResourceMetadata(ResourceType.Memory, 40));
        manager.Acquire(new ResourceMetadata(ResourceType.Hardware, 9000, flags: ResourceFlags.GpuAccessible), name: "font.tex", owner: graphics);
        ResourceHandle released = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 500), name: "released");
        manager.Release(released);
        using (ResourceScope scope = manager.BeginScope())
        {
            scope.Acquire(new ResourceMetadata(ResourceType.Memory, 64));
        }

        Assert.True(allocator.LiveBytes > 0);
        manager.Dispose();

        Assert.NotNull(report);
        Assert.Equal(2, report.Count);
        Assert.Equal(9040, report.TotalBytes);
        Assert.Equal("test-small", report.ProfileName);
        LeakedResource texture = Assert.Single(report.Resources, r => r.Name == "font.tex");
        Assert.Equal(ResourceType.Hardware, texture.Type);
        Assert.Equal(9000, texture.Size);
        Assert.Equal("GraphicsDriver", texture.Owner);
        Assert.Equal("video", texture.Placement);
        LeakedResource small = Assert.Single(report.Resources, r => r.Name == null);
        Assert.Equal(40, small.Size);
        Assert.Equal("(none)", small.Owner);
        Assert.Equal(40, report.BytesOf(ResourceType.Memory));
        Assert.Contains("font.tex", report.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, allocator.LiveBytes);
        Assert.Empty(allocator.LiveBlocks);
    }

    [Fact]
    public void NothingLive_NoReport()
    {
        int calls = 0;
        var manager = new ResourceManager(TestProfiles.Small(), new ResourceManagerOptions { LeakReported = _ => calls++ });
        manager.Release(manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64)));

        manager.Dispose();

        Assert.Equal(0, calls);
    }

    [Fact]
    public void CapturedStacks_NameTheAcquiringMethod()
    {
        using var manager = new ResourceManager(TestProfiles.Small(), new ResourceManagerOptions { CaptureAcquisitionStacks = true });
        manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64));
        manager.Acquire(new ResourceMetadata(ResourceType.Memory, 5000), name: "big");
        ResourceHandle released = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64));
        manager.Release(released);

        LeakReport report = manager.CreateLeakReport();

        Assert.Equal(2, report.Count);
        Assert.All(report.Resources, r => Assert.Contains(nameof(CapturedStacks_NameTheAcquiringMethod), r.AcquisitionStack, StringComparison.Ordinal));
    }

    [Fact]
    public void ThrowingLeakCallback_IsReported_AndAllMemoryStillReturns()
    {
        var allocator = new TrackingAllocator();
        var manager = new ResourceManager(
            TestProfiles.Small(),
            new ResourceManagerOptions { Allocator = allocator, LeakReported = _ => throw new InvalidOperationException("boom") });
        Exception? fault = null;
        manager.CallbackFaulted += (_, e) => fault = e.Exception;
        manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64));

        manager.Dispose();

        Assert.IsType<InvalidOperationException>(fault);
        Assert.Equal(0, allocator.LiveBytes);
    }

    [Fact]
    public void AnAbandonedManager_ReturnsItsNativeMemoryWhenFinalized()
    {
        var allocator = new TrackingAllocator();
        AbandonManager(allocator, RegionBacking.Arena);
        AbandonManager(allocator, RegionBacking.HostHeap);

        for (int i = 0; i < 5 && allocator.LiveBytes > 0; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.Equal(0, allocator.LiveBytes);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AbandonManager(TrackingAllocator allocator, RegionBacking backing)
    {
        var manager = new ResourceManager(TestProfiles.Small(mainBacking: backing), new ResourceManagerOptions { Allocator = allocator });
        manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64));
        manager.Acquire(new ResourceMetadata(ResourceType.Memory, 9000), name: "level");
        manager.Acquire(new ResourceMetadata(ResourceType.Hardware, 9000, flags: ResourceFlags.AudioAccessible));
        _ = manager.BeginScope();
        Assert.True(allocator.LiveBytes > 0);
    }

    [Fact]
    public void AbandonedConsoleManagers_FinalizedInAnyOrder_DoNotEndTheProcess()
    {
        // Pools, their records, the registry and the arenas they were carved from are finalized in no fixed order; none
        // may throw on the finalizer thread or read memory another finalizer has freed. A failure here ends the test run.
        for (int i = 0; i < 20; i++)
        {
            Abandon();
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        using var survivor = new ResourceManager(TestProfiles.Small());
        Assert.Equal(ResourceStatus.Ok, survivor.TryAcquire(new ResourceMetadata(ResourceType.Memory, 32), out _));

        [MethodImpl(MethodImplOptions.NoInlining)]
        static void Abandon()
        {
            var manager = new ResourceManager(TestProfiles.Small());
            manager.Acquire(new ResourceMetadata(ResourceType.Memory, 32));
            manager.Acquire(new ResourceMetadata(ResourceType.Memory, 3000), name: "abandoned");
        }
    }

    [Fact]
    public void FailingConstruction_LeaksNothing()
    {
        var allocator = new TrackingAllocator();
        for (int successes = 0; successes < 12; successes++)
        {
            allocator.FailAfter(successes);
            try
            {
                using var manager = new ResourceManager(TestProfiles.Small(), new ResourceManagerOptions { Allocator = allocator });
            }
            catch (OutOfMemoryException)
            {
                // expected for the early failure points
            }

            allocator.Heal();
            Assert.Equal(0, allocator.LiveBytes);
        }
    }
}
