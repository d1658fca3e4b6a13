#!/usr/bin/python3
"""The held-out model set for bench/qgt_accuracy.sh (issue 13): Fashion-MNIST
models trained here with Debian's PyTorch, the way a user brings a model
trained elsewhere, in three architecture families, two widths and seeds
each, each exported twice:

  NAME_bn.onnx     BatchNormalization kept as nodes (TrainingMode.PRESERVE)
  NAME_fused.onnx  an eval-mode export with constant folding: PyTorch fuses
                   each BatchNormalization into the Conv before it

Input: N x 1 x 28 x 28 float, x = pixel / 255 (qgtc eval's default
normalisation).  Output: 10 logits.  A model whose files exist is skipped,
so a second run costs nothing.

The split: QGT's defaults may be tuned on the "tune" models (and the
bundled demo model); the "held" models are only ever reported on.

usage: qgt_models.py OUTDIR [--epochs N] [--only NAME,...]
Prints one line per model: name, split, parameters, FP32 test top-1."""
import argparse, os, sys, time
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "fashion_cnn"))
from train_reference import load_split


def cbr(cin, cout, k=3, stride=1, groups=1):
    return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups), nn.BatchNorm2d(cout), nn.ReLU()]


class PlainCNN(nn.Module):
    """conv-BN-ReLU stages with max pooling; `deep` doubles the last stage."""

    def __init__(self, w, deep=False):
        super().__init__()
        layers = cbr(1, w) + [nn.MaxPool2d(2)] + cbr(w, 2 * w) + [nn.MaxPool2d(2)] + cbr(2 * w, 4 * w)
        if deep:
            layers += cbr(4 * w, 4 * w)
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(4 * w, 10)

    def forward(self, x):
        return self.fc(self.features(x))


class MobileNetish(nn.Module):
    """MobileNetV1-style: a full conv, then depthwise-separable blocks."""

    def __init__(self, w):
        super().__init__()
        def dws(cin, cout, s):
            return cbr(cin, cin, 3, s, groups=cin) + cbr(cin, cout, 1)
        self.features = nn.Sequential(*cbr(1, w, 3, 2), *dws(w, 2 * w, 1), *dws(2 * w, 4 * w, 2),
                                      *dws(4 * w, 4 * w, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(4 * w, 10)

    def forward(self, x):
        return self.fc(self.features(x))


class Block(nn.Module):
    def __init__(self, cin, cout, s):
        super().__init__()
        self.body = nn.Sequential(*cbr(cin, cout, 3, s), nn.Conv2d(cout, cout, 3, 1, 1),
                                  nn.BatchNorm2d(cout))
        self.skip = (nn.Sequential() if cin == cout and s == 1 else
                     nn.Sequential(nn.Conv2d(cin, cout, 1, s), nn.BatchNorm2d(cout)))
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.body(x) + self.skip(x))


class ResNetish(nn.Module):
    """A ResNet-8-like residual net (three stages, 1x1 projection skips)."""

    def __init__(self, w):
        super().__init__()
        self.features = nn.Sequential(*cbr(1, w, 3, 2), Block(w, w, 1), Block(w, 2 * w, 2),
                                      Block(2 * w, 4 * w, 2), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(4 * w, 10)

    def forward(self, x):
        return self.fc(self.features(x))


# name, split, constructor, seed
MODELS = [
    ("cnn12", "tune", lambda: PlainCNN(12), 1),
    ("mbn16", "tune", lambda: MobileNetish(16), 3),
    ("cnn8d", "held", lambda: PlainCNN(8, deep=True), 2),
    ("mbn24", "held", lambda: MobileNetish(24), 4),
    ("res8", "held", lambda: ResNetish(8), 5),
    ("res12", "held", lambda: ResNetish(12), 6),
]


def export(model, x, path, bn_nodes):
    tmp = path + ".tmp"
    if bn_nodes:
        torch.onnx.export(model, x, tmp, input_names=["image"], output_names=["logits"],
                          dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                          opset_version=13, training=torch.onnx.TrainingMode.PRESERVE,
                          do_constant_folding=False)
    else:
        torch.onnx.export(model, x, tmp, input_names=["image"], output_names=["logits"],
                          dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                          opset_version=13, do_constant_folding=True)
    import onnx
    ops = {n.op_type for n in onnx.load(tmp).graph.node}
    if bn_nodes != ("BatchNormalization" in ops):
        sys.exit(f"{path}: the export has {'no ' if bn_nodes else ''}BatchNormalization nodes: {sorted(ops)}")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    torch.set_num_threads(2)
    xtr, ytr = load_split("train")
    xte, yte = load_split("t10k")
    only = set(filter(None, args.only.split(",")))
    for name, split, make, seed in MODELS:
        if only and name not in only:
            continue
        pbn, pfu = (os.path.join(args.outdir, f"{name}_{k}.onnx") for k in ("bn", "fused"))
        if os.path.exists(pbn) and os.path.exists(pfu):
            continue
        torch.manual_seed(seed)
        model = make()
        npar = sum(p.numel() for p in model.parameters())
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
        steps = args.epochs * (len(xtr) // 128)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=steps)
        lossf = nn.CrossEntropyLoss()
        t0 = time.time()
        for ep in range(args.epochs):
            model.train()
            perm = torch.randperm(len(xtr))
            for i in range(len(xtr) // 128):
                idx = perm[i * 128:(i + 1) * 128]
                opt.zero_grad()
                lossf(model(xtr[idx]), ytr[idx]).backward()
                opt.step()
                sched.step()
            print(f"{name}: epoch {ep + 1} ({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
        model.eval()
        with torch.no_grad():
            acc = (model(xte).argmax(1) == yte).float().mean().item()
        export(model, xte[:1], pbn, True)
        export(model, xte[:1], pfu, False)
        print(f"{name} {split} {npar} {100 * acc:.2f}", flush=True)


if __name__ == "__main__":
    main()
