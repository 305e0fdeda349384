using System.Collections.Concurrent;
using System.Diagnostics;

namespace Flight.Hal.Resources;

// Diagnostics: the live count, bookkeeping sizes, the leak report and acquisition stacks.
public sealed partial class ResourceManager
{
    // Per live handle, when stacks or times are captured: its acquisition stack (or null) and Stopwatch timestamp.
    private readonly ConcurrentDictionary<ulong, Acquisition>? _stacks;

    /// <summary>Live handles (each owner of a shared resource counts once): the handles the leak report would list.</summary>
    /// <remarks>Counts the anonymous pooled resources by their records (a block rented around the manager through
    /// <see cref="Pools"/> is not a resource) and the registry's entries: O(pool blocks issued), exact when no acquisition
    /// or release is in flight.</remarks>
    public int LiveCount
    {
        get
        {
            ThrowIfDisposed();
            int pooled = CollectLivePooled(leaks: null);
            lock (_lock)
            {
                return pooled + _registry.Count;
            }
        }
    }

    /// <summary>Native bytes of bookkeeping per live resource: the registry's slot, or a pooled block's record and
    /// generation.</summary>
    public static int RegistryBytesPerResource => HandleTable<Entry>.BytesPerSlot;

    /// <summary>Bookkeeping bytes per pooled anonymous resource: its record beside the block plus the pool's generation.</summary>
    public static int PooledBytesPerResource => System.Runtime.CompilerServices.Unsafe.SizeOf<PooledRecord>() + PoolStats.BookkeepingBytesPerBlock;

    /// <summary>The native bytes this manager spends on bookkeeping: the registry and share tables, each region's block
    /// records and handle slots, each pool's generations and the records beside its blocks.</summary>
    /// <returns>Bytes held now (grown a page at a time as resources are created) and at every limit's capacity.</returns>
    /// <remarks>An empty manager holds little (the registry's page directories, one page of block records per region,
    /// the pools' per-block words); tables and records grow as resources are created and keep their high-water pages.
    /// The limits that bound the reserved figure: <see cref="ResourceManagerOptions.MaxRegisteredResources"/>, each
    /// region's <see cref="ArenaConfig.MaxAllocations"/> and each pool's <see cref="PoolConfig.MaxCount"/>.</remarks>
    public MetadataStats GetMetadataStats()
    {
        ThrowIfDisposed();
        MetadataStats total;
        lock (_lock)
        {
            total = new MetadataStats(_registry.NativeBytes + _bodies.NativeBytes, _registry.MaxNativeBytes + _bodies.MaxNativeBytes);
        }

        foreach (Region region in _regions)
        {
            total += region.Memory.GetMetadataStats();
        }

        foreach (PoolBinding binding in _bindings)
        {
            long pool = ((long)binding.Pool.MaxCount * PoolStats.BookkeepingBytesPerBlock) + binding.Records.NativeBytes;
            total += new MetadataStats(pool, pool);
        }

        return total;
    }

    /// <summary>Every resource alive now, as <see cref="Dispose"/> would report it.</summary>
    /// <returns>The report (empty when nothing is alive).</returns>
    public LeakReport CreateLeakReport()
    {
        ThrowIfDisposed();
        return CreateLeakReportCore();
    }

    private LeakReport CreateLeakReportCore()
    {
        var resources = new List<LeakedResource>();
        CollectLivePooled(resources);
        lock (_lock)
        {
            foreach (HandleTable<Entry>.Entry slot in _registry)
            {
                ref Entry e = ref slot.Value;
                var handle = (ResourceHandle)slot.Handle;
                resources.Add(new LeakedResource(
                    handle,
                    e.NameId == 0 ? null : _names.NameOf(e.NameId),
                    e.Type,
                    e.Size,
                    OwnerName(e.Owner),
                    e.Flags,
                    PlacementName(in e),
                    StackOf(handle)));
            }
        }

        return new LeakReport(_profile.Name, resources);
    }

    private string? StackOf(ResourceHandle handle) =>
        _stacks != null && _stacks.TryGetValue(handle.RawValue, out Acquisition acquisition) ? acquisition.Stack : null;

    /// <summary>When a live resource was acquired (a <see cref="Stopwatch"/> timestamp), if acquisition times or stacks
    /// are recorded (<see cref="ResourceManagerOptions.TrackAcquisitionTimes"/>).</summary>
    internal bool TryGetAcquisitionTimestamp(ResourceHandle handle, out long timestamp)
    {
        if (_stacks != null && _stacks.TryGetValue(handle.RawValue, out Acquisition acquisition))
        {
            timestamp = acquisition.Timestamp;
            return true;
        }

        timestamp = 0;
        return false;
    }

    private void CaptureStack(ResourceHandle handle) => _stacks![handle.RawValue] = new Acquisition(
        _options.CaptureAcquisitionStacks ? new StackTrace(2, fNeedFileInfo: true).ToString() : null, Stopwatch.GetTimestamp());

    private readonly record struct Acquisition(string? Stack, long Timestamp);

    /// <summary>Dispose's leak report: to <see cref="ResourceManagerOptions.LeakReported"/>, or the debug output.</summary>
    private void ReportLeaks()
    {
        LeakReport report = CreateLeakReportCore();
        if (report.IsEmpty)
        {
            return;
        }

        if (ResourceEventSource.Log.IsEnabled())
        {
            ResourceEventSource.Log.LeaksAtDispose(report.Count, report.TotalBytes);
        }

        Action<LeakReport>? callback = _options.LeakReported;
        if (callback == null)
        {
            Debug.WriteLine(report.ToString());
            return;
        }

        try
        {
            callback(report);
        }
        catch (Exception exception)
        {
            CallbackFaulted?.Invoke(this, new CallbackFaultEventArgs(report.Resources[0].Type, isReclamation: false, exception));
        }
    }
}
