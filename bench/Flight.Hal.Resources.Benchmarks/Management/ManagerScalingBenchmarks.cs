using System.Buffers;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Management;

/// <summary>What the scaling suites' managers share: the desktop profile, with its 64-byte pool raised to
/// <see cref="PoolBlocks"/> blocks and the registry to <see cref="RegistryEntries"/> entries, so that 100,000 other
/// 64-byte resources fit (the profile's plan stops at 4,096 blocks of 64 B and the default registry at 65,536 entries);
/// the budgets are the profile's (60 % of this machine's memory for <see cref="ResourceType.Memory"/>), far above
/// 100,000 × 64 B.</summary>
public static class ScalingManager
{
    /// <summary>Blocks in the 64-byte pool.</summary>
    public const int PoolBlocks = 1 << 17;

    /// <summary>The registry's capacity.</summary>
    public const int RegistryEntries = 1 << 17;

    public static ResourceManager Create()
    {
        PlatformProfile desktop = PlatformProfile.Get("desktop");
        var pools = desktop.Pools
            .Select(p => p.Type == ResourceType.Memory && p.BlockSize == 64 ? p with { MaxCount = PoolBlocks } : p)
            .ToList();
        return new ResourceManager(desktop, new ResourceManagerOptions { Pools = pools, MaxRegisteredResources = RegistryEntries });
    }
}

/// <summary>The pooled anonymous curve: acquire + resolve to an address + a one-byte write at offset 0 + release of 64 B
/// (as <see cref="ManagerPooledBenchmarks"/>) while <see cref="Others"/> other anonymous 64-byte resources are live in the
/// same pool — 0, 1,000, 10,000, 100,000 (<see cref="ScalingManager"/>). Against <c>ArrayPool&lt;byte&gt;.Shared</c>
/// (the baseline) with as many 64-byte arrays rented and held, and <c>NativeMemory.Alloc/Free</c> with as many 64-byte
/// blocks held.</summary>
/// <remarks>Each invocation loops <see cref="PerInvoke.Ops"/> operations; figures are per operation.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Manager, Categories.Scaling)]
public unsafe class ManagerPooledScalingBenchmarks : AnonymousPathRows
{
    private const int Size = 64;

    private byte[][] _heldArrays = [];
    private nint[] _heldBlocks = [];

    [Params(0, 1_000, 10_000, 100_000)]
    public int Others { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _manager = ScalingManager.Create();
        _metadata = new ResourceMetadata(ResourceType.Memory, Size);
        ManagerProbe.ExpectPool(_manager, in _metadata);
        for (int i = 0; i < Others; i++)
        {
            Check.Ok(_manager.TryAcquire(in _metadata, out _), "acquiring the other resources");
        }

        Check.That(_manager.LiveCount == Others, $"{Others} live resources");
        _heldArrays = [.. Enumerable.Range(0, Others).Select(_ => ArrayPool<byte>.Shared.Rent(Size))];
        _heldBlocks = [.. Enumerable.Range(0, Others).Select(_ => (nint)NativeMemory.Alloc(Size))];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _manager.Dispose();
        foreach (byte[] array in _heldArrays)
        {
            ArrayPool<byte>.Shared.Return(array);
        }

        foreach (nint block in _heldBlocks)
        {
            NativeMemory.Free((void*)block);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = PerInvoke.Ops)]
    public long ArrayPoolShared() => PeerLoops.ArrayPoolShared((int)_metadata.Size);

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long NativeMemoryAllocFree() => PeerLoops.NativeMemoryAllocFree((int)_metadata.Size);
}

/// <summary>The named curve: acquire under a name + find by name + resolve + a one-byte write at offset 0 + release of
/// 64 B (as <see cref="ManagerNamedBenchmarks"/>) while <see cref="Others"/> other named 64-byte resources are live — 0,
/// 1,000, 10,000, 100,000 (<see cref="ScalingManager"/>: the default registry of 65,536 entries would refuse the
/// 100,000). Against <see cref="LockedStringRegistry"/> (the baseline) holding the same other names.</summary>
/// <remarks>Each invocation loops <see cref="PerInvoke.Ops"/> operations over <see cref="PerInvoke.Names"/> names made in
/// setup, distinct from the others'; figures are per operation.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Manager, Categories.Scaling)]
public class ManagerNamedScalingBenchmarks : NamedPathRows
{
    [Params(0, 1_000, 10_000, 100_000)]
    public int Others { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _manager = ScalingManager.Create();
        _registry = new LockedStringRegistry(long.MaxValue / 2);
        _metadata = new ResourceMetadata(ResourceType.Memory, Size);
        _names = PerInvoke.MakeNames("texture-", PerInvoke.Names);
        ManagerProbe.ExpectPool(_manager, in _metadata, _names[0]);
        foreach (string other in PerInvoke.MakeNames("other-", Others))
        {
            Check.Ok(_manager.TryAcquire(in _metadata, out _, other), "acquiring the other resources");
            Check.That(_registry.Acquire(other, ResourceType.Memory, Size), "the registry's other resources");
        }

        Check.That(_manager.LiveCount == Others && _registry.Count == Others, $"{Others} live resources");
    }
}
