namespace Flight.Hal.Resources;

/// <summary>What an acquisition does when its budget (or pool, or region) has no room.</summary>
/// <remarks>Values are also the C ABI's codes.</remarks>
public enum AcquisitionMode
{
    /// <summary>Fail at once with the reason.</summary>
    NonBlocking = 0,

    /// <summary>Wait until releases make room (woken by the release); fail at once if the request can never fit, or if
    /// waiting would deadlock between owners.</summary>
    Blocking = 1,

    /// <summary>As <see cref="Blocking"/>, but give up with <see cref="ResourceStatus.Timeout"/> after the given time.</summary>
    Timeout = 2,

    /// <summary>Use the budget's reserve, then reclamation, then exceed the budget as a counted overrun — but never the
    /// physical region.</summary>
    Emergency = 3,
}
