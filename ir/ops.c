/* ops.c: the op table, built from ops.def. */
#include <string.h>

#include "kernel.h"

const ir_op_info ir_op_table[IR_OP__COUNT] = {
#define OP(E, n, a, b, c, d, s) [IR_OP_##E] = {#n, a, b, c, d, s, ir_infer_##n, ir_eval_##n},
#include "ops.def"
#undef OP
};

const char *ir_op_name(ir_op op)
{
	return (unsigned)op < IR_OP__COUNT ? ir_op_table[op].name : "?";
}

ir_op ir_op_from_name(const char *s)
{
	for (int i = 0; i < IR_OP__COUNT; i++)
		if (strcmp(ir_op_table[i].name, s) == 0)
			return (ir_op)i;
	return IR_OP__COUNT;
}
