namespace Flight.Hal.Resources;

/// <summary>Maps each <see cref="ResourceStatus"/> to its category and a fixed description.</summary>
/// <remarks>Every member is allocation-free and thread-safe.</remarks>
public static class ResourceStatusExtensions
{
    /// <summary>Returns the category that <paramref name="status"/> belongs to.</summary>
    /// <param name="status">Any status, including values this version does not know.</param>
    /// <returns><see cref="ResourceErrorCategory.None"/> for <see cref="ResourceStatus.Ok"/>;
    /// <see cref="ResourceErrorCategory.Platform"/> for an unknown value.</returns>
    public static ResourceErrorCategory GetCategory(this ResourceStatus status) => status switch
    {
        ResourceStatus.Ok => ResourceErrorCategory.None,
        ResourceStatus.BudgetExceeded => ResourceErrorCategory.Resource,
        ResourceStatus.PoolExhausted => ResourceErrorCategory.Resource,
        ResourceStatus.CapacityExceeded => ResourceErrorCategory.Resource,
        ResourceStatus.Timeout => ResourceErrorCategory.Resource,
        ResourceStatus.OutOfMemory => ResourceErrorCategory.Memory,
        ResourceStatus.RegionExhausted => ResourceErrorCategory.Memory,
        ResourceStatus.Fragmented => ResourceErrorCategory.Memory,
        ResourceStatus.Corrupted => ResourceErrorCategory.Memory,
        ResourceStatus.StaleHandle => ResourceErrorCategory.Validation,
        ResourceStatus.InvalidHandle => ResourceErrorCategory.Validation,
        ResourceStatus.NotFound => ResourceErrorCategory.Validation,
        ResourceStatus.InvalidArgument => ResourceErrorCategory.Validation,
        ResourceStatus.SharingFailure => ResourceErrorCategory.Sharing,
        ResourceStatus.Deadlock => ResourceErrorCategory.Sharing,
        _ => ResourceErrorCategory.Platform,
    };

    /// <summary>Returns a one-sentence, constant description of <paramref name="status"/>.</summary>
    /// <param name="status">Any status, including values this version does not know.</param>
    /// <returns>A literal string (never allocated per call); "Unknown status." for an unknown value.</returns>
    public static string GetDescription(this ResourceStatus status) => status switch
    {
        ResourceStatus.Ok => "The operation completed.",
        ResourceStatus.BudgetExceeded => "The resource type's budget is spent.",
        ResourceStatus.PoolExhausted => "The pool has no free block and may not grow.",
        ResourceStatus.StaleHandle => "The handle was released since it was issued.",
        ResourceStatus.OutOfMemory => "The native allocator could not provide the memory.",
        ResourceStatus.NotFound => "The requested name, pool or resource does not exist.",
        ResourceStatus.SharingFailure => "The resource cannot be shared or belongs to another owner.",
        ResourceStatus.Timeout => "The wait ran out of time.",
        ResourceStatus.Deadlock => "Waiting would deadlock between owners.",
        ResourceStatus.CapacityExceeded => "The table is at its capacity bound.",
        ResourceStatus.InvalidHandle => "The handle is null, forged or from another manager: it was never issued here.",
        ResourceStatus.RegionExhausted => "The memory region has too few free bytes.",
        ResourceStatus.Fragmented => "The memory region's free bytes are too fragmented for the request.",
        ResourceStatus.Corrupted => "Guard bytes or released memory were overwritten.",
        ResourceStatus.InvalidArgument => "An argument was invalid.",
        ResourceStatus.InternalError => "An internal error occurred.",
        _ => "Unknown status.",
    };
}
