namespace Flight.Hal.Resources;

/// <summary>How a resource's memory will be accessed; a hint for placement and caching.</summary>
/// <remarks>Values are also the C ABI's codes.</remarks>
public enum AccessPattern
{
    /// <summary>Read and written (the default).</summary>
    ReadWrite = 0,

    /// <summary>Only read after it is filled.</summary>
    ReadOnly = 1,

    /// <summary>Only written (for example a buffer the hardware reads).</summary>
    WriteOnly = 2,

    /// <summary>Read or written front to back, once (streams, audio).</summary>
    Streaming = 3,

    /// <summary>Read and written at random positions.</summary>
    Random = 4,
}
