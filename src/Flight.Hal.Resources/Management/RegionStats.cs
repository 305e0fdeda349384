namespace Flight.Hal.Resources;

/// <summary>A snapshot of one memory region of a <see cref="ResourceManager"/>'s profile.</summary>
/// <param name="Name">The region's name.</param>
/// <param name="Kind">Main, video or sound memory.</param>
/// <param name="Backing">An arena over a fixed block, or the host's heap.</param>
/// <param name="CapacityBytes">The region's size.</param>
/// <param name="ReservedBytes">Bytes at its start that are never handed out.</param>
/// <param name="UsedBytes">Bytes allocated (including pool slabs carved from it).</param>
/// <param name="PeakUsedBytes">Largest <paramref name="UsedBytes"/> seen.</param>
/// <param name="LargestFreeBlock">The largest single allocation that could succeed now (arena regions; free bytes otherwise).</param>
/// <param name="Fragmentation">1 − largest free block / free bytes: 0 when free memory is one block.</param>
/// <param name="Allocations">Live allocations in the region.</param>
/// <param name="Failures">Allocations refused (too full or too fragmented).</param>
public readonly record struct RegionStats(
    string Name,
    RegionKind Kind,
    RegionBacking Backing,
    long CapacityBytes,
    long ReservedBytes,
    long UsedBytes,
    long PeakUsedBytes,
    long LargestFreeBlock,
    double Fragmentation,
    int Allocations,
    long Failures)
{
    /// <summary>Bytes neither used nor reserved.</summary>
    public long FreeBytes => CapacityBytes - ReservedBytes - UsedBytes;
}
