/* l_convt.c: conv_transpose, mirroring ir/k_conv.c's gather form: input
 * position p contributes to output o = p*s - pb + k*dil, so
 *   Y[b, m, o] = B[m] + sum_{k, c in grp} X[b, c, (o + pb - k*dil) / s] * W[c, m % Mg, k]
 * over the taps where o + pb - k*dil is a non-negative multiple of s whose
 * quotient lies inside the input.  Loop bounds and strides are constants;
 * the tap test is a run-time branch (any rank, stride and dilation).  The
 * pads are derived exactly as the reference's convt_pads does. */
#include <string.h>

#include "lower.h"

#define CT_MAX_SP (IR_MAX_RANK - 2)

static int64_t floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static void axis_attr(const ir_node *n, const char *name, int nsp, int64_t dflt, int64_t *v)
{
	int cnt = 0;
	const int64_t *a = ir_attr_ints(n, name, &cnt);
	for (int i = 0; i < nsp; i++)
		v[i] = a && cnt == nsp ? a[i] : dflt;
}

int be_l_conv_transpose(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape, *ws = &n->in[1]->shape, *ys = &n->out[0]->shape;
	int nsp = xs->rank - 2;
	int64_t in[CT_MAX_SP], k[CT_MAX_SP], s[CT_MAX_SP], dil[CT_MAX_SP], op[CT_MAX_SP];
	int64_t pb[CT_MAX_SP], pe[CT_MAX_SP], out[CT_MAX_SP];
	for (int i = 0; i < nsp; i++) {
		in[i] = xs->d[2 + i];
		k[i] = ws->d[2 + i];
		out[i] = ys->d[2 + i];
	}
	axis_attr(n, "strides", nsp, 1, s);
	axis_attr(n, "dilations", nsp, 1, dil);
	axis_attr(n, "output_padding", nsp, 0, op);
	const char *ap = ir_attr_str(n, "auto_pad", "NOTSET");
	bool same = strcmp(ap, "SAME_UPPER") == 0 || strcmp(ap, "SAME_LOWER") == 0;
	bool upper = strcmp(ap, "SAME_UPPER") == 0;
	int cnt = 0;
	const int64_t *os = ir_attr_ints(n, "output_shape", &cnt);
	if (!same && k_resolve_pads(f->g, n, nsp, in, k, s, dil, pb, pe, f->d))
		return -1;
	if (os || same) {
		for (int i = 0; i < nsp; i++) {
			int64_t target = os ? os[cnt - nsp + i] : in[i] * s[i];
			int64_t ek = (k[i] - 1) * dil[i] + 1;
			int64_t tot = s[i] * (in[i] - 1) + op[i] + ek - target;
			int64_t half = floordiv(tot, 2);
			pb[i] = upper ? half : tot - half;
			pe[i] = upper ? tot - half : half;
		}
	}
	int64_t C = xs->d[1], M = ys->d[1], group = ir_attr_int(n, "group", 1);
	int64_t cg = C / group, mg = M / group;
	int64_t in_sz = 1, k_sz = 1, out_sz = 1, istr[CT_MAX_SP], kstr[CT_MAX_SP], ostr[CT_MAX_SP];
	for (int i = nsp - 1; i >= 0; i--) {
		istr[i] = in_sz;
		kstr[i] = k_sz;
		ostr[i] = out_sz;
		in_sz *= in[i];
		k_sz *= k[i];
		out_sz *= out[i];
	}
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	LLVMValueRef bias = n->nin > 2 && n->in[2] ? be_ptr(f, n->in[2]) : NULL;
	LLVMBuilderRef b = f->b;
	LLVMValueRef acc = be_slot(f);

	/* b, grp, mm: m = grp*mg + mm */
	int64_t outer[3] = {xs->d[0], group, mg};
	be_nest on;
	LLVMValueRef ov[3];
	be_nest_begin(f, &on, 3, outer, ov);
	int64_t mst[2] = {mg, 1};
	LLVMValueRef m = be_affine(f, 0, 2, ov + 1, mst);
	be_nest pn;
	LLVMValueRef oi[CT_MAX_SP];
	be_nest_begin(f, &pn, nsp, out, oi);
	LLVMBuildStore(b, bias ? be_ld(f, bias, m) : be_cf(f, 0), acc);
	be_nest kn;
	LLVMValueRef ki[CT_MAX_SP];
	be_nest_begin(f, &kn, nsp, k, ki);
	LLVMValueRef ok = NULL, off = be_ci(f, 0);
	for (int i = 0; i < nsp; i++) {
		/* t = o + pb - k*dil; tap when t >= 0, t % s == 0, t / s < in */
		LLVMValueRef t = LLVMBuildSub(b, be_add(f, oi[i], be_ci(f, pb[i])), be_mul(f, ki[i], dil[i]), "");
		LLVMValueRef c = LLVMBuildICmp(b, LLVMIntSGE, t, be_ci(f, 0), "");
		LLVMValueRef q = t;
		if (s[i] != 1) {
			LLVMValueRef rem = LLVMBuildSRem(b, t, be_ci(f, s[i]), "");
			c = LLVMBuildAnd(b, c, LLVMBuildICmp(b, LLVMIntEQ, rem, be_ci(f, 0), ""), "");
			q = LLVMBuildSDiv(b, t, be_ci(f, s[i]), "");
		}
		c = LLVMBuildAnd(b, c, LLVMBuildICmp(b, LLVMIntSLT, q, be_ci(f, in[i]), ""), "");
		ok = ok ? LLVMBuildAnd(b, ok, c, "") : c;
		off = be_add(f, off, be_mul(f, q, istr[i]));
	}
	LLVMValueRef kk = be_affine(f, 0, nsp, ki, kstr);
	be_if tap;
	be_if_begin(f, &tap, ok);
	be_loop cl;
	LLVMValueRef c = be_loop_begin(f, &cl, cg);
	/* x[(b*C + grp*cg + c)*in_sz + off], w[((grp*cg + c)*mg + mm)*k_sz + kk] */
	LLVMValueRef xv[3] = {ov[0], ov[1], c};
	int64_t xstv[3] = {C * in_sz, cg * in_sz, in_sz};
	LLVMValueRef xi = be_add(f, be_affine(f, 0, 3, xv, xstv), off);
	/* W [C, mg, k...]: row grp*cg + c, column mm*k_sz + kk (decoded when packed). */
	LLVMValueRef wrow = be_add(f, be_mul(f, ov[1], cg), c);
	LLVMValueRef wcol = be_add(f, be_mul(f, ov[2], k_sz), kk);
	LLVMValueRef prod = be_fast(LLVMBuildFMul(b, be_ld(f, x, xi), be_wld_rc(f, n->in[1], wrow, wcol), ""));
	LLVMBuildStore(b, be_fast(LLVMBuildFAdd(b, LLVMBuildLoad2(b, f->f32, acc, ""), prod, "")), acc);
	be_loop_end(f, &cl);
	be_if_end(f, &tap);
	be_nest_end(f, &kn);
	LLVMValueRef yv[2] = {ov[0], m};
	int64_t ystv[2] = {M * out_sz, out_sz};
	LLVMValueRef yi = be_add(f, be_affine(f, 0, 2, yv, ystv), be_affine(f, 0, nsp, oi, ostr));
	be_st(f, y, yi, LLVMBuildLoad2(b, f->f32, acc, ""));
	be_nest_end(f, &pn);
	be_nest_end(f, &on);
	return 0;
}
