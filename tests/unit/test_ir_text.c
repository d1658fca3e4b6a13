/* test_ir_text.c: the .qir text form reads back to the same text, and
 * malformed text gets exact, located diagnostics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ir.h"

static char *print_to_string(const ir_graph *g, long max_inline)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ir_print(f, g, max_inline);
	fclose(f);
	return buf;
}

static const char *const full_text =
	"graph \"my model\" {\n"
	"  input %x: f32[?,3,8,8]\n"
	"  input %\"weird name\\\\\": f32[16]\n"
	"  const %w: f32[4,3,3,3] = elided\n"
	"  const %b: f32[4] = [0.5, -1.0, 1e-30, inf]\n"
	"  const %shape: i64[2] = [0, -1]\n"
	"  const %flag: bool[1] = [1]\n"
	"  const %q: u8[3] = [0, 128, 255]\n"
	"  const %qw: f32[2,2] = [0.5, -0.5, 1.0, 0.0] !quant{scheme=\"symmetric\", bits=2, axis=0, scale=[0.5, 1.0], codes=[2, 0, 2, 1]}\n"
	"  const %cb: f32[3] = elided !quant{scheme=\"codebook\", bits=1, axis=-1, levels=[-0.25, 0.75]}\n"
	"  %c: f32[?,4,8,8] = conv(%x, %w, %b) {auto_pad=\"SAME_UPPER\", group=1, strides=[1,1]}  ; \"/features/Conv\" (Conv) #3\n"
	"  %r: f32[*] = reshape(%c, %shape)  ; (Reshape) #4\n"
	"  %y: f32[*], _ = dropout(%r, _, _)\n"
	"  %k: f32[*] = clip(%y, _, _)  ; clip_0\n"
	"  %s: f32[*] = leaky_relu(%k) {alpha=0.100000001} !bits=4 !per_tensor  ; act\n"
	"  %rs: f32[*] = resize(%s, _, _, _) {axes=[2,3], mode=\"linear\"}\n"
	"  output %rs\n"
	"  output %y\n"
	"}\n";

/* text as t.qir, which must parse (else the test fails with the
 * diagnostics) and print back, every constant in full, to the same text. */
static ir_graph *parse_round_trip(const char *text, diag_sink *d)
{
	ir_graph *g = ir_parse(text, strlen(text), "t.qir", d);
	if (!g)
		fail_msg("%s", d->buf);
	char *again = print_to_string(g, -1);
	assert_string_equal(again, text);
	free(again);
	return g;
}

static void test_ir_text_round_trip(void **state)
{
	(void)state;
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_graph *g = parse_round_trip(full_text, &d);
	assert_int_equal(ir_verify(g, false, &d), 0);
	assert_int_equal(g->nodes[0]->src_index, 3);
	assert_string_equal(g->nodes[0]->name, "/features/Conv");
	assert_string_equal(g->nodes[0]->src_op, "Conv");
	assert_null(ir_graph_find_value(g, "w")->data);
	ir_graph_destroy(g);
	diag_sink_fini(&d);
}

/* Build a graph through the API, print every constant, parse, print. */
static void test_ir_text_round_trip_exact_floats(void **state)
{
	(void)state;
	ir_graph *g = ir_graph_create("floats");
	ir_shape s = {.rank = 1, .d = {6}};
	float v[6] = {0.1f, 1.0f / 3.0f, -2.5e-38f, 3.4028235e38f, 1e-45f, -0.0f};
	ir_value *c = ir_graph_add_const(g, "c", IR_DT_F32, &s, v);
	ir_value *y = ir_graph_add_value(g, "y", IR_DT_F32, &s);
	ir_graph_add_node(g, IR_OP_RELU, "r", 1, &c, 1, &y);
	ir_graph_add_output(g, y);
	char *t1 = print_to_string(g, -1);
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_graph *h = ir_parse(t1, strlen(t1), "f.qir", &d);
	assert_non_null(h);
	char *t2 = print_to_string(h, -1);
	assert_string_equal(t1, t2);
	assert_memory_equal(ir_graph_find_value(h, "c")->data, v, sizeof v);
	free(t1);
	free(t2);
	ir_graph_destroy(g);
	ir_graph_destroy(h);
	diag_sink_fini(&d);
}

static void expect_error(const char *text, size_t len, const char *want)
{
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_graph *g = ir_parse(text, len, "bad.qir", &d);
	assert_null(g);
	assert_true(d.nerr > 0);
	if (!strstr(d.buf, want))
		fail_msg("expected diagnostic containing\n%s\ngot\n%s", want, d.buf);
	diag_sink_fini(&d);
}

#define EXPECT_ERROR(text, want) expect_error(text, sizeof(text) - 1, want)

/* A per-tensor activation quant (axis=-1) reads on a value whose shape
 * inference has yet to give (i8[*]), and reads back the same. */
static void test_ir_text_quant_on_unknown_shape(void **state)
{
	(void)state;
	const char *t = "graph g {\n"
	                "  input %x: i8[1,4] !quant{scheme=\"affine\", bits=8, axis=-1, scale=[0.5], zero_point=[0]}\n"
	                "  %y: i8[*] !quant{scheme=\"affine\", bits=8, axis=-1, scale=[0.5], zero_point=[0]} = relu(%x)\n"
	                "  output %y\n"
	                "}\n";
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_graph_destroy(parse_round_trip(t, &d));
	EXPECT_ERROR("graph g {\n  input %x: i8[1,4]\n  %y: i8[*] !quant{scheme=\"affine\", bits=8, axis=0} = relu(%x)\n}\n",
	             "axis=0 is not an axis of y");
	diag_sink_fini(&d);
}

static void test_ir_text_errors_point_at_the_problem(void **state)
{
	(void)state;
	EXPECT_ERROR("graph g {\n  input %x: f32[2]\n  %y: f32[2] = rleu(%x)\n  output %y\n}\n",
	             "bad.qir:3:16: error: unknown op 'rleu'\n"
	             "    %y: f32[2] = rleu(%x)\n"
	             "                 ^");
	EXPECT_ERROR("graph g {\n  %y: f32[2] = relu(%nope)\n  output %y\n}\n",
	             "bad.qir:2:21: error: undefined value '%nope'");
	EXPECT_ERROR("graph g {\n  input %x: f99[2]\n}\n",
	             "bad.qir:2:13: error: expected an element type");
	EXPECT_ERROR("graph g {\n  input %x: f32[2]\n", "bad.qir:3:1: error: unexpected end of file: missing '}'");
	EXPECT_ERROR("graph g {\n  const %c: i64[1] = [99999999999999999999999]\n}\n",
	             "is not an integer in range");
	EXPECT_ERROR("graph g {\n  const %c: u8[1] = [256]\n}\n", "256 does not fit in u8");
	EXPECT_ERROR("graph g {\n  const %c: f32[2] = [1.0]\n}\n", "1 values for c, whose shape holds 2");
	EXPECT_ERROR("graph g {\n  const %c: u8[100000,100000] = [1]\n}\n",
	             "c holds 10000000000 values, more than the 5 bytes of text left");
	EXPECT_ERROR("graph g {\n  input %x: f32[2]\n  input %x: f32[2]\n}\n",
	             "bad.qir:3:9: error: value '%x' is defined twice");
	EXPECT_ERROR("graph g {\n  input %x: f32[2,?]\n}\n", "only the first (batch) dimension may be symbolic");
	EXPECT_ERROR("graph g {\n  input %x: f32[1048576,1048576,1048576]\n}\n", "more than");
	EXPECT_ERROR("graph g {\n  input %\"x: f32[2]\n}\n", "bad.qir:2:9: error: expected a value name");
	EXPECT_ERROR("graph g {\n  input %x: f32[2]\n  %y: f32[2] = relu(%x) {alpha=1.0}\n}\n",
	             "unknown attribute 'alpha' for relu");
	EXPECT_ERROR("graph g {\n  input %x: f32[2]\n  %y: f32[2] = conv(%x)\n}\n",
	             "conv takes 2..3 inputs, not 1");
	EXPECT_ERROR("graph g {\n  input %x: f32[2] junk\n}\n", "unexpected 'junk' at end of line");
	/* a NUL byte inside the text */
	EXPECT_ERROR("graph g {\n  input %x\0: f32[2]\n}\n", "character 0x00");
	EXPECT_ERROR("graph g {\n  input %x: f32[2]\n  %y: f32[2] = relu(%x) !bits=9\n}\n",
	             "bad.qir:3:26: error: !bits=9: bits must be 1..8");
	EXPECT_ERROR("graph g {\n  input %x: f32[2]\n  %y: f32[2] = relu(%x) !fast\n}\n",
	             "unknown hint 'fast'");
	/* declared types must agree with inference */
	EXPECT_ERROR("graph g {\n  input %x: f32[1,3,8,8]\n  const %w: f32[4,3,3,3] = elided\n"
	             "  %y: f32[1,4,8,8] = conv(%x, %w)\n  output %y\n}\n",
	             "bad.qir:4:3: error: '%y' is declared f32[1,4,8,8] but conv gives f32[1,4,6,6]");
	EXPECT_ERROR("graph g {\n  input %x: f32[1,3,8,8]\n  const %w: f32[4,2,3,3] = elided\n"
	             "  %y: f32[*] = conv(%x, %w)\n  output %y\n}\n",
	             "bad.qir:4:3: error: input has 3 channels but weight [4,2,3,3] expects 2 (group 1)");
	EXPECT_ERROR("graph g {\n  const %w: f32[2] = [0.0, 1.0] !quant{scheme=\"affine\", bits=1, axis=-1, codes=[0, 2]}\n}\n",
	             "code 2 does not fit in 1 bits");
	EXPECT_ERROR("graph g {\n  const %w: f32[2] = [0.0, 1.0] !quant{scheme=\"affine\", bits=2, axis=0, scale=[1.0]}\n}\n",
	             "scale has 1 values, expected 2");
	EXPECT_ERROR("graph g {\n  const %w: f32[2] = [0.0, 1.0] !quant{scheme=\"fancy\", bits=2}\n}\n",
	             "unknown quantization scheme");
	/* bits or axis again after the arrays were sized for the earlier values */
	EXPECT_ERROR("graph g {\n  const %w: f32[4] = [0.0, 1.0, 0.0, 1.0] !quant{scheme=\"codebook\", bits=1, axis=-1, levels=[0.0, 1.0], bits=8}\n}\n",
	             "bad.qir:2:105: error: duplicate quant field 'bits'");
	EXPECT_ERROR("graph g {\n  const %w: f32[4] = [0.0, 1.0, 0.0, 1.0] !quant{scheme=\"symmetric\", bits=2, axis=-1, scale=[1.0], axis=0}\n}\n",
	             "bad.qir:2:100: error: duplicate quant field 'axis'");
	EXPECT_ERROR("graph g {\n  const %w: f32[4] = [0.0, 1.0, 0.0, 1.0] !quant{scheme=\"affine\", bits=2, codes=[0, 1, 0, 1], axis=0}\n}\n",
	             "quant field 'axis' after 'codes' (the order is scheme, bits, axis, scale, zero_point, levels, codes)");
	EXPECT_ERROR("graph g {\n  input %x: f32[?,4] !quant{scheme=\"affine\", bits=8, axis=0}\n}\n",
	             "axis=0 is the symbolic dimension of x");
	/* the annotation must fit the value: an activation's bits are its width */
	EXPECT_ERROR("graph g {\n  input %x: u8[4] !quant{scheme=\"affine\", bits=16, axis=-1, scale=[1.0], zero_point=[0]}\n}\n",
	             "bits=16 on a u8 value, expected 8");
	EXPECT_ERROR("graph g {\n  input %x: u8[4] !quant{scheme=\"affine\", bits=8, axis=-1, scale=[1.0], zero_point=[256]}\n}\n",
	             "zero point 256 does not fit in u8");
	EXPECT_ERROR("", "bad.qir:1:1: error: expected 'graph', found end of file");
	/* several bad lines: each reported in one run */
	diag_sink d;
	diag_sink_init_capture(&d);
	const char *t = "graph g {\n  input %x: f32[2]\n  %a: f32[2] = foo(%x)\n  %b: f32[2] = bar(%x)\n}\n";
	assert_null(ir_parse(t, strlen(t), "m.qir", &d));
	assert_int_equal(d.nerr, 2);
	assert_non_null(strstr(d.buf, "m.qir:3:"));
	assert_non_null(strstr(d.buf, "m.qir:4:"));
	diag_sink_fini(&d);
}

/* Random mutations of valid text must never crash the parser. */
static void test_ir_text_survives_garbage(void **state)
{
	(void)state;
	size_t n = strlen(full_text);
	char *buf = malloc(n + 1);
	unsigned seed = 12345;
	for (int iter = 0; iter < 3000; iter++) {
		memcpy(buf, full_text, n + 1);
		size_t len = n;
		int edits = 1 + iter % 4;
		for (int e = 0; e < edits; e++) {
			seed = seed * 1103515245u + 12345u;
			size_t pos = (seed >> 8) % len;
			seed = seed * 1103515245u + 12345u;
			switch ((seed >> 16) % 3) {
			case 0: buf[pos] = (char)(seed >> 4); break;  /* flip a byte */
			case 1: len = pos; break;                      /* truncate */
			case 2: memmove(buf + pos, buf + pos + 1, len - pos); len--; break;
			}
			if (len == 0)
				break;
		}
		diag_sink d;
		diag_sink_init_capture(&d);
		ir_graph *g = ir_parse(buf, len, "fuzz.qir", &d);
		if (g)
			ir_graph_destroy(g);
		else
			assert_true(d.nerr > 0);
		diag_sink_fini(&d);
	}
	free(buf);
}

/* A clone is the same graph: it prints the same text, and outlives the
 * graph it was made from. */
static void test_ir_graph_clone_is_deep(void **state)
{
	(void)state;
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_graph *g = parse_round_trip(full_text, &d);
	ir_graph_find_value(g, "x")->shape.d[0] = 5; /* bound, as a pipeline may leave it */
	char *want = print_to_string(g, -1);
	ir_graph *c = ir_graph_clone(g);
	assert_non_null(c);
	ir_graph_destroy(g);
	char *got = print_to_string(c, -1);
	assert_string_equal(got, want);
	assert_int_equal(ir_verify(c, false, &d), 0);
	for (int i = 0; i < c->nvalues; i++)
		assert_int_equal(c->values[i]->id, i);
	assert_ptr_equal(ir_graph_find_value(c, "c")->producer, c->nodes[0]);
	assert_string_equal(c->nodes[0]->src_op, "Conv");
	assert_int_equal(c->nodes[0]->src_index, 3);
	free(want);
	free(got);
	diag_sink_fini(&d);
	ir_graph_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ir_text_round_trip),
		cmocka_unit_test(test_ir_graph_clone_is_deep),
		cmocka_unit_test(test_ir_text_round_trip_exact_floats),
		cmocka_unit_test(test_ir_text_quant_on_unknown_shape),
		cmocka_unit_test(test_ir_text_errors_point_at_the_problem),
		cmocka_unit_test(test_ir_text_survives_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
