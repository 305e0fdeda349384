namespace Flight.Hal.Resources.Tests.TestSupport;

/// <summary>Tests that take a process-wide resource (every handle tag, the environment) run alone, after the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideState
{
    public const string Name = "Process-wide state";
}
