using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;

// fhr-counters: prints the meter Flight.Hal.Resources of a running .NET process, read the way dotnet-counters reads it:
// an EventPipe session on the runtime's System.Diagnostics.Metrics provider, asking for one meter and a refresh interval;
// the process publishes every instrument's value each interval. Usage: fhr-counters <pid> [intervals] [seconds-per-interval]
// "fhr-counters demo" runs a small frame loop on the dreamcast profile, tracked, for a reader to attach to.
if (args is ["demo", ..])
{
    return Demo.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 60);
}

if (args.Length < 1 || !int.TryParse(args[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int pid))
{
    Console.Error.WriteLine("usage: fhr-counters <pid> [intervals (default 2)] [seconds per interval (default 1)]");
    return 2;
}

int intervals = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2;
int seconds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1;
string sessionId = Guid.NewGuid().ToString();
var provider = new EventPipeProvider(
    "System.Diagnostics.Metrics",
    EventLevel.Informational,
    keywords: 0x2, // values published each interval
    arguments: new Dictionary<string, string>
    {
        ["SessionId"] = sessionId,
        ["Metrics"] = "Flight.Hal.Resources",
        ["RefreshInterval"] = seconds.ToString(CultureInfo.InvariantCulture),
        ["MaxTimeSeries"] = "1000",
        ["MaxHistograms"] = "10",
    });

EventPipeSession session;
try
{
    session = new DiagnosticsClient(pid).StartEventPipeSession([provider], requestRundown: false);
}
catch (ServerNotAvailableException exception)
{
    Console.Error.WriteLine($"fhr-counters: cannot reach process {pid}: {exception.Message}");
    return 1;
}

using EventPipeSession owned = session;
using var source = new EventPipeEventSource(session.EventStream);
var latest = new SortedDictionary<string, string>(StringComparer.Ordinal);
int published = 0;
source.Dynamic.All += e =>
{

    if (e.ProviderName != "System.Diagnostics.Metrics" || (string?)e.PayloadByName("sessionId") != sessionId)
    {
        return;
    }

    string? value = e.EventName switch
    {
        "GaugeValuePublished" => Format(e.PayloadByName("lastValue")),
        "CounterRateValuePublished" or "UpDownCounterRateValuePublished" =>
            $"{Format(e.PayloadByName("value"))} (+{Format(e.PayloadByName("rate"))} / {seconds} s)",
        _ => null,
    };
    if (e.EventName is "CollectionStop" or "Collection/Stop" && ++published >= intervals)
    {
        session.Stop();
    }

    if (value != null)
    {
        string tags = (string?)e.PayloadByName("tags") ?? string.Empty;
        latest[$"{e.PayloadByName("instrumentName")} ({e.PayloadByName("unit")}) [{tags.Replace(',', ';')}]"] = value;
    }
};

source.Process();
Console.WriteLine($"fhr-counters: process {pid}, the values of the last of {published} collections");
Console.WriteLine("[Flight.Hal.Resources]");
foreach ((string name, string value) in latest)
{
    Console.WriteLine($"    {name,-100} {value}");
}

return 0;

static string Format(object? value) => value switch
{
    string text when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) =>
        number.ToString("#,0.###", CultureInfo.InvariantCulture),
    null => "",
    _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
};
