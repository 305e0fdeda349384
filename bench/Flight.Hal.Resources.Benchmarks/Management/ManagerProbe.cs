namespace Flight.Hal.Resources.Benchmarks.Management;

/// <summary>Setup checks for the manager suites: that a request takes the path a suite says it measures.</summary>
public static class ManagerProbe
{
    /// <summary>Acquires one resource as described, reads where the manager placed it and releases it.</summary>
    /// <returns><see cref="ResourceInfo.Placement"/>: <c>"pool Memory/64"</c> or a region's name.</returns>
    public static string PlacementOf(ResourceManager manager, in ResourceMetadata metadata, string? name = null, ResourceOwner owner = default)
    {
        Check.Ok(manager.TryAcquire(in metadata, out ResourceHandle handle, name, owner: owner), "a probe acquisition");
        string placement = manager.GetInfo(handle).Placement;
        Check.Ok(owner.IsNone ? manager.Release(handle) : manager.Release(handle, owner), "the probe's release");
        return placement;
    }

    /// <summary>Throws unless <paramref name="metadata"/> is served by a pool.</summary>
    public static void ExpectPool(ResourceManager manager, in ResourceMetadata metadata, string? name = null, ResourceOwner owner = default)
    {
        string placement = PlacementOf(manager, in metadata, name, owner);
        Check.That(placement.StartsWith("pool", StringComparison.Ordinal), $"a pool placement, not '{placement}'");
    }
}
