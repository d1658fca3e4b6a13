/* train_internal.h: what the trainer's files share: the plan (one exec
 * record per node with its forward and backward), the thread pool, and
 * the per-op kernels in grad_*.c. */
#ifndef QGTC_QGT_TRAIN_INTERNAL_H
#define QGTC_QGT_TRAIN_INTERNAL_H

#include <string.h>

#include "train.h"

/* ------------------------------------------------------------ vectors */

/* Four floats at a time, in GCC's and Clang's vector extensions: plain
 * C where the vectoriser gives up (selects, masks, even/odd splits). */
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
#if defined(__clang__)
#define V4_EVENS(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6)
#define V4_ODDS(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7)
#else
#define V4_EVENS(a, b) __builtin_shuffle(a, b, (v4i){0, 2, 4, 6})
#define V4_ODDS(a, b) __builtin_shuffle(a, b, (v4i){1, 3, 5, 7})
#endif

static inline v4f v4f_load(const float *p)
{
	v4f v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline v4i v4i_load(const int32_t *p)
{
	v4i v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* (a + b + c + d) lane by lane, then across, then + tail: a fixed order. */
static inline double v4f_total(v4f a, v4f b, v4f c, v4f d, float tail)
{
	v4f v = (a + b) + (c + d);
	return (double)(((v[0] + v[1]) + (v[2] + v[3])) + tail);
}

/* a where m is all ones, else b. */
static inline v4f v4f_sel(v4i m, v4f a, v4f b)
{
	return (v4f)((m & (v4i)a) | (~m & (v4i)b));
}

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
	double tf_min, tb_min;   /* fastest single forward/backward: steady on a busy machine */
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
	qgt_trainer *teacher;    /* cfg.teacher's forward-only trainer, or NULL */
	const float *soft;       /* the teacher's softmax for this step's batch
	                          * (set by qgt_trainer_step), or NULL */
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
int qgt_plan_convt(qgt_trainer *t, qgt_exec *e, size_t *tbuf);
int qgt_plan_gemm(qgt_trainer *t, qgt_exec *e, size_t *tbuf);
int qgt_plan_matmul(qgt_trainer *t, qgt_exec *e, size_t *tbuf);
int qgt_plan_batchnorm(qgt_trainer *t, qgt_exec *e, size_t *tbuf);
int qgt_plan_layer_norm(qgt_trainer *t, qgt_exec *e, size_t *tbuf);
int qgt_plan_instance_norm(qgt_trainer *t, qgt_exec *e, size_t *tbuf);
int qgt_plan_elem(qgt_trainer *t, qgt_exec *e, size_t *tbuf);
int qgt_plan_fake_quant(qgt_trainer *t, qgt_exec *e, size_t *tbuf);

/* The Relu that a training-mode BatchNorm `bn` may fuse with: the only
 * consumer of bn's output, which is no graph output.  NULL otherwise.
 * Fused, the batchnorm writes the Relu's output (and not its own, which
 * stays zero) in its forward pass and reads the Relu's output gradient
 * (masked) in its backward; the Relu's own forward and backward do
 * nothing. */
ir_node *qgt_bn_relu_partner(const qgt_trainer *t, const ir_node *bn);
/* The 2x2, stride-2 MaxPool (no padding, no indices) that reads the
 * output of bn's Relu partner, as its only consumer.  NULL otherwise.
 * Fused, the batchnorm also writes the MaxPool's output (and not the
 * Relu's, which stays zero) and reads the MaxPool's output gradient; the
 * MaxPool's own forward and backward do nothing. */
ir_node *qgt_bn_pool_partner(const qgt_trainer *t, const ir_node *bn);

/* Asks the conv `conv` (planned already) to sum its output per channel
 * in its forward, as the batchnorm reading that output would: returns
 * the partial sums, [thread][2][channels] (sums, then sums of squares;
 * threads that got no samples give zeros), and their thread count in
 * *nthreads.  NULL when the conv runs some other way. */
const double *qgt_conv_moments(qgt_trainer *t, const ir_node *conv, int *nthreads);

/* Where a conv's backward gets its output gradient when the op reading
 * that output (its only reader) does not write it but computes it on
 * demand: `deferred` says whether it did so in this backward; `plane`
 * writes the gradient of sample b, channel c (the output's h*w values)
 * to out. */
typedef struct qgt_dy_src {
	bool (*deferred)(const void *ctx);
	void (*plane)(const void *ctx, int64_t b, int64_t c, float *out);
	const void *ctx;
} qgt_dy_src;
/* Hands src to the conv `conv` (planned already); false when that conv
 * runs some other way (then the gradient must be written as usual). */
bool qgt_conv_take_dy(qgt_trainer *t, const ir_node *conv, const qgt_dy_src *src);

/* Arena for plan-time state (freed with the trainer). */
void *qgt_plan_alloc(qgt_trainer *t, size_t n);
/* The first nsp entries of n's integer-list attribute `name` (kernel,
 * strides, dilations) into v, 1 where it is absent or shorter. */
void qgt_attr_ints(const ir_node *n, const char *name, int nsp, int64_t *v);

#endif
