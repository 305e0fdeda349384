namespace Flight.Hal.Resources;

/// <summary>How important a resource is when memory is short: lower priorities are evicted first.</summary>
/// <remarks>Ordered; values are also the C ABI's codes.</remarks>
public enum ResourcePriority
{
    /// <summary>Background data, first to go.</summary>
    Low = 0,

    /// <summary>Ordinary data (the default).</summary>
    Normal = 1,

    /// <summary>Time-critical data.</summary>
    High = 2,

    /// <summary>Data the system cannot run without.</summary>
    Critical = 3,
}
