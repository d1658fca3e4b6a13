#!/usr/bin/python3
"""Write the ONNX project's own node test cases for some ops, generated now.

Usage: gen_onnx_cases.py OUTDIR --ops OP[,OP...]

The onnx Python package (Debian's python3-onnx) holds the generators of
its backend node tests: per op, numpy code written by the ONNX project
that builds each test model and computes its expected outputs.  The
shared conformance folder holds the stored cases of CNN ops only; this
writes the generated cases of the ops given, in the same layout
(OUTDIR/test_NAME/model.onnx, test_data_set_K/input_I.pb, output_I.pb),
for run_conformance.py.  Nothing is copied into the tree; the cases are
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--ops", required=True, help="comma-separated ONNX op types")
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
        d = os.path.join(a.outdir, c.name)
        if os.path.isdir(d):  # a few generators register a case twice
            continue
        os.makedirs(d)
        onnx.save(c.model, os.path.join(d, "model.onnx"))
        for k, (ins, outs) in enumerate(c.data_sets):
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
