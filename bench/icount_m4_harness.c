/* icount_m4_harness.c: instructions per inference of one qgtc-compiled
 * model on Cortex-M4 under QEMU (mps2-an386, -icount shift=0).  With
 * -icount shift=0 QEMU's virtual clock advances 1 ns per instruction and
 * SysTick, clocked from the 25 MHz system clock (CSR=5), ticks once per
 * 40 instructions; the 24-bit counter wraps after 2^24 ticks (~671 M
 * instructions): one wrap is detected with COUNTFLAG and added back, two
 * cannot be told from one and are reported.  Built by bench/icount_m4.sh
 * with -DMODEL_HEADER='"model.h"' -DMODEL_RUN=model_run -DMODEL_PREFIX=MODEL.
 * Prints "icount: INSTRUCTIONS" (a multiple of 40, +-40). */
#include <stdint.h>
#include <stdio.h>

#include MODEL_HEADER

#include "bench_input.h"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define ARENA_SIZE CAT(MODEL_PREFIX, _ARENA_SIZE)
#define IN_SIZE CAT(MODEL_PREFIX, _INPUT_0_SIZE)
#define OUT_SIZE CAT(MODEL_PREFIX, _OUTPUT_0_SIZE)

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

static float in[IN_SIZE], out[OUT_SIZE];
static uint64_t arena[(ARENA_SIZE + 7) / 8];

static uint64_t measure(void)
{
	const float *const ins[1] = {in};
	float *const outs[1] = {out};
	SYST_CSR = 0;
	SYST_RVR = 0xFFFFFFu;
	SYST_CVR = 0;          /* any write clears the counter and COUNTFLAG */
	SYST_CSR = 5;          /* processor clock, enabled, no interrupt */
	while (SYST_CVR == 0)  /* the first tick loads RVR */
		;
	uint32_t a = SYST_CVR;
	(void)SYST_CSR;        /* clear COUNTFLAG */
	/* through void *: the header's ABI is float (--io float) or void
	 * (--io int) pointers; the counts do not depend on the bytes */
	MODEL_RUN((void *)ins, (void *)outs, arena);
	uint32_t b = SYST_CVR;
	uint32_t wrapped = (SYST_CSR >> 16) & 1u;
	uint64_t ticks = wrapped ? (uint64_t)a + 0x1000000u - b : (uint64_t)(a - b);
	return ticks * 40u;
}

int main(void)
{
	bench_fill_input(in, IN_SIZE);
	uint64_t first = measure(), second = measure();
	printf("icount: %llu%s\n", (unsigned long long)second,
	       second >= 0xFFFFFFull * 40u ? " (counter may have wrapped more than once)" : "");
	if (first != second)
		printf("note: first call %llu\n", (unsigned long long)first);
	return 0;
}
