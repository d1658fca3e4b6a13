/* reg_ste.c: STE quantization-aware training as a trainer hook, the
 * baseline QGT is measured against (issue 13): the forward pass runs on
 * fake-quantized kernels DQ(Q(w)), on the quantize pass's own grid for
 * each kernel (the spec the regularizers use), and the gradient taken
 * there passes straight through to the float kernel w (Bengio et al.
 * 2013; Jacob et al. 2018), or, with ste_clip, only where w lies inside
 * what the grid holds.  The float kernel lives in the graph between
 * steps (the optimizer updates it); qgt_ste_begin swaps DQ(Q(w)) in
 * before the forward and qgt_ste_apply swaps w back before the update.
 * Batchnorm stays live; the fine-tune flow (finetune.c) then projects
 * onto the grid as for QGT. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

int qgt_ste_begin(void *ctx, qgt_param *p, const qgt_progress *pr)
{
	reg_ctx *c = ctx;
	qgt_reg_state *s = qgt_reg_state_of(c, p);
	if (!s || s->frozen)
		return 0;
	if (pr->step >= qgt_reg_freeze_start(c, pr)) {
		/* the frozen phase: on the grid, held there (qgt_ste_apply
		 * zeroes the gradient, reg_step_end keeps it) */
		if (qgt_reg_freeze(c, s, p->w)) {
			diag_error(c->d, NULL, "step %lld: cannot quantize '%s'", (long long)pr->step + 1,
			           s->v->name);
			return -1;
		}
		return 0;
	}
	int every = c->o.refresh > 0 ? c->o.refresh : 1;
	bool refresh = !s->q.codes || pr->step - s->refreshed >= every;
	if (refresh)
		s->refreshed = pr->step;
	if (!isfinite(qgt_reg_grid(c, s, p->w, refresh))) {
		diag_error(c->d, NULL, "step %lld: cannot quantize '%s'", (long long)pr->step + 1,
		           s->v->name);
		return -1;
	}
	memcpy(s->ste_w, p->w, sizeof(float) * (size_t)s->n);
	memcpy(p->w, s->dq, sizeof(float) * (size_t)s->n);
	s->ste_swapped = true;
	return 0;
}

/* Learned step sizes (LSQ, Esser et al. 2019): with the forward on
 * wq = s_c * l(w) (l the integer level: code - zero point, or code -
 * 2^(b-1) for symmetric), d wq / d s_c = l - w / s_c inside the grid's
 * range and l where w clips; the gradient g (d loss / d wq) reaches each
 * channel's scale through it, scaled by 1 / sqrt(N_c Q_p), Q_p the
 * largest positive level, and moves it by SGD with momentum 0.9 at the
 * trainer's rate.  Affine and symmetric grids only; the zero points stay. */
void qgt_lsq_step(reg_ctx *c, qgt_reg_state *s, const float *w, const float *g,
                  const qgt_progress *pr)
{
	ir_quant *q = &s->q;
	if (!qgt_lsq_on(c, q) || pr->lr <= 0)
		return;
	const ir_shape *sh = &s->v->shape;
	int64_t C = q->axis >= 0 ? q->nchan : 1, inner = 1, outer = 1;
	if (q->axis >= 0) {
		for (int k = q->axis + 1; k < sh->rank; k++)
			inner *= sh->d[k];
		for (int k = 0; k < q->axis; k++)
			outer *= sh->d[k];
	} else
		inner = s->n;
	if (!s->lsq_m && !(s->lsq_m = calloc((size_t)C, sizeof *s->lsq_m)))
		return; /* out of memory: the scales stay as they are */
	int half = 1 << (q->bits - 1);
	double qp = q->scheme == IR_QS_AFFINE ? (double)((1 << q->bits) - 1) / 2 : (double)(half - 1);
	if (qp < 1)
		qp = 1;
	for (int64_t ch = 0; ch < C; ch++) {
		float sc = q->scale[ch];
		if (!(sc > 0))
			continue;
		int zp = q->scheme == IR_QS_AFFINE ? q->zero_point[ch] : half;
		double gs = 0;
		for (int64_t o = 0; o < outer; o++) {
			int64_t base = (o * C + ch) * inner;
			for (int64_t i = 0; i < inner; i++) {
				int64_t k = base + i;
				double l = (double)((int)q->codes[k] - zp), x = (double)w[k] / sc;
				gs += (double)g[k] * (fabs(x - l) <= 0.5 ? l - x : l);
			}
		}
		gs /= sqrt((double)(outer * inner) * qp);
		s->lsq_m[ch] = 0.9f * s->lsq_m[ch] + (float)gs;
		float ns = sc - pr->lr * c->o.lsq_lr * s->lsq_m[ch];
		/* a step never more than halves or doubles the scale */
		q->scale[ch] = ns < 0.5f * sc ? 0.5f * sc : ns > 2 * sc ? 2 * sc : ns;
	}
}

void qgt_ste_restore(reg_ctx *c, qgt_reg_state *s, qgt_param *p, const qgt_progress *pr)
{
	if (!s->ste_swapped)
		return;
	/* straight through: d loss / d w := d loss / d DQ(Q(w)) */
	memcpy(p->w, s->ste_w, sizeof(float) * (size_t)s->n);
	s->ste_swapped = false;
	qgt_lsq_step(c, s, p->w, p->g, pr);
}

/* Zero the gradient where w lies outside what the grid holds. */
static void clip_grad(const qgt_reg_state *s, const float *w, float *g)
{
	const ir_quant *q = &s->q;
	const ir_shape *sh = &s->v->shape;
	int64_t inner = 1, C = q->axis >= 0 ? q->nchan : 1;
	if (q->axis >= 0)
		for (int k = q->axis + 1; k < sh->rank; k++)
			inner *= sh->d[k];
	for (int64_t k = 0; k < s->n;) {
		int64_t ch = q->axis >= 0 ? k / inner % C : 0;
		int64_t end = q->axis >= 0 ? (k / inner + 1) * inner : s->n;
		float lo, hi;
		pass_quant_unclipped(q, ch, &lo, &hi);
		for (; k < end && k < s->n; k++)
			if (!(w[k] >= lo && w[k] <= hi))
				g[k] = 0;
	}
}

double qgt_ste_apply(void *ctx, qgt_param *p, const qgt_progress *pr)
{
	reg_ctx *c = ctx;
	qgt_reg_state *s = qgt_reg_state_of(c, p);
	if (!s)
		return 0;
	if (s->frozen) {
		memset(p->g, 0, sizeof(float) * (size_t)p->n);
		return 0;
	}
	if (!s->ste_swapped)
		return 0;
	qgt_ste_restore(c, s, p, pr);
	if (c->o.ste_clip)
		clip_grad(s, p->w, p->g);
	return 0;
}
