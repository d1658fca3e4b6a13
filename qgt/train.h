/* train.h: the qgt training engine: forward with saved activations and
 * backward over the IR, softmax cross-entropy on the output logits,
 * optimizers and schedules, a seeded data pipeline, and a pluggable
 * regularizer hook (the QGT/SQ/codebook family plugs in there).
 *
 * The trainer works on a graph as loaded and run through
 * "shapes,fold-constants,dce" with its batch dim bound to the training
 * batch (ir_graph_bind_batch).  Trainable parameters are the f32 constants
 * feeding conv/gemm/matmul weights and biases and batchnorm scale/bias;
 * they are updated in place in the graph's constants (as are batchnorm
 * running statistics), so the interpreter, eval and the exporters see the
 * trained model as soon as a step finishes. */
#ifndef QGTC_QGT_TRAIN_H
#define QGTC_QGT_TRAIN_H

#include "data.h"

typedef enum { QGT_OPT_SGD, QGT_OPT_ADAM, QGT_OPT_ADAMW } qgt_opt_kind;
typedef enum { QGT_SCHED_CONST, QGT_SCHED_COSINE, QGT_SCHED_STEP } qgt_sched_kind;

/* What a parameter is to the layer that reads it. */
typedef enum {
	QGT_ROLE_WEIGHT,     /* conv kernel, gemm/matmul matrix: what quantizers target */
	QGT_ROLE_BIAS,       /* conv/gemm bias */
	QGT_ROLE_BN_SCALE,   /* batchnorm gamma, layer_norm/instance_norm Scale */
	QGT_ROLE_BN_BIAS,    /* batchnorm beta, layer_norm/instance_norm B */
	QGT_ROLE_OTHER,      /* any other f32 constant (only with train_all_consts) */
} qgt_role;

typedef struct qgt_param {
	ir_value *v;         /* the graph constant; w aliases v->data */
	ir_node *node;       /* first node reading it */
	qgt_role role;
	int64_t n;           /* elements */
	float *w;            /* weights (== v->data) */
	float *g;            /* gradient of the total loss, valid after backward */
	float *m1, *m2;      /* optimizer state (momentum / Adam moments) */
} qgt_param;

/* Where training stands, for hooks and schedules. */
typedef struct qgt_progress {
	int64_t step;        /* 0-based optimizer step */
	int64_t total_steps;
	int epoch;           /* 0-based */
	float lr;            /* learning rate of this step */
} qgt_progress;

/* A regularizer: loss += R(w) and grad_w += dR/dw, per parameter, after
 * the backward pass and before the optimizer step.  `apply` returns R(w)
 * for p (0 for parameters it does not touch) and adds dR/dw into p->g.
 * `step_end` (may be NULL) runs after the optimizer update (to refresh a
 * grid, project, ...).  Return NaN to stop training with an error.
 * `step_begin` (may be NULL) runs before the forward pass: a hook that
 * trains a parameter through a transform of it (STE: the forward sees
 * DQ(Q(w))) swaps it in there and back in `apply`; nonzero stops
 * training (reported). */
typedef struct qgt_reg {
	const char *name;
	double (*apply)(void *ctx, qgt_param *p, const qgt_progress *pr);
	void (*step_end)(void *ctx, qgt_param *p, const qgt_progress *pr);
	void *ctx;
	int (*step_begin)(void *ctx, qgt_param *p, const qgt_progress *pr);
} qgt_reg;

typedef struct qgt_train_config {
	int epochs;
	int64_t batch;            /* must equal the graph's bound batch */
	float lr;
	qgt_opt_kind opt;
	float momentum;           /* SGD */
	float beta1, beta2, eps;  /* Adam/AdamW */
	float weight_decay;       /* L2 for SGD/Adam, decoupled for AdamW */
	qgt_sched_kind sched;
	int64_t warmup;           /* linear warm-up steps */
	int step_epochs;          /* step schedule: decay every N epochs (0: epochs/3) */
	float step_gamma;         /* step schedule factor */
	uint64_t seed;
	float val_split;          /* fraction of the training set held out */
	int crop_pad;             /* random crop with this zero padding; 0: off */
	bool flip;                /* random horizontal flip */
	int threads;              /* worker threads (>= 1) */
	float bn_momentum;        /* running-stat update, PyTorch convention (0.1) */
	bool bn_frozen;           /* batchnorm in inference mode while training */
	float act_ema;            /* fake_quant (per-tensor i8/i16) in a training-mode
	                           * forward: move its range toward the batch's min and
	                           * max by this fraction first; 0: the grid stays */
	bool train_all_consts;    /* every f32 constant is a parameter (tests) */
	bool input_grad;          /* also compute d loss / d input (tests) */
	int64_t max_steps;        /* stop after this many steps; 0: no limit */
	int64_t limit;            /* use only the first N training samples; 0: all */
	FILE *log;                /* progress; NULL: quiet */
	bool log_tty;             /* one updating line instead of log lines */
	qgt_reg *regs;            /* regularizers, applied in order */
	int nregs;
	ir_graph *teacher;        /* distillation: a model of the same input and
	                           * classes whose inference-mode predictions on
	                           * each training batch are part of the target;
	                           * NULL: none.  Must outlive the trainer. */
	float distill;            /* the target is (1 - distill) one-hot(label) +
	                           * distill softmax(teacher logits): the loss
	                           * (1 - distill) CE + distill KL(teacher ||
	                           * model), up to a constant */
} qgt_train_config;

/* Defaults: 1 epoch, batch 128, SGD lr 0.01 momentum 0.9, Adam betas
 * (0.9, 0.999) eps 1e-8, no decay, constant schedule, seed 0, 2 threads,
 * bn_momentum 0.1, step_gamma 0.1. */
void qgt_train_config_default(qgt_train_config *c);

typedef struct qgt_trainer qgt_trainer;

/* Plan training of g (see the top of this file).  Reports every node whose
 * op has no backward (when a gradient must flow through it) in one go.
 * Caller owns; the graph must outlive the trainer.  NULL on error. */
qgt_trainer *qgt_trainer_create(ir_graph *g, const qgt_train_config *c, diag_sink *d);
void qgt_trainer_destroy(qgt_trainer *t);
/* A trainer of g for forward passes only, with c's batch, threads and
 * batchnorm settings: no regularizers, teacher, log, input gradient or
 * activation range updates. */
qgt_trainer *qgt_forward_trainer(ir_graph *g, const qgt_train_config *c, diag_sink *d);

/* A model exported with a fixed batch of 1 (torch.onnx.export without
 * dynamic_axes: the common case) trains and evaluates at any batch when
 * nothing in it pins the batch.  Makes g's batch symbolic when, bound to a
 * batch of 2, every output carries that batch; a Reshape whose constant
 * shape starts with the traced batch of 1 (x.view(x.size(0), -1), folded
 * by the exporter) copies dim 0 instead (0, as ONNX allows).  Nothing
 * changes otherwise.  True when g's batch is symbolic (now or before). */
bool qgt_free_batch(ir_graph *g);

int qgt_trainer_nparams(const qgt_trainer *t);
qgt_param *qgt_trainer_param(qgt_trainer *t, int i);

/* Forward on x [batch, sample...] (training mode: batch statistics,
 * dropout; else inference).  With labels y, returns the mean softmax
 * cross-entropy in *loss and the number of correct top-1 predictions in
 * *correct (either may be NULL).  0 or -1 (reported). */
int qgt_trainer_forward(qgt_trainer *t, const float *x, const int32_t *y, bool train,
                        double *loss, int64_t *correct);
/* Backward from the loss of the last forward (which needs labels): fills
 * every parameter's g (and the input gradient with input_grad). */
int qgt_trainer_backward(qgt_trainer *t);
/* Gradient w.r.t. the graph input after backward (input_grad only). */
const float *qgt_trainer_input_grad(const qgt_trainer *t);
/* Output logits of the last forward, [batch, classes]. */
const float *qgt_trainer_logits(const qgt_trainer *t, int64_t *classes);

typedef struct qgt_step_stats {
	double loss;              /* task loss */
	double reg;               /* regularizer loss */
	int64_t correct;
} qgt_step_stats;

/* One optimizer step: forward (train), backward, regularizers, update,
 * NaN/Inf checks naming the step and tensor.  lr from the schedule. */
int qgt_trainer_step(qgt_trainer *t, const float *x, const int32_t *y, qgt_step_stats *st);

/* Learning rate at `step` of `total` (steps_per_epoch for step decay). */
float qgt_sched_lr(const qgt_train_config *c, int64_t step, int64_t total, int64_t steps_per_epoch);

/* Optimizer update of one parameter at 0-based step `step` with rate lr. */
void qgt_optim_update(const qgt_train_config *c, qgt_param *p, int64_t step, float lr);

/* ------------------------------------------------------ data pipeline */

/* Deterministic PRNG (splitmix64). */
uint64_t qgt_rng_next(uint64_t *state);
/* Uniform in [0, n). */
int64_t qgt_rng_below(uint64_t *state, int64_t n);
/* Fisher-Yates shuffle of idx[0..n). */
void qgt_shuffle(int64_t *idx, int64_t n, uint64_t *state);
/* Copy samples idx[0..b) into x/y, with optional random crop (zero
 * padding `crop_pad`) and horizontal flip drawn from *state. */
void qgt_gather_batch(const qgt_dataset *ds, const int64_t *idx, int64_t b, float *x, int32_t *y,
                      int crop_pad, bool flip, uint64_t *state);

/* The whole loop: split off val_split of ds (seeded), train for
 * c->epochs with per-epoch shuffling, report progress, validate in
 * inference mode after each epoch.  Weights end up in g's constants.
 * `val_acc` (may be NULL) gets the last validation accuracy (or -1 when
 * there is no validation split).  0 or -1 (reported). */
int qgt_train(ir_graph *g, const qgt_dataset *ds, const qgt_train_config *c, double *val_acc,
              diag_sink *d);

/* Copy the data of every f32 constant of src into the constant of the
 * same name, dtype and size in dst (the trained weights back into the
 * graph as loaded).  A constant of src whose name is a computed value in
 * dst (it was folded from constants) gets a warning: its training cannot
 * be written back there.  Returns the number copied. */
int qgt_graph_copy_consts(ir_graph *dst, const ir_graph *src, diag_sink *d);

#endif
