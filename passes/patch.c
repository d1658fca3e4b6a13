/* patch.c: patch-based execution of the first layers under a RAM budget
 * (MCUNetV2's idea): the high-resolution stage at the start of a network
 * runs tile by tile along the rows, each tile recomputing the halo its
 * receptive field needs, so that the stage's large tensors never exist
 * whole.
 *
 * requires: toposorted nodes, concrete shapes; changes the graph: a stage
 * (a chain of single-consumer convs, pools and elementwise ops starting at
 * a graph input, NCHW) becomes, per tile, slice -> the stage's ops with the
 * pads of that tile -> one concat along H, whose output is the stage's
 * old output value.  Every tile op computes exactly the rows of the
 * original op it stands for (padding only at the image's own borders), so
 * the result is bit-identical, on the interpreter and every backend.
 *
 * The choice: among all stages (start, end) of such chains and tile counts
 * T, the one whose plan fits the budget with the fewest extra MACs.  Extra
 * MACs and a lower bound on the arena come from arithmetic on rows; the
 * candidates that pass the bound are rewritten on a copy of the graph and
 * planned (pass_memplan_compute), cheapest first, until one fits. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "memplan.h"
#include "pass.h"

enum { MAX_TILES = 32, MAX_EXACT = 48 };

/* One op of a chain, with what the row arithmetic needs. */
typedef struct chain_op {
	ir_node *n;
	bool spatial;        /* conv or pool: rows map through k, s, d, pads */
	int64_t k, s, dl;    /* along H */
	int64_t pt, pb;      /* pads along H */
	int64_t hin, hout;   /* rows of its operand and of its output */
	int64_t in_row, out_row; /* bytes of one row (all of N, C, W) */
	int64_t macs_row;    /* MACs per output row (conv), else 0 */
	bool in_place;       /* memplan may run it over its operand */
	int64_t dw_row;      /* an integer depthwise conv, which memplan may run in
	                      * place: bytes of one row of one output channel */
} chain_op;

typedef struct chain {
	chain_op *op;
	int n;
} chain;

/* A tile's rows at each op of a stage. */
typedef struct tile_rows {
	int64_t lo, hi;      /* rows of the op's operand it reads */
	int64_t pt, pb;      /* its pads along H */
	int64_t olo, ohi;    /* rows of the op's output it computes */
} tile_rows;

static int64_t row_bytes(const ir_value *v)
{
	int64_t n = ir_shape_numel(&v->shape);
	return v->shape.d[2] > 0 ? n / v->shape.d[2] * (int64_t)ir_dtype_size(v->dt) : 0;
}

/* Is the constant c the same for every row (no H extent of its own once
 * broadcast against a rank-4 operand)? */
static bool row_invariant(const ir_value *c)
{
	if (!c)
		return true;
	if (c->kind != IR_VAL_CONST || !ir_shape_known(&c->shape))
		return false;
	int r = c->shape.rank;
	return r < 2 || c->shape.d[r - 2] == 1;
}

/* Can n, reading x in slot 0, join a chain?  Fills *c. */
static bool chain_op_of(ir_node *n, const ir_value *x, chain_op *c)
{
	if (n->nin < 1 || n->in[0] != x || n->nout < 1 || !n->out[0])
		return false;
	for (int j = 1; j < n->nout; j++)
		if (n->out[j])
			return false;
	const ir_value *y = n->out[0];
	if (x->shape.rank != 4 || y->shape.rank != 4 || !ir_shape_known(&x->shape) ||
	    !ir_shape_known(&y->shape))
		return false;
	for (int j = 1; j < n->nin; j++)
		if (n->in[j] == x)
			return false;
	*c = (chain_op){.n = n, .k = 1, .s = 1, .dl = 1, .hin = x->shape.d[2], .hout = y->shape.d[2],
	                .in_row = row_bytes(x), .out_row = row_bytes(y)};
	const char *ap = ir_attr_str(n, "auto_pad", "NOTSET");
	switch (n->op) {
	case IR_OP_CONV: {
		const ir_value *w = n->in[1];
		if (!w || w->kind != IR_VAL_CONST || w->shape.rank != 4 || strcmp(ap, "NOTSET") != 0)
			return false;
		if (n->nin > 2 && n->in[2] && n->in[2]->kind != IR_VAL_CONST)
			return false;
		c->k = w->shape.d[2];
		int64_t group = ir_attr_int(n, "group", 1);
		c->macs_row = y->shape.d[0] * y->shape.d[1] * y->shape.d[3] * (x->shape.d[1] / (group ? group : 1)) *
		              w->shape.d[2] * w->shape.d[3];
		if (group == x->shape.d[1] && group == y->shape.d[1] && ir_dtype_is_qint(x->dt) && ir_dtype_is_qint(y->dt))
			c->dw_row = y->shape.d[3] * (int64_t)ir_dtype_size(y->dt);
		break;
	}
	case IR_OP_MAX_POOL:
	case IR_OP_AVG_POOL: {
		int nk;
		const int64_t *k = ir_attr_ints(n, "kernel", &nk);
		if (!k || nk != 2 || ir_attr_int(n, "ceil_mode", 0) != 0 || strcmp(ap, "NOTSET") != 0 ||
		    ir_attr_int(n, "storage_order", 0) != 0)
			return false;
		c->k = k[0];
		break;
	}
	case IR_OP_RELU:
	case IR_OP_LEAKY_RELU:
	case IR_OP_CLIP:
	case IR_OP_SIGMOID:
	case IR_OP_TANH:
	case IR_OP_HARD_SIGMOID:
	case IR_OP_HARD_SWISH:
	case IR_OP_ELU:
	case IR_OP_SOFTPLUS:
	case IR_OP_ERF:
	case IR_OP_PRELU:
	case IR_OP_BATCHNORM:
	case IR_OP_QUANTIZE:
	case IR_OP_DEQUANTIZE:
		if (!ir_shape_eq(&x->shape, &y->shape))
			return false;
		for (int j = 1; j < n->nin; j++)
			if (!row_invariant(n->in[j]))
				return false;
		if ((n->op == IR_OP_QUANTIZE || n->op == IR_OP_DEQUANTIZE) && ir_attr_int(n, "axis", 1) % 4 == 2)
			return false;
		c->in_place = ir_op_table[n->op].mem != IR_MEM_OWN && x->dt == y->dt;
		return true;
	default:
		return false;
	}
	int ns, npd, nd;
	const int64_t *st = ir_attr_ints(n, "strides", &ns);
	const int64_t *pd = ir_attr_ints(n, "pads", &npd);
	const int64_t *dl = ir_attr_ints(n, "dilations", &nd);
	if ((st && ns != 2) || (pd && npd != 4) || (dl && nd != 2))
		return false;
	c->s = st ? st[0] : 1;
	c->dl = dl ? dl[0] : 1;
	c->pt = pd ? pd[0] : 0;
	c->pb = pd ? pd[2] : 0;
	c->spatial = true;
	return c->k >= 1 && c->s >= 1 && c->dl >= 1 && c->pt >= 0 && c->pb >= 0;
}

/* The chain of ops from graph input x: each op the sole reader of the
 * value before it.  Empty when x starts none. */
static int chain_from(const ir_graph *g, const ir_value *x, chain *ch)
{
	ch->n = 0;
	ch->op = NULL;
	int cap = 0;
	for (;;) {
		ir_node *n = ir_value_sole_user(g, x);
		chain_op c;
		if (!n || !chain_op_of(n, x, &c))
			return 0;
		if (ch->n == cap) {
			cap = cap ? cap * 2 : 16;
			chain_op *o = realloc(ch->op, sizeof *o * (size_t)cap);
			if (!o)
				return -1;
			ch->op = o;
		}
		ch->op[ch->n++] = c;
		x = n->out[0];
	}
}

/* The rows of tile [a, b) of op e's output, back through ops e..s into
 * r[s..e].  False when a tile would read no row of its operand. */
static bool tile_back(const chain *ch, int s, int e, int64_t a, int64_t b, tile_rows *r)
{
	for (int i = e; i >= s; i--) {
		const chain_op *c = &ch->op[i];
		tile_rows *t = &r[i];
		t->olo = a;
		t->ohi = b;
		if (!c->spatial) {
			*t = (tile_rows){a, b, 0, 0, a, b};
			continue;
		}
		int64_t lo = a * c->s - c->pt;
		int64_t hi = (b - 1) * c->s - c->pt + (c->k - 1) * c->dl + 1;
		t->lo = lo > 0 ? lo : 0;
		t->hi = hi < c->hin ? hi : c->hin;
		t->pt = t->lo - lo;
		t->pb = hi - t->hi;
		if (t->hi <= t->lo || t->pt > c->pt || t->pb > c->pb)
			return false;
		a = t->lo;
		b = t->hi;
	}
	return true;
}

typedef struct cand {
	int chain;           /* which input's chain */
	int s, e, T;
	int64_t extra_macs;
	int64_t bound;       /* a lower bound on the arena */
} cand;

static int cand_cmp(const void *x, const void *y)
{
	const cand *a = x, *b = y;
	if (a->extra_macs != b->extra_macs)
		return a->extra_macs < b->extra_macs ? -1 : 1;
	if (a->T != b->T)
		return a->T - b->T;
	if (a->e - a->s != b->e - b->s)
		return (a->e - a->s) - (b->e - b->s);
	if (a->s != b->s)
		return a->s - b->s;
	return a->chain - b->chain;
}

static int64_t tile_start(int64_t h, int T, int t)
{
	return h * t / T;
}

/* Extra MACs and an arena lower bound of tiling ops c->s..c->e in c->T
 * tiles.  c->bound comes in as the most bytes live at any node outside the
 * stage in the plan without tiling; x0_arena and out_arena are the bytes
 * of the stage's operand and output when the arena holds them (0 for the
 * caller's buffers).  False when a tile is impossible. */
static bool cand_eval(const chain *ch, cand *c, int64_t x0_arena, int64_t out_arena, tile_rows *r)
{
	int s = c->s, e = c->e;
	int64_t H = ch->op[e].hout, acc = 0, bound = c->bound, macs = 0;
	for (int t = 0; t < c->T; t++) {
		int64_t a = tile_start(H, c->T, t), b = tile_start(H, c->T, t + 1);
		if (!tile_back(ch, s, e, a, b, r))
			return false;
		for (int i = s; i <= e; i++) {
			const chain_op *o = &ch->op[i];
			int64_t in = (r[i].hi - r[i].lo) * o->in_row, out = (r[i].ohi - r[i].olo) * o->out_row;
			int64_t own = o->in_place ? (in > out ? in : out)
			              : o->dw_row ? in + (r[i].ohi - r[i].olo) * o->dw_row /* memplan's least */
			                          : in + out;
			int64_t live = own + acc + (t < c->T - 1 ? x0_arena : 0);
			if (live > bound)
				bound = live;
			macs += o->macs_row * (r[i].ohi - r[i].olo);
		}
		acc += (b - a) * ch->op[e].out_row;
	}
	if (acc + out_arena > bound)
		bound = acc + out_arena;
	int64_t orig = 0;
	for (int i = s; i <= e; i++)
		orig += ch->op[i].macs_row * ch->op[i].hout;
	c->extra_macs = macs - orig;
	c->bound = bound;
	return true;
}

/* A tile's copy of node `from`: its attributes and where it came from. */
static void copy_attrs(ir_graph *g, ir_node *to, const ir_node *from)
{
	ir_node_copy_attrs(g, to, from);
	to->src_op = from->src_op;
	to->src_index = from->src_index;
	to->qhint = from->qhint;
}

static ir_value *i64_const(ir_graph *g, const char *base, int64_t v)
{
	ir_shape sh = ir_shape_make(1, (int64_t[]){1});
	const char *name = ir_graph_unique_name(g, base);
	return name ? ir_graph_add_const(g, name, IR_DT_I64, &sh, &v) : NULL;
}

/* A new value like v, named after it. */
static ir_value *value_like(ir_graph *g, const ir_value *v, const char *suffix)
{
	char buf[512];
	snprintf(buf, sizeof buf, "%s.%s", v->name, suffix);
	const char *name = ir_graph_unique_name(g, buf);
	ir_shape unknown = {.rank = -1};
	ir_value *n = name ? ir_graph_add_value(g, name, v->dt, &unknown) : NULL;
	if (n)
		n->quant = v->quant;
	return n;
}

/* A tile node's name: the source node's with ".WHAT" added, or none
 * when the source node has none. */
static void tile_name(char *buf, size_t n, const char *src, const char *what, const char *tag)
{
	if (src && *src)
		snprintf(buf, n, "%s.%s%s", src, what, tag);
	else
		buf[0] = 0;
}

/* Rewrite ops s..e of ch (nodes of g) into T tiles and a concat. */
static int apply(ir_graph *g, const chain *ch, int s, int e, int T, tile_rows *r, diag_sink *d)
{
	ir_value *x0 = ch->op[s].n->in[0], *y = ch->op[e].n->out[0];
	int64_t H = ch->op[e].hout;
	ir_value *outs[MAX_TILES];
	for (int t = 0; t < T; t++) {
		int64_t a = tile_start(H, T, t), b = tile_start(H, T, t + 1);
		if (!tile_back(ch, s, e, a, b, r))
			goto internal;
		char tag[16];
		snprintf(tag, sizeof tag, "p%d", t);
		ir_value *sl = value_like(g, x0, tag);
		ir_value *sin[4] = {x0, i64_const(g, "patch.start", r[s].lo), i64_const(g, "patch.end", r[s].hi),
		                    i64_const(g, "patch.axis", 2)};
		if (!sl || !sin[1] || !sin[2] || !sin[3])
			goto oom;
		char nm[512];
		tile_name(nm, sizeof nm, ch->op[s].n->name, "slice.", tag);
		ir_node *sn = ir_graph_add_node(g, IR_OP_SLICE, nm, 4, sin, 1, &sl);
		if (!sn)
			goto oom;
		if (ir_infer_node(g, sn, d))
			return -1;
		ir_value *prev = sl;
		for (int i = s; i <= e; i++) {
			const ir_node *o = ch->op[i].n;
			ir_value *in[8], *out = value_like(g, o->out[0], tag);
			if (o->nin > 8)
				goto internal;
			if (!out)
				goto oom;
			for (int j = 0; j < o->nin; j++)
				in[j] = o->in[j];
			in[0] = prev;
			tile_name(nm, sizeof nm, o->name, "", tag);
			ir_node *m = ir_graph_add_node(g, o->op, nm, o->nin, in, 1, &out);
			if (!m)
				goto oom;
			copy_attrs(g, m, o);
			if (ch->op[i].spatial) {
				int np;
				const int64_t *pd = ir_attr_ints(o, "pads", &np);
				int64_t pads[4] = {r[i].pt, pd ? pd[1] : 0, r[i].pb, pd ? pd[3] : 0};
				ir_node_set_ints(g, m, "pads", pads, 4);
			}
			if (ir_graph_oom(g))
				goto oom;
			if (ir_infer_node(g, m, d))
				return -1;
			if (out->shape.rank != 4 || out->shape.d[2] != r[i].ohi - r[i].olo)
				goto internal;
			out->quant = o->out[0]->quant;
			prev = out;
		}
		outs[t] = prev;
	}
	for (int i = s; i <= e; i++)
		ch->op[i].n->dead = true;
	char nm[512];
	tile_name(nm, sizeof nm, ch->op[e].n->name, "", "concat");
	ir_quant *q = y->quant;
	ir_node *cat = ir_graph_add_node(g, IR_OP_CONCAT, nm, T, outs, 1, &y);
	if (!cat)
		goto oom;
	ir_node_set_int(g, cat, "axis", 2);
	if (ir_graph_oom(g))
		goto oom;
	if (ir_infer_node(g, cat, d))
		return -1;
	y->quant = q;
	ir_graph_compact(g);
	return ir_graph_toposort(g, d);
internal:
	diag_error(d, ir_node_loc(g, ch->op[e].n), "internal error: patch tiling of rows does not add up");
	return -1;
oom:
	diag_error(d, g->src_file, "out of memory");
	return -1;
}

/* The arena after tiling ops s..e of the chain from input x in T tiles,
 * planned on a copy of g; -1 when that fails (reported to a throwaway
 * sink). */
static int64_t try_plan(const ir_graph *g, const ir_value *x, int s, int e, int T)
{
	ir_graph *c = ir_graph_clone(g);
	if (!c)
		return -1;
	diag_sink quiet;
	diag_sink_init_capture(&quiet);
	int64_t size = -1;
	chain ch = {0};
	tile_rows *r = NULL;
	if (chain_from(c, c->values[x->id], &ch) == 0 && ch.n > e &&
	    (r = calloc((size_t)ch.n, sizeof *r)) && apply(c, &ch, s, e, T, r, &quiet) == 0 &&
	    ir_infer_shapes(c, &quiet) == 0) {
		pass_mem_plan *p = pass_memplan_compute(c, &quiet);
		if (p)
			size = p->arena_size;
		pass_memplan_destroy(p);
	}
	free(r);
	free(ch.op);
	diag_sink_fini(&quiet);
	ir_graph_destroy(c);
	return size;
}

/* The most of live[0..npos) outside positions [from, to]. */
static int64_t live_outside(const int64_t *live, int npos, int from, int to)
{
	int64_t best = 0;
	for (int t = 0; t < npos; t++)
		if ((t < from || t > to) && live[t] > best)
			best = live[t];
	return best;
}

static int node_pos(const ir_graph *g, const ir_node *n)
{
	int pos = 0;
	for (int i = 0; i < g->nnodes; i++) {
		if (g->nodes[i] == n)
			return pos;
		if (!g->nodes[i]->dead)
			pos++;
	}
	return -1;
}

/* "conv 'name'", or the op and its output when the node has no name. */
static void node_label(char *buf, size_t n, const ir_node *nd)
{
	if (nd->name && *nd->name)
		snprintf(buf, n, "%s '%s'", ir_op_name(nd->op), nd->name);
	else
		snprintf(buf, n, "%s of '%s'", ir_op_name(nd->op), nd->out[0]->name);
}

static void fmt_macs(char *buf, size_t n, int64_t m)
{
	snprintf(buf, n, "%.2f M", (double)m / 1e6);
}

int pass_patch(ir_graph *g, const pass_options *o, diag_sink *d)
{
	int64_t budget = o ? o->ram_budget : 0;
	if (budget <= 0)
		return 0;
	if (ir_graph_toposort(g, d))
		return -1;
	pass_mem_plan *p0 = pass_memplan_compute(g, d);
	if (!p0)
		return -1;
	FILE *rep = o->memory_report;
	int64_t before = p0->arena_size;
	if (before <= budget) {
		if (rep)
			fprintf(rep, "ram budget %" PRId64 " bytes: the plan (%" PRId64 " bytes) fits without patches\n",
			        budget, before);
		pass_memplan_destroy(p0);
		return 0;
	}
	int npos = 0;
	for (int i = 0; i < g->nnodes; i++)
		npos += !g->nodes[i]->dead;
	int64_t *live = malloc(sizeof *live * (size_t)(npos + 1)); /* bytes live at each step */
	if (!live) {
		pass_memplan_destroy(p0);
		diag_error(d, g->src_file, "out of memory");
		return -1;
	}
	for (int t = 0; t < npos; t++)
		live[t] = pass_memplan_live_at(p0, t);
	/* conv MACs: what the extra MACs are reported against */
	int64_t total_macs = 0;
	for (int i = 0; i < g->nnodes; i++) {
		chain_op c;
		ir_node *n = g->nodes[i];
		if (!n->dead && n->op == IR_OP_CONV && n->nin > 0 && n->in[0] && chain_op_of(n, n->in[0], &c))
			total_macs += c.macs_row * c.hout;
	}

	/* Every candidate of every chain, with its bound and extra MACs. */
	cand *cs = NULL;
	int nc = 0, capc = 0, rc = -1;
	chain chs[8] = {{0}};
	int nch = g->ninputs < 8 ? g->ninputs : 8;
	int64_t least = -1;   /* the smallest lower bound of any tiling */
	tile_rows *r = NULL;
	int *pos = NULL;      /* each chain op's step */
	for (int k = 0; k < nch; k++) {
		if (chain_from(g, g->inputs[k], &chs[k]))
			goto oom;
		chain *ch = &chs[k];
		free(r);
		free(pos);
		r = calloc((size_t)ch->n + 1, sizeof *r);
		pos = calloc((size_t)ch->n + 1, sizeof *pos);
		if (!r || !pos)
			goto oom;
		for (int i = 0; i < ch->n; i++)
			pos[i] = node_pos(g, ch->op[i].n);
		for (int s = 0; s < ch->n; s++) {
			const ir_value *x0 = ch->op[s].n->in[0];
			int64_t x0_arena = p0->v[x0->id].kind == MP_ARENA ? p0->v[x0->id].bytes : 0;
			for (int e = s; e < ch->n; e++) {
				const ir_value *y = ch->op[e].n->out[0];
				int64_t out_arena = p0->v[y->id].kind == MP_ARENA ? p0->v[y->id].bytes : 0;
				int64_t base = live_outside(live, npos, pos[s], pos[e]);
				int maxT = ch->op[e].hout < MAX_TILES ? (int)ch->op[e].hout : MAX_TILES;
				for (int T = 2; T <= maxT; T++) {
					cand c = {k, s, e, T, 0, base};
					if (!cand_eval(ch, &c, x0_arena, out_arena, r))
						continue;
					if (least < 0 || c.bound < least)
						least = c.bound;
					if (c.bound > budget)
						continue;
					if (nc == capc) {
						capc = capc ? capc * 2 : 64;
						cand *m = realloc(cs, sizeof *m * (size_t)capc);
						if (!m)
							goto oom;
						cs = m;
					}
					cs[nc++] = c;
				}
			}
		}
	}
	/* Cheapest first (cand_cmp orders every pair of candidates). */
	if (nc > 1)
		qsort(cs, (size_t)nc, sizeof *cs, cand_cmp);
	int pick = -1;
	int64_t after = -1, best_seen = -1;
	for (int i = 0; i < nc && i < MAX_EXACT && pick < 0; i++) {
		const cand *c = &cs[i];
		int64_t size = try_plan(g, g->inputs[c->chain], c->s, c->e, c->T);
		if (size >= 0 && (best_seen < 0 || size < best_seen))
			best_seen = size;
		if (size >= 0 && size <= budget) {
			pick = i;
			after = size;
		}
	}
	if (pick < 0) {
		if (best_seen >= 0)
			diag_error(d, g->src_file,
			           "--ram-budget %" PRId64 ": no patch-based schedule fits; the plan needs %" PRId64
			           " bytes without patches and %" PRId64 " bytes with the best one tried",
			           budget, before, best_seen);
		else if (least >= 0)
			diag_error(d, g->src_file,
			           "--ram-budget %" PRId64 ": no patch-based schedule fits; the plan needs %" PRId64
			           " bytes without patches, and every tiling of its first layers at least %" PRId64,
			           budget, before, least);
		else
			diag_error(d, g->src_file,
			           "--ram-budget %" PRId64 ": the plan needs %" PRId64 " bytes, and no chain of "
			           "convolutions or pools from an input can run in patches",
			           budget, before);
		goto out;
	}
	cand c = cs[pick];
	chain *ch = &chs[c.chain];
	free(r);
	r = calloc((size_t)ch->n + 1, sizeof *r);
	if (!r)
		goto oom;
	char first[256], last[256], m0[32], m1[32];
	node_label(first, sizeof first, ch->op[c.s].n);
	node_label(last, sizeof last, ch->op[c.e].n);
	if (rep) {
		fprintf(rep, "memory per layer before patches:\n");
		pass_memplan_layers(rep, g, p0);
	}
	if (apply(g, ch, c.s, c.e, c.T, r, d) || ir_infer_shapes(g, d))
		goto out;
	fmt_macs(m0, sizeof m0, total_macs);
	fmt_macs(m1, sizeof m1, total_macs + c.extra_macs);
	if (rep)
		fprintf(rep,
		        "ram budget %" PRId64 " bytes: %s .. %s run in %d patches of rows; arena %" PRId64
		        " -> %" PRId64 " bytes; MACs %s -> %s (+%.1f%%)\n",
		        budget, first, last, c.T, before, after, m0, m1,
		        total_macs ? 100.0 * (double)c.extra_macs / (double)total_macs : 0.0);
	rc = 0;
	goto out;
oom:
	diag_error(d, g->src_file, "out of memory");
out:
	for (int k = 0; k < nch; k++)
		free(chs[k].op);
	free(cs);
	free(r);
	free(pos);
	free(live);
	pass_memplan_destroy(p0);
	return rc;
}
