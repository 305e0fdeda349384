using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Memory;

public class ArenaTests
{
    private static ArenaConfig Config(long size = 64 * 1024, int minAlignment = 16, int granularity = 16,
        long reserved = 0, int maxAllocations = 0, bool threadSafe = false) => new()
    {
        Size = size,
        MinAlignment = minAlignment,
        Granularity = granularity,
        ReservedStart = reserved,
        MaxAllocations = maxAllocations,
        ThreadSafe = threadSafe,
    };

    [Fact]
    public void Allocate_ThenResolve_GivesTheRoundedSizeInsideTheRegion()
    {
        // Arrange
        using var arena = new Arena(Config(size: 4096));

        // Act
        ResourceStatus status = arena.TryAllocate(100, 0, out ResourceHandle handle);
        arena.TryResolve(handle, out nint address, out long size);
        arena.TryGetSpan(handle, out Span<byte> span);
        span.Fill(0xCD);

        // Assert
        Assert.Equal(ResourceStatus.Ok, status);
        Assert.Equal(112, size); // 100 rounded up to the 16-byte unit
        Assert.Equal(112, span.Length);
        Assert.Equal(0, address % 16);
        ArenaStats stats = arena.GetStats();
        Assert.Equal(112, stats.UsedBytes);
        Assert.Equal(4096 - 112, stats.FreeBytes);
        Assert.Equal(1, stats.AllocationCount);
        Assert.Null(arena.Validate());
    }

    [Theory]
    [InlineData(16, 16, 1)]
    [InlineData(32, 32, 1)]
    [InlineData(32, 32, 33)]
    [InlineData(16, 16, 4096)]
    [InlineData(32, 8, 100)]
    [InlineData(8, 32, 100)]
    public void EveryAllocation_HonoursTheRegionsAlignmentAndGranularity(int minAlignment, int granularity, int size)
    {
        using var arena = new Arena(Config(size: 256 * 1024, minAlignment: minAlignment, granularity: granularity));
        int unit = Math.Max(8, Math.Max(minAlignment, granularity));

        for (int i = 0; i < 50; i++)
        {
            ResourceHandle handle = arena.Allocate(size + i);
            arena.TryResolve(handle, out nint address, out long rounded);
            Assert.Equal(0, address % minAlignment);
            Assert.Equal(0, address % unit);
            Assert.Equal(0, rounded % granularity);
            Assert.True(rounded >= size + i && rounded < size + i + unit);
        }

        Assert.Null(arena.Validate());
    }

    [Theory]
    [InlineData(64)]
    [InlineData(256)]
    [InlineData(4096)]
    [InlineData(65536)]
    public void Allocate_WithLargeAlignment_IsAligned_AndTheGapStaysUsable(int alignment)
    {
        // Arrange: push the free space off any large alignment first.
        using var arena = new Arena(Config(size: 1024 * 1024));
        arena.Allocate(48);

        // Act
        ResourceHandle aligned = arena.Allocate(1000, alignment);
        arena.TryResolve(aligned, out nint address, out _);
        ResourceStatus small = arena.TryAllocate(16, 0, out _);

        // Assert
        Assert.Equal(0, address % alignment);
        Assert.Equal(ResourceStatus.Ok, small);
        Assert.Null(arena.Validate());
    }

    [Fact]
    public void ReservedStart_IsNeverHandedOut()
    {
        // Arrange: the Dreamcast's sound RAM: 2 MiB, 32-byte granularity, first 0x30000 bytes for the driver.
        using var arena = new Arena(Config(size: 2 * 1024 * 1024, minAlignment: 32, granularity: 32, reserved: 0x30000));
        var addresses = new List<long>();

        // Act: fill it.
        nint regionBase = 0;
        while (arena.TryAllocate(64 * 1024, 0, out ResourceHandle handle) == ResourceStatus.Ok)
        {
            arena.TryResolve(handle, out nint address, out _);
            addresses.Add(address);
        }

        // Assert: the lowest allocation starts exactly at the reserved boundary of the 64 KiB-aligned region.
        regionBase = (nint)(addresses.Min() - 0x30000);
        Assert.Equal(0, regionBase % ArenaConfig.MaxAlignment);
        Assert.Equal(0x30000, arena.GetStats().ReservedBytes);
        Assert.Equal((2 * 1024 * 1024 - 0x30000) / (64 * 1024), addresses.Count);
        Assert.Null(arena.Validate());
    }

    [Fact]
    public void Request_FailsWithFragmented_WhenEnoughBytesAreFreeOnlyInPieces()
    {
        // Arrange: 16 blocks of 1 KiB fill 16 KiB; free every other one -> 8 KiB free in 1 KiB pieces.
        using var arena = new Arena(Config(size: 16 * 1024));
        var blocks = Enumerable.Range(0, 16).Select(_ => arena.Allocate(1024)).ToList();
        for (int i = 0; i < 16; i += 2)
        {
            arena.Free(blocks[i]);
        }

        // Act
        ResourceStatus twoKiB = arena.TryAllocate(2048, 0, out ResourceHandle none);
        ResourceStatus nineKiB = arena.TryAllocate(9 * 1024, 0, out _);
        ResourceStatus oneKiB = arena.TryAllocate(1024, 0, out _);

        // Assert
        ArenaStats stats = arena.GetStats();
        Assert.Equal(ResourceStatus.Fragmented, twoKiB);      // 8 KiB free, but no 2 KiB piece
        Assert.True(none.IsNull);
        Assert.Equal(ResourceStatus.RegionExhausted, nineKiB); // not even the bytes
        Assert.Equal(ResourceStatus.Ok, oneKiB);
        Assert.Equal(1, stats.FragmentationFailures);
        Assert.Equal(2, stats.FailedAllocations);
        Assert.Equal(1024, stats.LargestFreeBlock);
        Assert.Equal(7 * 1024, stats.FreeBytes);
        Assert.Equal(1.0 - (1024.0 / (7 * 1024)), stats.Fragmentation, 10);
    }

    [Fact]
    public void Free_CoalescesNeighbours_BackIntoOneBlock()
    {
        using var arena = new Arena(Config(size: 64 * 1024));
        var blocks = Enumerable.Range(0, 40).Select(i => arena.Allocate(100 + (i * 37))).ToList();
        var random = new Random(3);

        foreach (ResourceHandle handle in blocks.OrderBy(_ => random.Next()))
        {
            Assert.Equal(ResourceStatus.Ok, arena.Free(handle));
            Assert.Null(arena.Validate());
        }

        ArenaStats stats = arena.GetStats();
        Assert.Equal(1, stats.FreeBlockCount);
        Assert.Equal(64 * 1024, stats.LargestFreeBlock);
        Assert.Equal(0, stats.Fragmentation);
        Assert.Equal(ResourceStatus.Ok, arena.TryAllocate(64 * 1024, 0, out _)); // the whole region again
    }

    [Fact]
    public void Allocate_ExactlyTheWholeRegion_ThenOneMoreByteFails()
    {
        using var arena = new Arena(Config(size: 8192));

        ResourceHandle all = arena.Allocate(8192);

        Assert.Equal(ResourceStatus.RegionExhausted, arena.TryAllocate(1, 0, out _));
        Assert.Equal(ResourceStatus.RegionExhausted, arena.TryAllocate(8193, 0, out _));
        arena.Free(all);
        Assert.Equal(ResourceStatus.RegionExhausted, arena.TryAllocate(8193, 0, out _));
        Assert.Equal(ResourceStatus.RegionExhausted, arena.TryAllocate(long.MaxValue, 0, out _));
    }

    [Fact]
    public void StaleAndDoubleFree_AreDetected_AndChangeNothing()
    {
        using var arena = new Arena(Config(size: 4096, maxAllocations: 4));
        ResourceHandle first = arena.Allocate(64);
        arena.Free(first);
        ResourceHandle second = arena.Allocate(64); // may reuse the same handle slot

        Assert.Equal(ResourceStatus.StaleHandle, arena.Free(first));
        Assert.Equal(ResourceStatus.StaleHandle, arena.TryResolve(first, out nint address, out long size));
        Assert.Equal(0, address);
        Assert.Equal(0, size);
        Assert.False(arena.Contains(first));
        Assert.True(arena.Contains(second));
        Assert.Equal(64, arena.GetStats().UsedBytes);
        Assert.Equal(ResourceStatus.InvalidHandle, arena.Free(default));
        Assert.Null(arena.Validate());
    }

    [Fact]
    public void ForeignHandle_IsRejected()
    {
        using var arena = new Arena(Config());
        using var other = new Arena(Config());
        using var pool = new SlabPool(new PoolConfig { BlockSize = 64, MaxCount = 4 });
        arena.Allocate(64);

        Assert.Throws<ArgumentException>(() => arena.Free(other.Allocate(64)));
        Assert.Throws<ArgumentException>(() => arena.Free(pool.Rent()));
        Assert.Throws<ArgumentException>(() => arena.TryResolve(other.Allocate(32), out _, out _));
        Assert.Equal(1, arena.GetStats().AllocationCount);
    }

    [Fact]
    public void Allocate_BeyondMaxAllocations_ReturnsCapacityExceeded()
    {
        using var arena = new Arena(Config(size: 4096, maxAllocations: 3));
        arena.Allocate(16);
        arena.Allocate(16);
        ResourceHandle third = arena.Allocate(16);

        Assert.Equal(ResourceStatus.CapacityExceeded, arena.TryAllocate(16, 0, out _));
        arena.Free(third);
        Assert.Equal(ResourceStatus.Ok, arena.TryAllocate(16, 0, out _));
    }

    [Fact]
    public void BadArguments_Throw()
    {
        using var arena = new Arena(Config());

        Assert.Throws<ArgumentOutOfRangeException>(() => arena.TryAllocate(0, 0, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => arena.TryAllocate(-1, 0, out _));
        Assert.Throws<ArgumentException>(() => arena.TryAllocate(16, 3, out _));
        Assert.Throws<ArgumentException>(() => arena.TryAllocate(16, -8, out _));
        Assert.Throws<ArgumentException>(() => arena.TryAllocate(16, ArenaConfig.MaxAlignment * 2, out _));
        Assert.Throws<ArgumentNullException>(() => new Arena(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Arena(Config(size: 0)));
        Assert.Throws<ArgumentException>(() => new Arena(Config(minAlignment: 24)));
        Assert.Throws<ArgumentException>(() => new Arena(Config(granularity: 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Arena(Config(size: 4096, reserved: 4096)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Arena(Config(reserved: -1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Arena(Config(maxAllocations: -1)));
        Assert.Equal(0, arena.GetStats().AllocationCount);
    }

    [Fact]
    public void Constructor_AllocationFails_ThrowsAndLeaksNothing()
    {
        for (int successes = 0; successes < 3; successes++)
        {
            var allocator = new TrackingAllocator();
            allocator.FailAfter(successes);

            Assert.Throws<OutOfMemoryException>(() => new Arena(Config(), allocator));

            Assert.Equal(0, allocator.LiveBytes);
        }
    }

    [Fact]
    public void Dispose_ReturnsEveryNativeByte_AndIsIdempotent()
    {
        var allocator = new TrackingAllocator();
        var arena = new Arena(Config(size: 1024 * 1024), allocator);
        for (int i = 0; i < 100; i++)
        {
            arena.Allocate(1000);
        }

        arena.Dispose();
        arena.Dispose();

        Assert.Equal(0, allocator.LiveBytes);
        Assert.True(arena.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => arena.TryAllocate(16, 0, out _));
        Assert.Throws<ObjectDisposedException>(() => arena.GetStats());
    }

    [Fact]
    public void ThreadSafe_ConcurrentAllocateAndFree_KeepsTheRegionConsistent()
    {
        // Four threads allocate, stamp, check and free their own blocks; overlapping blocks would corrupt a stamp.
        using var arena = new Arena(Config(size: 4 * 1024 * 1024, maxAllocations: 4096, threadSafe: true));
        int corrupted = 0;

        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, worker =>
        {
            var random = new Random(worker);
            var mine = new Queue<(ResourceHandle Handle, byte Stamp)>();
            for (int i = 0; i < 20_000; i++)
            {
                if (mine.Count < 64 && arena.TryAllocate(random.Next(1, 4096), 0, out ResourceHandle handle) == ResourceStatus.Ok)
                {
                    byte stamp = (byte)random.Next(256);
                    arena.TryGetSpan(handle, out Span<byte> span);
                    span.Fill(stamp);
                    mine.Enqueue((handle, stamp));
                }
                else if (mine.Count > 0)
                {
                    (ResourceHandle old, byte expected) = mine.Dequeue();
                    arena.TryGetSpan(old, out Span<byte> span);
                    if (span.IndexOfAnyExcept(expected) >= 0 || arena.Free(old) != ResourceStatus.Ok)
                    {
                        Interlocked.Increment(ref corrupted);
                    }
                }
            }

            while (mine.Count > 0)
            {
                arena.Free(mine.Dequeue().Handle);
            }
        });

        ArenaStats stats = arena.GetStats();
        Assert.Equal(0, corrupted);
        Assert.Equal(0, stats.UsedBytes);
        Assert.Equal(1, stats.FreeBlockCount);
        Assert.Null(arena.Validate());
    }

    [Fact]
    public void SteadyState_AllocateFree_AllocatesNothingOnTheGcHeap()
    {
        using var arena = new Arena(Config(size: 1024 * 1024, threadSafe: true));

        long bytes = Allocations.Measure(() =>
        {
            ResourceHandle a = arena.Allocate(100);
            ResourceHandle b = arena.Allocate(3000, 256);
            arena.Free(a);
            arena.Free(b);
        });

        Assert.Equal(0, bytes);
    }

    [Theory]
    [InlineData(1, 16, 16, 0)]
    [InlineData(2, 32, 32, 0x30000)]
    [InlineData(3, 32, 8, 1000)]
    public void RandomOperations_KeepTheRegionConsistent(int seed, int minAlignment, int granularity, long reserved)
    {
        // A fixed-seed walk of many thousand allocations and frees of random sizes and alignments, checked against
        // a model: no two live allocations overlap, each is aligned, and reserved + used + free == capacity.
        const long Size = 2 * 1024 * 1024;
        var random = new Random(seed);
        using var arena = new Arena(Config(size: Size, minAlignment: minAlignment, granularity: granularity, reserved: reserved, maxAllocations: 4096));
        var live = new Dictionary<ResourceHandle, (long Start, long End, int Alignment)>();
        nint regionBase = 0;

        for (int step = 0; step < 20_000; step++)
        {
            if (live.Count > 0 && (random.Next(100) < 45 || live.Count >= 4000))
            {
                ResourceHandle victim = live.Keys.ElementAt(random.Next(live.Count));
                Assert.Equal(ResourceStatus.Ok, arena.Free(victim));
                live.Remove(victim);
            }
            else
            {
                long size = random.Next(4) == 0 ? random.Next(1, 64 * 1024) : random.Next(1, 2048);
                int alignment = random.Next(5) == 0 ? 1 << random.Next(0, 13) : 0;
                ResourceStatus status = arena.TryAllocate(size, alignment, out ResourceHandle handle);
                if (status == ResourceStatus.Ok)
                {
                    arena.TryResolve(handle, out nint address, out long rounded);
                    Assert.True(rounded >= size);
                    Assert.Equal(0, address % Math.Max(alignment, minAlignment));
                    live.Add(handle, (address, address + rounded, alignment));
                    regionBase = regionBase == 0 ? address : Math.Min(regionBase, address);
                }
                else
                {
                    Assert.True(status is ResourceStatus.Fragmented or ResourceStatus.RegionExhausted, status.ToString());
                }
            }

            ArenaStats stats = arena.GetStats();
            Assert.Equal(Size, stats.ReservedBytes + stats.UsedBytes + stats.FreeBytes);
            Assert.Equal(live.Count, stats.AllocationCount);
            Assert.Equal(live.Values.Sum(v => v.End - v.Start), stats.UsedBytes);
            if (step % 500 == 0)
            {
                Assert.Null(arena.Validate());
                var ordered = live.Values.OrderBy(v => v.Start).ToList();
                for (int i = 1; i < ordered.Count; i++)
                {
                    Assert.True(ordered[i - 1].End <= ordered[i].Start, "Allocations overlap.");
                }
            }
        }

        Assert.Null(arena.Validate());
    }

    [Fact]
    public void GetSpan_IsTheThrowingTwin_OfTryGetSpan()
    {
        using var arena = new Arena(Config(size: 4096));
        ResourceHandle handle = arena.Allocate(100);

        Span<byte> span = arena.GetSpan(handle);
        Assert.Equal(arena.Unit * ((100 + arena.Unit - 1) / arena.Unit), span.Length); // the request rounded up to the unit
        span.Fill(0xAB);

        Assert.Equal(ResourceStatus.Ok, arena.Free(handle));
        Assert.Equal(ResourceStatus.StaleHandle, Assert.Throws<ResourceException>(() => arena.GetSpan(handle)).Status);
        Assert.Equal(ResourceStatus.InvalidHandle, Assert.Throws<ResourceException>(() => arena.GetSpan(default)).Status);
    }
}
