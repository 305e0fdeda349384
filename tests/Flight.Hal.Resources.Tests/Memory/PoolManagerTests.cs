using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Memory;

public class PoolManagerTests
{
    private static PoolConfig Pool(int blockSize, ResourceType type = ResourceType.Memory, int alignment = 16, int maxCount = 8) =>
        new() { Type = type, BlockSize = blockSize, Alignment = alignment, MaxCount = maxCount };

    [Theory]
    [InlineData(1, 64)]
    [InlineData(64, 64)]
    [InlineData(65, 128)]
    [InlineData(200, 256)]
    [InlineData(256, 256)]
    [InlineData(257, 4096)]
    [InlineData(4096, 4096)]
    public void FindPool_RoutesToTheSmallestFittingPool(int size, int expectedBlockSize)
    {
        using var manager = new PoolManager([Pool(4096), Pool(64), Pool(256), Pool(128)]);

        SlabPool? pool = manager.FindPool(ResourceType.Memory, size);

        Assert.NotNull(pool);
        Assert.Equal(expectedBlockSize, pool.BlockSize);
    }

    [Fact]
    public void FindPool_LargerThanEveryPool_ReturnsNull_AndTryRentSaysNotFound()
    {
        using var manager = new PoolManager([Pool(64), Pool(4096)]);

        Assert.Null(manager.FindPool(ResourceType.Memory, 4097));
        Assert.Equal(ResourceStatus.NotFound, manager.TryRent(ResourceType.Memory, 4097, 1, out ResourceHandle handle));
        Assert.True(handle.IsNull);
    }

    [Fact]
    public void FindPool_KeepsTypesApart()
    {
        using var manager = new PoolManager([Pool(64, ResourceType.Memory), Pool(128, ResourceType.Hardware)]);

        Assert.Equal(64, manager.FindPool(ResourceType.Memory, 32)!.BlockSize);
        Assert.Equal(128, manager.FindPool(ResourceType.Hardware, 32)!.BlockSize);
        Assert.Null(manager.FindPool(ResourceType.Hardware, 200));
        Assert.Null(manager.FindPool(ResourceType.Custom, 8));
    }

    [Fact]
    public void FindPool_SkipsPoolsWithTooSmallAnAlignment()
    {
        using var manager = new PoolManager([Pool(64, alignment: 16), Pool(128, alignment: 128), Pool(512, alignment: 32)]);

        Assert.Equal(64, manager.FindPool(ResourceType.Memory, 32, alignment: 16)!.BlockSize);
        Assert.Equal(128, manager.FindPool(ResourceType.Memory, 32, alignment: 64)!.BlockSize);
        Assert.Equal(128, manager.FindPool(ResourceType.Memory, 32, alignment: 128)!.BlockSize);
        Assert.Null(manager.FindPool(ResourceType.Memory, 32, alignment: 256));
        Assert.Null(manager.FindPool(ResourceType.Memory, 200, alignment: 64)); // only the 32-aligned pool is big enough
    }

    [Fact]
    public void FindPool_WithWideSizeClasses_MatchesALinearScan()
    {
        // A 1 MiB pool makes the route table use size classes wider than 8 bytes; compare with brute force.
        int[] sizes = [24, 40, 200, 1000, 1030, 5000, 70_000, 262_144, 1_048_576];
        using var manager = new PoolManager(sizes.Select(s => Pool(s, alignment: 8, maxCount: 1)));
        var random = new Random(7);

        for (int i = 0; i < 20_000; i++)
        {
            int size = random.Next(1, 1_100_000);
            SlabPool? expected = manager.Pools.Where(p => p.BlockSize >= size).OrderBy(p => p.BlockSize).FirstOrDefault();

            Assert.Same(expected, manager.FindPool(ResourceType.Memory, size));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void FindPool_NonPositiveSize_Throws(int size)
    {
        using var manager = new PoolManager([Pool(64)]);

        Assert.Throws<ArgumentOutOfRangeException>(() => manager.FindPool(ResourceType.Memory, size));
        Assert.Throws<ArgumentOutOfRangeException>(() => manager.TryRent(ResourceType.Memory, size, 1, out _));
    }

    [Fact]
    public void FindPool_BadAlignmentOrType_Throws()
    {
        using var manager = new PoolManager([Pool(64)]);

        Assert.Throws<ArgumentException>(() => manager.FindPool(ResourceType.Memory, 8, alignment: 3));
        Assert.Throws<ArgumentException>(() => manager.FindPool(ResourceType.Memory, 8, alignment: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => manager.FindPool((ResourceType)42, 8));
    }

    [Fact]
    public void GetPoolStats_ByTypeAndBlockSize()
    {
        using var manager = new PoolManager([Pool(4096), Pool(64)]);
        manager.TryRent(ResourceType.Memory, 3000, 1, out _);

        PoolStats stats = manager.GetPoolStats(ResourceType.Memory, 4096);

        Assert.Equal(4096, stats.BlockSize);
        Assert.Equal(1, stats.UsedBlocks);
        Assert.Equal(0, manager.GetPoolStats(ResourceType.Memory, 64).UsedBlocks);
        Assert.Equal(ResourceStatus.NotFound, manager.TryGetPoolStats(ResourceType.Hardware, 4096, out _));
        Assert.Equal(ResourceStatus.NotFound, Assert.Throws<ResourceException>(() => manager.GetPoolStats(ResourceType.Memory, 100)).Status);
    }

    [Fact]
    public void GetPool_AcceptsTheConfiguredOrTheRoundedSize()
    {
        using var manager = new PoolManager([Pool(100)]); // rounds to 112

        Assert.Same(manager.GetPool(ResourceType.Memory, 100), manager.GetPool(ResourceType.Memory, 112));
        Assert.NotNull(manager.GetPool(ResourceType.Memory, 100));
    }

    [Fact]
    public void CreatePool_DuplicateKey_Throws()
    {
        using var manager = new PoolManager([Pool(64)]);

        Assert.Throws<ArgumentException>(() => manager.CreatePool(Pool(64)));
        Assert.Throws<ArgumentException>(() => manager.CreatePool(Pool(60))); // also 64 once rounded
        Assert.NotNull(manager.CreatePool(Pool(64, ResourceType.Hardware)));   // another type is another key
    }

    [Fact]
    public void TryRent_ReturnsToTheIssuingPool()
    {
        using var manager = new PoolManager([Pool(64), Pool(256)]);
        Assert.Equal(ResourceStatus.Ok, manager.TryRent(ResourceType.Memory, 100, 1, out ResourceHandle big));
        Assert.Equal(ResourceStatus.Ok, manager.TryRent(ResourceType.Memory, 10, 1, out ResourceHandle small));

        Assert.Equal(ResourceStatus.Ok, manager.TryGetSpan(big, out Span<byte> span));
        Assert.Equal(256, span.Length);
        Assert.Same(manager.GetPool(ResourceType.Memory, 256), manager.FindPoolOf(big));
        Assert.Equal(ResourceStatus.Ok, manager.Return(big));
        Assert.Equal(ResourceStatus.StaleHandle, manager.Return(big));
        Assert.Equal(ResourceStatus.InvalidHandle, manager.Return(default));
        Assert.Equal(1, manager.GetPoolStats(ResourceType.Memory, 64).UsedBlocks);
        Assert.Equal(0, manager.GetPoolStats(ResourceType.Memory, 256).UsedBlocks);
        Assert.Equal(ResourceStatus.Ok, manager.Return(small));
    }

    [Fact]
    public void Return_HandleFromAnotherManager_Throws()
    {
        using var manager = new PoolManager([Pool(64)]);
        using var other = new PoolManager([Pool(64)]);
        other.TryRent(ResourceType.Memory, 8, 1, out ResourceHandle foreign);

        Assert.Null(manager.FindPoolOf(foreign));
        Assert.Throws<ArgumentException>(() => manager.Return(foreign));
        Assert.Throws<ArgumentException>(() => manager.TryGetSpan(foreign, out _));
    }

    [Fact]
    public void TryRent_FullPool_ReturnsPoolExhausted_WithoutSpillingToALargerPool()
    {
        using var manager = new PoolManager([Pool(64, maxCount: 2), Pool(128, maxCount: 2)]);
        manager.TryRent(ResourceType.Memory, 64, 1, out _);
        manager.TryRent(ResourceType.Memory, 64, 1, out _);

        ResourceStatus status = manager.TryRent(ResourceType.Memory, 64, 1, out _);

        Assert.Equal(ResourceStatus.PoolExhausted, status);
        Assert.Equal(0, manager.GetPoolStats(ResourceType.Memory, 128).UsedBlocks);
    }

    [Fact]
    public void Dispose_DisposesEveryPool_AndReturnsEveryNativeByte()
    {
        var allocator = new TrackingAllocator();
        var manager = new PoolManager([Pool(64) with { InitialCount = 8 }, Pool(4096, ResourceType.Hardware) with { InitialCount = 2 }], allocator);
        manager.TryRent(ResourceType.Hardware, 4000, 1, out _);
        Assert.True(allocator.LiveBytes > 0);

        manager.Dispose();
        manager.Dispose();

        Assert.Equal(0, allocator.LiveBytes);
        Assert.All(manager.Pools, p => Assert.True(p.IsDisposed));
        Assert.Throws<ObjectDisposedException>(() => manager.CreatePool(Pool(32)));
    }

    [Fact]
    public void Constructor_AllocationFailsPartWay_DisposesWhatWasCreated()
    {
        var allocator = new TrackingAllocator();
        allocator.FailAfter(1);

        Assert.Throws<OutOfMemoryException>(() => new PoolManager(
            [Pool(64) with { InitialCount = 4 }, Pool(128) with { InitialCount = 4 }], allocator));

        Assert.Equal(0, allocator.LiveBytes);
    }

    [Fact]
    public async Task CreatePool_WhileOtherThreadsRoute_NeverDisturbsThem()
    {
        // Routing reads an immutable snapshot, so pools created meanwhile must not break rents of existing sizes.
        using var manager = new PoolManager([Pool(64, maxCount: 1024) with { ThreadSafe = true }]);
        int failures = 0;
        long operations = 0;
        using var stop = new CancellationTokenSource();
        var routers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (manager.TryRent(ResourceType.Memory, 40, 8, out ResourceHandle handle) != ResourceStatus.Ok ||
                    manager.Return(handle) != ResourceStatus.Ok)
                {
                    Interlocked.Increment(ref failures);
                }

                Interlocked.Increment(ref operations);
            }
        })).ToArray();

        SpinWait.SpinUntil(() => Interlocked.Read(ref operations) > 1_000, TimeSpan.FromSeconds(10));
        for (int size = 128; size <= 128 * 64; size += 128)
        {
            manager.CreatePool(Pool(size, maxCount: 4) with { ThreadSafe = true });
        }

        long afterCreation = Interlocked.Read(ref operations);
        SpinWait.SpinUntil(() => Interlocked.Read(ref operations) > afterCreation + 1_000, TimeSpan.FromSeconds(10));
        stop.Cancel();
        await Task.WhenAll(routers);
        Assert.Equal(0, failures);
        Assert.True(Interlocked.Read(ref operations) > 2_000, "The routers did not run alongside pool creation.");
        Assert.Equal(65, manager.Pools.Count);
        Assert.Equal(1280, manager.FindPool(ResourceType.Memory, 1200)!.BlockSize);
        Assert.Equal(64, manager.FindPool(ResourceType.Memory, 40)!.BlockSize);
    }

    [Fact]
    public void SteadyState_RoutedRentReturn_AllocatesNothingOnTheGcHeap()
    {
        using var manager = new PoolManager([Pool(64, maxCount: 64), Pool(4096, maxCount: 64)]);

        long bytes = Allocations.Measure(() =>
        {
            manager.TryRent(ResourceType.Memory, 48, 8, out ResourceHandle a);
            manager.TryRent(ResourceType.Memory, 3000, 8, out ResourceHandle b);
            manager.Return(a);
            manager.Return(b);
        });

        Assert.Equal(0, bytes);
    }

    [Fact]
    public void Rent_AndGetSpan_AreTheThrowingTwins_OfTryRentAndTryGetSpan()
    {
        using var pools = new PoolManager([Pool(64, maxCount: 1)]);

        ResourceHandle block = pools.Rent(ResourceType.Memory, 10, 1);
        Assert.Equal(64, pools.GetSpan(block).Length);
        Assert.Equal(ResourceStatus.PoolExhausted, Assert.Throws<ResourceException>(() => pools.Rent(ResourceType.Memory, 10, 1)).Status);
        Assert.Equal(ResourceStatus.NotFound, Assert.Throws<ResourceException>(() => pools.Rent(ResourceType.Memory, 65, 1)).Status);

        Assert.Equal(ResourceStatus.Ok, pools.Return(block));
        Assert.Equal(ResourceStatus.StaleHandle, Assert.Throws<ResourceException>(() => pools.GetSpan(block)).Status);
        Assert.Equal(0, pools.GetPoolStats(ResourceType.Memory, 64).UsedBlocks);
    }
}
