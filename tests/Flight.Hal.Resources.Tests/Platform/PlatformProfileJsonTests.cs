namespace Flight.Hal.Resources.Tests.Platform;

/// <summary>Profiles written with ToJson read back equal, pool settings included.</summary>
public class PlatformProfileJsonTests
{
    [Fact]
    public void ToJson_KeepsEveryPoolSetting_SoAProfileRoundTrips()
    {
        // README: "profile.ToJson() writes a profile in the same format", so every PoolConfig setting (BlocksPerSlab and
        // ThreadCacheSize included) must survive a round trip.
        var profile = new PlatformProfile(
            "review-json",
            "pool settings",
            [new MemoryRegion { Name = "main", Kind = RegionKind.Main, Size = 1 << 20 }],
            new Dictionary<ResourceType, ResourceBudget>(),
            [new PoolConfig { Type = ResourceType.Memory, BlockSize = 64, MaxCount = 256, BlocksPerSlab = 16, ThreadCacheSize = 2, ThreadSafe = true }]);

        PlatformProfile back = PlatformProfile.FromJson(profile.ToJson());

        Assert.Equal(profile.Pools[0], back.Pools[0]);
    }
}
