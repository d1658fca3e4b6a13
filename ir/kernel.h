/* kernel.h: what the per-op files (k_*.c) share: the infer/eval entry
 * points the op table dispatches to, and small helpers for shapes. */
#ifndef QGTC_IR_KERNEL_H
#define QGTC_IR_KERNEL_H

#include "ir.h"

#define OP(E, n, a, b, c, d, m, s)                                                \
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

/* The prologue of an infer.  k_defer: leave every output's rank unknown;
 * inference comes back to n once its operands are known (returns 0).
 * k_need_in: required input k; a NULL slot is a structural error (reported),
 * not a deferral.  k_opt_val: optional input k, NULL when absent or of zero
 * elements (as ONNX treats an empty optional tensor).  k_too_big: s, its
 * symbolic dims counted as 1 (bound later and checked again then), holds
 * more than IR_MAX_NUMEL elements or has a negative extent. */
int k_defer(ir_node *n);
bool k_need_in(const ir_graph *g, const ir_node *n, int k, diag_sink *d);
const ir_value *k_opt_val(const ir_node *n, int k);
bool k_too_big(const ir_shape *s);

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
/* Which axes of a rank-r input reduction n reduces (red[0..r)), from the
 * values of its axes operand (cnt < 0: absent), as the kernel reads them.
 * -1 (reported) on a bad axis. */
int k_reduce_axes(const ir_node *n, int r, const int64_t *axes, int cnt, bool *red, diag_sink *d);
/* The logistic function as the sigmoid op computes it (exp never sees a
 * positive argument); the lstm and gru reference gates use it too. */
float k_sigmoid(float x);

/* Effective begin/end pads for a conv/pool window along spatial dims, from
 * pads or auto_pad (NOTSET, SAME_UPPER, SAME_LOWER, VALID).  in/k/s/dil
 * are per spatial dim.  Returns -1 (reported) on a bad auto_pad value. */
int k_resolve_pads(const ir_graph *g, const ir_node *n, int nsp, const int64_t *in,
                   const int64_t *k, const int64_t *s, const int64_t *dil, int64_t *pb, int64_t *pe,
                   diag_sink *d);

/* The begin pads of conv_transpose n (per spatial dim, into pb) from its
 * input and weight shapes, as the interpreter resolves them (explicit,
 * auto_pad or output_shape; negative when output_shape asks for more than
 * the transposed input covers).  -1 reported on bad attributes. */
int k_convt_pads(const ir_graph *g, const ir_node *n, const ir_shape *xs, const ir_shape *ws, int64_t *pb,
                 diag_sink *d);

/* The integer path of conv and matmul (k_quant.c).  k_int_check: operands
 * 0 (x) and 1 (w) are i8/u8/i16/u16 with their ir_quant set, x per tensor,
 * w per tensor or per channel along `waxis` with `m` channels; operand
 * `bias_k` (-1: none) absent or i32 [m]; the output either carries a
 * per-tensor quant and rq_mult/rq_shift of 1 or m entries (requantized) or
 * none (the raw i32 accumulator).  Returns the output dtype, or
 * IR_DT_UNDEF after reporting.  g may be NULL (evaluation). */
ir_dtype k_int_check(const ir_graph *g, const ir_node *n, int waxis, int64_t m, int bias_k,
                     diag_sink *d);
/* Everything the integer kernels need, read from the types and attributes
 * of n (after k_int_check passed). */
typedef struct k_intop {
	int32_t zx;                  /* x's zero point */
	const int32_t *zw;           /* w's zero points, per channel when nzw > 1 */
	int nzw;
	bool requant;                /* else the output is the i32 accumulator */
	const int64_t *mult, *shift; /* rq_mult/rq_shift, nrq entries */
	int nrq;
	int32_t zy;                  /* output zero point */
	int64_t lo, hi;              /* output range */
} k_intop;
void k_intop_get(const ir_node *n, k_intop *k);
/* Store channel c's accumulator (int32 arithmetic, wrapped) as element i
 * of out: requantized and saturated, or as is. */
void k_intop_store(const k_intop *k, ir_tensor *out, int64_t i, int64_t c, int64_t acc);
/* Element k of an integer tensor of dtype t, as int64. */
int64_t k_int_get(const void *p, ir_dtype t, int64_t k);
/* Store v (already in range) as element k of an integer tensor of dtype t
 * (i8, u8, i16, u16, i32). */
void k_int_put(void *p, ir_dtype t, int64_t k, int64_t v);
/* The i16 tables' interpolation (activation tables, softmax's exp):
 * a + floor(((b - a) f + 2^sh / 2) / 2^sh), f in [0, 2^sh), sh 0..7;
 * the backends compute the same with an arithmetic shift. */
int64_t k_lut_interp(int64_t a, int64_t b, int64_t f, int sh);

#endif
