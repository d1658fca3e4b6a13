#!/bin/bash
# qgt_family.sh: the other two methods of the QGT family against their
# uniform counterparts on the held-out models (issue 13, part 3): Smart
# Quantization (--scheme sq: binary or ternary per layer) against uniform
# 2-bit QGT, and learned 2-bit codebooks (--scheme codebook -b 2) against
# uniform affine 2-bit QGT, at the same epochs; per model top-1 (test
# split, native engine) and parameter bytes (--report-json total_bytes).
# Not a test.
# usage: qgt_family.sh [QGTC] [MODELS_DIR]
# env:   EPOCHS (4), ONLY (model file stems), DATA
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
QGTC=${1:-$SRC/build/tools/qgtc}
DIR=${2:-$SRC/build/qgt-models}
EPOCHS=${EPOCHS:-4}
DATA=${DATA:-/usr/share/datasets/fashion-mnist}
ONLY=${ONLY:-}
[ -x "$QGTC" ] || { echo "qgt_family: no qgtc at $QGTC (build first)" >&2; exit 2; }
/usr/bin/python3 "$SRC/bench/qgt_models.py" "$DIR" >>"$DIR/fp32-torch.txt" ||
	{ echo "qgt_family: training the model set failed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() { # model args... -> "top1 bytes" or "ERR ERR"
	local m=$1
	shift
	if "$QGTC" eval "$m" --data "$DATA" --engine native -q --qgt --epochs "$EPOCHS" \
		--report-json "$tmp/r.json" "$@" >"$tmp/log" 2>&1; then
		echo "$(sed -n 's/^top-1: \([0-9.]*\)%.*/\1/p' "$tmp/log" | tail -1) $(sed -n 's/.*"total_bytes": \([0-9]*\).*/\1/p' "$tmp/r.json")"
	else
		tail -3 "$tmp/log" >&2
		echo "ERR ERR"
	fi
}
printf '%-14s %8s %7s %8s %7s %8s %7s %8s %8s\n' model "QGT2 B" QGT2 "SQ B" SQ "CB2 B" CB2 SQ-QGT2 CB2-QGT2
for f in "$DIR"/*.onnx; do
	stem=$(basename "$f" .onnx)
	[ -n "$ONLY" ] && [[ " $ONLY " != *" $stem "* ]] && continue
	read -r qa qb <<<"$(run "$f" -b 2)"
	read -r sa sb <<<"$(run "$f" --scheme sq)"
	read -r ca cb <<<"$(run "$f" -b 2 --scheme codebook)"
	awk -v m="$stem" -v qa="$qa" -v qb="$qb" -v sa="$sa" -v sb="$sb" -v ca="$ca" -v cb="$cb" 'BEGIN {
		printf "%-14s %8s %7s %8s %7s %8s %7s", m, qb, qa, sb, sa, cb, ca
		if (qa == "ERR" || sa == "ERR" || ca == "ERR") { print "      ERR"; exit }
		printf " %+8.2f %+8.2f\n", sa - qa, ca - qa
	}'
done | tee "$tmp/rows"
awk 'NF == 9 && $8 != "ERR" { n++; s += $8; c += $9 } END {
	if (n) printf "%-14s %58s %+8.2f %+8.2f\n", "mean", "", s / n, c / n }' "$tmp/rows"
