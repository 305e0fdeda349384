using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Management;

/// <summary>One acquire + release per call at a pooled size on the desktop profile: the thread-safe, budgeted
/// <see cref="ResourceManager"/> (NonBlocking, anonymous) against the published design's locked string-keyed registry
/// (baseline), <c>NativeMemory.Alloc/Free</c> and <c>ArrayPool&lt;byte&gt;.Shared</c>.</summary>
/// <remarks>Each body touches the memory once so no call can be folded away.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Manager)]
public class ManagerAcquireReleaseBenchmarks
{
    private ResourceManager _manager = null!;
    private LockedStringRegistry _registry = null!;
    private ResourceMetadata _metadata;

    [Params(64, 4096)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _manager = new ResourceManager(PlatformProfile.Get("desktop"));
        _registry = new LockedStringRegistry(long.MaxValue / 2);
        _metadata = new ResourceMetadata(ResourceType.Memory, Size);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _manager.Dispose();
        _registry.Dispose();
    }

    [Benchmark(Baseline = true)]
    public nint LockedStringRegistry()
    {
        string id = _registry.Acquire(ResourceType.Memory, Size)!;
        nint memory = _registry.Resolve(id);
        _registry.Release(id);
        return memory;
    }

    [Benchmark]
    public unsafe nint NativeMemoryAllocFree()
    {
        void* memory = NativeMemory.Alloc((nuint)Size);
        *(byte*)memory = 1;
        NativeMemory.Free(memory);
        return (nint)memory;
    }

    [Benchmark]
    public int ArrayPoolShared()
    {
        byte[] array = ArrayPool<byte>.Shared.Rent(Size);
        array[0] = 1;
        ArrayPool<byte>.Shared.Return(array);
        return array.Length;
    }

    [Benchmark]
    public nint Manager()
    {
        _manager.TryAcquire(in _metadata, out ResourceHandle handle);
        nint memory = _manager.ResolveAddress(handle);
        _manager.Release(handle);
        return memory;
    }

    [Benchmark]
    public ulong ManagerNoResolve() => AcquireRelease(_manager, in _metadata);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong AcquireRelease(ResourceManager manager, in ResourceMetadata metadata)
    {
        manager.TryAcquire(in metadata, out ResourceHandle handle);
        manager.Release(handle);
        return handle.RawValue;
    }
}
