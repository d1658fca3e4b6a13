/* quantize.c: post-training quantization of weights.  For every conv,
 * conv_transpose, gemm and matmul whose weight (input 1) is an f32
 * constant, pick a pass_qspec (defaults from pass_options.quant, then the
 * node's DSL hint, then the --bits rules), quantize it with the one
 * quantizer (quant.c), attach the ir_quant to the value, and replace the
 * value's data by DQ(w): the interpreter then simulates the quantized
 * model exactly (dequantized weights, float activations).  With
 * calibration inputs, empirical bias correction follows: each layer's
 * bias gets mean(y_float) - mean(y_quant) per output channel, layer by
 * layer in topological order.  A kernel whose grid the qgt pass settled
 * earlier in the run (pass_options.handoff) gets exactly that spec.
 * requires: toposorted graph, constants with data; for bias correction
 * one f32 input and shapes that inference can derive.  keeps: names,
 * shapes.  Weights that already carry an ir_quant are left alone, so
 * rerunning the pass changes nothing.  Biases stay float32. */
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calib.h"
#include "pass.h"
#include "quant.h"

#define MAX_RULES 64
#define CALIB_DEFAULT 256

typedef struct bits_rule {
	char pat[96];
	int bits;           /* 1..8, or 0: keep float */
	bool used;
} bits_rule;

/* Parse "PAT=B,..." into r (may be NULL: check only).  Count or -1. */
static int parse_rules(const char *rules, bits_rule *r, diag_sink *d)
{
	int n = 0;
	for (const char *p = rules; p && *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		if (!len) {
			p = e ? e + 1 : NULL;
			continue;
		}
		if (!eq || eq == p || (size_t)(eq - p) >= sizeof r->pat) {
			diag_error(d, NULL, "--bits: '%.*s' is not NAME=BITS (e.g. conv1=8,*dw*=4)", (int)len,
			           p);
			return -1;
		}
		char val[16];
		size_t vl = len - (size_t)(eq + 1 - p);
		if (vl >= sizeof val)
			vl = sizeof val - 1;
		memcpy(val, eq + 1, vl);
		val[vl] = 0;
		int bits;
		char *end;
		long v = strtol(val, &end, 10);
		if (strcmp(val, "fp32") == 0 || strcmp(val, "f32") == 0 || strcmp(val, "float") == 0 ||
		    (*end == 0 && end != val && v == 32))
			bits = 0;
		else if (*end == 0 && end != val && v >= 1 && v <= 8)
			bits = (int)v;
		else {
			diag_error(d, NULL, "--bits: '%s' in '%.*s' must be 1..8, or 32/fp32 to keep float",
			           val, (int)len, p);
			return -1;
		}
		if (n >= MAX_RULES) {
			diag_error(d, NULL, "--bits: more than %d rules", MAX_RULES);
			return -1;
		}
		if (r) {
			memcpy(r[n].pat, p, (size_t)(eq - p));
			r[n].pat[eq - p] = 0;
			r[n].bits = bits;
			r[n].used = false;
		}
		n++;
		p = e ? e + 1 : NULL;
	}
	return n;
}

int pass_quant_check_rules(const char *rules, diag_sink *d)
{
	return parse_rules(rules, NULL, d) < 0 ? -1 : 0;
}

/* Bits for node n with weight w: -1 for "no rule". */
static int rule_bits(bits_rule *r, int nr, const ir_node *n, const ir_value *w)
{
	int bits = -1;
	for (int i = 0; i < nr; i++)
		if ((n->name && fnmatch(r[i].pat, n->name, 0) == 0) ||
		    (w->name && fnmatch(r[i].pat, w->name, 0) == 0)) {
			bits = r[i].bits; /* the last matching rule wins */
			r[i].used = true;
		}
	return bits;
}

/* The weight the quantize pass may quantize on node n: a float constant
 * with data in a conv/conv_transpose/gemm/matmul weight slot; else NULL. */
static ir_value *quant_weight(const ir_node *n)
{
	if (n->dead || pass_weight_axis(n, 1) < 0)
		return NULL;
	ir_value *w = n->in[1];
	if (!w || w->kind != IR_VAL_CONST || w->dt != IR_DT_F32 || !w->data ||
	    !ir_shape_known(&w->shape))
		return NULL;
	return w;
}

/* The spec for weight w of node n: a --bits rule over the node's hint over
 * -b.  Returns the bits; 0 means the layer stays float. */
static int spec_for(const pass_quant_options *qo, bits_rule *rules, int nr, const ir_node *n,
                    const ir_value *w, pass_qspec *s)
{
	int bits = n->qhint.bits ? n->qhint.bits : qo->bits;
	int rb = rule_bits(rules, nr, n, w);
	if (rb >= 0)
		bits = rb;
	if (bits == 0 || bits == 32) /* a hint !bits=32 keeps the layer float */
		return 0;
	pass_qspec_default(s);
	/* a hint's scheme goes with its bits: a rule's bits take -b's scheme */
	s->scheme = n->qhint.scheme && rb < 0 ? n->qhint.scheme : qo->scheme ? qo->scheme : IR_QS_AFFINE;
	s->bits = bits;
	s->per_channel = n->qhint.gran ? n->qhint.gran == IR_QGRAN_PER_CHANNEL : !qo->per_tensor;
	s->axis = pass_weight_axis(n, 1);
	s->calib = qo->mse_max_bits && bits <= qo->mse_max_bits ? PASS_CALIB_MSE : qo->calib;
	s->percentile = qo->percentile > 0 ? qo->percentile : 99.9f;
	s->f32_scales = qo->f32_scales;
	s->scale_mb = qo->act_bits ? 0 : qo->scale_mb; /* integer layers keep multipliers, not scales */
	return bits;
}

int pass_quant_spec_for(const pass_quant_options *qo, const ir_node *n, ir_value **w,
                        pass_qspec *spec, diag_sink *d)
{
	bits_rule rules[MAX_RULES];
	int nr = parse_rules(qo->bits_rules, rules, d);
	if (nr < 0)
		return -1;
	*w = quant_weight(n);
	return *w && spec_for(qo, rules, nr, n, *w, spec) ? 1 : 0;
}

/* ---------------------------------------------------- bias correction */

typedef struct layer {
	ir_node *n;
	int64_t C;          /* output channels (axis 1 of the output) */
	double *mean_fp;    /* [C] */
} layer;

/* Per-channel means of the axis-1 slices of every layer's output over the
 * calibration samples (pass_calib_run: the graph's batch, a last partial
 * batch padded with zeros that the means skip).  means[l] gets C doubles.
 * 0 or -1. */
typedef struct means_ctx {
	layer *L;
	double **means;
} means_ctx;

static int add_means(void *ctx, int k, const ir_tensor *t, int64_t valid, int64_t B)
{
	(void)B;
	means_ctx *m = ctx;
	int64_t C = m->L[k].C, n = ir_shape_numel(&t->shape);
	int64_t inner = n / (t->shape.d[0] * C);
	const float *y = t->data;
	for (int64_t i = 0; i < valid * C * inner; i++)
		m->means[k][(i / inner) % C] += y[i];
	return 0;
}

static int layer_means(ir_graph *g, layer *L, int nl, const pass_quant_options *qo, int64_t ns,
                       double **means, diag_sink *d)
{
	ir_value **outs = calloc((size_t)nl + 1, sizeof *outs);
	if (!outs) {
		diag_error(d, NULL, "out of memory");
		return -1;
	}
	for (int l = 0; l < nl; l++) {
		outs[l] = L[l].n->out[0];
		memset(means[l], 0, (size_t)L[l].C * sizeof **means);
	}
	means_ctx mc = {L, means};
	int rc = pass_calib_run(g, qo, outs, nl, add_means, &mc, d);
	free(outs);
	if (rc)
		return -1;
	for (int l = 0; l < nl; l++) {
		int64_t C = L[l].C;
		const ir_value *v = L[l].n->out[0];
		double cnt = (double)(ir_shape_numel(&v->shape) / (v->shape.d[0] * C)) * (double)ns;
		for (int64_t c = 0; c < C; c++)
			means[l][c] /= cnt;
	}
	return 0;
}

/* The f32 bias of layer n as a fresh [C] buffer wired into the node
 * (created as zeros if absent).  NULL if its bias cannot be corrected. */
static float *own_bias(ir_graph *g, ir_node *n, int64_t C)
{
	ir_value *b = n->nin > 2 ? n->in[2] : NULL;
	float beta = n->op == IR_OP_GEMM ? ir_attr_float(n, "beta", 1.0f) : 1.0f;
	float *nb = ir_arena_alloc(g->arena, (size_t)C * sizeof *nb);
	if (!nb)
		return NULL;
	if (b) {
		if (b->kind != IR_VAL_CONST || b->dt != IR_DT_F32 || !b->data)
			return NULL;
		int64_t k = ir_shape_numel(&b->shape);
		if (k != 1 && !(k == C && b->shape.d[b->shape.rank - 1] == C))
			return NULL;
		for (int64_t c = 0; c < C; c++)
			nb[c] = ((const float *)b->data)[k == 1 ? 0 : c] * beta;
	}
	if (n->nin < 3) {
		ir_value **in = ir_arena_alloc(g->arena, 3 * sizeof *in);
		if (!in)
			return NULL;
		memcpy(in, n->in, (size_t)n->nin * sizeof *in);
		n->in = in;
		n->nin = 3;
	}
	ir_shape s = ir_shape_make(1, &C);
	if (b && ir_value_use_count(g, b) == 1 && ir_shape_eq(&b->shape, &s) && beta == 1.0f) {
		b->data = nb;
		return nb;
	}
	const char *base = b ? b->name : ir_arena_printf(g->arena, "%s.bias", n->in[1]->name);
	ir_value *v = ir_graph_add_const(g, ir_graph_unique_name(g, base), IR_DT_F32, &s, NULL);
	if (!v)
		return NULL;
	v->data = nb;
	n->in[2] = v;
	if (n->op == IR_OP_GEMM)
		ir_node_set_float(g, n, "beta", 1.0f);
	return nb;
}

/* Saved value shapes, to undo a temporary batch binding. */
static ir_shape *save_shapes(const ir_graph *g)
{
	ir_shape *s = malloc(((size_t)g->nvalues + 1) * sizeof *s);
	if (s)
		for (int i = 0; i < g->nvalues; i++)
			s[i] = g->values[i]->shape;
	return s;
}

typedef struct calib_ctx {
	layer *L;
	int nl;
	int64_t B, ns;      /* batch, calibration samples */
	ir_shape *saved;    /* shapes before binding the batch; NULL if not bound */
	int nsaved;
} calib_ctx;

/* Set up bias correction: 1 if ready, 0 if skipped (warned), -1 on error. */
static int calib_begin(ir_graph *g, const pass_quant_options *qo, calib_ctx *cc, diag_sink *d)
{
	memset(cc, 0, sizeof *cc);
	if (g->ninputs != 1 || g->inputs[0]->dt != IR_DT_F32 || g->inputs[0]->shape.rank < 1) {
		if (!qo->act_bits) /* else -a's calibration says it, as an error */
			diag_warn(d, g->src_file, "bias correction needs a model with one f32 input; skipped");
		return 0;
	}
	if (pass_calib_fits(g, qo, d))
		return -1;
	ir_value *in = g->inputs[0];
	int64_t avail = qo->calib_n < (qo->calib_max > 0 ? qo->calib_max : CALIB_DEFAULT)
	                    ? qo->calib_n
	                    : (qo->calib_max > 0 ? qo->calib_max : CALIB_DEFAULT);
	if (in->shape.d[0] == IR_DIM_SYM) {
		cc->B = avail < 64 ? avail : 64;
		if (cc->B < 1) {
			diag_warn(d, NULL, "no calibration samples; bias correction skipped");
			return 0;
		}
		cc->saved = save_shapes(g);
		cc->nsaved = g->nvalues;
		if (!cc->saved) {
			diag_error(d, NULL, "out of memory");
			return -1;
		}
		ir_graph_bind_batch(g, cc->B);
		if (ir_graph_toposort(g, d) || ir_infer_shapes(g, d))
			return -1;
	} else
		cc->B = in->shape.d[0];
	cc->ns = avail;
	if (cc->ns < 1) {
		diag_warn(d, NULL, "no calibration samples; bias correction skipped");
		return 0;
	}
	return 1;
}

static void calib_end(ir_graph *g, calib_ctx *cc)
{
	if (cc->saved) {
		for (int i = 0; i < cc->nsaved && i < g->nvalues; i++)
			g->values[i]->shape = cc->saved[i];
		free(cc->saved);
	}
	if (cc->L)
		for (int l = 0; l < cc->nl; l++)
			free(cc->L[l].mean_fp);
	free(cc->L);
}

/* Bias correction's second part, as one walk over the layers in graph
 * order: each layer's quantized output means (over the same samples as
 * the float ones), then its bias += float mean - quantized mean, before
 * the layers after it are measured.  The biases are made first, so that
 * the walk's runs see the graph they started with. */
typedef struct correct_ctx {
	means_ctx m;
	float **bias;
	int64_t ns;
} correct_ctx;

static int correct_means(void *ctx, int k, const ir_tensor *t, int64_t valid, int64_t B)
{
	return add_means(&((correct_ctx *)ctx)->m, k, t, valid, B);
}

static int correct_one(void *ctx, int k)
{
	correct_ctx *cx = ctx;
	const layer *L = &cx->m.L[k];
	const ir_value *v = L->n->out[0];
	double *mq = cx->m.means[k];
	double cnt = (double)(ir_shape_numel(&v->shape) / (v->shape.d[0] * L->C)) * (double)cx->ns;
	for (int64_t c = 0; cx->bias[k] && c < L->C; c++)
		cx->bias[k][c] += (float)(L->mean_fp[c] - mq[c] / cnt);
	return 0;
}

static int correct_biases(ir_graph *g, calib_ctx *cc, const pass_quant_options *qo, diag_sink *d)
{
	int rc = -1, nl = cc->nl;
	ir_node **at = calloc((size_t)nl + 1, sizeof *at);
	float **bias = calloc((size_t)nl + 1, sizeof *bias);
	double **mq = calloc((size_t)nl + 1, sizeof *mq);
	if (!at || !bias || !mq)
		goto oom;
	for (int l = 0; l < nl; l++) {
		at[l] = cc->L[l].n;
		if (!(mq[l] = calloc((size_t)cc->L[l].C, sizeof **mq)))
			goto oom;
		bias[l] = own_bias(g, at[l], cc->L[l].C);
		if (!bias[l])
			diag_warn(d, ir_node_loc(g, at[l]), "bias cannot be corrected (shape or kind)");
	}
	correct_ctx cx = {{cc->L, mq}, bias, cc->ns};
	rc = pass_calib_walk(g, qo, at, nl, correct_means, correct_one, &cx, d);
	goto out;
oom:
	diag_error(d, NULL, "out of memory");
out:
	for (int l = 0; mq && l < nl; l++)
		free(mq[l]);
	free(mq);
	free(bias);
	free(at);
	return rc;
}

/* ------------------------------------------------ grids handed on */

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

/* Codebook levels = the distinct values of each channel, when there are
 * at most 2^bits of them (trained onto their levels, the weights sit
 * there; k-means would only land near them). */
static void exact_levels(const float *w, const ir_shape *sh, ir_quant *q)
{
	int K = 1 << q->bits;
	int64_t n = ir_shape_numel(sh), C = q->nchan, inner = 1;
	if (q->axis >= 0)
		for (int k = q->axis + 1; k < sh->rank; k++)
			inner *= sh->d[k];
	float *buf = malloc(sizeof(float) * (size_t)(n ? n : 1));
	if (!buf)
		return;
	for (int64_t ch = 0; ch < C; ch++) {
		int64_t m = 0;
		for (int64_t k = 0; k < n; k++)
			if (q->axis < 0 || k / inner % C == ch)
				buf[m++] = w[k];
		qsort(buf, (size_t)m, sizeof *buf, cmp_float);
		int u = 0;
		float lv[256];
		for (int64_t k = 0; k < m && u <= K; k++)
			if (u == 0 || buf[k] != lv[u - 1])
				lv[u < 256 ? u : 255] = buf[k], u++;
		if (u < 1 || u > K)
			continue;
		for (int j = 0; j < K; j++)
			q->levels[ch * K + j] = lv[j < u ? j : u - 1];
	}
	free(buf);
}

/* The grid handed on for kernel w, or NULL. */
static const pass_weight_grid *handed(const pass_options *o, const ir_value *w)
{
	const pass_handoff *h = o ? o->handoff : NULL;
	for (int i = 0; h && w->name && i < h->nweights; i++)
		if (strcmp(h->weights[i].name, w->name) == 0)
			return &h->weights[i];
	return NULL;
}

/* The kernels handed on as `first`, quantized to their spec before the
 * others (their data becomes DQ): bias correction then neither touches
 * them nor measures the model without them. */
static int deploy_first(ir_graph *g, const pass_options *o, diag_sink *d)
{
	const pass_handoff *h = o ? o->handoff : NULL;
	for (int i = 0; h && i < h->nweights; i++) {
		const pass_weight_grid *wg = &h->weights[i];
		ir_value *v = wg->first ? ir_graph_find_value(g, wg->name) : NULL;
		if (!v || v->kind != IR_VAL_CONST || v->dt != IR_DT_F32 || !v->data || v->quant)
			continue;
		int axis = -1;
		for (int k = 0; k < g->nnodes && axis < 0; k++)
			if (!g->nodes[k]->dead && g->nodes[k]->nin > 1 && g->nodes[k]->in[1] == v)
				axis = pass_weight_axis(g->nodes[k], 1);
		if (axis < 0)
			continue;
		pass_qspec sp = wg->spec;
		sp.axis = axis;
		int64_t n = ir_shape_numel(&v->shape);
		ir_quant *q = ir_arena_alloc(g->arena, sizeof *q);
		float *dq = ir_arena_alloc(g->arena, sizeof(float) * (size_t)(n ? n : 1));
		if (!q || !dq) {
			diag_error(d, NULL, "out of memory");
			return -1;
		}
		if (pass_quantize(v->data, &v->shape, &sp, g->arena, q, dq, NULL, d)) {
			diag_note(d, NULL, "while quantizing weight '%s'", v->name);
			return -1;
		}
		if (sp.scheme == IR_QS_CODEBOOK) {
			exact_levels(v->data, &v->shape, q);
			if (pass_quant_requantize(v->data, &v->shape, q, dq, NULL))
				return -1;
		}
		v->data = dq;
		v->quant = q;
	}
	return 0;
}

/* ------------------------------------------------------------- the pass */

typedef struct target {
	ir_node *n;
	ir_value *w;
	pass_qspec spec;
} target;

/* The biases of the layers quantized here, rounded to b12 at
 * PASS_CODED_MAX_BITS bits or fewer under --bias-dtype b12
 * (pass_bias_b12_round, 12 bits each) where that flushes no bias that
 * fp16 keeps (one below the least code of its 16 octaves), else to half
 * precision
 * (pass_bias_round, 2 bytes), so that the backend stores them so
 * (pass_bias_dtype), unless --bias-dtype f32 or the activations are to be
 * integers (quantize-act makes the biases i32 at s_x * s_w from the f32
 * ones).  A bias read elsewhere too gets a rounded copy of its own. */
static int round_biases(ir_graph *g, const target *T, int nt, const pass_quant_options *qo)
{
	if (qo->f32_biases || qo->act_bits)
		return 0;
	for (int t = 0; t < nt; t++) {
		ir_node *n = T[t].n;
		ir_value *b = n->nin > 2 ? n->in[2] : NULL;
		if ((n->op != IR_OP_CONV && n->op != IR_OP_GEMM) || !b || b->kind != IR_VAL_CONST ||
		    b->dt != IR_DT_F32 || !b->data || b->quant || !ir_shape_known(&b->shape))
			continue;
		int64_t k = ir_shape_numel(&b->shape);
		float *nb = ir_arena_alloc(g->arena, (size_t)(k ? k : 1) * sizeof *nb);
		if (!nb)
			return -1;
		const float *od = b->data;
		float big = 0;
		for (int64_t i = 0; i < k; i++)
			big = fmaxf(big, fabsf(od[i]));
		bool b12 = qo->b12_biases && T[t].spec.bits <= PASS_CODED_MAX_BITS && big > 0 && isfinite(big);
		int e0 = b12 ? pass_ecode_base(big * (1 + 1.0f / (1 << PASS_B12_MB))) : 0; /* room for rounding up */
		/* b12 only where its 16 octaves lose no bias that fp16 keeps:
		 * one outlier channel (a BN-folded bias of 1e4) would otherwise
		 * flush the others' to 0 */
		float least = ldexpf(1.0f + 1.0f / (1 << PASS_B12_MB), e0);
		for (int64_t i = 0; b12 && i < k; i++)
			b12 = !(fabsf(od[i]) < least && pass_bias_round(od[i]) != 0);
		for (int64_t i = 0; i < k; i++)
			nb[i] = b12 ? pass_bias_b12_round(od[i], e0) : pass_bias_round(od[i]);
		if (ir_value_use_count(g, b) > 1) {
			ir_value *v = ir_graph_add_const(g, ir_graph_unique_name(g, b->name ? b->name : "bias"),
			                                 IR_DT_F32, &b->shape, NULL);
			if (!v)
				return -1;
			n->in[2] = b = v;
		}
		b->data = nb;
	}
	return 0;
}

int pass_quantize_weights(ir_graph *g, const pass_options *o, diag_sink *d)
{
	pass_quant_options dflt = {.bits = 8, .scheme = IR_QS_AFFINE, .percentile = 99.9f};
	const pass_quant_options *qo = o && o->quant ? o->quant : &dflt;
	bits_rule rules[MAX_RULES];
	int nr = parse_rules(qo->bits_rules, rules, d);
	if (nr < 0)
		return -1;
	if (ir_graph_toposort(g, d) || deploy_first(g, o, d))
		return -1;

	target *T = calloc((size_t)g->nnodes + 1, sizeof *T);
	if (!T) {
		diag_error(d, NULL, "out of memory");
		return -1;
	}
	int nt = 0, rc = -1, nkept = 0;
	const ir_value *kept = NULL; /* the first weight quantized in the model already */
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		ir_value *w = quant_weight(n);
		if (w && w->quant && w->quant->codes) { /* counted once, if shared */
			bool seen = false;
			for (int i2 = 0; i2 < i && !seen; i2++)
				seen = quant_weight(g->nodes[i2]) == w;
			kept = kept ? kept : w;
			nkept += !seen;
		}
		if (!w || w->quant)
			continue;
		bool dup = false; /* a weight shared by two layers is quantized once */
		for (int k = 0; k < nt; k++)
			dup |= T[k].w == w;
		if (dup || !spec_for(qo, rules, nr, n, w, &T[nt].spec))
			continue; /* shared, or kept float */
		const pass_weight_grid *wg = handed(o, w);
		if (wg) {
			int mb = T[nt].spec.scale_mb; /* the deployment's, whatever it trained at */
			T[nt].spec = wg->spec;
			T[nt].spec.axis = pass_weight_axis(n, 1);
			T[nt].spec.scale_mb = mb;
		}
		T[nt].n = n;
		T[nt].w = w;
		nt++;
	}
	for (int r = 0; r < nr; r++)
		if (!rules[r].used)
			diag_warn(d, g->src_file, "--bits: '%s' matches no quantizable layer or weight",
			          rules[r].pat);

	/* Bias correction, part 1: float means of the layers' outputs. */
	calib_ctx cc = {0};
	int calib = 0;
	if (qo->calib_x && nt) {
		calib = calib_begin(g, qo, &cc, d);
		if (calib < 0)
			goto out;
	}
	if (calib) {
		cc.L = calloc((size_t)nt, sizeof *cc.L);
		if (!cc.L)
			goto oom;
		for (int t = 0; t < nt; t++) {
			ir_node *n = T[t].n;
			ir_value *y = n->out[0];
			if (n->op == IR_OP_MATMUL || !y || y->shape.rank < 2 || !ir_shape_known(&y->shape))
				continue;
			layer *l = &cc.L[cc.nl];
			l->n = n;
			l->C = y->shape.d[1];
			l->mean_fp = calloc((size_t)l->C, sizeof *l->mean_fp);
			if (!l->mean_fp)
				goto oom;
			cc.nl++;
		}
		double **m = calloc((size_t)cc.nl + 1, sizeof *m);
		if (!m)
			goto oom;
		for (int l = 0; l < cc.nl; l++)
			m[l] = cc.L[l].mean_fp;
		int r = layer_means(g, cc.L, cc.nl, qo, cc.ns, m, d);
		free(m);
		if (r)
			goto out;
	}

	/* a model's own quantization (its dequantized weights' codes, or a
	 * dump's !quant) is part of the model: it stays, and says so */
	if (nkept)
		diag_warn(d, NULL,
		          "%d weight%s quantized in the model already (e.g. '%s', %d bits) keep%s %s own codes; "
		          "-b and --scheme apply to float weights",
		          nkept, nkept > 1 ? "s" : "", kept->name ? kept->name : "?", kept->quant->bits,
		          nkept > 1 ? "" : "s", nkept > 1 ? "their" : "its");
	/* Quantize: the data of each weight becomes DQ(w). */
	for (int t = 0; t < nt; t++) {
		ir_value *w = T[t].w;
		int64_t n = ir_shape_numel(&w->shape);
		ir_quant *q = ir_arena_alloc(g->arena, sizeof *q);
		float *dq = ir_arena_alloc(g->arena, (size_t)(n ? n : 1) * sizeof *dq);
		if (!q || !dq)
			goto oom;
		if (pass_quantize(w->data, &w->shape, &T[t].spec, g->arena, q, dq, NULL, d)) {
			diag_note(d, ir_node_loc(g, T[t].n), "while quantizing weight '%s'", w->name);
			goto out;
		}
		w->data = dq;
		w->quant = q;
	}

	/* Bias correction, part 2: layer by layer, so that each correction
	 * sees the corrected layers before it (one sequential walk). */
	if (calib && correct_biases(g, &cc, qo, d))
		goto out;
	if (round_biases(g, T, nt, qo))
		goto oom;
	rc = 0;
	goto out;
oom:
	diag_error(d, NULL, "out of memory quantizing weights");
out:
	if (calib)
		calib_end(g, &cc);
	free(T);
	return rc;
}
