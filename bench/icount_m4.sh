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
#        and qgtc's ratio to it;
#        WEIGHTS (with ACT_BITS=8), e.g. "4 2 binary ternary": each model
#        also at those weights (a number is -b N, a word --scheme WORD),
#        one column each with its ratio to qgtc's own int8 (issue 12:
#        4 bits at most 1.15x, 2 bits 1.25x, binary and ternary 1.0x).
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
read -r -a wsets <<< "${WEIGHTS:-}"
if [ ${#wsets[@]} -gt 0 ] && [ -z "$act" ]; then
  echo "icount_m4.sh: WEIGHTS needs ACT_BITS=8" >&2
  exit 2
fi
declare -A cmsis=([mobilenet_v1_025_vww]=24710000 [resnet8_cifar]=29860000 [dscnn_kws]=7840000)

# count DIR TAG FLAGS...: compile DIR's model with FLAGS into DIR/m4-TAG,
# link and run it; prints the instruction count and the flash bytes
count() {
  local d=$1 tag=$2 out
  shift 2
  out=$d/m4$tag
  mkdir -p "$out"
  "$qgtc" "$d/model.onnx" --target armv7em "$@" -o "$out/model.o"
  arm-none-eabi-gcc -O2 -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 \
    --specs=rdimon.specs -T "$root/runtime/mps2/mps2.ld" -Wl,--no-warn-execstack \
    -I"$out" -DMODEL_HEADER='"model.h"' -DMODEL_RUN=model_run -DMODEL_PREFIX=MODEL \
    "$here/icount_m4_harness.c" "$root/runtime/mps2/startup.c" "$out/model.o" -lm -o "$out/prog"
  local n
  n=$(timeout 600 qemu-system-arm -M mps2-an386 -nographic -icount shift=0 \
        -semihosting-config enable=on,target=native -kernel "$out/prog" | awk '/^icount:/ { print $2 }')
  echo "${n:-0} $(arm-none-eabi-size -A "$out/model.o" | awk '$1 ~ /^\.(text|rodata)/ { s += $2 } END { print s }')"
}

hdr=$(printf '%-22s %8s %14s %10s %10s' model MMACs instructions instr/MAC "flash KB")
[ -n "$act" ] && hdr+=$(printf ' %12s %8s' "CMSIS-NN" ratio)
for w in "${wsets[@]}"; do
  case $w in [0-9]*) lab="W${w}A8" ;; *) lab=$w ;; esac
  hdr+=$(printf ' %12s %7s' "$lab" "x int8")
done
echo "$hdr"
for m in "${names[@]}"; do
  d=$work/models/$m
  [ -f "$d/model.onnx" ] || "$py" "$here/latency_torch.py" --export "$work/models" "$m"
  [ -f "$d/macs" ] || "$py" "$here/latency_torch.py" --macs "$m" > "$d/macs"
  aflags=()
  if [ -n "$act" ]; then
    [ -f "$d/calib.npy" ] || "$py" "$here/calib_npy.py" "$d/model.onnx" "$d/calib.npy"
    aflags=(-a "$act" --calib-data "$d/calib.npy")
  fi
  # shellcheck disable=SC2086
  read -r n flash < <(count "$d" "" "${aflags[@]}" ${QGTC_FLAGS:-})
  line=$(awk -v m="$m" -v macs="$(cat "$d/macs")" -v n="$n" -v fl="$flash" \
      -v act="$act" -v ref="${cmsis[$m]:-0}" 'BEGIN {
    printf "%-22s %8.2f %14.0f %10.2f %10.1f", m, macs / 1e6, n, n / macs, fl / 1024
    if (act != "")
      printf(ref > 0 ? " %12.0f %8.2f" : " %12s %8s", ref > 0 ? ref : "-", ref > 0 ? n / ref : "-") }')
  for w in "${wsets[@]}"; do
    case $w in [0-9]*) wf=(-b "$w") ;; *) wf=(--scheme "$w") ;; esac
    # shellcheck disable=SC2086
    read -r nw _ < <(count "$d" "-$w" "${aflags[@]}" "${wf[@]}" ${QGTC_FLAGS:-})
    line+=$(awk -v a="$nw" -v b="$n" 'BEGIN { printf(" %12.0f %7.3f", a, (b > 0 ? a / b : 0)) }')
  done
  echo "$line"
done
