/* k_shape.c: data movement: concat, reshape, flatten, transpose, squeeze,
 * unsqueeze, shape, gather, slice, split, pad.  Every kernel here moves
 * whole elements as bytes, so it works for any dtype: PyTorch's exported
 * shape arithmetic runs on i64 and must fold through these. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

/* ------------------------------------------------------------- helpers */

/* Set every output's dtype (known before the shapes often are). */
static void set_out_dt(ir_node *n, ir_dtype dt)
{
	for (int k = 0; k < n->nout; k++)
		if (n->out[k])
			n->out[k]->dt = dt;
}

static const ir_tensor *opt_in(const ir_node *n, const ir_tensor *const *in, int k)
{
	if (k >= n->nin || !in[k] || ir_shape_numel(&in[k]->shape) == 0)
		return NULL;
	return in[k];
}

static int64_t numel(const ir_tensor *t)
{
	return ir_shape_numel(&t->shape);
}

static bool has_sym(const ir_shape *s)
{
	for (int i = 0; i < s->rank; i++)
		if (s->d[i] == IR_DIM_SYM)
			return true;
	return false;
}

static int report_too_big(ir_graph *g, ir_node *n, const ir_shape *s, diag_sink *d)
{
	char b[160];
	k_error(g, n, d, "output shape %s is too large", ir_shape_str(s, b, sizeof b));
	return -1;
}

/* Product of s->d[lo..hi), concrete dims only (callers check first). */
static int64_t prod(const ir_shape *s, int lo, int hi)
{
	int64_t p = 1;
	for (int i = lo; i < hi; i++)
		p *= s->d[i];
	return p;
}

/* Read the integer operand k, which must be a constant i32/i64 tensor of
 * at most max elements.  Returns the count, -2 if it is not constant yet
 * (defer), or -1 after reporting a bad operand. */
static int const_ints(ir_graph *g, ir_node *n, int k, const char *what, int64_t *v, int max,
                      diag_sink *d)
{
	const ir_value *x = n->in[k];
	if (!ir_value_is_const(x) || x->shape.rank < 0)
		return -2;
	if (x->dt != IR_DT_I64 && x->dt != IR_DT_I32) {
		k_error(g, n, d, "%s has dtype %s; expected i64", what, ir_dtype_name(x->dt));
		return -1;
	}
	if (x->shape.rank > 1) {
		k_error(g, n, d, "%s must be 1-D, got rank %d", what, x->shape.rank);
		return -1;
	}
	int cnt = ir_const_ints(x, v, max);
	if (cnt < 0) {
		k_error(g, n, d, "%s has %lld elements; at most %d are supported", what,
		        (long long)ir_shape_numel(&x->shape), max);
		return -1;
	}
	return cnt;
}

/* Eval-side reading of an integer operand; -1 (reported) if unreadable. */
static int tensor_ints(const ir_node *n, const ir_tensor *t, const char *what, int64_t *v, int max,
                       diag_sink *d)
{
	int64_t cnt = numel(t);
	if ((t->dt != IR_DT_I64 && t->dt != IR_DT_I32) || cnt < 0 || cnt > max) {
		k_error(NULL, n, d, "%s must be i32/i64 with at most %d elements", what, max);
		return -1;
	}
	for (int64_t i = 0; i < cnt; i++)
		v[i] = t->dt == IR_DT_I64 ? ((const int64_t *)t->data)[i] : ((const int32_t *)t->data)[i];
	return (int)cnt;
}

/* Advance a row-major multi-index over shape s; false after the last. */
static bool idx_next(const ir_shape *s, int64_t *idx)
{
	for (int i = s->rank - 1; i >= 0; i--) {
		if (++idx[i] < s->d[i])
			return true;
		idx[i] = 0;
	}
	return false;
}

/* Output must hold exactly the input's bytes (reshape, flatten, squeeze,
 * unsqueeze: row-major order is unchanged). */
static int eval_copy(const ir_node *n, const ir_tensor *x, ir_tensor *y, diag_sink *d)
{
	int64_t cnt = numel(y);
	if (!x || x->dt != y->dt || cnt < 0 || numel(x) != cnt) {
		char a[96], b[96];
		k_error(NULL, n, d, "cannot copy %s into %s",
		        x ? ir_shape_str(&x->shape, a, sizeof a) : "nothing",
		        ir_shape_str(&y->shape, b, sizeof b));
		return -1;
	}
	if (cnt)
		memcpy(y->data, x->data, (size_t)cnt * ir_dtype_size(y->dt));
	return 0;
}

/* ---------------------------------------------------------------- concat */

int ir_infer_concat(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (n->nin < 1) {
		k_error(g, n, d, "concat needs at least one input");
		return -1;
	}
	for (int k = 0; k < n->nin; k++)
		if (!k_need_in(g, n, k, d))
			return -1;
	const ir_attr *ax = ir_node_attr(n, "axis");
	if (!ax || ax->kind != IR_ATTR_INT) {
		k_error(g, n, d, "attribute 'axis' is missing");
		return -1;
	}
	const ir_value *x0 = n->in[0];
	for (int k = 0; k < n->nin; k++)
		if (n->in[k]->dt == IR_DT_UNDEF)
			return k_defer(n);
	for (int k = 1; k < n->nin; k++)
		if (n->in[k]->dt != x0->dt) {
			k_error(g, n, d, "input %d has dtype %s, input 0 has %s", k,
			        ir_dtype_name(n->in[k]->dt), ir_dtype_name(x0->dt));
			return -1;
		}
	set_out_dt(n, x0->dt);
	for (int k = 0; k < n->nin; k++)
		if (n->in[k]->shape.rank < 0)
			return k_defer(n);
	int r = x0->shape.rank;
	int axis = k_axis(ax->v.i, r);
	if (axis < 0) {
		k_error(g, n, d, "axis %lld is out of range for rank %d", (long long)ax->v.i, r);
		return -1;
	}
	ir_shape o = x0->shape;
	for (int k = 1; k < n->nin; k++) {
		const ir_shape *s = &n->in[k]->shape;
		if (s->rank != r) {
			k_error(g, n, d, "input %d has rank %d, input 0 has rank %d", k, s->rank, r);
			return -1;
		}
		for (int i = 0; i < r; i++) {
			if (i == axis || s->d[i] == o.d[i])
				continue;
			/* Symbolic against concrete: only the batch size decides. */
			if (s->d[i] == IR_DIM_SYM || o.d[i] == IR_DIM_SYM)
				return k_defer(n);
			char a[96], b[96];
			k_error(g, n, d, "input %d has shape %s, incompatible with %s except on axis %d", k,
			        ir_shape_str(s, a, sizeof a), ir_shape_str(&x0->shape, b, sizeof b), axis);
			return -1;
		}
	}
	/* Along the axis the extents add up.  A symbolic extent (axis 0) stays
	 * the batch dim only if every other input is empty there: ? + 3 has no
	 * static spelling. */
	int64_t sum = 0;
	int nsym = 0;
	for (int k = 0; k < n->nin; k++) {
		int64_t e = n->in[k]->shape.d[axis];
		if (e == IR_DIM_SYM)
			nsym++;
		else
			sum += e;
		if (sum > IR_MAX_NUMEL) {
			o.d[axis] = sum;
			return report_too_big(g, n, &o, d);
		}
	}
	if (nsym > 1 || (nsym == 1 && sum != 0))
		return k_defer(n);
	bool sym = nsym == 1;
	o.d[axis] = sym ? IR_DIM_SYM : sum;
	if (k_too_big(&o))
		return report_too_big(g, n, &o, d);
	k_set_out(n, 0, x0->dt, &o);
	return 0;
}

int ir_eval_concat(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	ir_tensor *y = out[0];
	int r = y->shape.rank;
	int axis = k_axis(ir_attr_int(n, "axis", 0), r);
	if (axis < 0) {
		k_error(NULL, n, d, "axis is out of range for rank %d", r);
		return -1;
	}
	size_t es = ir_dtype_size(y->dt);
	int64_t outer = prod(&y->shape, 0, axis), inner = prod(&y->shape, axis + 1, r);
	int64_t sum = 0;
	for (int k = 0; k < n->nin; k++) {
		const ir_tensor *x = in[k];
		if (!x || x->dt != y->dt || x->shape.rank != r) {
			k_error(NULL, n, d, "input %d does not match the inferred output", k);
			return -1;
		}
		for (int i = 0; i < r; i++)
			if (i != axis && x->shape.d[i] != y->shape.d[i]) {
				k_error(NULL, n, d, "input %d does not match the inferred output", k);
				return -1;
			}
		sum += x->shape.d[axis];
	}
	if (sum != y->shape.d[axis]) {
		k_error(NULL, n, d, "inputs do not add up to the inferred output");
		return -1;
	}
	/* For each outer index, the inputs' blocks lie side by side. */
	char *dst = y->data;
	for (int64_t o = 0; o < outer; o++)
		for (int k = 0; k < n->nin; k++) {
			size_t blk = (size_t)(in[k]->shape.d[axis] * inner) * es;
			if (!blk)
				continue;
			memcpy(dst, (const char *)in[k]->data + (size_t)o * blk, blk);
			dst += blk;
		}
	return 0;
}

/* --------------------------------------------------------------- reshape */

int ir_infer_reshape(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d) || !k_need_in(g, n, 1, d))
		return -1;
	const ir_value *x = n->in[0];
	set_out_dt(n, x->dt);
	if (x->shape.rank < 0)
		return k_defer(n);
	int64_t v[IR_MAX_RANK];
	int cnt = const_ints(g, n, 1, "shape", v, IR_MAX_RANK, d);
	if (cnt == -2)
		return k_defer(n);
	if (cnt < 0)
		return -1;
	bool allowzero = ir_attr_int(n, "allowzero", 0) != 0;
	const ir_shape *xs = &x->shape;
	char sx[96], sv[160];
	/* Spell the requested shape for messages. */
	size_t k = 0;
	k += (size_t)snprintf(sv + k, sizeof sv - k, "[");
	for (int i = 0; i < cnt && k < sizeof sv; i++)
		k += (size_t)snprintf(sv + k, sizeof sv - k, "%s%lld", i ? "," : "", (long long)v[i]);
	if (k < sizeof sv)
		snprintf(sv + k, sizeof sv - k, "]");
	ir_shape_str(xs, sx, sizeof sx);

	ir_shape o = {.rank = cnt};
	int neg = -1;
	bool zero = false;
	for (int i = 0; i < cnt; i++) {
		if (v[i] < -1) {
			k_error(g, n, d, "shape %s has invalid extent %lld", sv, (long long)v[i]);
			return -1;
		}
		if (v[i] == -1) {
			if (neg >= 0) {
				k_error(g, n, d, "shape %s has more than one -1", sv);
				return -1;
			}
			neg = i;
			o.d[i] = 1; /* placeholder while multiplying the others */
		} else if (v[i] == 0 && !allowzero) {
			if (i >= xs->rank) {
				k_error(g, n, d, "shape %s copies dim %d of input %s, which has rank %d", sv, i,
				        sx, xs->rank);
				return -1;
			}
			o.d[i] = xs->d[i];
		} else {
			zero |= v[i] == 0;
			o.d[i] = v[i];
		}
	}
	if (allowzero && zero && neg >= 0) {
		k_error(g, n, d, "shape %s has both 0 and -1 with allowzero set", sv);
		return -1;
	}
	if (k_too_big(xs) || k_too_big(&o))
		return report_too_big(g, n, &o, d);

	/* Element counts ignoring the symbolic batch dim, if any, on each side.
	 * Only d[0] can be symbolic, in the input and (by copy) the output. */
	bool in_sym = has_sym(xs), out_sym = has_sym(&o);
	int64_t in_rest = 1, out_rest = 1;
	for (int i = 0; i < xs->rank; i++)
		if (xs->d[i] != IR_DIM_SYM)
			in_rest *= xs->d[i];
	for (int i = 0; i < cnt; i++)
		if (o.d[i] != IR_DIM_SYM)
			out_rest *= o.d[i];

	if (in_sym && !out_sym) {
		if (neg < 0) {
			/* Fully explicit: the batch size must make the counts agree;
			 * like ONNX's own inference, trust the explicit shape. */
			k_set_out(n, 0, x->dt, &o);
			return 0;
		}
		/* -1 at position 0 absorbs the batch when the rest matches;
		 * anything else (a multiple of the batch) has no static form. */
		if (neg == 0 && in_rest == out_rest) {
			o.d[0] = IR_DIM_SYM;
			k_set_out(n, 0, x->dt, &o);
			return 0;
		}
		return k_defer(n);
	}
	if (!in_sym && out_sym)
		return k_defer(n); /* cannot happen: a copied dim is the input's */

	/* Both sides carry the same batch factor (or none): compare the rest. */
	if (neg >= 0) {
		if (out_rest == 0) {
			k_error(g, n, d, "cannot infer -1 in shape %s for input %s: the other extents are 0",
			        sv, sx);
			return -1;
		}
		if (in_rest % out_rest) {
			k_error(g, n, d, "cannot reshape %s to %s: %lld elements do not divide by %lld", sx,
			        sv, (long long)in_rest, (long long)out_rest);
			return -1;
		}
		o.d[neg] = in_rest / out_rest;
	} else if (in_rest != out_rest) {
		char so[96];
		k_error(g, n, d, "cannot reshape %s (%lld elements) to %s (%lld elements)", sx,
		        (long long)in_rest, ir_shape_str(&o, so, sizeof so), (long long)out_rest);
		return -1;
	}
	k_set_out(n, 0, x->dt, &o);
	return 0;
}

int ir_eval_reshape(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_copy(n, in[0], out[0], d);
}

/* --------------------------------------------------------------- flatten */

int ir_infer_flatten(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d))
		return -1;
	const ir_value *x = n->in[0];
	set_out_dt(n, x->dt);
	if (x->shape.rank < 0)
		return k_defer(n);
	int r = x->shape.rank;
	int64_t a = ir_attr_int(n, "axis", 1);
	/* Unlike most axes, axis == rank is valid here: [numel, 1]. */
	if (a < -r || a > r) {
		k_error(g, n, d, "axis %lld is out of range for rank %d", (long long)a, r);
		return -1;
	}
	int axis = (int)(a < 0 ? a + r : a);
	if (k_too_big(&x->shape))
		return report_too_big(g, n, &x->shape, d);
	ir_shape o = {.rank = 2};
	if (has_sym(&x->shape)) {
		/* Batch is d[0]: it stays a plain batch dim only as the whole
		 * outer extent, i.e. when d[1..axis) multiply to 1. */
		if (axis == 0 || prod(&x->shape, 1, axis) != 1)
			return k_defer(n);
		o.d[0] = IR_DIM_SYM;
	} else {
		o.d[0] = prod(&x->shape, 0, axis);
	}
	o.d[1] = prod(&x->shape, axis, r);
	k_set_out(n, 0, x->dt, &o);
	return 0;
}

int ir_eval_flatten(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_copy(n, in[0], out[0], d);
}

/* ------------------------------------------------------------- transpose */

/* perm from the attribute, or reversed axes by default; -1 if invalid. */
static int transpose_perm(const ir_node *n, int r, int *perm)
{
	int cnt = 0;
	const int64_t *p = ir_attr_ints(n, "perm", &cnt);
	if (!p) {
		for (int i = 0; i < r; i++)
			perm[i] = r - 1 - i;
		return 0;
	}
	if (cnt != r)
		return -1;
	bool seen[IR_MAX_RANK] = {false};
	for (int i = 0; i < r; i++) {
		if (p[i] < 0 || p[i] >= r || seen[p[i]])
			return -1;
		seen[p[i]] = true;
		perm[i] = (int)p[i];
	}
	return 0;
}

static void perm_str(const ir_node *n, char *buf, size_t sz)
{
	int cnt = 0;
	const int64_t *p = ir_attr_ints(n, "perm", &cnt);
	size_t k = (size_t)snprintf(buf, sz, "[");
	for (int i = 0; i < cnt && k < sz; i++)
		k += (size_t)snprintf(buf + k, sz - k, "%s%lld", i ? "," : "", (long long)p[i]);
	if (k < sz)
		snprintf(buf + k, sz - k, "]");
}

int ir_infer_transpose(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d))
		return -1;
	const ir_value *x = n->in[0];
	set_out_dt(n, x->dt);
	if (x->shape.rank < 0)
		return k_defer(n);
	int r = x->shape.rank, perm[IR_MAX_RANK];
	if (transpose_perm(n, r, perm)) {
		char p[160], s[96];
		perm_str(n, p, sizeof p);
		k_error(g, n, d, "perm %s is not a permutation of the axes of %s", p,
		        ir_shape_str(&x->shape, s, sizeof s));
		return -1;
	}
	ir_shape o = {.rank = r};
	for (int i = 0; i < r; i++)
		o.d[i] = x->shape.d[perm[i]];
	/* The batch dim may only live in d[0]. */
	for (int i = 1; i < r; i++)
		if (o.d[i] == IR_DIM_SYM)
			return k_defer(n);
	k_set_out(n, 0, x->dt, &o);
	return 0;
}

int ir_eval_transpose(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *x = in[0];
	ir_tensor *y = out[0];
	int r = y->shape.rank, perm[IR_MAX_RANK];
	if (!x || x->dt != y->dt || x->shape.rank != r || transpose_perm(n, r, perm)) {
		k_error(NULL, n, d, "operand does not match the inferred output");
		return -1;
	}
	for (int i = 0; i < r; i++)
		if (y->shape.d[i] != x->shape.d[perm[i]]) {
			k_error(NULL, n, d, "operand does not match the inferred output");
			return -1;
		}
	int64_t cnt = numel(y), xst[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
	if (cnt <= 0)
		return 0;
	k_strides(&x->shape, xst);
	size_t es = ir_dtype_size(y->dt);
	/* Output axis i walks input axis perm[i]. */
	int64_t k = 0;
	do {
		int64_t src = 0;
		for (int i = 0; i < r; i++)
			src += idx[i] * xst[perm[i]];
		memcpy((char *)y->data + (size_t)k * es, (const char *)x->data + (size_t)src * es, es);
		k++;
	} while (idx_next(&y->shape, idx));
	return 0;
}

/* --------------------------------------------------- squeeze, unsqueeze */

int ir_infer_squeeze(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d))
		return -1;
	const ir_value *x = n->in[0];
	set_out_dt(n, x->dt);
	if (x->shape.rank < 0)
		return k_defer(n);
	int r = x->shape.rank;
	bool drop[IR_MAX_RANK] = {false};
	if (n->nin > 1 && n->in[1] && !ir_value_is_const(n->in[1]))
		return k_defer(n);
	if (k_opt_val(n, 1)) {
		int64_t ax[IR_MAX_RANK];
		int cnt = const_ints(g, n, 1, "axes", ax, IR_MAX_RANK, d);
		if (cnt == -2)
			return k_defer(n);
		if (cnt < 0)
			return -1;
		for (int i = 0; i < cnt; i++) {
			int a = k_axis(ax[i], r);
			if (a < 0) {
				k_error(g, n, d, "axis %lld is out of range for rank %d", (long long)ax[i], r);
				return -1;
			}
			if (drop[a]) {
				k_error(g, n, d, "axis %lld is repeated", (long long)ax[i]);
				return -1;
			}
			if (x->shape.d[a] == IR_DIM_SYM)
				return k_defer(n); /* fine only if the batch is 1 */
			if (x->shape.d[a] != 1) {
				char s[96];
				k_error(g, n, d, "cannot squeeze axis %d of %s: extent is not 1", a,
				        ir_shape_str(&x->shape, s, sizeof s));
				return -1;
			}
			drop[a] = true;
		}
	} else {
		/* No axes: drop every 1; whether the batch is 1 is unknown. */
		for (int i = 0; i < r; i++) {
			if (x->shape.d[i] == IR_DIM_SYM)
				return k_defer(n);
			drop[i] = x->shape.d[i] == 1;
		}
	}
	ir_shape o = {.rank = 0};
	for (int i = 0; i < r; i++)
		if (!drop[i])
			o.d[o.rank++] = x->shape.d[i];
	k_set_out(n, 0, x->dt, &o);
	return 0;
}

int ir_eval_squeeze(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_copy(n, in[0], out[0], d);
}

int ir_infer_unsqueeze(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d) || !k_need_in(g, n, 1, d))
		return -1;
	const ir_value *x = n->in[0];
	set_out_dt(n, x->dt);
	if (x->shape.rank < 0)
		return k_defer(n);
	int64_t ax[IR_MAX_RANK];
	int cnt = const_ints(g, n, 1, "axes", ax, IR_MAX_RANK, d);
	if (cnt == -2)
		return k_defer(n);
	if (cnt < 0)
		return -1;
	int r = x->shape.rank + cnt;
	if (r > IR_MAX_RANK) {
		k_error(g, n, d, "output rank %d exceeds the maximum of %d", r, IR_MAX_RANK);
		return -1;
	}
	/* Axes index the output, so they are normalised against its rank. */
	bool ins[IR_MAX_RANK] = {false};
	for (int i = 0; i < cnt; i++) {
		int a = k_axis(ax[i], r);
		if (a < 0) {
			k_error(g, n, d, "axis %lld is out of range for output rank %d", (long long)ax[i], r);
			return -1;
		}
		if (ins[a]) {
			k_error(g, n, d, "axis %lld is repeated", (long long)ax[i]);
			return -1;
		}
		ins[a] = true;
	}
	ir_shape o = {.rank = r};
	for (int i = 0, j = 0; i < r; i++)
		o.d[i] = ins[i] ? 1 : x->shape.d[j++];
	for (int i = 1; i < r; i++)
		if (o.d[i] == IR_DIM_SYM)
			return k_defer(n); /* the batch dim may only live in d[0] */
	k_set_out(n, 0, x->dt, &o);
	return 0;
}

int ir_eval_unsqueeze(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_copy(n, in[0], out[0], d);
}

/* ----------------------------------------------------------------- shape */

/* start/end per ONNX: negative counts from the back, then clamp to
 * [0, rank]. */
static void shape_range(const ir_node *n, int r, int64_t *start, int64_t *end)
{
	int64_t s = ir_attr_int(n, "start", 0), e = ir_attr_int(n, "end", r);
	if (s < 0)
		s += r;
	if (e < 0)
		e += r;
	*start = s < 0 ? 0 : s > r ? r : s;
	*end = e < 0 ? 0 : e > r ? r : e;
	if (*end < *start)
		*end = *start;
}

int ir_infer_shape(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d))
		return -1;
	set_out_dt(n, IR_DT_I64);
	const ir_value *x = n->in[0];
	if (x->shape.rank < 0)
		return k_defer(n);
	int64_t s, e;
	shape_range(n, x->shape.rank, &s, &e);
	ir_shape o = {.rank = 1, .d = {e - s}};
	k_set_out(n, 0, IR_DT_I64, &o);
	return 0;
}

/* Reads only the input's shape: the constant folder passes no data. */
int ir_eval_shape(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *x = in[0];
	ir_tensor *y = out[0];
	if (!x || x->shape.rank < 0) {
		k_error(NULL, n, d, "input shape is not known");
		return -1;
	}
	int64_t s, e;
	shape_range(n, x->shape.rank, &s, &e);
	if (y->dt != IR_DT_I64 || numel(y) != e - s) {
		k_error(NULL, n, d, "operand does not match the inferred output");
		return -1;
	}
	for (int64_t i = s; i < e; i++) {
		if (x->shape.d[i] < 0) {
			k_error(NULL, n, d, "input shape has a symbolic dim");
			return -1;
		}
		((int64_t *)y->data)[i - s] = x->shape.d[i];
	}
	return 0;
}

/* ---------------------------------------------------------------- gather */

static bool index_dtype(ir_dtype dt)
{
	return dt == IR_DT_I32 || dt == IR_DT_I64;
}

/* out = x.d[:axis] ++ indices.shape ++ x.d[axis+1:]; false if too many dims. */
static bool gather_shape(const ir_shape *x, const ir_shape *ix, int axis, ir_shape *o)
{
	if (x->rank + ix->rank - 1 > IR_MAX_RANK)
		return false;
	memset(o, 0, sizeof *o);
	o->rank = x->rank + ix->rank - 1;
	int k = 0;
	for (int i = 0; i < axis; i++)
		o->d[k++] = x->d[i];
	for (int i = 0; i < ix->rank; i++)
		o->d[k++] = ix->d[i];
	for (int i = axis + 1; i < x->rank; i++)
		o->d[k++] = x->d[i];
	return true;
}

/* The prologue of gather, gather_elements and scatter_elements: data
 * (operand 0) and i32/i64 indices (operand 1) present, the output of
 * data's dtype.  1 when both shapes are known, 0 deferred (k_defer), -1
 * reported. */
static int indexed_begin(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d) || !k_need_in(g, n, 1, d))
		return -1;
	const ir_value *x = n->in[0], *ix = n->in[1];
	set_out_dt(n, x->dt);
	if (ix->dt != IR_DT_UNDEF && !index_dtype(ix->dt)) {
		k_error(g, n, d, "indices have dtype %s; expected i32 or i64", ir_dtype_name(ix->dt));
		return -1;
	}
	if (x->shape.rank < 0 || ix->shape.rank < 0 || ix->dt == IR_DT_UNDEF)
		return k_defer(n);
	return 1;
}

int ir_infer_gather(ir_graph *g, ir_node *n, diag_sink *d)
{
	int rc = indexed_begin(g, n, d);
	if (rc <= 0)
		return rc;
	const ir_value *x = n->in[0], *ix = n->in[1];
	int r = x->shape.rank, q = ix->shape.rank;
	int64_t a = ir_attr_int(n, "axis", 0);
	int axis = k_axis(a, r);
	if (axis < 0) {
		k_error(g, n, d, "axis %lld is out of range for rank %d", (long long)a, r);
		return -1;
	}
	ir_shape o;
	if (!gather_shape(&x->shape, &ix->shape, axis, &o)) {
		k_error(g, n, d, "output rank %d exceeds the maximum of %d", r + q - 1, IR_MAX_RANK);
		return -1;
	}
	for (int i = 1; i < o.rank; i++)
		if (o.d[i] == IR_DIM_SYM)
			return k_defer(n);
	if (k_too_big(&o))
		return report_too_big(g, n, &o, d);
	/* Constant indices (the common case in shape logic) are checked now. */
	int64_t ext = x->shape.d[axis];
	if (ir_value_is_const(ix) && ext >= 0) {
		int64_t cnt = ir_shape_numel(&ix->shape);
		for (int64_t i = 0; i < cnt; i++) {
			int64_t v = ix->dt == IR_DT_I64 ? ((const int64_t *)ix->data)[i]
			                                : ((const int32_t *)ix->data)[i];
			if (v < -ext || v >= ext) {
				k_error(g, n, d, "index %lld is out of range for axis %d of extent %lld",
				        (long long)v, axis, (long long)ext);
				return -1;
			}
		}
	}
	k_set_out(n, 0, x->dt, &o);
	return 0;
}

int ir_eval_gather(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *x = in[0], *ix = in[1];
	ir_tensor *y = out[0];
	if (!x || !ix || x->dt != y->dt || !index_dtype(ix->dt)) {
		k_error(NULL, n, d, "operands do not match the inferred output");
		return -1;
	}
	int r = x->shape.rank;
	int axis = k_axis(ir_attr_int(n, "axis", 0), r);
	ir_shape want;
	if (axis < 0 || !gather_shape(&x->shape, &ix->shape, axis, &want) ||
	    !ir_shape_eq(&want, &y->shape)) {
		k_error(NULL, n, d, "operands do not match the inferred output");
		return -1;
	}
	int64_t outer = prod(&x->shape, 0, axis), ext = x->shape.d[axis];
	int64_t inner = prod(&x->shape, axis + 1, r), nidx = numel(ix);
	size_t blk = (size_t)inner * ir_dtype_size(y->dt);
	for (int64_t j = 0; j < nidx; j++) {
		int64_t v = ix->dt == IR_DT_I64 ? ((const int64_t *)ix->data)[j]
		                                : ((const int32_t *)ix->data)[j];
		if (v < -ext || v >= ext) {
			k_error(NULL, n, d, "index %lld is out of range for axis %d of extent %lld",
			        (long long)v, axis, (long long)ext);
			return -1;
		}
		if (v < 0)
			v += ext;
		for (int64_t o = 0; o < outer && blk; o++)
			memcpy((char *)y->data + (size_t)(o * nidx + j) * blk,
			       (const char *)x->data + (size_t)(o * ext + v) * blk, blk);
	}
	return 0;
}

/* What gather_elements and scatter_elements check of indices ix against
 * data x along axis (of x's rank, not passing x along the other axes);
 * 0, or -1 reported. */
static int elements_check(ir_graph *g, ir_node *n, const ir_value *x, const ir_value *ix, int axis, diag_sink *d)
{
	int r = x->shape.rank;
	char b1[96], b2[96];
	if (axis < 0) {
		k_error(g, n, d, "axis %lld is out of range for rank %d", (long long)ir_attr_int(n, "axis", 0), r);
		return -1;
	}
	if (ix->shape.rank != r) {
		k_error(g, n, d, "indices of rank %d for data of rank %d", ix->shape.rank, r);
		return -1;
	}
	for (int i = 0; i < r; i++)
		if (i != axis && x->shape.d[i] >= 0 && ix->shape.d[i] > x->shape.d[i]) {
			k_error(g, n, d, "indices %s pass data %s along axis %d", ir_shape_str(&ix->shape, b1, sizeof b1),
			        ir_shape_str(&x->shape, b2, sizeof b2), i);
			return -1;
		}
	return 0;
}

/* Element p of indices ix (i32 or i64) as an offset into data x (strides
 * xst): p's coordinates, the axis one replaced by the index.  -1 reported
 * when the index is outside the axis. */
static int64_t elements_offset(const ir_node *n, const ir_tensor *x, const ir_tensor *ix, const int64_t *xst,
                               int axis, int64_t p, diag_sink *d)
{
	int64_t rem = p, off = 0, ext = x->shape.d[axis];
	for (int i = x->shape.rank - 1; i >= 0; i--) {
		int64_t c = rem % ix->shape.d[i];
		rem /= ix->shape.d[i];
		if (i != axis)
			off += c * xst[i];
	}
	int64_t v = ix->dt == IR_DT_I64 ? ((const int64_t *)ix->data)[p] : ((const int32_t *)ix->data)[p];
	if (v < -ext || v >= ext) {
		k_error(NULL, n, d, "index %lld is out of range for axis %d of extent %lld", (long long)v, axis,
		        (long long)ext);
		return -1;
	}
	return off + (v < 0 ? v + ext : v) * xst[axis];
}

/* gather_elements(data, indices): ONNX's GatherElements (torch.gather):
 * y[p] = data[p with its axis coordinate replaced by indices[p]], indices
 * of data's rank whose extents along the other axes do not pass data's. */
int ir_infer_gather_elements(ir_graph *g, ir_node *n, diag_sink *d)
{
	int rc = indexed_begin(g, n, d);
	if (rc <= 0)
		return rc;
	const ir_value *x = n->in[0], *ix = n->in[1];
	if (elements_check(g, n, x, ix, k_axis(ir_attr_int(n, "axis", 0), x->shape.rank), d))
		return -1;
	k_set_out(n, 0, x->dt, &ix->shape);
	return 0;
}

int ir_eval_gather_elements(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *x = in[0], *ix = in[1];
	ir_tensor *y = out[0];
	int r = x->shape.rank, axis = k_axis(ir_attr_int(n, "axis", 0), r);
	if (axis < 0 || x->dt != y->dt || !index_dtype(ix->dt) || !ir_shape_eq(&ix->shape, &y->shape)) {
		k_error(NULL, n, d, "operands do not match the inferred output");
		return -1;
	}
	int64_t xst[IR_MAX_RANK], cnt = numel(y);
	k_strides(&x->shape, xst);
	size_t es = ir_dtype_size(y->dt);
	for (int64_t p = 0; p < cnt; p++) {
		int64_t off = elements_offset(n, x, ix, xst, axis, p, d);
		if (off < 0)
			return -1;
		memcpy((char *)y->data + (size_t)p * es, (const char *)x->data + (size_t)off * es, es);
	}
	return 0;
}

/* scatter_elements(data, indices, updates): ONNX's ScatterElements
 * (torch's scatter and scatter_add): y = data, then for each element p
 * of updates, in order, y[p with its axis coordinate replaced by
 * indices[p]] = (or +=, *=, max=, min=: `reduction`) updates[p]. */
static int scatter_red(const char *r)
{
	static const char *const names[] = {"none", "add", "mul", "max", "min"};
	for (int i = 0; i < 5; i++)
		if (strcmp(r, names[i]) == 0)
			return i;
	return -1;
}

/* The prologue of scatter_elements and scatter_nd: indexed_begin's, the
 * reduction's name, updates of data's dtype (reductions of f32 only);
 * 1, 0 or -1 as indexed_begin. */
static int scatter_begin(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 2, d))
		return -1;
	int rc = indexed_begin(g, n, d);
	const ir_value *x = n->in[0], *u = n->in[2];
	int red = scatter_red(ir_attr_str(n, "reduction", "none"));
	if (rc < 0)
		return -1;
	if (red < 0) {
		k_error(g, n, d, "reduction '%s'; expected none, add, mul, max or min", ir_attr_str(n, "reduction", ""));
		return -1;
	}
	if (x->dt != IR_DT_UNDEF && u->dt != IR_DT_UNDEF && u->dt != x->dt) {
		k_error(g, n, d, "updates are %s for data of %s", ir_dtype_name(u->dt), ir_dtype_name(x->dt));
		return -1;
	}
	if (red && x->dt != IR_DT_UNDEF && x->dt != IR_DT_F32) {
		k_error(g, n, d, "reduction '%s' of %s data is not supported (only f32)", ir_attr_str(n, "reduction", ""),
		        ir_dtype_name(x->dt));
		return -1;
	}
	return rc == 0 || u->shape.rank < 0 ? 0 : 1;
}

/* t under reduction red (1 add, 2 mul, 3 max, 4 min) meeting e. */
static float scatter_combine(int red, float t, float e)
{
	return red == 1 ? t + e : red == 2 ? t * e : red == 3 ? (e > t ? e : t) : (e < t ? e : t);
}

int ir_infer_scatter_elements(ir_graph *g, ir_node *n, diag_sink *d)
{
	int rc = scatter_begin(g, n, d);
	const ir_value *x = n->in[0], *ix = n->in[1], *u = n->in[2];
	if (rc <= 0)
		return rc < 0 ? -1 : k_defer(n);
	if (!ir_shape_eq(&ix->shape, &u->shape)) {
		char b1[96], b2[96];
		k_error(g, n, d, "indices %s and updates %s must agree", ir_shape_str(&ix->shape, b1, sizeof b1),
		        ir_shape_str(&u->shape, b2, sizeof b2));
		return -1;
	}
	if (elements_check(g, n, x, ix, k_axis(ir_attr_int(n, "axis", 0), x->shape.rank), d))
		return -1;
	k_set_out(n, 0, x->dt, &x->shape);
	return 0;
}

int ir_eval_scatter_elements(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *x = in[0], *ix = in[1], *u = in[2];
	ir_tensor *y = out[0];
	int r = x->shape.rank, axis = k_axis(ir_attr_int(n, "axis", 0), r);
	int red = scatter_red(ir_attr_str(n, "reduction", "none"));
	if (axis < 0 || red < 0 || x->dt != y->dt || u->dt != x->dt || !index_dtype(ix->dt) ||
	    !ir_shape_eq(&x->shape, &y->shape)) {
		k_error(NULL, n, d, "operands do not match the inferred output");
		return -1;
	}
	size_t es = ir_dtype_size(y->dt);
	memcpy(y->data, x->data, (size_t)numel(x) * es);
	int64_t xst[IR_MAX_RANK], cnt = numel(u);
	k_strides(&x->shape, xst);
	for (int64_t p = 0; p < cnt; p++) {
		int64_t off = elements_offset(n, x, ix, xst, axis, p, d);
		if (off < 0)
			return -1;
		if (!red) {
			memcpy((char *)y->data + (size_t)off * es, (const char *)u->data + (size_t)p * es, es);
			continue;
		}
		float *t = (float *)y->data + off;
		*t = scatter_combine(red, *t, ((const float *)u->data)[p]);
	}
	return 0;
}

/* gather_nd(data, indices) and scatter_nd(data, indices, updates):
 * ONNX's GatherND and ScatterND (torch's advanced indexing and index_put,
 * slice assignment x[:, 0] = v).  The last axis of indices holds k
 * coordinates into data's axes from b (batch_dims, gather_nd only: the
 * first b axes of data and indices agree and are walked together), each
 * in [-extent, extent) (negative from the end); each tuple selects the
 * block of data's axes after them.  gather_nd's output is indices' shape
 * less its last axis, then the block's; scatter_nd's is data's, each
 * block replaced in order by (or combined with: `reduction`) the updates
 * at the tuple's position.  nd_geom checks them: k, the tuples' count
 * per batch, the block's size; 0, or -1 reported. */
typedef struct nd_geom {
	int b, k;
	int64_t batches, ntup, block;
} nd_geom;

static int nd_geom_of(ir_graph *g, ir_node *n, const ir_shape *xs, const ir_shape *is, int64_t b, nd_geom *o,
                      diag_sink *d)
{
	int r = xs->rank, q = is->rank;
	if (q < 1 || b < 0 || b >= q || b >= r) {
		k_error(g, n, d, "batch_dims %lld for data of rank %d and indices of rank %d", (long long)b, r, q);
		return -1;
	}
	int64_t k = is->d[q - 1];
	if (k < 1 || k > r - b) {
		k_error(g, n, d, "indices' last axis holds %lld coordinates; data of rank %d takes 1 to %d", (long long)k, r,
		        (int)(r - b));
		return -1;
	}
	o->b = (int)b, o->k = (int)k, o->batches = 1, o->ntup = 1, o->block = 1;
	for (int i = 0; i < b; i++) {
		if (xs->d[i] != is->d[i]) {
			k_error(g, n, d, "batch axis %d: data has %lld, indices %lld", i, (long long)xs->d[i], (long long)is->d[i]);
			return -1;
		}
		o->batches *= xs->d[i];
	}
	for (int i = b; i < q - 1; i++)
		o->ntup *= is->d[i];
	for (int i = b + o->k; i < r; i++)
		o->block *= xs->d[i];
	return 0;
}

/* The offset in data of batch bi's tuple j (after the batch's base), -1
 * reported when a coordinate is outside its axis. */
static int64_t nd_offset(const ir_node *n, const ir_tensor *x, const ir_tensor *ix, const nd_geom *m, int64_t bi,
                         int64_t j, diag_sink *d)
{
	int64_t off = 0, st = m->block;
	for (int t = m->k - 1; t >= 0; t--) {
		int64_t p = (bi * m->ntup + j) * m->k + t, ext = x->shape.d[m->b + t];
		int64_t v = ix->dt == IR_DT_I64 ? ((const int64_t *)ix->data)[p] : ((const int32_t *)ix->data)[p];
		if (v < -ext || v >= ext) {
			k_error(NULL, n, d, "index %lld is out of range for axis %d of extent %lld", (long long)v, m->b + t,
			        (long long)ext);
			return -1;
		}
		off += (v < 0 ? v + ext : v) * st;
		st *= ext;
	}
	return off;
}

/* Constant indices (slice assignment's, built from shapes) are checked
 * at inference, as gather's are: 0, or -1 reported. */
static int nd_check_const(ir_graph *g, ir_node *n, const ir_value *x, const ir_value *ix, const nd_geom *m,
                          diag_sink *d)
{
	if (!ir_value_is_const(ix) || !ix->data)
		return 0;
	int64_t cnt = ir_shape_numel(&ix->shape);
	for (int64_t p = 0; p < cnt; p++) {
		int a = m->b + (int)(p % m->k);
		int64_t v = (int64_t)ir_const_get(ix, p), ext = x->shape.d[a];
		if (v < -ext || v >= ext) {
			k_error(g, n, d, "index %lld is out of range for axis %d of extent %lld", (long long)v, a, (long long)ext);
			return -1;
		}
	}
	return 0;
}

int ir_infer_gather_nd(ir_graph *g, ir_node *n, diag_sink *d)
{
	int rc = indexed_begin(g, n, d);
	if (rc <= 0)
		return rc;
	const ir_value *x = n->in[0], *ix = n->in[1];
	if (!ir_shape_known(&x->shape) || !ir_shape_known(&ix->shape))
		return k_defer(n);
	nd_geom m;
	if (nd_geom_of(g, n, &x->shape, &ix->shape, ir_attr_int(n, "batch_dims", 0), &m, d) ||
	    nd_check_const(g, n, x, ix, &m, d))
		return -1;
	ir_shape o = {.rank = 0};
	int orank = ix->shape.rank - 1 + x->shape.rank - m.b - m.k;
	if (orank > IR_MAX_RANK) {
		k_error(g, n, d, "output rank %d exceeds the maximum of %d", orank, IR_MAX_RANK);
		return -1;
	}
	for (int i = 0; i < ix->shape.rank - 1; i++)
		o.d[o.rank++] = ix->shape.d[i];
	for (int i = m.b + m.k; i < x->shape.rank; i++)
		o.d[o.rank++] = x->shape.d[i];
	k_set_out(n, 0, x->dt, &o);
	return 0;
}

int ir_eval_gather_nd(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *x = in[0], *ix = in[1];
	ir_tensor *y = out[0];
	nd_geom m;
	if (!x || !ix || x->dt != y->dt || !index_dtype(ix->dt) ||
	    nd_geom_of(NULL, (ir_node *)n, &x->shape, &ix->shape, ir_attr_int(n, "batch_dims", 0), &m, d) ||
	    numel(y) != m.batches * m.ntup * m.block) {
		k_error(NULL, n, d, "operands do not match the inferred output");
		return -1;
	}
	size_t es = ir_dtype_size(y->dt), blk = (size_t)m.block * es;
	int64_t bstride = numel(x) / (m.batches ? m.batches : 1);
	for (int64_t bi = 0; bi < m.batches; bi++)
		for (int64_t j = 0; j < m.ntup; j++) {
			int64_t off = nd_offset(n, x, ix, &m, bi, j, d);
			if (off < 0)
				return -1;
			memcpy((char *)y->data + (size_t)(bi * m.ntup + j) * blk,
			       (const char *)x->data + (size_t)(bi * bstride + off) * es, blk);
		}
	return 0;
}

int ir_infer_scatter_nd(ir_graph *g, ir_node *n, diag_sink *d)
{
	int rc = scatter_begin(g, n, d);
	const ir_value *x = n->in[0], *ix = n->in[1], *u = n->in[2];
	if (rc < 0)
		return -1;
	if (rc == 0 || !ir_shape_known(&x->shape) || !ir_shape_known(&ix->shape) || !ir_shape_known(&u->shape))
		return k_defer(n);
	nd_geom m;
	if (nd_geom_of(g, n, &x->shape, &ix->shape, 0, &m, d) || nd_check_const(g, n, x, ix, &m, d))
		return -1;
	/* updates: indices' shape less its last axis, then the block's */
	ir_shape want = {.rank = 0};
	for (int i = 0; i < ix->shape.rank - 1; i++)
		want.d[want.rank++] = ix->shape.d[i];
	for (int i = m.k; i < x->shape.rank && want.rank < IR_MAX_RANK; i++)
		want.d[want.rank++] = x->shape.d[i];
	if (!ir_shape_eq(&want, &u->shape)) {
		char b1[96], b2[96];
		k_error(g, n, d, "updates %s; indices and data need %s", ir_shape_str(&u->shape, b1, sizeof b1),
		        ir_shape_str(&want, b2, sizeof b2));
		return -1;
	}
	k_set_out(n, 0, x->dt, &x->shape);
	return 0;
}

int ir_eval_scatter_nd(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *x = in[0], *ix = in[1], *u = in[2];
	ir_tensor *y = out[0];
	int red = scatter_red(ir_attr_str(n, "reduction", "none"));
	nd_geom m;
	if (!x || !ix || !u || red < 0 || x->dt != y->dt || u->dt != x->dt || !index_dtype(ix->dt) ||
	    !ir_shape_eq(&x->shape, &y->shape) || nd_geom_of(NULL, (ir_node *)n, &x->shape, &ix->shape, 0, &m, d) ||
	    numel(u) != m.ntup * m.block) {
		k_error(NULL, n, d, "operands do not match the inferred output");
		return -1;
	}
	size_t es = ir_dtype_size(y->dt);
	memcpy(y->data, x->data, (size_t)numel(x) * es);
	for (int64_t j = 0; j < m.ntup; j++) {
		int64_t off = nd_offset(n, x, ix, &m, 0, j, d);
		if (off < 0)
			return -1;
		if (!red) {
			memcpy((char *)y->data + (size_t)off * es, (const char *)u->data + (size_t)(j * m.block) * es,
			       (size_t)m.block * es);
			continue;
		}
		for (int64_t e = 0; e < m.block; e++) {
			float *t = (float *)y->data + off + e;
			*t = scatter_combine(red, *t, ((const float *)u->data)[j * m.block + e]);
		}
	}
	return 0;
}

/* one_hot(indices, depth, values): ONNX's OneHot (F.one_hot): indices'
 * shape with an axis of `depth` inserted at axis, values[1] where the
 * index (negative ones counted from depth) is the position along it,
 * values[0] elsewhere; an index outside [-depth, depth) gives all
 * values[0]. */
static int one_hot_depth(const ir_value *dv, int64_t *depth)
{
	if (!ir_value_is_const(dv) || !dv->data || ir_shape_numel(&dv->shape) != 1)
		return -1;
	double v = ir_const_get(dv, 0);
	if (!(v >= 1 && v <= (double)IR_MAX_NUMEL))
		return -1;
	*depth = (int64_t)v;
	return 0;
}

int ir_infer_one_hot(ir_graph *g, ir_node *n, diag_sink *d)
{
	for (int k = 0; k < 3; k++)
		if (!k_need_in(g, n, k, d))
			return -1;
	const ir_value *ix = n->in[0], *dv = n->in[1], *vv = n->in[2];
	set_out_dt(n, vv->dt);
	if (ix->dt != IR_DT_UNDEF && ix->dt != IR_DT_I64 && ix->dt != IR_DT_I32 && ix->dt != IR_DT_F32) {
		k_error(g, n, d, "indices have dtype %s; expected i32, i64 or f32", ir_dtype_name(ix->dt));
		return -1;
	}
	if (ix->shape.rank < 0 || vv->shape.rank < 0 || vv->dt == IR_DT_UNDEF || !ir_value_is_const(dv))
		return k_defer(n);
	int64_t depth;
	if (one_hot_depth(dv, &depth)) {
		k_error(g, n, d, "depth must be one positive value");
		return -1;
	}
	if (ir_shape_numel(&vv->shape) != 2) {
		k_error(g, n, d, "values must hold two elements (off, on)");
		return -1;
	}
	int r = ix->shape.rank + 1, axis = k_axis(ir_attr_int(n, "axis", -1), r);
	if (axis < 0 || r > IR_MAX_RANK) {
		k_error(g, n, d, "axis %lld is out of range for an output of rank %d", (long long)ir_attr_int(n, "axis", -1), r);
		return -1;
	}
	ir_shape o = {.rank = r};
	for (int i = 0, j = 0; i < r; i++)
		o.d[i] = i == axis ? depth : ix->shape.d[j++];
	if (k_too_big(&o))
		return report_too_big(g, n, &o, d);
	k_set_out(n, 0, vv->dt, &o);
	return 0;
}

static int64_t one_hot_index(const ir_tensor *t, int64_t k)
{
	return t->dt == IR_DT_I64 ? ((const int64_t *)t->data)[k]
	       : t->dt == IR_DT_I32 ? ((const int32_t *)t->data)[k]
	                            : (int64_t)((const float *)t->data)[k];
}

int ir_eval_one_hot(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *ix = in[0], *vv = in[2];
	ir_tensor *y = out[0];
	int r = y->shape.rank, axis = k_axis(ir_attr_int(n, "axis", -1), r);
	if (axis < 0 || vv->dt != y->dt || numel(vv) != 2) {
		k_error(NULL, n, d, "operands do not match the inferred output");
		return -1;
	}
	int64_t depth = y->shape.d[axis], outer = 1, inner = 1;
	for (int i = 0; i < axis; i++)
		outer *= y->shape.d[i];
	for (int i = axis + 1; i < r; i++)
		inner *= y->shape.d[i];
	size_t es = ir_dtype_size(y->dt);
	for (int64_t o = 0; o < outer; o++)
		for (int64_t a = 0; a < depth; a++)
			for (int64_t q = 0; q < inner; q++) {
				int64_t v = one_hot_index(ix, o * inner + q);
				if (v < 0)
					v += depth;
				memcpy((char *)y->data + (size_t)((o * depth + a) * inner + q) * es,
				       (const char *)vv->data + (v == a ? es : 0), es);
			}
	return 0;
}

/* trilu(x, k?): ONNX's Trilu (torch.triu, tril): of each matrix in the
 * last two axes, the elements on and above (upper) or on and below the
 * k-th diagonal; the rest 0. */
static int trilu_k(const ir_node *n, int64_t *k)
{
	*k = 0;
	if (n->nin < 2 || !n->in[1])
		return 0;
	const ir_value *kv = n->in[1];
	if (!ir_value_is_const(kv) || !kv->data || ir_shape_numel(&kv->shape) != 1 || kv->dt != IR_DT_I64)
		return -1;
	*k = (int64_t)ir_const_get(kv, 0);
	return 0;
}

int ir_infer_trilu(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d))
		return -1;
	const ir_value *x = n->in[0];
	set_out_dt(n, x->dt);
	if (x->shape.rank < 0 || (n->nin > 1 && n->in[1] && !ir_value_is_const(n->in[1])))
		return k_defer(n);
	int64_t k;
	if (trilu_k(n, &k)) {
		k_error(g, n, d, "k must be one i64 value");
		return -1;
	}
	if (x->shape.rank < 2) {
		k_error(g, n, d, "input of rank %d; Trilu needs 2 or more", x->shape.rank);
		return -1;
	}
	k_set_out(n, 0, x->dt, &x->shape);
	return 0;
}

int ir_eval_trilu(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *x = in[0];
	ir_tensor *y = out[0];
	int64_t k;
	int r = x->shape.rank;
	if (trilu_k(n, &k) || r < 2 || x->dt != y->dt) {
		k_error(NULL, n, d, "operands do not match the inferred output");
		return -1;
	}
	bool up = ir_attr_int(n, "upper", 1) != 0;
	int64_t rows = x->shape.d[r - 2], cols = x->shape.d[r - 1], cnt = numel(x);
	size_t es = ir_dtype_size(x->dt);
	for (int64_t p = 0; p < cnt; p++) {
		int64_t j = p % cols, i = (p / cols) % rows;
		bool keep = up ? j - i >= k : j - i <= k;
		if (keep)
			memcpy((char *)y->data + (size_t)p * es, (const char *)x->data + (size_t)p * es, es);
		else
			memset((char *)y->data + (size_t)p * es, 0, es);
	}
	return 0;
}

/* ----------------------------------------------------------------- slice */

/* Per-axis first index, step and output extent of slicing shape s, by
 * ONNX's rules: negative starts/ends count from the back, then starts
 * clamp to [0, dim] (step > 0) or [0, dim-1] (step < 0) and ends to
 * [0, dim] or [-1, dim-1].  Axes not named keep start 0, step 1.  Reports
 * and returns -1 on bad operands.  This follows the spec text (and
 * onnxruntime); numpy slicing, which the ONNX Python reference uses,
 * differs in one corner: a negative step with a start still below 0 after
 * adding dim gives numpy an empty slice but the spec clamps start to 0. */
static int slice_plan(ir_graph *g, const ir_node *n, const ir_shape *s, int cnt,
                      const int64_t *starts, const int64_t *ends, const int64_t *axes,
                      const int64_t *steps, int64_t *first, int64_t *step, int64_t *len,
                      diag_sink *d)
{
	int r = s->rank;
	bool seen[IR_MAX_RANK] = {false};
	for (int i = 0; i < r; i++) {
		first[i] = 0;
		step[i] = 1;
		len[i] = s->d[i];
	}
	for (int i = 0; i < cnt; i++) {
		int64_t av = axes ? axes[i] : i;
		int a = k_axis(av, r);
		if (a < 0) {
			k_error(g, n, d, "axis %lld is out of range for rank %d", (long long)av, r);
			return -1;
		}
		if (seen[a]) {
			k_error(g, n, d, "axis %lld is repeated", (long long)av);
			return -1;
		}
		seen[a] = true;
		int64_t dim = s->d[a], st = steps ? steps[i] : 1, b = starts[i], e = ends[i];
		if (st == 0) {
			k_error(g, n, d, "step on axis %d is 0", a);
			return -1;
		}
		if (b < 0)
			b += dim;
		if (e < 0)
			e += dim;
		int64_t l;
		if (st > 0) {
			b = b < 0 ? 0 : b > dim ? dim : b;
			e = e < 0 ? 0 : e > dim ? dim : e;
			/* ceil((e - b) / st) without overflow: e - b is at most dim. */
			l = e > b ? (e - b - 1) / st + 1 : 0;
		} else {
			b = b < 0 ? 0 : b > dim - 1 ? dim - 1 : b;
			e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
			l = b > e ? (b - e - 1) / -st + 1 : 0;
		}
		first[a] = b;
		step[a] = st;
		len[a] = l;
	}
	return 0;
}

/* Reads slice operands in the order (starts, ends, axes?, steps?) into
 * v[0..3]; returns the count, or -2 to defer, -1 on error.  have[k] says
 * whether the optional axes (2) / steps (3) are present. */
static int slice_operands(ir_graph *g, ir_node *n, int64_t v[4][IR_MAX_RANK], bool have[4],
                          diag_sink *d)
{
	static const char *names[4] = {"starts", "ends", "axes", "steps"};
	int cnt = -1;
	for (int k = 0; k < 4; k++) {
		have[k] = false;
		if (k >= 2 && !k_opt_val(n, k + 1))
			continue;
		if (k < 2 && !k_need_in(g, n, k + 1, d))
			return -1;
		int c = const_ints(g, n, k + 1, names[k], v[k], IR_MAX_RANK, d);
		if (c < 0)
			return c;
		if (cnt >= 0 && c != cnt) {
			k_error(g, n, d, "%s has %d elements, starts has %d", names[k], c, cnt);
			return -1;
		}
		cnt = c;
		have[k] = true;
	}
	return cnt;
}

int ir_infer_slice(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d))
		return -1;
	const ir_value *x = n->in[0];
	set_out_dt(n, x->dt);
	if (x->shape.rank < 0)
		return k_defer(n);
	int64_t v[4][IR_MAX_RANK];
	bool have[4];
	int cnt = slice_operands(g, n, v, have, d);
	if (cnt == -2)
		return k_defer(n);
	if (cnt < 0)
		return -1;
	int r = x->shape.rank;
	/* A slice of the symbolic batch dim is still the batch only if it
	 * takes everything: start 0, step 1, end at or past any real size. */
	ir_shape s = x->shape;
	for (int i = 0; i < cnt && has_sym(&s); i++) {
		int a = k_axis(have[2] ? v[2][i] : i, r);
		if (a != 0)
			continue;
		int64_t st = have[3] ? v[3][i] : 1;
		if (v[0][i] != 0 || st != 1 || v[1][i] < INT32_MAX)
			return k_defer(n);
	}
	if (has_sym(&s))
		s.d[0] = 1; /* stand-in extent: sliced whole or not at all */
	int64_t first[IR_MAX_RANK], step[IR_MAX_RANK], len[IR_MAX_RANK];
	if (slice_plan(g, n, &s, cnt, v[0], v[1], have[2] ? v[2] : NULL, have[3] ? v[3] : NULL, first,
	               step, len, d))
		return -1;
	ir_shape o = {.rank = r};
	for (int i = 0; i < r; i++)
		o.d[i] = len[i];
	if (has_sym(&x->shape))
		o.d[0] = IR_DIM_SYM;
	k_set_out(n, 0, x->dt, &o);
	return 0;
}

int ir_eval_slice(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	static const char *names[4] = {"starts", "ends", "axes", "steps"};
	const ir_tensor *x = in[0];
	ir_tensor *y = out[0];
	if (!x || x->dt != y->dt || x->shape.rank != y->shape.rank || n->nin < 3 || !in[1] || !in[2]) {
		k_error(NULL, n, d, "operands do not match the inferred output");
		return -1;
	}
	int64_t v[4][IR_MAX_RANK];
	int cnt = -1;
	bool have[4] = {false};
	for (int k = 0; k < 4; k++) {
		const ir_tensor *t = k < 2 ? in[k + 1] : opt_in(n, in, k + 1);
		if (!t)
			continue;
		int c = tensor_ints(n, t, names[k], v[k], IR_MAX_RANK, d);
		if (c < 0)
			return -1;
		if (cnt >= 0 && c != cnt) {
			k_error(NULL, n, d, "%s has %d elements, starts has %d", names[k], c, cnt);
			return -1;
		}
		cnt = c;
		have[k] = true;
	}
	int r = x->shape.rank;
	int64_t first[IR_MAX_RANK], step[IR_MAX_RANK], len[IR_MAX_RANK];
	if (slice_plan(NULL, n, &x->shape, cnt, v[0], v[1], have[2] ? v[2] : NULL,
	               have[3] ? v[3] : NULL, first, step, len, d))
		return -1;
	for (int i = 0; i < r; i++)
		if (len[i] != y->shape.d[i]) {
			k_error(NULL, n, d, "operands do not match the inferred output");
			return -1;
		}
	int64_t cnt_out = numel(y), xst[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
	if (cnt_out <= 0)
		return 0;
	k_strides(&x->shape, xst);
	size_t es = ir_dtype_size(y->dt);
	int64_t k = 0;
	do {
		int64_t src = 0;
		for (int i = 0; i < r; i++)
			src += (first[i] + idx[i] * step[i]) * xst[i];
		memcpy((char *)y->data + (size_t)k * es, (const char *)x->data + (size_t)src * es, es);
		k++;
	} while (idx_next(&y->shape, idx));
	return 0;
}

/* ----------------------------------------------------------------- split */

/* Extents of the nout pieces of an axis of extent dim: the split operand
 * when given, else num_outputs (or nout) chunks of ceil(dim / count) with
 * a smaller last one, per opset 18.  -1 (reported) if impossible. */
static int split_sizes(ir_graph *g, const ir_node *n, int64_t dim, const int64_t *split, int nsplit,
                       int64_t *sizes, diag_sink *d)
{
	int nout = n->nout;
	if (split) {
		if (nsplit != nout) {
			k_error(g, n, d, "split has %d sizes for %d outputs", nsplit, nout);
			return -1;
		}
		int64_t sum = 0;
		for (int i = 0; i < nout; i++) {
			if (split[i] < 0 || split[i] > dim) {
				k_error(g, n, d, "split size %lld is out of range for extent %lld",
				        (long long)split[i], (long long)dim);
				return -1;
			}
			sizes[i] = split[i];
			sum += split[i];
		}
		if (sum != dim) {
			k_error(g, n, d, "split sizes add up to %lld, axis extent is %lld", (long long)sum,
			        (long long)dim);
			return -1;
		}
		return 0;
	}
	int64_t parts = ir_attr_int(n, "num_outputs", nout);
	if (parts != nout) {
		k_error(g, n, d, "num_outputs is %lld but the node has %d outputs", (long long)parts, nout);
		return -1;
	}
	int64_t chunk = (dim + nout - 1) / nout;
	int64_t last = dim - chunk * (nout - 1);
	if (last < 0) {
		k_error(g, n, d, "cannot split extent %lld into %d chunks of %lld", (long long)dim, nout,
		        (long long)chunk);
		return -1;
	}
	for (int i = 0; i < nout; i++)
		sizes[i] = i + 1 < nout ? chunk : last;
	return 0;
}

int ir_infer_split(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d))
		return -1;
	if (n->nout < 1) {
		k_error(g, n, d, "split needs at least one output");
		return -1;
	}
	const ir_value *x = n->in[0];
	set_out_dt(n, x->dt);
	if (x->shape.rank < 0)
		return k_defer(n);
	int r = x->shape.rank;
	int64_t a = ir_attr_int(n, "axis", 0);
	int axis = k_axis(a, r);
	if (axis < 0) {
		k_error(g, n, d, "axis %lld is out of range for rank %d", (long long)a, r);
		return -1;
	}
	if (n->nin > 1 && n->in[1] && !ir_value_is_const(n->in[1]))
		return k_defer(n);
	const ir_value *sv = k_opt_val(n, 1);
	if (sv && ir_shape_numel(&sv->shape) != n->nout) {
		k_error(g, n, d, "split has %lld sizes for %d outputs",
		        (long long)ir_shape_numel(&sv->shape), n->nout);
		return -1;
	}
	if (x->shape.d[axis] == IR_DIM_SYM)
		return k_defer(n);
	int64_t *split = malloc(sizeof *split * (size_t)n->nout);
	int64_t *sizes = malloc(sizeof *sizes * (size_t)n->nout);
	int rc = -1;
	if (!split || !sizes) {
		k_error(g, n, d, "out of memory");
		goto out;
	}
	if (sv && const_ints(g, n, 1, "split", split, n->nout, d) < 0)
		goto out;
	if (split_sizes(g, n, x->shape.d[axis], sv ? split : NULL, n->nout, sizes, d))
		goto out;
	for (int k = 0; k < n->nout; k++) {
		if (!n->out[k])
			continue;
		ir_shape o = x->shape;
		o.d[axis] = sizes[k];
		k_set_out(n, k, x->dt, &o);
	}
	rc = 0;
out:
	free(split);
	free(sizes);
	return rc;
}

int ir_eval_split(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *x = in[0];
	int nout = n->nout;
	if (!x || nout < 1) {
		k_error(NULL, n, d, "operands do not match the inferred output");
		return -1;
	}
	int r = x->shape.rank;
	int axis = k_axis(ir_attr_int(n, "axis", 0), r);
	if (axis < 0) {
		k_error(NULL, n, d, "axis is out of range for rank %d", r);
		return -1;
	}
	const ir_tensor *st = opt_in(n, in, 1);
	int64_t *split = malloc(sizeof *split * (size_t)nout);
	int64_t *sizes = malloc(sizeof *sizes * (size_t)nout);
	int rc = -1, nsplit = 0;
	if (!split || !sizes) {
		k_error(NULL, n, d, "out of memory");
		goto out;
	}
	if (st && (nsplit = tensor_ints(n, st, "split", split, nout, d)) < 0)
		goto out;
	if (split_sizes(NULL, n, x->shape.d[axis], st ? split : NULL, nsplit, sizes, d))
		goto out;
	for (int k = 0; k < nout; k++) {
		if (!out[k])
			continue;
		ir_shape want = x->shape;
		want.d[axis] = sizes[k];
		if (out[k]->dt != x->dt || !ir_shape_eq(&out[k]->shape, &want)) {
			k_error(NULL, n, d, "output %d does not match the inferred shape", k);
			goto out;
		}
	}
	/* Each outer row of x is the outputs' rows laid end to end. */
	int64_t outer = prod(&x->shape, 0, axis), inner = prod(&x->shape, axis + 1, r);
	size_t es = ir_dtype_size(x->dt);
	const char *src = x->data;
	if (numel(x) <= 0)
		outer = 0; /* nothing to copy; an empty input may have no storage */
	for (int64_t o = 0; o < outer; o++)
		for (int k = 0; k < nout; k++) {
			size_t blk = (size_t)(sizes[k] * inner) * es;
			if (out[k] && blk)
				memcpy((char *)out[k]->data + (size_t)o * blk, src, blk);
			src += blk;
		}
	rc = 0;
out:
	free(split);
	free(sizes);
	return rc;
}

/* ------------------------------------------------------------------- pad */

typedef enum { PAD_CONSTANT, PAD_EDGE, PAD_REFLECT, PAD_WRAP } pad_mode;

static int pad_mode_of(ir_graph *g, const ir_node *n, pad_mode *m, diag_sink *d)
{
	const char *s = ir_attr_str(n, "mode", "constant");
	if (strcmp(s, "constant") == 0)
		*m = PAD_CONSTANT;
	else if (strcmp(s, "edge") == 0)
		*m = PAD_EDGE;
	else if (strcmp(s, "reflect") == 0)
		*m = PAD_REFLECT;
	else if (strcmp(s, "wrap") == 0)
		*m = PAD_WRAP;
	else {
		k_error(g, n, d, "unknown pad mode '%s'", s);
		return -1;
	}
	return 0;
}

/* Per-axis begin/end pads of shape s from the pads and optional axes
 * operands.  Negative pads crop.  -1 (reported) on bad operands. */
static int pad_plan(ir_graph *g, const ir_node *n, const ir_shape *s, const int64_t *pads, int npads,
                    const int64_t *axes, int naxes, pad_mode m, int64_t *pb, int64_t *pe,
                    diag_sink *d)
{
	int r = s->rank;
	int na = axes ? naxes : r;
	if (npads != 2 * na) {
		k_error(g, n, d, "pads has %d values, expected %d", npads, 2 * na);
		return -1;
	}
	bool seen[IR_MAX_RANK] = {false};
	for (int i = 0; i < r; i++)
		pb[i] = pe[i] = 0;
	for (int i = 0; i < na; i++) {
		int64_t av = axes ? axes[i] : i;
		int a = k_axis(av, r);
		if (a < 0) {
			k_error(g, n, d, "axis %lld is out of range for rank %d", (long long)av, r);
			return -1;
		}
		if (seen[a]) {
			k_error(g, n, d, "axis %lld is repeated", (long long)av);
			return -1;
		}
		seen[a] = true;
		pb[a] = pads[i];
		pe[a] = pads[na + i];
	}
	for (int i = 0; i < r; i++) {
		int64_t dim = s->d[i];
		if (dim == IR_DIM_SYM)
			continue;
		if (pb[i] > IR_MAX_NUMEL || pe[i] > IR_MAX_NUMEL || pb[i] < -dim || pe[i] < -dim ||
		    dim + pb[i] + pe[i] < 0) {
			k_error(g, n, d, "pads %lld,%lld on axis %d of extent %lld leave no valid extent",
			        (long long)pb[i], (long long)pe[i], i, (long long)dim);
			return -1;
		}
		/* Non-constant modes copy from what is left after cropping. */
		int64_t kept = dim + (pb[i] < 0 ? pb[i] : 0) + (pe[i] < 0 ? pe[i] : 0);
		if (m != PAD_CONSTANT && kept == 0 && (pb[i] > 0 || pe[i] > 0)) {
			k_error(g, n, d, "cannot pad empty axis %d in mode '%s'", i,
			        ir_attr_str(n, "mode", "constant"));
			return -1;
		}
	}
	return 0;
}

int ir_infer_pad(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d) || !k_need_in(g, n, 1, d))
		return -1;
	const ir_value *x = n->in[0];
	set_out_dt(n, x->dt);
	pad_mode m;
	if (pad_mode_of(g, n, &m, d))
		return -1;
	const ir_value *cv = k_opt_val(n, 2);
	if (cv && cv->dt != IR_DT_UNDEF && x->dt != IR_DT_UNDEF && cv->dt != x->dt) {
		k_error(g, n, d, "constant_value has dtype %s, input has %s", ir_dtype_name(cv->dt),
		        ir_dtype_name(x->dt));
		return -1;
	}
	if (x->shape.rank < 0)
		return k_defer(n);
	int r = x->shape.rank;
	int64_t pads[2 * IR_MAX_RANK], axes[IR_MAX_RANK];
	int npads = const_ints(g, n, 1, "pads", pads, 2 * IR_MAX_RANK, d);
	if (npads == -2)
		return k_defer(n);
	if (npads < 0)
		return -1;
	int naxes = 0;
	bool have_axes = false;
	if (n->nin > 3 && n->in[3]) {
		if (!ir_value_is_const(n->in[3]))
			return k_defer(n);
		if (k_opt_val(n, 3)) {
			naxes = const_ints(g, n, 3, "axes", axes, IR_MAX_RANK, d);
			if (naxes < 0)
				return naxes == -2 ? k_defer(n) : -1;
			have_axes = true;
		}
	}
	int64_t pb[IR_MAX_RANK], pe[IR_MAX_RANK];
	if (pad_plan(g, n, &x->shape, pads, npads, have_axes ? axes : NULL, naxes, m, pb, pe, d))
		return -1;
	ir_shape o = x->shape;
	for (int i = 0; i < r; i++) {
		if (o.d[i] == IR_DIM_SYM) {
			if (pb[i] || pe[i])
				return k_defer(n);
			continue;
		}
		o.d[i] += pb[i] + pe[i];
	}
	if (k_too_big(&o))
		return report_too_big(g, n, &o, d);
	k_set_out(n, 0, x->dt, &o);
	return 0;
}

/* Map position s (relative to the kept extent m, may lie outside [0, m))
 * to a source position in [0, m) for the non-constant modes, as numpy.pad
 * does: edge repeats the border, reflect mirrors without repeating it
 * (period 2(m-1)), wrap is periodic. */
static int64_t pad_src(pad_mode mode, int64_t s, int64_t m)
{
	switch (mode) {
	case PAD_EDGE:
		return s < 0 ? 0 : s >= m ? m - 1 : s;
	case PAD_REFLECT: {
		if (m == 1)
			return 0;
		int64_t p = 2 * (m - 1);
		int64_t t = ((s % p) + p) % p;
		return t < m ? t : p - t;
	}
	case PAD_WRAP:
		return ((s % m) + m) % m;
	case PAD_CONSTANT:
		break;
	}
	return s;
}

int ir_eval_pad(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *x = in[0];
	ir_tensor *y = out[0];
	pad_mode m;
	if (pad_mode_of(NULL, n, &m, d))
		return -1;
	if (!x || !in[1] || x->dt != y->dt || x->shape.rank != y->shape.rank) {
		k_error(NULL, n, d, "operands do not match the inferred output");
		return -1;
	}
	int r = x->shape.rank;
	int64_t pads[2 * IR_MAX_RANK], axes[IR_MAX_RANK];
	int npads = tensor_ints(n, in[1], "pads", pads, 2 * IR_MAX_RANK, d);
	if (npads < 0)
		return -1;
	const ir_tensor *at = opt_in(n, in, 3);
	int naxes = 0;
	if (at && (naxes = tensor_ints(n, at, "axes", axes, IR_MAX_RANK, d)) < 0)
		return -1;
	int64_t pb[IR_MAX_RANK], pe[IR_MAX_RANK];
	if (pad_plan(NULL, n, &x->shape, pads, npads, at ? axes : NULL, naxes, m, pb, pe, d))
		return -1;
	for (int i = 0; i < r; i++)
		if (y->shape.d[i] != x->shape.d[i] + pb[i] + pe[i]) {
			k_error(NULL, n, d, "operands do not match the inferred output");
			return -1;
		}
	const ir_tensor *cv = opt_in(n, in, 2);
	if (cv && cv->dt != x->dt) {
		k_error(NULL, n, d, "constant_value has dtype %s, input has %s", ir_dtype_name(cv->dt),
		        ir_dtype_name(x->dt));
		return -1;
	}
	/* Per axis: skip `crop` leading input elements, keep `kept`, and put
	 * `lead` new elements before them. */
	int64_t crop[IR_MAX_RANK], kept[IR_MAX_RANK], lead[IR_MAX_RANK];
	for (int i = 0; i < r; i++) {
		crop[i] = pb[i] < 0 ? -pb[i] : 0;
		lead[i] = pb[i] > 0 ? pb[i] : 0;
		kept[i] = x->shape.d[i] - crop[i] - (pe[i] < 0 ? -pe[i] : 0);
	}
	int64_t cnt = numel(y), xst[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
	if (cnt <= 0)
		return 0;
	k_strides(&x->shape, xst);
	size_t es = ir_dtype_size(y->dt);
	int64_t k = 0;
	do {
		char *dst = (char *)y->data + (size_t)k * es;
		int64_t src = 0;
		bool fill = false;
		for (int i = 0; i < r && !fill; i++) {
			int64_t s = idx[i] - lead[i];
			if (s < 0 || s >= kept[i]) {
				if (m == PAD_CONSTANT)
					fill = true;
				else
					s = pad_src(m, s, kept[i]);
			}
			src += (crop[i] + s) * xst[i];
		}
		/* Storage arrives zeroed, which is the default constant. */
		if (fill) {
			if (cv)
				memcpy(dst, cv->data, es);
		} else {
			memcpy(dst, (const char *)x->data + (size_t)src * es, es);
		}
		k++;
	} while (idx_next(&y->shape, idx));
	return 0;
}

/* constant_of_shape: a tensor of the shape given by a constant i64 vector,
 * filled with `value` (default 0) converted to `dtype` (default f32). */
int ir_infer_constant_of_shape(ir_graph *g, ir_node *n, diag_sink *d)
{
	ir_dtype dt = ir_dtype_from_name(ir_attr_str(n, "dtype", "f32"));
	if (dt == IR_DT_UNDEF) {
		k_error(g, n, d, "unknown dtype '%s'", ir_attr_str(n, "dtype", ""));
		return -1;
	}
	ir_value *s = n->in[0];
	if (s->shape.rank >= 0 && s->shape.rank != 1) {
		k_error(g, n, d, "shape operand must be 1-D, not rank %d", s->shape.rank);
		return -1;
	}
	n->out[0]->dt = dt;
	if (!ir_value_is_const(s)) {
		n->out[0]->shape.rank = -1;
		return 0;
	}
	int64_t dims[IR_MAX_RANK];
	int r = ir_const_ints(s, dims, IR_MAX_RANK);
	if (r < 0) {
		k_error(g, n, d, "shape operand must be an i64 vector of at most %d entries", IR_MAX_RANK);
		return -1;
	}
	for (int i = 0; i < r; i++)
		if (dims[i] < 0) {
			k_error(g, n, d, "negative dimension %lld", (long long)dims[i]);
			return -1;
		}
	ir_shape out = ir_shape_make(r, dims);
	if (ir_shape_numel(&out) < 0) {
		k_error(g, n, d, "output would have more than %lld elements", (long long)IR_MAX_NUMEL);
		return -1;
	}
	k_set_out(n, 0, dt, &out);
	return 0;
}

int ir_eval_constant_of_shape(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out,
                              diag_sink *d)
{
	(void)in;
	(void)d;
	double v = ir_attr_float(n, "value", 0.0f);
	int64_t cnt = ir_shape_numel(&out[0]->shape);
	for (int64_t i = 0; i < cnt; i++) {
		switch (out[0]->dt) {
		case IR_DT_F32: ((float *)out[0]->data)[i] = (float)v; break;
		case IR_DT_I8: ((int8_t *)out[0]->data)[i] = (int8_t)v; break;
		case IR_DT_U8: ((uint8_t *)out[0]->data)[i] = (uint8_t)v; break;
		case IR_DT_I32: ((int32_t *)out[0]->data)[i] = (int32_t)v; break;
		case IR_DT_I64: ((int64_t *)out[0]->data)[i] = (int64_t)v; break;
		case IR_DT_BOOL: ((uint8_t *)out[0]->data)[i] = v != 0; break;
		default: break;
		}
	}
	return 0;
}

/* ------------------------------ expand, tile, depth_to_space, space_to_depth */

/* These four copy every output element from one input element whose
 * index is affine in the output's: y, row-major over dims[0..*rank), takes
 * x[sum idx_i * st[i]].  expand: the broadcast strides (0 where x's dim is
 * 1); tile: each repeated axis split into (repeat, extent) with stride 0
 * on the repeat; depth_to_space and space_to_depth: the 6-D transposes
 * ONNX defines them by.  The backends copy by the same map
 * (l_shape.c).  -1 when the node does not fit its shapes (inference
 * reports why) or tile needs more than IR_MAX_RANK dims. */
int ir_copy_map(const ir_node *n, const ir_shape *xs, const ir_shape *ys, int *rank, int64_t *dims,
                int64_t *st)
{
	int r = xs->rank;
	int64_t xst[IR_MAX_RANK];
	k_strides(xs, xst);
	switch (n->op) {
	case IR_OP_EXPAND:
		if (ys->rank < r)
			return -1;
		*rank = ys->rank;
		for (int i = 0; i < ys->rank; i++)
			dims[i] = ys->d[i];
		ir_bcast_strides(ys->rank, r, xs->d, 1, st);
		return 0;
	case IR_OP_TILE: {
		int64_t rep[IR_MAX_RANK];
		if (!n->in[1] || ir_const_ints(n->in[1], rep, IR_MAX_RANK) != r)
			return -1;
		int k = 0;
		for (int i = 0; i < r; i++) {
			if (rep[i] != 1) {
				if (k == IR_MAX_RANK)
					return -1;
				dims[k] = rep[i];
				st[k++] = 0;
			}
			if (k == IR_MAX_RANK)
				return -1;
			dims[k] = xs->d[i];
			st[k++] = xst[i];
		}
		*rank = k;
		return 0;
	}
	case IR_OP_DEPTH_TO_SPACE:
	case IR_OP_SPACE_TO_DEPTH: {
		int64_t b = ir_attr_int(n, "blocksize", 0);
		if (r != 4 || b < 1)
			return -1;
		int64_t N = xs->d[0], C = xs->d[1], H = xs->d[2], W = xs->d[3];
		*rank = 6;
		if (n->op == IR_OP_SPACE_TO_DEPTH) {
			if (H % b || W % b)
				return -1;
			int64_t d6[6] = {N, b, b, C, H / b, W / b}, s6[6] = {C * H * W, W, 1, H * W, b * W, b};
			memcpy(dims, d6, sizeof d6);
			memcpy(st, s6, sizeof s6);
			return 0;
		}
		if (C % (b * b))
			return -1;
		int64_t Cp = C / (b * b);
		int64_t d6[6] = {N, Cp, H, b, W, b};
		memcpy(dims, d6, sizeof d6);
		if (strcmp(ir_attr_str(n, "mode", "DCR"), "CRD") == 0) {
			int64_t s6[6] = {C * H * W, b * b * H * W, W, b * H * W, 1, H * W};
			memcpy(st, s6, sizeof s6);
		} else {
			int64_t s6[6] = {C * H * W, H * W, W, b * Cp * H * W, 1, Cp * H * W};
			memcpy(st, s6, sizeof s6);
		}
		return 0;
	}
	default: return -1;
	}
}

int ir_infer_expand(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d) || !k_need_in(g, n, 1, d))
		return -1;
	const ir_value *x = n->in[0], *sv = n->in[1];
	set_out_dt(n, x->dt);
	if (x->shape.rank < 0 || !ir_value_is_const(sv))
		return k_defer(n);
	int64_t v[IR_MAX_RANK];
	int cnt = (sv->dt == IR_DT_I64 || sv->dt == IR_DT_I32) && sv->shape.rank == 1
	                  ? ir_const_ints(sv, v, IR_MAX_RANK) : -1;
	if (cnt < 0) {
		char s[96];
		k_error(g, n, d, "shape '%s' is %s%s; expected a 1-D i64 of at most %d elements", sv->name,
		        ir_dtype_name(sv->dt), ir_shape_str(&sv->shape, s, sizeof s), IR_MAX_RANK);
		return -1;
	}
	ir_shape want = {.rank = cnt}, o;
	for (int i = 0; i < cnt; i++) {
		if (v[i] < 0) {
			k_error(g, n, d, "shape[%d] = %lld is negative", i, (long long)v[i]);
			return -1;
		}
		want.d[i] = v[i];
	}
	if (k_broadcast_shape(&x->shape, &want, &o)) {
		char a[96], b[96];
		k_error(g, n, d, "cannot expand %s to %s", ir_shape_str(&x->shape, a, sizeof a),
		        ir_shape_str(&want, b, sizeof b));
		return -1;
	}
	k_set_out(n, 0, x->dt, &o);
	return 0;
}

int ir_infer_tile(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d) || !k_need_in(g, n, 1, d))
		return -1;
	const ir_value *x = n->in[0], *rv = n->in[1];
	set_out_dt(n, x->dt);
	if (x->shape.rank < 0 || !ir_value_is_const(rv))
		return k_defer(n);
	int r = x->shape.rank;
	int64_t rep[IR_MAX_RANK];
	if ((rv->dt != IR_DT_I64 && rv->dt != IR_DT_I32) || ir_const_ints(rv, rep, IR_MAX_RANK) != r) {
		char s[96];
		k_error(g, n, d, "repeats '%s' is %s%s; expected %d i64 values, one per axis", rv->name,
		        ir_dtype_name(rv->dt), ir_shape_str(&rv->shape, s, sizeof s), r);
		return -1;
	}
	ir_shape o = x->shape;
	for (int i = 0; i < r; i++) {
		if (rep[i] < 0) {
			k_error(g, n, d, "repeats[%d] = %lld is negative", i, (long long)rep[i]);
			return -1;
		}
		if (o.d[i] == IR_DIM_SYM && rep[i] != 1) {
			k_error(g, n, d, "repeating the symbolic batch axis is not supported");
			return -1;
		}
		if (o.d[i] != IR_DIM_SYM)
			o.d[i] *= rep[i];
	}
	int rank;
	int64_t dims[IR_MAX_RANK], st[IR_MAX_RANK];
	if (ir_shape_numel(&x->shape) >= 0 && ir_copy_map(n, &x->shape, &o, &rank, dims, st)) {
		k_error(g, n, d, "tiling more than %d axes of rank %d is not supported", IR_MAX_RANK / 2, r);
		return -1;
	}
	k_set_out(n, 0, x->dt, &o);
	return 0;
}

/* depth_to_space and space_to_depth: rank 4 (N, C, H, W). */
static int infer_d2s(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_need_in(g, n, 0, d))
		return -1;
	const ir_value *x = n->in[0];
	set_out_dt(n, x->dt);
	if (x->shape.rank < 0)
		return k_defer(n);
	int64_t b = ir_attr_int(n, "blocksize", 0);
	const char *mode = ir_attr_str(n, "mode", "DCR");
	if (b < 1) {
		k_error(g, n, d, "blocksize %lld; expected 1 or more", (long long)b);
		return -1;
	}
	if (strcmp(mode, "DCR") && strcmp(mode, "CRD")) {
		k_error(g, n, d, "mode '%s'; expected DCR or CRD", mode);
		return -1;
	}
	char s[96];
	if (x->shape.rank != 4) {
		k_error(g, n, d, "input is %s; expected rank 4 (N, C, H, W)", ir_shape_str(&x->shape, s, sizeof s));
		return -1;
	}
	ir_shape o = x->shape;
	if (n->op == IR_OP_DEPTH_TO_SPACE) {
		if (o.d[1] % (b * b)) {
			k_error(g, n, d, "input %s has %lld channels, not a multiple of blocksize^2 = %lld",
			        ir_shape_str(&x->shape, s, sizeof s), (long long)o.d[1], (long long)(b * b));
			return -1;
		}
		o.d[1] /= b * b;
		o.d[2] *= b;
		o.d[3] *= b;
	} else {
		if (o.d[2] % b || o.d[3] % b) {
			k_error(g, n, d, "input %s: height and width must be multiples of blocksize %lld",
			        ir_shape_str(&x->shape, s, sizeof s), (long long)b);
			return -1;
		}
		o.d[1] *= b * b;
		o.d[2] /= b;
		o.d[3] /= b;
	}
	k_set_out(n, 0, x->dt, &o);
	return 0;
}

int ir_infer_depth_to_space(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_d2s(g, n, d);
}

int ir_infer_space_to_depth(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_d2s(g, n, d);
}

static int eval_copy_map(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *x = in[0];
	ir_tensor *y = out[0];
	int rank;
	int64_t dims[IR_MAX_RANK], st[IR_MAX_RANK];
	if (!x || x->dt != y->dt || ir_copy_map(n, &x->shape, &y->shape, &rank, dims, st)) {
		k_error(NULL, n, d, "operand does not match the inferred output");
		return -1;
	}
	ir_shape ds = {.rank = rank};
	for (int i = 0; i < rank; i++)
		ds.d[i] = dims[i];
	int64_t cnt = numel(y), idx[IR_MAX_RANK] = {0};
	if (cnt <= 0)
		return 0;
	if (ir_shape_numel(&ds) != cnt) {
		k_error(NULL, n, d, "operand does not match the inferred output");
		return -1;
	}
	size_t es = ir_dtype_size(y->dt);
	int64_t k = 0;
	do {
		int64_t src = 0;
		for (int i = 0; i < rank; i++)
			src += idx[i] * st[i];
		memcpy((char *)y->data + (size_t)k * es, (const char *)x->data + (size_t)src * es, es);
		k++;
	} while (idx_next(&ds, idx));
	return 0;
}

int ir_eval_expand(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_copy_map(n, in, out, d);
}

int ir_eval_tile(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_copy_map(n, in, out, d);
}

int ir_eval_depth_to_space(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_copy_map(n, in, out, d);
}

int ir_eval_space_to_depth(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_copy_map(n, in, out, d);
}

/* range(start, limit, delta): ONNX's Range, scalars of one dtype (f32,
 * i32 or i64), max(ceil((limit - start) / delta), 0) elements start +
 * i delta.  Its length is data: known once the three are constants (what
 * fold-constants makes of torch's arange over a shape), and the op then
 * folds; else the output's shape stays unknown. */
static bool range_dtype(ir_dtype dt)
{
	return dt == IR_DT_F32 || dt == IR_DT_I32 || dt == IR_DT_I64;
}

static int range_len(const double *v, int64_t *len)
{
	if (v[2] == 0 || !isfinite(v[0]) || !isfinite(v[1]) || !isfinite(v[2]))
		return -1;
	double n = ceil((v[1] - v[0]) / v[2]);
	*len = n > 0 ? (int64_t)fmin(n, (double)IR_MAX_NUMEL + 1) : 0;
	return 0;
}

int ir_infer_range(ir_graph *g, ir_node *n, diag_sink *d)
{
	ir_dtype dt = n->in[0]->dt;
	for (int k = 0; k < 3; k++) {
		const ir_value *v = n->in[k];
		if (v->dt != IR_DT_UNDEF && (!range_dtype(v->dt) || v->dt != dt)) {
			k_error(g, n, d, "operands must be scalars of one dtype (f32, i32 or i64); input %d '%s' is %s", k,
			        v->name, ir_dtype_name(v->dt));
			return -1;
		}
		if (v->shape.rank > 0 && ir_shape_numel(&v->shape) != 1) {
			k_error(g, n, d, "input %d '%s' is not a scalar", k, v->name);
			return -1;
		}
	}
	n->out[0]->dt = dt;
	double v[3];
	for (int k = 0; k < 3; k++) {
		if (!ir_value_is_const(n->in[k]) || !n->in[k]->data) {
			n->out[0]->shape.rank = -1;
			return 0;
		}
		v[k] = ir_const_get(n->in[k], 0);
	}
	int64_t len;
	if (range_len(v, &len)) {
		k_error(g, n, d, "delta is 0 or an operand is not finite");
		return -1;
	}
	ir_shape out = ir_shape_make(1, &len);
	if (k_too_big(&out)) {
		k_error(g, n, d, "output would have more than %lld elements", (long long)IR_MAX_NUMEL);
		return -1;
	}
	k_set_out(n, 0, dt, &out);
	return 0;
}

int ir_eval_range(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	double v[3];
	for (int k = 0; k < 3; k++) {
		const ir_tensor *t = in[k];
		v[k] = t->dt == IR_DT_F32 ? ((const float *)t->data)[0]
		       : t->dt == IR_DT_I32 ? ((const int32_t *)t->data)[0]
		                            : (double)((const int64_t *)t->data)[0];
	}
	int64_t len, cnt = ir_shape_numel(&out[0]->shape);
	if (range_len(v, &len) || len != cnt) {
		k_error(NULL, n, d, "operands do not match the inferred output");
		return -1;
	}
	for (int64_t i = 0; i < cnt; i++) {
		if (out[0]->dt == IR_DT_F32) /* ONNX's start + i * delta (numpy's arange) */
			((float *)out[0]->data)[i] = (float)(v[0] + (double)i * v[2]);
		else if (out[0]->dt == IR_DT_I32) /* wrapping, never undefined */
			((int32_t *)out[0]->data)[i] = (int32_t)(uint32_t)((uint64_t)(int64_t)v[0] +
			                                                   (uint64_t)i * (uint64_t)(int64_t)v[2]);
		else
			((int64_t *)out[0]->data)[i] = (int64_t)((uint64_t)((const int64_t *)in[0]->data)[0] +
			                                         (uint64_t)i * (uint64_t)((const int64_t *)in[2]->data)[0]);
	}
	return 0;
}
