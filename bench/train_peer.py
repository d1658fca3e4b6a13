#!/usr/bin/python3
"""PyTorch peer for bench/train_throughput.sh: FP32 training throughput
(images/s) of the Fashion CNN (examples/fashion_cnn) at the same batch
size and thread count as qgtc, same data, SGD with momentum.

usage: train_peer.py [--batch 128] [--threads 2] [--steps 60] [--warmup 5]
Prints one line: 'torch: N img/s'."""
import argparse, gzip, os, struct, sys, time
import numpy as np
import torch
import torch.nn as nn

DATA = "/usr/share/datasets/fashion-mnist"


def load_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = struct.unpack(">I", raw[:4])[0] & 0xFF
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


class FashionCNN(nn.Module):
    """Same as examples/fashion_cnn/train_reference.py."""

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
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=5)
    a = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    x = torch.from_numpy(load_idx(f"{DATA}/train-images-idx3-ubyte.gz").astype(np.float32) / 255).unsqueeze(1)
    y = torch.from_numpy(load_idx(f"{DATA}/train-labels-idx1-ubyte.gz").astype(np.int64))
    model = FashionCNN()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    lossf = nn.CrossEntropyLoss()
    perm = torch.randperm(len(x))
    t0 = None
    for i in range(a.warmup + a.steps):
        if i == a.warmup:
            t0 = time.perf_counter()
        idx = perm[(i * a.batch) % (len(x) - a.batch):][:a.batch]
        xb, yb = x[idx], y[idx]
        opt.zero_grad()
        loss = lossf(model(xb), yb)
        loss.backward()
        opt.step()
    dt = time.perf_counter() - t0
    print(f"torch: {a.steps * a.batch / dt:.0f} img/s")


if __name__ == "__main__":
    main()
