/* l_compact_int.c: the compact kernels of the integer path, the size
 * policies' code (-Os, -Oz) for integer conv and matmul; l_compact.c has
 * the float layers' ones.
 *
 * Three kinds of shared internal function serve every integer Conv
 * (1-D/2-D, any groups, strides, pads, dilations) and every MatMul with a
 * constant 2-D right operand, each made once per activation dtype pair
 * (i8, u8, i16) and requantization form; a layer is one call
 * kernel(&desc, x, y, buf) with its descriptor, a private constant, and
 * buf a buffer in the caller's frame (columns or a plane; NULL if none):
 *   struct { ptr w, zw, bias, mult, shift, sg, lut; i32 zx, zy, lo, hi;
 *            u16 p[IP_COUNT]; }
 *   w, zw  the weight codes (and zero points) as the kind wants them
 *          (conv_tables, gemm_tables), each channel's row byte-aligned
 *          (p[IP_ROWB] bytes) at p[IP_BITS] bits
 *   bias   per channel (gemm: x's zero point folded in), i16 where the
 *          layer's all fit (p[IP_B16] = 1) else i32; or NULL
 *   mult   i32 and shift i8: rq_mult and rq_shift, per channel (p[IP_RQC]
 *          = 1) or one for all
 *   sg     gemm: a byte per channel, nonzero where it is stored negated
 *          (NULL: none); lut: gemm's unpacking table (be_dsp_lut)
 *   zx, zy the zero points of x and y; lo, hi y's range (fused clamps)
 *   p      geometry (IP_*); a MatMul is a batch of 1x1 convs whose
 *          outputs are stored channel-last (p[IP_YT] = 1).
 * The kinds: make_gemm_kernel (convs of one group and matmuls: SMLAD
 * over i16 columns), make_dw_kernel (depthwise: a bordered plane) and
 * make_conv_kernel (the rest: a row of accumulators, tap by tap).  Every
 * output goes through the one requantization rule (be_rq_apply: the
 * 32-bit form where the layer's accumulator bound allows, the exact one
 * otherwise), the clamp and the zero point; int32 arithmetic wraps
 * whatever the order of the sum, and padding adds nothing, so the bytes
 * are the interpreter's.  Flash per layer: the packed codes, 7 or 9
 * bytes a channel (bias, mult, shift) and the descriptor; the kernels
 * are minsize. */
#include <stdlib.h>
#include <string.h>

#include "l_int.h"

enum {
	IP_N = BE_CG_N, IP_C = BE_CG_C, IP_IH = BE_CG_IH, IP_IW = BE_CG_IW, IP_M = BE_CG_M, IP_OH = BE_CG_OH,
	IP_OW = BE_CG_OW, IP_KH = BE_CG_KH, IP_KW = BE_CG_KW, IP_SH = BE_CG_SH, IP_SW = BE_CG_SW, IP_PH = BE_CG_PH,
	IP_PW = BE_CG_PW, IP_DH = BE_CG_DH, IP_DW = BE_CG_DW, IP_G = BE_CG_G,
	IP_BITS = BE_CG_COUNT, IP_ROWB, IP_ZC, IP_RQC, IP_YT, IP_R4, IP_BH, IP_BW, IP_B16, IP_QB, IP_COUNT
};

enum { ID_W, ID_ZW, ID_BIAS, ID_MULT, ID_SHIFT, ID_SG, ID_LUT, ID_ZX, ID_ZY, ID_LO, ID_HI, ID_P, ID_COUNT };

enum { CHUNK = 64 }; /* accumulators of one output row at a time */

enum { K_CONV, K_GEMM, K_DW }; /* the kinds of kernel */

static LLVMTypeRef desc_type(be_fn *f)
{
	LLVMTypeRef el[ID_COUNT] = {f->ptr, f->ptr, f->ptr, f->ptr, f->ptr, f->ptr, f->ptr, f->i32, f->i32, f->i32, f->i32,
	                            LLVMArrayType2(LLVMInt16TypeInContext(f->ctx), IP_COUNT)};
	return LLVMStructTypeInContext(f->ctx, el, ID_COUNT, 0);
}

static LLVMTypeRef kernel_type(be_fn *f)
{
	LLVMTypeRef pt[4] = {f->ptr, f->ptr, f->ptr, f->ptr}; /* desc, x, y, columns */
	return LLVMFunctionType(f->vd, pt, 4, 0);
}

/* The activation dtypes a kernel takes: its index, or -1. */
static int act_index(ir_dtype t)
{
	return t == IR_DT_I8 ? 0 : t == IR_DT_U8 ? 1 : t == IR_DT_I16 ? 2 : -1;
}

static LLVMValueRef umin(be_fn *f, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildSelect(f->b, LLVMBuildICmp(f->b, LLVMIntULT, a, b, ""), a, b, "");
}

static LLVMValueRef umax(be_fn *f, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildSelect(f->b, LLVMBuildICmp(f->b, LLVMIntUGT, a, b, ""), a, b, "");
}

/* The kernel function "NAME.k.<what>.<x>.<y>", f's builder in its entry,
 * with the descriptor's fields (fld) and geometry (p, index values). */
static LLVMValueRef kernel_begin(be_fn *f, const char *what, ir_dtype xdt, ir_dtype ydt, be_kstate *ks,
                                 LLVMValueRef *fld, LLVMValueRef *p)
{
	char name[160];
	snprintf(name, sizeof name, "%s.k.%s.%s.%s", f->name, what, ir_dtype_name(xdt), ir_dtype_name(ydt));
	LLVMValueRef fn = be_kernel_begin(f, name, kernel_type(f), ks);
	LLVMBuilderRef b = f->b;
	LLVMTypeRef dt = desc_type(f), i16 = LLVMInt16TypeInContext(f->ctx);
	LLVMValueRef d = LLVMGetParam(fn, 0);
	for (int i = 0; i < ID_P; i++)
		fld[i] = LLVMBuildLoad2(b, i < ID_ZX ? f->ptr : f->i32, LLVMBuildStructGEP2(b, dt, d, (unsigned)i, ""), "");
	LLVMValueRef pa = LLVMBuildStructGEP2(b, dt, d, ID_P, "");
	for (int i = 0; i < IP_COUNT; i++) {
		LLVMValueRef idx = LLVMConstInt(f->ity, (unsigned long long)i, 0);
		LLVMValueRef a = LLVMBuildInBoundsGEP2(b, i16, pa, &idx, 1, "");
		p[i] = LLVMBuildZExt(b, LLVMBuildLoad2(b, i16, a, ""), f->ity, "");
	}
	return fn;
}

/* acc requantized by its channel's q plus zy, clamped to [lo, hi], as
 * ydt: in 32 bits (SMMLAR and shifts) in the kernels for layers whose
 * accumulator bound allows it, else (q->exact) by the 64-bit rule,
 * clamped to [lo, hi] - zy so that adding zy cannot wrap. */
static LLVMValueRef out_val(be_fn *f, ir_dtype ydt, const LLVMValueRef *fld, const be_rqc *q, LLVMValueRef acc)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef r = be_rq_apply(f, q, acc);
	if (!q->exact)
		r = be_smin(f, be_smax(f, r, fld[ID_LO]), fld[ID_HI]);
	else {
		LLVMValueRef lo = LLVMBuildSub(b, fld[ID_LO], fld[ID_ZY], ""), hi = LLVMBuildSub(b, fld[ID_HI], fld[ID_ZY], "");
		r = LLVMBuildAdd(b, be_smin(f, be_smax(f, r, lo), hi), fld[ID_ZY], "");
	}
	return LLVMBuildTrunc(b, r, be_dt_type(f, ydt), "");
}

/* y[yi + o] for o < n: the sums src[o] (i32) plus bias of one channel
 * (q), requantized by out_val.  In the 32-bit form on the DSP, a loop of
 * inline Thumb-2 (LLVM's allocation kept half of the channel's constants
 * on the stack): per output a load, the add, LSLS (the sign step's
 * flag), SMMLAR, the sign step, the shift, the clamp and the store. */
static void out_row(be_fn *f, ir_dtype ydt, const LLVMValueRef *fld, const be_rqc *q, LLVMValueRef src,
                    LLVMValueRef y, LLVMValueRef yi, LLVMValueRef n, LLVMValueRef bias)
{
	LLVMBuilderRef b = f->b;
	LLVMTypeRef yty = be_dt_type(f, ydt);
	if (f->dsp && !q->exact) {
		static const char head[] =
			"1:\nldr $3, [$0], #4\nadd $3, $3, $7\nlsls $3, $3, $8\nsmmlar $3, $3, $9, $10\nit mi\naddmi $3, $3, $11\n"
			"asr $3, $3, $12\ncmp $3, $13\nit lt\nmovlt $3, $13\ncmp $3, $14\nit gt\nmovgt $3, $14\n";
		char text[512];
		snprintf(text, sizeof text, "%s%s $3, [$1], #%d\nsubs $2, $2, #1\nbne 1b\n", head,
		         ydt == IR_DT_I16 ? "strh" : "strb", ydt == IR_DT_I16 ? 2 : 1);
		/* outputs $0-$3: src, dst, n (updated) and a temp; inputs $4-$14:
		 * those three tied, bias $7, the shift left $8, M $9, kc $10, the
		 * sign mask $11, r $12, lo $13, hi $14 */
		static const char cons[] = "=r,=r,=r,=&r,0,1,2,r,r,r,r,r,r,r,r,~{cc},~{memory}";
		LLVMValueRef args[11] = {src, LLVMBuildGEP2(b, yty, y, &yi, 1, ""), LLVMBuildTrunc(b, n, f->i32, ""),
		                         bias, q->left, q->mult, q->half, q->mask, q->r, fld[ID_LO], fld[ID_HI]};
		LLVMTypeRef rty[4] = {f->ptr, f->ptr, f->i32, f->i32}, pty[11];
		for (int i = 0; i < 11; i++)
			pty[i] = LLVMTypeOf(args[i]);
		LLVMTypeRef fty = LLVMFunctionType(LLVMStructTypeInContext(f->ctx, rty, 4, 0), pty, 11, 0);
		LLVMValueRef ia = LLVMGetInlineAsm(fty, text, strlen(text), (char *)cons, sizeof cons - 1, 1, 0,
		                                   LLVMInlineAsmDialectATT, 0);
		LLVMBuildCall2(b, fty, ia, args, 11, "");
		return;
	}
	be_loop lo;
	LLVMValueRef o = be_loop_begin_v(f, &lo, n);
	LLVMValueRef acc = LLVMBuildAdd(b, be_ld_t(f, f->i32, src, o), bias, "");
	be_st_t(f, yty, y, be_iadd(f, yi, o), out_val(f, ydt, fld, q, acc));
	be_loop_end(f, &lo);
}

/* Channel m's requantization constants (rq_mult and rq_shift), where the
 * builder is: a point that dominates all of its outputs. */
static void chan_rq(be_fn *f, const LLVMValueRef *fld, const LLVMValueRef *p, LLVMValueRef m, bool exact, be_rqc *q)
{
	LLVMValueRef rc = be_imul(f, m, p[IP_RQC]);
	LLVMValueRef mult = be_ld_t(f, f->i32, fld[ID_MULT], rc);
	LLVMValueRef shift = LLVMBuildSExt(f->b, be_ld_t(f, LLVMInt8TypeInContext(f->ctx), fld[ID_SHIFT], rc), f->i32, "");
	be_rq_chan(f, q, exact, mult, shift, fld[ID_ZY]);
}

/* The bias of channel m: i16 entries where the layer's all fit
 * (p[IP_B16]), else i32; 0 without a table. */
static LLVMValueRef chan_bias(be_fn *f, const LLVMValueRef *fld, const LLVMValueRef *p, LLVMValueRef m)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef slot = be_entry_alloca(f, f->i32, "bias");
	LLVMBuildStore(b, LLVMConstInt(f->i32, 0, 0), slot);
	LLVMValueRef has = LLVMBuildIsNotNull(b, fld[ID_BIAS], "");
	LLVMValueRef b16 = LLVMBuildICmp(b, LLVMIntNE, p[IP_B16], be_ci(f, 0), "");
	be_if h16, h32;
	be_if_begin(f, &h16, LLVMBuildAnd(b, has, b16, ""));
	LLVMBuildStore(b, LLVMBuildSExt(b, be_ld_t(f, LLVMInt16TypeInContext(f->ctx), fld[ID_BIAS], m), f->i32, ""), slot);
	be_if_end(f, &h16);
	be_if_begin(f, &h32, LLVMBuildAnd(b, has, LLVMBuildNot(b, b16, ""), ""));
	LLVMBuildStore(b, be_ld_t(f, f->i32, fld[ID_BIAS], m), slot);
	be_if_end(f, &h32);
	return LLVMBuildLoad2(b, f->i32, slot, "");
}

/* The kernel of any conv (conv_tables' codes: w and zw less the layer's
 * least of them): for each sample, output channel and output row, the
 * row in chunks of up to CHUNK i32 accumulators on its stack, each
 * starting at the bias; for each tap (c, ky, kx) whose input row lies
 * inside, w - zw decoded once and, unless it is zero, (x - zx)(w - zw)
 * added to the chunk's outputs whose input column lies inside. */
static LLVMValueRef make_conv_kernel(be_fn *f, ir_dtype xdt, ir_dtype ydt, bool exact)
{
	be_kstate ks;
	LLVMValueRef fld[ID_P], p[IP_COUNT];
	LLVMValueRef fn = kernel_begin(f, exact ? "iconv.x" : "iconv", xdt, ydt, &ks, fld, p);
	LLVMBuilderRef b = f->b;
	LLVMValueRef x = LLVMGetParam(fn, 1), y = LLVMGetParam(fn, 2);
	LLVMValueRef one = be_ci(f, 1), zero = be_ci(f, 0), ck = be_ci(f, CHUNK);
	LLVMValueRef cg = LLVMBuildUDiv(b, p[IP_C], p[IP_G], ""), mg = LLVMBuildUDiv(b, p[IP_M], p[IP_G], "");
	LLVMValueRef ihw = be_imul(f, p[IP_IH], p[IP_IW]), ohw = be_imul(f, p[IP_OH], p[IP_OW]);
	LLVMValueRef yt = LLVMBuildICmp(b, LLVMIntNE, p[IP_YT], zero, "");
	LLVMValueRef ystrm = LLVMBuildSelect(b, yt, one, ohw, "");
	LLVMValueRef ystrn = LLVMBuildSelect(b, yt, p[IP_M], be_imul(f, p[IP_M], ohw), "");
	LLVMValueRef nch = LLVMBuildUDiv(b, be_iadd(f, p[IP_OW], be_ci(f, CHUNK - 1)), ck, "");
	LLVMValueRef acc = be_entry_alloca(f, LLVMArrayType2(f->i32, CHUNK), "acc");
	LLVMValueRef xslot = be_entry_alloca(f, f->ity, "xi");

	be_loop ln, lm, loy, lch, li, lc, lky, lkx, lt;
	LLVMValueRef n = be_loop_begin_v(f, &ln, p[IP_N]);
	LLVMValueRef m = be_loop_begin_v(f, &lm, p[IP_M]);
	LLVMValueRef g = LLVMBuildUDiv(b, m, mg, "");
	LLVMValueRef xb = be_imul(f, be_iadd(f, be_imul(f, n, p[IP_C]), be_imul(f, g, cg)), ihw);
	LLVMValueRef yb = be_iadd(f, be_imul(f, n, ystrn), be_imul(f, m, ystrm));
	LLVMValueRef z = be_qw_code(f, fld[ID_ZW], zero, be_imul(f, m, p[IP_ZC]), p[IP_BITS]);
	be_rqc rq;
	chan_rq(f, fld, p, m, exact, &rq);
	LLVMValueRef wrow = be_imul(f, m, p[IP_ROWB]);
	LLVMValueRef bias = chan_bias(f, fld, p, m);

	LLVMValueRef oy = be_loop_begin_v(f, &loy, p[IP_OH]);
	LLVMValueRef ch = be_loop_begin_v(f, &lch, nch);
	LLVMValueRef ox0 = be_imul(f, ch, ck);
	LLVMValueRef cnt = umin(f, ck, LLVMBuildSub(b, p[IP_OW], ox0, ""));
	LLVMValueRef oxe = be_iadd(f, ox0, cnt);
	be_st_t(f, f->i32, acc, be_loop_begin_v(f, &li, cnt), bias);
	be_loop_end(f, &li);

	LLVMValueRef c = be_loop_begin_v(f, &lc, cg);
	LLVMValueRef xc = be_iadd(f, xb, be_imul(f, c, ihw));
	LLVMValueRef ky = be_loop_begin_v(f, &lky, p[IP_KH]);
	/* the input row oy*sh + ky*dh - ph (wraps below 0: one unsigned test) */
	LLVMValueRef iy = LLVMBuildSub(b, be_iadd(f, be_imul(f, oy, p[IP_SH]), be_imul(f, ky, p[IP_DH])), p[IP_PH], "");
	be_if rin;
	be_if_begin(f, &rin, LLVMBuildICmp(b, LLVMIntULT, iy, p[IP_IH], ""));
	LLVMValueRef xrow = be_iadd(f, xc, be_imul(f, iy, p[IP_IW]));
	LLVMValueRef kx = be_loop_begin_v(f, &lkx, p[IP_KW]);
	LLVMValueRef j = be_iadd(f, be_imul(f, be_iadd(f, be_imul(f, c, p[IP_KH]), ky), p[IP_KW]), kx);
	LLVMValueRef wv = LLVMBuildSub(b, be_qw_code(f, fld[ID_W], wrow, j, p[IP_BITS]), z, "");
	be_if wnz;
	be_if_begin(f, &wnz, LLVMBuildICmp(b, LLVMIntNE, wv, LLVMConstInt(f->i32, 0, 0), ""));
	LLVMValueRef tx = LLVMBuildSub(b, be_imul(f, kx, p[IP_DW]), p[IP_PW], "");
	LLVMValueRef x0, x1;
	be_tap_range(f, tx, p[IP_SW], p[IP_IW], p[IP_OW], &x0, &x1);
	LLVMValueRef a = umax(f, x0, ox0), e = umin(f, x1, oxe);
	be_if any;
	be_if_begin(f, &any, LLVMBuildICmp(b, LLVMIntULT, a, e, ""));
	/* tx may be below 0 (a wrapped index): a plain add, no nuw */
	LLVMBuildStore(b, LLVMBuildAdd(b, be_iadd(f, xrow, be_imul(f, a, p[IP_SW])), tx, ""), xslot);
	LLVMValueRef t = be_loop_begin_v(f, &lt, LLVMBuildSub(b, e, a, ""));
	LLVMValueRef xi = LLVMBuildLoad2(b, f->ity, xslot, "");
	LLVMBuildStore(b, be_iadd(f, xi, p[IP_SW]), xslot);
	LLVMValueRef xq = LLVMBuildSub(b, be_ld_i32(f, xdt, x, xi), fld[ID_ZX], "");
	LLVMValueRef ai = be_iadd(f, LLVMBuildSub(b, a, ox0, ""), t);
	/* int32 wrap-around: plain i32 sub/mul/add, no nsw */
	LLVMValueRef sum = LLVMBuildAdd(b, be_ld_t(f, f->i32, acc, ai), LLVMBuildMul(b, xq, wv, ""), "");
	be_st_t(f, f->i32, acc, ai, sum);
	be_loop_end(f, &lt);
	be_if_end(f, &any);
	be_if_end(f, &wnz);
	be_loop_end(f, &lkx);
	be_if_end(f, &rin);
	be_loop_end(f, &lky);
	be_loop_end(f, &lc);

	LLVMValueRef yi = be_iadd(f, be_iadd(f, yb, be_imul(f, oy, p[IP_OW])), ox0);
	out_row(f, ydt, fld, &rq, acc, y, yi, cnt, LLVMConstInt(f->i32, 0, 0));

	be_loop_end(f, &lch);
	be_loop_end(f, &loy);
	be_loop_end(f, &lm);
	be_loop_end(f, &ln);
	LLVMBuildRetVoid(b);
	be_kernel_end(f, &ks);
	return fn;
}

/* SXTB16 of x, or of x rotated right by 8: the DSP instruction where f
 * has it, plain i32 arithmetic elsewhere. */
static LLVMValueRef sxtb16(be_fn *f, LLVMValueRef x, bool ror8)
{
	LLVMBuilderRef b = f->b;
	if (ror8)
		x = LLVMBuildOr(b, LLVMBuildLShr(b, x, LLVMConstInt(f->i32, 8, 0), ""),
		                LLVMBuildShl(b, x, LLVMConstInt(f->i32, 24, 0), ""), "");
	if (f->dsp)
		return be_intr(f, "llvm.arm.sxtb16", NULL, 0, &x, 1);
	LLVMValueRef c24 = LLVMConstInt(f->i32, 24, 0), c8 = LLVMConstInt(f->i32, 8, 0);
	LLVMValueRef lo = LLVMBuildAShr(b, LLVMBuildShl(b, x, c24, ""), c24, "");
	LLVMValueRef hi = LLVMBuildAShr(b, LLVMBuildShl(b, x, c8, ""), c24, "");
	return LLVMBuildOr(b, LLVMBuildAnd(b, lo, LLVMConstInt(f->i32, 0xffff, 0), ""),
	                   LLVMBuildShl(b, hi, LLVMConstInt(f->i32, 16, 0), ""), "");
}

/* The four bytes of the word v (signed, or unsigned where u) as the
 * i16 pairs (x0, x1), (x2, x3) in pv: SXTB16/UXTB16 of v plain and
 * rotated by 8, then PKHBT and PKHTB (DSP only). */
static void pairs16(be_fn *f, bool u, LLVMValueRef v, LLVMValueRef pv[2])
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef c16 = LLVMConstInt(f->i32, 16, 0);
	LLVMValueRef rot = LLVMBuildOr(b, LLVMBuildLShr(b, v, LLVMConstInt(f->i32, 8, 0), ""),
	                               LLVMBuildShl(b, v, LLVMConstInt(f->i32, 24, 0), ""), "");
	const char *ext = u ? "llvm.arm.uxtb16" : "llvm.arm.sxtb16";
	LLVMValueRef e02 = be_intr(f, ext, NULL, 0, &v, 1), e13 = be_intr(f, ext, NULL, 0, &rot, 1);
	pv[0] = LLVMBuildOr(b, LLVMBuildAnd(b, e02, LLVMConstInt(f->i32, 0xffff, 0), ""), LLVMBuildShl(b, e13, c16, ""), "");
	pv[1] = LLVMBuildOr(b, LLVMBuildAnd(b, e13, LLVMConstInt(f->i32, 0xffff0000u, 0), ""), LLVMBuildLShr(b, e02, c16, ""), "");
}

/* n sums of 3x3 taps (dilation 1 along the row) into acc[0..n), the
 * plane's window moving by sstep bytes, rows rowstep bytes apart: per row
 * an unaligned word of (x0, x1) into SMUAD/SMLAD with the pair (w0, w1)
 * and x2 into SMLABB/SMLABT/MLA with w2 (s01: the first two rows' w2 as
 * halfwords).  Inline Thumb-2: the 3x3 weights stay in registers. */
static void dw_row_asm(be_fn *f, LLVMValueRef acc, LLVMValueRef pp, LLVMValueRef n, LLVMValueRef rowstep,
                       LLVMValueRef sstep, const LLVMValueRef *pair, LLVMValueRef s01, LLVMValueRef s2)
{
	static const char text[] =
		"1:\n"
		"ldr $3, [$1]\nldrsh $5, [$1, #4]\nsmuad $3, $3, $11\nsmlabb $3, $5, $14, $3\n"
		"add $5, $1, $9\nldr $4, [$5]\nldrsh $5, [$5, #4]\nsmlad $3, $4, $12, $3\nsmlabt $3, $5, $14, $3\n"
		"add $5, $1, $9, lsl #1\nldr $4, [$5]\nldrsh $5, [$5, #4]\nsmlad $3, $4, $13, $3\nmla $3, $5, $15, $3\n"
		"str $3, [$0], #4\nadd $1, $1, $10\nsubs $2, $2, #1\nbne 1b\n";
	/* outputs $0-$5: acc, p, n (updated), three temps; inputs $6-$15:
	 * those three tied, rowstep $9, sstep $10, the pairs $11-$13, s01
	 * $14, s2 $15 */
	static const char cons[] = "=r,=r,=r,=&r,=&r,=&r,0,1,2,r,r,r,r,r,r,r,~{cc},~{memory}";
	LLVMValueRef args[10] = {acc, pp, LLVMBuildTrunc(f->b, n, f->i32, ""), LLVMBuildTrunc(f->b, rowstep, f->i32, ""),
	                         LLVMBuildTrunc(f->b, sstep, f->i32, ""), pair[0], pair[1], pair[2], s01, s2};
	LLVMTypeRef rty[6] = {f->ptr, f->ptr, f->i32, f->i32, f->i32, f->i32}, pty[10];
	for (int i = 0; i < 10; i++)
		pty[i] = LLVMTypeOf(args[i]);
	LLVMTypeRef fty = LLVMFunctionType(LLVMStructTypeInContext(f->ctx, rty, 6, 0), pty, 10, 0);
	LLVMValueRef ia = LLVMGetInlineAsm(fty, (char *)text, sizeof text - 1, (char *)cons, sizeof cons - 1, 1, 0,
	                                   LLVMInlineAsmDialectATT, 0);
	LLVMBuildCall2(f->b, fty, ia, args, 10, "");
}

enum { DW_TAPS = 64 }; /* the most taps of a depthwise kernel's channel */

/* The depthwise kernel (one input channel per output channel, i8 or u8
 * x): per channel, its taps w - zw decoded once into the stack, and x -
 * zx copied into the caller's buffer as an i16 plane of p[IP_BH] x
 * p[IP_BW] with a border of zeros (the padding, which adds nothing; set
 * once a call); then each output is one dot product over the taps, no
 * bounds checks, in tiles of up to CHUNK sums requantized by out_row. */
static LLVMValueRef make_dw_kernel(be_fn *f, ir_dtype xdt, ir_dtype ydt, bool exact, bool with_pairs)
{
	be_kstate ks;
	LLVMValueRef fld[ID_P], p[IP_COUNT];
	LLVMValueRef fn = kernel_begin(f, exact ? "idw.x" : "idw", xdt, ydt, &ks, fld, p);
	LLVMBuilderRef b = f->b;
	LLVMTypeRef i16 = LLVMInt16TypeInContext(f->ctx);
	LLVMValueRef x = LLVMGetParam(fn, 1), y = LLVMGetParam(fn, 2), pl = LLVMGetParam(fn, 3);
	LLVMValueRef zero = be_ci(f, 0);
	LLVMValueRef ihw = be_imul(f, p[IP_IH], p[IP_IW]), ohw = be_imul(f, p[IP_OH], p[IP_OW]);
	LLVMValueRef kk = be_imul(f, p[IP_KH], p[IP_KW]), BW = p[IP_BW];
	LLVMValueRef words = LLVMBuildLShr(b, be_iadd(f, be_imul(f, p[IP_BH], BW), be_ci(f, 1)), be_ci(f, 1), "");
	LLVMValueRef rowstep = be_imul(f, p[IP_DH], BW), ystep = be_imul(f, p[IP_SH], BW);
	LLVMValueRef wk = be_entry_alloca(f, LLVMArrayType2(f->i32, DW_TAPS), "wk");
	LLVMValueRef aslot = be_entry_alloca(f, f->i32, "acc");

	be_loop ln, lm, lk, lz, liy, lix, loy, lky, lkx, lr;
	/* the plane's border (the padding, which adds nothing) is zero for
	 * every channel: set it once, then each channel fills the inside */
	be_st_t(f, f->i32, pl, be_loop_begin_v(f, &lz, words), LLVMConstInt(f->i32, 0, 0));
	be_loop_end(f, &lz);
	LLVMValueRef n = be_loop_begin_v(f, &ln, p[IP_N]);
	LLVMValueRef m = be_loop_begin_v(f, &lm, p[IP_M]);
	LLVMValueRef nm = be_iadd(f, be_imul(f, n, p[IP_M]), m);
	LLVMValueRef xb = be_imul(f, nm, ihw), yb = be_imul(f, nm, ohw);
	LLVMValueRef z = be_qw_code(f, fld[ID_ZW], zero, be_imul(f, m, p[IP_ZC]), p[IP_BITS]);
	LLVMValueRef wrow = be_imul(f, m, p[IP_ROWB]);
	LLVMValueRef k = be_loop_begin_v(f, &lk, kk);
	be_st_t(f, f->i32, wk, k, LLVMBuildSub(b, be_qw_code(f, fld[ID_W], wrow, k, p[IP_BITS]), z, ""));
	be_loop_end(f, &lk);
	be_rqc rq;
	chan_rq(f, fld, p, m, exact, &rq);
	LLVMValueRef bias = chan_bias(f, fld, p, m);
	/* x - zx inside the plane; on the DSP four pixels at a time: a word
	 * of x, SXTB16/UXTB16 of it plain and rotated, PKHBT/PKHTB into the
	 * pairs (x0, x1), (x2, x3), and SSUB16 of (zx, zx) (exact: x - zx
	 * fits an i16) */
	LLVMValueRef wide = LLVMBuildICmp(b, LLVMIntUGE, p[IP_IW], be_ci(f, 8), "");
	for (int v = f->dsp ? 0 : 1; v < 2; v++) { /* rows of 8 and more in words, else (or) pixels */
		be_if hv, hr;
		if (f->dsp)
			be_if_begin(f, &hv, v ? LLVMBuildNot(b, wide, "") : wide);
		LLVMValueRef iy = be_loop_begin_v(f, &liy, p[IP_IH]);
		LLVMValueRef prow = be_iadd(f, be_imul(f, be_iadd(f, iy, p[IP_PH]), BW), p[IP_PW]);
		LLVMValueRef xrow = be_iadd(f, xb, be_imul(f, iy, p[IP_IW]));
		LLVMValueRef ix0 = zero;
		if (!v) {
			be_loop l4;
			LLVMValueRef n4 = LLVMBuildLShr(b, p[IP_IW], be_ci(f, 2), "");
			LLVMValueRef j4 = be_imul(f, be_loop_begin_v(f, &l4, n4), be_ci(f, 4));
			LLVMValueRef xi = be_iadd(f, xrow, j4);
			LLVMValueRef wv = LLVMBuildLoad2(b, f->i32, LLVMBuildGEP2(b, f->i8, x, &xi, 1, ""), "");
			LLVMSetAlignment(wv, 1);
			LLVMValueRef c16 = LLVMConstInt(f->i32, 16, 0);
			LLVMValueRef pv[2];
			pairs16(f, xdt == IR_DT_U8, wv, pv);
			LLVMValueRef zz = LLVMBuildOr(b, LLVMBuildAnd(b, fld[ID_ZX], LLVMConstInt(f->i32, 0xffff, 0), ""),
			                              LLVMBuildShl(b, fld[ID_ZX], c16, ""), "");
			LLVMValueRef pi = be_iadd(f, prow, j4);
			for (int h = 0; h < 2; h++) {
				LLVMValueRef a2[2] = {pv[h], zz};
				LLVMValueRef at = be_iadd(f, pi, be_ci(f, 2 * h));
				LLVMValueRef st = LLVMBuildStore(b, be_intr(f, "llvm.arm.ssub16", NULL, 0, a2, 2),
				                                 LLVMBuildGEP2(b, i16, pl, &at, 1, ""));
				LLVMSetAlignment(st, 2);
			}
			be_loop_end(f, &l4);
			ix0 = be_imul(f, n4, be_ci(f, 4));
			be_if_begin(f, &hr, LLVMBuildICmp(b, LLVMIntULT, ix0, p[IP_IW], ""));
		}
		LLVMValueRef ix = be_iadd(f, ix0, be_loop_begin_v(f, &lix, LLVMBuildSub(b, p[IP_IW], ix0, "")));
		LLVMValueRef xq = LLVMBuildSub(b, be_ld_i32(f, xdt, x, be_iadd(f, xrow, ix)), fld[ID_ZX], "");
		be_st_t(f, i16, pl, be_iadd(f, prow, ix), LLVMBuildTrunc(b, xq, i16, ""));
		be_loop_end(f, &lix);
		if (!v)
			be_if_end(f, &hr);
		be_loop_end(f, &liy);
		if (f->dsp)
			be_if_end(f, &hv);
	}

	/* 3x3 taps at dilation 1 along the row: per kernel row one SMLAD of
	 * (x0, x1) against the pair (w0, w1) and one multiply of x2 by w2 */
	LLVMValueRef is33 = LLVMBuildAnd(b, LLVMBuildICmp(b, LLVMIntEQ, kk, be_ci(f, 9), ""),
	                                 LLVMBuildAnd(b, LLVMBuildICmp(b, LLVMIntEQ, p[IP_KW], be_ci(f, 3), ""),
	                                              LLVMBuildICmp(b, LLVMIntEQ, p[IP_DW], be_ci(f, 1), ""), ""), "");
	/* other kernels of two or more columns at dilation 1 along the row
	 * (5x5, 1x3, ...) on the DSP: per kernel row, the taps in pairs
	 * (w0, w1) as halfwords in wp, and an odd last tap alone */
	with_pairs = with_pairs && f->dsp; /* only where a layer has such a kernel */
	LLVMValueRef pairs = with_pairs ? LLVMBuildAnd(b, LLVMBuildAnd(b, LLVMBuildNot(b, is33, ""),
	                                                         LLVMBuildICmp(b, LLVMIntEQ, p[IP_DW], be_ci(f, 1), ""), ""),
	                                           LLVMBuildICmp(b, LLVMIntUGE, p[IP_KW], be_ci(f, 2), ""), "")
	                            : LLVMConstInt(f->i1, 0, 0);
	LLVMValueRef npair = LLVMBuildLShr(b, p[IP_KW], be_ci(f, 1), "");
	LLVMValueRef wp = with_pairs ? be_entry_alloca(f, LLVMArrayType2(f->i32, DW_TAPS / 2), "wp") : NULL;
	if (with_pairs) {
		be_if fw;
		be_loop lwy, lwj;
		be_if_begin(f, &fw, pairs);
		LLVMValueRef wy = be_loop_begin_v(f, &lwy, p[IP_KH]);
		LLVMValueRef wj = be_loop_begin_v(f, &lwj, npair);
		LLVMValueRef wt = be_iadd(f, be_imul(f, wy, p[IP_KW]), be_imul(f, wj, be_ci(f, 2)));
		LLVMValueRef w0 = be_ld_t(f, f->i32, wk, wt), w1 = be_ld_t(f, f->i32, wk, be_iadd(f, wt, be_ci(f, 1)));
		be_st_t(f, f->i32, wp, be_iadd(f, be_imul(f, wy, npair), wj),
		        LLVMBuildOr(b, LLVMBuildAnd(b, w0, LLVMConstInt(f->i32, 0xffff, 0), ""),
		                    LLVMBuildShl(b, w1, LLVMConstInt(f->i32, 16, 0), ""), ""));
		be_loop_end(f, &lwj);
		be_loop_end(f, &lwy);
		be_if_end(f, &fw);
	}
	LLVMValueRef pair[3], sing[3];
	for (int r = 0; r < 3; r++) {
		LLVMValueRef w0 = be_ld_t(f, f->i32, wk, be_ci(f, 3 * r)), w1 = be_ld_t(f, f->i32, wk, be_ci(f, 3 * r + 1));
		pair[r] = LLVMBuildOr(b, LLVMBuildAnd(b, w0, LLVMConstInt(f->i32, 0xffff, 0), ""),
		                      LLVMBuildShl(b, w1, LLVMConstInt(f->i32, 16, 0), ""), "");
		sing[r] = be_ld_t(f, f->i32, wk, be_ci(f, 3 * r + 2));
	}
	/* the outputs in tiles of up to CHUNK sums (bias excluded), then
	 * requantized: rows of cw = min(OW, CHUNK) columns, CHUNK / cw rows
	 * a tile (one where a row takes more than one tile); a tile's
	 * outputs are consecutive in y, and its row r's sums at r cnt */
	LLVMValueRef one = be_ci(f, 1), ck = be_ci(f, CHUNK), cw = umin(f, p[IP_OW], ck);
	LLVMValueRef nch = LLVMBuildUDiv(b, be_iadd(f, p[IP_OW], LLVMBuildSub(b, cw, one, "")), cw, "");
	LLVMValueRef rpt = LLVMBuildUDiv(b, ck, cw, "");
	LLVMValueRef nty = LLVMBuildUDiv(b, be_iadd(f, p[IP_OH], LLVMBuildSub(b, rpt, one, "")), rpt, "");
	LLVMValueRef rowacc = be_entry_alloca(f, LLVMArrayType2(f->i32, CHUNK), "racc");
	be_loop lch, li;
	LLVMValueRef oy0 = be_imul(f, be_loop_begin_v(f, &loy, nty), rpt);
	LLVMValueRef nr = umin(f, rpt, LLVMBuildSub(b, p[IP_OH], oy0, ""));
	LLVMValueRef ch = be_loop_begin_v(f, &lch, nch);
	LLVMValueRef ox0 = be_imul(f, ch, cw);
	LLVMValueRef cnt = umin(f, cw, LLVMBuildSub(b, p[IP_OW], ox0, ""));
	LLVMValueRef yt0 = be_iadd(f, be_iadd(f, yb, be_imul(f, oy0, p[IP_OW])), ox0);
	LLVMValueRef r = be_loop_begin_v(f, &lr, nr);
	LLVMValueRef cbase = be_iadd(f, be_imul(f, be_iadd(f, oy0, r), ystep), be_imul(f, ox0, p[IP_SW]));
	LLVMValueRef racc = LLVMBuildGEP2(b, f->i32, rowacc, (LLVMValueRef[]){be_imul(f, r, cnt)}, 1, "");
	if (f->dsp) { /* the 3x3 sums of the row in Thumb-2 */
		be_if fa;
		be_if_begin(f, &fa, is33);
		LLVMValueRef s01 = LLVMBuildOr(b, LLVMBuildAnd(b, sing[0], LLVMConstInt(f->i32, 0xffff, 0), ""),
		                               LLVMBuildShl(b, sing[1], LLVMConstInt(f->i32, 16, 0), ""), "");
		LLVMValueRef two = be_ci(f, 2);
		dw_row_asm(f, racc, LLVMBuildGEP2(b, i16, pl, &cbase, 1, ""), cnt, be_imul(f, rowstep, two),
		           be_imul(f, p[IP_SW], two), pair, s01, sing[2]);
		be_if_end(f, &fa);
	}
	if (with_pairs) { /* the pairs of taps, each over the row's sums in turn */
		be_if fp, odd;
		be_loop lz2, lpy, lpj, lpi, loi;
		be_if_begin(f, &fp, pairs);
		be_st_t(f, f->i32, racc, be_loop_begin_v(f, &lz2, cnt), LLVMConstInt(f->i32, 0, 0));
		be_loop_end(f, &lz2);
		LLVMValueRef py = be_loop_begin_v(f, &lpy, p[IP_KH]);
		LLVMValueRef prp = be_iadd(f, cbase, be_imul(f, py, rowstep));
		LLVMValueRef pj = be_loop_begin_v(f, &lpj, npair);
		LLVMValueRef wpv = be_ld_t(f, f->i32, wp, be_iadd(f, be_imul(f, py, npair), pj));
		LLVMValueRef pat = be_iadd(f, prp, be_imul(f, pj, be_ci(f, 2)));
		LLVMValueRef pi = be_loop_begin_v(f, &lpi, cnt);
		LLVMValueRef xat = be_iadd(f, pat, be_imul(f, pi, p[IP_SW]));
		LLVMValueRef x01 = LLVMBuildLoad2(b, f->i32, LLVMBuildGEP2(b, i16, pl, &xat, 1, ""), "");
		LLVMSetAlignment(x01, 2);
		be_st_t(f, f->i32, racc, pi, be_smlad(f, x01, wpv, be_ld_t(f, f->i32, racc, pi)));
		be_loop_end(f, &lpi);
		be_loop_end(f, &lpj);
		be_if_begin(f, &odd, LLVMBuildTrunc(b, p[IP_KW], f->i1, ""));
		LLVMValueRef kl = LLVMBuildSub(b, p[IP_KW], be_ci(f, 1), "");
		LLVMValueRef wl = be_ld_t(f, f->i32, wk, be_iadd(f, be_imul(f, py, p[IP_KW]), kl));
		LLVMValueRef oi = be_loop_begin_v(f, &loi, cnt);
		LLVMValueRef xl = LLVMBuildSExt(b, be_ld_t(f, i16, pl, be_iadd(f, be_iadd(f, prp, kl), be_imul(f, oi, p[IP_SW]))),
		                                f->i32, "");
		be_st_t(f, f->i32, racc, oi, LLVMBuildAdd(b, be_ld_t(f, f->i32, racc, oi), LLVMBuildMul(b, xl, wl, ""), ""));
		be_loop_end(f, &loi);
		be_if_end(f, &odd);
		be_loop_end(f, &lpy);
		be_if_end(f, &fp);
	}
	be_if fgen;
	be_if_begin(f, &fgen, with_pairs ? LLVMBuildAnd(b, LLVMBuildNot(b, is33, ""), LLVMBuildNot(b, pairs, ""), "")
	                      : f->dsp   ? LLVMBuildNot(b, is33, "")
	                                 : LLVMConstInt(f->i1, 1, 0));
	LLVMValueRef i = be_loop_begin_v(f, &li, cnt);
	LLVMValueRef base = be_iadd(f, cbase, be_imul(f, i, p[IP_SW]));
	LLVMBuildStore(b, LLVMConstInt(f->i32, 0, 0), aslot);
	be_if f33;
	be_if_begin(f, &f33, is33);
	LLVMValueRef a33 = LLVMConstInt(f->i32, 0, 0);
	for (int row = 0; row < 3; row++) {
		LLVMValueRef at = be_iadd(f, base, be_imul(f, be_ci(f, row), rowstep));
		LLVMValueRef pp = LLVMBuildGEP2(b, i16, pl, &at, 1, "");
		LLVMValueRef x01 = LLVMBuildLoad2(b, f->i32, pp, "");
		LLVMSetAlignment(x01, 2);
		a33 = be_smlad(f, x01, pair[row], a33);
		LLVMValueRef x2 = LLVMBuildSExt(b, be_ld_t(f, i16, pl, be_iadd(f, at, be_ci(f, 2))), f->i32, "");
		a33 = LLVMBuildAdd(b, a33, LLVMBuildMul(b, x2, sing[row], ""), "");
	}
	LLVMBuildStore(b, a33, aslot);
	be_if_end(f, &f33);
	be_if fany;
	be_if_begin(f, &fany, LLVMBuildNot(b, is33, ""));
	LLVMValueRef ky = be_loop_begin_v(f, &lky, p[IP_KH]);
	LLVMValueRef rp = be_iadd(f, base, be_imul(f, ky, rowstep));
	LLVMValueRef kr = be_imul(f, ky, p[IP_KW]);
	LLVMValueRef kx = be_loop_begin_v(f, &lkx, p[IP_KW]);
	LLVMValueRef xv = LLVMBuildSExt(b, be_ld_t(f, i16, pl, be_iadd(f, rp, be_imul(f, kx, p[IP_DW]))), f->i32, "");
	LLVMValueRef t = LLVMBuildMul(b, xv, be_ld_t(f, f->i32, wk, be_iadd(f, kr, kx)), "");
	LLVMBuildStore(b, LLVMBuildAdd(b, LLVMBuildLoad2(b, f->i32, aslot, ""), t, ""), aslot);
	be_loop_end(f, &lkx);
	be_loop_end(f, &lky);
	be_if_end(f, &fany);
	be_st_t(f, f->i32, racc, i, LLVMBuildLoad2(b, f->i32, aslot, ""));
	be_loop_end(f, &li);
	be_if_end(f, &fgen);
	be_loop_end(f, &lr);
	out_row(f, ydt, fld, &rq, rowacc, y, yt0, be_imul(f, nr, cnt), bias);
	be_loop_end(f, &lch);
	be_loop_end(f, &loy);
	be_loop_end(f, &lm);
	be_loop_end(f, &ln);
	LLVMBuildRetVoid(b);
	be_kernel_end(f, &ks);
	return fn;
}

enum { TP = 4 }; /* output positions (columns) per trip */
/* the most quads of columns a block, and their bytes where more than one */
enum { QB_MAX = 8, QB_BYTES = 8192 };

/* x as a column element (i16). */
static LLVMValueRef col_ext(be_fn *f, ir_dtype xdt, LLVMValueRef v)
{
	LLVMTypeRef i16 = LLVMInt16TypeInContext(f->ctx);
	return xdt == IR_DT_I16 ? v : xdt == IR_DT_U8 ? LLVMBuildZExt(f->b, v, i16, "") : LLVMBuildSExt(f->b, v, i16, "");
}

/* Where element r of column q0/4 lies: the columns interleaved by 4
 * elements, so that a step reads all of them from one pointer. */
static LLVMValueRef col_at(be_fn *f, LLVMValueRef q4, LLVMValueRef r)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef grp = LLVMBuildLShr(b, r, be_ci(f, 2), "");
	return be_iadd(f, be_iadd(f, be_imul(f, grp, be_ci(f, 4 * TP)), q4), LLVMBuildAnd(b, r, be_ci(f, 3), ""));
}

/* The steps of make_gemm_kernel's inner loop on Cortex-M (inline Thumb-2,
 * which keeps the four accumulators, both pointers, the count, the table
 * and the weight pairs in registers; LLVM's allocation spilled): per 4
 * reduction elements the weight pairs into $7, $8 (8 bits: a word and two
 * SXTB16; 4 bits: two bytes, two table loads; 2 bits: a byte, one LDRD
 * from the table), then per column an LDRD and two SMLADs. */
static void steps_asm(be_fn *f, int bits, int ncol, LLVMValueRef wp, LLVMValueRef cp, LLVMValueRef n,
                      LLVMValueRef lut, LLVMValueRef *accs)
{
	static const char *const wtext[3] = {
		"ldr $7, [$4], #4\nsxtb16 $8, $7, ror #8\nsxtb16 $7, $7\n",
		"ldrb $7, [$4], #1\nldrb $8, [$4], #1\nldr $7, [$18, $7, lsl #2]\nldr $8, [$18, $8, lsl #2]\n",
		"ldrb $7, [$4], #1\nadd $7, $18, $7, lsl #3\nldrd $7, $8, [$7]\n",
	};
	const char *wt = wtext[bits == 8 ? 0 : bits == 4 ? 1 : 2];
	char text[1024];
	size_t at;
	if (ncol == 1) {
		/* one column (the next group 32 bytes on), two steps a trip: an
		 * odd step first (the carry of n / 2), then pairs */
		char step[256];
		snprintf(step, sizeof step, "%sldrd $9, $10, [$5], #%d\nsmlad $0, $9, $7, $0\nsmlad $0, $10, $8, $0\n", wt, 8 * TP);
		snprintf(text, sizeof text, "lsrs $6, $6, #1\nbcc 2f\n%s2:\ncmp $6, #0\nbeq 3f\n1:\n%s%ssubs $6, $6, #1\nbne 1b\n3:\n",
		         step, step, step);
	} else {
		at = (size_t)snprintf(text, sizeof text, "1:\n%s", wt);
		for (int k = 0; k < ncol; k++)
			at += (size_t)snprintf(text + at, sizeof text - at,
			                       "ldrd $9, $10, [$5], #8\nsmlad $%d, $9, $7, $%d\nsmlad $%d, $10, $8, $%d\n", k, k, k, k);
		snprintf(text + at, sizeof text - at, "subs $6, $6, #1\nbne 1b\n");
	}
	static const char cons[] = "=r,=r,=r,=r,=r,=r,=r,=&r,=&r,=&r,=&r,0,1,2,3,4,5,6,r,~{cc},~{memory}";
	LLVMValueRef args[8];
	LLVMTypeRef rty[11], pty[8];
	for (int k = 0; k < TP; k++)
		args[k] = LLVMBuildLoad2(f->b, f->i32, accs[k], "");
	args[4] = wp;
	args[5] = cp;
	args[6] = LLVMBuildTrunc(f->b, n, f->i32, "");
	args[7] = lut;
	for (int i = 0; i < 11; i++)
		rty[i] = i == 4 || i == 5 ? f->ptr : f->i32;
	for (int i = 0; i < 8; i++)
		pty[i] = LLVMTypeOf(args[i]);
	LLVMTypeRef sty = LLVMStructTypeInContext(f->ctx, rty, 11, 0);
	LLVMTypeRef fty = LLVMFunctionType(sty, pty, 8, 0);
	LLVMValueRef ia = LLVMGetInlineAsm(fty, text, strlen(text), (char *)cons, strlen(cons), 1, 0,
	                                   LLVMInlineAsmDialectATT, 0);
	LLVMValueRef r = LLVMBuildCall2(f->b, fty, ia, args, 8, "");
	for (int k = 0; k < TP; k++)
		LLVMBuildStore(f->b, LLVMBuildExtractValue(f->b, r, (unsigned)k, ""), accs[k]);
}

/* Full quads of one channel on Cortex-M in one loop of inline Thumb-2
 * (LLVM's allocation of the same in IR kept the channel's constants on
 * the stack and reloaded them per output; the quad loop's own overhead
 * was as long as the requantization): the channel's constants and the
 * loop's state in cb, i32 words QC_*; per quad, four sums from the bias,
 * steps_asm's loop over the quad's columns (consecutive, from cb's column
 * pointer), the negation of a channel stored negated, per output
 * be_rq_apply's 32-bit form (LSLS for the sign step's flag, SMMLAR, the
 * sign step, the shift) and the clamp, in place; then the four stores at
 * cb's y pointer (byte offsets k esz), which moves on by 4 esz. */
enum {
	QC_BIAS, QC_NEG, QC_LEFT, QC_MULT, QC_KC, QC_MASK, QC_R, QC_LO, QC_HI,
	QC_Y, QC_WP, QC_CP, QC_STEPS, QC_CNT, QC_LUT, QC_COUNT
};

static void quads_asm(be_fn *f, int bits, ir_dtype ydt, LLVMValueRef cb)
{
	/* $0-$3 the sums; $4 the weights, $5 the columns, $6 the count;
	 * $7-$10 temporaries; (4 and 2 bits) $11 the table; cb the input
	 * after them.  Once the steps are done, $4-$10 hold the constants:
	 * left, M, kc, the sign mask, r, lo, hi. */
	bool tab = bits != 8;
	int C = tab ? 12 : 11, L = 11, w0 = 7, w1 = 8, c0 = 9, c1 = 10;
	int esz = ydt == IR_DT_I16 ? 2 : 1;
	char text[3072];
	size_t at = (size_t)snprintf(text, sizeof text,
	                             "2:\nldr $0, [$%d, #%d]\nmov $1, $0\nmov $2, $0\nmov $3, $0\nldr $4, [$%d, #%d]\n"
	                             "ldr $5, [$%d, #%d]\nldr $6, [$%d, #%d]\n",
	                             C, 4 * QC_BIAS, C, 4 * QC_WP, C, 4 * QC_CP, C, 4 * QC_STEPS);
	if (tab)
		at += (size_t)snprintf(text + at, sizeof text - at, "ldr $%d, [$%d, #%d]\n", L, C, 4 * QC_LUT);
	at += (size_t)snprintf(text + at, sizeof text - at, "1:\n");
	if (bits == 8)
		at += (size_t)snprintf(text + at, sizeof text - at, "ldr $%d, [$4], #4\nsxtb16 $%d, $%d, ror #8\nsxtb16 $%d, $%d\n",
		                       w0, w1, w0, w0, w0);
	else if (bits == 4)
		at += (size_t)snprintf(text + at, sizeof text - at,
		                       "ldrb $%d, [$4], #1\nldrb $%d, [$4], #1\nldr $%d, [$%d, $%d, lsl #2]\nldr $%d, [$%d, $%d, lsl #2]\n",
		                       w0, w1, w0, L, w0, w1, L, w1);
	else
		at += (size_t)snprintf(text + at, sizeof text - at, "ldrb $%d, [$4], #1\nadd $%d, $%d, $%d, lsl #3\nldrd $%d, $%d, [$%d]\n",
		                       w0, w0, L, w0, w0, w1, w0);
	for (int k = 0; k < TP; k++)
		at += (size_t)snprintf(text + at, sizeof text - at,
		                       "ldrd $%d, $%d, [$5], #8\nsmlad $%d, $%d, $%d, $%d\nsmlad $%d, $%d, $%d, $%d\n", c0, c1, k,
		                       c0, w0, k, k, c1, w1, k);
	at += (size_t)snprintf(text + at, sizeof text - at,
	                       "subs $6, $6, #1\nbne 1b\nstr $5, [$%d, #%d]\nldr $%d, [$%d, #%d]\ncmp $%d, #0\nbeq 3f\n"
	                       "rsb $0, $0, #0\nrsb $1, $1, #0\nrsb $2, $2, #0\nrsb $3, $3, #0\n3:\n"
	                       "ldrd $4, $5, [$%d, #%d]\nldrd $6, $%d, [$%d, #%d]\nldrd $%d, $%d, [$%d, #%d]\nldr $%d, [$%d, #%d]\n",
	                       C, 4 * QC_CP, w0, C, 4 * QC_NEG, w0, C, 4 * QC_LEFT, w0, C, 4 * QC_KC, w1, c0, C, 4 * QC_R, c1,
	                       C, 4 * QC_HI);
	for (int k = 0; k < TP; k++)
		at += (size_t)snprintf(text + at, sizeof text - at,
		                       "lsls $%d, $%d, $4\nsmmlar $%d, $%d, $5, $6\nit mi\naddmi $%d, $%d, $%d\nasr $%d, $%d, $%d\n"
		                       "cmp $%d, $%d\nit lt\nmovlt $%d, $%d\ncmp $%d, $%d\nit gt\nmovgt $%d, $%d\n",
		                       k, k, k, k, k, k, w0, k, k, w1, k, c0, k, c0, k, c1, k, c1);
	at += (size_t)snprintf(text + at, sizeof text - at, "ldr $4, [$%d, #%d]\n", C, 4 * QC_Y);
	for (int k = 0; k < TP; k++)
		at += (size_t)snprintf(text + at, sizeof text - at, "%s $%d, [$4, #%d]\n", esz == 2 ? "strh" : "strb", k, k * esz);
	snprintf(text + at, sizeof text - at,
	         "add $4, $4, #%d\nstr $4, [$%d, #%d]\nldr $6, [$%d, #%d]\nsubs $6, $6, #1\nstr $6, [$%d, #%d]\nbne 2b\n",
	         TP * esz, C, 4 * QC_Y, C, 4 * QC_CNT, C, 4 * QC_CNT);
	char cons[160];
	int nout = tab ? 12 : 11;
	size_t cl = 0;
	for (int i = 0; i < nout; i++)
		cl += (size_t)snprintf(cons + cl, sizeof cons - cl, "=&r,");
	snprintf(cons + cl, sizeof cons - cl, "r,~{cc},~{memory}");
	LLVMTypeRef rty[12];
	for (int i = 0; i < nout; i++)
		rty[i] = f->i32;
	LLVMTypeRef pty = f->ptr;
	LLVMTypeRef fty = LLVMFunctionType(LLVMStructTypeInContext(f->ctx, rty, (unsigned)nout, 0), &pty, 1, 0);
	LLVMValueRef ia = LLVMGetInlineAsm(fty, text, strlen(text), cons, strlen(cons), 1, 0, LLVMInlineAsmDialectATT, 0);
	LLVMBuildCall2(f->b, fty, ia, &cb, 1, "");
}

/* The kernel of groupless convs and matmuls, by blocks of up to p[IP_QB]
 * quads of output positions: the input columns of each quad (R elements
 * each, as i16, x's zero point where a tap lies in the padding) are
 * copied to the caller's buffer (4 x R4 i16 a quad, R4 = R rounded up to
 * 4, interleaved by groups of 4 elements: col_at); then for each output
 * channel, its constants once, and for each quad 4 accumulators start
 * at the channel's folded bias, take 4 reduction elements a step (two
 * SMLADs per column against the weight pairs: 8 bits from one word and
 * two SXTB16, 4 and 2 bits from the unpacking table, one inner loop per
 * width), are negated back for a channel stored negated, and are
 * requantized (quads_asm on Cortex-M: a block's full quads in one call).
 * A matmul's row is one position (steps_asm's one-column loop). */
static LLVMValueRef make_gemm_kernel(be_fn *f, ir_dtype xdt, ir_dtype ydt, bool exact, unsigned widths)
{
	be_kstate ks;
	LLVMValueRef fld[ID_P], p[IP_COUNT];
	LLVMValueRef fn = kernel_begin(f, exact ? "igemm.x" : "igemm", xdt, ydt, &ks, fld, p);
	LLVMBuilderRef b = f->b;
	LLVMTypeRef i16 = LLVMInt16TypeInContext(f->ctx), i8 = LLVMInt8TypeInContext(f->ctx);
	LLVMValueRef x = LLVMGetParam(fn, 1), y = LLVMGetParam(fn, 2), col = LLVMGetParam(fn, 3);
	LLVMValueRef zero = be_ci(f, 0), one = be_ci(f, 1), tp = be_ci(f, TP);
	LLVMValueRef ihw = be_imul(f, p[IP_IH], p[IP_IW]), P = be_imul(f, p[IP_OH], p[IP_OW]);
	LLVMValueRef yt = LLVMBuildICmp(b, LLVMIntNE, p[IP_YT], zero, "");
	LLVMValueRef ystrm = LLVMBuildSelect(b, yt, one, P, ""), ystrp = LLVMBuildSelect(b, yt, p[IP_M], one, "");
	LLVMValueRef R4 = p[IP_R4], steps = LLVMBuildUDiv(b, R4, be_ci(f, 4), "");
	LLVMValueRef nq = LLVMBuildUDiv(b, be_iadd(f, P, be_ci(f, TP - 1)), tp, "");
	LLVMValueRef zx16 = LLVMBuildTrunc(b, fld[ID_ZX], i16, "");
	LLVMValueRef accs[TP];
	for (int q = 0; q < TP; q++)
		accs[q] = be_entry_alloca(f, f->i32, "acc");

	/* the input offset of each reduction element r = (c, ky, kx) from a
	 * position's first tap (0 past R: their weights are 0), after the
	 * columns in the caller's buffer */
	be_loop ln, lq, lf, lc, lky, lkx, lm, lg, lo;
	LLVMValueRef qsz = be_imul(f, R4, tp); /* a quad's columns, i16 */
	LLVMValueRef offs = LLVMBuildGEP2(b, i16, col, (LLVMValueRef[]){be_imul(f, qsz, p[IP_QB])}, 1, "");
	LLVMValueRef R = be_imul(f, be_imul(f, p[IP_C], p[IP_KH]), p[IP_KW]);
	/* a matmul's row (one position of a 1x1 plane, no padding; each term
	 * of the sum is at least 1): its column is R consecutive elements of
	 * x, copied without the offsets */
	LLVMValueRef mm = LLVMBuildICmp(b, LLVMIntEQ, be_iadd(f, be_iadd(f, be_imul(f, p[IP_KH], p[IP_KW]), ihw), P), be_ci(f, 3), "");
	mm = LLVMBuildAnd(b, mm, LLVMBuildICmp(b, LLVMIntEQ, be_iadd(f, p[IP_PH], p[IP_PW]), zero, ""), "");
	be_if fof;
	be_if_begin(f, &fof, LLVMBuildNot(b, mm, ""));
	be_st_t(f, f->i32, offs, be_loop_begin_v(f, &lo, R4), LLVMConstInt(f->i32, 0, 0));
	be_loop_end(f, &lo);
	LLVMValueRef oc = be_loop_begin_v(f, &lc, p[IP_C]);
	LLVMValueRef oky = be_loop_begin_v(f, &lky, p[IP_KH]);
	LLVMValueRef okx = be_loop_begin_v(f, &lkx, p[IP_KW]);
	LLVMValueRef orr = be_iadd(f, be_imul(f, be_iadd(f, be_imul(f, oc, p[IP_KH]), oky), p[IP_KW]), okx);
	LLVMValueRef ov = be_iadd(f, be_iadd(f, be_imul(f, oc, ihw), be_imul(f, be_imul(f, oky, p[IP_DH]), p[IP_IW])), be_imul(f, okx, p[IP_DW]));
	be_st_t(f, f->i32, offs, orr, LLVMBuildTrunc(b, ov, f->i32, ""));
	be_loop_end(f, &lkx);
	be_loop_end(f, &lky);
	be_loop_end(f, &lc);
	be_if_end(f, &fof);
	LLVMValueRef n = be_loop_begin_v(f, &ln, p[IP_N]);
	LLVMValueRef xb = be_imul(f, be_imul(f, n, p[IP_C]), ihw);
	LLVMValueRef yb = be_imul(f, be_imul(f, n, p[IP_M]), P);
	/* blocks of up to p[IP_QB] quads: their columns, then each channel
	 * over them (its constants once a block) */
	be_loop lb, lqi;
	LLVMValueRef nb = LLVMBuildUDiv(b, be_iadd(f, nq, LLVMBuildSub(b, p[IP_QB], one, "")), p[IP_QB], "");
	LLVMValueRef q0 = be_imul(f, be_loop_begin_v(f, &lb, nb), p[IP_QB]);
	LLVMValueRef nqb = umin(f, p[IP_QB], LLVMBuildSub(b, nq, q0, ""));
	LLVMValueRef qi = be_loop_begin_v(f, &lq, nqb);
	LLVMValueRef p0 = be_imul(f, be_iadd(f, q0, qi), tp);
	LLVMValueRef np = umin(f, tp, LLVMBuildSub(b, P, p0, ""));
	LLVMValueRef colq = LLVMBuildGEP2(b, i16, col, (LLVMValueRef[]){be_imul(f, qi, qsz)}, 1, "");

	/* the columns (a quad past the end repeats the last position); a full
	 * quad of a pointwise conv (one row of P positions) reads 4 adjacent
	 * bytes per channel */
	LLVMValueRef pw = LLVMBuildAnd(b, LLVMBuildICmp(b, LLVMIntEQ, be_imul(f, p[IP_KH], p[IP_KW]), one, ""),
	                               LLVMBuildICmp(b, LLVMIntEQ, be_iadd(f, p[IP_IH], p[IP_OH]), be_ci(f, 2), ""), "");
	pw = LLVMBuildAnd(b, pw, LLVMBuildICmp(b, LLVMIntEQ, be_iadd(f, p[IP_SW], p[IP_PW]), one, ""), "");
	pw = LLVMBuildAnd(b, pw, LLVMBuildICmp(b, LLVMIntEQ, np, tp, ""), "");
	be_if fpw;
	be_if_begin(f, &fpw, pw);
	LLVMValueRef pc = be_loop_begin_v(f, &lc, p[IP_C]);
	LLVMValueRef px = be_iadd(f, be_iadd(f, xb, be_imul(f, pc, ihw)), p0);
	for (int k = 0; k < TP; k++)
		be_st_t(f, i16, colq, col_at(f, be_ci(f, 4 * k), pc), col_ext(f, xdt, be_ld_t(f, be_dt_type(f, xdt), x, be_iadd(f, px, be_ci(f, k)))));
	be_loop_end(f, &lc);
	be_if_end(f, &fpw);
	be_if fmm;
	be_if_begin(f, &fmm, mm);
	{
		/* column 0 (the one-column steps read no other), on the DSP four
		 * bytes a word: SXTB16/UXTB16 and PKHBT/PKHTB into two pairs */
		LLVMValueRef r0 = zero;
		if (f->dsp && xdt != IR_DT_I16) {
			be_loop l4;
			be_if h4;
			LLVMValueRef n4 = LLVMBuildLShr(b, R, be_ci(f, 2), "");
			be_if_begin(f, &h4, LLVMBuildICmp(b, LLVMIntNE, n4, zero, ""));
			LLVMValueRef g = be_loop_begin_v(f, &l4, n4);
			LLVMValueRef xi = be_iadd(f, xb, be_imul(f, g, be_ci(f, 4)));
			LLVMValueRef wv = LLVMBuildLoad2(b, f->i32, LLVMBuildGEP2(b, f->i8, x, &xi, 1, ""), "");
			LLVMSetAlignment(wv, 1);
			LLVMValueRef pv[2];
			pairs16(f, xdt == IR_DT_U8, wv, pv);
			for (int h = 0; h < 2; h++)
				be_st_t(f, f->i32, colq, be_iadd(f, be_imul(f, g, be_ci(f, 2 * TP)), be_ci(f, h)), pv[h]);
			be_loop_end(f, &l4);
			be_if_end(f, &h4);
			r0 = be_imul(f, n4, be_ci(f, 4));
		}
		be_if hr;
		be_loop lr;
		be_if_begin(f, &hr, LLVMBuildICmp(b, LLVMIntULT, r0, R, ""));
		LLVMValueRef r = be_iadd(f, r0, be_loop_begin_v(f, &lr, LLVMBuildSub(b, R, r0, "")));
		be_st_t(f, i16, colq, col_at(f, zero, r), col_ext(f, xdt, be_ld_t(f, be_dt_type(f, xdt), x, be_iadd(f, xb, r))));
		be_loop_end(f, &lr);
		be_if_end(f, &hr);
	}
	be_if_end(f, &fmm);
	be_if fgen;
	be_if_begin(f, &fgen, LLVMBuildNot(b, LLVMBuildOr(b, pw, mm, ""), ""));
	LLVMValueRef q = be_loop_begin_v(f, &lf, tp);
	LLVMValueRef pos = umin(f, be_iadd(f, p0, q), LLVMBuildSub(b, P, one, ""));
	LLVMValueRef oy = LLVMBuildUDiv(b, pos, p[IP_OW], "");
	LLVMValueRef ox = LLVMBuildSub(b, pos, be_imul(f, oy, p[IP_OW]), "");
	LLVMValueRef cq = be_imul(f, q, be_ci(f, 4));
	/* a position whose taps all lie inside: by the offsets, no checks */
	LLVMValueRef iy0 = LLVMBuildSub(b, be_imul(f, oy, p[IP_SH]), p[IP_PH], "");
	LLVMValueRef ix0 = LLVMBuildSub(b, be_imul(f, ox, p[IP_SW]), p[IP_PW], "");
	/* (iy0, ix0 may be below 0: plain adds, no nuw) */
	LLVMValueRef inside = LLVMBuildAnd(
		b, LLVMBuildICmp(b, LLVMIntSGE, iy0, zero, ""),
		LLVMBuildICmp(b, LLVMIntSLT, LLVMBuildAdd(b, iy0, be_imul(f, LLVMBuildSub(b, p[IP_KH], one, ""), p[IP_DH]), ""),
		              p[IP_IH], ""), "");
	inside = LLVMBuildAnd(b, inside, LLVMBuildICmp(b, LLVMIntSGE, ix0, zero, ""), "");
	inside = LLVMBuildAnd(
		b, inside,
		LLVMBuildICmp(b, LLVMIntSLT, LLVMBuildAdd(b, ix0, be_imul(f, LLVMBuildSub(b, p[IP_KW], one, ""), p[IP_DW]), ""),
		              p[IP_IW], ""), "");
	be_if fin, fedge;
	be_if_begin(f, &fin, inside);
	LLVMValueRef xbase = be_iadd(f, be_iadd(f, xb, be_imul(f, iy0, p[IP_IW])), ix0);
	LLVMValueRef g = be_loop_begin_v(f, &lg, steps);
	for (int e = 0; e < 4; e++) {
		LLVMValueRef r = be_iadd(f, be_imul(f, g, be_ci(f, 4)), be_ci(f, e));
		LLVMValueRef o = LLVMBuildSExt(b, be_ld_t(f, f->i32, offs, r), f->ity, "");
		LLVMValueRef v = col_ext(f, xdt, be_ld_t(f, be_dt_type(f, xdt), x, be_iadd(f, xbase, o)));
		be_st_t(f, i16, colq, be_iadd(f, be_iadd(f, be_imul(f, g, be_ci(f, 4 * TP)), cq), be_ci(f, e)), v);
	}
	be_loop_end(f, &lg);
	be_if_end(f, &fin);
	be_if_begin(f, &fedge, LLVMBuildNot(b, inside, ""));
	LLVMValueRef c = be_loop_begin_v(f, &lc, p[IP_C]);
	LLVMValueRef ky = be_loop_begin_v(f, &lky, p[IP_KH]);
	LLVMValueRef iy = LLVMBuildSub(b, be_iadd(f, be_imul(f, oy, p[IP_SH]), be_imul(f, ky, p[IP_DH])), p[IP_PH], "");
	LLVMValueRef r0 = be_imul(f, be_iadd(f, be_imul(f, c, p[IP_KH]), ky), p[IP_KW]);
	be_if rin, rout;
	be_if_begin(f, &rin, LLVMBuildICmp(b, LLVMIntULT, iy, p[IP_IH], ""));
	LLVMValueRef xrow = be_iadd(f, be_iadd(f, xb, be_imul(f, c, ihw)), be_imul(f, iy, p[IP_IW]));
	LLVMValueRef kx = be_loop_begin_v(f, &lkx, p[IP_KW]);
	LLVMValueRef ix = LLVMBuildSub(b, be_iadd(f, be_imul(f, ox, p[IP_SW]), be_imul(f, kx, p[IP_DW])), p[IP_PW], "");
	LLVMValueRef in = LLVMBuildICmp(b, LLVMIntULT, ix, p[IP_IW], "");
	LLVMValueRef xv = col_ext(f, xdt, be_ld_t(f, be_dt_type(f, xdt), x, LLVMBuildSelect(b, in, be_iadd(f, xrow, ix), zero, "")));
	be_st_t(f, i16, colq, col_at(f, cq, be_iadd(f, r0, kx)), LLVMBuildSelect(b, in, xv, zx16, ""));
	be_loop_end(f, &lkx);
	be_if_end(f, &rin);
	be_if_begin(f, &rout, LLVMBuildICmp(b, LLVMIntUGE, iy, p[IP_IH], ""));
	be_st_t(f, i16, colq, col_at(f, cq, be_iadd(f, r0, be_loop_begin_v(f, &lkx, p[IP_KW]))), zx16);
	be_loop_end(f, &lkx);
	be_if_end(f, &rout);
	be_loop_end(f, &lky);
	be_loop_end(f, &lc);
	be_if_end(f, &fedge);
	be_loop_end(f, &lf);
	be_if_end(f, &fgen);
	/* elements R .. R4 - 1 of each column (their weights are 0) */
	be_if pad;
	be_if_begin(f, &pad, LLVMBuildICmp(b, LLVMIntULT, R, R4, ""));
	be_loop lpad;
	LLVMValueRef rp = be_iadd(f, R, be_loop_begin_v(f, &lpad, LLVMBuildSub(b, R4, R, "")));
	for (int k = 0; k < TP; k++)
		be_st_t(f, i16, colq, col_at(f, be_ci(f, 4 * k), rp), LLVMConstInt(i16, 0, 0));
	be_loop_end(f, &lpad);
	be_if_end(f, &pad);
	be_loop_end(f, &lq);

	LLVMValueRef m = be_loop_begin_v(f, &lm, p[IP_M]);
	LLVMValueRef bias = chan_bias(f, fld, p, m);
	be_rqc rq;
	chan_rq(f, fld, p, m, exact, &rq);
	LLVMValueRef neg = LLVMConstInt(f->i1, 0, 0);
	be_if sg;
	LLVMValueRef negs = be_entry_alloca(f, f->i1, "neg");
	LLVMBuildStore(b, neg, negs);
	be_if_begin(f, &sg, LLVMBuildIsNotNull(b, fld[ID_SG], ""));
	LLVMBuildStore(b, LLVMBuildICmp(b, LLVMIntNE, be_ld_t(f, i8, fld[ID_SG], m), LLVMConstInt(i8, 0, 0), ""), negs);
	be_if_end(f, &sg);
	neg = LLVMBuildLoad2(b, f->i1, negs, "");
	LLVMValueRef wrow = be_imul(f, m, p[IP_ROWB]);
	LLVMValueRef ybm = be_iadd(f, yb, be_imul(f, m, ystrm));
	/* one inner loop per width: 8 bits, 4 bits, else 2 */
	LLVMValueRef is8 = LLVMBuildICmp(b, LLVMIntEQ, p[IP_BITS], be_ci(f, 8), "");
	LLVMValueRef is4 = LLVMBuildICmp(b, LLVMIntEQ, p[IP_BITS], be_ci(f, 4), "");
	LLVMValueRef wsel[3] = {is8, LLVMBuildAnd(b, is4, LLVMBuildNot(b, is8, ""), ""),
	                        LLVMBuildNot(b, LLVMBuildOr(b, is8, is4, ""), "")};
	/* only the widths the module's layers use (widths: bit 0 8 bits, 1
	 * 4 bits, 2 2 bits); one of them is taken without a test */
	if (widths == 1 || widths == 2 || widths == 4)
		for (int wi = 0; wi < 3; wi++)
			wsel[wi] = LLVMConstInt(f->i1, (widths >> wi) & 1, 0);
	/* on Cortex-M with the 32-bit requantization, quads of more than one
	 * position in quads_asm, with the channel's constants in qc: a block
	 * of full quads of a conv in one call, else a quad a call (one of a
	 * matmul, or past the end, stores to qy, then copied) */
	bool fast = f->dsp && !exact;
	LLVMValueRef wp = LLVMBuildGEP2(b, i8, fld[ID_W], &wrow, 1, "");
	LLVMValueRef qc = NULL, qy = NULL, all = LLVMConstInt(f->i1, 0, 0);
	if (fast) {
		qc = be_entry_alloca(f, LLVMArrayType2(f->i32, QC_COUNT), "qc");
		LLVMSetAlignment(qc, 8);
		qy = be_entry_alloca(f, LLVMArrayType2(be_dt_type(f, ydt), TP), "qy");
		all = LLVMBuildAnd(b, LLVMBuildNot(b, yt, ""),
		                   LLVMBuildICmp(b, LLVMIntULE, be_imul(f, be_iadd(f, q0, nqb), tp), P, ""), "");
	}
	qi = be_loop_begin_v(f, &lqi, LLVMBuildSelect(b, all, one, nqb, ""));
	p0 = be_imul(f, be_iadd(f, q0, qi), tp);
	np = LLVMBuildSelect(b, all, tp, umin(f, tp, LLVMBuildSub(b, P, p0, "")), "");
	colq = LLVMBuildGEP2(b, i16, col, (LLVMValueRef[]){be_imul(f, qi, qsz)}, 1, "");
	be_if fq, fo;
	if (fast) {
		LLVMValueRef one_col = LLVMBuildICmp(b, LLVMIntEQ, np, one, "");
		be_if_begin(f, &fq, LLVMBuildNot(b, one_col, ""));
		LLVMValueRef direct = LLVMBuildAnd(b, LLVMBuildICmp(b, LLVMIntEQ, np, tp, ""), LLVMBuildNot(b, yt, ""), "");
		LLVMValueRef yq = be_iadd(f, ybm, p0);
		LLVMValueRef yp = LLVMBuildSelect(b, direct, LLVMBuildGEP2(b, be_dt_type(f, ydt), y, &yq, 1, ""), qy, "");
		LLVMValueRef cnt = LLVMBuildTrunc(b, LLVMBuildSelect(b, all, nqb, one, ""), f->i32, "");
		LLVMValueRef cv[QC_COUNT] = {bias, LLVMBuildZExt(b, neg, f->i32, ""), rq.left, rq.mult, rq.half, rq.mask,
		                             rq.r, fld[ID_LO], fld[ID_HI], yp, wp, colq, LLVMBuildTrunc(b, steps, f->i32, ""),
		                             cnt, fld[ID_LUT]};
		for (int i = 0; i < QC_COUNT; i++)
			LLVMBuildStore(b, cv[i], LLVMBuildGEP2(b, f->i32, qc, (LLVMValueRef[]){be_ci(f, i)}, 1, ""));
		for (int wi = 0; wi < 3; wi++) {
			if (!((widths >> wi) & 1))
				continue;
			be_if bw;
			be_if_begin(f, &bw, wsel[wi]);
			quads_asm(f, 8 >> wi, ydt, qc);
			be_if_end(f, &bw);
		}
		be_if cp;
		be_if_begin(f, &cp, LLVMBuildNot(b, direct, ""));
		be_loop lk;
		LLVMValueRef k = be_loop_begin_v(f, &lk, np);
		LLVMValueRef yi = be_iadd(f, ybm, be_imul(f, be_iadd(f, p0, k), ystrp));
		be_st_t(f, be_dt_type(f, ydt), y, yi, be_ld_t(f, be_dt_type(f, ydt), qy, k));
		be_loop_end(f, &lk);
		be_if_end(f, &cp);
		be_if_end(f, &fq);
		be_if_begin(f, &fo, one_col);
	}
	for (int k = 0; k < TP; k++)
		LLVMBuildStore(b, bias, accs[k]);
	for (int wd = 8; wd >= 2; wd /= 2) {
		if (!((widths >> (wd == 8 ? 0 : wd == 4 ? 1 : 2)) & 1))
			continue;
		be_if wi;
		be_if_begin(f, &wi, wsel[wd == 8 ? 0 : wd == 4 ? 1 : 2]);
		if (f->dsp) { /* all four columns, or the one there is */
			LLVMValueRef one_col = LLVMBuildICmp(b, LLVMIntEQ, np, one, "");
			be_if c1, c4;
			if (!fast)
				be_if_begin(f, &c1, one_col);
			steps_asm(f, wd, 1, wp, colq, steps, fld[ID_LUT], accs);
			if (!fast) {
				be_if_end(f, &c1);
				be_if_begin(f, &c4, LLVMBuildNot(b, one_col, ""));
				steps_asm(f, wd, TP, wp, colq, steps, fld[ID_LUT], accs);
				be_if_end(f, &c4);
			}
			be_if_end(f, &wi);
			continue;
		}
		be_loop ls;
		LLVMValueRef st = be_loop_begin_v(f, &ls, steps);
		LLVMValueRef w0, w1;
		if (wd == 8) {
			LLVMValueRef wd4 = be_ld_t(f, f->i32, LLVMBuildGEP2(b, i8, fld[ID_W], &wrow, 1, ""), st);
			w0 = sxtb16(f, wd4, false);
			w1 = sxtb16(f, wd4, true);
		} else if (wd == 4) {
			LLVMValueRef bi = be_iadd(f, wrow, be_imul(f, st, be_ci(f, 2)));
			LLVMValueRef b0 = LLVMBuildZExt(b, be_ld_t(f, i8, fld[ID_W], bi), f->ity, "");
			LLVMValueRef b1 = LLVMBuildZExt(b, be_ld_t(f, i8, fld[ID_W], be_iadd(f, bi, one)), f->ity, "");
			w0 = be_ld_t(f, f->i32, fld[ID_LUT], b0);
			w1 = be_ld_t(f, f->i32, fld[ID_LUT], b1);
		} else {
			LLVMValueRef by = LLVMBuildZExt(b, be_ld_t(f, i8, fld[ID_W], be_iadd(f, wrow, st)), f->ity, "");
			LLVMValueRef li = be_imul(f, by, be_ci(f, 2));
			w0 = be_ld_t(f, f->i32, fld[ID_LUT], li);
			w1 = be_ld_t(f, f->i32, fld[ID_LUT], be_iadd(f, li, one));
		}
		for (int k = 0; k < TP; k++) {
			/* column k's elements 4 st .. 4 st + 3 as two words */
			LLVMValueRef ci = be_iadd(f, be_imul(f, st, be_ci(f, 2 * TP)), be_ci(f, 2 * k));
			LLVMValueRef a = LLVMBuildLoad2(b, f->i32, accs[k], "");
			a = be_smlad(f, be_ld_t(f, f->i32, colq, ci), w0, a);
			a = be_smlad(f, be_ld_t(f, f->i32, colq, be_iadd(f, ci, one)), w1, a);
			LLVMBuildStore(b, a, accs[k]);
		}
		be_loop_end(f, &ls);
		be_if_end(f, &wi);
	}
	be_if ng;
	be_if_begin(f, &ng, neg);
	for (int k = 0; k < TP; k++)
		LLVMBuildStore(b, LLVMBuildNeg(b, LLVMBuildLoad2(b, f->i32, accs[k], ""), ""), accs[k]);
	be_if_end(f, &ng);
	for (int k = 0; k < (fast ? 1 : TP); k++) { /* a quad has at least one position */
		be_if has;
		if (k)
			be_if_begin(f, &has, LLVMBuildICmp(b, LLVMIntULT, be_ci(f, k), np, ""));
		LLVMValueRef yi = be_iadd(f, ybm, be_imul(f, be_iadd(f, p0, be_ci(f, k)), ystrp));
		be_st_t(f, be_dt_type(f, ydt), y, yi, out_val(f, ydt, fld, &rq, LLVMBuildLoad2(b, f->i32, accs[k], "")));
		if (k)
			be_if_end(f, &has);
	}
	if (fast)
		be_if_end(f, &fo);
	be_loop_end(f, &lqi);
	be_loop_end(f, &lm);
	be_loop_end(f, &lb);
	be_loop_end(f, &ln);
	LLVMBuildRetVoid(b);
	be_kernel_end(f, &ks);
	return fn;
}

/* ------------------------------------------------------------ lowering */

/* A private constant of the n bytes at data (plus one zero byte: the
 * kernel's code loads read the byte after a code too). */
static LLVMValueRef bytes(be_fn *f, const char *tag, int id, const uint8_t *data, size_t n)
{
	char name[96];
	snprintf(name, sizeof name, "%s.%s%d", f->name, tag, id);
	return be_opaque_const(f, name, LLVMConstStringInContext2(f->ctx, (const char *)data, n, 1), 4);
}

/* The bias table of M entries: i16 where every one fits (P[IP_B16] =
 * 1), else i32. */
static LLVMValueRef bias_table(be_fn *f, const ir_node *n, const int32_t *v, int64_t M, int64_t *P)
{
	bool narrow = true;
	for (int64_t m = 0; m < M && narrow; m++)
		narrow = v[m] >= INT16_MIN && v[m] <= INT16_MAX;
	P[IP_B16] = narrow;
	if (!narrow)
		return be_table_i32(f, v, M);
	LLVMTypeRef i16 = LLVMInt16TypeInContext(f->ctx);
	LLVMValueRef *el = malloc(sizeof *el * (size_t)(M > 0 ? M : 1));
	if (!el) {
		diag_error(f->d, NULL, "out of memory");
		return NULL;
	}
	for (int64_t m = 0; m < M; m++)
		el[m] = LLVMConstInt(i16, (unsigned long long)(int64_t)v[m], 1);
	char name[96];
	snprintf(name, sizeof name, "%s.cib%d", f->name, n->id);
	LLVMValueRef g = be_opaque_const(f, name, LLVMConstArray2(i16, el, (uint64_t)M), 2);
	free(el);
	return g;
}

/* vals[0..n) (each in [0, 2^bits)) packed at bits per entry, rows of
 * `row` entries starting on a byte; NULL when out of memory. */
static uint8_t *pack(const int32_t *vals, int64_t rows, int64_t row, int bits, int64_t *rowb)
{
	*rowb = (row * bits + 7) / 8;
	uint8_t *p = calloc((size_t)(rows * *rowb + 1), 1);
	if (!p)
		return NULL;
	for (int64_t r = 0; r < rows; r++)
		for (int64_t j = 0; j < row; j++) {
			int64_t bit = j * bits;
			p[r * *rowb + bit / 8] |= (uint8_t)((uint32_t)vals[r * row + j] << (bit % 8));
		}
	return p;
}

/* The layer's geometry in P (matmul: a batch of 1x1 convs): 0, 1 when
 * n is not the kernels', -1 reported. */
static int geometry(be_fn *f, const ir_node *n, int64_t *P)
{
	const ir_shape *xs = &n->in[0]->shape, *ws = &n->in[1]->shape, *ys = &n->out[0]->shape;
	if (n->op != IR_OP_MATMUL)
		return be_conv_geom(f, n, P);
	if (ws->rank != 2 || xs->rank < 1 || xs->d[xs->rank - 1] != ws->d[0] || ws->d[0] < 1)
		return 1;
	P[IP_N] = ir_shape_numel(xs) / ws->d[0], P[IP_C] = ws->d[0], P[IP_M] = ws->d[1];
	P[IP_IH] = P[IP_IW] = P[IP_OH] = P[IP_OW] = P[IP_KH] = P[IP_KW] = 1;
	P[IP_SH] = P[IP_SW] = P[IP_DH] = P[IP_DW] = P[IP_G] = P[IP_YT] = 1;
	return ir_shape_numel(ys) == P[IP_N] * P[IP_M] ? 0 : 1;
}

/* What both kernels' lowering shares. */
typedef struct ci_job {
	int64_t P[IP_COUNT], M, R;
	be_iop o;
	int32_t *codes, *zw, *bias; /* codes [M][R] (channel-major), zw [M], bias [M] */
	LLVMValueRef wg, zg, bg, sgg, lut;
	LLVMValueRef cols; /* the kernel's buffer in the caller's frame, or NULL */
	int64_t colbytes;
} ci_job;

/* Packed weights, zero points and bias for make_conv_kernel: the codes
 * and zero points less the least of them, at the fewest bits of 1, 2, 4
 * and 8 that hold the span; 0, 1 (not this kernel's), -1 reported. */
static int conv_tables(be_fn *f, const ir_node *n, ci_job *j)
{
	int64_t M = j->M, R = j->R, lo = INT64_MAX, hi = INT64_MIN;
	bool zsame = true;
	for (int64_t i = 0; i < M * R; i++) {
		lo = j->codes[i] < lo ? j->codes[i] : lo;
		hi = j->codes[i] > hi ? j->codes[i] : hi;
	}
	for (int64_t m = 0; m < M; m++) {
		lo = j->zw[m] < lo ? j->zw[m] : lo;
		hi = j->zw[m] > hi ? j->zw[m] : hi;
		zsame = zsame && j->zw[m] == j->zw[0];
	}
	if (hi - lo > 255)
		return 1;
	int bits = 1;
	while (hi - lo >= (int64_t)1 << bits)
		bits *= 2;
	int32_t *c = malloc(sizeof *c * (size_t)(M * R)), *z = malloc(sizeof *z * (size_t)M);
	uint8_t *wp = NULL, *zp = NULL;
	int64_t rowb = 0, zrowb = 0, nz = zsame ? 1 : M;
	int rc = -1;
	if (c && z) {
		for (int64_t i = 0; i < M * R; i++)
			c[i] = (int32_t)(j->codes[i] - lo);
		for (int64_t m = 0; m < M; m++)
			z[m] = (int32_t)(j->zw[m] - lo);
		wp = pack(c, M, R, bits, &rowb);
		zp = pack(z, 1, nz, bits, &zrowb);
	}
	if (!wp || !zp) {
		diag_error(f->d, NULL, "out of memory");
		goto done;
	}
	rc = 1;
	j->P[IP_BITS] = bits, j->P[IP_ROWB] = rowb, j->P[IP_ZC] = !zsame;
	if (!be_fits_u16(rowb))
		goto done;
	rc = -1;
	j->wg = bytes(f, "ciw", n->id, wp, (size_t)(M * rowb + 1));
	j->zg = bytes(f, "ciz", n->id, zp, (size_t)(zrowb + 1));
	j->bg = n->nin > 2 && n->in[2] && ir_shape_numel(&n->in[2]->shape) > 0 ? bias_table(f, n, j->bias, M, j->P) : NULL;
	rc = j->wg && j->zg ? 0 : -1;
done:
	free(c);
	free(z);
	free(wp);
	free(zp);
	return rc;
}

/* Weights and bias for make_gemm_kernel: w - zw per channel at the fewest
 * of 2, 4 and 8 bits where each channel fits as it is or negated (affine
 * codes around a zero point at the low middle), rows of R4 elements (8
 * bits: each group of four stored as (w0, w2, w1, w3), so that SXTB16 of
 * the word plain and rotated by 8 gives the pairs (w0, w1), (w2, w3); 4
 * bits: a byte per pair, nibbles; 2 bits: a byte per four, crumbs), and
 * x's zero point folded into the bias: sg (bias - zx sum(w - zw)), sg =
 * -1 for a channel stored negated, whose sum is negated back at the end.
 * 0, 1 (not this kernel's), -1 reported. */
static int gemm_tables(be_fn *f, const ir_node *n, ci_job *j)
{
	int64_t M = j->M, R = j->R, R4 = (R + 3) & ~(int64_t)3;
	int32_t lim[3] = {2, 8, 128};
	int bits = 0;
	for (int k = 0; k < 3 && !bits; k++) {
		bool ok = true;
		for (int64_t m = 0; m < M && ok; m++) {
			int32_t mn = 0, mx = 0;
			for (int64_t r = 0; r < R; r++) {
				int32_t v = j->codes[m * R + r] - j->zw[m];
				mn = v < mn ? v : mn;
				mx = v > mx ? v : mx;
			}
			ok = (mn >= -lim[k] && mx < lim[k]) || (-mx >= -lim[k] && -mn < lim[k]);
		}
		bits = ok ? 2 << k : 0;
	}
	if (!bits || !be_fits_u16(R4) || R4 * (2 * TP + 4) > 16384)
		return 1;
	int64_t rowb = R4 * bits / 8;
	uint8_t *wp = calloc((size_t)(M * rowb), 1), *sg = calloc((size_t)M, 1);
	int32_t *bb = malloc(sizeof *bb * (size_t)M);
	bool any_neg = false;
	int rc = -1;
	if (!wp || !sg || !bb) {
		diag_error(f->d, NULL, "out of memory");
		goto done;
	}
	for (int64_t m = 0; m < M; m++) {
		int32_t mn = 0, mx = 0;
		uint32_t sum = 0;
		for (int64_t r = 0; r < R; r++) {
			int32_t v = j->codes[m * R + r] - j->zw[m];
			mn = v < mn ? v : mn;
			mx = v > mx ? v : mx;
			sum += (uint32_t)v;
		}
		int32_t lm = (int32_t)1 << (bits - 1);
		sg[m] = !(mn >= -lm && mx < lm);
		any_neg = any_neg || sg[m];
		uint8_t *row = wp + m * rowb;
		for (int64_t r = 0; r < R; r++) {
			int32_t v = j->codes[m * R + r] - j->zw[m];
			uint32_t s = (uint32_t)(sg[m] ? -v : v);
			if (bits == 8)
				row[(r & ~(int64_t)3) + ((r & 1) << 1 | (r & 2) >> 1)] = (uint8_t)s;
			else if (bits == 4)
				row[r / 2] |= (uint8_t)((s & 15u) << (4 * (r & 1)));
			else
				row[r / 4] |= (uint8_t)((s & 3u) << (2 * (r & 3)));
		}
		uint32_t bm = (uint32_t)j->bias[m] - (uint32_t)j->o.k.zx * sum;
		bb[m] = (int32_t)(sg[m] ? 0u - bm : bm);
	}
	j->P[IP_BITS] = bits, j->P[IP_ROWB] = rowb, j->P[IP_R4] = R4;
	rc = 1;
	if (!be_fits_u16(rowb))
		goto done;
	rc = -1;
	j->wg = bytes(f, "cgw", n->id, wp, (size_t)(M * rowb));
	j->bg = bias_table(f, n, bb, M, j->P);
	j->sgg = any_neg ? bytes(f, "cgs", n->id, sg, (size_t)M) : NULL;
	j->lut = bits < 8 ? be_dsp_lut(f, bits) : NULL;
	if (!j->wg || !j->bg || (any_neg && !j->sgg) || (bits < 8 && !j->lut))
		goto done;
	/* the columns: the caller's stack, live across the call only; up to
	 * QB_MAX quads of them where that fits QB_BYTES (one quad at least) */
	int64_t nq = (j->P[IP_OH] * j->P[IP_OW] + TP - 1) / TP, qb = QB_MAX;
	while (qb > 1 && (qb > nq || R4 * (2 * TP * qb + 4) > QB_BYTES))
		qb--;
	j->P[IP_QB] = qb;
	int64_t cb = j->colbytes = R4 * (2 * TP * qb + 4); /* the columns, then the offsets */
	j->cols = be_scratch(f, LLVMArrayType2(f->i8, (uint64_t)cb), 8, "ccol");
	rc = 0;
done:
	free(wp);
	free(sg);
	free(bb);
	return rc;
}

int be_l_compact_int(be_fn *f, const ir_node *n)
{
	if (f->code != BE_CODE_SIZE && f->code != BE_CODE_MIN)
		return 1;
	if ((n->op != IR_OP_CONV && n->op != IR_OP_MATMUL) || n->nin < 2 || n->nout < 1 || !n->in[0] ||
	    !n->in[1] || !n->out[0])
		return 1;
	const ir_value *xv = n->in[0], *wv = n->in[1], *yv = n->out[0];
	const ir_value *bv = n->nin > 2 && n->in[2] && ir_shape_numel(&n->in[2]->shape) > 0 ? n->in[2] : NULL;
	int xi = act_index(xv->dt), yi = act_index(yv->dt);
	if (xi < 0 || yi < 0 || wv->kind != IR_VAL_CONST || !wv->data || !yv->quant)
		return 1;
	if (bv && (bv->kind != IR_VAL_CONST || !bv->data || bv->dt != IR_DT_I32))
		return 1;
	ci_job J, *j = &J;
	memset(j, 0, sizeof *j);
	int64_t *P = j->P;
	int grc = geometry(f, n, P);
	if (grc)
		return grc;
	for (int i = 0; i < IP_COUNT; i++)
		if (!be_fits_u16(P[i]))
			return 1;
	for (int i = IP_N; i <= IP_DW; i++)
		if (i != IP_PH && i != IP_PW && P[i] < 1)
			return 1;
	int64_t M = j->M = P[IP_M], R = j->R = P[IP_C] / P[IP_G] * P[IP_KH] * P[IP_KW];
	if (bv && ir_shape_numel(&bv->shape) != M)
		return 1;
	LLVMValueRef x = be_ptr(f, xv), y = be_ptr(f, yv);
	if (!x || !y || be_same_storage(f, xv, yv))
		return 1;

	int rc = -1;
	uint8_t *sh = NULL;
	if (be_iop_init(f, n, &j->o))
		goto done;
	rc = 1;
	if (!j->o.k.requant || j->o.nrq < 1 || (j->o.nrq > 1 && j->o.nrq != M) || (j->o.nzw > 1 && j->o.nzw != M))
		goto done;
	rc = -1;
	j->codes = malloc(sizeof *j->codes * (size_t)(M * R));
	j->zw = malloc(sizeof *j->zw * (size_t)M);
	j->bias = malloc(sizeof *j->bias * (size_t)M);
	sh = malloc((size_t)j->o.nrq + 1);
	if (!j->codes || !j->zw || !j->bias || !sh) {
		diag_error(f->d, NULL, "out of memory");
		goto done;
	}
	for (int64_t m = 0; m < M; m++) {
		for (int64_t r = 0; r < R; r++) {
			int64_t idx = n->op == IR_OP_MATMUL ? r * M + m : m * R + r;
			j->codes[m * R + r] = (int32_t)k_int_get(wv->data, wv->dt, idx);
		}
		j->zw[m] = j->o.zw[j->o.nzw > 1 ? m : 0];
		j->bias[m] = bv ? (int32_t)k_int_get(bv->data, bv->dt, m) : 0;
	}
	/* the SMLAD kernel for convs of one group and matmuls, else (or when
	 * their weights do not fit it) the per-row one */
	int kind = P[IP_G] == 1 ? K_GEMM : K_CONV;
	rc = kind == K_GEMM ? gemm_tables(f, n, j) : 1;
	if (rc == 1) {
		kind = K_CONV;
		rc = conv_tables(f, n, j);
	}
	if (rc)
		goto done;
	/* a depthwise conv on a bordered plane of the caller's stack */
	int64_t bh = P[IP_PH] + P[IP_IH], bw = P[IP_PW] + P[IP_IW];
	int64_t nh = (P[IP_OH] - 1) * P[IP_SH] + (P[IP_KH] - 1) * P[IP_DH] + 1;
	int64_t nw = (P[IP_OW] - 1) * P[IP_SW] + (P[IP_KW] - 1) * P[IP_DW] + 1;
	bh = bh > nh ? bh : nh;
	bw = bw > nw ? bw : nw;
	if (kind == K_CONV && P[IP_G] == P[IP_C] && P[IP_G] == P[IP_M] && xv->dt != IR_DT_I16 &&
	    P[IP_KH] * P[IP_KW] <= DW_TAPS && bh * bw * 2 + 4 <= 16384 && be_fits_u16(bh) && be_fits_u16(bw)) {
		kind = K_DW;
		P[IP_BH] = bh, P[IP_BW] = bw;
		int64_t pb = (bh * bw + 1) / 2 * 4;
		j->cols = be_scratch(f, LLVMArrayType2(f->i8, (uint64_t)pb), 4, "cdw");
		j->colbytes = pb;
	}
	rc = -1;
	P[IP_RQC] = j->o.nrq > 1;
	for (int i = 0; i < j->o.nrq; i++)
		sh[i] = (uint8_t)(int8_t)j->o.shift[i];
	LLVMValueRef sg = bytes(f, "cis", n->id, sh, (size_t)j->o.nrq);
	LLVMValueRef mg = be_table_i32(f, j->o.mult, j->o.nrq);
	if (!sg || !mg)
		goto done;
	/* a kernel per kind, requantization (32-bit or exact) and dtypes */
	bool exact = !be_rq_bounded_ok(&j->o);
	int ki = ((int)kind * 2 + exact) * 9 + xi * 3 + yi;
	if (!f->icompact[ki]) /* declared now, made by be_l_compact_int_end */
		f->icompact[ki] = LLVMAddFunction(f->mod, "", kernel_type(f));
	if (kind == K_GEMM)
		f->icwidths[ki] |= (unsigned char)(P[IP_BITS] == 8 ? 1 : P[IP_BITS] == 4 ? 2 : 4);
	if (kind == K_DW && P[IP_DW] == 1 && P[IP_KW] >= 2 && !(P[IP_KH] == 3 && P[IP_KW] == 3))
		f->icwidths[ki] |= 1; /* the taps in pairs */

	LLVMTypeRef i16 = LLVMInt16TypeInContext(f->ctx);
	LLVMValueRef pv[IP_COUNT], null = LLVMConstNull(f->ptr);
	for (int i = 0; i < IP_COUNT; i++)
		pv[i] = LLVMConstInt(i16, (unsigned long long)P[i], 0);
	LLVMValueRef el[ID_COUNT] = {j->wg,
	                             j->zg ? j->zg : null,
	                             j->bg ? j->bg : null,
	                             mg,
	                             sg,
	                             j->sgg ? j->sgg : null,
	                             j->lut ? j->lut : null,
	                             LLVMConstInt(f->i32, (unsigned long long)(int64_t)j->o.k.zx, 1),
	                             LLVMConstInt(f->i32, (unsigned long long)(int64_t)j->o.k.zy, 1),
	                             LLVMConstInt(f->i32, (unsigned long long)j->o.k.lo, 1),
	                             LLVMConstInt(f->i32, (unsigned long long)j->o.k.hi, 1),
	                             LLVMConstArray2(i16, pv, IP_COUNT)};
	char gname[96];
	snprintf(gname, sizeof gname, "%s.di%d", f->name, n->id);
	/* opaque: not folded into the kernel, one kernel for all layers is the point */
	LLVMValueRef desc = be_opaque_const(f, gname, LLVMConstStructInContext(f->ctx, el, ID_COUNT, 0), 0);
	LLVMValueRef args[4] = {desc, x, y, j->cols ? j->cols : null};
	if (j->cols)
		be_lifetime(f, true, j->cols, j->colbytes);
	LLVMBuildCall2(f->b, kernel_type(f), f->icompact[ki], args, 4, "");
	if (j->cols)
		be_lifetime(f, false, j->cols, j->colbytes);
	rc = 0;
done:
	free(j->codes);
	free(j->zw);
	free(j->bias);
	free(sh);
	be_iop_free(&j->o);
	return rc;
}

/* The kernels the layers called, made now that every layer is lowered:
 * the gemm kernel with the weight widths they use only, the depthwise
 * one with its paired taps only where a layer has such a kernel
 * (f->icwidths). */
void be_l_compact_int_end(be_fn *f)
{
	static const ir_dtype dt[3] = {IR_DT_I8, IR_DT_U8, IR_DT_I16};
	for (int ki = 0; ki < (int)(sizeof f->icompact / sizeof f->icompact[0]); ki++) {
		LLVMValueRef decl = f->icompact[ki];
		if (!decl)
			continue;
		int kind = ki / 18, exact = ki / 9 % 2;
		ir_dtype xdt = dt[ki / 3 % 3], ydt = dt[ki % 3];
		LLVMValueRef fn = kind == K_GEMM ? make_gemm_kernel(f, xdt, ydt, exact, f->icwidths[ki])
		                  : kind == K_DW ? make_dw_kernel(f, xdt, ydt, exact, f->icwidths[ki] & 1)
		                                 : make_conv_kernel(f, xdt, ydt, exact);
		/* the calls go to the kernel, and its name is the kernel's */
		LLVMReplaceAllUsesWith(decl, fn);
		LLVMDeleteFunction(decl);
		f->icompact[ki] = fn;
	}
}
