/* calib.c: run the reference interpreter over calibration samples and hand
 * the values a pass wants to observe to a callback, batch by batch.
 * Used by quantize-act (activation ranges) and by quantize (bias
 * correction, a node at a time). */
#include <stdlib.h>
#include <string.h>

#include "calib.h"

#define CALIB_DEFAULT 256
#define CALIB_BATCH 64

int pass_calib_fits(const ir_graph *g, const pass_quant_options *qo, diag_sink *d)
{
	const ir_value *in = g->inputs[0];
	ir_shape item = ir_shape_make(in->shape.rank > 0 ? in->shape.rank - 1 : 0, in->shape.d + 1);
	int64_t per = ir_shape_numel(&item);
	const char *where = qo->calib_src ? qo->calib_src : g->src_file;
	char b[96], c[96];
	if (per != qo->calib_numel) {
		diag_error(d, where, "calibration samples have %lld elements each; the model's input '%s' "
		           "is %s%s (%lld a sample)", (long long)qo->calib_numel, in->name,
		           ir_dtype_name(in->dt), ir_shape_str(&in->shape, b, sizeof b), (long long)per);
		return -1;
	}
	const ir_shape *cs = qo->calib_shape;
	if (cs && !ir_shape_feeds(cs, &in->shape)) {
		/* [H, W, C] data for an [N, C, H, W] input: images as numpy holds them */
		bool hwc = cs->rank == 3 && in->shape.rank == 4 && cs->d[2] == in->shape.d[1] &&
		           cs->d[0] == in->shape.d[2] && cs->d[1] == in->shape.d[3];
		diag_error(d, where, "calibration samples are %s; the model's input '%s' is %s%s: "
		           "the same count in another layout%s", ir_shape_str(cs, c, sizeof c), in->name,
		           ir_dtype_name(in->dt), ir_shape_str(&in->shape, b, sizeof b),
		           hwc ? " (channels last: transpose the file to [N, C, H, W])" : "");
		return -1;
	}
	return 0;
}

/* The run's setup, shared by both forms: the checks, the sample count
 * and the batch (a symbolic one bound for the run; *saved then holds the
 * shapes to restore, else NULL).  0 or -1 after reporting. */
static int calib_setup(ir_graph *g, const pass_quant_options *qo, int64_t *ns, int64_t *B,
                       ir_shape **saved, diag_sink *d)
{
	*saved = NULL;
	if (!qo || !qo->calib_x || qo->calib_n < 1) {
		diag_error(d, g->src_file, "no calibration samples");
		return -1;
	}
	if (g->ninputs != 1 || g->inputs[0]->dt != IR_DT_F32 || g->inputs[0]->shape.rank < 1) {
		diag_error(d, g->src_file, "calibration needs a model with one f32 input");
		return -1;
	}
	if (pass_calib_fits(g, qo, d))
		return -1;
	ir_value *in = g->inputs[0];
	int64_t cap = qo->calib_max > 0 ? qo->calib_max : CALIB_DEFAULT;
	*ns = qo->calib_n < cap ? qo->calib_n : cap;
	*B = in->shape.d[0];
	if (*B != IR_DIM_SYM)
		return 0;
	*B = *ns < CALIB_BATCH ? *ns : CALIB_BATCH;
	*saved = malloc(((size_t)g->nvalues + 1) * sizeof **saved);
	if (!*saved) {
		diag_error(d, NULL, "out of memory");
		return -1;
	}
	for (int i = 0; i < g->nvalues; i++)
		(*saved)[i] = g->values[i]->shape;
	ir_graph_bind_batch(g, *B);
	return ir_graph_toposort(g, d) || ir_infer_shapes(g, d) ? -1 : 0;
}

/* Undo calib_setup's binding; nsaved: the value count it saw. */
static void calib_restore(ir_graph *g, ir_shape *saved, int nsaved)
{
	if (saved) {
		for (int i = 0; i < nsaved && i < g->nvalues; i++)
			g->values[i]->shape = saved[i];
		free(saved);
	}
}

/* Batch b's input: the samples themselves, or (the last, partial batch)
 * a zero-padded copy in *pad. */
static int calib_batch(const pass_quant_options *qo, int64_t b, int64_t B, int64_t ns,
                       int64_t *valid, const float **src, float **pad, diag_sink *d)
{
	*valid = ns - b * B < B ? ns - b * B : B;
	*src = qo->calib_x + b * B * qo->calib_numel;
	*pad = NULL;
	if (*valid == B)
		return 0;
	*pad = calloc((size_t)(B * qo->calib_numel), sizeof **pad);
	if (!*pad) {
		diag_error(d, NULL, "out of memory");
		return -1;
	}
	memcpy(*pad, *src, (size_t)(*valid * qo->calib_numel) * sizeof **pad);
	*src = *pad;
	return 0;
}

int pass_calib_run(ir_graph *g, const pass_quant_options *qo, ir_value **vals, int nv,
                   pass_calib_fn cb, void *ctx, diag_sink *d)
{
	int64_t ns, B;
	ir_shape *saved;
	int nsaved = g->nvalues, rc = -1;
	if (calib_setup(g, qo, &ns, &B, &saved, d))
		goto restore;
	ir_value *in = g->inputs[0];
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
		int64_t valid;
		const float *src;
		if (calib_batch(qo, b, B, ns, &valid, &src, &pad, d))
			goto done;
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
	calib_restore(g, saved, nsaved);
	return rc;
}

int pass_calib_walk(ir_graph *g, const pass_quant_options *qo, ir_node **at, int nat,
                    pass_calib_fn cb, pass_calib_done_fn done, void *ctx, diag_sink *d)
{
	int64_t ns, B;
	ir_shape *saved;
	int nsaved = g->nvalues, rc = -1;
	if (calib_setup(g, qo, &ns, &B, &saved, d))
		goto restore;
	int64_t nb = (ns + B - 1) / B;
	ir_interp **run = calloc((size_t)nb, sizeof *run);
	float **pad = calloc((size_t)nb, sizeof *pad);
	int64_t *valid = calloc((size_t)nb, sizeof *valid);
	ir_value **want = calloc((size_t)nat + 1, sizeof *want);
	if (!run || !pad || !valid || !want) {
		diag_error(d, NULL, "out of memory");
		goto done;
	}
	for (int k = 0; k < nat; k++)
		want[k] = at[k]->out[0];
	for (int64_t b = 0; b < nb; b++) {
		const float *src;
		if (calib_batch(qo, b, B, ns, &valid[b], &src, &pad[b], d))
			goto done;
		ir_tensor x = {IR_DT_F32, g->inputs[0]->shape, (void *)src};
		if (!(run[b] = ir_interp_begin(g, &x, want, nat, false, d)))
			goto done;
	}
	for (int i = 0, seen = 0; i < g->nnodes && seen < nat; i++) {
		for (int64_t b = 0; b < nb; b++)
			if (ir_interp_step(run[b], i, d))
				goto done;
		int k = 0;
		while (k < nat && at[k] != g->nodes[i])
			k++;
		if (k == nat)
			continue;
		for (int64_t b = 0; b < nb; b++)
			if (cb(ctx, k, ir_interp_get(run[b], want[k]), valid[b], B))
				goto done;
		if (done(ctx, k))
			goto done;
		for (int64_t b = 0; b < nb; b++)
			if (ir_interp_step(run[b], i, d))
				goto done;
		seen++;
	}
	rc = 0;
done:
	for (int64_t b = 0; run && b < nb; b++)
		ir_interp_end(run[b]);
	for (int64_t b = 0; pad && b < nb; b++)
		free(pad[b]);
	free(run);
	free(pad);
	free(valid);
	free(want);
restore:
	calib_restore(g, saved, nsaved);
	return rc;
}
