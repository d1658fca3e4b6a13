/* eval.c: `qgtc eval`: top-1 accuracy of a model on the test split of a
 * labelled data set, through the reference interpreter; with --qgt the
 * pipeline's qgt pass first fine-tunes it on the training split. */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "data.h"
#include "driver.h"
#include "eval.h"

/* qgt_eval_top1's runner: the JIT with the command's kernel policy. */
static be_code jit_code;

static int jit_run(ir_graph *g, const ir_tensor *inputs, ir_tensor *outputs, diag_sink *d)
{
	return be_jit_run(g, jit_code, inputs, outputs, d);
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
	qgt_pass_options qp;
	nrc = drv_qgt_options(o, &qp, d);
	if (nrc != DRV_OK)
		return nrc;
	ir_graph *g = drv_load_model(o->model, d);
	if (!g)
		return DRV_ERROR;
	int rc = DRV_ERROR;
	qgt_dataset ds = {0};
	if (qgt_dataset_load(&ds, o->data_dir, QGT_SPLIT_TEST, &nm, d))
		goto out;
	if (g->ninputs != 1) {
		diag_error(d, o->model, "eval needs a model with exactly one input; it has %d", g->ninputs);
		goto out;
	}
	/* A symbolic batch is bound to --batch (default 100, native 1000: a
	 * JIT compile per call); a fixed one is used as it is.  The pass
	 * manager binds it (after qgt, which trains at its own batch). */
	pass_options po;
	drv_pass_options(o, &po);
	po.qgt = &qp;
	bool native = o->engine == DRV_ENGINE_NATIVE;
	int64_t b = g->inputs[0]->shape.rank > 0 ? g->inputs[0]->shape.d[0] : 0;
	if (b == IR_DIM_SYM)
		po.batch = o->batch > 0 ? o->batch : native ? 1000 : 100;
	else if (o->batch > 0 && o->batch != b) {
		diag_error(d, o->model, "--batch %lld: the model's batch dimension is fixed at %lld",
		           (long long)o->batch, (long long)b);
		goto out;
	}
	if (pass_run_pipeline(g, o->pipeline, &po, d) || ir_verify(g, true, d))
		goto out;
	if (drv_quant_report(o, g, stdout, d))
		goto out;
	qgt_eval_result res;
	/* native: the same code an object file holds, JIT-compiled per batch */
	jit_code = o->code_policy;
	if (qgt_eval_top1(g, &ds, o->limit, native ? jit_run : NULL, o->verbose ? stderr : NULL,
	                  &res, d))
		goto out;
	*acc = (double)res.correct / (double)res.total;
	if (!o->eval_silent)
		printf("top-1: %.2f%% (%lld/%lld)\n", 100.0 * *acc, (long long)res.correct,
		       (long long)res.total);
	rc = DRV_OK;
out:
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
