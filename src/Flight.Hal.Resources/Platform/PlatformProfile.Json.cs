using System.Text.Json;
using System.Text.Json.Serialization;

namespace Flight.Hal.Resources;

// Loading and saving profiles as JSON (source-generated serialisation: no reflection, AOT-safe).
public sealed partial class PlatformProfile
{
    /// <summary>Reads a profile from JSON text.</summary>
    /// <param name="json">The document.</param>
    /// <returns>The profile.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="json"/> is null.</exception>
    /// <exception cref="FormatException">The text is not valid JSON, misses a required field, or describes an invalid
    /// profile; the message says which.</exception>
    /// <remarks>
    /// <code>
    /// {
    ///   "name": "my-console",
    ///   "description": "8 MiB main, 2 MiB video",
    ///   "regions": [
    ///     { "name": "main",  "kind": "Main",  "size": 8388608, "minAlignment": 32, "granularity": 32 },
    ///     { "name": "video", "kind": "Video", "size": 2097152, "minAlignment": 32, "granularity": 32, "reservedStart": 0 }
    ///   ],
    ///   "budgets": {
    ///     "Memory":   { "maxPercent": 60, "reservedPercent": 10 },
    ///     "Hardware": { "maxBytes": 1048576, "reservedBytes": 65536, "warningPercent": 75, "criticalPercent": 90 }
    ///   },
    ///   "pools": [ { "type": "Memory", "blockSize": 64, "maxCount": 256 } ]
    /// }
    /// </code>
    /// Percent budgets are of the main region's size. Region fields default as <see cref="MemoryRegion"/>'s do, pool
    /// fields as <see cref="PoolConfig"/>'s. Comments and trailing commas are allowed.
    /// </remarks>
    public static PlatformProfile FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        ProfileDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, ProfileJsonContext.Default.ProfileDocument);
        }
        catch (JsonException exception)
        {
            throw new FormatException($"Invalid platform profile JSON: {exception.Message}", exception);
        }

        if (document is null)
        {
            throw new FormatException("Invalid platform profile JSON: the document is empty.");
        }

        try
        {
            return document.ToProfile();
        }
        catch (ArgumentException exception)
        {
            throw new FormatException($"Invalid platform profile '{document.Name}': {exception.Message}", exception);
        }
    }

    /// <summary>Reads a profile from a JSON file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The profile.</returns>
    /// <exception cref="FormatException">The file's content is not a valid profile.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static PlatformProfile Load(string path) => FromJson(File.ReadAllText(path));

    /// <summary>Writes the profile as JSON that <see cref="FromJson"/> reads back (budgets in bytes).</summary>
    /// <returns>Indented JSON.</returns>
    public string ToJson() => JsonSerializer.Serialize(ProfileDocument.From(this), ProfileJsonContext.Default.ProfileDocument);

    internal sealed class ProfileDocument
    {
        public string? Name { get; set; }

        public string? Description { get; set; }

        public List<RegionDocument>? Regions { get; set; }

        public Dictionary<ResourceType, BudgetDocument>? Budgets { get; set; }

        public List<PoolDocument>? Pools { get; set; }

        public static ProfileDocument From(PlatformProfile profile) => new()
        {
            Name = profile.Name,
            Description = profile.Description,
            Regions = profile.Regions.Select(r => new RegionDocument
            {
                Name = r.Name,
                Kind = r.Kind,
                Size = r.Size,
                MinAlignment = r.MinAlignment,
                Granularity = r.Granularity,
                ReservedStart = r.ReservedStart,
                Backing = r.Backing,
            }).ToList(),
            Budgets = profile.Budgets.ToDictionary(p => p.Key, p => new BudgetDocument
            {
                MaxBytes = p.Value.MaxBytes,
                ReservedBytes = p.Value.ReservedBytes,
                WarningPercent = p.Value.WarningPercent,
                CriticalPercent = p.Value.CriticalPercent,
            }),
            Pools = profile.Pools.Select(p => new PoolDocument
            {
                Type = p.Type,
                BlockSize = p.BlockSize,
                Alignment = p.Alignment,
                InitialCount = p.InitialCount,
                MaxCount = p.MaxCount,
                BlocksPerSlab = p.BlocksPerSlab,
                ThreadCacheSize = p.ThreadCacheSize,
                ThreadSafe = p.ThreadSafe,
                Name = p.Name,
            }).ToList(),
        };

        public PlatformProfile ToProfile()
        {
            if (string.IsNullOrWhiteSpace(Name))
            {
                throw new ArgumentException("'name' is missing.");
            }

            if (Regions is null || Regions.Count == 0)
            {
                throw new ArgumentException("'regions' is missing or empty.");
            }

            MemoryRegion[] regions = Regions.Select(r => (r ?? throw new ArgumentException("'regions' holds a null entry.")).ToRegion()).ToArray();
            long mainBytes = regions.FirstOrDefault(r => r.Kind == RegionKind.Main)?.Size ?? 0;
            var budgets = (Budgets ?? []).ToDictionary(
                p => p.Key,
                p => (p.Value ?? throw new ArgumentException($"The {p.Key} budget is null.")).ToBudget(p.Key, mainBytes));
            PoolConfig[] pools = (Pools ?? []).Select(p => (p ?? throw new ArgumentException("'pools' holds a null entry.")).ToConfig()).ToArray();
            return new PlatformProfile(Name, Description ?? string.Empty, regions, budgets, pools);
        }
    }

    internal sealed class RegionDocument
    {
        public string? Name { get; set; }

        public RegionKind Kind { get; set; }

        public long Size { get; set; }

        public int? MinAlignment { get; set; }

        public int? Granularity { get; set; }

        public long ReservedStart { get; set; }

        public RegionBacking Backing { get; set; }

        public MemoryRegion ToRegion() => new()
        {
            Name = Name ?? throw new ArgumentException("A region's 'name' is missing."),
            Kind = Kind,
            Size = Size > 0 ? Size : throw new ArgumentException($"Region '{Name}' needs a positive 'size'."),
            MinAlignment = MinAlignment ?? 16,
            Granularity = Granularity ?? 16,
            ReservedStart = ReservedStart,
            Backing = Backing,
        };
    }

    internal sealed class BudgetDocument
    {
        public long? MaxBytes { get; set; }

        public long? ReservedBytes { get; set; }

        public double? MaxPercent { get; set; }

        public double? ReservedPercent { get; set; }

        public int WarningPercent { get; set; } = 80;

        public int CriticalPercent { get; set; } = 95;

        public ResourceBudget ToBudget(ResourceType type, long mainBytes)
        {
            if (MaxBytes.HasValue == MaxPercent.HasValue)
            {
                throw new ArgumentException($"The {type} budget needs exactly one of 'maxBytes' and 'maxPercent'.");
            }

            return MaxBytes.HasValue
                ? new ResourceBudget(MaxBytes.Value, ReservedBytes ?? 0, WarningPercent, CriticalPercent)
                : ResourceBudget.FromPercentages(mainBytes, MaxPercent!.Value, ReservedPercent ?? 0, WarningPercent, CriticalPercent);
        }
    }

    internal sealed class PoolDocument
    {
        public ResourceType Type { get; set; }

        public int BlockSize { get; set; }

        public int Alignment { get; set; } = 16;

        public int InitialCount { get; set; }

        public int MaxCount { get; set; }

        public int BlocksPerSlab { get; set; }

        public int ThreadCacheSize { get; set; } = -1;

        public bool ThreadSafe { get; set; } = true;

        public string? Name { get; set; }

        public PoolConfig ToConfig() => new()
        {
            Type = Type,
            BlockSize = BlockSize,
            Alignment = Alignment,
            InitialCount = InitialCount,
            MaxCount = MaxCount,
            BlocksPerSlab = BlocksPerSlab,
            ThreadCacheSize = ThreadCacheSize,
            ThreadSafe = ThreadSafe,
            Name = Name,
        };
    }

    [JsonSourceGenerationOptions(
        PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
        UseStringEnumConverter = true,
        WriteIndented = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonSerializable(typeof(ProfileDocument))]
    internal sealed partial class ProfileJsonContext : JsonSerializerContext;
}
