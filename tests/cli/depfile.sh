#!/bin/bash
# depfile.sh: -MD lists every file the compile read, not only the model:
# an ONNX model's external-data file, a DSL model's `weights` file (and
# that file's own external data) and a layer's .npy weights.  make then
# rebuilds when any of them changes, and only then.
# usage: depfile.sh QGTC WORKDIR
# Prints one line per check, then "N passed, M failed".
set -u
QGTC=${1:?usage: depfile.sh QGTC WORKDIR}
WORK=${2:?usage: depfile.sh QGTC WORKDIR}
PY=/usr/bin/python3
rm -rf "$WORK"
mkdir -p "$WORK/sub" || exit 2
WORK=$(cd "$WORK" && pwd)
QGTC=$(cd "$(dirname "$QGTC")" && pwd)/$(basename "$QGTC")
npass=0 nfail=0
check() {
	local desc=$1
	shift
	if "$@"; then
		npass=$((npass + 1))
		echo "PASS: $desc"
	else
		nfail=$((nfail + 1))
		echo "FAIL: $desc"
	fi
}

# ext.onnx: y = x + w, w's 4 floats in w.bin; wts.onnx: dense layer fc's
# weight in wts.bin and bias inline; b.npy: a bias for the DSL's fc2.
$PY - "$WORK" <<'PY' || { echo "FAIL: cannot write the models"; exit 1; }
import sys, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
w = sys.argv[1]
def ext(name, arr, loc):
    t = numpy_helper.from_array(arr, name)
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", loc), ("offset", "0"), ("length", str(arr.nbytes))):
        e = t.external_data.add()
        e.key, e.value = k, v
    arr.tofile(w + "/sub/" + loc)
    return t
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"], name="add0")], "ext", [x], [y],
                      [ext("w", np.arange(4, dtype=np.float32), "w.bin")])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), w + "/sub/ext.onnx")
fw = ext("fc.weight", np.ones((3, 4), np.float32), "wts.bin")
fb = numpy_helper.from_array(np.zeros(3, np.float32), "fc.bias")
o = helper.make_tensor_value_info("o", TensorProto.FLOAT, [3])
g = helper.make_graph([helper.make_node("Identity", ["fc.bias"], ["o"])], "wts", [], [o], [fw, fb])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), w + "/sub/wts.onnx")
np.save(w + "/sub/b.npy", np.full(2, 0.5, np.float32))
PY
cat >"$WORK/sub/net.qgm" <<'EOF'
model net
weights "wts.onnx"
input x: f32[1, 4]
dense(3) -> fc
dense(2, bias="b.npy", init=he) -> fc2
output as y
EOF

cd "$WORK" || exit 2
"$QGTC" sub/ext.onnx -o ext.o -MD >out 2>&1
check "an ONNX model with external data compiles with -MD" [ $? -eq 0 -a -s ext.d ]
check "ext.d lists the model and its external data file" \
	grep -Eq '^ext\.o ext\.h: sub/ext\.onnx \\$' ext.d
check "ext.d lists sub/w.bin" grep -Eq '^  sub/w\.bin$' ext.d
"$QGTC" sub/net.qgm -o net.o -MD -MF net.deps >out 2>&1
check "a DSL model with a weights file and a .npy compiles with -MD -MF" [ $? -eq 0 -a -s net.deps ]
for f in sub/wts.onnx sub/wts.bin sub/b.npy; do
	check "net.deps lists $f" grep -Eq "^  ${f//./\\.}( \\\\)?\$" net.deps
done
check "net.deps starts with the model" grep -Eq '^net\.o net\.h: sub/net\.qgm \\$' net.deps

# make: the data files are prerequisites through the .d files
cat >Makefile <<EOF
all: ext.o net.o
ext.o: sub/ext.onnx
	"$QGTC" sub/ext.onnx -o ext.o -MD
net.o: sub/net.qgm
	"$QGTC" sub/net.qgm -o net.o -MD -MF net.deps
-include ext.d net.deps
EOF
# mtimes one second apart, so that make sees every change whatever the
# file system's timestamp resolution
age() { touch -c -d "@$(($(date +%s) - $1))" "${@:2}"; }
age 100 sub/* && age 50 ext.o ext.h ext.d net.o net.h net.deps
make -q all
check "make: up to date after the first build" [ $? -eq 0 ]
for f in sub/w.bin sub/wts.onnx sub/wts.bin sub/b.npy; do
	age 10 "$f"
	make -q all
	check "make: $f changed, out of date" [ $? -eq 1 ]
	make all >make.log 2>&1
	rc=$?
	check "make: $f changed, rebuilt" eval '[ $rc -eq 0 ] && grep -q qgtc make.log'
	age 100 sub/* && age 50 ext.o ext.h ext.d net.o net.h net.deps
done
make -q all
check "make: up to date again" [ $? -eq 0 ]

echo "$npass passed, $nfail failed"
[ $nfail -eq 0 ]
