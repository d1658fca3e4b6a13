/* fold.c: constant folding.
 * requires: toposorted graph; infers shapes as it goes, so a Reshape fed by
 * a Shape->Gather->Concat chain (PyTorch's reshape logic) becomes static;
 * evaluates every node whose inputs are all constants through the
 * interpreter's kernels, and Shape nodes whose input shape is known.
 * dequantize is left to fold-qdq, and so are nodes whose output would be
 * many times their inputs' size and over 64 MiB (too_big).
 * Folded nodes are marked dead; run dce afterwards to drop them. */
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
