#!/usr/bin/python3
"""latency_torch.py: batch-1 latency of the MLPerf-Tiny-shaped models in
PyTorch (Debian python3-torch, one thread, eval mode, no_grad), built from
the same architectures and seeds as tests/torch/export_models.py.

usage: latency_torch.py NAME [MIN_SECONDS] [MAX_ITERS]
       latency_torch.py --export OUTDIR NAME[,NAME...]
       latency_torch.py --macs NAME

Prints "torch: median_us min_us iterations".  --export writes
OUTDIR/NAME/model.onnx + input_0.npy through export_models.export_case with
every case's batch set to 1 (the dense autoencoder's case exports batch 2).
--macs prints the multiply-accumulates of one inference (Conv and Linear).
"""

import os
import sys
import time
import warnings

warnings.filterwarnings("ignore")
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(here), "tests", "torch"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import export_models as em  # noqa: E402  (sets torch to one thread)

torch.set_num_threads(1)


def batch1(name):
    builder, shape, opt = em.CASES[name]
    em.CASES[name] = (builder, (1,) + tuple(shape[1:]), opt)


def export(outdir, names):
    for name in names:
        batch1(name)
        em.export_case(name, outdir)


def build(name):
    batch1(name)
    builder, shape, _ = em.CASES[name]
    seed = em.case_seed(name)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    model = builder()
    em.randomise_bn(model, shape, gen)
    model.eval()
    return model, shape


def macs(name):
    model, shape = build(name)
    total = [0]

    def hook(m, inp, out):
        if isinstance(m, torch.nn.Conv2d):
            k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
            total[0] += out.numel() * k
        elif isinstance(m, torch.nn.Linear):
            total[0] += out.numel() * m.in_features

    for m in model.modules():
        m.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.zeros(shape))
    print(total[0])


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "--export":
        export(sys.argv[2], sys.argv[3].split(","))
        return
    if len(sys.argv) >= 3 and sys.argv[1] == "--macs":
        macs(sys.argv[2])
        return
    name = sys.argv[1]
    min_s = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    max_it = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    model, shape = build(name)
    x = torch.from_numpy(np.random.default_rng(1).standard_normal(shape).astype(np.float32))
    times = []
    with torch.inference_mode():
        t0 = time.perf_counter()
        for i in range(1000):
            model(x)
            if i >= 10 and time.perf_counter() - t0 > 0.2:
                break
        t0 = time.perf_counter()
        while len(times) < max_it and (len(times) < 20 or time.perf_counter() - t0 < min_s):
            a = time.perf_counter_ns()
            model(x)
            times.append((time.perf_counter_ns() - a) / 1e3)
    times.sort()
    print("torch: %.3f %.3f %d" % (times[len(times) // 2], times[0], len(times)))


if __name__ == "__main__":
    main()
