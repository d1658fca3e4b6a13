/* test_intpool.c: the interpreter's pools and relu on integer activations
 * against values computed by hand: the average's rounding (ONNX's
 * dequantize -> AveragePool -> quantize: the real mean, sum less count x
 * zero point over the count, rounded half to even, plus the zero point),
 * count_include_pad adding the zero point,
 * windows entirely in padding, max over integers, relu as max with the
 * zero point, and the dtypes inference gives and refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ir.h"

/* One pool (or relu) node over x [1, C, 1, W] of dtype dt; zp >= -32768
 * gives x a per-tensor quant (scale 0.5) with that zero point, NO_ZP none.
 * The window is 1 x kw with pads (0, pl, 0, pr), stride 1; cip is
 * count_include_pad (-1: absent). */
enum { NO_ZP = -100000 };
typedef struct pcase {
	ir_op op;
	ir_dtype dt;
	int32_t zp;
	int64_t c, w, kw, pl, pr, cip;
} pcase;

/* Runs the case on x; the output (dtype checked against x's) goes to y,
 * the diagnostics to msg.  Returns ir_interp_run's status, or -1 when
 * inference fails. */
static int run_case(const pcase *pc, const void *x, void *y, size_t ybytes, char *msg, size_t nmsg)
{
	ir_graph *g = ir_graph_create("p");
	int64_t d[4] = {1, pc->c, 1, pc->w};
	ir_shape xs = ir_shape_make(4, d);
	ir_value *xv = ir_graph_add_value(g, "x", pc->dt, &xs);
	if (pc->zp != NO_ZP) {
		xv->quant = ir_quant_act_create(g, pc->dt, -1, 1);
		assert_non_null(xv->quant);
		xv->quant->scale[0] = 0.5f;
		xv->quant->zero_point[0] = pc->zp;
	}
	ir_graph_add_input(g, xv);
	ir_value *yv = ir_graph_add_value(g, "y", IR_DT_UNDEF, NULL);
	ir_node *n = ir_graph_add_node(g, pc->op, "P", 1, &xv, 1, &yv);
	if (pc->op == IR_OP_MAX_POOL || pc->op == IR_OP_AVG_POOL) {
		int64_t k[2] = {1, pc->kw}, pads[4] = {0, pc->pl, 0, pc->pr};
		ir_node_set_ints(g, n, "kernel", k, 2);
		ir_node_set_ints(g, n, "pads", pads, 4);
		if (pc->cip >= 0)
			ir_node_set_int(g, n, "count_include_pad", pc->cip);
	}
	ir_graph_add_output(g, yv);
	diag_sink ds;
	diag_sink_init_capture(&ds);
	int rc = -1;
	if (ir_graph_toposort(g, &ds) == 0 && ir_infer_shapes(g, &ds) == 0) {
		assert_int_equal(yv->dt, pc->dt);
		ir_tensor in = {pc->dt, xs, (void *)x}, out;
		rc = ir_interp_run(g, &in, &out, &ds);
		if (rc == 0) {
			assert_int_equal(out.dt, pc->dt);
			assert_int_equal(ir_shape_numel(&out.shape) * ir_dtype_size(out.dt), (int64_t)ybytes);
			memcpy(y, out.data, ybytes);
			ir_tensor_free(&out);
		}
	}
	snprintf(msg, nmsg, "%s", ds.buf ? ds.buf : "");
	diag_sink_fini(&ds);
	ir_graph_destroy(g);
	return rc;
}

/* Sums divided by 2 and by 4, rounded half to even in the real domain:
 * avg_pool with a kernel over the whole row and global_avg_pool agree. */
static void test_intpool_avg_rounding(void **state)
{
	(void)state;
	char msg[512];
	static const int8_t x2[6][2] = {{-1, -2}, {1, 2}, {-1, 0}, {1, 0}, {127, 127}, {-128, -128}};
	static const int8_t want2[6] = {-2, 2, 0, 0, 127, -128}; /* -1.5, 1.5, -0.5, 0.5 */
	static const int8_t x4[6][4] = {{1, 1, 1, 2}, {-1, -1, -1, -2}, {1, 1, 2, 2},
	                                {-1, -1, -2, -2}, {1, 0, 0, 0}, {3, 0, 0, 0}};
	/* less the zero point 7: -5.75, -8.25, -5.5, -8.5, -6.75, -6.25 */
	static const int8_t want4[6] = {1, -1, 1, -1, 0, 1};
	for (int global = 0; global < 2; global++) {
		ir_op op = global ? IR_OP_GLOBAL_AVG_POOL : IR_OP_AVG_POOL;
		int8_t y[6];
		pcase p2 = {op, IR_DT_I8, NO_ZP, 6, 2, 2, 0, 0, -1};
		assert_int_equal(run_case(&p2, x2, y, sizeof y, msg, sizeof msg), 0);
		assert_memory_equal(y, want2, 6);
		/* the zero point decides the ties: 1.5 is -5.5 in the real domain */
		pcase p4 = {op, IR_DT_I8, 7, 6, 4, 4, 0, 0, 1};
		assert_int_equal(run_case(&p4, x4, y, sizeof y, msg, sizeof msg), 0);
		assert_memory_equal(y, want4, 6);
	}
	/* i16 and u16 sums beyond the dtype's range stay exact in int32 */
	int16_t s16[4] = {32767, 32767, 32767, 32766}, y16;
	pcase pi16 = {IR_OP_GLOBAL_AVG_POOL, IR_DT_I16, NO_ZP, 1, 4, 0, 0, 0, -1};
	assert_int_equal(run_case(&pi16, s16, &y16, sizeof y16, msg, sizeof msg), 0);
	assert_int_equal(y16, 32767); /* 32766.75 */
	uint16_t u16[2] = {65535, 65534}, yu16;
	pcase pu16 = {IR_OP_AVG_POOL, IR_DT_U16, 0, 1, 2, 2, 0, 0, 0};
	assert_int_equal(run_case(&pu16, u16, &yu16, sizeof yu16, msg, sizeof msg), 0);
	assert_int_equal(yu16, 65534); /* 65534.5 */
}

/* Pads counted by count_include_pad add the zero point; uncounted ones
 * leave the sum and the count alone. */
static void test_intpool_avg_pads(void **state)
{
	(void)state;
	char msg[512];
	/* u8, zp 10, kernel 3, pads 1 and 1: windows (pad,20,32) (20,32,5) (32,5,pad) */
	uint8_t xu[3] = {20, 32, 5}, yu[3];
	pcase pu = {IR_OP_AVG_POOL, IR_DT_U8, 10, 1, 3, 3, 1, 1, 1};
	assert_int_equal(run_case(&pu, xu, yu, sizeof yu, msg, sizeof msg), 0);
	assert_int_equal(yu[0], 21); /* 62 / 3 = 20.67 */
	assert_int_equal(yu[1], 19); /* 57 / 3 */
	assert_int_equal(yu[2], 16); /* 47 / 3 = 15.67 */
	pu.cip = 0;
	assert_int_equal(run_case(&pu, xu, yu, sizeof yu, msg, sizeof msg), 0);
	assert_int_equal(yu[0], 26); /* 52 / 2 */
	assert_int_equal(yu[1], 19);
	assert_int_equal(yu[2], 18); /* 10 + 17 / 2 = 10 + 8.5 */
	/* i8, zp -5: (pad,-7,-8) gives -20/3 with the pad, -15/2 without */
	int8_t xi[3] = {-7, -8, 4}, yi[3];
	pcase pi = {IR_OP_AVG_POOL, IR_DT_I8, -5, 1, 3, 3, 1, 1, 1};
	assert_int_equal(run_case(&pi, xi, yi, sizeof yi, msg, sizeof msg), 0);
	assert_int_equal(yi[0], -7); /* -6.67 */
	assert_int_equal(yi[1], -4); /* -11 / 3 = -3.67 */
	assert_int_equal(yi[2], -3); /* -9 / 3 */
	pi.cip = 0;
	assert_int_equal(run_case(&pi, xi, yi, sizeof yi, msg, sizeof msg), 0);
	assert_int_equal(yi[0], -7); /* -5 + -5 / 2 = -5 + -2.5 */
	assert_int_equal(yi[1], -4);
	assert_int_equal(yi[2], -2); /* -4 / 2 */
	/* kernel 2, pads 2 and 0 over 2 values: the first window is all
	 * padding and gives the zero point (real 0) either way */
	int8_t xe[2] = {9, 20}, ye[3];
	pcase pe = {IR_OP_AVG_POOL, IR_DT_I8, -5, 1, 2, 2, 2, 0, 0};
	assert_int_equal(run_case(&pe, xe, ye, sizeof ye, msg, sizeof msg), 0);
	assert_int_equal(ye[0], -5);
	assert_int_equal(ye[1], 9);  /* (pad, 9): 9 / 1 */
	assert_int_equal(ye[2], 15); /* -5 + 39 / 2 = -5 + 19.5 */
	pe.cip = 1;
	assert_int_equal(run_case(&pe, xe, ye, sizeof ye, msg, sizeof msg), 0);
	assert_int_equal(ye[0], -5);
	assert_int_equal(ye[1], 2); /* (-5 + 9) / 2 */
	assert_int_equal(ye[2], 15);
}

/* max over integers; padding never wins, an all-padding window gives the
 * dtype's minimum; relu is max(q, zero point). */
static void test_intpool_max_relu(void **state)
{
	(void)state;
	char msg[512];
	/* kernel 2, pads 2 and 1: (pad,pad) (pad,-100) (-100,-128) (-128,-120) (-120,pad) */
	int8_t x[3] = {-100, -128, -120}, y[5];
	pcase pm = {IR_OP_MAX_POOL, IR_DT_I8, 0, 1, 3, 2, 2, 1, -1};
	assert_int_equal(run_case(&pm, x, y, sizeof y, msg, sizeof msg), 0);
	int8_t want[5] = {-128, -100, -100, -120, -120};
	assert_memory_equal(y, want, 5);
	uint16_t xu[3] = {0, 65535, 7}, yu;
	pcase pg = {IR_OP_GLOBAL_MAX_POOL, IR_DT_U16, NO_ZP, 1, 3, 0, 0, 0, -1};
	assert_int_equal(run_case(&pg, xu, &yu, sizeof yu, msg, sizeof msg), 0);
	assert_int_equal(yu, 65535);

	int8_t xr[5] = {-128, -6, -5, -4, 127}, yr[5];
	pcase pr = {IR_OP_RELU, IR_DT_I8, -5, 1, 5, 0, 0, 0, -1};
	assert_int_equal(run_case(&pr, xr, yr, sizeof yr, msg, sizeof msg), 0);
	int8_t want_r[5] = {-5, -5, -5, -4, 127};
	assert_memory_equal(yr, want_r, 5);
	pr.zp = NO_ZP;
	assert_int_equal(run_case(&pr, xr, yr, sizeof yr, msg, sizeof msg), 0);
	int8_t want_r0[5] = {0, 0, 0, 0, 127};
	assert_memory_equal(yr, want_r0, 5);
	uint8_t xru[3] = {0, 130, 255}, yru[3];
	pcase pru = {IR_OP_RELU, IR_DT_U8, 130, 1, 3, 0, 0, 0, -1};
	assert_int_equal(run_case(&pru, xru, yru, sizeof yru, msg, sizeof msg), 0);
	uint8_t want_ru[3] = {130, 130, 255};
	assert_memory_equal(yru, want_ru, 3);
}

/* Other integer dtypes stay refused, naming the node. */
static void test_intpool_refused(void **state)
{
	(void)state;
	char msg[512];
	int32_t x[2] = {1, 2}, y[2];
	pcase p = {IR_OP_AVG_POOL, IR_DT_I32, NO_ZP, 1, 2, 1, 0, 0, -1};
	assert_int_equal(run_case(&p, x, y, sizeof y, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "node 0 'P' (avg_pool)"));
	assert_non_null(strstr(msg, "dtype i32 is not supported"));
	p.op = IR_OP_RELU;
	assert_int_equal(run_case(&p, x, y, sizeof y, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "dtype i32 is not supported"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intpool_avg_rounding),
		cmocka_unit_test(test_intpool_avg_pads),
		cmocka_unit_test(test_intpool_max_relu),
		cmocka_unit_test(test_intpool_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
