using EmpSsl.Kernels.Cpu;
using EmpSsl.Testing;
using Xunit.Sdk;

namespace EmpSsl.Kernels.Tests;

/// <summary>The comparer and the guard bands must fail when they should, or the conformance suite proves nothing.</summary>
public sealed class TestingHarnessTests
{
    [Fact]
    public void AssertCloseReportsTheOpAndTheWorstElement()
    {
        var ex = Assert.Throws<XunitException>(() =>
            Compare.AssertClose("Op", [1.0, 2.0, 3.0], [1f, 2.5f, 3.1f], Tol.Elementwise));
        Assert.Contains("Op", ex.Message);
        Assert.Contains("2 of 3", ex.Message);
        Assert.Contains("index 1", ex.Message);
        Assert.Contains("expected 2", ex.Message);
        Assert.Contains("actual 2.5", ex.Message);
    }

    [Fact]
    public void AssertCloseRejectsNaNAndAcceptsTheBand()
    {
        Assert.Throws<XunitException>(() => Compare.AssertClose("Op", [0.0], [float.NaN], new Tolerance(1e30, 1)));
        Assert.Throws<XunitException>(() => Compare.AssertClose("Op", [1.0, 2.0], [1f], Tol.Exact));
        Compare.AssertClose("Op", [100.0, 0.0], [100.0009f, 9e-5f], new Tolerance(1e-4, 1e-5));
        Assert.Throws<XunitException>(() => Compare.AssertClose("Op", [100.0], [100.0012f], new Tolerance(1e-4, 1e-5)));
    }

    [Fact]
    public void GuardsCatchWritesJustOutsideTheWindow()
    {
        var cpu = new CpuKernels();
        foreach (int outside in new[] { -1, 5 })
        {
            using var g = GuardedBuffer.Poisoned(cpu, 5);
            g.CheckGuards("untouched");
            cpu.Upload(new DeviceSpan(g.Span.Buffer, g.Span.Offset + outside, 1), [0f]);
            var ex = Assert.Throws<XunitException>(() => g.CheckGuards("Op"));
            Assert.Contains(outside < 0 ? "1 before the start" : "1 past the end", ex.Message);
        }
    }

    [Fact]
    public void PoisonedIsNaNAndUploadKeepsTheData()
    {
        var cpu = new CpuKernels();
        using var poisoned = GuardedBuffer.Poisoned(cpu, 3);
        Assert.All(poisoned.Download(), v => Assert.True(float.IsNaN(v)));
        using var input = GuardedBuffer.Upload(cpu, [1f, 2f, 3f]);
        Assert.Equal([1f, 2f, 3f], input.Download());
        Assert.Equal(GuardedBuffer.DefaultGuard, input.Span.Offset);
    }

    [Fact]
    public void SeededDataIsReproducible()
    {
        Assert.Equal(Seeded.Uniform(3, 10), Seeded.Uniform(3, 10));
        Assert.NotEqual(Seeded.Uniform(3, 10), Seeded.Uniform(4, 10));
        Assert.Equal(Enumerable.Range(0, 9).Select(i => (float)i), Seeded.Distinct(1, 9).Order());
    }
}
