/* k_conv.c: convolutions: conv and conv_transpose.
 *
 * Both ops derive all of their geometry (channels, group, kernel, strides,
 * dilations, effective pads, output extents) in one function from the
 * operand shapes and attributes.  Inference and evaluation both call it, so
 * the two can never disagree about padding or output size, and evaluation
 * re-checks everything when it is called directly for constant folding.
 *
 * Layouts are ONNX's: X [N, C, x1, x2, ...]; conv W [M, C/group, k1, ...];
 * conv_transpose W [C, M/group, k1, ...]; optional bias B [M]. */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

#define CONV_MAX_SP (IR_MAX_RANK - 2)
/* Cap on strides, dilations and pads, far beyond any real model, so that
 * extent arithmetic on hostile attribute values cannot overflow int64. */
#define CONV_MAX_ATTR ((int64_t)1 << 24)

typedef struct conv_geom {
	int nsp;                 /* number of spatial dims */
	int64_t n;               /* batch; may be IR_DIM_SYM during inference */
	int64_t c, m, group;     /* input channels, output channels, groups */
	int64_t in[CONV_MAX_SP], k[CONV_MAX_SP], s[CONV_MAX_SP], dil[CONV_MAX_SP];
	int64_t op[CONV_MAX_SP]; /* output_padding (conv_transpose only) */
	int64_t pb[CONV_MAX_SP], pe[CONV_MAX_SP], out[CONV_MAX_SP];
} conv_geom;

static int64_t conv_prod(const int64_t *v, int n)
{
	int64_t p = 1;
	for (int i = 0; i < n; i++)
		p *= v[i];
	return p;
}

/* Row-major multi-index of `flat` within `dims`. */
static void conv_unravel(int64_t flat, int nd, const int64_t *dims, int64_t *idx)
{
	for (int i = nd - 1; i >= 0; i--) {
		idx[i] = flat % dims[i];
		flat /= dims[i];
	}
}

/* Python-style floor division: the ONNX spec's pad split formulas are
 * written in Python, and total padding may be negative for
 * conv_transpose with a larger output_shape. */
static int64_t conv_floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* Per-spatial-axis ints attribute (strides, dilations) with default dflt;
 * each value must be >= 1. */
static int conv_axis_attr(const ir_graph *g, const ir_node *n, const char *name, int nsp,
                          int64_t *v, diag_sink *d)
{
	int cnt = 0;
	const int64_t *a = ir_attr_ints(n, name, &cnt);
	if (a && cnt != nsp) {
		k_error(g, n, d, "%s has %d values, expected %d (one per spatial dim)", name, cnt, nsp);
		return -1;
	}
	for (int i = 0; i < nsp; i++) {
		v[i] = a ? a[i] : 1;
		if (v[i] < 1 || v[i] > CONV_MAX_ATTR) {
			k_error(g, n, d, "%s[%d] is %lld; must be in [1, %lld]", name, i, (long long)v[i],
			        (long long)CONV_MAX_ATTR);
			return -1;
		}
	}
	return 0;
}

/* Pads of conv_transpose.  The ONNX spec derives them from a target output
 * size (output_shape, or input*stride for SAME_*): total padding is split
 * in half with Python floor division, SAME_UPPER giving the odd unit to
 * the end and everything else to the beginning.  Otherwise they are the
 * explicit pads (NOTSET) or zero (VALID). */
static int convt_pads(const ir_graph *g, const ir_node *n, conv_geom *cg, diag_sink *d)
{
	int nsp = cg->nsp;
	const char *ap = ir_attr_str(n, "auto_pad", "NOTSET");
	bool same = strcmp(ap, "SAME_UPPER") == 0 || strcmp(ap, "SAME_LOWER") == 0;
	bool upper = strcmp(ap, "SAME_UPPER") == 0;
	int cnt = 0;
	const int64_t *os = ir_attr_ints(n, "output_shape", &cnt);
	int64_t target[CONV_MAX_SP];

	if (!same) {
		/* NOTSET or VALID; also reports an unknown auto_pad. */
		if (k_resolve_pads(g, n, nsp, cg->in, cg->k, cg->s, cg->dil, cg->pb, cg->pe, d))
			return -1;
	}
	if (os) {
		/* Spatial extents only per the spec; a full [N, C, ...] shape
		 * as some exporters write it is accepted too. */
		if (cnt != nsp && cnt != nsp + 2) {
			k_error(g, n, d, "output_shape has %d values, expected %d", cnt, nsp);
			return -1;
		}
		for (int i = 0; i < nsp; i++) {
			target[i] = os[cnt - nsp + i];
			if (target[i] < 1 || target[i] > IR_MAX_NUMEL) {
				k_error(g, n, d, "output_shape[%d] is %lld; must be positive",
				        cnt - nsp + i, (long long)target[i]);
				return -1;
			}
		}
	} else if (same) {
		for (int i = 0; i < nsp; i++)
			target[i] = cg->in[i] * cg->s[i];
	} else {
		return 0;
	}
	for (int i = 0; i < nsp; i++) {
		int64_t ek = (cg->k[i] - 1) * cg->dil[i] + 1;
		int64_t tot = cg->s[i] * (cg->in[i] - 1) + cg->op[i] + ek - target[i];
		int64_t half = conv_floordiv(tot, 2);
		if (upper) {
			cg->pb[i] = half;
			cg->pe[i] = tot - half;
		} else {
			cg->pb[i] = tot - half;
			cg->pe[i] = half;
		}
	}
	return 0;
}

static int conv_check_pads(const ir_graph *g, const ir_node *n, const conv_geom *cg, diag_sink *d)
{
	for (int i = 0; i < cg->nsp; i++)
		if (cg->pb[i] > CONV_MAX_ATTR || cg->pe[i] > CONV_MAX_ATTR) {
			k_error(g, n, d, "pads along spatial dim %d (%lld, %lld) are too large", i,
			        (long long)cg->pb[i], (long long)cg->pe[i]);
			return -1;
		}
	return 0;
}

/* Geometry of a conv (transpose=false) or conv_transpose from the shapes of
 * X, W and the optional B (NULL when absent).  0, or -1 reported. */
static int conv_geometry(const ir_graph *g, const ir_node *n, bool transpose, const ir_shape *xs,
                         const ir_shape *ws, const ir_shape *bs, conv_geom *cg, diag_sink *d)
{
	char b1[96], b2[96];
	memset(cg, 0, sizeof *cg);
	if (xs->rank < 3) {
		k_error(g, n, d, "input has shape %s; expected rank 3 or more [N, C, spatial...]",
		        ir_shape_str(xs, b1, sizeof b1));
		return -1;
	}
	if (ws->rank != xs->rank) {
		k_error(g, n, d, "weight has shape %s (rank %d) but input %s has rank %d",
		        ir_shape_str(ws, b1, sizeof b1), ws->rank, ir_shape_str(xs, b2, sizeof b2),
		        xs->rank);
		return -1;
	}
	if (!ir_shape_known(ws)) {
		k_error(g, n, d, "weight shape %s is not concrete", ir_shape_str(ws, b1, sizeof b1));
		return -1;
	}
	cg->nsp = xs->rank - 2;
	cg->n = xs->d[0];
	cg->c = xs->d[1];
	if (cg->c < 1) {
		k_error(g, n, d, "input %s has no channels", ir_shape_str(xs, b1, sizeof b1));
		return -1;
	}
	cg->group = ir_attr_int(n, "group", 1);
	if (cg->group < 1) {
		k_error(g, n, d, "group is %lld; must be at least 1", (long long)cg->group);
		return -1;
	}
	if (cg->c % cg->group != 0) {
		k_error(g, n, d, "group %lld does not divide the %lld input channels",
		        (long long)cg->group, (long long)cg->c);
		return -1;
	}
	if (!transpose) {
		/* c / group, not d[1] * group: both may be near IR_MAX_NUMEL
		 * (a zero batch or output count lets the shapes hold them). */
		if (ws->d[1] != cg->c / cg->group) {
			if (ws->d[1] > IR_MAX_NUMEL / cg->group)
				k_error(g, n, d,
				        "input has %lld channels but weight %s expects more than %lld (group %lld)",
				        (long long)cg->c, ir_shape_str(ws, b1, sizeof b1),
				        (long long)IR_MAX_NUMEL, (long long)cg->group);
			else
				k_error(g, n, d, "input has %lld channels but weight %s expects %lld (group %lld)",
				        (long long)cg->c, ir_shape_str(ws, b1, sizeof b1),
				        (long long)(ws->d[1] * cg->group), (long long)cg->group);
			return -1;
		}
		cg->m = ws->d[0];
		if (cg->m % cg->group != 0) {
			k_error(g, n, d, "group %lld does not divide the %lld output channels",
			        (long long)cg->group, (long long)cg->m);
			return -1;
		}
	} else {
		if (ws->d[0] != cg->c) {
			k_error(g, n, d,
			        "input has %lld channels but weight %s expects %lld "
			        "(weight is [C_in, C_out/group, k...])",
			        (long long)cg->c, ir_shape_str(ws, b1, sizeof b1), (long long)ws->d[0]);
			return -1;
		}
		if (ws->d[1] > IR_MAX_NUMEL / cg->group) {
			k_error(g, n, d, "weight %s with group %lld gives more than %lld output channels",
			        ir_shape_str(ws, b1, sizeof b1), (long long)cg->group, (long long)IR_MAX_NUMEL);
			return -1;
		}
		cg->m = ws->d[1] * cg->group;
	}
	for (int i = 0; i < cg->nsp; i++) {
		cg->in[i] = xs->d[2 + i];
		cg->k[i] = ws->d[2 + i];
		if (cg->k[i] < 1) {
			k_error(g, n, d, "weight %s has an empty kernel", ir_shape_str(ws, b1, sizeof b1));
			return -1;
		}
	}
	if (bs && (bs->rank != 1 || bs->d[0] != cg->m)) {
		k_error(g, n, d, "bias has shape %s, expected [%lld]", ir_shape_str(bs, b1, sizeof b1),
		        (long long)cg->m);
		return -1;
	}
	if (conv_axis_attr(g, n, "strides", cg->nsp, cg->s, d) ||
	    conv_axis_attr(g, n, "dilations", cg->nsp, cg->dil, d))
		return -1;

	if (!transpose) {
		if (k_resolve_pads(g, n, cg->nsp, cg->in, cg->k, cg->s, cg->dil, cg->pb, cg->pe, d) ||
		    conv_check_pads(g, n, cg, d))
			return -1;
		for (int i = 0; i < cg->nsp; i++) {
			int64_t ek = (cg->k[i] - 1) * cg->dil[i] + 1;
			int64_t span = cg->in[i] + cg->pb[i] + cg->pe[i];
			if (span < ek) {
				k_error(g, n, d,
				        "kernel extent %lld (kernel %lld, dilation %lld) is larger than "
				        "the padded input %lld along spatial dim %d",
				        (long long)ek, (long long)cg->k[i], (long long)cg->dil[i],
				        (long long)span, i);
				return -1;
			}
			cg->out[i] = (span - ek) / cg->s[i] + 1;
		}
		return 0;
	}

	int cnt = 0;
	const int64_t *op = ir_attr_ints(n, "output_padding", &cnt);
	if (op && cnt != cg->nsp) {
		k_error(g, n, d, "output_padding has %d values, expected %d", cnt, cg->nsp);
		return -1;
	}
	for (int i = 0; i < cg->nsp; i++) {
		cg->op[i] = op ? op[i] : 0;
		if (cg->op[i] < 0 || cg->op[i] > CONV_MAX_ATTR) {
			k_error(g, n, d, "output_padding[%d] is %lld; must be in [0, %lld]", i,
			        (long long)cg->op[i], (long long)CONV_MAX_ATTR);
			return -1;
		}
	}
	if (convt_pads(g, n, cg, d) || conv_check_pads(g, n, cg, d))
		return -1;
	for (int i = 0; i < cg->nsp; i++) {
		int64_t ek = (cg->k[i] - 1) * cg->dil[i] + 1;
		cg->out[i] = cg->s[i] * (cg->in[i] - 1) + cg->op[i] + ek - cg->pb[i] - cg->pe[i];
		if (cg->out[i] < 1) {
			k_error(g, n, d, "output extent along spatial dim %d would be %lld", i,
			        (long long)cg->out[i]);
			return -1;
		}
	}
	return 0;
}

int k_convt_pads(const ir_graph *g, const ir_node *n, const ir_shape *xs, const ir_shape *ws, int64_t *pb,
                 diag_sink *d)
{
	conv_geom cg;
	if (conv_geometry(g, n, true, xs, ws, NULL, &cg, d))
		return -1;
	for (int i = 0; i < cg.nsp; i++)
		pb[i] = cg.pb[i];
	return 0;
}

static void conv_out_shape(const conv_geom *cg, ir_shape *ys)
{
	memset(ys, 0, sizeof *ys);
	ys->rank = cg->nsp + 2;
	ys->d[0] = cg->n;
	ys->d[1] = cg->m;
	for (int i = 0; i < cg->nsp; i++)
		ys->d[2 + i] = cg->out[i];
}

static int conv_infer_common(ir_graph *g, ir_node *n, bool transpose, diag_sink *d)
{
	if (!k_in_ranked(n, 0) || !k_in_ranked(n, 1))
		return 0;
	bool has_b = n->nin > 2 && n->in[2];
	if (has_b && !k_in_ranked(n, 2))
		return 0;
	bool integer = !transpose && ir_dtype_is_qint(n->in[0]->dt);
	for (int k = 0; !integer && k < (has_b ? 3 : 2); k++) {
		if (n->in[k]->dt != IR_DT_F32) {
			k_error(g, n, d, "dtype %s is not supported (input %d '%s'; only f32)",
			        ir_dtype_name(n->in[k]->dt), k, n->in[k]->name);
			return -1;
		}
	}
	conv_geom cg;
	if (conv_geometry(g, n, transpose, &n->in[0]->shape, &n->in[1]->shape,
	                  has_b ? &n->in[2]->shape : NULL, &cg, d))
		return -1;
	ir_shape ys;
	conv_out_shape(&cg, &ys);
	if (k_too_big(&ys)) {
		char b[96];
		k_error(g, n, d, "output shape %s is too large", ir_shape_str(&ys, b, sizeof b));
		return -1;
	}
	ir_dtype ot = IR_DT_F32;
	if (integer && (ot = k_int_check(g, n, 0, cg.m, 2, d)) == IR_DT_UNDEF)
		return -1;
	k_set_out(n, 0, ot, &ys);
	return 0;
}

/* Checks shared by both evals: dtypes, geometry, and that the output
 * tensor has the shape the geometry gives. */
static int conv_eval_prepare(const ir_node *n, bool transpose, const ir_tensor *const *in,
                             ir_tensor *const *out, conv_geom *cg, diag_sink *d)
{
	const ir_tensor *b = n->nin > 2 ? in[2] : NULL;
	bool integer = !transpose && ir_dtype_is_qint(in[0]->dt);
	for (int k = 0; !integer && k < (b ? 3 : 2); k++) {
		if (in[k]->dt != IR_DT_F32) {
			k_error(NULL, n, d, "dtype %s is not supported (input %d; only f32)",
			        ir_dtype_name(in[k]->dt), k);
			return -1;
		}
	}
	if (conv_geometry(NULL, n, transpose, &in[0]->shape, &in[1]->shape, b ? &b->shape : NULL,
	                  cg, d))
		return -1;
	ir_shape ys;
	conv_out_shape(cg, &ys);
	ir_dtype ot = IR_DT_F32;
	if (integer) {
		if (in[1]->dt != n->in[1]->dt || (b && b->dt != IR_DT_I32)) {
			k_error(NULL, n, d, "operand dtypes do not match the node's types");
			return -1;
		}
		if ((ot = k_int_check(NULL, n, 0, cg->m, 2, d)) == IR_DT_UNDEF)
			return -1;
	}
	if (!ir_shape_eq(&ys, &out[0]->shape) || out[0]->dt != ot) {
		char b1[96], b2[96];
		k_error(NULL, n, d, "output is %s%s but the operands give %s%s",
		        ir_dtype_name(out[0]->dt), ir_shape_str(&out[0]->shape, b1, sizeof b1),
		        ir_dtype_name(ot), ir_shape_str(&ys, b2, sizeof b2));
		return -1;
	}
	return 0;
}

int ir_infer_conv(ir_graph *g, ir_node *n, diag_sink *d)
{
	return conv_infer_common(g, n, false, d);
}

/* 1-D and 2-D convolutions, a row of outputs at a time.  Each output's sum
 * is the general form's, term for term and in its order: the bias, then
 * the taps in row-major order and, within a tap, the channels in order,
 * with the taps in the padding skipped.  Only the loops around it change:
 * a tap row outside the input is skipped for the whole output row, and a
 * tap column is applied to the span of outputs whose input column is
 * inside.  So the float results are the same bits as the general form's,
 * and the integer ones (sums mod 2^32) the same values. */
typedef struct conv_rows {
	int64_t c, h, w, kh, kw, sh, sw, dh, dw, ph, pw, oh, ow;
} conv_rows;

static bool conv_rows_geom(const conv_geom *cg, conv_rows *r)
{
	if (cg->nsp == 2)
		*r = (conv_rows){cg->c,     cg->in[0], cg->in[1], cg->k[0],  cg->k[1],
		                 cg->s[0],  cg->s[1],  cg->dil[0], cg->dil[1], cg->pb[0],
		                 cg->pb[1], cg->out[0], cg->out[1]};
	else if (cg->nsp == 1)
		*r = (conv_rows){cg->c, 1, cg->in[0], 1, cg->k[0], 1, cg->s[0], 1, cg->dil[0], 0,
		                 cg->pb[0], 1, cg->out[0]};
	else
		return false;
	return r->ow > 0;
}

/* The outputs [*lo, *hi) whose input column ow*sw - pw + kx*dw is inside. */
static void conv_rows_span(const conv_rows *r, int64_t kx, int64_t *lo, int64_t *hi)
{
	int64_t off = kx * r->dw - r->pw; /* input column of output 0 */
	int64_t a = off >= 0 ? 0 : (-off + r->sw - 1) / r->sw;
	int64_t b = off >= r->w ? 0 : (r->w - off + r->sw - 1) / r->sw;
	*lo = a;
	*hi = b < r->ow ? b : r->ow;
}

static void conv_rows_f32(const conv_geom *cg, const conv_rows *r, const float *x, const float *w,
                          const float *bias, float *y, double *acc)
{
	int64_t cg_in = cg->c / cg->group, mg = cg->m / cg->group, plane = r->oh * r->ow;
	for (int64_t b = 0; b < cg->n; b++)
		for (int64_t m = 0; m < cg->m; m++) {
			const float *xg = x + (b * cg->c + m / mg * cg_in) * r->h * r->w;
			const float *wm = w + m * cg_in * r->kh * r->kw;
			for (int64_t o = 0; o < plane; o++)
				acc[o] = bias ? bias[m] : 0.0;
			for (int64_t ky = 0; ky < r->kh; ky++)
				for (int64_t kx = 0; kx < r->kw; kx++) {
					int64_t lo, hi, off = kx * r->dw - r->pw;
					conv_rows_span(r, kx, &lo, &hi);
					for (int64_t c = 0; c < cg_in; c++) {
						double wv = wm[(c * r->kh + ky) * r->kw + kx];
						const float *xc = xg + c * r->h * r->w;
						for (int64_t oy = 0; oy < r->oh; oy++) {
							int64_t iy = oy * r->sh - r->ph + ky * r->dh;
							if (iy < 0 || iy >= r->h)
								continue;
							const float *xr = xc + iy * r->w;
							double *ar = acc + oy * r->ow;
							if (r->sw == 1)
								for (int64_t ox = lo; ox < hi; ox++)
									ar[ox] += (double)xr[ox + off] * wv;
							else
								for (int64_t ox = lo; ox < hi; ox++)
									ar[ox] += (double)xr[ox * r->sw + off] * wv;
						}
					}
				}
			float *ym = y + (b * cg->m + m) * plane;
			for (int64_t o = 0; o < plane; o++)
				ym[o] = (float)acc[o];
		}
}

/* The integer form: x - zx is read once per channel row into xv (a row
 * of the input, as int32), and the sums wrap mod 2^32 as the general
 * form's do. */
static void conv_rows_int(const ir_node *n, const conv_geom *cg, const conv_rows *r,
                          const ir_tensor *const *in, ir_tensor *y, uint32_t *acc, int32_t *xv)
{
	k_intop ko;
	k_intop_get(n, &ko);
	const ir_tensor *x = in[0], *w = in[1];
	const int32_t *bias = n->nin > 2 && in[2] ? in[2]->data : NULL;
	int64_t cg_in = cg->c / cg->group, mg = cg->m / cg->group;
	for (int64_t b = 0; b < cg->n; b++)
		for (int64_t m = 0; m < cg->m; m++) {
			int64_t xg = (b * cg->c + m / mg * cg_in) * r->h * r->w;
			int64_t wm = m * cg_in * r->kh * r->kw, zw = ko.zw[ko.nzw > 1 ? m : 0];
			for (int64_t oy = 0; oy < r->oh; oy++) {
				for (int64_t ox = 0; ox < r->ow; ox++)
					acc[ox] = bias ? (uint32_t)bias[m] : 0;
				for (int64_t ky = 0; ky < r->kh; ky++) {
					int64_t iy = oy * r->sh - r->ph + ky * r->dh;
					if (iy < 0 || iy >= r->h)
						continue;
					for (int64_t c = 0; c < cg_in; c++) {
						int64_t row = xg + (c * r->h + iy) * r->w;
						for (int64_t ix = 0; ix < r->w; ix++)
							xv[ix] = (int32_t)(k_int_get(x->data, x->dt, row + ix) - ko.zx);
						for (int64_t kx = 0; kx < r->kw; kx++) {
							int64_t lo, hi;
							conv_rows_span(r, kx, &lo, &hi);
							uint32_t wv = (uint32_t)(k_int_get(w->data, w->dt,
							                                   wm + (c * r->kh + ky) * r->kw + kx) -
							                         zw);
							int64_t off = kx * r->dw - r->pw;
							for (int64_t ox = lo; ox < hi; ox++)
								acc[ox] += (uint32_t)xv[ox * r->sw + off] * wv;
						}
					}
				}
				int64_t yo = ((b * cg->m + m) * r->oh + oy) * r->ow;
				for (int64_t ox = 0; ox < r->ow; ox++)
					k_intop_store(&ko, y, yo + ox, m, (int32_t)acc[ox]);
			}
		}
}

/* Direct convolution, one output element at a time:
 *   Y[b, m, o] = B[m] + sum_{c, k} X[b, grp*Cg + c, o*s - pb + k*dil] * W[m, c, k]
 * where grp = m / (M/group) and taps falling into the padding read 0. */
/* The integer conv: the same loops over int32 accumulators of
 * (x - zx)(w - zw[m]) plus the i32 bias; taps in the padding read the
 * zero point, i.e. add nothing. */
static void conv_eval_int(const ir_node *n, const conv_geom *cg, const ir_tensor *const *in,
                          ir_tensor *y)
{
	k_intop ko;
	k_intop_get(n, &ko);
	const ir_tensor *x = in[0], *w = in[1];
	const int32_t *bias = n->nin > 2 && in[2] ? in[2]->data : NULL;
	int nsp = cg->nsp;
	int64_t cg_in = cg->c / cg->group, mg = cg->m / cg->group;
	int64_t in_sz = conv_prod(cg->in, nsp), k_sz = conv_prod(cg->k, nsp);
	int64_t out_sz = conv_prod(cg->out, nsp);
	int64_t oi[CONV_MAX_SP], ki[CONV_MAX_SP];

	for (int64_t b = 0; b < cg->n; b++)
		for (int64_t m = 0; m < cg->m; m++) {
			int64_t grp = m / mg, zw = ko.zw[ko.nzw > 1 ? m : 0];
			for (int64_t o = 0; o < out_sz; o++) {
				conv_unravel(o, nsp, cg->out, oi);
				int64_t acc = bias ? bias[m] : 0;
				for (int64_t kk = 0; kk < k_sz; kk++) {
					conv_unravel(kk, nsp, cg->k, ki);
					int64_t off = 0;
					bool inside = true;
					for (int i = 0; i < nsp; i++) {
						int64_t p = oi[i] * cg->s[i] - cg->pb[i] + ki[i] * cg->dil[i];
						if (p < 0 || p >= cg->in[i]) {
							inside = false;
							break;
						}
						off = off * cg->in[i] + p;
					}
					if (!inside)
						continue;
					for (int64_t c = 0; c < cg_in; c++) {
						int64_t xv = k_int_get(x->data, x->dt,
						                       (b * cg->c + grp * cg_in + c) * in_sz + off);
						int64_t wv = k_int_get(w->data, w->dt, (m * cg_in + c) * k_sz + kk);
						/* int32 wrap-around, whatever the order of the sum */
						acc = (int32_t)(uint32_t)(acc + (xv - ko.zx) * (wv - zw));
					}
				}
				k_intop_store(&ko, y, (b * cg->m + m) * out_sz + o, m, acc);
			}
		}
}

int ir_eval_conv(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	conv_geom cg;
	if (conv_eval_prepare(n, false, in, out, &cg, d))
		return -1;
	bool integer = ir_dtype_is_qint(in[0]->dt);
	conv_rows r;
	if (conv_rows_geom(&cg, &r)) {
		/* Scratch for a row; without it, the general form below. */
		size_t na = (size_t)(integer ? r.ow : r.oh * r.ow);
		void *acc = malloc(na * (integer ? sizeof(uint32_t) : sizeof(double)));
		int32_t *xv = integer ? malloc((size_t)r.w * sizeof *xv) : NULL;
		if (acc && (!integer || xv)) {
			if (integer)
				conv_rows_int(n, &cg, &r, in, out[0], acc, xv);
			else
				conv_rows_f32(&cg, &r, in[0]->data, in[1]->data,
				              n->nin > 2 && in[2] ? in[2]->data : NULL, out[0]->data, acc);
		}
		free(xv);
		free(acc);
		if (acc && (!integer || xv))
			return 0;
	}
	if (integer) {
		conv_eval_int(n, &cg, in, out[0]);
		return 0;
	}
	const float *x = in[0]->data, *w = in[1]->data;
	const float *bias = n->nin > 2 && in[2] ? in[2]->data : NULL;
	float *y = out[0]->data;
	int nsp = cg.nsp;
	int64_t cg_in = cg.c / cg.group, mg = cg.m / cg.group;
	int64_t in_sz = conv_prod(cg.in, nsp), k_sz = conv_prod(cg.k, nsp);
	int64_t out_sz = conv_prod(cg.out, nsp);
	int64_t oi[CONV_MAX_SP], ki[CONV_MAX_SP];

	for (int64_t b = 0; b < cg.n; b++)
		for (int64_t m = 0; m < cg.m; m++) {
			int64_t grp = m / mg;
			for (int64_t o = 0; o < out_sz; o++) {
				conv_unravel(o, nsp, cg.out, oi);
				double acc = bias ? bias[m] : 0.0;
				/* The tap's input position does not depend on the
				 * channel: find it once, then sum over channels. */
				for (int64_t kk = 0; kk < k_sz; kk++) {
					conv_unravel(kk, nsp, cg.k, ki);
					int64_t off = 0;
					bool inside = true;
					for (int i = 0; i < nsp; i++) {
						int64_t p = oi[i] * cg.s[i] - cg.pb[i] + ki[i] * cg.dil[i];
						if (p < 0 || p >= cg.in[i]) {
							inside = false;
							break;
						}
						off = off * cg.in[i] + p;
					}
					if (!inside)
						continue;
					for (int64_t c = 0; c < cg_in; c++) {
						double xv = x[(b * cg.c + grp * cg_in + c) * in_sz + off];
						acc += xv * w[(m * cg_in + c) * k_sz + kk];
					}
				}
				y[(b * cg.m + m) * out_sz + o] = (float)acc;
			}
		}
	return 0;
}

int ir_infer_conv_transpose(ir_graph *g, ir_node *n, diag_sink *d)
{
	return conv_infer_common(g, n, true, d);
}

/* Transposed convolution as a gather, so each output is accumulated in
 * double in one place.  Input position p contributes to output
 *   o = p*s - pb + k*dil,
 * so for a given o and kernel tap k the source is p = (o + pb - k*dil) / s,
 * when that division is exact and p lies inside the input:
 *   Y[b, m, o] = B[m] + sum_{c in grp, k} X[b, c, p] * W[c, m % Mg, k]. */
int ir_eval_conv_transpose(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out,
                           diag_sink *d)
{
	conv_geom cg;
	if (conv_eval_prepare(n, true, in, out, &cg, d))
		return -1;
	const float *x = in[0]->data, *w = in[1]->data;
	const float *bias = n->nin > 2 && in[2] ? in[2]->data : NULL;
	float *y = out[0]->data;
	int nsp = cg.nsp;
	int64_t cg_in = cg.c / cg.group, mg = cg.m / cg.group;
	int64_t in_sz = conv_prod(cg.in, nsp), k_sz = conv_prod(cg.k, nsp);
	int64_t out_sz = conv_prod(cg.out, nsp);
	int64_t oi[CONV_MAX_SP], ki[CONV_MAX_SP];

	for (int64_t b = 0; b < cg.n; b++)
		for (int64_t m = 0; m < cg.m; m++) {
			int64_t grp = m / mg, mm = m % mg;
			for (int64_t o = 0; o < out_sz; o++) {
				conv_unravel(o, nsp, cg.out, oi);
				double acc = bias ? bias[m] : 0.0;
				for (int64_t kk = 0; kk < k_sz; kk++) {
					conv_unravel(kk, nsp, cg.k, ki);
					int64_t off = 0;
					bool hit = true;
					for (int i = 0; i < nsp; i++) {
						int64_t t = oi[i] + cg.pb[i] - ki[i] * cg.dil[i];
						if (t < 0 || t % cg.s[i] != 0 || t / cg.s[i] >= cg.in[i]) {
							hit = false;
							break;
						}
						off = off * cg.in[i] + t / cg.s[i];
					}
					if (!hit)
						continue;
					for (int64_t c = grp * cg_in; c < (grp + 1) * cg_in; c++) {
						double xv = x[(b * cg.c + c) * in_sz + off];
						acc += xv * w[(c * mg + mm) * k_sz + kk];
					}
				}
				y[(b * cg.m + m) * out_sz + o] = (float)acc;
			}
		}
	return 0;
}
