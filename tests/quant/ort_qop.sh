#!/bin/bash
# ort_qop.sh: models in ONNX Runtime's QOperator format (com.microsoft's
# QLinearAdd, QLinearMul, QLinearLeakyRelu, QLinearSigmoid, QLinearConcat,
# QLinearAveragePool, QLinearGlobalAveragePool, QLinearSoftmax and QGemm,
# also with alpha, as quantize_static writes them) run in qgtc (both engines) and in ONNX
# Runtime (onnxruntime-node, CPU), which is the reference: every integer
# output within one step of its scale (ORT requantizes in float, qgtc in
# fixed point), the float QGemm within 1e-5; each with an integer output
# runs in integers in qgtc (no float layer but the test's own input
# scaling), and the M4 object is bit-exact with the interpreter.
# usage: ort_qop.sh QGTC WORKDIR [SOURCE_DIR]
set -u
QGTC=${1:?usage: ort_qop.sh QGTC WORKDIR [SOURCE_DIR]}
WORK=${2:?usage: ort_qop.sh QGTC WORKDIR [SOURCE_DIR]}
SRC=${3:-$(cd "$(dirname "$0")/../.." && pwd)}
PY=/usr/bin/python3
. "$(dirname "$0")/../skip.sh"
command -v node >/dev/null || skip_test "ort_qop: node not found (tools/setup.sh installs it)"
MODS=${QGTC_NODE_PREFIX:-/usr/local/lib/qgtc-node}/node_modules
[ -f "$MODS/onnxruntime-node/package.json" ] ||
	skip_test "ort_qop: onnxruntime-node is not installed in $MODS (tools/setup.sh installs it)"
export NODE_PATH=$MODS
rm -rf "$WORK"
mkdir -p "$WORK"
$PY "$SRC/tests/quant/qop_models.py" "$WORK" || exit 1
fail=0
for m in add mul leaky sigmoid concat avgpool gap qgemm qgemm_alpha softmax qgemm_float; do
	node "$SRC/tests/quant/ort_run.js" "$WORK/$m.onnx" "$WORK/x.npy" "$WORK/$m.ort.npy" 2>"$WORK/$m.ort.err" ||
		{ echo "FAIL $m: ONNX Runtime did not run it"; cat "$WORK/$m.ort.err"; fail=1; continue; }
	for e in interp native; do
		"$QGTC" run "$WORK/$m.onnx" "$WORK/x.npy" --engine $e --output-dir "$WORK/$m.$e" ||
			{ echo "FAIL $m: qgtc run --engine $e"; fail=1; continue; }
		$PY - "$WORK/$m.onnx" "$WORK/$m.ort.npy" "$WORK/$m.$e/output_0.npy" "$m/$e" <<'PY' || fail=1
import sys, numpy as np, onnx
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
a, b = np.load(sys.argv[2]), np.load(sys.argv[3])
last = m.graph.node[-1]
if a.shape != b.shape:
    print("FAIL %s: shape %s, ORT %s" % (sys.argv[4], b.shape, a.shape)); sys.exit(1)
if last.op_type == "DequantizeLinear":
    init = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    step = float(init[last.input[1]])
    worst = float(np.abs(a - b).max()) / step
    ok = worst <= 1 + 1e-3
    what = "%.0f of %d elements one step off, at most %.2f steps" % ((np.abs(a - b) > step / 2).sum(), a.size, worst)
else:
    worst = float(np.abs(a - b).max() / np.abs(a).max())
    ok = worst <= 1e-5
    what = "max error %.2g of the largest output" % worst
print("%s %s: %s" % ("ok  " if ok else "FAIL", sys.argv[4], what))
sys.exit(0 if ok else 1)
PY
	done
	# a float output, and alpha (no integer form here): the gemm stays float
	case $m in qgemm_float | qgemm_alpha) continue ;; esac
	if ! "$QGTC" "$WORK/$m.onnx" --report layers -o "$WORK/$m.o" 2>&1 | grep -Eq "^layers: [1-9][0-9]* integer, [01] float"; then
		echo "FAIL $m: not integer:"; "$QGTC" "$WORK/$m.onnx" --report layers -o "$WORK/$m.o" 2>&1 | tail -3; fail=1
	fi
done
# on the M4, integer code is the interpreter's bytes
for m in add concat qgemm softmax; do
	if "$QGTC" validate "$WORK/$m.onnx" "$WORK/x.npy" --target armv7em >"$WORK/$m.val" 2>&1 &&
		grep -q "bit-exact on 1/1" "$WORK/$m.val"; then
		echo "ok   $m/armv7em: bit-exact"
	else
		echo "FAIL $m/armv7em:"; cat "$WORK/$m.val"; fail=1
	fi
done
exit $fail
