/* onnx_ops.c: ONNX nodes -> canonical IR ops (see ir/ops.def), for
 * ai.onnx opsets 6..25.  Old attribute-form operands become constant
 * inputs; every attribute is translated, explicitly ignored, or reported. */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "onnx_internal.h"

enum {
	AT_FLOAT = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT,
	AT_INT = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT,
	AT_STRING = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING,
	AT_TENSOR = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR,
	AT_GRAPH = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH,
	AT_FLOATS = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS,
	AT_INTS = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS,
	AT_STRINGS = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS,
	AT_SPARSE = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR,
};

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* ---------------------------------------------------------- attributes */

/* The attribute's type; IR version 1 files may leave it unset. */
static int attr_type(const Onnx__AttributeProto *a)
{
	if (a->has_type && a->type)
		return a->type;
	if (a->has_f)
		return AT_FLOAT;
	if (a->has_i)
		return AT_INT;
	if (a->has_s)
		return AT_STRING;
	if (a->t)
		return AT_TENSOR;
	if (a->g)
		return AT_GRAPH;
	if (a->sparse_tensor)
		return AT_SPARSE;
	if (a->n_floats)
		return AT_FLOATS;
	if (a->n_ints)
		return AT_INTS;
	if (a->n_strings)
		return AT_STRINGS;
	return 0;
}

static const char *attr_type_name(int t)
{
	switch (t) {
	case AT_FLOAT: return "float";
	case AT_INT: return "int";
	case AT_STRING: return "string";
	case AT_TENSOR: return "tensor";
	case AT_GRAPH: return "graph";
	case AT_FLOATS: return "floats";
	case AT_INTS: return "ints";
	case AT_STRINGS: return "strings";
	case AT_SPARSE: return "sparse tensor";
	default: return "other";
	}
}

/* Find attribute `name`, mark it handled and check its type (a mismatch
 * is reported and gives NULL). */
static const Onnx__AttributeProto *attr(fe_onnx_ctx *c, const char *name, int type)
{
	const Onnx__NodeProto *np = c->np;
	for (size_t i = 0; i < np->n_attribute; i++) {
		const Onnx__AttributeProto *a = np->attribute[i];
		if (strcmp(nz(a->name), name) != 0)
			continue;
		c->used[i] = 1;
		int t = attr_type(a);
		if (t != type) {
			diag_error(c->d, c->loc, "attribute '%s' has type %s, expected %s", name,
			           attr_type_name(t), attr_type_name(type));
			return NULL;
		}
		return a;
	}
	return NULL;
}

/* Attributes that do not affect inference results. */
static void attr_ignore(fe_onnx_ctx *c, const char *name)
{
	for (size_t i = 0; i < c->np->n_attribute; i++)
		if (strcmp(nz(c->np->attribute[i]->name), name) == 0)
			c->used[i] = 1;
}

static int64_t attr_int(fe_onnx_ctx *c, const char *name, int64_t dflt, bool *present)
{
	const Onnx__AttributeProto *a = attr(c, name, AT_INT);
	if (present)
		*present = a != NULL;
	return a ? a->i : dflt;
}

static float attr_float(fe_onnx_ctx *c, const char *name, float dflt)
{
	const Onnx__AttributeProto *a = attr(c, name, AT_FLOAT);
	return a ? a->f : dflt;
}

/* A string attribute as a NUL-terminated arena copy. */
static const char *attr_str(fe_onnx_ctx *c, const char *name, const char *dflt)
{
	const Onnx__AttributeProto *a = attr(c, name, AT_STRING);
	if (!a)
		return dflt;
	if (a->s.len && memchr(a->s.data, 0, a->s.len)) {
		diag_error(c->d, c->loc, "attribute '%s' contains a NUL byte", name);
		return dflt;
	}
	char *s = ir_arena_alloc(c->g->arena, a->s.len + 1);
	if (!s)
		return dflt;
	if (a->s.len)
		memcpy(s, a->s.data, a->s.len);
	return s;
}

/* ints attribute: element count, or -1 if absent. */
static int attr_ints(fe_onnx_ctx *c, const char *name, const int64_t **v)
{
	const Onnx__AttributeProto *a = attr(c, name, AT_INTS);
	*v = NULL;
	if (!a)
		return -1;
	if (a->n_ints > 1u << 20) {
		diag_error(c->d, c->loc, "attribute '%s' has too many values (%zu)", name, a->n_ints);
		return -1;
	}
	*v = a->ints;
	return (int)a->n_ints;
}

static int attr_floats(fe_onnx_ctx *c, const char *name, const float **v)
{
	const Onnx__AttributeProto *a = attr(c, name, AT_FLOATS);
	*v = NULL;
	if (!a)
		return -1;
	if (a->n_floats > 1u << 20) {
		diag_error(c->d, c->loc, "attribute '%s' has too many values (%zu)", name, a->n_floats);
		return -1;
	}
	*v = a->floats;
	return (int)a->n_floats;
}

/* Copy an attribute that means the same in the IR (maybe renamed). */
static void copy_int(fe_onnx_ctx *c, ir_node *n, const char *oname, const char *iname)
{
	bool present;
	int64_t v = attr_int(c, oname, 0, &present);
	if (present)
		ir_node_set_int(c->g, n, iname, v);
}

static void copy_float(fe_onnx_ctx *c, ir_node *n, const char *oname, const char *iname)
{
	const Onnx__AttributeProto *a = attr(c, oname, AT_FLOAT);
	if (a)
		ir_node_set_float(c->g, n, iname, a->f);
}

static void copy_ints(fe_onnx_ctx *c, ir_node *n, const char *oname, const char *iname)
{
	const int64_t *v;
	int k = attr_ints(c, oname, &v);
	if (k >= 0)
		ir_node_set_ints(c->g, n, iname, v, k);
}

static void copy_str(fe_onnx_ctx *c, ir_node *n, const char *oname, const char *iname)
{
	const char *s = attr_str(c, oname, NULL);
	if (s)
		ir_node_set_str(c->g, n, iname, s);
}

/* --------------------------------------------------------- node pieces */

/* ONNX-level arity of the node at this opset. */
static int arity(fe_onnx_ctx *c, int min_in, int max_in, int min_out, int max_out)
{
	if (c->nin < min_in || (max_in >= 0 && c->nin > max_in)) {
		if (min_in == max_in)
			diag_error(c->d, c->loc, "has %d inputs; %s-%lld takes %d", c->nin,
			           nz(c->np->op_type), (long long)c->opset, min_in);
		else
			diag_error(c->d, c->loc, "has %d inputs; %s-%lld takes %d to %d", c->nin,
			           nz(c->np->op_type), (long long)c->opset, min_in, max_in);
		return -1;
	}
	if (c->nout < min_out || (max_out >= 0 && c->nout > max_out)) {
		diag_error(c->d, c->loc, "has %d outputs; %s-%lld gives %d to %d", c->nout,
		           nz(c->np->op_type), (long long)c->opset, min_out, max_out);
		return -1;
	}
	return 0;
}

/* A fresh computed value named after the node's first output. */
static ir_value *tmp(fe_onnx_ctx *c, const char *suffix)
{
	const char *base = c->nout && c->out[0] ? c->out[0]->name : nz(c->np->name);
	char *nm = ir_arena_printf(c->g->arena, "%s/%s", base, suffix);
	return ir_graph_add_value(c->g, ir_graph_unique_name(c->g, nm), IR_DT_UNDEF, NULL);
}

/* A constant built from an attribute; rank 0 when `scalar`. */
static ir_value *cst(fe_onnx_ctx *c, const char *suffix, ir_dtype dt, const void *data, int n,
                     bool scalar)
{
	const char *base = c->nout && c->out[0] ? c->out[0]->name : nz(c->np->name);
	char *nm = ir_arena_printf(c->g->arena, "%s/%s", base, suffix);
	int64_t dim = n;
	ir_shape s = ir_shape_make(scalar ? 0 : 1, &dim);
	return ir_graph_add_const(c->g, ir_graph_unique_name(c->g, nm), dt, &s, data);
}

static ir_value *cst_i64(fe_onnx_ctx *c, const char *suffix, const int64_t *v, int n)
{
	return cst(c, suffix, IR_DT_I64, v, n, false);
}

static ir_value *cst_f32(fe_onnx_ctx *c, const char *suffix, float v)
{
	return cst(c, suffix, IR_DT_F32, &v, 1, true);
}

/* Add an IR node for the ONNX node, checking the IR arity. */
static ir_node *emit(fe_onnx_ctx *c, ir_op op, int nin, ir_value *const *in, int nout,
                     ir_value *const *out)
{
	const ir_op_info *oi = &ir_op_table[op];
	if (nin < oi->min_in || (oi->max_in >= 0 && nin > oi->max_in)) {
		diag_error(c->d, c->loc, "has %d inputs; IR op '%s' takes %d to %d", nin, oi->name,
		           oi->min_in, oi->max_in);
		return NULL;
	}
	if (nout < oi->min_out || (oi->max_out >= 0 && nout > oi->max_out)) {
		diag_error(c->d, c->loc, "has %d outputs; IR op '%s' gives %d to %d", nout, oi->name,
		           oi->min_out, oi->max_out);
		return NULL;
	}
	for (int k = 0; k < oi->min_in; k++)
		if (!in[k]) {
			diag_error(c->d, c->loc, "required input %d is missing", k);
			return NULL;
		}
	if (!out[0]) {
		diag_error(c->d, c->loc, "output 0 has no name");
		return NULL;
	}
	ir_node *n = ir_graph_add_node(c->g, op, nz(c->np->name), nin, in, nout, out);
	if (!n || !(n->src_op = ir_arena_strdup(c->g->arena, nz(c->np->op_type)))) {
		diag_error(c->d, c->loc, "out of memory");
		return NULL;
	}
	n->src_index = c->index;
	return n;
}

/* The node as is: same inputs and outputs. */
static ir_node *emit_same(fe_onnx_ctx *c, ir_op op)
{
	return emit(c, op, c->nin, c->in, c->nout, c->out);
}

/* ------------------------------------------------------- translators */

typedef int (*tr_fn)(fe_onnx_ctx *c, ir_op op);

/* No attributes, ONNX arity = IR arity. */
static int tr_plain(fe_onnx_ctx *c, ir_op op)
{
	const ir_op_info *oi = &ir_op_table[op];
	if (arity(c, oi->min_in, oi->max_in, oi->min_out, oi->max_out))
		return -1;
	return emit_same(c, op) ? 0 : -1;
}

/* Identity of a constant is that constant (torch's FX quantization
 * export passes its scales and zero points through Identity, and
 * QuantizeLinear wants them constant and typed at import); else a node. */
static int tr_identity(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 1, 1, 1, 1))
		return -1;
	const ir_value *x = c->in[0];
	ir_value *y = c->out[0];
	int64_t n = x ? ir_shape_numel(&x->shape) : -1;
	if (!y || !x || x->kind != IR_VAL_CONST || !x->data || n < 0)
		return emit_same(c, op) ? 0 : -1;
	size_t bytes = (size_t)n * ir_dtype_size(x->dt);
	void *data = ir_arena_alloc(c->g->arena, bytes ? bytes : 1);
	if (!data) {
		diag_error(c->d, c->loc, "out of memory");
		return -1;
	}
	memcpy(data, x->data, bytes);
	y->kind = IR_VAL_CONST;
	y->dt = x->dt;
	y->shape = x->shape;
	y->data = data;
	return 0;
}

static int tr_conv(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 2, 3, 1, 1))
		return -1;
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	/* kernel_shape only restates W's spatial dims; the IR has none.  Check
	 * it where W's shape is known (ONNX requires them to agree). */
	const int64_t *ks;
	int nk = attr_ints(c, "kernel_shape", &ks);
	const ir_value *w = c->in[1];
	if (nk >= 0 && w && w->shape.rank >= 0) {
		bool ok = w->shape.rank == nk + 2;
		for (int i = 0; ok && i < nk; i++)
			ok = w->shape.d[i + 2] == ks[i];
		if (!ok) {
			char kb[128], wb[128];
			ir_shape kshape = ir_shape_make(nk <= IR_MAX_RANK ? nk : IR_MAX_RANK, ks);
			diag_error(c->d, c->loc, "kernel_shape %s does not match weight %s",
			           ir_shape_str(&kshape, kb, sizeof kb), ir_shape_str(&w->shape, wb, sizeof wb));
		}
	}
	copy_ints(c, n, "strides", "strides");
	copy_ints(c, n, "pads", "pads");
	copy_ints(c, n, "dilations", "dilations");
	copy_int(c, n, "group", "group");
	copy_str(c, n, "auto_pad", "auto_pad");
	if (op == IR_OP_CONV_TRANSPOSE) {
		copy_ints(c, n, "output_padding", "output_padding");
		copy_ints(c, n, "output_shape", "output_shape");
	}
	return 0;
}

static int tr_batchnorm(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 5, 5, 1, 5))
		return -1;
	for (int k = 1; k < c->nout; k++)
		if (c->out[k]) {
			diag_error(c->d, c->loc, "training outputs (running mean/var, saved statistics) are not "
			           "supported: this is a training-mode export; export the model after "
			           "model.eval() (qgtc deploys batchnorm with its running statistics)");
			return -1;
		}
	if (attr_int(c, "training_mode", 0, NULL) != 0)
		diag_error(c->d, c->loc, "training_mode=1 is not supported: export the model after "
		           "model.eval() (qgtc deploys batchnorm with its running statistics)");
	if (c->opset < 9 && attr_int(c, "spatial", 1, NULL) != 1)
		diag_error(c->d, c->loc, "spatial=0 (per-activation statistics) is not supported");
	attr_ignore(c, "momentum");  /* running-statistics update: training only */
	if (c->opset < 7)
		attr_ignore(c, "is_test"); /* inference either way */
	ir_node *n = emit(c, op, 5, c->in, 1, c->out);
	if (!n)
		return -1;
	ir_node_set_float(c->g, n, "epsilon", attr_float(c, "epsilon", 1e-5f));
	return 0;
}

static int tr_leaky_relu(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 1, 1, 1, 1))
		return -1;
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	ir_node_set_float(c->g, n, "alpha", attr_float(c, "alpha", 0.01f));
	return 0;
}

static int tr_elu(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 1, 1, 1, 1))
		return -1;
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	ir_node_set_float(c->g, n, "alpha", attr_float(c, "alpha", 1.0f));
	return 0;
}

static int tr_selu(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 1, 1, 1, 1))
		return -1;
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	ir_node_set_float(c->g, n, "alpha", attr_float(c, "alpha", 1.67326319217681884765625f));
	ir_node_set_float(c->g, n, "gamma", attr_float(c, "gamma", 1.05070102214813232421875f));
	return 0;
}

static int tr_celu(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 1, 1, 1, 1))
		return -1;
	float alpha = attr_float(c, "alpha", 1.0f);
	if (!(alpha != 0)) {
		diag_error(c->d, c->loc, "Celu with alpha %g (it divides by alpha)", (double)alpha);
		return -1;
	}
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	ir_node_set_float(c->g, n, "alpha", alpha);
	return 0;
}

static int tr_gelu(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 1, 1, 1, 1))
		return -1;
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	copy_str(c, n, "approximate", "approximate");
	return 0;
}

/* Max, Min, Sum, Mean: one input or more (numpy broadcasting), folded
 * left into binary max/min/add nodes; Mean's sum then times 1/count. */
static int tr_variadic(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 1, -1, 1, 1))
		return -1;
	bool mean = strcmp(nz(c->np->op_type), "Mean") == 0;
	if (c->nin == 1 && !mean)
		return emit(c, IR_OP_IDENTITY, 1, c->in, 1, c->out) ? 0 : -1;
	for (int k = 0; k < c->nin; k++)
		if (!c->in[k]) {
			diag_error(c->d, c->loc, "input %d is empty; %s takes no optional inputs", k, nz(c->np->op_type));
			return -1;
		}
	ir_value *acc = c->in[0];
	for (int k = 1; k < c->nin; k++) {
		bool last = k == c->nin - 1 && !mean;
		ir_value *r = last ? c->out[0] : tmp(c, "acc");
		ir_value *in[2] = {acc, c->in[k]};
		if (!r || !emit(c, op, 2, in, 1, &r))
			return -1;
		acc = r;
	}
	if (mean) {
		ir_value *in[2] = {acc, cst_f32(c, "inv_count", 1.0f / (float)c->nin)};
		return in[1] && emit(c, IR_OP_MUL, 2, in, 1, c->out) ? 0 : -1;
	}
	return 0;
}

/* LayerNormalization, with its optional Mean and InvStdDev outputs,
 * computed in f32 (stash_type 1). */
static int tr_layer_norm(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 2, 3, 1, 3))
		return -1;
	int64_t stash = attr_int(c, "stash_type", 1, NULL);
	if (stash != 1) {
		diag_error(c->d, c->loc, "stash_type %lld is not supported; only 1 (float32)", (long long)stash);
		return -1;
	}
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	copy_int(c, n, "axis", "axis");
	copy_float(c, n, "epsilon", "epsilon");
	return 0;
}

static int tr_instance_norm(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 3, 3, 1, 1))
		return -1;
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	copy_float(c, n, "epsilon", "epsilon");
	return 0;
}

static int tr_depth_space(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 1, 1, 1, 1))
		return -1;
	bool has;
	int64_t b = attr_int(c, "blocksize", 0, &has);
	if (!has) {
		diag_error(c->d, c->loc, "missing required attribute 'blocksize'");
		return -1;
	}
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	ir_node_set_int(c->g, n, "blocksize", b);
	if (op == IR_OP_DEPTH_TO_SPACE && c->opset >= 11)
		copy_str(c, n, "mode", "mode");
	return 0;
}

static int tr_hard_sigmoid(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 1, 1, 1, 1))
		return -1;
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	ir_node_set_float(c->g, n, "alpha", attr_float(c, "alpha", 0.2f));
	ir_node_set_float(c->g, n, "beta", attr_float(c, "beta", 0.5f));
	return 0;
}

/* A copy of constant v with shape s (same element count). */
static ir_value *const_reshaped(fe_onnx_ctx *c, const ir_value *v, const ir_shape *s)
{
	char *nm = ir_arena_printf(c->g->arena, "%s/reshaped", v->name);
	return ir_graph_add_const(c->g, ir_graph_unique_name(c->g, nm), v->dt, s, v->data);
}

/* Make b (rank rb) align with a (rank ra) starting at `axis` instead of
 * at the trailing dims: append ra - axis - rb unit dims to b.  `axis` comes
 * from the file: anything outside [-ra, ra - rb] is refused before it can
 * size the unit dims (at most ra - rb <= IR_MAX_RANK of them). */
static ir_value *align_at_axis(fe_onnx_ctx *c, ir_value *b, int ra, int64_t axis)
{
	int rb = b->shape.rank;
	int64_t at = axis < 0 ? axis + ra : axis;
	if (ra > IR_MAX_RANK || rb > ra || at < 0 || at > ra - rb) {
		diag_error(c->d, c->loc, "broadcast axis %lld is out of range for A of rank %d and B of rank %d",
		           (long long)axis, ra, rb);
		return NULL;
	}
	int extra = ra - (int)at - rb;
	if (extra == 0)
		return b;
	if (b->kind == IR_VAL_CONST) {
		ir_shape s = b->shape;
		for (int i = 0; i < extra; i++)
			s.d[s.rank++] = 1;
		return const_reshaped(c, b, &s);
	}
	int64_t axes[IR_MAX_RANK];
	for (int i = 0; i < extra; i++)
		axes[i] = rb + i;
	ir_value *ax = cst_i64(c, "axes", axes, extra);
	ir_value *r = tmp(c, "aligned");
	ir_value *in[2] = {b, ax};
	ir_node *n = emit(c, IR_OP_UNSQUEEZE, 2, in, 1, &r);
	return n ? r : NULL;
}

static int tr_prelu(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 2, 2, 1, 1))
		return -1;
	ir_value *in[2] = {c->in[0], c->in[1]};
	/* PRelu-6: a 1-D slope of size C is per channel (axis 1); from 7 on
	 * it broadcasts numpy-style from the trailing dims. */
	ir_value *s = in[1];
	if (c->opset < 7 && s && s->shape.rank == 1 && s->shape.d[0] != 1) {
		int rx = in[0] ? in[0]->shape.rank : -1;
		if (rx < 0) {
			diag_error(c->d, c->loc, "PRelu-6 per-channel slope needs the rank of X, which is not known before shape inference; unsupported");
			return -1;
		}
		if (rx >= 2 && !(in[1] = align_at_axis(c, s, rx, 1)))
			return -1;
	}
	return emit(c, op, 2, in, 1, c->out) ? 0 : -1;
}

static int tr_arith(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 2, 2, 1, 1))
		return -1;
	ir_value *in[2] = {c->in[0], c->in[1]};
	if (c->opset < 7) {
		/* Legacy broadcasting: with broadcast=1, B's dims align with A's
		 * starting at `axis` (default: trailing, i.e. numpy). */
		bool has_axis;
		int64_t bc = attr_int(c, "broadcast", 0, NULL);
		int64_t axis = attr_int(c, "axis", 0, &has_axis);
		if (bc && has_axis && in[0] && in[1]) {
			int ra = in[0]->shape.rank, rb = in[1]->shape.rank;
			if (ra < 0 || rb < 0) {
				diag_error(c->d, c->loc, "broadcast with axis=%lld needs the ranks of A and B, which are not known before shape inference; unsupported",
				           (long long)axis);
				return -1;
			}
			if (!(in[1] = align_at_axis(c, in[1], ra, axis)))
				return -1;
		}
	}
	return emit(c, op, 2, in, 1, c->out) ? 0 : -1;
}

static int tr_clip(fe_onnx_ctx *c, ir_op op)
{
	if (c->opset >= 11) {
		if (arity(c, 1, 3, 1, 1))
			return -1;
		return emit_same(c, op) ? 0 : -1;
	}
	if (arity(c, 1, 1, 1, 1))
		return -1;
	ir_value *in[3] = {c->in[0], NULL, NULL};
	const Onnx__AttributeProto *lo = attr(c, "min", AT_FLOAT), *hi = attr(c, "max", AT_FLOAT);
	if (lo)
		in[1] = cst_f32(c, "min", lo->f);
	if (hi)
		in[2] = cst_f32(c, "max", hi->f);
	int nin = hi ? 3 : lo ? 2 : 1;
	return emit(c, op, nin, in, 1, c->out) ? 0 : -1;
}

static int tr_pool(fe_onnx_ctx *c, ir_op op)
{
	int max_out = op == IR_OP_MAX_POOL && c->opset >= 8 ? 2 : 1;
	if (arity(c, 1, 1, 1, max_out))
		return -1;
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	const int64_t *ks;
	int nk = attr_ints(c, "kernel_shape", &ks);
	if (nk < 0)
		diag_error(c->d, c->loc, "missing required attribute 'kernel_shape'");
	else
		ir_node_set_ints(c->g, n, "kernel", ks, nk);
	copy_ints(c, n, "strides", "strides");
	copy_ints(c, n, "pads", "pads");
	copy_ints(c, n, "dilations", "dilations");
	copy_int(c, n, "ceil_mode", "ceil_mode");
	copy_str(c, n, "auto_pad", "auto_pad");
	if (op == IR_OP_MAX_POOL)
		copy_int(c, n, "storage_order", "storage_order");
	else
		copy_int(c, n, "count_include_pad", "count_include_pad");
	return 0;
}

static int tr_gemm(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 2, 3, 1, 1))
		return -1;
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	copy_float(c, n, "alpha", "alpha");
	copy_float(c, n, "beta", "beta");
	copy_int(c, n, "transA", "trans_a");
	copy_int(c, n, "transB", "trans_b");
	if (c->opset < 7)
		attr_ignore(c, "broadcast"); /* C broadcasts unidirectionally either way */
	return 0;
}

static int tr_concat(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 1, -1, 1, 1))
		return -1;
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	bool has;
	int64_t axis = attr_int(c, "axis", 0, &has);
	if (!has)
		diag_error(c->d, c->loc, "missing required attribute 'axis'");
	ir_node_set_int(c->g, n, "axis", axis);
	return 0;
}

static int tr_reshape(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 2, 2, 1, 1))
		return -1;
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	if (c->opset >= 14)
		copy_int(c, n, "allowzero", "allowzero");
	return 0;
}

/* One int attribute `name` with ONNX default `dflt`, always set. */
static int tr_axis_op(fe_onnx_ctx *c, ir_op op, int64_t dflt)
{
	const ir_op_info *oi = &ir_op_table[op];
	if (arity(c, oi->min_in, oi->max_in, oi->min_out, oi->max_out))
		return -1;
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	ir_node_set_int(c->g, n, "axis", attr_int(c, "axis", dflt, NULL));
	return 0;
}

static int tr_flatten(fe_onnx_ctx *c, ir_op op)
{
	return tr_axis_op(c, op, 1);
}

static int tr_gather(fe_onnx_ctx *c, ir_op op)
{
	return tr_axis_op(c, op, 0);
}

/* IsNaN(x) = Not(Equal(x, x)); IsInf(x) = Equal(|x|, inf), or one sign
 * (detect_positive / detect_negative); Tan(x) = Sin(x) / Cos(x): ops the
 * IR and every backend have. */
static int tr_composed(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 1, 1, 1, 1))
		return -1;
	const char *t = nz(c->np->op_type);
	ir_value *x = c->in[0], *y = c->out[0];
	if (strcmp(t, "Tan") == 0) {
		ir_value *s = tmp(c, "sin"), *co = tmp(c, "cos");
		ir_value *dv[2] = {s, co};
		return s && co && emit(c, IR_OP_SIN, 1, &x, 1, &s) && emit(c, IR_OP_COS, 1, &x, 1, &co) &&
		               emit(c, IR_OP_DIV, 2, dv, 1, &y)
		           ? 0
		           : -1;
	}
	if (strcmp(t, "IsNaN") == 0) {
		ir_value *e = tmp(c, "eq"), *in[2] = {x, x};
		return e && emit(c, IR_OP_EQUAL, 2, in, 1, &e) && emit(c, IR_OP_NOT, 1, &e, 1, &y) ? 0 : -1;
	}
	bool pos = attr_int(c, "detect_positive", 1, NULL) != 0, neg = attr_int(c, "detect_negative", 1, NULL) != 0;
	if (!pos && !neg) { /* nothing detected: (x == x) and not (x == x), all false */
		ir_value *e = tmp(c, "eq"), *ne = tmp(c, "ne"), *in[2] = {x, x};
		ir_value *both[2] = {e, ne};
		return e && ne && emit(c, IR_OP_EQUAL, 2, in, 1, &e) && emit(c, IR_OP_NOT, 1, &e, 1, &ne) &&
		               emit(c, IR_OP_AND, 2, both, 1, &y)
		           ? 0
		           : -1;
	}
	ir_value *inf = cst_f32(c, "inf", pos ? INFINITY : -INFINITY), *v = x;
	if (!inf)
		return -1;
	if (pos && neg && !(v = tmp(c, "abs")))
		return -1;
	if (pos && neg && !emit(c, IR_OP_ABS, 1, &x, 1, &v))
		return -1;
	ir_value *in[2] = {v, inf};
	(void)op;
	return emit(c, IR_OP_EQUAL, 2, in, 1, &y) ? 0 : -1;
}

static int tr_mod(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 2, 2, 1, 1))
		return -1;
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	copy_int(c, n, "fmod", "fmod");
	return 0;
}

/* The scatters' reduction attribute onto n (none: left out). */
static int copy_reduction(fe_onnx_ctx *c, ir_node *n)
{
	const char *red = attr_str(c, "reduction", "none");
	if (!red)
		return -1;
	if (strcmp(red, "none") != 0)
		ir_node_set_str(c->g, n, "reduction", red);
	return 0;
}

/* GatherND: batch_dims from opset 12; ScatterND: reduction from 16. */
static int tr_nd(fe_onnx_ctx *c, ir_op op)
{
	const ir_op_info *oi = &ir_op_table[op];
	if (arity(c, oi->min_in, oi->max_in, 1, 1))
		return -1;
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	if (op == IR_OP_GATHER_ND) {
		copy_int(c, n, "batch_dims", "batch_dims");
		return 0;
	}
	return copy_reduction(c, n);
}

static int tr_one_hot(fe_onnx_ctx *c, ir_op op)
{
	return tr_axis_op(c, op, -1);
}

static int tr_trilu(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 1, 2, 1, 1))
		return -1;
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	ir_node_set_int(c->g, n, "upper", attr_int(c, "upper", 1, NULL));
	return 0;
}

/* ScatterElements (and Scatter, its opset-9 name): reduction from 16. */
static int tr_scatter(fe_onnx_ctx *c, ir_op op)
{
	if (tr_axis_op(c, op, 0))
		return -1;
	return copy_reduction(c, c->g->nodes[c->g->nnodes - 1]);
}

static int tr_transpose(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 1, 1, 1, 1))
		return -1;
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	copy_ints(c, n, "perm", "perm");
	return 0;
}

/* Emit op over one axis of x into y (softmax's and hardmax's forms). */
typedef int (*axis_fn)(fe_onnx_ctx *c, ir_op op, ir_value *x, int64_t axis, ir_value *y);

static int axis_softmax(fe_onnx_ctx *c, ir_op op, ir_value *x, int64_t axis, ir_value *y)
{
	ir_node *n = emit(c, op, 1, &x, 1, &y);
	if (!n)
		return -1;
	ir_node_set_int(c->g, n, "axis", axis);
	return 0;
}

/* Softmax/LogSoftmax/Hardmax.  Before opset 13 the input is coerced to
 * 2-D at `axis` (default 1) and normalised over the flattened trailing
 * dims: flatten(axis) -> op(axis=1) -> reshape(shape(X)).  When X's rank
 * is known and axis is the last dim, that is a plain single-axis op; when
 * its dims are known (but for the batch) the shape is a constant. */
static int tr_coerced(fe_onnx_ctx *c, ir_op op, axis_fn fn)
{
	if (arity(c, 1, 1, 1, 1))
		return -1;
	if (c->opset >= 13)
		return fn(c, op, c->in[0], attr_int(c, "axis", -1, NULL), c->out[0]);
	int64_t axis = attr_int(c, "axis", 1, NULL);
	ir_value *x = c->in[0];
	int r = x ? x->shape.rank : -1;
	if (r >= 0) {
		if (axis < -r || axis > r) {
			diag_error(c->d, c->loc, "axis %lld is out of range for rank %d", (long long)axis, r);
			return -1;
		}
		if (axis < 0)
			axis += r;
		if (r > 0 && axis == r - 1)
			return fn(c, op, x, -1, c->out[0]);
	}
	ir_value *flat = tmp(c, "flat"), *sm = tmp(c, "2d"), *shp = NULL;
	ir_node *n = emit(c, IR_OP_FLATTEN, 1, &x, 1, &flat);
	if (!n)
		return -1;
	ir_node_set_int(c->g, n, "axis", axis);
	if (fn(c, op, flat, 1, sm))
		return -1;
	/* The shape to restore: a constant when X's dims are known but for a
	 * symbolic batch (-1 recovers it), else Shape(X) for later folding. */
	bool const_shape = r > 0;
	int64_t dims[IR_MAX_RANK];
	for (int i = 0; const_shape && i < r; i++) {
		dims[i] = x->shape.d[i];
		if (dims[i] == IR_DIM_SYM && i == 0)
			dims[i] = -1;
		else if (dims[i] <= 0)
			const_shape = false;
	}
	if (const_shape) {
		shp = cst_i64(c, "shape", dims, r);
	} else {
		shp = tmp(c, "shape");
		if (!emit(c, IR_OP_SHAPE, 1, &x, 1, &shp))
			return -1;
	}
	ir_value *rin[2] = {sm, shp};
	if (!(n = emit(c, IR_OP_RESHAPE, 2, rin, 1, c->out)))
		return -1;
	if (!const_shape)
		ir_node_set_int(c->g, n, "allowzero", 1); /* copy 0 extents as they are */
	return 0;
}

static int tr_softmax(fe_onnx_ctx *c, ir_op op)
{
	return tr_coerced(c, op, axis_softmax);
}

/* Hardmax over one axis: 1 at the first maximum, 0 elsewhere, as
 * m = (x == max(x)), y = m and (cumsum(m) == 1): ops every engine has. */
static int axis_hardmax(fe_onnx_ctx *c, ir_op op, ir_value *x, int64_t axis, ir_value *y)
{
	(void)op;
	ir_value *mx = tmp(c, "max"), *eq = tmp(c, "is_max"), *m = tmp(c, "is_max_f"), *cs = tmp(c, "count");
	ir_value *first = tmp(c, "first"), *both = tmp(c, "first_max"), *one = cst_f32(c, "one", 1.0f);
	ir_value *ax = cst_i64(c, "axes", &axis, 1), *axs = cst(c, "axis", IR_DT_I64, &axis, 1, true);
	if (!mx || !eq || !m || !cs || !first || !both || !one || !ax || !axs)
		return -1;
	ir_node *n = emit(c, IR_OP_REDUCE_MAX, 2, (ir_value *[]){x, ax}, 1, &mx);
	if (!n)
		return -1;
	ir_node_set_int(c->g, n, "keepdims", 1);
	if (!emit(c, IR_OP_EQUAL, 2, (ir_value *[]){x, mx}, 1, &eq) || !(n = emit(c, IR_OP_CAST, 1, &eq, 1, &m)))
		return -1;
	ir_node_set_str(c->g, n, "to", "f32");
	if (!emit(c, IR_OP_CUMSUM, 2, (ir_value *[]){m, axs}, 1, &cs) ||
	    !emit(c, IR_OP_EQUAL, 2, (ir_value *[]){cs, one}, 1, &first) ||
	    !emit(c, IR_OP_AND, 2, (ir_value *[]){eq, first}, 1, &both) || !(n = emit(c, IR_OP_CAST, 1, &both, 1, &y)))
		return -1;
	ir_node_set_str(c->g, n, "to", "f32");
	return 0;
}

static int tr_hardmax(fe_onnx_ctx *c, ir_op op)
{
	return tr_coerced(c, op, axis_hardmax);
}

/* ThresholdedRelu: x > alpha ? x : 0.  Shrink: x < -lambd ? x + bias :
 * x > lambd ? x - bias : 0.  Both as comparisons and Where. */
static int tr_thresholds(fe_onnx_ctx *c, ir_op op)
{
	(void)op;
	if (arity(c, 1, 1, 1, 1))
		return -1;
	ir_value *x = c->in[0], *zero = cst_f32(c, "zero", 0.0f);
	if (strcmp(nz(c->np->op_type), "ThresholdedRelu") == 0) {
		ir_value *a = cst_f32(c, "alpha", attr_float(c, "alpha", 1.0f)), *gt = tmp(c, "above");
		return a && gt && zero && emit(c, IR_OP_GREATER, 2, (ir_value *[]){x, a}, 1, &gt) &&
		               emit(c, IR_OP_WHERE, 3, (ir_value *[]){gt, x, zero}, 1, c->out)
		           ? 0
		           : -1;
	}
	float lambd = attr_float(c, "lambd", 0.5f), bias = attr_float(c, "bias", 0.0f);
	ir_value *lo = cst_f32(c, "neg_lambd", -lambd), *hi = cst_f32(c, "lambd", lambd), *b = cst_f32(c, "bias", bias);
	ir_value *lt = tmp(c, "below"), *gt = tmp(c, "above"), *pl = tmp(c, "plus"), *mi = tmp(c, "minus"),
		 *in = tmp(c, "upper");
	return lo && hi && b && lt && gt && pl && mi && in && zero &&
	               emit(c, IR_OP_LESS, 2, (ir_value *[]){x, lo}, 1, &lt) &&
	               emit(c, IR_OP_GREATER, 2, (ir_value *[]){x, hi}, 1, &gt) &&
	               emit(c, IR_OP_ADD, 2, (ir_value *[]){x, b}, 1, &pl) &&
	               emit(c, IR_OP_SUB, 2, (ir_value *[]){x, b}, 1, &mi) &&
	               emit(c, IR_OP_WHERE, 3, (ir_value *[]){gt, mi, zero}, 1, &in) &&
	               emit(c, IR_OP_WHERE, 3, (ir_value *[]){lt, pl, in}, 1, c->out)
	           ? 0
	           : -1;
}

/* Size: the product of Shape(x), an int64 scalar (folded when x's shape
 * is static). */
static int tr_size(fe_onnx_ctx *c, ir_op op)
{
	(void)op;
	if (arity(c, 1, 1, 1, 1))
		return -1;
	ir_value *shp = tmp(c, "shape");
	ir_node *n;
	if (!shp || !emit(c, IR_OP_SHAPE, 1, c->in, 1, &shp) || !(n = emit(c, IR_OP_REDUCE_PROD, 1, &shp, 1, c->out)))
		return -1;
	ir_node_set_int(c->g, n, "keepdims", 0);
	return 0;
}

/* MeanVarianceNormalization over `axes` (default 0, 2, 3), as ONNX's
 * function body: (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9). */
static int tr_mvn(fe_onnx_ctx *c, ir_op op)
{
	(void)op;
	if (arity(c, 1, 1, 1, 1))
		return -1;
	static const int64_t dflt[3] = {0, 2, 3};
	const int64_t *axes;
	int na = attr_ints(c, "axes", &axes);
	if (na < 0)
		axes = dflt, na = 3;
	ir_value *x = c->in[0], *ax = cst_i64(c, "axes", axes, na), *eps = cst_f32(c, "eps", 1e-9f);
	ir_value *m = tmp(c, "mean"), *sq = tmp(c, "sq"), *msq = tmp(c, "mean_sq"), *m2 = tmp(c, "mean2"),
		 *var = tmp(c, "var"), *sd = tmp(c, "std"), *den = tmp(c, "den"), *dev = tmp(c, "dev");
	if (!ax || !eps || !m || !sq || !msq || !m2 || !var || !sd || !den || !dev)
		return -1;
	ir_node *r1 = emit(c, IR_OP_REDUCE_MEAN, 2, (ir_value *[]){x, ax}, 1, &m);
	ir_node *r2 = r1 && emit(c, IR_OP_MUL, 2, (ir_value *[]){x, x}, 1, &sq)
	                      ? emit(c, IR_OP_REDUCE_MEAN, 2, (ir_value *[]){sq, ax}, 1, &msq)
	                      : NULL;
	if (!r2)
		return -1;
	ir_node_set_int(c->g, r1, "keepdims", 1);
	ir_node_set_int(c->g, r2, "keepdims", 1);
	return emit(c, IR_OP_MUL, 2, (ir_value *[]){m, m}, 1, &m2) &&
	               emit(c, IR_OP_SUB, 2, (ir_value *[]){msq, m2}, 1, &var) &&
	               emit(c, IR_OP_SQRT, 1, &var, 1, &sd) &&
	               emit(c, IR_OP_ADD, 2, (ir_value *[]){sd, eps}, 1, &den) &&
	               emit(c, IR_OP_SUB, 2, (ir_value *[]){x, m}, 1, &dev) &&
	               emit(c, IR_OP_DIV, 2, (ir_value *[]){dev, den}, 1, c->out)
	           ? 0
	           : -1;
}

/* LRN: y = x / (bias + alpha / size * sum of x^2 over the `size` channels
 * around c)^beta.  The window sum is an average pool with count_include_pad
 * over [N, 1, C, rest] (x^2 unsqueezed at 1 and its trailing dims flattened,
 * so any rank works), kernel (size, 1), pads floor((size-1)/2) before and
 * ceil((size-1)/2) after; then reshaped back to Shape(x). */
static int tr_lrn(fe_onnx_ctx *c, ir_op op)
{
	(void)op;
	if (arity(c, 1, 1, 1, 1))
		return -1;
	bool has;
	int64_t size = attr_int(c, "size", 0, &has);
	if (!has || size < 1) {
		diag_error(c->d, c->loc, has ? "size must be at least 1, not %lld" : "missing required attribute 'size'",
		           (long long)size);
		return -1;
	}
	float alpha = attr_float(c, "alpha", 1e-4f), beta = attr_float(c, "beta", 0.75f), bias = attr_float(c, "bias", 1.0f);
	int64_t one = 1, dims4[4] = {0, 0, 0, -1}, kern[2] = {size, 1};
	int64_t pads[4] = {(size - 1) / 2, 0, size - 1 - (size - 1) / 2, 0};
	ir_value *x = c->in[0], *ax = cst_i64(c, "axes", &one, 1), *d4 = cst_i64(c, "shape4", dims4, 4);
	ir_value *ca = cst_f32(c, "alpha", alpha), *cb = cst_f32(c, "beta", beta), *cbias = cst_f32(c, "bias", bias);
	ir_value *sq = tmp(c, "sq"), *u = tmp(c, "sq5"), *f4 = tmp(c, "sq4"), *avg = tmp(c, "avg4"), *shp = tmp(c, "shape"),
		 *av = tmp(c, "avg"), *sc = tmp(c, "scaled"), *t = tmp(c, "base"), *p = tmp(c, "den");
	if (!ax || !d4 || !ca || !cb || !cbias || !sq || !u || !f4 || !avg || !shp || !av || !sc || !t || !p)
		return -1;
	ir_node *pool;
	if (!emit(c, IR_OP_MUL, 2, (ir_value *[]){x, x}, 1, &sq) ||
	    !emit(c, IR_OP_UNSQUEEZE, 2, (ir_value *[]){sq, ax}, 1, &u) ||
	    !emit(c, IR_OP_RESHAPE, 2, (ir_value *[]){u, d4}, 1, &f4) ||
	    !(pool = emit(c, IR_OP_AVG_POOL, 1, &f4, 1, &avg)))
		return -1;
	ir_node_set_ints(c->g, pool, "kernel", kern, 2);
	ir_node_set_ints(c->g, pool, "pads", pads, 4);
	ir_node_set_int(c->g, pool, "count_include_pad", 1);
	return emit(c, IR_OP_SHAPE, 1, &x, 1, &shp) && emit(c, IR_OP_RESHAPE, 2, (ir_value *[]){avg, shp}, 1, &av) &&
	               emit(c, IR_OP_MUL, 2, (ir_value *[]){av, ca}, 1, &sc) &&
	               emit(c, IR_OP_ADD, 2, (ir_value *[]){sc, cbias}, 1, &t) &&
	               emit(c, IR_OP_POW, 2, (ir_value *[]){t, cb}, 1, &p) &&
	               emit(c, IR_OP_DIV, 2, (ir_value *[]){x, p}, 1, c->out)
	           ? 0
	           : -1;
}

static int tr_pad(fe_onnx_ctx *c, ir_op op)
{
	ir_node *n;
	if (c->opset >= 11) {
		if (arity(c, 2, c->opset >= 18 ? 4 : 3, 1, 1))
			return -1;
		if (!(n = emit_same(c, op)))
			return -1;
	} else {
		if (arity(c, 1, 1, 1, 1))
			return -1;
		const int64_t *p;
		int np = attr_ints(c, "pads", &p);
		if (np < 0)
			np = attr_ints(c, "paddings", &p); /* Pad-1 spelling */
		if (np < 0) {
			diag_error(c->d, c->loc, "missing required attribute 'pads'");
			return -1;
		}
		ir_value *in[3] = {c->in[0], cst_i64(c, "pads", p, np),
		                   cst_f32(c, "value", attr_float(c, "value", 0.0f))};
		if (!(n = emit(c, op, 3, in, 1, c->out)))
			return -1;
	}
	copy_str(c, n, "mode", "mode");
	return 0;
}

/* Squeeze, Unsqueeze, ReduceMean: `axes` moved from attribute to input at
 * opset `since`. */
static int tr_axes_op(fe_onnx_ctx *c, ir_op op, int64_t since, bool axes_required)
{
	ir_node *n;
	if (c->opset >= since) {
		if (arity(c, axes_required ? 2 : 1, 2, 1, 1))
			return -1;
		if (!(n = emit_same(c, op)))
			return -1;
	} else {
		if (arity(c, 1, 1, 1, 1))
			return -1;
		const int64_t *ax;
		int na = attr_ints(c, "axes", &ax);
		if (na < 0 && axes_required) {
			diag_error(c->d, c->loc, "missing required attribute 'axes'");
			return -1;
		}
		ir_value *in[2] = {c->in[0], na >= 0 ? cst_i64(c, "axes", ax, na) : NULL};
		if (!(n = emit(c, op, na >= 0 ? 2 : 1, in, 1, c->out)))
			return -1;
	}
	if (op != IR_OP_SQUEEZE && op != IR_OP_UNSQUEEZE) { /* the reductions */
		copy_int(c, n, "keepdims", "keepdims");
		if (c->opset >= since)
			copy_int(c, n, "noop_with_empty_axes", "noop_with_empty_axes");
	}
	return 0;
}

static int tr_squeeze(fe_onnx_ctx *c, ir_op op)
{
	return tr_axes_op(c, op, 13, false);
}

static int tr_unsqueeze(fe_onnx_ctx *c, ir_op op)
{
	return tr_axes_op(c, op, 13, true);
}

static int tr_reduce_mean(fe_onnx_ctx *c, ir_op op)
{
	return tr_axes_op(c, op, 18, false);
}

/* ReduceSum took its axes as an input from opset 13, the others from 18. */
static int tr_reduce_sum(fe_onnx_ctx *c, ir_op op)
{
	return tr_axes_op(c, op, 13, false);
}

static int tr_dropout(fe_onnx_ctx *c, ir_op op)
{
	if (c->opset >= 12) {
		if (arity(c, 1, 3, 1, 2))
			return -1;
		attr_ignore(c, "seed"); /* randomness only matters in training */
		return emit_same(c, op) ? 0 : -1;
	}
	if (arity(c, 1, 1, 1, 2))
		return -1;
	if (c->opset < 10 && c->nout > 1 && c->out[1]) {
		diag_error(c->d, c->loc, "the mask output of Dropout before opset 10 (typed like the input) is not supported");
		return -1;
	}
	if (c->opset < 7)
		attr_ignore(c, "is_test"); /* qgtc always runs inference */
	const Onnx__AttributeProto *r = attr(c, "ratio", AT_FLOAT);
	ir_value *in[2] = {c->in[0], r ? cst_f32(c, "ratio", r->f) : NULL};
	return emit(c, op, r ? 2 : 1, in, c->nout, c->out) ? 0 : -1;
}

static int tr_shape(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 1, 1, 1, 1))
		return -1;
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	if (c->opset >= 15) {
		copy_int(c, n, "start", "start");
		copy_int(c, n, "end", "end");
	}
	return 0;
}

static int tr_slice(fe_onnx_ctx *c, ir_op op)
{
	if (c->opset >= 10) {
		if (arity(c, 3, 5, 1, 1))
			return -1;
		return emit_same(c, op) ? 0 : -1;
	}
	if (arity(c, 1, 1, 1, 1))
		return -1;
	const int64_t *st, *en, *ax;
	int ns = attr_ints(c, "starts", &st), ne = attr_ints(c, "ends", &en);
	int na = attr_ints(c, "axes", &ax);
	if (ns < 0 || ne < 0) {
		diag_error(c->d, c->loc, "missing required attribute '%s'", ns < 0 ? "starts" : "ends");
		return -1;
	}
	ir_value *in[4] = {c->in[0], cst_i64(c, "starts", st, ns), cst_i64(c, "ends", en, ne),
	                   na >= 0 ? cst_i64(c, "axes", ax, na) : NULL};
	return emit(c, op, na >= 0 ? 4 : 3, in, 1, c->out) ? 0 : -1;
}

/* Upsample (7..9) and Resize-10 both scale with output = floor(in *
 * scale) and sample at x_in = x_out / scale: the IR's asymmetric
 * transform, with floor rounding for nearest (as ONNX's own Resize 10->11
 * version converter does). */
static int legacy_resize(fe_onnx_ctx *c, ir_op op, ir_value *scales)
{
	const char *mode = attr_str(c, "mode", "nearest");
	if (!scales) {
		diag_error(c->d, c->loc, "required input 'scales' is missing");
		return -1;
	}
	if (strcmp(mode, "bilinear") == 0)
		mode = "linear";
	if (strcmp(mode, "nearest") != 0 && strcmp(mode, "linear") != 0) {
		diag_error(c->d, c->loc, "unsupported mode '%s'", mode);
		return -1;
	}
	ir_value *in[3] = {c->in[0], NULL, scales};
	ir_node *n = emit(c, op, 3, in, 1, c->out);
	if (!n)
		return -1;
	ir_node_set_str(c->g, n, "mode", mode);
	ir_node_set_str(c->g, n, "coordinate_transformation_mode", "asymmetric");
	if (strcmp(mode, "nearest") == 0)
		ir_node_set_str(c->g, n, "nearest_mode", "floor");
	return 0;
}

static int tr_upsample(fe_onnx_ctx *c, ir_op op)
{
	if (c->opset >= 9) {
		if (arity(c, 2, 2, 1, 1))
			return -1;
		return legacy_resize(c, op, c->in[1]);
	}
	if (arity(c, 1, 1, 1, 1))
		return -1;
	const float *sc;
	int ns = attr_floats(c, "scales", &sc);
	if (ns < 0) {
		diag_error(c->d, c->loc, "missing required attribute 'scales'");
		return -1;
	}
	return legacy_resize(c, op, cst(c, "scales", IR_DT_F32, sc, ns, false));
}

static int tr_resize(fe_onnx_ctx *c, ir_op op)
{
	if (c->opset < 11) {
		if (arity(c, 2, 2, 1, 1))
			return -1;
		return legacy_resize(c, op, c->in[1]);
	}
	if (arity(c, c->opset >= 13 ? 1 : 3, 4, 1, 1))
		return -1;
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	copy_str(c, n, "mode", "mode");
	copy_str(c, n, "coordinate_transformation_mode", "coordinate_transformation_mode");
	copy_str(c, n, "nearest_mode", "nearest_mode");
	copy_float(c, n, "cubic_coeff_a", "cubic_coeff_a");
	copy_int(c, n, "exclude_outside", "exclude_outside");
	copy_float(c, n, "extrapolation_value", "extrapolation_value");
	if (c->opset >= 18) {
		copy_int(c, n, "antialias", "antialias");
		copy_ints(c, n, "axes", "axes");
		copy_str(c, n, "keep_aspect_ratio_policy", "keep_aspect_ratio_policy");
	}
	return 0;
}

static int tr_split(fe_onnx_ctx *c, ir_op op)
{
	ir_node *n;
	if (c->opset >= 13) {
		if (arity(c, 1, 2, 1, -1))
			return -1;
		if (!(n = emit_same(c, op)))
			return -1;
		if (c->opset >= 18)
			copy_int(c, n, "num_outputs", "num_outputs");
	} else {
		if (arity(c, 1, 1, 1, -1))
			return -1;
		const int64_t *sp;
		int ns = attr_ints(c, "split", &sp);
		ir_value *in[2] = {c->in[0], ns >= 0 ? cst_i64(c, "split", sp, ns) : NULL};
		if (!(n = emit(c, op, ns >= 0 ? 2 : 1, in, c->nout, c->out)))
			return -1;
	}
	ir_node_set_int(c->g, n, "axis", attr_int(c, "axis", 0, NULL));
	return 0;
}

static int tr_cast(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 1, 1, 1, 1))
		return -1;
	bool has;
	int64_t to = attr_int(c, "to", 0, &has);
	if (!has) {
		diag_error(c->d, c->loc, "missing required attribute 'to'");
		return -1;
	}
	ir_dtype dt = to >= INT32_MIN && to <= INT32_MAX ? fe_onnx_dtype((int32_t)to) : IR_DT_UNDEF;
	if (to >= INT32_MIN && to <= INT32_MAX && fe_onnx_wide_float((int32_t)to)) {
		fe_onnx_note_wide(c, "Cast", nz(c->np->name), (int32_t)to);
		dt = IR_DT_F32;
	}
	if (dt == IR_DT_UNDEF) {
		diag_error(c->d, c->loc, "cast to unsupported dtype '%s'",
		           fe_onnx_dtype_name(to >= 0 && to <= INT32_MAX ? (int32_t)to : -1));
		return -1;
	}
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	ir_node_set_str(c->g, n, "to", ir_dtype_name(dt));
	if (c->opset >= 19)
		copy_int(c, n, "saturate", "saturate");
	return 0;
}

/* ConstantOfShape: the one-element `value` tensor becomes a float value
 * and a dtype name; values a float cannot hold exactly are refused. */
static int tr_constant_of_shape(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 1, 1, 1, 1))
		return -1;
	const Onnx__AttributeProto *a = attr(c, "value", AT_TENSOR);
	double v = 0;
	ir_dtype dt = IR_DT_F32;
	if (a && a->t) {
		ir_tensor t = {0};
		if (fe_onnx_tensor(a->t, c->loc, "attribute 'value'", NULL, &t, c->d))
			return -1;
		int64_t cnt = ir_shape_numel(&t.shape);
		if (cnt != 1) {
			diag_error(c->d, c->loc, "attribute 'value' must hold one element, not %lld",
			           (long long)cnt);
			ir_tensor_free(&t);
			return -1;
		}
		dt = t.dt;
		switch (dt) {
		case IR_DT_F32: v = *(float *)t.data; break;
		case IR_DT_I8: v = *(int8_t *)t.data; break;
		case IR_DT_U8: case IR_DT_BOOL: v = *(uint8_t *)t.data; break;
		case IR_DT_I32: v = *(int32_t *)t.data; break;
		case IR_DT_I64: v = (double)*(int64_t *)t.data; break;
		default: break;
		}
		bool exact = dt == IR_DT_I64 ? (double)(float)v == v && (int64_t)(float)v == *(int64_t *)t.data
		                             : (double)(float)v == v || dt == IR_DT_F32;
		ir_tensor_free(&t);
		if (!exact) {
			diag_error(c->d, c->loc, "value %.17g is not supported (not exact in float32)", v);
			return -1;
		}
	}
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	ir_node_set_float(c->g, n, "value", (float)v);
	ir_node_set_str(c->g, n, "dtype", ir_dtype_name(dt));
	return 0;
}


/* ------------------------------------------------- quantized ONNX */

/* Scales must be f32 tensors (float16, bfloat16 and double ones arrive
 * widened to f32: fe_onnx_tensor). */
static int q_scale_ok(fe_onnx_ctx *c, const ir_value *s, const char *what)
{
	if (s && s->dt != IR_DT_F32) {
		diag_error(c->d, c->loc, "%s '%s' is %s; only float32 scales are supported", what,
		           s->name, ir_dtype_name(s->dt));
		return -1;
	}
	return 0;
}

/* block_size (opset 21): 0, or blocked quantization along axis (the
 * scale and zero point checked against the input by shape inference). */
static int q_block_size(fe_onnx_ctx *c, int64_t *bs)
{
	*bs = attr_int(c, "block_size", 0, NULL);
	if (*bs < 0) {
		diag_error(c->d, c->loc, "block_size is %lld; it must be 0 or positive", (long long)*bs);
		return -1;
	}
	return 0;
}

/* QuantizeLinear / DequantizeLinear: the boundary ops, operands as is;
 * axis made explicit (1 by default, as ONNX).  A quantize to int4, uint4,
 * int2 or uint2 (its zero point's type, or output_dtype) is one to i8/u8
 * saturating at that many bits. */
static int tr_qdq(fe_onnx_ctx *c, ir_op op)
{
	int64_t bs;
	if (arity(c, 2, 3, 1, 1) || q_scale_ok(c, c->in[1], "scale") || q_block_size(c, &bs))
		return -1;
	int64_t axis = attr_int(c, "axis", 1, NULL);
	ir_dtype dt = IR_DT_UNDEF;
	int bits = 0;
	if (op == IR_OP_QUANTIZE) {
		attr_ignore(c, "saturate"); /* float8 outputs only */
		bool has;
		int64_t to = attr_int(c, "output_dtype", 0, &has);
		const char *toname = fe_onnx_dtype_name(to <= INT32_MAX ? (int32_t)to : -1);
		if (has && to != 0) {
			dt = to <= INT32_MAX ? fe_onnx_dtype_bits((int32_t)to, &bits) : IR_DT_UNDEF;
			if (!ir_dtype_is_qint(dt)) {
				diag_error(c->d, c->loc, "quantizing to %s is not supported (int8, uint8, "
				           "int16, uint16, int4, uint4, int2, uint2)", toname);
				return -1;
			}
		}
		/* a zero point typed already (an initializer, graph input or
		 * Constant) has its ONNX type's width recorded */
		const ir_value *z = c->nin > 2 ? c->in[2] : NULL;
		if (z && z->dt != IR_DT_UNDEF) {
			int zb = fe_onnx_bits(c, z);
			if (dt != IR_DT_UNDEF && (z->dt != dt || zb != bits)) {
				diag_error(c->d, c->loc, "output_dtype %s does not match the zero point '%s'",
				           toname, z->name);
				return -1;
			}
			bits = zb;
		}
	} else {
		bool has;
		int64_t to = attr_int(c, "output_dtype", 0, &has);
		if (has && to != 0 && to != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
			diag_error(c->d, c->loc, "dequantizing to %s is not supported (float32)",
			           fe_onnx_dtype_name(to <= INT32_MAX ? (int32_t)to : -1));
			return -1;
		}
	}
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	ir_node_set_int(c->g, n, "axis", axis);
	if (bs)
		ir_node_set_int(c->g, n, "block_size", bs);
	if (dt != IR_DT_UNDEF)
		ir_node_set_str(c->g, n, "dtype", ir_dtype_name(dt));
	if (bits)
		ir_node_set_int(c->g, n, "bits", bits);
	if (c->out[0] && fe_onnx_set_bits(c, c->out[0], bits)) {
		diag_error(c->d, c->loc, "out of memory");
		return -1;
	}
	return 0;
}

/* dequantize(q, s, z) {axis} into a fresh value. */
static ir_value *q_dq(fe_onnx_ctx *c, const char *sfx, ir_value *q, ir_value *s, ir_value *z,
                      int64_t axis)
{
	ir_value *y = tmp(c, sfx);
	ir_value *in[3] = {q, s, z};
	ir_node *n = y ? emit(c, IR_OP_DEQUANTIZE, z ? 3 : 2, in, 1, &y) : NULL;
	if (!n)
		return NULL;
	ir_node_set_int(c->g, n, "axis", axis);
	return y;
}

/* A scale of ones shaped like zero point z (1-D) or a scalar one: the
 * "scale" of ConvInteger/MatMulInteger, whose outputs are accumulators. */
static ir_value *q_ones(fe_onnx_ctx *c, const char *sfx, const ir_value *z)
{
	if (!z || z->shape.rank != 1 || z->shape.d[0] <= 1)
		return cst_f32(c, sfx, 1.0f);
	int64_t k = z->shape.d[0];
	if (k > (1 << 20))
		return NULL;
	float ones[k];
	for (int64_t i = 0; i < k; i++)
		ones[i] = 1.0f;
	return cst(c, sfx, IR_DT_F32, ones, (int)k, false);
}

/* DynamicQuantizeLinear (what ONNX Runtime's quantize_dynamic puts before
 * MatMulInteger and ConvInteger): uint8 with the scale and zero point of
 * x's own range, computed at run time, in ONNX's steps:
 *   scale = (max(0, max x) - min(0, min x)) / 255,
 *   zp = round_half_even(clip(0 - min(0, min x) / scale, 0, 255)),
 *   y = QuantizeLinear(x, scale, zp). */
static int tr_dyn_quantize(fe_onnx_ctx *c, ir_op op)
{
	(void)op;
	if (arity(c, 1, 1, 1, 3))
		return -1;
	ir_value *x = c->in[0];
	ir_value *rmin = tmp(c, "min"), *rmax = tmp(c, "max"), *lo = tmp(c, "lo"), *hi = tmp(c, "hi");
	ir_value *rng = tmp(c, "range"), *t = tmp(c, "t"), *nt = tmp(c, "negt"), *ct = tmp(c, "clipped");
	ir_value *rt = tmp(c, "rounded");
	ir_value *scale = c->nout > 1 && c->out[1] ? c->out[1] : tmp(c, "scale");
	ir_value *zp = c->nout > 2 && c->out[2] ? c->out[2] : tmp(c, "zero_point");
	ir_value *zero = cst_f32(c, "zero", 0.0f), *qmax = cst_f32(c, "qmax", 255.0f);
	if (!rmin || !rmax || !lo || !hi || !rng || !t || !nt || !ct || !rt || !scale || !zp || !zero || !qmax)
		return -1;
	ir_node *k[12];
	int nk = 0;
	k[nk++] = emit(c, IR_OP_REDUCE_MIN, 1, &x, 1, &rmin);
	k[nk++] = emit(c, IR_OP_REDUCE_MAX, 1, &x, 1, &rmax);
	k[nk++] = emit(c, IR_OP_MIN, 2, (ir_value *[]){rmin, zero}, 1, &lo);
	k[nk++] = emit(c, IR_OP_MAX, 2, (ir_value *[]){rmax, zero}, 1, &hi);
	k[nk++] = emit(c, IR_OP_SUB, 2, (ir_value *[]){hi, lo}, 1, &rng);
	k[nk++] = emit(c, IR_OP_DIV, 2, (ir_value *[]){rng, qmax}, 1, &scale);
	k[nk++] = emit(c, IR_OP_DIV, 2, (ir_value *[]){lo, scale}, 1, &t);
	k[nk++] = emit(c, IR_OP_NEG, 1, &t, 1, &nt);
	k[nk++] = emit(c, IR_OP_CLIP, 3, (ir_value *[]){nt, zero, qmax}, 1, &ct);
	k[nk++] = emit(c, IR_OP_ROUND, 1, &ct, 1, &rt);
	k[nk++] = emit(c, IR_OP_CAST, 1, &rt, 1, &zp);
	k[nk++] = emit(c, IR_OP_QUANTIZE, 3, (ir_value *[]){x, scale, zp}, 1, c->out);
	for (int i = 0; i < nk; i++)
		if (!k[i])
			return -1;
	ir_node_set_int(c->g, k[0], "keepdims", 0);
	ir_node_set_int(c->g, k[1], "keepdims", 0);
	ir_node_set_str(c->g, k[10], "to", "u8");
	ir_node_set_int(c->g, k[11], "axis", 1);
	ir_node_set_str(c->g, k[11], "dtype", "u8");
	return 0;
}

/* LSTM, GRU and RNN with ONNX's default activations (RNN: Relu too, one
 * for every direction, as torch's nn.RNN(nonlinearity='relu') exports),
 * no clip, no peepholes, and sequence_lens absent or a constant full
 * length (dropped). */
static int tr_rnn(fe_onnx_ctx *c, ir_op op)
{
	bool lstm = op == IR_OP_LSTM, rnn = op == IR_OP_RNN;
	if (arity(c, 3, lstm ? 8 : 6, 0, lstm ? 3 : 2))
		return -1;
	const char *name = lstm ? "LSTM" : rnn ? "RNN" : "GRU";
	if (lstm && c->nin > 7 && c->in[7]) {
		diag_error(c->d, c->loc, "LSTM with peepholes (input P) is not supported");
		return -1;
	}
	const Onnx__AttributeProto *a = attr(c, "activations", AT_STRINGS);
	bool relu = false;
	if (a) {
		static const char *const dflt[3] = {"Sigmoid", "Tanh", "Tanh"};
		size_t per = lstm ? 3 : rnn ? 1 : 2;
		for (size_t i = 0; i < a->n_strings; i++) {
			const char *want = rnn ? "Tanh" : dflt[i % per];
			const ProtobufCBinaryData *s = &a->strings[i];
			bool r = rnn && s->len == 4 && memcmp(s->data, "Relu", 4) == 0;
			if (rnn && i > 0 && r != relu) {
				diag_error(c->d, c->loc, "RNN with a different activation per direction is not supported");
				return -1;
			}
			relu = r;
			if (!r && (s->len != strlen(want) || memcmp(s->data, want, strlen(want)))) {
				diag_error(c->d, c->loc, "%s activation %zu is '%.*s'; only the defaults (%s) are supported",
				           name, i, (int)s->len, (const char *)s->data,
				           lstm ? "Sigmoid, Tanh, Tanh" : rnn ? "Tanh, or Relu" : "Sigmoid, Tanh");
				return -1;
			}
		}
		attr_ignore(c, "activation_alpha");
		attr_ignore(c, "activation_beta");
	}
	bool has;
	attr_float(c, "clip", 0);
	if (attr(c, "clip", AT_FLOAT)) {
		diag_error(c->d, c->loc, "%s with clip is not supported", name);
		return -1;
	}
	if (lstm && attr_int(c, "input_forget", 0, NULL)) {
		diag_error(c->d, c->loc, "LSTM with input_forget is not supported");
		return -1;
	}
	int64_t hs = attr_int(c, "hidden_size", 0, &has);
	if (!has) {
		diag_error(c->d, c->loc, "missing required attribute 'hidden_size'");
		return -1;
	}
	ir_value *in[8] = {0};
	int nin = c->nin < 8 ? c->nin : 8;
	for (int k = 0; k < nin; k++)
		in[k] = c->in[k];
	if (nin > 4 && in[4]) {
		/* full-length sequence_lens (what exporters write) says nothing */
		const ir_value *sl = in[4], *x = in[0];
		int64_t lens[64];
		int cnt = sl->kind == IR_VAL_CONST ? ir_const_ints(sl, lens, 64) : -1;
		int64_t T = x->shape.rank == 3 ? x->shape.d[attr_int(c, "layout", 0, NULL) ? 1 : 0] : -1;
		bool full = cnt > 0 && T > 0;
		for (int i = 0; i < cnt && full; i++)
			full = lens[i] == T;
		if (!full) {
			diag_error(c->d, c->loc, "%s with sequence_lens is not supported (only every sequence at its full, known length)", name);
			return -1;
		}
		in[4] = NULL;
	}
	/* Y unnamed (only Y_h or Y_c used): a value of its own, which dce drops */
	if (c->nout > 0 && !c->out[0] && !(c->out[0] = tmp(c, "Y")))
		return -1;
	ir_node *n = emit(c, op, nin, in, c->nout, c->out);
	if (!n)
		return -1;
	ir_node_set_int(c->g, n, "hidden_size", hs);
	copy_str(c, n, "direction", "direction");
	copy_int(c, n, "layout", "layout");
	if (op == IR_OP_GRU)
		copy_int(c, n, "linear_before_reset", "linear_before_reset");
	if (relu)
		ir_node_set_str(c->g, n, "activation", "relu");
	return 0;
}

/* TopK: K an input from opset 10 (before, attribute k); largest and
 * sorted from 11. */
static int tr_topk(fe_onnx_ctx *c, ir_op op)
{
	bool old = c->opset < 10;
	if (arity(c, old ? 1 : 2, old ? 1 : 2, 2, 2))
		return -1;
	ir_value *in[2] = {c->in[0], old ? NULL : c->in[1]};
	if (old) {
		bool has;
		int64_t k = attr_int(c, "k", 0, &has);
		if (!has) {
			diag_error(c->d, c->loc, "missing required attribute 'k'");
			return -1;
		}
		if (!(in[1] = cst_i64(c, "k", &k, 1)))
			return -1;
	}
	ir_value *out[2] = {c->out[0], c->out[1]};
	for (int j = 0; j < 2; j++) /* an unnamed output: a value of its own, which dce drops */
		if (!out[j] && !(out[j] = tmp(c, j ? "indices" : "values")))
			return -1;
	ir_node *n = emit(c, op, 2, in, 2, out);
	if (!n)
		return -1;
	ir_node_set_int(c->g, n, "axis", attr_int(c, "axis", -1, NULL));
	if (c->opset >= 11) {
		ir_node_set_int(c->g, n, "largest", attr_int(c, "largest", 1, NULL));
		ir_node_set_int(c->g, n, "sorted", attr_int(c, "sorted", 1, NULL));
	}
	return 0;
}

/* Einsum: the equation as is (ir/k_einsum.c resolves it). */
static int tr_einsum(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 1, IR_EINSUM_MAX_OPS, 1, 1))
		return -1;
	const char *eq = attr_str(c, "equation", NULL);
	if (!eq) {
		diag_error(c->d, c->loc, "missing required attribute 'equation'");
		return -1;
	}
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	ir_node_set_str(c->g, n, "equation", eq);
	return 0;
}

static int tr_arg(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 1, 1, 1, 1))
		return -1;
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	copy_int(c, n, "axis", "axis");
	copy_int(c, n, "keepdims", "keepdims");
	copy_int(c, n, "select_last_index", "select_last_index");
	return 0;
}

static int tr_cumsum(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 2, 2, 1, 1))
		return -1;
	ir_node *n = emit_same(c, op);
	if (!n)
		return -1;
	copy_int(c, n, "exclusive", "exclusive");
	copy_int(c, n, "reverse", "reverse");
	return 0;
}

/* The conv attributes of the node onto n (tr_conv's set). */
static void q_conv_attrs(fe_onnx_ctx *c, ir_node *n)
{
	attr_ignore(c, "kernel_shape"); /* restates W's dims; inference checks W */
	copy_ints(c, n, "strides", "strides");
	copy_ints(c, n, "pads", "pads");
	copy_ints(c, n, "dilations", "dilations");
	copy_int(c, n, "group", "group");
	copy_str(c, n, "auto_pad", "auto_pad");
}

/* QLinearConv and QLinearMatMul as dequantize -> float op -> quantize,
 * which fold-qdq turns into the integer op; the i32 bias of QLinearConv
 * dequantizes at scale x_scale * w_scale. */
static int tr_qlinear(fe_onnx_ctx *c, ir_op op)
{
	bool conv = op == IR_OP_CONV;
	if (arity(c, 8, conv ? 9 : 8, 1, 1))
		return -1;
	ir_value **in = c->in;
	static const int scales[3] = {1, 4, 6};
	for (int k = 0; k < 3; k++)
		if (q_scale_ok(c, in[scales[k]], "scale"))
			return -1;
	int64_t waxis = conv ? 0 : -1;
	ir_value *dx = q_dq(c, "x.dq", in[0], in[1], in[2], 1);
	ir_value *dw = dx ? q_dq(c, "w.dq", in[3], in[4], in[5], waxis) : NULL;
	if (!dw)
		return -1;
	ir_value *db = NULL;
	if (conv && c->nin > 8 && in[8]) {
		ir_value *bs = tmp(c, "b.scale");
		ir_value *mi[2] = {in[1], in[4]};
		if (!bs || !emit(c, IR_OP_MUL, 2, mi, 1, &bs) ||
		    !(db = q_dq(c, "b.dq", in[8], bs, NULL, 0)))
			return -1;
	}
	ir_value *y = tmp(c, "y.f32");
	ir_value *opin[3] = {dx, dw, db};
	ir_node *n = y ? emit(c, op, db ? 3 : 2, opin, 1, &y) : NULL;
	if (!n)
		return -1;
	if (conv)
		q_conv_attrs(c, n);
	ir_value *qin[3] = {y, in[6], in[7]};
	ir_node *q = emit(c, IR_OP_QUANTIZE, 3, qin, 1, c->out);
	if (!q)
		return -1;
	ir_node_set_int(c->g, q, "axis", 1);
	return 0;
}

static int tr_integer(fe_onnx_ctx *c, ir_op op);
static int with_io(fe_onnx_ctx *c, tr_fn fn, ir_op op, int nin, ir_value **in, int nout, ir_value **out);

/* MatMulInteger of constant weights w [K, N] (zero point zw constant or
 * none) and a per-tensor zero point zx computed at run time (what
 * DynamicQuantizeLinear gives): MatMulInteger(x, w, none, zw) - zx *
 * colsum(w - zw), exact in int32, the product an integer matmul.  1 done,
 * 0 not this form, -1 error. */
static int mmi_dynamic(fe_onnx_ctx *c, ir_value *zx, ir_value *zw)
{
	ir_value *x = c->in[0], *w = c->in[1];
	/* a scalar zx: known so, or DynamicQuantizeLinear's (its shape comes later) */
	bool scalar = zx && (zx->shape.rank == 0 || ir_shape_numel(&zx->shape) == 1 ||
	                     (zx->producer && zx->producer->src_op &&
	                      strcmp(zx->producer->src_op, "DynamicQuantizeLinear") == 0));
	if (!zx || zx->kind == IR_VAL_CONST || !scalar ||
	    !w || w->kind != IR_VAL_CONST || !w->data || w->shape.rank != 2 || w->shape.d[0] > 32768 ||
	    (w->dt != IR_DT_I8 && w->dt != IR_DT_U8) || (zw && (zw->kind != IR_VAL_CONST || !zw->data)))
		return 0;
	int64_t k = w->shape.d[0], n = w->shape.d[1], nz = zw ? ir_shape_numel(&zw->shape) : 0;
	if (n < 1 || n > (1 << 20) || (zw && nz != 1 && nz != n))
		return 0;
	int32_t *cs = ir_arena_alloc(c->g->arena, sizeof *cs * (size_t)n);
	if (!cs) {
		diag_error(c->d, c->loc, "out of memory");
		return -1;
	}
	for (int64_t j = 0; j < n; j++) {
		int64_t z = zw ? (int64_t)ir_elem_get(zw->data, zw->dt, nz == 1 ? 0 : j) : 0, sum = 0;
		for (int64_t i = 0; i < k; i++)
			sum += (int64_t)ir_elem_get(w->data, w->dt, i * n + j) - z;
		cs[j] = (int32_t)sum; /* |sum| <= 32768 * 255 */
	}
	ir_value *y1 = tmp(c, "x.w"), *z32 = tmp(c, "zx.i32"), *t = tmp(c, "zx.colsum");
	ir_value *csv = cst(c, "colsum", IR_DT_I32, cs, (int)n, false);
	ir_value *in[4] = {x, w, NULL, zw};
	if (!y1 || !z32 || !t || !csv || with_io(c, tr_integer, IR_OP_MATMUL, zw ? 4 : 2, in, 1, &y1))
		return -1;
	ir_node *k32 = emit(c, IR_OP_CAST, 1, &zx, 1, &z32);
	if (!k32)
		return -1;
	ir_node_set_str(c->g, k32, "to", "i32");
	ir_value *min[2] = {z32, csv}, *sin[2] = {y1, t};
	return emit(c, IR_OP_MUL, 2, min, 1, &t) && emit(c, IR_OP_SUB, 2, sin, 1, c->out) ? 1 : -1;
}

/* ConvInteger and MatMulInteger: the i32 accumulator of (x - zx)(w - zw),
 * spelled dequantize(scale 1) -> float op -> cast(i32) for fold-qdq. */
static int tr_integer(fe_onnx_ctx *c, ir_op op)
{
	bool conv = op == IR_OP_CONV;
	if (arity(c, 2, 4, 1, 1))
		return -1;
	ir_value *zx = c->nin > 2 ? c->in[2] : NULL, *zw = c->nin > 3 ? c->in[3] : NULL;
	int dyn = conv ? 0 : mmi_dynamic(c, zx, zw);
	if (dyn)
		return dyn > 0 ? 0 : -1;
	/* A zero point computed at run time (DynamicQuantizeLinear's), but
	 * for mmi_dynamic's form, keeps the op in float32 (fold-qdq folds
	 * constant ones only), whose sums are exact below 2^24: say so where
	 * K terms of up to 255 * 255 may pass it. */
	const ir_value *w = c->in[1];
	if (((zx && zx->kind != IR_VAL_CONST) || (zw && zw->kind != IR_VAL_CONST)) && w && w->shape.rank >= 2) {
		int64_t k = 1;
		for (int i = conv ? 1 : w->shape.rank - 2; i < (conv ? w->shape.rank : w->shape.rank - 1); i++)
			k *= w->shape.d[i] > 0 ? w->shape.d[i] : 1;
		if (k * 255 * 255 >= ((int64_t)1 << 24))
			diag_warn(c->d, c->loc, "a zero point computed at run time keeps this op in float32, "
			          "whose sums of %lld products are exact only below 2^24: the int32 result may be "
			          "off by a few units", (long long)k);
	}
	ir_value *sx = q_ones(c, "x.one", zx), *sw = q_ones(c, "w.one", zw);
	if (!sx || !sw)
		return -1;
	ir_value *dx = q_dq(c, "x.dq", c->in[0], sx, zx, conv ? 1 : 0);
	ir_value *dw = dx ? q_dq(c, "w.dq", c->in[1], sw, zw, conv ? 0 : -1) : NULL;
	ir_value *y = dw ? tmp(c, "y.f32") : NULL;
	ir_value *opin[2] = {dx, dw};
	ir_node *n = y ? emit(c, op, 2, opin, 1, &y) : NULL;
	if (!n)
		return -1;
	if (conv)
		q_conv_attrs(c, n);
	ir_node *k = emit(c, IR_OP_CAST, 1, &y, 1, c->out);
	if (!k)
		return -1;
	ir_node_set_str(c->g, k, "to", "i32");
	return 0;
}

/* ------------------------------------- ONNX Runtime's QOperator ops */

/* com.microsoft's QLinear* ops, which ONNX Runtime's quantize_static
 * writes in its QOperator format: each is dequantize -> the float op ->
 * quantize, which fold-qdq then turns into integer code as for a QDQ
 * model.  An output zero point is required (it gives the output type). */

/* Run translator fn for op on other inputs and outputs than the node's. */
static int with_io(fe_onnx_ctx *c, tr_fn fn, ir_op op, int nin, ir_value **in, int nout, ir_value **out)
{
	ir_value **si = c->in, **so = c->out;
	int sni = c->nin, sno = c->nout;
	c->in = in, c->nin = nin, c->out = out, c->nout = nout;
	int rc = fn(c, op);
	c->in = si, c->nin = sni, c->out = so, c->nout = sno;
	return rc;
}

/* quantize(x, s, z) into y. */
static int q_into(fe_onnx_ctx *c, ir_value *x, ir_value *s, ir_value *z, ir_value *y)
{
	if (!z) {
		diag_error(c->d, c->loc, "%s without an output zero point is not supported", nz(c->np->op_type));
		return -1;
	}
	ir_value *in[3] = {x, s, z};
	ir_node *n = x ? emit(c, IR_OP_QUANTIZE, 3, in, 1, &y) : NULL;
	if (!n)
		return -1;
	ir_node_set_int(c->g, n, "axis", 1);
	return 0;
}

static ir_value *in_at(fe_onnx_ctx *c, int k)
{
	return k < c->nin ? c->in[k] : NULL;
}

/* One channels_last attribute: only 0 (NCHW). */
static int ms_nchw(fe_onnx_ctx *c)
{
	if (attr_int(c, "channels_last", 0, NULL)) {
		diag_error(c->d, c->loc, "%s with channels_last is not supported", nz(c->np->op_type));
		return -1;
	}
	return 0;
}

/* QLinearAdd, QLinearMul: A, As, Az, B, Bs, Bz, Cs, Cz. */
static int ms_binary(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 7, 8, 1, 1))
		return -1;
	/* per-tensor scales, and one type T for A, B and C (where known here) */
	static const char *const sname[3] = {"A_scale", "B_scale", "C_scale"};
	const ir_value *sc[3] = {c->in[1], c->in[4], c->in[6]};
	for (int i = 0; i < 3; i++)
		if (sc[i] && ir_shape_numel(&sc[i]->shape) > 1) {
			char b[96];
			diag_error(c->d, c->loc, "%s '%s' is %s; %s takes per-tensor scales", sname[i], sc[i]->name,
			           ir_shape_str(&sc[i]->shape, b, sizeof b), nz(c->np->op_type));
			return -1;
		}
	const ir_value *t[5] = {c->in[0], c->in[3], c->in[2], c->in[5], in_at(c, 7)};
	for (int i = 1; i < 5; i++)
		for (int j = 0; j < i; j++)
			if (t[i] && t[j] && t[i]->dt != IR_DT_UNDEF && t[j]->dt != IR_DT_UNDEF && t[i]->dt != t[j]->dt) {
				diag_error(c->d, c->loc, "'%s' is %s and '%s' %s; %s takes one type for A, B and C",
				           t[j]->name, ir_dtype_name(t[j]->dt), t[i]->name, ir_dtype_name(t[i]->dt),
				           nz(c->np->op_type));
				return -1;
			}
	ir_value *a = q_dq(c, "a.dq", c->in[0], c->in[1], c->in[2], 1);
	ir_value *b = a ? q_dq(c, "b.dq", c->in[3], c->in[4], c->in[5], 1) : NULL;
	ir_value *y = b ? tmp(c, "f32") : NULL, *in[2] = {a, b};
	if (!y || !emit(c, op, 2, in, 1, &y))
		return -1;
	return q_into(c, y, c->in[6], in_at(c, 7), c->out[0]);
}

/* QLinearSigmoid, QLinearLeakyRelu, QLinearGlobalAveragePool,
 * QLinearAveragePool, QLinearSoftmax: X, Xs, Xz, Ys, Yz and the float
 * op's attributes. */
static int ms_unary(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 4, 5, 1, 1))
		return -1;
	const char *t = nz(c->np->op_type);
	if ((op == IR_OP_GLOBAL_AVG_POOL || op == IR_OP_AVG_POOL) && ms_nchw(c))
		return -1;
	ir_value *x = q_dq(c, "x.dq", c->in[0], c->in[1], c->in[2], 1);
	ir_value *y = x ? tmp(c, "f32") : NULL;
	if (!y)
		return -1;
	tr_fn fn = op == IR_OP_LEAKY_RELU ? tr_leaky_relu : op == IR_OP_AVG_POOL ? tr_pool
	           : op == IR_OP_SOFTMAX  ? tr_softmax
	                                  : tr_plain;
	int64_t sopset = c->opset;
	if (op == IR_OP_SOFTMAX) { /* its `opset` attribute: the Softmax semantics */
		bool has;
		int64_t v = attr_int(c, "opset", 0, &has);
		if (has)
			c->opset = v;
	}
	int rc = with_io(c, fn, op, 1, &x, 1, &y);
	c->opset = sopset;
	if (rc)
		return -1;
	(void)t;
	return q_into(c, y, c->in[3], in_at(c, 4), c->out[0]);
}

/* QLinearConcat: Ys, Yz, then (X, Xs, Xz) for each input; axis. */
static int ms_concat(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 5, -1, 1, 1))
		return -1;
	if ((c->nin - 2) % 3) {
		diag_error(c->d, c->loc, "has %d inputs; QLinearConcat takes Y_scale, Y_zero_point and triples (X, X_scale, X_zero_point)", c->nin);
		return -1;
	}
	int k = (c->nin - 2) / 3;
	ir_value **xs = ir_arena_alloc(c->g->arena, sizeof *xs * (size_t)k);
	if (!xs)
		return -1;
	for (int i = 0; i < k; i++)
		if (!(xs[i] = q_dq(c, "x.dq", c->in[2 + 3 * i], c->in[3 + 3 * i], c->in[4 + 3 * i], 1)))
			return -1;
	ir_value *y = tmp(c, "f32");
	if (!y || with_io(c, tr_concat, op, k, xs, 1, &y))
		return -1;
	return q_into(c, y, c->in[0], c->in[1], c->out[0]);
}

/* QGemm: A, As, Az, B, Bs, Bz, C?, Ys?, Yz?; alpha, transA, transB.  C is
 * the i32 bias at scale As*Bs; without Ys the output is float. */
static int ms_gemm(fe_onnx_ctx *c, ir_op op)
{
	if (arity(c, 6, 9, 1, 1))
		return -1;
	bool tb = attr_int(c, "transB", 0, NULL) != 0;
	ir_value *a = q_dq(c, "a.dq", c->in[0], c->in[1], c->in[2], 1);
	ir_value *b = a ? q_dq(c, "b.dq", c->in[3], c->in[4], c->in[5], tb ? 0 : 1) : NULL;
	if (!b)
		return -1;
	/* C is int32 at scale alpha * a_scale * b_scale (the schema's alpha /
	 * beta, QGemm having no beta): the sum alpha A B + C in float */
	ir_value *cb = NULL, *bc = in_at(c, 6);
	float alpha = attr_float(c, "alpha", 1.0f);
	if (bc) {
		ir_value *sab = tmp(c, "bias.scale"), *sin[2] = {c->in[1], c->in[4]};
		if (!sab || !emit(c, IR_OP_MUL, 2, sin, 1, &sab))
			return -1;
		if (alpha != 1.0f) {
			ir_value *sa = tmp(c, "bias.scale.alpha"), *ain[2] = {sab, cst_f32(c, "alpha", alpha)};
			if (!sa || !ain[1] || !emit(c, IR_OP_MUL, 2, ain, 1, &sa))
				return -1;
			sab = sa;
		}
		if (!(cb = q_dq(c, "c.dq", bc, sab, NULL, 0)))
			return -1;
	}
	ir_value *ys = in_at(c, 7);
	if (!ys && in_at(c, 8)) {
		diag_error(c->d, c->loc, "an output zero point without an output scale: give y_scale too, "
		           "or neither for a float output");
		return -1;
	}
	ir_value *y = ys ? tmp(c, "f32") : c->out[0], *in[3] = {a, b, cb};
	if (!y || with_io(c, tr_gemm, op, cb ? 3 : 2, in, 1, &y))
		return -1;
	return ys ? q_into(c, y, ys, in_at(c, 8), c->out[0]) : 0;
}


/* ------------------------------------------------------------- table */

static const struct onnx_op {
	const char *name;
	tr_fn tr;
	ir_op op;
	int since; /* first opset that has the op */
} onnx_ops[] = {
	{"Conv", tr_conv, IR_OP_CONV, 1},
	{"ConvTranspose", tr_conv, IR_OP_CONV_TRANSPOSE, 1},
	{"BatchNormalization", tr_batchnorm, IR_OP_BATCHNORM, 1},
	{"Relu", tr_plain, IR_OP_RELU, 1},
	{"LeakyRelu", tr_leaky_relu, IR_OP_LEAKY_RELU, 1},
	{"PRelu", tr_prelu, IR_OP_PRELU, 1},
	{"Clip", tr_clip, IR_OP_CLIP, 1},
	{"Sigmoid", tr_plain, IR_OP_SIGMOID, 1},
	{"Elu", tr_elu, IR_OP_ELU, 1},
	{"Softplus", tr_plain, IR_OP_SOFTPLUS, 1},
	{"Erf", tr_plain, IR_OP_ERF, 9},
	{"Tanh", tr_plain, IR_OP_TANH, 1},
	{"HardSigmoid", tr_hard_sigmoid, IR_OP_HARD_SIGMOID, 1},
	{"HardSwish", tr_plain, IR_OP_HARD_SWISH, 14},
	{"MaxPool", tr_pool, IR_OP_MAX_POOL, 1},
	{"AveragePool", tr_pool, IR_OP_AVG_POOL, 1},
	{"GlobalAveragePool", tr_plain, IR_OP_GLOBAL_AVG_POOL, 1},
	{"GlobalMaxPool", tr_plain, IR_OP_GLOBAL_MAX_POOL, 1},
	{"Gemm", tr_gemm, IR_OP_GEMM, 1},
	{"MatMul", tr_plain, IR_OP_MATMUL, 1},
	{"Add", tr_arith, IR_OP_ADD, 1},
	{"Sub", tr_arith, IR_OP_SUB, 1},
	{"Mul", tr_arith, IR_OP_MUL, 1},
	{"Div", tr_arith, IR_OP_DIV, 1},
	{"Concat", tr_concat, IR_OP_CONCAT, 1},
	{"Reshape", tr_reshape, IR_OP_RESHAPE, 5},
	{"Flatten", tr_flatten, IR_OP_FLATTEN, 1},
	{"Transpose", tr_transpose, IR_OP_TRANSPOSE, 1},
	{"Softmax", tr_softmax, IR_OP_SOFTMAX, 1},
	{"LogSoftmax", tr_softmax, IR_OP_LOG_SOFTMAX, 1},
	{"Pad", tr_pad, IR_OP_PAD, 1},
	{"Squeeze", tr_squeeze, IR_OP_SQUEEZE, 1},
	{"Unsqueeze", tr_unsqueeze, IR_OP_UNSQUEEZE, 1},
	{"Identity", tr_identity, IR_OP_IDENTITY, 1},
	{"ReduceMean", tr_reduce_mean, IR_OP_REDUCE_MEAN, 1},
	{"ReduceSum", tr_reduce_sum, IR_OP_REDUCE_SUM, 1},
	{"ReduceMax", tr_reduce_mean, IR_OP_REDUCE_MAX, 1},
	{"ReduceMin", tr_reduce_mean, IR_OP_REDUCE_MIN, 1},
	{"ReduceProd", tr_reduce_mean, IR_OP_REDUCE_PROD, 1},
	{"ReduceL1", tr_reduce_mean, IR_OP_REDUCE_L1, 1},
	{"ReduceL2", tr_reduce_mean, IR_OP_REDUCE_L2, 1},
	{"ReduceSumSquare", tr_reduce_mean, IR_OP_REDUCE_SUM_SQUARE, 1},
	{"ReduceLogSumExp", tr_reduce_mean, IR_OP_REDUCE_LOG_SUM_EXP, 1},
	{"Sqrt", tr_plain, IR_OP_SQRT, 1},
	{"Exp", tr_plain, IR_OP_EXP, 1},
	{"Log", tr_plain, IR_OP_LOG, 1},
	{"Abs", tr_plain, IR_OP_ABS, 1},
	{"Neg", tr_plain, IR_OP_NEG, 1},
	{"Reciprocal", tr_plain, IR_OP_RECIPROCAL, 1},
	{"Floor", tr_plain, IR_OP_FLOOR, 1},
	{"Ceil", tr_plain, IR_OP_CEIL, 1},
	{"Round", tr_plain, IR_OP_ROUND, 11},
	{"Sign", tr_plain, IR_OP_SIGN, 9},
	{"Selu", tr_selu, IR_OP_SELU, 1},
	{"Celu", tr_celu, IR_OP_CELU, 12},
	{"Softsign", tr_plain, IR_OP_SOFTSIGN, 1},
	{"Mish", tr_plain, IR_OP_MISH, 18},
	{"Gelu", tr_gelu, IR_OP_GELU, 20},
	{"Pow", tr_arith, IR_OP_POW, 1},
	{"Max", tr_variadic, IR_OP_MAX, 1},
	{"Min", tr_variadic, IR_OP_MIN, 1},
	{"Sum", tr_variadic, IR_OP_ADD, 1},
	{"Mean", tr_variadic, IR_OP_ADD, 1},
	{"LayerNormalization", tr_layer_norm, IR_OP_LAYER_NORM, 17},
	{"InstanceNormalization", tr_instance_norm, IR_OP_INSTANCE_NORM, 1},
	{"Expand", tr_plain, IR_OP_EXPAND, 8},
	{"Tile", tr_plain, IR_OP_TILE, 6},
	{"DepthToSpace", tr_depth_space, IR_OP_DEPTH_TO_SPACE, 1},
	{"SpaceToDepth", tr_depth_space, IR_OP_SPACE_TO_DEPTH, 1},
	{"Dropout", tr_dropout, IR_OP_DROPOUT, 1},
	{"Shape", tr_shape, IR_OP_SHAPE, 1},
	{"Gather", tr_gather, IR_OP_GATHER, 1},
	{"Slice", tr_slice, IR_OP_SLICE, 1},
	{"Resize", tr_resize, IR_OP_RESIZE, 10},
	{"Upsample", tr_upsample, IR_OP_RESIZE, 7},
	{"Split", tr_split, IR_OP_SPLIT, 1},
	{"Cast", tr_cast, IR_OP_CAST, 1},
	{"ConstantOfShape", tr_constant_of_shape, IR_OP_CONSTANT_OF_SHAPE, 9},
	{"QuantizeLinear", tr_qdq, IR_OP_QUANTIZE, 10},
	{"DequantizeLinear", tr_qdq, IR_OP_DEQUANTIZE, 10},
	{"QLinearConv", tr_qlinear, IR_OP_CONV, 10},
	{"QLinearMatMul", tr_qlinear, IR_OP_MATMUL, 10},
	{"ConvInteger", tr_integer, IR_OP_CONV, 10},
	{"DynamicQuantizeLinear", tr_dyn_quantize, IR_OP_QUANTIZE, 11},
	{"LSTM", tr_rnn, IR_OP_LSTM, 7},
	{"Equal", tr_arith, IR_OP_EQUAL, 1},
	{"Greater", tr_arith, IR_OP_GREATER, 1},
	{"Less", tr_arith, IR_OP_LESS, 1},
	{"GreaterOrEqual", tr_arith, IR_OP_GREATER_EQUAL, 12},
	{"LessOrEqual", tr_arith, IR_OP_LESS_EQUAL, 12},
	{"And", tr_arith, IR_OP_AND, 1},
	{"Or", tr_arith, IR_OP_OR, 1},
	{"Xor", tr_arith, IR_OP_XOR, 1},
	{"Not", tr_plain, IR_OP_NOT, 1},
	{"Where", tr_plain, IR_OP_WHERE, 9},
	{"ArgMax", tr_arg, IR_OP_ARG_MAX, 1},
	{"ArgMin", tr_arg, IR_OP_ARG_MIN, 1},
	{"CumSum", tr_cumsum, IR_OP_CUMSUM, 11},
	{"Sin", tr_plain, IR_OP_SIN, 7},
	{"Cos", tr_plain, IR_OP_COS, 7},
	{"Mod", tr_mod, IR_OP_MOD, 10},
	{"Hardmax", tr_hardmax, IR_OP_REDUCE_MAX, 1},
	{"ThresholdedRelu", tr_thresholds, IR_OP_WHERE, 10},
	{"Shrink", tr_thresholds, IR_OP_WHERE, 9},
	{"Size", tr_size, IR_OP_REDUCE_PROD, 1},
	{"MeanVarianceNormalization", tr_mvn, IR_OP_REDUCE_MEAN, 9},
	{"LRN", tr_lrn, IR_OP_AVG_POOL, 1},
	{"Asin", tr_plain, IR_OP_ASIN, 7},
	{"Acos", tr_plain, IR_OP_ACOS, 7},
	{"Atan", tr_plain, IR_OP_ATAN, 7},
	{"Sinh", tr_plain, IR_OP_SINH, 9},
	{"Cosh", tr_plain, IR_OP_COSH, 9},
	{"Asinh", tr_plain, IR_OP_ASINH, 9},
	{"Acosh", tr_plain, IR_OP_ACOSH, 9},
	{"Atanh", tr_plain, IR_OP_ATANH, 9},
	{"GRU", tr_rnn, IR_OP_GRU, 7},
	{"RNN", tr_rnn, IR_OP_RNN, 7},
	{"Einsum", tr_einsum, IR_OP_EINSUM, 12},
	{"Range", tr_plain, IR_OP_RANGE, 11},
	{"TopK", tr_topk, IR_OP_TOPK, 1},
	{"GatherElements", tr_gather, IR_OP_GATHER_ELEMENTS, 11},
	{"ScatterElements", tr_scatter, IR_OP_SCATTER_ELEMENTS, 11},
	{"GatherND", tr_nd, IR_OP_GATHER_ND, 11},
	{"ScatterND", tr_nd, IR_OP_SCATTER_ND, 11},
	{"Trilu", tr_trilu, IR_OP_TRILU, 14},
	{"OneHot", tr_one_hot, IR_OP_ONE_HOT, 9},
	{"IsNaN", tr_composed, IR_OP_EQUAL, 9},
	{"IsInf", tr_composed, IR_OP_EQUAL, 10},
	{"Tan", tr_composed, IR_OP_DIV, 7},
	{"Scatter", tr_scatter, IR_OP_SCATTER_ELEMENTS, 9},
	{"MatMulInteger", tr_integer, IR_OP_MATMUL, 10},
};

/* com.microsoft (above). */
static const struct onnx_op ms_ops[] = {
	{"QLinearAdd", ms_binary, IR_OP_ADD, 1},
	{"QLinearMul", ms_binary, IR_OP_MUL, 1},
	{"QLinearSigmoid", ms_unary, IR_OP_SIGMOID, 1},
	{"QLinearLeakyRelu", ms_unary, IR_OP_LEAKY_RELU, 1},
	{"QLinearGlobalAveragePool", ms_unary, IR_OP_GLOBAL_AVG_POOL, 1},
	{"QLinearAveragePool", ms_unary, IR_OP_AVG_POOL, 1},
	{"QLinearSoftmax", ms_unary, IR_OP_SOFTMAX, 1},
	{"QLinearConcat", ms_concat, IR_OP_CONCAT, 1},
	{"QGemm", ms_gemm, IR_OP_GEMM, 1},
};

/* Resolve the node's value names (pass 2: every definition exists). */
static int resolve(fe_onnx_ctx *c)
{
	const Onnx__NodeProto *np = c->np;
	ir_arena *a = c->g->arena;
	int rc = 0;
	c->nin = (int)np->n_input;
	while (c->nin > 0 && !*nz(np->input[c->nin - 1]))
		c->nin--;
	c->nout = (int)np->n_output;
	while (c->nout > 0 && !*nz(np->output[c->nout - 1]))
		c->nout--;
	c->in = ir_arena_alloc(a, sizeof *c->in * (size_t)(c->nin + 1));
	c->out = ir_arena_alloc(a, sizeof *c->out * (size_t)(c->nout + 1));
	if (!c->in || !c->out) {
		diag_error(c->d, c->loc, "out of memory");
		return -1;
	}
	for (int k = 0; k < c->nin; k++) {
		const char *name = nz(np->input[k]);
		if (!*name)
			continue;
		c->in[k] = ir_graph_find_value(c->g, name);
		if (!c->in[k]) {
			diag_error(c->d, c->loc, "input %d '%s' is an unknown value name (no node, initializer or graph input defines it)",
			           k, name);
			rc = -1;
		}
	}
	for (int k = 0; k < c->nout; k++) {
		const char *name = nz(np->output[k]);
		if (*name)
			c->out[k] = ir_graph_find_value(c->g, name);
		/* defined in pass 1; a duplicate was reported there */
		if (c->out[k] && (c->out[k]->producer || c->out[k]->kind != IR_VAL_ACT)) {
			rc = -1;
			c->out[k] = NULL;
		}
	}
	return rc;
}

int fe_onnx_node(fe_onnx_ctx *c)
{
	const Onnx__NodeProto *np = c->np;
	const char *op_type = nz(np->op_type);
	const char *dom = nz(np->domain);
	c->nerr0 = c->d->nerr;
	bool ms = strcmp(dom, "com.microsoft") == 0;
	if (*dom && strcmp(dom, "ai.onnx") != 0 && !ms) {
		diag_error(c->d, c->loc, "unsupported op '%s' from domain '%s'", op_type, dom);
		return -1;
	}
	const struct onnx_op *o = NULL;
	const struct onnx_op *tab = ms ? ms_ops : onnx_ops;
	size_t ntab = ms ? sizeof ms_ops / sizeof *ms_ops : sizeof onnx_ops / sizeof *onnx_ops;
	for (size_t i = 0; i < ntab; i++)
		if (strcmp(tab[i].name, op_type) == 0)
			o = &tab[i];
	if (!o) {
		if (ms)
			diag_error(c->d, c->loc, "unsupported op '%s' from domain 'com.microsoft' (qgtc takes its "
			           "QLinear* quantized ops and QGemm)", op_type);
		else
			diag_error(c->d, c->loc, "unsupported op '%s'", op_type);
		return -1;
	}
	if (c->opset < o->since) {
		diag_error(c->d, c->loc, "op '%s' does not exist in opset %lld", op_type,
		           (long long)c->opset);
		return -1;
	}
	if (np->n_attribute > 4096) {
		diag_error(c->d, c->loc, "has %zu attributes; that is not a real model", np->n_attribute);
		return -1;
	}
	if (resolve(c))
		return -1;
	unsigned char used[4097];
	memset(used, 0, np->n_attribute + 1);
	c->used = used;
	int rc = o->tr(c, o->op);
	if (rc == 0)
		for (size_t i = 0; i < np->n_attribute; i++) {
			const Onnx__AttributeProto *a = np->attribute[i];
			if (a->ref_attr_name && *a->ref_attr_name)
				diag_error(c->d, c->loc, "attribute '%s' refers to a function attribute; unsupported outside functions",
				           nz(a->name));
			else if (!used[i])
				diag_error(c->d, c->loc, "unsupported attribute '%s'", nz(a->name));
		}
	c->used = NULL;
	return c->d->nerr > c->nerr0 ? -1 : 0;
}

/* ---------------------------------------------------------- Constant */

int fe_onnx_constant(fe_onnx_ctx *c, const char *name)
{
	const Onnx__NodeProto *np = c->np;
	if (np->n_attribute != 1) {
		diag_error(c->d, c->loc, "Constant needs exactly one value attribute, has %zu",
		           np->n_attribute);
		return -1;
	}
	const Onnx__AttributeProto *a = np->attribute[0];
	const char *an = nz(a->name);
	int t = attr_type(a);
	ir_value *v = NULL;
	int64_t dim;
	ir_shape s;
	if (strcmp(an, "value") == 0 && t == AT_TENSOR && a->t) {
		char what[300];
		snprintf(what, sizeof what, "Constant value '%.256s'", name);
		ir_tensor tt;
		if (fe_onnx_tensor(a->t, c->loc, what, c->model_dir, &tt, c->d))
			return -1;
		if (fe_onnx_note_external(c, a->t)) {
			ir_tensor_free(&tt);
			return -1;
		}
		v = ir_graph_add_const(c->g, name, tt.dt, &tt.shape, tt.data);
		ir_tensor_free(&tt);
		int bits;
		fe_onnx_dtype_bits(a->t->data_type, &bits);
		if (v && fe_onnx_set_bits(c, v, bits)) {
			diag_error(c->d, c->loc, "out of memory");
			return -1;
		}
	} else if (strcmp(an, "value_float") == 0 && t == AT_FLOAT) {
		s = ir_shape_make(0, NULL);
		v = ir_graph_add_const(c->g, name, IR_DT_F32, &s, &a->f);
	} else if (strcmp(an, "value_int") == 0 && t == AT_INT) {
		s = ir_shape_make(0, NULL);
		v = ir_graph_add_const(c->g, name, IR_DT_I64, &s, &a->i);
	} else if (strcmp(an, "value_floats") == 0 && (t == AT_FLOATS || t == 0)) {
		dim = (int64_t)a->n_floats;
		s = ir_shape_make(1, &dim);
		v = ir_graph_add_const(c->g, name, IR_DT_F32, &s, a->floats);
	} else if (strcmp(an, "value_ints") == 0 && (t == AT_INTS || t == 0)) {
		dim = (int64_t)a->n_ints;
		s = ir_shape_make(1, &dim);
		v = ir_graph_add_const(c->g, name, IR_DT_I64, &s, a->ints);
	} else if (strcmp(an, "sparse_value") == 0 || strcmp(an, "value_string") == 0 ||
	           strcmp(an, "value_strings") == 0) {
		diag_error(c->d, c->loc, "unsupported attribute '%s'", an);
		return -1;
	} else {
		diag_error(c->d, c->loc, "unsupported attribute '%s' (type %s)", an, attr_type_name(t));
		return -1;
	}
	if (!v) {
		if (ir_graph_oom(c->g))
			diag_error(c->d, c->loc, "out of memory");
		else
			diag_error(c->d, c->loc, "cannot create constant '%s'", name);
		return -1;
	}
	return 0;
}
