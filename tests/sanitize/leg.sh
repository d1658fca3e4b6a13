#!/usr/bin/env bash
# leg.sh SOURCE_DIR BUILD_DIR: the sanitizer leg of the test suite (issue 14).
#
# 1. Builds SOURCE_DIR in BUILD_DIR with AddressSanitizer and UBSan
#    (-DQGTC_SANITIZE=ON: no recovery, one malloc per IR arena object) and
#    runs there the unit tests, the hostile files, the CLI tests, the ONNX
#    conformance suites on the interpreter and the fuzz corpora (replayed).
# 2. Builds the libFuzzer harnesses with clang-19 in BUILD_DIR-fuzz
#    (-DQGTC_FUZZ=ON, those targets only) and fuzzes each for
#    QGTC_FUZZ_SMOKE_SECONDS (default 60) from its corpus.  Without clang-19
#    and its libFuzzer (libclang-rt-19-dev) this step is skipped with a
#    note, except under CI=true, where that is a failure.
#
# Sanitizer reports go to BUILD_DIR/san-logs, so that a report from a qgtc
# a test expected to fail is not taken for the expected failure: the leg
# fails if any appear.  Ends with ctest's summary line.
set -euo pipefail
if [ $# -ne 2 ]; then
	echo "usage: $0 SOURCE_DIR BUILD_DIR" >&2
	exit 2
fi
src=$1 build=$2 fbuild=$2-fuzz
secs=${QGTC_FUZZ_SMOKE_SECONDS:-60}

probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }\n' >"$probe/f.c"
fuzz=1
if ! command -v clang-19 >/dev/null 2>"$probe/err" ||
	! clang-19 -fsanitize=fuzzer,address,undefined "$probe/f.c" -o "$probe/f" 2>"$probe/err"; then
	fuzz=0
	why="clang-19 with libFuzzer is not available (tools/setup.sh installs clang-19 and libclang-rt-19-dev)"
	if [ "${CI:-}" = true ]; then
		echo "sanitize/leg: $why; required under CI=true" >&2
		cat "$probe/err" >&2
		exit 1
	fi
	echo "sanitize/leg: $why: the fuzz smoke is skipped"
fi

# step LOG CMD...: run CMD with its output in LOG, shown only on failure.
step() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 || { tail -60 "$log"; echo "sanitize/leg: failed: $*"; exit 1; }
}
mkdir -p "$build"
echo "sanitize/leg: building $build (ASan + UBSan)"
step "$build/leg-configure.log" cmake -S "$src" -B "$build" -G Ninja -DQGTC_SANITIZE=ON -DQGTC_WERROR=ON
step "$build/leg-build.log" cmake --build "$build"
if [ $fuzz = 1 ]; then
	mkdir -p "$fbuild"
	echo "sanitize/leg: building the fuzz harnesses in $fbuild (clang-19, libFuzzer)"
	step "$fbuild/leg-configure.log" env CC=clang-19 cmake -S "$src" -B "$fbuild" -G Ninja \
		-DQGTC_FUZZ=ON -DQGTC_FUZZ_SMOKE_SECONDS="$secs" -DQGTC_WERROR=ON
	step "$fbuild/leg-build.log" cmake --build "$fbuild" --target fuzz_onnx fuzz_qir fuzz_dsl fuzz_npy fuzz_idx
fi

logs=$build/san-logs
rm -rf "$logs"
mkdir -p "$logs"
export ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1"
export UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1:halt_on_error=1"
rc=0
if [ $fuzz = 1 ]; then
	ctest --test-dir "$fbuild" --output-on-failure -j2 -R '^fuzz/smoke-' || rc=1
fi
ctest --test-dir "$build" --output-on-failure -j2 -R \
	'^(unit/|hostile/|cli$|conformance/onnx-node$|conformance/onnx-pytorch-converted$|conformance/onnx-quant-interp$|fuzz/replay-)' ||
	rc=1
if [ -n "$(ls -A "$logs")" ]; then
	echo "sanitize/leg: sanitizer reports:"
	for f in "$logs"/*; do
		echo "=== $f"
		head -60 "$f"
	done
	rc=1
fi
exit $rc
