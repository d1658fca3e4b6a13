/* latency_harness.c: batch-1 latency of one qgtc-compiled model.  Built by
 * bench/latency.sh with -DMODEL_HEADER='"model.h"' -DMODEL_RUN=model_run
 * -DMODEL_PREFIX=MODEL next to the object qgtc wrote.  Fills the inputs
 * deterministically, warms up, then times many single calls with
 * clock_gettime(CLOCK_MONOTONIC) and prints
 *     qgtc: median_us min_us iterations checksum
 * Not a test: the numbers depend on the machine and on its load.
 *
 * usage: harness [MIN_SECONDS] [MAX_ITERS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include MODEL_HEADER

#include "bench_input.h"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define ARENA_SIZE CAT(MODEL_PREFIX, _ARENA_SIZE)
#define IN_SIZE CAT(MODEL_PREFIX, _INPUT_0_SIZE)
#define OUT_SIZE CAT(MODEL_PREFIX, _OUTPUT_0_SIZE)

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	double min_s = argc > 1 ? atof(argv[1]) : 1.0;
	long max_it = argc > 2 ? atol(argv[2]) : 20000;
	static float in[IN_SIZE], out[OUT_SIZE];
	void *arena = aligned_alloc(64, ((size_t)ARENA_SIZE + 63) / 64 * 64);
	double *t = malloc(sizeof *t * (size_t)max_it);
	if (!arena || !t)
		return 1;
	bench_fill_input(in, IN_SIZE);
	const float *const ins[1] = {in};
	float *const outs[1] = {out};
	/* Warm-up: caches, page faults, branch predictors, frequency. */
	double w0 = now_us();
	int warm = 0;
	while (warm < 10 || (now_us() - w0 < 0.2e6 && warm < 1000)) {
		MODEL_RUN(ins, outs, arena);
		warm++;
	}
	long n = 0;
	double t0 = now_us();
	while (n < max_it && (n < 20 || now_us() - t0 < min_s * 1e6)) {
		double a = now_us();
		MODEL_RUN(ins, outs, arena);
		t[n++] = now_us() - a;
	}
	double sum = 0;
	for (long i = 0; i < OUT_SIZE; i++)
		sum += out[i];
	qsort(t, (size_t)n, sizeof *t, cmp_double);
	printf("qgtc: %.3f %.3f %ld %.6g\n", t[n / 2], t[0], n, sum);
	free(t);
	free(arena);
	return 0;
}
