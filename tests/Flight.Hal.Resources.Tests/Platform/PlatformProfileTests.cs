namespace Flight.Hal.Resources.Tests.Platform;

public class PlatformProfileTests
{
    private const long KiB = 1024;
    private const long MiB = 1024 * KiB;

    [Fact]
    public void Dreamcast_HasTheMachinesRegionsAndBudgets()
    {
        PlatformProfile dc = PlatformProfile.Dreamcast;

        MemoryRegion main = dc.MainRegion;
        MemoryRegion video = dc.FindRegion(RegionKind.Video)!;
        MemoryRegion sound = dc.FindRegion(RegionKind.Sound)!;
        Assert.Equal(16 * MiB, main.Size);
        Assert.Equal(8 * MiB, video.Size);
        Assert.Equal(32, video.MinAlignment);
        Assert.Equal(2 * MiB, sound.Size);
        Assert.Equal(32, sound.Granularity);
        Assert.Equal(0x30000, sound.ReservedStart);
        Assert.Equal(192 * KiB, sound.ReservedStart);
        Assert.All(dc.Regions, r => Assert.Equal(RegionBacking.Arena, r.Backing));

        ResourceBudget memory = dc.GetBudget(ResourceType.Memory);
        ResourceBudget hardware = dc.GetBudget(ResourceType.Hardware);
        Assert.Equal((long)(16 * MiB * 0.6), memory.MaxBytes);     // 9.6 MiB
        Assert.Equal((long)(16 * MiB * 0.1), memory.ReservedBytes); // 1.6 MiB
        Assert.Equal((long)(16 * MiB * 0.2), hardware.MaxBytes);   // 3.2 MiB
        Assert.Equal((long)(16 * MiB * 0.05), hardware.ReservedBytes); // 0.8 MiB
        Assert.Same(ResourceBudget.Unlimited, dc.GetBudget(ResourceType.Custom));
        Assert.NotEmpty(dc.Pools);
        Assert.All(dc.Pools, p => Assert.True(p.MaxCount <= 64, "Dreamcast pools are small."));
    }

    [Theory]
    [InlineData("psp", 32 * MiB, 2 * MiB, 0)]
    [InlineData("ps2", 32 * MiB, 4 * MiB, 2 * MiB)]
    [InlineData("nds", 4 * MiB, 656 * KiB, 0)]
    [InlineData("n64", 4 * MiB, 0, 0)]
    [InlineData("n64-expansion", 8 * MiB, 0, 0)]
    [InlineData("dreamcast", 16 * MiB, 8 * MiB, 2 * MiB)]
    public void ConsoleProfiles_HaveTheirRealMemorySizes(string name, long main, long video, long sound)
    {
        PlatformProfile profile = PlatformProfile.Get(name);

        Assert.Equal(main, profile.MainRegion.Size);
        Assert.Equal(video, profile.FindRegion(RegionKind.Video)?.Size ?? 0);
        Assert.Equal(sound, profile.FindRegion(RegionKind.Sound)?.Size ?? 0);
        Assert.Equal((long)(main * 0.6), profile.GetBudget(ResourceType.Memory).MaxBytes);
        Assert.Equal((long)(main * 0.2), profile.GetBudget(ResourceType.Hardware).MaxBytes);
    }

    [Fact]
    public void Desktop_ScalesBudgetsFromPhysicalMemory_OnTheHostHeap()
    {
        PlatformProfile desktop = PlatformProfile.CreateDesktop(24L * 1024 * MiB);

        Assert.Equal(RegionBacking.HostHeap, desktop.MainRegion.Backing);
        Assert.Equal((long)(24L * 1024 * MiB * 0.6), desktop.GetBudget(ResourceType.Memory).MaxBytes);
        Assert.Equal((long)(24L * 1024 * MiB * 0.2), desktop.GetBudget(ResourceType.Hardware).MaxBytes);
        Assert.True(desktop.Pools.Sum(p => (long)p.MaxCount) > PlatformProfile.Dreamcast.Pools.Sum(p => (long)p.MaxCount) * 10);
        Assert.Throws<ArgumentOutOfRangeException>(() => PlatformProfile.CreateDesktop(1 * MiB));
        Assert.True(PlatformProfile.Desktop.MainRegion.Size >= 64 * MiB);
    }

    [Fact]
    public void Web_IsConservative()
    {
        PlatformProfile web = PlatformProfile.Web;

        Assert.Equal(256 * MiB, web.MainRegion.Size);
        Assert.True(web.GetBudget(ResourceType.Memory).MaxBytes <= web.MainRegion.Size / 2);
    }

    [Theory]
    [InlineData("Dreamcast")]
    [InlineData(" DREAMCAST ")]
    [InlineData("dreamcast")]
    public void Get_IsCaseInsensitive(string name)
    {
        Assert.Same(PlatformProfile.Dreamcast, PlatformProfile.Get(name));
    }

    [Fact]
    public void Get_UnknownName_ListsTheKnownOnes()
    {
        var exception = Assert.Throws<ArgumentException>(() => PlatformProfile.Get("saturn"));

        Assert.Contains("saturn", exception.Message);
        foreach (string known in PlatformProfile.KnownNames)
        {
            Assert.Contains(known, exception.Message);
        }

        Assert.False(PlatformProfile.TryGet("saturn", out _));
        Assert.False(PlatformProfile.TryGet(null, out _));
    }

    [Fact]
    public void EveryKnownName_Resolves_AndIsValid()
    {
        foreach (string name in PlatformProfile.KnownNames)
        {
            PlatformProfile profile = PlatformProfile.Get(name);
            Assert.Equal(name, profile.Name);
            Assert.Equal(RegionKind.Main, profile.MainRegion.Kind);
            foreach (MemoryRegion region in profile.Regions)
            {
                region.Validate();
            }
        }
    }

    [Fact]
    public void EveryArenaRegion_OfEveryProfile_HonoursItsAlignmentGranularityAndReservedStart()
    {
        foreach (string name in PlatformProfile.KnownNames)
        {
            foreach (MemoryRegion region in PlatformProfile.Get(name).Regions.Where(r => r.Backing == RegionBacking.Arena))
            {
                using var arena = new Arena(region.ToArenaConfig());
                var addresses = new List<nint>();
                foreach (int size in new[] { 1, 3, 31, 33, 100, 1000, 4097 })
                {
                    ResourceHandle handle = arena.Allocate(size);
                    arena.TryResolve(handle, out nint address, out long rounded);
                    Assert.True(address % region.MinAlignment == 0, $"{name}/{region.Name}: {size} bytes at {address:x}");
                    Assert.True(rounded % region.Granularity == 0 && rounded >= size, $"{name}/{region.Name}: {size} -> {rounded}");
                    addresses.Add(address);
                }

                ArenaStats stats = arena.GetStats();
                Assert.Equal(region.Size, stats.ReservedBytes + stats.UsedBytes + stats.FreeBytes);
                Assert.True(stats.ReservedBytes >= region.ReservedStart, $"{name}/{region.Name}: reserved {stats.ReservedBytes}");
                long regionBase = addresses.Min() - stats.ReservedBytes; // the first allocation sits right after the reserve
                Assert.Equal(0, regionBase % ArenaConfig.MaxAlignment);
            }
        }
    }

    [Fact]
    public void Detect_HonoursTheEnvironmentVariable()
    {
        // Tests share the process environment: this is the only test that sets the variable.
        string? before = Environment.GetEnvironmentVariable(PlatformProfile.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(PlatformProfile.EnvironmentVariable, "ps2");
            Assert.Same(PlatformProfile.Ps2, PlatformProfile.Detect());

            Environment.SetEnvironmentVariable(PlatformProfile.EnvironmentVariable, "amiga");
            Assert.Throws<ArgumentException>(() => PlatformProfile.Detect());

            Environment.SetEnvironmentVariable(PlatformProfile.EnvironmentVariable, null);
            Assert.Same(PlatformProfile.Desktop, PlatformProfile.Detect());
        }
        finally
        {
            Environment.SetEnvironmentVariable(PlatformProfile.EnvironmentVariable, before);
        }
    }

    [Fact]
    public void Constructor_RejectsInvalidLayouts()
    {
        MemoryRegion main = new() { Name = "main", Kind = RegionKind.Main, Size = 1 * MiB };
        MemoryRegion video = new() { Name = "video", Kind = RegionKind.Video, Size = 1 * MiB };
        var none = new Dictionary<ResourceType, ResourceBudget>();

        Assert.Throws<ArgumentException>(() => new PlatformProfile("x", "", [video], none, []));
        Assert.Throws<ArgumentException>(() => new PlatformProfile("x", "", [main, main with { Name = "other" }], none, []));
        Assert.Throws<ArgumentException>(() => new PlatformProfile("x", "", [main, video, video with { Name = "vram2" }], none, []));
        Assert.Throws<ArgumentException>(() => new PlatformProfile("x", "", [main, video with { Name = "MAIN" }], none, []));
        Assert.Throws<ArgumentException>(() => new PlatformProfile("x", "", [main with { MinAlignment = 24 }], none, []));
        Assert.Throws<ArgumentException>(() => new PlatformProfile("", "", [main], none, []));
        Assert.Throws<ArgumentException>(() => new PlatformProfile("x", "", [main], none,
            [new PoolConfig { BlockSize = 64, MaxCount = 4 }, new PoolConfig { BlockSize = 60, MaxCount = 4 }]));
        Assert.NotNull(new PlatformProfile("x", "", [main, video], none, []));
    }

    [Fact]
    public void Json_RoundTripsEveryBuiltInProfile()
    {
        foreach (string name in PlatformProfile.KnownNames)
        {
            PlatformProfile original = PlatformProfile.Get(name);

            PlatformProfile copy = PlatformProfile.FromJson(original.ToJson());

            Assert.Equal(original.Name, copy.Name);
            Assert.Equal(original.Regions, copy.Regions);
            Assert.Equal(original.Budgets.OrderBy(p => p.Key), copy.Budgets.OrderBy(p => p.Key));
            Assert.Equal(original.Pools, copy.Pools);
        }
    }

    [Fact]
    public void FromJson_ReadsAUsersOwnTarget()
    {
        const string Json = """
            {
              // an 8 MiB handheld with 2 MiB of video memory
              "name": "my-console",
              "description": "8 MiB main, 2 MiB video",
              "regions": [
                { "name": "main",  "kind": "Main",  "size": 8388608, "minAlignment": 32, "granularity": 32 },
                { "name": "video", "kind": "Video", "size": 2097152, "minAlignment": 32, "granularity": 32 },
              ],
              "budgets": {
                "Memory":   { "maxPercent": 60, "reservedPercent": 10 },
                "Hardware": { "maxBytes": 1048576, "reservedBytes": 65536, "warningPercent": 75, "criticalPercent": 90 }
              },
              "pools": [ { "type": "Memory", "blockSize": 64, "maxCount": 256 } ]
            }
            """;

        PlatformProfile profile = PlatformProfile.FromJson(Json);

        Assert.Equal("my-console", profile.Name);
        Assert.Equal(8 * MiB, profile.MainRegion.Size);
        Assert.Equal(32, profile.FindRegion(RegionKind.Video)!.MinAlignment);
        Assert.Equal((long)(8 * MiB * 0.6), profile.GetBudget(ResourceType.Memory).MaxBytes);
        Assert.Equal(new ResourceBudget(1 * MiB, 64 * KiB, 75, 90), profile.GetBudget(ResourceType.Hardware));
        Assert.Equal(64, Assert.Single(profile.Pools).BlockSize);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{ \"name\": \"x\" }")]
    [InlineData("{ \"regions\": [ { \"name\": \"main\", \"kind\": \"Main\", \"size\": 1024 } ] }")]
    [InlineData("{ \"name\": \"x\", \"regions\": [ { \"name\": \"main\", \"kind\": \"Main\", \"size\": 0 } ] }")]
    [InlineData("{ \"name\": \"x\", \"regions\": [ { \"name\": \"main\", \"kind\": \"Banana\", \"size\": 1024 } ] }")]
    [InlineData("{ \"name\": \"x\", \"regions\": [ { \"name\": \"main\", \"kind\": \"Main\", \"size\": 1024 } ], \"budgets\": { \"Memory\": { } } }")]
    [InlineData("{ \"name\": \"x\", \"regions\": [ { \"name\": \"main\", \"kind\": \"Main\", \"size\": 1024 } ], \"pools\": [ { \"blockSize\": 0, \"maxCount\": 1 } ] }")]
    public void FromJson_Malformed_ThrowsFormatException(string json)
    {
        Assert.Throws<FormatException>(() => PlatformProfile.FromJson(json));
    }
}
