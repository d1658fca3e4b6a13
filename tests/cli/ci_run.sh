#!/bin/bash
# ci_run.sh: .ci/run sets CI=true itself (a missing prerequisite must fail
# under CI, tests/skip.sh) and runs the README's second sh block.  A copy
# of .ci/run runs beside a README whose test command prints CI.
# usage: ci_run.sh SOURCE_DIR WORKDIR
set -u
SRC=${1:?usage: ci_run.sh SOURCE_DIR WORKDIR}
WORK=${2:?usage: ci_run.sh SOURCE_DIR WORKDIR}
rm -rf "$WORK"
mkdir -p "$WORK/.ci" || exit 2
cp "$SRC/.ci/run" "$WORK/.ci/run"
printf '# x\n\n```sh\necho demo\n```\n\n```sh\necho "ctest: CI=${CI:-unset}"\n```\n' >"$WORK/README.md"
out=$(env -u CI bash "$WORK/.ci/run" 2>&1)
rc=$?
echo "$out"
if [ $rc -eq 0 ] && grep -qx 'ctest: CI=true' <<<"$out"; then
	echo "1 passed, 0 failed"
	exit 0
fi
echo "FAIL: .ci/run did not run the README's test command with CI=true"
echo "0 passed, 1 failed"
exit 1
