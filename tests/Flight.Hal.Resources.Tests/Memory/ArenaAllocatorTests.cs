namespace Flight.Hal.Resources.Tests.Memory;

public class ArenaAllocatorTests
{
    [Fact]
    public void PoolSlabs_ComeFromTheRegion_UntilItIsFull()
    {
        // Arrange: a 64 KiB region; a pool of 4 KiB blocks, 4 per slab (16 KiB slabs), up to 32 blocks.
        using var region = new Arena(new ArenaConfig { Size = 64 * 1024, MinAlignment = 32, Granularity = 32 });
        var allocator = new ArenaAllocator(region);
        var pool = new SlabPool(new PoolConfig { BlockSize = 4096, BlocksPerSlab = 4, MaxCount = 32 }, allocator);

        // Act: rent until the region, not the pool, runs out.
        int rented = 0;
        ResourceStatus status;
        while ((status = pool.TryRent(out _)) == ResourceStatus.Ok)
        {
            rented++;
        }

        // Assert: the generation array (128 B) and three 16 KiB slabs fit in 64 KiB; a fourth slab does not.
        Assert.Equal(ResourceStatus.OutOfMemory, status);
        Assert.Equal(12, rented);
        ArenaStats stats = region.GetStats();
        Assert.Equal(4, stats.AllocationCount);
        Assert.Equal(128 + (3 * 16 * 1024), allocator.LiveBytes);
        Assert.Null(region.Validate());

        // Disposing the pool gives the region back.
        pool.Dispose();
        Assert.Equal(0, region.GetStats().UsedBytes);
        Assert.Equal(0, allocator.LiveBytes);
    }

    [Fact]
    public void PoolAndTable_ReleasedAfterTheirArena_DoNotReadItsFreedMemory_AndRetireTheirTags()
    {
        // Arrange: finalizers run in any order, so an abandoned console manager's pools and tables may be released after
        // the arena their memory was carved from. 32 MiB: the region is unmapped when freed, so a read would fault.
        var region = new Arena(new ArenaConfig { Size = 32 << 20 });
        var allocator = new ArenaAllocator(region);
        var pool = new SlabPool(new PoolConfig { BlockSize = 64, InitialCount = 1024, MaxCount = 1 << 20 }, allocator);
        var table = new HandleTable<long>(1 << 18, allocator);
        for (int i = 0; i < 100; i++)
        {
            pool.Return(pool.Rent());
            table.Free(table.Allocate(i));
        }

        int retiredBefore = HandleTagAllocator.RetiredCount;

        // Act: the region goes first, as when its finalizer runs first.
        region.Dispose();
        pool.Dispose();
        table.Dispose();

        // Assert: nothing read the freed region (no fault), and the two tags, whose floors could not be read, retired.
        Assert.True(pool.IsDisposed);
        Assert.True(table.IsDisposed);
        Assert.True(HandleTagAllocator.RetiredCount >= retiredBefore + 2);
    }

    [Fact]
    public void PoolReleasedAfterItsArenasHandleTable_DoesNotThrow()
    {
        // Arrange: the other finalization order of an abandoned console manager — the arena's own handle table is
        // finalized before the arena and before a pool carved from it. Finalizing the table is simulated by disposing it
        // (its finalizer runs the same Release); it is private, so it is reached by name.
        var region = new Arena(new ArenaConfig { Size = 1 << 20 });
        var allocator = new ArenaAllocator(region);
        var pool = new SlabPool(new PoolConfig { BlockSize = 64, InitialCount = 64, MaxCount = 1024 }, allocator);
        pool.Return(pool.Rent());
        var handles = (IDisposable?)typeof(Arena).GetField("_handles", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)?.GetValue(region);
        Assert.NotNull(handles);

        // Act: before the fix the pool's release threw ObjectDisposedException through the allocator, which on the
        // finalizer thread ends the process.
        handles.Dispose();
        Exception? thrown = Record.Exception(pool.Dispose);

        // Assert
        Assert.Null(thrown);
        Assert.True(pool.IsDisposed);
        region.Dispose();
    }

    [Fact]
    public unsafe void Allocate_HonoursAlignment_AndFreeReturnsTheBytes()
    {
        using var region = new Arena(new ArenaConfig { Size = 256 * 1024 });
        var allocator = new ArenaAllocator(region);

        void* a = allocator.TryAllocate(1000, 4096);
        void* b = allocator.TryAllocate(100, 8);

        Assert.True(a != null && b != null);
        Assert.Equal(0, (nint)a % 4096);
        allocator.Free(a, 1000, 4096);
        allocator.Free(b, 100, 8);
        Assert.Equal(0, region.GetStats().UsedBytes);
        Assert.True(allocator.TryAllocate(1, (nuint)ArenaConfig.MaxAlignment * 2) == null);
    }

    [Fact]
    public unsafe void Free_OfAForeignPointer_Throws()
    {
        using var region = new Arena(new ArenaConfig { Size = 64 * 1024 });
        var allocator = new ArenaAllocator(region);
        void* foreign = NativeAllocator.Default.TryAllocate(64, 8);
        try
        {
            Assert.Throws<InvalidOperationException>(() => allocator.Free(foreign, 64, 8));
        }
        finally
        {
            NativeAllocator.Default.Free(foreign, 64, 8);
        }

        Assert.Throws<ArgumentNullException>(() => new ArenaAllocator(null!));
    }
}
