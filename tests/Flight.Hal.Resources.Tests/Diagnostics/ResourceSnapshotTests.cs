using System.Text;
using System.Text.Json;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Diagnostics;

/// <summary>The JSON snapshot: written, parsed back, and every figure compared with the manager's own queries.</summary>
public class ResourceSnapshotTests
{
    private static readonly ResourceType[] Types = Enum.GetValues<ResourceType>();

    [Fact]
    public void Snapshot_RoundTripsThroughJson_AndAgreesWithEveryQuery()
    {
        using var manager = new ResourceManager(TestProfiles.Small(), new ResourceManagerOptions { TrackAcquisitionTimes = true });
        ResourceOwner renderer = manager.GetOwner("renderer");
        ResourceOwner audio = manager.GetOwner("audio");
        using var cache = new ResourceCache<string>(manager, new() { Name = "levels" });
        manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64));                                        // pooled, anonymous
        manager.Acquire(new ResourceMetadata(ResourceType.Memory, 10_000), name: "level.mesh", owner: renderer); // main region
        ResourceHandle texture = manager.Acquire(
            new ResourceMetadata(ResourceType.Hardware, 3000, flags: ResourceFlags.GpuAccessible | ResourceFlags.Shareable), name: "hero.tex", owner: renderer);
        manager.Share(texture, audio);
        ResourceHandle gap = manager.Acquire(new ResourceMetadata(ResourceType.Hardware, 2048, flags: ResourceFlags.GpuAccessible));
        manager.Acquire(new ResourceMetadata(ResourceType.Hardware, 1024, flags: ResourceFlags.GpuAccessible));
        manager.Release(gap); // a hole in video RAM: two free blocks
        manager.TryAcquire(new ResourceMetadata(ResourceType.Memory, 60_000), out _);                         // BudgetExceeded
        cache.GetOrLoad("intro", context =>
        {
            context.Acquire(new ResourceMetadata(ResourceType.Memory, 5000));
            return "intro";
        }).Dispose();

        var stream = new MemoryStream();
        manager.WriteSnapshot(stream);
        string json = Encoding.UTF8.GetString(stream.ToArray());
        ResourceSnapshot snapshot = ResourceSnapshot.FromJson(json);

        Assert.Equal(ResourceSnapshot.CurrentVersion, snapshot.Version);
        Assert.Equal("test-small", snapshot.Profile);
        Assert.Equal(manager.LiveCount, snapshot.LiveHandles);
        Assert.Equal(Types.Length, snapshot.Types.Count);
        foreach (ResourceType type in Types)
        {
            ResourceStats stats = manager.GetStats(type);
            TypeSnapshot t = snapshot.Types.Single(x => x.Type == type);
            Assert.Equal(stats.Budget.MaxBytes, t.BudgetBytes);
            Assert.Equal(stats.Budget.ReservedBytes, t.ReservedBytes);
            Assert.Equal(stats.CurrentBytes, t.CurrentBytes);
            Assert.Equal(stats.PeakBytes, t.PeakBytes);
            Assert.Equal(stats.Acquisitions, t.Acquisitions);
            Assert.Equal(stats.Releases, t.Releases);
            Assert.Equal(stats.Failures, t.Failures);
            Assert.Equal(stats.Pressure, t.Pressure);
            Assert.Equal(stats.Failures, t.FailuresByStatus.Values.Sum());
        }

        Assert.Equal(1, snapshot.Types.Single(t => t.Type == ResourceType.Memory).FailuresByStatus["BudgetExceeded"]);

        RegionStats[] regions = manager.GetRegionStats();
        Assert.Equal(regions.Length, snapshot.Regions.Count);
        for (int i = 0; i < regions.Length; i++)
        {
            RegionSnapshot r = snapshot.Regions[i];
            Assert.Equal(regions[i].Name, r.Name);
            Assert.Equal(regions[i].UsedBytes, r.UsedBytes);
            Assert.Equal(regions[i].FreeBytes, r.FreeBytes);
            Assert.Equal(regions[i].LargestFreeBlock, r.LargestFreeBlock);
            Assert.Equal(regions[i].Allocations, r.Allocations);

            // The histogram accounts for every free byte, and its largest bucket holds the largest free block.
            Assert.Equal(r.FreeBytes, r.FreeBlocks.Sum(b => b.Bytes));
            Assert.All(r.FreeBlocks, b => Assert.InRange(b.Bytes, b.Count * b.MinBytes, b.Count * b.MaxBytes));
            Assert.InRange(r.LargestFreeBlock, r.FreeBlocks[^1].MinBytes, r.FreeBlocks[^1].MaxBytes);
        }

        Assert.Equal(2, snapshot.Regions.Single(r => r.Name == "video").FreeBlocks.Sum(b => b.Count));

        Assert.Equal(manager.Pools.Pools.Count, snapshot.Pools.Count);
        Assert.Equal(manager.Pools.Pools.Sum(p => p.GetStats().UsedBlocks), snapshot.Pools.Sum(p => p.UsedBlocks));

        OwnerSnapshot rendererSnapshot = snapshot.Owners.Single(o => o.Name == "renderer");
        Assert.Equal(2, rendererSnapshot.Resources);
        Assert.Equal(13_000, rendererSnapshot.Bytes);
        Assert.Equal(10_000, rendererSnapshot.BytesByType["Memory"]);
        Assert.Equal(3000, rendererSnapshot.BytesByType["Hardware"]);
        OwnerSnapshot audioSnapshot = snapshot.Owners.Single(o => o.Name == "audio");
        Assert.Equal(1, audioSnapshot.Resources);
        Assert.Equal(3000, audioSnapshot.Bytes);
        Assert.Equal(5000, snapshot.Owners.Single(o => o.Name == "cache:levels").Bytes);
        foreach (OwnerStats owner in manager.GetOwnerStats())
        {
            Assert.Equal(owner.Bytes, snapshot.Owners.Single(o => o.Name == owner.Owner.Name).Bytes);
        }

        CacheSnapshot levels = Assert.Single(snapshot.Caches);
        Assert.Equal("levels", levels.Name);
        Assert.Equal("cache:levels", levels.Owner);
        Assert.Equal(1, levels.Entries);
        Assert.Equal(5000, levels.ResidentBytes);
        Assert.Equal(1, levels.Misses);

        LiveResourceSnapshot largest = snapshot.LargestResources[0];
        Assert.Equal("level.mesh", largest.Name);
        Assert.Equal(10_000, largest.Size);
        Assert.Equal("renderer", largest.Owner);
        Assert.Equal("main", largest.Placement);
        Assert.NotNull(largest.AgeSeconds);
        Assert.InRange(largest.AgeSeconds!.Value, 0, 600);
        Assert.Equal([10_000, 5000, 3000, 3000, 1024, 64], snapshot.LargestResources.Select(r => r.Size));
        Assert.Equal(
            ResourceFlags.GpuAccessible | ResourceFlags.Shareable,
            snapshot.LargestResources.First(r => r.Name == "hero.tex").Flags);
    }

    /// <summary>The snapshot is written by hand (see ResourceSnapshotWriter) and read by the source-generated context:
    /// what the hand writes is exactly what the generated serializer would write.</summary>
    [Fact]
    public void TheHandWrittenJson_IsWhatTheSourceGeneratedSerializerWrites()
    {
        using var manager = new ResourceManager(TestProfiles.Small(), new ResourceManagerOptions { TrackAcquisitionTimes = true });
        using var cache = new ResourceCache<string>(manager, new() { Name = "c" });
        ResourceOwner owner = manager.GetOwner("o");
        manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64));
        manager.Acquire(new ResourceMetadata(ResourceType.Hardware, 3000, flags: ResourceFlags.GpuAccessible | ResourceFlags.Shareable), name: "t", owner: owner);
        manager.Acquire(new ResourceMetadata(ResourceType.Memory, 9000), owner: owner);
        manager.TryAcquire(new ResourceMetadata(ResourceType.Memory, 60_000), out _);
        cache.GetOrLoad("k", context =>
        {
            context.Acquire(new ResourceMetadata(ResourceType.Memory, 500));
            return "k";
        }).Dispose();
        ResourceSnapshot snapshot = manager.GetSnapshot();

        string generated = JsonSerializer.Serialize(snapshot, ResourceSnapshotJsonContext.Default.ResourceSnapshot);

        Assert.Equal(generated, snapshot.ToJson());
        Assert.Equal(generated, Encoding.UTF8.GetString(ResourceSnapshotWriter.ToUtf8(snapshot)));
    }

    [Fact]
    public void Json_HasTheDocumentedShape_CamelCaseWithEnumNames()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        manager.Acquire(new ResourceMetadata(ResourceType.Memory, 1000), name: "a");
        using JsonDocument document = JsonDocument.Parse(manager.GetSnapshotUtf8());
        JsonElement root = document.RootElement;
        Assert.Equal(1, root.GetProperty("version").GetInt32());
        Assert.Equal("test-small", root.GetProperty("profile").GetString());
        foreach (string section in new[] { "types", "regions", "pools", "owners", "caches", "largestResources" })
        {
            Assert.Equal(JsonValueKind.Array, root.GetProperty(section).ValueKind);
        }

        Assert.Equal("Memory", root.GetProperty("types")[0].GetProperty("type").GetString());
        Assert.Equal("None", root.GetProperty("types")[0].GetProperty("pressure").GetString());
        Assert.Equal("Main", root.GetProperty("regions")[0].GetProperty("kind").GetString());
        JsonElement resource = root.GetProperty("largestResources")[0];
        Assert.Equal("a", resource.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, resource.GetProperty("ageSeconds").ValueKind); // times not tracked
        Assert.Matches("^0x[0-9a-f]{16}$", resource.GetProperty("handle").GetString());
    }

    [Fact]
    public void WriterOverload_WritesOneValue_InsideTheCallersDocument()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("atFailure");
            manager.WriteSnapshot(writer, largestResources: 0);
            writer.WriteEndObject();
        }

        using JsonDocument document = JsonDocument.Parse(buffer.ToArray());
        Assert.Equal(1, document.RootElement.GetProperty("atFailure").GetProperty("version").GetInt32());
        Assert.Equal(0, document.RootElement.GetProperty("atFailure").GetProperty("largestResources").GetArrayLength());
    }

    [Fact]
    public void LargestResources_IsBounded_AndHostHeapRegionsReportOnePiece()
    {
        using var manager = new ResourceManager(TestProfiles.Small(mainBacking: RegionBacking.HostHeap));
        for (int i = 0; i < 30; i++)
        {
            manager.Acquire(new ResourceMetadata(ResourceType.Memory, 1000 + i), name: "r" + i);
        }

        ResourceSnapshot snapshot = manager.GetSnapshot(largestResources: 5);
        Assert.Equal(["r29", "r28", "r27", "r26", "r25"], snapshot.LargestResources.Select(r => r.Name));
        RegionSnapshot main = snapshot.Regions[0];
        Assert.Equal(RegionBacking.HostHeap, main.Backing);
        FreeBlockBucket piece = Assert.Single(main.FreeBlocks);
        Assert.Equal(main.FreeBytes, piece.Bytes);
    }

    [Fact]
    public void ADisposedCache_IsNoLongerListed()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var first = new ResourceCache<string>(manager, new() { Name = "first" });
        using var second = new ResourceCache<string>(manager, new() { Name = "second" });
        Assert.Equal(["first", "second"], manager.GetSnapshot().Caches.Select(c => c.Name));
        first.Dispose();
        Assert.Equal(["second"], manager.GetSnapshot().Caches.Select(c => c.Name));
    }

    [Fact]
    public void BadInput_IsRefusedClearly_AndTheManagerIsUnaffected()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceHandle handle = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 1000));
        Assert.Throws<ArgumentNullException>(() => ResourceDiagnostics.GetSnapshot(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => manager.GetSnapshot(-1));
        Assert.Throws<ArgumentNullException>(() => manager.WriteSnapshot((Stream)null!));
        Assert.Throws<ArgumentNullException>(() => manager.WriteSnapshot((Utf8JsonWriter)null!));
        Assert.Throws<ArgumentException>(() => manager.WriteSnapshot(new MemoryStream([], writable: false)));
        Assert.Throws<FormatException>(() => ResourceSnapshot.FromJson("{ not json"));
        Assert.Throws<FormatException>(() => ResourceSnapshot.FromJson("null"));
        Assert.Throws<FormatException>(() => ResourceSnapshot.FromJson("{\"version\": 99}"));
        Assert.Throws<ArgumentNullException>(() => ResourceSnapshot.FromJson(null!));
        Assert.Equal(1000, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(ResourceStatus.Ok, manager.Release(handle));

        manager.Dispose();
        Assert.Throws<ObjectDisposedException>(() => manager.GetSnapshot());
        Assert.Throws<ObjectDisposedException>(() => manager.WriteSnapshot(new MemoryStream()));
    }
}
