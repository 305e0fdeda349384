using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Budgets;

/// <summary>Budget accounting per acquisition, one type: reserve + release of 64 bytes through
/// <see cref="ResourceBudgetManager"/> (lock-free, with counters, peak and pressure), against a lock-free add-and-undo
/// budget (<see cref="InterlockedBudgets"/>, the baseline: two <c>Interlocked.Add</c> per pair, the floor of a lock-free
/// budget) and the straight implementation of the published design (<see cref="LockedBudgets"/>: a lock around a
/// dictionary of per-type usage).</summary>
/// <remarks>Each invocation loops <see cref="PerInvoke.Ops"/> pairs; figures are per pair. <c>BudgetScalingBenchmarks</c>
/// spreads the same pairs over 1 and 6 types.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Budgets)]
public class BudgetAccountingBenchmarks
{
    private const long Bytes = 64;

    private ResourceBudgetManager _budgets = null!;
    private LockedBudgets _locked = null!;
    private InterlockedBudgets _interlocked = null!;

    [GlobalSetup]
    public void Setup()
    {
        _budgets = new ResourceBudgetManager(new Dictionary<ResourceType, ResourceBudget>
        {
            [ResourceType.Memory] = new(1L << 30, 1L << 26),
        });
        _locked = new LockedBudgets(1, 1L << 30);
        _interlocked = new InterlockedBudgets(1, 1L << 30);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = PerInvoke.Ops)]
    public int InterlockedAddWithLimit()
    {
        int ok = 0;
        InterlockedBudgets budgets = _interlocked;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            ok += budgets.TryReserve(ResourceType.Memory, Bytes) ? 1 : 0;
            budgets.Release(ResourceType.Memory, Bytes);
        }

        return ok;
    }

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public int LockedDictionary()
    {
        int ok = 0;
        LockedBudgets budgets = _locked;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            ok += budgets.TryReserve(ResourceType.Memory, Bytes) ? 1 : 0;
            budgets.Release(ResourceType.Memory, Bytes);
        }

        return ok;
    }

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public int ResourceBudgetManager()
    {
        int ok = 0;
        ResourceBudgetManager budgets = _budgets;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            ok += budgets.TryReserve(ResourceType.Memory, Bytes) == ResourceStatus.Ok ? 1 : 0;
            budgets.Release(ResourceType.Memory, Bytes);
        }

        return ok;
    }
}

/// <summary>Evaluating the pressure level of a usage figure: <see cref="ResourceBudget.PressureAt"/> (precomputed byte
/// thresholds) against the percentage arithmetic a direct port of the design would do (<c>Baseline</c>).</summary>
/// <remarks>Each invocation evaluates 1,024 usages spread over 0–110 % of the budget; figures are per evaluation.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Budgets)]
public class PressureEvaluationBenchmarks
{
    private const int Count = 1024;
    private readonly ResourceBudget _budget = new(10_066_329, 1_677_721, 80, 95);
    private long[] _usages = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(5);
        _usages = Enumerable.Range(0, Count).Select(_ => (long)(random.NextDouble() * 1.1 * _budget.MaxBytes)).ToArray();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Count)]
    public int PercentageArithmetic()
    {
        int sum = 0;
        foreach (long used in _usages)
        {
            double percent = (double)used / _budget.MaxBytes * 100.0;
            sum += percent >= _budget.CriticalPercent ? 4 : percent >= _budget.WarningPercent ? 3 : percent >= 50 ? 2 : percent >= 25 ? 1 : 0;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Count)]
    public int PressureAt()
    {
        int sum = 0;
        ResourceBudget budget = _budget;
        foreach (long used in _usages)
        {
            sum += (int)budget.PressureAt(used);
        }

        return sum;
    }
}
