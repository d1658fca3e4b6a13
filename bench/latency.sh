#!/bin/bash
# latency.sh: batch-1 inference latency of the MLPerf-Tiny-shaped models
# (VWW MobileNetV1-0.25 96x96, ResNet-8 CIFAR, DS-CNN KWS, dense
# autoencoder) compiled by qgtc for the host, against the same ONNX model
# in ONNX Runtime (onnxruntime-node, CPU provider) and the same
# architecture in PyTorch (Debian python3-torch).  One thread and batch 1
# for all three.  Each round starts a fresh process per engine and model
# (qgtc, ORT and torch interleaved, so load drifts hit all three alike);
# a process reports the median of many calls after a warm-up, and the
# table shows the median over rounds.  Not a test: the numbers depend on
# the machine and on what else runs on it.
#
# Integer columns: qgtc with int8 activations and weights (-a 8,
# calibrated on 16 seeded normal inputs, calib.npy as icount_m4.sh
# writes it), and ONNX Runtime on the QDQ model qgtc itself exports for
# that compile (--save-onnx), so both engines run the same scales; ORT
# fuses the QDQ pairs around conv/matmul into its int8 kernels.  The last
# column is qgtc int8 over the faster of ORT FP32 and ORT int8.
#
# usage: bench/latency.sh [QGTC] [ROUNDS] [SECONDS_PER_PROCESS]
# env:   LATENCY_DIR   work folder (default build-bench/ in the repo)
#        LATENCY_MODELS comma-separated subset of the models
#        QGTC_FLAGS     extra qgtc flags (e.g. -mcpu=x86-64-v3)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
. "$here/find_qgtc.sh"
find_qgtc latency.sh "${1:-}"
rounds=${2:-5}
secs=${3:-0.5}
work=${LATENCY_DIR:-$root/build-bench}
models=${LATENCY_MODELS:-mobilenet_v1_025_vww,resnet8_cifar,dscnn_kws,dense_autoencoder,lenet5,mobilenet_v2_035}
py=/usr/bin/python3
mkdir -p "$work"

# ONNX Runtime for node: tools/setup.sh's (/usr/local/lib/qgtc-node, or
# QGTC_NODE_PREFIX), else installed into the work folder (--ignore-scripts:
# the install script wants to download CUDA add-ons; the CPU library ships
# inside the package).
mods=${QGTC_NODE_PREFIX:-/usr/local/lib/qgtc-node}/node_modules
if [ ! -d "$mods/onnxruntime-node" ]; then
  mods=$work/node_modules
  if [ ! -d "$mods/onnxruntime-node" ]; then
    echo "installing onnxruntime-node into $mods ..." >&2
    (cd "$work" && npm install --ignore-scripts --no-audit --no-fund onnxruntime-node >&2)
  fi
fi
export NODE_PATH=$mods

# Models: exported from tests/torch/export_models.py's architectures at
# batch 1; compiled by qgtc for the host; linked with the C harness.
IFS=, read -r -a names <<< "$models"
for m in "${names[@]}"; do
  d=$work/models/$m
  if [ ! -f "$d/model.onnx" ]; then
    "$py" "$here/latency_torch.py" --export "$work/models" "$m"
  fi
  [ -f "$d/calib.npy" ] || "$py" "$here/calib_npy.py" "$d/model.onnx" "$d/calib.npy"
  mkdir -p "$d/int"
  # shellcheck disable=SC2086
  "$qgtc" "$d/model.onnx" --target host ${QGTC_FLAGS:-} -o "$d/model.o"
  # shellcheck disable=SC2086
  "$qgtc" "$d/model.onnx" --target host -a 8 --calib-data "$d/calib.npy" ${QGTC_FLAGS:-} \
    --save-onnx "$d/int/qdq.onnx" -o "$d/int/model.o"
  for k in "$d" "$d/int"; do
    gcc -O2 -std=c17 -D_POSIX_C_SOURCE=200809L -I"$k" -DMODEL_HEADER='"model.h"' -DMODEL_RUN=model_run \
        -DMODEL_PREFIX=MODEL "$here/latency_harness.c" "$k/model.o" -lm -o "$k/harness"
  done
  [ -f "$d/macs" ] || "$py" "$here/latency_torch.py" --macs "$m" > "$d/macs"
  : > "$d/times"
done

for r in $(seq "$rounds"); do
  for m in "${names[@]}"; do
    d=$work/models/$m
    q=$("$d/harness" "$secs" | awk '/^qgtc:/ { print $2 }')
    o=$(node "$here/latency_ort.js" "$d/model.onnx" "$secs" | awk '/^ort:/ { print $2 }')
    qi=$("$d/int/harness" "$secs" | awk '/^qgtc:/ { print $2 }')
    oi=$(node "$here/latency_ort.js" "$d/int/qdq.onnx" "$secs" | awk '/^ort:/ { print $2 }')
    t=$(OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 "$py" "$here/latency_torch.py" "$m" "$secs" |
        awk '/^torch:/ { print $2 }')
    echo "$q $o $t $qi $oi" >> "$d/times"
    echo "round $r $m: qgtc $q us, ort $o us, torch $t us; int8: qgtc $qi us, ort $oi us" >&2
  done
done

med() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
printf '%-22s %7s %10s %10s %10s %9s %9s %8s %10s %10s %10s\n' model MMACs "qgtc us" "ORT us" "torch us" \
  qgtc/ORT qgtc/torch GMAC/s "qgtc i8 us" "ORT i8 us" "i8/bestORT"
for m in "${names[@]}"; do
  d=$work/models/$m
  q=$(cut -d' ' -f1 "$d/times" | med)
  o=$(cut -d' ' -f2 "$d/times" | med)
  t=$(cut -d' ' -f3 "$d/times" | med)
  qi=$(cut -d' ' -f4 "$d/times" | med)
  oi=$(cut -d' ' -f5 "$d/times" | med)
  awk -v m="$m" -v macs="$(cat "$d/macs")" -v q="$q" -v o="$o" -v t="$t" -v qi="$qi" -v oi="$oi" 'BEGIN {
    printf "%-22s %7.2f %10.1f %10.1f %10.1f %9.2f %9.2f %8.1f %10.1f %10.1f %10.2f\n", m, macs / 1e6, q, o, t,
           q / o, q / t, macs / (q * 1e3), qi, oi, qi / (o < oi ? o : oi) }'
done
echo "(time ratios: below 1.00 means qgtc is faster; medians of $rounds processes each;"
echo " i8/bestORT: qgtc int8 over the faster of ORT FP32 and ORT int8, issue 12's target 0.4)"
echo "qgtc: $("$qgtc" --version 2>/dev/null | head -1) ${QGTC_FLAGS:-(host CPU)}; cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
