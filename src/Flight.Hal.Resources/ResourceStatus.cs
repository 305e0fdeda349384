namespace Flight.Hal.Resources;

/// <summary>The outcome of an operation that can fail for reasons a correct caller must expect.</summary>
/// <remarks>
/// <para>Values are the C ABI's <c>fhr_status</c> codes: never renumber or reuse one. New values are appended.</para>
/// <para>Each value belongs to one <see cref="ResourceErrorCategory"/>; see
/// <see cref="ResourceStatusExtensions.GetCategory(ResourceStatus)"/>.</para>
/// </remarks>
public enum ResourceStatus
{
    /// <summary>The operation completed.</summary>
    Ok = 0,

    /// <summary>The type's budget is spent. Release something, or retry with a waiting or emergency mode.</summary>
    BudgetExceeded = 1,

    /// <summary>The pool has no free block and may not grow past its maximum count.</summary>
    PoolExhausted = 2,

    /// <summary>The handle's slot was freed (and may have been reused) since the handle was issued. Nothing was touched.</summary>
    StaleHandle = 3,

    /// <summary>The native allocator could not provide the memory. Nothing was changed.</summary>
    OutOfMemory = 4,

    /// <summary>The name, pool or resource that was looked up does not exist.</summary>
    NotFound = 5,

    /// <summary>The resource cannot be shared, or the handle belongs to another owner.</summary>
    SharingFailure = 6,

    /// <summary>A waiting acquisition ran out of time before room was made.</summary>
    Timeout = 7,

    /// <summary>Waiting would close a wait-for cycle between owners, so the wait was refused.</summary>
    Deadlock = 8,

    /// <summary>The handle table or registry holds as many live entries as its capacity allows. Free one and retry.</summary>
    CapacityExceeded = 9,

    /// <summary>The handle is <see langword="default"/> (null), forged, or from another manager: it was never issued by
    /// the callee. Nothing was touched.</summary>
    InvalidHandle = 10,

    /// <summary>The memory region has fewer free bytes than the request needs.</summary>
    RegionExhausted = 11,

    /// <summary>The memory region has enough free bytes, but no single free block is big enough: they are split into
    /// pieces by live allocations (as on the real hardware).</summary>
    Fragmented = 12,

    /// <summary>The resource manager's memory-safety mode found damage: guard bytes around a resource, or memory written
    /// after it was released, were overwritten.</summary>
    Corrupted = 13,

    /// <summary>C ABI only: an argument the managed API would reject with an exception.</summary>
    InvalidArgument = 254,

    /// <summary>C ABI only: an unexpected managed exception was caught at the boundary.</summary>
    InternalError = 255,
}
