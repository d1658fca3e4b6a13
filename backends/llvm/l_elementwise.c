/* l_elementwise.c: activations, batchnorm, prelu, broadcast arithmetic and
 * views; each mirrors the reference in ir/k_elementwise.c operation for
 * operation, so results agree bit for bit where libm does (exp and tanh
 * on SIMD targets are inline, within 4 ulp of libm: inline_math and
 * tests/backend/math_check.py). */
#include <math.h>
#include <string.h>

#include "lower.h"

static LLVMValueRef clamp01(be_fn *f, LLVMValueRef v)
{
	LLVMValueRef zero = be_cf(f, 0), one = be_cf(f, 1);
	v = be_sel_lt(f, v, zero, zero, v);
	return be_sel_lt(f, one, v, one, v);
}

/* x > 0: x + log(1 + exp(-x)); else log(1 + exp(x)) (as softplus_f). */
static LLVMValueRef softplus(be_fn *f, LLVMValueRef v)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef pos = LLVMBuildFCmp(b, LLVMRealOGT, v, be_cf(f, 0), "");
	LLVMValueRef e = be_call(f, BE_LIBM_EXPF, LLVMBuildSelect(b, pos, LLVMBuildFNeg(b, v, ""), v, ""));
	LLVMValueRef lg = be_call(f, BE_LIBM_LOGF, LLVMBuildFAdd(b, be_cf(f, 1), e, ""));
	return LLVMBuildSelect(b, pos, LLVMBuildFAdd(b, v, lg, ""), lg, "");
}

static LLVMValueRef fabs_of(be_fn *f, LLVMValueRef v)
{
	return be_intr(f, "llvm.fabs", &f->f32, 1, &v, 1);
}

/* Inline expf and tanhf for SIMD targets (vl > 1) at speed: branch-free
 * code on scalars, which LLVM's loop vectorizer widens, where a libm call
 * per element stays scalar (LeNet-5's 6,500 tanh took 60 us of 75).
 * Cephes' single-precision algorithms: relative error about 2e-7 against
 * libm's correctly rounded-ish results, far inside the float path's
 * tolerance.  Microcontrollers (vl 1) and -Os/-Oz keep the libm calls:
 * smaller, and nothing to vectorise. */
static bool inline_math(const be_fn *f)
{
	return f->vl > 1 && f->code != BE_CODE_SIZE && f->code != BE_CODE_MIN;
}

/* p0 + r (p1 + r (p2 + ...)): coefficients from the highest degree. */
static LLVMValueRef horner(be_fn *f, LLVMValueRef r, const float *c, int n)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef p = be_cf(f, c[0]);
	for (int i = 1; i < n; i++)
		p = LLVMBuildFAdd(b, LLVMBuildFMul(b, p, r, ""), be_cf(f, c[i]), "");
	return p;
}

/* exp(x): k = round(x log2 e) by the 1.5 * 2^23 trick (defined for NaN,
 * unlike fptosi), r = x - k ln 2 in two parts, a degree-7 polynomial,
 * then 2^k as two exponent-field scales (k reaches 128 at the top).
 * Above ln(FLT_MAX) +inf; below -87.34 (results under FLT_MIN) 0. */
static LLVMValueRef exp_inline(be_fn *f, LLVMValueRef x)
{
	static const float pc[] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
	                           4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};
	LLVMBuilderRef b = f->b;
	const float lo = -87.336544f, hi = 88.722839f;
	LLVMValueRef v = be_sel_lt(f, x, be_cf(f, lo), be_cf(f, lo), x);
	v = be_sel_lt(f, be_cf(f, hi), v, be_cf(f, hi), v);
	LLVMValueRef magic = be_cf(f, 12582912.0f);
	LLVMValueRef y = LLVMBuildFAdd(b, LLVMBuildFMul(b, v, be_cf(f, 1.44269504088896341f), ""), magic, "");
	LLVMValueRef kf = LLVMBuildFSub(b, y, magic, "");
	LLVMValueRef k = LLVMBuildSub(b, LLVMBuildBitCast(b, y, f->i32, ""), LLVMConstInt(f->i32, 0x4B400000, 0), "");
	LLVMValueRef r = LLVMBuildFSub(b, v, LLVMBuildFMul(b, kf, be_cf(f, 0.693359375f), ""), "");
	r = LLVMBuildFAdd(b, r, LLVMBuildFMul(b, kf, be_cf(f, 2.12194440e-4f), ""), "");
	LLVMValueRef p = horner(f, r, pc, 6);
	p = LLVMBuildFAdd(b, LLVMBuildFAdd(b, LLVMBuildFMul(b, p, LLVMBuildFMul(b, r, r, ""), ""), r, ""), be_cf(f, 1), "");
	LLVMValueRef k1 = LLVMBuildAShr(b, k, LLVMConstInt(f->i32, 1, 0), ""), k2 = LLVMBuildSub(b, k, k1, "");
	LLVMValueRef bias = LLVMConstInt(f->i32, 127, 0), sh = LLVMConstInt(f->i32, 23, 0);
	LLVMValueRef s1 = LLVMBuildBitCast(b, LLVMBuildShl(b, LLVMBuildAdd(b, k1, bias, ""), sh, ""), f->f32, "");
	LLVMValueRef s2 = LLVMBuildBitCast(b, LLVMBuildShl(b, LLVMBuildAdd(b, k2, bias, ""), sh, ""), f->f32, "");
	p = LLVMBuildFMul(b, LLVMBuildFMul(b, p, s1, ""), s2, "");
	p = be_sel_lt(f, be_cf(f, hi), x, be_cf(f, INFINITY), p);
	return be_sel_lt(f, x, be_cf(f, lo), be_cf(f, 0), p);
}

/* tanh(x): below 0.625 in magnitude x + x^3 P(x^2); above, 1 - 2 / (exp(2
 * |x|) + 1) with |x| capped at 10 (tanh rounds to 1 from 9.02), x's sign. */
static LLVMValueRef tanh_inline(be_fn *f, LLVMValueRef x)
{
	static const float tc[] = {-5.70498872745e-3f, 2.06390887954e-2f, -5.37397155531e-2f, 1.33314422036e-1f,
	                           -3.33332819422e-1f};
	LLVMBuilderRef b = f->b;
	LLVMValueRef a = fabs_of(f, x), z = LLVMBuildFMul(b, x, x, "");
	LLVMValueRef sm = LLVMBuildFAdd(b, LLVMBuildFMul(b, LLVMBuildFMul(b, horner(f, z, tc, 5), z, ""), x, ""), x, "");
	LLVMValueRef ac = be_sel_lt(f, be_cf(f, 10), a, be_cf(f, 10), a);
	LLVMValueRef e = exp_inline(f, LLVMBuildFAdd(b, ac, ac, ""));
	LLVMValueRef big = LLVMBuildFSub(b, be_cf(f, 1), LLVMBuildFDiv(b, be_cf(f, 2), LLVMBuildFAdd(b, e, be_cf(f, 1), ""), ""), "");
	LLVMValueRef args[2] = {big, x};
	LLVMTypeRef tys[1] = {f->f32};
	big = be_intr(f, "llvm.copysign", tys, 1, args, 2);
	return be_sel_lt(f, a, be_cf(f, 0.625f), sm, big);
}

static LLVMValueRef exp_of(be_fn *f, LLVMValueRef x)
{
	return inline_math(f) ? exp_inline(f, x) : be_call(f, BE_LIBM_EXPF, x);
}

static LLVMValueRef tanh_of(be_fn *f, LLVMValueRef x)
{
	return inline_math(f) ? tanh_inline(f, x) : be_call(f, BE_LIBM_TANHF, x);
}

/* floor, ceil and round-half-to-even without libm or a rounding
 * instruction (Cortex-M4 and baseline x86-64 have none), exactly as
 * floorf, ceilf and ONNX Round: below 2^23 in magnitude through an
 * integer (floor, ceil) or by adding and taking off 2^23 (the FPU rounds
 * halves to even); the result takes x's sign, so -0.5 gives -0; larger
 * magnitudes, infinities and NaN are already integral and stay. */
static LLVMValueRef integral(be_fn *f, ir_op op, LLVMValueRef v)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef big = be_cf(f, 8388608.0f), ax = fabs_of(f, v), r;
	if (op == IR_OP_ROUND) {
		r = LLVMBuildFSub(b, LLVMBuildFAdd(b, ax, big, ""), big, "");
	} else {
		LLVMValueRef t = LLVMBuildSIToFP(b, LLVMBuildFPToSI(b, v, f->i32, ""), f->f32, "");
		r = op == IR_OP_FLOOR ? be_sel_lt(f, v, t, LLVMBuildFSub(b, t, be_cf(f, 1), ""), t)
		                      : be_sel_lt(f, t, v, LLVMBuildFAdd(b, t, be_cf(f, 1), ""), t);
	}
	LLVMValueRef args[2] = {r, v};
	LLVMTypeRef tys[1] = {f->f32};
	r = be_intr(f, "llvm.copysign", tys, 1, args, 2);
	return LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLT, ax, big, ""), r, v, "");
}

unsigned be_libm_needs(const ir_node *n)
{
	enum { EXP = 1u << BE_LIBM_EXPF, LOG = 1u << BE_LIBM_LOGF, TANH = 1u << BE_LIBM_TANHF,
	       ERF = 1u << BE_LIBM_ERFF };
	if (ir_node_attr(n, "lut"))
		return 0; /* an integer table needs no libm */
	switch (n->op) {
	case IR_OP_SIGMOID:
	case IR_OP_SOFTMAX:
	case IR_OP_ELU:
	case IR_OP_EXP:
	case IR_OP_SELU:
	case IR_OP_CELU: return EXP;
	case IR_OP_LOG_SOFTMAX:
	case IR_OP_SOFTPLUS:
	case IR_OP_REDUCE_LOG_SUM_EXP: return EXP | LOG;
	case IR_OP_LOG: return LOG;
	case IR_OP_TANH: return TANH;
	case IR_OP_MISH: return EXP | LOG | TANH;
	case IR_OP_ERF: return ERF;
	case IR_OP_GELU: return ir_gelu_tanh(n) ? TANH : ERF;
	case IR_OP_POW: return 1u << BE_LIBM_POWF;
	case IR_OP_MOD: return n->in[0] && n->in[0]->dt == IR_DT_F32 ? 1u << BE_LIBM_FMODF : 0;
	case IR_OP_SIN: return 1u << BE_LIBM_SINF;
	case IR_OP_COS: return 1u << BE_LIBM_COSF;
	case IR_OP_ASIN: return 1u << BE_LIBM_ASINF;
	case IR_OP_ACOS: return 1u << BE_LIBM_ACOSF;
	case IR_OP_ATAN: return 1u << BE_LIBM_ATANF;
	case IR_OP_SINH: return 1u << BE_LIBM_SINHF;
	case IR_OP_COSH: return 1u << BE_LIBM_COSHF;
	case IR_OP_ASINH: return 1u << BE_LIBM_ASINHF;
	case IR_OP_ACOSH: return 1u << BE_LIBM_ACOSHF;
	case IR_OP_ATANH: return 1u << BE_LIBM_ATANHF;
	default: return 0;
	}
}

int be_l_unary(be_fn *f, const ir_node *n)
{
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	LLVMBuilderRef b = f->b;
	int64_t cnt = ir_shape_numel(&n->out[0]->shape);
	float alpha = 0, beta = 0, mn = -INFINITY, mx = INFINITY;
	if (n->op == IR_OP_LEAKY_RELU)
		alpha = ir_attr_float(n, "alpha", 0.01f);
	if (n->op == IR_OP_ELU)
		alpha = ir_attr_float(n, "alpha", 1.0f);
	if (n->op == IR_OP_SELU) {
		alpha = ir_attr_float(n, "alpha", 1.67326319217681884765625f);
		beta = ir_attr_float(n, "gamma", 1.05070102214813232421875f);
	}
	if (n->op == IR_OP_CELU)
		alpha = ir_attr_float(n, "alpha", 1.0f);
	if (n->op == IR_OP_HARD_SIGMOID) {
		alpha = ir_attr_float(n, "alpha", 0.2f);
		beta = ir_attr_float(n, "beta", 0.5f);
	}
	if (n->op == IR_OP_CLIP) {
		be_const_scalar(n, 1, -INFINITY, &mn);
		be_const_scalar(n, 2, INFINITY, &mx);
	}
	be_loop l;
	LLVMValueRef i = be_loop_begin(f, &l, cnt);
	LLVMValueRef v = be_ld(f, x, i), r = NULL, zero = be_cf(f, 0);
	switch (n->op) {
	case IR_OP_RELU: r = be_sel_lt(f, v, zero, zero, v); break;
	case IR_OP_LEAKY_RELU:
		r = be_sel_lt(f, v, zero, LLVMBuildFMul(b, be_cf(f, alpha), v, ""), v);
		break;
	case IR_OP_CLIP:
		r = v;
		if (mn != -INFINITY)
			r = be_sel_lt(f, r, be_cf(f, mn), be_cf(f, mn), r);
		if (mx != INFINITY)
			r = be_sel_lt(f, be_cf(f, mx), r, be_cf(f, mx), r);
		break;
	case IR_OP_SIGMOID: {
		/* x >= 0: 1/(1+exp(-x)); else e/(1+e), e = exp(x): exp never
		 * sees a positive argument. */
		LLVMValueRef pos = LLVMBuildFCmp(b, LLVMRealOGE, v, zero, "");
		LLVMValueRef e = exp_of(f, LLVMBuildSelect(b, pos, LLVMBuildFNeg(b, v, ""), v, ""));
		LLVMValueRef den = LLVMBuildFAdd(b, be_cf(f, 1), e, "");
		r = LLVMBuildFDiv(b, LLVMBuildSelect(b, pos, be_cf(f, 1), e, ""), den, "");
		break;
	}
	case IR_OP_TANH: r = tanh_of(f, v); break;
	case IR_OP_ELU: {
		LLVMValueRef em1 = LLVMBuildFSub(b, exp_of(f, v), be_cf(f, 1), "");
		r = be_sel_lt(f, v, zero, LLVMBuildFMul(b, be_cf(f, alpha), em1, ""), v);
		break;
	}
	case IR_OP_SOFTPLUS: r = softplus(f, v); break;
	case IR_OP_ERF: r = be_call(f, BE_LIBM_ERFF, v); break;
	case IR_OP_SQRT: r = be_sqrt(f, v); break;
	case IR_OP_SIN: r = be_call(f, BE_LIBM_SINF, v); break;
	case IR_OP_COS: r = be_call(f, BE_LIBM_COSF, v); break;
	case IR_OP_ASIN: r = be_call(f, BE_LIBM_ASINF, v); break;
	case IR_OP_ACOS: r = be_call(f, BE_LIBM_ACOSF, v); break;
	case IR_OP_ATAN: r = be_call(f, BE_LIBM_ATANF, v); break;
	case IR_OP_SINH: r = be_call(f, BE_LIBM_SINHF, v); break;
	case IR_OP_COSH: r = be_call(f, BE_LIBM_COSHF, v); break;
	case IR_OP_ASINH: r = be_call(f, BE_LIBM_ASINHF, v); break;
	case IR_OP_ACOSH: r = be_call(f, BE_LIBM_ACOSHF, v); break;
	case IR_OP_ATANH: r = be_call(f, BE_LIBM_ATANHF, v); break;
	case IR_OP_EXP: r = exp_of(f, v); break;
	case IR_OP_LOG: r = be_call(f, BE_LIBM_LOGF, v); break;
	case IR_OP_ABS: r = fabs_of(f, v); break;
	case IR_OP_NEG: r = LLVMBuildFNeg(b, v, ""); break;
	case IR_OP_RECIPROCAL: r = LLVMBuildFDiv(b, be_cf(f, 1), v, ""); break;
	case IR_OP_FLOOR:
	case IR_OP_CEIL:
	case IR_OP_ROUND: r = integral(f, n->op, v); break;
	case IR_OP_SIGN:
		r = be_sel_lt(f, zero, v, be_cf(f, 1), be_sel_lt(f, v, zero, be_cf(f, -1), v));
		break;
	case IR_OP_SELU: {
		LLVMValueRef em1 = LLVMBuildFSub(b, exp_of(f, v), be_cf(f, 1), "");
		LLVMValueRef neg = LLVMBuildFMul(b, be_cf(f, beta), LLVMBuildFMul(b, be_cf(f, alpha), em1, ""), "");
		r = be_sel_lt(f, zero, v, LLVMBuildFMul(b, be_cf(f, beta), v, ""), neg);
		break;
	}
	case IR_OP_CELU: {
		LLVMValueRef e = exp_of(f, LLVMBuildFDiv(b, v, be_cf(f, alpha), ""));
		r = be_sel_lt(f, zero, v, v, LLVMBuildFMul(b, be_cf(f, alpha), LLVMBuildFSub(b, e, be_cf(f, 1), ""), ""));
		break;
	}
	case IR_OP_SOFTSIGN:
		r = LLVMBuildFDiv(b, v, LLVMBuildFAdd(b, be_cf(f, 1), fabs_of(f, v), ""), "");
		break;
	case IR_OP_MISH: r = LLVMBuildFMul(b, v, tanh_of(f, softplus(f, v)), ""); break;
	case IR_OP_GELU: {
		LLVMValueRef t;
		if (ir_gelu_tanh(n)) { /* tanh(sqrt(2/pi) (x + 0.044715 x^3)) */
			LLVMValueRef c3 = LLVMBuildFMul(b, LLVMBuildFMul(b, LLVMBuildFMul(b, be_cf(f, 0.044715f), v, ""), v, ""), v, "");
			t = tanh_of(f,
			            LLVMBuildFMul(b, be_cf(f, 0.7978845608028654f), LLVMBuildFAdd(b, v, c3, ""), ""));
		} else {
			t = be_call(f, BE_LIBM_ERFF, LLVMBuildFMul(b, v, be_cf(f, 0.7071067811865476f), ""));
		}
		r = LLVMBuildFMul(b, LLVMBuildFMul(b, be_cf(f, 0.5f), v, ""), LLVMBuildFAdd(b, be_cf(f, 1), t, ""), "");
		break;
	}
	case IR_OP_HARD_SIGMOID:
		r = clamp01(f, LLVMBuildFAdd(b, LLVMBuildFMul(b, be_cf(f, alpha), v, ""), be_cf(f, beta), ""));
		break;
	case IR_OP_HARD_SWISH:
		r = LLVMBuildFMul(b, v,
		                  clamp01(f, LLVMBuildFAdd(b, LLVMBuildFMul(b, v, be_cf(f, 1.0f / 6.0f), ""),
		                                           be_cf(f, 0.5f), "")),
		                  "");
		break;
	default: return -1;
	}
	be_st(f, y, i, r);
	be_loop_end(f, &l);
	return 0;
}

/* y = (x - mean) / sqrt(var + eps) * scale + B per channel (axis 1). */
int be_l_batchnorm(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape;
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	LLVMValueRef sc = be_ptr(f, n->in[1]), bi = be_ptr(f, n->in[2]), me = be_ptr(f, n->in[3]),
	             va = be_ptr(f, n->in[4]);
	float eps = ir_attr_float(n, "epsilon", 1e-5f);
	int64_t inner = 1;
	for (int i = 2; i < xs->rank; i++)
		inner *= xs->d[i];
	int64_t dims[3] = {xs->d[0], xs->d[1], inner};
	int64_t st[3] = {xs->d[1] * inner, inner, 1};
	LLVMBuilderRef b = f->b;
	be_nest nst;
	LLVMValueRef iv[3];
	be_nest_begin(f, &nst, 2, dims, iv);
	LLVMValueRef den = be_sqrt(f, LLVMBuildFAdd(b, be_ld(f, va, iv[1]), be_cf(f, eps), ""));
	LLVMValueRef m = be_ld(f, me, iv[1]), s = be_ld(f, sc, iv[1]), bb = be_ld(f, bi, iv[1]);
	be_loop l;
	iv[2] = be_loop_begin(f, &l, inner);
	LLVMValueRef k = be_affine(f, 0, 3, iv, st);
	LLVMValueRef v = LLVMBuildFSub(b, be_ld(f, x, k), m, "");
	v = LLVMBuildFAdd(b, LLVMBuildFMul(b, LLVMBuildFDiv(b, v, den, ""), s, ""), bb, "");
	be_st(f, y, k, v);
	be_loop_end(f, &l);
	be_nest_end(f, &nst);
	return 0;
}

/* Merge adjacent output dims that are contiguous in every operand. */
static int collapse(int rank, int64_t *dims, int nops, int64_t st[][IR_MAX_RANK])
{
	int r = 0;
	for (int i = 0; i < rank; i++) {
		if (dims[i] == 1 && rank > 1)
			continue;
		bool merge = r > 0;
		for (int k = 0; k < nops && merge; k++)
			merge = st[k][r - 1] == st[k][i] * dims[i];
		if (merge) {
			dims[r - 1] *= dims[i];
			for (int k = 0; k < nops; k++)
				st[k][r - 1] = st[k][i];
			continue;
		}
		dims[r] = dims[i];
		for (int k = 0; k < nops; k++)
			st[k][r] = st[k][i];
		r++;
	}
	return r;
}

/* y[i] = a[off_a(i)] OP b[off_b(i)] over the broadcast output. */
static int elementwise2(be_fn *f, const ir_node *n, const ir_shape *as, const ir_shape *bs)
{
	const ir_shape *ys = &n->out[0]->shape;
	LLVMValueRef a = be_ptr(f, n->in[0]), bp = be_ptr(f, n->in[1]), y = be_ptr(f, n->out[0]);
	int64_t dims[IR_MAX_RANK], st[3][IR_MAX_RANK];
	for (int i = 0; i < ys->rank; i++)
		dims[i] = ys->d[i];
	k_strides(ys, st[0]);
	ir_bcast_strides(ys->rank, as->rank, as->d, 1, st[1]);
	ir_bcast_strides(ys->rank, bs->rank, bs->d, 1, st[2]);
	int r = collapse(ys->rank, dims, 3, st);
	be_nest nst;
	LLVMValueRef iv[IR_MAX_RANK];
	be_nest_begin(f, &nst, r, dims, iv);
	LLVMValueRef va = be_ld(f, a, be_affine(f, 0, r, iv, st[1]));
	LLVMValueRef vb;
	ir_dtype bdt = n->in[1]->dt;
	if (bdt == IR_DT_F32) {
		vb = be_ld(f, bp, be_affine(f, 0, r, iv, st[2]));
	} else { /* pow's integer exponent, as a float (ir/k_elementwise.c) */
		LLVMTypeRef it = be_dt_type(f, bdt);
		vb = LLVMBuildSIToFP(f->b, be_ld_t(f, it, bp, be_affine(f, 0, r, iv, st[2])), f->f32, "");
	}
	LLVMValueRef v;
	LLVMBuilderRef b = f->b;
	switch (n->op) {
	case IR_OP_ADD: v = LLVMBuildFAdd(b, va, vb, ""); break;
	case IR_OP_SUB: v = LLVMBuildFSub(b, va, vb, ""); break;
	case IR_OP_MUL: v = LLVMBuildFMul(b, va, vb, ""); break;
	case IR_OP_DIV: v = LLVMBuildFDiv(b, va, vb, ""); break;
	case IR_OP_POW: v = be_call2(f, BE_LIBM_POWF, va, vb); break;
	case IR_OP_MOD: v = be_call2(f, BE_LIBM_FMODF, va, vb); break; /* fmod=1 */
	case IR_OP_MAX:
	case IR_OP_MIN: { /* NaN in either gives NaN (as ir/k_elementwise.c) */
		LLVMValueRef pick = LLVMBuildFCmp(b, n->op == IR_OP_MAX ? LLVMRealOGT : LLVMRealOLT, va, vb, "");
		pick = LLVMBuildOr(b, pick, LLVMBuildFCmp(b, LLVMRealUNO, va, va, ""), "");
		v = LLVMBuildSelect(b, pick, va, vb, "");
		break;
	}
	case IR_OP_PRELU:
		v = be_sel_lt(f, va, be_cf(f, 0), LLVMBuildFMul(b, vb, va, ""), va);
		break;
	default: return -1;
	}
	be_st(f, y, be_affine(f, 0, r, iv, st[0]), v);
	be_nest_end(f, &nst);
	return 0;
}

int be_l_binary(be_fn *f, const ir_node *n)
{
	return elementwise2(f, n, &n->in[0]->shape, &n->in[1]->shape);
}

/* Slope broadcast as in ir/k_elementwise.c: numpy, or the opset-6 [C]
 * per-channel form read as [C,1,...,1]. */
int be_l_prelu(be_fn *f, const ir_node *n)
{
	const ir_shape *x = &n->in[0]->shape, *s = &n->in[1]->shape;
	ir_shape o, eff = *s;
	if (!(k_broadcast_shape(x, s, &o) == 0 && ir_shape_eq(&o, x)) && s->rank == 1 && x->rank >= 2 &&
	    x->d[1] == s->d[0]) {
		memset(&eff, 0, sizeof eff);
		eff.rank = x->rank - 1;
		eff.d[0] = s->d[0];
		for (int i = 1; i < eff.rank; i++)
			eff.d[i] = 1;
	}
	return elementwise2(f, n, x, &eff);
}

/* reshape, flatten, squeeze, unsqueeze, identity, dropout: the memory plan
 * usually gives the output the input's storage; otherwise copy. */
int be_l_view(be_fn *f, const ir_node *n)
{
	if (!n->out[0] || be_same_storage(f, n->in[0], n->out[0]))
		return 0;
	LLVMValueRef y = be_ptr(f, n->out[0]);
	if (y)
		be_copy(f, y, be_ptr(f, n->in[0]), ir_shape_numel(&n->out[0]->shape));
	return 0;
}
