#!/usr/bin/python3
"""Integer Neg, Abs, Sign, CumSum and Mod against numpy.

Usage: int_ops_check.py QGTC

What PyTorch exports for index arithmetic (position ids as a cumsum of a
mask, offsets negated, torch.remainder of int64 ids) runs on plain
integers; ONNX's own cases of these ops are float or double only.  This
writes one model per op and dtype (int8, int32, int64; CumSum along
either axis, exclusive and reversed; Mod with fmod 0 and 1, mixed signs)
on inputs holding each type's extremes, where the wrapping rules show
(-INT64_MIN is INT64_MIN, as numpy gives, and INT64_MIN % -1 is 0), and
compares the interpreter with numpy exactly, then the native code of
every model with the interpreter through `qgtc validate` on this host,
and of the int64 ones on the Cortex-M4 and AArch64 (QEMU): bit-exact.
(`qgtc run` binds integer inputs as constants, as shape operands, so
there the graph folds and no native code runs: validate compiles them as
inputs.)
"""

import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

QGTC = os.path.abspath(sys.argv[1])
TYPES = {np.int8: TensorProto.INT8, np.int32: TensorProto.INT32, np.int64: TensorProto.INT64}


def model(op, dt, shape, consts=(), **attrs):
    t = TYPES[dt]
    ins = ["x"] + [c.name for c in consts]
    g = helper.make_graph([helper.make_node(op, ins, ["y"], **attrs)], op.lower(),
                          [helper.make_tensor_value_info("x", t, shape)],
                          [helper.make_tensor_value_info("y", t, shape)], list(consts))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])


def cases():
    rng = np.random.default_rng(5)
    for dt in TYPES:
        info = np.iinfo(dt)
        x = np.concatenate([np.array([info.min, info.max, 0, -1, 1], dt),
                            rng.integers(info.min, info.max, 19, dtype=dt, endpoint=True)]).reshape(4, 6)
        with np.errstate(over="ignore"):
            yield "neg_%s" % dt.__name__, model("Neg", dt, [4, 6]), x, np.negative(x)
            yield "abs_%s" % dt.__name__, model("Abs", dt, [4, 6]), x, np.abs(x)
        yield "sign_%s" % dt.__name__, model("Sign", dt, [4, 6]), x, np.sign(x)
        if dt == np.int8:
            continue
        for axis in (0, 1):
            for excl in (0, 1):
                for rev in (0, 1):
                    a = numpy_helper.from_array(np.array(axis, np.int64), "axis")
                    v = np.flip(x, axis) if rev else x
                    with np.errstate(over="ignore"):
                        c = np.cumsum(v, axis=axis, dtype=dt)
                    if excl:
                        c = np.concatenate([np.zeros_like(np.take(c, [0], axis)),
                                            np.delete(c, -1, axis)], axis)
                    ref = np.flip(c, axis) if rev else c
                    yield ("cumsum_%s_ax%d%s%s" % (dt.__name__, axis, "_excl" if excl else "", "_rev" if rev else ""),
                           model("CumSum", dt, [4, 6], [a], exclusive=excl, reverse=rev), x, ref)
        d = np.array([7, -7, 3, -3, -1, 1], dt)
        dv = numpy_helper.from_array(d, "d")
        big = x.copy()
        big[0, 4] = info.min  # INT_MIN % -1
        yield "mod_%s" % dt.__name__, model("Mod", dt, [4, 6], [dv]), big, np.mod(big, d)
        yield "fmod_%s" % dt.__name__, model("Mod", dt, [4, 6], [dv], fmod=1), big, np.fmod(big, d)


def run(mp, xp, engine, out):
    p = subprocess.run([QGTC, "run", mp, xp, "--engine", engine, "--output-dir", out],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        return p, np.load(os.path.join(out, "output_0.npy"))
    except OSError:
        return p, None


def main():
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        cross = []
        for name, m, x, ref in cases():
            mp, xp = os.path.join(tmp, name + ".onnx"), os.path.join(tmp, name + ".npy")
            onnx.checker.check_model(m)
            onnx.save(m, mp)
            np.save(xp, x)
            p, got = run(mp, xp, "interp", os.path.join(tmp, name))
            if p.returncode or got is None or got.dtype != ref.dtype or not np.array_equal(got, ref):
                print("FAIL %s: exit %d\n%s\ngot %s\nwant %s" % (name, p.returncode, p.stdout.decode(), got, ref))
                bad += 1
            else:
                print("ok   %s: as numpy" % name)
            cross.append(("x86_64", name, mp, xp))
            if name.endswith("int64") or name == "cumsum_int64_ax1_excl_rev":
                cross += [(t, name, mp, xp) for t in ("armv7em", "aarch64")]
        for target, name, mp, xp in cross:
            p = subprocess.run([QGTC, "validate", mp, xp, "--target", target], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
            text = p.stdout.decode()
            if p.returncode or "max |error| 0, bit-exact on 1/1" not in text:
                print("FAIL validate %s on %s:\n%s" % (name, target, text))
                bad += 1
            else:
                print("ok   %s on %s: bit-exact" % (name, target))
    print("%d failed" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
