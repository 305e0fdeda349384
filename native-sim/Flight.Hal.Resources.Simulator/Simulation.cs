namespace Flight.Hal.Resources.Simulator;

/// <summary>Replays a workload on a <see cref="ResourceManager"/> for one profile, frame by frame, sampling every type's
/// usage and every region's use and fragmentation after each frame.</summary>
/// <remarks>
/// <para>The replay is single-threaded, so nothing could release memory while a request waits: Blocking and Timeout
/// requests that do not fit at once are counted as failures (Timeout) instead of waiting forever.</para>
/// <para>Resources acquired with <see cref="ResourceFlags.Cacheable"/> form a least-recently-acquired cache per type; the
/// simulator's reclamation callback evicts from it when a request would fail on budget, as an engine's cache would.
/// A later release of an evicted resource is skipped.</para>
/// </remarks>
internal sealed class Simulation
{
    // Every resource type, in value order: the values are the C ABI's codes, 0 to Count - 1, never renumbered.
    private static readonly ResourceType[] AllTypes = Enum.GetValues<ResourceType>();

    private readonly ResourceManager _manager;
    private readonly Dictionary<string, Held> _live = new(StringComparer.Ordinal);
    private readonly LinkedList<string>[] _cache = [.. AllTypes.Select(_ => new LinkedList<string>())];
    private readonly List<SimEvent> _events = [];
    private int _frame;
    private int _acquisitions;
    private int _failures;
    private int _evictions;

    private Simulation(ResourceManager manager) => _manager = manager;

    public static SimulationResult Run(PlatformProfile profile, Workload workload, int frames, Action<int, int>? progress = null)
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
            manager.RegisterPressureCallback((in PressureChange change) =>
                sim._events.Add(new SimEvent(sim._frame, SimEventKind.Pressure, change.Type, $"{change.Previous} -> {change.Current}", change.Current))),
        };
        foreach (ResourceType type in AllTypes)
        {
            registrations.Add(manager.RegisterReclamationCallback(type, sim.Reclaim));
        }

        int next = 0;
        int step = Math.Max(1, frames / 10);
        for (int frame = 0; frame < frames; frame++)
        {
            sim._frame = frame;
            while (next < workload.Events.Count && workload.Events[next].Frame <= frame)
            {
                sim.Apply(workload.Events[next++]);
            }

            foreach (ResourceType type in AllTypes)
            {
                usage[(int)type][frame] = manager.GetStats(type).CurrentBytes;
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

        var types = AllTypes.Select(type => new TypeSummary(type, manager.GetStats(type), usage[(int)type])).ToList();
        RegionStats[] final = manager.GetRegionStats();
        var regions = final.Select((r, i) => new RegionSummary(
            r.Name, r.Kind, r.CapacityBytes, r.PeakUsedBytes, regionFragmentation[i].DefaultIfEmpty(0).Max(), r.Failures, regionUsed[i], regionFragmentation[i])).ToList();
        var pools = manager.Pools.Pools.Select(p => p.GetStats()).ToList();
        foreach (IDisposable registration in registrations)
        {
            registration.Dispose();
        }

        manager.Dispose(); // reports what the workload never released
        return new SimulationResult(
            profile.Name, workload.Name, frames, types, regions, pools, sim._events, sim._acquisitions, sim._failures, sim._evictions,
            leaks);
    }

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
                    released.CacheNode?.List?.Remove(released.CacheNode);
                    _manager.Release(released.Handle);
                }

                // Not alive: evicted by reclamation, or its acquisition failed. Nothing to release.
                break;
            case TraceOp.Share:
                if (_live.TryGetValue(e.Id, out Held source))
                {
                    ResourceStatus status = _manager.TryShare(source.Handle, _manager.GetOwner(e.Owner!), out ResourceHandle shared);
                    if (status == ResourceStatus.Ok)
                    {
                        _live[e.Target!] = new Held(shared, source.Type, source.Size, null);
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
        var metadata = new ResourceMetadata(e.Type, e.Size, e.Alignment, e.Flags);
        AcquisitionMode mode = e.Mode is AcquisitionMode.Blocking or AcquisitionMode.Timeout ? AcquisitionMode.Timeout : e.Mode;
        ResourceOwner owner = e.Owner == null ? ResourceOwner.None : _manager.GetOwner(e.Owner);
        ResourceStats before = e.Mode == AcquisitionMode.Emergency ? _manager.GetStats(e.Type) : default!;
        ResourceStatus status = _manager.TryAcquire(in metadata, out ResourceHandle handle, mode: mode, timeout: TimeSpan.Zero, owner: owner);
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

        LinkedListNode<string>? node = (e.Flags & ResourceFlags.Cacheable) != 0 ? _cache[(int)e.Type].AddLast(e.Id) : null;
        _live[e.Id] = new Held(handle, e.Type, e.Size, node);
    }

    /// <summary>Evicts the oldest cacheable resources of <paramref name="type"/> until <paramref name="requested"/> bytes are free.</summary>
    private long Reclaim(ResourceType type, long requested)
    {
        long freed = 0;
        int count = 0;
        LinkedList<string> cache = _cache[(int)type];
        while (freed < requested && cache.First != null)
        {
            string id = cache.First.Value;
            cache.RemoveFirst();
            if (_live.Remove(id, out Held victim) && _manager.Release(victim.Handle) == ResourceStatus.Ok)
            {
                freed += victim.Size;
                count++;
            }
        }

        _evictions += count;
        _events.Add(new SimEvent(_frame, SimEventKind.Reclaim, type, $"evicted {count} cached ({freed} B) for {requested} B"));
        return freed;
    }

    private readonly record struct Held(ResourceHandle Handle, ResourceType Type, long Size, LinkedListNode<string>? CacheNode);
}
