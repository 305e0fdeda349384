using System.Runtime.InteropServices;

namespace Flight.Hal.Resources.Native;

/// <summary><c>fhr_stats</c>: one type's accounting.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeStats
{
    public int Type;
    public int Pressure;
    public long BudgetMaxBytes;
    public long BudgetReservedBytes;
    public long CurrentBytes;
    public long PeakBytes;
    public long Acquisitions;
    public long Releases;
    public long Failures;
    public long ReserveAcquisitions;
    public long EmergencyOverruns;
    public long Reclamations;
    public long ReclaimedBytes;
}

/// <summary><c>fhr_region_stats</c>: one memory region.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeRegionStats
{
    public int Kind;
    public int Allocations;
    public long CapacityBytes;
    public long ReservedBytes;
    public long UsedBytes;
    public long PeakUsedBytes;
    public long LargestFreeBlock;
    public long Failures;
    public double Fragmentation;
}

/// <summary><c>fhr_defrag_stats</c>: what one <c>fhr_defragment</c> did.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeDefragStats
{
    public int Moves;
    public int Skipped;
    public long BytesMoved;
    public long LargestFreeBlockBefore;
    public long LargestFreeBlockAfter;
}

/// <summary><c>fhr_pool_stats</c>: one pool.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativePoolStats
{
    public int Type;
    public int BlockSize;
    public int TotalBlocks;
    public int UsedBlocks;
    public int FreeBlocks;
    public int PeakUsedBlocks;
    public int CapacityBlocks;
    public int Reserved;
    public double Efficiency;
}

/// <summary><c>fhr_cache_stats</c>: one asset cache.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeCacheStats
{
    public int Entries;
    public int Referenced;
    public int Unreferenced;
    public int Loading;
    public long ResidentBytes;
    public long Hits;
    public long Misses;
    public long Loads;
    public long LoadFailures;
    public long Evictions;
    public long ForcedUnloads;
    public long Unloads;
}
