#!/usr/bin/python3
"""qdq_weights.py: weight-only quantized ONNX keeps its codes.

usage: qdq_weights.py --qgtc PATH [--keep DIR]

Builds weight-only QDQ models as weight-only quantizers write them
(DequantizeLinear of int8, uint8 or packed INT4 initializers in front of
a Conv, Gemm or MatMul weight, per tensor or per output channel; float
activations), and the same models with the dequantized weights stored as
plain float initializers (numpy's (q - zp) * scale, in float32).  For each:

  1. `qgtc M --emit ir` shows the weight as a quantized constant
     (!quant{scheme="affine", bits=B}, B the fewest bits that hold the
     codes; int8 codes of zero point 0 on a symmetric grid as
     "symmetric", {-1, 0, +1} as "ternary", {-1, +1} as "binary"), or as
     a plain f32 constant where the codes cannot be kept
     (a batchnorm after the conv, a DequantizeLinear axis that is not the
     layer's output channels), and -b 4 keeps 8-bit codes as they are,
     with a warning;
  2. `qgtc run` (the interpreter) gives the QDQ model and the float one
     the same output bit for bit: the kept codes leave the weight's value
     alone;
  3. `qgtc validate` on armv7em, aarch64 and x86-64 runs the compiled
     object within 1e-4 of the interpreter, and with -a 8 (the integer
     path on the model's own codes) bit-exact on the Cortex-M4; and
  4. the Cortex-M4 object of a model that keeps its codes is smaller
     than the float model's by at least half the weight bytes it saves.

Then `--save-onnx` of models qgtc quantized itself (-b, --scheme; float
activations): the file holds each weight as its integers and a
DequantizeLinear (pow2 and codebook weights as floats, which DQ cannot
state), passes onnx.checker, and

  5. the float model numpy makes of it (each DequantizeLinear replaced by
     (q - zp) * scale, in float32) gives under `qgtc run` the output of
     `qgtc run` on the quantized model, bit for bit: the file states the
     weights qgtc computes with; and
  6. compiled for armv7em without flags, the file gives the object the
     original model gives with them: its code and constants byte for byte
     (the codes, scheme and grid read back as written; the local symbols
     are named after value numbers, which the file's order changes).

Exit status 0 when every check passes.
"""

import argparse
import os
import re
import struct
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INT4 = 22  # TensorProto.INT4


def int4_tensor(a, name):
    """An INT4 initializer: two elements to a byte, the first in the low
    nibble (ONNX's packing), in raw_data."""
    a = np.asarray(a)
    flat = (a.ravel().astype(np.int16) & 15).astype(np.uint8)
    if flat.size % 2:
        flat = np.append(flat, np.uint8(0))
    t = onnx.TensorProto()
    t.name = name
    t.data_type = INT4
    t.dims.extend(a.shape)
    t.raw_data = (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8).tobytes()
    return t


def build(case, rng, qdq):
    """The model of case, with its weight as DequantizeLinear (qdq) or as
    the float32 initializer that dequantize computes."""
    op, wshape, axis = case["op"], case["wshape"], case["axis"]
    lo, hi = case["range"]
    q = rng.integers(lo, hi + 1, size=wshape)
    if "values" in case:
        q = rng.choice(case["values"], size=wshape)
    nch = wshape[axis] if case["per_channel"] else 1
    scale = (rng.random(nch) * 0.02 + 0.002).astype(np.float32)
    zp = rng.integers(lo, hi + 1, size=nch) if case.get("zp") else np.zeros(nch, np.int64)
    if not case["per_channel"]:
        scale, zp = scale.reshape(()), zp.reshape(())
    shape = [1] * len(wshape)
    if case["per_channel"]:
        shape[axis] = nch
    w = ((q - zp.reshape(shape)).astype(np.float32) * scale.reshape(shape)).astype(np.float32)
    dt = case["dt"]
    nodes, inits = [], []
    if qdq:
        qt = int4_tensor(q, "wq") if dt == "int4" else numpy_helper.from_array(
            q.astype(np.int8 if dt == "int8" else np.uint8), "wq")
        zt = int4_tensor(zp, "wz") if dt == "int4" else numpy_helper.from_array(
            zp.astype(np.int8 if dt == "int8" else np.uint8), "wz")
        inits += [qt, numpy_helper.from_array(scale, "ws"), zt]
        nodes.append(helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["w"], axis=axis))
    else:
        inits.append(numpy_helper.from_array(w, "w"))
    xshape = case["xshape"]
    if op == "conv":
        inits.append(numpy_helper.from_array((rng.standard_normal(wshape[0]) * 0.1).astype(np.float32), "b"))
        nodes.append(helper.make_node("Conv", ["x", "w", "b"], ["c" if case.get("bn") else "y"], pads=[1, 1, 1, 1]))
        yshape = [xshape[0], wshape[0], xshape[2], xshape[3]]
        if case.get("bn"):
            m = wshape[0]
            for nm, v in (("g", rng.random(m) + 0.5), ("bb", rng.standard_normal(m)),
                          ("mu", rng.standard_normal(m)), ("var", rng.random(m) + 0.5)):
                inits.append(numpy_helper.from_array(v.astype(np.float32), nm))
            nodes.append(helper.make_node("BatchNormalization", ["c", "g", "bb", "mu", "var"], ["y"]))
    elif op == "gemm":  # y = x w^T + b, w [N, K]
        inits.append(numpy_helper.from_array((rng.standard_normal(wshape[0]) * 0.1).astype(np.float32), "b"))
        nodes.append(helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1))
        yshape = [xshape[0], wshape[0]]
    else:  # matmul, w [K, N]
        nodes.append(helper.make_node("MatMul", ["x", "w"], ["y"]))
        yshape = [xshape[0], wshape[1]]
    g = helper.make_graph(nodes, case["name"], [helper.make_tensor_value_info("x", TensorProto.FLOAT, xshape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, yshape)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
    m.ir_version = 10
    return m, w


CASES = [
    # conv weights [M, C, kh, kw], per output channel (axis 0)
    dict(name="conv_i8_pc", op="conv", wshape=(16, 8, 3, 3), axis=0, per_channel=True, dt="int8",
         range=(-127, 127), xshape=[1, 8, 6, 6], bits=8, scheme="symmetric"),
    dict(name="conv_u8_pt", op="conv", wshape=(12, 4, 3, 3), axis=0, per_channel=False, dt="uint8",
         range=(0, 255), zp=True, xshape=[2, 4, 5, 7], bits=8),
    dict(name="conv_i4_pc", op="conv", wshape=(16, 8, 3, 3), axis=0, per_channel=True, dt="int4",
         range=(-8, 7), zp=True, xshape=[1, 8, 6, 6], bits=4),
    # int8 storage of codes that span 5 bits: kept at 5
    dict(name="conv_i8_narrow", op="conv", wshape=(8, 8, 1, 1), axis=0, per_channel=True, dt="int8",
         range=(-16, 15), xshape=[1, 8, 9, 9], bits=5),
    # gemm (transB): output channels on axis 0; matmul: on axis 1
    dict(name="gemm_i8_pc", op="gemm", wshape=(10, 64), axis=0, per_channel=True, dt="int8",
         range=(-127, 127), xshape=[2, 64], bits=8, scheme="symmetric"),
    # int8 codes of zero point 0 in {-1, 0, +1} and {-1, +1}
    dict(name="conv_ternary", op="conv", wshape=(8, 8, 3, 3), axis=0, per_channel=True, dt="int8",
         range=(-1, 1), values=[-1, 0, 1], xshape=[1, 8, 6, 6], bits=2, scheme="ternary"),
    dict(name="gemm_binary", op="gemm", wshape=(12, 32), axis=0, per_channel=False, dt="int8",
         range=(-1, 1), values=[-1, 1], xshape=[1, 32], bits=1, scheme="binary"),
    dict(name="matmul_u8_pc", op="matmul", wshape=(48, 20), axis=1, per_channel=True, dt="uint8",
         range=(0, 255), zp=True, xshape=[3, 48], bits=8),
    dict(name="matmul_i4_pt", op="matmul", wshape=(32, 24), axis=1, per_channel=False, dt="int4",
         range=(-8, 7), xshape=[1, 32], bits=4),
    # kept float: a batchnorm after the conv (bnfold folds float weights
    # only), and scales along the input channels of a matmul
    dict(name="conv_bn", op="conv", wshape=(8, 4, 3, 3), axis=0, per_channel=True, dt="int8",
         range=(-127, 127), xshape=[1, 4, 6, 6], bits=None, bn=True),
    dict(name="matmul_axis0", op="matmul", wshape=(16, 8), axis=0, per_channel=True, dt="int8",
         range=(-127, 127), xshape=[2, 16], bits=None),
]


# --save-onnx flag sets, and whether the weight is written as DequantizeLinear
SAVE_FLAGS = [
    (["-b", "4"], True), (["-b", "2"], True), (["-b", "8"], True),
    (["-b", "3", "--granularity=per-tensor"], True),
    (["--scheme", "symmetric", "-b", "4"], True), (["--scheme", "ternary"], True),
    (["--scheme", "binary"], True), (["--scheme", "binary", "--granularity=per-tensor"], True),
    (["--scheme", "pow2", "-b", "4"], False), (["--scheme", "codebook", "-b", "2"], False),
]


def numpy_dq(m):
    """m with each DequantizeLinear of initializers replaced by the float32
    initializer numpy computes: (q - zp) * scale along its axis."""
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    keep, made = [], []
    for n in m.graph.node:
        if n.op_type != "DequantizeLinear":
            keep.append(n)
            continue
        q, sc, zp = (inits[i] for i in n.input)
        axis = next((at.i for at in n.attribute if at.name == "axis"), 1)
        shape = [1] * q.ndim
        if sc.ndim:
            shape[axis] = sc.size
        w = (q.astype(np.int32) - zp.astype(np.int32).reshape(shape)).astype(np.float32) * sc.reshape(shape)
        made.append(numpy_helper.from_array(w.astype(np.float32), n.output[0]))
    used = {i for n in keep for i in n.input}
    g = helper.make_graph(keep, m.graph.name, m.graph.input, m.graph.output,
                          [t for t in m.graph.initializer if t.name in used] + made)
    out = helper.make_model(g, opset_imports=m.opset_import)
    out.ir_version = m.ir_version
    return out


def alloc_sections(path):
    """{name: bytes} of an ELF32 object's allocated sections (code and
    constants: what reaches the flash)."""
    with open(path, "rb") as f:
        b = f.read()
    shoff, = struct.unpack_from("<I", b, 0x20)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", b, 0x2E)
    hdr = [struct.unpack_from("<IIIIII", b, shoff + i * shentsize) for i in range(shnum)]
    strtab = hdr[shstrndx][4]
    out = {}
    for name, typ, flags, _, off, size in hdr:
        if flags & 2:  # SHF_ALLOC
            key = b[strtab + name:b.index(b"\0", strtab + name)].decode()
            out[key] = b[off:off + size] if typ != 8 else size  # SHT_NOBITS: its size
    return out


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qgtc", required=True)
    ap.add_argument("--keep")
    a = ap.parse_args()
    tmp = a.keep or tempfile.mkdtemp(prefix="qdqw")
    os.makedirs(tmp, exist_ok=True)
    rng = np.random.default_rng(12)
    fails = 0

    def fail(case, what):
        nonlocal fails
        fails += 1
        print("FAIL %s: %s" % (case["name"], what))

    for case in CASES:
        d = os.path.join(tmp, case["name"])
        os.makedirs(d, exist_ok=True)
        seed = int(rng.integers(1 << 30))
        mq, _ = build(case, np.random.default_rng(seed), True)
        mf, _ = build(case, np.random.default_rng(seed), False)
        pq, pf = os.path.join(d, "qdq.onnx"), os.path.join(d, "float.onnx")
        onnx.save(mq, pq)
        onnx.save(mf, pf)
        x = np.random.default_rng(seed + 1).standard_normal(case["xshape"]).astype(np.float32)
        px = os.path.join(d, "x.npy")
        np.save(px, x)
        # 1. the weight's type after the pipeline
        r = run([a.qgtc, pq, "--emit", "ir"])
        if r.returncode:
            fail(case, "--emit ir: " + r.stderr.strip()[:200])
            continue
        line = next((l for l in r.stdout.splitlines() if l.strip().startswith("const %w: f32[")), None)
        m = re.search(r'!quant\{scheme="(\w+)", bits=(\d+)', line or "")
        got = int(m.group(2)) if m else None
        want = case.get("scheme", "affine")
        if not line or got != case["bits"] or (m and m.group(1) != want):
            fail(case, "the weight after the pipeline: %s, expected %s" % (
                line.strip() if line else "not found",
                "%s, bits=%d" % (want, case["bits"]) if case["bits"] else "f32"))
        # -b leaves the model's own codes and says so
        if case["bits"] == 8:
            r = run([a.qgtc, pq, "-b", "4", "--emit", "ir"])
            line = next((l for l in r.stdout.splitlines() if l.strip().startswith("const %w: f32[")), "")
            if r.returncode or "bits=8" not in line or "keep" not in r.stderr:
                fail(case, "-b 4: the weight %s, stderr %r" % (line.strip(), r.stderr.strip()[:200]))
        # 2. the interpreter: QDQ and float models agree bit for bit
        outs = []
        for p, tag in ((pq, "q"), (pf, "f")):
            od = os.path.join(d, "out_" + tag)
            r = run([a.qgtc, "run", p, px, "--output-dir", od])
            if r.returncode:
                fail(case, "run %s: %s" % (tag, r.stderr.strip()[:200]))
                break
            outs.append(np.load(os.path.join(od, "output_0.npy")))
        if len(outs) == 2 and not np.array_equal(outs[0], outs[1]):
            fail(case, "the QDQ model's output differs from the float model's (max %g)" %
                 float(np.abs(outs[0] - outs[1]).max()))
        # 3. the compiled objects against the interpreter
        flash = {}
        for t in ("armv7em", "aarch64", "x86_64"):
            r = run([a.qgtc, "validate", pq, "--target", t])
            if r.returncode or "validate: ok" not in r.stdout + r.stderr:
                fail(case, "validate --target %s: %s" % (t, (r.stdout + r.stderr).strip()[-300:]))
        # with -a 8 the integer path runs the model's codes: bit-exact
        if case["bits"]:
            pc = os.path.join(d, "calib.npy")
            np.save(pc, np.random.default_rng(seed + 2).standard_normal([8] + case["xshape"][1:]).astype(np.float32))
            r = run([a.qgtc, "validate", pq, "-a", "8", "--calib-data", pc, "--target", "armv7em"])
            if r.returncode or "bit-exact on 4/4" not in r.stdout + r.stderr:
                fail(case, "validate -a 8 --target armv7em: %s" % (r.stdout + r.stderr).strip()[-300:])
        # 4. flash on the Cortex-M4
        for p, tag in ((pq, "q"), (pf, "f")):
            r = run([a.qgtc, "validate", p, "--target", "armv7em"])
            m = re.search(r"flash: ([\d,]+) B", r.stdout + r.stderr)
            flash[tag] = int(m.group(1).replace(",", "")) if m else None
        if case["bits"] and None not in flash.values():
            n = int(np.prod(case["wshape"]))
            saved = n * 4 - (n * case["bits"] + 7) // 8
            if flash["f"] - flash["q"] < saved // 2:
                fail(case, "armv7em flash %d B against the float model's %d B: less than half of the %d B "
                     "the codes save" % (flash["q"], flash["f"], saved))
        print("%s: weight %s, flash %s B (float %s B)" % (
            case["name"], "bits=%d" % got if got else "f32", flash.get("q"), flash.get("f")))
    # --save-onnx of qgtc's own quantization, on float models
    nsave = 0
    for case in [c for c in CASES if c["name"] in ("conv_i8_pc", "gemm_i8_pc", "matmul_u8_pc")]:
        d = os.path.join(tmp, "save_" + case["name"])
        for sub in ("orig", "saved"):  # one object name: it names the globals
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        mf, _ = build(case, np.random.default_rng(int(rng.integers(1 << 30))), False)
        pf, px = os.path.join(d, "float.onnx"), os.path.join(d, "x.npy")
        onnx.save(mf, pf)
        np.save(px, np.random.default_rng(3).standard_normal(case["xshape"]).astype(np.float32))
        for flags, dq in SAVE_FLAGS:
            nsave += 1
            tag = "%s %s" % (case["name"], " ".join(flags))
            ps, pn = os.path.join(d, "saved.onnx"), os.path.join(d, "numpy.onnx")
            r = run([a.qgtc, pf, *flags, "--save-onnx", ps, "--target", "armv7em", "-o",
                     os.path.join(d, "orig", "m.o")])
            if r.returncode:
                fail(case, "%s --save-onnx: %s" % (tag, r.stderr.strip()[:200]))
                continue
            ms = onnx.load(ps)
            onnx.checker.check_model(ms, full_check=True)
            ndq = sum(n.op_type == "DequantizeLinear" for n in ms.graph.node)
            if ndq != (1 if dq else 0):
                fail(case, "%s: %d DequantizeLinear nodes in the file, expected %d" % (tag, ndq, dq))
            onnx.save(numpy_dq(ms), pn)
            outs = []
            for cmd in ([pf, *flags], [pn]):
                od = os.path.join(d, "out%d" % len(outs))
                r = run([a.qgtc, "run", cmd[0], px, "--output-dir", od, *cmd[1:]])
                outs.append(np.load(os.path.join(od, "output_0.npy")) if r.returncode == 0 else None)
            if outs[0] is None or outs[1] is None or not np.array_equal(outs[0], outs[1]):
                fail(case, "%s: the file's numpy-dequantized weights do not give qgtc's output" % tag)
            if dq:
                r = run([a.qgtc, ps, "--target", "armv7em", "-o", os.path.join(d, "saved", "m.o")])
                if r.returncode or alloc_sections(os.path.join(d, "orig", "m.o")) != \
                        alloc_sections(os.path.join(d, "saved", "m.o")):
                        fail(case, "%s: the file's armv7em object differs from the original's" % tag)
    print("%d case(s), %d --save-onnx round trip(s), %d failure(s)" % (len(CASES), nsave, fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
