namespace Flight.Hal.Resources;

/// <summary>Asked to free memory of a type before a request for it is refused on budget.</summary>
/// <param name="type">The resource type short of budget.</param>
/// <param name="requestedBytes">How many more bytes the waiting request needs.</param>
/// <returns>The bytes it released (through the normal release path); 0 if it could free nothing.</returns>
/// <remarks>Runs on the requesting thread, outside every internal lock, and may release resources (it usually does).
/// An exception it throws is caught, reported through <see cref="ResourceBudgetManager.CallbackFaulted"/>, and
/// counted as 0 bytes freed.</remarks>
public delegate long ReclamationCallback(ResourceType type, long requestedBytes);
