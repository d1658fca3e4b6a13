/* grad_norm.c: batchnorm forward and backward, in training mode (batch
 * statistics, running-statistic updates, as PyTorch's BatchNorm2d) and in
 * inference mode (running statistics, as the interpreter). */
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
} bn_st;

typedef struct bn_job {
	qgt_trainer *t;
	qgt_exec *e;
	bn_st *s;
	const float *x, *gamma, *beta, *dy;
	const float *mask;        /* fused Relu's output: dy counts where > 0 */
	float *y, *r, *rm, *rv, *dx, *dg, *db;  /* r: fused Relu's output */
	float *dm, *dv;           /* running mean/var (inference mode only) */
	bool dm_acc, dv_acc;
	bool train, dx_acc, dg_acc, db_acc;
} bn_job;

static void bn_fwd_task(void *ctx, int tid, int64_t lo, int64_t hi)
{
	(void)tid;
	bn_job *j = ctx;
	bn_st *s = j->s;
	int64_t cnt = s->n * s->inner;
	float mom = j->t->cfg.bn_momentum;
	for (int64_t c = lo; c < hi; c++) {
		float mean, invstd;
		if (j->train) {
			double sum = 0, sq = 0;
			for (int64_t b = 0; b < s->n; b++) {
				const float *xp = j->x + (b * s->c + c) * s->inner;
				float ps = 0, pq = 0;
				for (int64_t i = 0; i < s->inner; i++) {
					ps += xp[i];
					pq += xp[i] * xp[i];
				}
				sum += ps;
				sq += pq;
			}
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
		for (int64_t b = 0; b < s->n; b++) {
			const float *restrict xp = j->x + (b * s->c + c) * s->inner;
			float *restrict yp = j->y + (b * s->c + c) * s->inner;
			if (j->r) {
				float *restrict rp = j->r + (b * s->c + c) * s->inner;
				for (int64_t i = 0; i < s->inner; i++) {
					float v = xp[i] * a + bb;
					yp[i] = v;
					rp[i] = v < 0 ? 0.0f : v;
				}
			} else {
				for (int64_t i = 0; i < s->inner; i++)
					yp[i] = xp[i] * a + bb;
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
	s->batch_stats = train;
	if (!train) {
		/* Inference mode: the interpreter's formula, exactly. */
		const float *x = j.x;
		float *y = j.y;
		for (int64_t c = 0; c < s->c; c++) {
			float den = sqrtf(j.rv[c] + s->eps);
			s->mean[c] = j.rm[c];
			s->invstd[c] = 1.0f / den;
			for (int64_t b = 0; b < s->n; b++)
				for (int64_t i = 0; i < s->inner; i++) {
					int64_t k = (b * s->c + c) * s->inner + i;
					y[k] = (x[k] - j.rm[c]) / den * j.gamma[c] + j.beta[c];
					if (j.r)
						j.r[k] = y[k] < 0 ? 0.0f : y[k];
				}
		}
		return 0;
	}
	qgt_pool_run(t->pool, s->c, bn_fwd_task, &j);
	return 0;
}

/* Training mode (xh = (x - mean) * invstd, N = batch * inner):
 *   dbeta = sum dy, dgamma = sum dy * xh,
 *   dx = gamma * invstd / N * (N dy - dbeta - xh dgamma).
 * Inference mode: dx = dy * gamma * invstd. */
static void bn_bwd_task(void *ctx, int tid, int64_t lo, int64_t hi)
{
	(void)tid;
	bn_job *j = ctx;
	bn_st *s = j->s;
	double cnt = (double)(s->n * s->inner);
	for (int64_t c = lo; c < hi; c++) {
		float mean = s->mean[c], is = s->invstd[c];
		double sdy = 0, sdyx = 0;
		for (int64_t b = 0; b < s->n; b++) {
			const float *xp = j->x + (b * s->c + c) * s->inner;
			const float *gp = j->dy + (b * s->c + c) * s->inner;
			float a = 0, q = 0;
			if (j->mask) {
				const float *mp = j->mask + (b * s->c + c) * s->inner;
				for (int64_t i = 0; i < s->inner; i++) {
					float g = relu_mask(gp[i], mp[i]);
					a += g;
					q += g * (xp[i] - mean);
				}
			} else {
				for (int64_t i = 0; i < s->inner; i++) {
					a += gp[i];
					q += gp[i] * (xp[i] - mean);
				}
			}
			sdy += a;
			sdyx += q;
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
		if (!j->dx)
			continue;
		float gs = j->gamma[c] * is;
		for (int64_t b = 0; b < s->n; b++) {
			const float *xp = j->x + (b * s->c + c) * s->inner;
			const float *gp = j->dy + (b * s->c + c) * s->inner;
			float *dp = j->dx + (b * s->c + c) * s->inner;
			const float *mp = j->mask ? j->mask + (b * s->c + c) * s->inner : NULL;
			if (mp && s->batch_stats && !j->dx_acc) {
				float k1 = gs, k2 = (float)(gs * sdy / cnt), k3 = (float)(gs * dgamma / cnt) * is;
				for (int64_t i = 0; i < s->inner; i++) {
					float g = relu_mask(gp[i], mp[i]);
					dp[i] = k1 * g - k2 - k3 * (xp[i] - mean);
				}
			} else if (mp) {
				float k1 = gs, k2 = 0, k3 = 0;
				if (s->batch_stats) {
					k2 = (float)(gs * sdy / cnt);
					k3 = (float)(gs * dgamma / cnt) * is;
				}
				for (int64_t i = 0; i < s->inner; i++) {
					float g = relu_mask(gp[i], mp[i]);
					float v = s->batch_stats ? k1 * g - k2 - k3 * (xp[i] - mean) : gs * g;
					dp[i] = j->dx_acc ? dp[i] + v : v;
				}
			} else if (s->batch_stats) {
				float k1 = gs, k2 = (float)(gs * sdy / cnt), k3 = (float)(gs * dgamma / cnt) * is;
				for (int64_t i = 0; i < s->inner; i++) {
					float v = k1 * gp[i] - k2 - k3 * (xp[i] - mean);
					dp[i] = j->dx_acc ? dp[i] + v : v;
				}
			} else {
				for (int64_t i = 0; i < s->inner; i++) {
					float v = gs * gp[i];
					dp[i] = j->dx_acc ? dp[i] + v : v;
				}
			}
		}
	}
}

static int bn_bwd(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	bn_st *s = e->st;
	bn_job j = {.t = t, .e = e, .s = s, .x = qgt_f(t, n->in[0]), .gamma = qgt_f(t, n->in[1]),
	            .beta = qgt_f(t, n->in[2]), .dy = qgt_grad_in(t, n->out[0])};
	if (s->relu_out) {
		/* The fused Relu left its output gradient for us to mask. */
		j.dy = qgt_grad_in(t, s->relu_out);
		j.mask = qgt_f(t, s->relu_out);
		if (!j.dy)
			return 0;
	}
	j.dx = qgt_grad_out(t, n->in[0], &j.dx_acc);
	j.dg = qgt_grad_out(t, n->in[1], &j.dg_acc);
	j.db = qgt_grad_out(t, n->in[2], &j.db_acc);
	j.dm = qgt_grad_out(t, n->in[3], &j.dm_acc);
	j.dv = qgt_grad_out(t, n->in[4], &j.dv_acc);
	qgt_pool_run(t->pool, s->c, bn_bwd_task, &j);
	return 0;
}

int qgt_plan_batchnorm(qgt_trainer *t, qgt_exec *e, size_t *tbuf)
{
	(void)tbuf;
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
	if (!s->mean || !s->invstd)
		return -1;
	ir_node *r = qgt_bn_relu_partner(t, n);
	s->relu_out = r ? r->out[0] : NULL;
	e->st = s;
	e->fwd = bn_fwd;
	e->bwd = bn_bwd;
	return 0;
}

ir_node *qgt_bn_relu_partner(const qgt_trainer *t, const ir_node *bn)
{
	const ir_graph *g = t->g;
	if (bn->op != IR_OP_BATCHNORM || bn->nout < 1 || !bn->out[0] || bn->out[0]->dt != IR_DT_F32)
		return NULL;
	for (int k = 1; k < bn->nout; k++)
		if (bn->out[k])
			return NULL;
	const ir_value *v = bn->out[0];
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
	if (!use || use->op != IR_OP_RELU || use->nin != 1 || use->nout != 1 || !use->out[0] ||
	    use->out[0]->dt != IR_DT_F32 || use->out[0]->kind == IR_VAL_CONST)
		return NULL;
	return use;
}
