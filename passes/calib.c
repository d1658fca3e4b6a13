/* calib.c: run the reference interpreter over calibration samples and hand
 * the values a pass wants to observe to a callback, batch by batch.
 * Used by quantize-act (activation ranges). */
#include <stdlib.h>
#include <string.h>

#include "calib.h"

#define CALIB_DEFAULT 256
#define CALIB_BATCH 64

int pass_calib_run(ir_graph *g, const pass_quant_options *qo, ir_value **vals, int nv,
                   pass_calib_fn cb, void *ctx, diag_sink *d)
{
	if (!qo || !qo->calib_x || qo->calib_n < 1) {
		diag_error(d, g->src_file, "no calibration samples");
		return -1;
	}
	if (g->ninputs != 1 || g->inputs[0]->dt != IR_DT_F32 || g->inputs[0]->shape.rank < 1) {
		diag_error(d, g->src_file, "calibration needs a model with one f32 input");
		return -1;
	}
	ir_value *in = g->inputs[0];
	int64_t per = 1;
	for (int i = 1; i < in->shape.rank; i++)
		per *= in->shape.d[i];
	if (per != qo->calib_numel) {
		diag_error(d, g->src_file,
		           "calibration samples have %lld elements; the model's input '%s' takes %lld",
		           (long long)qo->calib_numel, in->name, (long long)per);
		return -1;
	}
	int64_t cap = qo->calib_max > 0 ? qo->calib_max : CALIB_DEFAULT;
	int64_t ns = qo->calib_n < cap ? qo->calib_n : cap;
	int rc = -1;
	ir_shape *saved = NULL;
	int nsaved = g->nvalues;
	int64_t B = in->shape.d[0];
	if (B == IR_DIM_SYM) {
		B = ns < CALIB_BATCH ? ns : CALIB_BATCH;
		saved = malloc(((size_t)g->nvalues + 1) * sizeof *saved);
		if (!saved) {
			diag_error(d, NULL, "out of memory");
			return -1;
		}
		for (int i = 0; i < g->nvalues; i++)
			saved[i] = g->values[i]->shape;
		ir_graph_bind_batch(g, B);
		if (ir_graph_toposort(g, d) || ir_infer_shapes(g, d))
			goto restore;
	}
	ir_value **keep = g->outputs;
	int nkeep = g->noutputs, capkeep = g->capoutputs;
	ir_tensor *res = calloc((size_t)nv + 1, sizeof *res);
	float *pad = NULL;
	if (!res) {
		diag_error(d, NULL, "out of memory");
		goto restore;
	}
	g->outputs = vals;
	g->noutputs = nv;
	g->capoutputs = nv;
	for (int64_t b = 0; b * B < ns; b++) {
		int64_t valid = ns - b * B < B ? ns - b * B : B;
		const float *src = qo->calib_x + b * B * qo->calib_numel;
		if (valid < B) {
			pad = calloc((size_t)(B * qo->calib_numel), sizeof *pad);
			if (!pad) {
				diag_error(d, NULL, "out of memory");
				goto done;
			}
			memcpy(pad, src, (size_t)(valid * qo->calib_numel) * sizeof *pad);
			src = pad;
		}
		ir_tensor x = {IR_DT_F32, in->shape, (void *)src};
		if (ir_interp_run(g, &x, res, d))
			goto done;
		int bad = 0;
		for (int k = 0; k < nv; k++) {
			if (!bad && cb(ctx, k, &res[k], valid, B))
				bad = 1;
			ir_tensor_free(&res[k]);
		}
		free(pad);
		pad = NULL;
		if (bad)
			goto done;
	}
	rc = 0;
done:
	g->outputs = keep;
	g->noutputs = nkeep;
	g->capoutputs = capkeep;
	free(pad);
	free(res);
restore:
	if (saved) {
		for (int i = 0; i < nsaved && i < g->nvalues; i++)
			g->values[i]->shape = saved[i];
		free(saved);
	}
	return rc;
}
