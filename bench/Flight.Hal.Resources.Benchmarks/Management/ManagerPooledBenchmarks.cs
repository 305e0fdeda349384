using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Management;

/// <summary>The pooled anonymous path, one thread: <see cref="ResourceManager.TryAcquire(in ResourceMetadata, out ResourceHandle, string?, AcquisitionMode, TimeSpan, ResourceOwner)"/>
/// (NonBlocking, no name, no owner: budgeted, served by the profile's thread-safe pool for the size) +
/// <see cref="ResourceManager.TryResolve"/> to an address + a one-byte write at offset 0 +
/// <see cref="ResourceManager.Release(ResourceHandle)"/>, against <c>ArrayPool&lt;byte&gt;.Shared</c> (the baseline:
/// rent + write + return) and <c>NativeMemory.Alloc/Free</c> (alloc + write + free).</summary>
/// <remarks>Each invocation loops <see cref="PerInvoke.Ops"/> operations; figures are per operation. On dreamcast the
/// 4 KiB pool holds 8 blocks.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Manager)]
public class ManagerPooledBenchmarks : AnonymousPathRows
{
    [Params("desktop", "dreamcast")]
    public string Profile { get; set; } = "desktop";

    [Params(64, 4096)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _manager = new ResourceManager(PlatformProfile.Get(Profile));
        _metadata = new ResourceMetadata(ResourceType.Memory, Size);
        ManagerProbe.ExpectPool(_manager, in _metadata);
    }

    [GlobalCleanup]
    public void Cleanup() => _manager.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = PerInvoke.Ops)]
    public long ArrayPoolShared() => PeerLoops.ArrayPoolShared(Size);

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long NativeMemoryAllocFree() => PeerLoops.NativeMemoryAllocFree(Size);
}
