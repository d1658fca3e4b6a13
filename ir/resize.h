/* resize.h: Resize's sampling arithmetic, shared by the reference
 * interpreter (k_resize.c) and the native backend, which turns it into
 * compile-time index/weight tables: one truth for the op's semantics. */
#ifndef QGTC_IR_RESIZE_H
#define QGTC_IR_RESIZE_H

#include "kernel.h"

typedef enum { RS_NEAREST, RS_LINEAR, RS_CUBIC } rs_mode;
typedef enum { RS_HALF_PIXEL, RS_HALF_PIXEL_SYM, RS_PYTORCH, RS_ALIGN, RS_ASYM, RS_TF_CROP } rs_ctm;
typedef enum { RS_ROUND_FLOOR, RS_ROUND_CEIL, RS_FLOOR, RS_CEIL } rs_nearest;

typedef struct ir_resize_plan {
	int rank;
	rs_mode mode;
	rs_ctm ctm;
	rs_nearest nm;
	double cubic_a;
	bool exclude_outside, antialias;
	float extrap;
	int64_t in[IR_MAX_RANK], out[IR_MAX_RANK];
	double scale[IR_MAX_RANK];               /* coordinate-mapping scale */
	double roi_lo[IR_MAX_RANK], roi_hi[IR_MAX_RANK];
	int roi_slot[IR_MAX_RANK]; /* backend: run-time roi entry of this axis, or -1 */
	int naxes;                 /* backend: axes the operands cover */
} ir_resize_plan;

/* Read and validate the attributes that do not depend on operand shapes
 * into p (mode, coordinate transform, nearest mode, cubic a, ...).
 * 0, or -1 reported. */
int ir_resize_attrs(const ir_graph *g, const ir_node *n, ir_resize_plan *p, diag_sink *d);
/* Input coordinate of output index x along axis a. */
double ir_resize_coord(const ir_resize_plan *p, int a, int64_t x);
/* Taps per output index along axis a (1 for nearest). */
int ir_resize_ntaps(const ir_resize_plan *p, int a);
/* The nt input indices (clamped) and weights for input coordinate xo. */
void ir_resize_taps(const ir_resize_plan *p, int a, double xo, int64_t *idx, double *w, int nt);

#endif
