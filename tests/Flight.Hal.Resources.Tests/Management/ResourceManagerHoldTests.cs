using Flight.Hal.Resources.Tests.TestSupport;
using System.Collections.Concurrent;

namespace Flight.Hal.Resources.Tests.Management;

/// <summary>Adversarial probes of the hold/commit/cancel budget protocol: a hold is not usage until committed.</summary>
public class ResourceManagerHoldTests
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
    public async Task RefusedRequestsHold_NeverRaisesThePeak_NorMovesThePressureLevelForOthers()
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
