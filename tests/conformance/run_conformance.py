#!/usr/bin/python3
"""run_conformance.py: run ONNX backend test cases through `qgtc run` and
compare its outputs with the expected ones the way the upstream ONNX runner
does (onnx/backend/test/runner: assert_similar_outputs).

usage: run_conformance.py --qgtc PATH SUITE_DIR [SUITE_DIR...]
                          (--min-pass-rate RATE | --min-passed N)
                          [--jobs 2] [--filter SUBSTR] [--timeout 60] [-v]

A test case is a folder with model.onnx and test_data_set_0/ holding
input_<N>.pb and output_<N>.pb (serialized TensorProto).  For each case:

    qgtc run model.onnx input_0.pb input_1.pb ... --output-dir TMP

and TMP/output_<k>.npy is compared with output_<k>.pb: same number of
outputs, same shape, same dtype (a float16 or float64 output may come
back float32: qgtc computes in float32), then for floating point outputs
|actual - expected| <= atol + rtol * |expected| elementwise with NaN equal
to NaN (rtol 1e-3, atol 1e-7, the upstream defaults), and integer and bool
outputs exactly.  ONNX's packed sub-byte integers (int4, uint4, int2,
uint2), which numpy has no dtype for and onnx 1.12's numpy_helper cannot
decode, are unpacked here into int8/uint8, the dtype `qgtc run` writes
them in.

Every case gets one of these statuses:
  pass   outputs match
  FAIL   wrong result, missing output, a timeout, or a non-zero exit
         without an 'unsupported'/'not supported' error
  CRASH  killed by a signal (exit status < 0 or > 128) or a sanitizer
         report ('AddressSanitizer', 'runtime error')
  skip   exit status 1 and an error line saying 'unsupported' or 'not
         supported'; that line, exactly as qgtc printed it, is the reason

One line is printed per case that did not pass (a skip with its
diagnostic), then
    eligible (float/int64 in, float out): P/T passed (xx.x%)
    N passed, M failed, K skipped
"Eligible" cases are those whose MANIFEST.tsv entry (or, without one, the
test data) has only float/int64 inputs and only float outputs; skipped
eligible cases count as not passed.

Each run has a gate: --min-pass-rate (over the eligible cases, which must
not be none) or --min-passed (selected cases that pass), or both.

Exit status: 1 if any case failed or crashed, eligible or not, the
eligible set is empty or its pass rate below --min-pass-rate, fewer than
--min-passed cases passed, or a suite folder holds no case; 2 on a usage
error, else 0.
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

try:
    import onnx
    from onnx import numpy_helper
except ImportError:  # pragma: no cover
    sys.stderr.write("run_conformance.py: error: the 'onnx' Python package is needed\n")
    sys.exit(2)

RTOL = 1e-3
ATOL = 1e-7
# TensorProto.DataType -> (name, bits, signed) of the packed sub-byte
# integers, newer than some onnx packages.
SUBBYTE = {21: ("uint4", 4, False), 22: ("int4", 4, True),
           25: ("uint2", 2, False), 26: ("int2", 2, True)}
ELIGIBLE_IN = {"float", "int64"}
ELIGIBLE_OUT = {"float"}


def numbered(folder, prefix, suffix):
    """Files PREFIX<N>SUFFIX in folder, sorted by N."""
    pat = re.compile(re.escape(prefix) + r"(\d+)" + re.escape(suffix) + r"$")
    found = []
    for name in os.listdir(folder):
        m = pat.match(name)
        if m:
            found.append((int(m.group(1)), os.path.join(folder, name)))
    found.sort()
    return [p for _, p in found]


def read_manifest(suite):
    """test_name -> (input dtypes, output dtypes) from MANIFEST.tsv."""
    path = os.path.join(suite, "MANIFEST.tsv")
    out = {}
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        col = {name: i for i, name in enumerate(header)}
        for line in f:
            cells = line.rstrip("\n").split("\t")
            if len(cells) < len(header):
                continue

            def dtypes(cell):
                return [entry.split(":")[-2] for entry in cell.split(";") if entry.count(":") >= 2]

            out[cells[col["test_name"]]] = (dtypes(cells[col["inputs"]]), dtypes(cells[col["outputs"]]))
    return out


def to_array(t):
    """TensorProto t as a numpy array; sub-byte integers unpacked (ONNX
    packs 8/bits elements to a byte, the first in the low bits, in raw_data
    or one byte per int32_data entry) into int8/uint8."""
    if t.data_type not in SUBBYTE:
        return numpy_helper.to_array(t)
    name, bits, signed = SUBBYTE[t.data_type]
    dims = tuple(int(d) for d in t.dims)
    n = int(np.prod(dims, dtype=np.int64))
    if t.raw_data:
        packed = np.frombuffer(t.raw_data, np.uint8)
    else:
        words = np.asarray(t.int32_data, np.int64)
        if words.size and (words.min() < 0 or words.max() > 255):
            raise ValueError("%s int32_data holds a value that is not a byte" % name)
        packed = words.astype(np.uint8)
    per = 8 // bits
    if packed.size != (n + per - 1) // per:
        raise ValueError("%s tensor of %d elements has %d packed bytes" % (name, n, packed.size))
    shifts = (np.arange(per) * bits).astype(np.uint8)
    v = ((packed[:, None] >> shifts) & ((1 << bits) - 1)).reshape(-1)[:n].astype(np.int16)
    if signed:
        v = np.where(v >= 1 << (bits - 1), v - (1 << bits), v)
    return v.astype(np.int8 if signed else np.uint8).reshape(dims)


def dtype_name(data_type):
    if data_type in SUBBYTE:
        return SUBBYTE[data_type][0]
    return onnx.TensorProto.DataType.Name(data_type).lower()


def dtypes_from_data(case_dir):
    """(input dtypes, output dtypes) read from the .pb files themselves."""
    data = os.path.join(case_dir, "test_data_set_0")

    def names(files):
        res = []
        for p in files:
            t = onnx.load_tensor(p)
            res.append(dtype_name(t.data_type))
        return res

    return names(numbered(data, "input_", ".pb")), names(numbered(data, "output_", ".pb"))


class Case:
    def __init__(self, suite, name):
        self.suite = suite
        self.name = name
        self.dir = os.path.join(suite, name)
        self.label = "%s/%s" % (os.path.basename(os.path.normpath(suite)), name)
        self.eligible = False
        self.status = None  # 'pass', 'FAIL', 'CRASH', 'skip'
        self.detail = ""
        self.log = ""


def find_cases(suites, substr):
    cases = []
    for suite in suites:
        manifest = read_manifest(suite)
        for name in sorted(os.listdir(suite)):
            d = os.path.join(suite, name)
            if not (os.path.isfile(os.path.join(d, "model.onnx"))
                    and os.path.isdir(os.path.join(d, "test_data_set_0"))):
                continue
            c = Case(suite, name)
            if substr and not any(x and x in c.label for x in substr.split(",")):
                continue
            if name in manifest:
                ins, outs = manifest[name]
            else:
                try:
                    ins, outs = dtypes_from_data(d)
                except Exception:  # unreadable test data: not eligible
                    ins, outs = ["?"], ["?"]
            c.eligible = all(t in ELIGIBLE_IN for t in ins) and all(t in ELIGIBLE_OUT for t in outs)
            cases.append(c)
    return cases


def unsupported_diagnostic(text):
    """The first error line saying 'unsupported'/'not supported', or None."""
    for l in text.splitlines():
        low = l.lower()
        if "error: " in low and ("unsupported" in low or "not supported" in low):
            return l.strip()
    return None


def first_diagnostic(text):
    lines = [l for l in text.splitlines() if l.strip()]
    for l in lines:
        if ": error: " in l or "runtime error" in l or "AddressSanitizer" in l:
            return l.strip()
    return lines[0].strip() if lines else "(no diagnostic)"


def compare(actual, expected):
    """None if equal under the upstream rule, else a description."""
    if actual.shape != expected.shape:
        return "shape %s, expected %s" % (list(actual.shape), list(expected.shape))
    # qgtc computes float16 and float64 as float32 (README): such an output
    # comes back float32 and is compared by value under the same rule
    wide = actual.dtype == np.float32 and expected.dtype in (np.float16, np.float64)
    if actual.dtype != expected.dtype and not wide:
        return "dtype %s, expected %s" % (actual.dtype, expected.dtype)
    if actual.size == 0:
        return None
    if np.issubdtype(expected.dtype, np.floating) or np.issubdtype(expected.dtype, np.complexfloating):
        a = actual.astype(np.float64)
        e = expected.astype(np.float64)
        both_nan = np.isnan(a) & np.isnan(e)
        same_inf = np.isinf(a) & np.isinf(e) & (a == e)
        with np.errstate(invalid="ignore", over="ignore"):
            err = np.abs(a - e)
            ok = (err <= ATOL + RTOL * np.abs(e)) | both_nan | same_inf
        if ok.all():
            return None
        bad = ~ok
        err = np.where(bad, np.nan_to_num(err, nan=np.inf), 0.0)
        k = np.unravel_index(int(np.argmax(err)), err.shape)
        return "%d/%d elements differ; max abs error %.3g at %s (got %r, expected %r)" % (
            int(bad.sum()), a.size, float(err[k]), tuple(int(i) for i in k),
            float(actual[k]), float(expected[k]))
    if np.array_equal(actual, expected):
        return None
    bad = actual != expected
    k = np.unravel_index(int(np.argmax(bad)), bad.shape)
    return "%d/%d elements differ; first at %s (got %r, expected %r)" % (
        int(bad.sum()), actual.size, tuple(int(i) for i in k), actual[k].item(), expected[k].item())


def run_case(c, qgtc, timeout, extra):
    data = os.path.join(c.dir, "test_data_set_0")
    inputs = numbered(data, "input_", ".pb")
    expected_files = numbered(data, "output_", ".pb")
    tmp = tempfile.mkdtemp(prefix="qgtc-conf-")
    try:
        cmd = [qgtc, "run", os.path.join(c.dir, "model.onnx")] + inputs + ["--output-dir", tmp] + extra
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=timeout, errors="replace")
        except subprocess.TimeoutExpired as e:
            c.status, c.detail = "FAIL", "timeout after %g s" % timeout
            err = e.stderr or ""  # bytes even in text mode
            c.log = err.decode("utf-8", "replace") if isinstance(err, bytes) else err
            return c
        c.log = p.stderr
        rc = p.returncode
        sanitizer = "AddressSanitizer" in p.stderr or "runtime error" in p.stderr
        if rc < 0 or rc > 128 or sanitizer:
            how = ("killed by signal %d" % -rc) if rc < 0 else ("exit status %d" % rc)
            c.status, c.detail = "CRASH", "%s: %s" % (how, first_diagnostic(p.stderr))
            return c
        if rc != 0:
            why = unsupported_diagnostic(p.stderr) if rc == 1 else None
            if why:
                c.status, c.detail = "skip", why
            else:
                c.status, c.detail = "FAIL", "exit status %d: %s" % (rc, first_diagnostic(p.stderr))
            return c
        produced = numbered(tmp, "output_", ".npy")
        if len(produced) != len(expected_files):
            c.status = "FAIL"
            c.detail = "%d outputs written, %d expected" % (len(produced), len(expected_files))
            return c
        for k, (pa, pe) in enumerate(zip(produced, expected_files)):
            if os.path.basename(pa) != "output_%d.npy" % k:
                c.status, c.detail = "FAIL", "output_%d.npy missing" % k
                return c
            try:
                actual = np.load(pa, allow_pickle=False)
            except Exception as e:
                c.status, c.detail = "FAIL", "output %d: unreadable .npy: %s" % (k, e)
                return c
            expected = to_array(onnx.load_tensor(pe))
            why = compare(actual, expected)
            if why:
                c.status, c.detail = "FAIL", "output %d: %s" % (k, why)
                return c
        c.status = "pass"
        return c
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description="Run ONNX conformance cases through 'qgtc run'.")
    ap.add_argument("--qgtc", required=True, help="path to the qgtc executable")
    ap.add_argument("suites", nargs="+", metavar="SUITE_DIR", help="folders of test cases")
    ap.add_argument("--min-pass-rate", type=float, default=None, metavar="RATE",
                    help="least pass rate over the eligible cases, of which there must be some")
    ap.add_argument("--min-passed", type=int, default=0, metavar="N",
                    help="exit 1 unless at least N selected cases pass")
    ap.add_argument("--jobs", "-j", type=int, default=2, help="cases run in parallel (default 2)")
    ap.add_argument("--flag", action="append", default=[], metavar="FLAG",
                    help="pass FLAG to qgtc run as well (repeatable), e.g. --flag=-Os")
    ap.add_argument("--filter", default=None, metavar="SUBSTR[,SUBSTR...]",
                    help="only cases whose 'suite/name' contains one of the SUBSTRs")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per case (default 60)")
    ap.add_argument("--engine", default=None, help="pass --engine ENGINE to qgtc run (interp, native)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="also list passing cases and print the diagnostics of failing ones")
    args = ap.parse_args()
    if args.min_pass_rate is None and args.min_passed <= 0:
        ap.error("give a gate: --min-pass-rate RATE or --min-passed N")

    qgtc = os.path.abspath(args.qgtc)
    if not (os.path.isfile(qgtc) and os.access(qgtc, os.X_OK)):
        ap.error("qgtc executable '%s' not found" % args.qgtc)
    for s in args.suites:
        if not os.path.isdir(s):
            ap.error("suite folder '%s' not found" % s)

    empty = [s for s in args.suites if not find_cases([s], None)]
    cases = find_cases(args.suites, args.filter)
    jobs = max(1, args.jobs)
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        extra = (["--engine", args.engine] if args.engine else []) + args.flag
        list(ex.map(lambda c: run_case(c, qgtc, args.timeout, extra), cases))

    for c in cases:
        if c.status != "pass" or args.verbose:
            line = "%s: %s" % (c.label, c.status)
            if c.detail:
                line += ": " + c.detail
            print(line)
            if args.verbose and c.status != "pass" and c.log.strip():
                for l in c.log.rstrip().splitlines()[:40]:
                    print("    " + l)

    unclassified = [c for c in cases if c.status not in ("pass", "skip", "FAIL", "CRASH")]
    assert not unclassified, "unclassified cases: %s" % [c.label for c in unclassified]
    passed = sum(c.status == "pass" for c in cases)
    skipped = sum(c.status == "skip" for c in cases)
    failed = len(cases) - passed - skipped
    crashed = sum(c.status == "CRASH" for c in cases)
    elig = [c for c in cases if c.eligible]
    elig_pass = sum(c.status == "pass" for c in elig)
    rate = elig_pass / len(elig) if elig else 0.0
    print("eligible (float/int64 in, float out): %d/%d passed (%.1f%%)" % (elig_pass, len(elig), 100.0 * rate))
    if crashed:
        print("%d crashed" % crashed)
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    bad = []
    for s in empty:
        bad.append("suite folder '%s' holds no test case" % s)
    if failed:
        bad.append("%d case(s) failed or crashed" % failed)
    if args.min_pass_rate is not None:
        if not elig:
            bad.append("no eligible case selected: --min-pass-rate has nothing to gate")
        elif rate < args.min_pass_rate:
            bad.append("eligible pass rate %.4f is below --min-pass-rate %g" % (rate, args.min_pass_rate))
    if passed < args.min_passed:
        bad.append("--min-passed %d: only %d passed" % (args.min_passed, passed))
    for b in bad:
        print("FAIL: " + b)
    sys.stdout.flush()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
