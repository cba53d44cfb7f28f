using EmpSsl.Kernels.Cpu;

namespace EmpSsl.Bench.Tests;

public class StepBenchTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void TinyStepReportsEveryField(int chunkViews)
    {
        using var k = new CpuKernels();
        var log = new StringWriter();
        var o = new StepOptions(Image: 8, Batch: 3, Patches: 2, Width: 0.125, Hidden: 16, Out: 8, Steps: 2, Warmup: 1, ChunkViews: chunkViews);
        var r = StepBench.Run(k, o, log);
        Assert.Equal("cpu", r.Device);
        Assert.True(r.CropsPerSecond > 0 && double.IsFinite(r.CropsPerSecond));
        Assert.Equal(3 * 2 / r.SecondsPerStep, r.CropsPerSecond, 6);
        Assert.True(r.PeakRssMb > 0);
        Assert.Equal(["augmentation", "forward_and_loss", "backward", "optimizer"], r.Phases.Keys);
        Assert.Contains("conv", r.OpKinds.Keys);
        Assert.Contains("crops/s", log.ToString());
    }
}
