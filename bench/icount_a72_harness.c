/* icount_a72_harness.c: runs one qgtc-compiled model ROUNDS times (argv[1])
 * on seeded inputs, for bench/icount_a72.sh, which counts the executed
 * instructions under qemu-aarch64 with tools/qemu_icount.c.  The count of
 * one inference is the difference between two rounds counts divided by
 * the difference in rounds, so start-up and exit cancel.  Built with
 * -DMODEL_HEADER='"model.h"' -DMODEL_RUN=model_run -DMODEL_PREFIX=MODEL. */
#include <stdio.h>
#include <stdlib.h>

#include MODEL_HEADER

#include "bench_input.h"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define ARENA_SIZE CAT(MODEL_PREFIX, _ARENA_SIZE)
#define IN_SIZE CAT(MODEL_PREFIX, _INPUT_0_SIZE)
#define OUT_SIZE CAT(MODEL_PREFIX, _OUTPUT_0_SIZE)

static float in[IN_SIZE], out[OUT_SIZE];
static _Alignas(64) unsigned char arena[ARENA_SIZE > 0 ? ARENA_SIZE : 1];

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 1;
	bench_fill_input(in, IN_SIZE);
	const float *const ins[1] = {in};
	float *const outs[1] = {out};
	for (long r = 0; r < rounds; r++)
		MODEL_RUN(ins, outs, arena);
	/* printed the same way for every round count, so it costs the same */
	printf("%08x\n", (unsigned)(out[0] * 1e6f));
	return 0;
}
