namespace Flight.Hal.Resources;

/// <summary>Every load of a cache in progress, for a loading screen's bar.</summary>
/// <param name="Queued">Asynchronous loads waiting for a slot.</param>
/// <param name="InFlight">Loads whose loader is running (synchronous and asynchronous).</param>
/// <param name="Bytes">Native bytes the running loads have acquired so far.</param>
/// <param name="Progress">The mean of the queued and running loads' reported progress (1 when none).</param>
public readonly record struct CacheLoadingStats(int Queued, int InFlight, long Bytes, double Progress);
