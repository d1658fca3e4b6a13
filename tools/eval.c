/* eval.c: `qgtc eval`: top-1 accuracy of a model on the test split of a
 * labelled data set, through the reference interpreter. */
#include <string.h>

#include "data.h"
#include "driver.h"
#include "eval.h"

int drv_eval(const drv_options *o, diag_sink *d)
{
	qgt_norm nm;
	qgt_norm_default(&nm);
	if (o->scale > 0)
		nm.scale = o->scale;
	if (o->mean && (nm.nmean = qgt_norm_parse_list(o->mean, nm.mean, 16)) < 0) {
		diag_error(d, NULL, "--mean needs numbers separated by commas, not '%s'", o->mean);
		return DRV_USAGE;
	}
	if (o->std && (nm.nstd = qgt_norm_parse_list(o->std, nm.std, 16)) < 0) {
		diag_error(d, NULL, "--std needs numbers separated by commas, not '%s'", o->std);
		return DRV_USAGE;
	}
	if (!o->data_dir) {
		diag_error(d, NULL, "eval needs --data DIR (IDX files or NPY pairs)");
		return DRV_USAGE;
	}
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
	/* A symbolic batch is bound to --batch (default 100); a fixed one is
	 * used as it is. */
	int64_t b = g->inputs[0]->shape.rank > 0 ? g->inputs[0]->shape.d[0] : 0;
	if (b == IR_DIM_SYM)
		ir_graph_bind_batch(g, o->batch > 0 ? o->batch : 100);
	else if (o->batch > 0 && o->batch != b) {
		diag_error(d, o->model, "--batch %lld: the model's batch dimension is fixed at %lld",
		           (long long)o->batch, (long long)b);
		goto out;
	}
	pass_options po;
	drv_pass_options(o, &po);
	if (pass_run_pipeline(g, o->pipeline, &po, d) || ir_verify(g, true, d))
		goto out;
	if (drv_quant_report(o, g, stdout, d))
		goto out;
	qgt_eval_result res;
	if (qgt_eval_top1(g, &ds, o->limit, o->verbose ? stderr : NULL, &res, d))
		goto out;
	printf("top-1: %.2f%% (%lld/%lld)\n", 100.0 * (double)res.correct / (double)res.total,
	       (long long)res.correct, (long long)res.total);
	rc = DRV_OK;
out:
	qgt_dataset_free(&ds);
	ir_graph_destroy(g);
	return rc;
}
