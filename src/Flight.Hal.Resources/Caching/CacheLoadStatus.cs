namespace Flight.Hal.Resources;

/// <summary>One key's load, as <see cref="ResourceCache{T}.GetLoadStatus"/> reports it.</summary>
/// <param name="State">Queued, loading, loaded or not found.</param>
/// <param name="Progress">The fraction its loader reported (<see cref="CacheLoadContext.ReportProgress"/>), 0 to 1;
/// 1 once loaded.</param>
/// <param name="Bytes">Native bytes acquired so far (all of them once loaded).</param>
public readonly record struct CacheLoadStatus(CacheLoadState State, double Progress, long Bytes);
