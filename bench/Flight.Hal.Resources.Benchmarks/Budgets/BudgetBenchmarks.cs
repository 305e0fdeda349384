using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Budgets;

/// <summary>Budget accounting per acquisition: reserve + release of 64 bytes through <see cref="ResourceBudgetManager"/>
/// (lock-free, with counters, peak and pressure), against the straight implementation of the published design (a lock
/// around a dictionary of per-type counters, <c>Baseline</c>) and the floor (two bare <c>Interlocked.Add</c> calls).</summary>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Budgets)]
public class BudgetAccountingBenchmarks
{
    private ResourceBudgetManager _budgets = null!;
    private LockedBudgets _locked = null!;
    private long _bare;

    [GlobalSetup]
    public void Setup()
    {
        _budgets = new ResourceBudgetManager(new Dictionary<ResourceType, ResourceBudget>
        {
            [ResourceType.Memory] = new(1L << 30, 1L << 26),
        });
        _locked = new LockedBudgets(1L << 30);
    }

    [Benchmark(Baseline = true)]
    public bool LockedDictionary()
    {
        bool ok = _locked.TryReserve(ResourceType.Memory, 64);
        _locked.Release(ResourceType.Memory, 64);
        return ok;
    }

    [Benchmark]
    public long BareInterlocked()
    {
        Interlocked.Add(ref _bare, 64);
        return Interlocked.Add(ref _bare, -64);
    }

    [Benchmark]
    public ResourceStatus ResourceBudgetManager()
    {
        ResourceStatus status = _budgets.TryReserve(ResourceType.Memory, 64);
        _budgets.Release(ResourceType.Memory, 64);
        return status;
    }

    /// <summary>The C++ design's ResourceBudgetManager, written straight: a lock and a map of usage per type.</summary>
    private sealed class LockedBudgets(long max)
    {
        private readonly object _lock = new();
        private readonly Dictionary<ResourceType, long> _used = new() { [ResourceType.Memory] = 0 };

        public bool TryReserve(ResourceType type, long bytes)
        {
            lock (_lock)
            {
                long used = _used[type];
                if (used + bytes > max)
                {
                    return false;
                }

                _used[type] = used + bytes;
                return true;
            }
        }

        public void Release(ResourceType type, long bytes)
        {
            lock (_lock)
            {
                _used[type] -= bytes;
            }
        }
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
