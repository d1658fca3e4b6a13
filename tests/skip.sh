# skip.sh: sourced by the test scripts for a missing prerequisite (a
# toolchain, an emulator, the data set, PyTorch, npm's onnxruntime-node).
# Outside CI that skips; under CI=true, where tools/setup.sh has installed
# everything, it is a failure, so CI cannot pass by skipping.

# skip_test MESSAGE: end the test, skipped (exit 77, ctest's
# SKIP_RETURN_CODE) or, under CI=true, failed (exit 1).
skip_test() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL: $* (a missing prerequisite fails under CI=true)"
		exit 1
	fi
	echo "skipped: $*"
	exit 77
}

# skip_part WHAT MESSAGE: one part of a test is skipped with a note; under
# CI=true it is reported as a failure and skip_part returns 1.
skip_part() {
	local what=$1
	shift
	if [ "${CI:-}" = true ]; then
		echo "$what: FAIL: $* (a missing prerequisite fails under CI=true)"
		return 1
	fi
	echo "$what: skipped ($*)"
	return 0
}
