/* l_linalg.c: gemm and matmul as plain triple loops with a reassociable
 * dot product innermost, which the loop and SLP vectorizers turn into
 * vector code when K is contiguous. */
#include "lower.h"

/* acc = sum_k a[abase + k*ask] * B_k, where B_k is element bbase + k*bsk
 * of bv (bmode 0), element (brc, k) (bmode 1: gemm trans_b) or (k, brc)
 * (bmode 2: gemm) of the 2-D bv; weights load through be_wld, which
 * decodes packed quantized constants in place. */
static LLVMValueRef dot(be_fn *f, LLVMValueRef acc, LLVMValueRef a, LLVMValueRef abase, int64_t ask,
                        const ir_value *bv, int bmode, LLVMValueRef brc, LLVMValueRef bbase, int64_t bsk,
                        int64_t kk)
{
	LLVMBuilderRef bl = f->b;
	LLVMBuildStore(bl, be_cf(f, 0), acc);
	be_loop l;
	LLVMValueRef k = be_loop_begin(f, &l, kk);
	LLVMValueRef av = be_ld(f, a, be_add(f, abase, be_mul(f, k, ask)));
	LLVMValueRef bw = bmode == 1   ? be_wld_rc(f, bv, brc, k)
	                  : bmode == 2 ? be_wld_rc(f, bv, k, brc)
	                               : be_wld(f, bv, be_add(f, bbase, be_mul(f, k, bsk)));
	LLVMValueRef s = be_fast(LLVMBuildFAdd(bl, LLVMBuildLoad2(bl, f->f32, acc, ""),
	                                       be_fast(LLVMBuildFMul(bl, av, bw, "")), ""));
	LLVMBuildStore(bl, s, acc);
	be_loop_end(f, &l);
	return LLVMBuildLoad2(bl, f->f32, acc, "");
}

/* dot's bmode 1 over a row of 1-, 2- or 4-bit affine or symmetric codes
 * (per row or per tensor): a byte at a time, its 8 / bits codes unrolled,
 * so that the loop vectorizer widens the byte loads (a code's bit offset
 * changing with k kept it scalar: 13 instructions a weight on the A72).
 * Each weight is be_wld_rc's value, scale (code - zero point).  NULL when
 * bv is not such a weight. */
static LLVMValueRef dot_subbyte(be_fn *f, LLVMValueRef acc, LLVMValueRef a, LLVMValueRef abase, int64_t ask,
                                const ir_value *bv, LLVMValueRef row, int64_t kk)
{
	be_qw_view w;
	const ir_quant *q = bv->quant;
	if (!be_qw_view_of(f, bv, &w) || !q || (q->scheme != IR_QS_AFFINE && q->scheme != IR_QS_SYMMETRIC) ||
	    (q->bits != 1 && q->bits != 2 && q->bits != 4) || !(q->axis < 0 || q->nchan == 1 || q->axis == 0) ||
	    bv->shape.rank != 2)
		return NULL;
	LLVMBuilderRef bl = f->b;
	int bits = q->bits, per = 8 / bits;
	LLVMValueRef c = q->axis < 0 || q->nchan == 1 ? be_ci(f, 0) : row;
	LLVMValueRef s = be_qw_scale(f, &w, c);
	LLVMValueRef z = q->scheme == IR_QS_AFFINE ? be_qw_zp(f, &w, c) : LLVMConstInt(f->i32, 1u << (bits - 1), 0);
	LLVMValueRef rb = be_mul(f, row, w.rowbytes), mask = LLVMConstInt(f->i32, (1u << bits) - 1, 0);
	LLVMBuildStore(bl, be_cf(f, 0), acc);
	for (int part = 0; part < 2; part++) {
		int64_t cnt = part ? (kk % per ? 1 : 0) : kk / per, ncode = part ? kk % per : per;
		if (!cnt)
			continue;
		be_loop l;
		LLVMValueRef kb = part ? be_ci(f, kk / per) : be_loop_begin(f, &l, cnt);
		LLVMValueRef byte = be_qw_code(f, w.packed, rb, kb, be_ci(f, 8));
		LLVMValueRef sum = LLVMBuildLoad2(bl, f->f32, acc, "");
		for (int64_t t = 0; t < ncode; t++) {
			LLVMValueRef code = LLVMBuildAnd(bl, LLVMBuildLShr(bl, byte, LLVMConstInt(f->i32, (unsigned)(bits * t), 0), ""),
			                                 mask, "");
			LLVMValueRef wt = LLVMBuildFMul(bl, s, LLVMBuildSIToFP(bl, LLVMBuildSub(bl, code, z, ""), f->f32, ""), "");
			LLVMValueRef k = be_add(f, be_mul(f, kb, per), be_ci(f, t));
			LLVMValueRef av = be_ld(f, a, be_add(f, abase, be_mul(f, k, ask)));
			sum = be_fast(LLVMBuildFAdd(bl, sum, be_fast(LLVMBuildFMul(bl, av, wt, "")), ""));
		}
		LLVMBuildStore(bl, sum, acc);
		if (!part)
			be_loop_end(f, &l);
	}
	return LLVMBuildLoad2(bl, f->f32, acc, "");
}

/* Y = alpha * A' B' + beta * C, C broadcast to [M, N]. */
int be_l_gemm(be_fn *f, const ir_node *n)
{
	int crc = be_l_compact(f, n);
	if (crc <= 0)
		return crc;
	const ir_shape *as = &n->in[0]->shape, *ys = &n->out[0]->shape;
	int64_t ta = ir_attr_int(n, "trans_a", 0), tb = ir_attr_int(n, "trans_b", 0);
	float alpha = ir_attr_float(n, "alpha", 1.0f), beta = ir_attr_float(n, "beta", 1.0f);
	int64_t mm = ys->d[0], nn = ys->d[1], kk = ta ? as->d[0] : as->d[1];
	LLVMValueRef a = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	const ir_value *cv = n->nin > 2 && n->in[2] && ir_shape_numel(&n->in[2]->shape) > 0 ? n->in[2] : NULL;
	LLVMValueRef c = cv ? be_ptr(f, cv) : NULL;
	int crank = cv ? cv->shape.rank : 0;
	int64_t c_rows = crank == 2 ? cv->shape.d[0] : 1, c_cols = crank >= 1 ? cv->shape.d[crank - 1] : 1;
	LLVMBuilderRef bl = f->b;
	LLVMValueRef acc = be_slot(f);
	be_nest nst;
	int64_t dims[2] = {mm, nn};
	LLVMValueRef iv[2];
	be_nest_begin(f, &nst, 2, dims, iv);
	LLVMValueRef abase = ta ? iv[0] : be_mul(f, iv[0], kk);
	LLVMValueRef r = tb && f->vl > 1 ? dot_subbyte(f, acc, a, abase, ta ? mm : 1, n->in[1], iv[1], kk) : NULL;
	if (!r)
		r = dot(f, acc, a, abase, ta ? mm : 1, n->in[1], tb ? 1 : 2, iv[1], NULL, 0, kk);
	if (alpha != 1.0f)
		r = LLVMBuildFMul(bl, r, be_cf(f, alpha), "");
	if (c) {
		int64_t st[2] = {c_rows == 1 ? 0 : c_cols, c_cols == 1 ? 0 : 1};
		LLVMValueRef ce = be_vld(f, cv, c, be_affine(f, 0, 2, iv, st));
		if (beta != 1.0f)
			ce = LLVMBuildFMul(bl, ce, be_cf(f, beta), "");
		r = LLVMBuildFAdd(bl, r, ce, "");
	}
	int64_t yst[2] = {nn, 1};
	be_st(f, y, be_affine(f, 0, 2, iv, yst), r);
	be_nest_end(f, &nst);
	return 0;
}

/* numpy matmul: batch dims broadcast; 1-D A acts as [1,K], 1-D B as [K,1]. */
int be_l_matmul(be_fn *f, const ir_node *n)
{
	const ir_shape *as = &n->in[0]->shape, *bs = &n->in[1]->shape, *ys = &n->out[0]->shape;
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
	LLVMValueRef a = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	LLVMValueRef acc = be_slot(f);
	be_nest nst;
	LLVMValueRef iv[IR_MAX_RANK + 2];
	be_nest_begin(f, &nst, nb + 2, dims, iv);
	LLVMValueRef abase = be_affine(f, 0, nb + 2, iv, sa);
	LLVMValueRef bbase = be_affine(f, 0, nb + 2, iv, sb);
	LLVMValueRef r = dot(f, acc, a, abase, 1, n->in[1], 0, NULL, bbase, nn, kk);
	be_st(f, y, be_affine(f, 0, nb + 2, iv, sy), r);
	be_nest_end(f, &nst);
	return 0;
}
