using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

/// <summary>The bit layout shared by <see cref="ResourceHandle"/> and <see cref="Handle{T}"/>.</summary>
/// <remarks>
/// <code>
///  63            32 31                 10 9        0
/// +----------------+---------------------+----------+
/// |   generation   |     slot index      |   tag    |
/// +----------------+---------------------+----------+
/// </code>
/// <para>The tag names the table or pool that issued the handle (1..1023, 0 only in the null handle), so a
/// handle from another live table is rejected. A live slot's generation is odd; freeing it makes it even;
/// issuing it again makes it odd again. A generation of 0 is never issued, so the all-zero value is null.
/// An issuer's generations all lie above the base generation its tag came with, so a handle of a disposed issuer
/// whose tag was reused is told apart too (<see cref="HandleTagAllocator"/>).</para>
/// </remarks>
internal static class HandleLayout
{
    public const int TagBits = 10;
    public const int IndexBits = 22;
    public const uint TagMask = (1u << TagBits) - 1;

    /// <summary>Largest tag; tags run 1..MaxTag.</summary>
    public const int MaxTag = (int)TagMask;

    /// <summary>Number of addressable slots per table or pool: 4,194,304.</summary>
    public const int MaxSlots = 1 << IndexBits;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Pack(int tag, int index, uint generation)
    {
        Debug.Assert((uint)tag - 1 < MaxTag, "Tag out of range.");
        Debug.Assert((uint)index < MaxSlots, "Index out of range.");
        Debug.Assert((generation & 1) == 1, "Only odd (live) generations are issued.");
        return ((ulong)generation << 32) | ((uint)index << TagBits) | (uint)tag;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Tag(ulong raw) => (int)((uint)raw & TagMask);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Index(ulong raw) => (int)((uint)raw >> TagBits);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Generation(ulong raw) => (uint)(raw >> 32);

    /// <summary>Whether <paramref name="raw"/> could have been issued by the issuer holding <paramref name="tag"/> with
    /// <paramref name="baseGeneration"/>: same tag, and a generation above the base (at or below it, the handle is from
    /// a disposed issuer that had the same tag; see <see cref="HandleTagAllocator"/>). It may still be stale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsFromIssuer(ulong raw, int tag, uint baseGeneration) =>
        Tag(raw) == tag && Generation(raw) > baseGeneration;

    /// <summary>Why an issuer refuses a handle it found no live entry for — the one rule every table and pool applies:
    /// <see cref="ResourceStatus.InvalidHandle"/> for the null handle; an <see cref="ArgumentException"/> for another
    /// issuer's handle, or a disposed issuer's that had this tag (<see cref="IsFromIssuer"/> is false); else
    /// <see cref="ResourceStatus.StaleHandle"/> (released since, or never issued under that generation).</summary>
    /// <exception cref="ArgumentException"><paramref name="raw"/> is not this issuer's.</exception>
    public static ResourceStatus ClassifyMiss(ulong raw, int tag, uint baseGeneration)
    {
        if (raw == 0)
        {
            return ResourceStatus.InvalidHandle;
        }

        if (!IsFromIssuer(raw, tag, baseGeneration))
        {
            ThrowHelper.ThrowForeignHandle("handle");
        }

        return ResourceStatus.StaleHandle;
    }

    /// <summary>Formats a raw handle for <c>ToString</c>: <c>Name(null)</c> or <c>Name(tag:index@generation)</c>.</summary>
    public static string Format(string name, ulong raw) =>
        raw == 0 ? $"{name}(null)" : $"{name}({Tag(raw)}:{Index(raw)}@{Generation(raw)})";
}
