using EmpSsl.Kernels;
using EmpSsl.Train.Optim;

namespace EmpSsl.Train.Eval;

/// <summary>
/// The paper's linear probe: softmax regression trained by SGD (lr .03, momentum .9, weight decay 5e-5,
/// cosine by step, 100 epochs, batch 100) on standardized features. The matrix work runs on the device;
/// only the (batch x classes) logits cross to the host for the softmax. Reports the accuracy after the
/// last epoch, never a best epoch picked on the test set.
/// </summary>
public sealed record LinearProbeOptions(int Epochs = 100, int BatchSize = 100, float Lr = 0.03f, float Momentum = 0.9f, float WeightDecay = 5e-5f, int Seed = 0);

public static class LinearProbe
{
    public static double TrainAndTest(IKernels k, Features train, Features test, LinearProbeOptions o)
    {
        train.Validate("linear probe train features");
        test.Validate("linear probe test features");
        if (train.Dim != test.Dim || train.Classes != test.Classes)
        {
            throw new ArgumentException($"linear probe: train is {train.Dim}-d with {train.Classes} classes, test is {test.Dim}-d with {test.Classes}");
        }
        var (tr, te) = train.Standardize(test);
        int d = tr.Dim, c = tr.Classes, b = o.BatchSize;

        using var x = k.Allocate(tr.Rows.Length);
        k.Upload(x.Span, tr.Rows);
        using var w = k.Allocate(d * c);
        using var bias = k.Allocate(c);
        using var vw = k.Allocate(d * c);
        using var vb = k.Allocate(c);
        using var gw = k.Allocate(d * c);
        using var gb = k.Allocate(c);
        using var batchX = k.Allocate(b * d);
        using var logits = k.Allocate(b * c);
        // PyTorch nn.Linear's init: uniform(-1/sqrt(d), 1/sqrt(d)) for weight and bias.
        var rng = new Random(o.Seed);
        float bound = 1f / MathF.Sqrt(d);
        k.Upload(w.Span, Enumerable.Range(0, d * c).Select(_ => (float)(rng.NextDouble() * 2 - 1) * bound).ToArray());
        k.Upload(bias.Span, Enumerable.Range(0, c).Select(_ => (float)(rng.NextDouble() * 2 - 1) * bound).ToArray());
        k.Fill(vw.Span, 0);
        k.Fill(vb.Span, 0);

        int steps = (tr.Count + b - 1) / b;
        var schedule = new CosineSchedule(o.Lr, steps * o.Epochs);
        var order = Enumerable.Range(0, tr.Count).ToArray();
        var hostLogits = new float[b * c];
        var hostRows = new float[b * d];
        int step = 0;
        for (int epoch = 0; epoch < o.Epochs; epoch++)
        {
            rng.Shuffle(order);
            for (int start = 0; start < tr.Count; start += b)
            {
                int rows = Math.Min(b, tr.Count - start);
                for (int r = 0; r < rows; r++)
                {
                    Array.Copy(tr.Rows, (long)order[start + r] * d, hostRows, (long)r * d, d);
                }
                var xb = batchX.Slice(0, rows * d);
                k.Upload(xb, hostRows.AsSpan(0, rows * d));
                var lb = logits.Slice(0, rows * c);
                k.Gemm(lb, xb, w.Span, new GemmShape(rows, c, d));
                k.AddBias(lb, bias.Span, rows, c);
                k.Download(lb, hostLogits.AsSpan(0, rows * c));
                SoftmaxCrossEntropyGrad(hostLogits.AsSpan(0, rows * c), tr.Labels, order, start, rows, c);
                k.Upload(lb, hostLogits.AsSpan(0, rows * c));
                // Mean-reduced cross-entropy: the 1/rows is already in the logits' gradient.
                k.Gemm(gw.Span, xb, lb, new GemmShape(d, c, rows, TransA: true));
                k.Fill(gb.Span, 0);
                k.ColumnSum(gb.Span, lb, rows, c);
                // torch.optim.SGD's weight decay adds wd * w to the gradient of every parameter, bias included.
                k.Axpy(gw.Span, w.Span, o.WeightDecay);
                k.Axpy(gb.Span, bias.Span, o.WeightDecay);
                var sgd = new LarsStep(schedule.At(step), o.Momentum, WeightDecay: 0, Nesterov: false, Lars: false);
                k.LarsSgdUpdate(w.Span, gw.Span, vw.Span, sgd);
                k.LarsSgdUpdate(bias.Span, gb.Span, vb.Span, sgd);
                step++;
            }
        }
        return Accuracy(k, te, w, bias);
    }

    /// <summary>Turns logits (rows, c) into d(mean CE)/d(logits) in place: (softmax - onehot) / rows.</summary>
    private static void SoftmaxCrossEntropyGrad(Span<float> logits, int[] labels, int[] order, int start, int rows, int c)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = logits.Slice(r * c, c);
            float max = float.NegativeInfinity;
            foreach (float v in row)
            {
                max = Math.Max(max, v);
            }
            double sum = 0;
            for (int j = 0; j < c; j++)
            {
                sum += Math.Exp(row[j] - max);
            }
            for (int j = 0; j < c; j++)
            {
                row[j] = (float)(Math.Exp(row[j] - max) / sum) / rows;
            }
            row[labels[order[start + r]]] -= 1f / rows;
        }
    }

    private static double Accuracy(IKernels k, Features te, DeviceBuffer w, DeviceBuffer bias)
    {
        int d = te.Dim, c = te.Classes;
        const int chunk = 1000;
        using var x = k.Allocate(Math.Min(chunk, te.Count) * d);
        using var logits = k.Allocate(Math.Min(chunk, te.Count) * c);
        var host = new float[Math.Min(chunk, te.Count) * c];
        int correct = 0;
        for (int start = 0; start < te.Count; start += chunk)
        {
            int rows = Math.Min(chunk, te.Count - start);
            var xs = x.Slice(0, rows * d);
            k.Upload(xs, te.Rows.AsSpan(start * d, rows * d));
            var ls = logits.Slice(0, rows * c);
            k.Gemm(ls, xs, w.Span, new GemmShape(rows, c, d));
            k.AddBias(ls, bias.Span, rows, c);
            k.Download(ls, host.AsSpan(0, rows * c));
            for (int r = 0; r < rows; r++)
            {
                int best = 0;
                for (int j = 1; j < c; j++)
                {
                    if (host[r * c + j] > host[r * c + best])
                    {
                        best = j;
                    }
                }
                correct += best == te.Labels[start + r] ? 1 : 0;
            }
        }
        return (double)correct / te.Count;
    }
}
