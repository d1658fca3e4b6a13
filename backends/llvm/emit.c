/* emit.c: the LLVM side of the backend: targets, the optimisation
 * pipeline, emission, and the hook table be_llvm_backend. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Error.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include <llvm-c/Object.h>

#include "lower_internal.h"

void be_llvm_init(void)
{
	static bool done;
	if (done)
		return;
	LLVMInitializeX86TargetInfo();
	LLVMInitializeX86Target();
	LLVMInitializeX86TargetMC();
	LLVMInitializeX86AsmPrinter();
	LLVMInitializeX86AsmParser(); /* VALIGND in the sliding depthwise (l_conv.c) */
	LLVMInitializeAArch64TargetInfo();
	LLVMInitializeAArch64Target();
	LLVMInitializeAArch64TargetMC();
	LLVMInitializeAArch64AsmPrinter();
	LLVMInitializeAArch64AsmParser(); /* --profile reads CNTVCT_EL0 through inline asm */
	LLVMInitializeARMTargetInfo();
	LLVMInitializeARMTarget();
	LLVMInitializeARMTargetMC();
	LLVMInitializeARMAsmPrinter();
	LLVMInitializeARMAsmParser(); /* the DSP kernels' inline assembly (l_int_dsp.c) */
	done = true;
}

LLVMTargetMachineRef be_llvm_target_machine(const be_target *t, diag_sink *d)
{
	be_llvm_init();
	LLVMTargetRef tgt;
	char *err = NULL;
	if (LLVMGetTargetFromTriple(t->triple, &tgt, &err)) {
		diag_error(d, NULL, "target '%s': %s", t->triple, err ? err : "unknown target");
		LLVMDisposeMessage(err);
		return NULL;
	}
	LLVMCodeGenOptLevel ol = t->opt <= 0 ? LLVMCodeGenLevelNone
	                         : t->opt == 1 ? LLVMCodeGenLevelLess
	                         : t->opt == 2 ? LLVMCodeGenLevelDefault
	                                       : LLVMCodeGenLevelAggressive;
	LLVMRelocMode rm = t->reloc == BE_RELOC_PIC      ? LLVMRelocPIC
	                   : t->reloc == BE_RELOC_STATIC ? LLVMRelocStatic
	                                                 : LLVMRelocDefault;
	LLVMTargetMachineRef tm =
		LLVMCreateTargetMachine(tgt, t->triple, t->cpu, t->features, ol, rm, LLVMCodeModelDefault);
	if (!tm)
		diag_error(d, NULL, "cannot create a target machine for '%s' (cpu '%s')", t->triple, t->cpu);
	return tm;
}

static void diag_cb(LLVMDiagnosticInfoRef di, void *arg)
{
	diag_sink *d = arg;
	char *msg = LLVMGetDiagInfoDescription(di);
	switch (LLVMGetDiagInfoSeverity(di)) {
	case LLVMDSError: diag_error(d, NULL, "llvm: %s", msg); break;
	case LLVMDSWarning: diag_warn(d, NULL, "llvm: %s", msg); break;
	default: break; /* remarks and notes: not interesting to users */
	}
	LLVMDisposeMessage(msg);
}

void be_llvm_diag_handler(LLVMContextRef ctx, diag_sink *d)
{
	LLVMContextSetDiagnosticHandler(ctx, diag_cb, d);
}

static int report_error(LLVMErrorRef e, const char *what, diag_sink *d)
{
	if (!e)
		return 0;
	char *m = LLVMGetErrorMessage(e);
	diag_error(d, NULL, "%s: %s", what, m);
	LLVMDisposeErrorMessage(m);
	return -1;
}

int be_llvm_optimize(LLVMModuleRef mod, LLVMTargetMachineRef tm, const be_target *t, diag_sink *d)
{
	char *msg = NULL;
	if (LLVMVerifyModule(mod, LLVMReturnStatusAction, &msg)) {
		diag_error(d, NULL, "internal error: backend produced invalid LLVM IR: %s", msg);
		LLVMDisposeMessage(msg);
		return -1;
	}
	LLVMDisposeMessage(msg);
	int opt = t->opt < 0 ? 0 : t->opt > 3 ? 3 : t->opt;
	bool size = t->code == BE_CODE_SIZE || t->code == BE_CODE_MIN;
	/* mergefunc first: layers of one shape were lowered to identical
	 * functions (lower.c, layer functions), kept once before anything
	 * spends time on them */
	char pipeline[48];
	if (size)
		snprintf(pipeline, sizeof pipeline, "mergefunc,default<O%c>", t->code == BE_CODE_MIN ? 'z' : 's');
	else
		snprintf(pipeline, sizeof pipeline, "%sdefault<O%d>", opt ? "mergefunc," : "", opt);
	bool fast = !size && opt >= 2;
	LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
	LLVMPassBuilderOptionsSetSLPVectorization(po, fast);
	LLVMPassBuilderOptionsSetLoopVectorization(po, fast);
	LLVMPassBuilderOptionsSetLoopUnrolling(po, fast);
	LLVMPassBuilderOptionsSetLoopInterleaving(po, fast);
	int rc = report_error(LLVMRunPasses(mod, pipeline, tm, po), "llvm passes", d);
	LLVMDisposePassBuilderOptions(po);
	return rc;
}

/* ------------------------------------------------------ the hook table */

struct be_module {
	LLVMContextRef ctx;
	LLVMModuleRef mod;
	LLVMTargetMachineRef tm;
	be_target t;
	char imports[2048]; /* the emitted object's undefined symbols */
	pass_object_size size; /* and its section sizes */
	bool size_known;
	int64_t stack;      /* bytes of stack NAME_run needs, or -1 */
	int64_t asm_stack;  /* what an inline asm takes of its own (be_asm_stack) */
	diag_sink *d;       /* diagnostics outside stack_cb's */
	struct frame {      /* each function's frame, as code generation reported it */
		char name[160];
		int64_t size;
	} *frames;
	int nframes, capframes;
};

/* Bytes of the module's global data as an object lays it out: each
 * global's size rounded up to its alignment; the sum saturates. */
static int64_t module_data_bytes(LLVMModuleRef mod, LLVMTargetDataRef td)
{
	uint64_t total = 0;
	for (LLVMValueRef gv = LLVMGetFirstGlobal(mod); gv; gv = LLVMGetNextGlobal(gv)) {
		if (LLVMIsDeclaration(gv))
			continue;
		uint64_t sz = LLVMABISizeOfType(td, LLVMGlobalGetValueType(gv));
		uint64_t al = LLVMGetAlignment(gv) ? LLVMGetAlignment(gv) : 1;
		if (sz > ((uint64_t)1 << 62) || total > ((uint64_t)1 << 62))
			return INT64_MAX;
		total += (sz + al - 1) / al * al;
	}
	return (int64_t)total;
}

static be_module *llvm_lower(ir_graph *g, const pass_mem_plan *plan, const be_target *t,
                             const char *name, diag_sink *d)
{
	be_module *m = calloc(1, sizeof *m);
	if (!m) {
		diag_error(d, NULL, "out of memory");
		return NULL;
	}
	m->t = *t;
	m->tm = be_llvm_target_machine(t, d);
	if (!m->tm) {
		free(m);
		return NULL;
	}
	m->stack = -1;
	m->d = d;
	m->ctx = LLVMContextCreate();
	be_llvm_diag_handler(m->ctx, d);
	m->mod = LLVMModuleCreateWithNameInContext(g->name && *g->name ? g->name : name, m->ctx);
	/* No absolute paths in the output: objects must not depend on where
	 * the compiler ran. */
	LLVMSetSourceFileName(m->mod, name, strlen(name));
	LLVMSetTarget(m->mod, t->triple);
	LLVMTargetDataRef td = LLVMCreateTargetDataLayout(m->tm);
	LLVMSetModuleDataLayout(m->mod, td);
	int rc = 0;
	unsigned ptr = LLVMPointerSize(td);
	/* The arena before building, the data (known exactly only once
	 * built: packed weights, tables) before any code is emitted. */
	if (be_check_addressable(g->src_file, plan->arena_size, 0, ptr, d))
		rc = -1;
	if (rc == 0)
		rc = be_llvm_build(m->ctx, m->mod, td, t, g, plan, name, &m->asm_stack, d);
	if (rc == 0 && be_check_addressable(g->src_file, 0, module_data_bytes(m->mod, td), ptr, d))
		rc = -1;
	LLVMDisposeTargetData(td);
	if (rc == 0)
		rc = be_llvm_optimize(m->mod, m->tm, t, d);
	if (rc) {
		LLVMDisposeModule(m->mod);
		LLVMContextDispose(m->ctx);
		LLVMDisposeTargetMachine(m->tm);
		free(m);
		return NULL;
	}
	return m;
}

/* Write len bytes to path via a temporary in the same folder. */
int be_write_file(const char *path, const void *buf, size_t len, diag_sink *d)
{
	if (strcmp(path, "-") == 0) {
		fwrite(buf, 1, len, stdout);
		return fflush(stdout) ? -1 : 0;
	}
	size_t n = strlen(path) + 16;
	char *tmp = malloc(n);
	if (!tmp) {
		diag_error(d, path, "out of memory");
		return -1;
	}
	snprintf(tmp, n, "%s.tmp~", path);
	FILE *fp = fopen(tmp, "wb");
	if (!fp) {
		diag_error(d, path, "cannot write: %s", strerror(errno));
		free(tmp);
		return -1;
	}
	bool ok = fwrite(buf, 1, len, fp) == len;
	ok = fclose(fp) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		diag_error(d, path, "cannot write: %s", strerror(errno ? errno : EIO));
		remove(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* What the object in buf holds, read with LLVM's object library: its
 * undefined symbols (those in no section, the file symbol aside), sorted,
 * into m->imports, and its section sizes into m->size: .text* as text,
 * .rodata* as rodata, .data* as data, .bss* and .tbss* as bss. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void object_sizes(be_module *m, LLVMBinaryRef bin)
{
	pass_object_size *o = &m->size;
	memset(o, 0, sizeof *o);
	LLVMSectionIteratorRef sec = LLVMObjectFileCopySectionIterator(bin);
	if (!sec)
		return;
	for (; !LLVMObjectFileIsSectionIteratorAtEnd(bin, sec); LLVMMoveToNextSection(sec)) {
		const char *n = LLVMGetSectionName(sec);
		size_t size = (size_t)LLVMGetSectionSize(sec);
		if (!n)
			continue;
		if (strncmp(n, ".bss", 4) == 0 || strncmp(n, ".tbss", 5) == 0)
			o->bss += size;
		else if (strncmp(n, ".text", 5) == 0)
			o->text += size;
		else if (strncmp(n, ".rodata", 7) == 0)
			o->rodata += size;
		else if (strncmp(n, ".data", 5) == 0)
			o->data += size;
	}
	LLVMDisposeSectionIterator(sec);
	m->size_known = true;
}

static void object_read(be_module *m, const void *buf, size_t len)
{
	m->imports[0] = 0;
	m->size_known = false;
	char *err = NULL;
	LLVMMemoryBufferRef copy = LLVMCreateMemoryBufferWithMemoryRange(buf, len, "obj", 0);
	LLVMBinaryRef bin = LLVMCreateBinary(copy, m->ctx, &err);
	if (!bin) {
		LLVMDisposeMessage(err);
		LLVMDisposeMemoryBuffer(copy);
		return;
	}
	size_t idlen = 0;
	const char *src = LLVMGetSourceFileName(m->mod, &idlen);
	const char *names[256];
	int n = 0;
	LLVMSymbolIteratorRef si = LLVMObjectFileCopySymbolIterator(bin);
	LLVMSectionIteratorRef sec = LLVMObjectFileCopySectionIterator(bin);
	for (; si && sec && !LLVMObjectFileIsSymbolIteratorAtEnd(bin, si); LLVMMoveToNextSymbol(si)) {
		const char *name = LLVMGetSymbolName(si);
		if (!name || !*name || (src && strlen(name) == idlen && strncmp(name, src, idlen) == 0))
			continue;
		LLVMMoveToContainingSection(sec, si);
		if (!LLVMObjectFileIsSectionIteratorAtEnd(bin, sec) || n == 256)
			continue;
		names[n++] = name;
	}
	qsort(names, (size_t)n, sizeof *names, cmp_str);
	size_t at = 0;
	for (int i = 0; i < n && at < sizeof m->imports; i++)
		at += (size_t)snprintf(m->imports + at, sizeof m->imports - at, "%s%s", i ? " " : "", names[i]);
	if (sec)
		LLVMDisposeSectionIterator(sec);
	if (si)
		LLVMDisposeSymbolIterator(si);
	object_sizes(m, bin);
	LLVMDisposeBinary(bin);
	LLVMDisposeMemoryBuffer(copy);
}

/* ------------------------------------------------------------ stack */

/* Each function's frame comes from code generation itself: with the
 * attribute "warn-stack-size"="0", the prologue/epilogue inserter reports
 * every non-empty frame as "stack frame size (N) exceeds limit (0) in
 * function 'F'" (clang's -Wframe-larger-than), which stack_cb takes in
 * and every other diagnostic passes to diag_cb. */
static void stack_cb(LLVMDiagnosticInfoRef di, void *arg)
{
	be_module *m = arg;
	char *msg = LLVMGetDiagInfoDescription(di);
	const char *p = strstr(msg, "stack frame size (");
	const char *fn = p ? strstr(p, "in function '") : NULL;
	if (!p || !fn || LLVMGetDiagInfoSeverity(di) != LLVMDSWarning) {
		LLVMDisposeMessage(msg);
		diag_cb(di, m->d);
		return;
	}
	fn += strlen("in function '");
	size_t n = strcspn(fn, "'");
	if (n >= sizeof m->frames[0].name)
		m->capframes = -1; /* a frame that cannot be named: no figure rather than one too small */
	if (m->capframes >= 0 && m->nframes == m->capframes) {
		int cap = m->capframes ? 2 * m->capframes : 16;
		struct frame *f = realloc(m->frames, sizeof *f * (size_t)cap);
		if (!f) {
			LLVMDisposeMessage(msg);
			m->capframes = -1; /* the figure is lost: none is given */
			return;
		}
		m->frames = f;
		m->capframes = cap;
	}
	if (m->capframes > 0) {
		struct frame *f = &m->frames[m->nframes++];
		memcpy(f->name, fn, n);
		f->name[n] = 0;
		f->size = strtoll(p + strlen("stack frame size ("), NULL, 10);
	}
	LLVMDisposeMessage(msg);
}

static int64_t frame_of(const be_module *m, const char *name, size_t n)
{
	for (int i = 0; i < m->nframes; i++)
		if (strlen(m->frames[i].name) == n && memcmp(m->frames[i].name, name, n) == 0)
			return m->frames[i].size;
	return 0; /* not reported: no frame */
}

/* The deepest chain of frames from fn through the module's own
 * functions (calls to declarations, inline asm and intrinsics add
 * nothing; the module has no recursion), each level plus ret bytes for
 * a return address the frame does not count; -1 past depth 16. */
static int64_t stack_from(const be_module *m, LLVMValueRef fn, int64_t ret, int depth)
{
	if (depth > 16)
		return -1;
	size_t n = 0;
	const char *name = LLVMGetValueName2(fn, &n);
	int64_t deepest = 0;
	for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
		for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
			if (!LLVMIsACallInst(in) && !LLVMIsAInvokeInst(in))
				continue;
			LLVMValueRef callee = LLVMGetCalledValue(in);
			if (!callee || !LLVMIsAFunction(callee) || LLVMIsDeclaration(callee))
				continue;
			int64_t s = stack_from(m, callee, ret, depth + 1);
			if (s < 0)
				return -1;
			deepest = s > deepest ? s : deepest;
		}
	return frame_of(m, name, n) + ret + deepest;
}

/* After emission: the stack NAME_run needs, from its frames. */
static void stack_total(be_module *m)
{
	m->stack = -1;
	if (m->capframes < 0)
		return;
	const char *tr = LLVMGetTarget(m->mod);
	int64_t ret = strncmp(tr, "x86_64", 6) == 0 ? 8 : 0; /* CALL pushes it; ARM keeps it in LR */
	for (LLVMValueRef fn = LLVMGetFirstFunction(m->mod); fn; fn = LLVMGetNextFunction(fn)) {
		size_t n = 0;
		const char *name = LLVMGetValueName2(fn, &n);
		if (!LLVMIsDeclaration(fn) && n > 4 && strcmp(name + n - 4, "_run") == 0)
			m->stack = stack_from(m, fn, ret, 0);
	}
	/* what an inline asm takes below its function's frame, once: added
	 * whole (the asm calls nothing) */
	if (m->stack >= 0)
		m->stack += m->asm_stack;
}

/* The module as kind (object, assembly or LLVM IR) into a malloc'd buffer. */
static int llvm_emit_buffer(be_module *m, be_emit kind, void **buf, size_t *len, diag_sink *d)
{
	*buf = NULL;
	*len = 0;
	if (kind == BE_EMIT_LLVM) {
		/* the target's cpu and features on every function, so that the
		 * text compiles as the object does (llc takes them from there):
		 * inline asm (the DSP tiles, VALIGND) needs its registers */
		char *cpu = LLVMGetTargetMachineCPU(m->tm), *feat = LLVMGetTargetMachineFeatureString(m->tm);
		for (LLVMValueRef fn = LLVMGetFirstFunction(m->mod); fn; fn = LLVMGetNextFunction(fn)) {
			if (LLVMIsDeclaration(fn))
				continue;
			if (cpu && *cpu)
				LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
				                        LLVMCreateStringAttribute(m->ctx, "target-cpu", 10, cpu,
				                                                  (unsigned)strlen(cpu)));
			if (feat && *feat)
				LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
				                        LLVMCreateStringAttribute(m->ctx, "target-features", 15, feat,
				                                                  (unsigned)strlen(feat)));
		}
		LLVMDisposeMessage(cpu);
		LLVMDisposeMessage(feat);
		char *s = LLVMPrintModuleToString(m->mod);
		*len = strlen(s);
		*buf = malloc(*len + 1);
		if (*buf)
			memcpy(*buf, s, *len + 1);
		LLVMDisposeMessage(s);
		if (!*buf)
			diag_error(d, NULL, "out of memory");
		return *buf ? 0 : -1;
	}
	if (kind != BE_EMIT_OBJ && kind != BE_EMIT_ASM) {
		diag_error(d, NULL, "internal error: emit kind %d is not an LLVM output", (int)kind);
		return -1;
	}
	char *err = NULL;
	LLVMMemoryBufferRef mb = NULL;
	LLVMAttributeRef ws = LLVMCreateStringAttribute(m->ctx, "warn-stack-size", 15, "0", 1);
	for (LLVMValueRef fn = LLVMGetFirstFunction(m->mod); fn; fn = LLVMGetNextFunction(fn))
		if (!LLVMIsDeclaration(fn))
			LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, ws);
	m->nframes = 0;
	m->capframes = m->capframes < 0 ? 0 : m->capframes; /* a lost figure is lost for one emission */
	m->d = d;
	LLVMContextSetDiagnosticHandler(m->ctx, stack_cb, m);
	LLVMBool failed = LLVMTargetMachineEmitToMemoryBuffer(
		m->tm, m->mod, kind == BE_EMIT_OBJ ? LLVMObjectFile : LLVMAssemblyFile, &err, &mb);
	be_llvm_diag_handler(m->ctx, d);
	if (failed) {
		diag_error(d, NULL, "llvm: %s", err ? err : "emission failed");
		LLVMDisposeMessage(err);
		return -1;
	}
	stack_total(m);
	*len = LLVMGetBufferSize(mb);
	*buf = malloc(*len ? *len : 1);
	if (*buf)
		memcpy(*buf, LLVMGetBufferStart(mb), *len);
	else
		diag_error(d, NULL, "out of memory");
	if (*buf && kind == BE_EMIT_OBJ)
		object_read(m, *buf, *len);
	LLVMDisposeMemoryBuffer(mb);
	return *buf ? 0 : -1;
}

static int llvm_emit(be_module *m, be_emit kind, const char *path, diag_sink *d)
{
	if (kind == BE_EMIT_OBJ && strcmp(path, "-") == 0) {
		diag_error(d, NULL, "refusing to write an object file to standard output");
		return -1;
	}
	void *buf;
	size_t len;
	if (llvm_emit_buffer(m, kind, &buf, &len, d))
		return -1;
	int rc = be_write_file(path, buf, len, d);
	free(buf);
	return rc;
}

static const char *llvm_imports(const be_module *m)
{
	return m ? m->imports : "";
}

static int64_t llvm_stack(const be_module *m)
{
	return m ? m->stack : -1;
}

static const pass_object_size *llvm_sizes(const be_module *m)
{
	return m && m->size_known ? &m->size : NULL;
}

static void llvm_destroy(be_module *m)
{
	if (!m)
		return;
	LLVMDisposeModule(m->mod);
	LLVMContextDispose(m->ctx);
	LLVMDisposeTargetMachine(m->tm);
	free(m->frames);
	free(m);
}

const be_backend be_llvm_backend = {
	.name = "llvm",
	.supports_op = be_llvm_supports,
	.lower = llvm_lower,
	.emit = llvm_emit,
	.emit_buffer = llvm_emit_buffer,
	.imports = llvm_imports,
	.sizes = llvm_sizes,
	.stack = llvm_stack,
	.destroy = llvm_destroy,
};
