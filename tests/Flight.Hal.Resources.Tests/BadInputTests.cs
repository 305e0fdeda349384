using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests;

/// <summary>Bad input at the entries an adversarial suite found escaping as the wrong exception, or leaking (issue 9
/// items 7 and 9). Each must give a clear exception or status and leave nothing behind.</summary>
public class BadInputTests
{
    [Theory]
    [InlineData(long.MaxValue)]
    [InlineData(long.MaxValue - 8)]
    [InlineData(1L << 40)]
    [InlineData(4097)]
    public void ArenaConfig_ReservedStartBeyondTheRegion_IsRejected_AndNothingIsAllocated(long reservedStart)
    {
        var allocator = new TrackingAllocator();
        var config = new ArenaConfig { Size = 4096, ReservedStart = reservedStart };

        Assert.Throws<ArgumentOutOfRangeException>(config.Validate);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Arena(config, allocator));
        Assert.Equal(0, allocator.LiveBytes);
    }

    [Theory]
    [InlineData("""{ "name": "x", "regions": [null] }""")]
    [InlineData("""{ "name": "x", "regions": [ { "name": "main", "kind": "Main", "size": 1024 } ], "pools": [null] }""")]
    [InlineData("""{ "name": "x", "regions": [ { "name": "main", "kind": "Main", "size": 1024 } ], "budgets": { "Memory": null } }""")]
    [InlineData("""{ "name": "x", "regions": [ { "name": "main", "kind": "Main", "size": 65536, "reservedStart": 9223372036854775800 } ] }""")]
    [InlineData("""{ "name": "x", "regions": [ { "name": "main", "kind": "Main", "size": 1024 } ], "budgets": { "Memory": { "maxPercent": 1e300 } } }""")]
    public void PlatformProfile_FromJson_NullsAndOutOfRangeValues_AreFormatExceptions(string json)
    {
        Assert.Throws<FormatException>(() => PlatformProfile.FromJson(json));
    }

    [Theory]
    [InlineData(double.NaN, 0)]
    [InlineData(50, double.NaN)]
    [InlineData(double.PositiveInfinity, 0)]
    [InlineData(double.NegativeInfinity, 0)]
    public void ResourceBudget_FromPercentages_NaNOrInfinity_IsArgumentOutOfRange(double max, double reserved)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ResourceBudget.FromPercentages(1 << 20, max, reserved));
    }

    [Fact]
    public void BudgetManager_UnknownMode_IsRejected_AndNothingIsReserved()
    {
        var budgets = new ResourceBudgetManager(new Dictionary<ResourceType, ResourceBudget> { [ResourceType.Memory] = new(100) });

        Assert.Throws<ArgumentOutOfRangeException>(() => budgets.TryReserve(ResourceType.Memory, 1000, (BudgetMode)42));

        ResourceStats stats = budgets.GetStats(ResourceType.Memory);
        Assert.Equal(0, stats.CurrentBytes);
        Assert.Equal(0, stats.EmergencyOverruns);
        Assert.Equal(0, stats.Acquisitions);
    }

    [Fact]
    public void BudgetManager_ReserveAndRelease_AllocateNothing_EvenWithManyManagers()
    {
        // Issue 9 item 7: per-thread counters lived in 64 slots shared by managers; two managers in one slot made every
        // reserve and release allocate a new counter block, and a list grew without bound.
        var managers = new ResourceBudgetManager[200];
        for (int i = 0; i < managers.Length; i++)
        {
            managers[i] = new ResourceBudgetManager();
        }

        long allocated = Allocations.Measure(
            () =>
            {
                foreach (ResourceBudgetManager budgets in managers)
                {
                    budgets.TryReserve(ResourceType.Memory, 16);
                    budgets.Release(ResourceType.Memory, 16);
                }
            },
            iterations: 50);

        Assert.Equal(0, allocated);
        foreach (ResourceBudgetManager budgets in managers)
        {
            ResourceStats stats = budgets.GetStats(ResourceType.Memory);
            Assert.Equal(150, stats.Acquisitions);
            Assert.Equal(150, stats.Releases);
        }
    }

    [Fact]
    public void TryBeginScope_WhenNoPageCanBeAllocated_ReturnsOutOfMemory()
    {
        var allocator = new TrackingAllocator();
        using var manager = new ResourceManager(TestProfiles.Small(), new ResourceManagerOptions { Allocator = allocator });
        allocator.FailAll = true;

        ResourceStatus status = manager.TryBeginScope(out ResourceScope scope);

        Assert.Equal(ResourceStatus.OutOfMemory, status);
        scope.Dispose(); // default scope: harmless
        allocator.Heal();
        Assert.Equal(ResourceStatus.Ok, manager.TryBeginScope(out ResourceScope healed));
        healed.Dispose();
    }

    [Fact]
    public void ScopeAcquireSpan_LargerThanASpan_Throws_AndChargesNothing()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        manager.SetBudget(ResourceType.Memory, ResourceBudget.Unlimited);
        using ResourceScope scope = manager.BeginScope();

        try
        {
            scope.AcquireSpan<long>(300_000_000);
            Assert.Fail("2.4 GB cannot be a span");
        }
        catch (ArgumentOutOfRangeException)
        {
            // expected
        }

        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(0, scope.Count);
    }

    [Fact]
    public void ManagerNames_OfReleasedResources_DoNotStayInternedForever()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var weak = new List<WeakReference>();

        for (int i = 0; i < 5_000; i++)
        {
            string name = $"asset-{i}";
            weak.Add(new WeakReference(name));
            ResourceHandle handle = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 32), name: name);
            manager.Release(handle);
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        int reachable = weak.Count(w => w.IsAlive);
        Assert.True(reachable <= ResourceManagerOptions.DefaultMaxRetainedNames, $"{reachable} released names still interned");
    }

    [Fact]
    public void BlockRentedAroundTheManager_IsNotReportedAsLeaked_AndManagerHandlesCannotBeReturnedToThePool()
    {
        LeakReport? report = null;
        var manager = new ResourceManager(TestProfiles.Small(), new ResourceManagerOptions { LeakReported = r => report = r });
        ResourceHandle managed = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 20));
        manager.Release(managed);
        SlabPool pool = manager.Pools.GetPool(ResourceType.Memory, 64)!;
        ResourceHandle around = pool.Rent();  // the block whose record still describes the released resource
        ResourceHandle live = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 20));

        Assert.Throws<ArgumentException>(() => manager.Pools.Return(live));
        Assert.Throws<ArgumentException>(() => pool.Return(live));
        Assert.Equal(20, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.True(manager.Contains(live));
        Assert.Equal(ResourceStatus.InvalidHandle, manager.Release(around));
        Assert.Equal(ResourceStatus.Ok, pool.Return(around));

        manager.Dispose();
        Assert.NotNull(report);
        LeakedResource leaked = Assert.Single(report!.Resources);
        Assert.Equal(live, leaked.Handle);
    }
}

/// <summary>Takes every handle tag of the process, so it runs alone.</summary>
[Collection(ProcessWideState.Name)]
public class TagExhaustionTests
{
    [Fact]
    public void Constructors_FailingBecauseEveryTagIsInUse_KeepNoNativeMemory()
    {
        var allocator = new TrackingAllocator();
        var held = new List<IDisposable>();
        try
        {
            // Take every free tag.
            while (true)
            {
                try
                {
                    held.Add(new HandleTable<byte>(1));
                }
                catch (InvalidOperationException)
                {
                    break;
                }
            }

            Assert.ThrowsAny<InvalidOperationException>(() => new HandleTable<long>(16, allocator));
            Assert.ThrowsAny<InvalidOperationException>(() => new SlabPool(new PoolConfig { BlockSize = 64, InitialCount = 4, MaxCount = 8 }, allocator));
            Assert.ThrowsAny<InvalidOperationException>(() => new Arena(new ArenaConfig { Size = 4096 }, allocator));
            Assert.Equal(0, allocator.LiveBytes);
        }
        finally
        {
            foreach (IDisposable d in held)
            {
                d.Dispose();
            }
        }
    }
}
