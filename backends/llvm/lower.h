/* lower.h: what the per-op-family lowering files (l_*.c) share: the
 * function being built, value addresses from the memory plan, and a small
 * loop-nest builder for constant trip counts.  Everything about shapes is
 * known here, so every loop bound, stride and offset is an LLVM constant. */
#ifndef QGTC_BE_LOWER_H
#define QGTC_BE_LOWER_H

#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>

#include "backend.h"
#include "kernel.h"
#include "lower_internal.h"

enum { BE_COMPACT_KINDS = 432, BE_LAYER_SLOTS = 32 };

/* A pointer a layer function takes as a parameter (lower.c, layer_fn):
 * an arena offset, a caller's input or output buffer, or a global. */
typedef struct be_pslot {
	int kind;                     /* MP_ARENA, MP_INPUT, MP_OUTPUT, or -1: a global */
	int64_t key;                  /* offset or index */
	LLVMValueRef gv;              /* the global (kind -1) */
	LLVMValueRef arg;             /* the body's value for it, passed by the call */
	int64_t lo, hi;               /* MP_ARENA: the bytes reached through it */
} be_pslot;

struct be_layer;

/* Where code is being built: the body, or a layer function (its
 * function, entry block, arena and buffer parameters). */
typedef struct be_site {
	struct be_layer *layer;
	LLVMValueRef fn, arena, *inp, *outp;
	LLVMBasicBlockRef entry;
} be_site;

typedef struct be_layer {
	be_pslot s[BE_LAYER_SLOTS];
	int n;
	bool full;                    /* a pointer found no slot: reported */
	LLVMValueRef fn;              /* the layer function */
} be_layer;

/* How an f32 constant is stored (passes/quant.h: pass_bias_dtype, the
 * biases of quantized float layers): dt PASS_BIAS_F32, _F16 (fp16 bit
 * patterns) or _B12 (12-bit codes of base e0). */
typedef struct be_cstore {
	signed char dt;
	short e0;
} be_cstore;


typedef struct be_fn {
	LLVMContextRef ctx;
	LLVMModuleRef mod;
	LLVMBuilderRef b;
	LLVMValueRef fn;              /* the body function being built */
	LLVMBasicBlockRef entry;      /* allocas go here */
	LLVMTypeRef f32, i1, i8, i32, i64, ity, ptr, vd;
	ir_graph *g;
	const pass_mem_plan *plan;
	const char *name;             /* symbol prefix */
	diag_sink *d;
	LLVMValueRef *vptr;           /* per value id: cached storage address */
	LLVMValueRef *inp, *outp;     /* body parameters */
	LLVMValueRef arena;
	LLVMValueRef libm[BE_LIBM_N]; /* declared libm functions (BE_LIBM_*), on first use */
	int vl, nreg;                 /* f32 lanes per vector register, vector registers */
	bool *fused;                  /* per node index: lowered already, inside a producer */
	bool *cl;                     /* per value id: stored channel-blocked (l_conv.c), or NULL */
	void *qw;                     /* per value id: packed-weight globals (l_qweight.c) */
	be_cstore *cst;               /* per value id: how an f32 constant is stored (be_vld) */
	be_code code;                 /* kernel policy, resolved: SPEED, SIZE, MIN or AUTO */
	bool mcu;                     /* M-profile target (AUTO: compact kernels for packed weights) */
	bool lcall;                   /* the node lowered to one call of a shared kernel */
	bool dsp;                     /* Armv7E-M DSP instructions (SMLAD, SXTB16): l_int_dsp.c */
	bool vcvtr;                   /* M-profile with a hard-float FPU and the DSP: VCVTR, QADD */
	int isimd;                    /* BE_ISIMD_*: l_int_dsp.c's SIMD integer tiles */
	int vnni;                     /* x86 VPDPBUSD: 1 AVX512-VNNI with VL, 2 AVX-VNNI, or 0 */
	LLVMValueRef compact[BE_COMPACT_KINDS]; /* shared kernels declared so far (l_compact.c) */
	unsigned char cpaths[BE_COMPACT_KINDS]; /* the paths their layers take (l_compact.c) */
	LLVMValueRef icompact[54];    /* and the integer ones (l_compact_int.c) */
	unsigned char icwidths[54];   /* gemm: the weight widths their layers use; depthwise:
	                               * 1 if a layer's taps go in pairs */
	be_layer *layer;              /* the layer function being built, or NULL (the body) */
	int64_t asm_stack;            /* be_asm_stack's largest */
	struct be_oconst *oconst;     /* be_opaque_const's globals so far */
	int noconst, capoconst;
	be_site body;                 /* the body's, for addresses made there */
	int *npos;                    /* per node index: its position in the memory plan */
	int pos;                      /* the node being lowered's, or -1 */
	int64_t scr[8][2];            /* be_scratch's arena ranges for that node */
	int nscr;
} be_fn;

/* Which values the convs keep channel-blocked (be_fn.cl; l_conv.c): 0,
 * or -1 reported. */
int be_conv_layout(be_fn *f);
/* The target's f32 vector lanes (1: scalar FPU) and register count, from
 * its triple, CPU and features (l_conv.c). */
void be_vector_shape(const be_target *t, int *vl, int *nreg);
/* The integer SIMD the target has for l_int_dsp.c's byte tiles. */
enum { BE_ISIMD_NONE, BE_ISIMD_NEON, BE_ISIMD_NEON_DOT, BE_ISIMD_SSE2, BE_ISIMD_AVX2 };
int be_int_simd(const be_target *t);
/* x86 with VPDPBUSD on 128-bit vectors: 1 through AVX512-VNNI + VL, 2
 * through AVX-VNNI, 0 without. */
int be_int_vnni(const be_target *t);


/* Address of v's storage (arena, caller buffer or constant global), or
 * NULL when v is never stored (MP_NONE). */
LLVMValueRef be_ptr(be_fn *f, const ir_value *v);
/* A private constant global named name holding init (align 0: the
 * type's), marked externally_initialized so that the optimizer never
 * folds loads from it: packed weights stay packed, descriptors stay data. */
LLVMValueRef be_opaque_const(be_fn *f, const char *name, LLVMValueRef init, unsigned align);
/* The global holding constant v (NULL when v is not a constant), even
 * inside a layer function, where be_ptr gives the parameter it came in:
 * for a descriptor that must hold the address itself (l_compact.c). */
LLVMValueRef be_const_global(be_fn *f, const ir_value *v);
/* Attribute `name` (an enum attribute such as "noalias") in c. */
LLVMAttributeRef be_attr(LLVMContextRef c, const char *name);
/* Integer-list attribute `name` of n with nsp entries into v; 1 each when
 * absent or of another length (strides, dilations). */
void be_ints_attr(const ir_node *n, const char *name, int nsp, int64_t *v);
/* Operand k of n as a float constant scalar into *out: true when it is one
 * or absent (then dflt), false (and dflt) when it is not a constant scalar. */
bool be_const_scalar(const ir_node *n, int k, float dflt, float *out);
/* Is v stored at the same address as w (a view or in-place alias)? */
bool be_same_storage(be_fn *f, const ir_value *v, const ir_value *w);

LLVMValueRef be_ci(be_fn *f, int64_t v);          /* index constant */
LLVMValueRef be_cf(be_fn *f, float v);            /* f32 constant */
LLVMValueRef be_add(be_fn *f, LLVMValueRef a, LLVMValueRef b); /* index add (nuw nsw) */
LLVMValueRef be_mul(be_fn *f, LLVMValueRef a, int64_t k);       /* index * const */
/* base + sum ivs[i] * st[i] over i < n (zero strides skipped). */
LLVMValueRef be_affine(be_fn *f, int64_t base, int n, const LLVMValueRef *ivs, const int64_t *st);
LLVMValueRef be_ld(be_fn *f, LLVMValueRef p, LLVMValueRef idx);
/* Element idx of v, whose storage p is (be_ptr), as an f32: be_ld, or
 * for a constant stored as fp16 bit patterns or b12 codes (be_fn.cst) its
 * code widened.  Every reader of such a constant loads it through here. */
LLVMValueRef be_vld(be_fn *f, const ir_value *v, LLVMValueRef p, LLVMValueRef idx);
/* The f32 of fp16 bit pattern h (an i32 holding 0 or a normal number),
 * by integer operations only: no FP16 hardware or library call. */
LLVMValueRef be_f16_widen(be_fn *f, LLVMValueRef h);
/* Element idx of the fp16 bit patterns at p, widened (be_f16_widen). */
LLVMValueRef be_f16_ld(be_fn *f, LLVMValueRef p, LLVMValueRef idx);
/* The f32 of scale or bias code k (an i32; passes/quant.h: pass_ecode)
 * of mb mantissa bits, with its sign as bit mb + 4 when `sign`, base =
 * (e0 + 127) << 23 (an i32): 0 for a code 0. */
LLVMValueRef be_ecode_widen(be_fn *f, LLVMValueRef k, LLVMValueRef base, int mb, bool sign);
/* Element idx of the 12-bit codes at p (be_code12_array), widened. */
LLVMValueRef be_code12_ld(be_fn *f, LLVMValueRef p, LLVMValueRef idx, LLVMValueRef base, int mb, bool sign);
/* The 12-bit codes of d[0..n) (pass_ecode at base e0, mb mantissa bits),
 * packed two in three bytes, LSB first: (12 n + 7) / 8 bytes. */
LLVMValueRef be_code12_array(be_fn *f, const float *d, int64_t n, int e0, int mb);
/* The fp16 bit patterns (i16 array) of d[0..n), each 0 or pass_f16_exact. */
LLVMValueRef be_f16_array(be_fn *f, const float *d, int64_t n);
void be_st(be_fn *f, LLVMValueRef p, LLVMValueRef idx, LLVMValueRef v);
LLVMValueRef be_call(be_fn *f, int libm, LLVMValueRef x);
/* The same for a two-argument one (powf). */
LLVMValueRef be_call2(be_fn *f, int libm, LLVMValueRef x, LLVMValueRef y);
LLVMValueRef be_sqrt(be_fn *f, LLVMValueRef x);
/* Mark an arithmetic instruction of a reduction: reassociation allowed. */
LLVMValueRef be_fast(LLVMValueRef inst);
/* A float accumulator slot in the entry block (SROA turns it into SSA). */
/* An alloca of ty in the function's entry block (builder position kept). */
LLVMValueRef be_entry_alloca(be_fn *f, LLVMTypeRef ty, const char *name);
/* Scratch of type ty for the node being lowered (its planes, columns or
 * packed operands).  On M-profile targets, in the body or a layer
 * function (there through a slot of its own): bytes of the arena that no
 * buffer occupies while that node (and any node fused into
 * it) runs, at a multiple of PASS_MEMPLAN_ALIGN, so that the arena the
 * header states holds it and the stack does not.  Where no such gap is
 * large enough, and on hosts and A-profile cores (whose stack is no
 * scarcer than the arena, and where an alloca lets LLVM tell the scratch
 * from the tensors: AArch64's vector tiles took 6.7% more instructions on
 * VWW with their columns in the arena), an entry alloca aligned to align
 * (at most PASS_MEMPLAN_ALIGN).  Its contents are undefined on entry;
 * be_lifetime marks an alloca's life and leaves arena scratch alone. */
LLVMValueRef be_scratch(be_fn *f, LLVMTypeRef ty, unsigned align, const char *name);
/* llvm.lifetime.start/end of an alloca of size bytes (nothing for arena
 * scratch). */
void be_lifetime(be_fn *f, bool start, LLVMValueRef p, int64_t size);
LLVMValueRef be_slot(be_fn *f);
/* a < b ? x : y etc. */
LLVMValueRef be_sel_lt(be_fn *f, LLVMValueRef a, LLVMValueRef b, LLVMValueRef x, LLVMValueRef y);

/* A counted loop 0..n-1 (bottom-tested; the body runs n times).
 * be_loop_begin_v: the trip count is a run-time index value, at least 1. */
typedef struct be_loop {
	LLVMBasicBlockRef body, exit;
	LLVMValueRef phi, nv;
	int64_t n;
} be_loop;
LLVMValueRef be_loop_begin(be_fn *f, be_loop *l, int64_t n);
LLVMValueRef be_loop_begin_v(be_fn *f, be_loop *l, LLVMValueRef n);
void be_loop_end(be_fn *f, be_loop *l);
/* No unrolling of a loop (!llvm.loop metadata on its latch branch), for
 * one sized to the registers (unrolled, it spills); be_loop_no_unroll
 * after be_loop_end (a loop of one trip has no latch). */
void be_no_unroll(be_fn *f, LLVMValueRef br);
void be_loop_no_unroll(be_fn *f, const be_loop *l);

/* A nest of loops over dims[0..rank); ivs receives one induction value per
 * dim (a constant 0 for an extent of 1). */
typedef struct be_nest {
	int rank;
	be_loop l[IR_MAX_RANK * 2];
} be_nest;
void be_nest_begin(be_fn *f, be_nest *nst, int rank, const int64_t *dims, LLVMValueRef *ivs);
void be_nest_end(be_fn *f, be_nest *nst);

/* dst[dbase + sum i_k*dst_st[k]] = src[sbase + sum i_k*src_st[k]] over
 * the index space dims[0..rank) (f32 elements); adjacent dims that are
 * contiguous in both are merged first. */
void be_copy_strided(be_fn *f, LLVMValueRef dst, int64_t dbase, const int64_t *dst_st,
                     LLVMValueRef src, int64_t sbase, const int64_t *src_st, int rank,
                     const int64_t *dims);
/* The same with elements of LLVM type ty (any dtype: be_dt_type). */
void be_copy_strided_t(be_fn *f, LLVMTypeRef ty, LLVMValueRef dst, int64_t dbase,
                       const int64_t *dst_st, LLVMValueRef src, int64_t sbase,
                       const int64_t *src_st, int rank, const int64_t *dims);
void be_copy(be_fn *f, LLVMValueRef dst, LLVMValueRef src, int64_t n);
void be_fill(be_fn *f, LLVMValueRef dst, int64_t base, int64_t n, float v);

/* Weights (l_qweight.c).  A constant with a bit-packed ir_quant is kept
 * packed in flash (codes + per-channel parameters) and decoded on the fly
 * by these loads; any other value is a plain f32 load from be_ptr.
 * be_wld: element idx (row-major flat index); be_wld_rc: element col of
 * row `row` along dim 0 (rank < 2: row 0), which avoids dividing by the
 * row length.  be_qw_packed: is v decoded this way?  be_qw_alloc: the
 * per-value state for be_fn.qw (calloc'd, freed with free). */
LLVMValueRef be_wld(be_fn *f, const ir_value *v, LLVMValueRef idx);
/* The encoding of a packed weight, for kernels that decode it themselves
 * (l_compact.c): the globals l_qweight.c emitted and how to read them. */
enum { BE_ZP_NONE, BE_ZP_PACKED, BE_ZP_I32 };
enum { BE_SC_F32, BE_SC_F16, BE_SC_E8, BE_SC_E12, BE_SC_COUNT };
typedef struct be_qw_view {
	LLVMValueRef packed, scale, zp, levels; /* NULL when absent */
	int scale_mode;   /* BE_SC_*: f32, fp16 bit patterns (i16), e8 codes (i8),
	                   * e12 codes (12 bits each, packed) */
	LLVMValueRef ebits; /* BE_SC_E8/E12: (e0 + 127) << 23, an i32 (pass_quant_scales_ecode) */
	int zp_mode;      /* BE_ZP_*: packed at `bits` per entry like the codes */
	int bits;
	int64_t rowbytes; /* bytes per row of dim 0 */
} be_qw_view;
bool be_qw_view_of(be_fn *f, const ir_value *v, be_qw_view *out);
/* Code idx (i32) of the codes starting at byte base of p; bits is an
 * index value, constant (specialised code) or not (1..8 at run time). */
LLVMValueRef be_qw_code(be_fn *f, LLVMValueRef p, LLVMValueRef base, LLVMValueRef idx, LLVMValueRef bits);
/* Scale (f32) and zero point (i32) of channel c. */
LLVMValueRef be_qw_scale(be_fn *f, const be_qw_view *v, LLVMValueRef c);
LLVMValueRef be_qw_zp(be_fn *f, const be_qw_view *v, LLVMValueRef c);
LLVMValueRef be_wld_rc(be_fn *f, const ir_value *v, LLVMValueRef row, LLVMValueRef col);
/* Row `row` of v (rowlen elements) decoded into f32 dst, as be_wld_rc
 * would, by a loop the vectorizer widens; false (nothing emitted) for
 * encodings it does not cover. */
bool be_wld_row(be_fn *f, const ir_value *v, LLVMValueRef row, LLVMValueRef dst, int64_t rowlen);
bool be_qw_packed(be_fn *f, const ir_value *v);
void *be_qw_alloc(int nvalues);

/* The compact kernels (l_compact.c): lower conv/gemm n through the shared
 * kernel of its weight encoding when f's policy asks for it and n fits;
 * 0, -1 reported, or 1 when n is left to the speed kernels. */
int be_l_compact(be_fn *f, const ir_node *n);
/* Make the kernels be_l_compact declared, once every layer is lowered. */
void be_l_compact_end(be_fn *f);
/* A Conv's geometry for the shared kernels' descriptors (rank 3 or 4; a
 * 1-D conv is one row): g[BE_CG_*], and a pointwise conv of stride 1
 * without pads as one row of IH*IW; 0, 1 when n is not expressible so
 * (rank, groups that do not divide), -1 reported. */
enum {
	BE_CG_N, BE_CG_C, BE_CG_IH, BE_CG_IW, BE_CG_M, BE_CG_OH, BE_CG_OW, BE_CG_KH, BE_CG_KW, BE_CG_SH,
	BE_CG_SW, BE_CG_PH, BE_CG_PW, BE_CG_DH, BE_CG_DW, BE_CG_G, BE_CG_COUNT
};
int be_conv_geom(be_fn *f, const ir_node *n, int64_t *g);
/* Run-time index arithmetic of the shared kernels (nuw: the operands
 * are sizes and positions, never below 0). */
LLVMValueRef be_imul(be_fn *f, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef be_iadd(be_fn *f, LLVMValueRef a, LLVMValueRef b);
/* 0 <= v <= 65535 (the descriptors' u16 fields). */
bool be_fits_u16(int64_t v);
/* A shared kernel's function (internal, minsize, noinline, no-builtins,
 * pointer parameters noalias) with f's builder moved into its entry block;
 * be_kernel_end moves it back to where it was. */
typedef struct be_kstate {
	LLVMBuilderRef b;
	LLVMValueRef fn;
	LLVMBasicBlockRef entry;
} be_kstate;
LLVMValueRef be_kernel_begin(be_fn *f, const char *name, LLVMTypeRef fty, be_kstate *ks);
void be_kernel_end(be_fn *f, const be_kstate *ks);
/* Output positions o in [*lo, *hi) (*hi may be below *lo: none) whose
 * input o*st + t lies in [0, in); t may be negative; run-time index
 * values. */
void be_tap_range(be_fn *f, LLVMValueRef t, LLVMValueRef st, LLVMValueRef in, LLVMValueRef out,
                  LLVMValueRef *lo, LLVMValueRef *hi);

/* Per-family entry points.  Each lowers one node: 0, or -1 reported. */
int be_l_unary(be_fn *f, const ir_node *n);
int be_l_batchnorm(be_fn *f, const ir_node *n);
int be_l_prelu(be_fn *f, const ir_node *n);
int be_l_binary(be_fn *f, const ir_node *n);
int be_l_view(be_fn *f, const ir_node *n);
int be_l_conv(be_fn *f, const ir_node *n);
int be_l_pool(be_fn *f, const ir_node *n);
int be_l_global_pool(be_fn *f, const ir_node *n);
int be_l_gemm(be_fn *f, const ir_node *n);
int be_l_matmul(be_fn *f, const ir_node *n);
int be_l_softmax(be_fn *f, const ir_node *n);
int be_l_reduce(be_fn *f, const ir_node *n);
int be_l_norm(be_fn *f, const ir_node *n);
int be_l_arg(be_fn *f, const ir_node *n);
int be_l_topk(be_fn *f, const ir_node *n);
int be_l_gather_elements(be_fn *f, const ir_node *n);
int be_l_scatter_elements(be_fn *f, const ir_node *n);
int be_l_gather_nd(be_fn *f, const ir_node *n);
int be_l_scatter_nd(be_fn *f, const ir_node *n);
int be_l_trilu(be_fn *f, const ir_node *n);
int be_l_one_hot(be_fn *f, const ir_node *n);
int be_l_cumsum(be_fn *f, const ir_node *n);
int be_l_copy_map(be_fn *f, const ir_node *n);
int be_l_concat(be_fn *f, const ir_node *n);
int be_l_transpose(be_fn *f, const ir_node *n);
int be_l_slice(be_fn *f, const ir_node *n);
int be_l_split(be_fn *f, const ir_node *n);
int be_l_pad(be_fn *f, const ir_node *n);
int be_l_gather(be_fn *f, const ir_node *n);

/* Lowerings chosen by more than the op (l_extra.c): any-dtype views and
 * dropout (with its mask), clip with run-time bounds or integer data,
 * integer arithmetic, every pad mode, and the families in their own files:
 * resize (l_resize.c), conv_transpose (l_convt.c), max_pool with its
 * Indices output (l_pool_idx.c).  be_lower_extra returns NULL when the op
 * table's entry applies; be_extra_supports checks the nodes it takes. */
typedef int (*be_lower_hook)(be_fn *f, const ir_node *n);
be_lower_hook be_lower_extra(const ir_graph *g, const ir_node *n);
bool be_extra_supports(const ir_graph *g, const ir_node *n, char *why, size_t wl);
/* What every lowering needs of n's inputs (lower.c), the first miss in
 * why: each that is_static names is a constant; every other has a concrete
 * shape, its data if a constant, and a dtype that dtype_ok accepts (the
 * message then ends in dt_note).  NULL predicates accept all. */
bool be_inputs_ok(const ir_node *n, bool (*is_static)(const ir_node *n, int k),
                  bool (*dtype_ok)(const ir_node *n, int k, ir_dtype dt), const char *dt_note,
                  char *why, size_t wl);
int be_l_resize(be_fn *f, const ir_node *n);
int be_l_conv_transpose(be_fn *f, const ir_node *n);
int be_l_pool_idx(be_fn *f, const ir_node *n);

/* The integer path (l_int.c): quantize (also requantizing an integer),
 * dequantize, and conv/matmul, pools, relu, add/mul, softmax and the
 * 256-entry table activations (lut) whose operand 0 is i8/u8/i16/u16.  be_lower_int
 * returns NULL for any other node; be_lower_extra defers to it,
 * be_extra_supports to be_int_supports. */
be_lower_hook be_lower_int(const ir_node *n);
bool be_int_supports(const ir_graph *g, const ir_node *n, char *why, size_t wl);

/* Typed helpers (l_extra.c).  be_dt_type: the LLVM element type of dt
 * (bool and u8 are i8, u16 is i16). */
LLVMTypeRef be_dt_type(be_fn *f, ir_dtype dt);
LLVMValueRef be_ld_t(be_fn *f, LLVMTypeRef ty, LLVMValueRef p, LLVMValueRef idx);
/* A call of the intrinsic `name` with overload types ty[0..nty) (none for
 * a non-overloaded one) on args.  A name LLVM does not know is an
 * internal error, reported (the node's lowering then fails), and gives an
 * undef of ty[0] (i32 without overloads). */
LLVMValueRef be_intr(be_fn *f, const char *name, LLVMTypeRef *ty, size_t nty, LLVMValueRef *args, unsigned n);
/* An inline asm of the module takes bytes of stack of its own, which
 * code generation's frame sizes do not count: the stack figure adds the
 * largest (be_llvm_build's *asm_stack). */
void be_asm_stack(be_fn *f, int64_t bytes);
/* SMMLAR (Armv7E-M DSP): acc + ((int64)a * m + 2^31 >> 32), in inline asm
 * (LLVM selects it from the i64 pattern only sometimes).  No side
 * effects: LLVM may move or merge it like any pure value. */
LLVMValueRef be_smmlar(be_fn *f, LLVMValueRef a, LLVMValueRef m, LLVMValueRef acc);
void be_st_t(be_fn *f, LLVMTypeRef ty, LLVMValueRef p, LLVMValueRef idx, LLVMValueRef v);
/* memcpy of n bytes (nothing when n <= 0 or dst == src). */
void be_copy_bytes(be_fn *f, LLVMValueRef dst, LLVMValueRef src, int64_t n);
/* A private constant array of n elements of ty (i32 or f32) from data. */
LLVMValueRef be_table_i32(be_fn *f, const int32_t *data, int64_t n);
LLVMValueRef be_table_f32(be_fn *f, const float *data, int64_t n);
/* if (cond) { ... }: be_if_begin positions the builder in the then-block,
 * be_if_end joins. */
typedef struct be_if {
	LLVMBasicBlockRef then, cont;
} be_if;
void be_if_begin(be_fn *f, be_if *c, LLVMValueRef cond);
void be_if_end(be_fn *f, be_if *c);

/* Read a constant integer operand (slice starts, pad pads, axes...). */
int be_const_ints(const ir_node *n, int k, int64_t *v, int max);

/* Window geometry shared by conv and pools: for each output position along
 * one spatial dim, the taps [klo, khi) that land inside the input, and the
 * count of taps inside the padded input; runs of positions with equal
 * values form segments, each lowered as one loop with constant bounds. */
typedef struct be_seg {
	int64_t o0, n;        /* first output position, count */
	int64_t klo, khi;     /* taps inside the input */
	int64_t npad;         /* taps inside [-pb, in + pe) */
} be_seg;
/* Returns the number of segments written to seg (at most out). */
int be_segments(int64_t in, int64_t k, int64_t s, int64_t dil, int64_t pb, int64_t pe,
                int64_t out, be_seg *seg);

#endif
