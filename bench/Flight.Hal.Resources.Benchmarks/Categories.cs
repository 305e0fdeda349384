namespace Flight.Hal.Resources.Benchmarks;

/// <summary>Benchmark categories, for <c>--anyCategories</c>.</summary>
public static class Categories
{
    public const string Handles = "Handles";
    public const string Pools = "Pools";
    public const string Contention = "Contention";
    public const string Arena = "Arena";
    public const string Budgets = "Budgets";

    /// <summary>ResourceManager acquire/release, scoped forms, contention.</summary>
    public const string Manager = "Manager";

    /// <summary>The resource cache: hits, load/evict cycles.</summary>
    public const string Cache = "Cache";

    /// <summary>What diagnostics cost on the hot path: metrics listened to, the event source enabled, the safety mode.</summary>
    public const string Diagnostics = "Diagnostics";

    /// <summary>Curves: one operation's cost as the work around it grows (live handles, live resources, live blocks,
    /// active budget types); one class per curve, the growing quantity a <c>[Params]</c>.</summary>
    public const string Scaling = "Scaling";
}
