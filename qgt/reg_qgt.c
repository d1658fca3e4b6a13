/* reg_qgt.c: the QGT regularizer (paper eq. 1-3) on the passes' quantizer:
 * R = sum_i lambda_i(t) ||DQ(Q(w_i)) - w_i||^2 over conv/gemm/matmul
 * kernels, gradient 2 lambda_i (w - w_q) with w_q held constant; lambda
 * schedules; the grid frozen for stretches (QGT-NOTES lesson 2); the last
 * steps with the kernels projected onto their grid (lesson 4).  Also the
 * hook plumbing the SQ and codebook regularizers share. */
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

void qgt_reg_options_default(qgt_reg_options *o)
{
	*o = (qgt_reg_options){
		.kind = QGT_REG_QGT,
		.quant = {.bits = 8, .scheme = IR_QS_AFFINE, .percentile = 99.9f},
		.lambda = 100.0f,
		.sched = QGT_LSCHED_EXP,
		.sched_start = 1e-3f,
		.refresh = 50,
		.freeze_frac = 0.15f,
		.lr_levels = 0.1f,
		.lsq_lr = 1.0f,
		.sq_ternary_cost = 0.5f,
		.bn_reintro = true,
	};
}

/* ------------------------------------------------------------- rules */

/* Value of the last rule 'PAT=V' in rules matching a or b (fnmatch);
 * returns false when none matches.
 * With skip_star, a bare '*' rule is not looked at (--lambda: it is the
 * default, so 'conv1=0.1,*=1' means what it says whatever the order). */
static bool rule_lookup(const char *rules, const char *a, const char *b, double *val,
                        bool skip_star)
{
	bool found = false;
	for (const char *p = rules; p && *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		if (eq && eq > p && (size_t)(eq - p) < 128) {
			char pat[128], v[32];
			memcpy(pat, p, (size_t)(eq - p));
			pat[eq - p] = 0;
			size_t vl = len - (size_t)(eq + 1 - p);
			if (vl >= sizeof v)
				vl = sizeof v - 1;
			memcpy(v, eq + 1, vl);
			v[vl] = 0;
			if (skip_star && strcmp(pat, "*") == 0)
				;
			else if ((a && fnmatch(pat, a, 0) == 0) || (b && fnmatch(pat, b, 0) == 0)) {
				found = true;
				*val = strtod(v, NULL);
			}
		}
		p = e ? e + 1 : NULL;
	}
	return found;
}

int qgt_lambda_parse(const char *s, float *global, const char **rules, diag_sink *d)
{
	char *end;
	double v = strtod(s, &end);
	*rules = NULL;
	if (end != s && *end == 0) {
		if (!(v >= 0) || !isfinite(v)) {
			diag_error(d, NULL, "--lambda must be a non-negative number, not '%s'", s);
			return -1;
		}
		*global = (float)v;
		return 0;
	}
	for (const char *p = s; *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		double x = -1;
		if (eq && eq > p) {
			char buf[32];
			size_t vl = len - (size_t)(eq + 1 - p);
			if (vl < sizeof buf) {
				memcpy(buf, eq + 1, vl);
				buf[vl] = 0;
				x = strtod(buf, &end);
				if (end == buf || *end)
					x = -1;
			}
		}
		if (!(x >= 0) || !isfinite(x)) {
			diag_error(d, NULL, "--lambda: '%.*s' is not NAME=LAMBDA (e.g. 'conv1=0.1,*=1')",
			           (int)len, p);
			return -1;
		}
		if (eq - p == 1 && *p == '*')
			*global = (float)x;
		p = e ? e + 1 : p + len;
	}
	*rules = s;
	return 0;
}

/* ------------------------------------------------------------- grids */

double qgt_grid_build(qgt_reg_state *s, const float *w, const pass_qspec *spec, diag_sink *d)
{
	pass_quant_free(&s->q);
	double err;
	if (pass_quantize(w, &s->v->shape, spec, NULL, &s->q, s->dq, &err, d)) {
		diag_note(d, NULL, "while regularizing '%s'", s->v->name);
		return NAN;
	}
	return err;
}

double qgt_grid_uniform(reg_ctx *c, qgt_reg_state *s, const float *w, bool refresh)
{
	/* learned scales: the grid is built once, then trains */
	if (qgt_lsq_on(c, &s->q))
		refresh = false;
	if (refresh || !s->q.codes)
		return qgt_grid_build(s, w, &s->spec, c->d);
	double err;
	if (pass_quant_requantize(w, &s->v->shape, &s->q, s->dq, &err))
		return NAN;
	return err;
}

double qgt_reg_grid(reg_ctx *c, qgt_reg_state *s, const float *w, bool refresh)
{
	switch (c->o.kind) {
	case QGT_REG_SQ:
		return qgt_grid_sq(c, s, w, refresh);
	case QGT_REG_CODEBOOK:
		return qgt_grid_codebook(c, s, w, refresh);
	default:
		return qgt_grid_uniform(c, s, w, refresh);
	}
}

/* ------------------------------------------------------------- hook */

int64_t qgt_reg_freeze_start(const reg_ctx *c, const qgt_progress *pr)
{
	if (pr->total_steps <= 0)
		return INT64_MAX;
	int64_t k = (int64_t)llround((double)c->o.freeze_frac * (double)pr->total_steps);
	return pr->total_steps - k;
}

static double sched_factor(const reg_ctx *c, const qgt_progress *pr)
{
	if (c->o.sched == QGT_LSCHED_CONST)
		return 1;
	int64_t span = qgt_reg_freeze_start(c, pr);
	if (span == INT64_MAX || span <= 1)
		return 1;
	double x = (double)pr->step / (double)(span - 1);
	if (x > 1)
		x = 1;
	double s0 = c->o.sched_start > 0 ? c->o.sched_start : 1e-3;
	return c->o.sched == QGT_LSCHED_LINEAR ? s0 + (1 - s0) * x : pow(s0, 1 - x);
}

double qgt_reg_lambda(const qgt_reg *r, const qgt_param *p, const qgt_progress *pr)
{
	const reg_ctx *c = (const reg_ctx *)r;
	if (p->v->id >= c->nv || !c->by_id[p->v->id])
		return 0;
	return c->by_id[p->v->id]->lambda * sched_factor(c, pr);
}

qgt_reg_state *qgt_reg_state_of(reg_ctx *c, const qgt_param *p)
{
	if (p->role != QGT_ROLE_WEIGHT || p->v->id >= c->nv)
		return NULL;
	qgt_reg_state *s = c->by_id[p->v->id];
	return s && s->v == p->v ? s : NULL;
}

int qgt_reg_freeze(reg_ctx *c, qgt_reg_state *s, float *w)
{
	double e = qgt_reg_grid(c, s, w, true);
	if (!isfinite(e))
		return -1;
	memcpy(w, s->dq, sizeof(float) * (size_t)s->n);
	s->frozen = true;
	return 0;
}

static double reg_apply(void *ctx, qgt_param *p, const qgt_progress *pr)
{
	reg_ctx *c = ctx;
	qgt_reg_state *s = qgt_reg_state_of(c, p);
	if (!s)
		return 0;
	/* the forward ran on DQ(Q(w)): the task gradient passes straight
	 * through to w, the regularizer adds its pull below */
	qgt_ste_restore(c, s, p, pr);
	if (pr->step >= qgt_reg_freeze_start(c, pr)) {
		if (!s->frozen && qgt_reg_freeze(c, s, p->w))
			return NAN;
		memset(p->g, 0, sizeof(float) * (size_t)p->n);
		s->lambda_now = 0;
		return 0;
	}
	double lam = s->lambda * sched_factor(c, pr);
	s->lambda_now = lam;
	int every = c->o.refresh > 0 ? c->o.refresh : 1;
	bool refresh = !s->q.codes || pr->step - s->refreshed >= every;
	if (refresh)
		s->refreshed = pr->step;
	double err = qgt_reg_grid(c, s, p->w, refresh);
	if (!isfinite(err))
		return NAN;
	if (lam == 0)
		return 0;
	/* QGT eq. (3): d/dw lambda ||w_q - w||^2 = 2 lambda (w - w_q), w_q constant. */
	float l2 = (float)(2 * lam);
	for (int64_t k = 0; k < p->n; k++)
		p->g[k] += l2 * (p->w[k] - s->dq[k]);
	return lam * err;
}

static void reg_step_end(void *ctx, qgt_param *p, const qgt_progress *pr)
{
	reg_ctx *c = ctx;
	qgt_reg_state *s = qgt_reg_state_of(c, p);
	if (!s)
		return;
	if (s->frozen) {
		memcpy(p->w, s->dq, sizeof(float) * (size_t)p->n);
		return;
	}
	if (c->o.kind == QGT_REG_CODEBOOK)
		qgt_codebook_step(c, s, p->w, pr->lr);
}

/* ------------------------------------------------------ construction */

qgt_reg *qgt_reg_create(ir_graph *g, const qgt_reg_options *o, diag_sink *d)
{
	if (o->method == QGT_METHOD_STE && o->kind != QGT_REG_QGT) {
		diag_error(d, NULL, "STE fine-tuning fake-quantizes onto the quantize pass's own grid: "
		           "%s grids are chosen by their regularizer",
		           o->kind == QGT_REG_SQ ? "smart quantization (sq)" : "codebook");
		return NULL;
	}
	reg_ctx *c = calloc(1, sizeof *c);
	if (!c)
		goto oom;
	c->o = *o;
	c->g = g;
	c->d = d;
	c->nv = g->nvalues;
	c->by_id = calloc((size_t)c->nv + 1, sizeof *c->by_id);
	c->st = calloc((size_t)g->nnodes + 1, sizeof *c->st);
	if (!c->by_id || !c->st)
		goto oom;
	const pass_quant_options *qo = &o->quant;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		/* Exactly the weight and grid the quantize pass will deploy. */
		ir_value *w;
		pass_qspec spec;
		int q = pass_quant_spec_for(qo, n, &w, &spec, d);
		if (q < 0)
			goto fail;
		if (q == 0 || w->quant || c->by_id[w->id])
			continue;
		qgt_reg_state *s = &c->st[c->nst++];
		s->v = w;
		s->node = n;
		s->n = ir_shape_numel(&w->shape);
		s->spec = spec;
		/* Trained on the fp16 grid; quantize deploys its scales as
		 * codes where its policy says so (pass_ecode_round: e12 at most
		 * 2^-9 off, e8 2^-5).  Training on the one-byte grid itself cost
		 * 0.16 pt on average over the held-out models (0.6 on
		 * mbn24_bn): its scale moves in steps of 1/16 as the weights
		 * move. */
		s->spec.scale_mb = 0;
		if (o->kind == QGT_REG_CODEBOOK)
			s->spec.scheme = IR_QS_CODEBOOK;
		double lam = o->lambda;
		rule_lookup(o->lambda_rules, n->name, w->name, &lam, true);
		s->lambda = lam;
		s->refreshed = -1;
		s->dq = malloc(sizeof(float) * (size_t)(s->n ? s->n : 1));
		if (!s->dq)
			goto oom;
		if ((o->method == QGT_METHOD_STE || o->ste_forward) &&
		    !(s->ste_w = malloc(sizeof(float) * (size_t)(s->n ? s->n : 1))))
			goto oom;
		c->by_id[w->id] = s;
	}
	c->hook = (qgt_reg){
		.name = o->kind == QGT_REG_SQ ? "sq" : o->kind == QGT_REG_CODEBOOK ? "codebook" : "qgt",
		.apply = reg_apply,
		.step_end = reg_step_end,
		.ctx = c,
	};
	if (o->ste_forward)
		c->hook.step_begin = qgt_ste_begin;
	if (o->method == QGT_METHOD_STE) {
		c->hook.name = "ste";
		c->hook.apply = qgt_ste_apply;
		c->hook.step_begin = qgt_ste_begin;
	}
	return &c->hook;
oom:
	diag_error(d, NULL, "out of memory");
fail:
	qgt_reg_destroy(c ? &c->hook : NULL);
	return NULL;
}

void qgt_reg_destroy(qgt_reg *r)
{
	reg_ctx *c = (reg_ctx *)r;
	if (!c)
		return;
	for (int i = 0; c->st && i < c->nst; i++) {
		pass_quant_free(&c->st[i].q);
		free(c->st[i].dq);
		free(c->st[i].lsum);
		free(c->st[i].lcnt);
		free(c->st[i].ste_w);
		free(c->st[i].lsq_m);
	}
	free(c->st);
	free(c->by_id);
	free(c);
}

void qgt_reg_release_grids(qgt_reg *r)
{
	((reg_ctx *)r)->o.learn_scale = false;
}

double qgt_reg_project(qgt_reg *r, ir_graph *g, diag_sink *d)
{
	reg_ctx *c = (reg_ctx *)r;
	(void)d;
	double moved = 0;
	for (int i = 0; i < c->nst; i++) {
		qgt_reg_state *s = &c->st[i];
		ir_value *v = s->v->id < g->nvalues && g->values[s->v->id] == s->v
		                  ? s->v
		                  : ir_graph_find_value(g, s->v->name);
		if (!v || !v->data)
			continue;
		float *w = v->data;
		double e = qgt_reg_grid(c, s, w, true);
		if (!isfinite(e))
			return -1;
		moved += e;
		memcpy(w, s->dq, sizeof(float) * (size_t)s->n);
	}
	return moved;
}

void qgt_reg_report(const qgt_reg *r, ir_graph *g, FILE *f)
{
	const reg_ctx *c = (const reg_ctx *)r;
	(void)g;
	fprintf(f, "%-24s %-9s %4s %10s %10s\n", "kernel", "scheme", "bits", "params", "rel.err");
	for (int i = 0; i < c->nst; i++) {
		const qgt_reg_state *s = &c->st[i];
		const float *w = s->v->data;
		double e = 0, ww = 0;
		for (int64_t k = 0; k < s->n; k++) {
			double x = (double)s->dq[k] - (double)w[k];
			e += x * x;
			ww += (double)w[k] * (double)w[k];
		}
		ir_qscheme sc = c->o.kind == QGT_REG_SQ ? s->sq_choice : s->spec.scheme;
		fprintf(f, "%-24s %-9s %4d %10lld %10.2e\n", s->v->name, pass_qscheme_name(sc),
		        s->q.codes ? s->q.bits : s->spec.bits, (long long)s->n, ww > 0 ? e / ww : 0);
	}
}

/* -------------------------------------------------------- histograms */

int qgt_weight_hist(const ir_node *n, int nbins, int64_t *h)
{
	int axis = n->dead ? -1 : pass_weight_axis(n, 1);
	const ir_value *w = axis >= 0 ? n->in[1] : NULL;
	if (!w || w->kind != IR_VAL_CONST || w->dt != IR_DT_F32 || !w->data ||
	    !ir_shape_known(&w->shape))
		return 0;
	int64_t N = ir_shape_numel(&w->shape), C = w->shape.d[axis], inner = 1;
	for (int k = axis + 1; k < w->shape.rank; k++)
		inner *= w->shape.d[k];
	const float *x = w->data;
	float *amax = calloc((size_t)C + 1, sizeof *amax);
	if (!amax)
		return -1;
	for (int64_t k = 0; k < N; k++) {
		int64_t ch = k / inner % C;
		amax[ch] = fmaxf(amax[ch], fabsf(x[k]));
	}
	memset(h, 0, sizeof(int64_t) * (size_t)nbins);
	for (int64_t k = 0; k < N; k++) {
		float m = amax[k / inner % C];
		double t = m > 0 ? (double)x[k] / m : 0; /* in [-1, 1] */
		int b = (int)floor((t + 1) * 0.5 * nbins);
		h[b < 0 ? 0 : b >= nbins ? nbins - 1 : b]++;
	}
	free(amax);
	return 1;
}

int qgt_histograms_json(const ir_graph *g, int nbins, FILE *f)
{
	if (nbins < 2)
		nbins = 2;
	int64_t *h = malloc(sizeof(int64_t) * (size_t)nbins);
	if (!h)
		return -1;
	fputc('[', f);
	bool first = true;
	for (int i = 0; i < g->nnodes; i++) {
		const ir_node *n = g->nodes[i];
		int r = qgt_weight_hist(n, nbins, h);
		if (r < 0) {
			free(h);
			return -1;
		}
		if (r == 0)
			continue;
		const ir_value *w = n->in[1];
		fprintf(f, "%s\n {\"layer\": ", first ? "" : ",");
		diag_json_str(f, w->name);
		fprintf(f, ", \"params\": %lld, \"bins\": [", (long long)ir_shape_numel(&w->shape));
		for (int b = 0; b < nbins; b++)
			fprintf(f, "%s%lld", b ? "," : "", (long long)h[b]);
		fputs("]}", f);
		first = false;
	}
	fputs("\n]", f);
	free(h);
	return ferror(f) ? -1 : 0;
}
