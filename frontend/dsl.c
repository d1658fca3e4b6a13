/* dsl.c: evaluates a parsed .qgm model (dsl_internal.h) into IR.  Blocks,
 * repeat and constants are expanded here; every layer becomes canonical
 * ops of ir/ops.def with its weights as constants, and its shapes are
 * inferred as it is built so a mistake is reported at its own line. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dsl.h"
#include "dsl_internal.h"
#include "frontend.h"

enum {
	MAX_CALL_DEPTH = 32,     /* block calls inside block calls */
	MAX_REPEAT = 10000,      /* iterations of one repeat */
	MAX_NODES = 100000,      /* layers in one model */
	MAX_STEPS = 200000,      /* statements executed while building one model */
	MAX_BLOCK_CALLS = 10000, /* block calls while building one model */
	MAX_NAME = 512,          /* characters in a layer's full name */
	MAX_INPUTS = 64,         /* tensors into add/mul/concat */
	MAX_PARAMS = 16,         /* parameters of one layer */
};
/* Weights a model may have in all: 64 M f32 parameters, ten times the
 * largest a microcontroller holds.  Each is allocated (and initialised)
 * as its layer is built, so the bound is on memory and time too: at
 * 1 GiB, fuzzing found a 1.2 KB model (MobileNet at width 225) that
 * took over 2 GB and 20 s before it was refused. */
#define MAX_WEIGHT_BYTES ((int64_t)1 << 28)

/* ------------------------------------------------------- syntax tree */

static void *ast_alloc(fe_dsl_ctx *ctx, size_t n)
{
	void *p = ir_arena_alloc(ctx->arena, n);
	if (!p) {
		dsl_nomem(ctx);
		memset(&ctx->scratch, 0, sizeof ctx->scratch);
		p = &ctx->scratch;
	}
	return p;
}

dsl_expr *dsl_ex_lit(fe_dsl_ctx *ctx, dsl_ex_kind k, const dsl_token *t)
{
	dsl_expr *e = ast_alloc(ctx, sizeof *e);
	e->k = k;
	e->loc = t->loc;
	e->i = t->i;
	e->f = t->f;
	e->s = t->s;
	e->depth = 1;
	return e;
}

dsl_expr *dsl_ex_list(fe_dsl_ctx *ctx, dsl_loc at, dsl_exprs *items)
{
	dsl_expr *e = ast_alloc(ctx, sizeof *e);
	e->k = DSL_EX_LIST;
	e->loc = at;
	e->items = items->head;
	e->nitems = items->n;
	e->depth = 1;
	int k = 0; /* (counted: after dsl_nomem the scratch may link to itself) */
	for (dsl_expr *x = e->items; x && k < e->nitems; x = x->next, k++)
		if (x->depth + 1 > e->depth)
			e->depth = x->depth + 1;
	return e;
}

/* Operator nesting is capped so evaluation's recursion stays shallow. */
static dsl_expr *cap_depth(fe_dsl_ctx *ctx, dsl_expr *e)
{
	if (e->depth > DSL_MAX_EXPR_DEPTH) {
		if (e->depth == DSL_MAX_EXPR_DEPTH + 1 && ctx->err_line != e->loc.line) {
			ctx->err_line = e->loc.line;
			dsl_error(ctx, e->loc, "expression nested more than %d deep", DSL_MAX_EXPR_DEPTH);
		}
		e->k = DSL_EX_INT; /* defuse it: parsing fails anyway */
		e->a = e->b = NULL;
		e->depth = DSL_MAX_EXPR_DEPTH + 1;
	}
	return e;
}

dsl_expr *dsl_ex_neg(fe_dsl_ctx *ctx, dsl_loc at, dsl_expr *a)
{
	dsl_expr *e = ast_alloc(ctx, sizeof *e);
	e->k = DSL_EX_NEG;
	e->loc = at;
	e->a = a;
	e->depth = a->depth + 1;
	return cap_depth(ctx, e);
}

dsl_expr *dsl_ex_bin(fe_dsl_ctx *ctx, dsl_loc at, int op, dsl_expr *a, dsl_expr *b)
{
	dsl_expr *e = ast_alloc(ctx, sizeof *e);
	e->k = DSL_EX_BIN;
	e->loc = at;
	e->op = op;
	e->a = a;
	e->b = b;
	e->depth = (a->depth > b->depth ? a->depth : b->depth) + 1;
	return cap_depth(ctx, e);
}

dsl_exprs *dsl_exprs_add(fe_dsl_ctx *ctx, dsl_exprs *l, dsl_expr *e)
{
	if (!l)
		l = ast_alloc(ctx, sizeof *l);
	if (e) {
		if (l->tail)
			l->tail->next = e;
		else
			l->head = e;
		l->tail = e;
		l->n++;
	}
	return l;
}

dsl_args *dsl_args_add(fe_dsl_ctx *ctx, dsl_args *l, const dsl_token *key, dsl_expr *val)
{
	if (!l)
		l = ast_alloc(ctx, sizeof *l);
	if (val) {
		dsl_arg *a = ast_alloc(ctx, sizeof *a);
		a->key = key ? key->s : NULL;
		a->loc = key ? key->loc : val->loc;
		a->val = val;
		if (l->tail)
			l->tail->next = a;
		else
			l->head = a;
		l->tail = a;
		l->n++;
	}
	return l;
}

dsl_params *dsl_params_add(fe_dsl_ctx *ctx, dsl_params *l, const dsl_token *name, dsl_expr *dflt)
{
	if (!l)
		l = ast_alloc(ctx, sizeof *l);
	if (name) {
		dsl_param *p = ast_alloc(ctx, sizeof *p);
		p->name = name->s;
		p->loc = name->loc;
		p->dflt = dflt;
		if (l->tail)
			l->tail->next = p;
		else
			l->head = p;
		l->tail = p;
		l->n++;
	}
	return l;
}

dsl_stmts *dsl_stmts_add(fe_dsl_ctx *ctx, dsl_stmts *l, dsl_stmt *s)
{
	if (!l)
		l = ast_alloc(ctx, sizeof *l);
	if (s) {
		if (l->tail)
			l->tail->next = s;
		else
			l->head = s;
		l->tail = s;
	}
	return l;
}

dsl_stmt *dsl_stmt_new(fe_dsl_ctx *ctx, dsl_st_kind k, dsl_loc at)
{
	dsl_stmt *s = ast_alloc(ctx, sizeof *s);
	s->k = k;
	s->loc = at;
	return s;
}

/* -------------------------------------------------------------- values */

typedef enum { V_NONE, V_INT, V_FLOAT, V_STR, V_SYM, V_TENSOR, V_LIST } vkind;

/* A DSL value.  V_NONE is poison: an error was reported already.  V_SYM
 * is a name bound to nothing, kept as a word (he, same, per_channel) for
 * the places that take one and reported as undefined elsewhere. */
typedef struct val {
	vkind k;
	int64_t i;
	double f;
	const char *s;           /* STR, SYM */
	ir_value *t;             /* TENSOR */
	struct val *items;       /* LIST */
	int n;
	dsl_loc loc;
} val;

typedef struct binding binding;
struct binding {
	const char *name;
	val v;
	bool is_const;
	binding *next;
};

typedef struct counter counter;
struct counter {
	const char *base;
	int n;
	counter *next;
};

typedef struct frame frame;
struct frame {
	frame *parent;           /* where names not found here are looked up */
	binding *vars;
	ir_value *cur;           /* the current tensor; NULL: none */
	bool cur_bad;            /* cur came from a failed layer: stay quiet */
	const char *prefix;      /* layer name prefix, "" or "blk1." */
	counter *counters;       /* auto-name counters of this scope */
	int depth;               /* block call depth */
};

typedef struct outspec {
	ir_value *v;
	const char *as;
} outspec;

typedef struct prefix_list prefix_list;
struct prefix_list {
	const char *name;
	uint64_t hash;                /* of name: most lookups compare only this */
	prefix_list *next;
};

typedef struct evaluator {
	fe_dsl_ctx *ctx;
	ir_graph *g;
	const char *base_dir;
	/* model options */
	int init;                /* 0 he, 1 xavier */
	uint64_t seed;
	int bits;
	ir_qgran gran;
	ir_graph *wg;            /* weights file, or NULL */
	const char *wname;       /* its name as written */
	bool seen_model, seen_weights, seen_body;
	dsl_stmt *blocks[256];
	int nblocks;
	frame global;
	outspec outs[256];
	int nouts;
	prefix_list *prefixes;
	int in_repeat;
	int64_t weight_bytes;
	bool stop;               /* a limit was hit: unwind */
	int64_t steps;           /* statements executed so far (MAX_STEPS) */
	int block_calls;         /* MAX_BLOCK_CALLS */
} evaluator;

/* Out of memory, these say so (dsl_nomem, which stops the evaluation)
 * and return NULL, or "" for a string. */
static void *ev_alloc(evaluator *e, size_t n)
{
	void *p = ir_arena_alloc(e->ctx->arena, n);
	if (!p)
		dsl_nomem(e->ctx);
	return p;
}

static char *ev_printf(evaluator *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *ev_printf(evaluator *e, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	char *s = ir_arena_strdup(e->ctx->arena, buf);
	if (!s) {
		dsl_nomem(e->ctx);
		return (char *)"";
	}
	return s;
}

/* ------------------------------------------------------- suggestions */

typedef struct cands {
	const char *s[512];
	int n;
} cands;

static void cand_add(cands *c, const char *s)
{
	if (c->n < 512)
		c->s[c->n++] = s;
}

/* "; did you mean 'x'?" or "" */
static const char *did_you_mean(evaluator *e, const char *name, const cands *c)
{
	int len = (int)strlen(name);
	int limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
	const char *best = NULL;
	int bd = limit + 1;
	for (int k = 0; k < c->n; k++) {
		int dd = diag_edit_distance(name, c->s[k]);
		if (dd < bd && dd < len) {
			bd = dd;
			best = c->s[k];
		}
	}
	return best ? ev_printf(e, "; did you mean '%s'?", best) : "";
}

/* ------------------------------------------------------------ layers */

typedef enum {
	L_CONV, L_DWCONV, L_DENSE, L_BN, L_RELU, L_RELU6, L_HSWISH, L_SIGMOID, L_TANH, L_MAXPOOL,
	L_AVGPOOL, L_GAP, L_ADD, L_MUL, L_CONCAT, L_FLATTEN, L_RESHAPE, L_SOFTMAX, L_DROPOUT
} lkind;

typedef enum { PK_INT, PK_INTS, PK_FLOAT, PK_BOOL, PK_STR, PK_ENUM, PK_BIAS, PK_PAD } pkind;

typedef struct pspec {
	const char *name;
	pkind k;
} pspec;

typedef struct lspec {
	const char *name;
	lkind k;
	const char *base;        /* auto-name stem */
	int max_in;              /* input tensors: 1, 2 (add/mul) or MAX_INPUTS */
	pspec p[MAX_PARAMS];
} lspec;

#define WEIGHT_PARAMS {"bias", PK_BIAS}, {"weight", PK_STR}, {"init", PK_ENUM}, {"seed", PK_INT}, \
	{"bits", PK_INT}, {"gran", PK_ENUM}

static const lspec layers[] = {
	{"conv2d", L_CONV, "conv", 1,
	 {{"out", PK_INT}, {"kernel", PK_INTS}, {"stride", PK_INTS}, {"pad", PK_PAD}, {"dilation", PK_INTS},
	  {"groups", PK_INT}, {"depthwise", PK_BOOL}, WEIGHT_PARAMS}},
	{"dwconv2d", L_DWCONV, "dwconv", 1,
	 {{"kernel", PK_INTS}, {"stride", PK_INTS}, {"pad", PK_PAD}, {"dilation", PK_INTS},
	  {"multiplier", PK_INT}, WEIGHT_PARAMS}},
	{"dense", L_DENSE, "dense", 1, {{"out", PK_INT}, WEIGHT_PARAMS}},
	{"batchnorm", L_BN, "bn", 1,
	 {{"eps", PK_FLOAT}, {"weight", PK_STR}, {"bias", PK_STR}, {"mean", PK_STR}, {"var", PK_STR}}},
	{"relu", L_RELU, "relu", 1, {{0}}},
	{"relu6", L_RELU6, "relu6", 1, {{0}}},
	{"hardswish", L_HSWISH, "hardswish", 1, {{0}}},
	{"sigmoid", L_SIGMOID, "sigmoid", 1, {{0}}},
	{"tanh", L_TANH, "tanh", 1, {{0}}},
	{"maxpool", L_MAXPOOL, "maxpool", 1,
	 {{"kernel", PK_INTS}, {"stride", PK_INTS}, {"pad", PK_PAD}, {"ceil", PK_BOOL}}},
	{"avgpool", L_AVGPOOL, "avgpool", 1,
	 {{"kernel", PK_INTS}, {"stride", PK_INTS}, {"pad", PK_PAD}, {"ceil", PK_BOOL},
	  {"count_pad", PK_BOOL}}},
	{"global_avgpool", L_GAP, "gap", 1, {{0}}},
	{"add", L_ADD, "add", 2, {{0}}},
	{"mul", L_MUL, "mul", 2, {{0}}},
	{"concat", L_CONCAT, "concat", MAX_INPUTS, {{"axis", PK_INT}}},
	{"flatten", L_FLATTEN, "flatten", 1, {{"axis", PK_INT}}},
	{"reshape", L_RESHAPE, "reshape", 1, {{"shape", PK_INTS}}},
	{"softmax", L_SOFTMAX, "softmax", 1, {{"axis", PK_INT}}},
	{"dropout", L_DROPOUT, "dropout", 1, {{"p", PK_FLOAT}}},
};
enum { NLAYERS = sizeof layers / sizeof layers[0] };

static const lspec *find_layer(const char *name)
{
	for (int k = 0; k < NLAYERS; k++)
		if (strcmp(layers[k].name, name) == 0)
			return &layers[k];
	return NULL;
}

static int nparams(const lspec *sp)
{
	int n = 0;
	while (n < MAX_PARAMS && sp->p[n].name)
		n++;
	return n;
}

/* --------------------------------------------------------- name lookup */

static binding *lookup_in(frame *f, const char *name)
{
	for (binding *b = f->vars; b; b = b->next)
		if (strcmp(b->name, name) == 0)
			return b;
	return NULL;
}

static binding *lookup(frame *f, const char *name)
{
	for (; f; f = f->parent) {
		binding *b = lookup_in(f, name);
		if (b)
			return b;
	}
	return NULL;
}

static dsl_stmt *find_block(evaluator *e, const char *name)
{
	for (int k = 0; k < e->nblocks; k++)
		if (strcmp(e->blocks[k]->name, name) == 0)
			return e->blocks[k];
	return NULL;
}

static void visible_names(frame *f, cands *c)
{
	for (; f; f = f->parent)
		for (binding *b = f->vars; b; b = b->next)
			cand_add(c, b->name);
}

static void bind(evaluator *e, frame *f, const char *name, val v, bool is_const)
{
	binding *b = lookup_in(f, name);
	if (!b) {
		if (!(b = ev_alloc(e, sizeof *b)))
			return;
		b->name = name;
		b->next = f->vars;
		f->vars = b;
	}
	b->v = v;
	b->is_const = is_const;
}

static void undefined(evaluator *e, frame *f, const val *v)
{
	cands c = {0};
	visible_names(f, &c);
	dsl_error(e->ctx, v->loc, "undefined name '%s'%s", v->s, did_you_mean(e, v->s, &c));
}

/* --------------------------------------------------------- expressions */

static const char *vkind_name(vkind k)
{
	switch (k) {
	case V_INT: return "an integer";
	case V_FLOAT: return "a number";
	case V_STR: return "a string";
	case V_TENSOR: return "a tensor";
	case V_LIST: return "a list";
	default: return "a name";
	}
}

static val eval(evaluator *e, frame *f, const dsl_expr *x);

static val arith(evaluator *e, frame *f, const dsl_expr *x)
{
	val a = eval(e, f, x->a), b = eval(e, f, x->b), r = {.k = V_NONE, .loc = x->loc};
	if (a.k == V_NONE || b.k == V_NONE)
		return r;
	const val *bad = NULL;
	if (a.k == V_SYM || b.k == V_SYM) {
		undefined(e, f, a.k == V_SYM ? &a : &b);
		return r;
	}
	if (a.k != V_INT && a.k != V_FLOAT)
		bad = &a;
	else if (b.k != V_INT && b.k != V_FLOAT)
		bad = &b;
	if (bad) {
		dsl_error(e->ctx, x->loc, "'%c' needs numbers, not %s", x->op, vkind_name(bad->k));
		return r;
	}
	if (a.k == V_INT && b.k == V_INT) {
		int64_t v;
		bool ovf = false;
		switch (x->op) {
		case '+': ovf = __builtin_add_overflow(a.i, b.i, &v); break;
		case '-': ovf = __builtin_sub_overflow(a.i, b.i, &v); break;
		case '*': ovf = __builtin_mul_overflow(a.i, b.i, &v); break;
		default:
			if (b.i == 0) {
				dsl_error(e->ctx, x->loc, "division by zero");
				return r;
			}
			/* INT64_MIN / -1 (and % -1) traps: test before dividing. */
			if (a.i == INT64_MIN && b.i == -1) {
				ovf = true;
				break;
			}
			if (a.i % b.i != 0)
				goto flt; /* not exact: a number */
			v = a.i / b.i;
		}
		if (ovf) {
			dsl_error(e->ctx, x->loc, "integer overflow");
			return r;
		}
		r.k = V_INT;
		r.i = v;
		r.f = (double)v;
		return r;
	}
flt:;
	double p = a.k == V_INT ? (double)a.i : a.f, q = b.k == V_INT ? (double)b.i : b.f, v;
	switch (x->op) {
	case '+': v = p + q; break;
	case '-': v = p - q; break;
	case '*': v = p * q; break;
	default:
		if (q == 0) {
			dsl_error(e->ctx, x->loc, "division by zero");
			return r;
		}
		v = p / q;
	}
	if (!isfinite(v)) {
		dsl_error(e->ctx, x->loc, "number out of range");
		return r;
	}
	r.k = V_FLOAT;
	r.f = v;
	return r;
}

static val eval(evaluator *e, frame *f, const dsl_expr *x)
{
	val r = {.k = V_NONE, .loc = x->loc};
	switch (x->k) {
	case DSL_EX_INT: r.k = V_INT; r.i = x->i; r.f = (double)x->i; return r;
	case DSL_EX_FLOAT: r.k = V_FLOAT; r.f = x->f; return r;
	case DSL_EX_STR: r.k = V_STR; r.s = x->s; return r;
	case DSL_EX_NAME: {
		binding *b = lookup(f, x->s);
		if (!b) {
			r.k = V_SYM;
			r.s = x->s;
			return r;
		}
		r = b->v;
		r.loc = x->loc;
		return r;
	}
	case DSL_EX_LIST: {
		r.items = ev_alloc(e, sizeof(val) * (size_t)(x->nitems ? x->nitems : 1));
		if (!r.items)
			return (val){.k = V_NONE, .loc = x->loc};
		int k = 0;
		for (const dsl_expr *it = x->items; it; it = it->next) {
			r.items[k] = eval(e, f, it);
			if (r.items[k].k == V_NONE)
				return (val){.k = V_NONE, .loc = x->loc};
			k++;
		}
		r.k = V_LIST;
		r.n = k;
		return r;
	}
	case DSL_EX_NEG: {
		val a = eval(e, f, x->a);
		if (a.k == V_NONE)
			return r;
		if (a.k == V_SYM) {
			undefined(e, f, &a);
			return r;
		}
		if (a.k == V_INT && a.i == INT64_MIN) {
			dsl_error(e->ctx, x->loc, "integer overflow");
		} else if (a.k == V_INT) {
			r.k = V_INT;
			r.i = -a.i;
			r.f = (double)r.i;
		} else if (a.k == V_FLOAT) {
			r.k = V_FLOAT;
			r.f = -a.f;
		} else {
			dsl_error(e->ctx, x->loc, "'-' needs a number, not %s", vkind_name(a.k));
		}
		return r;
	}
	case DSL_EX_BIN: return arith(e, f, x);
	}
	return r;
}

/* ---------------------------------------------------------- arguments */

typedef struct layer_call {
	evaluator *e;
	frame *f;
	const dsl_stmt *s;
	const lspec *sp;
	const char *name;        /* the layer's full name */
	ir_value *in[MAX_INPUTS];
	int nin;
	val v[MAX_PARAMS];       /* bound parameters (V_NONE: not given) */
	bool given[MAX_PARAMS];
	int init;                /* 0 he, 1 xavier */
	uint64_t seed;
	bool own_init;           /* init or seed given on the layer */
} layer_call;

static int param_index(const lspec *sp, const char *name)
{
	for (int k = 0; k < MAX_PARAMS && sp->p[k].name; k++)
		if (strcmp(sp->p[k].name, name) == 0)
			return k;
	return -1;
}

/* Evaluate arguments: leading tensors are inputs, then positional and
 * keyword parameters.  0, or -1 (reported, or quiet after poison). */
static int bind_args(layer_call *L)
{
	evaluator *e = L->e;
	int np = nparams(L->sp), pos = 0, rc = 0;
	bool inputs_done = false;
	for (const dsl_arg *a = L->s->args->head; a; a = a->next) {
		val v = eval(e, L->f, a->val);
		if (v.k == V_NONE) {
			rc = -1;
			continue;
		}
		if (!a->key && !inputs_done && v.k == V_TENSOR) {
			if (L->nin >= L->sp->max_in) {
				dsl_error(e->ctx, a->loc, "%s takes %s input tensor%s", L->sp->name,
				          L->sp->max_in == 1 ? "one" : L->sp->max_in == 2 ? "two" : "at most 64",
				          L->sp->max_in == 1 ? "" : "s");
				rc = -1;
				continue;
			}
			L->in[L->nin++] = v.t;
			continue;
		}
		inputs_done = true;
		int k;
		if (a->key) {
			k = param_index(L->sp, a->key);
			if (k < 0) {
				cands c = {0};
				for (int j = 0; j < np; j++)
					cand_add(&c, L->sp->p[j].name);
				dsl_error(e->ctx, a->loc, "%s has no parameter '%s'%s", L->sp->name, a->key,
				          did_you_mean(e, a->key, &c));
				rc = -1;
				continue;
			}
		} else {
			if (v.k == V_TENSOR) {
				dsl_error(e->ctx, a->loc, "input tensors come before the other arguments");
				rc = -1;
				continue;
			}
			if (pos >= np && v.k == V_SYM) {
				undefined(e, L->f, &v);
				rc = -1;
				continue;
			}
			if (pos >= np) {
				dsl_error(e->ctx, a->loc, "too many arguments for %s", L->sp->name);
				rc = -1;
				continue;
			}
			k = pos++;
		}
		if (L->given[k]) {
			dsl_error(e->ctx, a->loc, "parameter '%s' given twice", L->sp->p[k].name);
			rc = -1;
			continue;
		}
		L->given[k] = true;
		L->v[k] = v;
	}
	return rc;
}

/* Typed parameter access; each reports at the argument. */
static int p_int(layer_call *L, const char *name, int64_t dflt, int64_t lo, int64_t hi, int64_t *out)
{
	int k = param_index(L->sp, name);
	if (k < 0 || !L->given[k]) {
		*out = dflt;
		return 0;
	}
	val *v = &L->v[k];
	if (v->k == V_SYM) {
		undefined(L->e, L->f, v);
		return -1;
	}
	int64_t x;
	if (v->k == V_INT)
		x = v->i;
	else if (v->k == V_FLOAT && v->f == floor(v->f) && fabs(v->f) < 9e15)
		x = (int64_t)v->f;
	else {
		dsl_error(L->e->ctx, v->loc, "'%s' must be an integer, not %s", name, vkind_name(v->k));
		return -1;
	}
	if (x < lo || x > hi) {
		if (hi == INT64_MAX)
			dsl_error(L->e->ctx, v->loc, "'%s' must be at least %lld, not %lld", name, (long long)lo,
			          (long long)x);
		else
			dsl_error(L->e->ctx, v->loc, "'%s' must be between %lld and %lld, not %lld", name,
			          (long long)lo, (long long)hi, (long long)x);
		return -1;
	}
	*out = x;
	return 0;
}

static bool p_given(const layer_call *L, const char *name)
{
	int k = param_index(L->sp, name);
	return k >= 0 && L->given[k];
}

static dsl_loc p_loc(const layer_call *L, const char *name)
{
	int k = param_index(L->sp, name);
	return k >= 0 && L->given[k] ? L->v[k].loc : L->s->callee_loc;
}

/* An int or a list of `n` ints, each >= lo. */
static int p_ints(layer_call *L, const char *name, int n, int64_t dflt, int64_t lo, int64_t *out)
{
	int k = param_index(L->sp, name);
	for (int j = 0; j < n; j++)
		out[j] = dflt;
	if (k < 0 || !L->given[k])
		return 0;
	val *v = &L->v[k];
	if (v->k == V_SYM) {
		undefined(L->e, L->f, v);
		return -1;
	}
	if (v->k == V_INT) {
		for (int j = 0; j < n; j++)
			out[j] = v->i;
	} else if (v->k == V_LIST && v->n == n) {
		for (int j = 0; j < n; j++) {
			if (v->items[j].k != V_INT) {
				dsl_error(L->e->ctx, v->items[j].loc, "'%s' must hold integers", name);
				return -1;
			}
			out[j] = v->items[j].i;
		}
	} else {
		dsl_error(L->e->ctx, v->loc, "'%s' must be an integer or a list of %d integers", name, n);
		return -1;
	}
	for (int j = 0; j < n; j++)
		if (out[j] < lo || out[j] > ((int64_t)1 << 30)) {
			dsl_error(L->e->ctx, v->loc, "'%s' must be between %lld and %d, not %lld", name,
			          (long long)lo, 1 << 30, (long long)out[j]);
			return -1;
		}
	return 0;
}

static int p_bool(layer_call *L, const char *name, bool dflt, bool *out)
{
	int k = param_index(L->sp, name);
	*out = dflt;
	if (k < 0 || !L->given[k])
		return 0;
	val *v = &L->v[k];
	if (v->k == V_INT && (v->i == 0 || v->i == 1)) {
		*out = v->i != 0;
		return 0;
	}
	dsl_error(L->e->ctx, v->loc, "'%s' must be true or false", name);
	return -1;
}

static int p_float(layer_call *L, const char *name, double dflt, double *out)
{
	int k = param_index(L->sp, name);
	*out = dflt;
	if (k < 0 || !L->given[k])
		return 0;
	val *v = &L->v[k];
	if (v->k == V_INT || v->k == V_FLOAT) {
		*out = v->k == V_INT ? (double)v->i : v->f;
		return 0;
	}
	if (v->k == V_SYM) {
		undefined(L->e, L->f, v);
		return -1;
	}
	dsl_error(L->e->ctx, v->loc, "'%s' must be a number, not %s", name, vkind_name(v->k));
	return -1;
}

/* A word from `choices` ("a|b|c"); index into it, dflt if not given. */
static int choose(evaluator *e, const val *v, const char *name, const char *choices, int *out)
{
	const char *w = v->k == V_SYM || v->k == V_STR ? v->s : NULL;
	char buf[128];
	snprintf(buf, sizeof buf, "%s", choices);
	cands c = {0};
	int idx = 0;
	for (char *save, *t = strtok_r(buf, "|", &save); t; t = strtok_r(NULL, "|", &save), idx++) {
		if (w && strcmp(w, t) == 0) {
			*out = idx;
			return 0;
		}
		cand_add(&c, ev_printf(e, "%s", t));
	}
	char list[160];
	snprintf(list, sizeof list, "%s", choices);
	for (char *p = list; *p; p++)
		if (*p == '|')
			*p = ',';
	if (w)
		dsl_error(e->ctx, v->loc, "'%s' must be one of %s, not '%s'%s", name, list, w,
		          did_you_mean(e, w, &c));
	else
		dsl_error(e->ctx, v->loc, "'%s' must be one of %s", name, list);
	return -1;
}

static int p_enum(layer_call *L, const char *name, const char *choices, int dflt, int *out)
{
	int k = param_index(L->sp, name);
	*out = dflt;
	if (k < 0 || !L->given[k])
		return 0;
	return choose(L->e, &L->v[k], name, choices, out);
}

/* A path parameter, or NULL. */
static int p_path(layer_call *L, const char *name, const char **out, dsl_loc *at)
{
	int k = param_index(L->sp, name);
	*out = NULL;
	if (k < 0 || !L->given[k])
		return 0;
	val *v = &L->v[k];
	*at = v->loc;
	if (v->k == V_STR) {
		*out = v->s;
		return 0;
	}
	dsl_error(L->e->ctx, v->loc, "'%s' must be a file name in quotes", name);
	return -1;
}

/* ------------------------------------------------------------ weights */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double uniform01(uint64_t *s)
{
	return (double)(splitmix64(s) >> 11) * 0x1.0p-53;
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* He: N(0, 2/fan_in) (kaiming normal, fan_in mode); Xavier: U(-a, a),
 * a = sqrt(6/(fan_in+fan_out)) (glorot uniform).  The stream depends on
 * the seed and the tensor's name only. */
static void fill_random(float *w, int64_t n, int init, uint64_t seed, const char *name, int64_t fan_in,
                        int64_t fan_out)
{
	uint64_t st = seed * 0x9e3779b97f4a7c15ULL ^ fnv1a(name);
	if (init == 1) {
		double a = sqrt(6.0 / (double)(fan_in + fan_out));
		for (int64_t k = 0; k < n; k++)
			w[k] = (float)((2 * uniform01(&st) - 1) * a);
		return;
	}
	double sd = sqrt(2.0 / (double)fan_in);
	for (int64_t k = 0; k < n; k += 2) {
		double u1 = 1.0 - uniform01(&st), u2 = uniform01(&st);
		double r = sqrt(-2.0 * log(u1));
		w[k] = (float)(sd * r * cos(2 * M_PI * u2));
		if (k + 1 < n)
			w[k + 1] = (float)(sd * r * sin(2 * M_PI * u2));
	}
}

typedef enum { FILL_RANDOM, FILL_ZERO, FILL_ONE } fill_kind;

static char *resolve_path(evaluator *e, const char *p)
{
	if (p[0] == '/' || !e->base_dir || !e->base_dir[0])
		return ev_printf(e, "%s", p);
	return ev_printf(e, "%s/%s", e->base_dir, p);
}

/* First message of a capture sink, without its "LOC: error: " head. */
static const char *first_message(evaluator *e, const diag_sink *cap)
{
	/* out of memory: the cause, whatever was said before it */
	if (!cap->buf || strstr(cap->buf, ": error: out of memory"))
		return cap->nerr ? "out of memory" : "unknown error";
	const char *m = strstr(cap->buf, ": error: ");
	m = m ? m + 9 : cap->buf;
	size_t n = strcspn(m, "\n");
	return ev_printf(e, "%.*s", (int)n, m);
}

/* A parameter tensor NAME.suffix of the given shape: from the layer's
 * .npy file if given, else its own init, else the model's weights file,
 * else the model's init (FILL_RANDOM) or zeros/ones. */
static ir_value *make_param(layer_call *L, const char *suffix, int rank, const int64_t *dims,
                            fill_kind fill, int64_t fan_in, int64_t fan_out, const char *npy_param)
{
	evaluator *e = L->e;
	ir_shape sh = ir_shape_make(rank, dims);
	char sbuf[128], gbuf[128];
	int64_t numel = ir_shape_numel(&sh);
	const char *tname = ev_printf(e, "%s.%s", L->name, suffix);
	if (numel < 0 || numel * 4 > MAX_WEIGHT_BYTES - e->weight_bytes) {
		dsl_error(e->ctx, L->s->callee_loc, "layer '%s': weights %s are too large", L->name,
		          ir_shape_str(&sh, sbuf, sizeof sbuf));
		return NULL;
	}
	e->weight_bytes += numel * 4;
	const char *path = NULL;
	dsl_loc at = L->s->callee_loc;
	if (npy_param && p_path(L, npy_param, &path, &at))
		return NULL;
	float *data = NULL;
	ir_tensor t = {0};
	if (path) {
		diag_sink cap;
		diag_sink_init_capture(&cap);
		int rc = fe_npy_load(resolve_path(e, path), &t, &cap);
		if (rc) {
			dsl_error(e->ctx, at, "layer '%s': cannot load '%s': %s", L->name, path, first_message(e, &cap));
			diag_sink_fini(&cap);
			return NULL;
		}
		diag_sink_fini(&cap);
		if (ir_graph_add_dep(e->g, resolve_path(e, path))) {
			dsl_error(e->ctx, at, "out of memory");
			ir_tensor_free(&t);
			return NULL;
		}
		if (t.dt != IR_DT_F32 || !ir_shape_eq(&t.shape, &sh)) {
			dsl_error(e->ctx, at, "layer '%s': '%s' holds %s%s; the layer needs f32%s", L->name, path,
			          ir_dtype_name(t.dt), ir_shape_str(&t.shape, gbuf, sizeof gbuf),
			          ir_shape_str(&sh, sbuf, sizeof sbuf));
			ir_tensor_free(&t);
			return NULL;
		}
		data = t.data;
	} else if (e->wg && !L->own_init) {
		ir_value *w = ir_graph_find_value(e->wg, tname);
		if (!w || w->kind != IR_VAL_CONST || !w->data) {
			dsl_error(e->ctx, L->s->callee_loc, "layer '%s': '%s' has no tensor '%s'", L->name, e->wname,
			          tname);
			return NULL;
		}
		if (w->dt != IR_DT_F32 || !ir_shape_eq(&w->shape, &sh)) {
			dsl_error(e->ctx, L->s->callee_loc, "layer '%s': '%s' in '%s' is %s%s; the layer needs f32%s",
			          L->name, tname, e->wname, ir_dtype_name(w->dt),
			          ir_shape_str(&w->shape, gbuf, sizeof gbuf), ir_shape_str(&sh, sbuf, sizeof sbuf));
			return NULL;
		}
		data = w->data; /* copied by add_const */
	} else {
		data = malloc((size_t)(numel ? numel : 1) * sizeof(float));
		if (!data) {
			dsl_nomem(e->ctx);
			return NULL;
		}
		for (int64_t k = 0; k < numel; k++)
			data[k] = fill == FILL_ONE ? 1.0f : 0.0f;
		if (fill == FILL_RANDOM)
			fill_random(data, numel, L->init, L->seed, tname, fan_in, fan_out);
		t.data = data;
	}
	ir_value *v = ir_graph_add_const(e->g, ir_graph_unique_name(e->g, tname), IR_DT_F32, &sh, data);
	free(t.data);
	if (!v)
		dsl_nomem(e->ctx);
	return v;
}

static ir_value *scalar_const(layer_call *L, const char *suffix, float x)
{
	ir_shape sh = ir_shape_make(0, NULL);
	const char *nm = ir_graph_unique_name(L->e->g, ev_printf(L->e, "%s.%s", L->name, suffix));
	return ir_graph_add_const(L->e->g, nm, IR_DT_F32, &sh, &x);
}

/* ------------------------------------------------------------ building */

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static bool name_taken(evaluator *e, const char *name)
{
	if (ir_graph_find_value(e->g, name))
		return true;
	uint64_t h = name_hash(name);
	for (prefix_list *p = e->prefixes; p; p = p->next)
		if (p->hash == h && strcmp(p->name, name) == 0)
			return true;
	return false;
}

/* The full name of a layer or block call: prefix + "-> name", or an
 * automatic "<stem><k>" unique in the model.  NULL if "-> name" is taken. */
static const char *layer_name(evaluator *e, frame *f, const dsl_stmt *s, const char *stem)
{
	size_t plen = f->prefix ? strlen(f->prefix) : 0;
	if (plen + (s->as ? strlen(s->as) : strlen(stem) + 12) > MAX_NAME) {
		dsl_error(e->ctx, s->as ? s->as_loc : s->callee_loc,
		          "a layer's full name would be longer than %d characters", MAX_NAME);
		e->stop = true;
		return NULL;
	}
	if (s->as) {
		const char *n = ev_printf(e, "%s%s", f->prefix, s->as);
		if (e->ctx->oom)
			return NULL;
		if (name_taken(e, n)) {
			dsl_error(e->ctx, s->as_loc, "the name '%s' is already used", n);
			return NULL;
		}
		return n;
	}
	counter *c = f->counters;
	while (c && strcmp(c->base, stem) != 0)
		c = c->next;
	if (!c) {
		if (!(c = ev_alloc(e, sizeof *c)))
			return NULL;
		c->base = stem;
		c->next = f->counters;
		f->counters = c;
	}
	bool digit = isdigit((unsigned char)stem[strlen(stem) - 1]);
	for (;;) {
		const char *n = ev_printf(e, "%s%s%s%d", f->prefix, stem, digit ? "_" : "", ++c->n);
		if (e->ctx->oom)
			return NULL;
		if (!name_taken(e, n))
			return n;
	}
}

static ir_node *new_node(layer_call *L, ir_op op, int nin, ir_value **in)
{
	evaluator *e = L->e;
	if (e->g->nnodes >= MAX_NODES) {
		dsl_error(e->ctx, L->s->callee_loc, "the model has more than %d layers", MAX_NODES);
		e->stop = true;
		return NULL;
	}
	ir_value *out = ir_graph_add_value(e->g, ir_graph_unique_name(e->g, L->name), IR_DT_UNDEF, NULL);
	if (!out) {
		dsl_nomem(e->ctx);
		return NULL;
	}
	ir_node *n = ir_graph_add_node(e->g, op, L->name, nin, in, 1, &out);
	if (!n) {
		dsl_nomem(e->ctx);
		return NULL;
	}
	n->src_op = L->sp->name;
	return n;
}

/* Infer n's output shape now; an error is reported at the layer. */
static ir_value *finish(layer_call *L, ir_node *n)
{
	evaluator *e = L->e;
	diag_sink cap;
	diag_sink_init_capture(&cap);
	int rc = ir_infer_node(e->g, n, &cap);
	if (ir_graph_oom(e->g) || (cap.nerr && !cap.buf)) {
		diag_sink_fini(&cap);
		dsl_nomem(e->ctx);
		return NULL;
	}
	if (rc == 0 && n->out[0]->shape.rank < 0) {
		rc = -1;
		diag_error(&cap, NULL, "cannot infer the output shape");
	}
	if (rc)
		dsl_error(e->ctx, L->s->callee_loc, "%s: %s", L->sp->name, first_message(e, &cap));
	diag_sink_fini(&cap);
	return rc ? NULL : n->out[0];
}

static int set_hint(layer_call *L, ir_node *n)
{
	int64_t bits;
	int gran;
	if (p_int(L, "bits", L->e->bits, 1, 8, &bits) ||
	    p_enum(L, "gran", "per_tensor|per_channel", -1, &gran))
		return -1;
	n->qhint.bits = (int)bits;
	n->qhint.gran = gran < 0 ? L->e->gran : gran == 0 ? IR_QGRAN_PER_TENSOR : IR_QGRAN_PER_CHANNEL;
	return 0;
}

static char *shape_text(evaluator *e, const ir_value *v)
{
	char b[128];
	return ev_printf(e, "%s%s", ir_dtype_name(v->dt), ir_shape_str(&v->shape, b, sizeof b));
}

/* x must have rank r and a known channel dim 1. */
static int need_input(layer_call *L, ir_value *x, int rank, const char *form)
{
	if (x->shape.rank != rank) {
		dsl_error(L->e->ctx, L->s->callee_loc, "%s expects a %d-D input %s, got '%s' %s", L->sp->name,
		          rank, form, x->name, shape_text(L->e, x));
		return -1;
	}
	if (x->shape.d[1] <= 0) {
		dsl_error(L->e->ctx, L->s->callee_loc, "%s needs a known size of dimension 1 of '%s'",
		          L->sp->name, x->name);
		return -1;
	}
	return 0;
}

/* pad: int, [h, w], [top, left, bottom, right] or same; ONNX order. */
static int get_pads(layer_call *L, const int64_t *in_hw, const int64_t *k, const int64_t *s,
                    const int64_t *dil, int64_t *pads)
{
	int idx = param_index(L->sp, "pad");
	for (int j = 0; j < 4; j++)
		pads[j] = 0;
	if (idx < 0 || !L->given[idx])
		return 0;
	val *v = &L->v[idx];
	if (v->k == V_SYM && strcmp(v->s, "same") == 0) {
		for (int j = 0; j < 2; j++) {
			if (in_hw[j] <= 0) {
				dsl_error(L->e->ctx, v->loc, "pad=same needs known input sizes");
				return -1;
			}
			int64_t o = (in_hw[j] + s[j] - 1) / s[j];
			int64_t need = (o - 1) * s[j] + (k[j] - 1) * dil[j] + 1 - in_hw[j];
			if (need < 0)
				need = 0;
			pads[j] = need / 2; /* SAME_UPPER: the odd pixel goes at the end */
			pads[j + 2] = need - need / 2;
		}
		return 0;
	}
	if (v->k == V_SYM) {
		undefined(L->e, L->f, v);
		return -1;
	}
	int n = v->k == V_LIST ? v->n : 1;
	if (!(v->k == V_INT || (v->k == V_LIST && (n == 2 || n == 4)))) {
		dsl_error(L->e->ctx, v->loc, "'pad' must be an integer, [h, w], [top, left, bottom, right] or same");
		return -1;
	}
	int64_t p[4];
	for (int j = 0; j < n; j++) {
		const val *it = v->k == V_LIST ? &v->items[j] : v;
		if (it->k != V_INT || it->i < 0 || it->i > (1 << 20)) {
			dsl_error(L->e->ctx, it->loc, "'pad' must hold integers between 0 and %d", 1 << 20);
			return -1;
		}
		p[j] = it->i;
	}
	if (n == 1)
		pads[0] = pads[1] = pads[2] = pads[3] = p[0];
	else if (n == 2)
		pads[0] = pads[2] = p[0], pads[1] = pads[3] = p[1];
	else
		for (int j = 0; j < 4; j++)
			pads[j] = p[j];
	return 0;
}

static ir_value *build_conv(layer_call *L, ir_value *x)
{
	evaluator *e = L->e;
	if (need_input(L, x, 4, "[N, C, H, W]"))
		return NULL;
	int64_t cin = x->shape.d[1], out, groups, mult, k[2], s[2], dil[2], pads[4];
	bool dw = L->sp->k == L_DWCONV;
	if (!dw && p_bool(L, "depthwise", false, &dw))
		return NULL;
	if (p_ints(L, "kernel", 2, 0, 1, k) || p_ints(L, "stride", 2, 1, 1, s) ||
	    p_ints(L, "dilation", 2, 1, 1, dil) || p_int(L, "multiplier", 1, 1, 1 << 16, &mult))
		return NULL;
	if (!p_given(L, "kernel")) {
		dsl_error(e->ctx, L->s->callee_loc, "%s needs 'kernel'", L->sp->name);
		return NULL;
	}
	if (dw) {
		if (p_int(L, "out", cin * mult, 1, 1 << 24, &out))
			return NULL;
		groups = cin;
		if (p_given(L, "groups")) {
			dsl_error(e->ctx, p_loc(L, "groups"), "'groups' and 'depthwise' do not go together");
			return NULL;
		}
	} else {
		if (!p_given(L, "out")) {
			dsl_error(e->ctx, L->s->callee_loc, "%s needs 'out' (the number of output channels)",
			          L->sp->name);
			return NULL;
		}
		if (p_int(L, "out", 0, 1, 1 << 24, &out) || p_int(L, "groups", 1, 1, 1 << 24, &groups))
			return NULL;
	}
	if (cin % groups || out % groups) {
		dsl_error(e->ctx, p_given(L, "groups") ? p_loc(L, "groups") : L->s->callee_loc,
		          "%s: groups=%lld must divide the input channels (%lld) and the output channels (%lld)",
		          L->sp->name, (long long)groups, (long long)cin, (long long)out);
		return NULL;
	}
	int64_t hw[2] = {x->shape.d[2], x->shape.d[3]};
	if (get_pads(L, hw, k, s, dil, pads))
		return NULL;
	/* bias: true/false or a .npy file */
	bool has_bias = true;
	int bi = param_index(L->sp, "bias");
	const char *bias_npy = NULL;
	if (L->given[bi]) {
		if (L->v[bi].k == V_STR)
			bias_npy = "bias";
		else if (p_bool(L, "bias", true, &has_bias))
			return NULL;
	}
	int64_t wd[4] = {out, cin / groups, k[0], k[1]};
	int64_t rf = k[0] * k[1];
	ir_value *w = make_param(L, "weight", 4, wd, FILL_RANDOM, cin / groups * rf, out / groups * rf, "weight");
	if (!w)
		return NULL;
	ir_value *b = NULL;
	if (has_bias && !(b = make_param(L, "bias", 1, &out, FILL_ZERO, 0, 0, bias_npy)))
		return NULL;
	ir_value *in[3] = {x, w, b};
	ir_node *n = new_node(L, IR_OP_CONV, has_bias ? 3 : 2, in);
	if (!n || set_hint(L, n))
		return NULL;
	ir_node_set_ints(e->g, n, "dilations", dil, 2);
	ir_node_set_int(e->g, n, "group", groups);
	ir_node_set_ints(e->g, n, "pads", pads, 4);
	ir_node_set_ints(e->g, n, "strides", s, 2);
	return finish(L, n);
}

static ir_value *build_dense(layer_call *L, ir_value *x)
{
	if (need_input(L, x, 2, "[N, features] (add flatten first)"))
		return NULL;
	int64_t cin = x->shape.d[1], out;
	if (!p_given(L, "out")) {
		dsl_error(L->e->ctx, L->s->callee_loc, "dense needs 'out' (the number of output features)");
		return NULL;
	}
	if (p_int(L, "out", 0, 1, 1 << 24, &out))
		return NULL;
	bool has_bias = true;
	int bi = param_index(L->sp, "bias");
	const char *bias_npy = NULL;
	if (L->given[bi]) {
		if (L->v[bi].k == V_STR)
			bias_npy = "bias";
		else if (p_bool(L, "bias", true, &has_bias))
			return NULL;
	}
	int64_t wd[2] = {out, cin};
	ir_value *w = make_param(L, "weight", 2, wd, FILL_RANDOM, cin, out, "weight");
	if (!w)
		return NULL;
	ir_value *b = NULL;
	if (has_bias && !(b = make_param(L, "bias", 1, &out, FILL_ZERO, 0, 0, bias_npy)))
		return NULL;
	ir_value *in[3] = {x, w, b};
	ir_node *n = new_node(L, IR_OP_GEMM, has_bias ? 3 : 2, in);
	if (!n || set_hint(L, n))
		return NULL;
	ir_node_set_float(L->e->g, n, "alpha", 1.0f);
	ir_node_set_float(L->e->g, n, "beta", 1.0f);
	ir_node_set_int(L->e->g, n, "trans_b", 1);
	return finish(L, n);
}

static ir_value *build_bn(layer_call *L, ir_value *x)
{
	if (x->shape.rank < 2 || x->shape.d[1] <= 0) {
		dsl_error(L->e->ctx, L->s->callee_loc, "batchnorm expects an input [N, C, ...], got '%s' %s",
		          x->name, shape_text(L->e, x));
		return NULL;
	}
	double eps;
	if (p_float(L, "eps", 1e-5, &eps))
		return NULL;
	if (!(eps > 0)) {
		dsl_error(L->e->ctx, p_loc(L, "eps"), "'eps' must be positive");
		return NULL;
	}
	int64_t c = x->shape.d[1];
	ir_value *in[5] = {x};
	static const char *const suffix[4] = {"weight", "bias", "running_mean", "running_var"};
	static const char *const npy[4] = {"weight", "bias", "mean", "var"};
	static const fill_kind fill[4] = {FILL_ONE, FILL_ZERO, FILL_ZERO, FILL_ONE};
	for (int k = 0; k < 4; k++)
		if (!(in[k + 1] = make_param(L, suffix[k], 1, &c, fill[k], 0, 0, npy[k])))
			return NULL;
	ir_node *n = new_node(L, IR_OP_BATCHNORM, 5, in);
	if (!n)
		return NULL;
	ir_node_set_float(L->e->g, n, "epsilon", (float)eps);
	return finish(L, n);
}

static ir_value *build_pool(layer_call *L, ir_value *x)
{
	evaluator *e = L->e;
	if (need_input(L, x, 4, "[N, C, H, W]"))
		return NULL;
	int64_t k[2], s[2], dil[2] = {1, 1}, pads[4];
	bool ceil_mode, count_pad;
	if (!p_given(L, "kernel")) {
		dsl_error(e->ctx, L->s->callee_loc, "%s needs 'kernel'", L->sp->name);
		return NULL;
	}
	if (p_ints(L, "kernel", 2, 1, 1, k) || p_ints(L, "stride", 2, 0, 1, s) ||
	    p_bool(L, "ceil", false, &ceil_mode) || p_bool(L, "count_pad", false, &count_pad))
		return NULL;
	if (!p_given(L, "stride"))
		s[0] = k[0], s[1] = k[1];
	int64_t hw[2] = {x->shape.d[2], x->shape.d[3]};
	if (get_pads(L, hw, k, s, dil, pads))
		return NULL;
	bool maxp = L->sp->k == L_MAXPOOL;
	ir_node *n = new_node(L, maxp ? IR_OP_MAX_POOL : IR_OP_AVG_POOL, 1, &x);
	if (!n)
		return NULL;
	ir_node_set_int(e->g, n, "ceil_mode", ceil_mode);
	if (!maxp && count_pad)
		ir_node_set_int(e->g, n, "count_include_pad", 1);
	ir_node_set_ints(e->g, n, "kernel", k, 2);
	ir_node_set_ints(e->g, n, "pads", pads, 4);
	ir_node_set_ints(e->g, n, "strides", s, 2);
	return finish(L, n);
}

static ir_value *build_simple(layer_call *L, ir_op op, int nin, ir_value **in)
{
	ir_node *n = new_node(L, op, nin, in);
	return n ? finish(L, n) : NULL;
}

static ir_value *build(layer_call *L)
{
	evaluator *e = L->e;
	ir_value *x = L->in[0];
	int64_t axis;
	switch (L->sp->k) {
	case L_CONV:
	case L_DWCONV: return build_conv(L, x);
	case L_DENSE: return build_dense(L, x);
	case L_BN: return build_bn(L, x);
	case L_RELU: return build_simple(L, IR_OP_RELU, 1, &x);
	case L_SIGMOID: return build_simple(L, IR_OP_SIGMOID, 1, &x);
	case L_TANH: return build_simple(L, IR_OP_TANH, 1, &x);
	case L_HSWISH: return build_simple(L, IR_OP_HARD_SWISH, 1, &x);
	case L_GAP:
		if (need_input(L, x, 4, "[N, C, H, W]"))
			return NULL;
		return build_simple(L, IR_OP_GLOBAL_AVG_POOL, 1, &x);
	case L_RELU6: {
		ir_value *in[3] = {x, scalar_const(L, "min", 0.0f), scalar_const(L, "max", 6.0f)};
		return build_simple(L, IR_OP_CLIP, 3, in);
	}
	case L_MAXPOOL:
	case L_AVGPOOL: return build_pool(L, x);
	case L_ADD:
	case L_MUL:
		return build_simple(L, L->sp->k == L_ADD ? IR_OP_ADD : IR_OP_MUL, 2, L->in);
	case L_CONCAT: {
		if (p_int(L, "axis", 1, -IR_MAX_RANK, IR_MAX_RANK - 1, &axis))
			return NULL;
		ir_node *n = new_node(L, IR_OP_CONCAT, L->nin, L->in);
		if (!n)
			return NULL;
		ir_node_set_int(e->g, n, "axis", axis);
		return finish(L, n);
	}
	case L_FLATTEN:
	case L_SOFTMAX: {
		bool fl = L->sp->k == L_FLATTEN;
		if (p_int(L, "axis", fl ? 1 : -1, -IR_MAX_RANK, IR_MAX_RANK, &axis))
			return NULL;
		ir_node *n = new_node(L, fl ? IR_OP_FLATTEN : IR_OP_SOFTMAX, 1, &x);
		if (!n)
			return NULL;
		ir_node_set_int(e->g, n, "axis", axis);
		return finish(L, n);
	}
	case L_RESHAPE: {
		int k = param_index(L->sp, "shape");
		val *v = &L->v[k];
		if (!L->given[k] || v->k != V_LIST || v->n < 1 || v->n > IR_MAX_RANK) {
			dsl_error(e->ctx, L->given[k] ? v->loc : L->s->callee_loc,
			          "reshape needs 'shape', a list of 1 to %d integers (0 copies a dimension, "
			          "-1 is inferred)", IR_MAX_RANK);
			return NULL;
		}
		int64_t d[IR_MAX_RANK];
		for (int j = 0; j < v->n; j++) {
			if (v->items[j].k != V_INT || v->items[j].i < -1) {
				dsl_error(e->ctx, v->items[j].loc, "'shape' must hold integers >= -1");
				return NULL;
			}
			d[j] = v->items[j].i;
		}
		int64_t nd = v->n;
		ir_shape sh = ir_shape_make(1, &nd);
		const char *nm = ir_graph_unique_name(e->g, ev_printf(e, "%s.shape", L->name));
		ir_value *in[2] = {x, ir_graph_add_const(e->g, nm, IR_DT_I64, &sh, d)};
		return build_simple(L, IR_OP_RESHAPE, 2, in);
	}
	case L_DROPOUT: {
		double p;
		if (p_float(L, "p", 0.5, &p))
			return NULL;
		if (!(p >= 0 && p < 1)) {
			dsl_error(e->ctx, p_loc(L, "p"), "'p' must be in [0, 1)");
			return NULL;
		}
		ir_value *in[2] = {x, scalar_const(L, "ratio", (float)p)};
		return build_simple(L, IR_OP_DROPOUT, 2, in);
	}
	}
	return NULL;
}

/* ------------------------------------------------------------ statements */

static void exec_stmts(evaluator *e, frame *f, const dsl_stmts *body);

/* The input of a layer or block with no tensor argument. */
static ir_value *current(evaluator *e, frame *f, const dsl_stmt *s)
{
	if (f->cur)
		return f->cur;
	if (!f->cur_bad)
		dsl_error(e->ctx, s->callee_loc, "no input tensor here: declare an 'input' first");
	return NULL;
}

static ir_value *apply_layer(evaluator *e, frame *f, const dsl_stmt *s, const lspec *sp)
{
	layer_call L = {.e = e, .f = f, .s = s, .sp = sp, .init = e->init, .seed = e->seed};
	if (bind_args(&L))
		return NULL;
	if (L.nin == 0 || ((sp->k == L_ADD || sp->k == L_MUL || sp->k == L_CONCAT) && L.nin == 1)) {
		ir_value *c = current(e, f, s);
		if (!c)
			return NULL;
		memmove(L.in + 1, L.in, sizeof L.in[0] * (size_t)L.nin);
		L.in[0] = c;
		L.nin++;
	}
	if ((sp->k == L_ADD || sp->k == L_MUL) && L.nin != 2) {
		dsl_error(e->ctx, s->callee_loc, "%s needs a second tensor: %s(x, y) or %s(y)", sp->name,
		          sp->name, sp->name);
		return NULL;
	}
	int64_t seed;
	int init;
	if (p_enum(&L, "init", "he|xavier", e->init, &init) ||
	    p_int(&L, "seed", (int64_t)e->seed, 0, INT64_MAX, &seed))
		return NULL;
	L.init = init;
	L.seed = (uint64_t)seed;
	L.own_init = p_given(&L, "init") || p_given(&L, "seed");
	if (!(L.name = layer_name(e, f, s, sp->base)))
		return NULL;
	return build(&L);
}

static ir_value *call_block(evaluator *e, frame *f, const dsl_stmt *s, const dsl_stmt *blk)
{
	if (++e->block_calls > MAX_BLOCK_CALLS) {
		dsl_error(e->ctx, s->callee_loc, "more than %d block calls build the model (is '%s' "
		          "called inside itself or a repeat?)", MAX_BLOCK_CALLS, blk->name);
		e->stop = true;
		return NULL;
	}
	if (f->depth + 1 > MAX_CALL_DEPTH) {
		dsl_error(e->ctx, s->callee_loc, "blocks nested more than %d deep (is '%s' recursive?)",
		          MAX_CALL_DEPTH, blk->name);
		e->stop = true;
		return NULL;
	}
	frame nf = {.parent = &e->global, .depth = f->depth + 1};
	ir_value *input = NULL;
	int np = blk->params->n, pos = 0, rc = 0;
	const dsl_param *byidx[64] = {0};
	val pv[64];
	bool given[64] = {0};
	if (np > 64) {
		dsl_error(e->ctx, blk->name_loc, "a block takes at most 64 parameters");
		return NULL;
	}
	int k = 0;
	for (const dsl_param *p = blk->params->head; p; p = p->next)
		byidx[k++] = p;
	bool first = true;
	for (const dsl_arg *a = s->args->head; a; a = a->next) {
		val v = eval(e, f, a->val);
		if (v.k == V_NONE) {
			rc = -1;
			continue;
		}
		if (first && !a->key && v.k == V_TENSOR) {
			first = false;
			input = v.t;
			continue;
		}
		first = false;
		int j = -1;
		if (a->key) {
			cands c = {0};
			for (int q = 0; q < np; q++) {
				if (strcmp(byidx[q]->name, a->key) == 0)
					j = q;
				cand_add(&c, byidx[q]->name);
			}
			if (j < 0) {
				dsl_error(e->ctx, a->loc, "block '%s' has no parameter '%s'%s", blk->name, a->key,
				          did_you_mean(e, a->key, &c));
				rc = -1;
				continue;
			}
		} else if (pos >= np && v.k == V_SYM) {
			undefined(e, f, &v);
			rc = -1;
			continue;
		} else if (pos >= np) {
			dsl_error(e->ctx, a->loc, "too many arguments for block '%s' (it takes %d)", blk->name, np);
			rc = -1;
			continue;
		} else {
			j = pos++;
		}
		if (given[j]) {
			dsl_error(e->ctx, a->loc, "parameter '%s' given twice", byidx[j]->name);
			rc = -1;
			continue;
		}
		given[j] = true;
		pv[j] = v;
	}
	for (int j = 0; j < np && rc == 0; j++) {
		if (!given[j]) {
			if (!byidx[j]->dflt) {
				dsl_error(e->ctx, s->callee_loc, "block '%s' needs its parameter '%s'", blk->name,
				          byidx[j]->name);
				rc = -1;
				break;
			}
			pv[j] = eval(e, &e->global, byidx[j]->dflt);
			if (pv[j].k == V_NONE) {
				rc = -1;
				break;
			}
		}
		bind(e, &nf, byidx[j]->name, pv[j], false);
	}
	if (rc)
		return NULL;
	if (!input && !(input = current(e, f, s)))
		return NULL;
	const char *name = layer_name(e, f, s, blk->name);
	if (!name)
		return NULL;
	prefix_list *pl = ev_alloc(e, sizeof *pl);
	if (!pl)
		return NULL;
	pl->name = name;
	pl->hash = name_hash(name);
	pl->next = e->prefixes;
	e->prefixes = pl;
	nf.prefix = ev_printf(e, "%s.", name);
	nf.cur = input;
	exec_stmts(e, &nf, blk->body);
	return nf.cur_bad ? NULL : nf.cur;
}

static bool is_reserved_name(evaluator *e, const char *name)
{
	return find_layer(name) || find_block(e, name);
}

static void exec_layer(evaluator *e, frame *f, const dsl_stmt *s)
{
	ir_value *r = NULL;
	bool ok = false;
	binding *b = s->parens ? NULL : lookup(f, s->callee);
	const lspec *sp = find_layer(s->callee);
	const dsl_stmt *blk = find_block(e, s->callee);
	if (b && !sp && !blk) {
		/* a bare name: switch to (and maybe rename) a tensor */
		if (b->v.k != V_TENSOR) {
			if (b->v.k != V_NONE)
				dsl_error(e->ctx, s->callee_loc, "'%s' is %s, not a tensor or a layer", s->callee,
				          vkind_name(b->v.k));
			goto fail;
		}
		if (s->as) {
			dsl_error(e->ctx, s->as_loc, "'->' names a layer; '%s' is a tensor", s->callee);
			goto fail;
		}
		r = b->v.t;
	} else if (blk) {
		r = call_block(e, f, s, blk);
	} else if (sp) {
		if (!s->parens && sp->p[0].name && (sp->k == L_CONV || sp->k == L_DENSE || sp->k == L_DWCONV ||
		                                    sp->k == L_MAXPOOL || sp->k == L_AVGPOOL || sp->k == L_RESHAPE)) {
			dsl_error(e->ctx, s->callee_loc, "%s needs arguments", sp->name);
			goto fail;
		}
		r = apply_layer(e, f, s, sp);
	} else {
		cands c = {0};
		for (int k = 0; k < NLAYERS; k++)
			cand_add(&c, layers[k].name);
		for (int k = 0; k < e->nblocks; k++)
			cand_add(&c, e->blocks[k]->name);
		if (!s->parens)
			visible_names(f, &c);
		dsl_error(e->ctx, s->callee_loc, "unknown layer '%s'%s", s->callee, did_you_mean(e, s->callee, &c));
	}
	ok = r != NULL;
fail:
	if (s->name) {
		binding *t = lookup(f, s->name);
		if (t && t->is_const) {
			dsl_error(e->ctx, s->name_loc, "cannot assign to the constant '%s'", s->name);
			ok = false;
		} else if (is_reserved_name(e, s->name)) {
			dsl_error(e->ctx, s->name_loc, "'%s' is the name of a %s", s->name,
			          find_layer(s->name) ? "layer" : "block");
			ok = false;
		}
		bind(e, f, s->name, ok ? (val){.k = V_TENSOR, .t = r} : (val){.k = V_NONE}, false);
	}
	f->cur = ok ? r : NULL;
	f->cur_bad = !ok;
}

static bool top_only(evaluator *e, frame *f, const dsl_stmt *s, const char *what)
{
	if (f != &e->global || e->in_repeat) {
		dsl_error(e->ctx, s->loc, "'%s' is only allowed at the top level", what);
		return false;
	}
	return true;
}

static bool defined_already(evaluator *e, frame *f, const char *name, dsl_loc at)
{
	if (lookup_in(f, name) || is_reserved_name(e, name)) {
		dsl_error(e->ctx, at, "'%s' is already defined", name);
		return true;
	}
	return false;
}

static void exec_model(evaluator *e, const dsl_stmt *s)
{
	if (e->seen_model || e->seen_body) {
		dsl_error(e->ctx, s->loc, e->seen_model ? "'model' given twice"
		                                        : "'model' must come before inputs and layers");
		return;
	}
	e->seen_model = true;
	e->g->name = ir_arena_strdup(e->g->arena, s->name);
	static const lspec model_spec = {"model", 0, "", 0,
	                                 {{"seed", PK_INT}, {"init", PK_ENUM}, {"bits", PK_INT}, {"gran", PK_ENUM}}};
	layer_call L = {.e = e, .f = &e->global, .s = s, .sp = &model_spec};
	if (bind_args(&L))
		return;
	if (L.nin) {
		dsl_error(e->ctx, s->name_loc, "'model' takes no tensors");
		return;
	}
	int64_t seed, bits;
	int init, gran;
	if (p_int(&L, "seed", 0, 0, INT64_MAX, &seed) || p_enum(&L, "init", "he|xavier", 0, &init) ||
	    p_int(&L, "bits", 0, 1, 8, &bits) || p_enum(&L, "gran", "per_tensor|per_channel", -1, &gran))
		return;
	e->seed = (uint64_t)seed;
	e->init = init;
	e->bits = (int)bits;
	e->gran = gran < 0 ? IR_QGRAN_DEFAULT : gran == 0 ? IR_QGRAN_PER_TENSOR : IR_QGRAN_PER_CHANNEL;
}

static void exec_weights(evaluator *e, const dsl_stmt *s)
{
	if (e->seen_weights || e->seen_body) {
		dsl_error(e->ctx, s->loc, e->seen_weights ? "'weights' given twice"
		                                          : "'weights' must come before inputs and layers");
		return;
	}
	e->seen_weights = true;
	diag_sink cap;
	diag_sink_init_capture(&cap);
	const char *wpath = resolve_path(e, s->path);
	e->wg = fe_onnx_load(wpath, &cap);
	if (!e->wg)
		dsl_error(e->ctx, s->name_loc, "cannot load weights from '%s': %s", s->path, first_message(e, &cap));
	else if (ir_graph_add_dep(e->g, wpath) || ir_graph_copy_deps(e->g, e->wg))
		dsl_error(e->ctx, s->name_loc, "out of memory");
	e->wname = s->path;
	diag_sink_fini(&cap);
}

static void exec_input(evaluator *e, frame *f, const dsl_stmt *s)
{
	e->seen_body = true;
	if (defined_already(e, f, s->name, s->name_loc))
		return;
	ir_dtype dt = ir_dtype_from_name(s->dtype);
	if (dt == IR_DT_UNDEF) {
		cands c = {0};
		for (int k = 1; k < IR_DT__COUNT; k++)
			cand_add(&c, ir_dtype_name((ir_dtype)k));
		dsl_error(e->ctx, s->dtype_loc, "unknown element type '%s'%s", s->dtype, did_you_mean(e, s->dtype, &c));
		return;
	}
	if (s->dims->n > IR_MAX_RANK) {
		dsl_error(e->ctx, s->dtype_loc, "at most %d dimensions", IR_MAX_RANK);
		return;
	}
	ir_shape sh = {.rank = s->dims->n};
	int k = 0;
	for (const dsl_expr *x = s->dims->head; x; x = x->next, k++) {
		val v = eval(e, f, x);
		if (v.k == V_NONE)
			return;
		if (v.k == V_SYM && k == 0) {
			sh.d[0] = IR_DIM_SYM;
			continue;
		}
		if (v.k == V_SYM) {
			cands c = {0};
			visible_names(f, &c);
			dsl_error(e->ctx, v.loc, "undefined name '%s' (only the first dimension may be symbolic)%s",
			          v.s, did_you_mean(e, v.s, &c));
			return;
		}
		if (v.k != V_INT || v.i < 1 || v.i > ((int64_t)1 << 31)) {
			dsl_error(e->ctx, v.loc, "a dimension must be a positive integer");
			return;
		}
		sh.d[k] = v.i;
	}
	ir_shape known = sh;
	if (sh.rank > 0 && sh.d[0] == IR_DIM_SYM)
		known.d[0] = 1;
	if (ir_shape_numel(&known) < 0) {
		dsl_error(e->ctx, s->name_loc, "input '%s' is too large", s->name);
		return;
	}
	ir_value *v = ir_graph_add_value(e->g, s->name, dt, &sh);
	if (!v) {
		dsl_error(e->ctx, s->name_loc, "'%s' is already defined", s->name);
		return;
	}
	ir_graph_add_input(e->g, v);
	bind(e, f, s->name, (val){.k = V_TENSOR, .t = v}, false);
	f->cur = v;
	f->cur_bad = false;
}

static void exec_output(evaluator *e, frame *f, const dsl_stmt *s)
{
	ir_value *v = NULL;
	dsl_loc at = s->name ? s->name_loc : s->loc;
	if (s->name) {
		binding *b = lookup(f, s->name);
		if (!b) {
			cands c = {0};
			visible_names(f, &c);
			dsl_error(e->ctx, at, "undefined name '%s'%s", s->name, did_you_mean(e, s->name, &c));
			return;
		}
		if (b->v.k == V_NONE)
			return;
		if (b->v.k != V_TENSOR) {
			dsl_error(e->ctx, at, "'%s' is %s, not a tensor", s->name, vkind_name(b->v.k));
			return;
		}
		v = b->v.t;
	} else {
		if (!f->cur) {
			if (!f->cur_bad)
				dsl_error(e->ctx, at, "no tensor to output");
			return;
		}
		v = f->cur;
	}
	for (int k = 0; k < e->nouts; k++)
		if (e->outs[k].v == v) {
			dsl_error(e->ctx, at, "'%s' is already an output", s->name ? s->name : v->name);
			return;
		}
	if (s->as) {
		ir_value *o = ir_graph_find_value(e->g, s->as);
		bool clash = o && o != v;
		for (int k = 0; k < e->nouts; k++)
			if (e->outs[k].as && strcmp(e->outs[k].as, s->as) == 0)
				clash = true;
		if (clash) {
			dsl_error(e->ctx, s->as_loc, "the name '%s' is already used", s->as);
			return;
		}
	}
	if (e->nouts >= 256) {
		dsl_error(e->ctx, at, "at most 256 outputs");
		return;
	}
	e->outs[e->nouts++] = (outspec){v, s->as};
}

static void exec_stmt(evaluator *e, frame *f, const dsl_stmt *s)
{
	/* Blocks calling blocks inside repeats multiply: bound the work, not
	 * only the depth and the layers that succeed. */
	if (++e->steps > MAX_STEPS) {
		dsl_error(e->ctx, s->loc, "building the model takes more than %d statements "
		          "(blocks calling blocks inside repeats?)", MAX_STEPS);
		e->stop = true;
		return;
	}
	switch (s->k) {
	case DSL_ST_MODEL:
		if (top_only(e, f, s, "model"))
			exec_model(e, s);
		break;
	case DSL_ST_WEIGHTS:
		if (top_only(e, f, s, "weights"))
			exec_weights(e, s);
		break;
	case DSL_ST_INPUT:
		if (top_only(e, f, s, "input"))
			exec_input(e, f, s);
		break;
	case DSL_ST_OUTPUT:
		if (top_only(e, f, s, "output"))
			exec_output(e, f, s);
		break;
	case DSL_ST_BLOCK: {
		if (!top_only(e, f, s, "block") || defined_already(e, f, s->name, s->name_loc))
			break;
		for (const dsl_param *p = s->params->head; p; p = p->next)
			for (const dsl_param *q = s->params->head; q != p; q = q->next)
				if (strcmp(p->name, q->name) == 0) {
					dsl_error(e->ctx, p->loc, "parameter '%s' given twice", p->name);
					return;
				}
		if (e->nblocks >= 256) {
			dsl_error(e->ctx, s->name_loc, "at most 256 blocks");
			break;
		}
		e->blocks[e->nblocks++] = (dsl_stmt *)s;
		break;
	}
	case DSL_ST_CONST: {
		if (defined_already(e, f, s->name, s->name_loc))
			break;
		val v = eval(e, f, s->value);
		if (v.k == V_SYM) {
			undefined(e, f, &v);
			v.k = V_NONE;
		} else if (v.k == V_TENSOR) {
			dsl_error(e->ctx, s->value->loc, "a constant cannot be a tensor (assign it: %s = ...)", s->name);
			v.k = V_NONE;
		}
		bind(e, f, s->name, v, true);
		break;
	}
	case DSL_ST_REPEAT: {
		val v = eval(e, f, s->value);
		if (v.k == V_NONE)
			break;
		if (v.k == V_SYM) {
			undefined(e, f, &v);
			break;
		}
		if (v.k != V_INT || v.i < 1 || v.i > MAX_REPEAT) {
			dsl_error(e->ctx, s->value->loc, "the repeat count must be an integer from 1 to %d", MAX_REPEAT);
			break;
		}
		e->in_repeat++;
		int before = e->ctx->nerr;
		for (int64_t k = 0; k < v.i && !e->stop && !e->ctx->oom; k++) {
			exec_stmts(e, f, s->body);
			if (e->ctx->nerr != before)
				break; /* the same errors again would say nothing new */
		}
		e->in_repeat--;
		break;
	}
	case DSL_ST_LAYER:
		e->seen_body = true;
		exec_layer(e, f, s);
		break;
	}
}

static void exec_stmts(evaluator *e, frame *f, const dsl_stmts *body)
{
	for (const dsl_stmt *s = body->head; s && !e->stop && !e->ctx->too_many && !e->ctx->oom;
	     s = s->next)
		exec_stmt(e, f, s);
}

/* ------------------------------------------------------------ finishing */

/* A copy of g in which outputs carry their "as" names (IR value names
 * cannot change in place). */
static ir_graph *rebuild(evaluator *e)
{
	ir_graph *g = e->g, *h = ir_graph_create(g->name);
	ir_value **map = calloc((size_t)g->nvalues + 1, sizeof *map);
	if (!h || !map) {
		free(map);
		ir_graph_destroy(h);
		return NULL;
	}
	h->src_file = g->src_file ? ir_arena_strdup(h->arena, g->src_file) : NULL;
	if (ir_graph_copy_deps(h, g))
		goto fail;
	for (int k = 0; k < g->nvalues; k++) {
		ir_value *v = g->values[k];
		const char *nm = v->name;
		for (int j = 0; j < e->nouts; j++)
			if (e->outs[j].v == v && e->outs[j].as)
				nm = e->outs[j].as;
		map[k] = v->kind == IR_VAL_CONST ? ir_graph_add_const(h, nm, v->dt, &v->shape, v->data)
		                                 : ir_graph_add_value(h, nm, v->dt, &v->shape);
		if (!map[k])
			goto fail;
	}
	for (int k = 0; k < g->ninputs; k++)
		ir_graph_add_input(h, map[g->inputs[k]->id]);
	for (int k = 0; k < g->nnodes; k++) {
		ir_node *n = g->nodes[k];
		ir_value *in[MAX_INPUTS + 4], *out[1];
		for (int j = 0; j < n->nin; j++)
			in[j] = n->in[j] ? map[n->in[j]->id] : NULL;
		out[0] = map[n->out[0]->id];
		ir_node *m = ir_graph_add_node(h, n->op, n->name, n->nin, in, 1, out);
		if (!m)
			goto fail;
		m->src_op = n->src_op;
		m->qhint = n->qhint;
		for (int j = 0; j < n->nattr; j++) {
			const ir_attr *a = &n->attrs[j];
			switch (a->kind) {
			case IR_ATTR_INT: ir_node_set_int(h, m, a->name, a->v.i); break;
			case IR_ATTR_FLOAT: ir_node_set_float(h, m, a->name, a->v.f); break;
			case IR_ATTR_INTS: ir_node_set_ints(h, m, a->name, a->v.ints, a->n); break;
			case IR_ATTR_FLOATS: ir_node_set_floats(h, m, a->name, a->v.floats, a->n); break;
			case IR_ATTR_STR: ir_node_set_str(h, m, a->name, a->v.s); break;
			}
		}
	}
	for (int k = 0; k < e->nouts; k++)
		ir_graph_add_output(h, map[e->outs[k].v->id]);
	free(map);
	return h;
fail:
	free(map);
	ir_graph_destroy(h);
	return NULL;
}

static dsl_loc end_loc(const fe_dsl_ctx *ctx)
{
	dsl_loc at = {1, 1};
	const char *ls = ctx->src;
	size_t n = ctx->len;
	if (n && ctx->src[n - 1] == '\n')
		n--;
	for (size_t k = 0; k < n; k++)
		if (ctx->src[k] == '\n') {
			at.line++;
			ls = ctx->src + k + 1;
		}
	at.col = (int)(ctx->src + n - ls) + 1;
	return at;
}

ir_graph *fe_dsl_load_buffer(const char *text, size_t len, const char *diag_name,
                             const char *base_dir, diag_sink *d)
{
	const char *file = diag_name ? diag_name : "<dsl>";
	if (len > DSL_MAX_FILE) {
		diag_error(d, file, "file too large (%zu bytes; the limit is %d)", len, DSL_MAX_FILE);
		return NULL;
	}
	fe_dsl_ctx ctx = {.file = file, .src = text ? text : "", .len = text ? len : 0, .d = d};
	ctx.arena = ir_arena_create();
	if (!ctx.arena) {
		diag_error(d, file, "out of memory");
		return NULL;
	}
	ir_graph *result = NULL;
	if (dsl_parse_text(&ctx))
		goto out;

	evaluator e = {.ctx = &ctx, .base_dir = base_dir, .global = {.prefix = ""}};
	e.g = ir_graph_create("model");
	if (!e.g) {
		diag_error(d, file, "out of memory");
		goto out;
	}
	e.g->src_file = ir_arena_strdup(e.g->arena, file);
	bind(&e, &e.global, "true", (val){.k = V_INT, .i = 1, .f = 1}, true);
	bind(&e, &e.global, "false", (val){.k = V_INT, .i = 0, .f = 0}, true);
	exec_stmts(&e, &e.global, ctx.program);
	if (ir_graph_oom(e.g) || (e.wg && ir_graph_oom(e.wg)))
		dsl_nomem(&ctx); /* (an error above may be a consequence) */
	if (ctx.nerr == 0 && e.g->ninputs == 0)
		dsl_error(&ctx, end_loc(&ctx), "the model has no 'input'");
	if (ctx.nerr == 0 && e.nouts == 0)
		dsl_error(&ctx, end_loc(&ctx), "the model has no 'output'");
	if (ctx.nerr == 0) {
		result = rebuild(&e);
		if (!result || ir_graph_oom(result)) {
			diag_error(d, file, "out of memory");
			ir_graph_destroy(result);
			result = NULL;
		} else if (ir_graph_toposort(result, d) || ir_infer_shapes(result, d)) {
			ir_graph_destroy(result);
			result = NULL;
		}
	}
	ir_graph_destroy(e.g);
	if (e.wg)
		ir_graph_destroy(e.wg);
out:
	ir_arena_destroy(ctx.arena);
	return result;
}

ir_graph *fe_dsl_load(const char *path, diag_sink *d)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		diag_error(d, NULL, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || S_ISDIR(st.st_mode)) {
		diag_error(d, NULL, "cannot read '%s': %s", path, strerror(S_ISDIR(st.st_mode) ? EISDIR : errno));
		fclose(f);
		return NULL;
	}
	if (st.st_size > DSL_MAX_FILE) {
		diag_error(d, path, "file too large (%lld bytes; the limit is %d)", (long long)st.st_size,
		           DSL_MAX_FILE);
		fclose(f);
		return NULL;
	}
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *buf = malloc(cap);
	if (!buf) {
		fclose(f);
		diag_error(d, path, "out of memory");
		return NULL;
	}
	size_t got;
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			if (cap > DSL_MAX_FILE) {
				diag_error(d, path, "file too large (the limit is %d bytes)", DSL_MAX_FILE);
				free(buf);
				fclose(f);
				return NULL;
			}
			char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				fclose(f);
				diag_error(d, path, "out of memory");
				return NULL;
			}
			buf = nb;
		}
	}
	bool rerr = ferror(f);
	fclose(f);
	if (rerr) {
		diag_error(d, path, "read error");
		free(buf);
		return NULL;
	}
	/* weight files are found next to the model */
	char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	const char *base = ".";
	if (slash) {
		*slash = 0;
		base = slash == dir ? "/" : dir;
	}
	ir_graph *g = fe_dsl_load_buffer(buf, n, path, base, d);
	free(dir);
	free(buf);
	return g;
}
