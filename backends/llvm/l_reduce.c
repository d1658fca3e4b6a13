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

/* Open a nest over the slices of xs along axis ax (oi: the index over the
 * axes before it and the one over those after it); *len and *inner are
 * the slice's length and its elements' stride.  Returns the index of the
 * slice's first element. */
static LLVMValueRef slices_begin(be_fn *f, be_nest *on, const ir_shape *xs, int ax, LLVMValueRef oi[2],
                                 int64_t *len, int64_t *inner)
{
	int64_t od[2] = {prod(xs, 0, ax), prod(xs, ax + 1, xs->rank)};
	*len = xs->d[ax];
	*inner = od[1];
	be_nest_begin(f, on, 2, od, oi);
	return be_add(f, be_mul(f, oi[0], *len * *inner), oi[1]);
}

int be_l_softmax(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape;
	int axis = k_axis(ir_attr_int(n, "axis", -1), xs->rank);
	bool log_form = n->op == IR_OP_LOG_SOFTMAX;
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	LLVMBuilderRef b = f->b;
	LLVMValueRef mx = be_slot(f), sum = be_slot(f);
	be_nest on;
	LLVMValueRef oi[2];
	int64_t len, inner;
	LLVMValueRef base = slices_begin(f, &on, xs, axis, oi, &len, &inner);
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

/* Sum, max, min and prod of i32/i64 (ir/k_reduce.c red_step_int): the
 * wrapping arithmetic of the interpreter, in the operand's width.  What
 * torch's .any(), .all() and counts of booleans export. */
static void reduce_int(be_fn *f, const ir_node *n, int nk, const int64_t *kd, const int64_t *ks, const int64_t *yst,
                       int nr, const int64_t *rd, const int64_t *rs)
{
	LLVMBuilderRef b = f->b;
	ir_op op = n->op;
	bool w64 = n->in[0]->dt == IR_DT_I64;
	LLVMTypeRef ty = w64 ? LLVMInt64TypeInContext(f->ctx) : LLVMInt32TypeInContext(f->ctx);
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	LLVMValueRef acc = be_entry_alloca(f, ty, "iacc");
	unsigned long long init = op == IR_OP_REDUCE_MAX ? (w64 ? (1ull << 63) : (1ull << 31))
	                          : op == IR_OP_REDUCE_MIN ? (w64 ? ~(1ull << 63) : 0x7fffffffull)
	                          : op == IR_OP_REDUCE_PROD ? 1 : 0;
	be_nest on, rn;
	LLVMValueRef oi[IR_MAX_RANK], ri[IR_MAX_RANK];
	be_nest_begin(f, &on, nk, kd, oi);
	LLVMValueRef base = be_affine(f, 0, nk, oi, ks);
	LLVMBuildStore(b, LLVMConstInt(ty, init, 0), acc);
	be_nest_begin(f, &rn, nr, rd, ri);
	LLVMValueRef e = be_ld_t(f, ty, x, be_add(f, base, be_affine(f, 0, nr, ri, rs)));
	LLVMValueRef a = LLVMBuildLoad2(b, ty, acc, ""), nv;
	switch (op) {
	case IR_OP_REDUCE_MAX: nv = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSGT, e, a, ""), e, a, ""); break;
	case IR_OP_REDUCE_MIN: nv = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSLT, e, a, ""), e, a, ""); break;
	case IR_OP_REDUCE_PROD: nv = LLVMBuildMul(b, a, e, ""); break;
	default: nv = LLVMBuildAdd(b, a, e, ""); break;
	}
	LLVMBuildStore(b, nv, acc);
	be_nest_end(f, &rn);
	be_st_t(f, ty, y, be_affine(f, 0, nk, oi, yst), LLVMBuildLoad2(b, ty, acc, ""));
	be_nest_end(f, &on);
}

/* Every reduction (reduce_mean, _sum, _max, ...) over f32, and sum, max,
 * min and prod over i32/i64. */
int be_l_reduce(be_fn *f, const ir_node *n)
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
	if (n->in[0]->dt == IR_DT_I64 || n->in[0]->dt == IR_DT_I32) {
		reduce_int(f, n, nk, kd, ks, yst, nr, rd, rs);
		return 0;
	}
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	LLVMBuilderRef b = f->b;
	LLVMValueRef acc = be_slot(f);
	be_nest on, rn;
	LLVMValueRef oi[IR_MAX_RANK], ri[IR_MAX_RANK];
	be_nest_begin(f, &on, nk, kd, oi);
	LLVMValueRef base = be_affine(f, 0, nk, oi, ks);
	ir_op op = n->op;
	float init = op == IR_OP_REDUCE_MAX ? -INFINITY : op == IR_OP_REDUCE_MIN ? INFINITY
	             : op == IR_OP_REDUCE_PROD                                  ? 1.0f
	                                                                        : 0.0f;
	/* log-sum-exp: the largest element m first (0 when not finite), then
	 * log(sum exp(e - m)) + m, so that no exp overflows f32 where the
	 * interpreter's sum (in double) does not */
	LLVMValueRef m = NULL;
	if (op == IR_OP_REDUCE_LOG_SUM_EXP) {
		LLVMBuildStore(b, be_cf(f, -INFINITY), acc);
		be_nest_begin(f, &rn, nr, rd, ri);
		LLVMValueRef e = be_ld(f, x, be_add(f, base, be_affine(f, 0, nr, ri, rs)));
		LLVMValueRef a = LLVMBuildLoad2(b, f->f32, acc, "");
		LLVMBuildStore(b, be_sel_lt(f, a, e, e, a), acc);
		be_nest_end(f, &rn);
		m = LLVMBuildLoad2(b, f->f32, acc, "");
		LLVMValueRef fin = LLVMBuildFCmp(b, LLVMRealOLT, be_intr(f, "llvm.fabs", &f->f32, 1, &m, 1),
		                                 be_cf(f, INFINITY), "");
		m = LLVMBuildSelect(b, fin, m, be_cf(f, 0), "");
	}
	LLVMBuildStore(b, be_cf(f, init), acc);
	be_nest_begin(f, &rn, nr, rd, ri);
	LLVMValueRef e = be_ld(f, x, be_add(f, base, be_affine(f, 0, nr, ri, rs)));
	LLVMValueRef a = LLVMBuildLoad2(b, f->f32, acc, ""), nv;
	/* the steps of ir/k_reduce.c's red_step, in f32 */
	switch (op) {
	case IR_OP_REDUCE_MAX: nv = be_sel_lt(f, a, e, e, a); break;
	case IR_OP_REDUCE_MIN: nv = be_sel_lt(f, e, a, e, a); break;
	case IR_OP_REDUCE_PROD: nv = be_fast(LLVMBuildFMul(b, a, e, "")); break;
	case IR_OP_REDUCE_L1:
		nv = be_fast(LLVMBuildFAdd(b, a, be_intr(f, "llvm.fabs", &f->f32, 1, &e, 1), ""));
		break;
	case IR_OP_REDUCE_L2:
	case IR_OP_REDUCE_SUM_SQUARE: nv = be_fast(LLVMBuildFAdd(b, a, LLVMBuildFMul(b, e, e, ""), "")); break;
	case IR_OP_REDUCE_LOG_SUM_EXP:
		nv = be_fast(LLVMBuildFAdd(b, a, be_call(f, BE_LIBM_EXPF, LLVMBuildFSub(b, e, m, "")), ""));
		break;
	default: nv = be_fast(LLVMBuildFAdd(b, a, e, "")); break;
	}
	LLVMBuildStore(b, nv, acc);
	be_nest_end(f, &rn);
	LLVMValueRef res = LLVMBuildLoad2(b, f->f32, acc, "");
	if (op == IR_OP_REDUCE_MEAN)
		res = per ? LLVMBuildFDiv(b, res, be_cf(f, (float)per), "") : be_cf(f, NAN);
	else if (op == IR_OP_REDUCE_L2)
		res = be_sqrt(f, res);
	else if (op == IR_OP_REDUCE_LOG_SUM_EXP)
		res = LLVMBuildFAdd(b, be_call(f, BE_LIBM_LOGF, res), m, "");
	be_st(f, y, be_affine(f, 0, nk, oi, yst), res);
	be_nest_end(f, &on);
	(void)outn;
	return 0;
}

/* layer_norm and instance_norm (ir/k_reduce.c): per row of len elements
 * the mean, the mean square deviation, then
 * y = (x - mean) * (1 / sqrt(var + eps)) * scale + B, the interpreter's
 * steps in its order (no reassociation), so the bits are its bits. */
int be_l_norm(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape;
	int r = xs->rank;
	bool inst = n->op == IR_OP_INSTANCE_NORM;
	int a = inst ? 2 : k_axis(ir_attr_int(n, "axis", -1), r);
	if (a < 0)
		return -1;
	int64_t rows = prod(xs, 0, a), len = prod(xs, a, r), C = inst ? xs->d[1] : 1;
	const ir_value *sv = n->in[1], *bv = n->nin > 2 ? n->in[2] : NULL;
	bool s1 = ir_shape_numel(&sv->shape) == 1, b1 = bv && ir_shape_numel(&bv->shape) == 1;
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]), sp = be_ptr(f, sv);
	LLVMValueRef bp = bv ? be_ptr(f, bv) : NULL;
	LLVMBuilderRef b = f->b;
	float eps = ir_attr_float(n, "epsilon", 1e-5f);
	LLVMValueRef acc = be_slot(f), flen = be_cf(f, (float)len);
	be_loop lo, li;
	LLVMValueRef o = be_loop_begin(f, &lo, rows);
	LLVMValueRef base = be_mul(f, o, len);
	LLVMBuildStore(b, be_cf(f, 0), acc);
	LLVMValueRef j = be_loop_begin(f, &li, len);
	LLVMValueRef e = be_ld(f, x, be_add(f, base, j));
	LLVMBuildStore(b, LLVMBuildFAdd(b, LLVMBuildLoad2(b, f->f32, acc, ""), e, ""), acc);
	be_loop_end(f, &li);
	LLVMValueRef mean = LLVMBuildFDiv(b, LLVMBuildLoad2(b, f->f32, acc, ""), flen, "");
	LLVMBuildStore(b, be_cf(f, 0), acc);
	j = be_loop_begin(f, &li, len);
	LLVMValueRef dv = LLVMBuildFSub(b, be_ld(f, x, be_add(f, base, j)), mean, "");
	LLVMBuildStore(b, LLVMBuildFAdd(b, LLVMBuildLoad2(b, f->f32, acc, ""), LLVMBuildFMul(b, dv, dv, ""), ""), acc);
	be_loop_end(f, &li);
	LLVMValueRef var = LLVMBuildFDiv(b, LLVMBuildLoad2(b, f->f32, acc, ""), flen, "");
	LLVMValueRef inv = LLVMBuildFDiv(b, be_cf(f, 1), be_sqrt(f, LLVMBuildFAdd(b, var, be_cf(f, eps), "")), "");
	if (n->nout > 1 && n->out[1])
		be_st(f, be_ptr(f, n->out[1]), o, mean);
	if (n->nout > 2 && n->out[2])
		be_st(f, be_ptr(f, n->out[2]), o, inv);
	LLVMValueRef ch = inst ? LLVMBuildURem(b, o, be_ci(f, C), "") : NULL;
	j = be_loop_begin(f, &li, len);
	LLVMValueRef k = be_add(f, base, j);
	LLVMValueRef si = inst ? ch : s1 ? be_ci(f, 0) : j, bi = inst ? ch : b1 ? be_ci(f, 0) : j;
	LLVMValueRef v = LLVMBuildFMul(b, LLVMBuildFMul(b, LLVMBuildFSub(b, be_ld(f, x, k), mean, ""), inv, ""),
	                               be_ld(f, sp, si), "");
	if (bp)
		v = LLVMBuildFAdd(b, v, be_ld(f, bp, bi), "");
	be_st(f, y, k, v);
	be_loop_end(f, &li);
	be_loop_end(f, &lo);
	return 0;
}

/* arg_max and arg_min of f32 (ir/k_reduce.c): the running best and its
 * index; a NaN best is replaced by the next element. */
int be_l_arg(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape;
	int r = xs->rank, ax = k_axis(ir_attr_int(n, "axis", 0), r);
	if (ax < 0)
		return -1;
	bool mx = n->op == IR_OP_ARG_MAX, last = ir_attr_int(n, "select_last_index", 0) != 0;
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	LLVMBuilderRef b = f->b;
	LLVMValueRef bv = be_slot(f), bi = be_entry_alloca(f, f->i64, "best");
	be_nest on;
	LLVMValueRef oi[2];
	int64_t len, inner;
	LLVMValueRef base = slices_begin(f, &on, xs, ax, oi, &len, &inner);
	LLVMBuildStore(b, be_ld(f, x, base), bv);
	LLVMBuildStore(b, LLVMConstInt(f->i64, 0, 0), bi);
	be_loop l;
	LLVMValueRef j = be_loop_begin(f, &l, len);
	LLVMValueRef v = be_ld(f, x, be_add(f, base, be_mul(f, j, inner)));
	LLVMValueRef cur = LLVMBuildLoad2(b, f->f32, bv, "");
	LLVMRealPredicate p = mx ? (last ? LLVMRealOGE : LLVMRealOGT) : (last ? LLVMRealOLE : LLVMRealOLT);
	LLVMValueRef take = LLVMBuildOr(b, LLVMBuildFCmp(b, p, v, cur, ""), LLVMBuildFCmp(b, LLVMRealUNO, cur, cur, ""), "");
	/* j = 0 compares the first element with itself: take it again */
	LLVMBuildStore(b, LLVMBuildSelect(b, take, v, cur, ""), bv);
	LLVMValueRef ji = LLVMTypeOf(j) == f->i64 ? j : LLVMBuildZExt(b, j, f->i64, "");
	LLVMBuildStore(b, LLVMBuildSelect(b, take, ji, LLVMBuildLoad2(b, f->i64, bi, ""), ""), bi);
	be_loop_end(f, &l);
	be_st_t(f, f->i64, y, be_add(f, be_mul(f, oi[0], inner), oi[1]), LLVMBuildLoad2(b, f->i64, bi, ""));
	be_nest_end(f, &on);
	return 0;
}

/* a before b, largest first with NaN above every number (ir/k_reduce.c
 * topk_gt); and a and b the same */
static LLVMValueRef topk_gt(be_fn *f, LLVMValueRef a, LLVMValueRef b)
{
	LLVMBuilderRef bl = f->b;
	LLVMValueRef an = LLVMBuildFCmp(bl, LLVMRealUNO, a, a, ""), bn = LLVMBuildFCmp(bl, LLVMRealUNO, b, b, "");
	return LLVMBuildSelect(bl, an, LLVMBuildNot(bl, bn, ""), LLVMBuildFCmp(bl, LLVMRealOGT, a, b, ""), "");
}

static LLVMValueRef topk_eq(be_fn *f, LLVMValueRef a, LLVMValueRef b)
{
	LLVMBuilderRef bl = f->b;
	LLVMValueRef an = LLVMBuildFCmp(bl, LLVMRealUNO, a, a, ""), bn = LLVMBuildFCmp(bl, LLVMRealUNO, b, b, "");
	return LLVMBuildSelect(bl, an, bn, LLVMBuildFCmp(bl, LLVMRealOEQ, a, b, ""), "");
}

/* topk (ir/k_reduce.c's selection, element for element): output slot s
 * is the element that comes first after slot s - 1's, found by one pass
 * over the slice: k passes, no scratch. */
int be_l_topk(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape;
	int r = xs->rank, ax = k_axis(ir_attr_int(n, "axis", -1), r);
	const ir_value *yo = n->out[0] ? n->out[0] : n->out[1];
	if (ax < 0 || !yo)
		return -1;
	int64_t k = yo->shape.d[ax];
	bool big = ir_attr_int(n, "largest", 1) != 0;
	LLVMValueRef x = be_ptr(f, n->in[0]);
	LLVMValueRef yv = n->out[0] ? be_ptr(f, n->out[0]) : NULL, yi = n->out[1] ? be_ptr(f, n->out[1]) : NULL;
	LLVMBuilderRef b = f->b;
	LLVMValueRef pv = be_slot(f), bv = be_slot(f);
	LLVMValueRef pi = be_entry_alloca(f, f->i64, "topk.pi"), bi = be_entry_alloca(f, f->i64, "topk.bi");
	LLVMValueRef none = LLVMConstInt(f->i64, (unsigned long long)-1, 1);
	be_nest on;
	LLVMValueRef oi[2];
	int64_t len, inner;
	LLVMValueRef base = slices_begin(f, &on, xs, ax, oi, &len, &inner);
	LLVMBuildStore(b, none, pi);
	LLVMBuildStore(b, be_cf(f, 0), pv);
	be_loop ls, lj;
	LLVMValueRef s = be_loop_begin(f, &ls, k);
	LLVMBuildStore(b, none, bi);
	LLVMBuildStore(b, be_cf(f, 0), bv);
	LLVMValueRef j = be_loop_begin(f, &lj, len);
	LLVMValueRef e = be_ld(f, x, be_add(f, base, be_mul(f, j, inner)));
	LLVMValueRef ji = LLVMTypeOf(j) == f->i64 ? j : LLVMBuildZExt(b, j, f->i64, "");
	LLVMValueRef p = LLVMBuildLoad2(b, f->f32, pv, ""), pj = LLVMBuildLoad2(b, f->i64, pi, "");
	LLVMValueRef c = LLVMBuildLoad2(b, f->f32, bv, ""), cj = LLVMBuildLoad2(b, f->i64, bi, "");
	LLVMValueRef first = LLVMBuildICmp(b, LLVMIntSLT, pj, LLVMConstNull(f->i64), "");
	LLVMValueRef after = LLVMBuildOr(b, first, big ? topk_gt(f, p, e) : topk_gt(f, e, p), "");
	after = LLVMBuildOr(b, after, LLVMBuildAnd(b, topk_eq(f, p, e), LLVMBuildICmp(b, LLVMIntSLT, pj, ji, ""), ""), "");
	LLVMValueRef better = LLVMBuildOr(b, LLVMBuildICmp(b, LLVMIntSLT, cj, LLVMConstNull(f->i64), ""),
	                                  big ? topk_gt(f, e, c) : topk_gt(f, c, e), "");
	LLVMValueRef take = LLVMBuildAnd(b, after, better, "");
	LLVMBuildStore(b, LLVMBuildSelect(b, take, e, c, ""), bv);
	LLVMBuildStore(b, LLVMBuildSelect(b, take, ji, cj, ""), bi);
	be_loop_end(f, &lj);
	LLVMValueRef at = be_add(f, be_add(f, be_mul(f, oi[0], k * inner), be_mul(f, s, inner)), oi[1]);
	LLVMValueRef v = LLVMBuildLoad2(b, f->f32, bv, ""), vi = LLVMBuildLoad2(b, f->i64, bi, "");
	if (yv)
		be_st(f, yv, at, v);
	if (yi)
		be_st_t(f, f->i64, yi, at, vi);
	LLVMBuildStore(b, v, pv);
	LLVMBuildStore(b, vi, pi);
	be_loop_end(f, &ls);
	be_nest_end(f, &on);
	return 0;
}

/* cumsum (ir/k_reduce.c): the running f32 sum along the axis, in order. */
int be_l_cumsum(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape;
	int64_t a;
	int r = xs->rank;
	if (ir_const_ints(n->in[1], &a, 1) != 1 || k_axis(a, r) < 0)
		return -1;
	int ax = k_axis(a, r);
	bool excl = ir_attr_int(n, "exclusive", 0) != 0, rev = ir_attr_int(n, "reverse", 0) != 0;
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	LLVMBuilderRef b = f->b;
	/* f32, or i32/i64 adding in their own width (wrapping) */
	bool fl = n->in[0]->dt == IR_DT_F32;
	LLVMTypeRef ty = be_dt_type(f, n->in[0]->dt);
	LLVMValueRef acc = be_entry_alloca(f, ty, "csum");
	be_nest on;
	LLVMValueRef oi[2];
	int64_t len, inner;
	LLVMValueRef base = slices_begin(f, &on, xs, ax, oi, &len, &inner);
	LLVMBuildStore(b, LLVMConstNull(ty), acc);
	be_loop l;
	LLVMValueRef jj = be_loop_begin(f, &l, len);
	LLVMValueRef j = rev ? LLVMBuildSub(b, be_ci(f, len - 1), jj, "") : jj;
	LLVMValueRef k = be_add(f, base, be_mul(f, j, inner));
	LLVMValueRef v = be_ld_t(f, ty, x, k), s = LLVMBuildLoad2(b, ty, acc, "");
	LLVMValueRef ns = fl ? LLVMBuildFAdd(b, s, v, "") : LLVMBuildAdd(b, s, v, "");
	be_st_t(f, ty, y, k, excl ? s : ns);
	LLVMBuildStore(b, ns, acc);
	be_loop_end(f, &l);
	be_nest_end(f, &on);
	return 0;
}
