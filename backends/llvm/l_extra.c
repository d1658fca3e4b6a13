/* l_extra.c: lowerings chosen by more than the op, and the typed helpers
 * they share.  The op table in lower.c maps an op to its f32 lowering; the
 * cases here depend on dtypes, on which operands are constants and on
 * which outputs are used:
 *   - views (reshape, flatten, squeeze, unsqueeze, identity) of any dtype
 *     and dropout, whose optional mask output is all true (inference);
 *   - clip with bounds that are run-time values, or integer data;
 *   - add/sub/mul/div on i8/u8/i32/i64, wrapping as ir/k_elementwise.c
 *     does (division truncates; by zero it gives 0 instead of the
 *     interpreter's error, since generated code cannot report one);
 *   - cast between f32, i8, u8, i32, i64 and bool;
 *   - pad in every mode (edge, reflect, wrap, or constant with a run-time
 *     value or non-f32 data), as per-axis source tables (ir/k_shape.c);
 *   - resize, conv_transpose and max_pool with Indices, in their own files;
 *   - the integer path (quantize, dequantize, integer conv/matmul) in l_int.c.
 * Each mirrors its reference kernel in ir/k_*.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lower.h"

/* ------------------------------------------------------------ helpers */

LLVMTypeRef be_dt_type(be_fn *f, ir_dtype dt)
{
	switch (dt) {
	case IR_DT_F32: return f->f32;
	case IR_DT_I32: return f->i32;
	case IR_DT_I64: return f->i64;
	case IR_DT_I16:
	case IR_DT_U16: return LLVMInt16TypeInContext(f->ctx);
	default: return f->i8;
	}
}

static LLVMValueRef gep_t(be_fn *f, LLVMTypeRef ty, LLVMValueRef p, LLVMValueRef idx)
{
	return LLVMBuildInBoundsGEP2(f->b, ty, p, &idx, 1, "");
}

LLVMValueRef be_ld_t(be_fn *f, LLVMTypeRef ty, LLVMValueRef p, LLVMValueRef idx)
{
	LLVMValueRef l = LLVMBuildLoad2(f->b, ty, gep_t(f, ty, p, idx), "");
	LLVMSetAlignment(l, (unsigned)(LLVMABISizeOfType(LLVMGetModuleDataLayout(f->mod), ty)));
	return l;
}

void be_st_t(be_fn *f, LLVMTypeRef ty, LLVMValueRef p, LLVMValueRef idx, LLVMValueRef v)
{
	LLVMValueRef s = LLVMBuildStore(f->b, v, gep_t(f, ty, p, idx));
	LLVMSetAlignment(s, (unsigned)(LLVMABISizeOfType(LLVMGetModuleDataLayout(f->mod), ty)));
}

void be_copy_bytes(be_fn *f, LLVMValueRef dst, LLVMValueRef src, int64_t n)
{
	if (n <= 0 || !dst || !src || dst == src)
		return;
	LLVMBuildMemCpy(f->b, dst, 1, src, 1, be_ci(f, n));
}

static LLVMValueRef table(be_fn *f, LLVMValueRef init, const char *tag)
{
	char gname[96]; /* LLVM numbers repeated names: NAME.ti, NAME.ti.1, ... */
	snprintf(gname, sizeof gname, "%s.%s", f->name, tag);
	LLVMValueRef g = LLVMAddGlobal(f->mod, LLVMTypeOf(init), gname);
	LLVMSetInitializer(g, init);
	LLVMSetGlobalConstant(g, 1);
	LLVMSetLinkage(g, LLVMPrivateLinkage);
	LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
	LLVMSetAlignment(g, 16);
	return g;
}

LLVMValueRef be_table_i32(be_fn *f, const int32_t *data, int64_t n)
{
	LLVMValueRef *el = malloc(sizeof *el * (size_t)(n > 0 ? n : 1));
	if (!el)
		return NULL;
	for (int64_t i = 0; i < n; i++)
		el[i] = LLVMConstInt(f->i32, (unsigned long long)(int64_t)data[i], 1);
	LLVMValueRef init = LLVMConstArray2(f->i32, el, (uint64_t)n);
	free(el);
	return table(f, init, "ti");
}

LLVMValueRef be_table_f32(be_fn *f, const float *data, int64_t n)
{
	LLVMValueRef *el = malloc(sizeof *el * (size_t)(n > 0 ? n : 1));
	if (!el)
		return NULL;
	for (int64_t i = 0; i < n; i++)
		el[i] = be_cf(f, data[i]);
	LLVMValueRef init = LLVMConstArray2(f->f32, el, (uint64_t)n);
	free(el);
	return table(f, init, "tf");
}

void be_if_begin(be_fn *f, be_if *c, LLVMValueRef cond)
{
	c->then = LLVMAppendBasicBlockInContext(f->ctx, f->fn, "then");
	c->cont = LLVMAppendBasicBlockInContext(f->ctx, f->fn, "endif");
	LLVMBuildCondBr(f->b, cond, c->then, c->cont);
	LLVMPositionBuilderAtEnd(f->b, c->then);
}

void be_if_end(be_fn *f, be_if *c)
{
	LLVMBasicBlockRef last = LLVMGetInsertBlock(f->b);
	LLVMBuildBr(f->b, c->cont);
	LLVMMoveBasicBlockAfter(c->cont, last);
	LLVMPositionBuilderAtEnd(f->b, c->cont);
}

static bool is_int_dt(ir_dtype dt)
{
	return dt == IR_DT_I8 || dt == IR_DT_U8 || dt == IR_DT_I32 || dt == IR_DT_I64;
}

/* Widen an integer element of dt to i64 as ld_int does. */
static LLVMValueRef widen(be_fn *f, ir_dtype dt, LLVMValueRef v)
{
	if (dt == IR_DT_I64)
		return v;
	if (dt == IR_DT_U8 || dt == IR_DT_U16 || dt == IR_DT_BOOL)
		return LLVMBuildZExt(f->b, v, f->i64, "");
	return LLVMBuildSExt(f->b, v, f->i64, "");
}

static LLVMValueRef narrow(be_fn *f, ir_dtype dt, LLVMValueRef v)
{
	return dt == IR_DT_I64 ? v : LLVMBuildTrunc(f->b, v, be_dt_type(f, dt), "");
}

static bool needed(const ir_graph *g, const ir_value *v)
{
	if (!v)
		return false;
	for (int k = 0; k < g->noutputs; k++)
		if (g->outputs[k] == v)
			return true;
	return ir_value_use_count(g, v) > 0;
}

static bool is_const(const ir_node *n, int k)
{
	return k < n->nin && n->in[k] && n->in[k]->kind == IR_VAL_CONST;
}

static bool present(const ir_node *n, int k)
{
	return k < n->nin && n->in[k] && ir_shape_numel(&n->in[k]->shape) > 0;
}

/* ---------------------------------------------------- views, dropout */

static int l_view_any(be_fn *f, const ir_node *n)
{
	const ir_value *x = n->in[0], *y = n->out[0];
	if (y && f->plan->v[y->id].kind != MP_NONE && !be_same_storage(f, x, y))
		be_copy_bytes(f, be_ptr(f, y), be_ptr(f, x),
		              ir_shape_numel(&y->shape) * (int64_t)ir_dtype_size(y->dt));
	if (n->op == IR_OP_DROPOUT && n->nout > 1 && n->out[1] &&
	    f->plan->v[n->out[1]->id].kind != MP_NONE) {
		int64_t cnt = ir_shape_numel(&n->out[1]->shape);
		if (cnt > 0)
			LLVMBuildMemSet(f->b, be_ptr(f, n->out[1]), LLVMConstInt(f->i8, 1, 0),
			                be_ci(f, cnt), 1);
	}
	return 0;
}

/* --------------------------------------------------------------- clip */

static int l_clip(be_fn *f, const ir_node *n)
{
	ir_dtype dt = n->in[0]->dt;
	LLVMTypeRef ty = be_dt_type(f, dt);
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	LLVMValueRef bound[2] = {NULL, NULL};
	for (int k = 1; k < 3; k++) {
		if (!present(n, k))
			continue;
		LLVMValueRef v = be_ld_t(f, ty, be_ptr(f, n->in[k]), be_ci(f, 0));
		bound[k - 1] = dt == IR_DT_F32 ? v : widen(f, dt, v);
	}
	LLVMBuilderRef b = f->b;
	be_loop l;
	LLVMValueRef i = be_loop_begin(f, &l, ir_shape_numel(&n->out[0]->shape));
	LLVMValueRef v = be_ld_t(f, ty, x, i);
	if (dt == IR_DT_F32) {
		/* if (v < mn) v = mn; if (v > mx) v = mx; NaN passes through */
		if (bound[0])
			v = be_sel_lt(f, v, bound[0], bound[0], v);
		if (bound[1])
			v = be_sel_lt(f, bound[1], v, bound[1], v);
	} else {
		v = widen(f, dt, v);
		if (bound[0])
			v = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSLT, v, bound[0], ""), bound[0], v, "");
		if (bound[1])
			v = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSGT, v, bound[1], ""), bound[1], v, "");
		v = narrow(f, dt, v);
	}
	be_st_t(f, ty, y, i, v);
	be_loop_end(f, &l);
	return 0;
}

/* --------------------------------------------------------------- cast */

/* As ir_eval_cast: f32 to an integer truncates toward zero, NaN gives 0
 * and out-of-range values saturate to int64 before wrapping to the width;
 * to bool is != 0 (NaN true); integers widen (u8/bool unsigned) first. */
static int l_cast(be_fn *f, const ir_node *n)
{
	ir_dtype xd = n->in[0]->dt, yd = n->out[0]->dt;
	LLVMTypeRef xt = be_dt_type(f, xd), yt = be_dt_type(f, yd);
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	LLVMBuilderRef b = f->b;
	be_loop l;
	LLVMValueRef i = be_loop_begin(f, &l, ir_shape_numel(&n->out[0]->shape));
	LLVMValueRef v = be_ld_t(f, xt, x, i), r;
	if (xd == IR_DT_F32) {
		if (yd == IR_DT_F32) {
			r = v;
		} else if (yd == IR_DT_BOOL) {
			r = LLVMBuildZExt(b, LLVMBuildFCmp(b, LLVMRealUNE, v, be_cf(f, 0), ""), f->i8, "");
		} else {
			LLVMValueRef t = LLVMBuildFPToSI(b, v, f->i64, "");
			t = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOGE, v, be_cf(f, 9223372036854775807.0f), ""),
			                    LLVMConstInt(f->i64, (unsigned long long)INT64_MAX, 1), t, "");
			t = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLE, v, be_cf(f, -9223372036854775808.0f), ""),
			                    LLVMConstInt(f->i64, (unsigned long long)INT64_MIN, 1), t, "");
			t = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealUNO, v, v, ""), LLVMConstInt(f->i64, 0, 0), t, "");
			r = narrow(f, yd, t);
		}
	} else {
		LLVMValueRef w = widen(f, xd, v);
		if (yd == IR_DT_F32)
			r = LLVMBuildSIToFP(b, w, f->f32, "");
		else if (yd == IR_DT_BOOL)
			r = LLVMBuildZExt(b, LLVMBuildICmp(b, LLVMIntNE, w, LLVMConstInt(f->i64, 0, 0), ""), f->i8, "");
		else
			r = narrow(f, yd, w);
	}
	be_st_t(f, yt, y, i, r);
	be_loop_end(f, &l);
	return 0;
}

/* ------------------------------------------------- integer arithmetic */

/* An i64 divisor LLVM's sdiv/srem may take: 1 where vb is 0 or -1 (the
 * callers select those results: no trap on x / 0 or INT64_MIN / -1). */
static LLVMValueRef safe_divisor(be_fn *f, LLVMValueRef vb, LLVMValueRef *is0, LLVMValueRef *ism1)
{
	LLVMBuilderRef b = f->b;
	*is0 = LLVMBuildICmp(b, LLVMIntEQ, vb, LLVMConstInt(f->i64, 0, 0), "");
	*ism1 = LLVMBuildICmp(b, LLVMIntEQ, vb, LLVMConstInt(f->i64, (unsigned long long)-1LL, 1), "");
	return LLVMBuildSelect(b, LLVMBuildOr(b, *is0, *ism1, ""), LLVMConstInt(f->i64, 1, 0), vb, "");
}

static int l_int_binary(be_fn *f, const ir_node *n)
{
	const ir_shape *ys = &n->out[0]->shape;
	ir_dtype dt = n->out[0]->dt;
	LLVMTypeRef ty = be_dt_type(f, dt);
	LLVMValueRef a = be_ptr(f, n->in[0]), bp = be_ptr(f, n->in[1]), y = be_ptr(f, n->out[0]);
	int64_t st[3][IR_MAX_RANK];
	k_strides(ys, st[0]);
	ir_bcast_strides(ys->rank, n->in[0]->shape.rank, n->in[0]->shape.d, 1, st[1]);
	ir_bcast_strides(ys->rank, n->in[1]->shape.rank, n->in[1]->shape.d, 1, st[2]);
	be_nest nst;
	LLVMValueRef iv[IR_MAX_RANK];
	be_nest_begin(f, &nst, ys->rank, ys->d, iv);
	LLVMBuilderRef b = f->b;
	LLVMValueRef va = widen(f, dt, be_ld_t(f, ty, a, be_affine(f, 0, ys->rank, iv, st[1])));
	LLVMValueRef vb = widen(f, dt, be_ld_t(f, ty, bp, be_affine(f, 0, ys->rank, iv, st[2])));
	LLVMValueRef v;
	switch (n->op) {
	case IR_OP_ADD: v = LLVMBuildAdd(b, va, vb, ""); break;
	case IR_OP_SUB: v = LLVMBuildSub(b, va, vb, ""); break;
	case IR_OP_MUL: v = LLVMBuildMul(b, va, vb, ""); break;
	case IR_OP_MAX: v = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSGT, va, vb, ""), va, vb, ""); break;
	case IR_OP_MIN: v = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSLT, va, vb, ""), va, vb, ""); break;
	case IR_OP_POW: {
		/* As ir/k_elementwise.c: square and multiply over the exponent's
		 * 64 bits, wrapping; a negative exponent (which the interpreter
		 * refuses) gives 0 */
		LLVMValueRef p = LLVMConstInt(f->i64, 1, 0), base = va, e = vb;
		for (int bit = 0; bit < 64; bit++) {
			LLVMValueRef odd = LLVMBuildTrunc(b, e, f->i1, "");
			p = LLVMBuildSelect(b, odd, LLVMBuildMul(b, p, base, ""), p, "");
			base = LLVMBuildMul(b, base, base, "");
			e = LLVMBuildLShr(b, e, LLVMConstInt(f->i64, 1, 0), "");
		}
		LLVMValueRef neg = LLVMBuildICmp(b, LLVMIntSLT, vb, LLVMConstInt(f->i64, 0, 0), "");
		v = LLVMBuildSelect(b, neg, LLVMConstInt(f->i64, 0, 0), p, "");
		break;
	}
	case IR_OP_MOD: {
		/* As ir/k_elementwise.c: C's remainder (fmod=1), then the
		 * divisor's sign (fmod=0); x % -1 is 0 (no INT64_MIN trap),
		 * x % 0 is 0 (the interpreter refuses it). */
		LLVMValueRef zero = LLVMConstInt(f->i64, 0, 0), is0, ism1;
		v = LLVMBuildSRem(b, va, safe_divisor(f, vb, &is0, &ism1), "");
		if (!ir_attr_int(n, "fmod", 0)) {
			LLVMValueRef nz = LLVMBuildICmp(b, LLVMIntNE, v, zero, "");
			LLVMValueRef sa = LLVMBuildICmp(b, LLVMIntSLT, v, zero, ""), sb = LLVMBuildICmp(b, LLVMIntSLT, vb, zero, "");
			LLVMValueRef fix = LLVMBuildAnd(b, nz, LLVMBuildXor(b, sa, sb, ""), "");
			v = LLVMBuildSelect(b, fix, LLVMBuildAdd(b, v, vb, ""), v, "");
		}
		break;
	}
	default: {
		/* Truncating division; x / -1 wraps (no INT64_MIN trap), x / 0 is 0. */
		LLVMValueRef zero = LLVMConstInt(f->i64, 0, 0), is0, ism1;
		v = LLVMBuildSDiv(b, va, safe_divisor(f, vb, &is0, &ism1), "");
		v = LLVMBuildSelect(b, ism1, LLVMBuildSub(b, zero, va, ""), v, "");
		v = LLVMBuildSelect(b, is0, zero, v, "");
		break;
	}
	}
	be_st_t(f, ty, y, be_affine(f, 0, ys->rank, iv, st[0]), narrow(f, dt, v));
	be_nest_end(f, &nst);
	return 0;
}

/* Neg, Abs, Sign of plain integers (ir/k_elementwise.c int_unary),
 * wrapping in the element type. */
static int l_int_unary(be_fn *f, const ir_node *n)
{
	ir_dtype dt = n->out[0]->dt;
	LLVMTypeRef ty = be_dt_type(f, dt);
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	LLVMBuilderRef b = f->b;
	be_loop l;
	LLVMValueRef i = be_loop_begin(f, &l, ir_shape_numel(&n->out[0]->shape));
	LLVMValueRef v = widen(f, dt, be_ld_t(f, ty, x, i)), zero = LLVMConstInt(f->i64, 0, 0), r;
	LLVMValueRef neg = LLVMBuildSub(b, zero, v, ""), lt = LLVMBuildICmp(b, LLVMIntSLT, v, zero, "");
	switch (n->op) {
	case IR_OP_NEG: r = neg; break;
	case IR_OP_ABS: r = LLVMBuildSelect(b, lt, neg, v, ""); break;
	default:
		r = LLVMBuildSub(b, LLVMBuildZExt(b, LLVMBuildICmp(b, LLVMIntSGT, v, zero, ""), f->i64, ""),
		                 LLVMBuildZExt(b, lt, f->i64, ""), "");
		break;
	}
	be_st_t(f, ty, y, i, narrow(f, dt, r));
	be_loop_end(f, &l);
	return 0;
}

/* ------------------------------------------- comparisons, logic, where */

/* equal ... less_equal, and/or/xor/not (ir/k_elementwise.c): bytes of 0
 * or 1 over the broadcast output; NaN compares false. */
static int l_logic(be_fn *f, const ir_node *n)
{
	const ir_shape *ys = &n->out[0]->shape;
	ir_dtype dt = n->in[0]->dt;
	LLVMTypeRef ty = be_dt_type(f, dt);
	int64_t st[3][IR_MAX_RANK];
	k_strides(ys, st[0]);
	for (int k = 0; k < n->nin; k++)
		ir_bcast_strides(ys->rank, n->in[k]->shape.rank, n->in[k]->shape.d, 1, st[k + 1]);
	be_nest nst;
	LLVMValueRef iv[IR_MAX_RANK];
	be_nest_begin(f, &nst, ys->rank, ys->d, iv);
	LLVMBuilderRef b = f->b;
	LLVMValueRef v[2];
	for (int k = 0; k < n->nin; k++) {
		v[k] = be_ld_t(f, ty, be_ptr(f, n->in[k]), be_affine(f, 0, ys->rank, iv, st[k + 1]));
		if (dt != IR_DT_F32)
			v[k] = widen(f, dt, v[k]);
	}
	LLVMValueRef r;
	if (n->op == IR_OP_NOT) {
		r = LLVMBuildICmp(b, LLVMIntEQ, v[0], LLVMConstInt(f->i64, 0, 0), "");
	} else if (n->op == IR_OP_AND || n->op == IR_OP_OR || n->op == IR_OP_XOR) {
		LLVMValueRef a = LLVMBuildICmp(b, LLVMIntNE, v[0], LLVMConstInt(f->i64, 0, 0), "");
		LLVMValueRef c = LLVMBuildICmp(b, LLVMIntNE, v[1], LLVMConstInt(f->i64, 0, 0), "");
		r = n->op == IR_OP_AND ? LLVMBuildAnd(b, a, c, "") : n->op == IR_OP_OR ? LLVMBuildOr(b, a, c, "")
		                                                                      : LLVMBuildXor(b, a, c, "");
	} else { /* the comparisons: ordered (NaN false) on f32, signed on the widened integers */
		static const struct { ir_op op; LLVMRealPredicate fp; LLVMIntPredicate ip; } cmp[] = {
			{IR_OP_EQUAL, LLVMRealOEQ, LLVMIntEQ},          {IR_OP_GREATER, LLVMRealOGT, LLVMIntSGT},
			{IR_OP_LESS, LLVMRealOLT, LLVMIntSLT},          {IR_OP_GREATER_EQUAL, LLVMRealOGE, LLVMIntSGE},
			{IR_OP_LESS_EQUAL, LLVMRealOLE, LLVMIntSLE}};
		size_t k = 0;
		while (cmp[k].op != n->op && k + 1 < sizeof cmp / sizeof *cmp)
			k++;
		r = dt == IR_DT_F32 ? LLVMBuildFCmp(b, cmp[k].fp, v[0], v[1], "") : LLVMBuildICmp(b, cmp[k].ip, v[0], v[1], "");
	}
	be_st_t(f, f->i8, be_ptr(f, n->out[0]), be_affine(f, 0, ys->rank, iv, st[0]), LLVMBuildZExt(b, r, f->i8, ""));
	be_nest_end(f, &nst);
	return 0;
}

/* where(cond, a, b), any dtype of a and b. */
static int l_where(be_fn *f, const ir_node *n)
{
	const ir_shape *ys = &n->out[0]->shape;
	LLVMTypeRef ty = be_dt_type(f, n->out[0]->dt);
	int64_t st[4][IR_MAX_RANK];
	k_strides(ys, st[0]);
	for (int k = 0; k < 3; k++)
		ir_bcast_strides(ys->rank, n->in[k]->shape.rank, n->in[k]->shape.d, 1, st[k + 1]);
	be_nest nst;
	LLVMValueRef iv[IR_MAX_RANK];
	be_nest_begin(f, &nst, ys->rank, ys->d, iv);
	LLVMBuilderRef b = f->b;
	LLVMValueRef c = be_ld_t(f, f->i8, be_ptr(f, n->in[0]), be_affine(f, 0, ys->rank, iv, st[1]));
	LLVMValueRef va = be_ld_t(f, ty, be_ptr(f, n->in[1]), be_affine(f, 0, ys->rank, iv, st[2]));
	LLVMValueRef vb = be_ld_t(f, ty, be_ptr(f, n->in[2]), be_affine(f, 0, ys->rank, iv, st[3]));
	LLVMValueRef r = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntNE, c, LLVMConstInt(f->i8, 0, 0), ""), va, vb, "");
	be_st_t(f, ty, be_ptr(f, n->out[0]), be_affine(f, 0, ys->rank, iv, st[0]), r);
	be_nest_end(f, &nst);
	return 0;
}

/* ---------------------------------------------------------------- pad */

typedef enum { PM_CONSTANT, PM_EDGE, PM_REFLECT, PM_WRAP } pad_mode;

static int pad_mode_of(const ir_node *n)
{
	const char *s = ir_attr_str(n, "mode", "constant");
	static const char *const names[] = {"constant", "edge", "reflect", "wrap"};
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* ir/k_shape.c's pad_src. */
static int64_t pad_src(int mode, int64_t s, int64_t m)
{
	switch (mode) {
	case PM_EDGE: return s < 0 ? 0 : s >= m ? m - 1 : s;
	case PM_REFLECT: {
		if (m == 1)
			return 0;
		int64_t p = 2 * (m - 1);
		int64_t t = ((s % p) + p) % p;
		return t < m ? t : p - t;
	}
	case PM_WRAP: return ((s % m) + m) % m;
	default: return s;
	}
}

/* Per output axis a table of source positions in the input (-1: the
 * constant); axes without padding index the input directly. */
static int l_pad_any(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape, *ys = &n->out[0]->shape;
	ir_dtype dt = n->out[0]->dt;
	LLVMTypeRef ty = be_dt_type(f, dt);
	int r = xs->rank, mode = pad_mode_of(n);
	int64_t pads[2 * IR_MAX_RANK], axes[IR_MAX_RANK];
	int npads = be_const_ints(n, 1, pads, 2 * IR_MAX_RANK);
	int naxes = present(n, 3) ? be_const_ints(n, 3, axes, IR_MAX_RANK) : -1;
	int na = naxes >= 0 ? naxes : r;
	int64_t pb[IR_MAX_RANK] = {0}, pe[IR_MAX_RANK] = {0};
	for (int i = 0; i < na && 2 * i < npads; i++) {
		int a = k_axis(naxes >= 0 ? axes[i] : i, r);
		pb[a] = pads[i];
		pe[a] = pads[na + i];
	}
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	LLVMValueRef cval = NULL;
	if (present(n, 2))
		cval = be_ld_t(f, ty, be_ptr(f, n->in[2]), be_ci(f, 0));
	else
		cval = dt == IR_DT_F32 ? be_cf(f, 0) : LLVMConstInt(ty, 0, 0);
	int64_t xst[IR_MAX_RANK];
	k_strides(xs, xst);
	bool xempty = ir_shape_numel(xs) <= 0;
	LLVMValueRef tab[IR_MAX_RANK] = {NULL};
	bool may_fill = xempty;
	for (int i = 0; i < r && !xempty; i++) {
		int64_t crop = pb[i] < 0 ? -pb[i] : 0, lead = pb[i] > 0 ? pb[i] : 0;
		int64_t kept = xs->d[i] - crop - (pe[i] < 0 ? -pe[i] : 0);
		if (pb[i] == 0 && pe[i] == 0)
			continue;
		int32_t *t = malloc(sizeof *t * (size_t)(ys->d[i] > 0 ? ys->d[i] : 1));
		if (!t) {
			diag_error(f->d, NULL, "out of memory");
			return -1;
		}
		for (int64_t o = 0; o < ys->d[i]; o++) {
			int64_t s = o - lead;
			if (s < 0 || s >= kept) {
				if (mode == PM_CONSTANT || kept <= 0) {
					t[o] = -1;
					may_fill = true;
					continue;
				}
				s = pad_src(mode, s, kept);
			}
			t[o] = (int32_t)(s + crop);
		}
		tab[i] = be_table_i32(f, t, ys->d[i]);
		free(t);
	}
	int64_t yst[IR_MAX_RANK];
	k_strides(ys, yst);
	be_nest nst;
	LLVMValueRef iv[IR_MAX_RANK];
	be_nest_begin(f, &nst, r, ys->d, iv);
	LLVMBuilderRef b = f->b;
	LLVMValueRef v;
	if (xempty) {
		v = cval;
	} else {
		LLVMValueRef off = be_ci(f, 0), ok = NULL;
		for (int i = 0; i < r; i++) {
			LLVMValueRef s = iv[i];
			if (tab[i]) {
				s = LLVMBuildSExtOrBitCast(b, be_ld_t(f, f->i32, tab[i], iv[i]), f->ity, "");
				if (may_fill) {
					LLVMValueRef in = LLVMBuildICmp(b, LLVMIntSGE, s, be_ci(f, 0), "");
					ok = ok ? LLVMBuildAnd(b, ok, in, "") : in;
					s = LLVMBuildSelect(b, in, s, be_ci(f, 0), "");
				}
			}
			off = be_add(f, off, be_mul(f, s, xst[i]));
		}
		v = be_ld_t(f, ty, x, off);
		if (ok)
			v = LLVMBuildSelect(b, ok, v, cval, "");
	}
	be_st_t(f, ty, y, be_affine(f, 0, r, iv, yst), v);
	be_nest_end(f, &nst);
	return 0;
}

/* ------------------------------------------------------------ dispatch */

be_lower_hook be_lower_extra(const ir_graph *g, const ir_node *n)
{
	ir_dtype dt = n->nin > 0 && n->in[0] ? n->in[0]->dt : IR_DT_F32;
	be_lower_hook ih = be_lower_int(n);
	if (ih)
		return ih;
	switch (n->op) {
	case IR_OP_RESIZE: return be_l_resize;
	case IR_OP_CONV_TRANSPOSE: return be_l_conv_transpose;
	case IR_OP_MAX_POOL:
		return n->nout > 1 && needed(g, n->out[1]) ? be_l_pool_idx : NULL;
	case IR_OP_DROPOUT: return l_view_any;
	case IR_OP_CAST: return l_cast;
	case IR_OP_CLIP:
		return dt != IR_DT_F32 || (present(n, 1) && !is_const(n, 1)) ||
		               (present(n, 2) && !is_const(n, 2))
		           ? l_clip
		           : NULL;
	case IR_OP_ADD:
	case IR_OP_SUB:
	case IR_OP_MUL:
	case IR_OP_DIV:
	case IR_OP_MOD:
	case IR_OP_MAX:
	case IR_OP_MIN: return is_int_dt(dt) ? l_int_binary : NULL;
	case IR_OP_POW: /* integer base and exponent of one type */
		return is_int_dt(dt) && n->in[1] && n->in[1]->dt == dt ? l_int_binary : NULL;
	case IR_OP_NEG:
	case IR_OP_ABS:
	case IR_OP_SIGN: return is_int_dt(dt) ? l_int_unary : NULL;
	case IR_OP_EQUAL:
	case IR_OP_GREATER:
	case IR_OP_LESS:
	case IR_OP_GREATER_EQUAL:
	case IR_OP_LESS_EQUAL:
	case IR_OP_AND:
	case IR_OP_OR:
	case IR_OP_XOR:
	case IR_OP_NOT: return l_logic;
	case IR_OP_WHERE: return l_where;
	case IR_OP_PAD:
		return dt != IR_DT_F32 || pad_mode_of(n) != PM_CONSTANT || (present(n, 2) && !is_const(n, 2))
		           ? l_pad_any
		           : NULL;
	default: return ir_op_table[n->op].mem == IR_MEM_VIEW && dt != IR_DT_F32 ? l_view_any : NULL;
	}
}

/* Operands that must be compile-time constants for the nodes taken here. */
static bool static_operand(const ir_node *n, int k)
{
	switch (n->op) {
	case IR_OP_RESHAPE:
	case IR_OP_UNSQUEEZE:
	case IR_OP_SQUEEZE: return k == 1;
	case IR_OP_PAD: return k == 1 || k == 3;
	case IR_OP_DROPOUT: return k == 2;
	case IR_OP_RESIZE:
		/* roi may be a run-time value (tf_crop_and_resize reads it) */
		return k == 2 || k == 3 ||
		       (k == 1 && strcmp(ir_attr_str(n, "coordinate_transformation_mode", ""),
		                         "tf_crop_and_resize") != 0);
	default: return false;
	}
}

/* Operands whose dtype the lowerings here read as data. */
static bool data_operand(const ir_node *n, int k)
{
	return k == 0 || n->op == IR_OP_CONV_TRANSPOSE || n->op == IR_OP_CLIP || n->op == IR_OP_ADD ||
	       n->op == IR_OP_SUB || n->op == IR_OP_MUL || n->op == IR_OP_DIV || n->op == IR_OP_MOD ||
	       n->op == IR_OP_MAX || n->op == IR_OP_MIN || n->op == IR_OP_POW ||
	       (n->op == IR_OP_PAD && k == 2) || (n->op == IR_OP_RESIZE && k == 1);
}

/* Which dtypes a node's data operands may have here. */
static bool dtype_ok(const ir_node *n, int k, ir_dtype dt)
{
	if (!data_operand(n, k))
		return true;
	switch (n->op) {
	case IR_OP_RESIZE: /* integers copy in nearest mode (l_resize.c); roi is f32 */
		return k == 0 ? ir_resize_dtype_ok(n, dt) : dt == IR_DT_F32;
	case IR_OP_CONV_TRANSPOSE:
	case IR_OP_MAX_POOL: return dt == IR_DT_F32;
	case IR_OP_CLIP: return dt == IR_DT_F32 || is_int_dt(dt);
	case IR_OP_ADD:
	case IR_OP_SUB:
	case IR_OP_MUL:
	case IR_OP_DIV:
	case IR_OP_MOD:
	case IR_OP_MAX:
	case IR_OP_MIN:
	case IR_OP_POW: return is_int_dt(dt);
	default: return ir_dtype_size(dt) > 0;
	}
}

bool be_extra_supports(const ir_graph *g, const ir_node *n, char *why, size_t wl)
{
	if (be_lower_int(n))
		return be_int_supports(g, n, why, wl);
	if (!be_inputs_ok(n, static_operand, dtype_ok, "", why, wl))
		return false;
	if (n->op == IR_OP_DROPOUT && is_const(n, 2) && present(n, 2) && ir_const_get(n->in[2], 0) != 0) {
		snprintf(why, wl, "training mode");
		return false;
	}
	if (n->op == IR_OP_PAD && pad_mode_of(n) < 0) {
		snprintf(why, wl, "pad mode '%s'", ir_attr_str(n, "mode", ""));
		return false;
	}
	for (int k = 0; k < n->nout; k++) {
		const ir_value *v = n->out[k];
		if (v && !ir_shape_known(&v->shape)) {
			snprintf(why, wl, "output %d '%s' has no concrete shape", k, v->name);
			return false;
		}
	}
	return true;
}
