/* backend.h: the native backend.  A planned graph (static shapes) is
 * lowered once through LLVM and emitted as an object, assembly, LLVM IR or
 * a C header, or JIT-compiled for the host.  Targets differ only in
 * triple, CPU, features and float ABI.
 *
 * The generated C ABI, for a symbol prefix NAME (upper-case in macros):
 *   #define NAME_ARENA_SIZE   <bytes>     scratch the caller provides, 16-byte aligned
 *   #define NAME_NUM_INPUTS   <n>
 *   #define NAME_NUM_OUTPUTS  <n>
 *   #define NAME_INPUT_k_SIZE <elements>  one per input
 *   #define NAME_OUTPUT_k_SIZE <elements> one per output
 *   int name_run(const float *const inputs[], float *const outputs[], void *arena);
 * Buffers must not overlap one another or the arena.  Returns 0.
 * When some input or output is not f32, the same function is declared with
 * untyped pointers (const void *const inputs[], void *const outputs[]):
 * inputs[k]/outputs[k] point to elements of that input's/output's dtype,
 * which the header's comment on each SIZE macro names. */
#ifndef QGTC_BACKEND_H
#define QGTC_BACKEND_H

#include "ir.h"
#include "memplan.h"
#include "quant.h"

typedef enum { BE_FLOAT_ABI_DEFAULT, BE_FLOAT_ABI_HARD, BE_FLOAT_ABI_SOFT } be_float_abi;
typedef enum { BE_RELOC_DEFAULT, BE_RELOC_STATIC, BE_RELOC_PIC } be_reloc;

/* Which kernels convolutions and dense layers get.
 *   SPEED  register-tiled kernels specialised per layer (-O0..3);
 *   SIZE   one compact kernel per weight encoding, shared by every layer
 *          through a small constant descriptor, and LLVM's size pipeline
 *          (-Os; -Oz: BE_CODE_MIN);
 *   AUTO   SIZE's kernels for layers with packed (quantized) weights on
 *          microcontrollers (M-profile triples), where flash is what the
 *          quantization was for; SPEED otherwise.  The default. */
typedef enum { BE_CODE_AUTO, BE_CODE_SPEED, BE_CODE_SIZE, BE_CODE_MIN } be_code;

/* A resolved target: everything LLVM needs to make a target machine. */
typedef struct be_target {
	char triple[128];       /* normalised, e.g. "thumbv7em-unknown-none-eabihf" */
	char cpu[64];           /* e.g. "cortex-m4"; "" for the generic CPU */
	char features[2048];    /* "+a,-b"; may be "" */
	be_float_abi float_abi; /* hard/soft (Cortex-M); DEFAULT elsewhere */
	be_reloc reloc;         /* PIC on x86-64/aarch64 hosts, static on Cortex-M */
	int opt;                /* 0..3 */
	be_code code;           /* kernel policy: speed, size, or chosen per target */
	bool is_host;           /* resolved from "host": runnable in this process */
	bool profile;           /* --profile: NAME_profile[k] sums the ticks spent in node k */
} be_target;

/* Resolve --target NAME (x86_64, aarch64, armv7em, host, or any LLVM
 * triple), -mcpu, -mattr and -mfloat-abi (hard|soft; Cortex-M only) into
 * out.  mcpu, mattr and float_abi may be NULL.  Opt level is set to 3,
 * the kernel policy to BE_CODE_AUTO.
 * 0, or -1 after reporting. */
int be_target_resolve(const char *name, const char *mcpu, const char *mattr,
                      const char *float_abi, be_target *out, diag_sink *d);

typedef enum { BE_EMIT_OBJ, BE_EMIT_ASM, BE_EMIT_LLVM, BE_EMIT_HEADER } be_emit;

typedef struct be_options {
	be_emit emit;
	const char *out_path;   /* file to write ("-": stdout; asm/llvm/header only) */
	const char *name;       /* symbol prefix, a C identifier of <= BE_MAX_NAME chars */
	const char *model_desc; /* for the header's comment; may be NULL */
	char *imports;          /* with an object: receives its undefined symbols, space-
	                         * separated (imports_len bytes); may be NULL */
	size_t imports_len;
	pass_object_size *sizes; /* with an object: receives its section sizes; may be NULL */
	int64_t *stack;          /* with an object: receives its stack need (-1: not known); may be NULL */
} be_options;

/* Longest symbol prefix: every symbol, macro and internal global name
 * built from it fits its buffer whole, so the header and the object
 * always agree.  A longer --name is an error, never truncated. */
#define BE_MAX_NAME 64

/* Derive a C identifier from a path's stem ("out/Model-v2.o" -> "model_v2")
 * into buf, at most BE_MAX_NAME characters of it.  Returns buf. */
char *be_default_name(const char *path, char *buf, size_t n);

/* The largest value (tensor) the native backend takes, in bytes: its
 * per-axis position tables are int32, and a 32-bit target addresses
 * 4 GiB in all. */
#define BE_MAX_VALUE_BYTES (((int64_t)1 << 31) - 1)

/* What a target whose pointers are ptr_bytes wide can address: with
 * 32-bit pointers the arena (the caller's scratch) and the object's
 * constant data (weights and tables, as laid out, alignment included)
 * must each stay within BE_MAX_VALUE_BYTES, so that no offset or size is
 * emitted wrapped at pointer width.  `file` names the model.  0, or -1
 * after reporting each that does not fit. */
int be_check_addressable(const char *file, int64_t arena_bytes, int64_t data_bytes,
                         unsigned ptr_bytes, diag_sink *d);

/* Every node the native backend cannot lower, one error each (all of them),
 * and every value over BE_MAX_VALUE_BYTES.
 * Returns the count (0: the graph is supported). */
int be_check_supported(const ir_graph *g, diag_sink *d);

/* Lower g (toposorted, shapes concrete) for t and write o->emit to
 * o->out_path: written to a temporary next to it and renamed, so an error
 * leaves nothing behind.  Objects are byte-identical for identical inputs.
 * 0, or -1 after reporting. */
int be_compile(ir_graph *g, const be_target *t, const be_options *o, diag_sink *d);

/* be_compile into memory: *buf (malloc'd; the caller frees) gets the
 * *len bytes of o->emit (object, assembly or LLVM IR; o->out_path is not
 * used), so nothing touches the file system; o->imports and o->sizes as
 * for be_compile.  0, or -1 after reporting with *buf NULL. */
int be_compile_buffer(ir_graph *g, const be_target *t, const be_options *o, void **buf, size_t *len,
                      diag_sink *d);

/* Write the C header of the ABI above for g to path (same temp+rename).
 * imports: the object's undefined symbols as be_compile returned them,
 * listed as what it needs at link time; NULL (no object) derives that
 * from the ops instead.  stack: the object's stack need as be_compile
 * returned it, stated as NAME_STACK_SIZE (none when negative). */
int be_write_header(ir_graph *g, const char *name, const char *path, const char *imports, int64_t stack,
                    diag_sink *d);
/* The same for an object built with --profile: the header also declares
 * NAME_profile[] and says which node each entry counts. */
int be_write_header_profile(ir_graph *g, const char *name, const char *path, const char *imports,
                            int64_t stack, diag_sink *d);

/* Lower g for the host with the same code path as be_compile and kernel
 * policy code, JIT it with ORC LLJIT and run it once.  inputs/outputs as
 * for ir_interp_run (outputs get malloc'd data the caller frees with
 * ir_tensor_free).  0 or -1. */
int be_jit_run(ir_graph *g, be_code code, const ir_tensor *inputs, ir_tensor *outputs, diag_sink *d);
/* The same compiled once and run many times (an evaluation over batches):
 * be_jit_open lowers and JITs g (NULL after reporting); be_jit_call runs
 * it on inputs of g's shapes as be_jit_run does; be_jit_close frees it
 * (NULL is fine).  g must outlive the handle, unchanged. */
typedef struct be_jit be_jit;
be_jit *be_jit_open(ir_graph *g, be_code code, diag_sink *d);
int be_jit_call(be_jit *j, const ir_tensor *inputs, ir_tensor *outputs, diag_sink *d);
void be_jit_close(be_jit *j);

/* -------------------------------------------------- backend interface */

typedef struct be_module be_module; /* a lowered graph, owned by its backend */

/* A backend is a table of hooks (QBE's Target, ggml's backend tables). */
typedef struct be_backend {
	const char *name;
	/* Can n be lowered?  If not, a one-line reason goes to why. */
	bool (*supports_op)(const ir_graph *g, const ir_node *n, char *why, size_t whylen);
	/* Lower the whole graph with its memory plan; NULL after reporting. */
	be_module *(*lower)(ir_graph *g, const pass_mem_plan *plan, const be_target *t,
	                    const char *name, diag_sink *d);
	/* Optimise and write the module to path as obj/asm/llvm; 0 or -1. */
	int (*emit)(be_module *m, be_emit kind, const char *path, diag_sink *d);
	/* The same into *buf (malloc'd, the caller frees), *len bytes. */
	int (*emit_buffer)(be_module *m, be_emit kind, void **buf, size_t *len, diag_sink *d);
	/* After emitting an object: the symbols it imports, space-separated
	 * ("" when none or not known), and its section sizes (NULL when
	 * not known). */
	const char *(*imports)(const be_module *m);
	const pass_object_size *(*sizes)(const be_module *m);
	/* After emitting an object or assembly: the bytes of stack NAME_run
	 * needs, its own frames and its callees' in the object (not those of
	 * the functions it imports), or -1 when not known. */
	int64_t (*stack)(const be_module *m);
	void (*destroy)(be_module *m);
} be_backend;

extern const be_backend be_llvm_backend;

#endif
