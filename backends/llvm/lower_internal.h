/* lower_internal.h: the LLVM backend's pieces as seen by its hook table
 * (emit.c) and the public entry points (backends/ top level). */
#ifndef QGTC_BE_LOWER_INTERNAL_H
#define QGTC_BE_LOWER_INTERNAL_H

#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>

#include "backend.h"

/* Build NAME_run and its body into mod (whose data layout is td) for t
 * (whose vector width shapes the conv kernels' register tiles); the
 * largest stack an inline asm takes of its own (be_asm_stack) goes to
 * *asm_stack (may be NULL). */
int be_llvm_build(LLVMContextRef ctx, LLVMModuleRef mod, LLVMTargetDataRef td, const be_target *t,
                  ir_graph *g, const pass_mem_plan *plan, const char *name, int64_t *asm_stack, diag_sink *d);
bool be_llvm_supports(const ir_graph *g, const ir_node *n, char *why, size_t wl);

/* Initialise the X86, AArch64 and ARM targets once. */
void be_llvm_init(void);
/* A target machine for t; NULL after reporting. */
LLVMTargetMachineRef be_llvm_target_machine(const be_target *t, diag_sink *d);
/* Route the context's diagnostics to d. */
void be_llvm_diag_handler(LLVMContextRef ctx, diag_sink *d);
/* Verify mod, then run t's pipeline: default<On> with SLP and loop
 * vectorisation on from -O2, or default<Os>/<Oz> for the size policies.
 * 0 or -1 reported. */
int be_llvm_optimize(LLVMModuleRef mod, LLVMTargetMachineRef tm, const be_target *t, diag_sink *d);

/* The libm functions float code calls (be_call), by BE_LIBM_*; their names
 * in be_libm_name.  Integer code calls none. */
#define BE_LIBM_FUNCS(X) \
	X(EXPF, expf) X(LOGF, logf) X(TANHF, tanhf) X(ERFF, erff) X(POWF, powf) X(SINF, sinf) X(COSF, cosf) \
	X(ASINF, asinf) X(ACOSF, acosf) X(ATANF, atanf) X(SINHF, sinhf) X(COSHF, coshf) X(ASINHF, asinhf) \
	X(ACOSHF, acoshf) X(ATANHF, atanhf) X(FMODF, fmodf)
#define BE_LIBM_ENUM(e, n) BE_LIBM_##e,
enum { BE_LIBM_FUNCS(BE_LIBM_ENUM) BE_LIBM_N };
#undef BE_LIBM_ENUM
extern const char *const be_libm_name[BE_LIBM_N];
/* The libm functions (bit k: BE_LIBM_ k) n's lowering may call, where the
 * object's imports are not at hand (l_elementwise.c). */
unsigned be_libm_needs(const ir_node *n);

/* Write len bytes to path through a temporary + rename ("-": stdout). */
int be_write_file(const char *path, const void *buf, size_t len, diag_sink *d);

#endif
