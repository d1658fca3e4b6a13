#!/usr/bin/python3
"""A random PyTorch CNN, exported to ONNX as a user's model would be.

Usage: random_torch_models.py OUTDIR SEED

Writes OUTDIR/model.onnx (torch.onnx.export, opset 13), calib.npy (64
seeded normal samples), x.npy (the first 4 of them) and desc.txt (the
module).  The seed picks 2 to 6 blocks: convs (kernels 1 to 7, one or two
per axis, strides 1 to 3, dilation 2, asymmetric pads, groups, bias or
not), depthwise convs (channel multiplier 1 or 2), 1x1 convs, max and
average pools, and residual adds or concats; each conv optionally with a
randomised BatchNorm and one of relu, relu6, leaky_relu, sigmoid, tanh,
hardswish, GELU (exact or tanh: the exporter writes their formulas), PReLU
(one slope) or none; channel counts odd and even (1 to 64); inputs of 1 to 8
channels, 1 to 19 pixels a side; then a global average pool, a flatten or
nothing, into a Linear.  Nothing is trained: the point is shapes and
paths nobody wrote a test for.  Needs python3-torch; run with
/usr/bin/python3.
"""
import sys, os, io, contextlib, warnings
warnings.filterwarnings("ignore")
import numpy as np, torch, torch.nn as nn
out, seed = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(seed)
torch.manual_seed(seed)
torch.set_num_threads(1)

def pick(xs): return xs[rng.integers(len(xs))]

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.ops = nn.ModuleList()
        self.plan = []
        c = int(pick([1, 2, 3, 4, 8]))
        h = int(rng.integers(5, 20)); w = int(rng.integers(5, 20))
        if rng.random() < 0.2: w = int(rng.integers(1, 4))
        self.inshape = (1, c, h, w)
        nl = int(rng.integers(2, 7))
        for i in range(nl):
            kind = pick(["conv", "conv", "dw", "pw", "pool", "res"])
            if kind in ("conv", "dw", "pw"):
                if kind == "pw": k = (1, 1)
                else:
                    k = (int(pick([1, 2, 3, 3, 5, 7])), int(pick([1, 2, 3, 3, 5])))
                    if rng.random() < 0.6: k = (k[0], k[0])
                s = int(pick([1, 1, 1, 2, 3])) if kind != "pw" else 1
                d = int(pick([1, 1, 1, 1, 2])) if kind == "conv" else 1
                p = [int(rng.integers(0, max(1, (k[0]-1)*d//2 + 2))), int(rng.integers(0, max(1, (k[1]-1)*d//2 + 2)))]
                if kind == "dw":
                    mult = int(pick([1, 1, 1, 2]))
                    co, g = c * mult, c
                else:
                    co = int(pick([1, 2, 3, 4, 5, 7, 8, 12, 16, 17, 24, 32, 33, 64]))
                    g = 1
                    if kind == "conv" and rng.random() < 0.15:
                        gg = int(pick([2, 3, 4]))
                        if c % gg == 0: co = (co // gg + 1) * gg; g = gg
                eh = (h + 2*p[0] - d*(k[0]-1) - 1)//s + 1
                ew = (w + 2*p[1] - d*(k[1]-1) - 1)//s + 1
                if eh < 1 or ew < 1: continue
                m = nn.Conv2d(c, co, k, stride=s, padding=tuple(p), dilation=d, groups=g, bias=bool(rng.random() < 0.8))
                seq = [m]
                if rng.random() < 0.5:
                    bn = nn.BatchNorm2d(co)
                    bn.weight.data = torch.tensor(rng.uniform(0.5, 1.5, co), dtype=torch.float32)
                    bn.bias.data = torch.tensor(rng.normal(0, 0.3, co), dtype=torch.float32)
                    bn.running_mean.data = torch.tensor(rng.normal(0, 0.2, co), dtype=torch.float32)
                    bn.running_var.data = torch.tensor(rng.uniform(0.5, 2, co), dtype=torch.float32)
                    seq.append(bn)
                a = pick(["relu", "relu", "relu6", "none", "leaky", "sigmoid", "tanh", "hswish", "gelu", "gelu_t", "prelu"])
                seq.append({"relu": nn.ReLU(), "relu6": nn.ReLU6(), "none": nn.Identity(), "leaky": nn.LeakyReLU(0.1),
                            "sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(), "hswish": nn.Hardswish(), "gelu": nn.GELU(),
                            "gelu_t": nn.GELU(approximate="tanh"), "prelu": nn.PReLU()}[a])
                self.ops.append(nn.Sequential(*seq)); self.plan.append("seq")
                c, h, w = co, eh, ew
            elif kind == "pool":
                k = int(pick([2, 3])); s = int(pick([1, 2]))
                if h < k or w < k: continue
                pm = pick([nn.MaxPool2d(k, s), nn.AvgPool2d(k, s)])
                self.ops.append(pm); self.plan.append("seq")
                h = (h - k)//s + 1; w = (w - k)//s + 1
            elif kind == "res":
                k = int(pick([1, 3]))
                m = nn.Sequential(nn.Conv2d(c, c, k, padding=k//2), nn.ReLU())
                self.ops.append(m); self.plan.append(pick(["add", "cat"]))
                if self.plan[-1] == "cat": c = 2*c
        self.head = pick(["gap", "flat", "none"])
        if self.head == "gap":
            self.fc = nn.Linear(c, int(pick([2, 3, 10, 16])))
        elif self.head == "flat":
            self.fc = nn.Linear(c*h*w, int(pick([1, 2, 5, 10])))
    def forward(self, x):
        for op, pl in zip(self.ops, self.plan):
            if pl == "seq": x = op(x)
            elif pl == "add": x = x + op(x)
            else: x = torch.cat([x, op(x)], 1)
        if self.head == "gap": x = self.fc(x.mean((2, 3)))
        elif self.head == "flat": x = self.fc(torch.flatten(x, 1))
        return x

net = Net().eval()
os.makedirs(out, exist_ok=True)
x = torch.tensor(rng.normal(0, 1, (64,) + net.inshape[1:]).astype(np.float32))
np.save(f"{out}/calib.npy", x.numpy())
np.save(f"{out}/x.npy", x[:4].numpy())
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    torch.onnx.export(net, x[:1], f"{out}/model.onnx", opset_version=13, input_names=["x"], output_names=["y"])
print(net.inshape, net.plan, net.head, file=open(f"{out}/desc.txt", "w"))
print(net, file=open(f"{out}/desc.txt", "a"))
