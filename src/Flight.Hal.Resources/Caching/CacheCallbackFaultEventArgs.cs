namespace Flight.Hal.Resources;

/// <summary>A cache's hook or a value's Dispose threw; the exception was caught and the load or unload went on.</summary>
public sealed class CacheCallbackFaultEventArgs : EventArgs
{
    /// <summary>Creates the report.</summary>
    /// <param name="key">The entry's key.</param>
    /// <param name="kind">Which callback threw.</param>
    /// <param name="exception">What it threw.</param>
    public CacheCallbackFaultEventArgs(string key, CacheCallbackKind kind, Exception exception)
    {
        Key = key;
        Kind = kind;
        Exception = exception;
    }

    /// <summary>The entry's key.</summary>
    public string Key { get; }

    /// <summary>Which callback threw.</summary>
    public CacheCallbackKind Kind { get; }

    /// <summary>What it threw.</summary>
    public Exception Exception { get; }
}
