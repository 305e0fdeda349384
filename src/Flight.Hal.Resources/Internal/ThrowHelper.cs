using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

/// <summary>Throw sites kept out of line so the hot paths that call them stay small and inlinable.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowResourceException(ResourceStatus status) => throw new ResourceException(status);

    /// <summary>The throwing twins' one check: throws a <see cref="ResourceException"/> for anything but
    /// <see cref="ResourceStatus.Ok"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ThrowIfFailed(ResourceStatus status)
    {
        if (status != ResourceStatus.Ok)
        {
            ThrowResourceException(status);
        }
    }

    [DoesNotReturn]
    public static void ThrowForeignHandle(string paramName) =>
        throw new ArgumentException("The handle was issued by another table or pool and cannot be used here.", paramName);

    [DoesNotReturn]
    public static void ThrowObjectDisposed(object instance) => throw new ObjectDisposedException(instance.GetType().Name);

    [DoesNotReturn]
    public static void ThrowArgumentOutOfRange(string paramName, object? actual, string message) =>
        throw new ArgumentOutOfRangeException(paramName, actual, message);

    [DoesNotReturn]
    public static void ThrowArgument(string paramName, string message) => throw new ArgumentException(message, paramName);

    [DoesNotReturn]
    public static void ThrowInvalidOperation(string message) => throw new InvalidOperationException(message);
}
