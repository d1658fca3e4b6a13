/* fuzz_onnx.c: ONNX bytes -> load -> the default pipeline (shapes first)
 * -> verify -> a native object in memory, for a target and kernel policy
 * the input's hash picks.  Errors are fine; crashes, sanitizer reports
 * and hangs are not. */
#include <stdlib.h>

#include "backend.h"
#include "frontend.h"
#include "fuzz.h"
#include "pass.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const targets[] = {"x86_64", "aarch64", "armv7em"};
	static const be_code codes[] = {BE_CODE_AUTO, BE_CODE_SPEED, BE_CODE_SIZE};
	uint32_t h = fuzz_hash(data, size);
	const char *stage = "load";
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_graph *g = fe_onnx_load_buffer(data, size, "fuzz.onnx", NULL, &d);
	if (!g)
		goto out;
	stage = "pipeline";
	ir_graph_bind_batch(g, 1);
	pass_options po = {.verify_each = true};
	if (pass_run_pipeline(g, PASS_DEFAULT_PIPELINE, &po, &d) || ir_verify(g, false, &d))
		goto out;
	/* The backend's tables grow with the values' extents (up to
	 * BE_MAX_VALUE_BYTES each, where it stops): past 16 MiB a value costs
	 * more memory and time than fuzzing has, and teaches it nothing. */
	for (int i = 0; i < g->nvalues; i++) {
		int64_t n = ir_shape_numel(&g->values[i]->shape);
		if (n > 0 && (uint64_t)n * ir_dtype_size(g->values[i]->dt) > (16u << 20)) {
			stage = "too large for the backend";
			goto out;
		}
	}
	stage = "backend";
	be_target t;
	if (be_target_resolve(targets[h % 3], NULL, NULL, NULL, &t, &d))
		abort(); /* a built-in target must resolve */
	t.opt = h / 3 % 2 ? 2 : 0;
	t.code = codes[h / 6 % 3];
	be_options bo = {.emit = BE_EMIT_OBJ, .name = "fuzz"};
	void *obj;
	size_t len;
	if (be_compile_buffer(g, &t, &bo, &obj, &len, &d) == 0) {
		if (len == 0)
			abort();
		free(obj);
		stage = "object";
	}
out:
	ir_graph_destroy(g);
	fuzz_done(&d, stage);
	return 0;
}
