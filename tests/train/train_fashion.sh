#!/bin/bash
# train_fashion.sh: fine-tune examples/fashion_cnn for a short epoch on a
# subset of Fashion-MNIST with `qgtc train`, then check that
#  - accuracy did not collapse (qgtc eval on 2000 test samples >= 85%),
#  - the --save-onnx output passes onnx.checker (full check) and keeps a
#    symbolic batch,
#  - qgtc's interpreter gives the same outputs on the written model as on
#    a model it loads back from it (and onnx's reference evaluator agrees,
#    where this onnx has one).
# usage: train_fashion.sh QGTC SCRATCH_DIR
set -euo pipefail
qgtc=$1
scratch=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
data=/usr/share/datasets/fashion-mnist
py=/usr/bin/python3
. "$here/../skip.sh"
if [ ! -e "$data/train-images-idx3-ubyte.gz" ]; then
  skip_test "$data not found"
fi
rm -rf "$scratch"; mkdir -p "$scratch"; cd "$scratch"

"$qgtc" train "$root/examples/fashion_cnn/fashion_cnn.onnx" --data "$data" --epochs 1 \
  --limit 12800 --val-split 0.1 --lr 0.005 --schedule cosine --warmup 10 --seed 1 \
  --save-onnx tuned.onnx | tee train.log
grep -q "validation acc" train.log
grep -q "img/s" train.log

"$qgtc" eval tuned.onnx --data "$data" --limit 2000 | tee eval.log
acc=$(sed -n 's/^top-1: \([0-9.]*\)%.*/\1/p' eval.log)
awk -v a="$acc" 'BEGIN { exit !(a >= 85) }' || { echo "FAIL: accuracy $acc% collapsed"; exit 1; }

# Determinism: the same seed gives the same bytes.
"$qgtc" train "$root/examples/fashion_cnn/fashion_cnn.onnx" --data "$data" --max-steps 5 \
  --limit 1280 --seed 3 --save-onnx a.onnx -q
"$qgtc" train "$root/examples/fashion_cnn/fashion_cnn.onnx" --data "$data" --max-steps 5 \
  --limit 1280 --seed 3 --save-onnx b.onnx -q
cmp a.onnx b.onnx || { echo "FAIL: same seed, different weights"; exit 1; }

$py - tuned.onnx <<'PYEOF'
import sys, numpy as np, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
dim0 = m.graph.input[0].type.tensor_type.shape.dim[0]
assert dim0.dim_param, "batch dim should stay symbolic"
np.random.seed(0)
np.save("x.npy", np.random.rand(3, 1, 28, 28).astype(np.float32))
try:
    from onnx.reference import ReferenceEvaluator
except ImportError:
    print("onnx.reference not available in onnx", onnx.__version__, "- checker only")
else:
    y = ReferenceEvaluator(m).run(None, {m.graph.input[0].name: np.load("x.npy")})[0]
    np.save("ref.npy", y)
print("onnx checker: ok, opset", m.opset_import[0].version)
PYEOF

"$qgtc" run tuned.onnx x.npy --output-dir out
"$qgtc" tuned.onnx --emit ir --ir-weights=full -o tuned.qir
"$qgtc" run tuned.qir x.npy --output-dir out2
$py - <<'PYEOF'
import os, numpy as np
a = np.load("out/output_0.npy"); b = np.load("out2/output_0.npy")
assert a.shape == (3, 10), a.shape
assert np.allclose(a, b, atol=1e-5), abs(a - b).max()
if os.path.exists("ref.npy"):
    r = np.load("ref.npy")
    assert np.allclose(a, r, atol=1e-4), abs(a - r).max()
    print("onnx reference evaluator agrees")
print("interpreter outputs agree")
PYEOF
echo "PASS"
