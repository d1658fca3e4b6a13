/* build.c: the node builder of build.h. */
#include "build.h"

ir_value *pass_b_fresh(pass_builder *c, const char *sfx)
{
	if (c->err)
		return NULL;
	const char *nm = ir_graph_unique_name(c->g, ir_arena_printf(c->g->arena, "%s/%s", c->base, sfx));
	ir_value *v = nm ? ir_graph_add_value(c->g, nm, IR_DT_UNDEF, NULL) : NULL;
	if (!v)
		c->err = 1;
	return v;
}

ir_value *pass_b_op(pass_builder *c, ir_op o, int nin, ir_value *const *in, const char *sfx)
{
	if (c->err)
		return NULL;
	for (int k = 0; k < nin; k++)
		if (!in[k]) {
			c->err = 1;
			return NULL;
		}
	ir_value *y = pass_b_fresh(c, sfx);
	ir_node *m = y ? ir_graph_add_node(c->g, o, c->n->name, nin, in, 1, &y) : NULL;
	if (!m) {
		c->err = 1;
		return NULL;
	}
	m->src_op = c->n->src_op;
	m->src_index = c->n->src_index;
	return y;
}

ir_value *pass_b_op1(pass_builder *c, ir_op o, ir_value *x, const char *sfx)
{
	return pass_b_op(c, o, 1, &x, sfx);
}

ir_value *pass_b_op2(pass_builder *c, ir_op o, ir_value *a, ir_value *b, const char *sfx)
{
	ir_value *in[2] = {a, b};
	return pass_b_op(c, o, 2, in, sfx);
}

ir_value *pass_b_const(pass_builder *c, ir_dtype dt, int rank, const int64_t *dims, const void *data,
                       const char *sfx)
{
	if (c->err)
		return NULL;
	ir_shape s = ir_shape_make(rank, dims);
	const char *nm = ir_graph_unique_name(c->g, ir_arena_printf(c->g->arena, "%s/%s", c->base, sfx));
	ir_value *v = nm ? ir_graph_add_const(c->g, nm, dt, &s, data) : NULL;
	if (!v)
		c->err = 1;
	return v;
}

ir_value *pass_b_ints(pass_builder *c, const int64_t *v, int k, bool scalar)
{
	int64_t d = k;
	return pass_b_const(c, IR_DT_I64, scalar ? 0 : 1, &d, v, "i");
}

int pass_b_replace(pass_builder *c, ir_value *const *res)
{
	ir_node *n = c->n;
	n->dead = true;
	for (int k = 0; k < n->nout; k++) {
		if (!n->out[k] || !res[k])
			continue;
		ir_value *y = n->out[k];
		y->producer = NULL;
		ir_node *m = ir_graph_add_node(c->g, IR_OP_IDENTITY, n->name, 1, &res[k], 1, &y);
		if (!m)
			return -1;
		m->src_op = n->src_op;
		m->src_index = n->src_index;
	}
	return 1;
}

int pass_b_rewrite_all(ir_graph *g, bool (*want)(const ir_node *n), int (*rewrite)(ir_graph *g, ir_node *n),
                       diag_sink *d)
{
	int done = 0, nn = g->nnodes;
	for (int i = 0; i < nn; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead || !want(n))
			continue;
		int r = rewrite(g, n);
		if (r < 0) {
			if (!d->nerr)
				diag_error(d, ir_node_loc(g, n), "out of memory rewriting %s", ir_op_name(n->op));
			return -1;
		}
		done += r;
	}
	if (!done)
		return 0;
	ir_graph_compact(g);
	return ir_graph_toposort(g, d) || ir_infer_shapes(g, d) ? -1 : 0;
}
