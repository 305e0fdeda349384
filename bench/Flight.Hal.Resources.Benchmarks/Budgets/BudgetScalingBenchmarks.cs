using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Budgets;

/// <summary>The budget curve: reserve + release of 64 bytes with <see cref="Types"/> resource types active — 1
/// (<see cref="ResourceType.Memory"/> only) or all 6, each with its own budget, consecutive pairs taking the types in
/// turn — through <see cref="ResourceBudgetManager"/>, against the lock-free add-and-undo budget
/// (<see cref="InterlockedBudgets"/>, the baseline) and the locked dictionary (<see cref="LockedBudgets"/>), each with
/// the same types.</summary>
/// <remarks>Each invocation loops <see cref="PerInvoke.Ops"/> pairs over a type sequence made in setup; figures are per
/// pair.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Budgets, Categories.Scaling)]
public class BudgetScalingBenchmarks
{
    private const long Bytes = 64;

    private ResourceBudgetManager _budgets = null!;
    private LockedBudgets _locked = null!;
    private InterlockedBudgets _interlocked = null!;
    private ResourceType[] _sequence = [];

    [Params(1, 6)]
    public int Types { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var budgets = new Dictionary<ResourceType, ResourceBudget>();
        for (int t = 0; t < Types; t++)
        {
            budgets[(ResourceType)t] = new ResourceBudget(1L << 30, 1L << 26);
        }

        _budgets = new ResourceBudgetManager(budgets);
        _locked = new LockedBudgets(Types, 1L << 30);
        _interlocked = new InterlockedBudgets(Types, 1L << 30);
        _sequence = [.. Enumerable.Range(0, PerInvoke.Ops).Select(i => (ResourceType)(i % Types))];
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = PerInvoke.Ops)]
    public int InterlockedAddWithLimit()
    {
        int ok = 0;
        InterlockedBudgets budgets = _interlocked;
        foreach (ResourceType type in _sequence)
        {
            ok += budgets.TryReserve(type, Bytes) ? 1 : 0;
            budgets.Release(type, Bytes);
        }

        return ok;
    }

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public int LockedDictionary()
    {
        int ok = 0;
        LockedBudgets budgets = _locked;
        foreach (ResourceType type in _sequence)
        {
            ok += budgets.TryReserve(type, Bytes) ? 1 : 0;
            budgets.Release(type, Bytes);
        }

        return ok;
    }

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public int ResourceBudgetManager()
    {
        int ok = 0;
        ResourceBudgetManager budgets = _budgets;
        foreach (ResourceType type in _sequence)
        {
            ok += budgets.TryReserve(type, Bytes) == ResourceStatus.Ok ? 1 : 0;
            budgets.Release(type, Bytes);
        }

        return ok;
    }
}
