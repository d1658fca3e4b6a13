#!/usr/bin/python3
"""make_patch_models.py OUTDIR: float ONNX models whose first layers the
patch pass (--ram-budget) can run in tiles of rows, for patch_check.sh.
Each NAME.onnx comes with NAME_in.npy (one input) and NAME_calib.npy (16
inputs, for -a 8).

mbnet: MobileNet-shaped, as the VWW model starts: conv 3x3 stride 2,
depthwise 3x3 with relu6 (Clip), pointwise, depthwise stride 2, pointwise,
then global pool and a classifier.
pools: odd sizes (33x17) and every row mapping the pass handles: a conv
with asymmetric pads, max pool stride 2, a dilated conv, average pools
counting the pads and not, an even 2x2 kernel at stride 2 without pads,
leaky relu and sigmoid.
invres: MobileNetV2's inverted residual blocks (expand, depthwise,
project, add), whose expanded depthwise convs are the arena's peak: memplan
runs them in place (integer activations)."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Net:
    def __init__(self, name, seed):
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []
        self.k = 0

    def tmp(self, tag):
        self.k += 1
        return "%s%d" % (tag, self.k)

    def const(self, arr, tag):
        n = self.tmp(tag)
        self.inits.append(numpy_helper.from_array(np.asarray(arr, np.float32), n))
        return n

    def node(self, op, ins, **attrs):
        y = self.tmp(op.lower())
        self.nodes.append(helper.make_node(op, ins, [y], name=y, **attrs))
        return y

    def conv(self, x, cin, cout, k, group=1, **attrs):
        kh, kw = (k, k) if isinstance(k, int) else k
        fan = cin // group * kh * kw
        w = self.const(self.rng.standard_normal((cout, cin // group, kh, kw)) / np.sqrt(fan), "w")
        b = self.const(self.rng.standard_normal(cout) * 0.1, "b")
        return self.node("Conv", [x, w, b], group=group, **attrs)

    def save(self, out, x_shape, y_name, y_shape, outdir):
        g = helper.make_graph(self.nodes, self.name,
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                              [helper.make_tensor_value_info(y_name, TensorProto.FLOAT, y_shape)],
                              self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        onnx.checker.check_model(m)
        onnx.save(m, os.path.join(outdir, self.name + ".onnx"))
        rng = np.random.default_rng(100 + self.k)
        np.save(os.path.join(outdir, self.name + "_in.npy"),
                rng.standard_normal(x_shape).astype(np.float32))
        np.save(os.path.join(outdir, self.name + "_calib.npy"),
                rng.standard_normal([16] + x_shape[1:]).astype(np.float32))


def mbnet(outdir):
    n = Net("mbnet", 1)
    y = n.node("Relu", [n.conv("x", 3, 8, 3, strides=[2, 2], pads=[1, 1, 1, 1])])
    lo, hi = n.const(0.0, "lo"), n.const(6.0, "hi")
    y = n.node("Clip", [n.conv(y, 8, 8, 3, group=8, pads=[1, 1, 1, 1]), lo, hi])
    y = n.node("Relu", [n.conv(y, 8, 16, 1)])
    y = n.node("Relu", [n.conv(y, 16, 16, 3, group=16, strides=[2, 2], pads=[1, 1, 1, 1])])
    y = n.node("Relu", [n.conv(y, 16, 24, 1)])
    y = n.node("GlobalAveragePool", [y])
    y = n.node("Flatten", [y])
    w = n.const(n.rng.standard_normal((24, 10)) * 0.2, "fc")
    y = n.node("MatMul", [y, w])
    n.save(y, [1, 3, 40, 40], y, [1, 10], outdir)


def pools(outdir):
    n = Net("pools", 2)
    y = n.node("Relu", [n.conv("x", 2, 6, 3, pads=[1, 0, 2, 1])])
    y = n.node("MaxPool", [y], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    y = n.node("LeakyRelu", [n.conv(y, 6, 8, 3, dilations=[2, 2], pads=[2, 2, 2, 2])], alpha=0.1)
    y = n.node("AveragePool", [y], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1],
               count_include_pad=1)
    y = n.node("Sigmoid", [n.conv(y, 8, 12, 2, strides=[2, 2])])
    y = n.node("AveragePool", [y], kernel_shape=[2, 2], strides=[1, 1], pads=[1, 1, 0, 0])
    y = n.node("Relu", [n.conv(y, 12, 6, 1)])
    y = n.node("GlobalAveragePool", [y])
    y = n.node("Flatten", [y])
    n.save(y, [1, 2, 33, 17], y, [1, 6], outdir)


def invres(outdir):
    n = Net("invres", 3)
    lo, hi = n.const(0.0, "lo"), n.const(6.0, "hi")
    y = n.node("Clip", [n.conv("x", 8, 48, 1), lo, hi])
    y = n.node("Clip", [n.conv(y, 48, 48, 3, group=48, pads=[1, 1, 1, 1]), lo, hi])
    y = n.node("Add", [n.conv(y, 48, 8, 1), "x"])
    y = n.node("Relu", [n.conv(y, 8, 48, 1)])
    y = n.node("Relu", [n.conv(y, 48, 48, 5, group=48, strides=[2, 2], pads=[2, 2, 2, 2])])
    y = n.conv(y, 48, 16, 1)
    y = n.node("GlobalAveragePool", [y])
    y = n.node("Flatten", [y])
    w = n.const(n.rng.standard_normal((16, 10)) * 0.2, "fc")
    y = n.node("MatMul", [y, w])
    n.save(y, [1, 8, 24, 24], y, [1, 10], outdir)


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    mbnet(outdir)
    pools(outdir)
    invres(outdir)


if __name__ == "__main__":
    main()
