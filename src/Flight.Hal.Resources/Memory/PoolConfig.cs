using System.Numerics;

namespace Flight.Hal.Resources;

/// <summary>How a <see cref="SlabPool"/> is shaped: block size and alignment, how many blocks, and which mode.</summary>
/// <remarks>Plain settings; <see cref="Validate"/> (called by the pool's constructor) rejects bad ones with an exception,
/// because a bad pool configuration is a programmer error, not a runtime condition.</remarks>
public sealed record PoolConfig
{
    /// <summary>Smallest alignment a pool gives its blocks: a free block stores its free-list link in its first bytes.</summary>
    public const int MinAlignment = 8;

    /// <summary>Smallest block a pool hands out: a free block stores its free-list link (next index and next address).</summary>
    public const int MinBlockSize = 16;

    /// <summary>Largest supported block alignment (64 KiB).</summary>
    public const int MaxAlignment = 64 * 1024;

    /// <summary>Largest supported block size (64 MiB).</summary>
    public const int MaxBlockSize = 64 * 1024 * 1024;

    /// <summary>The resource type the pool serves; the <see cref="PoolManager"/> key together with <see cref="BlockSize"/>.</summary>
    public ResourceType Type { get; init; } = ResourceType.Memory;

    /// <summary>Bytes a caller may use in each block, 1 to <see cref="MaxBlockSize"/>. Raised to
    /// <see cref="MinBlockSize"/> and rounded up to a multiple of the effective alignment, which becomes
    /// <see cref="SlabPool.BlockSize"/>.</summary>
    public int BlockSize { get; init; }

    /// <summary>Alignment of every block: a power of two up to <see cref="MaxAlignment"/>; raised to
    /// <see cref="MinAlignment"/> if smaller. Default 16.</summary>
    public int Alignment { get; init; } = 16;

    /// <summary>Blocks allocated when the pool is created (rounded up to whole slabs); 0 allocates on first rent.</summary>
    public int InitialCount { get; init; }

    /// <summary>The most blocks the pool will ever hold, 1 to 4,194,304; a rent beyond it returns
    /// <see cref="ResourceStatus.PoolExhausted"/>.</summary>
    public int MaxCount { get; init; }

    /// <summary>Blocks per slab (one native allocation each), a power of two; 0 picks one from the counts.</summary>
    public int BlocksPerSlab { get; init; }

    /// <summary>Whether the pool may be used by several threads at once (with a per-thread cache, no lock on the fast path).</summary>
    public bool ThreadSafe { get; init; }

    /// <summary>Largest <see cref="ThreadCacheSize"/>: the per-thread cache is a fixed inline array of this many entries.</summary>
    public const int MaxThreadCacheSize = 64;

    /// <summary>Thread-safe pools only: blocks each thread may keep cached, 0 to <see cref="MaxThreadCacheSize"/>; -1
    /// (default) picks <c>min(32, MaxCount / 16)</c>. Cached blocks are idle but not available to other threads: use 0
    /// for a strict capacity when the pool is small.</summary>
    public int ThreadCacheSize { get; init; } = -1;

    /// <summary>An optional name for statistics and reports.</summary>
    public string? Name { get; init; }

    /// <summary>The alignment the pool will use: <see cref="Alignment"/> raised to <see cref="MinAlignment"/>.</summary>
    public int EffectiveAlignment => Math.Max(Alignment, MinAlignment);

    /// <summary>The block size the pool will use: <see cref="BlockSize"/>, at least <see cref="MinBlockSize"/>, rounded up
    /// to <see cref="EffectiveAlignment"/>.</summary>
    public int EffectiveBlockSize =>
        (int)(((long)Math.Max(BlockSize, MinBlockSize) + EffectiveAlignment - 1) & ~((long)EffectiveAlignment - 1));

    /// <summary>Throws if any setting is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size, count or the type is out of range.</exception>
    /// <exception cref="ArgumentException">An alignment or <see cref="BlocksPerSlab"/> is not a power of two.</exception>
    public void Validate()
    {
        if (!ResourceTypes.IsDefined(Type))
        {
            throw new ArgumentOutOfRangeException(nameof(Type), Type, "Unknown resource type.");
        }

        if (BlockSize < 1 || BlockSize > MaxBlockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(BlockSize), BlockSize, $"Block size must be 1 to {MaxBlockSize} bytes.");
        }

        if (Alignment < 1 || !BitOperations.IsPow2(Alignment))
        {
            throw new ArgumentException($"Alignment {Alignment} is not a power of two.", nameof(Alignment));
        }

        if (Alignment > MaxAlignment)
        {
            throw new ArgumentOutOfRangeException(nameof(Alignment), Alignment, $"Alignment must be at most {MaxAlignment}.");
        }

        if (MaxCount < 1 || MaxCount > HandleLayout.MaxSlots)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxCount), MaxCount, $"MaxCount must be 1 to {HandleLayout.MaxSlots}.");
        }

        if (InitialCount < 0 || InitialCount > MaxCount)
        {
            throw new ArgumentOutOfRangeException(nameof(InitialCount), InitialCount, "InitialCount must be 0 to MaxCount.");
        }

        if (BlocksPerSlab < 0 || (BlocksPerSlab > 0 && !BitOperations.IsPow2(BlocksPerSlab)))
        {
            throw new ArgumentException($"BlocksPerSlab {BlocksPerSlab} must be 0 (automatic) or a power of two.", nameof(BlocksPerSlab));
        }

        if (ThreadCacheSize < -1 || ThreadCacheSize > MaxThreadCacheSize)
        {
            throw new ArgumentOutOfRangeException(
                nameof(ThreadCacheSize), ThreadCacheSize, $"ThreadCacheSize must be -1 (automatic) or 0 to {MaxThreadCacheSize}.");
        }
    }
}
