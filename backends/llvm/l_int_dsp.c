/* l_int_dsp.c: integer conv and matmul on the Armv7E-M DSP instructions
 * (Cortex-M4/M7) and on AArch64 and x86 SIMD.  On the DSP, SMLAD does two
 * 16x16 multiplies and the accumulation in one instruction, and SXTB16
 * widens two bytes of a word at once.
 *
 * Both ops become one shape: y[p, m] = bias'[m] + sum_r W'[m, r] * col_p[r]
 * over R reduction elements, a "column" per output pixel (conv) or row
 * (matmul), then the one output step (be_int_out).  At compile time:
 *   - W' = w - zw is checked to fit i8 and laid out per output channel,
 *     padded with zeros to R4 (a multiple of 4), each group of four stored
 *     as (w0, w2, w1, w3) so that SXTB16 of the word and of the word
 *     rotated by 8 give the pairs (w0, w1) and (w2, w3); weights of 4, 2
 *     or 1 bit stay packed, and a table load unpacks a byte of them into
 *     the same pairs (make_weights);
 *   - x's zero point is folded into the bias: sum (x - zx) W' equals
 *     sum x W' - zx sum W', provided padding taps read zx itself, which is
 *     what the column fill stores for them.  The sums wrap in i32 on both
 *     sides, as the reference's accumulation does (ir/k_conv.c), so the
 *     result is the interpreter's byte for byte.
 * At run time two columns are filled as i16 on the stack (x as is, pad
 * taps zx, the tail zeros), and a 2x2 register tile (two channels, two
 * columns) runs 8 SMLADs per 4 reduction elements.
 *
 * The same machinery drives the SIMD targets' byte tiles (AArch64 NEON,
 * with SDOT where the core has it; x86 SSE2/AVX2, with VPDPBUSD where it
 * has VNNI): i8 columns and weights padded to 16, 4 channels x 2 columns
 * (tile_simd, store_simd).  Beside the tiles the SIMD targets have kernels
 * that need no column copies: 1x1 convs straight over NCHW
 * (simd_pointwise), regular convs over bordered input planes
 * (simd_direct) and depthwise convs over 8-output vectors
 * (simd_depthwise).  Every one is the interpreter's arithmetic byte for
 * byte.  On x86 with AVX-512 the convs go to l_int_x86.c first (VNNI for
 * the groupless ones), and what it leaves comes here. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>


#include "l_int.h"

static LLVMValueRef c32(be_fn *f, int64_t v)
{
	return LLVMConstInt(f->i32, (unsigned long long)v, 1);
}

/* An i16 half of a (the high one, or the low one), sign-extended. */
static LLVMValueRef word_half(be_fn *f, LLVMValueRef a, bool hi)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef c16 = LLVMConstInt(f->i32, 16, 0);
	return LLVMBuildAShr(b, hi ? a : LLVMBuildShl(b, a, c16, ""), c16, "");
}

LLVMValueRef be_smlad(be_fn *f, LLVMValueRef a, LLVMValueRef w, LLVMValueRef acc)
{
	if (f->dsp) {
		LLVMValueRef args[3] = {a, w, acc};
		return be_intr(f, "llvm.arm.smlad", NULL, 0, args, 3);
	}
	LLVMBuilderRef b = f->b;
	LLVMValueRef lo = LLVMBuildMul(b, word_half(f, a, false), word_half(f, w, false), "");
	LLVMValueRef hi = LLVMBuildMul(b, word_half(f, a, true), word_half(f, w, true), "");
	return LLVMBuildAdd(b, acc, LLVMBuildAdd(b, lo, hi, ""), "");
}

/* (sext x.b0, sext x.b2) as two halfwords (UXTB16's zext when u8), and
 * the same of x rotated right by 8: (x.b1, x.b3). */
static LLVMValueRef xtb16(be_fn *f, LLVMValueRef x, bool u8)
{
	return be_intr(f, u8 ? "llvm.arm.uxtb16" : "llvm.arm.sxtb16", NULL, 0, &x, 1);
}

static LLVMValueRef xtb16_ror8(be_fn *f, LLVMValueRef x, bool u8)
{
	LLVMValueRef r = LLVMBuildOr(f->b, LLVMBuildLShr(f->b, x, c32(f, 8), ""),
	                             LLVMBuildShl(f->b, x, c32(f, 24), ""), "");
	return xtb16(f, r, u8);
}

void be_lifetime(be_fn *f, bool start, LLVMValueRef p, int64_t size)
{
	LLVMValueRef base = p;
	while (LLVMIsAGetElementPtrInst(base))
		base = LLVMGetOperand(base, 0);
	if (!LLVMIsAAllocaInst(base)) /* scratch in the arena (be_scratch) */
		return;
	LLVMValueRef args[2] = {LLVMConstInt(f->i64, (unsigned long long)size, 0), p};
	be_intr(f, start ? "llvm.lifetime.start" : "llvm.lifetime.end", &f->ptr, 1, args, 2);
}

/* The job: weights, folded bias, the two column buffers, and how to fill
 * a column and where an output goes. */
enum { TILE_MAX = 4 };
typedef struct dsp_job dsp_job;
struct dsp_job {
	be_iop o;
	int64_t M, R, R4, P;      /* R4: R padded to a whole weight word */
	int wbits;                /* 8, 4, 2 or 1 bits per packed weight */
	int64_t wrow;             /* bytes per weight row (1 bit: per channel pair's row) */
	LLVMValueRef lut;         /* be_dsp_lut(wbits) below 8 bits, else NULL */
	bool any_neg;             /* some channel stored negated: */
	LLVMValueRef sign;        /* i32 [M] +1/-1, or NULL */
	int32_t *sg;              /* the same on the host (malloc'd; be_rq_rows puts it in
	                           * the rows' multipliers), or NULL */
	LLVMValueRef w;           /* packed rows: [M][wrow] */
	LLVMValueRef bias;        /* i32 [M] */
	LLVMValueRef col[TILE_MAX]; /* tp columns of [R4], on the stack */
	bool direct;              /* DSP matmul whose columns would not fit the stack:
	                           * one column, col[0] the row of x itself (bytes),
	                           * widened in registers (tile) */
	bool simd;                /* NEON or x86 SIMD tiles, i8 columns (else DSP, i16) */
	int tm, tp;               /* tile: channels x columns */
	int arch;                 /* BE_ISIMD_* of the SIMD tiles */
	int vnni;                 /* x86: f->vnni (VPDPBUSD on u8 columns) */
	bool pair;                /* NEON: two products summed in i16 (no w' = -128) */
	LLVMValueRef y;
	int64_t ystr_m, ystr_p;   /* output index = ybase + m * ystr_m + p * ystr_p */
	LLVMValueRef ybase;
	void (*fill)(be_fn *f, const dsp_job *j, LLVMValueRef p, LLVMValueRef col);
	/* conv geometry (fill_conv) or the matmul's left operand (fill_rows) */
	const ir_value *xval;
	int nid;                  /* the node's id, for global names */
	LLVMValueRef x, xbase;
	int64_t C, H, W, KH, KW, OW, s[2], d[2], pb[2];
	bool pad;                 /* some tap may fall outside the input */
	int32_t zx;
	LLVMValueRef rq;          /* be_rq_rows' table (chans_asm), or NULL */
	bool usat;
	bool rqwide;              /* be_rq_rows' rows of 4 (left shifts, r = 0, or sg) */
	bool rqpack;              /* be_rq_rows' packed rows of 2 (RQ_PACK_P), which
	                           * hold the bias too */
	int32_t *bh;              /* the bias on the host (malloc'd), for them */
};

/* NEON: W' as i8 rows padded with zeros to R4, a multiple of 16 (one q
 * register), and bias' = bias - zx * sum W' with zx the columns' value
 * of x's zero point (j->zx).  A product of two i8 fits i16, and so does
 * the sum of two unless both are (-128)(-128): with no W' = -128 the tile
 * sums pairs of products in i16 (SMULL, SMLAL2) before widening them
 * (SADALP). */
static int simd_weights(be_fn *f, dsp_job *j, const int32_t *wq, const int32_t *bias, int32_t wmin)
{
	int64_t M = j->M, R = j->R;
	j->wbits = 8;
	j->any_neg = false;
	j->sign = NULL;
	j->R4 = (R + 15) / 16 * 16;
	j->wrow = j->R4;
	j->pair = j->arch != BE_ISIMD_NEON || wmin > -128;
	uint8_t *wb = calloc((size_t)(M * j->wrow), 1);
	int32_t *bb = malloc(sizeof *bb * (size_t)M);
	if (!wb || !bb) {
		free(wb);
		free(bb);
		diag_error(f->d, NULL, "out of memory");
		return -1;
	}
	for (int64_t m = 0; m < M; m++) {
		uint32_t sum = 0;
		for (int64_t r = 0; r < R; r++) {
			wb[m * j->wrow + r] = (uint8_t)wq[m * R + r];
			sum += (uint32_t)wq[m * R + r];
		}
		bb[m] = (int32_t)((uint32_t)(bias ? bias[m] : 0) - (uint32_t)j->zx * sum);
	}
	char name[64];
	snprintf(name, sizeof name, "%s.simdw%d", f->name, j->nid);
	LLVMValueRef init = LLVMConstStringInContext2(f->ctx, (const char *)wb, (size_t)(M * j->wrow), 1);
	j->w = be_opaque_const(f, name, init, 16);
	j->bias = be_table_i32(f, bb, M);
	free(wb);
	free(bb);
	return j->bias ? 0 : -1;
}

/* Words per byte value in be_dsp_lut's table of bits: 256 of each. */
static int lut_per(int bits)
{
	return bits == 4 ? 1 : bits == 2 ? 2 : 4;
}

/* The integer weights of the model: the elements of its i8/u8 constants
 * that a conv, matmul or gemm reads as its weight. */
static int64_t int_weights(const be_fn *f)
{
	int64_t n = 0;
	for (int i = 0; i < f->g->nnodes; i++) {
		const ir_node *m = f->g->nodes[i];
		if (m->dead || m->nin < 2 || !m->in[1] || m->in[1]->kind != IR_VAL_CONST ||
		    (m->op != IR_OP_CONV && m->op != IR_OP_MATMUL && m->op != IR_OP_GEMM) ||
		    (m->in[1]->dt != IR_DT_I8 && m->in[1]->dt != IR_DT_U8))
			continue;
		int64_t k = ir_shape_numel(&m->in[1]->shape);
		n += k > 0 ? k : 0;
	}
	return n;
}

/* The lookup tables that unpack packed weight bytes into SMLAD's i16
 * pairs (lo halfword the even element): bits 4, T[b] = (sext b[3:0],
 * sext b[7:4]), 256 words; bits 2, T[b] = (c0, c1), (c2, c3) for the
 * crumbs c_i = sext b[2i+1:2i], 256 x 2 words; bits 1, T[b] = the pairs of
 * two channels' four +-1 weights each, bits 0-3 the first's and 4-7 the
 * second's (1 is +1, 0 is -1), 256 x 4 words.  One of each per module
 * (l_compact_int.c's kernel reads them too). */
LLVMValueRef be_dsp_lut(be_fn *f, int bits)
{
	int per = lut_per(bits);
	LLVMValueRef v[256 * 4];
	for (int b = 0; b < 256; b++)
		for (int k = 0; k < per; k++) {
			int lo, hi;
			if (bits == 4) {
				lo = (b & 15) - (b & 8 ? 16 : 0);
				hi = (b >> 4) - (b & 128 ? 16 : 0);
			} else if (bits == 2) {
				int c0 = (b >> (4 * k)) & 3, c1 = (b >> (4 * k + 2)) & 3;
				lo = c0 - (c0 & 2 ? 4 : 0);
				hi = c1 - (c1 & 2 ? 4 : 0);
			} else { /* word k: channel k / 2, elements 2 (k % 2) and + 1 */
				int sh = 4 * (k / 2) + 2 * (k % 2);
				lo = (b >> sh) & 1 ? 1 : -1;
				hi = (b >> (sh + 1)) & 1 ? 1 : -1;
			}
			uint32_t w = ((uint32_t)lo & 0xffffu) | (uint32_t)hi << 16;
			v[b * per + k] = LLVMConstInt(f->i32, w, 0);
		}
	char name[64];
	snprintf(name, sizeof name, "%s.lut%d", f->name, bits);
	LLVMValueRef init = LLVMConstArray2(f->i32, v, (uint64_t)(256 * per));
	return be_opaque_const(f, name, init, 16);
}

/* wq[m * R + r] = w - zw packed per channel row, bias' = bias - zx * sum
 * wq, both as constant globals of j.  The packing takes the fewest bits
 * that hold every wq; R is padded with zeros to R4, a multiple of 4:
 *   8 bits: each group of four stored as (w0, w2, w1, w3), so that SXTB16
 *           of the word, plain and rotated by 8, gives (w0, w1), (w2, w3);
 *   4 bits: byte k = (w2k, w2k+1) as nibbles, unpacked to the pair by one
 *           load from be_dsp_lut(4);
 *   2 bits: byte k = (w4k .. w4k+3) as crumbs, two pairs from be_dsp_lut(2);
 *   1 bit (every wq +-1): channels 2p and 2p + 1 share one row, byte k
 *           their elements 4k .. 4k+3 as bits (first channel low), four
 *           pairs from be_dsp_lut(1).
 * A table load takes the place of SXTB16, so the packed tiles run as many
 * instructions per element as 8 bits (4 bits: one more load per pair), and
 * binary ones fewer.  The column tails beyond R are zero, so what the
 * padding weights unpack to adds nothing.  1 when some w - zw does not
 * fit i8. */
static int make_weights(be_fn *f, dsp_job *j, const int32_t *wq, const int32_t *bias)
{
	int64_t M = j->M, R = j->R;
	int32_t wmin = 0, wmax = 0;
	bool pm1 = true; /* every weight -1 or +1 */
	for (int64_t i = 0; i < M * R; i++) {
		wmin = wq[i] < wmin ? wq[i] : wmin;
		wmax = wq[i] > wmax ? wq[i] : wmax;
		pm1 = pm1 && (wq[i] == 1 || wq[i] == -1);
	}
	if (wmin < -128 || wmax > 127)
		return 1;
	if (j->simd)
		return simd_weights(f, j, wq, bias, wmin);
	/* a channel fits b bits as it is, or negated (affine codes around a
	 * zero point at the low middle, e.g. [-1, 2] at 2 bits); a negated
	 * channel's sum is negated back at the end */
	int bits = pm1 ? 1 : 8;
	char *neg = calloc((size_t)M, 1);
	if (!neg) {
		diag_error(f->d, NULL, "out of memory");
		return -1;
	}
	for (int b = 2; b <= 4 && bits == 8; b += 2) {
		int32_t lo = -(1 << (b - 1)), hi = (1 << (b - 1)) - 1;
		bool fits = true;
		for (int64_t m = 0; m < M && fits; m++) {
			int32_t mn = 0, mx = 0;
			for (int64_t r = 0; r < R; r++) {
				mn = wq[m * R + r] < mn ? wq[m * R + r] : mn;
				mx = wq[m * R + r] > mx ? wq[m * R + r] : mx;
			}
			neg[m] = !(mn >= lo && mx <= hi);
			fits = !neg[m] || (-mx >= lo && -mn <= hi);
		}
		if (fits)
			bits = b;
	}
	/* 2 and 4 bits read a table the module holds once (be_dsp_lut: 2 KB
	 * and 1 KB): 8 bits where every integer weight of the model packed so
	 * would save less than it (a small model, whose flash would grow; 8
	 * bits runs as fast). */
	if ((bits == 2 || bits == 4) && 8 * (256 * 4 * lut_per(bits)) > (8 - bits) * int_weights(f))
		bits = 8;
	if (bits == 8 || bits == 1)
		memset(neg, 0, (size_t)M);
	j->wbits = bits;
	j->R4 = (R + 3) / 4 * 4;
	j->wrow = bits == 1 ? j->R4 / 4 : j->R4 * bits / 8;
	j->lut = bits < 8 ? be_dsp_lut(f, bits) : NULL;
	int64_t R4 = j->R4, rows = bits == 1 ? (M + 1) / 2 : M;
	uint8_t *wb = calloc((size_t)(rows * j->wrow), 1);
	int32_t *bb = malloc(sizeof *bb * (size_t)M);
	int32_t *sg = malloc(sizeof *sg * (size_t)M);
	if (!wb || !bb || !sg) {
		free(wb);
		free(bb);
		free(sg);
		free(neg);
		diag_error(f->d, NULL, "out of memory");
		return -1;
	}
	static const int order[4] = {0, 2, 1, 3};
	j->any_neg = false;
	for (int64_t m = 0; m < M; m++) {
		uint32_t sum = 0;
		uint8_t *row = wb + (bits == 1 ? m / 2 : m) * j->wrow;
		sg[m] = neg[m] ? -1 : 1;
		j->any_neg = j->any_neg || neg[m];
		for (int64_t r = 0; r < R4; r++) {
			int32_t v = r < R ? wq[m * R + r] : 0;
			v = neg[m] ? -v : v;
			sum += (uint32_t)v;
			if (bits == 8)
				row[r / 4 * 4 + order[r & 3]] = (uint8_t)v;
			else if (bits == 4)
				row[r / 2] |= (uint8_t)(((uint32_t)v & 15u) << (4 * (r & 1)));
			else if (bits == 2)
				row[r / 4] |= (uint8_t)(((uint32_t)v & 3u) << (2 * (r & 3)));
			else if (v > 0)
				row[r / 4] |= (uint8_t)(1u << (4 * (m & 1) + (r & 3)));
		}
		/* sum is of the stored (negated) weights: bias' = sg * (bias - zx * sum w) */
		uint32_t bm = (uint32_t)(bias ? bias[m] : 0);
		bb[m] = (int32_t)((neg[m] ? 0u - bm : bm) - (uint32_t)j->zx * sum);
	}
	char name[64];
	snprintf(name, sizeof name, "%s.dspw%d", f->name, j->nid);
	LLVMValueRef init = LLVMConstStringInContext2(f->ctx, (const char *)wb, (size_t)(rows * j->wrow), 1);
	j->w = be_opaque_const(f, name, init, 4);
	j->bias = be_table_i32(f, bb, M);
	j->sign = j->any_neg ? be_table_i32(f, sg, M) : NULL;
	free(wb);
	j->bh = bb;
	if (j->any_neg)
		j->sg = sg;
	else
		free(sg);
	free(neg);
	return j->bias && (!j->any_neg || j->sign) && (bits == 8 || j->lut) ? 0 : -1;
}

static LLVMValueRef gep8(be_fn *f, LLVMValueRef p, int64_t off)
{
	LLVMValueRef o = be_ci(f, off);
	return LLVMBuildInBoundsGEP2(f->b, f->i8, p, &o, 1, "");
}

static LLVMValueRef ld32(be_fn *f, LLVMValueRef p, int64_t off)
{
	LLVMValueRef v = LLVMBuildLoad2(f->b, f->i32, gep8(f, p, off), "");
	LLVMSetAlignment(v, 4);
	return v;
}

/* The tile's sums back to the reference's on negated channels. */
static void tile_sign(be_fn *f, const dsp_job *j, LLVMValueRef m, int nm, int np, LLVMValueRef acc[TILE_MAX][TILE_MAX])
{
	for (int i = 0; i < nm && j->any_neg; i++) {
		LLVMValueRef sg = be_ld_t(f, f->i32, j->sign, be_add(f, m, be_ci(f, i)));
		for (int k = 0; k < np; k++)
			acc[i][k] = LLVMBuildMul(f->b, acc[i][k], sg, "");
	}
}

/* ------------------------------------------------------ inline asm */

/* Thumb-2 text, appended to a line at a time (on the heap: a channel
 * loop with a section per requantization run takes tens of KB); start
 * as {0}, asm_call frees it. */
typedef struct asm_text {
	char *s;
	size_t at, cap;
	bool full; /* out of memory: asm_call reports it */
} asm_text;

static void put(asm_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(asm_text *t, const char *fmt, ...)
{
	for (;;) {
		if (t->full)
			return;
		va_list ap;
		va_start(ap, fmt);
		int n = t->s ? vsnprintf(t->s + t->at, t->cap - t->at, fmt, ap) : 0;
		va_end(ap);
		if (n < 0) {
			t->full = true;
			return;
		}
		if (t->s && (size_t)n < t->cap - t->at) {
			t->at += (size_t)n;
			return;
		}
		size_t cap = t->cap ? 2 * t->cap : 16384;
		char *s = realloc(t->s, cap);
		if (!s) {
			t->full = true;
			return;
		}
		t->s = s;
		t->cap = cap;
	}
}

/* Call t's text as inline asm with constraints cons: nres results of the
 * types in rty, the operands args (their types from the values); the
 * first nout results into out.  Frees t's text. */
static void asm_call(be_fn *f, asm_text *t, const char *cons, LLVMTypeRef *rty, int nres,
                     LLVMValueRef *args, int nargs, LLVMValueRef *out, int nout)
{
	if (t->full || !t->s) {
		diag_error(f->d, NULL, "out of memory for an inline asm kernel's text");
		for (int i = 0; i < nout; i++)
			out[i] = LLVMGetUndef(rty[i]);
		free(t->s);
		t->s = NULL;
		return;
	}
	LLVMTypeRef pty[16];
	for (int i = 0; i < nargs; i++)
		pty[i] = LLVMTypeOf(args[i]);
	LLVMTypeRef sty = LLVMStructTypeInContext(f->ctx, rty, (unsigned)nres, 0);
	LLVMTypeRef fty = LLVMFunctionType(sty, pty, (unsigned)nargs, 0);
	LLVMValueRef ia = LLVMGetInlineAsm(fty, t->s, strlen(t->s), cons, strlen(cons), 1, 0,
	                                   LLVMInlineAsmDialectATT, 0);
	free(t->s);
	t->s = NULL;
	LLVMValueRef r = LLVMBuildCall2(f->b, fty, ia, args, (unsigned)nargs, "");
	for (int i = 0; i < nout; i++)
		out[i] = LLVMBuildExtractValue(f->b, r, (unsigned)i, "");
}

/* The tile's column words $10, $11 from byte off (>= 0) of the column
 * pointer $5: beyond LDRD's reach through $10, set by ADDW's 12-bit
 * immediate or by MOVW (and MOVT) and an ADD. */
static void tile_ldrd(asm_text *t, int64_t off)
{
	if (off <= 1020)
		put(t, "ldrd $10, $11, [$5, #%lld]\n", (long long)off);
	else if (off <= 4095)
		put(t, "addw $10, $5, #%lld\nldrd $10, $11, [$10]\n", (long long)off);
	else {
		put(t, "movw $10, #%lld\n", (long long)(off & 0xffff));
		if (off > 0xffff)
			put(t, "movt $10, #%lld\n", (long long)(off >> 16));
		put(t, "add $10, $10, $5\nldrd $10, $11, [$10]\n");
	}
}

/* Column k's four SMLADs: channel 0's sum $k from the weight pairs $6 and
 * $8, channel 1's $(2 + k) from $7 and $9, against the column words. */
static void tile_smlad(asm_text *t, int k)
{
	put(t,
	    "smlad $%d, $6, $10, $%d\n"
	    "smlad $%d, $8, $11, $%d\n"
	    "smlad $%d, $7, $10, $%d\n"
	    "smlad $%d, $9, $11, $%d\n",
	    k, k, k, k, 2 + k, 2 + k, 2 + k, 2 + k);
}

/* The 2x2 tile as one Thumb-2 loop: LLVM's allocator spills
 * this loop's 13 live values (four sums, four unpacked weight pairs, two
 * column words, two pointers and the end), and the pointer arithmetic it
 * derives from the stack columns costs two more instructions a trip.  Per
 * 4 reduction elements: the four weight pairs (two channels'), per column
 * one LDRD of two i16 pairs and 4 SMLADs.  The pairs take, at 8 bits, two
 * weight words (post-increment; channel m + 1 is wrow bytes on) and
 * SXTB16 plain and rotated: 16 instructions for 16 MACs, 16.5 with the
 * loop's when four steps share a trip (R4 a multiple of 16).  Packed
 * weights load their pairs from the lookup table (the register $<lut>):
 * at 2 bits a byte per channel, an ADD of its scaled index and an LDRD of
 * the two pairs (16 for 16 MACs, as 8 bits); at 4 bits two bytes and two
 * indexed LDRs per channel (18); at 1 bit one byte for both channels, an
 * ADD and two LDRDs (14). */
/* The 2x2 tile's reduction as Thumb-2 text into t: the weight pointer $4,
 * the column pointer $5, scratch $6..$11 and the sums $0..$3 (channel i,
 * column k in $(2i + k)), until $4 reaches $<wend>; unrolled whole (no
 * loop, no end) when unroll; wend -1: the end in the frame's last word.
 * With ncol 1, column 0 alone (a 2x1 tile:
 * 11 instructions for 8 MACs at 8 and 2 bits). */
static void tile_text(asm_text *t, const dsp_job *j, int ncol, int wend, int lut, int col1, bool unroll)
{
	if (!unroll)
		put(t, "1:\n");
	/* (eight with the end in the frame: its reload once per 128 MACs) */
	int steps = unroll                           ? (int)(j->R4 / 4)
	            : wend < 0 && j->R4 % 32 == 0 ? 8
	            : j->R4 % 16 == 0             ? 4
	            : j->R4 % 8 == 0              ? 2
	                                          : 1;
	long long wrow = (long long)j->wrow;
	for (int st = 0; st < steps; st++) {
		/* channel 0's pairs into $6 and $8, channel 1's into $7 and $9 */
		switch (j->wbits) {
		case 8:
			put(t,
			    "ldr $8, [$4], #4\n"
			    "ldr $9, [$4, #%lld]\n"
			    "ldrd $10, $11, [$5], #8\n"
			    "sxtb16 $6, $8\n"
			    "sxtb16 $8, $8, ror #8\n"
			    "sxtb16 $7, $9\n"
			    "sxtb16 $9, $9, ror #8\n",
			    wrow - 4);
			break;
		case 4:
			put(t,
			    "ldrb $6, [$4], #2\n"
			    "ldrb $8, [$4, #-1]\n"
			    "ldrb $7, [$4, #%lld]\n"
			    "ldrb $9, [$4, #%lld]\n"
			    "ldrd $10, $11, [$5], #8\n",
			    wrow - 2, wrow - 1);
			for (int r = 6; r <= 9; r++)
				put(t, "ldr $%d, [$%d, $%d, lsl #2]\n", r, lut, r);
			break;
		case 2:
			put(t,
			    "ldrb $6, [$4], #1\n"
			    "ldrb $7, [$4, #%lld]\n"
			    "ldrd $10, $11, [$5], #8\n"
			    "add $6, $%d, $6, lsl #3\n"
			    "add $7, $%d, $7, lsl #3\n"
			    "ldrd $6, $8, [$6]\n"
			    "ldrd $7, $9, [$7]\n",
			    wrow - 1, lut, lut);
			break;
		default: /* 1 */
			put(t,
			    "ldrb $6, [$4], #1\n"
			    "ldrd $10, $11, [$5], #8\n"
			    "add $6, $%d, $6, lsl #4\n"
			    "ldrd $7, $9, [$6, #8]\n"
			    "ldrd $6, $8, [$6]\n",
			    lut);
			break;
		}
		tile_smlad(t, 0);
		if (ncol == 1)
			continue;
		if (col1 >= 0) /* column 1 from a pointer of its own */
			put(t, "ldrd $10, $11, [$%d], #8\n", col1);
		else
			tile_ldrd(t, 2 * j->R4 - 8); /* column 1 after the post-increment */
		tile_smlad(t, 1);
	}
	if (!unroll && wend < 0) /* the end in the frame: $9 is free here */
		put(t, "ldr $9, [sp, #20]\ncmp $4, $9\nbne 1b\n");
	else if (!unroll)
		put(t, "cmp $4, $%d\nbne 1b\n", wend);
}

static void tile_asm(be_fn *f, const dsp_job *j, LLVMValueRef init[TILE_MAX][TILE_MAX], LLVMValueRef w0,
                     LLVMValueRef wend, LLVMValueRef x0, LLVMValueRef acc[TILE_MAX][TILE_MAX])
{
	asm_text t = {0};
	tile_text(&t, j, 2, 18, 19, -1, false);
	/* the table, $19, only with packed weights: 8 bits leaves LLVM a
	 * register more */
	const char *cons = j->lut ? "=r,=r,=r,=r,=r,=r,=&r,=&r,=&r,=&r,=&r,=&r,0,1,2,3,4,5,r,r,~{cc},~{memory}"
	                          : "=r,=r,=r,=r,=r,=r,=&r,=&r,=&r,=&r,=&r,=&r,0,1,2,3,4,5,r,~{cc},~{memory}";
	LLVMTypeRef el[12];
	for (int i = 0; i < 12; i++)
		el[i] = i == 4 || i == 5 ? f->ptr : f->i32;
	LLVMValueRef args[8] = {init[0][0], init[0][1], init[1][0], init[1][1], w0, x0, wend, j->lut};
	LLVMValueRef r[4];
	asm_call(f, &t, cons, el, 12, args, j->lut ? 8 : 7, r, 4);
	acc[0][0] = r[0];
	acc[0][1] = r[1];
	acc[1][0] = r[2];
	acc[1][1] = r[3];
}

/* Elements [lo, lo + 8) of a <16 x i8> sign-extended to <8 x i16>. */
static LLVMValueRef half16(be_fn *f, LLVMValueRef v, int lo)
{
	LLVMValueRef idx[8];
	for (int i = 0; i < 8; i++)
		idx[i] = c32(f, lo + i);
	LLVMValueRef h = LLVMBuildShuffleVector(f->b, v, LLVMGetPoison(LLVMTypeOf(v)), LLVMConstVector(idx, 8), "");
	return LLVMBuildSExt(f->b, h, LLVMVectorType(LLVMInt16TypeInContext(f->ctx), 8), "");
}

/* The SIMD tile: the loop walks the weight row of channel m and column 0
 * by 16 elements (one 16-byte vector each); per channel and column the
 * 16 products go into i32 lanes:
 *   NEON: SMULL + SMLAL2 into i16 lanes and SADALP into four i32 lanes
 *         (with j->pair; else two SMULLs, each widened by SADALP); on
 *         cores with the dot product (-mcpu=cortex-a76, -mattr=+dotprod)
 *         one SDOT;
 *   x86:  both operands widened to i16 and PMADDWD (a0 b0 + a1 b1 per
 *         i32 lane, exact for i8 values): one 256-bit one with AVX2, two
 *         128-bit ones with SSE2.
 * The lanes are summed after the loop (store_simd). */
static void tile_simd(be_fn *f, const dsp_job *j, LLVMValueRef m, int nm, int np,
                      LLVMValueRef acc[TILE_MAX][TILE_MAX])
{
	LLVMBuilderRef b = f->b;
	LLVMTypeRef v16 = LLVMVectorType(f->i8, 16), h8 = LLVMVectorType(LLVMInt16TypeInContext(f->ctx), 8);
	LLVMTypeRef s4 = LLVMVectorType(f->i32, 4), acct = LLVMVectorType(f->i32, j->arch == BE_ISIMD_AVX2 && !j->vnni ? 8 : 4);
	LLVMValueRef moff = be_mul(f, m, j->wrow);
	LLVMValueRef w0 = LLVMBuildInBoundsGEP2(b, f->i8, j->w, &moff, 1, "");
	LLVMValueRef wend = gep8(f, w0, j->R4);
	LLVMValueRef x0 = j->col[0], zero = LLVMConstNull(acct);
	LLVMBasicBlockRef pre = LLVMGetInsertBlock(b);
	LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(f->ctx, f->fn, "simd.k");
	LLVMBasicBlockRef exit = LLVMAppendBasicBlockInContext(f->ctx, f->fn, "simd.k.end");
	LLVMBuildBr(b, body);
	LLVMPositionBuilderAtEnd(b, body);
	LLVMValueRef wp = LLVMBuildPhi(b, f->ptr, "wp");
	LLVMValueRef xp = LLVMBuildPhi(b, f->ptr, "xp");
	LLVMValueRef ph[TILE_MAX][TILE_MAX], cur[TILE_MAX][TILE_MAX];
	LLVMValueRef wl[TILE_MAX], wh[TILE_MAX], xl[TILE_MAX], xh[TILE_MAX];
	for (int i = 0; i < nm; i++)
		for (int k = 0; k < np; k++)
			ph[i][k] = LLVMBuildPhi(b, acct, "acc");
	bool avx2 = j->arch == BE_ISIMD_AVX2 && !j->vnni, dot = j->arch == BE_ISIMD_NEON_DOT || j->vnni;
	LLVMTypeRef h16 = LLVMVectorType(LLVMInt16TypeInContext(f->ctx), 16);
	/* the 16 bytes of a weight row (i < nm) or column (nm + k): as they
	 * are (SDOT, VPDPBUSD), widened (AVX2), or widened in halves */
	for (int e = 0; e < nm + np; e++) {
		bool w = e < nm;
		LLVMValueRef v = LLVMBuildLoad2(b, v16, w ? gep8(f, wp, e * j->wrow) : gep8(f, xp, (e - nm) * j->R4), "");
		LLVMSetAlignment(v, 16);
		LLVMValueRef *lo = w ? &wl[e] : &xl[e - nm], *hi = w ? &wh[e] : &xh[e - nm];
		if (dot) {
			*lo = v;
		} else if (avx2) {
			*lo = LLVMBuildSExt(b, v, h16, "");
		} else {
			*lo = half16(f, v, 0);
			*hi = half16(f, v, 8);
		}
	}
	for (int i = 0; i < nm; i++)
		for (int k = 0; k < np; k++) {
			LLVMValueRef a;
			if (dot && j->vnni) { /* VPDPBUSD: u8 column x s8 weights, four into each lane */
				LLVMValueRef args[3] = {ph[i][k], LLVMBuildBitCast(b, xl[k], s4, ""),
				                        LLVMBuildBitCast(b, wl[i], s4, "")};
				/* (AVX-VNNI selects its VEX form from the same intrinsic) */
				cur[i][k] = be_intr(f, "llvm.x86.avx512.vpdpbusd.128", NULL, 0, args, 3);
				continue;
			}
			if (dot) { /* SDOT: four products into each i32 lane */
				LLVMValueRef args[3] = {ph[i][k], wl[i], xl[k]};
				LLVMTypeRef tys[2] = {s4, v16};
				cur[i][k] = be_intr(f, "llvm.aarch64.neon.sdot", tys, 2, args, 3);
				continue;
			}
			if (j->arch == BE_ISIMD_AVX2) {
				LLVMValueRef ab[2] = {wl[i], xl[k]};
				a = be_intr(f, "llvm.x86.avx2.pmadd.wd", NULL, 0, ab, 2);
				cur[i][k] = LLVMBuildAdd(b, ph[i][k], a, "");
				continue;
			}
			if (j->arch == BE_ISIMD_SSE2) {
				LLVMValueRef ab[2] = {wl[i], xl[k]}, cd[2] = {wh[i], xh[k]};
				a = LLVMBuildAdd(b, be_intr(f, "llvm.x86.sse2.pmadd.wd", NULL, 0, ab, 2),
				                 be_intr(f, "llvm.x86.sse2.pmadd.wd", NULL, 0, cd, 2), "");
				cur[i][k] = LLVMBuildAdd(b, ph[i][k], a, "");
				continue;
			}
			LLVMValueRef lo = LLVMBuildMul(b, wl[i], xl[k], ""), hi = LLVMBuildMul(b, wh[i], xh[k], "");
			LLVMTypeRef tys[2] = {s4, h8};
			if (j->pair) {
				a = LLVMBuildAdd(b, lo, hi, "");
				a = be_intr(f, "llvm.aarch64.neon.saddlp", tys, 2, &a, 1);
			} else {
				a = LLVMBuildAdd(b, be_intr(f, "llvm.aarch64.neon.saddlp", tys, 2, &lo, 1),
				                 be_intr(f, "llvm.aarch64.neon.saddlp", tys, 2, &hi, 1), "");
			}
			cur[i][k] = LLVMBuildAdd(b, ph[i][k], a, "");
		}
	LLVMValueRef wn = gep8(f, wp, 16), xn = gep8(f, xp, 16);
	LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, wn, wend, ""), exit, body);
	LLVMBasicBlockRef latch = LLVMGetInsertBlock(b);
	LLVMAddIncoming(wp, &w0, &pre, 1);
	LLVMAddIncoming(wp, &wn, &latch, 1);
	LLVMAddIncoming(xp, &x0, &pre, 1);
	LLVMAddIncoming(xp, &xn, &latch, 1);
	for (int i = 0; i < nm; i++)
		for (int k = 0; k < np; k++) {
			LLVMAddIncoming(ph[i][k], &zero, &pre, 1);
			LLVMAddIncoming(ph[i][k], &cur[i][k], &latch, 1);
		}
	LLVMPositionBuilderAtEnd(b, exit);
	for (int i = 0; i < nm; i++)
		for (int k = 0; k < np; k++)
			acc[i][k] = cur[i][k];
}

/* The SIMD tile's outputs: with four channels, per column the lanes of
 * the four sums become one vector of the four channels' dot products
 * (NEON: ADDP twice; x86: each sum reduced), which is requantized as a
 * vector (but for SSE2, where 64-bit lane multiplies are emulated); else
 * each sum is reduced and takes the scalar output step. */
static void store_simd(be_fn *f, const dsp_job *j, LLVMValueRef m, int nm, LLVMValueRef p, int np,
                       LLVMValueRef acc[TILE_MAX][TILE_MAX])
{
	LLVMBuilderRef b = f->b;
	LLVMTypeRef s4 = LLVMVectorType(f->i32, 4), oty = be_dt_type(f, j->o.odt);
	for (int k = 0; k < np; k++) {
		LLVMValueRef pk = be_add(f, p, be_ci(f, k));
		if (nm < 4 || j->arch == BE_ISIMD_SSE2) {
			for (int i = 0; i < nm; i++) {
				LLVMValueRef mi = be_add(f, m, be_ci(f, i));
				LLVMValueRef bv = be_ld_t(f, f->i32, j->bias, mi);
				LLVMTypeRef at = LLVMTypeOf(acc[i][k]);
				LLVMValueRef sum = LLVMBuildAdd(b, bv, be_intr(f, "llvm.vector.reduce.add", &at, 1, &acc[i][k], 1), "");
				LLVMValueRef idx = be_add(f, j->ybase, be_add(f, be_mul(f, mi, j->ystr_m), be_mul(f, pk, j->ystr_p)));
				be_st_t(f, oty, j->y, idx, be_int_out(f, &j->o, sum, mi));
			}
			continue;
		}
		LLVMValueRef sum;
		if (j->arch == BE_ISIMD_NEON || j->arch == BE_ISIMD_NEON_DOT) {
			LLVMValueRef a01[2] = {acc[0][k], acc[1][k]}, a23[2] = {acc[2][k], acc[3][k]};
			LLVMValueRef lo = be_intr(f, "llvm.aarch64.neon.addp", &s4, 1, a01, 2);
			LLVMValueRef hi = be_intr(f, "llvm.aarch64.neon.addp", &s4, 1, a23, 2);
			LLVMValueRef both[2] = {lo, hi};
			sum = be_intr(f, "llvm.aarch64.neon.addp", &s4, 1, both, 2);
		} else {
			sum = LLVMGetPoison(s4);
			for (int i = 0; i < 4; i++) {
				LLVMTypeRef at = LLVMTypeOf(acc[i][k]);
				LLVMValueRef r = be_intr(f, "llvm.vector.reduce.add", &at, 1, &acc[i][k], 1);
				sum = LLVMBuildInsertElement(b, sum, r, c32(f, i), "");
			}
		}
		LLVMValueRef bp = LLVMBuildInBoundsGEP2(b, f->i32, j->bias, &m, 1, "");
		LLVMValueRef bv = LLVMBuildLoad2(b, s4, bp, "");
		LLVMSetAlignment(bv, 4);
		LLVMValueRef out = be_int_out_v(f, &j->o, LLVMBuildAdd(b, sum, bv, ""), m, 1);
		LLVMValueRef base = be_add(f, j->ybase, be_add(f, be_mul(f, m, j->ystr_m), be_mul(f, pk, j->ystr_p)));
		if (j->ystr_m == 1) {
			LLVMValueRef at = LLVMBuildInBoundsGEP2(b, oty, j->y, &base, 1, "");
			LLVMSetAlignment(LLVMBuildStore(b, out, at), 1);
			continue;
		}
		for (int i = 0; i < 4; i++)
			be_st_t(f, oty, j->y, be_add(f, base, be_ci(f, i * j->ystr_m)),
			        LLVMBuildExtractElement(b, out, c32(f, i), ""));
	}
}

/* Four bytes (w, as loaded) as two words of i16 pairs in order, (x0, x1)
 * and (x2, x3): SXTB16 (UXTB16 for u8) plain and rotated give (x0, x2)
 * and (x1, x3), PKHBT and PKHTB reorder them. */
static void xtb16_pairs(be_fn *f, LLVMValueRef w, bool u8, LLVMValueRef *x01, LLVMValueRef *x23)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef lo = xtb16(f, w, u8), hi = xtb16_ror8(f, w, u8);
	*x01 = LLVMBuildOr(b, LLVMBuildAnd(b, lo, c32(f, 0xffff), ""), LLVMBuildShl(b, hi, c32(f, 16), ""), "");
	*x23 = LLVMBuildOr(b, LLVMBuildAnd(b, hi, c32(f, (int64_t)0xffff0000u), ""),
	                   LLVMBuildLShr(b, lo, c32(f, 16), ""), "");
}

/* Four bytes of x as the columns' two words (direct mode). */
static void direct_words(be_fn *f, const dsp_job *j, LLVMValueRef w, LLVMValueRef *xa, LLVMValueRef *xc)
{
	xtb16_pairs(f, w, j->xval->dt == IR_DT_U8, xa, xc);
}

/* An unaligned word of x at byte off of p. */
static LLVMValueRef ld32u(be_fn *f, LLVMValueRef p, int64_t off)
{
	LLVMValueRef v = LLVMBuildLoad2(f->b, f->i32, gep8(f, p, off), "");
	LLVMSetAlignment(v, 1);
	return v;
}

/* One step of the tile (4 reduction elements, step st of the trip, the
 * weights at wp): each channel's two weight pairs, then per column two
 * SMLADs against its words xa, xc. */
static void tile_step(be_fn *f, const dsp_job *j, int nm, int np, LLVMValueRef wp, int st, LLVMValueRef *xa,
                      LLVMValueRef *xc, LLVMValueRef cur[2][2])
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef pa[2], pb2[2];
	for (int i = 0; i < nm; i++) {
		if (j->wbits == 8) {
			LLVMValueRef t = ld32(f, wp, i * j->wrow + st * 4);
			pa[i] = xtb16(f, t, false);
			pb2[i] = xtb16_ror8(f, t, false);
			continue;
		}
		LLVMValueRef ix[2];
		for (int h = 0; h < (j->wbits == 4 ? 2 : 1); h++) {
			LLVMValueRef by = LLVMBuildLoad2(b, f->i8, gep8(f, wp, (j->wbits == 1 ? 0 : i * j->wrow) + h), "");
			ix[h] = LLVMBuildZExt(b, by, f->ity, "");
		}
		if (j->wbits == 4) {
			pa[i] = be_ld_t(f, f->i32, j->lut, ix[0]);
			pb2[i] = be_ld_t(f, f->i32, j->lut, ix[1]);
		} else {
			int per = j->wbits == 2 ? 2 : 4, at = j->wbits == 2 ? 0 : 2 * i;
			LLVMValueRef e = be_add(f, be_mul(f, ix[0], per), be_ci(f, at));
			pa[i] = be_ld_t(f, f->i32, j->lut, e);
			pb2[i] = be_ld_t(f, f->i32, j->lut, be_add(f, e, be_ci(f, 1)));
		}
	}
	for (int k = 0; k < np; k++)
		for (int i = 0; i < nm; i++)
			cur[i][k] = be_smlad(f, pb2[i], xc[k], be_smlad(f, pa[i], xa[k], cur[i][k]));
}

/* Channel m's folded bias: from the bias table, or from the high half of
 * its packed row's second word. */
static LLVMValueRef job_bias(be_fn *f, const dsp_job *j, LLVMValueRef m)
{
	if (!j->rqpack)
		return be_ld_t(f, f->i32, j->bias, m);
	LLVMTypeRef i16 = LLVMInt16TypeInContext(f->ctx);
	LLVMValueRef h = be_ld_t(f, i16, j->rq, be_add(f, be_mul(f, m, 4), be_ci(f, 3)));
	return LLVMBuildSExt(f->b, h, f->i32, "");
}

/* acc[i][k] (i < nm channels from m, k < np columns) = the tile's dot
 * products, starting from the folded bias.  The loop walks a weight
 * pointer (channel m's row; m + 1's is R4 bytes further) and a column
 * pointer (column 1 is 2 * R4 bytes further) by 4 elements; per column
 * it loads two words of i16 pairs and does 2 * nm SMLADs. */
static void tile(be_fn *f, const dsp_job *j, LLVMValueRef m, int nm, int np, LLVMValueRef acc[TILE_MAX][TILE_MAX])
{
	if (j->simd) {
		tile_simd(f, j, m, nm, np, acc);
		return;
	}
	LLVMBuilderRef b = f->b;
	LLVMValueRef init[TILE_MAX][TILE_MAX];
	for (int i = 0; i < nm; i++) {
		LLVMValueRef bv = job_bias(f, j, be_add(f, m, be_ci(f, i)));
		for (int k = 0; k < np; k++)
			init[i][k] = bv;
	}
	/* at 1 bit m is even: its pair's row */
	LLVMValueRef moff = be_mul(f, j->wbits == 1 ? LLVMBuildLShr(b, m, be_ci(f, 1), "") : m, j->wrow);
	LLVMValueRef w0 = LLVMBuildInBoundsGEP2(b, f->i8, j->w, &moff, 1, "");
	int64_t wstep = j->wbits == 1 ? 1 : j->wbits / 2; /* weight bytes a step of 4 elements */
	LLVMValueRef wend = gep8(f, w0, j->direct ? j->R / 4 * wstep : j->wrow);
	LLVMValueRef x0 = j->col[0];
	if (nm == 2 && np == 2) {
		tile_asm(f, j, init, w0, wend, x0, acc);
		tile_sign(f, j, m, nm, np, acc);
		return;
	}
	LLVMBasicBlockRef pre = LLVMGetInsertBlock(b);
	LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(f->ctx, f->fn, "dsp.k");
	LLVMBasicBlockRef exit = LLVMAppendBasicBlockInContext(f->ctx, f->fn, "dsp.k.end");
	LLVMBuildBr(b, body);
	LLVMPositionBuilderAtEnd(b, body);
	LLVMValueRef wp = LLVMBuildPhi(b, f->ptr, "wp");
	LLVMValueRef xp = LLVMBuildPhi(b, f->ptr, "xp");
	LLVMValueRef ph[2][2];
	for (int i = 0; i < nm; i++)
		for (int k = 0; k < np; k++)
			ph[i][k] = LLVMBuildPhi(b, f->i32, "acc");
	LLVMValueRef cur[2][2];
	for (int i = 0; i < nm; i++)
		for (int k = 0; k < np; k++)
			cur[i][k] = ph[i][k];
	/* 4 elements a step; two steps a trip at 8 bits (the loop overhead
	 * halves); direct: the R / 4 whole words of x in the loop, then the
	 * last R % 4 elements as one more step */
	int64_t nstep = j->direct ? j->R / 4 : j->R4 / 4;
	int steps = j->wbits == 8 && nstep % 2 == 0 ? 2 : 1;
	for (int st = 0; st < steps; st++) {
		LLVMValueRef xa[2], xc[2];
		for (int k = 0; k < np; k++) {
			if (j->direct) {
				direct_words(f, j, ld32u(f, xp, 4 * st), &xa[k], &xc[k]);
				continue;
			}
			int64_t xb = k * j->R4 * 2 + 8 * st;
			xa[k] = ld32(f, xp, xb);
			xc[k] = ld32(f, xp, xb + 4);
		}
		tile_step(f, j, nm, np, wp, st, xa, xc, cur);
	}
	int64_t xo = (j->direct ? 4 : 8) * steps;
	LLVMValueRef wn = gep8(f, wp, wstep * steps), xn = gep8(f, xp, xo);
	LLVMValueRef br = LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, wn, wend, ""), exit, body);
	be_no_unroll(f, br);
	LLVMBasicBlockRef latch = LLVMGetInsertBlock(b);
	LLVMAddIncoming(wp, &w0, &pre, 1);
	LLVMAddIncoming(wp, &wn, &latch, 1);
	LLVMAddIncoming(xp, &x0, &pre, 1);
	LLVMAddIncoming(xp, &xn, &latch, 1);
	for (int i = 0; i < nm; i++)
		for (int k = 0; k < np; k++) {
			LLVMAddIncoming(ph[i][k], &init[i][k], &pre, 1);
			LLVMAddIncoming(ph[i][k], &cur[i][k], &latch, 1);
		}
	LLVMPositionBuilderAtEnd(b, exit);
	if (j->direct && j->R % 4) {
		/* the last R % 4 bytes of x one at a time (no read past the
		 * row), zeros beyond, against the row's last (zero-padded) step */
		LLVMValueRef w4 = c32(f, 0);
		for (int64_t r = 0; r < j->R % 4; r++) {
			LLVMValueRef v = LLVMBuildLoad2(b, f->i8, gep8(f, x0, nstep * 4 + r), "");
			v = LLVMBuildZExt(b, v, f->i32, "");
			w4 = LLVMBuildOr(b, w4, r ? LLVMBuildShl(b, v, c32(f, 8 * r), "") : v, "");
		}
		LLVMValueRef xa[2], xc[2];
		direct_words(f, j, w4, &xa[0], &xc[0]);
		tile_step(f, j, nm, np, wend, 0, xa, xc, cur);
	}
	for (int i = 0; i < nm; i++)
		for (int k = 0; k < np; k++)
			acc[i][k] = cur[i][k];
	tile_sign(f, j, m, nm, np, acc);
}

/* Whether chans_asm can run j's channel pairs: rows and output offsets
 * within Thumb-2's 12-bit immediates, be_rq_rows' case (whose rows carry
 * negated channels' signs, job_rows). */
static bool chans_ok(const dsp_job *j)
{
	return j->rq && !j->simd && !j->direct && j->M >= 2 && j->wrow <= 4095 && 2 * j->ystr_m <= 65535 &&
	       j->ystr_p <= 4095;
}

/* $reg += v (0 <= v <= 65535): ADDW's 12-bit immediate, else through
 * $11 (free between outputs). */
static void add_imm(asm_text *t, int reg, int64_t v)
{
	if (v <= 4095)
		put(t, "addw $%d, $%d, #%lld\n", reg, reg, (long long)v);
	else
		put(t, "movw $11, #%lld\nadd $%d, $%d, $11\n", (long long)v, reg, reg);
}

/* $reg = v, a constant of 16 bits: MOVW, or MVN of a modified immediate
 * (v in [-256, -1]), else MOVW and MOVT. */
static void put_imm(asm_text *t, int reg, int64_t v)
{
	uint32_t u = (uint32_t)v;
	if (u <= 65535)
		put(t, "movw $%d, #%u\n", reg, u);
	else if (~u <= 255)
		put(t, "mvn $%d, #%u\n", reg, ~u);
	else
		put(t, "movw $%d, #%u\nmovt $%d, #%u\n", reg, u & 0xffffu, reg, u >> 16);
}

/* Where the channel loops' asm takes packed weights' table: none (8-bit
 * weights), tied to $12 (an input operand that stays in the 13th
 * register), or in a register of LLVM's choice ($19 with 13 results). */
enum { LUT_NONE, LUT_R12, LUT_FREE };

/* Call a channel loop's text t (chans_asm, chans4_asm) for the columns at
 * p: $4..$9 come in holding the weights, columns, bias, rows, outputs and
 * the iteration count n, the others of the 13 results ($0..$12, and $13
 * when r13) are scratch, and the table comes as lut says. */
static void chans_call(be_fn *f, const dsp_job *j, asm_text *t, LLVMValueRef p, int64_t n, bool r13, int lut)
{
	char cons[160];
	snprintf(cons, sizeof cons, "=&r,=&r,=&r,=&r,=r,=r,=r,=r,=r,=r,=&r,=&r,%s%s,4,5,6,7,8,9%s,~{cc},~{memory}",
	         lut == LUT_R12 ? "=r" : "=&r", r13 ? ",=&r" : "", lut == LUT_R12 ? ",12" : lut == LUT_FREE ? ",r" : "");
	int nout = r13 ? 14 : 13;
	LLVMTypeRef el[14];
	for (int i = 0; i < nout; i++)
		el[i] = (i >= 4 && i <= 8) || (i == 12 && lut == LUT_R12) ? f->ptr : f->i32;
	LLVMValueRef yi = be_add(f, j->ybase, be_mul(f, p, j->ystr_p));
	/* with packed rows the biases are in them: no table */
	LLVMValueRef args[7] = {j->w, j->col[0], j->rqpack ? j->rq : j->bias, j->rq,
	                        LLVMBuildInBoundsGEP2(f->b, f->i8, j->y, &yi, 1, ""),
	                        c32(f, n), j->lut};
	LLVMValueRef out[1];
	asm_call(f, t, cons, el, nout, args, lut != LUT_NONE ? 7 : 6, out, 1);
	be_asm_stack(f, 24);
}

/* $dst = $5 + off (columns' start plus a byte offset): ADDW's 12-bit
 * immediate, else MOVW and an ADD. */
static void col_ptr(asm_text *t, int dst, long long off)
{
	if (off <= 4095)
		put(t, "addw $%d, $5, #%lld\n", dst, off);
	else
		put(t, "movw $%d, #%lld\nadd $%d, $%d, $5\n", dst, off, dst, dst);
}

/* The quad's column pointers: $5, then $10, $11, $13 (col4_ldrd). */
static const int col4_reg[4] = {5, 10, 11, 13};

/* The channel loops' frame (chans_asm, chans4_asm): the state between
 * iterations in 24 bytes of the asm's own stack -- the columns' start
 * ($5), the bias pointer ($6), the rows ($7), the outputs ($8) and the
 * iterations left ($9) -- and at the top of each iteration the bias
 * words (load, from the bias pointer in $6, or with rows from the rows'
 * pointer, which is not moved on here; then copy into the other sums)
 * and the columns' start back in $5.  A loop of several sections
 * (rq_runs) sets up the frame in the first (run 0); each later one
 * continues from the last's pointers with its own count, n. */
static void chans_head(asm_text *t, bool rows, const char *load, const char *copy, int run, int64_t n)
{
	if (run == 0)
		put(t,
		    "strd $5, $6, [sp, #-24]!\n"
		    "strd $7, $8, [sp, #8]\n"
		    "str $9, [sp, #16]\n");
	else
		put(t, "movw $8, #%lld\nstr $8, [sp, #16]\n", (long long)n);
	if (rows)
		put(t, "2:\nldr $6, [sp, #8]\n%s", load);
	else
		put(t, "2:\nldr $6, [sp, #4]\n%sstr $6, [sp, #4]\n", load);
	put(t, "%sldr $5, [sp]\n", copy);
}

/* The end of an iteration: the rows ($6) and outputs ($7) moved on back
 * to the frame, the count down, and the frame released after the last
 * section's last. */
static void chans_tail(asm_text *t, bool last)
{
	put(t,
	    "strd $6, $7, [sp, #8]\n"
	    "ldr $8, [sp, #16]\n"
	    "subs $8, $8, #1\n"
	    "str $8, [sp, #16]\n"
	    "bne 2b\n");
	if (last)
		put(t, "add sp, sp, #24");
}

/* Which requantization sequence a channel loop's text has: the r >= 1
 * one, the r = 0 one, or both behind a branch per channel (rq_chan_text). */
enum { RQ_ROUND, RQ_PLAIN, RQ_BRANCH };

/* Packed rows (be_rq_rows' rows of 2, the bias in them) for layers of
 * sub-byte weights and at most this many output pixels: they cost one or
 * two instructions a channel visit (P / 4 or P / 2 visits a channel) and
 * save 8 or 12 bytes a channel.  Small planes are the deep layers, where
 * most channels are (VWW at 2 bits on the M4: 30.2 KB less, 0.14% more
 * instructions); the large planes keep the wide rows, since binary and
 * ternary layers must stay within int8's instructions (ResNet-8 ternary
 * at 0.9985). */
enum { RQ_PACK_P = 64 };

/* Requantize and store one channel's n outputs (the sums in $acc[k],
 * stored at byte off[k] from the output pointer $7) by the be_rq_rows row
 * at byte ro from $6, as requant_bounded does: M into $8, kc $9, r $10
 * and (rows of 4) s $5, $11 scratch.  A channel with r >= 1 (no left
 * shift; RQ_ROUND): a2 = 2 acc; t = kc + [a2 < 0 ? -1 : 0]; t +=
 * SMMLAR(a2, M); t >>= r; SSAT/USAT; STRB (6 instructions).  The r = 0
 * case (RQ_PLAIN) neither rounds nor shifts: t = SMMLAR(acc << (1 +
 * left), M) + kc in one SMMLAR (4).  RQ_BRANCH has both, a branch on s's
 * bit 8 picking one per channel (3 more instructions).  Where some
 * channel is stored negated (j->sg), a2 = acc * s in both (s = +-2^(1 +
 * left): a negated channel's sum negated back in the same instruction),
 * and the branch tests r.  Packed rows (j->rqpack: M, p) keep p in $10,
 * where its low byte is r - 1 (and its high half the bias, which the
 * loop's head reads): kc = (2 zy + 1) << (r - 1) by a MOVW (or MVN) of
 * the layer's 2 zy + 1 and an LSL, or zy by one MOVW/MVN (r = 0), s by a
 * bit-field extract, and the shift right by r as r - 1 and SSAT's
 * (USAT's) own ASR #1: one more instruction a channel, two with signs. */
static void rq_chan_text(asm_text *t, const dsp_job *j, int kind, int ro, const int *acc, const long long *off, int n)
{
	const char *sat = j->usat ? "usat" : "ssat";
	/* a2: the doubling (and left shift) by LSL, or by MUL with s, which
	 * also carries the channel's sign */
	bool mul = j->sg != NULL;
	const char *a2op = mul ? "mul" : "lsl", *a2r = mul ? "$5" : "#1";
	if (j->rqpack) { /* (M, p): s out of p, kc derived per path below */
		put(t, "ldrd $8, $10, [$6, #%d]\n", ro);
		if (kind != RQ_ROUND || mul)
			put(t, "%s $5, $10, #8, #7\n", mul ? "sbfx" : "ubfx");
		if (kind == RQ_BRANCH)
			put(t, "tst $10, #32768\nbeq 3f\n");
	} else if (kind == RQ_BRANCH)
		put(t, "ldrd $8, $9, [$6, #%d]\nldrd $10, $5, [$6, #%d]\n%s\nbeq 3f\n", ro, ro + 8,
		    mul ? "cmp $10, #0" : "tst $5, #256");
	else if (kind == RQ_PLAIN)
		put(t, "ldrd $8, $9, [$6, #%d]\nldr $5, [$6, #%d]\n", ro, ro + 12);
	else if (mul)
		put(t, "ldrd $8, $9, [$6, #%d]\nldrd $10, $5, [$6, #%d]\n", ro, ro + 8);
	else
		put(t, "ldrd $8, $9, [$6, #%d]\nldr $10, [$6, #%d]\n", ro, ro + 8);
	/* packed: kc = (2 zy + 1) << (r - 1); the shift by r as r - 1 ($10's
	 * low byte) and SSAT's own 1 */
	if (j->rqpack && kind != RQ_PLAIN) {
		put_imm(t, 9, 2 * (int64_t)j->o.k.zy + 1);
		put(t, "lsl $9, $9, $10\n");
	}
	const char *last = j->rqpack ? ", asr #1" : "";
	for (int k = 0; k < n && kind != RQ_PLAIN; k++) {
		put(t, "%s $11, $%d, %s\n", a2op, acc[k], a2r);
		put(t,
		    "add $%d, $9, $11, asr #31\n"
		    "smmlar $%d, $11, $8, $%d\n"
		    "asr $%d, $%d, $10\n"
		    "%s $%d, #8, $%d%s\n"
		    "strb $%d, [$7, #%lld]\n",
		    acc[k], acc[k], acc[k], acc[k], acc[k], sat, acc[k], acc[k], last, acc[k], off[k]);
	}
	if (kind == RQ_ROUND)
		return;
	if (kind == RQ_BRANCH)
		put(t, "b 4f\n3:\n");
	if (j->rqpack) /* kc = zy */
		put_imm(t, 9, j->o.k.zy);
	for (int k = 0; k < n; k++) {
		put(t, "%s $11, $%d, $5\n", a2op, acc[k]);
		put(t,
		    "smmlar $%d, $11, $8, $9\n"
		    "%s $%d, #8, $%d\n"
		    "strb $%d, [$7, #%lld]\n",
		    acc[k], sat, acc[k], acc[k], acc[k], off[k]);
	}
	if (kind == RQ_BRANCH)
		put(t, "4:\n");
}

/* A run of a channel loop: n units (channels, or chans_asm's pairs) in a
 * row whose channels take the requantization kinds in kind (the unit's
 * channel i's in bits 2i, 2i + 1). */
typedef struct rq_run {
	int64_t n;
	int kind;
} rq_run;

enum { RUNS_MAX = 8 };

/* j's channels in units of g as runs of one requantization kind each
 * (into run[], their count returned).  With rows of 4 (some channel has
 * r = 0), a section of the channel loop per run saves each channel
 * rq_chan_text's branch (3 instructions, 2 where r = 0) for 2 a column
 * group (the next section's count, a MOVW: up to 65535 units), and costs a
 * copy of the loop's text: at most RUNS_MAX sections.  Else one run,
 * RQ_BRANCH where rows of 4. */
static int rq_runs(const dsp_job *j, int g, rq_run *run)
{
	int64_t units = j->M / g;
	int n = 0;
	for (int64_t u = 0; u < units && j->rqwide && units <= 65535; u++) {
		int kind = 0;
		for (int i = 0; i < g; i++) {
			int64_t c = u * g + i;
			int32_t sh = j->o.shift[j->o.nrq > 1 ? c : 0];
			kind |= (sh < 0 ? RQ_ROUND : RQ_PLAIN) << 2 * i;
		}
		if (n > 0 && run[n - 1].kind == kind) {
			run[n - 1].n++;
			continue;
		}
		if (n == RUNS_MAX) {
			n = RUNS_MAX + 1;
			break;
		}
		run[n++] = (rq_run){1, kind};
	}
	if (n >= 1 && n <= RUNS_MAX)
		return n;
	int all = 0;
	for (int i = 0; i < g; i++)
		all |= (j->rqwide ? RQ_BRANCH : RQ_ROUND) << 2 * i;
	run[0] = (rq_run){units, all};
	return 1;
}

/* Section r of chans_asm's text (run r's channel pairs). */
static void chans_section(asm_text *t, const dsp_job *j, int np, bool unroll, bool far, int r, int nrun,
                          const rq_run *run)
{
	long long wrow = (long long)j->wrow;
	chans_head(t, j->rqpack, j->rqpack ? "ldrsh $0, [$6, #6]\nldrsh $2, [$6, #14]\n" : "ldrd $0, $2, [$6], #8\n",
	           "mov $1, $0\nmov $3, $2\n", r, run->n);
	/* the end of the pair's rows: in $12, or (packed weights with column
	 * 1 far) in the frame's last word, where the loop reloads it once a
	 * trip */
	bool spill = far && j->lut;
	if (spill)
		put(t, "addw $9, $4, #%lld\nstr $9, [sp, #20]\n", wrow);
	else if (!unroll)
		put(t, "addw $12, $4, #%lld\n", wrow);
	if (far)
		col_ptr(t, 13, 2 * (long long)j->R4);
	/* the table: in $12 when there is no end, else a 14th register */
	tile_text(t, j, np, spill ? -1 : 12, unroll || spill ? 12 : 19, far ? 13 : -1, unroll);
	if (j->wbits != 1) /* past channel m + 1's row (at 1 bit the pair's row is done) */
		put(t, "addw $4, $4, #%lld\n", wrow);
	put(t, "ldrd $6, $7, [sp, #8]\n");
	int rw = j->rqpack ? 8 : j->rqwide ? 16 : 12; /* bytes per row */
	/* channel m + 1's outputs at an immediate offset, or (a plane past
	 * STRB's 4095) from the output pointer moved on to them */
	bool near = j->ystr_m + j->ystr_p <= 4095;
	for (int i = 0; i < 2; i++) {
		if (i == 1 && !near)
			add_imm(t, 7, j->ystr_m);
		/* s into $5 with rows of 4: the column pointer is reloaded per pair */
		int acc[2] = {2 * i, 2 * i + 1};
		long long off[2];
		for (int k = 0; k < np; k++)
			off[k] = (near ? i * j->ystr_m : 0) + k * j->ystr_p;
		rq_chan_text(t, j, run->kind >> 2 * i & 3, rw * i, acc, off, np);
	}
	put(t, "add $6, $6, #%d\n", 2 * rw);
	add_imm(t, 7, near ? 2 * j->ystr_m : j->ystr_m);
	chans_tail(t, r == nrun - 1);
}

/* Every channel pair (M / 2 of them) for the two columns at p, as one
 * Thumb-2 loop around tile_asm's: no register is left for the state
 * between pairs, so the asm keeps it in 24 bytes of stack of its own
 * (columns' start, bias, rows and output pointers, pairs left).  Per
 * pair: the folded biases, the 2x2 tile (tile_text, 8-bit or packed
 * weights), then each channel's outputs requantized by rq_chan_text --
 * 30 instructions for the four, where LLVM's allocator, around an asm
 * that takes 13 registers, spent about 60 on them and on spilling and
 * reloading its own loop state.  Column 1 beyond LDRD's reach (R4 > 514)
 * comes from a pointer of its own, in the 14th register that packed
 * weights' table otherwise takes.  chans4_asm, one channel by four
 * columns, runs most layers; this one binary weights (two channels share
 * a byte), the last two columns or the last one (np 1: a 2x1 tile), and
 * layers with fewer than 4.  Channels of both requantization kinds take
 * a section of the loop per run of one kind (rq_runs). */
static void chans_asm(be_fn *f, const dsp_job *j, LLVMValueRef p, int np)
{
	rq_run run[RUNS_MAX];
	int nrun = rq_runs(j, 2, run);
	asm_text t = {0};
	/* up to 64 reduction elements unrolled whole: no loop, no end */
	bool unroll = j->R4 <= 64;
	/* column 1 beyond LDRD's reach (R4 > 514): a pointer of its own in
	 * the 14th register; with packed weights, whose table would take it,
	 * the loop's end moves to the frame and the table to $12 (one load a
	 * trip of four steps, where an ADDW a step reached column 1: 2-bit
	 * and ternary dense layers of 640 inputs ran 6% over int8) */
	bool far = np == 2 && !unroll && 2 * j->R4 - 8 > 1020;
	for (int r = 0; r < nrun; r++)
		chans_section(&t, j, np, unroll, far, r, nrun, &run[r]);
	chans_call(f, j, &t, p, run[0].n, far, !j->lut ? LUT_NONE : unroll || far ? LUT_R12 : LUT_FREE);
}

/* Whether chans4_asm can run j's channels four columns at a time: 8-,
 * 4- or 2-bit weights (binary ones pair channels in a byte), be_rq_rows'
 * case, the four outputs of a channel within STRB's 12-bit offsets, at
 * least four columns, four columns' stack. */
static bool chans4_ok(const dsp_job *j)
{
	return j->rq && !j->simd && !j->direct && j->wbits != 1 && j->wrow <= 4095 &&
	       j->ystr_m <= 65535 && 3 * j->ystr_p <= 4095 && j->P >= 4 && 4 * (j->R4 + 15) * 2 <= 16384;
}

/* Column k's words $8, $9 in chans4_asm's step: a pointer per group of
 * columns (1, 2 or 4 of them: $5, then $10, $11, $13), the group's first
 * column post-incremented, the others at their offset from it. */
static void col4_ldrd(asm_text *t, const dsp_job *j, int k, int nptr)
{
	int per = 4 / nptr, g = k / per, at = k % per;
	if (at == 0)
		put(t, "ldrd $8, $9, [$%d], #8\n", col4_reg[g]);
	else
		put(t, "ldrd $8, $9, [$%d, #%lld]\n", col4_reg[g], (long long)(2 * j->R4 * at - 8));
}

/* Section r of chans4_asm's text (run r's channels). */
static void chans4_section(asm_text *t, const dsp_job *j, bool unroll, int nptr, bool spill, int r, int nrun,
                           const rq_run *run)
{
	long long wrow = (long long)j->wrow, cb = 2 * (long long)j->R4;
	chans_head(t, j->rqpack, j->rqpack ? "ldrsh $0, [$6, #6]\n" : "ldr $0, [$6], #4\n",
	           "mov $1, $0\nmov $2, $0\nmov $3, $0\n", r, run->n);
	if (spill)
		put(t, "addw $9, $4, #%lld\nstr $9, [sp, #20]\n", wrow);
	else if (!unroll)
		put(t, "addw $12, $4, #%lld\n", wrow);
	/* the other column pointers: $10 = column 2 (two pointers), or
	 * $10, $11, $13 = columns 1, 2, 3 */
	for (int g = 1; g < nptr; g++)
		col_ptr(t, col4_reg[g], cb * (4 / nptr) * g);
	if (!unroll)
		put(t, "1:\n");
	/* steps a trip: up to 16 (the loop test once per 256 MACs) */
	int steps = unroll ? (int)(j->R4 / 4)
	            : j->R4 % 64 == 0 ? 16
	            : j->R4 % 32 == 0 ? 8
	            : j->R4 % 16 == 0 ? 4
	            : j->R4 % 8 == 0  ? 2
	                              : 1;
	int lut = unroll || spill ? 12 : 19; /* packed weights' table */
	for (int st = 0; st < steps; st++) {
		/* the weight pairs of 4 elements into $6, $7 */
		if (j->wbits == 8)
			put(t,
			    "ldr $8, [$4], #4\n"
			    "sxtb16 $6, $8\n"
			    "sxtb16 $7, $8, ror #8\n");
		else if (j->wbits == 4)
			put(t,
			    "ldrb $8, [$4], #2\n"
			    "ldrb $9, [$4, #-1]\n"
			    "ldr $6, [$%d, $8, lsl #2]\n"
			    "ldr $7, [$%d, $9, lsl #2]\n",
			    lut, lut);
		else
			put(t,
			    "ldrb $8, [$4], #1\n"
			    "add $8, $%d, $8, lsl #3\n"
			    "ldrd $6, $7, [$8]\n",
			    lut);
		for (int k = 0; k < 4; k++) {
			col4_ldrd(t, j, k, nptr);
			put(t, "smlad $%d, $6, $8, $%d\nsmlad $%d, $7, $9, $%d\n", k, k, k, k);
		}
	}
	if (spill)
		put(t, "ldr $9, [sp, #20]\ncmp $4, $9\nbne 1b\n");
	else if (!unroll)
		put(t, "cmp $4, $12\nbne 1b\n");
	put(t, "ldrd $6, $7, [sp, #8]\n");
	/* s into $5 with rows of 4: the column pointer is reloaded per channel */
	int acc[4] = {0, 1, 2, 3};
	long long off[4];
	for (int k = 0; k < 4; k++)
		off[k] = k * j->ystr_p;
	rq_chan_text(t, j, run->kind, 0, acc, off, 4);
	put(t, "add $6, $6, #%d\n", j->rqpack ? 8 : j->rqwide ? 16 : 12);
	add_imm(t, 7, j->ystr_m);
	chans_tail(t, r == nrun - 1);
}

/* Every channel for the four columns at p, one channel at a time, as one
 * Thumb-2 loop: per 4 reduction elements the channel's two weight pairs
 * (at 8 bits one word unpacked by SXTB16 plain and rotated; packed
 * weights from the lookup table, as tile_text does: at 4 bits two bytes
 * and two indexed LDRs, at 2 bits one byte, an ADD and an LDRD), and per
 * column one LDRD and two SMLADs: 15 instructions for 16 MACs at 8 and 2
 * bits, 16 at 4 (chans_asm's 2x2 tile, whose two channels take twice the
 * unpacking, needs 16, 16 and 18); then the four outputs requantized as
 * chans_asm does.  Packed weights' table is $12 when the reduction is
 * unrolled whole or its end kept on the stack, else a 14th register.  The
 * columns are 2 * R4 bytes apart:
 * one pointer reaches all four by LDRD's offsets while R4 <= 171, two
 * (columns 0-1 and 2-3) while R4 <= 514, else one each, the last in a
 * 14th register.  The state between channels lives in 24 bytes of stack,
 * as in chans_asm, and so do the sections of rq_runs. */
static void chans4_asm(be_fn *f, const dsp_job *j, LLVMValueRef p)
{
	rq_run run[RUNS_MAX];
	int nrun = rq_runs(j, 1, run);
	asm_text t = {0};
	long long cb = 2 * (long long)j->R4;
	int nptr = 6 * cb / 2 - 8 <= 1020 ? 1 : cb - 8 <= 1020 ? 2 : 4;
	/* packed weights with four column pointers: the table takes the end
	 * register ($12), and the loop compares against an end kept in the
	 * asm's stack (one load a trip), or (up to 3x3x64, 144 steps of text)
	 * is unrolled whole */
	bool unroll = j->R4 <= 64 || (j->lut && nptr == 4 && j->R4 <= 576);
	bool spill = j->lut && !unroll && nptr == 4;
	for (int r = 0; r < nrun; r++)
		chans4_section(&t, j, unroll, nptr, spill, r, nrun, &run[r]);
	chans_call(f, j, &t, p, run[0].n, nptr == 4, !j->lut ? LUT_NONE : unroll || spill ? LUT_R12 : LUT_FREE);
}

/* Requantize and store the tile's outputs. */
static void store_tile(be_fn *f, const dsp_job *j, LLVMValueRef m, int nm, LLVMValueRef p, int np,
                       LLVMValueRef acc[TILE_MAX][TILE_MAX])
{
	LLVMTypeRef oty = be_dt_type(f, j->o.odt);
	for (int i = 0; i < nm; i++) {
		LLVMValueRef mi = be_add(f, m, be_ci(f, i));
		for (int k = 0; k < np; k++) {
			LLVMValueRef pk = be_add(f, p, be_ci(f, k));
			LLVMValueRef idx = be_add(f, j->ybase, be_add(f, be_mul(f, mi, j->ystr_m), be_mul(f, pk, j->ystr_p)));
			be_st_t(f, oty, j->y, idx, be_int_out(f, &j->o, acc[i][k], mi));
		}
	}
}

/* Every channel for np columns from column p (filled already), j->tm
 * channels at a time. */
static void channels(be_fn *f, const dsp_job *j, LLVMValueRef p, int np)
{
	LLVMValueRef acc[TILE_MAX][TILE_MAX];
	if (np == 4 && !j->simd) { /* on the DSP run_job makes four columns only for chans4_asm */
		chans4_asm(f, j, p);
		return;
	}
	int64_t full = j->M / j->tm;
	int rest = (int)(j->M % j->tm);
	if (np <= 2 && j->tm == 2 && chans_ok(j)) {
		chans_asm(f, j, p, np);
		full = 0;
	}
	if (full > 0) {
		be_loop l;
		LLVMValueRef mm = be_loop_begin(f, &l, full);
		LLVMValueRef m = be_mul(f, mm, j->tm);
		tile(f, j, m, j->tm, np, acc);
		(j->simd ? store_simd : store_tile)(f, j, m, j->tm, p, np, acc);
		be_loop_end(f, &l);
	}
	if (rest) {
		LLVMValueRef m = be_ci(f, j->M - rest);
		tile(f, j, m, rest, np, acc);
		(j->simd ? store_simd : store_tile)(f, j, m, rest, p, np, acc);
	}
}

static void fill_conv(be_fn *f, const dsp_job *j, LLVMValueRef p, LLVMValueRef col);

/* fill_pair's case: a DSP conv with 3-wide kernel rows at column stride
 * and dilation 1, whose input rows hold at least 4 bytes. */
static bool fill_pair_ok(const dsp_job *j)
{
	return !j->simd && j->fill == fill_conv && j->KW == 3 && j->s[1] == 1 && j->d[1] == 1 && j->W >= 4;
}

/* The columns of outputs p and p + 1 (filled as fill_conv would): when
 * both lie in one output row and every tap of both in the input, per
 * input channel and kernel row one word load gives the four bytes x0..x3
 * that both columns' three taps come from; SXTB16 (UXTB16 for u8) plain
 * and rotated, then (x0, x1) and (x1, x2) as PKHBT words, x2 and x3 as
 * halfwords: 11 instructions for 6 elements.  Else fill_conv, column by
 * column. */
static void fill_pair(be_fn *f, const dsp_job *j, LLVMValueRef p, LLVMValueRef c0)
{
	LLVMValueRef cols[2] = {c0, gep8(f, c0, 2 * j->R4)};
	LLVMBuilderRef b = f->b;
	LLVMTypeRef i16 = LLVMInt16TypeInContext(f->ctx);
	bool u8 = j->xval->dt == IR_DT_U8;
	LLVMValueRef oh = LLVMBuildUDiv(b, p, be_ci(f, j->OW), "");
	LLVMValueRef ow = LLVMBuildURem(b, p, be_ci(f, j->OW), "");
	LLVMValueRef ih0 = LLVMBuildSub(b, be_mul(f, oh, j->s[0]), be_ci(f, j->pb[0]), "");
	LLVMValueRef iw0 = LLVMBuildSub(b, ow, be_ci(f, j->pb[1]), "");
	/* signed compares on the index type: ih0, iw0 may be negative */
	LLVMValueRef ok = LLVMBuildICmp(b, LLVMIntSLT, be_add(f, ow, be_ci(f, 1)), be_ci(f, j->OW), "");
	ok = LLVMBuildAnd(b, ok, LLVMBuildICmp(b, LLVMIntSGE, ih0, be_ci(f, 0), ""), "");
	ok = LLVMBuildAnd(b, ok, LLVMBuildICmp(b, LLVMIntSLE, be_add(f, ih0, be_ci(f, (j->KH - 1) * j->d[0])),
	                                       be_ci(f, j->H - 1), ""), "");
	ok = LLVMBuildAnd(b, ok, LLVMBuildICmp(b, LLVMIntSGE, iw0, be_ci(f, 0), ""), "");
	ok = LLVMBuildAnd(b, ok, LLVMBuildICmp(b, LLVMIntSLE, iw0, be_ci(f, j->W - 4), ""), "");
	be_if in;
	be_if_begin(f, &in, ok);
	{
		int64_t KK = j->KH * 3, HW = j->H * j->W;
		LLVMValueRef base = be_add(f, j->xbase, be_add(f, be_mul(f, ih0, j->W), iw0));
		be_loop l;
		LLVMValueRef c = be_loop_begin(f, &l, j->C);
		LLVMValueRef cb = be_add(f, base, be_mul(f, c, HW)), ci = be_mul(f, c, KK);
		for (int64_t kh = 0; kh < j->KH; kh++) {
			LLVMValueRef at = be_add(f, cb, be_ci(f, kh * j->d[0] * j->W));
			LLVMValueRef wp = LLVMBuildGEP2(b, f->i8, j->x, &at, 1, "");
			LLVMValueRef w = LLVMBuildLoad2(b, f->i32, wp, "");
			LLVMSetAlignment(w, 1);
			LLVMValueRef lo = xtb16(f, w, u8), hi = xtb16_ror8(f, w, u8); /* (x0, x2), (x1, x3) */
			LLVMValueRef m16 = c32(f, 0xffff), t16 = c32(f, (int64_t)0xffff0000u);
			LLVMValueRef w01 = LLVMBuildOr(b, LLVMBuildAnd(b, lo, m16, ""), LLVMBuildShl(b, hi, c32(f, 16), ""), "");
			LLVMValueRef w12 = LLVMBuildOr(b, LLVMBuildAnd(b, hi, m16, ""), LLVMBuildAnd(b, lo, t16, ""), "");
			LLVMValueRef x2 = LLVMBuildTrunc(b, LLVMBuildLShr(b, lo, c32(f, 16), ""), i16, "");
			LLVMValueRef x3 = LLVMBuildTrunc(b, LLVMBuildLShr(b, hi, c32(f, 16), ""), i16, "");
			LLVMValueRef e = be_add(f, ci, be_ci(f, kh * 3));
			LLVMValueRef vals[2][2] = {{w01, x2}, {w12, x3}};
			for (int k = 0; k < 2; k++) {
				LLVMValueRef d = LLVMBuildGEP2(b, i16, cols[k], &e, 1, "");
				LLVMSetAlignment(LLVMBuildStore(b, vals[k][0], d), 2);
				LLVMValueRef e2 = be_add(f, e, be_ci(f, 2));
				be_st_t(f, i16, cols[k], e2, vals[k][1]);
			}
		}
		be_loop_end(f, &l);
	}
	be_if_end(f, &in);
	be_if out;
	be_if_begin(f, &out, LLVMBuildNot(b, ok, ""));
	for (int k = 0; k < 2; k++)
		fill_conv(f, j, be_add(f, p, be_ci(f, k)), cols[k]);
	be_if_end(f, &out);
}

/* The whole job for the current ybase/xbase: j->tp columns at a time,
 * the last P % tp in twos and ones (only chans4_asm takes four). */
static void run_job(be_fn *f, dsp_job *j)
{
	if (j->direct) { /* row p of x is column p: nothing to fill */
		be_loop l;
		LLVMValueRef p = be_loop_begin(f, &l, j->P);
		LLVMValueRef at = be_add(f, j->xbase, be_mul(f, p, j->R));
		j->col[0] = LLVMBuildInBoundsGEP2(f->b, f->i8, j->x, &at, 1, "");
		channels(f, j, p, 1);
		be_loop_end(f, &l);
		be_loop_no_unroll(f, &l);
		return;
	}
	int64_t full = j->P / j->tp;
	int rest = (int)(j->P % j->tp);
	if (full > 0) {
		be_loop l;
		LLVMValueRef pp = be_loop_begin(f, &l, full);
		LLVMValueRef p = be_mul(f, pp, j->tp);
		if (j->tp == 1) {
			j->fill(f, j, p, j->col[0]);
		} else if (j->tp == 2) {
			if (fill_pair_ok(j))
				fill_pair(f, j, p, j->col[0]);
			else
				for (int k = 0; k < 2; k++)
					j->fill(f, j, be_add(f, p, be_ci(f, k)), j->col[k]);
		} else {
			/* four columns (the DSP's chans4_asm, NEON's tiles): a loop
			 * over pairs (or single columns), not four copies of the fill */
			bool pair = fill_pair_ok(j);
			int per = pair ? 2 : 1;
			be_loop lk;
			LLVMValueRef k = be_mul(f, be_loop_begin(f, &lk, j->tp / per), per);
			LLVMValueRef off = be_mul(f, k, (j->simd ? 1 : 2) * j->R4); /* column k, i8 or i16 */
			LLVMValueRef c = LLVMBuildInBoundsGEP2(f->b, f->i8, j->col[0], &off, 1, "");
			if (pair)
				fill_pair(f, j, be_add(f, p, k), c);
			else
				j->fill(f, j, be_add(f, p, k), c);
			be_loop_end(f, &lk);
			be_loop_no_unroll(f, &lk);
		}
		channels(f, j, p, j->tp);
		be_loop_end(f, &l);
		/* LLVM counts an inline asm as one instruction: unrolled, this
		 * loop would copy the channels' asm (text, not speed) */
		be_loop_no_unroll(f, &l);
	}
	for (int64_t at = j->P - rest; at < j->P; at += 2) {
		int np = j->P - at >= 2 ? 2 : 1;
		LLVMValueRef p = be_ci(f, at);
		for (int k = 0; k < np; k++)
			j->fill(f, j, be_add(f, p, be_ci(f, k)), j->col[k]);
		channels(f, j, p, np);
	}
}

/* A column element's type: i8 for NEON, i16 for the DSP. */
static LLVMTypeRef col_type(be_fn *f, const dsp_job *j)
{
	return j->simd ? f->i8 : LLVMInt16TypeInContext(f->ctx);
}

/* The column buffers run_job fills: tp, or P when fewer (a matmul of
 * one row, as a dense layer at batch 1, fills one). */
static int64_t col_count(const dsp_job *j)
{
	return j->P < j->tp ? j->P : j->tp;
}

static int64_t col_bytes(const dsp_job *j)
{
	return col_count(j) * j->R4 * (j->simd ? 1 : 2);
}

/* col_count(j) column buffers of R4 elements, adjacent in one stack array
 * (tile() reaches column k at a constant offset), the tails (R..R4)
 * zeroed once. */
static void make_cols(be_fn *f, dsp_job *j)
{
	if (j->direct)
		return;
	LLVMTypeRef et = col_type(f, j);
	int64_t esz = j->simd ? 1 : 2;
	LLVMValueRef buf = be_scratch(f, LLVMArrayType2(f->i8, (uint64_t)col_bytes(j)), j->simd ? 16 : 8, "dcol");
	be_lifetime(f, true, buf, col_bytes(j));
	for (int k = 0; k < col_count(j); k++) {
		j->col[k] = gep8(f, buf, k * j->R4 * esz);
		for (int64_t r = j->R; r < j->R4; r++)
			be_st_t(f, et, j->col[k], be_ci(f, r), LLVMConstInt(et, 0, 0));
	}
}

static void end_cols(be_fn *f, dsp_job *j)
{
	if (j->direct)
		return;
	be_lifetime(f, false, j->col[0], col_bytes(j));
}

/* x (i8 or u8) as a column element: widened to i16 for the DSP; for the
 * SIMD tiles signed bytes (i8 as is, u8 less 128: its top bit flipped),
 * or unsigned ones for VPDPBUSD (u8 as is, i8 plus 128); j->zx matches. */
static LLVMValueRef col_val(be_fn *f, const dsp_job *j, LLVMValueRef v)
{
	bool u8 = j->xval->dt == IR_DT_U8;
	if (j->simd)
		return u8 != (j->vnni != 0) ? LLVMBuildXor(f->b, v, LLVMConstInt(f->i8, 0x80, 0), "") : v;
	LLVMTypeRef i16 = LLVMInt16TypeInContext(f->ctx);
	return u8 ? LLVMBuildZExt(f->b, v, i16, "") : LLVMBuildSExt(f->b, v, i16, "");
}

/* col[c * KH * KW + kh * KW + kw] = x[c, oh*s0 - pb0 + kh*d0, ow*s1 - pb1 +
 * kw*d1], or zx for a tap outside the input; p = oh * OW + ow. */
static void fill_conv(be_fn *f, const dsp_job *j, LLVMValueRef p, LLVMValueRef col)
{
	LLVMBuilderRef b = f->b;
	LLVMTypeRef et = col_type(f, j), xty = be_dt_type(f, j->xval->dt);
	int64_t KK = j->KH * j->KW, HW = j->H * j->W;
	LLVMValueRef oh = LLVMBuildUDiv(b, p, be_ci(f, j->OW), "");
	LLVMValueRef ow = LLVMBuildURem(b, p, be_ci(f, j->OW), "");
	LLVMValueRef ih0 = LLVMBuildSub(b, be_mul(f, oh, j->s[0]), be_ci(f, j->pb[0]), "");
	LLVMValueRef iw0 = LLVMBuildSub(b, be_mul(f, ow, j->s[1]), be_ci(f, j->pb[1]), "");
	LLVMValueRef zx = LLVMConstInt(et, (unsigned long long)j->zx, 1);
	for (int64_t kh = 0; kh < j->KH; kh++)
		for (int64_t kw = 0; kw < j->KW; kw++) {
			LLVMValueRef ih = LLVMBuildAdd(b, ih0, be_ci(f, kh * j->d[0]), "");
			LLVMValueRef iw = LLVMBuildAdd(b, iw0, be_ci(f, kw * j->d[1]), "");
			LLVMValueRef src = LLVMBuildAdd(b, j->xbase,
			                                LLVMBuildAdd(b, LLVMBuildMul(b, ih, be_ci(f, j->W), ""), iw, ""), "");
			int64_t r0 = kh * j->KW + kw;
			be_if in;
			if (j->pad) {
				LLVMValueRef ok = LLVMBuildAnd(b, LLVMBuildICmp(b, LLVMIntULT, ih, be_ci(f, j->H), ""),
				                               LLVMBuildICmp(b, LLVMIntULT, iw, be_ci(f, j->W), ""), "");
				/* outside: every channel reads zx */
				be_if out;
				be_if_begin(f, &out, LLVMBuildNot(b, ok, ""));
				be_loop l;
				LLVMValueRef c = be_loop_begin(f, &l, j->C);
				be_st_t(f, et, col, be_add(f, be_mul(f, c, KK), be_ci(f, r0)), zx);
				be_loop_end(f, &l);
				be_if_end(f, &out);
				be_if_begin(f, &in, ok);
			}
			be_loop l;
			LLVMValueRef c = be_loop_begin(f, &l, j->C);
			LLVMValueRef v = be_ld_t(f, xty, j->x, LLVMBuildAdd(b, src, be_mul(f, c, HW), ""));
			be_st_t(f, et, col, be_add(f, be_mul(f, c, KK), be_ci(f, r0)), col_val(f, j, v));
			be_loop_end(f, &l);
			if (j->pad)
				be_if_end(f, &in);
		}
}

/* col[k] = a[p, k]: row p of the matmul's left operand. */
static void fill_rows(be_fn *f, const dsp_job *j, LLVMValueRef p, LLVMValueRef col)
{
	LLVMTypeRef et = col_type(f, j), xty = be_dt_type(f, j->xval->dt);
	LLVMValueRef base = be_mul(f, p, j->R);
	be_loop l;
	LLVMValueRef k = be_loop_begin(f, &l, j->R);
	LLVMValueRef v = be_ld_t(f, xty, j->x, be_add(f, base, k));
	be_st_t(f, et, col, k, col_val(f, j, v));
	be_loop_end(f, &l);
}

static bool dsp_dt(ir_dtype dt)
{
	return dt == IR_DT_I8 || dt == IR_DT_U8;
}

/* The int32 bias operand (NULL without one), as a copy of its data. */
static int32_t *bias_data(const ir_node *n, int k, int64_t M)
{
	if (n->nin <= k || !n->in[k] || ir_shape_numel(&n->in[k]->shape) == 0)
		return NULL;
	const ir_value *bv = n->in[k];
	if (bv->dt != IR_DT_I32 || !bv->data || ir_shape_numel(&bv->shape) != M)
		return NULL;
	int32_t *out = malloc(sizeof *out * (size_t)M);
	if (out)
		memcpy(out, bv->data, sizeof *out * (size_t)M);
	return out;
}

bool be_int_has_bias(const ir_node *n, int k)
{
	return n->nin > k && n->in[k] && ir_shape_numel(&n->in[k]->shape) > 0;
}

int be_int_conv_geom(be_fn *f, const ir_node *n, int64_t *in, int64_t *k, int64_t *s, int64_t *dil,
                     int64_t *pb, int64_t *out)
{
	const ir_shape *xs = &n->in[0]->shape, *ws = &n->in[1]->shape, *ys = &n->out[0]->shape;
	int nsp = xs->rank - 2, off = 2 - nsp;
	int64_t pe[2] = {0, 0};
	for (int i = 0; i < 2; i++)
		in[i] = k[i] = s[i] = dil[i] = out[i] = 1, pb[i] = 0;
	for (int i = 0; i < nsp; i++) {
		in[off + i] = xs->d[2 + i];
		k[off + i] = ws->d[2 + i];
		out[off + i] = ys->d[2 + i];
	}
	be_ints_attr(n, "strides", nsp, s + off);
	be_ints_attr(n, "dilations", nsp, dil + off);
	return k_resolve_pads(f->g, n, nsp, in + off, k + off, s + off, dil + off, pb + off, pe + off, f->d) ? -1 : 0;
}

/* What a depthwise output needs: the bordered plane, the channel's
 * weights (wreg[] when they fit in registers, else loads from wt at
 * wbase), its folded bias, and where outputs go. */
typedef struct dw_geom {
	LLVMValueRef plane, wt, wbase;
	LLVMValueRef *wreg;
	int nw;
	int64_t npair, nsingle, pw;
	LLVMValueRef bias, c, nc, y;
	LLVMTypeRef oty;
	const be_iop *o;
	int64_t k[2], s[2], dil[2], out[2];
	int kind;                 /* dw_rq's kind, or -1: be_int_out */
	LLVMValueRef rq[4];       /* the channel's be_rq_rows row (M, kc, r, s) */
	LLVMValueRef rqp;         /* or (packed rows) M in rq[0] and the word p here,
	                           * decoded for each kind by dw_rows_split */
	bool usat;
} dw_geom;

/* be_rq_row for the channel's kind (g->kind) as the output's type. */
static LLVMValueRef dw_rq(be_fn *f, const dw_geom *g, LLVMValueRef acc)
{
	return LLVMBuildTrunc(f->b, be_rq_row(f, g->rq, g->kind == 1, g->usat, acc), g->oty, "");
}

/* The sum of output (oh, ow)'s taps onto acc: the taps of each kernel
 * row as SMLAD pairs and single multiplies. */
static LLVMValueRef dw_acc(be_fn *f, const dw_geom *g, LLVMValueRef oh, LLVMValueRef ow, LLVMValueRef acc)
{
	LLVMBuilderRef b = f->b;
	LLVMTypeRef i16 = LLVMInt16TypeInContext(f->ctx);
	LLVMValueRef org = be_add(f, be_mul(f, oh, g->s[0] * g->pw), be_mul(f, ow, g->s[1]));
	for (int64_t kh = 0; kh < g->k[0]; kh++) {
		LLVMValueRef row = be_add(f, org, be_ci(f, kh * g->dil[0] * g->pw));
		for (int64_t p = 0; p < g->npair; p++) {
			LLVMValueRef ix = be_add(f, row, be_ci(f, 2 * p));
			LLVMValueRef pa = LLVMBuildInBoundsGEP2(b, i16, g->plane, &ix, 1, "");
			LLVMValueRef xw = LLVMBuildLoad2(b, f->i32, pa, "");
			LLVMSetAlignment(xw, 2);
			int64_t wi = kh * g->npair + p;
			LLVMValueRef wv2 = g->nw ? g->wreg[wi] : be_ld_t(f, f->i32, g->wt, be_add(f, g->wbase, be_ci(f, wi)));
			acc = be_smlad(f, wv2, xw, acc);
		}
		for (int64_t q = 0; q < g->nsingle; q++) {
			int64_t kw = 2 * g->npair + q;
			LLVMValueRef xe = LLVMBuildSExt(b, be_ld_t(f, i16, g->plane, be_add(f, row, be_ci(f, kw * g->dil[1]))),
			                                f->i32, "");
			int64_t wi = g->k[0] * g->npair + kh * g->nsingle + q;
			LLVMValueRef wv1 = g->nw ? g->wreg[wi] : be_ld_t(f, f->i32, g->wt, be_add(f, g->wbase, be_ci(f, wi)));
			acc = LLVMBuildAdd(b, acc, LLVMBuildMul(b, xe, wv1, ""), "");
		}
	}
	return acc;
}

/* One output (oh, ow) of the channel, whose taps start at the plane's
 * output row t (oh less the band's first row): bias and taps, then the
 * output step. */
static void dw_one(be_fn *f, const dw_geom *g, LLVMValueRef t, LLVMValueRef oh, LLVMValueRef ow)
{
	LLVMValueRef acc = dw_acc(f, g, t, ow, g->bias);
	LLVMValueRef yi = be_add(f, be_mul(f, g->nc, g->out[0] * g->out[1]), be_add(f, be_mul(f, oh, g->out[1]), ow));
	be_st_t(f, g->oty, g->y, yi, g->kind >= 0 ? dw_rq(f, g, acc) : be_int_out(f, g->o, acc, g->c));
}

/* The taps of a row of 3x3 depthwise outputs, two at a time, into the
 * i32 row buffer [q, qend) (an even count), from the plane at p (the
 * first output's top-left tap), in Thumb-2.  Per kernel row, three word
 * loads of i16 pairs, an SMLAD (SMUAD on the first row) each for the
 * first two taps and an SMLA<x><y> each for the third (whose weights w02,
 * w12, w22 sit in the halves of w2a and w2b): 21 instructions for 18
 * MACs, then STRD and the loop's three.  Column stride 1 reads the middle
 * pair (x1, x2) unaligned; stride 2 reads three aligned pairs.  The
 * thirteen registers leave the loop nothing to spill; bias and
 * requantization come after, row by row. */
static void dw_row_asm(be_fn *f, const dw_geom *g, LLVMValueRef p, LLVMValueRef q, LLVMValueRef qend,
                       LLVMValueRef *wreg, LLVMValueRef w2a, LLVMValueRef w2b)
{
	static const char *third0[3] = {"smlabb", "smlatb", "smlabb"}; /* w2 x lo */
	static const char *third1[3] = {"smlabt", "smlatt", "smlabt"}; /* w2 x hi (stride 1) */
	bool s1 = g->s[1] == 1;
	asm_text t = {0};
	put(&t, "1:\n");
	for (int kh = 0; kh < 3; kh++) {
		long long rb = (long long)(kh * g->pw * 2);
		const char *w2 = kh < 2 ? "$13" : "$14";
		/* $4 $5 $6: (x0, x1), then (x2, x3) and (x1, x2) at stride 1,
		 * (x2, x3) and (x4, x5) at stride 2; $2, $3 the two sums */
		put(&t, "ldr $4, [$0, #%lld]\nldr $5, [$0, #%lld]\nldr $6, [$0, #%lld]\n", rb, rb + 4,
		    s1 ? rb + 2 : rb + 8);
		if (kh == 0)
			put(&t, "smuad $2, $%d, $4\n", 10 + kh);
		else
			put(&t, "smlad $2, $%d, $4, $2\n", 10 + kh);
		put(&t, "%s $2, %s, $5, $2\n", third0[kh], w2);
		if (kh == 0)
			put(&t, "smuad $3, $%d, %s\n", 10 + kh, s1 ? "$6" : "$5");
		else
			put(&t, "smlad $3, $%d, %s, $3\n", 10 + kh, s1 ? "$6" : "$5");
		put(&t, "%s $3, %s, %s, $3\n", s1 ? third1[kh] : third0[kh], w2, s1 ? "$5" : "$6");
	}
	put(&t, "strd $2, $3, [$1], #8\nadd $0, $0, #%d\ncmp $1, $9\nbne 1b", s1 ? 4 : 8);
	static const char cons[] = "=r,=r,=&r,=&r,=&r,=&r,=&r,0,1,r,r,r,r,r,r,~{cc},~{memory}";
	LLVMTypeRef el[7] = {f->ptr, f->ptr, f->i32, f->i32, f->i32, f->i32, f->i32};
	LLVMValueRef args[8] = {p, q, qend, wreg[0], wreg[1], wreg[2], w2a, w2b};
	LLVMValueRef out[2];
	asm_call(f, &t, cons, el, 7, args, 8, out, 2);
}

/* ------------------------------------------------------------ depthwise */

/* The padded plane's extents: rows and columns [-pb, extent) of the
 * input, where extent covers every tap and the input; an even width
 * keeps pair loads 2-aligned. */
static void dw_plane_dims(const int64_t *in, const int64_t *k, const int64_t *s, const int64_t *dil,
                          const int64_t *pb, const int64_t *out, int64_t *ph, int64_t *pw)
{
	*ph = (out[0] - 1) * s[0] + (k[0] - 1) * dil[0] + 1;
	*pw = (out[1] - 1) * s[1] + (k[1] - 1) * dil[1] + 1;
	if (*ph < pb[0] + in[0])
		*ph = pb[0] + in[0];
	if (*pw < pb[1] + in[1])
		*pw = pb[1] + in[1];
	*pw += *pw & 1;
}

/* The border of a ph x pw plane of i16 holding an input of in[0] x in[1]
 * at (pb0, pb1): zx on the rows above and below the input and the
 * columns left and right of it.  The copies below write only the inside,
 * so a plane reused channel after channel takes its border once. */
static void dw_plane_border(be_fn *f, const int64_t *in, const int64_t *pb, int64_t ph, int64_t pw,
                            LLVMValueRef plane, int32_t zx)
{
	LLVMTypeRef i16 = LLVMInt16TypeInContext(f->ctx);
	LLVMValueRef zx16 = LLVMConstInt(i16, (unsigned long long)zx, 1);
	int64_t rows[2][2] = {{0, pb[0]}, {pb[0] + in[0], ph}};
	for (int e = 0; e < 2; e++)
		if (rows[e][1] > rows[e][0]) {
			be_loop l;
			LLVMValueRef i = be_loop_begin(f, &l, (rows[e][1] - rows[e][0]) * pw);
			be_st_t(f, i16, plane, be_add(f, i, be_ci(f, rows[e][0] * pw)), zx16);
			be_loop_end(f, &l);
		}
	int64_t cols[2][2] = {{0, pb[1]}, {pb[1] + in[1], pw}};
	for (int e = 0; e < 2; e++)
		if (cols[e][1] > cols[e][0]) {
			be_nest bn;
			int64_t bd[2] = {in[0], cols[e][1] - cols[e][0]};
			LLVMValueRef bi[2];
			be_nest_begin(f, &bn, 2, bd, bi);
			LLVMValueRef at = be_add(f, be_mul(f, be_add(f, bi[0], be_ci(f, pb[0])), pw),
			                         be_add(f, bi[1], be_ci(f, cols[e][0])));
			be_st_t(f, i16, plane, at, zx16);
			be_nest_end(f, &bn);
		}
}

/* n elements of x from src0 widened to i16 at plane element dst0. */
static void dw_copy_row(be_fn *f, const ir_value *xv, LLVMValueRef x, LLVMValueRef src0, int64_t n,
                        LLVMValueRef dst0, LLVMValueRef plane)
{
	LLVMBuilderRef b = f->b;
	LLVMTypeRef i16 = LLVMInt16TypeInContext(f->ctx), xty = be_dt_type(f, xv->dt);
	bool u8 = xv->dt == IR_DT_U8;
	int64_t nq = f->dsp ? n / 4 : 0;
	if (nq > 0) {
		be_loop lq;
		LLVMValueRef e = be_mul(f, be_loop_begin(f, &lq, nq), 4);
		LLVMValueRef at = be_add(f, src0, e);
		LLVMValueRef w = LLVMBuildLoad2(b, f->i32, LLVMBuildGEP2(b, f->i8, x, &at, 1, ""), "");
		LLVMSetAlignment(w, 1);
		LLVMValueRef p01, p23;
		xtb16_pairs(f, w, u8, &p01, &p23);
		LLVMValueRef d = be_add(f, dst0, e);
		LLVMSetAlignment(LLVMBuildStore(b, p01, LLVMBuildGEP2(b, i16, plane, &d, 1, "")), 2);
		d = be_add(f, d, be_ci(f, 2));
		LLVMSetAlignment(LLVMBuildStore(b, p23, LLVMBuildGEP2(b, i16, plane, &d, 1, "")), 2);
		be_loop_end(f, &lq);
	}
	if (nq * 4 < n) {
		be_loop lt;
		LLVMValueRef t = be_add(f, be_loop_begin(f, &lt, n - nq * 4), be_ci(f, nq * 4));
		LLVMValueRef v = be_ld_t(f, xty, x, be_add(f, src0, t));
		v = u8 ? LLVMBuildZExt(b, v, i16, "") : LLVMBuildSExt(b, v, i16, "");
		be_st_t(f, i16, plane, be_add(f, dst0, t), v);
		be_loop_end(f, &lt);
	}
}

/* The inside of the plane (dw_plane_border): channel nc (batch * C + c)
 * of x widened to i16 at (pb0, pb1).  On the DSP, row by row, four bytes
 * a word load, widened in pairs by SXTB16 (UXTB16 for u8) plain and
 * rotated, (x0, x2) and (x1, x3), put back in order by PKHBT and PKHTB:
 * 7 instructions for 4 elements; the row's last in[1] % 4 one at a
 * time. */
static void dw_plane_copy(be_fn *f, const ir_value *xv, LLVMValueRef x, LLVMValueRef nc, const int64_t *in,
                          const int64_t *pb, int64_t pw, LLVMValueRef plane)
{
	be_loop lr;
	LLVMValueRef r = be_loop_begin(f, &lr, in[0]);
	LLVMValueRef src0 = be_add(f, be_mul(f, nc, in[0] * in[1]), be_mul(f, r, in[1]));
	LLVMValueRef dst0 = be_add(f, be_mul(f, be_add(f, r, be_ci(f, pb[0])), pw), be_ci(f, pb[1]));
	dw_copy_row(f, xv, x, src0, in[1], dst0, plane);
	be_loop_end(f, &lr);
}

/* The plane of channel nc whole: border and inside. */
static void dw_fill_plane(be_fn *f, const ir_value *xv, LLVMValueRef x, LLVMValueRef nc, const int64_t *in,
                          const int64_t *pb, int64_t ph, int64_t pw, LLVMValueRef plane, int32_t zx)
{
	dw_plane_border(f, in, pb, ph, pw, plane, zx);
	dw_plane_copy(f, xv, x, nc, in, pb, pw, plane);
}

/* Output rows oh0 .. oh0 + nrows - 1 of the channel, whose taps start at
 * the plane's rows 0 .. nrows - 1 (times the stride): by output pairs in
 * asm into rowbuf when there is one (3x3), else one output at a time;
 * requantized as dw_rq's kind (-1: be_int_out). */
static void dw_rows(be_fn *f, dw_geom *g, LLVMValueRef rowbuf, int kind, LLVMValueRef oh0, int64_t nrows)
{
	LLVMBuilderRef b = f->b;
	LLVMTypeRef i16 = LLVMInt16TypeInContext(f->ctx);
	LLVMValueRef *wreg = g->wreg, plane = g->plane;
	const int64_t *out = g->out;
	int64_t pw = g->pw;
	g->kind = kind;
	be_loop lh;
	LLVMValueRef t = be_loop_begin(f, &lh, nrows), oh = be_add(f, oh0, t);
	if (rowbuf) {
		/* (w02, w12) and (w22, 0): the rows' third taps, as SMLA<x><y> halves */
		LLVMValueRef lo16 = c32(f, 0xffff);
		LLVMValueRef w2a = LLVMBuildOr(b, LLVMBuildAnd(b, wreg[3], lo16, ""),
		                               LLVMBuildShl(b, wreg[4], c32(f, 16), ""), "");
		LLVMValueRef w2b = LLVMBuildAnd(b, wreg[5], lo16, "");
		LLVMValueRef org = be_mul(f, t, g->s[0] * pw);
		LLVMValueRef p0 = LLVMBuildInBoundsGEP2(b, i16, plane, &org, 1, "");
		LLVMValueRef qend = be_ci(f, out[1] / 2 * 2);
		qend = LLVMBuildInBoundsGEP2(b, f->i32, rowbuf, &qend, 1, "");
		dw_row_asm(f, g, p0, rowbuf, qend, wreg, w2a, w2b);
		if (out[1] % 2)
			be_st_t(f, f->i32, rowbuf, be_ci(f, out[1] - 1), dw_acc(f, g, t, be_ci(f, out[1] - 1), c32(f, 0)));
		be_loop lw;
		LLVMValueRef ow = be_loop_begin(f, &lw, out[1]);
		LLVMValueRef acc = LLVMBuildAdd(b, be_ld_t(f, f->i32, rowbuf, ow), g->bias, "");
		LLVMValueRef yi = be_add(f, be_mul(f, g->nc, out[0] * out[1]), be_add(f, be_mul(f, oh, out[1]), ow));
		be_st_t(f, g->oty, g->y, yi, g->kind >= 0 ? dw_rq(f, g, acc) : be_int_out(f, g->o, acc, g->c));
		be_loop_end(f, &lw);
	} else {
		be_loop lw;
		LLVMValueRef ow = be_loop_begin(f, &lw, out[1]);
		dw_one(f, g, t, oh, ow);
		be_loop_end(f, &lw);
	}
	be_loop_end(f, &lh);
}

/* dw_rows; for a split layer (r0c: the channel's r is 0) the rows of the
 * channel's kind, a branch per channel (or band), not per row. */
static void dw_rows_split(be_fn *f, dw_geom *g, LLVMValueRef rowbuf, LLVMValueRef r0c, LLVMValueRef oh0,
                          int64_t nrows)
{
	if (!r0c) {
		dw_rows(f, g, rowbuf, -1, oh0, nrows);
		return;
	}
	for (int kd = 0; kd < 2; kd++) {
		be_if ki;
		be_if_begin(f, &ki, kd ? r0c : LLVMBuildNot(f->b, r0c, ""));
		if (g->rqp) /* p as the kind's kc, r (r >= 1) or s (r = 0) */
			be_rq_unpack(f, g->rqp, g->o->k.zy, kd == 1, g->rq + 1);
		dw_rows(f, g, rowbuf, kd, oh0, nrows);
		be_if_end(f, &ki);
	}
}

/* Rows 0 .. ph - 1 of a band's plane: input rows oh0 * s0 - pb0 onwards
 * at column pb1 (dw_plane_copy's row copy), or zx for a row outside the
 * input; the left and right columns hold zx already. */
static void dw_band_fill(be_fn *f, const ir_value *xv, LLVMValueRef x, LLVMValueRef nc, const int64_t *in,
                         const int64_t *pb, int64_t s0, int64_t ph, int64_t pw, LLVMValueRef oh0,
                         LLVMValueRef plane, int32_t zx)
{
	LLVMBuilderRef b = f->b;
	LLVMTypeRef i16 = LLVMInt16TypeInContext(f->ctx);
	be_loop lr;
	LLVMValueRef r = be_loop_begin(f, &lr, ph);
	LLVMValueRef ih = LLVMBuildSub(b, be_add(f, be_mul(f, oh0, s0), r), be_ci(f, pb[0]), "");
	LLVMValueRef dst0 = be_add(f, be_mul(f, r, pw), be_ci(f, pb[1]));
	LLVMValueRef inside = LLVMBuildICmp(b, LLVMIntULT, ih, be_ci(f, in[0]), "");
	be_if bi;
	be_if_begin(f, &bi, inside);
	dw_copy_row(f, xv, x, be_add(f, be_mul(f, nc, in[0] * in[1]), be_mul(f, ih, in[1])), in[1], dst0, plane);
	be_if_end(f, &bi);
	be_if bo;
	be_if_begin(f, &bo, LLVMBuildNot(b, inside, ""));
	be_loop lz;
	LLVMValueRef e = be_loop_begin(f, &lz, in[1]);
	be_st_t(f, i16, plane, be_add(f, dst0, e), LLVMConstInt(i16, (unsigned long long)zx, 1));
	be_loop_end(f, &lz);
	be_if_end(f, &bo);
	be_loop_end(f, &lr);
}

/* A depthwise conv (group = C = M): per channel, the input plane is
 * copied into an i16 plane on the stack with a border of zx wide enough
 * for every tap (so x's zero point folds into the bias, as above), then
 * each output is bias' + the taps: along a kernel row, adjacent taps (at
 * dilation 1) pair up as one unaligned word load and one SMLAD against a
 * constant (w0, w1) pair; an odd last tap is one SMLABB-shaped multiply.
 * w - zw always fits i16. */
static int dsp_depthwise(be_fn *f, const ir_node *n)
{
	const ir_value *xv = n->in[0], *wv = n->in[1];
	const ir_shape *xs = &xv->shape;
	if (be_int_has_bias(n, 2) && (n->in[2]->kind != IR_VAL_CONST || !n->in[2]->data))
		return 1;
	int64_t in[2], k[2], s[2], dil[2], pb[2], out[2];
	if (be_int_conv_geom(f, n, in, k, s, dil, pb, out))
		return -1;
	int64_t N = xs->d[0], C = xs->d[1], KK = k[0] * k[1], ph, pw;
	dw_plane_dims(in, k, s, dil, pb, out, &ph, &pw);
	/* a plane over 16 KB of stack goes in bands of bh output rows, each
	 * band's input rows (halos included) copied in turn */
	int64_t bh = out[0];
	if (ph * pw * 2 > 16384) {
		bh = ((16384 / (pw * 2)) - (k[0] - 1) * dil[0] - 1) / s[0] + 1;
		if (bh < 1 || (k[0] - 1) * dil[0] + 1 > 16384 / (pw * 2))
			return 1;
		ph = (bh - 1) * s[0] + (k[0] - 1) * dil[0] + 1;
	}
	bool band = bh < out[0];
	be_iop o;
	bool split = false; /* dw_rq per channel kind */
	int rc = -1;
	int32_t *wq = NULL, *bias = NULL;
	char *tb = NULL;   /* the taps as bytes, when they fit (fits8) */
	uint32_t *tw = NULL; /* or a channel's taps in one word (packed) */
	bool fits8 = true;
	int32_t vmin = 0, vmax = 0;
	if (be_iop_init(f, n, &o))
		goto done;
	int64_t npair = dil[1] == 1 ? k[1] / 2 : 0, nsingle = k[1] - 2 * npair;
	/* per channel: k[0] * npair pair words, then k[0] * nsingle singles */
	int64_t per = k[0] * (npair + nsingle);
	wq = malloc(sizeof *wq * (size_t)(C * per));
	bias = malloc(sizeof *bias * (size_t)C);
	tb = malloc((size_t)(C * KK > 0 ? C * KK : 1));
	if (!wq || !bias || !tb) {
		diag_error(f->d, NULL, "out of memory");
		goto done;
	}
	const int32_t *b0 = be_int_has_bias(n, 2) ? n->in[2]->data : NULL;
	if (be_int_has_bias(n, 2) && (n->in[2]->dt != IR_DT_I32 || ir_shape_numel(&n->in[2]->shape) != C)) {
		rc = 1;
		goto done;
	}
	for (int64_t c = 0; c < C; c++) {
		int32_t zw = o.zw[o.nzw > 1 ? c : 0];
		uint32_t sum = 0;
		int32_t *wc = wq + c * per;
		for (int64_t kh = 0; kh < k[0]; kh++)
			for (int64_t kw = 0; kw < k[1]; kw++) {
				int32_t v = (int32_t)k_int_get(wv->data, wv->dt, c * KK + kh * k[1] + kw) - zw;
				sum += (uint32_t)v;
				tb[c * KK + kh * k[1] + kw] = (char)v;
				fits8 = fits8 && v >= -128 && v <= 127;
				vmin = v < vmin ? v : vmin;
				vmax = v > vmax ? v : vmax;
				if (kw < 2 * npair) {
					uint32_t *pr = (uint32_t *)&wc[kh * npair + kw / 2];
					if (kw % 2 == 0)
						*pr = (uint16_t)v;
					else
						*pr |= (uint32_t)(uint16_t)v << 16;
				} else {
					wc[k[0] * npair + kh * nsingle + (kw - 2 * npair)] = v;
				}
			}
		bias[c] = (int32_t)((uint32_t)(b0 ? b0[c] : 0) - (uint32_t)o.k.zx * sum);
	}
	LLVMBuilderRef b = f->b;
	LLVMTypeRef i16 = LLVMInt16TypeInContext(f->ctx), oty = be_dt_type(f, o.odt);
	/* taps that fit i8, in registers (nw below): one byte each in flash
	 * (tb), widened and paired per channel (wreg below); where a
	 * channel's taps fit one word as fb-bit signed fields (2- and 1-bit
	 * weights' 3x3 taps: 27 bits), that word (tw), a field taken out by
	 * a signed bit-field extract (SBFX) each; else the i32 words */
	int nw = per < 64 ? (int)per : 0;
	bool bytes = nw > 0 && fits8;
	int fb = 2;
	while (fb < 8 && (vmin < -(1 << (fb - 1)) || vmax > (1 << (fb - 1)) - 1))
		fb++;
	bool packed = bytes && KK > 4 && KK * fb <= 32 && (tw = calloc((size_t)C, sizeof *tw));
	for (int64_t c = 0; packed && c < C; c++)
		for (int64_t i = 0; i < KK; i++)
			tw[c] |= ((uint32_t)(int32_t)tb[c * KK + i] & ((1u << fb) - 1)) << (fb * i);
	char name[64];
	snprintf(name, sizeof name, "%s.dwb", f->name);
	LLVMValueRef wt;
	if (packed) {
		LLVMValueRef *el = malloc(sizeof *el * (size_t)C);
		if (!el) {
			diag_error(f->d, NULL, "out of memory");
			goto done;
		}
		for (int64_t c = 0; c < C; c++)
			el[c] = LLVMConstInt(f->i32, tw[c], 0);
		wt = be_opaque_const(f, name, LLVMConstArray2(f->i32, el, (uint64_t)C), 4);
		free(el);
	} else {
		wt = bytes ? be_opaque_const(f, name, LLVMConstStringInContext2(f->ctx, tb, (size_t)(C * KK), 1), 4)
		           : be_table_i32(f, wq, C * per);
	}
	LLVMValueRef bt = be_table_i32(f, bias, C);
	if (!wt || !bt)
		goto done;
	LLVMValueRef x = be_ptr(f, xv), y = be_ptr(f, n->out[0]);
	LLVMValueRef plane = be_scratch(f, LLVMArrayType2(i16, (uint64_t)(ph * pw)), 4, "dwplane");
	be_lifetime(f, true, plane, ph * pw * 2);
	if (band) { /* the left and right columns of every band row */
		int64_t bin[2] = {ph, in[1]}, bpb[2] = {0, pb[1]};
		dw_plane_border(f, bin, bpb, ph, pw, plane, o.k.zx);
	} else {
		dw_plane_border(f, in, pb, ph, pw, plane, o.k.zx);
	}
	be_loop ln, lc;
	LLVMValueRef nb = be_loop_begin(f, &ln, N);
	LLVMValueRef c = be_loop_begin(f, &lc, C);
	LLVMValueRef nc = be_add(f, be_mul(f, nb, C), c);
	if (!band)
		dw_plane_copy(f, xv, x, nc, in, pb, pw, plane);
	LLVMValueRef wbase = be_mul(f, c, per);
	LLVMValueRef wreg[64];
	if (bytes) { /* the layout above from channel c's KK bytes */
		LLVMValueRef tap[64], cb = be_mul(f, c, KK);
		LLVMValueRef wc = LLVMBuildInBoundsGEP2(b, f->i8, wt, &cb, 1, "");
		LLVMValueRef word = packed ? be_ld_t(f, f->i32, wt, c) : NULL;
		for (int64_t i = 0; i < KK; i++)
			tap[i] = packed ? LLVMBuildAShr(b, LLVMBuildShl(b, word, c32(f, 32 - fb * (i + 1)), ""), c32(f, 32 - fb), "")
			                : LLVMBuildSExt(b, LLVMBuildLoad2(b, f->i8, gep8(f, wc, i), ""), f->i32, "");
		for (int64_t kh = 0; kh < k[0]; kh++) {
			for (int64_t pi = 0; pi < npair; pi++) {
				LLVMValueRef lo = LLVMBuildAnd(b, tap[kh * k[1] + 2 * pi], c32(f, 0xffff), "");
				LLVMValueRef hi = LLVMBuildShl(b, tap[kh * k[1] + 2 * pi + 1], c32(f, 16), "");
				wreg[kh * npair + pi] = LLVMBuildOr(b, lo, hi, "");
			}
			for (int64_t si = 0; si < nsingle; si++)
				wreg[k[0] * npair + kh * nsingle + si] = tap[kh * k[1] + 2 * npair + si];
		}
	} else {
		for (int i = 0; i < nw; i++)
			wreg[i] = be_ld_t(f, f->i32, wt, be_add(f, wbase, be_ci(f, i)));
	}
	LLVMValueRef bc = be_ld_t(f, f->i32, bt, c);
	dw_geom g = {.plane = plane, .wt = wt, .wbase = wbase, .wreg = wreg, .nw = nw, .npair = npair,
	             .nsingle = nsingle, .pw = pw, .bias = bc, .c = c, .nc = nc, .y = y, .oty = oty, .o = &o,
	             .k = {0, 0}, .s = {0, 0}, .dil = {0, 0}, .out = {0, 0}, .kind = -1};
	memcpy(g.k, k, sizeof g.k);
	memcpy(g.s, s, sizeof g.s);
	memcpy(g.dil, dil, sizeof g.dil);
	memcpy(g.out, out, sizeof g.out);
	/* 3x3 at dilation 1 and column stride 1 or 2: rows of output pairs
	 * in asm into a row buffer, then bias and requantization */
	bool pairs = k[0] == 3 && k[1] == 3 && dil[0] == 1 && dil[1] == 1 && (s[1] == 1 || s[1] == 2) &&
	             nw == 6 && out[1] >= 2 && out[1] <= 1024 && 2 * pw * 2 + 8 <= 4095;
	LLVMValueRef rowbuf = NULL;
	if (pairs) {
		rowbuf = be_scratch(f, LLVMArrayType2(f->i32, (uint64_t)out[1]), 8, "dwrow");
	}
	/* channels of both kinds, r >= 1 and r = 0 (ternary and binary
	 * layers' multipliers of 0.5 and more): per channel a branch between
	 * dw_rq's two sequences, which requant_bounded's one for both (its
	 * masks) costs about two instructions an output more than */
	LLVMValueRef r0c = NULL, rqt = NULL;
	bool usat, wide, any[2] = {false, false};
	for (int64_t i = 0; f->mcu && o.nrq == C && i < C; i++)
		any[o.shift[i] >= 0] = true;
	bool rpk = true; /* (M, p) with the bias, p decoded a channel (dw_rows_split) */
	split = any[0] && any[1] && be_rq_rows(f, &o, C, NULL, bias, &rqt, &usat, &wide, &rpk);
	g.rqp = NULL;
	if (split && rpk) {
		LLVMValueRef at = be_mul(f, c, 2);
		g.rqp = be_ld_t(f, f->i32, rqt, be_add(f, at, be_ci(f, 1)));
		g.rq[0] = be_ld_t(f, f->i32, rqt, at);
		g.bias = LLVMBuildAShr(b, g.rqp, c32(f, 16), "");
	} else if (split) {
		LLVMValueRef at = be_mul(f, c, 4);
		for (int i = 0; i < 4; i++)
			g.rq[i] = be_ld_t(f, f->i32, rqt, be_add(f, at, be_ci(f, i)));
	}
	if (split) {
		g.usat = usat;
		r0c = LLVMBuildICmp(b, LLVMIntEQ,
		                    g.rqp ? LLVMBuildAnd(b, g.rqp, c32(f, 1 << 15), "") : LLVMBuildAnd(b, g.rq[3], c32(f, 256), ""),
		                    c32(f, 0), "");
	}
	if (!band) {
		dw_rows_split(f, &g, rowbuf, r0c, be_ci(f, 0), out[0]);
	} else {
		/* full bands in a loop, then the last rows */
		int64_t nfull = out[0] / bh, tail = out[0] % bh;
		be_loop lb;
		LLVMValueRef oh0 = be_mul(f, be_loop_begin(f, &lb, nfull), bh);
		dw_band_fill(f, xv, x, nc, in, pb, s[0], ph, pw, oh0, plane, o.k.zx);
		dw_rows_split(f, &g, rowbuf, r0c, oh0, bh);
		be_loop_end(f, &lb);
		if (tail) {
			oh0 = be_ci(f, nfull * bh);
			dw_band_fill(f, xv, x, nc, in, pb, s[0], ph, pw, oh0, plane, o.k.zx);
			dw_rows_split(f, &g, rowbuf, r0c, oh0, tail);
		}
	}
	be_loop_end(f, &lc);
	be_loop_end(f, &ln);
	be_lifetime(f, false, plane, ph * pw * 2);
	rc = 0;
done:
	free(wq);
	free(bias);
	free(tb);
	free(tw);
	be_iop_free(&o);
	return rc;
}

/* The shuffle mask (lo, lo + step, ..., n of them) as a constant. */
static LLVMValueRef lanes(be_fn *f, int lo, int step, int n)
{
	LLVMValueRef idx[16];
	for (int i = 0; i < n; i++)
		idx[i] = c32(f, lo + i * step);
	return LLVMConstVector(idx, (unsigned)n);
}

/* Lane t of the i16 vector v in L i32 lanes (a weight by element). */
static LLVMValueRef lane_i32(be_fn *f, LLVMValueRef v, int t, int L)
{
	LLVMValueRef sh = LLVMBuildShuffleVector(f->b, v, LLVMGetPoison(LLVMTypeOf(v)), lanes(f, t, 0, L), "");
	return LLVMBuildSExt(f->b, sh, LLVMVectorType(f->i32, (unsigned)L), "");
}

/* The row kernels' 8 plane values from element at of the i16 plane, at
 * column stride s1 (1, or 2 from a 16-element load), as nh vectors of L
 * lanes: i32, or i16 as loaded (wide false: NEON's SMULL operands). */
static void plane_row8(be_fn *f, LLVMValueRef plane, LLVMValueRef at, int64_t s1, int L, int nh, bool wide,
                       LLVMValueRef *xh)
{
	LLVMTypeRef i16 = LLVMInt16TypeInContext(f->ctx);
	LLVMValueRef xr = LLVMBuildLoad2(f->b, LLVMVectorType(i16, s1 == 2 ? 16 : 8),
	                                 LLVMBuildInBoundsGEP2(f->b, i16, plane, &at, 1, ""), "");
	LLVMSetAlignment(xr, 2);
	for (int h = 0; h < nh; h++) {
		xh[h] = LLVMBuildShuffleVector(f->b, xr, LLVMGetPoison(LLVMTypeOf(xr)), lanes(f, L * h * (int)s1, (int)s1, L),
		                               "");
		if (wide)
			xh[h] = LLVMBuildSExt(f->b, xh[h], LLVMVectorType(f->i32, (unsigned)L), "");
	}
}

/* The row kernels' 8 outputs of channel c from its i32 sums (one <8 x
 * i32>, or two <4 x i32> halves when acc[1]), requantized, stored at
 * y[yi...]: all 8, or the first nvalid of a row's last partial vector. */
static void store_row8(be_fn *f, const be_iop *o, LLVMValueRef *acc, int nh, LLVMValueRef c, LLVMValueRef y,
                       LLVMValueRef yi, int64_t nvalid)
{
	LLVMBuilderRef b = f->b;
	LLVMTypeRef oty = be_dt_type(f, o->odt);
	LLVMValueRef r = be_int_out_v(f, o, acc[0], c, 0);
	if (nh == 2)
		r = LLVMBuildShuffleVector(b, r, be_int_out_v(f, o, acc[1], c, 0), lanes(f, 0, 1, 8), "");
	if (nvalid >= 8) {
		LLVMSetAlignment(LLVMBuildStore(b, r, LLVMBuildInBoundsGEP2(b, oty, y, &yi, 1, "")), 1);
		return;
	}
	for (int64_t l = 0; l < nvalid; l++)
		be_st_t(f, oty, y, be_add(f, yi, be_ci(f, l)), LLVMBuildExtractElement(b, r, c32(f, (int)l), ""));
}

LLVMValueRef be_sum_loop_begin(be_fn *f, be_sum_loop *l, const char *name, LLVMTypeRef ty, int n,
                               LLVMValueRef *acc)
{
	LLVMBuilderRef b = f->b;
	l->pre = LLVMGetInsertBlock(b);
	l->body = LLVMAppendBasicBlockInContext(f->ctx, f->fn, name);
	l->exit = LLVMAppendBasicBlockInContext(f->ctx, f->fn, "");
	l->n = n;
	LLVMBuildBr(b, l->body);
	LLVMPositionBuilderAtEnd(b, l->body);
	l->iv = LLVMBuildPhi(b, f->ity, "");
	for (int i = 0; i < n; i++)
		acc[i] = l->phi[i] = LLVMBuildPhi(b, ty, "acc");
	return l->iv;
}

void be_sum_loop_end(be_fn *f, be_sum_loop *l, int64_t trips, LLVMValueRef *init, LLVMValueRef *acc)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef next = LLVMBuildAdd(b, l->iv, be_ci(f, 1), "");
	LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, next, be_ci(f, trips), ""), l->exit, l->body);
	LLVMBasicBlockRef latch = LLVMGetInsertBlock(b);
	LLVMValueRef zero = be_ci(f, 0);
	LLVMAddIncoming(l->iv, &zero, &l->pre, 1);
	LLVMAddIncoming(l->iv, &next, &latch, 1);
	for (int i = 0; i < l->n; i++) {
		LLVMAddIncoming(l->phi[i], &init[i], &l->pre, 1);
		LLVMAddIncoming(l->phi[i], &acc[i], &latch, 1);
	}
	LLVMPositionBuilderAtEnd(b, l->exit);
}

int32_t *be_int_fold_weights(be_fn *f, const ir_node *n, const be_iop *o, int32_t zx, int64_t M, int64_t R,
                             int32_t *bias, int32_t *wmin, int32_t *wmax)
{
	const ir_value *wv = n->in[1];
	int32_t *wq = malloc(sizeof *wq * (size_t)(M * R > 0 ? M * R : 1));
	if (!wq) {
		diag_error(f->d, NULL, "out of memory");
		return NULL;
	}
	const int32_t *b0 = be_int_has_bias(n, 2) ? n->in[2]->data : NULL;
	*wmin = *wmax = 0;
	for (int64_t m = 0; m < M; m++) {
		int32_t zw = o->zw[o->nzw > 1 ? m : 0];
		uint32_t sum = 0;
		for (int64_t r = 0; r < R; r++) {
			int32_t v = (int32_t)k_int_get(wv->data, wv->dt, m * R + r) - zw;
			wq[m * R + r] = v;
			*wmin = v < *wmin ? v : *wmin;
			*wmax = v > *wmax ? v : *wmax;
			sum += (uint32_t)v;
		}
		bias[m] = (int32_t)((uint32_t)(b0 ? b0[m] : 0) - (uint32_t)zx * sum);
	}
	return wq;
}

/* Elements a bordered plane needs for the SIMD row kernels: ph x pw, or
 * up to where the last vector of 8 outputs of the last row reads (16
 * elements per load at column stride 2), if that is further. */
static int64_t simd_plane_size(const int64_t *k, const int64_t *s, const int64_t *dil, const int64_t *out,
                               int64_t ph, int64_t pw)
{
	int64_t nvec = (out[1] + 7) / 8;
	int64_t reach = (out[0] - 1) * s[0] * pw + (nvec * 8 - 1) * s[1] + 1 + (k[0] - 1) * dil[0] * pw +
	                (k[1] - 1) * dil[1] + (s[1] == 2);
	return reach > ph * pw ? reach : ph * pw;
}

/* A regular conv (one group, at most 16 taps per channel, at least 64
 * outputs per channel and 8 per row) on SIMD targets, without column
 * copies: every input channel's bordered i16 plane (dw_fill_plane: x's
 * zero point folds into the bias), then per output row, vector of 8
 * outputs and 4 output channels, a loop over the input channels whose
 * trip multiplies each tap's plane vector (as in the depthwise kernel) by
 * the 4 channels' weights for it (NEON: SMLAL/SMLAL2 by element from the
 * channel's taps, kept as i8 and widened once a trip).  On x86 only the
 * first layers' small convs (C <= 8, C * KH * KW <= 64) take it, on NEON
 * convs of up to 144 reduction elements.  0, -1 reported, or 1 when n is
 * left to the tiles. */
static int simd_direct(be_fn *f, const ir_node *n)
{
	const ir_value *xv = n->in[0];
	int64_t in[2], k[2], s[2], dil[2], pb[2], out[2];
	if (be_int_conv_geom(f, n, in, k, s, dil, pb, out))
		return -1;
	int64_t N = xv->shape.d[0], C = xv->shape.d[1], M = n->out[0]->shape.d[1], KK = k[0] * k[1];
	int64_t P = out[0] * out[1], ph, pw;
	/* SDOT tiles beat it (ResNet-8's first conv: 4% fewer instructions);
	 * on x86, with no multiply by element, PMADDWD/VPDPBUSD tiles beat it
	 * past the first layers (ResNet-8: twice as fast) */
	if (f->isimd == BE_ISIMD_NEON_DOT || KK > 16 || KK < 2 || s[1] > 2 || P < 64 || out[1] < 8)
		return 1;
	if (f->isimd != BE_ISIMD_NEON && (C > 8 || C * KK > 64))
		return 1;
	/* NEON: past 144 reduction elements a column (16 channels of 3x3) the
	 * 4 x 4 byte tiles' i16 pair sums beat the direct SMLALs, column
	 * copies and all (ResNet-8 on the A72: 5.05 -> 4.75 M instructions;
	 * sending 16 channels of 3x3 to the tiles as well gave 5.12 M) */
	if (f->isimd == BE_ISIMD_NEON && C * KK > 144)
		return 1;
	if (be_int_has_bias(n, 2) && (n->in[2]->kind != IR_VAL_CONST || !n->in[2]->data || n->in[2]->dt != IR_DT_I32 ||
	                       ir_shape_numel(&n->in[2]->shape) != M))
		return 1;
	dw_plane_dims(in, k, s, dil, pb, out, &ph, &pw);
	int64_t psize = simd_plane_size(k, s, dil, out, ph, pw);
	psize = (psize + 7) / 8 * 8;
	if (C * psize * 2 > 65536)
		return 1;
	be_iop o;
	int rc = -1;
	/* W'[m][c][t] as i8 (w - zw must fit), 16 bytes of slack at the end
	 * for the 16-byte loads of the last channel's taps */
	int8_t *wq = calloc((size_t)(M * C * KK + 16), sizeof *wq);
	int32_t *bias = malloc(sizeof *bias * (size_t)M), *w32 = NULL, wmin, wmax;
	if (be_iop_init(f, n, &o))
		goto done;
	if (!wq || !bias) {
		diag_error(f->d, NULL, "out of memory");
		goto done;
	}
	if (!(w32 = be_int_fold_weights(f, n, &o, o.k.zx, M, C * KK, bias, &wmin, &wmax)))
		goto done;
	if (wmin < -128 || wmax > 127) {
		rc = 1;
		goto done;
	}
	for (int64_t i = 0; i < M * C * KK; i++)
		wq[i] = (int8_t)w32[i];
	LLVMBuilderRef b = f->b;
	LLVMTypeRef i16 = LLVMInt16TypeInContext(f->ctx);
	int L = f->isimd == BE_ISIMD_AVX2 ? 8 : 4, nh = 8 / L;
	LLVMTypeRef h8 = LLVMVectorType(i16, 8), sL = LLVMVectorType(f->i32, (unsigned)L);
	char name[64];
	snprintf(name, sizeof name, "%s.simdconv%d", f->name, n->id);
	LLVMValueRef wt = be_opaque_const(
		f, name, LLVMConstStringInContext2(f->ctx, (const char *)wq, (size_t)(M * C * KK + 16), 1), 16);
	LLVMValueRef bt = be_table_i32(f, bias, M);
	LLVMValueRef x = be_ptr(f, xv), y = be_ptr(f, n->out[0]);
	LLVMValueRef planes = be_scratch(f, LLVMArrayType2(i16, (uint64_t)(C * psize)), 16, "convplanes");
	be_lifetime(f, true, planes, C * psize * 2);
	be_loop ln, lc, lh;
	LLVMValueRef nb = be_loop_begin(f, &ln, N);
	LLVMValueRef c = be_loop_begin(f, &lc, C);
	LLVMValueRef poff = be_mul(f, c, psize);
	dw_fill_plane(f, xv, x, be_add(f, be_mul(f, nb, C), c), in, pb, ph, pw,
	              LLVMBuildInBoundsGEP2(b, i16, planes, &poff, 1, ""), o.k.zx);
	be_loop_end(f, &lc);
	LLVMValueRef oh = be_loop_begin(f, &lh, out[0]);
	LLVMValueRef rbase = be_mul(f, oh, s[0] * pw);
	int64_t nfull = out[1] / 8, tail = out[1] % 8;
	for (int part = 0; part < 2; part++) {
		int64_t cnt = part == 0 ? nfull : (tail > 0);
		if (cnt == 0)
			continue;
		be_loop lv;
		LLVMValueRef ow0 = part == 0 ? be_mul(f, be_loop_begin(f, &lv, cnt), 8) : be_ci(f, nfull * 8);
		LLVMValueRef org = be_add(f, rbase, be_mul(f, ow0, s[1]));
		LLVMValueRef ybase = be_add(f, be_mul(f, oh, out[1]), ow0);
		for (int mpart = 0; mpart < 2; mpart++) {
			int64_t mcnt = mpart == 0 ? M / 4 : (M % 4 > 0);
			int nm = mpart == 0 ? 4 : (int)(M % 4);
			if (mcnt == 0)
				continue;
			be_loop lm;
			LLVMValueRef m = mpart == 0 ? be_mul(f, be_loop_begin(f, &lm, mcnt), 4) : be_ci(f, M - nm);
			LLVMValueRef init[8], acc[8]; /* sum (i, h) at i * nh + h */
			for (int i = 0; i < nm; i++) {
				init[i * nh] = be_splat(f, sL, be_ld_t(f, f->i32, bt, be_add(f, m, be_ci(f, i))));
				for (int h = 1; h < nh; h++)
					init[i * nh + h] = init[i * nh];
			}
			/* the input channels, a loop trip each: the channel's taps
			 * unrolled, its 16 weights per output channel in two vectors */
			be_sum_loop cl;
			LLVMValueRef cc = be_sum_loop_begin(f, &cl, "direct.c", sL, nm * nh, acc);
			LLVMValueRef wvec[4][2];
			for (int i = 0; i < nm; i++) { /* the channel's taps, widened */
				LLVMValueRef wo = be_mul(f, be_add(f, be_mul(f, be_add(f, m, be_ci(f, i)), C), cc), KK);
				LLVMValueRef w8 = LLVMBuildLoad2(b, LLVMVectorType(f->i8, 16),
				                                 LLVMBuildInBoundsGEP2(b, f->i8, wt, &wo, 1, ""), "");
				LLVMSetAlignment(w8, 1);
				for (int hv = 0; hv < 2 && 8 * hv < KK; hv++)
					wvec[i][hv] = LLVMBuildSExt(
						b, LLVMBuildShuffleVector(b, w8, LLVMGetPoison(LLVMTypeOf(w8)), lanes(f, 8 * hv, 1, 8), ""),
						h8, "");
			}
			LLVMValueRef corg = be_add(f, org, be_mul(f, cc, psize));
			for (int64_t kh = 0; kh < k[0]; kh++)
				for (int64_t kw = 0; kw < k[1]; kw++) {
					int64_t t = kh * k[1] + kw;
					LLVMValueRef xh[2];
					plane_row8(f, planes, be_add(f, corg, be_ci(f, kh * dil[0] * pw + kw * dil[1])), s[1], L, nh, true,
					           xh);
					for (int h = 0; h < nh; h++)
						for (int i = 0; i < nm; i++) {
							LLVMValueRef ws = lane_i32(f, wvec[i][t / 8], (int)(t % 8), L);
							acc[i * nh + h] = LLVMBuildAdd(b, acc[i * nh + h], LLVMBuildMul(b, xh[h], ws, ""), "");
						}
				}
			be_sum_loop_end(f, &cl, C, init, acc);
			for (int i = 0; i < nm; i++) {
				LLVMValueRef mi = be_add(f, m, be_ci(f, i));
				LLVMValueRef yi = be_add(f, be_mul(f, be_add(f, be_mul(f, nb, M), mi), P), ybase);
				store_row8(f, &o, acc + i * nh, nh, mi, y, yi, part == 0 ? 8 : tail);
			}
			if (mpart == 0)
				be_loop_end(f, &lm);
		}
		if (part == 0)
			be_loop_end(f, &lv);
	}
	be_loop_end(f, &lh);
	be_loop_end(f, &ln);
	be_lifetime(f, false, planes, C * psize * 2);
	rc = 0;
done:
	free(w32);
	free(wq);
	free(bias);
	be_iop_free(&o);
	return rc;
}

/* SIMD depthwise (group = C = M): per channel the bordered i16 plane of
 * dw_fill_plane (x's zero point folds into the bias, as for the DSP), then
 * each output row in vectors of 8 outputs: per tap one load of 8 plane
 * elements (column stride 1) or a de-interleaving load of 16 (stride 2,
 * LD2 on NEON), multiplied by the tap's weight into the 8 sums (NEON: two
 * i32x4 halves, SMLAL/SMLAL2 by element; AVX2: one i32x8); the 8 sums are
 * requantized as vectors and stored as one 8-element store.  A row's last
 * partial vector reads past the row (into the next one, or the plane's
 * slack) and stores its valid lanes only.  0, -1 reported, or 1 when n is
 * left to the portable loops. */
static int simd_depthwise(be_fn *f, const ir_node *n)
{
	const ir_value *xv = n->in[0];
	const ir_shape *xs = &xv->shape;
	int64_t in[2], k[2], s[2], dil[2], pb[2], out[2];
	if (be_int_conv_geom(f, n, in, k, s, dil, pb, out))
		return -1;
	int64_t N = xs->d[0], C = xs->d[1], KK = k[0] * k[1], ph, pw;
	if (KK > 16 || s[1] > 2 || out[0] < 1 || out[1] < 1)
		return 1;
	if (be_int_has_bias(n, 2) && (n->in[2]->kind != IR_VAL_CONST || !n->in[2]->data || n->in[2]->dt != IR_DT_I32 ||
	                       ir_shape_numel(&n->in[2]->shape) != C))
		return 1;
	dw_plane_dims(in, k, s, dil, pb, out, &ph, &pw);
	int64_t nfull = out[1] / 8, tail = out[1] % 8;
	int64_t psize = simd_plane_size(k, s, dil, out, ph, pw);
	if (psize * 2 > 32768)
		return 1;
	be_iop o;
	int rc = -1;
	int16_t *wq = calloc((size_t)(C * 16), sizeof *wq);
	int32_t *bias = malloc(sizeof *bias * (size_t)C), *w32 = NULL, wmin, wmax;
	if (be_iop_init(f, n, &o))
		goto done;
	if (!wq || !bias) {
		diag_error(f->d, NULL, "out of memory");
		goto done;
	}
	if (!(w32 = be_int_fold_weights(f, n, &o, o.k.zx, C, KK, bias, &wmin, &wmax)))
		goto done;
	for (int64_t c = 0; c < C; c++) /* |W'| <= 255 */
		for (int64_t t = 0; t < KK; t++)
			wq[c * 16 + t] = (int16_t)w32[c * KK + t];
	LLVMBuilderRef b = f->b;
	LLVMTypeRef i16 = LLVMInt16TypeInContext(f->ctx);
	/* the 8 sums as one <8 x i32> with AVX2, else two <4 x i32> halves */
	int L = f->isimd == BE_ISIMD_AVX2 ? 8 : 4, nh = 8 / L;
	LLVMTypeRef h16 = LLVMVectorType(i16, 16), s4 = LLVMVectorType(f->i32, (unsigned)L);
	char name[64];
	snprintf(name, sizeof name, "%s.simddw%d", f->name, n->id);
	LLVMValueRef wt = be_opaque_const(
		f, name, LLVMConstStringInContext2(f->ctx, (const char *)wq, (size_t)(C * 16) * sizeof *wq, 1), 16);
	LLVMValueRef bt = be_table_i32(f, bias, C);
	LLVMValueRef x = be_ptr(f, xv), y = be_ptr(f, n->out[0]);
	LLVMValueRef plane = be_scratch(f, LLVMArrayType2(i16, (uint64_t)psize), 16, "dwplane");
	be_lifetime(f, true, plane, psize * 2);
	dw_plane_border(f, in, pb, ph, pw, plane, o.k.zx);
	be_loop ln, lc, lh;
	LLVMValueRef nb = be_loop_begin(f, &ln, N);
	LLVMValueRef c = be_loop_begin(f, &lc, C);
	LLVMValueRef nc = be_add(f, be_mul(f, nb, C), c);
	dw_plane_copy(f, xv, x, nc, in, pb, pw, plane);
	LLVMValueRef woff = be_mul(f, c, 32);
	LLVMValueRef wvec = LLVMBuildLoad2(b, h16, LLVMBuildInBoundsGEP2(b, f->i8, wt, &woff, 1, ""), "");
	LLVMSetAlignment(wvec, 16);
	/* On NEON each tap is one SMLAL by element per half: the product of
	 * two <4 x i16> by llvm.aarch64.neon.smull (the generic mul of two
	 * sexts loses SMLAL once LLVM hoists the weight's sext out of the
	 * loop: SSHLL + MLA then, 5 instructions a tap for 8 outputs, not 3) */
	bool neon = f->isimd == BE_ISIMD_NEON || f->isimd == BE_ISIMD_NEON_DOT;
	LLVMValueRef wl[16];
	for (int64_t t = 0; t < KK; t++) /* the tap's weight in L lanes, as i32 (NEON: i16) */
		wl[t] = neon ? LLVMBuildShuffleVector(b, wvec, LLVMGetPoison(h16), lanes(f, (int)t, 0, 4), "")
		             : lane_i32(f, wvec, (int)t, L);
	LLVMValueRef bsplat = be_splat(f, s4, be_ld_t(f, f->i32, bt, c));
	LLVMValueRef oh = be_loop_begin(f, &lh, out[0]);
	LLVMValueRef ybase = be_add(f, be_mul(f, nc, out[0] * out[1]), be_mul(f, oh, out[1]));
	LLVMValueRef rbase = be_mul(f, oh, s[0] * pw);
	for (int part = 0; part < 2; part++) {
		int64_t cnt = part == 0 ? nfull : (tail > 0);
		if (cnt == 0)
			continue;
		be_loop lv;
		LLVMValueRef ow0 = part == 0 ? be_mul(f, be_loop_begin(f, &lv, cnt), 8) : be_ci(f, nfull * 8);
		LLVMValueRef org = be_add(f, rbase, be_mul(f, ow0, s[1]));
		LLVMValueRef acc[2] = {bsplat, bsplat};
		for (int64_t kh = 0; kh < k[0]; kh++)
			for (int64_t kw = 0; kw < k[1]; kw++) {
				LLVMValueRef xh[2], at = be_add(f, org, be_ci(f, kh * dil[0] * pw + kw * dil[1]));
				LLVMValueRef w = wl[kh * k[1] + kw];
				if (neon) {
					plane_row8(f, plane, at, s[1], 4, 2, false, xh);
					for (int h = 0; h < 2; h++) {
						LLVMValueRef args[2] = {xh[h], w};
						acc[h] = LLVMBuildAdd(b, acc[h], be_intr(f, "llvm.aarch64.neon.smull", &s4, 1, args, 2), "");
					}
					continue;
				}
				plane_row8(f, plane, at, s[1], L, nh, true, xh);
				for (int h = 0; h < nh; h++)
					acc[h] = LLVMBuildAdd(b, acc[h], LLVMBuildMul(b, xh[h], w, ""), "");
			}
		store_row8(f, &o, acc, nh, c, y, be_add(f, ybase, ow0), part == 0 ? 8 : tail);
		if (part == 0)
			be_loop_end(f, &lv);
	}
	be_loop_end(f, &lh);
	be_loop_end(f, &lc);
	be_loop_end(f, &ln);
	be_lifetime(f, false, plane, psize * 2);
	rc = 0;
done:
	free(w32);
	free(wq);
	free(bias);
	be_iop_free(&o);
	return rc;
}

/* The shuffle mask (0, 8, 1, 9, ..., 7, 15): two 8-lane vectors
 * interleaved. */
static LLVMValueRef interleave16(be_fn *f)
{
	LLVMValueRef idx[16];
	for (int i = 0; i < 16; i++)
		idx[i] = c32(f, (i & 1) * 8 + i / 2);
	return LLVMConstVector(idx, 16);
}

/* A pointwise conv (1x1, stride 1, no pads, one group, at least 64
 * pixels per image; on NEON, without SDOT and up to 32 input channels) on
 * NEON and x86, straight over NCHW,
 * with no column copies: y[m, p] = bias'[m] + sum_c W'[m, c] x[c, p] with
 * x as it is (x's zero point folds into bias') and W' = w - zw as i8, for
 * 4 channels x 8 pixels at a time (the last block of a row of pixels
 * overlaps the one before it), 8 channels of x per loop trip:
 *   NEON: each x row widened to i16, SMLAL/SMLAL2 by element against the
 *         channel's 8 weights widened once;
 *   x86:  two x rows widened and interleaved as (x[c, p], x[c+1, p]) i16
 *         pairs, PMADDWD against the broadcast pair (W'[m, c], W'[m, c+1]).
 * C is padded to 8 with zero weights (their x rows read row C - 1).  Each
 * channel's 8 sums are requantized as a vector and stored as 8 adjacent
 * outputs.  0, -1 reported, or 1 when n is not one. */
static int simd_pointwise(be_fn *f, const ir_node *n, const int64_t *in, const int64_t *k, const int64_t *s,
                          const int64_t *pb, const int64_t *out)
{
	const ir_value *xv = n->in[0];
	int64_t N = xv->shape.d[0], C = xv->shape.d[1], M = n->out[0]->shape.d[1], P = out[0] * out[1];
	/* below 64 pixels the overlapping last block costs more than the byte
	 * tiles' column copies save (measured on VWW's layers: 6x6 and 3x3
	 * planes); SDOT tiles beat it outright */
	if (f->isimd == BE_ISIMD_NONE || f->isimd == BE_ISIMD_NEON_DOT || out[0] * out[1] < 64)
		return 1;
	/* on NEON the tiles' i16 pair sums win from 64 channels on (DS-CNN's
	 * 64-channel layers) */
	if (f->isimd == BE_ISIMD_NEON && xv->shape.d[1] > 32)
		return 1;
	if (k[0] != 1 || k[1] != 1 || s[0] != 1 || s[1] != 1 || pb[0] || pb[1] || in[0] != out[0] ||
	    in[1] != out[1] || C > 4096)
		return 1;
	be_iop o;
	if (be_int_has_bias(n, 2) && (n->in[2]->dt != IR_DT_I32 || ir_shape_numel(&n->in[2]->shape) != M))
		return 1;
	int rc = -1;
	int64_t C8 = (C + 7) / 8 * 8;
	int8_t *wq = calloc((size_t)(M * C8), sizeof *wq);
	int32_t *bias = malloc(sizeof *bias * (size_t)M), *w32 = NULL, wmin, wmax;
	if (be_iop_init(f, n, &o))
		goto done;
	if (!wq || !bias) {
		diag_error(f->d, NULL, "out of memory");
		goto done;
	}
	if (!(w32 = be_int_fold_weights(f, n, &o, o.k.zx, M, C, bias, &wmin, &wmax)))
		goto done;
	if (wmin < -128 || wmax > 127) { /* W' = w - zw must fit i8 */
		rc = 1;
		goto done;
	}
	for (int64_t m = 0; m < M; m++)
		for (int64_t c = 0; c < C; c++)
			wq[m * C8 + c] = (int8_t)w32[m * C + c];
	LLVMBuilderRef b = f->b;
	bool avx2 = f->isimd == BE_ISIMD_AVX2, neon = f->isimd == BE_ISIMD_NEON;
	LLVMTypeRef i16 = LLVMInt16TypeInContext(f->ctx);
	LLVMTypeRef h8 = LLVMVectorType(i16, 8), s4 = LLVMVectorType(f->i32, 4);
	LLVMTypeRef s8 = LLVMVectorType(f->i32, 8), b8 = LLVMVectorType(f->i8, 8);
	char name[64];
	snprintf(name, sizeof name, "%s.simdpw%d", f->name, n->id);
	LLVMValueRef wt = be_opaque_const(
		f, name, LLVMConstStringInContext2(f->ctx, (const char *)wq, (size_t)(M * C8), 1), 16);
	LLVMValueRef bt = be_table_i32(f, bias, M);
	LLVMValueRef x = be_ptr(f, xv), y = be_ptr(f, n->out[0]);
	bool u8 = xv->dt == IR_DT_U8;
	be_loop ln, lp;
	LLVMValueRef nb = be_loop_begin(f, &ln, N);
	LLVMValueRef xb = be_mul(f, nb, C * P), yb = be_mul(f, nb, M * P);
	LLVMValueRef p8 = be_mul(f, be_loop_begin(f, &lp, (P + 7) / 8), 8);
	LLVMValueRef last = be_ci(f, P - 8);
	LLVMValueRef p0 = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntUGT, p8, last, ""), last, p8, "");
	LLVMValueRef xrow0 = be_add(f, xb, p0);
	for (int part = 0; part < 2; part++) {
		int64_t cnt = part == 0 ? M / 4 : (M % 4 > 0);
		int nm = part == 0 ? 4 : (int)(M % 4);
		if (cnt == 0)
			continue;
		be_loop lm;
		LLVMValueRef m = part == 0 ? be_mul(f, be_loop_begin(f, &lm, cnt), 4) : be_ci(f, M - nm);
		/* the sums start at bias' (NEON: two <4 x i32> halves) */
		int nh = neon ? 2 : 1;
		LLVMTypeRef at = neon ? s4 : s8;
		LLVMValueRef init[8], cur[8]; /* sum (i, h) at i * nh + h */
		for (int i = 0; i < nm; i++) {
			init[i * nh] = be_splat(f, at, be_ld_t(f, f->i32, bt, be_add(f, m, be_ci(f, i))));
			for (int h = 1; h < nh; h++)
				init[i * nh + h] = init[i * nh];
		}
		/* the channel loop, 8 channels a trip */
		be_sum_loop cl;
		LLVMValueRef cb = be_sum_loop_begin(f, &cl, "pw.c", at, nm * nh, cur);
		LLVMValueRef c0 = be_mul(f, cb, 8);
		LLVMValueRef xr[8];
		for (int l = 0; l < 8; l++) { /* rows c0 + l (row C - 1 past C), widened */
			LLVMValueRef c = be_add(f, c0, be_ci(f, l));
			if (C % 8)
				c = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntUGT, c, be_ci(f, C - 1), ""), be_ci(f, C - 1), c, "");
			LLVMValueRef at8 = be_add(f, xrow0, be_mul(f, c, P));
			LLVMValueRef v = LLVMBuildLoad2(b, b8, LLVMBuildInBoundsGEP2(b, f->i8, x, &at8, 1, ""), "");
			LLVMSetAlignment(v, 1);
			xr[l] = u8 ? LLVMBuildZExt(b, v, h8, "") : LLVMBuildSExt(b, v, h8, "");
		}
		for (int i = 0; i < nm; i++) {
			LLVMValueRef woff = be_add(f, be_mul(f, be_add(f, m, be_ci(f, i)), C8), c0);
			LLVMValueRef wv8 = LLVMBuildLoad2(b, b8, LLVMBuildInBoundsGEP2(b, f->i8, wt, &woff, 1, ""), "");
			LLVMSetAlignment(wv8, 8);
			if (neon) { /* SMLAL/SMLAL2 by element: x row l times weight l */
				LLVMValueRef w16 = LLVMBuildSExt(b, wv8, h8, "");
				for (int l = 0; l < 8; l++) {
					LLVMValueRef ws = lane_i32(f, w16, l, 4);
					for (int h = 0; h < 2; h++) {
						LLVMValueRef xs = LLVMBuildShuffleVector(b, xr[l], LLVMGetPoison(h8), lanes(f, 4 * h, 1, 4), "");
						xs = LLVMBuildSExt(b, xs, s4, "");
						cur[i * nh + h] = LLVMBuildAdd(b, cur[i * nh + h], LLVMBuildMul(b, xs, ws, ""), "");
					}
				}
				continue;
			}
			/* the 8 weights as four i32 lanes of i16 pairs */
			LLVMValueRef wpairs = LLVMBuildBitCast(b, LLVMBuildSExt(b, wv8, h8, ""), s4, "");
			for (int l = 0; l < 8; l += 2) {
				LLVMValueRef wpr = LLVMBuildExtractElement(b, wpairs, c32(f, l / 2), "");
				LLVMValueRef il = LLVMBuildShuffleVector(b, xr[l], xr[l + 1], interleave16(f), "");
				if (avx2) {
					LLVMValueRef ws = LLVMBuildBitCast(b, be_splat(f, s8, wpr), LLVMVectorType(i16, 16), "");
					LLVMValueRef ab[2] = {il, ws};
					cur[i * nh] = LLVMBuildAdd(b, cur[i * nh], be_intr(f, "llvm.x86.avx2.pmadd.wd", NULL, 0, ab, 2), "");
				} else {
					LLVMValueRef ws = LLVMBuildBitCast(b, be_splat(f, s4, wpr), h8, "");
					LLVMValueRef lo = LLVMBuildShuffleVector(b, il, LLVMGetPoison(LLVMTypeOf(il)), lanes(f, 0, 1, 8), "");
					LLVMValueRef hi = LLVMBuildShuffleVector(b, il, LLVMGetPoison(LLVMTypeOf(il)), lanes(f, 8, 1, 8), "");
					LLVMValueRef a0[2] = {lo, ws}, a1[2] = {hi, ws};
					LLVMValueRef r = LLVMBuildShuffleVector(b, be_intr(f, "llvm.x86.sse2.pmadd.wd", NULL, 0, a0, 2),
					                                        be_intr(f, "llvm.x86.sse2.pmadd.wd", NULL, 0, a1, 2), lanes(f, 0, 1, 8), "");
					cur[i * nh] = LLVMBuildAdd(b, cur[i * nh], r, "");
				}
			}
		}
		be_sum_loop_end(f, &cl, C8 / 8, init, cur);
		for (int i = 0; i < nm; i++) {
			LLVMValueRef mi = be_add(f, m, be_ci(f, i));
			store_row8(f, &o, cur + i * nh, nh, mi, y, be_add(f, yb, be_add(f, be_mul(f, mi, P), p0)), 8);
		}
		if (part == 0)
			be_loop_end(f, &lm);
	}
	be_loop_end(f, &lp);
	be_loop_end(f, &ln);
	rc = 0;
done:
	free(w32);
	free(wq);
	free(bias);
	be_iop_free(&o);
	return rc;
}

/* The job's weights, w's codes less their zero points (W'[m, r] is code
 * m * wm + r * wr of operand 1), and its bias (operand 2), through
 * make_weights: 0, 1 when n is left to the other kernels, or -1
 * reported. */
static int job_weights(be_fn *f, dsp_job *j, const ir_node *n, int64_t wm, int64_t wr)
{
	const ir_value *wv = n->in[1];
	int32_t *wq = malloc(sizeof *wq * (size_t)(j->M * j->R)), *bias = NULL;
	int rc = -1;
	if (!wq) {
		diag_error(f->d, NULL, "out of memory");
		goto done;
	}
	for (int64_t m = 0; m < j->M; m++)
		for (int64_t r = 0; r < j->R; r++)
			wq[m * j->R + r] = (int32_t)k_int_get(wv->data, wv->dt, m * wm + r * wr) - j->o.zw[j->o.nzw > 1 ? m : 0];
	bias = bias_data(n, 2, j->M);
	if (be_int_has_bias(n, 2) && !bias) {
		rc = 1;
		goto done;
	}
	rc = make_weights(f, j, wq, bias);
done:
	free(wq);
	free(bias);
	return rc;
}

/* Do the columns (R elements each, col_count of them) fit the stack they
 * may take: 16 KB on a microcontroller, 128 KB on the application cores
 * (whose threads have stacks of megabytes)? */
static bool cols_fit(const be_fn *f, const dsp_job *j)
{
	return col_count(j) * (j->R + 15) * (j->simd ? 1 : 2) <= (f->mcu ? 16384 : 131072);
}

/* The tile shape and x's zero point as the columns hold it; false when
 * the columns would not fit (cols_fit). */
static bool job_setup(be_fn *f, dsp_job *j)
{
	j->simd = f->isimd != BE_ISIMD_NONE;
	j->arch = f->isimd;
	j->vnni = f->vnni;
	j->tm = j->simd ? 4 : 2;
	/* NEON: 4 channels x 4 columns (16 accumulators, 8 operand registers
	 * of 32): a column's and a weight row's loads serve four tiles' worth
	 * of SMULL/SMLAL2/SADALP or SDOT, 0.23 instructions a MAC against the
	 * 4 x 2 tile's 0.27 (x86 has 16 vector registers: 4 x 2) */
	j->tp = j->simd && (f->isimd == BE_ISIMD_NEON || f->isimd == BE_ISIMD_NEON_DOT) ? 4 : 2;
	bool u8 = j->xval->dt == IR_DT_U8;
	j->zx = j->o.k.zx + (!j->simd ? 0 : j->vnni ? (u8 ? 0 : 128) : (u8 ? -128 : 0));
	return cols_fit(f, j);
}

/* be_rq_rows' table for the Thumb-2 channel loops (Cortex-M), with the
 * signs of negated channels (j->sg) in its multipliers; NULL when the
 * requantization needs more than the loops' sequences. */
static void job_rows(be_fn *f, dsp_job *j)
{
	j->rqpack = j->wbits < 8 && j->P <= RQ_PACK_P;
	if (j->simd || !f->mcu ||
	    !be_rq_rows(f, &j->o, j->M, j->sg, j->bh, &j->rq, &j->usat, &j->rqwide, &j->rqpack)) {
		j->rq = NULL;
		j->rqpack = false;
	}
}

int be_dsp_conv(be_fn *f, const ir_node *n)
{
	if (!f->dsp && !f->isimd)
		return 1;
	const ir_value *xv = n->in[0], *wv = n->in[1];
	const ir_shape *xs = &xv->shape, *ys = &n->out[0]->shape;
	int nsp = xs->rank - 2;
	int64_t G = ir_attr_int(n, "group", 1);
	if (nsp < 1 || nsp > 2 || !dsp_dt(xv->dt) || !dsp_dt(wv->dt) || wv->kind != IR_VAL_CONST || !wv->data)
		return 1;
	if (G != 1) {
		if (G != xs->d[1] || G != ys->d[1])
			return 1;
		if (f->dsp)
			return dsp_depthwise(f, n);
		int r = be_x86_depthwise(f, n);
		return r <= 0 ? r : simd_depthwise(f, n);
	}
	if (be_int_has_bias(n, 2) && (n->in[2]->kind != IR_VAL_CONST || !n->in[2]->data))
		return 1;
	if (f->vnni) {
		int r = be_x86_vnni_conv(f, n);
		if (r <= 0)
			return r;
	}
	dsp_job J, *j = &J;
	memset(j, 0, sizeof *j);
	int rc = -1;
	if (be_iop_init(f, n, &j->o))
		goto done;
	int64_t in[2], k[2], s[2], dil[2], pb[2], out[2];
	if (be_int_conv_geom(f, n, in, k, s, dil, pb, out))
		goto done;
	if (f->isimd) {
		rc = simd_pointwise(f, n, in, k, s, pb, out);
		if (rc == 1)
			rc = simd_direct(f, n);
		if (rc <= 0)
			goto done;
	}
	int64_t N = xs->d[0], C = xs->d[1], M = ys->d[1];
	j->M = M;
	j->C = C;
	j->R = C * k[0] * k[1];
	j->R4 = (j->R + 3) & ~(int64_t)3;
	j->P = out[0] * out[1];
	j->H = in[0], j->W = in[1], j->KH = k[0], j->KW = k[1], j->OW = out[1];
	memcpy(j->s, s, sizeof j->s);
	memcpy(j->d, dil, sizeof j->d);
	memcpy(j->pb, pb, sizeof j->pb);
	j->xval = xv;
	j->nid = n->id;
	/* does any tap of any output fall outside? */
	for (int i = 0; i < 2; i++)
		j->pad = j->pad || pb[i] > 0 || (out[i] - 1) * s[i] - pb[i] + (k[i] - 1) * dil[i] >= in[i];
	/* the columns live on the stack: when tp of them would not fit (a
	 * 3x3 conv over 512 channels on the M4), one column, or two of NEON's
	 * four, still beat the generic loop (2.0 instructions a MAC on the M4
	 * against 3.2) */
	if (!job_setup(f, j)) {
		j->tp = j->simd ? 2 : 1;
		if (!cols_fit(f, j)) {
			rc = 1;
			goto done;
		}
	}
	rc = job_weights(f, j, n, j->R, 1);
	if (rc)
		goto done;
	j->x = be_ptr(f, xv);
	j->y = be_ptr(f, n->out[0]);
	j->ystr_m = j->P, j->ystr_p = 1;
	job_rows(f, j);
	if (chans4_ok(j))
		j->tp = 4;
	j->fill = fill_conv;
	make_cols(f, j);
	be_loop bl;
	LLVMValueRef nb = be_loop_begin(f, &bl, N);
	j->xbase = be_mul(f, nb, C * in[0] * in[1]);
	j->ybase = be_mul(f, nb, M * j->P);
	run_job(f, j);
	be_loop_end(f, &bl);
	end_cols(f, j);
	rc = 0;
done:
	free(j->sg);
	free(j->bh);
	be_iop_free(&j->o);
	return rc;
}

/* ------------------------------------- matmul of two activations (DSP) */

/* What mm_tile reads: a matmul's operands and its packed right side. */
typedef struct mm_act {
	be_iop o;
	int64_t M, K, N, K4;
	bool ua;                  /* A is u8 (UXTB16) */
	LLVMValueRef a, y, bt, cs; /* A and Y at this batch; packed B, column sums */
	int32_t za;
	bool rq;                  /* the requantization's SMMLAR form (be_rq_chan) */
	be_rqc q;
} mm_act;

/* Outputs (i0 + r, j0 + c) for r < nr, c < nc (1 or 2 each): per group
 * of four k, A's word of each row widened to (a0, a2) and (a1, a3) and
 * SMLAD with each column's two packed words; a last group past K from
 * single bytes (the row may end the buffer); then acc - za cs[j]
 * requantized. */
static void mm_tile(be_fn *f, const mm_act *m, LLVMValueRef i0, int nr, LLVMValueRef j0, int nc)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef acc[2][2], ar[2], bc[2];
	for (int r = 0; r < nr; r++) {
		ar[r] = be_mul(f, r ? be_add(f, i0, be_ci(f, 1)) : i0, m->K);
		for (int c = 0; c < nc; c++)
			acc[r][c] = be_entry_alloca(f, f->i32, "mm.acc");
	}
	for (int c = 0; c < nc; c++)
		bc[c] = be_mul(f, c ? be_add(f, j0, be_ci(f, 1)) : j0, m->K4 / 2);
	for (int r = 0; r < nr; r++)
		for (int c = 0; c < nc; c++)
			LLVMBuildStore(b, c32(f, 0), acc[r][c]);
	int64_t full = m->K / 4, tail = m->K % 4;
	for (int part = 0; part < 2; part++) {
		int64_t cnt = part ? (tail ? 1 : 0) : full;
		if (!cnt)
			continue;
		be_loop l;
		LLVMValueRef g = part ? be_ci(f, full) : be_loop_begin(f, &l, cnt);
		LLVMValueRef w[2][2];
		for (int r = 0; r < nr; r++) {
			LLVMValueRef x;
			if (!part) {
				LLVMValueRef p = LLVMBuildGEP2(b, LLVMInt8TypeInContext(f->ctx), m->a,
				                               (LLVMValueRef[]){be_add(f, ar[r], be_mul(f, g, 4))}, 1, "");
				x = LLVMBuildLoad2(b, f->i32, p, "");
				LLVMSetAlignment(x, 1);
			} else {
				x = c32(f, 0);
				for (int t = 0; t < tail; t++) {
					LLVMValueRef e = be_ld_t(f, LLVMInt8TypeInContext(f->ctx), m->a,
					                         be_add(f, ar[r], be_ci(f, full * 4 + t)));
					e = LLVMBuildZExt(b, e, f->i32, "");
					x = LLVMBuildOr(b, x, LLVMBuildShl(b, e, c32(f, 8 * t), ""), "");
				}
			}
			w[r][0] = xtb16(f, x, m->ua);
			w[r][1] = xtb16_ror8(f, x, m->ua);
		}
		for (int c = 0; c < nc; c++) {
			LLVMValueRef o = be_add(f, bc[c], be_mul(f, g, 2));
			LLVMValueRef b0 = be_ld_t(f, f->i32, m->bt, o), b1 = be_ld_t(f, f->i32, m->bt, be_add(f, o, be_ci(f, 1)));
			for (int r = 0; r < nr; r++) {
				LLVMValueRef t = be_smlad(f, w[r][0], b0, LLVMBuildLoad2(b, f->i32, acc[r][c], ""));
				LLVMBuildStore(b, be_smlad(f, w[r][1], b1, t), acc[r][c]);
			}
		}
		if (!part)
			be_loop_end(f, &l);
	}
	for (int r = 0; r < nr; r++)
		for (int c = 0; c < nc; c++) {
			LLVMValueRef j = c ? be_add(f, j0, be_ci(f, 1)) : j0;
			LLVMValueRef cs = be_ld_t(f, f->i32, m->cs, j);
			LLVMValueRef v = LLVMBuildSub(b, LLVMBuildLoad2(b, f->i32, acc[r][c], ""),
			                              LLVMBuildMul(b, cs, c32(f, m->za), ""), "");
			LLVMValueRef i = r ? be_add(f, i0, be_ci(f, 1)) : i0, out;
			if (m->rq) /* + zy, then the clamp: one SSAT/USAT */
				out = LLVMBuildTrunc(b, be_smin(f, be_smax(f, be_rq_apply(f, &m->q, v), c32(f, m->o.k.lo)),
				                                c32(f, m->o.k.hi)), be_dt_type(f, m->o.odt), "");
			else
				out = be_int_out(f, &m->o, v, j);
			be_st_t(f, be_dt_type(f, m->o.odt), m->y, be_add(f, be_mul(f, i, m->N), j), out);
		}
}

/* An integer matmul of two activations (i8/u8, per tensor, no bias) on
 * the Cortex-M DSP: per batch, B's columns packed on the stack as (b_k -
 * zb) halfword pairs in SXTB16's lane order ((k, k+2), (k+1, k+3); zeros
 * past K) with each column's sum, then tiles of 2 x 2 outputs (1 at the
 * odd edges) from A's rows in place: sum_k (a_k - za)(b_k - zb) = sum_k
 * a_k (b_k - zb) - za cs_j, in wrapping i32 as the interpreter.  Batch
 * dims equal on both sides, or B without them.  1 when it does not
 * apply, 0 done, -1 error. */
int be_dsp_matmul_act(be_fn *f, const ir_node *n)
{
	if (!f->dsp)
		return 1;
	const ir_value *av = n->in[0], *bv = n->in[1];
	be_mm_geom gm;
	mm_act m;
	memset(&m, 0, sizeof m);
	/* packed B and the sums on the stack, within the Cortex-M's cap */
	int rc = be_matmul_act_begin(f, n, &gm, &m.o);
	if (rc)
		return rc;
	int64_t M = gm.M, K = gm.K, N = gm.N, nbat = gm.nbat, bbat = gm.bbat;
	m.M = M, m.K = K, m.N = N, m.K4 = (K + 3) & ~(int64_t)3;
	if ((m.K4 * 2 + 4) * N > 16384) {
		be_iop_free(&m.o);
		return 1;
	}
	m.ua = av->dt == IR_DT_U8;
	m.za = m.o.k.zx;
	if ((m.rq = be_rq_bounded_ok(&m.o)))
		be_rq_chan(f, &m.q, false, c32(f, m.o.mult[0]), c32(f, m.o.shift[0]), c32(f, m.o.k.zy));
	int32_t zb = m.o.zw[0];
	LLVMBuilderRef b = f->b;
	LLVMValueRef a0 = be_ptr(f, av), b0 = be_ptr(f, bv), y0 = be_ptr(f, n->out[0]);
	m.bt = be_entry_alloca(f, LLVMArrayType(f->i32, (unsigned)(m.K4 / 2 * N)), "mm.bt");
	m.cs = be_entry_alloca(f, LLVMArrayType(f->i32, (unsigned)N), "mm.cs");
	LLVMValueRef csum = be_entry_alloca(f, f->i32, "mm.csum");
	LLVMTypeRef i8t = LLVMInt8TypeInContext(f->ctx);
	be_loop lb, lj, lg, li;
	LLVMValueRef bi = be_loop_begin(f, &lb, nbat);
	m.a = LLVMBuildGEP2(b, i8t, a0, (LLVMValueRef[]){be_mul(f, bi, M * K)}, 1, "");
	m.y = LLVMBuildGEP2(b, be_dt_type(f, m.o.odt), y0, (LLVMValueRef[]){be_mul(f, bi, M * N)}, 1, "");
	LLVMValueRef bb = bbat == 1 ? b0 : LLVMBuildGEP2(b, i8t, b0, (LLVMValueRef[]){be_mul(f, bi, K * N)}, 1, "");
	/* pack: column j, group g: words (b0 | b2 << 16), (b1 | b3 << 16) */
	{
		LLVMValueRef j = be_loop_begin(f, &lj, N);
		LLVMBuildStore(b, c32(f, 0), csum);
		LLVMValueRef g = be_loop_begin(f, &lg, m.K4 / 4);
		LLVMValueRef e[4];
		for (int t = 0; t < 4; t++) {
			LLVMValueRef k = be_add(f, be_mul(f, g, 4), be_ci(f, t));
			LLVMValueRef in = LLVMBuildICmp(b, LLVMIntSLT, k, be_ci(f, K), "");
			LLVMValueRef kc = LLVMBuildSelect(b, in, k, be_ci(f, 0), "");
			LLVMValueRef v = be_ld_i32(f, bv->dt, bb, be_add(f, be_mul(f, kc, N), j));
			e[t] = LLVMBuildSelect(b, in, LLVMBuildSub(b, v, c32(f, zb), ""), c32(f, 0), "");
			LLVMBuildStore(b, LLVMBuildAdd(b, LLVMBuildLoad2(b, f->i32, csum, ""), e[t], ""), csum);
		}
		LLVMValueRef lo16 = c32(f, 0xFFFF), s16 = c32(f, 16);
		LLVMValueRef w0 = LLVMBuildOr(b, LLVMBuildAnd(b, e[0], lo16, ""), LLVMBuildShl(b, e[2], s16, ""), "");
		LLVMValueRef w1 = LLVMBuildOr(b, LLVMBuildAnd(b, e[1], lo16, ""), LLVMBuildShl(b, e[3], s16, ""), "");
		LLVMValueRef o = be_add(f, be_mul(f, j, m.K4 / 2), be_mul(f, g, 2));
		be_st_t(f, f->i32, m.bt, o, w0);
		be_st_t(f, f->i32, m.bt, be_add(f, o, be_ci(f, 1)), w1);
		be_loop_end(f, &lg);
		be_st_t(f, f->i32, m.cs, j, LLVMBuildLoad2(b, f->i32, csum, ""));
		be_loop_end(f, &lj);
	}
	/* tiles: row pairs x column pairs, then the odd row and column */
	int64_t M2 = M / 2, N2 = N / 2;
	for (int rp = 0; rp < 2; rp++) {
		int64_t nrow = rp ? M % 2 : M2;
		if (!nrow)
			continue;
		LLVMValueRef i0 = rp ? be_ci(f, M - 1) : be_mul(f, be_loop_begin(f, &li, nrow), 2);
		int nr = rp ? 1 : 2;
		if (N2) {
			be_loop lc;
			LLVMValueRef j0 = be_mul(f, be_loop_begin(f, &lc, N2), 2);
			mm_tile(f, &m, i0, nr, j0, 2);
			be_loop_end(f, &lc);
		}
		if (N % 2)
			mm_tile(f, &m, i0, nr, be_ci(f, N - 1), 1);
		if (!rp)
			be_loop_end(f, &li);
	}
	be_loop_end(f, &lb);
	be_iop_free(&m.o);
	return 0;
}

int be_dsp_matmul(be_fn *f, const ir_node *n)
{
	if (!f->dsp && !f->isimd)
		return 1;
	const ir_value *av = n->in[0], *bv = n->in[1];
	const ir_shape *as = &av->shape, *bs = &bv->shape;
	if (as->rank < 2 || bs->rank != 2 || !dsp_dt(av->dt) || !dsp_dt(bv->dt) || bv->kind != IR_VAL_CONST ||
	    !bv->data)
		return 1;
	if (be_int_has_bias(n, 2) && (n->in[2]->kind != IR_VAL_CONST || !n->in[2]->data))
		return 1;
	int64_t K = bs->d[0], Nc = bs->d[1];
	dsp_job J, *j = &J;
	memset(j, 0, sizeof *j);
	int rc = -1;
	if (be_iop_init(f, n, &j->o))
		goto done;
	j->M = Nc;
	j->R = K;
	j->R4 = (K + 3) & ~(int64_t)3;
	j->P = ir_shape_numel(as) / K;
	j->xval = av;
	j->nid = n->id;
	if (!job_setup(f, j)) {
		/* the DSP reads x's rows in place, one column at a time (about
		 * 1.6 instructions a MAC against the columns' 1.4, and no stack) */
		if (j->simd || j->R < 8) {
			rc = 1;
			goto done;
		}
		j->direct = true;
		j->tp = 1;
	}
	rc = job_weights(f, j, n, 1, Nc);
	if (rc)
		goto done;
	j->x = be_ptr(f, av);
	j->y = be_ptr(f, n->out[0]);
	j->ystr_m = 1, j->ystr_p = Nc;
	job_rows(f, j);
	if (chans4_ok(j))
		j->tp = 4;
	j->xbase = be_ci(f, 0);
	j->ybase = be_ci(f, 0);
	j->fill = fill_rows;
	make_cols(f, j);
	run_job(f, j);
	end_cols(f, j);
	rc = 0;
done:
	free(j->sg);
	free(j->bh);
	be_iop_free(&j->o);
	return rc;
}
