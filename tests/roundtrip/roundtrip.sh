#!/usr/bin/env bash
# roundtrip.sh: the .qir text form is exact.  For every model.onnx under the
# given folders: print it with full weights (A), parse A and print again
# (B), and require A == B byte for byte.  Where the folder holds
# input_0.npy/expected_0.npy (the PyTorch-export tests), also run the .qir
# and compare with the ONNX model's output, bit for bit.
# usage: roundtrip.sh QGTC DIR...
set -u
qgtc=$1
shift
# A folder that is not there would only make the models fewer.
for d; do
	if [ ! -d "$d" ]; then
		. "$(dirname "$0")/../skip.sh"
		skip_test "roundtrip: $d not found"
	fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
while IFS= read -r model; do
	dir=$(dirname "$model")
	name=${dir#"${dir%/*/*}/"}
	if ! "$qgtc" "$model" --emit ir --ir-weights=full -o "$tmp/a.qir" 2>"$tmp/err"; then
		# Models the loader refuses (unsupported dtypes) have no IR to print.
		if grep -q "unsupported\|not supported" "$tmp/err"; then continue; fi
		echo "FAIL $name: --emit ir: $(head -1 "$tmp/err")"
		fail=$((fail + 1))
		continue
	fi
	if ! "$qgtc" opt "$tmp/a.qir" --ir-weights=full -o "$tmp/b.qir" 2>"$tmp/err" ||
	   ! cmp -s "$tmp/a.qir" "$tmp/b.qir"; then
		echo "FAIL $name: print(parse(print(g))) differs from print(g)"
		head -3 "$tmp/err"
		diff "$tmp/a.qir" "$tmp/b.qir" | head -5
		fail=$((fail + 1))
		continue
	fi
	if [ -f "$dir/input_0.npy" ]; then
		rm -rf "$tmp/o1" "$tmp/o2"
		if ! "$qgtc" run "$model" "$dir/input_0.npy" --output-dir "$tmp/o1" 2>"$tmp/err" ||
		   ! "$qgtc" run "$tmp/a.qir" "$dir/input_0.npy" --output-dir "$tmp/o2" 2>>"$tmp/err" ||
		   ! cmp -s "$tmp/o1/output_0.npy" "$tmp/o2/output_0.npy"; then
			echo "FAIL $name: the .qir does not compute what the ONNX model does"
			head -3 "$tmp/err"
			fail=$((fail + 1))
			continue
		fi
	fi
	pass=$((pass + 1))
done < <(find "$@" -name model.onnx | sort)
echo "$pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
