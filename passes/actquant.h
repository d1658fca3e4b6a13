/* actquant.h: the activation quantizers of the integer path (-a): where
 * quantize-act puts them, how their ranges are observed and the grid each
 * range gives.  quantize-act deploys them; QGT's fine-tune with -a
 * fake-quantizes the same values on the same grids while it trains. */
#ifndef QGTC_PASS_ACTQUANT_H
#define QGTC_PASS_ACTQUANT_H

#include "quant.h"

/* Scale and zero point of an activation range [lo, hi] (widened to hold
 * 0) in dt: i8 asymmetric, scale (hi - lo) / 255 and the zero point
 * rounded half to even and saturated (0 is then exact, so a relu's zero
 * is); i16 symmetric, scale max(-lo, hi) / 32767 and zero point 0; as
 * TFLite's int8 and 16x8 schemes. */
void pass_act_params(double lo, double hi, ir_dtype dt, float *scale, int32_t *zp);

/* The element type of -a bits: i16 for 16, else i8. */
ir_dtype pass_act_dtype(int act_bits);

/* One value quantize-act quantizes. */
typedef struct pass_act_site {
	ir_value *v;
	int share;           /* an earlier site whose grid v takes, or -1: v is reached
	                      * from it through max pools, relus and views, which then
	                      * run on its integers (no requantization between layers) */
} pass_act_site;

/* One layer whose operands and output are sites. */
typedef struct pass_act_layer {
	ir_node *n;          /* conv, matmul or gemm; add or mul of two activations; softmax */
	ir_node *act;        /* a following relu or clip absorbed into it, or NULL */
	int in, out;         /* site indices */
} pass_act_layer;

typedef struct pass_act_plan {
	pass_act_site *site;
	int nsite;
	pass_act_layer *layer;
	int nlayer;
} pass_act_plan;

/* Which f32 conv, matmul and gemm nodes are layers: ctx is the caller's. */
typedef bool (*pass_act_layer_fn)(const ir_node *n, void *ctx);

/* The sites of g (toposorted, shapes known), in node order: the input and
 * the output of every conv, matmul or gemm that is_layer accepts, the
 * output taken after a bias add of a constant (matmul), after a live
 * batchnorm reading it when through_bn (the trainer's graph, where bnfold
 * has not run yet) and after a relu or clip with constant bounds; the
 * operands and the output of every add or mul of two f32 activations;
 * the input and the output of every softmax when act_bits is 8.  A value
 * that is a site of several layers is one site.  p is the caller's
 * (pass_act_plan_free).  0, or -1 (out of memory, reported). */
int pass_act_plan_build(ir_graph *g, int act_bits, pass_act_layer_fn is_layer, void *ctx,
                        bool through_bn, pass_act_plan *p, diag_sink *d);
void pass_act_plan_free(pass_act_plan *p);

/* The range [lo[k], hi[k]] of vals[k], k < n, observed over qo's
 * calibration samples (pass_calib_run) by qo->act_calib: min-max, or from
 * a histogram the percentile qo->act_percentile (default 99.99) or the
 * clipping with the least expected squared error on the grid of
 * qo->act_bits; a softmax's output takes [0, 1] whatever the data.  0, or
 * -1 after reporting (no calibration data, a value never finite). */
int pass_act_ranges(ir_graph *g, const pass_quant_options *qo, ir_value **vals, int n, double *lo,
                    double *hi, diag_sink *d);

#endif
