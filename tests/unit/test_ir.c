/* test_ir.c: the IR core: graph building, names, order, verifier, text
 * form, and the pass manager's generic passes. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ir.h"
#include "pass.h"

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

/* x -> relu -> y ; plus a dead branch x -> sigmoid -> z */
static ir_graph *small_graph(void)
{
	ir_graph *g = ir_graph_create("small");
	ir_shape s = shp(2, IR_DIM_SYM, 4);
	ir_value *x = ir_graph_add_value(g, "x", IR_DT_F32, &s);
	ir_graph_add_input(g, x);
	ir_value *y = ir_graph_add_value(g, "y", IR_DT_F32, NULL);
	ir_value *z = ir_graph_add_value(g, "onnx::z", IR_DT_F32, NULL);
	ir_node *n = ir_graph_add_node(g, IR_OP_RELU, "Relu_0", 1, &x, 1, &y);
	n->src_op = "Relu";
	n->src_index = 0;
	ir_graph_add_node(g, IR_OP_SIGMOID, "", 1, &x, 1, &z);
	ir_graph_add_output(g, y);
	return g;
}

static char *print_to_string(const ir_graph *g, long max_inline)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ir_print(f, g, max_inline);
	fclose(f);
	return buf;
}

static void test_ir_shape_numel_overflow(void **state)
{
	(void)state;
	ir_shape s = shp(2, 3, 4);
	assert_int_equal(ir_shape_numel(&s), 12);
	ir_shape big = {.rank = 3, .d = {1 << 20, 1 << 20, 1 << 20}};
	assert_int_equal(ir_shape_numel(&big), -1);
	ir_shape sym = shp(2, IR_DIM_SYM, 4);
	assert_int_equal(ir_shape_numel(&sym), -1);
	assert_false(ir_shape_known(&sym));
	char b[32];
	assert_string_equal(ir_shape_str(&sym, b, sizeof b), "[?,4]");
	/* a zero dim does not hide the others: their partial products (a
	 * flatten's outer size) would overflow int64, wherever the 0 stands */
	int64_t big36 = (int64_t)1 << 36;
	ir_shape z0 = {.rank = 3, .d = {0, big36, big36}}, z2 = {.rank = 3, .d = {big36, big36, 0}};
	assert_int_equal(ir_shape_numel(&z0), -1);
	assert_int_equal(ir_shape_numel(&z2), -1);
	ir_shape zok = {.rank = 3, .d = {big36, 0, 1}};
	assert_int_equal(ir_shape_numel(&zok), 0);
}

/* Vector capacities double without overflowing int near INT_MAX. */
/* A data sample feeds an input item of the same count unless both have a
 * layout (two or more dims above 1) and the layouts differ. */
static void test_ir_shape_feeds(void **state)
{
	(void)state;
	ir_shape in = ir_shape_make(4, (int64_t[]){1, 3, 8, 6});
	ir_shape sym = ir_shape_make(4, (int64_t[]){IR_DIM_SYM, 3, 8, 6});
	ir_shape chw = ir_shape_make(3, (int64_t[]){3, 8, 6});
	ir_shape hwc = ir_shape_make(3, (int64_t[]){8, 6, 3});
	ir_shape flat = ir_shape_make(1, (int64_t[]){144});
	ir_shape ones = ir_shape_make(5, (int64_t[]){1, 3, 1, 8, 6});
	ir_shape fewer = ir_shape_make(1, (int64_t[]){143});
	assert_true(ir_shape_feeds(&chw, &in));
	assert_true(ir_shape_feeds(&chw, &sym));
	assert_true(ir_shape_feeds(&flat, &in));
	assert_true(ir_shape_feeds(&ones, &in));
	assert_false(ir_shape_feeds(&hwc, &in));
	assert_false(ir_shape_feeds(&fewer, &in));
	ir_shape mlp = ir_shape_make(2, (int64_t[]){4, 144});
	assert_true(ir_shape_feeds(&hwc, &mlp)); /* a flat input takes any layout */
	ir_shape scalar = ir_shape_make(0, NULL);
	assert_false(ir_shape_feeds(&chw, &scalar));
}

static void test_ir_grow_cap_saturates(void **state)
{
	(void)state;
	assert_int_equal(ir_grow_cap(0, 1), 16);
	assert_int_equal(ir_grow_cap(16, 16), 16);
	assert_int_equal(ir_grow_cap(16, 17), 32);
	assert_int_equal(ir_grow_cap(16, 1000), 1024);
	assert_int_equal(ir_grow_cap(1 << 30, (1 << 30) + 1), INT_MAX);
	assert_int_equal(ir_grow_cap(INT_MAX / 2 + 1, INT_MAX), INT_MAX);
	assert_int_equal(ir_grow_cap(16, INT_MAX), INT_MAX);
}

/* An INTS attribute with no storage gives an empty list at an address
 * fit for int64_t, not a cast string literal. */
static void test_ir_attr_ints_empty_is_aligned(void **state)
{
	(void)state;
	ir_graph *g = ir_graph_create("attrs");
	ir_value *x = ir_graph_add_value(g, "x", IR_DT_F32, NULL);
	ir_value *y = ir_graph_add_value(g, "y", IR_DT_F32, NULL);
	ir_node *n = ir_graph_add_node(g, IR_OP_TRANSPOSE, "t", 1, &x, 1, &y);
	ir_node_set_ints(g, n, "perm", NULL, 0);
	ir_attr *a = (ir_attr *)ir_node_attr(n, "perm");
	assert_non_null(a);
	a->v.ints = NULL;
	int cnt = -1;
	const int64_t *p = ir_attr_ints(n, "perm", &cnt);
	assert_int_equal(cnt, 0);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % _Alignof(int64_t), 0);
	ir_graph_destroy(g);
}

static void test_ir_value_names_are_unique(void **state)
{
	(void)state;
	ir_graph *g = ir_graph_create("g");
	ir_shape s = shp(1, 2);
	assert_non_null(ir_graph_add_value(g, "a", IR_DT_F32, &s));
	assert_null(ir_graph_add_value(g, "a", IR_DT_F32, &s));
	assert_string_equal(ir_graph_unique_name(g, "a"), "a.1");
	assert_string_equal(ir_graph_unique_name(g, "b"), "b");
	/* many values: the name map must keep finding all of them */
	char name[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "v%d", i);
		assert_non_null(ir_graph_add_value(g, name, IR_DT_F32, &s));
	}
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "v%d", i);
		ir_value *v = ir_graph_find_value(g, name);
		assert_non_null(v);
		assert_string_equal(v->name, name);
	}
	ir_graph_destroy(g);
}

static void test_ir_toposort_orders_and_finds_cycles(void **state)
{
	(void)state;
	ir_graph *g = ir_graph_create("g");
	ir_shape s = shp(1, 2);
	ir_value *x = ir_graph_add_value(g, "x", IR_DT_F32, &s);
	ir_graph_add_input(g, x);
	ir_value *a = ir_graph_add_value(g, "a", IR_DT_F32, NULL);
	ir_value *b = ir_graph_add_value(g, "b", IR_DT_F32, NULL);
	/* added consumer-first */
	ir_graph_add_node(g, IR_OP_TANH, "second", 1, &a, 1, &b);
	ir_graph_add_node(g, IR_OP_RELU, "first", 1, &x, 1, &a);
	ir_graph_add_output(g, b);
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(ir_graph_toposort(g, &d), 0);
	assert_string_equal(g->nodes[0]->name, "first");
	assert_string_equal(g->nodes[1]->name, "second");
	assert_int_equal(ir_verify(g, false, &d), 0);

	/* a <- tanh(b), b <- relu(a): a cycle */
	ir_graph *c = ir_graph_create("cyc");
	ir_value *p = ir_graph_add_value(c, "p", IR_DT_F32, &s);
	ir_value *q = ir_graph_add_value(c, "q", IR_DT_F32, &s);
	ir_graph_add_node(c, IR_OP_TANH, "t", 1, &q, 1, &p);
	ir_graph_add_node(c, IR_OP_RELU, "r", 1, &p, 1, &q);
	ir_graph_add_output(c, q);
	assert_int_equal(ir_graph_toposort(c, &d), -1);
	assert_non_null(strstr(d.buf, "cycle"));
	diag_sink_fini(&d);
	ir_graph_destroy(g);
	ir_graph_destroy(c);
}

static void test_ir_verify_reports_bad_structure(void **state)
{
	(void)state;
	ir_graph *g = small_graph();
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(ir_verify(g, false, &d), 0);

	ir_node *n = g->nodes[0];
	ir_node_set_int(g, n, "bogus", 1);
	assert_int_equal(ir_verify(g, false, &d), -1);
	assert_non_null(strstr(d.buf, "unknown attribute 'bogus' for relu"));
	ir_node_del_attr(n, "bogus");

	/* conv needs at least two inputs */
	ir_node *c = g->nodes[1];
	c->op = IR_OP_CONV;
	diag_sink_fini(&d);
	diag_sink_init_capture(&d);
	assert_int_equal(ir_verify(g, false, &d), -1);
	assert_non_null(strstr(d.buf, "conv takes 2..3 inputs, has 1"));
	c->op = IR_OP_SIGMOID;

	/* an attribute of the right name but the wrong kind */
	ir_graph *g2 = ir_graph_create("g2");
	ir_shape s = shp(4, 1, 1, 4, 4);
	ir_value *x = ir_graph_add_value(g2, "x", IR_DT_F32, &s);
	ir_graph_add_input(g2, x);
	ir_value *y = ir_graph_add_value(g2, "y", IR_DT_F32, NULL);
	ir_node *p = ir_graph_add_node(g2, IR_OP_MAX_POOL, "mp", 1, &x, 1, &y);
	ir_node_set_int(g2, p, "kernel", 2);
	ir_graph_add_output(g2, y);
	diag_sink_fini(&d);
	diag_sink_init_capture(&d);
	assert_int_equal(ir_verify(g2, false, &d), -1);
	assert_non_null(strstr(d.buf, "attribute 'kernel' has the wrong kind"));

	/* graph output never defined */
	ir_graph *g3 = ir_graph_create("g3");
	ir_value *u = ir_graph_add_value(g3, "u", IR_DT_F32, &s);
	ir_graph_add_output(g3, u);
	diag_sink_fini(&d);
	diag_sink_init_capture(&d);
	assert_int_equal(ir_verify(g3, false, &d), -1);
	assert_non_null(strstr(d.buf, "graph output 'u' is never defined"));
	diag_sink_fini(&d);
	ir_graph_destroy(g);
	ir_graph_destroy(g2);
	ir_graph_destroy(g3);
}

/* verify rejects ir_quant annotations that do not fit their value: the
 * printer, the backend's weight loader and the passes size their reads
 * by nchan, bits and the element count. */
static void verify_fails_with(ir_graph *g, const char *want)
{
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(ir_verify(g, false, &d), -1);
	if (!strstr(d.buf, want))
		fail_msg("expected '%s' in:\n%s", want, d.buf);
	diag_sink_fini(&d);
}

static void test_ir_verify_checks_quant(void **state)
{
	(void)state;
	ir_graph *g = small_graph();
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_shape ws = shp(2, 2, 4);
	float wd[8] = {0};
	ir_value *w = ir_graph_add_const(g, "w", IR_DT_F32, &ws, wd);
	ir_quant *q = ir_arena_alloc(g->arena, sizeof *q);
	float sc[3] = {1, 1, 1};
	uint8_t codes[8] = {1, 1, 1, 1, 1, 1, 1, 1};
	*q = (ir_quant){.scheme = IR_QS_SYMMETRIC, .bits = 2, .axis = 0, .nchan = 2, .scale = sc,
	                .codes = codes};
	w->quant = q;
	assert_int_equal(ir_verify(g, false, &d), 0);

	q->nchan = 3;
	verify_fails_with(g, "'w': 3 parameter sets, but axis 0 has extent 2");
	q->axis = -1;
	verify_fails_with(g, "'w': 3 parameter sets per tensor (axis -1), expected 1");
	q->axis = 2;
	verify_fails_with(g, "'w': axis 2 is not an axis of [2,4]");
	q->axis = 0;
	q->nchan = 2;
	q->bits = 9;
	verify_fails_with(g, "'w': bits=9: weight codes take 1..8 bits");
	q->bits = 2;
	codes[5] = 4;
	verify_fails_with(g, "'w': code 4 (element 5) does not fit in 2 bits");
	codes[5] = 1;
	q->scheme = (ir_qscheme)99;
	verify_fails_with(g, "'w': unknown quantization scheme 99");
	q->scheme = IR_QS_SYMMETRIC;
	assert_int_equal(ir_verify(g, false, &d), 0);

	/* an integer activation: affine, bits = the dtype's width */
	ir_shape as = shp(2, 1, 4);
	ir_value *a = ir_graph_add_value(g, "a", IR_DT_U8, &as);
	ir_graph_add_input(g, a);
	a->quant = ir_quant_act_create(g, IR_DT_U8, -1, 1);
	a->quant->scale[0] = 0.5f;
	assert_int_equal(ir_verify(g, false, &d), 0);
	a->quant->bits = 16;
	verify_fails_with(g, "'a': bits=16 on a u8 value, expected 8");
	a->quant->bits = 8;
	a->quant->zero_point[0] = 300;
	verify_fails_with(g, "'a': zero point 300 does not fit in u8");
	a->quant->zero_point[0] = 3;
	a->quant->scheme = IR_QS_SYMMETRIC;
	verify_fails_with(g, "'a': an integer value's quantization must be affine");
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_ir_print_text_form(void **state)
{
	(void)state;
	ir_graph *g = small_graph();
	ir_shape s = shp(1, 3);
	float w[3] = {0.5f, -1.0f, 0.1f};
	ir_graph_add_const(g, "w", IR_DT_F32, &s, w);
	char *txt = print_to_string(g, 16);
	assert_string_equal(txt, "graph small {\n"
	                         "  input %x: f32[?,4]\n"
	                         "  const %w: f32[3] = [0.5, -1.0, 0.100000001]\n"
	                         "  %y: f32[*] = relu(%x)  ; Relu_0 (Relu) #0\n"
	                         "  %\"onnx::z\": f32[*] = sigmoid(%x)\n"
	                         "  output %y\n"
	                         "}\n");
	free(txt);
	txt = print_to_string(g, 2);
	assert_non_null(strstr(txt, "const %w: f32[3] = elided\n"));
	free(txt);
	ir_graph_destroy(g);
}

static void test_pass_unknown_name_lists_registry(void **state)
{
	(void)state;
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(pass_check_pipeline("shapes,nope,dce,also-nope", &d), -1);
	assert_int_equal(d.nerr, 2);
	assert_non_null(strstr(d.buf, "unknown pass 'nope' (known passes: shapes, fold-constants, unroll-rnn, lower-einsum, fold-qdq, fold-pad, dce"));
	assert_non_null(strstr(d.buf, "unknown pass 'also-nope'"));
	diag_sink_fini(&d);
}

static void test_pass_dce_removes_dead_branch(void **state)
{
	(void)state;
	ir_graph *g = small_graph();
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(pass_run_pipeline(g, "dce", NULL, &d), 0);
	assert_int_equal(g->nnodes, 1);
	assert_int_equal(g->nodes[0]->op, IR_OP_RELU);
	assert_null(ir_graph_find_value(g, "onnx::z"));
	assert_int_equal(ir_verify(g, false, &d), 0);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_pass_print_after_dumps(void **state)
{
	(void)state;
	ir_graph *g = small_graph();
	diag_sink d;
	diag_sink_init_capture(&d);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	pass_options o = {.print_after = "dce", .print_out = f, .print_max_inline = 16};
	assert_int_equal(pass_run_pipeline(g, "dce", &o, &d), 0);
	fclose(f);
	assert_non_null(strstr(buf, "; *** IR after dce ***\ngraph small {"));
	assert_null(strstr(buf, "sigmoid"));
	free(buf);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* A pass registered from above (as qgt/ registers qgt) that records the
 * batch dimension of the input it sees. */
static int64_t seen_batch;

static int pass_probe(ir_graph *g, const pass_options *o, diag_sink *d)
{
	(void)o;
	(void)d;
	seen_batch = g->inputs[0]->shape.d[0];
	return 0;
}

static const pass_info probe = {"probe", "record the input's batch", pass_probe, true};
static const pass_info probe_bound = {"probe-bound", "the same, on the bound batch", pass_probe, false};

static void test_pass_register_and_batch_binding(void **state)
{
	(void)state;
	diag_sink d;
	diag_sink_init_capture(&d);
	int n0 = pass_count();
	assert_int_equal(pass_register(&probe), 0);
	assert_int_equal(pass_register(&probe_bound), 0);
	assert_int_equal(pass_register(&probe), -1); /* the name is taken */
	assert_int_equal(pass_count(), n0 + 2);
	assert_ptr_equal(pass_find("probe"), &probe);
	assert_ptr_equal(pass_at(n0), &probe);
	assert_int_equal(pass_check_pipeline("shapes,probe,dce", &d), 0);
	/* without a model_batch pass the batch is bound before the first */
	ir_graph *g = small_graph();
	pass_options o = {.batch = 4};
	assert_int_equal(pass_run_pipeline(g, "shapes,probe-bound", &o, &d), 0);
	assert_int_equal(seen_batch, 4);
	ir_graph_destroy(g);
	/* with one, after it: it sees the model's own, its successors 4 */
	g = small_graph();
	assert_int_equal(pass_run_pipeline(g, "shapes,probe,probe-bound", &o, &d), 0);
	assert_int_equal(g->inputs[0]->shape.d[0], 4);
	assert_int_equal(seen_batch, 4);
	ir_graph_destroy(g);
	g = small_graph();
	assert_int_equal(pass_run_pipeline(g, "shapes,probe", &o, &d), 0);
	assert_int_equal(seen_batch, IR_DIM_SYM);
	assert_int_equal(g->inputs[0]->shape.d[0], 4);
	assert_int_equal(ir_graph_find_value(g, "y")->shape.d[0], 4); /* shapes inferred again */
	ir_graph_destroy(g);
	assert_int_equal(d.nerr, 0);
	diag_sink_fini(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ir_shape_numel_overflow),
		cmocka_unit_test(test_ir_shape_feeds),
		cmocka_unit_test(test_ir_grow_cap_saturates),
		cmocka_unit_test(test_ir_attr_ints_empty_is_aligned),
		cmocka_unit_test(test_ir_value_names_are_unique),
		cmocka_unit_test(test_ir_toposort_orders_and_finds_cycles),
		cmocka_unit_test(test_ir_verify_reports_bad_structure),
		cmocka_unit_test(test_ir_verify_checks_quant),
		cmocka_unit_test(test_ir_print_text_form),
		cmocka_unit_test(test_pass_unknown_name_lists_registry),
		cmocka_unit_test(test_pass_dce_removes_dead_branch),
		cmocka_unit_test(test_pass_print_after_dumps),
		cmocka_unit_test(test_pass_register_and_batch_binding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
