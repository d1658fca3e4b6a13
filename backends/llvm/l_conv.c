/* l_conv.c: convolution (any groups, strides, pads, dilations, 1-D to 6-D
 * spatial).  Output positions along each spatial dim are split at compile
 * time into segments with the same in-bounds taps (be_segments), so every
 * segment is a loop nest with constant bounds and no bounds checks: the
 * interior runs the full kernel and each border position its clipped part.
 *   Y[b, m, o] = B[m] + sum_{c, k} X[b, grp*Cg + c, o*s - pb + k*dil] * W[m, c, k] */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lower.h"

#define NSP_MAX (IR_MAX_RANK - 2)

typedef struct win {
	int nsp;
	int64_t in[NSP_MAX], k[NSP_MAX], s[NSP_MAX], dil[NSP_MAX], pb[NSP_MAX], pe[NSP_MAX],
		out[NSP_MAX];
	be_seg *seg[NSP_MAX];
	int nseg[NSP_MAX];
} win;

static int ints_attr(const ir_node *n, const char *name, int nsp, int64_t *v)
{
	int cnt = 0;
	const int64_t *a = ir_attr_ints(n, name, &cnt);
	for (int i = 0; i < nsp; i++)
		v[i] = a && cnt == nsp ? a[i] : 1;
	return 0;
}

/* Window geometry of n from input shape xs, kernel k and output shape ys
 * (inference already validated everything). */
static int win_init(be_fn *f, const ir_node *n, const ir_shape *xs, const int64_t *k,
                    const ir_shape *ys, win *w)
{
	memset(w, 0, sizeof *w);
	w->nsp = xs->rank - 2;
	for (int i = 0; i < w->nsp; i++) {
		w->in[i] = xs->d[2 + i];
		w->k[i] = k[i];
		w->out[i] = ys->d[2 + i];
	}
	ints_attr(n, "strides", w->nsp, w->s);
	ints_attr(n, "dilations", w->nsp, w->dil);
	if (k_resolve_pads(f->g, n, w->nsp, w->in, w->k, w->s, w->dil, w->pb, w->pe, f->d))
		return -1;
	for (int i = 0; i < w->nsp; i++) {
		w->seg[i] = calloc((size_t)w->out[i] + 1, sizeof *w->seg[i]);
		if (!w->seg[i]) {
			diag_error(f->d, NULL, "out of memory");
			return -1;
		}
		w->nseg[i] = be_segments(w->in[i], w->k[i], w->s[i], w->dil[i], w->pb[i], w->pe[i],
		                         w->out[i], w->seg[i]);
	}
	return 0;
}

static void win_free(win *w)
{
	for (int i = 0; i < w->nsp; i++)
		free(w->seg[i]);
}

/* Advance the segment odometer; false after the last combination. */
static bool win_next(const win *w, int *si)
{
	for (int i = w->nsp - 1; i >= 0; i--) {
		if (++si[i] < w->nseg[i])
			return true;
		si[i] = 0;
	}
	return false;
}

int be_l_conv(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape, *ws = &n->in[1]->shape, *ys = &n->out[0]->shape;
	LLVMValueRef x = be_ptr(f, n->in[0]), wp = be_ptr(f, n->in[1]), y = be_ptr(f, n->out[0]);
	LLVMValueRef bias = n->nin > 2 && n->in[2] && ir_shape_numel(&n->in[2]->shape) > 0
	                            ? be_ptr(f, n->in[2])
	                            : NULL;
	win w;
	if (win_init(f, n, xs, ws->d + 2, ys, &w)) {
		win_free(&w);
		return -1;
	}
	int nsp = w.nsp;
	int64_t N = xs->d[0], C = xs->d[1], M = ys->d[1], G = ir_attr_int(n, "group", 1);
	int64_t cg = C / G, mg = M / G;
	int64_t in_sz = 1, k_sz = 1, out_sz = 1;
	int64_t istr[NSP_MAX], kstr[NSP_MAX], ostr[NSP_MAX];
	for (int i = nsp - 1; i >= 0; i--) {
		istr[i] = in_sz;
		kstr[i] = k_sz;
		ostr[i] = out_sz;
		in_sz *= w.in[i];
		k_sz *= w.k[i];
		out_sz *= w.out[i];
	}
	LLVMBuilderRef b = f->b;
	LLVMValueRef acc = be_slot(f);
	be_nest outer;
	int64_t odims[3] = {N, G, mg};
	LLVMValueRef ov[3]; /* b, grp, mm */
	be_nest_begin(f, &outer, 3, odims, ov);
	LLVMValueRef m = be_add(f, be_mul(f, ov[1], mg), ov[2]);
	LLVMValueRef bv = bias ? be_ld(f, bias, m) : be_cf(f, 0);
	int si[NSP_MAX] = {0};
	do {
		int64_t xbase = 0, wbase = 0, ybase = 0;
		int64_t segn[NSP_MAX], tapn[NSP_MAX];
		bool any_tap = true;
		for (int i = 0; i < nsp; i++) {
			const be_seg *sg = &w.seg[i][si[i]];
			segn[i] = sg->n;
			tapn[i] = sg->khi - sg->klo;
			any_tap = any_tap && tapn[i] > 0;
			xbase += (sg->o0 * w.s[i] - w.pb[i] + sg->klo * w.dil[i]) * istr[i];
			wbase += sg->klo * kstr[i];
			ybase += sg->o0 * ostr[i];
		}
		be_nest on;
		LLVMValueRef oi[NSP_MAX];
		be_nest_begin(f, &on, nsp, segn, oi);
		LLVMBuildStore(b, bv, acc);
		if (any_tap) {
			be_loop cl;
			LLVMValueRef c = be_loop_begin(f, &cl, cg);
			be_nest kn;
			LLVMValueRef ki[NSP_MAX];
			be_nest_begin(f, &kn, nsp, tapn, ki);
			/* x: (b*C + grp*cg + c)*in_sz + sum (o*s + k*dil) * istr */
			LLVMValueRef xv[3 + 2 * NSP_MAX], wv[2 + NSP_MAX];
			int64_t xs_[3 + 2 * NSP_MAX], ws_[2 + NSP_MAX];
			int nx = 0, nw = 0;
			xv[nx] = ov[0], xs_[nx++] = C * in_sz;
			xv[nx] = ov[1], xs_[nx++] = cg * in_sz;
			xv[nx] = c, xs_[nx++] = in_sz;
			wv[nw] = m, ws_[nw++] = cg * k_sz;
			wv[nw] = c, ws_[nw++] = k_sz;
			for (int i = 0; i < nsp; i++) {
				xv[nx] = oi[i], xs_[nx++] = w.s[i] * istr[i];
				xv[nx] = ki[i], xs_[nx++] = w.dil[i] * istr[i];
				wv[nw] = ki[i], ws_[nw++] = kstr[i];
			}
			LLVMValueRef xe = be_ld(f, x, be_affine(f, xbase, nx, xv, xs_));
			LLVMValueRef we = be_ld(f, wp, be_affine(f, wbase, nw, wv, ws_));
			LLVMValueRef prod = be_fast(LLVMBuildFMul(b, xe, we, ""));
			LLVMValueRef s = be_fast(LLVMBuildFAdd(b, LLVMBuildLoad2(b, f->f32, acc, ""), prod, ""));
			LLVMBuildStore(b, s, acc);
			be_nest_end(f, &kn);
			be_loop_end(f, &cl);
		}
		LLVMValueRef yv[2 + NSP_MAX];
		int64_t ys_[2 + NSP_MAX];
		int ny = 0;
		yv[ny] = ov[0], ys_[ny++] = M * out_sz;
		yv[ny] = m, ys_[ny++] = out_sz;
		for (int i = 0; i < nsp; i++)
			yv[ny] = oi[i], ys_[ny++] = ostr[i];
		be_st(f, y, be_affine(f, ybase, ny, yv, ys_), LLVMBuildLoad2(b, f->f32, acc, ""));
		be_nest_end(f, &on);
	} while (win_next(&w, si));
	be_nest_end(f, &outer);
	win_free(&w);
	return 0;
}

/* max_pool / avg_pool with the reference's rules: padding never wins a
 * max; an average divides by the taps inside the input, or with
 * count_include_pad by those inside the padded input; ceil_mode output
 * extents come from inference (ys). */
int be_l_pool(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape, *ys = &n->out[0]->shape;
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	int nsp = xs->rank - 2;
	int64_t k[NSP_MAX];
	int cnt = 0;
	const int64_t *ka = ir_attr_ints(n, "kernel", &cnt);
	for (int i = 0; i < nsp; i++)
		k[i] = ka && cnt == nsp ? ka[i] : 1;
	win w;
	if (win_init(f, n, xs, k, ys, &w)) {
		win_free(&w);
		return -1;
	}
	bool is_max = n->op == IR_OP_MAX_POOL;
	bool cip = ir_attr_int(n, "count_include_pad", 0) != 0;
	int64_t in_sz = 1, out_sz = 1, istr[NSP_MAX], ostr[NSP_MAX];
	for (int i = nsp - 1; i >= 0; i--) {
		istr[i] = in_sz;
		ostr[i] = out_sz;
		in_sz *= w.in[i];
		out_sz *= w.out[i];
	}
	LLVMBuilderRef b = f->b;
	LLVMValueRef acc = be_slot(f);
	be_loop bl;
	LLVMValueRef bc = be_loop_begin(f, &bl, xs->d[0] * xs->d[1]);
	int si[NSP_MAX] = {0};
	do {
		int64_t xbase = 0, ybase = 0, segn[NSP_MAX], tapn[NSP_MAX], n_in = 1, n_pad = 1;
		for (int i = 0; i < nsp; i++) {
			const be_seg *sg = &w.seg[i][si[i]];
			segn[i] = sg->n;
			tapn[i] = sg->khi - sg->klo;
			n_in *= tapn[i];
			n_pad *= sg->npad;
			xbase += (sg->o0 * w.s[i] - w.pb[i] + sg->klo * w.dil[i]) * istr[i];
			ybase += sg->o0 * ostr[i];
		}
		be_nest on;
		LLVMValueRef oi[NSP_MAX];
		be_nest_begin(f, &on, nsp, segn, oi);
		LLVMValueRef xv[1 + 2 * NSP_MAX];
		int64_t xst[1 + 2 * NSP_MAX];
		int nx = 0;
		xv[nx] = bc, xst[nx++] = in_sz;
		for (int i = 0; i < nsp; i++)
			xv[nx] = oi[i], xst[nx++] = w.s[i] * istr[i];
		LLVMValueRef res;
		if (n_in == 0) {
			res = be_cf(f, is_max ? -INFINITY : 0.0f);
		} else {
			if (is_max) /* the first tap inside starts the max, as in the reference */
				LLVMBuildStore(b, be_ld(f, x, be_affine(f, xbase, nx, xv, xst)), acc);
			else
				LLVMBuildStore(b, be_cf(f, 0), acc);
			be_nest kn;
			LLVMValueRef ki[NSP_MAX];
			be_nest_begin(f, &kn, nsp, tapn, ki);
			int nk = nx;
			for (int i = 0; i < nsp; i++)
				xv[nk] = ki[i], xst[nk++] = w.dil[i] * istr[i];
			LLVMValueRef v = be_ld(f, x, be_affine(f, xbase, nk, xv, xst));
			LLVMValueRef cur = LLVMBuildLoad2(b, f->f32, acc, "");
			LLVMValueRef r;
			if (is_max)
				r = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOGT, v, cur, ""), v, cur, "");
			else
				r = be_fast(LLVMBuildFAdd(b, cur, v, ""));
			LLVMBuildStore(b, r, acc);
			be_nest_end(f, &kn);
			res = LLVMBuildLoad2(b, f->f32, acc, "");
			int64_t div = cip ? n_pad : n_in;
			if (!is_max)
				res = div ? LLVMBuildFDiv(b, res, be_cf(f, (float)div), "") : be_cf(f, 0);
		}
		LLVMValueRef yv[1 + NSP_MAX];
		int64_t yst[1 + NSP_MAX];
		int ny = 0;
		yv[ny] = bc, yst[ny++] = out_sz;
		for (int i = 0; i < nsp; i++)
			yv[ny] = oi[i], yst[ny++] = ostr[i];
		be_st(f, y, be_affine(f, ybase, ny, yv, yst), res);
		be_nest_end(f, &on);
	} while (win_next(&w, si));
	be_loop_end(f, &bl);
	win_free(&w);
	return 0;
}

int be_l_global_pool(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape;
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	int64_t sp = 1;
	for (int i = 2; i < xs->rank; i++)
		sp *= xs->d[i];
	bool is_max = n->op == IR_OP_GLOBAL_MAX_POOL;
	LLVMBuilderRef b = f->b;
	LLVMValueRef acc = be_slot(f);
	be_loop bl, il;
	LLVMValueRef bc = be_loop_begin(f, &bl, xs->d[0] * xs->d[1]);
	LLVMValueRef base = be_mul(f, bc, sp);
	if (sp == 0) {
		be_st(f, y, bc, be_cf(f, is_max ? -INFINITY : 0.0f));
		be_loop_end(f, &bl);
		return 0;
	}
	LLVMBuildStore(b, is_max ? be_ld(f, x, base) : be_cf(f, 0), acc);
	LLVMValueRef i = be_loop_begin(f, &il, sp);
	LLVMValueRef v = be_ld(f, x, be_add(f, base, i));
	LLVMValueRef cur = LLVMBuildLoad2(b, f->f32, acc, "");
	LLVMValueRef r = is_max ? LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOGT, v, cur, ""), v, cur, "")
	                        : be_fast(LLVMBuildFAdd(b, cur, v, ""));
	LLVMBuildStore(b, r, acc);
	be_loop_end(f, &il);
	LLVMValueRef res = LLVMBuildLoad2(b, f->f32, acc, "");
	if (!is_max)
		res = LLVMBuildFDiv(b, res, be_cf(f, (float)sp), "");
	be_st(f, y, bc, res);
	be_loop_end(f, &bl);
	return 0;
}
