/* l_qweight.c: quantized weights stay packed in flash and are decoded on
 * the fly where a kernel loads them.
 *
 * A constant with an ir_quant whose codes were bit-packed (passes/quant.h:
 * LSB first, each row of dim 0 on a byte boundary) is emitted as
 *   - the packed bytes (one i8 array, plus one zero byte so that a code
 *     straddling two bytes can always read both),
 *   - per-channel parameters: scale f32 [nchan]; affine zero points as u8
 *     when they fit, else i32; codebook levels f32 [nchan << bits],
 * and never as floats.  be_wld/be_wld_rc return one weight as an f32
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
	LLVMValueRef packed, scale, zp, levels;
	bool zp8;
	int64_t rows, rowlen, rowbytes, inner; /* geometry (see be_wld_rc) */
} be_qw;

static LLVMValueRef qglobal(be_fn *f, const ir_value *v, const char *suffix, LLVMValueRef init,
                            unsigned align)
{
	char gname[96];
	snprintf(gname, sizeof gname, "%s.q%d.%s", f->name, v->id, suffix);
	LLVMValueRef g = LLVMAddGlobal(f->mod, LLVMTypeOf(init), gname);
	LLVMSetInitializer(g, init);
	LLVMSetGlobalConstant(g, 1);
	LLVMSetExternallyInitialized(g, 1);
	LLVMSetLinkage(g, LLVMPrivateLinkage);
	LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
	LLVMSetAlignment(g, align);
	return g;
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
	w->rowbytes = (w->rowlen * q->bits + 7) / 8;
	if ((size_t)(w->rows * w->rowbytes) != q->packed_bytes ||
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
	w->packed = qglobal(f, v, "p", LLVMConstStringInContext2(f->ctx, buf, nb, 1), 1);
	free(buf);
	if (q->scheme == IR_QS_CODEBOOK) {
		LLVMValueRef a = f32_array(f, q->levels, (int64_t)q->nchan << q->bits);
		if (!a)
			return NULL;
		w->levels = qglobal(f, v, "l", a, 4);
	} else {
		LLVMValueRef a = f32_array(f, q->scale, q->nchan);
		if (!a)
			return NULL;
		w->scale = qglobal(f, v, "s", a, 4);
	}
	if (q->scheme == IR_QS_AFFINE) {
		w->zp8 = true;
		for (int c = 0; c < q->nchan; c++)
			w->zp8 = w->zp8 && q->zero_point[c] >= 0 && q->zero_point[c] <= 255;
		LLVMValueRef *el = malloc(sizeof *el * (size_t)q->nchan);
		if (!el)
			return NULL;
		LLVMTypeRef et = w->zp8 ? f->i8 : f->i32;
		for (int c = 0; c < q->nchan; c++)
			el[c] = LLVMConstInt(et, (unsigned long long)(uint32_t)q->zero_point[c], 0);
		w->zp = qglobal(f, v, "z", LLVMConstArray2(et, el, (uint64_t)q->nchan), w->zp8 ? 1 : 4);
		free(el);
	}
	w->ok = true;
	return w;
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
	/* The code. */
	LLVMValueRef bitpos = be_mul(f, col, bits);
	LLVMValueRef byte = be_add(f, be_mul(f, row, w->rowbytes),
	                           bits == 8 ? col : LLVMBuildLShr(b, bitpos, be_ci(f, 3), ""));
	LLVMValueRef code;
	if (bits == 8) {
		code = ld_byte(f, w->packed, byte);
	} else {
		LLVMValueRef sh = to_i32(f, LLVMBuildAnd(b, bitpos, be_ci(f, 7), ""));
		LLVMValueRef raw = ld_byte(f, w->packed, byte);
		if (8 % bits != 0) {
			LLVMValueRef hi = ld_byte(f, w->packed, be_add(f, byte, be_ci(f, 1)));
			raw = LLVMBuildOr(b, raw, LLVMBuildShl(b, hi, LLVMConstInt(f->i32, 8, 0), ""), "");
		}
		code = LLVMBuildAnd(b, LLVMBuildLShr(b, raw, sh, ""),
		                    LLVMConstInt(f->i32, (1u << bits) - 1, 0), "");
	}
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
		return ld_typed(f, f->f32, w->levels, li, 4);
	}
	LLVMValueRef s = ld_typed(f, f->f32, w->scale, c, 4);
	switch (q->scheme) {
	case IR_QS_AFFINE: {
		LLVMValueRef z = w->zp8 ? ld_byte(f, w->zp, c) : ld_typed(f, f->i32, w->zp, c, 4);
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
