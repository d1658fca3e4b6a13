/* shapes.c: shape inference as a pass.
 * requires: toposorted graph; provides: dtype and shape of every value whose
 * operands allow it (a Reshape fed by a computed shape stays unknown until
 * fold-constants); preserves everything else. */
#include "pass.h"

int pass_shapes(ir_graph *g, const pass_options *o, diag_sink *d)
{
	(void)o;
	if (ir_graph_toposort(g, d))
		return -1;
	return ir_infer_shapes(g, d);
}
