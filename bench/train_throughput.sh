#!/bin/bash
# train_throughput.sh: FP32 training throughput of qgtc vs PyTorch on the
# Fashion CNN (examples/fashion_cnn), batch 128, 2 threads, measured side
# by side (alternating runs, best of each), and the ratio.  Not a test:
# the numbers depend on the machine and on what else runs on it.
#
# usage: bench/train_throughput.sh [QGTC] [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
qgtc=${1:-$root/build/tools/qgtc}
rounds=${2:-3}
data=/usr/share/datasets/fashion-mnist
model=$root/examples/fashion_cnn/fashion_cnn.onnx
steps=60
best_q=0
best_t=0
for r in $(seq "$rounds"); do
  q=$("$qgtc" train "$model" --data "$data" --batch-size 128 --threads 2 --max-steps $steps \
      --limit $((128 * steps)) | sed -n 's/.*, \([0-9]*\) img\/s after warm-up.*/\1/p')
  t=$(OMP_NUM_THREADS=2 /usr/bin/python3 "$here/train_peer.py" --batch 128 --threads 2 --steps $steps |
      sed -n 's/torch: \([0-9]*\) img\/s/\1/p')
  echo "round $r: qgtc $q img/s, torch $t img/s"
  [ "${q:-0}" -gt "$best_q" ] && best_q=$q
  [ "${t:-0}" -gt "$best_t" ] && best_t=$t
done
echo "best: qgtc $best_q img/s, torch $best_t img/s"
awk -v q="$best_q" -v t="$best_t" 'BEGIN { if (t > 0) printf "ratio qgtc/torch: %.2fx (target 1.5x)\n", q / t }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
