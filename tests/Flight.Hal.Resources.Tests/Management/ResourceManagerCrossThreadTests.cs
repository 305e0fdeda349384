using System.Diagnostics;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Management;

/// <summary>Adversarial probes of waiting acquisitions.</summary>
public class ResourceManagerCrossThreadTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static ResourceMetadata Mem(long size) => new(ResourceType.Memory, size);

    private static ResourceMetadata Hw(long size) => new(ResourceType.Hardware, size);

    [Fact]
    public async Task CrossTypeDeadlock_WithoutOtherActivity_IsDetected()
    {
        // Baseline for the next test: A holds all ordinary Hardware, B all ordinary Memory; A waits for Memory, then B
        // asks for Hardware: that closes the cycle and B is told Deadlock at once. B then releases its Memory and A's
        // wait ends with the memory.
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceOwner a = manager.GetOwner("A");
        ResourceOwner b = manager.GetOwner("B");
        manager.Acquire(Hw(TestProfiles.HardwareBudget - TestProfiles.HardwareReserve), owner: a);
        ResourceHandle bMemory = manager.Acquire(Mem(TestProfiles.MemoryBudget - TestProfiles.MemoryReserve), owner: b);

        Task<ResourceStatus> aWaits = StartWaitFor(manager, Mem(1024), a);
        Eventually.Holds(() => manager.IsOwnerWaitingForTests(a), "A's wait"); // recorded: no guessed delay

        var clock = Stopwatch.StartNew();
        ResourceStatus bStatus = manager.TryAcquire(Hw(1024), out _, mode: AcquisitionMode.Timeout, timeout: Patience, owner: b);
        TimeSpan judged = clock.Elapsed;
        Assert.Equal(ResourceStatus.Deadlock, bStatus);
        Assert.True(judged < TimeSpan.FromSeconds(5), $"Deadlock took {judged} to report; it should be reported at once.");
        Assert.False(aWaits.IsCompleted);

        Assert.Equal(ResourceStatus.Ok, manager.Release(bMemory, b));
        Assert.Equal(ResourceStatus.Ok, await aWaits.WaitAsync(Patience));
    }

    [Fact]
    public async Task CrossTypeDeadlock_IsDetected_WhileUnrelatedCodeAcquiresAndReleases()
    {
        // The same deadlock, while another thread acquires and releases unrelated resources (a frame's scratch memory
        // of another type): its releases wake every sleeping waiter, which must not make A count as running (A's key
        // never moved). Held up: B is still told Deadlock, at once.
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceOwner a = manager.GetOwner("A");
        ResourceOwner b = manager.GetOwner("B");
        manager.Acquire(Hw(TestProfiles.HardwareBudget - TestProfiles.HardwareReserve), owner: a);
        ResourceHandle bMemory = manager.Acquire(Mem(TestProfiles.MemoryBudget - TestProfiles.MemoryReserve), owner: b);
        using var stop = new CancellationTokenSource();
        long churned = 0;
        Task churn = Task.Factory.StartNew(
            () =>
            {
                var scratch = new ResourceMetadata(ResourceType.Custom, 512);
                while (!stop.IsCancellationRequested)
                {
                    manager.Release(manager.Acquire(scratch));
                    Interlocked.Increment(ref churned);
                }
            },
            TaskCreationOptions.LongRunning);

        Task<ResourceStatus> aWaits = StartWaitFor(manager, Mem(1024), a);
        Eventually.Holds(() => manager.IsOwnerWaitingForTests(a), "A's wait");
        long churnedBefore = Interlocked.Read(ref churned);
        Eventually.Holds(() => Interlocked.Read(ref churned) > churnedBefore + 100, "churn"); // releases land while A waits

        ResourceStatus bStatus = manager.TryAcquire(Hw(1024), out _, mode: AcquisitionMode.Timeout, timeout: Patience, owner: b);
        stop.Cancel();
        await churn.WaitAsync(Patience);
        Assert.Equal(ResourceStatus.Deadlock, bStatus);

        Assert.Equal(ResourceStatus.Ok, manager.Release(bMemory, b));
        Assert.Equal(ResourceStatus.Ok, await aWaits.WaitAsync(Patience));
    }

    /// <summary>Starts a Timeout acquisition (patient) of <paramref name="owner"/> on its own thread.</summary>
    private static Task<ResourceStatus> StartWaitFor(ResourceManager manager, ResourceMetadata metadata, ResourceOwner owner) =>
        Task.Factory.StartNew(
            () => manager.TryAcquire(metadata, out _, mode: AcquisitionMode.Timeout, timeout: Patience, owner: owner),
            TaskCreationOptions.LongRunning);

    [Fact]
    public async Task BlockReleasedWhileAnotherThreadWaits_ReachesTheWaiter()
    {
        // Pool blocks released by one thread go to that thread's cache; only exited threads' caches are reclaimed when
        // the pool runs dry. A waiter on another thread is refused (RegionExhausted, main RAM being full) while the pool
        // reports free blocks, and a Timeout waiter runs out although every block it could use was released during its
        // wait. The releases wake it, but its retry never sees the cached blocks.
        var profile = new PlatformProfile(
            "review-cache",
            "one small pool in a small main RAM",
            [new MemoryRegion { Name = "main", Kind = RegionKind.Main, Size = 64 * 1024 }],
            new Dictionary<ResourceType, ResourceBudget>(),
            [new PoolConfig { Type = ResourceType.Memory, BlockSize = 64, InitialCount = 16, MaxCount = 16, ThreadCacheSize = 4 }]);
        using var manager = new ResourceManager(profile);
        manager.Acquire(new ResourceMetadata(ResourceType.Custom, manager.GetRegionStats(RegionKind.Main).LargestFreeBlock)); // main RAM full

        var handles = new ResourceHandle[16];
        using var rented = new ManualResetEventSlim(false);
        using var releaseSome = new ManualResetEventSlim(false);
        using var finish = new ManualResetEventSlim(false);
        var owner = new Thread(() =>
        {
            for (int i = 0; i < handles.Length; i++)
            {
                handles[i] = manager.Acquire(Mem(64));
            }

            rented.Set();
            releaseSome.Wait();
            for (int i = 0; i < 4; i++)
            {
                manager.Release(handles[i]);
                Thread.Sleep(100);
            }

            finish.Wait(); // stays alive, as a render or audio thread does
            for (int i = 4; i < handles.Length; i++)
            {
                manager.Release(handles[i]);
            }
        });
        owner.Start();
        Assert.True(rented.Wait(Patience));

        // Act: wait up to 2 s while the owner releases four blocks, 100 ms apart.
        releaseSome.Set();
        var watch = Stopwatch.StartNew();
        ResourceStatus waited = manager.TryAcquire(Mem(64), out ResourceHandle got, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromSeconds(2));
        watch.Stop();
        finish.Set();
        owner.Join();

        // Assert: a block released while another thread waits goes to the shared list, not to the releasing thread's
        // cache, so the waiter has it at once. (A block released before anyone waited stays in that live thread's cache
        // until it rents again: per-thread caches, documented; ThreadCacheSize = 0 gives a strict pool.)
        Assert.Equal(ResourceStatus.Ok, waited);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"served after {watch.Elapsed}: the releases during the wait did not reach it");
    }

    [Fact]
    public void ScopeRefusedForWantOfAPage_AcquiresNothing_AndCountsOneFailure()
    {
        // ResourceScope.TryAcquire returns PoolExhausted when no scope page is left, after acquiring the resource and
        // releasing it again. The refused request shows up as one acquisition and one release, and not as a failure.
        using var manager = new ResourceManager(TestProfiles.Small(), new ResourceManagerOptions { MaxScopePages = 1 });
        using (ResourceScope scope = manager.BeginScope())
        {
            for (int i = 0; i < HandleChain.ItemsPerPage; i++)
            {
                Assert.Equal(ResourceStatus.Ok, scope.TryAcquire(new ResourceMetadata(ResourceType.Custom, 16), out _));
            }

            ResourceStatus refused = scope.TryAcquire(new ResourceMetadata(ResourceType.Custom, 16), out _);
            ResourceStats stats = manager.GetStats(ResourceType.Custom);

            Assert.Equal(ResourceStatus.PoolExhausted, refused);
            Assert.Equal(HandleChain.ItemsPerPage, stats.Acquisitions);
            Assert.Equal(0, stats.Releases);
            Assert.Equal(1, stats.Failures);
        }
    }
}

public class ResourceManagerThreadsAndScopesTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task OnePerThreadOwners_NoFalseDeadlock_WhenAnotherThreadOfTheSameDriverReleases()
    {
        // An owner is one thread of control (README, ResourceOwner). A driver with a loader thread and a render thread
        // uses one owner per thread: B's wait then sees the render owner running, and is served when it releases.
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceOwner loader = manager.GetOwner("Driver.Loader");
        ResourceOwner render = manager.GetOwner("Driver.Render");
        ResourceOwner b = manager.GetOwner("B");
        ResourceHandle renderHardware = manager.Acquire(new ResourceMetadata(ResourceType.Hardware, TestProfiles.HardwareBudget - TestProfiles.HardwareReserve), owner: render);
        ResourceHandle bMemory = manager.Acquire(new ResourceMetadata(ResourceType.Memory, TestProfiles.MemoryBudget - TestProfiles.MemoryReserve), owner: b);

        // The loader waits for Memory (B is running: allowed).
        Task<ResourceStatus> loaderWaits = Task.Factory.StartNew(
            () => manager.TryAcquire(new ResourceMetadata(ResourceType.Memory, 1024), out _, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromSeconds(1.5), owner: loader),
            TaskCreationOptions.LongRunning);
        await Task.Delay(300);

        // The render thread is running and releases its Hardware shortly.
        Task renderReleases = Task.Run(async () =>
        {
            await Task.Delay(500);
            Assert.Equal(ResourceStatus.Ok, manager.Release(renderHardware, render));
        });

        ResourceStatus bStatus = manager.TryAcquire(new ResourceMetadata(ResourceType.Hardware, 1024), out _, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromSeconds(3), owner: b);
        await renderReleases.WaitAsync(Patience);
        manager.Release(bMemory, b);
        await loaderWaits.WaitAsync(Patience);

        Assert.Equal(ResourceStatus.Ok, bStatus);
    }

    [Fact]
    public void BlocksRentedThroughPools_AreNotLiveResources()
    {
        // README: "manager.Pools is for statistics: renting there ... is not the manager's resource". LiveCount ("live
        // handles"; the C header: "check fhr_live_count first to find leaks") counts such a block all the same, while the
        // leak report leaves it out.
        using var manager = new ResourceManager(TestProfiles.Small());
        Assert.Equal(ResourceStatus.Ok, manager.Pools.TryRent(ResourceType.Memory, 64, 16, out ResourceHandle around));

        Assert.Equal(0, manager.CreateLeakReport().Count);
        Assert.Equal(0, manager.LiveCount);
        manager.Pools.Return(around);
    }

    [Fact]
    public void ABlockRentedAroundTheManager_IsNotLive_EvenInMemoryAnEarlierManagerUsed()
    {
        // The manager's per-block records were not cleared when allocated: a new manager whose record table landed on
        // memory an earlier manager had filled with live records counted a block rented around it as live (seen as a
        // flaky failure of the test above).
        for (int round = 0; round < 50; round++)
        {
            using (var earlier = new ResourceManager(TestProfiles.Small()))
            {
                for (int i = 0; i < 16; i++)
                {
                    earlier.Acquire(new ResourceMetadata(ResourceType.Memory, 64)); // left live: freed with the manager
                }
            }

            using var manager = new ResourceManager(TestProfiles.Small());
            Assert.Equal(ResourceStatus.Ok, manager.Pools.TryRent(ResourceType.Memory, 64, 16, out ResourceHandle around));
            Assert.Equal(0, manager.LiveCount);
            manager.Pools.Return(around);
        }
    }

    [Fact]
    public void ScopePages_FreedByOneThread_AreAvailableToAnother()
    {
        // The same stranding for scope pages (a thread-safe pool with per-thread caches): with 16 pages, a thread that
        // ended all its scopes keeps a page cached, and another thread cannot begin its 16th scope. (Scopes are ref
        // structs, so the pages are taken the way TryBeginScope and ResourceScope.Dispose take them.)
        using var manager = new ResourceManager(TestProfiles.Small(), new ResourceManagerOptions { MaxScopePages = 16 });
        Assert.Equal(ResourceStatus.Ok, HandleChain.TryGetFor(manager, out HandleChain pages));
        using var done = new ManualResetEventSlim(false);
        using var finish = new ManualResetEventSlim(false);
        var first = new Thread(() =>
        {
            var lists = new ResourceHandle[15]; // an odd count: the cache of one page ends up holding the last
            for (int i = 0; i < lists.Length; i++)
            {
                Assert.Equal(ResourceStatus.Ok, pages.TryCreate(out lists[i]));  // BeginScope
            }

            foreach (ResourceHandle list in lists)
            {
                Assert.Equal(ResourceStatus.Ok, pages.Free(list));              // ResourceScope.Dispose
            }

            done.Set();
            finish.Wait(); // alive
        });
        first.Start();
        Assert.True(done.Wait(Patience));

        var statuses = new List<ResourceStatus>();
        for (int i = 0; i < 16; i++)
        {
            statuses.Add(manager.TryBeginScope(out _)); // never disposed: this test only counts pages
        }

        finish.Set();
        first.Join();
        Assert.All(statuses, s => Assert.Equal(ResourceStatus.Ok, s));
    }
}
