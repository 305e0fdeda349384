namespace Flight.Hal.Resources;

/// <summary>How far a budget reservation may go.</summary>
public enum BudgetMode
{
    /// <summary>Up to <see cref="ResourceBudget.OrdinaryLimit"/> (max minus the reserve).</summary>
    Ordinary = 0,

    /// <summary>Up to <see cref="ResourceBudget.MaxBytes"/>: the reserve may be used (emergency requests).</summary>
    UseReserve = 1,

    /// <summary>Never refused: past <see cref="ResourceBudget.MaxBytes"/> it is counted as an overrun (the last resort
    /// of an emergency request).</summary>
    AllowOverrun = 2,
}
