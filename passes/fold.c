/* fold.c: constant folding.
 * requires: toposorted graph; infers shapes as it goes, so a Reshape fed by
 * a Shape->Gather->Concat chain (PyTorch's reshape logic) becomes static;
 * evaluates every node whose inputs are all constants through the
 * interpreter's kernels, and Shape nodes whose input shape is known.
 * dequantize is left to fold-qdq, and so are nodes whose output would be
 * many times their inputs' size and over 64 MiB (too_big).  A prelu of
 * one slope becomes a leaky_relu (prelu_to_leaky), GELU as PyTorch
 * exports it, a chain of elementwise nodes, one gelu (gelu_fuse),
 * LayerNorm's formula one layer_norm (ln_fuse), and log(sigmoid(x)) the
 * form that does not underflow (logsig_fuse).
 * Folded nodes are marked dead; run dce afterwards to drop them. */
#include <math.h>
#include <string.h>

#include "pass.h"

static bool foldable(const ir_node *n)
{
	/* Integer data stays integer until fold-qdq has seen it (it folds the
	 * dequantized constants it leaves). */
	if (n->op == IR_OP_DEQUANTIZE)
		return false;
	if (n->op == IR_OP_SHAPE)
		return n->in[0] && ir_shape_known(&n->in[0]->shape);
	for (int j = 0; j < n->nin; j++)
		if (n->in[j] && !ir_value_is_const(n->in[j]))
			return false;
	return true;
}

/* A fold may not turn a few bytes of model into gigabytes at compile time
 * (a 200-byte .qir asked constant_of_shape for 16 GB): outputs over
 * FOLD_MIN_LIMIT bytes and over FOLD_MAX_GROWTH times the inputs' bytes
 * stay a node, computed at run time, with a warning.  A cast of int8
 * weights to f32 (4x) or a transpose still folds. */
#define FOLD_MIN_LIMIT ((uint64_t)64 << 20)
#define FOLD_MAX_GROWTH 8

static uint64_t value_bytes(const ir_value *v)
{
	int64_t n = v ? ir_shape_numel(&v->shape) : 0;
	return n > 0 ? (uint64_t)n * ir_dtype_size(v->dt) : 0;
}

static bool too_big(ir_graph *g, const ir_node *n, diag_sink *d)
{
	uint64_t in = 0, out = 0;
	for (int j = 0; j < n->nin; j++)
		in += value_bytes(n->in[j]);
	for (int j = 0; j < n->nout; j++)
		out += value_bytes(n->out[j]);
	if (out <= FOLD_MIN_LIMIT || out / FOLD_MAX_GROWTH <= in)
		return false;
	diag_warn(d, ir_node_loc(g, n), "not folded: its constant output would take %llu bytes from "
	          "%llu of input; it is computed at run time", (unsigned long long)out,
	          (unsigned long long)in);
	return true;
}

/* prelu(x, s) with one slope for every element (PyTorch's nn.PReLU()
 * default, a constant of one value whatever its shape) is leaky_relu(x)
 * with alpha s: the same f32 product, and an op the integer path takes
 * as a table.  x's shape must be the output's (the slope does not widen
 * it). */
static void prelu_to_leaky(ir_graph *g, ir_node *n)
{
	const ir_value *x = n->in[0], *s = n->nin > 1 ? n->in[1] : NULL, *y = n->out[0];
	if (n->op != IR_OP_PRELU || !x || !s || !y || !ir_value_is_const(s) || !s->data || s->dt != IR_DT_F32 ||
	    ir_value_is_const(x) || !ir_shape_known(&y->shape) || !ir_shape_eq(&x->shape, &y->shape))
		return;
	int64_t cnt = ir_shape_numel(&s->shape);
	const float *v = s->data;
	if (cnt < 1)
		return;
	for (int64_t k = 1; k < cnt; k++)
		if (memcmp(&v[k], &v[0], sizeof *v) != 0)
			return;
	n->op = IR_OP_LEAKY_RELU;
	n->in[1] = NULL;
	n->nin = 1;
	ir_node_set_float(g, n, "alpha", v[0]);
}

/* log(sigmoid(x)), what PyTorch exports for nn.LogSigmoid, is -inf once
 * sigmoid underflows: from x = -88 where exp flushes to 0 (the inline exp
 * of SIMD targets), -104 with denormals, against the true value x.  It is
 * x - softplus(x), softplus(x) = log(1 + exp(x)) computed so that exp
 * never overflows (ir/k_elementwise.c softplus_f): exact to rounding for
 * x below 0, and 0 instead of -exp(-x) (under 4e-8 past x = 17, where
 * log(sigmoid) gives 0 too) above.  The sigmoid becomes the softplus and
 * the log the difference; the sigmoid's output must have no other
 * reader. */
static void logsig_fuse(ir_graph *g, ir_node *n)
{
	ir_node *p = n->op == IR_OP_LOG && n->nin == 1 && n->in[0] ? n->in[0]->producer : NULL;
	if (!p || p->op != IR_OP_SIGMOID || p->nin != 1 || !p->in[0] || p->in[0]->dt != IR_DT_F32 ||
	    n->in[0]->dt != IR_DT_F32 || ir_value_use_count(g, n->in[0]) != 1 || ir_node_attr(p, "lut") ||
	    ir_node_attr(n, "lut") || p->nout != 1 || n->nout != 1)
		return;
	ir_value **in = ir_arena_alloc(g->arena, 2 * sizeof *in);
	if (!in)
		return; /* stays as it was */
	in[0] = p->in[0];
	in[1] = n->in[0];
	p->op = IR_OP_SOFTPLUS;
	n->op = IR_OP_SUB;
	n->in = in;
	n->nin = 2;
}

/* ------------------------------------------------------- GELU fusion */

/* PyTorch exports nn.GELU() (before opset 20's Gelu) as its formula, five
 * to ten elementwise nodes:
 *   erf form   x * (1 + erf(x / sqrt 2)) * 0.5
 *   tanh form  x * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) * 0.5
 * gelu_fuse finds them, whatever the order of each product's and sum's
 * operands and of the three factors of the last product, x / sqrt 2 also
 * as x * (1/sqrt 2), x^3 as pow(x, 3), x * (x * x) or (x * x) * x.  Every
 * node but the last must have one user, so that nothing else reads what
 * the fusion drops.  The last becomes one gelu (approximate "tanh" for
 * the tanh form): one pass over the data instead of several, and an op
 * the integer path takes as a table (each of the formula's nodes would
 * otherwise run in float, or be quantized on its own).  The result agrees
 * with the formula's to float rounding. */

#define GELU_MAX 10

typedef struct gelu_m {
	const ir_graph *g;
	ir_node *drop[GELU_MAX]; /* the nodes the fusion removes */
	int ndrop;
} gelu_m;

/* Is v a constant of one element within 1e-5 (relative) of want? */
static bool near_const(const ir_value *v, double want)
{
	if (!v || !ir_value_is_const(v) || !v->data || v->dt != IR_DT_F32 || ir_shape_numel(&v->shape) != 1)
		return false;
	double c = ir_const_get(v, 0);
	return fabs(c - want) <= 1e-5 * fabs(want);
}

/* The node computing v when it is op, f32, of x's shape and read only by
 * the pattern's next node: recorded for removal. */
static ir_node *gelu_take(gelu_m *m, const ir_value *v, ir_op op, const ir_value *x)
{
	ir_node *p = v ? v->producer : NULL;
	if (!p || p->dead || p->op != op || m->ndrop == GELU_MAX || v->dt != IR_DT_F32 || p->nout != 1 ||
	    !ir_shape_eq(&v->shape, &x->shape) || !ir_value_sole_user(m->g, v))
		return NULL;
	m->drop[m->ndrop++] = p;
	return p;
}

/* Binary node p with operands {a, b} in either order: the one other than
 * a (a matched by pointer, or by a const of value ca when a is NULL). */
static ir_value *other(const ir_node *p, const ir_value *a, double ca)
{
	if (!p || p->nin != 2 || !p->in[0] || !p->in[1])
		return NULL;
	for (int j = 0; j < 2; j++)
		if (a ? p->in[j] == a : near_const(p->in[j], ca))
			return p->in[1 - j];
	return NULL;
}

/* Is v = x * x * x (pow(x, 3), x * (x * x) or (x * x) * x)? */
static bool gelu_cube(gelu_m *m, const ir_value *v, const ir_value *x)
{
	int mark = m->ndrop;
	ir_node *p = gelu_take(m, v, IR_OP_POW, x);
	if (p && p->nin == 2 && p->in[0] == x && near_const(p->in[1], 3.0))
		return true;
	m->ndrop = mark;
	p = gelu_take(m, v, IR_OP_MUL, x);
	const ir_value *sq = other(p, x, 0);
	ir_node *q = sq ? gelu_take(m, sq, IR_OP_MUL, x) : NULL;
	if (q && q->in[0] == x && q->in[1] == x)
		return true;
	m->ndrop = mark;
	return false;
}

/* Is u = 1 + erf(x / sqrt 2) (*tanh false) or 1 + tanh(...) of the tanh
 * form (*tanh true), for this x? */
static bool gelu_inner(gelu_m *m, const ir_value *u, const ir_value *x, bool *tanh_form)
{
	int mark = m->ndrop;
	const ir_value *t = other(gelu_take(m, u, IR_OP_ADD, x), NULL, 1.0);
	ir_node *e = t && t->producer ? t->producer : NULL;
	if (!e || (e->op != IR_OP_ERF && e->op != IR_OP_TANH) || !gelu_take(m, t, e->op, x))
		goto no;
	*tanh_form = e->op == IR_OP_TANH;
	const ir_value *a = e->in[0];
	if (!*tanh_form) {
		ir_node *p = a ? a->producer : NULL;
		if (p && p->op == IR_OP_DIV && gelu_take(m, a, IR_OP_DIV, x) && p->in[0] == x &&
		    near_const(p->in[1], 1.4142135623730951))
			return true;
		if (p && p->op == IR_OP_MUL && other(gelu_take(m, a, IR_OP_MUL, x), x, 0) &&
		    near_const(other(p, x, 0), 0.7071067811865476))
			return true;
		goto no;
	}
	/* sqrt(2/pi) * (x + 0.044715 * x^3) */
	const ir_value *s = other(gelu_take(m, a, IR_OP_MUL, x), NULL, 0.7978845608028654);
	const ir_value *c = other(gelu_take(m, s, IR_OP_ADD, x), x, 0);
	const ir_value *cube = other(gelu_take(m, c, IR_OP_MUL, x), NULL, 0.044715);
	if (cube && gelu_cube(m, cube, x))
		return true;
no:
	m->ndrop = mark;
	return false;
}

/* Fuse the GELU whose last product is n (see above). */
static void gelu_fuse(ir_graph *g, ir_node *n)
{
	if (n->op != IR_OP_MUL || n->nin != 2 || n->nout != 1 || !n->out[0] || n->out[0]->dt != IR_DT_F32 ||
	    !n->in[0] || !n->in[1])
		return;
	/* the three factors: n's operands, one of them a product opened up */
	for (int side = 0; side < 2; side++) {
		gelu_m m = {.g = g};
		ir_value *f[3];
		f[0] = n->in[1 - side];
		ir_node *p = n->in[side]->producer;
		if (!p || p->op != IR_OP_MUL || p->nin != 2 || !p->in[0] || !p->in[1])
			continue;
		f[1] = p->in[0];
		f[2] = p->in[1];
		for (int h = 0; h < 3; h++) { /* h: the factor 0.5 */
			if (!near_const(f[h], 0.5))
				continue;
			for (int xi = 0; xi < 3; xi++) {
				if (xi == h)
					continue;
				ir_value *x = f[xi], *u = f[3 - h - xi];
				bool tanh_form;
				m.ndrop = 0;
				if (ir_value_is_const(x) || x->dt != IR_DT_F32 || !ir_shape_eq(&x->shape, &n->out[0]->shape) ||
				    !gelu_take(&m, n->in[side], IR_OP_MUL, x) || !gelu_inner(&m, u, x, &tanh_form))
					continue;
				for (int k = 0; k < m.ndrop; k++)
					m.drop[k]->dead = true;
				n->op = IR_OP_GELU;
				n->in[0] = x;
				n->in[1] = NULL;
				n->nin = 1;
				if (tanh_form)
					ir_node_set_str(g, n, "approximate", "tanh");
				return;
			}
		}
	}
}

/* -------------------------------------------------- LayerNorm fusion */

/* PyTorch before opset 17 exports nn.LayerNorm as its formula:
 *   m = reduce_mean(x, axes)  d = x - m  v = reduce_mean(d^2, axes)
 *   y = d / sqrt(v + eps) * gamma + beta
 * ln_fuse finds it from the first reduce_mean: both means keep their
 * dims and reduce the same trailing axes, d^2 as pow(d, 2) or d * d, the
 * division also as d * reciprocal(sqrt), the products and sums with
 * their operands either way round, eps a constant of one element.  The
 * last node taken becomes one layer_norm (axis the first reduced one),
 * and the rest are dropped, so every value between must have no reader
 * outside the pattern (d: exactly its square and the division).  gamma
 * and beta join as Scale and B when they are f32 constants over the
 * normalised dims only (the dims from axis on, or one element); else
 * the fusion stops before that product or sum, which stays (Scale then
 * a constant 1).  One pass over each row instead of eight nodes, and an
 * op the trainer and the backends run whole; the result agrees with the
 * formula's to float rounding. */

#define LN_MAX_RANK 8

/* The reduced axes of reduce_mean n, when they are the k trailing dims
 * of its input with keepdims: returns k (0 when not), with *axis the
 * first of them (negative when the rank is unknown). */
static int ln_axes(const ir_node *n, int64_t *axis)
{
	const ir_value *x = n->in[0];
	int rank = x->shape.rank;
	if (ir_attr_int(n, "keepdims", 1) != 1)
		return 0;
	int64_t ax[LN_MAX_RANK];
	int na;
	if (n->nin < 2 || !n->in[1]) {
		/* no axes: all of them (noop_with_empty_axes 0) */
		if (rank < 1 || rank > LN_MAX_RANK || ir_attr_int(n, "noop_with_empty_axes", 0))
			return 0;
		*axis = 0;
		return rank;
	}
	na = ir_const_ints(n->in[1], ax, LN_MAX_RANK);
	if (na < 1)
		return 0;
	bool seen[LN_MAX_RANK] = {false};
	for (int i = 0; i < na; i++) {
		/* counted from the end: -1 is the last dim */
		int64_t e = ax[i] < 0 ? -ax[i] : rank >= 0 && ax[i] < rank ? rank - ax[i] : 0;
		if (e < 1 || e > na || seen[e - 1])
			return 0;
		seen[e - 1] = true;
	}
	*axis = rank >= 0 ? rank - na : -na;
	return na;
}

/* Is n a reduce_mean of `in` over the same k trailing axes? */
static bool ln_same_mean(const ir_node *n, const ir_value *in, int k, int64_t axis)
{
	int64_t a;
	return n && n->op == IR_OP_REDUCE_MEAN && n->in[0] == in && n->nout == 1 && ln_axes(n, &a) == k &&
	       (a == axis || in->shape.rank < 0);
}

/* Is c an f32 constant that fits layer_norm's Scale or B for x normalised
 * from axis: one element, or x's dims from axis on (leading 1s allowed)? */
static bool ln_param_fits(const ir_value *c, const ir_value *x, int64_t axis)
{
	if (!c || !ir_value_is_const(c) || c->dt != IR_DT_F32 || c->shape.rank < 0)
		return false;
	int r = x->shape.rank;
	/* (a one-element constant of higher rank would widen the output) */
	if (ir_shape_numel(&c->shape) == 1)
		return c->shape.rank <= 1 || c->shape.rank <= r;
	if (r < 0 || axis < 0 || c->shape.rank > r)
		return false;
	for (int i = 0; i < c->shape.rank; i++) {
		int64_t cd = c->shape.d[c->shape.rank - 1 - i];
		int xi = r - 1 - i;
		if (xi >= axis ? cd != x->shape.d[xi] || cd < 0 : cd != 1)
			return false;
	}
	return true;
}

/* The live nodes reading v (up to max), and how many reads in all;
 * -1 when v is a graph output. */
static int ln_readers(const ir_graph *g, const ir_value *v, ir_node **r, int max, int *nr)
{
	*nr = 0;
	if (ir_value_is_output(g, v))
		return -1;
	int reads = 0;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		bool any = false;
		for (int k = 0; k < n->nin; k++)
			if (n->in[k] == v) {
				reads++;
				any = true;
			}
		if (any && *nr < max)
			r[(*nr)++] = n;
		else if (any)
			return -1;
	}
	return reads;
}

/* The binary node n's operand other than v (n reading v once), or NULL. */
static ir_value *ln_other(const ir_node *n, const ir_op op, const ir_value *v)
{
	if (!n || n->op != op || n->nin != 2 || n->nout != 1 || !n->in[0] || !n->in[1] || n->in[0] == n->in[1])
		return NULL;
	return n->in[0] == v ? n->in[1] : n->in[1] == v ? n->in[0] : NULL;
}

/* Fuse the LayerNorm whose first mean is m1 (see above). */
static void ln_fuse(ir_graph *g, ir_node *m1)
{
	if (m1->op != IR_OP_REDUCE_MEAN || m1->nout != 1 || !m1->in[0] || !m1->out[0])
		return;
	ir_value *x = m1->in[0];
	int64_t axis;
	int k = ir_value_is_const(x) || x->dt != IR_DT_F32 ? 0 : ln_axes(m1, &axis);
	if (!k)
		return;
	ir_node *sub = ir_value_sole_user(g, m1->out[0]);
	if (!sub || sub->op != IR_OP_SUB || sub->nin != 2 || sub->in[0] != x || sub->in[1] != m1->out[0] ||
	    sub->nout != 1)
		return;
	/* d's readers: its square (one or two reads) and the division */
	ir_value *d = sub->out[0];
	ir_node *r[2], *sq = NULL, *dv = NULL, *rc = NULL;
	int nr, reads = ln_readers(g, d, r, 2, &nr);
	if (nr != 2)
		return;
	for (int i = 0; i < 2; i++) {
		ir_node *n = r[i];
		if (n->nin == 2 && n->in[0] == d && n->nout == 1 &&
		    ((n->op == IR_OP_POW && n->in[1] && n->in[1]->dt == IR_DT_F32 && near_const(n->in[1], 2.0)) ||
		     (n->op == IR_OP_MUL && n->in[1] == d)))
			sq = n;
		else
			dv = n;
	}
	if (!sq || !dv || reads != (sq->op == IR_OP_MUL ? 3 : 2))
		return;
	ir_node *m2 = ir_value_sole_user(g, sq->out[0]);
	if (!ln_same_mean(m2, sq->out[0], k, axis))
		return;
	ir_node *add = ir_value_sole_user(g, m2->out[0]);
	ir_value *eps = ln_other(add, IR_OP_ADD, m2->out[0]);
	if (!eps || !ir_value_is_const(eps) || eps->dt != IR_DT_F32 || ir_shape_numel(&eps->shape) != 1 ||
	    (eps->shape.rank > 1 && eps->shape.rank > x->shape.rank))
		return;
	ir_node *sqr = ir_value_sole_user(g, add->out[0]);
	if (!sqr || sqr->op != IR_OP_SQRT || sqr->nout != 1)
		return;
	/* d / sqrt, or d * reciprocal(sqrt) */
	if (dv->op == IR_OP_DIV) {
		if (dv->nin != 2 || dv->in[0] != d || dv->in[1] != sqr->out[0] || dv->nout != 1 ||
		    ir_value_sole_user(g, sqr->out[0]) != dv)
			return;
	} else {
		rc = ir_value_sole_user(g, sqr->out[0]);
		if (!rc || rc->op != IR_OP_RECIPROCAL || rc->nout != 1 || ln_other(dv, IR_OP_MUL, d) != rc->out[0] ||
		    ir_value_sole_user(g, rc->out[0]) != dv)
			return;
	}
	/* gamma, then beta, as far as they fit */
	ir_node *last = dv, *mul = NULL;
	ir_value *gamma = NULL, *beta = NULL;
	ir_node *u = ir_value_sole_user(g, last->out[0]);
	ir_value *c = ln_other(u, IR_OP_MUL, last->out[0]);
	if (c && ln_param_fits(c, x, axis)) {
		gamma = c;
		mul = last = u;
		u = ir_value_sole_user(g, last->out[0]);
	}
	c = ln_other(u, IR_OP_ADD, last->out[0]);
	if (c && ln_param_fits(c, x, axis)) {
		beta = c;
		last = u;
	}
	ir_value **in = ir_arena_alloc(g->arena, 3 * sizeof *in);
	if (!in)
		return;
	if (!gamma) {
		float one = 1.0f;
		ir_shape s1 = ir_shape_make(1, (int64_t[]){1});
		gamma = ir_graph_add_const(g, ir_arena_printf(g->arena, "%s.ln_scale", last->out[0]->name), IR_DT_F32,
		                           &s1, &one);
		if (!gamma)
			return;
	}
	ir_node *drop[] = {m1, sub, sq, m2, add, sqr, rc, dv, mul};
	for (size_t i = 0; i < sizeof drop / sizeof *drop; i++)
		if (drop[i] && drop[i] != last)
			drop[i]->dead = true;
	in[0] = x;
	in[1] = gamma;
	in[2] = beta;
	last->op = IR_OP_LAYER_NORM;
	last->in = in;
	last->nin = beta ? 3 : 2;
	last->nattr = 0;
	ir_node_set_int(g, last, "axis", axis);
	ir_node_set_float(g, last, "epsilon", (float)ir_const_get(eps, 0));
}

int pass_fold_constants(ir_graph *g, const pass_options *o, diag_sink *d)
{
	(void)o;
	if (ir_graph_toposort(g, d))
		return -1;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		if (ir_infer_node(g, n, d))
			return -1;
		prelu_to_leaky(g, n);
		if (!foldable(n))
			continue;
		bool ok = true;
		for (int j = 0; j < n->nout; j++)
			if (n->out[j] && !ir_shape_known(&n->out[j]->shape))
				ok = false;
		if (!ok || too_big(g, n, d))
			continue;
		if (ir_fold_node(g, n, d))
			return -1;
	}
	for (int i = 0; i < g->nnodes; i++)
		if (!g->nodes[i]->dead)
			gelu_fuse(g, g->nodes[i]);
	for (int i = 0; i < g->nnodes; i++)
		if (!g->nodes[i]->dead)
			ln_fuse(g, g->nodes[i]);
	for (int i = 0; i < g->nnodes; i++)
		if (!g->nodes[i]->dead)
			logsig_fuse(g, g->nodes[i]);
	ir_graph_compact(g);
	return 0;
}

/* Is v's per-tensor quantization w's (scale and zero point)? */
static bool same_grid(const ir_value *v, const ir_value *w)
{
	const ir_quant *a = v->quant, *b = w->quant;
	return a && b && a->scheme == IR_QS_AFFINE && b->scheme == IR_QS_AFFINE && a->nchan == 1 &&
	       b->nchan == 1 && a->scale && b->scale && a->zero_point && b->zero_point && a->scale[0] == b->scale[0] &&
	       a->zero_point[0] == b->zero_point[0] && v->dt == w->dt;
}

int pass_fold_pad(ir_graph *g, const pass_options *o, diag_sink *d)
{
	(void)o;
	(void)d;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead || n->op != IR_OP_PAD || strcmp(ir_attr_str(n, "mode", "constant"), "constant") != 0 ||
		    (n->nin > 3 && n->in[3]) || n->nin < 2 || !n->in[0] || !n->in[1] || !ir_value_is_const(n->in[1]) ||
		    !n->in[1]->data || n->nout < 1 || !n->out[0])
			continue;
		ir_value *x = n->in[0], *y = n->out[0];
		int r = x->shape.rank, nsp = r - 2;
		bool none = r >= 0 && ir_shape_numel(&n->in[1]->shape) == 2 * r;
		for (int k = 0; none && k < 2 * r; k++)
			none = ir_const_get(n->in[1], k) == 0;
		if (none && !ir_value_is_output(g, y) && x->dt == y->dt &&
		    (x->dt == IR_DT_F32 || same_grid(x, y))) { /* pads nothing: its users read x */
			ir_graph_replace_uses(g, y, x);
			n->dead = true;
			continue;
		}
		ir_node *u = ir_value_sole_user(g, y);
		if (nsp < 1 || nsp > 3 || ir_shape_numel(&n->in[1]->shape) != 2 * r || !u || u->op != IR_OP_CONV ||
		    u->in[0] != y || ir_value_is_output(g, y))
			continue;
		const char *ap = ir_attr_str(u, "auto_pad", "NOTSET");
		if (strcmp(ap, "NOTSET") != 0 && strcmp(ap, "VALID") != 0)
			continue;
		int64_t p[2 * IR_MAX_RANK];
		bool ok = true;
		for (int k = 0; k < 2 * r; k++) {
			double v = ir_const_get(n->in[1], k);
			p[k] = (int64_t)v;
			ok = ok && v >= 0 && v == (double)p[k] && (k % r >= 2 || v == 0);
		}
		/* the constant: what the conv pads with (0, or x's zero point) */
		const ir_value *cv = n->nin > 2 ? n->in[2] : NULL;
		if (cv && (!ir_value_is_const(cv) || !cv->data || ir_shape_numel(&cv->shape) != 1))
			continue;
		double c = cv ? ir_const_get(cv, 0) : 0.0;
		if (x->dt == IR_DT_F32)
			ok = ok && c == 0.0 && !signbit(c);
		else
			ok = ok && ir_dtype_is_qint(x->dt) && same_grid(x, y) && c == (double)x->quant->zero_point[0];
		int cnt = 0;
		const int64_t *old = strcmp(ap, "VALID") == 0 ? NULL : ir_attr_ints(u, "pads", &cnt);
		if (!ok || (old && cnt != 2 * nsp))
			continue;
		int64_t pads[2 * 3];
		for (int k = 0; k < nsp; k++) {
			pads[k] = (old ? old[k] : 0) + p[2 + k];
			pads[nsp + k] = (old ? old[nsp + k] : 0) + p[r + 2 + k];
		}
		ir_node_set_ints(g, u, "pads", pads, 2 * nsp);
		if (strcmp(ap, "VALID") == 0)
			ir_node_set_str(g, u, "auto_pad", "NOTSET");
		u->in[0] = x;
		n->dead = true;
	}
	return 0;
}
