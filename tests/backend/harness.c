/* harness.c: runs a compiled network (prefix `net`, header net.h) once on
 * the input embedded at build time (input_data.h, from cross_check.sh) and
 * prints every element of its one to four outputs, one per line, output 0
 * first.  The same file runs on the host, under qemu-aarch64 and on
 * mps2-an386 through semihosting. */
#include <stdio.h>

#include "input_data.h"
#include "net.h"

#if NET_NUM_OUTPUTS > 4
#error "harness.c prints at most four outputs"
#endif

static float out0[NET_OUTPUT_0_SIZE];
#if NET_NUM_OUTPUTS > 1
static float out1[NET_OUTPUT_1_SIZE];
#endif
#if NET_NUM_OUTPUTS > 2
static float out2[NET_OUTPUT_2_SIZE];
#endif
#if NET_NUM_OUTPUTS > 3
static float out3[NET_OUTPUT_3_SIZE];
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
	float *const out[NET_NUM_OUTPUTS] = {
		out0,
#if NET_NUM_OUTPUTS > 1
		out1,
#endif
#if NET_NUM_OUTPUTS > 2
		out2,
#endif
#if NET_NUM_OUTPUTS > 3
		out3,
#endif
	};
	int rc = net_run(in, out, arena);
	if (rc != 0) {
		printf("net_run failed: %d\n", rc);
		return 1;
	}
	print(out0, NET_OUTPUT_0_SIZE);
#if NET_NUM_OUTPUTS > 1
	print(out1, NET_OUTPUT_1_SIZE);
#endif
#if NET_NUM_OUTPUTS > 2
	print(out2, NET_OUTPUT_2_SIZE);
#endif
#if NET_NUM_OUTPUTS > 3
	print(out3, NET_OUTPUT_3_SIZE);
#endif
	return 0;
}
