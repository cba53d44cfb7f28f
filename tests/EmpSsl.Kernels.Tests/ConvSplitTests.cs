using EmpSsl.Kernels.Ilgpu;

namespace EmpSsl.Kernels.Tests;

/// <summary>
/// When an ILGPU forward or backward-data launch splits its reduction (IlgpuKernels.SplitsFor), on an H200's 132 multiprocessors and
/// 64 x 64 blocks: only TF32 grids of fewer blocks than multiprocessors, into slices of whole 16-deep stages, at least
/// eight stages each, that cover the reduction once. The split kernels' results are checked by the conformance
/// classes that pin a split (Conv2dConformance*Split).
/// </summary>
public sealed class ConvSplitTests
{
    private const int Multiprocessors = 132;

    private static (int Splits, int Chunk) Auto(int rows, int cols, int depth, bool tf32 = true)
        => IlgpuKernels.SplitsFor(rows, cols, depth, 64, Multiprocessors, tf32, pinned: null);

    [Fact]
    public void ATf32GridUnderOneBlockPerMultiprocessorSplitsIntoWholeStagesThatCoverTheReduction()
    {
        // 512 channels at 4x4, batch 64: 8 x 16 blocks, 4,608 deep.
        var (splits, chunk) = Auto(512, 64 * 16, 4608);
        Assert.Equal(4, splits);
        Assert.Equal(1152, chunk);
        // One block, a reduction 64 stages and one more deep: slices of whole stages, at least eight each.
        int depth = 16 * 64 + 16;
        (splits, chunk) = Auto(64, 64, depth);
        Assert.True(splits > 1 && splits <= depth / (8 * 16), $"{splits} slices");
        Assert.Equal(0, chunk % 16);
        Assert.True(chunk >= 8 * 16, $"slices of {chunk}");
        Assert.True((long)splits * chunk >= depth && (long)(splits - 1) * chunk < depth, $"{splits} x {chunk} for {depth}");
    }

    [Fact]
    public void Fp32FullerGridsAndShallowReductionsStayWhole()
    {
        Assert.Equal((1, 4608), Auto(512, 64 * 16, 4608, tf32: false));
        // 256 channels at 8x8, batch 64: 4 x 64 blocks, 1.9 per multiprocessor.
        Assert.Equal((1, 2304), Auto(256, 64 * 64, 2304));
        // Eight stages and a half: one slice of at least eight stages only.
        Assert.Equal((1, 8 * 16 + 8), Auto(64, 64, 8 * 16 + 8));
    }

    [Fact]
    public void APinnedSplitIsCutToWholeStages()
    {
        Assert.Equal((3, 48), IlgpuKernels.SplitsFor(16, 16, 144, 16, 2, tf32: false, pinned: 3));
        // Two stages cannot make three slices.
        Assert.Equal((2, 16), IlgpuKernels.SplitsFor(16, 16, 32, 16, 2, tf32: false, pinned: 3));
        Assert.Equal((1, 4608), IlgpuKernels.SplitsFor(512, 1024, 4608, 64, Multiprocessors, tf32: true, pinned: 1));
    }
}
