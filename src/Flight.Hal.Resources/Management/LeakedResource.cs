namespace Flight.Hal.Resources;

/// <summary>One resource still alive when its <see cref="ResourceManager"/> was disposed (or a report was asked for).</summary>
/// <param name="Handle">Its handle.</param>
/// <param name="Name">Its name, or null.</param>
/// <param name="Type">Its resource type.</param>
/// <param name="Size">Bytes requested.</param>
/// <param name="Owner">The owner's name ("(none)" for none).</param>
/// <param name="Flags">Flags requested.</param>
/// <param name="Placement">Where its memory lives.</param>
/// <param name="AcquisitionStack">The stack that acquired it when <see cref="ResourceManagerOptions.CaptureAcquisitionStacks"/>
/// is on; otherwise null.</param>
public readonly record struct LeakedResource(
    ResourceHandle Handle,
    string? Name,
    ResourceType Type,
    long Size,
    string Owner,
    ResourceFlags Flags,
    string Placement,
    string? AcquisitionStack);
