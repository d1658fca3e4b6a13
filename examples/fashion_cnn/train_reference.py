#!/usr/bin/python3
"""Train the demo's FP32 reference CNN on Fashion-MNIST with PyTorch and
export it to ONNX, the way a user would bring a model trained elsewhere.

This is how examples/fashion_cnn/fashion_cnn.onnx was made; qgtc itself
never runs Python.  Input: 1x1x28x28 float, x = pixel / 255.  Output: 10
logits.  BatchNorm stays a separate node in the export (QGT keeps BN live
while fine-tuning and folds it afterwards).

usage: train_reference.py [--epochs N] [--out fashion_cnn.onnx]

bench/ imports load_split and FashionCNN from here.
"""
import argparse, gzip, os, struct, sys
import numpy as np
import torch
import torch.nn as nn

DATA = "/usr/share/datasets/fashion-mnist"


def load_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, = struct.unpack(">I", raw[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(split):
    """Fashion-MNIST's "train" or "t10k" split: images N x 1 x 28 x 28 as
    x = pixel / 255 (qgtc eval's default normalisation), labels int64."""
    x = load_idx(f"{DATA}/{split}-images-idx3-ubyte.gz").astype(np.float32) / 255
    y = load_idx(f"{DATA}/{split}-labels-idx1-ubyte.gz").astype(np.int64)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)


class FashionCNN(nn.Module):
    """conv-BN-ReLU x3 with max pooling, global average pool, dense: 24k params."""

    def __init__(self):
        super().__init__()
        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
        self.features = nn.Sequential(
            *block(1, 16), nn.MaxPool2d(2),
            *block(16, 32), nn.MaxPool2d(2),
            *block(32, 64), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        return self.fc(self.features(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "fashion_cnn.onnx"))
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(2)
    xtr, ytr = load_split("train")
    xte, yte = load_split("t10k")
    model = FashionCNN()
    print(f"parameters: {sum(p.numel() for p in model.parameters())}")
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    steps = args.epochs * (len(xtr) // 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=steps)
    lossf = nn.CrossEntropyLoss()
    for ep in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xtr))
        for i in range(len(xtr) // 128):
            idx = perm[i * 128:(i + 1) * 128]
            opt.zero_grad()
            loss = lossf(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            sched.step()
        model.eval()
        with torch.no_grad():
            acc = (model(xte).argmax(1) == yte).float().mean().item()
        print(f"epoch {ep + 1}: loss {loss.item():.3f} test top-1 {100 * acc:.2f}%", flush=True)
    model.eval()
    torch.onnx.export(model, xte[:1], args.out, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                      opset_version=13, training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
