/* test_dsl.c: the model DSL (.qgm): the examples build the expected IR,
 * hints and seeded init land where later passes read them, and hostile
 * text gets one exact, located diagnostic, never a crash. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dsl.h"
#include "frontend.h"

#define EXAMPLES QGTC_SOURCE_DIR "/examples"

/* Load text; returns the graph (or NULL) and the captured diagnostics. */
static ir_graph *load(const char *text, size_t len, const char *base, char **diags)
{
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_graph *g = fe_dsl_load_buffer(text, len, "t.qgm", base, &d);
	*diags = strdup(d.buf ? d.buf : "");
	if (g)
		assert_int_equal(d.nerr, 0);
	else
		assert_true(d.nerr > 0);
	diag_sink_fini(&d);
	return g;
}

/* text must fail with exactly `want` as diagnostics. */
static void expect_error(const char *text, const char *want)
{
	char *got;
	ir_graph *g = load(text, strlen(text), NULL, &got);
	assert_null(g);
	assert_string_equal(got, want);
	free(got);
}

static ir_graph *must_load(const char *text)
{
	char *got;
	ir_graph *g = load(text, strlen(text), NULL, &got);
	if (!g)
		fail_msg("%s", got);
	free(got);
	return g;
}

static ir_node *node_named(ir_graph *g, const char *name)
{
	for (int k = 0; k < g->nnodes; k++)
		if (strcmp(g->nodes[k]->name, name) == 0)
			return g->nodes[k];
	fail_msg("no node '%s'", name);
	return NULL;
}

static void assert_shape(const ir_value *v, int rank, const int64_t *d)
{
	assert_int_equal(v->shape.rank, rank);
	for (int k = 0; k < rank; k++)
		assert_int_equal(v->shape.d[k], d[k]);
}

/* ------------------------------------------------------------ examples */

static void test_dsl_fashion_example_loads_trained_weights(void **state)
{
	(void)state;
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_graph *g = fe_dsl_load(EXAMPLES "/fashion_cnn.qgm", &d);
	if (!g)
		fail_msg("%s", d.buf);
	assert_int_equal(ir_verify(g, true, &d), 0);
	static const ir_op ops[] = {IR_OP_CONV, IR_OP_BATCHNORM, IR_OP_RELU, IR_OP_MAX_POOL, IR_OP_CONV,
	                            IR_OP_BATCHNORM, IR_OP_RELU, IR_OP_MAX_POOL, IR_OP_CONV,
	                            IR_OP_BATCHNORM, IR_OP_RELU, IR_OP_GLOBAL_AVG_POOL, IR_OP_FLATTEN,
	                            IR_OP_GEMM};
	assert_int_equal(g->nnodes, 14);
	for (int k = 0; k < 14; k++)
		assert_int_equal(g->nodes[k]->op, ops[k]);
	assert_string_equal(g->outputs[0]->name, "logits");
	assert_shape(g->outputs[0], 2, (int64_t[]){IR_DIM_SYM, 10});
	assert_shape(node_named(g, "features.4")->out[0], 4, (int64_t[]){IR_DIM_SYM, 32, 14, 14});
	assert_int_equal(ir_attr_int(node_named(g, "fc"), "trans_b", 0), 1);

	/* the weights are the trained export's */
	ir_graph *o = fe_onnx_load(EXAMPLES "/fashion_cnn/fashion_cnn.onnx", &d);
	assert_non_null(o);
	const char *names[] = {"features.0.weight", "features.1.running_var", "fc.bias"};
	for (int k = 0; k < 3; k++) {
		ir_value *a = ir_graph_find_value(g, names[k]), *b = ir_graph_find_value(o, names[k]);
		assert_non_null(a);
		assert_non_null(b);
		assert_true(ir_shape_eq(&a->shape, &b->shape));
		assert_memory_equal(a->data, b->data, (size_t)ir_shape_numel(&a->shape) * 4);
	}
	ir_graph_destroy(o);
	ir_graph_destroy(g);
	diag_sink_fini(&d);
}

static void test_dsl_mobilenet_example_shapes(void **state)
{
	(void)state;
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_graph *g = fe_dsl_load(EXAMPLES "/mobilenet_v1_025_vww.qgm", &d);
	if (!g)
		fail_msg("%s", d.buf);
	assert_int_equal(ir_verify(g, true, &d), 0);
	/* conv_bn + 13 depthwise-separable blocks (3 + 6 nodes) + gap, flatten, dense */
	assert_int_equal(g->nnodes, 3 + 13 * 6 + 3);
	assert_shape(g->outputs[0], 2, (int64_t[]){IR_DIM_SYM, 2});
	ir_node *dw = node_named(g, "dw_sep13.dwconv1");
	assert_int_equal(ir_attr_int(dw, "group", 0), 256);
	assert_shape(dw->out[0], 4, (int64_t[]){IR_DIM_SYM, 256, 3, 3});
	/* the repeat expanded into blocks 7..11, auto-named in order */
	assert_shape(node_named(g, "dw_sep11.conv1")->out[0], 4, (int64_t[]){IR_DIM_SYM, 128, 6, 6});
	/* relu6 is clip with constant bounds 0 and 6 */
	ir_node *c = node_named(g, "conv_bn1.relu6_1");
	assert_int_equal(c->op, IR_OP_CLIP);
	assert_true(ir_const_get(c->in[1], 0) == 0.0 && ir_const_get(c->in[2], 0) == 6.0);
	ir_graph_destroy(g);
	diag_sink_fini(&d);
}

static void test_dsl_ds_cnn_example_runs(void **state)
{
	(void)state;
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_graph *g = fe_dsl_load(EXAMPLES "/ds_cnn_kws.qgm", &d);
	if (!g)
		fail_msg("%s", d.buf);
	/* pad=same for 49x10, kernel 10x4, stride 2: SAME_UPPER pads */
	int n;
	const int64_t *p = ir_attr_ints(node_named(g, "stem"), "pads", &n);
	assert_int_equal(n, 4);
	assert_true(p[0] == 4 && p[1] == 1 && p[2] == 5 && p[3] == 1);
	ir_graph_bind_batch(g, 1);
	assert_int_equal(ir_infer_shapes(g, &d), 0);
	float x[49 * 10];
	for (int k = 0; k < 490; k++)
		x[k] = (float)sin(k * 0.1);
	ir_tensor in = {IR_DT_F32, ir_shape_make(4, (int64_t[]){1, 1, 49, 10}), x}, out = {0};
	if (ir_interp_run(g, &in, &out, &d))
		fail_msg("%s", d.buf);
	float sum = 0;
	for (int k = 0; k < 12; k++)
		sum += ((float *)out.data)[k];
	assert_float_equal(sum, 1.0f, 1e-5f); /* softmax */
	ir_tensor_free(&out);
	ir_graph_destroy(g);
	diag_sink_fini(&d);
}

/* --------------------------------------------------------- semantics */

static void test_dsl_quant_hints_set_on_nodes(void **state)
{
	(void)state;
	ir_graph *g = must_load("model m(bits=4)\n"
	                        "input x: f32[N, 3, 8, 8]\n"
	                        "conv2d(8, kernel=3, bits=2, gran=per_channel) -> c1\n"
	                        "conv2d(8, kernel=1) -> c2\n"
	                        "flatten\n"
	                        "dense(10, gran=per_tensor) -> fc\n"
	                        "output\n");
	ir_node *c1 = node_named(g, "c1"), *c2 = node_named(g, "c2"), *fc = node_named(g, "fc");
	assert_int_equal(c1->qhint.bits, 2);
	assert_int_equal(c1->qhint.gran, IR_QGRAN_PER_CHANNEL);
	assert_int_equal(c2->qhint.bits, 4); /* the model's default */
	assert_int_equal(c2->qhint.gran, IR_QGRAN_DEFAULT);
	assert_int_equal(fc->qhint.bits, 4);
	assert_int_equal(fc->qhint.gran, IR_QGRAN_PER_TENSOR);
	ir_graph_destroy(g);
}

static void test_dsl_seeded_init_is_deterministic(void **state)
{
	(void)state;
	const char *a = "model m(seed=5)\ninput x: f32[N, 256]\ndense(512) -> fc\noutput\n";
	const char *b = "model m(seed=6)\ninput x: f32[N, 256]\ndense(512) -> fc\noutput\n";
	const char *c = "model m(seed=5, init=xavier)\ninput x: f32[N, 256]\ndense(512) -> fc\noutput\n";
	ir_graph *g1 = must_load(a), *g2 = must_load(a), *g3 = must_load(b), *g4 = must_load(c);
	ir_value *w1 = ir_graph_find_value(g1, "fc.weight"), *w2 = ir_graph_find_value(g2, "fc.weight");
	ir_value *w3 = ir_graph_find_value(g3, "fc.weight"), *w4 = ir_graph_find_value(g4, "fc.weight");
	size_t n = 512 * 256;
	assert_memory_equal(w1->data, w2->data, n * 4);
	assert_memory_not_equal(w1->data, w3->data, n * 4);
	/* He: N(0, 2/fan_in); Xavier: U(-a, a), a = sqrt(6/(fan_in+fan_out)) */
	double s = 0, ss = 0, mx = 0;
	for (size_t k = 0; k < n; k++) {
		double v = ((float *)w1->data)[k];
		s += v;
		ss += v * v;
		double u = fabs(((float *)w4->data)[k]);
		mx = u > mx ? u : mx;
	}
	assert_true(fabs(s / (double)n) < 0.002);
	assert_true(fabs(sqrt(ss / (double)n) - sqrt(2.0 / 256)) < 0.002);
	assert_true(mx <= sqrt(6.0 / 768) && mx > 0.99 * sqrt(6.0 / 768));
	/* biases start at zero */
	ir_value *bias = ir_graph_find_value(g1, "fc.bias");
	for (int k = 0; k < 512; k++)
		assert_true(((float *)bias->data)[k] == 0.0f);
	ir_graph_destroy(g1);
	ir_graph_destroy(g2);
	ir_graph_destroy(g3);
	ir_graph_destroy(g4);
}

static void test_dsl_blocks_repeat_and_residuals(void **state)
{
	(void)state;
	ir_graph *g = must_load("# a residual block used twice\n"
	                        "input x: f32[N, 8, 4, 4]\n"
	                        "const C = 8\n"
	                        "block res(c, k=3) {\n"
	                        "    skip = relu\n"
	                        "    conv2d(c, kernel=k, pad=(k - 1) / 2)\n"
	                        "    batchnorm\n"
	                        "    add(skip)\n"
	                        "}\n"
	                        "repeat 2 { res(C) }\n"
	                        "y = res(x, C, k=1) -> last\n"
	                        "z = concat(y, x, axis=1)\n"
	                        "output z as out\n");
	assert_int_equal(g->nnodes, 3 * 4 + 1);
	assert_int_equal(node_named(g, "res2.add1")->op, IR_OP_ADD);
	assert_int_equal(ir_attr_ints(node_named(g, "last.conv1"), "pads", &(int){0})[0], 0);
	assert_non_null(ir_graph_find_value(g, "res1.conv1.weight"));
	assert_shape(g->outputs[0], 4, (int64_t[]){IR_DIM_SYM, 16, 4, 4});
	assert_string_equal(g->outputs[0]->name, "out");
	ir_graph_destroy(g);
}

static void test_dsl_npy_weights_per_layer(void **state)
{
	(void)state;
	char dir[] = "/tmp/qgtc_dsl_XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof path, "%s/w.npy", dir);
	float w[6] = {1, 2, 3, 4, 5, 6};
	ir_tensor t = {IR_DT_F32, ir_shape_make(2, (int64_t[]){3, 2}), w};
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(fe_npy_save(path, &t, &d), 0);
	const char *text = "input x: f32[N, 2]\ndense(3, weight=\"w.npy\", bias=false) -> fc\noutput\n";
	ir_graph *g = fe_dsl_load_buffer(text, strlen(text), "t.qgm", dir, &d);
	if (!g)
		fail_msg("%s", d.buf);
	assert_memory_equal(ir_graph_find_value(g, "fc.weight")->data, w, sizeof w);
	assert_int_equal(node_named(g, "fc")->nin, 2);
	ir_graph_destroy(g);
	char *got;
	text = "input x: f32[N, 4]\ndense(3, weight=\"w.npy\")\noutput\n";
	assert_null(load(text, strlen(text), dir, &got));
	assert_string_equal(got, "t.qgm:2:17: error: layer 'dense1': 'w.npy' holds f32[3,2]; the layer needs f32[3,4]\n"
	                         "  dense(3, weight=\"w.npy\")\n"
	                         "                  ^\n");
	free(got);
	unlink(path);
	rmdir(dir);
	diag_sink_fini(&d);
}

static void test_dsl_onnx_weights_shape_mismatch(void **state)
{
	(void)state;
	const char *text = "weights \"fashion_cnn/fashion_cnn.onnx\"\n"
	                   "input image: f32[N, 1, 28, 28]\n"
	                   "conv2d(8, kernel=3, pad=1) -> features.0\n"
	                   "output\n";
	char *got;
	assert_null(load(text, strlen(text), EXAMPLES, &got));
	assert_string_equal(got, "t.qgm:3:1: error: layer 'features.0': 'features.0.weight' in "
	                         "'fashion_cnn/fashion_cnn.onnx' is f32[16,1,3,3]; the layer needs f32[8,1,3,3]\n"
	                         "  conv2d(8, kernel=3, pad=1) -> features.0\n"
	                         "  ^\n");
	free(got);
}

/* ------------------------------------------------------------ hostile */

static void test_dsl_unterminated_comment(void **state)
{
	(void)state;
	expect_error("model m /* oops\ninput x: f32[1]\n",
	             "t.qgm:1:9: error: unterminated comment\n"
	             "  model m /* oops\n"
	             "          ^\n");
}

static void test_dsl_huge_numbers(void **state)
{
	(void)state;
	expect_error("input x: f32[1, 99999999999999999999999]\n",
	             "t.qgm:1:17: error: integer out of range\n"
	             "  input x: f32[1, 99999999999999999999999]\n"
	             "                  ^\n");
	expect_error("const a = 1e999\n",
	             "t.qgm:1:11: error: number out of range\n"
	             "  const a = 1e999\n"
	             "            ^\n");
	expect_error("input x: f32[N, 4]\nconst a = 9223372036854775807\ndense(a * 2)\n",
	             "t.qgm:3:9: error: integer overflow\n"
	             "  dense(a * 2)\n"
	             "          ^\n");
}

/* Constant arithmetic on the int64 edge: INT64_MIN / -1 (which traps in
 * hardware division) and -INT64_MIN overflow like a * 2 does. */
static void test_dsl_int64_min_arithmetic(void **state)
{
	(void)state;
	expect_error("const a = (-9223372036854775807 - 1) / -1\n",
	             "t.qgm:1:38: error: integer overflow\n"
	             "  const a = (-9223372036854775807 - 1) / -1\n"
	             "                                       ^\n");
	expect_error("const a = -9223372036854775807 - 1\nconst b = -a\n",
	             "t.qgm:2:11: error: integer overflow\n"
	             "  const b = -a\n"
	             "            ^\n");
	expect_error("const a = -9223372036854775807 - 2\n",
	             "t.qgm:1:32: error: integer overflow\n"
	             "  const a = -9223372036854775807 - 2\n"
	             "                                 ^\n");
}

static char *repeat_str(const char *head, const char *unit, int n, const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
	char *s = malloc(hl + ul * (size_t)n + tl + 1), *p = s;
	memcpy(p, head, hl);
	p += hl;
	for (int k = 0; k < n; k++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, tail, tl + 1);
	return s;
}

static void test_dsl_deep_nesting(void **state)
{
	(void)state;
	char *s = repeat_str("const a = ", "(", 100000, "1\n");
	/* the source line is shown up to 200 characters */
	char *want = repeat_str("t.qgm:1:75: error: nesting deeper than 64 levels\n  const a = ", "(", 190,
	                        "\n                                                                            ^\n");
	expect_error(s, want);
	free(want);
	free(s);
	s = repeat_str("input x: f32[1]\n", "repeat 1 {\n", 100000, "");
	expect_error(s, "t.qgm:66:10: error: nesting deeper than 64 levels\n"
	                "  repeat 1 {\n"
	                "           ^\n");
	free(s);
	s = repeat_str("const a = 1", "+1", 100000, "\n");
	char *got;
	assert_null(load(s, strlen(s), NULL, &got));
	assert_non_null(strstr(got, "t.qgm:1:410: error: expression nested more than 200 deep\n"));
	free(got);
	free(s);
	s = repeat_str("const a = ", "-", 100000, "1\n");
	assert_null(load(s, strlen(s), NULL, &got));
	assert_non_null(strstr(got, "error: model text is nested too deeply\n"));
	free(got);
	free(s);
	expect_error("input x: f32[N, 3, 8, 8]\nblock a(c) {\n  a(c)\n}\na(3)\noutput\n",
	             "t.qgm:3:3: error: blocks nested more than 32 deep (is 'a' recursive?)\n"
	             "    a(c)\n"
	             "    ^\n");
	/* Block calls are bounded in number as well as in depth. */
	static const char *const work[][2] = {
		{"input x: f32[N, 3, 8, 8]\nblock b(c) {\n  relu\n}\nrepeat 6000 {\n  b(3)\n  b(3)\n}\noutput\n",
		 "t.qgm:6:3: error: more than 10000 block calls build the model (is 'b' called inside itself "
		 "or a repeat?)\n"},
	};
	for (size_t i = 0; i < sizeof work / sizeof *work; i++) {
		assert_null(load(work[i][0], strlen(work[i][0]), NULL, &got));
		if (!strstr(got, work[i][1]))
			fail_msg("case %zu: want '%s' in:\n%s", i, work[i][1], got);
		free(got);
	}
	/* Weights are bounded in total (256 MiB): one dense layer of 8193 x
	 * 8192 is refused before anything is allocated (fuzzing found a
	 * MobileNet at width 225 that took 2 GB under the old 1 GiB bound). */
	expect_error("input x: f32[N, 8192]\ndense(8193)\noutput\n",
	             "t.qgm:2:1: error: layer 'dense1': weights [8193,8192] are too large\n"
	             "  dense(8193)\n"
	             "  ^\n");
	/* Names grow with each nested call: a full name has a bound too. */
	s = repeat_str("input x: f32[N, 3, 8, 8]\nrelu -> ", "a", 600, "\noutput\n");
	assert_null(load(s, strlen(s), NULL, &got));
	assert_non_null(strstr(got, "t.qgm:2:9: error: a layer's full name would be longer than 512 characters"));
	free(got);
	free(s);
}

static void test_dsl_nul_byte(void **state)
{
	(void)state;
	static const char text[] = "input x: f32[1, 2]\nre\0lu\noutput\n";
	char *got;
	assert_null(load(text, sizeof text - 1, NULL, &got));
	assert_string_equal(got, "t.qgm:2:3: error: unexpected NUL byte\n"
	                         "  re lu\n"
	                         "    ^\n");
	free(got);
}

static void test_dsl_truncated_file(void **state)
{
	(void)state;
	expect_error("model m\ninput x: f32[N, 3",
	             "t.qgm:2:18: error: unexpected end of file\n"
	             "  input x: f32[N, 3\n"
	             "                   ^\n");
	expect_error("input x: f32[N, 3, 8, 8]\nblock b(c) {\n  conv2d(c, kernel=3)\n",
	             "t.qgm:3:22: error: unexpected end of file: the '{' on line 2 is not closed\n"
	             "    conv2d(c, kernel=3)\n"
	             "                       ^\n");
	expect_error("model m\nweights \"abc\ninput x: f32[1]\n",
	             "t.qgm:2:9: error: unterminated string\n"
	             "  weights \"abc\n"
	             "          ^\n");
	expect_error("", "t.qgm:1:1: error: the model has no 'input'\n"
	                 "  \n"
	                 "  ^\n");
}

static void test_dsl_wrong_shapes(void **state)
{
	(void)state;
	expect_error("input x: f32[N, 3, 8, 8]\n"
	             "y = conv2d(8, kernel=3)\n"
	             "z = conv2d(x, 4, kernel=1)\n"
	             "add(y, z)\n"
	             "output\n",
	             "t.qgm:4:1: error: add: cannot broadcast [?,8,6,6] with [?,4,8,8]\n"
	             "  add(y, z)\n"
	             "  ^\n");
	expect_error("input x: f32[N, 3, 8, 8]\ndense(10)\noutput\n",
	             "t.qgm:2:1: error: dense expects a 2-D input [N, features] (add flatten first), "
	             "got 'x' f32[?,3,8,8]\n"
	             "  dense(10)\n"
	             "  ^\n");
	expect_error("input x: f32[N, 6, 8, 8]\nconv2d(8, kernel=3, groups=4)\noutput\n",
	             "t.qgm:2:28: error: conv2d: groups=4 must divide the input channels (6) and the "
	             "output channels (8)\n"
	             "  conv2d(8, kernel=3, groups=4)\n"
	             "                             ^\n");
}

static void test_dsl_undefined_names(void **state)
{
	(void)state;
	expect_error("input image: f32[N, 3, 8, 8]\n"
	             "y = add(image, imag)\n"
	             "output z\n",
	             "t.qgm:2:16: error: undefined name 'imag'; did you mean 'image'?\n"
	             "  y = add(image, imag)\n"
	             "                 ^\n"
	             "t.qgm:3:8: error: undefined name 'z'\n"
	             "  output z\n"
	             "         ^\n");
	expect_error("input x: f32[N, H]\n",
	             "t.qgm:1:17: error: undefined name 'H' (only the first dimension may be symbolic)\n"
	             "  input x: f32[N, H]\n"
	             "                  ^\n");
}

static void test_dsl_misspelt_layer_suggests(void **state)
{
	(void)state;
	expect_error("input x: f32[N, 3, 8, 8]\nconv2 (4, kernel=3)\noutput\n",
	             "t.qgm:2:1: error: unknown layer 'conv2'; did you mean 'conv2d'?\n"
	             "  conv2 (4, kernel=3)\n"
	             "  ^\n");
	expect_error("input x: f32[N, 3, 8, 8]\nmaxpool(2, strid=2)\noutput\n",
	             "t.qgm:2:12: error: maxpool has no parameter 'strid'; did you mean 'stride'?\n"
	             "  maxpool(2, strid=2)\n"
	             "             ^\n");
	expect_error("model m(init=kaiming)\ninput x: f32[1]\n",
	             "t.qgm:1:14: error: 'init' must be one of he,xavier, not 'kaiming'\n"
	             "  model m(init=kaiming)\n"
	             "               ^\n");
}

static void test_dsl_several_errors_in_one_run(void **state)
{
	(void)state;
	/* syntax errors: one per line, each line recovered */
	expect_error("input x: f32[N, 3, 8, 8]\n"
	             "conv2d(4, kernel=3 pad=1)\n"
	             "relu )\n"
	             "conv2d(4, kernel=3) @\n"
	             "output\n",
	             "t.qgm:2:20: error: unexpected 'pad'\n"
	             "  conv2d(4, kernel=3 pad=1)\n"
	             "                     ^\n"
	             "t.qgm:3:6: error: unexpected ')'\n"
	             "  relu )\n"
	             "       ^\n"
	             "t.qgm:4:21: error: unexpected character '@'\n"
	             "  conv2d(4, kernel=3) @\n"
	             "                      ^\n");
	/* semantic errors: every layer is checked, without cascades */
	expect_error("input x: f32[N, 3, 8, 8]\n"
	             "conv2d(4, kernal=3)\n"
	             "relu\n"
	             "sigmoidd\n"
	             "dense(10)\n"
	             "output\n",
	             "t.qgm:2:11: error: conv2d has no parameter 'kernal'; did you mean 'kernel'?\n"
	             "  conv2d(4, kernal=3)\n"
	             "            ^\n"
	             "t.qgm:4:1: error: unknown layer 'sigmoidd'; did you mean 'sigmoid'?\n"
	             "  sigmoidd\n"
	             "  ^\n");
}

static void test_dsl_load_missing_file(void **state)
{
	(void)state;
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_null(fe_dsl_load("/nonexistent/m.qgm", &d));
	assert_string_equal(d.buf, "qgtc: error: cannot open '/nonexistent/m.qgm': No such file or directory\n");
	diag_sink_fini(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dsl_fashion_example_loads_trained_weights),
		cmocka_unit_test(test_dsl_mobilenet_example_shapes),
		cmocka_unit_test(test_dsl_ds_cnn_example_runs),
		cmocka_unit_test(test_dsl_quant_hints_set_on_nodes),
		cmocka_unit_test(test_dsl_seeded_init_is_deterministic),
		cmocka_unit_test(test_dsl_blocks_repeat_and_residuals),
		cmocka_unit_test(test_dsl_npy_weights_per_layer),
		cmocka_unit_test(test_dsl_onnx_weights_shape_mismatch),
		cmocka_unit_test(test_dsl_unterminated_comment),
		cmocka_unit_test(test_dsl_huge_numbers),
		cmocka_unit_test(test_dsl_int64_min_arithmetic),
		cmocka_unit_test(test_dsl_deep_nesting),
		cmocka_unit_test(test_dsl_nul_byte),
		cmocka_unit_test(test_dsl_truncated_file),
		cmocka_unit_test(test_dsl_wrong_shapes),
		cmocka_unit_test(test_dsl_undefined_names),
		cmocka_unit_test(test_dsl_misspelt_layer_suggests),
		cmocka_unit_test(test_dsl_several_errors_in_one_run),
		cmocka_unit_test(test_dsl_load_missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
