namespace Flight.Hal.Resources.Tests;

public class ResourceStatusTests
{
    [Theory]
    [InlineData(ResourceStatus.Ok, 0)]
    [InlineData(ResourceStatus.BudgetExceeded, 1)]
    [InlineData(ResourceStatus.PoolExhausted, 2)]
    [InlineData(ResourceStatus.StaleHandle, 3)]
    [InlineData(ResourceStatus.OutOfMemory, 4)]
    [InlineData(ResourceStatus.NotFound, 5)]
    [InlineData(ResourceStatus.SharingFailure, 6)]
    [InlineData(ResourceStatus.Timeout, 7)]
    [InlineData(ResourceStatus.Deadlock, 8)]
    [InlineData(ResourceStatus.CapacityExceeded, 9)]
    [InlineData(ResourceStatus.InvalidHandle, 10)]
    [InlineData(ResourceStatus.RegionExhausted, 11)]
    [InlineData(ResourceStatus.Fragmented, 12)]
    [InlineData(ResourceStatus.Corrupted, 13)]
    [InlineData(ResourceStatus.InvalidArgument, 254)]
    [InlineData(ResourceStatus.InternalError, 255)]
    public void Value_IsPinnedForTheCAbi(ResourceStatus status, int expected)
    {
        Assert.Equal(expected, (int)status);
    }

    [Theory]
    [InlineData(ResourceStatus.Ok, ResourceErrorCategory.None)]
    [InlineData(ResourceStatus.BudgetExceeded, ResourceErrorCategory.Resource)]
    [InlineData(ResourceStatus.PoolExhausted, ResourceErrorCategory.Resource)]
    [InlineData(ResourceStatus.OutOfMemory, ResourceErrorCategory.Memory)]
    [InlineData(ResourceStatus.Fragmented, ResourceErrorCategory.Memory)]
    [InlineData(ResourceStatus.RegionExhausted, ResourceErrorCategory.Memory)]
    [InlineData(ResourceStatus.Corrupted, ResourceErrorCategory.Memory)]
    [InlineData(ResourceStatus.StaleHandle, ResourceErrorCategory.Validation)]
    [InlineData(ResourceStatus.InvalidHandle, ResourceErrorCategory.Validation)]
    [InlineData(ResourceStatus.SharingFailure, ResourceErrorCategory.Sharing)]
    [InlineData(ResourceStatus.Deadlock, ResourceErrorCategory.Sharing)]
    [InlineData(ResourceStatus.InternalError, ResourceErrorCategory.Platform)]
    [InlineData((ResourceStatus)1234, ResourceErrorCategory.Platform)]
    public void GetCategory_EachStatus_MapsToItsCategory(ResourceStatus status, ResourceErrorCategory expected)
    {
        Assert.Equal(expected, status.GetCategory());
    }

    [Fact]
    public void GetDescription_EveryDefinedStatus_HasItsOwnText()
    {
        // Arrange
        ResourceStatus[] all = Enum.GetValues<ResourceStatus>();

        // Act
        string[] descriptions = all.Select(s => s.GetDescription()).ToArray();

        // Assert
        Assert.DoesNotContain("Unknown status.", descriptions);
        Assert.Equal(all.Length, descriptions.Distinct().Count());
    }

    [Fact]
    public void ResourceException_CarriesStatusAndCategory()
    {
        var exception = new ResourceException(ResourceStatus.PoolExhausted);

        Assert.Equal(ResourceStatus.PoolExhausted, exception.Status);
        Assert.Equal(ResourceErrorCategory.Resource, exception.Category);
        Assert.Contains("PoolExhausted", exception.Message);
    }
}
