#!/usr/bin/env bash
# quant_check.sh: quantized models through the native backend, whose
# kernels read the bit-packed weights and decode them on the fly, against
# the interpreter's simulation of the same quantized model (dequantized
# weights, float activations).
#
#   quant_check.sh QGTC SCRATCH [MODEL] [TARGETS]
#
# For each configuration (scheme x bits x granularity, below) it runs
# `qgtc run MODEL x.npy FLAGS` with the interpreter and with --engine
# native (the JIT), and compiles MODEL with FLAGS for each target of
# TARGETS (default "x86_64 x86_64-Os aarch64 armv7em armv7em-O3"; a -Ox
# suffix adds that flag: x86-64 at -Os and Cortex-M4 by default use the
# compact shared kernels, the others the tiled speed kernels), runs it
# (host, qemu-aarch64,
# qemu-system-arm mps2-an386) through tests/backend/harness.c, and checks
# every output within 1e-5 of the largest reference magnitude.  It also
# checks that a quantized armv7em object holds no float copy of the
# weights (its .rodata is well under the FP32 weights' size).  MODEL
# defaults to the Fashion CNN of examples/.  A target whose toolchain or
# emulator is missing is skipped with a note (under CI=true: a failure,
# tests/skip.sh).  Exit status 0 when all agree.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
qgtc=${1:?usage: quant_check.sh QGTC SCRATCH [MODEL] [TARGETS]}
scratch=${2:?scratch dir}
model=${3:-$root/examples/fashion_cnn/fashion_cnn.onnx}
targets=${4:-"x86_64 x86_64-Os aarch64 armv7em armv7em-O3"}
py=/usr/bin/python3
qgtc=$(cd "$(dirname "$qgtc")" && pwd)/$(basename "$qgtc")
model=$(cd "$(dirname "$model")" && pwd)/$(basename "$model")
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)
cd "$scratch" || exit 1
. "$here/../skip.sh"

have_aarch64=1 have_m4=1
command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null || have_aarch64=0
command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm >/dev/null || have_m4=0

$py - <<'PY' || { echo "FAIL: cannot prepare the input"; exit 1; }
import numpy as np
x = np.random.default_rng(7).random((1, 1, 28, 28), dtype=np.float32)
np.save("x.npy", x)
with open("input_data.h", "w") as f:
    f.write("static const float input_data[%d] = {\n" % x.size)
    f.write(",\n".join("%.9gf" % v for v in x.ravel()))
    f.write("\n};\n")
PY
"$qgtc" "$model" --batch=1 --target host --name net --emit header -o net.h ||
	{ echo "FAIL: header"; exit 1; }

# name|flags
configs='affine-8|-b 8
affine-4|-b 4
affine-3|-b 3
affine-2|-b 2
affine-2-tensor|-b 2 --granularity per-tensor
affine-2-f16|-b 2 --scale-dtype f16 --bias-dtype f16
affine-2-e8|-b 2 --scale-dtype e8
affine-2-e8-f32bias|-b 2 --scale-dtype e8 --bias-dtype f32
symmetric-8|-b 8 --scheme symmetric
symmetric-5|-b 5 --scheme symmetric
symmetric-2|-b 2 --scheme symmetric
pow2-4|-b 4 --scheme pow2
pow2-2|-b 2 --scheme pow2
binary|--scheme binary
ternary|--scheme ternary
ternary-e8|--scheme ternary --scale-dtype e8
codebook-4|-b 4 --scheme codebook
codebook-2|-b 2 --scheme codebook
mixed|-b 4 --bits features.4*=2,features.8*=3,fc*=8
fp32|'

cmp() { # ref.npy got(.npy|.txt) -> message; status
	$py - "$1" "$2" <<'PY'
import sys, numpy as np
ref = np.load(sys.argv[1]).ravel().astype(np.float64)
g = sys.argv[2]
got = (np.load(g) if g.endswith(".npy") else
       np.array([float(l) for l in open(g) if l.strip()])).ravel().astype(np.float64)
if got.shape != ref.shape:
    print("got %d values, want %d" % (got.size, ref.size)); sys.exit(1)
scale = max(np.abs(ref).max(), 1e-30)
err = np.abs(got - ref).max() / scale
print("max error %.3g" % err)
sys.exit(0 if err <= 1e-5 else 1)
PY
}

fail=0
mapfile -t lines <<< "$configs"
for line in "${lines[@]}"; do
	name=${line%%|*} flags=${line#*|}
	[ -n "$name" ] || continue
	# shellcheck disable=SC2086
	set -- $flags
	rm -rf ref jit
	if ! "$qgtc" run "$model" x.npy "$@" --output-dir ref >/dev/null; then
		echo "$name: FAIL: qgtc run (interpreter)"; fail=1; continue
	fi
	if ! "$qgtc" run "$model" x.npy "$@" --engine native --output-dir jit >/dev/null; then
		echo "$name/jit: FAIL: qgtc run --engine native"; fail=1
	elif msg=$(cmp ref/output_0.npy jit/output_0.npy); then
		echo "$name/jit: ok, $msg"
	else
		echo "$name/jit: FAIL: $msg"; fail=1
	fi
	for t in $targets; do
		rm -f net.o prog out.txt
		rc=0
		oflag=()
		[ "${t%%-O*}" != "$t" ] && oflag=("-${t#*-}")
		case ${t%%-O*} in
		x86_64)
			"$qgtc" "$model" "$@" "${oflag[@]}" --batch=1 --target x86_64 --name net -o net.o &&
				gcc -O2 -I. "$here/harness.c" net.o -lm -o prog && ./prog < /dev/null > out.txt
			rc=$? ;;
		aarch64)
			[ $have_aarch64 = 1 ] || { skip_part "$name/$t" "no aarch64 toolchain/qemu" || fail=1; continue; }
			"$qgtc" "$model" "$@" "${oflag[@]}" --batch=1 --target aarch64 --name net -o net.o &&
				aarch64-linux-gnu-gcc -O2 -static -I. "$here/harness.c" net.o -lm -o prog &&
				timeout 120 qemu-aarch64 -cpu cortex-a72 ./prog < /dev/null > out.txt
			rc=$? ;;
		armv7em)
			[ $have_m4 = 1 ] || { skip_part "$name/$t" "no arm-none-eabi-gcc/qemu-system-arm" || fail=1; continue; }
			"$qgtc" "$model" "$@" "${oflag[@]}" --batch=1 --target armv7em --name net -o net.o &&
				arm-none-eabi-gcc -O2 -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 \
					--specs=rdimon.specs -T "$root/runtime/mps2/mps2.ld" -Wl,--no-warn-execstack \
					-I. "$here/harness.c" "$root/runtime/mps2/startup.c" net.o -lm -o prog &&
				timeout 120 qemu-system-arm -M mps2-an386 -nographic -semihosting-config \
					enable=on,target=native -kernel prog < /dev/null > out.txt
			rc=$? ;;
		*) echo "$name/$t: FAIL: unknown target"; fail=1; continue ;;
		esac
		if [ $rc -ne 0 ]; then
			echo "$name/$t: FAIL: build or run exited with $rc"; fail=1; continue
		fi
		if msg=$(cmp ref/output_0.npy out.txt); then
			echo "$name/$t: ok, $msg"
		else
			echo "$name/$t: FAIL: $msg"; fail=1
		fi
	done
done

# The compact kernels are shared: at 2 bits on Cortex-M (default policy)
# the module defines one kernel for the encoding (e12 scales, packed zero
# points, b12 biases: .e12.zp.b12) and calls it once per conv/gemm layer;
# at -O3 there is none.
nl=$("$qgtc" "$model" --emit ir | grep -cE '= (conv|gemm)\(')
ll=$("$qgtc" "$model" -b 2 --target armv7em --emit llvm -o -)
nk=$(printf '%s\n' "$ll" | grep -cE '^define internal .*@[a-z_0-9]+\.k\.int\.e12\.zp\.b12\(')
nc=$(printf '%s\n' "$ll" | grep -cE 'call .*@[a-z_0-9]+\.k\.int\.e12\.zp\.b12\(')
n3=$("$qgtc" "$model" -b 2 --target armv7em -O3 --emit llvm -o - | grep -cE '@[a-z_0-9]+\.k\.' || true)
if [ "$nk" = 1 ] && [ "$nc" = "$nl" ] && [ "$nl" -gt 1 ] && [ "$n3" = 0 ]; then
	echo "shared kernel: ok, 1 kernel, $nc calls for $nl layers; none at -O3"
else
	echo "shared kernel: FAIL: $nk kernels, $nc calls for $nl conv/gemm layers, $n3 at -O3"; fail=1
fi

# No float copy of the weights: at 2 bits the object's .rodata* must be
# far below the FP32 object's (a float copy takes 4 bytes per weight), as
# the size report reads each object's section table.
rodata() {
	"$qgtc" "$model" "$@" --batch=1 --target armv7em --name net -o net.o --report size |
		sed -n 's/^object flash: .*\.rodata\* \([0-9]*\))$/\1/p'
}
q=$(rodata -b 2) && f=$(rodata) || { echo "size: FAIL: compile"; exit 1; }
if [ -n "$q" ] && [ -n "$f" ] && [ "$q" -gt 0 ] && [ "$f" -ge $((8 * q)) ]; then
	echo "size: ok, .rodata* $q bytes at 2 bits, $f at FP32"
else
	echo "size: FAIL: .rodata* '$q' bytes at 2 bits, '$f' at FP32"; fail=1
fi

[ $fail = 0 ] && echo "quant check: all agree" || echo "quant check: FAILED"
exit $fail
