using System.Diagnostics;

namespace Flight.Hal.Resources;

/// <summary>Who holds what and who waits for what, so a blocking acquisition that no release could ever satisfy fails
/// with <see cref="ResourceStatus.Deadlock"/> instead of hanging.</summary>
/// <remarks>
/// <para>A <i>key</i> is something an acquisition can wait for: a resource type's budget, or a memory region. Owner 0
/// is "no owner" and is never tracked. Bytes of a key that no tracked owner holds (<c>usage − named</c>) are held by
/// untracked code, which is assumed to be running and able to release: such a key can always wake its waiters.</para>
/// <para>An owner is <i>blocked</i> while it has at least one wait in progress; a blocked owner is assumed unable to
/// release anything until its wait ends (the model of one driver thread per owner). A wait can be woken when, following
/// holders of the key it waits for and, for each blocked holder, the keys that holder waits for, some holder is running
/// or some key has untracked bytes (OR semantics: one release of any such key may start the chain moving).</para>
/// <para>Instances are not thread-safe; the <see cref="ResourceManager"/> calls every member under its registry lock.</para>
/// </remarks>
internal sealed class WaitForGraph
{
    private readonly int _keyCount;
    private readonly List<long[]> _holdings = [[]]; // _holdings[owner][key]: bytes held; owner 0 unused
    private readonly List<int[]> _waits = [[]];      // _waits[owner][key]: waits in progress
    private readonly List<int> _waitCounts = [0];            // total waits in progress per owner
    private readonly long[] _named;                          // per key: bytes held by tracked owners

    /// <summary>Creates a graph over <paramref name="keyCount"/> keys.</summary>
    public WaitForGraph(int keyCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(keyCount);
        _keyCount = keyCount;
        _named = new long[keyCount];
    }

    /// <summary>Tracked owners, not counting owner 0.</summary>
    public int OwnerCount => _holdings.Count - 1;

    /// <summary>Adds an owner; ids start at 1.</summary>
    public int AddOwner()
    {
        _holdings.Add(new long[_keyCount]);
        _waits.Add(new int[_keyCount]);
        _waitCounts.Add(0);
        return _holdings.Count - 1;
    }

    /// <summary>Records that <paramref name="owner"/> now holds <paramref name="bytes"/> more of <paramref name="key"/>.</summary>
    public void AddHolding(int owner, int key, long bytes)
    {
        Debug.Assert(owner > 0 && bytes > 0, "Only tracked owners hold bytes.");
        _holdings[owner][key] += bytes;
        _named[key] += bytes;
    }

    /// <summary>Records that <paramref name="owner"/> released <paramref name="bytes"/> of <paramref name="key"/>.</summary>
    /// <exception cref="InvalidOperationException">The owner does not hold that many bytes (an accounting bug).</exception>
    public void RemoveHolding(int owner, int key, long bytes)
    {
        ref long held = ref _holdings[owner][key];
        if (bytes > held)
        {
            ThrowHelper.ThrowInvalidOperation($"Owner {owner} holds {held} bytes of key {key}, not {bytes}.");
        }

        held -= bytes;
        _named[key] -= bytes;
    }

    /// <summary>Bytes of <paramref name="key"/> held by <paramref name="owner"/>.</summary>
    public long Holdings(int owner, int key) => _holdings[owner][key];

    /// <summary>Whether <paramref name="owner"/> has a wait in progress.</summary>
    public bool IsBlocked(int owner) => _waitCounts[owner] > 0;

    /// <summary>Starts a wait of <paramref name="owner"/> for <paramref name="key"/>, unless no release could ever end it.</summary>
    /// <param name="owner">The waiting owner, at least 1.</param>
    /// <param name="key">What it waits for.</param>
    /// <param name="usage">Per key, the bytes in use right now (tracked and untracked).</param>
    /// <returns><see cref="ResourceStatus.Ok"/> (the wait is recorded; end it with <see cref="EndWait"/>) or
    /// <see cref="ResourceStatus.Deadlock"/> (nothing recorded).</returns>
    public ResourceStatus TryBeginWait(int owner, int key, ReadOnlySpan<long> usage)
    {
        Debug.Assert(owner > 0, "Only tracked owners wait here.");
        Debug.Assert(usage.Length == _keyCount, "One usage figure per key.");
        if (!CanBeWoken(owner, key, usage))
        {
            return ResourceStatus.Deadlock;
        }

        _waits[owner][key]++;
        _waitCounts[owner]++;
        return ResourceStatus.Ok;
    }

    /// <summary>Ends a wait started by <see cref="TryBeginWait"/>.</summary>
    public void EndWait(int owner, int key)
    {
        Debug.Assert(_waits[owner][key] > 0, "EndWait without a wait.");
        _waits[owner][key]--;
        _waitCounts[owner]--;
    }

    private bool CanBeWoken(int asker, int key, ReadOnlySpan<long> usage)
    {
        Span<bool> visited = stackalloc bool[_keyCount];
        Span<int> queue = stackalloc int[_keyCount];
        int head = 0;
        int tail = 0;
        queue[tail++] = key;
        visited[key] = true;
        while (head < tail)
        {
            int k = queue[head++];
            if (usage[k] - _named[k] > 0 || usage[k] == 0)
            {
                // Untracked code holds some of it (assumed running), or nothing is in use at all and the caller's
                // retry will find room: either way the wait can end.
                return true;
            }

            for (int owner = 1; owner < _holdings.Count; owner++)
            {
                if (owner == asker || _holdings[owner][k] == 0)
                {
                    continue;
                }

                if (_waitCounts[owner] == 0)
                {
                    return true; // a running holder: its release can wake the asker
                }

                int[] waits = _waits[owner];
                for (int next = 0; next < _keyCount; next++)
                {
                    if (waits[next] > 0 && !visited[next])
                    {
                        visited[next] = true;
                        queue[tail++] = next;
                    }
                }
            }
        }

        return false; // every holder reachable is blocked (or is the asker): no release can ever come
    }
}
