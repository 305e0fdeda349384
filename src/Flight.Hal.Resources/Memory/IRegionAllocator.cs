namespace Flight.Hal.Resources;

/// <summary>What a memory region of a profile hands out memory through: an <see cref="Arena"/> over a fixed block, or
/// the host heap. Memory is named by an opaque 64-bit token (an arena handle, a host address) that only the allocator
/// that issued it reads.</summary>
/// <remarks>Implementations are thread-safe when the region is shared between threads.</remarks>
internal interface IRegionAllocator : IDisposable
{
    /// <summary>Allocates <paramref name="size"/> bytes at <paramref name="alignment"/> (0: the region's own).</summary>
    /// <param name="size">Bytes, at least 1.</param>
    /// <param name="alignment">A power of two, or 0.</param>
    /// <param name="memory">On <see cref="ResourceStatus.Ok"/>, the allocation's token; otherwise 0.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>, <see cref="ResourceStatus.RegionExhausted"/>,
    /// <see cref="ResourceStatus.Fragmented"/> or <see cref="ResourceStatus.OutOfMemory"/>.</returns>
    ResourceStatus TryAllocate(long size, int alignment, out ulong memory);

    /// <summary>Frees a live allocation; each token is freed exactly once (a second free is a bug in the caller and
    /// asserts in debug builds). Nothing happens after <see cref="IDisposable.Dispose"/>.</summary>
    /// <param name="memory">A token <see cref="TryAllocate"/> returned.</param>
    void Free(ulong memory);

    /// <summary>The first byte of a live allocation.</summary>
    /// <param name="memory">A live token.</param>
    /// <returns>The address.</returns>
    nint AddressOf(ulong memory);

    /// <summary>A snapshot of the region's use, in the arena's terms (the host heap: its capacity is the bytes it may
    /// hand out, its free bytes one piece).</summary>
    /// <returns>The counts.</returns>
    ArenaStats GetStats();

    /// <summary>Native bytes of the region's own bookkeeping (block records, handle slots): held now, and at most.</summary>
    /// <returns>The committed bytes and the reserved (at capacity) bytes.</returns>
    MetadataStats GetMetadataStats();

    /// <summary>Adds the region's free blocks to a histogram by size: block count and bytes per power of two (entry
    /// <c>i</c>: blocks of 2^i to 2^(i+1) - 1 bytes). The host heap adds its free bytes as one piece.</summary>
    /// <param name="counts">64 counts, added to.</param>
    /// <param name="bytes">64 byte totals, added to.</param>
    void AddFreeBlocks(Span<long> counts, Span<long> bytes);
}
