/* finetune.c: the QGT fine-tune flow (QGT-NOTES lessons 1 and 4):
 * train with batchnorm live (re-introduced where an exporter folded it)
 * and the regularizer on, the lambda ramp and the frozen last phase
 * landing the kernels exactly on their grids, a final projection (a fixed
 * point of the quantize pass), batchnorm statistics re-estimated on the
 * final kernels, and re-introduced batchnorms folded back; with -a, the
 * activation quantizers in the loop throughout (actq.c).  Also the
 * hand-over of the grids trained on to the quantize pass. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"
#include "train_internal.h"

/* Batches of b training samples in an order shuffled from seed: the
 * calibration passes below walk them. */
typedef struct sampler {
	int64_t *idx, b;
	float *x;
	int32_t *y;
} sampler;

static int sampler_init(sampler *sm, const qgt_dataset *ds, int64_t b, uint64_t seed, diag_sink *d)
{
	sm->b = b;
	sm->idx = malloc(sizeof *sm->idx * (size_t)(ds->n ? ds->n : 1));
	sm->x = malloc(sizeof *sm->x * (size_t)(b * ds->sample_numel));
	sm->y = malloc(sizeof *sm->y * (size_t)b);
	if (!sm->idx || !sm->x || !sm->y) {
		diag_error(d, NULL, "out of memory");
		return -1;
	}
	for (int64_t i = 0; i < ds->n; i++)
		sm->idx[i] = i;
	qgt_shuffle(sm->idx, ds->n, &seed);
	return 0;
}

/* Batch k (k < ds->n / b) into sm->x and sm->y. */
static void sampler_batch(sampler *sm, const qgt_dataset *ds, int k)
{
	qgt_gather_batch(ds, sm->idx + (int64_t)k * sm->b, sm->b, sm->x, sm->y, 0, false, NULL);
}

static void sampler_free(sampler *sm)
{
	free(sm->idx);
	free(sm->x);
	free(sm->y);
}

int qgt_bn_reestimate(ir_graph *g, const qgt_dataset *ds, const qgt_train_config *c, int nb,
                      diag_sink *d)
{
	qgt_trainer *t = qgt_forward_trainer(g, c, d);
	if (!t)
		return -1;
	int64_t b = t->batch;
	int rc = -1;
	sampler sm = {0};
	if (sampler_init(&sm, ds, b, c->seed * 0x9E3779B97F4A7C15ull + 7, d))
		goto out;
	if (nb > ds->n / b)
		nb = (int)(ds->n / b);
	for (int k = 0; k < nb; k++) {
		/* momentum 1/(k+1): the running statistics become the plain
		 * average over the nb batches. */
		t->cfg.bn_momentum = 1.0f / (float)(k + 1);
		sampler_batch(&sm, ds, k);
		if (qgt_trainer_forward(t, sm.x, NULL, true, NULL, NULL))
			goto out;
	}
	rc = 0;
out:
	sampler_free(&sm);
	qgt_trainer_destroy(t);
	return rc;
}

/* ------------------------------------------- batchnorm re-introduced */

/* Calibration batches for a re-introduced batchnorm's statistics. */
enum { BN_CALIB_BATCHES = 16 };

typedef struct bn_intro_one {
	ir_node *layer;           /* the conv or gemm */
	ir_node *bn;              /* the batchnorm after it */
	ir_value *y;              /* the layer's output as loaded (now the batchnorm's) */
} bn_intro_one;

struct qgt_bn_intro {
	int n;
	bn_intro_one *l;
};

/* The live node of op `op` reading v as its first input, else NULL. */
static ir_node *reader_with_op(const ir_graph *g, const ir_value *v, ir_op op)
{
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (!n->dead && n->op == op && n->nin > 0 && n->in[0] == v)
			return n;
	}
	return NULL;
}

/* Whether kernel s's grid is still a grid of the same family after each
 * output channel is scaled by its own factor (batchnorm folding):
 * per-channel grids scale with their channel (a negative factor maps an
 * affine, symmetric, binary or ternary grid onto itself); a per-tensor
 * grid cannot follow different factors, nor can power-of-two steps. */
static bool grid_survives_fold(const qgt_reg_state *s)
{
	return s->spec.per_channel && s->spec.scheme != IR_QS_POW2;
}

/* Whether layer n, kernel regularized, can take a batchnorm: conv or
 * gemm, one output of known shape [N, C, ...], a f32 constant bias of C
 * elements (where a folded batchnorm's shift lands; gemm with beta 1),
 * kernel and bias read by n alone (folding rewrites them in place). */
static bool takes_bn(const ir_graph *g, const ir_node *n)
{
	if ((n->op != IR_OP_CONV && n->op != IR_OP_GEMM) || n->nout != 1 || !n->out[0] ||
	    n->nin < 3 || !n->in[2])
		return false;
	const ir_value *y = n->out[0], *b = n->in[2];
	if (y->dt != IR_DT_F32 || !ir_shape_known(&y->shape) || y->shape.rank < 2)
		return false;
	if (n->op == IR_OP_GEMM && ir_attr_float(n, "beta", 1.0f) != 1.0f)
		return false;
	if (ir_value_use_count(g, n->in[1]) != 1 || ir_value_use_count(g, b) != 1)
		return false;
	return b->kind == IR_VAL_CONST && b->dt == IR_DT_F32 && b->data &&
	       ir_shape_numel(&b->shape) == y->shape.d[1] &&
	       b->shape.d[b->shape.rank - 1] == y->shape.d[1];
}

/* Insert a batchnorm after layer n (whose output y keeps its name and
 * readers), as the identity: gamma 1, beta 0, mean 0, var 1 - eps. */
static ir_node *insert_bn(ir_graph *g, ir_node *n, diag_sink *d)
{
	ir_value *y = n->out[0];
	int64_t C = y->shape.d[1];
	ir_shape cs = ir_shape_make(1, &C);
	const float eps = 1e-5f;
	const char *base = n->in[1]->name ? n->in[1]->name : "qgt";
	ir_value *x = ir_graph_add_value(g, ir_graph_unique_name(g, ir_arena_printf(g->arena, "%s.qgt_bn_in", base)),
	                                 IR_DT_F32, &y->shape);
	ir_value *p[4];
	static const char *const sfx[4] = {"scale", "bias", "mean", "var"};
	for (int k = 0; k < 4; k++) {
		const char *nm = ir_graph_unique_name(g, ir_arena_printf(g->arena, "%s.qgt_bn.%s", base, sfx[k]));
		p[k] = ir_graph_add_const(g, nm, IR_DT_F32, &cs, NULL);
		if (!p[k])
			x = NULL;
	}
	if (!x)
		goto oom;
	for (int64_t c = 0; c < C; c++) {
		((float *)p[0]->data)[c] = 1.0f;
		((float *)p[3]->data)[c] = 1.0f - eps;
	}
	ir_value *in[5] = {x, p[0], p[1], p[2], p[3]};
	ir_node *bn = ir_graph_add_node(g, IR_OP_BATCHNORM,
	                                ir_arena_printf(g->arena, "%s.qgt_bn", n->name ? n->name : base), 5, in, 1, &y);
	if (!bn)
		goto oom;
	ir_node_set_float(g, bn, "epsilon", eps);
	bn->src_op = "BatchNormalization";
	n->out[0] = x;
	x->producer = n;
	return bn;
oom:
	diag_error(d, ir_node_loc(g, n), "out of memory re-introducing batch norm");
	return NULL;
}

/* Per-channel mean and variance of every inserted batchnorm's input over
 * nb batches of ds, the network in inference mode (the inserted
 * batchnorms the identity); then gamma = sqrt(var + eps), beta = mean,
 * running statistics likewise: the identity still, now calibrated, so
 * that batch statistics in training mode start out close to it. */
static int calibrate(ir_graph *g, qgt_bn_intro *bi, const qgt_dataset *ds, const qgt_train_config *c,
                     int nb, diag_sink *d)
{
	qgt_trainer *t = qgt_forward_trainer(g, c, d);
	if (!t)
		return -1;
	int64_t b = t->batch, tot = 0;
	for (int i = 0; i < bi->n; i++)
		tot += bi->l[i].y->shape.d[1];
	int rc = -1;
	sampler sm = {0};
	double *sum = calloc((size_t)tot + 1, sizeof *sum), *sq = calloc((size_t)tot + 1, sizeof *sq);
	if (!sum || !sq) {
		diag_error(d, NULL, "out of memory");
		goto out;
	}
	if (sampler_init(&sm, ds, b, c->seed * 0x9E3779B97F4A7C15ull + 11, d))
		goto out;
	if (nb > ds->n / b)
		nb = (int)(ds->n / b);
	if (nb < 1) {
		rc = 0; /* fewer samples than a batch: stay the plain identity */
		goto out;
	}
	for (int k = 0; k < nb; k++) {
		sampler_batch(&sm, ds, k);
		if (qgt_trainer_forward(t, sm.x, NULL, false, NULL, NULL))
			goto out;
		int64_t off = 0;
		for (int i = 0; i < bi->n; i++) {
			const ir_value *v = bi->l[i].bn->in[0];
			const float *a = qgt_f(t, v);
			int64_t N = v->shape.d[0], C = v->shape.d[1], inner = ir_shape_numel(&v->shape) / (N * C);
			for (int64_t s = 0; s < N; s++)
				for (int64_t ch = 0; ch < C; ch++) {
					const float *p = a + (s * C + ch) * inner;
					double ps = 0, pq = 0;
					for (int64_t j = 0; j < inner; j++) {
						ps += p[j];
						pq += (double)p[j] * p[j];
					}
					sum[off + ch] += ps;
					sq[off + ch] += pq;
				}
			off += C;
		}
	}
	int64_t off = 0;
	for (int i = 0; i < bi->n; i++) {
		ir_node *bn = bi->l[i].bn;
		const ir_value *v = bn->in[0];
		int64_t N = v->shape.d[0], C = v->shape.d[1];
		double cnt = (double)nb * (double)(ir_shape_numel(&v->shape) / C);
		float eps = ir_attr_float(bn, "epsilon", 1e-5f);
		float *gam = bn->in[1]->data, *bet = bn->in[2]->data, *rm = bn->in[3]->data,
		      *rv = bn->in[4]->data;
		(void)N;
		for (int64_t ch = 0; ch < C; ch++) {
			double m = sum[off + ch] / cnt, var = sq[off + ch] / cnt - m * m;
			rm[ch] = (float)m;
			rv[ch] = (float)(var > 0 ? var : 0);
			/* the trainer's and the interpreter's inference form:
			 * gamma / sqrtf(rv + eps) == 1 up to rounding */
			gam[ch] = sqrtf(rv[ch] + eps);
			bet[ch] = rm[ch];
		}
		off += C;
	}
	rc = 0;
out:
	sampler_free(&sm);
	free(sum);
	free(sq);
	qgt_trainer_destroy(t);
	return rc;
}

int qgt_bn_reintroduce(ir_graph *g, const qgt_reg *r, const qgt_dataset *ds,
                       const qgt_train_config *c, int nb, qgt_bn_intro **out, diag_sink *d)
{
	*out = NULL;
	const reg_ctx *rc = (const reg_ctx *)r;
	if (!rc || rc->nst == 0)
		return 0;
	qgt_bn_intro *bi = calloc(1, sizeof *bi);
	if (bi)
		bi->l = calloc((size_t)rc->nst, sizeof *bi->l);
	if (!bi || !bi->l) {
		free(bi);
		diag_error(d, NULL, "out of memory");
		return -1;
	}
	int kept = 0; /* would take one, but their grid would not survive */
	bool pow2 = false, tensor = false;
	for (int i = 0; i < rc->nst; i++) {
		const qgt_reg_state *s = &rc->st[i];
		ir_node *n = s->node;
		if (n->dead || n->nin < 2 || n->in[1] != s->v || !takes_bn(g, n) ||
		    reader_with_op(g, n->out[0], IR_OP_BATCHNORM))
			continue;
		if (!grid_survives_fold(s)) {
			kept++;
			pow2 |= s->spec.scheme == IR_QS_POW2;
			tensor |= !s->spec.per_channel;
			continue;
		}
		ir_value *y = n->out[0];
		ir_node *bn = insert_bn(g, n, d);
		if (!bn)
			goto fail;
		bi->l[bi->n++] = (bn_intro_one){.layer = n, .bn = bn, .y = y};
	}
	if (kept && c->log)
		fprintf(c->log, "qgt: batchnorm not re-introduced after %d kernel%s: %s%s%s grids would not "
		                "survive folding it back\n",
		        kept, kept > 1 ? "s" : "", tensor ? "per-tensor" : "", tensor && pow2 ? " and " : "",
		        pow2 ? "power-of-two" : "");
	if (bi->n == 0) {
		free(bi->l);
		free(bi);
		return 0;
	}
	*out = bi;
	if (ir_graph_toposort(g, d) || calibrate(g, bi, ds, c, nb, d))
		goto fail;
	return bi->n;
fail:
	qgt_bn_refold(g, bi, d);
	*out = NULL;
	return -1;
}

int qgt_bn_refold(ir_graph *g, qgt_bn_intro *bi, diag_sink *d)
{
	(void)d;
	if (!bi)
		return 0;
	for (int i = 0; i < bi->n; i++) {
		ir_node *n = bi->l[i].layer, *bn = bi->l[i].bn;
		ir_value *w = n->in[1], *b = n->in[2], *y = bi->l[i].y;
		int64_t C = y->shape.d[1];
		const float *gam = bn->in[1]->data, *bet = bn->in[2]->data, *rm = bn->in[3]->data,
		            *rv = bn->in[4]->data;
		float eps = ir_attr_float(bn, "epsilon", 1e-5f);
		float *wd = w->data, *bd = b->data;
		/* bnfold's arithmetic: W'[o] = W[o] s[o], b' = (b - mean) s + beta */
		int axis = n->op == IR_OP_GEMM && !ir_attr_int(n, "trans_b", 0) ? 1 : 0;
		int64_t outer = 1, inner = 1;
		for (int k = 0; k < axis; k++)
			outer *= w->shape.d[k];
		for (int k = axis + 1; k < w->shape.rank; k++)
			inner *= w->shape.d[k];
		for (int64_t ch = 0; ch < C; ch++) {
			double sc = (double)gam[ch] / sqrt((double)rv[ch] + (double)eps);
			for (int64_t o = 0; o < outer; o++)
				for (int64_t k = 0; k < inner; k++) {
					float *p = wd + (o * C + ch) * inner + k;
					*p = (float)(*p * sc);
				}
			bd[ch] = (float)(((double)bd[ch] - rm[ch]) * sc + bet[ch]);
		}
		n->out[0] = y;
		y->producer = n;
		bn->dead = true;
	}
	if (bi->n)
		ir_graph_compact(g);
	free(bi->l);
	free(bi);
	return 0;
}

/* The kernels whose batchnorm (live in g) will be folded after
 * fine-tuning but whose grid does not survive that: one warning naming
 * them all.  Kernels with no batchnorm keep their grid as trained. */
static void warn_broken_grids(const ir_graph *g, const qgt_reg *r, diag_sink *d)
{
	const reg_ctx *rc = (const reg_ctx *)r;
	char list[512];
	size_t k = 0;
	int cnt = 0;
	bool pow2 = false, tensor = false;
	list[0] = 0;
	for (int i = 0; rc && i < rc->nst; i++) {
		const qgt_reg_state *s = &rc->st[i];
		if (grid_survives_fold(s) || s->node->nout < 1 ||
		    !reader_with_op(g, s->node->out[0], IR_OP_BATCHNORM))
			continue;
		pow2 |= s->spec.scheme == IR_QS_POW2;
		tensor |= !s->spec.per_channel;
		if (k < sizeof list - 1)
			k += (size_t)snprintf(list + k, sizeof list - k, "%s'%s'", cnt ? ", " : "",
			                      s->v->name ? s->v->name : "?");
		cnt++;
	}
	if (cnt)
		diag_warn(d, NULL, "--qgt: %s%s%s grids do not survive batchnorm folding, which scales each "
		                   "output channel by its own factor; the quantize pass re-rounds the folded "
		                   "kernel%s %s",
		          tensor ? "per-tensor" : "", tensor && pow2 ? " and " : "", pow2 ? "power-of-two" : "",
		          cnt > 1 ? "s" : "", list);
}

/* "qgt: activations int8 in the loop: ..." */
static void log_actq(FILE *f, const qgt_act_options *act, int n, int nsites)
{
	const pass_quant_options *qo = act->quant;
	int64_t cap = qo->calib_max > 0 ? qo->calib_max : 256;
	char obs[32];
	if (qo->act_calib == PASS_CALIB_PERCENTILE)
		snprintf(obs, sizeof obs, "percentile %g",
		         (double)(qo->act_percentile > 0 ? qo->act_percentile : 99.99f));
	else
		snprintf(obs, sizeof obs, "%s", qo->act_calib == PASS_CALIB_MSE ? "mse" : "minmax");
	fprintf(f, "qgt: activations int%d in the loop: %d fake quantizer%s for the %d value%s "
	           "quantize-act quantizes (%s ranges on %lld calibration samples, ",
	        qo->act_bits, n, n == 1 ? "" : "s", nsites, nsites == 1 ? "" : "s", obs,
	        (long long)(qo->calib_n < cap ? qo->calib_n : cap));
	if (act->ema > 0)
		fprintf(f, "then a moving average of batch min/max, %g", (double)act->ema);
	else
		fputs("fixed", f);
	fputs("); straight-through gradients\n", f);
}

int qgt_finetune(ir_graph *g, const qgt_dataset *ds, const qgt_train_config *c, qgt_reg *r,
                 const qgt_act_options *act, int bn_batches, qgt_finetune_stats *st,
                 diag_sink *d)
{
	memset(st, 0, sizeof *st);
	warn_broken_grids(g, r, d);
	/* Distillation: the model as it comes, float, is the teacher. */
	ir_graph *teacher = NULL;
	if (c->distill > 0 && !c->teacher && !(teacher = ir_graph_clone(g))) {
		diag_error(d, NULL, "out of memory");
		return -1;
	}
	qgt_bn_intro *bi = NULL;
	int nbi = r && ((const reg_ctx *)r)->o.bn_reintro
	                  ? qgt_bn_reintroduce(g, r, ds, c, BN_CALIB_BATCHES, &bi, d)
	                  : 0;
	if (nbi < 0) {
		ir_graph_destroy(teacher);
		return -1;
	}
	if (nbi > 0 && c->log)
		fprintf(c->log, "qgt: batchnorm re-introduced after %d kernel%s (folded back after fine-tuning)\n",
		        nbi, nbi > 1 ? "s" : "");
	qgt_train_config cc = *c;
	cc.regs = r;
	cc.nregs = r ? 1 : 0;
	cc.act_ema = act ? act->ema : 0;
	if (teacher)
		cc.teacher = teacher;
	int rc = -1, nsites = 0;
	qgt_actq *aq = NULL;
	int naq = act ? qgt_actq_insert(g, act, &aq, &nsites, d) : 0;
	if (naq < 0)
		goto out;
	if (act && act->quant && act->quant->act_bits && c->log)
		log_actq(c->log, act, naq, nsites);
	if (qgt_train(g, ds, &cc, &st->val_acc, d))
		goto out;
	if (r) {
		st->moved = qgt_reg_project(r, g, d);
		if (st->moved < 0)
			goto out;
	}
	if (bn_batches > 0 && qgt_bn_reestimate(g, ds, c, bn_batches, d))
		goto out;
	if (bn_batches > 0 && c->log)
		fprintf(c->log, "qgt: batchnorm statistics re-estimated on %d batches with the final kernels\n",
		        bn_batches);
	if (aq && (st->n_act_grids = qgt_actq_grids(aq, &st->act_grids)) < 0) {
		st->n_act_grids = 0;
		diag_error(d, NULL, "out of memory");
		goto out;
	}
	rc = 0;
out:
	/* take out and fold back even after an error: g keeps its structure */
	qgt_actq_remove(g, aq);
	ir_graph_destroy(teacher);
	if (qgt_bn_refold(g, bi, d))
		rc = -1;
	if (rc == 0 && nbi > 0 && r) {
		/* Folding scaled each channel of those kernels and its grid;
		 * land them on the grid the quantize pass will compute from the
		 * folded kernel (it differs by the rounding of the scales), so
		 * deployment stays a fixed point. */
		qgt_reg_release_grids(r);
		double m = qgt_reg_project(r, g, d);
		if (m < 0)
			return -1;
		st->moved += m;
	}
	return rc;
}

/* ------------------------------------------------------- deployment */

int qgt_reg_handoff(const qgt_reg *r, ir_graph *dst, pass_handoff *h, diag_sink *d)
{
	const reg_ctx *c = (const reg_ctx *)r;
	for (int i = 0; i < c->nst; i++) {
		const qgt_reg_state *s = &c->st[i];
		pass_weight_grid wg = {ir_arena_strdup(dst->arena, s->v->name), s->spec,
		                       c->o.kind != QGT_REG_QGT};
		if (c->o.kind == QGT_REG_SQ)
			wg.spec.scheme = s->sq_choice != IR_QS_NONE ? s->sq_choice : IR_QS_BINARY;
		int k = 0;
		while (k < h->nweights && strcmp(h->weights[k].name, s->v->name) != 0)
			k++;
		if (k == h->nweights) {
			pass_weight_grid *nw = realloc(h->weights, sizeof *nw * (size_t)(k + 1));
			if (!nw || !wg.name) {
				if (nw)
					h->weights = nw;
				diag_error(d, NULL, "out of memory");
				return -1;
			}
			h->weights = nw;
			h->nweights++;
		}
		h->weights[k] = wg;
	}
	return 0;
}
