using System.Diagnostics;

namespace Flight.Hal.Resources;

/// <summary>Which owners hold resources of which types, and which owners are blocked waiting for a type: refuses a
/// wait that could never be woken.</summary>
/// <remarks>
/// <para>A blocked acquisition of type T is woken by any release of T, so the waits form an OR-graph: owner A waiting
/// for T can be woken by any other owner that holds T and can still run. A new wait by A for T is a deadlock exactly
/// when no owner that could ever release T can run: every holder of T other than A is itself blocked, and so is every
/// holder of the types those owners wait for, recursively (A counts as blocked, since it is about to wait). In
/// particular two owners each waiting for what the other holds are refused, while a wait that a third, running owner
/// can satisfy is allowed. The search walks resource types, so it costs O(types × owners).</para>
/// <para>Budget changes and emergency acquisitions can also make room; they are not counted on, so a refusal is a
/// guarantee that waiting on releases alone would hang, not a proof that nothing else could help.</para>
/// <para>Thread-safe: every member takes the graph's lock. Used only on the slow path of blocking acquisitions.</para>
/// </remarks>
internal sealed class WaitForGraph
{
    private const int NotWaiting = -1;

    private readonly object _lock = new();
    private readonly List<int[]> _holdings = [];  // _holdings[owner][type]: live resources of that type the owner holds
    private readonly List<int> _waitingFor = [];  // _waitingFor[owner]: the type it is blocked on, or NotWaiting

    /// <summary>Number of owners known to the graph.</summary>
    public int OwnerCount
    {
        get
        {
            lock (_lock)
            {
                return _holdings.Count;
            }
        }
    }

    /// <summary>Adds an owner and returns its id (0, 1, 2, ...).</summary>
    public int AddOwner()
    {
        lock (_lock)
        {
            _holdings.Add(new int[ResourceTypes.Count]);
            _waitingFor.Add(NotWaiting);
            return _holdings.Count - 1;
        }
    }

    /// <summary>Records that <paramref name="owner"/> now holds one more resource of <paramref name="type"/>.</summary>
    public void AddHolding(int owner, ResourceType type)
    {
        lock (_lock)
        {
            _holdings[owner][(int)type]++;
        }
    }

    /// <summary>Records that <paramref name="owner"/> released one resource of <paramref name="type"/>.</summary>
    /// <exception cref="InvalidOperationException">The owner holds none (an accounting bug in the caller).</exception>
    public void RemoveHolding(int owner, ResourceType type)
    {
        lock (_lock)
        {
            ref int count = ref _holdings[owner][(int)type];
            if (count == 0)
            {
                ThrowHelper.ThrowInvalidOperation($"Owner {owner} holds no {type} resource to release.");
            }

            count--;
        }
    }

    /// <summary>How many resources of <paramref name="type"/> <paramref name="owner"/> holds.</summary>
    public int Holdings(int owner, ResourceType type)
    {
        lock (_lock)
        {
            return _holdings[owner][(int)type];
        }
    }

    /// <summary>Marks <paramref name="owner"/> as blocked on <paramref name="type"/>, unless that wait could never be woken.</summary>
    /// <returns><see cref="ResourceStatus.Ok"/> (now marked as waiting; call <see cref="EndWait"/> when the wait ends)
    /// or <see cref="ResourceStatus.Deadlock"/> (nothing changed).</returns>
    /// <exception cref="InvalidOperationException">The owner is already waiting.</exception>
    public ResourceStatus TryBeginWait(int owner, ResourceType type)
    {
        lock (_lock)
        {
            if (_waitingFor[owner] != NotWaiting)
            {
                ThrowHelper.ThrowInvalidOperation($"Owner {owner} is already waiting.");
            }

            if (!CanBeWoken(owner, type))
            {
                return ResourceStatus.Deadlock;
            }

            _waitingFor[owner] = (int)type;
            return ResourceStatus.Ok;
        }
    }

    /// <summary>Ends <paramref name="owner"/>'s wait (it was woken, timed out or gave up).</summary>
    public void EndWait(int owner)
    {
        lock (_lock)
        {
            Debug.Assert(_waitingFor[owner] != NotWaiting, "EndWait without a wait.");
            _waitingFor[owner] = NotWaiting;
        }
    }

    /// <summary>Whether some owner other than <paramref name="asker"/> that can run could, through a chain of releases,
    /// release <paramref name="type"/>.</summary>
    private bool CanBeWoken(int asker, ResourceType type)
    {
        Span<bool> visited = stackalloc bool[ResourceTypes.Count];
        Span<int> queue = stackalloc int[ResourceTypes.Count];
        int head = 0;
        int tail = 0;
        queue[tail++] = (int)type;
        visited[(int)type] = true;
        while (head < tail)
        {
            int t = queue[head++];
            for (int owner = 0; owner < _holdings.Count; owner++)
            {
                if (owner == asker || _holdings[owner][t] == 0)
                {
                    continue;
                }

                int waitsFor = _waitingFor[owner];
                if (waitsFor == NotWaiting)
                {
                    return true; // a running holder: its release can wake the asker
                }

                if (!visited[waitsFor])
                {
                    visited[waitsFor] = true;
                    queue[tail++] = waitsFor;
                }
            }
        }

        return false; // every holder reachable is blocked (or is the asker): no release can ever come
    }
}
