namespace Flight.Hal.Resources;

/// <summary>What the memory-safety mode found damaged.</summary>
public enum CorruptionKind
{
    /// <summary>The guard after a resource was written: a write past its end.</summary>
    Overrun = 0,

    /// <summary>The guard before a resource was written: a write before its start.</summary>
    Underrun = 1,

    /// <summary>Memory of a released resource was written after its release.</summary>
    WriteAfterRelease = 2,
}
