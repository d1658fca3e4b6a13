/* test_qgt.c: the QGT regularizer family (qgt/qgt.h): the gradient
 * against finite differences, the lambda schedules, and each regularizer
 * shown to cluster weights: with only the regularizer acting on a random
 * kernel, the quantization error falls and the weights gather on the
 * grid's levels.  Also batchnorm re-introduced for fine-tuning: the
 * identity at the start, folded back exactly at the end; and the
 * activation quantizers put in the loop (-a) on quantize-act's grids. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pass.h"
#include "qgt.h"

enum { O = 8, I = 4, K = 3, N = O * I * K * K };

/* One conv with a random [8,4,3,3] kernel (normal, seeded). */
static ir_graph *make_graph(diag_sink *d, unsigned seed)
{
	size_t cap = 64 * N + 1024;
	char *t = malloc(cap);
	assert_non_null(t);
	size_t k = (size_t)snprintf(t, cap, "graph g {\n  input %%x: f32[1,%d,6,6]\n  const %%w: f32[%d,%d,%d,%d] = [",
	                            I, O, I, K, K);
	uint64_t s = seed * 2654435761u + 1;
	for (int i = 0; i < N; i++) {
		double u1 = ((double)(qgt_rng_next(&s) >> 11) + 0.5) / 9007199254740992.0;
		double u2 = ((double)(qgt_rng_next(&s) >> 11) + 0.5) / 9007199254740992.0;
		double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2) * 0.1;
		k += (size_t)snprintf(t + k, cap - k, "%s%.6f", i ? ", " : "", z);
	}
	k += (size_t)snprintf(t + k, cap - k,
	                      "]\n  %%y: f32[1,%d,4,4] = conv(%%x, %%w) {dilations=[1,1], group=1, "
	                      "pads=[0,0,0,0], strides=[1,1]}\n  output %%y\n}\n",
	                      O);
	ir_graph *g = ir_parse(t, k, "t.qir", d);
	free(t);
	assert_non_null(g);
	return g;
}

typedef struct fixture {
	diag_sink d;
	ir_graph *g;
	ir_value *w;
	qgt_param p;
} fixture;

static void setup(fixture *f, unsigned seed)
{
	diag_sink_init(&f->d, stderr);
	f->g = make_graph(&f->d, seed);
	f->w = ir_graph_find_value(f->g, "w");
	assert_non_null(f->w);
	ir_node *conv = f->w == f->g->nodes[0]->in[1] ? f->g->nodes[0] : NULL;
	assert_non_null(conv);
	f->p = (qgt_param){.v = f->w, .node = conv, .role = QGT_ROLE_WEIGHT, .n = N, .w = f->w->data};
	f->p.g = calloc(N, sizeof(float));
	assert_non_null(f->p.g);
}

static void teardown(fixture *f)
{
	free(f->p.g);
	ir_graph_destroy(f->g);
	diag_sink_fini(&f->d);
}

static qgt_reg_options opts(ir_qscheme scheme, int bits, bool per_tensor)
{
	qgt_reg_options o;
	qgt_reg_options_default(&o);
	o.quant.scheme = scheme;
	o.quant.bits = bits;
	o.quant.per_tensor = per_tensor;
	o.sched = QGT_LSCHED_CONST;
	o.freeze_frac = 0;
	o.lambda = 1;
	return o;
}

/* R at step `step` (the grid is built at step 0 and frozen after). */
static double reg_value(qgt_reg *r, fixture *f, int64_t step)
{
	memset(f->p.g, 0, N * sizeof(float));
	qgt_progress pr = {.step = step, .total_steps = 100000, .lr = 0.01f};
	return r->apply(r->ctx, &f->p, &pr);
}

static void test_qgt_gradient_matches_finite_differences(void **state)
{
	(void)state;
	static const struct {
		ir_qscheme s;
		int bits;
		bool pt;
	} cases[] = {{IR_QS_AFFINE, 2, false}, {IR_QS_AFFINE, 4, true}, {IR_QS_SYMMETRIC, 3, false},
	             {IR_QS_POW2, 4, false},   {IR_QS_BINARY, 1, false}, {IR_QS_TERNARY, 2, true},
	             {IR_QS_AFFINE, 8, false}};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		fixture f;
		setup(&f, 1 + (unsigned)c);
		qgt_reg_options o = opts(cases[c].s, cases[c].bits, cases[c].pt);
		o.lambda = 0.7f;
		o.refresh = 1000000; /* w_q held constant, as the gradient assumes */
		qgt_reg *r = qgt_reg_create(f.g, &o, &f.d);
		assert_non_null(r);
		reg_value(r, &f, 0);
		float *g0 = malloc(N * sizeof(float));
		reg_value(r, &f, 1);
		memcpy(g0, f.p.g, N * sizeof(float));
		float *w = f.p.w;
		int checked = 0;
		for (int k = 0; k < N; k += 7) {
			const double h = 1e-4;
			float w0 = w[k];
			w[k] = (float)(w0 + h);
			double rp = reg_value(r, &f, 2);
			double gp = f.p.g[k];
			w[k] = (float)(w0 - h);
			double rm = reg_value(r, &f, 3);
			double gm = f.p.g[k];
			w[k] = w0;
			double fd = (rp - rm) / (2 * h);
			/* A probe that moves the weight across a rounding boundary
			 * changes its level (R has a kink there): then the gradient
			 * does not grow by exactly 2 lambda 2h across the probe. */
			if (fabs((gp - gm) - 2 * o.lambda * 2 * h) > 1e-5)
				continue;
			if (!(fabs(fd - g0[k]) <= 1e-3 + 1e-3 * fabs(fd)))
				fprintf(stderr, "case %zu element %d: analytic %g, finite difference %g\n", c, k,
				        (double)g0[k], fd);
			assert_true(fabs(fd - g0[k]) <= 1e-3 + 1e-3 * fabs(fd));
			checked++;
		}
		/* most probes were clean (8 bits: a fine grid, more kinks) */
		if (checked < N / 7 / 2)
			fprintf(stderr, "case %zu: only %d clean probes\n", c, checked);
		assert_true(checked >= N / 7 / 2);
		free(g0);
		qgt_reg_destroy(r);
		teardown(&f);
	}
}

static void test_qgt_lambda_schedules_ramp(void **state)
{
	(void)state;
	fixture f;
	setup(&f, 3);
	qgt_reg_options o = opts(IR_QS_AFFINE, 4, false);
	o.lambda = 10;
	o.sched_start = 1e-2f;
	o.freeze_frac = 0.2f;
	qgt_progress a = {.step = 0, .total_steps = 101}, b = {.step = 40, .total_steps = 101},
	             e = {.step = 80, .total_steps = 101};
	for (int s = QGT_LSCHED_CONST; s <= QGT_LSCHED_EXP; s++) {
		o.sched = (qgt_lambda_sched)s;
		qgt_reg *r = qgt_reg_create(f.g, &o, &f.d);
		double l0 = qgt_reg_lambda(r, &f.p, &a), l1 = qgt_reg_lambda(r, &f.p, &b),
		       l2 = qgt_reg_lambda(r, &f.p, &e);
		assert_true(fabs(l2 - 10) < 1e-6); /* full lambda when the frozen phase starts */
		if (s == QGT_LSCHED_CONST)
			assert_true(fabs(l0 - 10) < 1e-6 && fabs(l1 - 10) < 1e-6);
		else {
			assert_true(fabs(l0 - 0.1) < 1e-6);
			assert_true(l0 < l1 && l1 < l2);
		}
		if (s == QGT_LSCHED_EXP) /* geometric: halfway is the geometric mean */
			assert_true(fabs(l1 - 0.1 * pow(100, 40.0 / 80.0)) < 1e-3);
		qgt_reg_destroy(r);
	}
	float g;
	const char *rules;
	diag_sink *d = &f.d;
	assert_int_equal(qgt_lambda_parse("0.5", &g, &rules, d), 0);
	assert_true(g == 0.5f && rules == NULL);
	assert_int_equal(qgt_lambda_parse("w=0.1,*=3", &g, &rules, d), 0);
	assert_true(g == 3.0f && rules != NULL);
	o.lambda = g;
	o.lambda_rules = rules;
	o.sched = QGT_LSCHED_CONST;
	qgt_reg *r = qgt_reg_create(f.g, &o, d);
	assert_true(fabs(qgt_reg_lambda(r, &f.p, &a) - 0.1) < 1e-6);
	qgt_reg_destroy(r);
	diag_sink dq;
	diag_sink_init_capture(&dq);
	assert_int_equal(qgt_lambda_parse("w=abc", &g, &rules, &dq), -1);
	diag_sink_fini(&dq);
	teardown(&f);
}

/* Fraction of weights within tol * (channel max |w|) of the grid. */
static double on_grid(const float *w, const float *dq, int n, double tol)
{
	int k = 0;
	for (int i = 0; i < n; i++) {
		int ch = i / (N / O);
		double m = 0;
		for (int j = ch * (N / O); j < (ch + 1) * (N / O); j++)
			m = fmax(m, fabs(w[j]));
		k += fabs(w[i] - dq[i]) <= tol * m;
	}
	return (double)k / n;
}

/* Only the regularizer, plain gradient descent: the error must fall by
 * 100x and 99% of the weights end within 0.1% of a level. */
static void cluster_case(qgt_reg_kind kind, ir_qscheme scheme, int bits, bool pt)
{
	fixture f;
	setup(&f, 11 + (unsigned)scheme * 3 + (unsigned)bits);
	qgt_reg_options o = opts(scheme, bits, pt);
	o.kind = kind;
	o.refresh = 10;
	qgt_reg *r = qgt_reg_create(f.g, &o, &f.d);
	assert_non_null(r);
	float *dq = malloc(N * sizeof(float));
	double e0 = reg_value(r, &f, 0);
	/* DQ of the initial grid, recomputed from the error gradient */
	for (int k = 0; k < N; k++)
		dq[k] = f.p.w[k] - f.p.g[k] / 2;
	double frac0 = on_grid(f.p.w, dq, N, 1e-3);
	double e = e0;
	for (int step = 0; step < 300; step++) {
		qgt_progress pr = {.step = step, .total_steps = 100000, .lr = 0.1f};
		memset(f.p.g, 0, N * sizeof(float));
		e = r->apply(r->ctx, &f.p, &pr);
		for (int k = 0; k < N; k++)
			f.p.w[k] -= 0.1f * f.p.g[k];
		r->step_end(r->ctx, &f.p, &pr);
	}
	e = reg_value(r, &f, 300);
	for (int k = 0; k < N; k++)
		dq[k] = f.p.w[k] - f.p.g[k] / 2;
	double frac = on_grid(f.p.w, dq, N, 1e-3);
	if (!(e < e0 * 1e-2 && frac > 0.99 && frac0 < 0.5))
		fprintf(stderr, "kind %d %s %d-bit%s: error %g -> %g, on grid %.3f -> %.3f\n", kind,
		        pass_qscheme_name(scheme), bits, pt ? " per-tensor" : "", e0, e, frac0, frac);
	assert_true(e < e0 * 1e-2);
	assert_true(frac0 < 0.5);
	assert_true(frac > 0.99);
	/* and the projection lands there exactly: a fixed point */
	assert_true(qgt_reg_project(r, f.g, &f.d) < e0 * 1e-2);
	assert_true(qgt_reg_project(r, f.g, &f.d) < 1e-9);
	free(dq);
	qgt_reg_destroy(r);
	teardown(&f);
}

static void test_qgt_clusters_weights_uniform(void **state)
{
	(void)state;
	cluster_case(QGT_REG_QGT, IR_QS_AFFINE, 2, false);
	cluster_case(QGT_REG_QGT, IR_QS_AFFINE, 4, false);
	cluster_case(QGT_REG_QGT, IR_QS_AFFINE, 3, true);
	cluster_case(QGT_REG_QGT, IR_QS_SYMMETRIC, 4, false);
	cluster_case(QGT_REG_QGT, IR_QS_POW2, 3, false);
	cluster_case(QGT_REG_QGT, IR_QS_BINARY, 1, false);
	cluster_case(QGT_REG_QGT, IR_QS_TERNARY, 2, false);
}

static void test_qgt_clusters_weights_sq(void **state)
{
	(void)state;
	cluster_case(QGT_REG_SQ, IR_QS_TERNARY, 2, false);
}

static void test_qgt_clusters_weights_codebook(void **state)
{
	(void)state;
	cluster_case(QGT_REG_CODEBOOK, IR_QS_CODEBOOK, 2, false);
	cluster_case(QGT_REG_CODEBOOK, IR_QS_CODEBOOK, 3, true);
}

/* The frozen phase: kernels held exactly on the grid, gradients zeroed. */
static void test_qgt_freeze_holds_grid(void **state)
{
	(void)state;
	fixture f;
	setup(&f, 5);
	qgt_reg_options o = opts(IR_QS_AFFINE, 2, false);
	o.freeze_frac = 0.5f;
	qgt_reg *r = qgt_reg_create(f.g, &o, &f.d);
	qgt_progress pr = {.step = 60, .total_steps = 100, .lr = 0.1f};
	for (int k = 0; k < N; k++)
		f.p.g[k] = 1;
	assert_true(r->apply(r->ctx, &f.p, &pr) == 0);
	for (int k = 0; k < N; k++)
		assert_true(f.p.g[k] == 0);
	float *held = malloc(N * sizeof(float));
	memcpy(held, f.p.w, N * sizeof(float));
	for (int k = 0; k < N; k++)
		f.p.w[k] += 0.01f; /* an optimizer step */
	r->step_end(r->ctx, &f.p, &pr);
	assert_memory_equal(held, f.p.w, N * sizeof(float));
	assert_true(qgt_reg_project(r, f.g, &f.d) < 1e-12);
	free(held);
	qgt_reg_destroy(r);
	teardown(&f);
}

/* STE: before the forward the kernel is DQ(Q(w)) on the quantize pass's
 * grid; before the update the float kernel is back and the gradient
 * taken at DQ(Q(w)) passes straight through, or, with ste_clip, stops
 * where the grid clips w (an MSE grid at 2 bits clips the tails). */
static void test_qgt_ste_swaps_and_passes_gradients(void **state)
{
	(void)state;
	for (int clip = 0; clip < 2; clip++) {
		fixture f;
		setup(&f, 9);
		qgt_reg_options o = opts(IR_QS_AFFINE, 2, false);
		o.quant.calib = PASS_CALIB_MSE;
		o.method = QGT_METHOD_STE;
		o.ste_clip = clip;
		o.refresh = 1;
		qgt_reg *r = qgt_reg_create(f.g, &o, &f.d);
		assert_non_null(r);
		assert_non_null(r->step_begin);
		float *w0 = malloc(N * sizeof(float)), *dq = malloc(N * sizeof(float));
		memcpy(w0, f.p.w, N * sizeof(float));
		/* the grid the quantize pass computes for this kernel */
		pass_qspec sp;
		pass_qspec_default(&sp);
		sp.bits = 2;
		sp.calib = PASS_CALIB_MSE;
		ir_quant q = {0};
		assert_int_equal(pass_quantize(w0, &f.w->shape, &sp, NULL, &q, dq, NULL, &f.d), 0);
		qgt_progress pr = {.step = 0, .total_steps = 100, .lr = 0.01f};
		assert_int_equal(r->step_begin(r->ctx, &f.p, &pr), 0);
		assert_memory_equal(f.p.w, dq, N * sizeof(float));
		for (int k = 0; k < N; k++)
			f.p.g[k] = 1; /* the backward's gradient */
		assert_true(r->apply(r->ctx, &f.p, &pr) == 0);
		assert_memory_equal(f.p.w, w0, N * sizeof(float));
		int zeroed = 0, outside = 0;
		for (int k = 0; k < N; k++) {
			float lo, hi;
			pass_quant_unclipped(&q, k / (I * K * K), &lo, &hi);
			outside += w0[k] < lo || w0[k] > hi;
			zeroed += f.p.g[k] == 0;
			assert_true(f.p.g[k] == (clip && (w0[k] < lo || w0[k] > hi) ? 0.0f : 1.0f));
		}
		if (clip)
			assert_true(outside > 0 && zeroed == outside);
		else
			assert_int_equal(zeroed, 0);
		/* a later project lands the float kernel on its grid */
		assert_true(qgt_reg_project(r, f.g, &f.d) > 0);
		assert_memory_equal(f.p.w, dq, N * sizeof(float));
		pass_quant_free(&q);
		free(w0);
		free(dq);
		qgt_reg_destroy(r);
		teardown(&f);
	}
}

/* Learned scales (LSQ): STE steps on the reconstruction loss
 * 0.5 ||DQ(Q(w)) - w||^2 (its gradient at DQ(Q(w)) is DQ(Q(w)) - w), the
 * weights held, move each channel's scale from the 2-bit min-max grid
 * toward the error the MSE grid search reaches; without learn_scale the
 * grid stays where min-max put it. */
static double lsq_run(bool learn, double *first)
{
	fixture f;
	setup(&f, 13);
	qgt_reg_options o = opts(IR_QS_AFFINE, 2, false);
	o.method = QGT_METHOD_STE;
	o.refresh = 1;
	o.learn_scale = learn;
	qgt_reg *r = qgt_reg_create(f.g, &o, &f.d);
	assert_non_null(r);
	float *w0 = malloc(N * sizeof(float));
	memcpy(w0, f.p.w, N * sizeof(float));
	double e = 0;
	for (int step = 0; step < 300; step++) {
		qgt_progress pr = {.step = step, .total_steps = 100000, .lr = 0.02f};
		assert_int_equal(r->step_begin(r->ctx, &f.p, &pr), 0);
		e = 0;
		for (int k = 0; k < N; k++) {
			f.p.g[k] = f.p.w[k] - w0[k];
			e += (double)f.p.g[k] * f.p.g[k];
		}
		if (step == 0)
			*first = e;
		assert_true(r->apply(r->ctx, &f.p, &pr) == 0);
		assert_memory_equal(f.p.w, w0, N * sizeof(float)); /* the float kernel is back */
	}
	free(w0);
	qgt_reg_destroy(r);
	teardown(&f);
	return e;
}

static void test_qgt_lsq_learns_scales(void **state)
{
	(void)state;
	double e0, e0b;
	double learned = lsq_run(true, &e0), fixed = lsq_run(false, &e0b);
	/* the MSE grid search's error on the same kernel */
	fixture f;
	setup(&f, 13);
	pass_qspec sp;
	pass_qspec_default(&sp);
	sp.bits = 2;
	sp.calib = PASS_CALIB_MSE;
	ir_quant q = {0};
	float *dq = malloc(N * sizeof(float));
	double emse;
	assert_int_equal(pass_quantize(f.p.w, &f.w->shape, &sp, NULL, &q, dq, &emse, &f.d), 0);
	pass_quant_free(&q);
	free(dq);
	teardown(&f);
	assert_true(e0 == e0b && fixed == e0);
	assert_true(emse < 0.9 * e0);             /* min-max is a poor start */
	assert_true(learned < 0.9 * e0);
	assert_true(learned < 1.1 * emse);
}

static void test_qgt_histograms_json(void **state)
{
	(void)state;
	fixture f;
	setup(&f, 9);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	assert_int_equal(qgt_histograms_json(f.g, 16, m), 0);
	fclose(m);
	assert_non_null(strstr(buf, "\"layer\": \"w\""));
	assert_non_null(strstr(buf, "\"params\": 288"));
	/* the bins add up to the weight count */
	const char *b = strstr(buf, "\"bins\": [") + 9;
	long sum = 0;
	for (char *e; *b != ']'; b = e + (*e == ',')) {
		sum += strtol(b, &e, 10);
		if (e == b)
			break;
	}
	assert_int_equal(sum, N);
	free(buf);

	/* a name from the model is a JSON string, escaped like every other:
	 * quote, backslash, control characters, bytes that are not UTF-8 */
	f.w->name = "w\"1\\\n\xff\xc3\xa9";
	buf = NULL;
	m = open_memstream(&buf, &len);
	assert_int_equal(qgt_histograms_json(f.g, 16, m), 0);
	fclose(m);
	if (!strstr(buf, "\"layer\": \"w\\\"1\\\\\\u000a\\u00ff\xc3\xa9\""))
		fail_msg("%s", buf);
	free(buf);
	teardown(&f);
}

/* ------------------------------------------- batchnorm re-introduced */

enum { BB = 8, NS = 64 };

/* A constant line "  const %name: f32[shape] = [...]" of n normal(0, sd)
 * + mean numbers into t at *k. */
static void put_const(char *t, size_t cap, size_t *k, const char *name, const char *shape, int n,
                      double sd, double mean, uint64_t *s)
{
	*k += (size_t)snprintf(t + *k, cap - *k, "  const %%%s: f32[%s] = [", name, shape);
	for (int i = 0; i < n; i++) {
		double u1 = ((double)(qgt_rng_next(s) >> 11) + 0.5) / 9007199254740992.0;
		double u2 = ((double)(qgt_rng_next(s) >> 11) + 0.5) / 9007199254740992.0;
		double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2) * sd + mean;
		*k += (size_t)snprintf(t + *k, cap - *k, "%s%.6f", i ? ", " : "", z);
	}
	*k += (size_t)snprintf(t + *k, cap - *k, "]\n");
}

/* An exporter's folded CNN: conv (bias) -> relu -> gap -> flatten -> fc1
 * (bias) -> relu -> fc2 (the head); with `bn`, a live batchnorm after the
 * conv instead. */
static ir_graph *make_cnn(diag_sink *d, bool bn)
{
	size_t cap = 1 << 16, k = 0;
	char *t = malloc(cap);
	assert_non_null(t);
	uint64_t s = 77;
	k += (size_t)snprintf(t + k, cap - k, "graph cnn {\n  input %%x: f32[%d,2,5,5]\n", BB);
	put_const(t, cap, &k, "cw", "4,2,3,3", 72, 0.4, 0, &s);
	put_const(t, cap, &k, "cb", "4", 4, 0.2, 0.3, &s);
	if (bn) {
		put_const(t, cap, &k, "g", "4", 4, 0.2, 1, &s);
		put_const(t, cap, &k, "be", "4", 4, 0.2, 0, &s);
		put_const(t, cap, &k, "rm", "4", 4, 0.2, 0, &s);
		put_const(t, cap, &k, "rv", "4", 4, 0.1, 1, &s);
	}
	put_const(t, cap, &k, "w1", "6,4", 24, 0.5, 0, &s);
	put_const(t, cap, &k, "b1", "6", 6, 0.2, 0.1, &s);
	put_const(t, cap, &k, "w2", "3,6", 18, 0.5, 0, &s);
	put_const(t, cap, &k, "b2", "3", 3, 0.1, 0, &s);
	k += (size_t)snprintf(t + k, cap - k,
	                      "  %%c: f32[%d,4,5,5] = conv(%%x, %%cw, %%cb) {dilations=[1,1], group=1, "
	                      "pads=[1,1,1,1], strides=[1,1]}\n",
	                      BB);
	if (bn)
		k += (size_t)snprintf(t + k, cap - k,
		                      "  %%n: f32[%d,4,5,5] = batchnorm(%%c, %%g, %%be, %%rm, %%rv) {epsilon=1e-5}\n"
		                      "  %%r: f32[%d,4,5,5] = relu(%%n)\n",
		                      BB, BB);
	else
		k += (size_t)snprintf(t + k, cap - k, "  %%r: f32[%d,4,5,5] = relu(%%c)\n", BB);
	k += (size_t)snprintf(t + k, cap - k,
	                      "  %%p: f32[%d,4,1,1] = global_avg_pool(%%r)\n"
	                      "  %%f: f32[%d,4] = flatten(%%p) {axis=1}\n"
	                      "  %%h: f32[%d,6] = gemm(%%f, %%w1, %%b1) {trans_b=1}\n"
	                      "  %%hr: f32[%d,6] = relu(%%h)\n"
	                      "  %%y: f32[%d,3] = gemm(%%hr, %%w2, %%b2) {trans_b=1}\n"
	                      "  output %%y\n}\n",
	                      BB, BB, BB, BB, BB);
	ir_graph *g = ir_parse(t, k, "cnn.qir", d);
	free(t);
	assert_non_null(g);
	assert_int_equal(ir_infer_shapes(g, d), 0);
	return g;
}

/* NS random samples [2,5,5], labels 0..2. */
static void make_data(qgt_dataset *ds)
{
	memset(ds, 0, sizeof *ds);
	int64_t sd[3] = {2, 5, 5};
	ds->n = NS;
	ds->sample = ir_shape_make(3, sd);
	ds->sample_numel = 50;
	ds->x = malloc(sizeof(float) * NS * 50);
	ds->y = malloc(sizeof(int32_t) * NS);
	assert_true(ds->x && ds->y);
	uint64_t s = 5;
	for (int i = 0; i < NS * 50; i++)
		ds->x[i] = (float)((double)(qgt_rng_next(&s) >> 11) / 9007199254740992.0);
	for (int i = 0; i < NS; i++)
		ds->y[i] = (int32_t)qgt_rng_below(&s, 3);
	ds->nclasses = 3;
}

/* Logits of g on the first batch of ds (caller frees). */
static float *run_logits(ir_graph *g, const qgt_dataset *ds, diag_sink *d)
{
	int64_t xs[4] = {BB, 2, 5, 5};
	ir_tensor in = {.dt = IR_DT_F32, .shape = ir_shape_make(4, xs), .data = ds->x}, out;
	assert_int_equal(ir_interp_run(g, &in, &out, d), 0);
	float *y = malloc(sizeof(float) * BB * 3);
	memcpy(y, out.data, sizeof(float) * BB * 3);
	ir_tensor_free(&out);
	return y;
}

static void assert_close(const float *a, const float *b, int n, double tol)
{
	for (int i = 0; i < n; i++) {
		if (!(fabs(a[i] - b[i]) <= tol * (1 + fabs(a[i]))))
			fprintf(stderr, "element %d: %.9g vs %.9g\n", i, (double)a[i], (double)b[i]);
		assert_true(fabs(a[i] - b[i]) <= tol * (1 + fabs(a[i])));
	}
}

static int count_op(const ir_graph *g, ir_op op)
{
	int c = 0;
	for (int i = 0; i < g->nnodes; i++)
		c += !g->nodes[i]->dead && g->nodes[i]->op == op;
	return c;
}

/* "op(out) op(out) ...": the structure, by op and output name. */
static char *structure(const ir_graph *g)
{
	size_t cap = 4096, k = 0;
	char *t = malloc(cap);
	t[0] = 0;
	for (int i = 0; i < g->nnodes; i++)
		if (!g->nodes[i]->dead)
			k += (size_t)snprintf(t + k, cap - k, "%s(%s:%s,%s) ", ir_op_name(g->nodes[i]->op),
			                      g->nodes[i]->out[0]->name, g->nodes[i]->in[0]->name,
			                      g->nodes[i]->nin > 1 ? g->nodes[i]->in[1]->name : "");
	return t;
}

static void train_cfg(qgt_train_config *c)
{
	qgt_train_config_default(c);
	c->batch = BB;
	c->threads = 1;
	c->lr = 0.05f;
}

/* At the start the re-introduced batchnorms are the identity (inference
 * mode), calibrated (gamma = sqrt(var + eps) of the layer's output);
 * folding them back, whatever they learned, gives the same function and
 * the structure and names as loaded. */
static void test_qgt_bn_reintroduce_identity_and_refold(void **state)
{
	(void)state;
	diag_sink d;
	diag_sink_init(&d, stderr);
	qgt_dataset ds;
	make_data(&ds);
	ir_graph *g = make_cnn(&d, false);
	char *s0 = structure(g);
	int nv0 = g->nvalues;
	float *y0 = run_logits(g, &ds, &d);
	qgt_reg_options o = opts(IR_QS_AFFINE, 2, false);
	qgt_reg *r = qgt_reg_create(g, &o, &d);
	assert_non_null(r);
	qgt_train_config c;
	train_cfg(&c);
	qgt_bn_intro *bi = NULL;
	/* conv, fc1 and the head fc2 */
	assert_int_equal(qgt_bn_reintroduce(g, r, &ds, &c, 4, &bi, &d), 3);
	assert_non_null(bi);
	assert_int_equal(count_op(g, IR_OP_BATCHNORM), 3);
	assert_int_equal(ir_verify(g, true, &d), 0);
	float *y1 = run_logits(g, &ds, &d);
	assert_close(y0, y1, BB * 3, 1e-5);
	/* calibrated: the scales are the output's std, not 1 */
	int calibrated = 0;
	ir_node *bns[3] = {NULL, NULL, NULL};
	int nb = 0;
	for (int i = 0; i < g->nnodes; i++)
		if (g->nodes[i]->op == IR_OP_BATCHNORM && nb < 3)
			bns[nb++] = g->nodes[i];
	assert_int_equal(nb, 3);
	assert_true(bns[0]->out[0] == ir_graph_find_value(g, "c"));
	assert_true(bns[1]->out[0] == ir_graph_find_value(g, "h"));
	assert_true(bns[2]->out[0] == ir_graph_find_value(g, "y") && g->outputs[0] == bns[2]->out[0]);
	for (int i = 0; i < nb; i++) {
		const ir_value *gv = bns[i]->in[1];
		for (int64_t k = 0; k < gv->shape.d[0]; k++)
			calibrated += fabsf(((float *)gv->data)[k] - 1) > 1e-3f;
	}
	assert_true(calibrated > 0);
	/* what training might leave: any scale, shift and statistics */
	uint64_t rs = 3;
	for (int i = 0; i < nb; i++)
		for (int j = 1; j <= 4; j++) {
			float *p = bns[i]->in[j]->data;
			for (int64_t k = 0; k < bns[i]->in[j]->shape.d[0]; k++) {
				double u = (double)(qgt_rng_next(&rs) >> 11) / 9007199254740992.0;
				p[k] = j == 1 ? (float)(u * 2 - 0.5) : j == 4 ? (float)(0.5 + u) : p[k] + (float)(u - 0.5);
			}
		}
	float *y2 = run_logits(g, &ds, &d);
	assert_int_equal(qgt_bn_refold(g, bi, &d), 0);
	assert_int_equal(count_op(g, IR_OP_BATCHNORM), 0);
	assert_int_equal(ir_verify(g, true, &d), 0);
	char *s1 = structure(g);
	assert_string_equal(s0, s1);
	assert_int_equal(g->nvalues, nv0);
	float *y3 = run_logits(g, &ds, &d);
	assert_close(y2, y3, BB * 3, 1e-5);
	free(s0);
	free(s1);
	free(y0);
	free(y1);
	free(y2);
	free(y3);
	qgt_reg_destroy(r);
	ir_graph_destroy(g);
	qgt_dataset_free(&ds);
	diag_sink_fini(&d);
}

/* The whole flow on the folded model: re-introduced, trained, folded
 * back onto the grid; off with bn_reintro false and for per-tensor grids
 * (which folding would break).  With a live batchnorm and a per-tensor
 * grid: one warning naming the kernel. */
static void test_qgt_finetune_reintroduces_bn(void **state)
{
	(void)state;
	static const struct {
		bool reintro, per_tensor, live_bn;
		int inserted;
	} cases[] = {{true, false, false, 3}, {false, false, false, 0}, {true, true, false, 0},
	             {true, false, true, 2},  {true, true, true, 0}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		diag_sink d;
		diag_sink_init_capture(&d);
		qgt_dataset ds;
		make_data(&ds);
		ir_graph *g = make_cnn(&d, cases[i].live_bn);
		char *s0 = structure(g);
		qgt_reg_options o = opts(IR_QS_AFFINE, 2, cases[i].per_tensor);
		o.bn_reintro = cases[i].reintro;
		o.freeze_frac = 0.3f;
		qgt_reg *r = qgt_reg_create(g, &o, &d);
		assert_non_null(r);
		qgt_train_config c;
		train_cfg(&c);
		c.max_steps = 6;
		char *log = NULL;
		size_t len = 0;
		c.log = open_memstream(&log, &len);
		qgt_finetune_stats st;
		int rc = qgt_finetune(g, &ds, &c, r, NULL, 2, &st, &d);
		fclose(c.log);
		if (rc)
			fprintf(stderr, "%s", d.buf ? d.buf : "");
		assert_int_equal(rc, 0);
		bool said = strstr(log, "batchnorm re-introduced after") != NULL;
		if (said != (cases[i].inserted > 0))
			fprintf(stderr, "case %zu: log '%s'\n", i, log);
		assert_true(said == (cases[i].inserted > 0));
		if (said)
			assert_non_null(strstr(log, cases[i].inserted == 3 ? "after 3 kernels" : "after 2 kernels"));
		/* per-tensor: the bare kernels train, and the log says why */
		assert_true((strstr(log, "not re-introduced after") != NULL) == (cases[i].per_tensor && cases[i].reintro));
		char *s1 = structure(g);
		assert_string_equal(s0, s1);
		assert_int_equal(count_op(g, IR_OP_BATCHNORM), cases[i].live_bn);
		assert_int_equal(ir_verify(g, true, &d), 0);
		/* on the grid the quantize pass computes from the folded kernels */
		assert_true(qgt_reg_project(r, g, &d) < 1e-12);
		bool warned = d.buf && strstr(d.buf, "per-tensor grids do not survive") && strstr(d.buf, "'cw'");
		assert_true(warned == (cases[i].per_tensor && cases[i].live_bn));
		free(log);
		free(s0);
		free(s1);
		qgt_reg_destroy(r);
		ir_graph_destroy(g);
		qgt_dataset_free(&ds);
		diag_sink_fini(&d);
	}
}

/* ------------------------------------------- activations in the loop */

/* conv (bias) [-> batchnorm] -> relu r -> max_pool 2x2 p -> conv (bias)
 * -> relu r2 -> gap -> flatten f -> gemm y (the head). */
static ir_graph *make_pool_net(diag_sink *d, bool bn)
{
	size_t cap = 1 << 16, k = 0;
	char *t = malloc(cap);
	assert_non_null(t);
	uint64_t s = 91;
	k += (size_t)snprintf(t + k, cap - k, "graph net {\n  input %%x: f32[%d,2,5,5]\n", BB);
	put_const(t, cap, &k, "cw", "4,2,3,3", 72, 0.4, 0, &s);
	put_const(t, cap, &k, "cb", "4", 4, 0.2, 0.1, &s);
	if (bn) {
		put_const(t, cap, &k, "g", "4", 4, 0.2, 1, &s);
		put_const(t, cap, &k, "be", "4", 4, 0.2, 0, &s);
		put_const(t, cap, &k, "rm", "4", 4, 0.2, 0, &s);
		put_const(t, cap, &k, "rv", "4", 4, 0.1, 1, &s);
	}
	put_const(t, cap, &k, "c2w", "5,4,3,3", 180, 0.3, 0, &s);
	put_const(t, cap, &k, "c2b", "5", 5, 0.2, 0.1, &s);
	put_const(t, cap, &k, "w3", "3,5", 15, 0.5, 0, &s);
	put_const(t, cap, &k, "b3", "3", 3, 0.1, 0, &s);
	k += (size_t)snprintf(t + k, cap - k,
	                      "  %%c: f32[%d,4,5,5] = conv(%%x, %%cw, %%cb) {dilations=[1,1], group=1, "
	                      "pads=[1,1,1,1], strides=[1,1]}\n",
	                      BB);
	if (bn)
		k += (size_t)snprintf(t + k, cap - k,
		                      "  %%n: f32[%d,4,5,5] = batchnorm(%%c, %%g, %%be, %%rm, %%rv) {epsilon=1e-5}\n"
		                      "  %%r: f32[%d,4,5,5] = relu(%%n)\n",
		                      BB, BB);
	else
		k += (size_t)snprintf(t + k, cap - k, "  %%r: f32[%d,4,5,5] = relu(%%c)\n", BB);
	k += (size_t)snprintf(t + k, cap - k,
	                      "  %%p: f32[%d,4,2,2] = max_pool(%%r) {kernel=[2,2], strides=[2,2]}\n"
	                      "  %%c2: f32[%d,5,2,2] = conv(%%p, %%c2w, %%c2b) {dilations=[1,1], group=1, "
	                      "pads=[1,1,1,1], strides=[1,1]}\n"
	                      "  %%r2: f32[%d,5,2,2] = relu(%%c2)\n"
	                      "  %%a: f32[%d,5,1,1] = global_avg_pool(%%r2)\n"
	                      "  %%f: f32[%d,5] = flatten(%%a) {axis=1}\n"
	                      "  %%y: f32[%d,3] = gemm(%%f, %%w3, %%b3) {trans_b=1}\n"
	                      "  output %%y\n}\n",
	                      BB, BB, BB, BB, BB, BB);
	ir_graph *g = ir_parse(t, k, "net.qir", d);
	free(t);
	assert_non_null(g);
	assert_int_equal(ir_infer_shapes(g, d), 0);
	return g;
}

static pass_quant_options act_quant(const qgt_dataset *ds, int act_bits, pass_calib obs)
{
	pass_quant_options qo = opts(IR_QS_AFFINE, 4, false).quant;
	qo.act_bits = act_bits;
	qo.act_calib = obs;
	qo.calib_x = ds->x;
	qo.calib_n = ds->n;
	qo.calib_numel = ds->sample_numel;
	return qo;
}

/* The fake_quant reading the value named `name`, or NULL. */
static ir_node *fq_of(const ir_graph *g, const char *name)
{
	for (int i = 0; i < g->nnodes; i++)
		if (!g->nodes[i]->dead && g->nodes[i]->op == IR_OP_FAKE_QUANT &&
		    strcmp(g->nodes[i]->in[0]->name, name) == 0)
			return g->nodes[i];
	return NULL;
}

static const char *const pool_sites[6] = {"x", "r", "p", "r2", "f", "y"};

/* make_pool_net without batchnorm, kernels projected onto their 4-bit
 * grids (so that the quantize pass leaves them). */
static ir_graph *pool_net_on_grid(diag_sink *d)
{
	ir_graph *g = make_pool_net(d, false);
	qgt_reg_options ro = opts(IR_QS_AFFINE, 4, false);
	qgt_reg *r = qgt_reg_create(g, &ro, d);
	assert_non_null(r);
	assert_true(qgt_reg_project(r, g, d) >= 0);
	qgt_reg_destroy(r);
	return g;
}

/* Deploy pool_net_on_grid with quantize (no bias correction) and
 * quantize-act under qo; the scale and zero point of each of pool_sites. */
static void deployed_grids(const pass_quant_options *qo, float sc[6], int32_t zp[6], diag_sink *d)
{
	ir_graph *dep = pool_net_on_grid(d);
	pass_quant_options qw = *qo;
	qw.calib_x = NULL;
	pass_options po = {0};
	po.quant = &qw;
	assert_int_equal(pass_run_pipeline(dep, "shapes,quantize", &po, d), 0);
	po.quant = qo;
	if (pass_run_pipeline(dep, "quantize-act", &po, d))
		fail_msg("%s", d->buf ? d->buf : "");
	int found = 0;
	for (int i = 0; i < dep->nnodes; i++) {
		ir_node *q = dep->nodes[i];
		if (q->op != IR_OP_QUANTIZE || q->in[0]->dt != IR_DT_F32)
			continue;
		for (int k = 0; k < 6; k++) {
			char nm[32];
			snprintf(nm, sizeof nm, "%s.f32", pool_sites[k]);
			if (strcmp(q->in[0]->name, pool_sites[k]) && strcmp(q->in[0]->name, nm))
				continue;
			sc[k] = *(const float *)q->in[1]->data;
			zp[k] = (int32_t)ir_const_get(q->in[2], 0);
			found |= 1 << k;
		}
	}
	assert_int_equal(found, 63);
	ir_graph_destroy(dep);
}

/* The grids the fine-tune starts on are the grids quantize-act deploys
 * for the same model (kernels on their grids, so that quantize leaves
 * them): the same sites, the same scale and zero point bit for bit, for
 * i8 and i16 and each observer; the relu before the max pool shares the
 * pool's quantizer, as it shares its grid when deployed.  The grids as
 * trained go back to quantize-act, which deploys them, without
 * calibration data. */
static void test_qgt_actq_grids_match_quantize_act(void **state)
{
	(void)state;
	static const struct {
		int bits;
		pass_calib obs;
	} cases[] = {{8, PASS_CALIB_MINMAX}, {8, PASS_CALIB_PERCENTILE}, {8, PASS_CALIB_MSE},
	             {16, PASS_CALIB_MINMAX}};
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		diag_sink d;
		diag_sink_init_capture(&d);
		qgt_dataset ds;
		make_data(&ds);
		pass_quant_options qo = act_quant(&ds, cases[c].bits, cases[c].obs);
		qo.act_percentile = 99.0f;
		ir_graph *g = pool_net_on_grid(&d);
		qgt_act_options act = {&qo, 0};
		qgt_actq *aq = NULL;
		int nsites = 0;
		int n = qgt_actq_insert(g, &act, &aq, &nsites, &d);
		if (n < 0)
			fail_msg("%s", d.buf ? d.buf : "");
		assert_int_equal(n, 5);
		assert_int_equal(nsites, 6);
		assert_int_equal(ir_verify(g, true, &d), 0);
		float dsc[6];
		int32_t dzp[6];
		deployed_grids(&qo, dsc, dzp, &d);
		/* r and p: one grid */
		assert_true(dsc[1] == dsc[2] && dzp[1] == dzp[2]);
		assert_null(fq_of(g, "r"));
		for (int k = 0; k < 6; k++) {
			ir_node *fq = fq_of(g, pool_sites[k == 1 ? 2 : k]);
			assert_non_null(fq);
			float sc = *(const float *)fq->in[1]->data;
			int32_t zp = (int32_t)ir_const_get(fq->in[2], 0);
			assert_int_equal(fq->in[2]->dt, cases[c].bits == 16 ? IR_DT_I16 : IR_DT_I8);
			if (memcmp(&sc, &dsc[k], sizeof sc) || zp != dzp[k])
				fail_msg("case %zu, '%s': trained on scale %.9g zero point %d, deployed %.9g %d",
				         c, pool_sites[k], (double)sc, zp, (double)dsc[k], dzp[k]);
			if (cases[c].bits == 16)
				assert_int_equal(zp, 0);
		}
		/* as training might have moved them (act_ema): the pool's and the
		 * head's */
		*(float *)fq_of(g, "p")->in[1]->data *= 1.5f;
		*(float *)fq_of(g, "y")->in[1]->data *= 0.75f;
		float want[6];
		for (int k = 0; k < 6; k++)
			want[k] = k == 1 || k == 2 ? dsc[k] * 1.5f : k == 5 ? dsc[k] * 0.75f : dsc[k];
		pass_act_grid *gr = NULL;
		assert_int_equal(qgt_actq_grids(aq, &gr), 6);
		for (int k = 0; k < 6; k++) {
			int i = 0;
			while (i < 6 && strcmp(gr[i].name, pool_sites[k]))
				i++;
			assert_true(i < 6);
			assert_true(gr[i].scale == want[k] && gr[i].zero_point == dzp[k]);
		}
		pass_quant_options qg = qo;
		qg.calib_x = NULL;
		qg.act_grids = gr;
		qg.n_act_grids = 6;
		deployed_grids(&qg, dsc, dzp, &d);
		for (int k = 0; k < 6; k++)
			assert_true(dsc[k] == want[k]);
		free(gr);
		qgt_actq_remove(g, aq);
		ir_graph_destroy(g);
		qgt_dataset_free(&ds);
		diag_sink_fini(&d);
	}
}

/* With a live batchnorm: the quantizer after conv-batchnorm-relu sits
 * below the relu (where the folded conv-relu's will), the relu keeps the
 * max pool as its only reader (the trainer fuses the three), and the
 * fine-tune says so, trains through them and leaves the model as it
 * came. */
static void test_qgt_actq_finetune(void **state)
{
	(void)state;
	for (int bits = 8; bits <= 16; bits += 8) {
		diag_sink d;
		diag_sink_init_capture(&d);
		qgt_dataset ds;
		make_data(&ds);
		ir_graph *g = make_pool_net(&d, true);
		char *s0 = structure(g);
		int nv0 = g->nvalues;
		pass_quant_options qo = act_quant(&ds, bits, PASS_CALIB_MINMAX);
		qgt_act_options act = {&qo, 0};
		qgt_actq *aq = NULL;
		assert_int_equal(qgt_actq_insert(g, &act, &aq, NULL, &d), 5);
		assert_null(fq_of(g, "n"));
		assert_null(fq_of(g, "r"));
		ir_value *r = ir_graph_find_value(g, "r");
		assert_int_equal(ir_value_use_count(g, r), 1);
		assert_non_null(fq_of(g, "p"));
		/* the head's output: the loss reads the quantized logits */
		assert_true(g->outputs[0] == fq_of(g, "y")->out[0]);
		qgt_actq_remove(g, aq);
		char *s1 = structure(g);
		assert_string_equal(s0, s1);
		assert_int_equal(g->nvalues, nv0);
		free(s1);

		qgt_reg_options o = opts(IR_QS_AFFINE, 2, false);
		qgt_reg *rg = qgt_reg_create(g, &o, &d);
		assert_non_null(rg);
		qgt_train_config c;
		train_cfg(&c);
		c.max_steps = 6;
		char *log = NULL;
		size_t len = 0;
		c.log = open_memstream(&log, &len);
		qgt_finetune_stats st;
		int rc = qgt_finetune(g, &ds, &c, rg, &act, 2, &st, &d);
		fclose(c.log);
		if (rc)
			fail_msg("%s", d.buf ? d.buf : "");
		char want[96];
		snprintf(want, sizeof want, "activations int%d in the loop: 5 fake quantizers for the 6 values",
		         bits);
		if (!strstr(log, want))
			fail_msg("log '%s' does not say '%s'", log, want);
		assert_int_equal(st.n_act_grids, 6);
		assert_non_null(st.act_grids);
		free(st.act_grids);
		assert_int_equal(count_op(g, IR_OP_FAKE_QUANT), 0);
		s1 = structure(g);
		assert_string_equal(s0, s1);
		assert_int_equal(ir_verify(g, true, &d), 0);
		free(log);
		free(s0);
		free(s1);
		qgt_reg_destroy(rg);
		ir_graph_destroy(g);
		qgt_dataset_free(&ds);
		diag_sink_fini(&d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qgt_gradient_matches_finite_differences),
		cmocka_unit_test(test_qgt_lambda_schedules_ramp),
		cmocka_unit_test(test_qgt_clusters_weights_uniform),
		cmocka_unit_test(test_qgt_clusters_weights_sq),
		cmocka_unit_test(test_qgt_clusters_weights_codebook),
		cmocka_unit_test(test_qgt_freeze_holds_grid),
		cmocka_unit_test(test_qgt_ste_swaps_and_passes_gradients),
		cmocka_unit_test(test_qgt_lsq_learns_scales),
		cmocka_unit_test(test_qgt_histograms_json),
		cmocka_unit_test(test_qgt_bn_reintroduce_identity_and_refold),
		cmocka_unit_test(test_qgt_finetune_reintroduces_bn),
		cmocka_unit_test(test_qgt_actq_grids_match_quantize_act),
		cmocka_unit_test(test_qgt_actq_finetune),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
