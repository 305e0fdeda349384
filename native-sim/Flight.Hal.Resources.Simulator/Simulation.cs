namespace Flight.Hal.Resources.Simulator;

/// <summary>Replays a workload on a <see cref="ResourceManager"/> for one profile, frame by frame, sampling every type's
/// usage and every region's use and fragmentation after each frame.</summary>
/// <remarks>
/// <para>The replay is single-threaded, so nothing could release memory while a request waits: Blocking and Timeout
/// requests that do not fit at once are counted as failures (Timeout) instead of waiting forever.</para>
/// <para>Resources acquired with <see cref="ResourceFlags.Cacheable"/> are loaded through a <see cref="ResourceCache{T}"/>
/// (keyed by the trace's id, charged to its owner <c>cache:assets</c>) and left resident but unreferenced, so the cache
/// evicts them, least recently used first, when the manager asks for room of their type — as an engine's asset cache
/// would. Acquiring an id still resident is a hit; releasing one unloads it; a release of one evicted is skipped.</para>
/// <para>Every resource is acquired under its trace id as its name, so a snapshot (<c>--snapshot</c>) and the leak
/// report name what holds the memory.</para>
/// </remarks>
internal sealed class Simulation : IDisposable
{
    // Every resource type, in value order: the values are the C ABI's codes, 0 to Count - 1, never renumbered.
    private static readonly ResourceType[] AllTypes = Enum.GetValues<ResourceType>();

    private readonly ResourceManager _manager;
    private readonly Dictionary<string, Held> _live = new(StringComparer.Ordinal);
    private readonly ResourceCache<Held> _cache;
    private readonly CacheLoader<Held> _loader;
    private TraceEvent? _loading;                 // the acquisition the cache's loader serves
    private readonly List<SimEvent> _events = [];
    private int _frame;
    private int _acquisitions;
    private int _failures;
    private int _evictions;

    private Simulation(ResourceManager manager)
    {
        _manager = manager;
        _cache = new ResourceCache<Held>(manager, new ResourceCacheOptions<Held>
        {
            Name = "assets",
            OnUnloaded = (key, held, reason) =>
            {
                if (reason == CacheUnloadReason.Reclaimed)
                {
                    _evictions++;
                    _events.Add(new SimEvent(_frame, SimEventKind.Reclaim, held.Type, $"evicted cached {key} ({held.Size} B)"));
                }
            },
        });
        _loader = LoadCacheable;
    }

    /// <param name="profile">The platform profile.</param>
    /// <param name="workload">The events.</param>
    /// <param name="frames">Frames to run.</param>
    /// <param name="progress">Called every tenth of the run with (frames done, frames).</param>
    /// <param name="snapshotAtPeak">Whether to take the manager's JSON snapshot at the end of the frame with the most bytes
    /// in use (all types together; the first such frame), into <see cref="SimulationResult.PeakSnapshot"/>.</param>
    /// <param name="record">Where to record the run as a trace (<see cref="ResourceRecorder"/>: every acquisition, release
    /// and share the replay makes, frame by frame), closed when the frames end; null for none.</param>
    /// <param name="defragPerFrame">Bytes each region may move at the end of every frame (<see cref="ResourceManager.Defragment"/>);
    /// 0 for none.</param>
    public static SimulationResult Run(
        PlatformProfile profile, Workload workload, int frames, Action<int, int>? progress = null, bool snapshotAtPeak = false, Stream? record = null,
        long defragPerFrame = 0)
    {
        LeakReport? leaks = null;
        var manager = new ResourceManager(profile, new ResourceManagerOptions { LeakReported = report => leaks = report });
        var sim = new Simulation(manager);
        RegionStats[] regionStats = manager.GetRegionStats();
        long[][] usage = [.. AllTypes.Select(_ => new long[frames])];
        long[][] regionUsed = [.. regionStats.Select(_ => new long[frames])];
        double[][] regionFragmentation = [.. regionStats.Select(_ => new double[frames])];
        var registrations = new List<IDisposable>
        {
            ResourceMetrics.Track(manager, "flight-sim"), // dotnet-counters (or samples/Flight.Hal.Resources.Counters) can watch the run
            ResourceMetrics.Track(sim._cache, "flight-sim"),
            manager.RegisterPressureCallback((in PressureChange change) =>
                sim._events.Add(new SimEvent(sim._frame, SimEventKind.Pressure, change.Type, $"{change.Previous} -> {change.Current}", change.Current))),
        };
        ResourceRecorder? recorder = record == null ? null
            : ResourceRecorder.Start(manager, record, new ResourceRecorderOptions { Name = $"{workload.Name} recorded on {profile.Name}" });
        int next = 0;
        int step = Math.Max(1, frames / 10);
        long movedBytes = 0;
        long moves = 0;
        RegionKind[] kinds = [.. profile.Regions.Select(r => r.Kind).Distinct()];
        long peakTotal = -1;
        int peakFrame = -1;
        byte[]? peakSnapshot = null;
        for (int frame = 0; frame < frames; frame++)
        {
            sim._frame = frame;
            if (frame > 0)
            {
                manager.MarkFrame(); // the recorder's frames are the replay's
            }

            while (next < workload.Events.Count && workload.Events[next].Frame <= frame)
            {
                sim.Apply(workload.Events[next++]);
            }

            if (defragPerFrame > 0)
            {
                foreach (RegionKind kind in kinds)
                {
                    DefragmentationStats moved = manager.Defragment(kind, defragPerFrame);
                    movedBytes += moved.BytesMoved;
                    moves += moved.Moves;
                }
            }

            long total = 0;
            foreach (ResourceType type in AllTypes)
            {
                total += usage[(int)type][frame] = manager.GetStats(type).CurrentBytes;
            }

            if (snapshotAtPeak && total > peakTotal)
            {
                peakTotal = total;
                peakFrame = frame;
                peakSnapshot = manager.GetSnapshotUtf8();
            }

            RegionStats[] now = manager.GetRegionStats();
            for (int r = 0; r < now.Length; r++)
            {
                regionUsed[r][frame] = now[r].UsedBytes;
                regionFragmentation[r][frame] = now[r].Fragmentation;
            }

            if (progress != null && (frame + 1) % step == 0)
            {
                progress(frame + 1, frames);
            }
        }

        recorder?.Stop(); // the frames' events only: what the cache still holds is unloaded below, not by the workload
        long fragmented = AllTypes.Sum(type => manager.GetFailureCount(type, ResourceStatus.Fragmented));
        var types = AllTypes.Select(type => new TypeSummary(type, manager.GetStats(type), usage[(int)type])).ToList();
        RegionStats[] final = manager.GetRegionStats();
        var regions = final.Select((r, i) => new RegionSummary(
            r.Name, r.Kind, r.CapacityBytes, r.PeakUsedBytes, regionFragmentation[i].DefaultIfEmpty(0).Max(), r.Failures, regionUsed[i], regionFragmentation[i])).ToList();
        var pools = manager.Pools.Pools.Select(p => p.GetStats()).ToList();
        foreach (IDisposable registration in registrations)
        {
            registration.Dispose();
        }

        CacheStats cache = sim._cache.GetStats();
        sim.Dispose();        // cached resources still resident are the cache's, not leaks
        manager.Dispose();    // reports what the workload never released
        return new SimulationResult(
            profile.Name, workload.Name, frames, types, regions, pools, sim._events, sim._acquisitions, sim._failures, sim._evictions,
            leaks, cache)
        {
            PeakFrame = peakFrame,
            PeakSnapshot = peakSnapshot,
            FragmentedFailures = fragmented,
            DefragPerFrame = defragPerFrame,
            DefragBytesMoved = movedBytes,
            DefragMoves = moves,
        };
    }

    /// <summary>Unloads the cache (what it still holds is cached, not leaked).</summary>
    public void Dispose() => _cache.Dispose();

    private void Apply(TraceEvent e)
    {
        switch (e.Op)
        {
            case TraceOp.Acquire:
                Acquire(e);
                break;
            case TraceOp.Release:
                if (_live.Remove(e.Id, out Held released))
                {
                    _manager.Release(released.Handle);
                }
                else
                {
                    _cache.Unload(e.Id); // NotFound when evicted (or its acquisition failed): nothing to release
                }

                break;
            case TraceOp.Share:
                if (_live.TryGetValue(e.Id, out Held source) || TryGetCached(e.Id, out source))
                {
                    ResourceStatus status = _manager.TryShare(source.Handle, _manager.GetOwner(e.Owner!), out ResourceHandle shared);
                    if (status == ResourceStatus.Ok)
                    {
                        _live[e.Target!] = new Held(shared, source.Type, source.Size);
                    }
                    else
                    {
                        _events.Add(new SimEvent(_frame, SimEventKind.Failure, source.Type, $"share {e.Id}: {status}"));
                    }
                }

                break;
        }
    }

    private void Acquire(TraceEvent e)
    {
        _acquisitions++;
        if ((e.Flags & ResourceFlags.Cacheable) != 0)
        {
            AcquireCached(e);
            return;
        }

        var metadata = new ResourceMetadata(e.Type, e.Size, e.Alignment, e.Flags);
        AcquisitionMode mode = e.Mode is AcquisitionMode.Blocking or AcquisitionMode.Timeout ? AcquisitionMode.Timeout : e.Mode;
        ResourceOwner owner = e.Owner == null ? ResourceOwner.None : _manager.GetOwner(e.Owner);
        ResourceStats before = e.Mode == AcquisitionMode.Emergency ? _manager.GetStats(e.Type) : default!;
        ResourceStatus status = _manager.TryAcquire(in metadata, out ResourceHandle handle, name: e.Id, mode: mode, timeout: TimeSpan.Zero, owner: owner);
        if (status != ResourceStatus.Ok)
        {
            _failures++;
            _events.Add(new SimEvent(_frame, SimEventKind.Failure, e.Type, $"{e.Id} ({e.Size} B): {status}"));
            return;
        }

        if (e.Mode == AcquisitionMode.Emergency)
        {
            ResourceStats after = _manager.GetStats(e.Type);
            string how = after.EmergencyOverruns > before.EmergencyOverruns ? "over the budget"
                : after.ReserveAcquisitions > before.ReserveAcquisitions ? "from the reserve"
                : "within the ordinary budget";
            _events.Add(new SimEvent(_frame, SimEventKind.Emergency, e.Type, $"{e.Id} ({e.Size} B) {how}"));
        }

        _live[e.Id] = new Held(handle, e.Type, e.Size);
    }

    /// <summary>A cacheable acquisition: a hit if the id is still resident, else a load through the cache; either way the
    /// reference is released at once, leaving the entry resident and evictable.</summary>
    private void AcquireCached(TraceEvent e)
    {
        _loading = e;
        try
        {
            _cache.GetOrLoad(e.Id, _loader).Dispose();
        }
        catch (CacheLoadException failure) when (failure.InnerException is ResourceException refused)
        {
            _failures++;
            _events.Add(new SimEvent(_frame, SimEventKind.Failure, e.Type, $"{e.Id} ({e.Size} B): {refused.Status}"));
        }
        finally
        {
            _loading = null;
        }
    }

    private Held LoadCacheable(CacheLoadContext context)
    {
        TraceEvent e = _loading!;
        var metadata = new ResourceMetadata(e.Type, e.Size, e.Alignment, e.Flags);
        AcquisitionMode mode = e.Mode is AcquisitionMode.Blocking or AcquisitionMode.Timeout ? AcquisitionMode.Timeout : e.Mode;
        return new Held(context.Acquire(in metadata, name: e.Id, mode: mode), e.Type, e.Size);
    }

    private bool TryGetCached(string id, out Held held)
    {
        if (_cache.TryGet(id, out CacheRef<Held> reference) == ResourceStatus.Ok)
        {
            held = reference.Value;
            reference.Dispose();
            return true;
        }

        held = default;
        return false;
    }

    internal readonly record struct Held(ResourceHandle Handle, ResourceType Type, long Size);
}
