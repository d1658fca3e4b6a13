/* test_kernels_a.c: shape inference and reference evaluation of conv,
 * conv_transpose, the pools, gemm, matmul and resize, on tiny graphs built
 * directly through the IR API.  Expected values are derived by hand in
 * the comments; the ONNX conformance suites cover the rest. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <math.h>

#include "ir.h"
#include "resize.h"

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

/* A graph input of shape s (f32 unless dt says otherwise). */
static ir_value *input(ir_graph *g, const char *name, ir_dtype dt, ir_shape s)
{
	ir_value *v = ir_graph_add_value(g, name, dt, &s);
	ir_graph_add_input(g, v);
	return v;
}

static ir_value *cst(ir_graph *g, const char *name, ir_shape s, const float *data)
{
	return ir_graph_add_const(g, name, IR_DT_F32, &s, data);
}

static ir_value *cst_i64(ir_graph *g, const char *name, ir_shape s, const int64_t *data)
{
	return ir_graph_add_const(g, name, IR_DT_I64, &s, data);
}

/* One node of op over ins, with nout fresh outputs "y", "y1", ... that are
 * also the graph outputs. */
static ir_node *node(ir_graph *g, ir_op op, int nin, ir_value **ins, int nout)
{
	ir_value *outs[2];
	for (int k = 0; k < nout; k++) {
		outs[k] = ir_graph_add_value(g, k ? "y1" : "y", IR_DT_UNDEF, NULL);
		ir_graph_add_output(g, outs[k]);
	}
	return ir_graph_add_node(g, op, "n", nin, ins, nout, outs);
}

/* Run shape inference; returns its status, diagnostics left in d. */
static int infer(ir_graph *g, diag_sink *d)
{
	diag_sink_init_capture(d);
	if (ir_graph_toposort(g, d))
		return -1;
	return ir_infer_shapes(g, d);
}

static void assert_shape(const ir_value *v, ir_shape want)
{
	char a[96], b[96];
	if (!ir_shape_eq(&v->shape, &want))
		fail_msg("shape %s, want %s", ir_shape_str(&v->shape, a, sizeof a),
		         ir_shape_str(&want, b, sizeof b));
}

/* Inference must fail with one error containing `msg`. */
static void assert_infer_error(ir_graph *g, const char *msg)
{
	diag_sink d;
	assert_int_equal(infer(g, &d), -1);
	assert_int_equal(d.nerr, 1);
	assert_non_null(d.buf);
	if (!strstr(d.buf, msg))
		fail_msg("diagnostic '%s' lacks '%s'", d.buf, msg);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* Infer and run a graph whose operands are all constants; checks output k
 * against want[0..n) within 1e-5 and frees everything. */
static void assert_run(ir_graph *g, int nout, const float *const *want, const int *n)
{
	diag_sink d;
	ir_tensor out[2];
	assert_int_equal(infer(g, &d), 0);
	if (ir_interp_run(g, NULL, out, &d))
		fail_msg("interp: %s", d.buf ? d.buf : "");
	for (int k = 0; k < nout; k++) {
		assert_int_equal(ir_shape_numel(&out[k].shape), n[k]);
		for (int i = 0; i < n[k]; i++) {
			double got = out[k].dt == IR_DT_I64 ? (double)((int64_t *)out[k].data)[i]
			                                    : ((float *)out[k].data)[i];
			if (!(got - want[k][i] < 1e-5 && want[k][i] - got < 1e-5))
				fail_msg("output %d element %d: got %g, want %g", k, i, got,
				         (double)want[k][i]);
		}
		ir_tensor_free(&out[k]);
	}
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void assert_run1(ir_graph *g, const float *want, int n)
{
	assert_run(g, 1, &want, &n);
}

/* ----------------------------------------------------------------- conv */

#define CONV_FORMS_SP 3

static void test_kernels_a_conv_shapes_keep_symbolic_batch(void **state)
{
	(void)state;
	diag_sink d;
	/* 3x3 valid: 32 - 3 + 1 = 30. */
	ir_graph *g = ir_graph_create("t");
	ir_value *in[3] = {input(g, "x", IR_DT_F32, shp(4, IR_DIM_SYM, 3, 32, 32)),
	                   cst(g, "w", shp(4, 16, 3, 3, 3), NULL), cst(g, "b", shp(1, 16), NULL)};
	ir_node *n = node(g, IR_OP_CONV, 3, in, 1);
	assert_int_equal(infer(g, &d), 0);
	assert_shape(n->out[0], shp(4, IR_DIM_SYM, 16, 30, 30));
	assert_int_equal(n->out[0]->dt, IR_DT_F32);
	diag_sink_fini(&d);

	/* stride 2, pads 1: floor((32 + 2 - 3) / 2) + 1 = 16.  Dilation 2
	 * makes the kernel extent 5: floor((32 + 2 - 5) / 2) + 1 = 15. */
	ir_node_set_ints(g, n, "strides", (int64_t[]){2, 2}, 2);
	ir_node_set_ints(g, n, "pads", (int64_t[]){1, 1, 1, 1}, 4);
	n->out[0]->shape.rank = -1;
	assert_int_equal(infer(g, &d), 0);
	assert_shape(n->out[0], shp(4, IR_DIM_SYM, 16, 16, 16));
	diag_sink_fini(&d);
	ir_node_set_ints(g, n, "dilations", (int64_t[]){2, 2}, 2);
	assert_int_equal(infer(g, &d), 0);
	assert_shape(n->out[0], shp(4, IR_DIM_SYM, 16, 15, 15));
	diag_sink_fini(&d);

	/* SAME_UPPER: ceil(32 / 2) = 16 whatever the kernel. */
	ir_node_del_attr(n, "pads");
	ir_node_set_str(g, n, "auto_pad", "SAME_UPPER");
	assert_int_equal(infer(g, &d), 0);
	assert_shape(n->out[0], shp(4, IR_DIM_SYM, 16, 16, 16));
	diag_sink_fini(&d);
	ir_graph_destroy(g);

	/* 1-D and 3-D, grouped: [1,4,10] * [6,2,3] group 2 -> [1,6,8];
	 * [2,4,5,6,7] * [8,1,3,3,3] group 4 -> [2,8,3,4,5]. */
	g = ir_graph_create("t");
	ir_value *a[2] = {input(g, "x", IR_DT_F32, shp(3, 1, 4, 10)), cst(g, "w", shp(3, 6, 2, 3), NULL)};
	n = node(g, IR_OP_CONV, 2, a, 1);
	ir_node_set_int(g, n, "group", 2);
	assert_int_equal(infer(g, &d), 0);
	assert_shape(n->out[0], shp(3, 1, 6, 8));
	diag_sink_fini(&d);
	ir_graph_destroy(g);
	g = ir_graph_create("t");
	ir_value *b[2] = {input(g, "x", IR_DT_F32, shp(5, 2, 4, 5, 6, 7)),
	                  cst(g, "w", shp(5, 8, 1, 3, 3, 3), NULL)};
	n = node(g, IR_OP_CONV, 2, b, 1);
	ir_node_set_int(g, n, "group", 4);
	assert_int_equal(infer(g, &d), 0);
	assert_shape(n->out[0], shp(5, 2, 8, 3, 4, 5));
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_a_conv_unknown_rank_waits(void **state)
{
	(void)state;
	diag_sink d;
	ir_graph *g = ir_graph_create("t");
	ir_value *x = ir_graph_add_value(g, "x", IR_DT_F32, NULL);
	ir_value *in[2] = {x, cst(g, "w", shp(4, 1, 1, 1, 1), NULL)};
	ir_node *n = node(g, IR_OP_CONV, 2, in, 1);
	ir_graph_add_input(g, x);
	assert_int_equal(infer(g, &d), 0);
	assert_int_equal(d.nerr, 0);
	assert_int_equal(n->out[0]->shape.rank, -1);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* Each bad conv gets one error that says what is wrong, with numbers. */
static ir_graph *conv_graph(ir_shape xs, ir_shape ws, ir_dtype dt, ir_node **np)
{
	ir_graph *g = ir_graph_create("t");
	ir_value *in[2] = {input(g, "x", dt, xs), cst(g, "w", ws, NULL)};
	*np = node(g, IR_OP_CONV, 2, in, 1);
	return g;
}

static void test_kernels_a_conv_errors_name_the_problem(void **state)
{
	(void)state;
	ir_node *n;
	ir_graph *g = conv_graph(shp(4, 1, 3, 8, 8), shp(4, 2, 4, 3, 3), IR_DT_F32, &n);
	assert_infer_error(g, "input has 3 channels but weight [2,4,3,3] expects 4 (group 1)");

	g = conv_graph(shp(4, 1, 3, 8, 8), shp(4, 2, 1, 3, 3), IR_DT_F32, &n);
	ir_node_set_int(g, n, "group", 2);
	assert_infer_error(g, "group 2 does not divide the 3 input channels");

	g = conv_graph(shp(4, 1, 4, 8, 8), shp(4, 3, 2, 3, 3), IR_DT_F32, &n);
	ir_node_set_int(g, n, "group", 2);
	assert_infer_error(g, "group 2 does not divide the 3 output channels");

	g = conv_graph(shp(4, 1, 1, 2, 8), shp(4, 1, 1, 3, 3), IR_DT_F32, &n);
	assert_infer_error(g, "kernel extent 3 (kernel 3, dilation 1) is larger than the padded input 2");

	g = conv_graph(shp(4, 1, 1, 8, 8), shp(4, 1, 1, 3, 3), IR_DT_I64, &n);
	assert_infer_error(g, "dtype i64 is not supported");

	g = conv_graph(shp(4, 1, 1, 8, 8), shp(3, 1, 1, 3), IR_DT_F32, &n);
	assert_infer_error(g, "weight has shape [1,1,3] (rank 3) but input [1,1,8,8] has rank 4");

	g = conv_graph(shp(2, 1, 8), shp(2, 1, 8), IR_DT_F32, &n);
	assert_infer_error(g, "expected rank 3 or more");

	g = conv_graph(shp(4, 1, 1, 8, 8), shp(4, 1, 1, 3, 3), IR_DT_F32, &n);
	ir_node_set_str(g, n, "auto_pad", "SAME");
	assert_infer_error(g, "unknown auto_pad 'SAME'");

	g = conv_graph(shp(4, 1, 1, 8, 8), shp(4, 1, 1, 3, 3), IR_DT_F32, &n);
	ir_node_set_ints(g, n, "strides", (int64_t[]){1, 0}, 2);
	assert_infer_error(g, "strides[1] is 0");

	g = conv_graph(shp(4, 1, 1, 8, 8), shp(4, 1, 1, 3, 3), IR_DT_F32, &n);
	ir_node_set_ints(g, n, "pads", (int64_t[]){1, 1}, 2);
	assert_infer_error(g, "pads has 2 values, expected 4");

	/* A bias of the wrong length. */
	g = ir_graph_create("t");
	ir_value *in[3] = {input(g, "x", IR_DT_F32, shp(4, 1, 1, 8, 8)),
	                   cst(g, "w", shp(4, 2, 1, 3, 3), NULL), cst(g, "b", shp(1, 3), NULL)};
	node(g, IR_OP_CONV, 3, in, 1);
	assert_infer_error(g, "bias has shape [3], expected [2]");

	/* Hostile sizes: a 2^20 x 2^20 output with 2^10 channels overflows. */
	g = conv_graph(shp(4, 1, 1, 1 << 20, 1 << 20), shp(4, 1024, 1, 1, 1), IR_DT_F32, &n);
	assert_infer_error(g, "is too large");
}

/* X = [1 2 3; 4 5 6; 7 8 9], W = 2x2 ones, B = 0.5, no padding: each output
 * is the sum of a 2x2 block plus 0.5:
 *   1+2+4+5 = 12, 2+3+5+6 = 16, 4+5+7+8 = 24, 5+6+8+9 = 28. */
static void test_kernels_a_conv_sums_blocks(void **state)
{
	(void)state;
	static const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 1, 1, 1}, b[1] = {0.5f};
	ir_graph *g = ir_graph_create("t");
	ir_value *in[3] = {cst(g, "x", shp(4, 1, 1, 3, 3), x), cst(g, "w", shp(4, 1, 1, 2, 2), w),
	                   cst(g, "b", shp(1, 1), b)};
	node(g, IR_OP_CONV, 3, in, 1);
	assert_run1(g, (const float[]){12.5f, 16.5f, 24.5f, 28.5f}, 4);

	/* Same X, a 3x3 kernel that picks the centre times 2, pads 1 and
	 * stride 2: outputs at (0,0), (0,2), (2,0), (2,2) are 2*X there. */
	static const float wc[9] = {0, 0, 0, 0, 2, 0, 0, 0, 0};
	g = ir_graph_create("t");
	ir_value *in2[2] = {cst(g, "x", shp(4, 1, 1, 3, 3), x), cst(g, "w", shp(4, 1, 1, 3, 3), wc)};
	ir_node *n = node(g, IR_OP_CONV, 2, in2, 1);
	ir_node_set_ints(g, n, "pads", (int64_t[]){1, 1, 1, 1}, 4);
	ir_node_set_ints(g, n, "strides", (int64_t[]){2, 2}, 2);
	assert_run1(g, (const float[]){2, 6, 14, 18}, 4);

	/* Dilation 2 on the 3x3 input with a 2x2 ones kernel touches the four
	 * corners: 1 + 3 + 7 + 9 = 20. */
	g = ir_graph_create("t");
	ir_value *in3[2] = {cst(g, "x", shp(4, 1, 1, 3, 3), x), cst(g, "w", shp(4, 1, 1, 2, 2), w)};
	n = node(g, IR_OP_CONV, 2, in3, 1);
	ir_node_set_ints(g, n, "dilations", (int64_t[]){2, 2}, 2);
	assert_run1(g, (const float[]){20}, 1);
}

/* Depthwise (group = C = 2) 1x1: channel 0 scaled by 2, channel 1 by 3,
 * and a channel multiplier of 2 on a 1-D input: W [4,1,1], each input
 * channel feeds two outputs. */
static void test_kernels_a_conv_depthwise(void **state)
{
	(void)state;
	static const float x[4] = {1, 2, 10, 20}, w[2] = {2, 3};
	ir_graph *g = ir_graph_create("t");
	ir_value *in[2] = {cst(g, "x", shp(4, 1, 2, 1, 2), x), cst(g, "w", shp(4, 2, 1, 1, 1), w)};
	ir_node *n = node(g, IR_OP_CONV, 2, in, 1);
	ir_node_set_int(g, n, "group", 2);
	assert_run1(g, (const float[]){2, 4, 30, 60}, 4);

	static const float w4[4] = {1, -1, 2, 0.5f};
	g = ir_graph_create("t");
	ir_value *in2[2] = {cst(g, "x", shp(3, 1, 2, 2), x), cst(g, "w", shp(3, 4, 1, 1), w4)};
	n = node(g, IR_OP_CONV, 2, in2, 1);
	ir_node_set_int(g, n, "group", 2);
	/* out0 = x0*1, out1 = x0*-1, out2 = x1*2, out3 = x1*0.5 */
	assert_run1(g, (const float[]){1, 2, -1, -2, 20, 40, 5, 10}, 8);
}

/* The 1-D and 2-D convs are evaluated an output plane at a time; other
 * ranks one output at a time.  Both must give the same bits: each conv
 * here runs as given and as the same conv with a trailing 1-sized
 * spatial axis (the general form), and the outputs must be identical. */
static float *conv_eval_f32(int nsp, const int64_t *xd, const int64_t *wd, const float *x,
                            const float *w, const float *b, int64_t m, int64_t group,
                            const int64_t *s, const int64_t *dil, const int64_t *pads, int64_t *n)
{
	ir_graph *g = ir_graph_create("t");
	ir_shape xs = {.rank = nsp + 2}, ws = {.rank = nsp + 2};
	int64_t p[2 * CONV_FORMS_SP];
	for (int i = 0; i < nsp + 2; i++)
		xs.d[i] = xd[i], ws.d[i] = wd[i];
	for (int i = 0; i < nsp; i++)
		p[i] = pads[i], p[nsp + i] = pads[nsp + i];
	ir_value *in[3] = {cst(g, "x", xs, x), cst(g, "w", ws, w), cst(g, "b", shp(1, (int)m), b)};
	ir_node *nd = node(g, IR_OP_CONV, 3, in, 1);
	ir_node_set_int(g, nd, "group", group);
	ir_node_set_ints(g, nd, "strides", s, nsp);
	ir_node_set_ints(g, nd, "dilations", dil, nsp);
	ir_node_set_ints(g, nd, "pads", p, 2 * nsp);
	diag_sink d;
	ir_tensor out;
	assert_int_equal(infer(g, &d), 0);
	if (ir_interp_run(g, NULL, &out, &d))
		fail_msg("interp: %s", d.buf ? d.buf : "");
	*n = ir_shape_numel(&out.shape);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
	return out.data;
}

static void test_kernels_a_conv_forms_agree(void **state)
{
	(void)state;
	/* C, M, group, H (0: 1-D), W, KH, KW, strides, dilations, pads b/e */
	static const int64_t cases[][15] = {
		{3, 4, 1, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
		{4, 4, 4, 10, 7, 3, 3, 2, 2, 1, 1, 1, 0, 0, 1}, /* depthwise, stride 2 */
		{6, 4, 2, 8, 9, 2, 3, 1, 3, 2, 1, 0, 2, 1, 0},  /* groups, dilation */
		{2, 3, 1, 5, 5, 5, 5, 1, 1, 1, 1, 3, 3, 3, 3},  /* pads beyond the kernel */
		{5, 2, 1, 0, 13, 1, 4, 1, 3, 1, 2, 0, 2, 0, 1}, /* 1-D */
		{2, 2, 1, 4, 4, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},  /* pointwise */
	};
	uint32_t r = 12345;
	for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
		const int64_t *c = cases[t];
		bool one = c[3] == 0;
		int64_t H = one ? 1 : c[3], KH = one ? 1 : c[5], cg = c[0] / c[2];
		int64_t nx = 2 * c[0] * H * c[4], nw = c[1] * cg * KH * c[6];
		float *x = malloc((size_t)nx * sizeof *x), *w = malloc((size_t)nw * sizeof *w);
		float b[8];
		assert_non_null(x);
		assert_non_null(w);
		for (int64_t i = 0; i < nx; i++)
			x[i] = (float)((r = r * 1103515245u + 12345u) >> 8) / (1 << 24) - 0.5f;
		for (int64_t i = 0; i < nw; i++)
			w[i] = (float)((r = r * 1103515245u + 12345u) >> 8) / (1 << 23) - 1.0f;
		for (int i = 0; i < 8; i++)
			b[i] = (float)i / 7;
		int64_t n1, n2;
		float *y1, *y2;
		if (one) {
			int64_t xd[3] = {2, c[0], c[4]}, wd[3] = {c[1], cg, c[6]};
			int64_t xd3[5] = {2, c[0], c[4], 1, 1}, wd3[5] = {c[1], cg, c[6], 1, 1};
			y1 = conv_eval_f32(1, xd, wd, x, w, b, c[1], c[2], &c[8], &c[10],
			                   (int64_t[]){c[12], c[14]}, &n1);
			y2 = conv_eval_f32(3, xd3, wd3, x, w, b, c[1], c[2], (int64_t[]){c[8], 1, 1},
			                   (int64_t[]){c[10], 1, 1}, (int64_t[]){c[12], 0, 0, c[14], 0, 0},
			                   &n2);
		} else {
			int64_t xd[4] = {2, c[0], H, c[4]}, wd[4] = {c[1], cg, KH, c[6]};
			int64_t xd3[5] = {2, c[0], H, c[4], 1}, wd3[5] = {c[1], cg, KH, c[6], 1};
			y1 = conv_eval_f32(2, xd, wd, x, w, b, c[1], c[2], &c[7], &c[9], &c[11], &n1);
			y2 = conv_eval_f32(3, xd3, wd3, x, w, b, c[1], c[2], (int64_t[]){c[7], c[8], 1},
			                   (int64_t[]){c[9], c[10], 1},
			                   (int64_t[]){c[11], c[12], 0, c[13], c[14], 0}, &n2);
		}
		assert_int_equal(n1, n2);
		assert_true(n1 > 0);
		if (memcmp(y1, y2, (size_t)n1 * sizeof *y1) != 0)
			fail_msg("case %zu: the plane form differs from the general form", t);
		free(y1);
		free(y2);
		free(x);
		free(w);
	}
}

/* -------------------------------------------------------- conv_transpose */

/* 1-D X = [1, 2], W = [1, 1, 1], stride 2: out length 2*(2-1) + 3 = 5.
 * Input 0 adds 1 at 0..2, input 1 adds 2 at 2..4: [1, 1, 3, 2, 2]. */
static void test_kernels_a_conv_transpose_scatter(void **state)
{
	(void)state;
	static const float x[2] = {1, 2}, w[3] = {1, 1, 1};
	ir_graph *g = ir_graph_create("t");
	ir_value *in[2] = {cst(g, "x", shp(3, 1, 1, 2), x), cst(g, "w", shp(3, 1, 1, 3), w)};
	ir_node *n = node(g, IR_OP_CONV_TRANSPOSE, 2, in, 1);
	ir_node_set_ints(g, n, "strides", (int64_t[]){2}, 1);
	assert_run1(g, (const float[]){1, 1, 3, 2, 2}, 5);

	/* pads [1, 0] drop the first output: [1, 3, 2, 2]. */
	g = ir_graph_create("t");
	ir_value *in2[2] = {cst(g, "x", shp(3, 1, 1, 2), x), cst(g, "w", shp(3, 1, 1, 3), w)};
	n = node(g, IR_OP_CONV_TRANSPOSE, 2, in2, 1);
	ir_node_set_ints(g, n, "strides", (int64_t[]){2}, 1);
	ir_node_set_ints(g, n, "pads", (int64_t[]){1, 0}, 2);
	assert_run1(g, (const float[]){1, 3, 2, 2}, 4);

	/* output_shape [6]: total padding 5 - 6 = -1 splits (floor) into
	 * begin 0, end -1, so the extra output is a zero at the end. */
	g = ir_graph_create("t");
	ir_value *in3[2] = {cst(g, "x", shp(3, 1, 1, 2), x), cst(g, "w", shp(3, 1, 1, 3), w)};
	n = node(g, IR_OP_CONV_TRANSPOSE, 2, in3, 1);
	ir_node_set_ints(g, n, "strides", (int64_t[]){2}, 1);
	ir_node_set_ints(g, n, "output_shape", (int64_t[]){6}, 1);
	assert_run1(g, (const float[]){1, 1, 3, 2, 2, 0}, 6);

	/* output_padding 1 also appends one output at the end. */
	g = ir_graph_create("t");
	ir_value *in4[2] = {cst(g, "x", shp(3, 1, 1, 2), x), cst(g, "w", shp(3, 1, 1, 3), w)};
	n = node(g, IR_OP_CONV_TRANSPOSE, 2, in4, 1);
	ir_node_set_ints(g, n, "strides", (int64_t[]){2}, 1);
	ir_node_set_ints(g, n, "output_padding", (int64_t[]){1}, 1);
	assert_run1(g, (const float[]){1, 1, 3, 2, 2, 0}, 6);
}

static void test_kernels_a_conv_transpose_shapes(void **state)
{
	(void)state;
	diag_sink d;
	/* [?,8,5,5] with W [8,2,3,3] group 2 -> 4 channels; stride 2:
	 * 2*4 + 3 = 11; SAME_UPPER gives in*stride = 10. */
	ir_graph *g = ir_graph_create("t");
	ir_value *in[2] = {input(g, "x", IR_DT_F32, shp(4, IR_DIM_SYM, 8, 5, 5)),
	                   cst(g, "w", shp(4, 8, 2, 3, 3), NULL)};
	ir_node *n = node(g, IR_OP_CONV_TRANSPOSE, 2, in, 1);
	ir_node_set_int(g, n, "group", 2);
	ir_node_set_ints(g, n, "strides", (int64_t[]){2, 2}, 2);
	assert_int_equal(infer(g, &d), 0);
	assert_shape(n->out[0], shp(4, IR_DIM_SYM, 4, 11, 11));
	diag_sink_fini(&d);
	ir_node_set_str(g, n, "auto_pad", "SAME_UPPER");
	assert_int_equal(infer(g, &d), 0);
	assert_shape(n->out[0], shp(4, IR_DIM_SYM, 4, 10, 10));
	diag_sink_fini(&d);
	ir_graph_destroy(g);

	/* Weight's first dim must be the input channels. */
	g = ir_graph_create("t");
	ir_value *in2[2] = {input(g, "x", IR_DT_F32, shp(4, 1, 3, 5, 5)),
	                    cst(g, "w", shp(4, 4, 2, 3, 3), NULL)};
	node(g, IR_OP_CONV_TRANSPOSE, 2, in2, 1);
	assert_infer_error(g, "input has 3 channels but weight [4,2,3,3] expects 4");
}

/* ---------------------------------------------------------------- pools */

/* X = 0..15 as 4x4; 2x2 windows, stride 2: maxima 5, 7, 13, 15 at flat
 * indices 5, 7, 13, 15.  With storage_order 1 the spatial index is
 * column-major, h + w*4: (1,1) -> 5, (1,3) -> 13, (3,1) -> 7, (3,3) -> 15. */
static void test_kernels_a_max_pool_values_and_indices(void **state)
{
	(void)state;
	float x[16];
	for (int i = 0; i < 16; i++)
		x[i] = (float)i;
	for (int so = 0; so < 2; so++) {
		ir_graph *g = ir_graph_create("t");
		ir_value *in[1] = {cst(g, "x", shp(4, 1, 1, 4, 4), x)};
		ir_node *n = node(g, IR_OP_MAX_POOL, 1, in, 2);
		ir_node_set_ints(g, n, "kernel", (int64_t[]){2, 2}, 2);
		ir_node_set_ints(g, n, "strides", (int64_t[]){2, 2}, 2);
		ir_node_set_int(g, n, "storage_order", so);
		const float *want[2] = {(const float[]){5, 7, 13, 15},
		                        so ? (const float[]){5, 13, 7, 15} : (const float[]){5, 7, 13, 15}};
		assert_run(g, 2, want, (const int[]){4, 4});
	}

	/* Indices count the whole tensor: the second channel's plane starts
	 * at 4.  X = [[1,3,2,0],[4,0,0,5]] as [1,2,4], kernel 4 -> 3 at 1 and
	 * 5 at 4 + 3 = 7. */
	static const float x2[8] = {1, 3, 2, 0, 4, 0, 0, 5};
	ir_graph *g = ir_graph_create("t");
	ir_value *in[1] = {cst(g, "x", shp(3, 1, 2, 4), x2)};
	ir_node *n = node(g, IR_OP_MAX_POOL, 1, in, 2);
	ir_node_set_ints(g, n, "kernel", (int64_t[]){4}, 1);
	assert_run(g, 2, (const float *const[]){(const float[]){3, 5}, (const float[]){1, 7}},
	           (const int[]){2, 2});
}

/* ceil_mode: X = [1..5], kernel 2, stride 2 gives 3 outputs [2, 4, 5]
 * (the last window holds only 5), floor mode 2.  With X = [1..4] and pads
 * [0, 1], ceil((4+1-2)/2)+1 = 3 but the third window would start at 4,
 * inside the end padding, so ONNX drops it: 2 outputs. */
static void test_kernels_a_max_pool_ceil_mode(void **state)
{
	(void)state;
	static const float x[5] = {1, 2, 3, 4, 5};
	ir_graph *g = ir_graph_create("t");
	ir_value *in[1] = {cst(g, "x", shp(3, 1, 1, 5), x)};
	ir_node *n = node(g, IR_OP_MAX_POOL, 1, in, 1);
	ir_node_set_ints(g, n, "kernel", (int64_t[]){2}, 1);
	ir_node_set_ints(g, n, "strides", (int64_t[]){2}, 1);
	ir_node_set_int(g, n, "ceil_mode", 1);
	assert_run1(g, (const float[]){2, 4, 5}, 3);

	diag_sink d;
	g = ir_graph_create("t");
	ir_value *in2[1] = {input(g, "x", IR_DT_F32, shp(3, IR_DIM_SYM, 1, 4))};
	n = node(g, IR_OP_MAX_POOL, 1, in2, 1);
	ir_node_set_ints(g, n, "kernel", (int64_t[]){2}, 1);
	ir_node_set_ints(g, n, "strides", (int64_t[]){2}, 1);
	ir_node_set_ints(g, n, "pads", (int64_t[]){0, 1}, 2);
	ir_node_set_int(g, n, "ceil_mode", 1);
	assert_int_equal(infer(g, &d), 0);
	assert_shape(n->out[0], shp(3, IR_DIM_SYM, 1, 2));
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_a_pool_errors(void **state)
{
	(void)state;
	ir_graph *g = ir_graph_create("t");
	ir_value *in[1] = {input(g, "x", IR_DT_F32, shp(4, 1, 1, 4, 4))};
	node(g, IR_OP_MAX_POOL, 1, in, 1);
	assert_infer_error(g, "attribute 'kernel' is required");

	g = ir_graph_create("t");
	ir_value *in2[1] = {input(g, "x", IR_DT_F32, shp(4, 1, 1, 4, 4))};
	ir_node *n = node(g, IR_OP_AVG_POOL, 1, in2, 1);
	ir_node_set_ints(g, n, "kernel", (int64_t[]){5, 2}, 2);
	assert_infer_error(g, "kernel extent 5 (kernel 5, dilation 1) is larger than the padded input 4");

	g = ir_graph_create("t");
	ir_value *in3[1] = {input(g, "x", IR_DT_F32, shp(4, 1, 1, 4, 4))};
	n = node(g, IR_OP_AVG_POOL, 1, in3, 1);
	ir_node_set_ints(g, n, "kernel", (int64_t[]){2}, 1);
	assert_infer_error(g, "kernel has 1 values, expected 2");

	g = ir_graph_create("t");
	ir_value *in4[1] = {input(g, "x", IR_DT_I64, shp(4, 1, 1, 4, 4))};
	node(g, IR_OP_GLOBAL_MAX_POOL, 1, in4, 1);
	assert_infer_error(g, "dtype i64 is not supported");
}

/* X = [1, 2, 3], kernel 2, stride 1, pads [1, 1]: windows [pad,1], [1,2],
 * [2,3], [3,pad].  count_include_pad 0 divides by the real elements:
 * [1, 1.5, 2.5, 3]; count_include_pad 1 by 2: [0.5, 1.5, 2.5, 1.5]. */
static void test_kernels_a_avg_pool_count_include_pad(void **state)
{
	(void)state;
	static const float x[3] = {1, 2, 3};
	for (int cip = 0; cip < 2; cip++) {
		ir_graph *g = ir_graph_create("t");
		ir_value *in[1] = {cst(g, "x", shp(3, 1, 1, 3), x)};
		ir_node *n = node(g, IR_OP_AVG_POOL, 1, in, 1);
		ir_node_set_ints(g, n, "kernel", (int64_t[]){2}, 1);
		ir_node_set_ints(g, n, "pads", (int64_t[]){1, 1}, 2);
		ir_node_set_int(g, n, "count_include_pad", cip);
		assert_run1(g, cip ? (const float[]){0.5f, 1.5f, 2.5f, 1.5f}
		                   : (const float[]){1, 1.5f, 2.5f, 3},
		            4);
	}

	/* X = [1..5], kernel 2, stride 2, ceil_mode: the last window [5, past
	 * the end] lies beyond the (unpadded) input, so even with
	 * count_include_pad 1 it averages only the 5: [1.5, 3.5, 5]. */
	static const float x5[5] = {1, 2, 3, 4, 5};
	ir_graph *g = ir_graph_create("t");
	ir_value *in[1] = {cst(g, "x", shp(3, 1, 1, 5), x5)};
	ir_node *n = node(g, IR_OP_AVG_POOL, 1, in, 1);
	ir_node_set_ints(g, n, "kernel", (int64_t[]){2}, 1);
	ir_node_set_ints(g, n, "strides", (int64_t[]){2}, 1);
	ir_node_set_int(g, n, "ceil_mode", 1);
	ir_node_set_int(g, n, "count_include_pad", 1);
	assert_run1(g, (const float[]){1.5f, 3.5f, 5}, 3);
}

/* X [1,2,2,2]: channel 0 = 1,2,3,4 (mean 2.5, max 4), channel 1 =
 * -1,-2,-3,-4 (mean -2.5, max -1). */
static void test_kernels_a_global_pools(void **state)
{
	(void)state;
	static const float x[8] = {1, 2, 3, 4, -1, -2, -3, -4};
	ir_graph *g = ir_graph_create("t");
	ir_value *in[1] = {cst(g, "x", shp(4, 1, 2, 2, 2), x)};
	node(g, IR_OP_GLOBAL_AVG_POOL, 1, in, 1);
	assert_run1(g, (const float[]){2.5f, -2.5f}, 2);
	g = ir_graph_create("t");
	ir_value *in2[1] = {cst(g, "x", shp(4, 1, 2, 2, 2), x)};
	node(g, IR_OP_GLOBAL_MAX_POOL, 1, in2, 1);
	assert_run1(g, (const float[]){4, -1}, 2);

	diag_sink d;
	g = ir_graph_create("t");
	ir_value *in3[1] = {input(g, "x", IR_DT_F32, shp(5, IR_DIM_SYM, 3, 7, 7, 7))};
	ir_node *n = node(g, IR_OP_GLOBAL_AVG_POOL, 1, in3, 1);
	assert_int_equal(infer(g, &d), 0);
	assert_shape(n->out[0], shp(5, IR_DIM_SYM, 3, 1, 1, 1));
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* ---------------------------------------------------------------- gemm */

/* A = [1 2 3; 4 5 6], B given transposed as [1 0 1; 0 1 0] (so B' is
 * 3x2), C = [10; 20] ([M,1]), alpha 2, beta 0.5:
 *   A B' = [1+3, 2; 4+6, 5] = [4 2; 10 5]
 *   2*AB' + 0.5*C = [8+5, 4+5; 20+10, 10+10] = [13 9; 30 20]. */
static void test_kernels_a_gemm_trans_and_bias(void **state)
{
	(void)state;
	static const float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 1, 0, 1, 0}, c[2] = {10, 20};
	ir_graph *g = ir_graph_create("t");
	ir_value *in[3] = {cst(g, "a", shp(2, 2, 3), a), cst(g, "b", shp(2, 2, 3), b),
	                   cst(g, "c", shp(2, 2, 1), c)};
	ir_node *n = node(g, IR_OP_GEMM, 3, in, 1);
	ir_node_set_int(g, n, "trans_b", 1);
	ir_node_set_float(g, n, "alpha", 2.0f);
	ir_node_set_float(g, n, "beta", 0.5f);
	assert_run1(g, (const float[]){13, 9, 30, 20}, 4);

	/* trans_a with a scalar C: A' = [1 4; 2 5; 3 6] (A read as [2,3]
	 * transposed), B = [1; 1] ([2,1]): A'B = [5; 7; 9], + 1. */
	static const float one[2] = {1, 1};
	g = ir_graph_create("t");
	ir_value *in2[3] = {cst(g, "a", shp(2, 2, 3), a), cst(g, "b", shp(2, 2, 1), one),
	                    cst(g, "c", shp(0), one)};
	n = node(g, IR_OP_GEMM, 3, in2, 1);
	ir_node_set_int(g, n, "trans_a", 1);
	assert_run1(g, (const float[]){6, 8, 10}, 3);
}

static void test_kernels_a_gemm_shapes_and_errors(void **state)
{
	(void)state;
	diag_sink d;
	ir_graph *g = ir_graph_create("t");
	ir_value *in[3] = {input(g, "a", IR_DT_F32, shp(2, IR_DIM_SYM, 8)),
	                   cst(g, "b", shp(2, 4, 8), NULL), cst(g, "c", shp(1, 4), NULL)};
	ir_node *n = node(g, IR_OP_GEMM, 3, in, 1);
	ir_node_set_int(g, n, "trans_b", 1);
	assert_int_equal(infer(g, &d), 0);
	assert_shape(n->out[0], shp(2, IR_DIM_SYM, 4));
	diag_sink_fini(&d);
	ir_graph_destroy(g);

	g = ir_graph_create("t");
	ir_value *in2[2] = {input(g, "a", IR_DT_F32, shp(2, 2, 3)), cst(g, "b", shp(2, 4, 5), NULL)};
	node(g, IR_OP_GEMM, 2, in2, 1);
	assert_infer_error(g, "A [2,3] (trans_a 0) has K=3 but B [4,5] (trans_b 0) has K=4");

	g = ir_graph_create("t");
	ir_value *in3[3] = {input(g, "a", IR_DT_F32, shp(2, 2, 3)), cst(g, "b", shp(2, 3, 5), NULL),
	                    cst(g, "c", shp(1, 3), NULL)};
	node(g, IR_OP_GEMM, 3, in3, 1);
	assert_infer_error(g, "C [3] does not broadcast to the output [2,5]");
}

/* -------------------------------------------------------------- matmul */

static void test_kernels_a_matmul_shapes(void **state)
{
	(void)state;
	static const struct {
		ir_shape a, b, want;
	} cases[] = {
		{{1, {3}}, {1, {3}}, {0, {0}}},
		{{2, {2, 3}}, {1, {3}}, {1, {2}}},
		{{1, {3}}, {3, {5, 3, 4}}, {2, {5, 4}}},
		{{3, {IR_DIM_SYM, 2, 3}}, {2, {3, 4}}, {3, {IR_DIM_SYM, 2, 4}}},
		{{4, {2, 1, 2, 3}}, {3, {3, 3, 2}}, {4, {2, 3, 2, 2}}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		diag_sink d;
		ir_graph *g = ir_graph_create("t");
		ir_value *in[2] = {input(g, "a", IR_DT_F32, cases[i].a), cst(g, "b", cases[i].b, NULL)};
		ir_node *n = node(g, IR_OP_MATMUL, 2, in, 1);
		assert_int_equal(infer(g, &d), 0);
		assert_shape(n->out[0], cases[i].want);
		diag_sink_fini(&d);
		ir_graph_destroy(g);
	}

	ir_graph *g = ir_graph_create("t");
	ir_value *in[2] = {input(g, "a", IR_DT_F32, shp(3, 2, 2, 3)), cst(g, "b", shp(3, 3, 3, 2), NULL)};
	node(g, IR_OP_MATMUL, 2, in, 1);
	assert_infer_error(g, "batch dims of A [2,2,3] and B [3,3,2] do not broadcast");

	g = ir_graph_create("t");
	ir_value *in2[2] = {input(g, "a", IR_DT_F32, shp(2, 2, 3)), cst(g, "b", shp(2, 4, 2), NULL)};
	node(g, IR_OP_MATMUL, 2, in2, 1);
	assert_infer_error(g, "A [2,3] has K=3 but B [4,2] has K=4");
}

/* [1 2; 3 4] x [5, 6] (1-D, treated as a column) = [17, 39].  Batch
 * broadcast: A [2,1,2] = rows [1 2] and [3 4]; B [1,2,1] = [[1],[10]]
 * -> [2,1,1] = [21, 43]. */
static void test_kernels_a_matmul_values(void **state)
{
	(void)state;
	static const float a[4] = {1, 2, 3, 4}, v[2] = {5, 6}, bcol[2] = {1, 10};
	ir_graph *g = ir_graph_create("t");
	ir_value *in[2] = {cst(g, "a", shp(2, 2, 2), a), cst(g, "b", shp(1, 2), v)};
	node(g, IR_OP_MATMUL, 2, in, 1);
	assert_run1(g, (const float[]){17, 39}, 2);

	g = ir_graph_create("t");
	ir_value *in2[2] = {cst(g, "a", shp(3, 2, 1, 2), a), cst(g, "b", shp(3, 1, 2, 1), bcol)};
	node(g, IR_OP_MATMUL, 2, in2, 1);
	assert_run1(g, (const float[]){21, 43}, 2);
}

/* -------------------------------------------------------------- resize */

static ir_node *resize_graph(ir_graph *g, ir_value *x, ir_value *roi, ir_value *scales,
                             ir_value *sizes)
{
	ir_value *in[4] = {x, roi, scales, sizes};
	return node(g, IR_OP_RESIZE, 4, in, 1);
}

static void test_kernels_a_resize_shapes(void **state)
{
	(void)state;
	diag_sink d;
	/* scales [1,1,2,1.5] on [?,3,4,5]: floor(4*2) = 8, floor(5*1.5) = 7;
	 * the symbolic batch is scaled by 1 and stays symbolic. */
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(4, IR_DIM_SYM, 3, 4, 5));
	ir_value *sc = cst(g, "s", shp(1, 4), (const float[]){1, 1, 2, 1.5f});
	ir_node *n = resize_graph(g, x, NULL, sc, NULL);
	assert_int_equal(infer(g, &d), 0);
	assert_shape(n->out[0], shp(4, IR_DIM_SYM, 3, 8, 7));
	diag_sink_fini(&d);
	ir_graph_destroy(g);

	/* sizes [3, 3] on axes [2, 3] of [1,1,2,4] with not_larger: scale
	 * min(3/2, 3/4) = 0.75 -> round(1.5) = 2, round(3) = 3; not_smaller:
	 * 1.5 -> 3, 6.  An empty roi counts as absent. */
	for (int smaller = 0; smaller < 2; smaller++) {
		g = ir_graph_create("t");
		x = input(g, "x", IR_DT_F32, shp(4, 1, 1, 2, 4));
		ir_value *roi = cst(g, "roi", shp(1, 0), NULL);
		ir_value *sz = cst_i64(g, "sz", shp(1, 2), (const int64_t[]){3, 3});
		n = resize_graph(g, x, roi, NULL, sz);
		ir_node_set_ints(g, n, "axes", (int64_t[]){2, 3}, 2);
		ir_node_set_str(g, n, "keep_aspect_ratio_policy", smaller ? "not_smaller" : "not_larger");
		assert_int_equal(infer(g, &d), 0);
		assert_shape(n->out[0], smaller ? shp(4, 1, 1, 3, 6) : shp(4, 1, 1, 2, 3));
		diag_sink_fini(&d);
		ir_graph_destroy(g);
	}

	/* Scales computed at run time: the shape waits, no error. */
	g = ir_graph_create("t");
	x = input(g, "x", IR_DT_F32, shp(4, 1, 1, 2, 4));
	ir_value *dyn = input(g, "s", IR_DT_F32, shp(1, 4));
	n = resize_graph(g, x, NULL, dyn, NULL);
	assert_int_equal(infer(g, &d), 0);
	assert_int_equal(d.nerr, 0);
	assert_int_equal(n->out[0]->shape.rank, -1);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_kernels_a_resize_errors(void **state)
{
	(void)state;
	ir_graph *g = ir_graph_create("t");
	ir_value *x = input(g, "x", IR_DT_F32, shp(4, 1, 1, 2, 4));
	ir_node *n = resize_graph(g, x, NULL, cst(g, "s", shp(1, 4), (const float[]){1, 1, 2, 2}),
	                          NULL);
	ir_node_set_str(g, n, "mode", "area");
	assert_infer_error(g, "mode 'area' is not supported");

	g = ir_graph_create("t");
	x = input(g, "x", IR_DT_F32, shp(4, 1, 1, 2, 4));
	resize_graph(g, x, NULL, cst(g, "s", shp(1, 4), (const float[]){1, 1, 2, 2}),
	             cst_i64(g, "z", shp(1, 4), (const int64_t[]){1, 1, 4, 8}));
	assert_infer_error(g, "both scales and sizes are given");

	g = ir_graph_create("t");
	x = input(g, "x", IR_DT_F32, shp(4, 1, 1, 2, 4));
	resize_graph(g, x, NULL, NULL, NULL);
	assert_infer_error(g, "neither scales nor sizes is given");

	g = ir_graph_create("t");
	x = input(g, "x", IR_DT_F32, shp(4, 1, 1, 2, 4));
	resize_graph(g, x, NULL, cst(g, "s", shp(1, 2), (const float[]){2, 2}), NULL);
	assert_infer_error(g, "scales has 2 values, expected 4");

	g = ir_graph_create("t");
	x = input(g, "x", IR_DT_F32, shp(4, 1, 1, 2, 4));
	resize_graph(g, x, NULL, cst(g, "s", shp(1, 4), (const float[]){1, 1, 0, 2}), NULL);
	assert_infer_error(g, "scales[2] is 0; must be positive");

	g = ir_graph_create("t");
	x = input(g, "x", IR_DT_F32, shp(4, 1, 1, 2, 4));
	n = resize_graph(g, x, NULL, cst(g, "s", shp(1, 4), (const float[]){1, 1, 2, 2}), NULL);
	ir_node_set_str(g, n, "coordinate_transformation_mode", "tf_half_pixel_for_nn");
	assert_infer_error(g, "coordinate_transformation_mode 'tf_half_pixel_for_nn' is not supported");
}

static void test_kernels_a_resize_values(void **state)
{
	(void)state;
	/* nearest, asymmetric, floor, scale 2 on [1 2; 3 4]: every input
	 * pixel becomes a 2x2 block. */
	static const float x4[4] = {1, 2, 3, 4};
	ir_graph *g = ir_graph_create("t");
	ir_node *n = resize_graph(g, cst(g, "x", shp(4, 1, 1, 2, 2), x4), NULL,
	                          cst(g, "s", shp(1, 4), (const float[]){1, 1, 2, 2}), NULL);
	ir_node_set_str(g, n, "coordinate_transformation_mode", "asymmetric");
	ir_node_set_str(g, n, "nearest_mode", "floor");
	assert_run1(g, (const float[]){1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, 16);

	/* linear, half_pixel, [0, 4] scaled by 2: x_original = (x+0.5)/2 -
	 * 0.5 = -0.25, 0.25, 0.75, 1.25; clamped at the edges this gives
	 * 0, 0.75*0 + 0.25*4 = 1, 3, 4. */
	static const float x2[2] = {0, 4};
	g = ir_graph_create("t");
	n = resize_graph(g, cst(g, "x", shp(1, 2), x2), NULL,
	                 cst(g, "s", shp(1, 1), (const float[]){2}), NULL);
	ir_node_set_str(g, n, "mode", "linear");
	assert_run1(g, (const float[]){0, 1, 3, 4}, 4);

	/* linear, align_corners, [0, 3] to 4 samples: x * (2-1)/(4-1), so
	 * 0, 1, 2, 3. */
	static const float x03[2] = {0, 3};
	g = ir_graph_create("t");
	n = resize_graph(g, cst(g, "x", shp(1, 2), x03), NULL, NULL,
	                 cst_i64(g, "z", shp(1, 1), (const int64_t[]){4}));
	ir_node_set_str(g, n, "mode", "linear");
	ir_node_set_str(g, n, "coordinate_transformation_mode", "align_corners");
	assert_run1(g, (const float[]){0, 1, 2, 3}, 4);

	/* tf_crop_and_resize over [0, 10, 20, 30], roi [0, 1.5], 3 samples:
	 * x_original = x * 1.5 * 3 / 2 = 0, 2.25, 4.5; the last is past the
	 * input so it takes extrapolation_value -1; 2.25 -> 20 + 0.25*10. */
	static const float x30[4] = {0, 10, 20, 30};
	g = ir_graph_create("t");
	ir_value *roi = cst(g, "roi", shp(1, 2), (const float[]){0, 1.5f});
	n = resize_graph(g, cst(g, "x", shp(1, 4), x30), roi, NULL,
	                 cst_i64(g, "z", shp(1, 1), (const int64_t[]){3}));
	ir_node_set_str(g, n, "mode", "linear");
	ir_node_set_str(g, n, "coordinate_transformation_mode", "tf_crop_and_resize");
	ir_node_set_float(g, n, "extrapolation_value", -1.0f);
	assert_run1(g, (const float[]){0, 22.5f, -1}, 3);

	/* A NaN in roi (found by fuzz_onnx) puts every sample outside, and a
	 * source position far past int64 (half_pixel at scale 1e-30 would put
	 * it at 1e30) takes the edge element, without undefined conversions. */
	g = ir_graph_create("t");
	roi = cst(g, "roi", shp(1, 2), (const float[]){NAN, 1.5f});
	n = resize_graph(g, cst(g, "x", shp(1, 4), x30), roi, NULL,
	                 cst_i64(g, "z", shp(1, 1), (const int64_t[]){3}));
	ir_node_set_str(g, n, "mode", "linear");
	ir_node_set_str(g, n, "coordinate_transformation_mode", "tf_crop_and_resize");
	ir_node_set_float(g, n, "extrapolation_value", -1.0f);
	assert_run1(g, (const float[]){-1, -1, -1}, 3);
	ir_resize_plan rp = {.mode = RS_LINEAR, .in = {4}};
	int64_t ti[2];
	double tw[2];
	ir_resize_taps(&rp, 0, 1e30, ti, tw, 2);
	assert_true(ti[0] == 3 && ti[1] == 3 && tw[0] + tw[1] == 1.0);
	ir_resize_taps(&rp, 0, -1e30, ti, tw, 2);
	assert_true(ti[0] == 0 && ti[1] == 0);

	/* cubic at integral source positions reproduces the input exactly:
	 * asymmetric with scale 1 maps x to x. */
	g = ir_graph_create("t");
	n = resize_graph(g, cst(g, "x", shp(1, 4), x30), NULL,
	                 cst(g, "s", shp(1, 1), (const float[]){1}), NULL);
	ir_node_set_str(g, n, "mode", "cubic");
	ir_node_set_str(g, n, "coordinate_transformation_mode", "asymmetric");
	assert_run1(g, x30, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernels_a_conv_shapes_keep_symbolic_batch),
		cmocka_unit_test(test_kernels_a_conv_unknown_rank_waits),
		cmocka_unit_test(test_kernels_a_conv_errors_name_the_problem),
		cmocka_unit_test(test_kernels_a_conv_sums_blocks),
		cmocka_unit_test(test_kernels_a_conv_depthwise),
		cmocka_unit_test(test_kernels_a_conv_forms_agree),
		cmocka_unit_test(test_kernels_a_conv_transpose_scatter),
		cmocka_unit_test(test_kernels_a_conv_transpose_shapes),
		cmocka_unit_test(test_kernels_a_max_pool_values_and_indices),
		cmocka_unit_test(test_kernels_a_max_pool_ceil_mode),
		cmocka_unit_test(test_kernels_a_pool_errors),
		cmocka_unit_test(test_kernels_a_avg_pool_count_include_pad),
		cmocka_unit_test(test_kernels_a_global_pools),
		cmocka_unit_test(test_kernels_a_gemm_trans_and_bias),
		cmocka_unit_test(test_kernels_a_gemm_shapes_and_errors),
		cmocka_unit_test(test_kernels_a_matmul_shapes),
		cmocka_unit_test(test_kernels_a_matmul_values),
		cmocka_unit_test(test_kernels_a_resize_shapes),
		cmocka_unit_test(test_kernels_a_resize_errors),
		cmocka_unit_test(test_kernels_a_resize_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
