/* l_qweight.c: quantized weights stay packed in flash and are decoded on
 * the fly where a kernel loads them.
 *
 * A constant with an ir_quant whose codes were bit-packed (passes/quant.h:
 * LSB first, each row of dim 0 on a byte boundary) is emitted as
 *   - the packed bytes (one i8 array, plus one zero byte so that a code
 *     straddling two bytes can always read both),
 *   - per-channel parameters: scales as e8 codes (i8 [nchan]) or e12
 *     codes (12 bits each, be_code12_array) when every one is such a
 *     value of one base (low-bit layers: pass_ecode_round), else
 *     as fp16 bit patterns (i16 [nchan]) when every scale is an fp16 normal
 *     number or 0 (the quantizer rounds them so by default:
 *     pass_f16_round), else f32 [nchan]; affine zero
 *     points packed like the codes (bits each, LSB first, one zero byte
 *     after) when they lie in [0, 2^bits), else i32 [nchan]; codebook
 *     levels f32 [nchan << bits],
 * and never as floats (passes/quant.h: pass_quant_scales_f16,
 * pass_quant_zp_packable).  An fp16 scale h is widened with integer
 * operations only (no FP16 hardware or library call):
 *   f32 bits = (h & 0x8000) << 16 | ((h & 0x7fff) + 0x1c000) << 13, 0 for h = 0;
 * a code k of mb mantissa bits likewise: f32 bits = (k << (23 - mb)) +
 * ((e0 + 127) << 23), 0 for k = 0 (be_ecode_widen).
 * be_wld/be_wld_rc return one weight as an f32
 * value computed from its code exactly as pass_dequantize does, so the
 * native result equals the interpreter's simulation (DQ(w), float
 * activations) up to the order of float additions:
 *   affine      scale[c] * (float)(code - zp[c])
 *   symmetric   scale[c] * (float)(code - 2^(b-1))
 *   ternary     select: code 3: +scale[c], 2: 0, else -scale[c]
 *   binary      select: code 1: +scale[c], 0: -scale[c]
 *   pow2        scale[c] * 2^-(m-1) built from exponent bits (exact), sign
 *               from the top bit; m = 0: 0
 *   codebook    levels[c << bits | code]
 * Binary and ternary weights are thus selects of +-alpha / 0: no integer
 * multiply, and the kernels multiply activations by the selected value.
 *
 * The globals are marked externally_initialized: the optimizer may not
 * constant-fold loads from them, so a fully unrolled loop cannot turn the
 * packed codes back into float immediates in .text. */
#include <stdlib.h>
#include <string.h>

#include "lower.h"
#include "quant.h"

typedef struct be_qw {
	bool init, ok;
	be_qw_view v;
	int64_t rows, rowlen, inner; /* geometry (see be_wld_rc) */
} be_qw;

static LLVMValueRef qglobal(be_fn *f, const ir_value *v, const char *suffix, LLVMValueRef init,
                            unsigned align)
{
	char gname[96];
	snprintf(gname, sizeof gname, "%s.q%d.%s", f->name, v->id, suffix);
	return be_opaque_const(f, gname, init, align);
}

static LLVMValueRef f32_array(be_fn *f, const float *d, int64_t n)
{
	LLVMValueRef *el = malloc(sizeof *el * (size_t)(n > 0 ? n : 1));
	if (!el)
		return NULL;
	for (int64_t i = 0; i < n; i++)
		el[i] = be_cf(f, d[i]);
	LLVMValueRef a = LLVMConstArray2(f->f32, el, (uint64_t)n);
	free(el);
	return a;
}

LLVMValueRef be_f16_array(be_fn *f, const float *d, int64_t n)
{
	LLVMTypeRef i16 = LLVMInt16TypeInContext(f->ctx);
	LLVMValueRef *el = malloc(sizeof *el * (size_t)(n > 0 ? n : 1));
	if (!el)
		return NULL;
	for (int64_t i = 0; i < n; i++) {
		uint32_t u;
		memcpy(&u, &d[i], sizeof u);
		uint32_t h = (u >> 16) & 0x8000u;
		if (d[i] != 0)
			h |= ((u & 0x7fffffffu) >> 13) - 0x1c000u;
		el[i] = LLVMConstInt(i16, h, 0);
	}
	LLVMValueRef a = LLVMConstArray2(i16, el, (uint64_t)n);
	free(el);
	return a;
}

/* The e8 codes of d (each 0 or e8 at base e0: pass_quant_scales_ecode). */
static LLVMValueRef e8_array(be_fn *f, const float *d, int64_t n, int e0)
{
	char *buf = calloc((size_t)(n > 0 ? n : 1), 1);
	if (!buf)
		return NULL;
	for (int64_t i = 0; i < n; i++)
		buf[i] = (char)pass_ecode(d[i], e0, PASS_E8_MB);
	LLVMValueRef a = LLVMConstStringInContext2(f->ctx, buf, (size_t)(n > 0 ? n : 1), 1);
	free(buf);
	return a;
}

/* A 12-bit field ends in the byte after its first (its bit offset is 0
 * or 4), so be_qw_code reads the last one without a padding byte. */
LLVMValueRef be_code12_array(be_fn *f, const float *d, int64_t n, int e0, int mb)
{
	size_t nb = ((size_t)(n > 0 ? n : 1) * 12 + 7) / 8;
	unsigned char *buf = calloc(nb, 1);
	if (!buf)
		return NULL;
	for (int64_t i = 0; i < n; i++) {
		unsigned k = pass_ecode(d[i], e0, mb) & 0xfffu;
		size_t pos = (size_t)i * 12;
		buf[pos / 8] |= (unsigned char)(k << (pos % 8));
		buf[pos / 8 + 1] |= (unsigned char)(k >> (8 - pos % 8));
	}
	LLVMValueRef a = LLVMConstStringInContext2(f->ctx, (const char *)buf, nb, 1);
	free(buf);
	return a;
}

/* Affine zero points packed at q->bits each, LSB first, plus a zero byte. */
static LLVMValueRef zp_packed(be_fn *f, const ir_quant *q)
{
	size_t nb = ((size_t)q->nchan * (size_t)q->bits + 7) / 8 + 1;
	char *buf = calloc(nb, 1);
	if (!buf)
		return NULL;
	for (int c = 0; c < q->nchan; c++) {
		size_t pos = (size_t)c * (size_t)q->bits;
		unsigned z = (unsigned)q->zero_point[c];
		buf[pos / 8] = (char)(buf[pos / 8] | (z << (pos % 8)));
		if (pos % 8 + (size_t)q->bits > 8)
			buf[pos / 8 + 1] = (char)(buf[pos / 8 + 1] | (z >> (8 - pos % 8)));
	}
	LLVMValueRef a = LLVMConstStringInContext2(f->ctx, buf, nb, 1);
	free(buf);
	return a;
}

/* Geometry and globals of v, made on first use.  NULL: v is not decoded
 * here (no quant, not packed, or a layout this file does not know). */
static be_qw *qw_of(be_fn *f, const ir_value *v)
{
	const ir_quant *q = v->quant;
	if (!q || !q->packed || v->kind != IR_VAL_CONST || v->dt != IR_DT_F32 || !f->qw)
		return NULL;
	be_qw *w = &((be_qw *)f->qw)[v->id];
	if (w->init)
		return w->ok ? w : NULL;
	w->init = true;
	const ir_shape *s = &v->shape;
	int64_t n = ir_shape_numel(s);
	if (n <= 0 || q->bits < 1 || q->bits > 8 || q->nchan < 1)
		return NULL;
	w->rows = s->rank >= 2 ? s->d[0] : 1;
	w->rowlen = n / w->rows;
	w->v.bits = q->bits;
	w->v.rowbytes = (w->rowlen * q->bits + 7) / 8;
	if ((size_t)(w->rows * w->v.rowbytes) != q->packed_bytes ||
	    pass_bitpack_size(s, q->bits) != q->packed_bytes)
		return NULL;
	w->inner = 1;
	if (q->axis >= 0) {
		if (q->axis >= s->rank || s->d[q->axis] != q->nchan)
			return NULL;
		for (int i = q->axis + 1; i < s->rank; i++)
			w->inner *= s->d[i];
	} else if (q->nchan != 1) {
		return NULL;
	}
	switch (q->scheme) {
	case IR_QS_AFFINE:
		if (!q->scale || !q->zero_point)
			return NULL;
		break;
	case IR_QS_SYMMETRIC:
	case IR_QS_TERNARY:
	case IR_QS_BINARY:
	case IR_QS_POW2:
		if (!q->scale)
			return NULL;
		break;
	case IR_QS_CODEBOOK:
		if (!q->levels)
			return NULL;
		break;
	default:
		return NULL;
	}
	/* The packed codes, plus a zero byte for straddling reads. */
	size_t nb = q->packed_bytes + 1;
	char *buf = calloc(nb, 1);
	if (!buf)
		return NULL;
	memcpy(buf, q->packed, q->packed_bytes);
	w->v.packed = qglobal(f, v, "p", LLVMConstStringInContext2(f->ctx, buf, nb, 1), 1);
	free(buf);
	if (q->scheme == IR_QS_CODEBOOK) {
		LLVMValueRef a = f32_array(f, q->levels, (int64_t)q->nchan << q->bits);
		if (!a)
			return NULL;
		w->v.levels = qglobal(f, v, "l", a, 4);
	} else {
		int e0 = 0;
		bool e8 = pass_quant_scales_ecode(q, PASS_E8_MB, &e0);
		bool e12 = !e8 && pass_quant_scales_ecode(q, PASS_E12_MB, &e0);
		bool h = !e8 && !e12 && pass_quant_scales_f16(q);
		w->v.scale_mode = e8 ? BE_SC_E8 : e12 ? BE_SC_E12 : h ? BE_SC_F16 : BE_SC_F32;
		LLVMValueRef a = e8    ? e8_array(f, q->scale, q->nchan, e0)
		                 : e12 ? be_code12_array(f, q->scale, q->nchan, e0, PASS_E12_MB)
		                 : h   ? be_f16_array(f, q->scale, q->nchan)
		                       : f32_array(f, q->scale, q->nchan);
		if (!a)
			return NULL;
		w->v.scale = qglobal(f, v, "s", a, e8 || e12 ? 1 : h ? 2 : 4);
		w->v.ebits = LLVMConstInt(f->i32, (unsigned long long)(uint32_t)(e0 + 127) << 23, 0);
	}
	if (q->scheme == IR_QS_AFFINE) {
		bool fit = pass_quant_zp_packable(q);
		w->v.zp_mode = fit ? BE_ZP_PACKED : BE_ZP_I32;
		LLVMValueRef a = fit ? zp_packed(f, q) : NULL;
		if (!fit) {
			LLVMValueRef *el = malloc(sizeof *el * (size_t)q->nchan);
			if (!el)
				return NULL;
			for (int c = 0; c < q->nchan; c++)
				el[c] = LLVMConstInt(f->i32, (unsigned long long)(uint32_t)q->zero_point[c], 0);
			a = LLVMConstArray2(f->i32, el, (uint64_t)q->nchan);
			free(el);
		}
		if (!a)
			return NULL;
		w->v.zp = qglobal(f, v, "z", a, fit ? 1 : 4);
	}
	w->ok = true;
	return w;
}

bool be_qw_view_of(be_fn *f, const ir_value *v, be_qw_view *out)
{
	be_qw *w = qw_of(f, v);
	if (!w)
		return false;
	*out = w->v;
	return true;
}

bool be_qw_packed(be_fn *f, const ir_value *v)
{
	return qw_of(f, v) != NULL;
}

static LLVMValueRef to_i32(be_fn *f, LLVMValueRef x)
{
	if (LLVMTypeOf(x) == f->i32)
		return x;
	return LLVMBuildTrunc(f->b, x, f->i32, "");
}

static LLVMValueRef ld_byte(be_fn *f, LLVMValueRef p, LLVMValueRef idx)
{
	LLVMValueRef a = LLVMBuildInBoundsGEP2(f->b, f->i8, p, &idx, 1, "");
	LLVMValueRef l = LLVMBuildLoad2(f->b, f->i8, a, "");
	LLVMSetAlignment(l, 1);
	return LLVMBuildZExt(f->b, l, f->i32, "");
}

static LLVMValueRef ld_typed(be_fn *f, LLVMTypeRef ty, LLVMValueRef p, LLVMValueRef idx, unsigned al)
{
	LLVMValueRef a = LLVMBuildInBoundsGEP2(f->b, ty, p, &idx, 1, "");
	LLVMValueRef l = LLVMBuildLoad2(f->b, ty, a, "");
	LLVMSetAlignment(l, al);
	return l;
}

LLVMValueRef be_qw_code(be_fn *f, LLVMValueRef p, LLVMValueRef base, LLVMValueRef idx, LLVMValueRef bits)
{
	LLVMBuilderRef b = f->b;
	int cb = LLVMIsAConstantInt(bits) ? (int)LLVMConstIntGetSExtValue(bits) : 0;
	if (cb == 8)
		return ld_byte(f, p, be_add(f, base, idx));
	LLVMValueRef bitpos = LLVMBuildNUWMul(b, idx, bits, "");
	LLVMValueRef byte = be_add(f, base, LLVMBuildLShr(b, bitpos, be_ci(f, 3), ""));
	LLVMValueRef sh = to_i32(f, LLVMBuildAnd(b, bitpos, be_ci(f, 7), ""));
	LLVMValueRef raw = ld_byte(f, p, byte);
	if (cb == 0 || 8 % cb != 0) {
		LLVMValueRef hi = ld_byte(f, p, be_add(f, byte, be_ci(f, 1)));
		raw = LLVMBuildOr(b, raw, LLVMBuildShl(b, hi, LLVMConstInt(f->i32, 8, 0), ""), "");
	}
	LLVMValueRef mask = cb ? LLVMConstInt(f->i32, (1u << cb) - 1, 0)
	                       : LLVMBuildSub(b, LLVMBuildShl(b, LLVMConstInt(f->i32, 1, 0), to_i32(f, bits), ""),
	                                      LLVMConstInt(f->i32, 1, 0), "");
	return LLVMBuildAnd(b, LLVMBuildLShr(b, raw, sh, ""), mask, "");
}

LLVMValueRef be_f16_widen(be_fn *f, LLVMValueRef h)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef mag = LLVMBuildAnd(b, h, LLVMConstInt(f->i32, 0x7fff, 0), "");
	LLVMValueRef sign = LLVMBuildShl(b, LLVMBuildAnd(b, h, LLVMConstInt(f->i32, 0x8000, 0), ""),
	                                 LLVMConstInt(f->i32, 16, 0), "");
	LLVMValueRef e = LLVMBuildShl(b, LLVMBuildAdd(b, mag, LLVMConstInt(f->i32, 0x1c000, 0), ""),
	                              LLVMConstInt(f->i32, 13, 0), "");
	LLVMValueRef r = LLVMBuildBitCast(b, LLVMBuildOr(b, sign, e, ""), f->f32, "");
	return LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntEQ, mag, LLVMConstInt(f->i32, 0, 0), ""),
	                       be_cf(f, 0), r, "");
}

LLVMValueRef be_ecode_widen(be_fn *f, LLVMValueRef k, LLVMValueRef base, int mb, bool sign)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef mag = sign ? LLVMBuildAnd(b, k, LLVMConstInt(f->i32, (1u << (mb + 4)) - 1, 0), "") : k;
	LLVMValueRef u = LLVMBuildAdd(b, LLVMBuildShl(b, mag, LLVMConstInt(f->i32, (unsigned)(23 - mb), 0), ""), base, "");
	if (sign) /* bit mb + 4 to bit 31 */
		u = LLVMBuildOr(b, u, LLVMBuildShl(b, LLVMBuildLShr(b, k, LLVMConstInt(f->i32, (unsigned)(mb + 4), 0), ""),
		                                   LLVMConstInt(f->i32, 31, 0), ""), "");
	return LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntEQ, mag, LLVMConstInt(f->i32, 0, 0), ""), be_cf(f, 0),
	                       LLVMBuildBitCast(b, u, f->f32, ""), "");
}

LLVMValueRef be_code12_ld(be_fn *f, LLVMValueRef p, LLVMValueRef idx, LLVMValueRef base, int mb, bool sign)
{
	return be_ecode_widen(f, be_qw_code(f, p, be_ci(f, 0), idx, be_ci(f, 12)), base, mb, sign);
}

LLVMValueRef be_f16_ld(be_fn *f, LLVMValueRef p, LLVMValueRef idx)
{
	LLVMTypeRef i16 = LLVMInt16TypeInContext(f->ctx);
	return be_f16_widen(f, LLVMBuildZExt(f->b, ld_typed(f, i16, p, idx, 2), f->i32, ""));
}

LLVMValueRef be_qw_scale(be_fn *f, const be_qw_view *v, LLVMValueRef c)
{
	if (v->scale_mode == BE_SC_E8)
		return be_ecode_widen(f, LLVMBuildZExt(f->b, ld_typed(f, f->i8, v->scale, c, 1), f->i32, ""), v->ebits,
		                      PASS_E8_MB, false);
	if (v->scale_mode == BE_SC_E12)
		return be_code12_ld(f, v->scale, c, v->ebits, PASS_E12_MB, false);
	if (v->scale_mode == BE_SC_F32)
		return ld_typed(f, f->f32, v->scale, c, 4);
	return be_f16_ld(f, v->scale, c);
}

LLVMValueRef be_qw_zp(be_fn *f, const be_qw_view *v, LLVMValueRef c)
{
	if (v->zp_mode == BE_ZP_PACKED)
		return be_qw_code(f, v->zp, be_ci(f, 0), c, be_ci(f, v->bits));
	return ld_typed(f, f->i32, v->zp, c, 4);
}

/* Weight (row, col) of v: row along dim 0 (0 for rank < 2), col the
 * element within that row (numel / d0 per row). */
LLVMValueRef be_wld_rc(be_fn *f, const ir_value *v, LLVMValueRef row, LLVMValueRef col)
{
	be_qw *w = qw_of(f, v);
	if (!w) {
		int64_t rowlen = v->shape.rank >= 2 ? ir_shape_numel(&v->shape) / v->shape.d[0]
		                                      : ir_shape_numel(&v->shape);
		return be_ld(f, be_ptr(f, v), be_add(f, be_mul(f, row, rowlen), col));
	}
	const ir_quant *q = v->quant;
	LLVMBuilderRef b = f->b;
	int bits = q->bits;
	LLVMValueRef code = be_qw_code(f, w->v.packed, be_mul(f, row, w->v.rowbytes), col, be_ci(f, bits));
	/* The channel. */
	LLVMValueRef c;
	if (q->axis < 0 || q->nchan == 1) {
		c = be_ci(f, 0);
	} else if (q->axis == 0 && v->shape.rank >= 2) {
		c = row;
	} else {
		c = col;
		if (w->inner != 1)
			c = LLVMBuildUDiv(b, c, be_ci(f, w->inner), "");
		if (w->inner * q->nchan != w->rowlen)
			c = LLVMBuildURem(b, c, be_ci(f, q->nchan), "");
	}
	int half = 1 << (bits - 1);
	LLVMValueRef i32c;
	if (q->scheme == IR_QS_CODEBOOK) {
		LLVMValueRef ci = f->ity == f->i32 ? code : LLVMBuildZExt(b, code, f->ity, "");
		LLVMValueRef li = LLVMBuildOr(b, LLVMBuildShl(b, c, be_ci(f, bits), ""), ci, "");
		return ld_typed(f, f->f32, w->v.levels, li, 4);
	}
	LLVMValueRef s = be_qw_scale(f, &w->v, c);
	switch (q->scheme) {
	case IR_QS_AFFINE: {
		LLVMValueRef z = be_qw_zp(f, &w->v, c);
		i32c = LLVMBuildSub(b, code, z, "");
		return LLVMBuildFMul(b, s, LLVMBuildSIToFP(b, i32c, f->f32, ""), "");
	}
	case IR_QS_SYMMETRIC:
		i32c = LLVMBuildSub(b, code, LLVMConstInt(f->i32, (unsigned long long)half, 0), "");
		return LLVMBuildFMul(b, s, LLVMBuildSIToFP(b, i32c, f->f32, ""), "");
	case IR_QS_BINARY:
		return LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntNE, code, LLVMConstInt(f->i32, 0, 0), ""),
		                       s, LLVMBuildFNeg(b, s, ""), "");
	case IR_QS_TERNARY: {
		LLVMValueRef neg = LLVMBuildFNeg(b, s, "");
		LLVMValueRef z = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntEQ, code, LLVMConstInt(f->i32, 2, 0), ""),
		                                 be_cf(f, 0), neg, "");
		return LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntEQ, code, LLVMConstInt(f->i32, 3, 0), ""),
		                       s, z, "");
	}
	case IR_QS_POW2: {
		/* m = code & (half-1); 2^-(m-1) has exponent field 127 - (m - 1). */
		LLVMValueRef m = LLVMBuildAnd(b, code, LLVMConstInt(f->i32, (unsigned long long)(half - 1), 0), "");
		LLVMValueRef ex = LLVMBuildSub(b, LLVMConstInt(f->i32, 128, 0), m, "");
		LLVMValueRef p2 = LLVMBuildBitCast(b, LLVMBuildShl(b, ex, LLVMConstInt(f->i32, 23, 0), ""), f->f32, "");
		LLVMValueRef r = LLVMBuildFMul(b, s, p2, "");
		r = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntEQ, m, LLVMConstInt(f->i32, 0, 0), ""), be_cf(f, 0), r, "");
		LLVMValueRef neg = LLVMBuildICmp(b, LLVMIntNE,
		                                 LLVMBuildAnd(b, code, LLVMConstInt(f->i32, (unsigned long long)half, 0), ""),
		                                 LLVMConstInt(f->i32, 0, 0), "");
		return LLVMBuildSelect(b, neg, LLVMBuildFNeg(b, r, ""), r, "");
	}
	default:
		return be_cf(f, 0); /* unreachable: qw_of refused it */
	}
}

/* Row `row` of v decoded into f32 dst[0 .. rowlen), the values be_wld_rc
 * gives: for affine and symmetric codes of 1, 2, 4 or 8 bits whose
 * channel is the row (or one per tensor), a loop over the row's whole
 * bytes with each byte's 8 / bits codes unrolled (one byte load, constant
 * shifts, the channel's scale and zero point loaded once), which the loop
 * vectorizer widens (interleaved stores), then the last byte's codes one
 * at a time.  False (nothing emitted) for other encodings; dst NULL
 * only asks. */
bool be_wld_row(be_fn *f, const ir_value *v, LLVMValueRef row, LLVMValueRef dst, int64_t rowlen)
{
	be_qw *w = qw_of(f, v);
	const ir_quant *q = v->quant;
	if (!w || (q->scheme != IR_QS_AFFINE && q->scheme != IR_QS_SYMMETRIC) || 8 % q->bits != 0 ||
	    w->rowlen != rowlen || !(q->axis < 0 || q->nchan == 1 || (q->axis == 0 && v->shape.rank >= 2)))
		return false;
	if (!dst)
		return true; /* only asked */
	LLVMBuilderRef b = f->b;
	int bits = q->bits, per = 8 / bits;
	LLVMValueRef c = q->axis < 0 || q->nchan == 1 ? be_ci(f, 0) : row;
	LLVMValueRef s = be_qw_scale(f, &w->v, c);
	LLVMValueRef z = q->scheme == IR_QS_AFFINE ? be_qw_zp(f, &w->v, c)
	                                           : LLVMConstInt(f->i32, 1ull << (bits - 1), 0);
	LLVMValueRef base = be_mul(f, row, w->v.rowbytes);
	LLVMValueRef mask = LLVMConstInt(f->i32, (1ull << bits) - 1, 0);
	int64_t nb = rowlen / per;
	if (nb > 0) {
		be_loop l;
		LLVMValueRef i = be_loop_begin(f, &l, nb);
		LLVMValueRef byte = ld_byte(f, w->v.packed, be_add(f, base, i));
		for (int k = 0; k < per; k++) {
			LLVMValueRef code = k ? LLVMBuildLShr(b, byte, LLVMConstInt(f->i32, (unsigned long long)(k * bits), 0), "")
			                      : byte;
			if (bits < 8)
				code = LLVMBuildAnd(b, code, mask, "");
			LLVMValueRef val = LLVMBuildFMul(b, s, LLVMBuildSIToFP(b, LLVMBuildSub(b, code, z, ""), f->f32, ""), "wrow");
			be_st(f, dst, be_add(f, be_mul(f, i, per), be_ci(f, k)), val);
		}
		be_loop_end(f, &l);
	}
	for (int64_t j = nb * per; j < rowlen; j++)
		be_st(f, dst, be_ci(f, j), be_wld_rc(f, v, row, be_ci(f, j)));
	return true;
}

LLVMValueRef be_wld(be_fn *f, const ir_value *v, LLVMValueRef idx)
{
	if (!qw_of(f, v))
		return be_ld(f, be_ptr(f, v), idx);
	be_qw *w = qw_of(f, v);
	if (w->rows == 1)
		return be_wld_rc(f, v, be_ci(f, 0), idx);
	LLVMValueRef row, col;
	if (LLVMIsAConstantInt(idx)) {
		int64_t i = LLVMConstIntGetSExtValue(idx);
		row = be_ci(f, i / w->rowlen);
		col = be_ci(f, i % w->rowlen);
	} else {
		row = LLVMBuildUDiv(f->b, idx, be_ci(f, w->rowlen), "");
		col = LLVMBuildURem(f->b, idx, be_ci(f, w->rowlen), "");
	}
	return be_wld_rc(f, v, row, col);
}

void *be_qw_alloc(int nvalues)
{
	return calloc((size_t)nvalues + 1, sizeof(be_qw));
}
