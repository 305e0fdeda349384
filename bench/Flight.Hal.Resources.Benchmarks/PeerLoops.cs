using System.Buffers;
using System.Runtime.InteropServices;

namespace Flight.Hal.Resources.Benchmarks;

/// <summary>The timed loops of the .NET peers that several suites run alike (<c>PoolRentReturnBenchmarks</c>,
/// <c>ManagerPooledBenchmarks</c>, <c>ManagerPooledScalingBenchmarks</c>): each runs <see cref="PerInvoke.Ops"/>
/// operations and returns the sum, and is called once per invocation from a one-line benchmark method.</summary>
/// <remarks>Only small loops belong here. The JIT's inlining budget for a method grows with the method's IL size, so a
/// loop moved into a helper with fewer IL bytes, or inlined into a one-line benchmark method, can have less of what it
/// calls inlined. These two compile to the same loop either way (same calls left, same code but for the one-line
/// caller); the manager's and the registry's paths do not, so their shared rows are declared once in a base class and
/// inherited instead (<c>Management/PathRows.cs</c>).</remarks>
public static unsafe class PeerLoops
{
    /// <summary><c>ArrayPool&lt;byte&gt;.Shared</c>: rent <paramref name="size"/> bytes + write + return.</summary>
    public static long ArrayPoolShared(int size)
    {
        long sum = 0;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            byte[] array = ArrayPool<byte>.Shared.Rent(size);
            array[0] = (byte)i;
            sum += array.Length;
            ArrayPool<byte>.Shared.Return(array);
        }

        return sum;
    }

    /// <summary><c>NativeMemory</c>: allocate <paramref name="size"/> bytes + write + free.</summary>
    public static long NativeMemoryAllocFree(int size)
    {
        long sum = 0;
        nuint bytes = (nuint)size;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            byte* memory = (byte*)NativeMemory.Alloc(bytes);
            *memory = (byte)i;
            sum += (nint)memory;
            NativeMemory.Free(memory);
        }

        return sum;
    }
}
