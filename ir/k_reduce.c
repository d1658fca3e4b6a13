/* k_reduce.c: reductions: softmax, log_softmax, reduce_mean. */
#include "kernel.h"

/* STUB: not implemented yet. */
int ir_infer_softmax(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'softmax' is not implemented yet");
	return -1;
}

int ir_eval_softmax(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'softmax' is not implemented yet");
	return -1;
}

int ir_infer_log_softmax(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'log_softmax' is not implemented yet");
	return -1;
}

int ir_eval_log_softmax(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'log_softmax' is not implemented yet");
	return -1;
}

int ir_infer_reduce_mean(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'reduce_mean' is not implemented yet");
	return -1;
}

int ir_eval_reduce_mean(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'reduce_mean' is not implemented yet");
	return -1;
}

