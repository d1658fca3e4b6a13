/* grad_elem.c: backward (and, where speed matters, forward) of the
 * activations, pools, broadcast arithmetic, pow, shape ops, dropout and
 * softmax.  Forwards not written here are the interpreter's kernels. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "train_internal.h"

/* dst = v or dst += v, per the accumulate flag of the gradient. */
#define PUT(dst, acc, v) ((dst) = (acc) ? (dst) + (v) : (v))

/* -------------------------------------------------------- activations */

typedef struct act_job {
	ir_op op;
	const float *x, *y, *dy;
	float *out;
	bool acc;
	float a, b;               /* alpha/beta or clip bounds */
} act_job;

static void relu_fwd_task(void *ctx, int tid, int64_t lo, int64_t hi)
{
	(void)tid;
	act_job *j = ctx;
	for (int64_t i = lo; i < hi; i++)
		j->out[i] = j->x[i] < 0 ? 0.0f : j->x[i];
}

static void act_bwd_task(void *ctx, int tid, int64_t lo, int64_t hi)
{
	(void)tid;
	act_job *j = ctx;
	const float *x = j->x, *y = j->y, *dy = j->dy;
	float *dx = j->out;
	bool acc = j->acc;
	switch (j->op) {
	case IR_OP_RELU:
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, x[i] > 0 ? dy[i] : 0.0f);
		break;
	case IR_OP_LEAKY_RELU:
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, x[i] < 0 ? j->a * dy[i] : dy[i]);
		break;
	case IR_OP_CLIP:
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, x[i] > j->a && x[i] < j->b ? dy[i] : 0.0f);
		break;
	case IR_OP_SIGMOID:
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, dy[i] * y[i] * (1 - y[i]));
		break;
	case IR_OP_TANH:
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, dy[i] * (1 - y[i] * y[i]));
		break;
	case IR_OP_HARD_SIGMOID:
		for (int64_t i = lo; i < hi; i++) {
			float v = j->a * x[i] + j->b;
			PUT(dx[i], acc, v > 0 && v < 1 ? j->a * dy[i] : 0.0f);
		}
		break;
	case IR_OP_HARD_SWISH:
		for (int64_t i = lo; i < hi; i++) {
			float v = x[i];
			float g = v <= -3 ? 0.0f : v >= 3 ? 1.0f : (2 * v + 3) / 6;
			PUT(dx[i], acc, dy[i] * g);
		}
		break;
	case IR_OP_ELU: /* below 0, y + alpha = alpha exp(x) */
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, x[i] < 0 ? dy[i] * (y[i] + j->a) : dy[i]);
		break;
	case IR_OP_SOFTPLUS: /* sigmoid(x) = 1 - exp(-y) */
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, dy[i] * (1.0f - expf(-y[i])));
		break;
	case IR_OP_ERF: /* 2 / sqrt(pi) exp(-x^2) */
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, dy[i] * 1.1283791670955126f * expf(-x[i] * x[i]));
		break;
	case IR_OP_SQRT: /* 1 / (2 y) */
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, dy[i] * 0.5f / y[i]);
		break;
	case IR_OP_EXP:
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, dy[i] * y[i]);
		break;
	case IR_OP_LOG:
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, dy[i] / x[i]);
		break;
	case IR_OP_ABS: /* sign(x), 0 at 0 (as torch) */
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, x[i] > 0 ? dy[i] : x[i] < 0 ? -dy[i] : 0.0f);
		break;
	case IR_OP_NEG:
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, -dy[i]);
		break;
	case IR_OP_RECIPROCAL: /* -y^2 */
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, -dy[i] * y[i] * y[i]);
		break;
	case IR_OP_SIN:
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, dy[i] * cosf(x[i]));
		break;
	case IR_OP_COS:
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, -dy[i] * sinf(x[i]));
		break;
	case IR_OP_ASIN: /* 1 / sqrt(1 - x^2) */
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, dy[i] / sqrtf(1.0f - x[i] * x[i]));
		break;
	case IR_OP_ACOS:
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, -dy[i] / sqrtf(1.0f - x[i] * x[i]));
		break;
	case IR_OP_ATAN:
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, dy[i] / (1.0f + x[i] * x[i]));
		break;
	case IR_OP_SINH:
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, dy[i] * coshf(x[i]));
		break;
	case IR_OP_COSH:
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, dy[i] * sinhf(x[i]));
		break;
	case IR_OP_ASINH:
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, dy[i] / sqrtf(x[i] * x[i] + 1.0f));
		break;
	case IR_OP_ACOSH:
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, dy[i] / sqrtf(x[i] * x[i] - 1.0f));
		break;
	case IR_OP_ATANH:
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, dy[i] / (1.0f - x[i] * x[i]));
		break;
	case IR_OP_FLOOR: /* steps: no gradient */
	case IR_OP_CEIL:
	case IR_OP_ROUND:
	case IR_OP_SIGN:
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, 0.0f);
		break;
	case IR_OP_SELU: /* at or below 0, y + gamma alpha = gamma alpha exp(x) */
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, x[i] > 0 ? dy[i] * j->b : dy[i] * (y[i] + j->a * j->b));
		break;
	case IR_OP_CELU: /* at or below 0, exp(x / alpha) = y / alpha + 1 */
		for (int64_t i = lo; i < hi; i++)
			PUT(dx[i], acc, x[i] > 0 ? dy[i] : dy[i] * (y[i] / j->a + 1.0f));
		break;
	case IR_OP_SOFTSIGN: /* 1 / (1 + |x|)^2 */
		for (int64_t i = lo; i < hi; i++) {
			float t = 1.0f + fabsf(x[i]);
			PUT(dx[i], acc, dy[i] / (t * t));
		}
		break;
	case IR_OP_MISH: { /* tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2) */
		for (int64_t i = lo; i < hi; i++) {
			float sp = x[i] > 0 ? x[i] + logf(1.0f + expf(-x[i])) : logf(1.0f + expf(x[i]));
			float t = tanhf(sp), sg = 1.0f - expf(-sp);
			PUT(dx[i], acc, dy[i] * (t + x[i] * sg * (1.0f - t * t)));
		}
		break;
	}
	case IR_OP_GELU:
		for (int64_t i = lo; i < hi; i++) {
			float g;
			if (j->b != 0) { /* tanh form: u = c (x + k x^3) */
				const float c = 0.7978845608028654f, k = 0.044715f;
				float t = tanhf(c * (x[i] + k * x[i] * x[i] * x[i]));
				g = 0.5f * (1.0f + t) + 0.5f * x[i] * (1.0f - t * t) * c * (1.0f + 3.0f * k * x[i] * x[i]);
			} else { /* Phi(x) + x phi(x) */
				g = 0.5f * (1.0f + erff(x[i] * 0.7071067811865476f)) +
				    x[i] * 0.3989422804014327f * expf(-0.5f * x[i] * x[i]);
			}
			PUT(dx[i], acc, dy[i] * g);
		}
		break;
	default:
		break;
	}
}

static int relu_fwd(qgt_trainer *t, qgt_exec *e)
{
	act_job j = {IR_OP_RELU, qgt_f(t, e->n->in[0]), NULL, NULL, qgt_f(t, e->n->out[0]), false, 0, 0};
	qgt_pool_run(t->pool, t->numel[e->n->out[0]->id], relu_fwd_task, &j);
	return 0;
}

/* Relu, or the MaxPool after it, fused into the batchnorm before it
 * (qgt_bn_relu_partner, qgt_bn_pool_partner): the batchnorm writes our
 * output and routes our output gradient itself; we only mark our input's
 * gradient as given, so that the backward before us runs. */
static int fused_fwd(qgt_trainer *t, qgt_exec *e)
{
	(void)t;
	(void)e;
	return 0;
}

static int fused_bwd(qgt_trainer *t, qgt_exec *e)
{
	bool acc;
	(void)qgt_grad_out(t, e->n->in[0], &acc);
	return 0;
}

static int act_bwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	act_job j = {n->op, qgt_f(t, n->in[0]), qgt_f(t, n->out[0]), qgt_grad_in(t, n->out[0]),
	             NULL, false, 0, 0};
	j.out = qgt_grad_out(t, n->in[0], &j.acc);
	if (!j.out && n->op != IR_OP_CLIP)
		return 0;
	switch (n->op) {
	case IR_OP_LEAKY_RELU: j.a = ir_attr_float(n, "alpha", 0.01f); break;
	case IR_OP_ELU: j.a = ir_attr_float(n, "alpha", 1.0f); break;
	case IR_OP_CELU: j.a = ir_attr_float(n, "alpha", 1.0f); break;
	case IR_OP_SELU:
		j.a = ir_attr_float(n, "alpha", 1.67326319217681884765625f);
		j.b = ir_attr_float(n, "gamma", 1.05070102214813232421875f);
		break;
	case IR_OP_GELU: j.b = ir_gelu_tanh(n) ? 1.0f : 0.0f; break;
	case IR_OP_HARD_SIGMOID:
		j.a = ir_attr_float(n, "alpha", 0.2f);
		j.b = ir_attr_float(n, "beta", 0.5f);
		break;
	case IR_OP_CLIP: {
		ir_value *lo = n->nin > 1 ? n->in[1] : NULL, *hi = n->nin > 2 ? n->in[2] : NULL;
		j.a = lo && t->numel[lo->id] > 0 ? qgt_f(t, lo)[0] : -INFINITY;
		j.b = hi && t->numel[hi->id] > 0 ? qgt_f(t, hi)[0] : INFINITY;
		break;
	}
	default: break;
	}
	if (j.out)
		qgt_pool_run(t->pool, t->numel[n->out[0]->id], act_bwd_task, &j);
	if (n->op == IR_OP_CLIP) {
		/* The bounds get the gradient of what they clipped. */
		for (int k = 1; k < 3 && k < n->nin; k++) {
			bool acc;
			float *db = qgt_grad_out(t, n->in[k], &acc);
			if (!db)
				continue;
			double s = 0;
			for (int64_t i = 0; i < t->numel[n->out[0]->id]; i++)
				if (k == 1 ? j.x[i] < j.a : j.x[i] > j.b)
					s += j.dy[i];
			db[0] = acc ? db[0] + (float)s : (float)s;
		}
	}
	return 0;
}

/* -------------------------------------------------------------- pools */

typedef struct pool_st {
	int64_t nc, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, pe_h, pe_w;
	bool cip;                 /* avg: count_include_pad */
	int32_t *arg;             /* max: argmax offset in the plane, -1 none */
} pool_st;

typedef struct pool_job {
	pool_st *s;
	const float *x, *dy;
	float *y, *dx;
	int64_t *ind;
	bool acc;
} pool_job;

static void maxpool_fwd_task(void *ctx, int tid, int64_t lo, int64_t hi)
{
	(void)tid;
	pool_job *j = ctx;
	pool_st *s = j->s;
	int64_t in_sz = s->h * s->w, out_sz = s->oh * s->ow;
	bool k2s2 = s->kh == 2 && s->kw == 2 && s->sh == 2 && s->sw == 2 && s->ph == 0 && s->pw == 0 &&
	            s->dh == 1 && s->dw == 1 && 2 * s->oh <= s->h && 2 * s->ow <= s->w;
	if (k2s2 && !j->ind) {
		/* The common 2x2/2 window, branch-light; first maximum wins as
		 * in the general loop (taps in row-major order, strict >). */
		for (int64_t bc = lo; bc < hi; bc++) {
			const float *xc = j->x + bc * in_sz;
			float *yc = j->y + bc * out_sz;
			int32_t *ac = s->arg + bc * out_sz;
			for (int64_t oy = 0; oy < s->oh; oy++) {
				const float *r0 = xc + 2 * oy * s->w, *r1 = r0 + s->w;
				for (int64_t ox = 0; ox < s->ow; ox++) {
					int32_t base = (int32_t)(2 * oy * s->w + 2 * ox), at = base;
					float best = r0[2 * ox];
					if (r0[2 * ox + 1] > best) {
						best = r0[2 * ox + 1];
						at = base + 1;
					}
					if (r1[2 * ox] > best) {
						best = r1[2 * ox];
						at = base + (int32_t)s->w;
					}
					if (r1[2 * ox + 1] > best) {
						best = r1[2 * ox + 1];
						at = base + (int32_t)s->w + 1;
					}
					yc[oy * s->ow + ox] = best;
					ac[oy * s->ow + ox] = at;
				}
			}
		}
		return;
	}
	for (int64_t bc = lo; bc < hi; bc++) {
		const float *xc = j->x + bc * in_sz;
		for (int64_t oy = 0; oy < s->oh; oy++)
			for (int64_t ox = 0; ox < s->ow; ox++) {
				float best = -INFINITY;
				int32_t at = -1;
				for (int64_t i = 0; i < s->kh; i++) {
					int64_t iy = oy * s->sh - s->ph + i * s->dh;
					if (iy < 0 || iy >= s->h)
						continue;
					for (int64_t k = 0; k < s->kw; k++) {
						int64_t ix = ox * s->sw - s->pw + k * s->dw;
						if (ix < 0 || ix >= s->w)
							continue;
						float v = xc[iy * s->w + ix];
						if (at < 0 || v > best) {
							best = v;
							at = (int32_t)(iy * s->w + ix);
						}
					}
				}
				int64_t o = bc * out_sz + oy * s->ow + ox;
				j->y[o] = best;
				s->arg[o] = at;
				if (j->ind)
					j->ind[o] = at < 0 ? -1 : bc * in_sz + at;
			}
	}
}

static void maxpool_bwd_task(void *ctx, int tid, int64_t lo, int64_t hi)
{
	(void)tid;
	pool_job *j = ctx;
	pool_st *s = j->s;
	int64_t in_sz = s->h * s->w, out_sz = s->oh * s->ow;
	for (int64_t bc = lo; bc < hi; bc++) {
		float *dxc = j->dx + bc * in_sz;
		if (!j->acc)
			memset(dxc, 0, sizeof(float) * (size_t)in_sz);
		for (int64_t o = 0; o < out_sz; o++) {
			int32_t at = s->arg[bc * out_sz + o];
			if (at >= 0)
				dxc[at] += j->dy[bc * out_sz + o];
		}
	}
}

static void avgpool_bwd_task(void *ctx, int tid, int64_t lo, int64_t hi)
{
	(void)tid;
	pool_job *j = ctx;
	pool_st *s = j->s;
	int64_t in_sz = s->h * s->w, out_sz = s->oh * s->ow;
	for (int64_t bc = lo; bc < hi; bc++) {
		float *dxc = j->dx + bc * in_sz;
		if (!j->acc)
			memset(dxc, 0, sizeof(float) * (size_t)in_sz);
		for (int64_t oy = 0; oy < s->oh; oy++)
			for (int64_t ox = 0; ox < s->ow; ox++) {
				/* The interpreter's count: taps inside the input, or
				 * inside the padded input with count_include_pad. */
				int64_t n_in = 0, n_pad = 0;
				for (int64_t i = 0; i < s->kh; i++) {
					int64_t iy = oy * s->sh - s->ph + i * s->dh;
					for (int64_t k = 0; k < s->kw; k++) {
						int64_t ix = ox * s->sw - s->pw + k * s->dw;
						bool pad_ok = iy >= -s->ph && iy < s->h + s->pe_h && ix >= -s->pw &&
						              ix < s->w + s->pe_w;
						n_pad += pad_ok;
						n_in += iy >= 0 && iy < s->h && ix >= 0 && ix < s->w;
					}
				}
				int64_t cnt = s->cip ? n_pad : n_in;
				if (!cnt)
					continue;
				float g = j->dy[bc * out_sz + oy * s->ow + ox] / (float)cnt;
				for (int64_t i = 0; i < s->kh; i++) {
					int64_t iy = oy * s->sh - s->ph + i * s->dh;
					if (iy < 0 || iy >= s->h)
						continue;
					for (int64_t k = 0; k < s->kw; k++) {
						int64_t ix = ox * s->sw - s->pw + k * s->dw;
						if (ix >= 0 && ix < s->w)
							dxc[iy * s->w + ix] += g;
					}
				}
			}
	}
}

static int maxpool_fwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	pool_st *s = e->st;
	pool_job j = {s, qgt_f(t, n->in[0]), NULL, qgt_f(t, n->out[0]), NULL, NULL, false};
	if (n->nout > 1 && n->out[1])
		j.ind = t->val[n->out[1]->id];
	qgt_pool_run(t->pool, s->nc, maxpool_fwd_task, &j);
	return 0;
}

static int pool_bwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	pool_st *s = e->st;
	pool_job j = {s, qgt_f(t, n->in[0]), qgt_grad_in(t, n->out[0]), NULL, NULL, NULL, false};
	j.dx = qgt_grad_out(t, n->in[0], &j.acc);
	if (!j.dx)
		return 0;
	qgt_pool_run(t->pool, s->nc, n->op == IR_OP_MAX_POOL ? maxpool_bwd_task : avgpool_bwd_task, &j);
	return 0;
}

static int plan_pool(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	const ir_shape *xs = &n->in[0]->shape, *ys = &n->out[0]->shape;
	int r = xs->rank;
	if (r != 3 && r != 4)
		return 1;
	if (n->op == IR_OP_MAX_POOL && ir_attr_int(n, "storage_order", 0) != 0)
		return 1;
	pool_st *s = qgt_plan_alloc(t, sizeof *s);
	if (!s)
		return -1;
	int nsp = r - 2;
	int64_t in[2], k[2], st[2], dil[2], pb[2], pe[2];
	qgt_attr_ints(n, "kernel", nsp, k);
	qgt_attr_ints(n, "strides", nsp, st);
	qgt_attr_ints(n, "dilations", nsp, dil);
	for (int i = 0; i < nsp; i++)
		in[i] = xs->d[2 + i];
	if (k_resolve_pads(t->g, n, nsp, in, k, st, dil, pb, pe, t->d))
		return -1;
	bool two = nsp == 2;
	s->nc = xs->d[0] * xs->d[1];
	s->h = two ? in[0] : 1;
	s->w = in[nsp - 1];
	s->oh = two ? ys->d[2] : 1;
	s->ow = ys->d[r - 1];
	s->kh = two ? k[0] : 1;
	s->kw = k[nsp - 1];
	s->sh = two ? st[0] : 1;
	s->sw = st[nsp - 1];
	s->dh = two ? dil[0] : 1;
	s->dw = dil[nsp - 1];
	s->ph = two ? pb[0] : 0;
	s->pw = pb[nsp - 1];
	s->pe_h = two ? pe[0] : 0;
	s->pe_w = pe[nsp - 1];
	s->cip = ir_attr_int(n, "count_include_pad", 0) != 0;
	if (n->op == IR_OP_MAX_POOL) {
		s->arg = qgt_plan_alloc(t, sizeof(int32_t) * (size_t)(s->nc * s->oh * s->ow));
		if (!s->arg)
			return -1;
		e->fwd = maxpool_fwd;
	}
	e->st = s;
	e->bwd = pool_bwd;
	return 0;
}

static int gpool_fwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	const float *x = qgt_f(t, n->in[0]);
	float *y = qgt_f(t, n->out[0]);
	int64_t nc = t->numel[n->out[0]->id], sp = t->numel[n->in[0]->id] / nc;
	for (int64_t i = 0; i < nc; i++) {
		float s = 0;
		for (int64_t k = 0; k < sp; k++)
			s += x[i * sp + k];
		y[i] = s / (float)sp;
	}
	return 0;
}

static int gpool_bwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	bool acc;
	float *dx = qgt_grad_out(t, n->in[0], &acc);
	if (!dx)
		return 0;
	const float *x = qgt_f(t, n->in[0]), *y = qgt_f(t, n->out[0]);
	const float *dy = qgt_grad_in(t, n->out[0]);
	int64_t nc = t->numel[n->out[0]->id], sp = t->numel[n->in[0]->id] / nc;
	for (int64_t i = 0; i < nc; i++) {
		if (n->op == IR_OP_GLOBAL_AVG_POOL) {
			float g = dy[i] / (float)sp;
			for (int64_t k = 0; k < sp; k++)
				PUT(dx[i * sp + k], acc, g);
		} else {
			/* The first maximum takes it all, as the forward picks it. */
			int64_t at = 0;
			for (int64_t k = 0; k < sp; k++)
				if (x[i * sp + k] == y[i]) {
					at = k;
					break;
				}
			for (int64_t k = 0; k < sp; k++)
				PUT(dx[i * sp + k], acc, k == at ? dy[i] : 0.0f);
		}
	}
	return 0;
}

/* ------------------------------------------------- broadcast arithmetic */

typedef struct bin_st {
	int rank;
	int64_t yd[IR_MAX_RANK];
	int64_t sa[IR_MAX_RANK], sb[IR_MAX_RANK];  /* element strides, 0 if broadcast */
	bool same;                                  /* no broadcasting at all */
} bin_st;

/* s's geometry for n (output 0 from inputs 0 and 1). */
static void bin_geom(const ir_node *n, bin_st *s)
{
	const ir_shape *ys = &n->out[0]->shape;
	s->rank = ys->rank;
	for (int i = 0; i < ys->rank; i++)
		s->yd[i] = ys->d[i];
	ir_bcast_strides(ys->rank, n->in[0]->shape.rank, n->in[0]->shape.d, 1, s->sa);
	ir_bcast_strides(ys->rank, n->in[1]->shape.rank, n->in[1]->shape.d, 1, s->sb);
	s->same = ir_shape_eq(&n->in[0]->shape, ys) && ir_shape_eq(&n->in[1]->shape, ys);
}

/* The next output position: idx (row-major) and the two inputs' offsets
 * oa, ob moved on by one. */
static void bin_next(const bin_st *s, int64_t *idx, int64_t *oa, int64_t *ob)
{
	for (int d = s->rank - 1; d >= 0; d--) {
		idx[d]++;
		*oa += s->sa[d];
		*ob += s->sb[d];
		if (idx[d] < s->yd[d])
			return;
		*oa -= s->sa[d] * idx[d];
		*ob -= s->sb[d] * idx[d];
		idx[d] = 0;
	}
}

static int add_fwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	const float *a = qgt_f(t, n->in[0]), *b = qgt_f(t, n->in[1]);
	float *y = qgt_f(t, n->out[0]);
	int64_t cnt = t->numel[n->out[0]->id];
	for (int64_t i = 0; i < cnt; i++)
		y[i] = a[i] + b[i];
	return 0;
}

static int bin_bwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	bin_st *s = e->st;
	const float *a = qgt_f(t, n->in[0]), *b = qgt_f(t, n->in[1]), *y = qgt_f(t, n->out[0]);
	const float *dy = qgt_grad_in(t, n->out[0]);
	bool acca = false, accb = false;
	float *da = qgt_grad_out(t, n->in[0], &acca);
	/* The same value on both sides (x * x) gets both contributions. */
	float *db = qgt_grad_out(t, n->in[1], &accb);
	int64_t cnt = t->numel[n->out[0]->id];
	if (s->same && n->in[0] != n->in[1]) {
		for (int64_t i = 0; i < cnt; i++) {
			float ga, gb;
			switch (n->op) {
			case IR_OP_ADD: ga = dy[i]; gb = dy[i]; break;
			case IR_OP_SUB: ga = dy[i]; gb = -dy[i]; break;
			case IR_OP_MUL: ga = dy[i] * b[i]; gb = dy[i] * a[i]; break;
			default: ga = dy[i] / b[i]; gb = -dy[i] * y[i] / b[i]; break;
			}
			if (da)
				PUT(da[i], acca, ga);
			if (db)
				PUT(db[i], accb, gb);
		}
		return 0;
	}
	if (da && !acca)
		memset(da, 0, sizeof(float) * (size_t)t->numel[n->in[0]->id]);
	if (db && !accb && db != da)
		memset(db, 0, sizeof(float) * (size_t)t->numel[n->in[1]->id]);
	int64_t idx[IR_MAX_RANK] = {0}, oa = 0, ob = 0;
	for (int64_t i = 0; i < cnt; i++) {
		float av = a[oa], bv = b[ob], ga, gb;
		switch (n->op) {
		case IR_OP_ADD: ga = dy[i]; gb = dy[i]; break;
		case IR_OP_SUB: ga = dy[i]; gb = -dy[i]; break;
		case IR_OP_MUL: ga = dy[i] * bv; gb = dy[i] * av; break;
		default: ga = dy[i] / bv; gb = -dy[i] * y[i] / bv; break;
		}
		if (da)
			da[oa] += ga;
		if (db)
			db[ob] += gb;
		bin_next(s, idx, &oa, &ob);
	}
	return 0;
}

static int plan_binary(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	if (n->out[0]->dt != IR_DT_F32)
		return 1;
	bin_st *s = qgt_plan_alloc(t, sizeof *s);
	if (!s)
		return -1;
	bin_geom(n, s);
	if (s->same && n->op == IR_OP_ADD)
		e->fwd = add_fwd;
	e->st = s;
	e->bwd = bin_bwd;
	return 0;
}

/* ---------------------------------------------------------------- pow */

/* pow(x, c) with an exponent c no gradient flows into: a constant
 * (PyTorch's x ** 2, pow(x, -0.5), LayerNorm's formula at opset 13) of
 * any dtype, scalar or broadcast against x.  The forward is the
 * interpreter's; the backward
 *   dx = c x^(c - 1) dy,
 * summed over what x broadcasts across.  c's own gradient,
 *   dc = y ln(x) dy  (x > 0; 0 elsewhere, where pow is not
 *   differentiable in c or, at 0, its one-sided derivative is 0),
 * is only wanted when every constant trains (train_all_consts, tests). */
typedef struct pow_st {
	bin_st b;
	float *c;                 /* c as f32 when its dtype is not (else NULL) */
} pow_st;

static int pow_bwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	pow_st *s = e->st;
	const ir_value *vc = n->in[1];
	const float *a = qgt_f(t, n->in[0]), *y = qgt_f(t, n->out[0]);
	const float *dy = qgt_grad_in(t, n->out[0]), *c = s->c;
	if (c)
		for (int64_t i = 0; i < t->numel[vc->id]; i++)
			s->c[i] = (float)ir_elem_get(t->val[vc->id], vc->dt, i);
	else
		c = qgt_f(t, vc);
	bool acca = false, accc = false;
	float *da = qgt_grad_out(t, n->in[0], &acca);
	float *dc = vc->dt == IR_DT_F32 ? qgt_grad_out(t, vc, &accc) : NULL;
	if (da && !acca)
		memset(da, 0, sizeof(float) * (size_t)t->numel[n->in[0]->id]);
	if (dc && !accc && dc != da)
		memset(dc, 0, sizeof(float) * (size_t)t->numel[vc->id]);
	const bin_st *b = &s->b;
	int64_t cnt = t->numel[n->out[0]->id], idx[IR_MAX_RANK] = {0}, oa = 0, oc = 0;
	for (int64_t i = 0; i < cnt; i++) {
		float av = a[oa], cv = c[oc];
		if (da)
			da[oa] += dy[i] * cv * powf(av, cv - 1.0f);
		if (dc && av > 0)
			dc[oc] += dy[i] * y[i] * logf(av);
		bin_next(b, idx, &oa, &oc);
	}
	return 0;
}

static int plan_pow(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	const ir_value *x = n->in[0], *vc = n->in[1];
	if (n->out[0]->dt != IR_DT_F32 || x->dt != IR_DT_F32)
		return 1;
	if (vc->kind != IR_VAL_CONST && t->grad[vc->id]) {
		diag_error(t->d, ir_node_loc(t->g, n),
		           "pow's exponent '%s' is computed from what trains; training through pow needs a constant exponent",
		           vc->name);
		return -1;
	}
	pow_st *s = qgt_plan_alloc(t, sizeof *s);
	if (!s)
		return -1;
	bin_geom(n, &s->b);
	if (vc->dt != IR_DT_F32 &&
	    !(s->c = qgt_plan_alloc(t, sizeof(float) * (size_t)(t->numel[vc->id] > 0 ? t->numel[vc->id] : 1)))) {
		diag_error(t->d, ir_node_loc(t->g, n), "out of memory");
		return -1;
	}
	e->st = s;
	e->bwd = pow_bwd;
	return 0;
}

/* ------------------------------------------------------------ shape ops */

/* Reshape, flatten, squeeze, unsqueeze, identity: the gradient is dy with
 * the input's shape. */
static int copy_bwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	bool acc;
	float *dx = qgt_grad_out(t, n->in[0], &acc);
	if (!dx)
		return 0;
	const float *dy = qgt_grad_in(t, n->out[0]);
	int64_t cnt = t->numel[n->out[0]->id];
	if (!acc)
		memcpy(dx, dy, sizeof(float) * (size_t)cnt);
	else
		for (int64_t i = 0; i < cnt; i++)
			dx[i] += dy[i];
	return 0;
}

static int concat_bwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	const ir_shape *ys = &n->out[0]->shape;
	int ax = k_axis(ir_attr_int(n, "axis", 0), ys->rank);
	int64_t outer = 1, inner = 1;
	for (int i = 0; i < ax; i++)
		outer *= ys->d[i];
	for (int i = ax + 1; i < ys->rank; i++)
		inner *= ys->d[i];
	const float *dy = qgt_grad_in(t, n->out[0]);
	int64_t row = ys->d[ax] * inner, off = 0;
	for (int k = 0; k < n->nin; k++) {
		ir_value *v = n->in[k];
		int64_t part = v->shape.d[ax] * inner;
		bool acc;
		float *dx = qgt_grad_out(t, v, &acc);
		if (dx)
			for (int64_t o = 0; o < outer; o++)
				for (int64_t i = 0; i < part; i++)
					PUT(dx[o * part + i], acc, dy[o * row + off + i]);
		off += part;
	}
	return 0;
}

static int transpose_bwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	bool acc;
	float *dx = qgt_grad_out(t, n->in[0], &acc);
	if (!dx)
		return 0;
	const ir_shape *xs = &n->in[0]->shape, *ys = &n->out[0]->shape;
	int r = xs->rank, cnt = 0;
	const int64_t *perm = ir_attr_ints(n, "perm", &cnt);
	int64_t xst[IR_MAX_RANK], pst[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
	k_strides(xs, xst);
	/* Output dim i walks input dim perm[i] (reversed without perm). */
	for (int i = 0; i < r; i++)
		pst[i] = xst[perm ? perm[i] : r - 1 - i];
	const float *dy = qgt_grad_in(t, n->out[0]);
	int64_t total = t->numel[n->out[0]->id], off = 0;
	if (!acc)
		memset(dx, 0, sizeof(float) * (size_t)total);
	for (int64_t i = 0; i < total; i++) {
		dx[off] += dy[i];
		for (int d = r - 1; d >= 0; d--) {
			idx[d]++;
			off += pst[d];
			if (idx[d] < ys->d[d])
				break;
			off -= pst[d] * idx[d];
			idx[d] = 0;
		}
	}
	return 0;
}

/* ------------------------------------------------------ data movement */

/* The selections (ir_op_is_selection: pad, slice, gather, expand, tile,
 * depth_to_space, space_to_depth): each output element is a copy of one
 * element of input 0, or a pad's fill.  Which one is found once, when
 * planning, by running the interpreter's own kernel on the positions
 * 1..n of input 0 (0 for the fill), so there is no second description of
 * the op's indexing to drift; the backward adds each output's gradient to
 * its source. */
typedef struct move_st {
	int32_t *src;            /* [numel(y)]: 1 + position in x, 0: fill */
} move_st;

static int move_bwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	const move_st *s = e->st;
	bool acc;
	const float *dy = qgt_grad_in(t, n->out[0]);
	int64_t ny = t->numel[n->out[0]->id];
	float *dx = qgt_grad_out(t, n->in[0], &acc);
	if (dx && !acc)
		memset(dx, 0, sizeof(float) * (size_t)t->numel[n->in[0]->id]);
	for (int64_t k = 0; dx && k < ny; k++)
		if (s->src[k])
			dx[s->src[k] - 1] += dy[k];
	/* a pad's constant value fills the rest */
	float *dc = n->op == IR_OP_PAD && n->nin > 2 && n->in[2] ? qgt_grad_out(t, n->in[2], &acc) : NULL;
	if (dc) {
		double sum = 0;
		for (int64_t k = 0; k < ny; k++)
			if (!s->src[k])
				sum += dy[k];
		PUT(dc[0], acc, (float)sum);
	}
	return 0;
}

/* 0 planned, 1 no backward (an operand other than input 0 is not a
 * constant, or the data is not f32), -1 error. */
static int plan_move(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	const ir_value *x = n->in[0], *y = n->out[0];
	if (n->nout != 1 || !x || x->dt != IR_DT_F32 || y->dt != IR_DT_F32)
		return 1;
	for (int i = 1; i < n->nin; i++)
		if (n->in[i] && (n->in[i]->kind != IR_VAL_CONST || !n->in[i]->data))
			return 1;
	int64_t nx = t->numel[x->id], ny = t->numel[y->id];
	if (nx != ir_shape_numel(&x->shape) || ny != ir_shape_numel(&y->shape) || nx >= INT32_MAX)
		return 1;
	enum { MAXIN = 8 };
	if (n->nin > MAXIN)
		return 1;
	ir_tensor ti = {IR_DT_I64, x->shape, malloc(sizeof(int64_t) * (size_t)(nx ? nx : 1))};
	ir_tensor to = {IR_DT_I64, y->shape, calloc((size_t)(ny ? ny : 1), sizeof(int64_t))};
	ir_tensor ops[MAXIN], fill = {IR_DT_I64, {0}, NULL};
	const ir_tensor *in[MAXIN] = {&ti};
	ir_tensor *out[1] = {&to};
	int rc = -1;
	if (!ti.data || !to.data) {
		diag_error(t->d, NULL, "out of memory");
		goto out;
	}
	for (int64_t i = 0; i < nx; i++)
		((int64_t *)ti.data)[i] = i + 1;
	for (int i = 1; i < n->nin; i++) {
		const ir_value *v = n->in[i];
		in[i] = NULL;
		if (!v)
			continue;
		ops[i] = (ir_tensor){v->dt, v->shape, v->data};
		/* a pad's constant value takes the data's dtype: position 0 */
		if (n->op == IR_OP_PAD && i == 2) {
			fill.shape = v->shape;
			fill.data = calloc((size_t)(ir_shape_numel(&v->shape) + 1), sizeof(int64_t));
			if (!fill.data) {
				diag_error(t->d, NULL, "out of memory");
				goto out;
			}
			ops[i] = fill;
		}
		in[i] = &ops[i];
	}
	if (ir_eval_node(n, in, out, t->d))
		goto out;
	move_st *s = qgt_plan_alloc(t, sizeof *s);
	int32_t *src = s ? qgt_plan_alloc(t, sizeof(int32_t) * (size_t)(ny ? ny : 1)) : NULL;
	if (!src) {
		diag_error(t->d, NULL, "out of memory");
		goto out;
	}
	for (int64_t k = 0; k < ny; k++)
		src[k] = (int32_t)((const int64_t *)to.data)[k];
	s->src = src;
	e->st = s;
	e->bwd = move_bwd;
	rc = 0;
out:
	free(ti.data);
	free(to.data);
	free(fill.data);
	return rc;
}

/* reduce_sum and reduce_mean: each input element's gradient is its output
 * slot's (divided by the count for the mean).  The slot is the element's
 * index with the reduced axes pinned to 0, in the keepdims layout, as the
 * kernel adds them. */
typedef struct red_st {
	int32_t *slot;           /* [numel(x)] */
	float scale;
} red_st;

static int reduce_bwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	const red_st *s = e->st;
	bool acc;
	float *dx = qgt_grad_out(t, n->in[0], &acc);
	if (!dx)
		return 0;
	const float *dy = qgt_grad_in(t, n->out[0]);
	int64_t nx = t->numel[n->in[0]->id];
	for (int64_t i = 0; i < nx; i++)
		PUT(dx[i], acc, dy[s->slot[i]] * s->scale);
	return 0;
}

static int plan_reduce(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	const ir_value *x = n->in[0], *y = n->out[0];
	if (!x || x->dt != IR_DT_F32 || y->dt != IR_DT_F32)
		return 1;
	int64_t v[IR_MAX_RANK];
	int cnt = -1;
	const ir_value *av = n->nin > 1 ? n->in[1] : NULL;
	if (av) {
		int64_t c = ir_shape_numel(&av->shape);
		if (av->kind != IR_VAL_CONST || !av->data || av->dt != IR_DT_I64 || c < 0 || c > IR_MAX_RANK)
			return 1;
		memcpy(v, av->data, sizeof(int64_t) * (size_t)c);
		cnt = (int)c;
	}
	int r = x->shape.rank;
	int64_t nx = t->numel[x->id], ny = t->numel[y->id];
	if (nx != ir_shape_numel(&x->shape) || ny <= 0 || nx >= INT32_MAX)
		return 1;
	bool red[IR_MAX_RANK];
	if (k_reduce_axes(n, r, v, cnt, red, t->d))
		return -1;
	ir_shape ko = x->shape;
	for (int i = 0; i < r; i++)
		if (red[i])
			ko.d[i] = 1;
	if (ir_shape_numel(&ko) != ny)
		return 1;
	int64_t kst[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
	k_strides(&ko, kst);
	red_st *s = qgt_plan_alloc(t, sizeof *s);
	int32_t *slot = s ? qgt_plan_alloc(t, sizeof(int32_t) * (size_t)(nx ? nx : 1)) : NULL;
	if (!slot) {
		diag_error(t->d, NULL, "out of memory");
		return -1;
	}
	for (int64_t i = 0; i < nx; i++) {
		int64_t o = 0;
		for (int a = 0; a < r; a++)
			o += red[a] ? 0 : idx[a] * kst[a];
		slot[i] = (int32_t)o;
		for (int a = r - 1; a >= 0; a--) {
			if (++idx[a] < x->shape.d[a])
				break;
			idx[a] = 0;
		}
	}
	s->slot = slot;
	s->scale = n->op == IR_OP_REDUCE_MEAN ? (float)((double)ny / (double)nx) : 1.0f;
	e->st = s;
	e->bwd = reduce_bwd;
	return 0;
}

/* ------------------------------------------------------------- dropout */

typedef struct drop_st {
	float ratio;
	uint8_t *mask;
	bool active;              /* last forward dropped */
} drop_st;

static int dropout_fwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	drop_st *s = e->st;
	const float *x = qgt_f(t, n->in[0]);
	float *y = qgt_f(t, n->out[0]);
	int64_t cnt = t->numel[n->out[0]->id];
	s->active = t->train_mode && s->ratio > 0;
	uint8_t *mout = n->nout > 1 && n->out[1] ? t->val[n->out[1]->id] : NULL;
	if (!s->active) {
		memcpy(y, x, sizeof(float) * (size_t)cnt);
		if (mout)
			memset(mout, 1, (size_t)cnt);
		return 0;
	}
	/* Masks depend on (seed, step, node) only, so a step replays. */
	uint64_t rs = t->cfg.seed ^ ((uint64_t)t->step * 0x9E3779B97F4A7C15ull) ^
	              ((uint64_t)(n->id + 1) << 32);
	float keep = 1.0f - s->ratio, scale = 1.0f / keep;
	for (int64_t i = 0; i < cnt; i++) {
		uint64_t r = qgt_rng_next(&rs);
		s->mask[i] = (float)((double)(r >> 40) / (double)(1ull << 24)) < keep;
		y[i] = s->mask[i] ? x[i] * scale : 0.0f;
		if (mout)
			mout[i] = s->mask[i];
	}
	return 0;
}

static int dropout_bwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	drop_st *s = e->st;
	if (!s->active)
		return copy_bwd(t, e);
	bool acc;
	float *dx = qgt_grad_out(t, n->in[0], &acc);
	if (!dx)
		return 0;
	const float *dy = qgt_grad_in(t, n->out[0]);
	float scale = 1.0f / (1.0f - s->ratio);
	int64_t cnt = t->numel[n->out[0]->id];
	for (int64_t i = 0; i < cnt; i++)
		PUT(dx[i], acc, s->mask[i] ? dy[i] * scale : 0.0f);
	return 0;
}

static int plan_dropout(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	if (n->in[0]->dt != IR_DT_F32)
		return 1;
	drop_st *s = qgt_plan_alloc(t, sizeof *s);
	if (!s)
		return -1;
	s->ratio = 0.5f;
	ir_value *r = n->nin > 1 ? n->in[1] : NULL;
	if (r && r->kind == IR_VAL_CONST && ir_shape_numel(&r->shape) == 1)
		s->ratio = (float)ir_const_get(r, 0);
	if (s->ratio < 0 || s->ratio >= 1) {
		diag_error(t->d, ir_node_loc(t->g, n), "dropout ratio %g must be in [0, 1)", s->ratio);
		return -1;
	}
	s->mask = qgt_plan_alloc(t, (size_t)t->numel[n->out[0]->id] + 1);
	if (!s->mask)
		return -1;
	e->st = s;
	e->fwd = dropout_fwd;
	e->bwd = dropout_bwd;
	return 0;
}

/* ------------------------------------------------------------- softmax */

static int softmax_bwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	bool acc;
	float *dx = qgt_grad_out(t, n->in[0], &acc);
	if (!dx)
		return 0;
	const ir_shape *ys = &n->out[0]->shape;
	int ax = k_axis(ir_attr_int(n, "axis", -1), ys->rank);
	int64_t outer = 1, inner = 1, len = ys->d[ax];
	for (int i = 0; i < ax; i++)
		outer *= ys->d[i];
	for (int i = ax + 1; i < ys->rank; i++)
		inner *= ys->d[i];
	const float *y = qgt_f(t, n->out[0]), *dy = qgt_grad_in(t, n->out[0]);
	bool lsm = n->op == IR_OP_LOG_SOFTMAX;
	for (int64_t o = 0; o < outer; o++)
		for (int64_t i = 0; i < inner; i++) {
			int64_t base = o * len * inner + i;
			double s = 0;
			for (int64_t k = 0; k < len; k++) {
				int64_t q = base + k * inner;
				s += lsm ? dy[q] : dy[q] * y[q];
			}
			for (int64_t k = 0; k < len; k++) {
				int64_t q = base + k * inner;
				float v = lsm ? dy[q] - expf(y[q]) * (float)s : y[q] * (dy[q] - (float)s);
				PUT(dx[q], acc, v);
			}
		}
	return 0;
}

/* --------------------------------------------------------------- plan */

int qgt_plan_elem(qgt_trainer *t, qgt_exec *e, size_t *tbuf)
{
	(void)tbuf;
	ir_node *n = e->n;
	bool f32 = n->nout >= 1 && n->out[0] && n->out[0]->dt == IR_DT_F32;
	if (n->op != IR_OP_RELU && ir_op_is_unary(n->op)) { /* act_bwd_task has each */
		e->bwd = act_bwd;
		return 0;
	}
	if (ir_op_is_selection(n->op))
		return plan_move(t, e);
	switch (n->op) {
	case IR_OP_RELU:
		if (n->in[0] && n->in[0]->producer && !n->in[0]->producer->dead &&
		    qgt_bn_relu_partner(t, n->in[0]->producer) == n) {
			e->fwd = fused_fwd;
			e->bwd = fused_bwd;
			return 0;
		}
		e->fwd = relu_fwd;
		e->bwd = act_bwd;
		return 0;
	case IR_OP_CLIP:
		if (f32)
			e->bwd = act_bwd;
		return f32 ? 0 : 1;
	case IR_OP_MAX_POOL: {
		ir_node *r = n->in[0] ? n->in[0]->producer : NULL;
		ir_node *bn = r && !r->dead && r->in[0] ? r->in[0]->producer : NULL;
		if (bn && !bn->dead && qgt_bn_pool_partner(t, bn) == n) {
			e->fwd = fused_fwd;
			e->bwd = fused_bwd;
			return 0;
		}
		return plan_pool(t, e);
	}
	case IR_OP_AVG_POOL:
		return plan_pool(t, e);
	case IR_OP_GLOBAL_AVG_POOL:
		e->fwd = gpool_fwd;
		e->bwd = gpool_bwd;
		return 0;
	case IR_OP_GLOBAL_MAX_POOL:
		e->bwd = gpool_bwd;
		return 0;
	case IR_OP_ADD:
	case IR_OP_SUB:
	case IR_OP_MUL:
	case IR_OP_DIV:
		return plan_binary(t, e);
	case IR_OP_POW:
		return plan_pow(t, e);
	case IR_OP_RESHAPE:
	case IR_OP_FLATTEN:
	case IR_OP_SQUEEZE:
	case IR_OP_UNSQUEEZE:
	case IR_OP_IDENTITY:
		if (f32)
			e->bwd = copy_bwd;
		return f32 ? 0 : 1;
	case IR_OP_CONCAT:
		if (f32)
			e->bwd = concat_bwd;
		return f32 ? 0 : 1;
	case IR_OP_TRANSPOSE:
		if (f32)
			e->bwd = transpose_bwd;
		return f32 ? 0 : 1;
	case IR_OP_REDUCE_SUM:
	case IR_OP_REDUCE_MEAN:
		return plan_reduce(t, e);
	case IR_OP_DROPOUT:
		return plan_dropout(t, e);
	case IR_OP_SOFTMAX:
	case IR_OP_LOG_SOFTMAX:
		e->bwd = softmax_bwd;
		return 0;
	default:
		return 1;
	}
}
