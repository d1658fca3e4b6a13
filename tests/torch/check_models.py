#!/usr/bin/python3
"""Run qgtc on the exported PyTorch models and compare with PyTorch's output.

Usage: check_models.py --qgtc PATH OUTDIR [--only NAME[,NAME...]]
                       [--engine ENGINE] [--qgtc-arg ARG]... [--timeout S]
                       [-j N] [-k] [-v]

OUTDIR is what export_models.py wrote: one directory per model holding
model.onnx, input_0.npy[, input_1.npy ...] and expected_0.npy[, ...].
For each model this runs

    PATH run OUTDIR/NAME/model.onnx OUTDIR/NAME/input_0.npy ... --output-dir TMP

and compares TMP/output_K.npy with OUTDIR/NAME/expected_K.npy.

Pass criterion ("within 1e-4 relative"), per output, e = expected, a = actual:
    a.shape == e.shape, every a is finite, and for every element
        |a - e| <= RTOL * |e| + ATOL,   RTOL = 1e-4,  ATOL = 1e-4 * max|e|
i.e. numpy.allclose(a, e, rtol=1e-4, atol=1e-4 * max|e|).  The absolute part
is scaled by the output's largest magnitude because pure relative error is
meaningless for entries near zero (logits, post-ReLU zeros); an entry may
therefore be off by at most 1e-4 of the output's scale plus 1e-4 of itself.

Per model it prints one line: PASS/FAIL, the name, the max absolute error,
the max error relative to max|e|, the worst element's ratio to its allowed
error (<= 1 passes) and the wall time; a failure adds the reason and the tail
of qgtc's stderr.  The last line is exactly `N passed, M failed`; the exit
status is 1 if anything failed (or no model was found), else 0.
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

RTOL = 1e-4
ATOL_SCALE = 1e-4


def compare(a, e):
    """Return (ok, reason, max_abs, max_rel_to_scale, worst_ratio)."""
    if a.shape != e.shape:
        return False, "shape %s, expected %s" % (a.shape, e.shape), None, None, None
    a = a.astype(np.float64)
    e = e.astype(np.float64)
    if not np.all(np.isfinite(a)):
        return False, "%d non-finite values" % int(np.sum(~np.isfinite(a))), None, None, None
    if a.size == 0:
        return True, "", 0.0, 0.0, 0.0
    scale = float(np.max(np.abs(e)))
    diff = np.abs(a - e)
    allowed = RTOL * np.abs(e) + ATOL_SCALE * scale
    max_abs = float(np.max(diff))
    max_rel = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else float("inf"))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(allowed > 0, diff / allowed, np.where(diff > 0, np.inf, 0.0))
    worst = float(np.max(ratio))
    ok = bool(np.all(diff <= allowed))
    reason = ""
    if not ok:
        i = np.unravel_index(int(np.argmax(ratio)), a.shape)
        reason = "worst at %s: got %.7g, expected %.7g" % (tuple(int(k) for k in i), a[i], e[i])
    return ok, reason, max_abs, max_rel, worst


def numbered(d, stem):
    files = glob.glob(os.path.join(d, stem + "_*.npy"))
    key = lambda p: int(os.path.basename(p)[len(stem) + 1:-4])  # noqa: E731
    good = [p for p in files if os.path.basename(p)[len(stem) + 1:-4].isdigit()]
    return sorted(good, key=key)


def tail(text, n=15):
    lines = text.strip().splitlines()
    return "\n".join(lines[-n:])


def check_one(qgtc, outdir, name, extra, timeout, keep):
    d = os.path.join(outdir, name)
    inputs = numbered(d, "input")
    expected = numbered(d, "expected")
    tmp = tempfile.mkdtemp(prefix="qgtc-torch-%s-" % name)
    cmd = [qgtc, "run", os.path.join(d, "model.onnx")] + inputs + ["--output-dir", tmp] + extra
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout)
        out = p.stdout.decode(errors="replace")
        rc = p.returncode
    except subprocess.TimeoutExpired as ex:
        out = (ex.stdout or b"").decode(errors="replace")
        rc = None
    except OSError as ex:
        out, rc = str(ex), -1
    dt = time.monotonic() - t0
    res = dict(name=name, time=dt, ok=False, reason="", diag="", stats=[], cmd=cmd)
    try:
        if rc is None:
            res["reason"] = "timed out after %d s" % timeout
            res["diag"] = tail(out)
            return res
        if rc != 0:
            res["reason"] = "qgtc exited with status %d" % rc
            res["diag"] = tail(out)
            return res
        if not expected:
            res["reason"] = "no expected_*.npy in %s" % d
            return res
        ok = True
        reasons = []
        for k, ep in enumerate(expected):
            op = os.path.join(tmp, "output_%d.npy" % k)
            if not os.path.exists(op):
                ok = False
                reasons.append("output_%d.npy not written" % k)
                continue
            try:
                a = np.load(op)
            except Exception as ex:
                ok = False
                reasons.append("output_%d.npy unreadable: %s" % (k, ex))
                continue
            good, why, mabs, mrel, worst = compare(a, np.load(ep))
            res["stats"].append((mabs, mrel, worst))
            if not good:
                ok = False
                reasons.append("output_%d: %s" % (k, why))
        res["ok"] = ok
        res["reason"] = "; ".join(reasons)
        if not ok:
            res["diag"] = tail(out)
        return res
    finally:
        if keep:
            res["tmp"] = tmp
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qgtc", required=True, help="path to the qgtc driver")
    ap.add_argument("outdir", help="directory written by export_models.py")
    ap.add_argument("--only", help="comma-separated model names")
    ap.add_argument("--engine", help="pass --engine ENGINE to qgtc run")
    ap.add_argument("--qgtc-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for qgtc run (repeatable), e.g. --qgtc-arg=--verify-each")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per model (300)")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="models run in parallel (1)")
    ap.add_argument("-k", "--keep", action="store_true", help="keep the output directories")
    ap.add_argument("-v", "--verbose", action="store_true", help="print the qgtc command lines")
    a = ap.parse_args()

    names = sorted(n for n in os.listdir(a.outdir)
                   if os.path.isfile(os.path.join(a.outdir, n, "model.onnx")))
    if a.only:
        want = [n.strip() for n in a.only.split(",") if n.strip()]
        missing = [n for n in want if n not in names]
        if missing:
            print("not found in %s: %s" % (a.outdir, ", ".join(missing)), file=sys.stderr)
            print("0 passed, %d failed" % len(missing))
            return 1
        names = want
    if not names:
        print("no models (*/model.onnx) in %s" % a.outdir, file=sys.stderr)
        print("0 passed, 0 failed")
        return 1
    extra = (["--engine", a.engine] if a.engine else []) + a.qgtc_arg
    qgtc = os.path.abspath(a.qgtc)

    def job(n):
        return check_one(qgtc, a.outdir, n, extra, a.timeout, a.keep)

    passed = failed = 0
    width = max(len(n) for n in names)
    with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        for r in pool.map(job, names):
            st = r["stats"]
            mabs = max((s[0] for s in st), default=None)
            mrel = max((s[1] for s in st), default=None)
            worst = max((s[2] for s in st), default=None)
            print("%s %-*s  max_abs %-9s  max_rel %-9s  worst/allowed %-7s  %6.2fs" % (
                "PASS" if r["ok"] else "FAIL", width, r["name"], fmt(mabs, ".2e"),
                fmt(mrel, ".2e"), fmt(worst, ".3f"), r["time"]))
            if a.verbose:
                print("    $ " + " ".join(r["cmd"]))
            if r.get("tmp"):
                print("    outputs kept in " + r["tmp"])
            if r["ok"]:
                passed += 1
            else:
                failed += 1
                print("    " + r["reason"])
                if r["diag"]:
                    print("    | " + r["diag"].replace("\n", "\n    | "))
            sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
