namespace EmpSsl.Train.Eval;

/// <summary>A representation of a labelled set: rows (Count, Dim), one label each.</summary>
public sealed record Features(float[] Rows, int Count, int Dim, int[] Labels, int Classes)
{
    public Features Validate(string what)
    {
        if (Rows.Length != (long)Count * Dim || Labels.Length != Count)
        {
            throw new ArgumentException($"{what}: {Rows.Length} floats and {Labels.Length} labels do not make {Count} rows of {Dim}");
        }
        for (int i = 0; i < Rows.Length; i++)
        {
            if (!float.IsFinite(Rows[i]))
            {
                throw new ArgumentException($"{what}: feature {i % Dim} of row {i / Dim} is {Rows[i]}");
            }
        }
        return this;
    }

    /// <summary>
    /// Z-scores every column with this set's statistics (the train split's), applied to both splits, so that one
    /// probe learning rate suits raw pixels, a random encoder and a trained one alike.
    /// </summary>
    public (Features Train, Features Test) Standardize(Features test)
    {
        var mean = new double[Dim];
        var sq = new double[Dim];
        for (int r = 0; r < Count; r++)
        {
            for (int c = 0; c < Dim; c++)
            {
                double v = Rows[(long)r * Dim + c];
                mean[c] += v;
                sq[c] += v * v;
            }
        }
        var scale = new float[Dim];
        var shift = new float[Dim];
        for (int c = 0; c < Dim; c++)
        {
            double m = mean[c] / Count;
            double var = Math.Max(sq[c] / Count - m * m, 0);
            scale[c] = (float)(1 / Math.Sqrt(var + 1e-8));
            shift[c] = (float)m;
        }
        return (Apply(this, shift, scale), Apply(test, shift, scale));

        static Features Apply(Features f, float[] shift, float[] scale)
        {
            var rows = new float[f.Rows.Length];
            for (int r = 0; r < f.Count; r++)
            {
                for (int c = 0; c < f.Dim; c++)
                {
                    long i = (long)r * f.Dim + c;
                    rows[i] = (f.Rows[i] - shift[c]) * scale[c];
                }
            }
            return f with { Rows = rows };
        }
    }
}
