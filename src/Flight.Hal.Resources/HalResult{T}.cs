using System.Diagnostics.CodeAnalysis;

namespace Flight.Hal.Resources;

/// <summary>A status and, when it is <see cref="ResourceStatus.Ok"/>, a value: the allocation-free result of a hot-path call.</summary>
/// <typeparam name="T">The value's type.</typeparam>
/// <remarks>Immutable; <c>default</c> is an <see cref="ResourceStatus.Ok"/> result holding <c>default(T)</c> — build
/// results with <see cref="Success"/> and <see cref="Failure"/>.</remarks>
public readonly record struct HalResult<T>
{
    private HalResult(ResourceStatus status, T value)
    {
        Status = status;
        Value = value;
    }

    /// <summary>What happened.</summary>
    public ResourceStatus Status { get; }

    /// <summary>The value when <see cref="IsOk"/>; <c>default</c> otherwise.</summary>
    public T Value { get; }

    /// <summary>Whether <see cref="Status"/> is <see cref="ResourceStatus.Ok"/>.</summary>
    public bool IsOk => Status == ResourceStatus.Ok;

    /// <summary>The status's category, for <c>error.category()</c>-style code.</summary>
    public ResourceErrorCategory Category => Status.GetCategory();

    /// <summary>A successful result.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The result.</returns>
    public static HalResult<T> Success(T value) => new(ResourceStatus.Ok, value);

    /// <summary>A failed result.</summary>
    /// <param name="status">Why; not <see cref="ResourceStatus.Ok"/>.</param>
    /// <returns>The result.</returns>
    /// <exception cref="ArgumentException"><paramref name="status"/> is <see cref="ResourceStatus.Ok"/>.</exception>
    public static HalResult<T> Failure(ResourceStatus status)
    {
        if (status == ResourceStatus.Ok)
        {
            ThrowHelper.ThrowArgument(nameof(status), "A failure needs a status other than Ok.");
        }

        return new HalResult<T>(status, default!);
    }

    /// <summary>The value, or a <see cref="ResourceException"/> carrying the status.</summary>
    /// <returns>The value.</returns>
    /// <exception cref="ResourceException">The result is not Ok.</exception>
    public T ValueOrThrow()
    {
        if (!IsOk)
        {
            ThrowHelper.ThrowResourceException(Status);
        }

        return Value;
    }

    /// <summary>Gets the value when the result is Ok.</summary>
    /// <param name="value">The value, or <c>default</c>.</param>
    /// <returns>Whether the result is Ok.</returns>
    public bool TryGetValue([MaybeNullWhen(false)] out T value)
    {
        value = Value;
        return IsOk;
    }
}
