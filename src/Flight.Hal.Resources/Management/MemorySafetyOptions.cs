namespace Flight.Hal.Resources;

/// <summary>The memory-safety mode of a <see cref="ResourceManager"/> (<see cref="ResourceManagerOptions.MemorySafety"/>;
/// off when null): fill patterns, guard bytes around every resource, and a watch on released memory — VMA's corruption
/// margins and the debug CRT heap's fills, for pooled and region resources on every profile.</summary>
/// <remarks>
/// <para>With the mode on, every resource gets <see cref="GuardBytes"/> (or its alignment, if larger) of
/// <see cref="GuardFill"/> before and after it, so it takes a larger pool block, or region memory, than it would
/// otherwise; budgets still count the size asked for. Newly acquired memory reads <see cref="AcquireFill"/>; released
/// memory is overwritten with <see cref="ReleaseFill"/>.</para>
/// <para>Guards are checked when a resource is released and by <see cref="ResourceManager.CheckCorruption(out CorruptionFinding[])"/>.
/// Released memory is checked when it is handed out again (arena regions and pools: the memory stays mapped) or when it
/// leaves the quarantine (host-heap regions keep up to <see cref="QuarantineBytes"/> of released blocks allocated, so
/// a late write lands in memory still owned), and by <c>CheckCorruption</c>.</para>
/// <para>Every finding is reported to <see cref="CorruptionFound"/>, to the event source's <c>CorruptionFound</c>
/// event and counted; with <see cref="Strict"/> the call that found it throws <see cref="MemoryCorruptionException"/>
/// once it has finished its work (a release still releases).</para>
/// <para>The mode is a debugging aid: every acquisition takes the registry path and fills memory (see bench/README.md
/// for the cost); with it off, the hot path pays one null check.</para>
/// </remarks>
public sealed record MemorySafetyOptions
{
    /// <summary>Default for <see cref="GuardBytes"/>.</summary>
    public const int DefaultGuardBytes = 16;

    /// <summary>Bytes of guard before and after each resource: a power of two, 16 to 4,096 (a larger alignment widens
    /// the guard to it, so the resource stays aligned).</summary>
    public int GuardBytes { get; init; } = DefaultGuardBytes;

    /// <summary>What newly acquired memory is filled with (0xCD, "clean").</summary>
    public byte AcquireFill { get; init; } = 0xCD;

    /// <summary>What released memory is filled with (0xDD, "dead"); a write after release is a byte that no longer
    /// reads it.</summary>
    public byte ReleaseFill { get; init; } = 0xDD;

    /// <summary>What guard bytes hold (0xFD, "fence").</summary>
    public byte GuardFill { get; init; } = 0xFD;

    /// <summary>Bytes of released host-heap blocks held back before they are freed, so that a write after release is
    /// caught (0 to 1 GiB; default 1 MiB). Arena regions and pools need none.</summary>
    public long QuarantineBytes { get; init; } = 1024 * 1024;

    /// <summary>Throw <see cref="MemoryCorruptionException"/> from the call that found damage.</summary>
    public bool Strict { get; init; }

    /// <summary>Called (on the thread that found it) for every finding; an exception it throws is caught and reported
    /// through <see cref="ResourceManager.CallbackFaulted"/>.</summary>
    public Action<CorruptionFinding>? CorruptionFound { get; init; }

    /// <summary>Throws if a value is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        if (GuardBytes < 16 || GuardBytes > 4096 || (GuardBytes & (GuardBytes - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(GuardBytes), GuardBytes, "Must be a power of two from 16 to 4,096.");
        }

        if (QuarantineBytes < 0 || QuarantineBytes > 1L << 30)
        {
            throw new ArgumentOutOfRangeException(nameof(QuarantineBytes), QuarantineBytes, "Must be 0 to 1 GiB.");
        }

        if (AcquireFill == ReleaseFill)
        {
            throw new ArgumentOutOfRangeException(nameof(ReleaseFill), ReleaseFill, "Must differ from AcquireFill, or a write after release could not be told from fresh memory.");
        }
    }
}
