/* quant.c: the quantizer family (see quant.h for the conventions): codes,
 * parameters, DQ(w), the error and its gradient, for every scheme.  One
 * implementation: the quantize pass, the QGT regularizers and the
 * backend's constant packing all call it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"

/* Parameters of one channel (or of the whole tensor). */
typedef struct chan_params {
	float scale;          /* affine, symmetric, pow2 (a power of two), binary, ternary */
	int32_t zp;           /* affine */
	float *levels;        /* codebook: 2^bits ascending levels */
} chan_params;

/* The spellings are the IR's (they are serialised in .qir). */
const char *pass_qscheme_name(ir_qscheme s)
{
	return ir_qscheme_name(s);
}

ir_qscheme pass_qscheme_from_name(const char *s)
{
	return ir_qscheme_from_name(s);
}

void pass_qspec_default(pass_qspec *s)
{
	*s = (pass_qspec){.scheme = IR_QS_AFFINE, .bits = 8, .per_channel = true, .axis = 0,
	                  .calib = PASS_CALIB_MINMAX, .percentile = 99.9f};
}

static int effective_bits(ir_qscheme scheme, int bits)
{
	if (scheme == IR_QS_BINARY)
		return 1;
	if (scheme == IR_QS_TERNARY)
		return 2;
	return bits;
}

/* ------------------------------------------------------- one channel */

static float clampf(float v, float lo, float hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* pow2: magnitude index m (0: zero) of t = |x| / scale, nearest level. */
static int pow2_index(float t, int M)
{
	for (int k = 0; k < M; k++) {
		float lv = ldexpf(1.0f, -k);
		float thr = k == M - 1 ? 0.5f * lv : 0.75f * lv;
		if (t >= thr)
			return k + 1;
	}
	return 0;
}

/* Nearest of n ascending levels (ties to the lower one). */
static int nearest_level(const float *lv, int n, float x)
{
	int lo = 0, hi = n - 1;
	while (lo < hi) { /* first level whose midpoint with the next is >= x */
		int mid = (lo + hi) / 2;
		if (x <= 0.5f * (lv[mid] + lv[mid + 1]))
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Codes and DQ of the m values x under fixed parameters p; either output
 * may be NULL.  Returns sum (dq - x)^2. */
static double chan_apply(const float *x, int64_t m, ir_qscheme scheme, int bits,
                         const chan_params *p, uint8_t *codes, float *dq)
{
	double err = 0;
	int half = 1 << (bits - 1);
	for (int64_t k = 0; k < m; k++) {
		float v = x[k], r = 0;
		int code = 0;
		switch (scheme) {
		case IR_QS_AFFINE: {
			float qmax = (float)((1 << bits) - 1);
			float c = clampf(rintf(v / p->scale) + (float)p->zp, 0, qmax);
			code = (int)c;
			r = p->scale * (float)(code - p->zp);
			break;
		}
		case IR_QS_SYMMETRIC: {
			float Q = (float)(half - 1);
			int q = (int)clampf(rintf(v / p->scale), -Q, Q);
			code = q + half;
			r = p->scale * (float)q; /* from the integer: never -0 */
			break;
		}
		case IR_QS_POW2: {
			int mi = pow2_index(fabsf(v) / p->scale, half - 1);
			bool neg = v < 0 && mi;
			code = (neg ? half : 0) | mi;
			r = mi ? ldexpf(p->scale, -(mi - 1)) : 0.0f;
			if (neg)
				r = -r;
			break;
		}
		case IR_QS_BINARY:
			code = v >= 0;
			r = code ? p->scale : -p->scale;
			break;
		case IR_QS_TERNARY: {
			int q = p->scale > 0 ? (int)clampf(rintf(v / p->scale), -1, 1) : 0;
			code = q + 2;
			r = p->scale * (float)q;
			break;
		}
		case IR_QS_CODEBOOK:
			code = nearest_level(p->levels, 1 << bits, v);
			r = p->levels[code];
			break;
		case IR_QS_NONE:
			r = v;
			break;
		}
		if (codes)
			codes[k] = (uint8_t)code;
		if (dq)
			dq[k] = r;
		double e = (double)r - (double)v;
		err += e * e;
	}
	return err;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

/* Percentile P (0..100) of sorted s[0..m-1], linear interpolation (numpy's
 * default). */
static float percentile_sorted(const float *s, int64_t m, double P)
{
	double pos = P / 100.0 * (double)(m - 1);
	int64_t i = (int64_t)floor(pos);
	if (i >= m - 1)
		return s[m - 1];
	if (i < 0)
		return s[0];
	double f = pos - (double)i;
	return (float)((double)s[i] + f * ((double)s[i + 1] - (double)s[i]));
}

/* x (a finite normal number) to the nearest with `keep` mantissa bits,
 * ties to even. */
static float round_mantissa(float x, int keep)
{
	int drop = 23 - keep;
	uint32_t u;
	memcpy(&u, &x, sizeof u);
	u += (1u << (drop - 1)) - 1u + ((u >> drop) & 1u);
	u &= ~((1u << drop) - 1u);
	float r;
	memcpy(&r, &u, sizeof r);
	return r;
}

float pass_f16_round(float x)
{
	float a = fabsf(x);
	if (!(a >= 0x1p-14f && a <= 65504.0f))
		return x;
	float r = round_mantissa(x, 10);
	return fabsf(r) <= 65504.0f ? r : x;
}

bool pass_f16_exact(float x)
{
	float a = fabsf(x);
	uint32_t u;
	memcpy(&u, &x, sizeof u);
	return a >= 0x1p-14f && a <= 65504.0f && (u & 0x1fffu) == 0;
}

float pass_bias_round(float x)
{
	float a = fabsf(x);
	if (a < 0x1p-14f)
		return a < 0x1p-15f ? 0.0f : copysignf(0x1p-14f, x);
	return pass_f16_round(x);
}

int pass_bias_dtype(const ir_graph *g, const ir_value *v, int *e0)
{
	if (v->kind != IR_VAL_CONST || v->dt != IR_DT_F32 || !v->data || v->quant ||
	    !ir_shape_known(&v->shape) || ir_value_is_output(g, v))
		return PASS_BIAS_F32;
	int64_t n = ir_shape_numel(&v->shape);
	int uses = 0;
	for (int i = 0; i < g->nnodes; i++) {
		const ir_node *u = g->nodes[i];
		if (u->dead)
			continue;
		for (int k = 0; k < u->nin; k++) {
			if (u->in[k] != v)
				continue;
			const ir_value *w = u->nin > 1 ? u->in[1] : NULL;
			if (k != 2 || (u->op != IR_OP_CONV && u->op != IR_OP_GEMM) || !w || w->dt != IR_DT_F32 ||
			    !w->quant)
				return PASS_BIAS_F32;
			uses++;
		}
	}
	if (n <= 0 || !uses)
		return PASS_BIAS_F32;
	const float *d = v->data;
	if (pass_ecode_fits(d, n, PASS_B12_MB, true, e0))
		return PASS_BIAS_B12;
	for (int64_t i = 0; i < n; i++) {
		uint32_t u;
		memcpy(&u, &d[i], sizeof u);
		if (u != 0 && !pass_f16_exact(d[i]))
			return PASS_BIAS_F32;
	}
	return PASS_BIAS_F16;
}

size_t pass_bias_bytes(const ir_graph *g, const ir_value *v)
{
	size_t n = ir_shape_known(&v->shape) ? (size_t)ir_shape_numel(&v->shape) : 0;
	int dt = pass_bias_dtype(g, v, NULL);
	return dt == PASS_BIAS_B12 ? (n * 12 + 7) / 8 : n * (dt == PASS_BIAS_F16 ? 2 : 4);
}

bool pass_quant_scales_f16(const ir_quant *q)
{
	if (!q->scale)
		return false;
	for (int c = 0; c < q->nchan; c++)
		if (q->scale[c] != 0 && !pass_f16_exact(q->scale[c]))
			return false;
	return true;
}

bool pass_quant_zp_packable(const ir_quant *q)
{
	if (!q->zero_point)
		return false;
	for (int c = 0; c < q->nchan; c++)
		if (q->zero_point[c] < 0 || q->zero_point[c] >= (1 << q->bits))
			return false;
	return true;
}

int pass_ecode_base(float smax)
{
	int ex = 0;
	if (!(smax > 0) || !isfinite(smax))
		return -100;
	frexpf(smax, &ex); /* smax in [2^(ex-1), 2^ex) */
	int e0 = ex - 1 - 15;
	return e0 < -126 ? -126 : e0 > 112 ? 112 : e0;
}

static float ecode_value(int e0, uint32_t k, int mb)
{
	uint32_t u = ((uint32_t)(e0 + 127) << 23) + (k << (23 - mb));
	float r;
	memcpy(&r, &u, sizeof r);
	return k ? r : 0.0f;
}

float pass_ecode_round(float s, int e0, int mb)
{
	if (!(s > 0))
		return s;
	float lo = ecode_value(e0, 1, mb), hi = ecode_value(e0, (1u << (mb + 4)) - 1, mb);
	if (s <= lo)
		return lo;
	if (s >= hi)
		return hi;
	float r = round_mantissa(s, mb);
	return r > hi ? hi : r;
}

unsigned pass_ecode(float s, int e0, int mb)
{
	uint32_t u;
	memcpy(&u, &s, sizeof u);
	unsigned sign = u >> 31;
	u &= 0x7fffffffu;
	if (!u)
		return 0;
	return (u - ((uint32_t)(e0 + 127) << 23)) >> (23 - mb) | sign << (mb + 4);
}

bool pass_ecode_fits(const float *d, int64_t n, int mb, bool sign, int *e0)
{
	int mn = 255, mx = -1;
	bool mn_pow2 = false;
	uint32_t low = (1u << (23 - mb)) - 1;
	for (int64_t i = 0; i < n; i++) {
		uint32_t u;
		memcpy(&u, &d[i], sizeof u);
		if (u == 0x80000000u)
			return false; /* -0: code 0 is +0 */
		if (sign)
			u &= 0x7fffffffu;
		if (u == 0)
			continue;
		int ex = (int)(u >> 23);
		if (ex == 0 || ex >= 255 || (u & low)) /* subnormal, inf, negative, or finer */
			return false;
		bool p2 = (u & 0x7fffffu) == 0;
		if (ex < mn) {
			mn = ex;
			mn_pow2 = p2;
		} else if (ex == mn)
			mn_pow2 |= p2;
		if (ex > mx)
			mx = ex;
	}
	if (mx < 0)
		return false; /* all zero: nothing to gain */
	int base = mn_pow2 ? mn - 1 : mn; /* 2^mn itself is code 2^mb then, not 0 */
	if (base < 1 || mx - base > 15)
		return false;
	if (e0)
		*e0 = base - 127;
	return true;
}

bool pass_quant_scales_ecode(const ir_quant *q, int mb, int *e0)
{
	return q->scale && !q->levels && pass_ecode_fits(q->scale, q->nchan, mb, false, e0);
}

float pass_bias_b12_round(float x, int e0)
{
	float a = fabsf(x), lo = ecode_value(e0, 1, PASS_B12_MB);
	if (!isfinite(x))
		return x;
	if (a < lo)
		return a >= lo * 0.5f ? copysignf(lo, x) : 0.0f;
	return copysignf(pass_ecode_round(a, e0, PASS_B12_MB), x);
}

static float round_scale(const pass_qspec *sp, float s)
{
	if (sp->f32_scales)
		return s;
	return sp->ec_on ? pass_ecode_round(s, sp->ec_e0, sp->scale_mb) : pass_f16_round(s);
}

static void affine_params(float lo, float hi, int bits, const pass_qspec *sp, chan_params *p)
{
	lo = fminf(lo, 0);
	hi = fmaxf(hi, 0);
	float qmax = (float)((1 << bits) - 1);
	p->scale = round_scale(sp, (hi - lo) / qmax);
	if (!(p->scale > 1e-30f)) {
		p->scale = round_scale(sp, 1); /* codes 0: any scale its tensor's storage holds */
		p->zp = 0;
		return;
	}
	p->zp = (int32_t)clampf(rintf(-lo / p->scale), 0, qmax);
}

static float pow2_scale(float amax)
{
	if (!(amax > 0))
		return 1;
	/* nearest power of two in linear terms: amax in [0.75, 1.5) * 2^E */
	return ldexpf(1.0f, (int)floorf(log2f(amax / 0.75f)));
}

/* Number of clipping ratios tried by MSE calibration: 1.00, 0.99, ... 0.20. */
#define MSE_STEPS 81

/* Choose p for the m values x (scratch: m floats) per spec.  0 or -1 (no
 * memory). */
static int chan_calibrate(const float *x, int64_t m, const pass_qspec *sp, int bits,
                          chan_params *p, float *scratch)
{
	float lo = 0, hi = 0, amax = 0;
	double sabs = 0;
	for (int64_t k = 0; k < m; k++) {
		lo = fminf(lo, x[k]);
		hi = fmaxf(hi, x[k]);
		amax = fmaxf(amax, fabsf(x[k]));
		sabs += fabs((double)x[k]);
	}
	ir_qscheme sc = sp->scheme;
	if (sp->calib == PASS_CALIB_PERCENTILE && m > 1 &&
	    (sc == IR_QS_AFFINE || sc == IR_QS_SYMMETRIC || sc == IR_QS_POW2)) {
		if (sc == IR_QS_AFFINE) {
			memcpy(scratch, x, (size_t)m * sizeof *x);
			qsort(scratch, (size_t)m, sizeof *scratch, cmp_float);
			lo = percentile_sorted(scratch, m, 100.0 - sp->percentile);
			hi = percentile_sorted(scratch, m, sp->percentile);
		} else {
			for (int64_t k = 0; k < m; k++)
				scratch[k] = fabsf(x[k]);
			qsort(scratch, (size_t)m, sizeof *scratch, cmp_float);
			amax = percentile_sorted(scratch, m, sp->percentile);
		}
	}
	bool mse = sp->calib == PASS_CALIB_MSE;
	switch (sc) {
	case IR_QS_AFFINE:
		affine_params(lo, hi, bits, sp, p);
		if (mse) {
			double best = chan_apply(x, m, sc, bits, p, NULL, NULL);
			for (int s = 1; s < MSE_STEPS; s++) {
				float r = 1.0f - 0.01f * (float)s;
				chan_params c = {0};
				affine_params(lo * r, hi * r, bits, sp, &c);
				double e = chan_apply(x, m, sc, bits, &c, NULL, NULL);
				if (e < best) {
					best = e;
					*p = c;
				}
			}
		}
		return 0;
	case IR_QS_SYMMETRIC: {
		float Q = (float)((1 << (bits - 1)) - 1);
		p->scale = round_scale(sp, amax > 1e-30f ? amax / Q : 1);
		if (mse && amax > 1e-30f) {
			double best = chan_apply(x, m, sc, bits, p, NULL, NULL);
			for (int s = 1; s < MSE_STEPS; s++) {
				chan_params c = {.scale = round_scale(sp, amax * (1.0f - 0.01f * (float)s) / Q)};
				double e = chan_apply(x, m, sc, bits, &c, NULL, NULL);
				if (e < best) {
					best = e;
					*p = c;
				}
			}
		}
		return 0;
	}
	case IR_QS_POW2:
		p->scale = pow2_scale(amax);
		if (mse) {
			float s0 = p->scale;
			double best = chan_apply(x, m, sc, bits, p, NULL, NULL);
			for (int e = -4; e <= 1; e++) {
				chan_params c = {.scale = ldexpf(s0, e)};
				double er = chan_apply(x, m, sc, bits, &c, NULL, NULL);
				if (er < best) {
					best = er;
					*p = c;
				}
			}
		}
		return 0;
	case IR_QS_BINARY:
		/* argmin_a ||a sign(x) - x||^2 */
		p->scale = m ? round_scale(sp, (float)(sabs / (double)m)) : 0;
		return 0;
	case IR_QS_TERNARY: {
		/* alpha from a threshold t: the mean of |x| over |x| > t (TWN: t =
		 * 0.7 mean |x|); MSE searches t over ratios of max |x|. */
		int nt = mse ? MSE_STEPS : 1;
		double best = INFINITY;
		for (int s = 0; s < nt; s++) {
			double t = s == 0 ? 0.7 * sabs / (double)(m ? m : 1) : (double)amax * 0.0125 * s;
			double sum = 0;
			int64_t cnt = 0;
			for (int64_t k = 0; k < m; k++)
				if (fabs((double)x[k]) > t) {
					sum += fabs((double)x[k]);
					cnt++;
				}
			chan_params c = {.scale = cnt ? round_scale(sp, (float)(sum / (double)cnt)) : 0};
			double e = nt > 1 ? chan_apply(x, m, sc, bits, &c, NULL, NULL) : 0;
			if (e < best) {
				best = e;
				*p = c;
			}
		}
		return 0;
	}
	case IR_QS_CODEBOOK: {
		/* k-means (Lloyd) in 1-D from quantile initialisation; the levels
		 * stay sorted because 1-D clusters are intervals. */
		int K = 1 << bits;
		float *lv = p->levels;
		if (m == 0) {
			for (int j = 0; j < K; j++)
				lv[j] = 0;
			return 0;
		}
		memcpy(scratch, x, (size_t)m * sizeof *x);
		qsort(scratch, (size_t)m, sizeof *scratch, cmp_float);
		for (int j = 0; j < K; j++)
			lv[j] = percentile_sorted(scratch, m, 100.0 * (j + 0.5) / K);
		double *sum = calloc((size_t)K, sizeof *sum);
		int64_t *cnt = calloc((size_t)K, sizeof *cnt);
		if (!sum || !cnt) {
			free(sum);
			free(cnt);
			return -1;
		}
		for (int it = 0; it < 50; it++) {
			memset(sum, 0, (size_t)K * sizeof *sum);
			memset(cnt, 0, (size_t)K * sizeof *cnt);
			/* scratch is sorted: walk it with a moving cluster index */
			for (int64_t k = 0; k < m; k++) {
				int j = nearest_level(lv, K, scratch[k]);
				sum[j] += scratch[k];
				cnt[j]++;
			}
			bool moved = false;
			for (int j = 0; j < K; j++) {
				if (!cnt[j])
					continue;
				float nv = (float)(sum[j] / (double)cnt[j]);
				if (nv != lv[j])
					moved = true;
				lv[j] = nv;
			}
			/* keep ascending order (equal levels may appear for tiny m) */
			qsort(lv, (size_t)K, sizeof *lv, cmp_float);
			if (!moved)
				break;
		}
		free(sum);
		free(cnt);
		return 0;
	}
	case IR_QS_NONE:
		break;
	}
	return 0;
}

/* ------------------------------------------------------ whole tensors */

/* outer x nchan x inner view of shape s around axis (-1: one channel). */
static void split_axis(const ir_shape *s, int axis, int64_t *outer, int64_t *nchan,
                       int64_t *inner)
{
	int64_t n = ir_shape_numel(s);
	if (axis < 0) {
		*outer = 1;
		*nchan = 1;
		*inner = n;
		return;
	}
	*outer = 1;
	for (int i = 0; i < axis; i++)
		*outer *= s->d[i];
	*nchan = s->d[axis];
	*inner = 1;
	for (int i = axis + 1; i < s->rank; i++)
		*inner *= s->d[i];
}

static void *qalloc(ir_arena *a, size_t n)
{
	return a ? ir_arena_alloc(a, n ? n : 1) : calloc(n ? n : 1, 1);
}

static void gather(const float *w, int64_t outer, int64_t C, int64_t inner, int64_t c,
                   float *buf)
{
	for (int64_t o = 0; o < outer; o++)
		memcpy(buf + o * inner, w + (o * C + c) * inner, (size_t)inner * sizeof *w);
}

static chan_params params_of(const ir_quant *q, int64_t c)
{
	chan_params p = {0};
	if (q->scale)
		p.scale = q->scale[c];
	if (q->zero_point)
		p.zp = q->zero_point[c];
	if (q->levels)
		p.levels = q->levels + ((size_t)c << q->bits);
	return p;
}

/* Codes and DQ of every channel of w under q's parameters (scratch: two
 * buffers of numel/nchan elements). */
static double apply_all(const float *w, const ir_shape *s, ir_quant *q, float *dq, float *xb,
                        float *db, uint8_t *cb)
{
	int64_t outer, C, inner;
	split_axis(s, q->axis, &outer, &C, &inner);
	double err = 0;
	for (int64_t c = 0; c < C; c++) {
		gather(w, outer, C, inner, c, xb);
		chan_params p = params_of(q, c);
		err += chan_apply(xb, outer * inner, q->scheme, q->bits, &p, cb, db);
		for (int64_t o = 0; o < outer; o++) {
			int64_t base = (o * C + c) * inner;
			memcpy(q->codes + base, cb + o * inner, (size_t)inner);
			if (dq)
				memcpy(dq + base, db + o * inner, (size_t)inner * sizeof *dq);
		}
	}
	return err;
}

int pass_quantize(const float *w, const ir_shape *s, const pass_qspec *spec, ir_arena *a,
                  ir_quant *q, float *dq, double *err, diag_sink *d)
{
	memset(q, 0, sizeof *q);
	int64_t n = ir_shape_numel(s);
	if (n < 0) {
		diag_error(d, NULL, "quantize: the tensor's shape is not known");
		return -1;
	}
	if (spec->scheme < IR_QS_AFFINE || spec->scheme > IR_QS_CODEBOOK) {
		diag_error(d, NULL, "quantize: unknown scheme %d", (int)spec->scheme);
		return -1;
	}
	int bits = effective_bits(spec->scheme, spec->bits);
	int minb = spec->scheme == IR_QS_SYMMETRIC || spec->scheme == IR_QS_POW2 ? 2 : 1;
	if (bits < minb || bits > 8) {
		diag_error(d, NULL, "quantize: %s needs %d to 8 bits, not %d",
		           pass_qscheme_name(spec->scheme), minb, bits);
		return -1;
	}
	if (spec->calib == PASS_CALIB_PERCENTILE &&
	    !(spec->percentile > 50 && spec->percentile <= 100)) {
		diag_error(d, NULL, "quantize: percentile must be in (50, 100], not %g",
		           (double)spec->percentile);
		return -1;
	}
	int axis = -1;
	if (spec->per_channel) {
		if (spec->axis < 0 || spec->axis >= s->rank) {
			diag_error(d, NULL, "quantize: channel axis %d out of range for rank %d", spec->axis,
			           s->rank);
			return -1;
		}
		axis = spec->axis;
	}
	for (int64_t k = 0; k < n; k++)
		if (!isfinite(w[k])) {
			diag_error(d, NULL, "quantize: element %lld is not finite", (long long)k);
			return -1;
		}
	int64_t outer, C, inner;
	split_axis(s, axis, &outer, &C, &inner);
	int64_t m = outer * inner;
	q->scheme = spec->scheme;
	q->bits = bits;
	q->axis = axis;
	q->nchan = (int)C;
	q->codes = qalloc(a, (size_t)n);
	if (spec->scheme == IR_QS_CODEBOOK)
		q->levels = qalloc(a, ((size_t)C << bits) * sizeof *q->levels);
	else
		q->scale = qalloc(a, (size_t)C * sizeof *q->scale);
	if (spec->scheme == IR_QS_AFFINE)
		q->zero_point = qalloc(a, (size_t)C * sizeof *q->zero_point);
	float *xb = malloc((size_t)(m ? m : 1) * sizeof *xb);
	float *sb = malloc((size_t)(m ? m : 1) * sizeof *sb);
	float *db = malloc((size_t)(m ? m : 1) * sizeof *db);
	uint8_t *cb = malloc((size_t)(m ? m : 1));
	int rc = -1;
	if (!q->codes || (!q->levels && !q->scale) ||
	    (spec->scheme == IR_QS_AFFINE && !q->zero_point) || !xb || !sb || !db || !cb)
		goto oom;
	pass_qspec sp = *spec;
	sp.ec_on = false;
	bool ec = spec->scale_mb && !spec->f32_scales && bits <= PASS_CODED_MAX_BITS &&
	          spec->scheme != IR_QS_POW2 && spec->scheme != IR_QS_CODEBOOK;
	/* Scale codes: the channels on the fp16 grid first; when their nonzero
	 * scales span at most 14 octaves, again on the code grid of the
	 * largest one's base (else the smallest would be clamped up, their
	 * weights lost). */
	for (int pass = 0; pass < 2; pass++) {
		for (int64_t c = 0; c < C; c++) {
			gather(w, outer, C, inner, c, xb);
			chan_params p = {0};
			if (q->levels)
				p.levels = q->levels + ((size_t)c << bits);
			if (chan_calibrate(xb, m, &sp, bits, &p, sb))
				goto oom;
			if (q->scale)
				q->scale[c] = p.scale;
			if (q->zero_point)
				q->zero_point[c] = p.zp;
		}
		if (pass || !ec)
			break;
		float lo = INFINITY, hi = 0;
		for (int64_t c = 0; c < C; c++)
			if (q->scale[c] > 0) {
				lo = fminf(lo, q->scale[c]);
				hi = fmaxf(hi, q->scale[c]);
			}
		if (!(hi > 0) || hi > lo * 0x1p14f)
			break;
		sp.ec_on = true;
		sp.ec_e0 = pass_ecode_base(hi * (1 + 1.0f / (float)(1 << spec->scale_mb))); /* room for rounding up */
	}
	double e = apply_all(w, s, q, dq, xb, db, cb);
	if (err)
		*err = e;
	rc = 0;
	goto out;
oom:
	diag_error(d, NULL, "quantize: out of memory");
	if (!a)
		pass_quant_free(q);
out:
	free(xb);
	free(sb);
	free(db);
	free(cb);
	return rc;
}

int pass_quant_requantize(const float *w, const ir_shape *s, ir_quant *q, float *dq, double *err)
{
	int64_t n = ir_shape_numel(s);
	if (n < 0 || !q->codes || (q->axis >= 0 && (q->axis >= s->rank || s->d[q->axis] != q->nchan)))
		return -1;
	int64_t outer, C, inner;
	split_axis(s, q->axis, &outer, &C, &inner);
	int64_t m = outer * inner;
	float *xb = malloc((size_t)(m ? m : 1) * sizeof *xb);
	float *db = malloc((size_t)(m ? m : 1) * sizeof *db);
	uint8_t *cb = malloc((size_t)(m ? m : 1));
	int rc = -1;
	if (xb && db && cb) {
		double e = apply_all(w, s, q, dq, xb, db, cb);
		if (err)
			*err = e;
		rc = 0;
	}
	free(xb);
	free(db);
	free(cb);
	return rc;
}

void pass_dequantize(const ir_quant *q, const ir_shape *s, float *dq)
{
	int64_t outer, C, inner;
	split_axis(s, q->axis, &outer, &C, &inner);
	int half = 1 << (q->bits - 1);
	for (int64_t o = 0; o < outer; o++)
		for (int64_t c = 0; c < C; c++) {
			chan_params p = params_of(q, c);
			int64_t base = (o * C + c) * inner;
			for (int64_t i = 0; i < inner; i++) {
				int code = q->codes[base + i];
				float r = 0;
				switch (q->scheme) {
				case IR_QS_AFFINE:
					r = p.scale * (float)(code - p.zp);
					break;
				case IR_QS_SYMMETRIC:
				case IR_QS_TERNARY:
					r = p.scale * (float)(code - half);
					break;
				case IR_QS_POW2: {
					int mi = code & (half - 1);
					r = mi ? ldexpf(p.scale, -(mi - 1)) : 0.0f;
					if (code & half)
						r = -r;
					break;
				}
				case IR_QS_BINARY:
					r = code ? p.scale : -p.scale;
					break;
				case IR_QS_CODEBOOK:
					r = p.levels[code];
					break;
				case IR_QS_NONE:
					break;
				}
				dq[base + i] = r;
			}
		}
}

void pass_quant_unclipped(const ir_quant *q, int64_t c, float *lo, float *hi)
{
	chan_params p = params_of(q, q->nchan > 1 ? c : 0);
	int half = 1 << (q->bits - 1), top = (1 << q->bits) - 1;
	float a = 0, b = 0;
	switch (q->scheme) {
	case IR_QS_AFFINE:
		a = p.scale * ((float)-p.zp - 0.5f);
		b = p.scale * ((float)(top - p.zp) + 0.5f);
		break;
	case IR_QS_SYMMETRIC:
	case IR_QS_TERNARY:
		b = p.scale * ((float)(half - 1) + 0.5f);
		a = -b;
		break;
	case IR_QS_POW2:
	case IR_QS_BINARY:
		b = fabsf(p.scale);
		a = -b;
		break;
	case IR_QS_CODEBOOK:
		a = p.levels[0];
		b = p.levels[top];
		break;
	case IR_QS_NONE:
		break;
	}
	*lo = a < b ? a : b;
	*hi = a < b ? b : a;
}

double pass_quant_error_grad(const float *w, const float *dq, int64_t n, float *grad)
{
	double err = 0;
	for (int64_t k = 0; k < n; k++) {
		double e = (double)dq[k] - (double)w[k];
		err += e * e;
		if (grad)
			grad[k] = (float)(-2.0 * e);
	}
	return err;
}

void pass_quant_free(ir_quant *q)
{
	free(q->scale);
	free(q->zero_point);
	free(q->levels);
	free(q->codes);
	q->scale = NULL;
	q->zero_point = NULL;
	q->levels = NULL;
	q->codes = NULL;
}

int pass_weight_axis(const ir_node *n, int in)
{
	if (in != 1 || n->nin < 2 || !n->in[1])
		return -1;
	const ir_value *w = n->in[1];
	switch (n->op) {
	case IR_OP_CONV:
		return w->shape.rank >= 1 ? 0 : -1;
	case IR_OP_CONV_TRANSPOSE:
		if (w->shape.rank < 2)
			return -1;
		return ir_attr_int(n, "group", 1) > 1 && w->shape.d[1] == 1 ? 0 : 1;
	case IR_OP_GEMM:
		if (w->shape.rank != 2)
			return -1;
		return ir_attr_int(n, "trans_b", 0) ? 0 : 1;
	case IR_OP_MATMUL:
		return w->shape.rank >= 2 ? w->shape.rank - 1 : -1;
	default:
		return -1;
	}
}
