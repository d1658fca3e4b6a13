/* k_reduce.c: reductions: softmax, log_softmax, reduce_mean.  Sums are
 * accumulated in double: this is the reference the backends are checked
 * against, so it should be the more accurate side.  softmax of an 8-bit
 * activation with a table (lut, rq_mult) is integer arithmetic only. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

static int64_t numel(const ir_tensor *t)
{
	return ir_shape_numel(&t->shape);
}

static int64_t prod(const ir_shape *s, int lo, int hi)
{
	int64_t p = 1;
	for (int i = lo; i < hi; i++)
		p *= s->d[i];
	return p;
}

/* ------------------------------------------------------------- softmax */

/* Both softmaxes: f32 in, same shape out, opset-13 single axis. */
static int infer_softmax(ir_graph *g, ir_node *n, diag_sink *d)
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
	n->out[0]->dt = IR_DT_F32;
	if (x->shape.rank < 0)
		return k_defer(n);
	int64_t a = ir_attr_int(n, "axis", -1);
	if (k_axis(a, x->shape.rank) < 0) {
		k_error(g, n, d, "axis %lld is out of range for rank %d", (long long)a, x->shape.rank);
		return -1;
	}
	k_set_out(n, 0, IR_DT_F32, &x->shape);
	return 0;
}

/* softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m) with m = max_j x_j, and
 * log_softmax(x)_i = x_i - m - log(sum_j exp(x_j - m)); subtracting the
 * max keeps exp from overflowing. */
static int eval_softmax(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out,
                        diag_sink *d, bool log_form)
{
	const ir_tensor *x = in[0];
	ir_tensor *y = out[0];
	if (!x || x->dt != IR_DT_F32 || y->dt != IR_DT_F32 || !ir_shape_eq(&x->shape, &y->shape)) {
		k_error(NULL, n, d, "operand does not match the inferred output");
		return -1;
	}
	int r = x->shape.rank;
	int axis = k_axis(ir_attr_int(n, "axis", -1), r);
	if (axis < 0) {
		k_error(NULL, n, d, "axis is out of range for rank %d", r);
		return -1;
	}
	int64_t outer = prod(&x->shape, 0, axis), len = x->shape.d[axis];
	int64_t inner = prod(&x->shape, axis + 1, r);
	const float *xp = x->data;
	float *yp = y->data;
	for (int64_t o = 0; o < outer; o++)
		for (int64_t i = 0; i < inner; i++) {
			/* Elements of this row are base + j * inner. */
			int64_t base = o * len * inner + i;
			float m = -INFINITY;
			for (int64_t j = 0; j < len; j++)
				if (xp[base + j * inner] > m)
					m = xp[base + j * inner];
			double sum = 0;
			for (int64_t j = 0; j < len; j++)
				sum += exp((double)xp[base + j * inner] - m);
			for (int64_t j = 0; j < len; j++) {
				double v = (double)xp[base + j * inner] - m;
				yp[base + j * inner] = (float)(log_form ? v - log(sum) : exp(v) / sum);
			}
		}
	return 0;
}

/* ---------------------------------------------------- integer softmax */

/* softmax of an integer activation carrying `lut` and `rq_mult` (1
 * entry), which a pass computed once: lut ~ exp(-s_in * d) * 2^15 for the
 * distance d of a code from its slice's largest, and rq_mult ~ 1/s_out.
 * On i8/u8 the table has 256 entries, one per d: e(d) = lut[d].  On i16
 * it has 513, at every 2^sh-th d (sh = `lut_shift`, 0..7), interpolated
 * like the i16 activation tables, and the last one holds from there on:
 *   k = d >> sh,  f = d & (2^sh - 1),
 *   e(d) = k < 512 ? lut[k] + floor(((lut[k+1] - lut[k]) f + h) / 2^sh)
 *                  : lut[512],          h = 2^sh / 2 (0 when sh = 0).
 * Then per slice along the axis, with m the largest q_j:
 *   e_j = e(m - q_j),  sum = sum_j e_j,
 *   y_j = clamp(floor((2 e_j M + sum) / (2 sum)) + zout)
 * i.e. round(e_j * M / sum), halves up, in int64 (e_j <= 2^16, M < 2^31).
 * Nothing here recomputes exp, so every backend matches bit for bit. */
enum { SMX_LUT_MAX = 1 << 16 };

/* e(d) above: the table's value at distance d. */
static int64_t smx_exp(const int64_t *lut, int n, int sh, int64_t d)
{
	if (n == 256)
		return lut[d];
	int64_t k = d >> sh, f = d & ((1 << sh) - 1);
	if (k >= 512)
		return lut[512];
	return k_lut_interp(lut[k], lut[k + 1], f, sh);
}

/* n's lut, lut_shift and rq_mult checked for input x of dtype dt; the lut
 * into *lut (*nlut entries), the shift into *sh, M into *mult.  -1 after
 * reporting; g may be NULL (evaluation). */
static int int_softmax_params(const ir_graph *g, const ir_node *n, const char *xname, ir_dtype dt,
                              const int64_t **lut, int *nlut, int *sh, int64_t *mult, diag_sink *d)
{
	int want = ir_act_lut_len(dt); /* the activation tables' lengths */
	if (!want) {
		k_error(g, n, d, "input '%s' is %s; an integer softmax needs an i8, u8 or i16 input",
		        xname, ir_dtype_name(dt));
		return -1;
	}
	int cnt = 0, nm = 0;
	const int64_t *t = ir_attr_ints(n, "lut", &cnt);
	if (!t || cnt != want) {
		k_error(g, n, d, "lut has %d entries; an integer softmax of %s needs %d (%s)", t ? cnt : 0,
		        ir_dtype_name(dt), want,
		        want == 256 ? "one per difference from the maximum"
		                    : "one per 2^lut_shift differences, and one past the last");
		return -1;
	}
	for (int i = 0; i < cnt; i++)
		if (t[i] < 0 || t[i] > SMX_LUT_MAX) {
			k_error(g, n, d, "lut[%d] = %lld is outside [0, %d]", i, (long long)t[i], SMX_LUT_MAX);
			return -1;
		}
	if (t[0] < 1) { /* the maximum's own term keeps every sum >= 1 */
		k_error(g, n, d, "lut[0] = %lld; an integer softmax needs lut[0] >= 1", (long long)t[0]);
		return -1;
	}
	int64_t s = ir_attr_int(n, "lut_shift", 0);
	if (ir_node_attr(n, "lut_shift") && want != 513) {
		k_error(g, n, d, "lut_shift is for an i16 softmax; its input '%s' is %s", xname,
		        ir_dtype_name(dt));
		return -1;
	}
	if (s < 0 || s > 7) {
		k_error(g, n, d, "lut_shift = %lld is outside [0, 7]", (long long)s);
		return -1;
	}
	const int64_t *m = ir_attr_ints(n, "rq_mult", &nm);
	if (!m || nm != 1) {
		k_error(g, n, d, "rq_mult has %d entries; an integer softmax needs 1", m ? nm : 0);
		return -1;
	}
	if (m[0] < 1 || m[0] > INT32_MAX) {
		k_error(g, n, d, "rq_mult = %lld is outside [1, 2^31)", (long long)m[0]);
		return -1;
	}
	*lut = t;
	*nlut = cnt;
	*sh = (int)s;
	*mult = m[0];
	return 0;
}

static int infer_int_softmax(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d))
		return -1;
	const ir_value *x = n->in[0];
	if (x->dt == IR_DT_UNDEF)
		return k_defer(n);
	const int64_t *lut;
	int64_t mult;
	int nlut, sh;
	if (int_softmax_params(g, n, x->name, x->dt, &lut, &nlut, &sh, &mult, d))
		return -1;
	const ir_quant *yq = n->out[0]->quant;
	if (yq && yq->nchan != 1) {
		k_error(g, n, d, "output '%s' is quantized per channel; an integer softmax needs one zero point",
		        n->out[0]->name);
		return -1;
	}
	n->out[0]->dt = x->dt;
	if (x->shape.rank < 0)
		return k_defer(n);
	int64_t a = ir_attr_int(n, "axis", -1);
	if (k_axis(a, x->shape.rank) < 0) {
		k_error(g, n, d, "axis %lld is out of range for rank %d", (long long)a, x->shape.rank);
		return -1;
	}
	k_set_out(n, 0, x->dt, &x->shape); /* the output's quant stays: it is its type */
	return 0;
}

static int eval_int_softmax(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out,
                            diag_sink *d)
{
	const ir_tensor *x = in[0];
	ir_tensor *y = out[0];
	const int64_t *lut;
	int64_t mult;
	int nlut, sh;
	if (!x || int_softmax_params(NULL, n, n->in[0]->name, x->dt, &lut, &nlut, &sh, &mult, d))
		return -1;
	if (y->dt != x->dt || !ir_shape_eq(&x->shape, &y->shape)) {
		k_error(NULL, n, d, "operand does not match the inferred output");
		return -1;
	}
	int r = x->shape.rank;
	int axis = k_axis(ir_attr_int(n, "axis", -1), r);
	if (axis < 0) {
		k_error(NULL, n, d, "axis is out of range for rank %d", r);
		return -1;
	}
	const ir_quant *yq = n->out[0]->quant;
	int64_t zout = yq && yq->zero_point ? yq->zero_point[0] : 0, lo, hi;
	ir_value_range(n->out[0], &lo, &hi);
	int64_t outer = prod(&x->shape, 0, axis), len = x->shape.d[axis];
	int64_t inner = prod(&x->shape, axis + 1, r);
	for (int64_t o = 0; o < outer; o++)
		for (int64_t i = 0; i < inner; i++) {
			int64_t base = o * len * inner + i;
			int64_t m = INT64_MIN, sum = 0;
			for (int64_t j = 0; j < len; j++) {
				int64_t q = k_int_get(x->data, x->dt, base + j * inner);
				m = q > m ? q : m;
			}
			for (int64_t j = 0; j < len; j++)
				sum += smx_exp(lut, nlut, sh, m - k_int_get(x->data, x->dt, base + j * inner));
			for (int64_t j = 0; j < len; j++) {
				int64_t k = base + j * inner;
				int64_t e = smx_exp(lut, nlut, sh, m - k_int_get(x->data, x->dt, k));
				int64_t v = (e * mult * 2 + sum) / (2 * sum) + zout; /* all >= 0: floor */
				k_int_put(y->data, y->dt, k, v < lo ? lo : v > hi ? hi : v);
			}
		}
	return 0;
}

/* The integer form is chosen by its attributes: a lut or an rq_mult asks
 * for it (and is never ignored); without either, softmax is the f32 op. */
static bool int_softmax(const ir_node *n)
{
	return ir_node_attr(n, "lut") || ir_node_attr(n, "rq_mult");
}

int ir_infer_softmax(ir_graph *g, ir_node *n, diag_sink *d)
{
	return int_softmax(n) ? infer_int_softmax(g, n, d) : infer_softmax(g, n, d);
}

int ir_eval_softmax(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return int_softmax(n) ? eval_int_softmax(n, in, out, d) : eval_softmax(n, in, out, d, false);
}

int ir_infer_log_softmax(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_softmax(g, n, d);
}

int ir_eval_log_softmax(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_softmax(n, in, out, d, true);
}

/* ---------------------------------------------------------- reduce_mean */

/* Which axes of a rank-r tensor are reduced, from the axes operand (v,
 * cnt; cnt < 0 means absent or empty).  Absent axes reduce everything,
 * unless noop_with_empty_axes makes the op an identity.  -1 (reported) on
 * a bad axis. */
static int reduce_axes(ir_graph *g, const ir_node *n, int r, const int64_t *v, int cnt, bool *red,
                       diag_sink *d)
{
	bool noop = ir_attr_int(n, "noop_with_empty_axes", 0) != 0;
	for (int i = 0; i < r; i++)
		red[i] = cnt <= 0 && !noop;
	for (int i = 0; i < cnt; i++) {
		int a = k_axis(v[i], r);
		if (a < 0) {
			k_error(g, n, d, "axis %lld is out of range for rank %d", (long long)v[i], r);
			return -1;
		}
		if (red[a]) {
			k_error(g, n, d, "axis %lld is repeated", (long long)v[i]);
			return -1;
		}
		red[a] = true;
	}
	return 0;
}

int k_reduce_axes(const ir_node *n, int r, const int64_t *axes, int cnt, bool *red, diag_sink *d)
{
	return reduce_axes(NULL, n, r, axes, cnt, red, d);
}

/* Output shape: reduced axes become 1 (keepdims) or disappear. */
static ir_shape reduce_shape(const ir_shape *s, const bool *red, bool keep)
{
	ir_shape o = {.rank = 0};
	for (int i = 0; i < s->rank; i++) {
		if (!red[i])
			o.d[o.rank++] = s->d[i];
		else if (keep)
			o.d[o.rank++] = 1;
	}
	return o;
}

/* The reductions that also take integers (shape arithmetic: ReduceProd
 * of a Shape, ReduceMax of sizes). */
static bool reduce_takes_ints(ir_op op)
{
	return op == IR_OP_REDUCE_SUM || op == IR_OP_REDUCE_MAX || op == IR_OP_REDUCE_MIN ||
	       op == IR_OP_REDUCE_PROD;
}

/* Every reduction: reduce_mean, _sum, _max, _min, _prod, _l1, _l2,
 * _sum_square, _log_sum_exp (ONNX's Reduce* with opset-18 axes). */
static int infer_reduce(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d))
		return -1;
	const ir_value *x = n->in[0];
	if (x->dt == IR_DT_UNDEF)
		return k_defer(n);
	if (x->dt != IR_DT_F32 &&
	    !(reduce_takes_ints(n->op) && (x->dt == IR_DT_I64 || x->dt == IR_DT_I32))) {
		k_error(g, n, d, "dtype %s is not supported", ir_dtype_name(x->dt));
		return -1;
	}
	n->out[0]->dt = x->dt;
	if (x->shape.rank < 0)
		return k_defer(n);
	int r = x->shape.rank;
	int64_t v[IR_MAX_RANK];
	int cnt = -1;
	const ir_value *av = n->nin > 1 ? n->in[1] : NULL;
	if (av) {
		/* Even an empty axes operand must be known: empty changes meaning. */
		if (!ir_value_is_const(av))
			return k_defer(n);
		if (av->dt != IR_DT_I64 && av->dt != IR_DT_I32) {
			k_error(g, n, d, "axes has dtype %s; expected i64", ir_dtype_name(av->dt));
			return -1;
		}
		cnt = ir_const_ints(av, v, IR_MAX_RANK);
		if (cnt < 0) {
			k_error(g, n, d, "axes has %lld elements; rank is %d",
			        (long long)ir_shape_numel(&av->shape), r);
			return -1;
		}
	}
	bool red[IR_MAX_RANK];
	if (reduce_axes(g, n, r, v, cnt, red, d))
		return -1;
	/* Reducing the symbolic batch dim gives a concrete 1 or drops it, and
	 * a kept one stays first: the batch stays in d[0] either way. */
	ir_shape o = reduce_shape(&x->shape, red, ir_attr_int(n, "keepdims", 1) != 0);
	k_set_out(n, 0, x->dt, &o);
	return 0;
}

/* The start of a slot, one element folded in, and the slot's value from
 * its accumulator and element count (mean: /count; l2: sqrt; ...).  Float
 * slots accumulate in double; the backends (l_reduce.c) do the same steps
 * in f32. */
static double red_init(ir_op op)
{
	switch (op) {
	case IR_OP_REDUCE_MAX: return -INFINITY;
	case IR_OP_REDUCE_MIN: return INFINITY;
	case IR_OP_REDUCE_PROD: return 1;
	default: return 0;
	}
}

static double red_step(ir_op op, double acc, double v)
{
	switch (op) {
	case IR_OP_REDUCE_MAX: return v > acc ? v : acc;
	case IR_OP_REDUCE_MIN: return v < acc ? v : acc;
	case IR_OP_REDUCE_PROD: return acc * v;
	case IR_OP_REDUCE_L1: return acc + fabs(v);
	case IR_OP_REDUCE_L2:
	case IR_OP_REDUCE_SUM_SQUARE: return acc + v * v;
	case IR_OP_REDUCE_LOG_SUM_EXP: return acc + exp(v);
	default: return acc + v;
	}
}

static double red_done(ir_op op, double acc, int64_t per)
{
	switch (op) {
	case IR_OP_REDUCE_MEAN: return per ? acc / (double)per : NAN; /* mean of none: NaN, as numpy */
	case IR_OP_REDUCE_L2: /* Sqrt(ReduceSumSquare(x)), ONNX's function body: the sum an f32 tensor, inf
	                       * past FLT_MAX as on every backend and in PyTorch */
		return sqrt((double)(float)acc);
	case IR_OP_REDUCE_LOG_SUM_EXP: return log(acc);
	default: return acc;
	}
}

/* Integer slots (sum, max, min, prod of i32/i64): wrapping arithmetic. */
static int64_t red_step_int(ir_op op, int64_t acc, int64_t v)
{
	switch (op) {
	case IR_OP_REDUCE_MAX: return v > acc ? v : acc;
	case IR_OP_REDUCE_MIN: return v < acc ? v : acc;
	case IR_OP_REDUCE_PROD: return (int64_t)((uint64_t)acc * (uint64_t)v);
	default: return (int64_t)((uint64_t)acc + (uint64_t)v);
	}
}

static int eval_reduce(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *x = in[0];
	ir_tensor *y = out[0];
	bool ints = x && (x->dt == IR_DT_I64 || x->dt == IR_DT_I32) && reduce_takes_ints(n->op);
	if (!x || (x->dt != IR_DT_F32 && !ints) || y->dt != x->dt) {
		k_error(NULL, n, d, "operand does not match the inferred output");
		return -1;
	}
	int r = x->shape.rank;
	int64_t v[IR_MAX_RANK];
	int cnt = -1;
	const ir_tensor *at = n->nin > 1 ? in[1] : NULL;
	if (at) {
		int64_t c = numel(at);
		if ((at->dt != IR_DT_I64 && at->dt != IR_DT_I32) || c < 0 || c > IR_MAX_RANK) {
			k_error(NULL, n, d, "axes must be i32/i64 with at most %d elements", IR_MAX_RANK);
			return -1;
		}
		for (int64_t i = 0; i < c; i++)
			v[i] = at->dt == IR_DT_I64 ? ((const int64_t *)at->data)[i]
			                           : ((const int32_t *)at->data)[i];
		cnt = (int)c;
	}
	bool red[IR_MAX_RANK];
	if (reduce_axes(NULL, n, r, v, cnt, red, d))
		return -1;
	bool keep = ir_attr_int(n, "keepdims", 1) != 0;
	ir_shape o = reduce_shape(&x->shape, red, keep);
	if (ir_shape_numel(&o) != numel(y)) {
		k_error(NULL, n, d, "operand does not match the inferred output");
		return -1;
	}
	/* Walk the input once, adding each element into the output slot it
	 * reduces to: the output index is the input index with reduced axes
	 * pinned to 0, laid out in the keepdims shape (same order either way). */
	ir_shape ko = reduce_shape(&x->shape, red, true);
	int64_t kst[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
	k_strides(&ko, kst);
	int64_t nout = numel(y), nin = numel(x);
	double *acc = malloc(sizeof *acc * (size_t)(nout ? nout : 1));
	int64_t *iacc = malloc(sizeof *iacc * (size_t)(nout ? nout : 1));
	if (!acc || !iacc) {
		free(acc);
		free(iacc);
		k_error(NULL, n, d, "out of memory");
		return -1;
	}
	ir_op op = n->op;
	int64_t istart = op == IR_OP_REDUCE_MAX ? INT64_MIN : op == IR_OP_REDUCE_MIN ? INT64_MAX
	                 : op == IR_OP_REDUCE_PROD                                  ? 1
	                                                                            : 0;
	for (int64_t k = 0; k < nout; k++) {
		acc[k] = red_init(op);
		iacc[k] = istart;
	}
	for (int64_t k = 0; k < nin; k++) {
		int64_t dst = 0;
		for (int i = 0; i < r; i++)
			dst += red[i] ? 0 : idx[i] * kst[i];
		if (!ints)
			acc[dst] = red_step(op, acc[dst], ((const float *)x->data)[k]);
		else
			iacc[dst] = red_step_int(op, iacc[dst],
			                         x->dt == IR_DT_I64 ? ((const int64_t *)x->data)[k]
			                                            : ((const int32_t *)x->data)[k]);
		for (int i = r - 1; i >= 0; i--) {
			if (++idx[i] < x->shape.d[i])
				break;
			idx[i] = 0;
		}
	}
	/* Count of elements folded into each output. */
	int64_t per = 1;
	for (int i = 0; i < r; i++)
		if (red[i])
			per *= x->shape.d[i];
	for (int64_t k = 0; k < nout; k++) {
		if (!ints)
			((float *)y->data)[k] = (float)red_done(op, acc[k], per);
		else if (y->dt == IR_DT_I64)
			((int64_t *)y->data)[k] = iacc[k];
		else
			((int32_t *)y->data)[k] = (int32_t)iacc[k];
	}
	free(acc);
	free(iacc);
	return 0;
}

#define REDUCE_OP(name)                                                                            \
	int ir_infer_##name(ir_graph *g, ir_node *n, diag_sink *d)                                 \
	{                                                                                          \
		return infer_reduce(g, n, d);                                                      \
	}                                                                                          \
	int ir_eval_##name(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out,   \
	                   diag_sink *d)                                                           \
	{                                                                                          \
		return eval_reduce(n, in, out, d);                                                 \
	}

REDUCE_OP(reduce_mean)
REDUCE_OP(reduce_sum)
REDUCE_OP(reduce_max)
REDUCE_OP(reduce_min)
REDUCE_OP(reduce_prod)
REDUCE_OP(reduce_l1)
REDUCE_OP(reduce_l2)
REDUCE_OP(reduce_sum_square)
REDUCE_OP(reduce_log_sum_exp)

/* -------------------------------------------- layer_norm, instance_norm */

/* Both normalise rows of a tensor: layer_norm the last dims from `axis`
 * (ONNX LayerNormalization, opset 17: Scale and B over those dims, or one
 * element each), instance_norm the spatial dims of each (batch, channel)
 * (ONNX InstanceNormalization: Scale and B per channel).  Per row of L
 * elements: mean, var = mean((x - mean)^2), then
 *   y = (x - mean) * (1 / sqrt(var + epsilon)) * scale + B,
 * in f32, summed in order: the backends do the same steps, so a norm
 * between integer layers (a float island at -a 8) gives the same bits
 * on every engine and the requantization after it cannot flip. */
static int norm_rows(const ir_node *n, const ir_shape *xs, int64_t *rows, int64_t *len)
{
	int r = xs->rank, a = n->op == IR_OP_LAYER_NORM ? k_axis(ir_attr_int(n, "axis", -1), r) : 2;
	if (a < 0 || (n->op == IR_OP_INSTANCE_NORM && r < 3))
		return -1;
	*rows = prod(xs, 0, a);
	*len = prod(xs, a, r);
	return 0;
}

/* Elements scale/B must have: layer_norm L (or 1), instance_norm C. */
static int norm_param_ok(const ir_node *n, const ir_shape *xs, int64_t len, int64_t cnt)
{
	if (n->op == IR_OP_INSTANCE_NORM)
		return cnt == xs->d[1];
	return cnt == len || cnt == 1;
}

static int infer_norm(ir_graph *g, ir_node *n, diag_sink *d)
{
	int np = n->op == IR_OP_LAYER_NORM ? 2 : 3;
	for (int k = 0; k < np; k++)
		if (!k_need_in(g, n, k, d))
			return -1;
	const ir_value *x = n->in[0];
	for (int k = 0; k < n->nin; k++) {
		const ir_value *v = n->in[k];
		if (!v || v->dt == IR_DT_UNDEF)
			continue;
		if (v->dt != IR_DT_F32) {
			k_error(g, n, d, "input %d '%s' has dtype %s; expected f32", k, v->name, ir_dtype_name(v->dt));
			return -1;
		}
	}
	if (x->dt == IR_DT_UNDEF)
		return k_defer(n);
	n->out[0]->dt = IR_DT_F32;
	if (x->shape.rank < 0)
		return k_defer(n);
	int64_t rows, len;
	if (norm_rows(n, &x->shape, &rows, &len)) {
		if (n->op == IR_OP_INSTANCE_NORM)
			k_error(g, n, d, "input has rank %d; an instance norm needs rank 3 or more (N, C, spatial...)",
			        x->shape.rank);
		else
			k_error(g, n, d, "axis %lld is out of range for rank %d", (long long)ir_attr_int(n, "axis", -1),
			        x->shape.rank);
		return -1;
	}
	(void)rows;
	for (int k = 1; k < n->nin; k++) {
		const ir_value *v = n->in[k];
		if (!v || v->shape.rank < 0)
			continue;
		int64_t cnt = ir_shape_numel(&v->shape);
		if (cnt >= 0 && len >= 0 && (n->op != IR_OP_INSTANCE_NORM || x->shape.d[1] >= 0) &&
		    !norm_param_ok(n, &x->shape, len, cnt)) {
			char s[96];
			k_error(g, n, d, "%s '%s' has shape %s; expected %lld elements (%s)", k == 1 ? "scale" : "B",
			        v->name, ir_shape_str(&v->shape, s, sizeof s),
			        (long long)(n->op == IR_OP_INSTANCE_NORM ? x->shape.d[1] : len),
			        n->op == IR_OP_INSTANCE_NORM ? "one per channel" : "the normalised dims");
			return -1;
		}
	}
	k_set_out(n, 0, IR_DT_F32, &x->shape);
	/* layer_norm's Mean and InvStdDev: the normalised dims become 1 */
	ir_shape ms = x->shape;
	for (int i = k_axis(ir_attr_int(n, "axis", -1), ms.rank); i >= 0 && i < ms.rank; i++)
		ms.d[i] = 1;
	for (int k = 1; k < n->nout; k++)
		if (n->out[k])
			k_set_out(n, k, IR_DT_F32, &ms);
	return 0;
}

static int eval_norm(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *x = in[0], *sc = in[1], *bi = n->nin > 2 ? in[2] : NULL;
	ir_tensor *y = out[0];
	int64_t rows, len;
	if (!x || !sc || x->dt != IR_DT_F32 || y->dt != IR_DT_F32 || !ir_shape_eq(&x->shape, &y->shape) ||
	    norm_rows(n, &x->shape, &rows, &len) || !norm_param_ok(n, &x->shape, len, numel(sc)) ||
	    (bi && !norm_param_ok(n, &x->shape, len, numel(bi)))) {
		k_error(NULL, n, d, "operands do not match the inferred output");
		return -1;
	}
	float eps = ir_attr_float(n, "epsilon", 1e-5f);
	const float *xp = x->data, *sp = sc->data, *bp = bi ? bi->data : NULL;
	float *yp = y->data;
	int64_t C = x->shape.d[1], ns = numel(sc), nb = bi ? numel(bi) : 0;
	for (int64_t o = 0; o < rows; o++) {
		const float *xr = xp + o * len;
		float sum = 0, sq = 0;
		for (int64_t j = 0; j < len; j++)
			sum += xr[j];
		float mean = sum / (float)len;
		for (int64_t j = 0; j < len; j++)
			sq += (xr[j] - mean) * (xr[j] - mean);
		float inv = 1.0f / sqrtf(sq / (float)len + eps);
		if (n->nout > 1 && out[1])
			((float *)out[1]->data)[o] = mean;
		if (n->nout > 2 && out[2])
			((float *)out[2]->data)[o] = inv;
		for (int64_t j = 0; j < len; j++) {
			int64_t k = n->op == IR_OP_INSTANCE_NORM ? o % C : ns == 1 ? 0 : j;
			int64_t kb = n->op == IR_OP_INSTANCE_NORM ? o % C : nb == 1 ? 0 : j;
			float v = (xr[j] - mean) * inv * sp[k];
			yp[o * len + j] = bp ? v + bp[kb] : v;
		}
	}
	return 0;
}

/* ------------------------------------------------- integer layer_norm */

/* layer_norm of an integer activation (i8, u8, i16, per tensor) carrying
 * ln_mult and ln_bias (i32s, L entries each, or 1), ln_shift T and ln_eps
 * E, which a pass computed once (passes/qdq.c) from Scale g, B b,
 * epsilon, the input scale sx and the output scale sy:
 *   G_j ~ g_j / sy 2^(T+10),  B_j ~ (b_j / sy + zy) 2^T + 2^(T-1),
 *   E = round(epsilon L^2 / sx^2).
 * Per row of L codes q_j (the input's zero point drops out of x - mean,
 * and its scale only enters through E):
 *   S1 = sum q_j,  S2 = sum q_j^2,  V = L S2 - S1^2 + E   (in int64)
 *     (= L^2 (var + epsilon) / sx^2, var the row's variance);
 *   V = 0: Y = 0 and p = 0; else
 *     s = floor((62 - bitlen(V)) / 2),  a = floor(V 4^s / 2^30) in [2^30, 2^32),
 *     Y = ir_ln_rsqrt(a) ~ 2^46 / sqrt(a),  p = s - 7;
 *   d_j = L q_j - S1,  d'_j = d_j 2^p (p >= 0) or floor(d_j / 2^-p),
 *   N_j = (d'_j Y + 2^31) >> 32       (2^22 (x_j - mean) / sqrt(var + epsilon)),
 *   y_j = clamp((((N_j G_j + 2^31) >> 32) + B_j) >> T),
 * the last sum in int32 arithmetic (wrapped; the pass keeps it in range).
 * Each >> 32 of a rounded product is one SMMULR on the Cortex-M DSP, and
 * with the zero point zy in B_j the clamp is one SSAT or USAT.
 * With L <= 4096, |d'_j| < 2^30 and |N_j| < 2^28. */
enum { LN_MAX_LEN = 1 << 12 };

/* The seed of ir_ln_rsqrt: floor(2^33 / sqrt(k + 17)) for k = 0..47, the
 * value at the top of a's k-th 1/64 of [2^30, 2^32), so never above
 * 2^46 / sqrt(a). */
int64_t ir_ln_rsqrt_seed(int k)
{
	return (int64_t)floor(8589934592.0 / sqrt((double)(k + 17)));
}

/* ~2^46 / sqrt(a) (Q30 of 1 / sqrt(a / 2^32), in (2^30, 2^31)) for a in
 * [2^30, 2^32): the seed of a's top six bits, then three Newton steps
 * y' = y (3 - A y^2) / 2 in fixed point (A = a / 2^32; y never above
 * the root, so every step stays in range):
 *   t = (y y) >> 32,  m = (a t) >> 32,  y = (y (3 2^28 - m)) >> 29,
 * unsigned 32 x 32 -> 64 products; at most 2^31 - 1. */
int64_t ir_ln_rsqrt(uint32_t a)
{
	uint64_t y = (uint64_t)ir_ln_rsqrt_seed((int)(a >> 26) - 16);
	for (int i = 0; i < 3; i++) {
		uint64_t t = (y * y) >> 32, m = ((uint64_t)a * t) >> 32;
		y = (y * ((3u << 28) - m)) >> 29;
	}
	return y > INT32_MAX ? INT32_MAX : (int64_t)y;
}

static bool int_norm(const ir_node *n)
{
	return ir_node_attr(n, "ln_mult") || ir_node_attr(n, "ln_bias") || ir_node_attr(n, "ln_shift") ||
	       ir_node_attr(n, "ln_eps");
}

/* n's ln_* attributes checked for rows of len; -1 after reporting (g may
 * be NULL: evaluation). */
static int int_norm_params(const ir_graph *g, const ir_node *n, int64_t len, const int64_t **mult,
                           int *nm, const int64_t **bias, int *nb, int *sh, int64_t *eps, diag_sink *d)
{
	if (n->op != IR_OP_LAYER_NORM) {
		k_error(g, n, d, "ln_* attributes are for an integer layer_norm");
		return -1;
	}
	*mult = ir_attr_ints(n, "ln_mult", nm);
	*bias = ir_attr_ints(n, "ln_bias", nb);
	if (!*mult || !*bias || !ir_node_attr(n, "ln_shift") || !ir_node_attr(n, "ln_eps")) {
		k_error(g, n, d, "an integer layer_norm needs ln_mult, ln_bias, ln_shift and ln_eps");
		return -1;
	}
	if (len >= 0 && ((*nm != len && *nm != 1) || (*nb != len && *nb != 1))) {
		k_error(g, n, d, "ln_mult has %d entries and ln_bias %d; each needs %lld (one per normalised "
		        "element) or 1", *nm, *nb, (long long)len);
		return -1;
	}
	if (len > LN_MAX_LEN) {
		k_error(g, n, d, "rows of %lld elements; an integer layer_norm takes at most %d", (long long)len,
		        LN_MAX_LEN);
		return -1;
	}
	for (int k = 0; k < 2; k++) {
		const int64_t *v = k ? *bias : *mult;
		for (int i = 0; i < (k ? *nb : *nm); i++)
			if (v[i] < INT32_MIN || v[i] > INT32_MAX) {
				k_error(g, n, d, "%s[%d] = %lld is outside [-2^31, 2^31)", k ? "ln_bias" : "ln_mult", i,
				        (long long)v[i]);
				return -1;
			}
	}
	int64_t t = ir_attr_int(n, "ln_shift", 0);
	*eps = ir_attr_int(n, "ln_eps", 0);
	if (t < 1 || t > 31) {
		k_error(g, n, d, "ln_shift = %lld is outside [1, 31]", (long long)t);
		return -1;
	}
	if (*eps < 0 || *eps > ((int64_t)1 << 40)) {
		k_error(g, n, d, "ln_eps = %lld is outside [0, 2^40]", (long long)*eps);
		return -1;
	}
	*sh = (int)t;
	return 0;
}

static int infer_int_norm(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d))
		return -1;
	const ir_value *x = n->in[0];
	if (x->dt == IR_DT_UNDEF)
		return k_defer(n);
	if (x->dt != IR_DT_I8 && x->dt != IR_DT_U8 && x->dt != IR_DT_I16) {
		k_error(g, n, d, "input '%s' is %s; an integer layer_norm needs an i8, u8 or i16 input", x->name,
		        ir_dtype_name(x->dt));
		return -1;
	}
	if (x->quant && x->quant->nchan != 1) {
		k_error(g, n, d, "input '%s' is quantized per channel; an integer layer_norm needs one scale",
		        x->name);
		return -1;
	}
	for (int k = 1; k < n->nout; k++)
		if (n->out[k]) {
			k_error(g, n, d, "an integer layer_norm has no Mean or InvStdDev output ('%s')", n->out[k]->name);
			return -1;
		}
	const ir_quant *yq = n->out[0]->quant;
	if (yq && yq->nchan != 1) {
		k_error(g, n, d, "output '%s' is quantized per channel; an integer layer_norm needs one zero point",
		        n->out[0]->name);
		return -1;
	}
	n->out[0]->dt = x->dt;
	if (x->shape.rank < 0)
		return k_defer(n);
	int64_t rows, len;
	if (norm_rows(n, &x->shape, &rows, &len)) {
		k_error(g, n, d, "axis %lld is out of range for rank %d", (long long)ir_attr_int(n, "axis", -1),
		        x->shape.rank);
		return -1;
	}
	const int64_t *m, *b;
	int nm, nb, sh;
	int64_t e;
	if (int_norm_params(g, n, len, &m, &nm, &b, &nb, &sh, &e, d))
		return -1;
	k_set_out(n, 0, x->dt, &x->shape); /* the output's quant stays: it is its type */
	return 0;
}

/* (a b + 2^31) >> 32 of two int32s: SMMULR. */
static int32_t mulhr32(int64_t a, int64_t b)
{
	return (int32_t)((a * b + ((int64_t)1 << 31)) >> 32);
}

static int eval_int_norm(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *x = in[0];
	ir_tensor *y = out[0];
	int64_t rows, len;
	if (!x || y->dt != x->dt || !ir_shape_eq(&x->shape, &y->shape) || norm_rows(n, &x->shape, &rows, &len)) {
		k_error(NULL, n, d, "operand does not match the inferred output");
		return -1;
	}
	const int64_t *m, *b;
	int nm, nb, T;
	int64_t E;
	if (int_norm_params(NULL, n, len, &m, &nm, &b, &nb, &T, &E, d))
		return -1;
	int64_t lo, hi;
	ir_value_range(n->out[0], &lo, &hi);
	for (int64_t o = 0; o < rows; o++) {
		int64_t s1 = 0, s2 = 0, base = o * len;
		for (int64_t j = 0; j < len; j++) {
			int64_t q = k_int_get(x->data, x->dt, base + j);
			s1 += q;
			s2 += q * q;
		}
		int64_t V = len * s2 - s1 * s1 + E, Y = 0;
		int p = 0;
		if (V > 0) {
			int bl = 0;
			while (bl < 63 && (V >> bl) != 0)
				bl++;
			int s = (62 - bl) / 2;
			Y = ir_ln_rsqrt((uint32_t)(((uint64_t)V << (2 * s)) >> 30));
			p = s - 7;
		}
		for (int64_t j = 0; j < len; j++) {
			int64_t k = base + j, dj = len * k_int_get(x->data, x->dt, k) - s1;
			dj = p >= 0 ? dj * ((int64_t)1 << p) : dj >> -p;
			int32_t N = mulhr32(dj, Y);
			uint32_t u = (uint32_t)mulhr32(N, m[nm == 1 ? 0 : j]) + (uint32_t)b[nb == 1 ? 0 : j];
			int64_t v = (int32_t)u >> T;
			k_int_put(y->data, y->dt, k, v < lo ? lo : v > hi ? hi : v);
		}
	}
	return 0;
}

int ir_infer_layer_norm(ir_graph *g, ir_node *n, diag_sink *d)
{
	return int_norm(n) ? infer_int_norm(g, n, d) : infer_norm(g, n, d);
}

int ir_eval_layer_norm(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return int_norm(n) ? eval_int_norm(n, in, out, d) : eval_norm(n, in, out, d);
}

int ir_infer_instance_norm(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_norm(g, n, d);
}

int ir_eval_instance_norm(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_norm(n, in, out, d);
}

/* ------------------------------------------------------ arg_max, arg_min */

/* The index (i64) of the largest (smallest) element along `axis`: the
 * first of equal ones, or the last with select_last_index; NaN is never
 * taken (every comparison with it is false). */
static int infer_arg(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d))
		return -1;
	const ir_value *x = n->in[0];
	n->out[0]->dt = IR_DT_I64;
	if (x->dt == IR_DT_UNDEF)
		return k_defer(n);
	if (x->dt != IR_DT_F32 && x->dt != IR_DT_I32 && x->dt != IR_DT_I64 && x->dt != IR_DT_I8 && x->dt != IR_DT_U8) {
		k_error(g, n, d, "dtype %s is not supported", ir_dtype_name(x->dt));
		return -1;
	}
	if (x->shape.rank < 0)
		return k_defer(n);
	int64_t a = ir_attr_int(n, "axis", 0);
	int ax = k_axis(a, x->shape.rank);
	if (ax < 0) {
		k_error(g, n, d, "axis %lld is out of range for rank %d", (long long)a, x->shape.rank);
		return -1;
	}
	bool red[IR_MAX_RANK] = {false};
	red[ax] = true;
	ir_shape o = reduce_shape(&x->shape, red, ir_attr_int(n, "keepdims", 1) != 0);
	k_set_out(n, 0, IR_DT_I64, &o);
	return 0;
}

static double elem_d(const ir_tensor *t, int64_t k)
{
	switch (t->dt) {
	case IR_DT_F32: return ((const float *)t->data)[k];
	case IR_DT_I32: return ((const int32_t *)t->data)[k];
	case IR_DT_I8: return ((const int8_t *)t->data)[k];
	case IR_DT_U8: return ((const uint8_t *)t->data)[k];
	default: return (double)((const int64_t *)t->data)[k];
	}
}

static int eval_arg(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *x = in[0];
	ir_tensor *y = out[0];
	int r = x ? x->shape.rank : 0, ax = x ? k_axis(ir_attr_int(n, "axis", 0), r) : -1;
	if (!x || ax < 0 || y->dt != IR_DT_I64) {
		k_error(NULL, n, d, "operand does not match the inferred output");
		return -1;
	}
	int64_t outer = prod(&x->shape, 0, ax), len = x->shape.d[ax], inner = prod(&x->shape, ax + 1, r);
	bool mx = n->op == IR_OP_ARG_MAX, last = ir_attr_int(n, "select_last_index", 0) != 0;
	int64_t *yp = y->data;
	for (int64_t o = 0; o < outer; o++)
		for (int64_t i = 0; i < inner; i++) {
			int64_t best = 0;
			double bv = elem_d(x, o * len * inner + i);
			for (int64_t j = 1; j < len; j++) {
				double v = elem_d(x, (o * len + j) * inner + i);
				bool take = mx ? (last ? v >= bv : v > bv) : (last ? v <= bv : v < bv);
				if (take || bv != bv) { /* a NaN first is passed over */
					best = j;
					bv = v;
				}
			}
			yp[o * inner + i] = best;
		}
	return 0;
}

int ir_infer_arg_max(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_arg(g, n, d);
}

int ir_eval_arg_max(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_arg(n, in, out, d);
}

int ir_infer_arg_min(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_arg(g, n, d);
}

int ir_eval_arg_min(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_arg(n, in, out, d);
}

/* ---------------------------------------------------------------- cumsum */

/* Running sums of x along the axis (a constant scalar operand), in x's
 * type (f32, or i32/i64 wrapping as torch's int cumsum does), in order:
 * exclusive leaves the element itself out, reverse runs from the end. */
static bool cumsum_dt_ok(ir_dtype dt)
{
	return dt == IR_DT_F32 || dt == IR_DT_I32 || dt == IR_DT_I64;
}

int ir_infer_cumsum(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d) || !k_need_in(g, n, 1, d))
		return -1;
	const ir_value *x = n->in[0], *av = n->in[1];
	if (x->dt == IR_DT_UNDEF)
		return k_defer(n);
	if (!cumsum_dt_ok(x->dt)) {
		k_error(g, n, d, "dtype %s is not supported (f32, i32, i64)", ir_dtype_name(x->dt));
		return -1;
	}
	n->out[0]->dt = x->dt;
	if (x->shape.rank < 0 || !ir_value_is_const(av))
		return k_defer(n);
	int64_t a;
	if (ir_const_ints(av, &a, 1) != 1 || k_axis(a, x->shape.rank) < 0) {
		k_error(g, n, d, "axis '%s' must be one integer within rank %d", av->name, x->shape.rank);
		return -1;
	}
	k_set_out(n, 0, x->dt, &x->shape);
	return 0;
}

int ir_eval_cumsum(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *x = in[0], *at = in[1];
	ir_tensor *y = out[0];
	if (!x || !at || !cumsum_dt_ok(x->dt) || y->dt != x->dt || numel(at) != 1) {
		k_error(NULL, n, d, "operand does not match the inferred output");
		return -1;
	}
	int64_t a = at->dt == IR_DT_I64 ? ((const int64_t *)at->data)[0] : ((const int32_t *)at->data)[0];
	int r = x->shape.rank, ax = k_axis(a, r);
	if (ax < 0) {
		k_error(NULL, n, d, "axis %lld is out of range for rank %d", (long long)a, r);
		return -1;
	}
	int64_t outer = prod(&x->shape, 0, ax), len = x->shape.d[ax], inner = prod(&x->shape, ax + 1, r);
	bool excl = ir_attr_int(n, "exclusive", 0) != 0, rev = ir_attr_int(n, "reverse", 0) != 0;
	if (x->dt != IR_DT_F32) {
		bool i64 = x->dt == IR_DT_I64;
		for (int64_t o = 0; o < outer; o++)
			for (int64_t i = 0; i < inner; i++) {
				uint64_t s = 0;
				for (int64_t jj = 0; jj < len; jj++) {
					int64_t j = rev ? len - 1 - jj : jj, k = (o * len + j) * inner + i;
					uint64_t v = i64 ? (uint64_t)((const int64_t *)x->data)[k]
					                 : (uint64_t)(int64_t)((const int32_t *)x->data)[k];
					uint64_t out_v = excl ? s : s + v;
					s += v;
					if (i64)
						((int64_t *)y->data)[k] = (int64_t)out_v;
					else
						((int32_t *)y->data)[k] = (int32_t)(uint32_t)out_v;
				}
			}
		return 0;
	}
	const float *xp = x->data;
	float *yp = y->data;
	for (int64_t o = 0; o < outer; o++)
		for (int64_t i = 0; i < inner; i++) {
			float s = 0;
			for (int64_t jj = 0; jj < len; jj++) {
				int64_t j = rev ? len - 1 - jj : jj, k = (o * len + j) * inner + i;
				float v = xp[k];
				if (!excl)
					s += v;
				yp[k] = s;
				if (excl)
					s += v;
			}
		}
	return 0;
}

/* topk(x, k) -> values, indices: ONNX's TopK along axis, the k largest
 * (or smallest) elements of each slice in order, ties to the lower index
 * (so `sorted` changes nothing).  NaN counts as larger than every number
 * (torch's topk and sort).  Output slot s holds the element that comes
 * first, in that order, after the one in slot s - 1: a selection the
 * native code (l_reduce.c be_l_topk) makes the same way, element for
 * element. */
static int topk_k(const ir_value *kv, int64_t *k)
{
	return kv && ir_value_is_const(kv) && kv->data && ir_shape_numel(&kv->shape) == 1 &&
	               (kv->dt == IR_DT_I64 || kv->dt == IR_DT_I32) ? (*k = (int64_t)ir_const_get(kv, 0), 0) : -1;
}

int ir_infer_topk(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d) || !k_need_in(g, n, 1, d))
		return -1;
	const ir_value *x = n->in[0];
	if (x->dt != IR_DT_UNDEF && x->dt != IR_DT_F32) {
		k_error(g, n, d, "dtype %s is not supported (only f32)", ir_dtype_name(x->dt));
		return -1;
	}
	if (n->out[0])
		n->out[0]->dt = IR_DT_F32;
	if (n->out[1])
		n->out[1]->dt = IR_DT_I64;
	int64_t k;
	if (x->shape.rank < 0 || !ir_value_is_const(n->in[1]))
		return k_defer(n);
	if (topk_k(n->in[1], &k)) {
		k_error(g, n, d, "K must be one i64 value");
		return -1;
	}
	int ax = k_axis(ir_attr_int(n, "axis", -1), x->shape.rank);
	if (ax < 0) {
		k_error(g, n, d, "axis %lld is out of range for rank %d", (long long)ir_attr_int(n, "axis", -1),
		        x->shape.rank);
		return -1;
	}
	if (k < 0 || (x->shape.d[ax] >= 0 && k > x->shape.d[ax])) {
		k_error(g, n, d, "K = %lld for an axis of %lld elements", (long long)k, (long long)x->shape.d[ax]);
		return -1;
	}
	ir_shape o = x->shape;
	o.d[ax] = k;
	for (int j = 0; j < 2; j++)
		if (n->out[j])
			k_set_out(n, j, j ? IR_DT_I64 : IR_DT_F32, &o);
	return 0;
}

/* a comes before b in the order of largest first (NaN above all) */
static bool topk_gt(float a, float b)
{
	return isnan(a) ? !isnan(b) : a > b;
}

static bool topk_eq(float a, float b)
{
	return isnan(a) ? isnan(b) : a == b;
}

int ir_eval_topk(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *x = in[0];
	int r = x->shape.rank, ax = k_axis(ir_attr_int(n, "axis", -1), r);
	bool big = ir_attr_int(n, "largest", 1) != 0;
	int64_t k = out[0] ? out[0]->shape.d[ax] : out[1]->shape.d[ax];
	if (ax < 0 || x->dt != IR_DT_F32) {
		k_error(NULL, n, d, "operands do not match the inferred output");
		return -1;
	}
	int64_t outer = 1, inner = 1, len = x->shape.d[ax];
	for (int i = 0; i < ax; i++)
		outer *= x->shape.d[i];
	for (int i = ax + 1; i < r; i++)
		inner *= x->shape.d[i];
	const float *xv = x->data;
	for (int64_t o = 0; o < outer; o++)
		for (int64_t q = 0; q < inner; q++) {
			const float *row = xv + o * len * inner + q;
			float pv = 0;
			int64_t pi = -1;
			for (int64_t s = 0; s < k; s++) {
				float bv = 0;
				int64_t bi = -1;
				for (int64_t j = 0; j < len; j++) {
					float e = row[j * inner];
					bool after = pi < 0 || (big ? topk_gt(pv, e) : topk_gt(e, pv)) || (topk_eq(pv, e) && pi < j);
					if (after && (bi < 0 || (big ? topk_gt(e, bv) : topk_gt(bv, e)))) {
						bv = e;
						bi = j;
					}
				}
				int64_t at = (o * k + s) * inner + q;
				if (out[0])
					((float *)out[0]->data)[at] = bv;
				if (out[1])
					((int64_t *)out[1]->data)[at] = bi;
				pv = bv;
				pi = bi;
			}
		}
	return 0;
}
