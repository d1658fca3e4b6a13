/* harness.c: runs a compiled network (prefix `net`, header net.h) once on
 * the input embedded at build time (input_data.h, from cross_check.sh) and
 * prints every output element, one per line.  The same file runs on the
 * host, under qemu-aarch64 and on mps2-an386 through semihosting. */
#include <stdio.h>

#include "input_data.h"
#include "net.h"

static float out0[NET_OUTPUT_0_SIZE];
static unsigned char arena[NET_ARENA_SIZE] __attribute__((aligned(16)));

int main(void)
{
	const float *const in[1] = {input_data};
	float *const out[1] = {out0};
	int rc = net_run(in, out, arena);
	if (rc != 0) {
		printf("net_run failed: %d\n", rc);
		return 1;
	}
	for (int i = 0; i < NET_OUTPUT_0_SIZE; i++)
		printf("%.9g\n", (double)out0[i]);
	return 0;
}
