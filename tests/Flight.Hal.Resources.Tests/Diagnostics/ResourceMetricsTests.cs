using System.Diagnostics.Metrics;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Diagnostics;

/// <summary>The meter <c>Flight.Hal.Resources</c>, read by a <see cref="MeterListener"/> as dotnet-counters reads it:
/// every instrument reports a tracked manager's and cache's figures, and nothing once they are untracked or disposed.</summary>
public class ResourceMetricsTests
{
    /// <summary>Collects every observable instrument of the library's meter once; measurements by instrument, with tags.</summary>
    private static List<(string Instrument, double Value, Dictionary<string, string> Tags)> Collect()
    {
        var measurements = new List<(string, double, Dictionary<string, string>)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ResourceMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record<TValue>(Instrument instrument, TValue value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var dictionary = new Dictionary<string, string>();
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                dictionary[tag.Key] = tag.Value?.ToString() ?? "";
            }

            lock (measurements)
            {
                measurements.Add((instrument.Name, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture), dictionary));
            }
        }

        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();
        listener.RecordObservableInstruments();
        return measurements;
    }

    private static double Single(List<(string Instrument, double Value, Dictionary<string, string> Tags)> all, string instrument, string manager, string key, string value) =>
        all.Single(m => m.Instrument == instrument && m.Tags.GetValueOrDefault("manager") == manager && m.Tags.GetValueOrDefault(key) == value).Value;

    [Fact]
    public void EveryInstrument_ReportsATrackedManagersAndCachesFigures()
    {
        string name = "metrics-" + Guid.NewGuid().ToString("N");
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<string>(manager, new() { Name = name + "-cache" });
        using IDisposable trackManager = ResourceMetrics.Track(manager, name);
        using IDisposable trackCache = ResourceMetrics.Track(cache, name);
        ResourceHandle pooled = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64));
        ResourceHandle big = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 10_000));
        manager.TryAcquire(new ResourceMetadata(ResourceType.Memory, 60_000), out _); // refused: one failure
        cache.GetOrLoad("a", context =>
        {
            context.Acquire(new ResourceMetadata(ResourceType.Hardware, 2048));
            return "a";
        }).Dispose();
        cache.GetOrLoad("a", _ => "again").Dispose(); // a hit

        var all = Collect();

        ResourceStats memory = manager.GetStats(ResourceType.Memory);
        Assert.Equal(memory.CurrentBytes, Single(all, "flight.resources.type.current", name, "type", "Memory"));
        Assert.Equal(memory.PeakBytes, Single(all, "flight.resources.type.peak", name, "type", "Memory"));
        Assert.Equal(TestProfiles.MemoryBudget, Single(all, "flight.resources.type.budget", name, "type", "Memory"));
        Assert.Equal((double)memory.Pressure, Single(all, "flight.resources.type.pressure", name, "type", "Memory"));
        Assert.Equal(2, Single(all, "flight.resources.type.acquisitions", name, "type", "Memory"));
        Assert.Equal(1, Single(all, "flight.resources.type.failures", name, "type", "Memory"));
        Assert.Equal(1, all.Single(m => m.Instrument == "flight.resources.type.failures_by_status" && m.Tags.GetValueOrDefault("manager") == name).Value);
        Assert.Equal("BudgetExceeded", all.Single(m => m.Instrument == "flight.resources.type.failures_by_status" && m.Tags.GetValueOrDefault("manager") == name).Tags["status"]);
        Assert.Equal(0, Single(all, "flight.resources.type.releases", name, "type", "Memory"));
        Assert.Equal(0, Single(all, "flight.resources.type.emergency_overruns", name, "type", "Memory"));
        Assert.Equal(memory.Reclamations, Single(all, "flight.resources.type.reclamations", name, "type", "Memory"));
        Assert.Equal(2048, Single(all, "flight.resources.type.current", name, "type", "Hardware"));
        Assert.All(all.Where(m => m.Tags.GetValueOrDefault("manager") == name && m.Tags.ContainsKey("profile")), m => Assert.Equal("test-small", m.Tags["profile"]));

        Assert.Equal(2048, all.Single(m => m.Instrument == "flight.resources.owner.bytes" && m.Tags.GetValueOrDefault("manager") == name
            && m.Tags.GetValueOrDefault("owner") == cache.Owner.Name).Value); // the cache's owner holds the loaded texture

        RegionStats main = manager.GetRegionStats(RegionKind.Main);
        Assert.Equal(main.UsedBytes, Single(all, "flight.resources.region.used", name, "region", "main"));
        Assert.Equal(main.FreeBytes, Single(all, "flight.resources.region.free", name, "region", "main"));
        Assert.Equal(main.LargestFreeBlock, Single(all, "flight.resources.region.largest_free_block", name, "region", "main"));
        Assert.Equal(main.Fragmentation, Single(all, "flight.resources.region.fragmentation", name, "region", "main"));
        Assert.Equal(1, Single(all, "flight.resources.pool.used", name, "pool", "Memory/64"));
        Assert.Equal(16, Single(all, "flight.resources.pool.capacity", name, "pool", "Memory/64"));

        string cacheName = name + "-cache";
        double CacheFigure(string instrument) => all.Single(m => m.Instrument == instrument && m.Tags.GetValueOrDefault("cache") == cacheName).Value;
        Assert.Equal(1, CacheFigure("flight.resources.cache.entries"));
        Assert.Equal(2048, CacheFigure("flight.resources.cache.resident"));
        Assert.Equal(1, CacheFigure("flight.resources.cache.hits"));
        Assert.Equal(1, CacheFigure("flight.resources.cache.misses"));
        Assert.Equal(1, CacheFigure("flight.resources.cache.loads"));
        Assert.Equal(0, CacheFigure("flight.resources.cache.evictions"));

        manager.Release(pooled);
        manager.Release(big);
    }

    [Fact]
    public void UntrackedDisposedOrCollected_NothingIsReported()
    {
        string name = "metrics-" + Guid.NewGuid().ToString("N");
        var manager = new ResourceManager(TestProfiles.Small());
        IDisposable tracking = ResourceMetrics.Track(manager, name);
        Assert.Contains(Collect(), m => m.Tags.GetValueOrDefault("manager") == name);

        tracking.Dispose();
        tracking.Dispose();
        Assert.DoesNotContain(Collect(), m => m.Tags.GetValueOrDefault("manager") == name);

        ResourceMetrics.Track(manager, name);
        manager.Dispose();
        Assert.DoesNotContain(Collect(), m => m.Tags.GetValueOrDefault("manager") == name);
    }

    [Fact]
    public void Tracking_AddsNothingToTheHotPath_AndRefusesBadInput()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using IDisposable tracking = ResourceMetrics.Track(manager);
        var md = new ResourceMetadata(ResourceType.Memory, 64);

        Assert.Equal(0, Allocations.Measure(() => manager.Release(manager.Acquire(md))));
        Assert.Throws<ArgumentNullException>(() => ResourceMetrics.Track((ResourceManager)null!));
        Assert.Throws<ArgumentException>(() => ResourceMetrics.Track(manager, ""));
        Assert.Throws<ArgumentNullException>(() => ResourceMetrics.Track((ResourceCache<int>)null!));
        Assert.Equal(ResourceMetrics.MeterName, ResourceMetrics.Meter.Name);
    }

    [Fact]
    public async Task FailuresAreCountedByStatus_AndSumToTheTypesFailures()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        const long Ordinary = TestProfiles.MemoryBudget - TestProfiles.MemoryReserve;
        ResourceHandle all = manager.Acquire(new ResourceMetadata(ResourceType.Memory, Ordinary));
        manager.TryAcquire(new ResourceMetadata(ResourceType.Memory, 64), out _);                                     // BudgetExceeded
        manager.TryAcquire(new ResourceMetadata(ResourceType.Memory, 64), out _, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromMilliseconds(20)); // Timeout
        await Assert.ThrowsAsync<ResourceException>(() => manager.AcquireAsync(new ResourceMetadata(ResourceType.Memory, 64), timeout: TimeSpan.Zero).AsTask()); // Timeout
        manager.TryAcquire(new ResourceMetadata(ResourceType.Custom, 4L << 20), out _);                               // RegionExhausted

        Assert.Equal(1, manager.GetFailureCount(ResourceType.Memory, ResourceStatus.BudgetExceeded));
        Assert.Equal(2, manager.GetFailureCount(ResourceType.Memory, ResourceStatus.Timeout));
        Assert.Equal(1, manager.GetFailureCount(ResourceType.Custom, ResourceStatus.RegionExhausted));
        Assert.Equal(manager.GetStats(ResourceType.Memory).Failures,
            Enum.GetValues<ResourceStatus>().Sum(status => manager.GetFailureCount(ResourceType.Memory, status)));
        Assert.Equal(0, manager.GetFailureCount(ResourceType.Memory, ResourceStatus.Ok));
        Assert.Throws<ArgumentOutOfRangeException>(() => manager.GetFailureCount((ResourceType)99, ResourceStatus.Timeout));
        manager.Release(all);
    }
}
