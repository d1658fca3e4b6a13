/* l_resize.c: resize (nearest, linear, cubic; antialias; every coordinate
 * transformation mode), mirroring ir/k_resize.c.
 *
 * Shapes are static, so each axis's taps are computed here, at compile
 * time, with the reference's own arithmetic (rs_coord, rs_taps: double
 * precision) and emitted as constant tables: per output index, nt input
 * indices (i32) and weights (f32), plus an "outside" flag for
 * tf_crop_and_resize.  Axes whose table is the identity are indexed
 * directly.  The generated code is then a loop nest over the output with
 * one inner loop per resized axis over its taps:
 *     Y[o] = outside ? extrapolation_value
 *                    : sum_t prod_a w_a[o_a, t_a] * X[idx_0[o_0, t_0], ...]
 * (the reference sums in double; here in f32.)  Integers (nearest mode,
 * ir_node_keeps_quant) copy the one tap's element.
 *
 * The one operand that may be a run-time value is roi, read only by
 * tf_crop_and_resize (qgtc run binds scales/sizes but leaves an f32 roi
 * an input).  Its axes' tables are then filled at run time, by code that
 * repeats rs_coord and rs_taps in double precision, into stack arrays. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lower.h"

#include "resize.h"

typedef ir_resize_plan rs_plan;

/* The plan from attributes, constant operands and the inferred shapes (the
 * output extents are the interpreter's; only the scales are recomputed,
 * as rs_shape does). */
static int rs_plan_of(be_fn *f, const ir_node *n, rs_plan *p)
{
	memset(p, 0, sizeof *p);
	if (ir_resize_attrs(f->g, n, p, f->d))
		return -1;
	const ir_shape *xs = &n->in[0]->shape, *ys = &n->out[0]->shape;
	int r = xs->rank;
	p->rank = r;
	int axes[IR_MAX_RANK], naxes = r, cnt = 0;
	const int64_t *ax = ir_attr_ints(n, "axes", &cnt);
	if (ax) {
		naxes = cnt;
		for (int j = 0; j < cnt; j++)
			axes[j] = k_axis(ax[j], r);
	} else {
		for (int j = 0; j < r; j++)
			axes[j] = j;
	}
	p->naxes = naxes;
	for (int i = 0; i < r; i++) {
		p->in[i] = xs->d[i];
		p->out[i] = ys->d[i];
		p->scale[i] = 1.0;
		p->roi_lo[i] = 0.0;
		p->roi_hi[i] = 1.0;
		p->roi_slot[i] = -1;
	}
	const ir_value *roi = n->nin > 1 ? n->in[1] : NULL;
	if (p->ctm == RS_TF_CROP && roi && ir_shape_numel(&roi->shape) == 2 * naxes) {
		for (int j = 0; j < naxes; j++) {
			if (roi->kind == IR_VAL_CONST) {
				p->roi_lo[axes[j]] = ir_const_get(roi, j);
				p->roi_hi[axes[j]] = ir_const_get(roi, naxes + j);
			} else {
				p->roi_slot[axes[j]] = j;
			}
		}
	}
	const ir_value *sc = n->nin > 2 ? n->in[2] : NULL;
	if (sc && ir_shape_numel(&sc->shape) > 0) {
		for (int j = 0; j < naxes; j++)
			p->scale[axes[j]] = (float)ir_const_get(sc, j);
		return 0;
	}
	int64_t sizes[IR_MAX_RANK];
	if (be_const_ints(n, 3, sizes, IR_MAX_RANK) != naxes) {
		diag_error(f->d, ir_node_loc(f->g, n), "backend: resize needs constant scales or sizes");
		return -1;
	}
	const char *policy = ir_attr_str(n, "keep_aspect_ratio_policy", "stretch");
	if (strcmp(policy, "stretch") == 0) {
		for (int j = 0; j < naxes; j++)
			p->scale[axes[j]] = (double)p->out[axes[j]] / (double)p->in[axes[j]];
		return 0;
	}
	bool not_larger = strcmp(policy, "not_larger") == 0;
	double s = 0.0;
	for (int j = 0; j < naxes; j++) {
		double t = (double)sizes[j] / (double)p->in[axes[j]];
		if (j == 0 || (not_larger ? t < s : t > s))
			s = t;
	}
	for (int j = 0; j < naxes; j++)
		p->scale[axes[j]] = s;
	return 0;
}

/* ------------------------------------ the reference's arithmetic (C) */

/* The interpreter's taps (ir/resize.h), narrowed to the table types. */
static void rs_taps(const rs_plan *p, int a, double xo, int32_t *idx, float *w, int nt)
{
	int64_t i64[nt];
	double wd[nt];
	ir_resize_taps(p, a, xo, i64, wd, nt);
	for (int t = 0; t < nt; t++) {
		idx[t] = (int32_t)i64[t];
		w[t] = (float)wd[t];
	}
}

/* ------------------------------------- the same, as run-time code */

static LLVMValueRef dconst(be_fn *f, double v)
{
	return LLVMConstReal(LLVMDoubleTypeInContext(f->ctx), v);
}

static LLVMValueRef dcall(be_fn *f, const char *intr, LLVMValueRef x)
{
	LLVMTypeRef dt = LLVMDoubleTypeInContext(f->ctx);
	return be_intr(f, intr, &dt, 1, &x, 1);
}

static LLVMValueRef dsel(be_fn *f, LLVMRealPredicate pr, LLVMValueRef a, LLVMValueRef b,
                         LLVMValueRef x, LLVMValueRef y)
{
	return LLVMBuildSelect(f->b, LLVMBuildFCmp(f->b, pr, a, b, ""), x, y, "");
}

static LLVMValueRef iclamp(be_fn *f, LLVMValueRef i, int64_t n)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef z = LLVMConstInt(f->i64, 0, 0), hi = LLVMConstInt(f->i64, (unsigned long long)(n - 1), 0);
	i = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSLT, i, z, ""), z, i, "");
	return LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSGT, i, hi, ""), hi, i, "");
}

/* Fill axis a's tables at run time (tf_crop_and_resize with a run-time
 * roi; no antialias, so the kernel scale is 1). */
static void rs_taps_runtime(be_fn *f, const rs_plan *p, int a, LLVMValueRef roi, int nt,
                            LLVMValueRef idx, LLVMValueRef w, LLVMValueRef outside)
{
	LLVMBuilderRef b = f->b;
	LLVMTypeRef dt = LLVMDoubleTypeInContext(f->ctx);
	double in = (double)p->in[a], len = p->scale[a] * in;
	LLVMValueRef lo = LLVMBuildFPExt(b, be_ld(f, roi, be_ci(f, p->roi_slot[a])), dt, "");
	LLVMValueRef hi = LLVMBuildFPExt(b, be_ld(f, roi, be_ci(f, p->roi_slot[a] + p->naxes)), dt, "");
	LLVMValueRef span = LLVMBuildFMul(b, LLVMBuildFSub(b, hi, lo, ""), dconst(f, in - 1.0), "");
	LLVMValueRef base = LLVMBuildFMul(b, lo, dconst(f, in - 1.0), "");
	be_loop l;
	LLVMValueRef x = be_loop_begin(f, &l, p->out[a]);
	LLVMValueRef xo;
	if (len == 1.0)
		xo = LLVMBuildFAdd(b, LLVMBuildFDiv(b, span, dconst(f, 2.0), ""), base, "");
	else
		xo = LLVMBuildFAdd(b,
		                   LLVMBuildFDiv(b, LLVMBuildFMul(b, LLVMBuildSIToFP(b, x, dt, ""), span, ""),
		                                 dconst(f, len - 1.0), ""),
		                   base, "");
	/* unordered: a NaN roi puts every position outside, as in the interpreter */
	LLVMValueRef out = LLVMBuildOr(b, LLVMBuildFCmp(b, LLVMRealULT, xo, dconst(f, 0.0), ""),
	                               LLVMBuildFCmp(b, LLVMRealUGT, xo, dconst(f, in - 1.0), ""), "");
	be_st_t(f, f->i8, outside, x, LLVMBuildZExt(b, out, f->i8, ""));
	/* Outside positions still get in-range taps (they are never read). */
	LLVMValueRef fl = dcall(f, "llvm.floor", xo);
	LLVMValueRef r = LLVMBuildFSub(b, xo, fl, "");
	LLVMValueRef fi = LLVMBuildFPToSI(b, fl, f->i64, "");
	LLVMValueRef safe_fi = iclamp(f, fi, p->in[a]); /* fptosi of far-outside xo */
	fi = LLVMBuildSelect(b, out, safe_fi, fi, "");
	LLVMValueRef row = be_mul(f, x, nt);
	if (p->mode == RS_NEAREST) {
		LLVMValueRef up;
		switch (p->nm) {
		case RS_ROUND_FLOOR: up = LLVMBuildFCmp(b, LLVMRealOGT, r, dconst(f, 0.5), ""); break;
		case RS_ROUND_CEIL: up = LLVMBuildFCmp(b, LLVMRealOGE, r, dconst(f, 0.5), ""); break;
		case RS_FLOOR: up = LLVMConstInt(f->i1, 0, 0); break;
		default: up = LLVMBuildFCmp(b, LLVMRealOGT, r, dconst(f, 0.0), ""); break;
		}
		LLVMValueRef i = iclamp(f, LLVMBuildAdd(b, fi, LLVMBuildZExt(b, up, f->i64, ""), ""), p->in[a]);
		be_st_t(f, f->i32, idx, row, LLVMBuildTrunc(b, i, f->i32, ""));
		be_st(f, w, row, be_cf(f, 1.0f));
		be_loop_end(f, &l);
		return;
	}
	LLVMValueRef rz = LLVMBuildFCmp(b, LLVMRealOEQ, r, dconst(f, 0.0), "");
	fi = LLVMBuildSelect(b, rz, LLVMBuildSub(b, fi, LLVMConstInt(f->i64, 1, 0), ""), fi, "");
	r = LLVMBuildSelect(b, rz, dconst(f, 1.0), r, "");
	int64_t start = 1 - nt / 2;
	LLVMValueRef wt[16], sum = dconst(f, 0.0);
	double ca = p->cubic_a;
	for (int t = 0; t < nt; t++) {
		int64_t i = start + t;
		LLVMValueRef arg = LLVMBuildFSub(b, dconst(f, (double)i), r, "");
		LLVMValueRef ax = dcall(f, "llvm.fabs", arg), v;
		if (p->mode == RS_LINEAR) {
			v = LLVMBuildFSub(b, dconst(f, 1.0), ax, "");
			v = dsel(f, LLVMRealOLT, v, dconst(f, 0.0), dconst(f, 0.0), v);
		} else {
			LLVMValueRef x2 = LLVMBuildFMul(b, ax, ax, "");
			LLVMValueRef near = LLVMBuildFAdd(
				b,
				LLVMBuildFMul(b,
				              LLVMBuildFSub(b, LLVMBuildFMul(b, dconst(f, ca + 2.0), ax, ""),
				                            dconst(f, ca + 3.0), ""),
				              x2, ""),
				dconst(f, 1.0), "");
			LLVMValueRef t1 = LLVMBuildFSub(b, LLVMBuildFMul(b, dconst(f, ca), ax, ""),
			                                dconst(f, 5.0 * ca), "");
			LLVMValueRef t2 = LLVMBuildFAdd(b, LLVMBuildFMul(b, t1, ax, ""), dconst(f, 8.0 * ca), "");
			LLVMValueRef far = LLVMBuildFSub(b, LLVMBuildFMul(b, t2, ax, ""), dconst(f, 4.0 * ca), "");
			v = dsel(f, LLVMRealOLT, ax, dconst(f, 2.0), far, dconst(f, 0.0));
			v = dsel(f, LLVMRealOLE, ax, dconst(f, 1.0), near, v);
		}
		LLVMValueRef at = LLVMBuildAdd(b, fi, LLVMConstInt(f->i64, (unsigned long long)i, 1), "");
		if (p->exclude_outside) {
			LLVMValueRef off = LLVMBuildOr(
				b, LLVMBuildICmp(b, LLVMIntSLT, at, LLVMConstInt(f->i64, 0, 0), ""),
				LLVMBuildICmp(b, LLVMIntSGE, at, LLVMConstInt(f->i64, (unsigned long long)p->in[a], 0), ""),
				"");
			v = LLVMBuildSelect(b, off, dconst(f, 0.0), v, "");
		}
		LLVMValueRef k = be_add(f, row, be_ci(f, t));
		be_st_t(f, f->i32, idx, k, LLVMBuildTrunc(b, iclamp(f, at, p->in[a]), f->i32, ""));
		wt[t] = v;
		sum = LLVMBuildFAdd(b, sum, v, "");
	}
	LLVMValueRef nz = LLVMBuildFCmp(b, LLVMRealUNE, sum, dconst(f, 0.0), "");
	for (int t = 0; t < nt; t++) {
		LLVMValueRef v = wt[t];
		if (p->exclude_outside)
			v = LLVMBuildSelect(b, nz, LLVMBuildFDiv(b, v, sum, ""), v, "");
		be_st(f, w, be_add(f, row, be_ci(f, t)), LLVMBuildFPTrunc(b, v, f->f32, ""));
	}
	be_loop_end(f, &l);
}

/* A stack array of n elements of ty in the entry block. */
static LLVMValueRef stack_array(be_fn *f, LLVMTypeRef ty, int64_t n)
{
	LLVMValueRef a = be_entry_alloca(f, LLVMArrayType2(ty, (uint64_t)n), "tab");
	LLVMSetAlignment(a, 16);
	return a;
}

/* ----------------------------------------------------------- lowering */

typedef struct rs_axis {
	int nt;
	bool identity;
	bool any_outside;
	LLVMValueRef idx, w, outside; /* tables (globals or stack arrays) */
} rs_axis;

int be_l_resize(be_fn *f, const ir_node *n)
{
	rs_plan p;
	if (rs_plan_of(f, n, &p))
		return -1;
	int r = p.rank, rc = -1;
	rs_axis ax[IR_MAX_RANK];
	memset(ax, 0, sizeof ax);
	LLVMValueRef roi = n->nin > 1 && n->in[1] ? be_ptr(f, n->in[1]) : NULL;
	for (int a = 0; a < r; a++) {
		int nt = ir_resize_ntaps(&p, a);
		int64_t no = p.out[a];
		if (nt > (1 << 12) || no * nt > ((int64_t)1 << 26)) {
			diag_error(f->d, ir_node_loc(f->g, n), "backend: resize tables too large on axis %d", a);
			return -1;
		}
		ax[a].nt = nt;
		if (p.roi_slot[a] >= 0) {
			if (p.antialias || nt > 16) {
				diag_error(f->d, ir_node_loc(f->g, n),
				           "backend: antialias with a run-time roi is not supported");
				return -1;
			}
			ax[a].idx = stack_array(f, f->i32, no * nt);
			ax[a].w = stack_array(f, f->f32, no * nt);
			ax[a].outside = stack_array(f, f->i8, no);
			ax[a].any_outside = true;
			rs_taps_runtime(f, &p, a, roi, nt, ax[a].idx, ax[a].w, ax[a].outside);
			continue;
		}
		int32_t *idx = calloc((size_t)(no * nt + 1), sizeof *idx);
		float *w = calloc((size_t)(no * nt + 1), sizeof *w);
		int32_t *outside = calloc((size_t)no + 1, sizeof *outside);
		if (!idx || !w || !outside) {
			free(idx);
			free(w);
			free(outside);
			diag_error(f->d, NULL, "out of memory");
			return -1;
		}
		bool ident = no == p.in[a];
		for (int64_t x = 0; x < no; x++) {
			double xo = ir_resize_coord(&p, a, x);
			if (p.ctm == RS_TF_CROP && !(xo >= 0.0 && xo <= (double)(p.in[a] - 1))) {
				outside[x] = 1;
				ax[a].any_outside = true;
				ident = false;
				continue;
			}
			rs_taps(&p, a, xo, idx + x * nt, w + x * nt, nt);
			bool one = false;
			for (int t = 0; t < nt; t++) {
				float wt = w[x * nt + t];
				if (wt == 0.0f)
					continue;
				if (wt != 1.0f || idx[x * nt + t] != x || one)
					ident = false;
				one = true;
			}
			ident = ident && one;
		}
		ax[a].identity = ident;
		if (!ident) {
			ax[a].idx = be_table_i32(f, idx, no * nt);
			ax[a].w = p.mode == RS_NEAREST ? NULL : be_table_f32(f, w, no * nt);
			if (ax[a].any_outside) {
				/* stored as bytes */
				int8_t *o8 = (int8_t *)outside;
				for (int64_t x = 0; x < no; x++)
					o8[x] = (int8_t)outside[x];
				LLVMValueRef init = LLVMConstStringInContext2(f->ctx, (const char *)o8, (size_t)no, 1);
				LLVMValueRef g = LLVMAddGlobal(f->mod, LLVMTypeOf(init), "rs.out");
				LLVMSetInitializer(g, init);
				LLVMSetGlobalConstant(g, 1);
				LLVMSetLinkage(g, LLVMPrivateLinkage);
				ax[a].outside = g;
			}
		}
		free(idx);
		free(w);
		free(outside);
		if (!ident && !ax[a].idx)
			goto out;
	}

	LLVMBuilderRef b = f->b;
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	int64_t xst[IR_MAX_RANK], yst[IR_MAX_RANK];
	k_strides(&n->in[0]->shape, xst);
	k_strides(&n->out[0]->shape, yst);
	be_nest on;
	LLVMValueRef oi[IR_MAX_RANK];
	be_nest_begin(f, &on, r, p.out, oi);
	LLVMValueRef outside = NULL;
	for (int a = 0; a < r; a++) {
		if (!ax[a].any_outside)
			continue;
		LLVMValueRef o = LLVMBuildICmp(b, LLVMIntNE, be_ld_t(f, f->i8, ax[a].outside, oi[a]),
		                               LLVMConstInt(f->i8, 0, 0), "");
		outside = outside ? LLVMBuildOr(b, outside, o, "") : o;
	}
	LLVMValueRef acc = be_slot(f);
	LLVMBuildStore(b, be_cf(f, 0), acc);
	be_if guard;
	if (outside)
		be_if_begin(f, &guard, LLVMBuildNot(b, outside, ""));
	/* One loop over the taps of every resized axis. */
	be_loop tl[IR_MAX_RANK];
	LLVMValueRef wprod = NULL, off = be_ci(f, 0);
	for (int a = 0; a < r; a++) {
		if (ax[a].identity) {
			off = be_add(f, off, be_mul(f, oi[a], xst[a]));
			continue;
		}
		LLVMValueRef t = be_loop_begin(f, &tl[a], ax[a].nt);
		LLVMValueRef k = be_add(f, be_mul(f, oi[a], ax[a].nt), t);
		LLVMValueRef i = LLVMBuildSExtOrBitCast(b, be_ld_t(f, f->i32, ax[a].idx, k), f->ity, "");
		off = be_add(f, off, be_mul(f, i, xst[a]));
		if (ax[a].w) {
			LLVMValueRef w = be_ld(f, ax[a].w, k);
			wprod = wprod ? LLVMBuildFMul(b, wprod, w, "") : w;
		}
	}
	if (n->in[0]->dt != IR_DT_F32) { /* integers, nearest: the one tap's element */
		LLVMTypeRef et = be_dt_type(f, n->in[0]->dt);
		LLVMValueRef e = be_ld_t(f, et, x, off);
		for (int a = r - 1; a >= 0; a--)
			if (!ax[a].identity)
				be_loop_end(f, &tl[a]);
		be_st_t(f, et, y, be_affine(f, 0, r, oi, yst), e);
		be_nest_end(f, &on);
		return 0;
	}
	LLVMValueRef v = be_ld(f, x, off);
	if (wprod)
		v = LLVMBuildFMul(b, wprod, v, "");
	LLVMBuildStore(b, be_fast(LLVMBuildFAdd(b, LLVMBuildLoad2(b, f->f32, acc, ""), v, "")), acc);
	for (int a = r - 1; a >= 0; a--)
		if (!ax[a].identity)
			be_loop_end(f, &tl[a]);
	if (outside)
		be_if_end(f, &guard);
	LLVMValueRef res = LLVMBuildLoad2(b, f->f32, acc, "");
	if (outside)
		res = LLVMBuildSelect(b, outside, be_cf(f, p.extrap), res, "");
	be_st(f, y, be_affine(f, 0, r, oi, yst), res);
	be_nest_end(f, &on);
	rc = 0;
out:
	return rc;
}
