#!/usr/bin/python3
"""A random PyTorch transformer, exported to ONNX as a user's model would be.

Usage: random_torch_transformers.py OUTDIR SEED

Writes OUTDIR/model.onnx (torch.onnx.export, opset 13), calib.npy (64
seeded normal samples), x.npy (the first) and desc.txt.  The seed picks
2 to 19 tokens of 4 to 16 features, one or two heads, and one or two
blocks: attention (one fused qkv Linear and chunk, or three Linears; the
scores divided by sqrt(d), multiplied by its inverse or not scaled, the
softmax, the heads' reshapes and transposes), a Linear, GELU (exact or
tanh) or ReLU, Linear MLP, LayerNorms or none, residuals or none; then a
mean over the tokens, the first token or every token into the head.  The
exporter writes every nn.Linear on the 3-D tokens as MatMul and
Add(bias, .), GELU and LayerNorm as their formulas.  Nothing is trained:
the point is the integer path's attention, matmul biases and token means
in shapes nobody wrote a test for.  Needs python3-torch; run with
/usr/bin/python3.
"""
import sys, os, warnings
warnings.filterwarnings("ignore")
import numpy as np, torch, torch.nn as nn
out, seed = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(seed)
torch.manual_seed(seed)


def pick(xs):
    return xs[rng.integers(len(xs))]


T = int(rng.integers(2, 20))
D = int(pick([4, 6, 8, 12, 16]))
H = int(pick([1, 2])) if D % 2 == 0 else 1


class Attn(nn.Module):
    def __init__(s):
        super().__init__()
        s.qkv = nn.Linear(D, 3 * D, bias=bool(rng.random() < 0.7))
        s.o = nn.Linear(D, D)
        s.split = bool(rng.random() < 0.5)
        if s.split:
            s.q, s.k, s.v = nn.Linear(D, D), nn.Linear(D, D, bias=False), nn.Linear(D, D)
        s.scale = pick(["div", "mul", "none"])

    def forward(s, x):
        B = x.shape[0]
        if s.split:
            q, k, v = s.q(x), s.k(x), s.v(x)
        else:
            q, k, v = s.qkv(x).chunk(3, dim=-1)
        q, k, v = (t.reshape(B, T, H, D // H).transpose(1, 2) for t in (q, k, v))
        a = q @ k.transpose(-2, -1)
        if s.scale == "div":
            a = a / (D // H) ** 0.5
        elif s.scale == "mul":
            a = a * (D // H) ** -0.5
        a = a.softmax(-1)
        return s.o((a @ v).transpose(1, 2).reshape(B, T, D))


class Block(nn.Module):
    def __init__(s):
        super().__init__()
        s.n1 = pick([nn.LayerNorm(D), nn.Identity()])
        s.a = Attn()
        s.n2 = pick([nn.LayerNorm(D), nn.Identity()])
        hid = int(pick([D, 2 * D, 3 * D]))
        act = pick([nn.GELU(), nn.GELU(approximate="tanh"), nn.ReLU()])
        s.m = nn.Sequential(nn.Linear(D, hid), act, nn.Linear(hid, D))
        s.res = bool(rng.random() < 0.7)

    def forward(s, x):
        x = x + s.a(s.n1(x)) if s.res else s.a(s.n1(x))
        return x + s.m(s.n2(x)) if s.res else s.m(s.n2(x))


class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.inp = nn.Linear(int(pick([3, 5, 8])), D)
        s.b = nn.Sequential(*[Block() for _ in range(int(rng.integers(1, 3)))])
        s.head = nn.Linear(D, int(pick([2, 5, 10])))
        s.pool = pick(["mean", "first", "flat"])

    def forward(s, x):
        x = s.b(s.inp(x))
        if s.pool == "flat":
            return s.head(x).flatten(1)
        return s.head(x.mean(1) if s.pool == "mean" else x[:, 0])


m = Net().eval()
inshape = (1, T, m.inp.in_features)
os.makedirs(out, exist_ok=True)
torch.onnx.export(m, torch.randn(*inshape), os.path.join(out, "model.onnx"), opset_version=13,
                  input_names=["x"], output_names=["y"])
cal = rng.standard_normal((64,) + inshape[1:]).astype(np.float32)
np.save(os.path.join(out, "calib.npy"), cal)
np.save(os.path.join(out, "x.npy"), cal[:1])
with open(os.path.join(out, "desc.txt"), "w") as f:
    f.write("transformer: %d tokens of %d, %d heads, %s pool\n" % (T, D, H, m.pool))
