#!/usr/bin/python3
"""make_ops_model.py OUT.onnx OUT_INPUT.npy: a small f32 graph chaining the
ops the native backend lowers outside the conv/linalg families (cubic and
linear resize with constant tables, conv_transpose with stride and
dilation, reflect/edge pad, clip, max_pool whose Indices output is used),
for cross_check.sh to run on every target."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(3)
x = rng.standard_normal((1, 2, 5, 6)).astype(np.float32)
w = rng.standard_normal((2, 3, 3, 3)).astype(np.float32) * 0.3
inits = [
    numpy_helper.from_array(np.array([1, 1, 1.5, 1.7], np.float32), "sc1"),
    numpy_helper.from_array(np.array([1, 1, 0.6, 0.8], np.float32), "sc2"),
    numpy_helper.from_array(w, "w"),
    numpy_helper.from_array(np.array([0.1, -0.2, 0.3], np.float32), "b"),
    numpy_helper.from_array(np.array([0, 0, 2, 1, 0, 0, 1, 3], np.int64), "pads"),
    numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 2, 1], np.int64), "pads2"),
    numpy_helper.from_array(np.array(-1.0, np.float32), "lo"),
]
nodes = [
    helper.make_node("Resize", ["x", "", "sc1"], ["r1"], mode="cubic"),
    helper.make_node("Resize", ["r1", "", "sc2"], ["r2"], mode="linear",
                     coordinate_transformation_mode="align_corners"),
    helper.make_node("ConvTranspose", ["r2", "w", "b"], ["ct"], strides=[2, 1],
                     dilations=[1, 2], pads=[1, 0, 0, 1]),
    helper.make_node("Pad", ["ct", "pads"], ["p1"], mode="reflect"),
    helper.make_node("Pad", ["p1", "pads2"], ["p2"], mode="edge"),
    helper.make_node("Clip", ["p2", "lo"], ["c"]),
    helper.make_node("MaxPool", ["c"], ["mp", "idx"], kernel_shape=[2, 2], strides=[2, 2]),
    helper.make_node("Cast", ["idx"], ["idxf"], to=TensorProto.FLOAT),
    helper.make_node("Mul", ["mp", "idxf"], ["y"]),
]
g = helper.make_graph(nodes, "ops_mix",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 19)])
onnx.save(m, sys.argv[1])
np.save(sys.argv[2], x)
