/* rnn.c: the unroll-rnn pass.  An lstm, gru or rnn whose W, R and B are
 * constants and whose sequence length is known becomes the ops of its
 * equations, one time step after the other (ir/k_rnn.c has them):
 *   XW = X W^T + bias        one matmul over every step,
 *   per step t: g = XW[t] + h R^T, the gates sliced out of g, sigmoid,
 *   tanh (rnn: tanh or relu of g), the state updates as mul/add/sub,
 *   Y the steps' h concatenated, Y_h (Y_c) the last state.
 * The backends then run matmuls and activations they know, and the
 * integer path quantizes the matmuls like any other.  Other lstm, gru and
 * rnn nodes are left to the interpreter.
 * requires: shapes, fold-constants (torch's initial states are built by
 * Expand of zeros).  preserves: nothing (new nodes, shapes inferred). */
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "pass.h"

typedef pass_builder rb;

/* x[:, lo:hi] of a rank-2 value. */
static ir_value *cols(rb *c, ir_value *x, int64_t lo, int64_t hi)
{
	int64_t a = lo, b = hi, ax = 1;
	ir_value *in[4] = {x, pass_b_ints(c, &a, 1, false), pass_b_ints(c, &b, 1, false), pass_b_ints(c, &ax, 1, false)};
	return pass_b_op(c, IR_OP_SLICE, 4, in, "gate");
}

/* rows [lo, hi) of the [D, rows, k] constant w at direction d,
 * transposed: [k, hi - lo]. */
static ir_value *wt(rb *c, const ir_value *w, int64_t d, int64_t lo, int64_t hi)
{
	int64_t rows = w->shape.d[1], k = w->shape.d[2], m = hi - lo;
	float *t = malloc(sizeof *t * (size_t)(k * m + 1));
	if (!t) {
		c->err = 1;
		return NULL;
	}
	const float *src = (const float *)w->data + d * rows * k;
	for (int64_t i = 0; i < m; i++)
		for (int64_t j = 0; j < k; j++)
			t[j * m + i] = src[(lo + i) * k + j];
	int64_t dims[2] = {k, m};
	ir_value *v = pass_b_const(c, IR_DT_F32, 2, dims, t, "wT");
	free(t);
	return v;
}

/* Elements [lo, hi) of B's row d (zeros without B), the first n2 of them
 * plus the elements from lo2 on (Wb + Rb). */
static ir_value *bias(rb *c, const ir_value *b, int64_t d, int64_t lo, int64_t hi, int64_t lo2, int64_t n2)
{
	int64_t m = hi - lo;
	float *t = calloc((size_t)m + 1, sizeof *t);
	if (!t) {
		c->err = 1;
		return NULL;
	}
	if (b) {
		const float *src = (const float *)b->data + d * b->shape.d[1];
		for (int64_t i = 0; i < m; i++)
			t[i] = src[lo + i] + (i < n2 ? src[lo2 + i] : 0.0f);
	}
	ir_value *v = pass_b_const(c, IR_DT_F32, 1, &m, t, "b");
	free(t);
	return v;
}

/* initial state s[d] ([B, H]), or NULL: zero. */
static ir_value *state0(rb *c, ir_value *s, int64_t d)
{
	if (!s)
		return NULL;
	return pass_b_op2(c, IR_OP_GATHER, s, pass_b_ints(c, &d, 1, true), "h0");
}

static int unroll(ir_graph *g, ir_node *n)
{
	bool lstm = n->op == IR_OP_LSTM, rnn = n->op == IR_OP_RNN, bl = ir_attr_int(n, "layout", 0) != 0;
	bool lbr = ir_attr_int(n, "linear_before_reset", 0) != 0;
	ir_op act = strcmp(ir_attr_str(n, "activation", "tanh"), "relu") == 0 ? IR_OP_RELU : IR_OP_TANH;
	ir_value *x = n->in[0], *w = n->in[1], *r = n->in[2], *b = n->nin > 3 ? n->in[3] : NULL;
	ir_value *h0 = n->nin > 5 ? n->in[5] : NULL, *c0 = n->nin > 6 ? n->in[6] : NULL;
	if (!ir_value_is_const(w) || !ir_value_is_const(r) || (b && !ir_value_is_const(b)) || x->shape.rank != 3 ||
	    (n->nin > 4 && n->in[4]))
		return 0;
	int64_t T = x->shape.d[bl ? 1 : 0], H = ir_attr_int(n, "hidden_size", 0);
	int64_t D = strcmp(ir_attr_str(n, "direction", "forward"), "bidirectional") == 0 ? 2 : 1;
	bool rev = strcmp(ir_attr_str(n, "direction", "forward"), "reverse") == 0;
	if (T < 1 || T > 4096)
		return 0;
	int64_t G = lstm ? 4 : rnn ? 1 : 3;
	const char *base = n->out[0] ? n->out[0]->name : n->out[1] ? n->out[1]->name : "rnn";
	rb c = {.g = g, .n = n, .base = base};
	ir_value *xt = x;
	if (bl) { /* [B, T, I] -> [T, B, I] */
		ir_value *t = pass_b_op1(&c, IR_OP_TRANSPOSE, x, "xT");
		if (t)
			ir_node_set_ints(g, t->producer, "perm", (int64_t[]){1, 0, 2}, 3);
		xt = t;
	}
	ir_value *ycat[2] = {0}, *hlast[2] = {0}, *clast[2] = {0};
	int64_t zero = 0, ax01[2] = {0, 1};
	for (int64_t d = 0; d < D && !c.err; d++) {
		bool back = rev || d == 1;
		/* XW = X W^T + Wb (+ Rb but for gru's h gate) */
		bool whole = lstm || rnn; /* Rb all with Wb */
		ir_value *xw = pass_b_op2(&c, IR_OP_MATMUL, xt, wt(&c, w, d, 0, G * H), "xw");
		if (b) /* gru's h gate: Wb only (its Rb goes with r) */
			xw = pass_b_op2(&c, IR_OP_ADD, xw, bias(&c, b, d, 0, G * H, G * H, whole ? G * H : 2 * H), "xwb");
		ir_value *rT = wt(&c, r, d, 0, whole || lbr ? G * H : 2 * H);
		ir_value *rhT = whole || lbr ? NULL : wt(&c, r, d, 2 * H, 3 * H);
		ir_value *rbh = whole ? NULL : bias(&c, b, d, G * H + 2 * H, G * H + 3 * H, 0, 0);
		ir_value *h = state0(&c, h0, d), *cs = lstm ? state0(&c, c0, d) : NULL;
		ir_value *onef = whole ? NULL : pass_b_const(&c, IR_DT_F32, 0, NULL, &(float){1.0f}, "one");
		ir_value **steps = calloc((size_t)T, sizeof *steps);
		if (!steps)
			return -1;
		for (int64_t s = 0; s < T && !c.err; s++) {
			int64_t t = back ? T - 1 - s : s;
			ir_value *g0 = pass_b_op2(&c, IR_OP_GATHER, xw, pass_b_ints(&c, &t, 1, true), "xt");
			ir_value *hr = h ? pass_b_op2(&c, IR_OP_MATMUL, h, rT, "hr") : NULL;
			if (rnn) {
				h = pass_b_op1(&c, act, hr ? pass_b_op2(&c, IR_OP_ADD, g0, hr, "g") : g0, "H");
			} else if (lstm) {
				ir_value *gg = hr ? pass_b_op2(&c, IR_OP_ADD, g0, hr, "g") : g0;
				ir_value *it = pass_b_op1(&c, IR_OP_SIGMOID, cols(&c, gg, 0, H), "i");
				ir_value *ot = pass_b_op1(&c, IR_OP_SIGMOID, cols(&c, gg, H, 2 * H), "o");
				ir_value *ft = pass_b_op1(&c, IR_OP_SIGMOID, cols(&c, gg, 2 * H, 3 * H), "f");
				ir_value *ct = pass_b_op1(&c, IR_OP_TANH, cols(&c, gg, 3 * H, 4 * H), "c");
				ir_value *ic = pass_b_op2(&c, IR_OP_MUL, it, ct, "ic");
				cs = cs ? pass_b_op2(&c, IR_OP_ADD, pass_b_op2(&c, IR_OP_MUL, ft, cs, "fc"), ic, "C") : ic;
				h = pass_b_op2(&c, IR_OP_MUL, ot, pass_b_op1(&c, IR_OP_TANH, cs, "tc"), "H");
			} else {
				ir_value *zr = cols(&c, g0, 0, 2 * H);
				if (hr)
					zr = pass_b_op2(&c, IR_OP_ADD, zr, lbr ? cols(&c, hr, 0, 2 * H) : hr, "zr");
				zr = pass_b_op1(&c, IR_OP_SIGMOID, zr, "zr");
				ir_value *z = cols(&c, zr, 0, H), *rt = cols(&c, zr, H, 2 * H);
				ir_value *hh; /* the h gate's recurrent term, with Rbh */
				if (!h)
					hh = lbr ? pass_b_op2(&c, IR_OP_MUL, rt, rbh, "rh") : rbh;
				else if (lbr)
					hh = pass_b_op2(&c, IR_OP_MUL, rt, pass_b_op2(&c, IR_OP_ADD, cols(&c, hr, 2 * H, 3 * H), rbh, "hrb"), "rh");
				else
					hh = pass_b_op2(&c, IR_OP_ADD, pass_b_op2(&c, IR_OP_MATMUL, pass_b_op2(&c, IR_OP_MUL, rt, h, "rh"), rhT, "rhR"),
					         rbh, "rhRb");
				ir_value *hn = pass_b_op1(&c, IR_OP_TANH, pass_b_op2(&c, IR_OP_ADD, cols(&c, g0, 2 * H, 3 * H), hh, "hg"), "hn");
				ir_value *keep = pass_b_op2(&c, IR_OP_MUL, pass_b_op2(&c, IR_OP_SUB, onef, z, "1z"), hn, "zn");
				h = h ? pass_b_op2(&c, IR_OP_ADD, keep, pass_b_op2(&c, IR_OP_MUL, z, h, "zh"), "H") : keep;
			}
			steps[t] = h;
		}
		if (n->out[0] && !c.err) { /* [T, 1, B, H] */
			ir_value **u = calloc((size_t)T, sizeof *u);
			if (!u) {
				free(steps);
				return -1;
			}
			for (int64_t t = 0; t < T; t++)
				u[t] = pass_b_op2(&c, IR_OP_UNSQUEEZE, steps[t], pass_b_ints(&c, ax01, 2, false), "ht");
			ycat[d] = pass_b_op(&c, IR_OP_CONCAT, (int)T, u, "y");
			if (ycat[d])
				ir_node_set_int(g, ycat[d]->producer, "axis", 0);
			free(u);
		}
		free(steps);
		hlast[d] = pass_b_op2(&c, IR_OP_UNSQUEEZE, h, pass_b_ints(&c, &zero, 1, false), "hlast");
		clast[d] = lstm && cs ? pass_b_op2(&c, IR_OP_UNSQUEEZE, cs, pass_b_ints(&c, &zero, 1, false), "clast") : NULL;
	}
	if (c.err)
		return -1;
	/* the outputs: directions side by side, then layout 1's order, then
	 * an identity into the rnn's own output values */
	ir_value *res[3] = {NULL, NULL, NULL};
	if (n->out[0]) {
		res[0] = D == 2 ? pass_b_op(&c, IR_OP_CONCAT, 2, ycat, "y") : ycat[0];
		if (D == 2 && res[0])
			ir_node_set_int(g, res[0]->producer, "axis", 1);
		if (bl && (res[0] = pass_b_op1(&c, IR_OP_TRANSPOSE, res[0], "yT")))
			ir_node_set_ints(g, res[0]->producer, "perm", (int64_t[]){2, 0, 1, 3}, 4);
	}
	for (int k = 1; k < n->nout; k++) {
		ir_value **last = k == 1 ? hlast : clast;
		if (!n->out[k])
			continue;
		if (!last[0]) /* lstm's Y_c without a step: cannot happen (T >= 1) */
			return -1;
		res[k] = D == 2 ? pass_b_op(&c, IR_OP_CONCAT, 2, last, "last") : last[0];
		if (D == 2 && res[k])
			ir_node_set_int(g, res[k]->producer, "axis", 0);
		if (bl && (res[k] = pass_b_op1(&c, IR_OP_TRANSPOSE, res[k], "lastT")))
			ir_node_set_ints(g, res[k]->producer, "perm", (int64_t[]){1, 0, 2}, 3);
	}
	if (c.err)
		return -1;
	return pass_b_replace(&c, res);
}

static bool is_rnn(const ir_node *n)
{
	return n->op == IR_OP_LSTM || n->op == IR_OP_GRU || n->op == IR_OP_RNN;
}

int pass_unroll_rnn(ir_graph *g, const pass_options *o, diag_sink *d)
{
	(void)o;
	return pass_b_rewrite_all(g, is_rnn, unroll, d);
}
