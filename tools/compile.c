/* compile.c: `qgtc MODEL`: load, run the pipeline, emit.  Only --emit ir
 * exists until the LLVM backend lands. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver.h"
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
	if (has_ext(path, ".qgm")) {
		diag_error(d, path, "DSL input is not implemented yet");
		return NULL;
	}
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

void drv_pass_options(const drv_options *o, pass_options *po)
{
	*po = (pass_options){
		.print_after_all = o->print_after_all,
		.print_after = o->print_after,
		.print_out = NULL, /* dumps go to stderr, as in LLVM */
		.print_max_inline = o->ir_max_inline,
		.verify_each = o->verify_each,
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

int drv_compile(const drv_options *o, diag_sink *d)
{
	drv_emit emit = o->cmd == DRV_CMD_OPT ? DRV_EMIT_IR : resolve_emit(o);
	if (emit != DRV_EMIT_IR) {
		diag_error(d, NULL, "native code generation is not implemented yet (--emit ir is available)");
		return DRV_ERROR;
	}
	ir_graph *g = drv_load_model(o->model, d);
	if (!g)
		return DRV_ERROR;
	int rc = DRV_ERROR;
	if (o->batch > 0)
		ir_graph_bind_batch(g, o->batch);
	pass_options po;
	drv_pass_options(o, &po);
	if (o->verbose)
		fprintf(stderr, "qgtc: running pipeline '%s' on '%s'\n", o->pipeline, o->model);
	if (pass_run_pipeline(g, o->pipeline, &po, d))
		goto out;
	drv_diag_flush(d);
	if (ir_verify(g, false, d))
		goto out;
	if (write_ir(g, o->out_file, o->ir_max_inline, d))
		goto out;
	rc = DRV_OK;
out:
	ir_graph_destroy(g);
	return rc;
}
