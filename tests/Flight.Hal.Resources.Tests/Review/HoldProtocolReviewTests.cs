#pragma warning disable // review probes: analyzer style rules do not apply
using System.Collections.Concurrent;

namespace Flight.Hal.Resources.Tests.Review;

/// <summary>Review probes of the hold/commit/cancel budget protocol and of deadlock detection around it. Tests named
/// <c>DEFECT_*</c> demonstrate a defect and fail on purpose.</summary>
public class HoldProtocolReviewTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>Main RAM on the host heap (so a pool's slab growth goes through the test allocator), 64 KiB video arena.</summary>
    private static PlatformProfile HostProfile(long mainSize, Dictionary<ResourceType, ResourceBudget> budgets, PoolConfig pool) => new(
        "review-host",
        "host-heap main, arena video",
        [
            new MemoryRegion { Name = "main", Kind = RegionKind.Main, Size = mainSize, Backing = RegionBacking.HostHeap },
            new MemoryRegion { Name = "video", Kind = RegionKind.Video, Size = 64 * 1024, MinAlignment = 32, Granularity = 32 },
        ],
        budgets,
        [pool]);

    [Fact]
    [Trait("Review", "Defect")]
    public async Task DEFECT_ReleaseBetweenAFailedRetryAndTheWaitCheck_GivesAFalseDeadlock()
    {
        // A release that makes room lands after an owner's retry failed and before its wait is checked against the
        // wait-for graph. The check ignores that the asker itself has been woken since its attempt (its wait epoch is
        // stale): it walks the graph as if the room did not exist, and returns Deadlock for a request that would
        // succeed at once. The window is made deterministic with a pressure callback that runs on A's thread while A
        // gives back its budget hold (callbacks may call the manager, per the README).
        var gate = new GateAllocator(gatedBytes: 16 * 64, gatedAlignment: 64);
        var budgets = new Dictionary<ResourceType, ResourceBudget>
        {
            [ResourceType.Memory] = new(256),             // A's 64-byte hold is 25 %: Low
            [ResourceType.Hardware] = new(16 * 1024),
        };
        using var manager = new ResourceManager(
            HostProfile(64 * 1024, budgets, new PoolConfig { Type = ResourceType.Memory, BlockSize = 64, MaxCount = 16 }),
            new ResourceManagerOptions { Allocator = gate, MaxRegisteredResources = 1024 });
        ResourceOwner a = manager.GetOwner("A");
        ResourceOwner b = manager.GetOwner("B");
        ResourceOwner c = manager.GetOwner("C");

        manager.Acquire(new ResourceMetadata(ResourceType.Hardware, 16 * 1024, flags: ResourceFlags.GpuAccessible), owner: a);
        manager.Acquire(new ResourceMetadata(ResourceType.Custom, 32 * 1024), owner: b);            // main: half
        ResourceHandle cMain = manager.Acquire(new ResourceMetadata(ResourceType.Custom, 32 * 1024), owner: c); // main: full

        // B waits for Hardware, which only A holds (A is running, so this wait is allowed).
        var hardwareMore = new ResourceMetadata(ResourceType.Hardware, 1024, flags: ResourceFlags.GpuAccessible);
        Task<ResourceStatus> bWaits = Task.Factory.StartNew(
            () => manager.TryAcquire(hardwareMore, out _, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromSeconds(3), owner: b),
            TaskCreationOptions.LongRunning);
        await Task.Delay(300);
        Assert.False(bWaits.IsCompleted);

        int aThread = -1;
        var released = new ManualResetEventSlim(false);
        using IDisposable onPressure = manager.RegisterPressureCallback((in PressureChange change) =>
        {
            if (Environment.CurrentManagedThreadId == aThread && change.Type == ResourceType.Memory
                && change.Current == ResourcePressure.None && !released.IsSet)
            {
                // C frees half of main RAM: from now on A's 64 bytes fit.
                Assert.Equal(ResourceStatus.Ok, manager.Release(cMain));
                released.Set();
                Thread.Sleep(500); // let B, woken by that release, go back to its wait
            }
        });

        // A needs 64 bytes of Memory: pool first (its slab growth fails), then main RAM (full until C's release).
        gate.FailGated = true;
        gate.PauseOnCall = 2; // the retry inside the wait loop
        Task<ResourceStatus> aAcquires = Task.Factory.StartNew(
            () =>
            {
                aThread = Environment.CurrentManagedThreadId;
                gate.TargetThreadId = aThread;
                return manager.TryAcquire(new ResourceMetadata(ResourceType.Memory, 64), out _, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromSeconds(5), owner: a);
            },
            TaskCreationOptions.LongRunning);

        Assert.True(gate.Paused.Wait(Patience), "A's retry never reached the pool");
        manager.SetBudget(ResourceType.Memory, new ResourceBudget(256)); // publishes a level that includes A's hold: Low
        gate.Resume.Set();                                               // A's slab fails; A gives its hold back: None

        ResourceStatus aStatus = await aAcquires.WaitAsync(Patience);

        // Assert: C's release made room before A's wait was checked; A must get its memory, not Deadlock.
        Assert.True(released.IsSet, "the callback did not run on A's thread");
        Assert.Equal(ResourceStatus.Ok, aStatus);
        await bWaits.WaitAsync(Patience);
    }

    [Fact]
    [Trait("Review", "Defect")]
    public async Task DEFECT_RefusedRequestsHold_RaisesThePeak_AndMovesThePressureLevelForOthers()
    {
        // README: "a refused request changes nothing but the type's failure count — no acquisition or release counted,
        // no pressure level moved, nothing left charged". A's request holds 4,000 bytes while its pool grows; B commits
        // 1,000 bytes meanwhile. B's commit raises the peak to 5,000 and publishes Medium, though at no time were more
        // than 1,000 bytes acquired; A is then refused (main RAM is 2 KiB). The peak stays at 5,000 for good.
        var gate = new GateAllocator(gatedBytes: 2 * 4096, gatedAlignment: 64);
        var budgets = new Dictionary<ResourceType, ResourceBudget> { [ResourceType.Memory] = new(8000) };
        using var manager = new ResourceManager(
            HostProfile(2048, budgets, new PoolConfig { Type = ResourceType.Memory, BlockSize = 4096, MaxCount = 2 }),
            new ResourceManagerOptions { Allocator = gate, MaxRegisteredResources = 1024 });
        var changes = new ConcurrentQueue<(ResourcePressure From, ResourcePressure To)>();
        using IDisposable onPressure = manager.RegisterPressureCallback((in PressureChange change) =>
        {
            if (change.Type == ResourceType.Memory)
            {
                changes.Enqueue((change.Previous, change.Current));
            }
        });

        gate.FailGated = true;
        gate.PauseOnCall = 1;
        Task<ResourceStatus> aAcquires = Task.Factory.StartNew(
            () =>
            {
                gate.TargetThreadId = Environment.CurrentManagedThreadId;
                return manager.TryAcquire(new ResourceMetadata(ResourceType.Memory, 4000), out _);
            },
            TaskCreationOptions.LongRunning);
        Assert.True(gate.Paused.Wait(Patience));

        // B, meanwhile: 1,000 bytes of video RAM, released again.
        ResourceHandle bHandle = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 1000, flags: ResourceFlags.GpuAccessible));
        manager.Release(bHandle);
        gate.Resume.Set();
        ResourceStatus aStatus = await aAcquires.WaitAsync(Patience);

        ResourceStats stats = manager.GetStats(ResourceType.Memory);
        Assert.Equal(ResourceStatus.RegionExhausted, aStatus);
        Assert.Equal(0, stats.CurrentBytes);
        Assert.Equal(1, stats.Acquisitions);
        Assert.Equal(1, stats.Failures);
        Assert.Equal(ResourcePressure.None, stats.Pressure);

        // Expected: only B's 1,000 bytes were ever acquired (12.5 %: no level change at all).
        Assert.True(
            stats.PeakBytes == 1000 && changes.IsEmpty,
            $"peak {stats.PeakBytes}; deliveries: {string.Join(", ", changes.Select(c => $"{c.From}->{c.To}"))}");
    }
}
