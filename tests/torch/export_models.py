#!/usr/bin/python3
"""Export the PyTorch model zoo used by qgtc's torch tests.

Usage: export_models.py OUTDIR [--only NAME[,NAME...]] [--list] [--ops]

For every model this writes
    OUTDIR/NAME/model.onnx      the graph, exported by torch.onnx.export
    OUTDIR/NAME/input_0.npy     a deterministic float32 input
    OUTDIR/NAME/expected_0.npy  PyTorch's float32 output for that input

Everything is deterministic: weights come from torch.manual_seed, inputs from
numpy's seeded generator, and PyTorch runs on one thread.  Nothing is
downloaded (torchvision models are built with weights=None).

BatchNorm is made non-trivial: gamma/beta are randomised, the running
statistics are calibrated by a train-mode pass over random data (so that the
activations stay in a sane range through deep nets) and then perturbed.

Unless a case says otherwise, export uses training=TrainingMode.PRESERVE on an
eval() model: that keeps BatchNormalization nodes in the graph (TrainingMode.EVAL
lets the exporter fold BN into the preceding Conv).  The `*_evalfold` case
exercises the EVAL + constant-folding path.

Needs Debian's python3-torch (1.13), python3-torchvision, python3-onnx, numpy:
run it with /usr/bin/python3.
"""

import argparse
import contextlib
import io
import os
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

torch.set_num_threads(1)

SEED = 20240611


# ---------------------------------------------------------------------------
# MLPerf Tiny reference architectures, written as nn.Modules.
# ---------------------------------------------------------------------------

def conv_bn_relu(cin, cout, k, stride=1, pad=0, groups=1):
    return [nn.Conv2d(cin, cout, k, stride, pad, groups=groups, bias=False),
            nn.BatchNorm2d(cout), nn.ReLU()]


class MobileNetV1VWW(nn.Module):
    """MobileNetV1, width 0.25, 96x96x3 input, 2 classes (MLPerf Tiny VWW).

    Follows the reference vww_model.py: conv 3x3/2, then 13 depthwise
    separable blocks (dw 3x3 + BN + ReLU, pw 1x1 + BN + ReLU), average pool
    over the final 3x3 map, flatten, dense 2.  Keras 'same' padding on the
    stride-2 convs is modelled with symmetric padding 1.
    """

    def __init__(self, alpha=0.25, num_classes=2):
        super().__init__()
        c = lambda n: int(n * alpha)  # noqa: E731
        cfg = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
               (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2),
               (1024, 1)]
        layers = conv_bn_relu(3, c(32), 3, 2, 1)
        cin = c(32)
        for cout, s in cfg:
            layers += conv_bn_relu(cin, cin, 3, s, 1, groups=cin)
            layers += conv_bn_relu(cin, c(cout), 1)
            cin = c(cout)
        self.features = nn.Sequential(*layers)
        self.pool = nn.AvgPool2d(3)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.pool(self.features(x))
        return self.fc(torch.flatten(x, 1))


class ResBlock8(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.bn2 = nn.BatchNorm2d(cout)
        # Reference: a 1x1 strided conv (no BN) when the shape changes.
        self.short = (nn.Conv2d(cin, cout, 1, stride) if stride != 1 or cin != cout
                      else nn.Identity())

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + self.short(x))


class ResNet8(nn.Module):
    """ResNet-8 for CIFAR-10 (MLPerf Tiny image classification), 32x32x3.

    conv 16 3x3 + BN + ReLU, three residual stacks (16/1, 32/2, 64/2),
    average pool 8x8, flatten, dense 10.  Outputs logits (the reference
    adds a softmax; logits make the comparison more sensitive).
    """

    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn_relu(3, 16, 3, 1, 1))
        self.s1 = ResBlock8(16, 16, 1)
        self.s2 = ResBlock8(16, 32, 2)
        self.s3 = ResBlock8(32, 64, 2)
        self.pool = nn.AvgPool2d(8)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.s3(self.s2(self.s1(self.stem(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


class DSCNN(nn.Module):
    """DS-CNN small for keyword spotting (MLPerf Tiny KWS), input 1x49x10.

    conv 64 10x4 stride 2 ('same': explicit zero pad 4/5 rows, 1/1 cols, as
    TensorFlow computes it) + BN + ReLU, 4 depthwise-separable blocks
    (dw 3x3 + BN + ReLU, pw 64 + BN + ReLU), average pool 25x5, flatten,
    dense 12, softmax (as the reference).
    """

    def __init__(self, num_classes=12, ch=64):
        super().__init__()
        layers = [nn.ZeroPad2d((1, 1, 4, 5))] + conv_bn_relu(1, ch, (10, 4), 2)
        layers.append(nn.Dropout(0.2))
        for _ in range(4):
            layers += conv_bn_relu(ch, ch, 3, 1, 1, groups=ch)
            layers += conv_bn_relu(ch, ch, 1)
        layers.append(nn.Dropout(0.4))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AvgPool2d((25, 5))
        self.fc = nn.Linear(ch, num_classes)

    def forward(self, x):
        x = self.pool(self.features(x))
        return torch.softmax(self.fc(torch.flatten(x, 1)), dim=1)


class DenseAutoencoder(nn.Module):
    """The ToyADMOS dense autoencoder (MLPerf Tiny anomaly detection).

    640 -> (128, BN, ReLU) x4 -> (8, BN, ReLU) -> (128, BN, ReLU) x4 -> 640.
    """

    def __init__(self, dim=640, hidden=128, bottleneck=8):
        super().__init__()
        sizes = [dim] + [hidden] * 4 + [bottleneck] + [hidden] * 4
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU()]
        layers.append(nn.Linear(hidden, dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class LeNet5(nn.Module):
    """LeNet-5 (LeCun et al. 1998) on a 28x28 MNIST-sized image padded to
    32x32: conv 6 5x5, tanh, average pool 2, conv 16 5x5, tanh, average
    pool 2, dense 120, 84 and 10 with tanh between: 6,508 tanh per
    inference, the float path's activation-heavy case.
    """

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
            nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2))
        self.classifier = nn.Sequential(
            nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(),
            nn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class SmoothActs(nn.Module):
    """Conv layers with the smooth activations of newer nets: ELU, Mish
    (x tanh(softplus(x))), exact GELU (through Erf) and Softplus."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 8, 3, padding=1)
        self.c3 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        y = nn.functional.elu(self.c1(x), alpha=0.7)
        y = nn.functional.mish(self.c2(y))
        y = nn.functional.gelu(self.c3(y))
        return self.fc(nn.functional.softplus(y.mean([2, 3])))


class NormNet(nn.Module):
    """The normalisations of nets that do not use BatchNorm: GroupNorm
    (exported as InstanceNormalization between reshapes), InstanceNorm2d,
    LayerNorm (LayerNormalization from opset 17; ReduceMean, Sub, Pow,
    Sqrt and Div before) and GELU with the tanh approximation."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.gn = nn.GroupNorm(2, 8)
        self.c2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.inorm = nn.InstanceNorm2d(8, affine=True)
        self.fc1 = nn.Linear(8 * 8 * 8, 32)
        self.ln = nn.LayerNorm(32)
        self.fc2 = nn.Linear(32, 6)
        with torch.no_grad():  # parameters away from their defaults
            for m in (self.gn, self.inorm, self.ln):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)

    def forward(self, x):
        y = torch.relu(self.gn(self.c1(x)))
        y = torch.relu(self.inorm(self.c2(y)))
        y = nn.functional.gelu(self.ln(self.fc1(y.flatten(1))), approximate="tanh")
        return self.fc2(y)


class MathOps(nn.Module):
    """Elementwise math and reductions as torch exports them: Abs, Sqrt,
    Exp, Log, Neg, Reciprocal, Pow, Max/Min (torch.maximum/minimum), Selu,
    Celu, Softsign (Abs and Div), LogSigmoid (Log of Sigmoid), ReduceSum,
    ReduceMax, ReduceMin, ReduceL2 with Expand (F.normalize), ReduceLogSumExp,
    and Floor, Ceil, Round and Sign of the input itself (their discontinuities
    would turn float noise into whole steps anywhere else)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 4 + 4 * 3 * 16 * 16, 5)

    def forward(self, x):
        steps = torch.cat([torch.floor(x * 2), torch.ceil(x * 2), torch.round(x * 2), torch.sign(x)], 1)
        y = self.c1(x)
        a = torch.sqrt(y.abs() + 0.1) + torch.exp(-y * y) - torch.log(y.abs() + 1) + torch.reciprocal(y.abs() + 1)
        a = torch.maximum(a, -a * 0.5) + torch.minimum(a, a.pow(2)) + (-a).pow(3) * 0.01
        b = self.c2(a)
        b = nn.functional.selu(b) + nn.functional.celu(b, alpha=0.8) + nn.functional.softsign(b)
        b = b + nn.functional.logsigmoid(b)
        s = b.sum(dim=(2, 3)) * 0.01
        m = b.amax(dim=(2, 3)) - b.amin(dim=(2, 3))
        n = nn.functional.normalize(b.mean(dim=(2, 3)), dim=1)
        l = torch.logsumexp(b, dim=(2, 3)) * 0.1
        return self.fc(torch.cat([s, m, n, l, steps.flatten(1)], 1))


class PixelShuffleNet(nn.Module):
    """Super-resolution style data movement: PixelShuffle (DepthToSpace),
    PixelUnshuffle (its Reshape and Transpose), repeat (Tile) and expand_as
    (Expand)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 16, 3, padding=1)
        self.c2 = nn.Conv2d(4, 8, 3, padding=1)
        self.c3 = nn.Conv2d(32, 4, 1)

    def forward(self, x):
        y = nn.functional.pixel_shuffle(self.c1(x), 2)
        y = torch.relu(self.c2(y))
        y = self.c3(nn.functional.pixel_unshuffle(y, 2))
        g = y.mean(dim=(2, 3), keepdim=True)
        return y.repeat(1, 2, 1, 1) + torch.cat([g, g], 1).expand_as(y.repeat(1, 2, 1, 1))


class TinyViT(nn.Module):
    """A pre-norm transformer block over conv patches: LayerNorm, two-head
    attention (MatMul, Softmax), a GELU MLP, residuals, mean-pooled into a
    classifier.  Written out by hand: torch's TransformerEncoderLayer
    exports its fused inference kernel, which ONNX has no op for."""

    def __init__(self, d=16, heads=2):
        super().__init__()
        self.h, self.dh = heads, d // heads
        self.patch = nn.Conv2d(1, d, 4, stride=4)
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        self.fc = nn.Linear(d, 10)

    def forward(self, x):
        t = self.patch(x).flatten(2).transpose(1, 2)  # [1, 49, d]
        q, k, v = self.qkv(self.ln1(t)).chunk(3, dim=-1)
        split = lambda z: z.reshape(1, -1, self.h, self.dh).transpose(1, 2)
        q, k, v = split(q), split(k), split(v)
        att = torch.softmax(q @ k.transpose(-1, -2) / self.dh ** 0.5, dim=-1)
        t = t + self.proj((att @ v).transpose(1, 2).reshape(1, -1, self.h * self.dh))
        t = t + self.mlp(self.ln2(t))
        return self.fc(t.mean(1))


class RowLSTM(nn.Module):
    """The classic recurrent MNIST classifier: each of the 28 image rows is
    a time step of a two-layer LSTM (batch_first), the last step's state
    goes to a Linear."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(28, 32, num_layers=2, batch_first=True)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        y, _ = self.rnn(x.squeeze(1))
        return self.fc(y[:, -1])


class BiGRU(nn.Module):
    """A keyword-spotting style GRU: bidirectional over 49 frames of 10
    features (torch exports linear_before_reset=1), mean over time."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(10, 24, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(48, 12)

    def forward(self, x):
        y, h = self.rnn(x.squeeze(1))
        return self.fc(y.mean(1)) + h.sum(0).sum(1, keepdim=True) * 0.1


class ElmanRNN(nn.Module):
    """Plain (Elman) RNNs as torch exports them (ONNX RNN): a bidirectional
    tanh layer over 28 image rows, then a relu layer (activations
    ['Relu']), its last state to a Linear."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(28, 16, batch_first=True, bidirectional=True)
        self.rnn2 = nn.RNN(32, 24, nonlinearity="relu")
        self.fc = nn.Linear(24, 10)

    def forward(self, x):
        y, _ = self.rnn(x.squeeze(1))
        y2, h = self.rnn2(y.transpose(0, 1) * 0.5)
        return self.fc(h[0]) + y2.mean(0)[:, :10]


class EinsumAttn(nn.Module):
    """Attention written with torch.einsum (ONNX Einsum): projections as
    'btd,de->bte', scores 'bhqd,bhkd->bhqk', the mix 'bhqk,bhkd->bhqd'."""

    def __init__(self, d=16, heads=2):
        super().__init__()
        self.h = heads
        self.w = nn.Parameter(torch.randn(3, d, d) / d ** 0.5)
        self.fc = nn.Linear(d, 10)

    def forward(self, x):
        x = x.flatten(1, 2)[:, :, :16]                        # [B, 28, 16]
        q, k, v = (torch.einsum("btd,de->bte", x, self.w[i]) for i in range(3))
        B, T, D = q.shape
        q, k, v = (t.reshape(B, T, self.h, D // self.h).transpose(1, 2) for t in (q, k, v))
        a = torch.softmax(torch.einsum("bhqd,bhkd->bhqk", q, k) * 0.35, -1)
        o = torch.einsum("bhqk,bhkd->bhqd", a, v).transpose(1, 2).reshape(B, T, D)
        return self.fc(o.mean(1))


class UnfoldNet(nn.Module):
    """nn.Unfold (im2col) into a Linear, exported with a dynamic batch: the
    exporter computes its index grids with Range over shapes."""

    def __init__(self):
        super().__init__()
        self.unfold = nn.Unfold(3, stride=2, padding=1)
        self.fc = nn.Linear(27, 4)

    def forward(self, x):
        return self.fc(self.unfold(x).transpose(1, 2)).mean(1)


class TopKHead(nn.Module):
    """A classifier's post-processing as torch exports it (ONNX TopK):
    torch.topk of the logits, torch.sort and argsort of a feature row."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(48, 10)

    def forward(self, x):
        f = x.flatten(1)
        v, i = torch.topk(self.fc(f), 3)
        s, _ = torch.sort(f[:, :8], descending=True)
        a = torch.argsort(f[:, 8:16])
        return torch.cat([v, i.float(), s, a.float()], 1)


class GatherSelect(nn.Module):
    """torch.gather (ONNX GatherElements) at indices the model computes:
    each row's features in the order of another row's argsort."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 16)

    def forward(self, x):
        f = x.flatten(1)[:, :16].reshape(-1, 4, 4)
        idx = torch.argsort(self.fc(x.flatten(1)[:, :16]).reshape(-1, 4, 4), dim=2)
        return torch.gather(f, 2, idx).flatten(1) + torch.gather(f, 1, idx[:, :2, :]).sum(1).repeat(1, 4)


class IntReductions(nn.Module):
    """Reductions of integers as torch exports them (ReduceSum, ReduceMax,
    ReduceMin of int64): a count of positives, .any(), .all(), the
    largest and smallest rounded value."""

    def forward(self, x):
        f = x.flatten(1)
        pos = (f > 0).long()
        q = torch.round(f * 4).long()
        r = torch.stack([pos.sum(1), pos.amax(1), pos.amin(1), q.amax(1), q.amin(1),
                         (f > 0).any(1).long(), (f > -3).all(1).long()], 1)
        return r.float() + f[:, :7]


class ScatterOps(nn.Module):
    """torch.scatter and scatter_add (ONNX ScatterElements; the add as its
    reduction, opset 16 on) at indices the model computes, duplicates
    accumulating."""

    def forward(self, x):
        f = x.flatten(1)[:, :12].reshape(-1, 3, 4)
        idx = torch.argmax(f, dim=1, keepdim=True).expand(-1, 2, -1)  # duplicates along dim 1
        acc = torch.zeros_like(f).scatter_add(1, idx, f[:, :2, :])
        put = f.scatter(2, torch.argsort(f, dim=2), f * 2)
        return (acc + put).flatten(1)


class IndexPut(nn.Module):
    """Slice assignment (y[:, 0] = ..., y[:, :, -1] = c: ONNX ScatterND at
    indices built from shapes) and advanced indexing at run-time rows
    (argmax; Gather of a flattened view)."""

    def forward(self, x):
        f = x.flatten(1)[:, :16].reshape(-1, 4, 4)
        y = f.clone()
        y[:, 0] = f[:, 1] * 2
        y[:, :, -1] = 0.5
        rows = torch.argmax(f[:, :, 0], dim=1)
        g = f[torch.arange(f.shape[0]), rows]
        return torch.cat([y.flatten(1), g], 1)


class LRNNet(nn.Module):
    """AlexNet's local response normalisation: torch exports it with an If
    that squeezes a dimension when it is 1 (Shape, Gather, Equal of a
    value whose shape is fixed), which qgtc takes at compile time."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.n1 = nn.LocalResponseNorm(5, alpha=1e-3, beta=0.75, k=2.0)
        self.c2 = nn.Conv2d(8, 6, 3, stride=2)
        self.n2 = nn.LocalResponseNorm(3)
        self.fc = nn.Linear(6 * 3 * 3, 4)

    def forward(self, x):
        y = self.n1(torch.relu(self.c1(x)))
        y = self.n2(torch.relu(self.c2(y)))
        return self.fc(y.flatten(1))


class TokenOneHot(nn.Module):
    """Token ids (int64 input) one-hot encoded (ONNX OneHot) into a
    Linear, beside an embedding lookup of the same ids (Gather of run-time
    indices)."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(12, 5)
        self.fc = nn.Linear(12, 5)

    def forward(self, ids):
        return self.fc(nn.functional.one_hot(ids, 12).float()) + self.emb(ids)


class Masks(nn.Module):
    """Comparisons and Where as torch exports them: torch.where on x > 0,
    Hardshrink (Greater, Less, Or, Where), masked_fill (Where of Equal's
    complement through Not) and a clamp of the input's sign."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 6, 3, padding=1)
        self.fc = nn.Linear(6 * 8 * 8, 4)

    def forward(self, x):
        y = self.c(x)
        y = torch.where(y > 0, y, 0.1 * y) + nn.functional.hardshrink(y, 0.3)
        y = y.masked_fill(~(y >= -0.2), 0.0) + (y <= 0.5).float() * 0.25
        return self.fc(y.flatten(1))


class ArgHead(nn.Module):
    """A classifier whose output carries its decision (ArgMax, int64, cast
    back to float), over running sums (CumSum) and a sinusoidal feature
    (Sin, Cos)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 12)
        self.fc2 = nn.Linear(12, 5)

    def forward(self, x):
        h = torch.relu(self.fc1(x.flatten(1)))
        h = h.cumsum(1) * 0.3 + torch.sin(h * 2) - torch.cos(h)
        y = self.fc2(h)
        return y + y.argmax(1, keepdim=True).float()


# ---------------------------------------------------------------------------
# The case list.
# ---------------------------------------------------------------------------

def tv(name, **kw):
    def build():
        import torchvision.models as m
        return getattr(m, name)(weights=None, **kw)
    return build


# name: (builder, input shape used for export/reference, export options)
# Export options: opset, fold (do_constant_folding), training ('preserve' or
# 'eval'), dynamic (dynamic batch axis; then 'run_shape' is the shape the
# test runs with), functions (names of the module classes exported as
# model-local ONNX functions: export_modules_as_functions, opset 15 on).
CASES = {
    "mobilenet_v2": (tv("mobilenet_v2", num_classes=10), (1, 3, 64, 64),
                     dict(opset=13)),
    "mobilenet_v2_op9": (tv("mobilenet_v2", num_classes=10), (1, 3, 64, 64),
                         dict(opset=9)),
    "mobilenet_v3_small": (tv("mobilenet_v3_small", num_classes=10),
                           (1, 3, 64, 64), dict(opset=14)),
    "shufflenet_v2_x0_5": (tv("shufflenet_v2_x0_5", num_classes=10),
                           (1, 3, 64, 64), dict(opset=11, fold=False)),
    "squeezenet1_1": (tv("squeezenet1_1", num_classes=10), (2, 3, 64, 64),
                      dict(opset=10)),
    "mnasnet0_5": (tv("mnasnet0_5", num_classes=10), (1, 3, 64, 64),
                   dict(opset=12)),
    "resnet18": (tv("resnet18", num_classes=10), (1, 3, 64, 64),
                 dict(opset=17)),
    "mobilenet_v1_025_vww": (MobileNetV1VWW, (1, 3, 96, 96), dict(opset=13)),
    "mobilenet_v1_025_vww_evalfold": (MobileNetV1VWW, (1, 3, 96, 96),
                                      dict(opset=14, training="eval",
                                           fold=True)),
    "resnet8_cifar": (ResNet8, (1, 3, 32, 32), dict(opset=14)),
    "resnet8_cifar_functions": (ResNet8, (1, 3, 32, 32),
                                dict(opset=15, functions=("ResBlock8",))),
    "resnet8_cifar_dynbatch": (ResNet8, (1, 3, 32, 32),
                               dict(opset=13, dynamic=True,
                                    run_shape=(3, 3, 32, 32))),
    "dscnn_kws": (DSCNN, (1, 1, 49, 10), dict(opset=10)),
    "dscnn_kws_op17": (DSCNN, (1, 1, 49, 10), dict(opset=17)),
    "dense_autoencoder": (DenseAutoencoder, (2, 640), dict(opset=14)),
    "lenet5": (LeNet5, (1, 1, 28, 28), dict(opset=13)),
    "mobilenet_v2_035": (tv("mobilenet_v2", num_classes=10, width_mult=0.35),
                         (1, 3, 96, 96), dict(opset=13)),
    # functions inside functions; ReLU6 as Clip with per-call constants
    "mobilenet_v2_035_functions": (
        tv("mobilenet_v2", num_classes=10, width_mult=0.35), (1, 3, 96, 96),
        dict(opset=16, functions=("InvertedResidual", "Conv2dNormActivation"))),
    "smooth_acts": (SmoothActs, (1, 3, 16, 16), dict(opset=13)),
    "norm_layers": (NormNet, (1, 3, 16, 16), dict(opset=13)),
    "norm_layers_op17": (NormNet, (1, 3, 16, 16), dict(opset=17)),
    "math_ops": (MathOps, (1, 3, 16, 16), dict(opset=13)),
    "pixel_shuffle": (PixelShuffleNet, (1, 3, 8, 8), dict(opset=13)),
    "tiny_vit": (TinyViT, (1, 1, 28, 28), dict(opset=13)),
    "tiny_vit_op17": (TinyViT, (1, 1, 28, 28), dict(opset=17)),
    "row_lstm": (RowLSTM, (1, 1, 28, 28), dict(opset=13)),
    "bigru_kws": (BiGRU, (1, 1, 49, 10), dict(opset=14)),
    "elman_rnn": (ElmanRNN, (1, 1, 28, 28), dict(opset=13)),
    "einsum_attn": (EinsumAttn, (1, 1, 28, 28), dict(opset=13)),
    "topk_head": (TopKHead, (1, 3, 4, 4), dict(opset=13)),
    "gather_select": (GatherSelect, (1, 1, 4, 4), dict(opset=13)),
    "int_reductions": (IntReductions, (2, 1, 4, 4), dict(opset=13)),
    "scatter_ops": (ScatterOps, (1, 1, 4, 4), dict(opset=17)),
    "token_one_hot": (TokenOneHot, (1, 6), dict(opset=13, ids=12)),
    "index_put": (IndexPut, (1, 1, 4, 4), dict(opset=13)),
    "lrn_if": (LRNNet, (1, 3, 8, 8), dict(opset=13)),
    "lrn_if_op17": (LRNNet, (2, 3, 8, 8), dict(opset=17)),
    "unfold_dynbatch": (UnfoldNet, (1, 3, 8, 8), dict(opset=13, dynamic=True, run_shape=(2, 3, 8, 8))),
    "masks": (Masks, (1, 3, 8, 8), dict(opset=13)),
    "arg_head": (ArgHead, (4, 1, 4, 4), dict(opset=13)),
}


def case_seed(name):
    # Stable across runs and Python versions (unlike hash()).
    return SEED + sum((i + 1) * ord(ch) for i, ch in enumerate(name))


def randomise_bn(model, shape, gen):
    """Give every BatchNorm non-trivial gamma/beta and running statistics."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    with torch.no_grad():
        for m in bns:
            m.weight.uniform_(0.5, 1.5, generator=gen)
            m.bias.normal_(0.0, 0.2, generator=gen)
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration
        # Calibrate running stats on random data so deep nets stay O(1).
        model.train()
        calib = (8,) + tuple(shape[1:])
        for _ in range(2):
            model(torch.randn(calib, generator=gen))
        for m in bns:
            m.running_mean.add_(0.1 * torch.randn(m.running_mean.shape, generator=gen)
                                * m.running_var.sqrt())
            m.running_var.mul_(torch.empty_like(m.running_var).uniform_(0.7, 1.4,
                                                                         generator=gen))
    model.eval()


@contextlib.contextmanager
def quiet_fd2():
    """Silence C++-level stderr chatter of the exporter; replay it on error."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        ok = False
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                yield
            ok = True
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            if not ok:
                tmp.seek(0)
                sys.stderr.write(tmp.read().decode(errors="replace"))


def export_case(name, outdir):
    builder, shape, opt = CASES[name]
    seed = case_seed(name.replace("_evalfold", "").replace("_dynbatch", "")
                     .replace("_op9", "").replace("_op17", "").replace("_functions", ""))
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    model = builder()
    randomise_bn(model, shape, gen)
    model.eval()

    run_shape = opt.get("run_shape", shape)
    rng = np.random.default_rng(seed + 2)
    x = rng.standard_normal(run_shape).astype(np.float32)
    if opt.get("ids"):  # int64 token ids below opt["ids"]
        x = rng.integers(0, opt["ids"], run_shape).astype(np.int64)
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy().astype(np.float32)

    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    training = (torch.onnx.TrainingMode.EVAL if opt.get("training") == "eval"
                else torch.onnx.TrainingMode.PRESERVE)
    dummy = torch.from_numpy(rng.standard_normal(shape).astype(np.float32))
    if opt.get("ids"):
        dummy = torch.from_numpy(rng.integers(0, opt["ids"], shape).astype(np.int64))
    kw = {}
    if opt.get("dynamic"):
        kw["dynamic_axes"] = {"input": {0: "batch"}, "output": {0: "batch"}}
    if opt.get("functions"):
        kw["export_modules_as_functions"] = {
            type(m) for m in model.modules() if type(m).__name__ in opt["functions"]}
    with quiet_fd2(), torch.no_grad():
        torch.onnx.export(model, (dummy,), path, opset_version=opt["opset"],
                          input_names=["input"], output_names=["output"],
                          training=training,
                          do_constant_folding=opt.get("fold", True),
                          verbose=False, **kw)
    np.save(os.path.join(d, "input_0.npy"), x)
    np.save(os.path.join(d, "expected_0.npy"), y)
    return path


def op_inventory(path):
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return sorted({n.op_type for n in m.graph.node})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir", nargs="?")
    ap.add_argument("--only", help="comma-separated case names")
    ap.add_argument("--list", action="store_true", help="list case names and exit")
    ap.add_argument("--ops", action="store_true",
                    help="also print each exported graph's ONNX op types")
    a = ap.parse_args()
    if a.list:
        print("\n".join(CASES))
        return 0
    if not a.outdir:
        ap.error("OUTDIR is required")
    names = list(CASES)
    if a.only:
        names = [n.strip() for n in a.only.split(",") if n.strip()]
        bad = [n for n in names if n not in CASES]
        if bad:
            ap.error("unknown case(s): %s (known: %s)" % (", ".join(bad), ", ".join(CASES)))
    failed = 0
    for n in names:
        try:
            path = export_case(n, a.outdir)
        except Exception as e:  # report and carry on with the other cases
            print("%s: export FAILED: %s: %s" % (n, type(e).__name__, e), file=sys.stderr)
            failed += 1
            continue
        if a.ops:
            print("%-32s opset %-2d %s" % (n, CASES[n][2]["opset"], " ".join(op_inventory(path))))
    if failed:
        print("%d export(s) failed" % failed, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
