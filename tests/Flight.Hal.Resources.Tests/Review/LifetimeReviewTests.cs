#pragma warning disable // review probes: analyzer style rules do not apply
using System.Runtime.CompilerServices;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Review;

/// <summary>Review probes of disposal and finalization. Tests named <c>DEFECT_*</c> fail on purpose.</summary>
public class LifetimeReviewTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    [Trait("Review", "Defect")]
    public async Task DEFECT_DisposeWhileABlockedAcquisitionRetries_UsesFreedPoolState_AndLeaksASlab()
    {
        // README/Dispose: "blocked acquisitions wake, see the manager disposed and throw"; TryAcquire: ObjectDisposedException
        // "also while waiting"; Dispose "returns every byte". A blocked acquisition is woken by a release (which
        // completes before Dispose is called) and is retrying, inside its pool's growth, when Dispose runs. SlabPool's
        // disposal takes no lock, so it frees the pool under the retry; the retry then stores a new slab into the
        // disposed pool and writes through its freed (null) generation array.
        var gate = new GateAllocator(gatedBytes: 32 * 64, gatedAlignment: 64) { SucceedAfterPause = true };
        var profile = new PlatformProfile(
            "review-dispose",
            "host-heap main, arena video",
            [
                new MemoryRegion { Name = "main", Kind = RegionKind.Main, Size = 64 * 1024, Backing = RegionBacking.HostHeap },
                new MemoryRegion { Name = "video", Kind = RegionKind.Video, Size = 64 * 1024 },
            ],
            new Dictionary<ResourceType, ResourceBudget> { [ResourceType.Memory] = new(64) },
            [new PoolConfig { Type = ResourceType.Memory, BlockSize = 64, MaxCount = 32 }]);
        var manager = new ResourceManager(profile, new ResourceManagerOptions { Allocator = gate, MaxRegisteredResources = 64 });
        ResourceHandle x = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64, flags: ResourceFlags.GpuAccessible)); // budget full

        gate.FailGated = true;
        gate.PauseOnCall = 1;
        Task<Exception?> waiter = Task.Factory.StartNew(
            () =>
            {
                gate.TargetThreadId = Environment.CurrentManagedThreadId;
                try
                {
                    manager.TryAcquire(new ResourceMetadata(ResourceType.Memory, 64), out _, mode: AcquisitionMode.Blocking);
                    return null;
                }
                catch (Exception exception)
                {
                    return exception;
                }
            },
            TaskCreationOptions.LongRunning);
        await Task.Delay(300);
        Assert.False(waiter.IsCompleted);

        manager.Release(x);                        // wakes the waiter; it retries and grows its pool
        Assert.True(gate.Paused.Wait(Patience));
        manager.Dispose();                         // the release has returned; only the blocked acquisition is in flight
        gate.Resume.Set();
        Exception? thrown = await waiter.WaitAsync(Patience);

        Assert.True(
            thrown is ObjectDisposedException && gate.LiveCount == 0,
            $"threw {thrown}; {gate.LiveCount} native allocations still live after Dispose");
    }

    [Fact]
    public void AbandonedIssuers_OnArenaAllocators_FinalizedInAnyOrder_NeverCrash()
    {
        for (int round = 0; round < 20; round++)
        {
            Abandon(round);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        }

        // Still able to create and use everything afterwards.
        using var manager = new ResourceManager(PlatformProfile.Get("dreamcast"));
        manager.Release(manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Abandon(int seed)
    {
        var random = new Random(seed);
        var arena = new Arena(new ArenaConfig { Size = 1 << 20, MaxAllocations = 64, ThreadSafe = true });
        var onArena = new ArenaAllocator(arena);
        var pool = new SlabPool(new PoolConfig { BlockSize = 64, InitialCount = 8, MaxCount = 64, ThreadSafe = random.Next(2) == 0 }, onArena);
        pool.Rent();
        var table = new HandleTable<long>(32, onArena);
        table.Allocate(7);
        var inner = new Arena(new ArenaConfig { Size = 4096, MaxAllocations = 4 }, onArena);
        inner.Allocate(64);
        var manager = new ResourceManager(PlatformProfile.Get(random.Next(2) == 0 ? "dreamcast" : "n64"));
        manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64));
        manager.Acquire(new ResourceMetadata(ResourceType.Memory, 100_000), name: "big");
        manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64, flags: ResourceFlags.Shareable), owner: manager.GetOwner("o"));
        using (ResourceScope scope = manager.BeginScope())
        {
            scope.Acquire(new ResourceMetadata(ResourceType.Memory, 32));
        }

        var pools = new PoolManager([new PoolConfig { BlockSize = 128, InitialCount = 4, MaxCount = 16, ThreadSafe = true }], onArena);
        pools.TryRent(ResourceType.Memory, 100, 16, out _);
        if (random.Next(3) == 0)
        {
            arena.Dispose(); // an arena disposed under its pools and tables, which are then abandoned
        }
    }
}
