using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Flight.Hal.Resources;

/// <summary>Snapshots of a <see cref="ResourceManager"/>'s whole state, as objects and as JSON (the format: README
/// "Diagnostics"; <see cref="ResourceSnapshot"/>).</summary>
/// <remarks>A snapshot reads the manager's figures one section after another (types, regions, pools, owners, caches,
/// live resources); each section is exact when nothing is acquired or released meanwhile, and taking one never blocks
/// acquisitions for longer than the registry lock is held by <see cref="ResourceManager.CreateLeakReport"/>. It
/// allocates: call it on a key press, at a failure or at the peak frame, not every frame.</remarks>
public static class ResourceDiagnostics
{
    /// <summary>The largest live resources a snapshot lists unless told otherwise.</summary>
    public const int DefaultLargestResources = 20;

    /// <summary>Every resource type, in value order (also the meter's).</summary>
    internal static readonly ResourceType[] Types = Enum.GetValues<ResourceType>();

    /// <summary>Every status an acquisition can be refused with (also the meter's).</summary>
    internal static readonly ResourceStatus[] Refusals = [.. Enum.GetValues<ResourceStatus>().Where(s => s != ResourceStatus.Ok)];

    /// <summary>Takes a snapshot of <paramref name="manager"/>.</summary>
    /// <param name="manager">The manager.</param>
    /// <param name="largestResources">How many of the largest live resources to list (0 for none).</param>
    /// <returns>The snapshot.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="manager"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="largestResources"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public static ResourceSnapshot GetSnapshot(this ResourceManager manager, int largestResources = DefaultLargestResources)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentOutOfRangeException.ThrowIfNegative(largestResources);
        ObjectDisposedException.ThrowIf(manager.IsDisposed, manager);
        // To the second: two snapshots of an unchanged manager are the same length (the C ABI asks the size, then fetches).
        DateTimeOffset now = DateTimeOffset.UtcNow;
        var takenAt = new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        LeakReport live = manager.CreateLeakReport();
        return new ResourceSnapshot
        {
            Profile = manager.Profile.Name,
            TakenAt = takenAt,
            LiveHandles = live.Count,
            Types = [.. Types.Select(type => Type(manager, type))],
            Regions = Regions(manager),
            Pools = [.. manager.Pools.Pools.Select(pool => Pool(pool.GetStats()))],
            Owners = [.. manager.GetOwnerStats().Select(owner => Owner(manager, owner))],
            Caches = Caches(manager),
            LargestResources = Largest(manager, live, largestResources),
        };
    }

    /// <summary>Writes a snapshot of <paramref name="manager"/> as JSON (UTF-8, indented) to <paramref name="stream"/>.</summary>
    /// <param name="manager">The manager.</param>
    /// <param name="stream">Where to write; left open.</param>
    /// <param name="largestResources">As <see cref="GetSnapshot"/>.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="largestResources"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    /// <exception cref="ArgumentException"><paramref name="stream"/> cannot be written.</exception>
    /// <exception cref="IOException">Writing failed (the manager is unaffected).</exception>
    public static void WriteSnapshot(this ResourceManager manager, Stream stream, int largestResources = DefaultLargestResources)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite)
        {
            throw new ArgumentException("The stream cannot be written.", nameof(stream));
        }

        ResourceSnapshot snapshot = GetSnapshot(manager, largestResources);
        ResourceSnapshotWriter.Write(stream, snapshot);
    }

    /// <summary>Writes a snapshot of <paramref name="manager"/> as one JSON value to <paramref name="writer"/> (inside a
    /// document of your own, for instance).</summary>
    /// <param name="manager">The manager.</param>
    /// <param name="writer">Where to write (flushed).</param>
    /// <param name="largestResources">As <see cref="GetSnapshot"/>.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="largestResources"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public static void WriteSnapshot(this ResourceManager manager, Utf8JsonWriter writer, int largestResources = DefaultLargestResources)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ResourceSnapshot snapshot = GetSnapshot(manager, largestResources);
        ResourceSnapshotWriter.Write(writer, snapshot);
    }

    /// <summary>A snapshot of <paramref name="manager"/> as UTF-8 JSON (what the C ABI's <c>fhr_snapshot_json</c> copies out).</summary>
    /// <param name="manager">The manager.</param>
    /// <param name="largestResources">As <see cref="GetSnapshot"/>.</param>
    /// <returns>The bytes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="manager"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="largestResources"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public static byte[] GetSnapshotUtf8(this ResourceManager manager, int largestResources = DefaultLargestResources) =>
        ResourceSnapshotWriter.ToUtf8(GetSnapshot(manager, largestResources));

    private static TypeSnapshot Type(ResourceManager manager, ResourceType type)
    {
        ResourceStats stats = manager.GetStats(type);
        var byStatus = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (ResourceStatus status in Refusals)
        {
            long count = manager.GetFailureCount(type, status);
            if (count > 0)
            {
                byStatus[status.ToString()] = count;
            }
        }

        return new TypeSnapshot
        {
            Type = type,
            BudgetBytes = stats.Budget.MaxBytes,
            ReservedBytes = stats.Budget.ReservedBytes,
            WarningPercent = stats.Budget.WarningPercent,
            CriticalPercent = stats.Budget.CriticalPercent,
            CurrentBytes = stats.CurrentBytes,
            PeakBytes = stats.PeakBytes,
            Pressure = stats.Pressure,
            Acquisitions = stats.Acquisitions,
            Releases = stats.Releases,
            Failures = stats.Failures,
            FailuresByStatus = byStatus,
            ReserveAcquisitions = stats.ReserveAcquisitions,
            EmergencyOverruns = stats.EmergencyOverruns,
            Reclamations = stats.Reclamations,
            ReclaimedBytes = stats.ReclaimedBytes,
        };
    }

    private static RegionSnapshot[] Regions(ResourceManager manager)
    {
        RegionStats[] regions = manager.GetRegionStats();
        var result = new RegionSnapshot[regions.Length];
        Span<long> counts = stackalloc long[64];
        Span<long> bytes = stackalloc long[64];
        for (int i = 0; i < regions.Length; i++)
        {
            counts.Clear();
            bytes.Clear();
            manager.AddRegionFreeBlocks(i, counts, bytes);
            var buckets = new List<FreeBlockBucket>();
            for (int b = 0; b < 63; b++)
            {
                if (counts[b] > 0)
                {
                    buckets.Add(new FreeBlockBucket { MinBytes = 1L << b, MaxBytes = (1L << (b + 1)) - 1, Count = counts[b], Bytes = bytes[b] });
                }
            }

            RegionStats r = regions[i];
            result[i] = new RegionSnapshot
            {
                Name = r.Name,
                Kind = r.Kind,
                Backing = r.Backing,
                CapacityBytes = r.CapacityBytes,
                ReservedBytes = r.ReservedBytes,
                UsedBytes = r.UsedBytes,
                FreeBytes = r.FreeBytes,
                PeakUsedBytes = r.PeakUsedBytes,
                LargestFreeBlock = r.LargestFreeBlock,
                Fragmentation = r.Fragmentation,
                Allocations = r.Allocations,
                Failures = r.Failures,
                FreeBlocks = buckets,
            };
        }

        return result;
    }

    private static PoolSnapshot Pool(PoolStats p) => new()
    {
        Type = p.Type,
        BlockSize = p.BlockSize,
        Alignment = p.Alignment,
        UsedBlocks = p.UsedBlocks,
        TotalBlocks = p.TotalBlocks,
        PeakUsedBlocks = p.PeakUsedBlocks,
        CapacityBlocks = p.CapacityBlocks,
        UsedBytes = p.UsedBytes,
        CapacityBytes = p.CapacityBytes,
    };

    private static OwnerSnapshot Owner(ResourceManager manager, OwnerStats owner)
    {
        var byType = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (ResourceType type in Types)
        {
            long bytes = manager.GetOwnerBytes(owner.Owner, type);
            if (bytes > 0)
            {
                byType[type.ToString()] = bytes;
            }
        }

        return new OwnerSnapshot { Name = owner.Owner.Name, Resources = owner.Resources, Bytes = owner.Bytes, BytesByType = byType };
    }

    private static List<CacheSnapshot> Caches(ResourceManager manager)
    {
        var result = new List<CacheSnapshot>();
        foreach (ICacheReport cache in CacheDirectory.Of(manager).ToArray())
        {
            CacheStats stats;
            try
            {
                stats = cache.GetStats();
            }
            catch (ObjectDisposedException)
            {
                continue; // disposed while the snapshot was taken
            }

            result.Add(new CacheSnapshot
            {
                Name = cache.Name,
                Owner = cache.Owner.Name,
                Entries = stats.Entries,
                Referenced = stats.Referenced,
                Unreferenced = stats.Unreferenced,
                Loading = stats.Loading,
                ResidentBytes = stats.ResidentBytes,
                Hits = stats.Hits,
                Misses = stats.Misses,
                LoadFailures = stats.LoadFailures,
                Evictions = stats.Evictions,
            });
        }

        return result;
    }

    private static List<LiveResourceSnapshot> Largest(ResourceManager manager, LeakReport live, int count)
    {
        var resources = live.Resources
            .OrderByDescending(r => r.Size)
            .ThenBy(r => r.Handle.RawValue)
            .Take(count);
        var result = new List<LiveResourceSnapshot>();
        foreach (LeakedResource r in resources)
        {
            result.Add(new LiveResourceSnapshot
            {
                Handle = "0x" + r.Handle.RawValue.ToString("x16", CultureInfo.InvariantCulture),
                Name = r.Name,
                Type = r.Type,
                Size = r.Size,
                Owner = r.Owner,
                Placement = r.Placement,
                Flags = r.Flags,
                AgeSeconds = manager.TryGetAcquisitionTimestamp(r.Handle, out long acquired)
                    ? Stopwatch.GetElapsedTime(acquired).TotalSeconds
                    : null,
            });
        }

        return result;
    }
}
