#!/usr/bin/python3
"""qdq_check.py: the integer path against an independent numpy reference.

usage: qdq_check.py --qgtc PATH [--engine interp|native] [--keep DIR]

Builds QDQ ONNX models the way ONNX Runtime's and PyTorch's quantizers
write them (QuantizeLinear -> DequantizeLinear around Conv/MatMul, the
parameters passed through Identity as torch's FX export does, int8
weights per tensor or per output channel, an int32 bias at scale
x_scale * w_scale), runs each through `qgtc run`, and checks:

  1. the graph qgtc ran holds an integer conv/matmul (fold-qdq fired), and
  2. the output equals, bit for bit, this file's own numpy/Python-integer
     implementation of the integer arithmetic: int32 accumulation of
     (x - zx)(w - zw), the fixed-point multiplier of TFLite's
     QuantizeMultiplier, gemmlowp's SaturatingRoundingDoublingHighMul and
     RoundingDivideByPOT, the output zero point and saturation; and
  3. it is within one output step of the float computation of the same
     QDQ graph (dequantize, conv/matmul in float64, quantize), which is what
     ONNX's reference semantics say; the fixed-point rounding may differ
     from float rounding by at most one step.

  4. with --io int, the integers qgtc returns for the integers of the
     input are the reference's.

Then QDQ AveragePool and GlobalAveragePool on one grid, on inputs whose
window means tie: exactly ONNX's dequantize, float mean, quantize half to
even, as numpy computes it; and an int16 conv whose int32 sums could
overflow: left in float, within one step of ONNX's semantics.

Some cases hold int4 weights (ONNX's packed INT4 initializers, as
weight-only quantizers write them) or int4 activations (QuantizeLinear to
an INT4 zero point), which the reference quantizes to [-8, 7].

Nothing here is taken from qgtc's output: the reference is computed from
the model's parameters alone.  Exit status 0 when every case matches.
"""

import argparse
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

NP_OF = {TensorProto.INT8: np.int8, TensorProto.UINT8: np.uint8,
         TensorProto.INT16: np.int16, TensorProto.UINT16: np.uint16}


# ------------------------------------------------ reference arithmetic

def quantize_multiplier(m):
    """TFLite's QuantizeMultiplier: m = mult * 2^(shift - 31)."""
    q, e = math.frexp(m)
    qf = int(round(q * (1 << 31)))
    if qf == 1 << 31:
        qf //= 2
        e += 1
    if e < -31:
        return 0, 0
    assert e <= 30
    return qf, e


def srdhm(a, b):
    if a == b == -(1 << 31):
        return (1 << 31) - 1
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    # C integer division truncates toward zero
    v = ab + nudge
    return int(v / (1 << 31)) if abs(v) < (1 << 52) else (abs(v) >> 31) * (1 if v >= 0 else -1)


def rdbpot(x, e):
    if e <= 0:
        return x
    mask = (1 << e) - 1
    rem = x & mask
    thr = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> e) + (1 if rem > thr else 0)


def wrap32(v):
    return ((v + (1 << 31)) % (1 << 32)) - (1 << 31)


def requant(acc, mult, shift):
    left, right = max(shift, 0), max(-shift, 0)
    return rdbpot(srdhm(wrap32(acc << left), mult), right)


def quantize(x, s, z, dt, bits=None):
    info = np.iinfo(dt)
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if bits else (info.min, info.max)
    q = np.rint((x.astype(np.float32) / np.float32(s)).astype(np.float64)) + z
    return np.clip(q, lo, hi).astype(dt)


def conv_int(xq, wq, b, zx, zw, strides, pads, dil, group):
    """int64 direct convolution of (x - zx)(w - zw[m]) + b, NCHW."""
    n, c, h, w_ = xq.shape
    m, cg, kh, kw = wq.shape
    x = xq.astype(np.int64) - zx
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    wz = wq.astype(np.int64) - np.asarray(zw, np.int64).reshape(-1, 1, 1, 1)
    oh = (h + pads[0] + pads[2] - dil[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (w_ + pads[1] + pads[3] - dil[1] * (kw - 1) - 1) // strides[1] + 1
    y = np.zeros((n, m, oh, ow), np.int64)
    mg = m // group
    for oc in range(m):
        g = oc // mg
        xs = x[:, g * cg:(g + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dil[0]: i * dil[0] + strides[0] * (oh - 1) + 1: strides[0],
                           j * dil[1]: j * dil[1] + strides[1] * (ow - 1) + 1: strides[1]]
                y[:, oc] += np.einsum("nchw,c->nhw", patch, wz[oc, :, i, j])
        if b is not None:
            y[:, oc] += int(b[oc])
    return y


def requant_tensor(acc, ch_axis, xs, ws, ys, yz, dt):
    info = np.iinfo(dt)
    out = np.empty(acc.shape, dt)
    ws = np.atleast_1d(ws)
    it = np.nditer(acc, flags=["multi_index"])
    cache = {}
    for a in it:
        c = it.multi_index[ch_axis] if ws.size > 1 else 0
        if c not in cache:
            cache[c] = quantize_multiplier(float(np.float64(xs) * np.float64(ws[c]) / np.float64(ys)))
        mult, shift = cache[c]
        v = requant(wrap32(int(a)), mult, shift) + yz
        out[it.multi_index] = min(max(v, info.min), info.max)
    return out


# ------------------------------------------------------------- models

INT4 = 22  # TensorProto.INT4, newer than some onnx packages


def int4_tensor(a, name):
    """An INT4 initializer: two elements to a byte, the first in the low
    nibble (ONNX's packing), in raw_data."""
    a = np.asarray(a)
    assert a.min(initial=0) >= -8 and a.max(initial=0) <= 7
    flat = (a.ravel().astype(np.int16) & 15).astype(np.uint8)
    if flat.size % 2:
        flat = np.append(flat, np.uint8(0))
    t = TensorProto()
    t.name = name
    t.data_type = INT4
    t.dims.extend(a.shape)
    t.raw_data = (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8).tobytes()
    return t


def scalar(name, v, dt=TensorProto.FLOAT):
    """A rank-0 initializer; dt None: int32."""
    npdt = np.float32 if dt == TensorProto.FLOAT else np.int32 if dt is None else NP_OF[dt]
    return numpy_helper.from_array(np.array(v, dtype=npdt), name)


def build(case, rng):
    """(model, x, reference output, op) for one case description."""
    act = case["act"]
    adt = NP_OF[act]
    info = np.iinfo(adt)
    symmetric = act in (TensorProto.INT16,)
    xbits, wbits = case.get("xbits"), case.get("wbits")  # 4: int4
    xs = np.float32(case["xs"])
    xz = 0 if symmetric else int(rng.integers(info.min // 2 if info.min < 0 else 10, 40))
    if xbits:
        xz = int(rng.integers(-4, 4))
    ys = np.float32(case["ys"])
    yz = 0 if symmetric else int(rng.integers(info.min // 2 if info.min < 0 else 10, 40))
    inits = [int4_tensor(np.array(xz), "xz") if xbits else scalar("xz", xz, act),
             scalar("xs", xs), scalar("ys", ys), scalar("yz", yz, act)]
    nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"])]
    x = rng.normal(0, 1.0, case["xshape"]).astype(np.float32)
    prepad = case.get("prepad")
    if prepad:
        # a float Pad before the first quantize (as PyTorch exports often
        # have): the quantize rises above it and the pad pads the zero point
        inits.append(numpy_helper.from_array(np.array([0, 0] + prepad[:2] + [0, 0] + prepad[2:], np.int64), "pads"))
        nodes.insert(0, helper.make_node("Pad", ["x", "pads"], ["xp"]))
        nodes[1].input[0] = "xp"
    if case["op"] == "conv":
        m, cg, kh, kw = case["wshape"]
        wq = rng.integers(-8 if wbits else -127, 8 if wbits else 128, case["wshape"]).astype(np.int8)
        per_ch = case["per_channel"]
        ws = (rng.uniform(0.002, 0.02, m) if per_ch else np.array(rng.uniform(0.002, 0.02))).astype(np.float32)
        bias = rng.integers(-3000, 3000, m).astype(np.int32)
        bs = (np.float32(xs) * ws).astype(np.float32)
        wz = np.zeros(ws.shape, np.int8)
        inits += [int4_tensor(wq, "wq") if wbits else numpy_helper.from_array(wq, "wq"),
                  numpy_helper.from_array(ws, "ws"),
                  int4_tensor(wz, "wz") if wbits else numpy_helper.from_array(wz, "wz"),
                  numpy_helper.from_array(bias, "bq"), numpy_helper.from_array(bs, "bs")]
        nodes += [helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"], axis=0),
                  helper.make_node("DequantizeLinear", ["bq", "bs"], ["bd"], axis=0),
                  helper.make_node("Conv", ["xd", "wd", "bd"], ["y"], strides=case["strides"],
                                   pads=case["pads"], dilations=case["dil"], group=case["group"])]
        xq = quantize(x, xs, xz, adt, xbits)
        xin = xq
        if prepad:
            xin = np.pad(xq, ((0, 0), (0, 0), (prepad[0], prepad[2]), (prepad[1], prepad[3])),
                         constant_values=xz)
        acc = conv_int(xin, wq, bias, xz, np.zeros(ws.size, np.int64), case["strides"], case["pads"],
                       case["dil"], case["group"])
        ch_axis = 1
        real = acc.astype(np.float64) * (np.float64(xs) * np.atleast_1d(ws).astype(np.float64)).reshape(1, -1, 1, 1)
    elif case["op"] == "gemm":
        # a Linear layer as ORT's and PyTorch's quantizers write it: Gemm
        # with trans_b (W [N, K]; [K, N] without), int8 weights per output
        # channel or per tensor, an int32 bias at x_scale * w_scale
        n, k = case["wshape"]
        tb = case["trans_b"]
        wq = rng.integers(-127, 128, (n, k) if tb else (k, n)).astype(np.int8)
        per_ch = case["per_channel"]
        ws = (rng.uniform(0.002, 0.02, n) if per_ch else np.array(rng.uniform(0.002, 0.02))).astype(np.float32)
        bias = rng.integers(-3000, 3000, n).astype(np.int32)
        bs = (np.float32(xs) * ws).astype(np.float32)
        wz = np.zeros(ws.shape, np.int8)
        inits += [numpy_helper.from_array(wq, "wq"), numpy_helper.from_array(ws, "ws"),
                  numpy_helper.from_array(wz, "wz"), numpy_helper.from_array(bias, "bq"),
                  numpy_helper.from_array(bs, "bs")]
        nodes += [helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"], axis=0 if tb else 1),
                  helper.make_node("DequantizeLinear", ["bq", "bs"], ["bd"], axis=0),
                  helper.make_node("Gemm", ["xd", "wd", "bd"], ["y"], transB=tb)]
        xq = quantize(x, xs, xz, adt, xbits)
        wkn = (wq.T if tb else wq).astype(np.int64)
        acc = np.matmul(xq.astype(np.int64) - xz, wkn) + bias
        ch_axis = 1
        real = acc.astype(np.float64) * np.float64(xs) * np.atleast_1d(ws).astype(np.float64)
    else:
        k, n = case["wshape"]
        wq = rng.integers(-8 if wbits else -127, 8 if wbits else 128, (k, n)).astype(np.int8)
        wzv = int(rng.integers(-5, 6))
        ws = np.float32(rng.uniform(0.002, 0.02))
        inits += [int4_tensor(wq, "wq") if wbits else numpy_helper.from_array(wq, "wq"), scalar("ws", ws),
                  int4_tensor(np.array(wzv, np.int8), "wz") if wbits else scalar("wz", wzv, TensorProto.INT8)]
        nodes += [helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"]),
                  helper.make_node("MatMul", ["xd", "wd"], ["y"])]
        xq = quantize(x, xs, xz, adt, xbits)
        acc = np.matmul(xq.astype(np.int64) - xz, wq.astype(np.int64) - wzv)
        ch_axis = acc.ndim - 1
        real = acc.astype(np.float64) * np.float64(xs) * np.float64(ws)
    nodes += [helper.make_node("QuantizeLinear", ["y", "ys", "yz"], ["yq"]),
              helper.make_node("DequantizeLinear", ["yq", "ys", "yz"], ["out"])]
    if case.get("identity"):
        # torch's FX export: every scale and zero point through an Identity
        ids = []
        for n in nodes:
            if n.op_type in ("QuantizeLinear", "DequantizeLinear"):
                for k in range(1, len(n.input)):
                    src = n.input[k]
                    n.input[k] = "%s.id%d" % (src, len(ids))
                    ids.append(helper.make_node("Identity", [src], [n.input[k]]))
        nodes = ids + nodes
    yq = requant_tensor(acc, ch_axis, xs, ws, ys, yz, adt)
    ref = ((yq.astype(np.float32) - np.float32(yz)) * ys).astype(np.float32)
    fq = np.clip(np.rint(real / np.float64(ys)) + yz, info.min, info.max)
    fref = ((fq - yz) * np.float64(ys)).astype(np.float32)
    graph = helper.make_graph(nodes, case["name"],
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, list(ref.shape))], inits)
    # int16 and int4 QDQ need opset 21; the rest is written at opset 13,
    # which the installed onnx package can still check.
    opset = 21 if act == TensorProto.INT16 or xbits or wbits else 13
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 10 if opset == 21 else 7
    return model, x, ref, fref, ys, xq, yq


def cases():
    U8, I8, I16 = TensorProto.UINT8, TensorProto.INT8, TensorProto.INT16
    c = []

    def conv(name, act, xshape, wshape, per_channel=True, strides=(1, 1), pads=(0, 0, 0, 0),
             dil=(1, 1), group=1, xs=0.05, ys=0.1):
        c.append(dict(name=name, op="conv", act=act, xshape=xshape, wshape=wshape,
                      per_channel=per_channel, strides=list(strides), pads=list(pads),
                      dil=list(dil), group=group, xs=xs, ys=ys))

    conv("conv_u8_pc", U8, (1, 3, 9, 9), (8, 3, 3, 3), pads=(1, 1, 1, 1))
    conv("conv_i8_pt", I8, (2, 4, 7, 8), (6, 4, 3, 3), per_channel=False, strides=(2, 2))
    conv("conv_i8_dw", I8, (1, 8, 10, 10), (8, 1, 3, 3), group=8, pads=(1, 1, 1, 1), strides=(2, 2))
    conv("conv_u8_grouped_dil", U8, (1, 6, 11, 11), (4, 3, 3, 3), group=2, dil=(2, 2), pads=(2, 1, 0, 2))
    conv("conv_i8_pw_big_mult", I8, (1, 16, 5, 5), (12, 16, 1, 1), xs=0.5, ys=0.004)
    conv("conv_i16_pc", I16, (1, 3, 6, 6), (5, 3, 3, 3), pads=(1, 1, 1, 1), xs=0.0005, ys=0.002)
    conv("conv_i8_prepad", I8, (1, 2, 6, 7), (4, 2, 3, 3), xs=0.04, ys=0.08)
    c[-1]["prepad"] = [1, 2, 0, 1]
    conv("conv_u8_identity", U8, (1, 3, 7, 7), (5, 3, 3, 3), pads=(1, 1, 1, 1))
    c[-1]["identity"] = True
    c.append(dict(name="matmul_u8", op="matmul", act=U8, xshape=(5, 24), wshape=(24, 7), xs=0.05, ys=0.2))
    c.append(dict(name="matmul_i8_3d", op="matmul", act=I8, xshape=(2, 3, 16), wshape=(16, 10), xs=0.03, ys=0.05))
    # int4 weights, and int4 activations in (the int4 quantize itself stays
    # the boundary: only its integers reach the integer op)
    conv("conv_i8_w4_pc", I8, (1, 3, 8, 8), (6, 3, 3, 3), pads=(1, 1, 1, 1), xs=0.05, ys=0.02)
    c[-1]["wbits"] = 4
    conv("conv_x4_w4_pt", I8, (1, 4, 6, 6), (5, 4, 3, 3), per_channel=False, xs=0.3, ys=0.01)
    c[-1].update(xbits=4, wbits=4)
    c.append(dict(name="matmul_u8_w4", op="matmul", act=U8, xshape=(3, 20), wshape=(20, 6), xs=0.05,
                  ys=0.05, wbits=4))
    c.append(dict(name="gemm_u8_tb_pc", op="gemm", act=U8, xshape=(4, 24), wshape=(10, 24), trans_b=1,
                  per_channel=True, xs=0.05, ys=0.2))
    c.append(dict(name="gemm_i8_pt", op="gemm", act=I8, xshape=(3, 16), wshape=(6, 16), trans_b=0,
                  per_channel=False, xs=0.03, ys=0.08))
    return c


def bad_models():
    """(name, model, text the diagnostic must hold) for inconsistent
    quantization parameters: each must fail with the node named."""
    def mk(scale, wscale_len=4, zp_dt=TensorProto.UINT8):
        inits = [scalar("s", scale), scalar("z", 0, zp_dt),
                 numpy_helper.from_array(np.ones((4, 3, 1, 1), np.int8), "w"),
                 numpy_helper.from_array(np.full(wscale_len, 0.1, np.float32), "ws")]
        nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], name="Q0"),
                 helper.make_node("DequantizeLinear", ["q", "s", "z"], ["d"], name="DQ0"),
                 helper.make_node("DequantizeLinear", ["w", "ws"], ["wd"], axis=0, name="DQw"),
                 helper.make_node("Conv", ["d", "wd"], ["y"], name="conv0")]
        g = helper.make_graph(nodes, "bad", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 4, 4])], inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 7
        return m
    return [("zero_scale", mk(0.0), "node 0 'Q0' (QuantizeLinear): error: scale[0] is 0"),
            ("negative_scale", mk(-0.5), "node 0 'Q0' (QuantizeLinear): error: scale[0] is -0.5"),
            ("axis_length", mk(0.1, wscale_len=3),
             "node 2 'DQw' (DequantizeLinear): error: per-axis scale has 3 elements but axis 0"),
            ("i32_zero_point", mk(0.1, zp_dt=None), "zero point dtype i32 is not supported")]


def check_float_warning(qgtc, tmp):
    """An op the integer path cannot run, between a dequantize and a
    quantize, is computed in float and said so: never silently."""
    inits = [scalar("s", 0.1), scalar("z", 0, TensorProto.INT8),
             numpy_helper.from_array(np.array([0.5], np.float32), "c")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["d"]),
             helper.make_node("Sub", ["d", "c"], ["e"], name="sub0"),
             helper.make_node("QuantizeLinear", ["e", "s", "z"], ["q2"]),
             helper.make_node("DequantizeLinear", ["q2", "s", "z"], ["y"])]
    g = helper.make_graph(nodes, "f", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    d = os.path.join(tmp, "float_island")
    os.makedirs(d, exist_ok=True)
    onnx.save(m, os.path.join(d, "model.onnx"))
    p = subprocess.run([qgtc, os.path.join(d, "model.onnx"), "-o", os.path.join(d, "m.o")],
                       capture_output=True, text=True)
    want = "node 2 'sub0' (Sub): warning: sub runs in float between a dequantize and a quantize"
    if p.returncode or want not in p.stderr:
        print("FAIL float_island: rc %d, expected the warning %r, got:\n%s" % (p.returncode, want, p.stderr))
        return 1
    print("ok   float_island: %s" % p.stderr.strip().splitlines()[0])
    return 0


def check_bad(qgtc, tmp):
    bad = check_float_warning(qgtc, tmp)
    for name, model, want in bad_models():
        d = os.path.join(tmp, "bad_" + name)
        os.makedirs(d, exist_ok=True)
        mpath, opath = os.path.join(d, "model.onnx"), os.path.join(d, "model.o")
        onnx.save(model, mpath)
        if os.path.exists(opath):
            os.remove(opath)
        p = subprocess.run([qgtc, mpath, "-o", opath], capture_output=True, text=True)
        if p.returncode != 1 or want not in p.stderr or os.path.exists(opath):
            print("FAIL bad_%s: rc %d, output %s, diagnostic:\n%s" % (
                name, p.returncode, "written" if os.path.exists(opath) else "absent", p.stderr))
            bad += 1
        else:
            print("ok   bad_%s: %s" % (name, p.stderr.strip().splitlines()[0]))
    return bad


def act_cases(a, tmp, rng):
    """DequantizeLinear -> sigmoid/tanh/hard-swish/... -> QuantizeLinear at
    8 bits becomes a 256-entry table: the result must be within one output
    step of numpy's float computation of the same graph, for every input
    code, and the IR must hold the table."""
    fns = {
        "Sigmoid": (lambda v: 1 / (1 + np.exp(-v)), {}, 1 / 256.0, -128),
        "Tanh": (np.tanh, {}, 1 / 128.0, 0),
        "HardSigmoid": (lambda v: np.clip(0.2 * v + 0.5, 0, 1), {"alpha": 0.2, "beta": 0.5}, 1 / 256.0, -128),
        "HardSwish": (lambda v: v * np.clip(v / 6 + 0.5, 0, 1), {}, 0.03, -100),
        "LeakyRelu": (lambda v: np.where(v < 0, 0.1 * v, v), {"alpha": 0.1}, 0.04, -30),
    }
    bad = 0
    for op, (fn, attrs, ys, yz) in fns.items():
        xs, xz = np.float32(0.05), 3
        inits = [scalar("xs", xs), scalar("xz", xz, TensorProto.INT8), scalar("ys", ys),
                 scalar("yz", yz, TensorProto.INT8)]
        nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
                 helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"]),
                 helper.make_node(op, ["xd"], ["y"], **attrs),
                 helper.make_node("QuantizeLinear", ["y", "ys", "yz"], ["yq"]),
                 helper.make_node("DequantizeLinear", ["yq", "ys", "yz"], ["out"])]
        # every int8 code once, plus values beyond the range
        x = np.concatenate([(np.arange(-128, 128) - xz) * xs, [-100.0, 100.0]]).astype(np.float32).reshape(1, -1)
        g = helper.make_graph(nodes, op, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, list(x.shape))], inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])
        m.ir_version = 7
        d = os.path.join(tmp, "act_" + op)
        os.makedirs(d, exist_ok=True)
        mp = os.path.join(d, "model.onnx")
        onnx.save(m, mp)
        np.save(os.path.join(d, "x.npy"), x)
        ir = subprocess.run([a.qgtc, mp, "--emit", "ir", "-o", "-"], capture_output=True, text=True)
        p = subprocess.run([a.qgtc, "run", mp, os.path.join(d, "x.npy"), "--engine", a.engine,
                            "--output-dir", d], capture_output=True, text=True)
        if ir.returncode or "lut=" not in ir.stdout or p.returncode:
            print("FAIL act_%s: no table in the IR, or the run failed\n%s%s" % (op, ir.stderr, p.stderr))
            bad += 1
            continue
        got = np.load(os.path.join(d, "output_0.npy")).astype(np.float64)
        xq = quantize(x, xs, xz, np.int8)
        real = (xq.astype(np.float64) - xz) * np.float64(xs)
        yq = np.clip(np.rint(fn(real) / ys) + yz, -128, 127)
        ref = (yq - yz) * ys
        steps = np.abs(got - ref) / ys
        if steps.max() > 1.0 + 1e-4:
            print("FAIL act_%s: %.2f steps from the float computation" % (op, steps.max()))
            bad += 1
            continue
        print("ok   act_%s: all 256 codes within one step (%d one step off)" % (op, int((steps > 1e-4).sum())))
    return bad


def check_dynamic(qgtc, engine, tmp, rng):
    """ONNX Runtime's quantize_dynamic form of a Linear layer:
    DynamicQuantizeLinear (uint8 on the input's own range, at run time),
    MatMulInteger with its zero point, Cast, the two scales' product, the
    bias.  Exact against numpy doing ONNX's steps."""
    W = rng.normal(0, 0.3, (24, 10)).astype(np.float32)
    ws = np.float32(np.abs(W).max() / 127)
    Wq = np.clip(np.round(W / ws), -127, 127).astype(np.int8)
    B = rng.normal(0, 0.1, 10).astype(np.float32)
    nodes = [helper.make_node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"]),
             helper.make_node("MatMulInteger", ["xq", "Wq", "xz", "wz"], ["acc"]),
             helper.make_node("Cast", ["acc"], ["accf"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["xs", "ws"], ["s"]),
             helper.make_node("Mul", ["accf", "s"], ["mm"]),
             helper.make_node("Add", ["mm", "B"], ["y"])]
    inits = [numpy_helper.from_array(Wq, "Wq"), scalar("wz", 0, TensorProto.INT8), scalar("ws", float(ws)),
             numpy_helper.from_array(B, "B")]
    g = helper.make_graph(nodes, "dyn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 24])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 10])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    d = os.path.join(tmp, "dynamic")
    os.makedirs(d, exist_ok=True)
    onnx.save(m, os.path.join(d, "model.onnx"))
    x = rng.normal(0.3, 1, (3, 24)).astype(np.float32)
    np.save(os.path.join(d, "x.npy"), x)
    lo, hi = min(np.float32(0), x.min()), max(np.float32(0), x.max())
    xs = np.float32((hi - lo) / np.float32(255))
    xz = np.uint8(np.round(np.clip(-(lo / xs), 0, 255)))
    xq = np.clip(np.round(x / xs) + xz, 0, 255).astype(np.uint8)
    acc = (xq.astype(np.int32) - np.int32(xz)) @ Wq.astype(np.int32)
    ref = (acc.astype(np.float32) * (xs * ws) + B).astype(np.float32)
    p = subprocess.run([qgtc, "run", os.path.join(d, "model.onnx"), os.path.join(d, "x.npy"), "--engine", engine,
                        "--output-dir", d], capture_output=True, text=True)
    got = np.load(os.path.join(d, "output_0.npy")) if not p.returncode else None
    if got is None or not np.array_equal(got, ref):
        print("FAIL dynamic: rc %d, max difference %s\n%s" % (
            p.returncode, None if got is None else np.abs(got - ref).max(), p.stderr))
        return 1
    print("ok   dynamic: quantize_dynamic's Linear exact (%d elements)" % got.size)
    return 0


def check_split(qgtc, engine, tmp, rng):
    """A QDQ Split (ONNX Runtime's quantizer writes it so for torch's
    chunk): fold-qdq makes it integer slices, no split left in float, and
    the values are exactly the dequantized input's parts."""
    s, z = scalar("s", 0.05), scalar("z", 3, TensorProto.INT8)
    sp = numpy_helper.from_array(np.array([2, 3, 1], np.int64), "sp")
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["d"]),
             helper.make_node("Split", ["d", "sp"], ["a", "b", "c"], axis=1)]
    for n in "abc":
        nodes += [helper.make_node("QuantizeLinear", [n, "s", "z"], [n + "q"]),
                  helper.make_node("DequantizeLinear", [n + "q", "s", "z"], [n + "d"])]
    nodes.append(helper.make_node("Concat", ["cd", "ad", "bd"], ["y"], axis=1))
    g = helper.make_graph(nodes, "split", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 6, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 6, 4])], [s, z, sp])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    d = os.path.join(tmp, "split")
    os.makedirs(d, exist_ok=True)
    mp = os.path.join(d, "model.onnx")
    onnx.save(m, mp)
    x = rng.normal(0, 1, (2, 6, 4)).astype(np.float32)
    np.save(os.path.join(d, "x.npy"), x)
    q = np.clip(np.round(x / np.float32(0.05)) + 3, -128, 127)
    dq = ((q - 3) * np.float32(0.05)).astype(np.float32)
    ref = np.concatenate([dq[:, 5:6], dq[:, 0:2], dq[:, 2:5]], 1)
    rep = subprocess.run([qgtc, mp, "--report", "layers", "-o", os.path.join(d, "m.o")], capture_output=True, text=True)
    p = subprocess.run([qgtc, "run", mp, os.path.join(d, "x.npy"), "--engine", engine, "--output-dir", d],
                       capture_output=True, text=True)
    got = np.load(os.path.join(d, "output_0.npy")) if not p.returncode else None
    slices = [l for l in rep.stdout.splitlines() + rep.stderr.splitlines() if l.startswith("integer  slice")]
    if rep.returncode or len(slices) != 3 or "float    split" in rep.stdout + rep.stderr:
        print("FAIL split: not three integer slices:\n%s%s" % (rep.stdout[-1500:], rep.stderr[-1500:]))
        return 1
    if got is None or not np.array_equal(got, ref):
        print("FAIL split: rc %d, differs from numpy\n%s" % (p.returncode, p.stderr))
        return 1
    print("ok   split: three integer slices, exact")
    return 0


def check_avg_ties(qgtc, engine, tmp, rng):
    """QDQ AveragePool (2x2, and count_include_pad with pads) and
    GlobalAveragePool on one grid, on inputs whose window means fall on
    half steps: ONNX's semantics (dequantize, average in float, quantize
    rounding half to even) computed here with numpy, exactly; an odd zero
    point, so that the real mean and the mean of the codes round apart."""
    bad = 0
    for name, dt, zp, pool in (("avg2x2_u8", TensorProto.UINT8, 11, "avg"),
                               ("avg_pads_i8", TensorProto.INT8, -3, "pad"),
                               ("gap_i8", TensorProto.INT8, 5, "global")):
        st = np.float32(0.25)
        inits = [scalar("s", st), scalar("z", zp, dt)]
        nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
                 helper.make_node("DequantizeLinear", ["q", "s", "z"], ["d"])]
        if pool == "global":
            nodes.append(helper.make_node("GlobalAveragePool", ["d"], ["p"]))
        else:
            nodes.append(helper.make_node("AveragePool", ["d"], ["p"], kernel_shape=[2, 2], strides=[2, 2],
                                          pads=[1, 1, 1, 1] if pool == "pad" else [0, 0, 0, 0],
                                          count_include_pad=1 if pool == "pad" else 0))
        nodes += [helper.make_node("QuantizeLinear", ["p", "s", "z"], ["pq"]),
                  helper.make_node("DequantizeLinear", ["pq", "s", "z"], ["y"])]
        xshape = [1, 3, 6, 6] if pool != "global" else [1, 16, 2, 1]
        # integers in a small range, so that many windows tie
        xi = rng.integers(-6, 7, xshape)
        x = (xi.astype(np.float32) * st).astype(np.float32)
        info = np.iinfo(NP_OF[dt])
        q = np.clip(np.round(x / st) + zp, info.min, info.max)
        real = (q - zp) * np.float64(st)
        if pool == "global":
            mean = real.mean(axis=(2, 3), keepdims=True)
        else:
            p = 1 if pool == "pad" else 0
            rp = np.pad(real, ((0, 0), (0, 0), (p, p), (p, p)))
            oh = (rp.shape[2] - 2) // 2 + 1
            mean = np.zeros(xshape[:2] + [oh, oh])
            for i in range(oh):
                for j in range(oh):
                    mean[:, :, i, j] = rp[:, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2].mean(axis=(2, 3))
        ref = ((np.clip(np.round(mean / np.float64(st)) + zp, info.min, info.max) - zp) * st).astype(np.float32)
        g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, xshape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(ref.shape))], inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 7
        onnx.checker.check_model(m)
        d = os.path.join(tmp, name)
        os.makedirs(d, exist_ok=True)
        mp = os.path.join(d, "model.onnx")
        onnx.save(m, mp)
        np.save(os.path.join(d, "x.npy"), x)
        ties = int((np.abs(mean / np.float64(st) - np.floor(mean / np.float64(st)) - 0.5) < 1e-9).sum())
        ir = subprocess.run([qgtc, mp, "--emit", "ir", "-o", "-"], capture_output=True, text=True)
        p = subprocess.run([qgtc, "run", mp, os.path.join(d, "x.npy"), "--engine", engine, "--output-dir", d],
                           capture_output=True, text=True)
        got = np.load(os.path.join(d, "output_0.npy")) if not p.returncode else None
        if ir.returncode or not any("avg_pool(" in l and "!quant" in l for l in ir.stdout.splitlines()):
            print("FAIL %s: no integer average pool in the IR\n%s%s" % (name, ir.stdout[-1500:], ir.stderr[-800:]))
            bad += 1
        elif got is None or not np.array_equal(got, ref):
            print("FAIL %s: rc %d, %s of %d outputs differ from ONNX's rounding (%d ties)\n%s" % (
                name, p.returncode, "all" if got is None else int((got != ref).sum()), ref.size, ties, p.stderr))
            bad += 1
        elif ties < 4:
            print("FAIL %s: only %d ties: the case does not test the rounding" % (name, ties))
            bad += 1
        else:
            print("ok   %s: %d outputs exact, %d of them ties" % (name, ref.size, ties))
    return bad


def check_i16_bound(qgtc, engine, tmp, rng):
    """An int16-activation conv whose int32 accumulator could overflow
    (576 full-scale int8 weights a channel: 32768 x 127 x 576 > 2^31)
    stays in float, said so, and gives ONNX's QDQ semantics (dequantize,
    conv in float, quantize half to even; numpy, in float64) within one
    step, on inputs near full scale where int32 sums would wrap."""
    xs, ws, ys = np.float32(0.01), np.float32(0.02), np.float32(40.0)
    wq = rng.choice(np.array([-127, 127], np.int8), (4, 64, 3, 3))
    inits = [scalar("xs", xs), scalar("xz", 0, TensorProto.INT16), numpy_helper.from_array(wq, "wq"),
             scalar("ws", ws), scalar("wz", 0, TensorProto.INT8), scalar("ys", ys),
             scalar("yz", 0, TensorProto.INT16)]
    nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"]),
             helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"]),
             helper.make_node("Conv", ["xd", "wd"], ["y"]),
             helper.make_node("QuantizeLinear", ["y", "ys", "yz"], ["yq"]),
             helper.make_node("DequantizeLinear", ["yq", "ys", "yz"], ["out"])]
    # x of the weights' signs, near full scale: sums near 576 x 32000 x 127
    x = (np.sign(wq[0:1].astype(np.float32)) * 320.0).astype(np.float32)
    g = helper.make_graph(nodes, "i16_bound", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64, 3, 3])],
                          [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 4, 1, 1])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
    m.ir_version = 10
    d = os.path.join(tmp, "i16_bound")
    os.makedirs(d, exist_ok=True)
    mp = os.path.join(d, "model.onnx")
    onnx.save(m, mp)
    np.save(os.path.join(d, "x.npy"), x)
    xq = quantize(x, xs, 0, np.int16)
    real = conv_int(xq, wq, None, 0, [0] * 4, [1, 1], [0, 0, 0, 0], [1, 1], 1).astype(np.float64) * \
        np.float64(xs) * np.float64(ws)
    ref = np.clip(np.round(real / np.float64(ys)), -32768, 32767) * np.float64(ys)
    p = subprocess.run([qgtc, "run", mp, os.path.join(d, "x.npy"), "--engine", engine, "--output-dir", d],
                       capture_output=True, text=True)
    got = np.load(os.path.join(d, "output_0.npy")) if not p.returncode else None
    if "past its int32 accumulator" not in p.stderr or p.stderr.count("warning") != 1:
        print("FAIL i16_bound: not one warning that the conv stays in float for its bound\n%s" % p.stderr)
        return 1
    if got is None or np.abs(got.astype(np.float64) - ref.reshape(got.shape)).max() > float(ys) * 1.0001:
        print("FAIL i16_bound: rc %d, more than one step from ONNX's semantics (%s against %s)" % (
            p.returncode, None if got is None else got.ravel(), ref.ravel()))
        return 1
    print("ok   i16_bound: stays in float, within one step of sums up to %.3g" %
          np.abs(real / (float(xs) * float(ws))).max())
    return 0


def check_ratio_bound(qgtc, engine, tmp, rng):
    """Two layers the one requantization rule cannot take, each kept in
    float with one warning that says why, and ONNX's QDQ semantics:
    a conv whose output scale is denormal (its ratio x_scale w_scale /
    y_scale is past 2^30: the codes saturate; refused before), and a
    matmul of two int16 activations over K = 4096, whose int32 sum could
    overflow (warned twice before).  Against numpy in float64."""
    xs, ws, ys = np.float32(0.02), np.float32(0.01), np.float32(1e-40)
    wq = rng.integers(-127, 128, (4, 3, 3, 3)).astype(np.int8)
    inits = [scalar("xs", xs), scalar("xz", 0, TensorProto.UINT8), numpy_helper.from_array(wq, "wq"),
             scalar("ws", ws), scalar("wz", 0, TensorProto.INT8), scalar("ys", ys),
             scalar("yz", 0, TensorProto.INT8)]
    nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"]),
             helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"]),
             helper.make_node("Conv", ["xd", "wd"], ["y"], pads=[1, 1, 1, 1]),
             helper.make_node("QuantizeLinear", ["y", "ys", "yz"], ["yq"])]
    x = rng.uniform(0, 5, (1, 3, 6, 6)).astype(np.float32)
    x[0, :, 2:4, 2:4] = 0  # some outputs exactly 0
    g = helper.make_graph(nodes, "ratio", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
                          [helper.make_tensor_value_info("yq", TensorProto.INT8, None)], inits)
    xq = quantize(x, xs, 0, np.uint8)
    real = conv_int(xq, wq, None, 0, [0] * 4, [1, 1], [1, 1, 1, 1], [1, 1], 1).astype(np.float64) * \
        np.float64(xs) * np.float64(ws)
    ref1 = np.clip(np.round(real / np.float64(ys)), -128, 127)
    # matmul of two int16 activations, K = 4096: 4096 x 32767^2 > 2^31
    K = 4096
    a = rng.uniform(-1, 1, (2, K)).astype(np.float32)
    b = rng.uniform(-1, 1, (K, 3)).astype(np.float32)
    sa, sb, sy = np.float32(1 / 32767), np.float32(1 / 32767), np.float32(0.01)
    inits2 = [scalar("sa", sa), scalar("sb", sb), scalar("sy", sy), scalar("z", 0, TensorProto.INT16)]
    nodes2 = [helper.make_node("QuantizeLinear", ["a", "sa", "z"], ["aq"]),
              helper.make_node("DequantizeLinear", ["aq", "sa", "z"], ["ad"]),
              helper.make_node("QuantizeLinear", ["b", "sb", "z"], ["bq"]),
              helper.make_node("DequantizeLinear", ["bq", "sb", "z"], ["bd"]),
              helper.make_node("MatMul", ["ad", "bd"], ["y"]),
              helper.make_node("QuantizeLinear", ["y", "sy", "z"], ["yq"])]
    g2 = helper.make_graph(nodes2, "mm_act", [helper.make_tensor_value_info("a", TensorProto.FLOAT, a.shape),
                                              helper.make_tensor_value_info("b", TensorProto.FLOAT, b.shape)],
                           [helper.make_tensor_value_info("yq", TensorProto.INT16, None)], inits2)
    aq, bq = quantize(a, sa, 0, np.int16), quantize(b, sb, 0, np.int16)
    real2 = (aq.astype(np.float64) * np.float64(sa)) @ (bq.astype(np.float64) * np.float64(sb))
    ref2 = np.clip(np.round(real2 / np.float64(sy)), -32768, 32767)
    bad = 0
    for name, graph, ins, ref, words in (("ratio_bound", g, [x], ref1, "requantization ratio"),
                                         ("mm_act_bound", g2, [a, b], ref2, "could overflow")):
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
        m.ir_version = 10
        d = os.path.join(tmp, name)
        os.makedirs(d, exist_ok=True)
        mp = os.path.join(d, "model.onnx")
        onnx.save(m, mp)
        files = []
        for k, v in enumerate(ins):
            files.append(os.path.join(d, "in%d.npy" % k))
            np.save(files[-1], v)
        p = subprocess.run([qgtc, "run", mp] + files + ["--engine", engine, "--output-dir", d],
                           capture_output=True, text=True)
        got = np.load(os.path.join(d, "output_0.npy")) if not p.returncode else None
        if words not in p.stderr or p.stderr.count("warning") != 1:
            print("FAIL %s: not one warning ('%s') that it stays in float\n%s" % (name, words, p.stderr))
            bad += 1
            continue
        # float32 QDQ against float64: a step where the product rounds
        steps = None if got is None else np.abs(got.astype(np.float64) - ref.reshape(got.shape))
        if steps is None or steps.max() > 1:
            print("FAIL %s: rc %d, more than one step from ONNX's semantics\n%s" % (name, p.returncode, p.stderr))
            bad += 1
            continue
        print("ok   %s: stays in float, said once, %d of %d outputs exact" % (
            name, int((steps == 0).sum()), steps.size))
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qgtc", required=True)
    ap.add_argument("--engine", default="interp")
    ap.add_argument("--keep")
    a = ap.parse_args()
    rng = np.random.default_rng(20261203)
    tmp = a.keep or tempfile.mkdtemp(prefix="qgtc-qdq-")
    os.makedirs(tmp, exist_ok=True)
    bad = 0
    for case in cases():
        model, x, ref, fref, ys, xq, yq = build(case, rng)
        if model.opset_import[0].version <= 17:
            onnx.checker.check_model(model)
        d = os.path.join(tmp, case["name"])
        os.makedirs(d, exist_ok=True)
        mpath = os.path.join(d, "model.onnx")
        onnx.save(model, mpath)
        np.save(os.path.join(d, "x.npy"), x)
        # 1. fold-qdq made it an integer op
        ir = subprocess.run([a.qgtc, mpath, "--emit", "ir", "-o", "-"], capture_output=True, text=True)
        op = "conv(" if case["op"] == "conv" else "matmul("  # a gemm becomes a matmul
        lines = [l for l in ir.stdout.splitlines() if " = " + op in l]
        if ir.returncode or len(lines) != 1 or "rq_mult" not in lines[0] or "!quant" not in lines[0]:
            print("FAIL %s: no integer %s in the IR (rc %d)\n%s%s" % (case["name"], op[:-1], ir.returncode,
                                                                     ir.stdout[-2000:], ir.stderr[-2000:]))
            bad += 1
            continue
        # 1b. the integer IR survives the .qir text form: print, parse,
        # print again gives the same text, and runs to the same bytes
        qa, qb = os.path.join(d, "a.qir"), os.path.join(d, "b.qir")
        r1 = subprocess.run([a.qgtc, mpath, "--emit", "ir", "--ir-weights=full", "-o", qa],
                            capture_output=True, text=True)
        r2 = subprocess.run([a.qgtc, "opt", qa, "--passes=", "--ir-weights=full", "-o", qb],
                            capture_output=True, text=True)
        if r1.returncode or r2.returncode or open(qa).read() != open(qb).read():
            print("FAIL %s: the .qir round trip differs\n%s%s" % (case["name"], r1.stderr, r2.stderr))
            bad += 1
            continue
        # 2. exact against the numpy integer reference
        p = subprocess.run([a.qgtc, "run", mpath, os.path.join(d, "x.npy"), "--engine", a.engine,
                            "--output-dir", d], capture_output=True, text=True)
        if p.returncode:
            print("FAIL %s: qgtc run failed:\n%s" % (case["name"], p.stderr))
            bad += 1
            continue
        got = np.load(os.path.join(d, "output_0.npy"))
        p = subprocess.run([a.qgtc, "run", qa, os.path.join(d, "x.npy"), "--engine", a.engine,
                            "--output-dir", os.path.join(d, "qir")], capture_output=True, text=True)
        if p.returncode or not np.array_equal(np.load(os.path.join(d, "qir", "output_0.npy")), got):
            print("FAIL %s: the .qir computes something else:\n%s" % (case["name"], p.stderr))
            bad += 1
            continue
        if got.shape != ref.shape or not np.array_equal(got.view(np.uint32), ref.view(np.uint32)):
            diff = np.abs(got.astype(np.float64) - ref) / ys if got.shape == ref.shape else None
            print("FAIL %s: %s differs from the integer reference (max %s steps, %s elements)" % (
                case["name"], list(got.shape), None if diff is None else diff.max(),
                None if diff is None else int((diff > 0).sum())))
            bad += 1
            continue
        # 3. within one step of the float computation
        steps = np.abs(got.astype(np.float64) - fref.astype(np.float64)) / ys
        if steps.max() > 1.0 + 1e-4:
            print("FAIL %s: %.2f steps from the float computation" % (case["name"], steps.max()))
            bad += 1
            continue
        # 4. --io int: the integers in and out, exactly the reference's
        np.save(os.path.join(d, "xq.npy"), xq)
        p = subprocess.run([a.qgtc, "run", mpath, os.path.join(d, "xq.npy"), "-a", "8", "--io", "int",
                            "--engine", a.engine, "--output-dir", os.path.join(d, "int")],
                           capture_output=True, text=True)
        if p.returncode:
            print("FAIL %s: --io int run failed:\n%s" % (case["name"], p.stderr))
            bad += 1
            continue
        gi = np.load(os.path.join(d, "int", "output_0.npy"))
        if gi.dtype != yq.dtype or not np.array_equal(gi, yq):
            print("FAIL %s: --io int gives %s%s, the reference %s%s" % (
                case["name"], gi.dtype, list(gi.shape), yq.dtype, list(yq.shape)))
            bad += 1
            continue
        print("ok   %s: %d elements exact; %d one step from the float computation" % (
            case["name"], got.size, int((steps > 1e-6).sum())))
    bad += act_cases(a, tmp, rng)
    bad += check_dynamic(a.qgtc, a.engine, tmp, rng)
    bad += check_split(a.qgtc, a.engine, tmp, rng)
    bad += check_avg_ties(a.qgtc, a.engine, tmp, rng)
    bad += check_i16_bound(a.qgtc, a.engine, tmp, rng)
    bad += check_ratio_bound(a.qgtc, a.engine, tmp, rng)
    if a.engine == "interp":
        bad += check_bad(a.qgtc, tmp)
    print("%d failed" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
