using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

/// <summary>Turns a validated native address into a span or a reference: the only place the Management and Scoping
/// layers touch a pointer, and the one resolve-to-span rule (an allocation larger than a span is refused).</summary>
internal static unsafe class NativeView
{
    /// <summary>A span over <paramref name="length"/> bytes at <paramref name="address"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Span<byte> AsSpan(nint address, int length)
    {
        // SAFETY: callers pass an address and length the manager resolved from a live handle just now; the memory stays
        // valid until that handle is released (a span kept past its release is the caller's bug, as with ArrayPool).
        Debug.Assert(address != 0 && length >= 0, "A live resource has an address and a length.");
        return new Span<byte>((void*)address, length);
    }

    /// <summary>The span for a resolution: on <see cref="ResourceStatus.Ok"/>, <paramref name="size"/> bytes at
    /// <paramref name="address"/>, or <see cref="ResourceStatus.InvalidArgument"/> (and an empty span) when the allocation
    /// is larger than a span can describe; any other status passes through with an empty span.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ResourceStatus ToSpan(ResourceStatus resolved, nint address, long size, out Span<byte> span)
    {
        if (resolved == ResourceStatus.Ok && size > int.MaxValue)
        {
            resolved = ResourceStatus.InvalidArgument;
        }

        span = resolved == ResourceStatus.Ok ? AsSpan(address, (int)size) : default;
        return resolved;
    }

    /// <summary>A reference to a <typeparamref name="T"/> at <paramref name="address"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref T AsRef<T>(nint address)
        where T : unmanaged
    {
        // SAFETY: as for AsSpan; callers checked that the resource holds at least sizeof(T) bytes and is aligned for T.
        Debug.Assert(address != 0 && address % Math.Min(sizeof(T), 8) == 0, "A live, aligned resource.");
        return ref *(T*)address;
    }
}
