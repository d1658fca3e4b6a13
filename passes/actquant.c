/* actquant.c: quantize-act, the integer path for a float model (-a 8|16).
 * requires: shapes; weights quantized by `quantize` (their ir_quant codes);
 * calibration samples in o->quant.  fold-qdq must follow.
 *
 * 1. Observe: run the interpreter over the calibration samples and record
 *    the range of the input and the output of every conv, matmul and gemm
 *    whose weights are quantized constants, and of the operands and output
 *    of every add or mul of two activations, the input of every softmax
 *    (whose output takes [0, 1]), the input and output of every
 *    layer_norm with constant Scale and B; an output after a following
 *    relu or clip, which the integer op then absorbs; min-max, or from a histogram
 *    the percentile or the MSE-optimal clipping (--act-calib).  A value
 *    with a grid given keeps it: the qgt pass's, trained on with -a and
 *    handed on in the run (pass_options.handoff), else act_grids.
 * 2. Rewrite each such layer as
 *      quantize(x) -> dequantize -> op(dequantize(w as integers), bias)
 *        [-> relu/clip] -> quantize -> dequantize
 *    with the weights' codes turned into i8/u8 integers on the same grid
 *    (a gemm becomes matmul + add of its bias, which fold-qdq folds).
 *    fold-qdq then makes each layer an integer op.  Everything between
 *    layers (pooling, adds, reshapes) stays float between a dequantize and
 *    the next quantize: `--report` lists where.
 *
 * Activations: i8 asymmetric per tensor (the range always holds 0, so a
 * relu's zero is exact), or i16 symmetric (zero point 0), as TFLite's
 * int8 and 16x8 schemes.  The sites, the observers and the grid are
 * exported (actquant.h): QGT's fine-tune with -a fake-quantizes the same
 * values on the same grids.
 * keeps: shapes.  Adds nodes; the float weights it replaces become dead. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "actquant.h"
#include "calib.h"
#include "pass.h"

#define HIST_BINS 2048

/* One observed value: its range, and a histogram over it when the
 * observer needs one. */
typedef struct obs {
	ir_value *v;
	double lo, hi;
	double *hist;        /* HIST_BINS counts over [hlo, hhi] */
	double hlo, hhi;
} obs;

typedef struct obs_set {
	obs *o;
	int n;
	bool second;         /* filling histograms (second run) */
} obs_set;

static int observe(void *ctx, int k, const ir_tensor *t, int64_t valid, int64_t B)
{
	obs_set *S = ctx;
	obs *o = &S->o[k];
	int64_t n = ir_shape_numel(&t->shape) / B * valid;
	const float *x = t->data;
	if (!S->second) {
		for (int64_t i = 0; i < n; i++) {
			if (!isfinite(x[i]))
				continue;
			if (x[i] < o->lo)
				o->lo = x[i];
			if (x[i] > o->hi)
				o->hi = x[i];
		}
		return 0;
	}
	double w = (o->hhi - o->hlo) / HIST_BINS;
	for (int64_t i = 0; i < n; i++) {
		if (!isfinite(x[i]))
			continue;
		int64_t b = w > 0 ? (int64_t)((x[i] - o->hlo) / w) : 0;
		o->hist[b < 0 ? 0 : b >= HIST_BINS ? HIST_BINS - 1 : b] += 1;
	}
	return 0;
}

/* The clipping range [*lo, *hi] from o's histogram: percentile P (the
 * (100-P)th and Pth), or the one minimising the expected squared error of
 * quantizing to `levels` steps (clipping error plus step^2 / 12). */
static void hist_range(const obs *o, pass_calib how, double P, int levels, double *lo, double *hi)
{
	double tot = 0, w = (o->hhi - o->hlo) / HIST_BINS;
	for (int b = 0; b < HIST_BINS; b++)
		tot += o->hist[b];
	*lo = o->lo;
	*hi = o->hi;
	if (tot <= 0 || w <= 0)
		return;
	if (how == PASS_CALIB_PERCENTILE) {
		double want_lo = tot * (100.0 - P) / 100.0, want_hi = tot * P / 100.0, acc = 0;
		bool got_lo = false;
		for (int b = 0; b < HIST_BINS; b++) {
			acc += o->hist[b];
			if (!got_lo && acc >= want_lo) {
				*lo = o->hlo + b * w;
				got_lo = true;
			}
			if (acc >= want_hi) {
				*hi = o->hlo + (b + 1) * w;
				break;
			}
		}
		return;
	}
	/* MSE: shrink both ends toward 0 by the same factor. */
	double best = INFINITY;
	for (int s = 0; s <= 100; s++) {
		double t = 1.0 - 0.0075 * s; /* 1 .. 0.25 */
		double clo = o->lo * t, chi = o->hi * t;
		double step = (chi - clo) / (levels - 1);
		if (step <= 0)
			continue;
		double err = 0;
		for (int b = 0; b < HIST_BINS; b++) {
			if (!o->hist[b])
				continue;
			double c = o->hlo + (b + 0.5) * w;
			double e = c < clo ? clo - c : c > chi ? c - chi : 0;
			err += o->hist[b] * (e * e + (e == 0 ? step * step / 12 : 0));
		}
		if (err < best) {
			best = err;
			*lo = clo;
			*hi = chi;
		}
	}
}

ir_dtype pass_act_dtype(int act_bits)
{
	return act_bits == 16 ? IR_DT_I16 : IR_DT_I8;
}

void pass_act_params(double lo, double hi, ir_dtype dt, float *scale, int32_t *zp)
{
	lo = lo < 0 ? lo : 0;
	hi = hi > 0 ? hi : 0;
	if (dt == IR_DT_I16) {
		double m = fmax(-lo, hi);
		*scale = (float)(m > 0 ? m / 32767.0 : 1.0);
		*zp = 0;
		return;
	}
	if (hi - lo < 1e-8)
		hi = lo + 1e-8;
	*scale = (float)((hi - lo) / 255.0);
	double z = -128.0 - lo / (double)*scale;
	z = nearbyint(z);
	*zp = (int32_t)(z < -128 ? -128 : z > 127 ? 127 : z);
}

int pass_act_ranges(ir_graph *g, const pass_quant_options *qo, ir_value **vals, int n, double *lo,
                    double *hi, diag_sink *d)
{
	obs_set S = {calloc((size_t)n + 1, sizeof(obs)), n, false};
	int rc = -1;
	if (!S.o) {
		diag_error(d, NULL, "out of memory");
		return -1;
	}
	for (int k = 0; k < n; k++)
		S.o[k] = (obs){vals[k], INFINITY, -INFINITY, NULL, 0, 0};
	if (pass_calib_run(g, qo, vals, n, observe, &S, d))
		goto out;
	if (qo->act_calib != PASS_CALIB_MINMAX) {
		for (int k = 0; k < n; k++) {
			obs *ob = &S.o[k];
			ob->hlo = fmin(ob->lo, 0);
			ob->hhi = fmax(ob->hi, 0);
			if (!(ob->hist = calloc(HIST_BINS, sizeof *ob->hist))) {
				diag_error(d, NULL, "out of memory");
				goto out;
			}
		}
		S.second = true;
		if (pass_calib_run(g, qo, vals, n, observe, &S, d))
			goto out;
		for (int k = 0; k < n; k++) {
			obs *ob = &S.o[k];
			hist_range(ob, qo->act_calib, qo->act_percentile > 0 ? qo->act_percentile : 99.99,
			           qo->act_bits == 16 ? 65536 : 256, &ob->lo, &ob->hi);
		}
	}
	for (int k = 0; k < n; k++)
		if (vals[k]->producer && vals[k]->producer->op == IR_OP_SOFTMAX) {
			S.o[k].lo = 0; /* probabilities: the whole range, as TFLite */
			S.o[k].hi = 1;
		}
	for (int k = 0; k < n; k++) {
		if (!(S.o[k].lo <= S.o[k].hi)) { /* never saw a finite value */
			diag_error(d, g->src_file, "calibration saw no finite value of '%s'", vals[k]->name);
			goto out;
		}
		lo[k] = S.o[k].lo;
		hi[k] = S.o[k].hi;
	}
	rc = 0;
out:
	for (int k = 0; k < n; k++)
		free(S.o[k].hist);
	free(S.o);
	return rc;
}

/* ------------------------------------------------------------- sites */

static bool is_act(const ir_node *n)
{
	if (n->op == IR_OP_RELU)
		return true;
	/* clip with constant bounds */
	if (n->op != IR_OP_CLIP)
		return false;
	for (int j = 1; j < n->nin; j++)
		if (n->in[j] && !ir_value_is_const(n->in[j]))
			return false;
	return true;
}

/* A layer_norm the integer path can take: Scale and B f32 constants, and
 * no reader of Mean or InvStdDev. */
static bool ln_params_const(const ir_graph *g, const ir_node *n)
{
	for (int k = 1; k < n->nin; k++)
		if (n->in[k] && (!ir_value_is_const(n->in[k]) || n->in[k]->dt != IR_DT_F32))
			return false;
	for (int k = 1; k < n->nout; k++)
		if (n->out[k] && ir_value_use_count(g, n->out[k]) > 0)
			return false;
	return true;
}

/* The site of v, added when new. */
static int site_of(pass_act_plan *p, ir_value *v)
{
	for (int j = 0; j < p->nsite; j++)
		if (p->site[j].v == v)
			return j;
	p->site[p->nsite] = (pass_act_site){v, -1};
	return p->nsite++;
}

int pass_act_plan_build(ir_graph *g, int act_bits, pass_act_layer_fn is_layer, void *ctx,
                        bool through_bn, pass_act_plan *p, diag_sink *d)
{
	memset(p, 0, sizeof *p);
	p->layer = calloc((size_t)g->nnodes + 1, sizeof *p->layer);
	p->site = calloc((size_t)g->nvalues * 2 + 1, sizeof *p->site);
	if (!p->layer || !p->site) {
		pass_act_plan_free(p);
		diag_error(d, NULL, "out of memory");
		return -1;
	}
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		ir_value *w = n->nin > 1 ? n->in[1] : NULL;
		bool lin = (n->op == IR_OP_CONV || n->op == IR_OP_CONV_TRANSPOSE || n->op == IR_OP_MATMUL ||
		            n->op == IR_OP_GEMM) &&
		           ir_value_is_const(w) && w->dt == IR_DT_F32 && is_layer(n, ctx);
		/* adds, muls and matmuls of two activations (residuals, gates,
		 * attention) */
		bool elt = (n->op == IR_OP_ADD || n->op == IR_OP_MUL || n->op == IR_OP_MATMUL) && w &&
		           !ir_value_is_const(w) && !ir_value_is_const(n->in[0]) && w->dt == IR_DT_F32;
		/* softmax: its output's range is [0, 1] whatever the data */
		bool smx = n->op == IR_OP_SOFTMAX && !ir_value_is_const(n->in[0]);
		/* layer_norm with constant Scale and B (the integer layer_norm) */
		bool lnm = n->op == IR_OP_LAYER_NORM && !ir_value_is_const(n->in[0]) && ln_params_const(g, n);
		if ((!lin && !elt && !smx && !lnm) || n->in[0]->dt != IR_DT_F32)
			continue;
		pass_act_layer *l = &p->layer[p->nlayer++];
		l->n = n;
		ir_value *y = n->out[0];
		/* matmul's bias add (from a gemm), a live batchnorm, then an
		 * activation */
		ir_node *u = ir_value_sole_user(g, y);
		if (pass_matmul_bias(n, u)) {
			y = u->out[0];
			u = ir_value_sole_user(g, y);
		}
		if (n->op == IR_OP_MATMUL && pass_matmul_scale(u, y) > 0) {
			y = u->out[0];
			u = ir_value_sole_user(g, y);
		}
		if (through_bn && lin && u && u->op == IR_OP_BATCHNORM && u->in[0] == y) {
			y = u->out[0];
			u = ir_value_sole_user(g, y);
		}
		if (u && is_act(u) && n->op != IR_OP_MUL && n->op != IR_OP_SOFTMAX && !lnm) {
			l->act = u;
			y = u->out[0];
		}
		l->in = site_of(p, n->in[0]);
		l->out = site_of(p, y);
		if (elt)
			(void)site_of(p, w);
	}
	/* A layer input reached from a site through max pools, relus and
	 * reshapes takes that site's grid: those ops then run on the integers
	 * and no requantization sits between the layers (averages keep their
	 * own range: their outputs are narrower). */
	for (int k = 0; k < p->nsite; k++) {
		ir_value *v = p->site[k].v;
		bool shared = false;
		while (v->producer && ir_node_keeps_quant(v->producer) &&
		       v->producer->op != IR_OP_AVG_POOL && v->producer->op != IR_OP_GLOBAL_AVG_POOL &&
		       v->producer->nin > 0 && v->producer->in[0] && v->producer->in[0]->dt == IR_DT_F32) {
			v = v->producer->in[0];
			int j = 0;
			while (j < k && p->site[j].v != v)
				j++;
			if (j < k) {
				p->site[k].share = p->site[j].share >= 0 ? p->site[j].share : j;
				shared = true;
				break;
			}
		}
		/* A walk that ends at a concat's output makes it a site, whose
		 * grid site k takes (the ops between then run on its integers:
		 * ShuffleNet's channel shuffle and chunks).  A concat's output
		 * that is a site, and an average where a walk ends, make their
		 * inputs sites (a concat's are requantized to its grid), else
		 * they would stay in float.  Sites added here are walked in
		 * turn. */
		ir_node *e = v->producer;
		if (shared || !e || e->dead)
			continue;
		if (e->op == IR_OP_CONCAT && v != p->site[k].v) {
			int j = site_of(p, v);
			p->site[k].share = p->site[j].share >= 0 ? p->site[j].share : j;
			continue;
		}
		if (e->op != IR_OP_AVG_POOL && e->op != IR_OP_GLOBAL_AVG_POOL && e->op != IR_OP_CONCAT)
			continue;
		for (int j = 0; j < (e->op == IR_OP_CONCAT ? e->nin : 1); j++)
			if (e->in[j] && e->in[j]->dt == IR_DT_F32 && !ir_value_is_const(e->in[j]))
				(void)site_of(p, e->in[j]);
	}
	return 0;
}

void pass_act_plan_free(pass_act_plan *p)
{
	free(p->site);
	free(p->layer);
	memset(p, 0, sizeof *p);
}

/* ------------------------------------------------------------ rewrite */

static ir_value *cst(ir_graph *g, const char *base, ir_dtype dt, int64_t n, bool scalar,
                     const void *data)
{
	ir_shape s = ir_shape_make(scalar ? 0 : 1, &n);
	return ir_graph_add_const(g, ir_graph_unique_name(g, base), dt, &s, data);
}

/* node op(in...) -> fresh value named base; NULL when out of memory. */
static ir_value *add(ir_graph *g, ir_op op, const char *base, int nin, ir_value **in)
{
	ir_value *y = ir_graph_add_value(g, ir_graph_unique_name(g, base), IR_DT_UNDEF, NULL);
	if (!y || !ir_graph_add_node(g, op, "", nin, in, 1, &y))
		return NULL;
	return y;
}

/* quantize(v) -> dequantize -> dst (dst a value without a producer, or
 * NULL: a fresh one): the float value v as it is stored between integer
 * layers.  Returns the dequantized value. */
static ir_value *qdq(ir_graph *g, ir_value *v, ir_value *dst, ir_dtype dt, float scale, int32_t zp)
{
	int16_t z16 = (int16_t)zp;
	int8_t z8 = (int8_t)zp;
	char *b = ir_arena_printf(g->arena, "%s.q", v->name);
	ir_value *s = cst(g, ir_arena_printf(g->arena, "%s.scale", v->name), IR_DT_F32, 1, true, &scale);
	ir_value *z = cst(g, ir_arena_printf(g->arena, "%s.zp", v->name), dt, 1, true,
	                  dt == IR_DT_I16 ? (const void *)&z16 : (const void *)&z8);
	ir_value *in[3] = {v, s, z};
	ir_value *q = s && z ? add(g, IR_OP_QUANTIZE, b, 3, in) : NULL;
	if (!q)
		return NULL;
	ir_value *din[3] = {q, s, z};
	if (!dst)
		return add(g, IR_OP_DEQUANTIZE, ir_arena_printf(g->arena, "%s.dq", v->name), 3, din);
	return ir_graph_add_node(g, IR_OP_DEQUANTIZE, "", 3, din, 1, &dst) ? dst : NULL;
}

/* The integer form of a quantized weight w (data DQ(w), quant codes):
 * integers on the same grid and their per-channel scale and zero point,
 * so that DQ(w) = scale[c] * (int - zp[c]) exactly.  A codebook's levels
 * are learned reals with no common grid: each channel's are rounded to
 * int8 at scale max |level| / 127 (at most 1/254 of the largest level
 * off), so that channel's weights become those integers, stored at 8 bits.
 * pow2 codes of 5 bits or more keep their seven largest magnitudes and
 * round the smaller ones to 0.  Returns the dequantize of the integers,
 * or NULL after reporting. */
static ir_value *int_weight(ir_graph *g, ir_node *n, ir_value *w, diag_sink *d)
{
	const ir_quant *q = w->quant;
	int64_t cnt = ir_shape_numel(&w->shape);
	int nchan = q->nchan;
	int64_t inner = 1;
	if (q->axis >= 0)
		for (int i = q->axis + 1; i < w->shape.rank; i++)
			inner *= w->shape.d[i];
	int b = q->bits, half = 1 << (b - 1);
	bool u8 = q->scheme == IR_QS_AFFINE;
	float *sc = ir_arena_alloc(g->arena, sizeof(float) * (size_t)nchan);
	int32_t *zp = ir_arena_alloc(g->arena, sizeof(int32_t) * (size_t)nchan);
	uint8_t *iv = ir_arena_alloc(g->arena, (size_t)(cnt ? cnt : 1));
	if (!sc || !zp || !iv) {
		diag_error(d, NULL, "out of memory");
		return NULL;
	}
	int mmax = half - 1, pw = 0; /* pow2: w = +-scale * 2^-(m-1) = scale' * +-2^(mmax-m) */
	switch (q->scheme) {
	case IR_QS_AFFINE:
	case IR_QS_SYMMETRIC:
	case IR_QS_BINARY:
	case IR_QS_TERNARY:
	case IR_QS_CODEBOOK:
		break;
	case IR_QS_POW2:
		/* up to 4 bits every level is 2^k for k <= 6; wider codes keep
		 * the seven largest magnitudes (the unit is 2^-6 of the largest)
		 * and round the smaller ones, under half a unit, to 0 */
		pw = mmax - 1 > 6 ? 6 : mmax - 1;
		break;
	default:
		diag_error(d, ir_node_loc(g, n), "weight '%s': %s weights have no integer grid; the "
		           "integer path (-a) takes affine, symmetric, pow2, binary, ternary or codebook",
		           w->name, ir_qscheme_name(q->scheme));
		return NULL;
	}
	bool cb = q->scheme == IR_QS_CODEBOOK;
	/* codebook levels and the smallest of wide pow2 codes are rounded */
	bool exact = !cb && !(q->scheme == IR_QS_POW2 && mmax - 1 > 6);
	int K = 1 << b;
	for (int c = 0; c < nchan; c++) {
		if (cb) {
			float mx = 0;
			for (int j = 0; j < K; j++)
				mx = fmaxf(mx, fabsf(q->levels[c * K + j]));
			sc[c] = mx > 0 ? mx / 127.0f : 1.0f;
		} else {
			sc[c] = q->scheme == IR_QS_POW2 ? ldexpf(q->scale[c], -pw) : q->scale[c];
		}
		zp[c] = u8 ? q->zero_point[c] : 0;
	}
	for (int64_t i = 0; i < cnt; i++) {
		int code = q->codes[i], v;
		switch (q->scheme) {
		case IR_QS_AFFINE: v = code; break;
		case IR_QS_BINARY: v = code ? 1 : -1; break;
		case IR_QS_TERNARY: v = code - 2; break;
		case IR_QS_POW2: {
			int m = code & mmax, s = code >> (b - 1), e = pw + 1 - m; /* level / unit = 2^e */
			v = m && e >= 0 ? (s ? -1 : 1) * (1 << e) : 0;
			break;
		}
		case IR_QS_CODEBOOK: {
			int c = nchan > 1 ? (int)((i / inner) % nchan) : 0;
			v = (int)lrintf(q->levels[c * K + code] / sc[c]);
			v = v < -127 ? -127 : v > 127 ? 127 : v;
			break;
		}
		default: v = code - half; break; /* symmetric */
		}
		iv[i] = (uint8_t)v; /* two's complement for i8 */
	}
	/* The grid must be exact: the integer op computes with these (the
	 * rounded levels are the integer grid where they are rounded). */
	for (int64_t i = 0; exact && i < cnt; i++) {
		int c = nchan > 1 ? (int)((i / inner) % nchan) : 0;
		int v = u8 ? iv[i] : (int8_t)iv[i];
		float dq = (v - (float)zp[c]) * sc[c];
		if (dq != ((const float *)w->data)[i]) {
			diag_error(d, ir_node_loc(g, n), "internal error: weight '%s' element %lld is %g, "
			           "its integer form gives %g", w->name, (long long)i,
			           (double)((const float *)w->data)[i], (double)dq);
			return NULL;
		}
	}
	ir_dtype dt = u8 ? IR_DT_U8 : IR_DT_I8;
	ir_value *wi = ir_graph_add_const(g, ir_graph_unique_name(g, ir_arena_printf(g->arena, "%s.int", w->name)),
	                                  dt, &w->shape, iv);
	uint8_t zb[nchan];
	for (int c = 0; c < nchan; c++)
		zb[c] = (uint8_t)zp[c];
	ir_value *s = cst(g, ir_arena_printf(g->arena, "%s.scale", w->name), IR_DT_F32, nchan, nchan == 1, sc);
	ir_value *z = cst(g, ir_arena_printf(g->arena, "%s.zp", w->name), dt, nchan, nchan == 1, zb);
	ir_value *in[3] = {wi, s, z};
	ir_value *y = wi && s && z ? add(g, IR_OP_DEQUANTIZE, ir_arena_printf(g->arena, "%s.dq", w->name), 3, in) : NULL;
	if (y && nchan > 1)
		ir_node_set_int(g, y->producer, "axis", q->axis);
	return y;
}

ir_value *pass_matmul_bias(const ir_node *n, const ir_node *u)
{
	if (!u || n->op != IR_OP_MATMUL || u->op != IR_OP_ADD || u->nin != 2 || !n->out[0] || n->nin < 2 ||
	    !n->in[1])
		return NULL;
	const ir_shape *ws = &n->in[1]->shape;
	int64_t m = ws->rank >= 2 ? ws->d[ws->rank - 1] : 1;
	for (int j = 0; j < 2; j++) {
		ir_value *c = u->in[j];
		const ir_node *dq = c ? c->producer : NULL;
		bool cst = c && (ir_value_is_const(c) || (dq && dq->op == IR_OP_DEQUANTIZE && dq->nin > 0 &&
		                                           ir_value_is_const(dq->in[0])));
		if (u->in[1 - j] != n->out[0] || !cst)
			continue;
		if (ir_shape_numel(&c->shape) == m && c->shape.rank >= 1 && c->shape.rank <= 2 &&
		    c->shape.d[c->shape.rank - 1] == m)
			return c;
	}
	return NULL;
}

double pass_matmul_scale(const ir_node *u, const ir_value *v)
{
	if (!u || !v || u->nin != 2 || !u->in[0] || !u->in[1] || (u->op != IR_OP_MUL && u->op != IR_OP_DIV))
		return 0;
	for (int j = 0; j < 2; j++) {
		const ir_value *c = u->in[j];
		if (u->in[1 - j] != v || (u->op == IR_OP_DIV && j == 0) || !ir_value_is_const(c) || !c->data ||
		    c->dt != IR_DT_F32 || ir_shape_numel(&c->shape) != 1 || c->shape.rank > u->out[0]->shape.rank)
			continue;
		double f = ir_const_get(c, 0);
		if (!(f > 0) || !isfinite(f))
			return 0;
		return u->op == IR_OP_DIV ? 1.0 / f : f;
	}
	return 0;
}

int pass_gemm_as_matmul(ir_graph *g, ir_node *n, ir_value *w)
{
	ir_value *c = n->nin > 2 ? n->in[2] : NULL;
	ir_value *y = n->out[0];
	n->op = IR_OP_MATMUL;
	n->in[1] = w;
	n->nin = 2;
	n->nattr = 0;
	if (!c)
		return 0;
	ir_value *mm = ir_graph_add_value(g, ir_graph_unique_name(g, ir_arena_printf(g->arena, "%s.mm", y->name)),
	                                  IR_DT_UNDEF, NULL);
	if (!mm)
		return -1;
	n->out[0] = mm;
	mm->producer = n;
	ir_value *ain[2] = {mm, c};
	y->producer = NULL;
	ir_node *a = ir_graph_add_node(g, IR_OP_ADD, n->name, 2, ain, 1, &y);
	if (!a)
		return -1;
	a->src_op = n->src_op;
	a->src_index = n->src_index;
	return 0;
}

/* gemm(x, W, C) with alpha = beta = 1, trans_a = 0 and a quantized
 * constant W becomes matmul(x, W') [+ C] with W' = [K, N]; its codes are
 * transposed with it.  1 done, 0 not a gemm of that form, -1 error. */
static int gemm_to_matmul(ir_graph *g, ir_node *n, diag_sink *d)
{
	ir_value *w = n->in[1];
	if (ir_attr_float(n, "alpha", 1.0f) != 1.0f || ir_attr_float(n, "beta", 1.0f) != 1.0f ||
	    ir_attr_int(n, "trans_a", 0) != 0 || w->shape.rank != 2 || !w->quant || !w->quant->codes)
		return 0;
	if (ir_attr_int(n, "trans_b", 0)) {
		int64_t N = w->shape.d[0], K = w->shape.d[1];
		float *t = ir_arena_alloc(g->arena, sizeof(float) * (size_t)(N * K));
		uint8_t *tc = ir_arena_alloc(g->arena, (size_t)(N * K));
		ir_quant *q = ir_arena_alloc(g->arena, sizeof *q);
		if (!t || !tc || !q) {
			diag_error(d, NULL, "out of memory");
			return -1;
		}
		for (int64_t i = 0; i < N; i++)
			for (int64_t k = 0; k < K; k++) {
				t[k * N + i] = ((const float *)w->data)[i * K + k];
				tc[k * N + i] = w->quant->codes[i * K + k];
			}
		*q = *w->quant;
		q->codes = tc;
		q->packed = NULL;
		q->packed_bytes = 0;
		if (q->axis >= 0)
			q->axis = 1 - q->axis;
		int64_t d2[2] = {K, N};
		ir_shape s = ir_shape_make(2, d2);
		ir_value *wt = ir_graph_add_const(g, ir_graph_unique_name(g, ir_arena_printf(g->arena, "%s.T", w->name)),
		                                  IR_DT_F32, &s, t);
		if (!wt)
			return -1;
		wt->quant = q;
		w = wt;
	}
	return pass_gemm_as_matmul(g, n, w) ? -1 : 1;
}

/* quantize-act's layers: conv and matmul whose weights `quantize`
 * quantized (gemms are matmuls by then). */
static bool quantized_layer(const ir_node *n, void *ctx)
{
	(void)ctx;
	const ir_value *w = n->in[1];
	return n->op != IR_OP_GEMM && w->quant && w->quant->codes;
}

/* A node of reduce_mean n's rewrite, named and sourced as n (in reports
 * and profiles), writing y. */
static ir_node *mean_node(ir_graph *g, const ir_node *n, ir_op op, int nin, ir_value **in, ir_value *y)
{
	ir_node *s = ir_graph_add_node(g, op, n->name, nin, in, 1, &y);
	if (s) {
		s->src_op = n->src_op;
		s->src_index = n->src_index;
	}
	return s;
}

/* A step op(in...) of n's rewrite into a fresh value named after n's
 * output and tag; NULL when out of memory. */
static ir_value *mean_step(ir_graph *g, const ir_node *n, ir_op op, const char *tag, int nin, ir_value **in)
{
	ir_value *y = ir_graph_add_value(
		g, ir_graph_unique_name(g, ir_arena_printf(g->arena, "%s.%s", n->out[0]->name, tag)), IR_DT_UNDEF, NULL);
	return y && mean_node(g, n, op, nin, in, y) ? y : NULL;
}

/* reduce_mean is a global average pool, the form the integer path runs:
 * over every spatial axis (x.mean([2, 3]) in PyTorch) as it is, [+ a
 * flatten when keepdims is 0]; over other axes (a transformer's mean over
 * its tokens, x.mean(1) on [N, T, C]) after a transpose that puts them
 * last and a reshape to [kept..., last kept, reduced], then a reshape to
 * the output's shape.  The transpose and reshapes run on the integers.
 * 1 done, 0 not that, -1 out of memory. */
static int mean_as_gap(ir_graph *g, ir_node *n)
{
	ir_value *x = n->in[0], *ax = n->nin > 1 ? n->in[1] : NULL, *y = n->out[0];
	int r = x->shape.rank;
	int64_t na = ax ? ir_shape_numel(&ax->shape) : 0;
	if (x->dt != IR_DT_F32 || r < 2 || r > IR_MAX_RANK || !ax || !ir_value_is_const(ax) || !ax->data ||
	    na < 1 || na >= r)
		return 0;
	bool red[IR_MAX_RANK] = {false}, spatial = r >= 3 && na == r - 2;
	for (int64_t k = 0; k < na; k++) {
		int64_t a = ir_const_get(ax, k);
		a = a < 0 ? a + r : a;
		if (a < 0 || a >= r || red[a])
			return 0;
		red[a] = true;
		spatial = spatial && a >= 2;
	}
	bool keep = ir_attr_int(n, "keepdims", 1) != 0;
	ir_value *in = x, *os = NULL; /* the pool's input; the shape of the reshape after it */
	if (!spatial) {
		/* kept axes, then the reduced ones (the reshapes need every extent) */
		if (!ir_shape_known(&x->shape) || !ir_shape_known(&y->shape))
			return 0;
		int64_t perm[IR_MAX_RANK], s3[3] = {1, 1, 1}; /* [kept..., last kept, reduced] */
		int np = 0, nk = r - (int)na;
		bool ident = true;
		for (int a = 0; a < r; a++)
			if (!red[a])
				perm[np++] = a;
		for (int a = 0; a < r; a++)
			if (red[a])
				perm[np++] = a;
		for (int k = 0; k < r; k++) {
			s3[k < nk - 1 ? 0 : k == nk - 1 ? 1 : 2] *= x->shape.d[perm[k]];
			ident = ident && perm[k] == k;
		}
		if (!ident) {
			if (!(in = mean_step(g, n, IR_OP_TRANSPOSE, "perm", 1, &in)))
				return -1;
			ir_node_set_ints(g, in->producer, "perm", perm, r);
		}
		ir_value *sv = cst(g, ir_arena_printf(g->arena, "%s.shape3", y->name), IR_DT_I64, 3, false, s3);
		os = cst(g, ir_arena_printf(g->arena, "%s.shape", y->name), IR_DT_I64, y->shape.rank, false, y->shape.d);
		ir_value *rin[2] = {in, sv};
		if (!sv || !os || !(in = mean_step(g, n, IR_OP_RESHAPE, "r3", 2, rin)))
			return -1;
	}
	n->op = IR_OP_GLOBAL_AVG_POOL;
	n->in[0] = in;
	n->nin = 1;
	n->nattr = 0;
	if (spatial && keep)
		return 1;
	/* a flatten (spatial) or a reshape to y's shape takes the pool's output */
	ir_value *t = ir_graph_add_value(g, ir_graph_unique_name(g, ir_arena_printf(g->arena, "%s.gap", y->name)),
	                                 IR_DT_UNDEF, NULL);
	if (!t)
		return -1;
	n->out[0] = t;
	t->producer = n;
	y->producer = NULL;
	ir_value *tin[2] = {t, os};
	ir_node *e = mean_node(g, n, spatial ? IR_OP_FLATTEN : IR_OP_RESHAPE, spatial ? 1 : 2, tin, y);
	if (!e)
		return -1;
	if (spatial)
		ir_node_set_int(g, e, "axis", 1);
	return 1;
}

int pass_quantize_act(ir_graph *g, const pass_options *o, diag_sink *d)
{
	const pass_quant_options *qo = o ? o->quant : NULL;
	if (!qo || !qo->act_bits)
		return 0;
	/* The grids the qgt pass trained on, handed on in this run. */
	pass_quant_options trained;
	if (o->handoff && o->handoff->nacts) {
		trained = *qo;
		trained.act_grids = o->handoff->acts;
		trained.n_act_grids = o->handoff->nacts;
		qo = &trained;
	}
	ir_dtype adt = pass_act_dtype(qo->act_bits);
	/* A model that quantizes at run time (ONNX Runtime's quantize_dynamic:
	 * DynamicQuantizeLinear's scale is computed) keeps its own scheme:
	 * calibration cannot give a fixed grid to a value whose grid changes
	 * with every input. */
	for (int i = 0; i < g->nnodes; i++) {
		const ir_node *q = g->nodes[i];
		if (!q->dead && q->op == IR_OP_QUANTIZE && q->in[1]->kind == IR_VAL_ACT) {
			diag_warn(d, ir_node_loc(g, q), "-a %d: the model quantizes at run time (the scale of '%s' is "
			          "computed); its activations keep that scheme and are not calibrated",
			          qo->act_bits, q->out[0]->name);
			return 0;
		}
	}
	if (!qo->calib_x && !qo->n_act_grids) {
		/* A model quantized already (QDQ) needs no calibration. */
		for (int i = 0; i < g->nnodes; i++)
			if (!g->nodes[i]->dead && g->nodes[i]->op == IR_OP_QUANTIZE)
				return 0;
		diag_error(d, g->src_file, "-a %d needs calibration data (--calib-data), or a model "
		           "whose activations are quantized already (QDQ)", qo->act_bits);
		return -1;
	}
	if (ir_graph_toposort(g, d) || ir_infer_shapes(g, d))
		return -1;
	/* Gemms with quantized weights become matmul (+ add); spatial means
	 * global average pools. */
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (!n->dead && n->op == IR_OP_GEMM && ir_value_is_const(n->in[1]) && gemm_to_matmul(g, n, d) < 0)
			return -1;
		if (!n->dead && n->op == IR_OP_REDUCE_MEAN && mean_as_gap(g, n) < 0) {
			diag_error(d, NULL, "out of memory");
			return -1;
		}
	}
	if (ir_graph_toposort(g, d) || ir_infer_shapes(g, d))
		return -1;
	/* The layers and the values to observe. */
	pass_act_plan P;
	if (pass_act_plan_build(g, qo->act_bits, quantized_layer, NULL, false, &P, d))
		return -1;
	int n = P.nsite, rc = -1;
	ir_value **vals = calloc((size_t)n + 1, sizeof *vals);
	double *lo = calloc((size_t)n + 1, sizeof *lo), *hi = calloc((size_t)n + 1, sizeof *hi);
	float *scales = calloc((size_t)n + 1, sizeof *scales);
	int32_t *zps = calloc((size_t)n + 1, sizeof *zps);
	if (!vals || !lo || !hi || !scales || !zps)
		goto oom;
	if (!P.nlayer) {
		diag_warn(d, g->src_file, "-a %d: no conv, matmul or gemm with quantized weights; "
		          "nothing runs in integers", qo->act_bits);
		rc = 0;
		goto out;
	}
	/* 1. observe what has no grid yet (a grid is a site's whose grid
	 * others share) */
	int nobs = 0;
	for (int k = 0; k < n; k++) {
		const pass_act_grid *gr = NULL;
		for (int i = 0; P.site[k].share < 0 && i < qo->n_act_grids; i++)
			if (strcmp(qo->act_grids[i].name, P.site[k].v->name) == 0)
				gr = &qo->act_grids[i];
		if (gr) {
			scales[k] = gr->scale;
			zps[k] = gr->zero_point;
		} else if (P.site[k].share < 0) {
			vals[nobs++] = P.site[k].v;
		}
	}
	if (nobs && !qo->calib_x) {
		diag_error(d, g->src_file, "-a %d: '%s' has no grid given and there is no calibration "
		           "data (--calib-data)", qo->act_bits, vals[0]->name);
		goto out;
	}
	if (nobs && pass_act_ranges(g, qo, vals, nobs, lo, hi, d))
		goto out;
	/* An empty range (the value 0 on every sample) gives no grid worth
	 * the name: whatever the value is later becomes about 0.  Said once,
	 * with the first such value, a model input first. */
	int nflat = 0, first = -1;
	for (int j = 0; j < nobs; j++)
		if (fmax(hi[j], 0) - fmin(lo[j], 0) < 1e-8) {
			nflat++;
			if (first < 0 || (vals[j]->kind == IR_VAL_INPUT && vals[first]->kind != IR_VAL_INPUT))
				first = j;
		}
	if (nflat)
		diag_warn(d, g->src_file,
		          "-a %d: %s '%s'%s is 0 on every calibration sample: its grid has an empty range, and "
		          "inference will read about 0 there whatever the input; calibrate on representative data",
		          qo->act_bits, vals[first]->kind == IR_VAL_INPUT ? "input" : "activation", vals[first]->name,
		          nflat > 1 ? ir_arena_printf(g->arena, " (and %d more values)", nflat - 1) : "");
	/* 2. rewrite: one quantize/dequantize pair per observed value. */
	for (int k = 0, j = 0; k < n; k++) {
		if (P.site[k].share < 0 && j < nobs && vals[j] == P.site[k].v) {
			pass_act_params(lo[j], hi[j], adt, &scales[k], &zps[k]);
			j++;
		}
	}
	for (int k = 0; k < n; k++) {
		if (P.site[k].share >= 0) {
			scales[k] = scales[P.site[k].share];
			zps[k] = zps[P.site[k].share];
		}
		vals[k] = P.site[k].v;
	}
	for (int k = 0; k < n; k++) {
		ir_value *v = vals[k], *dq;
		ir_node *p = v->producer;
		if (p) {
			/* The producer writes a fresh float value; v, under its own
			 * name (a graph output keeps it), becomes the dequantized one. */
			ir_value *t = ir_graph_add_value(
				g, ir_graph_unique_name(g, ir_arena_printf(g->arena, "%s.f32", v->name)),
				IR_DT_UNDEF, NULL);
			if (!t)
				goto oom;
			for (int j = 0; j < p->nout; j++)
				if (p->out[j] == v)
					p->out[j] = t;
			t->producer = p;
			v->producer = NULL;
			dq = qdq(g, t, v, adt, scales[k], zps[k]);
		} else {
			/* A graph input: its readers read the pair. */
			ir_value *tmp = ir_graph_add_value(g, ir_graph_unique_name(g, v->name), IR_DT_UNDEF, NULL);
			if (!tmp)
				goto oom;
			ir_graph_replace_uses(g, v, tmp);
			dq = qdq(g, v, NULL, adt, scales[k], zps[k]);
			if (dq)
				ir_graph_replace_uses(g, tmp, dq);
		}
		if (!dq)
			goto oom;
	}
	for (int l = 0; l < P.nlayer; l++) {
		ir_node *nd = P.layer[l].n;
		if ((nd->op != IR_OP_CONV && nd->op != IR_OP_CONV_TRANSPOSE && nd->op != IR_OP_MATMUL) ||
		    !ir_value_is_const(nd->in[1])) /* a matmul of two activations has no weight */
			continue;
		ir_value *wd = int_weight(g, nd, nd->in[1], d);
		if (!wd)
			goto out;
		nd->in[1] = wd;
	}
	rc = ir_graph_toposort(g, d) || ir_infer_shapes(g, d) ? -1 : 0;
	ir_graph_compact(g);
	goto out;
oom:
	diag_error(d, NULL, "out of memory");
out:
	free(vals);
	free(lo);
	free(hi);
	free(scales);
	free(zps);
	pass_act_plan_free(&P);
	return rc;
}

/* io-int (--io int): the model takes and returns the integers of the
 * integer path.  A float graph input read only by one quantize becomes
 * that quantize's integer output; a graph output made by a dequantize
 * becomes the dequantize's integer input.  The header states each one's
 * scale and zero point.  keeps: shapes. */
int pass_io_int(ir_graph *g, const pass_options *o, diag_sink *d)
{
	if (!o || !o->quant || !o->quant->io_int)
		return 0;
	for (int i = 0; i < g->ninputs; i++) {
		ir_value *v = g->inputs[i];
		ir_node *u = ir_value_sole_user(g, v);
		if (v->dt != IR_DT_F32 || !u || u->op != IR_OP_QUANTIZE || u->in[0] != v ||
		    !u->out[0]->quant) {
			/* the reader that keeps it float, to name; else the quantizes */
			const ir_node *r = NULL;
			int nq = 0;
			for (int k = 0; k < g->nnodes && !r; k++) {
				const ir_node *n = g->nodes[k];
				for (int j = 0; j < n->nin && !n->dead; j++)
					if (n->in[j] == v && (n->op != IR_OP_QUANTIZE || !n->out[0]->quant)) {
						r = n;
						break;
					} else if (n->in[j] == v) {
						nq++;
						break;
					}
			}
			bool named = r && r->name && *r->name;
			if (r)
				diag_error(d, g->src_file, "--io int: input '%s' is read in float (by %s%s%s%s), so "
				           "it has no integer form to take; --io int needs inputs that only a quantize reads",
				           v->name, ir_op_name(r->op), named ? " '" : "", named ? r->name : "", named ? "'" : "");
			else if (nq > 1)
				diag_error(d, g->src_file, "--io int: input '%s' is read by %d quantizes, "
				           "so it has no one integer form to take", v->name, nq);
			else
				diag_error(d, g->src_file, "--io int: input '%s' is not quantized on entry (only "
				           "a quantize reads it)", v->name);
			return -1;
		}
		ir_value *q = u->out[0];
		q->producer = NULL;
		q->kind = IR_VAL_INPUT;
		g->inputs[i] = q;
		u->dead = true;
	}
	for (int i = 0; i < g->noutputs; i++) {
		ir_value *v = g->outputs[i];
		ir_node *p = v->producer;
		if (!p || p->op != IR_OP_DEQUANTIZE || !p->in[0]->quant) {
			diag_error(d, g->src_file, "--io int: output '%s' is computed in float (by %s) "
			           "after the last integer layer; there is no integer to return",
			           v->name, p ? ir_op_name(p->op) : "no node");
			return -1;
		}
		g->outputs[i] = p->in[0];
		if (ir_value_use_count(g, v) == 0)
			p->dead = true;
	}
	ir_graph_compact(g);
	return ir_graph_toposort(g, d) || ir_infer_shapes(g, d) ? -1 : 0;
}
