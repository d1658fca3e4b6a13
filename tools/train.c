/* train.c: `qgtc train`: train or fine-tune a model (FP32) on a labelled
 * data set with the qgt engine, and write it back as ONNX. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "data.h"
#include "driver.h"
#include "eval.h"
#include "onnx_write.h"
#include "train.h"

int drv_norm(const drv_options *o, qgt_norm *nm, diag_sink *d)
{
	qgt_norm_default(nm);
	if (o->scale > 0)
		nm->scale = o->scale;
	if (o->mean && (nm->nmean = qgt_norm_parse_list(o->mean, nm->mean, 16)) < 0) {
		diag_error(d, NULL, "--mean needs numbers separated by commas, not '%s'", o->mean);
		return DRV_USAGE;
	}
	if (o->std && (nm->nstd = qgt_norm_parse_list(o->std, nm->std, 16)) < 0) {
		diag_error(d, NULL, "--std needs numbers separated by commas, not '%s'", o->std);
		return DRV_USAGE;
	}
	return DRV_OK;
}

void drv_train_config(const drv_options *o, qgt_train_config *c)
{
	if (o->train_epochs > 0)
		c->epochs = o->train_epochs;
	if (o->train_batch > 0)
		c->batch = o->train_batch;
	if (o->train_lr > 0)
		c->lr = o->train_lr;
	c->opt = (qgt_opt_kind)o->train_opt;
	if (o->train_momentum >= 0)
		c->momentum = o->train_momentum;
	c->weight_decay = o->train_wd;
	if (o->train_sched >= 0)
		c->sched = (qgt_sched_kind)o->train_sched;
	c->warmup = o->train_warmup;
	c->seed = o->train_seed;
	c->val_split = o->train_val_split;
	c->crop_pad = o->train_crop;
	c->flip = o->train_flip;
	if (o->train_threads > 0)
		c->threads = o->train_threads;
	c->max_steps = o->train_max_steps;
	c->log = o->quiet ? NULL : stdout;
	c->log_tty = isatty(fileno(stdout));
}

int drv_train(const drv_options *o, diag_sink *d)
{
	qgt_norm nm;
	int nrc = drv_norm(o, &nm, d);
	if (nrc != DRV_OK)
		return nrc;
	if (!o->data_dir) {
		diag_error(d, NULL, "train needs --data DIR (IDX files or NPY pairs)");
		return DRV_USAGE;
	}
	qgt_train_config c;
	qgt_train_config_default(&c);
	drv_train_config(o, &c);
	c.limit = o->limit;

	/* Two copies: one bound to the training batch and run through the
	 * pipeline, one as loaded, into which the trained weights go back so
	 * the written model keeps its symbolic batch. */
	ir_graph *g = drv_load_model(o->model, d);
	ir_graph *orig = o->save_onnx ? drv_load_model(o->model, d) : NULL;
	int rc = DRV_ERROR;
	qgt_dataset ds = {0};
	if (!g || (o->save_onnx && !orig))
		goto out;
	if (g->ninputs != 1) {
		diag_error(d, o->model, "train needs a model with exactly one input; it has %d", g->ninputs);
		goto out;
	}
	int64_t b = g->inputs[0]->shape.rank > 0 ? g->inputs[0]->shape.d[0] : 0;
	if (b == IR_DIM_SYM) {
		ir_graph_bind_batch(g, c.batch);
	} else if (b != c.batch) {
		if (o->train_batch > 0) {
			diag_error(d, o->model, "--batch-size %lld: the model's batch dimension is fixed at %lld",
			           (long long)c.batch, (long long)b);
			goto out;
		}
		c.batch = b;
	}
	pass_options po;
	drv_pass_options(o, &po);
	if (pass_run_pipeline(g, o->pipeline, &po, d) || ir_verify(g, true, d))
		goto out;
	if (qgt_dataset_load(&ds, o->data_dir, QGT_SPLIT_TRAIN, &nm, d))
		goto out;
	double vacc;
	if (qgt_train(g, &ds, &c, &vacc, d))
		goto out;
	if (orig) {
		/* Shapes of the outputs (with the batch still symbolic) go into
		 * the written model's signature. */
		if (qgt_graph_copy_consts(orig, g, d) < 0 || ir_infer_shapes(orig, d))
			goto out;
		if (fe_onnx_write(orig, o->save_onnx, d))
			goto out;
		if (!o->quiet)
			printf("wrote %s\n", o->save_onnx);
	}
	rc = DRV_OK;
out:
	qgt_dataset_free(&ds);
	ir_graph_destroy(g);
	ir_graph_destroy(orig);
	return rc;
}
