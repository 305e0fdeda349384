namespace Flight.Hal.Resources;

/// <summary>A pressure or reclamation callback threw; the exception was caught and the operation went on.</summary>
public sealed class CallbackFaultEventArgs : EventArgs
{
    /// <summary>Creates the report.</summary>
    /// <param name="type">The resource type the callback was called for.</param>
    /// <param name="isReclamation">True for a reclamation callback, false for a pressure callback.</param>
    /// <param name="exception">What it threw.</param>
    public CallbackFaultEventArgs(ResourceType type, bool isReclamation, Exception exception)
    {
        Type = type;
        IsReclamation = isReclamation;
        Exception = exception;
    }

    /// <summary>The resource type the callback was called for.</summary>
    public ResourceType Type { get; }

    /// <summary>True for a reclamation callback, false for a pressure callback.</summary>
    public bool IsReclamation { get; }

    /// <summary>What the callback threw.</summary>
    public Exception Exception { get; }
}
