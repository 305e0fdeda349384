namespace Flight.Hal.Resources;

/// <summary>A snapshot of one <see cref="SlabPool"/>'s blocks and bytes.</summary>
/// <remarks>
/// <para>Counts are exact for an unsynchronised pool. For a thread-safe pool, <see cref="UsedBlocks"/> is exact
/// whenever no thread is renting or returning; <see cref="PeakUsedBlocks"/> then counts blocks taken out of the
/// shared free list, including those idle in per-thread caches, so it can exceed the true peak by at most
/// <c>ThreadCacheSize</c> per thread.</para>
/// </remarks>
/// <param name="Type">The resource type the pool serves.</param>
/// <param name="BlockSize">Bytes per block.</param>
/// <param name="Alignment">Alignment of every block.</param>
/// <param name="TotalBlocks">Blocks allocated so far (in whole slabs).</param>
/// <param name="UsedBlocks">Blocks rented and not returned.</param>
/// <param name="FreeBlocks">Allocated blocks available to rent (including those in per-thread caches).</param>
/// <param name="CachedBlocks">Free blocks sitting in per-thread caches (thread-safe pools only).</param>
/// <param name="PeakUsedBlocks">The most blocks in use at once since creation.</param>
/// <param name="RetiredBlocks">Blocks whose generation reached the wrap point; never rented again.</param>
/// <param name="CapacityBlocks">The most blocks the pool may hold (<see cref="PoolConfig.MaxCount"/>).</param>
/// <param name="SlabCount">Native slabs allocated.</param>
/// <param name="NativeBytes">Native bytes held: blocks plus the 4-byte generation of each block.</param>
public readonly record struct PoolStats(
    ResourceType Type,
    int BlockSize,
    int Alignment,
    int TotalBlocks,
    int UsedBlocks,
    int FreeBlocks,
    int CachedBlocks,
    int PeakUsedBlocks,
    int RetiredBlocks,
    int CapacityBlocks,
    int SlabCount,
    long NativeBytes)
{
    /// <summary>Bytes in blocks that are rented.</summary>
    public long UsedBytes => (long)UsedBlocks * BlockSize;

    /// <summary>Bytes in allocated blocks that are free.</summary>
    public long FreeBytes => (long)FreeBlocks * BlockSize;

    /// <summary>Bytes the pool could hold at <see cref="CapacityBlocks"/>.</summary>
    public long CapacityBytes => (long)CapacityBlocks * BlockSize;

    /// <summary>Fraction of allocated blocks in use, 0 to 1 (0 when nothing is allocated).</summary>
    public double Efficiency => TotalBlocks == 0 ? 0 : (double)UsedBlocks / TotalBlocks;

    /// <summary>Bookkeeping bytes per block outside the block itself: the 4-byte generation that detects stale
    /// handles. The free list costs nothing: it is threaded through the free blocks.</summary>
    public static int BookkeepingBytesPerBlock => sizeof(uint);
}
