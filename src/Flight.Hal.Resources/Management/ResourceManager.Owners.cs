using System.Diagnostics;

namespace Flight.Hal.Resources;

// Named owners: created on first use, never removed, each a node of the wait-for graph.
public sealed partial class ResourceManager
{
    private readonly NameTable<byte> _owners = new(0); // Owner names, under _lock; never released, so ids are dense from 1.

    /// <summary>The owner called <paramref name="name"/>, created on first use.</summary>
    /// <param name="name">A non-empty name such as "GraphicsDriver".</param>
    /// <returns>The owner; the same name always returns the same owner.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null or empty.</exception>
    /// <exception cref="InvalidOperationException"><see cref="MaxOwners"/> owners exist already.</exception>
    /// <remarks>Allocates nothing for a name seen before.</remarks>
    public ResourceOwner GetOwner(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return GetOwner(name.AsSpan(), name);
    }

    /// <summary>The owner called <paramref name="name"/>, created on first use; for names in a buffer (the C ABI).</summary>
    /// <param name="name">A non-empty name.</param>
    /// <returns>The owner.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    /// <exception cref="InvalidOperationException"><see cref="MaxOwners"/> owners exist already.</exception>
    /// <remarks>Allocates nothing for a name seen before.</remarks>
    public ResourceOwner GetOwner(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty)
        {
            ThrowHelper.ThrowArgument(nameof(name), "An owner's name is not empty.");
        }

        return GetOwner(name, null);
    }

    /// <summary>Finds the owner called <paramref name="name"/> without creating it, throwing if there is none.</summary>
    /// <param name="name">The owner's name.</param>
    /// <returns>The owner.</returns>
    /// <exception cref="ResourceException">No owner has that name (<see cref="ResourceStatus.NotFound"/>).</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public ResourceOwner FindOwner(ReadOnlySpan<char> name)
    {
        ThrowHelper.ThrowIfFailed(TryFindOwner(name, out ResourceOwner owner));
        return owner;
    }

    /// <summary>Finds the owner called <paramref name="name"/> without creating it.</summary>
    /// <param name="name">The owner's name.</param>
    /// <param name="owner">On <see cref="ResourceStatus.Ok"/>, the owner; otherwise <see cref="ResourceOwner.None"/>.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>, or <see cref="ResourceStatus.NotFound"/> when no owner has that name.</returns>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    /// <remarks>Allocates nothing. Owners, once created, last as long as the manager.</remarks>
    public ResourceStatus TryFindOwner(ReadOnlySpan<char> name, out ResourceOwner owner)
    {
        ThrowIfDisposed();
        lock (_lock)
        {
            int id = name.IsEmpty ? 0 : _owners.FindHeld(name);
            owner = id == 0 ? ResourceOwner.None : new ResourceOwner(id, _id, _owners.NameOf(id));
            return id == 0 ? ResourceStatus.NotFound : ResourceStatus.Ok;
        }
    }

    private ResourceOwner GetOwner(ReadOnlySpan<char> name, string? text)
    {
        if (TryGetOwner(name, text, out ResourceOwner owner) != ResourceStatus.Ok)
        {
            ThrowHelper.ThrowInvalidOperation($"A manager has at most {MaxOwners} owners.");
        }

        return owner;
    }

    /// <summary><see cref="GetOwner(string)"/> as a status: <see cref="ResourceStatus.CapacityExceeded"/> when
    /// <see cref="MaxOwners"/> owners exist already (the C ABI reports that rather than throw).</summary>
    internal ResourceStatus TryGetOwner(ReadOnlySpan<char> name, string? text, out ResourceOwner owner)
    {
        ThrowIfDisposed();
        lock (_lock)
        {
            int id = _owners.FindHeld(name);
            if (id == 0)
            {
                if (_owners.Count >= MaxOwners)
                {
                    owner = ResourceOwner.None;
                    return ResourceStatus.CapacityExceeded;
                }

                id = _owners.AddRef(name, text);
                int graphId = _graph.AddOwner();
                Debug.Assert(id == graphId, "Owner ids and the graph's agree.");
            }

            owner = new ResourceOwner(id, _id, _owners.NameOf(id));
            return ResourceStatus.Ok;
        }
    }

    private string OwnerName(int id) => id == 0 ? ResourceOwner.None.Name : _owners.NameOf(id);

    /// <summary>Who holds the memory: every owner with its live handles and the bytes they count against the budgets.</summary>
    /// <returns>One entry per owner ever created (in creation order), holding or not.</returns>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    /// <remarks>Anonymous resources belong to no owner and are not in it. Memory shared between owners counts for each
    /// owner that holds a handle to it. O(owners + registered resources), under the registry lock.</remarks>
    public OwnerStats[] GetOwnerStats()
    {
        ThrowIfDisposed();
        lock (_lock)
        {
            int owners = _graph.OwnerCount;
            var handles = new int[owners + 1];
            foreach (HandleTable<Entry>.Entry slot in _registry)
            {
                handles[slot.Value.Owner]++;
            }

            var stats = new OwnerStats[owners];
            for (int id = 1; id <= owners; id++)
            {
                stats[id - 1] = new OwnerStats(new ResourceOwner(id, _id, _owners.NameOf(id)), handles[id], OwnerBytesLocked(id, type: null));
            }

            return stats;
        }
    }

    /// <summary>The bytes of <paramref name="type"/> that <paramref name="owner"/>'s live handles count against its budget.</summary>
    /// <param name="owner">One of this manager's owners.</param>
    /// <param name="type">The resource type.</param>
    /// <returns>The bytes (shared memory counts for every owner holding it).</returns>
    /// <exception cref="ArgumentException"><paramref name="owner"/> is none or another manager's.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is unknown.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public long GetOwnerBytes(ResourceOwner owner, ResourceType type)
    {
        ThrowIfDisposed();
        if (owner.IsNone || owner.ManagerId != _id)
        {
            ThrowHelper.ThrowArgument(nameof(owner), "An owner of this manager is required.");
        }

        if (!ResourceTypes.IsDefined(type))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(type), type, "Unknown resource type.");
        }

        lock (_lock)
        {
            return OwnerBytesLocked(owner.Id, type);
        }
    }

    private long OwnerBytesLocked(int owner, ResourceType? type)
    {
        if (type is ResourceType one)
        {
            return _graph.Holdings(owner, (int)one);
        }

        long bytes = 0;
        for (int t = 0; t < ResourceTypes.Count; t++)
        {
            bytes += _graph.Holdings(owner, t); // the type keys (regions follow them)
        }

        return bytes;
    }

    /// <summary>Whether <paramref name="owner"/> is none or one of this manager's.</summary>
    internal bool IsOwnOrNone(ResourceOwner owner) => owner.ManagerId == 0 || owner.ManagerId == _id;

    private void ValidateOwner(ResourceOwner owner)
    {
        if (owner.ManagerId != 0 && owner.ManagerId != _id)
        {
            ThrowHelper.ThrowArgument(nameof(owner), $"Owner '{owner.Name}' belongs to another ResourceManager.");
        }
    }
}
