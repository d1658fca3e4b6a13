#!/usr/bin/env bash
# roundtrip.sh: the .qir text form is exact.  For every model.onnx under the
# given folders: print it with full weights (A), parse A and print again
# (B), and require A == B byte for byte.  Where the folder holds
# input_0.npy/expected_0.npy (the PyTorch-export tests), also run the .qir
# and compare with the ONNX model's output, bit for bit.  And a model
# quantized by -b/--scheme, dumped, compiles and runs as the model does.
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

# A quantized model's dump is the quantized model: the fashion CNN with
# weights quantized (no -a: float activations, packed weight codes) printed
# with full weights compiles, without -b, to the object the model compiles
# to with them (armv7em, byte for byte: same -o name in two folders), and
# runs to the same outputs.
fashion=$(cd "$(dirname "$0")/../.." && pwd)/examples/fashion_cnn/fashion_cnn.onnx
mkdir -p "$tmp/qa" "$tmp/qb"
/usr/bin/python3 -c "import numpy as np; np.save('$tmp/fx.npy', np.random.default_rng(7).random((2, 1, 28, 28), np.float32))" ||
	{ echo "FAIL: cannot write the fashion input"; fail=$((fail + 1)); }
for q in "-b 2" "-b 4 --scheme symmetric" "-b 1 --scheme binary" "-b 3 --scheme codebook" "-b 2 --scheme ternary"; do
	# shellcheck disable=SC2086
	if ! "$qgtc" "$fashion" $q --emit ir --ir-weights=full -o "$tmp/q.qir" 2>"$tmp/err" ||
	   ! "$qgtc" "$tmp/q.qir" --target armv7em -o "$tmp/qa/m.o" 2>>"$tmp/err" ||
	   ! "$qgtc" "$fashion" $q --target armv7em -o "$tmp/qb/m.o" 2>>"$tmp/err"; then
		echo "FAIL fashion $q: $(head -1 "$tmp/err")"
		fail=$((fail + 1))
		continue
	fi
	if ! cmp -s "$tmp/qa/m.o" "$tmp/qb/m.o"; then
		echo "FAIL fashion $q: the dump compiles to another object ($(wc -c < "$tmp/qa/m.o") B, not $(wc -c < "$tmp/qb/m.o"))"
		fail=$((fail + 1))
		continue
	fi
	rm -rf "$tmp/o1" "$tmp/o2"
	# shellcheck disable=SC2086
	if ! "$qgtc" run "$fashion" $q "$tmp/fx.npy" --output-dir "$tmp/o1" 2>"$tmp/err" ||
	   ! "$qgtc" run "$tmp/q.qir" "$tmp/fx.npy" --output-dir "$tmp/o2" 2>>"$tmp/err" ||
	   ! cmp -s "$tmp/o1/output_0.npy" "$tmp/o2/output_0.npy"; then
		echo "FAIL fashion $q: the dump does not compute what the quantized model does"
		head -3 "$tmp/err"
		fail=$((fail + 1))
		continue
	fi
	echo "ok fashion $q: its dump compiles to the same armv7em object ($(wc -c < "$tmp/qa/m.o") B) and runs the same"
	pass=$((pass + 1))
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
