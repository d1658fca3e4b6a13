/* k_linalg.c: gemm and matmul. */
#include "kernel.h"

/* STUB: not implemented yet. */
int ir_infer_gemm(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'gemm' is not implemented yet");
	return -1;
}

int ir_eval_gemm(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'gemm' is not implemented yet");
	return -1;
}

int ir_infer_matmul(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'matmul' is not implemented yet");
	return -1;
}

int ir_eval_matmul(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'matmul' is not implemented yet");
	return -1;
}

