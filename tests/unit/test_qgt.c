/* test_qgt.c: the QGT regularizer family (qgt/qgt.h): the gradient
 * against finite differences, the lambda schedules, and each regularizer
 * shown to cluster weights: with only the regularizer acting on a random
 * kernel, the quantization error falls and the weights gather on the
 * grid's levels. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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
	teardown(&f);
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
		cmocka_unit_test(test_qgt_histograms_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
