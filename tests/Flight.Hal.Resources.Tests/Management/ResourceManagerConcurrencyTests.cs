using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Management;

public class ResourceManagerConcurrencyTests
{
    [Fact]
    public async Task ManyThreads_MixedAcquireRelease_EndWithExactAccounting()
    {
        var allocator = new TrackingAllocator();
        using var manager = new ResourceManager(TestProfiles.Small(), new ResourceManagerOptions { Allocator = allocator });
        manager.SetBudget(ResourceType.Memory, new ResourceBudget(256 * 1024, 16 * 1024));
        long mainBefore = manager.GetRegionStats(RegionKind.Main).UsedBytes;
        ResourceOwner[] owners = [manager.GetOwner("A"), manager.GetOwner("B")];
        const int Threads = 4;
        const int Steps = 20_000;
        int corrupt = 0;

        Task[] workers = Enumerable.Range(0, Threads).Select(t => Task.Factory.StartNew(
            () =>
            {
                var random = new Random(1234 + t);
                var held = new List<(ResourceHandle Handle, byte Stamp, int Size)>();
                for (int step = 0; step < Steps; step++)
                {
                    if (held.Count > 0 && (held.Count > 24 || random.Next(2) == 0))
                    {
                        int i = random.Next(held.Count);
                        (ResourceHandle h, byte stamp, int size) = held[i];
                        Span<byte> bytes = manager.Resolve(h);
                        if (bytes.Length != size || bytes[0] != stamp || bytes[size - 1] != stamp)
                        {
                            Interlocked.Increment(ref corrupt);
                        }

                        held.RemoveAt(i);
                        Assert.Equal(ResourceStatus.Ok, manager.Release(h));
                        continue;
                    }

                    int kind = random.Next(4);
                    int sizeNeeded = kind switch { 0 => random.Next(1, 65), 1 => random.Next(65, 257), 2 => random.Next(300, 4000), _ => random.Next(1, 200) };
                    var md = new ResourceMetadata(
                        kind == 3 ? ResourceType.Hardware : ResourceType.Memory,
                        sizeNeeded,
                        flags: kind == 3 ? ResourceFlags.GpuAccessible : ResourceFlags.None);
                    ResourceStatus status = manager.TryAcquire(
                        md, out ResourceHandle handle, name: random.Next(8) == 0 ? "named" : null, owner: random.Next(8) == 0 ? owners[t % 2] : default);
                    if (status == ResourceStatus.Ok)
                    {
                        byte stamp = (byte)random.Next(1, 255);
                        manager.Resolve(handle).Fill(stamp);
                        held.Add((handle, stamp, sizeNeeded));
                    }
                    else
                    {
                        Assert.True(status is ResourceStatus.BudgetExceeded or ResourceStatus.RegionExhausted or ResourceStatus.Fragmented, status.ToString());
                    }
                }

                foreach ((ResourceHandle h, _, _) in held)
                {
                    Assert.Equal(ResourceStatus.Ok, manager.Release(h));
                }
            },
            TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(workers);

        Assert.Equal(0, corrupt);
        Assert.Equal(0, manager.LiveCount);
        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(0, manager.GetStats(ResourceType.Hardware).CurrentBytes);
        Assert.Equal(mainBefore + SlabBytes(manager), manager.GetRegionStats(RegionKind.Main).UsedBytes);
        Assert.Equal(0, manager.GetRegionStats(RegionKind.Video).UsedBytes);
        Assert.True(manager.CreateLeakReport().IsEmpty);
        ResourceStats stats = manager.GetStats(ResourceType.Memory);
        Assert.Equal(stats.Acquisitions, stats.Releases);
    }

    [Fact]
    public async Task RacingReleasesOfOneHandle_ExactlyOneSucceeds()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        for (int round = 0; round < 300; round++)
        {
            ResourceHandle pooled = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64));
            ResourceHandle registered = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64), name: "n");
            using var go = new ManualResetEventSlim();
            Task<ResourceStatus>[] racers = Enumerable.Range(0, 4).Select(i => Task.Run(() =>
            {
                go.Wait();
                return manager.Release(i % 2 == 0 ? pooled : registered);
            })).ToArray();
            go.Set();
            ResourceStatus[] results = await Task.WhenAll(racers);

            Assert.Equal(2, results.Count(s => s == ResourceStatus.Ok));
            Assert.Equal(2, results.Count(s => s == ResourceStatus.StaleHandle));
        }

        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
    }

    [Fact]
    public async Task ConcurrentShareAndRelease_FreesTheMemoryExactlyOnce()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceOwner[] owners = Enumerable.Range(0, 4).Select(i => manager.GetOwner($"Owner{i}")).ToArray();
        for (int round = 0; round < 200; round++)
        {
            ResourceHandle original = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 3000, flags: ResourceFlags.Shareable));
            ResourceHandle[] shares = owners.Select(o => manager.Share(original, o)).ToArray();
            await Task.WhenAll(shares.Select(h => Task.Run(() => Assert.Equal(ResourceStatus.Ok, manager.Release(h)))));
            Assert.Equal(3000, manager.GetStats(ResourceType.Memory).CurrentBytes);
            Assert.Equal(ResourceStatus.Ok, manager.Release(original));
            Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
        }

        Assert.Equal(0, manager.LiveCount);
    }

    [Fact]
    public async Task ManyBlockedAcquirers_AreAllServedAsMemoryComesBack()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        const long Ordinary = TestProfiles.MemoryBudget - TestProfiles.MemoryReserve;
        var held = Enumerable.Range(0, 8).Select(_ => manager.Acquire(new ResourceMetadata(ResourceType.Memory, Ordinary / 8))).ToList();

        Task<ResourceStatus>[] waiters = Enumerable.Range(0, 6).Select(_ => Task.Factory.StartNew(
            () =>
            {
                ResourceStatus s = manager.TryAcquire(new ResourceMetadata(ResourceType.Memory, Ordinary / 8), out ResourceHandle h, mode: AcquisitionMode.Blocking);
                if (s == ResourceStatus.Ok)
                {
                    Thread.Sleep(5);
                    manager.Release(h);
                }

                return s;
            },
            TaskCreationOptions.LongRunning)).ToArray();
        await Task.Delay(100);
        foreach (ResourceHandle h in held)
        {
            manager.Release(h);
            await Task.Delay(5);
        }

        ResourceStatus[] results = await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.All(results, s => Assert.Equal(ResourceStatus.Ok, s));
        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
    }

    /// <summary>Pool slabs are carved from main memory and stay after their blocks are returned (the generation arrays
    /// were carved at construction, before the first figure was taken).</summary>
    private static long SlabBytes(ResourceManager manager)
    {
        long bytes = 0;
        foreach (SlabPool pool in manager.Pools.Pools)
        {
            bytes += pool.GetStats().NativeBytes - ((long)pool.MaxCount * PoolStats.BookkeepingBytesPerBlock);
        }

        return bytes;
    }
}
