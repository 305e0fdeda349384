using System.Diagnostics;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Management;

public class ResourceManagerModesTests
{
    private const long Ordinary = TestProfiles.MemoryBudget - TestProfiles.MemoryReserve;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static ResourceMetadata Mem(long size) => new(ResourceType.Memory, size);

    [Fact]
    public async Task Blocking_IsWokenByAReleaseOnAnotherThread()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceHandle filler = manager.Acquire(Mem(Ordinary));
        using var started = new ManualResetEventSlim();

        Task<(ResourceStatus, ResourceHandle)> waiter = Task.Factory.StartNew(
            () =>
            {
                started.Set();
                ResourceStatus s = manager.TryAcquire(Mem(4096), out ResourceHandle h, mode: AcquisitionMode.Blocking);
                return (s, h);
            },
            TaskCreationOptions.LongRunning);
        started.Wait();
        await Task.Delay(200);
        Assert.False(waiter.IsCompleted); // still waiting: the budget is full

        manager.Release(filler);
        (ResourceStatus status, ResourceHandle handle) = await waiter.WaitAsync(Patience);

        Assert.Equal(ResourceStatus.Ok, status);
        Assert.True(manager.Contains(handle));
        Assert.Equal(4096, manager.GetStats(ResourceType.Memory).CurrentBytes);
    }

    [Fact]
    public async Task Blocking_IsWokenWhenTheBudgetGrows()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        manager.Acquire(Mem(Ordinary));

        Task<ResourceStatus> waiter = Task.Factory.StartNew(
            () => manager.TryAcquire(Mem(1000), out _, mode: AcquisitionMode.Blocking), TaskCreationOptions.LongRunning);
        await Task.Delay(200);
        Assert.False(waiter.IsCompleted);
        manager.SetBudget(ResourceType.Memory, new ResourceBudget(TestProfiles.MemoryBudget * 2, TestProfiles.MemoryReserve));

        Assert.Equal(ResourceStatus.Ok, await waiter.WaitAsync(Patience));
    }

    [Fact]
    public async Task Blocking_WaitsForRegionSpace_NotOnlyForBudget()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var big = new ResourceMetadata(ResourceType.Custom, 200 * 1024, flags: ResourceFlags.GpuAccessible); // video RAM is 256 KiB
        ResourceHandle first = manager.Acquire(big);

        Task<ResourceStatus> waiter = Task.Factory.StartNew(
            () => manager.TryAcquire(big, out _, mode: AcquisitionMode.Blocking), TaskCreationOptions.LongRunning);
        await Task.Delay(200);
        Assert.False(waiter.IsCompleted);
        manager.Release(first);

        Assert.Equal(ResourceStatus.Ok, await waiter.WaitAsync(Patience));
    }

    [Fact]
    public void Timeout_ExpiresWithinTolerance_AndLeavesNothingBehind()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        manager.Acquire(Mem(Ordinary));
        var watch = Stopwatch.StartNew();

        ResourceStatus status = manager.TryAcquire(Mem(100), out ResourceHandle handle, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromMilliseconds(300));

        watch.Stop();
        Assert.Equal(ResourceStatus.Timeout, status);
        Assert.True(handle.IsNull);
        Assert.InRange(watch.Elapsed.TotalMilliseconds, 290, 3000);
        Assert.Equal(Ordinary, manager.GetStats(ResourceType.Memory).CurrentBytes);
    }

    [Fact]
    public void Timeout_ZeroGivesUpAtOnce()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        manager.Acquire(Mem(Ordinary));

        Assert.Equal(ResourceStatus.Timeout, manager.TryAcquire(Mem(100), out _, mode: AcquisitionMode.Timeout, timeout: TimeSpan.Zero));
    }

    [Fact]
    public async Task Timeout_SucceedsWhenAReleaseComesInTime()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceHandle filler = manager.Acquire(Mem(Ordinary));

        Task<ResourceStatus> waiter = Task.Factory.StartNew(
            () => manager.TryAcquire(Mem(100), out _, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromSeconds(20)),
            TaskCreationOptions.LongRunning);
        await Task.Delay(100);
        manager.Release(filler);

        Assert.Equal(ResourceStatus.Ok, await waiter.WaitAsync(Patience));
    }

    [Fact]
    public async Task TwoOwners_WaitingForEachOther_TheSecondGetsDeadlock_AndTheFirstCompletesLater()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceOwner graphics = manager.GetOwner("GraphicsDriver");
        ResourceOwner audio = manager.GetOwner("AudioDriver");
        var hardware = new ResourceMetadata(ResourceType.Hardware, TestProfiles.HardwareBudget - TestProfiles.HardwareReserve);
        ResourceHandle held = manager.Acquire(hardware, owner: graphics);           // graphics fills Hardware
        ResourceHandle audioHeld = manager.Acquire(Mem(Ordinary), owner: audio);      // audio fills Memory

        // Graphics now blocks for Memory, which audio holds.
        Task<ResourceStatus> graphicsWait = Task.Factory.StartNew(
            () => manager.TryAcquire(Mem(512), out _, mode: AcquisitionMode.Blocking, owner: graphics), TaskCreationOptions.LongRunning);
        Eventually.Holds(() => manager.IsOwnerWaitingForTests(graphics), "the graphics driver's wait");
        Assert.False(graphicsWait.IsCompleted);

        // Audio blocking for Hardware would close the cycle: refused at once instead of hanging.
        var watch = Stopwatch.StartNew();
        ResourceStatus audioStatus = manager.TryAcquire(new ResourceMetadata(ResourceType.Hardware, 256), out _, mode: AcquisitionMode.Blocking, owner: audio);
        Assert.Equal(ResourceStatus.Deadlock, audioStatus);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2));

        // Audio backs off: the graphics driver's wait ends.
        manager.Release(audioHeld, audio);
        Assert.Equal(ResourceStatus.Ok, await graphicsWait.WaitAsync(Patience));
        manager.Release(held);
    }

    [Fact]
    public void AnOwnerWaitingForWhatOnlyItHolds_GetsDeadlock()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceOwner loader = manager.GetOwner("Loader");
        manager.Acquire(Mem(Ordinary), owner: loader);

        ResourceStatus status = manager.TryAcquire(Mem(100), out _, mode: AcquisitionMode.Blocking, owner: loader);

        Assert.Equal(ResourceStatus.Deadlock, status);
    }

    [Fact]
    public async Task DisposingTheManager_WakesABlockedAcquisition_WithObjectDisposed()
    {
        var manager = new ResourceManager(TestProfiles.Small());
        manager.Acquire(Mem(Ordinary));
        Task<ResourceStatus> waiter = Task.Factory.StartNew(
            () => manager.TryAcquire(Mem(100), out _, mode: AcquisitionMode.Blocking), TaskCreationOptions.LongRunning);
        await Task.Delay(200);

        manager.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiter.WaitAsync(Patience));
    }

    [Fact]
    public void Emergency_UsesTheReserveFirst()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        manager.Acquire(Mem(Ordinary));

        Assert.Equal(ResourceStatus.BudgetExceeded, manager.TryAcquire(Mem(1000), out _));
        Assert.Equal(ResourceStatus.Ok, manager.TryAcquire(Mem(1000), out _, mode: AcquisitionMode.Emergency));

        ResourceStats stats = manager.GetStats(ResourceType.Memory);
        Assert.Equal(1, stats.ReserveAcquisitions);
        Assert.Equal(0, stats.EmergencyOverruns);
        Assert.Equal(1, stats.Failures); // the NonBlocking attempt only
    }

    [Fact]
    public void Emergency_AsksReclamationBeforeOverrunning()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceHandle cached = manager.Acquire(Mem(4000), name: "cached");
        manager.Acquire(Mem(TestProfiles.MemoryBudget - 4000), mode: AcquisitionMode.Emergency); // budget full to the last byte
        int asked = 0;
        using IDisposable registration = manager.RegisterReclamationCallback(ResourceType.Memory, (type, requested) =>
        {
            asked++;
            return manager.Release(cached) == ResourceStatus.Ok ? 4000 : 0;
        });

        ResourceStatus status = manager.TryAcquire(Mem(3000), out _, mode: AcquisitionMode.Emergency);

        Assert.Equal(ResourceStatus.Ok, status);
        Assert.Equal(1, asked);
        ResourceStats stats = manager.GetStats(ResourceType.Memory);
        Assert.Equal(0, stats.EmergencyOverruns);
        Assert.Equal(TestProfiles.MemoryBudget - 1000, stats.CurrentBytes);
    }

    [Fact]
    public void Emergency_OverrunsTheBudget_WhenNothingCanBeReclaimed_AndCountsIt()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        manager.TryAcquire(Mem(TestProfiles.MemoryBudget - 10), out _, mode: AcquisitionMode.Emergency);

        ResourceStatus status = manager.TryAcquire(Mem(5000), out ResourceHandle handle, mode: AcquisitionMode.Emergency);

        Assert.Equal(ResourceStatus.Ok, status);
        ResourceStats stats = manager.GetStats(ResourceType.Memory);
        Assert.Equal(1, stats.EmergencyOverruns);
        Assert.Equal(TestProfiles.MemoryBudget + 4990, stats.CurrentBytes);
        Assert.Equal(0, stats.Failures);
        manager.Release(handle);
        Assert.Equal(TestProfiles.MemoryBudget - 10, manager.GetStats(ResourceType.Memory).CurrentBytes);
    }

    [Fact]
    public void Emergency_NeverExceedsThePhysicalRegion()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        manager.SetBudget(ResourceType.Hardware, new ResourceBudget(TestProfiles.VideoSize, 0));
        var texture = new ResourceMetadata(ResourceType.Hardware, 160 * 1024, flags: ResourceFlags.GpuAccessible);
        manager.Acquire(texture);

        ResourceStatus status = manager.TryAcquire(texture, out _, mode: AcquisitionMode.Emergency);

        Assert.Equal(ResourceStatus.RegionExhausted, status);
        Assert.Equal(160 * 1024, manager.GetStats(ResourceType.Hardware).CurrentBytes); // the refused request gave its budget back
        Assert.Equal(160 * 1024, manager.GetRegionStats(RegionKind.Video).UsedBytes);
    }

    [Fact]
    public void Fragmentation_IsReportedAsSuch()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var piece = new ResourceMetadata(ResourceType.Custom, 32 * 1024, flags: ResourceFlags.GpuAccessible);
        var pieces = new List<ResourceHandle>();
        for (int i = 0; i < 8; i++)
        {
            pieces.Add(manager.Acquire(piece)); // video RAM full: 8 x 32 KiB
        }

        manager.Release(pieces[1]);
        manager.Release(pieces[3]);
        manager.Release(pieces[5]); // 96 KiB free, in three separate 32 KiB holes

        ResourceStatus status = manager.TryAcquire(new ResourceMetadata(ResourceType.Custom, 64 * 1024, flags: ResourceFlags.GpuAccessible), out _);

        Assert.Equal(ResourceStatus.Fragmented, status);
        Assert.True(manager.GetRegionStats(RegionKind.Video).Fragmentation > 0.5);
    }

    [Fact]
    public void ThrowingCallbacks_AreReported_AndChangeNothing()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var faults = new List<Exception>();
        manager.CallbackFaulted += (_, e) => faults.Add(e.Exception);
        using IDisposable pressure = manager.RegisterPressureCallback((in PressureChange _) => throw new InvalidOperationException("pressure"));
        using IDisposable reclaim = manager.RegisterReclamationCallback(ResourceType.Memory, (_, _) => throw new InvalidOperationException("reclaim"));

        ResourceHandle big = manager.Acquire(Mem(Ordinary));                           // pressure rises: callback throws
        ResourceStatus refused = manager.TryAcquire(Mem(100), out _);                  // reclamation throws
        Assert.Equal(ResourceStatus.Ok, manager.Release(big));                          // pressure falls: throws again

        Assert.Equal(ResourceStatus.BudgetExceeded, refused);
        Assert.Equal(3, faults.Count);
        Assert.Equal(3, manager.CallbackFaults);
        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(ResourceStatus.Ok, manager.TryAcquire(Mem(100), out _));
    }

    [Fact]
    public void PressureCallbacks_MayAcquireAndRelease_WithoutDeadlock()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var seen = new List<ResourcePressure>();
        using IDisposable registration = manager.RegisterPressureCallback((in PressureChange change) =>
        {
            seen.Add(change.Current);
            if (change.Type == ResourceType.Memory && change.Current == ResourcePressure.Critical)
            {
                // A callback re-entering the manager (a cache evicting, a driver allocating a small buffer).
                ResourceHandle h = manager.Acquire(new ResourceMetadata(ResourceType.Custom, 64), name: "from-callback");
                manager.Release(h);
            }
        });

        ResourceHandle handle = manager.Acquire(Mem(TestProfiles.MemoryBudget - 100), mode: AcquisitionMode.Emergency);

        Assert.Contains(ResourcePressure.Critical, seen);
        Assert.Equal(0, manager.GetStats(ResourceType.Custom).CurrentBytes);
        manager.Release(handle);
        Assert.Equal(ResourcePressure.None, manager.GetPressure(ResourceType.Memory));
    }
}
