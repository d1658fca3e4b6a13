/* eval.h: top-1 accuracy of a graph on a labelled dataset, through the
 * reference interpreter. */
#ifndef QGTC_QGT_EVAL_H
#define QGTC_QGT_EVAL_H

#include "data.h"

typedef struct qgt_eval_result {
	int64_t correct, total;
} qgt_eval_result;

/* g must have one f32 input of shape [B, sample...] with B concrete and
 * one output [B, K] (or [B, K, 1, 1...]) of scores; samples are fed B at a
 * time, the last batch zero-padded.  `limit` > 0 evaluates only the first
 * `limit` samples.  `progress` (may be NULL) gets a line per 10% on
 * stderr-like streams.  0 or -1 (reported). */
/* How a batch is run: ir_interp_run, or an engine with its signature
 * (the native backend's be_jit_run). */
typedef int (*qgt_run_fn)(ir_graph *g, const ir_tensor *inputs, ir_tensor *outputs, diag_sink *d);

/* `run` NULL means the reference interpreter. */
int qgt_eval_top1(ir_graph *g, const qgt_dataset *ds, int64_t limit, qgt_run_fn run,
                  FILE *progress, qgt_eval_result *res, diag_sink *d);

#endif
