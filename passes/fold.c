/* fold.c: constant folding.
 * requires: toposorted graph; infers shapes as it goes, so a Reshape fed by
 * a Shape->Gather->Concat chain (PyTorch's reshape logic) becomes static;
 * evaluates every node whose inputs are all constants through the
 * interpreter's kernels, and Shape nodes whose input shape is known.
 * dequantize is left to fold-qdq.
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
		if (!ok)
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
