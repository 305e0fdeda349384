using System.Globalization;
using System.Text;

namespace Flight.Hal.Resources.Simulator;

/// <summary>The summary table the simulator prints.</summary>
internal static class TextReport
{
    public static string Format(SimulationResult r)
    {
        var text = new StringBuilder();
        Line(text, $"Profile {r.Profile}, workload {r.Workload}, {r.Frames} frames: {r.Acquisitions} acquisitions, {r.FailedAcquisitions} failed, {r.Evictions} cached resources evicted, {r.LeakCount} never released");
        Line(text, $"Asset cache: {r.Cache.Hits} hits, {r.Cache.Misses} misses, {r.Cache.Loads} loads, {r.Cache.Reclaimed} evicted for room, {r.Cache.UnloadedUnused} unloaded when released");
        if (r.WithoutDefrag is SimulationResult before)
        {
            Line(text, $"Defragmentation ({Bytes(r.DefragPerFrame)} per region per frame): Fragmented refusals {before.FragmentedFailures} without -> {r.FragmentedFailures} with; failed acquisitions {before.FailedAcquisitions} -> {r.FailedAcquisitions}; {Bytes(r.DefragBytesMoved)} moved in {r.DefragMoves} moves");
        }
        text.AppendLine();
        Line(text, $"{"type",-13} {"peak",12} {"budget",12} {"peak %",7} {"failures",9} {"reserve",8} {"overruns",9} {"reclaims",9} {"pressure",9}");
        foreach (TypeSummary t in r.Types.Where(t => t.Stats.Acquisitions > 0 || t.Stats.Failures > 0))
        {
            ResourceBudget b = t.Stats.Budget;
            bool unlimited = b.MaxBytes == ResourceBudget.Unlimited.MaxBytes;
            string peakPercent = unlimited ? "-" : Percent((double)t.Stats.PeakBytes / b.MaxBytes);
            Line(text, $"{t.Type,-13} {Bytes(t.Stats.PeakBytes),12} {(unlimited ? "unlimited" : Bytes(b.MaxBytes)),12} {peakPercent,7} {t.Stats.Failures,9} {t.Stats.ReserveAcquisitions,8} {t.Stats.EmergencyOverruns,9} {t.Stats.Reclamations,9} {MaxPressure(r, t.Type),9}");
        }

        text.AppendLine();
        Line(text, $"{"region",-13} {"peak",12} {"capacity",12} {"peak %",7} {"max frag",9} {"failures",9}");
        foreach (RegionSummary g in r.Regions)
        {
            Line(text, $"{g.Name,-13} {Bytes(g.PeakUsed),12} {Bytes(g.Capacity),12} {Percent((double)g.PeakUsed / g.Capacity),7} {g.MaxFragmentation.ToString("0.000", CultureInfo.InvariantCulture),9} {g.Failures,9}");
        }

        text.AppendLine();
        // Efficiency: peak-used blocks over carved blocks, how much of what the pool took from memory was ever used.
        Line(text, $"{"pool",-20} {"peak used",10} {"carved",8} {"capacity",9} {"efficiency",11}");
        foreach (PoolStats p in r.Pools)
        {
            string efficiency = p.TotalBlocks == 0 ? "-" : Percent((double)p.PeakUsedBlocks / p.TotalBlocks);
            Line(text, $"{$"{p.Type}/{p.BlockSize}",-20} {p.PeakUsedBlocks,10} {p.TotalBlocks,8} {p.CapacityBlocks,9} {efficiency,11}");
        }

        return text.ToString();
    }

    /// <summary>A fraction as a percentage with one decimal.</summary>
    public static string Percent(double fraction) => (fraction * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.00", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.00", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };

    /// <summary>The highest pressure level <paramref name="type"/> reached during the run.</summary>
    public static ResourcePressure MaxPressure(SimulationResult r, ResourceType type) =>
        r.Events.Where(e => e.Kind == SimEventKind.Pressure && e.Type == type).Select(e => e.Pressure).DefaultIfEmpty(ResourcePressure.None).Max();

    private static void Line(StringBuilder text, FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));
}
