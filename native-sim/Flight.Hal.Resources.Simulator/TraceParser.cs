using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace Flight.Hal.Resources.Simulator;

/// <summary>Reads a trace file (JSON or CSV; format in native-sim/README.md) into a <see cref="Workload"/>, checking it
/// completely: every malformed value, and every release or share of a resource that is not alive at that point, is a
/// <see cref="FormatException"/> naming the file, the line (or event index) and the problem.</summary>
internal static class TraceParser
{
    private static readonly string[] CsvColumns = ["frame", "op", "id", "type", "size", "alignment", "flags", "mode", "owner", "target"];

    public static Workload Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FormatException($"No built-in workload or trace file is called '{path}'. Built-in: {string.Join(", ", Workloads.Names)}.");
        }

        string text = File.ReadAllText(path);
        string name = Path.GetFileNameWithoutExtension(path);
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".json" => ParseJson(text, name, Path.GetFileName(path)),
            ".csv" => ParseCsv(text, name, Path.GetFileName(path)),
            _ => throw new FormatException($"'{path}': a trace is a .json or a .csv file."),
        };
    }

    public static Workload ParseJson(string text, string name, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException exception)
        {
            throw new FormatException($"{source}: not valid JSON (line {exception.LineNumber + 1}): {exception.Message}");
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("events", out JsonElement events) || events.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException($"{source}: expected an object with an \"events\" array.");
            }

            if (root.TryGetProperty("name", out JsonElement named) && named.ValueKind == JsonValueKind.String)
            {
                name = named.GetString() ?? name;
            }

            var rows = new List<TraceEvent>();
            int index = 0;
            foreach (JsonElement e in events.EnumerateArray())
            {
                string where = $"{source}: event {index}";
                if (e.ValueKind != JsonValueKind.Object)
                {
                    throw new FormatException($"{where}: expected an object.");
                }

                rows.Add(Build(
                    where,
                    index,
                    Field(e, "frame", where),
                    Field(e, "op", where),
                    Field(e, "id", where),
                    Field(e, "type", where),
                    Field(e, "size", where),
                    Field(e, "alignment", where),
                    Field(e, "flags", where),
                    Field(e, "mode", where),
                    Field(e, "owner", where),
                    Field(e, "target", where)));
                index++;
            }

            return Check(rows, name, source);
        }
    }

    public static Workload ParseCsv(string text, string name, string source)
    {
        string[] lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        int[]? map = null;
        var rows = new List<TraceEvent>();
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            string[] cells = line.Split(',');
            string where = $"{source} line {n + 1}";
            if (map == null)
            {
                map = new int[CsvColumns.Length];
                for (int c = 0; c < CsvColumns.Length; c++)
                {
                    map[c] = Array.FindIndex(cells, h => h.Trim().Equals(CsvColumns[c], StringComparison.OrdinalIgnoreCase));
                }

                if (map[0] < 0 || map[1] < 0 || map[2] < 0)
                {
                    throw new FormatException($"{where}: the header must name at least the columns frame, op and id (known: {string.Join(",", CsvColumns)}).");
                }

                continue;
            }

            string? Cell(int column) => map[column] >= 0 && map[column] < cells.Length && cells[map[column]].Trim().Length > 0 ? cells[map[column]].Trim() : null;
            rows.Add(Build(where, n + 1, Cell(0), Cell(1), Cell(2), Cell(3), Cell(4), Cell(5), Cell(6), Cell(7), Cell(8), Cell(9)));
        }

        if (map == null)
        {
            throw new FormatException($"{source}: empty; expected a header line (frame,op,id,type,size,...) and events.");
        }

        return Check(rows, name, source);
    }

    private static string? Field(JsonElement e, string property, string where)
    {
        if (!e.TryGetProperty(property, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.Array => string.Join('|', value.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString() : x.GetRawText())),
            _ => throw new FormatException($"{where}: \"{property}\" must be a string or a number."),
        };
    }

    private static TraceEvent Build(
        string where, int line, string? frame, string? op, string? id, string? type, string? size, string? alignment, string? flags, string? mode, string? owner, string? target)
    {
        int frameNumber = frame != null && int.TryParse(frame, NumberStyles.Integer, CultureInfo.InvariantCulture, out int f) && f >= 0
            ? f
            : throw new FormatException($"{where}: frame must be a whole number >= 0, not '{frame}'.");
        TraceOp traceOp = op?.ToLowerInvariant() switch
        {
            "acquire" => TraceOp.Acquire,
            "release" => TraceOp.Release,
            "share" => TraceOp.Share,
            _ => throw new FormatException($"{where}: op must be acquire, release or share, not '{op}'."),
        };
        if (string.IsNullOrWhiteSpace(id))
        {
            throw new FormatException($"{where}: id is missing.");
        }

        if (traceOp == TraceOp.Share)
        {
            if (string.IsNullOrWhiteSpace(target) || string.IsNullOrWhiteSpace(owner))
            {
                throw new FormatException($"{where}: share needs a target (the new handle's id) and an owner.");
            }

            return new TraceEvent(frameNumber, traceOp, id, Owner: owner, Target: target, Line: line);
        }

        if (traceOp == TraceOp.Release)
        {
            return new TraceEvent(frameNumber, traceOp, id, Line: line);
        }

        ResourceType resourceType = type == null ? ResourceType.Memory
            : Enum.TryParse(type, ignoreCase: true, out ResourceType t) && Enum.IsDefined(t) && !int.TryParse(type, out _) ? t
            : throw new FormatException($"{where}: unknown type '{type}' (Memory, Hardware, Performance, Communication, Platform, Custom).");
        long bytes = size != null && long.TryParse(size, NumberStyles.Integer, CultureInfo.InvariantCulture, out long s) && s > 0
            ? s
            : throw new FormatException($"{where}: size must be a whole number of bytes > 0, not '{size}'.");
        int align = alignment == null ? 0
            : int.TryParse(alignment, NumberStyles.Integer, CultureInfo.InvariantCulture, out int a) && a >= 0 && (a == 0 || BitOperations.IsPow2(a)) && a <= ResourceMetadata.MaxAlignment ? a
            : throw new FormatException($"{where}: alignment must be 0 or a power of two up to {ResourceMetadata.MaxAlignment}, not '{alignment}'.");
        ResourceFlags resourceFlags = ResourceFlags.None;
        foreach (string part in (flags ?? string.Empty).Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            resourceFlags |= Enum.TryParse(part, ignoreCase: true, out ResourceFlags one) && !int.TryParse(part, out _) && Enum.IsDefined(one)
                ? one
                : throw new FormatException($"{where}: unknown flag '{part}'.");
        }

        AcquisitionMode acquisitionMode = mode == null ? AcquisitionMode.NonBlocking
            : Enum.TryParse(mode, ignoreCase: true, out AcquisitionMode m) && Enum.IsDefined(m) && !int.TryParse(mode, out _) ? m
            : throw new FormatException($"{where}: unknown mode '{mode}' (NonBlocking, Blocking, Timeout, Emergency).");
        try
        {
            _ = new ResourceMetadata(resourceType, bytes, align, resourceFlags);
        }
        catch (ArgumentException exception)
        {
            throw new FormatException($"{where}: {exception.Message}");
        }

        return new TraceEvent(frameNumber, traceOp, id, resourceType, bytes, align, resourceFlags, acquisitionMode, owner, Line: line);
    }

    /// <summary>Frames in order; every release and share refers to a resource alive at that point; no id acquired twice while
    /// alive, unless both acquisitions are Cacheable (the second is a request to the asset cache).</summary>
    private static Workload Check(List<TraceEvent> rows, string name, string source)
    {
        if (rows.Count == 0)
        {
            throw new FormatException($"{source}: no events.");
        }

        var alive = new HashSet<string>(StringComparer.Ordinal);
        var cached = new HashSet<string>(StringComparer.Ordinal); // alive ids acquired Cacheable: asking again is a cache request
        int lastFrame = 0;
        foreach (TraceEvent e in rows)
        {
            string where = $"{source} ({(source.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? "line" : "event")} {e.Line})";
            if (e.Frame < lastFrame)
            {
                throw new FormatException($"{where}: frame {e.Frame} comes after frame {lastFrame}; events must be in frame order.");
            }

            lastFrame = e.Frame;
            switch (e.Op)
            {
                case TraceOp.Acquire when (e.Flags & ResourceFlags.Cacheable) != 0 && cached.Contains(e.Id):
                    break; // asked for again while cached: a hit
                case TraceOp.Acquire when !alive.Add(e.Id):
                    throw new FormatException($"{where}: '{e.Id}' is acquired again while still alive (only a Cacheable resource may be asked for again).");
                case TraceOp.Acquire when (e.Flags & ResourceFlags.Cacheable) != 0:
                    cached.Add(e.Id);
                    break;
                case TraceOp.Release when !alive.Remove(e.Id):
                    throw new FormatException($"{where}: '{e.Id}' is released but not alive (never acquired, or released already).");
                case TraceOp.Share when !alive.Contains(e.Id):
                    throw new FormatException($"{where}: '{e.Id}' is shared but not alive.");
                case TraceOp.Share when !alive.Add(e.Target!):
                    throw new FormatException($"{where}: share target '{e.Target}' is already alive.");
                case TraceOp.Release:
                    cached.Remove(e.Id);
                    break;
            }
        }

        return new Workload(name, rows, lastFrame + 1);
    }
}
