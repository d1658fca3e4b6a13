/* eval.c: top-1 accuracy through the reference interpreter. */
#include <stdlib.h>
#include <string.h>

#include "eval.h"

int qgt_eval_top1(ir_graph *g, const qgt_dataset *ds, int64_t limit, qgt_run_fn run,
                  FILE *progress, qgt_eval_result *res, diag_sink *d)
{
	if (!run)
		run = ir_interp_run;
	memset(res, 0, sizeof *res);
	if (g->ninputs != 1 || g->noutputs < 1) {
		diag_error(d, g->src_file, "eval needs a model with one input and a score output (has %d inputs, %d outputs)",
		           g->ninputs, g->noutputs);
		return -1;
	}
	ir_value *in = g->inputs[0];
	ir_value *out = g->outputs[0];
	int64_t b = in->shape.d[0];
	/* A sample is copied whole into its slot of the input: any input of
	 * the same elements per sample takes it (an MLP's [N, 784] takes the
	 * [1, 28, 28] images), as training and calibration do, unless both
	 * have a layout and they differ (ir_shape_feeds: HWC data, CHW input). */
	bool fits = in->dt == IR_DT_F32 && in->shape.rank >= 2 && b > 0 && ir_shape_known(&in->shape) &&
	            ir_shape_numel(&in->shape) == b * ds->sample_numel &&
	            ir_shape_feeds(&ds->sample, &in->shape);
	if (!fits) {
		char a[96], s[96];
		diag_error(d, g->src_file, "model input '%s' is %s%s; the data set's samples are f32[N]+%s",
		           in->name, ir_dtype_name(in->dt), ir_shape_str(&in->shape, a, sizeof a),
		           ir_shape_str(&ds->sample, s, sizeof s));
		return -1;
	}
	int64_t onumel = ir_shape_numel(&out->shape);
	if (out->dt != IR_DT_F32 || onumel <= 0 || out->shape.d[0] != b || onumel % b) {
		char a[96];
		diag_error(d, g->src_file, "model output '%s' is %s%s; expected f32 scores [%lld, classes]",
		           out->name, ir_dtype_name(out->dt), ir_shape_str(&out->shape, a, sizeof a),
		           (long long)b);
		return -1;
	}
	int64_t k = onumel / b;
	if (k < ds->nclasses) {
		diag_error(d, g->src_file, "model gives %lld scores per sample; labels go up to %d",
		           (long long)k, ds->nclasses - 1);
		return -1;
	}
	int64_t n = limit > 0 && limit < ds->n ? limit : ds->n;
	ir_tensor x = {IR_DT_F32, in->shape, calloc((size_t)(b * ds->sample_numel), sizeof(float))};
	ir_tensor *outs = calloc((size_t)g->noutputs, sizeof *outs);
	if (!x.data || !outs) {
		free(x.data);
		free(outs);
		diag_error(d, NULL, "out of memory");
		return -1;
	}
	int rc = 0;
	int64_t next_report = n / 10;
	for (int64_t s = 0; s < n; s += b) {
		int64_t m = n - s < b ? n - s : b;
		memset(x.data, 0, sizeof(float) * (size_t)(b * ds->sample_numel));
		memcpy(x.data, ds->x + s * ds->sample_numel, sizeof(float) * (size_t)(m * ds->sample_numel));
		if (run(g, &x, outs, d)) {
			rc = -1;
			break;
		}
		const float *sc = outs[0].data;
		for (int64_t i = 0; i < m; i++) {
			int64_t best = 0;
			for (int64_t c = 1; c < k; c++)
				if (sc[i * k + c] > sc[i * k + best])
					best = c;
			res->correct += best == ds->y[s + i];
		}
		res->total += m;
		for (int i = 0; i < g->noutputs; i++)
			ir_tensor_free(&outs[i]);
		if (progress && s + m >= next_report && s + m < n) {
			fprintf(progress, "eval: %lld/%lld, running top-1 %.2f%%\n", (long long)(s + m),
			        (long long)n, 100.0 * (double)res->correct / (double)res->total);
			next_report += n / 10;
		}
	}
	free(x.data);
	free(outs);
	return rc;
}
