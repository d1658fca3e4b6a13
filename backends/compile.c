/* compile.c: the backend's public entry points: support check, object /
 * asm / LLVM IR / header emission, and the JIT engine of `qgtc run`. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>

#include "llvm/lower_internal.h"

char *be_default_name(const char *path, char *buf, size_t n)
{
	const char *base = path ? strrchr(path, '/') : NULL;
	base = base ? base + 1 : path ? path : "model";
	const char *dot = strchr(base, '.');
	size_t len = dot ? (size_t)(dot - base) : strlen(base);
	size_t k = 0;
	if (n == 0)
		return buf;
	if (n > BE_MAX_NAME + 1)
		n = BE_MAX_NAME + 1;
	if (len == 0 || isdigit((unsigned char)base[0]))
		k += (size_t)snprintf(buf, n, "%s", len == 0 ? "model" : "m_");
	for (size_t i = 0; i < len && k + 1 < n; i++) {
		unsigned char c = (unsigned char)base[i];
		buf[k++] = isalnum(c) ? (char)tolower(c) : '_';
	}
	buf[k < n ? k : n - 1] = 0;
	bool any = false;
	for (size_t i = 0; buf[i]; i++)
		any = any || isalnum((unsigned char)buf[i]);
	if (!any)
		snprintf(buf, n, "model");
	return buf;
}

static bool valid_ident(const char *s)
{
	if (!s || !*s || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

int be_check_addressable(const char *file, int64_t arena_bytes, int64_t data_bytes,
                         unsigned ptr_bytes, diag_sink *d)
{
	if (ptr_bytes >= 8)
		return 0;
	int rc = 0;
	if (arena_bytes > BE_MAX_VALUE_BYTES) {
		diag_error(d, file, "backend: the arena needs %lld bytes, more than a %u-bit "
		           "target can address in one object (%lld)", (long long)arena_bytes,
		           ptr_bytes * 8, (long long)BE_MAX_VALUE_BYTES);
		rc = -1;
	}
	if (data_bytes > BE_MAX_VALUE_BYTES) {
		diag_error(d, file, "backend: the constants (weights and tables) need %lld bytes, more "
		           "than a %u-bit target can address in one object (%lld)", (long long)data_bytes,
		           ptr_bytes * 8, (long long)BE_MAX_VALUE_BYTES);
		rc = -1;
	}
	return rc;
}

int be_check_supported(const ir_graph *g, diag_sink *d)
{
	int bad = 0;
	for (int i = 0; i < g->nnodes; i++) {
		const ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		char why[256];
		if (!be_llvm_backend.supports_op(g, n, why, sizeof why)) {
			diag_error(d, ir_node_loc(g, n), "backend: node %d '%s' (%s) is not supported by the "
			           "native backend: %s", n->id, n->name ? n->name : "", ir_op_name(n->op), why);
			bad++;
		}
	}
	/* Tables of positions along an axis are int32 and a 32-bit target
	 * addresses 4 GiB, so no value may exceed BE_MAX_VALUE_BYTES. */
	for (int i = 0; i < g->nvalues; i++) {
		const ir_value *v = g->values[i];
		int64_t n = ir_shape_numel(&v->shape);
		if (n > 0 && !(v->producer && v->producer->dead) &&
		    (uint64_t)n * ir_dtype_size(v->dt) > (uint64_t)BE_MAX_VALUE_BYTES) {
			char b[96];
			diag_error(d, g->src_file, "backend: value '%s' (%s%s) holds %llu bytes; the native "
			           "backend takes at most %lld per value", v->name, ir_dtype_name(v->dt),
			           ir_shape_str(&v->shape, b, sizeof b),
			           (unsigned long long)n * ir_dtype_size(v->dt), (long long)BE_MAX_VALUE_BYTES);
			bad++;
		}
	}
	for (int k = 0; k < g->ninputs; k++) {
		const ir_value *v = g->inputs[k];
		if (ir_dtype_size(v->dt) == 0 || !ir_shape_known(&v->shape)) {
			char b[96];
			diag_error(d, g->src_file, "backend: input '%s' is %s%s; the native backend needs a "
			           "concrete shape (bind the batch with --batch)", v->name,
			           ir_dtype_name(v->dt), ir_shape_str(&v->shape, b, sizeof b));
			bad++;
		}
	}
	for (int k = 0; k < g->noutputs; k++) {
		const ir_value *v = g->outputs[k];
		if (ir_dtype_size(v->dt) == 0 || !ir_shape_known(&v->shape)) {
			char b[96];
			diag_error(d, g->src_file, "backend: output '%s' is %s%s; the native backend needs a "
			           "concrete shape", v->name, ir_dtype_name(v->dt),
			           ir_shape_str(&v->shape, b, sizeof b));
			bad++;
		}
	}
	return bad;
}

/* Support check, toposort and memory plan: what every entry point needs. */
static pass_mem_plan *prepare(ir_graph *g, const char *name, diag_sink *d)
{
	if (name && !valid_ident(name)) {
		diag_error(d, NULL, "symbol prefix '%s' is not a C identifier (use --name)", name);
		return NULL;
	}
	if (name && strlen(name) > BE_MAX_NAME) {
		diag_error(d, NULL, "symbol prefix '%.16s...' has %zu characters; at most %d", name,
		           strlen(name), BE_MAX_NAME);
		return NULL;
	}
	if (ir_graph_toposort(g, d))
		return NULL;
	if (be_check_supported(g, d))
		return NULL;
	return pass_memplan_compute(g, d);
}

static void shape_dims(const ir_shape *s, char *buf, size_t n)
{
	size_t k = (size_t)snprintf(buf, n, "[");
	for (int i = 0; i < s->rank && k < n; i++)
		k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "," : "", (long long)s->d[i]);
	if (k < n)
		snprintf(buf + k, n - k, "]");
}


/* An integer input or output of the integer path (--io int): the real
 * value it stands for is SCALE * (q - ZERO_POINT). */
static void io_quant(FILE *f, const char *up, const char *kind, int k, const ir_value *v)
{
	const ir_quant *q = v->quant;
	if (!q || q->codes || q->nchan != 1 || !q->scale)
		return;
	fprintf(f, "#define %s_%s_%d_SCALE %.9gf /* real = SCALE * (q - ZERO_POINT) */\n", up, kind, k,
	        (double)q->scale[0]);
	fprintf(f, "#define %s_%s_%d_ZERO_POINT %d\n", up, kind, k,
	        q->zero_point ? (int)q->zero_point[0] : 0);
	if (q->bits < (int)ir_dtype_size(v->dt) * 8) { /* ONNX's int4 & co, one per element */
		int64_t lo, hi;
		ir_value_range(v, &lo, &hi);
		fprintf(f, "#define %s_%s_%d_BITS %d /* each element in [%lld, %lld] */\n", up, kind, k,
		        q->bits, (long long)lo, (long long)hi);
	}
}

/* Write s (a name from the model) for the inside of a C block comment:
 * it can neither end the comment nor open one ('*' + '/' and '/' + '*'
 * get a backslash between them), and bytes outside printable ASCII
 * (newlines included) become \xNN, so the header declares only what
 * qgtc writes, whatever the model's names hold. */
static void comment_text(FILE *f, const char *s)
{
	char prev = 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c > 0x7e) {
			fprintf(f, "\\x%02x", c);
			prev = 0;
			continue;
		}
		if ((prev == '*' && c == '/') || (prev == '/' && c == '*'))
			fputc('\\', f);
		fputc(c, f);
		prev = (char)c;
	}
}

static char *header_text(ir_graph *g, const pass_mem_plan *p, const char *name, const char *imports,
                         int64_t stack, bool profile)
{
	char up[256];
	size_t i;
	for (i = 0; name[i] && i + 1 < sizeof up; i++)
		up[i] = (char)toupper((unsigned char)name[i]);
	up[i] = 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fprintf(f, "/* %s.h: C interface of the network '", name);
	comment_text(f, g->name ? g->name : "");
	fprintf(f, "', generated by qgtc.  Do not edit. */\n");
	fprintf(f, "#ifndef %s_H\n#define %s_H\n\n", up, up);
	fprintf(f, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
	int64_t arena = p->arena_size > 0 ? p->arena_size : PASS_MEMPLAN_ALIGN;
	fprintf(f, "#define %s_ARENA_SIZE %lld /* scratch the caller provides, 16-byte aligned */\n", up,
	        (long long)arena);
	if (stack >= 0)
		fprintf(f, "/* Stack %s_run uses below its caller's: its frames and its callees' in\n"
		           " * the object, as code generation laid them out (the imported functions'\n"
		           " * own are not included). */\n#define %s_STACK_SIZE %lld\n",
		        name, up, (long long)stack);
	fprintf(f, "#define %s_NUM_INPUTS %d\n", up, g->ninputs);
	fprintf(f, "#define %s_NUM_OUTPUTS %d\n", up, g->noutputs);
	for (int k = 0; k < g->ninputs; k++) {
		char s[160];
		shape_dims(&g->inputs[k]->shape, s, sizeof s);
		fprintf(f, "#define %s_INPUT_%d_SIZE %lld /* '", up, k,
		        (long long)ir_shape_numel(&g->inputs[k]->shape));
		comment_text(f, g->inputs[k]->name);
		fprintf(f, "' %s%s */\n", ir_dtype_name(g->inputs[k]->dt), s);
		io_quant(f, up, "INPUT", k, g->inputs[k]);
	}
	for (int k = 0; k < g->noutputs; k++) {
		char s[160];
		shape_dims(&g->outputs[k]->shape, s, sizeof s);
		fprintf(f, "#define %s_OUTPUT_%d_SIZE %lld /* '", up, k,
		        (long long)ir_shape_numel(&g->outputs[k]->shape));
		comment_text(f, g->outputs[k]->name);
		fprintf(f, "' %s%s */\n", ir_dtype_name(g->outputs[k]->dt), s);
		io_quant(f, up, "OUTPUT", k, g->outputs[k]);
	}
	/* What the object needs at link time.  With the object at hand, its
	 * undefined symbols (libgcc/compiler-rt helpers included); else libm
	 * only for the ops whose lowering calls it (l_elementwise.c,
	 * l_reduce.c), and memcpy/memset, which LLVM may call for block
	 * copies and clears (__aeabi_mem* on ARM EABI). */
	if (imports) {
		/* what LLVM may call besides be_libm_name's */
		static const char *const libm[] = {"sqrtf", "nearbyintf", "roundf", "floorf", "ceilf"};
		bool uses_libm = false;
		char w[128];
		for (const char *q = imports; *q;) {
			size_t n = strcspn(q, " ");
			snprintf(w, sizeof w, "%.*s", (int)(n < sizeof w ? n : sizeof w - 1), q);
			for (size_t k = 0; k < sizeof libm / sizeof *libm; k++)
				uses_libm = uses_libm || strcmp(w, libm[k]) == 0;
			for (int k = 0; k < BE_LIBM_N; k++)
				uses_libm = uses_libm || strcmp(w, be_libm_name[k]) == 0;
			q += n;
			q += strspn(q, " ");
		}
		fprintf(f, "\n/* Link needs: the object imports%s", *imports ? "" : " nothing");
		int col = 32;
		for (const char *q = imports; *q;) {
			size_t n = strcspn(q, " ");
			if (col + (int)n > 76) {
				fprintf(f, "\n *  ");
				col = 4;
			}
			fprintf(f, " %.*s", (int)n, q);
			col += (int)n + 1;
			q += n;
			q += strspn(q, " ");
		}
		fprintf(f, "%s", uses_libm ? ";\n * libm (-lm) provides the math functions" : ";\n * no libm");
		fprintf(f, " (the C library and libgcc provide the rest).\n"
		           " * No qgtc runtime library, no heap, no static data but its constants%s. */\n",
		        profile ? " and the profile counters" : "");
	} else {
		/* what l_elementwise.c and l_reduce.c call per op */
		unsigned need = 0;
		for (int k = 0; k < g->nnodes; k++)
			if (!g->nodes[k]->dead)
				need |= be_libm_needs(g->nodes[k]);
		fprintf(f, "\n/* Link needs: the C library's memcpy/memset (the compiler may call them,\n"
		           " * as __aeabi_memcpy/__aeabi_memclr on ARM EABI)");
		if (need) {
			fprintf(f, " and libm (-lm) for");
			for (int k = 0; k < BE_LIBM_N; k++)
				if (need & (1u << k))
					fprintf(f, " %s", be_libm_name[k]);
		} else {
			fprintf(f, "; no libm");
		}
		fprintf(f, ".\n * No qgtc runtime library, no heap, no static data but its constants%s. */\n",
		        profile ? " and the profile counters" : "");
	}
	bool all_f32 = true;
	for (int k = 0; k < g->ninputs; k++)
		all_f32 = all_f32 && g->inputs[k]->dt == IR_DT_F32;
	for (int k = 0; k < g->noutputs; k++)
		all_f32 = all_f32 && g->outputs[k]->dt == IR_DT_F32;
	if (all_f32) {
		fprintf(f, "\n/* Run the network once.  inputs[k] points to %s_INPUT_k_SIZE floats,\n"
		           " * outputs[k] to room for %s_OUTPUT_k_SIZE floats, arena to %s_ARENA_SIZE\n"
		           " * bytes aligned to 16; none of them may overlap.  Uses no heap and no\n"
		           " * other memory.  Returns 0 on success. */\n",
		        up, up, up);
		fprintf(f, "int %s_run(const float *const inputs[], float *const outputs[], void *arena);\n\n",
		        name);
	} else {
		fprintf(f, "\n/* Run the network once.  Not every input/output is f32, so the pointers\n"
		           " * are untyped: inputs[k] points to %s_INPUT_k_SIZE elements of input k's\n"
		           " * dtype (in its comment above: f32 float, i8 int8_t, u8 uint8_t, i16\n"
		           " * int16_t, u16 uint16_t, i32 int32_t, i64 int64_t, bool one byte 0/1),\n"
		           " * outputs[k] to room for\n"
		           " * %s_OUTPUT_k_SIZE elements of output k's dtype, each aligned to its\n"
		           " * element size; arena to %s_ARENA_SIZE bytes aligned to 16; none of them\n"
		           " * may overlap.  Uses no heap and no other memory.  Returns 0 on success. */\n",
		        up, up, up);
		fprintf(f, "int %s_run(const void *const inputs[], void *const outputs[], void *arena);\n\n",
		        name);
	}
	if (profile) {
		fprintf(f, "/* --profile: %s_profile[k] sums the counter ticks spent in node k over\n"
		           " * every call (zero it to start again).  Cortex-M: SysTick, which the\n"
		           " * caller starts from the processor clock with reload 0xFFFFFF (a tick is\n"
		           " * a cycle; under QEMU -icount shift=0, 40 instructions); x86-64: rdtsc;\n"
		           " * AArch64: CNTVCT_EL0.  A node fused into the one before counts there. */\n",
		        name);
		fprintf(f, "#define %s_PROFILE_NODES %d\n", up, g->nnodes ? g->nnodes : 1);
		fprintf(f, "extern unsigned long long %s_profile[%s_PROFILE_NODES];\n", name, up);
		for (int k = 0; k < g->nnodes; k++) {
			if (g->nodes[k]->dead)
				continue;
			fprintf(f, "/* %d: '", k);
			comment_text(f, g->nodes[k]->name);
			fprintf(f, "' (%s) */\n", ir_op_name(g->nodes[k]->op));
		}
		fputc('\n', f);
	}
	fprintf(f, "#ifdef __cplusplus\n}\n#endif\n\n#endif /* %s_H */\n", up);
	fclose(f);
	return buf;
}

static int write_header(ir_graph *g, const char *name, const char *path, const char *imports,
                        int64_t stack, bool profile, diag_sink *d)
{
	pass_mem_plan *p = prepare(g, name, d);
	if (!p)
		return -1;
	char *s = header_text(g, p, name, imports, stack, profile);
	int rc = s ? be_write_file(path, s, strlen(s), d) : -1;
	if (!s)
		diag_error(d, NULL, "out of memory");
	free(s);
	pass_memplan_destroy(p);
	return rc;
}

int be_write_header(ir_graph *g, const char *name, const char *path, const char *imports, int64_t stack,
                    diag_sink *d)
{
	return write_header(g, name, path, imports, stack, false, d);
}

int be_write_header_profile(ir_graph *g, const char *name, const char *path, const char *imports,
                            int64_t stack, diag_sink *d)
{
	return write_header(g, name, path, imports, stack, true, d);
}

/* After m emitted an object: what o asks of it. */
static int object_info(const be_backend *be, const be_module *m, const be_options *o, diag_sink *d)
{
	if (o->imports && o->imports_len > 0)
		snprintf(o->imports, o->imports_len, "%s", be->imports(m));
	if (o->stack)
		*o->stack = be->stack(m);
	if (o->sizes && o->emit == BE_EMIT_OBJ) {
		const pass_object_size *s = be->sizes(m);
		if (!s) {
			diag_error(d, NULL, "backend: cannot read the emitted object's section table");
			return -1;
		}
		*o->sizes = *s;
	}
	return 0;
}

int be_compile(ir_graph *g, const be_target *t, const be_options *o, diag_sink *d)
{
	if (o->emit == BE_EMIT_HEADER)
		return be_write_header(g, o->name, o->out_path, NULL, -1, d);
	pass_mem_plan *p = prepare(g, o->name, d);
	if (!p)
		return -1;
	const be_backend *be = &be_llvm_backend;
	be_module *m = be->lower(g, p, t, o->name, d);
	int rc = m ? be->emit(m, o->emit, o->out_path, d) : -1;
	if (rc == 0)
		rc = object_info(be, m, o, d);
	be->destroy(m);
	pass_memplan_destroy(p);
	return rc;
}

int be_compile_buffer(ir_graph *g, const be_target *t, const be_options *o, void **buf, size_t *len,
                      diag_sink *d)
{
	*buf = NULL;
	*len = 0;
	if (o->emit == BE_EMIT_HEADER) {
		diag_error(d, NULL, "internal error: be_compile_buffer does not write headers");
		return -1;
	}
	pass_mem_plan *p = prepare(g, o->name, d);
	if (!p)
		return -1;
	const be_backend *be = &be_llvm_backend;
	be_module *m = be->lower(g, p, t, o->name, d);
	int rc = m ? be->emit_buffer(m, o->emit, buf, len, d) : -1;
	if (rc == 0 && (rc = object_info(be, m, o, d))) {
		free(*buf);
		*buf = NULL;
		*len = 0;
	}
	be->destroy(m);
	pass_memplan_destroy(p);
	return rc;
}

/* ------------------------------------------------------------------ JIT */

static int jit_error(LLVMErrorRef e, const char *what, diag_sink *d)
{
	if (!e)
		return 0;
	char *m = LLVMGetErrorMessage(e);
	diag_error(d, NULL, "jit: %s: %s", what, m);
	LLVMDisposeErrorMessage(m);
	return -1;
}

typedef int (*be_run_fn)(const void *const *, void *const *, void *);

/* Call the JIT's entry point.  clang's -fsanitize=function (in UBSan)
 * checks an indirect call by reading a type signature just before the
 * callee, which JIT code does not carry (the page before it may not even
 * be mapped), so this one call goes unchecked. */
#if defined(__clang__)
__attribute__((no_sanitize("function"), noinline))
#endif
static int call_jit(be_run_fn run, const void *const *in, void *const *out, void *arena)
{
	return run(in, out, arena);
}

struct be_jit {
	const ir_graph *g;
	pass_mem_plan *p;
	LLVMOrcThreadSafeContextRef tsc;
	LLVMOrcLLJITRef jit;
	be_run_fn run;
	void *arena;
	const void **inp;
	void **outp;
};

void be_jit_close(be_jit *j)
{
	if (!j)
		return;
	if (j->jit) {
		LLVMErrorRef e = LLVMOrcDisposeLLJIT(j->jit);
		if (e)
			LLVMConsumeError(e);
	}
	if (j->tsc)
		LLVMOrcDisposeThreadSafeContext(j->tsc);
	free(j->arena);
	free(j->inp);
	free(j->outp);
	pass_memplan_destroy(j->p);
	free(j);
}

be_jit *be_jit_open(ir_graph *g, be_code code, diag_sink *d)
{
	static const char *name = "qgtc_jit";
	be_jit *j = calloc(1, sizeof *j);
	if (!j) {
		diag_error(d, NULL, "out of memory");
		return NULL;
	}
	j->g = g;
	j->p = prepare(g, name, d);
	if (!j->p)
		goto fail;
	be_target t;
	LLVMModuleRef mod = NULL;
	LLVMTargetMachineRef tm = NULL, jtm = NULL; /* to optimise; for the JIT */
	j->inp = calloc((size_t)g->ninputs + 1, sizeof *j->inp);
	j->outp = calloc((size_t)g->noutputs + 1, sizeof *j->outp);
	size_t asz = (size_t)(j->p->arena_size > 0 ? j->p->arena_size : PASS_MEMPLAN_ALIGN);
	j->arena = aligned_alloc(PASS_MEMPLAN_ALIGN, (asz + 15) / 16 * 16);
	if (!j->inp || !j->outp || !j->arena) {
		diag_error(d, NULL, "out of memory");
		goto fail;
	}
	if (be_target_resolve("host", NULL, NULL, NULL, &t, d))
		goto fail;
	t.code = code;
	tm = be_llvm_target_machine(&t, d);
	jtm = be_llvm_target_machine(&t, d);
	if (!tm || !jtm)
		goto fail_jtm;
	j->tsc = LLVMOrcCreateNewThreadSafeContext();
	LLVMContextRef ctx = LLVMOrcThreadSafeContextGetContext(j->tsc);
	be_llvm_diag_handler(ctx, d);
	mod = LLVMModuleCreateWithNameInContext(name, ctx);
	LLVMSetTarget(mod, t.triple);
	LLVMTargetDataRef td = LLVMCreateTargetDataLayout(tm);
	LLVMSetModuleDataLayout(mod, td);
	int brc = be_llvm_build(ctx, mod, td, &t, g, j->p, name, NULL, d);
	LLVMDisposeTargetData(td);
	if (brc || be_llvm_optimize(mod, tm, &t, d))
		goto fail_mod;
	LLVMDisposeTargetMachine(tm);
	tm = NULL;

	LLVMOrcLLJITBuilderRef jb = LLVMOrcCreateLLJITBuilder();
	LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(
		jb, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(jtm));
	jtm = NULL; /* consumed */
	if (jit_error(LLVMOrcCreateLLJIT(&j->jit, jb), "cannot create LLJIT", d))
		goto fail_mod;
	LLVMOrcDefinitionGeneratorRef gen = NULL;
	if (jit_error(LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
			      &gen, LLVMOrcLLJITGetGlobalPrefix(j->jit), NULL, NULL),
		      "cannot search the process for libm", d))
		goto fail_mod;
	LLVMOrcJITDylibRef jd = LLVMOrcLLJITGetMainJITDylib(j->jit);
	LLVMOrcJITDylibAddGenerator(jd, gen);
	LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(mod, j->tsc);
	mod = NULL; /* owned by tsm */
	if (jit_error(LLVMOrcLLJITAddLLVMIRModule(j->jit, jd, tsm), "cannot add the module", d))
		goto fail;
	LLVMOrcExecutorAddress addr = 0;
	char sym[64];
	snprintf(sym, sizeof sym, "%s_run", name);
	if (jit_error(LLVMOrcLLJITLookup(j->jit, &addr, sym), "cannot find the entry point", d))
		goto fail;
	j->run = (be_run_fn)(uintptr_t)addr;
	return j;
fail_mod:
	if (mod)
		LLVMDisposeModule(mod);
fail_jtm:
	if (tm)
		LLVMDisposeTargetMachine(tm);
	if (jtm)
		LLVMDisposeTargetMachine(jtm);
fail:
	be_jit_close(j);
	return NULL;
}

int be_jit_call(be_jit *j, const ir_tensor *inputs, ir_tensor *outputs, diag_sink *d)
{
	const ir_graph *g = j->g;
	memset(outputs, 0, sizeof *outputs * (size_t)g->noutputs);
	for (int k = 0; k < g->ninputs; k++) {
		const ir_value *v = g->inputs[k];
		if (inputs[k].dt != v->dt || !ir_shape_eq(&inputs[k].shape, &v->shape)) {
			char a[96], b[96];
			diag_error(d, g->src_file, "input '%s': got %s%s, graph expects %s%s", v->name,
			           ir_dtype_name(inputs[k].dt), ir_shape_str(&inputs[k].shape, a, sizeof a),
			           ir_dtype_name(v->dt), ir_shape_str(&v->shape, b, sizeof b));
			return -1;
		}
		j->inp[k] = inputs[k].data;
	}
	for (int k = 0; k < g->noutputs; k++) {
		const ir_value *v = g->outputs[k];
		int64_t n = ir_shape_numel(&v->shape);
		outputs[k].dt = v->dt;
		outputs[k].shape = v->shape;
		outputs[k].data = calloc((size_t)(n > 0 ? n : 1), ir_dtype_size(v->dt));
		if (!outputs[k].data) {
			diag_error(d, NULL, "out of memory");
			goto fail;
		}
		j->outp[k] = outputs[k].data;
	}
	if (call_jit(j->run, (const void *const *)j->inp, (void *const *)j->outp, j->arena) != 0) {
		diag_error(d, NULL, "jit: the generated code reported failure");
		goto fail;
	}
	return 0;
fail:
	for (int k = 0; k < g->noutputs; k++)
		ir_tensor_free(&outputs[k]);
	return -1;
}

int be_jit_run(ir_graph *g, be_code code, const ir_tensor *inputs, ir_tensor *outputs, diag_sink *d)
{
	memset(outputs, 0, sizeof *outputs * (size_t)g->noutputs);
	be_jit *j = be_jit_open(g, code, d);
	if (!j)
		return -1;
	int rc = be_jit_call(j, inputs, outputs, d);
	be_jit_close(j);
	return rc;
}
