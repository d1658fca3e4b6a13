/* grad_quant.c: the fake quantizer (fake_quant) in the training loop.
 * Forward: the interpreter's element rule (ir_quantize_unsat, saturated,
 * then ir_dequantize_elem), so training sees the deployed grid exactly;
 * rearranged to vectorise, and tested against it bit for bit.
 * Backward: the straight-through estimator with clipping (Bengio et al.
 * 2013; Jacob et al. 2018): dx = dy where x / scale rounds inside the
 * integer range, 0 where it saturates.  With act_ema, a training-mode
 * forward first moves a per-tensor i8/i16 grid's range toward the batch's
 * min and max (PyTorch's moving-average min-max observer). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "actquant.h"
#include "train_internal.h"

typedef struct fq_st {
	ir_dtype qt;              /* the integers of the grid */
	int64_t lo, hi;           /* their range */
	int64_t nchan, inner;     /* per-channel parameters: runs of inner elements */
	float *s;                 /* [nchan] scales, read every forward */
	int64_t *z;               /* [nchan] zero points */
	double rlo, rhi;          /* act_ema: the running range */
} fq_st;

typedef struct fq_job {
	const fq_st *st;
	const float *x, *dy;
	float *y;
	bool acc;
} fq_job;

/* 1.5 * 2^23: for |r| <= 2^22, (r + M) - M is r rounded to an integer,
 * half to even (the sum's last place is 1 and M is even), as nearbyint
 * rounds in the default mode; the grids' integers lie far inside. */
#define ROUND_MAGIC 12582912.0f

/* y = fake_quant(x) on a run of one scale and zero point: the
 * interpreter's rule (ir_quantize_unsat, saturate, ir_dequantize_elem)
 * rearranged into four-wide selects, with the same results bit for bit:
 * saturating x / s to [qlo, qhi] = [lo - zp, hi - zp] before rounding
 * changes nothing (the bounds are integers), the integers involved are
 * exact in f32, and a NaN gives 0 (the zero point, dequantized). */
static inline float fq_one(float x, float s, float qlo, float qhi)
{
	float r = x / s;
	r = r < qlo ? qlo : r;
	r = r > qhi ? qhi : r;
	float q = (r + ROUND_MAGIC) - ROUND_MAGIC;
	return q == q ? q * s : 0.0f;
}

static void fq_span(const float *x, float *y, int64_t n, float s, float qlo, float qhi)
{
	const v4f vs = {s, s, s, s}, vlo = {qlo, qlo, qlo, qlo}, vhi = {qhi, qhi, qhi, qhi};
	const v4f vm = {ROUND_MAGIC, ROUND_MAGIC, ROUND_MAGIC, ROUND_MAGIC}, zero = {0, 0, 0, 0};
	int64_t i = 0;
	for (; i + 4 <= n; i += 4) {
		v4f r = v4f_load(x + i) / vs;
		r = v4f_sel(r < vlo, vlo, r);
		r = v4f_sel(r > vhi, vhi, r);
		v4f q = (r + vm) - vm;
		v4f v = v4f_sel(q == q, q * vs, zero);
		memcpy(y + i, &v, sizeof v);
	}
	for (; i < n; i++)
		y[i] = fq_one(x[i], s, qlo, qhi);
}

/* dx (+)= dy where x / s rounds into [qlo, qhi], 0 elsewhere and on NaN
 * (saturating to one step outside first keeps the rounding exact). */
static inline float ste_one(float x, float dy, float s, float qlo, float qhi)
{
	float r = x / s;
	r = r < qlo - 1 ? qlo - 1 : r;
	r = r > qhi + 1 ? qhi + 1 : r;
	float q = (r + ROUND_MAGIC) - ROUND_MAGIC;
	return q >= qlo && q <= qhi ? dy : 0.0f;
}

static void ste_span(const float *x, const float *dy, float *dx, int64_t n, float s, float qlo,
                     float qhi, bool acc)
{
	const v4f vs = {s, s, s, s}, vlo = {qlo, qlo, qlo, qlo}, vhi = {qhi, qhi, qhi, qhi};
	const v4f one = {1, 1, 1, 1}, zero = {0, 0, 0, 0};
	const v4f vm = {ROUND_MAGIC, ROUND_MAGIC, ROUND_MAGIC, ROUND_MAGIC};
	int64_t i = 0;
	for (; i + 4 <= n; i += 4) {
		v4f r = v4f_load(x + i) / vs;
		r = v4f_sel(r < vlo - one, vlo - one, r);
		r = v4f_sel(r > vhi + one, vhi + one, r);
		v4f q = (r + vm) - vm;
		v4f g = v4f_sel((q >= vlo) & (q <= vhi), v4f_load(dy + i), zero);
		if (acc)
			g += v4f_load(dx + i);
		memcpy(dx + i, &g, sizeof g);
	}
	for (; i < n; i++) {
		float g = ste_one(x[i], dy[i], s, qlo, qhi);
		dx[i] = acc ? dx[i] + g : g;
	}
}

/* Runs of one channel's parameters within [lo, hi). */
static void fq_task(void *ctx, int tid, int64_t lo, int64_t hi, bool bwd)
{
	(void)tid;
	const fq_job *j = ctx;
	const fq_st *s = j->st;
	for (int64_t i = lo; i < hi;) {
		int64_t run = s->nchan > 1 ? i / s->inner : 0;
		int64_t end = s->nchan > 1 && (run + 1) * s->inner < hi ? (run + 1) * s->inner : hi;
		int64_t c = s->nchan > 1 ? run % s->nchan : 0;
		float qlo = (float)(s->lo - s->z[c]), qhi = (float)(s->hi - s->z[c]);
		if (bwd)
			ste_span(j->x + i, j->dy + i, j->y + i, end - i, s->s[c], qlo, qhi, j->acc);
		else
			fq_span(j->x + i, j->y + i, end - i, s->s[c], qlo, qhi);
		i = end;
	}
}

static void fq_fwd_task(void *ctx, int tid, int64_t lo, int64_t hi)
{
	fq_task(ctx, tid, lo, hi, false);
}

static void fq_bwd_task(void *ctx, int tid, int64_t lo, int64_t hi)
{
	fq_task(ctx, tid, lo, hi, true);
}

/* Read the (constant) scale and zero point operands into st. */
static void fq_params(qgt_trainer *t, const ir_node *n, fq_st *st)
{
	const float *sv = qgt_f(t, n->in[1]);
	const ir_value *z = n->nin > 2 ? n->in[2] : NULL;
	for (int64_t c = 0; c < st->nchan; c++) {
		st->s[c] = sv[c];
		st->z[c] = z ? (int64_t)ir_const_get(z, c) : 0;
	}
}

/* act_ema: move the range toward this batch's and write the grid it
 * gives back into the operands (pass_act_params: the grid quantize-act
 * derives from a range). */
static void fq_observe(qgt_trainer *t, const ir_node *n, fq_st *st)
{
	const float *x = qgt_f(t, n->in[0]);
	int64_t cnt = t->numel[n->in[0]->id];
	float mn = INFINITY, mx = -INFINITY;
	for (int64_t i = 0; i < cnt; i++) {
		mn = x[i] < mn ? x[i] : mn; /* NaN compares false: skipped */
		mx = x[i] > mx ? x[i] : mx;
	}
	if (!isfinite(mn) || !isfinite(mx))
		return;
	double m = t->cfg.act_ema;
	st->rlo += m * ((double)mn - st->rlo);
	st->rhi += m * ((double)mx - st->rhi);
	float sc;
	int32_t zp;
	pass_act_params(st->rlo, st->rhi, st->qt, &sc, &zp);
	*(float *)n->in[1]->data = sc;
	if (st->qt == IR_DT_I16)
		*(int16_t *)n->in[2]->data = (int16_t)zp;
	else
		*(int8_t *)n->in[2]->data = (int8_t)zp;
}

static int fq_fwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	fq_st *st = e->st;
	if (t->train_mode && t->cfg.act_ema > 0 && st->nchan == 1 && n->nin > 2 &&
	    (st->qt == IR_DT_I8 || st->qt == IR_DT_I16))
		fq_observe(t, n, st);
	fq_params(t, n, st);
	fq_job j = {st, qgt_f(t, n->in[0]), NULL, qgt_f(t, n->out[0]), false};
	qgt_pool_run(t->pool, t->numel[n->out[0]->id], fq_fwd_task, &j);
	return 0;
}

static int fq_bwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	fq_job j = {e->st, qgt_f(t, n->in[0]), qgt_grad_in(t, n->out[0]), NULL, false};
	j.y = qgt_grad_out(t, n->in[0], &j.acc);
	if (j.y && j.dy)
		qgt_pool_run(t->pool, t->numel[n->out[0]->id], fq_bwd_task, &j);
	return 0;
}

int qgt_plan_fake_quant(qgt_trainer *t, qgt_exec *e, size_t *tbuf)
{
	(void)tbuf;
	ir_node *n = e->n;
	const ir_value *x = n->in[0], *s = n->in[1], *z = n->nin > 2 ? n->in[2] : NULL;
	if (x->dt != IR_DT_F32 || !ir_value_is_const(s) || (z && !ir_value_is_const(z))) {
		diag_error(t->d, ir_node_loc(t->g, n), "training through fake_quant needs an f32 input "
		           "and constant scale and zero point");
		return -1;
	}
	fq_st *st = qgt_plan_alloc(t, sizeof *st);
	if (!st)
		goto oom;
	st->qt = z ? z->dt : ir_dtype_from_name(ir_attr_str(n, "dtype", "u8"));
	ir_dtype_range(st->qt, &st->lo, &st->hi);
	st->nchan = ir_shape_numel(&s->shape);
	st->inner = 1;
	if (st->nchan > 1) {
		int ax = (int)ir_attr_int(n, "axis", 1);
		ax = ax < 0 ? ax + x->shape.rank : ax;
		for (int i = ax + 1; i < x->shape.rank; i++)
			st->inner *= x->shape.d[i];
	}
	st->s = qgt_plan_alloc(t, sizeof *st->s * (size_t)st->nchan);
	st->z = qgt_plan_alloc(t, sizeof *st->z * (size_t)st->nchan);
	if (!st->s || !st->z)
		goto oom;
	fq_params(t, n, st);
	/* The running range starts as the one the grid covers, which
	 * pass_act_params maps back to the same grid. */
	if (st->qt == IR_DT_I16) {
		st->rhi = (double)st->s[0] * (double)st->hi;
		st->rlo = -st->rhi;
	} else {
		st->rlo = (double)st->s[0] * (double)(st->lo - st->z[0]);
		st->rhi = (double)st->s[0] * (double)(st->hi - st->z[0]);
	}
	e->st = st;
	e->fwd = fq_fwd;
	e->bwd = fq_bwd;
	return 0;
oom:
	diag_error(t->d, ir_node_loc(t->g, n), "out of memory");
	return -1;
}
