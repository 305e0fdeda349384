using System.Text.Json.Serialization;

namespace Flight.Hal.Resources;

/// <summary>Source-generated serialisation of <see cref="ResourceSnapshot"/>: no reflection, safe under NativeAOT and
/// trimming.</summary>
[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ResourceSnapshot))]
internal sealed partial class ResourceSnapshotJsonContext : JsonSerializerContext;
