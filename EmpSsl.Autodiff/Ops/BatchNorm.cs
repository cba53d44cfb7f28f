using EmpSsl.Kernels;

namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// BatchNorm over x (N, C, ...) per channel C (BatchNorm1d when x is (N, C), BatchNorm2d when (N, C, H, W)).
    /// Training: batch statistics, running statistics updated by the kernel; backward by the kernel's
    /// BatchNormBackward (dx written, dgamma and dbeta accumulated).
    /// Eval: running statistics, y = gamma (x - mean) / sqrt(var + eps) + beta; backward by reusing the eval kernel:
    /// dx = BatchNormEval(dy) with mean 0 and beta 0, dgamma += sum dy * xhat, dbeta += sum dy.
    /// With <paramref name="relu"/>, y = max(0, BatchNorm(x)): in training one fused op (see
    /// <see cref="BatchNormShape.Relu"/>; ResNet's bn1 and stem), in eval BatchNorm then <see cref="ReluInPlace"/>.
    /// </summary>
    public Tensor BatchNorm(
        Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, bool training,
        float momentum = 0.1f, float eps = 1e-5f, bool relu = false)
    {
        if (relu && !training)
        {
            return ReluInPlace(BatchNorm(x, gamma, beta, runningMean, runningVar, training, momentum, eps));
        }
        Require(x.Rank >= 2, "BatchNorm", $"needs (N, C, ...), got {x.Describe()}");
        int n = x.Dim(0);
        int c = x.Dim(1);
        int hw = x.Length / (n * c);
        Require(gamma.Length == c && beta.Length == c && runningMean.Length == c && runningVar.Length == c, "BatchNorm",
            $"x {x.Describe()} has {c} channels; gamma {gamma.Describe()}, beta {beta.Describe()}, running {runningMean.Describe()}, {runningVar.Describe()}");
        var s = new BatchNormShape(n, c, hw, momentum, eps, relu);
        var y = NewTensor(x.Shape, x, gamma, beta);
        if (training)
        {
            var mean = Scratch(c);
            var invStd = Scratch(c);
            K.BatchNormForwardTrain(y.Data, mean.Data, invStd.Data, runningMean.Data, runningVar.Data, x.Data, gamma.Data, beta.Data, s);
            Record(y, () =>
            {
                var dgamma = gamma.RequiresGrad ? GradToAccumulate(gamma) : Scratch(c).Data;
                var dbeta = beta.RequiresGrad ? GradToAccumulate(beta) : Scratch(c).Data;
                // The kernel always writes dx; with x needing no gradient it goes to a temporary.
                DeviceBuffer? temp = null;
                var dx = x.RequiresGrad ? GradToWrite(x, out temp) : (temp = Pool.Rent(x.Length)).Span;
                K.BatchNormBackward(dx, dgamma, dbeta, y.Grad, x.Data, gamma.Data, beta.Data, mean.Data, invStd.Data, s);
                if (x.RequiresGrad)
                {
                    CommitGrad(x, temp);
                }
                else
                {
                    Pool.Return(temp!);
                }
            }, mean, invStd);
            return y;
        }
        K.BatchNormForwardEval(y.Data, x.Data, gamma.Data, beta.Data, runningMean.Data, runningVar.Data, s);
        if (!y.RequiresGrad)
        {
            return y;
        }
        var zeros = Constant(c, 0f);
        var ones = Constant(c, 1f);
        Record(y, () =>
        {
            if (x.RequiresGrad)
            {
                var dx = GradToWrite(x, out var temp);
                K.BatchNormForwardEval(dx, y.Grad, gamma.Data, zeros.Data, zeros.Data, runningVar.Data, s);
                CommitGrad(x, temp);
            }
            if (gamma.RequiresGrad)
            {
                var xhat = Pool.Rent(x.Length);
                var planeDots = Pool.Rent(n * c);
                K.BatchNormForwardEval(xhat.Span, x.Data, ones.Data, zeros.Data, runningMean.Data, runningVar.Data, s);
                K.RowDot(planeDots.Span, y.Grad, xhat.Span, n * c, hw);
                K.ColumnSum(GradToAccumulate(gamma), planeDots.Span, n, c);
                Pool.Return(xhat);
                Pool.Return(planeDots);
            }
            if (beta.RequiresGrad)
            {
                var planeSums = Pool.Rent(n * c);
                K.GlobalAvgPoolForward(planeSums.Span, y.Grad, n * c, hw);
                K.Scale(planeSums.Span, planeSums.Span, hw);
                K.ColumnSum(GradToAccumulate(beta), planeSums.Span, n, c);
                Pool.Return(planeSums);
            }
        }, zeros, ones);
        return y;
    }
}
