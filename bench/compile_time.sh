#!/bin/bash
# compile_time.sh: how long qgtc takes to compile, as a Makefile would run
# it (issue 12's target: MobileNetV2-0.35 -> armv7em within 1 s at the
# default -O).  For each model and flag set, the median over 3 runs of the
# CPU seconds (user + system, /usr/bin/time) of
#   qgtc MODEL --target armv7em FLAGS -o x.o
# and the object's .text.  CPU time, not wall time: it does not depend on
# what else the machine runs (wall time is printed beside it).
#
# Models: torchvision's MobileNetV2 at width 0.35, 96x96, 10 classes
# (seeded, exported here with opset 13), and the MLPerf-Tiny-shaped ones
# of latency.sh (shared with it through LATENCY_DIR).
#
# usage: bench/compile_time.sh [QGTC]
# env:   LATENCY_DIR (default build-bench), COMPILE_FLAGS (extra flag sets,
#        ';'-separated, each run as another row; default "" and "-a 8")
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
qgtc=${1:-$root/build/tools/qgtc}
[ -x "$qgtc" ] || { echo "compile_time.sh: no qgtc binary at $qgtc (pass its path)" >&2; exit 2; }
work=${LATENCY_DIR:-$root/build-bench}
py=/usr/bin/python3
mkdir -p "$work/compile"
mb=$work/compile/mobilenet_v2_035
if [ ! -f "$mb/model.onnx" ]; then
	mkdir -p "$mb"
	"$py" - "$mb" <<'PY'
import sys, warnings
warnings.filterwarnings("ignore")
import numpy as np, torch, torchvision
torch.manual_seed(35)
m = torchvision.models.mobilenet_v2(width_mult=0.35, num_classes=10).eval()
x = torch.randn(1, 3, 96, 96)
torch.onnx.export(m, x, sys.argv[1] + "/model.onnx", opset_version=13,
                  input_names=["input"], output_names=["logits"])
PY
fi
models=("$mb")
for m in mobilenet_v1_025_vww resnet8_cifar dscnn_kws; do
	d=$work/models/$m
	[ -f "$d/model.onnx" ] || "$py" "$here/latency_torch.py" --export "$work/models" "$m"
	models+=("$d")
done
IFS=';' read -r -a sets <<< "${COMPILE_FLAGS:-;-a 8}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%-22s %-8s %10s %10s %10s\n' model flags "CPU s" "wall s" ".text KB"
for d in "${models[@]}"; do
	m=$(basename "$d")
	for fl in "${sets[@]}"; do
		read -r -a flags <<< "$fl"
		if [[ " $fl " == *" -a "* ]]; then
			# 16 seeded normal inputs: the scales, not the time, depend on them
			[ -f "$d/calib16.npy" ] || "$py" - "$d/model.onnx" "$d/calib16.npy" <<'PY'
import sys, numpy as np, onnx
g = onnx.load(sys.argv[1]).graph
init = {t.name for t in g.initializer}
x = [i for i in g.input if i.name not in init][0]
shape = [d.dim_value or 1 for d in x.type.tensor_type.shape.dim]
np.save(sys.argv[2], np.random.default_rng(0).standard_normal([16] + shape[1:]).astype(np.float32))
PY
			flags+=(--calib-data "$d/calib16.npy")
		fi
		runs=()
		for i in 1 2 3; do
			/usr/bin/time -f "%U %S %e" -o "$tmp/t" "$qgtc" "$d/model.onnx" --target armv7em \
				"${flags[@]}" -o "$tmp/x.o" >/dev/null
			runs+=("$(awk '{printf "%.2f %.2f\n", $1 + $2, $3}' "$tmp/t")")
		done
		med=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p)
		text=$(llvm-size-19 -A "$tmp/x.o" | awk '$1 == ".text" {printf "%.1f", $2 / 1024}')
		printf '%-22s %-8s %10s %10s %10s\n' "$m" "${fl:--}" ${med} "$text"
	done
done
