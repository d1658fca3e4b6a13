#!/usr/bin/python3
"""Write the ONNX project's own node test cases for some ops, generated now.

Usage: gen_onnx_cases.py OUTDIR --ops OP[,OP...] [--freeze-weights]

The onnx Python package (Debian's python3-onnx) holds the generators of
its backend node tests: per op, numpy code written by the ONNX project
that builds each test model and computes its expected outputs.  The
shared conformance folder holds the stored cases of CNN ops only; this
writes the generated cases of the ops given, in the same layout
(OUTDIR/test_NAME/model.onnx, test_data_set_K/input_I.pb, output_I.pb),
for run_conformance.py.  --freeze-weights makes the W, R and B inputs of
LSTM, GRU and RNN cases initializers holding the case's own values (what an
exported model has, and what compiling them needs).  Nothing is copied
into the tree; the cases are
made in the build folder on each run.  Prints the number of cases per op
and fails if an op has none (a misspelt name, or an onnx without it).
"""

import argparse
import os
import shutil
import sys
import warnings

import numpy as np

# The generators of onnx 1.12 still use numpy's removed aliases (np.float,
# np.bool, ...) at import time.
warnings.simplefilter("ignore")
for _name, _alias in (("float", float), ("int", int), ("bool", bool), ("object", object),
                      ("complex", complex), ("str", str)):
    if _name not in np.__dict__:
        setattr(np, _name, _alias)

import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402
import onnx.backend.test.case.node as node_cases  # noqa: E402


def freeze(model, data):
    """The model with its node's inputs 1-3 (W, R, B) as initializers
    of the data set's values, and the data set without them."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    ins, outs = data
    node_in = list(g.node[0].input)
    keep_v, keep_a = [], []
    for v, arr in zip(list(g.input), ins):
        if v.name in node_in[1:4]:
            g.initializer.append(numpy_helper.from_array(np.asarray(arr), v.name))
        else:
            keep_v.append(v)
            keep_a.append(arr)
    del g.input[:]
    g.input.extend(keep_v)
    return m, [(keep_a, outs)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--ops", required=True, help="comma-separated ONNX op types")
    ap.add_argument("--freeze-weights", action="store_true",
                    help="LSTM/GRU/RNN: W, R, B become initializers")
    a = ap.parse_args()
    want = [o.strip() for o in a.ops.split(",") if o.strip()]
    cases = node_cases.collect_testcases(None)
    if os.path.isdir(a.outdir):
        shutil.rmtree(a.outdir)
    os.makedirs(a.outdir)
    count = {o: 0 for o in want}
    for c in cases:
        g = c.model.graph
        if len(g.node) != 1 or g.node[0].op_type not in count:
            continue
        model, sets = c.model, c.data_sets
        if a.freeze_weights:
            if g.node[0].op_type not in ("LSTM", "GRU", "RNN") or len(sets) != 1:
                continue
            model, sets = freeze(model, sets[0])
            g = model.graph
        d = os.path.join(a.outdir, c.name)
        if os.path.isdir(d):  # a few generators register a case twice
            continue
        os.makedirs(d)
        onnx.save(model, os.path.join(d, "model.onnx"))
        for k, (ins, outs) in enumerate(sets):
            ds = os.path.join(d, "test_data_set_%d" % k)
            os.makedirs(ds)
            for i, (v, arr) in enumerate(zip(g.input, ins)):
                t = numpy_helper.from_array(np.asarray(arr), v.name)
                with open(os.path.join(ds, "input_%d.pb" % i), "wb") as f:
                    f.write(t.SerializeToString())
            for i, (v, arr) in enumerate(zip(g.output, outs)):
                t = numpy_helper.from_array(np.asarray(arr), v.name)
                with open(os.path.join(ds, "output_%d.pb" % i), "wb") as f:
                    f.write(t.SerializeToString())
        count[g.node[0].op_type] += 1
    print(" ".join("%s %d" % (o, n) for o, n in count.items()))
    missing = [o for o, n in count.items() if n == 0]
    if missing:
        print("no generated case for: %s (onnx %s)" % (", ".join(missing), onnx.__version__))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
