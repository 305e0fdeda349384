namespace Flight.Hal.Resources;

/// <summary>How close a resource type's usage is to its budget; see <see cref="ResourceBudget.PressureAt"/>.</summary>
/// <remarks>Ordered: a higher value is more pressure. Values are also the C ABI's codes.</remarks>
public enum ResourcePressure
{
    /// <summary>Under 25 % of the budget.</summary>
    None = 0,

    /// <summary>25 % or more.</summary>
    Low = 1,

    /// <summary>50 % or more.</summary>
    Medium = 2,

    /// <summary>At or above the budget's warning percentage.</summary>
    High = 3,

    /// <summary>At or above the budget's critical percentage.</summary>
    Critical = 4,
}
