#!/bin/bash
# icount_a72.sh: AArch64 (Cortex-A72, Raspberry Pi 4) instructions per
# inference of the MLPerf-Tiny-shaped models (see latency.sh), FP32 and
# integer-only side by side, compiled by qgtc for --target aarch64 and
# counted under qemu-aarch64 with the TCG plugin tools/qemu_icount.c.
# qemu-aarch64 has no -icount, so a run's count is every instruction it
# executes; one inference is (count at 3 rounds - count at 1 round) / 2,
# in which start-up and exit cancel.  The counts are exact and identical
# on every run (they are not cycles: the A72 is out of order).
#
# usage: bench/icount_a72.sh [QGTC]
# env:   LATENCY_DIR, LATENCY_MODELS as for latency.sh; QGTC_FLAGS extra
#        flags for both builds (e.g. -mcpu=cortex-a76); ACT_BITS (8 by
#        default) and INT_FLAGS (e.g. "-b 4") for the integer build,
#        calibrated on 16 seeded normal inputs (calib.npy, as icount_m4.sh).
# prints: model, MMACs, FP32 instructions and per MAC, integer ones and per
#        MAC, the ratio integer/FP32 (issue 12's target: at most 0.35),
#        and the integer object's flash (.text + .rodata*).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
. "$here/find_qgtc.sh"
find_qgtc icount_a72.sh "${1:-}"
for t in aarch64-linux-gnu-gcc qemu-aarch64 cc; do
  command -v "$t" >/dev/null || { echo "icount_a72.sh: $t not found (tools/setup.sh installs it)" >&2; exit 2; }
done
work=${LATENCY_DIR:-$root/build-bench}
models=${LATENCY_MODELS:-mobilenet_v1_025_vww,resnet8_cifar,dscnn_kws,dense_autoencoder}
py=/usr/bin/python3
act=${ACT_BITS:-8}
IFS=, read -r -a names <<< "$models"
mkdir -p "$work"
plugin=$work/libqemu_icount.so
cc -O2 -shared -fPIC -o "$plugin" "$root/tools/qemu_icount.c"

# count DIR ROUNDS: the instructions of DIR/prog run ROUNDS times
count() {
  timeout 1200 qemu-aarch64 -plugin "$plugin" "$1/prog" "$2" 2>&1 >/dev/null | awk '/^icount:/ { print $2 }'
}

# build DIR FLAGS...: compile the model into DIR and link the harness
build() {
  local dir=$1
  shift
  mkdir -p "$dir"
  # shellcheck disable=SC2086
  "$qgtc" "$d/model.onnx" --target aarch64 "$@" ${QGTC_FLAGS:-} -o "$dir/model.o"
  aarch64-linux-gnu-gcc -O2 -static -I"$dir" -DMODEL_HEADER='"model.h"' -DMODEL_RUN=model_run \
    -DMODEL_PREFIX=MODEL "$here/icount_a72_harness.c" "$dir/model.o" -lm -o "$dir/prog"
}

per_inference() {
  local one three
  one=$(count "$1" 1)
  three=$(count "$1" 3)
  echo $(( (three - one) / 2 ))
}

printf '%-22s %8s %14s %8s %14s %8s %8s %9s\n' model MMACs FP32 "/MAC" "int$act" "/MAC" ratio "flash KB"
for m in "${names[@]}"; do
  d=$work/models/$m
  [ -f "$d/model.onnx" ] || "$py" "$here/latency_torch.py" --export "$work/models" "$m"
  [ -f "$d/macs" ] || "$py" "$here/latency_torch.py" --macs "$m" > "$d/macs"
  [ -f "$d/calib.npy" ] || "$py" "$here/calib_npy.py" "$d/model.onnx" "$d/calib.npy"
  build "$d/a72-f32"
  # shellcheck disable=SC2086
  build "$d/a72-int" -a "$act" --calib-data "$d/calib.npy" ${INT_FLAGS:-}
  nf=$(per_inference "$d/a72-f32")
  ni=$(per_inference "$d/a72-int")
  flash=$(llvm-size-19 -A "$d/a72-int/model.o" | awk '$1 ~ /^\.(text|rodata)/ { s += $2 } END { print s }')
  awk -v m="$m" -v macs="$(cat "$d/macs")" -v nf="$nf" -v ni="$ni" -v fl="$flash" 'BEGIN {
    printf "%-22s %8.2f %14.0f %8.2f %14.0f %8.2f %8.2f %9.1f\n", m, macs / 1e6, nf, nf / macs,
      ni, ni / macs, ni / nf, fl / 1024 }'
done
