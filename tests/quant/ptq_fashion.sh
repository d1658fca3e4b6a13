#!/bin/bash
# ptq_fashion.sh: post-training quantization of the bundled Fashion-MNIST
# CNN through `qgtc eval` on the whole test split: FP32, then -b 8, 4, 2
# (affine, per-channel, min-max) and 8-bit with bias correction
# (--calib-data), through the native engine.  Checks: 8-bit per-channel
# within 0.1 pt of FP32 with bias correction (0.2 pt with min-max alone),
# 4-bit within 4 pt, 2-bit well above chance (20%; min-max measured 39.8%
# against FP32's 90.3%, QGT-NOTES.md) and not above FP32; that the weights
# eval quantized at -b 8, 4, 2 hold at most 2^bits values per output
# channel, every kernel annotated with those bits.  Integer inference (-a
# 8, calibrated on the training split): W8A8 within 0.3 pt of FP32, W4A8
# within 1.5 pt, W8A16 within 0.3 pt.  Prints the table.
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
# 2-bit PTQ may lose much (min-max does) but must still classify, well
# above chance (10 classes), and cannot beat FP32 beyond noise.  A better
# 2-bit PTQ passes: that it really is 2-bit is checked on the weights.
awk -v a="${A[2]}" -v f="${A[fp32]}" 'BEGIN { exit !(a >= 20 && a <= f + 0.5) }' ||
	{ echo "FAIL: 2-bit PTQ is ${A[2]}%, outside [20%, FP32 ${A[fp32]}% + 0.5 pt]"; fail=1; }

# grid BITS: the kernels eval quantizes at -b BITS (its IR after quantize,
# full weights) are the four of the CNN, each annotated bits=BITS and
# holding at most 2^BITS distinct values per output channel.
grid() {
	"$QGTC" eval "$MODEL" --data "$DATA" --limit 10 --engine native -q -b "$1" \
		--print-ir-after=quantize --ir-weights=full >/dev/null 2>"$tmp/ir$1" ||
		{ echo "FAIL: eval -b $1 --print-ir-after=quantize"; head -5 "$tmp/ir$1"; return 1; }
	/usr/bin/python3 - "$1" "$tmp/ir$1" <<'PY'
import re, sys
import numpy as np
bits, path = int(sys.argv[1]), sys.argv[2]
pat = re.compile(r'^\s*const %(\S+): f32\[([0-9,]+)\] = \[([^\]]*)\] !quant\{[^}]*bits=(\d+), axis=(\d+)')
seen = 0
for line in open(path):
    m = pat.match(line)
    if not m:
        continue
    name, dims, vals, b, axis = m.group(1), m.group(2), m.group(3), int(m.group(4)), int(m.group(5))
    w = np.array([float(v) for v in vals.split(",")]).reshape([int(d) for d in dims.split(",")])
    levels = max(len(np.unique(np.take(w, c, axis=axis))) for c in range(w.shape[axis]))
    if b != bits or levels > 1 << bits:
        sys.exit("FAIL: -b %d: %s is bits=%d with %d values in a channel" % (bits, name, b, levels))
    seen += 1
if seen != 4:
    sys.exit("FAIL: -b %d: %d quantized kernels in eval's IR, expected the CNN's 4" % (bits, seen))
print("grid: -b %d: 4 kernels, at most %d values per channel" % (bits, 1 << bits))
PY
}
for b in 8 4 2; do grid "$b" || fail=1; done
[ $fail = 0 ] && echo "ptq_fashion: ok"
exit $fail
