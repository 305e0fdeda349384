using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Diagnostics;

/// <summary>The event source <c>Flight-Hal-Resources</c>, read by an <see cref="EventListener"/>: one test per event,
/// each looking for its own distinctive payload (other tests run at the same time and raise events too).</summary>
public sealed class ResourceEventSourceTests : IDisposable
{
    private readonly Listener _listener = new();

    public void Dispose() => _listener.Dispose();

    private sealed class Listener : EventListener
    {
        private ConcurrentQueue<(string Name, long[] Payload)>? _events;

        public ConcurrentQueue<(string Name, long[] Payload)> Events => LazyInitializer.EnsureInitialized(ref _events);

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Flight-Hal-Resources")
            {
                EnableEvents(eventSource, EventLevel.Verbose);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventSource.Name == "Flight-Hal-Resources" && eventData.EventName != null)
            {
                Events.Enqueue((eventData.EventName, [.. (eventData.Payload ?? []).Select(p => Convert.ToInt64(p, System.Globalization.CultureInfo.InvariantCulture))]));
            }
        }
    }

    private bool Saw(string name, Func<long[], bool> payload) => _listener.Events.Any(e => e.Name == name && payload(e.Payload));

    [Fact]
    public void ARefusedAcquisition_RaisesAcquisitionFailed_WithTypeStatusAndSize()
    {
        using var manager = new ResourceManager(TestProfiles.Small());

        manager.TryAcquire(new ResourceMetadata(ResourceType.Memory, 60_123), out _);

        Assert.True(Saw("AcquisitionFailed", p => p is [0, (long)ResourceStatus.BudgetExceeded, 60_123]));
    }

    [Fact]
    public void APressureChange_RaisesPressureChanged_WithTheLevelsAndTheBytes()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        manager.SetBudget(ResourceType.Custom, new ResourceBudget(1_000_003));

        ResourceHandle big = manager.Acquire(new ResourceMetadata(ResourceType.Custom, 900_001));

        Assert.True(Saw("PressureChanged", p => p is [(long)ResourceType.Custom, (long)ResourcePressure.None, _, 900_001] && p[2] >= (long)ResourcePressure.High));
        manager.Release(big);
    }

    [Fact]
    public void AReclamationRequest_RaisesReclamation_WithTheBytesAskedAndFreed()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using IDisposable reclaimer = manager.RegisterReclamationCallback(ResourceType.Memory, (_, _) => 0);
        manager.Acquire(new ResourceMetadata(ResourceType.Memory, 50_000));

        manager.TryAcquire(new ResourceMetadata(ResourceType.Memory, 7_777), out _); // 433 bytes over the ordinary limit

        Assert.True(Saw("Reclamation", p => p is [0, 433, 0]));
    }

    [Fact]
    public void AnEmergencyPastTheBudget_RaisesEmergencyOverrun()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        manager.Acquire(new ResourceMetadata(ResourceType.Memory, TestProfiles.MemoryBudget - TestProfiles.MemoryReserve));
        manager.Acquire(new ResourceMetadata(ResourceType.Memory, TestProfiles.MemoryReserve), mode: AcquisitionMode.Emergency);

        manager.Acquire(new ResourceMetadata(ResourceType.Memory, 1_111), mode: AcquisitionMode.Emergency);

        Assert.True(Saw("EmergencyOverrun", p => p is [0, 1_111, TestProfiles.MemoryBudget + 1_111]));
    }

    [Fact]
    public async Task ARefusedDeadlock_RaisesDeadlockRefused()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceOwner a = manager.GetOwner("A");
        ResourceOwner b = manager.GetOwner("B");
        manager.Acquire(new ResourceMetadata(ResourceType.Hardware, TestProfiles.HardwareBudget - TestProfiles.HardwareReserve), owner: a);
        ResourceHandle bMemory = manager.Acquire(new ResourceMetadata(ResourceType.Memory, TestProfiles.MemoryBudget - TestProfiles.MemoryReserve), owner: b);
        Task<ResourceStatus> aWaits = Task.Factory.StartNew(
            () => manager.TryAcquire(new ResourceMetadata(ResourceType.Memory, 1024), out _, mode: AcquisitionMode.Timeout, timeout: Eventually.Patience, owner: a),
            TaskCreationOptions.LongRunning);
        Eventually.Holds(() => manager.IsOwnerWaitingForTests(a), "A's wait");

        ResourceStatus status = manager.TryAcquire(new ResourceMetadata(ResourceType.Hardware, 1024), out _, mode: AcquisitionMode.Timeout, timeout: Eventually.Patience, owner: b);

        Assert.Equal(ResourceStatus.Deadlock, status);
        Assert.True(Saw("DeadlockRefused", p => p is [_, (long)ResourceType.Hardware] && p[0] == b.Id));
        manager.Release(bMemory, b);
        Assert.Equal(ResourceStatus.Ok, await aWaits.WaitAsync(Eventually.Patience));
    }

    [Fact]
    public void DisposingWithResourcesAlive_RaisesLeaksAtDispose()
    {
        var manager = new ResourceManager(TestProfiles.Small(), new ResourceManagerOptions { LeakReported = _ => { } });
        for (int i = 0; i < 3; i++)
        {
            manager.Acquire(new ResourceMetadata(ResourceType.Custom, 70_001));
        }

        manager.Dispose();

        Assert.True(Saw("LeaksAtDispose", p => p is [3, 210_003]));
    }

    [Fact]
    public unsafe void AnOverrunInTheSafetyMode_RaisesCorruptionFound_WithKindHandleOffsetAndDamage()
    {
        using var manager = new ResourceManager(TestProfiles.Small(), new ResourceManagerOptions { MemorySafety = new MemorySafetyOptions() });
        ResourceHandle handle = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 3333));
        byte* p = (byte*)manager.ResolveAddress(handle);
        p[3333 + 5] = 0;
        p[3333 + 6] = 0;

        manager.Release(handle);

        Assert.True(Saw("CorruptionFound", e => e is [(long)CorruptionKind.Overrun, _, 3338, 2] && e[1] == (long)handle.RawValue));
    }
}
