/* l_int.h: what the integer path's lowering files (l_int.c, and the
 * target kernels of l_int_dsp.c) share: the operands of an integer
 * conv/matmul and its one output step (requantize, saturate, narrow). */
#ifndef QGTC_BE_L_INT_H
#define QGTC_BE_L_INT_H

#include "lower.h"

/* What the integer conv/matmul read from n's types and attributes. */
typedef struct be_iop {
	k_intop k;
	ir_dtype odt;
	int32_t *zw, *mult, *shift; /* i32 copies (malloc'd) */
	int nzw, nrq;
	int64_t amax;               /* |accumulator| <= amax on every channel, or -1 */
} be_iop;

/* Element idx of an integer buffer of dtype dt, widened to i32 (u8, u16
 * and bool by zero, the others by sign). */
LLVMValueRef be_ld_i32(be_fn *f, ir_dtype dt, LLVMValueRef p, LLVMValueRef idx);
/* Signed max and min of two i32 values (or vectors of them). */
LLVMValueRef be_smax(be_fn *f, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef be_smin(be_fn *f, LLVMValueRef a, LLVMValueRef b);
/* SMLAD: acc + a.lo w.lo + a.hi w.hi on i16 halves, wrapping (the DSP
 * instruction where f has it, plain i32 arithmetic elsewhere). */
LLVMValueRef be_smlad(be_fn *f, LLVMValueRef a, LLVMValueRef w, LLVMValueRef acc);

/* Fill o from n (be_iop_free it whatever the result); 0 or -1 reported. */
int be_iop_init(be_fn *f, const ir_node *n, be_iop *o);
void be_iop_free(be_iop *o);
/* vals[c] as an i32 value: a constant when all n agree, else a load from
 * a constant table. */
LLVMValueRef be_int_chan(be_fn *f, const int32_t *vals, int n, LLVMValueRef c);
/* k_intop_store: the i32 accumulator of channel c as an element of the
 * output's dtype (requantized and saturated, or as is). */
LLVMValueRef be_int_out(be_fn *f, const be_iop *o, LLVMValueRef acc, LLVMValueRef c);
/* The (M, kc, r) rows of requant_bounded for kernels that requantize in
 * their own code, in the cases that need no more than SMMLAR, a shift and
 * SSAT/USAT, with (*wide) a fourth word for left shifts and r = 0, or
 * (sign, per channel +-1, or NULL) the multiplier sign * 2^(1 + left),
 * or (*packed, when asked and possible) rows of 2 that leave kc out and
 * carry bias (per channel, or NULL) as i16s (see l_int.c); false
 * otherwise. */
bool be_rq_rows(be_fn *f, const be_iop *o, int64_t nchan, const int32_t *sign, const int32_t *bias,
                LLVMValueRef *tab, bool *usat, bool *wide, bool *packed);
/* A packed row's second word p as the wide row's kc, r and s for one
 * kind of channel, r >= 1 or r0 (see l_int.c). */
void be_rq_unpack(be_fn *f, LLVMValueRef p, int32_t zy, bool r0, LLVMValueRef q[3]);
/* One channel's output by its be_rq_rows row of 4 (M, kc, r, s), for a
 * channel of one kind: r >= 1 (no left shift) or r0 (r = 0, which neither
 * rounds nor shifts right), saturated to u8 (usat) or i8; the arithmetic
 * of requant_bounded without the masks that let one sequence serve both
 * kinds.  An i32. */
LLVMValueRef be_rq_row(be_fn *f, LLVMValueRef const row[4], bool r0, bool usat, LLVMValueRef acc);
/* The same on a vector of i32 lanes (at most BE_INT_LANES_MAX): lane l
 * is channel c + l (step 1) or channel c (step 0); a vector of the
 * output's dtype (the accumulators as they are without requantization). */
enum { BE_INT_LANES_MAX = 16 };
/* The first n lanes of a vector (at most 128 lanes): a masked load of vt
 * at p (the others pass's lanes, or zeros for NULL), a masked store of v
 * at p; no byte past them is touched. */
LLVMValueRef be_load_first(be_fn *f, LLVMTypeRef vt, LLVMValueRef p, unsigned align, int64_t n, LLVMValueRef pass);
void be_store_first(be_fn *f, LLVMValueRef v, LLVMValueRef p, unsigned align, int64_t n);
/* s in every lane of the vector type ty (s itself for a scalar ty). */
LLVMValueRef be_splat(be_fn *f, LLVMTypeRef ty, LLVMValueRef s);
LLVMValueRef be_int_out_v(be_fn *f, const be_iop *o, LLVMValueRef acc, LLVMValueRef c, int step);

/* ir_requant_apply on one channel's run-time i32 mult (>= 0) and shift
 * (-31..30), the shared kernels' requantization.  exact: the rule step
 * by step, without 64-bit variable shifts; else requant_bounded's 32-bit
 * form (SMMLAR, a shift, the sign step), which needs be_rq_bounded_ok
 * (the layer's accumulator bound small enough) and adds zy.  be_rq_chan
 * derives a channel's constants once (call it where it dominates every
 * output), be_rq_apply gives one output, an i32 before the clamp (plus
 * zy unless exact). */
typedef struct {
	bool exact;
	LLVMValueRef mult; /* M */
	LLVMValueRef left; /* the left shift (exact); 1 + it (32-bit: the doubling too) */
	LLVMValueRef r;    /* the right shift */
	LLVMValueRef mask; /* 2^r - 1 (exact); -1 where r >= 1, else 0 (the sign step) */
	LLVMValueRef half; /* mask / 2 (exact); kc = 2^(r-1) + zy 2^r, or zy for r = 0 */
} be_rqc;
void be_rq_chan(be_fn *f, be_rqc *q, bool exact, LLVMValueRef mult, LLVMValueRef shift, LLVMValueRef zy);
LLVMValueRef be_rq_apply(be_fn *f, const be_rqc *q, LLVMValueRef acc);
bool be_rq_bounded_ok(const be_iop *o);

/* The compact integer kernels (l_compact_int.c): conv and matmul with
 * constant weights through shared functions (by kind, requantization
 * form and activation dtypes), when f's policy is a size one and n fits;
 * 0, -1 reported, or 1 when n is left to the other kernels. */
int be_l_compact_int(be_fn *f, const ir_node *n);
/* Those kernels' bodies, once every layer is lowered (each made for what
 * its layers use). */
void be_l_compact_int_end(be_fn *f);

/* The target kernels (l_int_dsp.c): conv (one group, or depthwise) and
 * matmul with a constant 2-D right operand on i8/u8 data, on targets with
 * the v7E-M DSP instructions (f->dsp) or integer SIMD (f->isimd).  0, -1
 * reported, or 1 when n is not theirs (then the portable loops of l_int.c
 * lower it). */
int be_dsp_conv(be_fn *f, const ir_node *n);
/* The table that unpacks a byte of 4-bit (256 words: a pair), 2-bit (256
 * x 2 words: two pairs) or 1-bit weights into SMLAD's i16 pairs, low
 * halfword the even element (l_int_dsp.c); one per module. */
LLVMValueRef be_dsp_lut(be_fn *f, int bits);
int be_dsp_matmul(be_fn *f, const ir_node *n);
/* The geometry of an integer matmul of two 8-bit activations that the DSP
 * and SIMD kernels take (be_matmul_act_begin, l_int.c: 0 with g and o
 * filled, 1 when n is not one, -1 error). */
typedef struct be_mm_geom {
	int64_t M, K, N;     /* A [..., M, K], B [..., K, N] */
	int64_t nbat, bbat;  /* batches of A, and of B (1 or nbat) */
} be_mm_geom;
int be_matmul_act_begin(be_fn *f, const ir_node *n, be_mm_geom *g, be_iop *o);
/* An integer matmul of two activations on the Cortex-M DSP (l_int_dsp.c):
 * 1 when it does not apply, 0 done, -1 error. */
int be_dsp_matmul_act(be_fn *f, const ir_node *n);
/* What the SIMD kernels share (l_int_dsp.c).  be_int_conv_geom: a 1-D or
 * 2-D conv's geometry as 2-D (a 1-D conv is one row: H = 1, kernel 1,
 * stride 1, no padding): input, kernel, strides, dilations, leading pads
 * and output extents; 0, or -1 reported. */
int be_int_conv_geom(be_fn *f, const ir_node *n, int64_t *in, int64_t *k, int64_t *s, int64_t *dil,
                     int64_t *pb, int64_t *out);
/* A counted loop carrying n (<= BE_SUMS_MAX) vectors of type ty, the SIMD
 * kernels' sums: be_sum_loop_begin opens the body with the trip counter
 * (returned) and the sums as phis in acc[], which the body updates in
 * place; be_sum_loop_end closes it after trips trips, sum i starting at
 * init[i], and leaves the builder after the loop with acc[] the final
 * sums (l_int_dsp.c). */
enum { BE_SUMS_MAX = 16 };
typedef struct be_sum_loop {
	LLVMBasicBlockRef pre, body, exit;
	LLVMValueRef iv, phi[BE_SUMS_MAX];
	int n;
} be_sum_loop;
LLVMValueRef be_sum_loop_begin(be_fn *f, be_sum_loop *l, const char *name, LLVMTypeRef ty, int n,
                               LLVMValueRef *acc);
void be_sum_loop_end(be_fn *f, be_sum_loop *l, int64_t trips, LLVMValueRef *init, LLVMValueRef *acc);
/* Does n have operand k (a bias), non-empty? */
bool be_int_has_bias(const ir_node *n, int k);
/* The weights and bias with x's zero point folded: W'[m * R + r] = code
 * m * R + r of operand 1 less channel m's zero point, and bias'[m] = bias
 * (operand 2, or 0) - zx * sum_r W'[m, r], wrapping in i32 as the
 * reference's sums do, with zx x's zero point as the kernel's columns
 * hold it; *wmin and *wmax the range of W'.  A malloc'd W' (free it), or
 * NULL reported. */
int32_t *be_int_fold_weights(be_fn *f, const ir_node *n, const be_iop *o, int32_t zx, int64_t M, int64_t R,
                             int32_t *bias, int32_t *wmin, int32_t *wmax);

/* x86 convs on VPDPBUSD (l_int_x86.c): a groupless 2-D conv of u8/i8
 * data and weights whose w - zw fits i8, where f has VNNI; 0, -1
 * reported, or 1 when n is left to the other kernels. */
int be_x86_vnni_conv(be_fn *f, const ir_node *n);
/* And depthwise convs of i8/u8 data to i8/u8 there (l_int_x86.c); the
 * same results. */
int be_x86_depthwise(be_fn *f, const ir_node *n);

#endif
