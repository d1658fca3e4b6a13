#!/usr/bin/env bash
# random_check.sh: random PyTorch CNNs (random_torch_models.py, fixed
# seeds) through the integer path on every target, as `qgtc validate`
# checks a user's model: compiled at -a 8 with 8-, 4- and 2-bit, ternary
# and binary weights, at -a 16, and at -a 8 -O s, each run on x86-64
# (natively), AArch64 (qemu-aarch64) and the Cortex-M4 (QEMU) against the
# interpreter: validate's own verdict, byte for byte on integer code (a
# layer that stays float, as a head after a dead relu6, within 1e-4).
# Then random transformers (random_torch_transformers.py) likewise.
# Shapes nobody wrote a test for: a seed of this kind found an immediate
# the Thumb-2 assembler rejected.
#
#   random_check.sh QGTC SCRATCH [SEEDS [TRANSFORMER_SEEDS]]
#
# A missing emulator or toolchain skips its target (under CI=true, a
# failure: tests/skip.sh); missing PyTorch skips the test.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../skip.sh"
qgtc=${1:?usage: random_check.sh QGTC SCRATCH [SEEDS [TRANSFORMER_SEEDS]]}
scratch=${2:?scratch dir}
seeds=${3:-"8 21 40"}
tseeds=${4:-"2 7"}
py=/usr/bin/python3
qgtc=$(cd "$(dirname "$qgtc")" && pwd)/$(basename "$qgtc")
$py -c "import torch, onnx" 2>/dev/null || skip_test "python3-torch or python3-onnx missing"
targets="host"
missing=0
if command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null; then
	targets+=" aarch64"
else
	skip_part aarch64 "aarch64-linux-gnu-gcc or qemu-aarch64 missing" || missing=1
fi
if command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm >/dev/null; then
	targets+=" armv7em"
else
	skip_part armv7em "arm-none-eabi-gcc or qemu-system-arm missing" || missing=1
fi
mkdir -p "$scratch"
fail=0 n=0
# one model: GEN (a generator) writes it for seed S into DIR, then each
# configuration (its flags) runs on every target; LABEL names it
check_model() {
	local gen=$1 s=$2 d=$3 label=$4 cfg t out
	shift 4
	rm -rf "$d"
	if ! $py "$here/$gen" "$d" "$s"; then
		echo "FAIL: $label: $gen"
		fail=1
		return
	fi
	for cfg in "$@"; do
		for t in $targets; do
			n=$((n + 1))
			# shellcheck disable=SC2086
			if ! out=$("$qgtc" validate "$d/model.onnx" "$d/x.npy" --target "$t" $cfg \
				--calib-data "$d/calib.npy" 2>&1) || ! grep -q "^validate: ok" <<<"$out"; then
				echo "FAIL: $label [$cfg] $t:"
				tail -5 <<<"$out" | sed 's/^/  /'
				fail=1
			fi
		done
	done
	echo "$label: $(head -1 "$d/desc.txt")"
}
for s in $seeds; do
	check_model random_torch_models.py "$s" "$scratch/seed$s" "seed $s" "-a 8 -b 8" "-a 8 -b 4" "-a 8 -b 2" \
		"-a 8 --scheme ternary" "-a 8 --scheme binary" "-a 8 -O s" "-a 16"
done
# Random transformers (random_torch_transformers.py): attention, nn.Linear
# on tokens (MatMul and a bias add on the left), GELU, LayerNorm, token
# means, at -a 8 with 8- and 4-bit weights, -a 8 -O s and -a 16.
for s in $tseeds; do
	check_model random_torch_transformers.py "$s" "$scratch/tseed$s" "transformer seed $s" "-a 8" "-a 8 -b 4" \
		"-a 8 -O s" "-a 16"
done
[ $fail = 0 ] && [ $missing = 0 ] && echo "random check: $n runs, all bit-exact" && exit 0
exit 1
