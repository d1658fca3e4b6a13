#!/usr/bin/env bash
# int_check.sh: the integer path through the native backend (JIT) against
# the reference interpreter, byte for byte.
#
#   int_check.sh QGTC SCRATCH
#
# Models: the QDQ models of make_int_models.py (the default pipeline folds
# them into integer conv/matmul with requantization), each on its
# fixed-seed random input, at -O3 and -Oz (-Oz: the compact kernels of
# l_compact_int.c, also validated at -Os on the Cortex-M4 under QEMU); and int_raw.qir (quantize/
# dequantize per tensor and per axis, raw i32 accumulators, integer graph
# outputs, quantizes saturating at 4 and 2 bits) on a random input and on one of rounding ties, NaN, infinities
# and huge values; and int_pool.qir (max/avg/global pools and relu on i8,
# u8 and i16) at -O3 and -Oz, on a random input and on one of small
# multiples of the scale (ties in the averages), saturating values and
# NaN; and int_add.qir (integer add and mul on i8, u8 and i16, with
# broadcasting) at -O3 and -Oz, on random inputs and on one of values that
# saturate the quantizers, the sums and the products; and int_lut.qir and
# int_softmax.qir (table activations and integer softmax, i8, u8 and i16) at
# -O3 and -Oz on random and saturating inputs.  The QDQ models also go
# through `qgtc validate` on x86-64 at its SSE2 baseline and on AArch64
# with SDOT (-mcpu=cortex-a76), the SIMD kernels the host JIT and
# cross_check.sh's Cortex-A72 runs do not reach; the host JIT runs the
# AVX512-VNNI kernels where the host has them, and x86_edges' host code
# must hold them there.  For each, `qgtc
# run` with --engine interp and --engine native must write identical
# output_<k>.npy files (cmp); the .qir graphs also go through `qgtc
# validate` on aarch64 and Cortex-M4 (QEMU), bit-exact, and their
# Cortex-M4 objects must import no symbol (no libgcc helper).  Each
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
rng = np.random.default_rng(8)
np.save("ln_rand_x.npy", (rng.standard_normal((3, 16)) * 2 + 0.7).astype(np.float32))
np.save("ln_rand_w.npy", (rng.standard_normal((2, 3, 8)) * 2).astype(np.float32))
# a uniform row (V = E: the output is B), one saturating both ways, one
# with a spread of a code or two (V small against E)
x = np.array([[1.3] * 16, [1e30, -1e30] * 4 + [0.33, -2.1, 5.7, -6.2, 1e30, 0.0, 4.4, -1e30],
              [0.0, 0.05, 0.0, 0.05] * 4])
np.save("ln_special_x.npy", x.astype(np.float32))
w = np.concatenate([np.full((1, 3, 8), -0.7), rng.choice([-1e30, 1e30, 0.21, -3.3], (1, 3, 8))])
np.save("ln_special_w.npy", w.astype(np.float32))
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

for m in conv_u8 dw_i8 conv1d_u8w conv_i16 matmul3d mixed_i8 transpose_u8 concat_i8 head_u8 dsp_edges dsp_lowbit dsp_wide rq_mixed dsp_dw dsp_wide4 neon_edges neon_dw rq_ties dsp_pm1 dsp_plane dsp_four dsp_four4 dw_mixed wide_i16 fine_bias x86_edges dsp_runs dsp_long dsp_fc dsp_direct dsp_band resize_near convt_q quant_edges dsp_tall attn_i8 ln_i8 mm_act; do
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
# x86_edges is there for l_int_x86.c's AVX512-VNNI kernels: where the host
# has them, its host code must run them (else the comparison above tested
# other kernels)
if grep -qw avx512_vnni /proc/cpuinfo 2>/dev/null; then
	if "$qgtc" models/x86_edges.onnx --target host --emit asm -o x86_edges.s &&
	   [ "$(grep -c vpdpbusd x86_edges.s)" -ge 12 ]; then
		echo "x86_edges: VPDPBUSD kernels in the host code: ok"
	else
		echo "x86_edges: FAIL: the host code has no VPDPBUSD kernels"; fail=1
	fi
fi
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
# and u8 as 256-entry tables and on i16 as 513-entry interpolated ones (and
# a permutation table each) at -O3 and -Oz, on a random input and on one
# sweeping every 8-bit code, with NaN and saturation
for in in lut_rand lut_special; do
	compare "$in" "$here/int_lut.qir" "$in.npy"
	compare "$in-Oz" "$here/int_lut.qir" "$in.npy" -Oz
done
# and the i16 tables' interpolation against numpy's reading of the rule
# (ir/k_elementwise.c), on the interpreter's output of both inputs
for in in lut_rand lut_special; do
	$py - "$here/int_lut.qir" "$in.npy" "$in.interp" <<'PY' && echo "$in: i16 tables ok (numpy)" || { echo "$in: FAIL: i16 tables differ from numpy"; fail=1; }
import re, sys
import numpy as np
qir, xin, out = sys.argv[1:]
text = open(qir).read()
s = np.float32(re.search(r"const %s_i16: f32\[\] = \[([^\]]+)\]", text).group(1))
with np.errstate(invalid="ignore"):
    q = np.rint(np.load(xin).astype(np.float32) / s)
q = np.clip(np.nan_to_num(q, nan=0.0, posinf=32767, neginf=-32768), -32768, 32767).astype(np.int64)
outs = re.findall(r"^  output %(\S+)", text, re.M)
n = 0
for m in re.finditer(r"^  %(i16_\w+): .*\{.*lut=\[([^\]]+)\]\}", text, re.M):
    lut = np.array([int(v) for v in m.group(2).split(",")], np.int64)
    u = q + 32768
    a, b = lut[u >> 7], lut[(u >> 7) + 1]
    want = a + (((b - a) * (u & 127) + 64) >> 7)
    got = np.load("%s/output_%d.npy" % (out, outs.index(m.group(1))))
    assert got.dtype == np.int16, got.dtype
    if not np.array_equal(got.astype(np.int64), want):
        sys.exit("%s: %d of %d differ" % (m.group(1), int((got != want).sum()), want.size))
    n += 1
sys.exit(0 if n == 6 else "found %d i16 tables, not 6" % n)
PY
done
# int_softmax.qir: softmax on i8 and u8 along the last axis and axis 1
# (a strided slice) from a 256-entry exp table and one multiplier, at -O3
# and -Oz, on random inputs and on uniform, saturating and NaN slices
for in in smx_rand smx_special; do
	ins="${in}_x.npy ${in}_w.npy"
	compare "$in" "$here/int_softmax.qir" "$ins"
	compare "$in-Oz" "$here/int_softmax.qir" "$ins" -Oz
done
# and the i16 softmaxes against numpy's reading of the rule (ir/k_reduce.c)
for in in smx_rand smx_special; do
	$py - "$here/int_softmax.qir" "$in" "$in.interp" <<'PY' && echo "$in: i16 softmax ok (numpy)" || { echo "$in: FAIL: i16 softmax differs from numpy"; fail=1; }
import re, sys
import numpy as np
qir, pre, out = sys.argv[1:]
text = open(qir).read()
outs = re.findall(r"^  output %(\S+)", text, re.M)
n = 0
pat = r"^  %(\w+): i16\S+ .*zero_point=\[(-?\d+)\]\} = softmax\(%q_(\w)_(\w+)\) " \
      r"\{axis=(-?\d), lut=\[([^\]]+)\], lut_shift=(\d), rq_mult=\[(\d+)\]\}"
for m in re.finditer(pat, text, re.M):
    name, zo, v, tag, axis, lut, sh, M = m.groups()
    zo, axis, sh, M = int(zo), int(axis), int(sh), int(M)
    lut = np.array([int(e) for e in lut.split(",")], np.int64)
    s = np.float32(re.search(r"const %%s_%s: f32\[\] = \[([^\]]+)\]" % tag, text).group(1))
    with np.errstate(invalid="ignore"):
        q = np.rint(np.load("%s_%s.npy" % (pre, v)).astype(np.float32) / s)
    q = np.clip(np.nan_to_num(q, nan=0.0, posinf=32767, neginf=-32768), -32768, 32767).astype(np.int64)
    d = q.max(axis=axis, keepdims=True) - q
    k, f = d >> sh, d & ((1 << sh) - 1)
    kc = np.minimum(k, 511)
    e = np.where(k < 512, lut[kc] + (((lut[kc + 1] - lut[kc]) * f + ((1 << sh) >> 1)) >> sh), lut[512])
    tot = e.sum(axis=axis, keepdims=True)
    want = np.clip((2 * e * M + tot) // (2 * tot) + zo, -32768, 32767)
    got = np.load("%s/output_%d.npy" % (out, outs.index(name)))
    assert got.dtype == np.int16, got.dtype
    if not np.array_equal(got.astype(np.int64), want):
        sys.exit("%s: %d of %d differ" % (name, int((got != want).sum()), want.size))
    n += 1
sys.exit(0 if n == 12 else "found %d i16 softmaxes, not 12" % n)
PY
done

# int_layer_norm.qir: layer_norm on i8, u8 and i16, over the last axis
# and the last two, at -O3 and -Oz; then numpy's reading of the rule
# (ir/k_reduce.c) on the interpreter's outputs, and each output within
# half a step (and 2% of one) of numpy's float LayerNorm of the input's
# integers, the output range saturating it
for in in ln_rand ln_special; do
	ins="${in}_x.npy ${in}_w.npy"
	compare "$in" "$here/int_layer_norm.qir" "$ins"
	compare "$in-Oz" "$here/int_layer_norm.qir" "$ins" -Oz
	$py - "$here/int_layer_norm.qir" "$in" "$in.interp" <<'PY' && echo "$in: layer_norm ok (numpy)" || { echo "$in: FAIL: layer_norm differs from numpy"; fail=1; }
import math, re, sys
import numpy as np
qir, pre, out = sys.argv[1:]
text = open(qir).read()
outs = re.findall(r"^  output %(\S+)", text, re.M)
RANGE = {"i8": (-128, 127), "u8": (0, 255), "i16": (-32768, 32767)}


def rsqrt(a):
    y = math.floor(8589934592.0 / math.sqrt((a >> 26) - 16 + 17))
    for _ in range(3):
        t = (y * y) >> 32
        m = (a * t) >> 32
        y = (y * ((3 << 28) - m)) >> 29
    return min(y, 2**31 - 1)


def arr(t):
    return np.array([float(e) for e in t.split(",")], np.float64)


pat = (r"^  %(\w+): (\w+)\S+ .*scale=\[([^\]]+)\], zero_point=\[(-?\d+)\]\} = layer_norm\(%q_\w+, %g_\w+, %b_\w+\) "
       r"\{axis=(-?\d+), epsilon=([^,]+), ln_mult=\[([^\]]+)\], ln_bias=\[([^\]]+)\], ln_shift=(\d+), ln_eps=(\d+)\}")
n = 0
for m in re.finditer(pat, text, re.M):
    name, dt, sy, zy, axis, eps, G, B, T, E = m.groups()
    sy, zy, axis, eps, T, E = float(sy), int(zy), int(axis), float(eps), int(T), int(E)
    G, B = [int(e) for e in G.split(",")], [int(e) for e in B.split(",")]
    v = name.split("_")[0]
    sx = np.float32(re.search(r"const %%s_%s: f32\[\] = \[([^\]]+)\]" % name, text).group(1))
    zx = int(re.search(r"const %%z_%s: \w+\[\] = \[(-?\d+)\]" % name, text).group(1))
    g = arr(re.search(r"const %%g_%s: f32\[\d+\] = \[([^\]]+)\]" % name, text).group(1))
    b = arr(re.search(r"const %%b_%s: f32\[\d+\] = \[([^\]]+)\]" % name, text).group(1))
    lo, hi = RANGE[dt]
    x = np.load("%s_%s.npy" % (pre, v)).astype(np.float32)
    q = np.clip(np.rint(x / sx) + zx, lo, hi).astype(np.int64)
    shp = q.shape
    L = int(np.prod(shp[axis:]))
    rows = q.reshape(-1, L)
    want = np.zeros_like(rows)
    ref = np.zeros(rows.shape)
    for r, row in enumerate(rows):
        row = [int(e) for e in row]
        s1, s2 = sum(row), sum(e * e for e in row)
        V = L * s2 - s1 * s1 + E
        Y, p = 0, 0
        if V > 0:
            s = (62 - V.bit_length()) // 2
            Y, p = rsqrt((V << (2 * s)) >> 30), s - 7
        for j, e in enumerate(row):
            d = L * e - s1
            d = d << p if p >= 0 else d >> -p
            N = (d * Y + 2**31) >> 32
            u = (((N * G[j % len(G)] + 2**31) >> 32) + B[j % len(B)]) & 0xFFFFFFFF
            u = u - 2**32 if u >= 2**31 else u
            want[r, j] = min(max(u >> T, lo), hi)
        xf = (np.array(row, np.float64) - zx) * float(sx)
        yf = (xf - xf.mean()) / np.sqrt(xf.var() + eps) * (g if len(g) > 1 else g[0]) + (b if len(b) > 1 else b[0])
        ref[r] = np.clip(yf / sy + zy, lo, hi)
    got = np.load("%s/output_%d.npy" % (out, outs.index(name))).astype(np.int64).reshape(rows.shape)
    if not np.array_equal(got, want):
        sys.exit("%s: %d of %d differ from the rule" % (name, int((got != want).sum()), want.size))
    err = np.abs(got - ref).max()
    if err > 0.52:
        sys.exit("%s: %.3f steps from float LayerNorm" % (name, err))
    n += 1
sys.exit(0 if n == 5 else "found %d layer_norms, not 5" % n)
PY
done

# The same .qir graphs on the two ARM targets under QEMU (qemu-aarch64
# -cpu cortex-a72, mps2-an386 Cortex-M4) through `qgtc validate`, which
# compares every output with the interpreter's byte for byte; the random
# and special inputs of each go in as one batch of samples.
$py - <<'PY' || { echo "FAIL: cannot join the inputs"; exit 1; }
import numpy as np
def cat(*names):
    return np.concatenate([np.load(n) for n in names])
for k in ("raw", "pool", "lut"):
    np.save("%s_both.npy" % k, cat("%s_rand.npy" % k, "%s_special.npy" % k))
for v in ("x", "y", "c", "k"):
    np.save("add_both_%s.npy" % v, cat("add_rand_%s.npy" % v, "add_special_%s.npy" % v))
for v in ("x", "w"):
    np.save("smx_both_%s.npy" % v, cat("smx_rand_%s.npy" % v, "smx_special_%s.npy" % v))
    np.save("ln_both_%s.npy" % v, cat("ln_rand_%s.npy" % v, "ln_special_%s.npy" % v))
PY
on_arm() {
	local m=$1 ins=$2 t log
	for t in aarch64 armv7em; do
		log=validate-$m-$t.log
		# shellcheck disable=SC2086
		if "$qgtc" validate "$here/$m.qir" $ins --target $t >"$log" 2>&1 &&
		   grep -q "validate: ok (integer code, bit-exact)" "$log"; then
			echo "$m on $t: ok ($(grep -c 'bit-exact on' "$log") outputs bit-exact)"
		else
			echo "$m on $t: FAIL"; sed 's/^/  /' "$log"; fail=1
		fi
	done
}
. "$here/../skip.sh"
arm_tools=1
for t in aarch64-linux-gnu-gcc qemu-aarch64 arm-none-eabi-gcc qemu-system-arm; do
	command -v $t >/dev/null || { skip_part "ARM targets" "$t not found (tools/setup.sh installs it)" || fail=1; arm_tools=0; break; }
done
# The QDQ models through `qgtc validate` on the SIMD integer kernels the
# host JIT does not take: AArch64 NEON (the Pi 4's Cortex-A72), NEON with
# SDOT (Cortex-A76, under qemu-aarch64 -cpu max), and x86-64 at its
# baseline (SSE2; the JIT above runs the host's AVX2/AVX-512).
simd_validate() {
	local m=$1 t=$2 log
	shift 2
	log=validate-$m-$t$*.log
	log=${log// /}
	if "$qgtc" validate "models/$m.onnx" "models/${m}_in.npy" --target "$t" "$@" >"$log" 2>&1 &&
	   grep -q "validate: ok (integer code, bit-exact)" "$log"; then
		echo "$m on $t${*:+ $*}: ok"
	else
		echo "$m on $t${*:+ $*}: FAIL"; sed 's/^/  /' "$log"; fail=1
	fi
}
for m in conv_u8 dw_i8 conv1d_u8w matmul3d mixed_i8 head_u8 dsp_edges dsp_wide rq_mixed dsp_dw neon_edges neon_dw rq_ties dsp_pm1 dsp_plane dsp_four dsp_four4 dw_mixed fine_bias x86_edges; do
	simd_validate $m x86_64
done
# AVX-512 without VNNI (Skylake-SP): the 16-lane requantization, adds,
# quantize and averages of l_int.c, the tiles for the convs; natively
# where the host has AVX-512
if grep -qw avx512bw /proc/cpuinfo 2>/dev/null; then
	simd_validate x86_edges x86_64 -mcpu=skylake-avx512
fi
# AVX512-VNNI without VBMI (Cascade Lake): the VNNI kernels' byte
# shuffles without VPERMB
if grep -qw avx512_vnni /proc/cpuinfo 2>/dev/null; then
	simd_validate x86_edges x86_64 -mcpu=cascadelake
fi
if [ $arm_tools = 1 ]; then
	for m in conv_u8 dw_i8 conv1d_u8w matmul3d mixed_i8 head_u8 dsp_edges dsp_wide rq_mixed dsp_dw neon_edges neon_dw rq_ties dsp_pm1 dsp_plane dsp_four dsp_four4 dw_mixed fine_bias x86_edges; do
		simd_validate $m aarch64 -mcpu=cortex-a76
	done
	# The compact kernels' Cortex-M forms (l_compact_int.c at -Os: the
	# SMLAD steps in inline Thumb-2 at 8, 4 and 2 bits, one column and
	# four, interior and edge columns, the bordered depthwise plane, the
	# per-row kernel, i16 activations), bit-exact on the M4, and their
	# objects import nothing
	for m in conv_u8 conv_i16 matmul3d mixed_i8 dsp_edges dsp_lowbit dsp_wide rq_mixed dsp_pm1 dsp_plane dsp_four4 dsp_w2 quant_edges rq_ties dw_mixed neon_dw dw_i8 conv1d_u8w wide_i16 os_paths fine_bias dsp_runs; do
		simd_validate $m armv7em -Os
	done
	for m in dsp_w2 neon_dw conv_i16; do
		und=
		if "$qgtc" "models/$m.onnx" -Os --target armv7em -o "$m-os.o" >/dev/null 2>&1 &&
		   und=$(arm-none-eabi-nm -u "$m-os.o") && [ -z "$und" ]; then
			echo "$m at -Os for armv7em: ok (imports nothing)"
		else
			echo "$m at -Os for armv7em: FAIL: imports ${und:-?}"; fail=1
		fi
	done
	on_arm int_raw raw_both.npy
	on_arm int_pool pool_both.npy
	on_arm int_add "add_both_x.npy add_both_y.npy add_both_c.npy add_both_k.npy"
	on_arm int_lut lut_both.npy
	on_arm int_softmax "smx_both_x.npy smx_both_w.npy"
	on_arm int_layer_norm "ln_both_x.npy ln_both_w.npy"
	# A Cortex-M object imports nothing: no libgcc helper (the softmax's
	# 64-bit division once called __aeabi_uldivmod), so that it links
	# with -nostdlib and its stack figure covers every frame.
	for m in int_raw int_pool int_add int_lut int_softmax int_layer_norm; do
		und=
		if "$qgtc" "$here/$m.qir" --target armv7em -o "$m-m4.o" >/dev/null 2>&1 &&
		   und=$(arm-none-eabi-nm -u "$m-m4.o") && [ -z "$und" ]; then
			echo "$m for armv7em: ok (imports nothing)"
		else
			echo "$m for armv7em: FAIL: imports ${und:-?}"; fail=1
		fi
	done
fi

[ $fail = 0 ] && echo "int check: all identical" || echo "int check: FAILED"
exit $fail
