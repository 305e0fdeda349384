namespace Flight.Hal.Resources;

/// <summary>The broad class of a <see cref="ResourceStatus"/>, for code written against the HAL's
/// <c>error.category()</c> / <c>error.code()</c> style.</summary>
public enum ResourceErrorCategory
{
    /// <summary>No error: the status is <see cref="ResourceStatus.Ok"/>.</summary>
    None = 0,

    /// <summary>A budget, pool, capacity or waiting limit was reached; retrying later may succeed.</summary>
    Resource = 1,

    /// <summary>The native allocator or a memory region could not provide the bytes.</summary>
    Memory = 2,

    /// <summary>The request or handle is not valid (stale, null, malformed or unknown).</summary>
    Validation = 3,

    /// <summary>Sharing between owners failed, or waiting between owners would deadlock.</summary>
    Sharing = 4,

    /// <summary>The platform boundary (the C ABI) reported an internal failure.</summary>
    Platform = 5,
}
