using System.Diagnostics;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Management;

/// <summary>Waiting acquisitions against an adversary: region deadlocks, sharing, long timeouts, and waiters that must not
/// wake each other in a loop (issue 9, items 3, 4, 6 and 8).</summary>
public class ResourceManagerWaitTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static ResourceMetadata Mem(long size, ResourceFlags flags = ResourceFlags.None) => new(ResourceType.Memory, size, flags: flags);

    /// <summary>A profile whose video RAM is 8 MiB (32-byte units) and whose Hardware budget is large enough to fill it.</summary>
    private static PlatformProfile BigVideo() => new(
        "big-video",
        "8 MiB video RAM",
        [
            new MemoryRegion { Name = "main", Kind = RegionKind.Main, Size = 4 << 20 },
            new MemoryRegion { Name = "video", Kind = RegionKind.Video, Size = 8 << 20, MinAlignment = 32, Granularity = 32 },
        ],
        new Dictionary<ResourceType, ResourceBudget> { [ResourceType.Hardware] = new(64L << 20) },
        []);

    [Fact]
    public async Task RegionDeadlock_WithSizesThatRoundUp_IsDetected_NotAHang()
    {
        // Arrange (issue 9 item 3): the arena rounds both holdings up to 32 bytes; the owners' holdings must be counted
        // in the same units as the region's usage, or the rounding gap looks like bytes held by running code.
        using var manager = new ResourceManager(BigVideo());
        ResourceOwner a = manager.GetOwner("A");
        ResourceOwner b = manager.GetOwner("B");
        manager.Acquire(new ResourceMetadata(ResourceType.Hardware, (4 << 20) - 56, flags: ResourceFlags.GpuAccessible), owner: a);
        manager.Acquire(new ResourceMetadata(ResourceType.Hardware, (4 << 20) - 1088, flags: ResourceFlags.GpuAccessible), owner: b);
        var more = new ResourceMetadata(ResourceType.Hardware, 1 << 20, flags: ResourceFlags.GpuAccessible);

        // Act: A waits for 1 MiB more (B is running, so that is allowed) ...
        Task<ResourceStatus> aWaits = Task.Factory.StartNew(
            () => manager.TryAcquire(more, out _, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromSeconds(5), owner: a),
            TaskCreationOptions.LongRunning);
        Eventually.Holds(() => manager.IsOwnerWaitingForTests(a), "A's wait");
        Assert.False(aWaits.IsCompleted);

        // ... and B waiting too would close the cycle.
        var watch = Stopwatch.StartNew();
        ResourceStatus bStatus = manager.TryAcquire(more, out _, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromSeconds(2), owner: b);

        // Assert
        Assert.Equal(ResourceStatus.Deadlock, bStatus);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"Deadlock took {watch.Elapsed}");
        Assert.Equal(ResourceStatus.Timeout, await aWaits.WaitAsync(Patience));
    }

    [Fact]
    public async Task MainRegionDeadlock_IsDetected_ThoughPoolSlabsSitInMainMemory()
    {
        // Arrange: the pools' slabs occupy main RAM, held by no owner; they must not count as bytes a running holder
        // could release.
        PlatformProfile profile = new(
            "slabs",
            "pools in main RAM",
            [new MemoryRegion { Name = "main", Kind = RegionKind.Main, Size = 1 << 20 }],
            new Dictionary<ResourceType, ResourceBudget>(),
            [new PoolConfig { Type = ResourceType.Memory, BlockSize = 4096, InitialCount = 16, MaxCount = 16 }]);
        using var manager = new ResourceManager(profile);
        ResourceOwner a = manager.GetOwner("A");
        ResourceOwner b = manager.GetOwner("B");
        long free = manager.GetRegionStats(RegionKind.Main).LargestFreeBlock;
        manager.Acquire(Mem(free / 2), owner: a);
        manager.Acquire(Mem((free / 2) - 4096), owner: b);

        Task<ResourceStatus> aWaits = Task.Factory.StartNew(
            () => manager.TryAcquire(Mem(free / 2), out _, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromSeconds(5), owner: a),
            TaskCreationOptions.LongRunning);
        Eventually.Holds(() => manager.IsOwnerWaitingForTests(a), "A's wait");
        Assert.False(aWaits.IsCompleted);

        ResourceStatus bStatus = manager.TryAcquire(Mem(free / 2), out _, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromSeconds(2), owner: b);

        Assert.Equal(ResourceStatus.Deadlock, bStatus);
        Assert.Equal(ResourceStatus.Timeout, await aWaits.WaitAsync(Patience));
    }

    [Fact]
    public async Task SharedResource_DoesNotHideBytesHeldWithoutAnOwner()
    {
        // Arrange (issue 9 item 4): A and B share 30 KiB; 30 KiB more is held with no owner and released 300 ms later.
        using var manager = new ResourceManager(TestProfiles.Small());
        manager.SetBudget(ResourceType.Memory, new ResourceBudget(60 * 1024));
        ResourceOwner a = manager.GetOwner("A");
        ResourceOwner b = manager.GetOwner("B");
        ResourceHandle shared = manager.Acquire(Mem(30 * 1024, ResourceFlags.Shareable), owner: a);
        manager.Share(shared, b);
        ResourceHandle unowned = manager.Acquire(Mem(30 * 1024));

        // B waits (A is running) ...
        Task<ResourceStatus> bWaits = Task.Factory.StartNew(
            () => manager.TryAcquire(Mem(1024), out _, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromSeconds(5), owner: b),
            TaskCreationOptions.LongRunning);
        await Task.Delay(200);
        Task release = Task.Run(async () =>
        {
            await Task.Delay(300);
            manager.Release(unowned);
        });

        // Act: ... and so does A. The unowned 30 KiB can still be released, so this is no deadlock.
        ResourceStatus aStatus = manager.TryAcquire(Mem(1024), out _, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromSeconds(5), owner: a);

        // Assert
        Assert.Equal(ResourceStatus.Ok, aStatus);
        Assert.Equal(ResourceStatus.Ok, await bWaits.WaitAsync(Patience));
        await release;
    }

    [Fact]
    public async Task TimeoutOfTimeSpanMaxValue_WaitsForTheRelease()
    {
        // Issue 9 item 6: the deadline arithmetic overflowed and gave Timeout after 1 ms.
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceHandle filler = manager.Acquire(Mem(TestProfiles.MemoryBudget - TestProfiles.MemoryReserve));
        Task release = Task.Run(async () =>
        {
            await Task.Delay(200);
            manager.Release(filler);
        });

        ResourceStatus status = manager.TryAcquire(Mem(1000), out _, mode: AcquisitionMode.Timeout, timeout: TimeSpan.MaxValue);

        Assert.Equal(ResourceStatus.Ok, status);
        await release;
    }

    [Fact]
    public async Task VeryLongTimeout_SleepsUntilWoken_InsteadOfPolling()
    {
        // Issue 9 item 6: a 200-day timeout overflowed the millisecond arithmetic and retried every millisecond. Each
        // retry asks the reclamation callback, so the callback counts retries.
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceHandle filler = manager.Acquire(Mem(TestProfiles.MemoryBudget - TestProfiles.MemoryReserve));
        int retries = 0;
        using IDisposable registration = manager.RegisterReclamationCallback(ResourceType.Memory, (_, _) =>
        {
            Interlocked.Increment(ref retries);
            return 0;
        });
        Task<ResourceStatus> waiter = Task.Factory.StartNew(
            () => manager.TryAcquire(Mem(1000), out _, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromDays(200)),
            TaskCreationOptions.LongRunning);

        Eventually.Holds(() => Volatile.Read(ref retries) >= 1, "the waiter's first attempt"); // the thread may start late
        await Task.Delay(500); // a polling waiter would retry hundreds of times in this
        int retriesWhileWaiting = Volatile.Read(ref retries);
        manager.Release(filler);

        Assert.Equal(ResourceStatus.Ok, await waiter.WaitAsync(Patience));
        Assert.InRange(retriesWhileWaiting, 1, 3);
    }

    [Fact]
    public void RefusedByTheRegion_ChangesNoLevel_AndCountsOneFailure_NoAcquisition()
    {
        // Arrange (issue 9 item 8): a Custom budget of 512 KiB; video RAM holds 256 KiB, 200 KiB of it in use.
        using var manager = new ResourceManager(TestProfiles.Small());
        manager.SetBudget(ResourceType.Custom, new ResourceBudget(512 * 1024));
        var big = new ResourceMetadata(ResourceType.Custom, 200 * 1024, flags: ResourceFlags.GpuAccessible);
        manager.Acquire(big);                                             // 39 %: Low
        var changes = new List<PressureChange>();
        using IDisposable registration = manager.RegisterPressureCallback((in PressureChange change) => changes.Add(change));

        // Act: the budget has room (78 % would be Medium) but the region does not.
        ResourceStatus status = manager.TryAcquire(big, out ResourceHandle handle);

        // Assert
        Assert.Equal(ResourceStatus.RegionExhausted, status);
        Assert.True(handle.IsNull);
        Assert.Empty(changes);
        ResourceStats stats = manager.GetStats(ResourceType.Custom);
        Assert.Equal(1, stats.Acquisitions);
        Assert.Equal(0, stats.Releases);
        Assert.Equal(1, stats.Failures);
        Assert.Equal(200 * 1024, stats.CurrentBytes);
        Assert.Equal(200 * 1024, stats.PeakBytes);
        Assert.Equal(ResourcePressure.Low, stats.Pressure);
    }

    [Fact]
    public void FullPool_OneAcquisition_CountsOnce()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var handles = new List<ResourceHandle>();
        for (int i = 0; i < 16; i++)
        {
            handles.Add(manager.Acquire(Mem(64))); // the 64-byte pool holds 16
        }

        ResourceStatus status = manager.TryAcquire(Mem(64), out ResourceHandle spilled); // served by the next pool or the region

        Assert.Equal(ResourceStatus.Ok, status);
        ResourceStats stats = manager.GetStats(ResourceType.Memory);
        Assert.Equal(17, stats.Acquisitions);
        Assert.Equal(0, stats.Releases);
        Assert.Equal(17 * 64, stats.CurrentBytes);
        manager.Release(spilled);
        Assert.Equal(1, manager.GetStats(ResourceType.Memory).Releases);
    }

    [Fact]
    public async Task TwoTimeoutWaitersOnAFullRegion_DoNotWakeEachOther_AndCountNothingButTheirFailures()
    {
        // Issue 9 item 8: each waiter's retry reserved and gave back budget, which woke the other: 1.4 million
        // acquisitions counted for a handful of successes, and two cores spinning.
        using var manager = new ResourceManager(TestProfiles.Small());
        var big = new ResourceMetadata(ResourceType.Custom, 200 * 1024, flags: ResourceFlags.GpuAccessible);
        manager.Acquire(big);
        Task<ResourceStatus> Wait() => Task.Factory.StartNew(
            () => manager.TryAcquire(big, out _, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromMilliseconds(500)),
            TaskCreationOptions.LongRunning);

        ResourceStatus[] statuses = await Task.WhenAll(Wait(), Wait()).WaitAsync(Patience);

        Assert.All(statuses, s => Assert.Equal(ResourceStatus.Timeout, s));
        ResourceStats stats = manager.GetStats(ResourceType.Custom);
        Assert.Equal(1, stats.Acquisitions);
        Assert.Equal(0, stats.Releases);
        Assert.Equal(2, stats.Failures);
        Assert.Equal(200 * 1024, stats.CurrentBytes);
    }

    [Fact]
    public async Task WaiterRefusedWhileAnotherRequestHeldTheBudget_IsNeverLeftAsleep()
    {
        // A request that takes budget and then fails on its region gives the budget back without counting anything; a
        // waiter refused on budget during that moment must still be woken (or find the room on its recheck), never left
        // asleep with room available. X fails on video RAM in a loop, holding 200 KiB of the 300 KiB Custom budget for a
        // moment each time; W needs 150 KiB of it, so W is refused whenever it meets one of X's holds.
        using var manager = new ResourceManager(TestProfiles.Small());
        manager.SetBudget(ResourceType.Custom, new ResourceBudget(300 * 1024));
        manager.SetBudget(ResourceType.Hardware, new ResourceBudget(TestProfiles.VideoSize));
        manager.Acquire(new ResourceMetadata(ResourceType.Hardware, 200 * 1024, flags: ResourceFlags.GpuAccessible)); // video: 56 KiB left
        var doomed = new ResourceMetadata(ResourceType.Custom, 200 * 1024, flags: ResourceFlags.GpuAccessible);
        var wanted = new ResourceMetadata(ResourceType.Custom, 150 * 1024);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        Task x = Task.Factory.StartNew(
            () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    // Refused by video RAM (56 KiB free), or by the budget while W holds its 150 KiB.
                    Assert.Contains(manager.TryAcquire(doomed, out _), new[] { ResourceStatus.RegionExhausted, ResourceStatus.BudgetExceeded });
                }
            },
            TaskCreationOptions.LongRunning);
        int timeouts = 0;
        int rounds = 0;

        // Act
        while (!stop.IsCancellationRequested)
        {
            ResourceStatus status = manager.TryAcquire(wanted, out ResourceHandle handle, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromSeconds(2));
            if (status == ResourceStatus.Ok)
            {
                manager.Release(handle);
            }
            else
            {
                timeouts++;
            }

            rounds++;
        }

        await x.WaitAsync(Patience);

        // Assert
        Assert.Equal(0, timeouts);
        Assert.True(rounds > 10);
        ResourceStats stats = manager.GetStats(ResourceType.Custom);
        Assert.Equal(0, stats.CurrentBytes);
        Assert.Equal(rounds, stats.Acquisitions);
        Assert.Equal(rounds, stats.Releases);
    }
}
