using System.Diagnostics;
using Flight.Hal.Resources;

// engine-loop: a fixed-step game loop on the Dreamcast profile, as an engine would drive the library.
//   Load:    each level's textures (GPU-visible, video RAM) and meshes (main RAM) through a ResourceCache, by name.
//   Update:  per-frame scratch (particles, a command list) through a ResourceScope, released at the frame's end.
//   Draw:    textures pinned while "the GPU reads them" (PinScoped), then video RAM defragmented a little per frame.
//   Unload:  the level's cache references released; the cache keeps what fits and evicts when the budget asks.
// Usage: engine-loop [frames-per-level (default 120)]. Exits 1 if anything leaked or the accounting is off.
int framesPerLevel = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 120;
const double Step = 1.0 / 60; // fixed update step, seconds

using var manager = new ResourceManager(PlatformProfile.Get("dreamcast"), new ResourceManagerOptions { TrackAcquisitionTimes = true });
using IDisposable metrics = ResourceMetrics.Track(manager, "engine-loop");
using var assets = new ResourceCache<Asset>(manager, new ResourceCacheOptions<Asset> { Name = "assets" });

string[][] levels =
[
    ["title.tex", "font.tex", "logo.mesh"],
    ["docks.tex", "water.tex", "crane.mesh", "ship.mesh", "font.tex"],
    ["finale.tex", "boss.tex", "boss.mesh", "arena.mesh", "font.tex"],
];

long frame = 0;
double simulated = 0;
for (int level = 0; level < levels.Length; level++)
{
    // Load: by name through the cache; a name still resident (the font) is a hit, not a load.
    var held = new List<CacheRef<Asset>>();
    foreach (string name in levels[level])
    {
        held.Add(assets.GetOrLoad(name, LoadAsset));
    }

    var clock = Stopwatch.StartNew();
    for (int f = 0; f < framesPerLevel; f++, frame++)
    {
        manager.MarkFrame();

        // Update, at a fixed step: scratch memory lives for this frame only.
        simulated += Step;
        using (ResourceScope scratch = manager.BeginScope())
        {
            Span<float> particles = scratch.AcquireSpan<float>(256);
            particles.Fill((float)simulated);
            scratch.Acquire(new ResourceMetadata(ResourceType.Memory, 2048)); // a command list
        }

        // Draw: every texture's address goes to "the GPU", pinned so defragmentation cannot move it mid-read.
        foreach (CacheRef<Asset> asset in held)
        {
            if (asset.Value.IsTexture)
            {
                using PinnedResource pinned = manager.PinScoped(asset.Value.Memory);
                SubmitToGpu(manager.ResolveAddress(asset.Value.Memory));
            }
        }

        // Between frames: compact video RAM a little (a budget of bytes per frame), while nothing is pinned.
        manager.Defragment(RegionKind.Video, 64 * 1024);
    }

    RegionStats video = manager.GetRegionStats(RegionKind.Video);
    ResourceStats memory = manager.GetStats(ResourceType.Memory);
    Console.WriteLine(
        $"level {level}: {framesPerLevel} frames in {clock.Elapsed.TotalMilliseconds:0.0} ms; video RAM {video.UsedBytes / 1024} KiB used, " +
        $"largest free block {video.LargestFreeBlock / 1024} KiB; Memory peak {memory.PeakBytes / 1024} KiB; cache {assets.GetStats().Hits} hits");

    // Unload: release the level's references; unreferenced assets stay resident until the budget needs the room.
    foreach (CacheRef<Asset> asset in held)
    {
        asset.Dispose();
    }
}

assets.UnloadUnused();
ResourceSnapshot snapshot = manager.GetSnapshot();
bool clean = manager.LiveCount == 0 && Enum.GetValues<ResourceType>().All(t => manager.GetStats(t).CurrentBytes == 0);
Console.WriteLine($"{frame} frames, {snapshot.Caches[0].Misses} assets loaded, {snapshot.Caches[0].Hits} cache hits; " +
                  (clean ? "nothing left alive, accounting exact" : $"LEAK: {manager.LiveCount} alive"));
return clean ? 0 : 1;

static Asset LoadAsset(CacheLoadContext context)
{
    // A real engine reads the file here; the sample sizes assets by kind.
    bool texture = context.Key.EndsWith(".tex", StringComparison.Ordinal);
    ResourceHandle memory = texture
        ? context.Acquire(new ResourceMetadata(ResourceType.Hardware, 128 * 1024, 32, ResourceFlags.GpuAccessible), name: context.Key)
        : context.Acquire(new ResourceMetadata(ResourceType.Memory, 256 * 1024, 32), name: context.Key);
    return new Asset(memory, texture);
}

static void SubmitToGpu(nint address) => Debug.Assert(address != 0, "a pinned texture resolves");

/// <summary>A loaded asset: its native memory and whether the GPU reads it.</summary>
internal sealed record Asset(ResourceHandle Memory, bool IsTexture);
