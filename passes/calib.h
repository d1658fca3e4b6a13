/* calib.h: calibration runs (calib.c). */
#ifndef QGTC_PASS_CALIB_H
#define QGTC_PASS_CALIB_H

#include "quant.h"

/* Called for value k of the observed list with its tensor for one batch of
 * B samples, of which the first `valid` are real (the rest is zero
 * padding): the first valid * numel / B elements belong to real samples.
 * Nonzero stops the run (the callback has reported). */
typedef int (*pass_calib_fn)(void *ctx, int k, const ir_tensor *t, int64_t valid, int64_t B);

/* Run g (one f32 input; a symbolic batch is bound to at most 64 for the
 * run and restored after) over the calibration samples of qo (at most
 * calib_max, default 256), observing vals[0..nv) (graph outputs are
 * swapped for them meanwhile).  0, or -1 after reporting. */
int pass_calib_run(ir_graph *g, const pass_quant_options *qo, ir_value **vals, int nv,
                   pass_calib_fn cb, void *ctx, diag_sink *d);

#endif
