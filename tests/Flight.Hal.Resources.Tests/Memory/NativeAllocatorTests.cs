using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Memory;

public unsafe class NativeAllocatorTests
{
    [Theory]
    [InlineData(1, 8)]
    [InlineData(64, 64)]
    [InlineData(4096, 4096)]
    [InlineData(100_000, 16)]
    public void TryAllocate_ReturnsAlignedMemory_AndCountsIt(int bytes, int alignment)
    {
        // Arrange
        var allocator = new TrackingAllocator();

        // Act
        void* pointer = allocator.TryAllocate((nuint)bytes, (nuint)alignment);

        // Assert
        Assert.True(pointer != null);
        Assert.Equal(0, (nint)pointer % alignment);
        Assert.Equal(bytes, allocator.LiveBytes);
        Assert.Equal(1, allocator.LiveAllocations);
        new Span<byte>(pointer, bytes).Fill(0xAB); // the whole range is writable
        allocator.Free(pointer, (nuint)bytes, (nuint)alignment);
        Assert.Equal(0, allocator.LiveBytes);
        Assert.Equal(0, allocator.LiveAllocations);
        Assert.Equal(1, allocator.TotalAllocations);
    }

    [Fact]
    public void TryAllocate_ZeroBytes_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NativeAllocator.Default.TryAllocate(0, 8));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(24)]
    public void TryAllocate_AlignmentNotPowerOfTwo_Throws(int alignment)
    {
        Assert.Throws<ArgumentException>(() => NativeAllocator.Default.TryAllocate(16, (nuint)alignment));
    }

    [Fact]
    public void TryAllocate_WhenCoreFails_ReturnsNullAndCountsTheFailure()
    {
        var allocator = new TrackingAllocator { FailAll = true };

        void* pointer = allocator.TryAllocate(64, 8);

        Assert.True(pointer == null);
        Assert.Equal(1, allocator.FailedAllocations);
        Assert.Equal(0, allocator.LiveBytes);
    }

    [Fact]
    public void Free_Null_IsANoOp()
    {
        var allocator = new TrackingAllocator();

        allocator.Free(null, 64, 8);

        Assert.Equal(0, allocator.LiveAllocations);
    }

    [Fact]
    public void Default_AllocatesFromTheSystemHeap()
    {
        long before = NativeAllocator.Default.TotalAllocations;
        void* pointer = NativeAllocator.Default.TryAllocate(256, 32);

        Assert.True(pointer != null);
        Assert.Equal(0, (nint)pointer % 32);
        Assert.True(NativeAllocator.Default.TotalAllocations > before);
        NativeAllocator.Default.Free(pointer, 256, 32);
    }
}
