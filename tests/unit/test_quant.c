/* test_quant.c: the quantizer family (passes/quant.h): codes, parameters
 * and DQ of every scheme against values computed by hand or by numpy,
 * per-channel axes (gemm trans_b, conv_transpose, depthwise), the error
 * gradient against finite differences, bnfold exactness through the
 * interpreter, bias-corrected PTQ, and the bit packing round trip. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pass.h"
#include "quant.h"

static ir_shape shp(int rank, ...)
{
	ir_shape s = {.rank = rank};
	va_list ap;
	va_start(ap, rank);
	for (int i = 0; i < rank; i++)
		s.d[i] = va_arg(ap, int64_t);
	va_end(ap);
	return s;
}
#define S1(a) shp(1, (int64_t)(a))
#define S2(a, b) shp(2, (int64_t)(a), (int64_t)(b))
#define S4(a, b, c, e) shp(4, (int64_t)(a), (int64_t)(b), (int64_t)(c), (int64_t)(e))

/* Quantize w per tensor with (scheme, bits), compare codes and DQ. */
static void check_scheme(const float *w, int n, ir_qscheme scheme, int bits, const uint8_t *codes,
                         const float *dq, float tol)
{
	pass_qspec sp;
	pass_qspec_default(&sp);
	sp.scheme = scheme;
	sp.bits = bits;
	sp.per_channel = false;
	sp.f32_scales = true; /* the hand-computed scales are exact f32 */
	ir_quant q;
	float out[64], back[64];
	double err;
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_shape s = S1(n);
	assert_int_equal(pass_quantize(w, &s, &sp, NULL, &q, out, &err, &d), 0);
	double e2 = 0;
	for (int i = 0; i < n; i++) {
		assert_int_equal(q.codes[i], codes[i]);
		assert_float_equal(out[i], dq[i], tol);
		e2 += ((double)out[i] - w[i]) * ((double)out[i] - w[i]);
	}
	assert_float_equal(err, e2, 1e-9);
	/* dequantize from codes + parameters gives the same DQ */
	pass_dequantize(&q, &s, back);
	for (int i = 0; i < n; i++)
		assert_float_equal(back[i], out[i], 0);
	pass_quant_free(&q);
	diag_sink_fini(&d);
}

/* By hand: lo -0.6, hi 0.9, scale 1.5/3 = 0.5, zp rint(1.2) = 1; codes
 * rint(w/0.5) + 1 = {-1,0,1,2} + 1. */
static void test_quant_affine_codes(void **state)
{
	(void)state;
	const float w[] = {-0.6f, -0.1f, 0.3f, 0.9f};
	const uint8_t c[] = {0, 1, 2, 3};
	const float dq[] = {-0.5f, 0.0f, 0.5f, 1.0f};
	check_scheme(w, 4, IR_QS_AFFINE, 2, c, dq, 1e-6f);
}

/* By hand: Q = 3, scale 0.9/3 = 0.3, q = {-3,-1,1,2}, code = q + 4. */
static void test_quant_symmetric_codes(void **state)
{
	(void)state;
	const float w[] = {-0.9f, -0.2f, 0.35f, 0.6f};
	const uint8_t c[] = {1, 3, 5, 6};
	const float dq[] = {-0.9f, -0.3f, 0.3f, 0.6f};
	check_scheme(w, 4, IR_QS_SYMMETRIC, 3, c, dq, 1e-6f);
}

/* By hand: 3 bits: magnitudes scale * {1, 1/2, 1/4}; max 0.9 in
 * [0.75, 1.5) -> scale 1; 0.3 is nearest 0.25 (m = 3, negative: code
 * 4|3); 0.1 < 0.125 (half the smallest level) -> 0. */
static void test_quant_pow2_codes(void **state)
{
	(void)state;
	const float w[] = {0.9f, -0.3f, 0.1f, 0.02f, -0.6f};
	const uint8_t c[] = {1, 7, 0, 0, 6};
	const float dq[] = {1.0f, -0.25f, 0.0f, 0.0f, -0.5f};
	check_scheme(w, 5, IR_QS_POW2, 3, c, dq, 0);
}

/* By hand: alpha = mean |w| = 0.5; code 1 for w >= 0. */
static void test_quant_binary_codes(void **state)
{
	(void)state;
	const float w[] = {0.5f, -1.0f, 0.25f, -0.25f};
	const uint8_t c[] = {1, 0, 1, 0};
	const float dq[] = {0.5f, -0.5f, 0.5f, -0.5f};
	check_scheme(w, 4, IR_QS_BINARY, 8 /* ignored: binary is 1 bit */, c, dq, 1e-7f);
}

/* By hand: mean |w| = 0.375, TWN threshold 0.2625; alpha = mean of
 * {0.8, 0.6, 0.7} = 0.7; q = rint(w / 0.7) clamped; code = q + 2. */
static void test_quant_ternary_codes(void **state)
{
	(void)state;
	const float w[] = {0.8f, -0.6f, 0.1f, -0.05f, 0.7f, 0.0f};
	const uint8_t c[] = {3, 1, 2, 2, 3, 2};
	const float dq[] = {0.7f, -0.7f, 0, 0, 0.7f, 0};
	check_scheme(w, 6, IR_QS_TERNARY, 2, c, dq, 1e-6f);
}

/* By hand: 2 levels from the 25th/75th percentiles (-0.8, 0.7), Lloyd:
 * clusters {-1,-0.8} and {0.5,0.7,0.9} -> levels -0.9, 0.7, stable. */
static void test_quant_codebook_kmeans(void **state)
{
	(void)state;
	const float w[] = {-1.0f, 0.7f, -0.8f, 0.5f, 0.9f};
	const uint8_t c[] = {0, 1, 0, 1, 1};
	const float dq[] = {-0.9f, 0.7f, -0.9f, 0.7f, 0.7f};
	check_scheme(w, 5, IR_QS_CODEBOOK, 1, c, dq, 1e-6f);
}

/* Reference from numpy (float32 throughout, np.round = ties to even):
 *   lo = minimum(w.min(1), 0); hi = maximum(w.max(1), 0)
 *   sc = (hi - lo) / 15; zp = clip(round(-lo / sc), 0, 15)
 *   c = clip(round(w / sc[:, None]) + zp[:, None], 0, 15); dq = sc * (c - zp)
 * The two channels differ in range by 40x: per-channel must keep both. */
static void test_quant_affine_per_channel_numpy(void **state)
{
	(void)state;
	const float w[12] = {0.31f,   -0.72f, 0.05f,  0.44f,   -0.13f, 0.9f,
	                     -0.021f, 0.017f, 0.004f, -0.009f, 0.013f, 0.002f};
	const uint8_t codes[12] = {10, 0, 7, 11, 6, 15, 0, 15, 10, 4, 13, 9};
	const float scale[2] = {0.1080000028014183f, 0.002533333608880639f};
	const int32_t zp[2] = {7, 8};
	const float dq[12] = {0.324f,      -0.756f,     0.0f,         0.432f,       -0.108f,     0.864f,
	                      -0.02026667f, 0.01773334f, 0.005066667f, -0.01013333f, 0.01266667f,
	                      0.002533334f};
	pass_qspec sp;
	pass_qspec_default(&sp);
	sp.bits = 4;
	sp.f32_scales = true; /* numpy's reference is float32 */
	ir_shape s = S2(2, 6);
	ir_quant q;
	float out[12];
	double err;
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(pass_quantize(w, &s, &sp, NULL, &q, out, &err, &d), 0);
	assert_int_equal(q.axis, 0);
	assert_int_equal(q.nchan, 2);
	for (int c = 0; c < 2; c++) {
		assert_float_equal(q.scale[c], scale[c], 1e-9);
		assert_int_equal(q.zero_point[c], zp[c]);
	}
	for (int i = 0; i < 12; i++) {
		assert_int_equal(q.codes[i], codes[i]);
		assert_float_equal(out[i], dq[i], 1e-6);
	}
	assert_float_equal(err, 0.005839890450273941, 1e-8);
	pass_quant_free(&q);
	diag_sink_fini(&d);
}

/* Output channels on axis 1 (gemm with trans_b = 0: B is [K, N]): the
 * parameters follow the columns. */
static void test_quant_axis1_columns(void **state)
{
	(void)state;
	/* column 0 within +-0.01, column 1 within +-1 */
	const float w[6] = {0.01f, -1.0f, -0.01f, 0.4f, 0.003f, 1.0f};
	pass_qspec sp;
	pass_qspec_default(&sp);
	sp.scheme = IR_QS_SYMMETRIC;
	sp.bits = 2; /* Q = 1: scale = max |column| */
	sp.axis = 1;
	sp.f32_scales = true;
	ir_shape s = S2(3, 2);
	ir_quant q;
	float out[6];
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(pass_quantize(w, &s, &sp, NULL, &q, out, NULL, &d), 0);
	assert_int_equal(q.nchan, 2);
	assert_float_equal(q.scale[0], 0.01f, 1e-9);
	assert_float_equal(q.scale[1], 1.0f, 1e-9);
	assert_float_equal(out[0], 0.01f, 1e-9);
	assert_float_equal(out[1], -1.0f, 1e-9);
	assert_float_equal(out[2], -0.01f, 1e-9);
	assert_float_equal(out[3], 0.0f, 1e-9); /* 0.4 / 1 rounds to 0 */
	assert_float_equal(out[4], 0.0f, 1e-9); /* 0.003 / 0.01 rounds to 0 */
	assert_float_equal(out[5], 1.0f, 1e-9);
	pass_quant_free(&q);
	/* a bad axis is reported, not crashed on */
	sp.axis = 2;
	assert_int_equal(pass_quantize(w, &s, &sp, NULL, &q, out, NULL, &d), -1);
	assert_true(d.nerr > 0);
	diag_sink_fini(&d);
}

/* Scales are rounded to half precision by default.  Reference from
 * numpy: float(np.float32(np.float16(np.float32(x)))); values outside
 * the normal fp16 range stay as they are (stored as f32 by the backend). */
static void test_quant_f16_scales(void **state)
{
	(void)state;
	static const float in[][2] = {
	    {0.1080000028014183f, 0.10797119140625f},
	    {0.002533333608880639f, 0.002532958984375f},
	    {0.3f, 0.300048828125f},
	    {0.3333333432674408f, 0.333251953125f},
	    {0.7000000476837158f, 0.7001953125f},
	    {0.0024999999441206455f, 0.0025005340576171875f},
	    {65504.0f, 65504.0f},
	    {-0.3f, -0.300048828125f},
	};
	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
		assert_float_equal(pass_f16_round(in[i][0]), in[i][1], 0);
		assert_true(pass_f16_exact(in[i][1]));
	}
	assert_false(pass_f16_exact(0.3f));
	/* below the normal range and above it: unchanged, not exact */
	assert_float_equal(pass_f16_round(1e-6f), 1e-6f, 0);
	assert_false(pass_f16_exact(1e-6f));
	assert_float_equal(pass_f16_round(70000.0f), 70000.0f, 0);
	assert_false(pass_f16_exact(70000.0f));
	/* the default spec gives fp16 scales; DQ uses the rounded scale */
	const float w[4] = {-0.9f, -0.2f, 0.35f, 0.6f};
	pass_qspec sp;
	pass_qspec_default(&sp);
	sp.scheme = IR_QS_SYMMETRIC;
	sp.bits = 3;
	sp.per_channel = false;
	ir_shape s = S1(4);
	ir_quant q;
	float out[4];
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(pass_quantize(w, &s, &sp, NULL, &q, out, NULL, &d), 0);
	assert_true(pass_f16_exact(q.scale[0]));
	assert_float_equal(q.scale[0], 0.300048828125f, 0);
	assert_float_equal(out[0], -3 * q.scale[0], 0);
	pass_quant_free(&q);
	diag_sink_fini(&d);
}

/* pass_weight_axis on conv, depthwise conv, conv_transpose (plain and
 * depthwise), gemm (both trans_b) and matmul. */
static void test_quant_weight_axis(void **state)
{
	(void)state;
	ir_graph *g = ir_graph_create("axes");
	struct {
		ir_op op;
		ir_shape w;
		int group, trans_b, want;
	} cases[] = {
	    {IR_OP_CONV, S4(16, 3, 3, 3), 1, 0, 0},
	    {IR_OP_CONV, S4(8, 1, 3, 3), 8, 0, 0},            /* depthwise */
	    {IR_OP_CONV_TRANSPOSE, S4(4, 6, 3, 3), 1, 0, 1},  /* [I, O, kh, kw] */
	    {IR_OP_CONV_TRANSPOSE, S4(8, 1, 3, 3), 8, 0, 0},  /* depthwise */
	    {IR_OP_GEMM, S2(10, 64), 1, 1, 0},
	    {IR_OP_GEMM, S2(64, 10), 1, 0, 1},
	    {IR_OP_MATMUL, S2(64, 10), 1, 0, 1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char nm[32];
		snprintf(nm, sizeof nm, "w%zu", i);
		ir_value *in[2] = {ir_graph_add_value(g, ir_graph_unique_name(g, "x"), IR_DT_F32, NULL),
		                   ir_graph_add_const(g, nm, IR_DT_F32, &cases[i].w, NULL)};
		ir_value *y = ir_graph_add_value(g, ir_graph_unique_name(g, "y"), IR_DT_F32, NULL);
		ir_node *n = ir_graph_add_node(g, cases[i].op, nm, 2, in, 1, &y);
		if (cases[i].group > 1)
			ir_node_set_int(g, n, "group", cases[i].group);
		if (cases[i].op == IR_OP_GEMM)
			ir_node_set_int(g, n, "trans_b", cases[i].trans_b);
		assert_int_equal(pass_weight_axis(n, 1), cases[i].want);
		assert_int_equal(pass_weight_axis(n, 0), -1);
	}
	ir_graph_destroy(g);
}

/* Every scheme: pass_dequantize(codes) == DQ, DQ is idempotent under
 * requantize, and per-channel error <= per-tensor error for affine. */
static void test_quant_all_schemes_consistent(void **state)
{
	(void)state;
	enum { O = 4, K = 27 };
	float w[O * K], dq[O * K], back[O * K], dq2[O * K];
	srand(7);
	for (int i = 0; i < O * K; i++)
		w[i] = ((float)rand() / (float)RAND_MAX - 0.5f) * (float)(1 + i / K);
	ir_shape s = S4(O, 3, 3, 3);
	diag_sink d;
	diag_sink_init_capture(&d);
	for (int sc = IR_QS_AFFINE; sc <= IR_QS_CODEBOOK; sc++)
		for (int bits = 2; bits <= 8; bits += 2)
			for (int calib = 0; calib < 3; calib++) {
				pass_qspec sp;
				pass_qspec_default(&sp);
				sp.scheme = (ir_qscheme)sc;
				sp.bits = bits;
				sp.calib = (pass_calib)calib;
				ir_quant q;
				double err, err2;
				assert_int_equal(pass_quantize(w, &s, &sp, NULL, &q, dq, &err, &d), 0);
				pass_dequantize(&q, &s, back);
				assert_memory_equal(back, dq, sizeof dq);
				for (int i = 0; i < O * K; i++)
					assert_true(q.codes[i] < (1u << q.bits));
				/* requantizing DQ(w) on the same grid gives DQ(w) back */
				assert_int_equal(pass_quant_requantize(dq, &s, &q, dq2, &err2), 0);
				assert_memory_equal(dq2, dq, sizeof dq);
				assert_float_equal(err2, 0, 1e-12);
				/* calibrating for MSE never does worse than min-max */
				if (calib == PASS_CALIB_MSE) {
					pass_qspec mm = sp;
					mm.calib = PASS_CALIB_MINMAX;
					ir_quant q2;
					double e_mm;
					assert_int_equal(pass_quantize(w, &s, &mm, NULL, &q2, NULL, &e_mm, &d), 0);
					assert_true(err <= e_mm + 1e-12);
					pass_quant_free(&q2);
				}
				pass_quant_free(&q);
			}
	/* more bits, less error (affine per-channel) */
	double prev = INFINITY;
	for (int bits = 1; bits <= 8; bits++) {
		pass_qspec sp;
		pass_qspec_default(&sp);
		sp.bits = bits;
		ir_quant q;
		double err;
		assert_int_equal(pass_quantize(w, &s, &sp, NULL, &q, NULL, &err, &d), 0);
		assert_true(err < prev);
		prev = err;
		pass_quant_free(&q);
	}
	/* symmetric at 1 bit is refused with a message */
	pass_qspec bad;
	pass_qspec_default(&bad);
	bad.scheme = IR_QS_SYMMETRIC;
	bad.bits = 1;
	ir_quant q;
	assert_int_equal(pass_quantize(w, &s, &bad, NULL, &q, NULL, NULL, &d), -1);
	assert_non_null(strstr(d.buf, "symmetric needs 2 to 8 bits"));
	diag_sink_fini(&d);
}

/* The QGT gradient 2 (w - DQ(w)) against central differences of
 * ||DQ(w) - w||^2 on a frozen grid (requantize): DQ is piecewise
 * constant, so away from rounding boundaries they agree. */
static void test_quant_error_grad_finite_diff(void **state)
{
	(void)state;
	enum { N = 64 };
	float w[N], dq[N], grad[N];
	srand(3);
	for (int i = 0; i < N; i++)
		w[i] = (float)rand() / (float)RAND_MAX * 2 - 1;
	ir_shape s = S2(4, 16);
	pass_qspec sp;
	pass_qspec_default(&sp);
	sp.bits = 3;
	ir_quant q;
	double err;
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(pass_quantize(w, &s, &sp, NULL, &q, dq, &err, &d), 0);
	double e = pass_quant_error_grad(w, dq, N, grad);
	assert_float_equal(e, err, 1e-9);
	const float h = 1e-3f;
	int checked = 0;
	uint8_t codes0[N];
	memcpy(codes0, q.codes, N);
	for (int i = 0; i < N; i++) {
		float wp[N], wm[N];
		double ep, em;
		memcpy(wp, w, sizeof w);
		memcpy(wm, w, sizeof w);
		wp[i] += h;
		wm[i] -= h;
		assert_int_equal(pass_quant_requantize(wp, &s, &q, NULL, &ep), 0);
		bool same = q.codes[i] == codes0[i];
		assert_int_equal(pass_quant_requantize(wm, &s, &q, NULL, &em), 0);
		same = same && q.codes[i] == codes0[i];
		if (!same)
			continue; /* crossed a rounding boundary */
		double fd = (ep - em) / (2.0 * (double)h);
		assert_float_equal(fd, grad[i], 2e-3);
		checked++;
	}
	assert_true(checked > N / 2);
	pass_quant_free(&q);
	diag_sink_fini(&d);
}

/* ------------------------------------------------------ graph tests */

static float frand(void)
{
	return (float)rand() / (float)RAND_MAX * 2 - 1;
}

static ir_value *rconst(ir_graph *g, const char *name, ir_shape s, float lo, float hi)
{
	int64_t n = ir_shape_numel(&s);
	float *v = malloc((size_t)n * sizeof *v);
	for (int64_t i = 0; i < n; i++)
		v[i] = lo + (hi - lo) * ((float)rand() / (float)RAND_MAX);
	ir_value *c = ir_graph_add_const(g, name, IR_DT_F32, &s, v);
	free(v);
	return c;
}

/* x[2,4,5,5] -> conv(8, 3x3, b) -> BN -> relu -> conv_transpose(group 2)
 * -> BN -> global_avg_pool -> flatten -> gemm(trans_b 0) -> BN -> out. */
static ir_graph *bn_graph(void)
{
	ir_graph *g = ir_graph_create("bn");
	ir_shape xs = S4(2, 4, 5, 5);
	ir_value *x = ir_graph_add_value(g, "x", IR_DT_F32, &xs);
	ir_graph_add_input(g, x);
	ir_value *v = x;
	int k = 0;
	char nm[64];
#define NEXT(op, name, nin, ...)                                                                 \
	do {                                                                                     \
		ir_value *ins_[] = {__VA_ARGS__};                                                \
		snprintf(nm, sizeof nm, "%s_out%d", name, k++);                                  \
		ir_value *o_ = ir_graph_add_value(g, nm, IR_DT_F32, NULL);                       \
		last = ir_graph_add_node(g, op, name, nin, ins_, 1, &o_);                        \
		v = o_;                                                                          \
	} while (0)
	ir_node *last;
	NEXT(IR_OP_CONV, "conv1", 3, v, rconst(g, "conv1.w", S4(8, 4, 3, 3), -0.5f, 0.5f),
	     rconst(g, "conv1.b", S1(8), -0.1f, 0.1f));
	ir_node_set_ints(g, last, "pads", (int64_t[]){1, 1, 1, 1}, 4);
	NEXT(IR_OP_BATCHNORM, "bn1", 5, v, rconst(g, "bn1.g", S1(8), -1.5f, 2.0f),
	     rconst(g, "bn1.b", S1(8), -0.5f, 0.5f), rconst(g, "bn1.m", S1(8), -0.3f, 0.3f),
	     rconst(g, "bn1.v", S1(8), 0.2f, 2.0f));
	NEXT(IR_OP_RELU, "relu1", 1, v);
	NEXT(IR_OP_CONV_TRANSPOSE, "deconv", 2, v, rconst(g, "deconv.w", S4(8, 3, 2, 2), -0.5f, 0.5f));
	ir_node_set_int(g, last, "group", 2);
	NEXT(IR_OP_BATCHNORM, "bn2", 5, v, rconst(g, "bn2.g", S1(6), 0.5f, 2.0f),
	     rconst(g, "bn2.b", S1(6), -0.5f, 0.5f), rconst(g, "bn2.m", S1(6), -0.3f, 0.3f),
	     rconst(g, "bn2.v", S1(6), 0.2f, 2.0f));
	NEXT(IR_OP_GLOBAL_AVG_POOL, "gap", 1, v);
	NEXT(IR_OP_FLATTEN, "flat", 1, v);
	NEXT(IR_OP_GEMM, "fc", 3, v, rconst(g, "fc.w", S2(6, 5), -1, 1), rconst(g, "fc.b", S1(5), -1, 1));
	ir_node_set_float(g, last, "beta", 0.5f);
	NEXT(IR_OP_BATCHNORM, "bn3", 5, v, rconst(g, "bn3.g", S1(5), 0.5f, 2.0f),
	     rconst(g, "bn3.b", S1(5), -0.5f, 0.5f), rconst(g, "bn3.m", S1(5), -0.3f, 0.3f),
	     rconst(g, "bn3.v", S1(5), 0.2f, 2.0f));
#undef NEXT
	ir_graph_add_output(g, v);
	return g;
}

static void run_graph(ir_graph *g, const float *x, ir_tensor *out, diag_sink *d)
{
	ir_tensor in = {IR_DT_F32, g->inputs[0]->shape, (void *)x};
	assert_int_equal(ir_interp_run(g, &in, out, d), 0);
}

static void test_quant_bnfold_exact(void **state)
{
	(void)state;
	srand(11);
	ir_graph *g = bn_graph();
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(pass_run_pipeline(g, "shapes", NULL, &d), 0);
	float x[2 * 4 * 5 * 5];
	for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
		x[i] = frand();
	ir_tensor ref, got;
	run_graph(g, x, &ref, &d);
	assert_int_equal(pass_run_pipeline(g, "bnfold,shapes", NULL, &d), 0);
	assert_int_equal(ir_verify(g, true, &d), 0);
	for (int i = 0; i < g->nnodes; i++)
		assert_int_not_equal(g->nodes[i]->op, IR_OP_BATCHNORM);
	run_graph(g, x, &got, &d);
	int64_t n = ir_shape_numel(&ref.shape);
	assert_int_equal(n, 10);
	for (int64_t i = 0; i < n; i++)
		assert_float_equal(((float *)got.data)[i], ((float *)ref.data)[i], 1e-5);
	ir_tensor_free(&ref);
	ir_tensor_free(&got);
	ir_graph_destroy(g);
	diag_sink_fini(&d);
}

/* The quantize pass: weights become DQ(w) with an ir_quant attached; the
 * --bits rules and a node's hint pick the bits (rules over hints over -b);
 * bitpack packs every quantized weight. */
static void test_quant_pass_rules_and_bias_correction(void **state)
{
	(void)state;
	srand(5);
	ir_graph *g = bn_graph();
	diag_sink d;
	diag_sink_init_capture(&d);
	enum { NCAL = 8, PER = 4 * 5 * 5 };
	float *cal = malloc(NCAL * PER * sizeof *cal);
	for (int i = 0; i < NCAL * PER; i++)
		cal[i] = frand();
	pass_quant_options qo = {.bits = 3, .scheme = IR_QS_AFFINE, .bits_rules = "fc=8,deconv*=2",
	                         .calib_x = cal, .calib_n = NCAL, .calib_numel = PER};
	pass_options po = {.quant = &qo};
	for (int i = 0; i < g->nnodes; i++)
		if (strcmp(g->nodes[i]->name, "conv1") == 0)
			g->nodes[i]->qhint.bits = 5; /* the rules do not name conv1: the hint holds */
	assert_int_equal(pass_run_pipeline(g, "shapes,bnfold,quantize,bitpack", &po, &d), 0);
	const char *names[] = {"conv1.w", "deconv.w", "fc.w"};
	int want_bits[] = {5, 2, 8};
	for (int k = 0; k < 3; k++) {
		ir_value *w = ir_graph_find_value(g, names[k]);
		assert_non_null(w);
		assert_non_null(w->quant);
		assert_int_equal(w->quant->bits, want_bits[k]);
		assert_non_null(w->quant->packed);
		assert_int_equal(w->quant->packed_bytes, pass_bitpack_size(&w->shape, want_bits[k]));
		/* the data is exactly DQ(codes) */
		int64_t n = ir_shape_numel(&w->shape);
		float *dq = malloc((size_t)n * sizeof *dq);
		pass_dequantize(w->quant, &w->shape, dq);
		assert_memory_equal(dq, w->data, (size_t)n * sizeof *dq);
		free(dq);
	}
	/* gemm with trans_b 0: per-channel along axis 1 */
	assert_int_equal(ir_graph_find_value(g, "fc.w")->quant->axis, 1);
	assert_int_equal(ir_graph_find_value(g, "fc.w")->quant->nchan, 5);
	/* bias correction added no nodes; the graph still verifies */
	assert_int_equal(ir_verify(g, true, &d), 0);
	/* rerunning the pass leaves quantized weights alone */
	const void *before = ir_graph_find_value(g, "fc.w")->data;
	assert_int_equal(pass_run_pipeline(g, "quantize", &po, &d), 0);
	assert_ptr_equal(ir_graph_find_value(g, "fc.w")->data, before);
	ir_graph_destroy(g);
	free(cal);
	/* a malformed rule is reported */
	assert_int_equal(pass_quant_check_rules("conv1=9", &d), -1);
	assert_int_equal(pass_quant_check_rules("conv1", &d), -1);
	assert_int_equal(pass_quant_check_rules("conv1=8,*dw*=4,fc=fp32", &d), 0);
	diag_sink_fini(&d);
}

/* mse_max_bits (QGT's grid policy) goes by each layer's own bits: a
 * 2-bit hint or rule under -b 8 takes the MSE grid, the 8-bit layers
 * keep --calib. */
static void test_quant_mse_per_layer(void **state)
{
	(void)state;
	ir_graph *g = bn_graph();
	diag_sink d;
	diag_sink_init_capture(&d);
	pass_quant_options qo = {.bits = 8, .scheme = IR_QS_AFFINE, .calib = PASS_CALIB_PERCENTILE,
	                         .mse_max_bits = 2, .bits_rules = "fc=1"};
	int seen = 0;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (strcmp(n->name, "conv1") == 0)
			n->qhint.bits = 2;
		ir_value *w;
		pass_qspec sp;
		if (pass_quant_spec_for(&qo, n, &w, &sp, &d) != 1)
			continue;
		seen++;
		bool low = strcmp(n->name, "conv1") == 0 || strcmp(n->name, "fc") == 0;
		assert_int_equal(sp.bits, strcmp(n->name, "conv1") == 0 ? 2 : strcmp(n->name, "fc") == 0 ? 1 : 8);
		assert_int_equal(sp.calib, low ? PASS_CALIB_MSE : PASS_CALIB_PERCENTILE);
	}
	assert_true(seen >= 3);
	qo.mse_max_bits = 0;
	for (int i = 0; i < g->nnodes; i++) {
		ir_value *w;
		pass_qspec sp;
		if (pass_quant_spec_for(&qo, g->nodes[i], &w, &sp, &d) == 1)
			assert_int_equal(sp.calib, PASS_CALIB_PERCENTILE);
	}
	ir_graph_destroy(g);
	diag_sink_fini(&d);
}

/* Grids handed on in the run (what the qgt pass leaves for quantize):
 * a handed spec wins over -b and --calib; a `first` codebook takes each
 * channel's distinct values as its levels. */
static void test_quant_pass_handed_grids(void **state)
{
	(void)state;
	srand(7);
	ir_graph *g = bn_graph();
	diag_sink d;
	diag_sink_init_capture(&d);
	/* deconv.w on at most 4 values per output channel (axis 1) */
	ir_value *dw = ir_graph_find_value(g, "deconv.w");
	float *w = dw->data;
	for (int64_t k = 0; k < ir_shape_numel(&dw->shape); k++)
		w[k] = 0.125f * (float)((k / 4 % 3) * 2 - 3 + (k % 2)) - 0.01f * (float)(k / 4 % 3);
	pass_quant_options qo = {.bits = 8, .scheme = IR_QS_AFFINE, .scale_mb = PASS_E8_MB};
	pass_qspec two, cb;
	pass_qspec_default(&two);
	two.bits = 2;
	two.calib = PASS_CALIB_MSE;
	pass_qspec_default(&cb);
	cb.scheme = IR_QS_CODEBOOK;
	cb.bits = 2;
	pass_weight_grid wg[2] = {{"conv1.w", two, false}, {"deconv.w", cb, true}};
	pass_handoff h = {.weights = wg, .nweights = 2};
	pass_options po = {.quant = &qo, .handoff = &h};
	assert_int_equal(pass_run_pipeline(g, "shapes,bnfold,quantize", &po, &d), 0);
	ir_value *c1 = ir_graph_find_value(g, "conv1.w"), *fc = ir_graph_find_value(g, "fc.w");
	dw = ir_graph_find_value(g, "deconv.w");
	assert_int_equal(c1->quant->bits, 2);
	assert_int_equal(c1->quant->axis, 0); /* the deploying node's */
	assert_true(pass_quant_scales_ecode(c1->quant, PASS_E8_MB, NULL)); /* deployed in one byte */
	assert_int_equal(fc->quant->bits, 8);
	assert_false(pass_quant_scales_ecode(fc->quant, PASS_E8_MB, NULL));
	assert_int_equal(dw->quant->scheme, IR_QS_CODEBOOK);
	assert_int_equal(dw->quant->axis, 1);
	/* on its levels already: quantizing moved nothing */
	int64_t n = ir_shape_numel(&dw->shape);
	float *dq = malloc((size_t)n * sizeof *dq);
	pass_dequantize(dw->quant, &dw->shape, dq);
	assert_memory_equal(dq, dw->data, (size_t)n * sizeof *dq);
	free(dq);
	assert_int_equal(d.nerr, 0);
	ir_graph_destroy(g);
	diag_sink_fini(&d);
}

/* Bias correction on a single conv: after it, the per-channel means of
 * the quantized layer's output over the calibration set equal float's. */
static void test_quant_bias_correction_means(void **state)
{
	(void)state;
	srand(9);
	enum { NCAL = 4, PER = 3 * 6 * 6, OC = 5 };
	ir_graph *g = ir_graph_create("bc");
	ir_shape xs = S4(2, 3, 6, 6);
	ir_value *x = ir_graph_add_value(g, "x", IR_DT_F32, &xs);
	ir_graph_add_input(g, x);
	ir_value *in[2] = {x, rconst(g, "w", S4(OC, 3, 3, 3), -1, 1)};
	ir_value *y = ir_graph_add_value(g, "y", IR_DT_F32, NULL);
	ir_graph_add_node(g, IR_OP_CONV, "conv", 2, in, 1, &y); /* no bias: one gets added */
	ir_graph_add_output(g, y);
	float *cal = malloc(NCAL * PER * sizeof *cal);
	for (int i = 0; i < NCAL * PER; i++)
		cal[i] = frand() + 0.5f; /* a nonzero input mean makes the weight error biased */
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(pass_run_pipeline(g, "shapes", NULL, &d), 0);
	double mf[OC] = {0}, mq[OC] = {0};
	for (int b = 0; b < NCAL / 2; b++) {
		ir_tensor out;
		run_graph(g, cal + b * 2 * PER, &out, &d);
		for (int64_t k = 0; k < ir_shape_numel(&out.shape); k++)
			mf[(k / 16) % OC] += ((float *)out.data)[k]; /* [2, OC, 4, 4] */
		ir_tensor_free(&out);
	}
	pass_quant_options qo = {.bits = 2, .scheme = IR_QS_AFFINE, .calib_x = cal, .calib_n = NCAL,
	                         .calib_numel = PER, .f32_biases = true}; /* exact means */
	pass_options po = {.quant = &qo};
	assert_int_equal(pass_run_pipeline(g, "quantize", &po, &d), 0);
	ir_node *n = g->nodes[0];
	assert_int_equal(n->nin, 3);
	assert_non_null(n->in[2]);
	for (int b = 0; b < NCAL / 2; b++) {
		ir_tensor out;
		run_graph(g, cal + b * 2 * PER, &out, &d);
		for (int64_t k = 0; k < ir_shape_numel(&out.shape); k++)
			mq[(k / 16) % OC] += ((float *)out.data)[k];
		ir_tensor_free(&out);
	}
	for (int c = 0; c < OC; c++)
		assert_float_equal(mq[c] / (NCAL * 16), mf[c] / (NCAL * 16), 1e-4);
	free(cal);
	ir_graph_destroy(g);
	diag_sink_fini(&d);
}

/* Scales in one byte at 2 bits or fewer: the e8 rule (nearest, ties to
 * even, clamped to codes 1..255; values worked by hand and checked with
 * Python's exact arithmetic), the base, the storage predicate, and what
 * quantize gives at 2 bits (e8), at 4 and 8 (fp16), and with f32 scales. */
static void test_quant_e8_scales(void **state)
{
	(void)state;
	static const struct { float s; int e0; float want; } r[] = {
	    {0.3f, -15, 0.296875f},               /* 1.2 * 2^-2 -> 19/16 * 2^-2 */
	    {1.03125f, -15, 1.0f},                /* a tie: to the even code */
	    {1.09375f, -15, 1.125f},              /* a tie: to the even code */
	    {0x1p-15f, -15, 0x1.1p-15f},          /* code 0 is zero: up to code 1 */
	    {1e-9f, -15, 0x1.1p-15f},             /* below the range */
	    {100.0f, -15, 1.9375f},               /* above it: code 255 */
	    {0.1f, -10, 0.1015625f},
	    {0.0f, -10, 0.0f},
	};
	for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
		assert_float_equal(pass_ecode_round(r[i].s, r[i].e0, PASS_E8_MB), r[i].want, 0);
	assert_int_equal(pass_ecode_base(1.8f), -15); /* [1, 2) is the top octave */
	assert_int_equal(pass_ecode_base(2.0f), -14);
	/* storage: one base for all, the least one; 2^e itself is code 16 */
	float sc[3] = {0.296875f, 0.0f, 1.9375f};
	ir_quant q = {.scale = sc, .nchan = 3, .bits = 2};
	int e0 = 0;
	assert_true(pass_quant_scales_ecode(&q, PASS_E8_MB, &e0));
	assert_int_equal(e0, -2);
	sc[1] = 0.25f; /* 2^-2 exactly: the base goes one octave down */
	assert_true(pass_quant_scales_ecode(&q, PASS_E8_MB, &e0));
	assert_int_equal(e0, -3);
	sc[1] = 0x1p-20f; /* 20 octaves apart */
	assert_false(pass_quant_scales_ecode(&q, PASS_E8_MB, NULL));
	sc[1] = 0.3f; /* finer than 4 mantissa bits */
	assert_false(pass_quant_scales_ecode(&q, PASS_E8_MB, NULL));
	float neg[2] = {-0.25f, -0.5f};
	ir_quant qn = {.scale = neg, .nchan = 2, .bits = 2};
	assert_false(pass_quant_scales_ecode(&qn, PASS_E8_MB, NULL));
	/* quantize: e8 at 2 bits, fp16 at 8, exact f32 when asked */
	enum { C = 6, K = 9 };
	float w[C * K];
	srand(5);
	for (int i = 0; i < C * K; i++)
		w[i] = frand() * (float)(1 + i / K); /* channels of different ranges */
	w[2 * K + 3] = 0; /* and a dead channel */
	for (int k = 0; k < K; k++)
		w[4 * K + k] = 0;
	ir_shape s = S2(C, K);
	for (int mode = 0; mode < 4; mode++) {
		pass_qspec sp;
		pass_qspec_default(&sp);
		sp.bits = mode == 1 ? 8 : mode == 3 ? 4 : 2;
		sp.calib = PASS_CALIB_MSE;
		sp.scale_mb = PASS_E8_MB;
		sp.f32_scales = mode == 2;
		ir_quant qq;
		float dq[C * K];
		diag_sink d;
		diag_sink_init_capture(&d);
		assert_int_equal(pass_quantize(w, &s, &sp, NULL, &qq, dq, NULL, &d), 0);
		assert_int_equal(pass_quant_scales_ecode(&qq, PASS_E8_MB, &e0), mode == 0);
		if (mode == 1 || mode == 3)
			assert_true(pass_quant_scales_f16(&qq));
		pass_quant_free(&qq);
		diag_sink_fini(&d);
	}
	/* channels 2^15 apart: one byte would clamp the small one up and lose
	 * its weights; the tensor keeps fp16 scales */
	for (int k = 0; k < K; k++)
		w[4 * K + k] = 2e-4f * frand();
	pass_qspec sp;
	pass_qspec_default(&sp);
	sp.bits = 2;
	sp.scale_mb = PASS_E8_MB;
	ir_quant qw;
	float dqw[C * K];
	diag_sink dw;
	diag_sink_init_capture(&dw);
	assert_int_equal(pass_quantize(w, &s, &sp, NULL, &qw, dqw, NULL, &dw), 0);
	assert_false(pass_quant_scales_ecode(&qw, PASS_E8_MB, NULL));
	assert_true(pass_quant_scales_f16(&qw));
	assert_true(qw.scale[4] > 0 && qw.scale[4] < 1e-3f);
	pass_quant_free(&qw);
	diag_sink_fini(&dw);
}

/* Scale codes of 12 bits (e12, the default at 2 bits or fewer) and biases
 * of 12 bits (b12): the rules (nearest, ties to even, clamped to the
 * codes; b12 flushes below its least code to 0 or that code), the codes,
 * the storage predicates, what quantize gives and what the size report
 * counts.  The expected values come from Python's exact arithmetic
 * (fractions.Fraction over every code), not from this code. */
static void test_quant_e12_b12(void **state)
{
	(void)state;
	static const struct { float s; int e0; float want; } e12[] = {
	    {0.3f, -15, 0x1.33p-2f},
	    {1.001953125f, -15, 1.0f},          /* a tie: to the even code */
	    {1.005859375f, -15, 0x1.02p+0f},    /* a tie: to the even code */
	    {0x1p-15f, -15, 0x1.01p-15f},       /* code 0 is zero: up to code 1 */
	    {1e-9f, -15, 0x1.01p-15f},          /* below the range */
	    {100.0f, -15, 0x1.ffp+0f},          /* above it: code 4095 */
	    {0.1f, -10, 0x1.9ap-4f},
	    {0.0f, -10, 0.0f},
	};
	for (size_t i = 0; i < sizeof e12 / sizeof e12[0]; i++)
		assert_float_equal(pass_ecode_round(e12[i].s, e12[i].e0, PASS_E12_MB), e12[i].want, 0);
	static const struct { float x; int e0; float want; } b12[] = {
	    {-0.3f, -15, -0x1.34p-2f},
	    {0x1.333334p-16f, -15, 0x1.02p-15f}, /* over half the least code: up to it */
	    {0x1.99999ap-17f, -15, 0.0f},        /* under half: to 0 */
	    {-0x1.333334p-16f, -15, -0x1.02p-15f},
	    {1.999f, -15, 0x1.fep+0f},           /* above the range: the largest code */
	    {0.1f, -10, 0x1.9ap-4f},
	    {-0x1.02p+0f, -15, -0x1.02p+0f},     /* a code's value: itself */
	    {0x1.03p+0f, -15, 0x1.04p+0f},       /* a tie: to the even code */
	};
	for (size_t i = 0; i < sizeof b12 / sizeof b12[0]; i++) {
		float r = pass_bias_b12_round(b12[i].x, b12[i].e0);
		assert_memory_equal(&r, &b12[i].want, sizeof r);
	}
	float r = pass_bias_b12_round(-0.0f, -15), z = 0.0f;
	assert_memory_equal(&r, &z, sizeof r); /* +0, not -0 */
	assert_true(isnan(pass_bias_b12_round(NAN, -15)));
	assert_true(isinf(pass_bias_b12_round(-INFINITY, -15)));
	/* codes: (exponent - base) << mb | mantissa, the sign as bit 11 */
	assert_int_equal(pass_ecode(-0x1.34p-2f, -15, PASS_B12_MB), 2048u + 13 * 128 + 26);
	assert_int_equal(pass_ecode(0x1.33p-2f, -15, PASS_E12_MB), 13 * 256 + 51);
	assert_int_equal(pass_ecode(0.0f, -15, PASS_E12_MB), 0u);
	/* storage: one base for all, signs only where asked, no -0 */
	float bd[3] = {-0x1.34p-2f, 0.0f, 1.5f};
	int e0 = 0;
	assert_true(pass_ecode_fits(bd, 3, PASS_B12_MB, true, &e0));
	assert_int_equal(e0, -2);
	assert_false(pass_ecode_fits(bd, 3, PASS_B12_MB, false, NULL));
	bd[1] = -0.0f;
	assert_false(pass_ecode_fits(bd, 3, PASS_B12_MB, true, NULL));
	bd[1] = 0x1.35p-2f; /* finer than 7 mantissa bits */
	assert_false(pass_ecode_fits(bd, 3, PASS_B12_MB, true, NULL));
	assert_true(pass_ecode_fits(bd, 3, PASS_E12_MB, true, NULL));
	/* quantize at 2 bits as qgtc's defaults say: e12 scales and b12
	 * biases; at 4 bits fp16 for both; the size report's bytes */
	enum { OC = 6 };
	size_t tot[4];
	for (int mode = 0; mode < 4; mode++) { /* 2 bits, 4 bits, 2 bits --bias-dtype f32, an outlier */
		ir_graph *g = ir_graph_create("e12");
		ir_shape xs = S4(1, 2, 5, 5), bs = S1(OC), ws = S4(OC, 2, 3, 3);
		ir_value *x = ir_graph_add_value(g, "x", IR_DT_F32, &xs);
		ir_graph_add_input(g, x);
		float bias[OC] = {0.1f, -0.3f, 2e-7f, 1.7f, -2e-5f, 0.0f};
		if (mode == 3)
			bias[3] = 1e4f; /* 0.1 lies 17 octaves below: b12 would flush it */
		ir_value *b = ir_graph_add_const(g, "b", IR_DT_F32, &bs, bias);
		ir_value *w = rconst(g, "w", ws, -1, 1);
		ir_value *in3[3] = {x, w, b};
		ir_value *y = ir_graph_add_value(g, "y", IR_DT_F32, NULL);
		ir_graph_add_node(g, IR_OP_CONV, "conv", 3, in3, 1, &y);
		ir_graph_add_output(g, y);
		diag_sink d;
		diag_sink_init_capture(&d);
		pass_quant_options qo = {.bits = mode == 1 ? 4 : 2, .scheme = IR_QS_AFFINE, .scale_mb = PASS_E12_MB,
		                         .b12_biases = mode != 2, .f32_biases = mode == 2};
		pass_options po = {.quant = &qo};
		assert_int_equal(pass_run_pipeline(g, "shapes,quantize,bitpack", &po, &d), 0);
		const ir_value *nb = g->nodes[0]->in[2];
		const float *got = nb->data;
		int be = 0;
		if (mode == 0) {
			assert_true(pass_quant_scales_ecode(w->quant, PASS_E12_MB, NULL));
			assert_int_equal(pass_bias_dtype(g, nb, &be), PASS_BIAS_B12);
			int q0 = pass_ecode_base(1.7f * (1 + 1.0f / 128)); /* the largest, plus room */
			for (int c = 0; c < OC; c++)
				assert_float_equal(got[c], pass_bias_b12_round(bias[c], q0), 0);
			assert_float_equal(got[2], 0.0f, 0);    /* 2^-22: under the 16 octaves */
			assert_float_equal(got[4], -0x1.02p-15f, 0); /* over half the least code: kept as it */
		} else if (mode == 1) {
			assert_false(pass_quant_scales_ecode(w->quant, PASS_E12_MB, NULL));
			assert_true(pass_quant_scales_f16(w->quant));
			assert_int_equal(pass_bias_dtype(g, nb, NULL), PASS_BIAS_F16);
		} else if (mode == 2) {
			assert_int_equal(pass_bias_dtype(g, nb, NULL), PASS_BIAS_F32);
		} else { /* the tensor keeps fp16: each bias as pass_bias_round gives it */
			assert_int_equal(pass_bias_dtype(g, nb, NULL), PASS_BIAS_F16);
			for (int c = 0; c < OC; c++)
				assert_float_equal(got[c], pass_bias_round(bias[c]), 0);
			assert_true(pass_quant_scales_ecode(w->quant, PASS_E12_MB, NULL));
		}
		tot[mode] = pass_quant_total_bytes(g, NULL);
		ir_graph_destroy(g);
		diag_sink_fini(&d);
	}
	assert_int_equal(tot[2] - tot[0], 4 * OC - (12 * OC + 7) / 8); /* b12: 12 bits a bias */
}

/* Biases of quantized float layers in half precision: the rounding rule
 * (numpy's np.float16 for normal numbers; below 2^-14 the nearer of 0 and
 * +-2^-14), what quantize rounds, what the size report counts. */
static void test_quant_f16_biases(void **state)
{
	(void)state;
	static const float in[][2] = {
	    {0.1f, 0.0999755859375f}, {-0.3f, -0.300048828125f}, {1.7f, 1.7001953125f},
	    {5e-5f, 0x1p-14f},        {-4e-5f, -0x1p-14f},       {2e-5f, 0.0f},
	    {-0.0f, 0.0f},            {70000.0f, 70000.0f},
	};
	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
		float r = pass_bias_round(in[i][0]);
		assert_memory_equal(&r, &in[i][1], sizeof r); /* +0, not -0 */
	}
	enum { OC = 4 };
	for (int mode = 0; mode < 3; mode++) { /* default, --bias-dtype f32, -a 8 */
		ir_graph *g = ir_graph_create("b16");
		ir_shape xs = S4(1, 2, 5, 5);
		ir_value *x = ir_graph_add_value(g, "x", IR_DT_F32, &xs);
		ir_graph_add_input(g, x);
		const float bias[OC] = {0.1f, -0.3f, 2e-5f, 1.7f};
		ir_shape bs = S1(OC), ws = S4(OC, 2, 3, 3);
		ir_value *b = ir_graph_add_const(g, "b", IR_DT_F32, &bs, bias);
		ir_value *in2[3] = {x, rconst(g, "w", ws, -1, 1), b};
		ir_value *y = ir_graph_add_value(g, "y", IR_DT_F32, NULL);
		ir_graph_add_node(g, IR_OP_CONV, "conv", 3, in2, 1, &y);
		ir_graph_add_output(g, y);
		ir_graph_add_output(g, b); /* read elsewhere: the conv gets its own copy */
		diag_sink d;
		diag_sink_init_capture(&d);
		pass_quant_options qo = {.bits = 2, .scheme = IR_QS_AFFINE, .f32_biases = mode == 1,
		                         .act_bits = mode == 2 ? 8 : 0};
		pass_options po = {.quant = &qo};
		assert_int_equal(pass_run_pipeline(g, "shapes,quantize,bitpack", &po, &d), 0);
		ir_node *n = g->nodes[0];
		const ir_value *nb = n->in[2];
		const float *got = nb->data;
		assert_memory_equal(b->data, bias, sizeof bias); /* the output keeps its values */
		assert_int_equal(pass_bias_dtype(g, b, NULL), PASS_BIAS_F32);
		if (mode == 0) {
			assert_ptr_not_equal(nb, b);
			for (int c = 0; c < OC; c++)
				assert_float_equal(got[c], pass_bias_round(bias[c]), 0);
			assert_float_equal(got[2], 0.0f, 0);
			assert_int_equal(pass_bias_dtype(g, nb, NULL), PASS_BIAS_F16);
		} else {
			assert_ptr_equal(nb, b);
			assert_int_equal(pass_bias_dtype(g, nb, NULL), PASS_BIAS_F32);
		}
		ir_graph_destroy(g);
		diag_sink_fini(&d);
	}
	/* The size report counts such a bias at 2 bytes a value. */
	size_t tot[2];
	for (int f32 = 0; f32 < 2; f32++) {
		ir_graph *g = ir_graph_create("b16");
		ir_shape xs = S4(1, 2, 5, 5), bs = S1(OC), ws = S4(OC, 2, 3, 3);
		ir_value *x = ir_graph_add_value(g, "x", IR_DT_F32, &xs);
		ir_graph_add_input(g, x);
		ir_value *in2[3] = {x, rconst(g, "w", ws, -1, 1), rconst(g, "b", bs, -1, 1)};
		ir_value *y = ir_graph_add_value(g, "y", IR_DT_F32, NULL);
		ir_graph_add_node(g, IR_OP_CONV, "conv", 3, in2, 1, &y);
		ir_graph_add_output(g, y);
		diag_sink d;
		diag_sink_init_capture(&d);
		pass_quant_options qo = {.bits = 2, .scheme = IR_QS_AFFINE, .f32_biases = f32};
		pass_options po = {.quant = &qo};
		assert_int_equal(pass_run_pipeline(g, "shapes,quantize,bitpack", &po, &d), 0);
		tot[f32] = pass_quant_total_bytes(g, NULL);
		ir_graph_destroy(g);
		diag_sink_fini(&d);
	}
	assert_int_equal(tot[1] - tot[0], 2 * OC);
}

/* ------------------------------------------------------------ packing */

static void test_quant_bitpack_layout(void **state)
{
	(void)state;
	/* 2 bits, LSB first: 1 | 2<<2 | 3<<4 | 0<<6 = 0x39, then 1. */
	const uint8_t c2[] = {1, 2, 3, 0, 1};
	uint8_t out[8];
	ir_shape s = S1(5);
	assert_int_equal(pass_bitpack_size(&s, 2), 2);
	pass_bitpack(c2, &s, 2, out);
	assert_int_equal(out[0], 0x39);
	assert_int_equal(out[1], 0x01);
	/* 3 bits straddle bytes: 5 | 6<<3 | (7<<6 & 0xff) = 245, 7>>2 = 1 */
	const uint8_t c3[] = {5, 6, 7};
	s = S1(3);
	pass_bitpack(c3, &s, 3, out);
	assert_int_equal(out[0], 245);
	assert_int_equal(out[1], 1);
	/* rows start on byte boundaries: [2, 3] at 1 bit = 2 bytes */
	const uint8_t c1[] = {1, 0, 1, 1, 1, 0};
	s = S2(2, 3);
	assert_int_equal(pass_bitpack_size(&s, 1), 2);
	pass_bitpack(c1, &s, 1, out);
	assert_int_equal(out[0], 0x05);
	assert_int_equal(out[1], 0x03);
}

static void test_quant_bitpack_round_trip(void **state)
{
	(void)state;
	srand(1);
	ir_shape shapes[] = {S2(3, 7), S4(5, 3, 3, 3), S1(13), {.rank = 0}};
	for (int bits = 1; bits <= 8; bits++)
		for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
			ir_shape *s = &shapes[k];
			int64_t n = ir_shape_numel(s);
			uint8_t codes[200], back[200], packed[200];
			for (int64_t i = 0; i < n; i++)
				codes[i] = (uint8_t)(rand() & ((1 << bits) - 1));
			size_t nb = pass_bitpack_size(s, bits);
			int64_t rows = s->rank >= 2 ? s->d[0] : 1;
			assert_int_equal(nb, (size_t)(rows * ((n / rows * bits + 7) / 8)));
			memset(packed, 0xAA, sizeof packed);
			pass_bitpack(codes, s, bits, packed);
			assert_int_equal(packed[nb], 0xAA); /* nothing written past the end */
			pass_bitunpack(packed, s, bits, back);
			assert_memory_equal(back, codes, (size_t)n);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_quant_affine_codes),
	    cmocka_unit_test(test_quant_symmetric_codes),
	    cmocka_unit_test(test_quant_pow2_codes),
	    cmocka_unit_test(test_quant_binary_codes),
	    cmocka_unit_test(test_quant_ternary_codes),
	    cmocka_unit_test(test_quant_codebook_kmeans),
	    cmocka_unit_test(test_quant_affine_per_channel_numpy),
	    cmocka_unit_test(test_quant_axis1_columns),
	    cmocka_unit_test(test_quant_f16_scales),
	    cmocka_unit_test(test_quant_weight_axis),
	    cmocka_unit_test(test_quant_all_schemes_consistent),
	    cmocka_unit_test(test_quant_error_grad_finite_diff),
	    cmocka_unit_test(test_quant_bnfold_exact),
	    cmocka_unit_test(test_quant_pass_rules_and_bias_correction),
	    cmocka_unit_test(test_quant_pass_handed_grids),
	    cmocka_unit_test(test_quant_mse_per_layer),
	    cmocka_unit_test(test_quant_bias_correction_means),
	    cmocka_unit_test(test_quant_f16_biases),
	    cmocka_unit_test(test_quant_e8_scales),
	    cmocka_unit_test(test_quant_e12_b12),
	    cmocka_unit_test(test_quant_bitpack_layout),
	    cmocka_unit_test(test_quant_bitpack_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
