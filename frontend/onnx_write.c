/* onnx_write.c: IR graph -> ONNX ModelProto.  The inverse of the loader's
 * canonicalisation: each IR op maps to one ONNX op at opset 13 (or the
 * first opset that has the form the IR holds), attributes keep their ONNX
 * names, constants become raw_data initializers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnx_internal.h"
#include "onnx_write.h"

/* Protobuf structs live in one arena per write. */
typedef struct wctx {
	ir_arena *a;
	const ir_graph *g;
	diag_sink *d;
	int opset;
	int nerr;
	/* names the QDQ expansion made up, and the parameters written per value */
	const char **made;
	int nmade, capmade;
	struct wqp { const ir_value *v; const char *sc, *zp; } *qp;
	int nqp, capqp;
} wctx;

static void *walloc(wctx *c, size_t n)
{
	return ir_arena_alloc(c->a, n);
}

static char *wstr(wctx *c, const char *s)
{
	return ir_arena_strdup(c->a, s ? s : "");
}

static int32_t onnx_dt(ir_dtype t)
{
	switch (t) {
	case IR_DT_F32: return ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	case IR_DT_I8: return ONNX__TENSOR_PROTO__DATA_TYPE__INT8;
	case IR_DT_U8: return ONNX__TENSOR_PROTO__DATA_TYPE__UINT8;
	case IR_DT_I32: return ONNX__TENSOR_PROTO__DATA_TYPE__INT32;
	case IR_DT_I64: return ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
	case IR_DT_BOOL: return ONNX__TENSOR_PROTO__DATA_TYPE__BOOL;
	case IR_DT_I16: return ONNX__TENSOR_PROTO__DATA_TYPE__INT16;
	case IR_DT_U16: return ONNX__TENSOR_PROTO__DATA_TYPE__UINT16;
	default: return 0;
	}
}

/* ONNX op name of an IR op, and the first opset where the IR's form of it
 * exists (0: no ONNX op). */
static const char *onnx_op(ir_op op, int *since)
{
	*since = 13;
	switch (op) {
	case IR_OP_CONV: return "Conv";
	case IR_OP_CONV_TRANSPOSE: return "ConvTranspose";
	case IR_OP_BATCHNORM: return "BatchNormalization";
	case IR_OP_RELU: return "Relu";
	case IR_OP_LEAKY_RELU: return "LeakyRelu";
	case IR_OP_ELU: return "Elu";
	case IR_OP_SOFTPLUS: return "Softplus";
	case IR_OP_ERF: *since = 9; return "Erf";
	case IR_OP_PRELU: return "PRelu";
	case IR_OP_CLIP: return "Clip";
	case IR_OP_SIGMOID: return "Sigmoid";
	case IR_OP_TANH: return "Tanh";
	case IR_OP_HARD_SIGMOID: return "HardSigmoid";
	case IR_OP_HARD_SWISH: *since = 14; return "HardSwish";
	case IR_OP_MAX_POOL: return "MaxPool";
	case IR_OP_AVG_POOL: return "AveragePool";
	case IR_OP_GLOBAL_AVG_POOL: return "GlobalAveragePool";
	case IR_OP_GLOBAL_MAX_POOL: return "GlobalMaxPool";
	case IR_OP_GEMM: return "Gemm";
	case IR_OP_MATMUL: return "MatMul";
	case IR_OP_ADD: return "Add";
	case IR_OP_SUB: return "Sub";
	case IR_OP_MUL: return "Mul";
	case IR_OP_DIV: return "Div";
	case IR_OP_CONCAT: return "Concat";
	case IR_OP_RESHAPE: return "Reshape";
	case IR_OP_FLATTEN: return "Flatten";
	case IR_OP_TRANSPOSE: return "Transpose";
	case IR_OP_SOFTMAX: return "Softmax";
	case IR_OP_LOG_SOFTMAX: return "LogSoftmax";
	case IR_OP_PAD: return "Pad";
	case IR_OP_SQUEEZE: return "Squeeze";
	case IR_OP_UNSQUEEZE: return "Unsqueeze";
	case IR_OP_IDENTITY: return "Identity";
	case IR_OP_REDUCE_MEAN: return "ReduceMean";
	case IR_OP_REDUCE_SUM: return "ReduceSum";
	case IR_OP_REDUCE_MAX: return "ReduceMax";
	case IR_OP_REDUCE_MIN: return "ReduceMin";
	case IR_OP_REDUCE_PROD: return "ReduceProd";
	case IR_OP_REDUCE_L1: return "ReduceL1";
	case IR_OP_REDUCE_L2: return "ReduceL2";
	case IR_OP_REDUCE_SUM_SQUARE: return "ReduceSumSquare";
	case IR_OP_REDUCE_LOG_SUM_EXP: return "ReduceLogSumExp";
	case IR_OP_SQRT: return "Sqrt";
	case IR_OP_EXP: return "Exp";
	case IR_OP_LOG: return "Log";
	case IR_OP_ABS: return "Abs";
	case IR_OP_NEG: return "Neg";
	case IR_OP_RECIPROCAL: return "Reciprocal";
	case IR_OP_FLOOR: return "Floor";
	case IR_OP_CEIL: return "Ceil";
	case IR_OP_ROUND: return "Round";
	case IR_OP_SIGN: return "Sign";
	case IR_OP_SELU: return "Selu";
	case IR_OP_CELU: return "Celu";
	case IR_OP_SOFTSIGN: return "Softsign";
	case IR_OP_MISH: *since = 18; return "Mish";
	case IR_OP_GELU: *since = 20; return "Gelu";
	case IR_OP_POW: return "Pow";
	case IR_OP_MAX: return "Max";
	case IR_OP_MIN: return "Min";
	case IR_OP_LAYER_NORM: *since = 17; return "LayerNormalization";
	case IR_OP_INSTANCE_NORM: return "InstanceNormalization";
	case IR_OP_EXPAND: return "Expand";
	case IR_OP_TILE: return "Tile";
	case IR_OP_DEPTH_TO_SPACE: return "DepthToSpace";
	case IR_OP_SPACE_TO_DEPTH: return "SpaceToDepth";
	case IR_OP_LSTM: *since = 14; return "LSTM";
	case IR_OP_GRU: *since = 14; return "GRU";
	case IR_OP_RNN: *since = 14; return "RNN";
	case IR_OP_EINSUM: *since = 12; return "Einsum";
	case IR_OP_RANGE: *since = 11; return "Range";
	case IR_OP_TOPK: *since = 11; return "TopK";
	case IR_OP_TRILU: *since = 14; return "Trilu";
	case IR_OP_ONE_HOT: *since = 11; return "OneHot";
	case IR_OP_GATHER_ELEMENTS: *since = 11; return "GatherElements";
	case IR_OP_SCATTER_ELEMENTS: *since = 11; return "ScatterElements";
	case IR_OP_GATHER_ND: *since = 11; return "GatherND";
	case IR_OP_SCATTER_ND: *since = 11; return "ScatterND";
	case IR_OP_EQUAL: return "Equal";
	case IR_OP_GREATER: return "Greater";
	case IR_OP_LESS: return "Less";
	case IR_OP_GREATER_EQUAL: *since = 16; return "GreaterOrEqual";
	case IR_OP_LESS_EQUAL: *since = 16; return "LessOrEqual";
	case IR_OP_AND: return "And";
	case IR_OP_OR: return "Or";
	case IR_OP_XOR: return "Xor";
	case IR_OP_NOT: return "Not";
	case IR_OP_WHERE: *since = 16; return "Where";
	case IR_OP_ARG_MAX: return "ArgMax";
	case IR_OP_ARG_MIN: return "ArgMin";
	case IR_OP_CUMSUM: return "CumSum";
	case IR_OP_SIN: return "Sin";
	case IR_OP_COS: return "Cos";
	case IR_OP_MOD: *since = 10; return "Mod";
	case IR_OP_ASIN: return "Asin";
	case IR_OP_ACOS: return "Acos";
	case IR_OP_ATAN: return "Atan";
	case IR_OP_SINH: *since = 9; return "Sinh";
	case IR_OP_COSH: *since = 9; return "Cosh";
	case IR_OP_ASINH: *since = 9; return "Asinh";
	case IR_OP_ACOSH: *since = 9; return "Acosh";
	case IR_OP_ATANH: *since = 9; return "Atanh";
	case IR_OP_DROPOUT: return "Dropout";
	case IR_OP_SHAPE: return "Shape";
	case IR_OP_GATHER: return "Gather";
	case IR_OP_SLICE: return "Slice";
	case IR_OP_RESIZE: return "Resize";
	case IR_OP_SPLIT: return "Split";
	case IR_OP_CAST: return "Cast";
	case IR_OP_CONSTANT_OF_SHAPE: return "ConstantOfShape";
	case IR_OP_QUANTIZE: return "QuantizeLinear";
	case IR_OP_DEQUANTIZE: return "DequantizeLinear";
	default: *since = 0; return NULL;
	}
}

/* The reductions whose axes became an input only at opset 18 (ReduceSum's
 * did at 13). */
static bool reduce_axes_attr(ir_op op)
{
	return ir_op_is_reduce(op) && op != IR_OP_REDUCE_SUM;
}

/* IR attribute name -> ONNX name and the opset that introduced it there
 * (13 when it exists at 13). */
static const char *onnx_attr(ir_op op, const char *name, int *since)
{
	*since = 13;
	if (strcmp(name, "kernel") == 0)
		return "kernel_shape";
	if (strcmp(name, "trans_a") == 0)
		return "transA";
	if (strcmp(name, "trans_b") == 0)
		return "transB";
	if (op == IR_OP_RESHAPE && strcmp(name, "allowzero") == 0)
		*since = 14;
	else if (op == IR_OP_SHAPE && (strcmp(name, "start") == 0 || strcmp(name, "end") == 0))
		*since = 15;
	else if (op == IR_OP_AVG_POOL && strcmp(name, "dilations") == 0)
		*since = 19;
	else if (reduce_axes_attr(op) && strcmp(name, "noop_with_empty_axes") == 0)
		*since = 18;
	else if (op == IR_OP_SPLIT && strcmp(name, "num_outputs") == 0)
		*since = 18;
	else if (op == IR_OP_RESIZE && (strcmp(name, "antialias") == 0 || strcmp(name, "axes") == 0 ||
	                               strcmp(name, "keep_aspect_ratio_policy") == 0))
		*since = 18;
	else if ((op == IR_OP_SCATTER_ELEMENTS || op == IR_OP_SCATTER_ND) && strcmp(name, "reduction") == 0)
		*since = 18; /* add and mul from 16, max and min from 18 */
	else if (op == IR_OP_GATHER_ND && strcmp(name, "batch_dims") == 0)
		*since = 12;
	else if (op == IR_OP_CAST && strcmp(name, "saturate") == 0)
		*since = 19;
	else if ((op == IR_OP_QUANTIZE || op == IR_OP_DEQUANTIZE) && strcmp(name, "block_size") == 0)
		*since = 21;
	return name;
}

static void need_opset(wctx *c, int v)
{
	if (v > c->opset)
		c->opset = v;
}

static Onnx__TensorProto *tensor(wctx *c, const char *name, ir_dtype dt, const ir_shape *s,
                                 const void *data)
{
	Onnx__TensorProto *t = walloc(c, sizeof *t);
	if (!t)
		return NULL;
	onnx__tensor_proto__init(t);
	t->name = wstr(c, name);
	t->has_data_type = 1;
	t->data_type = onnx_dt(dt);
	t->n_dims = (size_t)s->rank;
	t->dims = walloc(c, sizeof(int64_t) * (size_t)(s->rank + 1));
	if (!t->dims)
		return NULL;
	for (int i = 0; i < s->rank; i++)
		t->dims[i] = s->d[i];
	int64_t n = ir_shape_numel(s);
	t->has_raw_data = 1;
	t->raw_data.len = (size_t)(n > 0 ? n : 0) * ir_dtype_size(dt);
	t->raw_data.data = (uint8_t *)data;
	return t;
}

static Onnx__ValueInfoProto *value_info(wctx *c, const ir_value *v)
{
	Onnx__ValueInfoProto *vi = walloc(c, sizeof *vi);
	Onnx__TypeProto *tp = walloc(c, sizeof *tp);
	Onnx__TypeProto__Tensor *tt = walloc(c, sizeof *tt);
	Onnx__TensorShapeProto *sp = walloc(c, sizeof *sp);
	if (!vi || !tp || !tt || !sp)
		return NULL;
	onnx__value_info_proto__init(vi);
	onnx__type_proto__init(tp);
	onnx__type_proto__tensor__init(tt);
	onnx__tensor_shape_proto__init(sp);
	vi->name = wstr(c, v->name);
	vi->type = tp;
	tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	tp->tensor_type = tt;
	tt->has_elem_type = 1;
	tt->elem_type = onnx_dt(v->dt);
	if (v->shape.rank >= 0) {
		tt->shape = sp;
		sp->n_dim = (size_t)v->shape.rank;
		sp->dim = walloc(c, sizeof(void *) * (size_t)(v->shape.rank + 1));
		if (!sp->dim)
			return NULL;
		for (int i = 0; i < v->shape.rank; i++) {
			Onnx__TensorShapeProto__Dimension *dm = walloc(c, sizeof *dm);
			if (!dm)
				return NULL;
			onnx__tensor_shape_proto__dimension__init(dm);
			if (v->shape.d[i] == IR_DIM_SYM) {
				dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
				dm->dim_param = wstr(c, "batch");
			} else {
				dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
				dm->dim_value = v->shape.d[i];
			}
			sp->dim[i] = dm;
		}
	}
	return vi;
}

static Onnx__AttributeProto *new_attr(wctx *c, const char *name)
{
	Onnx__AttributeProto *a = walloc(c, sizeof *a);
	if (!a)
		return NULL;
	onnx__attribute_proto__init(a);
	a->name = wstr(c, name);
	a->has_type = 1;
	return a;
}

/* Translate n's attributes; the special forms (cast 'to', constant_of_shape
 * value) are built here too. */
static int node_attrs(wctx *c, const ir_node *n, Onnx__NodeProto *np)
{
	np->attribute = walloc(c, sizeof(void *) * (size_t)(n->nattr + 2));
	if (!np->attribute)
		return -1;
	const ir_attr *dtype_attr = NULL;
	float cos_value = 0;
	bool cos_has_value = false;
	for (int i = 0; i < n->nattr; i++) {
		const ir_attr *at = &n->attrs[i];
		if (n->op == IR_OP_CONSTANT_OF_SHAPE) {
			if (strcmp(at->name, "dtype") == 0)
				dtype_attr = at;
			else if (strcmp(at->name, "value") == 0) {
				cos_value = at->v.f;
				cos_has_value = true;
			}
			continue;
		}
		/* The integer path's multipliers are derived again on import;
		 * quantize's dtype is its zero point's (checked by the writer). */
		if (strncmp(at->name, "rq_", 3) == 0 || strncmp(at->name, "ln_", 3) == 0 ||
		    strcmp(at->name, "left_shift") == 0 ||
		    strcmp(at->name, "lut") == 0 ||
		    (n->op == IR_OP_QUANTIZE && strcmp(at->name, "dtype") == 0))
			continue;
		int since;
		const char *name = onnx_attr(n->op, at->name, &since);
		/* AveragePool dilations of all ones say nothing: drop them
		 * rather than require opset 19. */
		if (n->op == IR_OP_AVG_POOL && strcmp(at->name, "dilations") == 0) {
			bool ones = true;
			for (int k = 0; k < at->n; k++)
				ones &= at->v.ints[k] == 1;
			if (ones)
				continue;
		}
		need_opset(c, since);
		Onnx__AttributeProto *a = new_attr(c, name);
		if (!a)
			return -1;
		if (n->op == IR_OP_RNN && strcmp(at->name, "activation") == 0) { /* relu: per direction */
			bool bi = strcmp(ir_attr_str(n, "direction", "forward"), "bidirectional") == 0;
			ProtobufCBinaryData *s = walloc(c, 2 * sizeof *s);
			if (!s)
				return -1;
			s[0].data = s[1].data = (uint8_t *)wstr(c, "Relu");
			s[0].len = s[1].len = 4;
			a->name = wstr(c, "activations");
			a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
			a->n_strings = bi ? 2 : 1;
			a->strings = s;
			np->attribute[np->n_attribute++] = a;
			continue;
		}
		if (n->op == IR_OP_CAST && strcmp(at->name, "to") == 0) {
			a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
			a->has_i = 1;
			a->i = onnx_dt(ir_dtype_from_name(at->v.s));
			np->attribute[np->n_attribute++] = a;
			continue;
		}
		switch (at->kind) {
		case IR_ATTR_INT:
			a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
			a->has_i = 1;
			a->i = at->v.i;
			break;
		case IR_ATTR_FLOAT:
			a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
			a->has_f = 1;
			a->f = at->v.f;
			break;
		case IR_ATTR_INTS:
			a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
			a->n_ints = (size_t)at->n;
			a->ints = at->v.ints;
			break;
		case IR_ATTR_FLOATS:
			a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
			a->n_floats = (size_t)at->n;
			a->floats = at->v.floats;
			break;
		case IR_ATTR_STR:
			a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
			a->has_s = 1;
			a->s.data = (uint8_t *)wstr(c, at->v.s);
			a->s.len = strlen(at->v.s);
			break;
		}
		np->attribute[np->n_attribute++] = a;
	}
	if (n->op == IR_OP_CONSTANT_OF_SHAPE) {
		ir_dtype dt = dtype_attr ? ir_dtype_from_name(dtype_attr->v.s) : IR_DT_F32;
		Onnx__AttributeProto *a = new_attr(c, "value");
		unsigned char *buf = walloc(c, 8);
		if (!a || !buf)
			return -1;
		double v = cos_has_value ? cos_value : 0;
		switch (dt) {
		case IR_DT_F32: { float f = (float)v; memcpy(buf, &f, 4); break; }
		case IR_DT_I8: buf[0] = (unsigned char)(int8_t)v; break;
		case IR_DT_U8: case IR_DT_BOOL: buf[0] = (unsigned char)v; break;
		case IR_DT_I32: { int32_t q = (int32_t)v; memcpy(buf, &q, 4); break; }
		case IR_DT_I64: { int64_t q = (int64_t)v; memcpy(buf, &q, 8); break; }
		default: break;
		}
		ir_shape one = ir_shape_make(1, (int64_t[]){1});
		a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
		a->t = tensor(c, "value", dt, &one, buf);
		if (!a->t)
			return -1;
		np->attribute[np->n_attribute++] = a;
	}
	return 0;
}

/* ReduceMean's (and ReduceMax's, ...) axes are an input only from opset
 * 18; at 13 a constant
 * axes input goes back into the attribute. */
static int reduce_mean_axes(wctx *c, const ir_node *n, Onnx__NodeProto *np)
{
	const ir_value *ax = n->nin > 1 ? n->in[1] : NULL;
	if (!ax || ir_shape_numel(&ax->shape) == 0) {
		np->n_input = 1;
		return 0;
	}
	int64_t vals[IR_MAX_RANK * 2];
	int k = ir_const_ints(ax, vals, IR_MAX_RANK * 2);
	if (k < 0) {
		need_opset(c, 18);
		return 0;
	}
	Onnx__AttributeProto *a = new_attr(c, "axes");
	int64_t *iv = walloc(c, sizeof(int64_t) * (size_t)(k + 1));
	if (!a || !iv)
		return -1;
	memcpy(iv, vals, sizeof(int64_t) * (size_t)k);
	a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
	a->n_ints = (size_t)k;
	a->ints = iv;
	np->attribute[np->n_attribute++] = a;
	np->n_input = 1;
	return 0;
}

/* ------------------------------------------------- the integer path */

/* A node of the QDQ expansion, named `name`, reading in[0..nin) ("" for
 * an omitted one), writing out. */
static Onnx__NodeProto *wnode(wctx *c, Onnx__GraphProto *gp, const char *op, const char *name,
                              int nin, const char *const *in, const char *out)
{
	Onnx__NodeProto *np = walloc(c, sizeof *np);
	if (!np)
		return NULL;
	onnx__node_proto__init(np);
	np->op_type = wstr(c, op);
	np->name = wstr(c, name);
	np->domain = wstr(c, "");
	np->input = walloc(c, sizeof(char *) * (size_t)(nin + 1));
	np->output = walloc(c, sizeof(char *));
	np->attribute = walloc(c, sizeof(void *) * 16);
	if (!np->input || !np->output || !np->attribute)
		return NULL;
	for (int k = 0; k < nin; k++)
		np->input[k] = wstr(c, in[k]);
	np->n_input = (size_t)nin;
	np->output[0] = wstr(c, out);
	np->n_output = 1;
	gp->node[gp->n_node++] = np;
	return np;
}

static int wattr_int(wctx *c, Onnx__NodeProto *np, const char *name, int64_t v)
{
	Onnx__AttributeProto *a = new_attr(c, name);
	if (!a)
		return -1;
	a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
	a->has_i = 1;
	a->i = v;
	np->attribute[np->n_attribute++] = a;
	return 0;
}

/* base, or base.1, base.2 ...: a name neither the graph nor the expansion
 * uses yet (recorded as used). */
static const char *uniq(wctx *c, const char *base)
{
	const char *name = base; /* NULL: the arena's printf ran out of memory */
	for (int k = 1;; k++) {
		if (!name)
			return NULL;
		bool taken = ir_graph_find_value(c->g, name) != NULL;
		for (int i = 0; !taken && i < c->nmade; i++)
			taken = strcmp(c->made[i], name) == 0;
		if (!taken)
			break;
		name = ir_arena_printf(c->a, "%s.%d", base, k);
	}
	if (c->nmade == c->capmade) {
		int cap = c->capmade ? 2 * c->capmade : 64;
		const char **m = walloc(c, sizeof *m * (size_t)cap);
		if (!m)
			return NULL;
		if (c->nmade)
			memcpy(m, c->made, sizeof *m * (size_t)c->nmade);
		c->made = m;
		c->capmade = cap;
	}
	c->made[c->nmade++] = name;
	return name;
}

/* An initializer named after base (made unique) of n elements (rank 0
 * when scalar); its name. */
static const char *winit(wctx *c, Onnx__GraphProto *gp, const char *base, ir_dtype dt, int64_t n,
                         bool scalar, const void *data)
{
	const char *name = uniq(c, base);
	if (!name)
		return NULL;
	ir_shape s = ir_shape_make(scalar ? 0 : 1, &n);
	size_t bytes = (size_t)n * ir_dtype_size(dt);
	void *copy = walloc(c, bytes ? bytes : 1);
	Onnx__TensorProto *t = copy ? tensor(c, name, dt, &s, copy) : NULL;
	if (!t)
		return NULL;
	memcpy(copy, data, bytes);
	gp->initializer[gp->n_initializer++] = t;
	return name;
}

/* Scale and zero-point initializers of v's quantization (named after
 * v), into sc/zp; the channel axis into *axis (-1 per tensor). */
static int wqparams(wctx *c, Onnx__GraphProto *gp, const ir_value *v, const char **sc,
                    const char **zp, int *axis)
{
	const ir_quant *q = v->quant;
	int nc = q->nchan;
	*axis = nc == 1 ? -1 : q->axis;
	for (int i = 0; i < c->nqp; i++)
		if (c->qp[i].v == v) {
			*sc = c->qp[i].sc;
			*zp = c->qp[i].zp;
			return 0;
		}
	unsigned char z[8 * (nc > 0 ? nc : 1)];
	for (int k = 0; k < nc; k++) {
		int32_t zk = q->zero_point ? q->zero_point[k] : 0;
		switch (v->dt) {
		case IR_DT_I8: ((int8_t *)z)[k] = (int8_t)zk; break;
		case IR_DT_U8: ((uint8_t *)z)[k] = (uint8_t)zk; break;
		case IR_DT_I16: ((int16_t *)z)[k] = (int16_t)zk; break;
		case IR_DT_U16: ((uint16_t *)z)[k] = (uint16_t)zk; break;
		default: ((int32_t *)z)[k] = zk; break;
		}
	}
	if (v->dt == IR_DT_I16 || v->dt == IR_DT_U16)
		need_opset(c, 21);
	*sc = winit(c, gp, ir_arena_printf(c->a, "%s.scale", v->name), IR_DT_F32, nc, nc == 1, q->scale);
	*zp = winit(c, gp, ir_arena_printf(c->a, "%s.zero_point", v->name), v->dt, nc, nc == 1, z);
	if (!*sc || !*zp)
		return -1;
	if (c->nqp == c->capqp) {
		int cap = c->capqp ? 2 * c->capqp : 64;
		struct wqp *m = walloc(c, sizeof *m * (size_t)cap);
		if (!m)
			return -1;
		if (c->nqp)
			memcpy(m, c->qp, sizeof *m * (size_t)c->nqp);
		c->qp = m;
		c->capqp = cap;
	}
	c->qp[c->nqp++] = (struct wqp){v, *sc, *zp};
	return 0;
}

/* DequantizeLinear of the integer value v into a fresh float name. */
static const char *wdq(wctx *c, Onnx__GraphProto *gp, const ir_value *v)
{
	const char *sc, *zp;
	int axis;
	if (wqparams(c, gp, v, &sc, &zp, &axis))
		return NULL;
	const char *out = uniq(c, ir_arena_printf(c->a, "%s.dq", v->name));
	const char *in[3] = {v->name, sc, zp};
	if (!out)
		return NULL;
	Onnx__NodeProto *np = wnode(c, gp, "DequantizeLinear", out, 3, in, out);
	if (!np || (axis >= 0 && wattr_int(c, np, "axis", axis)))
		return NULL;
	return out;
}

/* QuantizeLinear of float `x` into the integer value v (its name). */
static int wq(wctx *c, Onnx__GraphProto *gp, const char *x, const ir_value *v)
{
	const char *sc, *zp;
	int axis;
	if (wqparams(c, gp, v, &sc, &zp, &axis))
		return -1;
	const char *in[3] = {x, sc, zp};
	return wnode(c, gp, "QuantizeLinear", ir_arena_printf(c->a, "%s.q", v->name), 3, in, v->name)
	           ? 0 : -1;
}

/* Integer ops ONNX has no integer form of (with zero points): written as
 * dequantize -> float op -> quantize, the QDQ form every runtime fuses. */
static bool int_node(const ir_node *n)
{
	if (n->nin < 1 || !n->in[0] || !ir_dtype_is_qint(n->in[0]->dt))
		return false;
	if (n->op == IR_OP_CONV || n->op == IR_OP_MATMUL || n->op == IR_OP_QUANTIZE ||
	    n->op == IR_OP_ADD || n->op == IR_OP_MUL || ir_node_attr(n, "lut") || ir_node_attr(n, "ln_mult"))
		return true;
	if (!ir_node_keeps_quant(n))
		return false;
	/* MaxPool and the views take int8/uint8 as they are. */
	bool b8 = n->in[0]->dt == IR_DT_I8 || n->in[0]->dt == IR_DT_U8;
	return !b8 || n->op == IR_OP_RELU || n->op == IR_OP_AVG_POOL ||
	       n->op == IR_OP_GLOBAL_AVG_POOL;
}

static int write_int(wctx *c, Onnx__GraphProto *gp, const ir_node *n, int idx)
{
	const ir_value *y = n->out[0];
	if (n->op == IR_OP_QUANTIZE) { /* a requantization */
		const char *xf = wdq(c, gp, n->in[0]);
		return xf ? wq(c, gp, xf, y) : -1;
	}
	bool requant = y->quant != NULL;
	int since;
	const char *op = onnx_op(n->op, &since);
	need_opset(c, since); /* LayerNormalization 17, HardSwish 14 */
	const char *nm = n->name && *n->name ? n->name : ir_arena_printf(c->a, "%s_%d", op, idx);
	if (!nm)
		return -1;
	bool lin = n->op == IR_OP_CONV || n->op == IR_OP_MATMUL;
	if (lin && !requant) {
		/* the i32 accumulator: ConvInteger / MatMulInteger */
		const ir_value *x = n->in[0], *w = n->in[1];
		const char *sx, *zx, *sw, *zw;
		int ax, aw;
		if (wqparams(c, gp, x, &sx, &zx, &ax) || wqparams(c, gp, w, &sw, &zw, &aw))
			return -1;
		const char *in[4] = {x->name, w->name, zx, zw};
		Onnx__NodeProto *np = wnode(c, gp, n->op == IR_OP_CONV ? "ConvInteger" : "MatMulInteger",
		                            nm, 4, in, y->name);
		if (!np)
			return -1;
		np->n_attribute = 0;
		return n->op == IR_OP_CONV ? node_attrs(c, n, np) : 0;
	}
	const char *in[8] = {NULL};
	int nin = lin ? 2 : n->nin;
	bool two = lin || n->op == IR_OP_ADD || n->op == IR_OP_MUL; /* both operands integer */
	for (int k = 0; k < n->nin && k < 7; k++) {
		const ir_value *v = n->in[k];
		if (k < 2 && two)
			in[k] = wdq(c, gp, v);
		else if (k == 0)
			in[k] = wdq(c, gp, v);
		else
			in[k] = v ? v->name : "";
		if (!in[k])
			return -1;
	}
	const ir_value *b = lin && n->nin > 2 ? n->in[2] : NULL;
	const char *bf = NULL;
	if (b) {
		/* i32 at scale sx * sw[c] */
		const ir_quant *qx = n->in[0]->quant, *qw = n->in[1]->quant;
		int64_t m = ir_shape_numel(&b->shape);
		float *bs = walloc(c, sizeof(float) * (size_t)(m ? m : 1));
		if (!bs)
			return -1;
		for (int64_t k = 0; k < m; k++)
			bs[k] = qx->scale[0] * qw->scale[qw->nchan > 1 ? k : 0];
		const char *bsn = winit(c, gp, ir_arena_printf(c->a, "%s.scale", b->name), IR_DT_F32, m,
		                        false, bs);
		const char *bin[2] = {b->name, bsn};
		bf = uniq(c, ir_arena_printf(c->a, "%s.dq", b->name));
		Onnx__NodeProto *np = bsn && bf ? wnode(c, gp, "DequantizeLinear", bf, 2, bin, bf) : NULL;
		if (!np || wattr_int(c, np, "axis", 0))
			return -1;
		if (n->op == IR_OP_CONV)
			in[nin++] = bf;
	}
	const char *yf = uniq(c, ir_arena_printf(c->a, "%s.f", y->name));
	const char *t = b && n->op == IR_OP_MATMUL ? uniq(c, ir_arena_printf(c->a, "%s.mm", y->name)) : yf;
	Onnx__NodeProto *np = yf && t ? wnode(c, gp, op, nm, nin, in, t) : NULL;
	if (!np)
		return -1;
	np->n_attribute = 0;
	if (node_attrs(c, n, np))
		return -1;
	if (t != yf) {
		const char *ain[2] = {t, bf};
		if (!wnode(c, gp, "Add", ir_arena_printf(c->a, "%s.bias", nm), 2, ain, yf))
			return -1;
	}
	return wq(c, gp, yf, y);
}

static int cmp_node_name(const void *a, const void *b)
{
	const Onnx__NodeProto *const *x = a, *const *y = b;
	int r = strcmp((*x)->name, (*y)->name);
	return r ? r : (*x < *y ? -1 : *x > *y);
}

static int cmp_name_key(const void *key, const void *elt)
{
	return strcmp(key, *(const char *const *)elt);
}

/* ONNX wants node names unique (ONNX Runtime refuses a model without);
 * the IR lets nodes share one (an ONNX Softmax of opset < 13 imports as
 * flatten, softmax and reshape, all named after it).  Every node after
 * the first of a name becomes NAME.1, NAME.2, ... (a name no node has). */
static int unique_node_names(wctx *c, Onnx__GraphProto *gp)
{
	size_t n = gp->n_node;
	if (n < 2)
		return 0;
	Onnx__NodeProto **by = walloc(c, sizeof *by * n);
	if (!by)
		return -1;
	memcpy(by, gp->node, sizeof *by * n);
	qsort(by, n, sizeof *by, cmp_node_name);
	/* the names as they were, sorted, for the lookups below */
	const char **orig = walloc(c, sizeof *orig * n);
	if (!orig)
		return -1;
	for (size_t i = 0; i < n; i++)
		orig[i] = by[i]->name;
	for (size_t i = 1; i < n; i++) {
		if (strcmp(orig[i], orig[i - 1]) != 0)
			continue;
		size_t first = i - 1;
		int k = 1;
		for (; i < n && strcmp(orig[i], orig[first]) == 0; i++) {
			char *name;
			do /* past any node already named so */
				name = ir_arena_printf(c->a, "%s.%d", orig[first], k++);
			while (name && bsearch(name, orig, n, sizeof *orig, cmp_name_key));
			if (!name)
				return -1;
			by[i]->name = name;
		}
		i--;
	}
	return 0;
}

/* Does the file name v: is it a graph output, or read by a node other
 * than as the parameters of a requantization (whose QDQ form writes
 * them from the types)? */
static bool written_by_name(const ir_graph *g, const ir_value *v)
{
	for (int i = 0; i < g->noutputs; i++)
		if (g->outputs[i] == v)
			return true;
	for (int i = 0; i < g->nnodes; i++) {
		const ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		bool requant = n->op == IR_OP_QUANTIZE && ir_dtype_is_qint(n->in[0]->dt);
		for (int k = 0; k < (requant ? 1 : n->nin); k++)
			if (n->in[k] == v)
				return true;
	}
	return false;
}

/* Is v a float weight whose quantization DequantizeLinear states exactly
 * (a uniform grid: affine, symmetric, binary, ternary)?  Pow2 and
 * codebook grids are not affine; they are written as their floats. */
static bool weight_dq(const ir_value *v)
{
	const ir_quant *q = v->quant;
	return v->kind == IR_VAL_CONST && v->dt == IR_DT_F32 && q && q->codes && q->scale &&
	       (q->scheme == IR_QS_AFFINE || q->scheme == IR_QS_SYMMETRIC ||
	        q->scheme == IR_QS_BINARY || q->scheme == IR_QS_TERNARY);
}

/* Weight v (weight_dq) as its integers and a DequantizeLinear to its
 * name: affine codes as uint8 with their zero points; the signed
 * schemes as int8 of zero point 0 (binary's codes 0, 1 as -1, +1).  The
 * DQ of these is the float data v holds, bit for bit. */
static int write_weight_dq(wctx *c, Onnx__GraphProto *gp, const ir_value *v)
{
	const ir_quant *q = v->quant;
	int64_t n = ir_shape_numel(&v->shape);
	int nc = q->nchan;
	bool affine = q->scheme == IR_QS_AFFINE;
	ir_dtype dt = affine ? IR_DT_U8 : IR_DT_I8;
	const char *name = uniq(c, ir_arena_printf(c->a, "%s.q", v->name));
	uint8_t *codes = walloc(c, (size_t)(n ? n : 1));
	uint8_t *zp = walloc(c, (size_t)nc);
	if (!name || !codes || !zp)
		return -1;
	int half = 1 << (q->bits - 1);
	for (int64_t i = 0; i < n; i++) {
		int k = q->codes[i];
		int8_t sq = (int8_t)(q->scheme == IR_QS_BINARY ? 2 * k - 1 : k - half);
		codes[i] = affine ? (uint8_t)k : (uint8_t)sq;
	}
	for (int k = 0; k < nc; k++)
		zp[k] = affine ? (uint8_t)q->zero_point[k] : 0;
	/* the codes first: a reader numbering the initializers in order
	 * gives them the weight's place */
	Onnx__TensorProto *t = tensor(c, name, dt, &v->shape, codes);
	if (!t)
		return -1;
	gp->initializer[gp->n_initializer++] = t;
	const char *sc = winit(c, gp, ir_arena_printf(c->a, "%s.scale", v->name), IR_DT_F32, nc, nc == 1,
	                       q->scale);
	const char *zn = winit(c, gp, ir_arena_printf(c->a, "%s.zero_point", v->name), dt, nc, nc == 1, zp);
	if (!sc || !zn)
		return -1;
	const char *in[3] = {name, sc, zn};
	Onnx__NodeProto *np = wnode(c, gp, "DequantizeLinear", ir_arena_printf(c->a, "%s.dq", v->name), 3,
	                            in, v->name);
	if (!np || (nc > 1 && wattr_int(c, np, "axis", q->axis)))
		return -1;
	return 0;
}

static int build(wctx *c, Onnx__ModelProto *m)
{
	const ir_graph *g = c->g;
	Onnx__GraphProto *gp = walloc(c, sizeof *gp);
	Onnx__OperatorSetIdProto *os = walloc(c, sizeof *os);
	m->opset_import = walloc(c, sizeof(void *));
	if (!gp || !os || !m->opset_import)
		return -1;
	onnx__graph_proto__init(gp);
	onnx__operator_set_id_proto__init(os);
	m->has_ir_version = 1;
	m->ir_version = 8;
	m->producer_name = wstr(c, "qgtc");
	m->producer_version = wstr(c, "0.1.0");
	m->graph = gp;
	m->n_opset_import = 1;
	m->opset_import[0] = os;
	os->domain = wstr(c, "");
	os->has_version = 1;
	gp->name = wstr(c, g->name ? g->name : "qgtc");

	/* The QDQ form of an integer node takes up to 8 nodes and 8
	 * initializers; a quantized float weight 3 initializers and a node. */
	int nwq = 0;
	for (int i = 0; i < g->nvalues; i++)
		nwq += weight_dq(g->values[i]);
	gp->initializer = walloc(c, sizeof(void *) * (size_t)(g->nvalues + 8 * g->nnodes + 3 * nwq + 1));
	gp->node = walloc(c, sizeof(void *) * (size_t)(8 * g->nnodes + nwq + 1));
	gp->input = walloc(c, sizeof(void *) * (size_t)(g->ninputs + 1));
	gp->output = walloc(c, sizeof(void *) * (size_t)(g->noutputs + 1));
	if (!gp->initializer || !gp->node || !gp->input || !gp->output)
		return -1;
	/* Initializers: the constants some live node (or output) reads. */
	for (int i = 0; i < g->nvalues; i++) {
		const ir_value *v = g->values[i];
		if (v->kind != IR_VAL_CONST || !written_by_name(g, v))
			continue;
		int64_t n = ir_shape_numel(&v->shape);
		if (weight_dq(v)) {
			if (write_weight_dq(c, gp, v))
				return -1;
			continue;
		}
		if (!onnx_dt(v->dt)) {
			diag_error(c->d, g->src_file, "constant '%s' has dtype %s, which has no ONNX form here",
			           v->name, ir_dtype_name(v->dt));
			c->nerr++;
			continue;
		}
		if (!v->data && n != 0) {
			diag_error(c->d, g->src_file, "constant '%s' has no data (elided); cannot write it",
			           v->name);
			c->nerr++;
			continue;
		}
		Onnx__TensorProto *t = tensor(c, v->name, v->dt, &v->shape, v->data);
		if (!t)
			return -1;
		gp->initializer[gp->n_initializer++] = t;
	}
	for (int i = 0; i < g->ninputs; i++)
		if (!(gp->input[gp->n_input++] = value_info(c, g->inputs[i])))
			return -1;
	for (int i = 0; i < g->noutputs; i++)
		if (!(gp->output[gp->n_output++] = value_info(c, g->outputs[i])))
			return -1;
	for (int i = 0; i < g->nnodes; i++) {
		const ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		if (n->op == IR_OP_QUANTIZE && ir_node_attr(n, "bits") &&
		    ir_attr_int(n, "bits", 0) < (int64_t)ir_dtype_size(n->out[0]->dt) * 8) {
			/* its ONNX form needs an int4/int2 zero point, which could be
			 * shared with nodes reading it as int8 */
			diag_error(c->d, ir_node_loc(g, n), "a %lld-bit quantize is not written to ONNX "
			           "(sub-byte zero points are not supported here)",
			           (long long)ir_attr_int(n, "bits", 0));
			c->nerr++;
			continue;
		}
		if (int_node(n)) {
			if (write_int(c, gp, n, i))
				return -1;
			continue;
		}
		if (n->op == IR_OP_QUANTIZE && !(n->nin > 2 && n->in[2]) && n->out[0]->dt != IR_DT_U8) {
			diag_error(c->d, ir_node_loc(g, n), "a %s quantize needs its zero point to be written",
			           ir_dtype_name(n->out[0]->dt));
			c->nerr++;
			continue;
		}
		if ((n->op == IR_OP_QUANTIZE && (n->out[0]->dt == IR_DT_I16 || n->out[0]->dt == IR_DT_U16)) ||
		    (n->op == IR_OP_DEQUANTIZE && (n->in[0]->dt == IR_DT_I16 || n->in[0]->dt == IR_DT_U16)))
			need_opset(c, 21);
		int since;
		const char *op = onnx_op(n->op, &since);
		if (!op) {
			diag_error(c->d, ir_node_loc(g, n), "op '%s' has no ONNX form", ir_op_name(n->op));
			c->nerr++;
			continue;
		}
		need_opset(c, since);
		Onnx__NodeProto *np = walloc(c, sizeof *np);
		if (!np)
			return -1;
		onnx__node_proto__init(np);
		np->op_type = wstr(c, op);
		np->name = wstr(c, n->name && *n->name ? n->name : ir_arena_printf(c->a, "%s_%d", op, i));
		np->domain = wstr(c, "");
		np->input = walloc(c, sizeof(char *) * (size_t)(n->nin + 1));
		np->output = walloc(c, sizeof(char *) * (size_t)(n->nout + 1));
		if (!np->input || !np->output)
			return -1;
		/* Trailing omitted inputs are dropped, inner ones written "". */
		int nin = n->nin;
		while (nin > 0 && !n->in[nin - 1])
			nin--;
		for (int k = 0; k < nin; k++)
			np->input[k] = wstr(c, n->in[k] ? n->in[k]->name : "");
		np->n_input = (size_t)nin;
		int nout = n->nout;
		while (nout > 0 && !n->out[nout - 1])
			nout--;
		for (int k = 0; k < nout; k++)
			np->output[k] = wstr(c, n->out[k] ? n->out[k]->name : "");
		np->n_output = (size_t)nout;
		if (node_attrs(c, n, np))
			return -1;
		if (reduce_axes_attr(n->op) && c->opset < 18 && reduce_mean_axes(c, n, np))
			return -1;
		if (n->op == IR_OP_PAD && nin > 3)
			need_opset(c, 18);
		gp->node[gp->n_node++] = np;
	}
	os->version = c->opset;
	if (c->opset >= 21)
		m->ir_version = 10; /* what opset 21 requires */
	/* (a failed name copy left a NULL: the caller reports the arena's
	 * sticky flag) */
	if (!c->nerr && !ir_arena_failed(c->a) && unique_node_names(c, gp))
		return -1;
	return c->nerr ? -1 : 0;
}

int fe_onnx_write_buffer(const ir_graph *g, void **buf, size_t *len, diag_sink *d)
{
	*buf = NULL;
	*len = 0;
	wctx c = {.a = ir_arena_create(), .g = g, .d = d, .opset = 13};
	if (!c.a) {
		diag_error(d, g->src_file, "out of memory");
		return -1;
	}
	Onnx__ModelProto m;
	onnx__model_proto__init(&m);
	int rc = -1;
	/* a failed name copy (wstr) would leave a NULL for the packer to
	 * follow: the arena's sticky flag covers every one of them */
	if (build(&c, &m) || ir_arena_failed(c.a)) {
		if (!c.nerr)
			diag_error(d, g->src_file, "out of memory building the ONNX model");
		goto out;
	}
	if (c.opset > 17)
		diag_warn(d, g->src_file, "the written model needs ONNX opset %d", c.opset);
	size_t n = onnx__model_proto__get_packed_size(&m);
	uint8_t *p = malloc(n ? n : 1);
	if (!p) {
		diag_error(d, g->src_file, "out of memory for %zu bytes", n);
		goto out;
	}
	onnx__model_proto__pack(&m, p);
	*buf = p;
	*len = n;
	rc = 0;
out:
	ir_arena_destroy(c.a);
	return rc;
}

int fe_onnx_write(const ir_graph *g, const char *path, diag_sink *d)
{
	void *buf;
	size_t len;
	if (fe_onnx_write_buffer(g, &buf, &len, d))
		return -1;
	char *tmp = malloc(strlen(path) + 16);
	if (!tmp) {
		free(buf);
		diag_error(d, path, "out of memory");
		return -1;
	}
	sprintf(tmp, "%s.tmp%d", path, (int)getpid());
	FILE *f = fopen(tmp, "wb");
	int rc = -1;
	if (!f) {
		diag_error(d, path, "cannot write: %s", strerror(errno));
		goto out;
	}
	bool ok = fwrite(buf, 1, len, f) == len;
	ok &= fclose(f) == 0;
	if (!ok || rename(tmp, path)) {
		diag_error(d, path, "cannot write: %s", strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	free(buf);
	return rc;
}
