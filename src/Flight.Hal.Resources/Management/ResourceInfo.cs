namespace Flight.Hal.Resources;

/// <summary>What a <see cref="ResourceManager"/> knows about one live handle.</summary>
/// <param name="Handle">The handle asked about.</param>
/// <param name="Type">The resource type whose budget it counts against.</param>
/// <param name="Size">Bytes requested (the budget counts these).</param>
/// <param name="Flags">Flags requested.</param>
/// <param name="Priority">Priority requested.</param>
/// <param name="AccessPattern">Access pattern requested.</param>
/// <param name="Name">Its name, or null.</param>
/// <param name="Owner">The owner this handle belongs to.</param>
/// <param name="ShareCount">Owners holding a handle to the same memory (1 unless shared).</param>
/// <param name="Placement">Where the memory lives: a pool ("pool Memory/64") or a region's name.</param>
public readonly record struct ResourceInfo(
    ResourceHandle Handle,
    ResourceType Type,
    long Size,
    ResourceFlags Flags,
    ResourcePriority Priority,
    AccessPattern AccessPattern,
    string? Name,
    ResourceOwner Owner,
    int ShareCount,
    string Placement);
