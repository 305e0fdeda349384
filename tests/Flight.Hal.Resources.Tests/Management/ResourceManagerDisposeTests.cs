using System.Runtime.CompilerServices;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Management;

/// <summary>Adversarial probes of disposal and finalization.</summary>
public class ResourceManagerDisposeTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Dispose_WhileAWokenWaiterRetries_WaitsForIt_ThenTheWaiterThrows_AndNothingLeaks()
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

        // Dispose must wait for the retry in flight before it frees the pools; the retry, finding the manager disposed,
        // gives its resource back and throws.
        Task disposing = Task.Run(manager.Dispose);
        await Task.Delay(200);
        Assert.False(disposing.IsCompleted, "Dispose freed the pools under a retry in flight");
        gate.Resume.Set();
        Exception? thrown = await waiter.WaitAsync(Patience);
        await disposing.WaitAsync(Patience);

        Assert.IsType<ObjectDisposedException>(thrown);
        Assert.Equal(0, gate.LiveCount);
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
