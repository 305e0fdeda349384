namespace Flight.Hal.Resources.Tests.Memory;

/// <summary>Defragmentation through handles: allocations slide toward the region's start, their bytes and handles intact;
/// pinned ones and ones an alignment would break stay; the free space gathers; budgets per call are honoured.</summary>
public unsafe class ArenaDefragmentTests
{
    private static Arena Create(long size = 64 * 1024) => new(new ArenaConfig { Size = size, MinAlignment = 16, Granularity = 16, MaxAllocations = 4096 });

    private static void Stamp(Arena arena, ResourceHandle handle, byte value)
    {
        arena.TryResolve(handle, out nint address, out long size);
        new Span<byte>((void*)address, (int)size).Fill(value);
    }

    private static bool Holds(Arena arena, ResourceHandle handle, byte value)
    {
        arena.TryResolve(handle, out nint address, out long size);
        return new ReadOnlySpan<byte>((void*)address, (int)size).IndexOfAnyExcept(value) < 0;
    }

    [Fact]
    public void AFragmentedRegion_IsCompacted_HandlesAndBytesIntact()
    {
        using Arena arena = Create();
        var handles = new List<ResourceHandle>();
        for (int i = 0; i < 32; i++)
        {
            handles.Add(arena.Allocate(1024));
            Stamp(arena, handles[i], (byte)i);
        }

        for (int i = 0; i < 32; i += 2)
        {
            arena.Free(handles[i]); // every other block: 16 holes of 1 KiB
        }

        ArenaStats fragmented = arena.GetStats();
        Assert.Equal(ResourceStatus.Fragmented, arena.TryAllocate(fragmented.LargestFreeBlock + 1024, 0, out _));

        DefragmentationStats stats = arena.Defragment(long.MaxValue);

        Assert.Equal(16, stats.Moves);
        Assert.Equal(16 * 1024, stats.BytesMoved);
        Assert.Equal(fragmented.LargestFreeBlock, stats.LargestFreeBlockBefore);
        ArenaStats compact = arena.GetStats();
        Assert.Equal(compact.FreeBytes, compact.LargestFreeBlock); // one free block
        Assert.Equal(compact.FreeBytes, stats.LargestFreeBlockAfter);
        Assert.Equal(1, compact.FreeBlockCount);
        Assert.Null(arena.Validate());
        for (int i = 1; i < 32; i += 2)
        {
            Assert.True(Holds(arena, handles[i], (byte)i), $"block {i} kept its bytes");
        }

        Assert.Equal(16 * 1024, arena.BytesMoved);
        Assert.Equal(ResourceStatus.Ok, arena.TryAllocate(compact.FreeBytes, 0, out _)); // the whole free space at once
    }

    [Fact]
    public void PinnedBlocks_NeverMove_AndABudgetBoundsEachCall()
    {
        using Arena arena = Create();
        var handles = Enumerable.Range(0, 8).Select(_ => arena.Allocate(2048)).ToList();
        for (int i = 0; i < 8; i++)
        {
            Stamp(arena, handles[i], (byte)(i + 1));
        }

        arena.Free(handles[0]);
        arena.Free(handles[2]);
        Assert.Equal(ResourceStatus.Ok, arena.Pin(handles[3]));
        Assert.True(arena.IsPinned(handles[3]));
        arena.TryResolve(handles[3], out nint pinnedAt, out _);

        DefragmentationStats first = arena.Defragment(2048); // one block's worth
        Assert.Equal((1, 2048L), (first.Moves, first.BytesMoved));
        DefragmentationStats rest = arena.Defragment(long.MaxValue);
        Assert.True(rest.Skipped >= 1, "the pinned block was skipped");

        arena.TryResolve(handles[3], out nint stillAt, out _);
        Assert.Equal(pinnedAt, stillAt);
        Assert.Null(arena.Validate());
        for (int i = 1; i < 8; i++)
        {
            if (i != 2)
            {
                Assert.True(Holds(arena, handles[i], (byte)(i + 1)));
            }
        }

        Assert.Equal(ResourceStatus.Ok, arena.Unpin(handles[3]));
        Assert.False(arena.IsPinned(handles[3]));
        Assert.Throws<InvalidOperationException>(() => arena.Unpin(handles[3]));
        arena.Defragment(long.MaxValue);
        Assert.Equal(1, arena.GetStats().FreeBlockCount); // unpinned, it moved too
        Assert.Equal(ResourceStatus.Ok, arena.Free(handles[3]));
        Assert.Equal(ResourceStatus.StaleHandle, arena.Pin(handles[3]));
        Assert.Equal(ResourceStatus.InvalidHandle, arena.Pin(default));
        Assert.Throws<ArgumentOutOfRangeException>(() => arena.Defragment(-1));
        Assert.Equal(0, arena.Defragment(0).Moves);
    }

    [Fact]
    public void Alignment_IsKept_WhenBlocksMove()
    {
        using Arena arena = Create();
        ResourceHandle small = arena.Allocate(16);
        ResourceHandle aligned = arena.Allocate(1000, alignment: 4096);
        Stamp(arena, aligned, 0xAB);
        arena.Free(small);

        arena.Defragment(long.MaxValue);

        arena.TryResolve(aligned, out nint address, out _);
        Assert.Equal(0, (long)address % 4096);
        Assert.True(Holds(arena, aligned, 0xAB));
        Assert.Null(arena.Validate());
    }

    [Fact]
    public void BlocksOfAnArenaAllocator_ArePinned()
    {
        using Arena arena = Create();
        var allocator = new ArenaAllocator(arena);
        ResourceHandle first = arena.Allocate(4096);
        void* slab = allocator.TryAllocate(8192, 16);
        Assert.True(slab != null);
        arena.Free(first); // a hole before the slab

        DefragmentationStats stats = arena.Defragment(long.MaxValue);

        Assert.Equal(0, stats.Moves);
        allocator.Free(slab, 8192, 16); // still at its address: the allocator finds it
        Assert.Null(arena.Validate());
    }

    /// <summary>Random allocations, frees, pins and incremental defragmentation, each block stamped with its own byte:
    /// after every call the arena is consistent, every live block holds its bytes at its (new) address and its alignment,
    /// pinned blocks have not moved, and the largest free block never shrinks.</summary>
    [Fact]
    public void RandomUse_WithIncrementalDefragmentation_KeepsEveryBlock()
    {
        using Arena arena = Create(256 * 1024);
        var random = new Random(17);
        var live = new List<(ResourceHandle Handle, byte Stamp, int Alignment, nint PinnedAt)>();
        for (int step = 0; step < 6000; step++)
        {
            int roll = random.Next(10);
            if (roll < 4 || live.Count == 0)
            {
                int alignment = random.Next(4) == 0 ? 256 : 16;
                if (arena.TryAllocate(random.Next(1, 3000), alignment, out ResourceHandle handle) == ResourceStatus.Ok)
                {
                    byte stamp = (byte)random.Next(256);
                    Stamp(arena, handle, stamp);
                    live.Add((handle, stamp, alignment, 0));
                }
            }
            else if (roll < 8)
            {
                int i = random.Next(live.Count);
                if (live[i].PinnedAt != 0)
                {
                    arena.Unpin(live[i].Handle);
                }

                arena.Free(live[i].Handle);
                live.RemoveAt(i);
            }
            else if (roll == 8)
            {
                int i = random.Next(live.Count);
                if (live[i].PinnedAt == 0)
                {
                    arena.Pin(live[i].Handle);
                    arena.TryResolve(live[i].Handle, out nint at, out _);
                    live[i] = live[i] with { PinnedAt = at };
                }
            }
            else
            {
                long before = arena.GetStats().LargestFreeBlock;
                DefragmentationStats stats = arena.Defragment(random.Next(0, 16 * 1024));
                Assert.True(stats.LargestFreeBlockAfter >= before, "defragmenting never shrinks the largest free block");
                Assert.Null(arena.Validate());
                foreach ((ResourceHandle handle, byte stamp, int alignment, nint pinnedAt) in live)
                {
                    Assert.True(Holds(arena, handle, stamp));
                    arena.TryResolve(handle, out nint address, out _);
                    Assert.Equal(0, (long)address % alignment);
                    Assert.True(pinnedAt == 0 || pinnedAt == address, "a pinned block moved");
                }
            }
        }

        Assert.True(arena.Moves > 100, $"the run moved blocks ({arena.Moves})");
    }
}
