#!/usr/bin/python3
"""PyTorch peer for bench/train_throughput.sh: FP32 training throughput
(images/s) of the Fashion CNN (examples/fashion_cnn) at the same batch
size and thread count as qgtc, same data, SGD with momentum.

usage: train_peer.py [--batch 128] [--threads 2] [--steps 60] [--warmup 5]
Prints one line: 'torch: N img/s'."""
import argparse, os, sys, time
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "fashion_cnn"))
from train_reference import FashionCNN, load_split


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=5)
    a = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    x, y = load_split("train")
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
