#!/bin/bash
# ort_qdq.sh: a model compiled with -a 8 is written as standard QDQ ONNX
# (--save-onnx) that ONNX Runtime loads and runs: its top-1 on the whole
# Fashion-MNIST test split in ORT (onnxruntime-node, CPU) must be within
# 0.1 pt of qgtc's own engine on the same QDQ file, which in turn must
# give what `qgtc eval -a 8` gives (the file holds the same integers).
# usage: ort_qdq.sh QGTC WORKDIR [SOURCE_DIR] [DATA_DIR]
# onnxruntime-node is taken from $QGTC_NODE_PREFIX/node_modules (default
# /usr/local/lib/qgtc-node, where tools/setup.sh installs it), else
# installed from npm into WORKDIR.  Exits 77 (skipped) when neither works;
# under CI=true that fails instead (tests/skip.sh).
set -u
QGTC=${1:?usage: ort_qdq.sh QGTC WORKDIR [SOURCE_DIR] [DATA_DIR]}
WORK=${2:?usage: ort_qdq.sh QGTC WORKDIR [SOURCE_DIR] [DATA_DIR]}
SRC=${3:-$(cd "$(dirname "$0")/../.." && pwd)}
DATA=${4:-/usr/share/datasets/fashion-mnist}
MODEL=$SRC/examples/fashion_cnn/fashion_cnn.onnx
PY=/usr/bin/python3
mkdir -p "$WORK"
. "$(dirname "$0")/../skip.sh"
if [ ! -r "$DATA/t10k-images-idx3-ubyte.gz" ]; then
	skip_test "ort_qdq: $DATA not found"
fi
command -v node >/dev/null || skip_test "ort_qdq: node not found (tools/setup.sh installs it)"
MODS=${QGTC_NODE_PREFIX:-/usr/local/lib/qgtc-node}/node_modules
if [ ! -f "$MODS/onnxruntime-node/package.json" ]; then
	MODS=$WORK/node_modules
	if [ ! -f "$MODS/onnxruntime-node/package.json" ]; then
		# --ignore-scripts: the install script fetches CUDA add-ons; the
		# CPU library ships inside the package.
		(cd "$WORK" && npm install --ignore-scripts --no-audit --no-fund onnxruntime-node@1.30.0 \
			>npm.log 2>&1) || {
			cat "$WORK/npm.log" >&2
			skip_test "ort_qdq: onnxruntime-node is not installed (tools/setup.sh) and npm cannot install it"
		}
	fi
fi
echo "onnxruntime-node: $MODS"
export NODE_PATH=$MODS
fail=0

# 1. compile with int8 activations (calibrated on the training split) and
#    write the QDQ model; batch 100 for ORT.
"$QGTC" "$MODEL" -a 8 --calib-data "$DATA" --batch 100 --emit ir -o "$WORK/w8a8.qir" \
	--save-onnx "$WORK/w8a8_qdq.onnx" || exit 1
grep -q 'conv(.*rq_mult' "$WORK/w8a8.qir" || { echo "FAIL: -a 8 made no integer conv"; exit 1; }
$PY - "$WORK/w8a8_qdq.onnx" <<'PY' || exit 1
import sys, onnx
m = onnx.load(sys.argv[1])
ops = [n.op_type for n in m.graph.node]
q, dq = ops.count("QuantizeLinear"), ops.count("DequantizeLinear")
print("qdq model: %d nodes, %d QuantizeLinear, %d DequantizeLinear, opset %d"
      % (len(ops), q, dq, m.opset_import[0].version))
if q < 3 or dq < 6 or "Conv" not in ops:
    sys.exit("FAIL: not a QDQ model: %s" % ops)
PY

# 2. the test split as .npy, normalised as qgtc eval does (x * (1/255))
$PY - "$DATA" "$WORK" <<'PY' || exit 1
import gzip, sys, numpy as np
d, w = sys.argv[1], sys.argv[2]
x = np.frombuffer(gzip.open(d + "/t10k-images-idx3-ubyte.gz").read(), np.uint8, offset=16)
y = np.frombuffer(gzip.open(d + "/t10k-labels-idx1-ubyte.gz").read(), np.uint8, offset=8)
np.save(w + "/x.npy", x.reshape(-1, 1, 28, 28).astype(np.float32) * np.float32(1.0 / 255.0))
np.save(w + "/y.npy", y.astype(np.int64))
PY

# 3. ORT, qgtc on the QDQ file, qgtc -a 8 on the float model
ort=$(node "$SRC/tests/quant/ort_eval.js" "$WORK/w8a8_qdq.onnx" "$WORK/x.npy" "$WORK/y.npy" 100) || exit 1
echo "$ort"
qdq=$("$QGTC" eval "$WORK/w8a8_qdq.onnx" --data "$DATA" --engine native -q | tail -1) || exit 1
echo "qgtc on the QDQ file: $qdq"
own=$("$QGTC" eval "$MODEL" --data "$DATA" --engine native -q -a 8 | tail -1) || exit 1
echo "qgtc eval -a 8:       $own"
pct() { sed -n 's/.*top-1: \([0-9.]*\)%.*/\1/p' <<<"$1"; }
a=$(pct "$ort") b=$(pct "$qdq") c=$(pct "$own")
awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.1001) }' ||
	{ echo "FAIL: ORT $a% and qgtc $b% differ by more than 0.1 pt on the same QDQ model"; fail=1; }
awk -v b="$b" -v c="$c" 'BEGIN { d = b - c; if (d < 0) d = -d; exit !(d <= 0.0501) }' ||
	{ echo "FAIL: the QDQ file gives $b%, qgtc -a 8 gave $c%"; fail=1; }
# 4. node names: a Softmax of opset 11 over a 4-D tensor imports as
#    flatten, softmax and reshape under one name; the QDQ file must name
#    them apart, or ORT refuses it ("two nodes with same node name")
$PY - "$WORK" <<'PY' || exit 1
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
w = sys.argv[1]
r = np.random.default_rng(4)
g = helper.make_graph(
    [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
     helper.make_node("Softmax", ["c"], ["y"], name="/Softmax", axis=1)],
    "sm11", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 4, 4])],
    [numpy_helper.from_array(r.standard_normal((4, 3, 3, 3)).astype(np.float32), "w"),
     numpy_helper.from_array(r.standard_normal(4).astype(np.float32), "b")])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 11)]), w + "/sm11.onnx")
np.save(w + "/sm11_calib.npy", r.standard_normal((8, 3, 4, 4)).astype(np.float32))
PY
if "$QGTC" "$WORK/sm11.onnx" -a 8 --calib-data "$WORK/sm11_calib.npy" --save-onnx "$WORK/sm11_qdq.onnx" \
	-o "$WORK/sm11.o" &&
	$PY -c "import onnx, sys; n = [x.name for x in onnx.load(sys.argv[1]).graph.node]; \
sys.exit(0 if len(set(n)) == len(n) and n.count('/Softmax') == 1 else 'names: %s' % n)" "$WORK/sm11_qdq.onnx" &&
	node "$SRC/bench/latency_ort.js" "$WORK/sm11_qdq.onnx" 0.01 20 | grep -q '^ort: '; then
	echo "node names: ok (ORT runs the QDQ file of an opset-11 Softmax)"
else
	echo "FAIL: the QDQ file of an opset-11 Softmax repeats a node name or ORT refuses it"; fail=1
fi
# 5. blocked quantization (opset 21's block_size): int4-range weights
#    dequantized in blocks of 3 along K, a matmul, and a blocked quantize
#    and dequantize of its output; qgtc's engine, and ORT on the model
#    and on qgtc's --save-onnx of it, give the same numbers.
$PY - "$WORK" <<'PY' || exit 1
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
w, r = sys.argv[1], np.random.default_rng(3)
g = helper.make_graph(
    [helper.make_node("DequantizeLinear", ["w", "s"], ["wf"], axis=1, block_size=3),
     helper.make_node("MatMul", ["x", "wf"], ["y"]),
     helper.make_node("QuantizeLinear", ["y", "ys", "yz"], ["yq"], axis=1, block_size=2),
     helper.make_node("DequantizeLinear", ["yq", "ys", "yz"], ["z"], axis=1, block_size=2)],
    "blk", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
    [helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 6])],
    [numpy_helper.from_array(r.integers(-8, 8, (4, 6)).astype(np.int8), "w"),
     numpy_helper.from_array((r.random((4, 2)) * 0.1 + 0.01).astype(np.float32), "s"),
     numpy_helper.from_array((r.random((2, 3)) * 0.05 + 0.01).astype(np.float32), "ys"),
     numpy_helper.from_array(r.integers(0, 255, (2, 3)).astype(np.uint8), "yz")])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
m.ir_version = 10
onnx.save(m, w + "/blk.onnx")
np.save(w + "/blk_x.npy", r.standard_normal((2, 4)).astype(np.float32))
PY
rm -rf "$WORK/blk_out"
mkdir -p "$WORK/blk_out"
if "$QGTC" run "$WORK/blk.onnx" "$WORK/blk_x.npy" --output-dir "$WORK/blk_out" &&
	"$QGTC" "$WORK/blk.onnx" --save-onnx "$WORK/blk_qgtc.onnx" -o "$WORK/blk.o" 2>/dev/null &&
	node -e "
const ort = require('onnxruntime-node'), {readNpy} = require('$SRC/tests/quant/npy.js');
(async () => {
  const x = readNpy('$WORK/blk_x.npy'), q = readNpy('$WORK/blk_out/output_0.npy');
  for (const f of ['$WORK/blk.onnx', '$WORK/blk_qgtc.onnx']) {
    const s = await ort.InferenceSession.create(f);
    const z = (await s.run({x: new ort.Tensor('float32', x.data, [2, 4])})).z.data;
    for (let i = 0; i < z.length; i++)
      if (z[i] !== q.data[i]) throw new Error(f + ': element ' + i + ' is ' + z[i] + ' in ORT, ' + q.data[i] + ' in qgtc');
  }
})().catch((e) => { console.error(e.message); process.exit(1); });"; then
	echo "blocked quantization: ok (qgtc, ORT on the model and on qgtc's export agree exactly)"
else
	echo "FAIL: blocked quantization differs between qgtc and ORT"; fail=1
fi
[ $fail = 0 ] && echo "ort_qdq: ok"
exit $fail
