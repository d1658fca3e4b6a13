/* k_elementwise.c: elementwise ops: activations, binary arithmetic with broadcasting, batchnorm, identity, dropout, cast. */
#include "kernel.h"

/* STUB: not implemented yet. */
int ir_infer_batchnorm(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'batchnorm' is not implemented yet");
	return -1;
}

int ir_eval_batchnorm(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'batchnorm' is not implemented yet");
	return -1;
}

int ir_infer_relu(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'relu' is not implemented yet");
	return -1;
}

int ir_eval_relu(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'relu' is not implemented yet");
	return -1;
}

int ir_infer_leaky_relu(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'leaky_relu' is not implemented yet");
	return -1;
}

int ir_eval_leaky_relu(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'leaky_relu' is not implemented yet");
	return -1;
}

int ir_infer_prelu(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'prelu' is not implemented yet");
	return -1;
}

int ir_eval_prelu(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'prelu' is not implemented yet");
	return -1;
}

int ir_infer_clip(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'clip' is not implemented yet");
	return -1;
}

int ir_eval_clip(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'clip' is not implemented yet");
	return -1;
}

int ir_infer_sigmoid(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'sigmoid' is not implemented yet");
	return -1;
}

int ir_eval_sigmoid(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'sigmoid' is not implemented yet");
	return -1;
}

int ir_infer_tanh(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'tanh' is not implemented yet");
	return -1;
}

int ir_eval_tanh(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'tanh' is not implemented yet");
	return -1;
}

int ir_infer_hard_sigmoid(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'hard_sigmoid' is not implemented yet");
	return -1;
}

int ir_eval_hard_sigmoid(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'hard_sigmoid' is not implemented yet");
	return -1;
}

int ir_infer_hard_swish(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'hard_swish' is not implemented yet");
	return -1;
}

int ir_eval_hard_swish(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'hard_swish' is not implemented yet");
	return -1;
}

int ir_infer_add(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'add' is not implemented yet");
	return -1;
}

int ir_eval_add(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'add' is not implemented yet");
	return -1;
}

int ir_infer_sub(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'sub' is not implemented yet");
	return -1;
}

int ir_eval_sub(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'sub' is not implemented yet");
	return -1;
}

int ir_infer_mul(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'mul' is not implemented yet");
	return -1;
}

int ir_eval_mul(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'mul' is not implemented yet");
	return -1;
}

int ir_infer_div(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'div' is not implemented yet");
	return -1;
}

int ir_eval_div(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'div' is not implemented yet");
	return -1;
}

int ir_infer_identity(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'identity' is not implemented yet");
	return -1;
}

int ir_eval_identity(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'identity' is not implemented yet");
	return -1;
}

int ir_infer_dropout(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'dropout' is not implemented yet");
	return -1;
}

int ir_eval_dropout(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'dropout' is not implemented yet");
	return -1;
}

int ir_infer_cast(ir_graph *g, ir_node *n, diag_sink *d)
{
	k_error(g, n, d, "op 'cast' is not implemented yet");
	return -1;
}

int ir_eval_cast(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	(void)in;
	(void)out;
	k_error(NULL, n, d, "op 'cast' is not implemented yet");
	return -1;
}

