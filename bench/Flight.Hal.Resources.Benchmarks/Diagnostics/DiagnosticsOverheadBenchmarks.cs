using System.Diagnostics.Metrics;
using System.Diagnostics.Tracing;
using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Diagnostics;

/// <summary>What diagnostics cost the manager's hot path, in one run: acquire (anonymous, NonBlocking) + resolve + a
/// one-byte write + release on the desktop profile, against <c>ArrayPool&lt;byte&gt;.Shared</c> (the baseline), on four
/// managers: none watched (<c>Manager</c>); tracked by <see cref="ResourceMetrics"/> with a <see cref="MeterListener"/>
/// enabled on every instrument of the meter (<c>ManagerMeterListener</c>; the instruments are observable, so nothing
/// runs until the listener collects); with an <see cref="EventListener"/> enabled on the event source at Verbose
/// (<c>ManagerEventListener</c>); and with the memory-safety mode on (<c>ManagerSafetyMode</c>: the registry path,
/// guards filled and checked, released memory filled and watched).</summary>
/// <remarks>Each invocation loops <see cref="PerInvoke.Ops"/> operations; figures are per operation. The listeners are
/// process-wide; BenchmarkDotNet runs each case in its own process, and each listener is attached in its row's setup.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Diagnostics)]
public unsafe class DiagnosticsOverheadBenchmarks
{
    private ResourceManager _plain = null!;
    private ResourceManager _metered = null!;
    private ResourceManager _evented = null!;
    private ResourceManager _safe = null!;
    private IDisposable? _tracking;
    private MeterListener? _meterListener;
    private BenchEventListener? _eventListener;
    private ResourceMetadata _metadata;

    [Params(64, 4096)]
    public int Size { get; set; }

    [GlobalSetup(Targets = [nameof(ArrayPoolShared), nameof(Manager), nameof(ManagerSafetyMode)])]
    public void Setup()
    {
        PlatformProfile profile = PlatformProfile.Get("desktop");
        _plain = new ResourceManager(profile);
        _metered = new ResourceManager(profile);
        _evented = new ResourceManager(profile);
        _safe = new ResourceManager(profile, new ResourceManagerOptions { MemorySafety = new MemorySafetyOptions() });
        _metadata = new ResourceMetadata(ResourceType.Memory, Size);
    }

    /// <summary>Each case runs in its own process: the listener is attached for this row only.</summary>
    [GlobalSetup(Target = nameof(ManagerMeterListener))]
    public void SetupMeterListener()
    {
        Setup();
        _tracking = ResourceMetrics.Track(_metered, "bench");
        _meterListener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == ResourceMetrics.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _meterListener.SetMeasurementEventCallback<long>((_, _, _, _) => { });
        _meterListener.SetMeasurementEventCallback<double>((_, _, _, _) => { });
        _meterListener.Start();
        _meterListener.RecordObservableInstruments(); // it reads the figures (not timed)
    }

    [GlobalSetup(Target = nameof(ManagerEventListener))]
    public void SetupEventListener()
    {
        Setup();
        _eventListener = new BenchEventListener();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _meterListener?.RecordObservableInstruments();
        _meterListener?.Dispose();
        _eventListener?.Dispose();
        _tracking?.Dispose();
        _plain.Dispose();
        _metered.Dispose();
        _evented.Dispose();
        _safe.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = PerInvoke.Ops)]
    public long ArrayPoolShared() => PeerLoops.ArrayPoolShared(Size);

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long Manager() => Loop(_plain);

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long ManagerMeterListener() => Loop(_metered);

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long ManagerEventListener() => Loop(_evented);

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long ManagerSafetyMode() => Loop(_safe);

    private long Loop(ResourceManager manager)
    {
        long sum = 0;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            manager.TryAcquire(in _metadata, out ResourceHandle handle);
            manager.TryResolve(handle, out nint address, out _);
            *(byte*)address = (byte)i;
            sum += address;
            manager.Release(handle);
        }

        return sum;
    }

    private sealed class BenchEventListener : EventListener
    {
        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Flight-Hal-Resources")
            {
                EnableEvents(eventSource, EventLevel.Verbose);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
        }
    }
}
