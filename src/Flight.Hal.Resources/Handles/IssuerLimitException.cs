namespace Flight.Hal.Resources;

/// <summary>Thrown when a handle table, pool, arena or manager cannot be created because every handle tag of the process
/// is taken by a live issuer (or retired).</summary>
/// <remarks>An <see cref="InvalidOperationException"/>, so callers that catch that keep working; the C ABI turns it into
/// <c>FHR_CAPACITY_EXCEEDED</c>.</remarks>
internal sealed class IssuerLimitException(string message) : InvalidOperationException(message);
