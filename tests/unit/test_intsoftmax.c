/* test_intsoftmax.c: the interpreter's integer softmax (an i8/u8 input
 * with `lut` and `rq_mult`: y_j = round(lut[m - q_j] * M / sum) + zout,
 * halves up, saturated; an i16 input with 513 entries at every
 * 2^lut_shift-th distance, interpolated) on hand-computed slices, along the last axis and
 * a strided one, and the tables and inputs inference refuses, naming the
 * node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ir.h"

/* One softmax node over x of dtype dt and shape [r0, r1] (r0 = 1 for a
 * single slice) along axis, carrying lut[0..nlut) and rq_mult = {mult}
 * (nlut < 0 / mult < 0: the attribute is absent); the output gets a
 * per-tensor quant (scale 1/256, zero point yzp) as a pass would set it.
 * The output (checked to have x's dtype and to keep that quant) goes to y,
 * the diagnostics to msg; sh is lut_shift (-1: absent).  Returns
 * ir_interp_run's status, or -1 when inference fails. */
static int run_smx_sh(ir_dtype dt, int64_t r0, int64_t r1, int64_t axis, const int64_t *lut,
                      int nlut, int64_t sh, int64_t mult, const void *x, void *y, int32_t yzp,
                      char *msg, size_t nmsg)
{
	ir_graph *g = ir_graph_create("t");
	int64_t d[2] = {r0, r1};
	ir_shape xs = ir_shape_make(2, d);
	ir_value *xv = ir_graph_add_value(g, "x", dt, &xs);
	ir_quant *yq = NULL;
	if (ir_dtype_is_qint(dt)) {
		xv->quant = ir_quant_act_create(g, dt, -1, 1);
		assert_non_null(xv->quant);
		xv->quant->scale[0] = 0.05f;
		xv->quant->zero_point[0] = 3;
		yq = ir_quant_act_create(g, dt, -1, 1);
		assert_non_null(yq);
		yq->scale[0] = 1.0f / 256;
		yq->zero_point[0] = yzp;
	}
	ir_graph_add_input(g, xv);
	ir_value *yv = ir_graph_add_value(g, "y", IR_DT_UNDEF, NULL);
	yv->quant = yq;
	ir_node *n = ir_graph_add_node(g, IR_OP_SOFTMAX, "A", 1, &xv, 1, &yv);
	ir_node_set_int(g, n, "axis", axis);
	if (nlut >= 0)
		ir_node_set_ints(g, n, "lut", lut, nlut);
	if (sh != -1)
		ir_node_set_int(g, n, "lut_shift", sh);
	if (mult >= 0)
		ir_node_set_ints(g, n, "rq_mult", &mult, 1);
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
			assert_true(ir_shape_eq(&out.shape, &xs));
			memcpy(y, out.data, (size_t)(r0 * r1) * ir_dtype_size(dt));
			ir_tensor_free(&out);
		}
	}
	snprintf(msg, nmsg, "%s", ds.buf ? ds.buf : "");
	diag_sink_fini(&ds);
	ir_graph_destroy(g);
	return rc;
}

/* run_smx_sh without lut_shift (sh -1: the attribute is absent). */
static int run_smx(ir_dtype dt, int64_t r0, int64_t r1, int64_t axis, const int64_t *lut, int nlut,
                   int64_t mult, const void *x, void *y, int32_t yzp, char *msg, size_t nmsg)
{
	return run_smx_sh(dt, r0, r1, axis, lut, nlut, -1, mult, x, y, yzp, msg, nmsg);
}

/* lut = {4, 2, 1, 0, ...}: a difference of d from the maximum weighs 4 >> d. */
static void small_lut(int64_t *lut)
{
	memset(lut, 0, 256 * sizeof *lut);
	lut[0] = 4;
	lut[1] = 2;
	lut[2] = 1;
}

/* q = {5, 4, 3}: e = {4, 2, 1}, sum 7, M = 10: round(40/7) = 6,
 * round(20/7) = 3, round(10/7) = 1, then + zout. */
static void test_intsoftmax_slice(void **state)
{
	(void)state;
	char msg[512];
	int64_t lut[256];
	small_lut(lut);
	uint8_t xu[3] = {5, 4, 3}, yu[3], wu[3] = {6, 3, 1};
	assert_int_equal(run_smx(IR_DT_U8, 1, 3, -1, lut, 256, 10, xu, yu, 0, msg, sizeof msg), 0);
	assert_memory_equal(yu, wu, 3);
	/* i8, negative codes, the maximum last; zout -128 */
	int8_t xi[3] = {-3, -2, -1}, yi[3], wi[3] = {-127, -125, -122};
	assert_int_equal(run_smx(IR_DT_I8, 1, 3, 1, lut, 256, 10, xi, yi, -128, msg, sizeof msg), 0);
	assert_memory_equal(yi, wi, 3);
	/* the extremes of i8: m - q = 255 reads the table's last entry */
	lut[255] = 4;
	int8_t xe[2] = {127, -128}, ye[2], we[2] = {5, 5}; /* e = {4, 4}: 40/8 */
	assert_int_equal(run_smx(IR_DT_I8, 1, 2, -1, lut, 256, 10, xe, ye, 0, msg, sizeof msg), 0);
	assert_memory_equal(ye, we, 2);
}

/* Along axis 0 of [2, 2] u8 {{5, 3}, {4, 3}}: column 0 is q = {5, 4}, e
 * = {4, 2}, sum 6 -> round(40/6) = 7, round(20/6) = 3; column 1 is q =
 * {3, 3}, e = {4, 4} -> 5, 5.  Axis -2 is the same axis. */
static void test_intsoftmax_axis(void **state)
{
	(void)state;
	char msg[512];
	int64_t lut[256];
	small_lut(lut);
	uint8_t x[4] = {5, 3, 4, 3}, y[4], want[4] = {7, 5, 3, 5};
	assert_int_equal(run_smx(IR_DT_U8, 2, 2, 0, lut, 256, 10, x, y, 0, msg, sizeof msg), 0);
	assert_memory_equal(y, want, 4);
	memset(y, 0, sizeof y);
	assert_int_equal(run_smx(IR_DT_U8, 2, 2, -2, lut, 256, 10, x, y, 0, msg, sizeof msg), 0);
	assert_memory_equal(y, want, 4);
	/* along the last axis: rows {5, 3} (e {4, 1}: 8, 2) and {4, 3} (e {4, 2}: 7, 3) */
	uint8_t want1[4] = {8, 2, 7, 3};
	assert_int_equal(run_smx(IR_DT_U8, 2, 2, 1, lut, 256, 10, x, y, 0, msg, sizeof msg), 0);
	assert_memory_equal(y, want1, 4);
}

/* Halves round up: two equal codes with M = 5 give 2.5 -> 3 each; four
 * with M = 2 give 0.5 -> 1 each; M = 3 over {q, q - 1} with lut {1, 1}
 * gives 1.5 -> 2 each. */
static void test_intsoftmax_ties(void **state)
{
	(void)state;
	char msg[512];
	int64_t lut[256] = {1, 1};
	uint8_t x2[2] = {9, 9}, y2[2], w2[2] = {3, 3};
	assert_int_equal(run_smx(IR_DT_U8, 1, 2, -1, lut, 256, 5, x2, y2, 0, msg, sizeof msg), 0);
	assert_memory_equal(y2, w2, 2);
	uint8_t x4[4] = {0, 0, 0, 0}, y4[4], w4[4] = {1, 1, 1, 1};
	assert_int_equal(run_smx(IR_DT_U8, 1, 4, -1, lut, 256, 2, x4, y4, 0, msg, sizeof msg), 0);
	assert_memory_equal(y4, w4, 4);
	int8_t xi[2] = {-7, -8}, yi[2], wi[2] = {-8, -8}; /* 2 - 10 */
	assert_int_equal(run_smx(IR_DT_I8, 1, 2, -1, lut, 256, 3, xi, yi, -10, msg, sizeof msg), 0);
	assert_memory_equal(yi, wi, 2);
}

/* A single winner with M = 1000 saturates at the top of the dtype; the
 * losers (lut 0) sit at the zero point. */
static void test_intsoftmax_saturation(void **state)
{
	(void)state;
	char msg[512];
	int64_t lut[256] = {4};
	uint8_t xu[3] = {200, 0, 7}, yu[3], wu[3] = {255, 0, 0};
	assert_int_equal(run_smx(IR_DT_U8, 1, 3, -1, lut, 256, 1000, xu, yu, 0, msg, sizeof msg), 0);
	assert_memory_equal(yu, wu, 3);
	int8_t xi[3] = {0, 100, -100}, yi[3], wi[3] = {-128, 127, -128};
	assert_int_equal(run_smx(IR_DT_I8, 1, 3, -1, lut, 256, 1000, xi, yi, -128, msg, sizeof msg), 0);
	assert_memory_equal(yi, wi, 3);
	/* the largest entry and multiplier: 2 e M = 2^48 - 2^17 stays exact in int64 */
	int64_t big[256] = {65536, 65536};
	uint8_t xb[2] = {1, 0}, yb[2], wb[2] = {255, 255};
	assert_int_equal(run_smx(IR_DT_U8, 1, 2, -1, big, 256, INT32_MAX, xb, yb, 0, msg, sizeof msg), 0);
	assert_memory_equal(yb, wb, 2);
}

/* The float softmax is unchanged without the attributes, and an integer
 * input without them stays unsupported. */
static void test_intsoftmax_float(void **state)
{
	(void)state;
	char msg[512];
	float xf[2] = {1.0f, 1.0f}, yf[2];
	assert_int_equal(run_smx(IR_DT_F32, 1, 2, -1, NULL, -1, -1, xf, yf, 0, msg, sizeof msg), 0);
	assert_true(yf[0] == 0.5f && yf[1] == 0.5f);
	uint8_t x[2] = {1, 2}, y[2];
	assert_int_equal(run_smx(IR_DT_U8, 1, 2, -1, NULL, -1, -1, x, y, 0, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "node 0 'A' (softmax)"));
	assert_non_null(strstr(msg, "dtype u8 is not supported"));
}

/* 255 entries, lut[0] = 0, an entry above 2^16, a missing or zero
 * rq_mult, lut_shift on an 8-bit input or out of range, an i16 input with
 * 256 entries and a float input are refused, naming the node. */
static void test_intsoftmax_refused(void **state)
{
	(void)state;
	char msg[512];
	int64_t lut[256];
	small_lut(lut);
	uint8_t x[2] = {1, 2}, y[2];
	assert_int_equal(run_smx(IR_DT_U8, 1, 2, -1, lut, 255, 10, x, y, 0, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "node 0 'A' (softmax)"));
	assert_non_null(strstr(msg, "lut has 255 entries"));
	lut[0] = 0;
	assert_int_equal(run_smx(IR_DT_U8, 1, 2, -1, lut, 256, 10, x, y, 0, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "node 0 'A' (softmax)"));
	assert_non_null(strstr(msg, "lut[0] = 0"));
	lut[0] = 4;
	lut[9] = 65537;
	assert_int_equal(run_smx(IR_DT_U8, 1, 2, -1, lut, 256, 10, x, y, 0, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "lut[9] = 65537 is outside [0, 65536]"));
	lut[9] = 0;
	assert_int_equal(run_smx(IR_DT_U8, 1, 2, -1, lut, 256, -1, x, y, 0, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "node 0 'A' (softmax)"));
	assert_non_null(strstr(msg, "rq_mult has 0 entries"));
	assert_int_equal(run_smx(IR_DT_U8, 1, 2, -1, lut, 256, 0, x, y, 0, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "rq_mult = 0 is outside"));

	/* lut_shift belongs to i16 */
	assert_int_equal(run_smx_sh(IR_DT_U8, 1, 2, -1, lut, 256, 0, 10, x, y, 0, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "lut_shift is for an i16 softmax; its input 'x' is u8"));

	int16_t x16[2] = {1, 2}, y16[2];
	assert_int_equal(run_smx(IR_DT_I16, 1, 2, -1, lut, 256, 10, x16, y16, 0, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "node 0 'A' (softmax)"));
	assert_non_null(strstr(msg, "lut has 256 entries; an integer softmax of i16 needs 513"));
	static int64_t l16[513] = {4};
	assert_int_equal(run_smx_sh(IR_DT_I16, 1, 2, -1, l16, 513, 8, 10, x16, y16, 0, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "lut_shift = 8 is outside [0, 7]"));
	float xf[2] = {1, 2}, yf[2];
	assert_int_equal(run_smx(IR_DT_F32, 1, 2, -1, lut, 256, 10, xf, yf, 0, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "an integer softmax needs an i8, u8 or i16 input"));
}

/* i16: 513 entries at every 2^sh-th distance d, interpolated, floor of
 * (diff * f + 2^sh / 2) / 2^sh; from k = d >> sh = 512 on, lut[512].
 * sh 2, lut {8, 4, 0...}: e(0..5) = 8, 7 (8 + floor(-2/4)), 6, 5, 4, 3;
 * q = {10, 9, 7, 6} gives e = {8, 7, 5, 4}, sum 24, and with M = 100
 * round(800/24) = 33, 29, 21, 17. */
static void test_intsoftmax_i16(void **state)
{
	(void)state;
	char msg[512];
	static int64_t lut[513];
	lut[0] = 8;
	lut[1] = 4;
	int16_t x[4] = {10, 9, 7, 6}, y[4], w[4] = {33, 29, 21, 17};
	assert_int_equal(run_smx_sh(IR_DT_I16, 1, 4, -1, lut, 513, 2, 100, x, y, 0, msg, sizeof msg), 0);
	assert_memory_equal(y, w, sizeof y);
	/* the same along axis 0 of [4, 1], with zout 1000 */
	int16_t wz[4] = {1033, 1029, 1021, 1017};
	assert_int_equal(run_smx_sh(IR_DT_I16, 4, 1, 0, lut, 513, 2, 100, x, y, 1000, msg, sizeof msg), 0);
	assert_memory_equal(y, wz, sizeof y);
	/* sh 0: d = 600 is past entry 512 and reads lut[512] = 2: e = {8, 2} */
	lut[1] = 0;
	lut[512] = 2;
	int16_t x0[2] = {0, -600}, y0[2], w0[2] = {8, 2};
	assert_int_equal(run_smx_sh(IR_DT_I16, 1, 2, -1, lut, 513, 0, 10, x0, y0, 0, msg, sizeof msg), 0);
	assert_memory_equal(y0, w0, sizeof y0);
	/* sh 7 and the widest distance 65535: k 511, f 127, lut[511] 0,
	 * lut[512] 128: e = floor((128 * 127 + 64) / 128) = 127; lut[0] = 1:
	 * sum 128, M 128: y = {1, 127} */
	lut[0] = 1;
	lut[512] = 128;
	int16_t x7[2] = {32767, -32768}, y7[2], w7[2] = {1, 127};
	assert_int_equal(run_smx_sh(IR_DT_I16, 1, 2, -1, lut, 513, 7, 128, x7, y7, 0, msg, sizeof msg), 0);
	assert_memory_equal(y7, w7, sizeof y7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intsoftmax_slice),
		cmocka_unit_test(test_intsoftmax_axis),
		cmocka_unit_test(test_intsoftmax_ties),
		cmocka_unit_test(test_intsoftmax_saturation),
		cmocka_unit_test(test_intsoftmax_float),
		cmocka_unit_test(test_intsoftmax_refused),
		cmocka_unit_test(test_intsoftmax_i16),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
