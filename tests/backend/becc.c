/* becc.c: a minimal stand-in for the driver's native compile path, used by
 * cross_check.sh until `qgtc --target` is wired:
 *   qgtc-becc MODEL.onnx OUT [--target T] [--mcpu C] [--mattr A]
 *             [--float-abi hard|soft] [--emit obj|asm|llvm|header]
 *             [--name N] [--report-memory] [--jit IN.bin OUT.bin]
 * The batch is bound to 1 and the default pipeline runs first. */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "frontend.h"
#include "pass.h"

static int read_all(const char *path, void *buf, size_t n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t got = fread(buf, 1, n, f);
	fclose(f);
	return got == n ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s MODEL OUT [options]\n", argv[0]);
		return 2;
	}
	const char *model = argv[1], *out = argv[2], *target = "host", *mcpu = NULL, *mattr = NULL,
		   *fabi = NULL, *name = NULL, *jin = NULL, *jout = NULL;
	be_emit emit = BE_EMIT_OBJ;
	bool report = false;
	for (int i = 3; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--target") == 0 && v)
			target = v, i++;
		else if (strcmp(a, "--mcpu") == 0 && v)
			mcpu = v, i++;
		else if (strcmp(a, "--mattr") == 0 && v)
			mattr = v, i++;
		else if (strcmp(a, "--float-abi") == 0 && v)
			fabi = v, i++;
		else if (strcmp(a, "--name") == 0 && v)
			name = v, i++;
		else if (strcmp(a, "--report-memory") == 0)
			report = true;
		else if (strcmp(a, "--jit") == 0 && v && i + 2 < argc)
			jin = v, jout = argv[i + 2], i += 2;
		else if (strcmp(a, "--emit") == 0 && v) {
			emit = strcmp(v, "asm") == 0      ? BE_EMIT_ASM
			       : strcmp(v, "llvm") == 0   ? BE_EMIT_LLVM
			       : strcmp(v, "header") == 0 ? BE_EMIT_HEADER
			                                  : BE_EMIT_OBJ;
			i++;
		} else {
			fprintf(stderr, "%s: unknown option '%s'\n", argv[0], a);
			return 2;
		}
	}
	diag_sink d;
	diag_sink_init(&d, stderr);
	ir_graph *g = fe_onnx_load(model, &d);
	if (!g)
		return 1;
	ir_graph_bind_batch(g, 1);
	pass_options po = {0};
	int rc = 1;
	if (pass_run_pipeline(g, PASS_DEFAULT_PIPELINE, &po, &d) || ir_graph_toposort(g, &d))
		goto out;
	char nb[128];
	if (!name)
		name = be_default_name(out, nb, sizeof nb);
	if (report) {
		pass_mem_plan *p = pass_memplan_compute(g, &d);
		if (!p)
			goto out;
		pass_memplan_report(stdout, g, p);
		pass_memplan_destroy(p);
	}
	if (jin) {
		ir_value *v = g->inputs[0];
		int64_t n = ir_shape_numel(&v->shape);
		ir_tensor t = {IR_DT_F32, v->shape, malloc((size_t)n * 4)}, o[1];
		if (g->ninputs != 1 || g->noutputs != 1 || read_all(jin, t.data, (size_t)n * 4)) {
			fprintf(stderr, "%s: --jit needs one input, one output and %lld floats in %s\n",
			        argv[0], (long long)n, jin);
			free(t.data);
			goto out;
		}
		int jr = be_jit_run(g, BE_CODE_AUTO, &t, o, &d);
		free(t.data);
		if (jr)
			goto out;
		FILE *f = fopen(jout, "wb");
		fwrite(o[0].data, 4, (size_t)ir_shape_numel(&o[0].shape), f);
		fclose(f);
		ir_tensor_free(&o[0]);
		rc = 0;
		goto out;
	}
	be_target t;
	if (be_target_resolve(target, mcpu, mattr, fabi, &t, &d))
		goto out;
	be_options o = {.emit = emit, .out_path = out, .name = name, .model_desc = model, .imports = NULL, .imports_len = 0};
	rc = be_compile(g, &t, &o, &d) ? 1 : 0;
out:
	ir_graph_destroy(g);
	diag_sink_fini(&d);
	return rc;
}
