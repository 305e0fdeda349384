namespace Flight.Hal.Resources.Simulator;

/// <summary>One marked event: what happened, in which frame, to which type; for a pressure change, the new level.</summary>
internal sealed record SimEvent(int Frame, SimEventKind Kind, ResourceType Type, string Detail, ResourcePressure Pressure = ResourcePressure.None);
