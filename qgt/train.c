/* train.c: one optimizer step (forward, backward, regularizers, update,
 * NaN/Inf checks), the data pipeline (seeded split, shuffling,
 * augmentation), and the epoch loop with its progress display. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "train_internal.h"

/* ---------------------------------------------------------------- rng */

uint64_t qgt_rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

int64_t qgt_rng_below(uint64_t *s, int64_t n)
{
	return n <= 1 ? 0 : (int64_t)(qgt_rng_next(s) % (uint64_t)n);
}

void qgt_shuffle(int64_t *idx, int64_t n, uint64_t *s)
{
	for (int64_t i = n - 1; i > 0; i--) {
		int64_t j = qgt_rng_below(s, i + 1);
		int64_t tmp = idx[i];
		idx[i] = idx[j];
		idx[j] = tmp;
	}
}

void qgt_gather_batch(const qgt_dataset *ds, const int64_t *idx, int64_t b, float *x, int32_t *y,
                      int crop_pad, bool flip, uint64_t *s)
{
	int64_t per = ds->sample_numel;
	int r = ds->sample.rank;
	int64_t h = r >= 2 ? ds->sample.d[r - 2] : 1, w = r >= 1 ? ds->sample.d[r - 1] : 1;
	int64_t planes = per / (h * w);
	for (int64_t i = 0; i < b; i++) {
		const float *src = ds->x + idx[i] * per;
		float *dst = x + i * per;
		y[i] = ds->y[idx[i]];
		if (!crop_pad && !flip) {
			memcpy(dst, src, sizeof(float) * (size_t)per);
			continue;
		}
		/* Shift by (dy, dx) in [-pad, pad], zero-filling what comes in
		 * from outside (0 in normalised units), then maybe mirror. */
		int64_t dy = crop_pad ? qgt_rng_below(s, 2 * crop_pad + 1) - crop_pad : 0;
		int64_t dx = crop_pad ? qgt_rng_below(s, 2 * crop_pad + 1) - crop_pad : 0;
		bool mirror = flip && (qgt_rng_next(s) >> 63);
		for (int64_t p = 0; p < planes; p++)
			for (int64_t yy = 0; yy < h; yy++)
				for (int64_t xx = 0; xx < w; xx++) {
					int64_t sy = yy + dy, sx = (mirror ? w - 1 - xx : xx) + dx;
					dst[(p * h + yy) * w + xx] =
						sy >= 0 && sy < h && sx >= 0 && sx < w ? src[(p * h + sy) * w + sx] : 0.0f;
				}
	}
}

/* ---------------------------------------------------------------- step */

/* Name the first non-finite tensor of the last forward, in graph order. */
static void report_nonfinite(qgt_trainer *t, const char *what, double loss)
{
	for (int i = 0; i < t->nparams; i++) {
		qgt_param *p = &t->params[i];
		for (int64_t k = 0; k < p->n; k++)
			if (!isfinite(p->w[k])) {
				diag_error(t->d, t->g->src_file, "step %lld: %s is %g: parameter '%s' holds %g at element %lld",
				           (long long)t->step + 1, what, loss, p->v->name, p->w[k], (long long)k);
				return;
			}
	}
	for (int i = 0; i < t->nex; i++) {
		ir_node *n = t->ex[i].n;
		for (int k = 0; k < n->nout; k++) {
			ir_value *v = n->out[k];
			if (!v || v->dt != IR_DT_F32)
				continue;
			const float *x = qgt_f(t, v);
			for (int64_t q = 0; q < t->numel[v->id]; q++)
				if (!isfinite(x[q])) {
					diag_error(t->d, ir_node_loc(t->g, n), "step %lld: %s is %g: first non-finite tensor is '%s' (%g at element %lld)",
					           (long long)t->step + 1, what, loss, v->name, x[q], (long long)q);
					return;
				}
		}
	}
	diag_error(t->d, t->g->src_file, "step %lld: %s is %g (logits '%s' overflow the softmax)",
	           (long long)t->step + 1, what, loss, t->logits->name);
}

int qgt_trainer_step(qgt_trainer *t, const float *x, const int32_t *y, qgt_step_stats *st)
{
	memset(st, 0, sizeof *st);
	t->lr = qgt_sched_lr(&t->cfg, t->step, t->total_steps, t->steps_per_epoch);
	qgt_progress pr = {t->step, t->total_steps, t->epoch, t->lr};
	for (int r = 0; r < t->cfg.nregs; r++) {
		qgt_reg *rg = &t->cfg.regs[r];
		for (int i = 0; rg->step_begin && i < t->nparams; i++)
			if (rg->step_begin(rg->ctx, &t->params[i], &pr))
				return -1;
	}
	if (t->teacher) {
		if (qgt_trainer_forward(t->teacher, x, NULL, false, NULL, NULL))
			return -1;
		t->soft = t->teacher->probs;
	}
	int fr = qgt_trainer_forward(t, x, y, true, &st->loss, &st->correct);
	if (fr == 0 && isfinite(st->loss))
		fr = qgt_trainer_backward(t);
	else if (fr == 0) {
		report_nonfinite(t, "the loss", st->loss);
		fr = -1;
	}
	t->soft = NULL;
	if (fr)
		return -1;
	for (int r = 0; r < t->cfg.nregs; r++) {
		qgt_reg *rg = &t->cfg.regs[r];
		for (int i = 0; i < t->nparams; i++) {
			double v = rg->apply(rg->ctx, &t->params[i], &pr);
			if (!isfinite(v)) {
				diag_error(t->d, t->g->src_file, "step %lld: regularizer '%s' is %g on parameter '%s'",
				           (long long)t->step + 1, rg->name, v, t->params[i].v->name);
				return -1;
			}
			st->reg += v;
		}
	}
	for (int i = 0; i < t->nparams; i++)
		qgt_optim_update(&t->cfg, &t->params[i], t->step, t->lr);
	for (int r = 0; r < t->cfg.nregs; r++) {
		qgt_reg *rg = &t->cfg.regs[r];
		if (rg->step_end)
			for (int i = 0; i < t->nparams; i++)
				rg->step_end(rg->ctx, &t->params[i], &pr);
	}
	for (int i = 0; i < t->nparams; i++) {
		qgt_param *p = &t->params[i];
		for (int64_t k = 0; k < p->n; k++)
			if (!isfinite(p->w[k])) {
				/* Say whether the gradient or the update blew up. */
				bool gbad = !isfinite(p->g[k]);
				diag_error(t->d, ir_node_loc(t->g, p->node),
				           "step %lld: parameter '%s' became %g at element %lld after the update (gradient %g%s, lr %g)",
				           (long long)t->step + 1, p->v->name, p->w[k], (long long)k, p->g[k],
				           gbad ? ", not finite" : "", t->lr);
				return -1;
			}
	}
	t->step++;
	return 0;
}

/* ---------------------------------------------------------------- loop */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void fmt_eta(char *buf, size_t n, double s)
{
	if (!(s >= 0) || s > 1e7)
		s = 0;
	long v = (long)(s + 0.5);
	if (v >= 3600)
		snprintf(buf, n, "%ld:%02ld:%02ld", v / 3600, v / 60 % 60, v % 60);
	else
		snprintf(buf, n, "%ld:%02ld", v / 60, v % 60);
}

/* Top-1 accuracy on samples idx[0..n) in inference mode, batch at a time
 * (the last batch padded with its first sample, padding not counted). */
static int validate(qgt_trainer *t, const qgt_dataset *ds, const int64_t *idx, int64_t n,
                    float *x, int32_t *y, int64_t *bidx, double *acc)
{
	int64_t b = t->batch, ok = 0;
	for (int64_t s = 0; s < n; s += b) {
		int64_t m = n - s < b ? n - s : b;
		for (int64_t i = 0; i < b; i++)
			bidx[i] = idx[s + (i < m ? i : 0)];
		qgt_gather_batch(ds, bidx, b, x, y, 0, false, NULL);
		if (qgt_trainer_forward(t, x, y, false, NULL, NULL))
			return -1;
		int64_t k;
		const float *z = qgt_trainer_logits(t, &k);
		for (int64_t i = 0; i < m; i++) {
			int64_t best = 0;
			for (int64_t c = 1; c < k; c++)
				if (z[i * k + c] > z[i * k + best])
					best = c;
			ok += best == y[i];
		}
	}
	*acc = n ? (double)ok / (double)n : -1;
	return 0;
}

/* Mark (mark[i]) the reshapes of g, shapes inferred, whose constant shape
 * starts with 1 where their input has the batch of 1 first. */
static void batch_reshapes(const ir_graph *g, bool *mark)
{
	for (int i = 0; i < g->nnodes; i++) {
		const ir_node *n = g->nodes[i];
		mark[i] = false;
		if (n->dead || n->op != IR_OP_RESHAPE || n->nin < 2 || !n->in[0] || !n->in[1])
			continue;
		const ir_value *s = n->in[1];
		const ir_shape *xs = &n->in[0]->shape;
		if (s->kind != IR_VAL_CONST || !s->data || s->dt != IR_DT_I64 || s->shape.rank != 1 ||
		    s->shape.d[0] < 1 || ((const int64_t *)s->data)[0] != 1 || ir_attr_int(n, "allowzero", 0) ||
		    xs->rank < 1 || xs->d[0] != 1)
			continue;
		mark[i] = true;
	}
}

/* Give each marked reshape of g its own shape constant with 0 (copy dim
 * 0) first.  0, or -1 out of memory. */
static int fix_reshapes(ir_graph *g, const bool *mark)
{
	for (int i = 0; i < g->nnodes; i++) {
		if (!mark[i])
			continue;
		ir_node *n = g->nodes[i];
		const ir_value *s = n->in[1];
		int64_t k = s->shape.d[0];
		int64_t *v = malloc(sizeof *v * (size_t)k);
		if (!v)
			return -1;
		memcpy(v, s->data, sizeof *v * (size_t)k);
		v[0] = 0;
		const char *nm = ir_arena_printf(g->arena, "%s.batch", s->name ? s->name : "shape");
		ir_value *c = nm ? ir_graph_add_const(g, nm, IR_DT_I64, &s->shape, v) : NULL;
		free(v);
		if (!c)
			return -1;
		n->in[1] = c;
	}
	return 0;
}

bool qgt_free_batch(ir_graph *g)
{
	if (g->ninputs != 1 || g->inputs[0]->shape.rank < 1)
		return false;
	if (g->inputs[0]->shape.d[0] == IR_DIM_SYM)
		return true;
	if (g->inputs[0]->shape.d[0] != 1)
		return false;
	/* Try it on a copy: shapes at batch 1, the reshapes fixed, the batch
	 * symbolic, bound to 2.  The copy's nodes are g's, index for index. */
	ir_graph *c = ir_graph_clone(g);
	bool *mark = calloc((size_t)g->nnodes + 1, sizeof *mark);
	diag_sink q;
	diag_sink_init_capture(&q);
	bool ok = c && mark && ir_infer_shapes(c, &q) == 0;
	if (ok) {
		batch_reshapes(c, mark);
		ok = fix_reshapes(c, mark) == 0;
	}
	if (ok) {
		c->inputs[0]->shape.d[0] = IR_DIM_SYM;
		ir_graph_bind_batch(c, 2);
		ok = ir_infer_shapes(c, &q) == 0;
	}
	for (int i = 0; ok && i < c->noutputs; i++)
		ok = c->outputs[i]->shape.rank >= 1 && c->outputs[i]->shape.d[0] == 2;
	diag_sink_fini(&q);
	ir_graph_destroy(c);
	ok = ok && fix_reshapes(g, mark) == 0;
	free(mark);
	if (ok)
		g->inputs[0]->shape.d[0] = IR_DIM_SYM;
	return ok;
}

int qgt_train(ir_graph *g, const qgt_dataset *ds, const qgt_train_config *c, double *val_acc,
              diag_sink *d)
{
	if (val_acc)
		*val_acc = -1;
	int64_t n = c->limit > 0 && c->limit < ds->n ? c->limit : ds->n;
	int64_t nval = (int64_t)((double)n * (c->val_split > 0 ? c->val_split : 0));
	int64_t ntrain = n - nval;
	int64_t b = c->batch;
	if (ntrain < b) {
		diag_error(d, NULL, "%lld training samples are fewer than one batch of %lld",
		           (long long)ntrain, (long long)b);
		return -1;
	}
	qgt_trainer *t = qgt_trainer_create(g, c, d);
	if (!t)
		return -1;
	int rc = -1;
	int64_t *idx = malloc(sizeof(int64_t) * (size_t)n);
	int64_t *bidx = malloc(sizeof(int64_t) * (size_t)b);
	float *x = malloc(sizeof(float) * (size_t)(b * ds->sample_numel));
	int32_t *y = malloc(sizeof(int32_t) * (size_t)b);
	if (!idx || !bidx || !x || !y) {
		diag_error(d, NULL, "out of memory");
		goto out;
	}
	if (ds->sample_numel * b != t->numel[t->in->id] || !ir_shape_feeds(&ds->sample, &t->in->shape)) {
		char a[96], s[96];
		diag_error(d, g->src_file, "model input '%s' is %s; the data set's samples are %s",
		           t->in->name, ir_shape_str(&t->in->shape, a, sizeof a),
		           ir_shape_str(&ds->sample, s, sizeof s));
		goto out;
	}
	if (ds->nclasses > t->nclass) {
		diag_error(d, g->src_file, "model gives %lld scores per sample; labels go up to %d",
		           (long long)t->nclass, ds->nclasses - 1);
		goto out;
	}
	/* A fixed seeded split: the validation samples are the same for a
	 * given seed whatever the other options. */
	uint64_t rs = c->seed * 0xD1B54A32D192ED03ull + 1;
	for (int64_t i = 0; i < n; i++)
		idx[i] = i;
	if (nval)
		qgt_shuffle(idx, n, &rs);
	int64_t *val = idx + ntrain;
	int64_t spe = ntrain / b;
	t->steps_per_epoch = spe;
	t->total_steps = spe * c->epochs;
	if (c->max_steps > 0 && c->max_steps < t->total_steps)
		t->total_steps = c->max_steps;
	FILE *log = c->log;
	double t0 = now_s(), twarm = 0;
	int64_t done = 0;
	enum { WARM = 3 };      /* steps before the steady-state clock starts */
	for (int ep = 0; ep < c->epochs && done < t->total_steps; ep++) {
		t->epoch = ep;
		qgt_shuffle(idx, ntrain, &rs);
		double lsum = 0, rsum = 0, te = now_s();
		int64_t ok = 0, seen = 0;
		int64_t every = spe / 10 > 0 ? spe / 10 : 1;
		for (int64_t s = 0; s < spe && done < t->total_steps; s++) {
			qgt_gather_batch(ds, idx + s * b, b, x, y, c->crop_pad, c->flip, &rs);
			qgt_step_stats st;
			if (qgt_trainer_step(t, x, y, &st))
				goto out;
			done++;
			if (done == WARM)
				twarm = now_s();
			lsum += st.loss;
			rsum += st.reg;
			ok += st.correct;
			seen += b;
			if (!log)
				continue;
			double el = now_s() - te, ips = (double)seen / (el > 0 ? el : 1e-9);
			bool last = s + 1 == spe || done == t->total_steps;
			if (c->log_tty || (s + 1) % every == 0 || last) {
				char eta[32];
				fmt_eta(eta, sizeof eta, (double)(t->total_steps - done) * (double)b / ips);
				fprintf(log, "%sepoch %d/%d  step %lld/%lld  %.0f img/s  loss %.4f  reg %.4f  acc %.2f%%  lr %.3g  ETA %s%s",
				        c->log_tty ? "\r" : "", ep + 1, c->epochs, (long long)s + 1, (long long)spe,
				        ips, lsum / (double)(s + 1), rsum / (double)(s + 1),
				        100.0 * (double)ok / (double)seen, t->lr, eta,
				        c->log_tty ? "\033[K" : "\n");
				fflush(log);
			}
		}
		if (nval) {
			double acc;
			if (validate(t, ds, val, nval, x, y, bidx, &acc))
				goto out;
			if (val_acc)
				*val_acc = acc;
			if (log)
				fprintf(log, "%sepoch %d/%d: train loss %.4f acc %.2f%%, validation acc %.2f%% (%lld samples)\n",
				        c->log_tty ? "\n" : "", ep + 1, c->epochs, lsum / (double)(seen / b),
				        100.0 * (double)ok / (double)seen, 100.0 * acc, (long long)nval);
		} else if (log && c->log_tty) {
			fputc('\n', log);
		}
	}
	if (log) {
		double t1 = now_s(), el = t1 - t0;
		fprintf(log, "trained %lld steps in %.1f s (%.0f img/s", (long long)done, el,
		        (double)(done * b) / (el > 0 ? el : 1e-9));
		if (done > WARM + 2)
			fprintf(log, ", %.0f img/s after warm-up", (double)((done - WARM) * b) / (t1 - twarm));
		fputs(")\n", log);
	}
	rc = 0;
out:
	free(idx);
	free(bidx);
	free(x);
	free(y);
	qgt_trainer_destroy(t);
	return rc;
}

int qgt_graph_copy_consts(ir_graph *dst, const ir_graph *src, diag_sink *d)
{
	int copied = 0;
	for (int i = 0; i < src->nvalues; i++) {
		const ir_value *v = src->values[i];
		if (v->kind != IR_VAL_CONST || v->dt != IR_DT_F32 || !v->data)
			continue;
		ir_value *w = ir_graph_find_value(dst, v->name);
		if (!w)
			continue;
		int64_t n = ir_shape_numel(&v->shape);
		if (w->kind != IR_VAL_CONST) {
			diag_warn(d, dst->src_file, "constant '%s' was folded from other constants; changes to it are not written back",
			          v->name);
			continue;
		}
		if (w->dt != IR_DT_F32 || !w->data || ir_shape_numel(&w->shape) != n)
			continue;
		memcpy(w->data, v->data, sizeof(float) * (size_t)n);
		copied++;
	}
	return copied;
}
