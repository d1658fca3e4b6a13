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
set -euo pipefail
cd "$(dirname "$0")/.."
targets="onnx qir dsl npy idx"
if [ $# -lt 2 ] || ! [[ " $targets " == *" $1 "* ]] || ! [[ "$2" =~ ^[0-9]+$ ]]; then
	echo "usage: tools/fuzz.sh TARGET SECONDS [libFuzzer flags]  (TARGET: $targets)" >&2
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
dict=()
[ -f "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")
# Bounded memory and time per input: an input needing more than 2 GB or
# 20 s is a finding too (a hostile file must not be able to do that).
exec "$exe" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
	-artifact_prefix="$build/fuzz-out/$t/" "${dict[@]}" "$@" "$build/fuzz-corpus/$t" "tests/fuzz/corpus/$t"
