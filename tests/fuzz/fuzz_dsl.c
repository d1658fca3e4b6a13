/* fuzz_dsl.c: model DSL text -> parse -> the graph it builds (shapes
 * inferred, weights initialised).  Weight files named by the text resolve
 * in an empty folder of the harness's own. */
#include <stdlib.h>
#include <unistd.h>

#include "dsl.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64];
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "/tmp/qgtc-fuzz-dsl-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_graph *g = fe_dsl_load_buffer((const char *)data, size, "fuzz.qgm", dir, &d);
	if (g && ir_verify(g, false, &d))
		abort(); /* what the DSL builds must verify */
	ir_graph_destroy(g);
	fuzz_done(&d, g ? "built" : "load");
	return 0;
}
