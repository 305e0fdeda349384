namespace Flight.Hal.Resources.Tests.TestSupport;

/// <summary>Small, exact profiles for manager tests: every figure known, so accounting can be checked to the byte.</summary>
public static class TestProfiles
{
    public const long MainSize = 1024 * 1024;
    public const long VideoSize = 256 * 1024;
    public const long SoundSize = 128 * 1024;
    public const long MemoryBudget = 64 * 1024;
    public const long MemoryReserve = 8 * 1024;
    public const long HardwareBudget = 32 * 1024;
    public const long HardwareReserve = 4 * 1024;

    /// <summary>Main (1 MiB), video (256 KiB, 32-byte aligned) and sound (128 KiB) arenas; Memory 64 KiB (8 reserved),
    /// Hardware 32 KiB (4 reserved); pools Memory/64 x 16, Memory/256 x 8, Hardware/256 x 8.</summary>
    public static PlatformProfile Small(IEnumerable<PoolConfig>? pools = null, RegionBacking mainBacking = RegionBacking.Arena) => new(
        "test-small",
        "Exact figures for tests",
        [
            new MemoryRegion { Name = "main", Kind = RegionKind.Main, Size = MainSize, Backing = mainBacking },
            new MemoryRegion { Name = "video", Kind = RegionKind.Video, Size = VideoSize, MinAlignment = 32, Granularity = 32 },
            new MemoryRegion { Name = "sound", Kind = RegionKind.Sound, Size = SoundSize, Granularity = 32, ReservedStart = 4096 },
        ],
        new Dictionary<ResourceType, ResourceBudget>
        {
            [ResourceType.Memory] = new(MemoryBudget, MemoryReserve),
            [ResourceType.Hardware] = new(HardwareBudget, HardwareReserve),
        },
        pools ??
        [
            new PoolConfig { Type = ResourceType.Memory, BlockSize = 64, MaxCount = 16 },
            new PoolConfig { Type = ResourceType.Memory, BlockSize = 256, MaxCount = 8 },
            new PoolConfig { Type = ResourceType.Hardware, BlockSize = 256, MaxCount = 8 },
        ]);
}
