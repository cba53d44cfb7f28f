namespace EmpSsl.Autodiff;

/// <summary>The EMP-SSL loss and its two terms, each a one-element tensor retained through backward.</summary>
public sealed record ObjectiveTerms(Tensor Loss, Tensor CodingRate, Tensor Cosine);

/// <summary>
/// The EMP-SSL objective (Tong et al. 2023) on z (n*b, d), patch-major (rows i*b .. i*b+b-1 are crop i of
/// every image) and already L2-normalized:
///   loss = -(1/n) sum_i R(Z_i) - lambda (1/n) sum_i mean_b cos(z_ib, zbar_b),   zbar = mean_i z_i,
///   R(Z) = 1/2 logdet(I_d + d / (b eps) Z^T Z).
/// zbar is neither re-normalized nor detached, as in the official code (cosine_similarity normalizes it).
/// eps follows the official code's TotalCodingRate(eps=0.2): the scale is d / (b eps), where the paper
/// writes d / (b eps^2); eps = 0.2 here is the paper's eps^2 = 0.2.
/// The log-determinant is taken on the cheaper side: logdet(I_d + a Z^T Z) = logdet(I_b + a Z Z^T)
/// (Sylvester), so the Cholesky runs on min(b, d) x min(b, d) matrices, all n views in one batch.
/// </summary>
public static class Objective
{
    public const float DefaultLambda = 200f;

    public const float DefaultEps = 0.2f;

    public static ObjectiveTerms EmpSsl(Tape tape, Tensor z, int views, float lambda = DefaultLambda, float eps = DefaultEps)
    {
        Tape.Require(z.Rank == 2 && views > 0 && z.Dim(0) % views == 0, "EmpSsl objective",
            $"z {z.Describe()} must be (views*b, d) with {views} views");
        int b = z.Dim(0) / views;
        int d = z.Dim(1);
        float scale = d / (b * eps);
        bool gramOfRows = b < d;
        int m = gramOfRows ? b : d;

        var views_ = tape.Split(z, views);
        var grams = new Tensor[views];
        for (int i = 0; i < views; i++)
        {
            // Z Z^T (b, b) when b < d, else Z^T Z (d, d); the scale rides on the product.
            grams[i] = gramOfRows
                ? tape.MatMul(views_[i], views_[i], transB: true, alpha: scale)
                : tape.MatMul(views_[i], views_[i], transA: true, alpha: scale);
        }
        var batch = tape.Reshape(tape.Concat(grams), views, m, m);
        var logdets = tape.LogDet(tape.AddIdentity(batch, 1f));
        // (1/n) sum_i R(Z_i) = (1/n) sum_i logdet_i / 2.
        var codingRate = tape.Retain(tape.Scale(tape.Sum(logdets), 0.5f / views));

        var mean = tape.MeanOverGroups(z, views);
        var repeated = new Tensor[views];
        Array.Fill(repeated, mean);
        // Mean over all n*b rows = (1/n) sum_i mean_b.
        var cosine = tape.Retain(tape.Mean(tape.CosineSimilarity(z, tape.Concat(repeated))));

        var loss = tape.Retain(tape.Add(tape.Scale(codingRate, -1f), tape.Scale(cosine, -lambda)));
        return new ObjectiveTerms(loss, codingRate, cosine);
    }
}
