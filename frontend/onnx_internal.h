/* onnx_internal.h: what the ONNX loader's files share: the per-load
 * context, tensor conversion, and the op translation entry point. */
#ifndef QGTC_FE_ONNX_INTERNAL_H
#define QGTC_FE_ONNX_INTERNAL_H

#include "frontend.h"
#include "onnx.pb-c.h"

#define FE_ONNX_OPSET_MIN 6
#define FE_ONNX_OPSET_MAX 25

/* TensorProto.DataType numbers newer than the onnx.proto qgtc is built
 * from (ONNX 1.16 and 1.20): the sub-byte integers. */
enum {
	ONNX_DT_UINT4 = 21,
	ONNX_DT_INT4 = 22,
	ONNX_DT_UINT2 = 25,
	ONNX_DT_INT2 = 26,
};

/* One load: the graph being built and where to report. */
typedef struct fe_onnx_ctx {
	ir_graph *g;
	diag_sink *d;
	const char *file;        /* diagnostic name of the model */
	const char *model_dir;   /* where external data may live; NULL: none */
	int64_t opset;           /* ai.onnx opset version */

	/* The node being translated. */
	const Onnx__NodeProto *np;
	int index;               /* ONNX node index */
	char loc[768];           /* "FILE: node K 'name' (Op)" */
	unsigned char *used;     /* per attribute of np: translated or ignored */
	int nerr0;               /* d->nerr when the node started */
	int nin, nout;           /* node inputs/outputs, trailing "" dropped */
	ir_value **in, **out;    /* resolved; NULL for an omitted ("") one */

	/* Per value id: the width of an ONNX sub-byte type it holds (4 for
	 * int4 as i8), 0 for a whole dtype (fe_onnx_set_bits). */
	signed char *bits;       /* malloc'd, nbits entries */
	int nbits;
	bool wide_noted;         /* fe_onnx_note_wide warned */
} fe_onnx_ctx;

/* Map an ONNX TensorProto.DataType to an IR dtype; IR_DT_UNDEF if we
 * have none.  The name of any ONNX dtype, for messages. */
ir_dtype fe_onnx_dtype(int32_t onnx_dt);
const char *fe_onnx_dtype_name(int32_t onnx_dt);
/* As fe_onnx_dtype, and ONNX's int4/uint4/int2/uint2 too: held one per
 * i8/u8 element, *bits set to their width (else 0).  Only where values
 * of these types are read (tensors, graph inputs, QuantizeLinear's
 * output_dtype): elsewhere a sub-byte dtype is unsupported. */
ir_dtype fe_onnx_dtype_bits(int32_t onnx_dt, int *bits);

/* float16, bfloat16 and double: types qgtc takes as float32 (graph
 * inputs, Casts to them, tensors), with one warning a model
 * (fe_onnx_note_wide, naming the first such kind and name). */
bool fe_onnx_wide_float(int32_t odt);
void fe_onnx_note_wide(fe_onnx_ctx *c, const char *kind, const char *name, int32_t odt);

/* Record that value v holds an ONNX sub-byte type of `bits` (0: none);
 * 0, or -1 when out of memory.  fe_onnx_bits reads it back. */
int fe_onnx_set_bits(fe_onnx_ctx *c, const ir_value *v, int bits);
int fe_onnx_bits(const fe_onnx_ctx *c, const ir_value *v);

/* Record tp's external data file, if any, in c->g->deps (for -MD).  0,
 * or -1 reported. */
int fe_onnx_note_external(fe_onnx_ctx *c, const Onnx__TensorProto *tp);
/* Convert tp to t (t->data malloc'd, NULL for zero elements); packed
 * sub-byte data is unpacked (fe_onnx_dtype_bits).  `loc`
 * and `what` name it in messages ("model.onnx", "initializer 'w'").
 * External data is read from model_dir (NULL: refused).  0 or -1. */
int fe_onnx_tensor(const Onnx__TensorProto *tp, const char *loc, const char *what,
                   const char *model_dir, ir_tensor *t, diag_sink *d);

/* Translate the ONNX node c->np (values for all node outputs already
 * exist in c->g, created by the caller).  Reports every problem and
 * returns -1 if there was any. */
int fe_onnx_node(fe_onnx_ctx *c);

/* Constant node: build a constant value named `name` from the node's
 * attribute.  0 or -1 (reported at c->loc). */
int fe_onnx_constant(fe_onnx_ctx *c, const char *name);

/* protobuf-c unpacking of an untrusted message of type desc, bounded
 * in nesting and memory; NULL reported (name and what say where).
 * fe_onnx_unpack_free frees what it returns. */
void *fe_onnx_unpack(const ProtobufCMessageDescriptor *desc, const unsigned char *buf, size_t len,
                     const char *name, const char *what, diag_sink *d);
void fe_onnx_unpack_free(void *m);

/* The graph's nodes with every call of a model-local function replaced
 * by the function's body (onnx_func.c): per node, the top-level node it
 * came from (for messages) and the ai.onnx opset it binds to. */
typedef struct fe_onnx_flat {
	const Onnx__NodeProto **node;
	int *origin;
	int64_t *opset;
	size_t n, cap;
	void **mem;              /* copies made for bodies */
	size_t nmem, capmem;
	void **msg;              /* unpacked attribute defaults */
	size_t nmsg;
} fe_onnx_flat;

/* Flatten m's graph (ai.onnx opset `opset`) into fl; 0, or -1 reported
 * at `file` (fl then empty).  fe_onnx_flat_free frees what it holds. */
int fe_onnx_flatten(const Onnx__ModelProto *m, int64_t opset, const char *file, fe_onnx_flat *fl,
                    diag_sink *d);
void fe_onnx_flat_free(fe_onnx_flat *fl);

#endif
