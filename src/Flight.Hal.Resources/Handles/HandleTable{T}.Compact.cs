using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

// The compact form: a table created with compact: true also names its entries by 4-byte CompactHandle<T>s. Each member
// converts and goes through the 8-byte member, so both forms name the same entries and are checked the same way.
public sealed unsafe partial class HandleTable<T>
{
    /// <summary>Whether the table was created compact (its entries can be named by <see cref="CompactHandle{T}"/>).</summary>
    public bool IsCompact => _compact;

    /// <summary>Allocates an entry holding <paramref name="value"/> and names it by a compact handle.</summary>
    /// <param name="value">The entry's initial value.</param>
    /// <param name="handle">On <see cref="ResourceStatus.Ok"/>, the new entry's compact handle; otherwise <see langword="default"/>.</param>
    /// <returns>As <see cref="TryAllocate(in T, out Handle{T})"/>.</returns>
    /// <exception cref="InvalidOperationException">The table is not compact.</exception>
    /// <exception cref="ObjectDisposedException">The table has been disposed.</exception>
    public ResourceStatus TryAllocate(in T value, out CompactHandle<T> handle)
    {
        ThrowIfNotCompact();
        ResourceStatus status = TryAllocate(in value, out Handle<T> wide);
        handle = status == ResourceStatus.Ok ? Compact(wide.RawValue) : default;
        return status;
    }

    /// <summary>The compact handle of an entry this table issued (live or not: a stale handle stays stale).</summary>
    /// <param name="handle">A handle of this table, or null (gives null).</param>
    /// <returns>The same reference in 4 bytes.</returns>
    /// <exception cref="InvalidOperationException">The table is not compact.</exception>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was issued by another table.</exception>
    public CompactHandle<T> ToCompact(Handle<T> handle)
    {
        ThrowIfNotCompact();
        ulong raw = handle.RawValue;
        if (raw == 0)
        {
            return default;
        }

        if (!HandleLayout.IsFromIssuer(raw, _tag, _baseGeneration) || HandleLayout.Generation(raw) - _baseGeneration > CompactHandle<T>.MaxGeneration)
        {
            ThrowHelper.ThrowForeignHandle(nameof(handle));
        }

        return Compact(raw);
    }

    /// <summary>The 8-byte handle a compact handle stands for in this table (no check: the members that take it check).</summary>
    /// <param name="handle">A compact handle this table issued; null gives null.</param>
    /// <returns>The handle.</returns>
    /// <exception cref="InvalidOperationException">The table is not compact.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Handle<T> ToHandle(CompactHandle<T> handle)
    {
        ThrowIfNotCompact();
        return new Handle<T>(Expand(handle));
    }

    /// <summary>As <see cref="Free(Handle{T})"/>, by compact handle.</summary>
    /// <param name="handle">A compact handle this table issued.</param>
    /// <returns>As <see cref="Free(Handle{T})"/>; a compact handle of another table is caught only if its slot and
    /// generation do not match (<see cref="ResourceStatus.StaleHandle"/>).</returns>
    /// <exception cref="InvalidOperationException">The table is not compact.</exception>
    /// <exception cref="ObjectDisposedException">The table has been disposed.</exception>
    public ResourceStatus Free(CompactHandle<T> handle) => Free(ToHandle(handle));

    /// <summary>As <see cref="Contains(Handle{T})"/>, by compact handle.</summary>
    /// <param name="handle">A compact handle.</param>
    /// <returns>Whether it names a live entry.</returns>
    /// <exception cref="InvalidOperationException">The table is not compact.</exception>
    public bool Contains(CompactHandle<T> handle) => Contains(ToHandle(handle));

    /// <summary>As <see cref="Get(Handle{T})"/>, by compact handle.</summary>
    /// <param name="handle">A compact handle this table issued.</param>
    /// <returns>A reference to the live entry.</returns>
    /// <exception cref="InvalidOperationException">The table is not compact.</exception>
    /// <exception cref="ResourceException">The handle is stale or null.</exception>
    /// <exception cref="ObjectDisposedException">The table has been disposed.</exception>
    public ref T Get(CompactHandle<T> handle) => ref Get(ToHandle(handle));

    /// <summary>As <see cref="GetValueRefOrNullRef(Handle{T})"/>, by compact handle.</summary>
    /// <param name="handle">A compact handle.</param>
    /// <returns>A reference to the live entry, or a null reference.</returns>
    /// <exception cref="InvalidOperationException">The table is not compact.</exception>
    public ref T GetValueRefOrNullRef(CompactHandle<T> handle) => ref GetValueRefOrNullRef(ToHandle(handle));

    /// <summary>As <see cref="TryGet(Handle{T}, out T)"/>, by compact handle.</summary>
    /// <param name="handle">A compact handle this table issued.</param>
    /// <param name="value">The entry, or <see langword="default"/>.</param>
    /// <returns>As <see cref="TryGet(Handle{T}, out T)"/>.</returns>
    /// <exception cref="InvalidOperationException">The table is not compact.</exception>
    /// <exception cref="ObjectDisposedException">The table has been disposed.</exception>
    public ResourceStatus TryGet(CompactHandle<T> handle, out T value) => TryGet(ToHandle(handle), out value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private CompactHandle<T> Compact(ulong raw) => new(HandleLayout.Index(raw), HandleLayout.Generation(raw) - _baseGeneration);

    /// <summary>A compact handle's 8-byte value here: this table's tag, the slot, and the generation above the base.
    /// Null stays null; a generation the table never issued simply matches no slot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Expand(CompactHandle<T> handle) =>
        handle.IsNull ? 0 : ((ulong)(_baseGeneration + handle.Generation) << 32) | ((uint)handle.Index << HandleLayout.TagBits) | (uint)_tag;

    private void ThrowIfNotCompact()
    {
        if (!_compact)
        {
            ThrowHelper.ThrowInvalidOperation("This table is not compact: create it with compact: true to use CompactHandle<T>.");
        }
    }
}
