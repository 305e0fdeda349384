namespace Flight.Hal.Resources.Benchmarks;

/// <summary>Setup checks: a benchmark whose scenario cannot be built fails loudly in its global setup instead of
/// timing a refusal.</summary>
public static class Check
{
    /// <summary>Throws unless <paramref name="status"/> is <see cref="ResourceStatus.Ok"/>.</summary>
    public static void Ok(ResourceStatus status, string what)
    {
        if (status != ResourceStatus.Ok)
        {
            throw new InvalidOperationException($"Benchmark setup: {what} gave {status}.");
        }
    }

    /// <summary>Throws unless <paramref name="condition"/> holds.</summary>
    public static void That(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"Benchmark setup: expected {what}.");
        }
    }
}
