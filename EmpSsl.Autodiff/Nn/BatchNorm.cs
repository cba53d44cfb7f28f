namespace EmpSsl.Autodiff.Nn;

/// <summary>
/// torch.nn.BatchNorm1d / BatchNorm2d (momentum 0.1, eps 1e-5, affine, tracking running statistics):
/// weight 1, bias 0, running_mean 0, running_var 1, num_batches_tracked counted once per training forward.
/// </summary>
public sealed class BatchNorm : Module
{
    public BatchNorm(Init init, int channels, float momentum = 0.1f, float eps = 1e-5f)
    {
        Momentum = momentum;
        Eps = eps;
        Weight = Parameter("weight", init.Constant([channels], 1f));
        Bias = Parameter("bias", init.Constant([channels], 0f));
        RunningMean = Buffer("running_mean", init.Constant([channels], 0f));
        RunningVar = Buffer("running_var", init.Constant([channels], 1f));
        NumBatchesTracked = CounterBuffer("num_batches_tracked");
    }

    public Tensor Weight { get; }

    public Tensor Bias { get; }

    public Tensor RunningMean { get; }

    public Tensor RunningVar { get; }

    public Counter NumBatchesTracked { get; }

    public float Momentum { get; }

    public float Eps { get; }

    public override Tensor Forward(Tape tape, Tensor x) => Forward(tape, x, relu: false);

    /// <summary>relu(bn(x)), fused into one op in training (<see cref="Tape.BatchNorm"/>).</summary>
    public Tensor ForwardRelu(Tape tape, Tensor x) => Forward(tape, x, relu: true);

    private Tensor Forward(Tape tape, Tensor x, bool relu)
    {
        if (Training)
        {
            NumBatchesTracked.Value++;
        }
        return tape.BatchNorm(x, Weight, Bias, RunningMean, RunningVar, Training, Momentum, Eps, relu);
    }
}
