/* kernel.h: what the per-op files (k_*.c) share: the infer/eval entry
 * points the op table dispatches to, and small helpers for shapes. */
#ifndef QGTC_IR_KERNEL_H
#define QGTC_IR_KERNEL_H

#include "ir.h"

#define OP(E, n, a, b, c, d, s)                                                   \
	int ir_infer_##n(ir_graph *g, ir_node *nd, diag_sink *dg);                \
	int ir_eval_##n(const ir_node *nd, const ir_tensor *const *in, ir_tensor *const *out, \
	                diag_sink *dg);
#include "ops.def"
#undef OP

/* Report an error located at node n ("FILE: node K 'name' (Op): error: ..."). */
#define k_error(g, n, d, ...) diag_error((d), ir_node_loc((g), (n)), __VA_ARGS__)

/* Set output k's dtype and shape. */
static inline void k_set_out(ir_node *n, int k, ir_dtype dt, const ir_shape *s)
{
	n->out[k]->dt = dt;
	n->out[k]->shape = *s;
}

/* True when input k is present and has a known shape (no symbolic dim is
 * required here: rank known suffices unless the caller checks more). */
static inline bool k_in_ranked(const ir_node *n, int k)
{
	return k < n->nin && n->in[k] && n->in[k]->shape.rank >= 0;
}

/* Normalise axis a in [-rank, rank) to [0, rank); -1 if out of range. */
static inline int k_axis(int64_t a, int rank)
{
	if (a < -rank || a >= rank)
		return -1;
	return (int)(a < 0 ? a + rank : a);
}

/* Numpy broadcast of a and b into out; -1 if incompatible.  Symbolic dims
 * broadcast with 1 or themselves. */
int k_broadcast_shape(const ir_shape *a, const ir_shape *b, ir_shape *out);

/* Row-major strides of s, in elements. */
void k_strides(const ir_shape *s, int64_t *st);

/* Effective begin/end pads for a conv/pool window along spatial dims, from
 * pads or auto_pad (NOTSET, SAME_UPPER, SAME_LOWER, VALID).  in/k/s/dil
 * are per spatial dim.  Returns -1 (reported) on a bad auto_pad value. */
int k_resolve_pads(const ir_graph *g, const ir_node *n, int nsp, const int64_t *in,
                   const int64_t *k, const int64_t *s, const int64_t *dil, int64_t *pb, int64_t *pe,
                   diag_sink *d);

#endif
