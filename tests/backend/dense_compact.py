#!/usr/bin/python3
"""dense_compact.py: the Cortex-M compact kernels' dense and direct paths.

usage: dense_compact.py --qgtc PATH [--keep DIR]

A small MLP (Gemm 96 -> 64 of 12,288 MACs, relu, a 1x1 conv over a 1x1
image 64 -> 32, relu, Gemm 32 -> 10), weights quantized by each scheme
(affine 2/4/8 bits, symmetric 4, binary, ternary, pow2 4, codebook 3)
with float activations, which the Cortex-M4 runs on the compact shared
kernels (l_compact.c).  For each scheme:

  1. the object holds the dense kernel (a `.k.<kind>.d` function): the
     layers are dense and the first is large enough to take it; and
  2. `qgtc validate --target armv7em` runs the object on QEMU within 1e-4
     of the interpreter, whose sums are the general kernel's.

And a padded 1x1 conv over a 1x1 image (its tap outside the input) is
not taken for dense: it validates too.

The direct path (convs of stride 1 or 2 along the row with 4 or more input
channels a group, whose rows' interior holds a block: each output
channel's weights decoded once into a row, blocks of 8 outputs summed in
registers, the last overlapping the one before, and the columns outside
the interior one at a time): a model of branches of batch 2, each a conv
12 -> 16, relu, and a grouped 1x1 conv 16 -> 8 (groups 2):
  - 1x1 over planes of 3x3, 3x5, 4x4, 6x6 and a 1-D row of 10 (pointwise:
    one row), and of 2x2, 1x5, 1x3 and a row of 7 (below a block: the
    general loop);
  - 3x3 pads 1 on 6x18, 3x3 unpadded on 5x20, 3x3 dilation 2 pads 2 on
    4x40, 1x3 pads 1 on 3x16, 3x1 strides 2x1 on 7x12, 1-D k 5 pads 2 on
    a row of 40, 3x3 with pads (1, 0, 0, 2) on 5x16, and 3x3 groups 2
    on 6x18 (the direct path, borders included);
  - of stride 2 along the row: 3x3 pads 1 on 8x34, 1x1 on 6x36, 3x3
    strides 1x2 on 7x40, 1-D k 3 pads 1 on a row of 50, 3x3 dilation 2
    pads 2 on 5x44 (the direct path's rows of stride 2);
at each scheme, and in f32 at -Os, it validates on QEMU (armv7em) and
natively (x86_64 -Os) within 1e-4 of the interpreter.

Exit status 0 when every scheme passes.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SCHEMES = [
    ("affine-2", ["-b", "2"], "int"),
    ("affine-4", ["-b", "4"], "int"),
    ("affine-8", ["-b", "8"], "int"),
    ("symmetric-4", ["-b", "4", "--scheme", "symmetric"], "int"),
    ("binary", ["--scheme", "binary"], "bin"),
    ("ternary", ["--scheme", "ternary"], "tern"),
    ("pow2-4", ["-b", "4", "--scheme", "pow2"], "pow2"),
    ("codebook-3", ["-b", "3", "--scheme", "codebook"], "cb"),
]


def model(path):
    rng = np.random.default_rng(5)
    f = lambda *s: (rng.standard_normal(s) * 0.2).astype(np.float32)
    inits = [numpy_helper.from_array(f(64, 96), "w1"), numpy_helper.from_array(f(64), "b1"),
             numpy_helper.from_array(f(32, 64, 1, 1), "w2"), numpy_helper.from_array(f(32), "b2"),
             numpy_helper.from_array(f(10, 32), "w3"), numpy_helper.from_array(f(10), "b3"),
             numpy_helper.from_array(np.array([2, 64, 1, 1], np.int64), "s4"),
             numpy_helper.from_array(np.array([2, 32], np.int64), "s2")]
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h1"], transB=1),
             helper.make_node("Relu", ["h1"], ["r1"]),
             helper.make_node("Reshape", ["r1", "s4"], ["r1c"]),
             helper.make_node("Conv", ["r1c", "w2", "b2"], ["h2"]),
             helper.make_node("Relu", ["h2"], ["r2"]),
             helper.make_node("Reshape", ["r2", "s2"], ["r2f"]),
             helper.make_node("Gemm", ["r2f", "w3", "b3"], ["y"], transB=1)]
    g = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 96])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 10])], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)


# (input plane, kernel, Conv attributes) of each branch's first conv
BRANCHES = [((h, w) if w else (h,), (1, 1) if w else (1,), {})
            for h, w in [(2, 2), (1, 5), (3, 3), (3, 5), (4, 4), (6, 6), (1, 3), (7, 0), (10, 0)]] + [
    ((6, 18), (3, 3), {"pads": [1, 1, 1, 1]}),
    ((5, 20), (3, 3), {}),
    ((4, 40), (3, 3), {"pads": [2, 2, 2, 2], "dilations": [2, 2]}),
    ((3, 16), (1, 3), {"pads": [0, 1, 0, 1]}),
    ((7, 12), (3, 1), {"pads": [1, 0, 1, 0], "strides": [2, 1]}),
    ((40,), (5,), {"pads": [2, 2]}),
    ((5, 16), (3, 3), {"pads": [1, 0, 0, 2]}),
    ((6, 18), (3, 3), {"pads": [1, 1, 1, 1], "group": 2}),
    ((8, 34), (3, 3), {"pads": [1, 1, 1, 1], "strides": [2, 2]}),
    ((6, 36), (1, 1), {"strides": [2, 2]}),
    ((7, 40), (3, 3), {"strides": [1, 2]}),
    ((50,), (3,), {"pads": [1, 1], "strides": [2]}),
    ((5, 44), (3, 3), {"pads": [2, 2, 2, 2], "dilations": [2, 2], "strides": [2, 2]}),
]


def direct_model(path):
    rng = np.random.default_rng(11)
    f = lambda *s: (rng.standard_normal(s) * 0.3).astype(np.float32)
    nodes, inits, ins, outs = [], [], [], []
    for i, (pl, k, attrs) in enumerate(BRANCHES):
        g = attrs.get("group", 1)
        inits += [numpy_helper.from_array(f(16, 12 // g, *k), "wa%d" % i), numpy_helper.from_array(f(16), "ba%d" % i),
                  numpy_helper.from_array(f(8, 8, *(1,) * len(k)), "wb%d" % i),
                  numpy_helper.from_array(f(8), "bb%d" % i)]
        nodes += [helper.make_node("Conv", ["x%d" % i, "wa%d" % i, "ba%d" % i], ["h%d" % i], **attrs),
                  helper.make_node("Relu", ["h%d" % i], ["r%d" % i]),
                  helper.make_node("Conv", ["r%d" % i, "wb%d" % i, "bb%d" % i], ["y%d" % i], group=2)]
        ins.append(helper.make_tensor_value_info("x%d" % i, TensorProto.FLOAT, [2, 12, *pl]))
        outs.append(helper.make_tensor_value_info("y%d" % i, TensorProto.FLOAT, None))
    gr = helper.make_graph(nodes, "direct", ins, outs, inits)
    onnx.save(helper.make_model(gr, opset_imports=[helper.make_opsetid("", 17)]), path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qgtc", required=True)
    ap.add_argument("--keep")
    a = ap.parse_args()
    tmp = a.keep or tempfile.mkdtemp(prefix="dense")
    os.makedirs(tmp, exist_ok=True)
    m = os.path.join(tmp, "mlp.onnx")
    model(m)
    fails = 0
    for name, flags, kind in SCHEMES:
        asm = os.path.join(tmp, name + ".s")
        r = subprocess.run([a.qgtc, m, *flags, "--target", "armv7em", "--emit", "asm", "-o", asm],
                           capture_output=True, text=True)
        text = open(asm).read() if r.returncode == 0 and os.path.exists(asm) else ""
        if not re.search(r"\.k\.%s\.d[.:\w]*:" % re.escape(kind), text):
            print("FAIL %s: no dense %s kernel in the object (%s)" % (name, kind, r.stderr.strip()[:200]))
            fails += 1
            continue
        r = subprocess.run([a.qgtc, "validate", m, *flags, "--target", "armv7em"], capture_output=True, text=True)
        out = r.stdout + r.stderr
        if r.returncode or "validate: ok" not in out:
            print("FAIL %s: validate: %s" % (name, out.strip()[-300:]))
            fails += 1
            continue
        ins = re.search(r"instructions/inference: ([\d,]+)", out)
        print("ok %s: dense %s kernel, validate ok, %s instructions" % (name, kind, ins.group(1) if ins else "?"))
    # a 1x1 conv over a 1x1 image whose pads put its one tap outside the
    # input (stride 3, pads 1): its output is the bias, not a dense layer
    pc = os.path.join(tmp, "padconv.onnx")
    rng = np.random.default_rng(3)
    g = helper.make_graph([helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1], strides=[3, 3])],
                          "padconv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64, 1, 1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 80, 1, 1])],
                          [numpy_helper.from_array((rng.standard_normal((80, 64, 1, 1)) * 0.2).astype(np.float32), "w"),
                           numpy_helper.from_array((rng.standard_normal(80) * 0.1).astype(np.float32), "b")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), pc)
    r = subprocess.run([a.qgtc, "validate", pc, "-b", "4", "--target", "armv7em"], capture_output=True, text=True)
    if r.returncode or "validate: ok" not in r.stdout + r.stderr:
        print("FAIL padded 1x1 conv: %s" % (r.stdout + r.stderr).strip()[-300:])
        fails += 1
    else:
        print("ok padded 1x1 conv over 1x1 (the bias alone)")
    pm = os.path.join(tmp, "direct.onnx")
    direct_model(pm)
    for name, flags, _ in SCHEMES + [("f32", ["-Os"], "f32")]:
        for target in ["armv7em", "x86_64"]:
            extra = ["-Os"] if target == "x86_64" and "-Os" not in flags else []
            r = subprocess.run([a.qgtc, "validate", pm, *flags, *extra, "--target", target],
                               capture_output=True, text=True)
            out = r.stdout + r.stderr
            if r.returncode or "validate: ok" not in out:
                print("FAIL direct %s on %s: %s" % (name, target, out.strip()[-300:]))
                fails += 1
            else:
                print("ok direct %s on %s" % (name, target))
    print("%d scheme(s), %d failure(s)" % (len(SCHEMES), fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
