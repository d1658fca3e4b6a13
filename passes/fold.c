/* fold.c: constant folding.
 * requires: toposorted graph; infers shapes as it goes, so a Reshape fed by
 * a Shape->Gather->Concat chain (PyTorch's reshape logic) becomes static;
 * evaluates every node whose inputs are all constants through the
 * interpreter's kernels, and Shape nodes whose input shape is known.
 * dequantize is left to fold-qdq, and so are nodes whose output would be
 * many times their inputs' size and over 64 MiB (too_big).  A prelu of
 * one slope becomes a leaky_relu (prelu_to_leaky).
 * Folded nodes are marked dead; run dce afterwards to drop them. */
#include <math.h>
#include <string.h>

#include "pass.h"

static bool foldable(const ir_node *n)
{
	/* Integer data stays integer until fold-qdq has seen it (it folds the
	 * dequantized constants it leaves). */
	if (n->op == IR_OP_DEQUANTIZE)
		return false;
	if (n->op == IR_OP_SHAPE)
		return n->in[0] && ir_shape_known(&n->in[0]->shape);
	for (int j = 0; j < n->nin; j++)
		if (n->in[j] && !ir_value_is_const(n->in[j]))
			return false;
	return true;
}

/* A fold may not turn a few bytes of model into gigabytes at compile time
 * (a 200-byte .qir asked constant_of_shape for 16 GB): outputs over
 * FOLD_MIN_LIMIT bytes and over FOLD_MAX_GROWTH times the inputs' bytes
 * stay a node, computed at run time, with a warning.  A cast of int8
 * weights to f32 (4x) or a transpose still folds. */
#define FOLD_MIN_LIMIT ((uint64_t)64 << 20)
#define FOLD_MAX_GROWTH 8

static uint64_t value_bytes(const ir_value *v)
{
	int64_t n = v ? ir_shape_numel(&v->shape) : 0;
	return n > 0 ? (uint64_t)n * ir_dtype_size(v->dt) : 0;
}

static bool too_big(ir_graph *g, const ir_node *n, diag_sink *d)
{
	uint64_t in = 0, out = 0;
	for (int j = 0; j < n->nin; j++)
		in += value_bytes(n->in[j]);
	for (int j = 0; j < n->nout; j++)
		out += value_bytes(n->out[j]);
	if (out <= FOLD_MIN_LIMIT || out / FOLD_MAX_GROWTH <= in)
		return false;
	diag_warn(d, ir_node_loc(g, n), "not folded: its constant output would take %llu bytes from "
	          "%llu of input; it is computed at run time", (unsigned long long)out,
	          (unsigned long long)in);
	return true;
}

/* prelu(x, s) with one slope for every element (PyTorch's nn.PReLU()
 * default, a constant of one value whatever its shape) is leaky_relu(x)
 * with alpha s: the same f32 product, and an op the integer path takes
 * as a table.  x's shape must be the output's (the slope does not widen
 * it). */
static void prelu_to_leaky(ir_graph *g, ir_node *n)
{
	const ir_value *x = n->in[0], *s = n->nin > 1 ? n->in[1] : NULL, *y = n->out[0];
	if (n->op != IR_OP_PRELU || !x || !s || !y || !ir_value_is_const(s) || !s->data || s->dt != IR_DT_F32 ||
	    ir_value_is_const(x) || !ir_shape_known(&y->shape) || !ir_shape_eq(&x->shape, &y->shape))
		return;
	int64_t cnt = ir_shape_numel(&s->shape);
	const float *v = s->data;
	if (cnt < 1)
		return;
	for (int64_t k = 1; k < cnt; k++)
		if (memcmp(&v[k], &v[0], sizeof *v) != 0)
			return;
	n->op = IR_OP_LEAKY_RELU;
	n->in[1] = NULL;
	n->nin = 1;
	ir_node_set_float(g, n, "alpha", v[0]);
}

int pass_fold_constants(ir_graph *g, const pass_options *o, diag_sink *d)
{
	(void)o;
	if (ir_graph_toposort(g, d))
		return -1;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		if (ir_infer_node(g, n, d))
			return -1;
		prelu_to_leaky(g, n);
		if (!foldable(n))
			continue;
		bool ok = true;
		for (int j = 0; j < n->nout; j++)
			if (n->out[j] && !ir_shape_known(&n->out[j]->shape))
				ok = false;
		if (!ok || too_big(g, n, d))
			continue;

		const ir_tensor *in[n->nin + 1];
		ir_tensor ins[n->nin + 1], outs[n->nout + 1];
		ir_tensor *outp[n->nout + 1];
		for (int j = 0; j < n->nin; j++) {
			ir_value *v = n->in[j];
			if (v)
				ins[j] = (ir_tensor){v->dt, v->shape, v->data};
			in[j] = v ? &ins[j] : NULL;
		}
		/* Shape reads only the shape; give it a data-less tensor. */
		for (int j = 0; j < n->nout; j++) {
			ir_value *v = n->out[j];
			outp[j] = NULL;
			if (!v)
				continue;
			int64_t cnt = ir_shape_numel(&v->shape);
			size_t bytes = (size_t)(cnt ? cnt : 1) * ir_dtype_size(v->dt);
			outs[j] = (ir_tensor){v->dt, v->shape, ir_arena_alloc(g->arena, bytes)};
			if (!outs[j].data) {
				diag_error(d, ir_node_loc(g, n), "out of memory folding constants");
				return -1;
			}
			outp[j] = &outs[j];
		}
		if (ir_eval_node(n, in, outp, d))
			return -1;
		for (int j = 0; j < n->nout; j++) {
			ir_value *v = n->out[j];
			if (!v)
				continue;
			v->data = outs[j].data;
			v->kind = IR_VAL_CONST;
			v->producer = NULL;
		}
		n->dead = true;
	}
	ir_graph_compact(g);
	return 0;
}

/* Is v's per-tensor quantization w's (scale and zero point)? */
static bool same_grid(const ir_value *v, const ir_value *w)
{
	const ir_quant *a = v->quant, *b = w->quant;
	return a && b && a->scheme == IR_QS_AFFINE && b->scheme == IR_QS_AFFINE && a->nchan == 1 &&
	       b->nchan == 1 && a->scale && b->scale && a->zero_point && b->zero_point && a->scale[0] == b->scale[0] &&
	       a->zero_point[0] == b->zero_point[0] && v->dt == w->dt;
}

int pass_fold_pad(ir_graph *g, const pass_options *o, diag_sink *d)
{
	(void)o;
	(void)d;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead || n->op != IR_OP_PAD || strcmp(ir_attr_str(n, "mode", "constant"), "constant") != 0 ||
		    (n->nin > 3 && n->in[3]) || n->nin < 2 || !n->in[0] || !n->in[1] || !ir_value_is_const(n->in[1]) ||
		    !n->in[1]->data || n->nout < 1 || !n->out[0])
			continue;
		ir_value *x = n->in[0], *y = n->out[0];
		int r = x->shape.rank, nsp = r - 2;
		bool none = r >= 0 && ir_shape_numel(&n->in[1]->shape) == 2 * r;
		for (int k = 0; none && k < 2 * r; k++)
			none = ir_const_get(n->in[1], k) == 0;
		if (none && !ir_value_is_output(g, y) && x->dt == y->dt &&
		    (x->dt == IR_DT_F32 || same_grid(x, y))) { /* pads nothing: its users read x */
			ir_graph_replace_uses(g, y, x);
			n->dead = true;
			continue;
		}
		ir_node *u = ir_value_sole_user(g, y);
		if (nsp < 1 || nsp > 3 || ir_shape_numel(&n->in[1]->shape) != 2 * r || !u || u->op != IR_OP_CONV ||
		    u->in[0] != y || ir_value_is_output(g, y))
			continue;
		const char *ap = ir_attr_str(u, "auto_pad", "NOTSET");
		if (strcmp(ap, "NOTSET") != 0 && strcmp(ap, "VALID") != 0)
			continue;
		int64_t p[2 * IR_MAX_RANK];
		bool ok = true;
		for (int k = 0; k < 2 * r; k++) {
			double v = ir_const_get(n->in[1], k);
			p[k] = (int64_t)v;
			ok = ok && v >= 0 && v == (double)p[k] && (k % r >= 2 || v == 0);
		}
		/* the constant: what the conv pads with (0, or x's zero point) */
		const ir_value *cv = n->nin > 2 ? n->in[2] : NULL;
		if (cv && (!ir_value_is_const(cv) || !cv->data || ir_shape_numel(&cv->shape) != 1))
			continue;
		double c = cv ? ir_const_get(cv, 0) : 0.0;
		if (x->dt == IR_DT_F32)
			ok = ok && c == 0.0 && !signbit(c);
		else
			ok = ok && ir_dtype_is_qint(x->dt) && same_grid(x, y) && c == (double)x->quant->zero_point[0];
		int cnt = 0;
		const int64_t *old = strcmp(ap, "VALID") == 0 ? NULL : ir_attr_ints(u, "pads", &cnt);
		if (!ok || (old && cnt != 2 * nsp))
			continue;
		int64_t pads[2 * 3];
		for (int k = 0; k < nsp; k++) {
			pads[k] = (old ? old[k] : 0) + p[2 + k];
			pads[nsp + k] = (old ? old[nsp + k] : 0) + p[r + 2 + k];
		}
		ir_node_set_ints(g, u, "pads", pads, 2 * nsp);
		if (strcmp(ap, "VALID") == 0)
			ir_node_set_str(g, u, "auto_pad", "NOTSET");
		u->in[0] = x;
		n->dead = true;
	}
	return 0;
}
