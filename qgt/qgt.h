/* qgt.h: Quantization-Guided Training: the regularizer family (QGT, Smart
 * Quantization, learnable codebooks) built on the passes' one quantizer
 * (passes/quant.h), and the fine-tune flow that drives them (train with
 * batchnorm live, land on the grid, fine-tune what stays free, re-estimate
 * batchnorm statistics), run as the pass `qgt` in the pipeline; the
 * quantize pass then deploys the grids it hands on.
 *
 * Normalisation of lambda (QGT-NOTES lesson 3).  The task loss is the
 * batch-MEAN softmax cross-entropy; each regularizer adds, per quantized
 * kernel i (conv/gemm/matmul weights, never biases or batchnorm
 * parameters),
 *     lambda_i(t) * ||DQ(Q(w_i)) - w_i||^2                 (paper eq. 3)
 * as a raw SUM over the kernel's elements, not a mean.  A mean-normalised
 * lambda' (the error averaged over the model's N weights) is lambda * N;
 * for the 24k-weight Fashion-MNIST CNN lambda = 10 is lambda' = 2.4e5.
 * The gradient is 2 lambda_i (w - w_q) with w_q held constant.
 *
 * Defaults that work without a sweep (the pass's policy, qgt/pass.c).
 * --method qgt: the forward runs on the fake-quantized kernels DQ(Q(w))
 * and the task gradient passes straight through to w, as in STE-QAT, on a
 * grid rebuilt from w every step (--learn-scales on learns its scales
 * instead: LSQ, Esser et al. 2019); and the regularizer pulls
 * every weight onto its grid point, which damps the weights' oscillation
 * across grid boundaries (Nagel et al. 2022), with lambda ramping up
 * exponentially from 1e-3 lambda to 1% of the largest stable value for the
 * optimizer (SGD, rate lr, momentum mu: the quadratic's curvature 2 lambda
 * must stay below 2 (1 + mu) / lr; 1.9 at lr 0.01).  --method qgt-float is
 * the paper's recipe as first built: the forward on the float kernels,
 * lambda ending at half the stable bound (95), the grid rebuilt from w
 * every 50 steps.  Either way the last 15% of the steps hold the kernels
 * on the grid while biases and batchnorm adapt.  At 2 bits or fewer the
 * grid is first picked by MSE (QGT-NOTES: "at 2 bits pick the grid by
 * MSE") unless a calibration was asked for; the pass hands each
 * kernel's spec on to the quantize pass, so the grid deployed is the grid
 * trained on. */
#ifndef QGTC_QGT_QGT_H
#define QGTC_QGT_QGT_H

#include "pass.h"
#include "quant.h"
#include "train.h"

typedef enum {
	QGT_LSCHED_CONST,   /* lambda throughout */
	QGT_LSCHED_LINEAR,  /* lambda * (s0 + (1 - s0) x), x = 0..1 over the regularized steps */
	QGT_LSCHED_EXP,     /* lambda * s0^(1 - x): geometric ramp from s0 lambda to lambda */
} qgt_lambda_sched;

typedef enum {
	QGT_REG_QGT,        /* distance to the scheme's grid (affine, symmetric, pow2, binary, ...) */
	QGT_REG_SQ,         /* Smart Quantization: each layer settles on binary or ternary */
	QGT_REG_CODEBOOK,   /* learnable representatives + clustering regularizer */
} qgt_reg_kind;

/* How fine-tuning takes the kernels to their grid. */
typedef enum {
	QGT_METHOD_REG,     /* the regularizer family (paper eq. 3): the product's method */
	QGT_METHOD_STE,     /* the baseline: STE quantization-aware training, the forward
	                     * on DQ(Q(w)), the gradient passed straight through to w */
} qgt_method;

/* What the regularizer targets, and how hard.  Mirrors the quantize
 * pass's options, so the grid trained for is the grid deployed. */
typedef struct qgt_reg_options {
	qgt_reg_kind kind;
	qgt_method method;          /* STE: no regularizer; kind QGT only */
	bool ste_clip;              /* STE: no gradient where w lies outside what
	                             * the grid holds (pass_quant_unclipped) */
	bool ste_forward;           /* QGT: the forward (and so the task gradient)
	                             * on DQ(Q(w)) as STE runs it, the regularizer
	                             * on top pulling w onto the grid */
	bool learn_scale;           /* with the forward on DQ(Q(w)) (STE, or
	                             * ste_forward): each affine or symmetric
	                             * grid's scales train by backprop (LSQ) from
	                             * the grid first built; no refresh from w */
	float lsq_lr;               /* their rate, relative to the trainer's */
	pass_quant_options quant;   /* bits, --bits rules, scheme, granularity, calibration */
	float lambda;               /* default lambda (raw-sum normalisation, above) */
	const char *lambda_rules;   /* 'NAME=L,GLOB=L' per layer (node or weight name); may be NULL */
	qgt_lambda_sched sched;
	float sched_start;          /* s0: linear/exp start as a fraction of lambda */
	int refresh;                /* recompute the grid every N steps, frozen in between (1: every step) */
	float freeze_frac;          /* last fraction of the steps: kernels projected onto the grid
	                             * and frozen; only biases and batchnorm train */
	float lr_levels;            /* codebook: learning rate of the levels, relative to lr */
	float sq_ternary_cost;      /* SQ: ternary is chosen when its error is below this
	                             * fraction of binary's (it costs twice the bits) */
	bool bn_reintro;            /* qgt_finetune: a kernel with no batchnorm after it (an
	                             * exporter folded it; the classifier) gets a live one
	                             * during fine-tuning, folded back after (per-channel
	                             * grids only; default on) */
} qgt_reg_options;

/* Defaults: QGT, lambda 100, exp schedule from 1e-3 lambda, grid refreshed
 * every 50 steps, last 15% of the steps frozen on the grid, batchnorm
 * re-introduced where an exporter folded it. */
void qgt_reg_options_default(qgt_reg_options *o);

/* Parse --lambda: a number, or rules 'conv1=0.1,*=1' (a rule '*' sets the
 * default).  On success *global gets the number (or the '*' value, else
 * is left alone) and *rules the string when it holds rules (else NULL).
 * 0 or -1 (reported). */
int qgt_lambda_parse(const char *s, float *global, const char **rules, diag_sink *d);

/* The per-kernel state of a regularizer, shared by the family. */
typedef struct qgt_reg_state qgt_reg_state;

/* A regularizer for graph g (the trainer's graph): the hook to put in
 * qgt_train_config.regs.  With method STE the hook fake-quantizes the
 * kernels instead: before each forward the kernel becomes DQ(Q(w)) on a
 * grid recomputed from w every `refresh` steps, and before the update w
 * comes back, so the optimizer moves the float kernel by the gradient
 * taken at DQ(Q(w)) (Bengio et al. 2013; Jacob et al. 2018), masked to
 * the grid's range with ste_clip; freeze_frac holds the last steps on
 * the grid as for QGT.  Caller owns; qgt_reg_destroy frees it.  NULL on
 * error (reported). */
qgt_reg *qgt_reg_create(ir_graph *g, const qgt_reg_options *o, diag_sink *d);
void qgt_reg_destroy(qgt_reg *r);

/* lambda of kernel p at progress pr (schedule applied); 0 if the kernel
 * is not regularized. */
double qgt_reg_lambda(const qgt_reg *r, const qgt_param *p, const qgt_progress *pr);

/* From now on grids are rebuilt from the weights, learned scales or not
 * (after batchnorm folding rescaled the kernels' channels). */
void qgt_reg_release_grids(qgt_reg *r);

/* Project every regularized kernel of g onto its grid (w = DQ(Q(w))), as
 * the quantize pass will compute it: a fixed point of deployment.  Returns
 * the summed squared distance moved, or -1. */
double qgt_reg_project(qgt_reg *r, ir_graph *g, diag_sink *d);

/* One line per regularized kernel: name, scheme chosen (SQ: binary or
 * ternary), bits, lambda at the end, quantization error now. */
void qgt_reg_report(const qgt_reg *r, ir_graph *g, FILE *f);

/* Hand the grid of every regularized kernel on to the quantize pass of
 * the same run (pass_handoff.weights, replacing an entry of the same
 * name): the spec trained on, SQ's per-layer scheme, and for SQ and
 * codebooks `first` (quantized before the rest, the codebook's learned
 * levels kept).  Names are copied into dst's arena (the graph deployed).
 * 0 or -1 (out of memory, reported). */
int qgt_reg_handoff(const qgt_reg *r, ir_graph *dst, pass_handoff *h, diag_sink *d);

/* ------------------------------------------- activations in the loop */

/* Integer activations while fine-tuning (--qgt with -a): every value
 * quantize-act will quantize (pass_act_plan_build on the trainer's graph,
 * looking through its live batchnorms, so the quantizer after a
 * conv-batchnorm-relu sits where the folded conv-relu's will) passes
 * through a fake_quant on the grid quantize-act derives (pass_act_params)
 * from the range its observer picks on the calibration samples
 * (pass_act_ranges), calibrated once on the model as the fine-tune
 * starts.  The backward is straight-through, zero where a value is
 * clipped.  The regularizer is unchanged. */
typedef struct qgt_act_options {
	const pass_quant_options *quant; /* act_bits (8: i8 asymmetric, 16: i16
	                                  * symmetric; 0: float activations),
	                                  * act_calib, act_percentile, the
	                                  * calibration samples, --bits rules */
	float ema;                       /* 0: ranges fixed as calibrated; else a
	                                  * training batch's min and max move them
	                                  * by this fraction (act_ema) */
} qgt_act_options;

typedef struct qgt_actq qgt_actq;

/* Calibrate g's activation ranges (g bound to the training batch, one f32
 * input) and insert the fake quantizers; a site whose value reaches
 * another on the same grid through max pools, relus and views, each the
 * only reader, shares that one's (the values are the same, and the
 * trainer's batchnorm-relu-pool fusion stays).  *nsites gets the number
 * of values quantize-act quantizes.  *out (caller owns, NULL when none was
 * inserted) goes to qgt_actq_remove.  Returns the number inserted, or -1
 * (reported). */
int qgt_actq_insert(ir_graph *g, const qgt_act_options *o, qgt_actq **out, int *nsites,
                    diag_sink *d);
/* The grid of every value quantize-act quantizes, as trained now (a
 * value sharing a quantizer, its quantizer's), for quantize-act to
 * deploy (pass_handoff.acts): *out malloc'd (caller frees),
 * the names g's.  Returns the count, or -1 (out of memory). */
int qgt_actq_grids(const qgt_actq *a, pass_act_grid **out);
/* Take them out again: g regains its structure.  Frees a (may be NULL). */
void qgt_actq_remove(ir_graph *g, qgt_actq *a);

/* ----------------------------------------------------------- the flow */

typedef struct qgt_finetune_stats {
	double val_acc;             /* last validation accuracy, or -1 */
	double moved;               /* squared distance of the final projection */
	int64_t steps;
	pass_act_grid *act_grids;   /* with act: the activation grids trained on
	                             * (qgt_actq_grids; caller frees), else NULL */
	int n_act_grids;
} qgt_finetune_stats;

/* Fine-tune g (bound to c->batch, run through shapes,fold-constants,dce,
 * batchnorm still live) on ds with regularizer r: re-introduce batchnorm
 * where it was folded (r's bn_reintro, qgt_bn_reintroduce), put the
 * activation quantizers in the loop when act asks for them
 * (qgt_actq_insert), train, project the kernels onto their grids,
 * re-estimate batchnorm statistics on `bn_batches` batches of training
 * data (through the same quantizers), take the quantizers out and fold
 * the re-introduced batchnorms back.  g leaves with the structure and
 * names it came with.  Warns, naming them, about kernels whose per-tensor
 * or power-of-two grid the folding of their batchnorm will break.  act
 * may be NULL (float activations).  0 or -1 (reported). */
int qgt_finetune(ir_graph *g, const qgt_dataset *ds, const qgt_train_config *c, qgt_reg *r,
                 const qgt_act_options *act, int bn_batches, qgt_finetune_stats *st,
                 diag_sink *d);

/* Re-estimate batchnorm running statistics: forward `nb` batches of ds in
 * training mode with a cumulative average, no parameter update.  0/-1. */
int qgt_bn_reestimate(ir_graph *g, const qgt_dataset *ds, const qgt_train_config *c, int nb,
                      diag_sink *d);

/* Batchnorm re-introduced for fine-tuning (QGT-NOTES lesson 1): when an
 * exporter has folded BN into the conv (PyTorch eval-mode exports), a
 * live per-channel scale and shift restores what BN gave the unfolded
 * model.  Measured on the Fashion-MNIST CNN, 2 bits, 1 epoch: folded
 * model 86.2% bare, 87.9% with it; the classifier, which never had a BN,
 * gains too (87.5% -> 87.9% on the unfolded model). */
typedef struct qgt_bn_intro qgt_bn_intro;

/* After every conv or gemm kernel that r regularizes on a per-channel,
 * non-power-of-two grid, that has a bias (gemm: beta 1) and whose output
 * no batchnorm reads, the classifier head included, insert a
 * BatchNormalization over its output channels.  Its statistics are
 * calibrated on `nb` batches of ds in inference mode and gamma =
 * sqrt(var + eps), beta = mean, so the network computes the same
 * function (exactly in inference mode, approximately with batch
 * statistics).  The layer's output value keeps its name and readers; the
 * batchnorm now produces it.  Kernels left bare because of their grid are
 * counted in c->log.  *out (caller owns, NULL when nothing was inserted)
 * goes to qgt_bn_refold.  Returns the number inserted, or -1 (reported). */
int qgt_bn_reintroduce(ir_graph *g, const qgt_reg *r, const qgt_dataset *ds,
                       const qgt_train_config *c, int nb, qgt_bn_intro **out, diag_sink *d);

/* Fold the batchnorms of bi (inference form) back into their layers'
 * kernel and bias, in place, and drop them: g regains the structure it
 * had before qgt_bn_reintroduce.  Frees bi (may be NULL).  0 or -1. */
int qgt_bn_refold(ir_graph *g, qgt_bn_intro *bi, diag_sink *d);

/* ------------------------------------------------------- the qgt pass */

/* The pass `qgt` (pass.c): fine-tune the graph's weights onto the grids
 * the quantize pass will deploy, in the pipeline between dce and bnfold,
 * then hand those grids on.  Its settings travel in pass_options.qgt.
 * What is left at its default below, the pass decides: compiler policy
 * lives here, not in the driver. */
/* QGT trains a layer at this many bits or fewer onto the MSE grid, unless
 * --calib is given (pass_quant_options.mse_max_bits; QGT-NOTES lesson 5:
 * PTQ keeps min-max).  bitalloc costs the widths on the same grid. */
enum { QGT_MSE_MAX_BITS = 2 };

typedef struct qgt_pass_options {
	const char *data_dir;       /* labelled data (IDX or NPY); its training
	                             * split fine-tunes; NULL: the pass says so */
	qgt_norm norm;              /* input normalisation */
	qgt_train_config train;     /* the trainer: epochs, batch (a model with a
	                             * fixed batch trains at its own), optimizer,
	                             * lr, schedule (default cosine), seed; its
	                             * log gets progress and the report */
	qgt_reg_kind kind;          /* QGT_REG_SQ asks for Smart Quantization;
	                             * else the quantize options' scheme decides
	                             * (codebook: learned levels; else QGT) */
	qgt_method method;          /* QGT_METHOD_STE: the STE-QAT baseline on the
	                             * same trainer, data, epochs and grid */
	bool ste_clip;              /* STE: the gradient stops at the clip */
	int ste_forward;            /* QGT: the forward on fake-quantized kernels
	                             * (1) or on the float ones (0); < 0: policy */
	float lambda;               /* < 0: half the largest stable lambda for
	                             * the optimizer ((1 + mu) / (2 lr) for SGD) */
	const char *lambda_rules;   /* per layer; may be NULL */
	int lambda_sched;           /* qgt_lambda_sched; < 0: exp */
	int learn_scale;            /* learned grid scales (LSQ) with the forward
	                             * on the quantized kernels; < 0: policy */
	float distill;              /* distillation from the float model (the
	                             * trainer's `distill`); < 0: policy */
	float freeze;               /* last fraction of the steps held on the
	                             * grid; < 0: 0.15 (STE: 0) */
	int refresh;                /* grid recomputed every N steps; 0: 50
	                             * (STE: 1) */
	bool bn_reintro;            /* batchnorm after kernels without one while
	                             * fine-tuning (default on) */
	float act_ema;              /* with -a: moving-average activation ranges */
	bool calib_given;           /* the quantize options' weight calibration was
	                             * asked for; else MSE at 2 bits or fewer */
	int bn_batches;             /* batchnorm re-estimation batches (100) */
	const char *dump_hist;      /* weight histograms before and after (JSON) */
	const char *save_onnx;      /* the fine-tuned float model, as ONNX */
	size_t flash_budget;        /* bitalloc: parameter bytes to fit; 0: the
	                             * pass does nothing */
	bool budget_for_qgt;        /* bitalloc: qgt fine-tunes at the chosen
	                             * widths, so each layer's cost is measured
	                             * after giving its channels back their mean
	                             * and spread; else the plain PTQ loss */
} qgt_pass_options;

/* Defaults: no data, normalisation 1/255, the trainer's defaults with a
 * cosine schedule, QGT, every policy choice left to the pass. */
void qgt_pass_options_default(qgt_pass_options *o);

/* Add `bitalloc` (bitalloc.c) to the registry; qgt_register_passes does. */
/* Multiply-accumulates per sample of weight layer n (conv, gemm, matmul;
 * its output shape known); 0 when unknown. */
int64_t qgt_layer_macs(const ir_node *n);
int qgt_register_bitalloc(void);

/* Add `qgt` and `bitalloc` to the pass manager's registry (pass_register).  Call before
 * checking or running a pipeline that names it; calling again does
 * nothing.  0 or -1. */
int qgt_register_passes(void);

/* The pipeline of --qgt: the quantization pipeline with qgt before
 * bnfold (batchnorm live while fine-tuning, QGT-NOTES lesson 1).  The
 * passes before qgt see the model's own (symbolic) batch, bound only
 * after it: fold-constants then folds what depends on the bound batch
 * (a Reshape to Shape(x)[0], -1), as the quantization pipeline's first
 * fold-constants does. */
#define QGT_PIPELINE \
	PASS_FRONT_PIPELINE ",dce,qgt,fold-constants,dce,bnfold,quantize,quantize-act,fold-qdq,io-int,dce,bitpack"
/* With --flash-budget: bitalloc chooses each layer's bits first. */
#define QGT_BUDGET_PIPELINE                                                                    \
	PASS_FRONT_PIPELINE ",dce,bitalloc,qgt,fold-constants,dce,bnfold,quantize,quantize-act,fold-qdq,io-int,dce," \
	                    "bitpack"
#define QGT_BUDGET_QUANT_PIPELINE \
	PASS_FRONT_PIPELINE ",dce,bitalloc,bnfold,quantize,quantize-act,fold-qdq,io-int,dce,bitpack"

/* ------------------------------------------------------- histograms */

/* Weight histograms of every quantizable kernel of g (paper fig. 4), as a
 * JSON array of {"layer": NAME, "params": N, "bins": [nbins counts]}.
 * Each weight is divided by the max |w| of its output channel, so the
 * bins span [-1, 1] and the grid levels of a per-channel quantizer line
 * up across channels as spikes.  0 or -1 (write error). */
/* Histogram of node n's weight (conv/gemm/matmul kernel, f32 data), each
 * element divided by its output channel's largest |w|, nbins bins over
 * [-1, 1] into h.  1, 0 when n has no such weight, -1 out of memory. */
int qgt_weight_hist(const ir_node *n, int nbins, int64_t *h);
int qgt_histograms_json(const ir_graph *g, int nbins, FILE *f);

#endif
