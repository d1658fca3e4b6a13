#!/usr/bin/env bash
# cross_check.sh: compile a set of models with the native backend for
# x86-64, aarch64 and Cortex-M4F (armv7em), run each build (host,
# qemu-aarch64 -cpu cortex-a72, qemu-system-arm -M mps2-an386 with
# semihosting) on one input embedded in the program, and compare the
# printed outputs with the reference interpreter's (`qgtc run`'s
# output_*.npy, every output in order).
#
#   cross_check.sh QGTC SCRATCH [MODELS] [TARGETS]
#
# MODELS is either one model file (.onnx/.qgm/.qir), or a directory of
# tests/torch exports (NAME/model.onnx + NAME/input_0.npy, as
# tests/torch/export_models.py writes them), from which the
# MLPerf-Tiny-shaped set is taken: mobilenet_v1_025_vww, resnet8_cifar,
# dscnn_kws, dense_autoencoder, and LeNet-5 (tanh: inline on the SIMD
# targets, libm on the Cortex-M).  The Fashion CNN of examples/ and a small
# graph of resize/conv_transpose/pad/clip/max_pool-Indices/cast
# (make_ops_model.py) are in the set unless MODELS is one file, and so are
# three integer models of make_int_models.py (int_*: integer conv/matmul
# with requantization, i8 and i16 activations), whose outputs must equal
# the interpreter's exactly.  TARGETS defaults to "x86_64 aarch64 armv7em".
#
# A model's input is its input_0.npy, or a fixed-seed pseudo-random one.
# Models are checked in parallel (one job per model), each target after
# the other.  Compilation uses `QGTC MODEL --target T --name net -o net.o`
# when the driver has --target, else $QGTC_BECC (tests/backend/becc.c).
# A target whose toolchain or emulator is missing is skipped with a note
# (under CI=true: a failure, tests/skip.sh).
# Exit status 0 when every (model, target) pair agrees within 1e-4 of the
# largest reference magnitude (int_* models: exactly).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
qgtc=${1:?usage: cross_check.sh QGTC SCRATCH [MODELS] [TARGETS]}
scratch=${2:?scratch dir}
models=${3:-}
targets=${4:-"x86_64 aarch64 armv7em"}
py=/usr/bin/python3
qgtc=$(cd "$(dirname "$qgtc")" && pwd)/$(basename "$qgtc")
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)
. "$here/../skip.sh"
missing=0 # a skipped part under CI=true

# name<TAB>model<TAB>input (input may be "-": random)
list=$(printf 'fashion_cnn\t%s\t-\n' "$root/examples/fashion_cnn/fashion_cnn.onnx")
if [ -n "$models" ] && [ -f "$models" ]; then
	list=$(printf 'model\t%s\t-\n' "$(cd "$(dirname "$models")" && pwd)/$(basename "$models")")
elif [ -n "$models" ]; then
	models=$(cd "$models" && pwd) || exit 1
	for m in mobilenet_v1_025_vww resnet8_cifar dscnn_kws dense_autoencoder lenet5; do
		if [ ! -f "$models/$m/model.onnx" ]; then
			echo "missing $models/$m/model.onnx (run tests/torch/export_models.py)"
			exit 1
		fi
		list+=$'\n'"$(printf '%s\t%s\t%s' "$m" "$models/$m/model.onnx" "$models/$m/input_0.npy")"
	done
fi

# Plus a small graph of the ops lowered outside the conv/linalg families
# (resize, conv_transpose, pad modes, clip, max_pool Indices, cast).
if [ -z "$models" ] || [ -d "$models" ]; then
	mkdir -p "$scratch/ops_mix"
	if $py "$here/make_ops_model.py" "$scratch/ops_mix/ops_mix.onnx" "$scratch/ops_mix/ops_in.npy"; then
		list+=$'\n'"$(printf 'ops_mix\t%s\t%s' "$scratch/ops_mix/ops_mix.onnx" "$scratch/ops_mix/ops_in.npy")"
	else
		skip_part ops_mix "make_ops_model.py failed; python3-onnx missing?" || missing=1
	fi
	# Integer models: integer conv/matmul lowered by l_int.c.
	if $py "$here/make_int_models.py" "$scratch/int_models"; then
		for m in dw_i8 conv_i16 matmul3d mixed_i8 transpose_u8 concat_i8 head_u8 dsp_edges dsp_lowbit dsp_wide rq_mixed dsp_dw dsp_wide4 neon_edges neon_dw rq_ties quant_edges dsp_w2 dsp_pm1 dsp_plane dsp_four dsp_four4 dw_mixed fine_bias dsp_runs dsp_long dsp_fc dsp_direct dsp_band resize_near convt_q dsp_tall attn_i8 ln_i8 mm_act; do
			list+=$'\n'"$(printf 'int_%s\t%s\t%s' "$m" "$scratch/int_models/$m.onnx" "$scratch/int_models/${m}_in.npy")"
		done
	else
		skip_part "int_*" "make_int_models.py failed; python3-onnx missing?" || missing=1
	fi
fi

have_aarch64=1 have_m4=1
command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null || have_aarch64=0
command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm >/dev/null || have_m4=0

check_model() { # name model input; runs in $scratch/name, log on stdout
	local name=$1 model=$2 input=$3 fail=0 batch
	mkdir -p "$scratch/$name" && cd "$scratch/$name" || return 1
	rm -rf ref ./*.txt prog net.*
	# The input: as .npy for `qgtc run`, as a C array for the programs.
	batch=$($py - "$input" <<'PY'
import sys, numpy as np
if sys.argv[1] != "-":
    x = np.load(sys.argv[1]).astype(np.float32)
else:
    x = np.random.default_rng(7).random((1, 1, 28, 28), dtype=np.float32)
np.save("input.npy", x)
# the bits, so that NaN, infinities and -0 reach the programs as they are
with open("input_data.h", "w") as f:
    f.write("static const union { unsigned u[%d]; float f[%d]; } input_bits = {{\n" % (x.size, x.size))
    f.write(",\n".join("0x%08xu" % v for v in x.ravel().view(np.uint32)))
    f.write("\n}};\n#define input_data input_bits.f\n")
print(x.shape[0])
PY
) || { echo "$name: FAIL: cannot prepare the input"; return 1; }
	"$qgtc" run "$model" input.npy --output-dir ref >/dev/null ||
		{ echo "$name: FAIL: qgtc run"; return 1; }
	compile() { # target emit out
		if "$qgtc" --help 2>&1 | grep -q -- '--target'; then
			"$qgtc" "$model" --batch="$batch" --target "$1" --name net --emit "$2" -o "$3"
		else
			"${QGTC_BECC:?driver lacks --target and QGTC_BECC is not set}" "$model" "$3" \
				--target "$1" --name net --emit "$2"
		fi
	}
	compile host header net.h || { echo "$name: FAIL: header"; return 1; }
	for t in $targets; do
		rm -f net.o prog out.txt
		local rc=0
		case $t in
		x86_64)
			compile x86_64 obj net.o &&
				gcc -O2 -I. "$here/harness.c" net.o -lm -o prog && ./prog > out.txt
			rc=$? ;;
		aarch64)
			if [ $have_aarch64 = 0 ]; then
				skip_part "$name/$t" "aarch64-linux-gnu-gcc or qemu-aarch64 missing" || fail=1
				continue
			fi
			compile aarch64 obj net.o &&
				aarch64-linux-gnu-gcc -O2 -static -I. "$here/harness.c" net.o -lm -o prog &&
				timeout 120 qemu-aarch64 -cpu cortex-a72 ./prog > out.txt
			rc=$? ;;
		armv7em)
			if [ $have_m4 = 0 ]; then
				skip_part "$name/$t" "arm-none-eabi-gcc or qemu-system-arm missing" || fail=1
				continue
			fi
			compile armv7em obj net.o &&
				arm-none-eabi-gcc -O2 -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 \
					--specs=rdimon.specs -T "$root/runtime/mps2/mps2.ld" -Wl,--no-warn-execstack \
					-I. "$here/harness.c" "$root/runtime/mps2/startup.c" net.o -lm -o prog &&
				timeout 120 qemu-system-arm -M mps2-an386 -nographic -semihosting-config \
					enable=on,target=native -kernel prog > out.txt
			rc=$? ;;
		*)
			echo "$name/$t: FAIL: unknown target"; fail=1; continue ;;
		esac
		if [ $rc -ne 0 ]; then
			echo "$name/$t: FAIL: build or run exited with $rc"; head -5 out.txt 2>/dev/null
			fail=1; continue
		fi
		local msg
		if msg=$($py - out.txt "$name" <<'PY'
import sys, numpy as np
import glob
outs = sorted(glob.glob("ref/output_*.npy"), key=lambda p: int(p[11:-4]))
ref = np.concatenate([np.load(p).ravel() for p in outs]).astype(np.float64)
got = np.array([float(l) for l in open(sys.argv[1]) if l.strip()], dtype=np.float64)
if got.shape != ref.shape:
    print("got %d values, want %d" % (got.size, ref.size)); sys.exit(1)
if sys.argv[2].startswith("int_"):
    # Integer models: %.9g names each f32 exactly; they must be identical.
    bad = int((got.astype(np.float32) != ref.astype(np.float32)).sum())
    print("%d of %d values differ" % (bad, ref.size) if bad else "all %d values identical" % ref.size)
    sys.exit(1 if bad else 0)
scale = max(np.abs(ref).max(), 1e-30)
err = np.abs(got - ref).max() / scale
print("max error %.3g (relative to max |ref| %.4g)" % (err, scale))
sys.exit(0 if err <= 1e-4 else 1)
PY
); then
			echo "$name/$t: ok, $msg"
		else
			echo "$name/$t: FAIL: outputs differ: $msg"; fail=1
		fi
	done
	return $fail
}

pids=()
names=()
while IFS=$'\t' read -r name model input; do
	[ -n "$name" ] || continue
	mkdir -p "$scratch/$name"
	( check_model "$name" "$model" "$input" ) > "$scratch/$name.log" 2>&1 &
	pids+=($!)
	names+=("$name")
done <<< "$list"

fail=$missing
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || fail=1
	cat "$scratch/${names[$i]}.log"
done
[ $fail = 0 ] && echo "cross check: all agree" || echo "cross check: FAILED"
exit $fail
