#!/usr/bin/python3
"""Model-local ONNX functions (ModelProto.functions) against numpy.

Usage: local_functions.py QGTC

Each model calls functions of its own (built with onnx.helper); qgtc run's
outputs are compared with numpy's evaluation of what the ONNX spec says
the call means.  Covered: attributes bound by reference, defaults
(FunctionProto.attribute_proto, IR 9) and attributes neither gives (the
op's own default); a function's own opset_import (ReduceMean with an axes
attribute at opset 13 inside a model of opset 18); overloads (IR 10);
functions calling functions; a call that leaves out an output; two calls
of one function.  The fields newer than Debian's onnx (1.12) are written
as raw protobuf fields.  Bad models must exit 1 with the message named,
writing no output: recursion, a call with too many inputs, an attribute
bound to one of another type, an If inside a function (its branches'
values would need renaming per call: refused).
"""

import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

QGTC = os.path.abspath(sys.argv[1])
F = TensorProto.FLOAT
failures = []


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def raw_field(field, payload):
    """A length-delimited protobuf field."""
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def with_fields(msg, *fields):
    """msg with raw fields appended (kept by protobuf as unknown fields)."""
    out = type(msg)()
    out.ParseFromString(msg.SerializeToString() + b"".join(fields))
    return out


def function(name, inputs, outputs, nodes, attrs=(), opset=17, domain="local",
             defaults=(), overload=None):
    f = helper.make_function(domain, name, inputs, outputs, nodes,
                             [helper.make_opsetid("", opset)], list(attrs))
    extra = [raw_field(11, a.SerializeToString()) for a in defaults]
    if overload is not None:
        extra.append(raw_field(13, overload.encode()))
    return with_fields(f, *extra) if extra else f


def call(fname, inputs, outputs, overload=None, name="", **attrs):
    n = helper.make_node(fname, inputs, outputs, name=name, domain="local", **attrs)
    return with_fields(n, raw_field(8, overload.encode())) if overload else n


def ref_attr(name, ref, typ):
    a = onnx.AttributeProto()
    a.name, a.ref_attr_name, a.type = name, ref, typ
    return a


def model(nodes, functions, ins, outs, opset=17):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(n, F, s) for n, s in ins],
                          [helper.make_tensor_value_info(n, F, None) for n in outs])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset),
                                            helper.make_opsetid("local", 1)],
                          functions=functions)
    m.ir_version = 8
    return m


def run(tmp, name, m, x):
    path = os.path.join(tmp, name + ".onnx")
    with open(path, "wb") as fh:
        fh.write(m.SerializeToString())
    xin = os.path.join(tmp, name + "_x.npy")
    np.save(xin, x)
    out = os.path.join(tmp, name + "_out")
    os.makedirs(out, exist_ok=True)
    p = subprocess.run([QGTC, "run", path, xin, "--output-dir", out],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    outs = sorted(f for f in os.listdir(out) if f.endswith(".npy"))
    return p.returncode, p.stdout.decode(errors="replace"), [np.load(os.path.join(out, f)) for f in outs]


def expect(tmp, name, m, x, refs):
    rc, text, got = run(tmp, name, m, x)
    if rc != 0 or len(got) != len(refs):
        failures.append("%s: exit %d, %d outputs for %d\n%s" % (name, rc, len(got), len(refs), text))
        return
    for k, (a, e) in enumerate(zip(got, refs)):
        if a.shape != e.shape or not np.allclose(a, e, rtol=1e-5, atol=1e-6):
            failures.append("%s: output %d off by %s (shapes %s, %s)" % (
                name, k, np.abs(a - e).max() if a.shape == e.shape else "-", a.shape, e.shape))
    print("ok   %s" % name)


def expect_error(tmp, name, m, x, words):
    rc, text, got = run(tmp, name, m, x)
    if rc != 1 or words not in text or got or "node" not in text:
        failures.append("%s: want exit 1, '%s' and no output; got exit %d, %d outputs:\n%s" % (
            name, words, rc, len(got), text))
        return
    print("ok   %s (error)" % name)


def leaky(x, a):
    return np.where(x >= 0, x, a * x)


def elu(x, a):
    return np.where(x >= 0, x, a * (np.exp(x) - 1))


def main():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        # Attributes: bound, defaulted (IR 9), or left to the op's default.
        act = function("Act", ["x"], ["y"], [
            helper.make_node("LeakyRelu", ["x"], ["t"]),
            helper.make_node("Elu", ["t"], ["y"])], attrs=["beta"],
            defaults=[helper.make_attribute("alpha", 2.0)])
        act.node[0].attribute.append(ref_attr("alpha", "alpha", onnx.AttributeProto.FLOAT))
        act.node[1].attribute.append(ref_attr("alpha", "beta", onnx.AttributeProto.FLOAT))
        m = model([call("Act", ["x"], ["a"]),
                   call("Act", ["x"], ["b"], alpha=0.5, beta=0.3)], [act],
                  [("x", [2, 3, 4])], ["a", "b"])
        expect(tmp, "attributes", m, x, [elu(leaky(x, 2.0), 1.0), elu(leaky(x, 0.5), 0.3)])

        # The function's opset, not the model's: ReduceMean's axes
        # attribute (opset 13) inside a model of opset 18, where axes is
        # an input; the model's own ReduceMean beside it.
        mean13 = function("Mean", ["x"], ["y"], [
            helper.make_node("ReduceMean", ["x"], ["y"], axes=[1], keepdims=1)], opset=13)
        axes = helper.make_tensor("axes", TensorProto.INT64, [1], [2])
        g = model([call("Mean", ["x"], ["a"]),
                   helper.make_node("ReduceMean", ["x", "axes"], ["b"], keepdims=0)], [mean13],
                  [("x", [2, 3, 4])], ["a", "b"], opset=18)
        g.graph.initializer.append(axes)
        expect(tmp, "opsets", g, x, [x.mean(axis=1, keepdims=True), x.mean(axis=2)])

        # Overloads (IR 10): one name, two bodies; a function calling
        # another, with a Constant and an output the call leaves out.
        neg = function("Op", ["x"], ["y"], [helper.make_node("Neg", ["x"], ["y"])], overload="neg")
        sq = function("Op", ["x"], ["y"], [helper.make_node("Mul", ["x", "x"], ["y"])], overload="sq")
        two = function("Two", ["x"], ["y", "z"], [
            helper.make_node("Constant", [], ["c"], value=helper.make_tensor("c", F, [], [3.0])),
            call("Op", ["x"], ["s"], overload="sq"),
            helper.make_node("Add", ["s", "c"], ["y"]),
            call("Op", ["x"], ["z"], overload="neg")])
        m = model([call("Op", ["x"], ["a"], overload="neg", name="n1"),
                   call("Two", ["x"], ["b"], name="t1"),
                   call("Two", ["a"], ["c", "d"], name="t2")],
                  [neg, sq, two], [("x", [2, 3, 4])], ["a", "b", "c", "d"])
        m.ir_version = 10
        expect(tmp, "overloads", m, x, [-x, x * x + 3, x * x + 3, x])

        # Bad models.
        rec = function("Rec", ["x"], ["y"], [call("Rec", ["x"], ["y"])])
        expect_error(tmp, "recursive", model([call("Rec", ["x"], ["a"])], [rec],
                                             [("x", [2, 3, 4])], ["a"]), x, "calls itself")
        expect_error(tmp, "arity", model([call("Act", ["x", "x"], ["a"])], [act],
                                         [("x", [2, 3, 4])], ["a"]), x, "takes 1 input and 1 output")
        bad = model([call("Act", ["x"], ["a"], beta=2)], [act], [("x", [2, 3, 4])], ["a"])
        expect_error(tmp, "attribute_type", bad, x, "of another type")
        br = helper.make_graph([helper.make_node("Neg", ["x"], ["n"])], "b", [],
                               [helper.make_tensor_value_info("n", F, None)])
        iff = function("Guard", ["x"], ["y"], [
            helper.make_node("Constant", [], ["c"], value=helper.make_tensor("c", TensorProto.BOOL, [], [True])),
            helper.make_node("If", ["c"], ["y"], then_branch=br, else_branch=br)])
        expect_error(tmp, "if_in_function", model([call("Guard", ["x"], ["a"])], [iff], [("x", [2, 3, 4])], ["a"]),
                     x, "inside model-local function 'Guard' is not supported")
    for f in failures:
        print("FAIL " + f)
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
