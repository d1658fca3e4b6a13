/* bnfold.c: fold BatchNorm (inference form) into the conv, conv_transpose
 * or gemm that feeds it: W'[o] = W[o] * s[o], b'[o] = (b[o] - mean[o]) *
 * s[o] + beta[o], s = gamma / sqrt(var + eps).  Exact up to float rounding.
 * requires: constant weights, bias and BN parameters (f32, with data);
 * the producer's output read by the BN alone.  keeps: value names (the
 * BN's output value becomes the producer's output), shapes.  breaks:
 * nothing; the BN node is marked dead and the graph compacted.  Weights
 * already quantized are left alone. */
#include <math.h>
#include <string.h>

#include "pass.h"

static bool const_f32(const ir_value *v)
{
	return v && v->kind == IR_VAL_CONST && v->dt == IR_DT_F32 && v->data &&
	       ir_shape_known(&v->shape);
}

/* A fresh f32 buffer of n elements in g's arena. */
static float *fbuf(ir_graph *g, int64_t n)
{
	return ir_arena_alloc(g->arena, (size_t)(n ? n : 1) * sizeof(float));
}

/* Give node input slot j the f32 constant data (shape s): in place if the
 * current value is a constant only this node reads, else as a new value. */
static int set_input(ir_graph *g, ir_node *n, int j, const char *base, const ir_shape *s,
                     float *data)
{
	if (j >= n->nin) {
		ir_value **in = ir_arena_alloc(g->arena, (size_t)(j + 1) * sizeof *in);
		if (!in)
			return -1;
		memcpy(in, n->in, (size_t)n->nin * sizeof *in);
		n->in = in;
		n->nin = j + 1;
	}
	ir_value *v = n->in[j];
	if (v && v->kind == IR_VAL_CONST && ir_value_use_count(g, v) == 1 && ir_shape_eq(&v->shape, s)) {
		v->data = data;
		return 0;
	}
	ir_value *nv = ir_graph_add_const(g, ir_graph_unique_name(g, base), IR_DT_F32, s, data);
	if (!nv)
		return -1;
	n->in[j] = nv;
	return 0;
}

/* Fold bn into its producer p if the pattern fits; 1 if folded, 0 if
 * not, -1 on error. */
static int fold_one(ir_graph *g, ir_node *bn, diag_sink *d)
{
	ir_value *x = bn->in[0];
	ir_node *p = x ? x->producer : NULL;
	if (!p || p->dead || p->nout != 1 || p->out[0] != x || ir_value_is_output(g, x) ||
	    ir_value_use_count(g, x) != 1)
		return 0;
	if (p->op != IR_OP_CONV && p->op != IR_OP_CONV_TRANSPOSE && p->op != IR_OP_GEMM)
		return 0;
	for (int j = 1; j < 5; j++)
		if (!const_f32(bn->in[j]) || bn->in[j]->shape.rank != 1)
			return 0;
	ir_value *w = p->in[1];
	if (!const_f32(w) || w->quant || w->shape.rank < 2)
		return 0;
	int64_t C = bn->in[1]->shape.d[0];
	for (int j = 2; j < 5; j++)
		if (bn->in[j]->shape.d[0] != C)
			return 0;

	/* Where the output channels sit in W, and their count. */
	int64_t O;
	int waxis;
	int64_t group = ir_attr_int(p, "group", 1);
	if (p->op == IR_OP_CONV) {
		waxis = 0;
		O = w->shape.d[0];
	} else if (p->op == IR_OP_CONV_TRANSPOSE) {
		waxis = 1;
		O = w->shape.d[1] * group;
		if (group < 1 || w->shape.d[0] % group)
			return 0;
	} else {
		if (ir_attr_int(p, "trans_b", 0)) {
			waxis = 0;
			O = w->shape.d[0];
		} else {
			waxis = 1;
			O = w->shape.d[1];
		}
	}
	if (O != C)
		return 0;
	ir_value *b = p->nin > 2 ? p->in[2] : NULL;
	float beta_g = p->op == IR_OP_GEMM ? ir_attr_float(p, "beta", 1.0f) : 1.0f;
	if (b) {
		if (!const_f32(b))
			return 0;
		int64_t bn_ = ir_shape_numel(&b->shape);
		if (p->op != IR_OP_GEMM && bn_ != O)
			return 0;
		if (p->op == IR_OP_GEMM && !(bn_ == 1 || (bn_ == O && b->shape.d[b->shape.rank - 1] == O)))
			return 0;
	}

	const float *gam = bn->in[1]->data, *bet = bn->in[2]->data, *mu = bn->in[3]->data,
	            *var = bn->in[4]->data;
	float eps = ir_attr_float(bn, "epsilon", 1e-5f);
	float *s = fbuf(g, O), *nb = fbuf(g, O);
	int64_t nw = ir_shape_numel(&w->shape);
	float *nwd = fbuf(g, nw);
	if (!s || !nb || !nwd) {
		diag_error(d, ir_node_loc(g, bn), "out of memory folding batch norm");
		return -1;
	}
	for (int64_t c = 0; c < O; c++) {
		s[c] = (float)((double)gam[c] / sqrt((double)var[c] + (double)eps));
		double bc = 0;
		if (b) {
			int64_t k = ir_shape_numel(&b->shape) == 1 ? 0 : c;
			bc = (double)((const float *)b->data)[k] * (double)beta_g;
		}
		nb[c] = (float)((bc - (double)mu[c]) * (double)s[c] + (double)bet[c]);
	}
	/* W' = W scaled along its output channels. */
	const float *wd = w->data;
	int64_t outer = 1, inner = 1, D = w->shape.d[waxis];
	for (int i = 0; i < waxis; i++)
		outer *= w->shape.d[i];
	for (int i = waxis + 1; i < w->shape.rank; i++)
		inner *= w->shape.d[i];
	int64_t in_per_group = p->op == IR_OP_CONV_TRANSPOSE ? w->shape.d[0] / group : 1;
	for (int64_t o = 0; o < outer; o++)
		for (int64_t c = 0; c < D; c++) {
			/* conv_transpose: W[i, j] feeds output (i / (I/g)) * (O/g) + j */
			int64_t oc = p->op == IR_OP_CONV_TRANSPOSE ? (o / in_per_group) * D + c : c;
			for (int64_t i = 0; i < inner; i++) {
				int64_t k = (o * D + c) * inner + i;
				nwd[k] = wd[k] * s[oc];
			}
		}
	ir_shape bs = ir_shape_make(1, &O);
	const char *bname = b ? b->name : ir_arena_printf(g->arena, "%s.bias", w->name);
	if (set_input(g, p, 1, w->name, &w->shape, nwd) || set_input(g, p, 2, bname, &bs, nb)) {
		diag_error(d, ir_node_loc(g, bn), "out of memory folding batch norm");
		return -1;
	}
	if (p->op == IR_OP_GEMM)
		ir_node_set_float(g, p, "beta", 1.0f);
	/* The BN's output value (and name) now comes from p. */
	ir_value *y = bn->out[0];
	p->out[0] = y;
	y->producer = p;
	x->producer = NULL;
	bn->dead = true;
	return 1;
}

int pass_bnfold(ir_graph *g, const pass_options *o, diag_sink *d)
{
	(void)o;
	if (ir_graph_toposort(g, d))
		return -1;
	int folded = 0;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead || n->op != IR_OP_BATCHNORM || n->nout != 1)
			continue;
		int r = fold_one(g, n, d);
		if (r < 0)
			return -1;
		folded += r;
	}
	if (folded)
		ir_graph_compact(g);
	return 0;
}
