namespace Flight.Hal.Resources;

/// <summary>A snapshot of one <see cref="Arena"/>'s region.</summary>
/// <remarks><c>ReservedBytes + UsedBytes + FreeBytes == Capacity</c> at every snapshot.</remarks>
/// <param name="Capacity">Region bytes.</param>
/// <param name="ReservedBytes">Bytes never handed out: the reserved start, and the tail below one allocation unit.</param>
/// <param name="UsedBytes">Bytes in live allocations (sizes rounded up to the unit, plus nothing else: the arena keeps
/// its bookkeeping outside the region).</param>
/// <param name="FreeBytes">Bytes available, in any number of pieces.</param>
/// <param name="PeakUsedBytes">The most bytes in use at once since creation.</param>
/// <param name="LargestFreeBlock">The biggest single request (at the unit alignment) that would succeed now.</param>
/// <param name="AllocationCount">Live allocations.</param>
/// <param name="FreeBlockCount">Free pieces the free bytes are split into.</param>
/// <param name="TotalAllocations">Successful allocations since creation.</param>
/// <param name="FailedAllocations">Requests refused because no free block was big enough.</param>
/// <param name="FragmentationFailures">Of those, requests refused although enough bytes were free in pieces.</param>
public readonly record struct ArenaStats(
    long Capacity,
    long ReservedBytes,
    long UsedBytes,
    long FreeBytes,
    long PeakUsedBytes,
    long LargestFreeBlock,
    int AllocationCount,
    int FreeBlockCount,
    long TotalAllocations,
    long FailedAllocations,
    long FragmentationFailures)
{
    /// <summary>How split up the free bytes are: <c>1 - LargestFreeBlock / FreeBytes</c>, 0 (one piece, or nothing
    /// free) to nearly 1 (many small pieces).</summary>
    public double Fragmentation => FreeBytes == 0 ? 0 : 1.0 - ((double)LargestFreeBlock / FreeBytes);
}
