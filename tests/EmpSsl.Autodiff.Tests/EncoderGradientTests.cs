using EmpSsl.Autodiff.Nn;

namespace EmpSsl.Autodiff.Tests;

/// <summary>
/// A whole ResNet-18 (width 1/8) with a projector and the EMP-SSL loss, differentiated end to end: random
/// coordinates of the parameter gradient against float64 central differences of <see cref="F64Net"/>.
/// </summary>
public abstract class EncoderGradientTests(string backend) : BackendTest(backend)
{
    [Fact]
    public void CifarStemPaperProjector() => CheckEncoder(Stem.Cifar, 3, 8, ProjectorPreset.Paper);

    protected void CheckEncoder(Stem stem, int channels, int hw, ProjectorPreset preset)
    {
        const int views = 2;
        const int b = 2;
        const int n = views * b;
        var encoder = new Encoder(new Init(Kernels, seed: 7), stem, width: 0.125, channels, preset, hidden: 16, output: 8);
        var x = Random(n * channels * hw * hw);
        var input = Leaf([n, channels, hw, hw], x, requiresGrad: false);

        var (_, z) = encoder.Encode(Tape, input);
        var terms = Objective.EmpSsl(Tape, z, views);
        Tape.Backward(terms.Loss);
        Tape.Reset();

        var reference = new F64Net(F64Net.Read(encoder, Kernels));
        double Loss()
        {
            var h = reference.ResNet(x, n, channels, hw, stem, 8);
            var projected = reference.Projector(h, n, 64);
            return F64.EmpSsl(F64.L2Normalize(projected, n, 8), views, 8).Loss;
        }

        var parameters = encoder.Parameters().ToList();
        Assert.All(parameters, p => Assert.True(p.HasGrad, $"{p.Name} got no gradient"));
        // Every fourth parameter tensor (conv, BN and linear ones all appear), three coordinates each.
        foreach (var p in parameters.Where((_, i) => i % 4 == 0))
        {
            var grad = p.GradToHost(Kernels);
            var values = reference.State[p.Name!];
            var coordinates = Coordinates(values.Length, 3);
            var fd = new double[coordinates.Length];
            var got = new double[coordinates.Length];
            for (int c = 0; c < coordinates.Length; c++)
            {
                int j = coordinates[c];
                double original = values[j];
                const double step = 1e-5;
                values[j] = original + step;
                double plus = Loss();
                values[j] = original - step;
                double minus = Loss();
                values[j] = original;
                fd[c] = (plus - minus) / (2 * step);
                got[c] = grad[j];
            }
            Assertions.Close(fd, got, Tol.NetworkGrad, $"d loss / d {p.Name} at [{string.Join(", ", coordinates)}]", fd.Max(Math.Abs));
        }
    }
}

public sealed class EncoderGradientTestsCpu() : EncoderGradientTests("cpu")
{
    // One forward and backward of this network takes about a minute on ILGPU's CPU accelerator, so the
    // second configuration runs on the SIMD backend only.
    [Fact]
    public void ImageNetStemGrayscaleOfficialProjector() => CheckEncoder(Stem.ImageNet, 1, 16, ProjectorPreset.Official);
}

public sealed class EncoderGradientTestsIlgpuCpu() : EncoderGradientTests("ilgpu-cpu");
