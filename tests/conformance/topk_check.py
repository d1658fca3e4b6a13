#!/usr/bin/python3
"""ONNX TopK on ties, against numpy's stable sort.

Usage: topk_check.py QGTC

ONNX's TopK takes the element of the lower index first among equal
values; its own generated cases have no ties.  This writes TopK models
(largest and smallest, along the last axis and along axis 1, K of 1, 3
and the whole axis: a sort) on inputs made of a few repeated values, and
compares values and indices with numpy's stable argsort (of -x for the
largest) on the interpreter and the native code, and runs one through
`qgtc validate --target armv7em` (the Cortex-M4 under QEMU, against the
interpreter).
"""

import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

QGTC = os.path.abspath(sys.argv[1])


def model(shape, k, axis, largest):
    kt = numpy_helper.from_array(np.array([k], np.int64), "k")
    node = helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=axis, largest=largest)
    g = helper.make_graph([node], "topk", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info("v", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("i", TensorProto.INT64, None)], [kt])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def main():
    rng = np.random.default_rng(11)
    x = rng.choice(np.array([-1.5, 0.0, 0.25, 2.0], np.float32), (3, 4, 9))
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        xp = os.path.join(tmp, "x.npy")
        np.save(xp, x)
        for k, axis, largest in [(1, -1, 1), (3, -1, 1), (3, -1, 0), (9, -1, 1), (9, 2, 0), (2, 1, 1), (4, 1, 0)]:
            name = "k%d_ax%d_%s" % (k, axis, "largest" if largest else "smallest")
            mp = os.path.join(tmp, name + ".onnx")
            onnx.save(model(list(x.shape), k, axis, largest), mp)
            order = np.argsort(-x if largest else x, axis=axis, kind="stable")
            idx = np.take(order, np.arange(k), axis=axis)
            val = np.take_along_axis(x, idx, axis=axis)
            for engine in ("interp", "native"):
                out = os.path.join(tmp, name + engine)
                p = subprocess.run([QGTC, "run", mp, xp, "--engine", engine, "--output-dir", out],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                try:
                    gv = np.load(os.path.join(out, "output_0.npy"))
                    gi = np.load(os.path.join(out, "output_1.npy"))
                except OSError:
                    gv = gi = None
                if p.returncode or gi is None or gi.dtype != np.int64 or not np.array_equal(gi, idx) or \
                        not np.array_equal(gv, val):
                    print("FAIL %s on %s: exit %d\n%s" % (name, engine, p.returncode, p.stdout.decode()))
                    bad += 1
            print("ok   %s: values and indices as numpy's stable sort" % name)
        mp = os.path.join(tmp, "k3_ax-1_largest.onnx")
        p = subprocess.run([QGTC, "validate", mp, xp, "--target", "armv7em"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        text = p.stdout.decode()
        if p.returncode or text.count("max |error| 0, bit-exact on 1/1") != 2:
            print("FAIL validate on the Cortex-M4:\n%s" % text)
            bad += 1
        else:
            print("ok   the Cortex-M4's values and indices: bit-exact")
    print("%d failed" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
