/* l_compact.c: compact kernels for conv and dense layers, the size
 * policies' code (backend.h: be_code).
 *
 * One internal function per weight encoding serves every Conv (1-D/2-D,
 * any groups, strides, pads, dilations) and Gemm (B transposed, no A
 * transpose, alpha = beta = 1) of the model; a layer is one call
 *   kernel(&desc, x, y)
 * with its descriptor, a private constant:
 *   struct { ptr w, scale, zp, bias; float lo, hi; u16 pw[]; u8 pn[]; }
 *   w      packed codes (rows of dim 0 byte-aligned, l_qweight.c) or f32
 *   scale  per-channel scales: f32, fp16 bit patterns, e8 or e12 codes
 *          (their base exponent + 127 in p[CP_SE]); codebook: levels
 *   zp     affine zero points, packed like the codes or i32; NULL: the
 *          constant p[CP_Z] (symmetric: 2^(bits-1))
 *   bias   f32 [M], fp16 bit patterns or b12 codes (base exponent + 127
 *          in p[CP_BE]) as pass_bias_dtype says, or NULL
 *   lo/hi  the clamp of a fused Relu or Clip (+-inf without one)
 *   pw/pn  geometry and parameters (CP_*), the sizes in u16 and the
 *          kernel's, strides', pads', dilations' and the codes'
 *          parameters in u8 (cp_narrow); a Gemm is a 1x1 conv over a 1x1
 *          image.
 * The kernel, for each sample n and output channel m: zero the output
 * plane; for each tap (c, ky, kx) decode the weight once and, unless it is
 * zero, add x * w to every output position whose input tap lies inside the
 * input (a range of rows and columns computed per tap: padding costs no
 * copies and no checks per position); then
 * y = y * scale + bias, clamped.  A conv of stride 1 or 2 along the row,
 * with 3 or more input channels a group and rows whose interior (the
 * outputs whose taps all lie inside the input's columns) holds DB_WIDTH
 * outputs and at least 7/8 of the row, takes the direct path instead: it
 * decodes row m once into a scratch row the caller passes (the kernel's
 * fourth argument; NULL for other layers) and sums blocks of DB_WIDTH
 * outputs in registers (be_conv_geom makes a pointwise conv's plane one
 * row).  The general loop stays for the rest: depthwise layers, whose
 * few taps a block cannot amortise, small planes and other strides.  A
 * kernel is made once every layer is lowered, with the paths its layers
 * take only (be_l_compact_end).  A dense layer (Gemm, or a 1x1 conv over
 * a 1x1 image) of DENSE_MACS or more takes a kernel of its own for the
 * encoding (".d"), whose sum stays in a register: the general one's tap
 * ranges and stores cost such layers about 128 instructions a MAC on the
 * Cortex-M4.  Integer codes accumulate x * (code - zp)
 * with the scale applied once per output, binary and ternary add or
 * subtract x (no multiplication by weights), power-of-two weights multiply
 * by an exact power of two built from exponent bits, codebooks look their
 * level up.  Up to the order of float operations this is the interpreter's
 * sum of x * DQ(w).  Loop bounds are run-time values and the kernels are
 * minsize: flash does not grow with the number of layers beyond the
 * descriptors and calls. */
#include <math.h>
#include <string.h>

#include "lower.h"
#include "quant.h"

enum {
	CP_N = BE_CG_N, CP_C = BE_CG_C, CP_IH = BE_CG_IH, CP_IW = BE_CG_IW, CP_M = BE_CG_M, CP_OH = BE_CG_OH,
	CP_OW = BE_CG_OW, CP_KH = BE_CG_KH, CP_KW = BE_CG_KW, CP_SH = BE_CG_SH, CP_SW = BE_CG_SW, CP_PH = BE_CG_PH,
	CP_PW = BE_CG_PW, CP_DH = BE_CG_DH, CP_DW = BE_CG_DW, CP_G = BE_CG_G,
	CP_BITS = BE_CG_COUNT, CP_ROWB, CP_Z, CP_PC, CP_SE, CP_BE, CP_COUNT
};

enum { D_W, D_SCALE, D_ZP, D_BIAS, D_LO, D_HI, D_PW, D_PN };

/* The parameters a descriptor holds in a byte (a layer whose do not fit
 * is not compact); the rest take 16 bits.  At 12 bytes fewer a layer
 * than all in 16 bits, VWW's 2-bit object is 336 B smaller. */
static const bool cp_narrow[CP_COUNT] = {
	[CP_KH] = 1, [CP_KW] = 1, [CP_SH] = 1, [CP_SW] = 1, [CP_PH] = 1, [CP_PW] = 1, [CP_DH] = 1,
	[CP_DW] = 1, [CP_BITS] = 1, [CP_Z] = 1, [CP_PC] = 1, [CP_SE] = 1, [CP_BE] = 1,
};

/* Where parameter i lies: its array's member (D_PW, D_PN), index in it. */
static int cp_slot(int i, unsigned *at)
{
	unsigned k = 0;
	for (int j = 0; j < i; j++)
		k += cp_narrow[j] == cp_narrow[i];
	*at = k;
	return cp_narrow[i] ? D_PN : D_PW;
}

static unsigned cp_count(bool narrow)
{
	unsigned k = 0;
	for (int j = 0; j < CP_COUNT; j++)
		k += cp_narrow[j] == narrow;
	return k;
}

enum { DENSE_MACS = 4096, DB_WIDTH = 8, DB_LONE = 2, DB_ROW_BYTES = 4096 };

/* Weight encodings with a kernel each (the key adds the scale and zero
 * point storage). */
typedef enum { KK_F32, KK_INT, KK_BIN, KK_TERN, KK_POW2, KK_CB, KK_COUNT } kk_kind;

typedef struct ck_key {
	kk_kind kind;
	int scale_mode; /* BE_SC_* */
	int zp_mode; /* BE_ZP_* */
	int bias_dt; /* how the bias is stored: PASS_BIAS_* (pass_bias_dtype) */
	bool dense;  /* a 1x1 kernel over a 1x1 image, no pads (Gemm, or a conv that is one) */
} ck_key;

static int key_index(const ck_key *k)
{
	return ((((int)k->kind * BE_SC_COUNT + k->scale_mode) * 3 + k->zp_mode) * 3 + k->bias_dt) * 2 + k->dense;
}

static ck_key key_of(int ki)
{
	ck_key k;
	k.dense = ki % 2;
	k.bias_dt = ki / 2 % 3;
	k.zp_mode = ki / 6 % 3;
	k.scale_mode = ki / 18 % BE_SC_COUNT;
	k.kind = (kk_kind)(ki / 18 / BE_SC_COUNT);
	return k;
}

/* The paths of the general kernel a layer takes (be_fn.cpaths): the tap
 * loop, the direct path's blocks.  A kernel has those of its layers. */
enum { CPATH_TAPS = 1, CPATH_DIRECT = 2, CPATH_DIRECT2 = 4 };

static LLVMTypeRef desc_type(be_fn *f)
{
	LLVMTypeRef el[8] = {f->ptr, f->ptr, f->ptr, f->ptr, f->f32, f->f32,
	                     LLVMArrayType2(LLVMInt16TypeInContext(f->ctx), cp_count(false)),
	                     LLVMArrayType2(f->i8, cp_count(true))};
	return LLVMStructTypeInContext(f->ctx, el, 8, 0);
}

static LLVMTypeRef kernel_type(be_fn *f)
{
	LLVMTypeRef pt[4] = {f->ptr, f->ptr, f->ptr, f->ptr};
	return LLVMFunctionType(f->vd, pt, 4, 0);
}

/* ------------------------------------------------------------ the kernel */

typedef struct kb {
	be_fn *f;
	LLVMValueRef p[CP_COUNT]; /* geometry, index values */
	LLVMValueRef rowlen;      /* f32 weights per output channel: C/G*KH*KW */
	LLVMValueRef w, scale, zp, bias, lo, hi, x, y;
	LLVMValueRef row; /* the direct path's decoded weights (f32[rowlen]), or NULL */
} kb;

LLVMValueRef be_imul(be_fn *f, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildNUWMul(f->b, a, b, "");
}

LLVMValueRef be_iadd(be_fn *f, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildNUWAdd(f->b, a, b, "");
}

/* The weight of tap j of row m as the kernel uses it: *wv the multiplier
 * (or NULL for binary/ternary, which select on *code), *nz "is nonzero". */
static void decode(const kb *k, const ck_key *key, LLVMValueRef m, LLVMValueRef mc, LLVMValueRef z,
                   LLVMValueRef j, LLVMValueRef *wv, LLVMValueRef *code, LLVMValueRef *nz)
{
	be_fn *f = k->f;
	LLVMBuilderRef b = f->b;
	LLVMValueRef zero32 = LLVMConstInt(f->i32, 0, 0);
	*wv = NULL;
	*code = NULL;
	if (key->kind == KK_F32) {
		*wv = be_ld(f, k->w, be_iadd(f, be_imul(f, m, k->rowlen), j));
		*nz = LLVMBuildFCmp(b, LLVMRealUNE, *wv, be_cf(f, 0), "");
		return;
	}
	LLVMValueRef c = be_qw_code(f, k->w, be_imul(f, m, k->p[CP_ROWB]), j, k->p[CP_BITS]);
	*code = c;
	switch (key->kind) {
	case KK_INT: {
		LLVMValueRef q = LLVMBuildSub(b, c, z, "");
		*nz = LLVMBuildICmp(b, LLVMIntNE, q, zero32, "");
		*wv = LLVMBuildSIToFP(b, q, f->f32, "");
		return;
	}
	case KK_BIN:
		*nz = LLVMConstInt(f->i1, 1, 0);
		return;
	case KK_TERN:
		*nz = LLVMBuildICmp(b, LLVMIntNE, c, LLVMConstInt(f->i32, 2, 0), "");
		return;
	case KK_POW2: {
		/* half = 2^(bits-1); m = code & (half-1); value 2^-(m-1), sign
		 * from code & half; m = 0: zero. */
		LLVMValueRef half = LLVMBuildShl(b, LLVMConstInt(f->i32, 1, 0),
		                                 LLVMBuildTrunc(b, LLVMBuildSub(b, k->p[CP_BITS], be_ci(f, 1), ""),
		                                                f->i32, ""),
		                                 "");
		LLVMValueRef mag = LLVMBuildAnd(b, c, LLVMBuildSub(b, half, LLVMConstInt(f->i32, 1, 0), ""), "");
		LLVMValueRef ex = LLVMBuildSub(b, LLVMConstInt(f->i32, 128, 0), mag, "");
		LLVMValueRef neg = LLVMBuildICmp(b, LLVMIntNE, LLVMBuildAnd(b, c, half, ""), zero32, "");
		LLVMValueRef sign = LLVMBuildShl(b, LLVMBuildZExt(b, neg, f->i32, ""), LLVMConstInt(f->i32, 31, 0), "");
		LLVMValueRef bits = LLVMBuildOr(b, sign, LLVMBuildShl(b, ex, LLVMConstInt(f->i32, 23, 0), ""), "");
		*wv = LLVMBuildBitCast(b, bits, f->f32, "");
		*nz = LLVMBuildICmp(b, LLVMIntNE, mag, zero32, "");
		return;
	}
	case KK_CB: {
		LLVMValueRef ci = f->ity == f->i32 ? c : LLVMBuildZExt(b, c, f->ity, "");
		LLVMValueRef li = LLVMBuildOr(b, LLVMBuildShl(b, mc, k->p[CP_BITS], ""), ci, "");
		*wv = be_ld(f, k->scale, li);
		*nz = LLVMBuildFCmp(b, LLVMRealUNE, *wv, be_cf(f, 0), "");
		return;
	}
	default:
		*nz = LLVMConstInt(f->i1, 0, 0);
		return;
	}
}

/* The term a tap adds for input xv. */
static LLVMValueRef term(be_fn *f, const ck_key *key, LLVMValueRef xv, LLVMValueRef wv, LLVMValueRef code)
{
	LLVMBuilderRef b = f->b;
	if (key->kind == KK_BIN || key->kind == KK_TERN) {
		LLVMValueRef pos = LLVMBuildICmp(b, LLVMIntEQ, code,
		                                 LLVMConstInt(f->i32, key->kind == KK_BIN ? 1 : 3, 0), "");
		return LLVMBuildSelect(b, pos, xv, LLVMBuildFNeg(b, xv, ""), "");
	}
	return LLVMBuildFMul(b, xv, wv, "");
}

/* Output positions o in [*lo, *hi) (hi may be below lo: none) whose input
 * o*st + t lies in [0, in); t may be negative. */
void be_tap_range(be_fn *f, LLVMValueRef t, LLVMValueRef st, LLVMValueRef in, LLVMValueRef out,
                      LLVMValueRef *lo, LLVMValueRef *hi)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef zero = be_ci(f, 0), sm1 = LLVMBuildSub(b, st, be_ci(f, 1), "");
	LLVMValueRef neg = LLVMBuildICmp(b, LLVMIntSLT, t, zero, "");
	*lo = LLVMBuildSelect(b, neg, LLVMBuildUDiv(b, LLVMBuildSub(b, sm1, t, ""), st, ""), zero, "");
	LLVMValueRef room = LLVMBuildSub(b, in, t, "");
	LLVMValueRef h = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSGT, room, zero, ""),
	                                 LLVMBuildUDiv(b, LLVMBuildAdd(b, room, sm1, ""), st, ""), zero, "");
	*hi = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntULT, h, out, ""), h, out, "");
}

LLVMValueRef be_kernel_begin(be_fn *f, const char *name, LLVMTypeRef fty, be_kstate *ks)
{
	LLVMValueRef fn = LLVMAddFunction(f->mod, name, fty);
	LLVMSetLinkage(fn, LLVMInternalLinkage);
	static const char *const fattr[] = {"nounwind", "noinline", "minsize", "optsize"};
	for (size_t i = 0; i < sizeof fattr / sizeof fattr[0]; i++)
		LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, be_attr(f->ctx, fattr[i]));
	for (unsigned i = 1; i <= LLVMCountParamTypes(fty); i++)
		LLVMAddAttributeAtIndex(fn, i, be_attr(f->ctx, "noalias"));
	/* no memset/memcpy from the loops: the object imports nothing */
	LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
	                        LLVMCreateStringAttribute(f->ctx, "no-builtins", 11, "", 0));
	/* Build it with f's helpers: point f at the kernel, then back. */
	ks->b = f->b;
	ks->fn = f->fn;
	ks->entry = f->entry;
	f->b = LLVMCreateBuilderInContext(f->ctx);
	f->fn = fn;
	f->entry = LLVMAppendBasicBlockInContext(f->ctx, fn, "entry");
	LLVMPositionBuilderAtEnd(f->b, f->entry);
	return fn;
}

void be_kernel_end(be_fn *f, const be_kstate *ks)
{
	LLVMDisposeBuilder(f->b);
	f->b = ks->b;
	f->fn = ks->fn;
	f->entry = ks->entry;
}

/* Outputs [o, o + width) of output row yr (an index into y) of a layer
 * whose first tap row is ty (oy * sh - ph, may be negative), sw its
 * stride along the row (by which output i + 1's first tap lies after
 * output i's; a constant where width > 1): the sums in registers over
 * the decoded weights k->row, zeros skipped, for each tap (ky, kx) over
 * the channels.  Taps
 * outside the input's rows are skipped; those outside its columns are
 * too where checkx (width 1), and must not exist otherwise (the row's
 * interior). */
static void dblock(const kb *k, int width, LLVMValueRef sw, bool checkx, LLVMValueRef o, LLVMValueRef ty,
                   LLVMValueRef cg, LLVMValueRef xb, LLVMValueRef yr, LLVMValueRef ihw)
{
	be_fn *f = k->f;
	LLVMBuilderRef b = f->b;
	const LLVMValueRef *p = k->p;
	LLVMValueRef acc[DB_WIDTH];
	for (int i = 0; i < width; i++) {
		acc[i] = be_entry_alloca(f, f->f32, "dacc");
		LLVMBuildStore(b, be_cf(f, 0), acc[i]);
	}
	LLVMValueRef tx = LLVMBuildSub(b, be_imul(f, o, sw), p[CP_PW], "");
	int64_t lane = LLVMIsAConstantInt(sw) ? (int64_t)LLVMConstIntGetZExtValue(sw) : 1;
	LLVMValueRef khw = be_imul(f, p[CP_KH], p[CP_KW]);
	be_loop lky, lkx, lc;
	LLVMValueRef ky = be_loop_begin_v(f, &lky, p[CP_KH]);
	LLVMValueRef iy = LLVMBuildAdd(b, ty, be_imul(f, ky, p[CP_DH]), "");
	be_if inrow;
	be_if_begin(f, &inrow, LLVMBuildICmp(b, LLVMIntULT, iy, p[CP_IH], ""));
	LLVMValueRef xrow = LLVMBuildAdd(b, be_iadd(f, xb, be_imul(f, iy, p[CP_IW])), tx, "");
	LLVMValueRef kx = be_loop_begin_v(f, &lkx, p[CP_KW]);
	LLVMValueRef dx = be_imul(f, kx, p[CP_DW]);
	be_if incol;
	if (checkx)
		be_if_begin(f, &incol, LLVMBuildICmp(b, LLVMIntULT, LLVMBuildAdd(b, tx, dx, ""), p[CP_IW], ""));
	LLVMValueRef x0 = LLVMBuildAdd(b, xrow, dx, ""); /* (a column left of the input: no nuw) */
	/* the weight's and the input's index step by khw and ihw (slots:
	 * phis after mem2reg, so the loop does no multiplication) */
	LLVMValueRef ws = be_entry_alloca(f, f->ity, "dw"), xs = be_entry_alloca(f, f->ity, "dx");
	LLVMBuildStore(b, be_iadd(f, be_imul(f, ky, p[CP_KW]), kx), ws);
	LLVMBuildStore(b, x0, xs);
	be_loop_begin_v(f, &lc, cg);
	LLVMValueRef wi = LLVMBuildLoad2(b, f->ity, ws, ""), xi = LLVMBuildLoad2(b, f->ity, xs, "");
	LLVMBuildStore(b, be_iadd(f, wi, khw), ws);
	LLVMBuildStore(b, LLVMBuildAdd(b, xi, ihw, ""), xs);
	LLVMValueRef w = be_ld(f, k->row, wi);
	be_if nz;
	be_if_begin(f, &nz, LLVMBuildFCmp(b, LLVMRealUNE, w, be_cf(f, 0), ""));
	for (int i = 0; i < width; i++) {
		LLVMValueRef xv = be_ld(f, k->x, be_iadd(f, xi, be_ci(f, i * lane)));
		LLVMValueRef a = LLVMBuildLoad2(b, f->f32, acc[i], "");
		LLVMBuildStore(b, LLVMBuildFAdd(b, a, LLVMBuildFMul(b, xv, w, ""), ""), acc[i]);
	}
	be_if_end(f, &nz);
	be_loop_end(f, &lc);
	if (checkx)
		be_if_end(f, &incol);
	be_loop_end(f, &lkx);
	be_if_end(f, &inrow);
	be_loop_end(f, &lky);
	LLVMValueRef yo = be_iadd(f, yr, o);
	for (int i = 0; i < width; i++)
		be_st(f, k->y, be_iadd(f, yo, be_ci(f, i)), LLVMBuildLoad2(b, f->f32, acc[i], ""));
}

static LLVMValueRef make_kernel(be_fn *f, const ck_key *key, unsigned paths)
{
	static const char *const kname[KK_COUNT] = {"f32", "int", "bin", "tern", "pow2", "cb"};
	char name[160];
	snprintf(name, sizeof name, "%s.k.%s%s%s%s%s", f->name, kname[key->kind], key->dense ? ".d" : "",
	         key->scale_mode == BE_SC_F16   ? ".h"
	         : key->scale_mode == BE_SC_E8  ? ".e8"
	         : key->scale_mode == BE_SC_E12 ? ".e12"
	                                        : "",
	         key->zp_mode == BE_ZP_PACKED ? ".zp" : key->zp_mode == BE_ZP_I32 ? ".zi" : "",
	         key->bias_dt == PASS_BIAS_F16 ? ".bh" : key->bias_dt == PASS_BIAS_B12 ? ".b12" : "");
	be_kstate ks;
	LLVMValueRef fn = be_kernel_begin(f, name, kernel_type(f), &ks);
	LLVMBuilderRef b = f->b;
	if (key->dense) /* else the machine outliner shares its sequences with the
	                 * general kernel's loops, which then run the calls */
		LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
		                        LLVMCreateStringAttribute(f->ctx, "nooutline", 9, "", 0));

	kb K = {.f = f}, *k = &K;
	LLVMTypeRef dt = desc_type(f), i16 = LLVMInt16TypeInContext(f->ctx);
	LLVMValueRef d = LLVMGetParam(fn, 0);
	k->x = LLVMGetParam(fn, 1);
	k->y = LLVMGetParam(fn, 2);
	k->row = LLVMGetParam(fn, 3);
	LLVMValueRef *slot[4] = {&k->w, &k->scale, &k->zp, &k->bias};
	for (int i = 0; i < 4; i++)
		*slot[i] = LLVMBuildLoad2(b, f->ptr, LLVMBuildStructGEP2(b, dt, d, (unsigned)(D_W + i), ""), "");
	k->lo = LLVMBuildLoad2(b, f->f32, LLVMBuildStructGEP2(b, dt, d, D_LO, ""), "");
	k->hi = LLVMBuildLoad2(b, f->f32, LLVMBuildStructGEP2(b, dt, d, D_HI, ""), "");
	for (int i = 0; i < CP_COUNT; i++) {
		unsigned at;
		int mem = cp_slot(i, &at);
		LLVMTypeRef et = mem == D_PN ? f->i8 : i16;
		LLVMValueRef idx = LLVMConstInt(f->ity, at, 0);
		LLVMValueRef arr = LLVMBuildStructGEP2(b, dt, d, (unsigned)mem, "");
		LLVMValueRef a = LLVMBuildInBoundsGEP2(b, et, arr, &idx, 1, "");
		k->p[i] = LLVMBuildZExt(b, LLVMBuildLoad2(b, et, a, ""), f->ity, "");
	}
	LLVMValueRef *p = k->p;
	LLVMValueRef cg = LLVMBuildUDiv(b, p[CP_C], p[CP_G], "");
	LLVMValueRef mg = LLVMBuildUDiv(b, p[CP_M], p[CP_G], "");
	LLVMValueRef ihw = be_imul(f, p[CP_IH], p[CP_IW]);
	LLVMValueRef ohw = be_imul(f, p[CP_OH], p[CP_OW]);
	k->rowlen = be_imul(f, be_imul(f, cg, p[CP_KH]), p[CP_KW]);

	be_loop ln, lm;
	LLVMValueRef n = be_loop_begin_v(f, &ln, p[CP_N]);
	LLVMValueRef m = be_loop_begin_v(f, &lm, p[CP_M]);
	LLVMValueRef g = LLVMBuildUDiv(b, m, mg, "");
	LLVMValueRef xb = be_imul(f, be_iadd(f, be_imul(f, n, p[CP_C]), be_imul(f, g, cg)), ihw);
	LLVMValueRef yb = be_imul(f, be_iadd(f, be_imul(f, n, p[CP_M]), m), ohw);
	LLVMValueRef mc = be_imul(f, m, p[CP_PC]);
	/* The zero point of row m. */
	LLVMValueRef z = NULL;
	if (key->kind == KK_INT) {
		if (key->zp_mode == BE_ZP_NONE)
			z = LLVMBuildTrunc(b, p[CP_Z], f->i32, "");
		else if (key->zp_mode == BE_ZP_PACKED)
			z = be_qw_code(f, k->zp, be_ci(f, 0), mc, p[CP_BITS]);
		else
			z = be_ld_t(f, f->i32, k->zp, mc);
	}

	if (key->dense) {
		/* The dense kernel: the sum in a register, each weight decoded
		 * and added (a zero skipped by a select, so that the sum is the
		 * general loop's, operation for operation), without the general
		 * loop's tap ranges, branches and stores per tap (which cost
		 * Gemm layers about 128 instructions a MAC on the Cortex-M4). */
		LLVMValueRef sum = be_entry_alloca(f, f->f32, "dsum");
		LLVMBuildStore(b, be_cf(f, 0), sum);
		be_loop ld;
		LLVMValueRef dc = be_loop_begin_v(f, &ld, cg);
		LLVMValueRef dwv, dcode, dnz;
		decode(k, key, m, mc, z, dc, &dwv, &dcode, &dnz);
		LLVMValueRef a = LLVMBuildLoad2(b, f->f32, sum, "");
		LLVMValueRef t = LLVMBuildFAdd(b, a, term(f, key, be_ld(f, k->x, be_iadd(f, xb, dc)), dwv, dcode), "");
		LLVMBuildStore(b, LLVMBuildSelect(b, dnz, t, a, ""), sum);
		be_loop_end(f, &ld);
		be_st(f, k->y, yb, LLVMBuildLoad2(b, f->f32, sum, ""));
		goto finish;
	}
	/* A layer of stride 1 or 2 along the row (the caller passes a row,
	 * f32[C/G*KH*KW]): row m's weights decoded once into the row, as the
	 * multipliers the tap loop below uses (binary and ternary as +-1: the
	 * products are exact, the same as its adds and subtracts); then, for
	 * each output row, blocks of DB_WIDTH outputs over its interior
	 * (where every tap lies inside the input's columns), the last block
	 * ending at the interior's end (it may overlap the one before: both
	 * compute the same sums), and the outputs outside it one at a time.
	 * The sums add the tap loop's products, in its order for a 1x1 conv
	 * and by taps, then channels, otherwise.  That loop loads and stores
	 * the output for every weight (about 8 instructions a MAC on the
	 * Cortex-M4, with a range computation per tap), a block about 3. */
	be_if idir, igen;
	unsigned dpaths = paths & (CPATH_DIRECT | CPATH_DIRECT2);
	LLVMValueRef dir = (paths & CPATH_TAPS) && dpaths ? LLVMBuildIsNotNull(b, k->row, "")
	                                                  : LLVMConstInt(f->i1, dpaths != 0, 0);
	if (dpaths) {
		be_if_begin(f, &idir, dir);
		be_loop ld, ly, lb, lx;
		LLVMValueRef j = be_loop_begin_v(f, &ld, k->rowlen);
		LLVMValueRef wv, code, nz;
		decode(k, key, m, mc, z, j, &wv, &code, &nz);
		if (!wv)
			wv = term(f, key, be_cf(f, 1), NULL, code);
		be_st(f, k->row, j, LLVMBuildSelect(b, nz, wv, be_cf(f, 0), ""));
		be_loop_end(f, &ld);
		/* the interior [xa, xe): ox * sw - pw >= 0 and
		 * ox * sw - pw + (kw-1)*dw < iw */
		LLVMValueRef sw = (paths & CPATH_DIRECT2) ? p[CP_SW] : be_ci(f, 1), zero = be_ci(f, 0);
		LLVMValueRef xa = LLVMBuildUDiv(b, be_iadd(f, p[CP_PW], LLVMBuildSub(b, sw, be_ci(f, 1), "")), sw, "");
		LLVMValueRef span = be_imul(f, LLVMBuildSub(b, p[CP_KW], be_ci(f, 1), ""), p[CP_DW]);
		LLVMValueRef hi = LLVMBuildSub(b, LLVMBuildSub(b, be_iadd(f, p[CP_IW], p[CP_PW]), be_ci(f, 1), ""), span, "");
		LLVMValueRef xe = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSLT, hi, zero, ""), zero,
		                                  be_iadd(f, LLVMBuildUDiv(b, hi, sw, ""), be_ci(f, 1)), "");
		xe = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSLT, xe, p[CP_OW], ""), xe, p[CP_OW], "");
		LLVMValueRef blk = LLVMBuildICmp(b, LLVMIntSGE, LLVMBuildSub(b, xe, xa, ""), be_ci(f, DB_WIDTH), "");
		/* a remainder of DB_LONE outputs or fewer runs one at a time
		 * (an output alone costs about 3 of a block's), more in a block
		 * overlapping the one before */
		LLVMValueRef rem = LLVMBuildURem(b, LLVMBuildSub(b, xe, xa, ""), be_ci(f, DB_WIDTH), "");
		xe = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntULE, rem, be_ci(f, DB_LONE), ""),
		                     LLVMBuildSub(b, xe, rem, ""), xe, "");
		LLVMValueRef oy = be_loop_begin_v(f, &ly, p[CP_OH]);
		LLVMValueRef ty = LLVMBuildSub(b, be_imul(f, oy, p[CP_SH]), p[CP_PH], "");
		LLVMValueRef yr = be_iadd(f, yb, be_imul(f, oy, p[CP_OW]));
		LLVMValueRef inner = LLVMBuildSub(b, xe, xa, "");
		be_if hb;
		be_if_begin(f, &hb, blk);
		LLVMValueRef nb = LLVMBuildUDiv(b, be_iadd(f, inner, be_ci(f, DB_WIDTH - 1)), be_ci(f, DB_WIDTH), "");
		LLVMValueRef o = be_iadd(f, xa, be_imul(f, be_loop_begin_v(f, &lb, nb), be_ci(f, DB_WIDTH)));
		LLVMValueRef last = LLVMBuildSub(b, xe, be_ci(f, DB_WIDTH), "");
		o = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntULT, o, last, ""), o, last, "");
		/* the rows of stride 1 and of 2, whichever the layers have */
		be_if s1, s2;
		LLVMValueRef one = LLVMBuildICmp(b, LLVMIntEQ, sw, be_ci(f, 1), "");
		if (paths & CPATH_DIRECT) {
			be_if_begin(f, &s1, (paths & CPATH_DIRECT2) ? one : LLVMConstInt(f->i1, 1, 0));
			dblock(k, DB_WIDTH, be_ci(f, 1), false, o, ty, cg, xb, yr, ihw);
			be_if_end(f, &s1);
		}
		if (paths & CPATH_DIRECT2) {
			be_if_begin(f, &s2, (paths & CPATH_DIRECT) ? LLVMBuildNot(b, one, "") : LLVMConstInt(f->i1, 1, 0));
			dblock(k, DB_WIDTH, be_ci(f, 2), false, o, ty, cg, xb, yr, ihw);
			be_if_end(f, &s2);
		}
		be_loop_end(f, &lb);
		be_if_end(f, &hb);
		/* the rest, one at a time: [0, xa) and [xe, ow), or the row */
		LLVMValueRef gap = LLVMBuildSelect(b, blk, inner, zero, "");
		LLVMValueRef rest = LLVMBuildSub(b, p[CP_OW], gap, "");
		be_if hr;
		be_if_begin(f, &hr, LLVMBuildICmp(b, LLVMIntNE, rest, zero, ""));
		LLVMValueRef i = be_loop_begin_v(f, &lx, rest);
		LLVMValueRef skip = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntULT, i, xa, ""), zero, gap, "");
		LLVMValueRef ox = LLVMBuildAdd(b, i, skip, "");
		dblock(k, 1, sw, true, ox, ty, cg, xb, yr, ihw);
		be_loop_end(f, &lx);
		be_if_end(f, &hr);
		be_loop_end(f, &ly);
		be_if_end(f, &idir);
	}
	if (paths & CPATH_TAPS) { /* the tap loop, for the layers the direct path does not take */
		be_if_begin(f, &igen, LLVMBuildNot(b, dir, ""));
		be_loop lz;
		be_st(f, k->y, be_iadd(f, yb, be_loop_begin_v(f, &lz, ohw)), be_cf(f, 0));
		be_loop_end(f, &lz);
		be_loop lc, lky, lkx, loy, lox;
		LLVMValueRef c = be_loop_begin_v(f, &lc, cg);
		LLVMValueRef xc = be_iadd(f, xb, be_imul(f, c, ihw));
		LLVMValueRef ky = be_loop_begin_v(f, &lky, p[CP_KH]);
		LLVMValueRef kx = be_loop_begin_v(f, &lkx, p[CP_KW]);
		LLVMValueRef j = be_iadd(f, be_imul(f, be_iadd(f, be_imul(f, c, p[CP_KH]), ky), p[CP_KW]), kx);
		LLVMValueRef wv, code, nz;
		decode(k, key, m, mc, z, j, &wv, &code, &nz);
		be_if wnz;
		be_if_begin(f, &wnz, nz);
		/* The output rows and columns whose input tap oy*sh + ky*dh - ph,
		 * ox*sw + kx*dw - pw lies inside the input: no checks per position. */
		LLVMValueRef ty = LLVMBuildSub(b, be_imul(f, ky, p[CP_DH]), p[CP_PH], "");
		LLVMValueRef tx = LLVMBuildSub(b, be_imul(f, kx, p[CP_DW]), p[CP_PW], "");
		LLVMValueRef y0, y1, x0, x1;
		be_tap_range(f, ty, p[CP_SH], p[CP_IH], p[CP_OH], &y0, &y1);
		be_tap_range(f, tx, p[CP_SW], p[CP_IW], p[CP_OW], &x0, &x1);
		be_if any;
		be_if_begin(f, &any, LLVMBuildAnd(b, LLVMBuildICmp(b, LLVMIntULT, y0, y1, ""),
		                                  LLVMBuildICmp(b, LLVMIntULT, x0, x1, ""), ""));
		LLVMValueRef oy = be_iadd(f, y0, be_loop_begin_v(f, &loy, LLVMBuildSub(b, y1, y0, "")));
		LLVMValueRef iy = LLVMBuildAdd(b, be_imul(f, oy, p[CP_SH]), ty, "");
		LLVMValueRef xrow = LLVMBuildAdd(b, be_iadd(f, xc, be_imul(f, iy, p[CP_IW])), tx, "");
		LLVMValueRef yrow = be_iadd(f, yb, be_imul(f, oy, p[CP_OW]));
		/* The input index steps by sw along the row (kept in a slot: a phi
		 * after mem2reg, so the loop does no multiplication). */
		LLVMValueRef xs = be_entry_alloca(f, f->ity, "xi");
		LLVMBuildStore(b, LLVMBuildAdd(b, xrow, be_imul(f, x0, p[CP_SW]), ""), xs);
		LLVMValueRef ox = be_iadd(f, x0, be_loop_begin_v(f, &lox, LLVMBuildSub(b, x1, x0, "")));
		LLVMValueRef xi = LLVMBuildLoad2(b, f->ity, xs, "");
		LLVMBuildStore(b, LLVMBuildAdd(b, xi, p[CP_SW], ""), xs);
		LLVMValueRef xv = be_ld(f, k->x, xi);
		LLVMValueRef yi = be_iadd(f, yrow, ox);
		LLVMValueRef acc = LLVMBuildFAdd(b, be_ld(f, k->y, yi), term(f, key, xv, wv, code), "");
		be_st(f, k->y, yi, acc);
		be_loop_end(f, &lox);
		be_loop_end(f, &loy);
		be_if_end(f, &any);
		be_if_end(f, &wnz);
		be_loop_end(f, &lkx);
		be_loop_end(f, &lky);
		be_loop_end(f, &lc);
		be_if_end(f, &igen);
	}

finish:; /* (a label before declarations: C17 wants a statement) */
	/* y = y * scale + bias, clamped to [lo, hi]. */
	LLVMValueRef s = NULL;
	if (key->kind != KK_F32 && key->kind != KK_CB) {
		be_qw_view v = {.scale = k->scale, .scale_mode = key->scale_mode};
		if (key->scale_mode == BE_SC_E8 || key->scale_mode == BE_SC_E12)
			v.ebits = LLVMBuildShl(b, LLVMBuildTrunc(b, k->p[CP_SE], f->i32, ""), LLVMConstInt(f->i32, 23, 0), "");
		s = be_qw_scale(f, &v, mc);
	}
	LLVMValueRef bslot = be_entry_alloca(f, f->f32, "bias");
	LLVMBuildStore(b, be_cf(f, 0), bslot);
	be_if hb;
	be_if_begin(f, &hb, LLVMBuildIsNotNull(b, k->bias, ""));
	LLVMValueRef bl;
	if (key->bias_dt == PASS_BIAS_B12)
		bl = be_code12_ld(f, k->bias, m,
		                  LLVMBuildShl(b, LLVMBuildTrunc(b, k->p[CP_BE], f->i32, ""), LLVMConstInt(f->i32, 23, 0), ""),
		                  PASS_B12_MB, true);
	else
		bl = key->bias_dt == PASS_BIAS_F16 ? be_f16_ld(f, k->bias, m) : be_ld(f, k->bias, m);
	LLVMBuildStore(b, bl, bslot);
	be_if_end(f, &hb);
	LLVMValueRef bv = LLVMBuildLoad2(b, f->f32, bslot, "");
	be_loop lp;
	LLVMValueRef pp = be_loop_begin_v(f, &lp, ohw);
	LLVMValueRef yi2 = be_iadd(f, yb, pp);
	LLVMValueRef r = be_ld(f, k->y, yi2);
	if (s)
		r = LLVMBuildFMul(b, r, s, "");
	r = LLVMBuildFAdd(b, r, bv, "");
	r = be_sel_lt(f, r, k->lo, k->lo, r);
	r = be_sel_lt(f, k->hi, r, k->hi, r);
	be_st(f, k->y, yi2, r);
	be_loop_end(f, &lp);

	be_loop_end(f, &lm);
	be_loop_end(f, &ln);
	LLVMBuildRetVoid(b);
	be_kernel_end(f, &ks);
	return fn;
}

/* ------------------------------------------------------------ lowering */

bool be_fits_u16(int64_t v)
{
	return v >= 0 && v <= 65535;
}

int be_conv_geom(be_fn *f, const ir_node *n, int64_t *g)
{
	const ir_shape *xs = &n->in[0]->shape, *ws = &n->in[1]->shape, *ys = &n->out[0]->shape;
	if (xs->rank != 3 && xs->rank != 4)
		return 1;
	bool two = xs->rank == 4;
	int nsp = xs->rank - 2;
	int64_t st[2], dl[2], in[2], k[2], pb[2], pe[2];
	be_ints_attr(n, "strides", nsp, st);
	be_ints_attr(n, "dilations", nsp, dl);
	for (int i = 0; i < nsp; i++) {
		in[i] = xs->d[2 + i];
		k[i] = ws->d[2 + i];
	}
	if (k_resolve_pads(f->g, n, nsp, in, k, st, dl, pb, pe, f->d))
		return -1;
	int h = two ? 0 : -1, w = two ? 1 : 0;
	g[BE_CG_N] = xs->d[0], g[BE_CG_C] = xs->d[1], g[BE_CG_M] = ys->d[1];
	g[BE_CG_IH] = two ? in[h] : 1, g[BE_CG_IW] = in[w];
	g[BE_CG_OH] = two ? ys->d[2] : 1, g[BE_CG_OW] = ys->d[xs->rank - 1];
	g[BE_CG_KH] = two ? k[h] : 1, g[BE_CG_KW] = k[w];
	g[BE_CG_SH] = two ? st[h] : 1, g[BE_CG_SW] = st[w];
	g[BE_CG_DH] = two ? dl[h] : 1, g[BE_CG_DW] = dl[w];
	g[BE_CG_PH] = two ? pb[h] : 0, g[BE_CG_PW] = pb[w];
	g[BE_CG_G] = ir_attr_int(n, "group", 1);
	if (g[BE_CG_G] < 1 || g[BE_CG_C] % g[BE_CG_G] || g[BE_CG_M] % g[BE_CG_G])
		return 1;
	/* A pointwise conv reads its input plane as one row: one long inner
	 * loop instead of a short one per output row. */
	if (g[BE_CG_KH] == 1 && g[BE_CG_KW] == 1 && g[BE_CG_SH] == 1 && g[BE_CG_SW] == 1 && g[BE_CG_PH] == 0 &&
	    g[BE_CG_PW] == 0 && g[BE_CG_OH] == g[BE_CG_IH] && g[BE_CG_OW] == g[BE_CG_IW]) {
		g[BE_CG_IW] = g[BE_CG_OW] = g[BE_CG_IH] * g[BE_CG_IW];
		g[BE_CG_IH] = g[BE_CG_OH] = 1;
	}
	return 0;
}

/* Fuse a following Relu or Clip (constant bounds) computed in place. */
static const ir_value *fuse_act(be_fn *f, const ir_node *n, float *lo, float *hi)
{
	const ir_value *v = n->out[0];
	*lo = -INFINITY;
	*hi = INFINITY;
	if (!f->fused)
		return v;
	const ir_node *u = ir_value_sole_user(f->g, v);
	if (!u || u->nout < 1 || !u->out[0] || u->in[0] != v || !be_same_storage(f, v, u->out[0]) ||
	    u->id < 0 || u->id >= f->g->nnodes || u->out[0]->dt != IR_DT_F32)
		return v;
	float a, b;
	if (u->op == IR_OP_RELU) {
		a = 0;
		b = INFINITY;
	} else if (u->op == IR_OP_CLIP && be_const_scalar(u, 1, -INFINITY, &a) &&
	           be_const_scalar(u, 2, INFINITY, &b)) {
		if (!(a <= b))
			return v; /* min > max (or NaN): the interpreter's rule applies */
	} else {
		return v;
	}
	*lo = a;
	*hi = b;
	f->fused[u->id] = true;
	return u->out[0];
}

static bool wanted(const be_fn *f, bool packed)
{
	switch (f->code) {
	case BE_CODE_SIZE:
	case BE_CODE_MIN: return true;
	case BE_CODE_AUTO: return f->mcu && packed;
	default: return false;
	}
}

int be_l_compact(be_fn *f, const ir_node *n)
{
	bool conv = n->op == IR_OP_CONV, gemm = n->op == IR_OP_GEMM;
	if ((!conv && !gemm) || n->nin < 2 || n->nout < 1 || !n->in[0] || !n->in[1] || !n->out[0])
		return 1;
	const ir_value *xv = n->in[0], *wv = n->in[1], *yv = n->out[0];
	const ir_value *bv = n->nin > 2 && n->in[2] && ir_shape_numel(&n->in[2]->shape) > 0 ? n->in[2] : NULL;
	if (xv->dt != IR_DT_F32 || wv->dt != IR_DT_F32 || yv->dt != IR_DT_F32 || wv->kind != IR_VAL_CONST)
		return 1;
	be_qw_view q;
	bool packed = be_qw_view_of(f, wv, &q);
	if (!wanted(f, packed))
		return 1;
	const ir_shape *xs = &xv->shape, *ws = &wv->shape, *ys = &yv->shape;
	int64_t P[CP_COUNT] = {0};
	if (conv) {
		int rc = be_conv_geom(f, n, P);
		if (rc)
			return rc;
	} else {
		/* Y[N, M] = A[N, K] B[M, K]' + C[M] */
		if (ir_attr_int(n, "trans_a", 0) || !ir_attr_int(n, "trans_b", 0) ||
		    ir_attr_float(n, "alpha", 1.0f) != 1.0f || (bv && ir_attr_float(n, "beta", 1.0f) != 1.0f) ||
		    xs->rank != 2 || ws->rank != 2 || ys->rank != 2)
			return 1;
		if (bv && !(bv->shape.rank == 1 || (bv->shape.rank == 2 && bv->shape.d[0] == 1)))
			return 1;
		P[CP_N] = xs->d[0], P[CP_C] = xs->d[1], P[CP_M] = ys->d[1];
		P[CP_IH] = P[CP_IW] = P[CP_OH] = P[CP_OW] = P[CP_KH] = P[CP_KW] = 1;
		P[CP_SH] = P[CP_SW] = P[CP_DH] = P[CP_DW] = P[CP_G] = 1;
	}
	if (bv && (ir_shape_numel(&bv->shape) != P[CP_M] || bv->dt != IR_DT_F32))
		return 1;

	ck_key key = {KK_F32, BE_SC_F32, BE_ZP_NONE, bv ? f->cst[bv->id].dt : PASS_BIAS_F32,
	              P[CP_IH] * P[CP_IW] == 1 && P[CP_OH] * P[CP_OW] == 1 && P[CP_KH] * P[CP_KW] == 1 &&
	                  P[CP_PH] == 0 && P[CP_PW] == 0};
	if (key.bias_dt == PASS_BIAS_B12)
		P[CP_BE] = f->cst[bv->id].e0 + 127;
	LLVMValueRef wp, sp = NULL, zp = NULL;
	if (packed) {
		const ir_quant *iq = wv->quant;
		/* Parameters per output channel (axis 0) or per tensor. */
		if (iq->nchan != 1 && !(iq->axis == 0 && iq->nchan == P[CP_M]))
			return 1;
		P[CP_PC] = iq->nchan == 1 ? 0 : 1;
		P[CP_BITS] = q.bits;
		P[CP_ROWB] = q.rowbytes;
		key.scale_mode = q.scale_mode;
		if (q.scale_mode == BE_SC_E8 || q.scale_mode == BE_SC_E12)
			P[CP_SE] = (int64_t)(LLVMConstIntGetZExtValue(q.ebits) >> 23);
		wp = q.packed;
		sp = q.scale;
		switch (iq->scheme) {
		case IR_QS_AFFINE:
			key.kind = KK_INT;
			key.zp_mode = q.zp_mode;
			zp = q.zp;
			break;
		case IR_QS_SYMMETRIC:
			key.kind = KK_INT;
			P[CP_Z] = (int64_t)1 << (q.bits - 1);
			break;
		case IR_QS_BINARY: key.kind = KK_BIN; break;
		case IR_QS_TERNARY: key.kind = KK_TERN; break;
		case IR_QS_POW2: key.kind = KK_POW2; break;
		case IR_QS_CODEBOOK:
			key.kind = KK_CB;
			key.scale_mode = BE_SC_F32;
			sp = q.levels;
			break;
		default: return 1;
		}
	} else {
		if (wv->quant && wv->quant->packed)
			return 1; /* packed in a layout l_qweight.c refused */
		wp = be_const_global(f, wv);
	}
	for (int i = 0; i < CP_COUNT; i++)
		if (!be_fits_u16(P[i]) || (cp_narrow[i] && P[i] > 255))
			return 1;
	for (int i = CP_N; i <= CP_DW; i++)
		if (i != CP_PH && i != CP_PW && P[i] < 1)
			return 1;
	LLVMValueRef x = be_ptr(f, xv), bias = bv ? be_const_global(f, bv) : NULL;
	if (!x || !wp || (bv && (!bias || !LLVMIsConstant(bias))) || !LLVMIsConstant(wp))
		return 1;
	if (be_same_storage(f, xv, yv))
		return 1;

	float lo, hi;
	const ir_value *out = fuse_act(f, n, &lo, &hi);
	LLVMValueRef y = be_ptr(f, out);
	if (!y)
		return 1;
	/* The dense kernel (about 500 bytes on the Cortex-M4) where it pays:
	 * a layer of DENSE_MACS or more (the general kernel spends about 110
	 * instructions a MAC more on it), or once it is there anyway. */
	if (key.dense && P[CP_N] * P[CP_M] * P[CP_C] < DENSE_MACS) {
		int kd = key_index(&key);
		key.dense = f->compact[kd] != NULL;
	}
	int ki = key_index(&key);
	if (!f->compact[ki]) /* declared now, made by be_l_compact_end */
		f->compact[ki] = LLVMAddFunction(f->mod, "", kernel_type(f));
	/* The direct path (make_kernel) where it pays: a row of the layer's
	 * decoded weights, of DB_ROW_BYTES at most, in the arena's gaps on
	 * Cortex-M where one is free, else on the stack.  Its outputs one at
	 * a time run about 3x a block's instructions a MAC, and a block's
	 * loops over the taps 30, which 3 channels amortise (depthwise layers
	 * took 7% more than the general loop on VWW's 48x48 planes, 20% on
	 * 24x24; VWW's first conv, 3 channels, 3.2 M instructions on that
	 * loop, 2.0 M on the blocks). */
	int64_t cgrp = P[CP_C] / P[CP_G], rowlen = cgrp * P[CP_KH] * P[CP_KW], sw = P[CP_SW];
	int64_t last = P[CP_IW] - 1 + P[CP_PW] - (P[CP_KW] - 1) * P[CP_DW], xe = last < 0 ? 0 : last / sw + 1;
	int64_t inner = (xe < P[CP_OW] ? xe : P[CP_OW]) - (P[CP_PW] + sw - 1) / sw;
	bool direct = conv && !key.dense && (sw == 1 || sw == 2) && cgrp >= 3 && rowlen * 4 <= DB_ROW_BYTES &&
	              inner >= DB_WIDTH && (P[CP_OW] - inner) * 8 <= P[CP_OW];
	LLVMValueRef row = direct ? be_scratch(f, LLVMArrayType2(f->f32, (uint64_t)rowlen), 4, "drow") : NULL;
	f->cpaths[ki] |= !direct ? CPATH_TAPS : sw == 1 ? CPATH_DIRECT : CPATH_DIRECT2;

	/* The descriptor. */
	LLVMTypeRef i16 = LLVMInt16TypeInContext(f->ctx);
	LLVMValueRef pv[2][CP_COUNT];
	for (int i = 0; i < CP_COUNT; i++) {
		unsigned at;
		int mem = cp_slot(i, &at);
		pv[mem - D_PW][at] = LLVMConstInt(mem == D_PN ? f->i8 : i16, (unsigned long long)P[i], 0);
	}
	LLVMValueRef null = LLVMConstNull(f->ptr);
	LLVMValueRef el[8] = {wp,
	                      sp ? sp : null,
	                      zp ? zp : null,
	                      bias ? bias : null,
	                      LLVMConstReal(f->f32, lo),
	                      LLVMConstReal(f->f32, hi),
	                      LLVMConstArray2(i16, pv[0], cp_count(false)),
	                      LLVMConstArray2(f->i8, pv[1], cp_count(true))};
	LLVMValueRef init = LLVMConstStructInContext(f->ctx, el, 8, 0);
	char gname[96];
	snprintf(gname, sizeof gname, "%s.d%d", f->name, n->id);
	/* Opaque: not folded into the kernel, one kernel for all layers is the point. */
	LLVMValueRef g = be_opaque_const(f, gname, init, 0);
	LLVMValueRef args[4] = {g, x, y, row ? row : null};
	if (row)
		be_lifetime(f, true, row, rowlen * 4);
	LLVMBuildCall2(f->b, kernel_type(f), f->compact[ki], args, 4, "");
	f->lcall = true;
	if (row)
		be_lifetime(f, false, row, rowlen * 4);
	return 0;
}

/* The kernels the layers called, made now that every layer is lowered,
 * with the paths those layers take only (be_fn.cpaths). */
void be_l_compact_end(be_fn *f)
{
	for (int ki = 0; ki < BE_COMPACT_KINDS; ki++) {
		LLVMValueRef decl = f->compact[ki];
		if (!decl)
			continue;
		ck_key key = key_of(ki);
		LLVMValueRef fn = make_kernel(f, &key, f->cpaths[ki]);
		/* the calls go to the kernel, and its name is the kernel's */
		LLVMReplaceAllUsesWith(decl, fn);
		LLVMDeleteFunction(decl);
		f->compact[ki] = fn;
	}
}
