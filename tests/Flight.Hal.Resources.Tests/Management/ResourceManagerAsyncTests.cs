// These tests look at a ValueTask before awaiting it (did room-now complete at once? is a wait pending?), each once.
#pragma warning disable CA2012

using System.Diagnostics;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Management;

/// <summary><see cref="ResourceManager.AcquireAsync"/>: waits for room without a blocked thread, woken by releases,
/// with timeouts, cancellation, deadlock detection and disposal — and nothing left charged by a wait that fails.</summary>
public class ResourceManagerAsyncTests
{
    private const long Ordinary = TestProfiles.MemoryBudget - TestProfiles.MemoryReserve;
    private static readonly TimeSpan Patience = Eventually.Patience;

    private static ResourceMetadata Mem(long size) => new(ResourceType.Memory, size);

    private static ResourceMetadata Hw(long size) => new(ResourceType.Hardware, size);

    [Fact]
    public async Task WithRoomNow_ItCompletesAtOnce()
    {
        using var manager = new ResourceManager(TestProfiles.Small());

        ValueTask<ResourceHandle> acquired = manager.AcquireAsync(Mem(4096), name: "now");

        Assert.True(acquired.IsCompletedSuccessfully);
        ResourceHandle handle = await acquired;
        Assert.Equal("now", manager.GetInfo(handle).Name);
        Assert.Equal(4096, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(0, Allocations.Measure(() => manager.Release(manager.AcquireAsync(Mem(64)).Result)));
    }

    [Fact]
    public async Task ItWaitsForARelease_WithoutPolling_ThenSucceeds()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceHandle filler = manager.Acquire(Mem(Ordinary));
        int attempts = 0;
        using IDisposable counting = manager.RegisterReclamationCallback(ResourceType.Memory, (_, _) =>
        {
            Interlocked.Increment(ref attempts);
            return 0;
        });

        ValueTask<ResourceHandle> waiting = manager.AcquireAsync(Mem(1024));
        Assert.False(waiting.IsCompleted);
        await Task.Delay(300);
        int attemptsWhileWaiting = Volatile.Read(ref attempts);
        manager.Release(filler);

        ResourceHandle handle = await waiting.AsTask().WaitAsync(Patience);
        Assert.InRange(attemptsWhileWaiting, 1, 3); // asked once or twice, not every millisecond
        Assert.Equal(1024, manager.GetStats(ResourceType.Memory).CurrentBytes);
        manager.Release(handle);
    }

    [Fact]
    public async Task ATimeout_FailsWithTimeout_CountsOneFailure_AndLeavesNothingCharged()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        manager.Acquire(Mem(Ordinary));
        var clock = Stopwatch.StartNew();

        var failure = await Assert.ThrowsAsync<ResourceException>(() => manager.AcquireAsync(Mem(1024), timeout: TimeSpan.FromMilliseconds(200)).AsTask());

        Assert.Equal(ResourceStatus.Timeout, failure.Status);
        Assert.InRange(clock.Elapsed.TotalMilliseconds, 190, 5000);
        ResourceStats stats = manager.GetStats(ResourceType.Memory);
        Assert.Equal((Ordinary, 1L), (stats.CurrentBytes, stats.Failures));
        Assert.Equal(ResourceStatus.Timeout, (await Assert.ThrowsAsync<ResourceException>(() => manager.AcquireAsync(Mem(1024), timeout: TimeSpan.Zero).AsTask())).Status);
    }

    [Fact]
    public async Task Cancelling_EndsTheWait_AndLeavesNothingReservedOrCharged()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceHandle filler = manager.Acquire(Mem(Ordinary));
        using var cancel = new CancellationTokenSource();

        ValueTask<ResourceHandle> waiting = manager.AcquireAsync(Mem(1024), cancellationToken: cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.AsTask().WaitAsync(Patience));
        manager.Release(filler);
        ResourceHandle all = manager.Acquire(Mem(Ordinary)); // nothing of the cancelled wait is held
        Assert.Equal(Ordinary, manager.GetStats(ResourceType.Memory).CurrentBytes);
        manager.Release(all);
        Assert.True(manager.AcquireAsync(Mem(64), cancellationToken: new CancellationToken(true)).IsCanceled);
    }

    [Fact]
    public async Task TwoOwnersAwaitingEachOther_TheSecondIsToldDeadlock()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceOwner a = manager.GetOwner("A");
        ResourceOwner b = manager.GetOwner("B");
        manager.Acquire(Hw(TestProfiles.HardwareBudget - TestProfiles.HardwareReserve), owner: a);
        ResourceHandle bMemory = manager.Acquire(Mem(Ordinary), owner: b);

        ValueTask<ResourceHandle> aWaits = manager.AcquireAsync(Mem(1024), owner: a);
        Eventually.Holds(() => manager.IsOwnerWaitingForTests(a), "A's wait");
        var failure = await Assert.ThrowsAsync<ResourceException>(() => manager.AcquireAsync(Hw(1024), owner: b).AsTask().WaitAsync(Patience));

        Assert.Equal(ResourceStatus.Deadlock, failure.Status);
        manager.Release(bMemory, b);
        ResourceHandle got = await aWaits.AsTask().WaitAsync(Patience);
        Assert.Equal(a.Id, manager.GetInfo(got).Owner.Id);
    }

    [Fact]
    public async Task DisposingTheManager_EndsTheWait_WithObjectDisposed()
    {
        var manager = new ResourceManager(TestProfiles.Small());
        manager.Acquire(Mem(Ordinary));
        ValueTask<ResourceHandle> waiting = manager.AcquireAsync(Mem(1024));

        manager.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting.AsTask().WaitAsync(Patience));
    }

    [Fact]
    public async Task ARequestNoReleaseCouldSatisfy_FailsAtOnce()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ValueTask<ResourceHandle> huge = manager.AcquireAsync(Mem(TestProfiles.MemoryBudget * 2));
        Assert.Equal(ResourceStatus.BudgetExceeded, (await Assert.ThrowsAsync<ResourceException>(() => huge.AsTask())).Status);
        Assert.Throws<ArgumentException>(() => manager.AcquireAsync(default));
        Assert.Throws<ArgumentException>(() => manager.AcquireAsync(Mem(64), name: ""));
        Assert.Throws<ArgumentOutOfRangeException>(() => manager.AcquireAsync(Mem(64), timeout: TimeSpan.FromSeconds(-2)));
    }

    [Fact]
    public async Task ManyAsyncWaiters_AreServedAsMemoryIsReleased()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceHandle filler = manager.Acquire(Mem(Ordinary));
        Task<ResourceHandle>[] waiters = [.. Enumerable.Range(0, 100).Select(_ => manager.AcquireAsync(Mem(4096)).AsTask())];
        Assert.All(waiters, w => Assert.False(w.IsCompleted));

        manager.Release(filler); // room for 14 of them; each one served releases room for another
        var pending = waiters.ToList();
        int served = 0;
        while (pending.Count > 0)
        {
            Task<ResourceHandle> done = await Task.WhenAny(pending).WaitAsync(Patience);
            pending.Remove(done);
            Assert.Equal(ResourceStatus.Ok, manager.Release(await done));
            served++;
        }

        Assert.Equal(100, served);
        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
    }
}
