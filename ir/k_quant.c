/* k_quant.c: the integer path's arithmetic (the one requantization rule,
 * integer ranges, activation quant types) and the boundary ops quantize
 * and dequantize.
 *
 * quantize(x, scale, zero_point?) {axis, dtype}:
 *   y = saturate(round_half_even(x / scale) + zero_point), x / scale in f32
 *   or, for an integer x (per tensor), the requantization
 *   y = saturate(requant(x - zx, rq_mult, rq_shift) + zero_point)
 * dequantize(x, scale, zero_point?) {axis}:
 *   y = ((f32)x - (f32)zero_point) * scale, in f32
 * as ONNX's QuantizeLinear/DequantizeLinear (opsets 10..21).  A scalar (or
 * one-element) scale is per tensor; a 1-D one runs along `axis` (default 1).
 * The output of quantize takes the zero point's dtype, else `dtype` (u8 by
 * default); `bits` narrower than that saturates to a sub-byte range
 * instead (ONNX's int4 is an i8 quantize with bits 4: [-8, 7]), and the
 * zero point must lie in it.  Scale and zero point must be constants
 * before the output's type is known: they are part of it (ir_quant).
 * fake_quant(x, scale, zero_point?) {axis, dtype}:
 *   y = dequantize(quantize(x)), in f32, element by element the same rule
 *   (ir_quantize_unsat, ir_dequantize_elem), the integer never stored. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

/* ------------------------------------------------- requantization rule */

int ir_requant_multiplier(double m, int32_t *mult, int32_t *shift)
{
	*mult = 0;
	*shift = 0;
	if (!(m > 0) || !isfinite(m))
		return -1;
	int e;
	double q = frexp(m, &e); /* m = q * 2^e, q in [0.5, 1) */
	int64_t qf = llround(q * 2147483648.0);
	if (qf == ((int64_t)1 << 31)) {
		qf /= 2;
		e++;
	}
	if (e < -31)
		return 0; /* below 2^-31: every int32 accumulator rounds to 0 */
	if (e > 30)
		return -1;
	*mult = (int32_t)qf;
	*shift = e;
	return 0;
}

/* gemmlowp's SaturatingRoundingDoublingHighMul: (a * b * 2) / 2^32,
 * nudged by 2^30 (or 1 - 2^30 when negative) and truncated, i.e. rounded
 * half up; only INT32_MIN * INT32_MIN saturates. */
static int32_t srdhm(int32_t a, int32_t b)
{
	if (a == INT32_MIN && b == INT32_MIN)
		return INT32_MAX;
	int64_t ab = (int64_t)a * b;
	int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : 1 - ((int64_t)1 << 30);
	return (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* truncates toward 0 */
}

/* gemmlowp's RoundingDivideByPOT: x / 2^e rounded half away from zero. */
static int32_t rdbpot(int32_t x, int e)
{
	if (e <= 0)
		return x;
	int64_t mask = ((int64_t)1 << e) - 1;
	int64_t rem = (int64_t)x & mask;
	int64_t thr = (mask >> 1) + (x < 0);
	int64_t q = (int64_t)x >> e; /* arithmetic: floor */
	return (int32_t)(q + (rem > thr));
}

int32_t ir_requant_apply(int32_t acc, int32_t mult, int32_t shift)
{
	int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
	int32_t a = (int32_t)((uint32_t)acc << left); /* wraps, like CMSIS-NN */
	return rdbpot(srdhm(a, mult), right);
}

double ir_quantize_unsat(float x, float scale, int64_t zp)
{
	float r = x / scale;
	if (isnan(r))
		return (double)zp; /* NaN quantizes to the zero point */
	return nearbyint((double)r) + (double)zp; /* half to even */
}

float ir_dequantize_elem(int64_t q, float scale, int64_t zp)
{
	return ((float)q - (float)zp) * scale;
}

void ir_dtype_range(ir_dtype t, int64_t *lo, int64_t *hi)
{
	switch (t) {
	case IR_DT_I8: *lo = INT8_MIN; *hi = INT8_MAX; break;
	case IR_DT_U8: *lo = 0; *hi = UINT8_MAX; break;
	case IR_DT_I16: *lo = INT16_MIN; *hi = INT16_MAX; break;
	case IR_DT_U16: *lo = 0; *hi = UINT16_MAX; break;
	case IR_DT_BOOL: *lo = 0; *hi = 1; break;
	case IR_DT_I64: *lo = INT64_MIN; *hi = INT64_MAX; break;
	default: *lo = INT32_MIN; *hi = INT32_MAX; break;
	}
}

void ir_dtype_range_bits(ir_dtype t, int bits, int64_t *lo, int64_t *hi)
{
	ir_dtype_range(t, lo, hi);
	if (!ir_dtype_is_qint(t) || bits < 1 || bits >= (int)ir_dtype_size(t) * 8)
		return;
	bool sgn = t == IR_DT_I8 || t == IR_DT_I16;
	*lo = sgn ? -((int64_t)1 << (bits - 1)) : 0;
	*hi = sgn ? ((int64_t)1 << (bits - 1)) - 1 : ((int64_t)1 << bits) - 1;
}

void ir_value_range(const ir_value *v, int64_t *lo, int64_t *hi)
{
	const ir_quant *q = v->quant;
	bool act = q && q->scheme == IR_QS_AFFINE && !q->codes;
	ir_dtype_range_bits(v->dt, act ? q->bits : 0, lo, hi);
}

bool ir_dtype_is_qint(ir_dtype t)
{
	return t == IR_DT_I8 || t == IR_DT_U8 || t == IR_DT_I16 || t == IR_DT_U16;
}

ir_quant *ir_quant_act_create(ir_graph *g, ir_dtype t, int axis, int nchan)
{
	ir_quant *q = ir_arena_alloc(g->arena, sizeof *q);
	if (!q)
		return NULL;
	q->scheme = IR_QS_AFFINE;
	q->bits = (int)ir_dtype_size(t) * 8;
	q->axis = axis;
	q->nchan = nchan;
	q->scale = ir_arena_alloc(g->arena, sizeof(float) * (size_t)nchan);
	q->zero_point = ir_arena_alloc(g->arena, sizeof(int32_t) * (size_t)nchan);
	return q->scale && q->zero_point ? q : NULL;
}

bool ir_quant_act_eq(const ir_quant *a, const ir_quant *b)
{
	if (!a || !b)
		return a == b;
	if (a->scheme != b->scheme || a->bits != b->bits || a->nchan != b->nchan ||
	    (a->nchan > 1 && a->axis != b->axis) || !a->scale || !b->scale)
		return false;
	for (int c = 0; c < a->nchan; c++) {
		if (memcmp(&a->scale[c], &b->scale[c], sizeof(float)) != 0)
			return false;
		int32_t za = a->zero_point ? a->zero_point[c] : 0;
		int32_t zb = b->zero_point ? b->zero_point[c] : 0;
		if (za != zb)
			return false;
	}
	return true;
}

/* ------------------------------------------------ quantize/dequantize */

/* Integer element k of an integer tensor as int64. */
static int64_t q_get(const void *p, ir_dtype t, int64_t k)
{
	switch (t) {
	case IR_DT_I8: return ((const int8_t *)p)[k];
	case IR_DT_U8: return ((const uint8_t *)p)[k];
	case IR_DT_I16: return ((const int16_t *)p)[k];
	case IR_DT_U16: return ((const uint16_t *)p)[k];
	case IR_DT_I32: return ((const int32_t *)p)[k];
	default: return 0;
	}
}

static void q_put(void *p, ir_dtype t, int64_t k, int64_t v)
{
	switch (t) {
	case IR_DT_I8: ((int8_t *)p)[k] = (int8_t)v; break;
	case IR_DT_U8: ((uint8_t *)p)[k] = (uint8_t)v; break;
	case IR_DT_I16: ((int16_t *)p)[k] = (int16_t)v; break;
	case IR_DT_U16: ((uint16_t *)p)[k] = (uint16_t)v; break;
	case IR_DT_I32: ((int32_t *)p)[k] = (int32_t)v; break;
	default: break;
	}
}

/* The per-axis geometry of a scale of `ns` elements on x of shape xs:
 * nchan parameter sets, each run of `inner` elements using one.  Blocked
 * (block_size B > 0, opset 21): the scale has x's shape but for the axis,
 * where it has ceil(x_axis / B) entries, and element (..., i, ...) uses
 * the parameter at (..., i / B, ...). */
typedef struct q_geom {
	int axis;        /* -1: per tensor */
	int64_t nchan, inner;
	int64_t block, xa; /* blocked: B and x's extent on the axis; else 0 */
	int64_t nparam;    /* scales (and zero points) in all */
} q_geom;

/* The parameter index of element i of x. */
static int64_t q_index(const q_geom *qg, int64_t i)
{
	if (qg->block) {
		int64_t r = i % qg->inner, t = i / qg->inner, ia = t % qg->xa, o = t / qg->xa;
		return (o * qg->nchan + ia / qg->block) * qg->inner + r;
	}
	return qg->nchan > 1 ? (i / qg->inner) % qg->nchan : 0;
}

/* Check the scale/zero-point operands of n against x's shape (operand 0)
 * and work out the geometry.  g may be NULL (evaluation). */
static int q_params(const ir_graph *g, const ir_node *n, const ir_shape *xs, const ir_shape *ss,
                    ir_dtype sdt, const ir_shape *zs, ir_dtype zdt, ir_dtype want_zdt, q_geom *qg,
                    diag_sink *d)
{
	char b1[96], b2[96];
	if (sdt != IR_DT_F32) {
		k_error(g, n, d, "scale must be f32, not %s", ir_dtype_name(sdt));
		return -1;
	}
	if (zs && want_zdt != IR_DT_UNDEF && zdt != want_zdt) {
		k_error(g, n, d, "zero point is %s but the quantized values are %s", ir_dtype_name(zdt),
		        ir_dtype_name(want_zdt));
		return -1;
	}
	int64_t ns = ir_shape_numel(ss);
	int64_t B = ir_attr_int(n, "block_size", 0);
	qg->block = qg->xa = 0;
	if (B != 0) {
		char b3[96];
		int ax = k_axis(ir_attr_int(n, "axis", 1), xs->rank);
		bool ok = B > 0 && ax >= 0 && ss->rank == xs->rank && xs->d[ax] > 0 &&
		          (!zs || (zs->rank == ss->rank && ir_shape_eq(zs, ss)));
		for (int i = 0; ok && i < xs->rank; i++)
			ok = ss->d[i] == (i == ax ? (xs->d[ax] + B - 1) / B : xs->d[i]);
		if (!ok) {
			k_error(g, n, d, "blocked quantization (block_size %lld, axis %lld): scale %s%s%s must "
			        "have input %s's shape with ceil(extent / block_size) on the axis",
			        (long long)B, (long long)ir_attr_int(n, "axis", 1), ir_shape_str(ss, b1, sizeof b1),
			        zs ? " and zero point " : "", zs ? ir_shape_str(zs, b2, sizeof b2) : "",
			        ir_shape_str(xs, b3, sizeof b3));
			return -1;
		}
		qg->axis = ax;
		qg->nchan = ss->d[ax];
		qg->inner = 1;
		for (int i = ax + 1; i < xs->rank; i++)
			qg->inner *= xs->d[i];
		qg->block = B;
		qg->xa = xs->d[ax];
		qg->nparam = ns;
		return 0;
	}
	if (ss->rank > 1 || ns < 1) {
		k_error(g, n, d, "scale %s must be a scalar or 1-D (or blocked: block_size)",
		        ir_shape_str(ss, b1, sizeof b1));
		return -1;
	}
	if (zs && (zs->rank > 1 || ir_shape_numel(zs) != ns)) {
		k_error(g, n, d, "zero point %s does not match scale %s", ir_shape_str(zs, b1, sizeof b1),
		        ir_shape_str(ss, b2, sizeof b2));
		return -1;
	}
	qg->axis = -1;
	qg->nchan = 1;
	qg->inner = 1;
	if (ss->rank == 1 && ns > 1) {
		int ax = k_axis(ir_attr_int(n, "axis", 1), xs->rank);
		if (ax < 0) {
			k_error(g, n, d, "axis %lld is out of range for input %s",
			        (long long)ir_attr_int(n, "axis", 1), ir_shape_str(xs, b1, sizeof b1));
			return -1;
		}
		if (xs->d[ax] >= 0 && xs->d[ax] != ns) {
			k_error(g, n, d, "per-axis scale has %lld elements but axis %d of %s has %lld",
			        (long long)ns, ax, ir_shape_str(xs, b1, sizeof b1), (long long)xs->d[ax]);
			return -1;
		}
		qg->axis = ax;
		qg->nchan = ns;
		for (int i = ax + 1; i < xs->rank; i++)
			qg->inner *= xs->d[i] < 0 ? 1 : xs->d[i];
	}
	qg->nparam = qg->nchan;
	return 0;
}

/* Check the constant parameter values: every scale positive and finite. */
static int q_check_scales(const ir_graph *g, const ir_node *n, const float *s, int64_t ns,
                          diag_sink *d)
{
	for (int64_t c = 0; c < ns; c++)
		if (!(s[c] > 0) || !isfinite(s[c])) {
			k_error(g, n, d, "scale[%lld] is %g; scales must be positive and finite",
			        (long long)c, (double)s[c]);
			return -1;
		}
	return 0;
}

/* "int4", "uint2", "i8": how a diagnostic names bits of dtype t. */
static const char *q_type_name(ir_dtype t, int bits, char *buf, size_t n)
{
	if (bits < 1 || bits >= (int)ir_dtype_size(t) * 8)
		return ir_dtype_name(t);
	snprintf(buf, n, "%sint%d", t == IR_DT_U8 || t == IR_DT_U16 ? "u" : "", bits);
	return buf;
}

/* quantize's `bits`: its dtype's width when absent, else 1..that. */
static int quantize_bits(const ir_graph *g, const ir_node *n, ir_dtype ot, diag_sink *d)
{
	int w = (int)ir_dtype_size(ot) * 8;
	int64_t b = ir_attr_int(n, "bits", w);
	if (b < 1 || b > w) {
		k_error(g, n, d, "bits=%lld: a %s output holds 1 to %d bits", (long long)b,
		        ir_dtype_name(ot), w);
		return -1;
	}
	return (int)b;
}

static ir_dtype quantize_out_dtype(const ir_graph *g, const ir_node *n, diag_sink *d)
{
	if (n->nin > 2 && n->in[2])
		return n->in[2]->dt;
	const char *s = ir_attr_str(n, "dtype", "u8");
	ir_dtype t = ir_dtype_from_name(s);
	if (!ir_dtype_is_qint(t)) {
		k_error(g, n, d, "dtype '%s' is not a quantized type (i8, u8, i16, u16)", s);
		return IR_DT_UNDEF;
	}
	return t;
}

/* A value some node computes (not a constant, not a graph input). */
static bool computed(const ir_value *v)
{
	return v->kind != IR_VAL_CONST && v->kind != IR_VAL_INPUT;
}

int ir_infer_quantize(ir_graph *g, ir_node *n, diag_sink *d)
{
	ir_dtype ot = quantize_out_dtype(g, n, d);
	if (ot == IR_DT_UNDEF)
		return -1;
	if (!ir_dtype_is_qint(ot)) {
		k_error(g, n, d, "zero point dtype %s is not supported (i8, u8, i16, u16)",
		        ir_dtype_name(ot));
		return -1;
	}
	int bits = quantize_bits(g, n, ot, d);
	if (bits < 0)
		return -1;
	n->out[0]->dt = ot;
	if (!k_in_ranked(n, 0) || !k_in_ranked(n, 1))
		return 0;
	const ir_value *x = n->in[0], *s = n->in[1], *z = n->nin > 2 ? n->in[2] : NULL;
	if (z && z->shape.rank < 0)
		return 0;
	if (ir_dtype_is_qint(x->dt)) {
		/* requantize: x's own quantization in, one multiplier */
		int nm = 0, ns = 0;
		const int64_t *m = ir_attr_ints(n, "rq_mult", &nm), *sh = ir_attr_ints(n, "rq_shift", &ns);
		if (!x->quant || x->quant->codes || x->quant->nchan != 1 || !m || !sh || nm != 1 ||
		    ns != 1 || ir_shape_numel(&s->shape) != 1) {
			k_error(g, n, d, "an integer input needs its per-tensor quantization, a per-tensor "
			        "output and one rq_mult/rq_shift");
			return -1;
		}
	} else if (x->dt != IR_DT_F32) {
		k_error(g, n, d, "input dtype %s is not supported (f32)", ir_dtype_name(x->dt));
		return -1;
	}
	q_geom qg;
	if (q_params(g, n, &x->shape, &s->shape, s->dt, z ? &z->shape : NULL, z ? z->dt : IR_DT_UNDEF,
	             IR_DT_UNDEF, &qg, d))
		return -1;
	/* The parameters are part of the output's type: without them the
	 * type is not known yet (qgtc run binds graph inputs, as shape
	 * operands).  Parameters a node computes (DynamicQuantizeLinear's)
	 * give a plain integer tensor, with no quantization in its type. */
	if (!ir_value_is_const(s) || (z && !ir_value_is_const(z))) {
		if (computed(s) || (z && computed(z)))
			k_set_out(n, 0, ot, &x->shape);
		return 0;
	}
	if (q_check_scales(g, n, s->data, qg.nparam, d))
		return -1;
	if (qg.block) { /* no ir_quant holds blocked parameters: a plain integer tensor */
		k_set_out(n, 0, ot, &x->shape);
		return 0;
	}
	ir_quant *q = ir_quant_act_create(g, ot, qg.axis, (int)qg.nchan);
	if (!q) {
		k_error(g, n, d, "out of memory");
		return -1;
	}
	q->bits = bits;
	int64_t lo, hi;
	ir_dtype_range_bits(ot, bits, &lo, &hi);
	for (int64_t c = 0; c < qg.nchan; c++) {
		q->scale[c] = ((const float *)s->data)[c];
		q->zero_point[c] = z ? (int32_t)q_get(z->data, z->dt, c) : 0;
		if (q->zero_point[c] < lo || q->zero_point[c] > hi) {
			char b[16];
			k_error(g, n, d, "zero point[%lld] is %d, outside the range of %s [%lld, %lld]",
			        (long long)c, (int)q->zero_point[c], q_type_name(ot, bits, b, sizeof b),
			        (long long)lo, (long long)hi);
			return -1;
		}
	}
	if (!ir_quant_act_eq(q, n->out[0]->quant))
		n->out[0]->quant = q;
	k_set_out(n, 0, ot, &x->shape);
	return 0;
}

int ir_eval_quantize(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out,
                     diag_sink *d)
{
	const ir_tensor *x = in[0], *s = in[1], *z = n->nin > 2 ? in[2] : NULL;
	ir_dtype ot = out[0]->dt;
	q_geom qg;
	if (ir_dtype_is_qint(x->dt) && x->dt == n->in[0]->dt && n->in[0]->quant &&
	    ir_dtype_is_qint(ot) && (!z || z->dt == ot) && ir_shape_eq(&x->shape, &out[0]->shape)) {
		int nm = 0, ns = 0;
		const int64_t *m = ir_attr_ints(n, "rq_mult", &nm), *sh = ir_attr_ints(n, "rq_shift", &ns);
		if (!m || !sh || nm != 1 || ns != 1) {
			k_error(NULL, n, d, "requantizing needs one rq_mult and rq_shift");
			return -1;
		}
		int64_t lo, hi, cnt = ir_shape_numel(&x->shape);
		ir_dtype_range_bits(ot, (int)ir_attr_int(n, "bits", 0), &lo, &hi);
		int64_t zin = n->in[0]->quant->zero_point ? n->in[0]->quant->zero_point[0] : 0;
		int64_t zout = z ? q_get(z->data, z->dt, 0) : 0;
		for (int64_t i = 0; i < cnt; i++) {
			int32_t a = (int32_t)(q_get(x->data, x->dt, i) - zin);
			int64_t v = (int64_t)ir_requant_apply(a, (int32_t)m[0], (int32_t)sh[0]) + zout;
			q_put(out[0]->data, ot, i, v < lo ? lo : v > hi ? hi : v);
		}
		return 0;
	}
	if (x->dt != IR_DT_F32 || !ir_dtype_is_qint(ot) || (z && z->dt != ot) ||
	    !ir_shape_eq(&x->shape, &out[0]->shape)) {
		k_error(NULL, n, d, "operands do not match: %s input, %s output", ir_dtype_name(x->dt),
		        ir_dtype_name(ot));
		return -1;
	}
	if (q_params(NULL, n, &x->shape, &s->shape, s->dt, z ? &z->shape : NULL,
	             z ? z->dt : IR_DT_UNDEF, ot, &qg, d))
		return -1;
	if (q_check_scales(NULL, n, s->data, qg.nparam, d))
		return -1;
	int64_t lo, hi, cnt = ir_shape_numel(&x->shape);
	ir_dtype_range_bits(ot, (int)ir_attr_int(n, "bits", 0), &lo, &hi);
	const float *xv = x->data, *sv = s->data;
	for (int64_t i = 0; i < cnt; i++) {
		int64_t c = q_index(&qg, i);
		int64_t zp = z ? q_get(z->data, z->dt, c) : 0;
		double v = ir_quantize_unsat(xv[i], sv[c], zp);
		v = v < (double)lo ? (double)lo : v > (double)hi ? (double)hi : v;
		q_put(out[0]->data, ot, i, (int64_t)v);
	}
	return 0;
}

int ir_infer_dequantize(ir_graph *g, ir_node *n, diag_sink *d)
{
	n->out[0]->dt = IR_DT_F32;
	if (!k_in_ranked(n, 0) || !k_in_ranked(n, 1))
		return 0;
	const ir_value *x = n->in[0], *s = n->in[1], *z = n->nin > 2 ? n->in[2] : NULL;
	if (z && z->shape.rank < 0)
		return 0;
	if (!ir_dtype_is_qint(x->dt) && x->dt != IR_DT_I32) {
		k_error(g, n, d, "input dtype %s is not supported (i8, u8, i16, u16, i32)",
		        ir_dtype_name(x->dt));
		return -1;
	}
	q_geom qg;
	if (q_params(g, n, &x->shape, &s->shape, s->dt, z ? &z->shape : NULL, z ? z->dt : IR_DT_UNDEF,
	             x->dt, &qg, d))
		return -1;
	if (!ir_value_is_const(s) || (z && !ir_value_is_const(z))) {
		if (computed(s) || (z && computed(z))) /* as in quantize */
			k_set_out(n, 0, IR_DT_F32, &x->shape);
		return 0;
	}
	if (q_check_scales(g, n, s->data, qg.nparam, d))
		return -1;
	if (x->dt == IR_DT_I32 && z)
		for (int64_t c = 0; c < qg.nparam; c++)
			if (q_get(z->data, z->dt, c) != 0) {
				k_error(g, n, d, "an i32 input needs a zero point of 0");
				return -1;
			}
	k_set_out(n, 0, IR_DT_F32, &x->shape);
	return 0;
}

int ir_eval_dequantize(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out,
                       diag_sink *d)
{
	const ir_tensor *x = in[0], *s = in[1], *z = n->nin > 2 ? in[2] : NULL;
	q_geom qg;
	if ((!ir_dtype_is_qint(x->dt) && x->dt != IR_DT_I32) || out[0]->dt != IR_DT_F32 ||
	    !ir_shape_eq(&x->shape, &out[0]->shape)) {
		k_error(NULL, n, d, "operands do not match: %s input, %s output", ir_dtype_name(x->dt),
		        ir_dtype_name(out[0]->dt));
		return -1;
	}
	if (q_params(NULL, n, &x->shape, &s->shape, s->dt, z ? &z->shape : NULL,
	             z ? z->dt : IR_DT_UNDEF, x->dt, &qg, d))
		return -1;
	if (q_check_scales(NULL, n, s->data, qg.nparam, d))
		return -1;
	int64_t cnt = ir_shape_numel(&x->shape);
	const float *sv = s->data;
	float *y = out[0]->data;
	for (int64_t i = 0; i < cnt; i++) {
		int64_t c = q_index(&qg, i);
		int64_t zp = z ? q_get(z->data, z->dt, c) : 0;
		y[i] = ir_dequantize_elem(q_get(x->data, x->dt, i), sv[c], zp);
	}
	return 0;
}

/* ------------------------------------------------------- fake_quant */

int ir_infer_fake_quant(ir_graph *g, ir_node *n, diag_sink *d)
{
	ir_dtype qt = quantize_out_dtype(g, n, d);
	if (qt == IR_DT_UNDEF)
		return -1;
	if (!ir_dtype_is_qint(qt)) {
		k_error(g, n, d, "zero point dtype %s is not supported (i8, u8, i16, u16)",
		        ir_dtype_name(qt));
		return -1;
	}
	n->out[0]->dt = IR_DT_F32;
	if (!k_in_ranked(n, 0) || !k_in_ranked(n, 1))
		return 0;
	const ir_value *x = n->in[0], *s = n->in[1], *z = n->nin > 2 ? n->in[2] : NULL;
	if (z && z->shape.rank < 0)
		return 0;
	if (x->dt != IR_DT_F32) {
		k_error(g, n, d, "input dtype %s is not supported (f32)", ir_dtype_name(x->dt));
		return -1;
	}
	q_geom qg;
	if (q_params(g, n, &x->shape, &s->shape, s->dt, z ? &z->shape : NULL, z ? z->dt : IR_DT_UNDEF,
	             IR_DT_UNDEF, &qg, d))
		return -1;
	if (ir_value_is_const(s) && q_check_scales(g, n, s->data, qg.nparam, d))
		return -1;
	k_set_out(n, 0, IR_DT_F32, &x->shape);
	return 0;
}

int ir_eval_fake_quant(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out,
                       diag_sink *d)
{
	const ir_tensor *x = in[0], *s = in[1], *z = n->nin > 2 ? in[2] : NULL;
	ir_dtype qt = z ? z->dt : ir_dtype_from_name(ir_attr_str(n, "dtype", "u8"));
	q_geom qg;
	if (x->dt != IR_DT_F32 || !ir_dtype_is_qint(qt) || out[0]->dt != IR_DT_F32 ||
	    !ir_shape_eq(&x->shape, &out[0]->shape)) {
		k_error(NULL, n, d, "operands do not match: %s input, %s grid, %s output",
		        ir_dtype_name(x->dt), ir_dtype_name(qt), ir_dtype_name(out[0]->dt));
		return -1;
	}
	if (q_params(NULL, n, &x->shape, &s->shape, s->dt, z ? &z->shape : NULL,
	             z ? z->dt : IR_DT_UNDEF, qt, &qg, d))
		return -1;
	if (q_check_scales(NULL, n, s->data, qg.nparam, d))
		return -1;
	int64_t lo, hi, cnt = ir_shape_numel(&x->shape);
	ir_dtype_range(qt, &lo, &hi);
	const float *xv = x->data, *sv = s->data;
	float *y = out[0]->data;
	for (int64_t i = 0; i < cnt; i++) {
		int64_t c = qg.nchan > 1 ? (i / qg.inner) % qg.nchan : 0;
		int64_t zp = z ? q_get(z->data, z->dt, c) : 0;
		double v = ir_quantize_unsat(xv[i], sv[c], zp);
		v = v < (double)lo ? (double)lo : v > (double)hi ? (double)hi : v;
		y[i] = ir_dequantize_elem((int64_t)v, sv[c], zp);
	}
	return 0;
}

/* ----------------------------------------------- integer conv/matmul */

int64_t k_lut_interp(int64_t a, int64_t b, int64_t f, int sh)
{
	int64_t t = (b - a) * f + (sh ? (int64_t)1 << (sh - 1) : 0), d = (int64_t)1 << sh;
	return a + (t >= 0 ? t / d : -((-t + d - 1) / d)); /* floor */
}

int64_t k_int_get(const void *p, ir_dtype t, int64_t k)
{
	return q_get(p, t, k);
}

void k_int_put(void *p, ir_dtype t, int64_t k, int64_t v)
{
	q_put(p, t, k, v);
}

ir_dtype k_int_check(const ir_graph *g, const ir_node *n, int waxis, int64_t m, int bias_k,
                     diag_sink *d)
{
	static const char *const what[2] = {"input", "weight"};
	for (int k = 0; k < 2; k++) {
		const ir_value *v = n->in[k];
		const ir_quant *q = v->quant;
		if (!ir_dtype_is_qint(v->dt)) {
			k_error(g, n, d, "%s '%s' is %s; an integer %s needs i8, u8, i16 or u16 operands",
			        what[k], v->name, ir_dtype_name(v->dt), ir_op_name(n->op));
			return IR_DT_UNDEF;
		}
		if (!q || q->scheme != IR_QS_AFFINE || q->codes || !q->scale) {
			k_error(g, n, d, "%s '%s' (%s) has no affine quantization in its type", what[k],
			        v->name, ir_dtype_name(v->dt));
			return IR_DT_UNDEF;
		}
		if (k == 0 && q->nchan != 1) {
			k_error(g, n, d, "input '%s' must be quantized per tensor", v->name);
			return IR_DT_UNDEF;
		}
		if (k == 1 && q->nchan != 1 && (q->axis != waxis || q->nchan != m)) {
			k_error(g, n, d, "weight '%s' is quantized along axis %d with %d channels; "
			        "expected per tensor or axis %d with %lld", v->name, q->axis, q->nchan,
			        waxis, (long long)m);
			return IR_DT_UNDEF;
		}
	}
	if (bias_k >= 0 && bias_k < n->nin && n->in[bias_k]) {
		const ir_value *b = n->in[bias_k];
		if (b->dt != IR_DT_I32 || b->shape.rank != 1 || b->shape.d[0] != m) {
			char sb[96];
			k_error(g, n, d, "bias '%s' is %s%s; an integer %s needs i32[%lld]", b->name,
			        ir_dtype_name(b->dt), ir_shape_str(&b->shape, sb, sizeof sb),
			        ir_op_name(n->op), (long long)m);
			return IR_DT_UNDEF;
		}
	}
	const ir_value *y = n->out[0];
	int nm = 0, ns = 0;
	const int64_t *mult = ir_attr_ints(n, "rq_mult", &nm);
	const int64_t *shift = ir_attr_ints(n, "rq_shift", &ns);
	if (!y->quant) {
		if (mult || shift) {
			k_error(g, n, d, "rq_mult/rq_shift given but output '%s' has no quantization",
			        y->name);
			return IR_DT_UNDEF;
		}
		return IR_DT_I32;
	}
	if (!ir_dtype_is_qint(y->dt) || y->quant->nchan != 1 || !y->quant->zero_point) {
		k_error(g, n, d, "output '%s' must be i8, u8, i16 or u16 quantized per tensor", y->name);
		return IR_DT_UNDEF;
	}
	if (!mult || !shift || nm != ns || (nm != 1 && nm != m)) {
		k_error(g, n, d, "a requantized output needs rq_mult and rq_shift with 1 or %lld entries",
		        (long long)m);
		return IR_DT_UNDEF;
	}
	for (int i = 0; i < nm; i++)
		if (mult[i] < 0 || mult[i] > INT32_MAX || shift[i] < -31 || shift[i] > 30) {
			k_error(g, n, d, "rq_mult[%d]=%lld, rq_shift[%d]=%lld are out of range", i,
			        (long long)mult[i], i, (long long)shift[i]);
			return IR_DT_UNDEF;
		}
	return y->dt;
}

void k_intop_get(const ir_node *n, k_intop *k)
{
	const ir_quant *qx = n->in[0]->quant, *qw = n->in[1]->quant, *qy = n->out[0]->quant;
	static const int32_t zero = 0;
	memset(k, 0, sizeof *k);
	k->zx = qx->zero_point ? qx->zero_point[0] : 0;
	k->zw = qw->zero_point ? qw->zero_point : &zero;
	k->nzw = qw->zero_point ? qw->nchan : 1;
	k->requant = qy != NULL;
	if (k->requant) {
		k->mult = ir_attr_ints(n, "rq_mult", &k->nrq);
		k->shift = ir_attr_ints(n, "rq_shift", &k->nrq);
		k->zy = qy->zero_point[0];
		ir_value_range(n->out[0], &k->lo, &k->hi);
	}
}

void k_intop_store(const k_intop *k, ir_tensor *out, int64_t i, int64_t c, int64_t acc)
{
	int32_t a = (int32_t)(uint32_t)acc; /* int32 accumulation wraps */
	if (!k->requant) {
		((int32_t *)out->data)[i] = a;
		return;
	}
	int64_t r = k->nrq > 1 ? c : 0;
	int64_t v = (int64_t)ir_requant_apply(a, (int32_t)k->mult[r], (int32_t)k->shift[r]) + k->zy;
	q_put(out->data, out->dt, i, v < k->lo ? k->lo : v > k->hi ? k->hi : v);
}
