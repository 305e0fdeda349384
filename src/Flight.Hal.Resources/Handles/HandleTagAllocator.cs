using System.Diagnostics;

namespace Flight.Hal.Resources;

/// <summary>Hands out the tags that tell which table, pool or arena issued a handle, with the generation range each new
/// issuer of a tag must stay above.</summary>
/// <remarks>
/// <para><b>Live issuers.</b> Two live issuers never share a tag, so a handle from another live issuer is always
/// rejected by its tag.</para>
/// <para><b>Disposed issuers.</b> A tag is only 10 bits, so it is reused after its issuer is disposed. Each tag keeps a
/// <i>floor</i>: the highest generation any of its issuers ever gave out. A new issuer of the tag starts every slot just
/// above the floor, so every handle it issues has a larger generation than any handle of an earlier issuer of the same
/// tag, and a handle kept from a disposed issuer is recognised exactly — its generation is at or below the new issuer's
/// base — never misread as a live one. There is no residual probability.</para>
/// <para><b>Retirement.</b> A tag whose floor has passed <see cref="MaxReusableFloor"/> (some slot of one of its issuers
/// was reused about a billion times) is retired rather than handed out with little generation space left, as a slot
/// whose generation would wrap is retired. A process must then churn over 10^12 handles before tags run short.</para>
/// <para>Thread-safe; called only when an issuer is created or disposed.</para>
/// </remarks>
internal static class HandleTagAllocator
{
    /// <summary>Highest floor at which a tag is still handed out: a new issuer then has at least 2^31 generations left,
    /// a billion reuses of each slot.</summary>
    public const uint MaxReusableFloor = 1u << 31;

    private static readonly object s_lock = new();
    private static readonly uint[] s_floor = new uint[HandleLayout.MaxTag + 1];   // Even; highest generation issued under the tag.
    private static readonly byte[] s_state = new byte[HandleLayout.MaxTag + 1];   // Free, InUse or Retired; index 0 unused.
    private static int s_next = 1;   // Where the round-robin search starts; 1..MaxTag.
    private static int s_liveCount;  // Tags in use.
    private static int s_retiredCount;

    private const byte Free = 0;
    private const byte InUse = 1;
    private const byte Retired = 2;

    /// <summary>Number of tags currently held by live issuers.</summary>
    public static int LiveCount
    {
        get
        {
            lock (s_lock)
            {
                return s_liveCount;
            }
        }
    }

    /// <summary>Number of tags retired for good (their generation space is used up).</summary>
    public static int RetiredCount
    {
        get
        {
            lock (s_lock)
            {
                return s_retiredCount;
            }
        }
    }

    /// <summary>Takes a free tag.</summary>
    /// <param name="baseGeneration">The tag's floor, even: every generation the new issuer hands out must be above it.</param>
    /// <returns>The tag, 1..<see cref="HandleLayout.MaxTag"/>.</returns>
    /// <exception cref="IssuerLimitException">Every tag is held by a live issuer or retired.</exception>
    public static int Rent(out uint baseGeneration)
    {
        lock (s_lock)
        {
            for (int probe = 0; probe < HandleLayout.MaxTag; probe++)
            {
                int tag = s_next;
                s_next = tag == HandleLayout.MaxTag ? 1 : tag + 1;
                if (s_state[tag] == Free)
                {
                    s_state[tag] = InUse;
                    s_liveCount++;
                    baseGeneration = s_floor[tag];
                    Debug.Assert((baseGeneration & 1) == 0 && baseGeneration <= MaxReusableFloor, "Floors are even and reusable.");
                    return tag;
                }
            }

            baseGeneration = 0;
            throw new IssuerLimitException(
                $"All {HandleLayout.MaxTag} handle tags are taken ({s_liveCount} by live handle tables, pools and arenas, {s_retiredCount} retired): " +
                "dispose the tables, pools, arenas and managers that are no longer needed.");
        }
    }

    /// <summary>Gives a tag back; its issuer must not issue or accept handles afterwards.</summary>
    /// <param name="tag">A tag from <see cref="Rent"/>.</param>
    /// <param name="highestGeneration">The highest generation the issuer ever gave out (or its base if none);
    /// <see cref="uint.MaxValue"/> when one of its slots was retired at the wrap point.</param>
    public static void Return(int tag, uint highestGeneration)
    {
        lock (s_lock)
        {
            if (tag <= 0 || tag > HandleLayout.MaxTag || s_state[tag] != InUse)
            {
                return;
            }

            // Round up to even: the next issuer's first generation (floor + 1) is then odd, a live generation.
            ulong floor = Math.Max(s_floor[tag], (ulong)highestGeneration + (highestGeneration & 1));
            s_liveCount--;
            if (floor > MaxReusableFloor)
            {
                s_state[tag] = Retired;
                s_retiredCount++;
                return;
            }

            s_floor[tag] = (uint)floor;
            s_state[tag] = Free;
        }
    }
}
