/* test_intpath.c: the integer path's one requantization rule
 * (ir_requant_multiplier, ir_requant_apply) on values derived by hand from
 * gemmlowp's definitions, the diagnostics of quantize/dequantize and
 * the integer conv on inconsistent parameters, quantize to sub-byte
 * widths, and fake_quant against quantize then dequantize. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ir.h"

static void mult_is(double m, int32_t want_mult, int32_t want_shift)
{
	int32_t mu = -1, sh = -99;
	assert_int_equal(ir_requant_multiplier(m, &mu, &sh), 0);
	assert_int_equal(mu, want_mult);
	assert_int_equal(sh, want_shift);
}

/* m = mult * 2^(shift - 31) with mult in [2^30, 2^31). */
static void test_intpath_multiplier(void **state)
{
	(void)state;
	mult_is(0.5, 1 << 30, 0);
	mult_is(1.0, 1 << 30, 1);
	mult_is(0.75, 1610612736, 0);       /* 0.75 * 2^31 */
	mult_is(3.0, 1610612736, 2);        /* 0.75 * 2^2 */
	mult_is(ldexp(1.0, -20), 1 << 30, -19);
	mult_is(1.0 - ldexp(1.0, -40), 1 << 30, 1); /* rounds up to 2^31: halved */
	mult_is(ldexp(1.0, -32), 1 << 30, -31);     /* the smallest shift */
	mult_is(ldexp(1.0, -33), 0, 0);             /* below: everything is 0 */
	int32_t mu, sh;
	assert_int_equal(ir_requant_multiplier(0.0, &mu, &sh), -1);
	assert_int_equal(ir_requant_multiplier(-0.5, &mu, &sh), -1);
	assert_int_equal(ir_requant_multiplier(NAN, &mu, &sh), -1);
	assert_int_equal(ir_requant_multiplier(INFINITY, &mu, &sh), -1);
	assert_int_equal(ir_requant_multiplier(ldexp(1.0, 31), &mu, &sh), -1);
}

/* gemmlowp's high multiply rounds half up (toward +inf: its nudge is
 * 2^30 or 1 - 2^30), the shift rounds half away from zero, and a product
 * can round twice: TFLite's and CMSIS-NN's default, which qgtc matches. */
static void test_intpath_apply(void **state)
{
	(void)state;
	const int32_t half = 1 << 30; /* with shift 0: 0.5 */
	assert_int_equal(ir_requant_apply(3, half, 0), 2);    /* 1.5 -> 2 */
	assert_int_equal(ir_requant_apply(-3, half, 0), -1);  /* -1.5 -> -1 */
	assert_int_equal(ir_requant_apply(1, half, 0), 1);    /* 0.5 -> 1 */
	assert_int_equal(ir_requant_apply(-1, half, 0), 0);   /* -0.5 -> 0 */
	assert_int_equal(ir_requant_apply(2, half, 0), 1);
	/* 0.25 = 0.5 * 2^-1: the high multiply rounds, then the shift */
	assert_int_equal(ir_requant_apply(6, half, -1), 2);   /* 3 / 2 = 1.5 -> 2 */
	assert_int_equal(ir_requant_apply(-6, half, -1), -2); /* -3 / 2 = -1.5 -> -2 */
	assert_int_equal(ir_requant_apply(4, half, -1), 1);
	assert_int_equal(ir_requant_apply(5, half, -1), 2);   /* 1.25: 2.5 -> 3, 1.5 -> 2 */
	assert_int_equal(ir_requant_apply(-5, half, -1), -1); /* -2.5 -> -2, -1 */
	assert_int_equal(ir_requant_apply(3, half, -1), 1);   /* 0.75: 1.5 -> 2, 1 -> 1 */
	/* 0.75 */
	assert_int_equal(ir_requant_apply(100, 1610612736, 0), 75);
	assert_int_equal(ir_requant_apply(2, 1610612736, 0), 2);   /* 1.5 -> 2 */
	assert_int_equal(ir_requant_apply(-2, 1610612736, 0), -1); /* -1.5 -> -1 */
	/* 1.0 = 2^30 * 2^(1 - 31): exact, through the left shift */
	assert_int_equal(ir_requant_apply(7, half, 1), 7);
	assert_int_equal(ir_requant_apply(-123456, half, 1), -123456);
	/* The left shift wraps like CMSIS-NN's int32 multiply: 2^30 << 1. */
	assert_int_equal(ir_requant_apply(1 << 30, half, 1), -(1 << 30));
	/* The extreme right shift: 2^-32 */
	/* (2^31 - 1) / 2 -> 2^30, then 2^30 / 2^31 = 0.5 -> 1 */
	assert_int_equal(ir_requant_apply(INT32_MAX, half, -31), 1);
	assert_int_equal(ir_requant_apply(INT32_MIN, half, -31), -1); /* -0.5 -> -1 */
}

/* x f32[4] -> quantize(scale, zp) -> y; the graph checks and returns the
 * diagnostics of shape inference. */
static int quantize_graph(float scale, int8_t zp, const char *zdt, char *msg, size_t nmsg)
{
	ir_graph *g = ir_graph_create("q");
	int64_t four = 4;
	ir_shape s4 = ir_shape_make(1, &four), s0 = ir_shape_make(0, NULL);
	ir_value *x = ir_graph_add_value(g, "x", IR_DT_F32, &s4);
	ir_graph_add_input(g, x);
	ir_value *sc = ir_graph_add_const(g, "s", IR_DT_F32, &s0, &scale);
	int32_t zbuf = zp; /* as wide as the widest zdt (i32); little-endian */
	ir_value *z = ir_graph_add_const(g, "z", ir_dtype_from_name(zdt), &s0, &zbuf);
	ir_value *y = ir_graph_add_value(g, "y", IR_DT_UNDEF, NULL);
	ir_value *in[3] = {x, sc, z};
	ir_graph_add_node(g, IR_OP_QUANTIZE, "Q", 3, in, 1, &y);
	ir_graph_add_output(g, y);
	diag_sink d;
	diag_sink_init_capture(&d);
	int rc = ir_graph_toposort(g, &d) || ir_infer_shapes(g, &d) ? -1 : 0;
	if (rc == 0) {
		assert_int_equal(y->dt, ir_dtype_from_name(zdt));
		assert_non_null(y->quant);
		assert_true(y->quant->scale[0] == scale);
		assert_int_equal(y->quant->zero_point[0], zp);
	}
	snprintf(msg, nmsg, "%s", d.buf ? d.buf : "");
	diag_sink_fini(&d);
	ir_graph_destroy(g);
	return rc;
}

static void test_intpath_quantize_params(void **state)
{
	(void)state;
	char msg[512];
	assert_int_equal(quantize_graph(0.25f, -3, "i8", msg, sizeof msg), 0);
	assert_int_equal(quantize_graph(0.25f, 7, "u8", msg, sizeof msg), 0);
	assert_int_equal(quantize_graph(0.0f, 0, "i8", msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "node 0 'Q' (quantize)"));
	assert_non_null(strstr(msg, "scale[0] is 0; scales must be positive and finite"));
	assert_int_equal(quantize_graph(-1.0f, 0, "i8", msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "scale[0] is -1"));
	assert_int_equal(quantize_graph(NAN, 0, "i8", msg, sizeof msg), -1);
	assert_int_equal(quantize_graph(1.0f, 0, "i32", msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "zero point dtype i32 is not supported"));
}

/* The interpreter's quantize: half to even, saturation, NaN to the zero
 * point; dequantize back. */
static void test_intpath_quantize_values(void **state)
{
	(void)state;
	ir_graph *g = ir_graph_create("q");
	int64_t n = 8;
	ir_shape s8 = ir_shape_make(1, &n), s0 = ir_shape_make(0, NULL);
	float scale = 0.5f;
	int8_t zp = 1;
	ir_value *x = ir_graph_add_value(g, "x", IR_DT_F32, &s8);
	ir_graph_add_input(g, x);
	ir_value *sc = ir_graph_add_const(g, "s", IR_DT_F32, &s0, &scale);
	ir_value *z = ir_graph_add_const(g, "z", IR_DT_I8, &s0, &zp);
	ir_value *q = ir_graph_add_value(g, "q", IR_DT_UNDEF, NULL);
	ir_value *y = ir_graph_add_value(g, "y", IR_DT_UNDEF, NULL);
	ir_value *qin[3] = {x, sc, z}, *din[3] = {q, sc, z};
	ir_graph_add_node(g, IR_OP_QUANTIZE, "Q", 3, qin, 1, &q);
	ir_graph_add_node(g, IR_OP_DEQUANTIZE, "DQ", 3, din, 1, &y);
	ir_graph_add_output(g, q);
	ir_graph_add_output(g, y);
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(ir_graph_toposort(g, &d), 0);
	assert_int_equal(ir_infer_shapes(g, &d), 0);
	/* x/0.5: 0.5, 1.5, -0.5, -2.5 (half to even: 0, 2, -0, -2), 1000, -1000, NaN, 0.74 */
	float xv[8] = {0.25f, 0.75f, -0.25f, -1.25f, 500.0f, -500.0f, NAN, 0.37f};
	int8_t want_q[8] = {1, 3, 1, -1, 127, -128, 1, 2};
	ir_tensor in = {IR_DT_F32, s8, xv}, out[2];
	assert_int_equal(ir_interp_run(g, &in, out, &d), 0);
	assert_memory_equal(out[0].data, want_q, 8);
	float want_y[8] = {0.0f, 1.0f, 0.0f, -1.0f, 63.0f, -64.5f, 0.0f, 0.5f};
	for (int i = 0; i < 8; i++)
		assert_true(((float *)out[1].data)[i] == want_y[i]);
	ir_tensor_free(&out[0]);
	ir_tensor_free(&out[1]);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* A quantize with `bits` saturates to that width, signed as its dtype
 * (ONNX's int4, uint4, int2, uint2 held in i8/u8), and its zero point
 * must lie in that range: an error at the node otherwise. */
static int narrow_graph(ir_dtype dt, int bits, int zp, const float *xv, void *want)
{
	ir_graph *g = ir_graph_create("q");
	int64_t n = 8;
	ir_shape s8 = ir_shape_make(1, &n), s0 = ir_shape_make(0, NULL);
	float scale = 0.5f;
	uint8_t zb = (uint8_t)zp;
	ir_value *x = ir_graph_add_value(g, "x", IR_DT_F32, &s8);
	ir_graph_add_input(g, x);
	ir_value *sc = ir_graph_add_const(g, "s", IR_DT_F32, &s0, &scale);
	ir_value *z = ir_graph_add_const(g, "z", dt, &s0, &zb);
	ir_value *q = ir_graph_add_value(g, "q", IR_DT_UNDEF, NULL);
	ir_value *qin[3] = {x, sc, z};
	ir_node *nq = ir_graph_add_node(g, IR_OP_QUANTIZE, "Q4", 3, qin, 1, &q);
	ir_node_set_int(g, nq, "bits", bits);
	ir_graph_add_output(g, q);
	diag_sink d;
	diag_sink_init_capture(&d);
	int rc = ir_graph_toposort(g, &d) || ir_infer_shapes(g, &d) ? -1 : 0;
	if (rc == 0) {
		assert_int_equal(q->dt, dt);
		assert_int_equal(q->quant->bits, bits);
		int64_t lo, hi;
		ir_value_range(q, &lo, &hi);
		assert_true(hi - lo + 1 == (int64_t)1 << bits);
		ir_tensor in = {IR_DT_F32, s8, (void *)xv}, out;
		assert_int_equal(ir_interp_run(g, &in, &out, &d), 0);
		assert_memory_equal(out.data, want, 8);
		ir_tensor_free(&out);
	} else {
		assert_non_null(strstr(d.buf, "node 0 'Q4' (quantize)"));
		assert_non_null(strstr(d.buf, bits == 4 ? "zero point[0] is 9, outside the range of "
		                                          "int4 [-8, 7]"
		                                        : "outside the range of uint2 [0, 3]"));
	}
	diag_sink_fini(&d);
	ir_graph_destroy(g);
	return rc;
}

static void test_intpath_quantize_narrow(void **state)
{
	(void)state;
	int64_t lo, hi;
	ir_dtype_range_bits(IR_DT_I8, 4, &lo, &hi);
	assert_true(lo == -8 && hi == 7);
	ir_dtype_range_bits(IR_DT_U8, 2, &lo, &hi);
	assert_true(lo == 0 && hi == 3);
	ir_dtype_range_bits(IR_DT_I16, 16, &lo, &hi);
	assert_true(lo == INT16_MIN && hi == INT16_MAX);
	/* x/0.5: 0.5, 1.5, -0.5, -2.5, 1000, -1000, NaN, 6.6 */
	float xv[8] = {0.25f, 0.75f, -0.25f, -1.25f, 500.0f, -500.0f, NAN, 3.3f};
	int8_t want_i4[8] = {1, 3, 1, -1, 7, -8, 1, 7};
	uint8_t want_u4[8] = {2, 4, 2, 0, 15, 0, 2, 9};
	int8_t want_i2[8] = {1, 1, 1, -1, 1, -2, 1, 1};
	uint8_t want_u2[8] = {2, 3, 2, 0, 3, 0, 2, 3};
	assert_int_equal(narrow_graph(IR_DT_I8, 4, 1, xv, want_i4), 0);
	assert_int_equal(narrow_graph(IR_DT_U8, 4, 2, xv, want_u4), 0);
	assert_int_equal(narrow_graph(IR_DT_I8, 2, 1, xv, want_i2), 0);
	assert_int_equal(narrow_graph(IR_DT_U8, 2, 2, xv, want_u2), 0);
	assert_int_equal(narrow_graph(IR_DT_I8, 4, 9, xv, NULL), -1);
	assert_int_equal(narrow_graph(IR_DT_U8, 2, 4, xv, NULL), -1);
}

/* x [2, 3, 4] -> fake_quant(scale, zp) and -> quantize -> dequantize with
 * the same operands (per tensor, or per channel along axis 1); both
 * outputs of one interpreter run. */
static void fq_vs_qdq(ir_dtype zdt, int nchan, const float *scale, const void *zp, const float *xv,
                      float *fq, float *qdq)
{
	ir_graph *g = ir_graph_create("fq");
	int64_t d3[3] = {2, 3, 4}, nc = nchan;
	ir_shape sx = ir_shape_make(3, d3), sp = ir_shape_make(nchan > 1 ? 1 : 0, &nc);
	ir_value *x = ir_graph_add_value(g, "x", IR_DT_F32, &sx);
	ir_graph_add_input(g, x);
	ir_value *sc = ir_graph_add_const(g, "s", IR_DT_F32, &sp, scale);
	ir_value *z = ir_graph_add_const(g, "z", zdt, &sp, zp);
	ir_value *f = ir_graph_add_value(g, "f", IR_DT_UNDEF, NULL);
	ir_value *q = ir_graph_add_value(g, "q", IR_DT_UNDEF, NULL);
	ir_value *y = ir_graph_add_value(g, "y", IR_DT_UNDEF, NULL);
	ir_value *in[3] = {x, sc, z}, *din[3] = {q, sc, z};
	ir_node *nf = ir_graph_add_node(g, IR_OP_FAKE_QUANT, "FQ", 3, in, 1, &f);
	ir_node *nq = ir_graph_add_node(g, IR_OP_QUANTIZE, "Q", 3, in, 1, &q);
	ir_node *nd = ir_graph_add_node(g, IR_OP_DEQUANTIZE, "DQ", 3, din, 1, &y);
	if (nchan > 1) {
		ir_node_set_int(g, nf, "axis", 1);
		ir_node_set_int(g, nq, "axis", 1);
		ir_node_set_int(g, nd, "axis", 1);
	}
	ir_graph_add_output(g, f);
	ir_graph_add_output(g, y);
	diag_sink d;
	diag_sink_init_capture(&d);
	int rc = ir_graph_toposort(g, &d) || ir_infer_shapes(g, &d) || ir_verify(g, true, &d);
	if (rc)
		fail_msg("%s", d.buf ? d.buf : "");
	assert_int_equal(f->dt, IR_DT_F32);
	assert_true(ir_shape_eq(&f->shape, &sx));
	ir_tensor tin = {IR_DT_F32, sx, (void *)xv}, out[2];
	assert_int_equal(ir_interp_run(g, &tin, out, &d), 0);
	memcpy(fq, out[0].data, 24 * sizeof(float));
	memcpy(qdq, out[1].data, 24 * sizeof(float));
	ir_tensor_free(&out[0]);
	ir_tensor_free(&out[1]);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* fake_quant is quantize then dequantize, bit for bit: ties to even,
 * saturation at both ends, NaN to the zero point (then 0), per tensor and
 * per channel, i8, u8 and i16; and on the values the interpreter's
 * quantize/dequantize test derives by hand. */
static void test_intpath_fake_quant(void **state)
{
	(void)state;
	float xv[24], fq[24], qdq[24];
	uint64_t r = 1;
	for (int i = 0; i < 24; i++) {
		r = r * 6364136223846793005ull + 1442695040888963407ull;
		xv[i] = (float)((double)(r >> 11) / 9007199254740992.0 * 12.0 - 6.0);
	}
	/* ties at scale 0.5 (x / s = k + 0.5), both ends, NaN */
	const float special[8] = {0.25f, 0.75f, -0.25f, -1.25f, 500.0f, -500.0f, NAN, 0.37f};
	memcpy(xv, special, sizeof special);
	xv[9] = 2.0f * 0.05f * 2.5f; /* a tie at scale 0.05, in f32 */
	float s1 = 0.5f, s3[3] = {0.5f, 0.05f, 3.0f};
	int8_t z8 = 1, z83[3] = {1, -128, 127};
	uint8_t zu = 200, zu3[3] = {0, 128, 255};
	int16_t z16 = 0, z163[3] = {0, 0, 0};
	struct {
		ir_dtype dt;
		int nchan;
		const float *s;
		const void *z;
	} cfg[] = {
		{IR_DT_I8, 1, &s1, &z8},   {IR_DT_I8, 3, s3, z83},   {IR_DT_U8, 1, &s1, &zu},
		{IR_DT_U8, 3, s3, zu3},    {IR_DT_I16, 1, &s1, &z16}, {IR_DT_I16, 3, s3, z163},
	};
	for (size_t c = 0; c < sizeof cfg / sizeof *cfg; c++) {
		fq_vs_qdq(cfg[c].dt, cfg[c].nchan, cfg[c].s, cfg[c].z, xv, fq, qdq);
		for (int i = 0; i < 24; i++)
			if (memcmp(&fq[i], &qdq[i], sizeof(float)) != 0)
				fail_msg("config %zu element %d (x %g): fake_quant %.9g, quantize/dequantize %.9g",
				         c, i, (double)xv[i], (double)fq[i], (double)qdq[i]);
	}
	/* scale 0.5, zero point 1: the values test_intpath_quantize_values
	 * works out by hand */
	fq_vs_qdq(IR_DT_I8, 1, &s1, &z8, xv, fq, qdq);
	const float want[8] = {0.0f, 1.0f, 0.0f, -1.0f, 63.0f, -64.5f, 0.0f, 0.5f};
	for (int i = 0; i < 8; i++)
		assert_true(fq[i] == want[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intpath_multiplier),
		cmocka_unit_test(test_intpath_apply),
		cmocka_unit_test(test_intpath_quantize_params),
		cmocka_unit_test(test_intpath_quantize_values),
		cmocka_unit_test(test_intpath_quantize_narrow),
		cmocka_unit_test(test_intpath_fake_quant),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
