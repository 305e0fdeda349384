namespace Flight.Hal.Resources.Tests.Budgets;

public class ResourceBudgetTests
{
    [Theory]
    [InlineData(-1, 0, 80, 95)]
    [InlineData(100, -1, 80, 95)]
    [InlineData(100, 101, 80, 95)]
    [InlineData(100, 0, 0, 95)]
    [InlineData(100, 0, 95, 95)]
    [InlineData(100, 0, 96, 95)]
    [InlineData(100, 0, 80, 101)]
    public void Constructor_InvalidValues_Throw(long max, long reserved, int warning, int critical)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResourceBudget(max, reserved, warning, critical));
    }

    [Theory]
    [InlineData(0, ResourcePressure.None)]
    [InlineData(249, ResourcePressure.None)]
    [InlineData(250, ResourcePressure.Low)]
    [InlineData(499, ResourcePressure.Low)]
    [InlineData(500, ResourcePressure.Medium)]
    [InlineData(799, ResourcePressure.Medium)]
    [InlineData(800, ResourcePressure.High)]
    [InlineData(949, ResourcePressure.High)]
    [InlineData(950, ResourcePressure.Critical)]
    [InlineData(1000, ResourcePressure.Critical)]
    [InlineData(5000, ResourcePressure.Critical)]
    public void PressureAt_FollowsTheDocumentedLevels(long used, ResourcePressure expected)
    {
        var budget = new ResourceBudget(1000, 100, warningPercent: 80, criticalPercent: 95);

        Assert.Equal(expected, budget.PressureAt(used));
    }

    [Fact]
    public void PressureAt_WarningBelowHalf_TakesPrecedenceOverMedium()
    {
        var budget = new ResourceBudget(1000, 0, warningPercent: 40, criticalPercent: 60);

        Assert.Equal(ResourcePressure.Low, budget.PressureAt(300));
        Assert.Equal(ResourcePressure.High, budget.PressureAt(400));
        Assert.Equal(ResourcePressure.Critical, budget.PressureAt(600));
    }

    [Fact]
    public void PressureAt_ZeroBudget_IsCriticalOnceAnythingIsUsed()
    {
        var budget = new ResourceBudget(0);

        Assert.Equal(ResourcePressure.None, budget.PressureAt(0));
        Assert.Equal(ResourcePressure.Critical, budget.PressureAt(1));
    }

    [Fact]
    public void PressureAt_HugeBudget_DoesNotOverflow()
    {
        Assert.Equal(ResourcePressure.None, ResourceBudget.Unlimited.PressureAt(1L << 40));
        Assert.Equal(ResourcePressure.Critical, ResourceBudget.Unlimited.PressureAt(long.MaxValue));
    }

    [Fact]
    public void FromPercentages_OfDreamcastMainRam_GivesTheDesignFigures()
    {
        const long Main = 16 * 1024 * 1024;

        ResourceBudget memory = ResourceBudget.FromPercentages(Main, 60, 10);
        ResourceBudget hardware = ResourceBudget.FromPercentages(Main, 20, 5);

        Assert.Equal(10_066_329, memory.MaxBytes);   // 9.6 MiB
        Assert.Equal(1_677_721, memory.ReservedBytes); // 1.6 MiB
        Assert.Equal(3_355_443, hardware.MaxBytes);  // 3.2 MiB
        Assert.Equal(838_860, hardware.ReservedBytes); // 0.8 MiB
        Assert.Equal(memory.MaxBytes - memory.ReservedBytes, memory.OrdinaryLimit);
    }
}
