namespace Flight.Hal.Resources.Tests.Management;

public class WaitForGraphTests
{
    private const int Memory = 0;
    private const int Hardware = 1;
    private const int Custom = 2;
    private const int Keys = 3;

    /// <summary>Usage equal to what tracked owners hold: no untracked code holds anything.</summary>
    private static long[] Tracked(WaitForGraph graph)
    {
        var usage = new long[Keys];
        for (int owner = 1; owner <= graph.OwnerCount; owner++)
        {
            for (int key = 0; key < Keys; key++)
            {
                usage[key] += graph.Holdings(owner, key);
            }
        }

        return usage;
    }

    [Fact]
    public void TwoOwners_EachWaitingForWhatTheOtherHolds_IsADeadlock()
    {
        // Arrange: the graphics driver holds Hardware and waits for Memory; the audio driver holds Memory.
        var graph = new WaitForGraph(Keys);
        int graphics = graph.AddOwner();
        int audio = graph.AddOwner();
        graph.AddHolding(graphics, Hardware, 100);
        graph.AddHolding(audio, Memory, 100);
        Assert.Equal(ResourceStatus.Ok, graph.TryBeginWait(graphics, Memory, Tracked(graph)));

        // Act: audio now wants Hardware, which only the blocked graphics driver holds.
        ResourceStatus status = graph.TryBeginWait(audio, Hardware, Tracked(graph));

        // Assert
        Assert.Equal(ResourceStatus.Deadlock, status);
        Assert.False(graph.IsBlocked(audio)); // a refused wait records nothing
    }

    [Fact]
    public void Asker_WokenSinceItsFailedAttempt_IsNotJudgedOnTheGraphAsItWas()
    {
        // Arrange: the two-owner cycle above, but a release landed after audio's attempt failed (its wait epoch 7 is
        // older than the current 8): audio retries rather than sleeps, so no deadlock may be concluded.
        var graph = new WaitForGraph(Keys);
        int graphics = graph.AddOwner();
        int audio = graph.AddOwner();
        graph.AddHolding(graphics, Hardware, 100);
        graph.AddHolding(audio, Memory, 100);
        Assert.Equal(ResourceStatus.Ok, graph.TryBeginWait(graphics, Memory, Tracked(graph), waitEpoch: 8, currentEpoch: 8));

        // Act
        ResourceStatus woken = graph.TryBeginWait(audio, Hardware, Tracked(graph), waitEpoch: 7, currentEpoch: 8);
        graph.EndWait(audio, Hardware);
        ResourceStatus current = graph.TryBeginWait(audio, Hardware, Tracked(graph), waitEpoch: 8, currentEpoch: 8);

        // Assert: judged only with an up-to-date epoch.
        Assert.Equal(ResourceStatus.Ok, woken);
        Assert.Equal(ResourceStatus.Deadlock, current);
    }

    [Fact]
    public void Holder_WokenSinceItBeganWaiting_CountsAsRunning()
    {
        // graphics began waiting at epoch 3; a release since (epoch 4) woke it: it is about to retry, so audio may wait.
        var graph = new WaitForGraph(Keys);
        int graphics = graph.AddOwner();
        int audio = graph.AddOwner();
        graph.AddHolding(graphics, Hardware, 100);
        graph.AddHolding(audio, Memory, 100);
        Assert.Equal(ResourceStatus.Ok, graph.TryBeginWait(graphics, Memory, Tracked(graph), waitEpoch: 3, currentEpoch: 3));

        Assert.Equal(ResourceStatus.Ok, graph.TryBeginWait(audio, Hardware, Tracked(graph), waitEpoch: 4, currentEpoch: 4));
    }

    [Fact]
    public void Wait_ThatARunningHolderCanSatisfy_IsAllowed()
    {
        var graph = new WaitForGraph(Keys);
        int a = graph.AddOwner();
        int b = graph.AddOwner();
        int c = graph.AddOwner();
        graph.AddHolding(a, Hardware, 10);
        graph.AddHolding(b, Memory, 10);
        graph.AddHolding(c, Hardware, 10); // c also holds Hardware and is running
        Assert.Equal(ResourceStatus.Ok, graph.TryBeginWait(a, Memory, Tracked(graph)));

        // A cycle a -> b -> a exists, but c can release Hardware and wake b.
        Assert.Equal(ResourceStatus.Ok, graph.TryBeginWait(b, Hardware, Tracked(graph)));
    }

    [Fact]
    public void UntrackedBytes_CountAsARunningHolder()
    {
        var graph = new WaitForGraph(Keys);
        int a = graph.AddOwner();
        int b = graph.AddOwner();
        graph.AddHolding(a, Hardware, 10);
        graph.AddHolding(b, Memory, 10);
        graph.TryBeginWait(a, Memory, Tracked(graph));
        long[] usage = Tracked(graph);
        usage[Hardware] += 1; // someone without an owner holds one byte of Hardware

        Assert.Equal(ResourceStatus.Ok, graph.TryBeginWait(b, Hardware, usage));
    }

    [Fact]
    public void Waiting_ForAKeyOnlyTheAskerHolds_IsADeadlock()
    {
        var graph = new WaitForGraph(Keys);
        int a = graph.AddOwner();
        graph.AddHolding(a, Memory, 64);

        Assert.Equal(ResourceStatus.Deadlock, graph.TryBeginWait(a, Memory, Tracked(graph)));
    }

    [Fact]
    public void Waiting_ForAKeyNothingUses_IsAllowed_BecauseTheRetryWillFindRoom()
    {
        var graph = new WaitForGraph(Keys);
        int a = graph.AddOwner();

        Assert.Equal(ResourceStatus.Ok, graph.TryBeginWait(a, Custom, Tracked(graph)));
        Assert.True(graph.IsBlocked(a));
        graph.EndWait(a, Custom);
        Assert.False(graph.IsBlocked(a));
    }

    [Fact]
    public void ThreeOwnerChain_IsDetected_AndResolvesWhenOneWakes()
    {
        // a holds Memory, waits Hardware; b holds Hardware, waits Custom; c holds Custom and asks for Memory.
        var graph = new WaitForGraph(Keys);
        int a = graph.AddOwner();
        int b = graph.AddOwner();
        int c = graph.AddOwner();
        graph.AddHolding(a, Memory, 1);
        graph.AddHolding(b, Hardware, 1);
        graph.AddHolding(c, Custom, 1);
        Assert.Equal(ResourceStatus.Ok, graph.TryBeginWait(a, Hardware, Tracked(graph)));
        Assert.Equal(ResourceStatus.Ok, graph.TryBeginWait(b, Custom, Tracked(graph))); // c is running, so b can be woken

        Assert.Equal(ResourceStatus.Deadlock, graph.TryBeginWait(c, Memory, Tracked(graph)));

        // b gives up waiting: c's wait can now be woken through b.
        graph.EndWait(b, Custom);
        Assert.Equal(ResourceStatus.Ok, graph.TryBeginWait(c, Memory, Tracked(graph)));
    }

    [Fact]
    public void ReleasedHoldings_NoLongerBlock()
    {
        var graph = new WaitForGraph(Keys);
        int a = graph.AddOwner();
        int b = graph.AddOwner();
        graph.AddHolding(a, Hardware, 5);
        graph.AddHolding(b, Memory, 5);
        graph.TryBeginWait(a, Memory, Tracked(graph));
        Assert.Equal(ResourceStatus.Deadlock, graph.TryBeginWait(b, Hardware, Tracked(graph)));

        graph.RemoveHolding(a, Hardware, 5); // a's Hardware went back (say, released by a reclamation callback)

        Assert.Equal(0, graph.Holdings(a, Hardware));
        Assert.Equal(ResourceStatus.Ok, graph.TryBeginWait(b, Hardware, Tracked(graph)));
    }

    [Fact]
    public void RemovingMoreThanHeld_Throws_AndChangesNothing()
    {
        var graph = new WaitForGraph(Keys);
        int a = graph.AddOwner();
        graph.AddHolding(a, Memory, 5);

        Assert.Throws<InvalidOperationException>(() => graph.RemoveHolding(a, Memory, 6));
        Assert.Equal(5, graph.Holdings(a, Memory));
    }
}
