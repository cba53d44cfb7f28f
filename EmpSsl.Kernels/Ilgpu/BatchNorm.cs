namespace EmpSsl.Kernels.Ilgpu;

// STUB: replaced by the Ilgpu backend's BatchNorm family.
public sealed partial class IlgpuKernels
{
    public void BatchNormForwardTrain(DeviceSpan y, DeviceSpan saveMean, DeviceSpan saveInvStd, DeviceSpan runningMean, DeviceSpan runningVar, DeviceSpan x, DeviceSpan gamma, DeviceSpan beta, in BatchNormShape s)
        => throw new NotImplementedException("Ilgpu.BatchNormForwardTrain");

    public void BatchNormForwardEval(DeviceSpan y, DeviceSpan x, DeviceSpan gamma, DeviceSpan beta, DeviceSpan runningMean, DeviceSpan runningVar, in BatchNormShape s)
        => throw new NotImplementedException("Ilgpu.BatchNormForwardEval");

    public void BatchNormBackward(DeviceSpan dx, DeviceSpan dgamma, DeviceSpan dbeta, DeviceSpan dy, DeviceSpan x, DeviceSpan gamma, DeviceSpan saveMean, DeviceSpan saveInvStd, in BatchNormShape s)
        => throw new NotImplementedException("Ilgpu.BatchNormBackward");
}
