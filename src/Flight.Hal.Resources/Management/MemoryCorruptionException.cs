namespace Flight.Hal.Resources;

/// <summary>Thrown in the memory-safety mode's strict setting (<see cref="MemorySafetyOptions.Strict"/>) by the call
/// that found damage, once that call has done its work.</summary>
public sealed class MemoryCorruptionException : ResourceException
{
    /// <summary>Creates the exception for <paramref name="findings"/>.</summary>
    /// <param name="findings">What was found (at least one).</param>
    public MemoryCorruptionException(IReadOnlyList<CorruptionFinding> findings)
        : base(ResourceStatus.Corrupted, Describe(findings))
    {
        Findings = findings;
    }

    /// <summary>What was found.</summary>
    public IReadOnlyList<CorruptionFinding> Findings { get; }

    private static string Describe(IReadOnlyList<CorruptionFinding> findings)
    {
        ArgumentNullException.ThrowIfNull(findings);
        return findings.Count == 0
            ? "Memory corruption."
            : $"Memory corruption: {findings[0]}" + (findings.Count > 1 ? $" (and {findings.Count - 1} more)" : string.Empty);
    }
}
