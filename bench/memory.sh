#!/bin/bash
# memory.sh: the int8 arena of the MLPerf-Tiny-shaped models against
# CMSIS-NN's activation RAM (issue 12's table), and what patch-based
# execution (--ram-budget, passes/patch.c) gets below it.
#
# usage: bench/memory.sh [QGTC]
# env:   LATENCY_DIR, LATENCY_MODELS as for latency.sh (the exported models
#        and calib.npy are shared with icount_m4.sh); BUDGETS: per-model
#        budgets for the patched column, "model=BYTES,..." (default: VWW at
#        32 KiB, the issue's goal, and the others at 3/4 of their
#        whole-layer arena).
#
# Every figure is the header's NAME_ARENA_SIZE of an armv7em compile at
# -a 8 (weights 8-bit), with the caller's int8 input (--io int: CMSIS-NN's
# figure counts no float input either), and for the patched column the
# patch pass's own line: the tiles, the arena and the MACs added.  The
# stack columns are the same objects' NAME_STACK_SIZE (code generation's
# frames: the kernels' planes and columns are in the arena where a gap
# holds them, be_scratch), so arena + stack is the RAM the model needs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
. "$here/find_qgtc.sh"
find_qgtc memory.sh "${1:-}"
work=${LATENCY_DIR:-$root/build-bench}
models=${LATENCY_MODELS:-mobilenet_v1_025_vww,resnet8_cifar,dscnn_kws}
py=/usr/bin/python3
IFS=, read -r -a names <<< "$models"
declare -A cmsis=([mobilenet_v1_025_vww]=55296 [resnet8_cifar]=49152 [dscnn_kws]=16000)
declare -A budget=([mobilenet_v1_025_vww]=32768)
if [ -n "${BUDGETS:-}" ]; then
  IFS=, read -r -a bs <<< "$BUDGETS"
  for b in "${bs[@]}"; do budget[${b%%=*}]=${b#*=}; done
fi
printf '%-22s %10s %10s %7s %7s %10s %10s %8s %7s %8s\n' model CMSIS-NN "qgtc int8" ratio stack budget patched ratio stack "MACs +"
for m in "${names[@]}"; do
  d=$work/models/$m
  [ -f "$d/model.onnx" ] || "$py" "$here/latency_torch.py" --export "$work/models" "$m"
  [ -f "$d/calib.npy" ] || "$py" "$here/calib_npy.py" "$d/model.onnx" "$d/calib.npy"
  mkdir -p "$d/mem"
  flags=(-a 8 --io int --calib-data "$d/calib.npy" --target armv7em)
  "$qgtc" "$d/model.onnx" "${flags[@]}" --name whole -o "$d/mem/whole.o"
  a0=$(awk '/_ARENA_SIZE/ { print $3; exit }' "$d/mem/whole.h")
  s0=$(awk '/_STACK_SIZE/ { print $3; exit }' "$d/mem/whole.h")
  b=${budget[$m]:-$((a0 * 3 / 4))}
  a1=- extra=- s1=-
  if "$qgtc" "$d/model.onnx" "${flags[@]}" --ram-budget "$b" --report memory --name patched \
       -o "$d/mem/patched.o" > "$d/mem/report.txt" 2>&1; then
    a1=$(awk '/_ARENA_SIZE/ { print $3; exit }' "$d/mem/patched.h")
    s1=$(awk '/_STACK_SIZE/ { print $3; exit }' "$d/mem/patched.h")
    extra=$(grep -o '(+[0-9.]*%)' "$d/mem/report.txt" | tr -d '()' | head -1)
    [ -n "$extra" ] || extra="+0%"
  fi
  ref=${cmsis[$m]:-0}
  awk -v m="$m" -v ref="$ref" -v a0="$a0" -v s0="$s0" -v b="$b" -v a1="$a1" -v s1="$s1" -v ex="$extra" 'BEGIN {
    r0 = ref > 0 ? ref : "-"
    q0 = ref > 0 ? sprintf("%.2f", a0 / ref) : "-"
    q1 = (ref > 0 && a1 != "-") ? sprintf("%.2f", a1 / ref) : "-"
    printf("%-22s %10s %10d %7s %7s %10d %10s %8s %7s %8s\n", m, r0, a0, q0, s0, b, a1, q1, s1, ex) }'
done
