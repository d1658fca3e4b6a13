/* test_kernels_b.c: shape inference and reference evaluation of the
 * elementwise, data-movement and reduction kernels (k_elementwise.c,
 * k_shape.c, k_reduce.c), on tiny graphs built through the ir.h API.
 * Expected values are worked out by hand in the comments. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ir.h"

/* ------------------------------------------------------------- helpers */

static ir_shape shp(int rank, ...)
{
	ir_shape s = {.rank = rank};
	va_list ap;
	va_start(ap, rank);
	for (int i = 0; i < rank; i++)
		s.d[i] = va_arg(ap, int);
	va_end(ap);
	return s;
}

/* A graph input. */
static ir_value *input(ir_graph *g, const char *name, ir_dtype dt, ir_shape s)
{
	ir_value *v = ir_graph_add_value(g, name, dt, &s);
	ir_graph_add_input(g, v);
	return v;
}

static ir_value *cst(ir_graph *g, const char *name, ir_dtype dt, ir_shape s, const void *data)
{
	return ir_graph_add_const(g, name, dt, &s, data);
}

/* 1-D i64 constant of n elements. */
static ir_value *ints(ir_graph *g, const char *name, int n, const int64_t *v)
{
	return cst(g, name, IR_DT_I64, shp(1, n), v);
}

/* A node with one output, which becomes a graph output. */
static ir_node *node(ir_graph *g, ir_op op, ir_value *y, int nin, ...)
{
	ir_value *in[8];
	va_list ap;
	va_start(ap, nin);
	for (int i = 0; i < nin; i++)
		in[i] = va_arg(ap, ir_value *);
	va_end(ap);
	ir_node *n = ir_graph_add_node(g, op, NULL, nin, in, 1, &y);
	ir_graph_add_output(g, y);
	return n;
}

static ir_value *out(ir_graph *g, const char *name)
{
	return ir_graph_add_value(g, name, IR_DT_UNDEF, NULL);
}

static int infer(ir_graph *g, diag_sink *d)
{
	if (ir_graph_toposort(g, d))
		return -1;
	return ir_infer_shapes(g, d);
}

/* Infer then interpret; ins feed g->inputs in order. */
static int run(ir_graph *g, const ir_tensor *ins, ir_tensor *outs, diag_sink *d)
{
	if (infer(g, d))
		return -1;
	return ir_interp_run(g, ins, outs, d);
}

static void assert_shape(const ir_value *v, ir_shape want)
{
	char a[96], b[96];
	if (!ir_shape_eq(&v->shape, &want))
		fail_msg("shape %s, want %s", ir_shape_str(&v->shape, a, sizeof a),
		         ir_shape_str(&want, b, sizeof b));
}

static void assert_floats(const ir_tensor *t, const float *want, int n, float tol)
{
	assert_int_equal(t->dt, IR_DT_F32);
	assert_int_equal(ir_shape_numel(&t->shape), n);
	const float *p = t->data;
	for (int i = 0; i < n; i++)
		if (!(fabsf(p[i] - want[i]) <= tol))
			fail_msg("element %d: got %.9g, want %.9g", i, p[i], want[i]);
}

static void assert_i64s(const ir_tensor *t, const int64_t *want, int n)
{
	assert_int_equal(t->dt, IR_DT_I64);
	assert_int_equal(ir_shape_numel(&t->shape), n);
	for (int i = 0; i < n; i++)
		assert_int_equal(((const int64_t *)t->data)[i], want[i]);
}

static void assert_error(diag_sink *d, const char *substr)
{
	assert_true(d->nerr > 0);
	if (!d->buf || !strstr(d->buf, substr))
		fail_msg("diagnostics '%s' lack '%s'", d->buf ? d->buf : "", substr);
}

/* Build, run and check a single-input f32 op in one go. */
static void check_unary(ir_op op, const float *x, const float *want, int n, float tol,
                        void (*attrs)(ir_graph *, ir_node *))
{
	ir_graph *g = ir_graph_create("t");
	ir_value *xv = input(g, "x", IR_DT_F32, shp(1, n));
	ir_node *nd = node(g, op, out(g, "y"), 1, xv);
	if (attrs)
		attrs(g, nd);
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_tensor in = {IR_DT_F32, shp(1, n), (void *)x}, o;
	if (run(g, &in, &o, &d))
		fail_msg("%s", d.buf ? d.buf : "run failed");
	assert_floats(&o, want, n, tol);
	ir_tensor_free(&o);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* ------------------------------------------------------- activations */

static void test_kernels_b_relu_keeps_positive(void **state)
{
	(void)state;
	const float x[] = {-1.5f, 0.0f, 2.0f};
	const float y[] = {0.0f, 0.0f, 2.0f};
	check_unary(IR_OP_RELU, x, y, 3, 0, NULL);
}

static void test_kernels_b_sigmoid_stable_at_extremes(void **state)
{
	(void)state;
	/* sigmoid(0) = 0.5; sigmoid(+-100) saturates to 1 and 0 without NaN;
	 * sigmoid(2) = 1 / (1 + e^-2) = 0.880797 */
	const float x[] = {0.0f, 100.0f, -100.0f, 2.0f};
	const float y[] = {0.5f, 1.0f, 0.0f, 0.88079708f};
	check_unary(IR_OP_SIGMOID, x, y, 4, 1e-6f, NULL);
}

static void test_kernels_b_tanh_values(void **state)
{
	(void)state;
	/* tanh(1) = 0.7615942, tanh(-1) = -0.7615942 */
	const float x[] = {0.0f, 1.0f, -1.0f};
	const float y[] = {0.0f, 0.76159416f, -0.76159416f};
	check_unary(IR_OP_TANH, x, y, 3, 1e-6f, NULL);
}

static void test_kernels_b_leaky_relu_default_alpha(void **state)
{
	(void)state;
	/* alpha defaults to 0.01: -2 -> -0.02 */
	const float x[] = {-2.0f, 3.0f};
	const float y[] = {-0.02f, 3.0f};
	check_unary(IR_OP_LEAKY_RELU, x, y, 2, 1e-7f, NULL);
}

static void hs_attrs(ir_graph *g, ir_node *n)
{
	ir_node_set_float(g, n, "alpha", 0.5f);
}

static void test_kernels_b_hard_sigmoid_defaults_and_alpha(void **state)
{
	(void)state;
	/* defaults alpha 0.2, beta 0.5: x=1 -> 0.7, x=-5 -> clamp(-0.5) = 0,
	 * x=5 -> clamp(1.5) = 1 */
	const float x[] = {1.0f, -5.0f, 5.0f};
	const float y[] = {0.7f, 0.0f, 1.0f};
	check_unary(IR_OP_HARD_SIGMOID, x, y, 3, 1e-6f, NULL);
	/* alpha 0.5: x=0.5 -> 0.75 */
	const float x2[] = {0.5f};
	const float y2[] = {0.75f};
	check_unary(IR_OP_HARD_SIGMOID, x2, y2, 1, 1e-6f, hs_attrs);
}

static void test_kernels_b_hard_swish_values(void **state)
{
	(void)state;
	/* x * clamp(x/6 + 0.5, 0, 1): 3 -> 3*1 = 3; -3 -> 0; 1 -> 1*(2/3);
	 * -1 -> -1 * (1/3) */
	const float x[] = {3.0f, -3.0f, 1.0f, -1.0f};
	const float y[] = {3.0f, 0.0f, 0.6666667f, -0.3333333f};
	check_unary(IR_OP_HARD_SWISH, x, y, 4, 1e-6f, NULL);
}

static void test_kernels_b_float_op_rejects_int(void **state)
{
	(void)state;
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_I32, shp(1, 3));
	node(g, IR_OP_SIGMOID, out(g, "y"), 1, x);
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), -1);
	assert_error(&d, "dtype i32 is not supported");
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* ----------------------------------------------------------- binary */

static void test_kernels_b_add_broadcasts_symbolic(void **state)
{
	(void)state;
	/* [?,3,1] + [4] -> [?,3,4] */
	ir_graph *g = ir_graph_create("t");
	ir_value *a = input(g, "a", IR_DT_F32, shp(3, IR_DIM_SYM, 3, 1));
	ir_value *b = input(g, "b", IR_DT_F32, shp(1, 4));
	ir_value *y = out(g, "y");
	node(g, IR_OP_ADD, y, 2, a, b);
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), 0);
	assert_shape(y, shp(3, IR_DIM_SYM, 3, 4));
	assert_int_equal(y->dt, IR_DT_F32);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_binary_values_broadcast(void **state)
{
	(void)state;
	/* a [2,1] = {1,2}, b [3] = {10,20,30}:
	 * a+b = [[11,21,31],[12,22,32]], a-b = [[-9,-19,-29],[-8,-18,-28]],
	 * a*b = [[10,20,30],[20,40,60]], a/b = [[.1,.05,.0333],[.2,.1,.0667]] */
	const ir_op ops[4] = {IR_OP_ADD, IR_OP_SUB, IR_OP_MUL, IR_OP_DIV};
	const float want[4][6] = {
		{11, 21, 31, 12, 22, 32},
		{-9, -19, -29, -8, -18, -28},
		{10, 20, 30, 20, 40, 60},
		{0.1f, 0.05f, 1.0f / 30, 0.2f, 0.1f, 2.0f / 30},
	};
	const float av[] = {1, 2}, bv[] = {10, 20, 30};
	for (int k = 0; k < 4; k++) {
		ir_graph *g = ir_graph_create("t");
		ir_value *a = input(g, "a", IR_DT_F32, shp(2, 2, 1));
		ir_value *b = cst(g, "b", IR_DT_F32, shp(1, 3), bv);
		ir_value *y = out(g, "y");
		node(g, ops[k], y, 2, a, b);
		diag_sink d;
		diag_sink_init_capture(&d);
		ir_tensor in = {IR_DT_F32, shp(2, 2, 1), (void *)av}, o;
		assert_int_equal(run(g, &in, &o, &d), 0);
		assert_shape(y, shp(2, 2, 3));
		assert_floats(&o, want[k], 6, 1e-6f);
		ir_tensor_free(&o);
		diag_sink_fini(&d);
		ir_graph_destroy(g);
	}
}

static void test_kernels_b_binary_bad_broadcast(void **state)
{
	(void)state;
	ir_graph *g = ir_graph_create("t");
	ir_value *a = input(g, "a", IR_DT_F32, shp(2, 3, 4));
	ir_value *b = input(g, "b", IR_DT_F32, shp(1, 5));
	node(g, IR_OP_MUL, out(g, "y"), 2, a, b);
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), -1);
	assert_error(&d, "cannot broadcast [3,4] with [5]");
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_binary_dtype_mismatch(void **state)
{
	(void)state;
	ir_graph *g = ir_graph_create("t");
	ir_value *a = input(g, "a", IR_DT_F32, shp(1, 2));
	ir_value *b = input(g, "b", IR_DT_I64, shp(1, 2));
	node(g, IR_OP_ADD, out(g, "y"), 2, a, b);
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), -1);
	assert_error(&d, "operand dtypes differ: f32 and i64");
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_int_div_truncates(void **state)
{
	(void)state;
	/* ONNX integer Div truncates toward zero: 7/2=3, -7/2=-3, 8/-3=-2,
	 * -8/3=-2 (floor division would give -4, -3, -3). */
	const int64_t av[] = {7, -7, 8, -8}, bv[] = {2, 2, -3, 3};
	ir_graph *g = ir_graph_create("t");
	ir_value *a = input(g, "a", IR_DT_I64, shp(1, 4));
	ir_value *b = ints(g, "b", 4, bv);
	node(g, IR_OP_DIV, out(g, "y"), 2, a, b);
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_tensor in = {IR_DT_I64, shp(1, 4), (void *)av}, o;
	assert_int_equal(run(g, &in, &o, &d), 0);
	const int64_t want[] = {3, -3, -2, -2};
	assert_i64s(&o, want, 4);
	ir_tensor_free(&o);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_int_div_by_zero_reports(void **state)
{
	(void)state;
	const int32_t av[] = {1, 2}, bv[] = {1, 0};
	ir_graph *g = ir_graph_create("t");
	ir_value *a = input(g, "a", IR_DT_I32, shp(1, 2));
	ir_value *b = cst(g, "b", IR_DT_I32, shp(1, 2), bv);
	node(g, IR_OP_DIV, out(g, "y"), 2, a, b);
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_tensor in = {IR_DT_I32, shp(1, 2), (void *)av}, o;
	assert_int_equal(run(g, &in, &o, &d), -1);
	assert_error(&d, "integer division by zero");
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_int_mul_i32_wraps(void **state)
{
	(void)state;
	/* i32: 65536 * 65536 = 2^32 wraps to 0; -3 * 4 = -12 */
	const int32_t av[] = {65536, -3}, bv[] = {65536, 4};
	ir_graph *g = ir_graph_create("t");
	ir_value *a = input(g, "a", IR_DT_I32, shp(1, 2));
	ir_value *b = cst(g, "b", IR_DT_I32, shp(1, 2), bv);
	node(g, IR_OP_MUL, out(g, "y"), 2, a, b);
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_tensor in = {IR_DT_I32, shp(1, 2), (void *)av}, o;
	assert_int_equal(run(g, &in, &o, &d), 0);
	assert_int_equal(((int32_t *)o.data)[0], 0);
	assert_int_equal(((int32_t *)o.data)[1], -12);
	ir_tensor_free(&o);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* -------------------------------------------------- prelu, clip, bn */

static void test_kernels_b_prelu_per_channel_legacy_slope(void **state)
{
	(void)state;
	/* X [1,2,3], slope [2] (old PyTorch export): channel 0 slope 0.1,
	 * channel 1 slope 0.5.  x = [[-1,2,-3],[-4,5,-6]]
	 * -> [[-0.1,2,-0.3],[-2,5,-3]] */
	const float xv[] = {-1, 2, -3, -4, 5, -6}, sv[] = {0.1f, 0.5f};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(3, 1, 2, 3));
	ir_value *s = cst(g, "s", IR_DT_F32, shp(1, 2), sv);
	ir_value *y = out(g, "y");
	node(g, IR_OP_PRELU, y, 2, x, s);
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_tensor in = {IR_DT_F32, shp(3, 1, 2, 3), (void *)xv}, o;
	assert_int_equal(run(g, &in, &o, &d), 0);
	assert_shape(y, shp(3, 1, 2, 3));
	const float want[] = {-0.1f, 2, -0.3f, -2, 5, -3};
	assert_floats(&o, want, 6, 1e-6f);
	ir_tensor_free(&o);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_prelu_numpy_broadcast_slope(void **state)
{
	(void)state;
	/* X [2,2], slope [2] broadcasts along the last axis the numpy way:
	 * x = [[-1,-1],[-2,4]], slope {0.5, 0.25} -> [[-0.5,-0.25],[-1,4]] */
	const float xv[] = {-1, -1, -2, 4}, sv[] = {0.5f, 0.25f};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(2, 2, 2));
	ir_value *s = cst(g, "s", IR_DT_F32, shp(1, 2), sv);
	node(g, IR_OP_PRELU, out(g, "y"), 2, x, s);
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_tensor in = {IR_DT_F32, shp(2, 2, 2), (void *)xv}, o;
	assert_int_equal(run(g, &in, &o, &d), 0);
	const float want[] = {-0.5f, -0.25f, -1, 4};
	assert_floats(&o, want, 4, 1e-7f);
	ir_tensor_free(&o);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_prelu_bad_slope(void **state)
{
	(void)state;
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(3, 1, 2, 3));
	ir_value *s = cst(g, "s", IR_DT_F32, shp(1, 4), NULL);
	node(g, IR_OP_PRELU, out(g, "y"), 2, x, s);
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), -1);
	assert_error(&d, "slope [4] does not broadcast to input [1,2,3]");
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_clip_optional_bounds(void **state)
{
	(void)state;
	/* min only (0): {-2, 0.5, 9} -> {0, 0.5, 9}; with max 1 too -> {0,0.5,1} */
	const float xv[] = {-2, 0.5f, 9}, lo = 0, hi = 1;
	for (int with_max = 0; with_max < 2; with_max++) {
		ir_graph *g = ir_graph_create("t");
		ir_value *x = input(g, "x", IR_DT_F32, shp(1, 3));
		ir_value *mn = cst(g, "mn", IR_DT_F32, shp(0), &lo);
		ir_value *mx = with_max ? cst(g, "mx", IR_DT_F32, shp(0), &hi) : NULL;
		node(g, IR_OP_CLIP, out(g, "y"), 3, x, mn, mx);
		diag_sink d;
		diag_sink_init_capture(&d);
		ir_tensor in = {IR_DT_F32, shp(1, 3), (void *)xv}, o;
		assert_int_equal(run(g, &in, &o, &d), 0);
		const float want[2][3] = {{0, 0.5f, 9}, {0, 0.5f, 1}};
		assert_floats(&o, want[with_max], 3, 0);
		ir_tensor_free(&o);
		diag_sink_fini(&d);
		ir_graph_destroy(g);
	}
}

static void test_kernels_b_clip_int64(void **state)
{
	(void)state;
	/* i64 clip to [0, 10] (PyTorch clamps on shape arithmetic):
	 * {-5, 3, 99} -> {0, 3, 10} */
	const int64_t xv[] = {-5, 3, 99}, lo = 0, hi = 10;
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_I64, shp(1, 3));
	ir_value *mn = cst(g, "mn", IR_DT_I64, shp(0), &lo);
	ir_value *mx = cst(g, "mx", IR_DT_I64, shp(0), &hi);
	node(g, IR_OP_CLIP, out(g, "y"), 3, x, mn, mx);
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_tensor in = {IR_DT_I64, shp(1, 3), (void *)xv}, o;
	assert_int_equal(run(g, &in, &o, &d), 0);
	const int64_t want[] = {0, 3, 10};
	assert_i64s(&o, want, 3);
	ir_tensor_free(&o);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_batchnorm_inference(void **state)
{
	(void)state;
	/* X [1,2,2]: channel 0 {1,3}, channel 1 {2,4}.
	 * scale {2,1}, B {0,1}, mean {1,2}, var {4,0.25}, eps 0:
	 * ch0: 2*(x-1)/2 + 0 -> {0, 2}; ch1: 1*(x-2)/0.5 + 1 -> {1, 5} */
	const float xv[] = {1, 3, 2, 4};
	const float sc[] = {2, 1}, bi[] = {0, 1}, me[] = {1, 2}, va[] = {4, 0.25f};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(3, 1, 2, 2));
	ir_value *y = out(g, "y");
	ir_node *n = node(g, IR_OP_BATCHNORM, y, 5, x, cst(g, "s", IR_DT_F32, shp(1, 2), sc),
	                  cst(g, "b", IR_DT_F32, shp(1, 2), bi), cst(g, "m", IR_DT_F32, shp(1, 2), me),
	                  cst(g, "v", IR_DT_F32, shp(1, 2), va));
	ir_node_set_float(g, n, "epsilon", 0);
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_tensor in = {IR_DT_F32, shp(3, 1, 2, 2), (void *)xv}, o;
	assert_int_equal(run(g, &in, &o, &d), 0);
	const float want[] = {0, 2, 1, 5};
	assert_floats(&o, want, 4, 1e-6f);
	ir_tensor_free(&o);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_batchnorm_bad_param_shape(void **state)
{
	(void)state;
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(4, IR_DIM_SYM, 3, 2, 2));
	ir_value *p3 = cst(g, "p3", IR_DT_F32, shp(1, 3), NULL);
	ir_value *p4 = cst(g, "p4", IR_DT_F32, shp(1, 4), NULL);
	node(g, IR_OP_BATCHNORM, out(g, "y"), 5, x, p3, p3, p3, p4);
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), -1);
	assert_error(&d, "var has shape [4], expected [3]");
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* -------------------------------------------- identity, dropout, cast */

static void test_kernels_b_dropout_is_identity_with_true_mask(void **state)
{
	(void)state;
	const float xv[] = {1, -2, 3};
	const float ratio = 0.5f;
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(1, 3));
	ir_value *r = cst(g, "r", IR_DT_F32, shp(0), &ratio);
	ir_value *outs[2] = {out(g, "y"), out(g, "mask")};
	ir_value *ins[2] = {x, r};
	ir_graph_add_node(g, IR_OP_DROPOUT, NULL, 2, ins, 2, outs);
	ir_graph_add_output(g, outs[0]);
	ir_graph_add_output(g, outs[1]);
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_tensor in = {IR_DT_F32, shp(1, 3), (void *)xv}, o[2];
	assert_int_equal(run(g, &in, o, &d), 0);
	assert_floats(&o[0], xv, 3, 0);
	assert_int_equal(o[1].dt, IR_DT_BOOL);
	for (int i = 0; i < 3; i++)
		assert_int_equal(((uint8_t *)o[1].data)[i], 1);
	ir_tensor_free(&o[0]);
	ir_tensor_free(&o[1]);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_dropout_training_unsupported(void **state)
{
	(void)state;
	const uint8_t on = 1;
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(1, 3));
	ir_value *t = cst(g, "t", IR_DT_BOOL, shp(0), &on);
	node(g, IR_OP_DROPOUT, out(g, "y"), 3, x, NULL, t);
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), -1);
	assert_error(&d, "training mode is not supported");
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_identity_copies_i64(void **state)
{
	(void)state;
	const int64_t xv[] = {5, -6};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_I64, shp(1, 2));
	node(g, IR_OP_IDENTITY, out(g, "y"), 1, x);
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_tensor in = {IR_DT_I64, shp(1, 2), (void *)xv}, o;
	assert_int_equal(run(g, &in, &o, &d), 0);
	assert_i64s(&o, xv, 2);
	ir_tensor_free(&o);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* Cast x (f32) to `to` and return the output (caller frees). */
static ir_tensor cast_f32(const char *to, const float *xv, int n)
{
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(1, n));
	ir_node *nd = node(g, IR_OP_CAST, out(g, "y"), 1, x);
	ir_node_set_str(g, nd, "to", to);
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_tensor in = {IR_DT_F32, shp(1, n), (void *)xv}, o;
	if (run(g, &in, &o, &d))
		fail_msg("%s", d.buf ? d.buf : "run failed");
	diag_sink_fini(&d);
	ir_graph_destroy(g);
	return o;
}

static void test_kernels_b_cast_truncates_and_bools(void **state)
{
	(void)state;
	/* f32 -> i32 truncates toward zero: 2.9 -> 2, -1.7 -> -1; NaN -> 0
	 * (out of range is undefined in ONNX; we pick 0).
	 * f32 -> bool: nonzero is true: {0, -0.5, 3} -> {0, 1, 1}. */
	const float xv[] = {2.9f, -1.7f, NAN};
	ir_tensor o = cast_f32("i32", xv, 3);
	assert_int_equal(o.dt, IR_DT_I32);
	assert_int_equal(((int32_t *)o.data)[0], 2);
	assert_int_equal(((int32_t *)o.data)[1], -1);
	assert_int_equal(((int32_t *)o.data)[2], 0);
	ir_tensor_free(&o);
	const float bv[] = {0, -0.5f, 3};
	o = cast_f32("bool", bv, 3);
	assert_int_equal(o.dt, IR_DT_BOOL);
	assert_int_equal(((uint8_t *)o.data)[0], 0);
	assert_int_equal(((uint8_t *)o.data)[1], 1);
	assert_int_equal(((uint8_t *)o.data)[2], 1);
	ir_tensor_free(&o);
	/* f32 -> i64 -> nothing lost for 3e9 */
	const float big[] = {3e9f};
	o = cast_f32("i64", big, 1);
	assert_int_equal(((int64_t *)o.data)[0], 3000000000LL);
	ir_tensor_free(&o);
}

static void test_kernels_b_cast_int_wraps_and_unknown_dtype(void **state)
{
	(void)state;
	/* i64 -> u8 wraps modulo 256: 257 -> 1, -1 -> 255; i64 -> f32 exact */
	const int64_t xv[] = {257, -1};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_I64, shp(1, 2));
	ir_node *nd = node(g, IR_OP_CAST, out(g, "y"), 1, x);
	ir_node_set_str(g, nd, "to", "u8");
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_tensor in = {IR_DT_I64, shp(1, 2), (void *)xv}, o;
	assert_int_equal(run(g, &in, &o, &d), 0);
	assert_int_equal(((uint8_t *)o.data)[0], 1);
	assert_int_equal(((uint8_t *)o.data)[1], 255);
	ir_tensor_free(&o);
	diag_sink_fini(&d);

	ir_node_set_str(g, nd, "to", "f16");
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), -1);
	assert_error(&d, "cast to unknown dtype 'f16'");
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* ------------------------------------------------------------ concat */

static void test_kernels_b_concat_values_and_symbolic(void **state)
{
	(void)state;
	/* a [2,1] = {1,2}, b [2,2] = {3,4,5,6} on axis 1 -> [[1,3,4],[2,5,6]] */
	const float av[] = {1, 2}, bv[] = {3, 4, 5, 6};
	ir_graph *g = ir_graph_create("t");
	ir_value *a = input(g, "a", IR_DT_F32, shp(2, 2, 1));
	ir_value *b = cst(g, "b", IR_DT_F32, shp(2, 2, 2), bv);
	ir_value *y = out(g, "y");
	ir_node *n = node(g, IR_OP_CONCAT, y, 2, a, b);
	ir_node_set_int(g, n, "axis", -1);
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_tensor in = {IR_DT_F32, shp(2, 2, 1), (void *)av}, o;
	assert_int_equal(run(g, &in, &o, &d), 0);
	assert_shape(y, shp(2, 2, 3));
	const float want[] = {1, 3, 4, 2, 5, 6};
	assert_floats(&o, want, 6, 0);
	ir_tensor_free(&o);
	diag_sink_fini(&d);
	ir_graph_destroy(g);

	/* [?,2] ++ [?,3] on axis 1 -> [?,5]; on axis 0 with a [4,2] there is
	 * no static form for ?+4, so it stays unknown. */
	g = ir_graph_create("t");
	a = input(g, "a", IR_DT_F32, shp(2, IR_DIM_SYM, 2));
	b = input(g, "b", IR_DT_F32, shp(2, IR_DIM_SYM, 3));
	ir_value *c = input(g, "c", IR_DT_F32, shp(2, 4, 2));
	y = out(g, "y");
	n = node(g, IR_OP_CONCAT, y, 2, a, b);
	ir_node_set_int(g, n, "axis", 1);
	ir_value *y2 = out(g, "y2");
	n = node(g, IR_OP_CONCAT, y2, 2, a, c);
	ir_node_set_int(g, n, "axis", 0);
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), 0);
	assert_shape(y, shp(2, IR_DIM_SYM, 5));
	assert_int_equal(y2->shape.rank, -1);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_concat_mismatch(void **state)
{
	(void)state;
	ir_graph *g = ir_graph_create("t");
	ir_value *a = input(g, "a", IR_DT_F32, shp(2, 2, 3));
	ir_value *b = input(g, "b", IR_DT_F32, shp(2, 3, 3));
	ir_node *n = node(g, IR_OP_CONCAT, out(g, "y"), 2, a, b);
	ir_node_set_int(g, n, "axis", 1);
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), -1);
	assert_error(&d, "input 1 has shape [3,3], incompatible with [2,3] except on axis 1");
	diag_sink_fini(&d);

	ir_node_set_int(g, n, "axis", 2);
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), -1);
	assert_error(&d, "axis 2 is out of range for rank 2");
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* ------------------------------------------------ reshape and friends */

static void test_kernels_b_reshape_symbolic_batch(void **state)
{
	(void)state;
	/* x [?,3,4]: shape [0,-1] -> [?,12] (0 copies the batch);
	 * shape [-1,12] -> [?,12] (-1 absorbs it); shape [-1,6] would be
	 * [2?,6], which has no static form: unknown. */
	const int64_t s1[] = {0, -1}, s2[] = {-1, 12}, s3[] = {-1, 6};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(3, IR_DIM_SYM, 3, 4));
	ir_value *y1 = out(g, "y1"), *y2 = out(g, "y2"), *y3 = out(g, "y3");
	node(g, IR_OP_RESHAPE, y1, 2, x, ints(g, "s1", 2, s1));
	node(g, IR_OP_RESHAPE, y2, 2, x, ints(g, "s2", 2, s2));
	node(g, IR_OP_RESHAPE, y3, 2, x, ints(g, "s3", 2, s3));
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), 0);
	assert_shape(y1, shp(2, IR_DIM_SYM, 12));
	assert_shape(y2, shp(2, IR_DIM_SYM, 12));
	assert_int_equal(y3->shape.rank, -1);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_reshape_defers_on_computed_shape(void **state)
{
	(void)state;
	/* The shape operand is a graph input, not a constant: leave y unknown
	 * without an error, so a later fold can retry. */
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(2, 2, 3));
	ir_value *s = input(g, "s", IR_DT_I64, shp(1, 2));
	ir_value *y = out(g, "y");
	node(g, IR_OP_RESHAPE, y, 2, x, s);
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), 0);
	assert_int_equal(d.nerr, 0);
	assert_int_equal(y->shape.rank, -1);
	assert_int_equal(y->dt, IR_DT_F32);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_reshape_count_mismatch(void **state)
{
	(void)state;
	const int64_t s[] = {4, 2};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(2, 2, 3));
	node(g, IR_OP_RESHAPE, out(g, "y"), 2, x, ints(g, "s", 2, s));
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), -1);
	assert_error(&d, "cannot reshape [2,3] (6 elements) to [4,2] (8 elements)");
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_reshape_allowzero_and_values(void **state)
{
	(void)state;
	/* allowzero=1: a 0 in the shape is a real 0: [0,3] -> [0,4,0]
	 * keeps 0 elements.  Without it, [2,3] reshaped by [3,-1] is [3,2],
	 * bytes unchanged. */
	const int64_t s0[] = {0, 4, 0}, s1[] = {3, -1};
	ir_graph *g = ir_graph_create("t");
	ir_value *x0 = input(g, "x0", IR_DT_F32, shp(2, 0, 3));
	ir_value *y0 = out(g, "y0");
	ir_node *n = node(g, IR_OP_RESHAPE, y0, 2, x0, ints(g, "s0", 3, s0));
	ir_node_set_int(g, n, "allowzero", 1);
	ir_value *x1 = input(g, "x1", IR_DT_I64, shp(2, 2, 3));
	ir_value *y1 = out(g, "y1");
	node(g, IR_OP_RESHAPE, y1, 2, x1, ints(g, "s1", 2, s1));
	diag_sink d;
	diag_sink_init_capture(&d);
	const int64_t xv[] = {1, 2, 3, 4, 5, 6};
	ir_tensor in[2] = {{IR_DT_F32, shp(2, 0, 3), NULL}, {IR_DT_I64, shp(2, 2, 3), (void *)xv}};
	ir_tensor o[2];
	assert_int_equal(run(g, in, o, &d), 0);
	assert_shape(y0, shp(3, 0, 4, 0));
	assert_shape(y1, shp(2, 3, 2));
	assert_i64s(&o[1], xv, 6);
	ir_tensor_free(&o[0]);
	ir_tensor_free(&o[1]);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_flatten_symbolic(void **state)
{
	(void)state;
	/* [?,3,4]: axis 1 -> [?,12]; axis 2 would be [3?,4]: unknown;
	 * [2,3,4] axis 0 -> [1,24], axis -1 -> [6,4] */
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(3, IR_DIM_SYM, 3, 4));
	ir_value *z = input(g, "z", IR_DT_F32, shp(3, 2, 3, 4));
	ir_value *y[4] = {out(g, "y0"), out(g, "y1"), out(g, "y2"), out(g, "y3")};
	node(g, IR_OP_FLATTEN, y[0], 1, x);
	ir_node_set_int(g, node(g, IR_OP_FLATTEN, y[1], 1, x), "axis", 2);
	ir_node_set_int(g, node(g, IR_OP_FLATTEN, y[2], 1, z), "axis", 0);
	ir_node_set_int(g, node(g, IR_OP_FLATTEN, y[3], 1, z), "axis", -1);
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), 0);
	assert_shape(y[0], shp(2, IR_DIM_SYM, 12));
	assert_int_equal(y[1]->shape.rank, -1);
	assert_shape(y[2], shp(2, 1, 24));
	assert_shape(y[3], shp(2, 6, 4));
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_transpose_default_and_perm(void **state)
{
	(void)state;
	/* x [2,3] = [[1,2,3],[4,5,6]], default perm reverses: [[1,4],[2,5],[3,6]] */
	const int64_t xv[] = {1, 2, 3, 4, 5, 6};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_I64, shp(2, 2, 3));
	ir_value *y = out(g, "y");
	node(g, IR_OP_TRANSPOSE, y, 1, x);
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_tensor in = {IR_DT_I64, shp(2, 2, 3), (void *)xv}, o;
	assert_int_equal(run(g, &in, &o, &d), 0);
	assert_shape(y, shp(2, 3, 2));
	const int64_t want[] = {1, 4, 2, 5, 3, 6};
	assert_i64s(&o, want, 6);
	ir_tensor_free(&o);
	diag_sink_fini(&d);
	ir_graph_destroy(g);

	/* [?,2,3] with perm [0,2,1] -> [?,3,2]; perm [1,0,2] would move the
	 * batch out of d[0]: unknown; perm [0,0,1] is an error. */
	const int64_t p1[] = {0, 2, 1}, p2[] = {1, 0, 2}, p3[] = {0, 0, 1};
	g = ir_graph_create("t");
	x = input(g, "x", IR_DT_F32, shp(3, IR_DIM_SYM, 2, 3));
	ir_value *y1 = out(g, "y1"), *y2 = out(g, "y2");
	ir_node_set_ints(g, node(g, IR_OP_TRANSPOSE, y1, 1, x), "perm", p1, 3);
	ir_node_set_ints(g, node(g, IR_OP_TRANSPOSE, y2, 1, x), "perm", p2, 3);
	ir_node *bad = node(g, IR_OP_TRANSPOSE, out(g, "y3"), 1, x);
	ir_node_set_ints(g, bad, "perm", p3, 3);
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), -1);
	assert_shape(y1, shp(3, IR_DIM_SYM, 3, 2));
	assert_int_equal(y2->shape.rank, -1);
	assert_error(&d, "perm [0,0,1] is not a permutation of the axes of [?,2,3]");
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_squeeze_unsqueeze(void **state)
{
	(void)state;
	/* squeeze [2,1,3,1] with axes [-1] -> [2,1,3]; without axes -> [2,3];
	 * unsqueeze [2,3] at [0,-1] -> [1,2,3,1]; unsqueeze [?,3] at [1] ->
	 * [?,1,3]; unsqueeze [?,3] at [0] would move the batch: unknown. */
	const int64_t am1[] = {-1}, a0m1[] = {0, -1}, a1[] = {1}, a0[] = {0};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(4, 2, 1, 3, 1));
	ir_value *z = input(g, "z", IR_DT_F32, shp(2, 2, 3));
	ir_value *s = input(g, "s", IR_DT_F32, shp(2, IR_DIM_SYM, 3));
	ir_value *y[5];
	for (int i = 0; i < 5; i++) {
		char nm[8];
		snprintf(nm, sizeof nm, "y%d", i);
		y[i] = out(g, nm);
	}
	node(g, IR_OP_SQUEEZE, y[0], 2, x, ints(g, "am1", 1, am1));
	node(g, IR_OP_SQUEEZE, y[1], 1, x);
	node(g, IR_OP_UNSQUEEZE, y[2], 2, z, ints(g, "a0m1", 2, a0m1));
	node(g, IR_OP_UNSQUEEZE, y[3], 2, s, ints(g, "a1", 1, a1));
	node(g, IR_OP_UNSQUEEZE, y[4], 2, s, ints(g, "a0", 1, a0));
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), 0);
	assert_shape(y[0], shp(3, 2, 1, 3));
	assert_shape(y[1], shp(2, 2, 3));
	assert_shape(y[2], shp(4, 1, 2, 3, 1));
	assert_shape(y[3], shp(3, IR_DIM_SYM, 1, 3));
	assert_int_equal(y[4]->shape.rank, -1);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_squeeze_errors_and_deferral(void **state)
{
	(void)state;
	const int64_t a0[] = {0};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(2, 2, 1));
	ir_value *ax = input(g, "ax", IR_DT_I64, shp(1, 1));
	ir_value *y = out(g, "y");
	node(g, IR_OP_SQUEEZE, y, 2, x, ax);
	node(g, IR_OP_SQUEEZE, out(g, "y2"), 2, x, ints(g, "a0", 1, a0));
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), -1);
	assert_int_equal(y->shape.rank, -1); /* axes not constant: retried later */
	assert_int_equal(d.nerr, 1);
	assert_error(&d, "cannot squeeze axis 0 of [2,1]: extent is not 1");
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_shape_start_end(void **state)
{
	(void)state;
	/* shape of [2,3,4,5] with start 1, end -1 -> [3,4]; full -> 4 dims */
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(4, 2, 3, 4, 5));
	ir_value *y = out(g, "y"), *y2 = out(g, "y2");
	ir_node *n = node(g, IR_OP_SHAPE, y, 1, x);
	ir_node_set_int(g, n, "start", 1);
	ir_node_set_int(g, n, "end", -1);
	node(g, IR_OP_SHAPE, y2, 1, x);
	diag_sink d;
	diag_sink_init_capture(&d);
	float *xv = calloc(120, sizeof *xv);
	ir_tensor in = {IR_DT_F32, shp(4, 2, 3, 4, 5), xv}, o[2];
	assert_int_equal(run(g, &in, o, &d), 0);
	const int64_t want[] = {3, 4}, want2[] = {2, 3, 4, 5};
	assert_i64s(&o[0], want, 2);
	assert_i64s(&o[1], want2, 4);
	ir_tensor_free(&o[0]);
	ir_tensor_free(&o[1]);
	free(xv);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* ------------------------------------------------------------- gather */

static void test_kernels_b_gather_axis1_negative_indices(void **state)
{
	(void)state;
	/* x [2,3] = [[1,2,3],[4,5,6]], indices i32 [2,2] = [[0,-1],[1,1]] on
	 * axis 1 -> [2,2,2] = [[[1,3],[2,2]],[[4,6],[5,5]]] */
	const float xv[] = {1, 2, 3, 4, 5, 6};
	const int32_t iv[] = {0, -1, 1, 1};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(2, 2, 3));
	ir_value *ix = cst(g, "ix", IR_DT_I32, shp(2, 2, 2), iv);
	ir_value *y = out(g, "y");
	ir_node_set_int(g, node(g, IR_OP_GATHER, y, 2, x, ix), "axis", 1);
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_tensor in = {IR_DT_F32, shp(2, 2, 3), (void *)xv}, o;
	assert_int_equal(run(g, &in, &o, &d), 0);
	assert_shape(y, shp(3, 2, 2, 2));
	const float want[] = {1, 3, 2, 2, 4, 6, 5, 5};
	assert_floats(&o, want, 8, 0);
	ir_tensor_free(&o);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_gather_scalar_index_on_shape(void **state)
{
	(void)state;
	/* PyTorch's x.size(1): Shape -> Gather(scalar index 1) -> i64 scalar.
	 * [?,7] keeps the batch in gather over axis 0 of a [?,7] tensor too. */
	const int64_t one = 1;
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(2, IR_DIM_SYM, 7));
	ir_value *sh = out(g, "sh"), *y = out(g, "y");
	node(g, IR_OP_SHAPE, sh, 1, x);
	node(g, IR_OP_GATHER, y, 2, sh, cst(g, "one", IR_DT_I64, shp(0), &one));
	ir_value *y2 = out(g, "y2");
	ir_node_set_int(g, node(g, IR_OP_GATHER, y2, 2, x, cst(g, "one2", IR_DT_I64, shp(1, 1), &one)),
	                "axis", 1);
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), 0);
	assert_shape(sh, shp(1, 2));
	assert_shape(y, shp(0));
	assert_int_equal(y->dt, IR_DT_I64);
	assert_shape(y2, shp(2, IR_DIM_SYM, 1));
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_gather_index_out_of_range(void **state)
{
	(void)state;
	/* Constant index 3 on an axis of extent 3: caught by inference.
	 * Runtime index -4: caught by eval. */
	const int64_t bad = 3, rt[] = {0, -4};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(1, 3));
	node(g, IR_OP_GATHER, out(g, "y"), 2, x, ints(g, "ix", 1, &bad));
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), -1);
	assert_error(&d, "index 3 is out of range for axis 0 of extent 3");
	diag_sink_fini(&d);
	ir_graph_destroy(g);

	g = ir_graph_create("t");
	x = input(g, "x", IR_DT_F32, shp(1, 3));
	ir_value *ix = input(g, "ix", IR_DT_I64, shp(1, 2));
	node(g, IR_OP_GATHER, out(g, "y"), 2, x, ix);
	diag_sink_init_capture(&d);
	const float xv[] = {1, 2, 3};
	ir_tensor in[2] = {{IR_DT_F32, shp(1, 3), (void *)xv}, {IR_DT_I64, shp(1, 2), (void *)rt}};
	ir_tensor o;
	assert_int_equal(run(g, in, &o, &d), -1);
	assert_error(&d, "index -4 is out of range for axis 0 of extent 3");
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* -------------------------------------------------------------- slice */

static void test_kernels_b_slice_negative_step_and_clamp(void **state)
{
	(void)state;
	/* x [2,5] = [[0..4],[5..9]].  starts [-1, 0], ends [INT64_MIN, 100],
	 * axes [1, 0], steps [-2, 1]: axis 1 from 4 down past the front by
	 * 2 -> cols {4,2,0}; axis 0 clamps 100 to 2 -> both rows.
	 * -> [[4,2,0],[9,7,5]] */
	const int64_t xv[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	const int64_t st[] = {-1, 0}, en[] = {INT64_MIN, 100}, ax[] = {1, 0}, sp[] = {-2, 1};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_I64, shp(2, 2, 5));
	ir_value *y = out(g, "y");
	node(g, IR_OP_SLICE, y, 5, x, ints(g, "st", 2, st), ints(g, "en", 2, en), ints(g, "ax", 2, ax),
	     ints(g, "sp", 2, sp));
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_tensor in = {IR_DT_I64, shp(2, 2, 5), (void *)xv}, o;
	assert_int_equal(run(g, &in, &o, &d), 0);
	assert_shape(y, shp(2, 2, 3));
	const int64_t want[] = {4, 2, 0, 9, 7, 5};
	assert_i64s(&o, want, 6);
	ir_tensor_free(&o);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_slice_symbolic_and_deferral(void **state)
{
	(void)state;
	/* [?,10]: x[:, 2:8:3] -> [?,2] (cols 2,5); x[0:INT64_MAX] keeps [?,10];
	 * x[1:] has no static batch: unknown; a non-constant end: unknown. */
	const int64_t s2[] = {2}, e8[] = {8}, a1[] = {1}, st3[] = {3};
	const int64_t s0[] = {0}, emax[] = {INT64_MAX}, s1[] = {1};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(2, IR_DIM_SYM, 10));
	ir_value *ev = input(g, "ev", IR_DT_I64, shp(1, 1));
	ir_value *y[4] = {out(g, "y0"), out(g, "y1"), out(g, "y2"), out(g, "y3")};
	node(g, IR_OP_SLICE, y[0], 5, x, ints(g, "s2", 1, s2), ints(g, "e8", 1, e8),
	     ints(g, "a1", 1, a1), ints(g, "st3", 1, st3));
	node(g, IR_OP_SLICE, y[1], 3, x, ints(g, "s0", 1, s0), ints(g, "emax", 1, emax));
	node(g, IR_OP_SLICE, y[2], 3, x, ints(g, "s1", 1, s1), ints(g, "emax2", 1, emax));
	node(g, IR_OP_SLICE, y[3], 3, x, ints(g, "s0b", 1, s0), ev);
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), 0);
	assert_shape(y[0], shp(2, IR_DIM_SYM, 2));
	assert_shape(y[1], shp(2, IR_DIM_SYM, 10));
	assert_int_equal(y[2]->shape.rank, -1);
	assert_int_equal(y[3]->shape.rank, -1);
	assert_int_equal(d.nerr, 0);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_slice_zero_step(void **state)
{
	(void)state;
	const int64_t z[] = {0}, e[] = {1};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(1, 4));
	node(g, IR_OP_SLICE, out(g, "y"), 5, x, ints(g, "s", 1, z), ints(g, "e", 1, e), NULL,
	     ints(g, "st", 1, z));
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), -1);
	assert_error(&d, "step on axis 0 is 0");
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* -------------------------------------------------------------- split */

static void test_kernels_b_split_sizes_and_uneven(void **state)
{
	(void)state;
	/* x [5] = {1..5}: split [2,3] -> {1,2},{3,4,5};
	 * num_outputs 3 -> chunks of ceil(5/3)=2: {1,2},{3,4},{5} */
	const float xv[] = {1, 2, 3, 4, 5};
	const int64_t sz[] = {2, 3};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(1, 5));
	ir_value *a[2] = {out(g, "a0"), out(g, "a1")};
	ir_value *b[3] = {out(g, "b0"), out(g, "b1"), out(g, "b2")};
	ir_value *in2[2] = {x, ints(g, "sz", 2, sz)};
	ir_graph_add_node(g, IR_OP_SPLIT, NULL, 2, in2, 2, a);
	ir_node *n = ir_graph_add_node(g, IR_OP_SPLIT, NULL, 1, &x, 3, b);
	ir_node_set_int(g, n, "num_outputs", 3);
	for (int i = 0; i < 2; i++)
		ir_graph_add_output(g, a[i]);
	for (int i = 0; i < 3; i++)
		ir_graph_add_output(g, b[i]);
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_tensor in = {IR_DT_F32, shp(1, 5), (void *)xv}, o[5];
	assert_int_equal(run(g, &in, o, &d), 0);
	assert_floats(&o[0], xv, 2, 0);
	assert_floats(&o[1], xv + 2, 3, 0);
	assert_floats(&o[2], xv, 2, 0);
	assert_floats(&o[3], xv + 2, 2, 0);
	assert_floats(&o[4], xv + 4, 1, 0);
	for (int i = 0; i < 5; i++)
		ir_tensor_free(&o[i]);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_split_axis1_symbolic_and_bad_sum(void **state)
{
	(void)state;
	/* [?,4] split equally on axis 1 into 2 -> [?,2] twice;
	 * split sizes [1,2] on an axis of 4 -> error. */
	const int64_t bad[] = {1, 2};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(2, IR_DIM_SYM, 4));
	ir_value *a[2] = {out(g, "a0"), out(g, "a1")};
	ir_node *n = ir_graph_add_node(g, IR_OP_SPLIT, NULL, 1, &x, 2, a);
	ir_node_set_int(g, n, "axis", 1);
	ir_value *b[2] = {out(g, "b0"), out(g, "b1")};
	ir_value *in2[2] = {x, ints(g, "bad", 2, bad)};
	n = ir_graph_add_node(g, IR_OP_SPLIT, NULL, 2, in2, 2, b);
	ir_node_set_int(g, n, "axis", 1);
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), -1);
	assert_shape(a[0], shp(2, IR_DIM_SYM, 2));
	assert_shape(a[1], shp(2, IR_DIM_SYM, 2));
	assert_error(&d, "split sizes add up to 3, axis extent is 4");
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* ---------------------------------------------------------------- pad */

/* Pad x [1,4] = {1,2,3,4} along axis 1 by (pb, pe) in `mode`. */
static void check_pad(const char *mode, int64_t pb, int64_t pe, const float *cval,
                      const float *want, int nwant)
{
	const float xv[] = {1, 2, 3, 4};
	const int64_t pads[] = {0, pb, 0, pe};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(2, 1, 4));
	ir_value *cv = cval ? cst(g, "cv", IR_DT_F32, shp(0), cval) : NULL;
	ir_value *y = out(g, "y");
	ir_node *n = node(g, IR_OP_PAD, y, 3, x, ints(g, "p", 4, pads), cv);
	ir_node_set_str(g, n, "mode", mode);
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_tensor in = {IR_DT_F32, shp(2, 1, 4), (void *)xv}, o;
	if (run(g, &in, &o, &d))
		fail_msg("%s", d.buf ? d.buf : "run failed");
	assert_shape(y, shp(2, 1, nwant));
	assert_floats(&o, want, nwant, 0);
	ir_tensor_free(&o);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_pad_modes(void **state)
{
	(void)state;
	const float seven = 7;
	/* constant 7, (2,1): 7 7 1 2 3 4 7 */
	const float c[] = {7, 7, 1, 2, 3, 4, 7};
	check_pad("constant", 2, 1, &seven, c, 7);
	/* constant default 0, crop 1 at the front, pad 2 at the back:
	 * 2 3 4 0 0 */
	const float cc[] = {2, 3, 4, 0, 0};
	check_pad("constant", -1, 2, NULL, cc, 5);
	/* edge (2,1): 1 1 1 2 3 4 4 */
	const float e[] = {1, 1, 1, 2, 3, 4, 4};
	check_pad("edge", 2, 1, NULL, e, 7);
	/* reflect (2,2), no border repeat: 3 2 1 2 3 4 3 2 (np.pad reflect) */
	const float r[] = {3, 2, 1, 2, 3, 4, 3, 2};
	check_pad("reflect", 2, 2, NULL, r, 8);
	/* reflect (5,0) goes past one period, as numpy allows: positions
	 * -5..-1 read 2,3,4,3,2 -> 2 3 4 3 2 1 2 3 4 */
	const float r5[] = {2, 3, 4, 3, 2, 1, 2, 3, 4};
	check_pad("reflect", 5, 0, NULL, r5, 9);
	/* wrap (1,2): 4 1 2 3 4 1 2 */
	const float w[] = {4, 1, 2, 3, 4, 1, 2};
	check_pad("wrap", 1, 2, NULL, w, 7);
}

static void test_kernels_b_pad_axes_and_errors(void **state)
{
	(void)state;
	/* [?,3] padded on axis -1 only by (1,1) -> [?,5] */
	const int64_t p[] = {1, 1}, ax[] = {-1}, big[] = {0, -5, 0, 0};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(2, IR_DIM_SYM, 3));
	ir_value *y = out(g, "y");
	node(g, IR_OP_PAD, y, 4, x, ints(g, "p", 2, p), NULL, ints(g, "ax", 1, ax));
	ir_node *bad = node(g, IR_OP_PAD, out(g, "y2"), 2, x, ints(g, "big", 4, big));
	(void)bad;
	ir_node *m = node(g, IR_OP_PAD, out(g, "y3"), 2, x, ints(g, "p3", 2, p));
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), -1);
	assert_shape(y, shp(2, IR_DIM_SYM, 5));
	assert_error(&d, "pads -5,0 on axis 1 of extent 3 leave no valid extent");
	assert_error(&d, "pads has 2 values, expected 4");
	diag_sink_fini(&d);
	ir_node_set_str(g, m, "mode", "mirror");
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), -1);
	assert_error(&d, "unknown pad mode 'mirror'");
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* ---------------------------------------------------------- reductions */

static void test_kernels_b_softmax_stable(void **state)
{
	(void)state;
	/* Rows {1000,1001,1002} and {0,0,0}: naive exp overflows.
	 * softmax = e^{0,1,2}/(1+e+e^2) = {0.09003057, 0.24472847, 0.66524096};
	 * log_softmax = {0,1,2} - 2 - log(1+e^-1+e^-2) = {-2.40760596,
	 * -1.40760596, -0.40760596}; uniform row: 1/3 and -log 3 = -1.0986123 */
	const float xv[] = {1000, 1001, 1002, 0, 0, 0};
	for (int lg = 0; lg < 2; lg++) {
		ir_graph *g = ir_graph_create("t");
		ir_value *x = input(g, "x", IR_DT_F32, shp(2, 2, 3));
		node(g, lg ? IR_OP_LOG_SOFTMAX : IR_OP_SOFTMAX, out(g, "y"), 1, x);
		diag_sink d;
		diag_sink_init_capture(&d);
		ir_tensor in = {IR_DT_F32, shp(2, 2, 3), (void *)xv}, o;
		assert_int_equal(run(g, &in, &o, &d), 0);
		const float sm[] = {0.09003057f, 0.24472847f, 0.66524096f, 1 / 3.0f, 1 / 3.0f, 1 / 3.0f};
		const float ls[] = {-2.40760596f, -1.40760596f, -0.40760596f,
		                    -1.09861229f, -1.09861229f, -1.09861229f};
		assert_floats(&o, lg ? ls : sm, 6, 1e-6f);
		ir_tensor_free(&o);
		diag_sink_fini(&d);
		ir_graph_destroy(g);
	}
}

static void test_kernels_b_softmax_axis0(void **state)
{
	(void)state;
	/* axis 0 of [2,2] = [[0,0],[ln 3, 0]]: column 0 -> {1/4, 3/4},
	 * column 1 -> {1/2, 1/2} */
	const float xv[] = {0, 0, logf(3.0f), 0};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(2, 2, 2));
	ir_node_set_int(g, node(g, IR_OP_SOFTMAX, out(g, "y"), 1, x), "axis", 0);
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_tensor in = {IR_DT_F32, shp(2, 2, 2), (void *)xv}, o;
	assert_int_equal(run(g, &in, &o, &d), 0);
	const float want[] = {0.25f, 0.5f, 0.75f, 0.5f};
	assert_floats(&o, want, 4, 1e-6f);
	ir_tensor_free(&o);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_reduce_mean_axes_keepdims(void **state)
{
	(void)state;
	/* x [2,3] = [[1,2,3],[4,5,6]]:
	 * axes [1], keepdims 0 -> [2] = {2, 5};
	 * no axes, keepdims 1 -> [1,1] = {3.5};
	 * axes [-2] keepdims 1 -> [1,3] = {2.5,3.5,4.5} */
	const float xv[] = {1, 2, 3, 4, 5, 6};
	const int64_t a1[] = {1}, am2[] = {-2};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(2, 2, 3));
	ir_value *y[3] = {out(g, "y0"), out(g, "y1"), out(g, "y2")};
	ir_node_set_int(g, node(g, IR_OP_REDUCE_MEAN, y[0], 2, x, ints(g, "a1", 1, a1)), "keepdims", 0);
	node(g, IR_OP_REDUCE_MEAN, y[1], 1, x);
	node(g, IR_OP_REDUCE_MEAN, y[2], 2, x, ints(g, "am2", 1, am2));
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_tensor in = {IR_DT_F32, shp(2, 2, 3), (void *)xv}, o[3];
	assert_int_equal(run(g, &in, o, &d), 0);
	assert_shape(y[0], shp(1, 2));
	assert_shape(y[1], shp(2, 1, 1));
	assert_shape(y[2], shp(2, 1, 3));
	const float w0[] = {2, 5}, w1[] = {3.5f}, w2[] = {2.5f, 3.5f, 4.5f};
	assert_floats(&o[0], w0, 2, 1e-6f);
	assert_floats(&o[1], w1, 1, 1e-6f);
	assert_floats(&o[2], w2, 3, 1e-6f);
	for (int i = 0; i < 3; i++)
		ir_tensor_free(&o[i]);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_b_reduce_mean_symbolic_noop_and_defer(void **state)
{
	(void)state;
	/* [?,4,5]: axes [2,1] keepdims 1 -> [?,1,1] (global pool);
	 * empty axes with noop_with_empty_axes -> identity [?,4,5];
	 * axes from a graph input: unknown; axis 3: error. */
	const int64_t a21[] = {2, 1}, a3[] = {3};
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(3, IR_DIM_SYM, 4, 5));
	ir_value *ax = input(g, "ax", IR_DT_I64, shp(1, 1));
	ir_value *y[4] = {out(g, "y0"), out(g, "y1"), out(g, "y2"), out(g, "y3")};
	node(g, IR_OP_REDUCE_MEAN, y[0], 2, x, ints(g, "a21", 2, a21));
	ir_node_set_int(g, node(g, IR_OP_REDUCE_MEAN, y[1], 2, x, ints(g, "none", 0, NULL)),
	                "noop_with_empty_axes", 1);
	node(g, IR_OP_REDUCE_MEAN, y[2], 2, x, ax);
	node(g, IR_OP_REDUCE_MEAN, y[3], 2, x, ints(g, "a3", 1, a3));
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(infer(g, &d), -1);
	assert_shape(y[0], shp(3, IR_DIM_SYM, 1, 1));
	assert_shape(y[1], shp(3, IR_DIM_SYM, 4, 5));
	assert_int_equal(y[2]->shape.rank, -1);
	assert_int_equal(d.nerr, 1);
	assert_error(&d, "axis 3 is out of range for rank 3");
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernels_b_relu_keeps_positive),
		cmocka_unit_test(test_kernels_b_sigmoid_stable_at_extremes),
		cmocka_unit_test(test_kernels_b_tanh_values),
		cmocka_unit_test(test_kernels_b_leaky_relu_default_alpha),
		cmocka_unit_test(test_kernels_b_hard_sigmoid_defaults_and_alpha),
		cmocka_unit_test(test_kernels_b_hard_swish_values),
		cmocka_unit_test(test_kernels_b_float_op_rejects_int),
		cmocka_unit_test(test_kernels_b_add_broadcasts_symbolic),
		cmocka_unit_test(test_kernels_b_binary_values_broadcast),
		cmocka_unit_test(test_kernels_b_binary_bad_broadcast),
		cmocka_unit_test(test_kernels_b_binary_dtype_mismatch),
		cmocka_unit_test(test_kernels_b_int_div_truncates),
		cmocka_unit_test(test_kernels_b_int_div_by_zero_reports),
		cmocka_unit_test(test_kernels_b_int_mul_i32_wraps),
		cmocka_unit_test(test_kernels_b_prelu_per_channel_legacy_slope),
		cmocka_unit_test(test_kernels_b_prelu_numpy_broadcast_slope),
		cmocka_unit_test(test_kernels_b_prelu_bad_slope),
		cmocka_unit_test(test_kernels_b_clip_optional_bounds),
		cmocka_unit_test(test_kernels_b_clip_int64),
		cmocka_unit_test(test_kernels_b_batchnorm_inference),
		cmocka_unit_test(test_kernels_b_batchnorm_bad_param_shape),
		cmocka_unit_test(test_kernels_b_dropout_is_identity_with_true_mask),
		cmocka_unit_test(test_kernels_b_dropout_training_unsupported),
		cmocka_unit_test(test_kernels_b_identity_copies_i64),
		cmocka_unit_test(test_kernels_b_cast_truncates_and_bools),
		cmocka_unit_test(test_kernels_b_cast_int_wraps_and_unknown_dtype),
		cmocka_unit_test(test_kernels_b_concat_values_and_symbolic),
		cmocka_unit_test(test_kernels_b_concat_mismatch),
		cmocka_unit_test(test_kernels_b_reshape_symbolic_batch),
		cmocka_unit_test(test_kernels_b_reshape_defers_on_computed_shape),
		cmocka_unit_test(test_kernels_b_reshape_count_mismatch),
		cmocka_unit_test(test_kernels_b_reshape_allowzero_and_values),
		cmocka_unit_test(test_kernels_b_flatten_symbolic),
		cmocka_unit_test(test_kernels_b_transpose_default_and_perm),
		cmocka_unit_test(test_kernels_b_squeeze_unsqueeze),
		cmocka_unit_test(test_kernels_b_squeeze_errors_and_deferral),
		cmocka_unit_test(test_kernels_b_shape_start_end),
		cmocka_unit_test(test_kernels_b_gather_axis1_negative_indices),
		cmocka_unit_test(test_kernels_b_gather_scalar_index_on_shape),
		cmocka_unit_test(test_kernels_b_gather_index_out_of_range),
		cmocka_unit_test(test_kernels_b_slice_negative_step_and_clamp),
		cmocka_unit_test(test_kernels_b_slice_symbolic_and_deferral),
		cmocka_unit_test(test_kernels_b_slice_zero_step),
		cmocka_unit_test(test_kernels_b_split_sizes_and_uneven),
		cmocka_unit_test(test_kernels_b_split_axis1_symbolic_and_bad_sum),
		cmocka_unit_test(test_kernels_b_pad_modes),
		cmocka_unit_test(test_kernels_b_pad_axes_and_errors),
		cmocka_unit_test(test_kernels_b_softmax_stable),
		cmocka_unit_test(test_kernels_b_softmax_axis0),
		cmocka_unit_test(test_kernels_b_reduce_mean_axes_keepdims),
		cmocka_unit_test(test_kernels_b_reduce_mean_symbolic_noop_and_defer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
