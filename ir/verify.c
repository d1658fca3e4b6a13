/* verify.c: structural checks of a graph, run after the frontend and
 * (with --verify-each) after every pass: references belong to the graph,
 * every value is defined once and before use (which also rules out
 * cycles), arity and attributes match the op table, constants carry data
 * of their declared size, quantization annotations fit their values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

int ir_quant_check(const ir_value *v, const ir_quant *q, char *why, size_t n)
{
	const ir_shape *s = &v->shape;
	if (q->scheme <= IR_QS_NONE || q->scheme > IR_QS_CODEBOOK) {
		snprintf(why, n, "unknown quantization scheme %d", (int)q->scheme);
		return -1;
	}
	if (q->axis < 0) {
		if (q->axis != -1 || q->nchan != 1) {
			snprintf(why, n, "%d parameter sets per tensor (axis %d), expected 1", q->nchan,
			         q->axis);
			return -1;
		}
	} else if (s->rank >= 0) {
		char b[96];
		if (q->axis >= s->rank) {
			snprintf(why, n, "axis %d is not an axis of %s", q->axis, ir_shape_str(s, b, sizeof b));
			return -1;
		}
		if (s->d[q->axis] < 0) {
			snprintf(why, n, "axis %d is a symbolic dimension", q->axis);
			return -1;
		}
		if (s->d[q->axis] != q->nchan) {
			snprintf(why, n, "%d parameter sets, but axis %d has extent %lld", q->nchan, q->axis,
			         (long long)s->d[q->axis]);
			return -1;
		}
	} else if (q->axis >= IR_MAX_RANK || q->nchan < 1) {
		snprintf(why, n, "axis %d with %d parameter sets", q->axis, q->nchan);
		return -1;
	}
	if (!q->codes && ir_dtype_is_qint(v->dt)) {
		/* an integer activation: its own elements are the codes */
		int w = (int)ir_dtype_size(v->dt) * 8;
		if (q->scheme != IR_QS_AFFINE) {
			snprintf(why, n, "an integer value's quantization must be affine, not %s",
			         ir_qscheme_name(q->scheme));
			return -1;
		}
		/* int4/int2 (and unsigned) are held one per byte in i8/u8 */
		if (q->bits != w && !(w == 8 && (q->bits == 4 || q->bits == 2))) {
			snprintf(why, n, "bits=%d on a %s value, expected %d%s", q->bits,
			         ir_dtype_name(v->dt), w, w == 8 ? " (or 4, 2)" : "");
			return -1;
		}
		int64_t lo, hi;
		ir_dtype_range_bits(v->dt, q->bits, &lo, &hi);
		for (int c = 0; q->zero_point && c < q->nchan; c++)
			if (q->zero_point[c] < lo || q->zero_point[c] > hi) {
				snprintf(why, n, "zero point %d does not fit in %s", (int)q->zero_point[c],
				         ir_dtype_name(v->dt));
				return -1;
			}
		return 0;
	}
	/* weight codes: one byte each, levels [nchan << bits] */
	if (q->bits < 1 || q->bits > 8) {
		snprintf(why, n, "bits=%d: weight codes take 1..8 bits", q->bits);
		return -1;
	}
	if (q->codes) {
		int64_t ne = ir_shape_numel(s);
		if (ne < 0) {
			snprintf(why, n, "codes on a value without a concrete shape");
			return -1;
		}
		for (int64_t i = 0; i < ne; i++)
			if (q->codes[i] >> q->bits) {
				snprintf(why, n, "code %u (element %lld) does not fit in %d bits",
				         q->codes[i], (long long)i, q->bits);
				return -1;
			}
	}
	return 0;
}

static bool owned(const ir_graph *g, const ir_value *v)
{
	return v->id >= 0 && v->id < g->nvalues && g->values[v->id] == v;
}

int ir_verify(ir_graph *g, bool need_shapes, diag_sink *d)
{
	int before = d->nerr;
	const char *file = g->src_file;
	/* 0 undefined, 1 defined (input/const/produced so far) */
	char *defd = calloc((size_t)g->nvalues + 1, 1);
	char *prod = calloc((size_t)g->nvalues + 1, 1);
	if (!defd || !prod) {
		free(defd);
		free(prod);
		diag_error(d, file, "out of memory");
		return -1;
	}
	for (int i = 0; i < g->nvalues; i++) {
		ir_value *v = g->values[i];
		if (v->id != i) {
			diag_error(d, file, "value '%s' has id %d at index %d", v->name, v->id, i);
			continue;
		}
		char why[160];
		if (v->quant && ir_quant_check(v, v->quant, why, sizeof why))
			diag_error(d, v->producer ? ir_node_loc(g, v->producer) : file,
			           "quantization of '%s': %s", v->name, why);
		if (v->kind == IR_VAL_CONST) {
			defd[i] = 1;
			/* data may be NULL: an elided constant read back from .qir */
			if (ir_shape_numel(&v->shape) < 0)
				diag_error(d, file, "constant '%s' has no concrete shape", v->name);
		}
	}
	for (int i = 0; i < g->ninputs; i++) {
		ir_value *v = g->inputs[i];
		if (!owned(g, v) || v->kind != IR_VAL_INPUT)
			diag_error(d, file, "graph input %d '%s' is not an input value of this graph", i,
			           v->name);
		else
			defd[v->id] = 1;
	}
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		if ((unsigned)n->op >= IR_OP__COUNT) {
			diag_error(d, ir_node_loc(g, n), "invalid op %d", (int)n->op);
			continue;
		}
		const ir_op_info *op = &ir_op_table[n->op];
		if (n->nin < op->min_in || (op->max_in >= 0 && n->nin > op->max_in))
			diag_error(d, ir_node_loc(g, n), "%s takes %d..%d inputs, has %d", op->name,
			           op->min_in, op->max_in, n->nin);
		if (n->nout < op->min_out || (op->max_out >= 0 && n->nout > op->max_out))
			diag_error(d, ir_node_loc(g, n), "%s has %d..%d outputs, has %d", op->name,
			           op->min_out, op->max_out, n->nout);
		for (int j = 0; j < n->nin; j++) {
			ir_value *v = n->in[j];
			if (!v) {
				if (j < op->min_in && !(n->op == IR_OP_CONCAT))
					diag_error(d, ir_node_loc(g, n), "required input %d is missing", j);
				continue;
			}
			if (!owned(g, v))
				diag_error(d, ir_node_loc(g, n), "input %d '%s' is not a value of this graph",
				           j, v->name);
			else if (!defd[v->id])
				diag_error(d, ir_node_loc(g, n),
				           "input %d '%s' is used before it is defined (dangling value or cycle)",
				           j, v->name);
		}
		for (int j = 0; j < n->nout; j++) {
			ir_value *v = n->out[j];
			if (!v)
				continue;
			if (!owned(g, v)) {
				diag_error(d, ir_node_loc(g, n), "output %d '%s' is not a value of this graph",
				           j, v->name);
				continue;
			}
			if (v->kind != IR_VAL_ACT || prod[v->id] || v->producer != n)
				diag_error(d, ir_node_loc(g, n), "output '%s' is defined more than once",
				           v->name);
			prod[v->id] = 1;
			defd[v->id] = 1;
			if (need_shapes && (v->shape.rank < 0 || v->dt == IR_DT_UNDEF))
				diag_error(d, ir_node_loc(g, n), "shape of output '%s' could not be inferred",
				           v->name);
		}
		for (int k = 0; k < n->nattr; k++) {
			const ir_attr *a = &n->attrs[k];
			int kind = ir_op_attr_kind(n->op, a->name);
			if (kind < 0)
				diag_error(d, ir_node_loc(g, n), "unknown attribute '%s' for %s", a->name,
				           op->name);
			else if (kind != (int)a->kind)
				diag_error(d, ir_node_loc(g, n), "attribute '%s' has the wrong kind",
				           a->name);
		}
	}
	for (int i = 0; i < g->noutputs; i++) {
		ir_value *v = g->outputs[i];
		if (!owned(g, v) || !defd[v->id])
			diag_error(d, file, "graph output '%s' is never defined", v->name);
	}
	if (g->noutputs == 0)
		diag_error(d, file, "graph has no outputs");
	free(defd);
	free(prod);
	return d->nerr > before ? -1 : 0;
}
