namespace Flight.Hal.Resources;

/// <summary>What one owner holds, as <see cref="ResourceManager.GetOwnerStats"/> reports it.</summary>
/// <param name="Owner">The owner.</param>
/// <param name="Resources">Its live handles.</param>
/// <param name="Bytes">The bytes those handles count against the budgets (memory shared between owners counts for each
/// owner that holds it).</param>
public readonly record struct OwnerStats(ResourceOwner Owner, int Resources, long Bytes);
