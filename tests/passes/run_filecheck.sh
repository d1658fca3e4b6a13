#!/usr/bin/env bash
# run_filecheck.sh: a tiny lit.  Runs each '# RUN:' line of a test file
# with %s = the file, %qgtc = the driver, %t = a scratch path, through
# bash -o pipefail; a RUN line normally pipes into FileCheck.
# usage: run_filecheck.sh QGTC FILECHECK TESTFILE
set -u
qgtc=$1 filecheck=$2 file=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
while IFS= read -r line; do
	cmd=${line#*RUN:}
	cmd=${cmd//%qgtc/$qgtc}
	cmd=${cmd//FileCheck/$filecheck}
	cmd=${cmd//%s/$file}
	cmd=${cmd//%t/$tmp/t}
	n=$((n + 1))
	if ! bash -o pipefail -c "$cmd"; then
		echo "FAILED: $file: RUN line $n: $cmd" >&2
		exit 1
	fi
done < <(grep -E '^[#;] *RUN:' "$file")
if [ $n -eq 0 ]; then
	echo "$file: no RUN lines" >&2
	exit 1
fi
