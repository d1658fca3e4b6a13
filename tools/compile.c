/* compile.c: `qgtc MODEL`: load, run the pipeline, emit.  Only --emit ir
 * exists until the LLVM backend lands. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "driver.h"
#include "onnx_write.h"
#include "dsl.h"
#include "frontend.h"

static bool has_ext(const char *path, const char *ext)
{
	size_t n = strlen(path), k = strlen(ext);
	return n > k && strcasecmp(path + n - k, ext) == 0;
}

int drv_check_readable(const char *path, diag_sink *d)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		diag_error(d, NULL, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		diag_error(d, NULL, "cannot open '%s': %s", path, strerror(EISDIR));
		return -1;
	}
	FILE *f = fopen(path, "rb");
	if (!f) {
		diag_error(d, NULL, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}

ir_graph *drv_load_model(const char *path, diag_sink *d)
{
	if (drv_check_readable(path, d))
		return NULL;
	if (has_ext(path, ".qir"))
		return drv_load_qir(path, d);
	if (has_ext(path, ".qgm"))
		return fe_dsl_load(path, d);
	int before = d->nerr;
	ir_graph *g = fe_onnx_load(path, d);
	if (!g && d->nerr == before)
		diag_error(d, path, "cannot load model");
	return g;
}

/* Read a .qir file (capped at FE_MAX_FILE_BYTES) and parse it. */
ir_graph *drv_load_qir(const char *path, diag_sink *d)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		diag_error(d, NULL, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			if (cap >= (size_t)FE_MAX_FILE_BYTES) {
				diag_error(d, path, "file is larger than %lld bytes",
				           (long long)FE_MAX_FILE_BYTES);
				free(buf);
				fclose(f);
				return NULL;
			}
			cap = cap ? cap * 2 : 1 << 16;
			char *nb = realloc(buf, cap);
			if (!nb) {
				diag_error(d, path, "out of memory");
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t k = fread(buf + len, 1, cap - len, f);
		len += k;
		if (k == 0)
			break;
	}
	int err = ferror(f);
	fclose(f);
	if (err) {
		diag_error(d, path, "read error");
		free(buf);
		return NULL;
	}
	ir_graph *g = ir_parse(buf, len, path, d);
	free(buf);
	if (g && ir_graph_toposort(g, d)) {
		ir_graph_destroy(g);
		return NULL;
	}
	return g;
}

static drv_emit resolve_emit(const drv_options *o);

/* Where --report output goes: stdout, unless the emitted file itself
 * goes there. */
static FILE *report_stream(const drv_options *o)
{
	bool to_stdout = !o->out_file || strcmp(o->out_file, "-") == 0;
	return to_stdout && (o->cmd == DRV_CMD_OPT || resolve_emit(o) != DRV_EMIT_OBJ) ? stderr : stdout;
}

void drv_pass_options(const drv_options *o, pass_options *po)
{
	*po = (pass_options){
		.print_after_all = o->print_after_all,
		.print_after = o->print_after,
		.print_out = NULL, /* dumps go to stderr, as in LLVM */
		.print_max_inline = o->ir_max_inline,
		.verify_each = o->verify_each,
		.quant = &o->quant,
		.ram_budget = o->ram_budget,
		.memory_report = o->report_memory ? report_stream(o) : NULL,
	};
}

/* --emit when not given: from -o's extension, else an object file. */
static drv_emit resolve_emit(const drv_options *o)
{
	if (o->emit != DRV_EMIT_DEFAULT)
		return o->emit;
	const char *f = o->out_file;
	if (!f)
		return DRV_EMIT_OBJ;
	if (has_ext(f, ".qir"))
		return DRV_EMIT_IR;
	if (has_ext(f, ".ll") || has_ext(f, ".bc"))
		return DRV_EMIT_LLVM;
	if (has_ext(f, ".s"))
		return DRV_EMIT_ASM;
	if (has_ext(f, ".h"))
		return DRV_EMIT_HEADER;
	return DRV_EMIT_OBJ;
}

/* Print g to path so that a complete file or none appears: write a
 * temporary next to it, then rename.  Non-regular targets (/dev/null, a
 * pipe) and "-" are written directly. */
static int write_ir(const ir_graph *g, const char *path, long max_inline, diag_sink *d)
{
	struct stat st;
	if (!path || strcmp(path, "-") == 0) {
		ir_print(stdout, g, max_inline);
		if (fflush(stdout) || ferror(stdout)) {
			diag_error(d, NULL, "cannot write to standard output: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
	bool direct = stat(path, &st) == 0 && !S_ISREG(st.st_mode);
	size_t n = strlen(path) + 32;
	char *tmp = malloc(n);
	if (!tmp) {
		diag_error(d, NULL, "out of memory");
		return -1;
	}
	snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
	const char *target = direct ? path : tmp;
	FILE *f = fopen(target, "w");
	if (!f) {
		diag_error(d, NULL, "cannot open '%s' for writing: %s", path, strerror(errno));
		free(tmp);
		return -1;
	}
	ir_print(f, g, max_inline);
	int err = ferror(f) ? (errno ? errno : EIO) : 0;
	if (fclose(f) && !err)
		err = errno ? errno : EIO;
	if (!err && !direct && rename(tmp, path))
		err = errno;
	if (err) {
		if (!direct)
			unlink(tmp);
		diag_error(d, NULL, "cannot write '%s': %s", path, strerror(err));
	}
	free(tmp);
	return err ? -1 : 0;
}

/* "dir/model.o" -> "dir/model" + ext into buf. */
static char *with_ext(const char *path, const char *ext, char *buf, size_t n)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(path, '.');
	size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - path) : strlen(path);
	snprintf(buf, n, "%.*s%s", (int)stem, path, ext);
	return buf;
}

/* Make-style escaping of spaces and '$' in a dependency file. */
static void dep_path(FILE *f, const char *p)
{
	for (; *p; p++) {
		if (*p == ' ' || *p == '#')
			fputc('\\', f);
		if (*p == '$')
			fputc('$', f);
		fputc(*p, f);
	}
}

/* "./a/./b" -> "a/./b": make names a file one way only. */
static const char *dep_norm(const char *p)
{
	while (p[0] == '.' && p[1] == '/' && p[2])
		p += 2;
	return p;
}

static int dep_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* -MD: "model.o model.h: model.onnx DATA...", where DATA are the files
 * the loaders read besides the model (g->deps: ONNX external data, DSL
 * weights and .npy files), sorted, once each; written temp + rename. */
static int write_depfile(const drv_options *o, const ir_graph *g, const char *header, diag_sink *d)
{
	size_t ndeps = 0;
	for (const ir_dep *dp = g->deps; dp; dp = dp->next)
		ndeps++;
	const char **deps = malloc(sizeof *deps * (ndeps ? ndeps : 1));
	if (!deps) {
		diag_error(d, NULL, "out of memory");
		return -1;
	}
	ndeps = 0;
	for (const ir_dep *dp = g->deps; dp; dp = dp->next)
		deps[ndeps++] = dep_norm(dp->path);
	qsort(deps, ndeps, sizeof *deps, dep_cmp);
	char def[4096], tmp[4200];
	const char *path = o->depfile ? o->depfile : with_ext(o->out_file, ".d", def, sizeof def);
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f) {
		diag_error(d, NULL, "cannot open '%s' for writing: %s", path, strerror(errno));
		free(deps);
		return -1;
	}
	dep_path(f, o->out_file);
	if (header) {
		fputc(' ', f);
		dep_path(f, header);
	}
	fputs(": ", f);
	const char *model = dep_norm(o->model);
	dep_path(f, model);
	for (size_t i = 0; i < ndeps; i++) {
		if ((i && strcmp(deps[i], deps[i - 1]) == 0) || strcmp(deps[i], model) == 0)
			continue;
		fputs(" \\\n  ", f);
		dep_path(f, deps[i]);
	}
	free(deps);
	fputc('\n', f);
	int err = ferror(f);
	if (fclose(f) || err || rename(tmp, path)) {
		diag_error(d, NULL, "cannot write '%s': %s", path, strerror(errno ? errno : EIO));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int report_memory(ir_graph *g, FILE *f, diag_sink *d)
{
	pass_mem_plan *p = pass_memplan_compute(g, d);
	if (!p)
		return -1;
	pass_memplan_report(f, g, p);
	fprintf(f, "memory per layer:\n");
	pass_memplan_layers(f, g, p);
	pass_memplan_destroy(p);
	return 0;
}

/* Native code: object (+ header), assembly, LLVM IR or the header alone.
 * Either every requested file appears, complete, or none does. */
static int emit_native(const drv_options *o, drv_emit emit, ir_graph *g, diag_sink *d)
{
	be_target t;
	if (be_target_resolve(o->target ? o->target : "host", o->mcpu, o->mattr, o->float_abi, &t, d))
		return -1;
	t.opt = o->opt_level;
	t.code = o->code_policy;
	t.profile = o->profile;
	bool to_stdout = !o->out_file || strcmp(o->out_file, "-") == 0;
	if (emit == DRV_EMIT_OBJ && to_stdout) {
		diag_error(d, NULL, "an object file needs -o FILE (or use --emit asm|llvm|header|ir)");
		return -1;
	}
	char namebuf[256];
	const char *name = o->sym_name ? o->sym_name
	                               : be_default_name(to_stdout ? o->model : o->out_file, namebuf,
	                                                 sizeof namebuf);
	if (emit == DRV_EMIT_HEADER)
		return be_write_header(g, name, to_stdout ? "-" : o->out_file, NULL, -1, d);
	char imports[2048] = "";
	int64_t stack = -1;
	be_options bo = {
		.emit = emit == DRV_EMIT_OBJ ? BE_EMIT_OBJ : emit == DRV_EMIT_ASM ? BE_EMIT_ASM : BE_EMIT_LLVM,
		.out_path = to_stdout ? "-" : o->out_file,
		.name = name,
		.model_desc = o->model,
		.imports = imports,
		.imports_len = sizeof imports,
		.stack = &stack,
	};
	if (be_compile(g, &t, &bo, d))
		return -1;
	if (emit != DRV_EMIT_OBJ)
		return 0;
	char hbuf[4096];
	const char *header = o->header_file ? o->header_file : with_ext(o->out_file, ".h", hbuf, sizeof hbuf);
	if ((o->profile ? be_write_header_profile(g, name, header, imports, stack, d)
	                : be_write_header(g, name, header, imports, stack, d)) ||
	    (o->depend && write_depfile(o, g, header, d))) {
		unlink(o->out_file);
		if (!o->header_file || strcmp(header, o->out_file) != 0)
			unlink(header);
		return -1;
	}
	return 0;
}

int drv_build(const drv_options *o, int64_t batch, ir_graph **out, diag_sink *d)
{
	*out = NULL;
	qgt_pass_options qp;
	int rc = drv_qgt_options(o, &qp, d);
	if (rc != DRV_OK)
		return rc;
	ir_graph *g = drv_load_model(o->model, d);
	if (!g)
		return DRV_ERROR;
	pass_options po;
	drv_pass_options(o, &po);
	po.qgt = &qp;
	po.batch = o->batch > 0 ? o->batch : batch;
	if (o->verbose)
		fprintf(stderr, "qgtc: running pipeline '%s' on '%s'\n", o->pipeline, o->model);
	if (pass_run_pipeline(g, o->pipeline, &po, d)) {
		ir_graph_destroy(g);
		return DRV_ERROR;
	}
	drv_diag_flush(d);
	if (ir_verify(g, false, d)) {
		ir_graph_destroy(g);
		return DRV_ERROR;
	}
	*out = g;
	return DRV_OK;
}

int drv_compile(const drv_options *o, diag_sink *d)
{
	drv_emit emit = o->cmd == DRV_CMD_OPT ? DRV_EMIT_IR : resolve_emit(o);
	/* Native code has static shapes: a symbolic batch becomes --batch, or
	 * 1 (bound by the pass manager: after qgt, which trains at its own). */
	ir_graph *g;
	int rc = drv_build(o, emit != DRV_EMIT_IR ? 1 : 0, &g, d);
	if (rc != DRV_OK)
		return rc;
	rc = DRV_ERROR;
	FILE *rep = report_stream(o);
	if (drv_quant_report(o, g, rep, d))
		goto out;
	if (o->report_memory && report_memory(g, rep, d))
		goto out;
	/* The compiled graph as ONNX: with -a, standard QDQ ONNX (every
	 * integer layer as dequantize -> op -> quantize). */
	if (o->save_onnx && fe_onnx_write(g, o->save_onnx, d))
		goto out;
	if (emit == DRV_EMIT_IR ? write_ir(g, o->out_file, o->ir_max_inline, d)
	                        : emit_native(o, emit, g, d))
		goto out;
	rc = DRV_OK;
out:
	ir_graph_destroy(g);
	return rc;
}
