#!/bin/bash
# ptq_fashion.sh: post-training quantization of the bundled Fashion-MNIST
# CNN through `qgtc eval` on the whole test split: FP32, then -b 8, 4, 2
# (affine, per-channel, min-max) and 8-bit with bias correction
# (--calib-data), through the native engine.  Checks the issue's pattern: 8-bit per-channel within
# 0.1 pt of FP32 with bias correction (0.2 pt with min-max alone), 4-bit
# within 4 pt, and 2-bit min-max PTQ collapsing (at least 20 pt below
# FP32: see QGT-NOTES.md).  Integer inference (-a 8, calibrated on the
# training split): W8A8 within 0.3 pt of FP32, W4A8 within 1.5 pt, W8A16
# within 0.3 pt.  Prints the table.
# usage: ptq_fashion.sh QGTC [SOURCE_DIR] [DATA_DIR] [LIMIT]
set -u
QGTC=${1:?usage: ptq_fashion.sh QGTC [SOURCE_DIR] [DATA_DIR] [LIMIT]}
SRC=${2:-$(cd "$(dirname "$0")/../.." && pwd)}
DATA=${3:-/usr/share/datasets/fashion-mnist}
LIMIT=${4:-10000}
MODEL=$SRC/examples/fashion_cnn/fashion_cnn.onnx
if [ ! -r "$DATA/t10k-images-idx3-ubyte.gz" ] && [ ! -r "$DATA/t10k-images-idx3-ubyte" ]; then
	. "$(dirname "$0")/../skip.sh"
	skip_test "ptq_fashion: $DATA not found"
fi

# top-1 percentage from the last line of `qgtc eval`, or "ERR".
acc() {
	local out
	out=$("$QGTC" eval "$MODEL" --data "$DATA" --limit "$LIMIT" --engine native -q "$@" 2>&1) || { echo "$out" >&2; echo ERR; return; }
	echo "$out" | sed -n 's/^top-1: \([0-9.]*\)%.*/\1/p' | tail -1
}

# The four evaluations run in parallel, each into its own file.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
acc >"$tmp/fp32" &
for cfg in 8 4 2; do
	acc -b "$cfg" >"$tmp/$cfg" &
done
wait
acc -b 8 --calib-data "$DATA" >"$tmp/8bc" &
acc -a 8 >"$tmp/w8a8"
wait
acc -a 8 -b 4 >"$tmp/w4a8" &
acc -a 16 >"$tmp/w8a16"
wait
declare -A A
CFGS="fp32 8 8bc 4 2 w8a8 w4a8 w8a16"
for cfg in $CFGS; do A[$cfg]=$(cat "$tmp/$cfg"); done

printf '%-24s %8s %8s\n' "Fashion-MNIST (n=$LIMIT)" "top-1 %" "delta"
fail=0
for cfg in $CFGS; do
	a=${A[$cfg]}
	case $cfg in
	fp32) label="FP32" ;;
	8bc) label="PTQ 8-bit + bias corr." ;;
	w8a8) label="W8A8 (integer)" ;;
	w4a8) label="W4A8 (integer)" ;;
	w8a16) label="W8A16 (integer)" ;;
	*) label="PTQ ${cfg}-bit per-channel" ;;
	esac
	if ! [[ "$a" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
		printf '%-24s %8s\n' "$label" "$a"
		echo "FAIL: $label printed no accuracy"
		fail=1
		continue
	fi
	delta=$(awk -v a="$a" -v f="${A[fp32]}" 'BEGIN { printf "%+.2f", a - f }')
	printf '%-24s %8s %8s\n' "$label" "$a" "$([ "$cfg" = fp32 ] && echo - || echo "$delta")"
done
[ $fail = 0 ] || exit 1
check() { # bits max_drop
	awk -v a="${A[$1]}" -v f="${A[fp32]}" -v m="$2" 'BEGIN { exit !(f - a <= m) }' ||
		{ echo "FAIL: ${1}-bit is ${A[$1]}%, more than $2 pt below FP32 ${A[fp32]}%"; fail=1; }
}
check 8bc 0.1001
check 8 0.2001
check 4 4
check w8a8 0.3001
check w4a8 1.5001
check w8a16 0.3001
# The issue's expected pattern: 2-bit min-max PTQ collapses (QGT-NOTES
# measured 39.8% against 90.3% FP32).  If it stops collapsing, the
# quantizer is probably not quantizing.
awk -v a="${A[2]}" -v f="${A[fp32]}" 'BEGIN { exit !(f - a >= 20) }' ||
	{ echo "FAIL: 2-bit PTQ is ${A[2]}%, less than 20 pt below FP32: is it really 2-bit?"; fail=1; }
[ $fail = 0 ] && echo "ptq_fashion: ok"
exit $fail
