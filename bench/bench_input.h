/* bench_input.h: the benchmark harnesses' input, the same in every
 * engine (latency_ort.js and latency_torch.py fill theirs alike): n floats
 * in [-1, 1) from a fixed linear congruential sequence. */
#ifndef QGTC_BENCH_INPUT_H
#define QGTC_BENCH_INPUT_H

static void bench_fill_input(float *in, long n)
{
	unsigned s = 12345;
	for (long i = 0; i < n; i++) {
		s = s * 1103515245u + 12345u;
		in[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
	}
}

#endif
