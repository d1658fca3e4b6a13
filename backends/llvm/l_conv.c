/* l_conv.c: convolution (any groups, strides, pads, dilations, 1-D to 6-D
 * spatial) and pooling.
 *   Y[b, m, o] = B[m] + sum_{c, k} X[b, grp*Cg + c, o*s - pb + k*dil] * W[m, c, k]
 *
 * 1-D and 2-D convs use a register-tiled kernel (conv_tiled): a tile of MB
 * output channels x NV vectors of output positions is held in registers
 * while the reduction over input channels and kernel taps runs; every tap
 * loads NV input vectors and broadcasts MB weights.  Vectors run along an
 * output row ("row mode"), or along the whole flattened output plane when
 * the input offset is affine in the flat position ("flat mode": 1x1
 * stride-1 convs, which become a GEMM, and stride-1 convs whose input and
 * output widths agree).  Padding is resolved at compile time: rows are
 * split into segments with the same in-bounds taps (be_segments), and
 * lanes whose tap falls outside the input are masked off with a constant
 * mask (llvm.masked.load), so there are no bounds checks at run time.
 * Higher ranks use conv_generic: each output position's segment runs the
 * clipped kernel with a scalar running sum. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lower.h"
#include "quant.h"

#define NSP_MAX (IR_MAX_RANK - 2)

typedef struct win {
	int nsp;
	int64_t in[NSP_MAX], k[NSP_MAX], s[NSP_MAX], dil[NSP_MAX], pb[NSP_MAX], pe[NSP_MAX],
		out[NSP_MAX];
	be_seg *seg[NSP_MAX];
	int nseg[NSP_MAX];
} win;

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
	be_ints_attr(n, "strides", w->nsp, w->s);
	be_ints_attr(n, "dilations", w->nsp, w->dil);
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

/* The general conv: a running sum per output element.  Used for 3-D and
 * higher spatial ranks, which the tiled kernel below does not cover. */
static int conv_generic(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape, *ws = &n->in[1]->shape, *ys = &n->out[0]->shape;
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
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
	LLVMValueRef bv = bias ? be_vld(f, n->in[2], bias, m) : be_cf(f, 0);
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
			/* W row m, column c*k_sz + taps (decoded when packed). */
			LLVMValueRef we = be_wld_rc(f, n->in[1], m, be_affine(f, wbase, nw - 1, wv + 1, ws_ + 1));
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

/* --------------------------------------------------------- vector shape */

static bool starts_with(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* +1 / -1 when features turns name on / off (the last mention wins), 0 when
 * it does not mention it. */
static int feature(const char *features, const char *name)
{
	int on = 0;
	size_t len = strlen(name);
	for (const char *p = features; (p = strstr(p, name)); p += len)
		if (p > features && (p[-1] == '+' || p[-1] == '-') && (p[len] == ',' || p[len] == 0) &&
		    (p - 1 == features || p[-2] == ','))
			on = p[-1] == '+' ? 1 : -1;
	return on;
}

static bool cpu_in(const char *cpu, const char *const *list)
{
	for (; *list; list++) {
		size_t len = strlen(*list);
		if ((*list)[len - 1] == '*' ? strncmp(cpu, *list, len - 1) == 0 : strcmp(cpu, *list) == 0)
			return true;
	}
	return false;
}

void be_vector_shape(const be_target *t, int *vl, int *nreg)
{
	static const char *const avx512[] = {"x86-64-v4", "skylake-avx512", "cascadelake", "cooperlake",
	                                     "cannonlake", "icelake*", "tigerlake", "rocketlake",
	                                     "sapphirerapids", "graniterapids*", "emeraldrapids",
	                                     "znver4", "znver5", "knl", "knm", NULL};
	static const char *const avx[] = {"x86-64-v3", "haswell", "broadwell", "skylake", "alderlake",
	                                  "raptorlake", "meteorlake", "arrowlake*", "lunarlake",
	                                  "gracemont", "znver1", "znver2", "znver3", "sandybridge",
	                                  "ivybridge", "bdver*", "btver2", NULL};
	*vl = 4;
	*nreg = 16;
	if (!t)
		return;
	const char *tr = t->triple, *cpu = t->cpu, *ft = t->features;
	if (starts_with(tr, "x86_64") || starts_with(tr, "i386") || starts_with(tr, "i686")) {
		int f512 = feature(ft, "avx512f"), f256 = feature(ft, "avx");
		bool w512 = f512 > 0 || (f512 == 0 && cpu_in(cpu, avx512));
		bool w256 = f256 > 0 || feature(ft, "avx2") > 0 || (f256 == 0 && cpu_in(cpu, avx));
		if (w512) {
			*vl = 16;
			*nreg = 32;
		} else if (w256 || cpu_in(cpu, avx512)) {
			*vl = 8;
		}
	} else if (starts_with(tr, "aarch64") || starts_with(tr, "arm64")) {
		*nreg = 32;
	} else if (starts_with(tr, "thumbv6m") || starts_with(tr, "thumbv7m") ||
	           starts_with(tr, "thumbv7em") || starts_with(tr, "thumbv8m")) {
		/* Scalar FPU: s0-s31 (fpv4-sp-d16 / fpv5-d16); soft float: core registers. */
		*vl = 1;
		*nreg = t->float_abi == BE_FLOAT_ABI_SOFT || strstr(ft, "soft-float") ? 8 : 32;
	} else if (starts_with(tr, "arm") || starts_with(tr, "thumb")) {
		*nreg = 16;
	}
}

int be_int_simd(const be_target *t)
{
	static const char *const no_avx2[] = {"sandybridge", "ivybridge", "btver2", "bdver1", NULL};
	/* Armv8.2+ cores with the dot product (SDOT) */
	static const char *const dot[] = {"cortex-a55", "cortex-a65*", "cortex-a75", "cortex-a76*", "cortex-a77",
	                                  "cortex-a78*", "cortex-a510", "cortex-a520", "cortex-a710", "cortex-a715",
	                                  "cortex-a720", "cortex-x*", "neoverse-*", "apple-*", "ampere1*", NULL};
	if (!t)
		return BE_ISIMD_NONE;
	const char *tr = t->triple;
	if (starts_with(tr, "aarch64") || starts_with(tr, "arm64"))
	{
		if (feature(t->features, "neon") < 0)
			return BE_ISIMD_NONE;
		int fd = feature(t->features, "dotprod");
		return fd > 0 || (fd == 0 && cpu_in(t->cpu, dot)) ? BE_ISIMD_NEON_DOT : BE_ISIMD_NEON;
	}
	if (!starts_with(tr, "x86_64"))
		return BE_ISIMD_NONE;
	int vl, nreg, f2 = feature(t->features, "avx2");
	be_vector_shape(t, &vl, &nreg);
	if (f2 > 0 || (f2 == 0 && vl >= 8 && !cpu_in(t->cpu, no_avx2)))
		return BE_ISIMD_AVX2;
	return feature(t->features, "sse2") < 0 ? BE_ISIMD_NONE : BE_ISIMD_SSE2;
}

int be_int_vnni(const be_target *t)
{
	static const char *const vnni[] = {"cascadelake", "cooperlake", "icelake*", "tigerlake", "rocketlake",
	                                   "sapphirerapids", "graniterapids*", "emeraldrapids", "alderlake",
	                                   "raptorlake", "meteorlake", "arrowlake*", "lunarlake", "gracemont",
	                                   "znver4", "znver5", NULL};
	if (!t || !starts_with(t->triple, "x86_64"))
		return 0;
	static const char *const avxvnni[] = {"alderlake", "raptorlake", "meteorlake", "arrowlake*", "lunarlake",
	                                      "gracemont", NULL};
	int f512 = feature(t->features, "avx512vnni"), fvl = feature(t->features, "avx512vl");
	int favx = feature(t->features, "avxvnni");
	if (f512 > 0 && fvl > 0)
		return 1;
	if (favx > 0)
		return 2;
	if (f512 == 0 && favx == 0 && cpu_in(t->cpu, vnni))
		return cpu_in(t->cpu, avxvnni) ? 2 : 1;
	return 0;
}

/* ------------------------------------------------------ the tiled conv */

typedef struct ck {
	be_fn *f;
	LLVMTypeRef vt;    /* <vl x float>, or float when vl == 1 */
	int vl;
	bool flat;         /* vectors over the flattened output plane */
	int64_t N, C, IH, IW, M, OH, OW, KH, KW, sh, sw, dh, dw, ph, pw, G, cg, mg;
	int64_t len;       /* positions along a vector line: OW (row mode) or OH*OW */
	LLVMValueRef x, bias, y;
	const ir_value *wv; /* the weights, loaded through be_wld_rc */
	LLVMValueRef wdec;  /* or decoded per block of output channels (ck_decode) */
	const ir_value *biasv; /* the bias (be_vld), or NULL */
	/* Fused epilogue: batchnorm (mean, scale, bias, var, eps), then relu or
	 * clip (ReLU6) to [lo, hi] (act). */
	LLVMValueRef bn[4];
	float eps;
	bool act;
	float lo, hi;
} ck;

/* Fuse conv -> [batchnorm] -> [relu or clip] when each step's output has one use
 * and shares the conv output's storage (the planner made it in place):
 * the tile's stores apply them, and the fused nodes are skipped.  Returns
 * the value the tile writes (the last fused output).  With k NULL it only
 * says what would be fused (be_conv_layout), emitting and marking nothing:
 * *bnp whether a batchnorm would be. */
static const ir_value *ck_fuse_at(be_fn *f, const ir_node *n, ck *k, bool *bnp)
{
	const ir_value *v = n->out[0];
	if (bnp)
		*bnp = false;
	if (!f->fused)
		return v;
	int64_t M = n->out[0]->shape.rank >= 2 ? n->out[0]->shape.d[1] : 0;
	const ir_node *u = ir_value_sole_user(f->g, v);
	if (u && u->op == IR_OP_BATCHNORM && u->nin >= 5 && u->in[0] == v && u->nout >= 1 &&
	    u->out[0] && be_same_storage(f, v, u->out[0]) && u->id >= 0 && u->id < f->g->nnodes) {
		bool ok = true;
		for (int j = 1; j < 5; j++)
			ok = ok && u->in[j] && ir_shape_numel(&u->in[j]->shape) == M;
		for (int j = 1; j < u->nout; j++)
			ok = ok && (!u->out[j] || ir_value_use_count(f->g, u->out[j]) == 0);
		if (ok) {
			if (bnp)
				*bnp = true;
			if (k) {
				k->bn[0] = be_ptr(f, u->in[3]); /* mean */
				k->bn[1] = be_ptr(f, u->in[1]); /* scale */
				k->bn[2] = be_ptr(f, u->in[2]); /* bias */
				k->bn[3] = be_ptr(f, u->in[4]); /* var */
				k->eps = ir_attr_float(u, "epsilon", 1e-5f);
				f->fused[u->id] = true;
			}
			v = u->out[0];
			u = ir_value_sole_user(f->g, v);
		} else {
			u = NULL;
		}
	}
	float lo = -INFINITY, hi = INFINITY;
	bool act = u && u->op == IR_OP_RELU;
	if (act)
		lo = 0;
	else if (u && u->op == IR_OP_CLIP)
		act = be_const_scalar(u, 1, -INFINITY, &lo) && be_const_scalar(u, 2, INFINITY, &hi);
	if (act && u->nout >= 1 && u->out[0] && be_same_storage(f, v, u->out[0]) && u->id >= 0 &&
	    u->id < f->g->nnodes) {
		if (k) {
			k->act = true;
			k->lo = lo;
			k->hi = hi;
			f->fused[u->id] = true;
		}
		v = u->out[0];
	}
	return v;
}

static const ir_value *ck_fuse(be_fn *f, const ir_node *n, ck *k)
{
	return ck_fuse_at(f, n, k, NULL);
}

/* One vector of a block: its first position along the line (a constant;
 * a block in a run adds the run's offset at run time). */
typedef struct ck_block {
	int nv;
	int64_t pos[16];
	int64_t step;      /* > 0: repeat the block nrep times, pos += step */
	int64_t nrep;
} ck_block;

/* Is lane l of the vector at pos valid for tap (kh, kw)?  Row mode
 * checks the column only (the row segment guarantees kh); flat mode both. */
static bool ck_lane_ok(const ck *k, int64_t pos, int l, int64_t kh, int64_t kw)
{
	int64_t q = pos + l;
	if (q >= k->len)
		return false;
	if (!k->flat) {
		int64_t ic = q * k->sw + kw * k->dw - k->pw;
		return ic >= 0 && ic < k->IW;
	}
	int64_t ih = q / k->OW + kh * k->dh - k->ph, iw = q % k->OW + kw * k->dw - k->pw;
	return ih >= 0 && ih < k->IH && iw >= 0 && iw < k->IW;
}

static bool ck_vec_full(const ck *k, int64_t pos, int64_t khlo, int64_t khhi)
{
	for (int64_t kh = khlo; kh < khhi; kh++)
		for (int64_t kw = 0; kw < k->KW; kw++)
			for (int l = 0; l < k->vl; l++)
				if (!ck_lane_ok(k, pos, l, kh, kw))
					return false;
	return true;
}

static LLVMValueRef ck_mask(be_fn *f, const bool *ok, int n)
{
	LLVMValueRef c[64];
	for (int i = 0; i < n; i++)
		c[i] = LLVMConstInt(f->i1, ok[i], 0);
	return LLVMConstVector(c, (unsigned)n);
}

static LLVMValueRef ck_masked_load(be_fn *f, LLVMTypeRef vt, LLVMValueRef p, LLVMValueRef mask)
{
	LLVMTypeRef ov[2] = {vt, f->ptr};
	LLVMValueRef a[4] = {p, LLVMConstInt(f->i32, 4, 0), mask, LLVMConstNull(vt)};
	return be_intr(f, "llvm.masked.load", ov, 2, a, 4);
}

static void ck_masked_store(be_fn *f, LLVMValueRef v, LLVMValueRef p, LLVMValueRef mask)
{
	LLVMTypeRef ov[2] = {LLVMTypeOf(v), f->ptr};
	LLVMValueRef a[4] = {v, p, LLVMConstInt(f->i32, 4, 0), mask};
	be_intr(f, "llvm.masked.store", ov, 2, a, 4);
}

/* A vector of vt at p: its lanes where ok (n of them), 0 elsewhere; a
 * plain load when all are. */
static LLVMValueRef ck_load_ok(be_fn *f, LLVMTypeRef vt, LLVMValueRef p, const bool *ok, int n, bool all)
{
	if (!all)
		return ck_masked_load(f, vt, p, ck_mask(f, ok, n));
	LLVMValueRef l = LLVMBuildLoad2(f->b, vt, p, "");
	LLVMSetAlignment(l, 4);
	return l;
}

/* Address p + idx floats, without inbounds: a masked vector may start
 * before the tensor (its first lanes masked off). */
static LLVMValueRef ck_addr(be_fn *f, LLVMValueRef p, LLVMValueRef idx)
{
	return LLVMBuildGEP2(f->b, f->f32, p, &idx, 1, "");
}

static LLVMValueRef ck_splat(const ck *k, LLVMValueRef s)
{
	be_fn *f = k->f;
	if (k->vl == 1)
		return s;
	LLVMValueRef v = LLVMBuildInsertElement(f->b, LLVMGetPoison(k->vt), s, LLVMConstInt(f->i32, 0, 0), "");
	LLVMValueRef z = LLVMConstNull(LLVMVectorType(f->i32, (unsigned)k->vl));
	return LLVMBuildShuffleVector(f->b, v, LLVMGetPoison(k->vt), z, "");
}

/* The fused relu or clip, as be_l_unary computes them (NaN stays NaN). */
static LLVMValueRef ck_act(const ck *k, LLVMValueRef v)
{
	be_fn *f = k->f;
	LLVMBuilderRef b = f->b;
	if (!k->act)
		return v;
	if (k->lo != -INFINITY) {
		LLVMValueRef lo = ck_splat(k, be_cf(f, k->lo));
		v = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLT, v, lo, ""), lo, v, "");
	}
	if (k->hi != INFINITY) {
		LLVMValueRef hi = ck_splat(k, be_cf(f, k->hi));
		v = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLT, hi, v, ""), hi, v, "");
	}
	return v;
}

/* The input vector for tap (kh, kw) of the vector at pos (+ run offset rt,
 * a full vector then) with xrow the index of the current channel's row
 * origin; NULL when no lane is valid. */
static LLVMValueRef ck_load(const ck *k, LLVMValueRef xrow, LLVMValueRef rt, int64_t pos, int64_t kh,
                            int64_t kw)
{
	be_fn *f = k->f;
	int vl = k->vl;
	bool ok[16], all = true, any = false;
	for (int l = 0; l < vl; l++) {
		ok[l] = ck_lane_ok(k, pos, l, kh, kw);
		all = all && ok[l];
		any = any || ok[l];
	}
	if (!any)
		return NULL;
	int64_t s = k->flat ? 1 : k->sw;
	int64_t off = (kh * k->dh - k->ph) * k->IW + pos * s + kw * k->dw - k->pw;
	LLVMValueRef idx = be_add(f, xrow, be_ci(f, off));
	if (rt)
		idx = be_add(f, idx, be_mul(f, rt, s));
	if (vl == 1)
		return be_ld(f, k->x, idx);
	LLVMValueRef p = ck_addr(f, k->x, idx);
	if (s == 1)
		return ck_load_ok(f, k->vt, p, ok, vl, all);
	/* Strided lanes: a masked load of the span, then every s-th element. */
	int span = (int)(vl * s);
	bool sok[64];
	LLVMValueRef sel[16];
	for (int i = 0; i < span; i++)
		sok[i] = i % s == 0 && ok[i / s];
	for (int l = 0; l < vl; l++)
		sel[l] = LLVMConstInt(f->i32, (unsigned long long)(l * s), 0);
	LLVMTypeRef st = LLVMVectorType(f->f32, (unsigned)span);
	LLVMValueRef wide = ck_masked_load(f, st, p, ck_mask(f, sok, span));
	return LLVMBuildShuffleVector(f->b, wide, LLVMGetPoison(st), LLVMConstVector(sel, (unsigned)vl), "");
}

/* Strided row mode shares one load per kernel row among its taps: the
 * window of input columns a vector's taps span, s (vl - 1) + (KW - 1) dw
 * + 1 of them, loaded once (masked to the row: padding reads 0), each tap
 * then one shuffle of it.  ck_load's per-tap way loads s vl columns and
 * shuffles for every tap: twice the loads at stride 2 and 3x3. */
static bool ck_window_ok(const ck *k)
{
	return !k->flat && k->vl > 1 && k->sw > 1 && k->KW > 1 &&
	       k->sw * (k->vl - 1) + (k->KW - 1) * k->dw + 1 <= 4 * k->vl;
}

static LLVMValueRef ck_window(const ck *k, LLVMValueRef xrow, LLVMValueRef rt, int64_t pos, int64_t kh)
{
	be_fn *f = k->f;
	int vl = k->vl;
	int64_t span = k->sw * (vl - 1) + (k->KW - 1) * k->dw + 1;
	int n = vl;
	while (n < span)
		n *= 2;
	bool ok[64], any = false;
	for (int e = 0; e < n; e++) {
		int64_t ic = pos * k->sw - k->pw + e;
		ok[e] = e < span && ic >= 0 && ic < k->IW;
		any = any || ok[e];
	}
	if (!any)
		return NULL;
	LLVMValueRef idx = be_add(f, xrow, be_ci(f, (kh * k->dh - k->ph) * k->IW + pos * k->sw - k->pw));
	if (rt)
		idx = be_add(f, idx, be_mul(f, rt, k->sw));
	return ck_masked_load(f, LLVMVectorType(f->f32, (unsigned)n), ck_addr(f, k->x, idx), ck_mask(f, ok, n));
}

/* Tap kw's input vector from the window (NULL when no lane is valid). */
static LLVMValueRef ck_tap(const ck *k, LLVMValueRef win, int64_t pos, int64_t kw)
{
	be_fn *f = k->f;
	bool any = false;
	for (int l = 0; l < k->vl; l++)
		any = any || ck_lane_ok(k, pos, l, 0, kw);
	if (!any || !win)
		return NULL;
	LLVMValueRef sel[16];
	for (int l = 0; l < k->vl; l++)
		sel[l] = LLVMConstInt(f->i32, (unsigned long long)(l * k->sw + kw * k->dw), 0);
	return LLVMBuildShuffleVector(f->b, win, LLVMGetPoison(LLVMTypeOf(win)), LLVMConstVector(sel, (unsigned)k->vl),
	                              "");
}

/* Depthwise convs at stride 1 in row mode on AVX-512 (vl 16) slide along
 * the row: a kernel row's input for a run of consecutive vectors is
 * loaded once, as vl-element pieces U[0..] from the run's leftmost tap on
 * (one piece more than the vectors while the KW - 1 dilated taps span
 * under vl), and the tap at offset o of vector j is U[j + o / vl] and
 * U[j + o / vl + 1] shifted by o % vl lanes (VALIGND).  Per vector and
 * kernel row that is one load where ck_load makes KW, all but one of them
 * straddling cache lines: the loads bound these layers (a 48x48 plane of
 * VWW ran at 58% of the FMA peak; 5.1 -> 4.0 us).  Pieces outside the
 * row read 0.  Flat mode is not served: its taps that wrap round a row
 * end need masked multiply-adds, and its runs of up to 8 vectors' pieces
 * spilled (24x24 planes got slower). */
static bool ck_slide_ok(const ck *k)
{
	return k->vl == 16 && k->KW > 1 && k->cg == 1 && k->mg == 1 && !k->flat && k->sw == 1 &&
	       (k->KW - 1) * k->dw < 2 * k->vl;
}

/* Piece [st, st + vl) of kernel row kh's input row, as <vl x i32>: its
 * first `need` elements (those the run's taps read: the rest could lie
 * past the tensor), less those outside the row; zeros when none is left. */
static LLVMValueRef ck_slide_load(const ck *k, LLVMValueRef xrow, LLVMValueRef rt, int64_t st, int64_t kh,
                                  int64_t need)
{
	be_fn *f = k->f;
	int vl = k->vl;
	bool ok[16], all = true, any = false;
	for (int e = 0; e < vl; e++) {
		/* a repeated block's vectors (rt) are full: their taps are in the row */
		ok[e] = e < need && (rt || (st + e >= 0 && st + e < k->IW));
		all = all && ok[e];
		any = any || ok[e];
	}
	LLVMTypeRef it = LLVMVectorType(f->i32, (unsigned)vl);
	if (!any)
		return LLVMConstNull(it);
	LLVMValueRef idx = be_add(f, xrow, be_ci(f, (kh * k->dh - k->ph) * k->IW + st));
	if (rt)
		idx = be_add(f, idx, rt);
	return LLVMBuildBitCast(f->b, ck_load_ok(f, k->vt, ck_addr(f, k->x, idx), ok, vl, all), it, "");
}

/* Tap kw of the vector at pos from its pieces u (u[0] starts at the
 * vector's leftmost tap); NULL when no lane is valid. */
static LLVMValueRef ck_slide_tap(const ck *k, LLVMValueRef *u, int64_t pos, int64_t kw)
{
	be_fn *f = k->f;
	int vl = k->vl;
	bool any = false;
	for (int l = 0; l < vl; l++)
		any = any || ck_lane_ok(k, pos, l, 0, kw);
	if (!any)
		return NULL;
	int64_t o = kw * k->dw, q = o / vl, sh = o % vl;
	LLVMValueRef v = u[q];
	if (sh) {
		/* VALIGND itself: as a shufflevector, LLVM's combines turn it
		 * into a two-table VPERMT2PS (an index register, and a copy of
		 * the source it overwrites) */
		char text[48];
		snprintf(text, sizeof text, "valignd $$%d, $1, $2, $0", (int)sh);
		LLVMTypeRef it = LLVMTypeOf(u[q]), pt[2] = {it, it};
		LLVMTypeRef fty = LLVMFunctionType(it, pt, 2, 0);
		static const char cons[] = "=v,v,v";
		LLVMValueRef ia = LLVMGetInlineAsm(fty, text, strlen(text), (char *)cons, sizeof cons - 1, 0, 0,
		                                   LLVMInlineAsmDialectATT, 0);
		LLVMValueRef args[2] = {u[q], u[q + 1]};
		v = LLVMBuildCall2(f->b, fty, ia, args, 2, "");
	}
	return LLVMBuildBitCast(f->b, v, k->vt, "");
}

/* One block: MB output channels from m (index value, within the batch's
 * channel space) x the block's vectors; rows oh (row mode) with taps
 * [khlo, khhi); xbase indexes channel g*cg of batch b, ybase the output row
 * (row mode) or plane of channel m. */
static void ck_block_emit(const ck *k, const ck_block *bk, int mb, LLVMValueRef m,
                          LLVMValueRef xbase, LLVMValueRef ybase, int64_t khlo, int64_t khhi,
                          LLVMValueRef *acc)
{
	be_fn *f = k->f;
	LLVMBuilderRef b = f->b;
	be_loop rl;
	LLVMValueRef rt = NULL;
	if (bk->step > 0) {
		LLVMValueRef t = be_loop_begin(f, &rl, bk->nrep);
		rt = be_mul(f, t, bk->step);
		if (LLVMIsAConstantInt(rt) && LLVMConstIntGetSExtValue(rt) == 0)
			rt = NULL;
	}
	for (int i = 0; i < mb; i++) {
		LLVMValueRef bv = k->bias ? be_vld(f, k->biasv, k->bias, be_add(f, m, be_ci(f, i))) : be_cf(f, 0);
		LLVMValueRef sv = ck_splat(k, bv);
		for (int j = 0; j < bk->nv; j++)
			LLVMBuildStore(b, sv, acc[i * 16 + j]);
	}
	int64_t ksz = k->KH * k->KW, plane = k->IH * k->IW;
	/* Few chains (a depthwise conv's block of one or two vectors): the
	 * taps go round-robin into S partial sums, so that the multiply-adds
	 * are not one dependent chain (9 x 4 cycles on a 3x3 plane). */
	int chains = mb * bk->nv, S = 1;
	LLVMValueRef part[4][12 * 16];
	if (k->cg == 1 && chains < 4 && k->vl > 1) {
		S = (4 + chains - 1) / chains;
		if (S > ksz)
			S = (int)ksz;
		if (S > 4)
			S = 4;
	}
	for (int q = 1; q < S; q++)
		for (int i = 0; i < mb; i++)
			for (int j = 0; j < bk->nv; j++) {
				part[q][i * 16 + j] = be_entry_alloca(f, k->vt, "pacc");
				LLVMBuildStore(b, ck_splat(k, be_cf(f, 0)), part[q][i * 16 + j]);
			}
	int tap = 0;
	be_loop cl;
	LLVMValueRef c = be_loop_begin(f, &cl, k->cg);
	LLVMValueRef xrow = be_add(f, xbase, be_mul(f, c, plane));
	LLVMValueRef wcol = be_mul(f, c, ksz); /* W [M, cg, KH, KW]: row m + i */
	bool slide = ck_slide_ok(k), wide = !slide && ck_window_ok(k);
	/* slide: runs of consecutive vectors (an overlapping last vector
	 * starts its own), each with extra pieces more than its vectors */
	int64_t extra = ((k->KW - 1) * k->dw + k->vl - 1) / k->vl;
	int ubase[16], rlen[16]; /* rlen: at a run's first vector, its vectors */
	for (int j = 0, nu = 0, r0 = 0; slide && j < bk->nv; j++) {
		if (j > 0 && bk->pos[j] == bk->pos[j - 1] + k->vl) {
			ubase[j] = ubase[j - 1] + 1;
			rlen[r0]++;
		} else {
			ubase[j] = nu, nu += (int)extra; /* a new run */
			r0 = j;
			rlen[j] = 1;
		}
		nu++;
	}
	for (int64_t kh = khlo; kh < khhi; kh++) {
		LLVMValueRef win[16], U[64];
		for (int j = 0; wide && j < bk->nv; j++)
			win[j] = ck_window(k, xrow, rt, bk->pos[j], kh);
		for (int j = 0; slide && j < bk->nv; j += rlen[j]) {
			/* the run's pieces: its taps read need elements from its first */
			int64_t need = rlen[j] * k->vl + (k->KW - 1) * k->dw;
			for (int64_t e = 0; e < rlen[j] + extra; e++)
				U[ubase[j] + e] = ck_slide_load(k, xrow, rt, bk->pos[j] - k->pw + e * k->vl, kh, need - e * k->vl);
		}
		for (int64_t kw = 0; kw < k->KW; kw++) {
			LLVMValueRef xv[16];
			bool any = false;
			for (int j = 0; j < bk->nv; j++) {
				xv[j] = slide ? ck_slide_tap(k, &U[ubase[j]], bk->pos[j], kw)
				        : wide ? ck_tap(k, win[j], bk->pos[j], kw)
				               : ck_load(k, xrow, rt, bk->pos[j], kh, kw);
				any = any || xv[j];
			}
			if (!any)
				continue;
			int q = tap++ % S;
			for (int i = 0; i < mb; i++) {
				LLVMValueRef we = k->wdec ? be_ld(f, k->wdec, be_add(f, wcol, be_ci(f, i * k->cg * ksz + kh * k->KW + kw)))
				                          : be_wld_rc(f, k->wv, be_add(f, m, be_ci(f, i)),
				                                      be_add(f, wcol, be_ci(f, kh * k->KW + kw)));
				LLVMValueRef wv = ck_splat(k, we);
				for (int j = 0; j < bk->nv; j++) {
					if (!xv[j])
						continue;
					LLVMValueRef ap = q ? part[q][i * 16 + j] : acc[i * 16 + j];
					LLVMValueRef a = LLVMBuildLoad2(b, k->vt, ap, "");
					LLVMValueRef pr = be_fast(LLVMBuildFMul(b, wv, xv[j], ""));
					LLVMBuildStore(b, be_fast(LLVMBuildFAdd(b, a, pr, "")), ap);
				}
			}
		}
	}
	be_loop_end(f, &cl);
	for (int q = 1; q < S; q++)
		for (int i = 0; i < mb; i++)
			for (int j = 0; j < bk->nv; j++) {
				LLVMValueRef a = LLVMBuildLoad2(b, k->vt, acc[i * 16 + j], "");
				LLVMValueRef pq = LLVMBuildLoad2(b, k->vt, part[q][i * 16 + j], "");
				LLVMBuildStore(b, LLVMBuildFAdd(b, a, pq, ""), acc[i * 16 + j]);
			}
	int64_t ystride = k->OH * k->OW; /* per output channel */
	for (int i = 0; i < mb; i++) {
		LLVMValueRef bm = NULL, bs = NULL, bb = NULL, den = NULL;
		if (k->bn[0]) { /* as be_l_batchnorm: ((v - mean) / sqrt(var + eps)) * scale + bias */
			LLVMValueRef mi = be_add(f, m, be_ci(f, i));
			den = be_sqrt(f, LLVMBuildFAdd(b, be_ld(f, k->bn[3], mi), be_cf(f, k->eps), ""));
			den = ck_splat(k, den);
			bm = ck_splat(k, be_ld(f, k->bn[0], mi));
			bs = ck_splat(k, be_ld(f, k->bn[1], mi));
			bb = ck_splat(k, be_ld(f, k->bn[2], mi));
		}
		for (int j = 0; j < bk->nv; j++) {
			LLVMValueRef v = LLVMBuildLoad2(b, k->vt, acc[i * 16 + j], "");
			if (k->bn[0]) {
				v = LLVMBuildFSub(b, v, bm, "");
				v = LLVMBuildFAdd(b, LLVMBuildFMul(b, LLVMBuildFDiv(b, v, den, ""), bs, ""), bb, "");
			}
			v = ck_act(k, v);
			LLVMValueRef idx = be_add(f, ybase, be_ci(f, i * ystride + bk->pos[j]));
			if (rt)
				idx = be_add(f, idx, rt);
			int nok = (int)(k->len - bk->pos[j]);
			if (k->vl == 1 || nok >= k->vl) {
				if (k->vl == 1) {
					be_st(f, k->y, idx, v);
				} else {
					LLVMValueRef s = LLVMBuildStore(b, v, ck_addr(f, k->y, idx));
					LLVMSetAlignment(s, 4);
				}
			} else {
				bool ok[16];
				for (int l = 0; l < k->vl; l++)
					ok[l] = l < nok;
				ck_masked_store(f, v, ck_addr(f, k->y, idx), ck_mask(f, ok, k->vl));
			}
		}
	}
	if (bk->step > 0)
		be_loop_end(f, &rl);
}

/* Split a line of vectors at positions pos[0..nvec) (uniform spacing vl but
 * for an overlapping last one) into blocks of at most nv vectors: edge
 * vectors with masks in blocks of their own, the regular full ones in
 * between as one repeated block plus a remainder. */
static int ck_plan(const ck *k, int nv, int64_t khlo, int64_t khhi, ck_block *out)
{
	int64_t nvec = k->len <= k->vl ? 1 : (k->len + k->vl - 1) / k->vl;
	int64_t pos[4096];
	if (nvec > 4096)
		return -1;
	for (int64_t i = 0; i < nvec; i++)
		pos[i] = i * k->vl;
	if (nvec > 1 && k->len % k->vl)
		pos[nvec - 1] = k->len - k->vl;
	int64_t a = 0, z = 0;
	while (a < nvec && !ck_vec_full(k, pos[a], khlo, khhi))
		a++;
	while (z < nvec - a && (!ck_vec_full(k, pos[nvec - 1 - z], khlo, khhi) ||
	                        pos[nvec - 1 - z] != (nvec - 1 - z) * k->vl))
		z++;
	int64_t hs = (a + nv - 1) / nv * nv, ts = (z + nv - 1) / nv * nv;
	int nb = 0;
	bool regular = hs + ts < nvec;
	for (int64_t i = hs; regular && i < nvec - ts; i++)
		regular = pos[i] == i * k->vl && ck_vec_full(k, pos[i], khlo, khhi);
	if (nvec <= 2 * nv || !regular) { /* small, or masks inside: chunk evenly */
		int64_t nch = (nvec + nv - 1) / nv;
		for (int64_t ch = 0, i = 0; ch < nch; ch++) {
			int64_t cnt = (nvec - i) / (nch - ch);
			ck_block *bk = &out[nb++];
			memset(bk, 0, sizeof *bk);
			for (int64_t j = 0; j < cnt; j++)
				bk->pos[bk->nv++] = pos[i++];
		}
		return nb;
	}
	for (int64_t i = 0; i < hs; i += nv) {
		ck_block *bk = &out[nb++];
		memset(bk, 0, sizeof *bk);
		for (int64_t j = i; j < i + nv; j++)
			bk->pos[bk->nv++] = pos[j];
	}
	int64_t mid = nvec - hs - ts, reps = mid / nv, rem = mid % nv;
	if (reps > 0) {
		ck_block *bk = &out[nb++];
		memset(bk, 0, sizeof *bk);
		for (int j = 0; j < nv; j++)
			bk->pos[bk->nv++] = pos[hs + j];
		bk->step = reps > 1 ? nv * k->vl : 0;
		bk->nrep = reps;
	}
	if (rem > 0) {
		ck_block *bk = &out[nb++];
		memset(bk, 0, sizeof *bk);
		for (int64_t j = 0; j < rem; j++)
			bk->pos[bk->nv++] = pos[hs + reps * nv + j];
	}
	for (int64_t i = nvec - ts; i < nvec; i += nv) {
		ck_block *bk = &out[nb++];
		memset(bk, 0, sizeof *bk);
		for (int64_t j = i; j < i + nv; j++)
			bk->pos[bk->nv++] = pos[j];
	}
	return nb;
}

/* Tile sizes: MB output channels x NV vectors with MB*NV accumulators and
 * NV input vectors in registers, most multiply-adds per load. */
static void ck_tile(const ck *k, int nreg, int64_t nvec, int *mbo, int *nvo)
{
	int budget = nreg - 4 > 4 ? nreg - 4 : 4;
	double best = -1;
	*mbo = *nvo = 1;
	for (int nv = 1; nv <= 8 && nv <= nvec; nv++)
		for (int mb = 1; mb <= 12 && mb <= k->mg; mb++) {
			if (mb * nv + nv > budget)
				continue;
			double sc = (double)mb * nv / (mb + nv);
			if (k->mg % mb)
				sc *= 0.85;
			if (nvec % nv && nvec > nv)
				sc *= 0.95;
			if (sc > best + 1e-9) {
				best = sc;
				*mbo = mb;
				*nvo = nv;
			}
		}
}

/* An f32 constant's data when v is one stored plainly (not packed, not
 * fp16), else NULL. */
static const float *plain_f32(be_fn *f, const ir_value *v)
{
	if (!v || v->kind != IR_VAL_CONST || v->dt != IR_DT_F32 || !v->data || be_qw_packed(f, v) ||
	    (f->cst && f->cst[v->id].dt != PASS_BIAS_F32))
		return NULL;
	return v->data;
}

/* k's bias as a table of M floats (zeros without one) for vector loads
 * along the channels, bd its plain data; NULL reported. */
static LLVMValueRef ck_bias_table(const ck *k, const float *bd)
{
	float *bt = calloc((size_t)k->M, sizeof *bt);
	LLVMValueRef t = NULL;
	if (bt) {
		for (int64_t m = 0; bd && m < k->M; m++)
			bt[m] = bd[m];
		t = be_table_f32(k->f, bt, k->M);
		free(bt);
	}
	if (!t)
		diag_error(k->f->d, NULL, "out of memory");
	return t;
}

/* Weights wd [M][C][taps] as a table [C][taps][M], for vector loads of
 * consecutive output channels; NULL reported. */
static LLVMValueRef ck_wtab(be_fn *f, const float *wd, int64_t C, int64_t taps, int64_t M)
{
	LLVMValueRef t = NULL;
	float *wt = malloc(sizeof *wt * (size_t)(C * taps * M));
	if (wt) {
		for (int64_t m = 0; m < M; m++)
			for (int64_t c = 0; c < C; c++)
				for (int64_t q = 0; q < taps; q++)
					wt[(c * taps + q) * M + m] = wd[(m * C + c) * taps + q];
		t = be_table_f32(f, wt, C * taps * M);
		free(wt);
	}
	if (!t)
		diag_error(f->d, NULL, "out of memory");
	return t;
}

/* Transpose n <= vl vectors (rows: lane j of r[i] is element (i, j)) so
 * that r[j] holds column j, for j < vl: log2(vl) stages of two-source
 * shuffles, each swapping the off-diagonal blocks of size s. */
static void transpose_vl(be_fn *f, LLVMTypeRef vt, int vl, int n, LLVMValueRef *r)
{
	for (int i = n; i < vl; i++)
		r[i] = LLVMGetPoison(vt);
	for (int s = vl / 2; s >= 1; s /= 2) {
		LLVMValueRef lo[16], hi[16];
		for (int l = 0; l < vl; l++) {
			bool up = l & s; /* the lane's half of the block pair */
			lo[l] = LLVMConstInt(f->i32, (unsigned long long)(up ? vl + l - s : l), 0);
			hi[l] = LLVMConstInt(f->i32, (unsigned long long)(up ? vl + l : l + s), 0);
		}
		LLVMValueRef ml = LLVMConstVector(lo, (unsigned)vl), mh = LLVMConstVector(hi, (unsigned)vl);
		for (int i = 0; i < vl; i++) {
			if (i & s)
				continue;
			LLVMValueRef a = r[i], b = r[i + s];
			r[i] = LLVMBuildShuffleVector(f->b, a, b, ml, "");
			r[i + s] = LLVMBuildShuffleVector(f->b, a, b, mh, "");
		}
	}
}

/* Channel mode's state: the transposed weights and bias, the tile's
 * accumulators, the batch's input and output bases, m0 the first channel
 * of the vector. */
typedef struct cm {
	ck *k;
	bool line;
	int64_t taps, plane, P, len;
	LLVMValueRef wtab, acc[16], xb, yb, m0, bias;
} cm;

/* One tile: rr output rows from oh (line: the plane as one row), pixels
 * p0 .. p0 + pbrow of each, rr * pbrow <= vl; taps kh in [khlo, khhi). */
static void cm_tile(const cm *t, LLVMValueRef oh, int rr, int64_t p0, int pbrow, int64_t khlo, int64_t khhi,
                    bool whole)
{
	ck *k = t->k;
	be_fn *f = k->f;
	LLVMBuilderRef b = f->b;
	int vl = k->vl, pb = rr * pbrow;
	for (int i = 0; i < pb; i++)
		LLVMBuildStore(b, t->bias, t->acc[i]);
	be_loop cl;
	LLVMValueRef c = be_loop_begin(f, &cl, k->C);
	LLVMValueRef xc = be_add(f, t->xb, be_mul(f, c, t->plane));
	for (int64_t kh = khlo; kh < khhi; kh++) {
		LLVMValueRef xr[16]; /* per tile row: its input row of tap row kh (line: the plane) */
		for (int r = 0; r < rr; r++)
			xr[r] = t->line ? xc
			                : be_add(f, xc, be_mul(f, be_add(f, be_mul(f, oh, k->sh), be_ci(f, r * k->sh + kh * k->dh - k->ph)),
			                                       k->IW));
		for (int64_t kw = 0; kw < k->KW; kw++) {
			LLVMValueRef wv = NULL;
			for (int i = 0; i < pb; i++) {
				int64_t col = p0 + i % pbrow;
				int64_t iw = t->line ? col : col * k->sw + kw * k->dw - k->pw;
				if (!t->line && (iw < 0 || iw >= k->IW))
					continue; /* in the padding: adds 0 */
				if (!wv) {
					LLVMValueRef wi = be_add(f, be_mul(f, c, t->taps * k->M), be_ci(f, (kh * k->KW + kw) * k->M));
					wv = LLVMBuildLoad2(b, k->vt, ck_addr(f, t->wtab, be_add(f, wi, t->m0)), "");
					LLVMSetAlignment(wv, 4);
				}
				LLVMValueRef xv = ck_splat(k, be_ld(f, k->x, be_add(f, xr[i / pbrow], be_ci(f, iw))));
				LLVMValueRef a = LLVMBuildLoad2(b, k->vt, t->acc[i], "");
				LLVMValueRef pr = be_fast(LLVMBuildFMul(b, wv, xv, ""));
				LLVMBuildStore(b, be_fast(LLVMBuildFAdd(b, a, pr, "")), t->acc[i]);
			}
		}
	}
	be_loop_end(f, &cl);
	LLVMValueRef v[16];
	for (int i = 0; i < pb; i++)
		v[i] = ck_act(k, LLVMBuildLoad2(b, k->vt, t->acc[i], ""));
	transpose_vl(f, k->vt, vl, pb, v);
	/* channel j's pb outputs are contiguous: rr whole rows, or a run of
	 * one row (line) */
	LLVMValueRef yo = t->line ? t->yb : be_add(f, t->yb, be_mul(f, oh, k->OW));
	bool ok[16];
	for (int l = 0; l < vl; l++)
		ok[l] = l < pb;
	for (int j = 0; j < vl; j++) {
		LLVMValueRef pj = ck_addr(f, k->y, be_add(f, yo, be_ci(f, j * t->P + p0)));
		if (whole || pb == vl) {
			LLVMValueRef st = LLVMBuildStore(b, v[j], pj);
			LLVMSetAlignment(st, 4);
		} else {
			ck_masked_store(f, v[j], pj, ck_mask(f, ok, vl));
		}
	}
}

/* Channel mode (one group, vl 8 to 16, M a multiple of vl, plain f32
 * weights and bias, no fused batchnorm), where the pixel vectors would
 * fill under 90% of their lanes: a 1x1 conv on a small plane (36 of 48
 * lanes on 6x6, 9 of 16 on 3x3) or rows narrower than the vector (DS-CNN's
 * first conv: 5 of 16).  Vectors run over vl output channels instead; the
 * weights are transposed at compile time to [C][KH][KW][M]; a tile is vl
 * channels x up to vl pixels: of the 1x1 conv's plane as one line, of one
 * output row, or of as many whole rows as fit (runs of rows with the same
 * taps), each tap's x broadcast into its multiply-add (taps in the
 * padding skipped at compile time), then transposed to output rows by
 * transpose_vl.  Returns 1 when the layer does not qualify (k untouched),
 * else 0 or -1. */
static int conv_channels(ck *k, bool pw1, const be_seg *hseg, int nhseg)
{
	be_fn *f = k->f;
	int vl = k->vl;
	cm T = {.k = k, .line = pw1 && k->flat};
	cm *t = &T;
	t->len = t->line ? k->OH * k->OW : k->OW;
	t->taps = k->KH * k->KW;
	int64_t nvec = (t->len + vl - 1) / vl;
	const float *wd = plain_f32(f, k->wv), *bd = k->biasv ? plain_f32(f, k->biasv) : NULL;
	if (vl < 8 || vl > 16 || k->G != 1 || k->M % vl || k->bn[0] || !wd || (k->biasv && !bd) ||
	    (double)t->len / (double)(nvec * vl) >= 0.9 || t->len > 8 * vl || (!t->line && k->flat) ||
	    k->C * t->taps * k->M > (1 << 24) || t->taps > 64)
		return 1;
	int64_t C = k->C, M = k->M;
	t->wtab = ck_wtab(f, wd, C, t->taps, M);
	if (!t->wtab)
		return -1;
	LLVMValueRef btab = ck_bias_table(k, bd);
	if (!btab)
		return -1;
	LLVMBuilderRef b = f->b;
	for (int i = 0; i < vl; i++)
		t->acc[i] = be_entry_alloca(f, k->vt, "cacc");
	t->plane = k->IH * k->IW;
	t->P = k->OH * k->OW;
	be_nest outer;
	int64_t odims[2] = {k->N, M / vl};
	LLVMValueRef ov[2];
	be_nest_begin(f, &outer, 2, odims, ov);
	t->m0 = be_mul(f, ov[1], vl);
	t->xb = be_mul(f, ov[0], C * t->plane);
	t->yb = be_add(f, be_mul(f, ov[0], M * t->P), be_mul(f, t->m0, t->P));
	t->bias = LLVMBuildLoad2(b, k->vt, ck_addr(f, btab, t->m0), "");
	LLVMSetAlignment(t->bias, 4);
	if (t->line) {
		int ng = (int)nvec; /* groups of at most vl, balanced: 36 -> 12, 12, 12 */
		for (int g = 0, p0 = 0; g < ng; g++) {
			int pb = (int)((t->len - p0) / (ng - g));
			/* a whole store's overrun stays in the line, and a later
			 * group rewrites it */
			cm_tile(t, be_ci(f, 0), 1, p0, pb, 0, 1, p0 + vl <= t->len && g + 1 < ng);
			p0 += pb;
		}
	} else if (k->OW <= vl) {
		int R = (int)(vl / k->OW); /* whole rows a tile */
		for (int sgi = 0; sgi < nhseg; sgi++) {
			const be_seg *sg = &hseg[sgi];
			int64_t full = sg->n / R, rem = sg->n % R;
			if (full > 0) {
				be_loop hl;
				LLVMValueRef oh = be_add(f, be_mul(f, be_loop_begin(f, &hl, full), R), be_ci(f, sg->o0));
				cm_tile(t, oh, R, 0, (int)k->OW, sg->klo, sg->khi, false);
				be_loop_end(f, &hl);
			}
			if (rem > 0)
				cm_tile(t, be_ci(f, sg->o0 + full * R), (int)rem, 0, (int)k->OW, sg->klo, sg->khi, false);
		}
	} else {
		int ng = (int)nvec;
		for (int sgi = 0; sgi < nhseg; sgi++) {
			const be_seg *sg = &hseg[sgi];
			be_loop hl;
			LLVMValueRef oh = be_add(f, be_loop_begin(f, &hl, sg->n), be_ci(f, sg->o0));
			for (int g = 0, p0 = 0; g < ng; g++) {
				int pb = (int)((t->len - p0) / (ng - g));
				cm_tile(t, oh, 1, p0, pb, sg->klo, sg->khi, p0 + vl <= t->len && g + 1 < ng);
				p0 += pb;
			}
			be_loop_end(f, &hl);
		}
	}
	be_nest_end(f, &outer);
	return 0;
}

/* ------------------------------------------- Winograd F(2x2, 3x3) */

/* 3x3 convs at stride 1 on SIMD hosts (vl 8 or 16; one group, plain f32
 * weights, no fused batchnorm, even output sizes, at least 8 input and
 * output channels): Lavin and Gray's F(2x2, 3x3), 16 multiplies per 2x2
 * outputs and channel pair instead of 36.  Per chunk of vl 2x2 tiles
 * (whole tile rows: vl / tiles-per-row of them):
 *   V[xi][c] = B^T d B of each tile's 4x4 input, a vector over the tiles;
 *   M[xi][k] = sum_c U[xi][k][c] V[xi][c], U = G g G^T made at compile time;
 *   y = A^T M A, plus bias, relu or clip, interleaved back into output rows.
 * V and a block of kb output channels' M live on the stack (16 (C + kb)
 * vl floats, at most 128 KB: 80 KB at 64 input channels). */
typedef struct wg {
	ck *k;
	int vl, R, kb;       /* lanes; tile rows a chunk; output channels a block */
	int64_t tw, th;      /* tiles a row, tile rows */
	LLVMTypeRef wt;      /* <64 x float>: a row's window */
	LLVMValueRef V, Mb, U, btab;
	LLVMValueRef acc[16];  /* wg_gemm's accumulators */
} wg;

static LLVMValueRef wg_ldv(const wg *g, LLVMValueRef buf, LLVMValueRef idx)
{
	LLVMValueRef v = LLVMBuildLoad2(g->k->f->b, g->k->vt, ck_addr(g->k->f, buf, idx), "");
	LLVMSetAlignment(v, 4);
	return v;
}

static void wg_stv(const wg *g, LLVMValueRef buf, LLVMValueRef idx, LLVMValueRef v)
{
	LLVMSetAlignment(LLVMBuildStore(g->k->f->b, v, ck_addr(g->k->f, buf, idx)), 4);
}

/* Input transform of the chunk whose first tile row is th0, channel c:
 * V[xi][c] for the 16 xi. */
static void wg_input(const wg *g, LLVMValueRef xb, LLVMValueRef th0, LLVMValueRef c)
{
	ck *k = g->k;
	be_fn *f = k->f;
	LLVMBuilderRef b = f->b;
	int vl = g->vl;
	int64_t tw = g->tw;
	LLVMValueRef zero = ck_splat(k, be_cf(f, 0)), d[4][4];
	/* the window's valid columns: [-pw, 2 tw + 2 - pw) within [0, IW) */
	bool ok[64];
	for (int e = 0; e < 64; e++) {
		int64_t ic = e - k->pw;
		ok[e] = e < 2 * tw + 2 && ic >= 0 && ic < k->IW;
	}
	LLVMValueRef mask = ck_mask(f, ok, 64);
	for (int r = 0; r < g->R; r++)
		for (int i = 0; i < 4; i++) {
			/* input row 2 (th0 + r) + i - ph, zero outside; the address
			 * clamped into the plane */
			LLVMValueRef ih = be_add(f, be_mul(f, th0, 2), be_ci(f, 2 * r + i - k->ph));
			LLVMValueRef in = LLVMBuildAnd(b, LLVMBuildICmp(b, LLVMIntSGE, ih, be_ci(f, 0), ""),
			                               LLVMBuildICmp(b, LLVMIntSLT, ih, be_ci(f, k->IH), ""), "");
			LLVMValueRef ihc = LLVMBuildSelect(b, in, ih, be_ci(f, 0), "");
			LLVMValueRef at = be_add(f, be_add(f, xb, be_mul(f, c, k->IH * k->IW)),
			                         be_add(f, be_mul(f, ihc, k->IW), be_ci(f, -k->pw)));
			LLVMValueRef w = ck_masked_load(f, g->wt, ck_addr(f, k->x, at), mask);
			for (int j = 0; j < 4; j++) {
				LLVMValueRef sel[16];
				for (int l = 0; l < vl; l++) {
					int64_t t = l - r * tw; /* this tile row's lanes */
					sel[l] = t >= 0 && t < tw ? LLVMConstInt(f->i32, (unsigned long long)(2 * t + j), 0)
					                          : LLVMGetPoison(f->i32);
				}
				LLVMValueRef v =
					LLVMBuildShuffleVector(b, w, LLVMGetPoison(g->wt), LLVMConstVector(sel, (unsigned)vl), "");
				v = LLVMBuildSelect(b, in, v, zero, "");
				if (r == 0) {
					d[i][j] = v;
				} else {
					LLVMValueRef pick[16];
					for (int l = 0; l < vl; l++)
						pick[l] = LLVMConstInt(f->i1, l >= r * tw && l < (r + 1) * tw, 0);
					d[i][j] = LLVMBuildSelect(b, LLVMConstVector(pick, (unsigned)vl), v, d[i][j], "");
				}
			}
		}
	/* B^T d B: rows (d0 - d2, d1 + d2, d2 - d1, d1 - d3), then columns */
	LLVMValueRef u[4][4];
	for (int i = 0; i < 4; i++) {
		u[i][0] = LLVMBuildFSub(b, d[i][0], d[i][2], "");
		u[i][1] = LLVMBuildFAdd(b, d[i][1], d[i][2], "");
		u[i][2] = LLVMBuildFSub(b, d[i][2], d[i][1], "");
		u[i][3] = LLVMBuildFSub(b, d[i][1], d[i][3], "");
	}
	for (int j = 0; j < 4; j++) {
		LLVMValueRef v[4] = {LLVMBuildFSub(b, u[0][j], u[2][j], ""), LLVMBuildFAdd(b, u[1][j], u[2][j], ""),
		                     LLVMBuildFSub(b, u[2][j], u[1][j], ""), LLVMBuildFSub(b, u[1][j], u[3][j], "")};
		for (int a = 0; a < 4; a++) /* V[4a + j][c] */
			wg_stv(g, g->V, be_add(f, be_mul(f, c, vl), be_ci(f, (4 * a + j) * k->C * vl)), v[a]);
	}
}

/* M[xi][k0 .. k0 + nk) = sum_c U[xi][k][c] V[xi][c]. */
static void wg_gemm(const wg *g, int xi, LLVMValueRef k0, int nk)
{
	ck *k = g->k;
	be_fn *f = k->f;
	LLVMBuilderRef b = f->b;
	int vl = g->vl;
	const LLVMValueRef *acc = g->acc;
	for (int i = 0; i < nk; i++)
		LLVMBuildStore(b, ck_splat(k, be_cf(f, 0)), acc[i]);
	be_loop cl;
	LLVMValueRef c = be_loop_begin(f, &cl, k->C);
	LLVMValueRef v = wg_ldv(g, g->V, be_add(f, be_mul(f, c, vl), be_ci(f, (int64_t)xi * k->C * vl)));
	for (int i = 0; i < nk; i++) {
		/* U [xi][k][c] */
		LLVMValueRef ui = be_add(f, be_mul(f, be_add(f, k0, be_ci(f, (int64_t)xi * k->M + i)), k->C), c);
		LLVMValueRef a = LLVMBuildLoad2(b, k->vt, acc[i], "");
		LLVMValueRef pr = be_fast(LLVMBuildFMul(b, ck_splat(k, be_ld(f, g->U, ui)), v, ""));
		LLVMBuildStore(b, be_fast(LLVMBuildFAdd(b, a, pr, "")), acc[i]);
	}
	be_loop_end(f, &cl);
	for (int i = 0; i < nk; i++)
		wg_stv(g, g->Mb, be_ci(f, ((int64_t)xi * g->kb + i) * vl),
		       LLVMBuildLoad2(b, k->vt, acc[i], ""));
}

/* Output transform of channel k0 + row (M's row `row`) for the chunk at
 * tile row th0: A^T M A, bias, relu or clip, and each 2x2 tile's outputs
 * into rows 2 th, 2 th + 1. */
static void wg_output(const wg *g, LLVMValueRef yb, LLVMValueRef th0, LLVMValueRef k0, LLVMValueRef row)
{
	ck *k = g->k;
	be_fn *f = k->f;
	LLVMBuilderRef b = f->b;
	int vl = g->vl;
	int64_t tw = g->tw;
	LLVMValueRef m[16], t[2][4], y[2][2];
	for (int xi = 0; xi < 16; xi++)
		m[xi] = wg_ldv(g, g->Mb, be_mul(f, be_add(f, row, be_ci(f, (int64_t)xi * g->kb)), vl));
	LLVMValueRef kk = be_add(f, k0, row);
	for (int j = 0; j < 4; j++) { /* A^T = (1 1 1 0; 0 1 -1 -1) down the columns */
		t[0][j] = LLVMBuildFAdd(b, LLVMBuildFAdd(b, m[j], m[4 + j], ""), m[8 + j], "");
		t[1][j] = LLVMBuildFSub(b, LLVMBuildFSub(b, m[4 + j], m[8 + j], ""), m[12 + j], "");
	}
	LLVMValueRef bias = ck_splat(k, be_ld(f, g->btab, kk));
	for (int a = 0; a < 2; a++) {
		y[a][0] = LLVMBuildFAdd(b, LLVMBuildFAdd(b, LLVMBuildFAdd(b, t[a][0], t[a][1], ""), t[a][2], ""), bias, "");
		y[a][1] = LLVMBuildFAdd(b, LLVMBuildFSub(b, LLVMBuildFSub(b, t[a][1], t[a][2], ""), t[a][3], ""), bias, "");
		for (int q = 0; q < 2; q++)
			y[a][q] = ck_act(k, y[a][q]);
	}
	/* tile row r, output row 2 (th0 + r) + a: columns 2 t + q from lane
	 * r tw + t of y[a][q] */
	LLVMValueRef plane = be_add(f, yb, be_mul(f, kk, k->OH * k->OW));
	for (int r = 0; r < g->R; r++)
		for (int a = 0; a < 2; a++) {
			LLVMValueRef sel[32];
			for (int l = 0; l < 2 * tw; l++)
				sel[l] = LLVMConstInt(f->i32, (unsigned long long)((l & 1) * vl + r * tw + l / 2), 0);
			LLVMValueRef out = LLVMBuildShuffleVector(b, y[a][0], y[a][1], LLVMConstVector(sel, (unsigned)(2 * tw)), "");
			LLVMValueRef oh = be_add(f, be_mul(f, th0, 2), be_ci(f, 2 * r + a));
			LLVMValueRef p = ck_addr(f, k->y, be_add(f, plane, be_mul(f, oh, k->OW)));
			LLVMValueRef st = LLVMBuildStore(b, out, p);
			LLVMSetAlignment(st, 4);
		}
}

/* 1 when n does not qualify (k untouched), else 0 or -1. */
/* Does the Winograd path take k (bn: a batchnorm is fused)? */
static bool wg_fits(const ck *k, bool bn)
{
	be_fn *f = k->f;
	int vl = k->vl;
	const float *wd = plain_f32(f, k->wv), *bd = k->biasv ? plain_f32(f, k->biasv) : NULL;
	if ((vl != 8 && vl != 16) || k->G != 1 || k->KH != 3 || k->KW != 3 || k->sh != 1 || k->sw != 1 ||
	    k->dh != 1 || k->dw != 1 || bn || !wd || (k->biasv && !bd) || k->C < 8 || k->M < 8 || k->OH % 2 ||
	    k->OW % 2)
		return false;
	int64_t tw = k->OW / 2, th = k->OH / 2;
	if (tw > vl) /* then a row's window, 2 tw + 2 columns, fits <64 x float> */
		return false;
	int kb = vl == 16 ? 16 : 8;
	return th % (vl / tw) == 0 && 16 * (k->C + kb) * vl * 4 <= 128 * 1024;
}

static int conv_winograd(ck *k)
{
	be_fn *f = k->f;
	int vl = k->vl;
	int64_t C = k->C, M = k->M;
	const float *wd = plain_f32(f, k->wv), *bd = k->biasv ? plain_f32(f, k->biasv) : NULL;
	if (!wg_fits(k, k->bn[0] != NULL))
		return 1;
	wg G = {.k = k, .vl = vl, .tw = k->OW / 2, .th = k->OH / 2};
	wg *g = &G;
	g->R = (int)(vl / g->tw);
	g->kb = vl == 16 ? 16 : 8;
	/* U = G g G^T, G = (1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1), as [xi][k][c] */
	float *U = malloc(sizeof *U * (size_t)(16 * M * C));
	if (!U) {
		diag_error(f->d, NULL, "out of memory");
		return -1;
	}
	static const double Gm[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
	for (int64_t m = 0; m < M; m++)
		for (int64_t c = 0; c < C; c++) {
			const float *w = wd + (m * C + c) * 9;
			double t[4][3];
			for (int i = 0; i < 4; i++)
				for (int j = 0; j < 3; j++)
					t[i][j] = Gm[i][0] * w[j] + Gm[i][1] * w[3 + j] + Gm[i][2] * w[6 + j];
			for (int i = 0; i < 4; i++)
				for (int j = 0; j < 4; j++)
					U[((int64_t)(4 * i + j) * M + m) * C + c] =
						(float)(t[i][0] * Gm[j][0] + t[i][1] * Gm[j][1] + t[i][2] * Gm[j][2]);
		}
	g->U = be_table_f32(f, U, 16 * M * C);
	free(U);
	if (!g->U) {
		diag_error(f->d, NULL, "out of memory");
		return -1;
	}
	if (!(g->btab = ck_bias_table(k, bd)))
		return -1;
	g->wt = LLVMVectorType(f->f32, 64);
	int64_t nv = 16 * C * vl, nm = 16 * g->kb * vl;
	g->V = be_entry_alloca(f, LLVMArrayType2(f->f32, (uint64_t)nv), "wgV");
	g->Mb = be_entry_alloca(f, LLVMArrayType2(f->f32, (uint64_t)nm), "wgM");
	LLVMSetAlignment(g->V, 64);
	LLVMSetAlignment(g->Mb, 64);
	for (int i = 0; i < g->kb; i++)
		g->acc[i] = be_entry_alloca(f, k->vt, "wacc");
	be_loop nl, chl, cl, kl;
	LLVMValueRef nb = be_loop_begin(f, &nl, k->N);
	LLVMValueRef xb = be_mul(f, nb, C * k->IH * k->IW), yb = be_mul(f, nb, M * k->OH * k->OW);
	LLVMValueRef th0 = be_mul(f, be_loop_begin(f, &chl, g->th / g->R), g->R);
	LLVMValueRef c = be_loop_begin(f, &cl, C);
	wg_input(g, xb, th0, c);
	be_loop_end(f, &cl);
	/* output channels in blocks of kb (accumulators in registers): the
	 * block's 16 GEMMs, then its output transforms */
	int kb = g->kb;
	for (int part = 0; part < 2; part++) {
		int64_t cnt = part ? M % kb > 0 : M / kb;
		int nk = part ? (int)(M % kb) : kb;
		if (cnt == 0)
			continue;
		be_loop bl;
		LLVMValueRef k0 = part ? be_ci(f, M / kb * kb) : be_mul(f, be_loop_begin(f, &bl, cnt), kb);
		for (int xi = 0; xi < 16; xi++)
			wg_gemm(g, xi, k0, nk);
		LLVMValueRef j = be_loop_begin(f, &kl, nk);
		wg_output(g, yb, th0, k0, j);
		be_loop_end(f, &kl);
		if (!part)
			be_loop_end(f, &bl);
	}
	be_loop_end(f, &chl);
	be_loop_end(f, &nl);
	return 0;
}

/* Packed (quantized) weights on SIMD targets and on Cortex-M: the tile
 * loads each weight once per vector block (a Cortex-M's scalar tile once
 * per output position), decoding it (unpack, convert, scale) each time,
 * so a weight-only model ran at 2 to 2.6 times FP32's instructions on the
 * A72 and 1.4 to 1.9 times on the M4.  Instead each block of mb output
 * channels has its weights decoded once into f32 scratch (mb x cg x taps,
 * at most DEC_MAX bytes; on Cortex-M DEC_MAX_MCU, in a gap of the arena
 * (be_scratch), else on the stack), which the tiles then read as FP32's;
 * the values are be_wld_rc's, so the results do not change.  Only where
 * the block's tiles load each weight more than once (several rows or
 * vector blocks: `uses`): with one load a weight the scratch's store and
 * load are pure cost (VWW's 6x6 and 3x3 pointwise layers on AVX-512). */
enum { DEC_MAX = 64 * 1024, DEC_MAX_MCU = 16 * 1024 };

static bool ck_decode_ok(const ck *k, int mbmax, int nv, const be_seg *hseg, int nhseg, ck_block *blocks)
{
	if ((k->f->vl <= 1 && !k->f->mcu) || plain_f32(k->f, k->wv) || !be_qw_packed(k->f, k->wv) ||
	    (int64_t)mbmax * k->cg * k->KH * k->KW * 4 > (k->f->mcu ? DEC_MAX_MCU : DEC_MAX))
		return false;
	int64_t uses = 0; /* how many tiles load each of a block's weights */
	for (int s = 0; s < nhseg; s++) {
		int nb = ck_plan(k, nv, k->flat ? 0 : hseg[s].klo, k->flat ? k->KH : hseg[s].khi, blocks);
		for (int bi = 0; bi < nb; bi++)
			uses += (blocks[bi].step > 0 ? blocks[bi].nrep : 1) * (k->flat ? 1 : hseg[s].n);
	}
	/* a row the vectorizer decodes (be_wld_row) costs less than one scalar
	 * decode a weight even where the tiles load each weight once */
	return uses > 1 || (uses == 1 && k->f->vl > 1 && be_wld_row(k->f, k->wv, NULL, NULL, k->cg * k->KH * k->KW));
}

/* k->wdec[i cg taps + j] = W[m + i, j] for the block's mb channels. */
static void ck_decode(const ck *k, int mb, LLVMValueRef m)
{
	be_fn *f = k->f;
	int64_t row = k->cg * k->KH * k->KW;
	for (int i = 0; i < mb; i++) {
		LLVMValueRef di = LLVMBuildGEP2(f->b, f->f32, k->wdec, (LLVMValueRef[]){be_ci(f, i * row)}, 1, "");
		if (be_wld_row(f, k->wv, be_add(f, m, be_ci(f, i)), di, row))
			continue;
		be_loop l;
		LLVMValueRef j = be_loop_begin(f, &l, row);
		LLVMValueRef w = be_wld_rc(f, k->wv, be_add(f, m, be_ci(f, i)), j);
		be_st(f, k->wdec, be_add(f, j, be_ci(f, i * row)), w);
		be_loop_end(f, &l);
	}
}

static int conv_cl(ck *k, bool xcl, bool ycl, bool pw1, const be_seg *hseg, int nhseg);

/* k's geometry from n and its window w (nothing emitted); *pw1o: a 1x1
 * conv without stride or padding, *nveco: vectors along a line. */
static void ck_geom(be_fn *f, const ir_node *n, const win *w, ck *k, bool *pw1o, int64_t *nveco)
{
	const ir_shape *xs = &n->in[0]->shape, *ys = &n->out[0]->shape;
	memset(k, 0, sizeof *k);
	k->f = f;
	k->vl = f->vl > 0 && f->vl <= 16 ? f->vl : 1;
	k->vt = k->vl == 1 ? f->f32 : LLVMVectorType(f->f32, (unsigned)k->vl);
	k->wv = n->in[1];
	k->biasv = n->nin > 2 && n->in[2] && ir_shape_numel(&n->in[2]->shape) > 0 ? n->in[2] : NULL;
	int two = w->nsp == 2, hx = two ? 0 : -1, wx = two ? 1 : 0;
	k->N = xs->d[0], k->C = xs->d[1], k->M = ys->d[1];
	k->IH = two ? w->in[hx] : 1, k->IW = w->in[wx];
	k->OH = two ? w->out[hx] : 1, k->OW = w->out[wx];
	k->KH = two ? w->k[hx] : 1, k->KW = w->k[wx];
	k->sh = two ? w->s[hx] : 1, k->sw = w->s[wx];
	k->dh = two ? w->dil[hx] : 1, k->dw = w->dil[wx];
	k->ph = two ? w->pb[hx] : 0, k->pw = w->pb[wx];
	k->G = ir_attr_int(n, "group", 1);
	k->cg = k->C / k->G, k->mg = k->M / k->G;
	int64_t P = k->OH * k->OW;
	/* Flat mode: the input offset of every tap is the flat position plus a
	 * constant (stride 1, equal widths); worth it when rows are short or
	 * the conv is 1x1 without padding (a GEMM over the plane). */
	bool pw1 = k->KH == 1 && k->KW == 1 && k->sh == 1 && k->sw == 1 && k->ph == 0 && k->pw == 0 &&
	           k->OH == k->IH && k->OW == k->IW;
	bool flatok = k->sh == 1 && k->sw == 1 && k->IW == k->OW;
	k->flat = pw1 || (flatok && (k->OW % k->vl != 0 || k->OW < k->vl) && P <= 64 * k->vl);
	if (k->vl == 1 && !pw1)
		k->flat = false;
	k->len = k->flat ? P : k->OW;
	*pw1o = pw1;
	*nveco = k->len <= k->vl ? 1 : (k->len + k->vl - 1) / k->vl;
}

static int conv_tiled(be_fn *f, const ir_node *n, win *w)
{
	ck K, *k = &K;
	bool pw1;
	int64_t nvec;
	ck_geom(f, n, w, k, &pw1, &nvec);
	int two = w->nsp == 2, hx = two ? 0 : -1;
	int64_t P = k->OH * k->OW;
	k->x = be_ptr(f, n->in[0]);
	k->y = be_ptr(f, n->out[0]);
	k->bias = k->biasv ? be_ptr(f, k->biasv) : NULL;
	int mbmax, nv;
	ck_tile(k, f->nreg, nvec, &mbmax, &nv);
	if ((k->sw > 4 && !k->flat && k->vl > 1) || nvec > 4096)
		return 1; /* wide strides, very long rows: the generic code */

	const ir_value *yv = ck_fuse(f, n, k);

	/* Row segments (row mode): runs of output rows with the same taps. */
	be_seg hseg1 = {0, 1, 0, 1, 1}, *hseg = &hseg1;
	int nhseg = 1;
	if (two && !k->flat) {
		hseg = w->seg[hx];
		nhseg = w->nseg[hx];
	}
	if (f->cl && (f->cl[n->in[0]->id] || f->cl[yv->id]))
		return conv_cl(k, f->cl[n->in[0]->id], f->cl[yv->id], pw1, two ? w->seg[hx] : hseg, two ? w->nseg[hx] : nhseg);
	int crc = conv_winograd(k);
	if (crc <= 0)
		return crc;
	crc = conv_channels(k, pw1, hseg, nhseg);
	if (crc <= 0)
		return crc;
	int nmb = (int)(k->mg / mbmax), mbrem = (int)(k->mg % mbmax);
	LLVMValueRef acc[12 * 16];
	for (int i = 0; i < mbmax; i++)
		for (int j = 0; j < nv; j++)
			acc[i * 16 + j] = be_entry_alloca(f, k->vt, "acc");
	ck_block *blocks = calloc(4096, sizeof *blocks);
	if (!blocks) {
		diag_error(f->d, NULL, "out of memory");
		return -1;
	}
	if (ck_decode_ok(k, mbmax, nv, hseg, nhseg, blocks)) {
		LLVMTypeRef dty = LLVMArrayType2(f->f32, (uint64_t)(mbmax * k->cg * k->KH * k->KW));
		if (f->mcu) {
			k->wdec = be_scratch(f, dty, 16, "wdec");
		} else {
			k->wdec = be_entry_alloca(f, dty, "wdec");
			LLVMSetAlignment(k->wdec, 16);
		}
	}
	be_nest outer;
	int64_t odims[2] = {k->N, k->G};
	LLVMValueRef ov[2];
	be_nest_begin(f, &outer, 2, odims, ov);
	LLVMValueRef xbase = be_affine(f, 0, 2, ov, (int64_t[]){k->C * k->IH * k->IW, k->cg * k->IH * k->IW});
	for (int part = 0; part < 2; part++) {
		int mb = part == 0 ? mbmax : mbrem;
		int64_t cnt = part == 0 ? nmb : 1;
		if (mb == 0 || cnt == 0)
			continue;
		be_loop ml;
		LLVMValueRef mi = be_loop_begin(f, &ml, cnt);
		/* m: output channel index within the batch (g*mg + block start). */
		LLVMValueRef m = be_add(f, be_mul(f, ov[1], k->mg),
		                        part == 0 ? be_mul(f, mi, mbmax) : be_ci(f, (int64_t)nmb * mbmax));
		LLVMValueRef yplane = be_add(f, be_mul(f, ov[0], k->M * P), be_mul(f, m, P));
		if (k->wdec)
			ck_decode(k, mb, m);
		for (int s = 0; s < nhseg; s++) {
			const be_seg *sg = &hseg[s];
			int64_t khlo = k->flat ? 0 : sg->klo, khhi = k->flat ? k->KH : sg->khi;
			int nb = ck_plan(k, nv, khlo, khhi, blocks);
			be_loop hl;
			LLVMValueRef oh = k->flat ? be_ci(f, 0) : be_add(f, be_loop_begin(f, &hl, sg->n), be_ci(f, sg->o0));
			LLVMValueRef xb = k->flat ? xbase : be_add(f, xbase, be_mul(f, oh, k->sh * k->IW));
			LLVMValueRef yb = k->flat ? yplane : be_add(f, yplane, be_mul(f, oh, k->OW));
			for (int bi = 0; bi < nb; bi++)
				ck_block_emit(k, &blocks[bi], mb, m, xb, yb, khlo, khhi, acc);
			if (!k->flat)
				be_loop_end(f, &hl);
		}
		be_loop_end(f, &ml);
	}
	be_nest_end(f, &outer);
	free(blocks);
	return 0;
}

/* ------------------------------------------ the channel-blocked layout */

/* On hosts with 8 or 16 f32 lanes, convs whose planes fill pixel vectors
 * poorly (depthwise layers at any stride, small planes) chain through a
 * channel-blocked layout: a value between two convs that qualify (cl_ok)
 * is stored [N][C/vl][H][W][vl] (be_fn.cl), vl channels of a pixel one
 * vector, in the bytes the memory plan gives it.  A depthwise tap is then
 * one vector load and one multiply-add for vl channels, at any stride,
 * padding or plane size: no window shuffles, and a 6x6 plane leaves no
 * lane empty.  A groupless conv (pointwise, or a window over a few input
 * channels: cl_ok) broadcasts each input element (from either layout)
 * into a multiply-add with vl output channels' weights, as channel mode
 * does, and stores its tiles as they are (a blocked output) or transposed
 * into rows (a plain one).  be_conv_layout blocks a value when
 * its producer is a conv that qualifies, every user one too or an average
 * pool over the whole plane (cl_pool_ok), it is no graph output, and a
 * depthwise conv reads only blocked input: only these kernels see a
 * blocked value.  Sums add the taps in the order
 * (channel, kh, kw) from the bias, which float validation's tolerance
 * covers. */
typedef struct clk {
	ck *k;
	bool xcl, ycl, dw;
	int T, MB;             /* a tile: T pixels (<= vl: a plain output transposes)
	                        * by MB blocks of vl output channels */
	int64_t IH, IW, OH, OW, taps;
	LLVMValueRef wtab, acc[32], xb, yb, m0, bias[4];
} clk;

/* x's element (c, iy, ix), c and the row offset iy * IW run-time values:
 * its index in x. */
static LLVMValueRef cl_xidx(const clk *t, LLVMValueRef c, LLVMValueRef pix)
{
	be_fn *f = t->k->f;
	LLVMBuilderRef b = f->b;
	int vl = t->k->vl;
	if (!t->xcl)
		return LLVMBuildAdd(b, LLVMBuildAdd(b, t->xb, LLVMBuildMul(b, c, be_ci(f, t->IH * t->IW), ""), ""), pix, "");
	LLVMValueRef cb = LLVMBuildLShr(b, c, be_ci(f, vl == 16 ? 4 : 3), "");
	LLVMValueRef ci = LLVMBuildAnd(b, c, be_ci(f, vl - 1), "");
	LLVMValueRef o = LLVMBuildAdd(b, LLVMBuildMul(b, cb, be_ci(f, t->IH * t->IW * vl), ""),
	                              LLVMBuildMul(b, pix, be_ci(f, vl), ""), "");
	return LLVMBuildAdd(b, LLVMBuildAdd(b, t->xb, o, ""), ci, "");
}

/* One tile of output row oy: pixels p0 .. p0 + pb, p0 the constant pc
 * (a border tile: taps outside the input are skipped at compile time) or,
 * when pc < 0, the run-time pv (an interior tile, every tap inside); tap
 * rows [klo, khi) (the row segment's). */
static void cl_tile(const clk *t, LLVMValueRef oy, LLVMValueRef pv, int64_t pc, int pb, int64_t klo, int64_t khi)
{
	ck *k = t->k;
	be_fn *f = k->f;
	LLVMBuilderRef b = f->b;
	int vl = k->vl;
	LLVMValueRef p0 = pc >= 0 ? be_ci(f, pc) : pv;
	for (int j = 0; j < t->MB; j++)
		for (int i = 0; i < pb; i++)
			LLVMBuildStore(b, t->bias[j], t->acc[j * t->T + i]);
	be_loop cl;
	LLVMValueRef c = t->dw ? NULL : be_loop_begin(f, &cl, k->C);
	for (int64_t kh = klo; kh < khi; kh++) {
		/* the input row: oy * sh + kh * dh - ph (inside, by the segment) */
		LLVMValueRef iy = LLVMBuildAdd(b, LLVMBuildMul(b, oy, be_ci(f, k->sh), ""), be_ci(f, kh * k->dh - k->ph), "");
		LLVMValueRef rowo = LLVMBuildMul(b, iy, be_ci(f, t->IW), "");
		for (int64_t kw = 0; kw < k->KW; kw++) {
			LLVMValueRef wv[4] = {NULL};
			for (int i = 0; i < pb; i++) {
				int64_t off = i * k->sw + kw * k->dw - k->pw; /* ix - p0 * sw */
				if (pc >= 0 && ((pc * k->sw + off) < 0 || (pc * k->sw + off) >= t->IW))
					continue; /* in the padding: adds 0 */
				for (int j = 0; j < t->MB && !wv[j]; j++) { /* the tap's weights, once a tile */
					LLVMValueRef wi = be_ci(f, (kh * k->KW + kw) * k->M + j * vl);
					if (!t->dw)
						wi = LLVMBuildAdd(b, LLVMBuildMul(b, c, be_ci(f, t->taps * k->M), ""), wi, "");
					wv[j] = LLVMBuildLoad2(b, k->vt, ck_addr(f, t->wtab, LLVMBuildAdd(b, wi, t->m0, "")), "");
					LLVMSetAlignment(wv[j], 4);
				}
				LLVMValueRef ix = LLVMBuildAdd(b, LLVMBuildMul(b, p0, be_ci(f, k->sw), ""), be_ci(f, off), "");
				LLVMValueRef pix = LLVMBuildAdd(b, rowo, ix, "");
				LLVMValueRef xv;
				if (t->dw) {
					xv = LLVMBuildLoad2(b, k->vt,
					                    ck_addr(f, k->x, LLVMBuildAdd(b, t->xb, LLVMBuildMul(b, pix, be_ci(f, vl), ""), "")), "");
					LLVMSetAlignment(xv, 4);
				} else {
					xv = ck_splat(k, be_ld(f, k->x, cl_xidx(t, c, pix)));
				}
				for (int j = 0; j < t->MB; j++) {
					LLVMValueRef a = LLVMBuildLoad2(b, k->vt, t->acc[j * t->T + i], "");
					LLVMValueRef pr = be_fast(LLVMBuildFMul(b, wv[j], xv, ""));
					LLVMBuildStore(b, be_fast(LLVMBuildFAdd(b, a, pr, "")), t->acc[j * t->T + i]);
				}
			}
		}
	}
	if (!t->dw)
		be_loop_end(f, &cl);
	LLVMValueRef po = LLVMBuildAdd(b, LLVMBuildMul(b, oy, be_ci(f, t->OW), ""), p0, "");
	int64_t plane = t->OH * t->OW;
	for (int j = 0; j < t->MB; j++) {
		LLVMValueRef v[16];
		for (int i = 0; i < pb; i++)
			v[i] = ck_act(k, LLVMBuildLoad2(b, k->vt, t->acc[j * t->T + i], ""));
		if (t->ycl) { /* block j of the tile's channels: plane * vl further on */
			LLVMValueRef yj = LLVMBuildAdd(b, t->yb, be_ci(f, j * plane * vl), "");
			for (int i = 0; i < pb; i++) {
				LLVMValueRef yi = LLVMBuildAdd(b, yj, LLVMBuildMul(b, LLVMBuildAdd(b, po, be_ci(f, i), ""), be_ci(f, vl), ""), "");
				LLVMValueRef st = LLVMBuildStore(b, v[i], ck_addr(f, k->y, yi));
				LLVMSetAlignment(st, 4);
			}
			continue;
		}
		transpose_vl(f, k->vt, vl, pb, v);
		bool ok[16];
		for (int l = 0; l < vl; l++)
			ok[l] = l < pb;
		for (int r = 0; r < vl; r++) {
			LLVMValueRef pj = ck_addr(
				f, k->y, LLVMBuildAdd(b, t->yb, LLVMBuildAdd(b, po, be_ci(f, (j * vl + r) * plane), ""), ""));
			if (pb == vl) {
				LLVMValueRef st = LLVMBuildStore(b, v[r], pj);
				LLVMSetAlignment(st, 4);
			} else {
				ck_masked_store(f, v[r], pj, ck_mask(f, ok, vl));
			}
		}
	}
}

/* The channel-blocked kernel of k (conv_tiled's, fused epilogue set):
 * xcl, ycl whether its input and output are blocked, pw1 a 1x1 conv
 * without stride or padding (its plane one line), hseg the row segments.
 * 0, or -1 reported. */
static int conv_cl(ck *k, bool xcl, bool ycl, bool pw1, const be_seg *hseg, int nhseg)
{
	be_fn *f = k->f;
	int vl = k->vl;
	clk T = {.k = k, .xcl = xcl, .ycl = ycl, .dw = k->G > 1, .T = vl, .MB = 1};
	clk *t = &T;
	if (!t->dw && ycl) {
		/* the tile: MB * T accumulators, MB + T loads a tap; at most 16
		 * (more, LLVM 19 spills on AVX-512: 2 x 12 runs at half speed).
		 * A plain output keeps vl pixels a tile: its transposes cost as
		 * much for 4 pixels as for 16. */
		double best = -1;
		for (int mb = 1; mb <= 4; mb++)
			for (int tp = 1; tp <= vl; tp++)
				if ((k->M / vl) % mb == 0 && mb * tp <= 16 && mb * tp + mb + 1 <= f->nreg &&
				    (double)mb * tp / (mb + tp) > best + 1e-9) {
					best = (double)mb * tp / (mb + tp);
					t->MB = mb, t->T = tp;
				}
	}
	t->IH = pw1 ? 1 : k->IH, t->IW = pw1 ? k->IH * k->IW : k->IW;
	t->OH = pw1 ? 1 : k->OH, t->OW = pw1 ? k->OH * k->OW : k->OW;
	t->taps = k->KH * k->KW;
	int64_t C = k->C, M = k->M;
	const float *wd = plain_f32(f, k->wv), *bd = k->biasv ? plain_f32(f, k->biasv) : NULL;
	t->wtab = ck_wtab(f, wd, t->dw ? 1 : C, t->taps, M); /* depthwise: [KH][KW][M] */
	if (!t->wtab)
		return -1;
	/* named for what the kernel does (--emit llvm shows it):
	 * NAME.cl[dw].IO, I and O b (blocked) or p (plain) */
	char tname[160];
	snprintf(tname, sizeof tname, "%s.cl%s.%c%c", f->name, t->dw ? "dw" : "", xcl ? 'b' : 'p', ycl ? 'b' : 'p');
	LLVMSetValueName2(t->wtab, tname, strlen(tname));
	LLVMValueRef btab = ck_bias_table(k, bd);
	if (!btab)
		return -1;
	LLVMBuilderRef b = f->b;
	for (int i = 0; i < t->MB * t->T; i++)
		t->acc[i] = be_entry_alloca(f, k->vt, "clacc");
	int64_t xplane = t->IH * t->IW, yplane = t->OH * t->OW;
	be_nest outer;
	int64_t odims[2] = {k->N, M / vl / t->MB};
	LLVMValueRef ov[2];
	be_nest_begin(f, &outer, 2, odims, ov);
	ov[1] = be_mul(f, ov[1], t->MB); /* the tile's first channel block */
	t->m0 = be_mul(f, ov[1], vl);
	/* a depthwise tile reads its own channel block; a regular one every
	 * channel of the sample (cl_xidx) */
	t->xb = t->dw ? be_add(f, be_mul(f, ov[0], C * xplane), be_mul(f, ov[1], xplane * vl))
	              : be_mul(f, ov[0], C * xplane);
	t->yb = ycl ? be_add(f, be_mul(f, ov[0], M * yplane), be_mul(f, ov[1], yplane * vl))
	            : be_add(f, be_mul(f, ov[0], M * yplane), be_mul(f, t->m0, yplane));
	for (int j = 0; j < t->MB; j++) {
		t->bias[j] = LLVMBuildLoad2(b, k->vt, ck_addr(f, btab, be_add(f, t->m0, be_ci(f, j * vl))), "");
		LLVMSetAlignment(t->bias[j], 4);
	}
	int64_t sw = pw1 ? 1 : k->sw, pwd = pw1 ? 0 : k->pw, span = (k->KW - 1) * k->dw;
	/* the interior [xa, xe): every tap of its outputs inside the row */
	int64_t xa = (pwd + sw - 1) / sw, lim = t->IW - 1 + pwd - (pw1 ? 0 : span);
	int64_t xe = lim < 0 ? 0 : lim / sw + 1;
	xa = xa < t->OW ? xa : t->OW;
	xe = xe < t->OW ? xe : t->OW;
	xe = xe > xa ? xe : xa;
	be_seg one = {0, 1, 0, 1, 1};
	if (pw1)
		hseg = &one, nhseg = 1;
	for (int s = 0; s < nhseg; s++) {
		const be_seg *sg = &hseg[s];
		be_loop hl;
		LLVMValueRef oy = be_add(f, be_loop_begin(f, &hl, sg->n), be_ci(f, sg->o0));
		for (int64_t p = 0; p < xa; p += t->T)
			cl_tile(t, oy, NULL, p, (int)(xa - p < t->T ? xa - p : t->T), sg->klo, sg->khi);
		int64_t nfull = (xe - xa) / t->T, rem = (xe - xa) % t->T;
		if (nfull > 0) {
			be_loop il;
			LLVMValueRef pv = be_add(f, be_mul(f, be_loop_begin(f, &il, nfull), t->T), be_ci(f, xa));
			cl_tile(t, oy, pv, -1, t->T, sg->klo, sg->khi);
			be_loop_end(f, &il);
		}
		if (rem > 0)
			cl_tile(t, oy, NULL, xa + nfull * t->T, (int)rem, sg->klo, sg->khi);
		for (int64_t p = xe; p < t->OW; p += t->T)
			cl_tile(t, oy, NULL, p, (int)(t->OW - p < t->T ? t->OW - p : t->T), sg->klo, sg->khi);
		be_loop_end(f, &hl);
	}
	be_nest_end(f, &outer);
	return 0;
}

/* Does conv n qualify for the channel-blocked kernels (a host with 8 or
 * 16 lanes, the speed kernels)?  *out: the value its tiles write (after
 * a fused relu or clip), *dw: depthwise. */
static bool cl_ok(be_fn *f, const ir_node *n, const ir_value **out, bool *dw)
{
	if (n->dead || n->op != IR_OP_CONV || n->nin < 2 || n->nout < 1 || !n->in[0] || !n->in[1] || !n->out[0] ||
	    n->in[0]->shape.rank != 4 || n->out[0]->shape.rank != 4 || n->in[1]->shape.rank != 4 ||
	    n->in[0]->dt != IR_DT_F32 || n->out[0]->dt != IR_DT_F32 || !f->plan ||
	    f->plan->v[n->out[0]->id].kind == MP_NONE || ir_shape_numel(&n->out[0]->shape) <= 0)
		return false;
	win w;
	if (win_init(f, n, &n->in[0]->shape, n->in[1]->shape.d + 2, &n->out[0]->shape, &w)) {
		win_free(&w);
		return false;
	}
	ck K, *k = &K;
	bool pw1, bn;
	int64_t nvec;
	ck_geom(f, n, &w, k, &pw1, &nvec);
	win_free(&w);
	*out = ck_fuse_at(f, n, NULL, &bn);
	*dw = k->G > 1 && k->G == k->C && k->G == k->M;
	const float *wd = plain_f32(f, k->wv), *bd = k->biasv ? plain_f32(f, k->biasv) : NULL;
	/* A groupless conv with a window takes its tiles one row at a time,
	 * each loading all its weights: on small planes of many channels
	 * (GoogLeNet's 3x3 on 4x4, 160 channels: 151 -> 468 us) that loses
	 * to channel mode's tiles of whole rows, so only few-channel input
	 * layers (DS-CNN's first conv) take it. */
	bool g1 = k->G == 1 && (k->KH * k->KW == 1 || k->C <= 4);
	return (k->vl == 8 || k->vl == 16) && (g1 || *dw) && k->M % k->vl == 0 && !bn && wd &&
	       (!k->biasv || bd) && k->sw <= 4 && nvec <= 4096 && k->KH * k->KW <= 64 &&
	       k->C * k->KH * k->KW * k->M <= (1 << 24) && !wg_fits(k, false) && !be_same_storage(f, n->in[0], *out);
}

/* An average pool over the whole plane (GlobalAveragePool, or an
 * AveragePool whose window is the plane, unpadded) may read a blocked
 * value: its output, [N][C][1][1], is the same in either layout. */
static bool cl_pool_ok(be_fn *f, const ir_node *n)
{
	if (n->dead || (n->op != IR_OP_AVG_POOL && n->op != IR_OP_GLOBAL_AVG_POOL) || n->nin < 1 || n->nout < 1 ||
	    !n->in[0] || !n->out[0] || n->in[0]->shape.rank != 4 || n->out[0]->shape.rank != 4 ||
	    n->in[0]->dt != IR_DT_F32 || n->out[0]->dt != IR_DT_F32 || n->out[0]->shape.d[2] != 1 ||
	    n->out[0]->shape.d[3] != 1 || !f->plan || f->plan->v[n->out[0]->id].kind == MP_NONE)
		return false;
	if (n->op == IR_OP_GLOBAL_AVG_POOL)
		return true;
	int cnt = 0;
	const int64_t *ka = ir_attr_ints(n, "kernel", &cnt);
	if (!ka || cnt != 2 || ka[0] != n->in[0]->shape.d[2] || ka[1] != n->in[0]->shape.d[3])
		return false;
	win w;
	bool ok = !win_init(f, n, &n->in[0]->shape, ka, &n->out[0]->shape, &w);
	for (int i = 0; ok && i < 2; i++)
		ok = w.pb[i] == 0 && w.pe[i] == 0 && w.dil[i] == 1;
	win_free(&w);
	return ok;
}

/* That pool: per vl channels the pixels' vectors summed in order, then
 * divided by their count. */
static int pool_cl(be_fn *f, const ir_node *n)
{
	int vl = f->vl;
	LLVMTypeRef vt = LLVMVectorType(f->f32, (unsigned)vl);
	LLVMBuilderRef b = f->b;
	const ir_shape *xs = &n->in[0]->shape;
	int64_t C = xs->d[1], P = xs->d[2] * xs->d[3];
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	LLVMValueRef acc = be_entry_alloca(f, vt, "clpool");
	be_nest o;
	int64_t dims[2] = {xs->d[0], C / vl};
	LLVMValueRef iv[2];
	be_nest_begin(f, &o, 2, dims, iv);
	LLVMValueRef blk = be_add(f, be_mul(f, iv[0], C / vl), iv[1]); /* (n, block): at blk * P * vl */
	LLVMBuildStore(b, LLVMConstNull(vt), acc);
	be_loop pl;
	LLVMValueRef p = be_loop_begin(f, &pl, P);
	LLVMValueRef v = LLVMBuildLoad2(b, vt, ck_addr(f, x, be_add(f, be_mul(f, blk, P * vl), be_mul(f, p, vl))), "");
	LLVMSetAlignment(v, 4);
	LLVMBuildStore(b, LLVMBuildFAdd(b, LLVMBuildLoad2(b, vt, acc, ""), v, ""), acc);
	be_loop_end(f, &pl);
	LLVMValueRef cnt[16];
	for (int l = 0; l < vl; l++)
		cnt[l] = be_cf(f, (float)P);
	LLVMValueRef r = LLVMBuildFDiv(b, LLVMBuildLoad2(b, vt, acc, ""), LLVMConstVector(cnt, (unsigned)vl), "");
	LLVMValueRef st = LLVMBuildStore(b, r, ck_addr(f, y, be_mul(f, blk, vl)));
	LLVMSetAlignment(st, 4);
	be_nest_end(f, &o);
	return 0;
}

int be_conv_layout(be_fn *f)
{
	ir_graph *g = f->g;
	f->cl = NULL;
	if ((f->vl != 8 && f->vl != 16) || !f->fused || f->code == BE_CODE_SIZE || f->code == BE_CODE_MIN ||
	    (f->code == BE_CODE_AUTO && f->mcu))
		return 0;
	const ir_value **out = calloc((size_t)g->nnodes + 1, sizeof *out);
	bool *dw = calloc((size_t)g->nnodes + 1, sizeof *dw), *pool = calloc((size_t)g->nnodes + 1, sizeof *pool);
	bool *cl = calloc((size_t)g->nvalues + 1, sizeof *cl);
	int *use = calloc((size_t)g->nvalues + 1, sizeof *use); /* readers of a value; -1: one reads it plain */
	if (!out || !dw || !pool || !cl || !use) {
		free(out);
		free(dw);
		free(pool);
		free(cl);
		free(use);
		diag_error(f->d, NULL, "out of memory");
		return -1;
	}
	for (int i = 0; i < g->nnodes; i++) {
		if (!cl_ok(f, g->nodes[i], &out[i], &dw[i]))
			out[i] = NULL;
		pool[i] = cl_pool_ok(f, g->nodes[i]);
	}
	bool any = false;
	for (bool changed = true; changed;) {
		changed = false;
		any = false;
		memset(cl, 0, (size_t)g->nvalues + 1);
		memset(use, 0, sizeof *use * ((size_t)g->nvalues + 1));
		for (int j = 0; j < g->nnodes; j++) {
			const ir_node *u = g->nodes[j];
			for (int q = 0; q < u->nin && !u->dead; q++) {
				const ir_value *v = u->in[q];
				if (v && use[v->id] >= 0)
					use[v->id] = (out[j] || pool[j]) && q == 0 ? use[v->id] + 1 : -1;
			}
		}
		for (int i = 0; i < g->nnodes; i++) {
			const ir_value *v = out[i];
			if (!v || v->shape.rank != 4 || v->shape.d[1] % f->vl || ir_value_is_output(g, v))
				continue;
			cl[v->id] = use[v->id] > 0;
			any = any || cl[v->id];
		}
		for (int i = 0; i < g->nnodes; i++)
			if (out[i] && dw[i] && !cl[g->nodes[i]->in[0]->id]) {
				out[i] = NULL;
				changed = true;
			}
	}
	free(out);
	free(dw);
	free(pool);
	free(use);
	if (any)
		f->cl = cl;
	else
		free(cl);
	return 0;
}

int be_l_conv(be_fn *f, const ir_node *n)
{
	int crc = be_l_compact(f, n);
	if (crc <= 0)
		return crc;
	const ir_shape *xs = &n->in[0]->shape, *ws = &n->in[1]->shape, *ys = &n->out[0]->shape;
	if (xs->rank == 3 || xs->rank == 4) {
		win w;
		if (win_init(f, n, xs, ws->d + 2, ys, &w)) {
			win_free(&w);
			return -1;
		}
		int rc = conv_tiled(f, n, &w);
		win_free(&w);
		if (rc <= 0)
			return rc;
	}
	if (f->cl && (f->cl[n->in[0]->id] || f->cl[n->out[0]->id])) {
		diag_error(f->d, ir_node_loc(f->g, n), "internal: conv '%s' reads or writes a channel-blocked value but no blocked kernel took it",
		           n->name);
		return -1;
	}
	return conv_generic(f, n);
}

/* max_pool / avg_pool with the reference's rules: padding never wins a
 * max; an average divides by the taps inside the input, or with
 * count_include_pad by those inside the padded input; ceil_mode output
 * extents come from inference (ys). */
int be_l_pool(be_fn *f, const ir_node *n)
{
	if (f->cl && f->cl[n->in[0]->id])
		return pool_cl(f, n);
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
	if (f->cl && f->cl[n->in[0]->id])
		return pool_cl(f, n);
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
