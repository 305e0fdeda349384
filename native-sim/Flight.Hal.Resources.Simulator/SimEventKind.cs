namespace Flight.Hal.Resources.Simulator;

/// <summary>Something worth marking on the charts.</summary>
internal enum SimEventKind
{
    Pressure,
    Reclaim,
    Emergency,
    Failure,
}
