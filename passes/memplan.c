/* memplan.c: static memory planning over the scheduled graph.
 *
 * requires: toposorted nodes, concrete shapes; preserves the graph (the
 * plan is a side table keyed by value id); invalidates nothing.
 *
 * Liveness is measured in node positions of g->nodes.  Views (reshape and
 * friends) share their operand's storage, elementwise ops write over an
 * operand that dies at them (both by ir/ops.def's mem column), and the remaining arena buffers are packed
 * greedily by decreasing size, each into the smallest gap that holds it
 * among the buffers whose lifetimes overlap its own (best fit). */
#include <stdlib.h>
#include <string.h>

#include "memplan.h"

/* Inputs of n that its output may overwrite (ops.def's mem column): the
 * lowering reads element i of such an operand before it writes element i
 * of the output, and never again after.  Returns how many slots were
 * written to `slots`. */
static int inplace_slots(const ir_node *n, int *slots)
{
	switch (ir_op_table[n->op].mem) {
	case IR_MEM_INPLACE0:
		slots[0] = 0;
		return 1;
	case IR_MEM_INPLACE01:
		slots[0] = 0;
		slots[1] = 1;
		return 2;
	default:
		return 0;
	}
}

static int64_t align_up(int64_t x)
{
	return (x + PASS_MEMPLAN_ALIGN - 1) / PASS_MEMPLAN_ALIGN * PASS_MEMPLAN_ALIGN;
}

/* A depthwise conv over integer activations (group = C = M) writes its
 * output into its operand's buffer, starting one output plane (rounded up
 * to the alignment) below the operand's bytes: TinyEngine's in-place
 * depthwise, whose one-channel buffer is that plane.  It is safe because
 * every integer depthwise kernel (backends/llvm: dsp_depthwise,
 * simd_depthwise, l_int_conv) runs channel by channel in order and writes
 * channel c's outputs after the channels before it were read: those bytes
 * end where channel c's input begins.  Returns that shift, or 0 when n
 * is no such conv or its output plane is larger than its input plane. */
static int64_t dw_shift(const ir_node *n, const ir_value *y)
{
	const ir_value *x = n->nin > 1 ? n->in[0] : NULL;
	if (n->op != IR_OP_CONV || !x || !ir_dtype_is_qint(x->dt) || !ir_dtype_is_qint(y->dt) ||
	    x->shape.rank < 3 || y->shape.rank != x->shape.rank)
		return 0;
	int64_t N = x->shape.d[0], C = x->shape.d[1];
	if (N < 1 || C < 1 || ir_attr_int(n, "group", 1) != C || y->shape.d[1] != C || y->shape.d[0] != N)
		return 0;
	int64_t pin = ir_shape_numel(&x->shape) / (N * C) * (int64_t)ir_dtype_size(x->dt);
	int64_t pout = ir_shape_numel(&y->shape) / (N * C) * (int64_t)ir_dtype_size(y->dt);
	return pout > 0 && pout <= pin ? align_up(pout) : 0;
}

static int root_of(const pass_mem_plan *p, int id)
{
	while (p->v[id].alias >= 0)
		id = p->v[id].alias;
	return id;
}

typedef struct mp_buf {
	int id;          /* root value id */
	int64_t bytes;   /* aligned size */
	int def, last;   /* lifetime, inclusive */
	int64_t breadth; /* the most bytes live at one step of its lifetime */
	int64_t offset;
	bool placed;
} mp_buf;

static int buf_cmp_size(const void *a, const void *b)
{
	const mp_buf *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->def != y->def)
		return x->def < y->def ? -1 : 1;
	return x->id - y->id;
}

/* Earliest first: each buffer goes low while the ones it follows are
 * already placed, which suits chains (MobileNet's dw/pw pairs). */
static int buf_cmp_def(const void *a, const void *b)
{
	const mp_buf *x = a, *y = b;
	if (x->def != y->def)
		return x->def < y->def ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return x->id - y->id;
}

/* The buffers of the busiest steps first (TFLite's greedy by breadth). */
static int buf_cmp_breadth(const void *a, const void *b)
{
	const mp_buf *x = a, *y = b;
	if (x->breadth != y->breadth)
		return x->breadth > y->breadth ? -1 : 1;
	return buf_cmp_size(a, b);
}

static int buf_cmp_offset(const void *a, const void *b)
{
	const mp_buf *const *x = a, *const *y = b;
	if ((*x)->offset != (*y)->offset)
		return (*x)->offset < (*y)->offset ? -1 : 1;
	return (*x)->id - (*y)->id;
}

/* Best-fit placement of bufs in their order; the arena's size. */
static int64_t place(mp_buf *bufs, int nb, mp_buf **tmp)
{
	int64_t size = 0;
	for (int i = 0; i < nb; i++)
		bufs[i].placed = false;
	for (int i = 0; i < nb; i++) {
		mp_buf *b = &bufs[i];
		int nt = 0;
		for (int j = 0; j < nb; j++)
			if (bufs[j].placed && bufs[j].def <= b->last && b->def <= bufs[j].last)
				tmp[nt++] = &bufs[j];
		qsort(tmp, (size_t)nt, sizeof *tmp, buf_cmp_offset);
		int64_t cur = 0, best = -1, best_gap = 0;
		for (int j = 0; j < nt; j++) {
			int64_t gap = tmp[j]->offset - cur;
			if (gap >= b->bytes && (best < 0 || gap < best_gap)) {
				best = cur;
				best_gap = gap;
			}
			if (tmp[j]->offset + tmp[j]->bytes > cur)
				cur = tmp[j]->offset + tmp[j]->bytes;
		}
		b->offset = best >= 0 ? best : cur;
		b->placed = true;
		if (b->offset + b->bytes > size)
			size = b->offset + b->bytes;
	}
	return size;
}

/* The plan with in-place depthwise convs where dw_ok[node index] says. */
static pass_mem_plan *plan(ir_graph *g, const bool *dw_ok, diag_sink *d)
{
	pass_mem_plan *p = calloc(1, sizeof *p);
	int nv = g->nvalues;
	int *pos = calloc((size_t)g->nnodes + 1, sizeof *pos);
	int *lastuse = calloc((size_t)nv + 1, sizeof *lastuse);
	int *class_last = calloc((size_t)nv + 1, sizeof *class_last);
	int64_t *span = calloc((size_t)nv + 1, sizeof *span); /* a root's buffer bytes */
	mp_buf *bufs = calloc((size_t)nv + 1, sizeof *bufs);
	mp_buf **tmp = calloc((size_t)nv + 1, sizeof *tmp);
	if (!p || !pos || !lastuse || !class_last || !span || !bufs || !tmp) {
		diag_error(d, g->src_file, "out of memory");
		goto fail;
	}
	p->nvalues = nv;
	p->v = calloc((size_t)nv + 1, sizeof *p->v);
	if (!p->v) {
		diag_error(d, g->src_file, "out of memory");
		goto fail;
	}
	for (int i = 0; i < nv; i++) {
		ir_value *v = g->values[i];
		pass_mp_value *m = &p->v[i];
		m->alias = -1;
		m->def = m->last = -1;
		m->index = -1;
		lastuse[i] = -1;
		int64_t n = ir_shape_numel(&v->shape);
		m->bytes = n > 0 ? n * (int64_t)ir_dtype_size(v->dt) : 0;
		if (v->kind == IR_VAL_CONST)
			m->kind = MP_CONST;
	}
	int np = 0;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		pos[i] = np;
		for (int j = 0; j < n->nin; j++)
			if (n->in[j])
				lastuse[n->in[j]->id] = np;
		np++;
	}
	for (int k = g->ninputs - 1; k >= 0; k--) {
		p->v[g->inputs[k]->id].kind = MP_INPUT;
		p->v[g->inputs[k]->id].index = k;
	}
	for (int k = g->noutputs - 1; k >= 0; k--) {
		ir_value *v = g->outputs[k];
		if (v->kind == IR_VAL_ACT && v->producer) {
			p->v[v->id].kind = MP_OUTPUT;
			p->v[v->id].index = k;
		}
	}

	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		int at = pos[i];
		for (int j = 0; j < n->nout; j++) {
			ir_value *o = n->out[j];
			if (!o)
				continue;
			pass_mp_value *m = &p->v[o->id];
			if (m->kind == MP_OUTPUT || m->kind == MP_INPUT || m->kind == MP_CONST)
				continue;
			if (!ir_shape_known(&o->shape)) {
				char b[96];
				diag_error(d, ir_node_loc(g, n), "output '%s' has shape %s; memory planning needs concrete shapes",
				           o->name, ir_shape_str(&o->shape, b, sizeof b));
				goto fail;
			}
			if (lastuse[o->id] < 0) {
				m->kind = MP_NONE; /* never read: the backend does not store it */
				continue;
			}
			int src = -1;
			int64_t src_sub = 0; /* where in src's buffer the operand's bytes are */
			bool inplace = false;
			if (j == 0 && ir_op_table[n->op].mem == IR_MEM_VIEW && n->nin > 0 && n->in[0] &&
			    p->v[n->in[0]->id].kind != MP_NONE) {
				src = root_of(p, n->in[0]->id);
				src_sub = p->v[n->in[0]->id].sub;
			} else if (j == 0) {
				int slots[2], ns = inplace_slots(n, slots);
				for (int s = 0; s < ns && src < 0; s++) {
					ir_value *x = slots[s] < n->nin ? n->in[slots[s]] : NULL;
					if (!x || x->dt != o->dt || ir_shape_numel(&x->shape) != ir_shape_numel(&o->shape))
						continue;
					int r = root_of(p, x->id);
					if (p->v[r].kind == MP_ARENA && class_last[r] <= at) {
						src = r;
						src_sub = p->v[x->id].sub;
						inplace = true;
					}
				}
			}
			int64_t shift = j == 0 && src < 0 && dw_ok[i] ? dw_shift(n, o) : 0;
			if (shift > 0) {
				int r = root_of(p, n->in[0]->id);
				if (p->v[r].kind == MP_ARENA && class_last[r] <= at) {
					int64_t sub = p->v[n->in[0]->id].sub - shift;
					if (sub < 0) { /* room below: the whole class moves up */
						for (int k = 0; k < nv; k++)
							if (p->v[k].kind == MP_ARENA && root_of(p, k) == r)
								p->v[k].sub -= sub;
						span[r] -= sub;
						sub = 0;
					}
					m->kind = MP_ARENA;
					m->alias = r;
					m->in_place = true;
					m->sub = sub;
					if (sub + m->bytes > span[r])
						span[r] = sub + m->bytes;
					if (lastuse[o->id] > class_last[r])
						class_last[r] = lastuse[o->id];
					continue;
				}
			}
			if (src >= 0) {
				m->kind = p->v[src].kind;
				m->index = p->v[src].index;
				m->alias = src;
				m->in_place = inplace;
				m->sub = src_sub;
				if (lastuse[o->id] > class_last[src])
					class_last[src] = lastuse[o->id];
			} else {
				m->kind = MP_ARENA;
				m->def = at;
				span[o->id] = m->bytes;
				class_last[o->id] = lastuse[o->id] > at ? lastuse[o->id] : at;
			}
		}
	}

	int nb = 0;
	for (int i = 0; i < nv; i++) {
		pass_mp_value *m = &p->v[i];
		if (m->kind != MP_ARENA || m->alias >= 0)
			continue;
		m->last = class_last[i];
		m->span = span[i];
		bufs[nb++] = (mp_buf){i, align_up(span[i] > 0 ? span[i] : 1), m->def, m->last, 0, 0, false};
	}
	for (int i = 0; i < nb; i++)
		for (int t = bufs[i].def; t <= bufs[i].last; t++) {
			int64_t live = 0;
			for (int j = 0; j < nb; j++)
				if (bufs[j].def <= t && t <= bufs[j].last)
					live += bufs[j].bytes;
			if (live > bufs[i].breadth)
				bufs[i].breadth = live;
		}
	/* Offsets are NP-hard to choose well; greedy best-fit in three orders
	 * (by size, as TFLite Micro; by definition; by breadth) and keep the
	 * smallest arena, the first order on a tie. */
	int (*const orders[])(const void *, const void *) = {buf_cmp_size, buf_cmp_def, buf_cmp_breadth};
	int64_t best = -1;
	int best_order = 0;
	for (int k = 0; k < (int)(sizeof orders / sizeof *orders); k++) {
		qsort(bufs, (size_t)nb, sizeof *bufs, orders[k]);
		int64_t size = place(bufs, nb, tmp);
		if (best < 0 || size < best) {
			best = size;
			best_order = k;
		}
	}
	qsort(bufs, (size_t)nb, sizeof *bufs, orders[best_order]);
	place(bufs, nb, tmp);
	for (int i = 0; i < nb; i++) {
		p->v[bufs[i].id].offset = bufs[i].offset; /* the buffer's base, for now */
		if (bufs[i].offset + bufs[i].bytes > p->arena_size)
			p->arena_size = bufs[i].offset + bufs[i].bytes;
	}
	for (int i = 0; i < nv; i++) {
		pass_mp_value *m = &p->v[i];
		if (m->kind == MP_ARENA && m->alias >= 0) {
			int r = root_of(p, i);
			m->offset = p->v[r].offset + m->sub;
			m->def = p->v[r].def;
			m->last = p->v[r].last;
		}
	}
	for (int i = 0; i < nv; i++)
		if (p->v[i].kind == MP_ARENA && p->v[i].alias < 0)
			p->v[i].offset += p->v[i].sub;
	for (int t = 0; t < np; t++) {
		int64_t live = 0;
		for (int i = 0; i < nb; i++)
			if (bufs[i].def <= t && t <= bufs[i].last)
				live += bufs[i].bytes;
		if (live > p->lower_bound)
			p->lower_bound = live;
	}
	free(pos);
	free(lastuse);
	free(class_last);
	free(span);
	free(bufs);
	free(tmp);
	return p;
fail:
	free(pos);
	free(lastuse);
	free(class_last);
	free(span);
	free(bufs);
	free(tmp);
	pass_memplan_destroy(p);
	return NULL;
}

/* In place, a depthwise conv's buffer is the operand's and one plane more
 * for its whole life: that helps where the conv is the peak (MobileNetV2's
 * expanded depthwise layers) and costs a plane where it is not (behind
 * MobileNetV1's pointwise peaks).  So convs go in place from the plan
 * without any, a round at a time: those at the steps where the most bytes
 * are live, kept while the arena shrinks. */
pass_mem_plan *pass_memplan_compute(ir_graph *g, diag_sink *d)
{
	bool *ok = calloc((size_t)g->nnodes + 1, sizeof *ok), *cand = calloc((size_t)g->nnodes + 1, sizeof *cand);
	if (!ok || !cand) {
		free(ok);
		free(cand);
		diag_error(d, g->src_file, "out of memory");
		return NULL;
	}
	pass_mem_plan *best = plan(g, ok, d);
	for (int round = 0; best && round < 8; round++) {
		int np = 0, added = 0;
		int64_t peak = best->lower_bound; /* the most bytes live at one step */
		for (int i = 0; i < g->nnodes; i++) {
			ir_node *n = g->nodes[i];
			if (n->dead)
				continue;
			cand[i] = ok[i];
			if (!ok[i] && n->nout > 0 && n->out[0] && dw_shift(n, n->out[0]) > 0 &&
			    pass_memplan_live_at(best, np) == peak) {
				cand[i] = true;
				added++;
			}
			np++;
		}
		if (!added)
			break;
		pass_mem_plan *p = plan(g, cand, d);
		if (!p || p->arena_size >= best->arena_size) {
			pass_memplan_destroy(p);
			break;
		}
		pass_memplan_destroy(best);
		best = p;
		memcpy(ok, cand, sizeof *ok * (size_t)g->nnodes);
	}
	free(ok);
	free(cand);
	return best;
}

void pass_memplan_destroy(pass_mem_plan *p)
{
	if (!p)
		return;
	free(p->v);
	free(p);
}

void pass_memplan_report(FILE *f, const ir_graph *g, const pass_mem_plan *p)
{
	fprintf(f, "memory plan for '%s'\n", g->name ? g->name : "");
	fprintf(f, "  %10s %10s  %-11s %s\n", "offset", "bytes", "live", "value");
	for (int i = 0; i < p->nvalues; i++) {
		const pass_mp_value *m = &p->v[i];
		if (m->kind != MP_ARENA)
			continue;
		char live[32];
		snprintf(live, sizeof live, "[%d,%d]", m->def, m->last);
		fprintf(f, "  %10lld %10lld  %-11s %s", (long long)m->offset, (long long)m->bytes, live,
		        g->values[i]->name);
		if (m->alias >= 0)
			fprintf(f, " (%s '%s')", m->in_place ? "in place of" : "view of",
			        g->values[m->alias]->name);
		fputc('\n', f);
	}
	for (int i = 0; i < p->nvalues; i++) {
		const pass_mp_value *m = &p->v[i];
		if ((m->kind == MP_INPUT || m->kind == MP_OUTPUT) && m->alias < 0 &&
		    g->values[i]->kind != IR_VAL_CONST)
			fprintf(f, "  %10s %10lld  %-11s %s\n", m->kind == MP_INPUT ? "input" : "output",
			        (long long)m->bytes, "caller", g->values[i]->name);
	}
	double eff = p->arena_size ? 100.0 * (double)p->lower_bound / (double)p->arena_size : 100.0;
	fprintf(f, "arena: %lld bytes (lower bound %lld bytes, %.1f%%)\n", (long long)p->arena_size,
	        (long long)p->lower_bound, eff);
}

int64_t pass_memplan_live_at(const pass_mem_plan *p, int pos)
{
	int64_t live = 0;
	for (int i = 0; i < p->nvalues; i++) {
		const pass_mp_value *m = &p->v[i];
		if (m->kind == MP_ARENA && m->alias < 0 && m->def <= pos && pos <= m->last)
			live += align_up(m->span > 0 ? m->span : 1);
	}
	return live;
}

void pass_memplan_layers(FILE *f, const ir_graph *g, const pass_mem_plan *p)
{
	fprintf(f, "  %5s %-16s %-18s %10s  %s\n", "step", "op", "output", "live bytes", "node (or its output)");
	int np = 0;
	for (int i = 0; i < g->nnodes; i++) {
		const ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		int64_t live = pass_memplan_live_at(p, np);
		char sh[64] = "-";
		if (n->nout > 0 && n->out[0])
			ir_shape_str(&n->out[0]->shape, sh, sizeof sh);
		fprintf(f, "  %5d %-16s %-18s %10lld  %s%s\n", np, ir_op_name(n->op), sh, (long long)live,
		        *n->name || n->nout < 1 || !n->out[0] ? n->name : n->out[0]->name,
		        live == p->lower_bound ? "  <- peak" : "");
		np++;
	}
}

int pass_memplan(ir_graph *g, const pass_options *o, diag_sink *d)
{
	(void)o;
	if (ir_graph_toposort(g, d))
		return -1;
	pass_mem_plan *p = pass_memplan_compute(g, d);
	if (!p)
		return -1;
	pass_memplan_destroy(p);
	return 0;
}
