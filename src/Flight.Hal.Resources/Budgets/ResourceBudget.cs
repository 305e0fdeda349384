namespace Flight.Hal.Resources;

/// <summary>How many bytes of one <see cref="ResourceType"/> may be in use, and where pressure starts.</summary>
/// <remarks>
/// <para>Ordinary requests may use <c>MaxBytes - ReservedBytes</c>; the reserve is for emergency requests. Pressure is
/// measured against <see cref="MaxBytes"/> by <see cref="PressureAt"/>.</para>
/// <para>Immutable and thread-safe.</para>
/// </remarks>
public sealed record ResourceBudget
{
    /// <summary>Creates a budget.</summary>
    /// <param name="maxBytes">The most bytes in use at once, emergencies included; 0 or more.</param>
    /// <param name="reservedBytes">Of <paramref name="maxBytes"/>, the bytes only emergency requests may use.</param>
    /// <param name="warningPercent">Usage percentage (of max) from which pressure is <see cref="ResourcePressure.High"/>; 1 to 99.</param>
    /// <param name="criticalPercent">Usage percentage from which pressure is <see cref="ResourcePressure.Critical"/>;
    /// above <paramref name="warningPercent"/>, at most 100.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range, or the reserve exceeds the maximum.</exception>
    public ResourceBudget(long maxBytes, long reservedBytes = 0, int warningPercent = 80, int criticalPercent = 95)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(reservedBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(reservedBytes, maxBytes);
        if (warningPercent < 1 || warningPercent > 99)
        {
            throw new ArgumentOutOfRangeException(nameof(warningPercent), warningPercent, "The warning level must be 1 to 99 percent.");
        }

        if (criticalPercent <= warningPercent || criticalPercent > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(criticalPercent), criticalPercent, "The critical level must be above the warning level and at most 100 percent.");
        }

        MaxBytes = maxBytes;
        ReservedBytes = reservedBytes;
        WarningPercent = warningPercent;
        CriticalPercent = criticalPercent;
        _lowAt = Threshold(maxBytes, 25);
        _mediumAt = Threshold(maxBytes, 50);
        _highAt = Threshold(maxBytes, warningPercent);
        _criticalAt = Threshold(maxBytes, criticalPercent);
    }

    private readonly long _lowAt;      // Smallest usage that is at least 25 % of MaxBytes.
    private readonly long _mediumAt;   // ... 50 %.
    private readonly long _highAt;     // ... WarningPercent.
    private readonly long _criticalAt; // ... CriticalPercent.

    /// <summary>A budget that never refuses (for types a platform does not limit).</summary>
    public static ResourceBudget Unlimited { get; } = new(long.MaxValue / 2);

    /// <summary>The most bytes in use at once, emergencies included.</summary>
    public long MaxBytes { get; }

    /// <summary>Bytes only emergency requests may use.</summary>
    public long ReservedBytes { get; }

    /// <summary>Usage percentage from which pressure is <see cref="ResourcePressure.High"/>.</summary>
    public int WarningPercent { get; }

    /// <summary>Usage percentage from which pressure is <see cref="ResourcePressure.Critical"/>.</summary>
    public int CriticalPercent { get; }

    /// <summary>The bytes an ordinary (non-emergency) request may bring usage up to: <c>MaxBytes - ReservedBytes</c>.</summary>
    public long OrdinaryLimit => MaxBytes - ReservedBytes;

    /// <summary>Creates a budget as percentages of a memory size, as the platform profiles state them.</summary>
    /// <param name="totalBytes">The memory the percentages apply to (a machine's main RAM).</param>
    /// <param name="maxPercent">Budget, percent of <paramref name="totalBytes"/> (0 to 100).</param>
    /// <param name="reservedPercent">Reserve, percent of <paramref name="totalBytes"/> (0 to <paramref name="maxPercent"/>).</param>
    /// <param name="warningPercent">As for the constructor.</param>
    /// <param name="criticalPercent">As for the constructor.</param>
    /// <returns>The budget, in bytes rounded down.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public static ResourceBudget FromPercentages(long totalBytes, double maxPercent, double reservedPercent = 0, int warningPercent = 80, int criticalPercent = 95)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalBytes);
        if (double.IsNaN(maxPercent) || double.IsNaN(reservedPercent)
            || maxPercent is < 0 or > 100 || reservedPercent < 0 || reservedPercent > maxPercent)
        {
            throw new ArgumentOutOfRangeException(nameof(maxPercent), "Percentages must satisfy 0 <= reserved <= max <= 100.");
        }

        return new ResourceBudget(
            (long)(totalBytes * (decimal)maxPercent / 100m),
            (long)(totalBytes * (decimal)reservedPercent / 100m),
            warningPercent,
            criticalPercent);
    }

    /// <summary>The pressure level at <paramref name="usedBytes"/> of this budget — the one definition of pressure.</summary>
    /// <param name="usedBytes">Bytes in use (may exceed <see cref="MaxBytes"/> after emergency overruns).</param>
    /// <returns>
    /// <see cref="ResourcePressure.Critical"/> at or above <see cref="CriticalPercent"/> of <see cref="MaxBytes"/>;
    /// else <see cref="ResourcePressure.High"/> at or above <see cref="WarningPercent"/>;
    /// else <see cref="ResourcePressure.Medium"/> at or above 50 %;
    /// else <see cref="ResourcePressure.Low"/> at or above 25 %;
    /// else <see cref="ResourcePressure.None"/>. A zero budget is <see cref="ResourcePressure.Critical"/> once anything is used.
    /// </returns>
    /// <remarks>Four integer compares; allocation-free.</remarks>
    public ResourcePressure PressureAt(long usedBytes)
    {
        if (usedBytes <= 0)
        {
            return ResourcePressure.None;
        }

        // The thresholds are the exact byte counts of each percentage, computed once, so this is four compares.
        if (usedBytes >= _criticalAt)
        {
            return ResourcePressure.Critical;
        }

        if (usedBytes >= _highAt)
        {
            return ResourcePressure.High;
        }

        if (usedBytes >= _mediumAt)
        {
            return ResourcePressure.Medium;
        }

        return usedBytes >= _lowAt ? ResourcePressure.Low : ResourcePressure.None;
    }

    /// <summary>The least usage whose level is <paramref name="level"/> (0 for <see cref="ResourcePressure.None"/>): with
    /// <see cref="PressureAt"/>, the band a usage may move in without changing the level.</summary>
    internal long LevelFloor(ResourcePressure level) => level switch
    {
        ResourcePressure.Critical => _criticalAt,
        ResourcePressure.High => _highAt,
        ResourcePressure.Medium => _mediumAt,
        ResourcePressure.Low => _lowAt,
        _ => 0,
    };

    /// <summary>The smallest byte count b with b * 100 >= max * percent.</summary>
    private static long Threshold(long maxBytes, int percent) => (long)(((Int128)maxBytes * percent + 99) / 100);
}
