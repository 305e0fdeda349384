using Flight.Hal.Resources;
using Flight.Hal.Resources.Simulator;

// flight-sim: replays a workload under a platform profile; prints a summary and writes an HTML/SVG report.
// Bad arguments and malformed traces print a clear message and exit 2; nothing else is expected to throw.
try
{
    SimulatorOptions options = SimulatorOptions.Parse(args);
    if (options.Help)
    {
        Console.WriteLine(SimulatorOptions.Usage);
        return 0;
    }

    PlatformProfile profile = PlatformProfile.Get(options.Profile);
    Workload workload = Workloads.TryCreate(options.Workload, options.Frames ?? Workloads.DefaultFrames, options.Seed, out Workload builtIn)
        ? builtIn
        : TraceParser.Load(options.Workload);
    int frames = options.Frames ?? workload.FrameCount;

    // Opened before the run, so an unwritable path fails at once (exit 2), not after the whole replay.
    using FileStream? snapshotFile = options.Snapshot == null ? null : new FileStream(options.Snapshot, FileMode.Create, FileAccess.Write);
    using FileStream? recordFile = options.Record == null ? null : new FileStream(options.Record, FileMode.Create, FileAccess.Write);
    Action<int, int>? progress = options.Quiet || frames < 1000
        ? null
        : (done, total) => Console.Error.WriteLine($"  frame {done}/{total} ({done * 100 / total}%)");

    SimulationResult result = Simulation.Run(
        profile, workload, frames, progress, snapshotAtPeak: snapshotFile != null, record: recordFile, defragPerFrame: options.Defrag);
    if (options.Defrag > 0)
    {
        result = result with { WithoutDefrag = Simulation.Run(profile, workload, frames) };
    }
    Console.Write(TextReport.Format(result));
    if (snapshotFile != null)
    {
        snapshotFile.Write(result.PeakSnapshot);
        Console.WriteLine();
        Console.WriteLine($"Snapshot (frame {result.PeakFrame}, the most bytes in use): {Path.GetFullPath(snapshotFile.Name)}");
    }

    if (recordFile != null)
    {
        Console.WriteLine();
        Console.WriteLine($"Recorded: {Path.GetFullPath(recordFile.Name)} (replay it with --workload)");
    }
    if (options.Report != null)
    {
        string path = Path.GetFullPath(options.Report);
        File.WriteAllText(path, HtmlReport.Render(result));
        Console.WriteLine();
        Console.WriteLine($"Report: {path}");
    }

    return 0;
}
catch (FormatException exception)
{
    Console.Error.WriteLine($"flight-sim: {exception.Message}");
    return 2;
}
catch (IOException exception)
{
    Console.Error.WriteLine($"flight-sim: {exception.Message}");
    return 2;
}
catch (UnauthorizedAccessException exception)
{
    Console.Error.WriteLine($"flight-sim: {exception.Message}");
    return 2;
}
