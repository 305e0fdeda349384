using System.Runtime.InteropServices;
using Flight.Hal.Resources.Native;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Native;

/// <summary>The C ABI's exports, called through unmanaged function pointers as a C host calls them (issue 9 item 10):
/// no managed allocation per call, and a clear status for every bad input.</summary>
public sealed unsafe class NativeApiTests : IDisposable
{
    private const int Ok = (int)ResourceStatus.Ok;
    private const int InvalidArgument = (int)ResourceStatus.InvalidArgument;
    private const int InvalidHandle = (int)ResourceStatus.InvalidHandle;
    private const int NotFound = (int)ResourceStatus.NotFound;

    private readonly List<nint> _strings = [];

    public void Dispose()
    {
        foreach (nint text in _strings)
        {
            Marshal.FreeCoTaskMem(text);
        }
    }

    [Fact]
    public void HotCalls_AllocateNothingOnTheManagedHeap()
    {
        // Arrange: names and owners live in native memory, as a C host's strings do.
        nint manager = Create("dreamcast");
        byte* name = Utf8("meshes/hero.mesh");
        byte* owner = Utf8("GraphicsDriver");
        byte* other = Utf8("AudioDriver");
        NativeStats* stats = (NativeStats*)NativeMemory.AllocZeroed((nuint)sizeof(NativeStats));

        // Act: every status is folded into one number (xunit's asserts allocate, so none runs inside the measurement).
        int failures = 0;
        long allocated = Allocations.Measure(() =>
        {
            ulong pooled;
            failures += Acquire(manager, 64, 0, null, &pooled) | (NativeApiCalls.Resolve(manager, pooled) == null ? 1 : 0);
            failures += NativeApiCalls.Release(manager, pooled);

            ulong named;
            ulong found;
            failures += Acquire(manager, 3000, 0, name, &named);
            failures += NativeApiCalls.Find(manager, name, &found) | (found == named ? 0 : 1);
            failures += NativeApiCalls.Release(manager, named);

            ulong owned;
            ulong shared;
            failures += NativeApiCalls.AcquireOwned(manager, 0, 256, 0, 1, 0, 0, null, owner, &owned); // shareable
            failures += NativeApiCalls.Share(manager, owned, other, &shared);
            failures += NativeApiCalls.ReleaseOwned(manager, shared, other);
            failures += NativeApiCalls.ReleaseOwned(manager, owned, owner);
            failures += NativeApiCalls.GetStats(manager, 0, stats);
        });

        // Assert
        Assert.Equal(0, failures);
        Assert.Equal(0, allocated);
        Assert.Equal(0, stats->CurrentBytes);
        Assert.True(stats->Acquisitions >= 3 * 1100);
        NativeMemory.Free(stats);
        Destroy(manager);
    }

    [Fact]
    public void NullAndEmptyStrings_AndBadEnumsAndFlags_AreInvalidArguments_AndChangeNothing()
    {
        nint manager = Create("dreamcast");
        byte* empty = Utf8(string.Empty);
        byte* owner = Utf8("Owner");
        byte* invalidUtf8 = Bytes(0xFF, 0xFE, 0x00);
        ulong handle = 123;

        Assert.Equal(InvalidArgument, NativeApiCalls.AcquireOwned(manager, 0, 64, 0, 0, 0, 0, null, null, &handle));  // owner NULL
        Assert.Equal(0UL, handle);
        Assert.Equal(InvalidArgument, NativeApiCalls.AcquireOwned(manager, 0, 64, 0, 0, 0, 0, null, empty, &handle)); // owner ""
        Assert.Equal(InvalidArgument, Acquire(manager, 64, 0, empty, &handle));                                       // name ""
        Assert.Equal(InvalidArgument, Acquire(manager, 64, 0, invalidUtf8, &handle));                                 // not UTF-8
        Assert.Equal(InvalidArgument, Acquire(manager, 64, 0x1 | 0x2, null, &handle));                                // shareable|exclusive
        Assert.Equal(InvalidArgument, Acquire(manager, 64, 0x10 | 0x100, null, &handle));                             // gpu|audio
        Assert.Equal(InvalidArgument, Acquire(manager, 64, 0x200, null, &handle));                                    // unknown flag
        Assert.Equal(InvalidArgument, NativeApiCalls.Acquire(manager, 9, 64, 0, 0, 0, 0, null, &handle));             // unknown type
        Assert.Equal(InvalidArgument, NativeApiCalls.Acquire(manager, 0, 64, 0, 0, 7, 0, null, &handle));             // unknown mode
        Assert.Equal(InvalidArgument, NativeApiCalls.Acquire(manager, 0, 64, 3, 0, 0, 0, null, &handle));             // alignment 3
        Assert.Equal(InvalidArgument, NativeApiCalls.Acquire(manager, 0, 0, 0, 0, 0, 0, null, &handle));              // size 0
        Assert.Equal(InvalidArgument, NativeApiCalls.Acquire(manager, 0, 64, 0, 0, 0, 0, null, null));                // out NULL
        Assert.Equal(InvalidArgument, NativeApiCalls.ReleaseOwned(manager, 1, null));
        Assert.Equal(InvalidArgument, NativeApiCalls.Share(manager, 1, null, &handle));
        Assert.Equal(InvalidArgument, NativeApiCalls.Find(manager, null, &handle));
        Assert.Equal(InvalidArgument, NativeApiCalls.Find(manager, owner, null));
        Assert.Equal(InvalidArgument, NativeApiCalls.Release(0, 1));                                                  // manager NULL
        Assert.Equal(InvalidHandle, NativeApiCalls.Release(0x12340, 1));                                             // bogus manager
        Assert.Equal(InvalidHandle, NativeApiCalls.Release(manager, 0));                                             // null handle

        NativeStats stats;
        Assert.Equal(Ok, NativeApiCalls.GetStats(manager, 0, &stats));
        Assert.Equal(0, stats.CurrentBytes);
        Assert.Equal(0, stats.Acquisitions);
        Destroy(manager);
    }

    [Theory]
    [InlineData(" dreamcast")]
    [InlineData("dreamcast ")]
    [InlineData("dreamcast\n")]
    [InlineData("dream cast")]
    [InlineData("")]
    [InlineData("amiga")]
    public void Create_WithAnythingButAnExactKnownName_IsNotFound(string profile)
    {
        nint manager = 77;

        int status = NativeApiCalls.ManagerCreate(Utf8(profile), &manager);

        Assert.Equal(NotFound, status);
        Assert.Equal(0, manager);
    }

    [Theory]
    [InlineData("DreamCast")]
    [InlineData("n64-expansion")]
    public void Create_WithAKnownNameInAnyCase_Succeeds(string profile)
    {
        nint manager = Create(profile);
        Destroy(manager);
    }

    [Fact]
    public void HandlesOfDestroyedManagers_AreInvalidForEveryLaterManager()
    {
        // ~12 handle tags per dreamcast manager: 300 cycles reuse every tag of the process several times.
        var kept = new List<ulong>();
        for (int i = 0; i < 300; i++)
        {
            nint manager = Create("dreamcast");
            ulong pooled;
            ulong named;
            Assert.Equal(Ok, Acquire(manager, 64, 0, null, &pooled));
            Assert.Equal(Ok, Acquire(manager, 64, 0, Utf8("n"), &named));
            foreach (ulong old in kept)
            {
                Assert.Equal(InvalidHandle, NativeApiCalls.Release(manager, old));
                Assert.True(NativeApiCalls.Resolve(manager, old) == null);
            }

            NativeStats stats;
            Assert.Equal(Ok, NativeApiCalls.GetStats(manager, 0, &stats));
            Assert.Equal(128, stats.CurrentBytes);
            if (i % 10 == 0)
            {
                kept.Add(pooled);
                kept.Add(named);
            }

            Destroy(manager);
        }
    }

    private static int Acquire(nint manager, long size, uint flags, byte* name, ulong* handle) =>
        NativeApiCalls.Acquire(manager, 0, size, 0, flags, 0, 0, name, handle);

    private nint Create(string profile)
    {
        nint manager;
        Assert.Equal(Ok, NativeApiCalls.ManagerCreate(Utf8(profile), &manager));
        Assert.NotEqual(0, manager);
        return manager;
    }

    private static void Destroy(nint manager) => Assert.Equal(Ok, NativeApiCalls.ManagerDestroy(manager));

    private byte* Utf8(string text)
    {
        nint pointer = Marshal.StringToCoTaskMemUTF8(text);
        _strings.Add(pointer);
        return (byte*)pointer;
    }

    private byte* Bytes(params byte[] bytes)
    {
        nint pointer = Marshal.AllocCoTaskMem(bytes.Length);
        Marshal.Copy(bytes, 0, pointer, bytes.Length);
        _strings.Add(pointer);
        return (byte*)pointer;
    }
}

/// <summary>The exports as a C host sees them: unmanaged function pointers.</summary>
internal static unsafe class NativeApiCalls
{
    public static readonly delegate* unmanaged<byte*, nint*, int> ManagerCreate = &NativeApi.ManagerCreate;
    public static readonly delegate* unmanaged<nint, int> ManagerDestroy = &NativeApi.ManagerDestroy;
    public static readonly delegate* unmanaged<nint, int, long, int, uint, int, int, byte*, ulong*, int> Acquire = &NativeApi.AcquireExport;
    public static readonly delegate* unmanaged<nint, int, long, int, uint, int, int, byte*, byte*, ulong*, int> AcquireOwned = &NativeApi.AcquireOwnedExport;
    public static readonly delegate* unmanaged<nint, ulong, void*> Resolve = &NativeApi.Resolve;
    public static readonly delegate* unmanaged<nint, ulong, int> Release = &NativeApi.Release;
    public static readonly delegate* unmanaged<nint, ulong, byte*, int> ReleaseOwned = &NativeApi.ReleaseOwned;
    public static readonly delegate* unmanaged<nint, ulong, byte*, ulong*, int> Share = &NativeApi.Share;
    public static readonly delegate* unmanaged<nint, byte*, ulong*, int> Find = &NativeApi.Find;
    public static readonly delegate* unmanaged<nint, int, NativeStats*, int> GetStats = &NativeApi.GetStats;
}
