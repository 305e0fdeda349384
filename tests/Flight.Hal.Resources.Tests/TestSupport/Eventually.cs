namespace Flight.Hal.Resources.Tests.TestSupport;

/// <summary>Waiting for a condition another thread brings about, instead of sleeping a guessed time (a loaded CI machine
/// may start a thread or run a continuation seconds late).</summary>
public static class Eventually
{
    /// <summary>How long a condition may take before the test fails.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>Spins (yielding) until <paramref name="condition"/> holds; fails the test after <see cref="Patience"/>.</summary>
    /// <param name="condition">What must come about.</param>
    /// <param name="what">Said in the failure.</param>
    public static void Holds(Func<bool> condition, string what = "the condition")
    {
        Assert.True(SpinWait.SpinUntil(condition, Patience), $"{what} did not come about within {Patience}.");
    }
}
