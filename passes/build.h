/* build.h: a small node builder for the passes that rewrite one node as
 * several (unroll-rnn, lower-einsum).  New values are named
 * "<base>/<suffix>" (made unique); new nodes carry the rewritten node's
 * name and source, so diagnostics and profiles still name the model's
 * node.  The first failure sticks: every later call returns NULL, and the
 * caller checks err once at the end. */
#ifndef QGTC_PASS_BUILD_H
#define QGTC_PASS_BUILD_H

#include "ir.h"

typedef struct pass_builder {
	ir_graph *g;
	ir_node *n;        /* the node rewritten */
	const char *base;  /* prefix of new value names */
	int err;           /* 1 after the first failure */
} pass_builder;

/* A new value of no dtype yet (shapes fill it in). */
ir_value *pass_b_fresh(pass_builder *c, const char *sfx);
/* A new node of op o on in[0..nin) (every one non-NULL); its one output. */
ir_value *pass_b_op(pass_builder *c, ir_op o, int nin, ir_value *const *in, const char *sfx);
ir_value *pass_b_op1(pass_builder *c, ir_op o, ir_value *x, const char *sfx);
ir_value *pass_b_op2(pass_builder *c, ir_op o, ir_value *a, ir_value *b, const char *sfx);
/* A constant of dt and shape (rank, dims) holding data (copied). */
ir_value *pass_b_const(pass_builder *c, ir_dtype dt, int rank, const int64_t *dims, const void *data,
                       const char *sfx);
/* An i64 constant of k values: rank 0 when scalar (k == 1), else [k]. */
ir_value *pass_b_ints(pass_builder *c, const int64_t *v, int k, bool scalar);
/* The rewrite done: c->n dies, and each of its outputs k becomes an
 * identity of res[k] (skipped where either is NULL).  1, or -1 out of
 * memory. */
int pass_b_replace(pass_builder *c, ir_value *const *res);
/* rewrite every live node of g that want accepts (not the nodes the
 * rewrites add): 1 rewritten, 0 left as it is, -1 out of memory (then
 * reported here, naming the node).  When any was, the graph is compacted,
 * sorted and its shapes inferred again.  0, or -1 reported. */
int pass_b_rewrite_all(ir_graph *g, bool (*want)(const ir_node *n), int (*rewrite)(ir_graph *g, ir_node *n),
                       diag_sink *d);

#endif
