#!/usr/bin/python3
"""math_check.py QGTC WORKDIR: the native backend's exp-based activations
(Exp, Sigmoid, Tanh, Elu, Selu, Celu, Mish, tanh-GELU) against numpy's
float64 results rounded to float32, on 65,536 inputs: a sweep of
[-100, 100], one of [-10, 10], normal samples, and the edges (+-0, +-inf,
NaN, exp's overflow and underflow thresholds, tanh's 0.625 and 9 switch
points).  On SIMD hosts these ops are inline code (l_elementwise.c's
inline_math), not libm: each result must be within 4 ulp of the reference
(absolute 4 ulp of 1 for the expm1-like ops near 0, whose formula
exp(x) - 1 cancels), +-inf, NaN and signed zeros must match exactly, and
results below FLT_MIN may flush to 0.  Then ReduceLogSumExp over rows
of large and small values (to +-500, -inf and +inf rows too): the native
reduction must not overflow f32 where log-sum-exp itself is finite
(within 1e-5 relative of numpy's float64 logaddexp.reduce).  And
ReduceL2 where the sum of squares passes FLT_MAX: inf, as ONNX's
function body (Sqrt of an f32 ReduceSumSquare) gives, on the interpreter
and the native code alike.  And log(sigmoid(x)) (nn.LogSigmoid) finite
where sigmoid underflows, on both engines (fold-constants' logsig_fuse)."""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h

qgtc, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
N = 1 << 16
ops = ["Exp", "Sigmoid", "Tanh", "Elu", "Selu", "Celu", "Mish", "Gelu"]
nodes = [h.make_node(o, ["x"], ["y_" + o], **({"approximate": "tanh"} if o == "Gelu" else {}))
         for o in ops]
g = h.make_graph(nodes, "acts", [h.make_tensor_value_info("x", T.FLOAT, [N])],
                 [h.make_tensor_value_info("y_" + o, T.FLOAT, [N]) for o in ops])
m = h.make_model(g, opset_imports=[h.make_opsetid("", 20)])
m.ir_version = 9
onnx.save(m, os.path.join(work, "acts.onnx"))
rng = np.random.default_rng(7)
edges = [0.0, -0.0, np.inf, -np.inf, np.nan, 88.0, 88.5, 88.72, 88.7228, 88.73, 89.0, -87.0, -87.3,
         -87.33, -87.34, -87.4, -88.0, -103.0, -104.0, 1e-30, -1e-30, 1e-45, 0.625, -0.625, 0.6249,
         -0.6249, 0.6251, 9.0, -9.0, 9.1, 20.0, -20.0, 0.5, -0.5, 1.0, -1.0]
x = np.concatenate([np.linspace(-100, 100, 20000), np.linspace(-10, 10, 20000),
                    rng.standard_normal(20000) * 3, edges])
x = np.concatenate([x, rng.uniform(-1, 1, N - len(x))]).astype(np.float32)
np.save(os.path.join(work, "x.npy"), x)
out = os.path.join(work, "native")
subprocess.run([qgtc, "run", os.path.join(work, "acts.onnx"), os.path.join(work, "x.npy"),
                "--engine", "native", "--output-dir", out], check=True)

d = x.astype(np.float64)
with np.errstate(over="ignore", invalid="ignore"):
    ex = np.exp(d)
    sp = np.logaddexp(0, d)  # softplus
    ref = {
        "Exp": ex,
        "Sigmoid": 1 / (1 + np.exp(-d)),
        "Tanh": np.tanh(d),
        "Elu": np.where(d < 0, np.expm1(d), d),
        "Selu": np.where(d > 0, 1.0507009873554805 * d, 1.0507009873554805 * 1.6732632423543772 * np.expm1(d)),
        "Celu": np.where(d > 0, d, np.expm1(d)),
        "Mish": d * np.tanh(sp),
        "Gelu": 0.5 * d * (1 + np.tanh(np.sqrt(2 / np.pi) * (d + 0.044715 * d ** 3))),
    }
    ref["Selu"] = np.where(np.isnan(d), np.nan, ref["Selu"])
tiny = np.finfo(np.float32).tiny
bad = 0
for k, o in enumerate(ops):
    got = np.load(os.path.join(out, "output_%d.npy" % k)).astype(np.float64)
    with np.errstate(over="ignore"):
        r = ref[o].astype(np.float32).astype(np.float64)
    ulp = np.spacing(np.abs(r).astype(np.float32)).astype(np.float64)
    if o in ("Elu", "Selu", "Celu"):
        ulp = np.maximum(ulp, np.spacing(np.float32(1)) * np.maximum(np.abs(r), 1))
    if o in ("Mish", "Gelu"):  # x times a function near 0 or 1: |x| ulp(1)
        ulp = np.maximum(ulp, np.spacing(np.float32(1)) * np.maximum(np.abs(d), 1))
    special = np.isnan(r) | np.isinf(r) | (r == 0)
    with np.errstate(invalid="ignore"):
        exact = (got == r) & (np.signbit(got) == np.signbit(r))
        near = np.abs(got - r) <= 4 * ulp
    if o in ("Mish", "Gelu"):  # their zeros come from x * (1 - 1): no sign to keep
        exact |= (r == 0) & near
    ok = np.where(np.isnan(r), np.isnan(got), np.where(np.isinf(r) | (r == 0), exact, near))
    flushed = (np.abs(r) < tiny) & (np.abs(got) <= tiny)  # may flush below FLT_MIN
    ok |= flushed
    special |= flushed
    if not ok.all():
        i = np.flatnonzero(~ok)
        bad += len(i)
        print("%s: %d of %d outside 4 ulp, e.g. x=%r: got %r, want %r" % (o, len(i), N, x[i[0]], got[i[0]], r[i[0]]))
    else:
        with np.errstate(invalid="ignore"):
            err = np.where(special, 0, np.abs(got - r) / ulp)
        print("%s: ok, max %.2f ulp" % (o, err.max()))


def reduce_rows(op, x, engine):
    """op over axis 1 of x (one row each), run by qgtc on engine."""
    g = h.make_graph([h.make_node(op, ["x"], ["y"], axes=[1], keepdims=0)], op,
                     [h.make_tensor_value_info("x", T.FLOAT, list(x.shape))],
                     [h.make_tensor_value_info("y", T.FLOAT, [x.shape[0]])])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
    m.ir_version = 8
    path, xp, out = (os.path.join(work, op + s) for s in (".onnx", "_x.npy", "_" + engine))
    onnx.save(m, path)
    np.save(xp, x)
    subprocess.run([qgtc, "run", path, xp, "--engine", engine, "--output-dir", out], check=True)
    return np.load(os.path.join(out, "output_0.npy")).astype(np.float64)


def close(got, want, rel):
    """finite values within rel, the others exactly"""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(want), np.abs(got - want) <= rel * np.maximum(1, np.abs(want)), got == want)


# log-sum-exp: rows whose exp overflows f32 (to 500), underflows (-500),
# mixes both, and rows of -inf and +inf
rows = np.array([[100.0, 99.0, 98.5, -3.0], [500.0, 480.0, 0.0, -500.0], [-500.0, -510.0, -499.0, -600.0],
                 [1.0, 2.0, 3.0, 4.0], [-np.inf, -np.inf, -np.inf, -np.inf], [np.inf, 1.0, 2.0, 3.0],
                 [-np.inf, 5.0, -np.inf, 88.9]], np.float32)
got = reduce_rows("ReduceLogSumExp", rows, "native")
want = np.logaddexp.reduce(rows.astype(np.float64), axis=1)
if not close(got, want, 1e-5).all():
    bad += 1
    print("ReduceLogSumExp: got %s, want %s" % (got.tolist(), want.tolist()))
else:
    print("ReduceLogSumExp: ok on %d rows" % len(rows))
# L2: the sum of squares an f32, inf past FLT_MAX
big = np.array([[1e20, 1e20, 0.0], [3e18, 4e18, 0.0], [1.0, 2.0, 2.0]], np.float32)
with np.errstate(over="ignore"):
    want = np.sqrt(np.sum(big.astype(np.float64) ** 2, axis=1).astype(np.float32)).astype(np.float64)
for engine in ("interp", "native"):
    got = reduce_rows("ReduceL2", big, engine)
    if not close(got, want, 1e-6).all():
        bad += 1
        print("ReduceL2 (%s): got %s, want %s" % (engine, got.tolist(), want.tolist()))
    else:
        print("ReduceL2 (%s): ok past FLT_MAX" % engine)
# log(sigmoid(x)) as PyTorch exports nn.LogSigmoid: x where sigmoid
# underflows (it was -inf from -88 on SIMD hosts), within 1e-6 of numpy's
# -logaddexp(0, -x) (absolute below 1, relative above) on both engines
g = h.make_graph([h.make_node("Sigmoid", ["x"], ["s"]), h.make_node("Log", ["s"], ["y"])], "logsig",
                 [h.make_tensor_value_info("x", T.FLOAT, [N])], [h.make_tensor_value_info("y", T.FLOAT, [N])])
m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
m.ir_version = 8
onnx.save(m, os.path.join(work, "logsig.onnx"))
fin = np.where(np.isfinite(x), x, 0).astype(np.float32)
np.save(os.path.join(work, "xf.npy"), fin)
want = -np.logaddexp(0, -fin.astype(np.float64))
for engine in ("interp", "native"):
    out = os.path.join(work, "logsig_" + engine)
    subprocess.run([qgtc, "run", os.path.join(work, "logsig.onnx"), os.path.join(work, "xf.npy"), "--engine", engine,
                    "--output-dir", out], check=True)
    got = np.load(os.path.join(out, "output_0.npy")).astype(np.float64)
    if not close(got, want, 1e-6).all():
        i = np.flatnonzero(~close(got, want, 1e-6))
        bad += 1
        print("LogSigmoid (%s): %d off, e.g. x=%r: got %r, want %r" % (engine, len(i), fin[i[0]], got[i[0]], want[i[0]]))
    else:
        print("LogSigmoid (%s): ok to x = %g" % (engine, fin.min()))
sys.exit(1 if bad else 0)
