/* k_resize.c: resize (nearest, linear). */
#include "kernel.h"

/* STUB: not implemented yet. */
int ir_infer_resize(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'resize' is not implemented yet");
	return -1;
}

int ir_eval_resize(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'resize' is not implemented yet");
	return -1;
}

