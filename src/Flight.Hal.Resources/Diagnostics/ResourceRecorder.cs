using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Flight.Hal.Resources;

/// <summary>Records a running <see cref="ResourceManager"/>: every successful acquisition, release and share, stamped
/// with frames from <see cref="ResourceManager.MarkFrame"/> (or wall time), written as the simulator's JSON trace, so a
/// play-through recorded on a desktop replays on a smaller machine: <c>flight-sim --workload run.json --profile
/// dreamcast</c>.</summary>
/// <remarks>
/// <para><b>Cost.</b> Recording appends a fixed-size record to a buffer under a short lock and allocates nothing per
/// event; a background thread writes full buffers (with <see cref="Utf8JsonWriter"/>), and the rest when recording stops.
/// Each handle is the trace's id (<c>h</c> and its 16 hex digits), so every id is unique; owners are written by name.</para>
/// <para><b>Order.</b> Events are written in the order the operations completed (a share under the registry lock), so
/// every release and share names a resource acquired before it. Resources alive when recording starts are written as
/// acquisitions at frame 0 (<see cref="ResourceRecorderOptions.IncludeLiveResources"/>): their alignment and mode are
/// not known then (0 and NonBlocking), and each extra handle of a shared resource is written as an acquisition of its
/// own, so budgets count such memory once per handle in a replay.</para>
/// <para><b>Failures.</b> A path that cannot be written fails <see cref="Start(ResourceManager, string, ResourceRecorderOptions?)"/>
/// before anything is attached. A write that fails later (a full disk) stops the recording: the manager goes on
/// unaffected, <see cref="WriteError"/> says why and <see cref="Stop"/> throws it. Disposing the manager stops the
/// recording first, writing everything.</para>
/// <para>Thread-safe. One recorder per manager at a time.</para>
/// </remarks>
public sealed class ResourceRecorder : IDisposable
{
    private const byte OpAcquire = 0;
    private const byte OpRelease = 1;
    private const byte OpShare = 2;

    private readonly ResourceManager _manager;
    private readonly ResourceRecorderOptions _options;
    private readonly Stream _stream;
    private readonly Recorder _observer;
    private readonly object _gate = new();             // guards the buffers and the counts below
    private readonly Queue<(Event[] Buffer, int Count)> _full = new();
    private readonly Stack<Event[]> _free = new();
    private readonly SemaphoreSlim _ready = new(0);
    private readonly Thread _writer;
    private readonly long _startFrame;
    private readonly long _startTimestamp;
    private readonly double _ticksPerFrame;
    private readonly List<(LeakedResource Resource, string Id)> _initial = [];
    private Event[] _current;
    private int _count;
    private long _events;
    private bool _stopping;                              // set once: the writer drains and finishes
    private int _stopped;                                // Stop ran (0/1)
    private volatile Exception? _writeError;

    private ResourceRecorder(ResourceManager manager, Stream stream, ResourceRecorderOptions options)
    {
        _manager = manager;
        _options = options;
        _stream = stream;
        _observer = new Recorder(this);
        _current = new Event[options.BufferEvents];
        _startFrame = manager.CurrentFrame;
        _startTimestamp = Stopwatch.GetTimestamp();
        _ticksPerFrame = options.FrameDuration is TimeSpan frame ? frame.TotalSeconds * Stopwatch.Frequency : 0;
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "Flight.Hal.Resources recorder" };
    }

    /// <summary>Starts recording <paramref name="manager"/> into a new file at <paramref name="path"/> (replaced if it exists).</summary>
    /// <param name="manager">The manager to record.</param>
    /// <param name="path">The trace file (.json).</param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <returns>The recorder: stop or dispose it to finish the file.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="manager"/> or <paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="IOException">The file cannot be created (nothing is attached).</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be written (nothing is attached).</exception>
    /// <exception cref="InvalidOperationException">Another recorder is attached to <paramref name="manager"/>.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public static ResourceRecorder Start(ResourceManager manager, string path, ResourceRecorderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentException.ThrowIfNullOrEmpty(path);
        (options ?? new ResourceRecorderOptions()).Validate();
        ObjectDisposedException.ThrowIf(manager.IsDisposed, manager);
        var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 64 * 1024);
        try
        {
            return Start(manager, file, (options ?? new ResourceRecorderOptions()) with { LeaveOpen = false });
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Starts recording <paramref name="manager"/> into <paramref name="stream"/>.</summary>
    /// <param name="manager">The manager to record.</param>
    /// <param name="stream">A writable stream; closed when recording stops unless <see cref="ResourceRecorderOptions.LeaveOpen"/>.</param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <returns>The recorder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="manager"/> or <paramref name="stream"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="stream"/> cannot be written.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException">Another recorder is attached to <paramref name="manager"/>.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public static ResourceRecorder Start(ResourceManager manager, Stream stream, ResourceRecorderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite)
        {
            throw new ArgumentException("The stream cannot be written.", nameof(stream));
        }

        options ??= new ResourceRecorderOptions();
        options.Validate();
        ObjectDisposedException.ThrowIf(manager.IsDisposed, manager);
        var recorder = new ResourceRecorder(manager, stream, options);
        if (options.IncludeLiveResources)
        {
            foreach (LeakedResource resource in manager.CreateLeakReport().Resources)
            {
                recorder._initial.Add((resource, Id(resource.Handle.RawValue)));
            }
        }

        manager.AttachObserver(recorder._observer); // throws if another recorder is attached: nothing started yet
        recorder._writer.Start();
        return recorder;
    }

    /// <summary>Events recorded so far (the live resources written at the start included).</summary>
    public long EventsRecorded
    {
        get
        {
            lock (_gate)
            {
                return _events + _initial.Count;
            }
        }
    }

    /// <summary>Whether events are being recorded (not stopped, and no write has failed).</summary>
    public bool IsRecording => Volatile.Read(ref _stopped) == 0 && _writeError == null;

    /// <summary>Why writing failed, if it did; the recording stopped then.</summary>
    public Exception? WriteError => _writeError;

    /// <summary>Stops recording: detaches from the manager, writes every event still buffered, finishes the JSON and
    /// closes the stream (unless left open). Idempotent.</summary>
    /// <exception cref="IOException">A write failed (also one that failed earlier, in the background); the manager is
    /// unaffected and the file is incomplete.</exception>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        _manager.DetachObserver(_observer);
        lock (_gate)
        {
            _stopping = true;
            if (_count > 0)
            {
                _full.Enqueue((_current, _count));
                _count = 0;
            }
        }

        _ready.Release();
        _writer.Join();
        _ready.Dispose();
        if (_writeError is Exception error)
        {
            throw error as IOException ?? new IOException($"Recording failed: {error.Message}", error);
        }
    }

    /// <summary>As <see cref="Stop"/>, but a write failure is not thrown (see <see cref="WriteError"/>).</summary>
    public void Dispose()
    {
        try
        {
            Stop();
        }
        catch (IOException)
        {
            // WriteError keeps it.
        }
    }

    private static string Id(ulong raw) => "h" + raw.ToString("x16", CultureInfo.InvariantCulture);

    private long Frame()
    {
        long frame = _ticksPerFrame > 0
            ? (long)((Stopwatch.GetTimestamp() - _startTimestamp) / _ticksPerFrame)
            : _manager.CurrentFrame - _startFrame;
        return Math.Clamp(frame, 0, int.MaxValue);
    }

    private void Append(in Event e)
    {
        lock (_gate)
        {
            if (_stopping || _writeError != null)
            {
                return;
            }

            _current[_count++] = e;
            _events++;
            if (_count < _current.Length)
            {
                return;
            }

            _full.Enqueue((_current, _count));
            _current = _free.Count > 0 ? _free.Pop() : new Event[_options.BufferEvents]; // new only when the writer lags
            _count = 0;
        }

        _ready.Release();
    }

    private void WriteLoop()
    {
        var names = new Dictionary<int, string>();
        Utf8JsonWriter? json = null;
        try
        {
            json = new Utf8JsonWriter(_stream, new JsonWriterOptions { Indented = false });
            json.WriteStartObject();
            json.WriteString("name", _options.Name ?? $"{_manager.Profile.Name} recording");
            json.WriteString("profile", _manager.Profile.Name);
            json.WriteString("recordedAt", DateTimeOffset.UtcNow);
            json.WriteStartArray("events");
            foreach ((LeakedResource r, string id) in _initial)
            {
                WriteAcquire(json, 0, id, r.Type, r.Size, 0, r.Flags, AcquisitionMode.NonBlocking, r.Owner == ResourceOwner.None.Name ? null : r.Owner);
            }

            while (true)
            {
                _ready.Wait();
                while (true)
                {
                    Event[] buffer;
                    int count;
                    lock (_gate)
                    {
                        if (_full.Count == 0)
                        {
                            if (_stopping)
                            {
                                goto Finish;
                            }

                            break;
                        }

                        (buffer, count) = _full.Dequeue();
                    }

                    WriteEvents(json, buffer, count, names);
                    json.Flush();
                    lock (_gate)
                    {
                        _free.Push(buffer);
                    }
                }
            }

        Finish:
            json.WriteEndArray();
            json.WriteNumber("frames", Frame() + 1);
            json.WriteEndObject();
            json.Flush();
            _stream.Flush();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or NotSupportedException or ObjectDisposedException)
        {
            _writeError = exception;
            _manager.DetachObserver(_observer);
        }
        finally
        {
            json?.Dispose();
            if (!_options.LeaveOpen)
            {
                try
                {
                    _stream.Dispose();
                }
                catch (IOException exception)
                {
                    _writeError ??= exception;
                }
            }
        }
    }

    private void WriteEvents(Utf8JsonWriter json, Event[] buffer, int count, Dictionary<int, string> names)
    {
        for (int i = 0; i < count; i++)
        {
            ref Event e = ref buffer[i];
            switch (e.Op)
            {
                case OpAcquire:
                    WriteAcquire(json, e.Frame, Id(e.Handle), (ResourceType)e.Type, e.Size, e.Alignment, (ResourceFlags)e.Flags, (AcquisitionMode)e.Mode,
                        e.Owner == 0 ? null : OwnerName(e.Owner, names));
                    break;
                case OpRelease:
                    json.WriteStartObject();
                    json.WriteNumber("frame", e.Frame);
                    json.WriteString("op", "release");
                    json.WriteString("id", Id(e.Handle));
                    json.WriteEndObject();
                    break;
                default:
                    json.WriteStartObject();
                    json.WriteNumber("frame", e.Frame);
                    json.WriteString("op", "share");
                    json.WriteString("id", Id(e.Handle));
                    json.WriteString("owner", e.Owner == 0 ? ResourceOwner.None.Name : OwnerName(e.Owner, names));
                    json.WriteString("target", Id(e.Other));
                    json.WriteEndObject();
                    break;
            }
        }
    }

    private string OwnerName(int owner, Dictionary<int, string> names)
    {
        if (!names.TryGetValue(owner, out string? name))
        {
            name = _manager.OwnerNameOf(owner);
            names[owner] = name;
        }

        return name;
    }

    private static void WriteAcquire(
        Utf8JsonWriter json, long frame, string id, ResourceType type, long size, int alignment, ResourceFlags flags, AcquisitionMode mode, string? owner)
    {
        json.WriteStartObject();
        json.WriteNumber("frame", frame);
        json.WriteString("op", "acquire");
        json.WriteString("id", id);
        json.WriteString("type", type.ToString());
        json.WriteNumber("size", size);
        if (alignment != 0)
        {
            json.WriteNumber("alignment", alignment);
        }

        if (flags != ResourceFlags.None)
        {
            json.WriteString("flags", flags.ToString().Replace(", ", "|", StringComparison.Ordinal));
        }

        if (mode != AcquisitionMode.NonBlocking)
        {
            json.WriteString("mode", mode.ToString());
        }

        if (owner != null)
        {
            json.WriteString("owner", owner);
        }

        json.WriteEndObject();
    }

    /// <summary>One recorded operation: fixed size, no references, so buffers of them cost the GC nothing to hold.</summary>
    private struct Event
    {
        public long Frame;
        public ulong Handle;
        public ulong Other;     // share: the new handle
        public long Size;
        public int Alignment;
        public int Owner;
        public ushort Flags;
        public byte Op;
        public byte Type;
        public byte Mode;
    }

    /// <summary>The manager's observer: turns each call into an <see cref="Event"/>.</summary>
    private sealed class Recorder(ResourceRecorder recorder) : ResourceObserver
    {
        public override void OnAcquired(ResourceHandle handle, in ResourceMetadata metadata, AcquisitionMode mode, int owner) =>
            recorder.Append(new Event
            {
                Frame = recorder.Frame(),
                Op = OpAcquire,
                Handle = handle.RawValue,
                Type = (byte)metadata.Type,
                Size = metadata.Size,
                Alignment = metadata.Alignment,
                Flags = (ushort)metadata.Flags,
                Mode = (byte)mode,
                Owner = owner,
            });

        public override void OnReleased(ResourceHandle handle) =>
            recorder.Append(new Event { Frame = recorder.Frame(), Op = OpRelease, Handle = handle.RawValue });

        public override void OnShared(ResourceHandle source, int owner, ResourceHandle shared) =>
            recorder.Append(new Event { Frame = recorder.Frame(), Op = OpShare, Handle = source.RawValue, Other = shared.RawValue, Owner = owner });

        public override void OnManagerDisposing() => recorder.Dispose();
    }
}
