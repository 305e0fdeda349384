using Flight.Hal.Resources;

// The README's first steps, from the package: a generational slot map, the manager on a profile, a cache, a snapshot.
using var table = new HandleTable<long>(capacity: 1024);
Handle<long> player = table.Allocate(1);
table.Get(player) += 2;
table.Free(player);
Check(table.Free(player) == ResourceStatus.StaleHandle, "a double free is detected");

using var manager = new ResourceManager(PlatformProfile.Get("dreamcast"));
ResourceHandle mesh = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 256 * 1024), name: "level.mesh");
manager.GetSpan(mesh).Fill(1);
using (var cache = new ResourceCache<string>(manager, new ResourceCacheOptions<string> { Name = "assets" }))
{
    cache.GetOrLoad("font", context =>
    {
        context.Acquire(new ResourceMetadata(ResourceType.Hardware, 4096, flags: ResourceFlags.GpuAccessible));
        return "font";
    }).Dispose();
    Check(cache.GetStats().Entries == 1, "the cache holds the font");
}

ResourceSnapshot snapshot = manager.GetSnapshot();
Check(snapshot.LargestResources[0].Name == "level.mesh", "the snapshot names the largest resource");
Check(manager.Release(mesh) == ResourceStatus.Ok, "release");
Check(manager.LiveCount == 0, "nothing left alive");
Console.WriteLine($"package consumer ({System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}): ok");
return 0;

static void Check(bool condition, string what)
{
    if (!condition)
    {
        Console.Error.WriteLine($"package consumer: FAILED: {what}");
        Environment.Exit(1);
    }
}
