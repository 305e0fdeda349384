namespace Flight.Hal.Resources.Tests.Diagnostics;

/// <summary>The memory-safety mode under concurrent use: no false finding and exact totals.</summary>
public class MemorySafetyConcurrencyTests
{
    /// <summary>Four threads acquiring (pooled sizes and region sizes, shared and not), writing their whole spans (pinned:
    /// a fifth thread defragments main memory meanwhile) and releasing, with the safety mode on: no finding, and exact
    /// totals. (Writing through a span that is not pinned while another thread defragments is a real corruption, and the
    /// mode reports it: an earlier version of this test did so.)</summary>
    [Fact]
    public async Task ConcurrentUse_WithTheSafetyMode_FindsNothing_AndKeepsExactTotals()
    {
        using var manager = new ResourceManager(PlatformProfile.Get("dreamcast"), new ResourceManagerOptions { MemorySafety = new MemorySafetyOptions() });
        ResourceOwner other = manager.GetOwner("other");
        long[] acquired = new long[4];
        Task[] workers = [.. Enumerable.Range(0, 4).Select(w => Task.Factory.StartNew(() =>
        {
            var random = new Random(w);
            for (int i = 0; i < 1500; i++)
            {
                long size = random.Next(3) == 0 ? random.Next(5000, 40_000) : random.Next(1, 400);
                ResourceFlags flags = random.Next(4) == 0 ? ResourceFlags.Shareable : ResourceFlags.None;
                ResourceHandle handle = manager.Acquire(new ResourceMetadata(ResourceType.Memory, size, flags: flags));
                using (manager.PinScoped(handle)) // another thread defragments: an address is only good while pinned
                {
                    manager.GetSpan(handle).Fill((byte)w);
                }

                Interlocked.Increment(ref acquired[w]);
                if (flags == ResourceFlags.Shareable)
                {
                    ResourceHandle shared = manager.Share(handle, other);
                    Assert.Equal(ResourceStatus.Ok, manager.Release(handle));
                    using (manager.PinScoped(shared))
                    {
                        Assert.True(manager.GetSpan(shared).IndexOfAnyExcept((byte)w) < 0, "the shared bytes are intact");
                    }

                    handle = shared;
                }

                Assert.Equal(ResourceStatus.Ok, manager.Release(handle));
            }
        }, TaskCreationOptions.LongRunning))];
        Task defragmenter = Task.Factory.StartNew(() =>
        {
            while (!workers.All(t => t.IsCompleted))
            {
                manager.Defragment(RegionKind.Main, 64 * 1024);
                Thread.Sleep(1);
            }
        }, TaskCreationOptions.LongRunning);
        await Task.WhenAll(workers);
        await defragmenter;

        Assert.Equal(ResourceStatus.Ok, manager.CheckCorruption(out CorruptionFinding[] findings));
        Assert.Empty(findings);
        Assert.Equal(0, manager.CorruptionFindings);
        ResourceStats stats = manager.GetStats(ResourceType.Memory);
        Assert.Equal(0, stats.CurrentBytes);
        Assert.Equal(4 * 1500, acquired.Sum());
        Assert.Equal(0, manager.LiveCount);
    }
}
