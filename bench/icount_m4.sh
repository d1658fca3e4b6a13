#!/bin/bash
# icount_m4.sh: Cortex-M4 instructions per inference of the MLPerf-Tiny-
# shaped models (see latency.sh), compiled by qgtc for armv7em, counted
# with QEMU's deterministic -icount shift=0 and SysTick (mps2-an386).  The
# counts are exact to +-40 and identical on every run: a regression check
# for code quality on a target without timers we can trust.
#
# usage: bench/icount_m4.sh [QGTC]
# env:   LATENCY_DIR, LATENCY_MODELS as for latency.sh (the exported models
#        are shared); QGTC_FLAGS extra qgtc flags (e.g. -mcpu=cortex-m7);
#        ACT_BITS=8 compiles integer-only (-a 8, weights -b as QGTC_FLAGS
#        says, 8 by default), calibrated on 16 seeded normal inputs
#        (calib.npy beside each model: instruction counts do not depend on
#        the data, only the scales do), and adds CMSIS-NN's int8 count
#        (issue 12's table: commit 99f736a, gcc 12 -O3, same QEMU method)
#        and qgtc's ratio to it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
. "$here/find_qgtc.sh"
find_qgtc icount_m4.sh "${1:-}"
work=${LATENCY_DIR:-$root/build-bench}
models=${LATENCY_MODELS:-mobilenet_v1_025_vww,resnet8_cifar,dscnn_kws,dense_autoencoder}
py=/usr/bin/python3
IFS=, read -r -a names <<< "$models"
act=${ACT_BITS:-}
declare -A cmsis=([mobilenet_v1_025_vww]=24710000 [resnet8_cifar]=29860000 [dscnn_kws]=7840000)
if [ -n "$act" ]; then
  printf '%-22s %8s %14s %10s %10s %12s %8s\n' model MMACs instructions instr/MAC "flash KB" "CMSIS-NN" ratio
else
  printf '%-22s %8s %14s %10s %10s\n' model MMACs instructions instr/MAC "flash KB"
fi
for m in "${names[@]}"; do
  d=$work/models/$m
  [ -f "$d/model.onnx" ] || "$py" "$here/latency_torch.py" --export "$work/models" "$m"
  [ -f "$d/macs" ] || "$py" "$here/latency_torch.py" --macs "$m" > "$d/macs"
  mkdir -p "$d/m4"
  aflags=()
  if [ -n "$act" ]; then
    [ -f "$d/calib.npy" ] || "$py" "$here/calib_npy.py" "$d/model.onnx" "$d/calib.npy"
    aflags=(-a "$act" --calib-data "$d/calib.npy")
  fi
  # shellcheck disable=SC2086
  "$qgtc" "$d/model.onnx" --target armv7em "${aflags[@]}" ${QGTC_FLAGS:-} -o "$d/m4/model.o"
  arm-none-eabi-gcc -O2 -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 \
    --specs=rdimon.specs -T "$root/runtime/mps2/mps2.ld" -Wl,--no-warn-execstack \
    -I"$d/m4" -DMODEL_HEADER='"model.h"' -DMODEL_RUN=model_run -DMODEL_PREFIX=MODEL \
    "$here/icount_m4_harness.c" "$root/runtime/mps2/startup.c" "$d/m4/model.o" -lm -o "$d/m4/prog"
  n=$(timeout 600 qemu-system-arm -M mps2-an386 -nographic -icount shift=0 \
        -semihosting-config enable=on,target=native -kernel "$d/m4/prog" | awk '/^icount:/ { print $2 }')
  flash=$(arm-none-eabi-size -A "$d/m4/model.o" | awk '$1 ~ /^\.(text|rodata)/ { s += $2 } END { print s }')
  awk -v m="$m" -v macs="$(cat "$d/macs")" -v n="${n:-0}" -v fl="$flash" \
      -v act="$act" -v ref="${cmsis[$m]:-0}" 'BEGIN {
    printf "%-22s %8.2f %14.0f %10.2f %10.1f", m, macs / 1e6, n, n / macs, fl / 1024
    if (act != "")
      printf(ref > 0 ? " %12.0f %8.2f" : " %12s %8s", ref > 0 ? ref : "-", ref > 0 ? n / ref : "-")
    printf "\n" }'
done
