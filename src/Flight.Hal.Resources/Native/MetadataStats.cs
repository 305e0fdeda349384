namespace Flight.Hal.Resources;

/// <summary>Native bytes spent on bookkeeping rather than on resources — handle slots, block records, pool generations
/// and records — by a resource manager or one of its parts. Not counted: the resources' own bytes, the region blocks,
/// and managed objects (names are strings on the GC heap).</summary>
/// <param name="CommittedBytes">Bytes held now. Grows a page at a time as resources are created, and stays at its
/// high-water mark (pages are kept for reuse until the manager is disposed).</param>
/// <param name="ReservedBytes">Bytes that would be held with every table and record store at its capacity: the
/// configured limits (the manager's maximum of registered resources, each region's maximum of allocations, each pool's
/// maximum of blocks) priced in bytes.</param>
public readonly record struct MetadataStats(long CommittedBytes, long ReservedBytes)
{
    /// <summary>The sum of two parts' bookkeeping.</summary>
    /// <param name="left">One part.</param>
    /// <param name="right">The other.</param>
    /// <returns>Both together.</returns>
    public static MetadataStats operator +(MetadataStats left, MetadataStats right) =>
        new(left.CommittedBytes + right.CommittedBytes, left.ReservedBytes + right.ReservedBytes);

    /// <summary>The sum of two parts' bookkeeping (the named alternative to <c>+</c>).</summary>
    /// <param name="left">One part.</param>
    /// <param name="right">The other.</param>
    /// <returns>Both together.</returns>
    public static MetadataStats Add(MetadataStats left, MetadataStats right) => left + right;
}
