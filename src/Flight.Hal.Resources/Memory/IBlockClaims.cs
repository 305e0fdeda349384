namespace Flight.Hal.Resources;

/// <summary>Which rented blocks of a <see cref="SlabPool"/> an owner above the Memory layer (the
/// resource manager) hands out as its own resources, so the pool's public <see cref="SlabPool.Return"/> can
/// refuse them.</summary>
internal interface IBlockClaims
{
    /// <summary>Whether the block behind <paramref name="raw"/> (a handle of the pool, rented under that generation) is
    /// one of the owner's resources now.</summary>
    bool IsClaimed(ulong raw);
}
