using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Management;

/// <summary>The region path, one thread, 16 KiB (larger than every pool, so the memory comes from a region's allocator
/// and the resource is registered): acquire + resolve the handle to an address + a one-byte write at offset 0 + release.
/// <c>Placement</c>: <c>dreamcast-main</c> (the 16 MiB main-RAM arena), <c>dreamcast-video</c> (flag
/// <see cref="ResourceFlags.GpuAccessible"/>: the 8 MiB PowerVR arena), <c>desktop-main</c> (the host heap). Against
/// <see cref="LockedStringRegistry"/> doing the same (the baseline): acquire under a key (budget check,
/// <c>NativeMemory.Alloc</c>) + find by key + write + release.</summary>
/// <remarks>Each invocation loops <see cref="PerInvoke.Ops"/> operations; the registry's keys are made in setup.
/// Figures are per operation.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Manager)]
public unsafe class ManagerRegionBenchmarks : AnonymousPathRows
{
    private const int Size = 16 * 1024;

    private LockedStringRegistry _registry = null!;
    private string[] _keys = [];

    [Params("dreamcast-main", "dreamcast-video", "desktop-main")]
    public string Placement { get; set; } = "dreamcast-main";

    [GlobalSetup]
    public void Setup()
    {
        string[] parts = Placement.Split('-');
        bool video = parts[1] == "video";
        _manager = new ResourceManager(PlatformProfile.Get(parts[0]));
        _registry = new LockedStringRegistry(long.MaxValue / 2);
        _metadata = new ResourceMetadata(
            video ? ResourceType.Hardware : ResourceType.Memory, Size, flags: video ? ResourceFlags.GpuAccessible : ResourceFlags.None);
        _keys = PerInvoke.MakeNames("resource-", PerInvoke.Names);
        string placement = ManagerProbe.PlacementOf(_manager, in _metadata);
        Check.That(placement == parts[1], $"region '{parts[1]}', not '{placement}'");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _manager.Dispose();
        _registry.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = PerInvoke.Ops)]
    public long LockedStringRegistry()
    {
        long sum = 0;
        LockedStringRegistry registry = _registry;
        string[] keys = _keys;
        ResourceType type = _metadata.Type;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            string key = keys[i & (PerInvoke.Names - 1)];
            registry.Acquire(key, type, Size);
            nint address = registry.Find(key);
            *(byte*)address = (byte)i;
            sum += address;
            registry.Release(key);
        }

        return sum;
    }
}
