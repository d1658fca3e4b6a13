/* k_pool.c: pooling: max, average, global.
 *
 * max_pool and avg_pool share one window geometry, computed by one
 * function from the input shape and attributes, so inference and
 * evaluation agree on pads and output extents (including the ceil_mode
 * rule) by construction.  Layout is ONNX's X [N, C, x1, x2, ...].
 *
 * An integer activation (i8/u8/i16/u16, DESIGN.md "The integer path") is
 * pooled on its integers and keeps its dtype (inference carries the
 * input's quantization to the output): max picks the largest integer;
 * average sums the integers in int32 (wrapping), pads counted by
 * count_include_pad adding the input's zero point, and rounds the real
 * mean half to even, as ONNX's dequantize -> AveragePool -> quantize
 * (and so ONNX Runtime and PyTorch) do (pool_int_avg). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

#define POOL_MAX_SP (IR_MAX_RANK - 2)
/* Cap on kernel, strides, dilations and pads, far beyond any real model,
 * so that extent arithmetic on hostile attribute values cannot overflow. */
#define POOL_MAX_ATTR ((int64_t)1 << 24)
/* Cap on the taps of one window (the product of the kernel extents), so
 * that tap counts stay exact in int64 here, in int32 and as a float
 * divisor in the backends.  A 224x224 global-average window has 50176. */
#define POOL_MAX_TAPS ((int64_t)1 << 24)

typedef struct pool_geom {
	int nsp;         /* number of spatial dims */
	int64_t n, c;    /* batch (may be IR_DIM_SYM during inference), channels */
	int64_t in[POOL_MAX_SP], k[POOL_MAX_SP], s[POOL_MAX_SP], dil[POOL_MAX_SP];
	int64_t pb[POOL_MAX_SP], pe[POOL_MAX_SP], out[POOL_MAX_SP];
} pool_geom;

static int64_t pool_prod(const int64_t *v, int n)
{
	int64_t p = 1;
	for (int i = 0; i < n; i++)
		p *= v[i];
	return p;
}

/* Row-major multi-index of `flat` within `dims`. */
static void pool_unravel(int64_t flat, int nd, const int64_t *dims, int64_t *idx)
{
	for (int i = nd - 1; i >= 0; i--) {
		idx[i] = flat % dims[i];
		flat /= dims[i];
	}
}

/* The first tap k >= 0 of a window whose tap 0 sits at `base` (taps at
 * base + k*dil) that lies at or past position `at`. */
static int64_t pool_first_tap(int64_t at, int64_t base, int64_t dil)
{
	return at - base <= 0 ? 0 : (at - base + dil - 1) / dil;
}

/* The taps of the window at output position oi that fall inside the
 * input: [lo[i], hi[i]) along each spatial axis, *n_in of them in all;
 * *n_pad counts those inside the padded input [-pb, in + pe) (every tap
 * from 0 on starts there).  The evaluators visit only the taps inside,
 * in the kernel's row-major order, so a window made mostly of padding
 * costs what its part on the input costs. */
static void pool_taps(const pool_geom *pg, const int64_t *oi, int64_t *lo, int64_t *hi,
                      int64_t *n_in, int64_t *n_pad)
{
	*n_in = 1;
	*n_pad = 1;
	for (int i = 0; i < pg->nsp; i++) {
		int64_t base = oi[i] * pg->s[i] - pg->pb[i], dil = pg->dil[i], k = pg->k[i];
		int64_t a = pool_first_tap(0, base, dil), e = pool_first_tap(pg->in[i], base, dil);
		int64_t pe = pool_first_tap(pg->in[i] + pg->pe[i], base, dil);
		lo[i] = a < k ? a : k;
		hi[i] = e < k ? e : k;
		if (hi[i] < lo[i])
			hi[i] = lo[i];
		*n_in *= hi[i] - lo[i];
		*n_pad *= pe < k ? pe : k;
	}
}

/* Per-spatial-axis ints attribute; absent gives dflt (required when dflt
 * is 0).  Each value must be in [1, POOL_MAX_ATTR]. */
static int pool_axis_attr(const ir_graph *g, const ir_node *n, const char *name, int nsp,
                          int64_t dflt, int64_t *v, diag_sink *d)
{
	int cnt = 0;
	const int64_t *a = ir_attr_ints(n, name, &cnt);
	if (!a && dflt == 0) {
		k_error(g, n, d, "attribute '%s' is required", name);
		return -1;
	}
	if (a && cnt != nsp) {
		k_error(g, n, d, "%s has %d values, expected %d (one per spatial dim)", name, cnt, nsp);
		return -1;
	}
	for (int i = 0; i < nsp; i++) {
		v[i] = a ? a[i] : dflt;
		if (v[i] < 1 || v[i] > POOL_MAX_ATTR) {
			k_error(g, n, d, "%s[%d] is %lld; must be in [1, %lld]", name, i, (long long)v[i],
			        (long long)POOL_MAX_ATTR);
			return -1;
		}
	}
	return 0;
}

/* Window geometry of max_pool/avg_pool on input shape xs.
 *
 * Output extent with explicit pads is floor or (ceil_mode) ceil of
 * (in + pb + pe - ek) / s, plus 1, where ek = (k-1)*dil + 1.  With
 * ceil_mode ONNX drops the last window when it would start at or past
 * in + pb, i.e. entirely inside the end padding.  With auto_pad the pads
 * come from k_resolve_pads and the plain formula yields ONNX's extents
 * (ceil(in/s) for SAME_*, floor((in-ek)/s)+1 for VALID); ceil_mode does
 * not change them. */
static int pool_geometry(const ir_graph *g, const ir_node *n, const ir_shape *xs, pool_geom *pg,
                         diag_sink *d)
{
	char b[96];
	memset(pg, 0, sizeof *pg);
	if (xs->rank < 3) {
		k_error(g, n, d, "input has shape %s; expected rank 3 or more [N, C, spatial...]",
		        ir_shape_str(xs, b, sizeof b));
		return -1;
	}
	pg->nsp = xs->rank - 2;
	pg->n = xs->d[0];
	pg->c = xs->d[1];
	for (int i = 0; i < pg->nsp; i++)
		pg->in[i] = xs->d[2 + i];
	if (pool_axis_attr(g, n, "kernel", pg->nsp, 0, pg->k, d) ||
	    pool_axis_attr(g, n, "strides", pg->nsp, 1, pg->s, d) ||
	    pool_axis_attr(g, n, "dilations", pg->nsp, 1, pg->dil, d))
		return -1;
	int64_t taps = 1; /* each factor <= 2^24, so no overflow before the test */
	for (int i = 0; i < pg->nsp; i++) {
		taps *= pg->k[i];
		if (taps > POOL_MAX_TAPS) {
			ir_shape ks = ir_shape_make(pg->nsp, pg->k);
			k_error(g, n, d, "the window %s has more than %lld taps",
			        ir_shape_str(&ks, b, sizeof b), (long long)POOL_MAX_TAPS);
			return -1;
		}
	}
	if (k_resolve_pads(g, n, pg->nsp, pg->in, pg->k, pg->s, pg->dil, pg->pb, pg->pe, d))
		return -1;
	int64_t ceil_mode = ir_attr_int(n, "ceil_mode", 0);
	if (ceil_mode != 0 && ceil_mode != 1) {
		k_error(g, n, d, "ceil_mode is %lld; must be 0 or 1", (long long)ceil_mode);
		return -1;
	}
	bool explicit_pads = strcmp(ir_attr_str(n, "auto_pad", "NOTSET"), "NOTSET") == 0;
	for (int i = 0; i < pg->nsp; i++) {
		if (pg->pb[i] > POOL_MAX_ATTR || pg->pe[i] > POOL_MAX_ATTR) {
			k_error(g, n, d, "pads along spatial dim %d (%lld, %lld) are too large", i,
			        (long long)pg->pb[i], (long long)pg->pe[i]);
			return -1;
		}
		int64_t ek = (pg->k[i] - 1) * pg->dil[i] + 1;
		int64_t span = pg->in[i] + pg->pb[i] + pg->pe[i];
		if (span < ek) {
			k_error(g, n, d,
			        "kernel extent %lld (kernel %lld, dilation %lld) is larger than the "
			        "padded input %lld along spatial dim %d",
			        (long long)ek, (long long)pg->k[i], (long long)pg->dil[i], (long long)span,
			        i);
			return -1;
		}
		if (ceil_mode && explicit_pads) {
			pg->out[i] = (span - ek + pg->s[i] - 1) / pg->s[i] + 1;
			if ((pg->out[i] - 1) * pg->s[i] >= pg->in[i] + pg->pb[i])
				pg->out[i]--;
		} else {
			pg->out[i] = (span - ek) / pg->s[i] + 1;
		}
	}
	return 0;
}

static void pool_out_shape(const pool_geom *pg, ir_shape *ys)
{
	memset(ys, 0, sizeof *ys);
	ys->rank = pg->nsp + 2;
	ys->d[0] = pg->n;
	ys->d[1] = pg->c;
	for (int i = 0; i < pg->nsp; i++)
		ys->d[2 + i] = pg->out[i];
}

static int pool_check_dtype(const ir_graph *g, const ir_node *n, ir_dtype dt, diag_sink *d)
{
	if (dt != IR_DT_F32 && !ir_dtype_is_qint(dt)) {
		k_error(g, n, d, "dtype %s is not supported (only f32, i8, u8, i16, u16)",
		        ir_dtype_name(dt));
		return -1;
	}
	return 0;
}

/* The zero point of an integer input x: 0 without quantization.  Only a
 * per-tensor one has a meaning here. */
static int pool_zero_point(const ir_graph *g, const ir_node *n, const ir_value *x, int32_t *zp,
                           diag_sink *d)
{
	const ir_quant *q = x->quant;
	*zp = 0;
	if (!q || !q->zero_point)
		return 0;
	if (q->nchan != 1) {
		k_error(g, n, d, "input '%s' is quantized per channel; an integer %s needs one "
		        "zero point", x->name, ir_op_name(n->op));
		return -1;
	}
	*zp = q->zero_point[0];
	return 0;
}

/* Element k of x (f32 or integer), exactly, for comparisons. */
static double pool_get(const ir_tensor *x, int64_t k)
{
	if (x->dt == IR_DT_F32)
		return ((const float *)x->data)[k];
	return (double)k_int_get(x->data, x->dt, k);
}

/* Store v as element k of y: f32, or an integer already in y's range. */
static void pool_put(ir_tensor *y, int64_t k, double v)
{
	switch (y->dt) {
	case IR_DT_F32: ((float *)y->data)[k] = (float)v; break;
	case IR_DT_I8: ((int8_t *)y->data)[k] = (int8_t)v; break;
	case IR_DT_U8: ((uint8_t *)y->data)[k] = (uint8_t)v; break;
	case IR_DT_I16: ((int16_t *)y->data)[k] = (int16_t)v; break;
	case IR_DT_U16: ((uint16_t *)y->data)[k] = (uint16_t)v; break;
	default: break;
	}
}

/* A global average pool on integers whose output is on another grid than
 * its input (fold-qdq folds the requantization after it in): rq_mult and
 * rq_shift, one entry each, of the real multiplier s_x / (s_y * count),
 * and y's per-tensor affine quantization.  The output is then
 *   y = sat(zy + ir_requant_apply(sum (x - zx), mult, shift))
 * over the window's count elements: one rounding, where the average on
 * x's grid and a requantization after it would round twice.  *m, *s, *zy
 * set and 1; 0 without rq_mult (the average on x's grid); -1 after
 * reporting. */
static int pool_rq(const ir_graph *g, const ir_node *n, int32_t *m, int32_t *s, int32_t *zy, diag_sink *d)
{
	int nm = 0, ns = 0;
	const int64_t *mult = ir_attr_ints(n, "rq_mult", &nm), *shift = ir_attr_ints(n, "rq_shift", &ns);
	if (!mult && !shift)
		return 0;
	const ir_value *x = n->in[0], *y = n->out[0];
	const ir_quant *qy = y->quant;
	if (!mult || !shift || nm != 1 || ns != 1 || mult[0] < 0 || mult[0] > INT32_MAX || shift[0] < -31 ||
	    shift[0] > 30) {
		k_error(g, n, d, "an integer %s needs rq_mult in [0, 2^31) and rq_shift in [-31, 30], "
		        "one entry each", ir_op_name(n->op));
		return -1;
	}
	if (!ir_dtype_is_qint(x->dt) || y->dt != x->dt || !qy || qy->scheme != IR_QS_AFFINE || qy->codes ||
	    qy->nchan != 1 || !qy->zero_point) {
		k_error(g, n, d, "rq_mult on %s needs an integer input and an output of its dtype with a "
		        "per-tensor affine quantization", ir_op_name(n->op));
		return -1;
	}
	*m = (int32_t)mult[0];
	*s = (int32_t)shift[0];
	*zy = qy->zero_point[0];
	return 1;
}

/* The integer average, as ONNX's dequantize -> AveragePool -> quantize
 * on one grid gives it (what ONNX Runtime and PyTorch compute): the
 * zero point plus the real mean (sum - cnt * zp) / cnt, rounded half to
 * even (QuantizeLinear's rounding), saturated to dt.  sum - cnt * zp
 * wraps in int32 as the compiled code's does; the quotient is exact.  An
 * empty window (cnt 0) gives the zero point, the integer of real 0, as
 * the f32 kernel gives 0. */
static int64_t pool_int_avg(int32_t sum, int64_t cnt, int32_t zp, ir_dtype dt)
{
	int64_t lo, hi, r = zp;
	ir_dtype_range(dt, &lo, &hi);
	if (cnt > 0) {
		int64_t v = (int32_t)((uint32_t)sum - (uint32_t)cnt * (uint32_t)zp);
		int64_t q = v / cnt, rem = v % cnt;
		if (rem < 0) /* the floor */
			q--, rem += cnt;
		if (rem > cnt - rem || (rem == cnt - rem && (q & 1)))
			q++;
		r = q + zp;
	}
	return r < lo ? lo : r > hi ? hi : r;
}

static int pool_infer_common(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_in_ranked(n, 0))
		return 0;
	if (pool_check_dtype(g, n, n->in[0]->dt, d))
		return -1;
	pool_geom pg;
	if (pool_geometry(g, n, &n->in[0]->shape, &pg, d))
		return -1;
	ir_shape ys;
	pool_out_shape(&pg, &ys);
	if (k_too_big(&ys)) {
		char b[96];
		k_error(g, n, d, "output shape %s is too large", ir_shape_str(&ys, b, sizeof b));
		return -1;
	}
	k_set_out(n, 0, n->in[0]->dt, &ys);
	return 0;
}

/* Geometry for eval, checked against the output tensor(s) it was given. */
static int pool_eval_prepare(const ir_node *n, const ir_tensor *x, ir_tensor *const *out, int nout,
                             pool_geom *pg, diag_sink *d)
{
	if (pool_check_dtype(NULL, n, x->dt, d) || pool_geometry(NULL, n, &x->shape, pg, d))
		return -1;
	ir_shape ys;
	pool_out_shape(pg, &ys);
	for (int k = 0; k < nout; k++) {
		ir_dtype want = k == 0 ? x->dt : IR_DT_I64;
		if (out[k] && (!ir_shape_eq(&ys, &out[k]->shape) || out[k]->dt != want)) {
			char b1[96], b2[96];
			k_error(NULL, n, d, "output %d is %s%s but the input gives %s%s", k,
			        ir_dtype_name(out[k]->dt), ir_shape_str(&out[k]->shape, b1, sizeof b1),
			        ir_dtype_name(want), ir_shape_str(&ys, b2, sizeof b2));
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ max_pool */

int ir_infer_max_pool(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_in_ranked(n, 0))
		return 0;
	int64_t so = ir_attr_int(n, "storage_order", 0);
	if (so != 0 && so != 1) {
		k_error(g, n, d, "storage_order is %lld; must be 0 or 1", (long long)so);
		return -1;
	}
	if (pool_infer_common(g, n, d))
		return -1;
	if (n->nout > 1 && n->out[1])
		k_set_out(n, 1, IR_DT_I64, &n->out[0]->shape);
	return 0;
}

/* Each output is the maximum over the window's taps that fall inside the
 * input (padding never wins).  The optional Indices output holds, per
 * ONNX, the flat index of the first maximum in the whole input tensor:
 * (b*C + c) * prod(in) plus the spatial position, raveled row-major for
 * storage_order 0 and column-major for storage_order 1.  Integers compare
 * exactly as doubles; an empty window (all padding) gives -inf, or the
 * dtype's minimum, and index -1. */
int ir_eval_max_pool(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out,
                     diag_sink *d)
{
	pool_geom pg;
	int nout = n->nout > 1 ? 2 : 1;
	if (pool_eval_prepare(n, in[0], out, nout, &pg, d))
		return -1;
	int64_t so = ir_attr_int(n, "storage_order", 0);
	if (so != 0 && so != 1) {
		k_error(NULL, n, d, "storage_order is %lld; must be 0 or 1", (long long)so);
		return -1;
	}
	const ir_tensor *x = in[0];
	int64_t lo = 0, hi = 0;
	if (x->dt != IR_DT_F32)
		ir_dtype_range(x->dt, &lo, &hi);
	int64_t *ind = nout > 1 && out[1] ? out[1]->data : NULL;
	int nsp = pg.nsp;
	int64_t in_sz = pool_prod(pg.in, nsp), out_sz = pool_prod(pg.out, nsp);
	int64_t oi[POOL_MAX_SP], ki[POOL_MAX_SP], p[POOL_MAX_SP], klo[POOL_MAX_SP], khi[POOL_MAX_SP];
	int64_t tn[POOL_MAX_SP];

	for (int64_t bc = 0; bc < pg.n * pg.c; bc++) {
		for (int64_t o = 0; o < out_sz; o++) {
			pool_unravel(o, nsp, pg.out, oi);
			double best = -INFINITY;
			int64_t best_at = -1, n_in, n_pad;
			pool_taps(&pg, oi, klo, khi, &n_in, &n_pad);
			for (int i = 0; i < nsp; i++)
				tn[i] = khi[i] - klo[i];
			for (int64_t kk = 0; kk < n_in; kk++) {
				pool_unravel(kk, nsp, tn, ki);
				int64_t off = 0;
				for (int i = 0; i < nsp; i++) {
					p[i] = oi[i] * pg.s[i] - pg.pb[i] + (klo[i] + ki[i]) * pg.dil[i];
					off = off * pg.in[i] + p[i];
				}
				double v = pool_get(x, bc * in_sz + off);
				if (best_at < 0 || v > best) {
					best = v;
					if (so == 0) {
						best_at = off;
					} else {
						best_at = 0;
						for (int i = nsp - 1; i >= 0; i--)
							best_at = best_at * pg.in[i] + p[i];
					}
				}
			}
			if (best_at < 0 && x->dt != IR_DT_F32)
				best = (double)lo;
			pool_put(out[0], bc * out_sz + o, best);
			if (ind)
				ind[bc * out_sz + o] = best_at < 0 ? -1 : bc * in_sz + best_at;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ avg_pool */

int ir_infer_avg_pool(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_in_ranked(n, 0))
		return 0;
	int64_t cip = ir_attr_int(n, "count_include_pad", 0);
	if (cip != 0 && cip != 1) {
		k_error(g, n, d, "count_include_pad is %lld; must be 0 or 1", (long long)cip);
		return -1;
	}
	int32_t zp;
	if (ir_dtype_is_qint(n->in[0]->dt) && pool_zero_point(g, n, n->in[0], &zp, d))
		return -1;
	return pool_infer_common(g, n, d);
}

/* Each output is the sum of the window's taps inside the input divided by
 * a count: with count_include_pad 0, the number of those taps; with 1,
 * the number of taps inside the padded input [-pb, in + pe), so explicit
 * (or auto_pad) padding counts but the positions ceil_mode adds past the
 * end padding do not.  On integers each counted pad tap adds the input's
 * zero point (the integer of real 0) to the int32 sum. */
int ir_eval_avg_pool(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out,
                     diag_sink *d)
{
	pool_geom pg;
	if (pool_eval_prepare(n, in[0], out, 1, &pg, d))
		return -1;
	int64_t cip = ir_attr_int(n, "count_include_pad", 0);
	if (cip != 0 && cip != 1) {
		k_error(NULL, n, d, "count_include_pad is %lld; must be 0 or 1", (long long)cip);
		return -1;
	}
	const ir_tensor *x = in[0];
	bool integer = x->dt != IR_DT_F32;
	int32_t zp = 0;
	if (integer && pool_zero_point(NULL, n, n->in[0], &zp, d))
		return -1;
	int nsp = pg.nsp;
	int64_t in_sz = pool_prod(pg.in, nsp), out_sz = pool_prod(pg.out, nsp);
	int64_t oi[POOL_MAX_SP], ki[POOL_MAX_SP], klo[POOL_MAX_SP], khi[POOL_MAX_SP], tn[POOL_MAX_SP];

	for (int64_t bc = 0; bc < pg.n * pg.c; bc++) {
		for (int64_t o = 0; o < out_sz; o++) {
			pool_unravel(o, nsp, pg.out, oi);
			double sum = 0.0;
			uint32_t isum = 0; /* the int32 sum, wrapping */
			int64_t n_in, n_padded;
			pool_taps(&pg, oi, klo, khi, &n_in, &n_padded);
			for (int i = 0; i < nsp; i++)
				tn[i] = khi[i] - klo[i];
			for (int64_t kk = 0; kk < n_in; kk++) {
				pool_unravel(kk, nsp, tn, ki);
				int64_t off = 0;
				for (int i = 0; i < nsp; i++)
					off = off * pg.in[i] + oi[i] * pg.s[i] - pg.pb[i] + (klo[i] + ki[i]) * pg.dil[i];
				if (integer)
					isum += (uint32_t)k_int_get(x->data, x->dt, bc * in_sz + off);
				else
					sum += pool_get(x, bc * in_sz + off);
			}
			/* each counted pad tap adds the zero point (wrapping, as
			 * one addition per tap would) */
			if (integer && cip)
				isum += (uint32_t)zp * (uint32_t)(n_padded - n_in);
			int64_t cnt = cip ? n_padded : n_in;
			if (integer) {
				pool_put(out[0], bc * out_sz + o,
				         (double)pool_int_avg((int32_t)isum, cnt, zp, x->dt));
				continue;
			}
			/* A window entirely in padding has nothing to average;
			 * give 0 rather than 0/0. */
			pool_put(out[0], bc * out_sz + o, cnt ? (float)(sum / (double)cnt) : 0.0f);
		}
	}
	return 0;
}

/* --------------------------------------------------------- global pools */

static int global_infer(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_in_ranked(n, 0))
		return 0;
	const ir_shape *xs = &n->in[0]->shape;
	if (pool_check_dtype(g, n, n->in[0]->dt, d))
		return -1;
	if (xs->rank < 3) {
		char b[96];
		k_error(g, n, d, "input has shape %s; expected rank 3 or more [N, C, spatial...]",
		        ir_shape_str(xs, b, sizeof b));
		return -1;
	}
	ir_shape ys = *xs;
	for (int i = 2; i < ys.rank; i++)
		ys.d[i] = 1;
	k_set_out(n, 0, n->in[0]->dt, &ys);
	return 0;
}

/* Shared eval of the global pools: `max` selects max over average.  On
 * integers as max_pool and avg_pool do it (no padding here). */
static int global_eval(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out,
                       bool max, diag_sink *d)
{
	const ir_shape *xs = &in[0]->shape;
	if (pool_check_dtype(NULL, n, in[0]->dt, d))
		return -1;
	if (xs->rank < 3 || out[0]->shape.rank != xs->rank || out[0]->dt != in[0]->dt ||
	    ir_shape_numel(&out[0]->shape) != xs->d[0] * xs->d[1]) {
		char b1[96], b2[96];
		k_error(NULL, n, d, "input %s and output %s do not match a global pool",
		        ir_shape_str(xs, b1, sizeof b1), ir_shape_str(&out[0]->shape, b2, sizeof b2));
		return -1;
	}
	const ir_tensor *x = in[0];
	bool integer = x->dt != IR_DT_F32;
	int32_t zp = 0;
	if (integer && !max && pool_zero_point(NULL, n, n->in[0], &zp, d))
		return -1;
	int64_t lo = 0, hi = 0;
	if (integer)
		ir_dtype_range(x->dt, &lo, &hi);
	int64_t sp = pool_prod(xs->d + 2, xs->rank - 2);
	int32_t rq_m = 0, rq_s = 0, zy = 0;
	int rqr = integer && !max ? pool_rq(NULL, n, &rq_m, &rq_s, &zy, d) : 0;
	if (rqr < 0)
		return -1;
	bool rq = rqr > 0;
	for (int64_t bc = 0; bc < xs->d[0] * xs->d[1]; bc++) {
		if (max) {
			double best = integer ? (double)lo : -INFINITY;
			for (int64_t i = 0; i < sp; i++) {
				double v = pool_get(x, bc * sp + i);
				if (i == 0 || v > best)
					best = v;
			}
			pool_put(out[0], bc, best);
		} else if (integer) {
			uint32_t isum = 0; /* the int32 sum, wrapping */
			for (int64_t i = 0; i < sp; i++)
				isum += (uint32_t)k_int_get(x->data, x->dt, bc * sp + i);
			if (rq) {
				isum -= (uint32_t)zp * (uint32_t)sp;
				int64_t r = (int64_t)ir_requant_apply((int32_t)isum, rq_m, rq_s) + zy;
				pool_put(out[0], bc, (double)(r < lo ? lo : r > hi ? hi : r));
				continue;
			}
			pool_put(out[0], bc, (double)pool_int_avg((int32_t)isum, sp, zp, x->dt));
		} else {
			double sum = 0.0;
			for (int64_t i = 0; i < sp; i++)
				sum += pool_get(x, bc * sp + i);
			pool_put(out[0], bc, sp ? (float)(sum / (double)sp) : 0.0f);
		}
	}
	return 0;
}

int ir_infer_global_avg_pool(ir_graph *g, ir_node *n, diag_sink *d)
{
	int32_t zp, m, s, zy;
	if (k_in_ranked(n, 0) && ir_dtype_is_qint(n->in[0]->dt) &&
	    pool_zero_point(g, n, n->in[0], &zp, d))
		return -1;
	if (global_infer(g, n, d))
		return -1;
	return k_in_ranked(n, 0) && pool_rq(g, n, &m, &s, &zy, d) < 0 ? -1 : 0;
}

int ir_eval_global_avg_pool(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out,
                            diag_sink *d)
{
	return global_eval(n, in, out, false, d);
}

int ir_infer_global_max_pool(ir_graph *g, ir_node *n, diag_sink *d)
{
	return global_infer(g, n, d);
}

int ir_eval_global_max_pool(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out,
                            diag_sink *d)
{
	return global_eval(n, in, out, true, d);
}
