#!/bin/bash
# json_names.sh: names from the model reach qgtc's JSON output escaped by
# one JSON string writer: quotes, backslashes, control characters and
# bytes that are not UTF-8 in a layer's or weight's name still give a
# report that a strict JSON reader loads, with the names intact.
#
# usage: json_names.sh PATH_TO_QGTC SCRATCH_DIR
set -u
QGTC=${1:?usage: json_names.sh QGTC SCRATCH}
T=${2:?scratch dir}
PY=/usr/bin/python3
rm -rf "$T"
mkdir -p "$T" || exit 2
T=$(cd "$T" && pwd)

# Gemm with weight 'w"\<newline>XX' and node 'fc"}]XX', XX then patched to
# the bytes ff fe (not UTF-8, which onnx's Python API would refuse).
"$PY" - "$T/names.onnx" <<'PYEOF' || exit 2
import sys
import numpy as np
from onnx import TensorProto, helper, numpy_helper
w = numpy_helper.from_array(np.linspace(-1, 1, 32, dtype=np.float32).reshape(8, 4),
                            'w"\\\nQQ')
n = helper.make_node("Gemm", ["x", w.name], ["y"], name='fc"}]QQ', transB=1)
g = helper.make_graph([n], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])], [w])
b = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()
open(sys.argv[1], "wb").write(b.replace(b"QQ", b"\xff\xfe"))
PYEOF

"$QGTC" "$T/names.onnx" -b 4 --report-json "$T/r.json" --emit ir -o "$T/m.qir" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -ne 0 ]; then
	echo "FAIL: qgtc -b 4 --report-json exited $rc"
	cat "$T/err"
	exit 1
fi
"$PY" - "$T/r.json" <<'PYEOF'
import json, sys
raw = open(sys.argv[1], "rb").read()
try:
    r = json.loads(raw.decode("utf-8"))
except Exception as e:
    sys.exit("FAIL: --report-json is not valid UTF-8 JSON: %s\n%r" % (e, raw[:400]))
layers = r["layers"]
want = [('fc"}]\u00ff\u00fe', 'w"\\\n\u00ff\u00fe')]
got = [(l["layer"], l["weight"]) for l in layers]
if got != want:
    sys.exit("FAIL: layer names %r, expected %r" % (got, want))
print("PASS: --report-json with hostile names is valid JSON and names them")
PYEOF
