/* manager.c: the pass registry and the pipeline runner. */
#include <stdlib.h>
#include <string.h>

#include "memplan.h"
#include "pass.h"
#include "quant.h"

static const pass_info builtin[] = {
	{"shapes", "infer dtypes and shapes of every value", pass_shapes, false},
	{"fold-constants", "evaluate nodes whose inputs are constants (incl. Shape of static shapes)",
	 pass_fold_constants, false},
	{"unroll-rnn", "rewrite lstm, gru and rnn with constant weights as the ops of their time steps",
	 pass_unroll_rnn, false},
	{"lower-einsum", "rewrite einsum as transposes, reshapes, reductions and matmuls", pass_lower_einsum, false},
	{"fold-qdq", "turn dequantize -> conv/matmul -> quantize into integer ops; fold dequantized "
	             "constants", pass_fold_qdq, false},
	{"fold-pad", "fold a constant pad into the conv it feeds (its pads)", pass_fold_pad, false},
	{"dce", "remove nodes and values that no graph output depends on", pass_dce, false},
	{"bnfold", "fold BatchNorm into the preceding conv, conv_transpose or gemm", pass_bnfold, false},
	{"quantize", "quantize conv/gemm/matmul weights; their data becomes DQ(w) (-b, --scheme)",
	 pass_quantize_weights, false},
	{"quantize-act", "calibrate activations and put conv/matmul/gemm between quantize/dequantize "
	                 "(-a; fold-qdq makes them integer)", pass_quantize_act, false},
	{"io-int", "take and return the integers of quantized inputs and outputs (--io int)",
	 pass_io_int, false},
	{"bitpack", "pack quantized weight codes densely into bytes", pass_bitpack_weights, false},
	{"patch", "run the first high-resolution layers tile by tile to fit --ram-budget (MCUNetV2)",
	 pass_patch, false},
	{"memplan", "plan the arena: liveness, in-place ops, best-fit offsets (--report memory)",
	 pass_memplan, false},
};
enum { NBUILTIN = sizeof builtin / sizeof builtin[0], MAX_ADDED = 16 };

/* Passes registered from above (pass_register). */
static const pass_info *added[MAX_ADDED];
static int nadded;

int pass_count(void)
{
	return NBUILTIN + nadded;
}

const pass_info *pass_at(int i)
{
	return i < 0 ? NULL : i < NBUILTIN ? &builtin[i] : i < NBUILTIN + nadded ? added[i - NBUILTIN] : NULL;
}

const pass_info *pass_find(const char *name)
{
	for (int i = 0; i < pass_count(); i++)
		if (strcmp(pass_at(i)->name, name) == 0)
			return pass_at(i);
	return NULL;
}

int pass_register(const pass_info *p)
{
	if (!p || !p->name || !p->run || pass_find(p->name) || nadded == MAX_ADDED)
		return -1;
	added[nadded++] = p;
	return 0;
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
	for (int i = 0; i < pass_count(); i++) {
		if (i)
			strncat(known, ", ", sizeof known - strlen(known) - 1);
		strncat(known, pass_at(i)->name, sizeof known - strlen(known) - 1);
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
	int k, bind_after;          /* passes run; bind the batch once k reaches it */
};

/* Bind o->batch; after a pass (whose successors expect shapes) infer
 * them again. */
static int bind_batch(ir_graph *g, const pass_options *o, bool infer, diag_sink *d)
{
	if (o->batch <= 0)
		return 0;
	ir_graph_bind_batch(g, o->batch);
	if (infer && (ir_graph_toposort(g, d) || ir_infer_shapes(g, d)))
		return -1;
	if (ir_graph_oom(g)) {
		diag_error(d, g->src_file, "out of memory");
		return -1;
	}
	return 0;
}

static int run_one(const char *name, void *arg)
{
	struct run_ctx *c = arg;
	const pass_info *p = pass_find(name);
	int rc = p->run(c->g, c->o, c->d);
	/* A pass that ran out of memory on a graph edit (ir_graph_oom) left
	 * it incomplete, whatever it made of that (an error it reported may
	 * be a consequence): say why. */
	if (ir_graph_oom(c->g)) {
		diag_error(c->d, c->g->src_file, "out of memory in pass '%s'", name);
		return -1;
	}
	if (rc)
		return -1;
	if (c->o->verify_each && ir_verify(c->g, false, c->d)) {
		diag_note(c->d, NULL, "IR broken after pass '%s'", name);
		return -1;
	}
	if (c->o->print_after_all || in_list(c->o->print_after, name)) {
		FILE *f = c->o->print_out ? c->o->print_out : stderr;
		fprintf(f, "; *** IR after %s ***\n", name);
		ir_print(f, c->g, c->o->print_max_inline);
	}
	if (++c->k == c->bind_after && bind_batch(c->g, c->o, true, c->d))
		return -1;
	return 0;
}

/* The number of passes up to the last one working on the model's own
 * batch (pass_info.model_batch), or 0. */
static int last_model_batch(const char *name, void *arg)
{
	int *a = arg;
	a[0]++;
	if (pass_find(name)->model_batch)
		a[1] = a[0];
	return 0;
}

int pass_run_pipeline(ir_graph *g, const char *pipeline, const pass_options *o, diag_sink *d)
{
	if (pass_check_pipeline(pipeline, d))
		return -1;
	if (o && o->print_after && pass_check_pipeline(o->print_after, d))
		return -1;
	pass_options oo = o ? *o : (pass_options){0};
	pass_handoff own = {0};
	if (!oo.handoff)
		oo.handoff = &own;
	int cnt[2] = {0, 0};
	each_name(pipeline, last_model_batch, cnt);
	struct run_ctx c = {g, &oo, d, 0, cnt[1]};
	int rc = c.bind_after == 0 && bind_batch(g, &oo, false, d) ? -1 : each_name(pipeline, run_one, &c);
	pass_handoff_clear(&own);
	return rc;
}

void pass_handoff_clear(pass_handoff *h)
{
	if (!h)
		return;
	free(h->weights);
	free(h->acts);
	*h = (pass_handoff){0};
}
