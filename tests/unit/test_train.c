/* test_train.c: the qgt training engine: a finite-difference gradient
 * check of every backward (small graphs built with the ir.h API, central
 * differences), optimizer and schedule arithmetic against hand-computed
 * values, bitwise determinism, the NaN report, the forward against the
 * reference interpreter, and the ONNX writer's round trip. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actquant.h"
#include "frontend.h"
#include "onnx_write.h"
#include "train.h"

/* ------------------------------------------------------ graph building */

typedef struct gb {
	ir_graph *g;
	int k;                    /* name counter */
	uint64_t rng;
} gb;

static float urand(gb *b, float lo, float hi)
{
	return lo + (hi - lo) * (float)((double)(qgt_rng_next(&b->rng) >> 11) / 9007199254740992.0);
}

static gb gb_new(void)
{
	gb b = {ir_graph_create("t"), 0, 12345};
	assert_non_null(b.g);
	return b;
}

static ir_value *input(gb *b, int rank, const int64_t *d)
{
	ir_shape s = ir_shape_make(rank, d);
	ir_value *v = ir_graph_add_value(b->g, "x", IR_DT_F32, &s);
	v->kind = IR_VAL_INPUT;
	ir_graph_add_input(b->g, v);
	return v;
}

/* f32 constant with values uniform in [lo, hi). */
static ir_value *cst(gb *b, int rank, const int64_t *d, float lo, float hi)
{
	ir_shape s = ir_shape_make(rank, d);
	int64_t n = ir_shape_numel(&s);
	float *v = malloc(sizeof(float) * (size_t)(n ? n : 1));
	for (int64_t i = 0; i < n; i++)
		v[i] = urand(b, lo, hi);
	char nm[32];
	snprintf(nm, sizeof nm, "w%d", b->k++);
	ir_value *c = ir_graph_add_const(b->g, nm, IR_DT_F32, &s, v);
	free(v);
	return c;
}

static ir_value *cst_i64(gb *b, int n, const int64_t *v)
{
	ir_shape s = ir_shape_make(1, (int64_t[]){n});
	char nm[32];
	snprintf(nm, sizeof nm, "i%d", b->k++);
	return ir_graph_add_const(b->g, nm, IR_DT_I64, &s, v);
}

static ir_node *op(gb *b, ir_op o, int nin, ir_value *const *in)
{
	char nm[32];
	snprintf(nm, sizeof nm, "v%d", b->k++);
	ir_shape s = {.rank = -1};
	ir_value *out = ir_graph_add_value(b->g, nm, IR_DT_UNDEF, &s);
	ir_node *n = ir_graph_add_node(b->g, o, nm, nin, in, 1, &out);
	assert_non_null(n);
	return n;
}

static ir_value *op1(gb *b, ir_op o, ir_value *x)
{
	return op(b, o, 1, &x)->out[0];
}

static ir_value *flatten(gb *b, ir_value *x)
{
	ir_node *n = op(b, IR_OP_FLATTEN, 1, &x);
	ir_node_set_int(b->g, n, "axis", 1);
	return n->out[0];
}

static void finish(gb *b, ir_value *out)
{
	ir_graph_add_output(b->g, out);
	diag_sink d;
	diag_sink_init_capture(&d);
	int rc = ir_graph_toposort(b->g, &d) || ir_infer_shapes(b->g, &d) || ir_verify(b->g, true, &d);
	if (rc)
		fprintf(stderr, "%s", d.buf ? d.buf : "");
	assert_int_equal(rc, 0);
	diag_sink_fini(&d);
}

/* --------------------------------------------------------- grad check */

typedef enum { X_PLAIN, X_KINKS } xkind;

/* Kinks of the piecewise ops the inputs must stay clear of. */
static bool near_kink(float v)
{
	static const float k[] = {0, 6, -3, 3, -2.5f, 2.5f};
	for (size_t i = 0; i < sizeof k / sizeof *k; i++)
		if (fabsf(v - k[i]) < 0.06f)
			return true;
	return false;
}

typedef struct gc_opts {
	bool bn_frozen;
	int threads;
	xkind xk;
	float xlo, xhi;
	bool distinct;            /* inputs pairwise at least 0.03 apart (max pools) */
} gc_opts;

static double loss_at(qgt_trainer *t, const float *x, const int32_t *y)
{
	double l;
	assert_int_equal(qgt_trainer_forward(t, x, y, true, &l, NULL), 0);
	return l;
}

static int nchecked;

/* |a - n| <= 1e-2 * max(|a|, |n|), with an absolute floor of 2e-4 for the
 * float forward's rounding in the differences. */
static void compare(const char *what, const char *name, int64_t k, double a, double n)
{
	double tol = 1e-2 * fmax(fabs(a), fabs(n)) + 2e-4;
	if (!(fabs(a - n) <= tol)) /* NaN on either side fails too */
		fail_msg("%s: d loss / d %s[%lld]: analytic %.6g, numeric %.6g", what, name,
		         (long long)k, a, n);
	nchecked++;
}

static void gradcheck(gb *b, const char *what, gc_opts o)
{
	ir_graph *g = b->g;
	ir_value *in = g->inputs[0];
	int64_t B = in->shape.d[0], nx = ir_shape_numel(&in->shape);
	qgt_train_config c;
	qgt_train_config_default(&c);
	c.batch = B;
	c.train_all_consts = true;
	c.input_grad = true;
	c.threads = o.threads ? o.threads : 1;
	c.bn_frozen = o.bn_frozen;
	diag_sink d;
	diag_sink_init_capture(&d);
	qgt_trainer *t = qgt_trainer_create(g, &c, &d);
	if (!t)
		fail_msg("%s: %s", what, d.buf ? d.buf : "");
	float *x = malloc(sizeof(float) * (size_t)nx);
	float lo = o.xhi > o.xlo ? o.xlo : -1, hi = o.xhi > o.xlo ? o.xhi : 1;
	for (int64_t i = 0; i < nx; i++) {
		do
			x[i] = urand(b, lo, hi);
		while (o.xk == X_KINKS && near_kink(x[i]));
	}
	if (o.distinct) {
		/* A shuffled ladder: every value distinct by 0.03. */
		int64_t *p = malloc(sizeof(int64_t) * (size_t)nx);
		for (int64_t i = 0; i < nx; i++)
			p[i] = i;
		uint64_t s = 7;
		qgt_shuffle(p, nx, &s);
		for (int64_t i = 0; i < nx; i++)
			x[i] = 0.03f * (float)(p[i] - nx / 2);
		free(p);
	}
	int64_t k;
	qgt_trainer_logits(t, &k);
	int32_t *y = malloc(sizeof(int32_t) * (size_t)B);
	for (int64_t i = 0; i < B; i++)
		y[i] = (int32_t)((i * 7 + 3) % k);

	assert_int_equal(qgt_trainer_forward(t, x, y, true, NULL, NULL), 0);
	assert_int_equal(qgt_trainer_backward(t), 0);
	/* Analytic gradients, copied before the probes overwrite them. */
	int np = qgt_trainer_nparams(t);
	float **ga = calloc((size_t)np + 1, sizeof *ga);
	for (int i = 0; i < np; i++) {
		qgt_param *p = qgt_trainer_param(t, i);
		ga[i] = malloc(sizeof(float) * (size_t)p->n);
		memcpy(ga[i], p->g, sizeof(float) * (size_t)p->n);
	}
	float *gx = malloc(sizeof(float) * (size_t)nx);
	memcpy(gx, qgt_trainer_input_grad(t), sizeof(float) * (size_t)nx);

	const double h = 1e-2;
	/* Per element: up to 6 elements of every parameter and the input. */
	for (int i = 0; i <= np; i++) {
		qgt_param *p = i < np ? qgt_trainer_param(t, i) : NULL;
		float *w = p ? p->w : x;
		const float *a = p ? ga[i] : gx;
		int64_t n = p ? p->n : nx;
		const char *name = p ? p->v->name : "input";
		for (int j = 0; j < 6 && j < n; j++) {
			int64_t e = (j * 7919 + 13) % n;
			float save = w[e];
			w[e] = (float)(save + h);
			double lp = loss_at(t, x, y);
			w[e] = (float)(save - h);
			double lm = loss_at(t, x, y);
			w[e] = save;
			compare(what, name, e, a[e], (lp - lm) / (2 * h));
		}
	}
	/* Along one random direction through everything at once. */
	double dot = 0;
	uint64_t rs = 99;
	float **dir = calloc((size_t)np + 2, sizeof *dir);
	for (int i = 0; i <= np; i++) {
		qgt_param *p = i < np ? qgt_trainer_param(t, i) : NULL;
		int64_t n = p ? p->n : nx;
		const float *a = p ? ga[i] : gx;
		dir[i] = malloc(sizeof(float) * (size_t)n);
		for (int64_t e = 0; e < n; e++) {
			dir[i][e] = (qgt_rng_next(&rs) >> 63) ? 1.0f : -1.0f;
			dot += a[e] * dir[i][e];
		}
	}
	double hd = 2e-3, lpm[2];
	for (int s = 0; s < 2; s++) {
		for (int i = 0; i <= np; i++) {
			qgt_param *p = i < np ? qgt_trainer_param(t, i) : NULL;
			float *w = p ? p->w : x;
			int64_t n = p ? p->n : nx;
			for (int64_t e = 0; e < n; e++)
				w[e] += (float)((s ? -2 : 1) * hd) * dir[i][e];
		}
		lpm[s] = loss_at(t, x, y);
	}
	compare(what, "(random direction)", 0, dot, (lpm[0] - lpm[1]) / (2 * hd));
	for (int i = 0; i <= np; i++) {
		free(dir[i]);
		if (i < np)
			free(ga[i]);
	}
	free(dir);
	free(ga);
	free(gx);
	free(x);
	free(y);
	qgt_trainer_destroy(t);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* ------------------------------------------------------------- convs */

/* A conv or conv_transpose node on x with weight dims wd[0..1] (x
 * kh x kw, or kw alone in 1-D), a bias of nb when nb > 0, and the
 * attributes given (NULL: absent). */
static ir_value *conv_node(gb *b, ir_op o, ir_value *x, int64_t w0, int64_t w1, int64_t kh, int64_t kw,
                           int64_t nb, const int64_t *strides, const int64_t *pads, const int64_t *outpad,
                           const int64_t *dil, int64_t group)
{
	/* Values made by earlier ops get their shapes only in finish(). */
	int r = x->shape.rank >= 0 ? x->shape.rank : 4;
	int64_t wd[4] = {w0, w1, kh, kw};
	if (r == 3)
		wd[2] = kw;
	ir_value *in[3] = {x, cst(b, r, wd, -0.5f, 0.5f), nb > 0 ? cst(b, 1, &nb, -0.5f, 0.5f) : NULL};
	ir_node *n = op(b, o, nb > 0 ? 3 : 2, in);
	int nsp = r - 2;
	if (strides)
		ir_node_set_ints(b->g, n, "strides", strides, nsp);
	if (pads)
		ir_node_set_ints(b->g, n, "pads", pads, 2 * nsp);
	if (outpad)
		ir_node_set_ints(b->g, n, "output_padding", outpad, nsp);
	if (dil)
		ir_node_set_ints(b->g, n, "dilations", dil, nsp);
	if (group > 1)
		ir_node_set_int(b->g, n, "group", group);
	return n->out[0];
}

static ir_value *conv(gb *b, ir_value *x, int64_t m, int64_t cg, int64_t kh, int64_t kw, bool bias,
                      const int64_t *strides, const int64_t *pads, const int64_t *dil, int64_t group)
{
	return conv_node(b, IR_OP_CONV, x, m, cg, kh, kw, bias ? m : 0, strides, pads, NULL, dil, group);
}

static void test_train_grad_conv(void **state)
{
	(void)state;
	{
		gb b = gb_new();
		ir_value *x = input(&b, 4, (int64_t[]){2, 3, 5, 5});
		x = conv(&b, x, 4, 3, 3, 3, true, NULL, (int64_t[]){1, 1, 1, 1}, NULL, 1);
		finish(&b, flatten(&b, x));
		gradcheck(&b, "conv 3x3 pad 1", (gc_opts){.threads = 2});
	}
	{
		/* Enough samples per thread for several GEMM chunks of unequal
		 * size (the trainer packs about 96K floats of columns per chunk). */
		gb b = gb_new();
		ir_value *x = input(&b, 4, (int64_t[]){7, 16, 16, 16});
		x = conv(&b, x, 16, 16, 3, 3, true, NULL, (int64_t[]){1, 1, 1, 1}, NULL, 1);
		finish(&b, flatten(&b, x));
		gradcheck(&b, "conv 3x3 pad 1, chunked", (gc_opts){.threads = 2});
	}
	{
		gb b = gb_new();
		ir_value *x = input(&b, 4, (int64_t[]){2, 2, 7, 8});
		x = conv(&b, x, 3, 2, 3, 2, true, (int64_t[]){2, 3}, (int64_t[]){1, 0, 2, 1},
		         (int64_t[]){2, 1}, 1);
		finish(&b, flatten(&b, x));
		gradcheck(&b, "conv strides, asymmetric pads, dilations", (gc_opts){.threads = 2});
	}
	{
		gb b = gb_new();
		ir_value *x = input(&b, 4, (int64_t[]){3, 4, 5, 5});
		x = conv(&b, x, 6, 2, 3, 3, false, NULL, (int64_t[]){1, 1, 1, 1}, NULL, 2);
		finish(&b, flatten(&b, x));
		gradcheck(&b, "grouped conv", (gc_opts){.threads = 2});
	}
	{
		gb b = gb_new();
		ir_value *x = input(&b, 4, (int64_t[]){2, 3, 6, 6});
		x = conv(&b, x, 3, 1, 3, 3, true, (int64_t[]){2, 2}, (int64_t[]){1, 1, 1, 1}, NULL, 3);
		x = conv(&b, x, 4, 3, 1, 1, true, NULL, NULL, NULL, 1); /* pointwise: the direct path */
		finish(&b, flatten(&b, x));
		gradcheck(&b, "depthwise + pointwise conv", (gc_opts){.threads = 1});
	}
	{
		gb b = gb_new();
		ir_value *x = input(&b, 3, (int64_t[]){2, 3, 9});
		x = conv(&b, x, 4, 3, 1, 3, true, (int64_t[]){2}, (int64_t[]){1, 1}, NULL, 1);
		finish(&b, flatten(&b, x));
		gradcheck(&b, "conv 1-D", (gc_opts){0});
	}
}

/* conv_transpose of x ([N, cin, ...]) to cout channels, W [cin, cout/group, kh, kw]. */
static ir_value *convt(gb *b, ir_value *x, int64_t cin, int64_t cout, int64_t kh, int64_t kw, bool bias,
                       const int64_t *strides, const int64_t *pads, const int64_t *outpad, const int64_t *dil,
                       int64_t group)
{
	return conv_node(b, IR_OP_CONV_TRANSPOSE, x, cin, cout / group, kh, kw, bias ? cout : 0, strides, pads,
	                 outpad, dil, group);
}

/* The trainer's forward of b's graph (batch N) equals the interpreter's. */
static void forward_matches(gb *b, int64_t N)
{
	ir_value *in = b->g->inputs[0];
	int64_t nx = ir_shape_numel(&in->shape);
	float *x = malloc(sizeof(float) * (size_t)nx);
	for (int64_t i = 0; i < nx; i++)
		x[i] = urand(b, -1, 1);
	int32_t *y = calloc((size_t)N, sizeof *y);
	qgt_train_config c;
	qgt_train_config_default(&c);
	c.batch = (int)N;
	c.threads = 2;
	diag_sink d;
	diag_sink_init_capture(&d);
	qgt_trainer *t = qgt_trainer_create(b->g, &c, &d);
	assert_non_null(t);
	assert_int_equal(qgt_trainer_forward(t, x, y, false, NULL, NULL), 0);
	int64_t k;
	const float *z = qgt_trainer_logits(t, &k);
	ir_tensor tin = {IR_DT_F32, in->shape, x}, out;
	assert_int_equal(ir_interp_run(b->g, &tin, &out, &d), 0);
	for (int64_t i = 0; i < N * k; i++)
		assert_float_equal(z[i], ((float *)out.data)[i], 1e-4);
	ir_tensor_free(&out);
	qgt_trainer_destroy(t);
	diag_sink_fini(&d);
	free(x);
	free(y);
}

/* conv_transpose (the adjoint conv's geometry, every mode of it): its
 * forward against the interpreter, and its gradients against finite
 * differences. */
static void test_train_grad_conv_transpose(void **state)
{
	(void)state;
	struct {
		const char *what;
		int64_t shape[4], cout, kh, kw, group;
		bool bias;
		int64_t s[2], p[4], op[2], dl[2];
		int threads;
	} cases[] = {
		/* a decoder's x2 upsampling: stride 2, pads 1, output_padding 1 */
		{"conv_transpose stride 2, output_padding", {2, 3, 4, 4}, 4, 3, 3, 1, true, {2, 2}, {1, 1, 1, 1}, {1, 1}, {1, 1}, 2},
		/* stride 1, same size: shift mode with a center tap */
		{"conv_transpose 3x3 stride 1 pad 1", {2, 3, 5, 6}, 2, 3, 3, 1, true, {1, 1}, {1, 1, 1, 1}, {0, 0}, {1, 1}, 2},
		/* groups, dilation, asymmetric pads, no bias */
		{"conv_transpose groups, dilation, asymmetric pads", {3, 4, 4, 5}, 6, 3, 2, 2, false, {2, 1}, {0, 1, 2, 0}, {1, 0}, {2, 1}, 2},
		/* 1x1 at stride 1: the direct columns */
		{"conv_transpose 1x1", {2, 4, 3, 3}, 3, 1, 1, 1, true, {1, 1}, {0, 0, 0, 0}, {0, 0}, {1, 1}, 1},
		/* enough samples for GEMM chunks of unequal size */
		{"conv_transpose chunked", {7, 8, 8, 8}, 8, 4, 4, 1, true, {2, 2}, {1, 1, 1, 1}, {0, 0}, {1, 1}, 2},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		for (int pass = 0; pass < 2; pass++) {
			gb b = gb_new();
			ir_value *x = input(&b, 4, cases[i].shape);
			x = convt(&b, x, cases[i].shape[1], cases[i].cout, cases[i].kh, cases[i].kw, cases[i].bias, cases[i].s,
			          cases[i].p, cases[i].op, cases[i].dl, cases[i].group);
			finish(&b, flatten(&b, x));
			if (pass == 0) {
				forward_matches(&b, cases[i].shape[0]);
				ir_graph_destroy(b.g);
			} else {
				gradcheck(&b, cases[i].what, (gc_opts){.threads = cases[i].threads});
			}
		}
	}
	{
		gb b = gb_new();
		ir_value *x = input(&b, 3, (int64_t[]){2, 3, 6});
		x = convt(&b, x, 3, 4, 1, 3, true, (int64_t[]){2}, (int64_t[]){1, 0}, (int64_t[]){1}, NULL, 1);
		finish(&b, flatten(&b, x));
		forward_matches(&b, 2);
		ir_graph_destroy(b.g);
		b = gb_new();
		x = input(&b, 3, (int64_t[]){2, 3, 6});
		x = convt(&b, x, 3, 4, 1, 3, true, (int64_t[]){2}, (int64_t[]){1, 0}, (int64_t[]){1}, NULL, 1);
		finish(&b, flatten(&b, x));
		gradcheck(&b, "conv_transpose 1-D", (gc_opts){0});
	}
	{
		/* a conv after it: the transpose's input gradient is needed */
		gb b = gb_new();
		ir_value *x = input(&b, 4, (int64_t[]){2, 2, 3, 3});
		x = conv(&b, x, 3, 2, 3, 3, true, NULL, (int64_t[]){1, 1, 1, 1}, NULL, 1);
		x = convt(&b, x, 3, 2, 2, 2, true, (int64_t[]){2, 2}, NULL, NULL, NULL, 1);
		x = conv(&b, x, 2, 2, 3, 3, true, NULL, NULL, NULL, 1);
		finish(&b, flatten(&b, x));
		gradcheck(&b, "conv -> conv_transpose -> conv", (gc_opts){.threads = 2});
	}
}

/* -------------------------------------------------------- gemm, matmul */

static void test_train_grad_gemm(void **state)
{
	(void)state;
	{
		gb b = gb_new();
		ir_value *x = input(&b, 2, (int64_t[]){3, 5});
		ir_value *in[3] = {x, cst(&b, 2, (int64_t[]){4, 5}, -1, 1), cst(&b, 1, (int64_t[]){4}, -1, 1)};
		ir_node *n = op(&b, IR_OP_GEMM, 3, in);
		ir_node_set_int(b.g, n, "trans_b", 1);
		finish(&b, n->out[0]);
		gradcheck(&b, "gemm trans_b", (gc_opts){0});
	}
	{
		/* trans_a through a transpose, alpha/beta, C [M, N]. */
		gb b = gb_new();
		ir_value *x = input(&b, 2, (int64_t[]){3, 5});
		ir_node *tr = op(&b, IR_OP_TRANSPOSE, 1, &x);
		ir_node_set_ints(b.g, tr, "perm", (int64_t[]){1, 0}, 2);
		ir_value *in[3] = {tr->out[0], cst(&b, 2, (int64_t[]){5, 4}, -1, 1),
		                   cst(&b, 2, (int64_t[]){3, 4}, -1, 1)};
		ir_node *n = op(&b, IR_OP_GEMM, 3, in);
		ir_node_set_int(b.g, n, "trans_a", 1);
		ir_node_set_float(b.g, n, "alpha", 0.7f);
		ir_node_set_float(b.g, n, "beta", 1.5f);
		finish(&b, n->out[0]);
		gradcheck(&b, "gemm trans_a alpha beta (+ transpose)", (gc_opts){0});
	}
	{
		gb b = gb_new();
		ir_value *x = input(&b, 3, (int64_t[]){2, 3, 4});
		ir_value *in[2] = {x, cst(&b, 2, (int64_t[]){4, 5}, -1, 1)};
		ir_value *y = op(&b, IR_OP_MATMUL, 2, in)->out[0];
		finish(&b, flatten(&b, y));
		gradcheck(&b, "matmul batched x 2-D", (gc_opts){0});
	}
}

/* ----------------------------------------------------------- batchnorm */

static ir_value *bn(gb *b, ir_value *x, int64_t c)
{
	ir_value *in[5] = {x, cst(b, 1, &c, 0.5f, 1.5f), cst(b, 1, &c, -0.5f, 0.5f),
	                   cst(b, 1, &c, -0.2f, 0.2f), cst(b, 1, &c, 0.5f, 1.5f)};
	ir_node *n = op(b, IR_OP_BATCHNORM, 5, in);
	ir_node_set_float(b->g, n, "epsilon", 1e-5f);
	return n->out[0];
}

static void test_train_grad_batchnorm(void **state)
{
	(void)state;
	for (int frozen = 0; frozen < 2; frozen++) {
		gb b = gb_new();
		ir_value *x = input(&b, 4, (int64_t[]){3, 4, 3, 3});
		x = bn(&b, x, 4);
		/* A conv behind it so the statistics' gradient matters. */
		x = conv(&b, x, 3, 4, 3, 3, true, NULL, NULL, NULL, 1);
		finish(&b, flatten(&b, x));
		gradcheck(&b, frozen ? "batchnorm (inference mode)" : "batchnorm (training mode)",
		          (gc_opts){.bn_frozen = frozen, .threads = 2});
	}
}

static void test_train_batchnorm_running_stats(void **state)
{
	(void)state;
	gb b = gb_new();
	ir_value *x = input(&b, 4, (int64_t[]){4, 2, 2, 2});
	ir_value *y = bn(&b, x, 2);
	finish(&b, flatten(&b, y));
	ir_node *n = y->producer;
	float *rm = n->in[3]->data, *rv = n->in[4]->data;
	float rm0[2] = {rm[0], rm[1]}, rv0[2] = {rv[0], rv[1]};
	qgt_train_config c;
	qgt_train_config_default(&c);
	c.batch = 4;
	diag_sink d;
	diag_sink_init_capture(&d);
	qgt_trainer *t = qgt_trainer_create(b.g, &c, &d);
	assert_non_null(t);
	float xv[32];
	for (int i = 0; i < 32; i++)
		xv[i] = (float)(i % 7) - 2.0f + (float)(i / 8) * 0.25f;
	assert_int_equal(qgt_trainer_forward(t, xv, NULL, true, NULL, NULL), 0);
	/* PyTorch: running = 0.9 running + 0.1 batch (unbiased variance). */
	for (int ch = 0; ch < 2; ch++) {
		double s = 0, q = 0;
		for (int bb = 0; bb < 4; bb++)
			for (int i = 0; i < 4; i++) {
				double v = xv[(bb * 2 + ch) * 4 + i];
				s += v;
				q += v * v;
			}
		double mean = s / 16, var = q / 16 - mean * mean;
		assert_float_equal(rm[ch], 0.9 * rm0[ch] + 0.1 * mean, 1e-5);
		assert_float_equal(rv[ch], 0.9 * rv0[ch] + 0.1 * var * 16 / 15, 1e-5);
	}
	/* Inference mode leaves them alone. */
	float keep = rm[0];
	assert_int_equal(qgt_trainer_forward(t, xv, NULL, false, NULL, NULL), 0);
	assert_true(rm[0] == keep);
	qgt_trainer_destroy(t);
	diag_sink_fini(&d);
	ir_graph_destroy(b.g);
}

/* ---------------------------------------------------------- layer_norm */

/* layer_norm of x over the dims from axis (rank given: shapes come in
 * finish()), Scale and B of ns and nb elements (nb 0: no B; 1: one
 * element), shaped as the normalised dims d when they have L.  stats:
 * Mean and InvStdDev outputs too (returned in *m, *is). */
static ir_value *lnorm(gb *b, ir_value *x, int rank, const int64_t *d, int64_t axis, int64_t ns,
                       int64_t nb, bool stats, ir_value **m, ir_value **is)
{
	int64_t a = axis < 0 ? axis + rank : axis, L = 1;
	for (int i = (int)a; i < rank; i++)
		L *= d[i];
	ir_value *in[3] = {x, ns == L ? cst(b, rank - (int)a, d + a, 0.5f, 1.5f) : cst(b, 1, &ns, 0.5f, 1.5f),
	                   nb == 0 ? NULL : nb == L ? cst(b, rank - (int)a, d + a, -0.5f, 0.5f)
	                                            : cst(b, 1, &nb, -0.5f, 0.5f)};
	ir_value *out[3];
	for (int k = 0; k < (stats ? 3 : 1); k++) {
		char nm[32];
		snprintf(nm, sizeof nm, "v%d", b->k++);
		ir_shape s = {.rank = -1};
		out[k] = ir_graph_add_value(b->g, nm, IR_DT_UNDEF, &s);
	}
	ir_node *n = ir_graph_add_node(b->g, IR_OP_LAYER_NORM, out[0]->name, nb ? 3 : 2, in, stats ? 3 : 1, out);
	assert_non_null(n);
	if (axis != -1)
		ir_node_set_int(b->g, n, "axis", axis);
	ir_node_set_float(b->g, n, "epsilon", 1e-3f);
	if (stats) {
		*m = out[1];
		*is = out[2];
	}
	return out[0];
}

/* The trainer's forward of b's graph (batch N) equals the interpreter's
 * to the bit: layer_norm's forward is the interpreter's steps. */
static void forward_exact(gb *b, int64_t N, int threads)
{
	ir_value *in = b->g->inputs[0];
	int64_t nx = ir_shape_numel(&in->shape);
	float *x = malloc(sizeof(float) * (size_t)nx);
	for (int64_t i = 0; i < nx; i++)
		x[i] = urand(b, -2, 2);
	qgt_train_config c;
	qgt_train_config_default(&c);
	c.batch = (int)N;
	c.threads = threads;
	diag_sink d;
	diag_sink_init_capture(&d);
	qgt_trainer *t = qgt_trainer_create(b->g, &c, &d);
	if (!t)
		fail_msg("%s", d.buf ? d.buf : "");
	assert_int_equal(qgt_trainer_forward(t, x, NULL, false, NULL, NULL), 0);
	int64_t k;
	const float *z = qgt_trainer_logits(t, &k);
	ir_tensor tin = {IR_DT_F32, in->shape, x}, out;
	assert_int_equal(ir_interp_run(b->g, &tin, &out, &d), 0);
	assert_memory_equal(z, out.data, sizeof(float) * (size_t)(N * k));
	ir_tensor_free(&out);
	qgt_trainer_destroy(t);
	diag_sink_fini(&d);
	free(x);
}

/* layer_norm: the forward against the interpreter, bit for bit; dx,
 * dScale and dB against finite differences, over one and two trailing
 * dims, with one-element Scale and B, without B, between matmuls, and
 * with Mean and InvStdDev read downstream. */
static void test_train_grad_layer_norm(void **state)
{
	(void)state;
	struct {
		const char *what;
		int rank;
		int64_t d[4], axis, ns, nb;
		int threads;
	} cases[] = {
		{"layer_norm axis -1 on [N, T, C]", 3, {3, 4, 6}, -1, 6, 6, 2},
		{"layer_norm axis -2 (two dims)", 4, {2, 3, 4, 5}, -2, 20, 20, 2},
		{"layer_norm one-element Scale and B", 3, {2, 3, 7}, -1, 1, 1, 1},
		{"layer_norm without B", 3, {2, 5, 4}, 2, 4, 0, 2},
		{"layer_norm axis 1 (all but the batch)", 3, {3, 2, 5}, 1, 10, 1, 2},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		for (int pass = 0; pass < 2; pass++) {
			gb b = gb_new();
			ir_value *x = input(&b, cases[i].rank, cases[i].d);
			x = lnorm(&b, x, cases[i].rank, cases[i].d, cases[i].axis, cases[i].ns, cases[i].nb, false,
			          NULL, NULL);
			finish(&b, flatten(&b, x));
			if (pass == 0) {
				forward_exact(&b, cases[i].d[0], cases[i].threads);
				ir_graph_destroy(b.g);
			} else {
				gradcheck(&b, cases[i].what, (gc_opts){.threads = cases[i].threads, .xlo = -2, .xhi = 2});
			}
		}
	for (int pass = 0; pass < 2; pass++) {
		/* matmul -> layer_norm -> matmul, a transformer block's shape */
		gb b = gb_new();
		ir_value *x = input(&b, 3, (int64_t[]){2, 4, 6});
		ir_value *m1[2] = {x, cst(&b, 2, (int64_t[]){6, 8}, -1, 1)};
		x = op(&b, IR_OP_MATMUL, 2, m1)->out[0];
		x = lnorm(&b, x, 3, (int64_t[]){2, 4, 8}, -1, 8, 8, false, NULL, NULL);
		ir_value *m2[2] = {x, cst(&b, 2, (int64_t[]){8, 3}, -1, 1)};
		x = op(&b, IR_OP_MATMUL, 2, m2)->out[0];
		finish(&b, flatten(&b, x));
		if (pass == 0) {
			/* (not to the bit: the trainer's matmuls are BLAS's) */
			forward_matches(&b, 2);
			ir_graph_destroy(b.g);
		} else {
			gradcheck(&b, "matmul -> layer_norm -> matmul", (gc_opts){.threads = 2});
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		/* Mean and InvStdDev read: y + Mean * InvStdDev (broadcast) */
		gb b = gb_new();
		ir_value *x = input(&b, 3, (int64_t[]){2, 3, 5}), *m, *is;
		ir_value *y = lnorm(&b, x, 3, (int64_t[]){2, 3, 5}, -1, 5, 5, true, &m, &is);
		ir_value *mi[2] = {m, is};
		ir_value *p = op(&b, IR_OP_MUL, 2, mi)->out[0];
		ir_value *ai[2] = {y, p};
		y = op(&b, IR_OP_ADD, 2, ai)->out[0];
		finish(&b, flatten(&b, y));
		if (pass == 0) {
			forward_exact(&b, 2, 2);
			ir_graph_destroy(b.g);
		} else {
			gradcheck(&b, "layer_norm with Mean and InvStdDev read", (gc_opts){.threads = 2, .xlo = -1, .xhi = 3});
		}
	}
}

/* ------------------------------------------------------- instance_norm */

/* instance_norm of x with C channels: Scale in [0.5, 1.5) and B in
 * [-0.5, 0.5), one per channel. */
static ir_value *inorm(gb *b, ir_value *x, int64_t C)
{
	ir_value *in[3] = {x, cst(b, 1, &C, 0.5f, 1.5f), cst(b, 1, &C, -0.5f, 0.5f)};
	ir_node *n = op(b, IR_OP_INSTANCE_NORM, 3, in);
	ir_node_set_float(b->g, n, "epsilon", 1e-3f);
	return n->out[0];
}

/* instance_norm: the forward against the interpreter, bit for bit; dx,
 * dScale and dB against finite differences on [N, C, H, W] and
 * [N, C, L] (dScale and dB sum over the N rows of their channel), and
 * between convs. */
static void test_train_grad_instance_norm(void **state)
{
	(void)state;
	struct {
		const char *what;
		int rank;
		int64_t d[4];
		int threads;
	} cases[] = {
		{"instance_norm on [N, C, H, W]", 4, {2, 3, 4, 5}, 2},
		{"instance_norm on [N, C, L]", 3, {2, 4, 7}, 2},
		{"instance_norm on [N, C, L], one thread", 3, {3, 2, 6}, 1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		for (int pass = 0; pass < 2; pass++) {
			gb b = gb_new();
			ir_value *x = input(&b, cases[i].rank, cases[i].d);
			x = inorm(&b, x, cases[i].d[1]);
			finish(&b, flatten(&b, x));
			if (pass == 0) {
				forward_exact(&b, cases[i].d[0], cases[i].threads);
				ir_graph_destroy(b.g);
			} else {
				gradcheck(&b, cases[i].what, (gc_opts){.threads = cases[i].threads, .xlo = -2, .xhi = 2});
			}
		}
	for (int pass = 0; pass < 2; pass++) {
		/* conv -> instance_norm -> conv, GroupNorm's place in a CNN */
		gb b = gb_new();
		ir_value *x = input(&b, 4, (int64_t[]){2, 2, 5, 5});
		x = conv(&b, x, 4, 2, 3, 3, true, NULL, (int64_t[]){1, 1, 1, 1}, NULL, 1);
		x = inorm(&b, x, 4);
		x = conv(&b, x, 3, 4, 3, 3, true, (int64_t[]){2, 2}, NULL, NULL, 1);
		finish(&b, flatten(&b, x));
		if (pass == 0) {
			forward_matches(&b, 2);
			ir_graph_destroy(b.g);
		} else {
			gradcheck(&b, "conv -> instance_norm -> conv", (gc_opts){.threads = 2});
		}
	}
}

/* Without train_all_consts, layer_norm's and instance_norm's Scale and
 * B are parameters as batchnorm's gamma and beta are, and a step moves
 * them. */
static void test_train_layer_norm_params(void **state)
{
	(void)state;
	for (int inst = 0; inst < 2; inst++) {
		gb b = gb_new();
		ir_value *x = input(&b, 3, (int64_t[]){4, 3, 6});
		x = inst ? inorm(&b, x, 3) : lnorm(&b, x, 3, (int64_t[]){4, 3, 6}, -1, 6, 6, false, NULL, NULL);
		finish(&b, flatten(&b, x));
		qgt_train_config c;
		qgt_train_config_default(&c);
		c.batch = 4;
		diag_sink d;
		diag_sink_init_capture(&d);
		qgt_trainer *t = qgt_trainer_create(b.g, &c, &d);
		if (!t)
			fail_msg("%s", d.buf ? d.buf : "");
		assert_int_equal(qgt_trainer_nparams(t), 2);
		assert_int_equal(qgt_trainer_param(t, 0)->role, QGT_ROLE_BN_SCALE);
		assert_int_equal(qgt_trainer_param(t, 1)->role, QGT_ROLE_BN_BIAS);
		int64_t np = qgt_trainer_param(t, 0)->n;
		assert_int_equal(np, inst ? 3 : 6);
		float xv[4 * 18], before[12];
		int32_t y[4] = {0, 5, 11, 17};
		for (int i = 0; i < 4 * 18; i++)
			xv[i] = urand(&b, -1, 1);
		memcpy(before, qgt_trainer_param(t, 0)->w, sizeof(float) * (size_t)np);
		memcpy(before + 6, qgt_trainer_param(t, 1)->w, sizeof(float) * (size_t)np);
		qgt_step_stats st;
		assert_int_equal(qgt_trainer_step(t, xv, y, &st), 0);
		for (int p = 0; p < 2; p++) {
			double gn = 0, moved = 0;
			for (int i = 0; i < np; i++) {
				gn += fabs(qgt_trainer_param(t, p)->g[i]);
				moved += fabs(qgt_trainer_param(t, p)->w[i] - before[6 * p + i]);
			}
			assert_true(gn > 1e-4);
			assert_true(moved > 1e-6);
		}
		qgt_trainer_destroy(t);
		diag_sink_fini(&d);
		ir_graph_destroy(b.g);
	}
}

/* --------------------------------------------------------- activations */

static void test_train_grad_activations(void **state)
{
	(void)state;
	const ir_op ops[] = {IR_OP_RELU,         IR_OP_LEAKY_RELU, IR_OP_CLIP, IR_OP_HARD_SWISH,
	                     IR_OP_HARD_SIGMOID, IR_OP_SIGMOID,    IR_OP_TANH, IR_OP_ELU,
	                     IR_OP_SOFTPLUS,     IR_OP_ERF,        IR_OP_SELU, IR_OP_CELU,
	                     IR_OP_SOFTSIGN,     IR_OP_MISH,       IR_OP_GELU, IR_OP_GELU,
	                     IR_OP_ABS,          IR_OP_NEG,        IR_OP_EXP,  IR_OP_SQRT,
	                     IR_OP_LOG,          IR_OP_RECIPROCAL, IR_OP_SIN,  IR_OP_COS,
	                     IR_OP_ASIN,         IR_OP_ACOS,       IR_OP_ATAN, IR_OP_SINH,
	                     IR_OP_COSH,         IR_OP_ASINH,      IR_OP_ACOSH, IR_OP_ATANH};
	for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
		/* sqrt, log and reciprocal on positive inputs only */
		bool pos = ops[i] == IR_OP_SQRT || ops[i] == IR_OP_LOG || ops[i] == IR_OP_RECIPROCAL;
		bool gelu_tanh = ops[i] == IR_OP_GELU && i > 0 && ops[i - 1] == IR_OP_GELU;
		gb b = gb_new();
		ir_value *x = input(&b, 2, (int64_t[]){3, 12});
		ir_node *n;
		if (ops[i] == IR_OP_CLIP) {
			/* Relu6 as exported: Clip(x, 0, 6). */
			float lo = 0, hi = 6;
			ir_shape s = {.rank = 0};
			ir_value *in[3] = {x, ir_graph_add_const(b.g, "lo", IR_DT_F32, &s, &lo),
			                   ir_graph_add_const(b.g, "hi", IR_DT_F32, &s, &hi)};
			n = op(&b, IR_OP_CLIP, 3, in);
		} else {
			n = op(&b, ops[i], 1, &x);
		}
		if (ops[i] == IR_OP_LEAKY_RELU)
			ir_node_set_float(b.g, n, "alpha", 0.1f);
		if (ops[i] == IR_OP_ELU || ops[i] == IR_OP_CELU)
			ir_node_set_float(b.g, n, "alpha", 0.7f);
		if (gelu_tanh)
			ir_node_set_str(b.g, n, "approximate", "tanh");
		if (ops[i] == IR_OP_HARD_SIGMOID) {
			ir_node_set_float(b.g, n, "alpha", 0.2f);
			ir_node_set_float(b.g, n, "beta", 0.5f);
		}
		/* A dense layer after it so every activation gets a gradient. */
		ir_value *in[3] = {n->out[0], cst(&b, 2, (int64_t[]){5, 12}, -1, 1),
		                   cst(&b, 1, (int64_t[]){5}, -1, 1)};
		ir_node *gm = op(&b, IR_OP_GEMM, 3, in);
		ir_node_set_int(b.g, gm, "trans_b", 1);
		finish(&b, gm->out[0]);
		char what[64];
		snprintf(what, sizeof what, "%s%s", ir_op_name(ops[i]), gelu_tanh ? " (tanh)" : "");
		/* (exp, sinh and cosh of up to 8 are too steep for the float
		 * finite differences; asin, acos and atanh live in (-1, 1),
		 * acosh above 1) */
		bool unit = ops[i] == IR_OP_ASIN || ops[i] == IR_OP_ACOS || ops[i] == IR_OP_ATANH;
		bool steep = ops[i] == IR_OP_EXP || ops[i] == IR_OP_SINH || ops[i] == IR_OP_COSH;
		gradcheck(&b, what, pos                     ? (gc_opts){.xlo = 0.5, .xhi = 4}
		                    : unit                  ? (gc_opts){.xlo = -0.8, .xhi = 0.8}
		                    : ops[i] == IR_OP_ACOSH ? (gc_opts){.xlo = 1.2, .xhi = 4}
		                    : steep                 ? (gc_opts){.xlo = -3, .xhi = 3}
		                                            : (gc_opts){.xk = X_KINKS, .xlo = -8, .xhi = 8});
	}
}

/* -------------------------------------------------------------- pools */

static void test_train_grad_pools(void **state)
{
	(void)state;
	for (int kind = 0; kind < 6; kind++) {
		gb b = gb_new();
		ir_value *x = input(&b, 4, (int64_t[]){2, 3, 7, 6});
		ir_value *y;
		if (kind < 4) {
			ir_node *n = op(&b, kind == 0 || kind == 1 ? IR_OP_MAX_POOL : IR_OP_AVG_POOL, 1, &x);
			bool big = kind != 0;
			ir_node_set_ints(b.g, n, "kernel", big ? (int64_t[]){3, 3} : (int64_t[]){2, 2}, 2);
			ir_node_set_ints(b.g, n, "strides", (int64_t[]){2, 2}, 2);
			if (big)
				ir_node_set_ints(b.g, n, "pads", (int64_t[]){1, 1, 1, 0}, 4);
			if (kind == 3)
				ir_node_set_int(b.g, n, "count_include_pad", 1);
			y = n->out[0];
		} else {
			y = op1(&b, kind == 4 ? IR_OP_GLOBAL_AVG_POOL : IR_OP_GLOBAL_MAX_POOL, x);
		}
		finish(&b, flatten(&b, y));
		static const char *names[] = {"max_pool 2x2/2", "max_pool 3x3/2 pad", "avg_pool 3x3/2 pad",
		                              "avg_pool count_include_pad", "global_avg_pool",
		                              "global_max_pool"};
		gradcheck(&b, names[kind], (gc_opts){.distinct = kind == 0 || kind == 1 || kind == 5, .threads = 2});
	}
}

/* ------------------------------------------- broadcast arithmetic etc. */

static void test_train_grad_arith(void **state)
{
	(void)state;
	const ir_op ops[] = {IR_OP_ADD, IR_OP_SUB, IR_OP_MUL, IR_OP_DIV};
	for (size_t i = 0; i < 4; i++)
		for (int bc = 0; bc < 3; bc++) {
			gb b = gb_new();
			ir_value *x = input(&b, 3, (int64_t[]){2, 3, 4});
			ir_value *c;
			if (bc == 0)
				c = cst(&b, 1, (int64_t[]){4}, 0.5f, 1.5f);
			else if (bc == 1)
				c = cst(&b, 2, (int64_t[]){3, 1}, 0.5f, 1.5f);
			else
				c = cst(&b, 3, (int64_t[]){2, 3, 4}, 0.5f, 1.5f);
			ir_value *in[2] = {x, c};
			if (bc == 1) { /* constant on the left */
				in[0] = c;
				in[1] = x;
			}
			ir_value *y = op(&b, ops[i], 2, in)->out[0];
			finish(&b, flatten(&b, y));
			char what[64];
			snprintf(what, sizeof what, "%s broadcast %d", ir_op_name(ops[i]), bc);
			gradcheck(&b, what, (gc_opts){.xlo = 0.5f, .xhi = 1.5f});
		}
	/* x * x: both operands are the same value. */
	gb b = gb_new();
	ir_value *x = input(&b, 2, (int64_t[]){2, 5});
	ir_value *in[2] = {x, x};
	finish(&b, op(&b, IR_OP_MUL, 2, in)->out[0]);
	gradcheck(&b, "mul x * x", (gc_opts){0});
}

/* pow(x, c), c constant: dx = c x^(c - 1) dy against finite differences
 * for c = 2, 3, 0.5 and -0.5 (f32 scalars, trained with the rest, so dc
 * = y ln(x) dy too; x positive), c = 2 and 3 as i64 on x of both signs,
 * c broadcast per column, x broadcast against c (dx summed), and
 * pow(x, 2) + x (dx accumulated).  (An f32 exponent with x < 0 would
 * make c's finite difference NaN: pow(-1, 2.01).) */
static void test_train_grad_pow(void **state)
{
	(void)state;
	struct {
		const char *what;
		float c;
		bool i64;
		float xlo, xhi;
	} cases[] = {
		{"pow(x, 2)", 2, false, 0.2f, 2},      {"pow(x, 3)", 3, false, 0.2f, 2},
		{"pow(x, 0.5)", 0.5f, false, 0.2f, 2}, {"pow(x, -0.5)", -0.5f, false, 0.3f, 2},
		{"pow(x, 2 as i64)", 2, true, -2, 2},  {"pow(x, 3 as i64)", 3, true, -2, 2},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		gb b = gb_new();
		ir_value *x = input(&b, 2, (int64_t[]){3, 8});
		ir_value *in[2] = {x, cases[i].i64 ? cst_i64(&b, 1, (int64_t[]){(int64_t)cases[i].c})
		                                   : cst(&b, 0, (int64_t[]){1}, cases[i].c, cases[i].c)};
		finish(&b, op(&b, IR_OP_POW, 2, in)->out[0]);
		gradcheck(&b, cases[i].what, (gc_opts){.xlo = cases[i].xlo, .xhi = cases[i].xhi});
	}
	{
		/* a column's exponent each, in [-1, 2.5) */
		gb b = gb_new();
		ir_value *x = input(&b, 2, (int64_t[]){3, 8});
		ir_value *in[2] = {x, cst(&b, 2, (int64_t[]){1, 8}, -1, 2.5f)};
		finish(&b, op(&b, IR_OP_POW, 2, in)->out[0]);
		gradcheck(&b, "pow(x, c per column)", (gc_opts){.xlo = 0.3f, .xhi = 2});
	}
	{
		/* x [2, 1, 4] against c [3, 1]: y [2, 3, 4], dx summed over 3 */
		gb b = gb_new();
		ir_value *x = input(&b, 3, (int64_t[]){2, 1, 4});
		ir_value *in[2] = {x, cst(&b, 2, (int64_t[]){3, 1}, 0.5f, 3)};
		finish(&b, flatten(&b, op(&b, IR_OP_POW, 2, in)->out[0]));
		gradcheck(&b, "pow(x, c) with x broadcast", (gc_opts){.xlo = 0.3f, .xhi = 2});
	}
	{
		gb b = gb_new();
		ir_value *x = input(&b, 2, (int64_t[]){3, 6});
		ir_value *in[2] = {x, cst_i64(&b, 1, (int64_t[]){2})};
		ir_value *ai[2] = {op(&b, IR_OP_POW, 2, in)->out[0], x};
		finish(&b, op(&b, IR_OP_ADD, 2, ai)->out[0]);
		gradcheck(&b, "pow(x, 2) + x", (gc_opts){.xlo = -2, .xhi = 2});
	}
}

/* An exponent computed from what trains has no backward: the error names
 * the node and says what pow needs. */
static void test_train_pow_computed_exponent(void **state)
{
	(void)state;
	gb b = gb_new();
	ir_value *x = input(&b, 2, (int64_t[]){2, 4});
	ir_value *gi[2] = {x, cst(&b, 2, (int64_t[]){4, 4}, -1, 1)};
	ir_value *e = op(&b, IR_OP_GEMM, 2, gi)->out[0];
	ir_value *in[2] = {x, e};
	ir_node *p = op(&b, IR_OP_POW, 2, in);
	finish(&b, p->out[0]);
	qgt_train_config c;
	qgt_train_config_default(&c);
	c.batch = 2;
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_null(qgt_trainer_create(b.g, &c, &d));
	assert_non_null(strstr(d.buf, p->name));
	assert_non_null(strstr(d.buf, "needs a constant exponent"));
	diag_sink_fini(&d);
	ir_graph_destroy(b.g);
}

static void test_train_grad_shape_ops(void **state)
{
	(void)state;
	{
		/* concat(x, x * w) on axis 1, reshape, transpose, flatten. */
		gb b = gb_new();
		ir_value *x = input(&b, 3, (int64_t[]){2, 2, 6});
		ir_value *m[2] = {x, cst(&b, 1, (int64_t[]){6}, -1, 1)};
		ir_value *xm = op(&b, IR_OP_MUL, 2, m)->out[0];
		ir_value *ci[2] = {x, xm};
		ir_node *cn = op(&b, IR_OP_CONCAT, 2, ci);
		ir_node_set_int(b.g, cn, "axis", 1);
		ir_value *ri[2] = {cn->out[0], cst_i64(&b, 3, (int64_t[]){2, 6, 4})};
		ir_value *r = op(&b, IR_OP_RESHAPE, 2, ri)->out[0];
		ir_node *tn = op(&b, IR_OP_TRANSPOSE, 1, &r);
		ir_node_set_ints(b.g, tn, "perm", (int64_t[]){0, 2, 1}, 3);
		ir_value *s[2] = {tn->out[0], cst(&b, 2, (int64_t[]){4, 6}, -1, 1)};
		ir_value *y = op(&b, IR_OP_MUL, 2, s)->out[0];
		finish(&b, flatten(&b, y));
		gradcheck(&b, "concat/reshape/transpose/flatten", (gc_opts){0});
	}
	{
		/* Unsqueeze/squeeze/identity around a gemm. */
		gb b = gb_new();
		ir_value *x = input(&b, 2, (int64_t[]){2, 4});
		ir_value *ui[2] = {x, cst_i64(&b, 1, (int64_t[]){1})};
		ir_value *u = op(&b, IR_OP_UNSQUEEZE, 2, ui)->out[0];
		ir_value *si[2] = {u, cst_i64(&b, 1, (int64_t[]){1})};
		ir_value *sq = op(&b, IR_OP_SQUEEZE, 2, si)->out[0];
		ir_value *id = op1(&b, IR_OP_IDENTITY, sq);
		ir_value *gi[2] = {id, cst(&b, 2, (int64_t[]){4, 3}, -1, 1)};
		finish(&b, op(&b, IR_OP_GEMM, 2, gi)->out[0]);
		gradcheck(&b, "unsqueeze/squeeze/identity", (gc_opts){0});
	}
}

/* Pad (constant with a value, reflect, edge; negative pads crop), slice
 * with a negative step, gather with repeated and negative indices,
 * expand, tile, depth_to_space (both modes) and space_to_depth: the data
 * movements whose backward is planned from the interpreter's own kernel;
 * and reduce_mean / reduce_sum. */
static ir_value *pad(gb *b, ir_value *x, const char *mode, const int64_t *pads, int np, bool value)
{
	ir_value *in[3] = {x, cst_i64(b, np, pads), value ? cst(b, 0, NULL, -1, 1) : NULL};
	ir_node *n = op(b, IR_OP_PAD, value ? 3 : 2, in);
	ir_node_set_str(b->g, n, "mode", mode);
	return n->out[0];
}

/* y times a weight of y's shape less the batch. */
static ir_value *weigh(gb *b, ir_value *y)
{
	diag_sink d; /* the shapes so far, for the weight's */
	diag_sink_init_capture(&d);
	if (ir_graph_toposort(b->g, &d) || ir_infer_shapes(b->g, &d))
		fail_msg("%s", d.buf ? d.buf : "");
	diag_sink_fini(&d);
	ir_value *m[2] = {y, NULL};
	ir_shape s = y->shape;
	m[1] = cst(b, s.rank - 1, s.d + 1, -1, 1);
	return op(b, IR_OP_MUL, 2, m)->out[0];
}

static void test_train_grad_data_movement(void **state)
{
	(void)state;
	static const char *modes[] = {"constant", "reflect", "edge"};
	for (int k = 0; k < 3; k++) {
		gb b = gb_new();
		ir_value *x = input(&b, 4, (int64_t[]){2, 2, 4, 5});
		ir_value *y = pad(&b, x, modes[k], (int64_t[]){0, 0, 2, -1, 0, 0, 1, 3}, 8, k == 0);
		finish(&b, flatten(&b, weigh(&b, y)));
		gradcheck(&b, modes[k], (gc_opts){0});
	}
	{
		gb b = gb_new();
		ir_value *x = input(&b, 3, (int64_t[]){2, 3, 8});
		ir_value *si[5] = {x, cst_i64(&b, 1, (int64_t[]){7}), cst_i64(&b, 1, (int64_t[]){0}),
		                   cst_i64(&b, 1, (int64_t[]){2}), cst_i64(&b, 1, (int64_t[]){-2})};
		ir_value *sl = op(&b, IR_OP_SLICE, 5, si)->out[0];            /* [2, 3, 4] */
		ir_value *gi[2] = {sl, cst_i64(&b, 4, (int64_t[]){2, 0, 2, -1})};
		ir_node *gn = op(&b, IR_OP_GATHER, 2, gi);                     /* [2, 4, 4] */
		ir_node_set_int(b.g, gn, "axis", 1);
		finish(&b, flatten(&b, weigh(&b, gn->out[0])));
		gradcheck(&b, "slice/gather", (gc_opts){0});
	}
	{
		gb b = gb_new();
		ir_value *x = input(&b, 3, (int64_t[]){2, 1, 3});
		ir_value *ei[2] = {x, cst_i64(&b, 3, (int64_t[]){2, 4, 3})};
		ir_value *e = op(&b, IR_OP_EXPAND, 2, ei)->out[0];
		ir_value *ti[2] = {weigh(&b, e), cst_i64(&b, 3, (int64_t[]){1, 2, 2})};
		ir_value *t = op(&b, IR_OP_TILE, 2, ti)->out[0];
		finish(&b, flatten(&b, weigh(&b, t)));
		gradcheck(&b, "expand/tile", (gc_opts){0});
	}
	/* reduce_mean over the spatial axes (torch's x.mean((2, 3))), keepdims
	 * 0, and reduce_sum over axis 1 with keepdims 1 */
	for (int k = 0; k < 2; k++) {
		gb b = gb_new();
		ir_value *x = input(&b, 4, (int64_t[]){2, 3, 4, 5});
		ir_value *ri[2] = {weigh(&b, x), k ? cst_i64(&b, 1, (int64_t[]){1})
		                                   : cst_i64(&b, 2, (int64_t[]){-1, 2})};
		ir_node *rn = op(&b, k ? IR_OP_REDUCE_SUM : IR_OP_REDUCE_MEAN, 2, ri);
		ir_node_set_int(b.g, rn, "keepdims", k);
		finish(&b, flatten(&b, weigh(&b, rn->out[0])));
		gradcheck(&b, k ? "reduce_sum" : "reduce_mean", (gc_opts){0});
	}
	static const char *d2s[] = {"DCR", "CRD"};
	for (int k = 0; k < 2; k++) {
		gb b = gb_new();
		ir_value *x = input(&b, 4, (int64_t[]){2, 8, 2, 3});
		ir_node *dn = op(&b, IR_OP_DEPTH_TO_SPACE, 1, &x);
		ir_node_set_int(b.g, dn, "blocksize", 2);
		ir_node_set_str(b.g, dn, "mode", d2s[k]);
		ir_value *w = weigh(&b, dn->out[0]);
		ir_node *sn = op(&b, IR_OP_SPACE_TO_DEPTH, 1, &w);
		ir_node_set_int(b.g, sn, "blocksize", 2);
		finish(&b, flatten(&b, weigh(&b, sn->out[0])));
		gradcheck(&b, d2s[k], (gc_opts){0});
	}
}

static void test_train_grad_dropout_softmax(void **state)
{
	(void)state;
	{
		gb b = gb_new();
		ir_value *x = input(&b, 2, (int64_t[]){3, 10});
		float r = 0.3f;
		ir_shape s = {.rank = 0};
		ir_value *in[2] = {x, ir_graph_add_const(b.g, "ratio", IR_DT_F32, &s, &r)};
		ir_value *dr = op(&b, IR_OP_DROPOUT, 2, in)->out[0];
		ir_value *gi[2] = {dr, cst(&b, 2, (int64_t[]){10, 4}, -1, 1)};
		finish(&b, op(&b, IR_OP_GEMM, 2, gi)->out[0]);
		gradcheck(&b, "dropout (training)", (gc_opts){0});
	}
	for (int lsm = 0; lsm < 2; lsm++) {
		gb b = gb_new();
		ir_value *x = input(&b, 3, (int64_t[]){2, 3, 4});
		ir_node *n = op(&b, lsm ? IR_OP_LOG_SOFTMAX : IR_OP_SOFTMAX, 1, &x);
		ir_node_set_int(b.g, n, "axis", 1);
		ir_value *m[2] = {n->out[0], cst(&b, 2, (int64_t[]){3, 4}, -2, 2)};
		finish(&b, flatten(&b, op(&b, IR_OP_MUL, 2, m)->out[0]));
		gradcheck(&b, lsm ? "log_softmax" : "softmax", (gc_opts){0});
	}
}

static void test_train_dropout_masks(void **state)
{
	(void)state;
	/* Training drops about `ratio` of the units and rescales the rest;
	 * inference passes everything through. */
	gb b = gb_new();
	ir_value *x = input(&b, 2, (int64_t[]){4, 1000});
	float r = 0.25f;
	ir_shape s = {.rank = 0};
	ir_value *in[2] = {x, ir_graph_add_const(b.g, "ratio", IR_DT_F32, &s, &r)};
	ir_value *dr = op(&b, IR_OP_DROPOUT, 2, in)->out[0];
	finish(&b, dr);
	qgt_train_config c;
	qgt_train_config_default(&c);
	c.batch = 4;
	c.input_grad = true;
	diag_sink d;
	diag_sink_init_capture(&d);
	qgt_trainer *t = qgt_trainer_create(b.g, &c, &d);
	assert_non_null(t);
	float *xv = malloc(sizeof(float) * 4000);
	for (int i = 0; i < 4000; i++)
		xv[i] = 1.0f;
	assert_int_equal(qgt_trainer_forward(t, xv, NULL, true, NULL, NULL), 0);
	const float *yv = qgt_trainer_logits(t, NULL);
	int zeros = 0;
	for (int i = 0; i < 4000; i++) {
		if (yv[i] == 0)
			zeros++;
		else
			assert_float_equal(yv[i], 1.0f / 0.75f, 1e-6);
	}
	assert_in_range(zeros, 850, 1150);
	assert_int_equal(qgt_trainer_forward(t, xv, NULL, false, NULL, NULL), 0);
	for (int i = 0; i < 4000; i++)
		assert_true(yv[i] == 1.0f);
	free(xv);
	qgt_trainer_destroy(t);
	diag_sink_fini(&d);
	ir_graph_destroy(b.g);
}

/* ------------------------------------------------ optimizers, schedules */

static void test_train_optim_sgd_momentum(void **state)
{
	(void)state;
	qgt_train_config c;
	qgt_train_config_default(&c);
	c.momentum = 0.9f;
	c.weight_decay = 0.1f;
	float w[1] = {1.0f}, g[1] = {0.5f}, m1[1] = {0}, m2[1] = {0};
	qgt_param p = {.n = 1, .w = w, .g = g, .m1 = m1, .m2 = m2};
	/* step 0: g' = 0.5 + 0.1*1 = 0.6; v = 0.6; w = 1 - 0.1*0.6 = 0.94 */
	qgt_optim_update(&c, &p, 0, 0.1f);
	assert_float_equal(w[0], 0.94, 1e-6);
	/* step 1: g' = 0.5 + 0.094 = 0.594; v = 0.54 + 0.594 = 1.134;
	 * w = 0.94 - 0.1134 = 0.8266 */
	qgt_optim_update(&c, &p, 1, 0.1f);
	assert_float_equal(w[0], 0.8266, 1e-6);
}

static void test_train_optim_adam(void **state)
{
	(void)state;
	qgt_train_config c;
	qgt_train_config_default(&c);
	c.opt = QGT_OPT_ADAM;
	float w[1] = {1.0f}, g[1] = {0.5f}, m1[1] = {0}, m2[1] = {0};
	qgt_param p = {.n = 1, .w = w, .g = g, .m1 = m1, .m2 = m2};
	/* Adam's first step moves by lr * sign(g) (up to eps). */
	qgt_optim_update(&c, &p, 0, 0.01f);
	assert_float_equal(w[0], 0.99, 1e-6);
	/* step 2 with g = -0.25: m = 0.9*0.05 - 0.025 = 0.02,
	 * v = 0.999*0.00025 + 0.001*0.0625 = 0.00031225,
	 * mhat = 0.02/0.19, vhat = v/(1-0.999^2) */
	g[0] = -0.25f;
	qgt_optim_update(&c, &p, 1, 0.01f);
	double mhat = 0.02 / 0.19, vhat = 0.00031225 / (1 - 0.999 * 0.999);
	assert_float_equal(w[0], 0.99 - 0.01 * mhat / (sqrt(vhat) + 1e-8), 1e-6);
	/* AdamW decays the weight directly: w -= lr*wd*w before the step. */
	c.opt = QGT_OPT_ADAMW;
	c.weight_decay = 0.5f;
	float w2[1] = {2.0f}, g2[1] = {0}, a[1] = {0}, bb[1] = {0};
	qgt_param q = {.n = 1, .w = w2, .g = g2, .m1 = a, .m2 = bb};
	qgt_optim_update(&c, &q, 0, 0.1f);
	assert_float_equal(w2[0], 2.0 - 0.1 * 0.5 * 2.0, 1e-6);
}

static void test_train_schedules(void **state)
{
	(void)state;
	qgt_train_config c;
	qgt_train_config_default(&c);
	c.lr = 0.1f;
	c.sched = QGT_SCHED_COSINE;
	assert_float_equal(qgt_sched_lr(&c, 0, 100, 10), 0.1, 1e-7);
	assert_float_equal(qgt_sched_lr(&c, 50, 100, 10), 0.05, 1e-7);
	assert_float_equal(qgt_sched_lr(&c, 100, 100, 10), 0.0, 1e-7);
	c.warmup = 10;
	assert_float_equal(qgt_sched_lr(&c, 0, 110, 10), 0.01, 1e-7);
	assert_float_equal(qgt_sched_lr(&c, 9, 110, 10), 0.1, 1e-7);
	assert_float_equal(qgt_sched_lr(&c, 60, 110, 10), 0.05, 1e-7);
	c.warmup = 0;
	c.sched = QGT_SCHED_STEP;
	c.epochs = 9; /* decay every 3 epochs */
	assert_float_equal(qgt_sched_lr(&c, 29, 90, 10), 0.1, 1e-7);
	assert_float_equal(qgt_sched_lr(&c, 30, 90, 10), 0.01, 1e-7);
	assert_float_equal(qgt_sched_lr(&c, 89, 90, 10), 0.001, 1e-8);
}

/* ------------------------------------------------ whole-model behaviour */

/* conv-bn-relu-maxpool-conv-bn-relu-gap-gemm on [B,1,12,12]. */
static ir_graph *small_cnn(int64_t B, uint64_t seed)
{
	gb b = gb_new();
	b.rng = seed;
	ir_value *x = input(&b, 4, (int64_t[]){B, 1, 12, 12});
	x = conv(&b, x, 8, 1, 3, 3, true, NULL, (int64_t[]){1, 1, 1, 1}, NULL, 1);
	x = op1(&b, IR_OP_RELU, bn(&b, x, 8));
	ir_node *mp = op(&b, IR_OP_MAX_POOL, 1, &x);
	ir_node_set_ints(b.g, mp, "kernel", (int64_t[]){2, 2}, 2);
	ir_node_set_ints(b.g, mp, "strides", (int64_t[]){2, 2}, 2);
	x = conv(&b, mp->out[0], 16, 8, 3, 3, true, NULL, (int64_t[]){1, 1, 1, 1}, NULL, 1);
	x = op1(&b, IR_OP_RELU, bn(&b, x, 16));
	x = flatten(&b, op1(&b, IR_OP_GLOBAL_AVG_POOL, x));
	ir_value *in[3] = {x, cst(&b, 2, (int64_t[]){10, 16}, -0.3f, 0.3f),
	                   cst(&b, 1, (int64_t[]){10}, -0.1f, 0.1f)};
	ir_node *gm = op(&b, IR_OP_GEMM, 3, in);
	ir_node_set_int(b.g, gm, "trans_b", 1);
	finish(&b, gm->out[0]);
	return b.g;
}

static void fill_batch(float *x, int32_t *y, int64_t n, int64_t per, uint64_t seed)
{
	for (int64_t i = 0; i < n * per; i++)
		x[i] = (float)((double)(qgt_rng_next(&seed) >> 11) / 9007199254740992.0) * 2 - 1;
	for (int64_t i = 0; i < n; i++)
		y[i] = (int32_t)(qgt_rng_next(&seed) % 10);
}

static void test_train_forward_matches_interpreter(void **state)
{
	(void)state;
	ir_graph *g = small_cnn(4, 3);
	float x[4 * 144];
	int32_t y[4];
	fill_batch(x, y, 4, 144, 5);
	qgt_train_config c;
	qgt_train_config_default(&c);
	c.batch = 4;
	diag_sink d;
	diag_sink_init_capture(&d);
	qgt_trainer *t = qgt_trainer_create(g, &c, &d);
	assert_non_null(t);
	assert_int_equal(qgt_trainer_forward(t, x, y, false, NULL, NULL), 0);
	const float *z = qgt_trainer_logits(t, NULL);
	ir_tensor in = {IR_DT_F32, g->inputs[0]->shape, x}, out;
	assert_int_equal(ir_interp_run(g, &in, &out, &d), 0);
	for (int i = 0; i < 40; i++)
		assert_float_equal(z[i], ((float *)out.data)[i], 1e-4);
	ir_tensor_free(&out);
	qgt_trainer_destroy(t);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* bn -> relu -> maxpool 2x2/2 -> conv on [3,4,6,13] (an odd width: the
 * pool drops the last column; 6 windows a row: four at a time, then a
 * ragged end), with conv 3x3 in front when conv_in.  Unfused
 * puts identities before the batchnorm and the pool, which keeps the
 * trainer from folding the pool into the batchnorm and the statistics
 * into the conv; acc adds a second reader of the batchnorm's input after
 * it, so its input gradient accumulates. */
static ir_graph *bn_pool_graph(bool fuse, bool acc, bool conv_in)
{
	gb b = gb_new();
	ir_value *x = input(&b, 4, (int64_t[]){3, 4, 6, 13});
	if (conv_in) {
		x = conv(&b, x, 4, 4, 3, 3, true, NULL, (int64_t[]){1, 1, 1, 1}, NULL, 1);
		if (!fuse)
			x = op1(&b, IR_OP_IDENTITY, x);
	}
	ir_value *r = op1(&b, IR_OP_RELU, bn(&b, x, 4));
	if (!fuse)
		r = op1(&b, IR_OP_IDENTITY, r);
	ir_node *mp = op(&b, IR_OP_MAX_POOL, 1, &r);
	ir_node_set_ints(b.g, mp, "kernel", (int64_t[]){2, 2}, 2);
	ir_node_set_ints(b.g, mp, "strides", (int64_t[]){2, 2}, 2);
	ir_value *y = flatten(&b, conv(&b, mp->out[0], 3, 4, 3, 3, true, NULL,
	                               (int64_t[]){1, 1, 1, 1}, NULL, 1));
	if (acc) {
		ir_value *ci[2] = {y, flatten(&b, op1(&b, IR_OP_GLOBAL_AVG_POOL, x))};
		ir_node *cn = op(&b, IR_OP_CONCAT, 2, ci);
		ir_node_set_int(b.g, cn, "axis", 1);
		y = cn->out[0];
	}
	finish(&b, y);
	return b.g;
}

/* The batchnorm with its relu and maxpool fused (and its statistics
 * taken by the conv before it) gives what the ops give apart: loss,
 * every gradient, running statistics, and the inference-mode logits. */
static void test_train_bn_relu_pool_fused(void **state)
{
	(void)state;
	enum { B = 3, NX = 3 * 4 * 6 * 13, CAP = 4096 };
	float x[NX];
	int32_t y[B];
	fill_batch(x, y, B, NX / B, 21);
	for (int mode = 0; mode < 8; mode++) {
		bool frozen = mode & 1, acc = mode & 2, conv_in = mode & 4;
		static float got[2][CAP];
		size_t n[2] = {0, 0};
		for (int v = 0; v < 2; v++) {
			ir_graph *g = bn_pool_graph(v == 0, acc, conv_in);
			qgt_train_config c;
			qgt_train_config_default(&c);
			c.batch = B;
			c.threads = 2;
			c.train_all_consts = true;
			c.input_grad = true;
			c.bn_frozen = frozen;
			diag_sink d;
			diag_sink_init_capture(&d);
			qgt_trainer *t = qgt_trainer_create(g, &c, &d);
			assert_non_null(t);
			double loss;
			assert_int_equal(qgt_trainer_forward(t, x, y, true, &loss, NULL), 0);
			assert_int_equal(qgt_trainer_backward(t), 0);
			float *o = got[v];
			o[n[v]++] = (float)loss;
			for (int i = 0; i < qgt_trainer_nparams(t); i++) {
				qgt_param *p = qgt_trainer_param(t, i);
				for (int64_t e = 0; e < p->n && n[v] + 1 < CAP; e++) {
					o[n[v]++] = p->g[e];
					o[n[v]++] = p->w[e];
				}
			}
			const float *gx = qgt_trainer_input_grad(t);
			for (int64_t e = 0; e < NX && n[v] < CAP; e++)
				o[n[v]++] = gx[e];
			assert_int_equal(qgt_trainer_forward(t, x, y, false, NULL, NULL), 0);
			int64_t k;
			const float *z = qgt_trainer_logits(t, &k);
			for (int64_t e = 0; e < B * k && n[v] < CAP; e++)
				o[n[v]++] = z[e];
			qgt_trainer_destroy(t);
			diag_sink_fini(&d);
			ir_graph_destroy(g);
		}
		assert_int_equal(n[0], n[1]);
		assert_true(n[0] < CAP);
		for (size_t i = 0; i < n[0]; i++)
			if (fabsf(got[0][i] - got[1][i]) > 1e-5f * fmaxf(fabsf(got[0][i]), fabsf(got[1][i])) + 1e-6f)
				fail_msg("mode %d: value %zu: fused %.8g, apart %.8g", mode, i, got[0][i],
				         got[1][i]);
	}
}

/* Train `steps` steps of a fresh small_cnn; weights into w (all params). */
static size_t train_steps(int steps, int threads, float *w, size_t cap)
{
	ir_graph *g = small_cnn(16, 11);
	qgt_train_config c;
	qgt_train_config_default(&c);
	c.batch = 16;
	c.threads = threads;
	c.opt = QGT_OPT_ADAMW;
	c.weight_decay = 0.01f;
	c.lr = 0.01f;
	diag_sink d;
	diag_sink_init_capture(&d);
	qgt_trainer *t = qgt_trainer_create(g, &c, &d);
	assert_non_null(t);
	float x[16 * 144];
	int32_t y[16];
	for (int s = 0; s < steps; s++) {
		fill_batch(x, y, 16, 144, 100 + (uint64_t)s);
		qgt_step_stats st;
		assert_int_equal(qgt_trainer_step(t, x, y, &st), 0);
	}
	size_t k = 0;
	for (int i = 0; i < qgt_trainer_nparams(t); i++) {
		qgt_param *p = qgt_trainer_param(t, i);
		for (int64_t e = 0; e < p->n && k < cap; e++)
			w[k++] = p->w[e];
	}
	/* Running statistics too. */
	for (int i = 0; i < g->nvalues; i++) {
		ir_value *v = g->values[i];
		if (v->kind == IR_VAL_CONST && v->dt == IR_DT_F32)
			for (int64_t e = 0; e < ir_shape_numel(&v->shape) && k < cap; e++)
				w[k++] = ((float *)v->data)[e];
	}
	qgt_trainer_destroy(t);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
	return k;
}

static void test_train_deterministic(void **state)
{
	(void)state;
	enum { CAP = 1 << 14 };
	float *a = malloc(sizeof(float) * CAP), *b = malloc(sizeof(float) * CAP);
	size_t na = train_steps(4, 2, a, CAP), nb = train_steps(4, 2, b, CAP);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, sizeof(float) * na);
	free(a);
	free(b);
}

static void test_train_loss_decreases(void **state)
{
	(void)state;
	/* Fitting one fixed batch must drive the loss down. */
	ir_graph *g = small_cnn(16, 11);
	qgt_train_config c;
	qgt_train_config_default(&c);
	c.batch = 16;
	c.opt = QGT_OPT_ADAM;
	c.lr = 0.02f;
	diag_sink d;
	diag_sink_init_capture(&d);
	qgt_trainer *t = qgt_trainer_create(g, &c, &d);
	float x[16 * 144];
	int32_t y[16];
	fill_batch(x, y, 16, 144, 77);
	qgt_step_stats st;
	assert_int_equal(qgt_trainer_step(t, x, y, &st), 0);
	double first = st.loss;
	for (int s = 0; s < 100; s++)
		assert_int_equal(qgt_trainer_step(t, x, y, &st), 0);
	assert_true(st.loss < 0.5 * first);
	qgt_trainer_destroy(t);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* Distillation: with a teacher the loss is (1 - a) CE(label) + a
 * CE(teacher's softmax) on the model's logits (checked against both
 * models run by the interpreter), and its gradient matches finite
 * differences of that loss.  Batchnorm frozen, rate 0: every step
 * evaluates the same function. */
static void test_train_distill_loss_and_gradient(void **state)
{
	(void)state;
	enum { B = 8, KC = 10 };
	const float a = 0.3f;
	ir_graph *g = small_cnn(B, 3), *tg = small_cnn(B, 4);
	qgt_train_config c;
	qgt_train_config_default(&c);
	c.batch = B;
	c.bn_frozen = true;
	c.lr = 0;
	c.momentum = 0;
	c.teacher = tg;
	c.distill = a;
	diag_sink d;
	diag_sink_init_capture(&d);
	qgt_trainer *t = qgt_trainer_create(g, &c, &d);
	assert_non_null(t);
	float x[B * 144];
	int32_t y[B];
	fill_batch(x, y, B, 144, 21);
	qgt_step_stats st;
	assert_int_equal(qgt_trainer_step(t, x, y, &st), 0);
	/* the loss, from the two models' logits */
	ir_tensor in = {IR_DT_F32, g->inputs[0]->shape, x}, zs, zt;
	assert_int_equal(ir_interp_run(g, &in, &zs, &d), 0);
	assert_int_equal(ir_interp_run(tg, &in, &zt, &d), 0);
	double want = 0;
	for (int i = 0; i < B; i++) {
		const float *s = (const float *)zs.data + i * KC, *u = (const float *)zt.data + i * KC;
		double ms = s[0], mt = u[0], ss = 0, stt = 0;
		for (int j = 1; j < KC; j++) {
			ms = fmax(ms, s[j]);
			mt = fmax(mt, u[j]);
		}
		for (int j = 0; j < KC; j++) {
			ss += exp(s[j] - ms);
			stt += exp(u[j] - mt);
		}
		double lse = ms + log(ss), soft = 0;
		for (int j = 0; j < KC; j++)
			soft += exp(u[j] - mt) / stt * (lse - s[j]);
		want += (1 - a) * (lse - s[y[i]]) + a * soft;
	}
	want /= B;
	assert_float_equal(st.loss, want, 1e-5 * fabs(want) + 1e-6);
	ir_tensor_free(&zs);
	ir_tensor_free(&zt);
	/* the gradient of the classifier's weights and biases against
	 * central differences */
	int checked = 0;
	for (int i = 0; i < qgt_trainer_nparams(t); i++) {
		qgt_param *p = qgt_trainer_param(t, i);
		if (p->node->op != IR_OP_GEMM)
			continue;
		float *g0 = malloc(sizeof(float) * (size_t)p->n);
		assert_non_null(g0);
		memcpy(g0, p->g, sizeof(float) * (size_t)p->n);
		for (int64_t e = 0; e < p->n; e += 7) {
			const float h = 1e-2f;
			float w0 = p->w[e];
			p->w[e] = w0 + h;
			assert_int_equal(qgt_trainer_step(t, x, y, &st), 0);
			double lp = st.loss;
			p->w[e] = w0 - h;
			assert_int_equal(qgt_trainer_step(t, x, y, &st), 0);
			double lm = st.loss;
			p->w[e] = w0;
			assert_float_equal((lp - lm) / (2 * h), g0[e], 2e-4);
			checked++;
		}
		free(g0);
	}
	assert_true(checked >= 20);
	qgt_trainer_destroy(t);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
	ir_graph_destroy(tg);
}

static void test_train_nan_names_step_and_tensor(void **state)
{
	(void)state;
	ir_graph *g = small_cnn(4, 3);
	qgt_train_config c;
	qgt_train_config_default(&c);
	c.batch = 4;
	diag_sink d;
	diag_sink_init_capture(&d);
	qgt_trainer *t = qgt_trainer_create(g, &c, &d);
	float x[4 * 144];
	int32_t y[4];
	fill_batch(x, y, 4, 144, 5);
	qgt_step_stats st;
	assert_int_equal(qgt_trainer_step(t, x, y, &st), 0);
	/* A NaN in the second conv's weights: step 2 must stop, naming it. */
	qgt_param *p = NULL;
	for (int i = 0; i < qgt_trainer_nparams(t); i++)
		if (qgt_trainer_param(t, i)->role == QGT_ROLE_WEIGHT && !p && i > 0)
			p = qgt_trainer_param(t, i);
	assert_non_null(p);
	p->w[3] = NAN;
	assert_int_equal(qgt_trainer_step(t, x, y, &st), -1);
	assert_non_null(d.buf);
	assert_non_null(strstr(d.buf, "step 2:"));
	char want[64];
	snprintf(want, sizeof want, "'%s'", p->v->name);
	assert_non_null(strstr(d.buf, want));
	assert_non_null(strstr(d.buf, "nan"));
	/* An exploding learning rate is caught after the update. */
	diag_sink_fini(&d);
	diag_sink_init_capture(&d);
	p->w[3] = 0.1f;
	qgt_trainer_destroy(t);
	c.lr = 1e38f;
	t = qgt_trainer_create(g, &c, &d);
	int rc = 0;
	for (int s = 0; s < 5 && rc == 0; s++)
		rc = qgt_trainer_step(t, x, y, &st);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(d.buf, "step "));
	qgt_trainer_destroy(t);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_train_unsupported_op_reported(void **state)
{
	(void)state;
	gb b = gb_new();
	ir_value *x = input(&b, 2, (int64_t[]){2, 4});
	ir_value *gi[2] = {x, cst(&b, 2, (int64_t[]){4, 3}, -1, 1)};
	ir_value *y = op(&b, IR_OP_GEMM, 2, gi)->out[0];
	ir_value *ri[2] = {y, NULL};
	ri[1] = cst_i64(&b, 1, (int64_t[]){1});
	ir_node *rm = op(&b, IR_OP_REDUCE_MAX, 2, ri);
	ir_node_set_int(b.g, rm, "keepdims", 1);
	ir_value *gi2[2] = {rm->out[0], cst(&b, 2, (int64_t[]){1, 3}, -1, 1)};
	finish(&b, op(&b, IR_OP_GEMM, 2, gi2)->out[0]);
	qgt_train_config c;
	qgt_train_config_default(&c);
	c.batch = 2;
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_null(qgt_trainer_create(b.g, &c, &d));
	assert_non_null(strstr(d.buf, "reduce_max"));
	diag_sink_fini(&d);
	ir_graph_destroy(b.g);
}

/* ------------------------------------------------------------- regs */

typedef struct l2ctx {
	float lambda;
	int calls;
} l2ctx;

static double l2_apply(void *ctx, qgt_param *p, const qgt_progress *pr)
{
	(void)pr;
	l2ctx *c = ctx;
	if (p->role != QGT_ROLE_WEIGHT)
		return 0;
	c->calls++;
	double r = 0;
	for (int64_t i = 0; i < p->n; i++) {
		r += c->lambda * p->w[i] * p->w[i];
		p->g[i] += 2 * c->lambda * p->w[i];
	}
	return r;
}

static void test_train_regularizer_hook(void **state)
{
	(void)state;
	/* An L2 hook with SGD (no momentum) equals built-in weight decay of
	 * 2 lambda on the weights it touches. */
	ir_graph *g = small_cnn(8, 3);
	l2ctx lc = {0.05f, 0};
	qgt_reg reg = {"l2", l2_apply, NULL, &lc, NULL};
	qgt_train_config c;
	qgt_train_config_default(&c);
	c.batch = 8;
	c.momentum = 0;
	c.regs = &reg;
	c.nregs = 1;
	diag_sink d;
	diag_sink_init_capture(&d);
	qgt_trainer *t = qgt_trainer_create(g, &c, &d);
	float x[8 * 144];
	int32_t y[8];
	fill_batch(x, y, 8, 144, 9);
	qgt_param *p = qgt_trainer_param(t, 0);
	assert_int_equal(p->role, QGT_ROLE_WEIGHT);
	float w0 = p->w[5];
	qgt_step_stats st;
	assert_int_equal(qgt_trainer_step(t, x, y, &st), 0);
	assert_true(st.reg > 0);
	assert_int_equal(lc.calls, 3); /* two convs and the gemm */
	/* w1 = w0 - lr (g_task + 2 lambda w0): recover g_task from g. */
	float g_total = p->g[5];
	assert_float_equal(p->w[5], w0 - c.lr * g_total, 1e-6);
	qgt_trainer_destroy(t);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* --------------------------------------------------------- fake quant */

/* fake_quant(x, s, z) {axis 1 when per channel} on x of shape xs, then
 * a gemm by a fixed [3, features] matrix when `head` (*w gets it), else
 * flattened: the logits. */
static ir_graph *fq_graph(int rank, const int64_t *xs, ir_dtype zdt, int nchan, const float *sc,
                          const void *zp, bool head, ir_value **w)
{
	gb b = gb_new();
	ir_value *x = input(&b, rank, xs);
	int64_t nc = nchan;
	ir_shape sp = ir_shape_make(nchan > 1 ? 1 : 0, &nc);
	ir_value *in[3] = {x, ir_graph_add_const(b.g, "s", IR_DT_F32, &sp, sc),
	                   ir_graph_add_const(b.g, "z", zdt, &sp, zp)};
	ir_node *n = op(&b, IR_OP_FAKE_QUANT, 3, in);
	if (nchan > 1)
		ir_node_set_int(b.g, n, "axis", 1);
	ir_value *y = rank > 2 ? flatten(&b, n->out[0]) : n->out[0];
	if (head) {
		int64_t feat = ir_shape_numel(&x->shape) / xs[0];
		ir_value *gi[2] = {y, cst(&b, 2, (int64_t[]){3, feat}, -1, 1)};
		*w = gi[1];
		ir_node *gm = op(&b, IR_OP_GEMM, 2, gi);
		ir_node_set_int(b.g, gm, "trans_b", 1);
		y = gm->out[0];
	}
	finish(&b, y);
	return b.g;
}

/* The interpreter's rule, element by element (ir/k_quant.c). */
static float fq_rule(float x, float s, int64_t zp, ir_dtype dt)
{
	int64_t lo, hi;
	ir_dtype_range(dt, &lo, &hi);
	double v = ir_quantize_unsat(x, s, zp);
	v = v < (double)lo ? (double)lo : v > (double)hi ? (double)hi : v;
	return ir_dequantize_elem((int64_t)v, s, zp);
}

/* The trainer's fake_quant forward is the interpreter's quantize then
 * dequantize bit for bit (its four-wide rearrangement included): ties to
 * even, saturation, infinities, NaN (to 0), per tensor and per channel,
 * i8/u8/i16, runs with and without a ragged end. */
static void test_train_fake_quant_forward(void **state)
{
	(void)state;
	float s1 = 0.5f, s3[3] = {0.5f, 0.05f, 3.0f}, s16 = 0.001f, su = 0.05f;
	int8_t z8 = 1, z83[3] = {1, -128, 100};
	uint8_t zu = 200;
	int16_t z16 = 0;
	struct {
		int rank;
		int64_t xs[3];
		ir_dtype dt;
		int nchan;
		const float *s;
		const void *z;
	} cfg[] = {
		{2, {3, 9, 0}, IR_DT_I8, 1, &s1, &z8},  {2, {3, 9, 0}, IR_DT_U8, 1, &su, &zu},
		{2, {3, 9, 0}, IR_DT_I16, 1, &s16, &z16}, {3, {3, 3, 6}, IR_DT_I8, 3, s3, z83},
		{2, {4, 3, 0}, IR_DT_I8, 3, s3, z83},
	};
	for (size_t c = 0; c < sizeof cfg / sizeof *cfg; c++) {
		ir_graph *g = fq_graph(cfg[c].rank, cfg[c].xs, cfg[c].dt, cfg[c].nchan, cfg[c].s, cfg[c].z,
		                       false, NULL);
		int64_t B = cfg[c].xs[0], n = ir_shape_numel(&g->inputs[0]->shape);
		int64_t inner = cfg[c].rank > 2 ? cfg[c].xs[2] : 1;
		float x[64];
		uint64_t r = 11 + c;
		for (int64_t i = 0; i < n; i++) {
			int64_t ch = cfg[c].nchan > 1 ? (i / inner) % cfg[c].nchan : 0;
			float sc = cfg[c].s[ch];
			switch (i % 9) {
			case 0: x[i] = (float)(qgt_rng_below(&r, 41) - 20) * sc + 0.5f * sc; break; /* tie */
			case 1: x[i] = 1e6f; break;
			case 2: x[i] = -1e6f; break;
			case 3: x[i] = i % 2 ? INFINITY : -INFINITY; break;
			case 4: x[i] = NAN; break;
			case 5: x[i] = -0.2f * sc; break;
			default: x[i] = (float)((double)(qgt_rng_next(&r) >> 11) / 9007199254740992.0 * 80 - 40) * sc;
			}
		}
		qgt_train_config tc;
		qgt_train_config_default(&tc);
		tc.batch = B;
		tc.threads = 2;
		diag_sink d;
		diag_sink_init_capture(&d);
		qgt_trainer *t = qgt_trainer_create(g, &tc, &d);
		if (!t)
			fail_msg("%s", d.buf ? d.buf : "");
		int32_t y[4] = {0, 0, 0, 0};
		assert_int_equal(qgt_trainer_forward(t, x, y, true, NULL, NULL), 0);
		const float *z = qgt_trainer_logits(t, NULL);
		ir_tensor in = {IR_DT_F32, g->inputs[0]->shape, x}, out;
		assert_int_equal(ir_interp_run(g, &in, &out, &d), 0);
		for (int64_t i = 0; i < n; i++) {
			int64_t ch = cfg[c].nchan > 1 ? (i / inner) % cfg[c].nchan : 0;
			int64_t zp = cfg[c].dt == IR_DT_U8 ? ((const uint8_t *)cfg[c].z)[ch]
			             : cfg[c].dt == IR_DT_I16 ? ((const int16_t *)cfg[c].z)[ch]
			                                      : ((const int8_t *)cfg[c].z)[ch];
			float want = fq_rule(x[i], cfg[c].s[ch], zp, cfg[c].dt);
			float ip = ((const float *)out.data)[i];
			if (memcmp(&z[i], &want, 4) || memcmp(&ip, &want, 4))
				fail_msg("config %zu element %lld (x %g): trainer %.9g, interpreter %.9g, rule %.9g",
				         c, (long long)i, (double)x[i], (double)z[i], (double)ip, (double)want);
		}
		ir_tensor_free(&out);
		qgt_trainer_destroy(t);
		diag_sink_fini(&d);
		ir_graph_destroy(g);
	}
}

/* Its backward is the clipped straight-through estimator: the gradient
 * reaching x is the gradient of the same network fed fake_quant(x), where
 * x / s rounds inside the integer range, and 0 where it saturates, at
 * both ends and on the ties that round out of or into the range. */
static void test_train_fake_quant_ste(void **state)
{
	(void)state;
	/* i8, s 0.25, zp -100: x / s rounds into [-28, 227] */
	float sc = 0.25f;
	int8_t zp = -100;
	enum { B = 3, C = 7, N = B * C }; /* five four-wide runs and a ragged end */
	float x[N] = {
		-10.0f, 60.0f,   56.8f,  56.9f,  -7.1f, -7.2f, /* out, out, 227.2 in, 227.6 out, in, out */
		56.875f, -7.125f, 0.3f, -0.3f, 1.0f,  -3.0f,   /* ties: 227.5 -> 228 out, -28.5 -> -28 in */
	};
	uint64_t r = 3;
	for (int i = 12; i < N; i++)
		x[i] = (float)((double)(qgt_rng_next(&r) >> 11) / 9007199254740992.0 * 80 - 12);
	x[N - 1] = 70.0f; /* clipped, in the ragged end */
	int32_t y[B] = {0, 1, 2};
	qgt_train_config tc;
	qgt_train_config_default(&tc);
	tc.batch = B;
	tc.input_grad = true;
	tc.threads = 2;
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_value *w;
	ir_graph *g = fq_graph(2, (int64_t[]){B, C}, IR_DT_I8, 1, &sc, &zp, true, &w);
	qgt_trainer *t = qgt_trainer_create(g, &tc, &d);
	if (!t)
		fail_msg("%s", d.buf ? d.buf : "");
	assert_int_equal(qgt_trainer_forward(t, x, y, true, NULL, NULL), 0);
	assert_int_equal(qgt_trainer_backward(t), 0);
	/* the same gemm on fake_quant(x), no quantizer */
	float xq[N];
	for (int i = 0; i < N; i++)
		xq[i] = fq_rule(x[i], sc, zp, IR_DT_I8);
	gb b = gb_new();
	ir_value *gi[2] = {input(&b, 2, (int64_t[]){B, C}),
	                   ir_graph_add_const(b.g, "w", IR_DT_F32, &w->shape, w->data)};
	ir_node *gm = op(&b, IR_OP_GEMM, 2, gi);
	ir_node_set_int(b.g, gm, "trans_b", 1);
	finish(&b, gm->out[0]);
	qgt_trainer *t2 = qgt_trainer_create(b.g, &tc, &d);
	assert_non_null(t2);
	assert_int_equal(qgt_trainer_forward(t2, xq, y, true, NULL, NULL), 0);
	assert_int_equal(qgt_trainer_backward(t2), 0);
	const float *gx = qgt_trainer_input_grad(t), *gref = qgt_trainer_input_grad(t2);
	int clipped = 0, passed = 0;
	for (int i = 0; i < N; i++) {
		double u = ir_quantize_unsat(x[i], sc, zp);
		bool inside = u >= -128 && u <= 127;
		float want = inside ? gref[i] : 0.0f;
		if (gx[i] != want)
			fail_msg("x[%d] = %g (x / s rounds to %g): gradient %.9g, want %.9g (%s)", i,
			         (double)x[i], u - zp, (double)gx[i], (double)want, inside ? "inside" : "clipped");
		clipped += !inside && gref[i] != 0;
		passed += inside && gref[i] != 0;
	}
	/* the cases that tell the estimator apart from identity and from 0 */
	assert_true(clipped >= 6);
	assert_true(passed >= 6);
	/* the kernel's gradient: the same as on fake_quant(x) */
	const qgt_param *p = qgt_trainer_param(t, 0), *p2 = qgt_trainer_param(t2, 0);
	assert_int_equal(p->n, p2->n);
	for (int64_t k = 0; k < p->n; k++)
		assert_true(p->g[k] == p2->g[k]);
	qgt_trainer_destroy(t);
	qgt_trainer_destroy(t2);
	ir_graph_destroy(g);
	ir_graph_destroy(b.g);
	diag_sink_fini(&d);
}

/* With act_ema, a training-mode forward first moves the grid's range
 * toward the batch's min and max and quantizes on the grid that gives
 * (quantize-act's derivation); inference-mode forwards leave it. */
static void test_train_fake_quant_ema(void **state)
{
	(void)state;
	float sc = 0.02f;
	int8_t zp = -28; /* covers [-2.0, 3.1] */
	ir_graph *g = fq_graph(2, (int64_t[]){2, 4}, IR_DT_I8, 1, &sc, &zp, false, NULL);
	qgt_train_config tc;
	qgt_train_config_default(&tc);
	tc.batch = 2;
	tc.act_ema = 0.25f;
	diag_sink d;
	diag_sink_init_capture(&d);
	qgt_trainer *t = qgt_trainer_create(g, &tc, &d);
	assert_non_null(t);
	float x[8] = {-4.0f, 7.0f, 0.5f, 1.0f, -1.0f, 2.0f, 3.0f, 0.0f};
	int32_t y[2] = {0, 1};
	const ir_value *s = ir_graph_find_value(g, "s"), *z = ir_graph_find_value(g, "z");
	assert_int_equal(qgt_trainer_forward(t, x, y, false, NULL, NULL), 0);
	assert_true(*(float *)s->data == sc && *(int8_t *)z->data == zp);
	assert_int_equal(qgt_trainer_forward(t, x, y, true, NULL, NULL), 0);
	float ws;
	int32_t wz;
	/* [-2.0, 3.1] a quarter of the way to [-4, 7] */
	pass_act_params(-2.0 + 0.25 * (-4.0 + 2.0), 3.1 + 0.25 * (7.0 - 3.1), IR_DT_I8, &ws, &wz);
	assert_float_equal(*(float *)s->data, ws, 1e-7);
	assert_int_equal(*(int8_t *)z->data, wz);
	assert_true(ws > sc);
	const float *out = qgt_trainer_logits(t, NULL);
	for (int i = 0; i < 8; i++)
		assert_true(out[i] == fq_rule(x[i], *(float *)s->data, *(int8_t *)z->data, IR_DT_I8));
	qgt_trainer_destroy(t);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* --------------------------------------------------------------- data */

static void test_train_shuffle_and_augment(void **state)
{
	(void)state;
	int64_t idx[100], idx2[100];
	for (int i = 0; i < 100; i++)
		idx[i] = idx2[i] = i;
	uint64_t s1 = 42, s2 = 42;
	qgt_shuffle(idx, 100, &s1);
	qgt_shuffle(idx2, 100, &s2);
	assert_memory_equal(idx, idx2, sizeof idx);
	int64_t sum = 0, moved = 0;
	for (int i = 0; i < 100; i++) {
		sum += idx[i];
		moved += idx[i] != i;
	}
	assert_int_equal(sum, 4950);
	assert_true(moved > 80);
	/* Crop by up to 1 and flip: pixels stay from the image or are 0. */
	float img[2 * 4 * 4];
	int32_t lab[2] = {3, 4};
	for (int i = 0; i < 32; i++)
		img[i] = (float)(i + 1);
	qgt_dataset ds = {.n = 2, .sample = ir_shape_make(3, (int64_t[]){2, 4, 4}), .sample_numel = 32,
	                  .x = img, .y = lab, .nclasses = 5};
	float out[32];
	int32_t y[1];
	int64_t one = 0;
	uint64_t s = 1;
	bool saw_change = false;
	for (int k = 0; k < 20; k++) {
		qgt_gather_batch(&ds, &one, 1, out, y, 1, true, &s);
		assert_int_equal(y[0], 3);
		for (int i = 0; i < 32; i++) {
			assert_true(out[i] == 0 || (out[i] >= 1 && out[i] <= 32));
			/* Channels stay apart: plane 0 holds 1..16, plane 1 17..32. */
			if (out[i] != 0)
				assert_true((i < 16) == (out[i] <= 16));
			saw_change |= out[i] != img[i];
		}
	}
	assert_true(saw_change);
	qgt_gather_batch(&ds, &one, 1, out, y, 0, false, &s);
	assert_memory_equal(out, img, sizeof out);
}

/* --------------------------------------------------------- onnx write */

static void test_train_onnx_write_round_trip(void **state)
{
	(void)state;
	ir_graph *g = small_cnn(4, 3);
	diag_sink d;
	diag_sink_init_capture(&d);
	void *buf;
	size_t len;
	assert_int_equal(fe_onnx_write_buffer(g, &buf, &len, &d), 0);
	ir_graph *h = fe_onnx_load_buffer(buf, len, "rt.onnx", NULL, &d);
	if (!h)
		fail_msg("%s", d.buf ? d.buf : "");
	free(buf);
	assert_int_equal(ir_infer_shapes(h, &d), 0);
	float x[4 * 144];
	int32_t y[4];
	fill_batch(x, y, 4, 144, 5);
	ir_tensor in = {IR_DT_F32, g->inputs[0]->shape, x}, o1, o2;
	assert_int_equal(ir_interp_run(g, &in, &o1, &d), 0);
	assert_int_equal(ir_interp_run(h, &in, &o2, &d), 0);
	assert_memory_equal(o1.data, o2.data, sizeof(float) * 40);
	ir_tensor_free(&o1);
	ir_tensor_free(&o2);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
	ir_graph_destroy(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_train_grad_conv),
		cmocka_unit_test(test_train_grad_conv_transpose),
		cmocka_unit_test(test_train_grad_gemm),
		cmocka_unit_test(test_train_grad_batchnorm),
		cmocka_unit_test(test_train_batchnorm_running_stats),
		cmocka_unit_test(test_train_grad_layer_norm),
		cmocka_unit_test(test_train_grad_instance_norm),
		cmocka_unit_test(test_train_layer_norm_params),
		cmocka_unit_test(test_train_grad_activations),
		cmocka_unit_test(test_train_grad_pools),
		cmocka_unit_test(test_train_grad_arith),
		cmocka_unit_test(test_train_grad_pow),
		cmocka_unit_test(test_train_pow_computed_exponent),
		cmocka_unit_test(test_train_grad_shape_ops),
		cmocka_unit_test(test_train_grad_data_movement),
		cmocka_unit_test(test_train_grad_dropout_softmax),
		cmocka_unit_test(test_train_dropout_masks),
		cmocka_unit_test(test_train_optim_sgd_momentum),
		cmocka_unit_test(test_train_optim_adam),
		cmocka_unit_test(test_train_schedules),
		cmocka_unit_test(test_train_forward_matches_interpreter),
		cmocka_unit_test(test_train_bn_relu_pool_fused),
		cmocka_unit_test(test_train_deterministic),
		cmocka_unit_test(test_train_loss_decreases),
		cmocka_unit_test(test_train_distill_loss_and_gradient),
		cmocka_unit_test(test_train_nan_names_step_and_tensor),
		cmocka_unit_test(test_train_unsupported_op_reported),
		cmocka_unit_test(test_train_regularizer_hook),
		cmocka_unit_test(test_train_fake_quant_forward),
		cmocka_unit_test(test_train_fake_quant_ste),
		cmocka_unit_test(test_train_fake_quant_ema),
		cmocka_unit_test(test_train_shuffle_and_augment),
		cmocka_unit_test(test_train_onnx_write_round_trip),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	fprintf(stderr, "test_train: %d finite-difference comparisons\n", nchecked);
	return rc;
}
