using System.Buffers.Binary;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Management;

/// <summary>Seeded random acquire/release/share/lookup sequences on a <see cref="ResourceManager"/> over
/// <see cref="TestProfiles.Small"/>, each step checked against a model of the live handles and the memories behind them:
/// exact statuses (budget refusals predicted to the byte), per-type accounting and pressure, pressure callbacks, live
/// count, names, owners, sharing, a stamp in every resource's bytes, and at the end the leak report and the native bytes.</summary>
public class ResourceManagerModelTests
{
    private const int Steps = 40_000;
    private const int FullCheckEvery = 256;

    private static readonly string[] Names = ["tex0", "tex1", "mesh", "song", "font", "level"];

    private enum Expect
    {
        Live,
        Stale,
        Invalid,   // null, or another manager's handle
        Forged,    // a value this manager never issued, with one of its own tags: stale or invalid, never live
    }

    // The profile's pools: placement name, type, block size, blocks (all 16-byte aligned), smallest first.
    private static readonly (string Placement, ResourceType Type, int BlockSize, int Count)[] Pools =
    [
        ("pool Memory/64", ResourceType.Memory, 64, 16),
        ("pool Memory/256", ResourceType.Memory, 256, 8),
        ("pool Hardware/256", ResourceType.Hardware, 256, 8),
    ];

    /// <summary>With main memory on the host heap (<paramref name="hostMain"/>) every main-memory outcome is predicted
    /// exactly — pool while the right pool has a free block, else the heap while it has room, else RegionExhausted — and
    /// the placement too. With main memory as an arena, whose bytes the pools' slabs share, a main-memory request the
    /// budget admits may succeed or fail on the region.</summary>
    /// <remarks>A small registry (<paramref name="maxRegistered"/>) makes named, owned, shareable and region-placed
    /// requests, and shares, run into <see cref="ResourceStatus.CapacityExceeded"/>; the model predicts it.</remarks>
    [Theory]
    [InlineData(31, false, 0)]
    [InlineData(4_096, false, 0)]
    [InlineData(77_777, false, 0)]
    [InlineData(505, true, 0)]
    [InlineData(606, true, 20)]
    public void RandomOperations_CheckedAgainstModel_MatchAtEveryStep(int seed, bool hostMain, int maxRegistered)
    {
        // Arrange
        var trace = new ModelTrace(nameof(ResourceManagerModelTests), seed);
        var random = new Random(seed);
        var allocator = new TrackingAllocator();
        var reports = new List<LeakReport>();
        var manager = new ResourceManager(
            TestProfiles.Small(mainBacking: hostMain ? RegionBacking.HostHeap : RegionBacking.Arena),
            new ResourceManagerOptions
            {
                Allocator = allocator,
                LeakReported = reports.Add,
                MaxRegisteredResources = maxRegistered > 0 ? maxRegistered : ResourceManagerOptions.DefaultMaxRegisteredResources,
            });
        using var other = new ResourceManager(TestProfiles.Small());
        var foreign = new List<ulong>
        {
            other.Acquire(new ResourceMetadata(ResourceType.Memory, 32)).RawValue,
            other.Acquire(new ResourceMetadata(ResourceType.Memory, 200), name: "tex0").RawValue,
            other.Acquire(new ResourceMetadata(ResourceType.Hardware, 4096, flags: ResourceFlags.GpuAccessible)).RawValue,
            other.Acquire(new ResourceMetadata(ResourceType.Memory, 64, flags: ResourceFlags.Shareable), owner: other.GetOwner("A")).RawValue,
        };

        var run = new Run(manager, hostMain, other.GetOwner("B"), trace, random, foreign);
        Assert.Equal(manager.Options.MaxRegisteredResources, run.RegistryCapacity);
        List<LeakedResource> expected;
        try
        {
            // Act and Assert: every step is checked as it runs.
            for (int step = 0; step < Steps; step++)
            {
                run.Step(step);
            }

            trace.Begin(Steps, "final");
            run.FullCheck();
            expected = run.ExpectedLeaks();
            manager.Dispose();
        }
        finally
        {
            manager.Dispose(); // idempotent; after a failed check too, so nothing is left to the finalizers
        }

        // Assert: the leak report names exactly the model's live handles, and every native byte came back.
        if (expected.Count == 0)
        {
            Assert.Empty(reports);
        }
        else
        {
            LeakReport report = Assert.Single(reports);
            Assert.Equal(expected.Count, report.Count);
            var byHandle = report.Resources.ToDictionary(r => r.Handle);
            foreach (LeakedResource leak in expected)
            {
                Assert.True(byHandle.TryGetValue(leak.Handle, out LeakedResource actual), $"seed {seed}: {leak.Handle} missing from the leak report");
                Assert.Equal(leak with { Placement = actual.Placement }, actual);
                Assert.False(string.IsNullOrEmpty(actual.Placement));
            }
        }

        Assert.Equal(0, allocator.LiveBytes);
        Assert.True(run.Acquired > Steps / 8, $"seed {seed}: only {run.Acquired} acquisitions");
        Assert.True(run.BudgetRefusals > 200, $"seed {seed}: only {run.BudgetRefusals} budget refusals");
        Assert.True(run.Shares > 200, $"seed {seed}: only {run.Shares} shares");
        Assert.True(run.Emergencies > 200, $"seed {seed}: only {run.Emergencies} emergency acquisitions");
        Assert.True(maxRegistered == 0 || run.RegistryFull > 50, $"seed {seed}: the registry was full only {run.RegistryFull} times");
        Assert.True(maxRegistered > 0 || run.PoolFallbacks > 20, $"seed {seed}: a full pool sent only {run.PoolFallbacks} requests to main memory");
        Assert.True(run.StaleProbes > Steps / 20, $"seed {seed}: only {run.StaleProbes} stale probes");
    }

    /// <summary>One block of memory behind one or more handles (several when shared).</summary>
    private sealed class Memory(int id, ResourceType type, long size, nint address, RegionKind region, string placement)
    {
        public int Id { get; } = id;

        public ResourceType Type { get; } = type;

        public long Size { get; } = size;

        public nint Address { get; } = address;

        public RegionKind Region { get; } = region;

        public string Placement { get; } = placement;

        public int Handles { get; set; } = 1;

        public byte Stamp => (byte)((Id * 151) + 89);
    }

    private readonly record struct Live(Memory Memory, string? Name, int Owner, ResourceFlags Flags, ResourcePriority Priority, AccessPattern Access);

    private sealed class NameModel
    {
        public HashSet<ulong> Handles { get; } = new();

        public ulong Latest { get; set; }   // The most recently acquired or shared handle with the name, while it lives; 0 when unknown.
    }

    private sealed class Run
    {
        private readonly ResourceManager _manager;
        private readonly bool _hostMain;
        private readonly Dictionary<string, int> _poolUsed = new();
        private long _hostUsed;
        private int _registered;   // Live registry handles: every handle but an anonymous pooled one.
        private readonly ResourceOwner _otherOwner;
        private readonly ModelTrace _trace;
        private readonly Random _random;
        private readonly List<ulong> _foreign;
        private readonly HashSet<ulong> _foreignSet;
        private readonly ResourceOwner[] _owners;
        private readonly HashSet<int> _poolTags = new();
        private readonly ModelMap<Live> _live = new();
        private readonly List<ulong> _issued = new();
        private readonly HashSet<ulong> _everIssued = new();
        private readonly Dictionary<string, NameModel> _names = new();
        private readonly ResourceBudget[] _budgets = new ResourceBudget[ResourceTypes.Count];
        private readonly long[] _current = new long[ResourceTypes.Count];
        private readonly long[] _peak = new long[ResourceTypes.Count];
        private readonly long[] _acquisitions = new long[ResourceTypes.Count];
        private readonly long[] _releases = new long[ResourceTypes.Count];
        private readonly long[] _failures = new long[ResourceTypes.Count];
        private readonly long[] _reserve = new long[ResourceTypes.Count];
        private readonly long[] _overruns = new long[ResourceTypes.Count];
        private readonly ResourcePressure[] _delivered = new ResourcePressure[ResourceTypes.Count];
        private readonly long _videoUsable;
        private readonly long _soundUsable;
        private readonly long _mainUsable;
        private string? _callbackProblem;
        private int _registryTag;
        private int _nextMemoryId = 1;

        public Run(ResourceManager manager, bool hostMain, ResourceOwner otherOwner, ModelTrace trace, Random random, List<ulong> foreign)
        {
            _manager = manager;
            _hostMain = hostMain;
            foreach ((string placement, _, _, _) in Pools)
            {
                _poolUsed[placement] = 0;
            }

            _otherOwner = otherOwner;
            _trace = trace;
            _random = random;
            _foreign = foreign;
            _foreignSet = new HashSet<ulong>(foreign);
            _owners = [ResourceOwner.None, manager.GetOwner("A"), manager.GetOwner("B")];
            foreach (SlabPool pool in manager.Pools.Pools)
            {
                _poolTags.Add(pool.Tag);
            }

            for (int t = 0; t < ResourceTypes.Count; t++)
            {
                _budgets[t] = manager.Profile.GetBudget((ResourceType)t);
            }

            foreach (string name in Names)
            {
                _names[name] = new NameModel();
            }

            PlatformProfile profile = manager.Profile;
            _mainUsable = Usable(profile, RegionKind.Main);
            _videoUsable = Usable(profile, RegionKind.Video);
            _soundUsable = Usable(profile, RegionKind.Sound);

            // Synchronous and single-threaded here: every level change is delivered before the call that made it
            // returns, so the last level delivered is the level published. Problems are recorded, not thrown (the
            // manager would catch a throw as a callback fault).
            manager.RegisterPressureCallback(OnPressure);
        }

        public int Acquired { get; private set; }

        public int PoolFallbacks { get; private set; }

        public int RegistryCapacity => _manager.Options.MaxRegisteredResources;

        public int RegistryFull { get; private set; }

        public int BudgetRefusals { get; private set; }

        public int Shares { get; private set; }

        public int Emergencies { get; private set; }

        public int StaleProbes { get; private set; }

        public void Step(int step)
        {
            // Phases of 1,024 steps tilt the mix: balanced, filling (budgets run out), draining.
            int phase = (step >> 10) % 3;
            int roll = _random.Next(1000);
            if (phase != 0 && _random.Next(3) == 0)
            {
                roll = phase == 1 || _live.Count == 0 ? 0 : 400;
            }

            switch (roll)
            {
                case < 350:
                    Acquire(step);
                    break;
                case < 580:
                    if (_live.Count == 0)
                    {
                        Acquire(step);
                        break;
                    }

                    ulong victim = _live.RandomKey(_random);
                    _trace.Begin(step, "Release(live)", victim);
                    Release(victim);
                    break;
                case < 640:
                    ulong releaseProbe = PickProbe();
                    _trace.Begin(step, "Release(probe)", releaseProbe);
                    Release(releaseProbe);
                    break;
                case < 710:
                    ulong shareProbe = PickShareable();
                    _trace.Begin(step, "TryShare", shareProbe);
                    Share(shareProbe);
                    break;
                case < 800:
                    ulong resolveProbe = PickProbe();
                    _trace.Begin(step, "TryResolve", resolveProbe);
                    Resolve(resolveProbe);
                    break;
                case < 850:
                    ulong infoProbe = PickProbe();
                    _trace.Begin(step, "TryGetInfo", infoProbe);
                    Info(infoProbe);
                    break;
                case < 890:
                    string name = _random.Next(8) == 0 ? "never-used" : Names[_random.Next(Names.Length)];
                    _trace.Begin(step, "TryFind " + name);
                    Find(name);
                    break;
                case < 910:
                    ulong containsProbe = PickProbe();
                    _trace.Begin(step, "Contains", containsProbe);
                    _trace.Equal(Classify(containsProbe) == Expect.Live, _manager.Contains(ResourceHandle.FromRawValue(containsProbe)), "Contains");
                    break;
                case < 930:
                    ulong forged = Forge();
                    _trace.Begin(step, "forged", forged);
                    Forged(forged);
                    break;
                case < 935:
                    _trace.Begin(step, "SetBudget(Custom)");
                    SetCustomBudget();
                    break;
                case < 940:
                    _trace.Begin(step, "another manager's owner");
                    ForeignOwner();
                    break;
                default:
                    Acquire(step);
                    break;
            }

            CheckAccounting();
            if (step % FullCheckEvery == FullCheckEvery - 1)
            {
                _trace.Begin(step, "full check");
                FullCheck();
            }
        }

        /// <summary>Every live handle resolves to its stamped bytes and describes itself as the model says; the leak
        /// report, the video and sound regions and old or foreign handles agree with the model too.</summary>
        public void FullCheck()
        {
            CheckAccounting();
            for (int i = 0; i < _live.Count; i++)
            {
                Resolve(_live.KeyAt(i));
                Info(_live.KeyAt(i));
            }

            for (int i = 0; i < 64 && _issued.Count > 0; i++)
            {
                ulong probe = _issued[_random.Next(_issued.Count)];
                Resolve(probe);
            }

            foreach (ulong raw in _foreign)
            {
                var handle = ResourceHandle.FromRawValue(raw);
                _trace.Equal(ResourceStatus.InvalidHandle, _manager.Release(handle), "Release(another manager's handle)");
                _trace.Equal(ResourceStatus.InvalidHandle, _manager.Release(handle, _owners[1]), "Release(another manager's handle, owner)");
                _trace.Equal(ResourceStatus.InvalidHandle, _manager.TryShare(handle, _owners[2], out _), "TryShare(another manager's handle)");
                Resolve(raw);
                Info(raw);
            }

            foreach (string name in Names)
            {
                Find(name);
            }

            List<LeakedResource> expected = ExpectedLeaks();
            LeakReport report = _manager.CreateLeakReport();
            _trace.Equal(expected.Count, report.Count, "leak report count");
            var actual = report.Resources.ToDictionary(r => r.Handle);
            foreach (LeakedResource leak in expected)
            {
                _trace.True(actual.TryGetValue(leak.Handle, out LeakedResource found), $"leak report lists {leak.Handle}");
                _trace.Equal(leak with { Placement = found.Placement }, found, "leak report entry");
            }

            // Video and sound hold only GPU and audio resources (no pools there): their arenas' use is the model's, rounded
            // up to the regions' 32-byte unit.
            CheckRegion(RegionKind.Video);
            CheckRegion(RegionKind.Sound);
            foreach ((string placement, ResourceType type, int blockSize, _) in Pools)
            {
                _trace.Equal(_poolUsed[placement], _manager.Pools.GetPoolStats(type, blockSize).UsedBlocks, $"{placement} UsedBlocks");
            }

            if (_hostMain)
            {
                RegionStats main = _manager.GetRegionStats(RegionKind.Main);
                _trace.Equal(_hostUsed, main.UsedBytes, "host main UsedBytes");
            }
        }

        public List<LeakedResource> ExpectedLeaks()
        {
            var leaks = new List<LeakedResource>(_live.Count);
            for (int i = 0; i < _live.Count; i++)
            {
                Live live = _live.ValueAt(i);
                leaks.Add(new LeakedResource(
                    ResourceHandle.FromRawValue(_live.KeyAt(i)), live.Name, live.Memory.Type, live.Memory.Size,
                    _owners[live.Owner].Name, live.Flags, Placement: "", AcquisitionStack: null));
            }

            return leaks;
        }

        private static string RegionName(RegionKind kind) => kind switch
        {
            RegionKind.Video => "video",
            RegionKind.Sound => "sound",
            _ => "main",
        };

        private static int PoolCount(string placement) => Array.Find(Pools, p => p.Placement == placement).Count;

        /// <summary>The pool a request is routed to: the smallest of its type that fits its size and alignment (16), only
        /// for main memory.</summary>
        private static string? PoolFor(ResourceType type, long size, int alignment)
        {
            foreach ((string placement, ResourceType poolType, int blockSize, _) in Pools)
            {
                if (poolType == type && size <= blockSize && alignment <= 16)
                {
                    return placement;
                }
            }

            return null;
        }

        private static long Usable(PlatformProfile profile, RegionKind kind)
        {
            MemoryRegion region = profile.FindRegion(kind) ?? profile.MainRegion;
            return region.Size - region.ReservedStart;
        }

        private void OnPressure(in PressureChange change)
        {
            int t = (int)change.Type;
            if (change.Previous != _delivered[t])
            {
                _callbackProblem ??= $"{change.Type}: callback's previous level {change.Previous}, last delivered {_delivered[t]}";
            }

            if (change.Current == change.Previous)
            {
                _callbackProblem ??= $"{change.Type}: callback for no change ({change.Current})";
            }

            if (change.Stats.Pressure != change.Current || change.Stats.Budget.PressureAt(change.Stats.CurrentBytes) != change.Current)
            {
                _callbackProblem ??= $"{change.Type}: callback level {change.Current}, its stats say {change.Stats.Pressure} at {change.Stats.CurrentBytes} bytes";
            }

            _delivered[t] = change.Current;
        }

        private Expect Classify(ulong raw)
        {
            if (raw == 0 || _foreignSet.Contains(raw))
            {
                return Expect.Invalid;
            }

            if (_live.Contains(raw))
            {
                return Expect.Live;
            }

            if (_everIssued.Contains(raw))
            {
                return Expect.Stale;
            }

            int tag = ResourceHandle.FromRawValue(raw).Tag;
            return _poolTags.Contains(tag) || tag == _registryTag || _registryTag == 0 ? Expect.Forged : Expect.Invalid;
        }

        private ulong PickProbe()
        {
            int roll = _random.Next(100);
            if (roll < 45 && _live.Count > 0)
            {
                return _live.RandomKey(_random);
            }

            if (roll < 88 && _issued.Count > 0)
            {
                int count = _issued.Count;
                int index = _random.Next(2) == 0 ? Math.Max(0, count - 1 - _random.Next(256)) : _random.Next(count);
                return _issued[index];
            }

            return roll < 94 ? 0 : _foreign[_random.Next(_foreign.Count)];
        }

        /// <summary>Mostly a live shareable handle (so most shares succeed), otherwise any probe.</summary>
        private ulong PickShareable()
        {
            for (int i = 0; i < 6 && _live.Count > 0 && _random.Next(5) != 0; i++)
            {
                ulong raw = _live.RandomKey(_random);
                if ((_live[raw].Flags & ResourceFlags.Shareable) != 0)
                {
                    return raw;
                }
            }

            return PickProbe();
        }

        /// <summary>A value never issued: one of the manager's own tags with a random slot and generation, or any tag.</summary>
        private ulong Forge()
        {
            int tag = _random.Next(3) switch
            {
                0 => _registryTag != 0 ? _registryTag : 1,
                1 => _poolTags.ElementAt(_random.Next(_poolTags.Count)),
                _ => _random.Next(1, HandleLayout.MaxTag + 1),
            };
            int index = _random.Next(64);
            uint generation = _random.Next(2) == 0 ? (uint)_random.Next(0, 64) : (uint)_random.NextInt64(0, 1L << 32);
            return ((ulong)generation << 32) | ((uint)index << HandleLayout.TagBits) | (uint)tag;
        }

        private void Forged(ulong raw)
        {
            switch (_random.Next(4))
            {
                case 0:
                    Release(raw);
                    break;
                case 1:
                    Resolve(raw);
                    break;
                case 2:
                    Info(raw);
                    break;
                default:
                    Share(raw);
                    break;
            }
        }

        private void Acquire(int step)
        {
            int typeRoll = _random.Next(10);
            ResourceType type = typeRoll < 5 ? ResourceType.Memory : typeRoll < 8 ? ResourceType.Hardware : ResourceType.Custom;
            ResourceFlags flags = _random.Next(20) switch
            {
                < 9 => ResourceFlags.None,
                < 14 => ResourceFlags.Shareable,
                < 16 => ResourceFlags.GpuAccessible,
                < 18 => ResourceFlags.AudioAccessible,
                18 => ResourceFlags.Shareable | ResourceFlags.GpuAccessible,
                _ => ResourceFlags.Shareable | ResourceFlags.AudioAccessible,
            };
            if (_random.Next(6) == 0)
            {
                flags |= (flags & ResourceFlags.Shareable) == 0 && _random.Next(2) == 0 ? ResourceFlags.Exclusive : ResourceFlags.Persistent | ResourceFlags.DmaCapable;
            }

            bool emergency = _random.Next(100) < 15;
            ResourceBudget budget = _budgets[(int)type];
            long current = _current[(int)type];
            int sizeRoll = _random.Next(20);
            long size = !emergency ? NextSize(type, emergency: false)
                : sizeRoll == 0 ? budget.MaxBytes + _random.Next(1, 1024)                                       // can never fit
                : sizeRoll < 10 && type != ResourceType.Custom ? Math.Max(1, budget.MaxBytes - current + _random.Next(-2048, 512)) // to the reserve's edge
                : NextSize(type, emergency: true);
            int alignment = _random.Next(10) < 7 ? 0 : 1 << _random.Next(4, 13);
            var md = new ResourceMetadata(
                type, size, alignment, flags, (AccessPattern)_random.Next(5), (ResourcePriority)_random.Next(4));
            string? name = _random.Next(10) < 3 ? Names[_random.Next(Names.Length)] : null;
            int ownerRoll = _random.Next(20);
            int owner = ownerRoll < 5 ? 1 : ownerRoll < 7 ? 2 : 0;
            _trace.Begin(step, $"TryAcquire({type}, {flags}, {name ?? "no name"}, owner {owner}{(emergency ? ", Emergency" : "")})", a: size, b: alignment);
            RegionKind region = md.PreferredRegion;
            long usable = region switch
            {
                RegionKind.Video => _videoUsable,
                RegionKind.Sound => _soundUsable,
                _ => _mainUsable,
            };

            // What the manager must answer: over the budget's limit for the mode (never fits) is BudgetExceeded in every
            // mode; larger than the region is RegionExhausted; an ordinary request past the ordinary limit is
            // BudgetExceeded (emergencies use the reserve, then overrun); otherwise the budget admits it and only the
            // region (or the registry) may refuse.
            ResourceStatus[] allowed;
            string? expectedPlacement = null;
            if (size > (emergency ? budget.MaxBytes : budget.OrdinaryLimit))
            {
                allowed = [ResourceStatus.BudgetExceeded];
            }
            else if (size > usable)
            {
                // Larger than the region can ever hold; if the budget has no room now either, either reason is right.
                allowed = !emergency && current + size > budget.OrdinaryLimit
                    ? [ResourceStatus.RegionExhausted, ResourceStatus.BudgetExceeded]
                    : [ResourceStatus.RegionExhausted];
            }
            else if (!emergency && current + size > budget.OrdinaryLimit)
            {
                allowed = [ResourceStatus.BudgetExceeded];
            }
            else if (_hostMain && region == RegionKind.Main)
            {
                // The smallest pool that fits, while it has a free block (a full pool does not spill into a bigger one);
                // else the host heap, while it has room.
                // A pooled block is the handle only for an anonymous request; every other resource needs a registry entry.
                bool anonymous = name == null && owner == 0 && (flags & ResourceFlags.Shareable) == 0;
                expectedPlacement = PoolFor(type, size, alignment);
                if (expectedPlacement == null || _poolUsed[expectedPlacement] == PoolCount(expectedPlacement))
                {
                    expectedPlacement = size <= _mainUsable - _hostUsed ? "main" : null;
                    anonymous = false;
                }

                allowed = expectedPlacement == null ? [ResourceStatus.RegionExhausted]
                    : !anonymous && _registered == RegistryCapacity ? [ResourceStatus.CapacityExceeded]
                    : [ResourceStatus.Ok];
            }
            else
            {
                allowed = [ResourceStatus.Ok, ResourceStatus.RegionExhausted, ResourceStatus.Fragmented, ResourceStatus.CapacityExceeded];
            }

            ResourceStatus status = _manager.TryAcquire(
                md, out ResourceHandle handle, name, emergency ? AcquisitionMode.Emergency : AcquisitionMode.NonBlocking, owner: _owners[owner]);
            _trace.True(Array.IndexOf(allowed, status) >= 0, $"TryAcquire returned {status}; the model allows only {string.Join(", ", allowed)} (current {current}, budget {budget.MaxBytes}/{budget.OrdinaryLimit})");
            if (status != ResourceStatus.Ok)
            {
                _trace.Equal(default, handle, "handle after a refusal");
                _failures[(int)type]++;
                BudgetRefusals += status == ResourceStatus.BudgetExceeded ? 1 : 0;
                RegistryFull += status == ResourceStatus.CapacityExceeded ? 1 : 0;
                if (region != RegionKind.Main)
                {
                    CheckRegion(region);   // nothing stays allocated by a refused request
                }

                return;
            }

            ulong raw = handle.RawValue;
            _trace.SetHandle(raw);
            _trace.True(!handle.IsNull && _everIssued.Add(raw), "an acquired handle is new: never issued before");
            if (!_poolTags.Contains(handle.Tag))
            {
                _trace.True(_registryTag == 0 || _registryTag == handle.Tag, "every non-pool handle carries the registry's tag");
                _registryTag = handle.Tag;
                _registered++;
                _trace.True(_registered <= RegistryCapacity, $"{_registered} registry handles, capacity {RegistryCapacity}");
            }

            _trace.Equal(ResourceStatus.Ok, _manager.TryResolve(handle, out nint address, out long resolvedSize), "TryResolve of a new resource");
            _trace.Equal(size, resolvedSize, "resolved size");
            int requiredAlignment = Math.Max(alignment, region == RegionKind.Video ? 32 : 16);   // the request's, or the region's own
            _trace.Equal(0L, (long)address % requiredAlignment, $"address aligned to {requiredAlignment}");
            _trace.Equal(ResourceStatus.Ok, _manager.TryGetInfo(handle, out ResourceInfo info), "TryGetInfo of a new resource");
            if (expectedPlacement != null)
            {
                _trace.Equal(expectedPlacement, info.Placement, "placement");
            }

            string? pool = PoolFor(type, size, alignment);
            PoolFallbacks += pool != null && info.Placement == "main" ? 1 : 0;
            _trace.True(
                info.Placement == RegionName(region) || (pool != null && info.Placement == pool),
                $"placement '{info.Placement}' for a {region} request (pool {pool ?? "none"})");

            var memory = new Memory(_nextMemoryId++, type, size, address, region, info.Placement);
            if (_poolUsed.TryGetValue(info.Placement, out int pooled))
            {
                _trace.True(pooled < PoolCount(info.Placement), $"{info.Placement} holds at most {PoolCount(info.Placement)} blocks");
                _poolUsed[info.Placement] = pooled + 1;
            }
            else if (info.Placement == "main")
            {
                _hostUsed += size;
            }

            Stamp(memory);
            var live = new Live(memory, name, owner, flags, md.Priority, md.AccessPattern);
            _live.Add(raw, live);
            _issued.Add(raw);
            if (name != null)
            {
                _names[name].Handles.Add(raw);
                _names[name].Latest = raw;
            }

            long next = current + size;
            _current[(int)type] = next;
            _peak[(int)type] = Math.Max(_peak[(int)type], next);
            _acquisitions[(int)type]++;
            if (next > budget.OrdinaryLimit)
            {
                _reserve[(int)type]++;
                if (next > budget.MaxBytes)
                {
                    _overruns[(int)type]++;
                }
            }

            Acquired++;
            Emergencies += emergency ? 1 : 0;
            Info(raw);
        }

        private long NextSize(ResourceType type, bool emergency)
        {
            ResourceBudget budget = _budgets[(int)type];
            int roll = _random.Next(emergency ? 80 : 100);   // emergencies go past the budget by their own rule above
            if (type == ResourceType.Custom && roll >= 80)
            {
                // Custom starts unlimited: sizes near (and past) the regions', or near the budget once one is set.
                return roll < 90 && budget.MaxBytes < 4 * 1024 * 1024
                    ? Math.Max(1, budget.OrdinaryLimit - _random.Next(0, 4096) + _random.Next(0, 1024))
                    : _random.NextInt64(64 * 1024, (5 * _mainUsable / 4) + 1);
            }

            return roll switch
            {
                < 35 => _random.Next(1, 65),
                < 55 => _random.Next(65, 257),
                < 80 => _random.Next(257, 4097),
                < 86 => Math.Max(1, budget.OrdinaryLimit - _random.Next(0, 4096) + _random.Next(0, 1024)),
                < 97 => _random.Next(4097, 16385),
                _ => budget.MaxBytes + _random.Next(-64, 1024),
            };
        }

        private void Release(ulong raw)
        {
            var handle = ResourceHandle.FromRawValue(raw);
            Expect expect = Classify(raw);
            int variant = _random.Next(20);
            ResourceOwner owner = variant < 12 ? default : variant < 17 && expect == Expect.Live ? _owners[_live[raw].Owner] : _owners[_random.Next(3)];
            bool withOwner = variant >= 12;
            ResourceStatus status = withOwner ? _manager.Release(handle, owner) : _manager.Release(handle);
            switch (expect)
            {
                case Expect.Invalid:
                    _trace.Equal(ResourceStatus.InvalidHandle, status, "Release(null or another manager's)");
                    return;
                case Expect.Stale:
                    StaleProbes++;
                    _trace.Equal(ResourceStatus.StaleHandle, status, "Release(stale)");
                    return;
                case Expect.Forged:
                    _trace.True(status is ResourceStatus.StaleHandle or ResourceStatus.InvalidHandle, $"Release(forged) returned {status}");
                    return;
            }

            Live live = _live[raw];
            if (withOwner && owner.Id != live.Owner)
            {
                _trace.Equal(ResourceStatus.SharingFailure, status, "Release by an owner the handle does not belong to");
                Resolve(raw);
                return;
            }

            _trace.Equal(ResourceStatus.Ok, status, "Release(live)");
            Released(raw, live);
            _trace.Equal(ResourceStatus.StaleHandle, _manager.Release(handle), "second Release");
            _trace.Equal(false, _manager.Contains(handle), "Contains after Release");
        }

        private void Released(ulong raw, Live live)
        {
            _live.Remove(raw);
            _registered -= ResourceHandle.FromRawValue(raw).Tag == _registryTag ? 1 : 0;
            if (live.Name != null)
            {
                NameModel name = _names[live.Name];
                name.Handles.Remove(raw);
                if (name.Latest == raw)
                {
                    name.Latest = 0;
                }
            }

            Memory memory = live.Memory;
            if (--memory.Handles == 0)
            {
                _current[(int)memory.Type] -= memory.Size;
                _releases[(int)memory.Type]++;
                if (_poolUsed.TryGetValue(memory.Placement, out int pooled))
                {
                    _poolUsed[memory.Placement] = pooled - 1;
                }
                else if (memory.Placement == "main")
                {
                    _hostUsed -= memory.Size;
                }
            }
            else
            {
                CheckStamp(memory, BytesOf(memory), "shared memory after one of its handles was released");
            }
        }

        private void Share(ulong raw)
        {
            var handle = ResourceHandle.FromRawValue(raw);
            Expect expect = Classify(raw);
            int owner = _random.Next(3);
            ResourceStatus status = _manager.TryShare(handle, _owners[owner], out ResourceHandle shared);
            switch (expect)
            {
                case Expect.Invalid:
                    _trace.Equal(ResourceStatus.InvalidHandle, status, "TryShare(null or another manager's)");
                    _trace.Equal(default, shared, "no handle from a failed share");
                    return;
                case Expect.Stale:
                    StaleProbes++;
                    _trace.Equal(ResourceStatus.StaleHandle, status, "TryShare(stale)");
                    _trace.Equal(default, shared, "no handle from a failed share");
                    return;
                case Expect.Forged:
                    _trace.True(status is ResourceStatus.StaleHandle or ResourceStatus.InvalidHandle, $"TryShare(forged) returned {status}");
                    return;
            }

            Live live = _live[raw];
            if ((live.Flags & ResourceFlags.Shareable) == 0)
            {
                _trace.Equal(ResourceStatus.SharingFailure, status, "TryShare of a resource acquired without Shareable");
                _trace.Equal(default, shared, "no handle from a failed share");
                return;
            }

            if (_registered == RegistryCapacity)
            {
                RegistryFull++;
                _trace.Equal(ResourceStatus.CapacityExceeded, status, "TryShare with the registry full");
                _trace.Equal(default, shared, "no handle from a failed share");
                return;
            }

            _trace.Equal(ResourceStatus.Ok, status, "TryShare(shareable)");
            _registered++;
            ulong added = shared.RawValue;
            _trace.True(!shared.IsNull && _everIssued.Add(added), "a shared handle is new");
            _trace.Equal(_registryTag, shared.Tag, "a shared handle is the registry's");
            live.Memory.Handles++;
            var copy = live with { Owner = owner };
            _live.Add(added, copy);
            _issued.Add(added);
            if (live.Name != null)
            {
                _names[live.Name].Handles.Add(added);
                _names[live.Name].Latest = added;
            }

            Shares++;
            Resolve(added);
            Info(added);
            Info(raw);
        }

        private void Resolve(ulong raw)
        {
            var handle = ResourceHandle.FromRawValue(raw);
            Expect expect = Classify(raw);
            ResourceStatus status = _manager.TryResolve(handle, out nint address, out long size);
            Span<byte> span = _manager.Resolve(handle);
            if (expect != Expect.Live)
            {
                StaleProbes += expect == Expect.Stale ? 1 : 0;
                CheckRefusal(expect, status, "TryResolve");
                _trace.True(address == 0 && size == 0, "TryResolve of a dead handle gives no address and no size");
                _trace.True(span.IsEmpty, "Resolve of a dead handle is empty");
                _trace.Equal(0, _manager.ResolveAddress(handle), "ResolveAddress of a dead handle");
                return;
            }

            Memory memory = _live[raw].Memory;
            _trace.Equal(ResourceStatus.Ok, status, "TryResolve(live)");
            _trace.Equal(memory.Address, address, "address (the same for every handle to shared memory)");
            _trace.Equal(memory.Size, size, "size");
            _trace.Equal((int)memory.Size, span.Length, "Resolve length");
            CheckStamp(memory, span, "resource bytes");
        }

        private void Info(ulong raw)
        {
            var handle = ResourceHandle.FromRawValue(raw);
            Expect expect = Classify(raw);
            ResourceStatus status = _manager.TryGetInfo(handle, out ResourceInfo info);
            if (expect != Expect.Live)
            {
                CheckRefusal(expect, status, "TryGetInfo");
                _trace.Equal(default, info, "info of a dead handle");
                return;
            }

            Live live = _live[raw];
            _trace.Equal(ResourceStatus.Ok, status, "TryGetInfo(live)");
            _trace.Equal(handle, info.Handle, "info Handle");
            _trace.Equal(live.Memory.Type, info.Type, "info Type");
            _trace.Equal(live.Memory.Size, info.Size, "info Size");
            _trace.Equal(live.Flags, info.Flags, "info Flags");
            _trace.Equal(live.Priority, info.Priority, "info Priority");
            _trace.Equal(live.Access, info.AccessPattern, "info AccessPattern");
            _trace.Equal(live.Name, info.Name, "info Name");
            _trace.Equal(live.Owner, info.Owner.Id, "info Owner");
            _trace.Equal(_owners[live.Owner].Name, info.Owner.Name, "info Owner name");
            _trace.Equal(live.Memory.Handles, info.ShareCount, "info ShareCount");
            _trace.Equal(live.Memory.Placement, info.Placement, "info Placement (the same for every handle to the memory)");
        }

        private void Find(string name)
        {
            ResourceStatus status = _manager.TryFind(name, out ResourceHandle found);
            if (!_names.TryGetValue(name, out NameModel? model) || model.Handles.Count == 0)
            {
                _trace.Equal(ResourceStatus.NotFound, status, "TryFind of a name no live handle carries");
                _trace.Equal(default, found, "TryFind handle when not found");
                return;
            }

            _trace.Equal(ResourceStatus.Ok, status, "TryFind of a live name");
            _trace.True(model.Handles.Contains(found.RawValue), $"TryFind gave {found}, not a live handle named '{name}'");
            if (model.Latest != 0)
            {
                _trace.Equal(model.Latest, found.RawValue, "TryFind gives the most recently acquired or shared handle while it lives");
            }
        }

        private void SetCustomBudget()
        {
            ResourceBudget budget;
            if (_random.Next(4) == 0)
            {
                budget = ResourceBudget.Unlimited;
            }
            else
            {
                long max = _random.NextInt64(16 * 1024, 2 * 1024 * 1024);
                int warning = _random.Next(50, 95);
                budget = new ResourceBudget(max, _random.NextInt64(0, (max / 4) + 1), warning, _random.Next(warning + 1, 101));
            }

            _manager.SetBudget(ResourceType.Custom, budget);
            _budgets[(int)ResourceType.Custom] = budget;
        }

        private void ForeignOwner()
        {
            ulong raw = _live.Count > 0 ? _live.RandomKey(_random) : 0;
            var handle = ResourceHandle.FromRawValue(raw);
            _trace.Throws<ArgumentException>(() => _manager.Release(handle, _otherOwner), "Release with another manager's owner");
            _trace.Throws<ArgumentException>(() => _manager.TryShare(handle, _otherOwner, out _), "TryShare with another manager's owner");
            _trace.Throws<ArgumentException>(
                () => _manager.TryAcquire(new ResourceMetadata(ResourceType.Memory, 16), out _, owner: _otherOwner), "TryAcquire with another manager's owner");
            _trace.Equal(_owners[1], _manager.GetOwner("A"), "GetOwner(\"A\") gives the same owner");
            if (raw != 0)
            {
                Resolve(raw);
            }
        }

        private void CheckRefusal(Expect expect, ResourceStatus status, string what)
        {
            switch (expect)
            {
                case Expect.Stale:
                    _trace.Equal(ResourceStatus.StaleHandle, status, what + "(stale)");
                    break;
                case Expect.Invalid:
                    _trace.Equal(ResourceStatus.InvalidHandle, status, what + "(null or another manager's)");
                    break;
                default:
                    _trace.True(status is ResourceStatus.StaleHandle or ResourceStatus.InvalidHandle, $"{what}(forged) returned {status}");
                    break;
            }
        }

        /// <summary>Writes the memory's id into its first bytes and its stamp byte into the rest.</summary>
        private static void Stamp(Memory memory)
        {
            Span<byte> bytes = BytesOf(memory);
            Span<byte> header = stackalloc byte[sizeof(long)];
            BinaryPrimitives.WriteInt64LittleEndian(header, memory.Id);
            int n = Math.Min(header.Length, bytes.Length);
            header[..n].CopyTo(bytes);
            bytes[n..].Fill(memory.Stamp);
        }

        /// <summary>The memory's bytes still hold its id and stamp: nothing else wrote over them.</summary>
        private void CheckStamp(Memory memory, ReadOnlySpan<byte> bytes, string what)
        {
            Span<byte> header = stackalloc byte[sizeof(long)];
            BinaryPrimitives.WriteInt64LittleEndian(header, memory.Id);
            int n = Math.Min(header.Length, bytes.Length);
            _trace.True(bytes[..n].SequenceEqual(header[..n]), $"{what}: memory {memory.Id}'s id overwritten");
            int corrupt = bytes[n..].IndexOfAnyExcept(memory.Stamp);
            _trace.True(corrupt < 0, $"{what}: memory {memory.Id}'s stamp overwritten at byte {corrupt + n}");
        }

        private static unsafe Span<byte> BytesOf(Memory memory) => new((void*)memory.Address, (int)memory.Size);

        private void CheckRegion(RegionKind kind)
        {
            long used = 0;
            int count = 0;
            var seen = new HashSet<int>();
            for (int i = 0; i < _live.Count; i++)
            {
                Memory memory = _live.ValueAt(i).Memory;
                if (memory.Placement == RegionName(kind) && seen.Add(memory.Id))
                {
                    used += ArenaConfig.RoundUp(memory.Size, 32);
                    count++;
                }
            }

            RegionStats stats = _manager.GetRegionStats(kind);
            _trace.Equal(used, stats.UsedBytes, $"{kind} region UsedBytes");
            _trace.Equal(count, stats.Allocations, $"{kind} region Allocations");
        }

        private void CheckAccounting()
        {
            for (int t = 0; t < ResourceTypes.Count; t++)
            {
                var type = (ResourceType)t;
                ResourceStats s = _manager.GetStats(type);
                ResourceBudget budget = _budgets[t];
                _trace.Equal(budget, s.Budget, $"{type} budget");
                _trace.Equal(_current[t], s.CurrentBytes, $"{type} CurrentBytes");
                _trace.Equal(_peak[t], s.PeakBytes, $"{type} PeakBytes");
                _trace.Equal(_acquisitions[t], s.Acquisitions, $"{type} Acquisitions");
                _trace.Equal(_releases[t], s.Releases, $"{type} Releases");
                _trace.Equal(_failures[t], s.Failures, $"{type} Failures");
                _trace.Equal(_reserve[t], s.ReserveAcquisitions, $"{type} ReserveAcquisitions");
                _trace.Equal(_overruns[t], s.EmergencyOverruns, $"{type} EmergencyOverruns");
                _trace.Equal(0L, s.Reclamations, $"{type} Reclamations");
                ResourcePressure pressure = budget.PressureAt(_current[t]);
                _trace.Equal(pressure, _manager.GetPressure(type), $"{type} GetPressure == PressureAt(CurrentBytes)");
                _trace.Equal(pressure, s.Pressure, $"{type} stats Pressure");
                _trace.Equal(pressure, _delivered[t], $"{type} last level delivered to the pressure callback");
            }

            _trace.True(_callbackProblem == null, _callbackProblem ?? "");
            _trace.Equal(0L, _manager.CallbackFaults, "CallbackFaults");
            _trace.Equal(_live.Count, _manager.LiveCount, "LiveCount");
        }
    }
}
