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

/* A run in progress: each value's tensor, whether the run owns its data,
 * and last[v]: the index of the last node that reads v among those that
 * run, or -1 while nothing needs v.  A node runs if it is live and one of
 * its outputs is needed.  A value's data is freed once the run has moved
 * past its last reader, so a node's inputs are still there right after
 * it ran (ir_interp_step may run it again). */
struct ir_interp {
	ir_graph *g;
	ir_tensor *vals;
	char *owned;
	int *last;
	int at;          /* values read only by nodes before this are freed */
};

static bool needed(const ir_interp *s, const ir_node *n)
{
	bool need = false;
	for (int j = 0; !n->dead && j < n->nout; j++)
		need |= n->out[j] && s->last[n->out[j]->id] >= 0;
	return need;
}

ir_interp *ir_interp_begin(ir_graph *g, const ir_tensor *inputs, ir_value *const *want, int nwant,
                           bool hold, diag_sink *d)
{
	ir_interp *s = calloc(1, sizeof *s);
	if (s) {
		s->g = g;
		s->vals = calloc((size_t)g->nvalues + 1, sizeof *s->vals);
		s->owned = calloc((size_t)g->nvalues + 1, 1);
		s->last = malloc(((size_t)g->nvalues + 1) * sizeof *s->last);
	}
	if (!s || !s->vals || !s->owned || !s->last) {
		diag_error(d, g->src_file, "out of memory");
		ir_interp_end(s);
		return NULL;
	}
	for (int i = 0; i < g->nvalues; i++)
		s->last[i] = -1;
	for (int k = 0; k < nwant; k++) {
		/* held to the end, or at least until the node that makes it */
		int at = hold ? g->nnodes : 0;
		for (int i = 0; !hold && i < g->nnodes; i++)
			for (int j = 0; j < g->nodes[i]->nout; j++)
				if (g->nodes[i]->out[j] == want[k])
					at = i;
		if (s->last[want[k]->id] < at)
			s->last[want[k]->id] = at;
	}
	for (int i = g->nnodes - 1; i >= 0; i--) {
		ir_node *n = g->nodes[i];
		for (int j = 0; needed(s, n) && j < n->nin; j++)
			if (n->in[j] && s->last[n->in[j]->id] < i)
				s->last[n->in[j]->id] = i;
	}
	for (int i = 0; i < g->nvalues; i++) {
		ir_value *v = g->values[i];
		if (v->kind == IR_VAL_CONST)
			s->vals[i] = (ir_tensor){v->dt, v->shape, v->data};
	}
	for (int i = 0; i < g->ninputs; i++) {
		ir_value *v = g->inputs[i];
		if (!ir_shape_known(&v->shape)) {
			diag_error(d, g->src_file, "input '%s' has no concrete shape", v->name);
			goto fail;
		}
		if (inputs[i].dt != v->dt || !ir_shape_eq(&inputs[i].shape, &v->shape)) {
			char a[96], b[96];
			diag_error(d, g->src_file, "input '%s': got %s%s, graph expects %s%s", v->name,
			           ir_dtype_name(inputs[i].dt), ir_shape_str(&inputs[i].shape, a, sizeof a),
			           ir_dtype_name(v->dt), ir_shape_str(&v->shape, b, sizeof b));
			goto fail;
		}
		s->vals[v->id] = inputs[i];
	}
	return s;
fail:
	ir_interp_end(s);
	return NULL;
}

int ir_interp_step(ir_interp *s, int i, diag_sink *d)
{
	ir_graph *g = s->g;
	ir_node *n = g->nodes[i];
	if (!needed(s, n))
		return 0;
	for (; s->at < i; s->at++) {
		ir_node *p = g->nodes[s->at];
		for (int j = 0; j < p->nin; j++) {
			ir_value *v = p->in[j];
			if (v && s->last[v->id] == s->at && s->owned[v->id]) {
				ir_tensor_free(&s->vals[v->id]);
				s->owned[v->id] = 0;
			}
		}
	}
	const ir_tensor *in[n->nin + 1];
	ir_tensor *outp[n->nout + 1];
	for (int j = 0; j < n->nin; j++) {
		ir_value *v = n->in[j];
		in[j] = v ? &s->vals[v->id] : NULL;
		if (v && !s->vals[v->id].data && ir_shape_numel(&v->shape) != 0) {
			if (v->kind == IR_VAL_CONST)
				diag_error(d, ir_node_loc(g, n),
				           "constant '%s' has no data: it was elided from the .qir "
				           "(write the model with --ir-weights=full)", v->name);
			else
				diag_error(d, ir_node_loc(g, n), "input %d '%s' has no value", j, v->name);
			return -1;
		}
	}
	for (int j = 0; j < n->nout; j++) {
		ir_value *v = n->out[j];
		outp[j] = NULL;
		if (!v)
			continue;
		if (s->owned[v->id]) /* run again: from fresh zeroed data */
			ir_tensor_free(&s->vals[v->id]);
		s->owned[v->id] = 0;
		if (alloc_tensor(&s->vals[v->id], v)) {
			char b[96];
			diag_error(d, ir_node_loc(g, n), "output '%s' has shape %s; cannot allocate%s",
			           v->name, ir_shape_str(&v->shape, b, sizeof b),
			           ir_shape_numel(&v->shape) >= 0 ? " (out of memory)" : "");
			return -1;
		}
		s->owned[v->id] = 1;
		outp[j] = &s->vals[v->id];
	}
	return ir_eval_node(n, in, outp, d);
}

int ir_fold_node(ir_graph *g, ir_node *n, diag_sink *d)
{
	const ir_tensor *in[n->nin + 1];
	ir_tensor ins[n->nin + 1], outs[n->nout + 1];
	ir_tensor *outp[n->nout + 1];
	for (int j = 0; j < n->nin; j++) {
		ir_value *v = n->in[j];
		if (v)
			ins[j] = (ir_tensor){v->dt, v->shape, v->data};
		in[j] = v ? &ins[j] : NULL;
	}
	/* Shape reads only the shape; give it a data-less tensor. */
	for (int j = 0; j < n->nout; j++) {
		ir_value *v = n->out[j];
		outp[j] = NULL;
		if (!v)
			continue;
		int64_t cnt = ir_shape_numel(&v->shape);
		size_t bytes = (size_t)(cnt ? cnt : 1) * ir_dtype_size(v->dt);
		outs[j] = (ir_tensor){v->dt, v->shape, ir_arena_alloc(g->arena, bytes)};
		if (!outs[j].data) {
			diag_error(d, ir_node_loc(g, n), "out of memory folding constants");
			return -1;
		}
		outp[j] = &outs[j];
	}
	if (ir_eval_node(n, in, outp, d))
		return -1;
	for (int j = 0; j < n->nout; j++) {
		ir_value *v = n->out[j];
		if (!v)
			continue;
		v->data = outs[j].data;
		v->kind = IR_VAL_CONST;
		v->producer = NULL;
	}
	n->dead = true;
	return 0;
}

const ir_tensor *ir_interp_get(const ir_interp *s, const ir_value *v)
{
	return &s->vals[v->id];
}

void ir_interp_end(ir_interp *s)
{
	if (!s)
		return;
	for (int i = 0; s->vals && s->owned && i < s->g->nvalues; i++)
		if (s->owned[i])
			free(s->vals[i].data);
	free(s->vals);
	free(s->owned);
	free(s->last);
	free(s);
}

int ir_interp_run(ir_graph *g, const ir_tensor *inputs, ir_tensor *outputs, diag_sink *d)
{
	memset(outputs, 0, sizeof *outputs * (size_t)g->noutputs);
	ir_interp *s = ir_interp_begin(g, inputs, g->outputs, g->noutputs, true, d);
	if (!s)
		return -1;
	for (int i = 0; i < g->nnodes; i++)
		if (ir_interp_step(s, i, d))
			goto fail;
	for (int i = 0; i < g->noutputs; i++) {
		ir_value *v = g->outputs[i];
		const ir_tensor *t = &s->vals[v->id];
		int64_t n = ir_shape_numel(&v->shape);
		size_t bytes = (size_t)(n > 0 ? n : 1) * ir_dtype_size(v->dt);
		outputs[i].dt = v->dt;
		outputs[i].shape = v->shape;
		outputs[i].data = malloc(bytes);
		if (!outputs[i].data) {
			diag_error(d, g->src_file, "out of memory");
			goto fail;
		}
		if (t->data)
			memcpy(outputs[i].data, t->data, (size_t)(n > 0 ? n : 0) * ir_dtype_size(v->dt));
	}
	ir_interp_end(s);
	return 0;
fail:
	ir_interp_end(s);
	for (int i = 0; i < g->noutputs; i++)
		ir_tensor_free(&outputs[i]);
	return -1;
}
