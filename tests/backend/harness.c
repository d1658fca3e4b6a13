/* harness.c: runs a compiled network (prefix `net`, header net.h) once on
 * the input embedded at build time (input_data.h, from cross_check.sh) and
 * prints every element of its one or two outputs, one per line, output 0
 * first.  The same file runs on the host, under qemu-aarch64 and on
 * mps2-an386 through semihosting. */
#include <stdio.h>

#include "input_data.h"
#include "net.h"

#if NET_NUM_OUTPUTS > 2
#error "harness.c prints at most two outputs"
#endif

static float out0[NET_OUTPUT_0_SIZE];
#if NET_NUM_OUTPUTS > 1
static float out1[NET_OUTPUT_1_SIZE];
#endif
static unsigned char arena[NET_ARENA_SIZE] __attribute__((aligned(16)));

static void print(const float *v, int n)
{
	for (int i = 0; i < n; i++)
		printf("%.9g\n", (double)v[i]);
}

int main(void)
{
	const float *const in[1] = {input_data};
#if NET_NUM_OUTPUTS > 1
	float *const out[2] = {out0, out1};
#else
	float *const out[1] = {out0};
#endif
	int rc = net_run(in, out, arena);
	if (rc != 0) {
		printf("net_run failed: %d\n", rc);
		return 1;
	}
	print(out0, NET_OUTPUT_0_SIZE);
#if NET_NUM_OUTPUTS > 1
	print(out1, NET_OUTPUT_1_SIZE);
#endif
	return 0;
}
