"""What the conformance checks written with onnx.helper share: one model run
through `qgtc run` on a given engine."""

import os
import subprocess

import numpy as np
import onnx


def run(qgtc, tmp, name, model, x, engine):
    """Save model and its one input x under tmp, run qgtc on it; returns
    (exit status, its output and diagnostics, the output arrays in order)."""
    path = os.path.join(tmp, name + ".onnx")
    onnx.save(model, path)
    xin = os.path.join(tmp, name + "_x.npy")
    np.save(xin, x)
    out = os.path.join(tmp, name + "_" + engine)
    os.makedirs(out, exist_ok=True)
    p = subprocess.run([qgtc, "run", path, xin, "--engine", engine, "--output-dir", out],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    outs = sorted(f for f in os.listdir(out) if f.endswith(".npy"))
    return p.returncode, p.stdout.decode(errors="replace"), [np.load(os.path.join(out, f)) for f in outs]
