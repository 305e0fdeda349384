namespace Flight.Hal.Resources;

/// <summary>Where a region's allocations come from.</summary>
public enum RegionBacking
{
    /// <summary>A fixed block of the region's size, carved by an <see cref="Arena"/>: it can run out and fragment, as the
    /// real memory of a console does.</summary>
    Arena = 0,

    /// <summary>The host's heap, one native allocation per request, bounded only by the budgets (desktop profiles).</summary>
    HostHeap = 1,
}
