/* l_reduce.c: softmax, log_softmax (one axis, max-subtracted) and
 * reduce_mean, with reassociable sums. */
#include <math.h>

#include "lower.h"

static int64_t prod(const ir_shape *s, int lo, int hi)
{
	int64_t p = 1;
	for (int i = lo; i < hi; i++)
		p *= s->d[i];
	return p;
}

int be_l_softmax(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape;
	int r = xs->rank, axis = k_axis(ir_attr_int(n, "axis", -1), r);
	bool log_form = n->op == IR_OP_LOG_SOFTMAX;
	int64_t outer = prod(xs, 0, axis), len = xs->d[axis], inner = prod(xs, axis + 1, r);
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	LLVMBuilderRef b = f->b;
	LLVMValueRef mx = be_slot(f), sum = be_slot(f);
	be_nest on;
	int64_t od[2] = {outer, inner};
	LLVMValueRef oi[2];
	be_nest_begin(f, &on, 2, od, oi);
	LLVMValueRef base = be_add(f, be_mul(f, oi[0], len * inner), oi[1]);
	be_loop l;
	/* m = max_j x_j */
	LLVMBuildStore(b, be_cf(f, -INFINITY), mx);
	LLVMValueRef j = be_loop_begin(f, &l, len);
	LLVMValueRef v = be_ld(f, x, be_add(f, base, be_mul(f, j, inner)));
	LLVMValueRef cur = LLVMBuildLoad2(b, f->f32, mx, "");
	LLVMBuildStore(b, LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOGT, v, cur, ""), v, cur, ""), mx);
	be_loop_end(f, &l);
	LLVMValueRef m = LLVMBuildLoad2(b, f->f32, mx, "");
	/* s = sum_j exp(x_j - m) */
	LLVMBuildStore(b, be_cf(f, 0), sum);
	j = be_loop_begin(f, &l, len);
	v = be_ld(f, x, be_add(f, base, be_mul(f, j, inner)));
	LLVMValueRef e = be_call(f, BE_LIBM_EXPF, LLVMBuildFSub(b, v, m, ""));
	LLVMBuildStore(b, be_fast(LLVMBuildFAdd(b, LLVMBuildLoad2(b, f->f32, sum, ""), e, "")), sum);
	be_loop_end(f, &l);
	LLVMValueRef s = LLVMBuildLoad2(b, f->f32, sum, "");
	LLVMValueRef ls = log_form ? be_call(f, BE_LIBM_LOGF, s) : NULL;
	LLVMValueRef inv = log_form ? NULL : LLVMBuildFDiv(b, be_cf(f, 1), s, "");
	j = be_loop_begin(f, &l, len);
	LLVMValueRef k = be_add(f, base, be_mul(f, j, inner));
	LLVMValueRef t = LLVMBuildFSub(b, be_ld(f, x, k), m, "");
	LLVMValueRef res = log_form ? LLVMBuildFSub(b, t, ls, "")
	                            : LLVMBuildFMul(b, be_call(f, BE_LIBM_EXPF, t), inv, "");
	be_st(f, y, k, res);
	be_loop_end(f, &l);
	be_nest_end(f, &on);
	return 0;
}

int be_l_reduce_mean(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape;
	int r = xs->rank;
	bool red[IR_MAX_RANK];
	int64_t v[IR_MAX_RANK];
	int cnt = n->nin > 1 && n->in[1] ? ir_const_ints(n->in[1], v, IR_MAX_RANK) : -1;
	bool noop = ir_attr_int(n, "noop_with_empty_axes", 0) != 0;
	for (int i = 0; i < r; i++)
		red[i] = cnt <= 0 && !noop;
	for (int i = 0; i < cnt; i++) {
		int a = k_axis(v[i], r);
		if (a >= 0)
			red[a] = true;
	}
	/* Outer nest over kept dims, inner over reduced dims. */
	int64_t xst[IR_MAX_RANK], kd[IR_MAX_RANK], ks[IR_MAX_RANK], rd[IR_MAX_RANK], rs[IR_MAX_RANK];
	k_strides(xs, xst);
	int nk = 0, nr = 0;
	int64_t per = 1, outn = 1;
	for (int i = 0; i < r; i++) {
		if (red[i]) {
			rd[nr] = xs->d[i], rs[nr++] = xst[i];
			per *= xs->d[i];
		} else {
			kd[nk] = xs->d[i], ks[nk++] = xst[i];
			outn *= xs->d[i];
		}
	}
	int64_t yst[IR_MAX_RANK], acc_y = 1;
	for (int i = nk - 1; i >= 0; i--) {
		yst[i] = acc_y;
		acc_y *= kd[i];
	}
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	LLVMBuilderRef b = f->b;
	LLVMValueRef acc = be_slot(f);
	be_nest on, rn;
	LLVMValueRef oi[IR_MAX_RANK], ri[IR_MAX_RANK];
	be_nest_begin(f, &on, nk, kd, oi);
	LLVMValueRef base = be_affine(f, 0, nk, oi, ks);
	LLVMBuildStore(b, be_cf(f, 0), acc);
	be_nest_begin(f, &rn, nr, rd, ri);
	LLVMValueRef e = be_ld(f, x, be_add(f, base, be_affine(f, 0, nr, ri, rs)));
	LLVMBuildStore(b, be_fast(LLVMBuildFAdd(b, LLVMBuildLoad2(b, f->f32, acc, ""), e, "")), acc);
	be_nest_end(f, &rn);
	LLVMValueRef res = per ? LLVMBuildFDiv(b, LLVMBuildLoad2(b, f->f32, acc, ""), be_cf(f, (float)per), "")
	                       : be_cf(f, NAN);
	be_st(f, y, be_affine(f, 0, nk, oi, yst), res);
	be_nest_end(f, &on);
	(void)outn;
	return 0;
}
