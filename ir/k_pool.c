/* k_pool.c: pooling: max, average, global. */
#include "kernel.h"

/* STUB: not implemented yet. */
int ir_infer_max_pool(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'max_pool' is not implemented yet");
	return -1;
}

int ir_eval_max_pool(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'max_pool' is not implemented yet");
	return -1;
}

int ir_infer_avg_pool(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'avg_pool' is not implemented yet");
	return -1;
}

int ir_eval_avg_pool(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'avg_pool' is not implemented yet");
	return -1;
}

int ir_infer_global_avg_pool(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'global_avg_pool' is not implemented yet");
	return -1;
}

int ir_eval_global_avg_pool(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'global_avg_pool' is not implemented yet");
	return -1;
}

int ir_infer_global_max_pool(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'global_max_pool' is not implemented yet");
	return -1;
}

int ir_eval_global_max_pool(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'global_max_pool' is not implemented yet");
	return -1;
}

