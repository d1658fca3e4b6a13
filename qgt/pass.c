/* pass.c: the pass `qgt`: fine-tune the graph's weights onto the grids the
 * quantize pass will deploy (qgt_finetune on the regularizer family, or,
 * as the baseline, STE quantization-aware training: --method ste), and
 * hand those grids on to quantize and quantize-act in the same run.  It
 * registers itself with the pass manager (qgt_register_passes), so
 * passes/ knows nothing of training.  Compiler policy lives here: the
 * default lambda, the regularizer kind, the MSE grid at 2 bits.
 * requires: shapes; one input; labelled data (pass_options.qgt); the
 * batch dimension symbolic, or fixed by the model (the trainer runs on a
 * copy of the graph bound to its batch, so the manager binds the run's
 * batch only after this pass: model_batch).
 * keeps: structure, names, shapes; rewrites the data of the trainable
 * constants (kernels, biases, batchnorm parameters and statistics). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_write.h"
#include "pass.h"
#include "qgt.h"

void qgt_pass_options_default(qgt_pass_options *o)
{
	*o = (qgt_pass_options){
		.kind = QGT_REG_QGT,
		.lambda = -1,
		.lambda_sched = -1,
		.ste_forward = -1,
		.distill = -1,
		.learn_scale = -1,
		.freeze = -1,
		.bn_reintro = true,
		.bn_batches = 100,
	};
	qgt_norm_default(&o->norm);
	qgt_train_config_default(&o->train);
	o->train.sched = QGT_SCHED_COSINE;
}

/* The regularizer for the quantize options qo: policy where po leaves it
 * open. */
static void reg_options(const qgt_pass_options *po, const pass_quant_options *qo,
                        const qgt_train_config *c, qgt_reg_options *ro)
{
	qgt_reg_options_default(ro);
	/* The default method (--method qgt) runs the forward on the
	 * fake-quantized kernels, as STE does, on a grid rebuilt from them
	 * every step, and the regularizer pulls every weight onto its grid
	 * point; --method qgt-float is the paper's recipe as first
	 * built (the forward on the float kernels, the grid rebuilt from them
	 * every 50 steps).  Measured on the held-out models of
	 * bench/qgt_models.py (bench/README.md), the float forward trails
	 * STE-QAT at 2 bits by 1 to 2 pt; this one leads it. */
	bool qfwd = po->method == QGT_METHOD_REG && po->kind != QGT_REG_SQ &&
	            qo->scheme != IR_QS_CODEBOOK && po->ste_forward != 0;
	/* Default lambda.  Near the grid the regularizer is a quadratic of
	 * curvature 2 lambda per weight, and SGD with momentum mu at rate lr
	 * is stable on it while lr 2 lambda < 2 (1 + mu).  With the forward
	 * on the float kernels half that bound is best (QGT-NOTES lesson 4:
	 * the largest stable lambda; 95 at lr 0.01, mu 0.9).  With the
	 * forward quantized the task gradient already sees the grid and the
	 * regularizer only damps the weights' oscillation across grid
	 * boundaries (Nagel et al. 2022): 1% of the bound (1.9).  On the
	 * demo model at 2 bits, 1 epoch: 89.65 at 1.9, 89.57 at 1, 89.06 at
	 * 10, 88.3 at 95. */
	if (c->opt == QGT_OPT_SGD && c->lr > 0)
		ro->lambda = (qfwd ? 0.01f : 0.5f) * (1 + c->momentum) / c->lr;
	else if (qfwd)
		ro->lambda = 1.0f;
	if (po->lambda >= 0)
		ro->lambda = po->lambda;
	/* Smart Quantization when asked; a codebook grid learns its levels. */
	ro->kind = po->kind == QGT_REG_SQ ? QGT_REG_SQ
	           : qo->scheme == IR_QS_CODEBOOK ? QGT_REG_CODEBOOK : QGT_REG_QGT;
	ro->quant = *qo;
	ro->quant.calib_x = NULL; /* bias correction is for PTQ */
	ro->quant.act_grids = NULL;
	ro->quant.n_act_grids = 0;
	/* A layer at 2 bits or fewer trains onto the MSE grid (the weights
	 * land on it, and quantize deploys it: qgt_reg_handoff); PTQ keeps
	 * min-max, which does better there (QGT-NOTES lesson 5).  Per layer,
	 * so that the 2-bit layers of a mix (--flash-budget, --bits) get it
	 * as uniform -b 2 does. */
	if (!po->calib_given)
		ro->quant.mse_max_bits = QGT_MSE_MAX_BITS;
	ro->lambda_rules = po->lambda_rules;
	if (po->lambda_sched >= 0)
		ro->sched = (qgt_lambda_sched)po->lambda_sched;
	ro->method = po->method;
	ro->ste_clip = po->ste_clip;
	ro->ste_forward = qfwd;
	/* Learned scales when asked.  With the STE forward alone they pay
	 * (+0.2 to +0.7 pt at 2 bits, 1 epoch, four models); under the
	 * regularizer a grid that is never rebuilt from w let the clipped
	 * tails fight the pull of the end levels, and a depthwise net lost
	 * 5 pt (bench/README.md), so --method qgt rebuilds its grid every
	 * step instead. */
	ro->learn_scale = (qfwd || po->method == QGT_METHOD_STE) && po->learn_scale > 0;
	/* STE-QAT as it is usually run: the grid follows the weights every
	 * step, and nothing is frozen at the end. */
	if (po->method == QGT_METHOD_STE) {
		ro->freeze_frac = 0;
		ro->refresh = 1;
	}
	if (qfwd)
		ro->refresh = 1;

	if (po->freeze >= 0)
		ro->freeze_frac = po->freeze;
	if (po->refresh > 0)
		ro->refresh = po->refresh;
	ro->bn_reintro = po->bn_reintro;
}

static int dump_hist(FILE *f, const char *key, const ir_graph *g)
{
	diag_json_str(f, key);
	fputs(": ", f);
	return qgt_histograms_json(g, 64, f);
}

/* The activation grids trained on, for quantize-act (names into g's
 * arena, which outlives the run). */
static int handoff_acts(pass_handoff *h, ir_graph *g, const pass_act_grid *gr, int n, diag_sink *d)
{
	if (n == 0)
		return 0;
	pass_act_grid *a = malloc(sizeof *a * (size_t)n);
	if (!a) {
		diag_error(d, NULL, "out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		a[i] = gr[i];
		a[i].name = ir_arena_strdup(g->arena, gr[i].name);
		if (!a[i].name) {
			free(a);
			diag_error(d, NULL, "out of memory");
			return -1;
		}
	}
	free(h->acts);
	h->acts = a;
	h->nacts = n;
	return 0;
}

static const char *sched_name(qgt_lambda_sched s)
{
	return s == QGT_LSCHED_CONST ? "const" : s == QGT_LSCHED_LINEAR ? "linear" : "exp";
}

static int run(ir_graph *g, const pass_options *o, diag_sink *d)
{
	static const pass_quant_options q8 = {.bits = 8, .scheme = IR_QS_AFFINE, .percentile = 99.9f};
	const qgt_pass_options *po = o ? o->qgt : NULL;
	if (!po || !po->data_dir) {
		diag_error(d, g->src_file, "pass 'qgt' fine-tunes on labelled data: give --data DIR "
		           "(IDX files or NPY pairs; its training split is used)");
		return -1;
	}
	if (g->ninputs != 1) {
		diag_error(d, g->src_file, "pass 'qgt' needs a model with exactly one input; it has %d",
		           g->ninputs);
		return -1;
	}
	/* a .qir dumped with its weights elided has nothing to train */
	for (int i = 0; i < g->nvalues; i++) {
		const ir_value *v = g->values[i];
		if (v->kind == IR_VAL_CONST && !v->data && ir_shape_numel(&v->shape) > 0 &&
		    ir_value_use_count(g, v) > 0) {
			diag_error(d, g->src_file, "pass 'qgt' needs the weights, but constant '%s' has no data "
			           "(elided in the .qir: write it with --ir-weights full)", v->name);
			return -1;
		}
	}
	const pass_quant_options *qo = o->quant ? o->quant : &q8;
	qgt_train_config c = po->train;
	FILE *log = c.log;
	qgt_reg_options ro;
	reg_options(po, qo, &c, &ro);
	c.distill = po->distill >= 0 ? po->distill : 0;
	if (po->learn_scale > 0 && !ro.learn_scale) {
		diag_error(d, NULL, "learned scales need the forward on the quantized kernels of a uniform "
		           "grid (--method qgt or ste; not qgt-float, smart quantization or codebooks)");
		return -1;
	}

	int rc = -1;
	qgt_dataset train = {0};
	qgt_reg *reg = NULL;
	qgt_finetune_stats st = {0};
	FILE *hf = NULL;
	ir_graph *t = NULL;
	if (qgt_dataset_load(&train, po->data_dir, QGT_SPLIT_TRAIN, &po->norm, d))
		goto out;
	/* The trainer's graph: a copy bound to the training batch (a batch
	 * fixed by the model is the training batch), through the passes the
	 * trainer expects. */
	t = ir_graph_clone(g);
	if (!t) {
		diag_error(d, NULL, "out of memory");
		goto out;
	}
	int64_t b = t->inputs[0]->shape.rank > 0 ? t->inputs[0]->shape.d[0] : 0;
	bool freed = b == 1 && qgt_free_batch(t); /* exported at batch 1 */
	int64_t want = c.batch;
	if (freed)
		b = IR_DIM_SYM;
	if (b == IR_DIM_SYM)
		ir_graph_bind_batch(t, c.batch);
	else
		c.batch = b;
	if (log && freed)
		fprintf(log, "qgt: the model's batch is fixed at 1, and nothing in it depends on that: "
		        "it trains at batch %lld\n", (long long)c.batch);
	else if (log && b == 1)
		fprintf(log, "qgt: the model's batch is fixed at 1, and the model depends on it: it trains "
		        "at batch 1 (export it with a dynamic batch axis to train at batch %lld)\n",
		        (long long)want);
	pass_options tpo = {.print_max_inline = o->print_max_inline, .verify_each = o->verify_each,
	                    .quant = o->quant};
	if (pass_run_pipeline(t, PASS_DEFAULT_PIPELINE, &tpo, d) || ir_verify(t, true, d))
		goto out;
	reg = qgt_reg_create(t, &ro, d);
	if (!reg)
		goto out;
	if (po->dump_hist) {
		hf = fopen(po->dump_hist, "w");
		if (!hf) {
			diag_error(d, NULL, "cannot open '%s' for writing: %s", po->dump_hist, strerror(errno));
			goto out;
		}
		fputs("{", hf);
		dump_hist(hf, "before", t);
		fputs(",\n", hf);
	}
	if (log && ro.method == QGT_METHOD_STE) {
		fprintf(log, "qgt: fine-tuning %s (ste: the forward on fake-quantized kernels, "
		             "straight-through gradients%s%s) on %lld training samples\n",
		        g->src_file ? g->src_file : g->name, ro.ste_clip ? " stopped at the clip" : "",
		        ro.learn_scale ? ", learned scales" : "",
		        (long long)train.n);
		fflush(log);
	} else if (log) {
		fprintf(log, "qgt: fine-tuning %s (%s%s%s, lambda %g%s%s, %s schedule) on %lld training samples\n",
		        g->src_file ? g->src_file : g->name,
		        ro.kind == QGT_REG_SQ ? "smart quantization" : ro.kind == QGT_REG_CODEBOOK ? "codebook" : "qgt",
		        ro.ste_forward ? ", the forward on the quantized kernels" : "",
		        ro.learn_scale ? ", learned scales" : "",
		        (double)ro.lambda, ro.lambda_rules ? ", rules " : "", ro.lambda_rules ? ro.lambda_rules : "",
		        sched_name(ro.sched), (long long)train.n);
		fflush(log);
	}
	if (log && c.distill > 0)
		fprintf(log, "qgt: distilling from the float model (target: %g label + %g its softmax)\n",
		        1 - (double)c.distill, (double)c.distill);
	/* -a: the activation quantizers in the loop, calibrated on the
	 * samples quantize-act will use (eval: the training split), else on
	 * the training split. */
	pass_quant_options aqo = *qo;
	if (aqo.act_bits && !aqo.calib_x) {
		aqo.calib_x = train.x;
		aqo.calib_n = train.n;
		aqo.calib_numel = train.sample_numel;
		aqo.calib_shape = &train.sample;
	}
	qgt_act_options act = {&aqo, po->act_ema};
	int frc = qgt_finetune(t, &train, &c, reg, &act, po->bn_batches, &st, d);
	if (frc == 0 && log) {
		qgt_reg_report(reg, t, log);
		fprintf(log, "qgt: kernels on their grids (final projection moved them by %.3g)\n", st.moved);
		if (st.n_act_grids)
			fprintf(log, "qgt: quantize-act deploys the %d activation grids trained on\n",
			        st.n_act_grids);
	}
	if (hf) {
		int herr = 0;
		if (frc == 0) {
			dump_hist(hf, "after", t);
			fputs("}\n", hf);
		}
		if (fclose(hf) && frc == 0)
			herr = 1;
		hf = NULL;
		if (herr) {
			diag_error(d, NULL, "cannot write '%s'", po->dump_hist);
			goto out;
		}
	}
	if (frc || qgt_graph_copy_consts(g, t, d) < 0)
		goto out;
	if (o->handoff && (qgt_reg_handoff(reg, g, o->handoff, d) ||
	                   handoff_acts(o->handoff, g, st.act_grids, st.n_act_grids, d)))
		goto out;
	if (po->save_onnx) {
		/* The fine-tuned float model, batchnorm unfolded, kernels on
		 * their grids: compiling it with the same -b/--scheme gives
		 * exactly this quantized model (the grids are fixed points). */
		if (fe_onnx_write(g, po->save_onnx, d))
			goto out;
		if (log)
			fprintf(log, "qgt: wrote %s\n", po->save_onnx);
	}
	rc = 0;
out:
	if (hf)
		fclose(hf);
	free(st.act_grids);
	qgt_reg_destroy(reg);
	ir_graph_destroy(t);
	qgt_dataset_free(&train);
	return rc;
}

static const pass_info qgt_pass = {
	"qgt",
	"fine-tune the weights onto the grids quantize deploys, batchnorm live (--data, --epochs, "
	"--lambda; --qgt puts it before bnfold)",
	run,
	true,
};

int qgt_register_passes(void)
{
	if (qgt_register_bitalloc())
		return -1;
	if (pass_find(qgt_pass.name) == &qgt_pass)
		return 0;
	return pass_register(&qgt_pass);
}
