using Flight.Hal.Resources.Tests.TestSupport;
using System.Collections.Concurrent;

namespace Flight.Hal.Resources.Tests.Budgets;

/// <summary>Adversarial probes of serialised, coalesced pressure delivery.</summary>
public class PressureDeliveryOrderTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static ResourceBudgetManager Budgets() => new(new Dictionary<ResourceType, ResourceBudget>
    {
        [ResourceType.Memory] = new(1000),
        [ResourceType.Hardware] = new(1000),
        [ResourceType.Custom] = new(1000),
    });

    [Fact]
    public void ChangesPublishedDuringACallback_AreDeliveredInPublicationOrder()
    {
        // The class remarks promise delivery "in the order the levels were published". Inside a Custom callback,
        // Hardware crosses into Medium first and Memory second; after the callback returns they are delivered Memory
        // first, because the deliverer scans the types by index.
        ResourceBudgetManager budgets = Budgets();
        var order = new List<ResourceType>();
        bool inside = false;
        using IDisposable registration = budgets.RegisterPressureCallback((in PressureChange change) =>
        {
            order.Add(change.Type);
            if (change.Type == ResourceType.Custom && !inside)
            {
                inside = true;
                budgets.Reserve(ResourceType.Hardware, 600); // published first
                budgets.Reserve(ResourceType.Memory, 600);   // published second
            }
        });

        budgets.Reserve(ResourceType.Custom, 600);

        Assert.Equal([ResourceType.Custom, ResourceType.Hardware, ResourceType.Memory], order);
    }

    [Fact]
    public void CallbackThatRegistersAndUnregisters_DuringDelivery_LosesAndDuplicatesNothing()
    {
        ResourceBudgetManager budgets = Budgets();
        var first = new List<(ResourcePressure, ResourcePressure)>();
        var second = new List<(ResourcePressure, ResourcePressure)>();
        IDisposable? secondRegistration = null;
        IDisposable? firstRegistration = null;
        firstRegistration = budgets.RegisterPressureCallback((in PressureChange change) =>
        {
            first.Add((change.Previous, change.Current));
            secondRegistration ??= budgets.RegisterPressureCallback((in PressureChange c) => second.Add((c.Previous, c.Current)));
            firstRegistration!.Dispose();
            budgets.Reserve(ResourceType.Memory, 300); // 600 -> 900: High, delivered after this callback returns
        });

        budgets.Reserve(ResourceType.Memory, 600);

        Assert.Equal([(ResourcePressure.None, ResourcePressure.Medium)], first);
        Assert.Equal([(ResourcePressure.Medium, ResourcePressure.High)], second);
        Assert.Equal(ResourcePressure.High, budgets.GetPressure(ResourceType.Memory));
        secondRegistration!.Dispose();
    }

    [Fact]
    public async Task BlockedCallback_DoesNotBlockOtherThreads_AndTheLastDeliveryMatchesTheLevel()
    {
        ResourceBudgetManager budgets = Budgets();
        var deliveries = new ConcurrentQueue<PressureChange>();
        using var block = new ManualResetEventSlim(false);
        using var blocked = new ManualResetEventSlim(false);
        int faults = 0;
        budgets.CallbackFaulted += (_, _) => Interlocked.Increment(ref faults);
        using IDisposable registration = budgets.RegisterPressureCallback((in PressureChange change) =>
        {
            deliveries.Enqueue(change);
            if (!blocked.IsSet)
            {
                blocked.Set();
                block.Wait(Patience);
            }

            if (change.Current == ResourcePressure.Critical)
            {
                throw new InvalidOperationException("a faulty callback");
            }
        });
        Task blocker = Task.Factory.StartNew(() => budgets.Reserve(ResourceType.Memory, 300), TaskCreationOptions.LongRunning);
        Assert.True(blocked.Wait(Patience));

        // Other threads cross every boundary many times while the deliverer is stuck in the callback.
        Task[] workers = Enumerable.Range(0, 2).Select(seed => Task.Factory.StartNew(
            () =>
            {
                var random = new Random(seed);
                for (int i = 0; i < 20000; i++)
                {
                    ResourceType type = (ResourceType)new[] { 0, 1, 5 }[random.Next(3)];
                    long bytes = random.Next(1, 340);
                    if (budgets.TryReserve(type, bytes, BudgetMode.AllowOverrun) == ResourceStatus.Ok)
                    {
                        budgets.Release(type, bytes);
                    }
                }
            },
            TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(workers).WaitAsync(Patience); // not held up by the blocked callback
        budgets.Reserve(ResourceType.Hardware, 990);        // Critical, while the deliverer is still blocked
        block.Set();
        await blocker.WaitAsync(Patience);

        foreach (ResourceType type in new[] { ResourceType.Memory, ResourceType.Hardware, ResourceType.Custom })
        {
            PressureChange[] mine = deliveries.Where(d => d.Type == type).ToArray();
            ResourcePressure previous = ResourcePressure.None;
            foreach (PressureChange d in mine)
            {
                Assert.Equal(previous, d.Previous);
                Assert.NotEqual(d.Previous, d.Current);
                previous = d.Current;
            }

            Assert.Equal(budgets.GetPressure(type), previous);
            Assert.Equal(budgets.GetBudget(type).PressureAt(budgets.GetStats(type).CurrentBytes), previous);
        }

        Assert.Equal(ResourcePressure.Low, budgets.GetPressure(ResourceType.Memory));
        Assert.Equal(ResourcePressure.Critical, budgets.GetPressure(ResourceType.Hardware));
        Assert.True(faults >= 1);
    }
}
