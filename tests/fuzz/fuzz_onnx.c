/* fuzz_onnx.c: ONNX bytes -> load -> a pipeline (shapes first, verified
 * after every pass) -> verify -> a native object in memory.  The input's
 * hash picks the target, -O level and kernel policy, and the pipeline:
 * the default one, or the quantizing one of -b 8/4/2, or of -b 8 -a 8 with
 * made-up calibration samples (the integer path).  Errors are fine;
 * crashes, sanitizer reports and hangs are not. */
#include <stdlib.h>

#include "backend.h"
#include "frontend.h"
#include "fuzz.h"
#include "pass.h"
#include "quant.h"

/* n pseudo-random floats in [-1, 1) for calibration; the caller frees. */
static float *calib_samples(int64_t n, uint32_t seed)
{
	float *x = malloc(sizeof *x * (size_t)n);
	for (int64_t i = 0; x && i < n; i++) {
		seed = seed * 1664525u + 1013904223u;
		x[i] = (float)(seed >> 8) / (float)(1u << 23) - 1.0f;
	}
	return x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const targets[] = {"x86_64", "aarch64", "armv7em"};
	static const be_code codes[] = {BE_CODE_AUTO, BE_CODE_SPEED, BE_CODE_SIZE};
	uint32_t h = fuzz_hash(data, size);
	const char *stage = "load";
	float *calib = NULL;
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_graph *g = fe_onnx_load_buffer(data, size, "fuzz.onnx", NULL, &d);
	if (!g)
		goto out;
	stage = "pipeline";
	ir_graph_bind_batch(g, 1);
	static const int wbits[] = {8, 4, 2};
	pass_quant_options qo = {.bits = 8, .scheme = IR_QS_AFFINE, .percentile = 99.9f};
	pass_options po = {.verify_each = true, .quant = &qo};
	const char *pipe = PASS_DEFAULT_PIPELINE;
	switch (h / 18 % 4) {
	case 2:
		pipe = PASS_QUANT_PIPELINE;
		qo.bits = wbits[h / 72 % 3];
		break;
	case 3: /* -b 8 -a 8: calibrate on two samples of the one f32 input */
		pipe = PASS_QUANT_PIPELINE;
		if (g->ninputs == 1 && g->inputs[0]->dt == IR_DT_F32) {
			const ir_shape *xs = &g->inputs[0]->shape; /* samples: one batch row each */
			int64_t n = ir_shape_numel(xs);
			if (n > 0 && xs->rank > 0)
				n /= xs->d[0];
			if (n > 0 && n <= (1 << 16) && (calib = calib_samples(2 * n, h))) {
				qo.scheme = IR_QS_SYMMETRIC;
				qo.act_bits = 8;
				qo.calib_x = calib;
				qo.calib_n = 2;
				qo.calib_numel = n;
				qo.io_int = h / 72 % 2;
			}
		}
		break;
	}
	if (pass_run_pipeline(g, pipe, &po, &d) || ir_verify(g, false, &d))
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
	free(calib);
	ir_graph_destroy(g);
	fuzz_done(&d, stage);
	return 0;
}
