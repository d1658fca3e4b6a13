#!/usr/bin/env bash
# check_example.sh: build and run one of the examples/ projects the way
# its README says, and check what it prints.
#
#   check_example.sh firmware-m4|rpi4|cmake QGTC SCRATCH
#
# firmware-m4: make run (Cortex-M4F, qemu-system-arm -M mps2-an386):
#              all 8 embedded test images classified correctly, exit 0,
#              and a second `make -q` finds everything up to date (the
#              qgtc -MD dependency file is sound).
# rpi4:        make run N=100 (aarch64, qemu-aarch64 -cpu cortex-a72):
#              accuracy of at least 85% on the first 100 test images.
# cmake:       configure and build examples/cmake with qgtc_add_model()
#              (cmake/QgtcModel.cmake), run classify on 500 images
#              (>= 85%), then check that touching the model rebuilds the
#              object and that a rebuild without changes does nothing.
# Exit 77 (skipped) when a toolchain, emulator or the data set is missing;
# under CI=true that fails instead (tests/skip.sh).
set -u
kind=${1:?usage: check_example.sh firmware-m4|rpi4|cmake QGTC SCRATCH}
qgtc=${2:?qgtc}
scratch=${3:?scratch dir}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/../skip.sh"
data=/usr/share/datasets/fashion-mnist
qgtc=$(cd "$(dirname "$qgtc")" && pwd)/$(basename "$qgtc")
rm -rf "$scratch"
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)

need() {
	for t in "$@"; do
		command -v "$t" >/dev/null || skip_test "$t not found"
	done
	[ -f "$data/t10k-images-idx3-ubyte.gz" ] || skip_test "$data missing"
}

accuracy_at_least() { # file percent
	local acc
	acc=$(sed -n 's/^accuracy: .* = \([0-9.]*\)%$/\1/p' "$1")
	[ -n "$acc" ] || { echo "FAIL: no accuracy line"; return 1; }
	awk -v a="$acc" -v m="$2" 'BEGIN { exit !(a >= m) }' ||
		{ echo "FAIL: accuracy $acc% < $2%"; return 1; }
	echo "accuracy $acc% (>= $2%)"
}

case $kind in
firmware-m4)
	need arm-none-eabi-gcc qemu-system-arm make gzip cc
	dir=$root/examples/firmware-m4
	timeout 300 make -C "$dir" QGTC="$qgtc" BUILD="$scratch/build" run > "$scratch/out.txt" 2>&1
	rc=$?
	cat "$scratch/out.txt"
	[ $rc -eq 0 ] || { echo "FAIL: make run exited with $rc"; exit 1; }
	grep -q '^8 of 8 correct$' "$scratch/out.txt" || { echo "FAIL: not 8 of 8 correct"; exit 1; }
	make -q -C "$dir" QGTC="$qgtc" BUILD="$scratch/build" all ||
		{ echo "FAIL: a second make would rebuild"; exit 1; }
	;;
rpi4)
	need aarch64-linux-gnu-gcc qemu-aarch64 make gzip
	dir=$root/examples/rpi4
	timeout 300 make -C "$dir" QGTC="$qgtc" BUILD="$scratch/build" N=100 run > "$scratch/out.txt" 2>&1
	rc=$?
	cat "$scratch/out.txt"
	[ $rc -eq 0 ] || { echo "FAIL: make run exited with $rc"; exit 1; }
	file "$scratch/build/classify" 2>/dev/null | grep -q aarch64 ||
		{ command -v file >/dev/null && { echo "FAIL: classify is not an aarch64 binary"; exit 1; }; }
	accuracy_at_least "$scratch/out.txt" 85 || exit 1
	;;
cmake)
	need cmake gzip
	gen=()
	command -v ninja >/dev/null && gen=(-G Ninja)
	# The model is copied so that touching it does not touch the source tree.
	cp "$root/examples/fashion_cnn/fashion_cnn.onnx" "$scratch/model.onnx"
	cmake -S "$root/examples/cmake" -B "$scratch/build" "${gen[@]}" -DQGTC_EXECUTABLE="$qgtc" \
		-DMODEL="$scratch/model.onnx" > "$scratch/configure.txt" 2>&1 ||
		{ cat "$scratch/configure.txt"; echo "FAIL: configure"; exit 1; }
	cmake --build "$scratch/build" || { echo "FAIL: build"; exit 1; }
	gzip -dc "$data/t10k-images-idx3-ubyte.gz" > "$scratch/images.idx"
	gzip -dc "$data/t10k-labels-idx1-ubyte.gz" > "$scratch/labels.idx"
	"$scratch/build/classify" "$scratch/images.idx" "$scratch/labels.idx" 500 > "$scratch/out.txt" ||
		{ cat "$scratch/out.txt"; echo "FAIL: classify"; exit 1; }
	cat "$scratch/out.txt"
	accuracy_at_least "$scratch/out.txt" 85 || exit 1
	obj=$(find "$scratch/build" -name fashion.o | head -1)
	[ -n "$obj" ] || { echo "FAIL: no fashion.o"; exit 1; }
	before=$(stat -c %Y.%s "$obj")
	sleep 1
	cmake --build "$scratch/build" > "$scratch/rebuild.txt" 2>&1
	[ "$(stat -c %Y.%s "$obj")" = "$before" ] || { echo "FAIL: rebuilt without a change"; exit 1; }
	touch "$scratch/model.onnx"
	cmake --build "$scratch/build" > "$scratch/rebuild.txt" 2>&1 || { echo "FAIL: rebuild"; exit 1; }
	[ "$(stat -c %Y.%s "$obj")" != "$before" ] ||
		{ cat "$scratch/rebuild.txt"; echo "FAIL: touching the model did not rebuild"; exit 1; }
	echo "rebuild on model change: ok"
	;;
*)
	echo "unknown example '$kind'"; exit 2 ;;
esac
echo "example $kind: ok"
