/* k_rnn.c: lstm, gru and rnn, ONNX's LSTM, GRU and RNN with their default
 * activations (sigmoid, tanh; rnn's tanh, or relu as torch's nn.RNN may
 * have it), no clip, no peepholes and every sequence at full length (the
 * importer refuses the rest).  Operands as ONNX's: X, W, R, B?,
 * sequence_lens (always absent here), initial_h?, initial_c? (lstm).
 * Gates in W and R: lstm i, o, f, c; gru z, r, h; rnn the one.  The unroll-rnn
 * pass rewrites both into matmuls and activations before the backends see
 * them; this is the reference they are checked against. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

static int rnn_gates(const ir_node *n)
{
	return n->op == IR_OP_LSTM ? 4 : n->op == IR_OP_GRU ? 3 : 1;
}

static int rnn_dirs(const ir_node *n)
{
	return strcmp(ir_attr_str(n, "direction", "forward"), "bidirectional") == 0 ? 2 : 1;
}

static const ir_value *opt_v(const ir_node *n, int k)
{
	return k < n->nin ? n->in[k] : NULL;
}

/* The attributes and operands the IR supports (the importer refuses
 * the rest with the ONNX names). */
static int rnn_check(ir_graph *g, const ir_node *n, diag_sink *d)
{
	const char *dir = ir_attr_str(n, "direction", "forward");
	if (strcmp(dir, "forward") && strcmp(dir, "reverse") && strcmp(dir, "bidirectional")) {
		k_error(g, n, d, "direction '%s'; expected forward, reverse or bidirectional", dir);
		return -1;
	}
	if (ir_attr_int(n, "hidden_size", 0) < 1) {
		k_error(g, n, d, "hidden_size %lld; expected 1 or more", (long long)ir_attr_int(n, "hidden_size", 0));
		return -1;
	}
	if (opt_v(n, 4)) {
		k_error(g, n, d, "sequence_lens is not supported (every sequence runs its full length)");
		return -1;
	}
	const char *act = ir_attr_str(n, "activation", "tanh");
	if (n->op == IR_OP_RNN && strcmp(act, "tanh") && strcmp(act, "relu")) {
		k_error(g, n, d, "activation '%s'; expected tanh or relu", act);
		return -1;
	}
	return 0;
}

static int infer_rnn(ir_graph *g, ir_node *n, diag_sink *d)
{
	for (int k = 0; k < 3; k++)
		if (!k_need_in(g, n, k, d))
			return -1;
	if (rnn_check(g, n, d))
		return -1;
	for (int k = 0; k < n->nin; k++) {
		const ir_value *v = n->in[k];
		if (v && v->dt != IR_DT_UNDEF && v->dt != IR_DT_F32) {
			k_error(g, n, d, "input %d '%s' has dtype %s; expected f32", k, v->name, ir_dtype_name(v->dt));
			return -1;
		}
	}
	for (int k = 0; k < n->nout; k++)
		if (n->out[k])
			n->out[k]->dt = IR_DT_F32;
	const ir_value *x = n->in[0], *w = n->in[1], *r = n->in[2];
	if (x->shape.rank < 0 || w->shape.rank < 0 || r->shape.rank < 0)
		return k_defer(n);
	int64_t H = ir_attr_int(n, "hidden_size", 0), G = rnn_gates(n), D = rnn_dirs(n);
	bool bl = ir_attr_int(n, "layout", 0) != 0;
	char s1[96], s2[96];
	if (x->shape.rank != 3) {
		k_error(g, n, d, "X is %s; expected rank 3", ir_shape_str(&x->shape, s1, sizeof s1));
		return -1;
	}
	int64_t T = x->shape.d[bl ? 1 : 0], B = x->shape.d[bl ? 0 : 1], I = x->shape.d[2];
	int64_t wd[3] = {D, G * H, I}, rd[3] = {D, G * H, H}, bd[2] = {D, 2 * G * H}, hd[3] = {D, B, H};
	ir_shape ws = ir_shape_make(3, wd), rs = ir_shape_make(3, rd), bs = ir_shape_make(2, bd), hs = ir_shape_make(3, hd);
	struct { int k; const ir_shape *want; const char *name; } chk[] = {
		{1, &ws, "W"}, {2, &rs, "R"}, {3, &bs, "B"}, {5, &hs, "initial_h"}, {6, &hs, "initial_c"}};
	for (size_t i = 0; i < sizeof chk / sizeof *chk; i++) {
		const ir_value *v = opt_v(n, chk[i].k);
		if (!v || v->shape.rank < 0)
			continue;
		if (!ir_shape_eq(&v->shape, chk[i].want) && !(chk[i].k >= 5 && B == IR_DIM_SYM)) {
			k_error(g, n, d, "%s '%s' is %s; expected %s", chk[i].name, v->name,
			        ir_shape_str(&v->shape, s1, sizeof s1), ir_shape_str(chk[i].want, s2, sizeof s2));
			return -1;
		}
	}
	if (T < 1) {
		k_error(g, n, d, "X is %s: the sequence length must be known", ir_shape_str(&x->shape, s1, sizeof s1));
		return -1;
	}
	int64_t yd[4] = {T, D, B, H}, ybd[4] = {B, T, D, H}, hbd[3] = {B, D, H};
	ir_shape ys = bl ? ir_shape_make(4, ybd) : ir_shape_make(4, yd), hos = bl ? ir_shape_make(3, hbd) : hs;
	if (n->out[0])
		k_set_out(n, 0, IR_DT_F32, &ys);
	for (int k = 1; k < n->nout; k++)
		if (n->out[k])
			k_set_out(n, k, IR_DT_F32, &hos);
	return 0;
}

static int eval_rnn(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *x = in[0], *w = in[1], *r = in[2];
	const ir_tensor *bt = n->nin > 3 ? in[3] : NULL, *h0 = n->nin > 5 ? in[5] : NULL;
	const ir_tensor *c0 = n->nin > 6 ? in[6] : NULL;
	bool lstm = n->op == IR_OP_LSTM, gru = n->op == IR_OP_GRU, bl = ir_attr_int(n, "layout", 0) != 0;
	bool lbr = ir_attr_int(n, "linear_before_reset", 0) != 0;
	bool relu = strcmp(ir_attr_str(n, "activation", "tanh"), "relu") == 0;
	int64_t H = ir_attr_int(n, "hidden_size", 0), G = rnn_gates(n), D = rnn_dirs(n);
	if (!x || x->shape.rank != 3 || !w || !r) {
		k_error(NULL, n, d, "operands do not match the inferred output");
		return -1;
	}
	int64_t T = x->shape.d[bl ? 1 : 0], B = x->shape.d[bl ? 0 : 1], I = x->shape.d[2];
	bool rev = strcmp(ir_attr_str(n, "direction", "forward"), "reverse") == 0;
	const float *X = x->data, *W = w->data, *R = r->data, *Bv = bt ? bt->data : NULL;
	float *h = calloc((size_t)(B * H), sizeof *h), *c = calloc((size_t)(B * H), sizeof *c);
	float *g = calloc((size_t)(B * G * H), sizeof *g), *rh = calloc((size_t)(B * G * H), sizeof *rh);
	if (!h || !c || !g || !rh) {
		free(h), free(c), free(g), free(rh);
		k_error(NULL, n, d, "out of memory");
		return -1;
	}
	for (int64_t dir = 0; dir < D; dir++) {
		const float *Wd = W + dir * G * H * I, *Rd = R + dir * G * H * H;
		const float *Wb = Bv ? Bv + dir * 2 * G * H : NULL, *Rb = Bv ? Wb + G * H : NULL;
		for (int64_t i = 0; i < B * H; i++) {
			h[i] = h0 ? ((const float *)h0->data)[dir * B * H + i] : 0;
			c[i] = c0 ? ((const float *)c0->data)[dir * B * H + i] : 0;
		}
		bool back = rev || dir == 1;
		for (int64_t s = 0; s < T; s++) {
			int64_t t = back ? T - 1 - s : s;
			/* g = x_t W^T + Wb, rh = h R^T + Rb (gate by gate) */
			for (int64_t b = 0; b < B; b++) {
				const float *xt = X + (bl ? (b * T + t) * I : (t * B + b) * I);
				for (int64_t j = 0; j < G * H; j++) {
					float a = Wb ? Wb[j] : 0, e = Rb ? Rb[j] : 0;
					for (int64_t k = 0; k < I; k++)
						a += xt[k] * Wd[j * I + k];
					for (int64_t k = 0; k < H; k++)
						e += h[b * H + k] * Rd[j * H + k];
					g[b * G * H + j] = a;
					rh[b * G * H + j] = e;
				}
			}
			for (int64_t b = 0; b < B; b++)
				for (int64_t j = 0; j < H; j++) {
					const float *gx = g + b * G * H, *gh = rh + b * G * H;
					float *hv = h + b * H + j, *cv = c + b * H + j;
					if (lstm) {
						float it = k_sigmoid(gx[j] + gh[j]), ot = k_sigmoid(gx[H + j] + gh[H + j]);
						float ft = k_sigmoid(gx[2 * H + j] + gh[2 * H + j]), ct = tanhf(gx[3 * H + j] + gh[3 * H + j]);
						*cv = ft * *cv + it * ct;
						*hv = ot * tanhf(*cv);
					} else if (!gru) { /* c holds the new h */
						float a = gx[j] + gh[j];
						*cv = relu ? (a > 0 ? a : 0.0f) : tanhf(a);
					} else {
						float zt = k_sigmoid(gx[j] + gh[j]), rt = k_sigmoid(gx[H + j] + gh[H + j]), ht;
						if (lbr) {
							ht = tanhf(gx[2 * H + j] + rt * gh[2 * H + j]);
						} else { /* (r h) Rh^T + Rbh, with the old h */
							float e = Rb ? Rb[2 * H + j] : 0;
							for (int64_t k = 0; k < H; k++)
								e += k_sigmoid(gx[H + k] + gh[H + k]) * h[b * H + k] * Rd[(2 * H + j) * H + k];
							ht = tanhf(gx[2 * H + j] + e);
						}
						c[b * H + j] = (1.0f - zt) * ht + zt * *hv; /* c holds the new h */
					}
				}
			if (!lstm)
				memcpy(h, c, sizeof *h * (size_t)(B * H));
			if (out[0])
				for (int64_t b = 0; b < B; b++)
					memcpy((float *)out[0]->data + (bl ? ((b * T + t) * D + dir) * H : ((t * D + dir) * B + b) * H),
					       h + b * H, sizeof *h * (size_t)H);
		}
		for (int64_t b = 0; b < B; b++) {
			int64_t o = bl ? (b * D + dir) * H : (dir * B + b) * H;
			if (n->nout > 1 && out[1])
				memcpy((float *)out[1]->data + o, h + b * H, sizeof *h * (size_t)H);
			if (lstm && n->nout > 2 && out[2])
				memcpy((float *)out[2]->data + o, c + b * H, sizeof *c * (size_t)H);
		}
	}
	free(h), free(c), free(g), free(rh);
	return 0;
}

int ir_infer_lstm(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_rnn(g, n, d);
}

int ir_eval_lstm(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_rnn(n, in, out, d);
}

int ir_infer_gru(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_rnn(g, n, d);
}

int ir_eval_gru(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_rnn(n, in, out, d);
}

int ir_infer_rnn(ir_graph *g, ir_node *n, diag_sink *d)
{
	return infer_rnn(g, n, d);
}

int ir_eval_rnn(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return eval_rnn(n, in, out, d);
}
