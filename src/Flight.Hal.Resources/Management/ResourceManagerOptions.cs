namespace Flight.Hal.Resources;

/// <summary>How a <see cref="ResourceManager"/> is set up beyond its <see cref="PlatformProfile"/>.</summary>
/// <remarks>Immutable once passed to the manager; the defaults suit a game on any built-in profile.</remarks>
public sealed record ResourceManagerOptions
{
    /// <summary>Default for <see cref="MaxRegisteredResources"/>.</summary>
    public const int DefaultMaxRegisteredResources = 64 * 1024;

    /// <summary>Most resources alive at once that live in the registry rather than in a pool's own record: named,
    /// shareable, owned, region-placed (not pooled) resources and every extra owner of a shared one. Pooled anonymous
    /// resources are bounded by their pools instead. 1 to <see cref="HandleTable{T}.MaxCapacity"/>.</summary>
    /// <remarks>The registry reserves 32 bytes per entry up front (address space; pages are touched as it fills).</remarks>
    public int MaxRegisteredResources { get; init; } = DefaultMaxRegisteredResources;

    /// <summary>Default for <see cref="MaxRetainedNames"/>.</summary>
    public const int DefaultMaxRetainedNames = 1024;

    /// <summary>Resource names that no live resource carries any more but that stay interned, so acquiring under them
    /// again allocates nothing (the most recently released are kept). Names of live resources are always interned; beyond
    /// this many idle ones, the longest idle is forgotten. 0 to 1,048,576.</summary>
    public int MaxRetainedNames { get; init; } = DefaultMaxRetainedNames;

    /// <summary>Record each acquisition's stack trace for the leak report (slow and allocating: a debugging aid).</summary>
    public bool CaptureAcquisitionStacks { get; init; }

    /// <summary>Record when each resource was acquired, so that a diagnostics snapshot can give the age of the largest
    /// live resources. One dictionary entry per live resource (allocating): a debugging aid, off by default. On as well
    /// when <see cref="CaptureAcquisitionStacks"/> is.</summary>
    public bool TrackAcquisitionTimes { get; init; }

    /// <summary>Called by <see cref="ResourceManager.Dispose"/> with the resources still alive, when there are any.
    /// An exception it throws is caught: the manager still returns all of its native memory.</summary>
    public Action<LeakReport>? LeakReported { get; init; }

    /// <summary>The memory-safety mode: fill patterns, guard bytes around every resource, and a watch on released
    /// memory (<see cref="MemorySafetyOptions"/>); off when null (the default).</summary>
    public MemorySafetyOptions? MemorySafety { get; init; }

    /// <summary>Pools to create instead of the profile's plan (each made thread-safe), or null for the profile's.</summary>
    public IReadOnlyList<PoolConfig>? Pools { get; init; }

    /// <summary>Where the manager's own native memory comes from (registry, records, host-heap regions, region arenas);
    /// <see cref="NativeAllocator.Default"/> when null. Tests inject failures and count bytes through it.</summary>
    public NativeAllocator? Allocator { get; init; }

    /// <summary>Pages of 30 handles available to all <c>ResourceScope</c>s at once (256 bytes each, allocated as
    /// needed). 1 to 1,048,576.</summary>
    /// <remarks>The one setting a higher layer reads (Scoping's page store, which the manager only keeps and disposes):
    /// it lives here so that one options object configures a manager and everything attached to it.</remarks>
    public int MaxScopePages { get; init; } = 4096;

    /// <summary>Throws if a value is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is out of range.</exception>
    public void Validate()
    {
        if (MaxRegisteredResources < 1 || MaxRegisteredResources > HandleTable<int>.MaxCapacity)
        {
            throw new ArgumentOutOfRangeException(
                nameof(MaxRegisteredResources), MaxRegisteredResources, $"Must be 1 to {HandleTable<int>.MaxCapacity}.");
        }

        if (MaxRetainedNames < 0 || MaxRetainedNames > 1 << 20)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRetainedNames), MaxRetainedNames, "Must be 0 to 1,048,576.");
        }

        if (MaxScopePages < 1 || MaxScopePages > 1 << 20)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxScopePages), MaxScopePages, "Must be 1 to 1,048,576.");
        }

        MemorySafety?.Validate();
    }
}
