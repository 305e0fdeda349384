namespace Flight.Hal.Resources;

/// <summary>What a pressure callback is told: a type's pressure level changed.</summary>
/// <param name="Type">The resource type.</param>
/// <param name="Previous">The level before.</param>
/// <param name="Current">The level now.</param>
/// <param name="Stats">The type's statistics just after the change.</param>
public readonly record struct PressureChange(ResourceType Type, ResourcePressure Previous, ResourcePressure Current, ResourceStats Stats);
