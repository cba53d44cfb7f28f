namespace EmpSsl.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// y (rows) = cos(a_r, b_r) = (a_r / |a_r|) . (b_r / |b_r|), composed of L2Normalize and RowDot, so the
    /// backward is theirs. torch.nn.functional.cosine_similarity clamps |a||b| at 1e-8 instead of each norm
    /// at eps; the two differ only for rows of norm below 1e-8.
    /// </summary>
    public Tensor CosineSimilarity(Tensor a, Tensor b, float eps = 1e-8f)
    {
        Require(a.Rank == 2 && a.Shape.AsSpan().SequenceEqual(b.Shape), "CosineSimilarity", $"needs two equal (rows, cols), got {a.Describe()} and {b.Describe()}");
        return RowDot(L2Normalize(a, eps), L2Normalize(b, eps));
    }
}
