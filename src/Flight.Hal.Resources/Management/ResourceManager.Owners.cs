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
