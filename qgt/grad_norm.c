/* grad_norm.c: batchnorm forward and backward, in training mode (batch
 * statistics, running-statistic updates, as PyTorch's BatchNorm2d) and in
 * inference mode (running statistics, as the interpreter), with the Relu
 * and 2x2 MaxPool after it and the conv before it fused where they can;
 * and layer_norm's and instance_norm's (statistics per row, the same in
 * both modes). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "train_internal.h"

/* g where m > 0, else +0.0f (the Relu's backward), without a branch. */
static inline float relu_mask(float g, float m)
{
	uint32_t u;
	memcpy(&u, &g, sizeof u);
	u &= (uint32_t)0 - (uint32_t)(m > 0);
	memcpy(&g, &u, sizeof g);
	return g;
}

typedef struct bn_st {
	int64_t n, c, inner;
	float eps;
	float *mean, *invstd;     /* per channel, of the last forward */
	bool batch_stats;         /* last forward used batch statistics */
	ir_value *relu_out;       /* fused Relu's output, or NULL */
	ir_value *pool_out;       /* fused MaxPool's output after the Relu, or NULL */
	int64_t h, w, oh, ow;     /* with the MaxPool: plane and pooled extents */
	int32_t *arg;             /* with the MaxPool: argmax offset in the plane */
	const double *mom;        /* moments of x from the conv that makes it, or NULL */
	int mom_threads;          /* partial sums in mom */
	float *k1, *k2, *k3;      /* per channel, of the last backward: dx = k1 g - k2 - k3 (x - mean) */
	const float *bx, *bdy, *bmask; /* of the last backward: x, dy, mask as in bn_job */
	bool can_defer;           /* the conv making x takes dx from us (qgt_conv_take_dy) */
	bool deferred;            /* the last backward left dx to it */
} bn_st;

typedef struct bn_job {
	qgt_trainer *t;
	qgt_exec *e;
	bn_st *s;
	const float *x, *gamma, *beta, *dy;
	const float *mask;        /* fused Relu's (or MaxPool's) output: dy counts where > 0 */
	float *y, *r, *p, *rm, *rv, *dx, *dg, *db;  /* r, p: fused Relu's, MaxPool's output */
	float *dm, *dv;           /* running mean/var (inference mode only) */
	bool dm_acc, dv_acc;
	bool train, dx_acc, dg_acc, db_acc;
} bn_job;

/* The per-plane reductions keep 16 partial sums (four vectors, added up
 * by v4f_total): they vectorise without reassociation and add up in the
 * same order every run (the plain running sum is one long dependency
 * chain). */

/* Sum and sum of squares of x[0..n), added into s and q. */
static void plane_moments(const float *restrict x, int64_t n, double *s, double *q)
{
	v4f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, q0 = {0}, q1 = {0}, q2 = {0}, q3 = {0};
	int64_t i = 0;
	for (; i + 16 <= n; i += 16) {
		v4f a = v4f_load(x + i), b = v4f_load(x + i + 4);
		v4f c = v4f_load(x + i + 8), d = v4f_load(x + i + 12);
		s0 += a;
		s1 += b;
		s2 += c;
		s3 += d;
		q0 += a * a;
		q1 += b * b;
		q2 += c * c;
		q3 += d * d;
	}
	float ts = 0, tq = 0;
	for (; i < n; i++) {
		ts += x[i];
		tq += x[i] * x[i];
	}
	*s += v4f_total(s0, s1, s2, s3, ts);
	*q += v4f_total(q0, q1, q2, q3, tq);
}

/* dy where m > 0, else +0.0f, four at a time. */
static inline v4f v4f_relu_mask(v4f g, v4f m)
{
	return (v4f)((v4i)g & (m > (v4f){0}));
}

/* Sum of g and of g * (x - mean) over a plane, g = dy masked by the
 * fused Relu's output when m is given; added into s and q. */
static void plane_grad_sums(const float *restrict x, const float *restrict dy,
                            const float *restrict m, int64_t n, float mean, double *s, double *q)
{
	v4f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, q0 = {0}, q1 = {0}, q2 = {0}, q3 = {0};
	v4f mv = {mean, mean, mean, mean};
	int64_t i = 0;
	for (; i + 16 <= n; i += 16) {
		v4f a = v4f_load(dy + i), b = v4f_load(dy + i + 4);
		v4f c = v4f_load(dy + i + 8), d = v4f_load(dy + i + 12);
		if (m) {
			a = v4f_relu_mask(a, v4f_load(m + i));
			b = v4f_relu_mask(b, v4f_load(m + i + 4));
			c = v4f_relu_mask(c, v4f_load(m + i + 8));
			d = v4f_relu_mask(d, v4f_load(m + i + 12));
		}
		s0 += a;
		s1 += b;
		s2 += c;
		s3 += d;
		q0 += a * (v4f_load(x + i) - mv);
		q1 += b * (v4f_load(x + i + 4) - mv);
		q2 += c * (v4f_load(x + i + 8) - mv);
		q3 += d * (v4f_load(x + i + 12) - mv);
	}
	float ts = 0, tq = 0;
	for (; i < n; i++) {
		float g = m ? relu_mask(dy[i], m[i]) : dy[i];
		ts += g;
		tq += g * (x[i] - mean);
	}
	*s += v4f_total(s0, s1, s2, s3, ts);
	*q += v4f_total(q0, q1, q2, q3, tq);
}

/* One plane of the forward into out: x a + bb with batch statistics,
 * the interpreter's formula with running ones; Relu'd when fused. */
static void bn_plane(const bn_job *j, int64_t c, const float *restrict xp, float *restrict out,
                     float a, float bb, bool relu)
{
	int64_t n = j->s->inner;
	if (j->train) {
		if (relu)
			for (int64_t i = 0; i < n; i++) {
				float v = xp[i] * a + bb;
				out[i] = v < 0 ? 0.0f : v;
			}
		else
			for (int64_t i = 0; i < n; i++)
				out[i] = xp[i] * a + bb;
		return;
	}
	float m = j->rm[c], den = sqrtf(j->rv[c] + j->s->eps), g = j->gamma[c], be = j->beta[c];
	for (int64_t i = 0; i < n; i++) {
		float v = (xp[i] - m) / den * g + be;
		out[i] = relu && v < 0 ? 0.0f : v;
	}
}

/* The fused MaxPool over one Relu'd plane r: 2x2 windows, stride 2, the
 * first maximum in row-major tap order wins (strict >), as grad_elem.c's
 * maxpool does. */
static void bn_pool_plane(const bn_st *s, const float *r, float *y, int32_t *arg)
{
	/* Four windows at a time, with selects, not branches: which tap wins
	 * is a coin toss per window, and mispredicted branches cost more than
	 * the rest of the loop.  A ragged end redoes the last four windows
	 * (same values), so only rows under four windows go one by one. */
	int32_t w = (int32_t)s->w;
	for (int64_t oy = 0; oy < s->oh; oy++) {
		const float *r0 = r + 2 * oy * s->w, *r1 = r0 + s->w;
		float *yr = y + oy * s->ow;
		int32_t *ar = arg + oy * s->ow;
		for (int64_t o = 0; o < s->ow && s->ow >= 4; o += 4) {
			int64_t ox = o + 4 <= s->ow ? o : s->ow - 4;
			v4f p0 = v4f_load(r0 + 2 * ox), p1 = v4f_load(r0 + 2 * ox + 4);
			v4f q0 = v4f_load(r1 + 2 * ox), q1 = v4f_load(r1 + 2 * ox + 4);
			v4f a = V4_EVENS(p0, p1), b = V4_ODDS(p0, p1), c = V4_EVENS(q0, q1), d = V4_ODDS(q0, q1);
			v4i base = (v4i){0, 2, 4, 6} + (int32_t)(2 * oy * s->w + 2 * ox), at = base;
			v4f best = a;
			v4i m = b > best;
			best = v4f_sel(m, b, best);
			at = (m & (base + 1)) | (~m & at);
			m = c > best;
			best = v4f_sel(m, c, best);
			at = (m & (base + w)) | (~m & at);
			m = d > best;
			best = v4f_sel(m, d, best);
			at = (m & (base + w + 1)) | (~m & at);
			memcpy(yr + ox, &best, sizeof best);
			memcpy(ar + ox, &at, sizeof at);
		}
		for (int64_t ox = 0; ox < s->ow && s->ow < 4; ox++) {
			float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
			int32_t at = 0;
			float best = a;
			if (b > best) {
				best = b;
				at = 1;
			}
			if (c > best) {
				best = c;
				at = w;
			}
			if (d > best) {
				best = d;
				at = w + 1;
			}
			yr[ox] = best;
			ar[ox] = (int32_t)(2 * oy * s->w + 2 * ox) + at;
		}
	}
}

static void bn_fwd_task(void *ctx, int tid, int64_t lo, int64_t hi)
{
	bn_job *j = ctx;
	bn_st *s = j->s;
	int64_t cnt = s->n * s->inner, ohw = s->oh * s->ow;
	float mom = j->t->cfg.bn_momentum;
	for (int64_t c = lo; c < hi; c++) {
		float mean, invstd;
		if (j->train) {
			double sum = 0, sq = 0;
			if (s->mom)
				for (int th = 0; th < s->mom_threads; th++) {
					sum += s->mom[(2 * th) * s->c + c];
					sq += s->mom[(2 * th + 1) * s->c + c];
				}
			else
				for (int64_t b = 0; b < s->n; b++)
					plane_moments(j->x + (b * s->c + c) * s->inner, s->inner, &sum, &sq);
			double m = sum / (double)cnt;
			double var = sq / (double)cnt - m * m;
			if (var < 0)
				var = 0;
			mean = (float)m;
			invstd = (float)(1.0 / sqrt(var + s->eps));
			/* PyTorch: running var takes the unbiased estimate. */
			double uvar = cnt > 1 ? var * (double)cnt / (double)(cnt - 1) : var;
			j->rm[c] = (1 - mom) * j->rm[c] + mom * mean;
			j->rv[c] = (1 - mom) * j->rv[c] + mom * (float)uvar;
		} else {
			mean = j->rm[c];
			invstd = 1.0f / sqrtf(j->rv[c] + s->eps);
		}
		s->mean[c] = mean;
		s->invstd[c] = invstd;
		float a = j->gamma[c] * invstd, bb = j->beta[c] - mean * a;
		/* Fused, only the Relu (or its MaxPool) reads our output, so
		 * what it skips is not written: y with the Relu, y and the
		 * Relu's output with the MaxPool (a plane at a time in tbuf). */
		for (int64_t b = 0; b < s->n; b++) {
			int64_t pl = b * s->c + c;
			const float *xp = j->x + pl * s->inner;
			if (j->p) {
				float *r = j->t->tbuf[tid];
				bn_plane(j, c, xp, r, a, bb, true);
				bn_pool_plane(s, r, j->p + pl * ohw, s->arg + pl * ohw);
			} else if (j->r) {
				bn_plane(j, c, xp, j->r + pl * s->inner, a, bb, true);
			} else {
				bn_plane(j, c, xp, j->y + pl * s->inner, a, bb, false);
			}
		}
	}
}

static int bn_fwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	bn_st *s = e->st;
	bool train = t->train_mode && !t->cfg.bn_frozen;
	bn_job j = {.t = t, .e = e, .s = s, .x = qgt_f(t, n->in[0]), .gamma = qgt_f(t, n->in[1]),
	            .beta = qgt_f(t, n->in[2]), .y = qgt_f(t, n->out[0]), .rm = qgt_f(t, n->in[3]),
	            .rv = qgt_f(t, n->in[4]), .train = train};
	j.r = s->relu_out ? qgt_f(t, s->relu_out) : NULL;
	j.p = s->pool_out ? qgt_f(t, s->pool_out) : NULL;
	s->batch_stats = train;
	s->deferred = false;
	qgt_pool_run(t->pool, s->c, bn_fwd_task, &j);
	return 0;
}

/* With the MaxPool fused, the Relu's output gradient is the pooled one
 * dy scattered to the argmax taps, masked where the pooled output m is
 * not > 0: sums of g and g * (x - mean) over the taps, added into s, q. */
static void pooled_grad_sums(const float *restrict x, const float *restrict dy,
                             const float *restrict m, const int32_t *restrict arg, int64_t n,
                             float mean, double *s, double *q)
{
	/* Four chains: the gather keeps this scalar. */
	float as[4] = {0}, aq[4] = {0};
	int64_t i = 0;
	for (; i + 4 <= n; i += 4)
		for (int l = 0; l < 4; l++) {
			float g = relu_mask(dy[i + l], m[i + l]);
			as[l] += g;
			aq[l] += g * (x[arg[i + l]] - mean);
		}
	float ts = 0, tq = 0;
	for (; i < n; i++) {
		float g = relu_mask(dy[i], m[i]);
		ts += g;
		tq += g * (x[arg[i]] - mean);
	}
	*s += (double)(((as[0] + as[1]) + (as[2] + as[3])) + ts);
	*q += (double)(((aq[0] + aq[1]) + (aq[2] + aq[3])) + tq);
}

/* dx of sample b, channel c into dp (added with acc), from the
 * constants of the last backward.  With the MaxPool fused: the terms
 * without g for every element, then the argmax taps, where g lives,
 * redone whole (so each value is computed as without the fusion). */
static void bn_dx_plane(const bn_st *s, int64_t b, int64_t c, float *restrict dp, bool acc)
{
	float mean = s->mean[c], k1 = s->k1[c], k2 = s->k2[c], k3 = s->k3[c];
	int64_t pl = b * s->c + c;
	const float *restrict xp = s->bx + pl * s->inner;
	if (s->pool_out) {
		int64_t ohw = s->oh * s->ow;
		const float *gp = s->bdy + pl * ohw, *mp = s->bmask + pl * ohw;
		const int32_t *ap = s->arg + pl * ohw;
		if (!s->batch_stats) {
			if (!acc)
				memset(dp, 0, sizeof(float) * (size_t)s->inner);
			for (int64_t o = 0; o < ohw; o++)
				dp[ap[o]] += k1 * relu_mask(gp[o], mp[o]);
			return;
		}
		if (acc) {
			for (int64_t i = 0; i < s->inner; i++)
				dp[i] += -k2 - k3 * (xp[i] - mean);
			for (int64_t o = 0; o < ohw; o++)
				dp[ap[o]] += k1 * relu_mask(gp[o], mp[o]);
			return;
		}
		for (int64_t i = 0; i < s->inner; i++)
			dp[i] = -k2 - k3 * (xp[i] - mean);
		for (int64_t o = 0; o < ohw; o++) {
			int32_t at = ap[o];
			dp[at] = k1 * relu_mask(gp[o], mp[o]) - k2 - k3 * (xp[at] - mean);
		}
		return;
	}
	const float *restrict gp = s->bdy + pl * s->inner;
	const float *restrict mp = s->bmask ? s->bmask + pl * s->inner : NULL;
	if (mp && s->batch_stats && !acc) {
		for (int64_t i = 0; i < s->inner; i++)
			dp[i] = k1 * relu_mask(gp[i], mp[i]) - k2 - k3 * (xp[i] - mean);
	} else if (mp) {
		for (int64_t i = 0; i < s->inner; i++) {
			float g = relu_mask(gp[i], mp[i]);
			float v = s->batch_stats ? k1 * g - k2 - k3 * (xp[i] - mean) : k1 * g;
			dp[i] = acc ? dp[i] + v : v;
		}
	} else if (s->batch_stats) {
		for (int64_t i = 0; i < s->inner; i++) {
			float v = k1 * gp[i] - k2 - k3 * (xp[i] - mean);
			dp[i] = acc ? dp[i] + v : v;
		}
	} else {
		for (int64_t i = 0; i < s->inner; i++) {
			float v = k1 * gp[i];
			dp[i] = acc ? dp[i] + v : v;
		}
	}
}

static ir_node *sole_user(const ir_graph *g, const ir_value *v);

/* qgt_dy_src hooks: the conv before us reads dx a plane at a time. */
static bool bn_dy_deferred(const void *ctx)
{
	return ((const bn_st *)ctx)->deferred;
}

static void bn_dy_plane(const void *ctx, int64_t b, int64_t c, float *out)
{
	bn_dx_plane(ctx, b, c, out, false);
}

static void bn_bwd_task(void *ctx, int tid, int64_t lo, int64_t hi)
{
	(void)tid;
	bn_job *j = ctx;
	bn_st *s = j->s;
	double cnt = (double)(s->n * s->inner);
	for (int64_t c = lo; c < hi; c++) {
		float mean = s->mean[c], is = s->invstd[c];
		double sdy = 0, sdyx = 0;
		int64_t ohw = s->oh * s->ow;
		for (int64_t b = 0; b < s->n; b++) {
			int64_t pl = b * s->c + c;
			if (s->pool_out)
				pooled_grad_sums(j->x + pl * s->inner, j->dy + pl * ohw, j->mask + pl * ohw,
				                 s->arg + pl * ohw, ohw, mean, &sdy, &sdyx);
			else
				plane_grad_sums(j->x + pl * s->inner, j->dy + pl * s->inner,
				                j->mask ? j->mask + pl * s->inner : NULL, s->inner, mean, &sdy,
				                &sdyx);
		}
		float dbeta = (float)sdy, dgamma = (float)(sdyx * is);
		if (j->dg)
			j->dg[c] = j->dg_acc ? j->dg[c] + dgamma : dgamma;
		if (j->db)
			j->db[c] = j->db_acc ? j->db[c] + dbeta : dbeta;
		/* Inference mode reads the running statistics: y = (x - m) g is + b
		 * gives dm = -g is sum dy, dv = -g is^3 / 2 sum dy (x - m).  With
		 * batch statistics they do not touch the output. */
		float gm = s->batch_stats ? 0.0f : -j->gamma[c] * is;
		if (j->dm)
			j->dm[c] = (j->dm_acc ? j->dm[c] : 0) + gm * (float)sdy;
		if (j->dv)
			j->dv[c] = (j->dv_acc ? j->dv[c] : 0) + gm * 0.5f * is * is * (float)sdyx;
		float gs = j->gamma[c] * is;
		s->k1[c] = gs;
		s->k2[c] = s->batch_stats ? (float)(gs * sdy / cnt) : 0.0f;
		s->k3[c] = s->batch_stats ? (float)(gs * dgamma / cnt) * is : 0.0f;
		if (!j->dx || s->deferred)
			continue;
		for (int64_t b = 0; b < s->n; b++)
			bn_dx_plane(s, b, c, j->dx + (b * s->c + c) * s->inner, j->dx_acc);
	}
}

static int bn_bwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	bn_st *s = e->st;
	bn_job j = {.t = t, .e = e, .s = s, .x = qgt_f(t, n->in[0]), .gamma = qgt_f(t, n->in[1]),
	            .beta = qgt_f(t, n->in[2]), .dy = qgt_grad_in(t, n->out[0])};
	s->deferred = false;
	if (s->pool_out) {
		/* The fused MaxPool left its output gradient for us to route
		 * to the argmax taps and mask. */
		j.dy = qgt_grad_in(t, s->pool_out);
		j.mask = qgt_f(t, s->pool_out);
		if (!j.dy)
			return 0;
	} else if (s->relu_out) {
		/* The fused Relu left its output gradient for us to mask. */
		j.dy = qgt_grad_in(t, s->relu_out);
		j.mask = qgt_f(t, s->relu_out);
		if (!j.dy)
			return 0;
	}
	j.dx = qgt_grad_out(t, n->in[0], &j.dx_acc);
	/* The conv before us computes dx itself, a plane at a time, when it
	 * is the only one to read it. */
	s->deferred = s->can_defer && j.dx && !j.dx_acc;
	s->bx = j.x;
	s->bdy = j.dy;
	s->bmask = j.mask;
	j.dg = qgt_grad_out(t, n->in[1], &j.dg_acc);
	j.db = qgt_grad_out(t, n->in[2], &j.db_acc);
	j.dm = qgt_grad_out(t, n->in[3], &j.dm_acc);
	j.dv = qgt_grad_out(t, n->in[4], &j.dv_acc);
	qgt_pool_run(t->pool, s->c, bn_bwd_task, &j);
	return 0;
}

int qgt_plan_batchnorm(qgt_trainer *t, qgt_exec *e, size_t *tbuf)
{
	ir_node *n = e->n;
	for (int k = 3; k < 5; k++)
		if (n->in[k]->kind != IR_VAL_CONST || !n->in[k]->data) {
			diag_error(t->d, ir_node_loc(t->g, n), "running %s must be a constant to train",
			           k == 3 ? "mean" : "var");
			return -1;
		}
	for (int k = 1; k < 3; k++)
		if (n->in[k]->kind != IR_VAL_CONST && e->run_bwd) {
			diag_error(t->d, ir_node_loc(t->g, n), "batchnorm %s must be a constant to train",
			           k == 1 ? "scale" : "bias");
			return -1;
		}
	bn_st *s = qgt_plan_alloc(t, sizeof *s);
	if (!s)
		return -1;
	const ir_shape *xs = &n->in[0]->shape;
	s->n = xs->d[0];
	s->c = xs->d[1];
	s->inner = 1;
	for (int i = 2; i < xs->rank; i++)
		s->inner *= xs->d[i];
	s->eps = ir_attr_float(n, "epsilon", 1e-5f);
	s->mean = qgt_plan_alloc(t, sizeof(float) * (size_t)s->c);
	s->invstd = qgt_plan_alloc(t, sizeof(float) * (size_t)s->c);
	s->k1 = qgt_plan_alloc(t, sizeof(float) * (size_t)s->c);
	s->k2 = qgt_plan_alloc(t, sizeof(float) * (size_t)s->c);
	s->k3 = qgt_plan_alloc(t, sizeof(float) * (size_t)s->c);
	if (!s->mean || !s->invstd || !s->k1 || !s->k2 || !s->k3) {
		diag_error(t->d, ir_node_loc(t->g, n), "out of memory");
		return -1;
	}
	ir_node *px = n->in[0]->producer;
	if (px && !px->dead && px->op == IR_OP_CONV && px->out[0] == n->in[0]) {
		s->mom = qgt_conv_moments(t, px, &s->mom_threads);
		if (sole_user(t->g, n->in[0]) == n) {
			qgt_dy_src src = {bn_dy_deferred, bn_dy_plane, s};
			s->can_defer = qgt_conv_take_dy(t, px, &src);
		}
	}
	ir_node *r = qgt_bn_relu_partner(t, n);
	s->relu_out = r ? r->out[0] : NULL;
	/* Fused, our own output is never written: let it read as zeros
	 * rather than stale memory (report_nonfinite scans it). */
	if (r)
		memset(qgt_f(t, n->out[0]), 0, sizeof(float) * (size_t)t->numel[n->out[0]->id]);
	ir_node *p = r ? qgt_bn_pool_partner(t, n) : NULL;
	if (p) {
		const ir_shape *ps = &p->out[0]->shape;
		s->pool_out = p->out[0];
		s->h = xs->d[2];
		s->w = xs->d[3];
		s->oh = ps->d[2];
		s->ow = ps->d[3];
		s->arg = qgt_plan_alloc(t, sizeof(int32_t) * (size_t)(s->n * s->c * s->oh * s->ow));
		if (!s->arg) {
			diag_error(t->d, ir_node_loc(t->g, n), "out of memory");
			return -1;
		}
		memset(qgt_f(t, s->relu_out), 0, sizeof(float) * (size_t)t->numel[s->relu_out->id]);
		if ((size_t)s->inner > *tbuf)
			*tbuf = (size_t)s->inner;
	}
	e->st = s;
	e->fwd = bn_fwd;
	e->bwd = bn_bwd;
	return 0;
}

/* The one live node reading v, which is no graph output; NULL if none
 * or several. */
static ir_node *sole_user(const ir_graph *g, const ir_value *v)
{
	for (int i = 0; i < g->noutputs; i++)
		if (g->outputs[i] == v)
			return NULL;
	ir_node *use = NULL;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		for (int k = 0; k < n->nin; k++)
			if (n->in[k] == v) {
				if (use)
					return NULL;
				use = n;
			}
	}
	return use;
}

ir_node *qgt_bn_relu_partner(const qgt_trainer *t, const ir_node *bn)
{
	if (bn->op != IR_OP_BATCHNORM || bn->nout < 1 || !bn->out[0] || bn->out[0]->dt != IR_DT_F32)
		return NULL;
	for (int k = 1; k < bn->nout; k++)
		if (bn->out[k])
			return NULL;
	ir_node *use = sole_user(t->g, bn->out[0]);
	if (!use || use->op != IR_OP_RELU || use->nin != 1 || use->nout != 1 || !use->out[0] ||
	    use->out[0]->dt != IR_DT_F32 || use->out[0]->kind == IR_VAL_CONST)
		return NULL;
	return use;
}

/* ints attribute `name` of n is absent (allowed when absent_ok) or all
 * equal to v, with `cnt` values. */
static bool ints_are(const ir_node *n, const char *name, int cnt, int64_t v, bool absent_ok)
{
	int c;
	const int64_t *a = ir_attr_ints(n, name, &c);
	if (!a)
		return absent_ok;
	if (c != cnt)
		return false;
	for (int i = 0; i < c; i++)
		if (a[i] != v)
			return false;
	return true;
}

ir_node *qgt_bn_pool_partner(const qgt_trainer *t, const ir_node *bn)
{
	ir_node *r = qgt_bn_relu_partner(t, bn);
	if (!r)
		return NULL;
	ir_node *p = sole_user(t->g, r->out[0]);
	if (!p || p->op != IR_OP_MAX_POOL || p->nin != 1 || p->nout < 1 || !p->out[0] ||
	    p->out[0]->dt != IR_DT_F32 || p->out[0]->kind == IR_VAL_CONST)
		return NULL;
	for (int k = 1; k < p->nout; k++)
		if (p->out[k])
			return NULL;
	const ir_shape *xs = &r->out[0]->shape, *ys = &p->out[0]->shape;
	if (xs->rank != 4 || ys->rank != 4 || ys->d[0] != xs->d[0] || ys->d[1] != xs->d[1] ||
	    ys->d[2] != xs->d[2] / 2 || ys->d[3] != xs->d[3] / 2 || ys->d[2] < 1 || ys->d[3] < 1)
		return NULL;
	const char *ap = ir_attr_str(p, "auto_pad", "NOTSET");
	if (strcmp(ap, "NOTSET") != 0 && strcmp(ap, "VALID") != 0)
		return NULL;
	if (!ints_are(p, "kernel", 2, 2, false) || !ints_are(p, "strides", 2, 2, false) ||
	    !ints_are(p, "dilations", 2, 1, true) || !ints_are(p, "pads", 4, 0, true) ||
	    ir_attr_int(p, "storage_order", 0) != 0)
		return NULL;
	return p;
}

/* ---------------------------------------------- layer_norm, instance_norm */

/* layer_norm (ONNX LayerNormalization) normalises rows of L elements,
 * the dims from `axis` on; instance_norm (ONNX InstanceNormalization)
 * the spatial dims of each (batch, channel), row o of channel o % C.
 * The forward is the interpreter's step for step (k_reduce.c's
 * eval_norm: f32 sums in order), so the trainer's output is the
 * interpreter's to the bit; it keeps each row's mean and 1/std for the
 * backward.  Rows are independent: both passes split them over the
 * threads, and dScale/dB add up per thread in tbuf. */
typedef struct ln_st {
	int64_t rows, len;
	int64_t ns, nb;           /* elements of Scale and B (nb 0: no B); 1 broadcasts */
	int64_t C;                /* instance_norm: channels, Scale/B index o % C; 0: layer_norm */
	int64_t np;               /* per-thread partials of dScale (and of dB): len or C */
	float eps;
	float *mean, *inv;        /* per row, of the last forward */
} ln_st;

/* Index into Scale (cnt s->ns) or B (s->nb) of element i of row o. */
static inline int64_t ln_k(const ln_st *s, int64_t cnt, int64_t o, int64_t i)
{
	return s->C ? o % s->C : cnt == 1 ? 0 : i;
}

typedef struct ln_job {
	qgt_trainer *t;
	const ln_st *s;
	const float *x, *sc, *bi;
	float *y, *om, *oi;       /* outputs Y, Mean, InvStdDev (NULL when absent) */
	const float *dy, *dm, *di; /* their gradients (dm, di NULL when none came) */
	float *dx;
	bool dx_acc, ds, db;      /* ds, db: Scale's, B's gradient wanted */
} ln_job;

static void ln_fwd_task(void *ctx, int tid, int64_t lo, int64_t hi)
{
	(void)tid;
	ln_job *j = ctx;
	const ln_st *s = j->s;
	int64_t len = s->len;
	for (int64_t o = lo; o < hi; o++) {
		const float *xr = j->x + o * len;
		float *yr = j->y + o * len;
		float sum = 0, sq = 0;
		for (int64_t i = 0; i < len; i++)
			sum += xr[i];
		float mean = sum / (float)len;
		for (int64_t i = 0; i < len; i++)
			sq += (xr[i] - mean) * (xr[i] - mean);
		float inv = 1.0f / sqrtf(sq / (float)len + s->eps);
		s->mean[o] = mean;
		s->inv[o] = inv;
		if (j->om)
			j->om[o] = mean;
		if (j->oi)
			j->oi[o] = inv;
		for (int64_t i = 0; i < len; i++) {
			float v = (xr[i] - mean) * inv * j->sc[ln_k(s, s->ns, o, i)];
			yr[i] = j->bi ? v + j->bi[ln_k(s, s->nb, o, i)] : v;
		}
	}
}

static int ln_fwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	ln_st *s = e->st;
	ln_job j = {.t = t, .s = s, .x = qgt_f(t, n->in[0]), .sc = qgt_f(t, n->in[1]),
	            .bi = s->nb ? qgt_f(t, n->in[2]) : NULL, .y = qgt_f(t, n->out[0])};
	j.om = n->nout > 1 && n->out[1] ? qgt_f(t, n->out[1]) : NULL;
	j.oi = n->nout > 2 && n->out[2] ? qgt_f(t, n->out[2]) : NULL;
	qgt_pool_run(t->pool, s->rows, ln_fwd_task, &j);
	return 0;
}

/* Per row, with xh = (x - mean) inv and g = dy scale:
 *   dx = inv g - (inv sum g) / L - xh (inv sum g xh) / L
 * plus what Mean and InvStdDev pass back when the graph reads them:
 * d mean / dx = 1 / L, d inv / dx = -inv^2 xh / L.  dY is NULL when only
 * those reach the loss. */
static void ln_bwd_task(void *ctx, int tid, int64_t lo, int64_t hi)
{
	ln_job *j = ctx;
	const ln_st *s = j->s;
	int64_t len = s->len;
	float *ps = j->t->tbuf[tid], *pb = ps + s->np;
	for (int64_t o = lo; o < hi; o++) {
		const float *xr = j->x + o * len, *gr = j->dy ? j->dy + o * len : NULL;
		float mean = s->mean[o], inv = s->inv[o];
		double s1 = 0, s2 = 0;
		for (int64_t i = 0; gr && i < len; i++) {
			float xh = (xr[i] - mean) * inv, g = gr[i] * j->sc[ln_k(s, s->ns, o, i)];
			s1 += g;
			s2 += g * xh;
			if (j->ds)
				ps[ln_k(s, s->ns, o, i)] += gr[i] * xh;
			if (j->db)
				pb[ln_k(s, s->nb, o, i)] += gr[i];
		}
		if (!j->dx)
			continue;
		float dm = j->dm ? j->dm[o] : 0.0f, di = j->di ? j->di[o] : 0.0f;
		float k0 = (float)(((double)dm - inv * s1) / (double)len);
		float k2 = (float)((inv * s2 + (double)di * inv * inv) / (double)len);
		float *dr = j->dx + o * len;
		for (int64_t i = 0; i < len; i++) {
			float xh = (xr[i] - mean) * inv, g = gr ? gr[i] * j->sc[ln_k(s, s->ns, o, i)] : 0.0f;
			float v = inv * g + k0 - k2 * xh;
			dr[i] = j->dx_acc ? dr[i] + v : v;
		}
	}
}

/* Scale's or B's gradient from the per-thread partials (cnt of them
 * each), added up in thread order. */
static void ln_reduce(qgt_trainer *t, const ir_value *v, int64_t off, int64_t cnt)
{
	bool acc = false;
	float *d = qgt_grad_out(t, v, &acc);
	for (int th = 0; d && th < t->nthreads; th++) {
		const float *p = t->tbuf[th] + off;
		for (int64_t i = 0; i < cnt; i++)
			d[i] = th == 0 && !acc ? p[i] : d[i] + p[i];
	}
}

static int ln_bwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	ln_st *s = e->st;
	const ir_value *vs = n->in[1], *vb = s->nb ? n->in[2] : NULL;
	ln_job j = {.t = t, .s = s, .x = qgt_f(t, n->in[0]), .sc = qgt_f(t, vs),
	            .dy = qgt_grad_in(t, n->out[0])};
	j.dm = n->nout > 1 ? qgt_grad_in(t, n->out[1]) : NULL;
	j.di = n->nout > 2 ? qgt_grad_in(t, n->out[2]) : NULL;
	j.dx = qgt_grad_out(t, n->in[0], &j.dx_acc);
	j.ds = t->grad[vs->id] != NULL;
	j.db = vb && t->grad[vb->id] != NULL;
	for (int th = 0; (j.ds || j.db) && th < t->nthreads; th++)
		memset(t->tbuf[th], 0, sizeof(float) * (size_t)(2 * s->np));
	qgt_pool_run(t->pool, s->rows, ln_bwd_task, &j);
	if (j.ds)
		ln_reduce(t, vs, 0, s->ns);
	if (j.db)
		ln_reduce(t, vb, s->np, s->nb);
	return 0;
}

/* What both norms check first: f32 inputs and a Scale (-1, reported,
 * when not). */
static int norm_inputs_ok(qgt_trainer *t, const ir_node *n)
{
	const char *op = ir_op_name(n->op);
	for (int k = 0; k < n->nin; k++)
		if (n->in[k] && n->in[k]->dt != IR_DT_F32) {
			diag_error(t->d, ir_node_loc(t->g, n), "%s input %d '%s' is %s; training needs f32", op, k,
			           n->in[k]->name, ir_dtype_name(n->in[k]->dt));
			return -1;
		}
	if (n->nin < 2 || !n->in[1]) {
		diag_error(t->d, ir_node_loc(t->g, n), "%s has no scale input", op);
		return -1;
	}
	return 0;
}

/* The rest of both plans, s's shape fields set: the row statistics and
 * the per-thread partials. */
static int norm_plan_tail(qgt_trainer *t, qgt_exec *e, size_t *tbuf, ln_st *s)
{
	ir_node *n = e->n;
	s->eps = ir_attr_float(n, "epsilon", 1e-5f);
	s->mean = qgt_plan_alloc(t, sizeof(float) * (size_t)(s->rows > 0 ? s->rows : 1));
	s->inv = qgt_plan_alloc(t, sizeof(float) * (size_t)(s->rows > 0 ? s->rows : 1));
	if (!s->mean || !s->inv) {
		diag_error(t->d, ir_node_loc(t->g, n), "out of memory");
		return -1;
	}
	/* tbuf: the per-thread dScale and dB partials */
	size_t need = (size_t)(2 * s->np);
	if (need > *tbuf)
		*tbuf = need;
	e->st = s;
	e->fwd = ln_fwd;
	e->bwd = ln_bwd;
	return 0;
}

int qgt_plan_layer_norm(qgt_trainer *t, qgt_exec *e, size_t *tbuf)
{
	ir_node *n = e->n;
	if (norm_inputs_ok(t, n))
		return -1;
	const ir_value *x = n->in[0], *vs = n->in[1], *vb = n->nin > 2 ? n->in[2] : NULL;
	int rank = x->shape.rank;
	int64_t axis = ir_attr_int(n, "axis", -1);
	if (axis < -rank || axis >= rank) {
		diag_error(t->d, ir_node_loc(t->g, n), "layer_norm axis %lld is out of range for rank %d",
		           (long long)axis, rank);
		return -1;
	}
	if (axis < 0)
		axis += rank;
	ln_st *s = qgt_plan_alloc(t, sizeof *s);
	if (!s)
		return -1;
	s->rows = 1;
	s->len = 1;
	for (int i = 0; i < rank; i++)
		*(i < axis ? &s->rows : &s->len) *= x->shape.d[i];
	s->ns = t->numel[vs->id];
	s->nb = vb ? t->numel[vb->id] : 0;
	for (int k = 1; k <= (vb ? 2 : 1); k++) {
		int64_t cnt = k == 1 ? s->ns : s->nb;
		if (cnt != s->len && cnt != 1) {
			diag_error(t->d, ir_node_loc(t->g, n),
			           "layer_norm %s '%s' has %lld elements; expected %lld (the normalised dims) or 1",
			           k == 1 ? "scale" : "B", n->in[k]->name, (long long)cnt, (long long)s->len);
			return -1;
		}
	}
	s->np = s->len;
	return norm_plan_tail(t, e, tbuf, s);
}

/* instance_norm: rows of the spatial dims, one per (batch, channel);
 * Scale and B have one element per channel, and their gradients sum
 * over the rows of that channel. */
int qgt_plan_instance_norm(qgt_trainer *t, qgt_exec *e, size_t *tbuf)
{
	ir_node *n = e->n;
	if (norm_inputs_ok(t, n))
		return -1;
	const ir_value *x = n->in[0], *vb = n->nin > 2 ? n->in[2] : NULL;
	int rank = x->shape.rank;
	if (rank < 3) {
		diag_error(t->d, ir_node_loc(t->g, n),
		           "instance_norm input '%s' has rank %d; it needs rank 3 or more (N, C, spatial...)", x->name,
		           rank);
		return -1;
	}
	ln_st *s = qgt_plan_alloc(t, sizeof *s);
	if (!s)
		return -1;
	s->C = x->shape.d[1];
	s->rows = x->shape.d[0] * s->C;
	s->len = 1;
	for (int i = 2; i < rank; i++)
		s->len *= x->shape.d[i];
	s->ns = t->numel[n->in[1]->id];
	s->nb = vb ? t->numel[vb->id] : 0;
	for (int k = 1; k <= (vb ? 2 : 1); k++) {
		int64_t cnt = k == 1 ? s->ns : s->nb;
		if (cnt != s->C) {
			diag_error(t->d, ir_node_loc(t->g, n), "instance_norm %s '%s' has %lld elements; expected %lld (one per channel)",
			           k == 1 ? "scale" : "B", n->in[k]->name, (long long)cnt, (long long)s->C);
			return -1;
		}
	}
	s->np = s->C;
	return norm_plan_tail(t, e, tbuf, s);
}
