using System.Numerics;
using System.Text.RegularExpressions;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests;

/// <summary>The README's examples, each copied verbatim (between the <c>README example</c> and <c>end</c> comments),
/// compiled and run, then checked against what the README says they do. <see cref="EveryReadmeExample_IsCopiedHereVerbatim"/>
/// fails when an example in README.md and its copy here differ.</summary>
[Collection(ProcessWideState.Name)] // the manager example writes its leak report to the console, captured here
public partial class ReadmeExamplesTests
{
    private struct Transform
    {
        public float X;
    }

    /// <summary>The cache example's value: a texture object over its native texels.</summary>
    private sealed record Texture(string Key, ResourceHandle Texels);

    [Fact]
    public void EveryReadmeExample_IsCopiedHereVerbatim()
    {
        string readme = Repository.ReadAllText("README.md");
        string here = Repository.ReadAllText(Path.Combine("tests", "Flight.Hal.Resources.Tests", "ReadmeExamplesTests.cs"));
        string[] copy = Normalized(here);
        string[] examples = CSharpBlock().Matches(readme).Select(m => m.Groups["code"].Value).ToArray();

        Assert.Equal(8, examples.Length);
        foreach (string example in examples)
        {
            Assert.StartsWith("using Flight.Hal.Resources;", example, StringComparison.Ordinal);
            string[] lines = Normalized(example).Where(line => !UsingDirective().IsMatch(line)).ToArray();
            bool found = Enumerable.Range(0, copy.Length - lines.Length + 1).Any(start => copy.AsSpan(start, lines.Length).SequenceEqual(lines));
            Assert.True(found, "README example not copied verbatim into ReadmeExamplesTests.cs:\n" + string.Join("\n", lines));
        }
    }

    [Fact]
    public void GenerationalSlotMap_Example()
    {
        // README example
        // Transform: any unmanaged struct, such as struct Transform { public float X; }
        using var table = new HandleTable<Transform>(capacity: 1024);

        Handle<Transform> player = table.Allocate(new Transform { X = 1 });
        table.Get(player).X += 2;                     // ref access, checked

        table.Free(player);                           // ResourceStatus.Ok
        ResourceStatus again = table.Free(player);    // ResourceStatus.StaleHandle: detected, nothing touched
        bool alive = table.Contains(player);          // false

        foreach (HandleTable<Transform>.Entry entry in table)   // live entries only, no allocation
        {
            entry.Value.X = 0;
        }
        // end

        Assert.Equal(ResourceStatus.StaleHandle, again);
        Assert.False(alive);
        Assert.Equal(0, table.Count);
        Handle<Transform> next = table.Allocate(new Transform { X = 5 });
        Assert.NotEqual(player, next); // the slot may be reused, under a new generation
        Assert.Equal(5f, table.Get(next).X);
    }

    [Fact]
    public void FixedSizeBlocks_Example()
    {
        // README example
        using var pool = new SlabPool(new PoolConfig
        {
            BlockSize = 4096,
            Alignment = 64,
            InitialCount = 16,  // allocated up front
            MaxCount = 256,     // grows slab by slab up to this, then PoolExhausted
            ThreadSafe = true,  // per-thread caches: no lock on the fast path
        });

        if (pool.TryRent(out ResourceHandle block) == ResourceStatus.Ok)
        {
            Span<byte> bytes = pool.GetSpan(block);   // 4096 bytes, 64-byte aligned
            bytes.Clear();
            pool.Return(block);                       // a second Return gives StaleHandle
        }
        // end

        Assert.False(block.IsNull);
        Assert.Equal(ResourceStatus.StaleHandle, pool.Return(block));
        Assert.Equal(0, pool.GetStats().UsedBlocks);
        ResourceHandle again = pool.Rent();
        Assert.Equal(4096, pool.GetSpan(again).Length);
        Assert.Equal(ResourceStatus.Ok, pool.TryResolve(again, out nint address));
        Assert.Equal(0, address % 64);
    }

    [Fact]
    public void PoolsRoutedByTypeAndSize_Example()
    {
        // README example
        using var pools = new PoolManager(
        [
            new PoolConfig { Type = ResourceType.Memory, BlockSize = 64, MaxCount = 1024 },
            new PoolConfig { Type = ResourceType.Memory, BlockSize = 4096, MaxCount = 64 },
        ]);

        pools.TryRent(ResourceType.Memory, size: 100, alignment: 16, out ResourceHandle handle); // 4096-byte pool
        PoolStats stats = pools.GetPoolStats(ResourceType.Memory, 4096);                          // used 1
        pools.Return(handle);                                                                     // routed by the handle
        // end

        Assert.False(handle.IsNull);
        Assert.Equal(1, stats.UsedBlocks);
        Assert.Equal(0, pools.GetPoolStats(ResourceType.Memory, 4096).UsedBlocks);
        Assert.Equal(ResourceStatus.StaleHandle, pools.Return(handle));
    }

    [Fact]
    public void FixedRegion_Example()
    {
        // README example
        PlatformProfile dc = PlatformProfile.Get("dreamcast");
        using var vram = new Arena(dc.FindRegion(RegionKind.Video)!.ToArenaConfig()); // 8 MiB, 32-byte aligned

        ResourceStatus status = vram.TryAllocate(512 * 512 * 2, alignment: 0, out ResourceHandle texture);
        // Ok, RegionExhausted (too few bytes free) or Fragmented (enough bytes, but only in pieces)
        vram.TryResolve(texture, out nint address, out long size);
        ArenaStats stats = vram.GetStats();   // used, free, largest free block, fragmentation
        vram.Free(texture);
        // end

        Assert.Equal(ResourceStatus.Ok, status);
        Assert.Equal(512 * 512 * 2, size);
        Assert.Equal(0, address % 32);
        Assert.Equal(8 * 1024 * 1024 - size, stats.FreeBytes);
        Assert.Equal(8 * 1024 * 1024, vram.GetStats().FreeBytes);
        Assert.Equal(ResourceStatus.StaleHandle, vram.Free(texture));
    }

    [Fact]
    public void BudgetsAndPressure_Example()
    {
        // README example
        var budgets = new ResourceBudgetManager(PlatformProfile.Dreamcast.Budgets); // Memory: 9.6 MiB, 1.6 MiB reserved

        using IDisposable onPressure = budgets.RegisterPressureCallback((in PressureChange change) =>
            Console.WriteLine($"{change.Type}: {change.Previous} -> {change.Current} at {change.Stats.CurrentBytes} bytes"));
        using IDisposable onShortage = budgets.RegisterReclamationCallback(ResourceType.Memory,
            (type, requestedBytes) => 0 /* evict caches, Release(type, n) and return n */);

        budgets.TryReserve(ResourceType.Memory, 4096);                           // Ok, or BudgetExceeded
        budgets.TryReserve(ResourceType.Memory, 4096, BudgetMode.UseReserve);    // emergencies may use the reserve
        budgets.Release(ResourceType.Memory, 8192);
        // end

        Assert.Equal(0, budgets.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(2, budgets.GetStats(ResourceType.Memory).Acquisitions);
        Assert.Equal(ResourceStatus.BudgetExceeded, budgets.TryReserve(ResourceType.Memory, 9 * 1024 * 1024));
        Assert.Equal(1, budgets.GetStats(ResourceType.Memory).Reclamations); // the shortage callback was asked
    }

    [Fact]
    public void ResourceManager_Example()
    {
        var output = new StringWriter();
        TextWriter console = Console.Out;
        Console.SetOut(output);
        try
        {
            Example();
        }
        finally
        {
            Console.SetOut(console);
        }

        // Disposal reported `spare`, the one resource left: 256 KiB of Memory from the Emergency acquisition.
        string report = output.ToString();
        Assert.Contains("1 resource(s) alive in a 'dreamcast' manager, 262144 bytes", report, StringComparison.Ordinal);
        Assert.DoesNotContain("title.tex", report, StringComparison.Ordinal);

        static void Example()
        {
            // README example
            using var manager = new ResourceManager(PlatformProfile.Get("dreamcast"),
                new ResourceManagerOptions { LeakReported = report => Console.WriteLine(report) });

            // Acquire: a status and a handle. GPU-accessible memory goes to the 8 MiB PowerVR region.
            var textureInfo = new ResourceMetadata(ResourceType.Hardware, 64 * 1024, alignment: 32, ResourceFlags.GpuAccessible);
            ResourceStatus status = manager.TryAcquire(textureInfo, out ResourceHandle texture, name: "title.tex");
            Span<byte> texels = manager.Resolve(texture);             // empty once released: a stale handle resolves to nothing
            manager.Release(texture);                                 // a second Release returns StaleHandle and changes nothing

            // Modes: wait for a release (never by polling), wait at most a while, or dip into the reserve in an emergency.
            var meshInfo = new ResourceMetadata(ResourceType.Memory, 256 * 1024);
            manager.TryAcquire(meshInfo, out ResourceHandle mesh, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromMilliseconds(5));
            manager.TryAcquire(meshInfo, out ResourceHandle spare, mode: AcquisitionMode.Emergency);

            // Scopes: one resource per using, or a whole frame's transient memory released at once.
            using (ScopedResource scratch = manager.AcquireScoped(new ResourceMetadata(ResourceType.Memory, 512)))
            {
                scratch.Span.Clear();
            }

            using (ResourceScope frame = manager.BeginScope())
            {
                Span<float> vertices = frame.AcquireSpan<float>(1024);
                frame.Acquire(new ResourceMetadata(ResourceType.Memory, 2048));
            }                                                         // both released here

            // A typed reference that can live in a field.
            ResourceRef<Matrix4x4> camera = manager.Acquire<Matrix4x4>();
            camera.Value = Matrix4x4.Identity;
            camera.Dispose();                                         // copies disposed later do nothing

            // Sharing between named owners: the memory lives until both have released.
            ResourceOwner graphics = manager.GetOwner("GraphicsDriver");
            ResourceOwner audio = manager.GetOwner("AudioDriver");
            ResourceHandle vb = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 16 * 1024, flags: ResourceFlags.Shareable), owner: graphics);
            ResourceHandle audioVb = manager.Share(vb, audio);
            manager.Release(vb, graphics);                            // audio's handle still resolves
            manager.Release(audioVb, audio);                          // now the memory goes back

            // Budgets, pressure and reclamation.
            manager.SetBudget(ResourceType.Custom, new ResourceBudget(maxBytes: 1 << 20, reservedBytes: 64 << 10));
            using IDisposable onPressure = manager.RegisterPressureCallback((in PressureChange change) =>
                Console.WriteLine($"{change.Type}: {change.Previous} -> {change.Current}"));
            using IDisposable onShortage = manager.RegisterReclamationCallback(ResourceType.Memory,
                (type, requestedBytes) => 0 /* release cached resources through the manager, return the bytes freed */);
            ResourceStats stats = manager.GetStats(ResourceType.Memory); // current, peak, failures, overruns, pressure ...

            manager.Release(mesh);
            // `spare` is still alive: disposing the manager reports it (name, type, size, owner) and frees all native memory.
            // end
        }
    }

    [Fact]
    public void ResourceCache_Example()
    {
        var output = new StringWriter();
        TextWriter console = Console.Out;
        Console.SetOut(output);
        long freedBytes;
        CacheStats finalStats;
        try
        {
            (freedBytes, finalStats) = Example();
        }
        finally
        {
            Console.SetOut(console);
        }

        // What the comments say: one load per key, the second request a hit, both entries unloaded by UnloadUnused in
        // least-recently-used order, their 2 x 128 KiB released.
        Assert.Equal("textures/hero.pvr: Unused\ntextures/boss.pvr: Unused\n", output.ToString().ReplaceLineEndings("\n"));
        Assert.Equal(2 * 128 * 1024, freedBytes);
        Assert.Equal((2L, 1L, 2L, 0L), (finalStats.Misses, finalStats.Hits, finalStats.UnloadedUnused, finalStats.ResidentBytes));

        static (long, CacheStats) Example()
        {
            // README example
            using var manager = new ResourceManager(PlatformProfile.Get("dreamcast"));
            using var textures = new ResourceCache<Texture>(manager, new ResourceCacheOptions<Texture>
            {
                Name = "textures",
                MaxBytes = 4 << 20,                                   // past this, unreferenced textures are evicted
                OnUnloaded = (key, texture, reason) => Console.WriteLine($"{key}: {reason}"),
            });

            CacheLoader<Texture> loadPvr = context =>
            {
                var info = new ResourceMetadata(ResourceType.Hardware, 128 * 1024, alignment: 32, ResourceFlags.GpuAccessible);
                ResourceHandle texels = context.Acquire(info);        // belongs to the entry, released when it unloads
                context.GetSpan(texels).Clear();                      // decode the file into it
                return new Texture(context.Key, texels);
            };

            // A miss loads; a hit (by string or by span) finds the same entry without allocating.
            using (CacheRef<Texture> hero = textures.GetOrLoad("textures/hero.pvr", loadPvr))
            using (CacheRef<Texture> again = textures.GetOrLoad("textures/hero.pvr".AsSpan(), loadPvr, ResourcePriority.High))
            {
                Texture texture = hero.Value;                         // the same object as again.Value
            }                                                         // released: resident, unreferenced, evictable

            // A weak reference does not keep the entry; it upgrades while the entry is loaded, never to a later one.
            CacheWeakRef<Texture> weak;
            using (CacheRef<Texture> boss = textures.GetOrLoad("textures/boss.pvr", loadPvr))
            {
                weak = boss.ToWeak();
            }

            if (weak.TryUpgrade(out CacheRef<Texture> upgraded))
            {
                upgraded.Dispose();
            }

            // Evicted when the manager needs Hardware memory (the cache answers its reclamation request), past MaxBytes,
            // at an optional pressure level, or on request. Unload(key, force: true) unloads even a referenced entry.
            long freed = textures.UnloadUnused();                     // prints "textures/hero.pvr: Unused" and the boss's line
            CacheStats stats = textures.GetStats();                   // hits, misses, loads, evictions by reason, resident bytes
            // end
            Assert.Equal(0, manager.GetStats(ResourceType.Hardware).CurrentBytes);
            return (freed, stats);
        }
    }

    [Fact]
    public void ResourceManager_Example_DoesWhatItsCommentsSay()
    {
        // The README's manager example, step by step, with each comment's claim checked.
        LeakReport? leaks = null;
        var lines = new List<string>();
        var manager = new ResourceManager(PlatformProfile.Get("dreamcast"),
            new ResourceManagerOptions { LeakReported = report => leaks = report });

        var textureInfo = new ResourceMetadata(ResourceType.Hardware, 64 * 1024, alignment: 32, ResourceFlags.GpuAccessible);
        ResourceStatus status = manager.TryAcquire(textureInfo, out ResourceHandle texture, name: "title.tex");
        Assert.Equal(ResourceStatus.Ok, status);
        Span<byte> texels = manager.Resolve(texture);
        Assert.Equal(64 * 1024, texels.Length);
        Assert.Equal(64 * 1024, manager.GetRegionStats(RegionKind.Video).UsedBytes);
        Assert.Equal(ResourceStatus.Ok, manager.Release(texture));
        Assert.Equal(ResourceStatus.StaleHandle, manager.Release(texture));
        Assert.True(manager.Resolve(texture).IsEmpty);

        var meshInfo = new ResourceMetadata(ResourceType.Memory, 256 * 1024);
        Assert.Equal(ResourceStatus.Ok, manager.TryAcquire(meshInfo, out ResourceHandle mesh, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromMilliseconds(5)));
        Assert.Equal(ResourceStatus.Ok, manager.TryAcquire(meshInfo, out ResourceHandle spare, mode: AcquisitionMode.Emergency));

        using (ScopedResource scratch = manager.AcquireScoped(new ResourceMetadata(ResourceType.Memory, 512)))
        {
            scratch.Span.Clear();
        }

        using (ResourceScope frame = manager.BeginScope())
        {
            Span<float> vertices = frame.AcquireSpan<float>(1024);
            Assert.Equal(1024, vertices.Length);
            frame.Acquire(new ResourceMetadata(ResourceType.Memory, 2048));
            Assert.Equal(2, frame.Count);
        }

        Assert.Equal(2 * 256 * 1024, manager.GetStats(ResourceType.Memory).CurrentBytes); // scratch and the frame are gone

        ResourceRef<Matrix4x4> camera = manager.Acquire<Matrix4x4>();
        camera.Value = Matrix4x4.Identity;
        Assert.True(camera.Value.IsIdentity);
        camera.Dispose();
        Assert.False(camera.IsAlive);

        ResourceOwner graphics = manager.GetOwner("GraphicsDriver");
        ResourceOwner audio = manager.GetOwner("AudioDriver");
        ResourceHandle vb = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 16 * 1024, flags: ResourceFlags.Shareable), owner: graphics);
        ResourceHandle audioVb = manager.Share(vb, audio);
        Assert.Equal(ResourceStatus.Ok, manager.Release(vb, graphics));
        Assert.False(manager.Resolve(audioVb).IsEmpty);
        Assert.Equal(ResourceStatus.Ok, manager.Release(audioVb, audio));

        manager.SetBudget(ResourceType.Custom, new ResourceBudget(maxBytes: 1 << 20, reservedBytes: 64 << 10));
        using IDisposable onPressure = manager.RegisterPressureCallback((in PressureChange change) =>
            lines.Add($"{change.Type}: {change.Previous} -> {change.Current}"));
        using IDisposable onShortage = manager.RegisterReclamationCallback(ResourceType.Memory,
            (type, requestedBytes) => 0);
        ResourceStats stats = manager.GetStats(ResourceType.Memory);
        Assert.Equal(2 * 256 * 1024, stats.CurrentBytes);
        ResourceHandle big = manager.Acquire(new ResourceMetadata(ResourceType.Custom, 900 << 10));
        Assert.Equal(["Custom: None -> High"], lines);
        manager.Release(big);

        manager.Release(mesh);
        manager.Dispose();
        Assert.NotNull(leaks);
        LeakedResource leaked = Assert.Single(leaks.Resources);
        Assert.Equal(spare, leaked.Handle);
        Assert.Equal(256 * 1024, leaked.Size);
    }

    [Fact]
    public void Diagnostics_Example_DoesWhatItsCommentsSay()
    {
        string directory = Path.Combine(Path.GetTempPath(), "fhr-readme-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        string current = Environment.CurrentDirectory;
        Environment.CurrentDirectory = directory;
        try
        {
            (ResourceStatus status, CorruptionFinding[] findings, ResourceManager disposed) = Example();
            Assert.Equal(ResourceStatus.Ok, status);
            Assert.Empty(findings);
            Assert.True(disposed.IsDisposed);
            ResourceSnapshot snapshot = ResourceSnapshot.FromJson(File.ReadAllText(Path.Combine(directory, "snapshot.json")));
            LiveResourceSnapshot mesh = Assert.Single(snapshot.LargestResources);
            Assert.Equal(("level.mesh", 4096L), (mesh.Name, mesh.Size));
            Assert.NotNull(mesh.AgeSeconds);
            Assert.Equal("dreamcast", snapshot.Profile);
        }
        finally
        {
            Environment.CurrentDirectory = current;
            Directory.Delete(directory, recursive: true);
        }

        static (ResourceStatus, CorruptionFinding[], ResourceManager) Example()
        {
            // README example
            using var manager = new ResourceManager(PlatformProfile.Get("dreamcast"), new ResourceManagerOptions
            {
                MemorySafety = new MemorySafetyOptions(),   // a debug build: guards, fill patterns, writes after release
                TrackAcquisitionTimes = true,               // ages in the snapshot
            });
            using IDisposable metrics = ResourceMetrics.Track(manager, "main");   // dotnet-counters, OpenTelemetry, MeterListener

            ResourceHandle mesh = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 4096), name: "level.mesh");
            manager.GetSpan(mesh)[4096 - 1] = 1;            // the last byte: fine

            using (FileStream file = File.Create("snapshot.json"))
            {
                manager.WriteSnapshot(file);                // the whole state as JSON (format below)
            }

            ResourceStatus status = manager.CheckCorruption(out CorruptionFinding[] findings);   // Ok: every guard intact
            manager.Release(mesh);
            // end
            return (status, findings, manager);
        }
    }

    /// <summary>Non-blank lines, trimmed, runs of white space as one space.</summary>
    private static string[] Normalized(string text) =>
        text.Split('\n').Select(line => Whitespace().Replace(line.Trim(), " ")).Where(line => line.Length > 0).ToArray();

    [GeneratedRegex(@"```csharp\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    [GeneratedRegex(@"^using [A-Za-z.]+;$")]
    private static partial Regex UsingDirective();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
