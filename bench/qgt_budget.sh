#!/bin/bash
# qgt_budget.sh: bits per layer under a byte budget (--flash-budget, the
# pass bitalloc) against uniform 2-bit QGT on the held-out models (issue
# 13, part 2).  Per model: U2, the parameter bytes of uniform 2-bit
# (--report-json totals.total_bytes) and its QGT top-1; then QGT at the
# budgeted mix with U2 bytes and with 75% of them; all with the same
# epochs, top-1 on the Fashion-MNIST test split (native engine).  The
# targets: at U2 bytes the mix beats uniform 2-bit QGT by at least 0.5 pt
# on average; at 75% it is at least as accurate as uniform 2-bit QGT.
# Not a test: about 3 minutes a model on two cores.
# usage: qgt_budget.sh [QGTC] [MODELS_DIR]
# env:   EPOCHS (4), SPLIT (held|tune|all: held), ONLY (model file stems),
#        DATA
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
SPLIT=${SPLIT:-held}
. "$SRC/bench/qgt_lib.sh"
qgt_bench_init qgt_budget "$@"
printf '%-13s %6s %7s %6s %7s %6s %7s %8s %8s\n' model "U2 B" QGT2 "mix B" MIX100 "75% B" MIX75 \
	MIX100-U MIX75-U | tee "$QGT_TMP/rows"
for f in "$DIR"/*_bn.onnx "$DIR"/*_fused.onnx; do
	[ -e "$f" ] || continue
	stem=$(basename "$f" .onnx)
	[ -n "$ONLY" ] && [[ " $ONLY " != *" $stem "* ]] && continue
	sp=$(/usr/bin/python3 -c "import sys; sys.path.insert(0, '$SRC/bench'); import qgt_models as m; print(next(s for n, s, *_ in m.MODELS if n == sys.argv[1]))" "${stem%_*}")
	[ "$SPLIT" = all ] || [ "$SPLIT" = "$sp" ] || continue
	read -r ua ub <<<"$(qgt_run "$f" -b 2)"
	if [ "$ub" = ERR ]; then
		echo "$stem: uniform 2-bit QGT failed" >&2
		continue
	fi
	read -r ma mb <<<"$(qgt_run "$f" --flash-budget "$ub")"
	read -r sa sb <<<"$(qgt_run "$f" --flash-budget $((ub * 3 / 4)))"
	awk -v m="$stem" -v ua="$ua" -v ub="$ub" -v ma="$ma" -v mb="$mb" -v sa="$sa" -v sb="$sb" 'BEGIN {
		printf "%-13s %6s %7s %6s %7s %6s %7s", m, ub, ua, mb, ma, sb, sa
		if (ma == "ERR" || sa == "ERR") { print "      ERR"; exit }
		printf " %+8.2f %+8.2f\n", ma - ua, sa - ua
	}' | tee -a "$QGT_TMP/rows"
done
awk 'NR > 1 && NF == 9 { n++; a += $8; b += $9; if (n == 1 || $9 < w) w = $9 } END {
	if (!n) { print "no rows"; exit 1 }
	printf "%-13s %48s %+8.2f %+8.2f\n", "mean", "", a / n, b / n
	printf "%-13s %48s %8s %+8.2f\n", "worst", "", "", w
	print "targets: mean MIX100-U >= +0.5; MIX75-U >= 0 on every held-out model"
}' "$QGT_TMP/rows"
