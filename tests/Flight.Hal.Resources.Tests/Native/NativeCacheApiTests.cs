using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Flight.Hal.Resources.Native;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Native;

/// <summary>The asset cache over the C ABI, called through unmanaged function pointers with loaders that are unmanaged
/// functions, as a C host calls it: loads, hits, release, eviction, loader failures, nested loads and cycles, stale
/// references and contexts, bad input, and a destroyed manager.</summary>
public sealed unsafe class NativeCacheApiTests : IDisposable
{
    private const int Ok = (int)ResourceStatus.Ok;
    private readonly List<nint> _strings = [];

    /// <summary>What the test loaders are told through their user pointer.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct LoaderState
    {
        public int Calls;
        public int FailWith;          // a status to return instead of loading
        public long Size;
        public nint Cache;            // for nested loads
        public byte* NestedKey;       // load this key too (its reference is released at once)
        public nint SavedContext;     // the context of the last load, kept to be misused later
        public int NestedStatus;
    }

    public void Dispose()
    {
        foreach (nint text in _strings)
        {
            Marshal.FreeCoTaskMem(text);
        }
    }

    [UnmanagedCallersOnly]
    private static int Loader(void* user, nint context, byte* key)
    {
        var state = (LoaderState*)user;
        state->Calls++;
        state->SavedContext = context;
        if (state->FailWith != 0)
        {
            return state->FailWith;
        }

        ulong handle;
        int status = Calls.LoadAcquire(context, (int)ResourceType.Memory, state->Size, 0, 0, &handle);
        if (status != Ok)
        {
            return status;
        }

        if (state->NestedKey != null)
        {
            ulong nested;
            byte* nestedKey = state->NestedKey;
            state->NestedKey = null; // one level
            state->NestedStatus = Calls.Load(state->Cache, nestedKey, 1, &Loader, user, &nested);
            if (state->NestedStatus == Ok)
            {
                Calls.Release(state->Cache, nested);
            }
        }

        return Ok;
    }

    [UnmanagedCallersOnly]
    private static int SelfLoader(void* user, nint context, byte* key)
    {
        var state = (LoaderState*)user;
        state->Calls++;
        ulong again;
        state->NestedStatus = Calls.Load(state->Cache, key, 1, &SelfLoader, user, &again); // the same key: a cycle
        return state->NestedStatus;
    }

    [Fact]
    public void ALoad_AHit_ARelease_AndUnloadUnused_ThroughTheAbi()
    {
        nint manager = CreateManager();
        nint cache = CreateCache(manager, "meshes", 0);
        var state = new LoaderState { Size = 4096 };
        byte* key = Utf8("meshes/docks.mesh");

        ulong first;
        ulong second;
        Assert.Equal(Ok, Calls.Load(cache, key, 1, &Loader, &state, &first));
        Assert.Equal(Ok, Calls.Load(cache, key, 1, &Loader, &state, &second));
        Assert.Equal(1, state.Calls);
        Assert.NotEqual(first, second);

        ulong texels;
        Assert.Equal(Ok, Calls.Resource(cache, first, 0, &texels));
        Assert.True(NativeApiCalls.Resolve(manager, texels) != null);
        ulong none;
        Assert.Equal((int)ResourceStatus.NotFound, Calls.Resource(cache, first, 1, &none));

        NativeCacheStats stats;
        Assert.Equal(Ok, Calls.GetStats(cache, &stats));
        Assert.Equal((1, 1, 1L, 1L, 4096L), (stats.Entries, stats.Referenced, stats.Hits, stats.Misses, stats.ResidentBytes));

        Assert.Equal(Ok, Calls.Release(cache, first));
        Assert.Equal((int)ResourceStatus.StaleHandle, Calls.Release(cache, first)); // released twice: refused
        Assert.Equal(Ok, Calls.Release(cache, second));
        long freed;
        Assert.Equal(Ok, Calls.UnloadUnused(cache, &freed));
        Assert.Equal(4096, freed);
        Assert.Equal((int)ResourceStatus.StaleHandle, Calls.Resource(cache, second, 0, &texels));
        Assert.True(NativeApiCalls.Resolve(manager, texels) == null);
        Assert.Equal(Ok, Calls.Destroy(cache));
        Assert.Equal(Ok, NativeApiCalls.ManagerDestroy(manager));
    }

    [Fact]
    public void ALoadersFailure_IsReturnedAsIs_AndNothingStaysCharged()
    {
        nint manager = CreateManager();
        nint cache = CreateCache(manager, "textures", 0);
        var state = new LoaderState { Size = 1024, FailWith = (int)ResourceStatus.NotFound };
        ulong reference = 99;

        Assert.Equal((int)ResourceStatus.NotFound, Calls.Load(cache, Utf8("missing.pvr"), 1, &Loader, &state, &reference));
        Assert.Equal(0UL, reference);

        // Over budget: the loader's acquisition is refused and the loader passes the status on.
        state = new LoaderState { Size = 1L << 40 };
        Assert.Equal((int)ResourceStatus.BudgetExceeded, Calls.Load(cache, Utf8("huge.pvr"), 1, &Loader, &state, &reference));
        NativeStats memory;
        Assert.Equal(Ok, NativeApiCalls.GetStats(manager, (int)ResourceType.Memory, &memory));
        Assert.Equal(0, memory.CurrentBytes);
        NativeCacheStats stats;
        Assert.Equal(Ok, Calls.GetStats(cache, &stats));
        Assert.Equal((0, 2L), (stats.Entries, stats.LoadFailures));
        Assert.Equal(Ok, NativeApiCalls.ManagerDestroy(manager));
    }

    [Fact]
    public void NestedLoadsWork_ACycleIsDeadlock_AndAContextUsedAfterItsLoadIsRefused()
    {
        nint manager = CreateManager();
        nint cache = CreateCache(manager, "materials", 0);
        var state = new LoaderState { Size = 512, Cache = cache, NestedKey = Utf8("texture") };
        ulong material;

        Assert.Equal(Ok, Calls.Load(cache, Utf8("material"), 1, &Loader, &state, &material));
        Assert.Equal((2, Ok), (state.Calls, state.NestedStatus));

        ulong late;
        Assert.Equal((int)ResourceStatus.InvalidHandle, Calls.LoadAcquire(state.SavedContext, 0, 64, 0, 0, &late));
        Assert.Equal((int)ResourceStatus.InvalidArgument, Calls.LoadAcquire(0, 0, 64, 0, 0, &late));

        var cycle = new LoaderState { Cache = cache };
        ulong loop;
        Assert.Equal((int)ResourceStatus.Deadlock, Calls.Load(cache, Utf8("loop"), 1, &SelfLoader, &cycle, &loop));
        Assert.Equal((int)ResourceStatus.Deadlock, cycle.NestedStatus);
        Assert.Equal(Ok, Calls.Release(cache, material));
        Assert.Equal(Ok, NativeApiCalls.ManagerDestroy(manager));
    }

    [Fact]
    public void OverMaxBytes_TheLeastRecentlyUsedIsEvicted()
    {
        nint manager = CreateManager();
        nint cache = CreateCache(manager, "stream", 2 * 1024);
        var state = new LoaderState { Size = 1024 };
        foreach (string name in new[] { "a", "b", "c" })
        {
            ulong reference;
            Assert.Equal(Ok, Calls.Load(cache, Utf8(name), 1, &Loader, &state, &reference));
            Assert.Equal(Ok, Calls.Release(cache, reference));
        }

        NativeCacheStats stats;
        Assert.Equal(Ok, Calls.GetStats(cache, &stats));
        Assert.Equal((2, 2048L, 1L), (stats.Entries, stats.ResidentBytes, stats.Evictions));
        Assert.Equal(Ok, NativeApiCalls.ManagerDestroy(manager));
    }

    [Fact]
    public void BadInput_AndADestroyedManagerOrCache_GetClearStatuses()
    {
        nint manager = CreateManager();
        nint cache = CreateCache(manager, "c", 0);
        var state = new LoaderState { Size = 64 };
        ulong reference;
        nint made;
        int invalid = (int)ResourceStatus.InvalidArgument;
        int handle = (int)ResourceStatus.InvalidHandle;

        Assert.Equal(invalid, Calls.Create(manager, null, 0, &made));
        Assert.Equal(invalid, Calls.Create(manager, Utf8(""), 0, &made));
        Assert.Equal(invalid, Calls.Create(manager, Utf8("c"), -1, &made));
        Assert.Equal(invalid, Calls.Create(manager, Utf8("c"), 0, null));
        Assert.Equal(handle, Calls.Create(12345, Utf8("c"), 0, &made));
        Assert.Equal(invalid, Calls.Load(cache, null, 1, &Loader, &state, &reference));
        Assert.Equal(invalid, Calls.Load(cache, Utf8(""), 1, &Loader, &state, &reference));
        Assert.Equal(invalid, Calls.Load(cache, Utf8("k"), 9, &Loader, &state, &reference));
        Assert.Equal(invalid, Calls.Load(cache, Utf8("k"), 1, null, &state, &reference));
        Assert.Equal(invalid, Calls.Load(cache, Utf8("k"), 1, &Loader, &state, null));
        Assert.Equal(invalid, Calls.Load(0, Utf8("k"), 1, &Loader, &state, &reference));
        Assert.Equal(handle, Calls.Load(777, Utf8("k"), 1, &Loader, &state, &reference));
        Assert.Equal((int)ResourceStatus.StaleHandle, Calls.Release(cache, 0));
        Assert.Equal((int)ResourceStatus.StaleHandle, Calls.Release(cache, 0xDEADBEEF00000001));
        Assert.Equal(invalid, Calls.GetStats(cache, null));
        Assert.Equal(0, state.Calls);

        Assert.Equal(Ok, Calls.Load(cache, Utf8("k"), 1, &Loader, &state, &reference));
        Assert.Equal(Ok, NativeApiCalls.ManagerDestroy(manager)); // destroys its caches
        Assert.Equal(handle, Calls.Release(cache, reference));
        Assert.Equal(handle, Calls.Load(cache, Utf8("k"), 1, &Loader, &state, &reference));
        Assert.Equal(Ok, Calls.Destroy(cache));
        Assert.Equal(handle, Calls.Destroy(cache));
        Assert.Equal(invalid, Calls.Destroy(0));
    }

    [Fact]
    public void AHitAndItsRelease_AllocateNothingOnTheManagedHeap()
    {
        nint manager = CreateManager();
        nint cache = CreateCache(manager, "hits", 0);
        var state = new LoaderState { Size = 64 };
        byte* key = Utf8("textures/hero.pvr");
        ulong loaded;
        Assert.Equal(Ok, Calls.Load(cache, key, 1, &Loader, &state, &loaded));
        LoaderState* user = (LoaderState*)Unsafe.AsPointer(ref state);

        int failures = 0;
        long allocated = Allocations.Measure(() =>
        {
            ulong hit;
            failures += Calls.Load(cache, key, 1, &Loader, user, &hit);
            failures += Calls.Release(cache, hit);
        });

        Assert.Equal(0, failures);
        Assert.Equal(0, allocated);
        Assert.Equal(1, state.Calls);
        Assert.Equal(Ok, NativeApiCalls.ManagerDestroy(manager));
    }

    private nint CreateManager()
    {
        nint manager;
        Assert.Equal(Ok, NativeApiCalls.ManagerCreate(Utf8("dreamcast"), &manager));
        return manager;
    }

    private nint CreateCache(nint manager, string name, long maxBytes)
    {
        nint cache;
        Assert.Equal(Ok, Calls.Create(manager, Utf8(name), maxBytes, &cache));
        Assert.NotEqual(0, cache);
        return cache;
    }

    private byte* Utf8(string text)
    {
        nint pointer = Marshal.StringToCoTaskMemUTF8(text);
        _strings.Add(pointer);
        return (byte*)pointer;
    }

    /// <summary>The cache exports as a C host sees them.</summary>
    private static class Calls
    {
        public static readonly delegate* unmanaged<nint, byte*, long, nint*, int> Create = &NativeApi.CacheCreate;
        public static readonly delegate* unmanaged<nint, int> Destroy = &NativeApi.CacheDestroy;
        public static readonly delegate* unmanaged<nint, byte*, int, delegate* unmanaged<void*, nint, byte*, int>, void*, ulong*, int> Load = &NativeApi.CacheLoad;
        public static readonly delegate* unmanaged<nint, int, long, int, uint, ulong*, int> LoadAcquire = &NativeApi.LoadAcquire;
        public static readonly delegate* unmanaged<nint, ulong, int, ulong*, int> Resource = &NativeApi.CacheResource;
        public static readonly delegate* unmanaged<nint, ulong, int> Release = &NativeApi.CacheRelease;
        public static readonly delegate* unmanaged<nint, long*, int> UnloadUnused = &NativeApi.CacheUnloadUnused;
        public static readonly delegate* unmanaged<nint, NativeCacheStats*, int> GetStats = &NativeApi.CacheGetStats;
    }
}
