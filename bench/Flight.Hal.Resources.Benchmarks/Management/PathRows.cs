using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Management;

/// <summary>The anonymous-path row that <see cref="ManagerPooledBenchmarks"/>, <see cref="ManagerPooledScalingBenchmarks"/>
/// and <see cref="ManagerRegionBenchmarks"/> share: acquire (no name, no owner) + resolve to an address + a one-byte
/// write at offset 0 + release, <see cref="PerInvoke.Ops"/> times, on the manager and metadata the derived class's setup
/// makes (a pool or a region, as the metadata asks).</summary>
/// <remarks>The row is declared here once and inherited, not called through a helper: the benchmark method is the loop,
/// as in the other rows, so the JIT compiles it as before (a loop in a helper gets a smaller inlining budget, or is
/// inlined into a one-line caller whose budget is smaller still, and the manager's path is then inlined less).</remarks>
public abstract unsafe class AnonymousPathRows
{
    private protected ResourceManager _manager = null!;
    private protected ResourceMetadata _metadata;

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long Manager()
    {
        long sum = 0;
        ResourceManager manager = _manager;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            manager.TryAcquire(in _metadata, out ResourceHandle handle);
            manager.TryResolve(handle, out nint address, out _);
            *(byte*)address = (byte)i;
            sum += address;
            manager.Release(handle);
        }

        return sum;
    }
}

/// <summary>The named-path rows that <see cref="ManagerNamedBenchmarks"/> and <see cref="ManagerNamedScalingBenchmarks"/>
/// share, over the <see cref="PerInvoke.Names"/> names the derived class's setup makes: <see cref="LockedStringRegistry"/>
/// (the baseline: <c>Acquire(name)</c> + <c>Find(name)</c> + write + <c>Release(name)</c>) and the manager (acquire under
/// the name + find by name + resolve + a one-byte write at offset 0 + release), <see cref="PerInvoke.Ops"/> times, 64 B.</summary>
/// <remarks>Declared here once and inherited, for the reason given on <see cref="AnonymousPathRows"/>.</remarks>
public abstract unsafe class NamedPathRows
{
    private protected const int Size = 64;

    private protected ResourceManager _manager = null!;
    private protected LockedStringRegistry _registry = null!;
    private protected ResourceMetadata _metadata;
    private protected string[] _names = [];

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
        string[] names = _names;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            string name = names[i & (PerInvoke.Names - 1)];
            registry.Acquire(name, ResourceType.Memory, Size);
            nint address = registry.Find(name);
            *(byte*)address = (byte)i;
            sum += address;
            registry.Release(name);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long Manager()
    {
        long sum = 0;
        ResourceManager manager = _manager;
        string[] names = _names;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            string name = names[i & (PerInvoke.Names - 1)];
            manager.TryAcquire(in _metadata, out ResourceHandle handle, name);
            manager.TryFind(name, out ResourceHandle found);
            manager.TryResolve(found, out nint address, out _);
            *(byte*)address = (byte)i;
            sum += address;
            manager.Release(handle);
        }

        return sum;
    }
}
