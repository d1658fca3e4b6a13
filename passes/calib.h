/* calib.h: calibration runs (calib.c). */
#ifndef QGTC_PASS_CALIB_H
#define QGTC_PASS_CALIB_H

#include "quant.h"

/* Called for value k of the observed list with its tensor for one batch of
 * B samples, of which the first `valid` are real (the rest is zero
 * padding): the first valid * numel / B elements belong to real samples.
 * Nonzero stops the run (the callback has reported). */
typedef int (*pass_calib_fn)(void *ctx, int k, const ir_tensor *t, int64_t valid, int64_t B);

/* Do qo's samples hold as many elements as g's one input takes per
 * sample?  0, or -1 after an error naming the samples' file. */
int pass_calib_fits(const ir_graph *g, const pass_quant_options *qo, diag_sink *d);

/* Run g (one f32 input; a symbolic batch is bound to at most 64 for the
 * run and restored after) over the calibration samples of qo (at most
 * calib_max, default 256), observing vals[0..nv) (graph outputs are
 * swapped for them meanwhile).  0, or -1 after reporting. */
int pass_calib_run(ir_graph *g, const pass_quant_options *qo, ir_value **vals, int nv,
                   pass_calib_fn cb, void *ctx, diag_sink *d);

/* Called after node k of a walk was seen on every batch; it may change
 * the node's constants (in place).  Nonzero stops the walk (reported). */
typedef int (*pass_calib_done_fn)(void *ctx, int k);

/* Sequential calibration: the same samples and batches as
 * pass_calib_run, run a node at a time with every batch side by side.
 * At each node at[k] (with an output 0; visited in the graph's order),
 * cb sees its output for each batch, then done(ctx, k) runs, then the
 * node runs again, so the nodes after it see what done made of it.  The
 * walk ends at the last of them.  0, or -1 after reporting. */
int pass_calib_walk(ir_graph *g, const pass_quant_options *qo, ir_node **at, int nat,
                    pass_calib_fn cb, pass_calib_done_fn done, void *ctx, diag_sink *d);

#endif
