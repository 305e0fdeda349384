namespace Flight.Hal.Resources;

// The built-in profiles, with the real memory sizes of each machine.
public sealed partial class PlatformProfile
{
    private const long KiB = 1024;
    private const long MiB = 1024 * KiB;

    private static PlatformProfile? s_dreamcast;
    private static PlatformProfile? s_desktop;
    private static PlatformProfile? s_web;
    private static PlatformProfile? s_psp;
    private static PlatformProfile? s_ps2;
    private static PlatformProfile? s_nds;
    private static PlatformProfile? s_n64;
    private static PlatformProfile? s_n64Expansion;

    /// <summary>Sega Dreamcast: 16 MiB main RAM (the first 64 KiB hold the BIOS's system area; programs load at
    /// 0x8C010000), 8 MiB PowerVR video RAM (every allocation 32-byte aligned), 2 MiB AICA sound RAM (sizes rounded to
    /// 32 bytes; the first 192 KiB, 0x30000, belong to the sound driver), as the KallistiOS SDK models it.
    /// Budgets, of main RAM: Memory 60 % (10 % reserved), Hardware 20 % (5 % reserved). Small pools, few blocks.</summary>
    public static PlatformProfile Dreamcast => Once(ref s_dreamcast, static () => Console(
        "dreamcast",
        "Sega Dreamcast: 16 MiB main, 8 MiB PowerVR video, 2 MiB AICA sound RAM",
        Main(16 * MiB, alignment: 32, reserved: 64 * KiB),
        [Region("video", RegionKind.Video, 8 * MiB, 32, 32), Region("sound", RegionKind.Sound, 2 * MiB, 32, 32, reserved: 0x30000)],
        poolScale: 1));

    /// <summary>Desktop: budgets scaled from the detected physical memory (Memory 60 %, Hardware 20 %, with 10 % and 5 %
    /// reserved); allocations come from the host heap; large thread-safe pools.</summary>
    public static PlatformProfile Desktop => Once(ref s_desktop, static () => CreateDesktop(DetectPhysicalMemory()));

    /// <summary>Web (WebAssembly): a 256 MiB linear-memory heap with conservative budgets (Memory 50 %, Hardware 15 %,
    /// 5 % reserved each) and medium pools.</summary>
    public static PlatformProfile Web => Once(ref s_web, static () => new PlatformProfile(
        "web",
        "WebAssembly: 256 MiB linear memory",
        [Main(256 * MiB, alignment: 16)],
        PercentBudgets(256 * MiB, memory: 50, memoryReserve: 5, hardware: 15, hardwareReserve: 5),
        PoolPlan(scale: 8)));

    /// <summary>Sony PSP (PSP-1000): 32 MiB main RAM of which the kernel keeps the first 8 MiB, 2 MiB of GE eDRAM for
    /// video (16-byte aligned).</summary>
    public static PlatformProfile Psp => Once(ref s_psp, static () => Console(
        "psp",
        "Sony PSP-1000: 32 MiB main (8 MiB kernel), 2 MiB eDRAM video",
        Main(32 * MiB, alignment: 16, reserved: 8 * MiB),
        [Region("video", RegionKind.Video, 2 * MiB, 16, 16)],
        poolScale: 2));

    /// <summary>Sony PlayStation 2: 32 MiB EE main RAM (the kernel keeps the first 1 MiB), 4 MiB GS video RAM (256-byte
    /// blocks), 2 MiB SPU2 sound RAM (16-byte ADPCM blocks).</summary>
    public static PlatformProfile Ps2 => Once(ref s_ps2, static () => Console(
        "ps2",
        "Sony PlayStation 2: 32 MiB main (1 MiB kernel), 4 MiB GS video, 2 MiB SPU2 sound RAM",
        Main(32 * MiB, alignment: 16, reserved: 1 * MiB),
        [Region("video", RegionKind.Video, 4 * MiB, 256, 256), Region("sound", RegionKind.Sound, 2 * MiB, 16, 16)],
        poolScale: 2));

    /// <summary>Nintendo DS: 4 MiB main RAM, 656 KiB of video RAM banks (A–I).</summary>
    public static PlatformProfile NintendoDs => Once(ref s_nds, static () => Console(
        "nds",
        "Nintendo DS: 4 MiB main, 656 KiB video RAM",
        Main(4 * MiB, alignment: 32),
        [Region("video", RegionKind.Video, 656 * KiB, 16, 16)],
        poolScale: 1));

    /// <summary>Nintendo 64: 4 MiB of unified RDRAM (the first 1 KiB holds the exception vectors); GPU and audio data
    /// live in main RAM.</summary>
    public static PlatformProfile N64 => Once(ref s_n64, static () => Console(
        "n64",
        "Nintendo 64: 4 MiB unified RDRAM",
        Main(4 * MiB, alignment: 16, reserved: 1 * KiB),
        [],
        poolScale: 1));

    /// <summary>Nintendo 64 with the Expansion Pak: 8 MiB of unified RDRAM.</summary>
    public static PlatformProfile N64Expansion => Once(ref s_n64Expansion, static () => Console(
        "n64-expansion",
        "Nintendo 64 with Expansion Pak: 8 MiB unified RDRAM",
        Main(8 * MiB, alignment: 16, reserved: 1 * KiB),
        [],
        poolScale: 1));

    /// <summary>The desktop profile for a machine with <paramref name="physicalBytes"/> of memory.</summary>
    /// <param name="physicalBytes">Physical memory, at least 64 MiB.</param>
    /// <returns>The profile.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="physicalBytes"/> is below 64 MiB.</exception>
    public static PlatformProfile CreateDesktop(long physicalBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(physicalBytes, 64 * MiB);
        return new PlatformProfile(
            "desktop",
            $"Desktop: {physicalBytes / MiB} MiB physical memory, host heap",
            [Main(physicalBytes, alignment: 16) with { Backing = RegionBacking.HostHeap }],
            PercentBudgets(physicalBytes, memory: 60, memoryReserve: 10, hardware: 20, hardwareReserve: 5),
            PoolPlan(scale: 64));
    }

    /// <summary>Creates a built-in profile once: if two threads race, both get the instance that was published first.</summary>
    private static PlatformProfile Once(ref PlatformProfile? field, Func<PlatformProfile> create) =>
        Volatile.Read(ref field) ?? Interlocked.CompareExchange(ref field, create(), null) ?? field!;

    private static long DetectPhysicalMemory()
    {
        // What the runtime may use: physical memory, or the container's limit when there is one.
        long bytes = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return bytes >= 64 * MiB ? bytes : 8L * 1024 * MiB;
    }

    private static PlatformProfile Console(string name, string description, MemoryRegion main, MemoryRegion[] others, int poolScale) =>
        new(name, description, [main, .. others], PercentBudgets(main.Size, 60, 10, 20, 5), PoolPlan(poolScale));

    private static MemoryRegion Main(long size, int alignment, long reserved = 0) =>
        Region("main", RegionKind.Main, size, alignment, alignment, reserved);

    private static MemoryRegion Region(string name, RegionKind kind, long size, int alignment, int granularity, long reserved = 0) =>
        new() { Name = name, Kind = kind, Size = size, MinAlignment = alignment, Granularity = granularity, ReservedStart = reserved };

    /// <summary>Memory and Hardware budgets as percentages of main RAM, with the reserves.</summary>
    private static Dictionary<ResourceType, ResourceBudget> PercentBudgets(long mainBytes, double memory, double memoryReserve, double hardware, double hardwareReserve) => new()
    {
        [ResourceType.Memory] = ResourceBudget.FromPercentages(mainBytes, memory, memoryReserve),
        [ResourceType.Hardware] = ResourceBudget.FromPercentages(mainBytes, hardware, hardwareReserve),
    };

    /// <summary>The pool plan: size classes for small objects and buffers; counts grow with <paramref name="scale"/>.</summary>
    private static PoolConfig[] PoolPlan(int scale) =>
    [
        Pool(ResourceType.Memory, 32, 64 * scale),
        Pool(ResourceType.Memory, 64, 64 * scale),
        Pool(ResourceType.Memory, 256, 32 * scale),
        Pool(ResourceType.Memory, 1024, 16 * scale),
        Pool(ResourceType.Memory, 4096, 8 * scale),
        Pool(ResourceType.Hardware, 256, 16 * scale),
        Pool(ResourceType.Hardware, 4096, 4 * scale),
    ];

    private static PoolConfig Pool(ResourceType type, int blockSize, int maxCount) =>
        new() { Type = type, BlockSize = blockSize, MaxCount = maxCount, ThreadSafe = true, Name = $"{type}-{blockSize}" };
}
