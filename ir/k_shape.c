/* k_shape.c: data movement: concat, reshape, flatten, transpose, squeeze, unsqueeze, shape, gather, slice, split, pad. */
#include "kernel.h"

/* STUB: not implemented yet. */
int ir_infer_concat(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'concat' is not implemented yet");
	return -1;
}

int ir_eval_concat(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'concat' is not implemented yet");
	return -1;
}

int ir_infer_reshape(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'reshape' is not implemented yet");
	return -1;
}

int ir_eval_reshape(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'reshape' is not implemented yet");
	return -1;
}

int ir_infer_flatten(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'flatten' is not implemented yet");
	return -1;
}

int ir_eval_flatten(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'flatten' is not implemented yet");
	return -1;
}

int ir_infer_transpose(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'transpose' is not implemented yet");
	return -1;
}

int ir_eval_transpose(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'transpose' is not implemented yet");
	return -1;
}

int ir_infer_squeeze(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'squeeze' is not implemented yet");
	return -1;
}

int ir_eval_squeeze(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'squeeze' is not implemented yet");
	return -1;
}

int ir_infer_unsqueeze(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'unsqueeze' is not implemented yet");
	return -1;
}

int ir_eval_unsqueeze(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'unsqueeze' is not implemented yet");
	return -1;
}

int ir_infer_shape(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'shape' is not implemented yet");
	return -1;
}

int ir_eval_shape(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'shape' is not implemented yet");
	return -1;
}

int ir_infer_gather(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'gather' is not implemented yet");
	return -1;
}

int ir_eval_gather(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'gather' is not implemented yet");
	return -1;
}

int ir_infer_slice(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'slice' is not implemented yet");
	return -1;
}

int ir_eval_slice(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'slice' is not implemented yet");
	return -1;
}

int ir_infer_split(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'split' is not implemented yet");
	return -1;
}

int ir_eval_split(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'split' is not implemented yet");
	return -1;
}

int ir_infer_pad(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'pad' is not implemented yet");
	return -1;
}

int ir_eval_pad(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'pad' is not implemented yet");
	return -1;
}

