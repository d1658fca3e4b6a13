#!/bin/bash
# qgt_family.sh: the other two methods of the QGT family against their
# uniform counterparts on the held-out models (issue 13, part 3): Smart
# Quantization (--scheme sq: binary or ternary per layer) against uniform
# 2-bit QGT and against uniform 1-bit QGT (QGT1, -b 1: SQ settles on
# binary layers, so its bytes are within a few percent of 1-bit's, the
# least a --flash-budget mix can take), and learned 2-bit codebooks (--scheme codebook -b 2) against
# uniform affine 2-bit QGT, at the same epochs; per model top-1 (test
# split, native engine) and parameter bytes (--report-json total_bytes).
# Not a test.
# usage: qgt_family.sh [QGTC] [MODELS_DIR]
# env:   EPOCHS (4), ONLY (model file stems), DATA
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
. "$SRC/bench/qgt_lib.sh"
qgt_bench_init qgt_family "$@"
printf '%-14s %8s %7s %8s %7s %8s %7s %8s %7s %8s %8s %8s\n' model "QGT2 B" QGT2 "SQ B" SQ "QGT1 B" QGT1 \
	"CB2 B" CB2 SQ-QGT2 SQ-QGT1 CB2-QGT2
for f in "$DIR"/*.onnx; do
	stem=$(basename "$f" .onnx)
	[ -n "$ONLY" ] && [[ " $ONLY " != *" $stem "* ]] && continue
	read -r qa qb <<<"$(qgt_run "$f" -b 2)"
	read -r sa sb <<<"$(qgt_run "$f" --scheme sq)"
	read -r xa xb <<<"$(qgt_run "$f" -b 1)"
	read -r ca cb <<<"$(qgt_run "$f" -b 2 --scheme codebook)"
	awk -v m="$stem" -v qa="$qa" -v qb="$qb" -v sa="$sa" -v sb="$sb" -v xa="$xa" -v xb="$xb" -v ca="$ca" -v cb="$cb" 'BEGIN {
		printf "%-14s %8s %7s %8s %7s %8s %7s %8s %7s", m, qb, qa, sb, sa, xb, xa, cb, ca
		if (qa == "ERR" || sa == "ERR" || ca == "ERR" || xa == "ERR") { print "      ERR"; exit }
		printf " %+8.2f %+8.2f %+8.2f\n", sa - qa, sa - xa, ca - qa
	}'
done | tee "$QGT_TMP/rows"
awk 'NF == 12 && $10 != "ERR" { n++; s += $10; x += $11; c += $12 } END {
	if (n) printf "%-14s %75s %+8.2f %+8.2f %+8.2f\n", "mean", "", s / n, x / n, c / n }' "$QGT_TMP/rows"
