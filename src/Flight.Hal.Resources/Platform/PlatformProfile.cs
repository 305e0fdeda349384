using System.Collections.ObjectModel;

namespace Flight.Hal.Resources;

/// <summary>A target machine: its memory regions, the default budget of each <see cref="ResourceType"/>, and its pool plan.</summary>
/// <remarks>
/// <para>Built-in profiles model real machines (<see cref="KnownNames"/>); <see cref="Detect"/> picks the host's, and a
/// name — or the <c>FLIGHT_HAL_PROFILE</c> environment variable — selects another, so a desktop can run a game's
/// resource plan inside a Dreamcast's 16 MiB. A profile can also be built in code or loaded from JSON
/// (<see cref="FromJson"/>) for a user's own target.</para>
/// <para>Immutable and thread-safe.</para>
/// </remarks>
public sealed partial class PlatformProfile
{
    /// <summary>The environment variable that <see cref="Detect"/> reads first.</summary>
    public const string EnvironmentVariable = "FLIGHT_HAL_PROFILE";

    private readonly ReadOnlyDictionary<ResourceType, ResourceBudget> _budgets;

    /// <summary>Creates a profile.</summary>
    /// <param name="name">A short, unique name ("dreamcast").</param>
    /// <param name="description">One line for reports.</param>
    /// <param name="regions">The memory regions: exactly one <see cref="RegionKind.Main"/>, at most one of each other
    /// kind, unique names.</param>
    /// <param name="budgets">Default budgets; types not listed are unlimited.</param>
    /// <param name="pools">The pool plan (may be empty).</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A region, budget or pool is invalid, or the regions break the rules above.</exception>
    public PlatformProfile(
        string name,
        string description,
        IEnumerable<MemoryRegion> regions,
        IReadOnlyDictionary<ResourceType, ResourceBudget> budgets,
        IEnumerable<PoolConfig> pools)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(description);
        ArgumentNullException.ThrowIfNull(regions);
        ArgumentNullException.ThrowIfNull(budgets);
        ArgumentNullException.ThrowIfNull(pools);
        MemoryRegion[] regionList = regions.ToArray();
        foreach (MemoryRegion region in regionList)
        {
            ArgumentNullException.ThrowIfNull(region, nameof(regions));
            region.Validate();
        }

        if (regionList.Count(r => r.Kind == RegionKind.Main) != 1)
        {
            throw new ArgumentException($"Profile '{name}' must have exactly one main region.", nameof(regions));
        }

        if (regionList.GroupBy(r => r.Kind).Any(g => g.Count() > 1) ||
            regionList.GroupBy(r => r.Name, StringComparer.OrdinalIgnoreCase).Any(g => g.Count() > 1))
        {
            throw new ArgumentException($"Profile '{name}' has two regions of the same kind or name.", nameof(regions));
        }

        foreach ((ResourceType type, ResourceBudget budget) in budgets)
        {
            if (!Enum.IsDefined(type) || budget is null)
            {
                throw new ArgumentException($"Profile '{name}' has an invalid budget entry for {type}.", nameof(budgets));
            }
        }

        PoolConfig[] poolList = pools.ToArray();
        foreach (PoolConfig pool in poolList)
        {
            ArgumentNullException.ThrowIfNull(pool, nameof(pools));
            pool.Validate();
        }

        if (poolList.GroupBy(p => (p.Type, p.EffectiveBlockSize)).Any(g => g.Count() > 1))
        {
            throw new ArgumentException($"Profile '{name}' plans two pools with the same type and block size.", nameof(pools));
        }

        Name = name;
        Description = description;
        Regions = Array.AsReadOnly(regionList);
        Pools = Array.AsReadOnly(poolList);
        _budgets = new ReadOnlyDictionary<ResourceType, ResourceBudget>(budgets.ToDictionary(p => p.Key, p => p.Value));
        MainRegion = regionList.Single(r => r.Kind == RegionKind.Main);
    }

    /// <summary>The profile's name.</summary>
    public string Name { get; }

    /// <summary>One line for reports.</summary>
    public string Description { get; }

    /// <summary>The memory regions.</summary>
    public IReadOnlyList<MemoryRegion> Regions { get; }

    /// <summary>The main RAM region.</summary>
    public MemoryRegion MainRegion { get; }

    /// <summary>Default budgets; types not listed are unlimited.</summary>
    public IReadOnlyDictionary<ResourceType, ResourceBudget> Budgets => _budgets;

    /// <summary>The pool plan: the pools a manager on this profile creates.</summary>
    public IReadOnlyList<PoolConfig> Pools { get; }

    /// <summary>The region of <paramref name="kind"/>, or <see langword="null"/> when the machine has none (resources for
    /// it then go to main RAM, as on machines with unified memory).</summary>
    /// <param name="kind">The region kind.</param>
    /// <returns>The region, or null.</returns>
    public MemoryRegion? FindRegion(RegionKind kind) => Regions.FirstOrDefault(r => r.Kind == kind);

    /// <summary>The default budget of <paramref name="type"/>.</summary>
    /// <param name="type">The resource type.</param>
    /// <returns>The profile's budget, or <see cref="ResourceBudget.Unlimited"/>.</returns>
    public ResourceBudget GetBudget(ResourceType type) => _budgets.TryGetValue(type, out ResourceBudget? budget) ? budget : ResourceBudget.Unlimited;

    /// <summary>Picks a profile: the one named by <c>FLIGHT_HAL_PROFILE</c> if set, else the host's
    /// (<c>web</c> in a browser, <c>desktop</c> otherwise).</summary>
    /// <returns>The profile.</returns>
    /// <exception cref="ArgumentException">The environment variable names no known profile; the message lists them.</exception>
    public static PlatformProfile Detect()
    {
        string? requested = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(requested))
        {
            return Get(requested.Trim());
        }

        return OperatingSystem.IsBrowser() || OperatingSystem.IsWasi() ? Web : Desktop;
    }

    /// <summary>The built-in profile called <paramref name="name"/> (case-insensitive).</summary>
    /// <param name="name">One of <see cref="KnownNames"/>.</param>
    /// <returns>The profile.</returns>
    /// <exception cref="ArgumentException">No built-in profile has that name; the message lists the known ones.</exception>
    public static PlatformProfile Get(string name)
    {
        if (!TryGet(name, out PlatformProfile? profile))
        {
            throw new ArgumentException($"Unknown platform profile '{name}'. Known profiles: {string.Join(", ", KnownNames)}.", nameof(name));
        }

        return profile;
    }

    /// <summary>Looks up a built-in profile by name (case-insensitive).</summary>
    /// <param name="name">A profile name.</param>
    /// <param name="profile">The profile, when found.</param>
    /// <returns>Whether it was found.</returns>
    public static bool TryGet(string? name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PlatformProfile? profile)
    {
        profile = name?.Trim().ToLowerInvariant() switch
        {
            "dreamcast" => Dreamcast,
            "desktop" => Desktop,
            "web" => Web,
            "psp" => Psp,
            "ps2" => Ps2,
            "nds" => NintendoDs,
            "n64" => N64,
            "n64-expansion" => N64Expansion,
            _ => null,
        };
        return profile != null;
    }

    /// <summary>The names of the built-in profiles.</summary>
    public static IReadOnlyList<string> KnownNames { get; } =
        Array.AsReadOnly(["dreamcast", "desktop", "web", "psp", "ps2", "nds", "n64", "n64-expansion"]);

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {Description}";
}
