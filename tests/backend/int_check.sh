#!/usr/bin/env bash
# int_check.sh: the integer path through the native backend (JIT) against
# the reference interpreter, byte for byte.
#
#   int_check.sh QGTC SCRATCH
#
# Models: the QDQ models of make_int_models.py (the default pipeline folds
# them into integer conv/matmul with requantization), each on its
# fixed-seed random input, at -O3 and -Oz; and int_raw.qir (quantize/
# dequantize per tensor and per axis, raw i32 accumulators, integer graph
# outputs, quantizes saturating at 4 and 2 bits) on a random input and on one of rounding ties, NaN, infinities
# and huge values; and int_pool.qir (max/avg/global pools and relu on i8,
# u8 and i16) at -O3 and -Oz, on a random input and on one of small
# multiples of the scale (ties in the averages), saturating values and
# NaN; and int_add.qir (integer add and mul on i8, u8 and i16, with
# broadcasting) at -O3 and -Oz, on random inputs and on one of values that
# saturate the quantizers, the sums and the products; and int_lut.qir and
# int_softmax.qir (table activations and integer softmax, i8 and u8) at
# -O3 and -Oz on random and saturating inputs.  For each, `qgtc
# run` with --engine interp and --engine native must write identical
# output_<k>.npy files (cmp).  Each
# folded model must show an integer conv/matmul with rq_mult in its IR, so
# that a change in the folding cannot turn this into a float test.
# Exit status 0 when everything agrees.
set -u
here=$(cd "$(dirname "$0")" && pwd)
qgtc=${1:?usage: int_check.sh QGTC SCRATCH}
scratch=${2:?scratch dir}
py=/usr/bin/python3
qgtc=$(cd "$(dirname "$qgtc")" && pwd)/$(basename "$qgtc")
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)
cd "$scratch" || exit 1
rm -rf ./*

$py "$here/make_int_models.py" models || { echo "FAIL: make_int_models.py"; exit 1; }
$py - <<'PY' || { echo "FAIL: cannot write the inputs"; exit 1; }
import numpy as np
special = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, np.nan, np.inf, -np.inf, 1e30, -1e30, 3.4e38,
           0.0, -0.0, 0.05, 0.15, 0.25, 0.35, -0.05, -0.15, 1e-40, 12.95, -9.83, 3.7]
np.save("raw_special.npy", np.array(special, np.float32).reshape(2, 3, 4))
np.save("raw_rand.npy", (np.random.default_rng(1).standard_normal((2, 3, 4)) * 3).astype(np.float32))
rng = np.random.default_rng(3)
np.save("pool_rand.npy", (rng.standard_normal((2, 3, 7, 7)) * 3).astype(np.float32))
p = rng.integers(-6, 7, (2, 3, 7, 7)) * 0.05
p[rng.random(p.shape) < 0.1] = 1e30
p[rng.random(p.shape) < 0.1] = -1e30
p[rng.random(p.shape) < 0.03] = np.nan
np.save("pool_special.npy", p.astype(np.float32))
rng = np.random.default_rng(4)
for nm, shp in (("x", (1, 3, 4, 4)), ("y", (1, 3, 4, 4)), ("c", (1, 3, 1, 1)), ("k", (1,))):
    np.save("add_rand_%s.npy" % nm, (rng.standard_normal(shp) * 4).astype(np.float32))
    v = rng.choice([-1e30, 1e30, -60.0, 60.0, -12.7, 12.7, 0.0, 3.3], shp)
    np.save("add_special_%s.npy" % nm, v.astype(np.float32))
np.save("lut_rand.npy", (np.random.default_rng(5).standard_normal((2, 3, 8, 8)) * 3).astype(np.float32))
v = np.linspace(-7, 7, 384)  # every i8 and u8 code of int_lut.qir's quantizers
v[[5, 100, 200]] = np.nan
v[[7, 300]] = 1e30
v[[9, 250]] = -1e30
np.save("lut_special.npy", v.reshape(2, 3, 8, 8).astype(np.float32))
rng = np.random.default_rng(6)
np.save("smx_rand_x.npy", (rng.standard_normal((2, 10)) * 4).astype(np.float32))
np.save("smx_rand_w.npy", (rng.standard_normal((1, 3, 4)) * 4).astype(np.float32))
# a uniform row; one spanning both ends of each quantizer (the table's last
# entries, single winners that saturate) with NaN
x = np.array([[1.5] * 10, [1e30, -1e30, np.nan, 0, 20, -20, 3.3, -3.3, 0.06, 1e30]])
np.save("smx_special_x.npy", x.astype(np.float32))
w = np.array([[[2, 2, 1e30, -1e30], [2, -1e30, np.nan, 0], [2, -1e30, 0.05, 0.3]]])
np.save("smx_special_w.npy", w.astype(np.float32))
PY

fail=0
# compare NAME MODEL INPUTS [FLAGS...]; INPUTS: one or more input files
# separated by spaces (names without spaces)
compare() {
	local name=$1 model=$2 input
	read -ra input <<<"$3"
	shift 3
	rm -rf "$name.interp" "$name.native"
	if ! "$qgtc" run "$model" "${input[@]}" "$@" --output-dir "$name.interp" >/dev/null; then
		echo "$name: FAIL: interpreter"; fail=1; return
	fi
	if ! "$qgtc" run "$model" "${input[@]}" "$@" --engine native --output-dir "$name.native" >/dev/null; then
		echo "$name: FAIL: native"; fail=1; return
	fi
	local n=0 f
	for f in "$name.interp"/output_*.npy; do
		if ! cmp -s "$f" "$name.native/$(basename "$f")"; then
			echo "$name: FAIL: $(basename "$f") differs"; fail=1; return
		fi
		n=$((n + 1))
	done
	echo "$name: ok ($n outputs identical)"
}

for m in conv_u8 dw_i8 conv1d_u8w conv_i16 matmul3d mixed_i8 transpose_u8 concat_i8 head_u8 dsp_edges dsp_lowbit dsp_wide rq_mixed dsp_dw dsp_wide4; do
	model=models/$m.onnx
	if ! "$qgtc" "$model" --emit ir -o "$m.qir" ||
	   ! grep -Eq '= (conv|matmul)\(.*rq_mult=' "$m.qir"; then
		echo "$m: FAIL: no integer conv/matmul with rq_mult after the default pipeline"
		fail=1
		continue
	fi
	compare "$m" "$model" "models/${m}_in.npy"
	compare "$m-Oz" "$model" "models/${m}_in.npy" -Oz
done
compare raw_rand "$here/int_raw.qir" raw_rand.npy
compare raw_special "$here/int_raw.qir" raw_special.npy
for in in pool_rand pool_special; do
	compare "$in" "$here/int_pool.qir" "$in.npy"
	compare "$in-Oz" "$here/int_pool.qir" "$in.npy" -Oz
done
for in in add_rand add_special; do
	ins="${in}_x.npy ${in}_y.npy ${in}_c.npy ${in}_k.npy"
	compare "$in" "$here/int_add.qir" "$ins"
	compare "$in-Oz" "$here/int_add.qir" "$ins" -Oz
done
# int_lut.qir: sigmoid, tanh, hard_sigmoid, hard_swish and leaky_relu on i8
# and u8 as 256-entry tables (and a permutation table each) at -O3 and -Oz,
# on a random input and on one sweeping every code, with NaN and saturation
for in in lut_rand lut_special; do
	compare "$in" "$here/int_lut.qir" "$in.npy"
	compare "$in-Oz" "$here/int_lut.qir" "$in.npy" -Oz
done
# int_softmax.qir: softmax on i8 and u8 along the last axis and axis 1
# (a strided slice) from a 256-entry exp table and one multiplier, at -O3
# and -Oz, on random inputs and on uniform, saturating and NaN slices
for in in smx_rand smx_special; do
	ins="${in}_x.npy ${in}_w.npy"
	compare "$in" "$here/int_softmax.qir" "$ins"
	compare "$in-Oz" "$here/int_softmax.qir" "$ins" -Oz
done

[ $fail = 0 ] && echo "int check: all identical" || echo "int check: FAILED"
exit $fail
