#!/usr/bin/env bash
# The qgtc demo: the paper's table 2 on real data.  A Fashion-MNIST CNN
# trained elsewhere (PyTorch, examples/fashion_cnn/) is loaded from ONNX,
# evaluated in FP32, quantized after training (PTQ) to 4 and 2 bits, and
# fine-tuned with Quantization-Guided Training (QGT) for 4 and 2 bits, and
# run in integers (-a 8: int8 activations calibrated on the training split)
# with 8- and 4-bit PTQ weights and the 2-bit QGT weights; every quantized
# model is evaluated on the 10,000 test images with the native engine and
# compiled for a Cortex-M4 (armv7em), whose header states its arena.  Prints the table
# and writes report.html (qgtc eval --report-html): the table's runs on an
# accuracy-vs-bytes plot, the per-layer sensitivity, and the weight
# histograms before and after QGT (the paper's figure 4), as inline SVG.
# usage: examples/demo.sh [PATH_TO_QGTC] [OUT_DIR]
# env:   QGTC_DEMO_EPOCHS (fine-tune epochs, default 2), QGTC_DEMO_THREADS (2)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
qgtc=${1:-$here/../build/tools/qgtc}
out=${2:-demo-out}
model=$here/fashion_cnn/fashion_cnn.onnx
data=/usr/share/datasets/fashion-mnist
epochs=${QGTC_DEMO_EPOCHS:-2}
threads=${QGTC_DEMO_THREADS:-2}

if [ ! -x "$qgtc" ]; then
	echo "demo: $qgtc not found; build first (see README.md)" >&2
	exit 1
fi
if [ ! -r "$data/train-images-idx3-ubyte.gz" ]; then
	echo "demo: $data not found (Debian package dataset-fashion-mnist)" >&2
	exit 1
fi
size_tool=$(command -v arm-none-eabi-size || command -v llvm-size-19 || command -v llvm-size || true)
mkdir -p "$out"
qgtc=$(cd "$(dirname "$qgtc")" && pwd)/$(basename "$qgtc")
cd "$out"
start=$(date +%s)

echo "== $model: the graph after qgtc's default pipeline (weights elided)"
"$qgtc" "$model" --emit ir --batch 1 | sed -n '1,3p;/conv(/p;/gemm(/p;$p'
echo

# top-1 % from `qgtc eval`'s last line
top1() { sed -n 's/^top-1: \([0-9.]*\)%.*/\1/p' "$1" | tail -1; }
# .text + .rodata* of an object, in bytes
objsize() {
	[ -n "$size_tool" ] || { echo "n/a"; return; }
	"$size_tool" -A "$1" | awk '$1 == ".text" || $1 ~ /^\.rodata/ { s += $2 } END { print s + 0 }'
}
# a field of the size report's totals
jtot() { sed -n "s/.*\"$2\": \([0-9.]*\).*/\1/p" "$1" | tail -1; }

step() { printf '== [%3ds] %s\n' $(($(date +%s) - start)) "$*"; }

step "FP32: evaluate, compile for armv7em"
"$qgtc" eval "$model" --data "$data" --engine native -q >fp32.log
"$qgtc" "$model" --target armv7em -o fp32.o -q

for b in 4 2; do
	step "PTQ $b-bit (affine, per-channel, min-max): evaluate, compile"
	"$qgtc" eval "$model" --data "$data" -b $b --engine native --report-json ptq$b.json -q >ptq$b.log
	"$qgtc" "$model" -b $b --target armv7em -o ptq$b.o -q
done

for b in 4 2; do
	# At 2 bits QGT picks the grid by MSE (qgt/qgt.h); the compile of the
	# saved fine-tuned model uses the same grid.
	calib=minmax
	[ $b -le 2 ] && calib=mse
	step "QGT $b-bit: fine-tune $epochs epochs (BN live, lambda ramped), fold, quantize, evaluate"
	"$qgtc" eval "$model" --data "$data" -b $b --calib $calib --qgt --epochs $epochs \
		--threads "$threads" --engine native --report-json qgt$b.json \
		--save-onnx qgt$b.onnx | grep -v '^epoch .* step ' | tee qgt$b.log
	step "QGT $b-bit: compile the fine-tuned model for armv7em"
	"$qgtc" qgt$b.onnx -b $b --calib $calib --target armv7em -o qgt$b.o -q
done

# Integer inference: W8A8 and W4A8 after PTQ, W2A8 from the 2-bit QGT model.
for m in w8a8 w4a8 w2a8; do
	case $m in
	w8a8) src=$model args=(-b 8) ;;
	w4a8) src=$model args=(-b 4) ;;
	w2a8) src=qgt2.onnx args=(-b 2 --calib mse) ;;
	esac
	step "${m^^}: int8 activations calibrated on the training split; evaluate, compile"
	"$qgtc" eval "$src" --data "$data" "${args[@]}" -a 8 --engine native --report-json $m.json -q >$m.log
	"$qgtc" "$src" "${args[@]}" -a 8 --calib-data "$data" --target armv7em -o $m.o -q
done

fp32_acc=$(top1 fp32.log)
fp32_bytes=$(jtot ptq4.json fp32_bytes)
fp32_obj=$(objsize fp32.o)
rows=()
# the arena the generated header states
arena() { sed -n 's/^#define [A-Z0-9_]*_ARENA_SIZE \([0-9]*\).*/\1/p' "$1"; }
row() { # label acc packed_weight_bytes total_param_bytes object arena
	local delta red ored
	delta=$(awk -v a="$2" -v f="$fp32_acc" 'BEGIN { printf "%+.2f", a - f }')
	red=$(awk -v t="$4" -v f="$fp32_bytes" 'BEGIN { printf "%.1fx", f / t }')
	ored=$(awk -v o="$5" -v f="$fp32_obj" 'BEGIN { if (o + 0 > 0) printf "%.2fx", f / o; else print "n/a" }')
	rows+=("$1|$2|$delta|$3|$4|$red|$5|$ored|$6")
}
row "FP32" "$fp32_acc" "$fp32_bytes" "$fp32_bytes" "$fp32_obj" "$(arena fp32.h)"
for m in ptq4 ptq2 qgt4 qgt2 w8a8 w4a8 w2a8; do
	case $m in
	w8a8) label="W8A8 PTQ, integer" ;;
	w4a8) label="W4A8 PTQ, integer" ;;
	w2a8) label="W2A8 QGT, integer" ;;
	*) b=${m#???}
	   label="$([ "${m%?}" = ptq ] && echo "PTQ $b-bit" || echo "QGT $b-bit") (per-channel)" ;;
	esac
	row "$label" "$(top1 $m.log)" "$(jtot $m.json packed_weight_bytes)" \
		"$(jtot $m.json total_bytes)" "$(objsize $m.o)" "$(arena ${m}.h)"
done
elapsed=$(($(date +%s) - start))

header="method|top-1 %|delta|packed weights B|weights+params B|reduction|armv7em .text+.rodata B|object reduction|arena B"
echo
echo "Fashion-MNIST test set (10,000 images), bundled 24k-parameter CNN; QGT: $epochs epochs"
{
	echo "$header"
	printf '%s\n' "${rows[@]}"
} | awk -F'|' '{ printf "%-24s %8s %7s %17s %17s %10s %24s %17s %9s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }'
echo "(integer rows: int8 activations, -a 8; arena: the RAM NAME_run needs, from the header;"
echo " weights+params: packed weights, scales/zero points and float biases, from --report-json;"
echo " object: the armv7em object file's .text + .rodata; demo took ${elapsed}s)"

# ------------------------------------------------------------ report.html
# qgtc's own report page (eval --report-html): this table's runs as points
# of the accuracy-vs-bytes plot, the per-layer sensitivity at 2 bits, and
# the weight histograms before and after QGT (the paper's figure 4), from
# one more 2-bit QGT fine-tune (the same seed and options as the row above).
step "report.html: 2-bit QGT again with --report-html (sensitivity, histograms)"
for r in "${rows[@]}"; do
	IFS='|' read -r -a cs <<<"$r"
	case ${cs[0]} in
	"QGT 2-bit"*) continue ;;
	FP32*) meth=fp32 ;;
	*QGT*) meth=qgt ;;
	*) meth=ptq ;;
	esac
	printf '%s\t%s\t%s\t%s\n' "${cs[0]}" "$meth" "${cs[4]}" "${cs[1]}"
done >points.tsv
"$qgtc" eval "$model" --data "$data" -b 2 --calib mse --qgt --epochs $epochs --threads "$threads" \
	--engine native --report-html report.html --report-points points.tsv -q | grep -v '^epoch .* step ' |
	tail -1
