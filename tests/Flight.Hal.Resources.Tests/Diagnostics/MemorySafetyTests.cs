using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Diagnostics;

/// <summary>The memory-safety mode: guards around pool and region resources, fill patterns, writes after release —
/// each caught and attributed to the right resource — and no false alarm from ordinary use.</summary>
public unsafe class MemorySafetyTests
{
    private const byte Clean = 0xCD;
    private const byte Dead = 0xDD;

    private static ResourceManager Create(
        out List<CorruptionFinding> reported, bool strict = false, RegionBacking mainBacking = RegionBacking.Arena, long quarantine = 1 << 20)
    {
        var found = new List<CorruptionFinding>();
        reported = found;
        return new ResourceManager(
            TestProfiles.Small(mainBacking: mainBacking),
            new ResourceManagerOptions
            {
                MemorySafety = new MemorySafetyOptions
                {
                    Strict = strict,
                    QuarantineBytes = quarantine,
                    CorruptionFound = f =>
                    {
                        lock (found)
                        {
                            found.Add(f);
                        }
                    },
                },
            });
    }

    private static byte* At(ResourceManager manager, ResourceHandle handle) => (byte*)manager.ResolveAddress(handle);

    /// <summary>A small request (pooled placement), and a large one (the main region's arena).</summary>
    public static TheoryData<long, string> Placements => new() { { 100, "pool Memory/256" }, { 10_000, "main" } };

    [Theory]
    [MemberData(nameof(Placements))]
    public void AnOverrun_IsCaughtAtRelease_AndAttributed(long size, string placement)
    {
        using ResourceManager manager = Create(out List<CorruptionFinding> reported);
        ResourceOwner renderer = manager.GetOwner("renderer");
        ResourceHandle handle = manager.Acquire(new ResourceMetadata(ResourceType.Memory, size), name: "mesh", owner: renderer);
        byte* p = At(manager, handle);
        p[size + 2] = 0x42; // three bytes past the end

        Assert.Equal(ResourceStatus.Ok, manager.Release(handle)); // released all the same

        CorruptionFinding finding = Assert.Single(reported);
        Assert.Equal(CorruptionKind.Overrun, finding.Kind);
        Assert.Equal(handle, finding.Handle);
        Assert.Equal("mesh", finding.Name);
        Assert.Equal("renderer", finding.Owner);
        Assert.Equal(ResourceType.Memory, finding.Type);
        Assert.Equal(size, finding.Size);
        Assert.Equal(size + 2, finding.Offset);
        Assert.Equal(1, finding.DamagedBytes);
        Assert.Equal(placement, finding.Placement);
        Assert.Equal(1, manager.CorruptionFindings);
        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(ResourceStatus.StaleHandle, manager.Release(handle));
    }

    [Theory]
    [MemberData(nameof(Placements))]
    public void AnUnderrun_IsCaughtByCheckCorruption_AndAttributed(long size, string placement)
    {
        using ResourceManager manager = Create(out List<CorruptionFinding> reported);
        ResourceHandle intact = manager.Acquire(new ResourceMetadata(ResourceType.Memory, size), name: "intact");
        ResourceHandle handle = manager.Acquire(new ResourceMetadata(ResourceType.Memory, size), name: "state");
        Assert.Equal(ResourceStatus.Ok, manager.CheckCorruption(out CorruptionFinding[] none));
        Assert.Empty(none);

        At(manager, handle)[-1] = 0;
        At(manager, handle)[-4] = 0;

        Assert.Equal(ResourceStatus.Corrupted, manager.CheckCorruption(out CorruptionFinding[] findings));
        CorruptionFinding finding = Assert.Single(findings);
        Assert.Equal(CorruptionKind.Underrun, finding.Kind);
        Assert.Equal(handle, finding.Handle);
        Assert.Equal("state", finding.Name);
        Assert.Equal("(none)", finding.Owner);
        Assert.Equal(-4, finding.Offset);
        Assert.Equal(2, finding.DamagedBytes);
        Assert.Equal(placement, finding.Placement);
        Assert.Equal(findings, reported);

        // Still there at the next check, and at the release.
        Assert.Equal(ResourceStatus.Corrupted, manager.CheckCorruption(out _));
        manager.Release(handle);
        Assert.Equal(3, manager.CorruptionFindings);
        manager.Release(intact);
        Assert.Equal(ResourceStatus.Ok, manager.CheckCorruption(out _));
    }

    [Theory]
    [MemberData(nameof(Placements))]
    public void AWriteAfterRelease_IsCaughtWhenTheBlockIsReused_AndAttributedToTheReleasedResource(long size, string placement)
    {
        using ResourceManager manager = Create(out List<CorruptionFinding> reported);
        ResourceOwner audio = manager.GetOwner("audio");
        ResourceHandle old = manager.Acquire(new ResourceMetadata(ResourceType.Memory, size), name: "old", owner: audio);
        byte* p = At(manager, old);
        manager.Release(old);
        Assert.Equal(Dead, p[0]);                // released memory reads the release pattern
        Assert.Equal(Dead, p[size - 1]);
        p[size / 2] = 7;                         // a dangling pointer writes
        Assert.Empty(reported);

        ResourceHandle reused = manager.Acquire(new ResourceMetadata(ResourceType.Memory, size), name: "new");
        Assert.True(At(manager, reused) == p, "the block is handed out again");

        CorruptionFinding finding = Assert.Single(reported);
        Assert.Equal(CorruptionKind.WriteAfterRelease, finding.Kind);
        Assert.Equal(old, finding.Handle);
        Assert.Equal("old", finding.Name);
        Assert.Equal("audio", finding.Owner);
        Assert.Equal(size / 2, finding.Offset);
        Assert.Equal(1, finding.DamagedBytes);
        Assert.Equal(placement, finding.Placement);

        // The new resource is intact and freshly filled.
        Assert.True(new ReadOnlySpan<byte>(At(manager, reused), (int)size).IndexOfAnyExcept(Clean) < 0);
        Assert.Equal(ResourceStatus.Ok, manager.CheckCorruption(out _));
        manager.Release(reused);
    }

    [Fact]
    public void AWriteAfterRelease_IsFoundByCheckCorruption_BeforeAnyReuse()
    {
        using ResourceManager manager = Create(out _);
        ResourceHandle pooled = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 100), name: "p");
        ResourceHandle region = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 10_000), name: "r");
        byte* pooledBytes = At(manager, pooled);
        byte* regionBytes = At(manager, region);
        manager.Release(pooled);
        manager.Release(region);
        pooledBytes[99] = 1;
        regionBytes[0] = 1;

        Assert.Equal(ResourceStatus.Corrupted, manager.CheckCorruption(out CorruptionFinding[] findings));

        Assert.Equal(2, findings.Length);
        Assert.Contains(findings, f => f.Name == "p" && f.Offset == 99 && f.Kind == CorruptionKind.WriteAfterRelease);
        Assert.Contains(findings, f => f.Name == "r" && f.Offset == 0 && f.Kind == CorruptionKind.WriteAfterRelease);
    }

    [Fact]
    public void HostHeapRegions_QuarantineReleasedBlocks_AndCheckThemWhenTheyLeave()
    {
        using ResourceManager manager = Create(out List<CorruptionFinding> reported, mainBacking: RegionBacking.HostHeap, quarantine: 15_000);
        ResourceHandle first = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 10_000), name: "first");
        byte* p = At(manager, first);
        manager.Release(first);
        p[123] = 9; // still the quarantine's: a late write lands in memory the manager owns
        Assert.Equal(ResourceStatus.Corrupted, manager.CheckCorruption(out CorruptionFinding[] findings));
        Assert.Equal(123, Assert.Single(findings).Offset);

        // Another 10,000-byte release pushes "first" out of the 15,000-byte quarantine: checked, reported, freed.
        manager.Release(manager.Acquire(new ResourceMetadata(ResourceType.Memory, 10_000), name: "second"));
        Assert.Equal(2, reported.Count(f => f.Name == "first" && f.Kind == CorruptionKind.WriteAfterRelease && f.Offset == 123));
        Assert.Equal(ResourceStatus.Ok, manager.CheckCorruption(out _)); // "second" is intact; "first" is gone
        RegionStats main = manager.GetRegionStats(RegionKind.Main);
        Assert.Equal(1, main.Allocations);                                  // "second", quarantined
    }

    [Fact]
    public void Resources_AreFilledAligned_AndCountedAtTheirOwnSize()
    {
        using ResourceManager manager = Create(out List<CorruptionFinding> reported);
        ResourceHandle aligned = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 300, alignment: 256));
        ResourceHandle small = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64));
        ResourceHandle video = manager.Acquire(new ResourceMetadata(ResourceType.Hardware, 1000, flags: ResourceFlags.GpuAccessible));

        Assert.Equal(0, (long)At(manager, aligned) % 256);
        Assert.Equal(300, manager.GetSpan(aligned).Length);
        Assert.True(manager.GetSpan(aligned).IndexOfAnyExcept(Clean) < 0);
        Assert.True(manager.GetSpan(video).IndexOfAnyExcept(Clean) < 0);
        Assert.Equal("pool Memory/256", manager.GetInfo(small).Placement); // 64 + two 16-byte guards: the next pool up
        Assert.Equal(364, manager.GetStats(ResourceType.Memory).CurrentBytes); // budgets count the sizes asked for
        Assert.Equal(1000, manager.GetStats(ResourceType.Hardware).CurrentBytes);
        manager.GetSpan(aligned).Fill(1); // writes inside a resource are its own business
        manager.GetSpan(video).Fill(2);
        Assert.Equal(ResourceStatus.Ok, manager.CheckCorruption(out _));
        manager.Release(aligned);
        manager.Release(small);
        manager.Release(video);
        Assert.Empty(reported);
        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.True(manager.IsMemorySafetyOn);
    }

    [Fact]
    public void Strict_ThrowsFromTheReleaseThatFoundIt_AfterReleasing()
    {
        using ResourceManager manager = Create(out _, strict: true);
        ResourceHandle handle = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 10_000), name: "boss");
        At(manager, handle)[10_000] = 0;

        MemoryCorruptionException exception = Assert.Throws<MemoryCorruptionException>(() => manager.Release(handle));

        Assert.Equal(ResourceStatus.Corrupted, exception.Status);
        Assert.Equal("boss", Assert.Single(exception.Findings).Name);
        Assert.Contains("Overrun of boss", exception.Message, StringComparison.Ordinal);
        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes); // released all the same
        Assert.Equal(ResourceStatus.StaleHandle, manager.Release(handle));
        Assert.Equal(0, manager.LiveCount);
    }

    [Fact]
    public void Strict_ThrowsFromCheckCorruption_AndFromTheAcquisitionThatFoundIt_UndoingIt()
    {
        using ResourceManager manager = Create(out _, strict: true);
        ResourceHandle old = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 100), name: "old");
        byte* p = At(manager, old);
        manager.Release(old);
        p[10] = 0;

        Assert.Throws<MemoryCorruptionException>(() => manager.CheckCorruption(out _));
        MemoryCorruptionException exception = Assert.Throws<MemoryCorruptionException>(
            () => manager.Acquire(new ResourceMetadata(ResourceType.Memory, 100), name: "new"));

        Assert.Equal("old", Assert.Single(exception.Findings).Name);
        ResourceStats stats = manager.GetStats(ResourceType.Memory);
        Assert.Equal(0, stats.CurrentBytes);                 // the acquisition was undone
        Assert.Equal(stats.Acquisitions, stats.Releases);
        Assert.Equal(0, manager.LiveCount);
        Assert.Equal(ResourceStatus.NotFound, manager.TryFind("new", out _));
        Assert.Equal(ResourceStatus.Ok, manager.CheckCorruption(out _)); // reported once; the block was reused
    }

    [Fact]
    public void AThrowingCallback_IsReportedAsAFault_AndTheCheckGoesOn()
    {
        using var manager = new ResourceManager(TestProfiles.Small(), new ResourceManagerOptions
        {
            MemorySafety = new MemorySafetyOptions { CorruptionFound = _ => throw new InvalidOperationException("boom") },
        });
        var faults = new List<Exception>();
        manager.CallbackFaulted += (_, e) => faults.Add(e.Exception);
        ResourceHandle handle = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 500));
        At(manager, handle)[500] = 0;

        Assert.Equal(ResourceStatus.Ok, manager.Release(handle));

        Assert.Equal("boom", Assert.Single(faults).Message);
        Assert.Equal(1, manager.CorruptionFindings);
        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
    }

    [Fact]
    public void Off_ByDefault_AndCheckCorruptionSaysSo()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        Assert.False(manager.IsMemorySafetyOn);
        Assert.Equal(0, manager.CorruptionFindings);
        InvalidOperationException exception = Assert.Throws<InvalidOperationException>(() => manager.CheckCorruption(out _));
        Assert.Contains("MemorySafety", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(8, 0xCD, 0xDD, 0)]
    [InlineData(24, 0xCD, 0xDD, 0)]
    [InlineData(8192, 0xCD, 0xDD, 0)]
    [InlineData(16, 0xAA, 0xAA, 0)]
    [InlineData(16, 0xCD, 0xDD, -1)]
    public void BadOptions_AreRefused(int guard, byte acquire, byte release, long quarantine)
    {
        var options = new ResourceManagerOptions
        {
            MemorySafety = new MemorySafetyOptions { GuardBytes = guard, AcquireFill = acquire, ReleaseFill = release, QuarantineBytes = quarantine },
        };
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResourceManager(TestProfiles.Small(), options));
    }

    /// <summary>A pool grows its next slab in main memory a released resource occupied: the slab's blocks (whose free
    /// list the pool writes) are not mistaken for writes after release.</summary>
    [Fact]
    public void APoolSlabCarvedOverReleasedMemory_IsNotAWriteAfterRelease()
    {
        PoolConfig[] pools = [new() { Type = ResourceType.Memory, BlockSize = 128, InitialCount = 1, MaxCount = 1024 }];
        using var manager = new ResourceManager(
            TestProfiles.Small(pools), new ResourceManagerOptions { MemorySafety = new MemorySafetyOptions() });
        ResourceHandle big = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 40_000), name: "big");
        nint start = (nint)At(manager, big);
        manager.Release(big); // watched: 40,000 bytes at the start of main memory's free space
        var handles = new List<ResourceHandle>();
        for (int i = 0; i < 600; i++)
        {
            // 82 bytes with guards: the 128 pool, whose first slab holds 512 blocks; the second is carved after it.
            handles.Add(manager.Acquire(new ResourceMetadata(ResourceType.Memory, 50)));
        }

        Assert.Equal(2, manager.Pools.Pools[0].GetStats().SlabCount);
        Assert.Contains(handles, h => (nint)At(manager, h) >= start && (nint)At(manager, h) < start + 40_000); // the new slab took it
        foreach (ResourceHandle handle in handles)
        {
            manager.Release(handle);
        }

        Assert.Equal(ResourceStatus.Ok, manager.CheckCorruption(out CorruptionFinding[] findings));
        Assert.Empty(findings);
        Assert.Equal(0, manager.CorruptionFindings);
    }

    /// <summary>No false alarms: thousands of random acquisitions and releases on pools (which grow slabs over released
    /// region memory) and on every region, each resource written over its whole span, then checked: nothing found, and
    /// the accounting exact.</summary>
    [Theory]
    [InlineData(RegionBacking.Arena)]
    [InlineData(RegionBacking.HostHeap)]
    public void RandomUse_WithinBounds_FindsNothing(RegionBacking backing)
    {
        PoolConfig[] pools =
        [
            new() { Type = ResourceType.Memory, BlockSize = 128, InitialCount = 2, MaxCount = 64 },
            new() { Type = ResourceType.Memory, BlockSize = 512, InitialCount = 1, MaxCount = 32 },
        ];
        using var manager = new ResourceManager(
            TestProfiles.Small(pools, backing),
            new ResourceManagerOptions { MemorySafety = new MemorySafetyOptions { QuarantineBytes = 20_000 } });
        var random = new Random(1234);
        var live = new List<(ResourceHandle Handle, ResourceType Type, long Size)>();
        long[] model = new long[2];
        for (int step = 0; step < 4000; step++)
        {
            if (live.Count > 0 && (random.Next(3) == 0 || live.Count > 40))
            {
                int i = random.Next(live.Count);
                Assert.Equal(ResourceStatus.Ok, manager.Release(live[i].Handle));
                model[(int)live[i].Type] -= live[i].Size;
                live.RemoveAt(i);
                continue;
            }

            ResourceType type = random.Next(4) == 0 ? ResourceType.Hardware : ResourceType.Memory;
            long size = random.Next(3) == 0 ? random.Next(1, 400) : random.Next(1, 3000);
            int alignment = 1 << random.Next(0, 8);
            ResourceFlags flags = type == ResourceType.Hardware && random.Next(2) == 0 ? ResourceFlags.GpuAccessible : ResourceFlags.None;
            if (manager.TryAcquire(new ResourceMetadata(type, size, alignment, flags), out ResourceHandle handle) == ResourceStatus.Ok)
            {
                Span<byte> span = manager.GetSpan(handle);
                Assert.Equal(size, span.Length);
                Assert.Equal(0, (long)At(manager, handle) % alignment);
                Assert.True(span.IndexOfAnyExcept(Clean) < 0, "new memory reads the acquire pattern");
                span.Fill((byte)step);
                live.Add((handle, type, size));
                model[(int)type] += size;
            }

            if (step % 500 == 0)
            {
                Assert.Equal(ResourceStatus.Ok, manager.CheckCorruption(out _));
            }
        }

        Assert.Equal(model[0], manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(model[1], manager.GetStats(ResourceType.Hardware).CurrentBytes);
        foreach ((ResourceHandle handle, _, _) in live)
        {
            manager.Release(handle);
        }

        Assert.Equal(ResourceStatus.Ok, manager.CheckCorruption(out _));
        Assert.Equal(0, manager.CorruptionFindings);
        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
    }
}
