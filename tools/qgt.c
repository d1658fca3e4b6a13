/* qgt.c: the driver's side of Quantization-Guided Training: --qgt in eval
 * and compile (fine-tune a copy of the model with batchnorm live, then
 * hand its weights to the normal bnfold/quantize pipeline), the
 * --lambda-sweep table and the --report sensitivity ranking.  The method
 * itself lives in qgt/ (qgt.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "driver.h"
#include "eval.h"
#include "onnx_write.h"
#include "qgt.h"

struct drv_qgt {
	ir_graph *g;          /* the fine-tuned copy (the regularizer's names live here) */
	qgt_reg *reg;
	qgt_dataset train;
	pass_act_grid *grids; /* -a: the activation grids trained on (names in g) */
	int ngrids;
};

static void reg_options(const drv_options *o, const qgt_train_config *c, qgt_reg_options *ro)
{
	qgt_reg_options_default(ro);
	/* Default lambda: half the largest stable one.  Near the grid the
	 * regularizer is a quadratic of curvature 2 lambda per weight, and
	 * SGD with momentum mu at rate lr is stable on it while
	 * lr 2 lambda < 2 (1 + mu) (QGT-NOTES lesson 4: the best lambda was
	 * the largest stable one).  Defaults lr 0.01, mu 0.9: lambda 95. */
	if (c->opt == QGT_OPT_SGD && c->lr > 0)
		ro->lambda = 0.5f * (1 + c->momentum) / c->lr;
	ro->kind = (qgt_reg_kind)o->qgt_kind;
	ro->quant = o->quant;
	ro->quant.calib_x = NULL; /* bias correction is for PTQ */
	if (o->qgt_lambda >= 0)
		ro->lambda = o->qgt_lambda;
	ro->lambda_rules = o->qgt_lambda_rules;
	if (o->qgt_lambda_sched >= 0)
		ro->sched = (qgt_lambda_sched)o->qgt_lambda_sched;
	if (o->qgt_freeze >= 0)
		ro->freeze_frac = o->qgt_freeze;
	if (o->qgt_refresh > 0)
		ro->refresh = o->qgt_refresh;
	if (o->qgt_no_bn_reintro)
		ro->bn_reintro = false;
}

static int dump_hist(FILE *f, const char *key, const ir_graph *g)
{
	diag_json_str(f, key);
	fputs(": ", f);
	return qgt_histograms_json(g, 64, f);
}

int drv_qgt_begin(const drv_options *o, ir_graph *dst, drv_qgt **out, diag_sink *d)
{
	*out = NULL;
	if (!o->qgt)
		return 0;
	if (!o->data_dir) {
		diag_error(d, NULL, "--qgt needs --data DIR (the training split is used to fine-tune)");
		return -1;
	}
	if (!o->quantize)
		diag_warn(d, NULL, "--qgt without -b, --bits or --scheme: fine-tuning for 8-bit affine");
	drv_qgt *q = calloc(1, sizeof *q);
	if (!q) {
		diag_error(d, NULL, "out of memory");
		return -1;
	}
	*out = q;
	qgt_norm nm;
	if (drv_norm(o, &nm, d) != DRV_OK)
		return -1;
	qgt_train_config c;
	drv_train_config(o, &c, true);
	if (qgt_dataset_load(&q->train, o->data_dir, QGT_SPLIT_TRAIN, &nm, d))
		return -1;
	q->g = drv_load_model(o->model, d);
	if (!q->g)
		return -1;
	ir_graph *g = q->g;
	if (g->ninputs != 1) {
		diag_error(d, o->model, "--qgt needs a model with exactly one input; it has %d", g->ninputs);
		return -1;
	}
	int64_t b = g->inputs[0]->shape.rank > 0 ? g->inputs[0]->shape.d[0] : 0;
	if (b == IR_DIM_SYM)
		ir_graph_bind_batch(g, c.batch);
	else
		c.batch = b;
	pass_options po;
	drv_options plain = *o;
	plain.print_after_all = false;
	plain.print_after = NULL;
	drv_pass_options(&plain, &po);
	if (pass_run_pipeline(g, PASS_DEFAULT_PIPELINE, &po, d) || ir_verify(g, true, d))
		return -1;
	qgt_reg_options ro;
	reg_options(o, &c, &ro);
	q->reg = qgt_reg_create(g, &ro, d);
	if (!q->reg)
		return -1;
	FILE *hf = NULL;
	if (o->dump_hist) {
		hf = fopen(o->dump_hist, "w");
		if (!hf) {
			diag_error(d, NULL, "cannot open '%s' for writing: %s", o->dump_hist, strerror(errno));
			return -1;
		}
		fputs("{", hf);
		dump_hist(hf, "before", g);
		fputs(",\n", hf);
	}
	if (!o->quiet)
		printf("qgt: fine-tuning %s (%s, lambda %g%s%s, %s schedule) on %lld training samples\n",
		       o->model, ro.kind == QGT_REG_SQ ? "smart quantization" : ro.kind == QGT_REG_CODEBOOK ? "codebook" : "qgt",
		       (double)ro.lambda, ro.lambda_rules ? ", rules " : "", ro.lambda_rules ? ro.lambda_rules : "",
		       ro.sched == QGT_LSCHED_CONST ? "const" : ro.sched == QGT_LSCHED_LINEAR ? "linear" : "exp",
		       (long long)q->train.n);
	fflush(stdout);
	/* -a: the activation quantizers in the loop, calibrated on the
	 * samples quantize-act will use (eval: the training split), else on
	 * the training split. */
	pass_quant_options aqo = o->quant;
	if (aqo.act_bits && !aqo.calib_x) {
		aqo.calib_x = q->train.x;
		aqo.calib_n = q->train.n;
		aqo.calib_numel = q->train.sample_numel;
	}
	qgt_act_options act = {&aqo, o->qgt_act_ema};
	qgt_finetune_stats st;
	int rc = qgt_finetune(g, &q->train, &c, q->reg, &act, 100, &st, d);
	q->grids = st.act_grids;
	q->ngrids = st.n_act_grids;
	if (rc == 0 && !o->quiet) {
		qgt_reg_report(q->reg, g, stdout);
		printf("qgt: kernels on their grids (final projection moved them by %.3g)\n", st.moved);
		if (q->ngrids)
			printf("qgt: quantize-act deploys the %d activation grids trained on\n", q->ngrids);
	}
	if (hf) {
		if (rc == 0) {
			dump_hist(hf, "after", g);
			fputs("}\n", hf);
		}
		if (fclose(hf) && rc == 0) {
			diag_error(d, NULL, "cannot write '%s'", o->dump_hist);
			rc = -1;
		}
	}
	if (rc)
		return -1;
	if (qgt_graph_copy_consts(dst, g, d) < 0)
		return -1;
	if (o->save_onnx) {
		/* The fine-tuned float model, batchnorm unfolded, kernels on
		 * their grids: compiling it with the same -b/--scheme gives
		 * exactly this quantized model (the grids are fixed points). */
		ir_graph *orig = drv_load_model(o->model, d);
		int wrc = !orig || qgt_graph_copy_consts(orig, g, d) < 0 || ir_infer_shapes(orig, d) ||
		          fe_onnx_write(orig, o->save_onnx, d);
		ir_graph_destroy(orig);
		if (wrc)
			return -1;
		if (!o->quiet)
			printf("qgt: wrote %s\n", o->save_onnx);
	}
	return 0;
}

int drv_qgt_pipeline(const drv_options *o, const drv_qgt *q, ir_graph *g, diag_sink *d)
{
	pass_options po;
	drv_pass_options(o, &po);
	/* -a: quantize-act deploys the activation grids trained on. */
	pass_quant_options qo;
	if (q && q->ngrids) {
		qo = o->quant;
		qo.act_grids = q->grids;
		qo.n_act_grids = q->ngrids;
		po.quant = &qo;
	}
	/* SQ and codebook grids are per layer: deploy them between bnfold and
	 * quantize, which then leaves the quantized kernels alone. */
	const char *cut = q && q->reg ? strstr(o->pipeline, "quantize") : NULL;
	if (!cut || cut == o->pipeline)
		return pass_run_pipeline(g, o->pipeline, &po, d);
	size_t k = (size_t)(cut - o->pipeline);
	char *head = malloc(k + 1);
	if (!head) {
		diag_error(d, NULL, "out of memory");
		return -1;
	}
	memcpy(head, o->pipeline, k);
	head[k > 0 && head[k - 1] == ',' ? k - 1 : k] = 0;
	int rc = pass_run_pipeline(g, head, &po, d);
	free(head);
	if (rc || qgt_reg_deploy(q->reg, g, d))
		return -1;
	return pass_run_pipeline(g, cut, &po, d);
}

void drv_qgt_end(drv_qgt *q)
{
	if (!q)
		return;
	qgt_reg_destroy(q->reg);
	free(q->grids);
	ir_graph_destroy(q->g);
	qgt_dataset_free(&q->train);
	free(q);
}

/* ------------------------------------------------- sweep, sensitivity */

/* top-1 of o (a full eval, nothing printed) into *acc; DRV_* status. */
static int eval_quiet(drv_options *o, double *acc, diag_sink *d)
{
	o->quiet = true;
	o->eval_silent = true;
	return drv_eval_acc(o, acc, d);
}

int drv_qgt_sweep(const drv_options *o, diag_sink *d)
{
	double lo, hi;
	int n;
	char tail;
	if (sscanf(o->qgt_sweep, "%lf:%lf:%d%c", &lo, &hi, &n, &tail) != 3 || !(lo > 0) ||
	    !(hi >= lo) || n < 1 || n > 100) {
		diag_error(d, NULL, "--lambda-sweep needs LO:HI:N with 0 < LO <= HI and 1 <= N <= 100, not '%s'",
		           o->qgt_sweep);
		return DRV_USAGE;
	}
	double res[100];
	for (int i = 0; i < n; i++) {
		drv_options oi = *o;
		oi.qgt = true;
		oi.qgt_sweep = NULL;
		oi.qgt_lambda_rules = NULL;
		oi.qgt_lambda = (float)(n == 1 ? lo : lo * pow(hi / lo, (double)i / (n - 1)));
		oi.quiet = true;
		int rc = eval_quiet(&oi, &res[i], d);
		if (rc != DRV_OK)
			return rc;
		printf("lambda %-10.3g top-1 %.2f%%\n", (double)oi.qgt_lambda, 100 * res[i]);
		fflush(stdout);
	}
	printf("\n%-12s %s\n", "lambda", "top-1 %");
	for (int i = 0; i < n; i++)
		printf("%-12.3g %.2f\n", n == 1 ? lo : lo * pow(hi / lo, (double)i / (n - 1)), 100 * res[i]);
	return DRV_OK;
}

typedef struct sens_row {
	char name[128];
	int64_t params;
	double acc;
} sens_row;

static int cmp_row(const void *a, const void *b)
{
	double x = ((const sens_row *)a)->acc, y = ((const sens_row *)b)->acc;
	return (x > y) - (x < y);
}

int drv_qgt_sensitivity(const drv_options *o, diag_sink *d)
{
	ir_graph *g = drv_load_model(o->model, d);
	if (!g)
		return DRV_ERROR;
	sens_row *rows = calloc((size_t)g->nnodes + 1, sizeof *rows);
	int nr = 0;
	for (int i = 0; rows && i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		ir_value *w = !n->dead && pass_weight_axis(n, 1) >= 0 ? n->in[1] : NULL;
		if (!w || w->kind != IR_VAL_CONST || w->dt != IR_DT_F32 || !w->name)
			continue;
		snprintf(rows[nr].name, sizeof rows[nr].name, "%s", w->name);
		rows[nr].params = ir_shape_numel(&w->shape);
		nr++;
	}
	ir_graph_destroy(g);
	if (!rows) {
		diag_error(d, NULL, "out of memory");
		return DRV_ERROR;
	}
	drv_options base = *o;
	base.report_sensitivity = false;
	base.report_size = false;
	base.report_json = NULL;
	base.qgt = false;
	base.quiet = true;
	double fp32;
	drv_options of = base;
	of.quantize = false;
	of.pipeline = PASS_DEFAULT_PIPELINE;
	int rc = eval_quiet(&of, &fp32, d);
	for (int r = 0; rc == DRV_OK && r < nr; r++) {
		char rules[320];
		snprintf(rules, sizeof rules, "*=32,%s=%d", rows[r].name, o->quant.bits);
		drv_options ol = base;
		ol.quant.bits_rules = rules;
		ol.quantize = true;
		if (!o->pipeline_given)
			ol.pipeline = PASS_QUANT_PIPELINE;
		rc = eval_quiet(&ol, &rows[r].acc, d);
	}
	if (rc == DRV_OK) {
		qsort(rows, (size_t)nr, sizeof *rows, cmp_row);
		printf("sensitivity: top-1 with only one kernel quantized to %d bits (%s), FP32 %.2f%%\n",
		       o->quant.bits, pass_qscheme_name(o->quant.scheme), 100 * fp32);
		printf("%-4s %-28s %8s %9s %8s\n", "rank", "kernel", "params", "top-1 %", "lost");
		for (int r = 0; r < nr; r++)
			printf("%-4d %-28s %8lld %9.2f %+8.2f\n", r + 1, rows[r].name, (long long)rows[r].params,
			       100 * rows[r].acc, 100 * (rows[r].acc - fp32));
	}
	free(rows);
	return rc;
}
