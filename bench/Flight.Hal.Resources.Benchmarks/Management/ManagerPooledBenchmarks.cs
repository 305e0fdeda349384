using System.Buffers;
using System.Runtime.InteropServices;
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
public unsafe class ManagerPooledBenchmarks
{
    private ResourceManager _manager = null!;
    private ResourceMetadata _metadata;

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
    public long ArrayPoolShared()
    {
        long sum = 0;
        int size = Size;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            byte[] array = ArrayPool<byte>.Shared.Rent(size);
            array[0] = (byte)i;
            sum += array.Length;
            ArrayPool<byte>.Shared.Return(array);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long NativeMemoryAllocFree()
    {
        long sum = 0;
        nuint size = (nuint)Size;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            byte* memory = (byte*)NativeMemory.Alloc(size);
            *memory = (byte)i;
            sum += (nint)memory;
            NativeMemory.Free(memory);
        }

        return sum;
    }

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
