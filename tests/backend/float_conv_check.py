#!/usr/bin/python3
"""float_conv_check.py QGTC WORKDIR: the float conv kernels' special forms
on the host JIT (`qgtc run --engine native`, the host's widest vectors),
against numpy's float64 convolution: Winograd F(2x2, 3x3) (3x3 at stride
1, with and without padding, 8 to 32 wide), channel mode (1x1 convs on planes
whose pixels would fill under 90% of the vector lanes: 3x3, 6x6, 5x5, 7x7;
with and without bias and relu, batch 1 and 3, 16 to 48 channels) and the
strided row mode's shared kernel-row windows (strides 2 and 3, kernels 3
and 5, dilation 2, padding on both sides, depthwise and grouped), and
depthwise convs at stride 1 sliding along their rows (VALIGND, AVX-512
hosts), also at -mcpu=x86-64-v3 (AVX2).  Every output within 1e-5 of the largest
reference magnitude.  Then each again with 4-bit weights and float
activations (-b 4: where the tiles load a weight more than once, each
block's weights decoded once into scratch) and 3-bit ones on every third case (codes
straddling bytes): the host JIT against the interpreter's run of the same
flags, within 1e-5, every fourth on AArch64 (qemu, validate), and the first
and every fourth from the second on the Cortex-M4 at -O3, whose tiles read
each block's weights decoded once (seen in the first's --emit llvm; on
AArch64 a row at a time by a loop the vectorizer widens, seen in two
cases).  And dense layers (Gemm, trans_b) of 1-, 2- and 4-bit weights,
affine and symmetric, per channel and per tensor, K with and without a partial last
byte (the sub-byte dot product reads a byte at a time): the same two
checks.  And chains of convs through the channel-blocked layout (below)."""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

qgtc, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(11)


def conv_ref(x, w, b, stride, pad, dil, group):
    N, C, H, W = x.shape
    M, cg, KH, KW = w.shape
    (pt, pl, pb, pr) = pad
    xp = np.zeros((N, C, H + pt + pb, W + pl + pr))
    xp[:, :, pt:pt + H, pl:pl + W] = x
    OH = (H + pt + pb - dil * (KH - 1) - 1) // stride + 1
    OW = (W + pl + pr - dil * (KW - 1) - 1) // stride + 1
    y = np.zeros((N, M, OH, OW))
    mg = M // group
    for m in range(M):
        g = m // mg
        for c in range(cg):
            for kh in range(KH):
                for kw in range(KW):
                    r0, c0 = kh * dil, kw * dil
                    y[:, m] += w[m, c, kh, kw] * xp[:, g * cg + c, r0:r0 + stride * (OH - 1) + 1:stride,
                                                     c0:c0 + stride * (OW - 1) + 1:stride]
    if b is not None:
        y += b[None, :, None, None]
    return y


# (name, N, C, M, H, k, stride, pad, dil, group, bias, act); H and k may be
# (rows, columns), pad (top, left, bottom, right); act: True a Relu, "clip6"
# a Clip to [0, 1] (ReLU6's form, at a bound the outputs cross), "clipmax"
# a Clip with only a max
cases = [
    # channel mode by rows: DS-CNN's first conv (whole rows of 5 three to a
    # tile, taps in the padding skipped), 7-wide rows two to a tile with a
    # remainder, 20-wide rows in two groups, several channels and batch 2
    ("kws_first", 1, 1, 64, (49, 10), (10, 4), 2, (4, 1, 5, 1), 1, 1, True, True),
    ("rows7", 2, 3, 16, (17, 13), 3, 2, (1, 1, 1, 1), 1, 1, False, True),
    ("rows20_d2", 1, 4, 32, (12, 24), 3, 1, (2, 0, 2, 0), 2, 1, True, False),
    # Winograd F(2x2, 3x3): one, two and four tile rows a chunk, 8 x 12 of
    # 16 lanes, channels past a block of accumulators, no padding,
    # asymmetric padding, batch 2
    ("wino32", 1, 16, 16, 32, 3, 1, 1, 1, 1, True, True),
    ("wino16_m24_b2", 2, 8, 24, 16, 3, 1, 1, 1, 1, False, False),
    ("wino8", 1, 64, 8, 8, 3, 1, 1, 1, 1, True, True),
    ("wino8_m40", 1, 8, 40, 8, 3, 1, 1, 1, 1, True, True),  # blocks of 16 + 8
    ("wino12_valid", 1, 8, 16, 14, 3, 1, 0, 1, 1, True, False),
    ("wino_asym", 1, 8, 16, (12, 13), 3, 1, (1, 0, 1, 1), 1, 1, True, True),
    # a fused Clip (ReLU6; max only) in channel mode, Winograd and pixel mode
    ("clip6_pw3", 1, 16, 32, 3, 1, 1, 0, 1, 1, True, "clip6"),
    ("clip6_wino16", 1, 8, 16, 16, 3, 1, 1, 1, 1, True, "clip6"),
    ("clipmax_dw", 1, 8, 8, 32, 3, 1, 1, 1, 8, True, "clipmax"),
    ("pw3", 1, 32, 48, 3, 1, 1, 0, 1, 1, True, True),
    ("pw6", 1, 24, 32, 6, 1, 1, 0, 1, 1, False, True),
    ("pw5_b3", 3, 16, 16, 5, 1, 1, 0, 1, 1, True, False),
    ("pw7", 1, 8, 32, 7, 1, 1, 0, 1, 1, True, True),
    ("pw6_m24", 1, 16, 24, 6, 1, 1, 0, 1, 1, True, True),  # M not a multiple of 16
    ("dw3_split", 1, 32, 32, 3, 3, 1, 1, 1, 32, True, True),  # 4 partial sums
    ("dw5_split", 1, 8, 8, 5, 5, 1, 2, 1, 8, False, True),
    ("dw_s2", 1, 16, 16, 23, 3, 2, 1, 1, 16, True, True),
    ("dw_s3_k5", 2, 8, 8, 40, 5, 3, 2, 1, 8, True, False),
    ("dw_s2_d2", 1, 8, 8, 37, 3, 2, 2, 2, 8, False, True),
    ("g2_s2", 1, 8, 12, 30, 3, 2, 1, 1, 2, True, True),
    # depthwise at stride 1 in row mode sliding along the row (AVX-512):
    # VWW's 48x48 plane; a 5x5 kernel at dilation 2 with uneven pads; 40
    # wide (an overlapping last vector: a run of its own); a 1x7 kernel at
    # batch 2; 288 wide (a repeated block); a channel multiplier of 2
    # (not sliding, beside the others)
    ("dw_slide48", 1, 8, 8, 48, 3, 1, 1, 1, 8, True, "clip6"),
    ("dw_slide_k5_d2", 1, 4, 4, (40, 64), 5, 1, (4, 3, 4, 5), 2, 4, False, True),
    ("dw_slide40", 1, 3, 3, (30, 40), 3, 1, 1, 1, 3, True, False),
    ("dw_slide_k7", 2, 2, 2, (20, 80), (1, 7), 1, (0, 3, 0, 3), 1, 2, True, True),
    ("dw_slide_long", 1, 2, 2, (3, 288), 3, 1, 1, 1, 2, True, False),
    ("dw_mult2", 1, 4, 8, (20, 64), 3, 1, 1, 1, 4, True, True),
]
bad = 0
for name, N, C, M, H, k, s, p, d, g, bias, relu in cases:
    H = H if isinstance(H, tuple) else (H, H)
    k = k if isinstance(k, tuple) else (k, k)
    p = p if isinstance(p, tuple) else (p,) * 4
    x = rng.standard_normal((N, C) + H).astype(np.float32)
    w = (rng.standard_normal((M, C // g) + k) * 0.3).astype(np.float32)
    b = rng.standard_normal(M).astype(np.float32) if bias else None
    inits = [nh.from_array(w, "w")] + ([nh.from_array(b, "b")] if bias else [])
    # the activation's output feeds an Add (y = a + a), so that it is no
    # graph output and the memory plan lets the conv kernel apply it
    nodes = [h.make_node("Conv", ["x", "w"] + (["b"] if bias else []), ["c" if relu else "a"],
                         kernel_shape=list(k), strides=[s, s], pads=[p[0], p[1], p[2], p[3]], dilations=[d, d], group=g)]
    if relu is True:
        nodes.append(h.make_node("Relu", ["c"], ["a"]))
    elif relu:
        lo, hi = (0.0, 1.0) if relu == "clip6" else (None, 0.5)
        inits += [nh.from_array(np.array(v, np.float32), nm) for v, nm in ((lo, "lo"), (hi, "hi")) if v is not None]
        nodes.append(h.make_node("Clip", ["c", "lo" if lo is not None else "", "hi"], ["a"]))
    nodes.append(h.make_node("Add", ["a", "a"], ["y"]))
    gr = h.make_graph(nodes, name, [h.make_tensor_value_info("x", T.FLOAT, list(x.shape))],
                      [h.make_tensor_value_info("y", T.FLOAT, None)], inits)
    mdl = h.make_model(gr, opset_imports=[h.make_opsetid("", 13)])
    mdl.ir_version = 8
    d0 = os.path.join(work, name)
    os.makedirs(d0, exist_ok=True)
    onnx.save(mdl, os.path.join(d0, "m.onnx"))
    np.save(os.path.join(d0, "x.npy"), x)
    ref = conv_ref(x.astype(np.float64), w.astype(np.float64), None if b is None else b.astype(np.float64),
                   s, p, d, g)
    if relu is True:
        ref = np.maximum(ref, 0)
    elif relu == "clip6":
        ref = np.clip(ref, 0.0, 1.0)
    elif relu:
        ref = np.minimum(ref, 0.5)
    ref = ref + ref
    out = os.path.join(d0, "native")
    r = subprocess.run([qgtc, "run", os.path.join(d0, "m.onnx"), os.path.join(d0, "x.npy"), "--engine",
                        "native", "--output-dir", out], capture_output=True, text=True)
    if r.returncode:
        print("%s: qgtc run failed: %s" % (name, r.stderr.strip()))
        bad += 1
        continue
    got = np.load(os.path.join(out, "output_0.npy"))
    err = np.abs(got - ref).max() / np.abs(ref).max() if got.shape == ref.shape else np.inf
    ok = err <= 1e-5
    bad += not ok
    print("%s (host JIT): %s, max error %.3g of max |ref|" % (name, "ok" if ok else "FAIL", err))
    # AVX2 (8 lanes): compiled for the host as x86-64-v3, run natively against
    # the interpreter (qgtc validate, within 1e-4)
    r = subprocess.run([qgtc, "validate", os.path.join(d0, "m.onnx"), os.path.join(d0, "x.npy"), "--target",
                        "host", "-mcpu", "x86-64-v3"], capture_output=True, text=True)
    ok = r.returncode == 0 and "validate: ok" in r.stdout
    bad += not ok
    print("%s (x86-64-v3): %s" % (name, "ok" if ok else "FAIL\n" + r.stdout + r.stderr))
    # weight-only quantized: native against the interpreter at the same flags
    ci = [c[0] for c in cases].index(name)
    for bits in ((4, 3) if ci % 3 == 0 else (4,)):
        outs = {}
        for engine in ("interp", "native"):
            o = os.path.join(d0, "b%d_%s" % (bits, engine))
            r = subprocess.run([qgtc, "run", os.path.join(d0, "m.onnx"), os.path.join(d0, "x.npy"), "-b", str(bits),
                                "--engine", engine, "--output-dir", o], capture_output=True, text=True)
            outs[engine] = np.load(os.path.join(o, "output_0.npy")) if r.returncode == 0 else None
        i, nat = outs["interp"], outs["native"]
        err = np.abs(nat - i).max() / np.abs(i).max() if i is not None and nat is not None and nat.shape == i.shape else np.inf
        ok = err <= 1e-5
        bad += not ok
        print("%s -b %d (host JIT vs interpreter): %s, max error %.3g" % (name, bits, "ok" if ok else "FAIL", err))
    if ci % 4 == 0:
        r = subprocess.run([qgtc, "validate", os.path.join(d0, "m.onnx"), os.path.join(d0, "x.npy"), "--target",
                            "aarch64", "-b", "4"], capture_output=True, text=True)
        ok = r.returncode == 0 and "validate: ok" in r.stdout
        bad += not ok
        print("%s -b 4 (aarch64): %s" % (name, "ok" if ok else "FAIL\n" + r.stdout + r.stderr))
    if ci % 4 == 1 or ci == 0:
        # the Cortex-M4's speed kernels (-O3): a block's weights decoded once
        # into scratch (the arena's gaps, else the stack), then scalar tiles
        r = subprocess.run([qgtc, "validate", os.path.join(d0, "m.onnx"), os.path.join(d0, "x.npy"), "--target",
                            "armv7em", "-O3", "-b", "4"], capture_output=True, text=True)
        ok = r.returncode == 0 and "validate: ok" in r.stdout
        bad += not ok
        print("%s -b 4 -O3 (armv7em): %s" % (name, "ok" if ok else "FAIL\n" + r.stdout + r.stderr))
    if name in ("kws_first", "pw3"):
        # AArch64: each block's rows decoded by a loop the vectorizer widens
        # (be_wld_row's "wrow"), also where the tiles load a weight once (pw3)
        r = subprocess.run([qgtc, os.path.join(d0, "m.onnx"), "-b", "4", "--target", "aarch64", "--emit", "llvm",
                            "-o", "-"], capture_output=True, text=True)
        ok = r.returncode == 0 and "%wrow" in r.stdout
        bad += not ok
        print("%s -b 4 (aarch64): rows decoded whole: %s" % (name, "ok" if ok else "FAIL"))
    if ci == 0:  # 25 output rows a block: its weights decoded once ("wdec")
        r = subprocess.run([qgtc, os.path.join(d0, "m.onnx"), "-b", "4", "--target", "armv7em", "-O3", "--emit",
                            "llvm", "-o", "-"], capture_output=True, text=True)
        ok = r.returncode == 0 and "%wdec" in r.stdout
        bad += not ok
        print("%s -b 4 -O3 (armv7em): weights decoded once a block: %s" % (name, "ok" if ok else "FAIL"))
# Chains of convs through the channel-blocked layout (l_conv.c: a value
# between two convs that qualify stored [N][C/vl][H][W][vl]): MobileNet's
# pointwise/depthwise pairs at strides 1 and 2 with Relu and ReLU6, batch 2,
# a last layer of 3 channel blocks writing plain rows; DS-CNN (the first
# conv's 10x4 window writing blocked tiles, the last blocked output read by
# global pooling as it is); an AveragePool over a blocked 4x3 plane at
# batch 2 (VWW's pooling); a 5x5 depthwise at dilation 2 with uneven pads
# and a 3x3 at stride 3 over 40-wide rows; few-channel groupless 3x3 convs
# at stride 2 and at dilation 2 writing blocked values, and one of 32
# input channels that cuts the chain (its tiles would reload its weights
# row by row); a blocked value read by a depthwise and a pointwise conv
# that both write plain outputs; a chain cut by a Winograd conv; 24
# channels (blocked with AVX2's 8 lanes, not with AVX-512's 16).  Each on
# the host JIT against numpy (1e-5 of the largest magnitude), at
# -mcpu=x86-64-v3 against the interpreter (validate), and the kernels each
# takes counted in --emit llvm (their tables are named NAME.cl[dw].IO, I
# and O b for blocked or p for plain) for x86-64-v4 (AVX-512) and
# x86-64-v3.
# layer: (M, k, stride, pads, dilation, "dw" or 1, bias, act)
def chain_model(name, xshape, layers, tail):
    """The ONNX model and numpy reference of x -> layers -> tail ("add": y =
    a + a; "gap": GlobalAveragePool; "fork": two branches from layer 0's
    output, layers[1] and layers[2], added)."""
    x = rng.standard_normal(xshape).astype(np.float32)
    inits, nodes = [], []
    cur, ref, C = "x", x.astype(np.float64), xshape[1]
    outs = []
    for i, (M, k, st, pads, dil, grp, bias, act) in enumerate(layers):
        src, sref, sC = (outs[0][0], outs[0][1], outs[0][2]) if tail == "fork" and i > 0 else (cur, ref, C)
        g = sC if grp == "dw" else 1
        k = k if isinstance(k, tuple) else (k, k)
        pads = pads if isinstance(pads, tuple) else (pads,) * 4
        w = (rng.standard_normal((M, sC // g) + k) * (1.0 / np.sqrt(sC // g * k[0] * k[1]))).astype(np.float32)
        b = (rng.standard_normal(M) * 0.1).astype(np.float32) if bias else None
        inits.append(nh.from_array(w, "w%d" % i))
        if bias:
            inits.append(nh.from_array(b, "b%d" % i))
        c = "c%d" % i
        nodes.append(h.make_node("Conv", [src, "w%d" % i] + (["b%d" % i] if bias else []), [c], kernel_shape=list(k),
                                 strides=[st, st], pads=list(pads), dilations=[dil, dil], group=g))
        r = conv_ref(sref, w.astype(np.float64), None if b is None else b.astype(np.float64), st, pads, dil, g)
        if act == "relu":
            nodes.append(h.make_node("Relu", [c], ["r%d" % i]))
            c, r = "r%d" % i, np.maximum(r, 0)
        elif act == "clip6":
            if "lo" not in [t.name for t in inits]:
                inits += [nh.from_array(np.array(0.0, np.float32), "lo"), nh.from_array(np.array(1.0, np.float32), "hi")]
            nodes.append(h.make_node("Clip", [c, "lo", "hi"], ["r%d" % i]))
            c, r = "r%d" % i, np.clip(r, 0.0, 1.0)
        outs.append((c, r, M))
        cur, ref, C = c, r, M
    if tail == "gap":
        nodes.append(h.make_node("GlobalAveragePool", [cur], ["y"]))
        ref = ref.mean(axis=(2, 3), keepdims=True)
    elif tail == "avg":
        nodes.append(h.make_node("AveragePool", [cur], ["y"], kernel_shape=list(ref.shape[2:])))
        ref = ref.mean(axis=(2, 3), keepdims=True)
    elif tail == "fork":
        nodes.append(h.make_node("Add", [outs[1][0], outs[2][0]], ["y"]))
        ref = outs[1][1] + outs[2][1]
    else:
        nodes.append(h.make_node("Add", [cur, cur], ["y"]))
        ref = ref + ref
    gr = h.make_graph(nodes, name, [h.make_tensor_value_info("x", T.FLOAT, list(xshape))],
                      [h.make_tensor_value_info("y", T.FLOAT, None)], inits)
    mdl = h.make_model(gr, opset_imports=[h.make_opsetid("", 13)])
    mdl.ir_version = 8
    return mdl, x, ref


# (name, input shape, layers, tail, kernels at x86-64-v4, at x86-64-v3 when different)
chains = [
    ("cl_mbv1", (2, 8, 13, 11), [(16, 1, 1, 0, 1, 1, True, "relu"), (16, 3, 2, 1, 1, "dw", True, "clip6"),
                                 (32, 1, 1, 0, 1, 1, True, "relu"), (32, 3, 1, 1, 1, "dw", False, "relu"),
                                 (48, 1, 1, 0, 1, 1, False, None)], "add",
     {"cl.pb": 1, "cldw.bb": 2, "cl.bb": 1, "cl.bp": 1}, None),
    ("cl_kws", (1, 1, 49, 10), [(64, (10, 4), 2, (4, 1, 5, 1), 1, 1, True, "relu"), (64, 3, 1, 1, 1, "dw", True, "relu"),
                                (64, 1, 1, 0, 1, 1, True, "relu"), (64, 3, 1, 1, 1, "dw", True, "relu"),
                                (64, 1, 1, 0, 1, 1, True, "relu")], "gap",
     {"cl.pb": 1, "cldw.bb": 2, "cl.bb": 2}, None),
    ("cl_avgpool", (2, 16, 7, 5), [(32, 1, 1, 0, 1, 1, True, "relu"), (32, 3, 2, 1, 1, "dw", True, "relu")], "avg",
     {"cl.pb": 1, "cldw.bb": 1}, None),
    ("cl_dil_s3", (1, 8, 20, 40), [(16, 1, 1, 0, 1, 1, True, None), (16, 5, 1, (4, 3, 4, 5), 2, "dw", True, "relu"),
                                   (16, 3, 3, 0, 1, "dw", False, None), (32, 1, 1, 0, 1, 1, True, "relu")], "add",
     {"cl.pb": 1, "cldw.bb": 2, "cl.bp": 1}, None),
    ("cl_fork", (1, 16, 9, 9), [(32, 1, 1, 0, 1, 1, True, "relu"), (32, 3, 1, 1, 1, "dw", True, None),
                                (32, 1, 1, 0, 1, 1, True, None)], "fork",
     {"cl.pb": 1, "cldw.bp": 1, "cl.bp": 1}, None),
    ("cl_g1_s2", (1, 3, 14, 14), [(16, 3, 2, 1, 1, 1, True, "relu"), (16, 3, 1, 1, 1, "dw", True, None),
                                  (16, 1, 1, 0, 1, 1, True, None)], "add",
     {"cl.pb": 1, "cldw.bb": 1, "cl.bp": 1}, None),
    ("cl_g1_d2", (1, 2, 20, 20), [(16, 3, 1, 2, 2, 1, False, "relu"), (16, 3, 1, 1, 1, "dw", True, "relu"),
                                  (32, 1, 1, 0, 1, 1, True, None)], "add",
     {"cl.pb": 1, "cldw.bb": 1, "cl.bp": 1}, None),
    ("cl_g1_wide_cut", (1, 16, 6, 6), [(32, 1, 1, 0, 1, 1, True, "relu"), (32, 3, 2, 1, 1, 1, True, None)], "add",
     {}, None),
    ("cl_wino_cut", (1, 16, 8, 8), [(16, 1, 1, 0, 1, 1, True, "relu"), (16, 3, 1, 1, 1, 1, True, "relu")], "add",
     {}, None),
    ("cl_m24", (1, 16, 10, 10), [(24, 1, 1, 0, 1, 1, True, "relu"), (24, 3, 1, 1, 1, "dw", True, "relu")], "add",
     {}, {"cl.pb": 1, "cldw.bp": 1}),
]
for name, xshape, layers, tail, want4, want3 in chains:
    d0 = os.path.join(work, name)
    os.makedirs(d0, exist_ok=True)
    mdl, x, ref = chain_model(name, xshape, layers, tail)
    onnx.save(mdl, os.path.join(d0, "m.onnx"))
    np.save(os.path.join(d0, "x.npy"), x)
    out = os.path.join(d0, "native")
    r = subprocess.run([qgtc, "run", os.path.join(d0, "m.onnx"), os.path.join(d0, "x.npy"), "--engine", "native",
                        "--output-dir", out], capture_output=True, text=True)
    got = np.load(os.path.join(out, "output_0.npy")) if r.returncode == 0 else None
    err = np.abs(got - ref).max() / np.abs(ref).max() if got is not None and got.shape == ref.shape else np.inf
    ok = err <= 1e-5
    bad += not ok
    print("%s (host JIT): %s, max error %.3g of max |ref|%s" % (name, "ok" if ok else "FAIL", err,
                                                                 "" if r.returncode == 0 else ": " + r.stderr.strip()))
    r = subprocess.run([qgtc, "validate", os.path.join(d0, "m.onnx"), os.path.join(d0, "x.npy"), "--target", "host",
                        "-mcpu", "x86-64-v3"], capture_output=True, text=True)
    ok = r.returncode == 0 and "validate: ok" in r.stdout
    bad += not ok
    print("%s (x86-64-v3): %s" % (name, "ok" if ok else "FAIL\n" + r.stdout + r.stderr))
    for cpu, want in (("x86-64-v4", want4), ("x86-64-v3", want3 if want3 is not None else want4)):
        r = subprocess.run([qgtc, os.path.join(d0, "m.onnx"), "--target", "x86_64", "-mcpu", cpu, "--emit", "llvm",
                            "--name", "net", "-o", "-"], capture_output=True, text=True)
        seen = {}
        for line in r.stdout.splitlines():
            if line.startswith("@net.cl"):
                kind = line[len("@net."):].split(" ")[0]
                kind = ".".join(kind.split(".")[:2])  # LLVM numbers repeats: net.cl.bb.1
                seen[kind] = seen.get(kind, 0) + 1
        ok = r.returncode == 0 and seen == want
        bad += not ok
        print("%s (%s kernels): %s %s" % (name, cpu, "ok" if ok else "FAIL, want %s:" % want, seen))
for K, bits, scheme, gran in [(37, 4, "affine", "per-channel"), (64, 2, "affine", "per-channel"),
                              (13, 1, "affine", "per-tensor"), (30, 4, "symmetric", "per-channel"),
                              (5, 2, "symmetric", "per-tensor"), (96, 4, "affine", "per-tensor")]:
    name = "gemm_k%d_b%d_%s_%s" % (K, bits, scheme, gran)
    d0 = os.path.join(work, name)
    os.makedirs(d0, exist_ok=True)
    x = rng.standard_normal((2, K)).astype(np.float32)
    w = (rng.standard_normal((24, K)) * 0.3).astype(np.float32)
    b = rng.standard_normal(24).astype(np.float32)
    gr = h.make_graph([h.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)], name,
                      [h.make_tensor_value_info("x", T.FLOAT, [2, K])], [h.make_tensor_value_info("y", T.FLOAT, None)],
                      [nh.from_array(w, "w"), nh.from_array(b, "b")])
    mdl = h.make_model(gr, opset_imports=[h.make_opsetid("", 13)])
    mdl.ir_version = 8
    onnx.save(mdl, os.path.join(d0, "m.onnx"))
    np.save(os.path.join(d0, "x.npy"), x)
    flags = ["-b", str(bits), "--scheme", scheme, "--granularity", gran]
    outs = {}
    for engine in ("interp", "native"):
        o = os.path.join(d0, engine)
        r = subprocess.run([qgtc, "run", os.path.join(d0, "m.onnx"), os.path.join(d0, "x.npy")] + flags +
                           ["--engine", engine, "--output-dir", o], capture_output=True, text=True)
        outs[engine] = np.load(os.path.join(o, "output_0.npy")) if r.returncode == 0 else None
    i, nat = outs["interp"], outs["native"]
    err = np.abs(nat - i).max() / np.abs(i).max() if i is not None and nat is not None and nat.shape == i.shape else np.inf
    ok = err <= 1e-5
    bad += not ok
    print("%s (host JIT vs interpreter): %s, max error %.3g" % (name, "ok" if ok else "FAIL", err))
    r = subprocess.run([qgtc, "validate", os.path.join(d0, "m.onnx"), os.path.join(d0, "x.npy"), "--target",
                        "aarch64"] + flags, capture_output=True, text=True)
    ok = r.returncode == 0 and "validate: ok" in r.stdout
    bad += not ok
    print("%s (aarch64): %s" % (name, "ok" if ok else "FAIL\n" + r.stdout + r.stderr))
sys.exit(1 if bad else 0)
