/* eval.c: `qgtc eval`: top-1 accuracy of a model on the test split of a
 * labelled data set, through the reference interpreter; with --qgt the
 * model is first fine-tuned on the training split (tools/qgt.c). */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "data.h"
#include "driver.h"
#include "eval.h"

/* Top-1 through the native engine (the same code an object file holds,
 * JIT-compiled per batch call): qgt_eval_top1's loop with be_jit_run. */
static int eval_native(ir_graph *g, const qgt_dataset *ds, int64_t limit, qgt_eval_result *res,
                       diag_sink *d)
{
	memset(res, 0, sizeof *res);
	ir_value *in = g->inputs[0];
	int64_t b = in->shape.d[0];
	if (in->dt != IR_DT_F32 || ir_shape_numel(&in->shape) != b * ds->sample_numel) {
		diag_error(d, g->src_file, "model input '%s' does not take the data set's samples", in->name);
		return -1;
	}
	int64_t n = limit > 0 && limit < ds->n ? limit : ds->n;
	ir_tensor x = {IR_DT_F32, in->shape, calloc((size_t)(b * ds->sample_numel), sizeof(float))};
	ir_tensor *outs = calloc((size_t)g->noutputs, sizeof *outs);
	int rc = x.data && outs ? 0 : -1;
	if (rc)
		diag_error(d, NULL, "out of memory");
	for (int64_t s = 0; !rc && s < n; s += b) {
		int64_t m = n - s < b ? n - s : b;
		memset(x.data, 0, sizeof(float) * (size_t)(b * ds->sample_numel));
		memcpy(x.data, ds->x + s * ds->sample_numel, sizeof(float) * (size_t)(m * ds->sample_numel));
		if (be_jit_run(g, &x, outs, d)) {
			rc = -1;
			break;
		}
		int64_t k = ir_shape_numel(&outs[0].shape) / b;
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
	}
	free(x.data);
	free(outs);
	return rc;
}

int drv_eval_acc(const drv_options *o, double *acc, diag_sink *d)
{
	*acc = -1;
	qgt_norm nm;
	int nrc = drv_norm(o, &nm, d);
	if (nrc != DRV_OK)
		return nrc;
	if (!o->data_dir) {
		diag_error(d, NULL, "eval needs --data DIR (IDX files or NPY pairs)");
		return DRV_USAGE;
	}
	ir_graph *g = drv_load_model(o->model, d);
	if (!g)
		return DRV_ERROR;
	int rc = DRV_ERROR;
	qgt_dataset ds = {0};
	drv_qgt *q = NULL;
	if (qgt_dataset_load(&ds, o->data_dir, QGT_SPLIT_TEST, &nm, d))
		goto out;
	if (g->ninputs != 1) {
		diag_error(d, o->model, "eval needs a model with exactly one input; it has %d", g->ninputs);
		goto out;
	}
	if (drv_qgt_begin(o, g, &q, d))
		goto out;
	/* A symbolic batch is bound to --batch (default 100, native 1000: a
	 * JIT compile per call); a fixed one is used as it is. */
	bool native = o->engine == DRV_ENGINE_NATIVE;
	int64_t b = g->inputs[0]->shape.rank > 0 ? g->inputs[0]->shape.d[0] : 0;
	if (b == IR_DIM_SYM)
		ir_graph_bind_batch(g, o->batch > 0 ? o->batch : native ? 1000 : 100);
	else if (o->batch > 0 && o->batch != b) {
		diag_error(d, o->model, "--batch %lld: the model's batch dimension is fixed at %lld",
		           (long long)o->batch, (long long)b);
		goto out;
	}
	if (drv_qgt_pipeline(o, q, g, d) || ir_verify(g, true, d))
		goto out;
	if (drv_quant_report(o, g, stdout, d))
		goto out;
	qgt_eval_result res;
	if (native ? eval_native(g, &ds, o->limit, &res, d)
	           : qgt_eval_top1(g, &ds, o->limit, o->verbose ? stderr : NULL, &res, d))
		goto out;
	*acc = (double)res.correct / (double)res.total;
	if (!o->eval_silent)
		printf("top-1: %.2f%% (%lld/%lld)\n", 100.0 * *acc, (long long)res.correct,
		       (long long)res.total);
	rc = DRV_OK;
out:
	drv_qgt_end(q);
	qgt_dataset_free(&ds);
	ir_graph_destroy(g);
	return rc;
}

int drv_eval(const drv_options *o, diag_sink *d)
{
	if (o->qgt_sweep)
		return drv_qgt_sweep(o, d);
	if (o->report_sensitivity)
		return drv_qgt_sensitivity(o, d);
	double acc;
	return drv_eval_acc(o, &acc, d);
}
