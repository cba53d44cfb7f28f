namespace EmpSsl.Autodiff.Nn;

/// <summary>The projector head after the backbone.</summary>
public enum ProjectorPreset
{
    /// <summary>The paper: feat -> hidden Linear, BN1d, ReLU, -> out Linear (hidden 4096, out 512).</summary>
    Paper,

    /// <summary>The official code: feat -> hidden, BN, ReLU, -> hidden, BN, ReLU, -> out (hidden 4096, out 1024).</summary>
    Official,
}

/// <summary>The projector as an nn.Sequential, so its keys are "0.weight", "1.running_mean", ... under "projector.".</summary>
public static class Projector
{
    public static Sequential Create(Init init, ProjectorPreset preset, int featureSize, int? hidden = null, int? output = null)
    {
        int h = hidden ?? 4096;
        return preset switch
        {
            ProjectorPreset.Paper => new Sequential(
                new Linear(init, featureSize, h),
                new BatchNorm(init, h),
                new ReLU(),
                new Linear(init, h, output ?? 512)),
            ProjectorPreset.Official => new Sequential(
                new Linear(init, featureSize, h),
                new BatchNorm(init, h),
                new ReLU(),
                new Linear(init, h, h),
                new BatchNorm(init, h),
                new ReLU(),
                new Linear(init, h, output ?? 1024)),
            _ => throw new ArgumentOutOfRangeException(nameof(preset), preset, "unknown projector preset"),
        };
    }
}
