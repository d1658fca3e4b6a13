#!/bin/bash
# idioms.sh: --qgt on the idioms of Fashion-MNIST models written elsewhere
# (tests/qgt/idioms.py: an MLP on [N, 784], a [N, 28, 28] input unsqueezed
# inside, x.mean((2, 3)) with log_softmax, chunk/cat/pixel_shuffle/F.pad,
# channel gathers, expand and strided slices, a tutorial CNN exported at a
# fixed batch of 1, a decoder's ConvTranspose2d upsampling with GELU, a
# transformer block's LayerNormalization, or its formula at opset 13, a
# CNN's GroupNorm).  Each model is exported untrained; a 200-step 4-bit
# fine-tune must run through every op (the trainer's backward of pad,
# slice, gather, expand, tile, depth_to_space, reduce_mean,
# conv_transpose, gelu, layer_norm, instance_norm, ...) and learn: top-1
# on 500 test images above 30% (chance is 10%; 60% for the transformer
# block, 74% for the GroupNorm CNN, see below).  The backward itself is
# checked by finite differences in unit/test_train.
# usage: idioms.sh QGTC [SOURCE_DIR] [DATA_DIR]
set -u
QGTC=${1:?usage: idioms.sh QGTC [SOURCE_DIR] [DATA_DIR]}
SRC=${2:-$(cd "$(dirname "$0")/../.." && pwd)}
DATA=${3:-/usr/share/datasets/fashion-mnist}
. "$(dirname "$0")/../skip.sh"
[ -r "$DATA/train-images-idx3-ubyte.gz" ] || [ -r "$DATA/train-images-idx3-ubyte" ] ||
	skip_test "idioms: $DATA not found"
/usr/bin/python3 -c "import torch, onnx" 2>/dev/null || skip_test "idioms: python3-torch or python3-onnx missing"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$SRC/tests/qgt/idioms.py" "$tmp" >"$tmp/export.log" 2>&1 || { cat "$tmp/export.log"; echo "FAIL: export"; exit 1; }
fail=0
# check NAME BAR [FLAGS...]: 200 steps of 4-bit QGT, then top-1 above BAR%.
check() {
	local m=$1 bar=$2
	shift 2
	"$QGTC" eval "$tmp/$m.onnx" --data "$DATA" --limit 500 --engine native -b 4 --qgt --max-steps 200 \
		-q "$@" >"$tmp/$m.log" 2>&1
	local rc=$?
	local acc=$(sed -n 's/^top-1: \([0-9.]*\)%.*/\1/p' "$tmp/$m.log" | tail -1)
	if [ $rc -ne 0 ] || [ -z "$acc" ]; then
		tail -3 "$tmp/$m.log"
		echo "FAIL: $m: qgtc eval --qgt exited $rc"
		fail=1
	elif awk -v a="$acc" -v b="$bar" 'BEGIN { exit !(a > b) }'; then
		echo "$m: $acc% after 200 steps of 4-bit QGT"
	else
		echo "FAIL: $m: $acc% after 200 steps (needs > $bar%; chance is 10%)"
		fail=1
	fi
}
for m in mlp784 nochan meanhead chunky gathered tutorial upsample; do
	check $m 30
done
# The LayerNorm transformer block at lr 0.05 reaches 64% (65-67% from
# other initial seeds; 50% at the default lr 0.01); with layer_norm's dx
# zeroed it still reaches 52% (the head and the norms' own Scale and B
# learn around it), and so the bar is 60.  Exported at opset 13 it is
# LayerNorm's formula, which the trainer cannot run (pow has no
# backward) until fold-constants fuses it back into layer_norm.
check layernorm 60 --lr 0.05
check layernorm13 60 --lr 0.05
# The GroupNorm CNN (instance_norm between reshapes) at lr 0.05 reaches
# 80% (81-82% from other initial seeds; 73% at lr 0.01); with
# instance_norm's dx zeroed it still reaches 67% (the convs after the
# norms and the per-channel Mul/Add learn around it), and so the bar is 74.
check groupnorm 74 --lr 0.05
# A model exported at a fixed batch of 1 trains at the training batch when
# nothing in it depends on the batch (above, tutorial: its eval and
# training run batched), and says which it does.
"$QGTC" "$tmp/tutorial.onnx" --data "$DATA" -b 4 --qgt --max-steps 2 -o "$tmp/t.o" >"$tmp/t.log" 2>&1 ||
	{ cat "$tmp/t.log"; echo "FAIL: compile tutorial --qgt"; fail=1; }
grep -q "batch is fixed at 1, and nothing in it depends on that: it trains at batch 128" "$tmp/t.log" ||
	{ cat "$tmp/t.log"; echo "FAIL: tutorial: no word of training at batch 128"; fail=1; }
grep -q "INPUT_0_SIZE 784 .*f32\[1,1,28,28\]" "$tmp/t.h" ||
	{ cat "$tmp/t.h"; echo "FAIL: tutorial: the object no longer takes the model's batch of 1"; fail=1; }
"$QGTC" "$tmp/pinned.onnx" --data "$DATA" -b 4 --qgt --max-steps 2 -o "$tmp/p.o" >"$tmp/p.log" 2>&1 ||
	{ cat "$tmp/p.log"; echo "FAIL: compile pinned --qgt"; fail=1; }
grep -q "batch is fixed at 1, and the model depends on it: it trains at batch 1" "$tmp/p.log" ||
	{ cat "$tmp/p.log"; echo "FAIL: pinned: no word of its fixed batch"; fail=1; }
[ $fail -eq 0 ] && echo "idioms: all checks passed"
exit $fail
