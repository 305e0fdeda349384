using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Flight.Hal.Resources.Tests.TestSupport;

/// <summary>Where a seeded model-based run is — suite, seed, step and the operation being checked — so that every
/// mismatch between the real object and its model names the exact point to replay.</summary>
/// <remarks>Recording an operation stores its name and up to three numbers; nothing is formatted until a check fails,
/// so a run of a million steps allocates nothing here.</remarks>
public sealed class ModelTrace
{
    private readonly string _suite;
    private string _operation = "setup";
    private ulong _handle;
    private long _a;
    private long _b;

    public ModelTrace(string suite, int seed)
    {
        _suite = suite;
        Seed = seed;
        Step = -1;
    }

    public int Seed { get; }

    public int Step { get; private set; }

    /// <summary>Where the run is now, as the failure message starts.</summary>
    public string Where => string.Create(
        CultureInfo.InvariantCulture,
        $"{_suite}: seed {Seed}, step {Step}, op {_operation}(handle 0x{_handle:x}, {_a}, {_b})");

    /// <summary>Records the operation about to run.</summary>
    public void Begin(int step, string operation, ulong handle = 0, long a = 0, long b = 0)
    {
        Step = step;
        _operation = operation;
        _handle = handle;
        _a = a;
        _b = b;
    }

    /// <summary>Records the operation's handle once it is known (after an allocation, say).</summary>
    public void SetHandle(ulong handle) => _handle = handle;

    public void Equal<T>(T expected, T actual, string what)
    {
        if (!EqualityComparer<T>.Default.Equals(expected, actual))
        {
            Fail(string.Create(CultureInfo.InvariantCulture, $"{what}: expected {expected}, actual {actual}"));
        }
    }

    public void True([DoesNotReturnIf(false)] bool condition, string what)
    {
        if (!condition)
        {
            Fail(what);
        }
    }

    /// <summary>Runs <paramref name="action"/> and fails unless it throws <typeparamref name="TException"/> (or a subclass).</summary>
    public TException Throws<TException>(Action action, string what)
        where TException : Exception
    {
        try
        {
            action();
        }
        catch (TException expected)
        {
            return expected;
        }
        catch (Exception other)
        {
            Fail($"{what}: expected {typeof(TException).Name}, got {other.GetType().Name}: {other.Message}");
        }

        Fail($"{what}: expected {typeof(TException).Name}, nothing was thrown");
        return null;
    }

    /// <summary>Runs <paramref name="action"/> and fails unless it throws a <see cref="ResourceException"/> with
    /// <paramref name="status"/>.</summary>
    public void ThrowsStatus(ResourceStatus status, Action action, string what)
    {
        ResourceException exception = Throws<ResourceException>(action, what);
        Equal(status, exception.Status, what + " (exception status)");
    }

    [DoesNotReturn]
    public void Fail(string message) => Assert.Fail($"{Where}: {message}");
}
