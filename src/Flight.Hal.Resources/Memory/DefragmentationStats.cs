namespace Flight.Hal.Resources;

/// <summary>What one <see cref="Arena.Defragment"/> (or <c>ResourceManager.Defragment</c>) call did.</summary>
/// <param name="BytesMoved">Bytes copied.</param>
/// <param name="Moves">Allocations moved.</param>
/// <param name="Skipped">Allocations left where they were: pinned, not alignable at the free block before them, or
/// larger than what was left of the budget.</param>
/// <param name="LargestFreeBlockBefore">The largest free block before the call.</param>
/// <param name="LargestFreeBlockAfter">The largest free block after it.</param>
public readonly record struct DefragmentationStats(
    int Moves,
    long BytesMoved,
    int Skipped,
    long LargestFreeBlockBefore,
    long LargestFreeBlockAfter);
