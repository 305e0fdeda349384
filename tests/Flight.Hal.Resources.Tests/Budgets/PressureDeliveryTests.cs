namespace Flight.Hal.Resources.Tests.Budgets;

/// <summary>How pressure changes reach callbacks: never re-entrantly, never lost, and always ending on the level usage is
/// at (issue 9, items 1 and 5).</summary>
public class PressureDeliveryTests
{
    private const long Budget = 1 << 20;

    /// <summary>A profile with one 4 MiB main region and a 1 MiB Memory budget (warning 80 %, critical 95 %).</summary>
    private static PlatformProfile OneRegion() => new(
        "custom",
        "one region",
        [new MemoryRegion { Name = "main", Kind = RegionKind.Main, Size = 4 << 20 }],
        new Dictionary<ResourceType, ResourceBudget> { [ResourceType.Memory] = new(Budget) },
        []);

    [Fact]
    public void PressureCallback_AcquiringAndReleasingAtALevelBoundary_IsNeverReentered()
    {
        // Arrange: the repro of issue 9 item 1. At High the callback acquires 4 KiB (crossing into Critical) and releases
        // it (back to High); delivered recursively, each change re-enters the callback without end.
        using var manager = new ResourceManager(OneRegion());
        int depth = 0;
        int maxDepth = 0;
        int calls = 0;
        using IDisposable registration = manager.RegisterPressureCallback((in PressureChange change) =>
        {
            calls++;
            depth++;
            maxDepth = Math.Max(maxDepth, depth);
            try
            {
                // The depth guard only keeps the old, recursive delivery from overflowing the stack in this test.
                if (change.Current >= ResourcePressure.High && depth < 50
                    && manager.TryAcquire(new ResourceMetadata(ResourceType.Memory, 4096), out ResourceHandle extra) == ResourceStatus.Ok)
                {
                    manager.Release(extra);
                }
            }
            finally
            {
                depth--;
            }
        });

        // Act
        ResourceHandle big = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 996_148 - 2048));

        // Assert: one delivery (None -> High); the callback's own Critical and back were coalesced away.
        Assert.Equal(1, maxDepth);
        Assert.Equal(1, calls);
        Assert.Equal(ResourcePressure.High, manager.GetPressure(ResourceType.Memory));
        Assert.Equal(996_148 - 2048, manager.GetStats(ResourceType.Memory).CurrentBytes);
        manager.Release(big);
        Assert.Equal(ResourcePressure.None, manager.GetPressure(ResourceType.Memory));
        Assert.Equal(2, calls);
    }

    [Fact]
    public void LevelChangeCausedInsideACallback_IsDeliveredAfterItReturns()
    {
        // Arrange: at High the callback releases the big resource, so the level falls to None inside the callback.
        using var manager = new ResourceManager(OneRegion());
        var seen = new List<(ResourcePressure From, ResourcePressure To, int Depth)>();
        int depth = 0;
        ResourceHandle big = default;
        using IDisposable registration = manager.RegisterPressureCallback((in PressureChange change) =>
        {
            depth++;
            seen.Add((change.Previous, change.Current, depth));
            if (change.Current == ResourcePressure.High)
            {
                manager.Release(big);
            }

            depth--;
        });

        // Act
        Assert.Equal(ResourceStatus.Ok, manager.TryAcquire(new ResourceMetadata(ResourceType.Memory, 900_000), out big));

        // Assert: two deliveries, in order, neither inside the other.
        Assert.Equal([(ResourcePressure.None, ResourcePressure.High, 1), (ResourcePressure.High, ResourcePressure.None, 1)], seen);
        Assert.Equal(ResourcePressure.None, manager.GetPressure(ResourceType.Memory));
        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
    }

    [Fact]
    public void BudgetManager_CallbackThatReservesAndReleases_GetsOneDelivery_AndAccountingStaysExact()
    {
        var budgets = new ResourceBudgetManager(new Dictionary<ResourceType, ResourceBudget> { [ResourceType.Memory] = new(1000) });
        int calls = 0;
        int depth = 0;
        int maxDepth = 0;
        budgets.RegisterPressureCallback((in PressureChange change) =>
        {
            calls++;
            maxDepth = Math.Max(maxDepth, ++depth);
            if (depth < 50 && budgets.TryReserve(ResourceType.Memory, 10) == ResourceStatus.Ok)
            {
                budgets.Release(ResourceType.Memory, 10);
            }

            depth--;
        });

        Assert.Equal(ResourceStatus.Ok, budgets.TryReserve(ResourceType.Memory, 945)); // 94.5 %: High; +10 crosses 95 %

        Assert.Equal(1, maxDepth);
        Assert.Equal(1, calls);
        ResourceStats stats = budgets.GetStats(ResourceType.Memory);
        Assert.Equal(945, stats.CurrentBytes);
        Assert.Equal(ResourcePressure.High, stats.Pressure);
        Assert.Equal(2, stats.Acquisitions);
        Assert.Equal(1, stats.Releases);
    }

    [Fact]
    public async Task PublishedLevel_MatchesUsage_AtEveryQuiescentPoint_UnderConcurrency()
    {
        // Arrange: two threads reserve and release across the Low and Medium boundaries at once; after each round both
        // stop at a barrier and the level is checked against usage (issue 9 item 5).
        var budgets = new ResourceBudgetManager(new Dictionary<ResourceType, ResourceBudget> { [ResourceType.Memory] = new(1000) });
        ResourcePressure lastDelivered = ResourcePressure.None;
        object deliveredLock = new();
        budgets.RegisterPressureCallback((in PressureChange change) =>
        {
            lock (deliveredLock)
            {
                lastDelivered = change.Current;
            }
        });
        const int Rounds = 20_000;
        int mismatches = 0;
        int deliveryMismatches = 0;
        using var barrier = new Barrier(2, _ =>
        {
            ResourceStats stats = budgets.GetStats(ResourceType.Memory);
            ResourcePressure expected = stats.Budget.PressureAt(stats.CurrentBytes);
            if (budgets.GetPressure(ResourceType.Memory) != expected)
            {
                mismatches++;
            }

            lock (deliveredLock)
            {
                if (lastDelivered != expected)
                {
                    deliveryMismatches++;
                }
            }
        });

        void Run(long size, int offset)
        {
            for (int round = 0; round < Rounds; round++)
            {
                if (((round + offset) & 1) == 0)
                {
                    budgets.TryReserve(ResourceType.Memory, size);
                }
                else if (budgets.GetStats(ResourceType.Memory).CurrentBytes >= size)
                {
                    try
                    {
                        budgets.Release(ResourceType.Memory, size);
                    }
                    catch (InvalidOperationException)
                    {
                        // The other thread released first: nothing was changed.
                    }
                }

                barrier.SignalAndWait();
            }
        }

        // Act
        Task a = Task.Factory.StartNew(() => Run(300, 0), TaskCreationOptions.LongRunning);
        Task b = Task.Factory.StartNew(() => Run(300, 1), TaskCreationOptions.LongRunning);
        await Task.WhenAll(a, b).WaitAsync(TimeSpan.FromSeconds(60));

        // Assert
        Assert.Equal(0, mismatches);
        Assert.Equal(0, deliveryMismatches);
    }
}
