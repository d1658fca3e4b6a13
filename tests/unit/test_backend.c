/* test_backend.c: the native backend against the reference interpreter
 * (ggml's test-backend-ops idea): small graphs per op, run by ir_interp_run
 * and by be_jit_run, outputs compared at 1e-5 relative to the tensor's
 * scale; every graph is also compiled for aarch64 and armv7em.  Plus the
 * memory plan's invariants, unsupported-op diagnostics, the header and
 * byte-identical objects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend.h"
#include "memplan.h"

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

static uint32_t rng = 12345;
static float frand(void)
{
	rng = rng * 1664525u + 1013904223u;
	return (float)((rng >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static ir_value *input(ir_graph *g, const char *name, ir_shape s)
{
	ir_value *v = ir_graph_add_value(g, name, IR_DT_F32, &s);
	ir_graph_add_input(g, v);
	return v;
}

/* A constant of random values in [-1, 1). */
static ir_value *wts(ir_graph *g, const char *name, ir_shape s)
{
	int64_t n = ir_shape_numel(&s);
	float *d = malloc(sizeof *d * (size_t)(n ? n : 1));
	for (int64_t i = 0; i < n; i++)
		d[i] = frand();
	ir_value *v = ir_graph_add_const(g, name, IR_DT_F32, &s, d);
	free(d);
	return v;
}

static ir_value *cf(ir_graph *g, const char *name, ir_shape s, const float *data)
{
	return ir_graph_add_const(g, name, IR_DT_F32, &s, data);
}

static ir_value *ci(ir_graph *g, const char *name, int n, const int64_t *data)
{
	ir_shape s = shp(1, n);
	return ir_graph_add_const(g, name, IR_DT_I64, &s, data);
}

static ir_value *val(ir_graph *g, const char *name)
{
	return ir_graph_add_value(g, name, IR_DT_UNDEF, NULL);
}

static ir_node *op(ir_graph *g, ir_op o, ir_value *out, int nin, ...)
{
	ir_value *ins[8];
	va_list ap;
	va_start(ap, nin);
	for (int i = 0; i < nin; i++)
		ins[i] = va_arg(ap, ir_value *);
	va_end(ap);
	return ir_graph_add_node(g, o, ir_graph_unique_name(g, "n"), nin, ins, 1, &out);
}

/* Single-node graph: y = o(ins...), y the only output. */
static ir_node *single(ir_graph *g, ir_op o, int nin, ir_value **ins)
{
	ir_value *y = val(g, "y");
	ir_graph_add_output(g, y);
	return ir_graph_add_node(g, o, "n", nin, ins, 1, &y);
}

static void compile_for(ir_graph *g, const char *target)
{
	diag_sink d;
	diag_sink_init_capture(&d);
	be_target t;
	assert_int_equal(be_target_resolve(target, NULL, NULL, NULL, &t, &d), 0);
	char path[64];
	snprintf(path, sizeof path, "/tmp/qgtc_test_backend_%d.o", (int)getpid());
	be_options o = {.emit = BE_EMIT_OBJ, .out_path = path, .name = "net", .model_desc = NULL};
	int rc = be_compile(g, &t, &o, &d);
	if (rc)
		fail_msg("compile for %s: %s", target, d.buf ? d.buf : "");
	unlink(path);
	diag_sink_fini(&d);
}

/* Infer, run both engines on random inputs, compare, cross-compile. */
static void check(ir_graph *g)
{
	diag_sink d;
	diag_sink_init_capture(&d);
	if (ir_graph_toposort(g, &d) || ir_infer_shapes(g, &d) || ir_verify(g, true, &d))
		fail_msg("graph: %s", d.buf ? d.buf : "");
	ir_tensor in[4], ref[4], got[4];
	for (int k = 0; k < g->ninputs; k++) {
		ir_value *v = g->inputs[k];
		int64_t n = ir_shape_numel(&v->shape);
		in[k] = (ir_tensor){IR_DT_F32, v->shape, malloc(sizeof(float) * (size_t)(n ? n : 1))};
		for (int64_t i = 0; i < n; i++)
			((float *)in[k].data)[i] = 3.0f * frand();
	}
	if (ir_interp_run(g, in, ref, &d))
		fail_msg("interp: %s", d.buf ? d.buf : "");
	if (be_jit_run(g, BE_CODE_AUTO, in, got, &d))
		fail_msg("jit: %s", d.buf ? d.buf : "");
	for (int k = 0; k < g->noutputs; k++) {
		int64_t n = ir_shape_numel(&ref[k].shape);
		const float *a = got[k].data, *b = ref[k].data;
		double scale = 1e-30;
		for (int64_t i = 0; i < n; i++)
			if (fabs(b[i]) > scale)
				scale = fabs(b[i]);
		for (int64_t i = 0; i < n; i++) {
			bool same_nan = isnan(a[i]) && isnan(b[i]);
			if (!same_nan && !(fabs(a[i] - b[i]) <= 1e-5 * (fabs(b[i]) + scale)))
				fail_msg("output %d element %lld: native %.9g, interp %.9g", k, (long long)i,
				         a[i], b[i]);
		}
		ir_tensor_free(&ref[k]);
		ir_tensor_free(&got[k]);
	}
	for (int k = 0; k < g->ninputs; k++)
		free(in[k].data);
	diag_sink_fini(&d);
	compile_for(g, "aarch64");
	compile_for(g, "armv7em");
	ir_graph_destroy(g);
}

/* ---------------------------------------------------------------- conv */

static ir_graph *conv_graph(ir_shape xs, ir_shape ws, bool bias, int group, const int64_t *strides,
                            const int64_t *pads, const int64_t *dil, const char *auto_pad)
{
	ir_graph *g = ir_graph_create("conv");
	ir_value *ins[3] = {input(g, "x", xs), wts(g, "w", ws), NULL};
	if (bias)
		ins[2] = wts(g, "b", shp(1, (int)ws.d[0]));
	ir_node *n = single(g, IR_OP_CONV, bias ? 3 : 2, ins);
	int nsp = xs.rank - 2;
	ir_node_set_int(g, n, "group", group);
	if (strides)
		ir_node_set_ints(g, n, "strides", strides, nsp);
	if (pads)
		ir_node_set_ints(g, n, "pads", pads, 2 * nsp);
	if (dil)
		ir_node_set_ints(g, n, "dilations", dil, nsp);
	if (auto_pad)
		ir_node_set_str(g, n, "auto_pad", auto_pad);
	return g;
}

/* be_jit_open compiles once; be_jit_call then runs any number of inputs,
 * each giving exactly what a be_jit_run of its own gives. */
static void test_backend_jit_handle(void **state)
{
	(void)state;
	static const int64_t p1[] = {1, 1, 1, 1};
	ir_graph *g = conv_graph(shp(4, 2, 3, 8, 8), shp(4, 4, 3, 3, 3), true, 1, NULL, p1, NULL, NULL);
	diag_sink d;
	diag_sink_init_capture(&d);
	if (ir_graph_toposort(g, &d) || ir_infer_shapes(g, &d) || ir_verify(g, true, &d))
		fail_msg("graph: %s", d.buf ? d.buf : "");
	int64_t n = ir_shape_numel(&g->inputs[0]->shape), m = ir_shape_numel(&g->outputs[0]->shape);
	ir_tensor in[2];
	for (int k = 0; k < 2; k++) {
		in[k] = (ir_tensor){IR_DT_F32, g->inputs[0]->shape, malloc(sizeof(float) * (size_t)n)};
		for (int64_t i = 0; i < n; i++)
			((float *)in[k].data)[i] = 3.0f * frand();
	}
	be_jit *j = be_jit_open(g, BE_CODE_AUTO, &d);
	if (!j)
		fail_msg("open: %s", d.buf ? d.buf : "");
	for (int r = 0; r < 3; r++) { /* inputs 0, 1, 0 */
		ir_tensor got, want;
		if (be_jit_call(j, &in[r & 1], &got, &d) || be_jit_run(g, BE_CODE_AUTO, &in[r & 1], &want, &d))
			fail_msg("call %d: %s", r, d.buf ? d.buf : "");
		assert_memory_equal(got.data, want.data, sizeof(float) * (size_t)m);
		ir_tensor_free(&got);
		ir_tensor_free(&want);
	}
	/* an input of another shape is an error naming it, not a crash */
	ir_tensor bad = {IR_DT_F32, shp(4, 1, 3, 8, 7), in[0].data};
	ir_tensor out;
	assert_int_equal(be_jit_call(j, &bad, &out, &d), -1);
	assert_non_null(strstr(d.buf, "graph expects"));
	be_jit_close(j);
	be_jit_close(NULL);
	for (int k = 0; k < 2; k++)
		free(in[k].data);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_backend_conv(void **state)
{
	(void)state;
	int64_t p1[4] = {1, 1, 1, 1}, s2[2] = {2, 2}, pa[4] = {0, 1, 2, 1}, d2[2] = {2, 2};
	check(conv_graph(shp(4, 1, 3, 8, 8), shp(4, 4, 3, 3, 3), true, 1, NULL, p1, NULL, NULL));
	check(conv_graph(shp(4, 2, 4, 9, 7), shp(4, 6, 2, 3, 2), false, 2, s2, pa, d2, NULL));
	check(conv_graph(shp(4, 1, 5, 6, 6), shp(4, 5, 1, 3, 3), true, 5, s2, p1, NULL, NULL));
	check(conv_graph(shp(4, 1, 3, 7, 5), shp(4, 2, 3, 3, 3), true, 1, s2, NULL, NULL, "SAME_UPPER"));
	int64_t s1[1] = {2}, pp1[2] = {2, 1};
	check(conv_graph(shp(3, 2, 3, 11), shp(3, 4, 3, 4), true, 1, s1, pp1, NULL, NULL));
	int64_t p3[6] = {1, 0, 1, 1, 0, 1};
	check(conv_graph(shp(5, 1, 2, 4, 5, 3), shp(5, 3, 2, 2, 3, 2), true, 1, NULL, p3, NULL, NULL));
}

/* --------------------------------------------------------- elementwise */

static void unary(ir_op o, const char *attr, float a, const char *attr2, float b)
{
	ir_graph *g = ir_graph_create("u");
	ir_value *x = input(g, "x", shp(3, 2, 3, 5));
	ir_node *n = single(g, o, 1, &x);
	if (attr)
		ir_node_set_float(g, n, attr, a);
	if (attr2)
		ir_node_set_float(g, n, attr2, b);
	check(g);
}

static void test_backend_activations(void **state)
{
	(void)state;
	unary(IR_OP_RELU, NULL, 0, NULL, 0);
	unary(IR_OP_LEAKY_RELU, "alpha", 0.1f, NULL, 0);
	unary(IR_OP_SIGMOID, NULL, 0, NULL, 0);
	unary(IR_OP_TANH, NULL, 0, NULL, 0);
	unary(IR_OP_HARD_SIGMOID, "alpha", 0.3f, "beta", 0.4f);
	unary(IR_OP_HARD_SWISH, NULL, 0, NULL, 0);
	ir_graph *g = ir_graph_create("clip");
	float lo = -0.5f, hi = 1.25f;
	ir_value *ins[3] = {input(g, "x", shp(2, 4, 6)), cf(g, "lo", shp(0), &lo), cf(g, "hi", shp(0), &hi)};
	single(g, IR_OP_CLIP, 3, ins);
	check(g);
	g = ir_graph_create("clip1");
	ir_value *ins1[2] = {input(g, "x", shp(2, 4, 6)), cf(g, "lo", shp(0), &lo)};
	single(g, IR_OP_CLIP, 2, ins1);
	check(g);
}

static void test_backend_batchnorm_prelu(void **state)
{
	(void)state;
	ir_graph *g = ir_graph_create("bn");
	float var[3] = {0.5f, 1.5f, 2.0f};
	ir_value *ins[5] = {input(g, "x", shp(4, 2, 3, 4, 5)), wts(g, "s", shp(1, 3)),
	                    wts(g, "b", shp(1, 3)), wts(g, "m", shp(1, 3)), cf(g, "v", shp(1, 3), var)};
	ir_node *n = single(g, IR_OP_BATCHNORM, 5, ins);
	ir_node_set_float(g, n, "epsilon", 1e-3f);
	check(g);
	g = ir_graph_create("prelu");
	ir_value *p[2] = {input(g, "x", shp(4, 1, 3, 4, 4)), wts(g, "s", shp(3, 3, 1, 1))};
	single(g, IR_OP_PRELU, 2, p);
	check(g);
	g = ir_graph_create("prelu6");
	ir_value *q[2] = {input(g, "x", shp(4, 1, 3, 4, 4)), wts(g, "s", shp(1, 3))};
	single(g, IR_OP_PRELU, 2, q);
	check(g);
}

static void binary(ir_op o, ir_shape a, ir_shape b, bool b_const)
{
	ir_graph *g = ir_graph_create("bin");
	ir_value *ins[2] = {input(g, "a", a), b_const ? wts(g, "b", b) : input(g, "b", b)};
	single(g, o, 2, ins);
	check(g);
}

static void test_backend_binary(void **state)
{
	(void)state;
	binary(IR_OP_ADD, shp(3, 2, 3, 4), shp(3, 2, 3, 4), false);
	binary(IR_OP_SUB, shp(3, 2, 3, 4), shp(1, 4), true);
	binary(IR_OP_MUL, shp(4, 2, 3, 4, 5), shp(3, 3, 1, 1), true);
	binary(IR_OP_DIV, shp(3, 2, 1, 4), shp(2, 3, 1), false);
	binary(IR_OP_ADD, shp(0), shp(2, 2, 3), false);
}

/* ---------------------------------------------------------------- pool */

static void pool(ir_op o, ir_shape xs, const int64_t *k, const int64_t *s, const int64_t *p,
                 int ceil_mode, int cip)
{
	ir_graph *g = ir_graph_create("pool");
	ir_value *x = input(g, "x", xs);
	ir_node *n = single(g, o, 1, &x);
	int nsp = xs.rank - 2;
	if (k)
		ir_node_set_ints(g, n, "kernel", k, nsp);
	if (s)
		ir_node_set_ints(g, n, "strides", s, nsp);
	if (p)
		ir_node_set_ints(g, n, "pads", p, 2 * nsp);
	if (ceil_mode)
		ir_node_set_int(g, n, "ceil_mode", 1);
	if (cip)
		ir_node_set_int(g, n, "count_include_pad", 1);
	check(g);
}

static void test_backend_pool(void **state)
{
	(void)state;
	int64_t k2[2] = {2, 2}, k3[2] = {3, 3}, s2[2] = {2, 2}, p1[4] = {1, 1, 1, 1};
	pool(IR_OP_MAX_POOL, shp(4, 1, 3, 8, 8), k2, s2, NULL, 0, 0);
	pool(IR_OP_MAX_POOL, shp(4, 2, 2, 7, 9), k3, s2, p1, 1, 0);
	pool(IR_OP_AVG_POOL, shp(4, 1, 3, 7, 7), k3, s2, p1, 0, 0);
	pool(IR_OP_AVG_POOL, shp(4, 1, 3, 7, 8), k3, s2, p1, 1, 1);
	pool(IR_OP_GLOBAL_AVG_POOL, shp(4, 2, 3, 5, 5), NULL, NULL, NULL, 0, 0);
	pool(IR_OP_GLOBAL_MAX_POOL, shp(3, 2, 3, 7), NULL, NULL, NULL, 0, 0);
}

/* -------------------------------------------------------------- linalg */

static void test_backend_linalg(void **state)
{
	(void)state;
	ir_graph *g = ir_graph_create("gemm");
	ir_value *ins[3] = {input(g, "a", shp(2, 3, 20)), wts(g, "b", shp(2, 7, 20)), wts(g, "c", shp(1, 7))};
	ir_node *n = single(g, IR_OP_GEMM, 3, ins);
	ir_node_set_int(g, n, "trans_b", 1);
	ir_node_set_float(g, n, "alpha", 0.5f);
	ir_node_set_float(g, n, "beta", 2.0f);
	check(g);
	g = ir_graph_create("gemm_ta");
	ir_value *t[3] = {input(g, "a", shp(2, 5, 3)), wts(g, "b", shp(2, 5, 4)), wts(g, "c", shp(2, 3, 1))};
	n = single(g, IR_OP_GEMM, 3, t);
	ir_node_set_int(g, n, "trans_a", 1);
	check(g);
	binary(IR_OP_MATMUL, shp(3, 2, 3, 4), shp(2, 4, 5), true);
	binary(IR_OP_MATMUL, shp(4, 2, 1, 3, 4), shp(3, 3, 4, 2), false);
	binary(IR_OP_MATMUL, shp(1, 4), shp(3, 2, 4, 3), false);
	binary(IR_OP_MATMUL, shp(2, 3, 4), shp(1, 4), true);
}

/* ---------------------------------------------------- shape and reduce */

static void test_backend_softmax_reduce(void **state)
{
	(void)state;
	int64_t axes[] = {1, -1};
	for (int i = 0; i < 2; i++) {
		for (int lf = 0; lf < 2; lf++) {
			ir_graph *g = ir_graph_create("sm");
			ir_value *x = input(g, "x", shp(3, 2, 5, 3));
			ir_node *n = single(g, lf ? IR_OP_LOG_SOFTMAX : IR_OP_SOFTMAX, 1, &x);
			ir_node_set_int(g, n, "axis", axes[i]);
			check(g);
		}
	}
	int64_t ax[2] = {1, 3};
	for (int keep = 0; keep < 2; keep++) {
		ir_graph *g = ir_graph_create("rm");
		ir_value *ins[2] = {input(g, "x", shp(4, 2, 3, 4, 5)), ci(g, "axes", 2, ax)};
		ir_node *n = single(g, IR_OP_REDUCE_MEAN, 2, ins);
		ir_node_set_int(g, n, "keepdims", keep);
		check(g);
	}
}

static void test_backend_shape_ops(void **state)
{
	(void)state;
	ir_graph *g = ir_graph_create("concat");
	ir_value *c[3] = {input(g, "a", shp(3, 2, 3, 4)), wts(g, "b", shp(3, 2, 1, 4)),
	                  input(g, "c", shp(3, 2, 2, 4))};
	ir_node_set_int(g, single(g, IR_OP_CONCAT, 3, c), "axis", 1);
	check(g);

	g = ir_graph_create("transpose");
	ir_value *x = input(g, "x", shp(4, 2, 3, 4, 5));
	int64_t perm[4] = {0, 2, 3, 1};
	ir_node_set_ints(g, single(g, IR_OP_TRANSPOSE, 1, &x), "perm", perm, 4);
	check(g);

	g = ir_graph_create("slice");
	int64_t st[2] = {1, -1}, en[2] = {4, -100}, ax[2] = {1, 2}, sp[2] = {2, -2};
	ir_value *s[5] = {input(g, "x", shp(3, 2, 5, 6)), ci(g, "st", 2, st), ci(g, "en", 2, en),
	                  ci(g, "ax", 2, ax), ci(g, "sp", 2, sp)};
	single(g, IR_OP_SLICE, 5, s);
	check(g);

	g = ir_graph_create("pad");
	int64_t pads[6] = {0, 1, -1, 0, 2, 1};
	float pv = 0.5f;
	ir_value *p[3] = {input(g, "x", shp(3, 2, 3, 4)), ci(g, "pads", 6, pads), cf(g, "v", shp(0), &pv)};
	single(g, IR_OP_PAD, 3, p);
	check(g);

	g = ir_graph_create("gather");
	int64_t idx[3] = {2, -1, 0};
	ir_value *ga[2] = {input(g, "x", shp(3, 2, 4, 3)), ci(g, "i", 3, idx)};
	ir_node_set_int(g, single(g, IR_OP_GATHER, 2, ga), "axis", 1);
	check(g);

	g = ir_graph_create("split");
	int64_t sz[2] = {1, 3};
	ir_value *sv[2] = {input(g, "x", shp(2, 3, 4)), ci(g, "split", 2, sz)};
	ir_value *outs[2] = {val(g, "y0"), val(g, "y1")};
	ir_graph_add_output(g, outs[0]);
	ir_graph_add_output(g, outs[1]);
	ir_node *n = ir_graph_add_node(g, IR_OP_SPLIT, "n", 2, sv, 2, outs);
	ir_node_set_int(g, n, "axis", 1);
	check(g);

	/* Views: a graph output produced by a view is a copy; views inside
	 * share storage. */
	g = ir_graph_create("views");
	int64_t shape[2] = {6, 4};
	ir_value *xv = input(g, "x", shp(3, 2, 3, 4));
	ir_value *r1 = val(g, "r1"), *t1 = val(g, "t1"), *y = val(g, "y");
	op(g, IR_OP_RELU, r1, 1, xv);
	op(g, IR_OP_RESHAPE, t1, 2, r1, ci(g, "shape", 2, shape));
	op(g, IR_OP_FLATTEN, y, 1, t1);
	ir_graph_add_output(g, y);
	ir_graph_add_output(g, t1);
	check(g);
}

/* A CNN-shaped chain: conv, bn, relu, pool, conv, relu, gap, flatten,
 * gemm, softmax; exercises aliasing and in-place planning end to end. */
static ir_graph *chain_graph(void)
{
	ir_graph *g = ir_graph_create("chain");
	ir_value *x = input(g, "x", shp(4, 1, 1, 12, 12));
	ir_value *c1 = val(g, "c1"), *b1 = val(g, "b1"), *r1 = val(g, "r1"), *p1 = val(g, "p1"),
		 *c2 = val(g, "c2"), *r2 = val(g, "r2"), *gp = val(g, "gp"), *fl = val(g, "fl"),
		 *fc = val(g, "fc"), *y = val(g, "y");
	int64_t pads[4] = {1, 1, 1, 1}, k2[2] = {2, 2};
	float var[4] = {1, 2, 0.5f, 1};
	ir_node_set_ints(g, op(g, IR_OP_CONV, c1, 3, x, wts(g, "w1", shp(4, 4, 1, 3, 3)), wts(g, "bb1", shp(1, 4))),
	                 "pads", pads, 4);
	op(g, IR_OP_BATCHNORM, b1, 5, c1, wts(g, "s", shp(1, 4)), wts(g, "o", shp(1, 4)),
	   wts(g, "m", shp(1, 4)), cf(g, "v", shp(1, 4), var));
	op(g, IR_OP_RELU, r1, 1, b1);
	ir_node *mp = op(g, IR_OP_MAX_POOL, p1, 1, r1);
	ir_node_set_ints(g, mp, "kernel", k2, 2);
	ir_node_set_ints(g, mp, "strides", k2, 2);
	ir_node_set_ints(g, op(g, IR_OP_CONV, c2, 2, p1, wts(g, "w2", shp(4, 8, 4, 3, 3))), "pads", pads, 4);
	op(g, IR_OP_RELU, r2, 1, c2);
	op(g, IR_OP_GLOBAL_AVG_POOL, gp, 1, r2);
	op(g, IR_OP_FLATTEN, fl, 1, gp);
	ir_node_set_int(g, op(g, IR_OP_GEMM, fc, 3, fl, wts(g, "wf", shp(2, 10, 8)), wts(g, "bf", shp(1, 10))),
	                "trans_b", 1);
	op(g, IR_OP_SOFTMAX, y, 1, fc);
	ir_graph_add_output(g, y);
	return g;
}

static void test_backend_chain(void **state)
{
	(void)state;
	check(chain_graph());
}

/* A chain of 1x1 convolutions whose buffers (27648, 18432, 18432 and
 * 36864 bytes, each live for two steps) greedy-by-size places in 64512
 * bytes: the largest first at 0 pushes the middle ones up.  MobileNet-
 * V1's first layers are this chain.  The planner must reach the bound,
 * 55296: the two last buffers live together. */
static void test_backend_memplan_reaches_bound_on_a_chain(void **state)
{
	(void)state;
	ir_graph *g = ir_graph_create("chain4");
	ir_value *x = input(g, "x", shp(4, 1, 1, 48, 48));
	ir_value *c0 = val(g, "c0"), *c1 = val(g, "c1"), *c2 = val(g, "c2"), *c3 = val(g, "c3"),
		 *y = val(g, "y");
	op(g, IR_OP_CONV, c0, 2, x, wts(g, "w0", shp(4, 3, 1, 1, 1)));
	op(g, IR_OP_CONV, c1, 2, c0, wts(g, "w1", shp(4, 2, 3, 1, 1)));
	op(g, IR_OP_CONV, c2, 2, c1, wts(g, "w2", shp(4, 2, 2, 1, 1)));
	op(g, IR_OP_CONV, c3, 2, c2, wts(g, "w3", shp(4, 4, 2, 1, 1)));
	op(g, IR_OP_CONV, y, 2, c3, wts(g, "w4", shp(4, 1, 4, 1, 1)));
	ir_graph_add_output(g, y);
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(ir_graph_toposort(g, &d) || ir_infer_shapes(g, &d), 0);
	pass_mem_plan *p = pass_memplan_compute(g, &d);
	assert_non_null(p);
	assert_int_equal(p->v[c0->id].bytes, 27648);
	assert_int_equal(p->v[c3->id].bytes, 36864);
	assert_int_equal(p->lower_bound, 55296);
	assert_int_equal(p->arena_size, 55296);
	pass_memplan_destroy(p);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static void test_backend_memplan(void **state)
{
	(void)state;
	ir_graph *g = chain_graph();
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(ir_graph_toposort(g, &d) || ir_infer_shapes(g, &d), 0);
	pass_mem_plan *p = pass_memplan_compute(g, &d);
	assert_non_null(p);
	assert_true(p->arena_size >= p->lower_bound);
	assert_true(p->arena_size % PASS_MEMPLAN_ALIGN == 0);
	/* In place: bn over conv's output, relu over bn's; flatten is a view. */
	ir_value *b1 = ir_graph_find_value(g, "b1"), *r1 = ir_graph_find_value(g, "r1"),
		 *c1 = ir_graph_find_value(g, "c1"), *fl = ir_graph_find_value(g, "fl"),
		 *gp = ir_graph_find_value(g, "gp");
	assert_true(p->v[b1->id].in_place && p->v[r1->id].in_place);
	assert_int_equal(p->v[r1->id].offset, p->v[c1->id].offset);
	assert_int_equal(p->v[fl->id].alias, gp->id);
	/* No two arena buffers live at the same time overlap. */
	for (int i = 0; i < p->nvalues; i++)
		for (int j = i + 1; j < p->nvalues; j++) {
			const pass_mp_value *a = &p->v[i], *b = &p->v[j];
			if (a->kind != MP_ARENA || b->kind != MP_ARENA || a->alias >= 0 || b->alias >= 0)
				continue;
			bool live = a->def <= b->last && b->def <= a->last;
			bool mem = a->offset < b->offset + b->bytes && b->offset < a->offset + a->bytes;
			assert_false(live && mem);
		}
	/* The output is written straight into the caller's buffer. */
	assert_int_equal(p->v[g->outputs[0]->id].kind, MP_OUTPUT);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	pass_memplan_report(f, g, p);
	fclose(f);
	assert_non_null(strstr(buf, "arena:"));
	assert_non_null(strstr(buf, "lower bound"));
	free(buf);
	pass_memplan_destroy(p);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

/* 32-bit targets: an arena or constant data past 2 GiB - 1 is refused,
 * each with its own error; 64-bit targets take both. */
static void test_backend_addressable(void **state)
{
	(void)state;
	diag_sink d;
	diag_sink_init_capture(&d);
	int64_t lim = BE_MAX_VALUE_BYTES;
	assert_int_equal(be_check_addressable("m.onnx", lim, lim, 4, &d), 0);
	assert_int_equal(be_check_addressable("m.onnx", (int64_t)6 << 30, (int64_t)5 << 30, 8, &d), 0);
	assert_int_equal(d.nerr, 0);
	assert_int_equal(be_check_addressable("m.onnx", lim + 1, 16, 4, &d), -1);
	assert_int_equal(d.nerr, 1);
	assert_non_null(strstr(d.buf, "m.onnx: error: backend: the arena needs 2147483648 bytes, more "
	                              "than a 32-bit target can address in one object (2147483647)"));
	assert_int_equal(be_check_addressable("m.onnx", 16, (int64_t)3 << 30, 4, &d), -1);
	assert_int_equal(d.nerr, 2);
	assert_non_null(strstr(d.buf, "m.onnx: error: backend: the constants (weights and tables) need "
	                              "3221225472 bytes, more than a 32-bit target can address"));
	diag_sink_fini(&d);
}

static void test_backend_unsupported(void **state)
{
	(void)state;
	ir_graph *g = ir_graph_create("bad");
	ir_value *x = input(g, "x", shp(4, 1, 2, 4, 4));
	ir_value *a = val(g, "a"), *b = val(g, "b");
	/* shape is folded away by the pipeline, which this test does not
	 * run: the backend has no lowering for it.  Two nodes, two errors. */
	op(g, IR_OP_SHAPE, a, 1, x);
	op(g, IR_OP_SHAPE, b, 1, x);
	ir_graph_add_output(g, a);
	ir_graph_add_output(g, b);
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(ir_graph_toposort(g, &d) || ir_infer_shapes(g, &d), 0);
	assert_int_equal(be_check_supported(g, &d), 2);
	assert_non_null(strstr(d.buf, "(shape) is not supported by the native backend: op not implemented"));
	diag_sink_fini(&d);
	ir_graph_destroy(g);

	/* A value of 2 GiB is one byte over the limit (found by fuzz_onnx: a
	 * pad to extent 846755431 made the backend allocate 3.4 GB of tables). */
	g = ir_graph_create("big");
	x = input(g, "x", shp(2, 1, 4));
	a = val(g, "a");
	ir_node *pad = op(g, IR_OP_PAD, a, 2, x, ci(g, "pads", 4, (const int64_t[]){0, 0, 0, (1 << 29) - 4}));
	ir_node_set_str(g, pad, "mode", "edge");
	ir_graph_add_output(g, a);
	diag_sink_init_capture(&d);
	assert_int_equal(ir_graph_toposort(g, &d) || ir_infer_shapes(g, &d), 0);
	assert_int_equal(be_check_supported(g, &d), 1);
	assert_non_null(strstr(d.buf, "backend: value 'a' (f32[1,536870912]) holds 2147483648 bytes; the "
	                              "native backend takes at most 2147483647 per value"));
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc(*len + 1);
	assert_int_equal(fread(b, 1, *len, f), *len);
	b[*len] = 0;
	fclose(f);
	return b;
}

static void test_backend_header_and_determinism(void **state)
{
	(void)state;
	diag_sink d;
	diag_sink_init_capture(&d);
	char h[64], o1[64], o2[64];
	snprintf(h, sizeof h, "/tmp/qgtc_tb_%d.h", (int)getpid());
	snprintf(o1, sizeof o1, "/tmp/qgtc_tb_%d_1.o", (int)getpid());
	snprintf(o2, sizeof o2, "/tmp/qgtc_tb_%d_2.o", (int)getpid());
	ir_graph *g = chain_graph();
	assert_int_equal(ir_graph_toposort(g, &d) || ir_infer_shapes(g, &d), 0);
	assert_int_equal(be_write_header(g, "chain", h, NULL, -1, &d), 0);
	size_t len;
	char *txt = slurp(h, &len);
	assert_non_null(strstr(txt, "#define CHAIN_ARENA_SIZE "));
	assert_non_null(strstr(txt, "#define CHAIN_NUM_INPUTS 1\n"));
	assert_non_null(strstr(txt, "#define CHAIN_NUM_OUTPUTS 1\n"));
	assert_non_null(strstr(txt, "#define CHAIN_INPUT_0_SIZE 144 /* 'x' f32[1,1,12,12] */"));
	assert_non_null(strstr(txt, "#define CHAIN_OUTPUT_0_SIZE 10 "));
	assert_non_null(strstr(txt, "int chain_run(const float *const inputs[], float *const outputs[], void *arena);"));
	free(txt);
	be_target t;
	assert_int_equal(be_target_resolve("armv7em", NULL, NULL, NULL, &t, &d), 0);
	assert_string_equal(t.triple, "thumbv7em-unknown-none-eabihf");
	be_options o = {.emit = BE_EMIT_OBJ, .out_path = o1, .name = "chain", .model_desc = NULL};
	assert_int_equal(be_compile(g, &t, &o, &d), 0);
	o.out_path = o2;
	assert_int_equal(be_compile(g, &t, &o, &d), 0);
	size_t l1, l2;
	char *b1 = slurp(o1, &l1), *b2 = slurp(o2, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(b1, b2, l1);
	/* ... and into memory, the same bytes without a file. */
	void *mb;
	size_t ml;
	assert_int_equal(be_compile_buffer(g, &t, &o, &mb, &ml, &d), 0);
	assert_int_equal(ml, l1);
	assert_memory_equal(mb, b1, l1);
	free(mb);
	free(b1);
	free(b2);
	/* Bad names and targets are errors, and leave no file behind. */
	unlink(o1);
	o.out_path = o1;
	o.name = "9lives";
	assert_int_equal(be_compile(g, &t, &o, &d), -1);
	assert_int_equal(access(o1, F_OK), -1);
	assert_int_equal(be_target_resolve("pdp11", NULL, NULL, NULL, &t, &d), -1);
	assert_int_equal(be_target_resolve("x86_64", NULL, NULL, "soft", &t, &d), -1);
	assert_int_equal(be_target_resolve("aarch64", NULL, NULL, NULL, &t, &d), 0);
	assert_string_equal(t.triple, "aarch64-unknown-linux-gnu");
	assert_string_equal(t.cpu, "cortex-a72");
	char nb[64];
	assert_string_equal(be_default_name("out/Model-v2.o", nb, sizeof nb), "model_v2");
	unlink(h);
	unlink(o2);
	diag_sink_fini(&d);
	ir_graph_destroy(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backend_jit_handle),
		cmocka_unit_test(test_backend_conv),
		cmocka_unit_test(test_backend_activations),
		cmocka_unit_test(test_backend_batchnorm_prelu),
		cmocka_unit_test(test_backend_binary),
		cmocka_unit_test(test_backend_pool),
		cmocka_unit_test(test_backend_linalg),
		cmocka_unit_test(test_backend_softmax_reduce),
		cmocka_unit_test(test_backend_shape_ops),
		cmocka_unit_test(test_backend_chain),
		cmocka_unit_test(test_backend_memplan),
		cmocka_unit_test(test_backend_memplan_reaches_bound_on_a_chain),
		cmocka_unit_test(test_backend_addressable),
		cmocka_unit_test(test_backend_unsupported),
		cmocka_unit_test(test_backend_header_and_determinism),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
