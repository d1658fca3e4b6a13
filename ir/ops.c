/* ops.c: the op table, built from ops.def. */
#include <string.h>

#include "kernel.h"

const ir_op_info ir_op_table[IR_OP__COUNT] = {
#define OP(E, n, a, b, c, d, m, s) \
	[IR_OP_##E] = {#n, a, b, c, d, IR_MEM_##m, s, ir_infer_##n, ir_eval_##n},
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

int ir_op_attr_kind(ir_op op, const char *name)
{
	static const char *const kinds[] = {"int", "float", "ints", "floats", "str"};
	if ((unsigned)op >= IR_OP__COUNT)
		return -1;
	size_t nl = strlen(name);
	for (const char *p = ir_op_table[op].attrs; *p;) {
		while (*p == ' ')
			p++;
		const char *colon = strchr(p, ':');
		if (!colon)
			break;
		const char *end = colon;
		while (*end && *end != ' ')
			end++;
		if ((size_t)(colon - p) == nl && strncmp(p, name, nl) == 0) {
			for (int k = 0; k < 5; k++)
				if ((size_t)(end - colon - 1) == strlen(kinds[k]) &&
				    strncmp(colon + 1, kinds[k], strlen(kinds[k])) == 0)
					return k;
			return -1;
		}
		p = end;
	}
	return -1;
}
