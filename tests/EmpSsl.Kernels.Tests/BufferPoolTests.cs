using EmpSsl.Kernels.Cpu;

namespace EmpSsl.Kernels.Tests;

/// <summary>The pool reuses by exact length, so a steady training step allocates nothing; spans refuse bad windows.</summary>
public sealed class BufferPoolTests
{
    [Fact]
    public void ReusesABufferOfTheSameLength()
    {
        using var pool = new BufferPool(new CpuKernels());
        var first = pool.Rent(100);
        pool.Return(first);
        Assert.Same(first, pool.Rent(100));
        Assert.NotSame(first, pool.Rent(100));
        Assert.Equal(2, pool.Allocations);
    }

    [Fact]
    public void NeverHandsOutABufferOfAnotherLength()
    {
        using var pool = new BufferPool(new CpuKernels());
        pool.Return(pool.Rent(64));
        var other = pool.Rent(65);
        Assert.Equal(65, other.Length);
        Assert.Equal(2, pool.Allocations);
        Assert.Equal(129, pool.Floats);
    }

    [Fact]
    public void AllocationsStayFlatInSteadyState()
    {
        using var pool = new BufferPool(new CpuKernels());
        int[] step = [1024, 16, 1024, 7, 16];
        int afterFirstStep = 0;
        for (int iteration = 0; iteration < 5; iteration++)
        {
            var rented = step.Select(pool.Rent).ToList();
            rented.ForEach(pool.Return);
            if (iteration == 0)
            {
                afterFirstStep = pool.Allocations;
            }
        }
        Assert.Equal(5, afterFirstStep);
        Assert.Equal(afterFirstStep, pool.Allocations);
    }

    [Fact]
    public void DisposeForgetsEverything()
    {
        var pool = new BufferPool(new CpuKernels());
        pool.Return(pool.Rent(10));
        pool.Dispose();
        Assert.Equal(0, pool.Floats);
        Assert.Equal(0, pool.Allocations);
    }

    [Fact]
    public void SlicesComposeOffsets()
    {
        using var buffer = new CpuKernels().Allocate(100);
        var inner = buffer.Slice(10, 50).Slice(5, 20);
        Assert.Equal(15, inner.Offset);
        Assert.Equal(20, inner.Length);
        Assert.Equal(55, buffer.Span.Slice(45).Length);
    }

    [Theory]
    [InlineData(-1, 5)]
    [InlineData(0, 51)]
    [InlineData(45, 6)]
    [InlineData(3, -1)]
    public void SlicingOutsideTheWindowThrowsNamingIt(int offset, int length)
    {
        using var buffer = new CpuKernels().Allocate(100);
        var window = buffer.Slice(10, 50);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => window.Slice(offset, length));
        Assert.Contains($"slice [{offset}, {offset + length})", ex.Message);
        Assert.Contains("50 floats", ex.Message);
    }

    [Fact]
    public void AWindowPastTheBufferThrows()
    {
        using var buffer = new CpuKernels().Allocate(8);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new DeviceSpan(buffer, 4, 5));
        Assert.Contains("buffer of 8 floats", ex.Message);
    }
}
