/* print.c: the .qir text form of a graph, for people first and for the
 * parser (issue: IR text format) second.  Grammar, one item per line:
 *
 *   graph NAME {
 *     input %x: f32[?,3,32,32]
 *     const %w: f32[8,3,3,3] = elided            ; > max_inline elements
 *     const %s: i64[2] = [1, -1]
 *     %y: f32[?,8,30,30] = conv(%x, %w, _) {group=1, pads=[0,0,0,0]}  ; 'Conv_0' (Conv) #0
 *     output %y
 *   }
 *
 * A quantized constant carries `!quant{scheme="affine", bits=2, axis=0,
 * scale=[...], zero_point=[...], levels=[...], codes=[...]}` after its data
 * (arrays elided like the data).
 * An integer activation carries the same annotation (scale and zero
 * point, always printed) after its type: `%y: i8[1,8] !quant{...} = ...`.
 * A node may carry quantization hints after its attributes: `!bits=4`,
 * `!per_channel` or `!per_tensor`.
 * `_` is an omitted optional input; `[*]` an unknown shape; `?` the
 * symbolic batch dim.  Names that are not [A-Za-z0-9_.]+ are quoted.
 * Floats print with 9 significant digits, which round-trips float32
 * exactly, and always carry a '.', 'e', "inf" or "nan" so they never read
 * back as integers. */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "ir.h"

static void print_name(FILE *f, const char *s)
{
	bool bare = *s != 0;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.')
			bare = false;
	if (bare) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void print_float(FILE *f, double x)
{
	if (isnan(x)) {
		fputs("nan", f);
		return;
	}
	if (isinf(x)) {
		fputs(x < 0 ? "-inf" : "inf", f);
		return;
	}
	char b[40];
	snprintf(b, sizeof b, "%.9g", x);
	fputs(b, f);
	if (!strpbrk(b, ".e"))
		fputs(".0", f);
}

static void print_quant(FILE *f, const ir_value *v, long max_inline);

/* DTYPE[shape], and for a computed value or input whose type carries
 * quantization (an integer activation), its !quant{...}. */
static void print_type(FILE *f, const ir_value *v)
{
	char b[128];
	fputs(ir_dtype_name(v->dt), f);
	if (v->shape.rank < 0)
		fputs("[*]", f);
	else
		fputs(ir_shape_str(&v->shape, b, sizeof b), f);
	if (v->kind != IR_VAL_CONST && v->quant && v->quant->scheme != IR_QS_NONE)
		print_quant(f, v, -1);
}

static void print_value_ref(FILE *f, const ir_value *v)
{
	if (!v) {
		fputc('_', f);
		return;
	}
	fputc('%', f);
	print_name(f, v->name);
}

static void print_data(FILE *f, const ir_value *v, long max_inline)
{
	int64_t n = ir_shape_numel(&v->shape);
	if (n < 0 || !v->data || (max_inline >= 0 && n > max_inline)) {
		fputs("elided", f);
		return;
	}
	fputc('[', f);
	for (int64_t i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		if (v->dt == IR_DT_F32)
			print_float(f, ((const float *)v->data)[i]);
		else if (v->dt == IR_DT_I64)
			fprintf(f, "%lld", (long long)((const int64_t *)v->data)[i]);
		else
			fprintf(f, "%.0f", ir_const_get(v, i));
	}
	fputc(']', f);
}

/* A quantized constant's annotation: scheme, bits, axis and the
 * parameter arrays; each array (and the codes) only where it is short
 * enough to print under max_inline, like the data. */
static void print_quant(FILE *f, const ir_value *v, long max_inline)
{
	const ir_quant *q = v->quant;
	int64_t n = ir_shape_numel(&v->shape);
	bool all = max_inline < 0;
	fprintf(f, " !quant{scheme=\"%s\", bits=%d, axis=%d", ir_qscheme_name(q->scheme), q->bits,
	        q->axis);
	if (q->scale && (all || q->nchan <= max_inline)) {
		fputs(", scale=[", f);
		for (int c = 0; c < q->nchan; c++) {
			if (c)
				fputs(", ", f);
			print_float(f, q->scale[c]);
		}
		fputc(']', f);
	}
	if (q->zero_point && (all || q->nchan <= max_inline)) {
		fputs(", zero_point=[", f);
		for (int c = 0; c < q->nchan; c++)
			fprintf(f, "%s%d", c ? ", " : "", (int)q->zero_point[c]);
		fputc(']', f);
	}
	int64_t nl = (int64_t)q->nchan << q->bits;
	if (q->levels && (all || nl <= max_inline)) {
		fputs(", levels=[", f);
		for (int64_t i = 0; i < nl; i++) {
			if (i)
				fputs(", ", f);
			print_float(f, q->levels[i]);
		}
		fputc(']', f);
	}
	if (q->codes && v->data && n >= 0 && (all || n <= max_inline)) {
		fputs(", codes=[", f);
		for (int64_t i = 0; i < n; i++)
			fprintf(f, "%s%u", i ? ", " : "", q->codes[i]);
		fputc(']', f);
	}
	fputc('}', f);
}

static void print_attr(FILE *f, const ir_attr *a)
{
	print_name(f, a->name);
	fputc('=', f);
	switch (a->kind) {
	case IR_ATTR_INT:
		fprintf(f, "%lld", (long long)a->v.i);
		break;
	case IR_ATTR_FLOAT:
		print_float(f, a->v.f);
		break;
	case IR_ATTR_STR:
		fputc('"', f);
		for (const char *p = a->v.s; *p; p++) {
			if (*p == '"' || *p == '\\')
				fputc('\\', f);
			fputc(*p, f);
		}
		fputc('"', f);
		break;
	case IR_ATTR_INTS:
		fputc('[', f);
		for (int i = 0; i < a->n; i++)
			fprintf(f, "%s%lld", i ? "," : "", (long long)a->v.ints[i]);
		fputc(']', f);
		break;
	case IR_ATTR_FLOATS:
		fputc('[', f);
		for (int i = 0; i < a->n; i++) {
			if (i)
				fputc(',', f);
			print_float(f, a->v.floats[i]);
		}
		fputc(']', f);
		break;
	}
}

static void print_node(FILE *f, const ir_node *n)
{
	fputs("  ", f);
	for (int j = 0; j < n->nout; j++) {
		if (j)
			fputs(", ", f);
		print_value_ref(f, n->out[j]);
		if (n->out[j]) {
			fputs(": ", f);
			print_type(f, n->out[j]);
		}
	}
	fprintf(f, " = %s(", ir_op_name(n->op));
	for (int j = 0; j < n->nin; j++) {
		if (j)
			fputs(", ", f);
		print_value_ref(f, n->in[j]);
	}
	fputc(')', f);
	if (n->nattr) {
		/* Sorted by name so dumps don't depend on attribute order. */
		const ir_attr *ord[n->nattr];
		for (int i = 0; i < n->nattr; i++)
			ord[i] = &n->attrs[i];
		for (int i = 1; i < n->nattr; i++)
			for (int j = i; j > 0 && strcmp(ord[j - 1]->name, ord[j]->name) > 0; j--) {
				const ir_attr *t = ord[j];
				ord[j] = ord[j - 1];
				ord[j - 1] = t;
			}
		fputs(" {", f);
		for (int i = 0; i < n->nattr; i++) {
			if (i)
				fputs(", ", f);
			print_attr(f, ord[i]);
		}
		fputc('}', f);
	}
	if (n->qhint.bits)
		fprintf(f, " !bits=%d", n->qhint.bits);
	if (n->qhint.gran)
		fputs(n->qhint.gran == IR_QGRAN_PER_TENSOR ? " !per_tensor" : " !per_channel", f);
	if (n->qhint.scheme)
		fprintf(f, " !scheme=%s", ir_qscheme_name(n->qhint.scheme));
	if ((n->name && *n->name) || n->src_op || n->src_index >= 0) {
		const char *sep = "  ; ";
		if (n->name && *n->name) {
			fputs(sep, f);
			print_name(f, n->name);
			sep = " ";
		}
		if (n->src_op) {
			fprintf(f, "%s(%s)", sep, n->src_op);
			sep = " ";
		}
		if (n->src_index >= 0)
			fprintf(f, "%s#%d", sep, n->src_index);
	}
	fputc('\n', f);
}

void ir_print(FILE *f, const ir_graph *g, long max_inline)
{
	fputs("graph ", f);
	print_name(f, g->name);
	fputs(" {\n", f);
	for (int i = 0; i < g->ninputs; i++) {
		fputs("  input ", f);
		print_value_ref(f, g->inputs[i]);
		fputs(": ", f);
		print_type(f, g->inputs[i]);
		fputc('\n', f);
	}
	for (int i = 0; i < g->nvalues; i++) {
		const ir_value *v = g->values[i];
		if (v->kind != IR_VAL_CONST)
			continue;
		fputs("  const ", f);
		print_value_ref(f, v);
		fputs(": ", f);
		print_type(f, v);
		fputs(" = ", f);
		print_data(f, v, max_inline);
		if (v->quant && v->quant->scheme != IR_QS_NONE)
			print_quant(f, v, max_inline);
		fputc('\n', f);
	}
	for (int i = 0; i < g->nnodes; i++)
		if (!g->nodes[i]->dead)
			print_node(f, g->nodes[i]);
	for (int i = 0; i < g->noutputs; i++) {
		fputs("  output ", f);
		print_value_ref(f, g->outputs[i]);
		fputc('\n', f);
	}
	fputs("}\n", f);
}
