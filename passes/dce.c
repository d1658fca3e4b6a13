/* dce.c: dead-node elimination.
 * requires: nothing; removes nodes no graph output depends on and values
 * nothing refers to; preserves shapes and order. */
#include <stdlib.h>

#include "pass.h"

int pass_dce(ir_graph *g, const pass_options *o, diag_sink *d)
{
	(void)o;
	char *live = calloc((size_t)g->nvalues + 1, 1);
	if (!live) {
		diag_error(d, NULL, "out of memory");
		return -1;
	}
	for (int i = 0; i < g->noutputs; i++)
		live[g->outputs[i]->id] = 1;
	/* Walk backwards over the toposorted nodes: a node is live when one of
	 * its outputs is, and then all of its inputs are. */
	for (int i = g->nnodes - 1; i >= 0; i--) {
		ir_node *n = g->nodes[i];
		bool keep = false;
		for (int j = 0; j < n->nout; j++)
			if (n->out[j] && live[n->out[j]->id])
				keep = true;
		if (!keep) {
			n->dead = true;
			continue;
		}
		for (int j = 0; j < n->nin; j++)
			if (n->in[j])
				live[n->in[j]->id] = 1;
	}
	free(live);
	ir_graph_compact(g);
	return 0;
}
