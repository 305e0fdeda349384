namespace Flight.Hal.Resources.Tests;

public class HalResultTests
{
    [Fact]
    public void Success_CarriesTheValue()
    {
        HalResult<int> result = HalResult<int>.Success(42);

        Assert.True(result.IsOk);
        Assert.Equal(42, result.Value);
        Assert.Equal(42, result.ValueOrThrow());
        Assert.True(result.TryGetValue(out int value));
        Assert.Equal(42, value);
        Assert.Equal(ResourceErrorCategory.None, result.Category);
    }

    [Fact]
    public void Failure_CarriesTheStatus_AndThrowsOnValueOrThrow()
    {
        HalResult<string> result = HalResult<string>.Failure(ResourceStatus.BudgetExceeded);

        Assert.False(result.IsOk);
        Assert.Null(result.Value);
        Assert.False(result.TryGetValue(out _));
        Assert.Equal(ResourceErrorCategory.Resource, result.Category);
        Assert.Equal(ResourceStatus.BudgetExceeded, Assert.Throws<ResourceException>(() => result.ValueOrThrow()).Status);
    }

    [Fact]
    public void Failure_WithOk_Throws()
    {
        Assert.Throws<ArgumentException>(() => HalResult<int>.Failure(ResourceStatus.Ok));
    }
}
