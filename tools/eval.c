/* eval.c: `qgtc eval`: top-1 accuracy of a model on the test split of a
 * labelled data set, through the reference interpreter; with --qgt the
 * pipeline's qgt pass first fine-tunes it on the training split. */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "data.h"
#include "driver.h"
#include "eval.h"
#include "qgt.h"
#include "quant.h"

/* qgt_eval_top1's runner: the JIT with the command's kernel policy. */
static be_code jit_code;

/* The evaluation's graph, JIT-compiled on its first batch and run on
 * every batch after (drv_eval_run closes it). */
static be_jit *jit;
static const ir_graph *jit_graph;

static int jit_run(ir_graph *g, const ir_tensor *inputs, ir_tensor *outputs, diag_sink *d)
{
	if (!jit || jit_graph != g) {
		be_jit_close(jit);
		jit_graph = g;
		jit = be_jit_open(g, jit_code, d);
		if (!jit)
			return -1;
	}
	return be_jit_call(jit, inputs, outputs, d);
}

int drv_eval_acc(const drv_options *o, double *acc, diag_sink *d)
{
	return drv_eval_run(o, acc, NULL, NULL, d);
}

int drv_eval_run(const drv_options *o, double *acc, size_t *bytes, ir_graph **keep, diag_sink *d)
{
	*acc = -1;
	if (keep)
		*keep = NULL;
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
	/* A symbolic batch is bound to --batch (default 100, native 1000:
	 * fewer calls); a fixed one is used as it is.  The pass manager binds
	 * it (after qgt, which trains at its own batch). */
	pass_options po;
	drv_pass_options(o, &po);
	po.qgt = &qp;
	bool native = o->engine == DRV_ENGINE_NATIVE;
	/* A model exported at a fixed batch of 1 runs at the batch below
	 * when nothing in it pins the batch (qgt_free_batch). */
	if (o->batch != 1)
		qgt_free_batch(g);
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
	if (bytes)
		*bytes = pass_quant_total_bytes(g, NULL);
	qgt_eval_result res;
	/* native: the same code an object file holds, JIT-compiled once */
	jit_code = o->code_policy;
	int erc = qgt_eval_top1(g, &ds, o->limit, native ? jit_run : NULL, o->verbose ? stderr : NULL,
	                        &res, d);
	be_jit_close(jit);
	jit = NULL;
	jit_graph = NULL;
	if (erc)
		goto out;
	*acc = (double)res.correct / (double)res.total;
	if (!o->eval_silent)
		printf("top-1: %.2f%% (%lld/%lld)\n", 100.0 * *acc, (long long)res.correct,
		       (long long)res.total);
	rc = DRV_OK;
	if (keep) {
		*keep = g;
		g = NULL;
	}
out:
	qgt_dataset_free(&ds);
	ir_graph_destroy(g);
	return rc;
}

/* A reference point: o without fine-tuning, at `bits` (0: FP32). */
static int ref_point(const drv_options *o, int bits, drv_point *p, diag_sink *d)
{
	drv_options r = drv_plain_eval(o, bits, NULL);
	size_t b = 0;
	int rc = drv_eval_run(&r, &p->acc, &b, NULL, d);
	p->bytes = (double)b;
	if (bits)
		snprintf(p->label, sizeof p->label, "PTQ W%d%s", bits, o->quant.act_bits ? "A8" : "");
	else
		snprintf(p->label, sizeof p->label, "FP32");
	p->method = bits ? "ptq" : "fp32";
	return rc;
}

static const char *run_method(const drv_options *o)
{
	if (o->qgtp.flash_budget)
		return "budget";
	if (!o->qgt)
		return o->quantize ? "ptq" : "fp32";
	if (o->qgtp.method == QGT_METHOD_STE)
		return "ste";
	if (o->qgtp.kind == QGT_REG_SQ)
		return "sq";
	return o->quant.scheme == IR_QS_CODEBOOK ? "codebook" : "qgt";
}

/* --report-points: up to max runs from path into pts; count, or -1. */
static int read_points(const char *path, drv_point *pts, int max, diag_sink *d)
{
	static const char *const methods[] = {"fp32", "ptq", "qgt", "ste", "budget", "sq", "codebook"};
	FILE *f = fopen(path, "r");
	if (!f) {
		diag_error(d, path, "cannot open the report's points");
		return -1;
	}
	char line[512];
	int n = 0, ln = 0;
	while (fgets(line, sizeof line, f)) {
		ln++;
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (!line[0] || line[0] == '#')
			continue;
		char *lab = line, *m = strchr(lab, '\t'), *b = m ? strchr(m + 1, '\t') : NULL,
		     *a = b ? strchr(b + 1, '\t') : NULL, *e1, *e2;
		if (!a) {
			diag_error(d, path, "line %d: expected LABEL<tab>METHOD<tab>BYTES<tab>TOP1%%", ln);
			goto fail;
		}
		*m++ = 0;
		*b++ = 0;
		*a++ = 0;
		double bytes = strtod(b, &e1), acc = strtod(a, &e2);
		int k = 0;
		while (k < 7 && strcmp(m, methods[k]))
			k++;
		if (k == 7 || *e1 || *e2 || !(bytes > 0) || !(acc >= 0 && acc <= 100)) {
			diag_error(d, path, "line %d: a method of fp32, ptq, qgt, ste, budget, sq, codebook, "
			           "bytes > 0 and top-1 in [0, 100] expected", ln);
			goto fail;
		}
		if (n == max) {
			diag_error(d, path, "line %d: more than %d runs", ln, max);
			goto fail;
		}
		size_t ll = strlen(lab) < sizeof pts[n].label ? strlen(lab) : sizeof pts[n].label - 1;
		memcpy(pts[n].label, lab, ll);
		pts[n].label[ll] = 0;
		pts[n].method = methods[k];
		pts[n].bytes = bytes;
		pts[n].acc = acc / 100;
		n++;
	}
	fclose(f);
	return n;
fail:
	fclose(f);
	return -1;
}

int drv_eval_report(const drv_options *o, const double *lambda, const double *acc, int n, diag_sink *d)
{
	drv_point pts[24], extra[20];
	int np = 0, rc = DRV_ERROR, nextra = 0;
	/* a bad points file fails before any work */
	if (o->report_points && (nextra = read_points(o->report_points, extra, 20, d)) < 0)
		return DRV_ERROR;
	ir_graph *after = NULL, *before = NULL;
	drv_sens_row *rows = NULL;
	int nrows = 0;
	double sfp = 0;
	if (!lambda) {
		/* this run, as evaluated (top-1 printed as usual) */
		drv_options m = *o;
		m.report_html = NULL;
		size_t b = 0;
		drv_point *p = &pts[np++];
		if ((rc = drv_eval_run(&m, &p->acc, &b, &after, d)) != DRV_OK)
			goto out;
		p->bytes = (double)b;
		p->method = run_method(o);
		if (o->qgtp.flash_budget)
			snprintf(p->label, sizeof p->label, "%s budget %zu B", o->qgt ? "QGT" : "PTQ",
			         o->qgtp.flash_budget);
		else if (o->quantize)
			snprintf(p->label, sizeof p->label, "%s W%d%s", o->qgt ? run_method(o) : "this run",
			         o->quant.bits, o->quant.act_bits ? "A8" : "");
		else
			snprintf(p->label, sizeof p->label, "this run");
	}
	if (o->report_points) {
		memcpy(pts + np, extra, sizeof *extra * (size_t)nextra);
		np += nextra;
	} else {
		if ((rc = ref_point(o, 0, &pts[np++], d)) != DRV_OK)
			goto out;
		for (int b = 8; b >= 2; b /= 2)
			if ((rc = ref_point(o, b, &pts[np++], d)) != DRV_OK)
				goto out;
	}
	drv_options so = *o;
	so.quant.bits = o->quantize ? o->quant.bits : 2;
	if ((rc = drv_sens_rows(&so, &rows, &nrows, &sfp, d)) != DRV_OK)
		goto out;
	/* a budget's mix: each layer's width and bytes as this run deployed them */
	for (int i = 0; after && o->qgtp.flash_budget && i < nrows; i++) {
		const ir_value *w = ir_graph_find_value(after, rows[i].name);
		if (!w || w->kind != IR_VAL_CONST)
			continue;
		if (w->quant && w->quant->scheme != IR_QS_NONE) {
			snprintf(rows[i].chosen, sizeof rows[i].chosen, "%d%s%s", w->quant->bits,
			         w->quant->scheme == IR_QS_AFFINE ? "" : " ", w->quant->scheme == IR_QS_AFFINE
			                                                     ? "" : ir_qscheme_name(w->quant->scheme));
			rows[i].bytes = pass_quant_weight_bytes(w);
		} else {
			snprintf(rows[i].chosen, sizeof rows[i].chosen, "fp32");
			rows[i].bytes = (size_t)ir_shape_numel(&w->shape) * 4;
		}
	}
	before = drv_load_model(o->model, d);
	char summary[512];
	if (o->qgtp.flash_budget)
		snprintf(summary, sizeof summary,
		         "Top-1 on the test split of %s (%s engine%s); weights at the widths --flash-budget %zu "
		         "chose per layer%s.", o->data_dir, o->engine == DRV_ENGINE_NATIVE ? "native" : "interpreter",
		         o->limit ? ", limited" : "", o->qgtp.flash_budget, o->qgt ? ", fine-tuned with --qgt" : "");
	else
		snprintf(summary, sizeof summary,
		         "Top-1 on the test split of %s (%s engine%s); weights %s, %d bits%s.", o->data_dir,
		         o->engine == DRV_ENGINE_NATIVE ? "native" : "interpreter", o->limit ? ", limited" : "",
		         pass_qscheme_name(o->quant.scheme ? o->quant.scheme : IR_QS_AFFINE), so.quant.bits,
		         o->qgt ? ", fine-tuned with --qgt" : "");
	drv_report r = {.model = o->model, .summary = summary, .pts = pts, .npts = np, .rows = rows,
	                .nrows = nrows, .sens_fp32 = sfp, .sweep_lambda = lambda, .sweep_acc = acc,
	                .nsweep = n, .before = before, .after = after};
	rc = drv_report_html(&r, o->report_html, d) ? DRV_ERROR : DRV_OK;
	if (rc == DRV_OK)
		printf("wrote %s\n", o->report_html);
out:
	free(rows);
	ir_graph_destroy(before);
	ir_graph_destroy(after);
	return rc;
}

int drv_eval(const drv_options *o, diag_sink *d)
{
	if (o->qgt_sweep)
		return drv_qgt_sweep(o, d);
	if (o->report_sensitivity) {
		int rc = drv_qgt_sensitivity(o, d);
		if (rc != DRV_OK || !o->report_html)
			return rc;
	}
	if (o->report_html)
		return drv_eval_report(o, NULL, NULL, 0, d);
	double acc;
	return drv_eval_acc(o, &acc, d);
}
