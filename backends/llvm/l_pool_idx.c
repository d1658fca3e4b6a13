/* l_pool_idx.c: max_pool whose Indices output is used, mirroring
 * ir/k_pool.c: each output is the maximum over the window's taps inside
 * the input (the first maximum wins; padding never does), and Indices
 * holds that tap's flat index in the whole input, row-major
 * (storage_order 0) or column-major within the spatial dims
 * (storage_order 1), -1 for an empty window.  Kept apart from the plain
 * pools in l_conv.c: a runtime inside-test per tap, any rank. */
#include <math.h>
#include <string.h>

#include "lower.h"

#define PI_MAX_SP (IR_MAX_RANK - 2)

static void axis_attr(const ir_node *n, const char *name, int nsp, int64_t dflt, int64_t *v)
{
	int cnt = 0;
	const int64_t *a = ir_attr_ints(n, name, &cnt);
	for (int i = 0; i < nsp; i++)
		v[i] = a && cnt == nsp ? a[i] : dflt;
}

static LLVMValueRef slot_of(be_fn *f, LLVMTypeRef ty)
{
	return be_entry_alloca(f, ty, "slot");
}

int be_l_pool_idx(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape, *ys = &n->out[0]->shape;
	int nsp = xs->rank - 2;
	int64_t in[PI_MAX_SP], k[PI_MAX_SP], s[PI_MAX_SP], dil[PI_MAX_SP], pb[PI_MAX_SP], pe[PI_MAX_SP];
	int64_t out[PI_MAX_SP];
	for (int i = 0; i < nsp; i++) {
		in[i] = xs->d[2 + i];
		out[i] = ys->d[2 + i];
	}
	axis_attr(n, "kernel", nsp, 1, k);
	axis_attr(n, "strides", nsp, 1, s);
	axis_attr(n, "dilations", nsp, 1, dil);
	if (k_resolve_pads(f->g, n, nsp, in, k, s, dil, pb, pe, f->d))
		return -1;
	bool colmajor = ir_attr_int(n, "storage_order", 0) == 1;
	int64_t in_sz = 1, out_sz = 1, istr[PI_MAX_SP], ostr[PI_MAX_SP], cstr[PI_MAX_SP];
	for (int i = nsp - 1; i >= 0; i--) {
		istr[i] = in_sz;
		ostr[i] = out_sz;
		in_sz *= in[i];
		out_sz *= out[i];
	}
	int64_t cm = 1;
	for (int i = 0; i < nsp; i++) {
		cstr[i] = cm;
		cm *= in[i];
	}
	LLVMValueRef x = be_ptr(f, n->in[0]);
	LLVMValueRef y = f->plan->v[n->out[0]->id].kind != MP_NONE ? be_ptr(f, n->out[0]) : NULL;
	LLVMValueRef ind = be_ptr(f, n->out[1]);
	LLVMBuilderRef b = f->b;
	LLVMValueRef best = be_slot(f), at = slot_of(f, f->i64);
	LLVMValueRef m1 = LLVMConstInt(f->i64, (unsigned long long)-1LL, 1);

	be_loop bl;
	LLVMValueRef bc = be_loop_begin(f, &bl, xs->d[0] * xs->d[1]);
	be_nest on;
	LLVMValueRef oi[PI_MAX_SP];
	be_nest_begin(f, &on, nsp, out, oi);
	LLVMBuildStore(b, be_cf(f, -INFINITY), best);
	LLVMBuildStore(b, m1, at);
	be_nest kn;
	LLVMValueRef ki[PI_MAX_SP];
	be_nest_begin(f, &kn, nsp, k, ki);
	LLVMValueRef ok = NULL, off = be_mul(f, bc, in_sz), coff = be_ci(f, 0);
	for (int i = 0; i < nsp; i++) {
		LLVMValueRef p = LLVMBuildAdd(b, be_mul(f, oi[i], s[i]), be_mul(f, ki[i], dil[i]), "");
		p = LLVMBuildSub(b, p, be_ci(f, pb[i]), "");
		/* 0 <= p < in as one unsigned compare */
		LLVMValueRef c = LLVMBuildICmp(b, LLVMIntULT, p, be_ci(f, in[i]), "");
		ok = ok ? LLVMBuildAnd(b, ok, c, "") : c;
		off = be_add(f, off, be_mul(f, p, istr[i]));
		coff = be_add(f, coff, be_mul(f, p, cstr[i]));
	}
	be_if tap;
	be_if_begin(f, &tap, ok);
	LLVMValueRef v = be_ld(f, x, off);
	LLVMValueRef cur = LLVMBuildLoad2(b, f->i64, at, "");
	LLVMValueRef take = LLVMBuildOr(b, LLVMBuildICmp(b, LLVMIntSLT, cur, LLVMConstInt(f->i64, 0, 0), ""),
	                                LLVMBuildFCmp(b, LLVMRealOGT, v, LLVMBuildLoad2(b, f->f32, best, ""), ""),
	                                "");
	LLVMValueRef where = colmajor ? be_add(f, be_mul(f, bc, in_sz), coff) : off;
	where = LLVMBuildSExtOrBitCast(b, where, f->i64, ""); /* ity may be i32 */
	LLVMBuildStore(b, LLVMBuildSelect(b, take, v, LLVMBuildLoad2(b, f->f32, best, ""), ""), best);
	LLVMBuildStore(b, LLVMBuildSelect(b, take, where, cur, ""), at);
	be_if_end(f, &tap);
	be_nest_end(f, &kn);
	LLVMValueRef yi = be_add(f, be_mul(f, bc, out_sz), be_affine(f, 0, nsp, oi, ostr));
	if (y)
		be_st(f, y, yi, LLVMBuildLoad2(b, f->f32, best, ""));
	be_st_t(f, f->i64, ind, yi, LLVMBuildLoad2(b, f->i64, at, ""));
	be_nest_end(f, &on);
	be_loop_end(f, &bl);
	return 0;
}
