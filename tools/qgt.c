/* qgt.c: the driver's side of Quantization-Guided Training: the flags of
 * --qgt into the qgt pass's options (the pass itself, and every choice of
 * policy, live in qgt/: qgt.h), the --lambda-sweep table and the
 * --report sensitivity ranking. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"
#include "qgt.h"

bool drv_pipeline_has(const char *pipeline, const char *pass)
{
	size_t n = strlen(pass);
	for (const char *p = pipeline; p && *p;) {
		const char *e = strchr(p, ',');
		size_t k = e ? (size_t)(e - p) : strlen(p);
		if (k == n && strncmp(p, pass, n) == 0)
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

int drv_qgt_options(const drv_options *o, qgt_pass_options *qp, diag_sink *d)
{
	*qp = o->qgtp;
	int rc = drv_norm(o, &qp->norm, d);
	if (rc != DRV_OK)
		return rc;
	qp->data_dir = o->data_dir;
	drv_train_config(o, &qp->train);
	/* opt prints the IR on standard output: progress goes to stderr */
	if (qp->train.log && o->cmd == DRV_CMD_OPT) {
		qp->train.log = stderr;
		qp->train.log_tty = isatty(fileno(stderr));
	}
	/* eval keeps the fine-tuned float model; compile writes the
	 * compiled graph to --save-onnx itself */
	qp->save_onnx = o->cmd == DRV_CMD_EVAL ? o->save_onnx : NULL;
	if (o->qgt && !o->quantize)
		diag_warn(d, NULL, "--qgt without -b, --bits or --scheme: fine-tuning for 8-bit affine");
	if (o->qgt && !drv_pipeline_has(o->pipeline, "qgt"))
		diag_warn(d, NULL, "--qgt: the pipeline (--passes) has no 'qgt' pass; nothing is fine-tuned");
	return DRV_OK;
}

/* ------------------------------------------------- sweep, sensitivity */

drv_options drv_plain_eval(const drv_options *o, int bits, const char *rules)
{
	drv_options r = *o;
	r.qgt = false;
	r.qgt_sweep = NULL;
	r.report_html = NULL;
	r.report_json = NULL;
	r.report_size = false;
	r.report_sensitivity = false;
	r.qgtp.flash_budget = 0;
	r.quiet = true;
	r.eval_silent = true;
	r.quantize = bits > 0;
	r.quant.bits_rules = rules;
	if (bits > 0) {
		r.quant.bits = bits;
		if (!o->pipeline_given)
			r.pipeline = PASS_QUANT_PIPELINE;
	} else {
		/* a --passes list may quantize: FP32 is the default pipeline's */
		r.quant.act_bits = 0;
		r.pipeline = PASS_DEFAULT_PIPELINE;
	}
	return r;
}

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
		oi.report_html = NULL;
		oi.qgtp.lambda_rules = NULL;
		oi.qgtp.lambda = (float)(n == 1 ? lo : lo * pow(hi / lo, (double)i / (n - 1)));
		oi.quiet = true;
		int rc = eval_quiet(&oi, &res[i], d);
		if (rc != DRV_OK)
			return rc;
		printf("lambda %-10.3g top-1 %.2f%%\n", (double)oi.qgtp.lambda, 100 * res[i]);
		fflush(stdout);
	}
	printf("\n%-12s %s\n", "lambda", "top-1 %");
	double lam[100];
	for (int i = 0; i < n; i++) {
		lam[i] = (float)(n == 1 ? lo : lo * pow(hi / lo, (double)i / (n - 1)));
		printf("%-12.3g %.2f\n", lam[i], 100 * res[i]);
	}
	if (o->report_html)
		return drv_eval_report(o, lam, res, n, d);
	return DRV_OK;
}


static int cmp_row(const void *a, const void *b)
{
	double x = ((const drv_sens_row *)a)->acc, y = ((const drv_sens_row *)b)->acc;
	return (x > y) - (x < y);
}

int drv_sens_rows(const drv_options *o, drv_sens_row **rowsp, int *nrows, double *fp32p, diag_sink *d)
{
	*rowsp = NULL;
	*nrows = 0;
	ir_graph *g = drv_load_model(o->model, d);
	if (!g)
		return DRV_ERROR;
	/* the kernels as quantize deploys them: their MACs and bytes */
	if (g->ninputs == 1 && g->inputs[0]->shape.rank > 0 && g->inputs[0]->shape.d[0] == IR_DIM_SYM)
		ir_graph_bind_batch(g, 1);
	pass_quant_options qo = o->quant;
	qo.bits_rules = NULL;
	qo.act_bits = 0;
	qo.calib_x = NULL;
	pass_options po = {.quant = &qo};
	if (pass_run_pipeline(g, PASS_FRONT_PIPELINE ",dce,bnfold,quantize,bitpack", &po, d)) {
		ir_graph_destroy(g);
		return DRV_ERROR;
	}
	drv_sens_row *rows = calloc((size_t)g->nnodes + 1, sizeof *rows);
	int nr = 0;
	for (int i = 0; rows && i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		ir_value *w = !n->dead && pass_weight_axis(n, 1) >= 0 ? n->in[1] : NULL;
		if (!w || w->kind != IR_VAL_CONST || !w->quant || !w->name)
			continue;
		snprintf(rows[nr].name, sizeof rows[nr].name, "%s", w->name);
		rows[nr].params = ir_shape_numel(&w->shape);
		rows[nr].macs = qgt_layer_macs(n);
		rows[nr].bytes = pass_quant_weight_bytes(w);
		rows[nr].bits = o->quant.bits;
		nr++;
	}
	ir_graph_destroy(g);
	if (!rows) {
		diag_error(d, NULL, "out of memory");
		return DRV_ERROR;
	}
	double fp32;
	drv_options of = drv_plain_eval(o, 0, NULL);
	int rc = eval_quiet(&of, &fp32, d);
	for (int r = 0; rc == DRV_OK && r < nr; r++) {
		char rules[320];
		snprintf(rules, sizeof rules, "*=32,%s=%d", rows[r].name, o->quant.bits);
		drv_options ol = drv_plain_eval(o, o->quant.bits, rules);
		rc = eval_quiet(&ol, &rows[r].acc, d);
	}
	if (rc != DRV_OK) {
		free(rows);
		return rc;
	}
	qsort(rows, (size_t)nr, sizeof *rows, cmp_row);
	double lost = 0;
	for (int r = 0; r < nr; r++)
		lost += fmax(fp32 - rows[r].acc, 0);
	for (int r = 0; r < nr; r++)
		rows[r].bottleneck = nr > 1 && lost > 0 && fp32 - rows[r].acc >= lost / 3;
	*rowsp = rows;
	*nrows = nr;
	*fp32p = fp32;
	return DRV_OK;
}

int drv_qgt_sensitivity(const drv_options *o, diag_sink *d)
{
	drv_sens_row *rows;
	int nr;
	double fp32;
	int rc = drv_sens_rows(o, &rows, &nr, &fp32, d);
	if (rc != DRV_OK)
		return rc;
	printf("sensitivity: top-1 with only one kernel quantized to %d bits (%s), FP32 %.2f%%\n",
	       o->quant.bits, pass_qscheme_name(o->quant.scheme), 100 * fp32);
	printf("%-4s %-28s %8s %10s %4s %8s %9s %8s %s\n", "rank", "kernel", "params", "MACs", "bits",
	       "bytes", "top-1 %", "lost", "");
	for (int r = 0; r < nr; r++)
		printf("%-4d %-28s %8lld %10lld %4d %8zu %9.2f %+8.2f %s\n", r + 1, rows[r].name,
		       (long long)rows[r].params, (long long)rows[r].macs, rows[r].bits, rows[r].bytes,
		       100 * rows[r].acc, 100 * (rows[r].acc - fp32), rows[r].bottleneck ? "bottleneck" : "");
	FILE *f = o->report_json ? fopen(o->report_json, "w") : NULL;
	if (o->report_json && !f) {
		diag_error(d, NULL, "cannot open '%s' for writing", o->report_json);
		rc = DRV_ERROR;
	}
	if (f) {
		fprintf(f, "{\n  \"fp32_top1\": %.4f, \"bits\": %d, \"scheme\": \"%s\",\n  \"layers\": [",
		        fp32, o->quant.bits, pass_qscheme_name(o->quant.scheme));
		for (int r = 0; r < nr; r++) {
			fprintf(f, "%s\n    {\"kernel\": ", r ? "," : "");
			diag_json_str(f, rows[r].name);
			fprintf(f, ", \"params\": %lld, \"macs\": %lld, \"bits\": %d, \"bytes\": %zu, "
			        "\"top1\": %.4f, \"lost\": %.4f, \"bottleneck\": %s}",
			        (long long)rows[r].params, (long long)rows[r].macs, rows[r].bits, rows[r].bytes,
			        rows[r].acc, fp32 - rows[r].acc, rows[r].bottleneck ? "true" : "false");
		}
		fputs("\n  ]\n}\n", f);
		if (fclose(f)) {
			diag_error(d, NULL, "cannot write '%s'", o->report_json);
			remove(o->report_json);
			rc = DRV_ERROR;
		}
	}
	free(rows);
	return rc;
}
