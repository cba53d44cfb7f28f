using EmpSsl.Kernels.Ilgpu;

namespace EmpSsl.Kernels.Tests;

/// <summary>
/// The PTX pass that moves ILGPU's inline-PTX operand slots from local memory to registers: a slot that is only stored
/// and loaded through its address becomes a register; any other use leaves it in memory.
/// </summary>
public sealed class PtxRegisterPromotionTests
{
    private const string Kernel = """
        .visible .entry K(
        	.param .b32 _n
        )
        {
        	.local .align 8 .b8 __local_depot0[8];
        	.local .align 4 .b8 __local_depot1[4];
        	.reg .b32	%r<9>;
        	.reg .f32	%f<9>;
        	.reg .b64	%rd<9>;
        	mov.b64	%rd1, __local_depot0;
        	mov.b64	%rd2, __local_depot1;
        	st.local.b64	[%rd1], 0;
        	st.local.f32	[%rd2], %f1;
        	ld.local.b32	%r3, [%rd2];
        	cvt.rna.tf32.f32 	%r4, %f2;
        	st.local.b32	[%rd2], %r4;
        	ld.local.b32	%r5, [%rd2];
        	ld.local.b64	%rd3, [%rd1];
        	ret;
        }
        """;

    [Fact]
    public void SlotsOnlyStoredAndLoadedBecomeRegisters()
    {
        string ptx = PtxRegisterPromotion.Promote(Kernel, out int promoted);

        Assert.Equal(2, promoted);
        Assert.DoesNotContain(".local", ptx, StringComparison.Ordinal);
        Assert.DoesNotContain("__local_depot", ptx, StringComparison.Ordinal);
        Assert.Contains(".reg .b64\t%lv0;", ptx, StringComparison.Ordinal);
        Assert.Contains(".reg .b32\t%lv1;", ptx, StringComparison.Ordinal);
        Assert.Contains("mov.b64\t%lv0, 0;", ptx, StringComparison.Ordinal);
        Assert.Contains("mov.f32\t%lv1, %f1;", ptx, StringComparison.Ordinal);
        Assert.Contains("mov.b32\t%r3, %lv1;", ptx, StringComparison.Ordinal);
        Assert.Contains("mov.b32\t%lv1, %r4;", ptx, StringComparison.Ordinal);
        Assert.Contains("mov.b64\t%rd3, %lv0;", ptx, StringComparison.Ordinal);
        // Everything else is untouched, in order.
        Assert.Contains("cvt.rna.tf32.f32 \t%r4, %f2;", ptx, StringComparison.Ordinal);
        Assert.True(ptx.IndexOf("%r3, %lv1", StringComparison.Ordinal) < ptx.IndexOf("%lv1, %r4", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("\tadd.s64\t%rd4, %rd2, 4;", "its address is offset")]
    [InlineData("\tst.global.b64\t[%rd5], %rd2;", "its address escapes")]
    [InlineData("\tld.local.b64\t%rd6, [%rd2];", "it is read wider than it is")]
    [InlineData("\tmov.b64\t%rd7, __local_depot1;", "its address is taken twice")]
    public void OtherUsesKeepTheSlotInMemory(string extra, string why)
    {
        string ptx = PtxRegisterPromotion.Promote(Kernel.Replace("\tret;", extra + "\n\tret;", StringComparison.Ordinal), out int promoted);

        Assert.True(promoted == 1, $"{why}: promoted {promoted}");
        Assert.Contains(".local .align 4 .b8 __local_depot1[4];", ptx, StringComparison.Ordinal);
        Assert.Contains("st.local.f32\t[%rd2], %f1;", ptx, StringComparison.Ordinal);
        Assert.Contains("mov.b64\t%rd2, __local_depot1;", ptx, StringComparison.Ordinal);
        Assert.DoesNotContain("__local_depot0", ptx, StringComparison.Ordinal);
    }

    [Fact]
    public void PtxWithoutSlotsIsUnchanged()
    {
        string plain = Kernel.Replace("\t.local .align 8 .b8 __local_depot0[8];\n", "", StringComparison.Ordinal)
            .Replace("\t.local .align 4 .b8 __local_depot1[4];\n", "", StringComparison.Ordinal);
        plain = string.Join('\n', plain.Split('\n').Where(l => !l.Contains("local", StringComparison.Ordinal)));

        Assert.Equal(plain, PtxRegisterPromotion.Promote(plain, out int promoted));
        Assert.Equal(0, promoted);
    }

    [Fact]
    public void RegisterLimitGoesBetweenParametersAndBody()
    {
        string ptx = PtxRegisterLimit.Apply(Kernel, 128);

        Assert.Contains("\t.param .b32 _n\n)\n.maxnreg 128\n{\n", ptx, StringComparison.Ordinal);
        Assert.Equal(Kernel.Length + "\n.maxnreg 128".Length, ptx.Length);
        Assert.Throws<FormatException>(() => PtxRegisterLimit.Apply("ret;", 128));
    }
}
