/* interp.c: the reference interpreter.  Plain and obviously correct: every
 * backend and the trainer's forward pass are checked against it. */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

void ir_tensor_free(ir_tensor *t)
{
	if (!t)
		return;
	free(t->data);
	t->data = NULL;
}

int ir_eval_node(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	return ir_op_table[n->op].eval(n, in, out, d);
}

static int alloc_tensor(ir_tensor *t, const ir_value *v)
{
	int64_t n = ir_shape_numel(&v->shape);
	if (n < 0)
		return -1;
	t->dt = v->dt;
	t->shape = v->shape;
	t->data = calloc((size_t)(n ? n : 1), ir_dtype_size(v->dt));
	return t->data ? 0 : -1;
}

int ir_interp_run(ir_graph *g, const ir_tensor *inputs, ir_tensor *outputs, diag_sink *d)
{
	int rc = -1;
	memset(outputs, 0, sizeof *outputs * (size_t)g->noutputs);
	ir_tensor *vals = calloc((size_t)g->nvalues + 1, sizeof *vals);
	char *owned = calloc((size_t)g->nvalues + 1, 1);
	if (!vals || !owned) {
		diag_error(d, g->src_file, "out of memory");
		goto out;
	}
	for (int i = 0; i < g->nvalues; i++) {
		ir_value *v = g->values[i];
		if (v->kind == IR_VAL_CONST) {
			vals[i] = (ir_tensor){v->dt, v->shape, v->data};
		}
	}
	for (int i = 0; i < g->ninputs; i++) {
		ir_value *v = g->inputs[i];
		if (!ir_shape_known(&v->shape)) {
			diag_error(d, g->src_file, "input '%s' has no concrete shape", v->name);
			goto out;
		}
		if (inputs[i].dt != v->dt || !ir_shape_eq(&inputs[i].shape, &v->shape)) {
			char a[96], b[96];
			diag_error(d, g->src_file, "input '%s': got %s%s, graph expects %s%s", v->name,
			           ir_dtype_name(inputs[i].dt), ir_shape_str(&inputs[i].shape, a, sizeof a),
			           ir_dtype_name(v->dt), ir_shape_str(&v->shape, b, sizeof b));
			goto out;
		}
		vals[v->id] = inputs[i];
	}
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		const ir_tensor *in[n->nin + 1];
		ir_tensor *outp[n->nout + 1];
		for (int j = 0; j < n->nin; j++) {
			ir_value *v = n->in[j];
			in[j] = v ? &vals[v->id] : NULL;
			if (v && !vals[v->id].data && ir_shape_numel(&v->shape) != 0) {
				if (v->kind == IR_VAL_CONST)
					diag_error(d, ir_node_loc(g, n),
					           "constant '%s' has no data: it was elided from the .qir "
					           "(write the model with --ir-weights=full)", v->name);
				else
					diag_error(d, ir_node_loc(g, n), "input %d '%s' has no value", j, v->name);
				goto out;
			}
		}
		for (int j = 0; j < n->nout; j++) {
			ir_value *v = n->out[j];
			outp[j] = NULL;
			if (!v)
				continue;
			if (alloc_tensor(&vals[v->id], v)) {
				char b[96];
				diag_error(d, ir_node_loc(g, n), "output '%s' has shape %s; cannot allocate%s",
				           v->name, ir_shape_str(&v->shape, b, sizeof b),
				           ir_shape_numel(&v->shape) >= 0 ? " (out of memory)" : "");
				goto out;
			}
			owned[v->id] = 1;
			outp[j] = &vals[v->id];
		}
		if (ir_eval_node(n, in, outp, d))
			goto out;
	}
	for (int i = 0; i < g->noutputs; i++) {
		ir_value *v = g->outputs[i];
		ir_tensor *t = &vals[v->id];
		int64_t n = ir_shape_numel(&v->shape);
		size_t bytes = (size_t)(n > 0 ? n : 1) * ir_dtype_size(v->dt);
		outputs[i].dt = v->dt;
		outputs[i].shape = v->shape;
		outputs[i].data = malloc(bytes);
		if (!outputs[i].data) {
			diag_error(d, g->src_file, "out of memory");
			goto out;
		}
		if (t->data)
			memcpy(outputs[i].data, t->data, (size_t)(n > 0 ? n : 0) * ir_dtype_size(v->dt));
	}
	rc = 0;
out:
	if (vals)
		for (int i = 0; i < g->nvalues; i++)
			if (owned && owned[i])
				free(vals[i].data);
	if (rc && outputs)
		for (int i = 0; i < g->noutputs; i++)
			if (outputs[i].data) {
				free(outputs[i].data);
				outputs[i].data = NULL;
			}
	free(vals);
	free(owned);
	return rc;
}
