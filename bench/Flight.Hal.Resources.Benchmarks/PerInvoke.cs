namespace Flight.Hal.Resources.Benchmarks;

/// <summary>How many operations one benchmark invocation loops over, as an engine calls them: every hot-path benchmark
/// runs its operation this many times and declares it with <c>OperationsPerInvoke</c>, so the harness's call overhead is
/// amortised and the figures are per operation.</summary>
public static class PerInvoke
{
    /// <summary>Operations per invocation of a hot-path benchmark.</summary>
    public const int Ops = 1024;

    /// <summary>Names cycled through by the named benchmarks (index <c>i &amp; (Names - 1)</c>): fewer than the manager's
    /// default <see cref="ResourceManagerOptions.MaxRetainedNames"/>, so every name is one the manager has seen before,
    /// as in a game that loads the same assets again.</summary>
    public const int Names = 512;

    /// <summary><paramref name="count"/> distinct names <c>{prefix}000000</c>, <c>{prefix}000001</c>, …, made before
    /// any timing so that no benchmark formats a string inside its timed loop.</summary>
    public static string[] MakeNames(string prefix, int count)
    {
        var names = new string[count];
        for (int i = 0; i < count; i++)
        {
            names[i] = prefix + i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
        }

        return names;
    }
}
