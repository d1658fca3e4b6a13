#!/usr/bin/python3
"""Export the Fashion-MNIST model idioms of code written elsewhere, for
tests/qgt/idioms.sh: each a small net, seeded, untrained, opset 13, a
dynamic batch.

  mlp784     an MLP on [N, 784] (x.view(N, -1) in the training loop)
  nochan     [N, 28, 28] in, unsqueeze(1), BN, leaky relu, F.avg_pool2d
             (exported as Pad + AveragePool)
  meanhead   x.mean((2, 3)) for the global pool, log_softmax out
  chunky     torch.chunk, cat, pixel_shuffle, F.pad
  gathered   x[:, idx] (Gather), expand_as, a Slice with a step
  tutorial   the classic tutorial CNN exported at a fixed batch of 1 (no
             dynamic_axes): x.view(x.size(0), -1) folded to Reshape [1, -1]
  pinned     a fixed batch of 1 the model depends on (torch.flatten(x))
  upsample   an encoder-decoder's ConvTranspose2d (stride 2, output_padding
             1) with BN and GELU, then a strided conv into the head
  layernorm  a one-block transformer on 4x4 patches: nn.LayerNorm before
             the attention, the MLP and the head, exported at opset 17 as
             LayerNormalization
  layernorm13  the same block at opset 13, which writes LayerNorm's
             formula (ReduceMean, Sub, Pow, Sqrt, Div, Mul, Add): trains
             once fold-constants has made it one layer_norm again
  groupnorm  a CNN with nn.GroupNorm after each conv, which exports as
             Reshape [0, G, -1], InstanceNormalization (Scale 1, B 0 per
             group), Reshape back, Mul and Add per channel

usage: idioms.py OUTDIR"""
import os, sys
import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(s):
        super().__init__()
        s.n = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 32),
                            nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 10))

    def forward(s, x):
        return s.n(x)


class NoChan(nn.Module):
    def __init__(s):
        super().__init__()
        s.c = nn.Conv2d(1, 8, 3, padding=1)
        s.bn = nn.BatchNorm2d(8)
        s.f = nn.Linear(8 * 14 * 14, 10)

    def forward(s, x):
        x = F.avg_pool2d(F.leaky_relu(s.bn(s.c(x.unsqueeze(1))), 0.1), 2)
        return s.f(x.reshape(x.shape[0], -1))


class MeanHead(nn.Module):
    def __init__(s):
        super().__init__()
        s.c1 = nn.Conv2d(1, 16, 3, padding=1)
        s.b1 = nn.BatchNorm2d(16)
        s.c2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        s.f = nn.Linear(32, 10)

    def forward(s, x):
        x = F.relu(s.c2(F.relu(s.b1(s.c1(x)))))
        return F.log_softmax(s.f(x.mean((2, 3))), dim=1)


class Chunky(nn.Module):
    def __init__(s):
        super().__init__()
        s.c1 = nn.Conv2d(1, 16, 3, padding=1)
        s.c2 = nn.Conv2d(8, 8, 3, padding=1)
        s.c3 = nn.Conv2d(4, 8, 3, stride=2)
        s.f = nn.Linear(8 * 28 * 28, 10)

    def forward(s, x):
        a, b = torch.chunk(F.relu(s.c1(x)), 2, dim=1)
        y = F.pixel_shuffle(torch.cat([a, F.relu(s.c2(b))], 1), 2)
        y = F.relu(s.c3(F.pad(y, (1, 0, 1, 0))))
        return s.f(y.flatten(1))


class Gathered(nn.Module):
    def __init__(s):
        super().__init__()
        s.c1 = nn.Conv2d(1, 12, 3, stride=2, padding=1)
        s.g = nn.Parameter(torch.ones(1, 1, 14, 14))
        s.f = nn.Linear(6 * 14 * 7, 10)
        s.register_buffer("idx", torch.tensor([0, 2, 4, 6, 8, 10, 1, 3]))

    def forward(s, x):
        y = F.relu(s.c1(x))[:, s.idx]                 # Gather on the channels
        y = y[:, :6] * s.g.expand_as(y[:, :6])        # Slice, Expand
        return s.f(y[:, :, :, ::2].flatten(1))        # a Slice with a step


class Tutorial(nn.Module):
    """The classic tutorial CNN, exported at a fixed batch of 1: the
    exporter folds x.view(x.size(0), -1) into Reshape [1, -1]."""

    def __init__(s):
        super().__init__()
        s.c1 = nn.Conv2d(1, 6, 5)
        s.c2 = nn.Conv2d(6, 16, 5)
        s.f1 = nn.Linear(16 * 4 * 4, 64)
        s.f2 = nn.Linear(64, 10)

    def forward(s, x):
        x = F.max_pool2d(F.relu(s.c2(F.max_pool2d(F.relu(s.c1(x)), 2))), 2)
        x = x.view(x.size(0), -1)
        return F.log_softmax(s.f2(F.relu(s.f1(x))), dim=1)


class Pinned(nn.Module):
    """A fixed batch of 1 the model depends on: torch.flatten(x) from dim 0."""

    def __init__(s):
        super().__init__()
        s.f = nn.Linear(784, 10)

    def forward(s, x):
        return s.f(torch.flatten(x)).unsqueeze(0)


class Upsample(nn.Module):
    """A decoder's x2 upsampling: ConvTranspose2d, BN, GELU (the exporter
    writes its formula), then a strided conv and a mean into the head."""

    def __init__(s):
        super().__init__()
        s.c1 = nn.Conv2d(1, 8, 3, stride=2, padding=1)
        s.up = nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=1)
        s.bn = nn.BatchNorm2d(8)
        s.c2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        s.f = nn.Linear(16, 10)

    def forward(s, x):
        x = F.gelu(s.bn(s.up(F.relu(s.c1(x)))))
        return s.f(F.relu(s.c2(x)).mean((2, 3)))


class LayerNormed(nn.Module):
    """A pre-norm transformer block on 49 patch tokens, a token mean into
    the head: three LayerNorms over the 32 features."""

    def __init__(s):
        super().__init__()
        s.patch = nn.Conv2d(1, 32, 4, stride=4)
        s.n1 = nn.LayerNorm(32)
        s.qkv = nn.Linear(32, 96)
        s.o = nn.Linear(32, 32)
        s.n2 = nn.LayerNorm(32)
        s.m1 = nn.Linear(32, 64)
        s.m2 = nn.Linear(64, 32)
        s.n3 = nn.LayerNorm(32)
        s.f = nn.Linear(32, 10)

    def forward(s, x):
        t = s.patch(x).flatten(2).transpose(1, 2)
        q, k, v = s.qkv(s.n1(t)).chunk(3, dim=-1)
        a = torch.softmax(q @ k.transpose(1, 2) / 32 ** 0.5, dim=-1)
        t = t + s.o(a @ v)
        t = t + s.m2(F.gelu(s.m1(s.n2(t))))
        return s.f(s.n3(t).mean(1))


class GroupNormed(nn.Module):
    """Two convs, each followed by GroupNorm (4 and 8 groups) and ReLU, a
    max pool between them, a spatial mean into the head."""

    def __init__(s):
        super().__init__()
        s.c1 = nn.Conv2d(1, 16, 3, padding=1)
        s.g1 = nn.GroupNorm(4, 16)
        s.c2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        s.g2 = nn.GroupNorm(8, 32)
        s.f = nn.Linear(32, 10)

    def forward(s, x):
        x = F.max_pool2d(F.relu(s.g1(s.c1(x))), 2)
        return s.f(F.relu(s.g2(s.c2(x))).mean((2, 3)))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    for name, m, shape in [("mlp784", MLP(), (2, 784)), ("nochan", NoChan(), (2, 28, 28)),
                           ("meanhead", MeanHead(), (2, 1, 28, 28)), ("chunky", Chunky(), (2, 1, 28, 28)),
                           ("gathered", Gathered(), (2, 1, 28, 28)), ("upsample", Upsample(), (2, 1, 28, 28)),
                           ("groupnorm", GroupNormed(), (2, 1, 28, 28))]:
        m.eval()
        torch.onnx.export(m, torch.randn(*shape), os.path.join(out, name + ".onnx"), opset_version=13,
                          input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "b"}, "y": {0: "b"}})
    ln = LayerNormed().eval()
    for name, opset in [("layernorm", 17), ("layernorm13", 13)]:
        torch.onnx.export(ln, torch.randn(2, 1, 28, 28), os.path.join(out, name + ".onnx"), opset_version=opset,
                          input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "b"}, "y": {0: "b"}})
    for name, m in [("tutorial", Tutorial()), ("pinned", Pinned())]:
        torch.onnx.export(m.eval(), torch.randn(1, 1, 28, 28), os.path.join(out, name + ".onnx"))


if __name__ == "__main__":
    main()
