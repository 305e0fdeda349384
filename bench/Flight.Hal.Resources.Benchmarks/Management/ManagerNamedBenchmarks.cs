using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Order;

namespace Flight.Hal.Resources.Benchmarks.Management;

/// <summary>The named path, one thread, 64 B (a pooled size, registered because it has a name): acquire under a name +
/// find it by name + resolve to an address + a one-byte write at offset 0 + release. Against the published design
/// written straight (<see cref="LockedStringRegistry"/>, the baseline: <c>Acquire(name)</c> + <c>Find(name)</c> + write
/// + <c>Release(name)</c>). <c>Manager</c> passes names as <see cref="string"/>, <c>ManagerSpanName</c> as
/// <see cref="ReadOnlySpan{T}"/> of <see cref="char"/> (the C ABI's way).</summary>
/// <remarks>Each invocation loops <see cref="PerInvoke.Ops"/> operations over <see cref="PerInvoke.Names"/> names made
/// in setup (every name seen before, none formatted in the loop); figures are per operation.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Manager)]
// Rows in name order, as before: BenchmarkDotNet lists the rows inherited from NamedPathRows after ManagerSpanName.
[Orderer(SummaryOrderPolicy.Default, MethodOrderPolicy.Alphabetical)]
public unsafe class ManagerNamedBenchmarks : NamedPathRows
{
    [Params("desktop", "dreamcast")]
    public string Profile { get; set; } = "desktop";

    [GlobalSetup]
    public void Setup()
    {
        _manager = new ResourceManager(PlatformProfile.Get(Profile));
        _registry = new LockedStringRegistry(long.MaxValue / 2);
        _metadata = new ResourceMetadata(ResourceType.Memory, Size);
        _names = PerInvoke.MakeNames("texture-", PerInvoke.Names);
        ManagerProbe.ExpectPool(_manager, in _metadata, _names[0]);
    }

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long ManagerSpanName()
    {
        long sum = 0;
        ResourceManager manager = _manager;
        string[] names = _names;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            ReadOnlySpan<char> name = names[i & (PerInvoke.Names - 1)];
            manager.TryAcquire(in _metadata, out ResourceHandle handle, name, AcquisitionMode.NonBlocking, default, default);
            manager.TryFind(name, out ResourceHandle found);
            manager.TryResolve(found, out nint address, out _);
            *(byte*)address = (byte)i;
            sum += address;
            manager.Release(handle);
        }

        return sum;
    }
}
