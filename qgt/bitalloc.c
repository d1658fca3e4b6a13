/* bitalloc.c: the pass `bitalloc` (--flash-budget): a bit width per layer
 * from {1, 2, 3, 4, 8, float} so that the model's parameter bytes, counted
 * as the size report counts them (pass_quant_total_bytes: packed weights,
 * quantization parameters, float parameters), fit the budget, losing as
 * little as it can.
 *
 * Cost: the bytes of each kernel at each width come from running quantize
 * and bitpack on a copy at that width (no formula of our own to drift
 * from the report's).  Benefit: the sensitivity of each kernel at each
 * width, the increase of the mean cross-entropy on a seeded sample of the
 * training split when only that kernel is quantized (on the grid quantize
 * would deploy: batchnorm folded first); the test split is never looked
 * at.  When qgt fine-tunes after the pass (budget_for_qgt), the measure
 * is instead each kernel's squared quantization error weighted by the
 * diagonal of the empirical Fisher information (squared gradients of the
 * loss on the same sample), on the grid QGT trains to (MSE at 2 bits or
 * fewer): the second-order loss increase that fine-tuning leaves, the
 * HAWQ-V2 criterion with the Fisher for the Hessian.  Plain PTQ losses
 * are dominated by shifts of each channel's mean and scale, which
 * fine-tuning restores at no cost (bench/README.md compares the two
 * under QGT).  The allocation
 * minimises the sum of those costs under the budget (a multiple-choice
 * knapsack, solved exactly in bytes up to 256 KB, above that on bytes
 * rounded up), then spends what rounding left on the kernels that gain
 * the most per byte.  A kernel is a bottleneck when
 * quantizing it alone to 2 bits costs at least a third of what all kernels
 * cost alone (QGT-NOTES lesson 6: the first conv).
 *
 * One bit means binary weights (+-scale per channel), the other widths
 * the affine or symmetric grid of --scheme.
 *
 * The choice goes into each layer's hint (!bits=N, 32: float; with
 * !scheme=binary at one bit), which qgt and quantize then follow; the
 * table goes to the qgt log.
 * requires: shapes; one input; labelled data; no --bits rules (they would
 *           override the hints).
 * keeps: structure, names, shapes, constants; sets quantization hints. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "pass.h"
#include "qgt.h"
#include "train_internal.h"

enum { NW = 6 };                            /* candidate widths */
static const int widths[NW] = {1, 2, 3, 4, 8, 32};

/* The grid of a width: one bit is binary (+-scale per channel), whose two
 * levels straddle zero, where the affine grid's one bit with an integer
 * zero point has 0 and one other level (QGT at 1 bit on res8_bn: 84.97%
 * binary, 78.18% affine, in fewer bytes: no zero points). */
static ir_qscheme scheme_at(int bits, ir_qscheme scheme)
{
	return bits == 1 ? IR_QS_BINARY : scheme;
}

typedef struct alloc_layer {
	int node;                   /* index in the folded copy and its copies */
	const char *name;           /* node name, else weight name */
	int64_t params, macs;
	size_t bytes[NW];
	int64_t bias_n;             /* values of its bias (0: none) */
	double dloss[NW];           /* cost of this kernel alone at widths[k]: loss
	                             * increase, or Fisher-weighted squared error */
	int pick;                   /* index into widths */
	float *fisher;              /* [params]: summed squared gradients (QGT) */
	bool bottleneck;
} alloc_layer;

/* Mean cross-entropy of t's graph over samples x[0..n) (n a multiple of
 * the batch). */
static int mean_loss(qgt_trainer *t, const qgt_dataset *ds, const int64_t *idx, int64_t n,
                     float *xb, int32_t *yb, double *loss)
{
	int64_t b = t->batch;
	double sum = 0;
	for (int64_t s = 0; s < n; s += b) {
		qgt_gather_batch(ds, idx + s, b, xb, yb, 0, false, NULL);
		double l;
		if (qgt_trainer_forward(t, xb, yb, false, &l, NULL))
			return -1;
		sum += l;
	}
	*loss = sum / (double)(n / b);
	return 0;
}

int64_t qgt_layer_macs(const ir_node *n)
{
	const ir_value *w = n->in[1], *y = n->out[0];
	if (!ir_shape_known(&y->shape) || !ir_shape_known(&w->shape))
		return 0;
	int64_t per = ir_shape_numel(&w->shape);
	int64_t outs = ir_shape_numel(&y->shape);
	int axis = pass_weight_axis(n, 1);
	int64_t oc = axis >= 0 && axis < w->shape.rank ? w->shape.d[axis] : 1;
	/* each output element takes one kernel slice of numel(w) / oc MACs */
	return oc > 0 ? outs / (y->shape.rank > 0 ? y->shape.d[0] : 1) * (per / oc) : 0;
}

/* Layer a's node in g (the graph before bnfold): by name. */
static ir_node *node_in(ir_graph *g, const ir_graph *t, const alloc_layer *a)
{
	const ir_node *m = t->nodes[a->node];
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (!n->dead && n->op == m->op && n->name && m->name && *m->name &&
		    strcmp(n->name, m->name) == 0)
			return n;
	}
	for (int i = 0; i < g->nnodes; i++) { /* an unnamed node: by its weight's name */
		ir_node *n = g->nodes[i];
		if (!n->dead && n->op == m->op && n->nin > 1 && n->in[1] && m->in[1]->name &&
		    n->in[1]->name && strcmp(n->in[1]->name, m->in[1]->name) == 0)
			return n;
	}
	return NULL;
}

/* Cost of assignment `pick` over the layers. */
static size_t total_of(const alloc_layer *L, int nl, size_t base)
{
	size_t t = base;
	for (int l = 0; l < nl; l++)
		t += L[l].bytes[L[l].pick];
	return t;
}

/* The least summed loss increase whose bytes fit: a multiple-choice
 * knapsack by dynamic programming over the bytes the layers may take,
 * in bytes up to 256 KB of them, else in units of 1/262144 (costs rounded
 * up, so what it picks fits),
 * then, in exact bytes, what is left widens the layers that gain the most
 * per byte.  0, or -1 when out of memory (nothing picked). */
static int allocate(alloc_layer *L, int nl, size_t base, size_t budget)
{
	size_t room = budget - base, unit = room / 262144 + 1, cap = room / unit;
	double *dp = malloc(sizeof *dp * (cap + 1)), *nx = malloc(sizeof *nx * (cap + 1));
	signed char *ch = malloc((size_t)nl * (cap + 1));
	if (!dp || !nx || !ch) {
		free(dp);
		free(nx);
		free(ch);
		return -1;
	}
	for (size_t j = 0; j <= cap; j++)
		dp[j] = 0;
	for (int l = 0; l < nl; l++) {
		for (size_t j = 0; j <= cap; j++) {
			nx[j] = INFINITY;
			ch[(size_t)l * (cap + 1) + j] = -1;
			for (int k = 0; k < NW; k++) {
				size_t c = (L[l].bytes[k] + unit - 1) / unit;
				if (c > j || !isfinite(dp[j - c]))
					continue;
				double v = dp[j - c] + (widths[k] == 32 ? 0 : L[l].dloss[k]);
				if (v < nx[j]) {
					nx[j] = v;
					ch[(size_t)l * (cap + 1) + j] = (signed char)k;
				}
			}
		}
		double *tmp = dp;
		dp = nx;
		nx = tmp;
	}
	size_t j = cap;
	for (int l = nl - 1; l >= 0; l--) {
		int k = ch[(size_t)l * (cap + 1) + j];
		if (k < 0)
			k = 0; /* cannot happen when the caller checked the 1-bit minimum */
		L[l].pick = k;
		size_t c = (L[l].bytes[k] + unit - 1) / unit;
		j = c <= j ? j - c : 0;
	}
	free(dp);
	free(nx);
	free(ch);
	for (;;) {
		size_t now = total_of(L, nl, base);
		int best = -1, bk = 0;
		double bv = 0;
		for (int l = 0; l < nl; l++)
			for (int k = L[l].pick + 1; k < NW; k++) {
				if (L[l].bytes[k] <= L[l].bytes[L[l].pick])
					continue;
				size_t extra = L[l].bytes[k] - L[l].bytes[L[l].pick];
				if (now + extra > budget)
					continue;
				double lk = widths[k] == 32 ? 0 : L[l].dloss[k];
				double v = (L[l].dloss[L[l].pick] - lk) / (double)extra;
				if (v > bv) {
					bv = v;
					best = l;
					bk = k;
				}
			}
		if (best < 0)
			return 0;
		L[best].pick = bk;
	}
}

/* The empirical Fisher diagonal of each layer's kernel: squared
 * gradients of the mean loss, summed over the sample's batches. */
static int fisher_diag(qgt_trainer *tr, ir_graph *t, alloc_layer *L, int nl, const qgt_dataset *ds,
                       const int64_t *idx, int64_t n, float *xb, int32_t *yb, diag_sink *d)
{
	qgt_param **p = calloc((size_t)nl, sizeof *p);
	if (!p)
		goto oom;
	for (int l = 0; l < nl; l++) {
		const ir_value *w = t->nodes[L[l].node]->in[1];
		for (int i = 0; i < qgt_trainer_nparams(tr); i++)
			if (qgt_trainer_param(tr, i)->v == w)
				p[l] = qgt_trainer_param(tr, i);
		L[l].fisher = calloc((size_t)L[l].params, sizeof *L[l].fisher);
		if (!L[l].fisher)
			goto oom;
		if (!p[l] || p[l]->n != L[l].params) {
			diag_error(d, ir_node_loc(t, t->nodes[L[l].node]),
			           "--flash-budget: the trainer has no gradient for layer '%s'", L[l].name);
			free(p);
			return -1;
		}
	}
	for (int64_t s = 0; s < n; s += tr->batch) {
		qgt_gather_batch(ds, idx + s, tr->batch, xb, yb, 0, false, NULL);
		if (qgt_trainer_forward(tr, xb, yb, false, NULL, NULL) || qgt_trainer_backward(tr)) {
			free(p);
			return -1;
		}
		for (int l = 0; l < nl; l++)
			for (int64_t j = 0; j < L[l].params; j++)
				L[l].fisher[j] += p[l]->g[j] * p[l]->g[j];
	}
	free(p);
	return 0;
oom:
	free(p);
	diag_error(d, NULL, "out of memory");
	return -1;
}

static int run(ir_graph *g, const pass_options *o, diag_sink *d)
{
	const qgt_pass_options *po = o ? o->qgt : NULL;
	if (!po || !po->flash_budget)
		return 0;
	const pass_quant_options *qo0 = o->quant;
	if (!po->data_dir) {
		diag_error(d, g->src_file, "--flash-budget measures each layer's sensitivity on labelled "
		           "data: give --data DIR (its training split is used)");
		return -1;
	}
	if (qo0 && qo0->bits_rules) {
		diag_error(d, NULL, "--flash-budget chooses every layer's bits: drop the --bits rules");
		return -1;
	}
	ir_qscheme scheme = qo0 && qo0->scheme ? qo0->scheme : IR_QS_AFFINE;
	if (scheme != IR_QS_AFFINE && scheme != IR_QS_SYMMETRIC) {
		diag_error(d, NULL, "--flash-budget chooses bit widths of the affine or symmetric grid, "
		           "not of --scheme %s", pass_qscheme_name(scheme));
		return -1;
	}
	if (g->ninputs != 1) {
		diag_error(d, g->src_file, "--flash-budget needs a model with exactly one input; it has %d",
		           g->ninputs);
		return -1;
	}
	FILE *log = po->train.log;
	int rc = -1, nl = 0;
	qgt_dataset ds = {0};
	ir_graph *t = NULL, *c = NULL;
	qgt_trainer *tr = NULL;
	alloc_layer *L = NULL;
	int64_t *idx = NULL;
	float *xb = NULL, *dq = NULL, *save = NULL;
	int32_t *yb = NULL;
	if (qgt_dataset_load(&ds, po->data_dir, QGT_SPLIT_TRAIN, &po->norm, d))
		goto out;
	/* The graph as quantize sees it: batchnorm folded, batch bound. */
	t = ir_graph_clone(g);
	if (!t)
		goto oom;
	/* The pass chooses every layer's width: a width or grid hinted on a
	 * node (a DSL's bits=, a .qir's !bits=/!scheme=) would override the
	 * width being measured, as a --bits rule would, and the choice
	 * replaces it anyway. */
	for (int i = 0; i < t->nnodes; i++) {
		t->nodes[i]->qhint.bits = 0;
		t->nodes[i]->qhint.scheme = IR_QS_NONE;
	}
	int64_t B = t->inputs[0]->shape.rank > 0 ? t->inputs[0]->shape.d[0] : 0;
	if (B == 1 && qgt_free_batch(t))
		B = IR_DIM_SYM;
	if (B == IR_DIM_SYM)
		ir_graph_bind_batch(t, B = 100);
	pass_options to = {.verify_each = o->verify_each, .quant = o->quant};
	if (pass_run_pipeline(t, "shapes,fold-constants,unroll-rnn,fold-qdq,fold-constants,dce,bnfold", &to, d))
		goto out;
	pass_quant_options qo = qo0 ? *qo0 : (pass_quant_options){.bits = 8, .percentile = 99.9f};
	qo.scheme = scheme;
	qo.bits_rules = NULL;
	qo.act_bits = 0;
	qo.calib_x = NULL;
	qo.act_grids = NULL;
	qo.n_act_grids = 0;
	if (po->budget_for_qgt && !po->calib_given)
		qo.mse_max_bits = QGT_MSE_MAX_BITS; /* the grid QGT trains to */
	L = calloc((size_t)t->nnodes + 1, sizeof *L);
	if (!L)
		goto oom;
	int64_t maxn = 1;
	for (int i = 0; i < t->nnodes; i++) {
		ir_value *w;
		pass_qspec sp;
		int q = pass_quant_spec_for(&qo, t->nodes[i], &w, &sp, d);
		if (q < 0)
			goto out;
		if (q == 0)
			continue;
		alloc_layer *a = &L[nl++];
		a->node = i;
		const char *nn = t->nodes[i]->name;
		a->name = nn && *nn ? nn : w->name;
		a->params = ir_shape_numel(&w->shape);
		a->macs = qgt_layer_macs(t->nodes[i]);
		if (a->params > maxn)
			maxn = a->params;
		if (!a->name || !*a->name) {
			diag_error(d, ir_node_loc(t, t->nodes[i]), "--flash-budget: a layer without a name");
			goto out;
		}
	}
	if (nl == 0) {
		diag_error(d, g->src_file, "--flash-budget: the model has no weights to quantize");
		goto out;
	}
	/* Bytes: quantize and bitpack a copy at each width. */
	size_t base = 0;
	for (int k = 0; k < NW; k++) {
		if (widths[k] == 32)
			continue;
		c = ir_graph_clone(t);
		if (!c)
			goto oom;
		qo.bits = widths[k];
		qo.scheme = scheme_at(widths[k], scheme);
		pass_options co = {.quant = &qo};
		if (pass_run_pipeline(c, "quantize,bitpack", &co, d))
			goto out;
		size_t tot = pass_quant_total_bytes(c, NULL), sum = 0;
		for (int l = 0; l < nl; l++) {
			const ir_node *n = c->nodes[L[l].node];
			/* its bias too: stored by width (pass_bias_dtype: b12 at
			 * 2 bits or fewer, fp16 above, f32 in a float layer) */
			const ir_value *b = n->nin > 2 && n->in[2]->kind == IR_VAL_CONST ? n->in[2] : NULL;
			L[l].bias_n = b ? ir_shape_numel(&b->shape) : 0;
			L[l].bytes[k] = pass_quant_weight_bytes(n->in[1]) + (b ? pass_bias_bytes(c, b) : 0);
			sum += L[l].bytes[k];
		}
		base = tot - sum;
		ir_graph_destroy(c);
		c = NULL;
	}
	for (int l = 0; l < nl; l++)
		L[l].bytes[NW - 1] = (size_t)(L[l].params + L[l].bias_n) * 4;
	size_t minb = base, maxb = base;
	for (int l = 0; l < nl; l++) {
		minb += L[l].bytes[0];
		maxb += L[l].bytes[NW - 1];
	}
	size_t budget = po->flash_budget;
	if (budget < minb) {
		diag_error(d, g->src_file, "--flash-budget %zu bytes: the model needs at least %zu with "
		           "1-bit weights (%zu of them float parameters and quantization overhead)",
		           budget, minb, base);
		goto out;
	}
	if (budget >= maxb) {
		if (log)
			fprintf(log, "bitalloc: --flash-budget %zu bytes holds the FP32 model (%zu bytes): "
			        "every layer stays float\n", budget, maxb);
		for (int l = 0; l < nl; l++) {
			ir_node *n = node_in(g, t, &L[l]);
			if (n)
				n->qhint.bits = 32;
		}
		rc = 0;
		goto out;
	}
	/* Sensitivity on a seeded sample of the training split. */
	int64_t ns = ds.n < 1000 ? ds.n : 1000;
	ns -= ns % B;
	if (ns < B) {
		diag_error(d, NULL, "--flash-budget: %lld training samples are fewer than one batch of %lld",
		           (long long)ds.n, (long long)B);
		goto out;
	}
	idx = malloc(sizeof *idx * (size_t)ds.n);
	xb = malloc(sizeof *xb * (size_t)(B * ds.sample_numel));
	yb = malloc(sizeof *yb * (size_t)B);
	dq = malloc(sizeof *dq * (size_t)maxn);
	save = malloc(sizeof *save * (size_t)maxn);
	if (!idx || !xb || !yb || !dq || !save)
		goto oom;
	for (int64_t i = 0; i < ds.n; i++)
		idx[i] = i;
	uint64_t seed = 0x5EED0B17A11Cull;
	qgt_shuffle(idx, ds.n, &seed);
	qgt_train_config tc;
	qgt_train_config_default(&tc);
	tc.batch = B;
	tc.threads = po->train.threads;
	tr = qgt_forward_trainer(t, &tc, d);
	if (!tr)
		goto out;
	if (ds.sample_numel * B != tr->numel[tr->in->id] || !ir_shape_feeds(&ds.sample, &tr->in->shape)) {
		diag_error(d, g->src_file, "--flash-budget: the data set's samples do not fit the model input");
		goto out;
	}
	double l0;
	if (mean_loss(tr, &ds, idx, ns, xb, yb, &l0))
		goto out;
	bool fisher = po->budget_for_qgt;
	if (fisher && fisher_diag(tr, t, L, nl, &ds, idx, ns, xb, yb, d))
		goto out;
	if (log) {
		fprintf(log, "bitalloc: measuring %d layers at %d widths on %lld training samples (%s)\n", nl,
		        NW - 1, (long long)ns,
		        fisher ? "cost: Fisher-weighted squared error on QGT's grid"
		               : "cost: loss increase, quantized alone");
		fflush(log);
	}
	for (int l = 0; l < nl; l++) {
		ir_node *n = t->nodes[L[l].node];
		ir_value *w = n->in[1];
		memcpy(save, w->data, sizeof *save * (size_t)L[l].params);
		for (int k = 0; k < NW - 1; k++) {
			ir_value *wv;
			pass_qspec sp;
			qo.bits = widths[k];
			qo.scheme = scheme_at(widths[k], scheme);
			if (pass_quant_spec_for(&qo, n, &wv, &sp, d) != 1)
				goto out;
			ir_quant q = {0};
			int qr = pass_quantize(save, &w->shape, &sp, NULL, &q, dq, NULL, d);
			pass_quant_free(&q);
			if (qr)
				goto out;
			if (fisher) {
				double e = 0;
				for (int64_t j = 0; j < L[l].params; j++)
					e += (double)L[l].fisher[j] * (dq[j] - save[j]) * (dq[j] - save[j]);
				L[l].dloss[k] = e;
				continue;
			}
			memcpy(w->data, dq, sizeof *dq * (size_t)L[l].params);
			double lk;
			if (mean_loss(tr, &ds, idx, ns, xb, yb, &lk))
				goto out;
			L[l].dloss[k] = lk - l0;
		}
		memcpy(w->data, save, sizeof *save * (size_t)L[l].params);
	}
	double sum2 = 0;
	for (int l = 0; l < nl; l++)
		sum2 += fmax(L[l].dloss[1], 0);
	for (int l = 0; l < nl; l++)
		L[l].bottleneck = nl > 1 && sum2 > 0 && L[l].dloss[1] >= sum2 / 3;
	if (allocate(L, nl, base, budget))
		goto oom;
	size_t total = total_of(L, nl, base);
	if (total > budget) {
		diag_error(d, g->src_file, "--flash-budget %zu bytes: no mix of widths fits (%zu at best)",
		           budget, total);
		goto out;
	}
	for (int l = 0; l < nl; l++) {
		ir_node *n = node_in(g, t, &L[l]);
		if (!n) {
			diag_error(d, g->src_file, "--flash-budget: layer '%s' not found again after folding",
			           L[l].name);
			goto out;
		}
		n->qhint.bits = widths[L[l].pick];
		n->qhint.scheme = widths[L[l].pick] == 1 ? IR_QS_BINARY : IR_QS_NONE;
	}
	if (log) {
		fprintf(log, "bitalloc: %zu of %zu bytes (FP32 %zu, all 1-bit %zu); loss %.4f float on the sample\n",
		        total, budget, maxb, minb, l0);
		fprintf(log, "%-28s %8s %10s %5s %8s %10s %10s %s\n", "layer", "params", "MACs", "bits", "bytes",
		        "cost@2b", "cost@pick", "");
		for (int l = 0; l < nl; l++) {
			char bs[8];
			snprintf(bs, sizeof bs, "%d", widths[L[l].pick]);
			fprintf(log, "%-28.28s %8lld %10lld %5s %8zu %+10.3g %+10.3g %s\n", L[l].name,
			        (long long)L[l].params, (long long)L[l].macs,
			        widths[L[l].pick] == 32 ? "fp32" : bs,
			        L[l].bytes[L[l].pick], L[l].dloss[1],
			        widths[L[l].pick] == 32 ? 0.0 : L[l].dloss[L[l].pick],
			        L[l].bottleneck ? "bottleneck" : "");
		}
		fflush(log);
	}
	rc = 0;
	goto out;
oom:
	diag_error(d, NULL, "out of memory");
out:
	qgt_trainer_destroy(tr);
	ir_graph_destroy(c);
	ir_graph_destroy(t);
	qgt_dataset_free(&ds);
	for (int l = 0; L && l < nl; l++)
		free(L[l].fisher);
	free(L);
	free(idx);
	free(xb);
	free(yb);
	free(dq);
	free(save);
	return rc;
}

static const pass_info bitalloc_pass = {
	"bitalloc",
	"choose each layer's weight bits from {1,2,3,4,8,float} to fit --flash-budget, by sensitivity "
	"on the training split (--data)",
	run,
	true,
};

int qgt_register_bitalloc(void)
{
	if (pass_find(bitalloc_pass.name) == &bitalloc_pass)
		return 0;
	return pass_register(&bitalloc_pass);
}
