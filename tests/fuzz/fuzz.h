/* fuzz.h: what the libFuzzer harnesses share.  Each harness defines
 * LLVMFuzzerTestOneInput; built with -DQGTC_FUZZ=ON it links against
 * libFuzzer, otherwise against replay.c, which runs it once on every file
 * it is given (the corpus as a regression test in any build). */
#ifndef QGTC_FUZZ_H
#define QGTC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FNV-1a of the input: picks a variant (target, pipeline) per input, so
 * one input always takes the same path and a crasher reproduces. */
static inline uint32_t fuzz_hash(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* End of one input: with QGTC_FUZZ_DEBUG set, show what was reported
 * (to see how far an input gets); then free the sink. */
static inline void fuzz_done(diag_sink *d, const char *stage)
{
	if (getenv("QGTC_FUZZ_DEBUG"))
		fprintf(stderr, "--- reached: %s\n%s", stage, d->buf ? d->buf : "");
	diag_sink_fini(d);
}

#endif
