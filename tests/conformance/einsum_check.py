#!/usr/bin/python3
"""ONNX Einsum against numpy.einsum, on float32 operands.

Usage: einsum_check.py QGTC

ONNX's own Einsum cases are all float64, which qgtc does not take, so
this writes float32 models of the equations torch code uses (matmuls,
batched and attention forms, outer and inner products, transposes, sums,
ellipses that broadcast, three operands, a constant weight operand,
implicit outputs, a diagonal and a trace) and compares each with
numpy.einsum in float64 on three engines: the interpreter's einsum
kernel (--passes=shapes: no lowering), the default pipeline (the
lower-einsum pass: matmuls, transposes, reshapes, reductions) and the
native code.  Then the equations qgtc must refuse, each with a message
naming the node.
"""

import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

QGTC = os.path.abspath(sys.argv[1])

# equation, operand shapes, index of a constant operand (or None)
CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)], None),
    ("ij,jk", [(3, 4), (4, 5)], None),                       # implicit output
    ("bi,ij->bj", [(2, 6), (6, 3)], 1),                      # a Linear layer
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)], None),
    ("bhqd,bhkd->bhqk", [(1, 2, 5, 4), (1, 2, 6, 4)], None),  # attention scores
    ("bhqk,bhkd->bhqd", [(1, 2, 5, 6), (1, 2, 6, 4)], None),
    ("bhqd,bkhd->bhqk", [(2, 2, 3, 4), (2, 5, 2, 4)], None),
    ("i,i->", [(7,), (7,)], None),                           # dot
    ("i,j->ij", [(3,), (4,)], None),                         # outer
    ("ij->ji", [(3, 5)], None),
    ("ij->i", [(3, 5)], None),
    ("ijk->", [(2, 3, 4)], None),
    ("ijk->kj", [(2, 3, 4)], None),
    ("...ij,...jk->...ik", [(2, 3, 4, 5), (2, 3, 5, 2)], None),
    ("...ij,...jk->...ik", [(2, 1, 4, 5), (3, 5, 2)], None),  # ellipses broadcast
    ("b...d,d->b...", [(2, 3, 4, 5), (5,)], 1),
    ("nchw,oc->nohw", [(1, 3, 4, 4), (5, 3)], 1),            # a 1x1 conv
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)], None),
    ("bi,bj,bk->bijk", [(2, 2), (2, 3), (2, 2)], None),
    ("ab,cd->", [(2, 3), (4, 5)], None),                     # sums of each
    ("ii->i", [(4, 4)], None),                               # diagonal (interpreter)
    ("ii", [(4, 4)], None),                                  # trace
    ("ij, jk -> ik", [(2, 3), (3, 2)], None),                # spaces
]

BAD = [
    ("ij,jk->ik", [(3, 4), (5, 6)], "axis"),
    ("ij->k", [(3, 4)], "in no operand"),
    ("ijk->ij", [(3, 4)], "labels for an operand of rank"),
    ("ij,jk", [(3, 4)], "terms than"),
    ("...ij->ij", [(2, 3, 4)], "ellipsis"),
    ("i1->i", [(3, 4)], "not a label"),
]


def build(eq, shapes, const, rng):
    xs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    names = ["x%d" % k for k in range(len(shapes))]
    inputs, inits, feeds = [], [], []
    for k, (n, x) in enumerate(zip(names, xs)):
        if k == const:
            inits.append(numpy_helper.from_array(x, n))
        else:
            inputs.append(helper.make_tensor_value_info(n, TensorProto.FLOAT, x.shape))
            feeds.append(x)
    g = helper.make_graph([helper.make_node("Einsum", names, ["y"], equation=eq)], "einsum", inputs,
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    return m, xs, feeds


def run(tmp, name, m, feeds, extra):
    path = os.path.join(tmp, name + ".onnx")
    onnx.save(m, path)
    files = []
    for k, x in enumerate(feeds):
        files.append(os.path.join(tmp, "%s_in%d.npy" % (name, k)))
        np.save(files[-1], x)
    out = os.path.join(tmp, name + "_out" + str(abs(hash(tuple(extra)))))
    os.makedirs(out, exist_ok=True)
    p = subprocess.run([QGTC, "run", path] + files + ["--output-dir", out] + extra,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    y = os.path.join(out, "output_0.npy")
    return p.returncode, p.stdout.decode(errors="replace"), np.load(y) if os.path.exists(y) else None


def main():
    rng = np.random.default_rng(5)
    bad = 0
    engines = [("kernel", ["--passes=shapes"]), ("lowered", []), ("native", ["--engine", "native"])]
    with tempfile.TemporaryDirectory() as tmp:
        for i, (eq, shapes, const) in enumerate(CASES):
            m, xs, feeds = build(eq, shapes, const, rng)
            ref = np.einsum(eq.replace(" ", ""), *[x.astype(np.float64) for x in xs])
            for ename, extra in engines:
                diag = eq.replace(" ", "") in ("ii->i", "ii")
                rc, text, y = run(tmp, "c%d" % i, m, feeds, extra)
                if diag and ename == "native":  # a diagonal stays for the interpreter
                    if rc == 0 or "einsum" not in text:
                        print("FAIL %-22s %s: compiled, or no message naming einsum\n%s" % (eq, ename, text))
                        bad += 1
                    continue
                scale = max(1.0, float(np.abs(ref).max()))
                if rc != 0 or y is None or y.shape != ref.shape or \
                        np.abs(y.astype(np.float64) - ref).max() > 1e-5 * scale:
                    print("FAIL %-22s %s: exit %d, %s against %s\n%s" % (
                        eq, ename, rc, None if y is None else (y.shape, float(np.abs(y - ref).max())
                                                              if y.shape == ref.shape else "-"),
                        ref.shape, text))
                    bad += 1
            print("ok   %-22s %s -> %s" % (eq, " ".join(str(s) for s in shapes), ref.shape))
        for i, (eq, shapes, words) in enumerate(BAD):
            m, xs, feeds = build(eq, shapes, None, rng)
            rc, text, y = run(tmp, "b%d" % i, m, feeds, [])
            if rc != 1 or words not in text or "Einsum" not in text or y is not None:
                print("FAIL %-22s: want exit 1 and '%s'; got exit %d\n%s" % (eq, words, rc, text))
                bad += 1
            else:
                print("ok   %-22s refused: %s" % (eq, text.strip().splitlines()[0]))
    print("%d failed" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
