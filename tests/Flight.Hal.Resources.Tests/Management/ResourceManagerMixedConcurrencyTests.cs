using System.Collections.Concurrent;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Management;

/// <summary>Adversarial probes: concurrent acquire/release/share/emergency/timeouts with reclamation that releases a shared
/// cache, budget changes and allocator failures; at quiescence every count must add up.</summary>
public class ResourceManagerMixedConcurrencyTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ConcurrentMix_CountsAddUp_AtQuiescence()
    {
        var allocator = new TrackingAllocator();
        var types = new[] { ResourceType.Memory, ResourceType.Hardware, ResourceType.Custom };
        using var manager = new ResourceManager(
            TestProfiles.Small(mainBacking: RegionBacking.HostHeap),
            new ResourceManagerOptions { Allocator = allocator, MaxRegisteredResources = 64 });
        manager.SetBudget(ResourceType.Custom, new ResourceBudget(48 * 1024, 8 * 1024));
        var cache = new ConcurrentQueue<(ResourceHandle Handle, ResourceType Type, long Size)>();
        long[] ok = new long[8], failed = new long[8], released = new long[8];
        var lastDelivered = new ConcurrentDictionary<ResourceType, ResourcePressure>();
        object deliveryCheck = new();
        int concurrentDeliveries = 0;
        int maxConcurrentDeliveries = 0;
        using IDisposable onPressure = manager.RegisterPressureCallback((in PressureChange change) =>
        {
            int now = Interlocked.Increment(ref concurrentDeliveries);
            lock (deliveryCheck) maxConcurrentDeliveries = Math.Max(maxConcurrentDeliveries, now);
            Assert.Equal(lastDelivered.GetValueOrDefault(change.Type), change.Previous);
            lastDelivered[change.Type] = change.Current;
            Interlocked.Decrement(ref concurrentDeliveries);
        });
        var reclaimers = types.Select(t => manager.RegisterReclamationCallback(t, (type, requested) =>
        {
            long freed = 0;
            int n = cache.Count;
            while (freed < requested && n-- > 0 && cache.TryDequeue(out var item))
            {
                if (item.Type != type)
                {
                    cache.Enqueue(item);
                    continue;
                }

                Assert.Equal(ResourceStatus.Ok, manager.Release(item.Handle));
                Interlocked.Increment(ref released[(int)item.Type]);
                freed += item.Size;
            }

            return freed;
        })).ToList();

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        Task Worker(int seed) => Task.Factory.StartNew(
            () =>
            {
                var random = new Random(seed);
                var mine = new List<(ResourceHandle Handle, ResourceType Type, long Size)>();
                ResourceOwner owner = manager.GetOwner("w" + seed);
                while (!stop.IsCancellationRequested)
                {
                    int op = random.Next(100);
                    if (op < 50)
                    {
                        ResourceType type = types[random.Next(types.Length)];
                        long size = new long[] { 16, 64, 250, 1000, 4096, 9000 }[random.Next(6)];
                        var flags = random.Next(4) == 0 ? ResourceFlags.GpuAccessible : ResourceFlags.None;
                        var mode = (AcquisitionMode)new[] { 0, 0, 2, 3 }[random.Next(4)];
                        ResourceStatus s = manager.TryAcquire(
                            new ResourceMetadata(type, size, flags: flags), out ResourceHandle h,
                            random.Next(4) == 0 ? "name" + random.Next(3) : null, mode, TimeSpan.FromMilliseconds(2),
                            random.Next(3) == 0 ? owner : default);
                        if (s == ResourceStatus.Ok)
                        {
                            Interlocked.Increment(ref ok[(int)type]);
                            if (random.Next(3) == 0) cache.Enqueue((h, type, size));
                            else mine.Add((h, type, size));
                        }
                        else
                        {
                            Interlocked.Increment(ref failed[(int)type]);
                        }
                    }
                    else if (op < 90 && mine.Count > 0)
                    {
                        int i = random.Next(mine.Count);
                        Assert.Equal(ResourceStatus.Ok, manager.Release(mine[i].Handle));
                        Interlocked.Increment(ref released[(int)mine[i].Type]);
                        mine.RemoveAt(i);
                    }
                    else if (op < 95 && cache.TryDequeue(out var item))
                    {
                        Assert.Equal(ResourceStatus.Ok, manager.Release(item.Handle));
                        Interlocked.Increment(ref released[(int)item.Type]);
                    }
                    else if (op < 97)
                    {
                        ResourceType type = types[random.Next(types.Length)];
                        long max = new long[] { 16 * 1024, 48 * 1024, 64 * 1024 }[random.Next(3)];
                        manager.SetBudget(type, new ResourceBudget(max, max / 8));
                    }
                    else if (op < 98)
                    {
                        allocator.FailAll = random.Next(4) == 0;
                    }
                }

                foreach (var m in mine)
                {
                    Assert.Equal(ResourceStatus.Ok, manager.Release(m.Handle));
                    Interlocked.Increment(ref released[(int)m.Type]);
                }
            },
            TaskCreationOptions.LongRunning);

        await Task.WhenAll(Worker(1), Worker(2), Worker(3)).WaitAsync(Patience);
        while (cache.TryDequeue(out var item))
        {
            Assert.Equal(ResourceStatus.Ok, manager.Release(item.Handle));
            Interlocked.Increment(ref released[(int)item.Type]);
        }

        foreach (IDisposable r in reclaimers) r.Dispose();
        allocator.FailAll = false;
        foreach (ResourceType t in types)
        {
            ResourceStats s = manager.GetStats(t);
            Assert.Equal(0, s.CurrentBytes);
            Assert.Equal(ok[(int)t], s.Acquisitions);
            Assert.Equal(released[(int)t], s.Releases);
            Assert.Equal(failed[(int)t], s.Failures);
            Assert.Equal(ResourcePressure.None, s.Pressure);
            Assert.Equal(s.Pressure, lastDelivered.GetValueOrDefault(t));
            Assert.True(ok[(int)t] > 50, $"{t}: {ok[(int)t]} ok, {failed[(int)t]} failed");
        }

        Assert.Equal(0, manager.LiveCount);
        Assert.True(manager.CreateLeakReport().IsEmpty);
        Assert.Equal(1, maxConcurrentDeliveries);
    }
}
