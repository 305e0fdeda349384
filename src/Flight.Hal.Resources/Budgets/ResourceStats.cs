namespace Flight.Hal.Resources;

/// <summary>A snapshot of one resource type's budget accounting.</summary>
/// <remarks>Each field is read atomically; fields read while other threads reserve or release may be from slightly
/// different moments. At a quiescent point <see cref="CurrentBytes"/> is exact.</remarks>
/// <param name="Type">The resource type.</param>
/// <param name="Budget">The budget in force.</param>
/// <param name="CurrentBytes">Bytes reserved now.</param>
/// <param name="PeakBytes">The most bytes reserved at once since creation.</param>
/// <param name="Acquisitions">Successful reservations.</param>
/// <param name="Releases">Releases.</param>
/// <param name="Failures">Reservations refused on budget.</param>
/// <param name="ReserveAcquisitions">Successful reservations that went past the ordinary limit into the reserve.</param>
/// <param name="EmergencyOverruns">Reservations that went past <see cref="ResourceBudget.MaxBytes"/>.</param>
/// <param name="Reclamations">Reclamation callback calls.</param>
/// <param name="ReclaimedBytes">Bytes those calls reported freed.</param>
/// <param name="Pressure">The pressure level last published for this type.</param>
public readonly record struct ResourceStats(
    ResourceType Type,
    ResourceBudget Budget,
    long CurrentBytes,
    long PeakBytes,
    long Acquisitions,
    long Releases,
    long Failures,
    long ReserveAcquisitions,
    long EmergencyOverruns,
    long Reclamations,
    long ReclaimedBytes,
    ResourcePressure Pressure);
