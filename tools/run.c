/* run.c: `qgtc run MODEL INPUT...`: bind what the inputs make static, run
 * the pipeline, execute with the reference interpreter, write .npy files.
 * The outputs appear all or none. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "driver.h"
#include "frontend.h"

/* The tensors given on the command line, one per original graph input. */
typedef struct run_inputs {
	int n;
	ir_value **val;   /* graph input k as loaded */
	ir_tensor *t;     /* its tensor */
} run_inputs;

static bool has_ext(const char *path, const char *ext)
{
	size_t n = strlen(path), k = strlen(ext);
	return n > k && strcasecmp(path + n - k, ext) == 0;
}

static void type_str(ir_dtype dt, const ir_shape *s, char *buf, size_t n)
{
	char sh[128];
	if (s->rank < 0)
		snprintf(sh, sizeof sh, "[unknown]");
	else
		ir_shape_str(s, sh, sizeof sh);
	snprintf(buf, n, "%s%s", ir_dtype_name(dt), sh);
}

static void list_expected(const ir_graph *g, const char *model, diag_sink *d)
{
	for (int i = 0; i < g->ninputs; i++) {
		char b[160];
		type_str(g->inputs[i]->dt, &g->inputs[i]->shape, b, sizeof b);
		diag_note(d, model, "input %d '%s': %s", i, g->inputs[i]->name, b);
	}
}

static int load_tensor(const char *path, ir_tensor *t, diag_sink *d)
{
	if (drv_check_readable(path, d))
		return -1;
	int before = d->nerr, rc;
	if (has_ext(path, ".npy"))
		rc = fe_npy_load(path, t, d);
	else if (has_ext(path, ".pb"))
		rc = fe_onnx_load_tensor(path, t, d);
	else {
		diag_error(d, path, "unknown input kind (expected a .npy or a .pb file)");
		return -1;
	}
	if (rc && d->nerr == before)
		diag_error(d, path, "cannot read tensor");
	return rc ? -1 : 0;
}

/* Does tensor t fit graph input v (a symbolic dim takes any extent)? */
/* Does t fit model input v?  With --io int a float input takes the
 * integers of its quantized form (checked against it after the pipeline). */
static bool fits(const ir_value *v, const ir_tensor *t, bool io_int)
{
	if (v->dt != t->dt && !(io_int && v->dt == IR_DT_F32 && ir_dtype_is_qint(t->dt)))
		return false;
	if (v->shape.rank < 0)
		return true;
	if (v->shape.rank != t->shape.rank)
		return false;
	for (int i = 0; i < t->shape.rank; i++)
		if (v->shape.d[i] != IR_DIM_SYM && v->shape.d[i] != t->shape.d[i])
			return false;
	return true;
}

static int find_input(const run_inputs *ri, const ir_value *v)
{
	for (int k = 0; k < ri->n; k++)
		if (ri->val[k] == v)
			return k;
	return -1;
}

static bool is_graph_input(const ir_graph *g, const ir_value *v)
{
	for (int i = 0; i < g->ninputs; i++)
		if (g->inputs[i] == v)
			return true;
	return false;
}

static int bind(ir_graph *g, const run_inputs *ri, int k, diag_sink *d)
{
	ir_value *v = ri->val[k];
	if (v->shape.rank < 0)
		v->shape = ri->t[k].shape; /* the model left its rank open */
	return ir_graph_bind_input(g, v, &ri->t[k], d);
}

/* Step (d): while some computed shape is unknown, bind the graph inputs
 * that feed the operands (other than operand 0, but for range) of the nodes whose
 * outputs are unknown (Resize scales, Pad constant_value, ...) and rerun
 * the pipeline.  Returns 1 if something was bound, 0 if not, -1 on error. */
static int bind_shape_operands(ir_graph *g, const run_inputs *ri, diag_sink *d)
{
	int bound = 0;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		bool unknown = false;
		for (int j = 0; j < n->nout; j++)
			if (n->out[j] && n->out[j]->shape.rank < 0)
				unknown = true;
		if (!unknown)
			continue;
		/* range's length is its start too */
		for (int j = n->op == IR_OP_RANGE ? 0 : 1; j < n->nin; j++) {
			ir_value *v = n->in[j];
			if (!v || v->kind != IR_VAL_INPUT || !is_graph_input(g, v))
				continue;
			int k = find_input(ri, v);
			if (k < 0)
				continue;
			if (bind(g, ri, k, d))
				return -1;
			bound = 1;
		}
	}
	return bound;
}

static bool shapes_unknown(const ir_graph *g)
{
	for (int i = 0; i < g->nnodes; i++) {
		const ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		for (int j = 0; j < n->nout; j++)
			if (n->out[j] && n->out[j]->shape.rank < 0)
				return true;
	}
	return false;
}

/* Make sure dir exists (creating the last component if needed). */
static int prepare_dir(const char *dir, bool *created, diag_sink *d)
{
	struct stat st;
	*created = false;
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			diag_error(d, NULL, "output directory '%s' is not a directory", dir);
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT || mkdir(dir, 0777) != 0) {
		diag_error(d, NULL, "cannot create output directory '%s': %s", dir, strerror(errno));
		return -1;
	}
	*created = true;
	return 0;
}

/* Write out[k] to DIR/output_k.npy for every k, or nothing at all. */
static int write_outputs(const drv_options *o, const ir_graph *g, const ir_tensor *out,
                         diag_sink *d)
{
	bool created;
	if (prepare_dir(o->output_dir, &created, d))
		return -1;
	int n = g->noutputs;
	char **paths = calloc((size_t)n + 1, sizeof *paths);
	if (!paths) {
		diag_error(d, NULL, "out of memory");
		return -1;
	}
	const char *dir = o->output_dir;
	size_t dl = strlen(dir);
	const char *sep = dl && dir[dl - 1] == '/' ? "" : "/";
	int written = 0, rc = 0;
	for (int k = 0; k < n; k++) {
		size_t len = dl + 32;
		paths[k] = malloc(len);
		if (!paths[k]) {
			diag_error(d, NULL, "out of memory");
			rc = -1;
			break;
		}
		snprintf(paths[k], len, "%s%soutput_%d.npy", dir, sep, k);
		if (fe_npy_save(paths[k], &out[k], d)) {
			rc = -1;
			break;
		}
		written = k + 1;
	}
	if (rc) {
		for (int k = 0; k < written; k++)
			unlink(paths[k]);
		if (created)
			rmdir(dir);
	} else if (o->verbose) {
		for (int k = 0; k < n; k++) {
			char b[160];
			type_str(out[k].dt, &out[k].shape, b, sizeof b);
			printf("%s: output %d '%s' %s\n", paths[k], k, g->outputs[k]->name, b);
		}
	}
	for (int k = 0; k < n; k++)
		free(paths[k]);
	free(paths);
	return rc;
}

int drv_run(const drv_options *o, diag_sink *d)
{
	ir_graph *g = drv_load_model(o->model, d);
	if (!g)
		return DRV_ERROR;
	int rc = DRV_ERROR;
	run_inputs ri = {0};
	ir_tensor *outs = NULL, *feed = NULL;
	if (o->ninputs != g->ninputs) {
		diag_error(d, o->model, "model takes %d input%s, %d given", g->ninputs,
		           g->ninputs == 1 ? "" : "s", o->ninputs);
		list_expected(g, o->model, d);
		goto out;
	}
	ri.n = g->ninputs;
	ri.val = calloc((size_t)ri.n + 1, sizeof *ri.val);
	ri.t = calloc((size_t)ri.n + 1, sizeof *ri.t);
	outs = calloc((size_t)g->noutputs + 1, sizeof *outs);
	feed = calloc((size_t)ri.n + 1, sizeof *feed);
	if (!ri.val || !ri.t || !outs || !feed) {
		diag_error(d, NULL, "out of memory");
		goto out;
	}
	bool bad = false;
	for (int k = 0; k < ri.n; k++) {
		ri.val[k] = g->inputs[k];
		if (load_tensor(o->inputs[k], &ri.t[k], d)) {
			bad = true;
			continue;
		}
		if (!fits(ri.val[k], &ri.t[k], o->quant.io_int)) {
			char got[160], want[160];
			type_str(ri.t[k].dt, &ri.t[k].shape, got, sizeof got);
			type_str(ri.val[k]->dt, &ri.val[k]->shape, want, sizeof want);
			diag_error(d, o->inputs[k], "input %d '%s' of the model is %s; this file holds %s",
			           k, ri.val[k]->name, want, got);
			bad = true;
		}
	}
	if (bad)
		goto out;

	/* (a) non-f32 inputs are shape-like operands: make them constants.
	 * The native engine binds them only where (d) finds no other way to
	 * the shapes, so that integer data (token ids, masks) reaches its
	 * compiled code instead of folding away before it. */
	bool lazy_ints = o->engine == DRV_ENGINE_NATIVE;
	for (int k = 0; k < ri.n && !lazy_ints; k++)
		if (ri.val[k]->dt != IR_DT_F32 && bind(g, &ri, k, d))
			goto out;
	/* (b) a symbolic batch dimension takes its size from the inputs. */
	int64_t batch = 0;
	int batch_from = -1;
	for (int k = 0; k < ri.n; k++) {
		ir_value *v = ri.val[k];
		if (!is_graph_input(g, v))
			continue;
		if (v->shape.rank < 0)
			v->shape = ri.t[k].shape;
		if (v->shape.rank < 1 || v->shape.d[0] != IR_DIM_SYM)
			continue;
		if (batch_from >= 0 && ri.t[k].shape.d[0] != batch) {
			diag_error(d, NULL, "inputs disagree on the batch size: %lld in '%s', %lld in '%s'",
			           (long long)batch, o->inputs[batch_from], (long long)ri.t[k].shape.d[0],
			           o->inputs[k]);
			goto out;
		}
		batch = ri.t[k].shape.d[0];
		batch_from = k;
	}
	if (batch_from >= 0)
		ir_graph_bind_batch(g, batch);
	/* (c) the pipeline; (d) bind what it could not see through, again. */
	pass_options po;
	drv_pass_options(o, &po);
	for (;;) {
		if (pass_run_pipeline(g, o->pipeline, &po, d))
			goto out;
		drv_diag_flush(d);
		if (!shapes_unknown(g))
			break;
		int b = bind_shape_operands(g, &ri, d);
		for (int k = 0; b == 0 && lazy_ints && k < ri.n; k++)
			if (ri.val[k]->dt != IR_DT_F32 && ri.val[k]->kind == IR_VAL_INPUT) {
				if (bind(g, &ri, k, d))
					goto out;
				b = 1; /* (a) after all, for shapes seen through integer data */
			}
		if (b < 0)
			goto out;
		if (b == 0)
			break;
	}
	/* (e) every shape must be known now. */
	if (ir_verify(g, true, d))
		goto out;
	if (drv_quant_report(o, g, stdout, d))
		goto out;
	/* (f) execute. */
	int next_io = 0; /* --io int: inputs the io-int pass replaced, in order */
	for (int i = 0; i < g->ninputs; i++) {
		int k = find_input(&ri, g->inputs[i]);
		while (k < 0 && o->quant.io_int && next_io < ri.n) {
			int j = next_io++;
			if (ri.val[j]->dt == IR_DT_F32 && !is_graph_input(g, ri.val[j]) &&
			    ri.val[j]->kind == IR_VAL_INPUT)
				k = j;
		}
		if (k < 0) {
			diag_error(d, NULL, "internal error: graph input '%s' is not one the model declared",
			           g->inputs[i]->name);
			goto out;
		}
		if (ri.t[k].dt != g->inputs[i]->dt) {
			diag_error(d, o->inputs[k], "input %d '%s' is %s%s; this file holds %s", k,
			           ri.val[k]->name, ir_dtype_name(g->inputs[i]->dt),
			           o->quant.io_int ? " with --io int" : "", ir_dtype_name(ri.t[k].dt));
			goto out;
		}
		feed[i] = ri.t[k];
	}
	if (o->engine == DRV_ENGINE_NATIVE ? be_jit_run(g, o->code_policy, feed, outs, d)
	                                   : ir_interp_run(g, feed, outs, d))
		goto out;
	/* (g) write the outputs, all or none. */
	if (write_outputs(o, g, outs, d))
		goto out;
	rc = DRV_OK;
out:
	if (outs)
		for (int k = 0; k < g->noutputs; k++)
			ir_tensor_free(&outs[k]);
	for (int k = 0; k < ri.n; k++)
		ir_tensor_free(&ri.t[k]);
	free(outs);
	free(feed);
	free(ri.val);
	free(ri.t);
	ir_graph_destroy(g);
	return rc;
}
