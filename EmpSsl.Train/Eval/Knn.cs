using EmpSsl.Kernels;

namespace EmpSsl.Train.Eval;

/// <summary>
/// Weighted kNN (InstDisc/DINO style, as EMP-SSL reports it): cosine similarity to every train feature, the k
/// nearest vote with weight exp(sim / T). Similarities come from one GEMM per chunk of test rows on the device.
/// </summary>
public static class Knn
{
    public static double Classify(IKernels kernels, Features train, Features test, int k = 20, float temperature = 0.07f)
    {
        train.Validate("kNN train features");
        test.Validate("kNN test features");
        if (train.Dim != test.Dim)
        {
            throw new ArgumentException($"kNN: train features are {train.Dim}-d, test features {test.Dim}-d");
        }
        k = Math.Min(k, train.Count);
        int d = train.Dim;
        var trainUnit = Normalized(train);
        var testUnit = Normalized(test);
        int chunk = Math.Max(1, Math.Min(test.Count, (int)(32_000_000L / train.Count)));
        using var trainBuf = kernels.Allocate(trainUnit.Length);
        kernels.Upload(trainBuf.Span, trainUnit);
        using var queryBuf = kernels.Allocate(chunk * d);
        using var simBuf = kernels.Allocate(chunk * train.Count);
        var sims = new float[chunk * train.Count];
        int correct = 0;
        for (int start = 0; start < test.Count; start += chunk)
        {
            int rows = Math.Min(chunk, test.Count - start);
            var q = queryBuf.Slice(0, rows * d);
            kernels.Upload(q, testUnit.AsSpan(start * d, rows * d));
            var s = simBuf.Slice(0, rows * train.Count);
            kernels.Gemm(s, q, trainBuf.Span, new GemmShape(rows, train.Count, d, TransB: true));
            kernels.Download(s, sims.AsSpan(0, rows * train.Count));
            int hits = 0;
            Parallel.For(0, rows, () => 0, (r, _, local) =>
            {
                int predicted = Vote(sims.AsSpan(r * train.Count, train.Count), train.Labels, train.Classes, k, temperature);
                return local + (predicted == test.Labels[start + r] ? 1 : 0);
            }, local => Interlocked.Add(ref hits, local));
            correct += hits;
        }
        return (double)correct / test.Count;
    }

    /// <summary>The class with the largest sum of exp(sim / T) over the k most similar rows.</summary>
    internal static int Vote(ReadOnlySpan<float> sims, int[] labels, int classes, int k, float temperature)
    {
        // A min-heap of the k best (similarity, index) pairs.
        var heapSim = new float[k];
        var heapIdx = new int[k];
        int size = 0;
        for (int i = 0; i < sims.Length; i++)
        {
            float v = sims[i];
            if (size < k)
            {
                int j = size++;
                while (j > 0 && heapSim[(j - 1) / 2] > v)
                {
                    heapSim[j] = heapSim[(j - 1) / 2];
                    heapIdx[j] = heapIdx[(j - 1) / 2];
                    j = (j - 1) / 2;
                }
                heapSim[j] = v;
                heapIdx[j] = i;
            }
            else if (v > heapSim[0])
            {
                int j = 0;
                while (true)
                {
                    int child = 2 * j + 1;
                    if (child >= k)
                    {
                        break;
                    }
                    if (child + 1 < k && heapSim[child + 1] < heapSim[child])
                    {
                        child++;
                    }
                    if (heapSim[child] >= v)
                    {
                        break;
                    }
                    heapSim[j] = heapSim[child];
                    heapIdx[j] = heapIdx[child];
                    j = child;
                }
                heapSim[j] = v;
                heapIdx[j] = i;
            }
        }
        var votes = new double[classes];
        for (int i = 0; i < size; i++)
        {
            votes[labels[heapIdx[i]]] += Math.Exp(heapSim[i] / temperature);
        }
        int best = 0;
        for (int c = 1; c < classes; c++)
        {
            if (votes[c] > votes[best])
            {
                best = c;
            }
        }
        return best;
    }

    private static float[] Normalized(Features f)
    {
        var rows = new float[f.Rows.Length];
        for (int r = 0; r < f.Count; r++)
        {
            var src = f.Rows.AsSpan(r * f.Dim, f.Dim);
            double sq = 0;
            foreach (float v in src)
            {
                sq += v * v;
            }
            float inv = (float)(1 / Math.Max(Math.Sqrt(sq), 1e-12));
            for (int c = 0; c < f.Dim; c++)
            {
                rows[r * f.Dim + c] = src[c] * inv;
            }
        }
        return rows;
    }
}
