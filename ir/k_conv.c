/* k_conv.c: convolutions: conv and conv_transpose. */
#include "kernel.h"

/* STUB: not implemented yet. */
int ir_infer_conv(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'conv' is not implemented yet");
	return -1;
}

int ir_eval_conv(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'conv' is not implemented yet");
	return -1;
}

int ir_infer_conv_transpose(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'conv_transpose' is not implemented yet");
	return -1;
}

int ir_eval_conv_transpose(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'conv_transpose' is not implemented yet");
	return -1;
}

