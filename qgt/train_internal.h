/* train_internal.h: what the trainer's files share: the plan (one exec
 * record per node with its forward and backward), the thread pool, and
 * the per-op kernels in grad_*.c. */
#ifndef QGTC_QGT_TRAIN_INTERNAL_H
#define QGTC_QGT_TRAIN_INTERNAL_H

#include "train.h"

/* ---------------------------------------------------------- threads */

typedef struct qgt_pool qgt_pool;
/* Runs on thread `tid` over [lo, hi). */
typedef void (*qgt_task_fn)(void *ctx, int tid, int64_t lo, int64_t hi);
qgt_pool *qgt_pool_create(int nthreads);
void qgt_pool_destroy(qgt_pool *p);
int qgt_pool_size(const qgt_pool *p);
/* Split [0, n) into nthreads contiguous chunks (fixed, so results are
 * deterministic), run them in parallel, return when all are done. */
void qgt_pool_run(qgt_pool *p, int64_t n, qgt_task_fn fn, void *ctx);

/* ------------------------------------------------------------- plan */

typedef struct qgt_exec qgt_exec;
typedef int (*qgt_exec_fn)(qgt_trainer *t, qgt_exec *e);

struct qgt_exec {
	ir_node *n;
	qgt_exec_fn fwd;         /* NULL: ir_eval_node */
	qgt_exec_fn bwd;         /* NULL: no backward (then no input needs one) */
	bool run_bwd;            /* some input needs a gradient */
	void *st;                /* per-op state, allocated at plan time */
	double tf, tb;           /* seconds in forward/backward (QGT_PROFILE) */
};

struct qgt_trainer {
	ir_graph *g;
	qgt_train_config cfg;
	diag_sink *d;
	int nv;
	void **val;              /* per value id: data (consts alias the graph) */
	float **grad;            /* per value id: gradient, or NULL */
	bool *ginit;             /* gradient written this backward */
	int64_t *numel;
	qgt_exec *ex;
	int nex;
	qgt_param *params;
	int nparams;
	ir_value *in;            /* graph input */
	ir_value *logits;        /* value the loss reads */
	int64_t batch, nclass;
	float *probs;            /* softmax of logits [batch, nclass] */
	const int32_t *labels;   /* of the last forward */
	bool train_mode;         /* of the last forward */
	qgt_pool *pool;
	int nthreads;
	float **tbuf;            /* per-thread scratch, tbuf_len floats each */
	size_t tbuf_len;
	int64_t step;
	int epoch;
	int64_t total_steps;      /* for schedules; 0: unknown */
	int64_t steps_per_epoch;
	float lr;                 /* of the last step */
	bool profile;             /* QGT_PROFILE set */
};

/* Gradient of value v for writing: sets *acc when someone already wrote
 * it this pass (then add, else overwrite) and marks it written.  NULL
 * when v needs no gradient. */
float *qgt_grad_out(qgt_trainer *t, const ir_value *v, bool *acc);
/* Gradient of v for reading (an op's output); NULL if nobody wrote it. */
const float *qgt_grad_in(const qgt_trainer *t, const ir_value *v);
static inline float *qgt_f(const qgt_trainer *t, const ir_value *v)
{
	return (float *)t->val[v->id];
}

/* Per-op planning: set e->fwd/bwd/st for node e->n (fwd NULL means the
 * interpreter's kernel).  Returns 0, 1 when the op has no backward, -1 on
 * error (reported).  `tbuf` raises the per-thread scratch need. */
int qgt_plan_conv(qgt_trainer *t, qgt_exec *e, size_t *tbuf);
int qgt_plan_gemm(qgt_trainer *t, qgt_exec *e, size_t *tbuf);
int qgt_plan_matmul(qgt_trainer *t, qgt_exec *e, size_t *tbuf);
int qgt_plan_batchnorm(qgt_trainer *t, qgt_exec *e, size_t *tbuf);
int qgt_plan_elem(qgt_trainer *t, qgt_exec *e, size_t *tbuf);

/* The Relu that a training-mode BatchNorm `bn` may fuse with: the only
 * consumer of bn's output, which is no graph output.  NULL otherwise.
 * Fused, the batchnorm writes the Relu's output in its forward pass and
 * reads the Relu's output gradient (masked) in its backward; the Relu's
 * own forward and backward do nothing. */
ir_node *qgt_bn_relu_partner(const qgt_trainer *t, const ir_node *bn);

/* Arena for plan-time state (freed with the trainer). */
void *qgt_plan_alloc(qgt_trainer *t, size_t n);

#endif
