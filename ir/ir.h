/* ir.h: qgtc's typed tensor-graph IR, the one representation every stage
 * (frontends, passes, trainer, interpreter, backends) reads and writes.
 * ir/ includes nothing else of qgtc. */
#ifndef QGTC_IR_H
#define QGTC_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---------------------------------------------------------------- diag */

/* A diagnostic sink.  Library code never exits: it reports here and
 * returns a status.  Messages go to `out` (stderr when NULL) or, when
 * `capture` is set, are appended to `buf` so tests can compare them. */
typedef enum { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } diag_level;

typedef struct diag_sink {
	FILE *out;     /* where messages go; NULL means stderr */
	bool capture;  /* append to buf instead of printing */
	char *buf;     /* captured text, NUL-terminated; owned by the sink */
	size_t len, cap;
	int nerr;      /* errors reported so far */
	int nwarn;     /* warnings reported so far */
} diag_sink;

/* "LOC: error: MSG\n"; LOC may be NULL ("qgtc: error: MSG"). */
void diag_report(diag_sink *d, diag_level lv, const char *loc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define diag_error(d, loc, ...) diag_report((d), DIAG_ERROR, (loc), __VA_ARGS__)
#define diag_warn(d, loc, ...)  diag_report((d), DIAG_WARNING, (loc), __VA_ARGS__)
#define diag_note(d, loc, ...)  diag_report((d), DIAG_NOTE, (loc), __VA_ARGS__)
void diag_sink_init(diag_sink *d, FILE *out);
/* Levenshtein distance of a and b, for "did you mean" suggestions; 99 for
 * strings over 64 characters. */
int diag_edit_distance(const char *a, const char *b);
void diag_sink_init_capture(diag_sink *d);
void diag_sink_fini(diag_sink *d);
/* Write s as a JSON string, quotes included: the one writer of every
 * string qgtc puts in JSON (reports, histograms), since names come from
 * the model.  '"', '\\' and control characters are escaped; valid UTF-8
 * passes through, and a byte that is not part of it becomes \u00XX, so
 * the output is always valid UTF-8 JSON.  NULL writes "". */
void diag_json_str(FILE *f, const char *s);

/* --------------------------------------------------------------- arena */

/* One compile owns one arena; everything of a graph lives in it and is
 * freed at once by ir_arena_destroy. */
typedef struct ir_arena ir_arena;
ir_arena *ir_arena_create(void);
void ir_arena_destroy(ir_arena *a);
void *ir_arena_alloc(ir_arena *a, size_t n);    /* zeroed, 16-aligned; NULL on failure */
/* Has an allocation from a failed (sticky, like SQLite's mallocFailed)? */
bool ir_arena_failed(const ir_arena *a);
char *ir_arena_strdup(ir_arena *a, const char *s);
char *ir_arena_printf(ir_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --------------------------------------------------------------- types */

/* Element types.  Serialised by name in .qir; append only. */
#define IR_DTYPES(X)          \
	X(F32, "f32", 4)      \
	X(I8, "i8", 1)        \
	X(U8, "u8", 1)        \
	X(I32, "i32", 4)      \
	X(I64, "i64", 8)      \
	X(BOOL, "bool", 1)    \
	X(I16, "i16", 2)      \
	X(U16, "u16", 2)

typedef enum {
	IR_DT_UNDEF = 0,
#define X(e, s, n) IR_DT_##e,
	IR_DTYPES(X)
#undef X
	IR_DT__COUNT
} ir_dtype;

size_t ir_dtype_size(ir_dtype t);            /* bytes per element; 0 for UNDEF */
const char *ir_dtype_name(ir_dtype t);       /* "f32", ...; "undef" */
/* The f32 of an IEEE half's bits h, and of a bfloat16's (a float's high
 * half); both exact.  What the IR has no dtype for arrives as f32. */
float ir_f16_to_f32(uint16_t h);
float ir_bf16_to_f32(uint16_t b);
ir_dtype ir_dtype_from_name(const char *s);  /* IR_DT_UNDEF if unknown */

#define IR_MAX_RANK 8
#define IR_DIM_SYM (-1)                      /* symbolic (batch) dimension */
#define IR_MAX_NUMEL ((int64_t)1 << 36)      /* cap on elements of one tensor */

typedef struct ir_shape {
	int rank;                 /* -1: not known yet */
	int64_t d[IR_MAX_RANK];   /* extents; IR_DIM_SYM allowed in d[0] only */
} ir_shape;

/* Element count, or -1 if the rank is unknown, a dim is symbolic, or the
 * product of the nonzero dims exceeds IR_MAX_NUMEL (so every partial
 * product of a shape's dims fits in int64, even when one dim is 0). */
int64_t ir_shape_numel(const ir_shape *s);
bool ir_shape_known(const ir_shape *s);      /* rank known and no symbolic dim */
bool ir_shape_eq(const ir_shape *a, const ir_shape *b);
ir_shape ir_shape_make(int rank, const int64_t *d);
/* Does a data sample of shape sample feed one item of an input of shape
 * in (its dim 0 the batch), element for element?  The counts must agree;
 * and where both have two or more dims of extent above 1, those dims must
 * agree in order: [784] feeds [N,1,28,28], and [28,28] feeds [N,1,28,28]
 * or [N,784], but [32,32,3] does not feed [N,3,32,32]. */
bool ir_shape_feeds(const ir_shape *sample, const ir_shape *in);
/* Numpy broadcasting: the strides, in units of unit elements, of an
 * operand whose dims d[0..rank) are right-aligned against orank output
 * dims; 0 where the operand lacks a dim or has extent 1.  Writes
 * st[0..orank). */
void ir_bcast_strides(int orank, int rank, const int64_t *d, int64_t unit, int64_t *st);
/* "[1,3,224,224]", "[?,10]", "[]" or "[unknown]" into buf; returns buf. */
char *ir_shape_str(const ir_shape *s, char *buf, size_t n);

/* A tensor with its data: what the interpreter and constant folder pass
 * around.  Data is dense, row-major, native little-endian. */
typedef struct ir_tensor {
	ir_dtype dt;
	ir_shape shape;
	void *data;
} ir_tensor;

/* ---------------------------------------------------------------- ops */

typedef enum {
#define OP(E, n, a, b, c, d, m, s) IR_OP_##E,
#include "ops.def"
#undef OP
	IR_OP__COUNT
} ir_op;

typedef struct ir_graph ir_graph;
typedef struct ir_node ir_node;

/* How output 0 of an op may use its operands' storage (ops.def's mem
 * column): the memory planner aliases by it, the backend lowers by it. */
typedef enum {
	IR_MEM_OWN,       /* storage of its own */
	IR_MEM_VIEW,      /* operand 0's bytes unchanged (reshape and friends) */
	IR_MEM_INPLACE0,  /* elementwise: may overwrite operand 0 */
	IR_MEM_INPLACE01, /* elementwise: may overwrite operand 0 or 1 */
} ir_op_mem;

typedef struct ir_op_info {
	const char *name;            /* text spelling, e.g. "conv" */
	int min_in, max_in;          /* max_in -1: variadic */
	int min_out, max_out;        /* max_out -1: variadic */
	ir_op_mem mem;               /* output 0's storage */
	const char *attrs;           /* "name:kind ..." spec */
	/* Set dtype and shape of n's outputs from its inputs.  Returns 0 on
	 * success (an output rank may stay -1 when an operand it needs is not
	 * a constant yet), -1 after reporting an error to d. */
	int (*infer)(ir_graph *g, ir_node *n, diag_sink *d);
	/* Compute outputs from inputs.  Output tensors arrive with dtype,
	 * shape and zeroed storage set from inference.  0 or -1 (reported). */
	int (*eval)(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d);
} ir_op_info;

extern const ir_op_info ir_op_table[IR_OP__COUNT];
const char *ir_op_name(ir_op op);
ir_op ir_op_from_name(const char *s);        /* IR_OP__COUNT if unknown */
/* The kind of attribute `name` in op's spec (ops.def), or -1 if the op
 * takes no such attribute. */
int ir_op_attr_kind(ir_op op, const char *name);

/* ----------------------------------------------------------- attributes */

typedef enum { IR_ATTR_INT, IR_ATTR_FLOAT, IR_ATTR_INTS, IR_ATTR_FLOATS, IR_ATTR_STR } ir_attr_kind;

typedef struct ir_attr {
	const char *name;
	ir_attr_kind kind;
	int n;                       /* element count for INTS/FLOATS */
	union {
		int64_t i;
		float f;
		int64_t *ints;
		float *floats;
		const char *s;
	} v;
} ir_attr;

/* ------------------------------------------------------ values, nodes */

typedef enum {
	IR_VAL_ACT,      /* computed by a node */
	IR_VAL_INPUT,    /* graph input, supplied at run time */
	IR_VAL_CONST,    /* constant (initializer or folded); data set */
} ir_value_kind;

/* Quantization of a constant (weights): how its elements map to codes and
 * back.  Computed by passes/ (the quantizer family); the IR only
 * describes it.  Serialised by name; append only. */
typedef enum {
	IR_QS_NONE = 0,
	IR_QS_AFFINE,      /* w = scale * (code - zero_point), codes 0..2^bits-1 */
	IR_QS_SYMMETRIC,   /* w = scale * code, codes -(2^(bits-1)-1)..2^(bits-1)-1 */
	IR_QS_POW2,        /* w = sign * 2^-e: shift-only arithmetic */
	IR_QS_BINARY,      /* w = scale * sign */
	IR_QS_TERNARY,     /* w = scale * {-1, 0, +1} */
	IR_QS_CODEBOOK,    /* w = levels[code], 2^bits learned levels */
} ir_qscheme;

const char *ir_qscheme_name(ir_qscheme s);       /* "affine", ...; "none"; "?" */
ir_qscheme ir_qscheme_from_name(const char *s);  /* IR_QS_NONE if unknown */

/* On a weight constant, ir_quant describes its codes.  On an integer
 * activation (an i8/u8/i16/u16 value, or an integer constant an integer op
 * reads), it is part of the value's type: scheme IR_QS_AFFINE, bits the
 * dtype's width or less (an int4 activation is i8 in [-8, 7]), real =
 * scale * (q - zero_point), and codes NULL: the value's own elements are
 * the quantized numbers. */
typedef struct ir_quant {
	ir_qscheme scheme;
	int bits;                    /* 1..8; on an activation its dtype's width,
	                              * or less (int4 held in i8: 4) */
	int axis;                    /* channel axis of per-channel parameters; -1: per tensor */
	int nchan;                   /* parameter sets: 1, or the extent of axis */
	float *scale;                /* [nchan]; NULL for codebook */
	int32_t *zero_point;         /* [nchan] for affine; else NULL */
	float *levels;               /* codebook: [nchan << bits]; else NULL */
	uint8_t *codes;              /* one code per element (0..2^bits-1, offset
	                              * for signed schemes), row-major */
	uint8_t *packed;             /* codes bit-packed by the bitpack pass; NULL before */
	size_t packed_bytes;
} ir_quant;

typedef struct ir_value {
	int id;                      /* index in graph->values */
	const char *name;
	ir_value_kind kind;
	ir_dtype dt;
	ir_shape shape;
	void *data;                  /* IR_VAL_CONST: numel * dtype size bytes */
	ir_node *producer;           /* node computing it, or NULL */
	ir_quant *quant;             /* NULL unless quantized */
} ir_value;

/* A per-node quantization request (from a DSL hint or --bits): what the
 * quantize pass should do with this node's weights.  0 means "default". */
typedef enum { IR_QGRAN_DEFAULT = 0, IR_QGRAN_PER_TENSOR, IR_QGRAN_PER_CHANNEL } ir_qgran;
typedef struct ir_qhint {
	int bits;                    /* 1..8, 32: float, or 0: pipeline default */
	ir_qgran gran;
	ir_qscheme scheme;           /* IR_QS_NONE: the pipeline's */
} ir_qhint;

struct ir_node {
	int id;                      /* index in graph->nodes */
	ir_op op;
	const char *name;            /* source node name ("" if none) */
	const char *src_op;          /* source op type, e.g. ONNX "Conv"; may be NULL */
	int src_index;               /* index in the source model, -1 if none */
	int nin, nout;
	ir_value **in;               /* NULL slot: omitted optional input */
	ir_value **out;
	int nattr, capattr;
	ir_attr *attrs;
	ir_qhint qhint;              /* quantization request; zero: none */
	bool dead;                   /* removed; dropped by ir_graph_compact */
};

struct ir_graph {
	ir_arena *arena;
	const char *name;
	const char *src_file;        /* model file, for diagnostics; may be NULL */
	ir_value **values;
	int nvalues, capvalues;
	ir_node **nodes;             /* topological order after ir_graph_toposort */
	int nnodes, capnodes;
	ir_value **inputs;
	int ninputs, capinputs;
	ir_value **outputs;
	int noutputs, capoutputs;
	struct ir_name_map *names;   /* value name -> value */
	bool oom;                    /* an edit failed for want of memory (see
	                              * ir_graph_oom) */
	struct ir_dep *deps;         /* files read besides src_file, newest first */
};

/* A file that building a graph read besides the model itself (ONNX
 * external data, a DSL weights or .npy file): an input of the compile as
 * much as the model, listed by -MD. */
typedef struct ir_dep {
	const char *path;            /* as opened, relative to the working folder */
	struct ir_dep *next;
} ir_dep;

/* Record path (copied) as a file g was built from, at the head of
 * g->deps; a repeat of the newest is dropped (others may repeat).  0, or
 * -1 out of memory. */
int ir_graph_add_dep(ir_graph *g, const char *path);
/* Put copies of src's deps, in their order, before dst's.  0, or -1 out
 * of memory. */
int ir_graph_copy_deps(ir_graph *dst, const ir_graph *src);

/* Capacity for a vector of at least `need` (<= INT_MAX) items grown from
 * `cap`: cap itself when it suffices, else cap (or 16) doubled until it
 * does, clamped at INT_MAX rather than overflowing int. */
int ir_grow_cap(int cap, int need);

/* Create an empty graph with its own arena.  Caller owns; destroy with
 * ir_graph_destroy.  NULL when out of memory. */
ir_graph *ir_graph_create(const char *name);
void ir_graph_destroy(ir_graph *g);

/* Out of memory is sticky, as SQLite's mallocFailed: an edit below that
 * cannot get memory leaves the graph as it was (a builder returns NULL, a
 * setter does nothing) and marks it, and so does any failed allocation
 * from its arena.  Such a graph is incomplete: whoever built or changed it
 * (a loader, the pass manager after each pass) checks ir_graph_oom,
 * reports "out of memory" and only destroys it. */
bool ir_graph_oom(const ir_graph *g);

/* New value named `name` (copied).  Returns NULL if the name is taken, or
 * when out of memory (ir_graph_oom). */
ir_value *ir_graph_add_value(ir_graph *g, const char *name, ir_dtype dt, const ir_shape *shape);
/* New constant; copies numel*size bytes from data (zero-filled if NULL). */
ir_value *ir_graph_add_const(ir_graph *g, const char *name, ir_dtype dt, const ir_shape *shape,
                             const void *data);
/* A fresh name "<base>", "<base>.1", ... not used in g (arena-owned);
 * NULL when out of memory (base NULL counts: a name that could not be
 * built). */
const char *ir_graph_unique_name(ir_graph *g, const char *base);
ir_value *ir_graph_find_value(const ir_graph *g, const char *name);
/* Turn v into a constant holding a copy of data (shape/dtype must be set). */
int ir_value_set_const(ir_graph *g, ir_value *v, const void *data);

/* NULL when out of memory (ir_graph_oom). */
ir_node *ir_graph_add_node(ir_graph *g, ir_op op, const char *name, int nin, ir_value *const *in,
                           int nout, ir_value *const *out);
void ir_graph_add_input(ir_graph *g, ir_value *v);
void ir_graph_add_output(ir_graph *g, ir_value *v);

/* Sort nodes topologically.  Reports a cycle (naming a node on it) and
 * returns -1. */
int ir_graph_toposort(ir_graph *g, diag_sink *d);
/* Drop dead nodes and values no node, input or output references;
 * renumber.  (Out of memory, dead nodes go but values stay, and the graph
 * is marked.) */
void ir_graph_compact(ir_graph *g);
/* Replace every use of `from` (node inputs, graph outputs) by `to`. */
void ir_graph_replace_uses(ir_graph *g, ir_value *from, ir_value *to);
/* Number of node inputs (of live nodes) reading v, plus graph outputs. */
int ir_value_use_count(const ir_graph *g, const ir_value *v);
/* Is v one of g's outputs? */
bool ir_value_is_output(const ir_graph *g, const ir_value *v);
/* The one live node reading v, when v has exactly one use and is not a
 * graph output; NULL otherwise. */
ir_node *ir_value_sole_user(const ir_graph *g, const ir_value *v);

/* Turn graph input v into a constant of the given concrete shape holding a
 * copy of data, and drop it from g->inputs (how `qgtc run` binds shape
 * operands it already knows).  0, or -1 if v is not an input or its
 * declared shape/dtype disagrees (reported). */
int ir_graph_bind_input(ir_graph *g, ir_value *v, const ir_tensor *t, diag_sink *d);

/* Set every symbolic dim to `batch` and clear inferred shapes of computed
 * values so that ir_infer_shapes can run again. */
void ir_graph_bind_batch(ir_graph *g, int64_t batch);

/* A deep copy of g in its own arena: the same values, nodes (dead ones
 * included), attributes, hints, constants' data and quantization
 * annotations, in the same order and with the same ids, so that whatever
 * runs on the copy runs exactly as on g.  Caller owns; NULL when out of
 * memory. */
ir_graph *ir_graph_clone(const ir_graph *g);

/* Attributes.  Setters copy their arguments into the arena and replace an
 * existing attribute of the same name; out of memory, they leave the node
 * as it was and mark the graph (ir_graph_oom). */
const ir_attr *ir_node_attr(const ir_node *n, const char *name);
int64_t ir_attr_int(const ir_node *n, const char *name, int64_t dflt);
float ir_attr_float(const ir_node *n, const char *name, float dflt);
const int64_t *ir_attr_ints(const ir_node *n, const char *name, int *count); /* NULL if absent */
const float *ir_attr_floats(const ir_node *n, const char *name, int *count);
const char *ir_attr_str(const ir_node *n, const char *name, const char *dflt);
void ir_node_set_int(ir_graph *g, ir_node *n, const char *name, int64_t v);
void ir_node_set_float(ir_graph *g, ir_node *n, const char *name, float v);
void ir_node_set_ints(ir_graph *g, ir_node *n, const char *name, const int64_t *v, int count);
void ir_node_set_floats(ir_graph *g, ir_node *n, const char *name, const float *v, int count);
void ir_node_set_str(ir_graph *g, ir_node *n, const char *name, const char *s);
void ir_node_del_attr(ir_node *n, const char *name);
/* Copy every attribute of `from` (of any graph) onto `to` of g. */
void ir_node_copy_attrs(ir_graph *g, ir_node *to, const ir_node *from);

/* "FILE: node 14 'Conv_23' (Conv)" for diagnostics, in a static ring
 * buffer good for a few concurrent uses. */
const char *ir_node_loc(const ir_graph *g, const ir_node *n);

/* A constant whose data is present: what inference and folding may read.
 * A constant elided from a .qir dump has shape and dtype but no data, and
 * counts as not (yet) constant. */
bool ir_value_is_const(const ir_value *v);

/* Read integer elements of a constant i32/i64 tensor as int64.  Returns
 * element count, or -1 if v is not such a constant or has > max elements. */
int ir_const_ints(const ir_value *v, int64_t *out, int max);
/* Element k of data of dtype dt as a double (bool 0/1; others 0). */
double ir_elem_get(const void *data, ir_dtype dt, int64_t k);
/* Read element k of any numeric constant as double. */
double ir_const_get(const ir_value *v, int64_t k);

/* -------------------------------------------------------- whole-graph */

/* Run infer over nodes in order (graph must be toposorted).  Returns 0 or
 * -1 with errors reported. */
int ir_infer_shapes(ir_graph *g, diag_sink *d);
/* One node: its op's infer, then an integer activation's quantization
 * carried from operand 0 to the output of the ops that keep its grid
 * (pools, relu, reshapes and other views). */
int ir_infer_node(ir_graph *g, ir_node *n, diag_sink *d);
/* Is op one of those (its integer output on its operand 0's grid)? */
bool ir_op_keeps_quant(ir_op op);
/* ir_op_keeps_quant, or a node of another op that keeps it by its
 * attributes: a resize in nearest mode (every output one input element),
 * but for tf_crop_and_resize (its extrapolation value is a float). */
bool ir_node_keeps_quant(const ir_node *n);
/* Can resize n take data of dtype dt?  f32, or i8, u8 and i16 (quantized
 * activations) where it keeps their grid (ir_node_keeps_quant). */
bool ir_resize_dtype_ok(const ir_node *n, ir_dtype dt);
/* Is op an activation that an integer input runs through a `lut` table
 * (fold-qdq builds it from the op's float kernel; every engine reads it)? */
bool ir_op_table_act(ir_op op);
/* An elementwise op of one operand, x alone (relu, sigmoid, sqrt, gelu,
 * ...): INPLACE0 with exactly one input in ops.def.  One backend kernel
 * (be_l_unary) and one trainer backward take them all. */
bool ir_op_is_unary(ir_op op);
/* reduce_mean, reduce_sum, reduce_max, ... (axes operand 1). */
bool ir_op_is_reduce(ir_op op);
/* pad, slice, gather, expand, tile, depth_to_space, space_to_depth: each
 * output element is a copy of one element of operand 0 (or a pad's
 * fill), the other operands constant in practice.  Their integer output
 * is on the input's grid; the trainer's backward routes gradients back
 * along the copies. */
bool ir_op_is_selection(ir_op op);
/* gelu with approximate="tanh" (else the erf form). */
bool ir_gelu_tanh(const ir_node *n);
/* expand, tile, depth_to_space, space_to_depth of x (shape xs) into y
 * (ys): y row-major over dims[0..*rank) takes x[sum idx_i * st[i]];
 * -1 when the node does not fit the shapes (ir/k_shape.c). */
int ir_copy_map(const ir_node *n, const ir_shape *xs, const ir_shape *ys, int *rank, int64_t *dims,
                int64_t *st);

/* Structural checks: dangling values, cycles, arity, attribute names and
 * kinds, dtypes and shapes consistent with inference, quantization
 * annotations that fit their values (ir_quant_check).  `need_shapes`
 * also requires every value's shape to be known. */
int ir_verify(ir_graph *g, bool need_shapes, diag_sink *d);
/* Does quantization q fit value v (its dtype and shape)?  The one rule the
 * verifier and the .qir reader apply: a known scheme; nchan 1 per tensor
 * (axis -1), else the concrete extent of the axis; weight codes of 1..8
 * bits, each below 2^bits; on an integer activation (i8/u8/i16/u16, codes
 * NULL) scheme affine, bits its width and zero points in its range.  The
 * arrays are taken to hold the lengths nchan and bits give them.  0, or
 * -1 with the reason in why[n]. */
int ir_quant_check(const ir_value *v, const ir_quant *q, char *why, size_t n);

/* Text form (.qir).  Constants with more than `max_inline` elements are
 * elided unless max_inline < 0 (print all, exact hex floats). */
void ir_print(FILE *f, const ir_graph *g, long max_inline);

/* Parse the .qir text form (what ir_print writes) into a new graph (caller
 * owns).  Elided constants come back as constants without data (data
 * NULL): enough to inspect and run shape passes, not to execute.  Errors
 * read "FILE:LINE:COL: error: ..." followed by the source line and a
 * caret; all of them in one run where possible.  NULL after reporting. */
ir_graph *ir_parse(const char *text, size_t len, const char *filename, diag_sink *d);

/* ---------------------------------------------- integer arithmetic */

/* The one requantization rule of the integer path, after TFLite and
 * CMSIS-NN (gemmlowp's fixed point): a real multiplier m > 0 is stored as
 * an int32 `mult` in [2^30, 2^31) and a `shift` with
 * m = mult * 2^(shift - 31), and an int32 accumulator acc becomes
 *
 *   RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(acc << max(shift, 0),
 *                       mult), max(-shift, 0))
 *
 * the high multiply rounding half up (gemmlowp's nudge), the shift half
 * away from zero, so a product may round twice, exactly as TFLite and
 * CMSIS-NN (default build) do.  The left shift wraps like CMSIS-NN's
 * int32 multiply.  ir_requant_multiplier returns 0, or -1 when m is not a
 * positive finite number or is at least 2^31 (the shift cannot express
 * it); a multiplier under 2^-31 becomes mult 0, shift 0 (the result is 0).
 * Passes derive (mult, shift) once and store them in the graph; the
 * interpreter and every backend read those integers and never the float. */
int ir_requant_multiplier(double m, int32_t *mult, int32_t *shift);
int32_t ir_requant_apply(int32_t acc, int32_t mult, int32_t shift);
/* The float boundary's rule for one element, as quantize and dequantize
 * evaluate it (and fake_quant, and the trainer's fake quantizer, so the
 * grid trained on is the grid deployed): ir_quantize_unsat gives x / scale
 * in f32, rounded half to even, plus zp, before saturation (NaN gives zp);
 * quantize saturates that to the dtype's range.  ir_dequantize_elem gives
 * ((f32)q - (f32)zp) * scale. */
double ir_quantize_unsat(float x, float scale, int64_t zp);
float ir_dequantize_elem(int64_t q, float scale, int64_t zp);
/* Saturating range of an integer dtype (i8, u8, i16, u16, i32). */
void ir_dtype_range(ir_dtype t, int64_t *lo, int64_t *hi);
/* The range of a `bits`-wide integer held in qint dtype t, signed when t
 * is: int4 in i8 is [-8, 7], uint2 in u8 [0, 3].  bits 0, or not
 * narrower than t, is t's own range. */
void ir_dtype_range_bits(ir_dtype t, int bits, int64_t *lo, int64_t *hi);
/* The range of integer activation v: its dtype's, narrowed to the bits
 * of its affine quant (a quantize with `bits` made it). */
void ir_value_range(const ir_value *v, int64_t *lo, int64_t *hi);
/* Entries of the `lut` of sigmoid, tanh, hard_sigmoid, hard_swish,
 * leaky_relu or softmax on an integer input of dtype t: 256 for i8/u8
 * (one per code or distance), 513 for i16 (interpolated;
 * ir/k_elementwise.c and ir/k_reduce.c give the rules); 0 where no table
 * applies. */
int ir_act_lut_len(ir_dtype t);
/* The integer layer_norm's reciprocal square root (ir/k_reduce.c gives
 * the rule): ~2^46 / sqrt(a) for a in [2^30, 2^32), from the seed table
 * ir_ln_rsqrt_seed(k), k = 0..47, and three fixed-point Newton steps. */
int64_t ir_ln_rsqrt(uint32_t a);
int64_t ir_ln_rsqrt_seed(int k);
bool ir_dtype_is_qint(ir_dtype t);   /* i8, u8, i16, u16: an activation's element type */
/* A per-tensor (axis -1, nchan 1) or per-axis affine activation quant for
 * dtype t in g's arena, scale/zero_point zeroed; NULL when out of memory. */
ir_quant *ir_quant_act_create(ir_graph *g, ir_dtype t, int axis, int nchan);
/* Do a and b describe the same affine parameters (both NULL counts)? */
bool ir_quant_act_eq(const ir_quant *a, const ir_quant *b);

/* --------------------------------------------------------------- einsum */

/* An einsum equation resolved against its operands' ranks (ONNX Einsum,
 * numpy's rules): every axis of every operand and of the output gets a
 * label id in [0, nlab); letters keep one id wherever they appear, the
 * axes an ellipsis stands for get ids of their own, shared right-aligned
 * across operands (they broadcast).  Without "->" the output is the
 * ellipsis axes, then the letters used once, in ASCII order. */
#define IR_EINSUM_MAX_OPS 8
#define IR_EINSUM_MAX_LABELS (52 + IR_MAX_RANK)
typedef struct ir_einsum {
	int nops;
	int rank[IR_EINSUM_MAX_OPS];
	int lab[IR_EINSUM_MAX_OPS][IR_MAX_RANK];
	int orank;
	int olab[IR_MAX_RANK];
	int nlab;
	bool ell[IR_EINSUM_MAX_LABELS]; /* the label is an ellipsis axis */
} ir_einsum;

/* Resolve eq for nops operands of the given ranks into e.  0, or -1 with
 * the reason in err. */
int ir_einsum_parse(const char *eq, int nops, const int *ranks, ir_einsum *e, char *err, size_t errlen);

/* ------------------------------------------------------ interpreter */

/* Reference interpreter.  inputs[k] feeds g->inputs[k] (shape must match
 * the graph's, after ir_graph_bind_batch).  On success outputs[k] gets
 * freshly malloc'd data for g->outputs[k] (caller frees with
 * ir_tensor_free).  Returns 0 or -1 with errors reported. */
int ir_interp_run(ir_graph *g, const ir_tensor *inputs, ir_tensor *outputs, diag_sink *d);
/* The same run a node at a time, for passes that look at values on the
 * way (sequential calibration).  Only the nodes that the nwant values
 * `want` need will run; those values are held to the end if `hold`, else
 * until the run moves past the node that makes them.  Other values are
 * freed once the run moves past their last reader.  Step through
 * g->nodes in order (a node not needed is skipped); stepping node i
 * again re-runs it, on the same inputs and the constants as they are now.
 * inputs must outlive the run.  begin gives NULL with errors reported. */
typedef struct ir_interp ir_interp;
ir_interp *ir_interp_begin(ir_graph *g, const ir_tensor *inputs, ir_value *const *want, int nwant,
                           bool hold, diag_sink *d);
int ir_interp_step(ir_interp *s, int i, diag_sink *d);
/* v's tensor in the run (data NULL if v was not computed or is freed). */
const ir_tensor *ir_interp_get(const ir_interp *s, const ir_value *v);
void ir_interp_end(ir_interp *s);
void ir_tensor_free(ir_tensor *t);
/* Evaluate one node on constant/explicit tensors (constant folding). */
int ir_eval_node(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d);
/* Evaluate n, whose operands are constants (a Shape's: its shape known)
 * and whose outputs' shapes are known, into constants: the outputs hold
 * the results and lose their producer, n is marked dead (fold-constants,
 * and the ONNX importer's If conditions).  0, or -1 reported. */
int ir_fold_node(ir_graph *g, ir_node *n, diag_sink *d);

#endif
