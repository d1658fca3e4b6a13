/* graph.c: building and editing graphs: values, nodes, attributes, order. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

/* ------------------------------------------------------------ name map */

struct ir_name_map {
	ir_value **slot;
	size_t cap, len;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int map_grow(struct ir_name_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	ir_value **slot = calloc(cap, sizeof *slot);
	if (!slot)
		return -1;
	for (size_t i = 0; i < m->cap; i++) {
		ir_value *v = m->slot[i];
		if (!v)
			continue;
		size_t j = hash_str(v->name) & (cap - 1);
		while (slot[j])
			j = (j + 1) & (cap - 1);
		slot[j] = v;
	}
	free(m->slot);
	m->slot = slot;
	m->cap = cap;
	return 0;
}

static ir_value **map_find(const struct ir_name_map *m, const char *name)
{
	if (!m->cap)
		return NULL;
	size_t j = hash_str(name) & (m->cap - 1);
	while (m->slot[j]) {
		if (strcmp(m->slot[j]->name, name) == 0)
			return &m->slot[j];
		j = (j + 1) & (m->cap - 1);
	}
	return &m->slot[j];
}

static int map_put(struct ir_name_map *m, ir_value *v)
{
	if ((m->len + 1) * 2 > m->cap && map_grow(m))
		return -1;
	ir_value **s = map_find(m, v->name);
	if (*s)
		return -1;
	*s = v;
	m->len++;
	return 0;
}

static void map_rebuild(ir_graph *g)
{
	struct ir_name_map *m = g->names;
	memset(m->slot, 0, m->cap * sizeof *m->slot);
	m->len = 0;
	for (int i = 0; i < g->nvalues; i++)
		map_put(m, g->values[i]);
}

/* --------------------------------------------------------------- graph */

ir_graph *ir_graph_create(const char *name)
{
	ir_graph *g = calloc(1, sizeof *g);
	if (!g)
		return NULL;
	g->arena = ir_arena_create();
	g->names = calloc(1, sizeof *g->names);
	if (!g->arena || !g->names) {
		ir_arena_destroy(g->arena);
		free(g->names);
		free(g);
		return NULL;
	}
	g->name = ir_arena_strdup(g->arena, name ? name : "main");
	if (!g->name) {
		ir_graph_destroy(g);
		return NULL;
	}
	return g;
}

bool ir_graph_oom(const ir_graph *g)
{
	return g->oom || ir_arena_failed(g->arena);
}

void ir_graph_destroy(ir_graph *g)
{
	if (!g)
		return;
	free(g->values);
	free(g->nodes);
	free(g->inputs);
	free(g->outputs);
	if (g->names)
		free(g->names->slot);
	free(g->names);
	ir_arena_destroy(g->arena);
	free(g);
}

int ir_graph_add_dep(ir_graph *g, const char *path)
{
	if (g->deps && strcmp(g->deps->path, path) == 0)
		return 0;
	ir_dep *dp = ir_arena_alloc(g->arena, sizeof *dp);
	if (!dp || !(dp->path = ir_arena_strdup(g->arena, path)))
		return -1;
	dp->next = g->deps;
	g->deps = dp;
	return 0;
}

int ir_graph_copy_deps(ir_graph *dst, const ir_graph *src)
{
	ir_dep *head = NULL, **tail = &head;
	for (const ir_dep *dp = src->deps; dp; dp = dp->next) {
		ir_dep *c = ir_arena_alloc(dst->arena, sizeof *c);
		if (!c || !(c->path = ir_arena_strdup(dst->arena, dp->path)))
			return -1;
		*tail = c;
		tail = &c->next;
	}
	*tail = dst->deps;
	dst->deps = head;
	return 0;
}

int ir_grow_cap(int cap, int need)
{
	if (need <= cap)
		return cap;
	int c = cap > 0 ? cap : 16;
	while (c < need)
		c = c > INT_MAX / 2 ? INT_MAX : c * 2;
	return c;
}

/* Vector p of *cap elements grown to hold `need`: the new vector, or
 * NULL with p kept and the graph marked when out of memory. */
static void *grow(ir_graph *g, void *p, int *cap, int need, size_t elt)
{
	if (need <= *cap)
		return p;
	int c = ir_grow_cap(*cap, need);
	void *q = c < need || (size_t)c > SIZE_MAX / elt ? NULL : realloc(p, (size_t)c * elt);
	if (!q) {
		g->oom = true;
		return NULL;
	}
	*cap = c;
	return q;
}

ir_value *ir_graph_find_value(const ir_graph *g, const char *name)
{
	ir_value **s = map_find(g->names, name);
	return s ? *s : NULL;
}

ir_value *ir_graph_add_value(ir_graph *g, const char *name, ir_dtype dt, const ir_shape *shape)
{
	if (!name || ir_graph_find_value(g, name))
		return NULL;
	ir_value *v = ir_arena_alloc(g->arena, sizeof *v);
	if (!v || !(v->name = ir_arena_strdup(g->arena, name)))
		return NULL;
	v->kind = IR_VAL_ACT;
	v->dt = dt;
	if (shape)
		v->shape = *shape;
	else
		v->shape.rank = -1;
	ir_value **vs = grow(g, g->values, &g->capvalues, g->nvalues + 1, sizeof *g->values);
	if (!vs)
		return NULL;
	g->values = vs;
	if (map_put(g->names, v)) { /* the name is free: out of memory */
		g->oom = true;
		return NULL;
	}
	v->id = g->nvalues;
	g->values[g->nvalues++] = v;
	return v;
}

int ir_value_set_const(ir_graph *g, ir_value *v, const void *data)
{
	int64_t n = ir_shape_numel(&v->shape);
	size_t es = ir_dtype_size(v->dt);
	if (n < 0 || es == 0)
		return -1;
	void *p = ir_arena_alloc(g->arena, (size_t)n * es);
	if (!p)
		return -1;
	if (data && n)
		memcpy(p, data, (size_t)n * es);
	v->data = p;
	v->kind = IR_VAL_CONST;
	return 0;
}

ir_value *ir_graph_add_const(ir_graph *g, const char *name, ir_dtype dt, const ir_shape *shape,
                             const void *data)
{
	ir_value *v = ir_graph_add_value(g, name, dt, shape);
	if (!v || ir_value_set_const(g, v, data))
		return NULL;
	return v;
}

const char *ir_graph_unique_name(ir_graph *g, const char *base)
{
	if (!base) { /* a name that could not be built */
		g->oom = true;
		return NULL;
	}
	if (!ir_graph_find_value(g, base))
		return ir_arena_strdup(g->arena, base);
	for (unsigned k = 1;; k++) {
		char *s = ir_arena_printf(g->arena, "%s.%u", base, k);
		if (!s) {
			g->oom = true;
			return NULL;
		}
		if (!ir_graph_find_value(g, s))
			return s;
	}
}

ir_node *ir_graph_add_node(ir_graph *g, ir_op op, const char *name, int nin, ir_value *const *in,
                           int nout, ir_value *const *out)
{
	ir_node *n = ir_arena_alloc(g->arena, sizeof *n);
	ir_node **ns = grow(g, g->nodes, &g->capnodes, g->nnodes + 1, sizeof *g->nodes);
	if (ns)
		g->nodes = ns;
	if (!n || !ns || !(n->name = ir_arena_strdup(g->arena, name ? name : "")) ||
	    !(n->in = ir_arena_alloc(g->arena, sizeof(ir_value *) * (size_t)(nin ? nin : 1))) ||
	    !(n->out = ir_arena_alloc(g->arena, sizeof(ir_value *) * (size_t)(nout ? nout : 1)))) {
		g->oom = true;
		return NULL;
	}
	n->op = op;
	n->src_index = -1;
	n->nin = nin;
	n->nout = nout;
	for (int i = 0; i < nin; i++)
		n->in[i] = in[i];
	for (int i = 0; i < nout; i++) {
		n->out[i] = out[i];
		if (out[i])
			out[i]->producer = n;
	}
	n->id = g->nnodes;
	g->nodes[g->nnodes++] = n;
	return n;
}

void ir_graph_add_input(ir_graph *g, ir_value *v)
{
	ir_value **vs = grow(g, g->inputs, &g->capinputs, g->ninputs + 1, sizeof *g->inputs);
	if (!vs)
		return;
	v->kind = IR_VAL_INPUT;
	g->inputs = vs;
	g->inputs[g->ninputs++] = v;
}

void ir_graph_add_output(ir_graph *g, ir_value *v)
{
	ir_value **vs = grow(g, g->outputs, &g->capoutputs, g->noutputs + 1, sizeof *g->outputs);
	if (!vs)
		return;
	g->outputs = vs;
	g->outputs[g->noutputs++] = v;
}

/* Min-heap of node indices, for a stable topological order. */
static void heap_push(int *h, int *n, int v)
{
	int i = (*n)++;
	while (i > 0 && h[(i - 1) / 2] > v) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = v;
}

static int heap_pop(int *h, int *n)
{
	int top = h[0], v = h[--*n], i = 0;
	for (;;) {
		int c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1] < h[c])
			c++;
		if (h[c] >= v)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = v;
	return top;
}

/* Kahn's algorithm with a min-heap: among ready nodes the earliest in the
 * current order goes first, so an order that is already valid is kept.
 * O((V + E) log V) even on adversarial inputs. */
int ir_graph_toposort(ir_graph *g, diag_sink *d)
{
	int n = g->nnodes, nedge = 0, rc = 0;
	for (int i = 0; i < n; i++) {
		g->nodes[i]->id = i;
		nedge += g->nodes[i]->nin;
	}
	int *indeg = calloc((size_t)n + 1, sizeof(int));
	int *start = calloc((size_t)n + 2, sizeof(int));
	int *adj = malloc(sizeof(int) * ((size_t)nedge + 1));
	int *heap = malloc(sizeof(int) * ((size_t)n + 1));
	ir_node **order = malloc(sizeof(ir_node *) * ((size_t)n + 1));
	if (!indeg || !start || !adj || !heap || !order) {
		diag_error(d, NULL, "out of memory");
		rc = -1;
		goto out;
	}
	/* producer index of input slot, or -1 */
#define PRODUCER(nd, j)                                                                 \
	((nd)->in[j] && (nd)->in[j]->producer && !(nd)->in[j]->producer->dead &&       \
	         (nd)->in[j]->producer->id < n && g->nodes[(nd)->in[j]->producer->id] == (nd)->in[j]->producer \
	     ? (nd)->in[j]->producer->id                                                \
	     : -1)
	for (int i = 0; i < n; i++)
		for (int j = 0; j < g->nodes[i]->nin; j++) {
			int p = PRODUCER(g->nodes[i], j);
			if (p >= 0) {
				start[p + 1]++;
				indeg[i]++;
			}
		}
	for (int i = 0; i < n; i++)
		start[i + 1] += start[i];
	int *fill = calloc((size_t)n + 1, sizeof(int));
	if (!fill) {
		diag_error(d, NULL, "out of memory");
		rc = -1;
		goto out;
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < g->nodes[i]->nin; j++) {
			int p = PRODUCER(g->nodes[i], j);
			if (p >= 0)
				adj[start[p] + fill[p]++] = i;
		}
	free(fill);
#undef PRODUCER
	int nh = 0, k = 0;
	for (int i = 0; i < n; i++)
		if (indeg[i] == 0)
			heap_push(heap, &nh, i);
	while (nh) {
		int i = heap_pop(heap, &nh);
		order[k++] = g->nodes[i];
		for (int e = start[i]; e < start[i + 1]; e++)
			if (--indeg[adj[e]] == 0)
				heap_push(heap, &nh, adj[e]);
	}
	if (k < n) {
		for (int i = 0; i < n; i++)
			if (indeg[i] > 0) {
				diag_error(d, ir_node_loc(g, g->nodes[i]), "graph has a cycle through this node");
				break;
			}
		rc = -1;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		g->nodes[i] = order[i];
		order[i]->id = i;
	}
out:
	free(indeg);
	free(start);
	free(adj);
	free(heap);
	free(order);
	return rc;
}

void ir_graph_replace_uses(ir_graph *g, ir_value *from, ir_value *to)
{
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		for (int j = 0; j < n->nin; j++)
			if (n->in[j] == from)
				n->in[j] = to;
	}
	for (int i = 0; i < g->noutputs; i++)
		if (g->outputs[i] == from)
			g->outputs[i] = to;
}

bool ir_value_is_output(const ir_graph *g, const ir_value *v)
{
	for (int i = 0; i < g->noutputs; i++)
		if (g->outputs[i] == v)
			return true;
	return false;
}

int ir_value_use_count(const ir_graph *g, const ir_value *v)
{
	int c = 0;
	for (int i = 0; i < g->nnodes; i++) {
		const ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		for (int j = 0; j < n->nin; j++)
			c += n->in[j] == v;
	}
	for (int i = 0; i < g->noutputs; i++)
		c += g->outputs[i] == v;
	return c;
}

ir_node *ir_value_sole_user(const ir_graph *g, const ir_value *v)
{
	if (ir_value_use_count(g, v) != 1)
		return NULL;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		for (int j = 0; j < n->nin; j++)
			if (n->in[j] == v)
				return n;
	}
	return NULL;
}

void ir_graph_compact(ir_graph *g)
{
	int k = 0;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead) {
			for (int j = 0; j < n->nout; j++)
				if (n->out[j] && n->out[j]->producer == n)
					n->out[j]->producer = NULL;
			continue;
		}
		n->id = k;
		g->nodes[k++] = n;
	}
	g->nnodes = k;

	char *used = calloc((size_t)g->nvalues + 1, 1);
	if (!used) {
		g->oom = true;
		return;
	}
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		for (int j = 0; j < n->nin; j++)
			if (n->in[j])
				used[n->in[j]->id] = 1;
		for (int j = 0; j < n->nout; j++)
			if (n->out[j])
				used[n->out[j]->id] = 1;
	}
	for (int i = 0; i < g->ninputs; i++)
		used[g->inputs[i]->id] = 1;
	for (int i = 0; i < g->noutputs; i++)
		used[g->outputs[i]->id] = 1;
	k = 0;
	for (int i = 0; i < g->nvalues; i++) {
		ir_value *v = g->values[i];
		if (!used[i])
			continue;
		v->id = k;
		g->values[k++] = v;
	}
	g->nvalues = k;
	free(used);
	map_rebuild(g);
}

int ir_graph_bind_input(ir_graph *g, ir_value *v, const ir_tensor *t, diag_sink *d)
{
	int k = 0;
	while (k < g->ninputs && g->inputs[k] != v)
		k++;
	if (k == g->ninputs) {
		diag_error(d, g->src_file, "'%s' is not a graph input", v->name);
		return -1;
	}
	bool fits = t->dt == v->dt && t->shape.rank == v->shape.rank;
	for (int i = 0; fits && i < t->shape.rank; i++)
		fits = v->shape.d[i] == IR_DIM_SYM || v->shape.d[i] == t->shape.d[i];
	if (!fits) {
		char a[96], b[96];
		diag_error(d, g->src_file, "input '%s': got %s%s, graph expects %s%s", v->name,
		           ir_dtype_name(t->dt), ir_shape_str(&t->shape, a, sizeof a),
		           ir_dtype_name(v->dt), ir_shape_str(&v->shape, b, sizeof b));
		return -1;
	}
	v->shape = t->shape;
	if (ir_value_set_const(g, v, t->data)) {
		if (ir_graph_oom(g))
			diag_error(d, g->src_file, "input '%s': out of memory", v->name);
		else
			diag_error(d, g->src_file, "input '%s': cannot hold %s constant", v->name,
			           ir_dtype_name(t->dt));
		return -1;
	}
	memmove(&g->inputs[k], &g->inputs[k + 1], sizeof *g->inputs * (size_t)(g->ninputs - k - 1));
	g->ninputs--;
	return 0;
}

void ir_graph_bind_batch(ir_graph *g, int64_t batch)
{
	for (int i = 0; i < g->nvalues; i++) {
		ir_value *v = g->values[i];
		if (v->kind == IR_VAL_ACT) {
			v->shape.rank = -1;
			continue;
		}
		for (int j = 0; j < v->shape.rank; j++)
			if (v->shape.d[j] == IR_DIM_SYM)
				v->shape.d[j] = batch;
	}
}

/* n bytes of p in g's arena (NULL stays NULL); *ok cleared on failure. */
static void *arena_copy(ir_graph *g, const void *p, size_t n, bool *ok)
{
	if (!p)
		return NULL;
	void *q = ir_arena_alloc(g->arena, n ? n : 1);
	if (!q) {
		*ok = false;
		return NULL;
	}
	memcpy(q, p, n);
	return q;
}

/* q, its arrays included, in g's arena: value v's annotation. */
static ir_quant *quant_clone(ir_graph *g, const ir_quant *q, const ir_value *v, bool *ok)
{
	if (!q)
		return NULL;
	ir_quant *c = arena_copy(g, q, sizeof *q, ok);
	if (!c)
		return NULL;
	size_t nch = (size_t)(q->nchan > 0 ? q->nchan : 1);
	int64_t numel = ir_shape_known(&v->shape) ? ir_shape_numel(&v->shape) : 0;
	c->scale = arena_copy(g, q->scale, nch * sizeof *q->scale, ok);
	c->zero_point = arena_copy(g, q->zero_point, nch * sizeof *q->zero_point, ok);
	c->levels = arena_copy(g, q->levels, (nch << q->bits) * sizeof *q->levels, ok);
	c->codes = arena_copy(g, q->codes, (size_t)(numel > 0 ? numel : 0), ok);
	c->packed = arena_copy(g, q->packed, q->packed_bytes, ok);
	return c;
}

ir_graph *ir_graph_clone(const ir_graph *src)
{
	ir_graph *g = ir_graph_create(src->name);
	ir_value **map = calloc((size_t)src->nvalues + 1, sizeof *map);
	bool ok = g && map;
	if (ok && src->src_file)
		ok = (g->src_file = ir_arena_strdup(g->arena, src->src_file)) != NULL;
	if (ok)
		ok = ir_graph_copy_deps(g, src) == 0;
	for (int i = 0; ok && i < src->nvalues; i++) {
		const ir_value *v = src->values[i];
		ir_value *c = ir_graph_add_value(g, v->name, v->dt, &v->shape);
		if (!c) {
			ok = false;
			break;
		}
		c->kind = v->kind;
		if (v->data) {
			int64_t n = ir_shape_numel(&v->shape);
			c->data = arena_copy(g, v->data, (size_t)(n > 0 ? n : 0) * ir_dtype_size(v->dt), &ok);
		}
		c->quant = quant_clone(g, v->quant, v, &ok);
		map[v->id] = c;
	}
	ir_value *in[64], *out[16];
	for (int i = 0; ok && i < src->nnodes; i++) {
		const ir_node *n = src->nodes[i];
		ir_value **pi = n->nin <= 64 ? in : calloc((size_t)n->nin, sizeof *pi);
		ir_value **po = n->nout <= 16 ? out : calloc((size_t)n->nout, sizeof *po);
		if (!pi || !po) {
			ok = false;
			if (pi != in)
				free(pi);
			break;
		}
		for (int k = 0; k < n->nin; k++)
			pi[k] = n->in[k] ? map[n->in[k]->id] : NULL;
		for (int k = 0; k < n->nout; k++)
			po[k] = n->out[k] ? map[n->out[k]->id] : NULL;
		ir_node *c = ir_graph_add_node(g, n->op, n->name, n->nin, pi, n->nout, po);
		if (pi != in)
			free(pi);
		if (po != out)
			free(po);
		if (!c || !c->name || !c->in || !c->out) {
			ok = false;
			break;
		}
		if (n->src_op && !(c->src_op = ir_arena_strdup(g->arena, n->src_op))) {
			ok = false;
			break;
		}
		c->src_index = n->src_index;
		c->qhint = n->qhint;
		c->dead = n->dead;
		ir_node_copy_attrs(g, c, n);
	}
	/* producers as in src (ir_graph_add_node made the last node writing
	 * a value its producer, a dead one included) */
	for (int i = 0; ok && i < src->nvalues; i++) {
		const ir_node *p = src->values[i]->producer;
		int k = p && p->id >= 0 && p->id < src->nnodes && src->nodes[p->id] == p ? p->id : -1;
		for (int j = 0; p && k < 0 && j < src->nnodes; j++)
			if (src->nodes[j] == p)
				k = j;
		map[src->values[i]->id]->producer = k >= 0 ? g->nodes[k] : NULL;
	}
	for (int i = 0; ok && i < src->ninputs; i++) {
		ir_graph_add_input(g, map[src->inputs[i]->id]);
		map[src->inputs[i]->id]->kind = src->inputs[i]->kind;
	}
	for (int i = 0; ok && i < src->noutputs; i++)
		ir_graph_add_output(g, map[src->outputs[i]->id]);
	free(map);
	if (!ok || ir_graph_oom(g)) {
		ir_graph_destroy(g);
		return NULL;
	}
	return g;
}

/* ---------------------------------------------------------- attributes */

const ir_attr *ir_node_attr(const ir_node *n, const char *name)
{
	for (int i = 0; i < n->nattr; i++)
		if (strcmp(n->attrs[i].name, name) == 0)
			return &n->attrs[i];
	return NULL;
}

int64_t ir_attr_int(const ir_node *n, const char *name, int64_t dflt)
{
	const ir_attr *a = ir_node_attr(n, name);
	return a && a->kind == IR_ATTR_INT ? a->v.i : dflt;
}

float ir_attr_float(const ir_node *n, const char *name, float dflt)
{
	const ir_attr *a = ir_node_attr(n, name);
	return a && a->kind == IR_ATTR_FLOAT ? a->v.f : dflt;
}

const int64_t *ir_attr_ints(const ir_node *n, const char *name, int *count)
{
	const ir_attr *a = ir_node_attr(n, name);
	if (!a || a->kind != IR_ATTR_INTS) {
		if (count)
			*count = 0;
		return NULL;
	}
	if (count)
		*count = a->n;
	static const int64_t none[1]; /* an aligned, empty list */
	return a->v.ints ? a->v.ints : none;
}

const float *ir_attr_floats(const ir_node *n, const char *name, int *count)
{
	const ir_attr *a = ir_node_attr(n, name);
	if (!a || a->kind != IR_ATTR_FLOATS) {
		if (count)
			*count = 0;
		return NULL;
	}
	if (count)
		*count = a->n;
	return a->v.floats ? a->v.floats : (const float *)"";
}

const char *ir_attr_str(const ir_node *n, const char *name, const char *dflt)
{
	const ir_attr *a = ir_node_attr(n, name);
	return a && a->kind == IR_ATTR_STR ? a->v.s : dflt;
}

/* The slot of attribute `name` of n, a new one (zeroed) if it has none;
 * NULL, the graph marked, when out of memory. */
static ir_attr *attr_slot(ir_graph *g, ir_node *n, const char *name)
{
	for (int i = 0; i < n->nattr; i++)
		if (strcmp(n->attrs[i].name, name) == 0)
			return &n->attrs[i];
	const char *nm = ir_arena_strdup(g->arena, name);
	if (!nm) {
		g->oom = true;
		return NULL;
	}
	if (n->nattr == n->capattr) {
		int cap = n->capattr ? n->capattr * 2 : 4;
		ir_attr *a = ir_arena_alloc(g->arena, sizeof *a * (size_t)cap);
		if (!a) {
			g->oom = true;
			return NULL;
		}
		if (n->nattr)
			memcpy(a, n->attrs, sizeof *a * (size_t)n->nattr);
		n->attrs = a;
		n->capattr = cap;
	}
	ir_attr *a = &n->attrs[n->nattr++];
	memset(a, 0, sizeof *a);
	a->name = nm;
	return a;
}

/* n bytes of p in g's arena (at least 1 allocated); NULL, the graph
 * marked, when out of memory. */
static void *attr_copy(ir_graph *g, const void *p, size_t n)
{
	void *q = ir_arena_alloc(g->arena, n ? n : 1);
	if (!q) {
		g->oom = true;
		return NULL;
	}
	if (n)
		memcpy(q, p, n);
	return q;
}

void ir_node_set_int(ir_graph *g, ir_node *n, const char *name, int64_t v)
{
	ir_attr *a = attr_slot(g, n, name);
	if (!a)
		return;
	a->kind = IR_ATTR_INT;
	a->v.i = v;
}

void ir_node_set_float(ir_graph *g, ir_node *n, const char *name, float v)
{
	ir_attr *a = attr_slot(g, n, name);
	if (!a)
		return;
	a->kind = IR_ATTR_FLOAT;
	a->v.f = v;
}

void ir_node_set_ints(ir_graph *g, ir_node *n, const char *name, const int64_t *v, int count)
{
	int64_t *p = attr_copy(g, v, sizeof(int64_t) * (size_t)count);
	ir_attr *a = p ? attr_slot(g, n, name) : NULL;
	if (!a)
		return;
	a->kind = IR_ATTR_INTS;
	a->n = count;
	a->v.ints = p;
}

void ir_node_set_floats(ir_graph *g, ir_node *n, const char *name, const float *v, int count)
{
	float *p = attr_copy(g, v, sizeof(float) * (size_t)count);
	ir_attr *a = p ? attr_slot(g, n, name) : NULL;
	if (!a)
		return;
	a->kind = IR_ATTR_FLOATS;
	a->n = count;
	a->v.floats = p;
}

void ir_node_set_str(ir_graph *g, ir_node *n, const char *name, const char *s)
{
	char *p = attr_copy(g, s, strlen(s) + 1);
	ir_attr *a = p ? attr_slot(g, n, name) : NULL;
	if (!a)
		return;
	a->kind = IR_ATTR_STR;
	a->v.s = p;
}

void ir_node_copy_attrs(ir_graph *g, ir_node *to, const ir_node *from)
{
	for (int k = 0; k < from->nattr; k++) {
		const ir_attr *a = &from->attrs[k];
		switch (a->kind) {
		case IR_ATTR_INT:
			ir_node_set_int(g, to, a->name, a->v.i);
			break;
		case IR_ATTR_FLOAT:
			ir_node_set_float(g, to, a->name, a->v.f);
			break;
		case IR_ATTR_INTS:
			ir_node_set_ints(g, to, a->name, a->v.ints, a->n);
			break;
		case IR_ATTR_FLOATS:
			ir_node_set_floats(g, to, a->name, a->v.floats, a->n);
			break;
		case IR_ATTR_STR:
			ir_node_set_str(g, to, a->name, a->v.s);
			break;
		}
	}
}

void ir_node_del_attr(ir_node *n, const char *name)
{
	for (int i = 0; i < n->nattr; i++)
		if (strcmp(n->attrs[i].name, name) == 0) {
			memmove(&n->attrs[i], &n->attrs[i + 1], sizeof *n->attrs * (size_t)(n->nattr - i - 1));
			n->nattr--;
			return;
		}
}

const char *ir_node_loc(const ir_graph *g, const ir_node *n)
{
	static char ring[8][512];
	static unsigned k;
	char *b = ring[k++ % 8];
	const char *file = g && g->src_file ? g->src_file : NULL;
	int idx = n->src_index >= 0 ? n->src_index : n->id;
	snprintf(b, sizeof ring[0], "%s%snode %d '%s' (%s)", file ? file : "", file ? ": " : "", idx,
	         n->name ? n->name : "", n->src_op ? n->src_op : ir_op_name(n->op));
	return b;
}

/* ----------------------------------------------------------- constants */

double ir_elem_get(const void *p, ir_dtype dt, int64_t k)
{
	switch (dt) {
	case IR_DT_F32: return ((const float *)p)[k];
	case IR_DT_I8: return ((const int8_t *)p)[k];
	case IR_DT_U8: return ((const uint8_t *)p)[k];
	case IR_DT_I16: return ((const int16_t *)p)[k];
	case IR_DT_U16: return ((const uint16_t *)p)[k];
	case IR_DT_I32: return ((const int32_t *)p)[k];
	case IR_DT_I64: return (double)((const int64_t *)p)[k];
	case IR_DT_BOOL: return ((const uint8_t *)p)[k] != 0;
	default: return 0;
	}
}

double ir_const_get(const ir_value *v, int64_t k)
{
	return ir_elem_get(v->data, v->dt, k);
}

bool ir_value_is_const(const ir_value *v)
{
	return v && v->kind == IR_VAL_CONST && (v->data || ir_shape_numel(&v->shape) == 0);
}

int ir_const_ints(const ir_value *v, int64_t *out, int max)
{
	if (!ir_value_is_const(v) || (v->dt != IR_DT_I64 && v->dt != IR_DT_I32))
		return -1;
	int64_t n = ir_shape_numel(&v->shape);
	if (n < 0 || n > max)
		return -1;
	for (int64_t i = 0; i < n; i++)
		out[i] = v->dt == IR_DT_I64 ? ((const int64_t *)v->data)[i]
		                            : ((const int32_t *)v->data)[i];
	return (int)n;
}
