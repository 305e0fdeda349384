using System.Text.Json;

namespace Flight.Hal.Resources;

/// <summary>The whole state of a <see cref="ResourceManager"/> at one moment, as <see cref="ResourceDiagnostics.GetSnapshot"/>
/// takes it and <see cref="ResourceDiagnostics.WriteSnapshot(ResourceManager, Stream, int)"/> writes it: the profile,
/// every type's budget and counters, every region's use with its free blocks by size, the pools, who holds the memory,
/// the caches, and the largest live resources. Format (camelCase JSON, enums as names): README "Diagnostics".</summary>
/// <remarks>The format is versioned: <see cref="Version"/> is <see cref="CurrentVersion"/>; a later version only adds
/// fields, and a reader ignores fields it does not know.</remarks>
public sealed class ResourceSnapshot
{
    /// <summary>The format version this library writes.</summary>
    public const int CurrentVersion = 1;

    /// <summary>The format version of this snapshot.</summary>
    public int Version { get; init; } = CurrentVersion;

    /// <summary>The profile's name.</summary>
    public string Profile { get; init; } = string.Empty;

    /// <summary>When it was taken (UTC, to the second).</summary>
    public DateTimeOffset TakenAt { get; init; }

    /// <summary>Live handles (each owner of a shared resource counts once), as <see cref="ResourceManager.LiveCount"/>.</summary>
    public int LiveHandles { get; init; }

    /// <summary>One entry per resource type, in value order.</summary>
    public IReadOnlyList<TypeSnapshot> Types { get; init; } = [];

    /// <summary>One entry per region of the profile, in its order.</summary>
    public IReadOnlyList<RegionSnapshot> Regions { get; init; } = [];

    /// <summary>The manager's pools.</summary>
    public IReadOnlyList<PoolSnapshot> Pools { get; init; } = [];

    /// <summary>Every owner, holding or not, in creation order.</summary>
    public IReadOnlyList<OwnerSnapshot> Owners { get; init; } = [];

    /// <summary>The caches alive over the manager, in creation order.</summary>
    public IReadOnlyList<CacheSnapshot> Caches { get; init; } = [];

    /// <summary>The largest live resources, largest first (ties: lower handle first).</summary>
    public IReadOnlyList<LiveResourceSnapshot> LargestResources { get; init; } = [];

    /// <summary>The snapshot as indented JSON.</summary>
    /// <returns>The text.</returns>
    public string ToJson() => System.Text.Encoding.UTF8.GetString(ResourceSnapshotWriter.ToUtf8(this));

    /// <summary>Reads a snapshot written by <see cref="ToJson"/> or <see cref="ResourceDiagnostics.WriteSnapshot(ResourceManager, Stream, int)"/>.</summary>
    /// <param name="json">The text.</param>
    /// <returns>The snapshot.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="json"/> is null.</exception>
    /// <exception cref="FormatException">The text is not a snapshot, or its version is newer than <see cref="CurrentVersion"/>
    /// or below 1.</exception>
    public static ResourceSnapshot FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        ResourceSnapshot? snapshot;
        try
        {
            snapshot = JsonSerializer.Deserialize(json, ResourceSnapshotJsonContext.Default.ResourceSnapshot);
        }
        catch (JsonException exception)
        {
            throw new FormatException($"Not a resource snapshot: {exception.Message}", exception);
        }

        if (snapshot is null)
        {
            throw new FormatException("Not a resource snapshot: the document is null.");
        }

        if (snapshot.Version < 1 || snapshot.Version > CurrentVersion)
        {
            throw new FormatException($"Resource snapshot version {snapshot.Version} is not supported (1 to {CurrentVersion}).");
        }

        return snapshot;
    }
}

/// <summary>One resource type in a <see cref="ResourceSnapshot"/>: its budget and <see cref="ResourceStats"/>.</summary>
public sealed class TypeSnapshot
{
    /// <summary>The type.</summary>
    public ResourceType Type { get; init; }

    /// <summary>The budget's maximum (<see cref="ResourceBudget.MaxBytes"/>).</summary>
    public long BudgetBytes { get; init; }

    /// <summary>Of it, the emergency reserve.</summary>
    public long ReservedBytes { get; init; }

    /// <summary>The pressure thresholds, in percent of the budget.</summary>
    public int WarningPercent { get; init; }

    /// <summary>As <see cref="WarningPercent"/>.</summary>
    public int CriticalPercent { get; init; }

    /// <summary>Bytes in use.</summary>
    public long CurrentBytes { get; init; }

    /// <summary>The most bytes in use at once.</summary>
    public long PeakBytes { get; init; }

    /// <summary>The pressure level now.</summary>
    public ResourcePressure Pressure { get; init; }

    /// <summary>Successful acquisitions.</summary>
    public long Acquisitions { get; init; }

    /// <summary>Releases that freed memory.</summary>
    public long Releases { get; init; }

    /// <summary>Refused requests.</summary>
    public long Failures { get; init; }

    /// <summary>Refused requests by status (only the statuses seen).</summary>
    public IReadOnlyDictionary<string, long> FailuresByStatus { get; init; } = new Dictionary<string, long>();

    /// <summary>Emergency acquisitions served from the reserve.</summary>
    public long ReserveAcquisitions { get; init; }

    /// <summary>Emergency acquisitions allowed over the budget.</summary>
    public long EmergencyOverruns { get; init; }

    /// <summary>Reclamation requests made.</summary>
    public long Reclamations { get; init; }

    /// <summary>Bytes those requests freed.</summary>
    public long ReclaimedBytes { get; init; }
}

/// <summary>One memory region in a <see cref="ResourceSnapshot"/>: <see cref="RegionStats"/> and its free blocks by size.</summary>
public sealed class RegionSnapshot
{
    /// <summary>The region's name.</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>Main, video or sound memory.</summary>
    public RegionKind Kind { get; init; }

    /// <summary>An arena over a fixed block, or the host heap.</summary>
    public RegionBacking Backing { get; init; }

    /// <summary>The region's size.</summary>
    public long CapacityBytes { get; init; }

    /// <summary>Bytes never handed out.</summary>
    public long ReservedBytes { get; init; }

    /// <summary>Bytes allocated (pool slabs carved from it included).</summary>
    public long UsedBytes { get; init; }

    /// <summary>Bytes neither used nor reserved.</summary>
    public long FreeBytes { get; init; }

    /// <summary>The most bytes used at once.</summary>
    public long PeakUsedBytes { get; init; }

    /// <summary>The largest single allocation that could succeed now.</summary>
    public long LargestFreeBlock { get; init; }

    /// <summary>1 − largest free block / free bytes.</summary>
    public double Fragmentation { get; init; }

    /// <summary>Live allocations.</summary>
    public int Allocations { get; init; }

    /// <summary>Allocations refused.</summary>
    public long Failures { get; init; }

    /// <summary>The free blocks by size, one entry per power of two that has any, smallest first (the host heap's free
    /// bytes are one block).</summary>
    public IReadOnlyList<FreeBlockBucket> FreeBlocks { get; init; } = [];
}

/// <summary>Free blocks of <see cref="MinBytes"/> to <see cref="MaxBytes"/> bytes.</summary>
public sealed class FreeBlockBucket
{
    /// <summary>The smallest size in the bucket (a power of two).</summary>
    public long MinBytes { get; init; }

    /// <summary>The largest size in the bucket (the next power of two, less one).</summary>
    public long MaxBytes { get; init; }

    /// <summary>Blocks.</summary>
    public long Count { get; init; }

    /// <summary>Their bytes.</summary>
    public long Bytes { get; init; }
}

/// <summary>One pool in a <see cref="ResourceSnapshot"/> (<see cref="PoolStats"/>).</summary>
public sealed class PoolSnapshot
{
    /// <summary>The type it serves.</summary>
    public ResourceType Type { get; init; }

    /// <summary>Bytes per block.</summary>
    public int BlockSize { get; init; }

    /// <summary>Block alignment.</summary>
    public int Alignment { get; init; }

    /// <summary>Blocks rented.</summary>
    public int UsedBlocks { get; init; }

    /// <summary>Blocks created.</summary>
    public int TotalBlocks { get; init; }

    /// <summary>The most blocks rented at once.</summary>
    public int PeakUsedBlocks { get; init; }

    /// <summary>The most blocks it may create.</summary>
    public int CapacityBlocks { get; init; }

    /// <summary>Bytes rented.</summary>
    public long UsedBytes { get; init; }

    /// <summary>Bytes at capacity.</summary>
    public long CapacityBytes { get; init; }
}

/// <summary>One owner in a <see cref="ResourceSnapshot"/>: who holds the memory (<see cref="OwnerStats"/>).</summary>
public sealed class OwnerSnapshot
{
    /// <summary>The owner's name.</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>Its live handles.</summary>
    public int Resources { get; init; }

    /// <summary>The bytes they count against the budgets (shared memory counts for each holder).</summary>
    public long Bytes { get; init; }

    /// <summary>Those bytes by type (only the types it holds).</summary>
    public IReadOnlyDictionary<string, long> BytesByType { get; init; } = new Dictionary<string, long>();
}

/// <summary>One cache in a <see cref="ResourceSnapshot"/> (<see cref="CacheStats"/>).</summary>
public sealed class CacheSnapshot
{
    /// <summary>The cache's name.</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>The owner its memory is charged to.</summary>
    public string Owner { get; init; } = string.Empty;

    /// <summary>Live entries.</summary>
    public int Entries { get; init; }

    /// <summary>Entries someone references.</summary>
    public int Referenced { get; init; }

    /// <summary>Entries nobody references (evictable).</summary>
    public int Unreferenced { get; init; }

    /// <summary>Entries loading.</summary>
    public int Loading { get; init; }

    /// <summary>Native bytes of loaded entries.</summary>
    public long ResidentBytes { get; init; }

    /// <summary>Requests served by a loaded entry.</summary>
    public long Hits { get; init; }

    /// <summary>Requests that had to load.</summary>
    public long Misses { get; init; }

    /// <summary>Loads that failed.</summary>
    public long LoadFailures { get; init; }

    /// <summary>Entries evicted while unreferenced.</summary>
    public long Evictions { get; init; }
}

/// <summary>One live resource in a <see cref="ResourceSnapshot"/>.</summary>
public sealed class LiveResourceSnapshot
{
    /// <summary>Its handle's raw value, as <c>0x</c> and 16 hex digits.</summary>
    public string Handle { get; init; } = string.Empty;

    /// <summary>Its name, or null.</summary>
    public string? Name { get; init; }

    /// <summary>Its type.</summary>
    public ResourceType Type { get; init; }

    /// <summary>Bytes requested.</summary>
    public long Size { get; init; }

    /// <summary>Its owner's name (<c>(none)</c> for none).</summary>
    public string Owner { get; init; } = string.Empty;

    /// <summary>Where its memory lives: a pool or a region.</summary>
    public string Placement { get; init; } = string.Empty;

    /// <summary>Its flags.</summary>
    public ResourceFlags Flags { get; init; }

    /// <summary>Seconds since it was acquired, when <see cref="ResourceManagerOptions.TrackAcquisitionTimes"/> (or
    /// <see cref="ResourceManagerOptions.CaptureAcquisitionStacks"/>) is on; otherwise null.</summary>
    public double? AgeSeconds { get; init; }
}
