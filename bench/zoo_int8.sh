#!/bin/bash
# zoo_int8.sh: torchvision models at -a 8 (weights 8-bit), as users export
# them: how many layers run in integers and how many stay in float, and,
# on the Cortex-M4 (QEMU -icount, deterministic), whether the object is
# bit-exact with the interpreter and its instructions per inference at
# the default -O and at -Os.
#
# usage: bench/zoo_int8.sh [QGTC]
# env:   ZOO_DIR (default build-bench/zoo), ZOO_MODELS (comma-separated
#        cases of tests/torch/export_models.py; default the torchvision
#        ones small enough for the QEMU board's 4 MB at 8 bits).
#
# Weights are random (weights=None, seeded), so the figures are about the
# compiler, not accuracy; calibration is bench/calib_npy.py's 16 seeded
# normal inputs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
. "$here/find_qgtc.sh"
find_qgtc zoo_int8.sh "${1:-}"
work=${ZOO_DIR:-$root/build-bench/zoo}
models=${ZOO_MODELS:-mobilenet_v3_small,squeezenet1_1,shufflenet_v2_x0_5,mnasnet0_5,mobilenet_v2}
py=/usr/bin/python3
IFS=, read -r -a names <<< "$models"
mkdir -p "$work"
printf '%-20s %9s %7s %10s %14s %14s\n' model integer float validate "M4 -O (instr)" "M4 -Os (instr)"
for m in "${names[@]}"; do
  d=$work/$m
  [ -f "$d/model.onnx" ] || "$py" "$root/tests/torch/export_models.py" "$work" --only "$m" >/dev/null
  [ -f "$d/calib.npy" ] || "$py" "$here/calib_npy.py" "$d/model.onnx" "$d/calib.npy"
  flags=(-a 8 --calib-data "$d/calib.npy")
  rep=$("$qgtc" "$d/model.onnx" "${flags[@]}" --report layers -o "$d/m.o" 2>&1 | grep '^layers:' || true)
  ni=$(sed -n 's/^layers: \([0-9]*\) integer.*/\1/p' <<< "$rep")
  nf=$(sed -n 's/.* \([0-9]*\) float.*/\1/p' <<< "$rep")
  ok=bit-exact
  counts=()
  for o in "" -Os; do
    out=$("$qgtc" validate "$d/model.onnx" "$d/input_0.npy" "${flags[@]}" $o --target armv7em 2>&1 || true)
    grep -q 'validate: ok (integer code, bit-exact)' <<< "$out" || ok=FAILED
    counts+=("$(sed -n 's/.*instructions\/inference: \([0-9,]*\).*/\1/p' <<< "$out")")
  done
  printf '%-20s %9s %7s %10s %14s %14s\n' "$m" "${ni:-?}" "${nf:-?}" "$ok" "${counts[0]:--}" "${counts[1]:--}"
done
