using System.Text.Json.Serialization;

namespace Flight.Hal.Resources;

/// <summary>Source-generated reading of <see cref="ResourceSnapshot"/> (<see cref="ResourceSnapshot.FromJson"/>): no
/// reflection, safe under NativeAOT and trimming. Writing is <see cref="ResourceSnapshotWriter"/>'s.</summary>
[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ResourceSnapshot))]
internal sealed partial class ResourceSnapshotJsonContext : JsonSerializerContext;
