/* test_frontend.c: the ONNX loader (conformance models from ../shared and
 * small models packed here with protobuf-c for old-opset forms) and .npy
 * reading/writing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "frontend.h"
#include "onnx.pb-c.h"

#ifndef QGTC_SHARED_DIR
#define QGTC_SHARED_DIR "../shared"
#endif

#define NODE_DIR QGTC_SHARED_DIR "/onnx-node-tests"
#define TORCH_DIR QGTC_SHARED_DIR "/onnx-pytorch-converted-tests"

/* ------------------------------------------------------------ helpers */

static ir_graph *load_ok(const char *path)
{
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_graph *g = fe_onnx_load(path, &d);
	if (!g)
		print_error("%s", d.buf ? d.buf : "(no diagnostics)\n");
	assert_non_null(g);
	assert_int_equal(d.nerr, 0);
	diag_sink_fini(&d);
	return g;
}

/* The k-th live node with op `op`, or NULL. */
static ir_node *find_op(ir_graph *g, ir_op op, int k)
{
	for (int i = 0; i < g->nnodes; i++)
		if (g->nodes[i]->op == op && k-- == 0)
			return g->nodes[i];
	return NULL;
}

static void assert_ints(const ir_node *n, const char *attr, const int64_t *want, int count)
{
	int got;
	const int64_t *v = ir_attr_ints(n, attr, &got);
	assert_non_null(v);
	assert_int_equal(got, count);
	for (int i = 0; i < count; i++)
		assert_int_equal(v[i], want[i]);
}

/* ---- building small models in memory (old opsets have no node tests) */

#define MAXP 64
static void *pool[4096];
static int npool;

static void *tb(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	assert_non_null(p);
	assert_true(npool < (int)(sizeof pool / sizeof *pool));
	pool[npool++] = p;
	return p;
}

static void tb_free(void)
{
	while (npool)
		free(pool[--npool]);
}

static char *tbs(const char *s)
{
	char *p = tb(strlen(s) + 1);
	strcpy(p, s);
	return p;
}

static Onnx__NodeProto *mk_node(const char *op, const char *name, const char *ins, const char *outs)
{
	/* ins/outs: comma-separated names ("" entries allowed: "x,,s") */
	Onnx__NodeProto *n = tb(sizeof *n);
	onnx__node_proto__init(n);
	n->op_type = tbs(op);
	n->name = tbs(name);
	n->domain = tbs("");
	const char *lists[2] = {ins, outs};
	for (int w = 0; w < 2; w++) {
		char **arr = tb(sizeof(char *) * MAXP);
		size_t k = 0;
		const char *s = lists[w];
		while (s && *s) {
			size_t len = strcspn(s, ",");
			char *x = tb(len + 1);
			memcpy(x, s, len);
			arr[k++] = x;
			s += len;
			if (*s == ',') {
				s++;
				if (!*s)
					arr[k++] = tbs("");
			}
		}
		if (w == 0) {
			n->input = arr;
			n->n_input = k;
		} else {
			n->output = arr;
			n->n_output = k;
		}
	}
	n->attribute = tb(sizeof(Onnx__AttributeProto *) * MAXP);
	return n;
}

static Onnx__AttributeProto *mk_attr(Onnx__NodeProto *n, const char *name, int type)
{
	Onnx__AttributeProto *a = tb(sizeof *a);
	onnx__attribute_proto__init(a);
	a->name = tbs(name);
	a->has_type = 1;
	a->type = type;
	n->attribute[n->n_attribute++] = a;
	return a;
}

static void attr_i(Onnx__NodeProto *n, const char *name, int64_t v)
{
	Onnx__AttributeProto *a = mk_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
	a->has_i = 1;
	a->i = v;
}

static void attr_f(Onnx__NodeProto *n, const char *name, float v)
{
	Onnx__AttributeProto *a = mk_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
	a->has_f = 1;
	a->f = v;
}

static void attr_is(Onnx__NodeProto *n, const char *name, int cnt, const int64_t *v)
{
	Onnx__AttributeProto *a = mk_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
	a->ints = tb(sizeof(int64_t) * (size_t)(cnt + 1));
	memcpy(a->ints, v, sizeof(int64_t) * (size_t)cnt);
	a->n_ints = (size_t)cnt;
}

static void attr_s(Onnx__NodeProto *n, const char *name, const char *s)
{
	Onnx__AttributeProto *a = mk_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
	a->has_s = 1;
	a->s.data = (uint8_t *)tbs(s);
	a->s.len = strlen(s);
}

/* Tensor value info; dims < 0 become dim_param "N". */
static Onnx__ValueInfoProto *mk_vi(const char *name, int rank, const int64_t *dims)
{
	Onnx__ValueInfoProto *v = tb(sizeof *v);
	onnx__value_info_proto__init(v);
	v->name = tbs(name);
	Onnx__TypeProto *t = tb(sizeof *t);
	onnx__type_proto__init(t);
	Onnx__TypeProto__Tensor *tt = tb(sizeof *tt);
	onnx__type_proto__tensor__init(tt);
	tt->has_elem_type = 1;
	tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	if (rank >= 0) {
		Onnx__TensorShapeProto *s = tb(sizeof *s);
		onnx__tensor_shape_proto__init(s);
		s->dim = tb(sizeof(void *) * (size_t)(rank + 1));
		for (int i = 0; i < rank; i++) {
			Onnx__TensorShapeProto__Dimension *dm = tb(sizeof *dm);
			onnx__tensor_shape_proto__dimension__init(dm);
			if (dims[i] < 0) {
				dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
				dm->dim_param = tbs("N");
			} else {
				dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
				dm->dim_value = dims[i];
			}
			s->dim[s->n_dim++] = dm;
		}
		tt->shape = s;
	}
	t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	t->tensor_type = tt;
	v->type = t;
	return v;
}

static Onnx__TensorProto *mk_f32_init(const char *name, int rank, const int64_t *dims,
                                      const float *data, size_t n)
{
	Onnx__TensorProto *t = tb(sizeof *t);
	onnx__tensor_proto__init(t);
	t->name = tbs(name);
	t->has_data_type = 1;
	t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	t->dims = tb(sizeof(int64_t) * (size_t)(rank + 1));
	memcpy(t->dims, dims, sizeof(int64_t) * (size_t)rank);
	t->n_dims = (size_t)rank;
	t->float_data = tb(sizeof(float) * (n + 1));
	memcpy(t->float_data, data, sizeof(float) * n);
	t->n_float_data = n;
	return t;
}

typedef struct mb {
	Onnx__GraphProto g;
	Onnx__NodeProto *nodes[MAXP];
	Onnx__ValueInfoProto *ins[MAXP], *outs[MAXP];
	Onnx__TensorProto *inits[MAXP];
	int64_t opset;
} mb;

static void mb_init(mb *m, int64_t opset)
{
	memset(m, 0, sizeof *m);
	onnx__graph_proto__init(&m->g);
	m->g.name = tbs("t");
	m->g.node = m->nodes;
	m->g.input = m->ins;
	m->g.output = m->outs;
	m->g.initializer = m->inits;
	m->opset = opset;
}

static Onnx__NodeProto *mb_node(mb *m, Onnx__NodeProto *n)
{
	m->nodes[m->g.n_node++] = n;
	return n;
}

/* Pack and load; the graph or NULL, diagnostics in d. */
static ir_graph *mb_load(mb *m, diag_sink *d)
{
	Onnx__ModelProto mp;
	onnx__model_proto__init(&mp);
	mp.has_ir_version = 1;
	mp.ir_version = 7;
	Onnx__OperatorSetIdProto os;
	onnx__operator_set_id_proto__init(&os);
	os.domain = tbs("");
	os.has_version = 1;
	os.version = m->opset;
	Onnx__OperatorSetIdProto *osp = &os;
	mp.opset_import = &osp;
	mp.n_opset_import = 1;
	mp.graph = &m->g;
	size_t len = onnx__model_proto__get_packed_size(&mp);
	uint8_t *buf = malloc(len ? len : 1);
	assert_non_null(buf);
	onnx__model_proto__pack(&mp, buf);
	ir_graph *g = fe_onnx_load_buffer(buf, len, "mem.onnx", NULL, d);
	free(buf);
	return g;
}

static ir_graph *mb_load_ok(mb *m)
{
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_graph *g = mb_load(m, &d);
	if (!g)
		print_error("%s", d.buf ? d.buf : "(no diagnostics)\n");
	assert_non_null(g);
	diag_sink_fini(&d);
	return g;
}

/* ----------------------------------------------- conformance models */

static void test_frontend_conv_attrs(void **state)
{
	(void)state;
	ir_graph *g = load_ok(NODE_DIR "/test_conv_with_strides_padding/model.onnx");
	assert_int_equal(g->nnodes, 1);
	ir_node *n = g->nodes[0];
	assert_int_equal(n->op, IR_OP_CONV);
	assert_string_equal(n->src_op, "Conv");
	assert_int_equal(n->src_index, 0);
	assert_non_null(strstr(g->src_file, "test_conv_with_strides_padding/model.onnx"));
	static const int64_t strides[] = {2, 2}, pads[] = {1, 1, 1, 1};
	assert_ints(n, "strides", strides, 2);
	assert_ints(n, "pads", pads, 4);
	assert_null(ir_node_attr(n, "kernel_shape")); /* checked against W, then dropped */
	assert_int_equal(g->ninputs, 2);
	assert_int_equal(g->inputs[1]->shape.rank, 4);
	assert_int_equal(g->inputs[1]->dt, IR_DT_F32);
	assert_int_equal(g->noutputs, 1);
	assert_int_equal(g->outputs[0]->shape.rank, -1); /* not inferred by the loader */
	ir_graph_destroy(g);
}

static void test_frontend_maxpool_kernel(void **state)
{
	(void)state;
	ir_graph *g = load_ok(NODE_DIR "/test_maxpool_2d_default/model.onnx");
	ir_node *n = find_op(g, IR_OP_MAX_POOL, 0);
	assert_non_null(n);
	static const int64_t k[] = {2, 2};
	assert_ints(n, "kernel", k, 2);
	ir_graph_destroy(g);
}

static void test_frontend_gemm_attr_names(void **state)
{
	(void)state;
	ir_graph *g = load_ok(NODE_DIR "/test_gemm_all_attributes/model.onnx");
	ir_node *n = find_op(g, IR_OP_GEMM, 0);
	assert_non_null(n);
	assert_int_equal(ir_attr_int(n, "trans_a", -1), 1);
	assert_int_equal(ir_attr_int(n, "trans_b", -1), 1);
	assert_null(ir_node_attr(n, "transA"));
	assert_true(ir_attr_float(n, "alpha", 0) > 0.0f);
	ir_graph_destroy(g);
}

static void test_frontend_upsample_to_resize(void **state)
{
	(void)state;
	ir_graph *g = load_ok(NODE_DIR "/test_upsample_nearest/model.onnx");
	ir_node *n = find_op(g, IR_OP_RESIZE, 0);
	assert_non_null(n);
	assert_int_equal(n->nin, 3);
	assert_null(n->in[1]);
	assert_non_null(n->in[2]);
	assert_string_equal(ir_attr_str(n, "mode", ""), "nearest");
	assert_string_equal(ir_attr_str(n, "coordinate_transformation_mode", ""), "asymmetric");
	assert_string_equal(ir_attr_str(n, "nearest_mode", ""), "floor");
	ir_graph_destroy(g);
}

static void test_frontend_constant_node_is_const(void **state)
{
	(void)state;
	ir_graph *g = load_ok(NODE_DIR "/test_constant/model.onnx");
	assert_int_equal(g->nnodes, 0);
	assert_int_equal(g->noutputs, 1);
	assert_int_equal(g->outputs[0]->kind, IR_VAL_CONST);
	assert_int_equal(g->outputs[0]->shape.rank, 2);
	ir_graph_destroy(g);
}

static void test_frontend_initializers_are_not_inputs(void **state)
{
	(void)state;
	/* IR-v3 export: weights listed as inputs too; only '0' is an input. */
	ir_graph *g = load_ok(TORCH_DIR "/test_Linear/model.onnx");
	assert_int_equal(g->ninputs, 1);
	ir_node *n = find_op(g, IR_OP_GEMM, 0);
	assert_non_null(n);
	assert_int_equal(n->in[1]->kind, IR_VAL_CONST);
	assert_int_equal(n->in[1]->shape.d[0], 8);
	assert_int_equal(ir_attr_int(n, "trans_b", 0), 1);
	assert_null(ir_node_attr(n, "broadcast"));
	ir_graph_destroy(g);
}

static void test_frontend_pad2_attrs_to_inputs(void **state)
{
	(void)state;
	ir_graph *g = load_ok(TORCH_DIR "/test_ConstantPad2d/model.onnx");
	ir_node *n = find_op(g, IR_OP_PAD, 0);
	assert_non_null(n);
	assert_int_equal(n->nin, 3);
	int64_t pads[8];
	assert_int_equal(ir_const_ints(n->in[1], pads, 8), 8);
	assert_int_equal(pads[2], 3);
	assert_int_equal(pads[7], 2);
	assert_int_equal(n->in[2]->kind, IR_VAL_CONST);
	assert_true(ir_const_get(n->in[2], 0) == 2.0);
	assert_string_equal(ir_attr_str(n, "mode", ""), "constant");
	ir_graph_destroy(g);
}

static void test_frontend_squeeze1_axes_to_input(void **state)
{
	(void)state;
	ir_graph *g = load_ok(TORCH_DIR "/test_AvgPool1d/model.onnx");
	ir_node *u = find_op(g, IR_OP_UNSQUEEZE, 0), *s = find_op(g, IR_OP_SQUEEZE, 0);
	assert_non_null(u);
	assert_non_null(s);
	int64_t ax[1];
	assert_int_equal(ir_const_ints(u->in[1], ax, 1), 1);
	assert_int_equal(ax[0], 3);
	assert_int_equal(ir_const_ints(s->in[1], ax, 1), 1);
	/* toposorted: unsqueeze, avg_pool, squeeze */
	assert_ptr_equal(g->nodes[0], u);
	assert_ptr_equal(g->nodes[2], s);
	ir_graph_destroy(g);
}

static void test_frontend_prelu6_per_channel(void **state)
{
	(void)state;
	ir_graph *g = load_ok(TORCH_DIR "/test_PReLU_1d_multiparam/model.onnx");
	ir_node *n = find_op(g, IR_OP_PRELU, 0);
	assert_non_null(n);
	assert_int_equal(n->in[1]->shape.rank, 2); /* [3] -> [3,1] against [2,3,4] */
	assert_int_equal(n->in[1]->shape.d[0], 3);
	assert_int_equal(n->in[1]->shape.d[1], 1);
	ir_graph_destroy(g);
}

static void test_frontend_batchnorm6_drops_training_attrs(void **state)
{
	(void)state;
	ir_graph *g = load_ok(TORCH_DIR "/test_BatchNorm2d_eval/model.onnx");
	ir_node *n = find_op(g, IR_OP_BATCHNORM, 0);
	assert_non_null(n);
	assert_int_equal(n->nattr, 1);
	assert_true(ir_attr_float(n, "epsilon", 0) > 0.0f);
	ir_graph_destroy(g);
}

static void test_frontend_load_tensor_pb(void **state)
{
	(void)state;
	ir_tensor t;
	diag_sink d;
	diag_sink_init_capture(&d);
	int rc = fe_onnx_load_tensor(NODE_DIR "/test_conv_with_strides_padding/test_data_set_0/input_1.pb",
	                             &t, &d);
	if (rc)
		print_error("%s", d.buf);
	assert_int_equal(rc, 0);
	assert_int_equal(t.dt, IR_DT_F32);
	assert_int_equal(t.shape.rank, 4);
	assert_int_equal(t.shape.d[2], 3);
	assert_true(((float *)t.data)[0] == 1.0f);
	ir_tensor_free(&t);
	diag_sink_fini(&d);
}

/* ------------------------------------------------ packed old-opset models */

static void test_frontend_softmax_old_axis_expands(void **state)
{
	(void)state;
	static const int64_t dims[] = {-1, 3, 4};
	mb m;
	mb_init(&m, 11);
	m.ins[m.g.n_input++] = mk_vi("x", 3, dims);
	m.outs[m.g.n_output++] = mk_vi("y", 3, dims);
	attr_i(mb_node(&m, mk_node("Softmax", "sm", "x", "y")), "axis", 1);
	ir_graph *g = mb_load_ok(&m);
	/* coerce-to-2D semantics: flatten(1) -> softmax(1) -> reshape back;
	 * X's dims are known but for the batch, so the shape is a constant */
	assert_int_equal(g->nnodes, 3);
	ir_node *f = find_op(g, IR_OP_FLATTEN, 0), *s = find_op(g, IR_OP_SOFTMAX, 0);
	ir_node *r = find_op(g, IR_OP_RESHAPE, 0);
	assert_non_null(f);
	assert_non_null(s);
	assert_non_null(r);
	assert_int_equal(ir_attr_int(f, "axis", -9), 1);
	assert_int_equal(ir_attr_int(s, "axis", -9), 1);
	assert_ptr_equal(r->out[0], g->outputs[0]);
	int64_t shp[4];
	assert_int_equal(ir_const_ints(r->in[1], shp, 4), 3);
	assert_int_equal(shp[0], -1);
	assert_int_equal(shp[2], 4);
	for (int i = 0; i < g->nnodes; i++) {
		assert_int_equal(g->nodes[i]->src_index, 0);
		assert_string_equal(g->nodes[i]->src_op, "Softmax");
	}
	ir_graph_destroy(g);
	tb_free();
}

static void test_frontend_softmax_old_unknown_rank_uses_shape(void **state)
{
	(void)state;
	static const int64_t dims[] = {2, 3, 4};
	mb m;
	mb_init(&m, 11);
	m.ins[m.g.n_input++] = mk_vi("x", 3, dims);
	m.outs[m.g.n_output++] = mk_vi("y", 3, dims);
	mb_node(&m, mk_node("Relu", "r", "x", "t"));
	mb_node(&m, mk_node("Softmax", "sm", "t", "y")); /* default axis 1 */
	ir_graph *g = mb_load_ok(&m);
	assert_int_equal(g->nnodes, 5);
	ir_node *sh = find_op(g, IR_OP_SHAPE, 0), *r = find_op(g, IR_OP_RESHAPE, 0);
	assert_non_null(sh);
	assert_non_null(r);
	assert_ptr_equal(r->in[1], sh->out[0]);
	assert_ptr_equal(sh->in[0], find_op(g, IR_OP_RELU, 0)->out[0]);
	assert_int_equal(ir_attr_int(r, "allowzero", 0), 1);
	ir_graph_destroy(g);
	tb_free();
}

static void test_frontend_softmax_old_last_axis_plain(void **state)
{
	(void)state;
	static const int64_t dims[] = {2, 3, 4};
	mb m;
	mb_init(&m, 11);
	m.ins[m.g.n_input++] = mk_vi("x", 3, dims);
	m.outs[m.g.n_output++] = mk_vi("y", 3, dims);
	attr_i(mb_node(&m, mk_node("LogSoftmax", "sm", "x", "y")), "axis", 2);
	ir_graph *g = mb_load_ok(&m);
	assert_int_equal(g->nnodes, 1);
	assert_int_equal(g->nodes[0]->op, IR_OP_LOG_SOFTMAX);
	assert_int_equal(ir_attr_int(g->nodes[0], "axis", 0), -1);
	ir_graph_destroy(g);
	tb_free();
}

static void test_frontend_softmax13_default_axis(void **state)
{
	(void)state;
	static const int64_t dims[] = {2, 3};
	mb m;
	mb_init(&m, 13);
	m.ins[m.g.n_input++] = mk_vi("x", 2, dims);
	m.outs[m.g.n_output++] = mk_vi("y", 2, dims);
	mb_node(&m, mk_node("Softmax", "sm", "x", "y"));
	ir_graph *g = mb_load_ok(&m);
	assert_int_equal(g->nnodes, 1);
	assert_int_equal(ir_attr_int(g->nodes[0], "axis", 0), -1);
	ir_graph_destroy(g);
	tb_free();
}

static void test_frontend_clip6_attrs_to_inputs(void **state)
{
	(void)state;
	static const int64_t dims[] = {4};
	mb m;
	mb_init(&m, 6);
	m.ins[m.g.n_input++] = mk_vi("x", 1, dims);
	m.outs[m.g.n_output++] = mk_vi("y", 1, dims);
	m.outs[m.g.n_output++] = mk_vi("z", 1, dims);
	Onnx__NodeProto *n = mb_node(&m, mk_node("Clip", "c0", "x", "y"));
	attr_f(n, "min", -1.0f);
	attr_f(n, "max", 6.0f);
	attr_f(mb_node(&m, mk_node("Clip", "c1", "x", "z")), "max", 2.0f);
	ir_graph *g = mb_load_ok(&m);
	ir_node *c0 = find_op(g, IR_OP_CLIP, 0), *c1 = find_op(g, IR_OP_CLIP, 1);
	assert_int_equal(c0->nin, 3);
	assert_true(ir_const_get(c0->in[1], 0) == -1.0);
	assert_true(ir_const_get(c0->in[2], 0) == 6.0);
	assert_int_equal(c0->in[1]->shape.rank, 0);
	assert_int_equal(c1->nin, 3);
	assert_null(c1->in[1]);
	assert_true(ir_const_get(c1->in[2], 0) == 2.0);
	ir_graph_destroy(g);
	tb_free();
}

static void test_frontend_slice1_and_split2_attrs(void **state)
{
	(void)state;
	static const int64_t dims[] = {4, 6};
	static const int64_t st[] = {1}, en[] = {3}, ax[] = {1}, sp[] = {2, 2};
	mb m;
	mb_init(&m, 9);
	m.ins[m.g.n_input++] = mk_vi("x", 2, dims);
	m.outs[m.g.n_output++] = mk_vi("a", -1, NULL);
	m.outs[m.g.n_output++] = mk_vi("b", -1, NULL);
	Onnx__NodeProto *s = mb_node(&m, mk_node("Slice", "s", "x", "y"));
	attr_is(s, "starts", 1, st);
	attr_is(s, "ends", 1, en);
	attr_is(s, "axes", 1, ax);
	Onnx__NodeProto *p = mb_node(&m, mk_node("Split", "p", "y", "a,b"));
	attr_is(p, "split", 2, sp);
	attr_i(p, "axis", 1);
	ir_graph *g = mb_load_ok(&m);
	ir_node *sl = find_op(g, IR_OP_SLICE, 0), *spn = find_op(g, IR_OP_SPLIT, 0);
	assert_int_equal(sl->nin, 4);
	int64_t v[4];
	assert_int_equal(ir_const_ints(sl->in[1], v, 4), 1);
	assert_int_equal(v[0], 1);
	assert_int_equal(ir_const_ints(sl->in[3], v, 4), 1);
	assert_int_equal(spn->nin, 2);
	assert_int_equal(spn->nout, 2);
	assert_int_equal(ir_const_ints(spn->in[1], v, 4), 2);
	assert_int_equal(ir_attr_int(spn, "axis", 0), 1);
	ir_graph_destroy(g);
	tb_free();
}

static void test_frontend_add6_broadcast_axis(void **state)
{
	(void)state;
	static const int64_t xd[] = {2, 3, 4, 5}, bd[] = {3};
	static const float bv[] = {1, 2, 3};
	mb m;
	mb_init(&m, 6);
	m.ins[m.g.n_input++] = mk_vi("x", 4, xd);
	m.inits[m.g.n_initializer++] = mk_f32_init("b", 1, bd, bv, 3);
	m.outs[m.g.n_output++] = mk_vi("y", 4, xd);
	Onnx__NodeProto *n = mb_node(&m, mk_node("Add", "a", "x,b", "y"));
	attr_i(n, "broadcast", 1);
	attr_i(n, "axis", 1);
	ir_graph *g = mb_load_ok(&m);
	ir_node *a = find_op(g, IR_OP_ADD, 0);
	assert_non_null(a);
	assert_int_equal(a->in[1]->shape.rank, 3); /* [3] aligned at axis 1 -> [3,1,1] */
	assert_int_equal(a->in[1]->shape.d[0], 3);
	assert_int_equal(a->in[1]->shape.d[2], 1);
	assert_int_equal(g->ninputs, 1);
	ir_graph_destroy(g);
	tb_free();
}

static void test_frontend_batch_dim_symbolic(void **state)
{
	(void)state;
	static const int64_t dims[] = {-1, 3};
	mb m;
	mb_init(&m, 13);
	m.ins[m.g.n_input++] = mk_vi("x", 2, dims);
	m.outs[m.g.n_output++] = mk_vi("y", 2, dims);
	mb_node(&m, mk_node("Relu", "r", "x", "y"));
	ir_graph *g = mb_load_ok(&m);
	assert_int_equal(g->inputs[0]->shape.d[0], IR_DIM_SYM);
	assert_int_equal(g->inputs[0]->shape.d[1], 3);
	ir_graph_destroy(g);
	tb_free();
}

static void test_frontend_nodes_out_of_order_sorted(void **state)
{
	(void)state;
	static const int64_t dims[] = {4};
	mb m;
	mb_init(&m, 13);
	m.ins[m.g.n_input++] = mk_vi("x", 1, dims);
	m.outs[m.g.n_output++] = mk_vi("c", 1, dims);
	mb_node(&m, mk_node("Sigmoid", "n0", "b", "c"));
	mb_node(&m, mk_node("Tanh", "n1", "a", "b"));
	mb_node(&m, mk_node("Relu", "n2", "x", "a"));
	ir_graph *g = mb_load_ok(&m);
	assert_int_equal(g->nodes[0]->op, IR_OP_RELU);
	assert_int_equal(g->nodes[0]->src_index, 2);
	assert_int_equal(g->nodes[2]->op, IR_OP_SIGMOID);
	assert_string_equal(g->nodes[2]->name, "n0");
	ir_graph_destroy(g);
	tb_free();
}

static void test_frontend_reports_all_unsupported(void **state)
{
	(void)state;
	static const int64_t dims[] = {4};
	mb m;
	mb_init(&m, 13);
	m.ins[m.g.n_input++] = mk_vi("x", 1, dims);
	m.outs[m.g.n_output++] = mk_vi("y", 1, dims);
	mb_node(&m, mk_node("Det", "e0", "x", "a"));
	attr_s(mb_node(&m, mk_node("Relu", "r1", "a", "b")), "flavour", "spicy");
	Onnx__NodeProto *bn = mb_node(&m, mk_node("LeakyRelu", "l2", "b", "c"));
	attr_f(bn, "alpha", 0.1f);
	attr_i(bn, "alpah", 1);
	attr_i(mb_node(&m, mk_node("Concat", "c3", "c", "y")), "axis", 0);
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_graph *g = mb_load(&m, &d);
	assert_null(g);
	assert_int_equal(d.nerr, 3);
	assert_non_null(strstr(d.buf, "mem.onnx: node 0 'e0' (Det): error: unsupported op 'Det'"));
	assert_non_null(strstr(d.buf, "node 1 'r1' (Relu): error: unsupported attribute 'flavour'"));
	assert_non_null(strstr(d.buf, "node 2 'l2' (LeakyRelu): error: unsupported attribute 'alpah'"));
	diag_sink_fini(&d);
	tb_free();
}

static void test_frontend_batchnorm_training_unsupported(void **state)
{
	(void)state;
	static const int64_t dims[] = {1, 2, 2, 2}, cd[] = {2};
	mb m;
	mb_init(&m, 15);
	m.ins[m.g.n_input++] = mk_vi("x", 4, dims);
	const char *p[] = {"s", "b", "m", "v"};
	for (int i = 0; i < 4; i++)
		m.ins[m.g.n_input++] = mk_vi(p[i], 1, cd);
	m.outs[m.g.n_output++] = mk_vi("y", 4, dims);
	attr_i(mb_node(&m, mk_node("BatchNormalization", "bn", "x,s,b,m,v", "y")), "training_mode", 1);
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_null(mb_load(&m, &d));
	assert_non_null(strstr(d.buf, "training_mode=1 is not supported"));
	diag_sink_fini(&d);
	tb_free();
}

static void test_frontend_external_data(void **state)
{
	(void)state;
	char dir[] = "/tmp/qgtc_fe_XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof path, "%s/w.bin", dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	float junk = 0, w[4] = {1, 2, 3, 4};
	fwrite(&junk, 4, 1, f);
	fwrite(w, 4, 4, f);
	fclose(f);

	static const int64_t dims[] = {4};
	mb m;
	mb_init(&m, 13);
	m.ins[m.g.n_input++] = mk_vi("x", 1, dims);
	m.outs[m.g.n_output++] = mk_vi("y", 1, dims);
	Onnx__TensorProto *t = mk_f32_init("w", 1, dims, w, 0);
	t->n_float_data = 0;
	t->has_data_location = 1;
	t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
	t->external_data = tb(sizeof(void *) * 3);
	const char *kv[3][2] = {{"location", "w.bin"}, {"offset", "4"}, {"length", "16"}};
	for (int i = 0; i < 3; i++) {
		Onnx__StringStringEntryProto *e = tb(sizeof *e);
		onnx__string_string_entry_proto__init(e);
		e->key = tbs(kv[i][0]);
		e->value = tbs(kv[i][1]);
		t->external_data[t->n_external_data++] = e;
	}
	m.inits[m.g.n_initializer++] = t;
	mb_node(&m, mk_node("Add", "a", "x,w", "y"));

	/* through fe_onnx_load_buffer with the folder */
	Onnx__ModelProto mp;
	onnx__model_proto__init(&mp);
	Onnx__OperatorSetIdProto os;
	onnx__operator_set_id_proto__init(&os);
	os.has_version = 1;
	os.version = 13;
	Onnx__OperatorSetIdProto *osp = &os;
	mp.opset_import = &osp;
	mp.n_opset_import = 1;
	mp.graph = &m.g;
	size_t len = onnx__model_proto__get_packed_size(&mp);
	uint8_t *buf = malloc(len);
	onnx__model_proto__pack(&mp, buf);
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_graph *g = fe_onnx_load_buffer(buf, len, "ext.onnx", dir, &d);
	if (!g)
		print_error("%s", d.buf);
	assert_non_null(g);
	ir_value *v = ir_graph_find_value(g, "w");
	assert_int_equal(v->kind, IR_VAL_CONST);
	assert_true(((float *)v->data)[3] == 4.0f);
	ir_graph_destroy(g);
	/* no folder: refused */
	assert_null(fe_onnx_load_buffer(buf, len, "ext.onnx", NULL, &d));
	assert_non_null(strstr(d.buf, "not allowed"));
	diag_sink_fini(&d);
	free(buf);
	unlink(path);
	rmdir(dir);
	tb_free();
}

/* ----------------------------------------------------------------- npy */

static void test_frontend_npy_roundtrip(void **state)
{
	(void)state;
	char path[] = "/tmp/qgtc_npy_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	diag_sink d;
	diag_sink_init_capture(&d);

	float fv[6] = {1.5f, -2, 3, 4, 5, 6e-3f};
	int64_t dims[] = {2, 3};
	ir_tensor t = {IR_DT_F32, ir_shape_make(2, dims), fv}, u;
	assert_int_equal(fe_npy_save(path, &t, &d), 0);
	assert_int_equal(fe_npy_load(path, &u, &d), 0);
	assert_int_equal(u.dt, IR_DT_F32);
	assert_true(ir_shape_eq(&u.shape, &t.shape));
	assert_memory_equal(u.data, fv, sizeof fv);
	ir_tensor_free(&u);

	int64_t iv[5] = {-1, 2, 1LL << 40, 0, 7};
	int64_t d5[] = {5};
	t = (ir_tensor){IR_DT_I64, ir_shape_make(1, d5), iv};
	assert_int_equal(fe_npy_save(path, &t, &d), 0);
	assert_int_equal(fe_npy_load(path, &u, &d), 0);
	assert_int_equal(u.dt, IR_DT_I64);
	assert_int_equal(u.shape.rank, 1);
	assert_memory_equal(u.data, iv, sizeof iv);
	ir_tensor_free(&u);

	uint8_t bv[1] = {1};
	t = (ir_tensor){IR_DT_BOOL, ir_shape_make(0, NULL), bv};
	assert_int_equal(fe_npy_save(path, &t, &d), 0);
	assert_int_equal(fe_npy_load(path, &u, &d), 0);
	assert_int_equal(u.dt, IR_DT_BOOL);
	assert_int_equal(u.shape.rank, 0);
	assert_int_equal(((uint8_t *)u.data)[0], 1);
	ir_tensor_free(&u);

	char tmp[64];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	assert_int_not_equal(access(tmp, F_OK), 0); /* no temp file left */

	/* The same bytes from memory; a truncated copy is an error naming it. */
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	unsigned char buf[256];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	assert_int_equal(fe_npy_load_buffer(buf, n, "mem.npy", &u, &d), 0);
	assert_int_equal(u.dt, IR_DT_BOOL);
	assert_int_equal(((uint8_t *)u.data)[0], 1);
	ir_tensor_free(&u);
	assert_int_equal(d.nerr, 0);
	assert_int_equal(fe_npy_load_buffer(buf, n - 1, "mem.npy", &u, &d), -1);
	assert_non_null(strstr(d.buf, "mem.npy: error: data is 0 bytes, expected 1"));
	d.nerr = 0;
	assert_int_equal(d.nerr, 0);
	diag_sink_fini(&d);
	unlink(path);
}

/* Write a hand-made .npy: header text `h`, then `n` data bytes. */
static void write_npy(const char *path, int major, const char *h, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	size_t hl = strlen(h);
	fwrite("\x93NUMPY", 1, 6, f);
	fputc(major, f);
	fputc(0, f);
	fputc((int)(hl & 0xff), f);
	fputc((int)(hl >> 8 & 0xff), f);
	if (major > 1) {
		fputc(0, f);
		fputc(0, f);
	}
	fwrite(h, 1, hl, f);
	if (n)
		fwrite(data, 1, n, f);
	fclose(f);
}

static void test_frontend_npy_f8_and_v2(void **state)
{
	(void)state;
	char path[] = "/tmp/qgtc_npy_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	diag_sink d;
	diag_sink_init_capture(&d);
	double dv[3] = {0.5, -1.25, 1e10};
	write_npy(path, 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n", dv, sizeof dv);
	ir_tensor u;
	assert_int_equal(fe_npy_load(path, &u, &d), 0);
	assert_int_equal(u.dt, IR_DT_F32); /* f64 narrowed to f32 */
	assert_true(((float *)u.data)[1] == -1.25f);
	assert_true(((float *)u.data)[2] == 1e10f);
	ir_tensor_free(&u);
	assert_int_equal(d.nerr, 0);

	write_npy(path, 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }\n", dv, 4);
	assert_int_equal(fe_npy_load(path, &u, &d), -1);
	assert_non_null(strstr(d.buf, "fortran_order"));
	write_npy(path, 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }\n", dv, 4);
	assert_int_equal(fe_npy_load(path, &u, &d), -1);
	assert_non_null(strstr(d.buf, "unsupported .npy dtype '>f4'"));
	write_npy(path, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", dv, 8);
	assert_int_equal(fe_npy_load(path, &u, &d), -1);
	assert_non_null(strstr(d.buf, "data is 8 bytes, expected 12"));
	write_npy(path, 1, "{'descr': '<f4' 'fortran_order': False}", dv, 12);
	assert_int_equal(fe_npy_load(path, &u, &d), -1);
	assert_non_null(strstr(d.buf, "malformed .npy header"));
	write_npy(path, 1,
	          "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }\n",
	          dv, 0);
	assert_int_equal(fe_npy_load(path, &u, &d), -1);
	assert_non_null(strstr(d.buf, "overflows"));
	diag_sink_fini(&d);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frontend_conv_attrs),
		cmocka_unit_test(test_frontend_maxpool_kernel),
		cmocka_unit_test(test_frontend_gemm_attr_names),
		cmocka_unit_test(test_frontend_upsample_to_resize),
		cmocka_unit_test(test_frontend_constant_node_is_const),
		cmocka_unit_test(test_frontend_initializers_are_not_inputs),
		cmocka_unit_test(test_frontend_pad2_attrs_to_inputs),
		cmocka_unit_test(test_frontend_squeeze1_axes_to_input),
		cmocka_unit_test(test_frontend_prelu6_per_channel),
		cmocka_unit_test(test_frontend_batchnorm6_drops_training_attrs),
		cmocka_unit_test(test_frontend_load_tensor_pb),
		cmocka_unit_test(test_frontend_softmax_old_axis_expands),
		cmocka_unit_test(test_frontend_softmax_old_unknown_rank_uses_shape),
		cmocka_unit_test(test_frontend_softmax_old_last_axis_plain),
		cmocka_unit_test(test_frontend_softmax13_default_axis),
		cmocka_unit_test(test_frontend_clip6_attrs_to_inputs),
		cmocka_unit_test(test_frontend_slice1_and_split2_attrs),
		cmocka_unit_test(test_frontend_add6_broadcast_axis),
		cmocka_unit_test(test_frontend_batch_dim_symbolic),
		cmocka_unit_test(test_frontend_nodes_out_of_order_sorted),
		cmocka_unit_test(test_frontend_reports_all_unsupported),
		cmocka_unit_test(test_frontend_batchnorm_training_unsupported),
		cmocka_unit_test(test_frontend_external_data),
		cmocka_unit_test(test_frontend_npy_roundtrip),
		cmocka_unit_test(test_frontend_npy_f8_and_v2),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
