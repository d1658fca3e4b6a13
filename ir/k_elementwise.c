/* k_elementwise.c: elementwise ops: activations, binary arithmetic with
 * broadcasting, batchnorm, identity, dropout, cast.  This is the reference
 * every backend is checked against, so loops stay plain. */
#include <math.h>
#include <string.h>

#include "kernel.h"

/* ------------------------------------------------------------- helpers */

/* Optional input k of an eval: NULL or zero elements both mean absent. */
static const ir_tensor *opt_in(const ir_node *n, const ir_tensor *const *in, int k)
{
	if (k >= n->nin || !in[k] || ir_shape_numel(&in[k]->shape) == 0)
		return NULL;
	return in[k];
}

/* Element count of a tensor handed to eval, which inference made concrete. */
static int64_t numel(const ir_tensor *t)
{
	return ir_shape_numel(&t->shape);
}

/* Integer element k of an integer or bool tensor, widened. */
static int64_t ld_int(ir_dtype dt, const void *p, int64_t k)
{
	switch (dt) {
	case IR_DT_I8: return ((const int8_t *)p)[k];
	case IR_DT_U8: return ((const uint8_t *)p)[k];
	case IR_DT_I16: return ((const int16_t *)p)[k];
	case IR_DT_U16: return ((const uint16_t *)p)[k];
	case IR_DT_I32: return ((const int32_t *)p)[k];
	case IR_DT_I64: return ((const int64_t *)p)[k];
	case IR_DT_BOOL: return ((const uint8_t *)p)[k] != 0;
	default: return 0;
	}
}

/* Store v into integer element k, wrapping modulo the type's width the way
 * numpy's astype and C's integer conversions (as GCC defines them) do. */
static void st_int(ir_dtype dt, void *p, int64_t k, int64_t v)
{
	switch (dt) {
	case IR_DT_I8: ((int8_t *)p)[k] = (int8_t)v; break;
	case IR_DT_U8: ((uint8_t *)p)[k] = (uint8_t)v; break;
	case IR_DT_I16: ((int16_t *)p)[k] = (int16_t)v; break;
	case IR_DT_U16: ((uint16_t *)p)[k] = (uint16_t)v; break;
	case IR_DT_I32: ((int32_t *)p)[k] = (int32_t)v; break;
	case IR_DT_I64: ((int64_t *)p)[k] = v; break;
	case IR_DT_BOOL: ((uint8_t *)p)[k] = v != 0; break;
	default: break;
	}
}

static bool is_int_dtype(ir_dtype dt)
{
	return dt == IR_DT_I8 || dt == IR_DT_U8 || dt == IR_DT_I32 || dt == IR_DT_I64;
}

/* Walks the elements of a broadcast result in row-major order, keeping for
 * each operand the offset of the element that feeds the current output
 * element.  Numpy rule: operands are right-aligned against the output and
 * an operand dimension of extent 1 (or a missing leading one) stays put,
 * which is a stride of 0. */
#define BCAST_MAXOPS 3
typedef struct bcast_iter {
	int rank;                              /* output rank */
	int nops;                              /* operands tracked */
	int64_t dim[IR_MAX_RANK];              /* output extents */
	int64_t idx[IR_MAX_RANK];              /* current output index */
	int64_t st[BCAST_MAXOPS][IR_MAX_RANK]; /* operand strides; 0 where broadcast */
	int64_t off[BCAST_MAXOPS];             /* operand element offsets */
} bcast_iter;

static void bcast_init(bcast_iter *it, const ir_shape *out, int nops, const ir_shape *const *ops)
{
	memset(it, 0, sizeof *it);
	it->rank = out->rank;
	it->nops = nops;
	for (int i = 0; i < out->rank; i++)
		it->dim[i] = out->d[i];
	for (int k = 0; k < nops; k++)
		ir_bcast_strides(out->rank, ops[k]->rank, ops[k]->d, 1, it->st[k]);
}

/* Advance to the next output element (odometer on the last axis first). */
static void bcast_next(bcast_iter *it)
{
	for (int i = it->rank - 1; i >= 0; i--) {
		it->idx[i]++;
		for (int k = 0; k < it->nops; k++)
			it->off[k] += it->st[k][i];
		if (it->idx[i] < it->dim[i])
			return;
		for (int k = 0; k < it->nops; k++)
			it->off[k] -= it->st[k][i] * it->dim[i];
		it->idx[i] = 0;
	}
}

/* --------------------------------------------------- f32 unary activations */

typedef float (*unary_fn)(float x, float a, float b);

/* Infer for a float-only op whose output is its input's shape. */
static int infer_f32_unary(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d))
		return -1;
	const ir_value *x = n->in[0];
	if (x->dt == IR_DT_UNDEF)
		return k_defer(n);
	if (x->dt != IR_DT_F32) {
		k_error(g, n, d, "dtype %s is not supported", ir_dtype_name(x->dt));
		return -1;
	}
	k_set_out(n, 0, IR_DT_F32, &x->shape);
	return 0;
}

/* Check that eval got an f32 input matching its output in size. */
static int check_f32_same(const ir_node *n, const ir_tensor *x, const ir_tensor *y, diag_sink *d)
{
	if (!x || x->dt != IR_DT_F32 || y->dt != IR_DT_F32) {
		k_error(NULL, n, d, "dtype %s is not supported", ir_dtype_name(x ? x->dt : IR_DT_UNDEF));
		return -1;
	}
	if (numel(x) < 0 || numel(x) != numel(y)) {
		char a[96], b[96];
		k_error(NULL, n, d, "input shape %s does not match output shape %s",
		        ir_shape_str(&x->shape, a, sizeof a), ir_shape_str(&y->shape, b, sizeof b));
		return -1;
	}
	return 0;
}

static int eval_f32_unary(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out,
                          diag_sink *d, unary_fn f, float a, float b)
{
	if (check_f32_same(n, in[0], out[0], d))
		return -1;
	const float *x = in[0]->data;
	float *y = out[0]->data;
	int64_t cnt = numel(out[0]);
	for (int64_t i = 0; i < cnt; i++)
		y[i] = f(x[i], a, b);
	return 0;
}

/* Written as "x < 0 ? 0 : x" so that NaN passes through, as in numpy's
 * maximum(x, 0). */
static float relu_f(float x, float a, float b)
{
	(void)a;
	(void)b;
	return x < 0 ? 0.0f : x;
}

static float leaky_relu_f(float x, float alpha, float b)
{
	(void)b;
	return x < 0 ? alpha * x : x;
}

/* exp of a non-positive argument only, so large |x| never overflows. */
float k_sigmoid(float x)
{
	if (x >= 0)
		return 1.0f / (1.0f + expf(-x));
	float e = expf(x);
	return e / (1.0f + e);
}

static float sigmoid_f(float x, float a, float b)
{
	(void)a;
	(void)b;
	return k_sigmoid(x);
}

static float tanh_f(float x, float a, float b)
{
	(void)a;
	(void)b;
	return tanhf(x);
}

static float clamp01(float v)
{
	return v < 0 ? 0.0f : v > 1 ? 1.0f : v;
}

static float hard_sigmoid_f(float x, float alpha, float beta)
{
	return clamp01(alpha * x + beta);
}

/* alpha (exp(x) - 1) below 0, x above (ONNX Elu). */
static float elu_f(float x, float alpha, float b)
{
	(void)b;
	return x < 0 ? alpha * (expf(x) - 1.0f) : x;
}

/* ln(1 + exp(x)): x + ln(1 + exp(-x)) above 0, so exp never overflows. */
static float softplus_f(float x, float a, float b)
{
	(void)a;
	(void)b;
	return x > 0 ? x + logf(1.0f + expf(-x)) : logf(1.0f + expf(x));
}

static float erf_f(float x, float a, float b)
{
	(void)a;
	(void)b;
	return erff(x);
}

/* ONNX HardSwish: x * HardSigmoid(x) with alpha 1/6, beta 0.5. */
static float hard_swish_f(float x, float a, float b)
{
	(void)a;
	(void)b;
	return x * clamp01(x * (1.0f / 6.0f) + 0.5f);
}

/* relu of an integer activation (i8/u8/i16/u16) keeps its dtype and grid:
 * y = max(q, zp), zp the input's zero point (the integer of real 0; 0
 * without quantization), taken inside the dtype's range so that the
 * result always is. */
static int relu_int_zp(const ir_graph *g, const ir_node *n, const ir_value *x, int64_t *zp,
                       diag_sink *d)
{
	int64_t lo, hi;
	ir_dtype_range(x->dt, &lo, &hi);
	*zp = 0;
	if (x->quant && x->quant->zero_point) {
		if (x->quant->nchan != 1) {
			k_error(g, n, d, "input '%s' is quantized per channel; an integer relu needs one "
			        "zero point", x->name);
			return -1;
		}
		*zp = x->quant->zero_point[0];
	}
	*zp = *zp < lo ? lo : *zp > hi ? hi : *zp;
	return 0;
}

int ir_infer_relu(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (n->nin > 0 && n->in[0] && ir_dtype_is_qint(n->in[0]->dt)) {
		int64_t zp;
		if (relu_int_zp(g, n, n->in[0], &zp, d))
			return -1;
		k_set_out(n, 0, n->in[0]->dt, &n->in[0]->shape);
		return 0;
	}
	return infer_f32_unary(g, n, d);
}

int ir_eval_relu(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *x = in[0], *y = out[0];
	if (!x || !ir_dtype_is_qint(x->dt))
		return eval_f32_unary(n, in, out, d, relu_f, 0, 0);
	int64_t zp;
	if (relu_int_zp(NULL, n, n->in[0], &zp, d))
		return -1;
	if (y->dt != x->dt || numel(x) < 0 || numel(x) != numel(y)) {
		char a[96], b[96];
		k_error(NULL, n, d, "input %s%s does not match output %s%s", ir_dtype_name(x->dt),
		        ir_shape_str(&x->shape, a, sizeof a), ir_dtype_name(y->dt),
		        ir_shape_str(&y->shape, b, sizeof b));
		return -1;
	}
	for (int64_t i = 0; i < numel(x); i++) {
		int64_t q = ld_int(x->dt, x->data, i);
		st_int(y->dt, y->data, i, q < zp ? zp : q);
	}
	return 0;
}

/* ---------------------------------------- table-driven integer activations */

/* sigmoid, tanh, hard_sigmoid, hard_swish and leaky_relu of an integer
 * activation carry a `lut` that a pass derived once from the float op, as
 * quantize_out(f(dequantize_in(x))), on the grid the node's maker gave
 * the output (its quant is its type and stays as it is).  An 8-bit input
 * has one entry per code:
 *   y = lut[q - qmin],  qmin = -128 for i8, 0 for u8.
 * An i16 input has 513 entries, at every 128th code from -32768 (the last
 * one at 32768, one step past the range), and interpolates between the
 * two around q, as TFLite's 16-bit tables do:
 *   u = q + 32768,  a = lut[u >> 7],  b = lut[(u >> 7) + 1],
 *   y = a + floor(((b - a) * (u & 127) + 64) / 128),
 * which stays between a and b.  Nothing here recomputes f from floats, so
 * every backend can match the table bit for bit. */

/* Entries of an activation table for an input of dtype dt: 256 for the
 * 8-bit dtypes, 513 for i16, 0 where no table applies. */
int ir_act_lut_len(ir_dtype dt)
{
	return dt == IR_DT_I8 || dt == IR_DT_U8 ? 256 : dt == IR_DT_I16 ? 513 : 0;
}

/* y for an i16 input q and its 513-entry lut, as above. */
static int64_t lut_i16(const int64_t *lut, int64_t q)
{
	int64_t u = q + 32768, k = u >> 7;
	return k_lut_interp(lut[k], lut[k + 1], u & 127, 7);
}

/* n's lut checked against input x of dtype dt: ir_act_lut_len entries,
 * each in dt's range.  NULL after reporting otherwise; g may be NULL
 * (evaluation). */
static const int64_t *lut_get(const ir_graph *g, const ir_node *n, const char *xname, ir_dtype dt,
                              diag_sink *d)
{
	int want = ir_act_lut_len(dt);
	if (!want) {
		k_error(g, n, d, "input '%s' is %s; a lookup table needs an integer input (i8, u8 or i16)",
		        xname, ir_dtype_name(dt));
		return NULL;
	}
	int cnt = 0;
	const int64_t *lut = ir_attr_ints(n, "lut", &cnt);
	if (!lut || cnt != want) {
		k_error(g, n, d, "lut has %d entries; an integer %s of %s needs %d (%s)", lut ? cnt : 0,
		        ir_op_name(n->op), ir_dtype_name(dt), want,
		        want == 256 ? "one per value" : "one per 128 values, and one past the last");
		return NULL;
	}
	int64_t lo, hi;
	ir_dtype_range(dt, &lo, &hi);
	for (int i = 0; i < want; i++)
		if (lut[i] < lo || lut[i] > hi) {
			k_error(g, n, d, "lut[%d] = %lld is outside the range of %s [%lld, %lld]", i,
			        (long long)lut[i], ir_dtype_name(dt), (long long)lo, (long long)hi);
			return NULL;
		}
	return lut;
}

/* Neg, Abs and Sign of plain integers (no quantization: a quantized
 * input takes a lut), wrapping as the element type does: -INT64_MIN and
 * |INT64_MIN| are INT64_MIN, as in numpy. */
static bool int_unary(const ir_node *n, const ir_value *x)
{
	return (n->op == IR_OP_NEG || n->op == IR_OP_ABS || n->op == IR_OP_SIGN) && is_int_dtype(x->dt) && !x->quant &&
	       !ir_node_attr(n, "lut");
}

static int64_t int_unary_apply(ir_op op, int64_t v)
{
	switch (op) {
	case IR_OP_NEG: return (int64_t)(0 - (uint64_t)v);
	case IR_OP_ABS: return v < 0 ? (int64_t)(0 - (uint64_t)v) : v;
	default: return (v > 0) - (v < 0);
	}
}

/* Infer for an activation that is a float op, or a table lookup when it
 * carries a lut (an integer input without one stays unsupported, but for
 * int_unary's). */
static int infer_act(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (n->in[0] && n->in[0]->dt != IR_DT_UNDEF && int_unary(n, n->in[0])) {
		k_set_out(n, 0, n->in[0]->dt, &n->in[0]->shape);
		return 0;
	}
	if (!ir_node_attr(n, "lut"))
		return infer_f32_unary(g, n, d);
	if (!k_need_in(g, n, 0, d))
		return -1;
	const ir_value *x = n->in[0];
	if (x->dt == IR_DT_UNDEF)
		return k_defer(n);
	if (!lut_get(g, n, x->name, x->dt, d))
		return -1;
	k_set_out(n, 0, x->dt, &x->shape); /* the output's quant stays: it is its type */
	return 0;
}

static int eval_act(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out,
                    diag_sink *d, unary_fn f, float a, float b)
{
	if (in[0] && int_unary(n, n->in[0])) {
		const ir_tensor *x = in[0], *y = out[0];
		if (y->dt != x->dt || numel(x) < 0 || numel(x) != numel(y)) {
			k_error(NULL, n, d, "input does not match the output");
			return -1;
		}
		for (int64_t i = 0; i < numel(x); i++)
			st_int(y->dt, y->data, i, int_unary_apply(n->op, ld_int(x->dt, x->data, i)));
		return 0;
	}
	if (!ir_node_attr(n, "lut"))
		return eval_f32_unary(n, in, out, d, f, a, b);
	const ir_tensor *x = in[0], *y = out[0];
	const int64_t *lut = x ? lut_get(NULL, n, n->in[0]->name, x->dt, d) : NULL;
	if (!lut)
		return -1;
	if (y->dt != x->dt || numel(x) < 0 || numel(x) != numel(y)) {
		char sa[96], sb[96];
		k_error(NULL, n, d, "input %s%s does not match output %s%s", ir_dtype_name(x->dt),
		        ir_shape_str(&x->shape, sa, sizeof sa), ir_dtype_name(y->dt),
		        ir_shape_str(&y->shape, sb, sizeof sb));
		return -1;
	}
	if (x->dt == IR_DT_I16) {
		for (int64_t i = 0; i < numel(x); i++)
			st_int(y->dt, y->data, i, lut_i16(lut, ld_int(x->dt, x->data, i)));
		return 0;
	}
	int64_t qmin = x->dt == IR_DT_I8 ? -128 : 0;
	for (int64_t i = 0; i < numel(x); i++)
		st_int(y->dt, y->data, i, lut[ld_int(x->dt, x->data, i) - qmin]);
	return 0;
}

int ir_infer_leaky_relu(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_act(g, n, d);
}

int ir_eval_leaky_relu(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_act(n, in, out, d, leaky_relu_f, ir_attr_float(n, "alpha", 0.01f), 0);
}

int ir_infer_sigmoid(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_act(g, n, d);
}

int ir_eval_sigmoid(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_act(n, in, out, d, sigmoid_f, 0, 0);
}

int ir_infer_tanh(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_act(g, n, d);
}

int ir_eval_tanh(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_act(n, in, out, d, tanh_f, 0, 0);
}

int ir_infer_hard_sigmoid(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_act(g, n, d);
}

int ir_eval_hard_sigmoid(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_act(n, in, out, d, hard_sigmoid_f, ir_attr_float(n, "alpha", 0.2f),
	                ir_attr_float(n, "beta", 0.5f));
}

int ir_infer_hard_swish(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_act(g, n, d);
}

int ir_eval_hard_swish(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_act(n, in, out, d, hard_swish_f, 0, 0);
}

int ir_infer_elu(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_act(g, n, d);
}

int ir_eval_elu(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_act(n, in, out, d, elu_f, ir_attr_float(n, "alpha", 1.0f), 0);
}

int ir_infer_softplus(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_act(g, n, d);
}

int ir_eval_softplus(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_act(n, in, out, d, softplus_f, 0, 0);
}

int ir_infer_erf(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_act(g, n, d);
}

int ir_eval_erf(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_act(n, in, out, d, erf_f, 0, 0);
}

/* ------------------------------------------------ elementwise math */

/* Unary math and smooth activations (ONNX Sqrt, Exp, Log, Abs, Neg,
 * Reciprocal, Floor, Ceil, Round, Sign, Selu, Celu, Softsign, Mish, Gelu).
 * The backends compute the same formulas with the same libm calls; where
 * a target has no instruction for floor/ceil/round they use an exact
 * integer form (l_elementwise.c), so results are the same bits. */
static float sqrt_f(float x, float a, float b)
{
	(void)a, (void)b;
	return sqrtf(x);
}

static float exp_f(float x, float a, float b)
{
	(void)a, (void)b;
	return expf(x);
}

static float log_f(float x, float a, float b)
{
	(void)a, (void)b;
	return logf(x);
}

static float abs_f(float x, float a, float b)
{
	(void)a, (void)b;
	return fabsf(x);
}

static float neg_f(float x, float a, float b)
{
	(void)a, (void)b;
	return -x;
}

static float reciprocal_f(float x, float a, float b)
{
	(void)a, (void)b;
	return 1.0f / x;
}

static float floor_f(float x, float a, float b)
{
	(void)a, (void)b;
	return floorf(x);
}

static float ceil_f(float x, float a, float b)
{
	(void)a, (void)b;
	return ceilf(x);
}

/* Halves to even (ONNX Round), whatever the rounding mode. */
static float round_f(float x, float a, float b)
{
	(void)a, (void)b;
	float r = roundf(x); /* halves away from zero */
	if (fabsf(x - truncf(x)) == 0.5f)
		r = 2.0f * roundf(x / 2.0f);
	return r;
}

static float sin_f(float x, float a, float b)
{
	(void)a, (void)b;
	return sinf(x);
}

static float cos_f(float x, float a, float b)
{
	(void)a, (void)b;
	return cosf(x);
}

static float asin_f(float x, float a, float b)
{
	(void)a, (void)b;
	return asinf(x);
}

static float acos_f(float x, float a, float b)
{
	(void)a, (void)b;
	return acosf(x);
}

static float atan_f(float x, float a, float b)
{
	(void)a, (void)b;
	return atanf(x);
}

static float sinh_f(float x, float a, float b)
{
	(void)a, (void)b;
	return sinhf(x);
}

static float cosh_f(float x, float a, float b)
{
	(void)a, (void)b;
	return coshf(x);
}

static float asinh_f(float x, float a, float b)
{
	(void)a, (void)b;
	return asinhf(x);
}

static float acosh_f(float x, float a, float b)
{
	(void)a, (void)b;
	return acoshf(x);
}

static float atanh_f(float x, float a, float b)
{
	(void)a, (void)b;
	return atanhf(x);
}

/* -1, 0 or 1; NaN stays NaN. */
static float sign_f(float x, float a, float b)
{
	(void)a, (void)b;
	return x > 0 ? 1.0f : x < 0 ? -1.0f : x;
}

/* gamma (alpha (exp(x) - 1)) at or below 0, gamma x above. */
static float selu_f(float x, float alpha, float gamma)
{
	return x > 0 ? gamma * x : gamma * (alpha * (expf(x) - 1.0f));
}

/* max(0, x) + min(0, alpha (exp(x / alpha) - 1)). */
static float celu_f(float x, float alpha, float b)
{
	(void)b;
	return x > 0 ? x : alpha * (expf(x / alpha) - 1.0f);
}

static float softsign_f(float x, float a, float b)
{
	(void)a, (void)b;
	return x / (1.0f + fabsf(x));
}

/* x tanh(softplus(x)). */
static float mish_f(float x, float a, float b)
{
	return x * tanhf(softplus_f(x, a, b));
}

/* x/2 (1 + erf(x / sqrt 2)), or with approximate="tanh" (b = 1)
 * x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
static float gelu_f(float x, float a, float tanh_form)
{
	(void)a;
	if (tanh_form != 0)
		return 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
	return 0.5f * x * (1.0f + erff(x * 0.7071067811865476f));
}

#define UNARY_OP(name, fn, a, b)                                                                   \
	int ir_infer_##name(ir_graph *g, ir_node *n, diag_sink *d)                                 \
	{                                                                                          \
		return infer_act(g, n, d);                                                         \
	}                                                                                          \
	int ir_eval_##name(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out,   \
	                   diag_sink *d)                                                           \
	{                                                                                          \
		return eval_act(n, in, out, d, fn, a, b);                                          \
	}

UNARY_OP(sqrt, sqrt_f, 0, 0)
UNARY_OP(exp, exp_f, 0, 0)
UNARY_OP(log, log_f, 0, 0)
UNARY_OP(abs, abs_f, 0, 0)
UNARY_OP(neg, neg_f, 0, 0)
UNARY_OP(reciprocal, reciprocal_f, 0, 0)
UNARY_OP(floor, floor_f, 0, 0)
UNARY_OP(ceil, ceil_f, 0, 0)
UNARY_OP(round, round_f, 0, 0)
UNARY_OP(sign, sign_f, 0, 0)
UNARY_OP(sin, sin_f, 0, 0)
UNARY_OP(cos, cos_f, 0, 0)
UNARY_OP(asin, asin_f, 0, 0)
UNARY_OP(acos, acos_f, 0, 0)
UNARY_OP(atan, atan_f, 0, 0)
UNARY_OP(sinh, sinh_f, 0, 0)
UNARY_OP(cosh, cosh_f, 0, 0)
UNARY_OP(asinh, asinh_f, 0, 0)
UNARY_OP(acosh, acosh_f, 0, 0)
UNARY_OP(atanh, atanh_f, 0, 0)
UNARY_OP(selu, selu_f, ir_attr_float(n, "alpha", 1.67326319217681884765625f),
         ir_attr_float(n, "gamma", 1.05070102214813232421875f))
UNARY_OP(celu, celu_f, ir_attr_float(n, "alpha", 1.0f), 0)
UNARY_OP(softsign, softsign_f, 0, 0)
UNARY_OP(mish, mish_f, 0, 0)

int ir_infer_gelu(ir_graph *g, ir_node *n, diag_sink *d)
{
	const char *a = ir_attr_str(n, "approximate", "none");
	if (strcmp(a, "none") && strcmp(a, "tanh")) {
		k_error(g, n, d, "approximate '%s'; expected none or tanh", a);
		return -1;
	}
	return infer_act(g, n, d);
}

int ir_eval_gelu(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_act(n, in, out, d, gelu_f, 0, ir_gelu_tanh(n));
}

/* ----------------------------------------------------------- batchnorm */

static const char *bn_param_name[5] = {"X", "scale", "B", "mean", "var"};

int ir_infer_batchnorm(ir_graph *g, ir_node *n, diag_sink *d)
{
	for (int k = 0; k < 5; k++)
		if (!k_need_in(g, n, k, d))
			return -1;
	const ir_value *x = n->in[0];
	if (x->dt == IR_DT_UNDEF || x->shape.rank < 0)
		return k_defer(n);
	if (x->dt != IR_DT_F32) {
		k_error(g, n, d, "dtype %s is not supported", ir_dtype_name(x->dt));
		return -1;
	}
	if (x->shape.rank < 2) {
		char b[96];
		k_error(g, n, d, "input %s has rank %d; batchnorm needs [N,C,...]",
		        ir_shape_str(&x->shape, b, sizeof b), x->shape.rank);
		return -1;
	}
	int64_t c = x->shape.d[1];
	for (int k = 1; k < 5; k++) {
		const ir_value *p = n->in[k];
		if (p->dt == IR_DT_UNDEF || p->shape.rank < 0)
			return k_defer(n);
		if (p->dt != IR_DT_F32) {
			k_error(g, n, d, "%s has dtype %s; only f32 is supported", bn_param_name[k],
			        ir_dtype_name(p->dt));
			return -1;
		}
		if (p->shape.rank != 1 || p->shape.d[0] != c) {
			char b[96];
			k_error(g, n, d, "%s has shape %s, expected [%lld] (channels of input)",
			        bn_param_name[k], ir_shape_str(&p->shape, b, sizeof b), (long long)c);
			return -1;
		}
	}
	k_set_out(n, 0, IR_DT_F32, &x->shape);
	return 0;
}

/* Inference mode: y = scale * (x - mean) / sqrt(var + eps) + B, per channel
 * on axis 1, computed in the order of the ONNX reference. */
int ir_eval_batchnorm(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	if (check_f32_same(n, in[0], out[0], d))
		return -1;
	const ir_tensor *x = in[0];
	if (x->shape.rank < 2) {
		k_error(NULL, n, d, "input has rank %d; batchnorm needs [N,C,...]", x->shape.rank);
		return -1;
	}
	int64_t nb = x->shape.d[0], c = x->shape.d[1], inner = 1;
	for (int i = 2; i < x->shape.rank; i++)
		inner *= x->shape.d[i];
	for (int k = 1; k < 5; k++)
		if (!in[k] || in[k]->dt != IR_DT_F32 || numel(in[k]) != c) {
			k_error(NULL, n, d, "%s must be f32 with %lld elements", bn_param_name[k],
			        (long long)c);
			return -1;
		}
	const float *scale = in[1]->data, *bias = in[2]->data, *mean = in[3]->data,
	            *var = in[4]->data;
	float eps = ir_attr_float(n, "epsilon", 1e-5f);
	const float *xp = x->data;
	float *yp = out[0]->data;
	for (int64_t b = 0; b < nb; b++)
		for (int64_t ch = 0; ch < c; ch++) {
			float den = sqrtf(var[ch] + eps);
			for (int64_t i = 0; i < inner; i++) {
				int64_t k = (b * c + ch) * inner + i;
				yp[k] = (xp[k] - mean[ch]) / den * scale[ch] + bias[ch];
			}
		}
	return 0;
}

/* ---------------------------------------------------------------- prelu */

/* Where slope sits against X.  ONNX (opset 7+) broadcasts slope to X
 * unidirectionally.  Models exported by old PyTorch (opset 6, e.g. the
 * test_PReLU_*_multiparam conformance tests) give a 1-D slope [C] against
 * X [N,C,...] where numpy broadcasting fails; opset 6 meant per-channel on
 * axis 1, so such a slope is read as [C,1,...,1].  Returns -1 if neither
 * rule applies. */
static int prelu_slope_shape(const ir_shape *x, const ir_shape *slope, ir_shape *eff)
{
	ir_shape o;
	if (k_broadcast_shape(x, slope, &o) == 0 && ir_shape_eq(&o, x)) {
		*eff = *slope;
		return 0;
	}
	if (slope->rank == 1 && x->rank >= 2 && x->d[1] == slope->d[0]) {
		memset(eff, 0, sizeof *eff);
		eff->rank = x->rank - 1;
		eff->d[0] = slope->d[0];
		for (int i = 1; i < eff->rank; i++)
			eff->d[i] = 1;
		return 0;
	}
	return -1;
}

int ir_infer_prelu(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d) || !k_need_in(g, n, 1, d))
		return -1;
	const ir_value *x = n->in[0], *s = n->in[1];
	if (x->dt == IR_DT_UNDEF || s->dt == IR_DT_UNDEF || x->shape.rank < 0 || s->shape.rank < 0)
		return k_defer(n);
	if (x->dt != IR_DT_F32 || s->dt != IR_DT_F32) {
		k_error(g, n, d, "dtype %s is not supported",
		        ir_dtype_name(x->dt != IR_DT_F32 ? x->dt : s->dt));
		return -1;
	}
	ir_shape eff;
	if (prelu_slope_shape(&x->shape, &s->shape, &eff)) {
		char a[96], b[96];
		k_error(g, n, d, "slope %s does not broadcast to input %s",
		        ir_shape_str(&s->shape, b, sizeof b), ir_shape_str(&x->shape, a, sizeof a));
		return -1;
	}
	k_set_out(n, 0, IR_DT_F32, &x->shape);
	return 0;
}

int ir_eval_prelu(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	if (check_f32_same(n, in[0], out[0], d))
		return -1;
	ir_shape eff;
	if (!in[1] || in[1]->dt != IR_DT_F32 || prelu_slope_shape(&in[0]->shape, &in[1]->shape, &eff)) {
		k_error(NULL, n, d, "slope does not broadcast to the input");
		return -1;
	}
	const ir_shape *ops[2] = {&in[0]->shape, &eff};
	bcast_iter it;
	bcast_init(&it, &out[0]->shape, 2, ops);
	const float *x = in[0]->data, *s = in[1]->data;
	float *y = out[0]->data;
	int64_t cnt = numel(out[0]);
	for (int64_t i = 0; i < cnt; i++, bcast_next(&it)) {
		float v = x[it.off[0]];
		y[i] = v < 0 ? s[it.off[1]] * v : v;
	}
	return 0;
}

/* ----------------------------------------------------------------- clip */

/* Clip works on f32 and on the integer types: PyTorch exports clamp on
 * i64 shape arithmetic. */
int ir_infer_clip(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d))
		return -1;
	const ir_value *x = n->in[0];
	if (x->dt == IR_DT_UNDEF)
		return k_defer(n);
	if (x->dt != IR_DT_F32 && !is_int_dtype(x->dt)) {
		k_error(g, n, d, "dtype %s is not supported", ir_dtype_name(x->dt));
		return -1;
	}
	for (int k = 1; k < 3; k++) {
		const ir_value *b = k_opt_val(n, k);
		if (!b)
			continue;
		if (b->dt == IR_DT_UNDEF || b->shape.rank < 0)
			return k_defer(n);
		if (b->dt != x->dt) {
			k_error(g, n, d, "%s has dtype %s, input has %s", k == 1 ? "min" : "max",
			        ir_dtype_name(b->dt), ir_dtype_name(x->dt));
			return -1;
		}
		if (ir_shape_numel(&b->shape) != 1) {
			char s[96];
			k_error(g, n, d, "%s must be a scalar, got shape %s", k == 1 ? "min" : "max",
			        ir_shape_str(&b->shape, s, sizeof s));
			return -1;
		}
	}
	k_set_out(n, 0, x->dt, &x->shape);
	return 0;
}

int ir_eval_clip(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *x = in[0], *lo = opt_in(n, in, 1), *hi = opt_in(n, in, 2);
	ir_dtype dt = out[0]->dt;
	int64_t cnt = numel(out[0]);
	if (!x || x->dt != dt || numel(x) != cnt || (lo && lo->dt != dt) || (hi && hi->dt != dt)) {
		k_error(NULL, n, d, "operands do not match the inferred output");
		return -1;
	}
	if (dt == IR_DT_F32) {
		/* Absent bounds are -inf/+inf; NaN input passes through. */
		float mn = lo ? *(const float *)lo->data : -INFINITY;
		float mx = hi ? *(const float *)hi->data : INFINITY;
		const float *xp = x->data;
		float *yp = out[0]->data;
		for (int64_t i = 0; i < cnt; i++) {
			float v = xp[i];
			if (v < mn)
				v = mn;
			if (v > mx)
				v = mx;
			yp[i] = v;
		}
		return 0;
	}
	if (!is_int_dtype(dt)) {
		k_error(NULL, n, d, "dtype %s is not supported", ir_dtype_name(dt));
		return -1;
	}
	int64_t mn = lo ? ld_int(dt, lo->data, 0) : INT64_MIN;
	int64_t mx = hi ? ld_int(dt, hi->data, 0) : INT64_MAX;
	for (int64_t i = 0; i < cnt; i++) {
		int64_t v = ld_int(dt, x->data, i);
		if (v < mn)
			v = mn;
		if (v > mx)
			v = mx;
		st_int(dt, out[0]->data, i, v);
	}
	return 0;
}

/* ------------------------------------------------- binary arithmetic */

typedef enum { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV, BIN_POW, BIN_MAX, BIN_MIN, BIN_MOD, BIN_FMOD } bin_op;

/* ------------------------------------------- integer add and mul */

/* add and mul whose operand 0 is an integer activation (i8/u8/i16/u16
 * with a quant) compute on the grid, as TFLite's quantized Add and Mul
 * (CMSIS-NN arm_elementwise_add_s8/_mul_s8), with z1, z2, zy the zero
 * points and m/s the rq_mult/rq_shift entries:
 *   add: a = R((q1 - z1) << left_shift, m0, s0), b = R((q2 - z2) << left_shift, m1, s1),
 *        y = sat(R(a + b, m2, s2) + zy)
 *   mul: y = sat(R((q1 - z1) * (q2 - z2), m0, s0) + zy)
 * R is ir_requant_apply; int32 arithmetic wraps (the pass that derives
 * the multipliers keeps the shifted differences in range).  mul ignores
 * left_shift. */
static bool qbin_taken(const ir_node *n, const ir_value *a)
{
	return (n->op == IR_OP_ADD || n->op == IR_OP_MUL) && ir_dtype_is_qint(a->dt) && a->quant;
}

static bool qbin_any_attr(const ir_node *n)
{
	return ir_node_attr(n, "rq_mult") || ir_node_attr(n, "rq_shift") ||
	       ir_node_attr(n, "left_shift");
}

/* Operands, output quant and attributes of an integer add/mul; g may be
 * NULL (evaluation). */
static int qbin_check(const ir_graph *g, const ir_node *n, diag_sink *d)
{
	const char *op = ir_op_name(n->op);
	const ir_value *a = n->in[0], *y = n->out[0];
	for (int k = 0; k < 2; k++) {
		const ir_value *v = n->in[k];
		const ir_quant *q = v->quant;
		if (v->dt != a->dt) {
			k_error(g, n, d, "operand %d '%s' is %s; an integer %s needs both operands %s", k,
			        v->name, ir_dtype_name(v->dt), op, ir_dtype_name(a->dt));
			return -1;
		}
		if (!q || q->scheme != IR_QS_AFFINE || q->codes || !q->scale || q->nchan != 1) {
			k_error(g, n, d, "operand %d '%s' (%s) needs a per-tensor affine quantization in "
			        "its type for an integer %s", k, v->name, ir_dtype_name(v->dt), op);
			return -1;
		}
	}
	const ir_quant *qy = y->quant;
	if (!qy || qy->scheme != IR_QS_AFFINE || qy->codes || !qy->scale || qy->nchan != 1) {
		k_error(g, n, d, "output '%s' of an integer %s needs a per-tensor affine quantization",
		        y->name, op);
		return -1;
	}
	int want = n->op == IR_OP_ADD ? 3 : 1, nm = 0, ns = 0;
	const int64_t *mult = ir_attr_ints(n, "rq_mult", &nm);
	const int64_t *shift = ir_attr_ints(n, "rq_shift", &ns);
	if (!mult || !shift || nm != want || ns != want) {
		k_error(g, n, d, "an integer %s needs rq_mult and rq_shift with %s", op,
		        want == 3 ? "3 entries each (input 1, input 2, output)" : "1 entry each");
		return -1;
	}
	for (int i = 0; i < want; i++)
		if (mult[i] < 0 || mult[i] > INT32_MAX || shift[i] < -31 || shift[i] > 30) {
			k_error(g, n, d, "rq_mult[%d]=%lld, rq_shift[%d]=%lld are out of range "
			        "([0, 2^31), [-31, 30])", i, (long long)mult[i], i, (long long)shift[i]);
			return -1;
		}
	if (n->op == IR_OP_ADD) {
		const ir_attr *ls = ir_node_attr(n, "left_shift");
		int64_t v = ir_attr_int(n, "left_shift", -1);
		if (!ls || v < 0 || v > 30) {
			k_error(g, n, d, "an integer add needs left_shift in [0, 30]%s",
			        ls ? "" : " (it is missing)");
			return -1;
		}
	}
	return 0;
}

static int infer_qbinary(ir_graph *g, ir_node *n, diag_sink *d)
{
	const ir_value *a = n->in[0], *b = n->in[1];
	if (b->dt == IR_DT_UNDEF)
		return k_defer(n);
	if (qbin_check(g, n, d))
		return -1;
	if (a->shape.rank < 0 || b->shape.rank < 0) {
		n->out[0]->dt = a->dt;
		return k_defer(n);
	}
	ir_shape o;
	if (k_broadcast_shape(&a->shape, &b->shape, &o)) {
		char sa[96], sb[96];
		k_error(g, n, d, "cannot broadcast %s with %s", ir_shape_str(&a->shape, sa, sizeof sa),
		        ir_shape_str(&b->shape, sb, sizeof sb));
		return -1;
	}
	k_set_out(n, 0, a->dt, &o); /* the output's quant stays: it is its type */
	return 0;
}

static int32_t zp_of(const ir_quant *q)
{
	return q->zero_point ? q->zero_point[0] : 0;
}

static int eval_qbinary(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out,
                        diag_sink *d)
{
	const ir_tensor *a = in[0], *b = in[1];
	ir_tensor *y = out[0];
	ir_shape o;
	if (!a || !b || a->dt != n->in[0]->dt || b->dt != a->dt || y->dt != a->dt ||
	    k_broadcast_shape(&a->shape, &b->shape, &o) || !ir_shape_eq(&o, &y->shape)) {
		k_error(NULL, n, d, "operands do not match the inferred output");
		return -1;
	}
	if (qbin_check(NULL, n, d))
		return -1;
	int cnt_m = 0;
	const int64_t *m = ir_attr_ints(n, "rq_mult", &cnt_m), *s = ir_attr_ints(n, "rq_shift", &cnt_m);
	int ls = (int)ir_attr_int(n, "left_shift", 0);
	int32_t z1 = zp_of(n->in[0]->quant), z2 = zp_of(n->in[1]->quant), zy = zp_of(n->out[0]->quant);
	int64_t lo, hi;
	ir_value_range(n->out[0], &lo, &hi);
	const ir_shape *ops[2] = {&a->shape, &b->shape};
	bcast_iter it;
	bcast_init(&it, &y->shape, 2, ops);
	int64_t cnt = numel(y);
	for (int64_t i = 0; i < cnt; i++, bcast_next(&it)) {
		/* q - z in int32 (exact for a zero point in the dtype's range) */
		int32_t d1 = (int32_t)(ld_int(a->dt, a->data, it.off[0]) - z1);
		int32_t d2 = (int32_t)(ld_int(b->dt, b->data, it.off[1]) - z2);
		int32_t r;
		if (n->op == IR_OP_ADD) {
			int32_t x1 = (int32_t)((uint32_t)d1 << ls), x2 = (int32_t)((uint32_t)d2 << ls);
			x1 = ir_requant_apply(x1, (int32_t)m[0], (int32_t)s[0]);
			x2 = ir_requant_apply(x2, (int32_t)m[1], (int32_t)s[1]);
			int32_t sum = (int32_t)((uint32_t)x1 + (uint32_t)x2);
			r = ir_requant_apply(sum, (int32_t)m[2], (int32_t)s[2]);
		} else {
			int32_t prod = (int32_t)((uint32_t)d1 * (uint32_t)d2);
			r = ir_requant_apply(prod, (int32_t)m[0], (int32_t)s[0]);
		}
		int64_t v = (int64_t)r + zy;
		st_int(y->dt, y->data, i, v < lo ? lo : v > hi ? hi : v);
	}
	return 0;
}

static int infer_binary(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d) || !k_need_in(g, n, 1, d))
		return -1;
	const ir_value *a = n->in[0], *b = n->in[1];
	if (a->dt == IR_DT_UNDEF)
		return k_defer(n);
	if (qbin_taken(n, a))
		return infer_qbinary(g, n, d);
	if (qbin_any_attr(n)) {
		k_error(g, n, d, "rq_mult/rq_shift/left_shift given but operand 0 '%s' (%s) is not a "
		        "quantized integer (i8, u8, i16, u16 with a quantization)", a->name,
		        ir_dtype_name(a->dt));
		return -1;
	}
	if (b->dt == IR_DT_UNDEF)
		return k_defer(n);
	/* Pow's exponent may have its own type (f32 ** i64, i32 ** f32); the
	 * result has the base's */
	bool mixed_pow = n->op == IR_OP_POW && a->dt != b->dt &&
	                 (a->dt == IR_DT_F32 || is_int_dtype(a->dt)) && (b->dt == IR_DT_F32 || is_int_dtype(b->dt));
	if (a->dt != b->dt && !mixed_pow) {
		k_error(g, n, d, "operand dtypes differ: %s and %s", ir_dtype_name(a->dt),
		        ir_dtype_name(b->dt));
		return -1;
	}
	if (a->dt != IR_DT_F32 && !is_int_dtype(a->dt)) {
		k_error(g, n, d, "dtype %s is not supported", ir_dtype_name(a->dt));
		return -1;
	}
	if (a->shape.rank < 0 || b->shape.rank < 0) {
		n->out[0]->dt = a->dt;
		return k_defer(n);
	}
	ir_shape o;
	if (k_broadcast_shape(&a->shape, &b->shape, &o)) {
		char sa[96], sb[96];
		k_error(g, n, d, "cannot broadcast %s with %s", ir_shape_str(&a->shape, sa, sizeof sa),
		        ir_shape_str(&b->shape, sb, sizeof sb));
		return -1;
	}
	k_set_out(n, 0, a->dt, &o);
	return 0;
}

/* Integer arithmetic.  Sums and products go through uint64_t so that
 * overflow wraps instead of being undefined; the store then wraps to the
 * element width.  Division truncates toward zero: the ONNX spec says so
 * (onnx/onnx#7585) and onnxruntime does it. */
static int int_binop(const ir_node *n, bin_op op, int64_t a, int64_t b, int64_t *r, diag_sink *d)
{
	switch (op) {
	case BIN_ADD: *r = (int64_t)((uint64_t)a + (uint64_t)b); return 0;
	case BIN_SUB: *r = (int64_t)((uint64_t)a - (uint64_t)b); return 0;
	case BIN_MUL: *r = (int64_t)((uint64_t)a * (uint64_t)b); return 0;
	case BIN_DIV:
		if (b == 0) {
			k_error(NULL, n, d, "integer division by zero");
			return -1;
		}
		/* INT64_MIN / -1 overflows in C; it wraps to INT64_MIN. */
		*r = b == -1 ? (int64_t)(0 - (uint64_t)a) : a / b;
		return 0;
	case BIN_POW: {
		if (b < 0) {
			k_error(NULL, n, d, "integer power with a negative exponent (%lld)", (long long)b);
			return -1;
		}
		uint64_t p = 1, base = (uint64_t)a;
		for (; b; b >>= 1, base *= base)
			if (b & 1)
				p *= base;
		*r = (int64_t)p;
		return 0;
	}
	case BIN_MAX: *r = a > b ? a : b; return 0;
	case BIN_MIN: *r = a < b ? a : b; return 0;
	case BIN_MOD:
	case BIN_FMOD:
		if (b == 0) {
			k_error(NULL, n, d, "integer modulo by zero");
			return -1;
		}
		/* C's remainder takes the dividend's sign (fmod=1); Python's,
		 * the default, the divisor's.  x % -1 is 0 (INT64_MIN % -1 traps
		 * in C). */
		*r = b == -1 ? 0 : a % b;
		if (op == BIN_MOD && *r != 0 && (*r < 0) != (b < 0))
			*r += b;
		return 0;
	}
	return 0;
}

static float f32_binop(bin_op op, float a, float b)
{
	switch (op) {
	case BIN_ADD: return a + b;
	case BIN_SUB: return a - b;
	case BIN_MUL: return a * b;
	case BIN_DIV: return a / b;
	case BIN_POW: return powf(a, b);
	/* NaN in either operand gives NaN, as numpy's maximum and minimum */
	case BIN_MAX: return a > b || a != a ? a : b;
	case BIN_MIN: return a < b || a != a ? a : b;
	case BIN_MOD: /* floats take fmod=1 only (ir_infer_mod) */
	case BIN_FMOD: return fmodf(a, b);
	}
	return 0;
}

/* Pow with an exponent of another type, in double: an f32 result is
 * rounded, an integer one truncated (numpy's astype). */
static int eval_mixed_pow(const ir_tensor *a, const ir_tensor *b, ir_tensor *y)
{
	const ir_shape *ops[2] = {&a->shape, &b->shape};
	bcast_iter it;
	bcast_init(&it, &y->shape, 2, ops);
	int64_t cnt = numel(y);
	for (int64_t i = 0; i < cnt; i++, bcast_next(&it)) {
		double va = a->dt == IR_DT_F32 ? ((const float *)a->data)[it.off[0]] : (double)ld_int(a->dt, a->data, it.off[0]);
		double vb = b->dt == IR_DT_F32 ? ((const float *)b->data)[it.off[1]] : (double)ld_int(b->dt, b->data, it.off[1]);
		double r = pow(va, vb);
		if (y->dt == IR_DT_F32)
			((float *)y->data)[i] = (float)r;
		else
			st_int(y->dt, y->data, i, isfinite(r) ? (int64_t)r : 0);
	}
	return 0;
}

static int eval_binary(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out,
                       diag_sink *d, bin_op op)
{
	if (in[0] && qbin_taken(n, n->in[0]))
		return eval_qbinary(n, in, out, d);
	const ir_tensor *a = in[0], *b = in[1];
	ir_tensor *y = out[0];
	ir_shape o;
	if (op == BIN_POW && a && b && a->dt == y->dt && b->dt != a->dt &&
	    !k_broadcast_shape(&a->shape, &b->shape, &o) && ir_shape_eq(&o, &y->shape))
		return eval_mixed_pow(a, b, y);
	if (!a || !b || a->dt != y->dt || b->dt != y->dt ||
	    k_broadcast_shape(&a->shape, &b->shape, &o) || !ir_shape_eq(&o, &y->shape)) {
		k_error(NULL, n, d, "operands do not match the inferred output");
		return -1;
	}
	const ir_shape *ops[2] = {&a->shape, &b->shape};
	bcast_iter it;
	bcast_init(&it, &y->shape, 2, ops);
	int64_t cnt = numel(y);
	if (y->dt == IR_DT_F32) {
		const float *pa = a->data, *pb = b->data;
		float *py = y->data;
		for (int64_t i = 0; i < cnt; i++, bcast_next(&it))
			py[i] = f32_binop(op, pa[it.off[0]], pb[it.off[1]]);
		return 0;
	}
	if (!is_int_dtype(y->dt)) {
		k_error(NULL, n, d, "dtype %s is not supported", ir_dtype_name(y->dt));
		return -1;
	}
	for (int64_t i = 0; i < cnt; i++, bcast_next(&it)) {
		int64_t r;
		if (int_binop(n, op, ld_int(y->dt, a->data, it.off[0]), ld_int(y->dt, b->data, it.off[1]),
		              &r, d))
			return -1;
		st_int(y->dt, y->data, i, r);
	}
	return 0;
}

int ir_infer_add(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_binary(g, n, d);
}

int ir_eval_add(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_binary(n, in, out, d, BIN_ADD);
}

int ir_infer_sub(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_binary(g, n, d);
}

int ir_eval_sub(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_binary(n, in, out, d, BIN_SUB);
}

int ir_infer_mul(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_binary(g, n, d);
}

int ir_eval_mul(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_binary(n, in, out, d, BIN_MUL);
}

int ir_infer_div(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_binary(g, n, d);
}

int ir_eval_div(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_binary(n, in, out, d, BIN_DIV);
}

/* ONNX Mod: the remainder with the divisor's sign (fmod=0, integers
 * only), or the dividend's (fmod=1: C's fmod and %). */
int ir_infer_mod(ir_graph *g, ir_node *n, diag_sink *d)
{
	int64_t fm = ir_attr_int(n, "fmod", 0);
	if (fm != 0 && fm != 1) {
		k_error(g, n, d, "fmod must be 0 or 1, not %lld", (long long)fm);
		return -1;
	}
	int rc = infer_binary(g, n, d);
	if (rc == 0 && n->in[0]->dt == IR_DT_F32 && !fm) {
		k_error(g, n, d, "a Mod of floats needs fmod=1 (ONNX: the sign-of-divisor form is for integers)");
		return -1;
	}
	return rc;
}

int ir_eval_mod(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_binary(n, in, out, d, ir_attr_int(n, "fmod", 0) ? BIN_FMOD : BIN_MOD);
}

int ir_infer_pow(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_binary(g, n, d);
}

int ir_eval_pow(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_binary(n, in, out, d, BIN_POW);
}

int ir_infer_max(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_binary(g, n, d);
}

int ir_eval_max(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_binary(n, in, out, d, BIN_MAX);
}

int ir_infer_min(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_binary(g, n, d);
}

int ir_eval_min(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_binary(n, in, out, d, BIN_MIN);
}

/* ------------------------------------------- identity, dropout, cast */

/* Any dtype: output is the input, byte for byte. */
int ir_infer_identity(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d))
		return -1;
	k_set_out(n, 0, n->in[0]->dt, &n->in[0]->shape);
	return 0;
}

static int copy_same(const ir_node *n, const ir_tensor *x, ir_tensor *y, diag_sink *d)
{
	int64_t cnt = numel(y);
	if (!x || x->dt != y->dt || numel(x) != cnt || cnt < 0) {
		k_error(NULL, n, d, "operand does not match the inferred output");
		return -1;
	}
	if (cnt)
		memcpy(y->data, x->data, (size_t)cnt * ir_dtype_size(y->dt));
	return 0;
}

int ir_eval_identity(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return copy_same(n, in[0], out[0], d);
}

/* Inference only: Y = X and a mask of all true.  ratio is ignored in
 * inference, as ONNX specifies; training mode would need random numbers
 * and is rejected. */
int ir_infer_dropout(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d))
		return -1;
	const ir_value *t = k_opt_val(n, 2);
	if (t && ir_value_is_const(t) && ir_shape_numel(&t->shape) >= 1 && ir_const_get(t, 0) != 0) {
		k_error(g, n, d, "dropout in training mode is not supported");
		return -1;
	}
	const ir_value *x = n->in[0];
	k_set_out(n, 0, x->dt, &x->shape);
	if (n->nout > 1 && n->out[1])
		k_set_out(n, 1, IR_DT_BOOL, &x->shape);
	return 0;
}

int ir_eval_dropout(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *t = opt_in(n, in, 2);
	if (t && t->dt != IR_DT_F32 && ld_int(t->dt, t->data, 0) != 0) {
		k_error(NULL, n, d, "dropout in training mode is not supported");
		return -1;
	}
	if (copy_same(n, in[0], out[0], d))
		return -1;
	if (n->nout > 1 && out[1]) {
		uint8_t *m = out[1]->data;
		int64_t cnt = numel(out[1]);
		for (int64_t i = 0; i < cnt; i++)
			m[i] = 1;
	}
	return 0;
}

int ir_infer_cast(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d))
		return -1;
	const char *to = ir_attr_str(n, "to", NULL);
	if (!to) {
		k_error(g, n, d, "attribute 'to' is missing");
		return -1;
	}
	ir_dtype dt = ir_dtype_from_name(to);
	if (dt == IR_DT_UNDEF) {
		k_error(g, n, d, "cast to unknown dtype '%s'", to);
		return -1;
	}
	/* saturate only concerns float8 targets, which the IR does not have. */
	k_set_out(n, 0, dt, &n->in[0]->shape);
	return 0;
}

/* Float to integer truncates toward zero like C.  Out-of-range values are
 * undefined in ONNX; here NaN gives 0 and the rest saturate to int64, then
 * wrap to the target width like any integer conversion (C itself leaves
 * the out-of-range conversion undefined, so it must not be reached). */
static int64_t f32_to_i64(float v)
{
	if (isnan(v))
		return 0;
	if (v >= 9223372036854775807.0f)
		return INT64_MAX;
	if (v <= -9223372036854775808.0f)
		return INT64_MIN;
	return (int64_t)v;
}

int ir_eval_cast(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *x = in[0];
	ir_tensor *y = out[0];
	int64_t cnt = numel(y);
	if (!x || numel(x) != cnt || ir_dtype_size(x->dt) == 0 || ir_dtype_size(y->dt) == 0) {
		k_error(NULL, n, d, "operand does not match the inferred output");
		return -1;
	}
	for (int64_t i = 0; i < cnt; i++) {
		if (x->dt == IR_DT_F32) {
			float v = ((const float *)x->data)[i];
			if (y->dt == IR_DT_F32)
				((float *)y->data)[i] = v;
			else if (y->dt == IR_DT_BOOL)
				((uint8_t *)y->data)[i] = v != 0; /* NaN is true, as in numpy */
			else
				st_int(y->dt, y->data, i, f32_to_i64(v));
		} else {
			int64_t v = ld_int(x->dt, x->data, i);
			if (y->dt == IR_DT_F32)
				((float *)y->data)[i] = (float)v;
			else
				st_int(y->dt, y->data, i, v);
		}
	}
	return 0;
}

/* ------------------------------------------- comparisons, logic, where */

/* Comparisons (equal, greater, less, greater_equal, less_equal: f32 or
 * integer operands of one dtype, numpy broadcasting, bool out), logic on
 * bools (and, or, xor, not) and where(cond, a, b): a where cond, else b,
 * any dtype, the three broadcast together.  Bools are bytes of 0 or 1.
 * NaN compares false, as in IEEE and numpy. */
static bool is_cmp(ir_op op)
{
	return op == IR_OP_EQUAL || op == IR_OP_GREATER || op == IR_OP_LESS || op == IR_OP_GREATER_EQUAL ||
	       op == IR_OP_LESS_EQUAL;
}

static bool int_like(ir_dtype dt)
{
	return dt == IR_DT_I8 || dt == IR_DT_U8 || dt == IR_DT_I16 || dt == IR_DT_U16 || dt == IR_DT_I32 ||
	       dt == IR_DT_I64 || dt == IR_DT_BOOL;
}

/* The result of comparison op on a and b (c < 0, = 0, > 0 as a vs b;
 * unordered: never true). */
static bool cmp_true(ir_op op, int c, bool unordered)
{
	if (unordered)
		return false;
	switch (op) {
	case IR_OP_EQUAL: return c == 0;
	case IR_OP_GREATER: return c > 0;
	case IR_OP_LESS: return c < 0;
	case IR_OP_GREATER_EQUAL: return c >= 0;
	default: return c <= 0;
	}
}

static int infer_bcast(ir_graph *g, ir_node *n, int first, ir_dtype out, diag_sink *d)
{
	ir_shape o = {.rank = 0};
	for (int k = 0; k < n->nin; k++)
		if (n->in[k]->shape.rank < 0)
			return k_defer(n);
	o = n->in[first]->shape;
	for (int k = 0; k < n->nin; k++) {
		ir_shape t;
		if (k_broadcast_shape(&o, &n->in[k]->shape, &t)) {
			char a[96], b[96];
			k_error(g, n, d, "cannot broadcast %s with %s", ir_shape_str(&o, a, sizeof a),
			        ir_shape_str(&n->in[k]->shape, b, sizeof b));
			return -1;
		}
		o = t;
	}
	k_set_out(n, 0, out, &o);
	return 0;
}

static int infer_logic(ir_graph *g, ir_node *n, diag_sink *d)
{
	for (int k = 0; k < n->nin; k++)
		if (!k_need_in(g, n, k, d))
			return -1;
	n->out[0]->dt = IR_DT_BOOL;
	for (int k = 0; k < n->nin; k++)
		if (n->in[k]->dt == IR_DT_UNDEF)
			return k_defer(n);
	const ir_value *a = n->in[0];
	if (is_cmp(n->op)) {
		const ir_value *b = n->in[1];
		if (a->dt != b->dt || (a->dt != IR_DT_F32 && !int_like(a->dt))) {
			k_error(g, n, d, "operands are %s and %s; a comparison takes two of one dtype (f32 or an integer)",
			        ir_dtype_name(a->dt), ir_dtype_name(b->dt));
			return -1;
		}
	} else {
		for (int k = 0; k < n->nin; k++)
			if (n->in[k]->dt != IR_DT_BOOL) {
				k_error(g, n, d, "input %d '%s' is %s; %s takes bools", k, n->in[k]->name,
				        ir_dtype_name(n->in[k]->dt), ir_op_name(n->op));
				return -1;
			}
	}
	return infer_bcast(g, n, 0, IR_DT_BOOL, d);
}

static int eval_logic(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	ir_tensor *y = out[0];
	int nin = n->nin;
	const ir_shape *ops[BCAST_MAXOPS];
	for (int k = 0; k < nin; k++) {
		if (!in[k]) {
			k_error(NULL, n, d, "operands do not match the inferred output");
			return -1;
		}
		ops[k] = &in[k]->shape;
	}
	bcast_iter it;
	bcast_init(&it, &y->shape, nin, ops);
	int64_t cnt = ir_shape_numel(&y->shape);
	ir_dtype dt = in[0]->dt;
	uint8_t *py = y->data;
	for (int64_t i = 0; i < cnt; i++, bcast_next(&it)) {
		bool v;
		if (n->op == IR_OP_NOT) {
			v = !ld_int(dt, in[0]->data, it.off[0]);
		} else if (!is_cmp(n->op)) {
			bool a = ld_int(dt, in[0]->data, it.off[0]) != 0, b = ld_int(dt, in[1]->data, it.off[1]) != 0;
			v = n->op == IR_OP_AND ? a && b : n->op == IR_OP_OR ? a || b : a != b;
		} else if (dt == IR_DT_F32) {
			float a = ((const float *)in[0]->data)[it.off[0]], b = ((const float *)in[1]->data)[it.off[1]];
			v = cmp_true(n->op, a < b ? -1 : a > b ? 1 : 0, a != a || b != b);
		} else {
			int64_t a = ld_int(dt, in[0]->data, it.off[0]), b = ld_int(dt, in[1]->data, it.off[1]);
			v = cmp_true(n->op, a < b ? -1 : a > b ? 1 : 0, false);
		}
		py[i] = v;
	}
	return 0;
}

#define LOGIC_OP(name)                                                                             \
	int ir_infer_##name(ir_graph *g, ir_node *n, diag_sink *d)                                 \
	{                                                                                          \
		return infer_logic(g, n, d);                                                       \
	}                                                                                          \
	int ir_eval_##name(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out,   \
	                   diag_sink *d)                                                           \
	{                                                                                          \
		return eval_logic(n, in, out, d);                                                  \
	}

LOGIC_OP(equal)
LOGIC_OP(greater)
LOGIC_OP(less)
LOGIC_OP(greater_equal)
LOGIC_OP(less_equal)
LOGIC_OP(and)
LOGIC_OP(or)
LOGIC_OP(xor)
LOGIC_OP(not)

int ir_infer_where(ir_graph *g, ir_node *n, diag_sink *d)
{
	for (int k = 0; k < 3; k++)
		if (!k_need_in(g, n, k, d))
			return -1;
	const ir_value *c = n->in[0], *a = n->in[1], *b = n->in[2];
	if (a->dt == IR_DT_UNDEF)
		return k_defer(n);
	n->out[0]->dt = a->dt;
	if (c->dt == IR_DT_UNDEF || b->dt == IR_DT_UNDEF)
		return k_defer(n);
	if (c->dt != IR_DT_BOOL) {
		k_error(g, n, d, "condition '%s' is %s; expected bool", c->name, ir_dtype_name(c->dt));
		return -1;
	}
	if (a->dt != b->dt) {
		k_error(g, n, d, "the two choices are %s and %s; expected one dtype", ir_dtype_name(a->dt),
		        ir_dtype_name(b->dt));
		return -1;
	}
	return infer_bcast(g, n, 1, a->dt, d);
}

int ir_eval_where(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	ir_tensor *y = out[0];
	for (int k = 0; k < 3; k++)
		if (!in[k]) {
			k_error(NULL, n, d, "operands do not match the inferred output");
			return -1;
		}
	const ir_shape *ops[3] = {&in[0]->shape, &in[1]->shape, &in[2]->shape};
	bcast_iter it;
	bcast_init(&it, &y->shape, 3, ops);
	int64_t cnt = ir_shape_numel(&y->shape);
	size_t es = ir_dtype_size(y->dt);
	const uint8_t *pc = in[0]->data;
	for (int64_t i = 0; i < cnt; i++, bcast_next(&it)) {
		const ir_tensor *src = pc[it.off[0]] ? in[1] : in[2];
		int64_t off = pc[it.off[0]] ? it.off[1] : it.off[2];
		memcpy((char *)y->data + (size_t)i * es, (const char *)src->data + (size_t)off * es, es);
	}
	return 0;
}
