using EmpSsl.Kernels.Reference;
using EmpSsl.Testing;

namespace EmpSsl.Kernels.Tests;

/// <summary>
/// The spec checked against closed forms and against itself (adjoints, finite differences), so that the conformance
/// suite does not just trust it. Everything here is float64; tolerances are float64-tight.
/// </summary>
public sealed class RefClosedFormTests
{
    private const double Tight = 1e-12;

    [Fact]
    public void CholeskyOfDiagonalIsSquareRootAndLogDetIsSumOfLogs()
    {
        double[] d = [4, 0.25, 9, 1e-6, 3];
        int n = d.Length;
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            a[i * n + i] = d[i];
        }
        var l = new double[n * n];
        var logdet = new double[1];
        Ref.Cholesky(l, logdet, a, n, 1);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                Assert.Equal(i == j ? Math.Sqrt(d[i]) : 0, l[i * n + j], Tight);
            }
        }
        Assert.Equal(d.Sum(Math.Log), logdet[0], Tight);
    }

    [Fact]
    public void CholeskyFactorReconstructsTheMatrixAndSolveInvertsIt()
    {
        const int n = 17, batch = 2, nrhs = 3;
        var a = Seeded.Widen(Matrices.WellConditioned(1, n, batch));
        var l = new double[batch * n * n];
        Ref.Cholesky(l, new double[batch], a, n, batch);
        var b = Seeded.Widen(Seeded.Uniform(2, batch * n * nrhs));
        var x = new double[b.Length];
        Ref.CholeskySolve(x, l, b, n, nrhs, batch);
        for (int m = 0; m < batch; m++)
        {
            int o = m * n * n;
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double llt = 0;
                    for (int k = 0; k < n; k++)
                    {
                        llt += l[o + i * n + k] * l[o + j * n + k];
                    }
                    Assert.Equal(a[o + i * n + j], llt, 1e-12);
                }
                for (int c = 0; c < nrhs; c++)
                {
                    double ax = 0;
                    for (int k = 0; k < n; k++)
                    {
                        ax += a[o + i * n + k] * x[m * n * nrhs + k * nrhs + c];
                    }
                    Assert.Equal(b[m * n * nrhs + i * nrhs + c], ax, 1e-10);
                }
            }
        }
    }

    [Fact]
    public void CholeskyLogDetOfQDiagQtIsSumOfLogEigenvalues()
    {
        const int n = 12;
        // Condition 100 keeps the float32 rounding of the matrix from moving log det by more than ~1e-4.
        var a = Matrices.WithCondition(4, n, condition: 100);
        var logdet = new double[1];
        Ref.Cholesky(new double[n * n], logdet, Seeded.Widen(a), n, 1);
        Assert.Equal(Matrices.Eigenvalues(n, 100).Sum(Math.Log), logdet[0], 1e-3);
    }

    [Fact]
    public void CholeskyRejectsNonSpdAndNaN()
    {
        double[] indefinite = [1, 2, 2, 1];
        var ex = Assert.Throws<MatrixNotPositiveDefiniteException>(() => Ref.Cholesky(new double[4], new double[1], indefinite, 2, 1));
        Assert.Equal(1, ex.Pivot);
        double[] nan = [1, 0, double.NaN, 1];
        Assert.Throws<MatrixNotPositiveDefiniteException>(() => Ref.Cholesky(new double[4], new double[1], nan, 2, 1));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(2, 0)]
    public void ConvWithADeltaKernelShiftsTheImage(int r0, int q0)
    {
        var s = new Conv2dShape(N: 2, C: 3, H: 7, W: 5, K: 3, R: 3, Stride: 1, Pad: 1);
        var x = Seeded.Widen(Seeded.Uniform(1, s.InputLength));
        var w = new double[s.WeightLength];
        for (int c = 0; c < s.C; c++)
        {
            w[((c * s.C + c) * 3 + r0) * 3 + q0] = 1;
        }
        var y = new double[s.OutputLength];
        Ref.Conv2dForward(y, x, w, s);
        for (int n = 0; n < s.N; n++)
        {
            for (int c = 0; c < s.C; c++)
            {
                for (int i = 0; i < s.H; i++)
                {
                    for (int j = 0; j < s.W; j++)
                    {
                        int h = i - 1 + r0, v = j - 1 + q0;
                        double expected = h < 0 || h >= s.H || v < 0 || v >= s.W ? 0 : x[((n * s.C + c) * s.H + h) * s.W + v];
                        Assert.Equal(expected, y[((n * s.C + c) * s.H + i) * s.W + j]);
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(3, 1, 1)]
    [InlineData(3, 2, 1)]
    [InlineData(1, 2, 0)]
    [InlineData(7, 2, 3)]
    public void ConvBackwardsAreTheForwardsAdjoints(int r, int stride, int pad)
    {
        var s = new Conv2dShape(N: 2, C: 3, H: 9, W: 7, K: 4, R: r, Stride: stride, Pad: pad);
        var x = Seeded.Widen(Seeded.Uniform(1, s.InputLength));
        var w = Seeded.Widen(Seeded.Uniform(2, s.WeightLength));
        var dy = Seeded.Widen(Seeded.Uniform(3, s.OutputLength));
        var y = new double[s.OutputLength];
        Ref.Conv2dForward(y, x, w, s);
        var dx = new double[s.InputLength];
        Ref.Conv2dBackwardData(dx, dy, w, s);
        var dw = new double[s.WeightLength];
        Ref.Conv2dBackwardWeight(dw, dy, x, s);
        // <dy, conv(x, w)> is linear in x and in w, so it equals <dx, x> and <dw, w>.
        double loss = Dot(dy, y);
        Assert.Equal(loss, Dot(dx, x), 1e-9);
        Assert.Equal(loss, Dot(dw, w), 1e-9);
    }

    [Fact]
    public void GemmTransposesAgreeAndBetaZeroIgnoresNaN()
    {
        const int m = 5, n = 4, k = 3;
        var a = Seeded.Widen(Seeded.Uniform(1, m * k));
        var b = Seeded.Widen(Seeded.Uniform(2, k * n));
        var plain = new double[m * n];
        Ref.Gemm(plain, a, b, new GemmShape(m, n, k));
        var both = Enumerable.Repeat(double.NaN, m * n).ToArray();
        Ref.Gemm(both, Transpose(a, m, k), Transpose(b, k, n), new GemmShape(m, n, k, TransA: true, TransB: true));
        for (int i = 0; i < m * n; i++)
        {
            Assert.Equal(plain[i], both[i], Tight);
        }
        Assert.Equal(a[0] * b[0] + a[1] * b[n] + a[2] * b[2 * n], plain[0], Tight);
        var acc = (double[])plain.Clone();
        Ref.Gemm(acc, a, b, new GemmShape(m, n, k, Alpha: 2f, Beta: 1f));
        Assert.Equal(3 * plain[7], acc[7], Tight);
    }

    [Fact]
    public void BatchNormStatisticsFollowPyTorch()
    {
        // One channel, values 0 and 2: mean 1, biased variance 1 (normalizes), unbiased variance 2 (running).
        var s = new BatchNormShape(N: 2, C: 1, HW: 1, Momentum: 0.5f, Eps: 0f);
        var y = new double[2];
        var mean = new double[1];
        var inv = new double[1];
        double[] runningMean = [0];
        double[] runningVar = [1];
        Ref.BatchNormForwardTrain(y, mean, inv, runningMean, runningVar, [0, 2], [1], [0], s);
        Assert.Equal([-1.0, 1.0], y);
        Assert.Equal(1, mean[0]);
        Assert.Equal(1, inv[0]);
        Assert.Equal(0.5, runningMean[0]);
        Assert.Equal(1.5, runningVar[0]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BatchNormBackwardMatchesFiniteDifferences(bool relu)
    {
        // With the fused ReLU the loss has kinks where bn(x) = 0; random inputs keep them away from the probes.
        var s = new BatchNormShape(N: 3, C: 2, HW: 4, Eps: 1e-3f, Relu: relu);
        var x = Seeded.Widen(Seeded.Uniform(1, s.Length));
        var gamma = Seeded.Widen(Seeded.Uniform(2, s.C, 0.5f, 1.5f));
        var beta = Seeded.Widen(Seeded.Uniform(3, s.C));
        var dy = Seeded.Widen(Seeded.Uniform(4, s.Length));
        double Loss(double[] xs, double[] g, double[] bt)
        {
            var y = new double[s.Length];
            Ref.BatchNormForwardTrain(y, new double[s.C], new double[s.C], new double[s.C], new double[s.C], xs, g, bt, s);
            return Dot(dy, y);
        }
        var mean = new double[s.C];
        var inv = new double[s.C];
        Ref.BatchNormForwardTrain(new double[s.Length], mean, inv, new double[s.C], new double[s.C], x, gamma, beta, s);
        var dx = new double[s.Length];
        var dgamma = new double[s.C];
        var dbeta = new double[s.C];
        Ref.BatchNormBackward(dx, dgamma, dbeta, dy, x, gamma, beta, mean, inv, s);

        AssertGradient(xs => Loss(xs, gamma, beta), x, dx);
        AssertGradient(g => Loss(x, g, beta), gamma, dgamma);
        AssertGradient(bt => Loss(x, gamma, bt), beta, dbeta);
    }

    [Fact]
    public void L2NormalizeGivesUnitRowsAndBackwardMatchesFiniteDifferences()
    {
        const int rows = 4, cols = 5;
        const double eps = 1e-12;
        var x = Seeded.Widen(Seeded.Uniform(1, rows * cols));
        var y = new double[rows * cols];
        var norms = new double[rows];
        Ref.L2NormalizeRows(y, norms, x, rows, cols, eps);
        for (int r = 0; r < rows; r++)
        {
            Assert.Equal(1, Dot(y.AsSpan(r * cols, cols), y.AsSpan(r * cols, cols)), Tight);
        }
        var dy = Seeded.Widen(Seeded.Uniform(2, rows * cols));
        var dx = new double[rows * cols];
        Ref.L2NormalizeRowsBackward(dx, dy, y, norms, rows, cols, eps);
        AssertGradient(xs =>
        {
            var ys = new double[rows * cols];
            Ref.L2NormalizeRows(ys, new double[rows], xs, rows, cols, eps);
            return Dot(dy, ys);
        }, x, dx);
    }

    [Fact]
    public void L2NormalizeOfAZeroRowIsZeroWithGradientDyOverEps()
    {
        var y = new double[3];
        var norms = new double[1];
        Ref.L2NormalizeRows(y, norms, new double[3], 1, 3, 1e-12);
        Assert.Equal(new double[3], y);
        var dx = new double[3];
        Ref.L2NormalizeRowsBackward(dx, [1, -2, 3], y, norms, 1, 3, 1e-12);
        Assert.Equal([1e12, -2e12, 3e12], dx);
    }

    [Fact]
    public void BilinearMatchesPyTorchOnSmallCases()
    {
        // torch.nn.functional.interpolate(torch.tensor([[[[0., 1.]]]]), size=(1, 4), mode="bilinear", align_corners=False)
        var y = new double[4];
        Ref.BilinearResize(y, [0, 1], 1, 1, 2, 1, 4);
        Assert.Equal([0, 0.25, 0.75, 1], y);
        // Downsampling by 2 averages neighbour pairs: source centres fall half-way between them.
        var down = new double[2];
        Ref.BilinearResize(down, [1, 3, 5, 9], 1, 1, 4, 1, 2);
        Assert.Equal([2.0, 7.0], down);
        // Same size is the identity.
        var x = Seeded.Widen(Seeded.Uniform(1, 2 * 7 * 5));
        var same = new double[x.Length];
        Ref.BilinearResize(same, x, 2, 7, 5, 7, 5);
        Assert.Equal(x, same);
    }

    [Fact]
    public void MaxPoolRoutesTiesToTheFirstMaxAndSkipsPadding()
    {
        // One 2x2 plane of equal negatives, 3x3 window, stride 2, pad 1: one output, the first element wins.
        var s = new PoolShape(1, 2, 2, Kernel: 3, Stride: 2, Pad: 1);
        double[] x = [-1, -1, -1, -1];
        var y = new double[1];
        Ref.MaxPool2dForward(y, x, s);
        Assert.Equal(-1, y[0]);
        var dx = new double[4];
        Ref.MaxPool2dBackward(dx, [5], x, y, s);
        Assert.Equal([5.0, 0, 0, 0], dx);
    }

    [Fact]
    public void GlobalAvgPoolBackwardMatchesFiniteDifferences()
    {
        const int planes = 3, hw = 5;
        var x = Seeded.Widen(Seeded.Uniform(1, planes * hw));
        var dy = Seeded.Widen(Seeded.Uniform(2, planes));
        var dx = new double[planes * hw];
        Ref.GlobalAvgPoolBackward(dx, dy, planes, hw);
        AssertGradient(xs =>
        {
            var y = new double[planes];
            Ref.GlobalAvgPoolForward(y, xs, planes, hw);
            return Dot(dy, y);
        }, x, dx);
    }

    [Fact]
    public void LarsTrustRatioAndPlainSgdByHand()
    {
        // |w| = 5, |g| = 1, no decay, no eps, no clip: trust = 0.1 * 5 / 1 = 0.5; no momentum: w -= lr * 0.5 * g.
        double[] w = [3, 4];
        double[] v = [0, 0];
        Ref.LarsSgdUpdate(w, [0.6, 0.8], v, new LarsStep(Lr: 2f, Momentum: 0f, WeightDecay: 0f, Eta: 0.1f, Nesterov: false, Clip: false, Eps: 0f));
        Assert.Equal(3 - 2 * 0.5 * 0.6, w[0], 1e-7);
        Assert.Equal(4 - 2 * 0.5 * 0.8, w[1], 1e-7);
        // Clip: trust / lr = 0.25 < 1 stays; with lr 0.25, trust / lr = 2 clips to 1.
        double[] w2 = [3, 4];
        Ref.LarsSgdUpdate(w2, [0.6, 0.8], new double[2], new LarsStep(Lr: 0.25f, Momentum: 0f, WeightDecay: 0f, Eta: 0.1f, Nesterov: false, Eps: 0f));
        Assert.Equal(3 - 0.25 * 0.6, w2[0], 1e-7);
        // Lars off: plain SGD with Nesterov momentum, v = 0.9 * 1 + g, step = g + 0.9 v.
        double[] w3 = [1];
        double[] v3 = [1];
        Ref.LarsSgdUpdate(w3, [0.5], v3, new LarsStep(Lr: 0.1f, Lars: false));
        Assert.Equal(1.4, v3[0], 1e-7);
        Assert.Equal(1 - 0.1 * (0.5 + 0.9 * 1.4), w3[0], 1e-7);
        // |g| = 0 with Lars: LARSWrapper skips the parameter, decay included, so g' = 0 and w stays.
        double[] w4 = [2];
        Ref.LarsSgdUpdate(w4, [0], new double[1], new LarsStep(Lr: 0.5f, Momentum: 0f, WeightDecay: 0.1f, Nesterov: false));
        Assert.Equal(2, w4[0], 1e-7);
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double acc = 0;
        for (int i = 0; i < a.Length; i++)
        {
            acc += a[i] * b[i];
        }
        return acc;
    }

    private static double[] Transpose(double[] x, int rows, int cols)
    {
        var t = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                t[c * rows + r] = x[r * cols + c];
            }
        }
        return t;
    }

    /// <summary>Central differences in float64 (h = 1e-5, error ~h^2), against an analytic gradient.</summary>
    private static void AssertGradient(Func<double[], double> loss, double[] at, double[] gradient)
    {
        const double h = 1e-5;
        for (int i = 0; i < at.Length; i++)
        {
            var plus = (double[])at.Clone();
            var minus = (double[])at.Clone();
            plus[i] += h;
            minus[i] -= h;
            double numeric = (loss(plus) - loss(minus)) / (2 * h);
            Assert.True(Math.Abs(numeric - gradient[i]) <= 1e-6 + 1e-6 * Math.Abs(numeric),
                $"gradient {i}: analytic {gradient[i]:G9}, finite difference {numeric:G9}");
        }
    }
}
