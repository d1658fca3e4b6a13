/* fuzz_qir.c: .qir text -> parse -> verify -> a pipeline (the default or
 * the quantizing one, by the input's hash) with verification after every
 * pass -> the memory plan.  A graph that parses must print back to text
 * that parses to the same text (the printer/parser round trip). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "memplan.h"
#include "pass.h"

static char *print(const ir_graph *g, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		abort();
	ir_print(f, g, -1);
	fclose(f);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *stage = "parse";
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_graph *g = ir_parse((const char *)data, size, "fuzz.qir", &d);
	if (!g || ir_graph_toposort(g, &d) || ir_verify(g, false, &d))
		goto out;
	/* Round trip: what parsed prints to text that parses and prints the same. */
	size_t l1, l2;
	char *t1 = print(g, &l1);
	ir_graph *g2 = ir_parse(t1, l1, "fuzz-printed.qir", &d);
	if (!g2) {
		fprintf(stderr, "printed text does not parse:\n%s\n%s", d.buf, t1);
		abort();
	}
	char *t2 = print(g2, &l2);
	if (l1 != l2 || memcmp(t1, t2, l1) != 0) {
		fprintf(stderr, "round trip differs:\n%s\n----\n%s", t1, t2);
		abort();
	}
	free(t1);
	free(t2);
	ir_graph_destroy(g2);

	stage = "pipeline";
	const char *pipe = fuzz_hash(data, size) % 2 ? PASS_QUANT_PIPELINE : PASS_DEFAULT_PIPELINE;
	pass_options po = {.verify_each = true};
	if (pass_run_pipeline(g, pipe, &po, &d) || ir_verify(g, false, &d))
		goto out;
	ir_graph_bind_batch(g, 1);
	if (pass_run_pipeline(g, "shapes", &po, &d))
		goto out;
	stage = "memplan";
	pass_mem_plan *p = pass_memplan_compute(g, &d);
	if (p)
		stage = "planned";
	pass_memplan_destroy(p);
out:
	ir_graph_destroy(g);
	fuzz_done(&d, stage);
	return 0;
}
