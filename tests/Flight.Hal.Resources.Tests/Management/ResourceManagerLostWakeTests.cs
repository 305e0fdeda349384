using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Management;

/// <summary>Stress probe for a lost wake in the refusal-gated wake (see the review report): two requests that hold budget
/// and then fail on video RAM, and a waiter that needs the budget. The interleaving that loses the wake needs one
/// request's baseline read and hold to fall between the waiter's refusal announcement and its last recheck, so this
/// rarely fires; it passes unless the wake is lost.</summary>
public class ResourceManagerLostWakeTests
{
    [Fact]
    public async Task WaiterOnABudgetThatTwoDoomedRequestsHoldInTurn_IsNeverLeftAsleep()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        manager.SetBudget(ResourceType.Custom, new ResourceBudget(300 * 1024));
        manager.SetBudget(ResourceType.Hardware, new ResourceBudget(TestProfiles.VideoSize));
        manager.Acquire(new ResourceMetadata(ResourceType.Hardware, 200 * 1024, flags: ResourceFlags.GpuAccessible));
        var doomed = new ResourceMetadata(ResourceType.Custom, 160 * 1024, flags: ResourceFlags.GpuAccessible);
        var wanted = new ResourceMetadata(ResourceType.Custom, 150 * 1024);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        Task X() => Task.Factory.StartNew(
            () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    manager.TryAcquire(doomed, out _);
                }
            },
            TaskCreationOptions.LongRunning);
        Task x1 = X();
        Task x2 = X();
        int timeouts = 0;
        int rounds = 0;
        while (!stop.IsCancellationRequested)
        {
            ResourceStatus status = manager.TryAcquire(wanted, out ResourceHandle handle, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromSeconds(1));
            if (status == ResourceStatus.Ok)
            {
                manager.Release(handle);
            }
            else
            {
                timeouts++;
            }

            rounds++;
        }

        await Task.WhenAll(x1, x2).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(rounds > 10, $"{rounds} rounds");
        Assert.Equal(0, timeouts);
    }
}
