# qgt_lib.sh: what the QGT accuracy benches share (sourced, not run).
# qgt_run needs QGTC, DATA, EPOCHS and a scratch folder in QGT_TMP, which
# qgt_bench_init sets.

# qgt_bench_init NAME [QGTC] [MODELS_DIR]: a bench's start, with SRC set.
# Sets QGTC, DIR (the held-out models, trained on first use), EPOCHS (4),
# DATA, ONLY and QGT_TMP (removed on exit); exits when qgtc is missing
# or the models cannot be trained.
qgt_bench_init() {
	local name=$1
	QGTC=${2:-$SRC/build/tools/qgtc}
	DIR=${3:-$SRC/build/qgt-models}
	EPOCHS=${EPOCHS:-4}
	DATA=${DATA:-/usr/share/datasets/fashion-mnist}
	ONLY=${ONLY:-}
	[ -x "$QGTC" ] || { echo "$name: no qgtc at $QGTC (build first)" >&2; exit 2; }
	mkdir -p "$DIR"
	qgt_models "$SRC" "$DIR" || { echo "$name: training the model set failed" >&2; exit 1; }
	QGT_TMP=$(mktemp -d)
	trap 'rm -rf "$QGT_TMP"' EXIT
}

# qgt_run MODEL ARGS... -> "top1 bytes" of `qgtc eval MODEL --qgt ARGS`
# (test split, native engine; bytes: --report-json totals.total_bytes),
# or "ERR ERR" with the log's last lines on stderr.
qgt_run() {
	local m=$1
	shift
	if "$QGTC" eval "$m" --data "$DATA" --engine native -q --qgt --epochs "$EPOCHS" \
		--report-json "$QGT_TMP/r.json" "$@" >"$QGT_TMP/log" 2>&1; then
		echo "$(sed -n 's/^top-1: \([0-9.]*\)%.*/\1/p' "$QGT_TMP/log" | tail -1) $(qgt_bytes "$QGT_TMP/r.json")"
	else
		tail -3 "$QGT_TMP/log" >&2
		echo "ERR ERR"
	fi
}

# qgt_bytes REPORT.json -> totals.total_bytes
qgt_bytes() {
	sed -n 's/.*"total_bytes": \([0-9]*\).*/\1/p' "$1" | head -1
}

# qgt_models SRC DIR: make the held-out set (bench/qgt_models.py) on first use.
qgt_models() {
	/usr/bin/python3 "$1/bench/qgt_models.py" "$2" >>"$2/fp32-torch.txt"
}
