namespace Flight.Hal.Resources;

/// <summary>One piece of damage found by the memory-safety mode, attributed to the resource whose memory it was.</summary>
/// <param name="Kind">Overrun, underrun, or a write after release.</param>
/// <param name="Handle">The resource's handle (released already for a write after release).</param>
/// <param name="Name">Its name, or null.</param>
/// <param name="Owner">Its owner's name (<c>(none)</c> for none).</param>
/// <param name="Type">Its type.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="Offset">Where the first damaged byte is, from the resource's first byte: negative for an underrun,
/// <paramref name="Size"/> or more for an overrun, 0 to <paramref name="Size"/> − 1 for a write after release.</param>
/// <param name="DamagedBytes">Bytes of that guard (or of the released memory) that no longer hold their pattern.</param>
/// <param name="Placement">Where its memory lives: a pool or a region.</param>
public readonly record struct CorruptionFinding(
    CorruptionKind Kind,
    ResourceHandle Handle,
    string? Name,
    string Owner,
    ResourceType Type,
    long Size,
    long Offset,
    long DamagedBytes,
    string Placement)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"{Kind} of {Name ?? "an unnamed resource"} ({Type}, {Size} B, owner {Owner}, {Placement}, handle 0x{Handle.RawValue:x16}) " +
        $"at offset {Offset}: {DamagedBytes} byte(s) damaged";
}
