#!/usr/bin/python3
"""make_int_models.py OUTDIR: small QDQ ONNX models that the default
pipeline (fold-qdq) turns into integer conv/matmul, one NAME.onnx plus a
fixed-seed NAME_in.npy each, for int_check.sh (native vs interpreter, byte
for byte) and cross_check.sh.

Each model is  x f32 -> QuantizeLinear -> DequantizeLinear -> Conv/MatMul
(weights DequantizeLinear of an integer initializer, Conv bias
DequantizeLinear of an int32 initializer at x_scale*w_scale) ->
QuantizeLinear -> DequantizeLinear -> ...  All quantization parameters are
initializers.  The set covers u8/i8/i16 activations, i8/u8 weights per
tensor and per channel, depthwise and grouped convs, strides, asymmetric
pads, dilations, 1-D and 2-D convs, requantization multipliers above and
below 1, and a matmul with a 3-D batch.  dsp_edges, dsp_lowbit and dsp_wide are shaped for the
Cortex-M DSP kernels (backends/llvm/l_int_dsp.c): odd channel and pixel
counts, reductions that are not a multiple of 4, padding taps that must
read the zero point, u8 weights whose w - zw still fits i8, and a matmul
with an odd row count.  fine_bias has float biases on channels whose
multiplier is 2 or more, which fold-qdq gives 8-bit weights beside 2-bit
ones in the same layer."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

NP = {TensorProto.UINT8: np.uint8, TensorProto.INT8: np.int8, TensorProto.INT16: np.int16,
      TensorProto.UINT16: np.uint16}


class Model:
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
        self.inits.append(numpy_helper.from_array(np.asarray(arr), n))
        return n

    def qdq(self, x, scale, zp, dt):
        """QuantizeLinear -> DequantizeLinear of x with per-tensor params."""
        s = self.const(np.array(scale, np.float32), "s")
        z = self.const(np.array(zp, NP[dt]), "z")
        q, d = self.tmp("q"), self.tmp("dq")
        self.nodes.append(helper.make_node("QuantizeLinear", [x, s, z], [q]))
        self.nodes.append(helper.make_node("DequantizeLinear", [q, s, z], [d]))
        return d

    def weight(self, shape, wdt, per_channel, axis=0, wmax=127):
        """DequantizeLinear of a random integer weight (codes within wmax
        of 0, or of 128 for u8); returns (name, scales)."""
        lo, hi = (-wmax, wmax) if wdt == TensorProto.INT8 else (128 - wmax, 127 + wmax)
        w = self.rng.integers(lo, hi + 1, size=shape).astype(NP[wdt])
        nch = shape[axis] if per_channel else 1
        sc = (self.rng.random(nch) * 0.02 + 0.005).astype(np.float32)
        if wdt == TensorProto.INT8:
            zp = np.zeros(nch, np.int8) if per_channel else self.rng.integers(-3, 4, nch).astype(np.int8)
        else:
            zp = self.rng.integers(100, 156, nch).astype(np.uint8)
        if not per_channel:
            sc, zp = sc[0], zp[0]
        wn = self.const(w, "w")
        s = self.const(sc, "ws")
        z = self.const(zp, "wz")
        d = self.tmp("wdq")
        attrs = {"axis": axis} if per_channel else {}
        self.nodes.append(helper.make_node("DequantizeLinear", [wn, s, z], [d], **attrs))
        return d, np.atleast_1d(sc)

    def bias(self, m, xs, ws, bmax=2000):
        b = self.rng.integers(-bmax, bmax + 1, size=m).astype(np.int32)
        sc = (np.float32(xs) * ws.astype(np.float32)).astype(np.float32)
        if sc.size == 1:
            sc = sc[0]
        bn, s = self.const(b, "b"), self.const(sc, "bs")
        d = self.tmp("bdq")
        self.nodes.append(helper.make_node("DequantizeLinear", [bn, s], [d], axis=0))
        return d

    def coded_conv(self, x, xs, w, ws, wz, bmax, fbias=None, **attrs):
        """Conv of x (scale xs) by the integer codes w with per-channel
        scales ws and zero points wz (axis 0), and a bias (an int32 one
        within bmax, or the float one fbias)."""
        wd = self.tmp("wdq")
        self.nodes.append(helper.make_node("DequantizeLinear", [self.const(w, "w"), self.const(ws, "ws"),
                                                              self.const(wz, "wz")], [wd], axis=0))
        b = self.bias(len(ws), xs, ws, bmax) if fbias is None else self.const(fbias.astype(np.float32), "fb")
        c = self.tmp("conv")
        self.nodes.append(helper.make_node("Conv", [x, wd, b], [c], **attrs))
        return c

    def coded_matmul(self, x, w, ws, wz):
        """MatMul of x by the integer codes w with a per-tensor scale ws and
        zero point wz (numpy scalars of w's dtype)."""
        wd = self.tmp("wdq")
        self.nodes.append(helper.make_node("DequantizeLinear", [self.const(w, "w"), self.const(ws, "ws"),
                                                              self.const(wz, "wz")], [wd]))
        mm = self.tmp("mm")
        self.nodes.append(helper.make_node("MatMul", [x, wd], [mm]))
        return mm

    def conv(self, x, xs, cin, m, k, wdt, per_channel, group=1, wmax=127, bmax=2000, **attrs):
        w, ws = self.weight([m, cin // group] + list(k), wdt, per_channel, wmax=wmax)
        b = self.bias(m, xs, ws, bmax)
        y = self.tmp("conv")
        self.nodes.append(helper.make_node("Conv", [x, w, b], [y], group=group, **attrs))
        return y

    def matmul(self, x, kdim, n, wdt, wmax=127):
        w, _ = self.weight([kdim, n], wdt, False, wmax=wmax)
        y = self.tmp("mm")
        self.nodes.append(helper.make_node("MatMul", [x, w], [y]))
        return y

    def save(self, outdir, xshape, last, extra=(), x=None):
        """Outputs y (last) and y1, y2, ... (extra); input x, or a seeded
        normal one."""
        outs = ["y"] + ["y%d" % (i + 1) for i in range(len(extra))]
        for src, dst in zip([last] + list(extra), outs):
            self.nodes.append(helper.make_node("Identity", [src], [dst]))
        g = helper.make_graph(self.nodes, self.name,
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(xshape))],
                              [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs],
                              self.inits)
        mp = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
        mp.ir_version = 10
        onnx.save(mp, os.path.join(outdir, self.name + ".onnx"))
        if x is None:
            x = (self.rng.standard_normal(xshape) * 2).astype(np.float32)
        np.save(os.path.join(outdir, self.name + "_in.npy"), x)


U8, I8, I16 = TensorProto.UINT8, TensorProto.INT8, TensorProto.INT16


def main(outdir):
    os.makedirs(outdir, exist_ok=True)

    # u8 activations, i8 per-tensor weights, two chained 3x3 convs (the
    # second grouped and strided), multipliers < 1.
    md = Model("conv_u8", 1)
    x = md.qdq("x", 0.03, 128, U8)
    y = md.conv(x, 0.03, 4, 6, (3, 3), I8, False, pads=[1, 1, 1, 1])
    y = md.qdq(y, 0.6, 120, U8)
    y = md.conv(y, 0.6, 6, 4, (3, 3), I8, False, group=2, strides=[2, 2], pads=[0, 1, 2, 1])
    y = md.qdq(y, 5.0, 131, U8)
    md.save(outdir, (2, 4, 9, 8), y)

    # i8 activations, depthwise with per-channel weights, stride 2,
    # asymmetric pads, dilation 2; multipliers > 1 (small output scale).
    md = Model("dw_i8", 2)
    x = md.qdq("x", 0.5, -3, I8)
    y = md.conv(x, 0.5, 5, 5, (3, 3), I8, True, group=5, wmax=3, bmax=20, strides=[2, 1],
                pads=[2, 0, 1, 2], dilations=[2, 2])
    y = md.qdq(y, 0.004, 5, I8)
    y = md.conv(y, 0.004, 5, 10, (1, 1), I8, True, group=5, wmax=3, bmax=20)
    y = md.qdq(y, 0.0002, -7, I8)
    md.save(outdir, (1, 5, 11, 10), y)

    # 1-D convs with u8 weights (nonzero zero points), stride, dilation.
    md = Model("conv1d_u8w", 3)
    x = md.qdq("x", 0.02, 100, U8)
    y = md.conv(x, 0.02, 3, 6, (5,), U8, False, strides=[2], pads=[3, 1], dilations=[2])
    y = md.qdq(y, 0.25, 128, U8)
    y = md.conv(y, 0.25, 6, 6, (3,), U8, True, group=3, pads=[1, 1])
    y = md.qdq(y, 1.0, 90, U8)
    md.save(outdir, (2, 3, 23), y)

    # i16 activations (nonzero zero point), i8 per-channel weights.
    md = Model("conv_i16", 4)
    x = md.qdq("x", 0.0005, 37, I16)
    y = md.conv(x, 0.0005, 3, 4, (3, 3), I8, True, strides=[1, 2], pads=[1, 1, 1, 1])
    y = md.qdq(y, 0.0015, -25, I16)
    y = md.conv(y, 0.0015, 4, 4, (2, 2), I8, False, group=2, dilations=[2, 1])
    y = md.qdq(y, 0.0015, 11, I16)
    md.save(outdir, (1, 3, 7, 9), y)

    # MatMul with a 3-D batch: u8 then i8 activations, multipliers < 1 and > 1.
    md = Model("matmul3d", 5)
    x = md.qdq("x", 0.04, 128, U8)
    y = md.matmul(x, 7, 5, I8)
    y = md.qdq(y, 0.3, 100, U8)
    y = md.qdq(y, 1.0, 3, I8)
    y = md.matmul(y, 5, 6, I8, wmax=1)
    y = md.qdq(y, 0.007, -1, I8)
    md.save(outdir, (2, 3, 7), y)

    # The rest of a CNN in integers: relu absorbed, max and average pools,
    # a residual add (two branches at different scales, then relu), a
    # sigmoid table, a global average pool (requantized), flatten.
    md = Model("mixed_i8", 6)
    x = md.qdq("x", 0.05, -10, I8)
    y = md.conv(x, 0.05, 3, 4, (3, 3), I8, True, pads=[1, 1, 1, 1])
    r = md.tmp("relu")
    md.nodes.append(helper.make_node("Relu", [y], [r]))
    y = md.qdq(r, 0.04, -128, I8)
    p = md.tmp("mp")
    md.nodes.append(helper.make_node("MaxPool", [y], [p], kernel_shape=[2, 2], strides=[2, 2]))
    p = md.qdq(p, 0.04, -128, I8)
    a = md.conv(p, 0.04, 4, 4, (3, 3), I8, True, pads=[1, 1, 1, 1])
    a = md.qdq(a, 0.06, 3, I8)
    s = md.tmp("add")
    md.nodes.append(helper.make_node("Add", [a, p], [s]))
    r = md.tmp("relu")
    md.nodes.append(helper.make_node("Relu", [s], [r]))
    y = md.qdq(r, 0.07, -128, I8)
    av = md.tmp("avg")
    md.nodes.append(helper.make_node("AveragePool", [y], [av], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                     count_include_pad=0))
    av = md.qdq(av, 0.07, -128, I8)
    sg = md.tmp("sig")
    md.nodes.append(helper.make_node("Sigmoid", [av], [sg]))
    sg = md.qdq(sg, 1 / 256.0, -128, I8)
    g = md.tmp("gap")
    md.nodes.append(helper.make_node("GlobalAveragePool", [sg], [g]))
    f = md.tmp("flat")
    md.nodes.append(helper.make_node("Flatten", [g], [f]))
    y = md.qdq(f, 1 / 512.0, -100, I8)
    md.save(outdir, (2, 3, 10, 8), y)

    # Data movement on integers: a transpose between quantized layers.
    md = Model("transpose_u8", 7)
    x = md.qdq("x", 0.05, 120, U8)
    t = md.tmp("tr")
    md.nodes.append(helper.make_node("Transpose", [x], [t], perm=[0, 2, 1]))
    t = md.qdq(t, 0.05, 120, U8)
    y = md.matmul(t, 6, 3, I8)
    y = md.qdq(y, 0.4, 110, U8)
    md.save(outdir, (2, 6, 4), y)

    # Concat of two branches on different grids (one requantized to the
    # output's), as inception/fire modules have.
    md = Model("concat_i8", 8)
    x = md.qdq("x", 0.05, 2, I8)
    a = md.conv(x, 0.05, 3, 4, (1, 1), I8, True)
    a = md.qdq(a, 0.08, -4, I8)
    b = md.conv(x, 0.05, 3, 2, (3, 3), I8, False, pads=[1, 1, 1, 1])
    b = md.qdq(b, 0.11, 6, I8)
    c = md.tmp("cat")
    md.nodes.append(helper.make_node("Concat", [a, b], [c], axis=1))
    c = md.qdq(c, 0.11, 6, I8)
    y = md.conv(c, 0.11, 6, 3, (1, 1), I8, True)
    y = md.qdq(y, 0.2, 0, I8)
    md.save(outdir, (2, 3, 5, 6), y)

    # A classifier head: a gate (conv * sigmoid(conv), an integer mul of
    # two activations), tanh, a matmul, and the integer softmax.
    md = Model("head_u8", 9)
    x = md.qdq("x", 0.04, 128, U8)
    a = md.conv(x, 0.04, 2, 3, (1, 1), I8, True)
    a = md.qdq(a, 0.05, 120, U8)
    sg = md.tmp("sig")
    md.nodes.append(helper.make_node("Sigmoid", [a], [sg]))
    sg = md.qdq(sg, 1 / 256.0, 0, U8)
    m = md.tmp("mul")
    md.nodes.append(helper.make_node("Mul", [a, sg], [m]))
    m = md.qdq(m, 0.03, 100, U8)
    t = md.tmp("tanh")
    md.nodes.append(helper.make_node("Tanh", [m], [t]))
    t = md.qdq(t, 1 / 128.0, 128, U8)
    f = md.tmp("flat")
    md.nodes.append(helper.make_node("Flatten", [t], [f]))
    y = md.matmul(f, 3 * 4 * 4, 10, I8)
    y = md.qdq(y, 0.1, 128, U8)
    sm = md.tmp("smx")
    md.nodes.append(helper.make_node("Softmax", [y], [sm], axis=-1))
    y = md.qdq(sm, 1 / 256.0, 0, U8)
    md.save(outdir, (2, 2, 4, 4), y)

    # For the DSP kernels: odd M and odd pixel counts (the 1-column and
    # 1-channel tails), R = 27 and 35 (padded to 4), stride 2 with
    # asymmetric pads and dilation (padding taps read zx), per-tensor i8
    # weights with a nonzero zero point, a 1-D conv with u8 weights whose
    # w - zw fits i8, a pointwise conv, relu absorbed as a clamp, batch 3,
    # and a matmul over 3 rows with K = 150 and u8 weights.
    md = Model("dsp_edges", 10)
    x = md.qdq("x", 0.05, 7, I8)
    y = md.conv(x, 0.05, 3, 5, (3, 3), I8, False, wmax=120, strides=[2, 2], pads=[1, 0, 2, 1],
                dilations=[1, 2])
    y = md.qdq(y, 0.5, -20, I8)
    r = md.tmp("relu")
    md.nodes.append(helper.make_node("Relu", [y], [r]))
    y = md.qdq(r, 0.3, -128, I8)
    y = md.conv(y, 0.3, 5, 7, (1, 1), I8, True)
    y = md.qdq(y, 0.4, 3, I8)
    sh = md.const(np.array([3, 7, -1], np.int64), "sh")
    rs = md.tmp("rs")
    md.nodes.append(helper.make_node("Reshape", [y, sh], [rs]))
    y = md.qdq(rs, 0.4, 3, I8)
    y = md.conv(y, 0.4, 7, 5, (5,), U8, False, wmax=100, pads=[2, 2])
    y = md.qdq(y, 3.0, 128, U8)
    t = md.tmp("tr")
    md.nodes.append(helper.make_node("Transpose", [y], [t], perm=[0, 2, 1]))
    t = md.qdq(t, 3.0, 128, U8)
    f = md.tmp("flat")
    md.nodes.append(helper.make_node("Flatten", [t], [f]))
    f = md.qdq(f, 3.0, 128, U8)
    y = md.matmul(f, 150, 9, U8, wmax=100)
    y = md.qdq(y, 30.0, 120, U8)
    md.save(outdir, (3, 3, 11, 13), y)

    # Sub-byte weights as the DSP kernels pack them (2 or 4 bits per weight
    # in flash, unpacked in registers, products scaled by 64 or 16): 2-bit
    # affine codes 0..3 whose per-channel zero points 1 or 2 put w - zw in
    # [-1, 2] (stored negated) or [-2, 1]; 4-bit symmetric codes; a matmul
    # with 4-bit codes 0..15 around a zero point of 7 (w - zw in [-7, 8]).
    md = Model("dsp_lowbit", 11)
    x = md.qdq("x", 0.05, -5, I8)
    w = md.rng.integers(0, 4, size=(6, 5, 3, 3)).astype(np.uint8)
    ws = (md.rng.random(6) * 0.05 + 0.02).astype(np.float32)
    c = md.coded_conv(x, 0.05, w, ws, np.array([1, 2, 1, 1, 2, 2], np.uint8), 500, pads=[1, 1, 1, 1])
    y = md.qdq(c, 0.2, 4, I8)
    y = md.conv(y, 0.2, 6, 7, (3, 3), I8, True, wmax=7, strides=[2, 2], pads=[1, 1, 0, 0])
    y = md.qdq(y, 0.3, -9, I8)
    f = md.tmp("flat")
    md.nodes.append(helper.make_node("Flatten", [y], [f]))
    f = md.qdq(f, 0.3, -9, I8)
    w = md.rng.integers(0, 16, size=(7 * 4 * 4, 5)).astype(np.uint8)
    y = md.qdq(md.coded_matmul(f, w, np.float32(0.03), np.uint8(7)), 0.4, 10, I8)
    md.save(outdir, (2, 5, 8, 8), y)

    # A reduction too long for the tile's immediate offsets (R = 576: the
    # second column is 1144 bytes on, past LDRD's 1020) and a conv whose
    # R = 64 * 9 = 576 takes the same path; dsp_wide4 is that conv with
    # 4-bit weights (the packed tile's offsets past LDRD's range).
    md = Model("dsp_wide", 12)
    x = md.qdq("x", 0.05, 3, I8)
    y = md.matmul(x, 576, 6, I8, wmax=60)
    y = md.qdq(y, 1.5, -2, I8)
    sh = md.const(np.array([2, 64, 3, 3], np.int64), "sh")
    x2 = md.tmp("rs")
    md.nodes.append(helper.make_node("Reshape", [x, sh], [x2]))
    x2 = md.qdq(x2, 0.05, 3, I8)
    c = md.conv(x2, 0.05, 64, 4, (3, 3), I8, True, wmax=60, pads=[1, 1, 1, 1])
    c = md.qdq(c, 1.0, 0, I8)
    f = md.tmp("flat")
    md.nodes.append(helper.make_node("Flatten", [c], [f]))
    f = md.qdq(f, 1.0, 0, I8)
    cat = md.tmp("cat")
    md.nodes.append(helper.make_node("Concat", [y, f], [cat], axis=1))
    cat = md.qdq(cat, 1.5, -2, I8)
    md.save(outdir, (2, 576), cat)

    md = Model("dsp_wide4", 15)
    x = md.qdq("x", 0.05, 3, I8)
    c = md.conv(x, 0.05, 64, 5, (3, 3), I8, True, wmax=7, pads=[1, 1, 1, 1])
    c = md.qdq(c, 0.08, 0, I8)
    md.save(outdir, (1, 64, 3, 4), c)

    # The one-channel, four-column DSP tile (chans4_asm): a 3x3 conv over
    # 32 channels (R = 288: two column pointers) with 35 outputs a batch
    # (three left for the two- and one-column tiles) into u8 (USAT), and
    # a matmul of 10 rows of K = 224 (two pointers again) whose outputs
    # are 6 apart.
    md = Model("dsp_four", 16)
    x = md.qdq("x", 0.05, 3, I8)
    y1 = md.qdq(md.conv(x, 0.05, 32, 5, (3, 3), I8, True, wmax=60, pads=[1, 1, 1, 1]), 0.6, 120, U8)
    sh = md.const(np.array([10, 224], np.int64), "sh")
    x2 = md.tmp("rs")
    md.nodes.append(helper.make_node("Reshape", [x, sh], [x2]))
    x2 = md.qdq(x2, 0.05, 3, I8)
    y2 = md.qdq(md.matmul(x2, 224, 6, I8, wmax=60), 0.8, -3, I8)
    md.save(outdir, (2, 32, 5, 7), y1, extra=[y2])

    # The same tile on 4-bit codes (weights within +-7 pack two to a
    # byte), its table in a 14th register: R = 288 (two column pointers)
    # and R = 144 (one).
    md = Model("dsp_four4", 17)
    x = md.qdq("x", 0.05, 3, I8)
    y1 = md.qdq(md.conv(x, 0.05, 32, 16, (3, 3), I8, True, wmax=7, bmax=300, pads=[1, 1, 1, 1]), 0.08, -5, I8)
    y2 = md.qdq(md.conv(y1, 0.08, 16, 5, (3, 3), I8, True, wmax=7, bmax=300, pads=[1, 1, 1, 1]), 0.1, 4, I8)
    md.save(outdir, (1, 32, 5, 6), y2, extra=[y1])

    # Per-channel requantization that mixes left and right shifts (weight
    # scales over three decades: multipliers from ~0.01 to ~4), small
    # weights so that the large-multiplier channels do not just saturate.
    md = Model("rq_mixed", 13)
    x = md.qdq("x", 0.05, 1, I8)
    w = md.rng.integers(-6, 7, size=(6, 4, 3, 3)).astype(np.int8)
    ws = np.array([0.0005, 0.002, 0.01, 0.05, 0.2, 0.8], np.float32)
    wd = md.tmp("wdq")
    md.nodes.append(helper.make_node("DequantizeLinear", [md.const(w, "w"), md.const(ws, "ws"),
                                                          md.const(np.zeros(6, np.int8), "wz")], [wd], axis=0))
    b = md.bias(6, 0.05, ws, 40)
    c = md.tmp("conv")
    md.nodes.append(helper.make_node("Conv", [x, wd, b], [c], pads=[1, 1, 1, 1]))
    y = md.qdq(c, 0.01, -3, I8)
    md.save(outdir, (1, 4, 6, 7), y)

    # Depthwise convs whose channels requantize both ways (r >= 1 and r
    # = 0, some shifting left), which the DSP kernel branches on per
    # channel: 3x3 output pairs into i8, then a 5x3 (one output at a
    # time) into u8.
    md = Model("dw_mixed", 18)
    x = md.qdq("x", 0.05, 1, I8)
    y = x
    for i, (k, pads, zy, dt) in enumerate([((3, 3), [1, 1, 1, 1], -3, I8), ((5, 3), [2, 1, 2, 1], 120, U8)]):
        # weights within +-1 on the channels that shift left or not at
        # all, so that they do not just saturate
        wmax = np.array([6, 1, 6, 1, 6, 6]).reshape(6, 1, 1, 1)
        w = np.clip(md.rng.integers(-6, 7, size=(6, 1) + k), -wmax, wmax).astype(np.int8)
        ws = np.array([0.0005, 0.2 if i == 0 else 1.0, 0.01, 0.3, 0.05, 0.002], np.float32)
        wd = md.tmp("wdq")
        md.nodes.append(helper.make_node("DequantizeLinear", [md.const(w, "w"), md.const(ws, "ws"),
                                                              md.const(np.zeros(6, np.int8), "wz")], [wd], axis=0))
        xs = 0.05 if i == 0 else 0.02
        b = md.bias(6, xs, ws, 40)
        c = md.tmp("dw")
        md.nodes.append(helper.make_node("Conv", [y, wd, b], [c], group=6, pads=pads))
        y = md.qdq(c, 0.02, zy, dt)
        if i == 0:
            y1 = y
    md.save(outdir, (2, 6, 7, 9), y, extra=[y1])

    # The DSP depthwise kernel's output pairs (3x3, dilation 1): column
    # stride 1 with an odd output width (the single-output tail), then
    # stride 2 with TF-style asymmetric padding, per-channel weights,
    # batch 2; then u8 weights around a zero point of 100.
    md = Model("dsp_dw", 14)
    x = md.qdq("x", 0.05, -4, I8)
    y = md.conv(x, 0.05, 6, 6, (3, 3), I8, True, group=6, bmax=300, pads=[1, 1, 1, 1])
    y = md.qdq(y, 0.15, 2, I8)
    y = md.conv(y, 0.15, 6, 6, (3, 3), I8, True, group=6, bmax=300, strides=[2, 2], pads=[0, 0, 1, 1])
    y = md.qdq(y, 0.4, -1, I8)
    # and u8 weights whose w - zw passes i8 (the taps as words, not bytes)
    w = md.rng.integers(0, 256, size=(6, 1, 3, 3)).astype(np.uint8)
    w[:, 0, 1, 1] = 255
    ws = (md.rng.random(6) * 0.01 + 0.005).astype(np.float32)
    y = md.coded_conv(y, 0.4, w, ws, np.full(6, 100, np.uint8), 300, group=6, pads=[1, 1, 1, 1])
    y = md.qdq(y, 1.5, 3, I8)
    md.save(outdir, (2, 6, 9, 11), y)

    # For the NEON tiles (4 channels x 4 columns, R padded to 16): u8
    # activations with zero point 200 (stored less 128) saturating at 0,
    # u8 weights around 128 with every code, so that w - zw reaches -128
    # (products then widen one by one); then i8 activations saturating at
    # -128 against i8 weights up to +-127 (products summed in pairs at
    # their bound); M = 7 and 6 (tails of 3 and 2 channels), 63 pixels (15
    # tiles of four columns, then two and one), R = 45, 7 and 6 (padded) and
    # 16, and a matmul with K = 189.
    md = Model("neon_edges", 16)
    x = md.qdq("x", 0.01, 200, U8)
    w = md.rng.integers(0, 256, size=(7, 5, 3, 3)).astype(np.uint8)
    w[:, 0, 0, 0] = w[:, 0, 2, 2] = 0  # r = 0 and 8: one pair of lanes
    ws = (md.rng.random(7) * 0.002 + 0.001).astype(np.float32)
    c = md.coded_conv(x, 0.01, w, ws, np.full(7, 128, np.uint8), 3000, pads=[1, 1, 1, 1])
    y = y1 = md.qdq(c, 0.05, -100, I8)
    y = md.conv(y, 0.05, 7, 6, (1, 1), I8, True, wmax=127)
    y = md.qdq(y, 0.01, 5, I8)
    y2 = md.conv(y, 0.01, 6, 10, (1, 1), I8, False, wmax=127)
    y2 = md.qdq(y2, 0.01, 5, I8)
    cat = md.tmp("cat")
    md.nodes.append(helper.make_node("Concat", [y, y2], [cat], axis=1))
    cat = md.qdq(cat, 0.01, 5, I8)
    c16 = md.conv(cat, 0.01, 16, 3, (1, 1), I8, True, wmax=127)
    c16 = md.qdq(c16, 0.02, 0, I8)
    f = md.tmp("flat")
    md.nodes.append(helper.make_node("Flatten", [c16], [f]))
    f = md.qdq(f, 0.02, 0, I8)
    y = md.matmul(f, 3 * 7 * 9, 5, I8, wmax=127)
    y = md.qdq(y, 0.5, 0, I8)
    # a third of the inputs at code 0 (x_col = -128), the first conv's
    # output as a second graph output
    x = md.rng.standard_normal((1, 5, 7, 9))
    x[md.rng.random(x.shape) < 0.35] = -3.0
    md.save(outdir, (1, 5, 7, 9), y, extra=[y1], x=x.astype(np.float32))

    # The NEON depthwise kernel (vectors of 8 outputs along a row, a
    # partial last vector): u8 activations, 3x3 at stride 1 over a row of
    # 37 (4 vectors and 5 left), u8 per-channel weights, then 5x3 at
    # column stride 2 with dilation (2, 2) and asymmetric pads (17 outputs
    # per row: 2 vectors and 1 left), then 1x1 (one tap), batch 2.
    # The pointwise kernel over NCHW (x86, and NEON up to 32 channels) at
    # both ends: u8 in, 4 -> 12 channels over 333 pixels (C padded to 8,
    # an overlapping last block of 8 pixels), and i8 in, 12 -> 7 over 68
    # pixels (a 3-channel tail).
    md = Model("neon_dw", 17)
    x = md.qdq("x", 0.04, 120, U8)
    y = md.conv(x, 0.04, 4, 12, (1, 1), U8, True, wmax=100, bmax=300)
    y = md.qdq(y, 0.04, 125, U8)
    # a second output: a regular conv over every input plane (12 input
    # channels, a loop trip each) at stride 2 with asymmetric pads, u8 in,
    # 4 x 18 outputs per channel
    y1 = md.conv(y, 0.04, 12, 5, (3, 3), I8, True, bmax=3000, strides=[2, 2], pads=[1, 1, 0, 0])
    y1 = md.qdq(y1, 0.3, 3, I8)
    y = md.conv(y, 0.04, 12, 12, (3, 3), U8, True, group=12, wmax=100, bmax=300, pads=[1, 1, 1, 1])
    y = md.qdq(y, 0.1, 130, U8)
    y = md.conv(y, 0.1, 12, 12, (5, 3), I8, True, group=12, bmax=300, strides=[1, 2], pads=[2, 1, 1, 0],
                dilations=[2, 2])
    y = md.qdq(y, 0.2, -3, I8)
    y = md.conv(y, 0.2, 12, 12, (1, 1), I8, False, group=12, bmax=300)
    y = md.qdq(y, 0.3, 2, I8)
    y = md.conv(y, 0.3, 12, 7, (1, 1), I8, True, bmax=3000)
    y = md.qdq(y, 0.5, -7, I8)
    md.save(outdir, (2, 4, 9, 37), y, extra=[y1])

    # Requantization's rounding on every i8 accumulator value: a matmul
    # with K = 1 and unit weights whose per-column ratios (0.25, 0.5, 3,
    # 0.001) give ties of both signs, left shifts and saturation; 256 rows
    # (every x code) through the SIMD tiles' vector requantization.
    md = Model("rq_ties", 18)
    x = md.qdq("x", 1.0, 0, I8)
    ws = np.array([0.25, 0.5, 3.0, 0.001], np.float32)
    wd = md.tmp("wdq")
    md.nodes.append(helper.make_node("DequantizeLinear", [md.const(np.ones((1, 4), np.int8), "w"), md.const(ws, "ws"),
                                                          md.const(np.zeros(4, np.int8), "wz")], [wd], axis=1))
    mm = md.tmp("mm")
    md.nodes.append(helper.make_node("MatMul", [x, wd], [mm]))
    y = md.qdq(mm, 1.0, 0, I8)
    md.save(outdir, (256, 1), y, x=np.arange(-128, 128, dtype=np.float32).reshape(256, 1))

    # 2-bit weights whose every channel fits the packing as it is (zero
    # point 2: w - z in [-2, 1], nothing negated), per-channel scales,
    # u8 outputs: the Cortex-M channel-pair loop at 2 bits (its sums
    # scaled by 64), looped and unrolled, next to dsp_lowbit's negated
    # channels.
    md = Model("dsp_w2", 20)
    x = md.qdq("x", 0.05, 3, I8)
    w = md.rng.integers(0, 4, size=(8, 16, 3, 3)).astype(np.uint8)
    ws = (md.rng.random(8) * 0.05 + 0.02).astype(np.float32)
    c = md.coded_conv(x, 0.05, w, ws, np.full(8, 2, np.uint8), 800, pads=[1, 1, 1, 1])
    y = md.qdq(c, 0.08, 120, U8)
    # and a reduction of 48 (8 x 3 x 2), which the loop unrolls whole
    w = md.rng.integers(0, 4, size=(6, 8, 3, 2)).astype(np.uint8)
    ws = (md.rng.random(6) * 0.05 + 0.02).astype(np.float32)
    y2 = md.qdq(md.coded_conv(y, 0.08, w, ws, np.full(6, 2, np.uint8), 600), 0.1, -4, I8)
    md.save(outdir, (1, 16, 6, 7), y, extra=[y2])

    # Weights of +-1 (binary: two channels' bits per byte) and of -1, 0, 1
    # (ternary, 2-bit codes) on the DSP's table-unpacked tiles: odd channel
    # counts, R = 54 (not a multiple of 4, unrolled whole) and R = 216 and
    # 144 (loops), and multipliers from 1/8 to 2 per channel, so that
    # some channels shift left and some not at all (be_rq_rows' rows of 4);
    # then a binary matmul with K = 50.
    md = Model("dsp_pm1", 21)
    x = md.qdq("x", 0.05, 3, I8)
    # ternary, R = 216, per-channel multipliers 1/8 .. 2
    w = md.rng.integers(-1, 2, size=(6, 24, 3, 3)).astype(np.int8)
    ws = np.array([0.5, 1, 2, 4, 8, 3], np.float32)
    y1 = md.qdq(md.coded_conv(x, 0.05, w, ws, np.zeros(6, np.int8), 300, pads=[1, 1, 1, 1]), 0.4, 5, I8)
    # binary, R = 54 from it, 7 channels
    w = (md.rng.integers(0, 2, size=(7, 6, 3, 3)) * 2 - 1).astype(np.int8)
    ws = np.array([0.5, 1, 2, 4, 8, 1.5, 3], np.float32)
    y = md.qdq(md.coded_conv(y1, 0.4, w, ws, np.zeros(7, np.int8), 300, pads=[1, 0, 1, 2]), 3.0, -6, I8)
    # binary, R = 144, 5 channels
    w = (md.rng.integers(0, 2, size=(5, 24, 3, 2)) * 2 - 1).astype(np.int8)
    ws = np.array([0.5, 1, 2, 4, 8], np.float32)
    x2 = md.qdq(md.coded_conv(x, 0.05, w, ws, np.zeros(5, np.int8), 300, strides=[2, 1]), 0.4, 5, I8)
    f = md.tmp("flat")
    md.nodes.append(helper.make_node("Flatten", [x2], [f]))
    f = md.qdq(f, 0.4, 5, I8)
    wm = (md.rng.integers(0, 2, size=(50, 5)) * 2 - 1).astype(np.int8)
    y3 = md.qdq(md.coded_matmul(f, wm, np.float32(0.3), np.int8(0)), 0.5, 1, I8)
    md.save(outdir, (2, 24, 5, 6), y, extra=[y3])

    # Output planes of 4,620 pixels: the DSP's channel-pair asm stores the
    # second channel's outputs past STRB's 4095-byte offset (int8 weights,
    # and ternary ones with left shifts).
    md = Model("dsp_plane", 22)
    x = md.qdq("x", 0.05, -3, I8)
    y = md.qdq(md.conv(x, 0.05, 3, 4, (3, 3), I8, True, pads=[1, 1, 1, 1]), 0.3, 2, I8)
    w = md.rng.integers(-1, 2, size=(5, 4, 1, 1)).astype(np.int8)
    ws = np.array([2, 4, 8, 16, 6], np.float32)
    y = md.qdq(md.coded_conv(y, 0.3, w, ws, np.zeros(5, np.int8), 100), 1.5, -1, I8)
    md.save(outdir, (1, 3, 70, 66), y)

    # The input quantize's edge values: NaN (to the zero point), +-inf and
    # out-of-range values (saturated), ties of both signs (half to even),
    # -0, denormals; i8 and u8 with nonzero zero points, each into a conv.
    md = Model("quant_edges", 19)
    edge = np.array([np.nan, np.inf, -np.inf, 1e10, -1e10, 3e9, -3e9, 2.5e38, 0.25, 0.75, -0.25, -0.75, 1.25,
                     -1.25, 63.25, -64.25, 63.75, -65.75, 0.125, -0.0, 1e-30, -1e-40, 1.5, 2.5, -1.5, -2.5,
                     100, -100, 50.5, -50.5, 0.6, -0.6], np.float32)
    xv = np.concatenate([edge, np.linspace(-80, 80, 32).astype(np.float32)]).reshape(1, 4, 4, 4)
    x = md.qdq("x", 0.5, -3, I8)
    y = md.qdq(md.conv(x, 0.5, 4, 4, (1, 1), I8, False), 0.7, 4, I8)
    x2 = md.qdq("x", 0.25, 200, U8)
    y2 = md.qdq(md.conv(x2, 0.25, 4, 3, (1, 1), I8, True), 0.3, 100, U8)
    md.save(outdir, (1, 4, 4, 4), y, extra=[y2], x=xv)

    # Wide reductions over i16 activations: accumulator bounds past 2^30,
    # where the 32-bit requantization does not hold (the exact 64-bit
    # rule: the compact kernels' second form), a 3x3 conv of 40 channels
    # with a nonzero input zero point and a matmul of 300.
    md = Model("wide_i16", 23)
    x = md.qdq("x", 0.001, 21, I16)
    w = (md.rng.integers(0, 2, size=(6, 40, 3, 3)) * 254 - 127).astype(np.int8)
    ws = np.full(6, 0.004, np.float32)
    y = md.qdq(md.coded_conv(x, 0.001, w, ws, np.zeros(6, np.int8), 2000, pads=[1, 1, 1, 1]), 0.5, -9, I16)
    f = md.tmp("flat")
    md.nodes.append(helper.make_node("Flatten", [y], [f], axis=1))
    w2 = (md.rng.integers(0, 2, size=(300, 5)) * 200 - 100).astype(np.int8)
    y2 = md.qdq(md.coded_matmul(f, w2, np.float32(0.01), np.int8(0)), 40.0, 3, I16)
    md.save(outdir, (1, 40, 5, 10), y, extra=[y2])

    # Float biases on channels whose multiplier is 2 or more (fold-qdq's
    # fine bias: those channels' weights become (w - zw) * 2^e at scale
    # sw / 2^e, so the layer mixes 2-bit and 8-bit ranges): a 2-bit u8
    # depthwise conv with gains from 0.01 to 20 on an input at 0.05 and an
    # output at 0.1, then a pointwise conv whose float biases are off the
    # accumulator's grid, with two channels of large scale; a conv with
    # per-tensor weights and float biases.
    md = Model("fine_bias", 25)
    x = md.qdq("x", 0.05, -20, I8)
    w = md.rng.integers(0, 4, size=(8, 1, 3, 3)).astype(np.uint8)
    ws = np.array([0.01, 20.0, 0.3, 6.0, 0.05, 13.0, 2.5, 0.8], np.float32)
    fb = md.rng.standard_normal(8) * 0.7
    d = md.qdq(md.coded_conv(x, 0.05, w, ws, np.array([1, 2, 1, 1, 2, 2, 0, 3], np.uint8), 0, fbias=fb,
                             group=8, pads=[1, 1, 1, 1]), 0.1, 3, I8)
    w = md.rng.integers(-7, 8, size=(6, 8, 1, 1)).astype(np.int8)
    ws = np.array([0.02, 0.9, 0.04, 3.0, 0.01, 0.05], np.float32)
    fb = md.rng.standard_normal(6) * 0.9
    y = md.qdq(md.coded_conv(d, 0.1, w, ws, np.zeros(6, np.int8), 0, fbias=fb), 0.12, -4, I8)
    # per-tensor weights (scale 0.5, multiplier 2.5): made per channel
    wd = md.tmp("wdq")
    md.nodes.append(helper.make_node("DequantizeLinear", [
        md.const(md.rng.integers(-3, 4, size=(5, 6, 1, 1)).astype(np.int8), "w"),
        md.const(np.float32(0.5), "ws"), md.const(np.int8(0), "wz")], [wd]))
    c = md.tmp("conv")
    md.nodes.append(helper.make_node("Conv", [y, wd, md.const((md.rng.standard_normal(5) * 0.8).astype(np.float32),
                                                              "fb")], [c]))
    y = md.qdq(c, 0.024, 6, I8)
    md.save(outdir, (2, 8, 9, 7), y)

    # The compact kernels' less common paths: a u8 depthwise conv whose
    # rows are wider than a tile of sums (70 > 64) and whose plane is
    # filled four pixels a word with a remainder; a pointwise conv of 350
    # positions (a last quad of two); matmuls of 20, 6 and 3 inputs (an
    # odd count of 4-element steps in the one-column loop, and a row too
    # short for a word).
    md = Model("os_paths", 24)
    x = md.qdq("x", 0.03, 120, U8)
    d = md.qdq(md.conv(x, 0.03, 3, 3, (3, 3), I8, True, group=3, pads=[1, 1, 1, 1]), 0.05, 100, U8)
    y = md.qdq(md.conv(d, 0.05, 3, 5, (1, 1), I8, True), 0.1, 7, I8)
    c = md.qdq(md.conv(x, 0.03, 3, 20, (3, 3), I8, True, strides=[2, 2]), 0.08, -5, I8)
    g = md.tmp("gap")
    md.nodes.append(helper.make_node("GlobalAveragePool", [c], [g]))
    g = md.qdq(g, 0.02, 3, I8)
    f = md.tmp("flat")
    md.nodes.append(helper.make_node("Flatten", [g], [f], axis=1))
    m1 = md.qdq(md.matmul(f, 20, 6, I8), 0.3, 2, I8)
    m2 = md.qdq(md.matmul(m1, 6, 3, I8), 0.5, -1, I8)
    m3 = md.qdq(md.matmul(m2, 3, 4, I8), 0.4, 0, I8)
    # depthwise kernels other than 3x3, whose taps the DSP takes in pairs
    # along the row: 5x5 at stride (1, 2) (an odd last tap per row) and
    # 2x4 (pairs only) with asymmetric pads
    d5 = md.qdq(md.conv(x, 0.03, 3, 3, (5, 5), I8, True, group=3, strides=[1, 2], pads=[2, 2, 2, 2]),
                0.06, -4, I8)
    d24 = md.qdq(md.conv(x, 0.03, 3, 3, (2, 4), I8, True, group=3, pads=[0, 1, 1, 2]), 0.05, 90, U8)
    md.save(outdir, (1, 3, 5, 70), y, extra=[m3, d5, d24])

    # The x86 AVX512-VNNI kernels (backends/llvm/l_int_x86.c) at their
    # edges, on an i8 input of 2 images (13 x 21 x 37):
    md = Model("x86_edges", 26)
    x = md.qdq("x", 0.05, -3, I8)
    # channel quads: 13 input channels (a tail quad), 19 outputs (two
    # groups of 8 and a tail of 3), stride 2 with an odd left pad (the
    # column phases start on the odd one), rows of 19 (the last vector
    # overlaps the one before)
    a = md.qdq(md.conv(x, 0.05, 13, 19, (3, 3), I8, True, strides=[2, 2], pads=[1, 1, 0, 2]), 0.2, 5, I8)
    # rows of 7 at stride (1, 3): two rows a vector, an odd count of rows
    # (the last pair overlaps), u8 out
    b = md.qdq(md.conv(a, 0.2, 19, 9, (3, 3), I8, True, wmax=60, strides=[1, 3], pads=[1, 1, 0, 1]),
               0.15, 110, U8)
    # a pointwise conv as one row of 777 pixels (48 vectors and an
    # overlapping one), one output (the tail group alone), u8 out; then
    # tap mode over its one channel: a 3 x 5 kernel (two groups of taps),
    # dilation (2, 1), stride (1, 2), asymmetric pads, 11 outputs
    p = md.qdq(md.conv(x, 0.05, 13, 1, (1, 1), I8, True), 0.1, 120, U8)
    c = md.qdq(md.conv(p, 0.1, 1, 11, (3, 5), I8, True, wmax=90, strides=[1, 2], dilations=[2, 1],
                       pads=[2, 2, 1, 3]), 0.3, -2, I8)
    # tap mode over 2 channels (11 x 19, from a strided 1 x 1 conv) with
    # blocks of two rows a vector: rows of 6 at stride (2, 3), 5 rows
    p2 = md.qdq(md.conv(x, 0.05, 13, 2, (1, 1), I8, True, strides=[2, 2]), 0.1, 120, U8)
    c2 = md.qdq(md.conv(p2, 0.1, 2, 6, (2, 4), I8, True, strides=[2, 3], pads=[0, 1, 0, 0]), 0.2, 3, I8)
    # tap mode on rows of 5: blocks of three rows a vector (one load each
    # kernel row), 19 rows (the last block overlapping)
    p4 = md.qdq(md.conv(x, 0.05, 13, 1, (1, 1), I8, True, strides=[1, 3]), 0.1, 110, U8)
    c5 = md.qdq(md.conv(p4, 0.1, 1, 7, (3, 4), I8, True, strides=[1, 2]), 0.2, -3, I8)
    # column stride 4: four phases (interleaved a row at a time)
    c4 = md.qdq(md.conv(x, 0.05, 13, 5, (3, 3), I8, True, strides=[2, 4], pads=[1, 2, 0, 0]), 0.2, 1, I8)
    # one channel quad (3 channels, as an RGB input): the loop runs over
    # the 9 taps, stride 2, pads at the end only
    p3 = md.qdq(md.conv(x, 0.05, 13, 3, (1, 1), I8, True), 0.1, 90, U8)
    c3 = md.qdq(md.conv(p3, 0.1, 3, 8, (3, 3), I8, True, strides=[2, 2], pads=[0, 0, 1, 1]), 0.2, -6, I8)
    # 3 x 5 outputs, then a pointwise conv of 15 pixels (one masked
    # vector) whose bias is too large for the 32-bit requantization (the
    # exact one, on 16 lanes)
    e0 = md.qdq(md.conv(a, 0.2, 19, 12, (3, 3), I8, True, strides=[3, 4]), 0.25, 0, I8)
    e = md.qdq(md.conv(e0, 0.25, 12, 20, (1, 1), I8, True, bmax=1500000000), 50000.0, 1, I8)
    # channel mode (16 output channels a vector) for pointwise convs of 18
    # pixels (3 x 6: tiles of 8, 8 and 2): i8 in, 32 outputs (one group of
    # two vectors) to u8 at zero point 0 (the floor clamps, as after a
    # relu); u8 in with 13 channels (a tail quad), 48 outputs (a group and
    # a single vector)
    e1 = md.qdq(md.conv(a, 0.2, 19, 12, (3, 3), I8, True, strides=[3, 3]), 0.25, 0, I8)
    cm1 = md.qdq(md.conv(e1, 0.25, 12, 32, (1, 1), I8, True), 0.1, 0, U8)
    eu = md.qdq(md.conv(a, 0.2, 19, 13, (3, 3), I8, True, strides=[3, 3]), 0.25, 100, U8)
    cm2 = md.qdq(md.conv(eu, 0.25, 13, 48, (1, 1), I8, True), 0.3, -5, I8)
    # depthwise: rows of 19 at stride 2 (an overlapping last vector), i8 at
    # zero point -128 (the floor clamps);
    # rows of 7 at stride 1 (blocks of two rows), u8 in; 5 x 5
    # dilated by 2 (two groups of taps a kernel row); 1 x 9 at stride 2
    f1 = md.qdq(md.conv(x, 0.05, 13, 13, (3, 3), I8, True, group=13, strides=[2, 2], pads=[1, 1, 1, 1]),
                0.05, -128, I8)
    f2 = md.qdq(md.conv(b, 0.15, 9, 9, (3, 3), I8, True, group=9, pads=[1, 1, 1, 1]), 0.1, 100, U8)
    f3 = md.qdq(md.conv(x, 0.05, 13, 13, (5, 5), I8, True, group=13, dilations=[2, 2], pads=[4, 4, 4, 4]),
                0.1, 2, I8)
    f4 = md.qdq(md.conv(x, 0.05, 13, 13, (1, 9), I8, True, group=13, strides=[1, 2], pads=[0, 3, 0, 4]),
                0.1, -4, I8)
    # blocks of whole rows: 9 x 7 at stride 1 (two rows a vector, the last
    # block overlapping), 5 x 4 at stride 2 (four rows a vector)
    f5 = md.qdq(md.conv(b, 0.15, 9, 9, (3, 3), I8, True, group=9, strides=[2, 2], pads=[1, 1, 1, 1]),
                0.1, -2, I8)
    # an integer add of two i8 tensors of 20,202 elements (the last
    # vector masked)
    s = md.tmp("add")
    md.nodes.append(helper.make_node("Add", [x, f3], [s]))
    s = md.qdq(s, 0.12, 4, I8)
    # whole-plane averages (VPSADBW sums): an i8 AveragePool over 11 x 19
    # (rounded), a u8 GlobalAveragePool over 21 x 37 (requantized)
    ap = md.tmp("ap")
    md.nodes.append(helper.make_node("AveragePool", [f1], [ap], kernel_shape=[11, 19]))
    ap = md.qdq(ap, 0.1, -1, I8)
    gp = md.tmp("gp")
    md.nodes.append(helper.make_node("GlobalAveragePool", [p], [gp]))
    gp = md.qdq(gp, 0.02, 7, I8)
    md.save(outdir, (2, 13, 21, 37), b, extra=[c, c2, e, f1, f2, f3, f4, s, ap, gp, cm1, cm2, f5, c3, c4, c5])


    # Channel loops in sections (l_int_dsp.c's rq_runs): per-channel
    # multipliers below 1/2 (r >= 1), in [1/2, 1) (r = 0) and above 1 (left
    # shifts) in runs.  8-bit weights, 20 channels in 5 runs over 49 pixels
    # (12 four-column tiles and one column, whose channel pairs form 6
    # runs, some of mixed pairs); 2-bit affine ones alternating by pairs
    # over 18 channels (more runs of channels and of pairs than sections:
    # the per-channel branch), whose zero points of 1 put w - zw in [-1, 2]
    # (stored negated, the sign in the rows' multipliers), over 35 pixels
    # (8 tiles, two columns and one); 4-bit ones around zero points 7
    # (negated) and 8, 11 channels in 2 runs (5 pairs and a last channel),
    # R = 162 (a loop, not unrolled).
    md = Model("dsp_runs", 27)
    x = md.qdq("x", 0.05, 3, I8)
    mult = np.full(20, 0.3)
    mult[[1, 3]] = [0.05, 0.45]
    mult[[5, 6]] = [0.6, 0.9]
    mult[13] = 1.5
    y1 = md.qdq(md.coded_conv(x, 0.05, md.rng.integers(-100, 101, size=(20, 16, 1, 1)).astype(np.int8),
                              (mult * 0.2 / 0.05).astype(np.float32), np.zeros(20, np.int8), 2000), 0.2, -2, I8)
    mult = np.where(np.arange(18) // 2 % 2 == 0, 0.2, 0.7)
    mult[[7, 11]] = [3.0, 0.25]
    y2 = md.qdq(md.coded_conv(y1, 0.2, md.rng.integers(0, 4, size=(18, 20, 1, 3)).astype(np.uint8),
                              (mult * 0.3 / 0.2).astype(np.float32),
                              np.where(np.arange(18) % 3 == 0, 1, 2).astype(np.uint8), 300), 0.3, 1, I8)
    mult = np.array([0.1, 0.2, 0.3, 0.4, 0.15, 0.25, 0.6, 0.8, 1.2, 0.7, 2.0])
    y3 = md.qdq(md.coded_conv(y2, 0.3, md.rng.integers(0, 16, size=(11, 18, 3, 3)).astype(np.uint8),
                              (mult * 0.5 / 0.3).astype(np.float32),
                              np.array([7, 8, 7, 7, 8, 8, 7, 8, 7, 7, 8], np.uint8), 300,
                              pads=[1, 1, 1, 1]), 0.5, 0, I8)
    # ternary, 7x7 over 16 channels: R = 784, beyond what the four-column
    # loop unrolls with packed weights (576), whose table then takes the
    # loop end's register (the end from the asm's stack)
    mult = np.array([0.1, 0.3, 0.7, 0.2, 0.05])
    y4 = md.qdq(md.coded_conv(x, 0.05, md.rng.integers(-1, 2, size=(5, 16, 7, 7)).astype(np.int8),
                              (mult * 0.4 / 0.05).astype(np.float32), np.zeros(5, np.int8), 300,
                              pads=[3, 3, 3, 3]), 0.4, -1, I8)
    md.save(outdir, (1, 16, 7, 7), y3, extra=[y1, y2, y4])

    # Packed weights over a reduction past ADDW's 12-bit immediate: 2- and
    # 4-bit 7x7 convs over 66 channels (R4 = 3236: past the four-column
    # loop's stack, so the two-column tile, whose second column lies
    # 6464 bytes on, reached by MOVW and an ADD), 25 pixels (12 pairs and
    # a single column); 2-bit zero points 1 (stored negated) and 2.
    md = Model("dsp_long", 31)
    x = md.qdq("x", 0.05, 3, I8)
    mult = np.array([0.1, 0.3, 0.7])
    y1 = md.qdq(md.coded_conv(x, 0.05, md.rng.integers(0, 4, size=(3, 66, 7, 7)).astype(np.uint8),
                              (mult * 0.4 / 0.05 / 40).astype(np.float32), np.array([1, 2, 2], np.uint8), 300,
                              pads=[3, 3, 3, 3]), 0.4, -1, I8)
    y2 = md.qdq(md.coded_conv(x, 0.05, md.rng.integers(0, 16, size=(3, 66, 7, 7)).astype(np.uint8),
                              (mult * 0.4 / 0.05 / 200).astype(np.float32), np.array([7, 8, 8], np.uint8), 300,
                              pads=[3, 3, 3, 3]), 0.4, -1, I8)
    md.save(outdir, (1, 66, 5, 5), y1, extra=[y2])

    # A 3x3 conv over 512 channels (R = 4608): two 16-bit columns would
    # take 18.5 KB, over the M4's 16 KB of column stack, so the DSP tile
    # runs on one column (NEON keeps its four: 128 KB there); 8-bit
    # weights and 4-bit ones (zero points 7 and 8), three channels (one
    # pair and one alone), 25 pixels.
    md = Model("dsp_tall", 35)
    x = md.qdq("x", 0.05, 3, I8)
    mult = np.array([0.1, 0.3, 0.7])
    y1 = md.qdq(md.coded_conv(x, 0.05, md.rng.integers(0, 256, size=(3, 512, 3, 3)).astype(np.uint8),
                              (mult * 0.4 / 0.05 / 2000).astype(np.float32), np.array([128, 128, 128], np.uint8), 300,
                              pads=[1, 1, 1, 1]), 0.4, -1, I8)
    y2 = md.qdq(md.coded_conv(x, 0.05, md.rng.integers(0, 16, size=(3, 512, 3, 3)).astype(np.uint8),
                              (mult * 0.4 / 0.05 / 300).astype(np.float32), np.array([7, 8, 8], np.uint8), 300,
                              pads=[1, 1, 1, 1]), 0.4, -1, I8)
    md.save(outdir, (1, 512, 5, 5), y1, extra=[y2])

    # Attention on the integers: q and k (two i8 matmuls of x), the scores
    # matmul(q, transpose(k)) of two activations divided by a constant
    # (fold-qdq takes the division into the requantization), the integer
    # softmax, and matmul(p, v) onto u8; 7 tokens of 12.
    md = Model("attn_i8", 36)
    x = md.qdq("x", 0.05, 0, I8)
    q = md.qdq(md.matmul(x, 12, 12, I8, wmax=60), 0.08, 2, I8)
    k = md.qdq(md.matmul(x, 12, 12, I8, wmax=60), 0.07, -3, I8)
    v = md.qdq(md.matmul(x, 12, 12, I8, wmax=60), 0.06, 0, I8)
    kt, sc, ss, p = md.tmp("kt"), md.tmp("sc"), md.tmp("ss"), md.tmp("p")
    md.nodes.append(helper.make_node("Transpose", [k], [kt], perm=[0, 2, 1]))
    md.nodes.append(helper.make_node("MatMul", [q, kt], [sc]))
    md.nodes.append(helper.make_node("Div", [sc, md.const(np.array(3.4641016, np.float32), "sd")], [ss]))
    sq = md.qdq(ss, 0.1, 0, I8)
    md.nodes.append(helper.make_node("Softmax", [sq], [p], axis=-1))
    pq = md.qdq(p, 1.0 / 256, -128, I8)
    a = md.tmp("a")
    md.nodes.append(helper.make_node("MatMul", [pq, v], [a]))
    md.save(outdir, (1, 7, 12), md.qdq(a, 0.03, 128, U8))

    # Matmuls of two activations with batch dims (the Cortex-M DSP packs
    # B's columns per batch): u8 x [2,5,9] times i8 t^T [2,9,5] (K = 9,
    # a last group of one; odd M and N), and i8 t2 [2,5,6] times t2^T
    # (K = 6, a last group of two).
    md = Model("mm_act", 38)
    xu = md.qdq("x", 0.05, 100, U8)
    t = md.qdq(md.matmul(xu, 9, 9, I8, wmax=60), 0.07, -3, I8)
    t2 = md.qdq(md.matmul(xu, 9, 6, I8, wmax=60), 0.06, 5, I8)
    tt, tt2, y1, y2 = md.tmp("tt"), md.tmp("tt"), md.tmp("y"), md.tmp("y")
    md.nodes.append(helper.make_node("Transpose", [t], [tt], perm=[0, 2, 1]))
    md.nodes.append(helper.make_node("Transpose", [t2], [tt2], perm=[0, 2, 1]))
    md.nodes.append(helper.make_node("MatMul", [xu, tt], [y1]))
    md.nodes.append(helper.make_node("MatMul", [t2, tt2], [y2]))
    md.save(outdir, (2, 5, 9), md.qdq(y1, 0.2, 10, I8), extra=[md.qdq(y2, 0.1, 128, U8)])

    # LayerNorm on the integers: an i8 matmul, LayerNormalization over its
    # 12 features (Scale and B per feature) onto i8, and a matmul onto u8;
    # and x requantized to u8 through a LayerNormalization over its last
    # two axes (one-element Scale and B) onto u8.
    md = Model("ln_i8", 37)
    x = md.qdq("x", 0.05, 0, I8)
    h = md.qdq(md.matmul(x, 12, 12, I8, wmax=60), 0.08, 2, I8)
    n1 = md.tmp("n1")
    g = md.const(md.rng.uniform(0.5, 1.5, 12).astype(np.float32), "g")
    b = md.const(md.rng.normal(0, 0.3, 12).astype(np.float32), "b")
    md.nodes.append(helper.make_node("LayerNormalization", [h, g, b], [n1], axis=-1, epsilon=1e-5))
    y1 = md.qdq(md.matmul(md.qdq(n1, 0.03, -4, I8), 12, 5, I8, wmax=60), 0.1, 128, U8)
    xu, n2 = md.qdq(x, 0.05, 130, U8), md.tmp("n2")
    g2 = md.const(np.array([-1.2], np.float32), "g2")
    b2 = md.const(np.array([0.4], np.float32), "b2")
    md.nodes.append(helper.make_node("LayerNormalization", [xu, g2, b2], [n2], axis=-2, epsilon=1e-3))
    md.save(outdir, (1, 7, 12), y1, extra=[md.qdq(n2, 0.02, 120, U8)])

    # Dense layers at batch 1 over K = 6000 (one column buffer, 12 KB of
    # stack; two would not fit the 16 KB): 8-bit weights, rows past the
    # channel loops' 12-bit offsets (the LLVM tile), and 2-bit ones
    # (chans_asm, one column).
    md = Model("dsp_fc", 33)
    x = md.qdq("x", 0.05, 3, I8)
    y1 = md.qdq(md.coded_matmul(x, md.rng.integers(-100, 101, size=(6000, 10)).astype(np.int8),
                                np.float32(0.0002), np.int8(0)), 0.4, -1, I8)
    y2 = md.qdq(md.coded_matmul(x, md.rng.integers(0, 4, size=(6000, 7)).astype(np.uint8),
                                np.float32(0.004), np.uint8(2)), 0.4, 3, I8)
    md.save(outdir, (1, 6000), y1, extra=[y2])

    # Dense layers too long for any column buffer (K = 9001): the DSP
    # reads x's rows in place, widening them in registers, with the last
    # K % 4 = 1 element alone; two rows.  8-bit and binary weights on i8
    # x; 4-bit ones on u8 (x requantized: one input quantize, for the M0
    # check's --io int).
    md = Model("dsp_direct", 34)
    K = 9001
    xi = md.qdq("x", 0.05, 3, I8)
    xu = md.qdq(xi, 0.05, 130, U8)
    y1 = md.qdq(md.coded_matmul(xi, md.rng.integers(-100, 101, size=(K, 5)).astype(np.int8),
                                np.float32(0.0002), np.int8(0)), 0.4, -1, I8)
    y2 = md.qdq(md.coded_matmul(xi, (md.rng.integers(0, 2, size=(K, 4)) * 2 - 1).astype(np.int8),
                                np.float32(0.01), np.int8(0)), 0.4, 2, I8)
    y3 = md.qdq(md.coded_matmul(xu, md.rng.integers(0, 16, size=(K, 3)).astype(np.uint8),
                                np.float32(0.002), np.uint8(8)), 0.4, 0, I8)
    md.save(outdir, (2, K), y1, extra=[y2, y3])

    # Depthwise planes over the DSP's 16 KB of stack, in bands of output
    # rows (a full band and a shorter last one, halo rows copied again):
    # 3x3 at stride 2 (the pairs' asm) and 5x3 at row dilation 2 (the
    # scalar taps), over 2 x 97 x 130 of i8 (one input quantize: the M0
    # check compiles every model with --io int).
    md = Model("dsp_band", 35)
    xi = md.qdq("x", 0.05, 3, I8)
    y1 = md.qdq(md.conv(xi, 0.05, 2, 2, (3, 3), I8, True, group=2, wmax=60, pads=[1, 1, 1, 1], strides=[2, 2]),
                0.6, 3, I8)
    y2 = md.qdq(md.conv(xi, 0.05, 2, 2, (5, 3), I8, True, group=2, wmax=60, pads=[2, 2, 3, 1],
                        dilations=[2, 1]), 0.6, -4, I8)
    md.save(outdir, (1, 2, 97, 130), y1, extra=[y2])

    # Nearest resize on the integers (its output on its input's grid):
    # x2 by scales (asymmetric, round_prefer_floor) of a conv's i8 output,
    # by sizes to 7 x 11 (half_pixel, floor) of u8, each into a conv.
    md = Model("resize_near", 36)
    x = md.qdq("x", 0.05, 3, I8)
    c = md.qdq(md.conv(x, 0.05, 3, 4, (3, 3), I8, True, wmax=60, pads=[1, 1, 1, 1]), 0.3, -2, I8)
    r1 = md.tmp("rs")
    md.nodes.append(helper.make_node("Resize", [c, "", md.const(np.array([1, 1, 2, 2], np.float32), "sc")], [r1],
                                     mode="nearest", coordinate_transformation_mode="asymmetric"))
    r1 = md.qdq(r1, 0.3, -2, I8)
    y1 = md.qdq(md.conv(r1, 0.3, 4, 3, (3, 3), I8, True, wmax=60, pads=[1, 1, 1, 1]), 0.5, 1, I8)
    xu = md.qdq(x, 0.05, 120, U8)
    r2 = md.tmp("rs")
    md.nodes.append(helper.make_node("Resize", [xu, "", "", md.const(np.array([1, 3, 7, 11], np.int64), "sz")],
                                     [r2], mode="nearest", nearest_mode="floor"))
    r2 = md.qdq(r2, 0.05, 120, U8)
    y2 = md.qdq(md.conv(r2, 0.05, 3, 2, (1, 1), U8, True, wmax=60), 0.2, 128, U8)
    md.save(outdir, (1, 3, 5, 6), y1, extra=[y2])

    # conv_transpose between dequantizes and a quantize, as the integer conv
    # fold-qdq makes of it (zeros inserted by reshape, pad and reshape on
    # the integers; the flipped weights): stride 2 with pads 1 and
    # per-channel weights; strides (3, 2) with output_padding, whose end
    # pad turns into a crop of the conv's input.
    md = Model("convt_q", 37)
    x = md.qdq("x", 0.05, 3, I8)
    outs = []
    for k, attrs in enumerate((dict(strides=[2, 2], pads=[1, 1, 1, 1]),
                               dict(strides=[3, 2], pads=[0, 1, 2, 0], output_padding=[1, 1]))):
        W = md.rng.integers(-100, 101, size=(4, 5, 3, 3)).astype(np.int8)
        ws = (md.rng.random(5) * 0.01 + 0.002).astype(np.float32)
        wd = md.tmp("wdq")
        md.nodes.append(helper.make_node("DequantizeLinear", [md.const(W, "w"), md.const(ws, "ws"),
                                                              md.const(np.zeros(5, np.int8), "wz")], [wd], axis=1))
        y = md.tmp("ct")
        md.nodes.append(helper.make_node("ConvTranspose", [x, wd, md.bias(5, 0.05, ws, 300)], [y], **attrs))
        outs.append(md.qdq(y, 0.3, -5 + 3 * k, I8))
    md.save(outdir, (1, 4, 5, 6), outs[0], extra=outs[1:])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    main(sys.argv[1])
