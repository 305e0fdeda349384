namespace Flight.Hal.Resources.Tests.Management;

public class WaitForGraphTests
{
    private const ResourceType Memory = ResourceType.Memory;
    private const ResourceType Hardware = ResourceType.Hardware;
    private const ResourceType Custom = ResourceType.Custom;

    [Fact]
    public void TwoOwners_EachWaitingForWhatTheOtherHolds_IsADeadlock()
    {
        // Arrange: the graphics driver holds video memory (Hardware) and waits for Memory; the audio driver holds Memory.
        var graph = new WaitForGraph();
        int graphics = graph.AddOwner();
        int audio = graph.AddOwner();
        graph.AddHolding(graphics, Hardware);
        graph.AddHolding(audio, Memory);
        Assert.Equal(ResourceStatus.Ok, graph.TryBeginWait(graphics, Memory));

        // Act: audio now wants Hardware, which only the blocked graphics driver holds.
        ResourceStatus status = graph.TryBeginWait(audio, Hardware);

        // Assert
        Assert.Equal(ResourceStatus.Deadlock, status);
    }

    [Fact]
    public void Wait_ThatARunningHolderCanSatisfy_IsAllowed()
    {
        var graph = new WaitForGraph();
        int a = graph.AddOwner();
        int b = graph.AddOwner();
        int c = graph.AddOwner();
        graph.AddHolding(a, Hardware);
        graph.AddHolding(b, Memory);
        graph.AddHolding(c, Hardware); // c also holds Hardware and is running
        graph.TryBeginWait(a, Memory);

        // A cycle a -> b -> a exists, but c can release Hardware and wake b.
        Assert.Equal(ResourceStatus.Ok, graph.TryBeginWait(b, Hardware));
    }

    [Fact]
    public void Waiting_ForATypeOnlyTheAskerHolds_IsADeadlock()
    {
        var graph = new WaitForGraph();
        int a = graph.AddOwner();
        graph.AddHolding(a, Memory);

        Assert.Equal(ResourceStatus.Deadlock, graph.TryBeginWait(a, Memory));
    }

    [Fact]
    public void Waiting_ForATypeNobodyHolds_IsADeadlock()
    {
        var graph = new WaitForGraph();
        int a = graph.AddOwner();

        Assert.Equal(ResourceStatus.Deadlock, graph.TryBeginWait(a, Custom));
    }

    [Fact]
    public void ThreeOwnerChain_IsDetected_AndResolvesWhenOneWakes()
    {
        // a holds Memory, waits Hardware; b holds Hardware, waits Custom; c holds Custom and asks for Memory.
        var graph = new WaitForGraph();
        int a = graph.AddOwner();
        int b = graph.AddOwner();
        int c = graph.AddOwner();
        graph.AddHolding(a, Memory);
        graph.AddHolding(b, Hardware);
        graph.AddHolding(c, Custom);
        Assert.Equal(ResourceStatus.Ok, graph.TryBeginWait(a, Hardware));
        Assert.Equal(ResourceStatus.Ok, graph.TryBeginWait(b, Custom)); // c is running, so b can be woken

        Assert.Equal(ResourceStatus.Deadlock, graph.TryBeginWait(c, Memory));

        // b gives up waiting: c's wait can now be woken through b (b runs, releases Hardware, wakes a, a releases Memory).
        graph.EndWait(b);
        Assert.Equal(ResourceStatus.Ok, graph.TryBeginWait(c, Memory));
    }

    [Fact]
    public void RefusedWait_ChangesNothing()
    {
        var graph = new WaitForGraph();
        int a = graph.AddOwner();
        int b = graph.AddOwner();
        graph.AddHolding(a, Memory);
        graph.AddHolding(b, Hardware);
        graph.TryBeginWait(a, Hardware);
        Assert.Equal(ResourceStatus.Deadlock, graph.TryBeginWait(b, Memory));

        // b is not marked as waiting: a third owner's wait on Hardware can still be woken by b.
        int c = graph.AddOwner();
        Assert.Equal(ResourceStatus.Ok, graph.TryBeginWait(c, Hardware));
    }

    [Fact]
    public void Releases_UpdateTheHoldings()
    {
        var graph = new WaitForGraph();
        int a = graph.AddOwner();
        int b = graph.AddOwner();
        graph.AddHolding(b, Memory);
        graph.AddHolding(b, Memory);
        graph.RemoveHolding(b, Memory);
        Assert.Equal(1, graph.Holdings(b, Memory));
        graph.RemoveHolding(b, Memory);

        Assert.Equal(ResourceStatus.Deadlock, graph.TryBeginWait(a, Memory)); // b no longer holds any
        Assert.Throws<InvalidOperationException>(() => graph.RemoveHolding(b, Memory));
        Assert.Equal(2, graph.OwnerCount);
    }

    [Fact]
    public void WaitingTwice_IsAProgrammingError()
    {
        var graph = new WaitForGraph();
        int a = graph.AddOwner();
        int b = graph.AddOwner();
        graph.AddHolding(b, Memory);
        graph.TryBeginWait(a, Memory);

        Assert.Throws<InvalidOperationException>(() => graph.TryBeginWait(a, Memory));
        graph.EndWait(a);
        Assert.Equal(ResourceStatus.Ok, graph.TryBeginWait(a, Memory));
    }
}
