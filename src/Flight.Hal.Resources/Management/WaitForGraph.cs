using System.Diagnostics;

namespace Flight.Hal.Resources;

/// <summary>Who holds what and who waits for what, so a blocking acquisition that no release could ever satisfy fails
/// with <see cref="ResourceStatus.Deadlock"/> instead of hanging.</summary>
/// <remarks>
/// <para>A <i>key</i> is something an acquisition can wait for: a resource type's budget, or a memory region. Owner 0
/// is "no owner" and is never tracked. Bytes of a key that no tracked owner holds (<c>usage − named</c>) are held by
/// untracked code, which is assumed to be running and able to release: such a key can always wake its waiters. The
/// caller states usage and named bytes in the same units, and counts each piece of memory once in the named bytes
/// however many owners share it (<c>countNamed</c>), while every owner holding it is recorded as a holder
/// (<see cref="AddHolding"/>).</para>
/// <para>A shared resource goes back only when every holder has released it; the graph treats any running holder as
/// able to release (OR semantics), so it may call a wait wakeable that only another, blocked holder's release could end.
/// It never reports a deadlock that a release could break.</para>
/// <para>An owner is <i>blocked</i> while it has at least one wait in progress and no wake has happened since that wait
/// began; a blocked owner is assumed unable to release anything until its wait ends (the model of one driver thread per
/// owner). A woken owner is about to retry, and counts as running until it waits again. A wait can be woken when, following
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
    private readonly List<long> _waitEpochs = [0];           // per owner: the wake epoch of its key when its latest wait began
    private readonly List<int> _waitKeys = [0];              // per owner: the key of its latest wait
    private readonly long[] _named;                          // per key: bytes held by tracked owners, each piece of memory once

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
        _waitEpochs.Add(0);
        _waitKeys.Add(0);
        return _holdings.Count - 1;
    }

    /// <summary>Records that <paramref name="owner"/> now holds <paramref name="bytes"/> more of <paramref name="key"/>.</summary>
    /// <param name="owner">A tracked owner.</param>
    /// <param name="key">The key.</param>
    /// <param name="bytes">The bytes, in the units the caller's usage figures use.</param>
    /// <param name="countNamed">Whether the bytes also become named: true for a resource's first owned handle, false for
    /// further owners of memory already named (sharing), so each piece of memory is named once.</param>
    public void AddHolding(int owner, int key, long bytes, bool countNamed = true)
    {
        Debug.Assert(owner > 0 && bytes > 0, "Only tracked owners hold bytes.");
        _holdings[owner][key] += bytes;
        if (countNamed)
        {
            _named[key] += bytes;
        }
    }

    /// <summary>Records that <paramref name="owner"/> released <paramref name="bytes"/> of <paramref name="key"/>.</summary>
    /// <param name="owner">A tracked owner.</param>
    /// <param name="key">The key.</param>
    /// <param name="bytes">As added.</param>
    /// <param name="countNamed">Whether the bytes stop being named: true when the memory's last owned handle goes.</param>
    /// <exception cref="InvalidOperationException">The owner does not hold that many bytes (an accounting bug).</exception>
    public void RemoveHolding(int owner, int key, long bytes, bool countNamed = true)
    {
        ref long held = ref _holdings[owner][key];
        if (bytes > held || (countNamed && bytes > _named[key]))
        {
            ThrowHelper.ThrowInvalidOperation($"Owner {owner} holds {held} bytes of key {key} ({_named[key]} named), not {bytes}.");
        }

        held -= bytes;
        if (countNamed)
        {
            _named[key] -= bytes;
        }
    }

    /// <summary>Bytes of <paramref name="key"/> held by tracked owners, each piece of memory once.</summary>
    public long Named(int key) => _named[key];

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
    public ResourceStatus TryBeginWait(int owner, int key, ReadOnlySpan<long> usage) => TryBeginWait(owner, key, usage, 0, 0);

    /// <summary>Starts a wait with one wake epoch for every key (see the overload taking one epoch per key).</summary>
    /// <param name="owner">The waiting owner, at least 1.</param>
    /// <param name="key">What it waits for.</param>
    /// <param name="usage">Per key, the bytes in use right now (tracked and untracked).</param>
    /// <param name="waitEpoch">The epoch the owner read before the attempt that failed.</param>
    /// <param name="currentEpoch">Every key's epoch now.</param>
    /// <returns>As <see cref="TryBeginWait(int, int, ReadOnlySpan{long})"/>.</returns>
    public ResourceStatus TryBeginWait(int owner, int key, ReadOnlySpan<long> usage, long waitEpoch, long currentEpoch)
    {
        Span<long> epochs = stackalloc long[_keyCount];
        epochs.Fill(currentEpoch);
        return TryBeginWait(owner, key, usage, waitEpoch, epochs);
    }

    /// <summary>Starts a wait, as <see cref="TryBeginWait(int, int, ReadOnlySpan{long})"/>, with wake epochs per key
    /// (a key's epoch moves whenever something that could make room in it is released): an owner counts as blocked only
    /// while the key it waits for has not moved since its wait began. A waiter that has been woken is about to retry,
    /// and may be about to succeed and release: it counts as running until it waits again.</summary>
    /// <param name="owner">The waiting owner, at least 1.</param>
    /// <param name="key">What it waits for.</param>
    /// <param name="usage">Per key, the bytes in use right now (tracked and untracked).</param>
    /// <param name="waitEpoch">The epoch of <paramref name="key"/> the owner read before the attempt that failed.</param>
    /// <param name="currentEpochs">Every key's epoch now.</param>
    /// <returns>As <see cref="TryBeginWait(int, int, ReadOnlySpan{long})"/>.</returns>
    public ResourceStatus TryBeginWait(int owner, int key, ReadOnlySpan<long> usage, long waitEpoch, ReadOnlySpan<long> currentEpochs)
    {
        Debug.Assert(owner > 0, "Only tracked owners wait here.");
        Debug.Assert(usage.Length == _keyCount && currentEpochs.Length == _keyCount, "One figure per key.");

        // The asker itself has been woken since its failed attempt began (a release landed in between): it retries
        // rather than sleeps, so no conclusion is drawn from the graph as it was.
        if (waitEpoch == currentEpochs[key] && !CanBeWoken(owner, key, usage, currentEpochs))
        {
            return ResourceStatus.Deadlock;
        }

        _waits[owner][key]++;
        _waitCounts[owner]++;
        _waitEpochs[owner] = waitEpoch;
        _waitKeys[owner] = key;
        return ResourceStatus.Ok;
    }

    /// <summary>Ends a wait started by <see cref="TryBeginWait(int, int, ReadOnlySpan{long}, long, long)"/>.</summary>
    public void EndWait(int owner, int key)
    {
        Debug.Assert(_waits[owner][key] > 0, "EndWait without a wait.");
        _waits[owner][key]--;
        _waitCounts[owner]--;
    }

    private bool CanBeWoken(int asker, int key, ReadOnlySpan<long> usage, ReadOnlySpan<long> currentEpochs)
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

                if (_waitCounts[owner] == 0 || _waitEpochs[owner] != currentEpochs[_waitKeys[owner]])
                {
                    return true; // a running holder (or one woken since it began waiting): its release can wake the asker
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
