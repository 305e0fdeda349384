using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Management;

/// <summary>The owned path, one thread, 64 B (a pooled size, registered because it has an owner): acquire for a
/// <see cref="ResourceOwner"/> + resolve the handle to an address + a one-byte write at offset 0 + release as that owner
/// (<see cref="ResourceManager.Release(ResourceHandle, ResourceOwner)"/>, which checks the owner). Against
/// <see cref="LockedStringRegistry"/> doing the same (the baseline): acquire under a key for an owner (its held bytes
/// counted) + find by key + write + release as that owner (checked).</summary>
/// <remarks>Each invocation loops <see cref="PerInvoke.Ops"/> operations; the registry's keys are made in setup.
/// Figures are per operation.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Manager)]
public unsafe class ManagerOwnedBenchmarks
{
    private const int Size = 64;
    private const int RegistryOwner = 1;

    private ResourceManager _manager = null!;
    private LockedStringRegistry _registry = null!;
    private ResourceMetadata _metadata;
    private ResourceOwner _owner;
    private string[] _keys = [];

    [Params("desktop", "dreamcast")]
    public string Profile { get; set; } = "desktop";

    [GlobalSetup]
    public void Setup()
    {
        _manager = new ResourceManager(PlatformProfile.Get(Profile));
        _registry = new LockedStringRegistry(long.MaxValue / 2);
        _metadata = new ResourceMetadata(ResourceType.Memory, Size);
        _owner = _manager.GetOwner("AudioMixer");
        _keys = PerInvoke.MakeNames("resource-", PerInvoke.Names);
        ManagerProbe.ExpectPool(_manager, in _metadata, owner: _owner);
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
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            string key = keys[i & (PerInvoke.Names - 1)];
            registry.Acquire(key, ResourceType.Memory, Size, RegistryOwner);
            nint address = registry.Find(key);
            *(byte*)address = (byte)i;
            sum += address;
            registry.Release(key, RegistryOwner);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long Manager()
    {
        long sum = 0;
        ResourceManager manager = _manager;
        ResourceOwner owner = _owner;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            manager.TryAcquire(in _metadata, out ResourceHandle handle, owner: owner);
            manager.TryResolve(handle, out nint address, out _);
            *(byte*)address = (byte)i;
            sum += address;
            manager.Release(handle, owner);
        }

        return sum;
    }
}
