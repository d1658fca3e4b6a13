#!/usr/bin/env bash
# fuzz.sh TARGET SECONDS [LIBFUZZER-FLAG...]: build the libFuzzer harnesses
# (clang-19, ASan + UBSan, in build-fuzz/) if needed and run
# tests/fuzz/fuzz_TARGET for SECONDS.  TARGET: onnx qir dsl npy idx.
# New inputs go to build-fuzz/fuzz-corpus/TARGET (the seeds in
# tests/fuzz/corpus/TARGET are read, never written); a crasher is written
# to build-fuzz/fuzz-out/TARGET/ and the exit status is non-zero.  Keep a
# crasher by copying it into tests/fuzz/corpus/TARGET/ as regress-NAME
# with the fix.  Environment: QGTC_FUZZ_BUILD (default build-fuzz),
# CC (default clang-19).
#
# fuzz.sh TARGET merge: keep what a campaign found.  libFuzzer's
# -set_cover_merge=1 (edges only: -use_counters=0) picks inputs of
# build-fuzz/fuzz-corpus/TARGET that add coverage to tests/fuzz/corpus/
# TARGET; those of at most 4 KB are copied there as grown-SHA1 (small
# files only in the repository).
set -euo pipefail
cd "$(dirname "$0")/.."
targets="onnx qir dsl npy idx"
if [ $# -lt 2 ] || ! [[ " $targets " == *" $1 "* ]] || ! [[ "$2" =~ ^([0-9]+|merge)$ ]]; then
	echo "usage: tools/fuzz.sh TARGET SECONDS [libFuzzer flags]  (TARGET: $targets)" >&2
	echo "       tools/fuzz.sh TARGET merge" >&2
	exit 2
fi
t=$1 secs=$2
shift 2
build=${QGTC_FUZZ_BUILD:-build-fuzz}
if [ ! -f "$build/CMakeCache.txt" ]; then
	CC=${CC:-clang-19} cmake -S . -B "$build" -G Ninja -DQGTC_FUZZ=ON >/dev/null
fi
cmake --build "$build" --target "fuzz_$t" >/dev/null
exe=$(find "$build/tests" -name "fuzz_$t" -type f -perm -u+x | head -1)
mkdir -p "$build/fuzz-corpus/$t" "$build/fuzz-out/$t"
if [ "$secs" = merge ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	cp "tests/fuzz/corpus/$t"/* "$tmp/"
	"$exe" -set_cover_merge=1 -use_counters=0 -rss_limit_mb=2048 -timeout=20 "$tmp" "$build/fuzz-corpus/$t" 2>"$tmp.log" ||
		{ tail -20 "$tmp.log" >&2; rm -f "$tmp.log"; exit 1; }
	rm -f "$tmp.log"
	n=0 big=0
	for f in "$tmp"/*; do
		b=$(basename "$f")
		[ -e "tests/fuzz/corpus/$t/$b" ] && continue
		if [ "$(stat -c %s "$f")" -gt 4096 ]; then
			big=$((big + 1))
			continue
		fi
		cp "$f" "tests/fuzz/corpus/$t/grown-$b"
		n=$((n + 1))
	done
	echo "fuzz.sh: $t: $n inputs added to tests/fuzz/corpus/$t ($big over 4 KB left out)"
	exit 0
fi
dict=()
[ -f "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")
# Bounded memory and time per input: an input needing more than 2 GB or
# 20 s is a finding too (a hostile file must not be able to do that).
exec "$exe" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
	-artifact_prefix="$build/fuzz-out/$t/" "${dict[@]}" "$@" "$build/fuzz-corpus/$t" "tests/fuzz/corpus/$t"
