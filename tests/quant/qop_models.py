#!/usr/bin/python3
"""Write small models in ONNX Runtime's QOperator format (com.microsoft
QLinear* ops and QGemm, as quantize_static writes them with
QuantFormat.QOperator) for ort_qop.sh: one per op, each between
QuantizeLinears of the float input and a DequantizeLinear of its output.
Also writes the input x.npy (seeded).

usage: qop_models.py OUTDIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as T, helper, numpy_helper


class Builder:
    def __init__(self, seed):
        self.r = np.random.default_rng(seed)
        self.inits, self.nodes = [], []

    def c(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def f(self, name, v):
        return self.c(name, np.array(v, np.float32))

    def u8(self, name, v):
        return self.c(name, np.array(v, np.uint8))

    def wq(self, name, *shape):
        w = self.r.normal(0, 30, shape)
        return self.c(name, np.clip(np.round(w), -127, 127).astype(np.int8))

    def bias(self, name, n, lim):
        return self.c(name, self.r.integers(-lim, lim, n).astype(np.int32))

    def node(self, op, ins, outs, ms=True, **kw):
        self.nodes.append(helper.make_node(op, ins, outs, domain="com.microsoft" if ms else "", **kw))

    def save(self, path, xshape, yname, yshape):
        g = helper.make_graph(self.nodes, os.path.basename(path)[:-5],
                              [helper.make_tensor_value_info("x", T.FLOAT, xshape)],
                              [helper.make_tensor_value_info(yname, T.FLOAT, yshape)], self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13),
                                                helper.make_opsetid("com.microsoft", 1)])
        m.ir_version = 7
        onnx.save(m, path)


def common(b):
    b.f("ws", 0.01), b.c("wz", np.array(0, np.int8))
    b.f("s1", 0.05), b.u8("z1", 120), b.f("s2", 0.04), b.u8("z2", 130), b.f("s3", 0.06), b.u8("z3", 125)
    b.f("s4", 1 / 256.0), b.u8("z4", 0)
    # the op's operands: the input quantized twice (no integer op before
    # the one under test, whose rounding could differ by a step)
    b.node("QuantizeLinear", ["x", "s1", "z1"], ["c1"], ms=False)
    b.node("Mul", ["x", b.f("half", -0.5)], ["xh"], ms=False)
    b.node("QuantizeLinear", ["xh", "s2", "z2"], ["c2"], ms=False)


def one(d, name, build, yshape):
    b = Builder(7)
    common(b)
    ys, yz, yq = build(b)
    b.node("DequantizeLinear", [yq, ys, yz], ["y"], ms=False)
    b.save(os.path.join(d, name + ".onnx"), [1, 12, 8, 8], "y", yshape)


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    one(d, "add", lambda b: (b.node("QLinearAdd", ["c1", "s1", "z1", "c2", "s2", "z2", "s3", "z3"], ["a"]),
                             ("s3", "z3", "a"))[1], [1, 12, 8, 8])
    one(d, "mul", lambda b: (b.node("QLinearMul", ["c1", "s1", "z1", "c2", "s2", "z2", "s3", "z3"], ["a"]),
                             ("s3", "z3", "a"))[1], [1, 12, 8, 8])
    one(d, "leaky", lambda b: (b.node("QLinearLeakyRelu", ["c1", "s1", "z1", "s2", "z2"], ["a"], alpha=0.1),
                               ("s2", "z2", "a"))[1], [1, 12, 8, 8])
    one(d, "sigmoid", lambda b: (b.node("QLinearSigmoid", ["c1", "s1", "z1", "s4", "z4"], ["a"]),
                                 ("s4", "z4", "a"))[1], [1, 12, 8, 8])
    one(d, "concat", lambda b: (b.node("QLinearConcat", ["s3", "z3", "c1", "s1", "z1", "c2", "s2", "z2"], ["a"], axis=1),
                                ("s3", "z3", "a"))[1], [1, 24, 8, 8])
    one(d, "avgpool", lambda b: (b.node("QLinearAveragePool", ["c1", "s1", "z1", "s2", "z2"], ["a"],
                                        kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
                                 ("s2", "z2", "a"))[1], [1, 12, 4, 4])
    one(d, "gap", lambda b: (b.node("QLinearGlobalAveragePool", ["c1", "s1", "z1", "s2", "z2"], ["a"]),
                             ("s2", "z2", "a"))[1], [1, 12, 1, 1])

    def gemm(b):
        b.node("Flatten", ["c1"], ["fl"], ms=False)
        b.f("s5", 0.5), b.u8("z5", 128)
        b.node("QGemm", ["fl", "s1", "z1", b.wq("wg", 5, 768), "ws", "wz", b.bias("bg", 5, 3000), "s5", "z5"], ["a"],
               transB=1)
        return "s5", "z5", "a"
    one(d, "qgemm", gemm, [1, 5])

    def gemm_alpha(b):  # alpha scales A B, and C's scale with it
        b.node("Flatten", ["c1"], ["fl"], ms=False)
        b.f("s5", 0.25), b.u8("z5", 128)
        b.node("QGemm", ["fl", "s1", "z1", b.wq("wg", 5, 768), "ws", "wz", b.bias("bg", 5, 3000), "s5", "z5"], ["a"],
               transB=1, alpha=0.5)
        return "s5", "z5", "a"
    one(d, "qgemm_alpha", gemm_alpha, [1, 5])

    def softmax(b):
        b.node("Flatten", ["c1"], ["fl"], ms=False)
        b.node("QLinearSoftmax", ["fl", "s1", "z1", "s4", "z4"], ["a"], axis=-1, opset=13)
        return "s4", "z4", "a"
    one(d, "softmax", softmax, [1, 768])

    # float output QGemm (no y_scale)
    b = Builder(7)
    common(b)
    b.node("Flatten", ["c2"], ["fl"], ms=False)
    b.node("QGemm", ["fl", "s2", "z2", b.wq("wg", 5, 768), "ws", "wz", b.bias("bg", 5, 3000)], ["y"], transB=1)
    b.save(os.path.join(d, "qgemm_float.onnx"), [1, 12, 8, 8], "y", [1, 5])
    np.save(os.path.join(d, "x.npy"), np.random.default_rng(3).normal(0, 2, (1, 12, 8, 8)).astype(np.float32))


if __name__ == "__main__":
    main()
