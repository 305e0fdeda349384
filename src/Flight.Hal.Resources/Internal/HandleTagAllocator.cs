namespace Flight.Hal.Resources;

/// <summary>Hands out the tags that tell which table or pool issued a handle.</summary>
/// <remarks>
/// <para>Two live issuers never share a tag, so a handle from another live table or pool is always rejected.
/// Tags are handed out round-robin, skipping live ones, so a tag freed by a disposed issuer is reused only
/// after every other free tag has been used once: a handle kept past its issuer's disposal is very unlikely
/// to meet a new issuer with the same tag (and then still needs a matching slot and generation).</para>
/// <para>Thread-safe; called only when a table or pool is created or disposed.</para>
/// </remarks>
internal static class HandleTagAllocator
{
    private static readonly object s_lock = new();
    private static readonly bool[] s_inUse = new bool[HandleLayout.MaxTag + 1]; // index 0 unused: tag 0 is null
    private static int s_next = 1;   // where the round-robin search starts; 1..MaxTag
    private static int s_liveCount;  // number of true entries in s_inUse

    /// <summary>Number of tags currently held by live tables and pools.</summary>
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

    /// <summary>Takes a free tag.</summary>
    /// <exception cref="InvalidOperationException">All 1,023 tags are held by live tables and pools.</exception>
    public static int Rent()
    {
        lock (s_lock)
        {
            for (int probe = 0; probe < HandleLayout.MaxTag; probe++)
            {
                int tag = s_next;
                s_next = tag == HandleLayout.MaxTag ? 1 : tag + 1;
                if (!s_inUse[tag])
                {
                    s_inUse[tag] = true;
                    s_liveCount++;
                    return tag;
                }
            }
        }

        ThrowHelper.ThrowInvalidOperation(
            $"All {HandleLayout.MaxTag} handle tags are in use: dispose handle tables and pools that are no longer needed.");
        return 0;
    }

    /// <summary>Gives a tag back; its issuer must not issue or accept handles afterwards.</summary>
    public static void Return(int tag)
    {
        lock (s_lock)
        {
            if (tag > 0 && tag <= HandleLayout.MaxTag && s_inUse[tag])
            {
                s_inUse[tag] = false;
                s_liveCount--;
            }
        }
    }
}
