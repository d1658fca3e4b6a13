/* l_int.c: the integer path (DESIGN.md), portable scalar code: quantize,
 * dequantize, conv/matmul over i8/u8/i16/u16 operands with int32
 * accumulation and the one requantization rule, and the pools and relu
 * on integers, add and mul on quantized integers (TFLite's quantized Add
 * and Mul), the table activations and softmax, each mirroring its
 * reference in ir/k_quant.c, ir/k_conv.c, ir/k_linalg.c, ir/k_pool.c,
 * ir/k_elementwise.c and ir/k_reduce.c bit for bit.
 *
 * Zero points of conv/matmul operands and the rq_mult/rq_shift attributes
 * are compile-time constants (per-channel ones become small i32 tables);
 * quantize/dequantize read their scale and zero point operands from
 * storage, which folds to immediates when they are constants.  No libm:
 * round-half-even is the 2^23 trick below, not llvm.nearbyint, which
 * becomes a call to nearbyintf where the FPU has no rounding instruction
 * (Cortex-M4, x86 before SSE4.1). */
#include <stdlib.h>
#include <string.h>

#include "l_int.h"

/* ------------------------------------------------------------ helpers */

static LLVMValueRef c32(be_fn *f, int64_t v)
{
	return LLVMConstInt(f->i32, (unsigned long long)v, 1);
}

LLVMValueRef be_ld_i32(be_fn *f, ir_dtype dt, LLVMValueRef p, LLVMValueRef idx)
{
	LLVMValueRef v = be_ld_t(f, be_dt_type(f, dt), p, idx);
	if (dt == IR_DT_I32)
		return v;
	if (dt == IR_DT_U8 || dt == IR_DT_U16 || dt == IR_DT_BOOL)
		return LLVMBuildZExt(f->b, v, f->i32, "");
	return LLVMBuildSExt(f->b, v, f->i32, "");
}

/* vals[c] as an i32 value: a constant when there is one value (or all
 * agree), else a load from a constant table. */
LLVMValueRef be_int_chan(be_fn *f, const int32_t *vals, int n, LLVMValueRef c)
{
	bool same = true;
	for (int i = 1; i < n; i++)
		same = same && vals[i] == vals[0];
	if (n <= 1 || same)
		return c32(f, n >= 1 ? vals[0] : 0);
	return be_ld_t(f, f->i32, be_table_i32(f, vals, n), c);
}

LLVMValueRef be_smax(be_fn *f, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildSelect(f->b, LLVMBuildICmp(f->b, LLVMIntSGT, a, b, ""), a, b, "");
}

LLVMValueRef be_smin(be_fn *f, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildSelect(f->b, LLVMBuildICmp(f->b, LLVMIntSLT, a, b, ""), a, b, "");
}

/* The largest |v - z| over integer value v's range. */
static int64_t zp_reach(const ir_value *v, int64_t z)
{
	int64_t lo, hi;
	ir_value_range(v, &lo, &hi);
	return hi - z > z - lo ? hi - z : z - lo;
}

/* A bound on |accumulator| over every channel of a conv (weights [M,
 * ...]) or matmul (weights [..., K, N], channel = column) with constant
 * integer weights and bias: |b_c| + sum |w - zw_c| * max |x - zx| over
 * x's range, which the exact sum never exceeds (so neither does the
 * wrapped int32 one); for a matmul of two activations (no bias) K times
 * the largest |x - zx| and |w - zw| of their ranges; -1 when unknown or
 * past 2^40. */
static int64_t acc_bound(const ir_node *n, const k_intop *k)
{
	if (n->nin < 2 || (n->op != IR_OP_CONV && n->op != IR_OP_MATMUL && n->op != IR_OP_GEMM))
		return -1;
	const ir_value *xv = n->in[0], *wv = n->in[1], *bv = n->nin > 2 ? n->in[2] : NULL;
	int64_t xm = zp_reach(xv, k->zx);
	if (n->op == IR_OP_MATMUL && wv->kind != IR_VAL_CONST && ir_dtype_is_qint(wv->dt) &&
	    wv->shape.rank >= 2 && k->nzw == 1 && (!bv || ir_shape_numel(&bv->shape) == 0)) {
		/* two activations: K max |x - zx| max |w - zw| over their ranges */
		int64_t s = wv->shape.d[wv->shape.rank - 2] * xm * zp_reach(wv, k->zw[0]);
		return s >= 0 && s <= (int64_t)1 << 40 ? s : -1;
	}
	if (wv->kind != IR_VAL_CONST || !wv->data || !ir_dtype_is_qint(wv->dt) || wv->shape.rank < 2)
		return -1;
	if (bv && ir_shape_numel(&bv->shape) > 0 && (bv->kind != IR_VAL_CONST || !bv->data || bv->dt != IR_DT_I32))
		return -1;
	int64_t nw = ir_shape_numel(&wv->shape);
	bool conv = n->op == IR_OP_CONV;
	int64_t M = conv ? wv->shape.d[0] : wv->shape.d[wv->shape.rank - 1];
	if (M <= 0 || (bv && ir_shape_numel(&bv->shape) > 0 && ir_shape_numel(&bv->shape) != M))
		return -1;
	int64_t per = nw / M, amax = 0;
	for (int64_t c = 0; c < M; c++) {
		int64_t zw = k->zw[k->nzw > 1 ? c : 0], s = 0;
		for (int64_t i = 0; i < per; i++) {
			int64_t w = k_int_get(wv->data, wv->dt, conv ? c * per + i : i * M + c) - zw;
			s += w < 0 ? -w : w;
		}
		s *= xm;
		if (bv && ir_shape_numel(&bv->shape) > 0) {
			int64_t b = ((const int32_t *)bv->data)[c];
			s += b < 0 ? -b : b;
		}
		if (s > (int64_t)1 << 40)
			return -1;
		amax = s > amax ? s : amax;
	}
	return amax;
}

int be_iop_init(be_fn *f, const ir_node *n, be_iop *o)
{
	memset(o, 0, sizeof *o);
	k_intop_get(n, &o->k);
	o->odt = n->out[0]->dt;
	o->nzw = o->k.nzw > 0 ? o->k.nzw : 1;
	o->nrq = o->k.requant ? o->k.nrq : 0;
	o->zw = malloc(sizeof *o->zw * (size_t)o->nzw);
	o->mult = malloc(sizeof *o->mult * (size_t)(o->nrq + 1));
	o->shift = malloc(sizeof *o->shift * (size_t)(o->nrq + 1));
	if (!o->zw || !o->mult || !o->shift) {
		diag_error(f->d, NULL, "out of memory");
		return -1;
	}
	for (int i = 0; i < o->nzw; i++)
		o->zw[i] = o->k.zw[i];
	for (int i = 0; i < o->nrq; i++) {
		o->mult[i] = (int32_t)o->k.mult[i];
		o->shift[i] = (int32_t)o->k.shift[i];
	}
	o->amax = acc_bound(n, &o->k);
	return 0;
}

void be_iop_free(be_iop *o)
{
	free(o->zw);
	free(o->mult);
	free(o->shift);
}

/* The requantization below works on an i32 or on a vector of i32 lanes
 * (the SIMD kernels' four channels of one column, or one channel's
 * outputs): kv() is a constant of v's shape, wide() the same shape in
 * i64. */
static bool is_vec(LLVMTypeRef t)
{
	return LLVMGetTypeKind(t) == LLVMVectorTypeKind;
}

static LLVMTypeRef shape_of(LLVMValueRef v, LLVMTypeRef el)
{
	LLVMTypeRef t = LLVMTypeOf(v);
	return is_vec(t) ? LLVMVectorType(el, LLVMGetVectorSize(t)) : el;
}

static LLVMValueRef kv(LLVMTypeRef ty, int64_t v)
{
	if (!is_vec(ty))
		return LLVMConstInt(ty, (unsigned long long)v, 1);
	LLVMValueRef el[BE_INT_LANES_MAX];
	unsigned n = LLVMGetVectorSize(ty);
	for (unsigned i = 0; i < n; i++)
		el[i] = LLVMConstInt(LLVMGetElementType(ty), (unsigned long long)v, 1);
	return LLVMConstVector(el, n);
}

LLVMValueRef be_splat(be_fn *f, LLVMTypeRef ty, LLVMValueRef s)
{
	if (!is_vec(ty))
		return s;
	unsigned n = LLVMGetVectorSize(ty);
	LLVMValueRef v = LLVMBuildInsertElement(f->b, LLVMGetPoison(ty), s, c32(f, 0), "");
	return LLVMBuildShuffleVector(f->b, v, LLVMGetPoison(ty), LLVMConstNull(LLVMVectorType(f->i32, n)), "");
}

/* Per-channel table values for the lanes of ty: vals[c] (n = 1 or all
 * equal: a constant), in every lane when step is 0, else vals[c + lane]. */
static LLVMValueRef chan_of(be_fn *f, LLVMTypeRef ty, const int32_t *vals, int n, LLVMValueRef c, int step)
{
	bool same = true;
	for (int i = 1; i < n; i++)
		same = same && vals[i] == vals[0];
	if (n <= 1 || same)
		return kv(ty, n >= 1 ? vals[0] : 0);
	LLVMValueRef t = be_table_i32(f, vals, n);
	if (!is_vec(ty) || step == 0)
		return be_splat(f, ty, be_ld_t(f, f->i32, t, c));
	LLVMValueRef p = LLVMBuildInBoundsGEP2(f->b, f->i32, t, &c, 1, "");
	LLVMValueRef v = LLVMBuildLoad2(f->b, ty, p, "");
	LLVMSetAlignment(v, 4);
	return v;
}

/* ir_requant_apply(acc, mult, shift) on i32 values (or lanes); every
 * step as in ir/k_quant.c (srdhm in i64, its division truncating toward
 * zero). */
static LLVMValueRef requant(be_fn *f, LLVMValueRef acc, LLVMValueRef mult, LLVMValueRef shift)
{
	LLVMBuilderRef b = f->b;
	LLVMTypeRef t32 = shape_of(acc, f->i32), t64 = shape_of(acc, f->i64);
	LLVMValueRef zero = kv(t32, 0);
	LLVMValueRef left = be_smax(f, shift, zero);
	LLVMValueRef right = be_smax(f, LLVMBuildSub(b, zero, shift, ""), zero);
	LLVMValueRef a = LLVMBuildShl(b, acc, left, ""); /* wraps, like CMSIS-NN */
	/* SaturatingRoundingDoublingHighMul(a, mult) */
	LLVMValueRef ab = LLVMBuildMul(b, LLVMBuildSExt(b, a, t64, ""), LLVMBuildSExt(b, mult, t64, ""), "");
	LLVMValueRef pos = LLVMBuildICmp(b, LLVMIntSGE, ab, kv(t64, 0), "");
	LLVMValueRef nudge = LLVMBuildSelect(b, pos, kv(t64, 1ll << 30), kv(t64, 1 - (1ll << 30)), "");
	LLVMValueRef q = LLVMBuildSDiv(b, LLVMBuildAdd(b, ab, nudge, ""), kv(t64, 1ll << 31), "");
	LLVMValueRef x = LLVMBuildTrunc(b, q, t32, "");
	LLVMValueRef imin = kv(t32, INT32_MIN);
	LLVMValueRef sat = LLVMBuildAnd(b, LLVMBuildICmp(b, LLVMIntEQ, a, imin, ""),
	                                LLVMBuildICmp(b, LLVMIntEQ, mult, imin, ""), "");
	x = LLVMBuildSelect(b, sat, kv(t32, INT32_MAX), x, "");
	/* RoundingDivideByPOT(x, right): exact in i32 (right <= 31; for 0 it
	 * gives x, as the reference's early return does). */
	LLVMValueRef mask = LLVMBuildSub(b, LLVMBuildShl(b, kv(t32, 1), right, ""), kv(t32, 1), "");
	LLVMValueRef rem = LLVMBuildAnd(b, x, mask, "");
	LLVMValueRef thr = LLVMBuildAdd(b, LLVMBuildLShr(b, mask, kv(t32, 1), ""),
	                                LLVMBuildZExt(b, LLVMBuildICmp(b, LLVMIntSLT, x, zero, ""), t32, ""), "");
	LLVMValueRef fl = LLVMBuildAShr(b, x, right, "");
	return LLVMBuildAdd(b, fl, LLVMBuildZExt(b, LLVMBuildICmp(b, LLVMIntSGT, rem, thr, ""), t32, ""), "");
}

/* ir_requant_apply(acc, mult, shift) for one channel whose i32 mult (0
 * to INT32_MAX, as inference checks) and shift (-31..30) are run-time
 * values (the shared kernels of l_compact_int.c), without 64-bit shifts
 * by a variable (a libgcc call on 32-bit targets): SRDHM as the floor
 * (a*M + 2^30) >> 31 (requant_k below), then RoundingDivideByPOT in i32
 * as the reference writes it.  be_rq_chan derives the channel's shifts
 * and masks once; be_rq_apply is the per-output arithmetic. */
static void rq_chan_exact(be_fn *f, be_rqc *q, LLVMValueRef mult, LLVMValueRef shift)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef zero = c32(f, 0);
	q->mult = mult;
	q->left = be_smax(f, shift, zero);
	q->r = be_smax(f, LLVMBuildSub(b, zero, shift, ""), zero);
	q->mask = LLVMBuildSub(b, LLVMBuildShl(b, c32(f, 1), q->r, ""), c32(f, 1), "");
	q->half = LLVMBuildLShr(b, q->mask, c32(f, 1), "");
}

static LLVMValueRef rq_apply_exact(be_fn *f, const be_rqc *q, LLVMValueRef acc)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef zero = c32(f, 0);
	LLVMValueRef a = LLVMBuildShl(b, acc, q->left, ""); /* wraps, like CMSIS-NN */
	LLVMValueRef t = LLVMBuildAdd(b, LLVMBuildMul(b, LLVMBuildSExt(b, a, f->i64, ""), LLVMBuildSExt(b, q->mult, f->i64, ""), ""),
	                              LLVMConstInt(f->i64, 1ull << 30, 0), "");
	LLVMValueRef x = LLVMBuildTrunc(b, LLVMBuildAShr(b, t, LLVMConstInt(f->i64, 31, 0), ""), f->i32, "");
	LLVMValueRef rem = LLVMBuildAnd(b, x, q->mask, "");
	LLVMValueRef thr = LLVMBuildAdd(b, q->half, LLVMBuildZExt(b, LLVMBuildICmp(b, LLVMIntSLT, x, zero, ""), f->i32, ""), "");
	return LLVMBuildAdd(b, LLVMBuildAShr(b, x, q->r, ""),
	                    LLVMBuildZExt(b, LLVMBuildICmp(b, LLVMIntSGT, rem, thr, ""), f->i32, ""), "");
}

/* ir_requant_apply(acc, mult[c], shift[c]) for the compile-time tables
 * mult/shift of n entries (one: constants), without branches or 64-bit
 * division.  gemmlowp's nudged, truncating SRDHM is a floor: for every a
 * and M but INT32_MIN * INT32_MIN, SRDHM(a, M) = (a*M + 2^30) >> 31, and
 * RDBPOT(x, r) = (x + 2^(r-1) - [x < 0]) >> r folds into the same 64-bit
 * value t = a*M + 2^30:
 *     r = 0:  t >> 31
 *     r >= 1: (t + 2^(30+r) - [t < 0] * 2^31) >> (31 + r)
 * (x < 0 exactly when t < 0; floor(floor(t/2^31) + k) / 2^r) is floor((t
 * + k*2^31) / 2^(31+r)) for integer k).  Tables that mix left shifts
 * and right ones compute both forms and select per channel.  A
 * multiplier of INT32_MIN takes the step-by-step requant() above.
 * *small: the result is within +-2^30 (r >= 1), so adding a zero point
 * cannot overflow.  acc may be a vector: its lanes are channels c + lane
 * (step 1) or all channel c (step 0). */
static LLVMValueRef requant_k(be_fn *f, LLVMValueRef acc, const int32_t *mult, const int32_t *shift,
                              int n, LLVMValueRef c, int step, bool *small)
{
	LLVMBuilderRef b = f->b;
	LLVMTypeRef t32 = shape_of(acc, f->i32), t64 = shape_of(acc, f->i64);
	bool same = true, all_right = true, all_left = true;
	for (int i = 0; i < n; i++) {
		same = same && mult[i] == mult[0] && shift[i] == shift[0];
		all_right = all_right && shift[i] < 0;
		all_left = all_left && shift[i] >= 0;
		if (mult[i] == INT32_MIN) {
			*small = false;
			return requant(f, acc, chan_of(f, t32, mult, n, c, step), chan_of(f, t32, shift, n, c, step));
		}
	}
	if (n <= 1)
		same = true;
	*small = all_right;
	bool mixed = !same && !all_right && !all_left; /* per channel r = 0 or >= 1 */
	LLVMValueRef a = acc;
	int nn = n > 0 ? n : 1;
	int32_t *left = malloc(sizeof *left * (size_t)nn), *rm1 = malloc(sizeof *rm1 * (size_t)nn);
	int64_t *rnd = malloc(sizeof *rnd * (size_t)nn);
	if (!left || !rm1 || !rnd) {
		free(left);
		free(rm1);
		free(rnd);
		*small = false;
		return requant(f, acc, chan_of(f, t32, mult, n, c, step), chan_of(f, t32, shift, n, c, step));
	}
	for (int i = 0; i < n; i++) {
		left[i] = shift[i] > 0 ? shift[i] : 0;
		/* rm1 -1 marks a channel with r = 0 (mixed tables) */
		rnd[i] = shift[i] < 0 ? (int64_t)1 << (30 - shift[i]) : 0;
		rm1[i] = shift[i] < 0 ? -shift[i] - 1 : -1;
	}
	if (!all_right) /* left shifts (0 included), wrapping like CMSIS-NN */
		a = LLVMBuildShl(b, acc, chan_of(f, t32, left, n, c, step), "");
	LLVMValueRef m = chan_of(f, t32, mult, n, c, step);
	LLVMValueRef t = LLVMBuildAdd(b, LLVMBuildMul(b, LLVMBuildSExt(b, a, t64, ""), LLVMBuildSExt(b, m, t64, ""), ""),
	                              kv(t64, 1ll << 30), "");
	LLVMValueRef r;
	if (all_left) {
		r = LLVMBuildTrunc(b, LLVMBuildAShr(b, t, kv(t64, 31), ""), t32, "");
		goto out;
	}
	/* r >= 1 on every channel: add 2^(30+r), subtract 2^31 when t < 0,
	 * then the high word shifted right by r - 1 */
	LLVMValueRef radd;
	if (same) {
		radd = kv(t64, rnd[0]);
	} else {
		LLVMValueRef *el = malloc(sizeof *el * (size_t)n);
		for (int i = 0; el && i < n; i++)
			el[i] = LLVMConstInt(f->i64, (unsigned long long)rnd[i], 0);
		LLVMValueRef init = LLVMConstArray2(f->i64, el, (uint64_t)n);
		free(el);
		LLVMValueRef g = LLVMAddGlobal(f->mod, LLVMTypeOf(init), "rq.rnd");
		LLVMSetInitializer(g, init);
		LLVMSetGlobalConstant(g, 1);
		LLVMSetLinkage(g, LLVMPrivateLinkage);
		LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
		if (is_vec(t64) && step) {
			radd = LLVMBuildLoad2(b, t64, LLVMBuildInBoundsGEP2(b, f->i64, g, &c, 1, ""), "");
			LLVMSetAlignment(radd, 8);
		} else {
			radd = be_splat(f, t64, be_ld_t(f, f->i64, g, c));
		}
	}
	/* - [t < 0] * 2^31 as + (t >> 63) << 31: a shift, no compare.  With
	 * every multiplier above 2^30 (or 0), t < 0 exactly when a < 0 (|a*M|
	 * >= M > 2^30 for a != 0), so the correction comes from a and the
	 * whole sum is one multiply-accumulate onto a per-channel start. */
	bool msign = true;
	for (int i = 0; i < n; i++)
		msign = msign && (mult[i] > (1 << 30) || mult[i] == 0);
	LLVMValueRef u;
	if (msign && !mixed) {
		LLVMValueRef sa = LLVMBuildSExt(b, LLVMBuildAShr(b, a, kv(t32, 31), ""), t64, "");
		LLVMValueRef init = LLVMBuildAdd(b, LLVMBuildAdd(b, radd, kv(t64, 1ll << 30), ""),
		                                 LLVMBuildShl(b, sa, kv(t64, 31), ""), "");
		u = LLVMBuildAdd(b, init, LLVMBuildMul(b, LLVMBuildSExt(b, a, t64, ""), LLVMBuildSExt(b, m, t64, ""), ""), "");
	} else {
		LLVMValueRef sgn = LLVMBuildAShr(b, t, kv(t64, 63), "");
		u = LLVMBuildAdd(b, t, radd, "");
		u = LLVMBuildAdd(b, u, LLVMBuildShl(b, sgn, kv(t64, 31), ""), "");
	}
	LLVMValueRef hi = LLVMBuildTrunc(b, LLVMBuildAShr(b, u, kv(t64, 32), ""), t32, "");
	LLVMValueRef sh = chan_of(f, t32, rm1, n, c, step);
	if (mixed) { /* r = 0 channels: t >> 31 */
		LLVMValueRef r0 = LLVMBuildTrunc(b, LLVMBuildAShr(b, t, kv(t64, 31), ""), t32, "");
		LLVMValueRef isr0 = LLVMBuildICmp(b, LLVMIntSLT, sh, kv(t32, 0), "");
		r = LLVMBuildAShr(b, hi, be_smax(f, sh, kv(t32, 0)), "");
		r = LLVMBuildSelect(b, isr0, r0, r, "");
	} else {
		r = LLVMBuildAShr(b, hi, sh, "");
	}
out:
	free(left);
	free(rm1);
	free(rnd);
	return r;
}

/* requant_k on NEON lanes, the way TFLite's NEON kernels do it, which is
 * the same arithmetic: gemmlowp's SaturatingRoundingDoublingHighMul is
 * SQRDMULH (for a*M < 0 both round (a*M + 2^30) / 2^31 toward -inf once
 * the nudge is folded in, and INT32_MIN * INT32_MIN saturates in both),
 * and RoundingDivideByPOT(x, r) is SRSHL by -r after SQADD of -1 to a
 * negative x (r >= 1), which turns its round-half-up into the reference's
 * half away from zero.  The left shift wraps, like CMSIS-NN's. */
static LLVMValueRef requant_neon(be_fn *f, LLVMValueRef acc, const int32_t *mult, const int32_t *shift, int n,
                                 LLVMValueRef c, int step, bool *small)
{
	LLVMBuilderRef b = f->b;
	LLVMTypeRef t32 = LLVMTypeOf(acc);
	int nn = n > 0 ? n : 1;
	int32_t *left = malloc(sizeof *left * (size_t)nn), *nright = malloc(sizeof *nright * (size_t)nn);
	if (!left || !nright) {
		free(left);
		free(nright);
		return NULL;
	}
	bool any_left = false, any_right = false, all_right = true;
	for (int i = 0; i < n; i++) {
		left[i] = shift[i] > 0 ? shift[i] : 0;
		nright[i] = shift[i] < 0 ? shift[i] : 0; /* -r */
		any_left = any_left || shift[i] > 0;
		any_right = any_right || shift[i] < 0;
		all_right = all_right && shift[i] < 0;
	}
	*small = n > 0 && all_right;
	LLVMValueRef a = acc;
	if (any_left)
		a = LLVMBuildShl(b, a, chan_of(f, t32, left, n, c, step), "");
	LLVMValueRef args[2] = {a, chan_of(f, t32, mult, n, c, step)};
	LLVMValueRef x = be_intr(f, "llvm.aarch64.neon.sqrdmulh", &t32, 1, args, 2);
	if (any_right) {
		LLVMValueRef nr = chan_of(f, t32, nright, n, c, step);
		/* -1 where x < 0 and r >= 1 (-r has its sign bit set) */
		LLVMValueRef fix = LLVMBuildAShr(b, LLVMBuildAnd(b, x, nr, ""), kv(t32, 31), "");
		LLVMValueRef fa[2] = {x, fix};
		x = be_intr(f, "llvm.aarch64.neon.sqadd", &t32, 1, fa, 2);
		LLVMValueRef sa[2] = {x, nr};
		x = be_intr(f, "llvm.aarch64.neon.srshl", &t32, 1, sa, 2);
	}
	free(left);
	free(nright);
	return x;
}

/* r + zp saturated to [lo, hi] and narrowed to the output type ty (of
 * r's shape), as clamp(r, lo - zp, hi - zp) + zp: the i32 addition
 * cannot overflow. */
static LLVMValueRef sat_zp(be_fn *f, LLVMValueRef r, int64_t lo, int64_t hi, int64_t zp,
                           LLVMTypeRef ty)
{
	LLVMTypeRef t32 = shape_of(r, f->i32);
	r = be_smax(f, r, kv(t32, lo - zp));
	r = be_smin(f, r, kv(t32, hi - zp));
	return LLVMBuildTrunc(f->b, LLVMBuildAdd(f->b, r, kv(t32, zp), ""), ty, "");
}

/* requant_k + zy when |acc| <= o->amax < 2^30, in 32-bit arithmetic:
 * with a = acc << left, SRDHM(a, M) = floor((a*M + 2^30) / 2^31) is
 * floor((2a*M + 2^31) / 2^32), the high word of a rounded 32x32 multiply
 * (SMMULR on the DSP), and |x| <= |a|; then RDBPOT(x, r) + zy is (x +
 * 2^(r-1) + zy * 2^r - [x < 0]) >> r, one add of a per-channel constant,
 * the sign bit subtracted (for r >= 1) and the shift (which SSAT/USAT can
 * take).  NULL when the bound is unknown or too large for these sums. */
/* requant_bounded's constants of requantization channel i: the left
 * shift, the right shift r and kc = 2^(r-1) + zy 2^r (zy when r = 0);
 * false when o->amax is unknown or 2a, or x + kc, could overflow. */
static bool bounded_chan(const be_iop *o, int i, int *left, int *r, int32_t *kc)
{
	*left = o->shift[i] > 0 ? o->shift[i] : 0;
	*r = o->shift[i] < 0 ? -o->shift[i] : 0;
	if (o->amax < 0 || *left > 30 || *r > 31 || (o->amax << *left) >= (int64_t)1 << 30)
		return false;
	int64_t zy = o->k.zy < 0 ? -(int64_t)o->k.zy : o->k.zy;
	if ((o->amax << *left) + 1 + (*r ? ((int64_t)1 << (*r - 1)) + (zy << *r) : zy) >= (int64_t)1 << 31)
		return false;
	*kc = *r ? (int32_t)(((int64_t)1 << (*r - 1)) + (int64_t)o->k.zy * ((int64_t)1 << *r)) : o->k.zy;
	return true;
}

/* (a2 * m + 2^31) >> 32 in i64, the high word of a rounded multiply:
 * SMMULR on the DSP. */
static LLVMValueRef mulhr(be_fn *f, LLVMValueRef a2, LLVMValueRef m)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef p = LLVMBuildMul(b, LLVMBuildSExt(b, a2, f->i64, ""), LLVMBuildSExt(b, m, f->i64, ""), "");
	p = LLVMBuildAdd(b, p, LLVMConstInt(f->i64, 1ull << 31, 0), "");
	return LLVMBuildTrunc(b, LLVMBuildLShr(b, p, LLVMConstInt(f->i64, 32, 0), ""), f->i32, "");
}

bool be_rq_bounded_ok(const be_iop *o)
{
	int lf, r;
	int32_t kc;
	if (!o->k.requant || o->nrq < 1)
		return false;
	for (int i = 0; i < o->nrq; i++)
		if (!bounded_chan(o, i, &lf, &r, &kc) || o->mult[i] < 0)
			return false;
	return true;
}

/* requant_bounded's arithmetic on a channel's run-time (mult, shift):
 * the channel's part (the doubling and left shift as one, r, kc and the
 * sign step's mask) once, then per output a shift, SMMLAR, the sign step
 * and a shift right. */
static void rq_chan_bounded(be_fn *f, be_rqc *q, LLVMValueRef mult, LLVMValueRef shift, LLVMValueRef zy)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef zero = c32(f, 0), one = c32(f, 1);
	LLVMValueRef left = be_smax(f, shift, zero);
	q->mult = mult;
	q->r = be_smax(f, LLVMBuildSub(b, zero, shift, ""), zero);
	LLVMValueRef pos = LLVMBuildICmp(b, LLVMIntSGT, q->r, zero, "");
	/* kc = 2^(r-1) + zy 2^r for r >= 1, else zy */
	q->half = LLVMBuildSelect(
		b, pos, LLVMBuildAdd(b, LLVMBuildShl(b, one, LLVMBuildSub(b, q->r, one, ""), ""), LLVMBuildShl(b, zy, q->r, ""), ""),
		zy, "");
	q->left = LLVMBuildAdd(b, left, one, "");
	q->mask = LLVMBuildSExt(b, pos, f->i32, "");
}

static LLVMValueRef rq_apply_bounded(be_fn *f, const be_rqc *q, LLVMValueRef acc)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef a2 = LLVMBuildShl(b, acc, q->left, "");
	LLVMValueRef t = f->dsp ? be_smmlar(f, a2, q->mult, q->half) : LLVMBuildAdd(b, mulhr(f, a2, q->mult), q->half, "");
	LLVMValueRef sgn = LLVMBuildAnd(b, LLVMBuildAShr(b, a2, c32(f, 31), ""), q->mask, "");
	return LLVMBuildAShr(b, LLVMBuildAdd(b, t, sgn, ""), q->r, "");
}

void be_rq_chan(be_fn *f, be_rqc *q, bool exact, LLVMValueRef mult, LLVMValueRef shift, LLVMValueRef zy)
{
	q->exact = exact;
	if (exact)
		rq_chan_exact(f, q, mult, shift);
	else
		rq_chan_bounded(f, q, mult, shift, zy);
}

LLVMValueRef be_rq_apply(be_fn *f, const be_rqc *q, LLVMValueRef acc)
{
	return q->exact ? rq_apply_exact(f, q, acc) : rq_apply_bounded(f, q, acc);
}

/* requant_bounded's options: acc arrives already shifted left by 1 +
 * left (RQ_PRE); the multiply as an SMMLAR in inline asm on the DSP
 * (RQ_SMMLAR: LLVM selects SMMLAR from the i64 pattern in some loops and
 * UMLAL with a sign fix-up in others, as in the add's; the depthwise
 * kernels' requantization is shorter with LLVM's own). */
enum { RQ_PRE = 1, RQ_SMMLAR = 2 };

static LLVMValueRef requant_bounded(be_fn *f, const be_iop *o, LLVMValueRef acc, LLVMValueRef c, unsigned how)
{
	int n = o->nrq;
	if (o->amax < 0 || n < 1)
		return NULL;
	int nr0 = 0, lf, r;
	int32_t k;
	for (int i = 0; i < n; i++) {
		if (!bounded_chan(o, i, &lf, &r, &k))
			return NULL;
		nr0 += r == 0;
	}
	int32_t *left = malloc(sizeof *left * (size_t)n), *rs = malloc(sizeof *rs * (size_t)n);
	int32_t *kc = malloc(sizeof *kc * (size_t)n), *r1 = malloc(sizeof *r1 * (size_t)n);
	if (!left || !rs || !kc || !r1) {
		free(left);
		free(rs);
		free(kc);
		free(r1);
		return NULL;
	}
	bool any_left = false;
	for (int i = 0; i < n; i++) {
		bounded_chan(o, i, &lf, &r, &k);
		left[i] = lf + 1, rs[i] = r, kc[i] = k; /* the doubling and the left shift as one */
		r1[i] = rs[i] > 0 ? -1 : 0;
		any_left = any_left || lf;
	}
	LLVMBuilderRef b = f->b;
	/* per-channel M, kc and r as rows of one table: one address */
	LLVMValueRef mv, kv_, rv;
	bool same = true;
	for (int i = 1; i < n; i++)
		same = same && o->mult[i] == o->mult[0] && kc[i] == kc[0] && rs[i] == rs[0];
	int32_t *rows = same ? NULL : malloc(sizeof *rows * 3 * (size_t)n);
	if (rows) {
		for (int i = 0; i < n; i++) {
			rows[3 * i] = o->mult[i];
			rows[3 * i + 1] = kc[i];
			rows[3 * i + 2] = rs[i];
		}
		LLVMValueRef tab = be_table_i32(f, rows, 3 * (int64_t)n);
		free(rows);
		LLVMTypeRef ct = LLVMTypeOf(c);
		LLVMValueRef at = LLVMBuildMul(b, c, LLVMConstInt(ct, 3, 0), "");
		mv = be_ld_t(f, f->i32, tab, at);
		kv_ = be_ld_t(f, f->i32, tab, LLVMBuildAdd(b, at, LLVMConstInt(ct, 1, 0), ""));
		rv = be_ld_t(f, f->i32, tab, LLVMBuildAdd(b, at, LLVMConstInt(ct, 2, 0), ""));
	} else {
		mv = chan_of(f, f->i32, o->mult, n, c, 0);
		kv_ = chan_of(f, f->i32, kc, n, c, 0);
		rv = chan_of(f, f->i32, rs, n, c, 0);
	}
	LLVMValueRef a2 = acc;
	if (!(how & RQ_PRE))
		a2 = LLVMBuildShl(b, acc, any_left ? chan_of(f, f->i32, left, n, c, 0) : c32(f, 1), "");
	LLVMValueRef x, t;
	if (f->dsp && (how & RQ_SMMLAR)) {
		x = NULL;
		t = be_smmlar(f, a2, mv, kv_);
	} else {
		x = mulhr(f, a2, mv);
		t = LLVMBuildAdd(b, x, kv_, "");
	}
	if (nr0 < n) {
		/* [x < 0] as [a < 0] when no multiplier is negative: x < 0 needs
		 * a < 0, and a < 0 with x >= 0 means x = 0, where subtracting 1
		 * leaves (2^(r-1) - 1 + zy 2^r) >> r at zy */
		bool mpos = true;
		for (int i = 0; i < n; i++)
			mpos = mpos && o->mult[i] >= 0;
		if (!mpos && !x)
			x = LLVMBuildSub(b, t, kv_, "");
		LLVMValueRef neg = LLVMBuildAShr(b, mpos ? a2 : x, c32(f, 31), ""); /* -1 or 0 */
		if (nr0) /* channels with r = 0 round nothing */
			neg = LLVMBuildAnd(b, neg, chan_of(f, f->i32, r1, n, c, 0), "");
		t = LLVMBuildAdd(b, t, neg, "");
		t = LLVMBuildAShr(b, t, rv, "");
	}
	free(left);
	free(rs);
	free(kc);
	free(r1);
	return t;
}

/* For kernels that requantize in their own code (l_int_dsp.c's 2x2 tile
 * in Thumb-2): when requant_bounded applies with no negative multiplier
 * and the output is i8 or u8 over its whole range, the rows per channel
 * as a constant table (*tab), and whether the clamp is USAT (u8) or SSAT.
 * When every channel shifts right (r >= 1) and none left, a row is (M,
 * kc, r); else (*wide) (M, kc, r, s) with s = 1 + left | [r >= 1] << 8:
 * the doubling and left shift as one LSL by s's low byte, and the sign
 * step only where r >= 1 rounds.  With sign (per channel +-1, for sums
 * of negated weights), rows of 4 whatever the shifts, s = sign * 2^(1 +
 * left): the doubling, the left shift and the sign as one MUL.
 * With *packed on entry, rows of 2 when every channel allows (*packed
 * stays true): (M, p), 8 bytes a channel instead of 12 or 16 and the
 * bias's 4, with kc left out and p = (r >= 1 ? r - 1 : 0) | s << 8 | [r
 * >= 1] << 15 | bias << 16 (bias[c] as an i16, or 0 without bias), s in
 * 7 bits (signed where sign is given).  The kernel derives kc as (2 zy +
 * 1) << (r - 1), or zy for r = 0, and shifts by r - 1 and then 1 (SSAT's
 * own shift); an ARM register shift takes the low byte of its amount, so
 * p serves as r - 1 unmasked.  One more instruction a channel visit, two
 * with signs.
 */
bool be_rq_rows(be_fn *f, const be_iop *o, int64_t nchan, const int32_t *sign, const int32_t *bias,
                LLVMValueRef *tab, bool *usat, bool *wide, bool *packed)
{
	int n = o->nrq;
	if (!o->k.requant || o->amax < 0 || n < 1 || (n > 1 && n != nchan) ||
	    !((o->odt == IR_DT_I8 && o->k.lo == -128 && o->k.hi == 127) ||
	      (o->odt == IR_DT_U8 && o->k.lo == 0 && o->k.hi == 255)))
		return false;
	int lf, r;
	int32_t k;
	*wide = sign != NULL;
	bool pk = *packed;
	for (int i = 0; i < n; i++) {
		if (!bounded_chan(o, i, &lf, &r, &k) || o->mult[i] < 0)
			return false;
		*wide = *wide || lf || r < 1;
		pk = pk && (sign ? lf <= 4 : lf <= 30); /* s in 7 bits */
	}
	for (int64_t c = 0; pk && bias && c < nchan; c++)
		pk = bias[c] >= INT16_MIN && bias[c] <= INT16_MAX;
	*packed = pk;
	int w = pk ? 2 : *wide ? 4 : 3;
	int32_t *rows = malloc(sizeof *rows * (size_t)w * (size_t)nchan);
	if (!rows)
		return false;
	for (int64_t c = 0; c < nchan; c++) {
		int i = n > 1 ? (int)c : 0;
		bounded_chan(o, i, &lf, &r, &k);
		int32_t s = sign ? sign[c] * (1 << (1 + lf)) : 1 + lf;
		rows[w * c] = o->mult[i];
		if (pk) {
			uint32_t bh = bias ? (uint32_t)bias[c] & 0xffffu : 0;
			rows[w * c + 1] = (int32_t)((uint32_t)(r >= 1 ? r - 1 : 0) | ((uint32_t)s & 127u) << 8 |
			                            (uint32_t)(r >= 1) << 15 | bh << 16);
			continue;
		}
		rows[w * c + 1] = k;
		rows[w * c + 2] = r;
		if (sign)
			rows[w * c + 3] = s;
		else if (*wide)
			rows[w * c + 3] = s | (r >= 1) << 8;
	}
	*tab = be_table_i32(f, rows, w * nchan);
	free(rows);
	*usat = o->odt == IR_DT_U8;
	return *tab != NULL;
}

/* A packed row's word p (be_rq_rows, without sign) as the wide row's
 * kc, r and s into q[0..2] for a channel of one kind: r >= 1, or r0 (r =
 * 0), where kc is the layer's zy and s the shift 1 + left; q's other
 * words unused by be_rq_row for that kind are left as they are. */
void be_rq_unpack(be_fn *f, LLVMValueRef p, int32_t zy, bool r0, LLVMValueRef q[3])
{
	LLVMBuilderRef b = f->b;
	if (r0) {
		q[0] = c32(f, zy);
		q[2] = LLVMBuildAnd(b, LLVMBuildLShr(b, p, c32(f, 8), ""), c32(f, 127), "");
		return;
	}
	LLVMValueRef r1 = LLVMBuildAnd(b, p, c32(f, 255), "");
	q[0] = LLVMBuildShl(b, c32(f, 2 * zy + 1), r1, "");
	q[1] = LLVMBuildAdd(b, r1, c32(f, 1), "");
}

LLVMValueRef be_rq_row(be_fn *f, LLVMValueRef const row[4], bool r0, bool usat, LLVMValueRef acc)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef a2 = LLVMBuildShl(b, acc, r0 ? row[3] : c32(f, 1), "");
	LLVMValueRef t = LLVMBuildAdd(b, mulhr(f, a2, row[0]), row[1], "");
	if (!r0)
		t = LLVMBuildAShr(b, LLVMBuildAdd(b, t, LLVMBuildAShr(b, a2, c32(f, 31), ""), ""), row[2], "");
	return be_smin(f, be_smax(f, t, c32(f, usat ? 0 : -128)), c32(f, usat ? 255 : 127));
}

LLVMValueRef be_load_first(be_fn *f, LLVMTypeRef vt, LLVMValueRef p, unsigned align, int64_t n, LLVMValueRef pass)
{
	unsigned L = LLVMGetVectorSize(vt);
	LLVMValueRef m[128];
	for (unsigned i = 0; i < L; i++)
		m[i] = LLVMConstInt(f->i1, i < n, 0);
	LLVMTypeRef tys[2] = {vt, f->ptr};
	LLVMValueRef args[4] = {p, c32(f, align), LLVMConstVector(m, L), pass ? pass : LLVMConstNull(vt)};
	return be_intr(f, "llvm.masked.load", tys, 2, args, 4);
}

void be_store_first(be_fn *f, LLVMValueRef v, LLVMValueRef p, unsigned align, int64_t n)
{
	unsigned L = LLVMGetVectorSize(LLVMTypeOf(v));
	LLVMValueRef m[128];
	for (unsigned i = 0; i < L; i++)
		m[i] = LLVMConstInt(f->i1, i < n, 0);
	LLVMTypeRef tys[2] = {LLVMTypeOf(v), f->ptr};
	LLVMValueRef args[4] = {v, p, c32(f, align), LLVMConstVector(m, L)};
	be_intr(f, "llvm.masked.store", tys, 2, args, 4);
}

/* requant_bounded on 16 i32 lanes with AVX-512 (lane l channel c + l
 * for step 1, else c): the high word of the rounded multiply 2a * M from
 * the even and the odd lanes' 64-bit products (VPMULDQ twice) gathered
 * into one vector, then + kc, the sign step where r >= 1 and the shift,
 * all in 32 bits; zy is in kc.  floor_zy: the caller clamps the result
 * to zy or more (a fused relu), where the sign step changes nothing (a <
 * 0 gives zy or less either way, M being >= 0) and is left out.  NULL
 * where be_rq_bounded_ok fails. */
static LLVMValueRef requant_x86(be_fn *f, const be_iop *o, LLVMValueRef acc, LLVMValueRef c, int step,
                                bool floor_zy)
{
	if (!be_rq_bounded_ok(o))
		return NULL;
	int n = o->nrq, lf, r;
	int32_t k;
	int32_t *left = malloc(sizeof *left * (size_t)n), *rs = malloc(sizeof *rs * (size_t)n);
	int32_t *kc = malloc(sizeof *kc * (size_t)n), *sg = malloc(sizeof *sg * (size_t)n);
	LLVMValueRef t = NULL;
	if (!left || !rs || !kc || !sg)
		goto done;
	bool any_left = false, any_r = false, all_r = true;
	for (int i = 0; i < n; i++) {
		bounded_chan(o, i, &lf, &r, &k);
		left[i] = lf + 1, rs[i] = r, kc[i] = k, sg[i] = r > 0 ? -1 : 0;
		any_left = any_left || lf;
		any_r = any_r || r > 0;
		all_r = all_r && r > 0;
	}
	LLVMBuilderRef b = f->b;
	LLVMTypeRef t32 = LLVMTypeOf(acc), t64 = LLVMVectorType(f->i64, 8);
	LLVMValueRef a2 = LLVMBuildShl(b, acc, any_left ? chan_of(f, t32, left, n, c, step) : kv(t32, 1), "");
	LLVMValueRef m = chan_of(f, t32, o->mult, n, c, step);
	LLVMValueRef a64 = LLVMBuildBitCast(b, a2, t64, ""), m64 = LLVMBuildBitCast(b, m, t64, "");
	LLVMValueRef c32v = kv(t64, 32), half = kv(t64, 1ll << 31);
	LLVMValueRef ae = LLVMBuildAShr(b, LLVMBuildShl(b, a64, c32v, ""), c32v, ""), ao = LLVMBuildAShr(b, a64, c32v, "");
	LLVMValueRef me = LLVMBuildAShr(b, LLVMBuildShl(b, m64, c32v, ""), c32v, "");
	LLVMValueRef mo = step ? LLVMBuildAShr(b, m64, c32v, "") : me;
	LLVMValueRef pe = LLVMBuildAdd(b, LLVMBuildMul(b, ae, me, ""), half, "");
	LLVMValueRef po = LLVMBuildAdd(b, LLVMBuildMul(b, ao, mo, ""), half, "");
	LLVMValueRef idx[16];
	for (int i = 0; i < 16; i++)
		idx[i] = c32(f, (i & 1 ? 16 : 0) + (i & ~1) + 1);
	LLVMValueRef x = LLVMBuildShuffleVector(b, LLVMBuildBitCast(b, pe, t32, ""), LLVMBuildBitCast(b, po, t32, ""),
	                                        LLVMConstVector(idx, 16), "");
	t = LLVMBuildAdd(b, x, chan_of(f, t32, kc, n, c, step), "");
	if (any_r) {
		if (!floor_zy) {
			LLVMValueRef neg = LLVMBuildAShr(b, a2, kv(t32, 31), "");
			if (!all_r)
				neg = LLVMBuildAnd(b, neg, chan_of(f, t32, sg, n, c, step), "");
			t = LLVMBuildAdd(b, t, neg, "");
		}
		t = LLVMBuildAShr(b, t, chan_of(f, t32, rs, n, c, step), "");
	}
done:
	free(left);
	free(rs);
	free(kc);
	free(sg);
	return t;
}

/* k_intop_store: the i32 accumulator (or lanes, see requant_k) of
 * channel c as the output's dtype. */
static LLVMValueRef int_out(be_fn *f, const be_iop *o, LLVMValueRef acc, LLVMValueRef c, int step)
{
	if (!o->k.requant)
		return acc;
	bool small;
	LLVMTypeRef t32 = shape_of(acc, f->i32), oty = shape_of(acc, be_dt_type(f, o->odt));
	LLVMValueRef r = NULL;
	if (!is_vec(t32) && f->mcu && (r = requant_bounded(f, o, acc, c, 0)))
		return LLVMBuildTrunc(f->b, be_smin(f, be_smax(f, r, kv(t32, o->k.lo)), kv(t32, o->k.hi)), oty, "");
	if (is_vec(t32) && LLVMGetVectorSize(t32) == 16 && f->isimd == BE_ISIMD_AVX2 && f->vl >= 16 &&
	    (r = requant_x86(f, o, acc, c, step, o->k.lo >= o->k.zy)))
		return LLVMBuildTrunc(f->b, be_smin(f, be_smax(f, r, kv(t32, o->k.lo)), kv(t32, o->k.hi)), oty, "");
	if (is_vec(t32) && LLVMGetVectorSize(t32) == 4 && (f->isimd == BE_ISIMD_NEON || f->isimd == BE_ISIMD_NEON_DOT))
		r = requant_neon(f, acc, o->mult, o->shift, o->nrq, c, step, &small);
	if (!r)
		r = requant_k(f, acc, o->mult, o->shift, o->nrq, c, step, &small);
	if (small) /* |r| <= 2^30: add, then clamp (SSAT/USAT for a full range) */
		return LLVMBuildTrunc(f->b, be_smin(f, be_smax(f, LLVMBuildAdd(f->b, r, kv(t32, o->k.zy), ""),
		                                                  kv(t32, o->k.lo)), kv(t32, o->k.hi)),
		                      oty, "");
	return sat_zp(f, r, o->k.lo, o->k.hi, o->k.zy, oty);
}

LLVMValueRef be_int_out(be_fn *f, const be_iop *o, LLVMValueRef acc, LLVMValueRef c)
{
	return int_out(f, o, acc, c, 0);
}

LLVMValueRef be_int_out_v(be_fn *f, const be_iop *o, LLVMValueRef acc, LLVMValueRef c, int step)
{
	return int_out(f, o, acc, c, step);
}

/* -------------------------------------------------- quantize/dequantize */

/* The per-axis geometry of n's scale (operand 1) over x (operand 0), as
 * q_params in ir/k_quant.c: [outer, nchan, inner]; blocked (block_size B,
 * returned), [outer, x's extent on the axis, inner], the parameter of
 * (o, i, r) at (o * ceil(extent / B) + i / B) * inner + r. */
static int64_t q_geom(const ir_node *n, int64_t *dims)
{
	const ir_shape *xs = &n->in[0]->shape;
	int64_t ns = ir_shape_numel(&n->in[1]->shape), cnt = ir_shape_numel(xs);
	int64_t B = ir_attr_int(n, "block_size", 0);
	dims[1] = 1;
	dims[2] = 1;
	if (B > 0) {
		int ax = k_axis(ir_attr_int(n, "axis", 1), xs->rank);
		dims[1] = xs->d[ax];
		for (int i = ax + 1; i < xs->rank; i++)
			dims[2] *= xs->d[i];
		dims[0] = cnt / (dims[1] * dims[2]);
		return B;
	}
	if (n->in[1]->shape.rank == 1 && ns > 1) {
		int ax = k_axis(ir_attr_int(n, "axis", 1), xs->rank);
		dims[1] = ns;
		for (int i = ax + 1; i < xs->rank; i++)
			dims[2] *= xs->d[i];
	}
	dims[0] = cnt / (dims[1] * dims[2]);
	return 0;
}

/* The parameter index for nest indices iv over dims (q_geom). */
static LLVMValueRef q_param_index(be_fn *f, const int64_t *dims, int64_t B, LLVMValueRef *iv)
{
	if (!B)
		return iv[1];
	LLVMValueRef blk = LLVMBuildUDiv(f->b, iv[1], be_ci(f, B), "");
	LLVMValueRef row = be_add(f, be_mul(f, iv[0], (dims[1] + B - 1) / B), blk);
	return be_add(f, be_mul(f, row, dims[2]), iv[2]);
}

/* quantize of an integer: its requantization to the output's parameters,
 * per tensor (ir_eval_quantize's integer branch). */
static int l_requantize(be_fn *f, const ir_node *n)
{
	const ir_value *xv = n->in[0], *yv = n->out[0];
	int nm = 0;
	const int64_t *mult = ir_attr_ints(n, "rq_mult", &nm), *shift = ir_attr_ints(n, "rq_shift", &nm);
	int64_t lo, hi, cnt = ir_shape_numel(&xv->shape);
	ir_dtype_range_bits(yv->dt, (int)ir_attr_int(n, "bits", 0), &lo, &hi);
	int64_t zin = xv->quant->zero_point ? xv->quant->zero_point[0] : 0;
	int64_t zout = yv->quant && yv->quant->zero_point ? yv->quant->zero_point[0] : 0;
	LLVMValueRef x = be_ptr(f, xv), y = be_ptr(f, yv);
	be_loop l;
	LLVMValueRef i = be_loop_begin(f, &l, cnt);
	LLVMValueRef a = LLVMBuildSub(f->b, be_ld_i32(f, xv->dt, x, i), c32(f, zin), "");
	LLVMValueRef r = requant(f, a, c32(f, mult[0]), c32(f, shift[0]));
	be_st_t(f, be_dt_type(f, yv->dt), y, i, sat_zp(f, r, lo, hi, zout, be_dt_type(f, yv->dt)));
	be_loop_end(f, &l);
	return 0;
}

/* l_quantize on AVX-512 for an f32 input quantized per tensor to 8 bits,
 * 16 elements a vector: x * (1 / scale) in place of x / scale, which
 * rounds to the same integer unless the product lies within 2^-12 of a
 * half (the two differ by at most 2 ulps, under 2^-14 where |q| < 512,
 * and beyond that the clamp decides); a vector with such a lane takes
 * the division.  The rest as l_quantize.  0, or 1 when n is not one. */
static int quantize_x86(be_fn *f, const ir_node *n, int64_t lo, int64_t hi)
{
	const ir_value *xv = n->in[0], *sv = n->in[1], *yv = n->out[0];
	const ir_value *zv = n->nin > 2 && n->in[2] && ir_shape_numel(&n->in[2]->shape) > 0 ? n->in[2] : NULL;
	int64_t cnt = ir_shape_numel(&xv->shape);
	if (f->mcu || f->isimd != BE_ISIMD_AVX2 || f->vl < 16 || xv->dt != IR_DT_F32 ||
	    ir_shape_numel(&sv->shape) != 1 || (zv && ir_shape_numel(&zv->shape) != 1) || cnt < 1 ||
	    (yv->dt != IR_DT_I8 && yv->dt != IR_DT_U8) || ir_attr_int(n, "block_size", 0) > 0)
		return 1;
	LLVMBuilderRef b = f->b;
	LLVMTypeRef vf = LLVMVectorType(f->f32, 16), v32 = LLVMVectorType(f->i32, 16), v8 = LLVMVectorType(f->i8, 16);
	LLVMValueRef x = be_ptr(f, xv), y = be_ptr(f, yv);
	LLVMValueRef sc = be_ld(f, be_ptr(f, sv), be_ci(f, 0));
	LLVMValueRef zp = zv ? be_ld_i32(f, zv->dt, be_ptr(f, zv), be_ci(f, 0)) : c32(f, 0);
	LLVMValueRef svec = be_splat(f, vf, sc), rvec = be_splat(f, vf, LLVMBuildFDiv(b, be_cf(f, 1.0f), sc, ""));
	LLVMValueRef flo = be_splat(f, vf, LLVMBuildSIToFP(b, LLVMBuildSub(b, c32(f, lo), zp, ""), f->f32, ""));
	LLVMValueRef fhi = be_splat(f, vf, LLVMBuildSIToFP(b, LLVMBuildSub(b, c32(f, hi), zp, ""), f->f32, ""));
	LLVMValueRef zpv = be_splat(f, v32, zp);
	int64_t nfull = cnt / 16, tail = cnt % 16;
	for (int part = 0; part < 2; part++) {
		int64_t nv = part == 0 ? nfull : (tail > 0);
		if (nv == 0)
			continue;
		be_loop l;
		LLVMValueRef at = be_mul(f, part == 0 ? be_loop_begin(f, &l, nv) : be_ci(f, nfull), 16);
		LLVMValueRef px = LLVMBuildInBoundsGEP2(b, f->f32, x, &at, 1, ""), xl;
		if (part == 0) {
			xl = LLVMBuildLoad2(b, vf, px, "");
			LLVMSetAlignment(xl, 4);
		} else {
			xl = be_load_first(f, vf, px, 4, tail, NULL);
		}
		/* the product, or the quotient where a lane is near a half:
		 * d = |r - roundeven(r)| <= 0.5, so |d - 0.5| < 2^-12 is d >
		 * 0.5 - 2^-12 (exact in f32; NaN and infinities compare false) */
		LLVMValueRef r = LLVMBuildFMul(b, xl, rvec, "");
		LLVMValueRef ri = be_intr(f, "llvm.roundeven", &vf, 1, &r, 1);
		LLVMValueRef d = be_intr(f, "llvm.fabs", &vf, 1, (LLVMValueRef[]){LLVMBuildFSub(b, r, ri, "")}, 1);
		LLVMValueRef near = LLVMBuildFCmp(b, LLVMRealOGT, d, be_splat(f, vf, be_cf(f, 0.5f - 1.0f / 4096)), "");
		LLVMValueRef any = LLVMBuildICmp(b, LLVMIntNE, LLVMBuildBitCast(b, near, LLVMInt16TypeInContext(f->ctx), ""),
		                                 LLVMConstInt(LLVMInt16TypeInContext(f->ctx), 0, 0), "");
		LLVMBasicBlockRef here = LLVMGetInsertBlock(b);
		LLVMBasicBlockRef slow = LLVMAppendBasicBlockInContext(f->ctx, f->fn, "q.div");
		LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(f->ctx, f->fn, "q.join");
		LLVMBuildCondBr(b, any, slow, join);
		LLVMPositionBuilderAtEnd(b, slow);
		LLVMValueRef rd = LLVMBuildFDiv(b, xl, svec, "");
		LLVMBuildBr(b, join);
		LLVMPositionBuilderAtEnd(b, join);
		LLVMValueRef rp = LLVMBuildPhi(b, vf, "");
		LLVMAddIncoming(rp, &r, &here, 1);
		LLVMAddIncoming(rp, &rd, &slow, 1);
		LLVMValueRef q = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLT, rp, flo, ""), flo, rp, "");
		q = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOGT, q, fhi, ""), fhi, q, "");
		LLVMValueRef m = LLVMBuildFAdd(b, q, be_splat(f, vf, be_cf(f, 12582912.0f)), "");
		LLVMValueRef qi = LLVMBuildSub(b, LLVMBuildBitCast(b, m, v32, ""), be_splat(f, v32, c32(f, 0x4B400000)), "");
		qi = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealUNO, rp, rp, ""), LLVMConstNull(v32), qi, "");
		LLVMValueRef v = LLVMBuildTrunc(b, LLVMBuildAdd(b, qi, zpv, ""), v8, "");
		LLVMValueRef py = LLVMBuildInBoundsGEP2(b, f->i8, y, &at, 1, "");
		if (part == 0) {
			LLVMSetAlignment(LLVMBuildStore(b, v, py), 1);
			be_loop_end(f, &l);
		} else {
			be_store_first(f, v, py, 1, tail);
		}
	}
	return 0;
}

/* y = saturate(round_half_even(x / scale) + zp).  The saturation to
 * [lo - zp, hi - zp] (exact in f32) comes first, which rounding cannot
 * undo; then r + 1.5 * 2^23 rounds to an integer, half to even, in the
 * default rounding mode, and that integer is the sum's bits minus
 * 0x4B400000 (|r| < 2^22).  NaN gives the zero point.
 * [lo, hi] is the output dtype's range, or `bits`' (int4: [-8, 7]). */
static int l_quantize(be_fn *f, const ir_node *n)
{
	if (ir_dtype_is_qint(n->in[0]->dt))
		return l_requantize(f, n);
	const ir_value *zv = n->nin > 2 && n->in[2] && ir_shape_numel(&n->in[2]->shape) > 0 ? n->in[2] : NULL;
	ir_dtype odt = n->out[0]->dt;
	int64_t lo, hi, dims[3];
	ir_dtype_range_bits(odt, (int)ir_attr_int(n, "bits", 0), &lo, &hi);
	if (!quantize_x86(f, n, lo, hi))
		return 0;
	int64_t B = q_geom(n, dims);
	LLVMValueRef x = be_ptr(f, n->in[0]), s = be_ptr(f, n->in[1]), y = be_ptr(f, n->out[0]);
	LLVMValueRef z = zv ? be_ptr(f, zv) : NULL;
	LLVMBuilderRef b = f->b;
	be_nest nst;
	LLVMValueRef iv[3];
	be_nest_begin(f, &nst, 3, dims, iv);
	LLVMValueRef c = q_param_index(f, dims, B, iv);
	LLVMValueRef idx = be_affine(f, 0, 3, iv, (int64_t[]){dims[1] * dims[2], dims[2], 1});
	LLVMValueRef zp = z ? be_ld_i32(f, zv->dt, z, c) : c32(f, 0);
	LLVMValueRef r = LLVMBuildFDiv(b, be_ld(f, x, idx), be_ld(f, s, c), "");
	if (f->vcvtr) {
		/* VCVTR rounds half to even in the FPSCR's default mode (RN),
		 * saturates to int32 and gives 0 for NaN; QADD keeps the zero
		 * point's addition saturated, then the clamp (SSAT/USAT for a
		 * full range) */
		LLVMValueRef qf = be_intr(f, "llvm.arm.vcvtr", &f->f32, 1, &r, 1);
		LLVMValueRef qa[2] = {LLVMBuildBitCast(b, qf, f->i32, ""), zp};
		LLVMValueRef v = be_intr(f, "llvm.arm.qadd", NULL, 0, qa, 2);
		v = be_smin(f, be_smax(f, v, c32(f, lo)), c32(f, hi));
		be_st_t(f, be_dt_type(f, odt), y, idx, LLVMBuildTrunc(b, v, be_dt_type(f, odt), ""));
		be_nest_end(f, &nst);
		return 0;
	}
	/* clamp first (the bounds are integers, so rounding cannot leave
	 * them), then round half to even by adding 1.5 * 2^23: exact for
	 * |q| < 2^22, and the integer is the sum's low mantissa bits */
	LLVMValueRef flo = LLVMBuildSIToFP(b, LLVMBuildSub(b, c32(f, lo), zp, ""), f->f32, "");
	LLVMValueRef fhi = LLVMBuildSIToFP(b, LLVMBuildSub(b, c32(f, hi), zp, ""), f->f32, "");
	LLVMValueRef q = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLT, r, flo, ""), flo, r, "");
	q = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOGT, q, fhi, ""), fhi, q, "");
	LLVMValueRef m = LLVMBuildFAdd(b, q, be_cf(f, 12582912.0f), "");
	LLVMValueRef qi = LLVMBuildSub(b, LLVMBuildBitCast(b, m, f->i32, ""), c32(f, 0x4B400000), "");
	qi = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealUNO, r, r, ""), c32(f, 0), qi, "");
	LLVMValueRef v = LLVMBuildAdd(b, qi, zp, "");
	be_st_t(f, be_dt_type(f, odt), y, idx, LLVMBuildTrunc(b, v, be_dt_type(f, odt), ""));
	be_nest_end(f, &nst);
	return 0;
}

/* y = ((f32)x - (f32)zp) * scale in f32. */
static int l_dequantize(be_fn *f, const ir_node *n)
{
	const ir_value *xv = n->in[0];
	const ir_value *zv = n->nin > 2 && n->in[2] && ir_shape_numel(&n->in[2]->shape) > 0 ? n->in[2] : NULL;
	int64_t dims[3];
	int64_t B = q_geom(n, dims);
	LLVMValueRef x = be_ptr(f, xv), s = be_ptr(f, n->in[1]), y = be_ptr(f, n->out[0]);
	LLVMValueRef z = zv ? be_ptr(f, zv) : NULL;
	LLVMBuilderRef b = f->b;
	be_nest nst;
	LLVMValueRef iv[3];
	be_nest_begin(f, &nst, 3, dims, iv);
	LLVMValueRef c = q_param_index(f, dims, B, iv);
	LLVMValueRef idx = be_affine(f, 0, 3, iv, (int64_t[]){dims[1] * dims[2], dims[2], 1});
	LLVMValueRef fz = z ? LLVMBuildSIToFP(b, be_ld_i32(f, zv->dt, z, c), f->f32, "") : be_cf(f, 0);
	LLVMValueRef fx = LLVMBuildSIToFP(b, be_ld_i32(f, xv->dt, x, idx), f->f32, "");
	LLVMValueRef v = LLVMBuildFMul(b, LLVMBuildFSub(b, fx, fz, ""), be_ld(f, s, c), "");
	be_st(f, y, idx, v);
	be_nest_end(f, &nst);
	return 0;
}

/* -------------------------------------------------------- integer conv */

enum { INSP_MAX = IR_MAX_RANK - 2 };

/* conv_eval_int as loops with constant bounds: per spatial dim the output
 * positions are split into segments with the same in-bounds taps
 * (be_segments), so padding taps are never visited (they would add 0). */
static int l_int_conv(be_fn *f, const ir_node *n)
{
	int dsp = be_l_compact_int(f, n);
	if (dsp <= 0)
		return dsp;
	dsp = be_dsp_conv(f, n);
	if (dsp <= 0)
		return dsp;
	const ir_shape *xs = &n->in[0]->shape, *ws = &n->in[1]->shape, *ys = &n->out[0]->shape;
	const ir_value *xval = n->in[0], *wval = n->in[1];
	const ir_value *bval = n->nin > 2 && n->in[2] && ir_shape_numel(&n->in[2]->shape) > 0 ? n->in[2] : NULL;
	int nsp = xs->rank - 2;
	int64_t in[INSP_MAX], k[INSP_MAX], s[INSP_MAX], dil[INSP_MAX], pb[INSP_MAX], pe[INSP_MAX],
		out[INSP_MAX];
	be_seg *seg[INSP_MAX] = {NULL};
	int nseg[INSP_MAX];
	be_iop o;
	int rc = -1;
	if (be_iop_init(f, n, &o))
		goto done;
	for (int i = 0; i < nsp; i++) {
		in[i] = xs->d[2 + i];
		k[i] = ws->d[2 + i];
		out[i] = ys->d[2 + i];
	}
	be_ints_attr(n, "strides", nsp, s);
	be_ints_attr(n, "dilations", nsp, dil);
	if (k_resolve_pads(f->g, n, nsp, in, k, s, dil, pb, pe, f->d))
		goto done;
	for (int i = 0; i < nsp; i++) {
		seg[i] = calloc((size_t)out[i] + 1, sizeof *seg[i]);
		if (!seg[i]) {
			diag_error(f->d, NULL, "out of memory");
			goto done;
		}
		nseg[i] = be_segments(in[i], k[i], s[i], dil[i], pb[i], pe[i], out[i], seg[i]);
	}
	int64_t N = xs->d[0], C = xs->d[1], M = ys->d[1], G = ir_attr_int(n, "group", 1);
	int64_t cg = C / G, mg = M / G;
	int64_t in_sz = 1, k_sz = 1, out_sz = 1;
	int64_t istr[INSP_MAX], kstr[INSP_MAX], ostr[INSP_MAX];
	for (int i = nsp - 1; i >= 0; i--) {
		istr[i] = in_sz;
		kstr[i] = k_sz;
		ostr[i] = out_sz;
		in_sz *= in[i];
		k_sz *= k[i];
		out_sz *= out[i];
	}
	LLVMValueRef x = be_ptr(f, xval), w = be_ptr(f, wval), y = be_ptr(f, n->out[0]);
	LLVMValueRef bias = bval ? be_ptr(f, bval) : NULL;
	LLVMTypeRef oty = be_dt_type(f, o.odt);
	LLVMBuilderRef b = f->b;
	LLVMValueRef acc = be_entry_alloca(f, f->i32, "iacc");
	be_nest outer;
	int64_t odims[3] = {N, G, mg};
	LLVMValueRef ov[3]; /* batch, group, channel in group */
	be_nest_begin(f, &outer, 3, odims, ov);
	LLVMValueRef m = be_add(f, be_mul(f, ov[1], mg), ov[2]);
	LLVMValueRef bv = bias ? be_ld_t(f, f->i32, bias, m) : c32(f, 0);
	LLVMValueRef zw = be_int_chan(f, o.zw, o.nzw, m), zx = c32(f, o.k.zx);
	int si[INSP_MAX] = {0};
	for (;;) {
		int64_t xbase = 0, wbase = 0, ybase = 0;
		int64_t segn[INSP_MAX], tapn[INSP_MAX];
		bool any_tap = true;
		for (int i = 0; i < nsp; i++) {
			const be_seg *sg = &seg[i][si[i]];
			segn[i] = sg->n;
			tapn[i] = sg->khi - sg->klo;
			any_tap = any_tap && tapn[i] > 0;
			xbase += (sg->o0 * s[i] - pb[i] + sg->klo * dil[i]) * istr[i];
			wbase += sg->klo * kstr[i];
			ybase += sg->o0 * ostr[i];
		}
		be_nest on;
		LLVMValueRef oi[INSP_MAX];
		be_nest_begin(f, &on, nsp, segn, oi);
		LLVMBuildStore(b, bv, acc);
		if (any_tap) {
			be_loop cl;
			LLVMValueRef c = be_loop_begin(f, &cl, cg);
			be_nest kn;
			LLVMValueRef ki[INSP_MAX];
			be_nest_begin(f, &kn, nsp, tapn, ki);
			LLVMValueRef xv[3 + 2 * INSP_MAX], wv[2 + INSP_MAX];
			int64_t xs_[3 + 2 * INSP_MAX], ws_[2 + INSP_MAX];
			int nx = 0, nw = 0;
			xv[nx] = ov[0], xs_[nx++] = C * in_sz;
			xv[nx] = ov[1], xs_[nx++] = cg * in_sz;
			xv[nx] = c, xs_[nx++] = in_sz;
			wv[nw] = m, ws_[nw++] = cg * k_sz;
			wv[nw] = c, ws_[nw++] = k_sz;
			for (int i = 0; i < nsp; i++) {
				xv[nx] = oi[i], xs_[nx++] = s[i] * istr[i];
				xv[nx] = ki[i], xs_[nx++] = dil[i] * istr[i];
				wv[nw] = ki[i], ws_[nw++] = kstr[i];
			}
			LLVMValueRef xe = be_ld_i32(f, xval->dt, x, be_affine(f, xbase, nx, xv, xs_));
			LLVMValueRef we = be_ld_i32(f, wval->dt, w, be_affine(f, wbase, nw, wv, ws_));
			/* int32 wrap-around: plain i32 sub/mul/add, no nsw */
			LLVMValueRef prod = LLVMBuildMul(b, LLVMBuildSub(b, xe, zx, ""), LLVMBuildSub(b, we, zw, ""), "");
			LLVMBuildStore(b, LLVMBuildAdd(b, LLVMBuildLoad2(b, f->i32, acc, ""), prod, ""), acc);
			be_nest_end(f, &kn);
			be_loop_end(f, &cl);
		}
		LLVMValueRef yv[2 + INSP_MAX];
		int64_t ys_[2 + INSP_MAX];
		int ny = 0;
		yv[ny] = ov[0], ys_[ny++] = M * out_sz;
		yv[ny] = m, ys_[ny++] = out_sz;
		for (int i = 0; i < nsp; i++)
			yv[ny] = oi[i], ys_[ny++] = ostr[i];
		LLVMValueRef r = be_int_out(f, &o, LLVMBuildLoad2(b, f->i32, acc, ""), m);
		be_st_t(f, oty, y, be_affine(f, ybase, ny, yv, ys_), r);
		be_nest_end(f, &on);
		int i = nsp - 1; /* next segment combination */
		for (; i >= 0; i--) {
			if (++si[i] < nseg[i])
				break;
			si[i] = 0;
		}
		if (i < 0)
			break;
	}
	be_nest_end(f, &outer);
	rc = 0;
done:
	for (int i = 0; i < nsp && i < INSP_MAX; i++)
		free(seg[i]);
	be_iop_free(&o);
	return rc;
}

/* ------------------------------------------------------ integer matmul */

/* The integer branch of ir_eval_matmul: numpy batch broadcasting, the
 * requantization channel is the output column j, the optional i32 bias
 * (operand 2) one per column. */
/* An integer matmul of two 8-bit activations that the DSP and SIMD
 * kernels take: A [..., M, K] and B [..., K, N] i8/u8 (B not a constant),
 * batch dims equal on both sides or absent from B, no bias, an output
 * requantized per tensor.  0 with *g and *o filled (be_iop_free it), 1
 * when n is not one, -1 error. */
int be_matmul_act_begin(be_fn *f, const ir_node *n, be_mm_geom *g, be_iop *o)
{
	const ir_value *av = n->in[0], *bv = n->in[1];
	const ir_shape *as = &av->shape, *bs = &bv->shape;
	bool i8ok = (av->dt == IR_DT_I8 || av->dt == IR_DT_U8) && (bv->dt == IR_DT_I8 || bv->dt == IR_DT_U8);
	if (as->rank < 2 || bs->rank < 2 || !i8ok || bv->kind == IR_VAL_CONST || be_int_has_bias(n, 2) ||
	    !n->out[0]->quant)
		return 1;
	g->M = as->d[as->rank - 2], g->K = as->d[as->rank - 1], g->N = bs->d[bs->rank - 1];
	if (bs->d[bs->rank - 2] != g->K || g->M < 1 || g->N < 1 || g->K < 1)
		return 1;
	g->nbat = ir_shape_numel(as) / (g->M * g->K), g->bbat = ir_shape_numel(bs) / (g->K * g->N);
	if (g->bbat != 1 && (bs->rank != as->rank || g->bbat != g->nbat))
		return 1;
	for (int i = 0; g->bbat != 1 && i < as->rank - 2; i++)
		if (as->d[i] != bs->d[i])
			return 1;
	if (be_iop_init(f, n, o)) {
		be_iop_free(o);
		return -1;
	}
	if (o->nzw != 1 || !o->k.requant) {
		be_iop_free(o);
		return 1;
	}
	return 0;
}

/* An integer matmul of two activations (i8/u8, per tensor, no bias) on a
 * SIMD target (NEON, SSE2/AVX2/AVX-512: f->isimd): per row of A and run
 * of V output columns (16, or 8 or 4 when N is smaller), sum_k (a_k - za)
 * (B[k][j..j+V) - zb) on V i32 lanes, B's rows read in place (a masked
 * load for the last run), then the lanes requantized together
 * (be_matmul_act_begin says which matmuls).  1 when it does not apply, 0
 * done, -1 error. */
static int simd_matmul_act(be_fn *f, const ir_node *n)
{
	if (!f->isimd || f->dsp)
		return 1;
	const ir_value *av = n->in[0], *bv = n->in[1];
	be_mm_geom gm;
	be_iop o;
	int rc = be_matmul_act_begin(f, n, &gm, &o);
	if (rc)
		return rc;
	int64_t M = gm.M, K = gm.K, N = gm.N, nbat = gm.nbat, bbat = gm.bbat;
	/* 16 lanes, or 8 or 4 for narrower outputs (attention's p.v over a
	 * head of 8): a masked load is lane by lane on NEON */
	int V = N >= 16 ? 16 : N >= 8 ? 8 : 4;
	LLVMBuilderRef b = f->b;
	LLVMTypeRef i8t = LLVMInt8TypeInContext(f->ctx), v8 = LLVMVectorType(i8t, V), v32 = LLVMVectorType(f->i32, V);
	LLVMTypeRef oty = be_dt_type(f, o.odt);
	LLVMValueRef a0 = be_ptr(f, av), b0 = be_ptr(f, bv), y0 = be_ptr(f, n->out[0]);
	LLVMValueRef accp = be_entry_alloca(f, v32, "mma.acc");
	LLVMValueRef zb = be_splat(f, v32, c32(f, o.zw[0])), za = c32(f, o.k.zx);
	be_loop lb, li, lj, lk;
	LLVMValueRef bi = be_loop_begin(f, &lb, nbat);
	LLVMValueRef A = LLVMBuildGEP2(b, i8t, a0, (LLVMValueRef[]){be_mul(f, bi, M * K)}, 1, "");
	LLVMValueRef Y = LLVMBuildGEP2(b, oty, y0, (LLVMValueRef[]){be_mul(f, bi, M * N)}, 1, "");
	LLVMValueRef B = bbat == 1 ? b0 : LLVMBuildGEP2(b, i8t, b0, (LLVMValueRef[]){be_mul(f, bi, K * N)}, 1, "");
	LLVMValueRef i = be_loop_begin(f, &li, M);
	int64_t full = N / V, rest = N % V;
	for (int part = 0; part < 2; part++) {
		int64_t cnt = part ? (rest ? 1 : 0) : full, w = part ? rest : V;
		if (!cnt)
			continue;
		LLVMValueRef j0 = part ? be_ci(f, full * V) : be_mul(f, be_loop_begin(f, &lj, cnt), V);
		LLVMBuildStore(b, LLVMConstNull(v32), accp);
		LLVMValueRef k = be_loop_begin(f, &lk, K);
		LLVMValueRef a = LLVMBuildSub(b, be_ld_i32(f, av->dt, A, be_add(f, be_mul(f, i, K), k)), za, "");
		LLVMValueRef p = LLVMBuildGEP2(b, i8t, B, (LLVMValueRef[]){be_add(f, be_mul(f, k, N), j0)}, 1, "");
		LLVMValueRef x;
		if (w == V) {
			x = LLVMBuildLoad2(b, v8, p, "");
			LLVMSetAlignment(x, 1);
		} else {
			x = be_load_first(f, v8, p, 1, w, NULL);
		}
		x = bv->dt == IR_DT_U8 ? LLVMBuildZExt(b, x, v32, "") : LLVMBuildSExt(b, x, v32, "");
		LLVMValueRef t = LLVMBuildMul(b, LLVMBuildSub(b, x, zb, ""), be_splat(f, v32, a), "");
		LLVMBuildStore(b, LLVMBuildAdd(b, LLVMBuildLoad2(b, v32, accp, ""), t, ""), accp);
		be_loop_end(f, &lk);
		LLVMValueRef r = be_int_out_v(f, &o, LLVMBuildLoad2(b, v32, accp, ""), c32(f, 0), 0);
		LLVMValueRef q = LLVMBuildGEP2(b, oty, Y, (LLVMValueRef[]){be_add(f, be_mul(f, i, N), j0)}, 1, "");
		if (w == V) {
			LLVMValueRef st = LLVMBuildStore(b, r, q);
			LLVMSetAlignment(st, 1);
		} else {
			be_store_first(f, r, q, 1, w);
		}
		if (!part)
			be_loop_end(f, &lj);
	}
	be_loop_end(f, &li);
	be_loop_end(f, &lb);
	be_iop_free(&o);
	return 0;
}

static int l_int_matmul(be_fn *f, const ir_node *n)
{
	int dsp = be_l_compact_int(f, n);
	if (dsp <= 0)
		return dsp;
	dsp = be_dsp_matmul(f, n);
	if (dsp <= 0)
		return dsp;
	dsp = be_dsp_matmul_act(f, n);
	if (dsp <= 0)
		return dsp;
	dsp = simd_matmul_act(f, n);
	if (dsp <= 0)
		return dsp;
	const ir_shape *as = &n->in[0]->shape, *bs = &n->in[1]->shape, *ys = &n->out[0]->shape;
	be_iop o;
	if (be_iop_init(f, n, &o)) {
		be_iop_free(&o);
		return -1;
	}
	int64_t mm = as->rank >= 2 ? as->d[as->rank - 2] : 1;
	int64_t nn = bs->rank >= 2 ? bs->d[bs->rank - 1] : 1;
	int64_t kk = as->d[as->rank - 1];
	int nb = ys->rank - (as->rank >= 2) - (bs->rank >= 2);
	int ra = as->rank > 2 ? as->rank - 2 : 0, rb = bs->rank > 2 ? bs->rank - 2 : 0;
	int64_t sa[IR_MAX_RANK + 2] = {0}, sb[IR_MAX_RANK + 2] = {0}, sy[IR_MAX_RANK + 2] = {0};
	int64_t acc_y = mm * nn;
	int64_t dims[IR_MAX_RANK + 2];
	ir_bcast_strides(nb, ra, as->d, mm * kk, sa);
	ir_bcast_strides(nb, rb, bs->d, kk * nn, sb);
	for (int i = nb - 1; i >= 0; i--) {
		sy[i] = acc_y;
		acc_y *= ys->d[i];
		dims[i] = ys->d[i];
	}
	dims[nb] = mm;
	dims[nb + 1] = nn;
	sa[nb] = kk, sb[nb] = 0, sy[nb] = nn;
	sa[nb + 1] = 0, sb[nb + 1] = 1, sy[nb + 1] = 1;
	ir_dtype adt = n->in[0]->dt, bdt = n->in[1]->dt;
	LLVMValueRef a = be_ptr(f, n->in[0]), bp = be_ptr(f, n->in[1]), y = be_ptr(f, n->out[0]);
	LLVMBuilderRef b = f->b;
	LLVMValueRef acc = be_entry_alloca(f, f->i32, "iacc");
	be_nest nst;
	LLVMValueRef iv[IR_MAX_RANK + 2];
	be_nest_begin(f, &nst, nb + 2, dims, iv);
	LLVMValueRef j = iv[nb + 1];
	LLVMValueRef abase = be_affine(f, 0, nb + 2, iv, sa);
	LLVMValueRef bbase = be_affine(f, 0, nb + 2, iv, sb);
	LLVMValueRef zw = be_int_chan(f, o.zw, o.nzw, j), zx = c32(f, o.k.zx);
	LLVMValueRef bias = n->nin > 2 && n->in[2] ? be_ptr(f, n->in[2]) : NULL;
	LLVMBuildStore(b, bias ? be_ld_t(f, f->i32, bias, j) : c32(f, 0), acc);
	be_loop l;
	LLVMValueRef k = be_loop_begin(f, &l, kk);
	LLVMValueRef av = be_ld_i32(f, adt, a, be_add(f, abase, k));
	LLVMValueRef bv = be_ld_i32(f, bdt, bp, be_add(f, bbase, be_mul(f, k, nn)));
	LLVMValueRef prod = LLVMBuildMul(b, LLVMBuildSub(b, av, zx, ""), LLVMBuildSub(b, bv, zw, ""), "");
	LLVMBuildStore(b, LLVMBuildAdd(b, LLVMBuildLoad2(b, f->i32, acc, ""), prod, ""), acc);
	be_loop_end(f, &l);
	LLVMValueRef r = be_int_out(f, &o, LLVMBuildLoad2(b, f->i32, acc, ""), j);
	be_st_t(f, be_dt_type(f, o.odt), y, be_affine(f, 0, nb + 2, iv, sy), r);
	be_nest_end(f, &nst);
	be_iop_free(&o);
	return 0;
}

/* ------------------------------------------------ pools and relu */

/* The zero point of n's integer input (per tensor; 0 without quant). */
static int32_t in_zp(const ir_node *n)
{
	const ir_quant *q = n->in[0]->quant;
	return q && q->zero_point ? q->zero_point[0] : 0;
}

/* The window geometry of an integer pool, as pool_geometry in ir/k_pool.c
 * computes it (the output extents are the output's shape); a global pool
 * is one window over the whole input. */
typedef struct ipool {
	int nsp;
	int64_t in[INSP_MAX], k[INSP_MAX], s[INSP_MAX], dil[INSP_MAX], pb[INSP_MAX], pe[INSP_MAX],
		out[INSP_MAX];
} ipool;

static int ipool_geom(be_fn *f, const ir_node *n, ipool *g)
{
	const ir_shape *xs = &n->in[0]->shape, *ys = &n->out[0]->shape;
	bool global = n->op == IR_OP_GLOBAL_MAX_POOL || n->op == IR_OP_GLOBAL_AVG_POOL;
	memset(g, 0, sizeof *g);
	g->nsp = xs->rank - 2;
	for (int i = 0; i < g->nsp; i++) {
		g->in[i] = xs->d[2 + i];
		g->out[i] = global ? 1 : ys->d[2 + i];
		g->k[i] = g->in[i];
		g->s[i] = g->dil[i] = 1;
	}
	if (global)
		return 0;
	int cnt = 0;
	const int64_t *k = ir_attr_ints(n, "kernel", &cnt);
	for (int i = 0; i < g->nsp; i++)
		g->k[i] = k && cnt == g->nsp ? k[i] : 1;
	be_ints_attr(n, "strides", g->nsp, g->s);
	be_ints_attr(n, "dilations", g->nsp, g->dil);
	return k_resolve_pads(f->g, n, g->nsp, g->in, g->k, g->s, g->dil, g->pb, g->pe, f->d);
}

/* An average pool's output from its i32 sum r of c taps (ntaps the
 * kernel's): requantized by rq_mult/rq_shift (a global average, ir/k_pool.c
 * pool_rq: the sum less ntaps * zx, the one rule, + zy), or rounded as
 * ir/k_pool.c's pool_int_avg: v = r - c * zp, its floor quotient by c
 * (the truncated one, one less for a negative remainder), one up when the
 * remainder passes half of c or is half of it and the quotient odd (half
 * to even; rem against c - rem cannot overflow), + zp; cnt 0 gives the
 * zero point; clamped to the dtype's range. */
static LLVMValueRef pool_avg_out(be_fn *f, const ir_node *n, LLVMValueRef r, LLVMValueRef c, int64_t ntaps)
{
	LLVMBuilderRef b = f->b;
	const int64_t *rqm = n->op == IR_OP_GLOBAL_AVG_POOL ? ir_attr_ints(n, "rq_mult", NULL) : NULL;
	const int64_t *rqs = ir_attr_ints(n, "rq_shift", NULL);
	int64_t lo, hi;
	ir_dtype_range(n->in[0]->dt, &lo, &hi);
	int32_t zp = in_zp(n);
	if (rqm && rqs) {
		int32_t zy = n->out[0]->quant->zero_point[0];
		LLVMValueRef a = LLVMBuildSub(b, r, c32(f, (int32_t)((uint32_t)zp * (uint32_t)ntaps)), "");
		a = LLVMBuildAdd(b, requant(f, a, c32(f, (int32_t)rqm[0]), c32(f, (int32_t)rqs[0])), c32(f, zy), "");
		return be_smin(f, be_smax(f, a, c32(f, lo)), c32(f, hi));
	}
	LLVMValueRef zero = c32(f, 0), one = c32(f, 1);
	LLVMValueRef empty = LLVMBuildICmp(b, LLVMIntEQ, c, zero, "");
	LLVMValueRef dv = LLVMBuildSelect(b, empty, one, c, "");
	LLVMValueRef v = LLVMBuildSub(b, r, LLVMBuildMul(b, dv, c32(f, zp), ""), "");
	LLVMValueRef q = LLVMBuildSDiv(b, v, dv, "");
	LLVMValueRef rem = LLVMBuildSRem(b, v, dv, "");
	LLVMValueRef neg = LLVMBuildICmp(b, LLVMIntSLT, rem, zero, "");
	q = LLVMBuildSub(b, q, LLVMBuildZExt(b, neg, f->i32, ""), "");
	rem = LLVMBuildAdd(b, rem, LLVMBuildSelect(b, neg, dv, zero, ""), "");
	LLVMValueRef other = LLVMBuildSub(b, dv, rem, "");
	LLVMValueRef odd = LLVMBuildICmp(b, LLVMIntNE, LLVMBuildAnd(b, q, one, ""), zero, "");
	LLVMValueRef up = LLVMBuildOr(b, LLVMBuildICmp(b, LLVMIntSGT, rem, other, ""),
	                              LLVMBuildAnd(b, LLVMBuildICmp(b, LLVMIntEQ, rem, other, ""), odd, ""), "");
	q = LLVMBuildAdd(b, LLVMBuildAdd(b, q, LLVMBuildZExt(b, up, f->i32, ""), ""), c32(f, zp), "");
	q = LLVMBuildSelect(b, empty, c32(f, zp), q, "");
	return be_smin(f, be_smax(f, q, c32(f, lo)), c32(f, hi));
}

/* The sum of the n bytes at x + off (i8 or u8) on AVX-512: VPSADBW
 * against zero over 64-byte pieces (the last one a masked load), i8
 * flipped to u8 and 128 n taken off.  An i32. */
static LLVMValueRef sum_bytes_x86(be_fn *f, LLVMValueRef x, LLVMValueRef off, int64_t n, bool i8)
{
	LLVMBuilderRef b = f->b;
	LLVMTypeRef v64 = LLVMVectorType(f->i8, 64), q8 = LLVMVectorType(f->i64, 8);
	LLVMValueRef acc = LLVMConstNull(q8);
	for (int64_t k = 0; k < n; k += 64) {
		LLVMValueRef at = be_add(f, off, be_ci(f, k)), v;
		LLVMValueRef p = LLVMBuildInBoundsGEP2(b, f->i8, x, &at, 1, "");
		v = be_load_first(f, v64, p, 1, n - k, NULL);
		if (i8) /* (masked-off lanes flip to 128 too: counted below) */
			v = LLVMBuildXor(b, v, be_splat(f, v64, LLVMConstInt(f->i8, 0x80, 0)), "");
		LLVMValueRef sa[2] = {v, LLVMConstNull(v64)};
		acc = LLVMBuildAdd(b, acc, be_intr(f, "llvm.x86.avx512.psad.bw.512", NULL, 0, sa, 2), "");
	}
	LLVMValueRef r = LLVMBuildTrunc(b, be_intr(f, "llvm.vector.reduce.add", &q8, 1, &acc, 1), f->i32, "");
	if (i8) /* every lane loaded flipped, the masked-off ones from 0 to 128 */
		r = LLVMBuildSub(b, r, c32(f, 128 * ((n + 63) / 64 * 64)), "");
	return r;
}

/* max_pool, avg_pool and the global pools on integers: per output, a
 * run-time inside-test per tap (any rank).  max keeps the first largest
 * integer (the dtype's minimum and index -1 for an empty window) and,
 * when output 1 is stored, its flat index as l_pool_idx.c does; avg sums
 * in i32 (wrapping; a pad tap that count_include_pad counts adds the zero
 * point) and rounds the real mean half to even (pool_avg_out); a global average with
 * rq_mult requantizes the sum instead (ir/k_pool.c).  On AVX-512 an
 * average whose one window is the whole plane sums it by VPSADBW. */
static int l_int_pool(be_fn *f, const ir_node *n)
{
	ipool g;
	if (ipool_geom(f, n, &g))
		return -1;
	bool max = n->op == IR_OP_MAX_POOL || n->op == IR_OP_GLOBAL_MAX_POOL;
	bool cip = n->op == IR_OP_AVG_POOL && ir_attr_int(n, "count_include_pad", 0) == 1;
	bool colmajor = n->op == IR_OP_MAX_POOL && ir_attr_int(n, "storage_order", 0) == 1;
	ir_dtype dt = n->in[0]->dt;
	int64_t lo, hi;
	ir_dtype_range(dt, &lo, &hi);
	int32_t zp = in_zp(n);
	int nsp = g.nsp;
	int64_t in_sz = 1, out_sz = 1, istr[INSP_MAX], ostr[INSP_MAX], cstr[INSP_MAX];
	for (int i = nsp - 1; i >= 0; i--) {
		istr[i] = in_sz;
		ostr[i] = out_sz;
		in_sz *= g.in[i];
		out_sz *= g.out[i];
	}
	int64_t cm = 1, ntaps = 1;
	for (int i = 0; i < nsp; i++) {
		cstr[i] = cm;
		cm *= g.in[i];
		ntaps *= g.k[i];
	}
	const ir_shape *xs = &n->in[0]->shape;
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	LLVMValueRef ind = n->op == IR_OP_MAX_POOL && n->nout > 1 && n->out[1] ? be_ptr(f, n->out[1]) : NULL;
	LLVMTypeRef ty = be_dt_type(f, dt);
	LLVMBuilderRef b = f->b;
	LLVMValueRef acc = be_entry_alloca(f, f->i32, "ipool"), cnt = be_entry_alloca(f, f->i32, "icnt");
	LLVMValueRef at = be_entry_alloca(f, f->i64, "iat");
	LLVMValueRef m1 = LLVMConstInt(f->i64, (unsigned long long)-1LL, 1);

	be_loop bl;
	bool whole = !max && !cip && out_sz == 1 && f->isimd == BE_ISIMD_AVX2 && f->vl >= 16 && !f->mcu &&
	             (dt == IR_DT_I8 || dt == IR_DT_U8) && in_sz >= 64 && in_sz <= 4096 && y;
	for (int i = 0; i < nsp; i++) /* every tap of the one window inside, and only those */
		whole = whole && g.pb[i] == 0 && g.k[i] == g.in[i] && g.dil[i] == 1;
	if (whole) { /* on AVX-512: each plane's sum by VPSADBW */
		LLVMValueRef bc = be_loop_begin(f, &bl, xs->d[0] * xs->d[1]);
		LLVMValueRef r = sum_bytes_x86(f, x, be_mul(f, bc, in_sz), in_sz, dt == IR_DT_I8);
		r = pool_avg_out(f, n, r, c32(f, (int32_t)ntaps), ntaps);
		be_st_t(f, ty, y, bc, LLVMBuildTrunc(b, r, ty, ""));
		be_loop_end(f, &bl);
		return 0;
	}
	LLVMValueRef bc = be_loop_begin(f, &bl, xs->d[0] * xs->d[1]);
	be_nest on;
	LLVMValueRef oi[INSP_MAX];
	be_nest_begin(f, &on, nsp, g.out, oi);
	LLVMBuildStore(b, c32(f, max ? lo : 0), acc);
	LLVMBuildStore(b, c32(f, 0), cnt);
	LLVMBuildStore(b, m1, at);
	be_nest kn;
	LLVMValueRef ki[INSP_MAX];
	be_nest_begin(f, &kn, nsp, g.k, ki);
	LLVMValueRef inside = NULL, padded = NULL, off = be_mul(f, bc, in_sz), coff = be_ci(f, 0);
	for (int i = 0; i < nsp; i++) {
		LLVMValueRef p = LLVMBuildAdd(b, be_mul(f, oi[i], g.s[i]), be_mul(f, ki[i], g.dil[i]), "");
		p = LLVMBuildSub(b, p, be_ci(f, g.pb[i]), "");
		/* 0 <= p < in and -pb <= p < in + pe as unsigned compares */
		LLVMValueRef c = LLVMBuildICmp(b, LLVMIntULT, p, be_ci(f, g.in[i]), "");
		LLVMValueRef cp = LLVMBuildICmp(b, LLVMIntULT, LLVMBuildAdd(b, p, be_ci(f, g.pb[i]), ""),
		                                be_ci(f, g.in[i] + g.pb[i] + g.pe[i]), "");
		inside = inside ? LLVMBuildAnd(b, inside, c, "") : c;
		padded = padded ? LLVMBuildAnd(b, padded, cp, "") : cp;
		off = be_add(f, off, be_mul(f, p, istr[i]));
		coff = be_add(f, coff, be_mul(f, p, cstr[i]));
	}
	be_if tap;
	be_if_begin(f, &tap, inside);
	LLVMValueRef v = be_ld_i32(f, dt, x, off);
	LLVMValueRef cur = LLVMBuildLoad2(b, f->i32, acc, "");
	if (max) {
		LLVMValueRef cat = LLVMBuildLoad2(b, f->i64, at, "");
		LLVMValueRef take = LLVMBuildOr(b, LLVMBuildICmp(b, LLVMIntSLT, cat, LLVMConstInt(f->i64, 0, 0), ""),
		                                LLVMBuildICmp(b, LLVMIntSGT, v, cur, ""), "");
		LLVMValueRef where = colmajor ? be_add(f, be_mul(f, bc, in_sz), coff) : off;
		where = LLVMBuildSExtOrBitCast(b, where, f->i64, ""); /* ity may be i32 */
		LLVMBuildStore(b, LLVMBuildSelect(b, take, v, cur, ""), acc);
		LLVMBuildStore(b, LLVMBuildSelect(b, take, where, cat, ""), at);
	} else {
		LLVMBuildStore(b, LLVMBuildAdd(b, cur, v, ""), acc);
		LLVMBuildStore(b, LLVMBuildAdd(b, LLVMBuildLoad2(b, f->i32, cnt, ""), c32(f, 1), ""), cnt);
	}
	be_if_end(f, &tap);
	if (cip) {
		LLVMValueRef pad = LLVMBuildAnd(b, padded, LLVMBuildNot(b, inside, ""), "");
		LLVMValueRef s0 = LLVMBuildLoad2(b, f->i32, acc, "");
		LLVMBuildStore(b, LLVMBuildAdd(b, s0, LLVMBuildSelect(b, pad, c32(f, zp), c32(f, 0), ""), ""), acc);
		LLVMValueRef c0 = LLVMBuildLoad2(b, f->i32, cnt, "");
		LLVMBuildStore(b, LLVMBuildAdd(b, c0, LLVMBuildZExt(b, pad, f->i32, ""), ""), cnt);
	}
	be_nest_end(f, &kn);
	LLVMValueRef yi = be_add(f, be_mul(f, bc, out_sz), be_affine(f, 0, nsp, oi, ostr));
	LLVMValueRef r = LLVMBuildLoad2(b, f->i32, acc, "");
	if (!max)
		r = pool_avg_out(f, n, r, LLVMBuildLoad2(b, f->i32, cnt, ""), ntaps);
	if (y)
		be_st_t(f, ty, y, yi, LLVMBuildTrunc(b, r, ty, ""));
	if (ind)
		be_st_t(f, f->i64, ind, yi, LLVMBuildLoad2(b, f->i64, at, ""));
	be_nest_end(f, &on);
	be_loop_end(f, &bl);
	return 0;
}

/* y = max(q, zp), the zero point taken inside the dtype's range as in
 * ir/k_elementwise.c. */
static int l_int_relu(be_fn *f, const ir_node *n)
{
	ir_dtype dt = n->in[0]->dt;
	int64_t lo, hi, zp = in_zp(n);
	ir_dtype_range(dt, &lo, &hi);
	zp = zp < lo ? lo : zp > hi ? hi : zp;
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	be_loop l;
	LLVMValueRef i = be_loop_begin(f, &l, ir_shape_numel(&n->in[0]->shape));
	LLVMValueRef v = be_smax(f, be_ld_i32(f, dt, x, i), c32(f, zp));
	be_st_t(f, be_dt_type(f, dt), y, i, LLVMBuildTrunc(f->b, v, be_dt_type(f, dt), ""));
	be_loop_end(f, &l);
	return 0;
}

/* ------------------------------------------- table-driven activations */

/* k_lut_interp (ir/kernel.h) on i32 values: lo + ((hi - lo) fr + 2^sh / 2)
 * >> sh, the shift arithmetic (the interpreter's floor). */
static LLVMValueRef lut_interp(be_fn *f, LLVMValueRef lo, LLVMValueRef hi, LLVMValueRef fr, int sh)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef t = LLVMBuildAdd(b, LLVMBuildMul(b, LLVMBuildSub(b, hi, lo, ""), fr, ""),
	                              c32(f, sh ? 1 << (sh - 1) : 0), "");
	return LLVMBuildAdd(b, lo, LLVMBuildAShr(b, t, c32(f, sh), ""), "");
}

/* The table activations of ir/k_elementwise.c (sigmoid, tanh,
 * hard_sigmoid, hard_swish, leaky_relu with a lut): y = lut[q - qmin] on
 * i8/u8; on i16, u = q + 32768, a = lut[u >> 7], b = lut[(u >> 7) + 1],
 * y = a + (((b - a) * (u & 127) + 64) >> 7), the shift arithmetic (the
 * interpreter's floor).  The table is a constant global marked externally
 * initialized (be_opaque_const): the optimizer may not fold the loads of
 * an unrolled loop back into code, and the object stays free of libm and
 * float. */
static int l_int_lut(be_fn *f, const ir_node *n)
{
	ir_dtype dt = n->in[0]->dt;
	LLVMTypeRef ty = be_dt_type(f, dt);
	int cnt = 0;
	const int64_t *lut = ir_attr_ints(n, "lut", &cnt);
	LLVMValueRef el[513];
	for (int i = 0; i < cnt; i++)
		el[i] = LLVMConstInt(ty, (unsigned long long)lut[i], 1);
	char gname[96];
	snprintf(gname, sizeof gname, "%s.lut%d", f->name, n->id);
	LLVMValueRef tab = be_opaque_const(f, gname, LLVMConstArray2(ty, el, (uint64_t)cnt), 16);
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	LLVMBuilderRef b = f->b;
	be_loop l;
	LLVMValueRef i = be_loop_begin(f, &l, ir_shape_numel(&n->in[0]->shape));
	LLVMValueRef k = be_ld_i32(f, dt, x, i); /* sext for i8/i16, zext for u8 */
	if (dt == IR_DT_I16) {
		LLVMValueRef u = LLVMBuildAdd(b, k, c32(f, 32768), "");
		LLVMValueRef at = LLVMBuildLShr(b, u, c32(f, 7), "");
		LLVMValueRef fr = LLVMBuildAnd(b, u, c32(f, 127), "");
		LLVMValueRef lo = LLVMBuildSExt(b, be_ld_t(f, ty, tab, at), f->i32, "");
		LLVMValueRef hi = LLVMBuildSExt(b, be_ld_t(f, ty, tab, LLVMBuildAdd(b, at, c32(f, 1), "")),
		                                f->i32, "");
		be_st_t(f, ty, y, i, LLVMBuildTrunc(b, lut_interp(f, lo, hi, fr, 7), ty, ""));
	} else {
		if (dt == IR_DT_I8)
			k = LLVMBuildAdd(b, k, c32(f, 128), ""); /* - qmin */
		be_st_t(f, ty, y, i, be_ld_t(f, ty, tab, k));
	}
	be_loop_end(f, &l);
	return 0;
}

/* The table lookups l_int_lut lowers: an i8/u8/i16 input, an output of
 * that dtype and size, ir_act_lut_len entries in its range (what
 * inference checked). */
static bool lut_supports(const ir_node *n, char *why, size_t wl)
{
	const ir_value *x = n->in[0], *y = n->out[0];
	int want = ir_act_lut_len(x->dt);
	if (!want) {
		snprintf(why, wl, "input '%s' is %s; a lookup table needs an i8, u8 or i16 input", x->name,
		         ir_dtype_name(x->dt));
		return false;
	}
	if (y->dt != x->dt || ir_shape_numel(&y->shape) != ir_shape_numel(&x->shape)) {
		snprintf(why, wl, "output '%s' is not %s of the input's size", y->name,
		         ir_dtype_name(x->dt));
		return false;
	}
	int cnt = 0;
	const int64_t *lut = ir_attr_ints(n, "lut", &cnt);
	int64_t lo, hi;
	ir_dtype_range(x->dt, &lo, &hi);
	bool ok = lut && cnt == want;
	for (int i = 0; ok && i < cnt; i++)
		ok = lut[i] >= lo && lut[i] <= hi;
	if (!ok)
		snprintf(why, wl, "lut is not %d entries in the range of %s", want, ir_dtype_name(x->dt));
	return ok;
}

/* ---------------------------------------------------- integer softmax */

/* e(d) of eval_int_softmax (ir/k_reduce.c) for distance d (i32, >= 0):
 * tab[d] for a 256-entry table; for i16 the interpolation at every
 * 2^sh-th d, where tab holds the 513 entries and a copy of the last (so
 * k = 512 reads tab[513] with a zero fraction). */
static LLVMValueRef smx_e(be_fn *f, LLVMValueRef tab, int cnt, int sh, LLVMValueRef d)
{
	LLVMBuilderRef b = f->b;
	if (cnt == 256)
		return be_ld_t(f, f->i32, tab, d);
	LLVMValueRef k = LLVMBuildLShr(b, d, c32(f, sh), "");
	LLVMValueRef in = LLVMBuildICmp(b, LLVMIntULT, k, c32(f, 512), "");
	LLVMValueRef kc = LLVMBuildSelect(b, in, k, c32(f, 512), "");
	LLVMValueRef fr = LLVMBuildSelect(b, in, LLVMBuildAnd(b, d, c32(f, (1 << sh) - 1), ""), c32(f, 0), "");
	LLVMValueRef lo = be_ld_t(f, f->i32, tab, kc);
	LLVMValueRef hi = be_ld_t(f, f->i32, tab, LLVMBuildAdd(b, kc, c32(f, 1), ""));
	return lut_interp(f, lo, hi, fr, sh);
}

/* On 32-bit targets an i64 division is a call into libgcc
 * (__aeabi_uldivmod on the Cortex-M), outside the stated stack, which a
 * Cortex-M4 object should not import; a restoring division per element
 * cost 31 steps of i64 operations (537 instructions an element on the
 * M4).  So each slice's divisor D gets its reciprocal once,
 * R = floor((2^64 - 1) / D) by 64 restoring steps, and each element's
 * floor(N / D) (N < 2^50) is q = high64(N R), which is floor(N / D) or
 * one less, then q + 1 when (q + 1) D <= N. */
static LLVMValueRef recip64(be_fn *f, LLVMValueRef den)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef rem = be_entry_alloca(f, f->i64, "rcp.rem"), qv = be_entry_alloca(f, f->i64, "rcp.q");
	LLVMValueRef one = LLVMConstInt(f->i64, 1, 0);
	LLVMBuildStore(b, LLVMConstInt(f->i64, 0, 0), rem);
	LLVMBuildStore(b, LLVMConstInt(f->i64, 0, 0), qv);
	be_loop l;
	be_loop_begin(f, &l, 64);
	/* the dividend's bits are all ones; the remainder stays under 2 D */
	LLVMValueRef r = LLVMBuildOr(b, LLVMBuildShl(b, LLVMBuildLoad2(b, f->i64, rem, ""), one, ""), one, "");
	LLVMValueRef ge = LLVMBuildICmp(b, LLVMIntUGE, r, den, "");
	LLVMBuildStore(b, LLVMBuildSelect(b, ge, LLVMBuildSub(b, r, den, ""), r, ""), rem);
	LLVMValueRef q = LLVMBuildShl(b, LLVMBuildLoad2(b, f->i64, qv, ""), one, "");
	LLVMBuildStore(b, LLVMBuildOr(b, q, LLVMBuildZExt(b, ge, f->i64, ""), ""), qv);
	be_loop_end(f, &l);
	return LLVMBuildLoad2(b, f->i64, qv, "");
}

/* The high 64 bits of the unsigned product a b, from four 32 x 32 -> 64
 * products (UMULL), no i128. */
static LLVMValueRef mulhi64(be_fn *f, LLVMValueRef a, LLVMValueRef bb)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef c32s = LLVMConstInt(f->i64, 32, 0), lo = LLVMConstInt(f->i64, 0xffffffffu, 0);
	LLVMValueRef a0 = LLVMBuildAnd(b, a, lo, ""), a1 = LLVMBuildLShr(b, a, c32s, "");
	LLVMValueRef b0 = LLVMBuildAnd(b, bb, lo, ""), b1 = LLVMBuildLShr(b, bb, c32s, "");
	LLVMValueRef p00 = LLVMBuildMul(b, a0, b0, ""), p01 = LLVMBuildMul(b, a0, b1, "");
	LLVMValueRef p10 = LLVMBuildMul(b, a1, b0, ""), p11 = LLVMBuildMul(b, a1, b1, "");
	LLVMValueRef mid = LLVMBuildAdd(b, LLVMBuildAdd(b, LLVMBuildLShr(b, p00, c32s, ""), LLVMBuildAnd(b, p01, lo, ""), ""),
	                                LLVMBuildAnd(b, p10, lo, ""), "");
	LLVMValueRef hi = LLVMBuildAdd(b, p11, LLVMBuildLShr(b, p01, c32s, ""), "");
	hi = LLVMBuildAdd(b, hi, LLVMBuildLShr(b, p10, c32s, ""), "");
	return LLVMBuildAdd(b, hi, LLVMBuildLShr(b, mid, c32s, ""), "");
}

/* floor(num / den) as an i32 (the quotient under 2^31), rcp = recip64(den). */
static LLVMValueRef div_recip(be_fn *f, LLVMValueRef num, LLVMValueRef den, LLVMValueRef rcp)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef q = mulhi64(f, num, rcp), q1 = LLVMBuildAdd(b, q, LLVMConstInt(f->i64, 1, 0), "");
	LLVMValueRef up = LLVMBuildICmp(b, LLVMIntULE, LLVMBuildMul(b, q1, den, ""), num, "");
	return LLVMBuildTrunc(b, LLVMBuildSelect(b, up, q1, q, ""), f->i32, "");
}

/* softmax of an i8/u8/i16 value with lut/rq_mult (and lut_shift on i16),
 * as eval_int_softmax in ir/k_reduce.c: per slice along the axis the
 * maximum m, then sum = sum_j e(m - q_j) in i64, then y_j = clamp((2 e_j
 * M + sum) / (2 sum) + zout), the division in i64 (non-negative operands:
 * the floor; on 32-bit targets in 32 bits when the operands fit, else by
 * the slice's reciprocal, recip64).
 * The table (a pass's exp(-s_in*d) * 2^15) is an opaque constant i32
 * global, as in l_int_lut, so no float or libm enters the object. */
static int l_int_softmax(be_fn *f, const ir_node *n)
{
	const ir_value *xv = n->in[0], *yv = n->out[0];
	const ir_shape *xs = &xv->shape;
	ir_dtype dt = xv->dt;
	LLVMTypeRef ty = be_dt_type(f, dt);
	const int64_t *lut = ir_attr_ints(n, "lut", NULL), *mult = ir_attr_ints(n, "rq_mult", NULL);
	int axis = k_axis(ir_attr_int(n, "axis", -1), xs->rank);
	int64_t zout = yv->quant && yv->quant->zero_point ? yv->quant->zero_point[0] : 0, lo, hi;
	int64_t ylo, yhi; /* the output's range: a narrow (int4) output's own */
	ir_dtype_range(dt, &lo, &hi);
	ir_value_range(yv, &ylo, &yhi);
	int64_t outer = 1, len = xs->d[axis], inner = 1;
	for (int i = 0; i < axis; i++)
		outer *= xs->d[i];
	for (int i = axis + 1; i < xs->rank; i++)
		inner *= xs->d[i];
	if (outer * len * inner == 0)
		return 0;
	int cnt = 0, sh = (int)ir_attr_int(n, "lut_shift", 0);
	(void)ir_attr_ints(n, "lut", &cnt);
	LLVMValueRef el[514];
	for (int i = 0; i < cnt; i++)
		el[i] = LLVMConstInt(f->i32, (unsigned long long)lut[i], 1);
	if (cnt == 513)
		el[cnt] = el[cnt - 1];
	char gname[96];
	snprintf(gname, sizeof gname, "%s.smx%d", f->name, n->id);
	LLVMValueRef tab = be_opaque_const(f, gname, LLVMConstArray2(f->i32, el, (uint64_t)(cnt == 513 ? 514 : cnt)), 16);
	LLVMValueRef x = be_ptr(f, xv), y = be_ptr(f, yv);
	LLVMBuilderRef b = f->b;
	LLVMValueRef mx = be_entry_alloca(f, f->i32, "smax"), sm = be_entry_alloca(f, f->i64, "ssum");
	int64_t st[3] = {len * inner, inner, 1};
	be_nest on;
	int64_t odims[2] = {outer, inner};
	LLVMValueRef ov[2];
	be_nest_begin(f, &on, 2, odims, ov);
	LLVMValueRef iv[3] = {ov[0], NULL, ov[1]};
	/* m = max_j q_j */
	LLVMBuildStore(b, c32(f, lo), mx);
	be_loop l;
	iv[1] = be_loop_begin(f, &l, len);
	LLVMValueRef q = be_ld_i32(f, dt, x, be_affine(f, 0, 3, iv, st));
	LLVMBuildStore(b, be_smax(f, LLVMBuildLoad2(b, f->i32, mx, ""), q), mx);
	be_loop_end(f, &l);
	LLVMValueRef m = LLVMBuildLoad2(b, f->i32, mx, "");
	/* sum = sum_j e(m - q_j) (m - q_j in [0, 255] or [0, 65535]); rows
	 * of up to 512 keep their e_j for the last pass (2 KB of stack) */
	LLVMValueRef ebuf = len <= 512 ? be_entry_alloca(f, LLVMArrayType(f->i32, (unsigned)len), "smx.e") : NULL;
	LLVMBuildStore(b, LLVMConstInt(f->i64, 0, 0), sm);
	iv[1] = be_loop_begin(f, &l, len);
	q = be_ld_i32(f, dt, x, be_affine(f, 0, 3, iv, st));
	LLVMValueRef e = smx_e(f, tab, cnt, sh, LLVMBuildSub(b, m, q, ""));
	if (ebuf)
		be_st_t(f, f->i32, ebuf, iv[1], e);
	LLVMBuildStore(b, LLVMBuildAdd(b, LLVMBuildLoad2(b, f->i64, sm, ""), LLVMBuildZExt(b, e, f->i64, ""), ""), sm);
	be_loop_end(f, &l);
	LLVMValueRef sum = LLVMBuildLoad2(b, f->i64, sm, "");
	LLVMValueRef den = LLVMBuildShl(b, sum, LLVMConstInt(f->i64, 1, 0), "");
	bool narrow = LLVMGetIntTypeWidth(f->ity) == 32;
	/* On 32-bit targets, when 2 e M + sum and 2 sum stay under 2^32 (e
	 * at most the table's largest entry, sum at most len of them: M =
	 * 256 or 32767 and rows under 2^16), the quotient is one 32-bit
	 * unsigned division (UDIV on the Cortex-M3/M4/M7); else by the
	 * slice's reciprocal. */
	int64_t emax = 0;
	for (int i = 0; i < cnt; i++)
		emax = lut[i] > emax ? lut[i] : emax;
	bool div32 = narrow && (2 * mult[0] + len) * emax < ((int64_t)1 << 32) && 2 * len * emax < ((int64_t)1 << 32);
	LLVMValueRef rcp = narrow && !div32 ? recip64(f, den) : NULL;
	/* y_j = clamp((2 M e_j + sum) / (2 sum) + zout) */
	iv[1] = be_loop_begin(f, &l, len);
	LLVMValueRef idx = be_affine(f, 0, 3, iv, st);
	e = ebuf ? be_ld_t(f, f->i32, ebuf, iv[1]) : smx_e(f, tab, cnt, sh, LLVMBuildSub(b, m, be_ld_i32(f, dt, x, idx), ""));
	e = LLVMBuildZExt(b, e, f->i64, "");
	LLVMValueRef num = LLVMBuildAdd(b, LLVMBuildMul(b, e, LLVMConstInt(f->i64, (unsigned long long)(2 * mult[0]), 0), ""), sum, "");
	/* r <= M < 2^31 since e_j <= sum */
	LLVMValueRef r = div32    ? LLVMBuildUDiv(b, LLVMBuildTrunc(b, num, f->i32, ""), LLVMBuildTrunc(b, den, f->i32, ""), "")
	                 : narrow ? div_recip(f, num, den, rcp)
	                          : LLVMBuildTrunc(b, LLVMBuildSDiv(b, num, den, ""), f->i32, "");
	be_st_t(f, ty, y, idx, sat_zp(f, r, ylo, yhi, zout, ty));
	be_loop_end(f, &l);
	be_nest_end(f, &on);
	return 0;
}

/* The integer softmax l_int_softmax lowers: what inference checked, again
 * (an i8/u8/i16 input, the output of that dtype and shape with at most
 * one zero point, 256 table entries (513 on i16, lut_shift 0..7) in [0,
 * 2^16] with lut[0] >= 1, one rq_mult in [1, 2^31), the axis in range). */
static bool softmax_supports(const ir_node *n, char *why, size_t wl)
{
	const ir_value *x = n->in[0], *y = n->out[0];
	int want = ir_act_lut_len(x->dt);
	if (!want) {
		snprintf(why, wl, "input '%s' is %s; an integer softmax needs an i8, u8 or i16 input",
		         x->name, ir_dtype_name(x->dt));
		return false;
	}
	if (y->dt != x->dt || !ir_shape_eq(&y->shape, &x->shape) || (y->quant && y->quant->nchan != 1)) {
		snprintf(why, wl, "output '%s' is not %s of the input's shape, quantized per tensor",
		         y->name, ir_dtype_name(x->dt));
		return false;
	}
	if (k_axis(ir_attr_int(n, "axis", -1), x->shape.rank) < 0) {
		snprintf(why, wl, "axis out of range for rank %d", x->shape.rank);
		return false;
	}
	int cnt = 0, nm = 0;
	int64_t sh = ir_attr_int(n, "lut_shift", 0);
	const int64_t *lut = ir_attr_ints(n, "lut", &cnt), *m = ir_attr_ints(n, "rq_mult", &nm);
	bool ok = lut && cnt == want && lut[0] >= 1 && m && nm == 1 && m[0] >= 1 && m[0] <= INT32_MAX &&
	          sh >= 0 && sh <= 7 && (want == 513 || !ir_node_attr(n, "lut_shift"));
	for (int i = 0; ok && i < cnt; i++)
		ok = lut[i] >= 0 && lut[i] <= 65536;
	if (!ok)
		snprintf(why, wl, "lut/rq_mult are not %d entries in [0, 2^16] (lut[0] >= 1, lut_shift "
		         "0..7 on i16) and one multiplier in [1, 2^31)", want);
	return ok;
}

/* ------------------------------------------------- integer layer_norm */

/* ir_ln_rsqrt(a) for an i32 a in [2^30, 2^32) (unsigned): the seed from
 * table tab (ir_ln_rsqrt_seed), three Newton steps of 32 x 32 -> 64
 * unsigned products (UMULL), at most 2^31 - 1. */
static LLVMValueRef ln_rsqrt(be_fn *f, LLVMValueRef tab, LLVMValueRef a)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef k = LLVMBuildSub(b, LLVMBuildLShr(b, a, c32(f, 26), ""), c32(f, 16), "");
	LLVMValueRef y = LLVMBuildZExt(b, be_ld_t(f, f->i32, tab, k), f->i64, "");
	LLVMValueRef aw = LLVMBuildZExt(b, a, f->i64, ""), c32s = LLVMConstInt(f->i64, 32, 0);
	for (int i = 0; i < 3; i++) {
		LLVMValueRef t = LLVMBuildLShr(b, LLVMBuildMul(b, y, y, ""), c32s, "");
		LLVMValueRef m = LLVMBuildLShr(b, LLVMBuildMul(b, aw, t, ""), c32s, "");
		LLVMValueRef e = LLVMBuildSub(b, LLVMConstInt(f->i64, 3u << 28, 0), m, "");
		y = LLVMBuildLShr(b, LLVMBuildMul(b, y, e, ""), LLVMConstInt(f->i64, 29, 0), "");
	}
	LLVMValueRef big = LLVMBuildICmp(b, LLVMIntUGT, y, LLVMConstInt(f->i64, INT32_MAX, 0), "");
	return LLVMBuildTrunc(b, LLVMBuildSelect(b, big, LLVMConstInt(f->i64, INT32_MAX, 0), y, ""), f->i32, "");
}

/* acc + ((a m + 2^31) >> 32) in i32: SMMLAR on the DSP. */
static LLVMValueRef mlahr(be_fn *f, LLVMValueRef a, LLVMValueRef m, LLVMValueRef acc)
{
	return f->dsp ? be_smmlar(f, a, m, acc) : LLVMBuildAdd(f->b, mulhr(f, a, m), acc, "");
}

/* layer_norm of an i8/u8/i16 value with ln_mult/ln_bias/ln_shift/ln_eps,
 * as eval_int_norm in ir/k_reduce.c: per row S1 and S2 (S2 in i32 on 8
 * bits, where L q^2 sums stay under 2^31), V = L S2 - S1^2 + E, s from
 * V's leading zeros, Y = ir_ln_rsqrt(V 4^s >> 30), then per element
 * d' = (L q - S1) << max(p, 0) >> max(-p, 0), N = SMMULR(d', Y) and
 * y = clamp(SMMLAR(N, G, B) >> T): a dozen instructions an element
 * on the Cortex-M4. */
static int l_int_layer_norm(be_fn *f, const ir_node *n)
{
	const ir_value *xv = n->in[0], *yv = n->out[0];
	const ir_shape *xs = &xv->shape;
	ir_dtype dt = xv->dt;
	LLVMTypeRef ty = be_dt_type(f, dt);
	LLVMBuilderRef b = f->b;
	int axis = k_axis(ir_attr_int(n, "axis", -1), xs->rank);
	int64_t rows = 1, len = 1;
	for (int i = 0; i < xs->rank; i++)
		*(i < axis ? &rows : &len) *= xs->d[i];
	if (rows * len == 0)
		return 0;
	int nm = 0, nb = 0;
	const int64_t *G = ir_attr_ints(n, "ln_mult", &nm), *B = ir_attr_ints(n, "ln_bias", &nb);
	int T = (int)ir_attr_int(n, "ln_shift", 1);
	int64_t E = ir_attr_int(n, "ln_eps", 0);
	int64_t ylo, yhi;
	ir_value_range(yv, &ylo, &yhi);
	int32_t seed[48], *tv = malloc(sizeof(int32_t) * (size_t)(nm + nb));
	if (!tv)
		return -1;
	for (int k = 0; k < 48; k++)
		seed[k] = (int32_t)ir_ln_rsqrt_seed(k);
	for (int j = 0; j < nm; j++)
		tv[j] = (int32_t)G[j];
	for (int j = 0; j < nb; j++)
		tv[nm + j] = (int32_t)B[j];
	LLVMValueRef st = be_table_i32(f, seed, 48);
	LLVMValueRef gt = nm > 1 ? be_table_i32(f, tv, nm) : NULL, bt = nb > 1 ? be_table_i32(f, tv + nm, nb) : NULL;
	free(tv);
	bool wide = dt == IR_DT_I16; /* S2 needs i64 */
	LLVMTypeRef s2t = wide ? f->i64 : f->i32;
	LLVMValueRef x = be_ptr(f, xv), y = be_ptr(f, yv), one = LLVMConstInt(f->i64, 1, 0);
	LLVMValueRef a1 = be_entry_alloca(f, f->i32, "ln.s1"), a2 = be_entry_alloca(f, s2t, "ln.s2");
	be_loop lr, l;
	LLVMValueRef o = be_loop_begin(f, &lr, rows);
	LLVMValueRef base = be_mul(f, o, len);
	LLVMBuildStore(b, c32(f, 0), a1);
	LLVMBuildStore(b, LLVMConstInt(s2t, 0, 0), a2);
	LLVMValueRef j = be_loop_begin(f, &l, len);
	LLVMValueRef q = be_ld_i32(f, dt, x, be_add(f, base, j));
	LLVMBuildStore(b, LLVMBuildAdd(b, LLVMBuildLoad2(b, f->i32, a1, ""), q, ""), a1);
	LLVMValueRef qs = wide ? LLVMBuildSExt(b, q, f->i64, "") : q;
	LLVMBuildStore(b, LLVMBuildAdd(b, LLVMBuildLoad2(b, s2t, a2, ""), LLVMBuildMul(b, qs, qs, ""), ""), a2);
	be_loop_end(f, &l);
	LLVMValueRef s1 = LLVMBuildLoad2(b, f->i32, a1, ""), s2 = LLVMBuildLoad2(b, s2t, a2, "");
	LLVMValueRef s1w = LLVMBuildSExt(b, s1, f->i64, "");
	if (!wide)
		s2 = LLVMBuildSExt(b, s2, f->i64, "");
	LLVMValueRef V = LLVMBuildSub(b, LLVMBuildMul(b, LLVMConstInt(f->i64, (unsigned long long)len, 0), s2, ""),
	                              LLVMBuildMul(b, s1w, s1w, ""), "");
	V = LLVMBuildAdd(b, V, LLVMConstInt(f->i64, (unsigned long long)E, 0), "");
	LLVMValueRef zero = LLVMBuildICmp(b, LLVMIntEQ, V, LLVMConstInt(f->i64, 0, 0), "");
	LLVMValueRef V1 = LLVMBuildSelect(b, zero, LLVMConstInt(f->i64, 1ull << 60, 0), V, "");
	/* s = (62 - bitlen(V)) / 2, bitlen by six halvings (a count of
	 * leading zeros is a libgcc call on the Cortex-M0; once a row) */
	LLVMValueRef bl = LLVMConstInt(f->i64, 1, 0), t = V1;
	for (int k = 32; k >= 1; k /= 2) {
		LLVMValueRef kk = LLVMConstInt(f->i64, (unsigned long long)k, 0), hi = LLVMBuildLShr(b, t, kk, "");
		LLVMValueRef nz = LLVMBuildICmp(b, LLVMIntNE, hi, LLVMConstInt(f->i64, 0, 0), "");
		t = LLVMBuildSelect(b, nz, hi, t, "");
		bl = LLVMBuildSelect(b, nz, LLVMBuildAdd(b, bl, kk, ""), bl, "");
	}
	LLVMValueRef sv = LLVMBuildLShr(b, LLVMBuildSub(b, LLVMConstInt(f->i64, 62, 0), bl, ""), one, "");
	LLVMValueRef xa = LLVMBuildShl(b, V1, LLVMBuildShl(b, sv, one, ""), "");
	LLVMValueRef av = LLVMBuildTrunc(b, LLVMBuildLShr(b, xa, LLVMConstInt(f->i64, 30, 0), ""), f->i32, "");
	LLVMValueRef Y = LLVMBuildSelect(b, zero, c32(f, 0), ln_rsqrt(f, st, av), "");
	LLVMValueRef p = LLVMBuildSub(b, LLVMBuildTrunc(b, sv, f->i32, ""), c32(f, 7), "");
	p = LLVMBuildSelect(b, zero, c32(f, 0), p, "");
	LLVMValueRef pl = be_smax(f, p, c32(f, 0)), pr = be_smax(f, LLVMBuildNeg(b, p, ""), c32(f, 0));
	/* (L q - S1) 2^pl as q (L 2^pl) - S1 2^pl, wrapping: the products
	 * may pass 2^31, the difference does not */
	LLVMValueRef Lp = LLVMBuildShl(b, c32(f, len), pl, ""), S1p = LLVMBuildShl(b, s1, pl, "");
	j = be_loop_begin(f, &l, len);
	LLVMValueRef idx = be_add(f, base, j);
	q = be_ld_i32(f, dt, x, idx);
	LLVMValueRef dj = LLVMBuildAShr(b, LLVMBuildSub(b, LLVMBuildMul(b, q, Lp, ""), S1p, ""), pr, "");
	LLVMValueRef N = mlahr(f, dj, Y, c32(f, 0));
	LLVMValueRef jj = LLVMBuildTrunc(b, j, f->i32, "");
	LLVMValueRef g = gt ? be_ld_t(f, f->i32, gt, jj) : c32(f, G[0]);
	LLVMValueRef bb = bt ? be_ld_t(f, f->i32, bt, jj) : c32(f, B[0]);
	LLVMValueRef v = LLVMBuildAShr(b, mlahr(f, N, g, bb), c32(f, T), "");
	/* zy is in B: the clamp is one SSAT/USAT for a full-range output */
	v = be_smin(f, be_smax(f, v, c32(f, ylo)), c32(f, yhi));
	be_st_t(f, ty, y, idx, LLVMBuildTrunc(b, v, ty, ""));
	be_loop_end(f, &l);
	be_loop_no_unroll(f, &l);
	be_loop_end(f, &lr);
	return 0;
}

/* What l_int_layer_norm lowers: inference's checks again. */
static bool layer_norm_supports(const ir_node *n, char *why, size_t wl)
{
	const ir_value *x = n->in[0], *y = n->out[0];
	if (x->dt != IR_DT_I8 && x->dt != IR_DT_U8 && x->dt != IR_DT_I16) {
		snprintf(why, wl, "input '%s' is %s; an integer layer_norm needs an i8, u8 or i16 input", x->name,
		         ir_dtype_name(x->dt));
		return false;
	}
	if (y->dt != x->dt || !ir_shape_eq(&y->shape, &x->shape) || (y->quant && y->quant->nchan != 1)) {
		snprintf(why, wl, "output '%s' is not %s of the input's shape, quantized per tensor", y->name,
		         ir_dtype_name(x->dt));
		return false;
	}
	int axis = k_axis(ir_attr_int(n, "axis", -1), x->shape.rank);
	int64_t len = 1;
	for (int i = axis < 0 ? x->shape.rank : axis; i < x->shape.rank; i++)
		len *= x->shape.d[i];
	int nm = 0, nb = 0;
	const int64_t *m = ir_attr_ints(n, "ln_mult", &nm), *bb = ir_attr_ints(n, "ln_bias", &nb);
	int64_t T = ir_attr_int(n, "ln_shift", 0), E = ir_attr_int(n, "ln_eps", -1);
	bool ok = axis >= 0 && len <= 4096 && m && bb && (nm == 1 || nm == len) && (nb == 1 || nb == len) &&
	          T >= 1 && T <= 31 && E >= 0 && E <= ((int64_t)1 << 40) && n->nout == 1;
	for (int i = 0; ok && i < nm; i++)
		ok = m[i] >= INT32_MIN && m[i] <= INT32_MAX;
	for (int i = 0; ok && i < nb; i++)
		ok = bb[i] >= INT32_MIN && bb[i] <= INT32_MAX;
	if (!ok)
		snprintf(why, wl, "axis, row length (at most 4096) or ln_mult/ln_bias/ln_shift/ln_eps out of range");
	return ok;
}

/* ------------------------------------------------- integer add and mul */

/* The constants (m, s) as a one-channel be_iop with output zero point zy
 * and accumulator bound amax. */
static be_iop rq_one(int32_t *m, int32_t *s, int32_t zy, int64_t amax)
{
	be_iop o = {.mult = m, .shift = s, .nrq = 1, .amax = amax};
	o.k.requant = true;
	o.k.zy = zy;
	return o;
}

/* requant_k of acc by the constants (m, s), then + zy clamped to [lo, hi]
 * in ty: ir_requant_apply and the store of eval_qbinary.  pre: acc
 * arrives already shifted left by 1 + left (add_tables' case). */
static LLVMValueRef rq_store_val(be_fn *f, LLVMValueRef acc, int32_t m, int32_t s, int64_t lo, int64_t hi,
                                 int32_t zy, LLVMTypeRef ty, int64_t amax, bool pre)
{
	if (f->mcu && amax >= 0) { /* |acc| <= amax: requant_bounded, as a layer's */
		be_iop o = rq_one(&m, &s, zy, amax);
		LLVMValueRef r = requant_bounded(f, &o, acc, c32(f, 0), RQ_SMMLAR | (pre ? RQ_PRE : 0));
		if (r)
			return LLVMBuildTrunc(f->b, be_smin(f, be_smax(f, r, c32(f, lo)), c32(f, hi)), ty, "");
		if (pre) { /* add_tables found the bound fits: only out of memory */
			diag_error(f->d, NULL, "out of memory");
			return LLVMGetUndef(ty);
		}
	}
	bool small;
	LLVMValueRef r = requant_k(f, acc, &m, &s, 1, c32(f, 0), 0, &small);
	if (small) /* |r| <= 2^30: add, then clamp */
		return LLVMBuildTrunc(f->b, be_smin(f, be_smax(f, LLVMBuildAdd(f->b, r, c32(f, zy), ""), c32(f, lo)),
		                                   c32(f, hi)), ty, "");
	return sat_zp(f, r, lo, hi, zy, ty);
}

/* The 256 requantized terms ir_requant_apply((q - z) << ls, m, s) of an
 * 8-bit add operand, indexed by q's byte as unsigned; *amax their largest
 * magnitude. */
static void add_table(const ir_value *v, int32_t z, int ls, int32_t m, int32_t s, int32_t *tab, int64_t *amax)
{
	*amax = 0;
	for (int u = 0; u < 256; u++) {
		int32_t q = v->dt == IR_DT_I8 ? (int32_t)(int8_t)u : u;
		int32_t t = ir_requant_apply((int32_t)((uint32_t)(q - z) << ls), m, s);
		int64_t a = t < 0 ? -(int64_t)t : t;
		*amax = a > *amax ? a : *amax;
		tab[u] = t;
	}
}

/* An add operand's requantized term ir_requant_apply((q - z) << ls, m, s)
 * for the element at idx: a load from its add_table (tab, on Cortex-M
 * for 8-bit codes), else requant_k, which the SIMD targets vectorize (a
 * table lookup would not: on the A72 it took ResNet-8 from 5.06 M to
 * 5.40 M instructions). */
static LLVMValueRef add_term(be_fn *f, const ir_value *v, LLVMValueRef p, LLVMValueRef idx, int32_t z, int ls,
                             int32_t m, int32_t s, LLVMValueRef tab)
{
	LLVMBuilderRef b = f->b;
	if (tab)
		return be_ld_t(f, f->i32, tab, LLVMBuildZExt(b, be_ld_t(f, f->i8, p, idx), f->i32, ""));
	bool small;
	LLVMValueRef d = LLVMBuildShl(b, LLVMBuildSub(b, be_ld_i32(f, v->dt, p, idx), c32(f, z), ""), c32(f, ls), "");
	return requant_k(f, d, &m, &s, 1, c32(f, 0), 0, &small);
}

/* An add's operand tables (tab[i] NULL where operand i has none: not
 * 8-bit, or not Cortex-M), the bound on their sum (*amax, -1 unless both
 * have one), and the left shift they carry for the final requantization
 * (*pre: 1 + its left shift, which requant_bounded then skips, when the
 * bound allows; else 0).  0, or -1 reported. */
static int add_tables(be_fn *f, const ir_node *n, const int32_t *z, int ls, const int64_t *m, const int64_t *s,
                      int32_t zy, LLVMValueRef tab[2], int64_t *amax, int *pre)
{
	int32_t t[2][256];
	bool has[2];
	*amax = 0;
	*pre = 0;
	for (int i = 0; i < 2; i++) {
		ir_dtype dt = n->in[i]->dt;
		has[i] = f->mcu && (dt == IR_DT_I8 || dt == IR_DT_U8);
		int64_t a = -1;
		if (has[i])
			add_table(n->in[i], z[i], ls, (int32_t)m[i], (int32_t)s[i], t[i], &a);
		*amax = *amax >= 0 && a >= 0 ? *amax + a : -1;
	}
	if (*amax >= 0) {
		int32_t mm = (int32_t)m[2], ss = (int32_t)s[2], k;
		int lf, r;
		be_iop o = rq_one(&mm, &ss, zy, *amax);
		*pre = bounded_chan(&o, 0, &lf, &r, &k) ? 1 + lf : 0;
	}
	for (int i = 0; i < 2; i++) {
		tab[i] = NULL;
		if (!has[i])
			continue;
		for (int u = 0; u < 256; u++)
			t[i][u] = (int32_t)((uint32_t)t[i][u] << *pre);
		if (!(tab[i] = be_table_i32(f, t[i], 256)))
			return -1;
	}
	return 0;
}

/* An add of two 8-bit operands of the output's shape to 8 bits on
 * AVX-512: the flat loop 16 elements a vector, each operand's term and
 * the sum requantized by requant_x86 (32-bit arithmetic, which the
 * bounds of the terms and of their sum must allow: add_table's), the
 * last vector by masked loads and store.  0, or 1 when n is not one
 * (then the nest below). */
static int add_x86(be_fn *f, const ir_node *n, const int32_t *z, int ls, const int64_t *m, const int64_t *s,
                   int32_t zy, int64_t lo, int64_t hi)
{
	const ir_value *yv = n->out[0], *in[2] = {n->in[0], n->in[1]};
	int64_t cnt = ir_shape_numel(&yv->shape);
	if (f->mcu || f->isimd != BE_ISIMD_AVX2 || f->vl < 16 || n->op != IR_OP_ADD || ls > 23 ||
	    (yv->dt != IR_DT_I8 && yv->dt != IR_DT_U8) || cnt < 1)
		return 1;
	int32_t mm[3], ss[3], tab[256];
	int64_t bound[2], sum = 0;
	be_iop o[3];
	for (int i = 0; i < 2; i++) {
		if ((in[i]->dt != IR_DT_I8 && in[i]->dt != IR_DT_U8) || ir_shape_numel(&in[i]->shape) != cnt)
			return 1;
		int64_t a;
		add_table(in[i], z[i], ls, (int32_t)m[i], (int32_t)s[i], tab, &a);
		sum += a;
		int32_t e = z[i] + (in[i]->dt == IR_DT_I8 ? 128 : 0); /* |q - z| <= max(e, 255 - e) */
		bound[i] = (int64_t)(e > 255 - e ? e : 255 - e) << ls;
	}
	for (int i = 0; i < 3; i++) {
		mm[i] = (int32_t)m[i], ss[i] = (int32_t)s[i];
		o[i] = rq_one(&mm[i], &ss[i], i == 2 ? zy : 0, i == 2 ? sum : bound[i]);
		if (!be_rq_bounded_ok(&o[i]))
			return 1;
	}
	LLVMBuilderRef b = f->b;
	LLVMTypeRef v8 = LLVMVectorType(f->i8, 16), v32 = LLVMVectorType(f->i32, 16);
	LLVMValueRef p[2] = {be_ptr(f, in[0]), be_ptr(f, in[1])}, y = be_ptr(f, yv);
	int64_t nfull = cnt / 16, tail = cnt % 16;
	for (int part = 0; part < 2; part++) {
		int64_t nv = part == 0 ? nfull : (tail > 0);
		if (nv == 0)
			continue;
		be_loop l;
		LLVMValueRef at = be_mul(f, part == 0 ? be_loop_begin(f, &l, nv) : be_ci(f, nfull), 16);
		LLVMValueRef t = NULL;
		for (int i = 0; i < 2; i++) {
			LLVMValueRef q = LLVMBuildInBoundsGEP2(b, f->i8, p[i], &at, 1, ""), v;
			if (part == 0) {
				v = LLVMBuildLoad2(b, v8, q, "");
				LLVMSetAlignment(v, 1);
			} else {
				v = be_load_first(f, v8, q, 1, tail, NULL);
			}
			v = in[i]->dt == IR_DT_I8 ? LLVMBuildSExt(b, v, v32, "") : LLVMBuildZExt(b, v, v32, "");
			v = LLVMBuildShl(b, LLVMBuildSub(b, v, kv(v32, z[i]), ""), kv(v32, ls), "");
			v = requant_x86(f, &o[i], v, c32(f, 0), 0, false);
			t = t ? LLVMBuildAdd(b, t, v, "") : v;
		}
		LLVMValueRef r = requant_x86(f, &o[2], t, c32(f, 0), 0, lo >= zy);
		r = LLVMBuildTrunc(b, be_smin(f, be_smax(f, r, kv(v32, lo)), kv(v32, hi)), v8, "");
		LLVMValueRef q = LLVMBuildInBoundsGEP2(b, f->i8, y, &at, 1, "");
		if (part == 0) {
			LLVMSetAlignment(LLVMBuildStore(b, r, q), 1);
			be_loop_end(f, &l);
		} else {
			be_store_first(f, r, q, 1, tail);
		}
	}
	return 0;
}

/* eval_qbinary in ir/k_elementwise.c: TFLite's quantized Add (both
 * differences shifted left, each requantized, their sum requantized) and
 * Mul (the product requantized), the zero points and rq_mult/rq_shift
 * constants, int32 arithmetic wrapping (plain i32 ops, no nsw). */
static int l_int_addmul(be_fn *f, const ir_node *n)
{
	const ir_value *av = n->in[0], *bv = n->in[1], *yv = n->out[0];
	const ir_shape *ys = &yv->shape;
	int nm = 0;
	const int64_t *m = ir_attr_ints(n, "rq_mult", &nm), *s = ir_attr_ints(n, "rq_shift", &nm);
	int ls = (int)ir_attr_int(n, "left_shift", 0);
	int64_t lo, hi;
	ir_value_range(yv, &lo, &hi);
	int32_t zy = yv->quant->zero_point ? yv->quant->zero_point[0] : 0;
	int32_t z1 = in_zp(n), z2 = bv->quant->zero_point ? bv->quant->zero_point[0] : 0;
	int64_t dims[IR_MAX_RANK], st[3][IR_MAX_RANK];
	int rank = ys->rank;
	for (int i = 0; i < rank; i++)
		dims[i] = ys->d[i];
	k_strides(ys, st[0]);
	ir_bcast_strides(rank, av->shape.rank, av->shape.d, 1, st[1]);
	ir_bcast_strides(rank, bv->shape.rank, bv->shape.d, 1, st[2]);
	if (f->mcu && ir_shape_numel(&av->shape) == ir_shape_numel(ys) &&
	    ir_shape_numel(&bv->shape) == ir_shape_numel(ys)) {
		/* no broadcast: one flat loop (on the SIMD targets the nest
		 * vectorizes as well: the A72's ResNet-8 took 0.2% more flat) */
		dims[0] = ir_shape_numel(ys);
		rank = 1;
		st[0][0] = st[1][0] = st[2][0] = 1;
	}
	LLVMValueRef tab[2] = {NULL, NULL};
	int64_t amax = -1;
	int pre = 0;
	int32_t z[2] = {z1, z2};
	if (!add_x86(f, n, z, ls, m, s, zy, lo, hi))
		return 0;
	if (n->op == IR_OP_ADD && add_tables(f, n, z, ls, m, s, zy, tab, &amax, &pre))
		return -1;
	LLVMValueRef a = be_ptr(f, av), bp = be_ptr(f, bv), y = be_ptr(f, yv);
	LLVMBuilderRef b = f->b;
	be_nest nst;
	LLVMValueRef iv[IR_MAX_RANK];
	be_nest_begin(f, &nst, rank, dims, iv);
	LLVMValueRef ia = be_affine(f, 0, rank, iv, st[1]), ib = be_affine(f, 0, rank, iv, st[2]);
	LLVMTypeRef ty = be_dt_type(f, yv->dt);
	LLVMValueRef r;
	if (n->op == IR_OP_ADD) {
		LLVMValueRef x1 = add_term(f, av, a, ia, z1, ls, (int32_t)m[0], (int32_t)s[0], tab[0]);
		LLVMValueRef x2 = add_term(f, bv, bp, ib, z2, ls, (int32_t)m[1], (int32_t)s[1], tab[1]);
		r = rq_store_val(f, LLVMBuildAdd(b, x1, x2, ""), (int32_t)m[2], (int32_t)s[2], lo, hi, zy, ty, amax,
		                 pre > 0);
	} else {
		LLVMValueRef d1 = LLVMBuildSub(b, be_ld_i32(f, av->dt, a, ia), c32(f, z1), "");
		LLVMValueRef d2 = LLVMBuildSub(b, be_ld_i32(f, bv->dt, bp, ib), c32(f, z2), "");
		/* |d| <= the larger distance from the zero point to the range's ends */
		int64_t l1, h1, l2, h2;
		ir_value_range(av, &l1, &h1);
		ir_value_range(bv, &l2, &h2);
		int64_t e1 = h1 - z1 > z1 - l1 ? h1 - z1 : z1 - l1, e2 = h2 - z2 > z2 - l2 ? h2 - z2 : z2 - l2;
		r = rq_store_val(f, LLVMBuildMul(b, d1, d2, ""), (int32_t)m[0], (int32_t)s[0], lo, hi, zy, ty,
		                 e1 < (1 << 16) && e2 < (1 << 16) ? e1 * e2 : -1, false);
	}
	be_st_t(f, ty, y, be_affine(f, 0, rank, iv, st[0]), r);
	be_nest_end(f, &nst);
	return 0;
}

/* ------------------------------------------------------------ dispatch */

be_lower_hook be_lower_int(const ir_node *n)
{
	ir_dtype dt = n->nin > 0 && n->in[0] ? n->in[0]->dt : IR_DT_F32;
	if (ir_op_table_act(n->op))
		return ir_node_attr(n, "lut") ? l_int_lut : NULL;
	switch (n->op) {
	case IR_OP_QUANTIZE: return l_quantize;
	case IR_OP_DEQUANTIZE: return l_dequantize;
	case IR_OP_CONV: return ir_dtype_is_qint(dt) ? l_int_conv : NULL;
	case IR_OP_MATMUL: return ir_dtype_is_qint(dt) ? l_int_matmul : NULL;
	case IR_OP_MAX_POOL:
	case IR_OP_AVG_POOL:
	case IR_OP_GLOBAL_MAX_POOL:
	case IR_OP_GLOBAL_AVG_POOL: return ir_dtype_is_qint(dt) ? l_int_pool : NULL;
	case IR_OP_RELU: return ir_dtype_is_qint(dt) ? l_int_relu : NULL;
	case IR_OP_SOFTMAX: return ir_node_attr(n, "lut") ? l_int_softmax : NULL;
	case IR_OP_LAYER_NORM: return ir_node_attr(n, "ln_mult") ? l_int_layer_norm : NULL;
	case IR_OP_ADD:
	case IR_OP_MUL: return ir_dtype_is_qint(dt) && n->in[0]->quant ? l_int_addmul : NULL;
	default: return NULL;
	}
}

static bool int_type_ok(const ir_value *v)
{
	const ir_quant *q = v->quant;
	return ir_dtype_is_qint(v->dt) && q && q->scheme == IR_QS_AFFINE && !q->codes && q->scale;
}

/* The integer add/mul l_int_addmul lowers: both operands of one integer
 * dtype quantized per tensor, the output of that dtype with a per-tensor
 * quant, the attributes inference checked. */
static bool addmul_supports(const ir_node *n, char *why, size_t wl)
{
	const ir_value *y = n->out[0];
	for (int k = 0; k < 2; k++) {
		const ir_value *v = n->in[k];
		if (v->dt != n->in[0]->dt || !int_type_ok(v) || v->quant->nchan != 1) {
			snprintf(why, wl, "input %d '%s' (%s) is not quantized per tensor like input 0", k,
			         v->name, ir_dtype_name(v->dt));
			return false;
		}
	}
	if (y->dt != n->in[0]->dt || !int_type_ok(y) || y->quant->nchan != 1) {
		snprintf(why, wl, "output '%s' (%s) is not quantized per tensor as %s", y->name,
		         ir_dtype_name(y->dt), ir_dtype_name(n->in[0]->dt));
		return false;
	}
	int want = n->op == IR_OP_ADD ? 3 : 1, nm = 0, ns = 0;
	if (!ir_attr_ints(n, "rq_mult", &nm) || !ir_attr_ints(n, "rq_shift", &ns) || nm != want ||
	    ns != want || (n->op == IR_OP_ADD && !ir_node_attr(n, "left_shift"))) {
		snprintf(why, wl, "rq_mult/rq_shift%s missing or of the wrong length",
		         n->op == IR_OP_ADD ? "/left_shift" : "");
		return false;
	}
	if (y->shape.rank > IR_MAX_RANK) {
		snprintf(why, wl, "output rank %d", y->shape.rank);
		return false;
	}
	return true;
}

/* The integer pools and relu: output 0 of the input's dtype, one zero
 * point where it is read, Indices (max_pool output 1) i64, a window whose
 * tap count fits the i32 counter. */
static bool pool_relu_supports(const ir_node *n, char *why, size_t wl)
{
	const ir_value *x = n->in[0], *y = n->out[0];
	if (y->dt != x->dt) {
		snprintf(why, wl, "output '%s' is %s for a %s input", y->name, ir_dtype_name(y->dt),
		         ir_dtype_name(x->dt));
		return false;
	}
	if (ir_node_attr(n, "rq_mult") &&
	    (n->op != IR_OP_GLOBAL_AVG_POOL || !ir_attr_ints(n, "rq_shift", NULL) || !y->quant ||
	     !y->quant->zero_point || y->quant->nchan != 1)) {
		snprintf(why, wl, "rq_mult on a %s without a per-tensor output grid", ir_op_name(n->op));
		return false;
	}
	if (n->op != IR_OP_MAX_POOL && n->op != IR_OP_GLOBAL_MAX_POOL && x->quant &&
	    x->quant->zero_point && x->quant->nchan != 1) {
		snprintf(why, wl, "input '%s' is quantized per channel", x->name);
		return false;
	}
	if (n->op == IR_OP_RELU)
		return true;
	if (x->shape.rank < 3 || x->shape.rank - 2 > INSP_MAX) {
		snprintf(why, wl, "input rank %d", x->shape.rank);
		return false;
	}
	if (n->op == IR_OP_MAX_POOL && n->nout > 1 && n->out[1] &&
	    (n->out[1]->dt != IR_DT_I64 || !ir_shape_eq(&n->out[1]->shape, &y->shape))) {
		snprintf(why, wl, "indices '%s' are not i64 of the output's shape", n->out[1]->name);
		return false;
	}
	int cnt = 0;
	const int64_t *k = ir_attr_ints(n, "kernel", &cnt);
	bool global = n->op == IR_OP_GLOBAL_MAX_POOL || n->op == IR_OP_GLOBAL_AVG_POOL;
	int64_t taps = 1;
	for (int i = 2; i < x->shape.rank; i++) {
		int64_t e = global ? x->shape.d[i] : k && cnt == x->shape.rank - 2 ? k[i - 2] : 1;
		if (e > INT32_MAX / taps) {
			snprintf(why, wl, "a window of more than 2^31 taps");
			return false;
		}
		taps *= e > 0 ? e : 1;
	}
	return true;
}

bool be_int_supports(const ir_graph *g, const ir_node *n, char *why, size_t wl)
{
	(void)g;
	if (!be_inputs_ok(n, NULL, NULL, "", why, wl))
		return false;
	const ir_value *y = n->out[0];
	if (!y || !ir_shape_known(&y->shape)) {
		snprintf(why, wl, "output 0 has no concrete shape");
		return false;
	}
	const ir_value *x = n->in[0], *s = n->nin > 1 ? n->in[1] : NULL;
	const ir_value *z = n->nin > 2 ? n->in[2] : NULL;
	if (ir_op_table_act(n->op))
		return lut_supports(n, why, wl);
	switch (n->op) {
	case IR_OP_QUANTIZE:
	case IR_OP_DEQUANTIZE: {
		bool q = n->op == IR_OP_QUANTIZE;
		ir_dtype idt = q ? y->dt : x->dt;
		if (q && ir_dtype_is_qint(x->dt) && ir_dtype_is_qint(y->dt) && x->quant &&
		    x->quant->nchan == 1 && ir_attr_ints(n, "rq_mult", NULL))
			return true; /* a requantization */
		if ((q && x->dt != IR_DT_F32) || (!q && y->dt != IR_DT_F32) ||
		    !(ir_dtype_is_qint(idt) || (!q && idt == IR_DT_I32))) {
			snprintf(why, wl, "%s from %s to %s", ir_op_name(n->op), ir_dtype_name(x->dt),
			         ir_dtype_name(y->dt));
			return false;
		}
		bool blocked = ir_attr_int(n, "block_size", 0) > 0 && s && s->shape.rank == x->shape.rank;
		if (!s || s->dt != IR_DT_F32 || (s->shape.rank > 1 && !blocked) || (z && z->dt != idt)) {
			snprintf(why, wl, "scale must be f32 (scalar or 1-D) and the zero point %s",
			         ir_dtype_name(idt));
			return false;
		}
		return true;
	}
	case IR_OP_MAX_POOL:
	case IR_OP_AVG_POOL:
	case IR_OP_GLOBAL_MAX_POOL:
	case IR_OP_GLOBAL_AVG_POOL:
	case IR_OP_RELU: return pool_relu_supports(n, why, wl);
	case IR_OP_SOFTMAX: return softmax_supports(n, why, wl);
	case IR_OP_LAYER_NORM: return layer_norm_supports(n, why, wl);
	case IR_OP_ADD:
	case IR_OP_MUL: return addmul_supports(n, why, wl);
	default:
		break;
	}
	for (int k = 0; k < 2; k++)
		if (!int_type_ok(n->in[k])) {
			snprintf(why, wl, "input %d '%s' (%s) has no affine quantization in its type", k,
			         n->in[k]->name, ir_dtype_name(n->in[k]->dt));
			return false;
		}
	if (n->op == IR_OP_CONV && z && ir_shape_numel(&z->shape) > 0 && z->dt != IR_DT_I32) {
		snprintf(why, wl, "bias '%s' is %s (an integer conv needs i32)", z->name,
		         ir_dtype_name(z->dt));
		return false;
	}
	if (n->op == IR_OP_CONV && (x->shape.rank < 3 || x->shape.rank - 2 > INSP_MAX)) {
		snprintf(why, wl, "input rank %d", x->shape.rank);
		return false;
	}
	if (y->quant ? !ir_dtype_is_qint(y->dt) : y->dt != IR_DT_I32) {
		snprintf(why, wl, "output '%s' is %s", y->name, ir_dtype_name(y->dt));
		return false;
	}
	return true;
}
