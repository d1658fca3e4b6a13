#!/usr/bin/python3
"""If whose condition is known at compile time, against numpy.

Usage: if_check.py QGTC

qgtc compiles static graphs: an If is taken when its condition folds to a
constant (frontend/onnx.c, take_if).  Each model (built with onnx.helper)
runs on the interpreter and as native code (qgtc run --engine), compared
with numpy's evaluation of what the ONNX spec says it computes:
torch's guard (Shape, Gather, Equal of a value whose shape is fixed: a
Squeeze when a dimension is 1, the Identity else), taken both ways and
with a symbolic batch (the guard reads a static dimension); a
condition computed by arithmetic on shapes (Mul, Greater) of a conv's
output; a constant condition choosing a branch with its own initializer;
an If nested in a branch, reading outer values; an If of two outputs;
an If whose output is a shape that a Reshape after it reads.  Then the
bad ones must exit 1 with the message named and write no output: a
condition from the data (not known at compile time), a branch with
inputs, a branch of the wrong output count, a branch missing.
"""

import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import qgtc_cases

QGTC = os.path.abspath(sys.argv[1])
F, I64, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL
failures = []


def const(name, arr):
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(arr), name + "_t"))


def branch(name, nodes, outs, inits=(), inputs=()):
    return helper.make_graph(nodes, name, list(inputs), [helper.make_tensor_value_info(o, F, None) for o in outs],
                             list(inits))


def model(nodes, xshape, nout=1, inits=()):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, list(xshape))],
                          [helper.make_tensor_value_info("y%d" % i if nout > 1 else "y", F, None) for i in range(nout)],
                          list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    return m


def run(tmp, name, m, x, engine):
    return qgtc_cases.run(QGTC, tmp, name, m, x, engine)


def expect(tmp, name, m, x, refs):
    for engine in ("interp", "native"):
        rc, msg, got = run(tmp, name, m, x, engine)
        ok = rc == 0 and len(got) == len(refs) and all(
            g.shape == r.shape and np.allclose(g, r, rtol=1e-5, atol=1e-6) for g, r in zip(got, refs))
        print("%s (%s): %s" % (name, engine, "ok" if ok else "FAIL"))
        if not ok:
            failures.append(name)
            print(msg, [g.shape for g in got], [r.shape for r in refs])


def refuse(tmp, name, m, x, words):
    rc, msg, got = run(tmp, name, m, x, "interp")
    ok = rc == 1 and all(w in msg for w in words) and not got
    print("%s (refused): %s" % (name, "ok" if ok else "FAIL"))
    if not ok:
        failures.append(name)
        print(msg)


def guard(dim):
    """torch's LRN guard: squeeze axis `dim` when it is 1."""
    return [const("k", np.array(dim, np.int64)), helper.make_node("Shape", ["r"], ["s"]),
            helper.make_node("Gather", ["s", "k"], ["d"], axis=0), const("one", np.array(1, np.int64)),
            helper.make_node("Equal", ["d", "one"], ["c"]),
            helper.make_node("If", ["c"], ["y"],
                             then_branch=branch("then", [const("ax", np.array([dim], np.int64)),
                                                         helper.make_node("Squeeze", ["r", "ax"], ["sq"])], ["sq"]),
                             else_branch=branch("else", [helper.make_node("Identity", ["r"], ["id"])], ["id"]))]


rng = np.random.default_rng(5)
with tempfile.TemporaryDirectory() as tmp:
    # the guard both ways: a dimension of 1 squeezed, one of 3 kept
    x = rng.standard_normal((2, 1, 4, 3)).astype(np.float32)
    expect(tmp, "guard_squeeze", model([helper.make_node("Relu", ["x"], ["r"])] + guard(1), x.shape), x,
           [np.maximum(x, 0).squeeze(1)])
    expect(tmp, "guard_keep", model([helper.make_node("Relu", ["x"], ["r"])] + guard(3), x.shape), x,
           [np.maximum(x, 0)])
    # a symbolic batch: the guard reads a static dimension of its shape
    expect(tmp, "guard_dyn_batch", model([helper.make_node("Relu", ["x"], ["r"])] + guard(1), ["N", 1, 4, 3]), x,
           [np.maximum(x, 0).squeeze(1)])

    # a condition by arithmetic on a conv output's shape: H * W > 20 (6 * 6)
    w = (rng.standard_normal((4, 2, 3, 3)) * 0.3).astype(np.float32)
    x2 = rng.standard_normal((1, 2, 8, 8)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["cv"]), helper.make_node("Shape", ["cv"], ["s"]),
             const("i2", np.array(2, np.int64)), const("i3", np.array(3, np.int64)),
             helper.make_node("Gather", ["s", "i2"], ["h"], axis=0), helper.make_node("Gather", ["s", "i3"], ["wd"], axis=0),
             helper.make_node("Mul", ["h", "wd"], ["hw"]), const("t", np.array(20, np.int64)),
             helper.make_node("Greater", ["hw", "t"], ["c"]),
             helper.make_node("If", ["c"], ["y"],
                              then_branch=branch("big", [helper.make_node("Sigmoid", ["cv"], ["a"])], ["a"]),
                              else_branch=branch("small", [helper.make_node("Tanh", ["cv"], ["b"])], ["b"]))]
    cv = np.zeros((1, 4, 6, 6))
    for m_ in range(4):
        for c_ in range(2):
            for i in range(3):
                for j in range(3):
                    cv[0, m_] += w[m_, c_, i, j] * x2[0, c_, i:i + 6, j:j + 6]
    expect(tmp, "shape_arith", model(nodes, x2.shape, inits=[numpy_helper.from_array(w, "w")]), x2,
           [1 / (1 + np.exp(-cv))])

    # a constant condition (false) choosing a branch with an initializer of its own
    b_init = numpy_helper.from_array(np.array([1.5, -2.0, 0.25], np.float32), "bb")
    nodes = [const("c", np.array(False)),
             helper.make_node("If", ["c"], ["y"],
                              then_branch=branch("t", [helper.make_node("Neg", ["x"], ["n"])], ["n"]),
                              else_branch=branch("e", [helper.make_node("Add", ["x", "bb"], ["s"])], ["s"], [b_init]))]
    x3 = rng.standard_normal((2, 3)).astype(np.float32)
    expect(tmp, "const_init", model(nodes, x3.shape), x3, [x3 + np.array([1.5, -2.0, 0.25], np.float32)])

    # nested: the outer then-branch holds an If on the same guard, reading x and r
    inner = helper.make_node("If", ["c"], ["in_y"],
                             then_branch=branch("it", [helper.make_node("Mul", ["x", "r"], ["p"])], ["p"]),
                             else_branch=branch("ie", [helper.make_node("Sub", ["x", "r"], ["q"])], ["q"]))
    nodes = [helper.make_node("Abs", ["x"], ["r"]), helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Size", ["s"], ["rk"]), const("four", np.array(4, np.int64)),
             helper.make_node("Equal", ["rk", "four"], ["c"]),
             helper.make_node("If", ["c"], ["y"],
                              then_branch=branch("ot", [inner, helper.make_node("Relu", ["in_y"], ["o"])], ["o"]),
                              else_branch=branch("oe", [helper.make_node("Identity", ["x"], ["z"])], ["z"]))]
    expect(tmp, "nested", model(nodes, x.shape), x, [np.maximum(x * np.abs(x), 0)])

    # two outputs
    nodes = [const("c", np.array(True)),
             helper.make_node("If", ["c"], ["y0", "y1"],
                              then_branch=branch("t", [helper.make_node("Exp", ["x"], ["e"]),
                                                       helper.make_node("Neg", ["x"], ["n"])], ["e", "n"]),
                              else_branch=branch("e", [helper.make_node("Identity", ["x"], ["i0"]),
                                                       helper.make_node("Identity", ["x"], ["i1"])], ["i0", "i1"]))]
    expect(tmp, "two_outputs", model(nodes, x3.shape, nout=2), x3, [np.exp(x3), -x3])

    # the If's output is a shape (a constant branch output) that a Reshape reads
    nodes = [helper.make_node("Shape", ["x"], ["s"]), const("z", np.array(0, np.int64)),
             helper.make_node("Gather", ["s", "z"], ["n"], axis=0), const("two", np.array(2, np.int64)),
             helper.make_node("Equal", ["n", "two"], ["c"]),
             helper.make_node("If", ["c"], ["shp"],
                              then_branch=branch("t", [const("a", np.array([4, 6], np.int64))], ["a"]),
                              else_branch=branch("e", [const("b", np.array([-1], np.int64))], ["b"])),
             helper.make_node("Reshape", ["x", "shp"], ["y"])]
    expect(tmp, "shape_output", model(nodes, x.shape), x, [x.reshape(4, 6)])

    # refused: a condition from the data
    nodes = [helper.make_node("ReduceSum", ["x"], ["sm"], keepdims=0), const("zf", np.array(0, np.float32)),
             helper.make_node("Greater", ["sm", "zf"], ["c"]),
             helper.make_node("If", ["c"], ["y"], name="data_if",
                              then_branch=branch("t", [helper.make_node("Neg", ["x"], ["n"])], ["n"]),
                              else_branch=branch("e", [helper.make_node("Identity", ["x"], ["i"])], ["i"]))]
    refuse(tmp, "data_cond", model(nodes, x3.shape), x3, ["data_if", "not known at compile time"])
    # refused: a branch with inputs; one of 2 outputs for 1; a branch missing
    bad_in = branch("t", [helper.make_node("Neg", ["x"], ["n"])], ["n"],
                    inputs=[helper.make_tensor_value_info("u", F, [1])])
    ok_b = branch("e", [helper.make_node("Identity", ["x"], ["i"])], ["i"])
    for name, then_b, words in [("branch_inputs", bad_in, ["then_branch has inputs"]),
                                ("branch_outputs", branch("t", [helper.make_node("Neg", ["x"], ["n"]),
                                                                helper.make_node("Abs", ["x"], ["a"])], ["n", "a"]),
                                 ["then_branch has 2 outputs, the If 1"])]:
        nodes = [const("c", np.array(True)), helper.make_node("If", ["c"], ["y"], then_branch=then_b, else_branch=ok_b)]
        refuse(tmp, name, model(nodes, x3.shape), x3, words)
    nodes = [const("c", np.array(True)), helper.make_node("If", ["c"], ["y"], then_branch=ok_b)]
    refuse(tmp, "branch_missing", model(nodes, x3.shape), x3, ["then_branch and else_branch"])

if failures:
    print("FAILED:", ", ".join(failures))
    sys.exit(1)
print("all ok")
