using System.Diagnostics;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Flight.Hal.Resources.Simulator;

namespace Flight.Hal.Resources.Tests.Simulator;

public partial class SimulationTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void GameOnDreamcast_FitsThroughReclamationAndOneEmergency()
    {
        SimulationResult result = Simulation.Run(PlatformProfile.Get("dreamcast"), Workloads.Game(300), 300);

        ResourceStats memory = result.Types[(int)ResourceType.Memory].Stats;
        Assert.Equal(0, result.FailedAcquisitions);
        Assert.True(memory.Reclamations > 0);
        Assert.True(result.Evictions > 0);
        Assert.Equal(result.Evictions, result.Cache.Reclaimed);    // streamed sectors go through the ResourceCache
        Assert.True(result.Cache.Hits > 0);                        // looking back finds a sector still resident
        Assert.Equal(result.Cache.Loads, result.Cache.Misses);
        Assert.Equal(1, memory.ReserveAcquisitions);
        Assert.Equal(0, memory.EmergencyOverruns);
        Assert.Equal(0, result.LeakCount);
        Assert.Contains(result.Events, e => e.Kind == SimEventKind.Emergency && e.Detail.Contains("from the reserve", StringComparison.Ordinal));
        Assert.Equal(300, result.Types[0].Usage.Length);
        Assert.True(result.Regions.Single(r => r.Kind == RegionKind.Video).PeakUsed > 0);
    }

    [Fact]
    public void DefragmentingEachFrame_CutsTheFragmentedRefusals_OnNdsVideoRam()
    {
        PlatformProfile nds = PlatformProfile.Get("nds");
        SimulationResult without = Simulation.Run(nds, Workloads.Stress(600, seed: 1), 600);
        SimulationResult with = Simulation.Run(nds, Workloads.Stress(600, seed: 1), 600, defragPerFrame: 64 * 1024);

        Assert.True(without.FragmentedFailures > 10, $"the stress workload fragments nds video RAM ({without.FragmentedFailures})");
        Assert.True(with.FragmentedFailures < without.FragmentedFailures / 2, $"{without.FragmentedFailures} -> {with.FragmentedFailures}");
        Assert.True(with.DefragBytesMoved > 0 && with.DefragMoves > 0);
        Assert.Equal(0, without.DefragBytesMoved);
        string text = TextReport.Format(with with { WithoutDefrag = without });
        Assert.Contains($"Fragmented refusals {without.FragmentedFailures} without -> {with.FragmentedFailures} with", text, StringComparison.Ordinal);
    }

    [Fact]
    public void TheVramWorkload_FragmentsDreamcastVideoRam_AndDefragmentingCuresIt()
    {
        PlatformProfile dreamcast = PlatformProfile.Get("dreamcast");
        SimulationResult without = Simulation.Run(dreamcast, Workloads.Vram(600, seed: 1), 600);
        SimulationResult with = Simulation.Run(dreamcast, Workloads.Vram(600, seed: 1), 600, defragPerFrame: 2 << 20);

        Assert.True(without.FragmentedFailures > 20, $"video RAM fragments ({without.FragmentedFailures} Fragmented refusals)");
        Assert.Equal(without.FailedAcquisitions, without.FragmentedFailures); // every failure is fragmentation, not room
        Assert.True(with.FragmentedFailures <= 5, $"{without.FragmentedFailures} -> {with.FragmentedFailures}");
    }

    [Fact]
    public void SnapshotAtPeak_IsTakenAtTheFrameWithTheMostBytesInUse()
    {
        SimulationResult result = Simulation.Run(PlatformProfile.Get("dreamcast"), Workloads.Game(300), 300, snapshotAtPeak: true);

        long[] totals = [.. Enumerable.Range(0, 300).Select(f => result.Types.Sum(t => t.Usage[f]))];
        int peakFrame = Array.IndexOf(totals, totals.Max());
        Assert.Equal(peakFrame, result.PeakFrame);
        ResourceSnapshot snapshot = ResourceSnapshot.FromJson(System.Text.Encoding.UTF8.GetString(result.PeakSnapshot!));
        Assert.Equal("dreamcast", snapshot.Profile);
        Assert.Equal(totals.Max(), snapshot.Types.Sum(t => t.CurrentBytes));
        Assert.Equal("assets", Assert.Single(snapshot.Caches).Name);
        Assert.NotEmpty(snapshot.LargestResources);
        Assert.Null(Simulation.Run(PlatformProfile.Get("dreamcast"), Workloads.Game(30), 30).PeakSnapshot);
    }

    [Fact]
    public void Replay_CountsFailures_SkipsReleasesOfWhatFailedOrWasEvicted_AndReportsLeaks()
    {
        const string Csv = """
            frame,op,id,type,size,flags
            0,acquire,cache1,Memory,6000000,Cacheable
            1,acquire,big,Memory,5000000,
            2,acquire,huge,Memory,900000000,
            3,release,huge,,,
            3,release,cache1,,,
            4,acquire,forgotten,Hardware,4096,GpuAccessible
            """;
        Workload workload = TraceParser.ParseCsv(Csv, "replay", "replay.csv");

        SimulationResult result = Simulation.Run(PlatformProfile.Get("dreamcast"), workload, workload.FrameCount);

        Assert.Equal(4, result.Acquisitions);
        Assert.Equal(1, result.FailedAcquisitions);                 // huge: larger than the budget
        Assert.Equal(1, result.Evictions);                          // cache1 made room for big
        Assert.Equal((0L, 1L), (result.Cache.Hits, result.Cache.Loads));
        Assert.Equal(2, result.LeakCount);                          // big and forgotten were never released
        Assert.Contains(result.Events, e => e.Kind == SimEventKind.Failure && e.Detail.Contains("BudgetExceeded", StringComparison.Ordinal));
        Assert.Contains(result.Events, e => e.Kind == SimEventKind.Reclaim && e.Frame == 1);
    }

    [Fact]
    public void CacheableResources_AreCacheEntries_AHitWhileResident_AReloadAfterRelease()
    {
        const string Csv = """
            frame,op,id,type,size,flags
            0,acquire,mesh,Memory,4096,Cacheable
            1,acquire,mesh,Memory,4096,Cacheable
            2,release,mesh,,,
            3,acquire,mesh,Memory,4096,Cacheable
            4,release,mesh,,,
            """;
        Workload workload = TraceParser.ParseCsv(Csv, "cache", "cache.csv");

        SimulationResult result = Simulation.Run(PlatformProfile.Get("dreamcast"), workload, workload.FrameCount);

        Assert.Equal((1L, 2L, 2L, 2L), (result.Cache.Hits, result.Cache.Misses, result.Cache.Loads, result.Cache.UnloadedUnused));
        Assert.Equal(0, result.LeakCount);
        Assert.Equal(0, result.Types[(int)ResourceType.Memory].Stats.CurrentBytes);
    }

    [Fact]
    public void Report_IsWellFormedSvg_WithOneSeriesPerUsedType_AndOnePerRegion()
    {
        SimulationResult result = Simulation.Run(PlatformProfile.Get("dreamcast"), Workloads.Game(120), 120);

        string html = HtmlReport.Render(result);

        string[] charts = [.. SvgBlock().Matches(html).Select(m => m.Value)];
        Assert.Equal(3, charts.Length); // Memory, Hardware, regions
        List<XElement> polylines = [.. charts.SelectMany(c => XDocument.Parse(c).Descendants(Svg + "polyline"))];
        string[] seriesTypes = [.. polylines.Where(p => (string?)p.Attribute("class") == "series").Select(p => (string?)p.Attribute("data-type") ?? "")];
        Assert.Equal(["Memory", "Hardware"], seriesTypes);
        Assert.Equal(3, polylines.Count(p => (string?)p.Attribute("class") == "region"));
        Assert.Equal(3, polylines.Count(p => (string?)p.Attribute("class") == "fragmentation"));
        Assert.All(polylines, p => Assert.Equal(120, ((string)p.Attribute("points")!).Split(' ', StringSplitOptions.RemoveEmptyEntries).Length));
        Assert.NotEmpty(XDocument.Parse(charts[0]).Descendants(Svg + "circle")); // Memory's reclamations are marked
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void LongRuns_AreThinned_ToAFewPointsPerPixel()
    {
        SimulationResult result = Simulation.Run(PlatformProfile.Get("desktop"), Workloads.Stress(5000, seed: 3), 5000);

        string chart = HtmlReport.TypeChart(result, result.Types[(int)ResourceType.Memory]);

        XElement series = XDocument.Parse(chart).Descendants(Svg + "polyline").Single();
        int points = ((string)series.Attribute("points")!).Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        Assert.InRange(points, 1000, 2000);
    }

    [Fact]
    public void TextReport_HasTheSummaryTables()
    {
        SimulationResult result = Simulation.Run(PlatformProfile.Get("dreamcast"), Workloads.Game(60), 60);

        string text = TextReport.Format(result);

        Assert.Contains("Profile dreamcast, workload game, 60 frames", text, StringComparison.Ordinal);
        Assert.Matches(@"Memory\s+[\d.]+ MiB\s+9\.60 MiB", text);
        Assert.Contains("video", text, StringComparison.Ordinal);
        Assert.Contains("Memory/64", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--profile", "amiga" }, "flight-sim: Unknown profile 'amiga'")]
    [InlineData(new[] { "--workload", "no-such-trace.csv", "--report", "none" }, "flight-sim: No built-in workload or trace file is called 'no-such-trace.csv'")]
    [InlineData(new[] { "--frames", "-1" }, "flight-sim: --frames must be a whole number")]
    public async Task BadInvocations_ExitWithTwo_AndAMessage_NeverAStackTrace(string[] args, string message)
    {
        (int exitCode, string output, string error) = await RunCli(args);

        Assert.Equal(2, exitCode);
        Assert.StartsWith(message, error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.Empty(output);
    }

    [Fact]
    public async Task TheDefaultRun_PrintsTheSummary_AndWritesTheReport()
    {
        string report = Path.Combine(Path.GetTempPath(), $"flight-sim-{Guid.NewGuid():N}.html");
        try
        {
            (int exitCode, string output, _) = await RunCli(["--frames", "90", "--report", report]);

            Assert.Equal(0, exitCode);
            Assert.Contains("Profile dreamcast, workload game, 90 frames", output, StringComparison.Ordinal);
            Assert.Contains($"Report: {report}", output, StringComparison.Ordinal);
            Assert.Contains("<svg", await File.ReadAllTextAsync(report), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(report);
        }
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunCli(string[] args)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "flight-sim.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(cli);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (process.ExitCode, await output, await error);
    }

    [GeneratedRegex("<svg.*?</svg>", RegexOptions.Singleline)]
    private static partial Regex SvgBlock();
}
