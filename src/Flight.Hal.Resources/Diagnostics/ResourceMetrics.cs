using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Flight.Hal.Resources;

/// <summary>The library's <see cref="System.Diagnostics.Metrics"/> instruments, on the meter
/// <see cref="MeterName"/>: what managers and caches you <see cref="Track(ResourceManager, string?)"/> report to
/// <c>dotnet-counters</c>, OpenTelemetry or a <see cref="MeterListener"/>.</summary>
/// <remarks>
/// <para>Every instrument is observable: it reads the figures the manager and cache keep anyway (<see cref="ResourceStats"/>,
/// <see cref="RegionStats"/>, <see cref="PoolStats"/>, <see cref="CacheStats"/>) when a listener collects, so tracking
/// adds nothing to any acquire or release, listened to or not.</para>
/// <para>Gauges: per type (tags <c>manager</c>, <c>profile</c>, <c>type</c>) current, peak and budget bytes and the
/// pressure level; per owner (<c>manager</c>, <c>owner</c>) the bytes its handles hold; per region (<c>manager</c>, <c>profile</c>, <c>region</c>) used and free bytes, the largest free
/// block and fragmentation; per pool (<c>manager</c>, <c>pool</c>) used and capacity blocks; per cache (<c>cache</c>,
/// <c>manager</c>) entries and resident bytes. Counters (cumulative, observable): per type acquisitions, releases,
/// failures (also by status, tag <c>status</c>, for the statuses seen), emergency overruns and reclamations; per cache hits,
/// misses, loads and evictions.</para>
/// <para>A tracked manager or cache is held weakly and reported until its tracking is disposed, or it is disposed or
/// collected. Thread-safe.</para>
/// </remarks>
public static class ResourceMetrics
{
    /// <summary>The meter's name: <c>dotnet-counters monitor --counters Flight.Hal.Resources -p PID</c>.</summary>
    public const string MeterName = "Flight.Hal.Resources";

    private static readonly object s_lock = new();
    private static readonly List<TrackedManager> s_managers = [];
    private static readonly List<TrackedCache> s_caches = [];
    private static readonly Meter s_meter = CreateMeter();

    /// <summary>The meter (for a listener that filters by instance).</summary>
    public static Meter Meter => s_meter;

    /// <summary>Reports <paramref name="manager"/>'s figures under the tag <c>manager</c> = <paramref name="name"/>.</summary>
    /// <param name="manager">The manager.</param>
    /// <param name="name">Its name in the tags; the profile's name by default.</param>
    /// <returns>Dispose to stop reporting it (idempotent).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="manager"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    /// <exception cref="ObjectDisposedException">The manager is disposed.</exception>
    public static IDisposable Track(ResourceManager manager, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(manager);
        if (name != null && name.Length == 0)
        {
            ThrowHelper.ThrowArgument(nameof(name), "A manager's metrics name is not empty; pass null for the profile's name.");
        }

        ObjectDisposedException.ThrowIf(manager.IsDisposed, manager);
        var tracked = new TrackedManager(new WeakReference<ResourceManager>(manager), name ?? manager.Profile.Name, manager.Profile.Name);
        lock (s_lock)
        {
            s_managers.Add(tracked);
        }

        return new Untrack(() =>
        {
            lock (s_lock)
            {
                s_managers.Remove(tracked);
            }
        });
    }

    /// <summary>Reports <paramref name="cache"/>'s figures under the tag <c>cache</c> = its name.</summary>
    /// <typeparam name="T">The cache's value type.</typeparam>
    /// <param name="cache">The cache.</param>
    /// <param name="managerName">The <c>manager</c> tag; the manager's profile name by default.</param>
    /// <returns>Dispose to stop reporting it (idempotent).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="cache"/> is null.</exception>
    public static IDisposable Track<T>(ResourceCache<T> cache, string? managerName = null)
    {
        ArgumentNullException.ThrowIfNull(cache);
        var weak = new WeakReference<ResourceCache<T>>(cache);
        var tracked = new TrackedCache(
            cache.Name,
            managerName ?? cache.Manager.Profile.Name,
            () => weak.TryGetTarget(out ResourceCache<T>? live) && live is { IsDisposed: false, Manager.IsDisposed: false } ? live.GetStats() : null);
        lock (s_lock)
        {
            s_caches.Add(tracked);
        }

        return new Untrack(() =>
        {
            lock (s_lock)
            {
                s_caches.Remove(tracked);
            }
        });
    }

    private static Meter CreateMeter()
    {
        var meter = new Meter(MeterName, typeof(ResourceMetrics).Assembly.GetName().Version?.ToString());

        // Per type.
        meter.CreateObservableGauge("flight.resources.type.current", () => ObserveTypes(s => s.CurrentBytes), "By", "Bytes in use per resource type.");
        meter.CreateObservableGauge("flight.resources.type.peak", () => ObserveTypes(s => s.PeakBytes), "By", "Peak bytes in use per resource type.");
        meter.CreateObservableGauge("flight.resources.type.budget", ObserveBudgets, "By", "The budget per resource type.");
        meter.CreateObservableGauge("flight.resources.type.pressure", () => ObserveTypes(s => (long)s.Pressure), "{level}", "Pressure level per type: 0 None .. 4 Critical.");
        meter.CreateObservableCounter("flight.resources.type.acquisitions", () => ObserveTypes(s => s.Acquisitions), "{acquisition}", "Successful acquisitions per type.");
        meter.CreateObservableCounter("flight.resources.type.releases", () => ObserveTypes(s => s.Releases), "{release}", "Releases per type.");
        meter.CreateObservableCounter("flight.resources.type.failures", () => ObserveTypes(s => s.Failures), "{failure}", "Refused acquisitions per type.");
        meter.CreateObservableCounter("flight.resources.type.failures_by_status", ObserveFailuresByStatus, "{failure}", "Refused acquisitions per type and status.");
        meter.CreateObservableCounter("flight.resources.type.emergency_overruns", () => ObserveTypes(s => s.EmergencyOverruns), "{acquisition}", "Emergency acquisitions past the budget per type.");
        meter.CreateObservableCounter("flight.resources.type.reclamations", () => ObserveTypes(s => s.Reclamations), "{reclamation}", "Reclamation requests per type.");

        // Per owner.
        meter.CreateObservableGauge("flight.resources.owner.bytes", ObserveOwners, "By", "Bytes each owner's live handles hold.");

        // Per region.
        meter.CreateObservableGauge("flight.resources.region.used", () => ObserveRegions(r => r.UsedBytes), "By", "Bytes allocated per memory region.");
        meter.CreateObservableGauge("flight.resources.region.free", () => ObserveRegions(r => r.FreeBytes), "By", "Free bytes per memory region.");
        meter.CreateObservableGauge("flight.resources.region.largest_free_block", () => ObserveRegions(r => r.LargestFreeBlock), "By", "The largest free block per region.");
        meter.CreateObservableGauge("flight.resources.region.fragmentation", ObserveFragmentation, "1", "1 - largest free block / free bytes, per region.");

        // Per pool.
        meter.CreateObservableGauge("flight.resources.pool.used", () => ObservePools(p => p.UsedBlocks), "{block}", "Blocks rented per pool.");
        meter.CreateObservableGauge("flight.resources.pool.capacity", () => ObservePools(p => p.CapacityBlocks), "{block}", "The most blocks per pool.");

        // Per cache.
        meter.CreateObservableGauge("flight.resources.cache.entries", () => ObserveCaches(c => c.Entries), "{entry}", "Entries per cache.");
        meter.CreateObservableGauge("flight.resources.cache.resident", () => ObserveCaches(c => c.ResidentBytes), "By", "Resident bytes per cache.");
        meter.CreateObservableCounter("flight.resources.cache.hits", () => ObserveCaches(c => c.Hits), "{request}", "Requests served by a loaded entry.");
        meter.CreateObservableCounter("flight.resources.cache.misses", () => ObserveCaches(c => c.Misses), "{request}", "Requests that had to load.");
        meter.CreateObservableCounter("flight.resources.cache.loads", () => ObserveCaches(c => c.Loads), "{load}", "Successful loads.");
        meter.CreateObservableCounter("flight.resources.cache.evictions", () => ObserveCaches(c => c.Evictions), "{entry}", "Unreferenced entries evicted.");
        return meter;
    }

    /// <summary>Calls <paramref name="report"/> for each tracked manager still alive (dropping the dead ones); a manager
    /// disposed while it is being read is skipped.</summary>
    private static List<Measurement<TValue>> ForEachManager<TValue>(Action<List<Measurement<TValue>>, ResourceManager, TrackedManager> report)
        where TValue : struct
    {
        var live = new List<(ResourceManager, TrackedManager)>();
        lock (s_lock)
        {
            for (int i = 0; i < s_managers.Count;)
            {
                if (s_managers[i].Manager.TryGetTarget(out ResourceManager? manager) && !manager.IsDisposed)
                {
                    live.Add((manager, s_managers[i++]));
                }
                else
                {
                    s_managers.RemoveAt(i);
                }
            }
        }

        var measurements = new List<Measurement<TValue>>();
        foreach ((ResourceManager manager, TrackedManager tracked) in live)
        {
            try
            {
                report(measurements, manager, tracked);
            }
            catch (ObjectDisposedException)
            {
                // Disposed while being read: dropped at the next collection.
            }
        }

        return measurements;
    }

    private static List<Measurement<long>> ObserveTypes(Func<ResourceStats, long> figure) =>
        ForEachManager<long>((measurements, manager, tracked) =>
        {
            foreach (ResourceType type in ResourceDiagnostics.Types)
            {
                measurements.Add(new Measurement<long>(figure(manager.GetStats(type)), TypeTags(tracked, type)));
            }
        });

    private static List<Measurement<long>> ObserveBudgets() =>
        ForEachManager<long>((measurements, manager, tracked) =>
        {
            foreach (ResourceType type in ResourceDiagnostics.Types)
            {
                measurements.Add(new Measurement<long>(manager.GetBudget(type).MaxBytes, TypeTags(tracked, type)));
            }
        });

    private static List<Measurement<long>> ObserveFailuresByStatus() =>
        ForEachManager<long>((measurements, manager, tracked) =>
        {
            foreach (ResourceType type in ResourceDiagnostics.Types)
            {
                foreach (ResourceStatus status in ResourceDiagnostics.Refusals)
                {
                    long count = manager.GetFailureCount(type, status);
                    if (count != 0)
                    {
                        measurements.Add(new Measurement<long>(
                            count, Tag("manager", tracked.Name), Tag("profile", tracked.Profile), Tag("type", type.ToString()), Tag("status", status.ToString())));
                    }
                }
            }
        });

    private static List<Measurement<long>> ObserveOwners() =>
        ForEachManager<long>((measurements, manager, tracked) =>
        {
            foreach (OwnerStats owner in manager.GetOwnerStats())
            {
                measurements.Add(new Measurement<long>(owner.Bytes, Tag("manager", tracked.Name), Tag("profile", tracked.Profile), Tag("owner", owner.Owner.Name)));
            }
        });

    private static List<Measurement<long>> ObserveRegions(Func<RegionStats, long> figure) =>
        ForEachManager<long>((measurements, manager, tracked) =>
        {
            foreach (RegionStats region in manager.GetRegionStats())
            {
                measurements.Add(new Measurement<long>(figure(region), RegionTags(tracked, region)));
            }
        });

    private static List<Measurement<double>> ObserveFragmentation() =>
        ForEachManager<double>((measurements, manager, tracked) =>
        {
            foreach (RegionStats region in manager.GetRegionStats())
            {
                measurements.Add(new Measurement<double>(region.Fragmentation, RegionTags(tracked, region)));
            }
        });

    private static List<Measurement<long>> ObservePools(Func<PoolStats, long> figure) =>
        ForEachManager<long>((measurements, manager, tracked) =>
        {
            foreach (SlabPool pool in manager.Pools.Pools)
            {
                PoolStats stats = pool.GetStats();
                measurements.Add(new Measurement<long>(figure(stats), Tag("manager", tracked.Name), Tag("pool", $"{stats.Type}/{stats.BlockSize}")));
            }
        });

    private static KeyValuePair<string, object?>[] TypeTags(TrackedManager tracked, ResourceType type) =>
        [Tag("manager", tracked.Name), Tag("profile", tracked.Profile), Tag("type", type.ToString())];

    private static KeyValuePair<string, object?>[] RegionTags(TrackedManager tracked, RegionStats region) =>
        [Tag("manager", tracked.Name), Tag("profile", tracked.Profile), Tag("region", region.Name)];

    private static List<Measurement<long>> ObserveCaches(Func<CacheStats, long> figure)
    {
        TrackedCache[] caches;
        lock (s_lock)
        {
            caches = [.. s_caches];
        }

        var measurements = new List<Measurement<long>>();
        foreach (TrackedCache cache in caches)
        {
            CacheStats? stats;
            try
            {
                stats = cache.Stats();
            }
            catch (ObjectDisposedException)
            {
                stats = null;
            }

            if (stats is CacheStats live)
            {
                measurements.Add(new Measurement<long>(figure(live), Tag("cache", cache.Name), Tag("manager", cache.ManagerName)));
            }
        }

        return measurements;
    }

    private static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);

    private sealed record TrackedManager(WeakReference<ResourceManager> Manager, string Name, string Profile);

    private sealed record TrackedCache(string Name, string ManagerName, Func<CacheStats?> Stats);

    private sealed class Untrack(Action untrack) : IDisposable
    {
        private Action? _untrack = untrack;

        public void Dispose() => Interlocked.Exchange(ref _untrack, null)?.Invoke();
    }
}
