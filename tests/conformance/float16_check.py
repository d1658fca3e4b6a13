#!/usr/bin/python3
"""float16, bfloat16 and double models, taken as float32, against numpy.

Usage: float16_check.py QGTC

qgtc computes in float32: a model converted to half precision (float16
inputs, outputs and weights), one that keeps float32 inputs and casts to
float16 inside, bfloat16 weights, and double inputs and constants all
compile, their values widened exactly (float16, bfloat16) or rounded once
(double).  Each runs on the interpreter and as native code (qgtc run
--engine, inputs as .npy of float16 or float64) against numpy's float32
evaluation of the same widened values (within 1e-5 of the largest
magnitude), and prints the one warning a model gets, naming the first
such initializer, graph input or Cast (a Cast to float16 when the weights
are float32).  A float16 tensor
whose int32_data holds a value that is no 16-bit pattern is refused.
"""

import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import qgtc_cases

QGTC = os.path.abspath(sys.argv[1])
failures = []


def tensor(name, arr, dt, field="raw"):
    """A TensorProto of float16 (raw or int32_data bit patterns) or
    bfloat16 (int32_data) holding arr's values rounded to dt."""
    t = TensorProto()
    t.name, t.data_type = name, dt
    t.dims.extend(arr.shape)
    if dt == TensorProto.FLOAT16:
        bits = arr.astype(np.float16).view(np.uint16)
    else:  # bfloat16: a float32's high half (truncated)
        bits = (arr.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    if field == "raw":
        t.raw_data = bits.tobytes()
    else:
        t.int32_data.extend(int(b) for b in bits.ravel())
    return t


def widened(arr, dt):
    if dt == TensorProto.FLOAT16:
        return arr.astype(np.float16).astype(np.float32)
    return ((arr.astype(np.float32).view(np.uint32) >> 16) << 16).view(np.float32)


def run(tmp, name, m, x, engine):
    return qgtc_cases.run(QGTC, tmp, name, m, x, engine)


def expect(tmp, name, m, x, ref, warn):
    for engine in ("interp", "native"):
        rc, msg, got = run(tmp, name, m, x, engine)
        ok = rc == 0 and len(got) == 1 and got[0].dtype == np.float32 and got[0].shape == ref.shape and \
            np.abs(got[0] - ref).max() <= 1e-5 * np.abs(ref).max() and msg.count("warning:") == 1 and warn in msg
        print("%s (%s): %s" % (name, engine, "ok" if ok else "FAIL"))
        if not ok:
            failures.append(name)
            print(msg, [(g.shape, g.dtype) for g in got], ref.shape)


def model(nodes, xin, inits, odt):
    g = helper.make_graph(nodes, "g", [xin], [helper.make_tensor_value_info("y", odt, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    return m


rng = np.random.default_rng(16)
H16, BF16 = TensorProto.FLOAT16, TensorProto.BFLOAT16
with tempfile.TemporaryDirectory() as tmp:
    # converted to half precision: float16 input, weights (raw), bias
    # (int32_data) and output
    w = rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3
    b = rng.standard_normal(8).astype(np.float32)
    x = rng.standard_normal((1, 3, 8, 8)).astype(np.float16)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]), helper.make_node("GlobalAveragePool", ["r"], ["y"])]
    m = model(nodes, helper.make_tensor_value_info("x", H16, list(x.shape)),
              [tensor("w", w, H16), tensor("b", b, H16, "int32")], H16)
    wf, bf, xf = widened(w, H16), widened(b, H16), x.astype(np.float32)
    xp = np.pad(xf, ((0, 0), (0, 0), (1, 1), (1, 1)))
    conv = np.zeros((1, 8, 8, 8), np.float64)
    for i in range(3):
        for j in range(3):
            conv += np.einsum("nchw,mc->nmhw", xp[:, :, i:i + 8, j:j + 8], wf[:, :, i, j])
    ref = np.maximum(conv + bf[None, :, None, None], 0).mean(axis=(2, 3), keepdims=True).astype(np.float32)
    expect(tmp, "half_model", m, x, ref, "initializer 'w' is float16")

    # float32 at the edges, float16 inside (Cast), a bfloat16 weight
    wm = rng.standard_normal((6, 5)).astype(np.float32)
    x2 = rng.standard_normal((2, 6)).astype(np.float32)
    nodes = [helper.make_node("Cast", ["x"], ["xh"], to=H16, name="to_half"),
             helper.make_node("MatMul", ["xh", "wm"], ["mm"]),
             helper.make_node("Cast", ["mm"], ["y"], to=TensorProto.FLOAT)]
    m = model(nodes, helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x2.shape)),
              [tensor("wm", wm, BF16, "int32")], TensorProto.FLOAT)
    expect(tmp, "cast_inside", m, x2, x2 @ widened(wm, BF16), "initializer 'wm' is bfloat16")

    # float32 weights, a Cast to float16 and back: the warning names the Cast
    nodes = [helper.make_node("Cast", ["x"], ["xh"], to=H16, name="to_half"),
             helper.make_node("MatMul", ["xh", "wm"], ["mm"]),
             helper.make_node("Cast", ["mm"], ["y"], to=TensorProto.FLOAT)]
    m = model(nodes, helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x2.shape)),
              [numpy_helper.from_array(wm, "wm")], TensorProto.FLOAT)
    expect(tmp, "cast_only", m, x2, x2 @ wm, "Cast 'to_half' is float16")

    # double input, double constant and output
    x3 = rng.standard_normal((3, 4))
    k = np.array([[0.5, -1.25, 2.0, 3.0]])
    nodes = [helper.make_node("Mul", ["x", "k"], ["y"])]
    m = model(nodes, helper.make_tensor_value_info("x", TensorProto.DOUBLE, list(x3.shape)),
              [numpy_helper.from_array(k, "k")], TensorProto.DOUBLE)
    expect(tmp, "double_io", m, x3, (x3.astype(np.float32) * k.astype(np.float32)).astype(np.float32),
           "graph input 'x' is double")

    # refused: a float16 bit pattern out of range in int32_data
    bad = tensor("w", w, H16, "int32")
    bad.int32_data[5] = 70000
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])]
    m = model(nodes, helper.make_tensor_value_info("x", H16, list(x.shape)), [bad], H16)
    rc, msg, got = run(tmp, "bad_bits", m, x, "interp")
    ok = rc == 1 and "int32_data[5] is 70000, not a 16-bit pattern" in msg and not got
    print("bad_bits (refused): %s" % ("ok" if ok else "FAIL"))
    if not ok:
        failures.append("bad_bits")
        print(msg)

if failures:
    print("FAILED:", ", ".join(failures))
    sys.exit(1)
print("all ok")
