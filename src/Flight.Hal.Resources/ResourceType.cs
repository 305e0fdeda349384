namespace Flight.Hal.Resources;

/// <summary>The kind of resource a budget, pool or statistic applies to.</summary>
/// <remarks>The categories of the Flight HAL design, numbered densely so they index arrays.
/// Values are also the C ABI's <c>fhr_resource_type</c> codes: never renumber one.</remarks>
public enum ResourceType
{
    /// <summary>General memory: buffers, game state, scratch.</summary>
    Memory = 0,

    /// <summary>Hardware-backed resources: video and sound memory, DMA regions, timers.</summary>
    Hardware = 1,

    /// <summary>Performance resources such as bandwidth or CPU-time quotas.</summary>
    Performance = 2,

    /// <summary>Communication resources: message queues and event channels.</summary>
    Communication = 3,

    /// <summary>Platform-specific resources.</summary>
    Platform = 4,

    /// <summary>Resources defined by the application.</summary>
    Custom = 5,
}
