namespace Flight.Hal.Resources;

/// <summary>A named owner of resources in one <see cref="ResourceManager"/> (a driver or subsystem such as
/// "GraphicsDriver"): what sharing gives a second handle to, and what deadlock detection reasons about.</summary>
/// <remarks><para><see langword="default"/> (<see cref="None"/>) is "no particular owner": such resources take the fastest
/// path and count as held by running code. Get owners from <see cref="ResourceManager.GetOwner(string)"/>; the same name
/// always gives the same owner. An owner is valid only with the manager that issued it, and lasts as long as it (at most
/// <see cref="ResourceManager.MaxOwners"/> per manager).</para>
/// <para>An owner is one thread of control — a driver, a loader — and deadlock detection relies on that: while an owner
/// waits (Blocking, Timeout), it is taken to be unable to release anything. Two threads that acquire and release
/// independently should be two owners; if one owner's threads can release while another of its threads waits, the
/// detector may report a <see cref="ResourceStatus.Deadlock"/> that the other thread's release would have broken.</para></remarks>
public readonly struct ResourceOwner : IEquatable<ResourceOwner>
{
    private readonly string? _name;

    internal ResourceOwner(int id, int managerId, string name)
    {
        Id = id;
        ManagerId = managerId;
        _name = name;
    }

    /// <summary>No particular owner.</summary>
    public static ResourceOwner None => default;

    /// <summary>1-based id within the manager; 0 for <see cref="None"/>.</summary>
    public int Id { get; }

    /// <summary>The owner's name; "(none)" for <see cref="None"/>.</summary>
    public string Name => _name ?? "(none)";

    /// <summary>Whether this is <see cref="None"/>.</summary>
    public bool IsNone => Id == 0;

    internal int ManagerId { get; }

    /// <inheritdoc/>
    public bool Equals(ResourceOwner other) => Id == other.Id && ManagerId == other.ManagerId;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ResourceOwner other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Id, ManagerId);

    /// <inheritdoc/>
    public override string ToString() => Name;

    /// <summary>Equality.</summary>
    public static bool operator ==(ResourceOwner left, ResourceOwner right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(ResourceOwner left, ResourceOwner right) => !left.Equals(right);
}
