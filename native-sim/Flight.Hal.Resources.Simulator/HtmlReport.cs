using System.Globalization;
using System.Net;
using System.Text;

namespace Flight.Hal.Resources.Simulator;

/// <summary>A self-contained HTML page (no script, no external file) with the summary tables and inline SVG charts:
/// each type's usage over frames against its budget and pressure bands, with reclamations, emergencies and failures
/// marked; each region's use and fragmentation over frames.</summary>
/// <remarks>Every chart is a well-formed XML <c>&lt;svg&gt;</c>. A type's series is the <c>polyline</c> with
/// <c>class="series"</c> and <c>data-type</c> naming the type; a region's are <c>class="region"</c> and
/// <c>class="fragmentation"</c> with <c>data-region</c>.</remarks>
internal static class HtmlReport
{
    private const int Width = 860;
    private const int Height = 240;
    private const int Left = 70;
    private const int Right = 20;
    private const int Top = 16;
    private const int Bottom = 28;

    public static string Render(SimulationResult r)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
            .Append(Escape($"flight-sim: {r.Workload} on {r.Profile}"))
            .Append("</title><style>")
            .Append("body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 20px}")
            .Append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}")
            .Append("svg{display:block;margin:6px 0 22px;background:#fff;border:1px solid #ddd}.legend span{margin-right:16px}")
            .Append("</style></head><body>\n");
        html.Append("<h1>").Append(Escape($"{r.Workload} on {r.Profile}")).Append("</h1>\n<p>")
            .Append(Escape(Invariant($"{r.Frames} frames, {r.Acquisitions} acquisitions, {r.FailedAcquisitions} failed, {r.Evictions} cached resources evicted by reclamation, {r.LeakCount} never released; asset cache: {r.Cache.Hits} hits, {r.Cache.Misses} misses, {r.Cache.Loads} loads.")))
            .Append("</p>\n<pre>").Append(Escape(TextReport.Format(r))).Append("</pre>\n");
        html.Append("<p class=\"legend\"><span style=\"color:#2563eb\">&#9679; reclamation</span><span style=\"color:#ea580c\">&#9679; emergency</span>")
            .Append("<span style=\"color:#dc2626\">&#9679; failure</span><span>bands: low / medium / high / critical pressure; solid line: budget; dashed: ordinary limit (budget minus reserve); usage is sampled at the end of each frame, so a peak inside a frame (in the table) can exceed the line</span></p>\n");
        foreach (TypeSummary type in r.Types.Where(t => t.Stats.Acquisitions > 0 || t.Stats.Failures > 0))
        {
            html.Append("<h2>").Append(type.Type.ToString()).Append("</h2>\n").Append(TypeChart(r, type)).Append('\n');
        }

        html.Append("<h2>Regions</h2>\n").Append(RegionChart(r)).Append('\n');
        if (r.Events.Any(e => e.Kind != SimEventKind.Pressure))
        {
            html.Append("<h2>Events</h2>\n<table><tr><th>frame</th><th>kind</th><th>type</th><th>what</th></tr>\n");
            foreach (SimEvent e in r.Events.Where(e => e.Kind != SimEventKind.Pressure).Take(500))
            {
                html.Append(Invariant($"<tr><td>{e.Frame}</td><td>{e.Kind}</td><td>{e.Type}</td><td>")).Append(Escape(e.Detail)).Append("</td></tr>\n");
            }

            html.Append("</table>\n");
        }

        html.Append("</body></html>\n");
        return html.ToString();
    }

    /// <summary>One type's usage against its budget and pressure bands, with its events marked.</summary>
    public static string TypeChart(SimulationResult r, TypeSummary type)
    {
        ResourceBudget budget = type.Stats.Budget;
        bool unlimited = budget.MaxBytes == ResourceBudget.Unlimited.MaxBytes;
        long peak = Math.Max(1, type.Usage.DefaultIfEmpty(0).Max());
        double top = unlimited ? peak * 1.1 : Math.Max(budget.MaxBytes, peak) * 1.05;
        var svg = new StringBuilder();
        Open(svg, $"{type.Type} usage over {r.Frames} frames");
        if (!unlimited)
        {
            // Pressure bands, from the budget's own thresholds (one function: ResourceBudget.PressureAt).
            (double From, double To, string Color, string Name)[] bands =
            [
                (0.25, 0.50, "#f0fdf4", "low"),
                (0.50, budget.WarningPercent / 100.0, "#fefce8", "medium"),
                (budget.WarningPercent / 100.0, budget.CriticalPercent / 100.0, "#fff7ed", "high"),
                (budget.CriticalPercent / 100.0, top / budget.MaxBytes, "#fef2f2", "critical"),
            ];
            foreach ((double from, double to, string color, string name) in bands)
            {
                double y1 = Y(to * budget.MaxBytes, top);
                double y2 = Y(from * budget.MaxBytes, top);
                svg.Append(Invariant($"<rect class=\"band {name}\" x=\"{Left}\" y=\"{y1:0.0}\" width=\"{Width - Left - Right}\" height=\"{Math.Max(0, y2 - y1):0.0}\" fill=\"{color}\"/>"));
            }

            svg.Append(Invariant($"<line class=\"budget\" x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{Y(budget.MaxBytes, top):0.0}\" y2=\"{Y(budget.MaxBytes, top):0.0}\" stroke=\"#991b1b\"/>"));
            svg.Append(Invariant($"<line class=\"ordinary-limit\" x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{Y(budget.OrdinaryLimit, top):0.0}\" y2=\"{Y(budget.OrdinaryLimit, top):0.0}\" stroke=\"#991b1b\" stroke-dasharray=\"6 4\"/>"));
        }

        Axes(svg, r.Frames, top, bytes: true);
        svg.Append(Invariant($"<polyline class=\"series\" data-type=\"{type.Type}\" fill=\"none\" stroke=\"#111827\" stroke-width=\"1.5\" points=\""));
        AppendPoints(svg, type.Usage, r.Frames, v => Y(v, top));
        svg.Append("\"/>");
        foreach (SimEvent e in r.Events.Where(e => e.Type == type.Type && e.Kind != SimEventKind.Pressure))
        {
            string color = e.Kind switch { SimEventKind.Reclaim => "#2563eb", SimEventKind.Emergency => "#ea580c", _ => "#dc2626" };
            long at = e.Frame < type.Usage.Length ? type.Usage[e.Frame] : 0;
            svg.Append(Invariant($"<circle class=\"event {e.Kind.ToString().ToLowerInvariant()}\" cx=\"{X(e.Frame, r.Frames):0.0}\" cy=\"{Y(at, top):0.0}\" r=\"4\" fill=\"{color}\"><title>"))
                .Append(Escape(Invariant($"frame {e.Frame}: {e.Kind}: {e.Detail}"))).Append("</title></circle>");
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>Every region's use (% of capacity) and fragmentation over frames.</summary>
    public static string RegionChart(SimulationResult r)
    {
        string[] colors = ["#111827", "#7c3aed", "#0d9488", "#b45309"];
        var svg = new StringBuilder();
        Open(svg, "Regions: use (solid, % of capacity) and fragmentation (dashed, 0-1 as 0-100 %)");
        Axes(svg, r.Frames, 1.0, bytes: false);
        for (int i = 0; i < r.Regions.Count; i++)
        {
            RegionSummary g = r.Regions[i];
            string color = colors[i % colors.Length];
            svg.Append(Invariant($"<polyline class=\"region\" data-region=\"{Attribute(g.Name)}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\""));
            AppendPoints(svg, g.Used, r.Frames, v => Y((double)v / g.Capacity, 1.0));
            svg.Append("\"><title>").Append(Escape(g.Name)).Append(" use</title></polyline>");
            svg.Append(Invariant($"<polyline class=\"fragmentation\" data-region=\"{Attribute(g.Name)}\" fill=\"none\" stroke=\"{color}\" stroke-dasharray=\"5 3\" points=\""));
            AppendPoints(svg, g.Fragmentation, r.Frames, v => Y(v, 1.0));
            svg.Append("\"><title>").Append(Escape(g.Name)).Append(" fragmentation</title></polyline>");
            svg.Append(Invariant($"<text x=\"{Width - Right - 150}\" y=\"{Top + 14 + (i * 14)}\" font-size=\"11\" fill=\"{color}\">")).Append(Escape(g.Name)).Append("</text>");
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    private static void Open(StringBuilder svg, string label) =>
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\""))
            .Append(Attribute(label)).Append("\">");

    private static void Axes(StringBuilder svg, int frames, double top, bool bytes)
    {
        svg.Append(Invariant($"<line x1=\"{Left}\" y1=\"{Height - Bottom}\" x2=\"{Width - Right}\" y2=\"{Height - Bottom}\" stroke=\"#9ca3af\"/>"));
        svg.Append(Invariant($"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Height - Bottom}\" stroke=\"#9ca3af\"/>"));
        for (int i = 0; i <= 4; i++)
        {
            double value = top * i / 4;
            string label = bytes ? TextReport.Bytes((long)value) : Invariant($"{value * 100:0}%");
            svg.Append(Invariant($"<text x=\"{Left - 6}\" y=\"{Y(value, top) + 4:0.0}\" font-size=\"10\" text-anchor=\"end\" fill=\"#6b7280\">")).Append(Escape(label)).Append("</text>");
        }

        for (int i = 0; i <= 5; i++)
        {
            int frame = (int)((long)Math.Max(0, frames - 1) * i / 5);
            svg.Append(Invariant($"<text x=\"{X(frame, frames):0.0}\" y=\"{Height - 10}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#6b7280\">{frame}</text>"));
        }
    }

    /// <summary>At most ~2 points per horizontal pixel: long runs are thinned to each bucket's maximum.</summary>
    private static void AppendPoints<T>(StringBuilder svg, T[] values, int frames, Func<T, double> y)
        where T : IComparable<T>
    {
        int buckets = Math.Min(values.Length, (Width - Left - Right) * 2);
        for (int b = 0; b < buckets; b++)
        {
            int from = (int)((long)b * values.Length / buckets);
            int to = Math.Max(from + 1, (int)((long)(b + 1) * values.Length / buckets));
            T max = values[from];
            for (int i = from + 1; i < to; i++)
            {
                if (values[i].CompareTo(max) > 0)
                {
                    max = values[i];
                }
            }

            svg.Append(Invariant($"{X(from, frames):0.0},{y(max):0.0} "));
        }
    }

    private static double X(int frame, int frames) => Left + ((Width - Left - Right) * (frames <= 1 ? 0 : (double)frame / (frames - 1)));

    private static double Y(double value, double top) => Height - Bottom - ((Height - Top - Bottom) * Math.Clamp(value / top, 0, 1));

    private static string Escape(string text) => WebUtility.HtmlEncode(text);

    private static string Attribute(string text) => WebUtility.HtmlEncode(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
