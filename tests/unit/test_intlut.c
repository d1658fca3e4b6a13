/* test_intlut.c: the interpreter's table-driven integer activations
 * (sigmoid, tanh, hard_sigmoid, hard_swish, leaky_relu with a `lut` on an
 * i8/u8 input: y = lut[q - qmin]; on i16, 513 entries interpolated) on
 * hand-written tables whose outputs are
 * obvious, and the inputs and tables inference refuses, naming the node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ir.h"

/* One node `op` over x [1, w] of dtype dt carrying lut[0..nlut) (nlut < 0:
 * no lut attribute); the output gets a per-tensor quant (scale 1/256, zero
 * point yzp) the way a pass would set it.  The output (checked to have x's
 * dtype and to keep that quant) goes to y, the diagnostics to msg.
 * Returns ir_interp_run's status, or -1 when inference fails. */
static int run_lut(ir_op op, ir_dtype dt, const int64_t *lut, int nlut, const void *x, int64_t w,
                   void *y, int32_t yzp, char *msg, size_t nmsg)
{
	ir_graph *g = ir_graph_create("t");
	int64_t d[2] = {1, w};
	ir_shape xs = ir_shape_make(2, d);
	ir_value *xv = ir_graph_add_value(g, "x", dt, &xs);
	if (ir_dtype_is_qint(dt)) {
		xv->quant = ir_quant_act_create(g, dt, -1, 1);
		assert_non_null(xv->quant);
		xv->quant->scale[0] = 0.05f;
		xv->quant->zero_point[0] = 3;
	}
	ir_graph_add_input(g, xv);
	ir_value *yv = ir_graph_add_value(g, "y", IR_DT_UNDEF, NULL);
	ir_quant *yq = NULL;
	if (ir_dtype_is_qint(dt)) {
		yq = ir_quant_act_create(g, dt, -1, 1);
		assert_non_null(yq);
		yq->scale[0] = 1.0f / 256;
		yq->zero_point[0] = yzp;
		yv->quant = yq;
	}
	ir_node *n = ir_graph_add_node(g, op, "A", 1, &xv, 1, &yv);
	if (nlut >= 0)
		ir_node_set_ints(g, n, "lut", lut, nlut);
	ir_graph_add_output(g, yv);
	diag_sink ds;
	diag_sink_init_capture(&ds);
	int rc = -1;
	if (ir_graph_toposort(g, &ds) == 0 && ir_infer_shapes(g, &ds) == 0) {
		assert_int_equal(yv->dt, dt);
		assert_ptr_equal(yv->quant, yq);
		ir_tensor in = {dt, xs, (void *)x}, out;
		rc = ir_interp_run(g, &in, &out, &ds);
		if (rc == 0) {
			assert_int_equal(out.dt, dt);
			assert_int_equal(ir_shape_numel(&out.shape), w);
			memcpy(y, out.data, (size_t)w * ir_dtype_size(dt));
			ir_tensor_free(&out);
		}
	}
	snprintf(msg, nmsg, "%s", ds.buf ? ds.buf : "");
	diag_sink_fini(&ds);
	ir_graph_destroy(g);
	return rc;
}

static const ir_op lut_ops[5] = {IR_OP_SIGMOID, IR_OP_TANH, IR_OP_HARD_SIGMOID, IR_OP_HARD_SWISH,
                                 IR_OP_LEAKY_RELU};

/* u8: lut[i] = 255 - i, so y = 255 - q; qmin is 0. */
static void test_intlut_u8(void **state)
{
	(void)state;
	char msg[512];
	int64_t lut[256];
	for (int i = 0; i < 256; i++)
		lut[i] = 255 - i;
	uint8_t x[6] = {0, 1, 2, 127, 128, 255}, y[6];
	uint8_t want[6] = {255, 254, 253, 128, 127, 0};
	for (int k = 0; k < 5; k++) {
		memset(y, 0xaa, sizeof y);
		assert_int_equal(run_lut(lut_ops[k], IR_DT_U8, lut, 256, x, 6, y, 0, msg, sizeof msg), 0);
		assert_memory_equal(y, want, 6);
	}
}

/* i8: the index is q + 128, so lut[0] belongs to -128 and lut[255] to 127;
 * lut[i] = i - 128 is the identity, (i * 3) % 256 - 128 a permutation. */
static void test_intlut_i8_index(void **state)
{
	(void)state;
	char msg[512];
	int64_t id[256], perm[256];
	for (int i = 0; i < 256; i++) {
		id[i] = i - 128;
		perm[i] = (i * 3) % 256 - 128;
	}
	int8_t x[6] = {-128, -127, -1, 0, 1, 127}, y[6];
	for (int k = 0; k < 5; k++) {
		assert_int_equal(run_lut(lut_ops[k], IR_DT_I8, id, 256, x, 6, y, -128, msg, sizeof msg), 0);
		assert_memory_equal(y, x, 6);
	}
	/* index 0, 1, 127, 128, 129, 255 */
	int8_t want[6] = {-128, -125, -128 + 381 % 256, -128 + 384 % 256, -128 + 387 % 256,
	                  -128 + 765 % 256};
	assert_int_equal(run_lut(IR_OP_TANH, IR_DT_I8, perm, 256, x, 6, y, 0, msg, sizeof msg), 0);
	assert_memory_equal(y, want, 6);
}

/* The float op is unchanged without a lut, and an integer input without
 * one stays unsupported. */
static void test_intlut_without_lut(void **state)
{
	(void)state;
	char msg[512];
	float xf[3] = {0.0f, 100.0f, -100.0f}, yf[3];
	assert_int_equal(run_lut(IR_OP_SIGMOID, IR_DT_F32, NULL, -1, xf, 3, yf, 0, msg, sizeof msg), 0);
	assert_true(yf[0] == 0.5f && yf[1] == 1.0f && yf[2] < 1e-30f);
	uint8_t x[2] = {1, 2}, y[2];
	assert_int_equal(run_lut(IR_OP_SIGMOID, IR_DT_U8, NULL, -1, x, 2, y, 0, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "node 0 'A' (sigmoid)"));
	assert_non_null(strstr(msg, "dtype u8 is not supported"));
}

/* A table of 255 entries, an entry outside the dtype's range, and a
 * 16-bit or float input are refused by inference, naming the node. */
static void test_intlut_refused(void **state)
{
	(void)state;
	char msg[512];
	int64_t lut[256];
	for (int i = 0; i < 256; i++)
		lut[i] = i;
	uint8_t x[2] = {1, 2}, y[2];
	assert_int_equal(run_lut(IR_OP_HARD_SWISH, IR_DT_U8, lut, 255, x, 2, y, 0, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "node 0 'A' (hard_swish)"));
	assert_non_null(strstr(msg, "lut has 255 entries"));

	/* 128..255 are outside i8 */
	int8_t xi[2] = {1, 2}, yi[2];
	assert_int_equal(run_lut(IR_OP_TANH, IR_DT_I8, lut, 256, xi, 2, yi, 0, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "node 0 'A' (tanh)"));
	assert_non_null(strstr(msg, "lut[128] = 128 is outside the range of i8"));
	lut[7] = -1; /* and -1 outside u8 */
	assert_int_equal(run_lut(IR_OP_SIGMOID, IR_DT_U8, lut, 256, x, 2, y, 0, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "lut[7] = -1 is outside the range of u8"));
	lut[7] = 7;

	/* an i16 input needs 513 entries, not 256 */
	int16_t x16[2] = {1, 2}, y16[2];
	assert_int_equal(run_lut(IR_OP_LEAKY_RELU, IR_DT_I16, lut, 256, x16, 2, y16, 0, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "node 0 'A' (leaky_relu)"));
	assert_non_null(strstr(msg, "lut has 256 entries; an integer leaky_relu of i16 needs 513"));
	float xf[2] = {1, 2}, yf[2];
	assert_int_equal(run_lut(IR_OP_SIGMOID, IR_DT_F32, lut, 256, xf, 2, yf, 0, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "a lookup table needs an integer input (i8, u8 or i16)"));
	int32_t x32[2] = {1, 2}, y32[2];
	assert_int_equal(run_lut(IR_OP_SIGMOID, IR_DT_I32, lut, 256, x32, 2, y32, 0, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "a lookup table needs an integer input (i8, u8 or i16)"));
}

/* i16: 513 entries at every 128th code from -32768, interpolated:
 * u = q + 32768, y = lut[u>>7] + floor(((lut[(u>>7)+1] - lut[u>>7]) *
 * (u & 127) + 64) / 128).  With lut[k] = 10 k the result is 10 u / 128
 * rounded half up; with lut[k] = -10 k the same negated and rounded half
 * up too (the floor of a negative half); a lut of 513 entries outside
 * i16, or 512 entries, is refused. */
static void test_intlut_i16(void **state)
{
	(void)state;
	char msg[512];
	static int64_t up[513], down[513];
	for (int k = 0; k < 513; k++) {
		up[k] = 10 * k;
		down[k] = -10 * k;
	}
	/* u = 0, 64 (a half: 5), 77 (6.02), 128, 32768, 65535 (k 511, f 127) */
	int16_t x[6] = {-32768, -32768 + 64, -32768 + 77, -32768 + 128, 0, 32767}, y[6];
	int16_t want_up[6] = {0, 5, 6, 10, 2560, 5110 + 10}; /* (1270 + 64) >> 7 = 10 */
	/* u = 64: floor((-640 + 64) / 128) = floor(-4.5) = -5; u = 65535:
	 * floor((-1270 + 64) / 128) = -10 */
	int16_t want_down[6] = {0, -5, -6, -10, -2560, -5110 - 10};
	for (int k = 0; k < 5; k++) {
		memset(y, 0x55, sizeof y);
		assert_int_equal(run_lut(lut_ops[k], IR_DT_I16, up, 513, x, 6, y, 0, msg, sizeof msg), 0);
		assert_memory_equal(y, want_up, sizeof y);
	}
	assert_int_equal(run_lut(IR_OP_TANH, IR_DT_I16, down, 513, x, 6, y, 0, msg, sizeof msg), 0);
	assert_memory_equal(y, want_down, sizeof y);
	up[512] = 32768;
	assert_int_equal(run_lut(IR_OP_SIGMOID, IR_DT_I16, up, 513, x, 6, y, 0, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "lut[512] = 32768 is outside the range of i16"));
	up[512] = 5120;
	assert_int_equal(run_lut(IR_OP_SIGMOID, IR_DT_I16, up, 512, x, 6, y, 0, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "lut has 512 entries"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intlut_u8),
		cmocka_unit_test(test_intlut_i8_index),
		cmocka_unit_test(test_intlut_without_lut),
		cmocka_unit_test(test_intlut_refused),
		cmocka_unit_test(test_intlut_i16),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
