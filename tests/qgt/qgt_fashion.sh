#!/bin/bash
# qgt_fashion.sh: a short QGT fine-tune of the bundled Fashion-MNIST CNN
# through `qgtc eval --qgt` (a few hundred steps, native engine, 2000 test
# images), against FP32 and PTQ.  Checks that 4-bit QGT beats 4-bit PTQ or
# is within 0.5 pt of FP32, and that 2-bit QGT beats 2-bit PTQ by at least
# 20 pt, also on the model with its batchnorms folded (as eval-mode
# exports are: QGT re-introduces them); and that the saved fine-tuned
# model compiles to the same accuracy (its kernels sit on the grid the
# quantize pass recomputes); and that 2-bit QGT with int8 activations
# (-a 8: integer inference; the fine-tune fake-quantizes the activations
# in the loop, on the grids the integer model then runs on) stays within
# 0.5 pt of 2-bit QGT with float activations.
# usage: qgt_fashion.sh QGTC [SOURCE_DIR] [DATA_DIR]
set -u
. "$(dirname "$0")/fashion_lib.sh" qgt_fashion "$@"
acc fp32 -q
acc ptq4 -b 4 -q
acc ptq2 -b 2 -q
acc qgt4 -b 4 --qgt --max-steps 150 --save-onnx "$tmp/qgt4.onnx"
acc qgt2 -b 2 --qgt --max-steps 250
acc qgt2a8 -b 2 --qgt --max-steps 250 -a 8
# The same model with its batchnorms folded into the convs by an
# independent script (onnx + numpy, as an eval-mode exporter does): QGT
# re-introduces a live per-channel batchnorm while fine-tuning.
/usr/bin/python3 - "$MODEL" "$tmp/folded.onnx" <<'PY' || { echo "FAIL: cannot fold the model"; exit 1; }
import sys, numpy as np, onnx
from onnx import numpy_helper as nh
m = onnx.load(sys.argv[1]); g = m.graph
init = {i.name: i for i in g.initializer}
arr = lambda n: nh.to_array(init[n]).astype(np.float64)
prod = {o: n for n in g.node for o in n.output}
for n in [n for n in g.node if n.op_type == "BatchNormalization"]:
    c = prod[n.input[0]]
    assert c.op_type == "Conv" and len(c.input) == 3, "conv with bias expected"
    eps = next((a.f for a in n.attribute if a.name == "epsilon"), 1e-5)
    gam, bet, mu, var = (arr(x) for x in n.input[1:5])
    s = gam / np.sqrt(var + eps)
    w, b = arr(c.input[1]), arr(c.input[2])
    init[c.input[1]].CopyFrom(nh.from_array((w * s[:, None, None, None]).astype(np.float32), c.input[1]))
    init[c.input[2]].CopyFrom(nh.from_array(((b - mu) * s + bet).astype(np.float32), c.input[2]))
    c.output[0] = n.output[0]
    g.node.remove(n)
    for x in n.input[1:5]:
        g.initializer.remove(init[x])
onnx.checker.check_model(m)
onnx.save(m, sys.argv[2])
PY
MODEL=$tmp/folded.onnx acc fold2 -b 2 --qgt --max-steps 250

# the saved 4-bit model, quantized by plain PTQ, is the same model
MODEL=$tmp/qgt4.onnx acc re4 -b 4 -q

table "Fashion-MNIST (n=$LIMIT)" fp32 ptq4 ptq2 qgt4 qgt2 qgt2a8 fold2 re4
fail=0
grep -q "kernels on their grids" "$tmp/qgt2.log" || { echo "FAIL: no QGT report"; fail=1; }
awk -v q="${A[qgt4]}" -v p="${A[ptq4]}" -v f="${A[fp32]}" 'BEGIN { exit !(q > p || f - q <= 0.5) }' ||
	{ echo "FAIL: 4-bit QGT ${A[qgt4]}% neither beats PTQ ${A[ptq4]}% nor is within 0.5 pt of FP32"; fail=1; }
awk -v q="${A[qgt2]}" -v p="${A[ptq2]}" 'BEGIN { exit !(q - p >= 20) }' ||
	{ echo "FAIL: 2-bit QGT ${A[qgt2]}% is not 20 pt above 2-bit PTQ ${A[ptq2]}%"; fail=1; }
awk -v q="${A[fold2]}" -v p="${A[ptq2]}" 'BEGIN { exit !(q - p >= 20) }' ||
	{ echo "FAIL: 2-bit QGT on the folded model ${A[fold2]}% is not 20 pt above 2-bit PTQ ${A[ptq2]}%"; fail=1; }
grep -q "batchnorm re-introduced" "$tmp/fold2.log" ||
	{ echo "FAIL: no batchnorm re-introduced on the folded model"; fail=1; }
grep -q "activations int8 in the loop: [1-9][0-9]* fake quantizers" "$tmp/qgt2a8.log" ||
	{ echo "FAIL: -a 8 --qgt does not say the activations are fake-quantized in the loop"; fail=1; }
awk -v a="${A[qgt2a8]}" -v q="${A[qgt2]}" 'BEGIN { exit !(q - a <= 0.5001) }' ||
	{ echo "FAIL: 2-bit QGT with int8 activations ${A[qgt2a8]}% is more than 0.5 pt below ${A[qgt2]}%"; fail=1; }
[ "${A[re4]}" = "${A[qgt4]}" ] ||
	{ echo "FAIL: the saved QGT model quantizes to ${A[re4]}%, not ${A[qgt4]}%"; fail=1; }
[ $fail = 0 ] && echo "qgt_fashion: ok"
exit $fail
