using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Budgets;

public class ResourceBudgetManagerTests
{
    private static ResourceBudgetManager Manager(long max = 1000, long reserved = 100) =>
        new(new Dictionary<ResourceType, ResourceBudget> { [ResourceType.Memory] = new(max, reserved, 80, 95) });

    [Fact]
    public void TryReserve_UpToTheOrdinaryLimit_ThenOneByteOver_Fails()
    {
        var budgets = Manager();

        Assert.Equal(ResourceStatus.Ok, budgets.TryReserve(ResourceType.Memory, 900));
        Assert.Equal(ResourceStatus.BudgetExceeded, budgets.TryReserve(ResourceType.Memory, 1));

        ResourceStats stats = budgets.GetStats(ResourceType.Memory);
        Assert.Equal(900, stats.CurrentBytes);
        Assert.Equal(1, stats.Failures);
        Assert.Equal(1, stats.Acquisitions);
    }

    [Fact]
    public void Reserve_IsOnlyForEmergency_AndOverrunIsCounted()
    {
        var budgets = Manager();
        budgets.TryReserve(ResourceType.Memory, 900);

        ResourceStatus ordinary = budgets.TryReserve(ResourceType.Memory, 50);
        ResourceStatus fromReserve = budgets.TryReserve(ResourceType.Memory, 100, BudgetMode.UseReserve);
        ResourceStatus pastMax = budgets.TryReserve(ResourceType.Memory, 1, BudgetMode.UseReserve);
        ResourceStatus overrun = budgets.TryReserve(ResourceType.Memory, 10, BudgetMode.AllowOverrun);

        ResourceStats stats = budgets.GetStats(ResourceType.Memory);
        Assert.Equal(ResourceStatus.BudgetExceeded, ordinary);
        Assert.Equal(ResourceStatus.Ok, fromReserve);          // exactly at max
        Assert.Equal(ResourceStatus.BudgetExceeded, pastMax);
        Assert.Equal(ResourceStatus.Ok, overrun);
        Assert.Equal(1010, stats.CurrentBytes);
        Assert.Equal(2, stats.ReserveAcquisitions);
        Assert.Equal(1, stats.EmergencyOverruns);
        Assert.Equal(1010, stats.PeakBytes);
    }

    [Fact]
    public void Release_ReturnsBytes_AndOverReleaseThrowsWithoutChangingAnything()
    {
        var budgets = Manager();
        budgets.TryReserve(ResourceType.Memory, 300);

        budgets.Release(ResourceType.Memory, 100);
        Assert.Throws<InvalidOperationException>(() => budgets.Release(ResourceType.Memory, 201));

        ResourceStats stats = budgets.GetStats(ResourceType.Memory);
        Assert.Equal(200, stats.CurrentBytes);
        Assert.Equal(1, stats.Releases);
        Assert.Equal(300, stats.PeakBytes);
    }

    [Fact]
    public void BadArguments_Throw()
    {
        var budgets = Manager();

        Assert.Throws<ArgumentOutOfRangeException>(() => budgets.TryReserve(ResourceType.Memory, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => budgets.TryReserve(ResourceType.Memory, -5));
        Assert.Throws<ArgumentOutOfRangeException>(() => budgets.TryReserve((ResourceType)77, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => budgets.Release(ResourceType.Memory, 0));
        Assert.Throws<ArgumentNullException>(() => budgets.RegisterPressureCallback(null!));
        Assert.Throws<ArgumentNullException>(() => budgets.RegisterReclamationCallback(ResourceType.Memory, null!));
        Assert.Throws<ArgumentNullException>(() => budgets.SetBudget(ResourceType.Memory, null!));
        Assert.Equal(0, budgets.GetStats(ResourceType.Memory).CurrentBytes);
    }

    [Fact]
    public void UnbudgetedTypes_AreUnlimited()
    {
        var budgets = Manager();

        Assert.Equal(ResourceStatus.Ok, budgets.TryReserve(ResourceType.Custom, 1L << 40));
        Assert.Same(ResourceBudget.Unlimited, budgets.GetBudget(ResourceType.Custom));
    }

    [Fact]
    public void PressureCallbacks_FireOncePerLevelChange_UpAndDown()
    {
        // Arrange
        var budgets = Manager();
        var changes = new List<(ResourcePressure From, ResourcePressure To, long Current)>();
        using IDisposable registration = budgets.RegisterPressureCallback((in PressureChange c) =>
            changes.Add((c.Previous, c.Current, c.Stats.CurrentBytes)));

        // Act: up through every level with several reservations per level, then back down.
        foreach (long bytes in new long[] { 100, 100, 100, 100, 100, 100, 100, 100, 100, 50 })
        {
            budgets.TryReserve(ResourceType.Memory, bytes, BudgetMode.UseReserve);
        }

        budgets.Release(ResourceType.Memory, 450); // 500: Medium
        budgets.Release(ResourceType.Memory, 500); // 0: None

        // Assert
        Assert.Equal(
        [
            (ResourcePressure.None, ResourcePressure.Low, 300),
            (ResourcePressure.Low, ResourcePressure.Medium, 500),
            (ResourcePressure.Medium, ResourcePressure.High, 800),
            (ResourcePressure.High, ResourcePressure.Critical, 950),
            (ResourcePressure.Critical, ResourcePressure.Medium, 500),
            (ResourcePressure.Medium, ResourcePressure.None, 0),
        ], changes);
        Assert.Equal(ResourcePressure.None, budgets.GetPressure(ResourceType.Memory));
    }

    [Fact]
    public void PressureCallback_Unregistered_StopsFiring()
    {
        var budgets = Manager();
        int calls = 0;
        IDisposable registration = budgets.RegisterPressureCallback((in PressureChange _) => calls++);
        budgets.TryReserve(ResourceType.Memory, 300);
        registration.Dispose();
        registration.Dispose();

        budgets.TryReserve(ResourceType.Memory, 300);

        Assert.Equal(1, calls);
    }

    [Fact]
    public void SetBudget_ReevaluatesPressure()
    {
        var budgets = Manager();
        budgets.TryReserve(ResourceType.Memory, 300);
        var seen = new List<ResourcePressure>();
        budgets.RegisterPressureCallback((in PressureChange c) => seen.Add(c.Current));

        budgets.SetBudget(ResourceType.Memory, new ResourceBudget(310));

        Assert.Equal([ResourcePressure.Critical], seen);
        Assert.Equal(ResourceStatus.BudgetExceeded, budgets.TryReserve(ResourceType.Memory, 11));
        Assert.Equal(ResourceStatus.Ok, budgets.TryReserve(ResourceType.Memory, 10));
    }

    [Fact]
    public void ThrowingPressureCallback_IsIsolated_AndAccountingStaysExact()
    {
        // Arrange
        var budgets = Manager();
        var faults = new List<CallbackFaultEventArgs>();
        budgets.CallbackFaulted += (_, e) => faults.Add(e);
        int laterCallbackCalls = 0;
        budgets.RegisterPressureCallback((in PressureChange _) => throw new InvalidOperationException("boom"));
        budgets.RegisterPressureCallback((in PressureChange _) => laterCallbackCalls++);

        // Act
        ResourceStatus status = budgets.TryReserve(ResourceType.Memory, 300);

        // Assert
        Assert.Equal(ResourceStatus.Ok, status);
        Assert.Equal(300, budgets.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(1, laterCallbackCalls);
        Assert.Single(faults);
        Assert.False(faults[0].IsReclamation);
        Assert.Equal("boom", faults[0].Exception.Message);
        Assert.Equal(1, budgets.CallbackFaults);
    }

    [Fact]
    public void ThrowingFaultHandler_IsSwallowedToo()
    {
        var budgets = Manager();
        budgets.CallbackFaulted += (_, _) => throw new InvalidOperationException("handler");
        budgets.RegisterPressureCallback((in PressureChange _) => throw new InvalidOperationException("callback"));

        Assert.Equal(ResourceStatus.Ok, budgets.TryReserve(ResourceType.Memory, 300));
        Assert.Equal(1, budgets.CallbackFaults);
    }

    [Fact]
    public void PressureCallback_MayReleaseReentrantly()
    {
        // A critical-pressure handler that frees memory from inside the callback.
        var budgets = Manager();
        var levels = new List<ResourcePressure>();
        budgets.RegisterPressureCallback((in PressureChange c) =>
        {
            levels.Add(c.Current);
            if (c.Current == ResourcePressure.Critical)
            {
                budgets.Release(ResourceType.Memory, 700);
            }
        });

        budgets.TryReserve(ResourceType.Memory, 960, BudgetMode.UseReserve);

        Assert.Equal(260, budgets.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal([ResourcePressure.Critical, ResourcePressure.Low], levels);
    }

    [Fact]
    public void ReclamationCallback_IsAskedForTheMissingBytes_AndItsReleasesLetTheRequestThrough()
    {
        // Arrange: 800 of 900 used by a cache that can give back 100-byte entries.
        var budgets = Manager();
        budgets.TryReserve(ResourceType.Memory, 800);
        long cached = 800;
        var asked = new List<long>();
        budgets.RegisterReclamationCallback(ResourceType.Memory, (type, requested) =>
        {
            asked.Add(requested);
            long freed = 0;
            while (freed < requested && cached > 0)
            {
                budgets.Release(type, 100);
                cached -= 100;
                freed += 100;
            }

            return freed;
        });

        // Act
        ResourceStatus status = budgets.TryReserve(ResourceType.Memory, 250);

        // Assert
        ResourceStats stats = budgets.GetStats(ResourceType.Memory);
        Assert.Equal(ResourceStatus.Ok, status);
        Assert.Equal([150L], asked);
        Assert.Equal(850, stats.CurrentBytes); // 800 - 200 reclaimed + 250
        Assert.Equal(1, stats.Reclamations);
        Assert.Equal(200, stats.ReclaimedBytes);
        Assert.Equal(0, stats.Failures);
    }

    [Fact]
    public void ReclamationCallbacks_ThatThrowOrFreeNothing_LeadToBudgetExceeded()
    {
        var budgets = Manager();
        budgets.TryReserve(ResourceType.Memory, 900);
        int faults = 0;
        budgets.CallbackFaulted += (_, e) => faults += e.IsReclamation ? 1 : 0;
        budgets.RegisterReclamationCallback(ResourceType.Memory, (_, _) => throw new InvalidOperationException());
        budgets.RegisterReclamationCallback(ResourceType.Memory, (_, _) => 0);

        ResourceStatus status = budgets.TryReserve(ResourceType.Memory, 10);

        ResourceStats stats = budgets.GetStats(ResourceType.Memory);
        Assert.Equal(ResourceStatus.BudgetExceeded, status);
        Assert.Equal(1, faults);
        Assert.Equal(2, stats.Reclamations);
        Assert.Equal(900, stats.CurrentBytes);
        Assert.Equal(1, stats.Failures);
    }

    [Fact]
    public void ReclamationCallback_Unregistered_IsNotAsked()
    {
        var budgets = Manager();
        budgets.TryReserve(ResourceType.Memory, 900);
        int calls = 0;
        budgets.RegisterReclamationCallback(ResourceType.Memory, (_, _) => ++calls).Dispose();

        budgets.TryReserve(ResourceType.Memory, 10);

        Assert.Equal(0, calls);
    }

    [Fact]
    public void ConcurrentReserveAndRelease_KeepAccountingExact()
    {
        var budgets = Manager(max: 1_000_000, reserved: 0);
        long succeeded = 0;

        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, worker =>
        {
            var random = new Random(worker);
            long mine = 0;
            for (int i = 0; i < 50_000; i++)
            {
                long bytes = random.Next(1, 100);
                if (budgets.TryReserve(ResourceType.Memory, bytes) == ResourceStatus.Ok)
                {
                    mine += bytes;
                    Interlocked.Increment(ref succeeded);
                }

                if (mine > 5_000)
                {
                    budgets.Release(ResourceType.Memory, mine);
                    mine = 0;
                }
            }

            if (mine > 0)
            {
                budgets.Release(ResourceType.Memory, mine);
            }
        });

        ResourceStats stats = budgets.GetStats(ResourceType.Memory);
        Assert.Equal(0, stats.CurrentBytes);
        Assert.Equal(succeeded, stats.Acquisitions);
        Assert.Equal(ResourcePressure.None, stats.Pressure);
    }

    [Fact]
    public void SteadyState_ReserveRelease_AllocatesNothing()
    {
        var budgets = Manager(max: 1_000_000, reserved: 0);

        long bytes = Allocations.Measure(() =>
        {
            budgets.TryReserve(ResourceType.Memory, 64);
            budgets.Release(ResourceType.Memory, 64);
        });

        Assert.Equal(0, bytes);
    }
}
