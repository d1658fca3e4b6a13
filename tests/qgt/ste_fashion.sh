#!/bin/bash
# ste_fashion.sh: the STE-QAT baseline inside qgtc (--method ste: the
# forward on fake-quantized kernels, the gradient straight through to the
# float ones, batchnorm live), on the same trainer, data, step budget and
# grid as `--qgt`: a short fine-tune of the bundled Fashion-MNIST CNN at 2
# bits (250 steps, native engine, 2000 test images).  Checks that it
# trains and beats 2-bit PTQ by at least 20 pt (PTQ collapses at 2 bits;
# STE lands within a few points of FP32 on this budget), that the clipped
# variant trains too, and that compile takes --method ste.  The QGT
# figure is printed beside them for comparison, not checked.
# usage: ste_fashion.sh QGTC [SOURCE_DIR] [DATA_DIR]
set -u
. "$(dirname "$0")/fashion_lib.sh" ste_fashion "$@"
STEPS=250
acc fp32 -q
acc ptq2 -b 2 -q
acc ste2 -b 2 --qgt --method ste --max-steps $STEPS
acc steclip2 -b 2 --qgt --method ste-clip --max-steps $STEPS
acc qgt2 -b 2 --qgt --max-steps $STEPS

table "Fashion-MNIST (n=$LIMIT, $STEPS steps)" fp32 ptq2 ste2 steclip2 qgt2
fail=0
grep -q "^qgt: fine-tuning .* (ste: the forward on fake-quantized kernels, straight-through gradients)" "$tmp/ste2.log" ||
	{ echo "FAIL: --method ste does not say it runs STE"; fail=1; }
grep -q "straight-through gradients stopped at the clip" "$tmp/steclip2.log" ||
	{ echo "FAIL: --method ste-clip does not say the gradient stops at the clip"; fail=1; }
grep -q "kernels on their grids" "$tmp/ste2.log" || { echo "FAIL: no report after STE"; fail=1; }
for k in ste2 steclip2; do
	awk -v s="${A[$k]}" -v p="${A[ptq2]}" 'BEGIN { exit !(s - p >= 20) }' ||
		{ echo "FAIL: 2-bit $k ${A[$k]}% is not 20 pt above 2-bit PTQ ${A[ptq2]}%"; fail=1; }
done

# compile takes it too: the kernels leave on the 2-bit grid
"$QGTC" "$MODEL" --data "$DATA" -b 2 --qgt --method ste --max-steps 20 -q --emit ir -o "$tmp/ste.qir" ||
	{ echo "FAIL: compile --qgt --method ste"; fail=1; }
[ "$(grep -c '!quant{scheme="affine", bits=2' "$tmp/ste.qir" 2>/dev/null)" = 4 ] ||
	{ echo "FAIL: compile --method ste did not quantize the 4 kernels to 2 bits"; fail=1; }
[ $fail = 0 ] && echo "ste_fashion: ok"
exit $fail
