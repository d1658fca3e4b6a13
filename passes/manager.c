/* manager.c: the pass registry and the pipeline runner. */
#include <string.h>

#include "memplan.h"
#include "pass.h"

const pass_info pass_registry[] = {
	{"shapes", "infer dtypes and shapes of every value", pass_shapes},
	{"fold-constants", "evaluate nodes whose inputs are constants (incl. Shape of static shapes)",
	 pass_fold_constants},
	{"fold-qdq", "turn dequantize -> conv/matmul -> quantize into integer ops; fold dequantized "
	             "constants", pass_fold_qdq},
	{"dce", "remove nodes and values that no graph output depends on", pass_dce},
	{"bnfold", "fold BatchNorm into the preceding conv, conv_transpose or gemm", pass_bnfold},
	{"quantize", "quantize conv/gemm/matmul weights; their data becomes DQ(w) (-b, --scheme)",
	 pass_quantize_weights},
	{"quantize-act", "calibrate activations and put conv/matmul/gemm between quantize/dequantize "
	                 "(-a; fold-qdq makes them integer)", pass_quantize_act},
	{"io-int", "take and return the integers of quantized inputs and outputs (--io int)",
	 pass_io_int},
	{"bitpack", "pack quantized weight codes densely into bytes", pass_bitpack_weights},
	{"memplan", "plan the arena: liveness, in-place ops, best-fit offsets (--report memory)",
	 pass_memplan},
};
const int pass_registry_count = sizeof pass_registry / sizeof pass_registry[0];

const pass_info *pass_find(const char *name)
{
	for (int i = 0; i < pass_registry_count; i++)
		if (strcmp(pass_registry[i].name, name) == 0)
			return &pass_registry[i];
	return NULL;
}

/* Call fn(name, arg) for each comma-separated item; stops on nonzero. */
static int each_name(const char *list, int (*fn)(const char *, void *), void *arg)
{
	char buf[128];
	const char *p = list;
	while (p && *p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n >= sizeof buf)
			n = sizeof buf - 1;
		memcpy(buf, p, n);
		buf[n] = 0;
		if (n && fn(buf, arg))
			return -1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

static int check_one(const char *name, void *arg)
{
	diag_sink *d = arg;
	if (pass_find(name))
		return 0;
	char known[1024] = "";
	for (int i = 0; i < pass_registry_count; i++) {
		if (i)
			strncat(known, ", ", sizeof known - strlen(known) - 1);
		strncat(known, pass_registry[i].name, sizeof known - strlen(known) - 1);
	}
	diag_error(d, NULL, "unknown pass '%s' (known passes: %s)", name, known);
	return 0; /* keep going: report every unknown name */
}

int pass_check_pipeline(const char *pipeline, diag_sink *d)
{
	int before = d->nerr;
	each_name(pipeline, check_one, d);
	return d->nerr > before ? -1 : 0;
}

static int in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ',');
		size_t k = e ? (size_t)(e - p) : strlen(p);
		if (k == n && strncmp(p, name, n) == 0)
			return 1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

struct run_ctx {
	ir_graph *g;
	const pass_options *o;
	diag_sink *d;
};

static int run_one(const char *name, void *arg)
{
	struct run_ctx *c = arg;
	const pass_info *p = pass_find(name);
	if (p->run(c->g, c->o, c->d))
		return -1;
	if (c->o && c->o->verify_each && ir_verify(c->g, false, c->d)) {
		diag_note(c->d, NULL, "IR broken after pass '%s'", name);
		return -1;
	}
	if (c->o && (c->o->print_after_all || in_list(c->o->print_after, name))) {
		FILE *f = c->o->print_out ? c->o->print_out : stderr;
		fprintf(f, "; *** IR after %s ***\n", name);
		ir_print(f, c->g, c->o->print_max_inline);
	}
	return 0;
}

int pass_run_pipeline(ir_graph *g, const char *pipeline, const pass_options *o, diag_sink *d)
{
	if (pass_check_pipeline(pipeline, d))
		return -1;
	if (o && o->print_after && pass_check_pipeline(o->print_after, d))
		return -1;
	struct run_ctx c = {g, o, d};
	return each_name(pipeline, run_one, &c);
}
