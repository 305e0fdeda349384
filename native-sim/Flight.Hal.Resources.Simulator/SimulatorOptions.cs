using System.Globalization;

namespace Flight.Hal.Resources.Simulator;

/// <summary>The command line, parsed: which profile, which workload, how many frames, where the report goes.</summary>
internal sealed record SimulatorOptions
{
    public const string DefaultProfile = "dreamcast";
    public const string DefaultWorkload = "game";
    public const string DefaultReport = "report.html";

    public string Profile { get; init; } = DefaultProfile;

    /// <summary>A built-in workload's name, or a trace file's path (.json or .csv).</summary>
    public string Workload { get; init; } = DefaultWorkload;

    /// <summary>Frames to run; null: the workload's own length (built-ins: 600).</summary>
    public int? Frames { get; init; }

    /// <summary>The HTML report's path, or null for none.</summary>
    public string? Report { get; init; } = DefaultReport;

    /// <summary>Seed of the built-in workloads' random choices.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Bytes each region may move per frame to defragment (0: none); the run is then made twice, without and with.</summary>
    public long Defrag { get; init; }

    /// <summary>Where to record the run as a trace that <c>--workload</c> replays, or null for none.</summary>
    public string? Record { get; init; }

    /// <summary>Where to write the manager's JSON snapshot at the peak frame, or null for none.</summary>
    public string? Snapshot { get; init; }

    public bool Quiet { get; init; }

    public bool Help { get; init; }

    public static string Usage =>
        """
        flight-sim: replays a game's resource plan under a platform profile and reports whether it fits.

        Usage: flight-sim [--profile NAME] [--workload NAME|FILE] [--frames N] [--report FILE|none] [--seed N] [--snapshot FILE] [--record FILE] [--defrag BYTES] [--quiet]

          --profile   dreamcast (default), desktop, web, psp, ps2, nds, n64, n64-expansion
          --workload  a built-in workload (game: the default, levels on a console; stress: random churn and
                      fragmentation; vram: video RAM kept nearly full, large render targets) or a trace file: .json or .csv of acquire/release/share events per frame
                      (format: native-sim/README.md)
          --frames    frames to run (default: the workload's length; built-ins run 600)
          --report    the self-contained HTML report to write (default report.html; "none" for no report)
          --seed      seed of the built-in workloads' random choices (default 1)
          --snapshot  write the manager's JSON snapshot (README "Diagnostics") taken at the end of the frame with
                      the most bytes in use
          --defrag    defragment every region by up to BYTES per frame (ResourceManager.Defragment) and report the
                      Fragmented refusals without and with it (the workload runs twice)
          --record    record the run (every acquire, release and share, frame by frame) as a JSON trace that
                      --workload replays, e.g. under another profile
          --quiet     no progress lines
        """;

    /// <summary>Parses <paramref name="args"/>.</summary>
    /// <exception cref="FormatException">An argument is unknown, missing its value, or out of range; the message says which.</exception>
    public static SimulatorOptions Parse(IReadOnlyList<string> args)
    {
        var options = new SimulatorOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            switch (arg)
            {
                case "--help" or "-h" or "-?":
                    options = options with { Help = true };
                    break;
                case "--quiet" or "-q":
                    options = options with { Quiet = true };
                    break;
                case "--profile":
                    string profile = Value(args, ref i, arg);
                    if (!PlatformProfile.TryGet(profile, out _))
                    {
                        throw new FormatException($"Unknown profile '{profile}'. Known: {string.Join(", ", PlatformProfile.KnownNames)}.");
                    }

                    options = options with { Profile = profile };
                    break;
                case "--workload":
                    options = options with { Workload = Value(args, ref i, arg) };
                    break;
                case "--frames":
                    options = options with { Frames = Number(Value(args, ref i, arg), arg, 1, 10_000_000) };
                    break;
                case "--report":
                    string report = Value(args, ref i, arg);
                    options = options with { Report = report.Equals("none", StringComparison.OrdinalIgnoreCase) ? null : report };
                    break;
                case "--defrag":
                    string defrag = Value(args, ref i, arg);
                    options = options with
                    {
                        Defrag = long.TryParse(defrag, NumberStyles.Integer, CultureInfo.InvariantCulture, out long bytes) && bytes > 0
                            ? bytes
                            : throw new FormatException($"--defrag must be a whole number of bytes > 0, not '{defrag}'."),
                    };
                    break;
                case "--record":
                    options = options with { Record = Value(args, ref i, arg) };
                    break;
                case "--snapshot":
                    options = options with { Snapshot = Value(args, ref i, arg) };
                    break;
                case "--seed":
                    options = options with { Seed = Number(Value(args, ref i, arg), arg, int.MinValue, int.MaxValue) };
                    break;
                default:
                    throw new FormatException($"Unknown argument '{arg}'. Run with --help for the usage.");
            }
        }

        return options;
    }

    private static string Value(IReadOnlyList<string> args, ref int i, string name)
    {
        if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
        {
            throw new FormatException($"{name} needs a value.");
        }

        return args[++i];
    }

    private static int Number(string text, string name, int min, int max)
    {
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
        {
            throw new FormatException($"{name} must be a whole number from {min} to {max}, not '{text}'.");
        }

        return value;
    }
}
