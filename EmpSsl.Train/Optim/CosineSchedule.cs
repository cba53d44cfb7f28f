namespace EmpSsl.Train.Optim;

/// <summary>
/// Learning rate by step: an optional linear warm-up from 0, then cosine decay to 0 at the last step,
/// as the official code's per-step cosine (CosineAnnealingLR with T_max = total steps).
/// </summary>
public sealed record CosineSchedule(float BaseLr, int TotalSteps, int WarmupSteps = 0)
{
    public float At(int step)
    {
        if (TotalSteps <= 0)
        {
            return BaseLr;
        }
        if (step < WarmupSteps)
        {
            return BaseLr * (step + 1) / WarmupSteps;
        }
        int decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        double t = Math.Clamp((double)(step - WarmupSteps) / decaySteps, 0, 1);
        return (float)(0.5 * BaseLr * (1 + Math.Cos(Math.PI * t)));
    }
}
