using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

/// <summary>The one place that knows how many <see cref="ResourceType"/> values there are: tables indexed by type
/// size themselves from <see cref="Count"/>, and validation asks <see cref="IsDefined"/>.</summary>
internal static class ResourceTypes
{
    /// <summary>Number of resource types; values run 0..Count-1.</summary>
    public const int Count = (int)ResourceType.Custom + 1;

    /// <summary>Whether <paramref name="type"/> is one of the defined values (an index into per-type tables).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsDefined(ResourceType type) => (uint)type < Count;
}
