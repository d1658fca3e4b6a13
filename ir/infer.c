/* infer.c: whole-graph shape inference, dispatching to each op's infer,
 * and the propagation of an integer activation's quantization through the
 * ops that do not change it. */
#include <string.h>

#include "kernel.h"

/* Ops whose integer output is on its input's grid: they move, select,
 * clamp at the zero point or average values, never rescale them (but a
 * global average pool with rq_mult/rq_shift writes its own output's
 * grid: ir/k_pool.c). */
bool ir_op_keeps_quant(ir_op op)
{
	/* (pad among the selections: fold-qdq pads an integer with its zero
	 * point) */
	if (ir_op_table[op].mem == IR_MEM_VIEW || ir_op_is_selection(op))
		return true;
	switch (op) {
	case IR_OP_MAX_POOL:
	case IR_OP_GLOBAL_MAX_POOL:
	case IR_OP_AVG_POOL:
	case IR_OP_GLOBAL_AVG_POOL:
	case IR_OP_RELU:
	case IR_OP_TRANSPOSE:
		return true;
	default:
		return false;
	}
}

bool ir_node_keeps_quant(const ir_node *n)
{
	if (ir_op_keeps_quant(n->op))
		return true;
	return n->op == IR_OP_RESIZE && strcmp(ir_attr_str(n, "mode", "nearest"), "nearest") == 0 &&
	       strcmp(ir_attr_str(n, "coordinate_transformation_mode", "half_pixel"), "tf_crop_and_resize") != 0;
}

bool ir_resize_dtype_ok(const ir_node *n, ir_dtype dt)
{
	return dt == IR_DT_F32 || ((dt == IR_DT_I8 || dt == IR_DT_U8 || dt == IR_DT_I16) && ir_node_keeps_quant(n));
}

bool ir_op_is_selection(ir_op op)
{
	switch (op) {
	case IR_OP_PAD:
	case IR_OP_SLICE:
	case IR_OP_GATHER:
	case IR_OP_EXPAND:
	case IR_OP_TILE:
	case IR_OP_DEPTH_TO_SPACE:
	case IR_OP_SPACE_TO_DEPTH:
		return true;
	default:
		return false;
	}
}

bool ir_op_table_act(ir_op op)
{
	switch (op) {
	case IR_OP_SIGMOID:
	case IR_OP_TANH:
	case IR_OP_HARD_SIGMOID:
	case IR_OP_HARD_SWISH:
	case IR_OP_LEAKY_RELU:
	case IR_OP_ELU:
	case IR_OP_SOFTPLUS:
	case IR_OP_ERF:
	case IR_OP_ABS:
	case IR_OP_NEG:
	case IR_OP_FLOOR:
	case IR_OP_CEIL:
	case IR_OP_ROUND:
	case IR_OP_SIGN:
	case IR_OP_SELU:
	case IR_OP_CELU:
	case IR_OP_SOFTSIGN:
	case IR_OP_MISH:
	case IR_OP_GELU:
	case IR_OP_SIN:
	case IR_OP_COS:
	case IR_OP_ASIN:
	case IR_OP_ACOS:
	case IR_OP_ATAN:
	case IR_OP_SINH:
	case IR_OP_COSH:
	case IR_OP_ASINH:
	case IR_OP_ACOSH:
	case IR_OP_ATANH:
		return true;
	default:
		return false;
	}
}

bool ir_op_is_unary(ir_op op)
{
	return ir_op_table[op].mem == IR_MEM_INPLACE0 && ir_op_table[op].min_in == 1 && ir_op_table[op].max_in == 1;
}

bool ir_op_is_reduce(ir_op op)
{
	switch (op) {
	case IR_OP_REDUCE_MEAN:
	case IR_OP_REDUCE_SUM:
	case IR_OP_REDUCE_MAX:
	case IR_OP_REDUCE_MIN:
	case IR_OP_REDUCE_PROD:
	case IR_OP_REDUCE_L1:
	case IR_OP_REDUCE_L2:
	case IR_OP_REDUCE_SUM_SQUARE:
	case IR_OP_REDUCE_LOG_SUM_EXP: return true;
	default: return false;
	}
}

bool ir_gelu_tanh(const ir_node *n)
{
	return strcmp(ir_attr_str(n, "approximate", "none"), "tanh") == 0;
}

int ir_infer_node(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (ir_op_table[n->op].infer(g, n, d))
		return -1;
	const ir_value *x = n->nin > 0 ? n->in[0] : NULL;
	ir_value *y = n->nout > 0 ? n->out[0] : NULL;
	if (ir_node_keeps_quant(n) && x && y && ir_dtype_is_qint(x->dt) && y->dt == x->dt &&
	    x->quant && !x->quant->codes && x->quant->nchan == 1 && !ir_node_attr(n, "rq_mult"))
		y->quant = x->quant;
	return 0;
}

int ir_infer_shapes(ir_graph *g, diag_sink *d)
{
	int rc = 0;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		if (ir_infer_node(g, n, d))
			rc = -1;
	}
	return rc;
}
