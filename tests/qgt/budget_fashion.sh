#!/bin/bash
# budget_fashion.sh: --flash-budget on the bundled Fashion-MNIST CNN and
# real data (native engine, 2000 test images).  The bytes are the size
# report's (--report-json totals.total_bytes), independent of the pass:
# - with 25% more bytes than uniform 2-bit PTQ, the chosen mix stays
#   within the budget and beats uniform 2-bit PTQ by at least 20 pt;
# - with --qgt it fine-tunes at the chosen mix and is no worse than PTQ
#   at that mix; before QGT the widths are costed by the Fisher-weighted
#   squared error (each layer widened past 2 bits costs less than at 2);
# - compile with a budget writes an object whose report fits;
# - a budget below the 1-bit minimum is an error stating the minimum and
#   writes nothing; just above it, the layers at one bit are binary; one
#   above FP32 keeps FP32 and says so; a width hinted on a node does not
#   skew the bytes the pass chose;
# - --bits rules with a budget, or no --data, are usage errors;
# - --report sensitivity prints the per-layer table (params, MACs, bits,
#   bytes, accuracy lost alone, bottleneck) and writes it as JSON.
# usage: budget_fashion.sh QGTC [SOURCE_DIR] [DATA_DIR]
set -u
QGTC=${1:?usage: budget_fashion.sh QGTC [SOURCE_DIR] [DATA_DIR]}
SRC=${2:-$(cd "$(dirname "$0")/../.." && pwd)}
DATA=${3:-/usr/share/datasets/fashion-mnist}
MODEL=$SRC/examples/fashion_cnn/fashion_cnn.onnx
if [ ! -r "$DATA/train-images-idx3-ubyte.gz" ] && [ ! -r "$DATA/train-images-idx3-ubyte" ]; then
	. "$(dirname "$0")/../skip.sh"
	skip_test "budget_fashion: $DATA not found"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
total() { /usr/bin/python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['totals']['total_bytes'])" "$1"; }
top1() { sed -n 's/^top-1: \([0-9.]*\)%.*/\1/p' "$1" | tail -1; }

"$QGTC" "$MODEL" -b 2 --report-json "$tmp/u2.json" -o "$tmp/u2.o" || { echo "FAIL: uniform 2-bit compile"; exit 1; }
u2=$(total "$tmp/u2.json")
budget=$((u2 * 5 / 4))
echo "uniform 2-bit: $u2 bytes; budget $budget"

"$QGTC" eval "$MODEL" --data "$DATA" --limit 2000 --engine native -b 2 >"$tmp/ptq2.log" 2>&1
"$QGTC" eval "$MODEL" --data "$DATA" --limit 2000 --engine native --flash-budget "$budget" \
	--report-json "$tmp/mix.json" >"$tmp/mix.log" 2>&1 || { cat "$tmp/mix.log"; bad "eval --flash-budget"; }
cat "$tmp/mix.log"
ptq2=$(top1 "$tmp/ptq2.log") mix=$(top1 "$tmp/mix.log")
got=$(total "$tmp/mix.json")
echo "PTQ uniform 2-bit $ptq2%, PTQ at the budget's mix $mix% in $got bytes"
[ "$got" -le "$budget" ] || bad "the mix takes $got bytes, over the budget of $budget"
awk -v a="$mix" -v b="$ptq2" 'BEGIN { exit !(a >= b + 20) }' || bad "the mix ($mix%) does not beat uniform 2-bit PTQ ($ptq2%) by 20 pt"
grep -q "bottleneck" "$tmp/mix.log" || bad "no layer flagged as the bottleneck"

"$QGTC" eval "$MODEL" --data "$DATA" --limit 2000 --engine native --flash-budget "$budget" --qgt \
	--max-steps 150 >"$tmp/qgt.log" 2>&1 || { cat "$tmp/qgt.log"; bad "eval --qgt --flash-budget"; }
qmix=$(top1 "$tmp/qgt.log")
echo "QGT at the mix: $qmix%"
awk -v a="$qmix" -v b="$mix" 'BEGIN { exit !(a >= b - 0.5) }' || bad "QGT at the mix ($qmix%) is worse than PTQ at it ($mix%)"

# Before QGT the pass costs each width by the Fisher-weighted squared
# error on QGT's grid (MSE at 2 bits or fewer): the log says so, and each
# layer's cost falls as its width grows.
"$QGTC" eval "$MODEL" --data "$DATA" --limit 100 --engine native --flash-budget "$u2" --qgt \
	--max-steps 1 >"$tmp/qm.log" 2>&1 || { cat "$tmp/qm.log"; bad "eval --qgt --flash-budget at U2"; }
grep -q "cost: Fisher-weighted squared error on QGT's grid" "$tmp/qm.log" || bad "bitalloc before qgt does not use the Fisher cost"
grep -q "cost: loss increase, quantized alone" "$tmp/mix.log" || bad "bitalloc for PTQ does not use the loss increase"
awk '/^layer .*cost@2b/ { t = 1; next } t && NF >= 7 && $6 ~ /^[-+][0-9]/ {
	n++; if ($4 != "fp32" && $4 + 0 > 2 && $7 + 0 >= $6 + 0) bad = bad " " $1; if ($4 + 0 == 2 && $7 != $6) bad = bad " " $1; next }
	{ t = 0 } END { if (n < 4 || bad != "") { print "cost not falling with width:" bad " (" n " rows)"; exit 1 } }' "$tmp/qm.log" ||
	bad "the Fisher costs of the layers widened past 2 bits are not below their 2-bit costs"

"$QGTC" "$MODEL" --data "$DATA" --flash-budget "$budget" --target armv7em --report-json "$tmp/c.json" \
	-o "$tmp/c.o" >"$tmp/c.log" 2>&1 || { cat "$tmp/c.log"; bad "compile --flash-budget"; }
[ -s "$tmp/c.o" ] && [ -s "$tmp/c.h" ] || bad "compile --flash-budget wrote no object and header"
[ "$(total "$tmp/c.json")" -le "$budget" ] || bad "the compiled model is over the budget"

"$QGTC" "$MODEL" --data "$DATA" --flash-budget 1K -o "$tmp/small.o" >"$tmp/small.log" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "needs at least [0-9]* with 1-bit weights" "$tmp/small.log" && [ ! -e "$tmp/small.o" ] ||
	{ cat "$tmp/small.log"; bad "a budget below the 1-bit minimum: rc $rc"; }
# Just above that minimum most layers get one bit, and a layer at one bit
# is binary (+-scale), whose levels straddle zero, not affine's {0, s}.
least=$(sed -n 's/.*needs at least \([0-9]*\) with 1-bit weights.*/\1/p' "$tmp/small.log")
"$QGTC" "$MODEL" --data "$DATA" --flash-budget "$((${least:-0} + 64))" --report-json "$tmp/low.json" \
	-o "$tmp/low.o" >"$tmp/low.log" 2>&1 || { cat "$tmp/low.log"; bad "compile at the 1-bit minimum + 64"; }
/usr/bin/python3 - "$tmp/low.json" "$((${least:-0} + 64))" <<'PY' || bad "the layers at one bit are not binary"
import json, sys
r = json.load(open(sys.argv[1]))
one = [l for l in r["layers"] if l["bits"] == 1]
print("at the minimum + 64 bytes: %s" % [(l["weight"], l["scheme"], l["bits"]) for l in r["layers"]])
assert one and all(l["scheme"] == "binary" for l in one), r["layers"]
assert r["totals"]["total_bytes"] <= int(sys.argv[2]), r["totals"]
PY
# A width hinted on a node (here the classifier's !bits=8 in a .qir) does
# not leak into the measurement: the bytes the pass says it chose are the
# size report's bytes of the model it deploys.
"$QGTC" "$MODEL" --emit ir --ir-weights full -o "$tmp/h.qir" &&
	sed -i 's/\(= gemm([^;]*\)\(  ; \)/\1 !bits=8\2/' "$tmp/h.qir" && grep -q '!bits=8' "$tmp/h.qir" ||
	bad "a .qir with a hinted classifier"
"$QGTC" eval "$tmp/h.qir" --data "$DATA" --limit 100 --flash-budget 6K --report-json "$tmp/h.json" \
	>"$tmp/h.log" 2>&1 || { cat "$tmp/h.log"; bad "--flash-budget on a hinted .qir"; }
said=$(sed -n 's/^bitalloc: \([0-9]*\) of [0-9]* bytes.*/\1/p' "$tmp/h.log")
[ -n "$said" ] && [ "$said" = "$(total "$tmp/h.json")" ] ||
	bad "on a hinted .qir the budget chose ${said:-?} bytes but the model has $(total "$tmp/h.json")"
"$QGTC" eval "$MODEL" --data "$DATA" --limit 200 --flash-budget 1M >"$tmp/big.log" 2>&1 &&
	grep -q "holds the FP32 model .* every layer stays float" "$tmp/big.log" ||
	{ cat "$tmp/big.log"; bad "a budget above FP32"; }
"$QGTC" "$MODEL" --data "$DATA" --flash-budget 8K --bits 'fc*=8' -o "$tmp/r.o" >"$tmp/r.log" 2>&1
[ $? -eq 2 ] && grep -q "drop the --bits rules" "$tmp/r.log" || { cat "$tmp/r.log"; bad "--bits rules with a budget"; }
"$QGTC" "$MODEL" --flash-budget 8K -o "$tmp/r.o" >"$tmp/r.log" 2>&1
[ $? -eq 2 ] && grep -q "give --data DIR" "$tmp/r.log" || { cat "$tmp/r.log"; bad "a budget without --data"; }
"$QGTC" "$MODEL" --data "$DATA" --flash-budget 8Q -o "$tmp/r.o" >"$tmp/r.log" 2>&1
[ $? -eq 2 ] && grep -q "needs a positive byte count" "$tmp/r.log" || { cat "$tmp/r.log"; bad "a malformed budget"; }
# --report sensitivity: the per-layer table, and as JSON; each kernel's
# bytes are the size report's for that weight at -b 2.
"$QGTC" eval "$MODEL" --data "$DATA" --limit 500 -b 2 --report sensitivity \
	--report-json "$tmp/sens.json" >"$tmp/sens.log" 2>&1 || { cat "$tmp/sens.log"; bad "--report sensitivity"; }
cat "$tmp/sens.log"
grep -q "^rank kernel *params *MACs bits *bytes *top-1 % *lost" "$tmp/sens.log" || bad "the sensitivity table's header"
/usr/bin/python3 - "$tmp/sens.json" "$tmp/u2.json" <<'PY' || bad "the sensitivity JSON"
import json, sys
s = json.load(open(sys.argv[1])); u = json.load(open(sys.argv[2]))
size = {l["weight"]: l["packed_bytes"] + l["qparam_bytes"] for l in u["layers"]}
assert len(s["layers"]) == 4, s
for l in s["layers"]:
    assert l["bytes"] == size[l["kernel"]], (l, size)
    assert l["macs"] > 0 and l["params"] > 0 and l["bits"] == 2
assert sum(l["bottleneck"] for l in s["layers"]) >= 1
lost = [l["lost"] for l in s["layers"]]
assert lost == sorted(lost, reverse=True), lost
PY
[ $fail -eq 0 ] && echo "budget_fashion: all checks passed"
exit $fail
