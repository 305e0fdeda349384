using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources.Tests.Handles;

public class ResourceHandleTests
{
    [Fact]
    public void Size_IsEightBytes()
    {
        Assert.Equal(8, Unsafe.SizeOf<ResourceHandle>());
        Assert.Equal(8, Unsafe.SizeOf<Handle<System.Numerics.Vector3>>());
        Assert.Equal(8, Unsafe.SizeOf<Handle<long>>());
    }

    [Fact]
    public void Default_IsNull()
    {
        ResourceHandle handle = default;

        Assert.True(handle.IsNull);
        Assert.Equal(ResourceHandle.Null, handle);
        Assert.Equal(0UL, handle.RawValue);
        Assert.Equal(0u, handle.Generation);
        Assert.Equal("ResourceHandle(null)", handle.ToString());
    }

    [Fact]
    public void FromRawValue_RoundTripsAndCompares()
    {
        using var table = new HandleTable<long>(4);
        var issued = (ResourceHandle)table.Allocate(7);

        ResourceHandle copy = ResourceHandle.FromRawValue(issued.RawValue);

        Assert.Equal(issued, copy);
        Assert.True(issued == copy);
        Assert.False(issued != copy);
        Assert.Equal(issued.GetHashCode(), copy.GetHashCode());
        Assert.True(issued.Equals((object)copy));
        Assert.False(copy.IsNull);
    }

    [Fact]
    public void ToString_ShowsSlotAndGeneration()
    {
        using var table = new HandleTable<long>(4);
        table.Allocate();
        Handle<long> second = table.Allocate();

        string text = second.ToString();

        Assert.StartsWith("Handle<Int64>(", text);
        Assert.EndsWith($":1@{second.Generation})", text);
        Assert.Equal(1, second.Index);
        Assert.Equal(1u, second.Generation & 1); // odd: live (the first generation is above the tag's earlier issuers')
    }

    [Fact]
    public void IssuedGenerations_AreOdd_FreedSlotAdvancesByTwo()
    {
        using var table = new HandleTable<int>(1);
        Handle<int> first = table.Allocate();
        table.Free(first);

        Handle<int> second = table.Allocate();

        Assert.Equal(first.Index, second.Index);
        Assert.Equal(1u, first.Generation & 1);
        Assert.Equal(first.Generation + 2, second.Generation);
        Assert.NotEqual(first, second);
    }
}
