/* onnx_func.c: model-local functions (ModelProto.functions, IR 8 on).
 * torch.onnx.export(..., export_modules_as_functions=...), the dynamo
 * exporter of torch 2.1-2.4 and onnxscript write them: a node whose
 * domain and op_type name one of the model's functions stands for the
 * function's body.  Before translation the graph's nodes are flattened:
 * each such call is replaced by copies of the body's nodes (recursively,
 * for calls inside bodies), with
 *   - the body's formal inputs and outputs renamed to the call's actual
 *     ones (a formal input the call leaves out is "", an omitted optional
 *     input), every other value to "<call>/<value>", so that two calls of
 *     one function never share a value;
 *   - each attribute that refers to a function attribute (ref_attr_name)
 *     given the call's attribute of that name, else the function's
 *     default (attribute_proto, IR 9), else left out;
 *   - the node's ai.onnx opset the function's own opset_import, else the
 *     caller's.
 * Functions are matched on domain, name and overload (IR 10).  The
 * fields newer than the onnx.proto qgtc is built from (attribute_proto,
 * overload) are read from protobuf-c's unknown fields.  Nothing here
 * changes the unpacked model: copies point into it. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

/* Expanded nodes, all calls together: far above any real model, and a
 * bound on what nested calls can multiply into. */
#define FE_FUNC_MAX_NODES (1 << 20)
/* Calls nested deeper than this are refused (ONNX forbids recursion). */
#define FE_FUNC_MAX_DEPTH 64

/* Field numbers of the IR 9/10 additions, unknown to onnx.proto 1.13. */
enum {
	FN_ATTRIBUTE_PROTO = 11, /* FunctionProto: attributes with defaults */
	FN_OVERLOAD = 13,        /* FunctionProto.overload */
	NODE_OVERLOAD = 8,       /* NodeProto.overload */
};

typedef struct fn_info {
	const Onnx__FunctionProto *fp;
	const char *domain, *overload; /* domain "" for ai.onnx */
	Onnx__AttributeProto **defs;   /* attribute_proto, unpacked */
	size_t ndefs;
	int64_t opset;                 /* its ai.onnx opset; -1: the caller's */
	bool active;                   /* on the current call chain */
} fn_info;

typedef struct flat_ctx {
	fe_onnx_flat *fl;
	const char *file;
	diag_sink *d;
	fn_info *fn;
	size_t nfn;
	size_t ncopied; /* nodes created from bodies */
	int ncalls;     /* for names of unnamed calls */
} flat_ctx;

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* "ai.onnx" is "" */
static const char *dom_of(const char *d)
{
	return !d || strcmp(d, "ai.onnx") == 0 ? "" : d;
}

static void *fl_alloc(flat_ctx *x, size_t size)
{
	fe_onnx_flat *fl = x->fl;
	if (fl->nmem == fl->capmem) {
		size_t cap = fl->capmem ? 2 * fl->capmem : 64;
		void **m = realloc(fl->mem, cap * sizeof *m);
		if (!m)
			return NULL;
		fl->mem = m;
		fl->capmem = cap;
	}
	void *p = calloc(1, size ? size : 1);
	if (p)
		fl->mem[fl->nmem++] = p;
	return p;
}

static char *fl_cat(flat_ctx *x, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = fl_alloc(x, la + lb + 2);
	if (s) {
		memcpy(s, a, la);
		s[la] = '/';
		memcpy(s + la + 1, b, lb + 1);
	}
	return s;
}

/* The payload of a length-prefixed unknown field u (protobuf-c keeps the
 * length varint in front of it); NULL when that prefix is broken. */
static const uint8_t *payload(const ProtobufCMessageUnknownField *u, size_t *len)
{
	uint64_t n = 0;
	for (size_t i = 0; i < u->len && i < 10; i++) {
		n |= (uint64_t)(u->data[i] & 0x7f) << (7 * i);
		if (!(u->data[i] & 0x80)) {
			if (n != u->len - i - 1)
				return NULL;
			*len = (size_t)n;
			return u->data + i + 1;
		}
	}
	return NULL;
}

/* A string field number `field` among m's unknown fields; NULL if none.
 * Points into the message (not terminated: *len says how long). */
static const uint8_t *unknown_bytes(const ProtobufCMessage *m, uint32_t field, size_t *len)
{
	for (unsigned i = 0; i < m->n_unknown_fields; i++) {
		const ProtobufCMessageUnknownField *u = &m->unknown_fields[i];
		if (u->tag == field && u->wire_type == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED)
			return payload(u, len);
	}
	return NULL;
}

static bool same_str(const uint8_t *p, size_t len, const char *s)
{
	return strlen(s) == len && (len == 0 || memcmp(p, s, len) == 0);
}

static int push(flat_ctx *x, const Onnx__NodeProto *np, int origin, int64_t opset)
{
	fe_onnx_flat *fl = x->fl;
	if (fl->n == fl->cap) {
		size_t cap = fl->cap ? 2 * fl->cap : 64;
		const Onnx__NodeProto **n = realloc(fl->node, cap * sizeof *n);
		if (n)
			fl->node = n;
		int *o = n ? realloc(fl->origin, cap * sizeof *o) : NULL;
		if (o)
			fl->origin = o;
		int64_t *s = o ? realloc(fl->opset, cap * sizeof *s) : NULL;
		if (!s) {
			diag_error(x->d, x->file, "out of memory");
			return -1;
		}
		fl->opset = s;
		fl->cap = cap;
	}
	fl->node[fl->n] = np;
	fl->origin[fl->n] = origin;
	fl->opset[fl->n] = opset;
	fl->n++;
	return 0;
}

/* The function np calls, or NULL when its op is not a local function. */
static fn_info *callee(flat_ctx *x, const Onnx__NodeProto *np)
{
	const char *dom = dom_of(np->domain), *op = nz(np->op_type);
	size_t olen = 0;
	const uint8_t *ov = unknown_bytes(&np->base, NODE_OVERLOAD, &olen);
	for (size_t i = 0; i < x->nfn; i++) {
		fn_info *f = &x->fn[i];
		if (strcmp(f->domain, dom) == 0 && strcmp(nz(f->fp->name), op) == 0 &&
		    (ov ? same_str(ov, olen, f->overload) : !*f->overload))
			return f;
	}
	return NULL;
}

/* Name v of a body as the call sees it: formal inputs and outputs become
 * the call's, the rest "<prefix>/<v>". */
static const char *formal_name(flat_ctx *x, const fn_info *f, const Onnx__NodeProto *call, const char *prefix,
                               const char *v)
{
	if (!*v)
		return v;
	const Onnx__FunctionProto *fp = f->fp;
	for (size_t i = 0; i < fp->n_input; i++)
		if (strcmp(nz(fp->input[i]), v) == 0)
			return i < call->n_input ? nz(call->input[i]) : "";
	for (size_t i = 0; i < fp->n_output; i++)
		if (strcmp(nz(fp->output[i]), v) == 0 && i < call->n_output && *nz(call->output[i]))
			return call->output[i];
	return fl_cat(x, prefix, v);
}

/* Attribute a of a body node as the call binds it: itself, or the call's
 * (else the default) attribute it refers to under a's name; *out NULL
 * when a refers to one neither gives.  0, or -1 reported. */
static int bind_attr(flat_ctx *x, const fn_info *f, const Onnx__NodeProto *call, const char *loc,
                     Onnx__AttributeProto *a, Onnx__AttributeProto **out)
{
	*out = a;
	const char *ref = nz(a->ref_attr_name);
	if (!*ref)
		return 0;
	const Onnx__AttributeProto *src = NULL;
	for (size_t i = 0; i < call->n_attribute && !src; i++)
		if (strcmp(nz(call->attribute[i]->name), ref) == 0)
			src = call->attribute[i];
	for (size_t i = 0; i < f->ndefs && !src; i++)
		if (strcmp(nz(f->defs[i]->name), ref) == 0)
			src = f->defs[i];
	*out = NULL;
	if (!src)
		return 0;
	if (a->has_type && src->has_type && a->type != src->type) {
		diag_error(x->d, loc, "attribute '%s' refers to function attribute '%s' of another type",
		           nz(a->name), ref);
		return -1;
	}
	Onnx__AttributeProto *c = fl_alloc(x, sizeof *c);
	if (!c) {
		diag_error(x->d, x->file, "out of memory");
		return -1;
	}
	*c = *src;
	c->name = a->name;
	c->ref_attr_name = NULL;
	*out = c;
	return 0;
}

static int expand(flat_ctx *x, const Onnx__NodeProto *np, const char *name, int origin, int64_t opset,
                  int depth);

/* Push the body of f for call (named `name` in messages and values). */
static int inline_call(flat_ctx *x, fn_info *f, const Onnx__NodeProto *call, const char *name, int origin,
                       int64_t opset, int depth)
{
	const Onnx__FunctionProto *fp = f->fp;
	char loc[768];
	snprintf(loc, sizeof loc, "%s: node %d '%s' (%s)", x->file, origin, name, nz(call->op_type));
	if (f->active || depth >= FE_FUNC_MAX_DEPTH) {
		diag_error(x->d, loc, "function '%s' calls itself (directly or through other functions)",
		           nz(fp->name));
		return -1;
	}
	if (call->n_input > fp->n_input || call->n_output > fp->n_output) {
		diag_error(x->d, loc, "function '%s' takes %zu input%s and %zu output%s; the node has %zu and %zu",
		           nz(fp->name), fp->n_input, fp->n_input == 1 ? "" : "s", fp->n_output,
		           fp->n_output == 1 ? "" : "s", call->n_input, call->n_output);
		return -1;
	}
	if (fp->n_node > FE_FUNC_MAX_NODES - x->ncopied) {
		diag_error(x->d, loc, "expanding model-local functions gives more than %d nodes",
		           FE_FUNC_MAX_NODES);
		return -1;
	}
	x->ncopied += fp->n_node;
	int64_t bopset = f->opset >= 0 ? f->opset : opset;
	f->active = true;
	int rc = 0;
	for (size_t i = 0; i < fp->n_node && rc == 0; i++) {
		const Onnx__NodeProto *bn = fp->node[i];
		Onnx__NodeProto *c = fl_alloc(x, sizeof *c);
		char **in = c ? fl_alloc(x, (bn->n_input + 1) * sizeof *in) : NULL;
		char **out = in ? fl_alloc(x, (bn->n_output + 1) * sizeof *out) : NULL;
		Onnx__AttributeProto **at = out ? fl_alloc(x, (bn->n_attribute + 1) * sizeof *at) : NULL;
		const char *bname = *nz(bn->name) ? bn->name : nz(bn->op_type);
		char *cname = at ? fl_cat(x, name, bname) : NULL;
		if (!cname) {
			diag_error(x->d, x->file, "out of memory");
			rc = -1;
			break;
		}
		*c = *bn;
		c->name = cname;
		c->input = in;
		c->output = out;
		c->attribute = at;
		for (size_t k = 0; k < bn->n_input && rc == 0; k++)
			if (!(in[k] = (char *)formal_name(x, f, call, name, nz(bn->input[k]))))
				rc = -1;
		for (size_t k = 0; k < bn->n_output && rc == 0; k++)
			if (!(out[k] = (char *)formal_name(x, f, call, name, nz(bn->output[k]))))
				rc = -1;
		if (rc) {
			diag_error(x->d, x->file, "out of memory");
			break;
		}
		char bloc[768];
		snprintf(bloc, sizeof bloc, "%s: node %d '%s' (%s)", x->file, origin, cname, nz(bn->op_type));
		/* a subgraph (If's branches) would need its values renamed too */
		for (size_t k = 0; k < bn->n_attribute && rc == 0; k++)
			if (bn->attribute[k]->g || bn->attribute[k]->n_graphs) {
				diag_error(x->d, bloc, "a subgraph (attribute '%s') inside model-local function '%s' is not supported",
				           nz(bn->attribute[k]->name), nz(fp->name));
				rc = -1;
			}
		c->n_attribute = 0;
		for (size_t k = 0; k < bn->n_attribute && rc == 0; k++) {
			Onnx__AttributeProto *a;
			rc = bind_attr(x, f, call, bloc, bn->attribute[k], &a);
			if (a)
				at[c->n_attribute++] = a;
		}
		if (rc == 0)
			rc = expand(x, c, cname, origin, bopset, depth + 1);
	}
	f->active = false;
	return rc;
}

/* Push np, or what it expands to when it calls a local function. */
static int expand(flat_ctx *x, const Onnx__NodeProto *np, const char *name, int origin, int64_t opset,
                  int depth)
{
	fn_info *f = callee(x, np);
	if (!f)
		return push(x, np, origin, opset);
	char num[32];
	if (!*name) {
		snprintf(num, sizeof num, "%s#%d", nz(np->op_type), ++x->ncalls);
		name = num;
	}
	return inline_call(x, f, np, name, origin, opset, depth);
}

/* The model's functions as fn_infos: defaults unpacked, opsets read. */
static int read_functions(flat_ctx *x, const Onnx__ModelProto *m)
{
	x->fn = calloc(m->n_functions ? m->n_functions : 1, sizeof *x->fn);
	if (!x->fn) {
		diag_error(x->d, x->file, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < m->n_functions; i++) {
		const Onnx__FunctionProto *fp = m->functions[i];
		fn_info *f = &x->fn[x->nfn++];
		f->fp = fp;
		f->domain = dom_of(fp->domain);
		f->opset = -1;
		size_t olen = 0;
		const uint8_t *ov = unknown_bytes(&fp->base, FN_OVERLOAD, &olen);
		char *o = fl_alloc(x, olen + 1);
		if (!o) {
			diag_error(x->d, x->file, "out of memory");
			return -1;
		}
		if (ov)
			memcpy(o, ov, olen);
		f->overload = o;
		char what[300];
		snprintf(what, sizeof what, "function '%.200s'", nz(fp->name));
		for (size_t k = 0; k < fp->n_opset_import; k++) {
			const Onnx__OperatorSetIdProto *os = fp->opset_import[k];
			if (*dom_of(os->domain))
				continue;
			f->opset = os->has_version ? os->version : 1;
			if (f->opset < FE_ONNX_OPSET_MIN || f->opset > FE_ONNX_OPSET_MAX) {
				diag_error(x->d, x->file, "%s: ai.onnx opset %lld is not supported (qgtc supports opsets %d to %d)",
				           what, (long long)f->opset, FE_ONNX_OPSET_MIN, FE_ONNX_OPSET_MAX);
				return -1;
			}
		}
		for (unsigned k = 0; k < fp->base.n_unknown_fields; k++) {
			const ProtobufCMessageUnknownField *u = &fp->base.unknown_fields[k];
			if (u->tag != FN_ATTRIBUTE_PROTO || u->wire_type != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED)
				continue;
			Onnx__AttributeProto **defs = realloc(f->defs, (f->ndefs + 1) * sizeof *defs);
			if (!defs) {
				diag_error(x->d, x->file, "out of memory");
				return -1;
			}
			f->defs = defs;
			fe_onnx_flat *fl = x->fl;
			void **msg = realloc(fl->msg, (fl->nmsg + 1) * sizeof *msg);
			if (!msg) {
				diag_error(x->d, x->file, "out of memory");
				return -1;
			}
			fl->msg = msg;
			/* kept until fe_onnx_flat_free: bound attributes point into it */
			size_t len = 0;
			const uint8_t *p = payload(u, &len);
			Onnx__AttributeProto *a = p ? fe_onnx_unpack(&onnx__attribute_proto__descriptor, p, len, x->file,
			                                             "function attribute default", x->d)
			                            : NULL;
			if (!p)
				diag_error(x->d, x->file, "function '%s': a broken attribute default", nz(fp->name));
			if (!a)
				return -1;
			fl->msg[fl->nmsg++] = a;
			f->defs[f->ndefs++] = a;
		}
	}
	return 0;
}

int fe_onnx_flatten(const Onnx__ModelProto *m, int64_t opset, const char *file, fe_onnx_flat *fl,
                    diag_sink *d)
{
	memset(fl, 0, sizeof *fl);
	const Onnx__GraphProto *G = m->graph;
	flat_ctx x = {.fl = fl, .file = file, .d = d};
	int rc = read_functions(&x, m);
	for (size_t i = 0; i < G->n_node && rc == 0; i++)
		rc = expand(&x, G->node[i], nz(G->node[i]->name), (int)i, opset, 0);
	for (size_t i = 0; i < x.nfn; i++)
		free(x.fn[i].defs);
	free(x.fn);
	if (rc)
		fe_onnx_flat_free(fl);
	return rc;
}

void fe_onnx_flat_free(fe_onnx_flat *fl)
{
	for (size_t i = 0; i < fl->nmsg; i++)
		fe_onnx_unpack_free(fl->msg[i]);
	free(fl->msg);
	for (size_t i = 0; i < fl->nmem; i++)
		free(fl->mem[i]);
	free(fl->mem);
	free(fl->node);
	free(fl->origin);
	free(fl->opset);
	memset(fl, 0, sizeof *fl);
}
