namespace Flight.Hal.Resources;

/// <summary>Thrown by the throwing twin of a <c>TryX</c> member when the operation did not succeed.</summary>
/// <remarks><see cref="Status"/> is the value the <c>TryX</c> member would have returned. Higher layers derive
/// exceptions that carry more detail (the memory-safety mode's findings).</remarks>
public class ResourceException : Exception
{
    /// <summary>Creates an exception for <paramref name="status"/> with its standard description.</summary>
    /// <param name="status">Why the operation failed; never <see cref="ResourceStatus.Ok"/> in practice.</param>
    public ResourceException(ResourceStatus status)
        : base($"{status}: {status.GetDescription()}")
    {
        Status = status;
    }

    /// <summary>Creates an exception for <paramref name="status"/> with a specific message.</summary>
    /// <param name="status">Why the operation failed.</param>
    /// <param name="message">A message naming what failed.</param>
    public ResourceException(ResourceStatus status, string message)
        : base(message)
    {
        Status = status;
    }

    /// <summary>The status the non-throwing form of the operation returns in the same situation.</summary>
    public ResourceStatus Status { get; }

    /// <summary>The category of <see cref="Status"/>.</summary>
    public ResourceErrorCategory Category => Status.GetCategory();
}
