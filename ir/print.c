/* print.c: the .qir text form.  STUB: being written. */
#include "ir.h"

void ir_print(FILE *f, const ir_graph *g, long max_inline)
{
	(void)max_inline;
	fprintf(f, "graph %s\n", g->name);
}
