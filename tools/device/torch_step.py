"""PyTorch reference for `EmpSsl.Bench step` on the same GPU: the EMP-SSL step (ResNet-18 CIFAR stem, projector
512 -> 4096 (BN, ReLU) -> 512, normalize, TCR by Cholesky of the b x b Gram, cosine to the mean, backward, SGD
with Nesterov momentum). Crops are random tensors already on the GPU, so augmentation is not timed (ours costs
under 1 ms a step on the GPU). Usage: python3 torch_step.py BATCH PATCHES; prints crops/s for strict fp32 and
for TF32, which PyTorch allows by default in cuDNN convolutions."""
import statistics, sys, time
import torch, torch.nn as nn, torch.nn.functional as F, torchvision

b, n = int(sys.argv[1]), int(sys.argv[2])
dev = "cuda"

def encoder():
    m = torchvision.models.resnet18()
    m.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    m.maxpool = nn.Identity()
    m.fc = nn.Identity()
    return m

def run(tf32):
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.manual_seed(0)
    net = nn.Sequential(encoder(), nn.Linear(512, 4096), nn.BatchNorm1d(4096), nn.ReLU(), nn.Linear(4096, 512)).to(dev)
    opt = torch.optim.SGD(net.parameters(), lr=0.03, momentum=0.9, nesterov=True, weight_decay=1e-4)
    x = torch.randn(n * b, 3, 32, 32, device=dev)
    eps, lam = 0.2, 200.0
    times = []
    for step in range(8):
        torch.cuda.synchronize(); t = time.perf_counter()
        z = F.normalize(net(x), dim=1).view(n, b, -1)          # patch-major: z[i] holds crop i of every image
        d = z.shape[2]
        gram = torch.eye(b, device=dev) + (d / (b * eps)) * z @ z.transpose(1, 2)
        tcr = torch.log(torch.diagonal(torch.linalg.cholesky(gram), dim1=1, dim2=2)).sum(1).mean()  # 1/2 logdet
        cos = (z * z.mean(0, keepdim=True)).sum(2).mean()
        loss = -tcr - lam * cos
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        torch.cuda.synchronize(); dt = time.perf_counter() - t
        if step >= 3:
            times.append(dt)
    med = statistics.median(times)
    print(f"torch {torch.__version__} {torch.cuda.get_device_name()} b={b} n={n} {'tf32' if tf32 else 'fp32'}: "
          f"{med:.4f} s/step = {n * b / med:.1f} crops/s (median of {len(times)}), loss {loss.item():.2f}", flush=True)

run(False)
run(True)
