#!/bin/bash
# qgt_family.sh: the other two methods of the QGT family against their
# uniform counterparts on the held-out models (issue 13, part 3): Smart
# Quantization (--scheme sq: binary or ternary per layer) against uniform
# 2-bit QGT and against a --flash-budget mix at its own bytes (MIX@SQ),
# and learned 2-bit codebooks (--scheme codebook -b 2) against
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
. "$SRC/bench/qgt_lib.sh"
mkdir -p "$DIR"
qgt_models "$SRC" "$DIR" || { echo "qgt_family: training the model set failed" >&2; exit 1; }
QGT_TMP=$(mktemp -d)
trap 'rm -rf "$QGT_TMP"' EXIT
tmp=$QGT_TMP
printf '%-14s %8s %7s %8s %7s %7s %8s %7s %8s %8s %8s\n' model "QGT2 B" QGT2 "SQ B" SQ MIX@SQ "CB2 B" CB2 \
	SQ-QGT2 SQ-MIX CB2-QGT2
for f in "$DIR"/*.onnx; do
	stem=$(basename "$f" .onnx)
	[ -n "$ONLY" ] && [[ " $ONLY " != *" $stem "* ]] && continue
	read -r qa qb <<<"$(qgt_run "$f" -b 2)"
	read -r sa sb <<<"$(qgt_run "$f" --scheme sq)"
	xa=ERR
	[ "$sb" != ERR ] && read -r xa _ <<<"$(qgt_run "$f" --flash-budget "$sb")"
	read -r ca cb <<<"$(qgt_run "$f" -b 2 --scheme codebook)"
	awk -v m="$stem" -v qa="$qa" -v qb="$qb" -v sa="$sa" -v sb="$sb" -v xa="$xa" -v ca="$ca" -v cb="$cb" 'BEGIN {
		printf "%-14s %8s %7s %8s %7s %7s %8s %7s", m, qb, qa, sb, sa, xa, cb, ca
		if (qa == "ERR" || sa == "ERR" || ca == "ERR" || xa == "ERR") { print "      ERR"; exit }
		printf " %+8.2f %+8.2f %+8.2f\n", sa - qa, sa - xa, ca - qa
	}'
done | tee "$tmp/rows"
awk 'NF == 11 && $9 != "ERR" { n++; s += $9; x += $10; c += $11 } END {
	if (n) printf "%-14s %66s %+8.2f %+8.2f %+8.2f\n", "mean", "", s / n, x / n, c / n }' "$tmp/rows"
