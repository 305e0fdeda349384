using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Management;

/// <summary>Adversarial probes: after any single-threaded sequence (Emergency, sharing, reclamation that releases, budget
/// changes, timeouts, a full registry, injected allocator failures) the accounting must match a model.</summary>
public class ResourceManagerExactnessTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private sealed class Group
    {
        public required ResourceType Type;
        public required long Size;
        public int Handles;
    }

    private sealed record Live(Group Group, ResourceOwner Owner, string? Name, bool Shareable);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void RandomSequence_AccountingMatchesTheModel(int seed)
    {
        var random = new Random(seed);
        var allocator = new TrackingAllocator();
        var types = new[] { ResourceType.Memory, ResourceType.Hardware, ResourceType.Custom };
        var pools = new[]
        {
            new PoolConfig { Type = ResourceType.Memory, BlockSize = 64, MaxCount = 16 },
            new PoolConfig { Type = ResourceType.Memory, BlockSize = 256, MaxCount = 8 },
            new PoolConfig { Type = ResourceType.Hardware, BlockSize = 256, MaxCount = 8 },
        };
        using (var manager = new ResourceManager(
            TestProfiles.Small(pools, RegionBacking.HostHeap),
            new ResourceManagerOptions { Allocator = allocator, MaxRegisteredResources = 20, MaxRetainedNames = 2 }))
        {
            var live = new Dictionary<ResourceHandle, Live>();
            var dead = new List<ResourceHandle>();
            var current = new Dictionary<ResourceType, long>();
            var peak = new Dictionary<ResourceType, long>();
            var acquisitions = new Dictionary<ResourceType, long>();
            var releases = new Dictionary<ResourceType, long>();
            var failures = new Dictionary<ResourceType, long>();
            var reserve = new Dictionary<ResourceType, long>();
            var overruns = new Dictionary<ResourceType, long>();
            var delivered = new Dictionary<ResourceType, ResourcePressure>();
            foreach (ResourceType t in Enum.GetValues<ResourceType>())
            {
                current[t] = peak[t] = acquisitions[t] = releases[t] = failures[t] = reserve[t] = overruns[t] = 0;
                delivered[t] = ResourcePressure.None;
            }

            ResourceOwner[] owners = [default, manager.GetOwner("o1"), manager.GetOwner("o2")];
            string[] names = ["n1", "n2", "n3", "n4", "n5"];
            var statuses = new Dictionary<ResourceStatus, int>();

            void Forget(ResourceHandle handle)
            {
                Live l = live[handle];
                live.Remove(handle);
                dead.Add(handle);
                if (--l.Group.Handles == 0)
                {
                    current[l.Group.Type] -= l.Group.Size;
                    releases[l.Group.Type]++;
                }
            }

            using IDisposable onPressure = manager.RegisterPressureCallback((in PressureChange change) =>
            {
                Assert.Equal(delivered[change.Type], change.Previous);
                Assert.NotEqual(change.Previous, change.Current);
                delivered[change.Type] = change.Current;
            });

            bool reclaiming = false;
            var reclaimers = types.Select(t => manager.RegisterReclamationCallback(t, (type, requested) =>
            {
                Assert.False(reclaiming, "reclamation re-entered");
                reclaiming = true;
                try
                {
                    long freed = 0;
                    foreach (ResourceHandle h in live.Keys.Where(h => live[h].Group.Type == type && live[h].Group.Handles == 1).Take(2).ToList())
                    {
                        long size = live[h].Group.Size;
                        Assert.Equal(ResourceStatus.Ok, manager.Release(h));
                        Forget(h);
                        freed += size;
                        if (freed >= requested)
                        {
                            break;
                        }
                    }

                    return freed;
                }
                finally
                {
                    reclaiming = false;
                }
            })).ToList();

            for (int step = 0; step < 3000; step++)
            {
                int op = random.Next(100);
                if (op < 45)
                {
                    ResourceType type = types[random.Next(types.Length)];
                    long size = new long[] { 16, 64, 200, 256, 1000, 4096, 20000, 40000 }[random.Next(8)];
                    ResourceFlags flags = (ResourceFlags)0;
                    if (random.Next(3) == 0) flags |= ResourceFlags.Shareable;
                    if (random.Next(4) == 0) flags |= ResourceFlags.GpuAccessible;
                    else if (random.Next(6) == 0) flags |= ResourceFlags.AudioAccessible;
                    string? name = random.Next(3) == 0 ? names[random.Next(names.Length)] : null;
                    ResourceOwner owner = owners[random.Next(owners.Length)];
                    AcquisitionMode mode = (AcquisitionMode)new[] { 0, 0, 0, 2, 3 }[random.Next(5)];
                    ResourceBudget budget = manager.GetBudget(type);
                    ResourceStatus status = manager.TryAcquire(new ResourceMetadata(type, size, flags: flags), out ResourceHandle handle, name, mode, TimeSpan.FromMilliseconds(1), owner);
                    statuses[status] = statuses.GetValueOrDefault(status) + 1;
                    if (status == ResourceStatus.Ok)
                    {
                        Assert.False(handle.IsNull);
                        Assert.False(live.ContainsKey(handle));
                        live[handle] = new Live(new Group { Type = type, Size = size, Handles = 1 }, owner, name, (flags & ResourceFlags.Shareable) != 0);
                        current[type] += size;
                        peak[type] = Math.Max(peak[type], current[type]);
                        acquisitions[type]++;
                        if (current[type] > budget.OrdinaryLimit) reserve[type]++;
                        if (current[type] > budget.MaxBytes) overruns[type]++;
                    }
                    else
                    {
                        Assert.True(handle.IsNull);
                        failures[type]++;
                    }
                }
                else if (op < 75 && live.Count > 0)
                {
                    ResourceHandle handle = live.Keys.ElementAt(random.Next(live.Count));
                    Live l = live[handle];
                    ResourceStatus status = random.Next(2) == 0 || l.Owner.IsNone ? manager.Release(handle) : manager.Release(handle, l.Owner);
                    Assert.Equal(ResourceStatus.Ok, status);
                    Forget(handle);
                }
                else if (op < 82 && live.Count > 0)
                {
                    ResourceHandle handle = live.Keys.ElementAt(random.Next(live.Count));
                    Live l = live[handle];
                    ResourceOwner to = owners[1 + random.Next(2)];
                    ResourceStatus status = manager.TryShare(handle, to, out ResourceHandle shared);
                    if (!l.Shareable)
                    {
                        Assert.Equal(ResourceStatus.SharingFailure, status);
                    }
                    else if (status == ResourceStatus.Ok)
                    {
                        l.Group.Handles++;
                        live[shared] = l with { Owner = to };
                    }
                    else
                    {
                        Assert.Equal(ResourceStatus.CapacityExceeded, status);
                        Assert.True(shared.IsNull);
                    }
                }
                else if (op < 86)
                {
                    ResourceType type = types[random.Next(types.Length)];
                    long max = new long[] { 8 * 1024, 32 * 1024, 64 * 1024, 200 * 1024 }[random.Next(4)];
                    manager.SetBudget(type, new ResourceBudget(max, max / 8));
                }
                else if (op < 89)
                {
                    allocator.FailAll = !allocator.FailAll;
                }
                else if (op < 93 && dead.Count > 0)
                {
                    ResourceHandle handle = dead[random.Next(dead.Count)];
                    if (!live.ContainsKey(handle))
                    {
                        Assert.Equal(ResourceStatus.StaleHandle, manager.Release(handle));
                    }
                }
                else
                {
                    string name = names[random.Next(names.Length)];
                    ResourceStatus status = manager.TryFind(name, out ResourceHandle found);
                    if (live.Values.Any(l => l.Name == name))
                    {
                        Assert.Equal(ResourceStatus.Ok, status);
                        Assert.Equal(name, live[found].Name);
                        Assert.Equal(name, manager.GetInfo(found).Name);
                    }
                    else
                    {
                        Assert.Equal(ResourceStatus.NotFound, status);
                    }
                }

                // Invariants after every step.
                foreach (ResourceType t in types)
                {
                    ResourceStats s = manager.GetStats(t);
                    Assert.True(current[t] == s.CurrentBytes, $"step {step} {t}: current {s.CurrentBytes} vs {current[t]}");
                    Assert.True(peak[t] == s.PeakBytes, $"step {step} {t}: peak {s.PeakBytes} vs {peak[t]}");
                    Assert.True(acquisitions[t] == s.Acquisitions, $"step {step} {t}: acquisitions {s.Acquisitions} vs {acquisitions[t]}");
                    Assert.True(releases[t] == s.Releases, $"step {step} {t}: releases {s.Releases} vs {releases[t]}");
                    Assert.True(failures[t] == s.Failures, $"step {step} {t}: failures {s.Failures} vs {failures[t]}");
                    Assert.True(reserve[t] == s.ReserveAcquisitions, $"step {step} {t}: reserve {s.ReserveAcquisitions} vs {reserve[t]}");
                    Assert.True(overruns[t] == s.EmergencyOverruns, $"step {step} {t}: overruns {s.EmergencyOverruns} vs {overruns[t]}");
                    Assert.Equal(s.Budget.PressureAt(s.CurrentBytes), s.Pressure);
                    Assert.Equal(s.Pressure, delivered[t]);
                }

                Assert.Equal(live.Count, manager.LiveCount);
                if (step % 50 == 0)
                {
                    LeakReport report = manager.CreateLeakReport();
                    Assert.Equal(live.Keys.OrderBy(h => h.RawValue), report.Resources.Select(r => r.Handle).OrderBy(h => h.RawValue));
                    foreach (LeakedResource r in report.Resources)
                    {
                        Assert.Equal(live[r.Handle].Name, r.Name);
                        Assert.Equal(live[r.Handle].Group.Size, r.Size);
                    }
                }
            }

            foreach (IDisposable r in reclaimers) r.Dispose();
            output.WriteLine(string.Join(", ", statuses.Select(kv => $"{kv.Key}={kv.Value}")) + $" live={live.Count}");
            Assert.True(statuses.GetValueOrDefault(ResourceStatus.Ok) > 100, string.Join(", ", statuses));
        }

        Assert.Equal(0, allocator.LiveBytes);
    }
}
