namespace Flight.Hal.Resources;

/// <summary>Called once per change of a resource type's pressure level, outside every internal lock.</summary>
/// <param name="change">The type, the old and new levels, and a statistics snapshot.</param>
/// <remarks>May release or acquire resources. An exception it throws is caught and reported through
/// <see cref="ResourceBudgetManager.CallbackFaulted"/>; it never reaches the allocation that caused the change.</remarks>
public delegate void PressureCallback(in PressureChange change);
