namespace Flight.Hal.Resources;

/// <summary>A cache entry could not be loaded: its loader threw, returned null, or loaded itself again.</summary>
/// <remarks>Nothing of the failed load stays charged: everything it acquired was released.</remarks>
public sealed class CacheLoadException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="key">The key that failed to load.</param>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">What the loader threw, if it threw.</param>
    public CacheLoadException(string key, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Key = key;
    }

    /// <summary>The key that failed to load.</summary>
    public string Key { get; }
}
