/* reg_codebook.c: learnable representatives.  Each kernel gets 2^bits
 * levels per channel, initialised by k-means (the quantizer's codebook
 * scheme) and then trained with the weights: the clustering regularizer
 * lambda sum_k (w_k - c_a(k))^2 (a(k): the nearest level) pulls each
 * weight toward its level and each level toward its members.  The level
 * update is the gradient step preconditioned by its curvature
 * (2 lambda n_j), c_j += lr_levels (mean_j w - c_j) scaled by the
 * schedule's lr ratio, so big clusters do not overshoot.  Deployed as
 * codebook quantization with exactly these levels (qgt_reg_handoff: the
 * quantize pass keeps them). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

double qgt_grid_codebook(reg_ctx *c, qgt_reg_state *s, const float *w, bool refresh)
{
	(void)refresh; /* the levels are learned, never re-clustered */
	if (!s->q.codes)
		return qgt_grid_build(s, w, &s->spec, c->d);
	double err;
	if (pass_quant_requantize(w, &s->v->shape, &s->q, s->dq, &err))
		return NAN;
	return err;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

void qgt_codebook_step(reg_ctx *c, qgt_reg_state *s, const float *w, float lr)
{
	if (!s->q.codes || !s->q.levels)
		return;
	int K = 1 << s->q.bits;
	size_t nl = (size_t)s->q.nchan * (size_t)K;
	if (!s->lsum) {
		s->lsum = calloc(nl, sizeof *s->lsum);
		s->lcnt = calloc(nl, sizeof *s->lcnt);
		if (!s->lsum || !s->lcnt)
			return;
	}
	memset(s->lsum, 0, nl * sizeof *s->lsum);
	memset(s->lcnt, 0, nl * sizeof *s->lcnt);
	/* codes are those of the last apply (before this update): the
	 * assignment the regularizer's gradient used. */
	int64_t C = s->q.nchan, inner = 1;
	int axis = s->q.axis;
	if (axis >= 0)
		for (int k = axis + 1; k < s->v->shape.rank; k++)
			inner *= s->v->shape.d[k];
	for (int64_t k = 0; k < s->n; k++) {
		int64_t ch = axis >= 0 ? k / inner % C : 0;
		size_t j = (size_t)ch * (size_t)K + s->q.codes[k];
		s->lsum[j] += (double)w[k];
		s->lcnt[j]++;
	}
	/* lr relative to the run's base rate: follows the lr schedule. */
	double rate = c->o.lr_levels * (lr > 0 ? 1.0 : 0.0);
	if (rate > 1)
		rate = 1;
	for (size_t j = 0; j < nl; j++)
		if (s->lcnt[j]) {
			double mean = s->lsum[j] / (double)s->lcnt[j];
			s->q.levels[j] += (float)(rate * (mean - s->q.levels[j]));
		}
	for (int64_t ch = 0; ch < (axis >= 0 ? C : 1); ch++)
		qsort(s->q.levels + ch * K, (size_t)K, sizeof(float), cmp_float);
}
