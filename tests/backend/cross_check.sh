#!/usr/bin/env bash
# cross_check.sh: compile a model with the native backend for x86-64,
# aarch64 and Cortex-M4 (armv7em), run each build (host, qemu-aarch64
# -cpu cortex-a72, qemu-system-arm -M mps2-an386) on one embedded input and
# compare the printed outputs with the reference interpreter's output_0.npy.
#
#   cross_check.sh QGTC SCRATCH [MODEL] [TARGETS]
#
# QGTC is the driver (`qgtc run` gives the reference).  Compilation uses
# `QGTC MODEL --target T --name net -o net.o` when the driver has --target,
# else $QGTC_BECC (tests/backend/becc.c, the stand-in).  A target whose
# toolchain or emulator is missing is skipped with a note.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
qgtc=${1:?usage: cross_check.sh QGTC SCRATCH [MODEL] [TARGETS]}
scratch=${2:?scratch dir}
model=${3:-$root/examples/fashion_cnn/fashion_cnn.onnx}
targets=${4:-"x86_64 aarch64 armv7em"}
py=/usr/bin/python3
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)
cd "$scratch" || exit 1

compile() { # target emit out
	if "$qgtc" --help 2>&1 | grep -q -- '--target'; then
		"$qgtc" "$model" --batch=1 --target "$1" --name net --emit "$2" -o "$3"
	else
		"${QGTC_BECC:?driver lacks --target and QGTC_BECC is not set}" "$model" "$3" \
			--target "$1" --name net --emit "$2"
	fi
}

# One input: a Fashion-MNIST-shaped pseudo-random image, fixed seed.
$py - <<'PY' || exit 1
import numpy as np
rng = np.random.default_rng(7)
x = rng.random((1, 1, 28, 28), dtype=np.float32)
np.save("input.npy", x)
with open("input_data.h", "w") as f:
    f.write("static const float input_data[%d] = {\n" % x.size)
    f.write(",\n".join(repr(float(v)) + "f" for v in x.ravel()))
    f.write("\n};\n")
PY
"$qgtc" run "$model" input.npy --output-dir ref >/dev/null || { echo "FAIL: qgtc run"; exit 1; }

compare() { # name file
	$py - "$2" <<'PY'
import sys, numpy as np
ref = np.load("ref/output_0.npy").ravel().astype(np.float64)
got = np.array([float(l) for l in open(sys.argv[1]) if l.strip()], dtype=np.float64)
if got.shape != ref.shape:
    print("  got %d values, want %d" % (got.size, ref.size)); sys.exit(1)
scale = max(np.abs(ref).max(), 1e-30)
err = np.abs(got - ref).max() / scale
print("  max error %.3g (relative to max |ref| %.4g)" % (err, scale))
sys.exit(0 if err <= 1e-4 else 1)
PY
}

fail=0
compile host header net.h || exit 1
for t in $targets; do
	rm -f net.o prog out.txt
	echo "== $t"
	case $t in
	x86_64)
		compile x86_64 obj net.o || { fail=1; continue; }
		gcc -O2 -I. "$here/harness.c" net.o -lm -o prog && ./prog > out.txt ;;
	aarch64)
		if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
			echo "  skipped: aarch64-linux-gnu-gcc or qemu-aarch64 missing"; continue
		fi
		compile aarch64 obj net.o || { fail=1; continue; }
		aarch64-linux-gnu-gcc -O2 -static -I. "$here/harness.c" net.o -lm -o prog &&
			qemu-aarch64 -cpu cortex-a72 ./prog > out.txt ;;
	armv7em)
		if ! command -v arm-none-eabi-gcc >/dev/null || ! command -v qemu-system-arm >/dev/null; then
			echo "  skipped: arm-none-eabi-gcc or qemu-system-arm missing"; continue
		fi
		compile armv7em obj net.o || { fail=1; continue; }
		arm-none-eabi-gcc -O2 -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 \
			--specs=rdimon.specs -T "$root/runtime/mps2/mps2.ld" -Wl,--no-warn-execstack \
			-I. "$here/harness.c" "$root/runtime/mps2/startup.c" net.o -lm -o prog &&
			timeout 120 qemu-system-arm -M mps2-an386 -nographic -semihosting-config \
				enable=on,target=native -kernel prog > out.txt ;;
	*)
		echo "  unknown target $t"; fail=1; continue ;;
	esac
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "  FAIL: build or run exited with $rc"; cat out.txt 2>/dev/null | head -5; fail=1; continue
	fi
	compare "$t" out.txt || { echo "  FAIL: outputs differ"; fail=1; continue; }
	echo "  ok"
done
exit $fail
