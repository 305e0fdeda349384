using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Memory;

public class SlabPoolTests
{
    public static TheoryData<bool> Modes => new() { false, true };

    private static PoolConfig Config(int blockSize = 64, int maxCount = 16, int initial = 0, bool threadSafe = false,
        int blocksPerSlab = 0, int alignment = 16, int threadCache = -1) => new()
    {
        BlockSize = blockSize,
        MaxCount = maxCount,
        InitialCount = initial,
        ThreadSafe = threadSafe,
        BlocksPerSlab = blocksPerSlab,
        Alignment = alignment,
        ThreadCacheSize = threadCache,
    };

    [Theory]
    [MemberData(nameof(Modes))]
    public void Rent_ThenGetSpan_GivesAWholeWritableBlock(bool threadSafe)
    {
        // Arrange
        using var pool = new SlabPool(Config(blockSize: 100, threadSafe: threadSafe));

        // Act
        ResourceStatus status = pool.TryRent(out ResourceHandle handle);
        Span<byte> span = pool.GetSpan(handle);
        span.Fill(0x5A);

        // Assert
        Assert.Equal(ResourceStatus.Ok, status);
        Assert.Equal(112, pool.BlockSize); // 100 rounded up to the 16-byte alignment
        Assert.Equal(112, span.Length);
        Assert.True(pool.Contains(handle));
        Assert.Equal(ResourceStatus.Ok, pool.Return(handle));
        Assert.False(pool.Contains(handle));
    }

    [Theory]
    [InlineData(8, 8, false)]
    [InlineData(24, 8, false)]
    [InlineData(64, 64, false)]
    [InlineData(100, 32, true)]
    [InlineData(4096, 4096, false)]
    [InlineData(3000, 1024, true)]
    [InlineData(1, 1, true)]
    public void EveryBlock_IsAlignedAndDisjoint(int blockSize, int alignment, bool threadSafe)
    {
        // Arrange
        using var pool = new SlabPool(Config(blockSize, maxCount: 40, threadSafe: threadSafe, blocksPerSlab: 16, alignment: alignment));
        var blocks = new List<(nint Address, ResourceHandle Handle)>();

        // Act: rent everything (three slabs), writing a distinct byte pattern into each block.
        for (int i = 0; i < 40; i++)
        {
            ResourceHandle handle = pool.Rent();
            Assert.Equal(ResourceStatus.Ok, pool.TryResolve(handle, out nint address));
            pool.GetSpan(handle).Fill((byte)i);
            blocks.Add((address, handle));
        }

        // Assert
        int effectiveAlignment = Math.Max(alignment, PoolConfig.MinAlignment);
        Assert.All(blocks, b => Assert.Equal(0, b.Address % effectiveAlignment));
        var sorted = blocks.OrderBy(b => b.Address).ToList();
        for (int i = 1; i < sorted.Count; i++)
        {
            Assert.True(sorted[i].Address - sorted[i - 1].Address >= pool.BlockSize, "Blocks overlap.");
        }

        for (int i = 0; i < blocks.Count; i++)
        {
            Assert.All(pool.GetSpan(blocks[i].Handle).ToArray(), b => Assert.Equal((byte)i, b));
        }
    }

    [Fact]
    public void BlockSize_IsAtLeastTheFreeListLink()
    {
        using var pool = new SlabPool(Config(blockSize: 1, alignment: 1));

        Assert.Equal(PoolConfig.MinBlockSize, pool.BlockSize);
        Assert.Equal(PoolConfig.MinAlignment, pool.Alignment);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Return_SameHandleTwice_ReturnsStaleHandle(bool threadSafe)
    {
        using var pool = new SlabPool(Config(threadSafe: threadSafe));
        ResourceHandle handle = pool.Rent();
        pool.Return(handle);

        ResourceStatus status = pool.Return(handle);

        Assert.Equal(ResourceStatus.StaleHandle, status);
        Assert.Equal(0, pool.GetStats().UsedBlocks);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void StaleReturn_AfterTheBlockWasRentedAgain_DoesNotFreeTheNewRenter(bool threadSafe)
    {
        // Arrange: MaxCount 1 forces the same block to be reused.
        using var pool = new SlabPool(Config(maxCount: 1, threadSafe: threadSafe));
        ResourceHandle old = pool.Rent();
        pool.Return(old);
        ResourceHandle current = pool.Rent();
        pool.GetSpan(current).Fill(7);

        // Act
        ResourceStatus status = pool.Return(old);

        // Assert
        Assert.Equal(old.Index, current.Index);
        Assert.Equal(ResourceStatus.StaleHandle, status);
        Assert.Equal(ResourceStatus.StaleHandle, pool.TryGetSpan(old, out Span<byte> span));
        Assert.True(span.IsEmpty);
        Assert.True(pool.Contains(current));
        Assert.Equal(7, pool.GetSpan(current)[0]);
        Assert.Equal(ResourceStatus.PoolExhausted, pool.TryRent(out _)); // still rented by `current`
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Rent_BeyondMaxCount_ReturnsPoolExhausted(bool threadSafe)
    {
        using var pool = new SlabPool(Config(maxCount: 4, threadSafe: threadSafe));
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(ResourceStatus.Ok, pool.TryRent(out _));
        }

        ResourceStatus status = pool.TryRent(out ResourceHandle handle);

        Assert.Equal(ResourceStatus.PoolExhausted, status);
        Assert.True(handle.IsNull);
        Assert.Equal(ResourceStatus.PoolExhausted, Assert.Throws<ResourceException>(() => pool.Rent()).Status);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Pool_GrowsSlabBySlab_ToMaxCountAndNoFurther(bool threadSafe)
    {
        // Arrange: 4 blocks per slab, 4 up front, 10 at most (the third slab is partial).
        var allocator = new TrackingAllocator();
        using var pool = new SlabPool(Config(maxCount: 10, initial: 4, blocksPerSlab: 4, threadSafe: threadSafe, threadCache: 0), allocator);
        Assert.Equal(4, pool.GetStats().TotalBlocks);
        Assert.Equal(2, allocator.LiveAllocations); // the generation array and the first slab

        // Act
        var handles = new List<ResourceHandle>();
        for (int i = 0; i < 5; i++)
        {
            handles.Add(pool.Rent());
        }

        PoolStats afterFive = pool.GetStats();
        for (int i = 5; i < 10; i++)
        {
            handles.Add(pool.Rent());
        }

        PoolStats full = pool.GetStats();
        ResourceStatus beyond = pool.TryRent(out _);

        // Assert
        Assert.Equal(8, afterFive.TotalBlocks);
        Assert.Equal(2, afterFive.SlabCount);
        Assert.Equal(10, full.TotalBlocks);
        Assert.Equal(3, full.SlabCount);
        Assert.Equal(10, full.UsedBlocks);
        Assert.Equal(0, full.FreeBlocks);
        Assert.Equal(4, allocator.LiveAllocations); // the generation array and three slabs
        Assert.Equal(ResourceStatus.PoolExhausted, beyond);
        Assert.Equal(10, handles.Select(h => h.Index).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Rent_WhenSlabAllocationFails_ReturnsOutOfMemory_AndRecovers(bool threadSafe)
    {
        // Arrange: the first slab succeeds, the second fails.
        var allocator = new TrackingAllocator();
        using var pool = new SlabPool(Config(maxCount: 8, initial: 2, blocksPerSlab: 2, threadSafe: threadSafe, threadCache: 0), allocator);
        allocator.FailAfter(0);
        ResourceHandle a = pool.Rent();
        ResourceHandle b = pool.Rent();
        PoolStats before = pool.GetStats();

        // Act
        ResourceStatus failed = pool.TryRent(out ResourceHandle none);
        PoolStats afterFailure = pool.GetStats();
        allocator.Heal();
        ResourceStatus recovered = pool.TryRent(out ResourceHandle c);

        // Assert
        Assert.Equal(ResourceStatus.OutOfMemory, failed);
        Assert.True(none.IsNull);
        Assert.Equal(before, afterFailure);
        Assert.Equal(ResourceStatus.Ok, recovered);
        Assert.Equal(3, pool.GetStats().UsedBlocks);
        Assert.True(pool.Contains(a) && pool.Contains(b) && pool.Contains(c));
    }

    [Fact]
    public void Constructor_InitialSlabFails_ThrowsAndLeaksNothing()
    {
        // Arrange: 8 initial blocks in slabs of 2: the third slab fails.
        var allocator = new TrackingAllocator();
        allocator.FailAfter(2);
        int tagsBefore = HandleTagAllocator.LiveCount;

        // Act
        Assert.Throws<OutOfMemoryException>(() => new SlabPool(Config(maxCount: 8, initial: 8, blocksPerSlab: 2), allocator));

        // Assert
        Assert.Equal(0, allocator.LiveBytes);
        Assert.Equal(0, allocator.LiveAllocations);
        Assert.True(HandleTagAllocator.LiveCount <= tagsBefore + 2); // other tests may hold tags concurrently; ours was returned
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Dispose_ReturnsEveryNativeByte_AndIsIdempotent(bool threadSafe)
    {
        // Arrange
        var allocator = new TrackingAllocator();
        var pool = new SlabPool(Config(blockSize: 4096, maxCount: 64, initial: 8, blocksPerSlab: 8, threadSafe: threadSafe), allocator);
        for (int i = 0; i < 30; i++)
        {
            pool.Rent();
        }

        Assert.Equal(allocator.LiveBytes, pool.GetStats().NativeBytes);

        // Act
        pool.Dispose();
        pool.Dispose();

        // Assert
        Assert.Equal(0, allocator.LiveBytes);
        Assert.Empty(allocator.LiveBlocks);
        Assert.True(pool.IsDisposed);
    }

    [Fact]
    public void Finalizer_OfAnAbandonedPool_ReturnsItsNativeMemory()
    {
        // Arrange: a pool that is never disposed, and constructors that throw (their objects are finalized too).
        var allocator = new TrackingAllocator();
        Abandon(allocator);
        for (int i = 0; i < 10; i++)
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => new SlabPool(Config(maxCount: 0), allocator));
        }

        // Act: if a finalizer threw, the test process would crash here.
        GC.Collect();
        GC.WaitForPendingFinalizers();

        // Assert
        Assert.Equal(0, allocator.LiveBytes);

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        static void Abandon(NativeAllocator allocator)
        {
            var pool = new SlabPool(Config(maxCount: 64, initial: 64), allocator);
            pool.Rent();
            Assert.True(allocator.LiveBytes > 0);
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void UseAfterDispose_ThrowsObjectDisposed(bool threadSafe)
    {
        var pool = new SlabPool(Config(threadSafe: threadSafe));
        ResourceHandle handle = pool.Rent();
        pool.Dispose();

        Assert.Throws<ObjectDisposedException>(() => pool.TryRent(out _));
        Assert.Throws<ObjectDisposedException>(() => pool.Return(handle));
        Assert.Throws<ObjectDisposedException>(() => pool.TryGetSpan(handle, out _));
        Assert.Throws<ObjectDisposedException>(() => pool.GetStats());
        Assert.False(pool.Contains(handle));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void NullHandle_GivesInvalidHandle(bool threadSafe)
    {
        using var pool = new SlabPool(Config(threadSafe: threadSafe));

        Assert.Equal(ResourceStatus.InvalidHandle, pool.Return(default));
        Assert.Equal(ResourceStatus.InvalidHandle, pool.TryGetSpan(default, out _));
        Assert.Equal(ResourceStatus.InvalidHandle, pool.TryResolve(default, out nint address));
        Assert.Equal(0, address);
        Assert.False(pool.Contains(default));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void ForeignHandle_IsRejected_AndTouchesNothing(bool threadSafe)
    {
        // Arrange: same index and generation, different pool.
        using var pool = new SlabPool(Config(threadSafe: threadSafe));
        using var other = new SlabPool(Config(threadSafe: threadSafe));
        using var table = new HandleTable<int>(4);
        ResourceHandle mine = pool.Rent();
        ResourceHandle foreign = other.Rent();
        var fromTable = (ResourceHandle)table.Allocate();

        // Act + Assert
        Assert.Throws<ArgumentException>(() => pool.Return(foreign));
        Assert.Throws<ArgumentException>(() => pool.Return(fromTable));
        Assert.Throws<ArgumentException>(() => pool.TryGetSpan(foreign, out _));
        Assert.False(pool.Contains(foreign));
        Assert.True(pool.Contains(mine));
        Assert.Equal(1, pool.GetStats().UsedBlocks);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void ForgedHandles_AreStaleNeverMisread(bool threadSafe)
    {
        using var pool = new SlabPool(Config(maxCount: 8, blocksPerSlab: 8, threadSafe: threadSafe));
        ResourceHandle real = pool.Rent();
        ulong tagBits = real.RawValue & 0x3FF;

        ulong generation = real.Generation; // forged within this pool's generation range (lower ones are a disposed pool's)
        ResourceHandle evenGeneration = ResourceHandle.FromRawValue(((generation + 1) << 32) | ((ulong)real.Index << 10) | tagBits);
        ResourceHandle neverRented = ResourceHandle.FromRawValue((generation << 32) | (5UL << 10) | tagBits);
        ResourceHandle beyondPool = ResourceHandle.FromRawValue((generation << 32) | (1000UL << 10) | tagBits);

        Assert.Equal(ResourceStatus.StaleHandle, pool.Return(evenGeneration));
        Assert.Equal(ResourceStatus.StaleHandle, pool.Return(neverRented));
        Assert.Equal(ResourceStatus.StaleHandle, pool.Return(beyondPool));
        Assert.Equal(ResourceStatus.StaleHandle, pool.TryGetSpan(beyondPool, out _));
        Assert.True(pool.Contains(real));
        Assert.Equal(1, pool.GetStats().UsedBlocks);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Return_AtGenerationWrapPoint_RetiresTheBlock(bool threadSafe)
    {
        // Arrange: one block, driven to the last odd generation.
        using var pool = new SlabPool(Config(maxCount: 1, threadSafe: threadSafe));
        ResourceHandle atWrap = pool.SetGenerationForTesting(pool.Rent(), uint.MaxValue);

        // Act
        ResourceStatus returned = pool.Return(atWrap);
        ResourceStatus rentAfter = pool.TryRent(out _);
        PoolStats stats = pool.GetStats();

        // Assert
        Assert.Equal(ResourceStatus.Ok, returned);
        Assert.Equal(ResourceStatus.PoolExhausted, rentAfter); // the only block is retired, not reissued at generation 1
        Assert.Equal(1, stats.RetiredBlocks);
        Assert.Equal(0, stats.UsedBlocks);
        Assert.Equal(0, stats.FreeBlocks);
        Assert.Equal(ResourceStatus.StaleHandle, pool.Return(atWrap));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void GetStats_TracksUsedFreePeakAndBytes(bool threadSafe)
    {
        using var pool = new SlabPool(Config(blockSize: 256, maxCount: 32, initial: 8, blocksPerSlab: 8, threadSafe: threadSafe, threadCache: 0));
        var handles = Enumerable.Range(0, 6).Select(_ => pool.Rent()).ToList();
        pool.Return(handles[0]);
        pool.Return(handles[1]);

        PoolStats stats = pool.GetStats();

        Assert.Equal(ResourceType.Memory, stats.Type);
        Assert.Equal(256, stats.BlockSize);
        Assert.Equal(8, stats.TotalBlocks);
        Assert.Equal(4, stats.UsedBlocks);
        Assert.Equal(4, stats.FreeBlocks);
        Assert.Equal(6, stats.PeakUsedBlocks);
        Assert.Equal(32, stats.CapacityBlocks);
        Assert.Equal(4 * 256, stats.UsedBytes);
        Assert.Equal(4 * 256, stats.FreeBytes);
        Assert.Equal(32 * 256, stats.CapacityBytes);
        Assert.Equal(0.5, stats.Efficiency);
        Assert.Equal(4, PoolStats.BookkeepingBytesPerBlock);
        Assert.Equal((32 * 4) + (8 * 256), stats.NativeBytes); // a generation per possible block, one slab of blocks
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void TryRent_ByteCountOutOfRange_Throws(bool threadSafe)
    {
        using var pool = new SlabPool(Config(blockSize: 64, threadSafe: threadSafe));

        Assert.Throws<ArgumentOutOfRangeException>(() => pool.TryRent(0, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.TryRent(-5, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.TryRent(65, out _));
        Assert.Equal(ResourceStatus.Ok, pool.TryRent(64, out _));
        Assert.Equal(1, pool.GetStats().UsedBlocks);
    }

    [Fact]
    public void Constructor_BadConfig_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => new SlabPool(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlabPool(Config(blockSize: 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlabPool(Config(blockSize: PoolConfig.MaxBlockSize + 1)));
        Assert.Throws<ArgumentException>(() => new SlabPool(Config(alignment: 3)));
        Assert.Throws<ArgumentException>(() => new SlabPool(Config(alignment: 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlabPool(Config(alignment: PoolConfig.MaxAlignment * 2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlabPool(Config(maxCount: 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlabPool(Config(maxCount: 4, initial: 5)));
        Assert.Throws<ArgumentException>(() => new SlabPool(Config(blocksPerSlab: 3)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlabPool(Config(threadCache: PoolConfig.MaxThreadCacheSize + 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlabPool(Config() with { Type = (ResourceType)99 }));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void SteadyState_RentReturn_AllocatesNothingOnTheGcHeap(bool threadSafe)
    {
        using var pool = new SlabPool(Config(blockSize: 64, maxCount: 1024, initial: 64, threadSafe: threadSafe));

        long bytes = Allocations.Measure(() =>
        {
            ResourceHandle a = pool.Rent();
            ResourceHandle b = pool.Rent();
            pool.GetSpan(a)[0] = 1;
            pool.Return(a);
            pool.Return(b);
        });

        Assert.Equal(0, bytes);
    }

    [Fact]
    public void ThreadSafe_ConcurrentRentReturn_NeverHandsOutABlockTwice()
    {
        // Each thread stamps its blocks with its id and a counter and checks the stamp is intact before returning:
        // a block rented to two threads at once would be overwritten.
        using var pool = new SlabPool(Config(blockSize: 64, maxCount: 256, threadSafe: true));
        const int Threads = 4;
        const int Rounds = 20_000;
        int failures = 0;

        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, threadId =>
        {
            var held = new Queue<(ResourceHandle Handle, long Stamp)>();
            var random = new Random(threadId);
            for (int round = 0; round < Rounds; round++)
            {
                if (held.Count < 8 && (held.Count == 0 || random.Next(2) == 0)
                    && pool.TryRent(out ResourceHandle handle) == ResourceStatus.Ok)
                {
                    long stamp = ((long)threadId << 32) | (uint)round;
                    BitConverter.TryWriteBytes(pool.GetSpan(handle), stamp);
                    held.Enqueue((handle, stamp));
                }
                else if (held.Count > 0)
                {
                    (ResourceHandle returning, long expected) = held.Dequeue();
                    if (BitConverter.ToInt64(pool.GetSpan(returning)) != expected || pool.Return(returning) != ResourceStatus.Ok)
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
            }

            while (held.Count > 0)
            {
                pool.Return(held.Dequeue().Handle);
            }
        });

        PoolStats stats = pool.GetStats();
        Assert.Equal(0, failures);
        Assert.Equal(0, stats.UsedBlocks);
        Assert.Equal(stats.TotalBlocks, stats.FreeBlocks);
    }

    [Fact]
    public void ThreadSafe_RacingDoubleReturns_ExactlyOneSucceeds()
    {
        using var pool = new SlabPool(Config(maxCount: 64, threadSafe: true));
        for (int trial = 0; trial < 200; trial++)
        {
            ResourceHandle handle = pool.Rent();
            int successes = 0;
            using var start = new Barrier(3);
            var threads = Enumerable.Range(0, 3).Select(_ => new Thread(() =>
            {
                start.SignalAndWait();
                if (pool.Return(handle) == ResourceStatus.Ok)
                {
                    Interlocked.Increment(ref successes);
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());

            Assert.Equal(1, successes);
        }

        Assert.Equal(0, pool.GetStats().UsedBlocks);
    }

    [Fact]
    public void ThreadSafe_BlocksCachedByAnExitedThread_AreReclaimed()
    {
        // Arrange: a thread rents every block and returns them all, so its cache keeps some; then it exits.
        using var pool = new SlabPool(Config(maxCount: 64, threadSafe: true, threadCache: 8));
        var worker = new Thread(() =>
        {
            var handles = Enumerable.Range(0, 64).Select(_ => pool.Rent()).ToList();
            handles.ForEach(h => pool.Return(h));
        });
        worker.Start();
        worker.Join();
        Assert.True(pool.GetStats().CachedBlocks > 0);

        // Act: this thread needs all 64.
        var mine = new List<ResourceHandle>();
        for (int i = 0; i < 64; i++)
        {
            Assert.Equal(ResourceStatus.Ok, pool.TryRent(out ResourceHandle handle));
            mine.Add(handle);
        }

        // Assert
        Assert.Equal(64, mine.Select(h => h.Index).Distinct().Count());
        Assert.Equal(ResourceStatus.PoolExhausted, pool.TryRent(out _));
    }

    [Fact]
    public void ThreadSafe_CacheSizeZero_GivesAStrictCapacity()
    {
        using var pool = new SlabPool(Config(maxCount: 2, threadSafe: true, threadCache: 0));
        ResourceHandle a = pool.Rent();
        ResourceHandle b = pool.Rent();
        var other = new Thread(() =>
        {
            pool.Return(a);
            pool.Return(b);
        });
        other.Start();
        other.Join();

        Assert.Equal(ResourceStatus.Ok, pool.TryRent(out _));
        Assert.Equal(ResourceStatus.Ok, pool.TryRent(out _));
        Assert.Equal(0, pool.GetStats().CachedBlocks);
    }
}
