#!/bin/bash
# validate.sh QGTC SCRATCH: `qgtc validate` on the three targets (issue 12):
# it compiles, runs the object (here, qemu-aarch64, QEMU mps2 Cortex-M4/M7)
# and compares with the interpreter.  Integer code must come back
# bit-exact, float code close; a difference (forced through the test hook
# QGTC_VALIDATE_TAMPER) must fail; missing tools, unsupported targets and
# inputs that do not fit are clear errors (exit 1); no temporary folder is
# left behind unless -v.  The inputs come from numpy, not from qgtc.
set -u
qgtc=${1:?usage: validate.sh QGTC SCRATCH}
scratch=${2:?scratch dir}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/../skip.sh"
for t in cc aarch64-linux-gnu-gcc qemu-aarch64 arm-none-eabi-gcc qemu-system-arm; do
	command -v $t >/dev/null || skip_test "validate: $t not found (tools/setup.sh installs it)"
done
rm -rf "$scratch"
mkdir -p "$scratch/tmp"
export TMPDIR=$scratch/tmp
model=$root/examples/fashion_cnn/fashion_cnn.onnx
fail=0
bad() { echo "FAIL: $*"; fail=1; }

/usr/bin/python3 - "$scratch" <<'PY' || exit 1
import sys, numpy as np
r = np.random.default_rng(12)
np.save(sys.argv[1] + "/x.npy", r.random((3, 1, 28, 28), dtype=np.float32))
np.save(sys.argv[1] + "/calib.npy", r.random((16, 1, 28, 28), dtype=np.float32))
np.save(sys.argv[1] + "/wrong.npy", np.zeros((2, 3), np.float32))
np.save(sys.argv[1] + "/xi8.npy", r.integers(-128, 128, (2, 1, 28, 28)).astype(np.int8))
np.save(sys.argv[1] + "/x5.npy", r.random((2, 1, 1, 28, 28), dtype=np.float32))
PY

# expect NAME RC PATTERN... -- ARGS: run validate, check status and output
expect() {
	local name=$1 want=$2
	shift 2
	local pats=()
	while [ "$1" != -- ]; do pats+=("$1"); shift; done
	shift
	env ${QGTC_ENV:-} "$qgtc" validate "$@" >"$scratch/$name.out" 2>&1
	local rc=$?
	[ $rc = "$want" ] || { bad "$name: exit $rc, want $want"; cat "$scratch/$name.out"; return; }
	for p in "${pats[@]}"; do
		grep -Eq -- "$p" "$scratch/$name.out" || { bad "$name: no '$p' in:"; cat "$scratch/$name.out"; return; }
	done
	echo "ok: $name"
}

# Float code on this machine: close to the interpreter, timed.
expect host-float 0 "3 inputs \(from the .npy files\)" "output 0 'logits' f32\[1,10\]: max \|error\| " \
	"time/inference: [0-9.]+ us" "flash: [0-9,]+ B" "arena: 62,720 B" "validate: ok \(float code" \
	-- "$model" "$scratch/x.npy"
# Samples stacked with their batch of 1: [N, 1, 1, 28, 28].
expect host-stacked 0 "2 inputs \(from the .npy files\)" "validate: ok \(float code" \
	-- "$model" "$scratch/x5.npy"
# Integer code on the Cortex-M4: bit-exact, instructions counted.
expect m4-int8 0 "for armv7em, on QEMU mps2-an386 \(Cortex-M4\), 3 inputs" "max \|error\| 0, bit-exact on 3/3" \
	"instructions/inference: [0-9,]{7,} \(QEMU -icount" "arena: 15,680 B" \
	"validate: ok \(integer code, bit-exact\)" \
	-- "$model" "$scratch/x.npy" --target armv7em -a 8 --calib-data "$scratch/calib.npy"
# The stack the header states (NET_STACK_SIZE, from code generation's
# frame sizes) covers what the run used on the board, which the harness
# measures by painting the stack, and is not far above it.
# The harness paints from 128 B below its own frame, so a run that uses
# less says "under 128 B": then the declaration must be under 256 B.
decl=$(sed -n 's/.*stack: \([0-9,]*\) B (NET_STACK_SIZE).*/\1/p' "$scratch/m4-int8.out" | tr -d ,)
used=$(sed -n 's/.*, \([0-9,]*\) B used on the target.*/\1/p' "$scratch/m4-int8.out" | tr -d ,)
if [ -n "$decl" ] && [ -n "$used" ] && [ "$used" -le "$decl" ] && [ $((used * 2)) -ge "$decl" ]; then
	echo "ok: m4-stack ($used of $decl B)"
elif [ -n "$decl" ] && grep -q "(NET_STACK_SIZE), under 128 B used on the target" "$scratch/m4-int8.out" &&
	[ "$decl" -lt 256 ]; then
	echo "ok: m4-stack (under 128 of $decl B)"
else
	bad "m4-stack: declared '$decl' B, used '$used' B"
fi
# Kernel scratch in the arena (be_scratch): on the Cortex-M4 a depthwise
# conv's bordered plane (42 x 42 i16, 3,528 B) goes into arena bytes no
# buffer holds while it runs -- here the quantized input's, dead after
# the first conv, beside the in-place depthwise conv whose output starts
# a plane below its operand -- so the stack stays far under the plane,
# and the result stays bit-exact (AArch64 keeps its scratch on the
# stack: bit-exact too).
cat >"$scratch/dw.qgm" <<'EOF'
model dwstack(seed=5, init=he)
input image: f32[batch, 8, 40, 40]
conv2d(16, kernel=1)
relu
dwconv2d(kernel=3, pad=1)
relu
conv2d(8, kernel=1)
output as y
EOF
/usr/bin/python3 -c "import sys, numpy as np; np.save(sys.argv[1], np.random.default_rng(3).random((8, 8, 40, 40), dtype=np.float32))" \
	"$scratch/dwc.npy" || exit 1
for t in armv7em aarch64; do
	expect "scratch-$t" 0 "bit-exact on 2/2" "arena: 40,000 B" "validate: ok \(integer code, bit-exact\)" \
		-- "$scratch/dw.qgm" --target $t -a 8 --calib-data "$scratch/dwc.npy" --limit 2
	[ $t = armv7em ] || continue
	st=$(sed -n 's/.*stack: \([0-9,]*\) B (NET_STACK_SIZE).*/\1/p' "$scratch/scratch-$t.out" | tr -d ,)
	if [ -n "$st" ] && [ "$st" -lt 3528 ]; then
		echo "ok: scratch-$t stack $st B, under the plane's 3,528"
	else
		bad "scratch-$t: stack '$st' B, the plane would fit under 3,528"
	fi
done
# 2-bit weights on the Cortex-M7, seeded random inputs, --limit.
expect m7-w2a8 0 "mps2-an500 \(Cortex-M7\), 2 inputs \(random, seeded\)" "bit-exact on 2/2" \
	-- "$model" --target armv7em -mcpu=cortex-m7 -b 2 -a 8 --calib-data "$scratch/calib.npy" --limit 2
# Every weight scheme on the integer path, bit-exact on the M4 and
# AArch64: pow2 (from 5 bits on, its levels of 2^-7 of the largest and less
# round to 0) and symmetric grids, binary, ternary, codebooks (their
# levels rounded to int8 per channel, stored at 8 bits), and affine widths
# the other tests do not reach (1, 5, and 7 per tensor).
for sch in "pow2:-b 4 --scheme pow2" "pow6:-b 6 --scheme pow2" "sym3:-b 3 --scheme symmetric" "bin:--scheme binary" \
	"ter:--scheme ternary" "cb2:-b 2 --scheme codebook" "cb3t:-b 3 --scheme codebook --granularity per-tensor" \
	"aff1:-b 1" "aff5:-b 5" "aff7t:-b 7 --granularity per-tensor"; do
	for t in armv7em aarch64; do
		expect "int-${sch%%:*}-$t" 0 "max \|error\| 0, bit-exact on 2/2" "validate: ok \(integer code, bit-exact\)" \
			-- "$model" ${sch#*:} --target $t -a 8 --calib-data "$scratch/calib.npy" --limit 2
	done
done
# Integer buffers in and out on AArch64 (qemu-aarch64): int8 outputs exact.
# Instructions counted by tools/qemu_icount.c's TCG plugin; without it
# (QGTC_ICOUNT_PLUGIN names no file) the time is "not measured".
expect a64-io-int 0 "for aarch64, under qemu-aarch64, 2 inputs" "'logits[^']*' i8\[1,10\]: max \|error\| 0, bit-exact on 2/2" \
	"instructions/inference: [0-9,]{7,} .*\(qemu-aarch64, TCG plugin" \
	-- "$model" "$scratch/xi8.npy" --target aarch64 -a 8 --io int --calib-data "$scratch/calib.npy"
QGTC_ENV=QGTC_ICOUNT_PLUGIN=/nonexistent expect a64-no-plugin 0 "time/inference: not measured" "bit-exact on 1/1" \
	-- "$model" --target aarch64 -a 8 --calib-data "$scratch/calib.npy" --limit 1
# The plugin itself, on a loop of known length between two marks (the
# `hint #85` validate's harness executes around each inference): 1000 and
# 3000 trips of a 2-instruction loop after its 1-instruction set-up, plus
# the same few instructions of the calls each time.
plugin=$(dirname "$qgtc")/libqgtc_icount.so
cat >"$scratch/loop.c" <<'C'
#include <stdlib.h>
__attribute__((noinline)) static void mark(void) { __asm__ volatile("hint #85" ::: "memory"); }
int main(int argc, char **argv)
{
	long n = atol(argv[1]);
	mark();
	__asm__ volatile("mov x9, %0\n1: subs x9, x9, #1\n b.ne 1b" : : "r"(n) : "x9", "cc");
	mark();
	return argc > 2;
}
C
if aarch64-linux-gnu-gcc -O2 -static "$scratch/loop.c" -o "$scratch/loop" &&
	d1=$(qemu-aarch64 -plugin "$plugin" "$scratch/loop" 1000 2>&1 | awk '/^icount-mark 0 / { a = $3 } /^icount-mark 1 / { print $3 - a }') &&
	d3=$(qemu-aarch64 -plugin "$plugin" "$scratch/loop" 3000 2>&1 | awk '/^icount-mark 0 / { a = $3 } /^icount-mark 1 / { print $3 - a }') &&
	[ -n "$d1" ] && [ $((d3 - d1)) = 4000 ] && [ "$d1" -ge 2001 ] && [ "$d1" -le 2010 ]; then
	echo "ok: icount plugin ($d1 and $d3 instructions between the marks)"
else
	bad "icount plugin: ${d1:-?} and ${d3:-?} instructions between the marks, want 2001..2010 and 4000 more"
fi
# A difference fails, naming the output.
QGTC_VALIDATE_TAMPER=1 expect tamper 1 "differs from the interpreter: integer code must match byte for byte" \
	"validate: FAILED" \
	-- "$model" --target armv7em -a 8 --calib-data "$scratch/calib.npy" --limit 1
# --profile: a row per node; on the M4 the nodes' instructions add up to
# nearly the whole inference (the rest is the call and the counter reads).
expect m4-profile 0 "per node \(--profile; instructions" "conv +\[1,16,28,28\] +112,896 +[0-9,]+ +[0-9.]+ +[0-9.]+%" \
	"all nodes: [0-9,]+ instructions for 1,919,872 MACs" \
	-- "$model" --target armv7em -a 8 --calib-data "$scratch/calib.npy" --limit 1 --profile
if [ -f "$scratch/m4-profile.out" ]; then
	awk '/instructions\/inference:/ { gsub(",", "", $2); all = $2 }
	     /all nodes:/ { gsub(",", "", $3); part = $3 }
	     END { if (!(all > 0 && part <= all && part >= 0.95 * all)) {
	             printf "FAIL: the nodes count %s of %s instructions\n", part, all; exit 1 } }' \
		"$scratch/m4-profile.out" || fail=1
fi
expect host-profile 0 "per node \(--profile; time" "gemm +\[1,10\] +640 +[0-9.]+ " -- "$model" --limit 1 --profile
# compile --profile: the header declares the counters the object defines
if "$qgtc" "$model" --target armv7em --profile -o "$scratch/p.o" 2>"$scratch/p.err" &&
	grep -q "extern unsigned long long p_profile\[P_PROFILE_NODES\];" "$scratch/p.h" &&
	arm-none-eabi-nm "$scratch/p.o" | grep -q " B p_profile$"; then
	echo "ok: compile --profile"
else
	bad "compile --profile: no p_profile in the header or the object"; cat "$scratch/p.err"
fi
# compile states the stack need in the header (--emit header alone,
# without an object, cannot)
if grep -Eq "^#define P_STACK_SIZE [1-9][0-9]*$" "$scratch/p.h" &&
	"$qgtc" "$model" --emit header -o "$scratch/h.h" && ! grep -q "STACK_SIZE" "$scratch/h.h"; then
	echo "ok: header stack size"
else
	bad "header stack size:"; grep STACK "$scratch/p.h" "$scratch/h.h"
fi
# Shapes met in exported models (found by a sweep over PyTorch exports):
# concats feeding an add and a global average pool, and a Linear head, at
# -a 8 all in integers and bit-exact; a clamp exported with its bounds as
# Constant(double) -> Cast(float), which qgtc reads as f32.
/usr/bin/python3 - "$scratch" <<'PY' || exit 1
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto as T
d = sys.argv[1]
r = np.random.default_rng(5)
w = lambda n, *s: numpy_helper.from_array((r.normal(0, 0.4, s)).astype(np.float32), n)
conv = lambda x, wn, y: helper.make_node("Conv", [x, wn], [y], pads=[1, 1, 1, 1])
nodes = [conv("x", "w1", "c1"), conv("x", "w2", "c2"), conv("x", "w3", "c3"),
         helper.make_node("Concat", ["c1", "c2"], ["cat"], axis=1),
         helper.make_node("Add", ["cat", "c3"], ["s"]), helper.make_node("Relu", ["s"], ["r"]),
         helper.make_node("Concat", ["r", "c1"], ["cat2"], axis=1),
         helper.make_node("GlobalAveragePool", ["cat2"], ["g"]), helper.make_node("Flatten", ["g"], ["f"]),
         helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], transB=1)]
inits = [w("w1", 4, 3, 3, 3), w("w2", 4, 3, 3, 3), w("w3", 8, 3, 3, 3), w("wf", 5, 12), w("bf", 5)]
g = helper.make_graph(nodes, "cat", [helper.make_tensor_value_info("x", T.FLOAT, [1, 3, 8, 8])],
                      [helper.make_tensor_value_info("y", T.FLOAT, [1, 5])], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 7
onnx.checker.check_model(m); onnx.save(m, d + "/cat.onnx")
np.save(d + "/cat_x.npy", r.normal(0, 1, (2, 3, 8, 8)).astype(np.float32))
np.save(d + "/cat_calib.npy", r.normal(0, 1, (16, 3, 8, 8)).astype(np.float32))
# ShuffleNet's unit: a chunk (two slices), a concat, the channel shuffle
# (reshape, transpose, reshape) and x.mean([2, 3]) before the classifier
i64 = lambda n, v: numpy_helper.from_array(np.array(v, np.int64), n)
nodes = [conv("x", "s1", "a"), helper.make_node("Relu", ["a"], ["ar"]),
         helper.make_node("Slice", ["ar", "z", "h", "one"], ["a1"]),
         helper.make_node("Slice", ["ar", "h", "e", "one"], ["a2"]),
         conv("a2", "s2", "b"), helper.make_node("Relu", ["b"], ["br"]),
         helper.make_node("Concat", ["a1", "br"], ["c"], axis=1),
         helper.make_node("Reshape", ["c", "sh5"], ["c5"]),
         helper.make_node("Transpose", ["c5"], ["t5"], perm=[0, 2, 1, 3, 4]),
         helper.make_node("Reshape", ["t5", "sh4"], ["t4"]),
         conv("t4", "s3", "d"), helper.make_node("ReduceMean", ["d"], ["m"], axes=[2, 3], keepdims=0),
         helper.make_node("Gemm", ["m", "sf", "sb"], ["y"], transB=1)]
inits = [w("s1", 8, 3, 3, 3), w("s2", 4, 4, 3, 3), w("s3", 6, 8, 3, 3), w("sf", 5, 6), w("sb", 5),
         i64("z", [0]), i64("h", [4]), i64("e", [8]), i64("one", [1]),
         i64("sh5", [1, 2, 4, 8, 8]), i64("sh4", [1, 8, 8, 8])]
g = helper.make_graph(nodes, "shuffle", [helper.make_tensor_value_info("x", T.FLOAT, [1, 3, 8, 8])],
                      [helper.make_tensor_value_info("y", T.FLOAT, [1, 5])], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 7
onnx.checker.check_model(m); onnx.save(m, d + "/shuffle.onnx")
lo = helper.make_tensor("lo", T.DOUBLE, [], [-0.3]); hi = helper.make_tensor("hi", T.DOUBLE, [], [0.7])
nodes = [helper.make_node("Constant", [], ["lo64"], value=lo), helper.make_node("Constant", [], ["hi64"], value=hi),
         helper.make_node("Cast", ["lo64"], ["lo32"], to=T.FLOAT), helper.make_node("Cast", ["hi64"], ["hi32"], to=T.FLOAT),
         helper.make_node("Clip", ["x", "lo32", "hi32"], ["y"])]
g = helper.make_graph(nodes, "clamp", [helper.make_tensor_value_info("x", T.FLOAT, [1, 6])],
                      [helper.make_tensor_value_info("y", T.FLOAT, [1, 6])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 7
onnx.checker.check_model(m); onnx.save(m, d + "/clamp.onnx")
np.save(d + "/clamp_x.npy", np.array([[-1, -0.3, 0, 0.5, 0.7, 2]], np.float32))
# Normalisations between integer layers (float islands at -a 8):
# InstanceNormalization (torch's GroupNorm and InstanceNorm), a
# LayerNormalization over channels (opset 17), Sqrt and Pow.
f32 = lambda n, v: numpy_helper.from_array(np.array(v, np.float32), n)
nodes = [conv("x", "n1", "a"), helper.make_node("InstanceNormalization", ["a", "is", "ib"], ["an"]),
         helper.make_node("Relu", ["an"], ["ar"]), conv("ar", "n2", "b"),
         helper.make_node("Transpose", ["b"], ["bt"], perm=[0, 2, 3, 1]),
         helper.make_node("LayerNormalization", ["bt", "ls", "lb"], ["bl"], axis=-1, epsilon=1e-5),
         helper.make_node("Transpose", ["bl"], ["bn"], perm=[0, 3, 1, 2]),
         helper.make_node("Pow", ["bn", "two"], ["b2"]), helper.make_node("Sqrt", ["b2"], ["bs"]),
         helper.make_node("GlobalAveragePool", ["bs"], ["g"]), helper.make_node("Flatten", ["g"], ["f"]),
         helper.make_node("Gemm", ["f", "nf", "nb"], ["y"], transB=1)]
inits = [w("n1", 6, 3, 3, 3), w("n2", 8, 6, 3, 3), f32("is", r.uniform(0.5, 1.5, 6)), f32("ib", r.normal(0, 0.3, 6)),
         f32("ls", r.uniform(0.5, 1.5, 8)), f32("lb", r.normal(0, 0.3, 8)), f32("two", 2.0), w("nf", 5, 8), w("nb", 5)]
g = helper.make_graph(nodes, "norms", [helper.make_tensor_value_info("x", T.FLOAT, [1, 3, 8, 8])],
                      [helper.make_tensor_value_info("y", T.FLOAT, [1, 5])], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]); m.ir_version = 8
onnx.checker.check_model(m); onnx.save(m, d + "/norms.onnx")
# Recurrent layers (unroll-rnn): a bidirectional GRU with
# linear_before_reset=0 (ONNX's default; torch exports 1) and an LSTM with
# initial states, over 6 steps.
T_, I_, H_ = 6, 4, 5
wr = lambda n, *s: numpy_helper.from_array(r.normal(0, 0.5, s).astype(np.float32), n)
nodes = [helper.make_node("Transpose", ["x"], ["xs"], perm=[1, 0, 2]),
         helper.make_node("GRU", ["xs", "gw", "gr", "gb"], ["gy", "gh"], hidden_size=H_, direction="bidirectional"),
         helper.make_node("Reshape", ["gy", "shy"], ["gy2"]),
         helper.make_node("LSTM", ["gy2", "lw", "lr", "lb", "", "lh0", "lc0"], ["", "lh", "lc"], hidden_size=H_),
         helper.make_node("Concat", ["lh", "lc"], ["hc"], axis=2), helper.make_node("Flatten", ["hc"], ["f"]),
         helper.make_node("Gemm", ["f", "rf", "rb"], ["y"], transB=1)]
inits = [wr("gw", 2, 3 * H_, I_), wr("gr", 2, 3 * H_, H_), wr("gb", 2, 6 * H_), i64("shy", [T_, 1, 2 * H_]),
         wr("lw", 1, 4 * H_, 2 * H_), wr("lr", 1, 4 * H_, H_), wr("lb", 1, 8 * H_), wr("lh0", 1, 1, H_),
         wr("lc0", 1, 1, H_), wr("rf", 3, 2 * H_), wr("rb", 3)]
g = helper.make_graph(nodes, "rnn", [helper.make_tensor_value_info("x", T.FLOAT, [1, T_, I_])],
                      [helper.make_tensor_value_info("y", T.FLOAT, [1, 3])], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]); m.ir_version = 7
onnx.checker.check_model(m); onnx.save(m, d + "/rnn.onnx")
np.save(d + "/rnn_x.npy", r.normal(0, 1, (2, T_, I_)).astype(np.float32))
np.save(d + "/rnn_calib.npy", r.normal(0, 1, (16, T_, I_)).astype(np.float32))
PY
expect cat-int8 0 "max \|error\| 0, bit-exact on 2/2" "validate: ok \(integer code, bit-exact\)" \
	-- "$scratch/cat.onnx" "$scratch/cat_x.npy" -a 8 --calib-data "$scratch/cat_calib.npy"
expect shuffle-int8 0 "max \|error\| 0, bit-exact on 2/2" "validate: ok \(integer code, bit-exact\)" \
	-- "$scratch/shuffle.onnx" "$scratch/cat_x.npy" -a 8 --calib-data "$scratch/cat_calib.npy"
# The norms run in float, summed in the same order on every engine, so
# the quantization after them cannot flip: still bit-exact.
for t in armv7em aarch64; do
	expect norms-int8-$t 0 "max \|error\| 0, bit-exact on 2/2" "validate: ok" \
		-- "$scratch/norms.onnx" "$scratch/cat_x.npy" --target $t -a 8 --calib-data "$scratch/cat_calib.npy"
done
# The recurrent layers, unrolled: float close, integer bit-exact.
expect rnn-float 0 "validate: ok \(float code" -- "$scratch/rnn.onnx" "$scratch/rnn_x.npy" --target armv7em
expect rnn-int8 0 "max \|error\| 0, bit-exact on 2/2" "validate: ok" \
	-- "$scratch/rnn.onnx" "$scratch/rnn_x.npy" --target armv7em -a 8 --calib-data "$scratch/rnn_calib.npy"
for m in cat shuffle; do
	if "$qgtc" "$scratch/$m.onnx" -a 8 --calib-data "$scratch/cat_calib.npy" --report layers -o "$scratch/$m.o" \
		2>&1 | grep -q "^layers: [0-9]* integer, 0 float"; then
		echo "ok: $m-int8 has no float layer"
	else
		bad "$m-int8: a layer runs in float"
	fi
done
if "$qgtc" run "$scratch/clamp.onnx" "$scratch/clamp_x.npy" --output-dir "$scratch/clamp" &&
	/usr/bin/python3 -c "import sys, numpy as np; x = np.load(sys.argv[1]); y = np.load(sys.argv[2]);
sys.exit(not np.array_equal(y, np.clip(x, np.float32(-0.3), np.float32(0.7))))" \
		"$scratch/clamp_x.npy" "$scratch/clamp/output_0.npy"; then
	echo "ok: double constants"
else
	bad "double constants: qgtc run of clamp.onnx failed or differs from numpy's clip"
fi
# An embedding table read at run-time indices (int64 token ids, negative
# ones too, as torch's nn.Embedding exports it): the compiled gather loop
# against the interpreter on every target.
/usr/bin/python3 - "$scratch" <<'PY' || exit 1
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto as T
d, r = sys.argv[1], np.random.default_rng(3)
f32 = lambda n, *s: numpy_helper.from_array(r.normal(0, 1, s).astype(np.float32), n)
nodes = [helper.make_node("Gather", ["table", "ids"], ["e"], axis=0),
         helper.make_node("ReduceMean", ["e"], ["m"], axes=[1], keepdims=0),
         helper.make_node("Gemm", ["m", "w", "b"], ["y"], transB=1)]
g = helper.make_graph(nodes, "emb", [helper.make_tensor_value_info("ids", T.INT64, [1, 6])],
                      [helper.make_tensor_value_info("y", T.FLOAT, [1, 3])], [f32("table", 10, 4), f32("w", 3, 4), f32("b", 3)])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 7
onnx.checker.check_model(m); onnx.save(m, d + "/emb.onnx")
np.save(d + "/emb_ids.npy", np.array([[[1, 4, 0, 9, -1, 2]], [[-10, 3, 3, 7, 8, -5]]], np.int64))
PY
for t in x86_64 aarch64 armv7em; do
	expect embedding-$t 0 "2 inputs \(from the .npy files\)" "max \|error\| [0-9.e-]+" "validate: ok \(float code" \
		-- "$scratch/emb.onnx" "$scratch/emb_ids.npy" --target $t
done
# The inverse and hyperbolic trigonometric ops and a float Mod call libm
# (newlib on the Cortex-M4, glibc elsewhere): within 1e-4 of the
# interpreter everywhere.
/usr/bin/python3 - "$scratch" <<'PY' || exit 1
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto as T
d = sys.argv[1]
c = lambda n, v: numpy_helper.from_array(np.array(v, np.float32), n)
ops = ["Asin", "Acos", "Atanh", "Atan", "Sinh", "Cosh", "Asinh", "Acosh"]
nodes = [helper.make_node("Mul", ["x", "four"], ["x4"]), helper.make_node("Abs", ["x4"], ["a4"]),
         helper.make_node("Add", ["a4", "one"], ["x1"])]
nodes += [helper.make_node(o, ["x" if i < 3 else "x1" if o == "Acosh" else "x4"], ["y" + o]) for i, o in enumerate(ops)]
nodes.append(helper.make_node("Mod", ["x4", "m"], ["yMod"], fmod=1))
nodes.append(helper.make_node("Concat", ["y" + o for o in ops + ["Mod"]], ["y"], axis=1))
g = helper.make_graph(nodes, "trig", [helper.make_tensor_value_info("x", T.FLOAT, [1, 16])],
                      [helper.make_tensor_value_info("y", T.FLOAT, [1, 144])],
                      [c("four", 4.0), c("one", 1.0), c("m", -0.7)])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 7
onnx.checker.check_model(m); onnx.save(m, d + "/trig.onnx")
np.save(d + "/trig_x.npy", np.random.default_rng(5).uniform(-0.95, 0.95, (2, 1, 16)).astype(np.float32))
PY
for t in x86_64 aarch64 armv7em; do
	expect trig-$t 0 "2 inputs \(from the .npy files\)" "validate: ok \(float code" \
		-- "$scratch/trig.onnx" "$scratch/trig_x.npy" --target $t
done
# Between dense layers at -a 8 they are integer lookup tables: bit-exact
# on the M4.
/usr/bin/python3 - "$scratch" <<'PY' || exit 1
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto as T
d, r = sys.argv[1], np.random.default_rng(1)
f = lambda n, *s: numpy_helper.from_array(r.normal(0, 0.5, s).astype(np.float32), n)
ops, nodes, prev = ["Atan", "Sinh", "Asinh", "Cosh"], [helper.make_node("Gemm", ["x", "w0", "b0"], ["h0"], transB=1)], "h0"
for i, o in enumerate(ops):
    nodes += [helper.make_node(o, [prev], ["a%d" % i]),
              helper.make_node("Gemm", ["a%d" % i, "w%d" % (i + 1), "b%d" % (i + 1)], ["h%d" % (i + 1)], transB=1)]
    prev = "h%d" % (i + 1)
g = helper.make_graph(nodes, "trig8", [helper.make_tensor_value_info("x", T.FLOAT, [1, 16])],
                      [helper.make_tensor_value_info(prev, T.FLOAT, [1, 16])],
                      [f("w%d" % i, 16, 16) for i in range(5)] + [f("b%d" % i, 16) for i in range(5)])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 7
onnx.checker.check_model(m); onnx.save(m, d + "/trig8.onnx")
np.save(d + "/trig8_x.npy", r.uniform(-1, 1, (4, 1, 16)).astype(np.float32))
PY
expect trig-m4-a8 0 "4 inputs \(from the .npy files\)" "max \|error\| 0, bit-exact on 4/4" \
	"validate: ok \(integer code, bit-exact\)" \
	-- "$scratch/trig8.onnx" "$scratch/trig8_x.npy" --target armv7em -a 8 --calib-data "$scratch/trig8_x.npy"
# GatherND (batch_dims 1) and ScatterND (add, two coordinates) at int64
# indices given at run time, negative ones too: the compiled loops against
# the interpreter on every target.
/usr/bin/python3 - "$scratch" <<'PY' || exit 1
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto as T
d, r = sys.argv[1], np.random.default_rng(4)
nodes = [helper.make_node("GatherND", ["x", "gi"], ["g"], batch_dims=1),
         helper.make_node("ScatterND", ["x", "si", "g"], ["s"], reduction="add"),
         helper.make_node("Flatten", ["s"], ["y"])]
g = helper.make_graph(nodes, "nd", [helper.make_tensor_value_info("x", T.FLOAT, [2, 3, 4]),
                                    helper.make_tensor_value_info("gi", T.INT64, [2, 2, 1]),
                                    helper.make_tensor_value_info("si", T.INT64, [2, 2, 2])],
                      [helper.make_tensor_value_info("y", T.FLOAT, [2, 12])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 16)]); m.ir_version = 8
onnx.checker.check_model(m); onnx.save(m, d + "/nd.onnx")
np.save(d + "/nd_x.npy", r.normal(0, 1, (2, 2, 3, 4)).astype(np.float32))
np.save(d + "/nd_gi.npy", np.array([[[[2], [0]], [[-1], [1]]], [[[1], [1]], [[0], [-3]]]], np.int64))
np.save(d + "/nd_si.npy", np.array([[[[0, 2], [1, -1]], [[1, 0], [1, 0]]], [[[-2, 1], [0, 1]], [[1, 2], [0, 0]]]], np.int64))
PY
for t in x86_64 aarch64 armv7em; do
	expect nd-$t 0 "2 inputs \(from the .npy files\)" "max \|error\| 0, bit-exact on 2/2" "validate: ok \(float code" \
		-- "$scratch/nd.onnx" "$scratch/nd_x.npy" "$scratch/nd_gi.npy" "$scratch/nd_si.npy" --target $t
done
# Ops the importer composes of others (LRN as an average pool over
# channels, MeanVarianceNormalization, Shrink, ThresholdedRelu, Hardmax)
# in a CNN, opset 12: float code on the three targets, and -a 8 around
# them on the M4.
/usr/bin/python3 - "$scratch" <<'PY' || exit 1
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto as T
d, r = sys.argv[1], np.random.default_rng(2)
f = lambda n, *s: numpy_helper.from_array(r.normal(0, 0.4, s).astype(np.float32), n)
nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["c1"], ["r1"]),
         helper.make_node("LRN", ["r1"], ["l1"], size=5, alpha=1e-3, beta=0.75, bias=2.0),
         helper.make_node("MaxPool", ["l1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
         helper.make_node("MeanVarianceNormalization", ["p1"], ["n1"]),
         helper.make_node("Shrink", ["n1"], ["s1"], lambd=0.3, bias=0.1),
         helper.make_node("ThresholdedRelu", ["s1"], ["t1"], alpha=0.05),
         helper.make_node("Flatten", ["t1"], ["fl"]),
         helper.make_node("Gemm", ["fl", "w2", "b2"], ["g"], transB=1),
         helper.make_node("Hardmax", ["g"], ["h"], axis=1),
         helper.make_node("Add", ["g", "h"], ["y"])]
g = helper.make_graph(nodes, "composed", [helper.make_tensor_value_info("x", T.FLOAT, [1, 3, 8, 8])],
                      [helper.make_tensor_value_info("y", T.FLOAT, [1, 5])],
                      [f("w1", 8, 3, 3, 3), f("b1", 8), f("w2", 5, 128), f("b2", 5)])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 12)]); m.ir_version = 7
onnx.checker.check_model(m); onnx.save(m, d + "/composed.onnx")
np.save(d + "/composed_x.npy", r.normal(0, 1, (3, 1, 3, 8, 8)).astype(np.float32))
PY
for t in x86_64 aarch64 armv7em; do
	expect composed-$t 0 "3 inputs \(from the .npy files\)" "validate: ok \(float code" \
		-- "$scratch/composed.onnx" "$scratch/composed_x.npy" --target $t
done
expect composed-m4-a8 0 "3 inputs \(from the .npy files\)" "max \|error\| 0, bit-exact on 3/3" \
	-- "$scratch/composed.onnx" "$scratch/composed_x.npy" --target armv7em -a 8 --calib-data "$scratch/composed_x.npy"
# Clear errors.
QGTC_ENV=PATH=/nonexistent expect no-tools 1 "validate for thumbv7em-[a-z-]*eabihf needs arm-none-eabi-gcc and qemu-system-arm on PATH" \
	-- "$model" --target armv7em
# Cortex-M0 (Armv6-M, soft float) and M3 objects run on the M3 board; M33
# is not run.
expect m0-int8 0 "on QEMU mps2-an385 \(a Cortex-M3 running the Armv6-M code\), 1 input" "bit-exact on 1/1" \
	"instructions/inference: [0-9,]{7,} \(QEMU -icount" \
	-- "$model" --target thumbv6m-none-eabi -mcpu=cortex-m0 -a 8 --calib-data "$scratch/calib.npy" --limit 1
expect m3-float 0 "on QEMU mps2-an385 \(Cortex-M3\), 1 input" "validate: ok \(float code" \
	-- "$model" --target thumbv7m-none-eabi --limit 1
expect m33 1 "validate runs x86_64, aarch64 and Cortex-M0/M3/M4/M7 \(thumbv6m, thumbv7m, armv7em\) objects, not thumbv8m" \
	-- "$model" --target thumbv8m.main-none-eabi -mcpu=cortex-m33
# A model whose weights (4.5 MB) exceed the board's 4 MB: said as such.
/usr/bin/python3 - "$scratch" <<'PY' || exit 1
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto as T
w = numpy_helper.from_array(np.full((1024, 1100), 0.01, np.float32), "w")
g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "big",
                      [helper.make_tensor_value_info("x", T.FLOAT, [1, 1024])],
                      [helper.make_tensor_value_info("y", T.FLOAT, [1, 1100])], [w])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 7
onnx.save(m, sys.argv[1] + "/big.onnx")
PY
expect too-big 1 "error: the object does not fit the QEMU mps2-an386 board's memory \(4 MB for code" \
	"region .FLASH. overflowed" -- "$scratch/big.onnx" --target armv7em --limit 1
rm -f "$scratch/big.onnx"
expect wrong-input 1 "wrong.npy: error: input 0 'image' of the compiled model is f32\[1,1,28,28\]" \
	-- "$model" "$scratch/wrong.npy"
expect two-models 2 "option '-o' applies only to" -- "$model" -o x.o
# Nothing left behind; -v keeps the folder and says where.
left=$(ls -A "$scratch/tmp")
[ -z "$left" ] || bad "temporary files left: $left"
expect verbose 0 "^\+ cc -O2" "the harness, object and logs are in .*/qgtc-validate-" -- "$model" -v --limit 1
n=$(ls -d "$scratch"/tmp/qgtc-validate-* 2>/dev/null | wc -l)
[ "$n" = 1 ] && [ -f "$(ls -d "$scratch"/tmp/qgtc-validate-*)/harness.c" ] || bad "-v did not keep one folder with the harness"
exit $fail
