#!/usr/bin/env bash
# The qgtc demo: a model trained elsewhere (PyTorch), loaded from ONNX,
# inspected as IR and evaluated on the real Fashion-MNIST test set.
# usage: examples/demo.sh [PATH_TO_QGTC]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
qgtc=${1:-$here/../build/tools/qgtc}
model=$here/fashion_cnn/fashion_cnn.onnx
data=/usr/share/datasets/fashion-mnist

if [ ! -x "$qgtc" ]; then
	echo "demo: $qgtc not found; build first (see README.md)" >&2
	exit 1
fi

echo "== $model: the graph after qgtc's default pipeline (weights elided)"
"$qgtc" "$model" --emit ir --batch 1
echo
echo "== top-1 accuracy on the 10,000 Fashion-MNIST test images (reference interpreter)"
"$qgtc" eval "$model" --data "$data" -v
