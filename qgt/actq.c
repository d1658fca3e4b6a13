/* actq.c: integer activations in the fine-tune loop (QGT with -a): a
 * fake_quant after every value quantize-act will quantize, on the grid it
 * will derive from the range its observer picks, inserted into the
 * trainer's graph for the fine-tune and taken out after.  The sites, the
 * observers and the grid are quantize-act's own (passes/actquant.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "actquant.h"
#include "qgt.h"

typedef struct actq_one {
	ir_value *v;              /* the value quantized (the fake_quant's input) */
	ir_value *y;              /* the fake_quant's output, which v's readers read */
	ir_node *fq;
} actq_one;

/* A value quantize-act will quantize, and the quantizer it trains with. */
typedef struct actq_site {
	const char *name;
	int fq;                   /* index in l, or -1: none (after the loss) */
	float scale;              /* as calibrated */
	int32_t zp;
} actq_site;

struct qgt_actq {
	int n;
	actq_one *l;
	int nsite;
	actq_site *site;
};

typedef struct layer_ctx {
	const pass_quant_options *qo;
	diag_sink *d;
} layer_ctx;

/* The layers quantize-act will see: conv, gemm and matmul whose weight
 * the quantize pass quantizes (--bits rules included). */
static bool quantized_layer(const ir_node *n, void *ctx)
{
	const layer_ctx *c = ctx;
	ir_value *w;
	pass_qspec spec;
	return pass_quant_spec_for(c->qo, n, &w, &spec, c->d) == 1 && w == n->in[1];
}

/* The one live node reading v, which is no graph output; else NULL. */
static ir_node *sole_reader(const ir_graph *g, const ir_value *v)
{
	for (int i = 0; i < g->noutputs; i++)
		if (g->outputs[i] == v)
			return NULL;
	ir_node *r = NULL;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		for (int j = 0; !n->dead && j < n->nin; j++)
			if (n->in[j] == v) {
				if (r)
					return NULL;
				r = n;
			}
	}
	return r;
}

static int root(const pass_act_plan *p, int k)
{
	return p->site[k].share >= 0 ? p->site[k].share : k;
}

/* The site that makes a quantizer of site k's own needless in training,
 * or -1: k's value reaches it, on the same grid, through ops that keep
 * the grid (max pools, relus, views, each the only reader).  The fake
 * quantizer there gives the same values (those ops commute with rounding
 * to a grid that holds 0), and a batchnorm's fusion with its relu and max
 * pool stays. */
static int covered_below(const ir_graph *g, const pass_act_plan *p, int k)
{
	const ir_value *v = p->site[k].v;
	for (;;) {
		ir_node *r = sole_reader(g, v);
		if (!r || !ir_node_keeps_quant(r) || r->op == IR_OP_AVG_POOL ||
		    r->op == IR_OP_GLOBAL_AVG_POOL || r->in[0] != v || r->nout < 1 || !r->out[0] ||
		    r->out[0]->dt != IR_DT_F32)
			return -1;
		v = r->out[0];
		for (int j = 0; j < p->nsite; j++)
			if (p->site[j].v == v && root(p, j) == root(p, k))
				return j;
	}
}

/* A graph output the loss does not read: made by the softmax the trainer
 * looks through to its logits. */
static bool after_loss(const ir_graph *g, const ir_value *v)
{
	for (int i = 0; i < g->noutputs; i++)
		if (g->outputs[i] == v && v->producer &&
		    (v->producer->op == IR_OP_SOFTMAX || v->producer->op == IR_OP_LOG_SOFTMAX))
			return true;
	return false;
}

/* fake_quant(v, scale, zp) -> v.fq, which v's readers (and the graph
 * outputs naming v) read instead of v. */
static ir_node *insert_fq(ir_graph *g, ir_value *v, ir_dtype dt, float scale, int32_t zp,
                          ir_value **y)
{
	int16_t z16 = (int16_t)zp;
	int8_t z8 = (int8_t)zp;
	ir_shape s0 = ir_shape_make(0, NULL);
	ir_value *sc = ir_graph_add_const(g, ir_graph_unique_name(g, ir_arena_printf(g->arena, "%s.fq_scale", v->name)),
	                                  IR_DT_F32, &s0, &scale);
	ir_value *z = ir_graph_add_const(g, ir_graph_unique_name(g, ir_arena_printf(g->arena, "%s.fq_zp", v->name)),
	                                 dt, &s0, dt == IR_DT_I16 ? (const void *)&z16 : (const void *)&z8);
	*y = ir_graph_add_value(g, ir_graph_unique_name(g, ir_arena_printf(g->arena, "%s.fq", v->name)),
	                        IR_DT_F32, &v->shape);
	if (!sc || !z || !*y)
		return NULL;
	ir_graph_replace_uses(g, v, *y);
	ir_value *in[3] = {v, sc, z};
	return ir_graph_add_node(g, IR_OP_FAKE_QUANT, ir_arena_printf(g->arena, "%s.fq", v->name), 3, in, 1, y);
}

int qgt_actq_insert(ir_graph *g, const qgt_act_options *o, qgt_actq **out, int *nsites,
                    diag_sink *d)
{
	*out = NULL;
	if (nsites)
		*nsites = 0;
	const pass_quant_options *qo = o ? o->quant : NULL;
	if (!qo || !qo->act_bits)
		return 0;
	ir_dtype dt = pass_act_dtype(qo->act_bits);
	if (ir_graph_toposort(g, d) || ir_infer_shapes(g, d))
		return -1;
	pass_act_plan P;
	layer_ctx lc = {qo, d};
	if (pass_act_plan_build(g, qo->act_bits, quantized_layer, &lc, true, &P, d))
		return -1;
	int n = P.nsite, rc = -1;
	qgt_actq *a = calloc(1, sizeof *a);
	ir_value **vals = calloc((size_t)n + 1, sizeof *vals);
	double *lo = calloc((size_t)n + 1, sizeof *lo), *hi = calloc((size_t)n + 1, sizeof *hi);
	int *cover = calloc((size_t)n + 1, sizeof *cover);
	if (a) {
		a->l = calloc((size_t)n + 1, sizeof *a->l);
		a->site = calloc((size_t)n + 1, sizeof *a->site);
	}
	if (!a || !a->l || !a->site || !vals || !lo || !hi || !cover) {
		diag_error(d, NULL, "out of memory");
		goto out;
	}
	if (nsites)
		*nsites = n;
	if (n == 0) {
		rc = 0;
		goto out;
	}
	/* Ranges of the float model as it starts the fine-tune, observed
	 * as quantize-act observes them. */
	for (int k = 0; k < n; k++)
		vals[k] = P.site[k].v;
	if (pass_act_ranges(g, qo, vals, n, lo, hi, d))
		goto out;
	/* cover[k]: k itself, the site whose quantizer k's value reaches,
	 * or -1: none, after the loss */
	for (int k = 0; k < n; k++) {
		int j = covered_below(g, &P, k);
		cover[k] = j >= 0 ? j : after_loss(g, P.site[k].v) ? -1 : k;
	}
	for (int k = 0; k < n; k++) {
		ir_value *v = P.site[k].v;
		actq_site *st = &a->site[a->nsite++];
		int j = root(&P, k);
		st->name = v->name;
		st->fq = -1;
		pass_act_params(lo[j], hi[j], dt, &st->scale, &st->zp);
		if (cover[k] != k)
			continue;
		actq_one *l = &a->l[a->n];
		l->v = v;
		if (!(l->fq = insert_fq(g, v, dt, st->scale, st->zp, &l->y))) {
			diag_error(d, NULL, "out of memory");
			goto out;
		}
		st->fq = a->n++;
	}
	for (int k = 0; k < n; k++) {
		int j = k;
		while (j >= 0 && cover[j] != j)
			j = cover[j];
		if (j >= 0)
			a->site[k].fq = a->site[j].fq;
	}
	if (ir_graph_toposort(g, d) || ir_infer_shapes(g, d))
		goto out;
	rc = a->n;
out:
	free(vals);
	free(lo);
	free(hi);
	free(cover);
	pass_act_plan_free(&P);
	if (rc <= 0) {
		qgt_actq_remove(g, a);
		return rc;
	}
	*out = a;
	return rc;
}

int qgt_actq_grids(const qgt_actq *a, pass_act_grid **out)
{
	*out = NULL;
	if (!a || !a->nsite)
		return 0;
	pass_act_grid *gr = calloc((size_t)a->nsite, sizeof *gr);
	if (!gr)
		return -1;
	for (int k = 0; k < a->nsite; k++) {
		const actq_site *st = &a->site[k];
		gr[k] = (pass_act_grid){st->name, st->scale, st->zp};
		if (st->fq >= 0) {
			const ir_node *fq = a->l[st->fq].fq;
			gr[k].scale = *(const float *)fq->in[1]->data;
			gr[k].zero_point = (int32_t)ir_const_get(fq->in[2], 0);
		}
	}
	*out = gr;
	return a->nsite;
}

void qgt_actq_remove(ir_graph *g, qgt_actq *a)
{
	if (!a)
		return;
	for (int i = 0; i < a->n; i++) {
		ir_graph_replace_uses(g, a->l[i].y, a->l[i].v);
		a->l[i].fq->dead = true;
	}
	if (a->n)
		ir_graph_compact(g);
	free(a->l);
	free(a->site);
	free(a);
}
