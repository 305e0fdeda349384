namespace Flight.Hal.Resources;

/// <summary>How a <see cref="ResourceRecorder"/> records.</summary>
public sealed record ResourceRecorderOptions
{
    /// <summary>The trace's name (the simulator shows it); the profile's name and "recording" by default.</summary>
    public string? Name { get; init; }

    /// <summary>Stamp events with frames of this length of wall time, for a program that never calls
    /// <see cref="ResourceManager.MarkFrame"/>; null (the default): frames are the <c>MarkFrame</c> calls since the
    /// recording started.</summary>
    public TimeSpan? FrameDuration { get; init; }

    /// <summary>Events per buffer (64 to 1,048,576; default 8,192, about 400 KB): the recorder fills one buffer while a
    /// background thread writes the full ones, so recording allocates only when the writer falls a whole buffer behind.</summary>
    public int BufferEvents { get; init; } = 8192;

    /// <summary>Write the resources alive when recording starts as acquisitions at frame 0 (default), so the trace
    /// replays what the program held; otherwise their later releases are left out of the trace.</summary>
    public bool IncludeLiveResources { get; init; } = true;

    /// <summary>Leave the stream given to <see cref="ResourceRecorder.Start(ResourceManager, Stream, ResourceRecorderOptions?)"/>
    /// open when recording stops.</summary>
    public bool LeaveOpen { get; init; }

    /// <summary>Throws if a value is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        if (FrameDuration is TimeSpan duration && duration <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(FrameDuration), duration, "A frame lasts more than zero.");
        }

        if (BufferEvents < 64 || BufferEvents > 1 << 20)
        {
            throw new ArgumentOutOfRangeException(nameof(BufferEvents), BufferEvents, "Must be 64 to 1,048,576.");
        }

        if (Name != null && Name.Length == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Name), Name, "A trace name is not empty; pass null for the default.");
        }
    }
}
