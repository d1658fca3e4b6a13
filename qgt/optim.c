/* optim.c: optimizers (SGD with momentum, Adam, AdamW; PyTorch's update
 * rules) and learning-rate schedules (constant, cosine, step; linear
 * warm-up in front of any of them). */
#include <math.h>

#include "train_internal.h"

float qgt_sched_lr(const qgt_train_config *c, int64_t step, int64_t total, int64_t steps_per_epoch)
{
	if (c->warmup > 0 && step < c->warmup)
		return c->lr * (float)(step + 1) / (float)c->warmup;
	switch (c->sched) {
	case QGT_SCHED_COSINE: {
		int64_t span = total - c->warmup;
		if (span <= 0)
			return c->lr;
		double f = (double)(step - c->warmup) / (double)span;
		if (f > 1)
			f = 1;
		return (float)(c->lr * 0.5 * (1.0 + cos(M_PI * f)));
	}
	case QGT_SCHED_STEP: {
		int every = c->step_epochs > 0 ? c->step_epochs : (c->epochs >= 3 ? c->epochs / 3 : 1);
		int64_t spe = steps_per_epoch > 0 ? steps_per_epoch : 1;
		int64_t k = step / spe / every;
		return (float)(c->lr * pow(c->step_gamma, (double)k));
	}
	default:
		return c->lr;
	}
}

/* SGD (PyTorch): g += wd w; v = mu v + g; w -= lr v.
 * Adam: g += wd w; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *   w -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps).
 * AdamW: w -= lr wd w first, then Adam without decay. */
void qgt_optim_update(const qgt_train_config *c, qgt_param *p, int64_t step, float lr)
{
	float *w = p->w, *g = p->g, *m = p->m1, *v = p->m2;
	float wd = c->weight_decay;
	int64_t n = p->n;
	if (c->opt == QGT_OPT_SGD) {
		float mu = c->momentum;
		for (int64_t i = 0; i < n; i++) {
			float gi = g[i] + wd * w[i];
			if (mu != 0) {
				m[i] = step == 0 ? gi : mu * m[i] + gi;
				gi = m[i];
			}
			w[i] -= lr * gi;
		}
		return;
	}
	float b1 = c->beta1, b2 = c->beta2;
	double t = (double)(step + 1);
	float bc1 = (float)(1.0 - pow(b1, t)), bc2 = (float)(1.0 - pow(b2, t));
	float sq2 = sqrtf(bc2);
	bool decoupled = c->opt == QGT_OPT_ADAMW;
	for (int64_t i = 0; i < n; i++) {
		float gi = g[i];
		if (decoupled)
			w[i] -= lr * wd * w[i];
		else
			gi += wd * w[i];
		m[i] = b1 * m[i] + (1 - b1) * gi;
		v[i] = b2 * v[i] + (1 - b2) * gi * gi;
		float denom = sqrtf(v[i]) / sq2 + c->eps;
		w[i] -= lr / bc1 * m[i] / denom;
	}
}
