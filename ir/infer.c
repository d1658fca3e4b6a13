/* infer.c: whole-graph shape inference, dispatching to each op's infer. */
#include "kernel.h"

int ir_infer_shapes(ir_graph *g, diag_sink *d)
{
	int rc = 0;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		if (ir_op_table[n->op].infer(g, n, d))
			rc = -1;
	}
	return rc;
}
