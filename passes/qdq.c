/* qdq.c: fold-qdq, the one place where quantize/dequantize pairs around a
 * float op become the IR's integer op (DESIGN.md, the integer path).
 * requires: shapes; fold-constants first, so that scales and zero points
 * are constants (fold-constants leaves dequantize alone for this pass).
 *
 *   conv|matmul(dequantize(x), dequantize(w) [, bias]) [-> add(bias), matmul]
 *     [-> relu|clip, when the quantize's saturation does the same] -> quantize
 *                                                            => requantized integer op
 *   conv|matmul(dequantize(x, 1), dequantize(w, 1)) -> cast(i32)     => i32 accumulator
 *   add|mul(dequantize(a), dequantize(b)) [-> relu|clip] -> quantize   => integer add/mul
 *   sigmoid|tanh|hard_sigmoid|hard_swish|leaky_relu(dequantize(q)) -> quantize
 *                                                            => a table (lut): 256 entries
 *                                                               for 8 bits, 513 for i16
 *   softmax(dequantize(q)) -> quantize, i8/u8/i16            => integer softmax (exp table)
 *   layer_norm(dequantize(q), Scale, B) -> quantize          => integer layer_norm
 *   concat(dequantize(q_k)...) -> quantize                   => concat of the q_k, each
 *                                                               requantized to the output's grid
 *   global_avg_pool(q) [-> views] -> requantize              => the pool requantizing its sum
 *                                                               (one rounding, not two)
 *
 * First, dequantize sinks through the ops that keep the integer grid
 * (pools, relu, reshapes: ir_op_keeps_quant), which then run on the
 * integers, and quantize(dequantize(q)) becomes q (equal parameters) or
 * q requantized (a quantize of the integer, multiplier s_q / s_out); a
 * quantize rises above the ops that only move or select values.
 *
 * x and w take their dequantize's parameters as the quantization of their
 * type; a bias becomes i32 at scale sx*sw[c] (a dequantized i32 bias at
 * that scale is kept bit for bit).  The requantization multipliers
 * sx*sw[c]/sy are derived here, once, and stored as rq_mult/rq_shift (see
 * ir_requant_multiplier).  A pattern that does not fit (a parameter that
 * is not constant, x quantized two ways, a per-channel output) stays in
 * float.  A quantize to fewer bits than its dtype (int4 in i8) is never
 * folded into the op before it (that op stays in float), though its
 * integers feed integer ops like any others.  Afterwards every dequantize
 * of a constant is folded, so float weights stored as QDQ become plain
 * constants, which keep their codes as an ir_quant where they are a float
 * layer's weight (keep_codes: weight-only quantized models).
 * keeps: shapes; removes the folded nodes (marked dead, compacted). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pass.h"
#include "quant.h"

/* A live dequantize producing v, with constant parameters. */
typedef struct qdq_par {
	ir_node *n;
	ir_value *q;         /* the integer operand */
	const float *s;      /* scales, ns of them */
	int64_t ns;
	const ir_value *z;   /* zero point constant, or NULL */
	int axis;            /* -1 when per tensor */
} qdq_par;

/* A quantize to fewer bits than its dtype holds (ONNX's int4 as i8)?
 * The folds below leave it alone: they assume the dtype's range. */
static bool narrow_q(const ir_node *n)
{
	int64_t w = (int64_t)ir_dtype_size(n->out[0]->dt) * 8; /* 0: not inferred yet */
	return n->op == IR_OP_QUANTIZE && ir_node_attr(n, "bits") &&
	       (w == 0 || ir_attr_int(n, "bits", 0) < w);
}

static bool par_of(const ir_node *n, qdq_par *p)
{
	if (!n || n->dead || (n->op != IR_OP_DEQUANTIZE && n->op != IR_OP_QUANTIZE) || narrow_q(n) ||
	    ir_attr_int(n, "block_size", 0) != 0) /* blocked: stays as it is */
		return false;
	const ir_value *s = n->in[1], *z = n->nin > 2 ? n->in[2] : NULL;
	if (!ir_value_is_const(s) || s->dt != IR_DT_F32 || (z && !ir_value_is_const(z)))
		return false;
	p->n = (ir_node *)n;
	p->q = n->op == IR_OP_DEQUANTIZE ? n->in[0] : n->out[0];
	p->s = s->data;
	p->ns = ir_shape_numel(&s->shape);
	p->z = z;
	p->axis = -1;
	if (p->ns > 1) {
		int r = n->in[0]->shape.rank;
		int64_t a = ir_attr_int(n, "axis", 1);
		p->axis = (int)(a < 0 ? a + r : a);
	}
	return p->ns >= 1;
}

static bool dq_of(const ir_value *v, qdq_par *p)
{
	return v && v->producer && v->producer->op == IR_OP_DEQUANTIZE && par_of(v->producer, p);
}

/* A fresh value named base + tag (made unique), of dtype dt; NULL when
 * out of memory. */
static ir_value *tagged_value(ir_graph *g, const char *base, const char *tag, ir_dtype dt)
{
	return ir_graph_add_value(g, ir_graph_unique_name(g, ir_arena_printf(g->arena, "%s%s", base, tag)), dt, NULL);
}

/* A new i64 constant of n values named base + tag (made unique). */
static ir_value *i64_const(ir_graph *g, const char *base, const char *tag, const int64_t *v, int n)
{
	ir_shape s = ir_shape_make(1, (int64_t[]){n});
	return ir_graph_add_const(g, ir_graph_unique_name(g, ir_arena_printf(g->arena, "%s%s", base, tag)),
	                          IR_DT_I64, &s, v);
}

static int32_t par_zp(const qdq_par *p, int64_t c)
{
	return p->z ? (int32_t)ir_const_get(p->z, p->ns > 1 ? c : 0) : 0;
}

/* The affine activation quant the parameters describe, at the width the
 * integers already have (an int4 activation's 4 bits). */
static ir_quant *par_quant(ir_graph *g, const qdq_par *p)
{
	ir_quant *q = ir_quant_act_create(g, p->q->dt, p->ns > 1 ? p->axis : -1, (int)p->ns);
	if (!q)
		return NULL;
	if (p->q->quant && p->q->quant->scheme == IR_QS_AFFINE && !p->q->quant->codes)
		q->bits = p->q->quant->bits;
	for (int64_t c = 0; c < p->ns; c++) {
		q->scale[c] = p->s[c];
		q->zero_point[c] = par_zp(p, c);
	}
	return q;
}

/* Can v carry quant q in its type (it has none, or the same)? */
static bool fits(const ir_value *v, const ir_quant *q)
{
	return ir_dtype_is_qint(v->dt) && (!v->quant || ir_quant_act_eq(v->quant, q));
}

/* Does quantize's saturation already do what relu/clip `act` does, so
 * that quantize(act(y)) == quantize(y) for every y?  It does when the
 * bounds quantize to (or beyond) the ends of the output range: relu needs
 * 0 -> qmin, i.e. the zero point at qmin. */
static bool act_absorbed(const ir_node *act, const ir_value *q)
{
	const ir_quant *qq = q->quant;
	int64_t qmin, qmax;
	ir_dtype_range(q->dt, &qmin, &qmax);
	double s = qq->scale[0], z = qq->zero_point[0];
	double lo = 0, hi = INFINITY;
	if (act->op == IR_OP_CLIP) {
		lo = -INFINITY;
		if (act->nin > 1 && act->in[1]) {
			if (!ir_value_is_const(act->in[1]))
				return false;
			lo = ir_const_get(act->in[1], 0);
		}
		if (act->nin > 2 && act->in[2]) {
			if (!ir_value_is_const(act->in[2]))
				return false;
			hi = ir_const_get(act->in[2], 0);
		}
	}
	bool lo_ok = isinf(lo) ? lo < 0 : nearbyint((double)((float)lo / (float)s)) + z <= (double)qmin;
	bool hi_ok = isinf(hi) ? hi > 0 : nearbyint((double)((float)hi / (float)s)) + z >= (double)qmax;
	return lo_ok && hi_ok;
}

/* The nodes a fold left in float with a warning that says why, so that
 * warn_float does not warn of them again (past the cap it does). */
typedef struct said_set {
	const ir_node *n[64];
	int cnt;
} said_set;

static void said_add(said_set *s, const ir_node *n)
{
	if (s->cnt < (int)(sizeof s->n / sizeof *s->n))
		s->n[s->cnt++] = n;
}

/* Whether the one rule can express every ratio real[0..nr): a multiplier
 * and shift exist (ir_requant_multiplier), so not above 2^30.  Where one
 * is not (a denormal output scale, say), the op stays in float, where
 * QDQ's own semantics (a saturated output) hold, with a warning. */
static bool rq_fits(ir_graph *g, const ir_node *n, const double *real, int64_t nr, said_set *said,
                    diag_sink *d)
{
	for (int64_t k = 0; k < nr; k++) {
		int32_t mu, sh;
		if (ir_requant_multiplier(real[k], &mu, &sh)) {
			diag_warn(d, ir_node_loc(g, n), "%s stays in float: its requantization ratio %g is past the "
			          "integer multiplier's range (2^30)", ir_op_name(n->op), real[k]);
			said_add(said, n);
			return false;
		}
	}
	return true;
}

/* The multipliers of the real ratios real[0..nr) (ir_requant_multiplier),
 * stored on n as rq_mult/rq_shift.  0, or -1 after reporting a ratio the
 * shift cannot express. */
static int set_requant(ir_graph *g, ir_node *n, const double *real, int64_t nr, diag_sink *d)
{
	int64_t mult[nr > 0 ? nr : 1], shift[nr > 0 ? nr : 1];
	for (int64_t k = 0; k < nr; k++) {
		int32_t mu, sh;
		if (ir_requant_multiplier(real[k], &mu, &sh)) {
			diag_error(d, ir_node_loc(g, n), "requantization multiplier %g is out of range",
			           real[k]);
			return -1;
		}
		mult[k] = mu;
		shift[k] = sh;
	}
	ir_node_set_ints(g, n, "rq_mult", mult, (int)nr);
	ir_node_set_ints(g, n, "rq_shift", shift, (int)nr);
	return 0;
}

/* n now produces the output of u, the quantize it absorbed; u dies. */
static void take_output(ir_node *n, ir_node *u)
{
	ir_value *y = u->out[0];
	n->out[0]->producer = NULL;
	n->out[0] = y;
	y->producer = n;
	u->dead = true;
}

/* The i32 bias at scale sx*sw[c] for channel count m: from a dequantized
 * i32 constant or an f32 constant.  NULL: cannot (left in float). */
static ir_value *int_bias(ir_graph *g, const ir_node *n, const ir_value *b, double sx,
                          const qdq_par *w, int64_t m)
{
	qdq_par bp;
	bool dq = dq_of(b, &bp);
	const ir_value *src = dq ? bp.q : b;
	if (!ir_value_is_const(src) || ir_shape_numel(&src->shape) != m || (dq && src->dt != IR_DT_I32) ||
	    (!dq && src->dt != IR_DT_F32) || (dq && bp.ns != 1 && bp.ns != m))
		return NULL;
	int32_t *v = ir_arena_alloc(g->arena, sizeof(int32_t) * (size_t)(m ? m : 1));
	if (!v)
		return NULL;
	for (int64_t c = 0; c < m; c++) {
		double acc_scale = sx * (double)w->s[w->ns > 1 ? c : 0];
		double real = ir_const_get(src, c), ratio = 1.0;
		if (dq) {
			real -= par_zp(&bp, c);
			ratio = (double)bp.s[bp.ns > 1 ? c : 0] / acc_scale;
		} else {
			ratio = 1.0 / acc_scale;
		}
		double q = fabs(ratio - 1.0) < 1e-6 ? real : nearbyint(real * ratio);
		if (!(q >= INT32_MIN && q <= INT32_MAX))
			return NULL;
		v[c] = (int32_t)q;
	}
	ir_shape s = ir_shape_make(1, &m);
	char *nm = ir_arena_printf(g->arena, "%s.i32", b->name);
	return ir_graph_add_const(g, ir_graph_unique_name(g, nm), IR_DT_I32, &s, v);
}

/* A float bias on a channel whose real multiplier real[c] is 2 or more
 * (rq_shift > 1) lands on the accumulator's grid sx*sw[c], which is
 * coarser than the output's: rounding it moves every output of the
 * channel by up to real[c] / 2 steps.  That is what happens to a channel
 * whose input is dead (BN folding gives it a huge gain, and its output is
 * only the bias).  Such a channel gets its integer weights times 2^e and
 * its weight scale over 2^e, with 2^e <= real[c] and the integers still
 * in the weight's dtype: the same real weights, and the bias on a grid
 * 2^e times finer.  In the one rule this is (acc << e) + fine bias, which
 * TFLite's rule would compute had it kept the bias's bits.  Only where the
 * rounding error is above half an output step, so sub-byte weights stay
 * sub-byte elsewhere.  w: the weight's dequantize, per channel (m
 * scales) or per tensor; the rewrite gives it a new integer constant and
 * per-channel scales and zero points.  1 rewritten, 0 not needed or not possible, -1 out of memory. */
static int fine_bias(ir_graph *g, qdq_par *w, const ir_value *b, int waxis, double sx, const double *real,
                     int64_t m)
{
	const ir_value *q = w->q;
	if (!ir_value_is_const(b) || b->dt != IR_DT_F32 || ir_shape_numel(&b->shape) != m || !ir_value_is_const(q) ||
	    !q->data || (q->dt != IR_DT_I8 && q->dt != IR_DT_U8) || (q->quant && q->quant->codes) ||
	    (w->ns != m && w->ns != 1))
		return 0;
	bool pt = w->ns == 1 && m > 1; /* per tensor: made per channel if rewritten */
	int64_t cnt = ir_shape_numel(&q->shape), inner = 1;
	for (int i = waxis + 1; i < q->shape.rank; i++)
		inner *= q->shape.d[i];
	int32_t *amax = calloc((size_t)m, sizeof *amax); /* the largest |w - zw| of each channel */
	int *e = calloc((size_t)m, sizeof *e);
	if (!amax || !e) {
		free(amax);
		free(e);
		return -1;
	}
	for (int64_t i = 0; i < cnt; i++) {
		int64_t c = (i / inner) % m;
		int32_t v = (int32_t)ir_const_get(q, i) - par_zp(w, c);
		if (abs(v) > amax[c])
			amax[c] = abs(v);
	}
	bool any = false;
	for (int64_t c = 0; c < m; c++) {
		double rl = real[pt ? 0 : c], t = ir_const_get(b, c) / (sx * (double)w->s[pt ? 0 : c]);
		if (!(rl >= 2.0) || !isfinite(t) || fabs(t - nearbyint(t)) * rl <= 0.5)
			continue;
		/* the fine bias stays well inside int32, as the sums it is added to */
		while (e[c] < 30 && (double)(1 << (e[c] + 1)) <= rl && amax[c] << (e[c] + 1) <= 127 &&
		       fabs(t) * (double)(1 << (e[c] + 1)) < (double)(1 << 30))
			e[c]++;
		any |= e[c] > 0;
	}
	int rc = -1;
	if (!any) {
		rc = 0;
		goto out;
	}
	/* the same real weights: (v << e) at scale sw / 2^e, zero point 128
	 * (u8) or 0 (i8) */
	int32_t zf = q->dt == IR_DT_U8 ? 128 : 0;
	uint8_t *nv = ir_arena_alloc(g->arena, (size_t)(cnt ? cnt : 1));
	float *ns = ir_arena_alloc(g->arena, sizeof(float) * (size_t)m);
	uint8_t *nz = ir_arena_alloc(g->arena, (size_t)m);
	if (!nv || !ns || !nz)
		goto out;
	for (int64_t c = 0; c < m; c++) {
		float sc = w->s[pt ? 0 : c];
		ns[c] = e[c] ? ldexpf(sc, -e[c]) : sc;
		nz[c] = (uint8_t)(e[c] ? zf : par_zp(w, c));
	}
	for (int64_t i = 0; i < cnt; i++) {
		int64_t c = (i / inner) % m;
		int32_t v = (int32_t)ir_const_get(q, i);
		nv[i] = (uint8_t)(e[c] ? zf + (v - par_zp(w, c)) * (1 << e[c]) : v);
	}
	ir_shape zs = ir_shape_make(1, &m);
	ir_value *nq = ir_graph_add_const(g, ir_graph_unique_name(g, ir_arena_printf(g->arena, "%s.fb", q->name)),
	                                  q->dt, &q->shape, nv);
	ir_value *nzv = ir_graph_add_const(g, ir_graph_unique_name(g, ir_arena_printf(g->arena, "%s.fb.zp", q->name)),
	                                   q->dt, &zs, nz);
	if (!nq || !nzv)
		goto out;
	w->q = nq;
	w->s = ns;
	w->z = nzv;
	w->ns = m;
	w->axis = waxis;
	rc = 1;
out:
	free(amax);
	free(e);
	return rc;
}

/* Can the int32 accumulator of a matmul of two activations x and w over
 * K products overflow?  K max |x - zx| max |w - zw| over their dtypes'
 * ranges must stay under 2^31: always on 8 bits (K under 33,000), never
 * past K = 1 on i16 x i16, whose products reach 2^30 each (attention's
 * scores at -a 16).  Such a matmul stays in float between its quantizes
 * rather than wrap.  K < 0 (unknown, or a conv): no. */
static bool acc_fits(const qdq_par *px, const qdq_par *pw, int64_t K)
{
	if (K < 0)
		return false;
	int64_t lo, hi, m[2] = {0, 0};
	const qdq_par *p[2] = {px, pw};
	for (int i = 0; i < 2; i++) {
		ir_dtype_range(p[i]->q->dt, &lo, &hi);
		for (int64_t c = 0; c < p[i]->ns; c++) {
			int64_t z = par_zp(p[i], c), a = hi - z > z - lo ? hi - z : z - lo;
			m[i] = a > m[i] ? a : m[i];
		}
	}
	return K * m[0] * m[1] <= INT32_MAX;
}

/* Can the int32 accumulator of a conv or matmul over the constant
 * weights in w (output channels along waxis, m of them) overflow?  Per
 * channel, max |x - zx| over x's dtype times the sum of |w - zw|, plus
 * |bias|, must stay under 2^31: always on 8 bits in practice, not on
 * int16 activations of a few hundred full-scale weights (int16 x int8
 * passes it past 512 products).  Such a layer stays in float between its
 * quantizes rather than wrap.  The largest bound into *worst. */
static bool acc_fits_const(const qdq_par *px, const qdq_par *pw, int waxis, int64_t m, const ir_value *bias,
                           double *worst)
{
	const ir_value *q = pw->q;
	int64_t lo, hi, z = par_zp(px, 0);
	ir_dtype_range(px->q->dt, &lo, &hi);
	double xmax = (double)(hi - z > z - lo ? hi - z : z - lo);
	int64_t cnt = ir_shape_numel(&q->shape), inner = 1;
	for (int i = waxis + 1; i < q->shape.rank; i++)
		inner *= q->shape.d[i];
	int64_t outer = m > 0 && inner > 0 ? cnt / (m * inner) : 0;
	*worst = 0;
	for (int64_t c = 0; c < m; c++) {
		double sum = bias ? fabs(ir_const_get(bias, c)) : 0.0, zw = (double)par_zp(pw, pw->ns > 1 ? c : 0);
		for (int64_t o = 0; o < outer; o++)
			for (int64_t j = 0; j < inner; j++)
				sum += xmax * fabs(ir_const_get(q, (o * m + c) * inner + j) - zw);
		*worst = sum > *worst ? sum : *worst;
	}
	return *worst <= (double)INT32_MAX;
}

/* Try the patterns on conv/matmul node n.  1 folded, 0 not, -1 error. */
static int fold_one(ir_graph *g, ir_node *n, said_set *said, diag_sink *d)
{
	bool conv = n->op == IR_OP_CONV;
	qdq_par px, pw, py;
	if (!dq_of(n->in[0], &px) || !dq_of(n->in[1], &pw) || px.ns != 1)
		return 0;
	const ir_shape *ws = &pw.q->shape;
	if (ws->rank < 1)
		return 0;
	int waxis = conv ? 0 : ws->rank - 1;
	int64_t m = conv ? ws->d[0] : (ws->rank >= 2 ? ws->d[ws->rank - 1] : 1);
	if (pw.ns > 1 && (pw.axis != waxis || pw.ns != m))
		return 0;
	ir_quant *qx = par_quant(g, &px), *qw = par_quant(g, &pw);
	if (!qx || !qw || !fits(px.q, qx) || !fits(pw.q, qw))
		return 0;
	int64_t K = conv ? -1 : (ws->rank >= 2 ? ws->d[ws->rank - 2] : ws->d[0]);
	if (!ir_value_is_const(pw.q) && !acc_fits(&px, &pw, K)) {
		diag_warn(d, ir_node_loc(g, n), "matmul of two activations stays in float: %s x %s products over "
		          "K = %lld could overflow its int32 accumulator", ir_dtype_name(px.q->dt),
		          ir_dtype_name(pw.q->dt), (long long)K);
		said_add(said, n);
		return 0;
	}
	/* The output: [matmul's bias add ->] [relu/clip ->] quantize
	 * (requantized), or cast to i32 (the accumulator). */
	ir_node *u = ir_value_sole_user(g, n->out[0]), *badd = NULL, *act = NULL;
	ir_value *mbias = conv ? NULL : pass_matmul_bias(n, u);
	if (!u)
		return 0;
	if (mbias) {
		badd = u;
		if (!(u = ir_value_sole_user(g, u->out[0])))
			return 0;
	}
	/* a positive scalar scale after it goes into the requantization */
	ir_node *scl = NULL;
	double sc = conv ? 0 : pass_matmul_scale(u, badd ? badd->out[0] : n->out[0]);
	if (sc > 0) {
		scl = u;
		if (!(u = ir_value_sole_user(g, u->out[0])))
			return 0;
	}
	if (u->op == IR_OP_RELU || u->op == IR_OP_CLIP) {
		act = u;
		if (!(u = ir_value_sole_user(g, u->out[0])))
			return 0;
	}
	bool requant = u->op == IR_OP_QUANTIZE && par_of(u, &py) && py.ns == 1 &&
	               u->out[0]->quant;
	bool acc = u->op == IR_OP_CAST && strcmp(ir_attr_str(u, "to", ""), "i32") == 0 &&
	           !(conv && n->nin > 2 && n->in[2]) && !badd && !scl && !act;
	if (acc)
		for (int64_t c = 0; c < pw.ns; c++)
			acc = acc && pw.s[c] == 1.0f && px.s[0] == 1.0f;
	if (!requant && !acc)
		return 0;
	if (act && !act_absorbed(act, u->out[0]))
		return 0;
	ir_value *bias = NULL, *bsrc = conv ? (n->nin > 2 ? n->in[2] : NULL) : mbias;
	int64_t nrq = pw.ns;
	double real[m > nrq ? m : nrq > 0 ? nrq : 1];
	double f = scl ? sc : 1.0;
	for (int64_t c = 0; requant && c < nrq; c++) /* py only exists when requantizing */
		real[c] = (double)px.s[0] * (double)pw.s[c] * f / (double)py.s[0];
	if (requant && bsrc && (nrq == m || nrq == 1)) {
		int r = fine_bias(g, &pw, bsrc, waxis, px.s[0], real, m);
		if (r < 0 || (r > 0 && !(qw = par_quant(g, &pw)))) {
			diag_error(d, NULL, "out of memory");
			return -1;
		}
		nrq = pw.ns; /* a per-tensor weight rewritten is per channel */
		for (int64_t c = 0; r > 0 && c < nrq; c++)
			real[c] = (double)px.s[0] * (double)pw.s[c] * f / (double)py.s[0];
	}
	if (bsrc && !(bias = int_bias(g, n, bsrc, px.s[0], &pw, m)))
		return 0;
	double worst;
	if (ir_value_is_const(pw.q) && pw.q->data && !acc_fits_const(&px, &pw, waxis, m, bias, &worst)) {
		diag_warn(d, ir_node_loc(g, n), "%s stays in float: %s x %s sums of its weights could reach %.3g, "
		          "past its int32 accumulator", ir_op_name(n->op), ir_dtype_name(px.q->dt),
		          ir_dtype_name(pw.q->dt), worst);
		said_add(said, n);
		return 0;
	}
	if (requant && !rq_fits(g, n, real, nrq, said, d))
		return 0;
	if (requant && set_requant(g, n, real, nrq, d)) {
		diag_note(d, ir_node_loc(g, n), "input scale %g, weight scale %g, output scale %g",
		          (double)px.s[0], (double)pw.s[0], (double)py.s[0]);
		return -1;
	}
	/* Rewrite: n reads the integers and produces u's output. */
	if (!px.q->quant)
		px.q->quant = qx;
	if (!pw.q->quant)
		pw.q->quant = qw;
	n->in[0] = px.q;
	n->in[1] = pw.q;
	if (bias && conv)
		n->in[2] = bias;
	if (bias && !conv) { /* matmul takes the bias as its third operand */
		ir_value **in = ir_arena_alloc(g->arena, 3 * sizeof *in);
		if (!in)
			return -1;
		in[0] = px.q;
		in[1] = pw.q;
		in[2] = bias;
		n->in = in;
		n->nin = 3;
	}
	if (badd)
		badd->dead = true;
	if (scl)
		scl->dead = true;
	if (act)
		act->dead = true;
	take_output(n, u);
	return 1;
}

/* gemm(dequantize(x), dequantize(W), [C]) with alpha = beta = 1,
 * trans_a = 0 and W an integer constant [N, K] or [K, N]: how quantizers
 * export a Linear layer.  It becomes matmul(dequantize(x),
 * dequantize(W')) [+ C], W' = [K, N] (W's integers transposed when
 * trans_b, with their per-axis parameters on the other axis), the form
 * fold_one folds.  Only when fold_one then folds it: else the gemm stays.
 * 1 folded, 0 not, -1 error (reported). */
static int fold_gemm(ir_graph *g, ir_node *n, said_set *said, diag_sink *d)
{
	qdq_par px, pw;
	if (ir_attr_float(n, "alpha", 1.0f) != 1.0f || ir_attr_float(n, "beta", 1.0f) != 1.0f ||
	    ir_attr_int(n, "trans_a", 0) != 0 || !dq_of(n->in[0], &px) || !dq_of(n->in[1], &pw) ||
	    !ir_value_is_const(pw.q) || !pw.q->data || pw.q->shape.rank != 2 ||
	    ir_dtype_size(pw.q->dt) != 1 || (pw.q->quant && pw.q->quant->codes) ||
	    ir_value_sole_user(g, n->out[0]) == NULL)
		return 0;
	ir_value *w = n->in[1];
	ir_node *keep = ir_arena_alloc(g->arena, sizeof *keep);
	ir_value **kin = ir_arena_alloc(g->arena, sizeof *kin * (size_t)n->nin);
	if (!keep || !kin)
		goto oom;
	*keep = *n; /* to put back if fold_one does not fold */
	memcpy(kin, n->in, sizeof *kin * (size_t)n->nin);
	if (ir_attr_int(n, "trans_b", 0)) {
		int64_t N = pw.q->shape.d[0], K = pw.q->shape.d[1], dims[2] = {K, N};
		const uint8_t *src = pw.q->data;
		uint8_t *t = ir_arena_alloc(g->arena, (size_t)(N * K > 0 ? N * K : 1));
		if (!t)
			goto oom;
		for (int64_t i = 0; i < N; i++)
			for (int64_t k = 0; k < K; k++)
				t[k * N + i] = src[i * K + k];
		ir_shape s = ir_shape_make(2, dims);
		ir_value *qt = ir_graph_add_const(
			g, ir_graph_unique_name(g, ir_arena_printf(g->arena, "%s.T", pw.q->name)), pw.q->dt, &s, t);
		ir_value *wt = tagged_value(g, w->name, ".T", IR_DT_F32);
		if (!qt || !wt)
			goto oom;
		ir_value *din[3] = {qt, pw.n->in[1], pw.n->nin > 2 ? pw.n->in[2] : NULL};
		ir_node *dq = ir_graph_add_node(g, IR_OP_DEQUANTIZE, pw.n->name, din[2] ? 3 : 2, din, 1, &wt);
		if (!dq)
			goto oom;
		if (pw.ns > 1)
			ir_node_set_int(g, dq, "axis", 1 - pw.axis);
		if (ir_infer_node(g, dq, d))
			return -1;
		w = wt;
	}
	ir_value *y = n->out[0];
	if (pass_gemm_as_matmul(g, n, w))
		goto oom;
	ir_node *add = y->producer != n ? y->producer : NULL;
	if (ir_infer_node(g, n, d) || (add && ir_infer_node(g, add, d)))
		return -1;
	int r = fold_one(g, n, said, d);
	if (r != 0)
		return r;
	/* Not folded: the gemm as it was (the nodes made are dead ends). */
	if (add) {
		add->dead = true;
		add->in[0]->producer = NULL;
		y->producer = n;
	}
	*n = *keep;
	n->in = kin;
	n->out[0] = y;
	return 0;
oom:
	diag_error(d, NULL, "out of memory");
	return -1;
}

/* Same per-tensor parameters and dtype? */
static bool same_par(const qdq_par *a, const qdq_par *b)
{
	return a->ns == 1 && b->ns == 1 && a->q->dt == b->q->dt && a->s[0] == b->s[0] &&
	       par_zp(a, 0) == par_zp(b, 0);
}

/* For a constant-mode pad n of a value quantized as p: its constant as an
 * integer constant in *out (the quantized value, which must be exact);
 * other ops need none.  1 fine (*out NULL when none is needed), 0 the
 * constant is off the grid, -1 out of memory. */
static int int_pad_value(ir_graph *g, const ir_node *n, const qdq_par *p, ir_value **out)
{
	*out = NULL;
	if (n->op != IR_OP_PAD || strcmp(ir_attr_str(n, "mode", "constant"), "constant") != 0)
		return 1;
	double v = n->nin > 2 && n->in[2] ? ir_const_get(n->in[2], 0) : 0.0;
	double q = v / p->s[0] + par_zp(p, 0);
	int64_t lo, hi;
	ir_value_range(p->q, &lo, &hi); /* an int4 value's, if it is one */
	if (q != nearbyint(q) || q < (double)lo || q > (double)hi)
		return 0;
	unsigned char buf[2];
	uint16_t q16 = (uint16_t)(int64_t)q; /* the bits of an i16 or u16 */
	if (ir_dtype_size(p->q->dt) == 2)
		memcpy(buf, &q16, 2);
	else
		buf[0] = (unsigned char)q16;
	ir_shape s0 = ir_shape_make(0, NULL);
	*out = ir_graph_add_const(g, ir_graph_unique_name(g, "pad.zero_point"), p->q->dt, &s0, buf);
	return *out ? 1 : -1;
}

/* Make v pad n's constant (operand 2). */
static int set_pad_value(ir_graph *g, ir_node *n, ir_value *v)
{
	if (n->nin < 3) {
		ir_value **in = ir_arena_alloc(g->arena, 3 * sizeof *in);
		if (!in)
			return -1;
		memcpy(in, n->in, sizeof *in * (size_t)n->nin);
		for (int j = n->nin; j < 3; j++)
			in[j] = NULL;
		n->in = in;
		n->nin = 3;
	}
	n->in[2] = v;
	return 0;
}

/* quantize(op(x)) for an op that moves or selects values on any grid
 * (pad, reshapes, max pools, relu: not averages, which round) is
 * op(quantize(x)) on the integers: the quantize rises toward the graph's
 * input, so that --io int finds it there.  1 done, 0 not, -1 error. */
static int hoist_q(ir_graph *g, ir_node *u)
{
	qdq_par pu;
	ir_node *n = u->in[0] ? u->in[0]->producer : NULL;
	if (!n || n->dead || !ir_node_keeps_quant(n) || n->op == IR_OP_AVG_POOL ||
	    n->op == IR_OP_GLOBAL_AVG_POOL || !par_of(u, &pu) || pu.ns != 1 || n->nin < 1 ||
	    !n->in[0] || n->in[0]->dt != IR_DT_F32 || ir_value_sole_user(g, n->out[0]) != u)
		return 0;
	for (int j = 1; j < n->nin; j++)
		if (n->in[j] && !ir_value_is_const(n->in[j]))
			return 0;
	for (int j = 1; j < n->nout; j++)
		if (n->out[j])
			return 0;
	ir_value *pad_value = NULL;
	int pr = int_pad_value(g, n, &pu, &pad_value);
	if (pr <= 0)
		return pr;
	ir_value *x = n->in[0];
	ir_value *qx = tagged_value(g, x->name, ".q", u->out[0]->dt);
	if (!qx)
		return -1;
	ir_value *qin[3] = {x, u->in[1], u->nin > 2 ? u->in[2] : NULL};
	ir_node *q = ir_graph_add_node(g, IR_OP_QUANTIZE, u->name, qin[2] ? 3 : 2, qin, 1, &qx);
	if (!q)
		return -1;
	ir_node_set_int(g, q, "axis", ir_attr_int(u, "axis", 1));
	const char *dt = ir_attr_str(u, "dtype", NULL);
	if (dt)
		ir_node_set_str(g, q, "dtype", dt);
	n->in[0] = qx;
	if (pad_value && set_pad_value(g, n, pad_value))
		return -1;
	take_output(n, u);
	return 1;
}

/* n keeps its operand's grid (ir_op_keeps_quant) and reads
 * dequantize(q): make it read q and dequantize its integer result
 * instead, so the dequantize sinks toward the next integer op or
 * quantize (an average then rounds on its input's grid, and a following
 * quantize to other parameters requantizes).  1 done, 0 not, -1 out of
 * memory. */
static int sink_dq(ir_graph *g, ir_node *n)
{
	qdq_par p;
	if (!ir_node_keeps_quant(n) || n->nin < 1 || !dq_of(n->in[0], &p) || p.ns != 1 ||
	    !ir_dtype_is_qint(p.q->dt) || n->in[0]->dt != IR_DT_F32)
		return 0;
	for (int j = 1; j < n->nin; j++)
		if (n->in[j] && !ir_value_is_const(n->in[j]))
			return 0;
	for (int j = 1; j < n->nout; j++)
		if (n->out[j])
			return 0; /* max_pool's Indices, dropout's mask */
	ir_quant *qx = par_quant(g, &p);
	if (!qx || !fits(p.q, qx))
		return 0;
	ir_value *pad_value = NULL;
	int pr = int_pad_value(g, n, &p, &pad_value);
	if (pr <= 0)
		return pr;
	ir_value *y = n->out[0];
	ir_value *qy = tagged_value(g, y->name, ".q", p.q->dt);
	if (!qy)
		return -1;
	if (!p.q->quant)
		p.q->quant = qx;
	n->in[0] = p.q;
	if (pad_value && set_pad_value(g, n, pad_value))
		return -1;
	n->out[0] = qy;
	qy->producer = n;
	y->producer = NULL;
	ir_value *din[3] = {qy, p.n->in[1], p.n->nin > 2 ? p.n->in[2] : NULL};
	ir_node *dq = ir_graph_add_node(g, IR_OP_DEQUANTIZE, p.n->name, din[2] ? 3 : 2, din, 1, &y);
	if (!dq)
		return -1;
	ir_node_set_int(g, dq, "axis", ir_attr_int(p.n, "axis", 1));
	return 1;
}

/* quantize(dequantize(q)) is q with the same parameters, else the
 * requantization of q (quantize of an integer, multiplier s_q / s_out).
 * 1 done, 0 not, -1 error (reported). */
static int drop_qdq(ir_graph *g, ir_node *u, said_set *said, diag_sink *d)
{
	qdq_par p, pu;
	if (u->op != IR_OP_QUANTIZE || !par_of(u, &pu) || !dq_of(u->in[0], &p) || p.ns != 1 ||
	    pu.ns != 1 || !ir_dtype_is_qint(p.q->dt))
		return 0;
	if (!same_par(&p, &pu)) {
		ir_quant *qx = par_quant(g, &p);
		double real = (double)p.s[0] / (double)pu.s[0];
		if (!qx || !fits(p.q, qx) || !rq_fits(g, u, &real, 1, said, d))
			return 0;
		if (set_requant(g, u, &real, 1, d))
			return -1;
		if (!p.q->quant)
			p.q->quant = qx;
		u->in[0] = p.q;
		return 1;
	}
	if (ir_value_is_output(g, u->out[0]))
		return 0; /* keep the output's name */
	ir_quant *qx = par_quant(g, &p);
	if (!qx || !fits(p.q, qx))
		return 0;
	if (!p.q->quant)
		p.q->quant = qx;
	ir_graph_replace_uses(g, u->out[0], p.q);
	u->dead = true;
	return 1;
}

/* requantize(view...(global_avg_pool(q))), the views (flatten, reshape,
 * squeeze) each read only by the next: the pool averages on q's grid and
 * the requantization rounds again onto the output's.  Folded, the pool
 * requantizes its sum: rq_mult/rq_shift of s_x / (s_y * count), one
 * rounding (ir/k_pool.c), and its output and the views carry the output's
 * grid.  1 done, 0 not, -1 error (reported). */
static int fold_pool_rq(ir_graph *g, ir_node *u, diag_sink *d)
{
	qdq_par pu;
	if (u->op != IR_OP_QUANTIZE || !ir_attr_ints(u, "rq_mult", NULL) || !ir_dtype_is_qint(u->in[0]->dt) ||
	    !par_of(u, &pu) || pu.ns != 1 || !u->out[0]->quant || u->out[0]->quant->nchan != 1)
		return 0;
	ir_node *top = u->in[0]->producer, *cur = u, *p = top;
	while (p && !p->dead && ir_op_table[p->op].mem == IR_MEM_VIEW && p->nin >= 1 && p->in[0] &&
	       ir_value_sole_user(g, p->out[0]) == cur) {
		cur = p;
		p = p->in[0]->producer;
	}
	if (!p || p->dead || p->op != IR_OP_GLOBAL_AVG_POOL || ir_node_attr(p, "rq_mult") ||
	    ir_value_sole_user(g, p->out[0]) != cur) /* (a graph output has no sole user) */
		return 0;
	const ir_value *x = p->in[0];
	const ir_quant *qx = x->quant;
	if (!ir_dtype_is_qint(x->dt) || x->dt != u->out[0]->dt || !qx || qx->nchan != 1 || !qx->scale ||
	    x->shape.rank < 3)
		return 0;
	int64_t cnt = 1; /* the spatial extent (the batch may be symbolic) */
	for (int i = 2; i < x->shape.rank; i++)
		cnt = x->shape.d[i] > 0 && cnt <= INT32_MAX ? cnt * x->shape.d[i] : 0;
	if (cnt < 1 || cnt > INT32_MAX)
		return 0;
	double real = (double)qx->scale[0] / ((double)pu.s[0] * (double)cnt);
	int32_t mu, sh;
	if (ir_requant_multiplier(real, &mu, &sh))
		return 0; /* the pool and the quantize stay apart */
	if (set_requant(g, p, &real, 1, d))
		return -1;
	p->out[0]->quant = u->out[0]->quant;
	take_output(top, u);
	return 1;
}

/* add|mul(dequantize(a), dequantize(b)) [-> relu/clip absorbed] ->
 * quantize: the integer add (TFLite's: both inputs rescaled to twice the
 * larger scale at 2^left_shift, summed, requantized) or mul (the product
 * requantized by sa*sb/sy).  1 done, 0 not, -1 error (reported). */
static int fold_eltwise(ir_graph *g, ir_node *n, said_set *said, diag_sink *d)
{
	qdq_par pa, pb, py;
	if (!dq_of(n->in[0], &pa) || !dq_of(n->in[1], &pb) || pa.ns != 1 || pb.ns != 1 ||
	    pa.q->dt != pb.q->dt || !ir_dtype_is_qint(pa.q->dt))
		return 0;
	ir_node *u = ir_value_sole_user(g, n->out[0]), *act = NULL;
	if (u && n->op == IR_OP_ADD && (u->op == IR_OP_RELU || u->op == IR_OP_CLIP)) {
		act = u;
		u = ir_value_sole_user(g, u->out[0]);
	}
	if (!u || u->op != IR_OP_QUANTIZE || !par_of(u, &py) || py.ns != 1 || !u->out[0]->quant ||
	    u->out[0]->dt != pa.q->dt || (act && !act_absorbed(act, u->out[0])))
		return 0;
	ir_quant *qa = par_quant(g, &pa), *qb = par_quant(g, &pb);
	if (!qa || !qb || !fits(pa.q, qa) || !fits(pb.q, qb))
		return 0;
	double sa = pa.s[0], sb = pb.s[0], sy = py.s[0];
	int ls = ir_dtype_size(pa.q->dt) == 2 ? 15 : 20;
	double real[3];
	int nr = 1;
	if (n->op == IR_OP_ADD) {
		double twice = 2.0 * (sa > sb ? sa : sb);
		real[0] = sa / twice;
		real[1] = sb / twice;
		real[2] = twice / ((double)(1 << ls) * sy);
		nr = 3;
	} else {
		real[0] = sa * sb / sy;
	}
	if (!rq_fits(g, n, real, nr, said, d))
		return 0;
	if (set_requant(g, n, real, nr, d))
		return -1;
	if (n->op == IR_OP_ADD)
		ir_node_set_int(g, n, "left_shift", ls);
	if (!pa.q->quant)
		pa.q->quant = qa;
	if (!pb.q->quant)
		pb.q->quant = qb;
	n->in[0] = pa.q;
	n->in[1] = pb.q;
	take_output(n, u);
	if (act)
		act->dead = true;
	return 1;
}

/* dequantize(q) -> sigmoid|tanh|hard_sigmoid|hard_swish|leaky_relu ->
 * quantize, in and out of one integer dtype (i8, u8, i16): the op becomes
 * a table (ir_act_lut_len entries: every 8-bit code, or every 128th i16
 * code) of the quantize of the op of each dequantized code, computed here
 * once by the interpreter's own kernels (so the table is the float
 * graph's answer on every code it holds).  1 done, 0 not, -1 error. */
static int fold_lut(ir_graph *g, ir_node *n, diag_sink *d)
{
	enum { MAXN = 513 };
	qdq_par p, py;
	if (!dq_of(n->in[0], &p) || p.ns != 1 || !ir_act_lut_len(p.q->dt))
		return 0;
	ir_node *u = ir_value_sole_user(g, n->out[0]);
	if (!u || u->op != IR_OP_QUANTIZE || !par_of(u, &py) || py.ns != 1 || u->out[0]->dt != p.q->dt ||
	    !u->out[0]->quant)
		return 0;
	ir_quant *qx = par_quant(g, &p);
	if (!qx || !fits(p.q, qx))
		return 0;
	int64_t lo, hi, cnt = ir_act_lut_len(p.q->dt), step = cnt == 256 ? 1 : 128;
	ir_dtype_range(p.q->dt, &lo, &hi);
	float xs[MAXN], fs[MAXN];
	int16_t qs[MAXN]; /* room for either dtype */
	for (int64_t i = 0; i < cnt; i++)
		xs[i] = ((float)(lo + step * i) - (float)par_zp(&p, 0)) * p.s[0];
	ir_shape sn = ir_shape_make(1, &cnt);
	ir_tensor tx = {IR_DT_F32, sn, xs}, tf = {IR_DT_F32, sn, fs}, tq = {p.q->dt, sn, qs};
	const ir_tensor *ain[1] = {&tx};
	ir_tensor *aout[1] = {&tf};
	ir_tensor ts = {IR_DT_F32, u->in[1]->shape, u->in[1]->data};
	ir_tensor tz = {0};
	if (u->nin > 2 && u->in[2])
		tz = (ir_tensor){u->in[2]->dt, u->in[2]->shape, u->in[2]->data};
	const ir_tensor *qin[3] = {&tf, &ts, u->nin > 2 && u->in[2] ? &tz : NULL};
	ir_tensor *qout[1] = {&tq};
	/* the f32 kernels read only n's attributes, and shapes from tensors */
	if (ir_eval_node(n, ain, aout, d) || ir_eval_node(u, qin, qout, d))
		return -1;
	int64_t lut[MAXN];
	for (int64_t i = 0; i < cnt; i++)
		lut[i] = (int64_t)ir_elem_get(qs, p.q->dt, i);
	if (!p.q->quant)
		p.q->quant = qx;
	n->in[0] = p.q;
	take_output(n, u);
	ir_node_set_ints(g, n, "lut", lut, (int)cnt);
	return 1;
}

/* dequantize(q) -> softmax -> quantize, in and out of one dtype (i8, u8,
 * i16): the integer softmax (ir/k_reduce.c).  8-bit: lut[d] =
 * round(exp(-s_in * d) * 2^15) for the distance d = 0..255 of a code from
 * its slice's largest.  i16: 513 entries at d = k 2^sh, sh the smallest
 * shift (at most 7) whose last entry is past where exp rounds to 0, so the
 * steps the engines interpolate over stay short.  rq_mult = 1 / s_out,
 * which must be (within 1e-4) a whole number, as for the usual output
 * scales 1/256, 1/255 and 1/32767.  1 done, 0 not, -1 error. */
static int fold_softmax(ir_graph *g, ir_node *n)
{
	qdq_par p, py;
	if (!dq_of(n->in[0], &p) || p.ns != 1)
		return 0;
	ir_dtype dt = p.q->dt;
	if (dt != IR_DT_I8 && dt != IR_DT_U8 && dt != IR_DT_I16)
		return 0;
	ir_node *u = ir_value_sole_user(g, n->out[0]);
	if (!u || u->op != IR_OP_QUANTIZE || !par_of(u, &py) || py.ns != 1 || u->out[0]->dt != dt ||
	    !u->out[0]->quant)
		return 0;
	double inv = 1.0 / (double)py.s[0], m = nearbyint(inv);
	if (m < 1 || m >= 2147483648.0 || fabs(inv - m) > 1e-4 * inv)
		return 0;
	ir_quant *qx = par_quant(g, &p);
	if (!qx || !fits(p.q, qx))
		return 0;
	int cnt = dt == IR_DT_I16 ? 513 : 256, sh = 0;
	double s = (double)p.s[0];
	while (cnt == 513 && sh < 7 && s * (double)(512 << sh) < log(65536.0))
		sh++;
	int64_t lut[513], mult = (int64_t)m;
	for (int k = 0; k < cnt; k++)
		lut[k] = (int64_t)nearbyint(exp(-s * (double)((int64_t)k << sh)) * 32768.0);
	if (!p.q->quant)
		p.q->quant = qx;
	n->in[0] = p.q;
	take_output(n, u);
	ir_node_set_ints(g, n, "lut", lut, cnt);
	if (cnt == 513)
		ir_node_set_int(g, n, "lut_shift", sh);
	ir_node_set_ints(g, n, "rq_mult", &mult, 1);
	return 1;
}

/* dequantize(q) -> layer_norm(Scale, B) -> quantize, in and out of one
 * dtype (i8, u8, i16, per tensor), Scale and B f32 constants: the integer
 * layer_norm (ir/k_reduce.c).  With g = Scale, b = B and sy the output
 * scale and zy its zero point, G_j = round(g_j / sy 2^(T+10)), B_j =
 * round(b_j / sy 2^T) + zy 2^T + 2^(T-1), T the largest in [1, 31] with
 * max |G_j| <= 2^30 and (sqrt(L) max |g / sy| + max |b / sy| + |zy| + 1)
 * 2^T <= 2^30 (the normalised value is at most sqrt(L) in size, so the
 * i32 sum cannot overflow), and
 * ln_eps = round(epsilon L^2 / sx^2).  Scale and B stay its operands (the
 * QDQ export writes them; the engines read only the integers).  Rows over
 * 4096 elements, an ln_eps over 2^40 (a grid far finer than
 * sqrt(epsilon)), output scales too fine for T >= 1, or Mean/InvStdDev
 * read stay in float.  1 done, 0 not. */
static int fold_layer_norm(ir_graph *g, ir_node *n)
{
	qdq_par p, py;
	if (!dq_of(n->in[0], &p) || p.ns != 1)
		return 0;
	ir_dtype dt = p.q->dt;
	if ((dt != IR_DT_I8 && dt != IR_DT_U8 && dt != IR_DT_I16) || n->in[0]->shape.rank < 1)
		return 0;
	for (int k = 1; k < n->nout; k++)
		if (n->out[k] && ir_value_use_count(g, n->out[k]) > 0)
			return 0;
	const ir_value *sc = n->in[1], *bv = n->nin > 2 ? n->in[2] : NULL;
	if (!ir_value_is_const(sc) || sc->dt != IR_DT_F32 || (bv && (!ir_value_is_const(bv) || bv->dt != IR_DT_F32)))
		return 0;
	ir_node *u = ir_value_sole_user(g, n->out[0]);
	if (!u || u->op != IR_OP_QUANTIZE || !par_of(u, &py) || py.ns != 1 || u->out[0]->dt != dt ||
	    !u->out[0]->quant)
		return 0;
	const ir_shape *xs = &n->in[0]->shape;
	int a = (int)ir_attr_int(n, "axis", -1);
	a = a < 0 ? a + xs->rank : a;
	if (a < 0 || a >= xs->rank)
		return 0;
	int64_t len = 1;
	for (int i = a; i < xs->rank; i++)
		len = xs->d[i] < 0 || len < 0 ? -1 : len * xs->d[i];
	int64_t ng = ir_shape_numel(&sc->shape), nb = bv ? ir_shape_numel(&bv->shape) : 1;
	if (len < 1 || len > 4096 || (ng != len && ng != 1) || (nb != len && nb != 1))
		return 0;
	double sx = p.s[0], sy = py.s[0], eps = ir_attr_float(n, "epsilon", 1e-5f);
	double E = nearbyint(eps * (double)len * (double)len / (sx * sx));
	if (!(sx > 0) || !(sy > 0) || !(E >= 0) || E > ldexp(1, 40))
		return 0;
	const float *gp = sc->data, *bp = bv ? bv->data : NULL;
	double gmax = 0, bmax = 0;
	for (int64_t j = 0; j < ng; j++)
		gmax = fmax(gmax, fabs(gp[j] / sy));
	for (int64_t j = 0; bp && j < nb; j++)
		bmax = fmax(bmax, fabs(bp[j] / sy));
	if (!isfinite(gmax) || !isfinite(bmax))
		return 0;
	int32_t zy = par_zp(&py, 0);
	double span = sqrt((double)len) * gmax + bmax + fabs((double)zy) + 1;
	int T = 31;
	while (T > 1 && (gmax * ldexp(1, T + 10) > ldexp(1, 30) || span * ldexp(1, T) > ldexp(1, 30)))
		T--;
	if (gmax * ldexp(1, T + 10) > ldexp(1, 30) || span * ldexp(1, T) > ldexp(1, 30))
		return 0;
	int64_t *G = ir_arena_alloc(g->arena, sizeof(int64_t) * (size_t)ng);
	int64_t *B = ir_arena_alloc(g->arena, sizeof(int64_t) * (size_t)nb);
	ir_quant *qx = par_quant(g, &p);
	if (!G || !B || !qx || !fits(p.q, qx))
		return 0;
	for (int64_t j = 0; j < ng; j++)
		G[j] = (int64_t)nearbyint((double)gp[j] / sy * ldexp(1, T + 10));
	for (int64_t j = 0; j < nb; j++)
		B[j] = (bp ? (int64_t)nearbyint((double)bp[j] / sy * ldexp(1, T)) : 0) + ((int64_t)zy << T) +
		       ((int64_t)1 << (T - 1));
	if (!p.q->quant)
		p.q->quant = qx;
	n->in[0] = p.q;
	for (int k = 1; k < n->nout; k++)
		if (n->out[k]) {
			n->out[k]->producer = NULL;
			n->out[k] = NULL;
		}
	n->nout = 1;
	take_output(n, u);
	ir_node_set_ints(g, n, "ln_mult", G, (int)ng);
	ir_node_set_ints(g, n, "ln_bias", B, (int)nb);
	ir_node_set_int(g, n, "ln_shift", T);
	ir_node_set_int(g, n, "ln_eps", (int64_t)E);
	return 1;
}

/* concat(dequantize(q_1), ..., dequantize(q_n)) -> quantize: a concat of
 * the integers, each input first requantized to the output's parameters
 * where its own differ (a quantize of the integer).  1 done, 0 not, -1
 * error (reported). */
static int fold_concat(ir_graph *g, ir_node *n, said_set *said, diag_sink *d)
{
	qdq_par py;
	ir_node *u = ir_value_sole_user(g, n->out[0]);
	if (!u || u->op != IR_OP_QUANTIZE || !par_of(u, &py) || py.ns != 1 || !u->out[0]->quant ||
	    !ir_dtype_is_qint(u->out[0]->dt))
		return 0;
	qdq_par p[n->nin > 0 ? n->nin : 1];
	for (int k = 0; k < n->nin; k++) {
		if (!n->in[k] || !dq_of(n->in[k], &p[k]) || p[k].ns != 1 || p[k].q->dt != u->out[0]->dt)
			return 0;
		ir_quant *qk = par_quant(g, &p[k]);
		double real = (double)p[k].s[0] / (double)py.s[0];
		if (!qk || !fits(p[k].q, qk) || (!same_par(&p[k], &py) && !rq_fits(g, n, &real, 1, said, d)))
			return 0;
	}
	for (int k = 0; k < n->nin; k++) {
		ir_quant *qk = par_quant(g, &p[k]);
		if (!qk)
			return -1;
		if (!p[k].q->quant)
			p[k].q->quant = qk;
		ir_value *src = p[k].q;
		if (!same_par(&p[k], &py)) {
			double real = (double)p[k].s[0] / (double)py.s[0];
			ir_value *rq = tagged_value(g, src->name, ".rq", src->dt);
			ir_value *qin[3] = {src, u->in[1], u->nin > 2 ? u->in[2] : NULL};
			ir_node *q = rq ? ir_graph_add_node(g, IR_OP_QUANTIZE, n->name, qin[2] ? 3 : 2, qin, 1, &rq)
			                : NULL;
			if (!q || set_requant(g, q, &real, 1, d))
				return -1;
			src = rq;
		}
		n->in[k] = src;
	}
	take_output(n, u);
	return 1;
}

/* A gemm fold_gemm does not take for its attributes (alpha, beta,
 * trans_a), rather than for its operands? */
static bool gemm_odd(const ir_node *n)
{
	return ir_attr_int(n, "trans_a", 0) || ir_attr_float(n, "alpha", 1.0f) != 1.0f ||
	       ir_attr_float(n, "beta", 1.0f) != 1.0f;
}

/* Every node still computing in float between a dequantize and a
 * quantize: the integer path has no form of it (yet).  Said, never
 * silent. */
static void warn_float(ir_graph *g, const said_set *said, diag_sink *d)
{
	/* one warning per source node and op: an unrolled lstm has hundreds
	 * of nodes of one source node */
	enum { MAXW = 64 };
	struct { const ir_node *first; ir_op op; int64_t bits; int count; } w[MAXW];
	int nw = 0;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead || n->op == IR_OP_QUANTIZE || n->op == IR_OP_DEQUANTIZE || n->nout < 1 ||
		    !n->out[0] || n->out[0]->dt != IR_DT_F32)
			continue;
		bool from_dq = false;
		for (int j = 0; j < n->nin; j++)
			from_dq |= n->in[j] && n->in[j]->producer && !n->in[j]->producer->dead &&
			           n->in[j]->producer->op == IR_OP_DEQUANTIZE &&
			           !ir_value_is_const(n->in[j]->producer->in[0]);
		ir_node *u = ir_value_sole_user(g, n->out[0]);
		bool told = false; /* a fold said why */
		for (int k = 0; k < said->cnt; k++)
			told |= said->n[k] == n;
		if (!from_dq || !u || u->op != IR_OP_QUANTIZE || told)
			continue;
		int64_t bits = narrow_q(u) ? ir_attr_int(u, "bits", 0) : 0;
		int k = 0; /* the same source node: its index in the model and name */
		while (k < nw && !(w[k].op == n->op && w[k].bits == bits && w[k].first->src_index == n->src_index &&
		                   strcmp(w[k].first->name ? w[k].first->name : "", n->name ? n->name : "") == 0))
			k++;
		if (k == nw) {
			if (nw == MAXW) { /* too many kinds to group: as they come */
				k = -1;
			} else {
				w[nw].first = n;
				w[nw].op = n->op;
				w[nw].bits = bits;
				w[nw++].count = 0;
			}
		}
		if (k >= 0) {
			w[k].count++;
			continue;
		}
		diag_warn(d, ir_node_loc(g, n), "%s runs in float between a dequantize and a quantize",
		          ir_op_name(n->op));
	}
	for (int k = 0; k < nw; k++) {
		char times[48] = "";
		if (w[k].count > 1)
			snprintf(times, sizeof times, " (%d of its nodes)", w[k].count);
		if (w[k].bits)
			diag_warn(d, ir_node_loc(g, w[k].first), "%s runs in float between a dequantize and a quantize%s: "
			          "the integer path does not fold a quantize to %lld bits into it",
			          ir_op_name(w[k].op), times, (long long)w[k].bits);
		else if (w[k].op == IR_OP_GEMM && gemm_odd(w[k].first))
			diag_warn(d, ir_node_loc(g, w[k].first), "gemm runs in float between a dequantize and a quantize%s: "
			          "the integer path takes a gemm of alpha = beta = 1 and no trans_a", times);
		else
			diag_warn(d, ir_node_loc(g, w[k].first), "%s runs in float between a dequantize and a quantize%s: "
			          "the integer path has no form of it here", ir_op_name(w[k].op), times);
	}
}

/* A dequantized weight keeps its codes.  Where the constant v =
 * dequantize(q) of i8/u8 codes (int4 and int2 held in them too), per
 * tensor or along the axis on which every reader (conv, gemm, matmul,
 * conv_transpose, taking v as its weight, with no batchnorm after, which
 * bnfold could not fold into quantized weights) quantizes weights per
 * channel, v carries q as an affine ir_quant of the fewest bits that hold
 * the codes and zero points: bitpack packs them and the backend's
 * low-bit kernels read them, as if -b had made them.  v's data stays
 * DQ(q): the codes dequantize to it exactly, (code - zp) scale with code
 * and zp shifted alike.  Blocked scales (block_size) keep f32. */
static void keep_codes(ir_graph *g, const ir_node *n, ir_value *v)
{
	const ir_value *q = n->in[0], *sc = n->in[1], *zp = n->nin > 2 ? n->in[2] : NULL;
	int rank = v->shape.rank;
	if (!q || !q->data || (q->dt != IR_DT_I8 && q->dt != IR_DT_U8) || !sc || !sc->data ||
	    sc->dt != IR_DT_F32 || (zp && (!zp->data || zp->dt != q->dt)) || ir_attr_int(n, "block_size", 0) ||
	    rank < 1 || !ir_shape_known(&v->shape))
		return;
	int64_t ns = ir_shape_numel(&sc->shape), nz = zp ? ir_shape_numel(&zp->shape) : 0;
	int64_t ax = ir_attr_int(n, "axis", 1);
	ax = ax < 0 ? ax + rank : ax;
	if (ns == 1 && nz <= 1)
		ax = -1;
	else if (ax < 0 || ax >= rank || ns != v->shape.d[ax] || (zp && nz != ns))
		return;
	int readers = 0;
	for (int i = 0; i < g->nnodes; i++) {
		const ir_node *m = g->nodes[i];
		for (int j = 0; !m->dead && j < m->nin; j++) {
			if (m->in[j] != v)
				continue;
			if (j != 1 || (m->op != IR_OP_CONV && m->op != IR_OP_GEMM && m->op != IR_OP_MATMUL &&
			               m->op != IR_OP_CONV_TRANSPOSE) ||
			    (ax >= 0 && pass_weight_axis(m, 1) != ax))
				return;
			for (int k = 0; k < g->nnodes; k++)
				for (int l = 0; !g->nodes[k]->dead && l < g->nodes[k]->nin; l++)
					if (g->nodes[k]->in[l] == m->out[0] && g->nodes[k]->op == IR_OP_BATCHNORM)
						return;
			readers++;
		}
	}
	int64_t ne = ir_shape_numel(&v->shape), lo = 0, hi = 0;
	bool sgn = q->dt == IR_DT_I8;
	for (int64_t i = 0; i < ne + nz; i++) {
		int64_t c = (int64_t)(i < ne ? ir_elem_get(q->data, q->dt, i) : ir_elem_get(zp->data, zp->dt, i - ne));
		lo = c < lo ? c : lo;
		hi = c > hi ? c : hi;
	}
	int bits = 1; /* signed: [-2^(b-1), 2^(b-1) - 1]; unsigned: [0, 2^b - 1] */
	while (bits < 8 && (sgn ? lo < -((int64_t)1 << (bits - 1)) || hi > ((int64_t)1 << (bits - 1)) - 1
	                        : hi > ((int64_t)1 << bits) - 1))
		bits++;
	/* Signed codes of zero point 0 whose grid is symmetric: a scheme of
	 * its own, as qgtc's --save-onnx writes them (and as ORT's QInt8
	 * weights are): {-1, +1} binary, {-1, 0, +1} ternary, else symmetric
	 * where it takes no more bits than affine.  The floats are the same
	 * either way; the kernels differ (binary adds and subtracts). */
	ir_qscheme scheme = IR_QS_AFFINE;
	bool zp0 = true;
	for (int64_t i = 0; zp && i < nz; i++)
		zp0 &= ir_elem_get(zp->data, zp->dt, i) == 0;
	if (sgn && zp0 && lo >= -1 && hi <= 1) {
		bool zero = false;
		for (int64_t i = 0; i < ne && !zero; i++)
			zero = ir_elem_get(q->data, q->dt, i) == 0;
		scheme = zero || lo == hi ? IR_QS_TERNARY : IR_QS_BINARY;
		bits = scheme == IR_QS_BINARY ? 1 : 2;
	} else if (sgn && zp0 && bits >= 2 && lo > -((int64_t)1 << (bits - 1))) {
		scheme = IR_QS_SYMMETRIC;
	}
	int64_t off = sgn ? (int64_t)1 << (bits - 1) : 0; /* code = q + off */
	int nchan = ax < 0 ? 1 : (int)v->shape.d[ax];
	ir_quant *qt = ir_arena_alloc(g->arena, sizeof *qt);
	float *scale = ir_arena_alloc(g->arena, sizeof *scale * (size_t)nchan);
	int32_t *z = ir_arena_alloc(g->arena, sizeof *z * (size_t)nchan);
	uint8_t *codes = ir_arena_alloc(g->arena, (size_t)ne);
	if (readers == 0 || !qt || !scale || !z || !codes)
		return; /* out of memory: the weight stays f32, which is correct */
	memset(qt, 0, sizeof *qt);
	for (int c = 0; c < nchan; c++) {
		scale[c] = ((const float *)sc->data)[ns == 1 ? 0 : c];
		int64_t zc = zp ? (int64_t)ir_elem_get(zp->data, zp->dt, nz == 1 ? 0 : c) : 0;
		z[c] = (int32_t)(zc + off);
	}
	for (int64_t i = 0; i < ne; i++) {
		int64_t c = (int64_t)ir_elem_get(q->data, q->dt, i);
		codes[i] = (uint8_t)(scheme == IR_QS_BINARY ? c > 0 : c + off);
	}
	*qt = (ir_quant){.scheme = scheme, .bits = bits, .axis = (int)ax, .nchan = nchan, .scale = scale,
	                 .zero_point = scheme == IR_QS_AFFINE ? z : NULL, .codes = codes};
	char why[160];
	if (!ir_quant_check(v, qt, why, sizeof why))
		v->quant = qt;
}

/* Evaluate dequantize node n of constants into its output. */
static int fold_dq(ir_graph *g, ir_node *n, diag_sink *d)
{
	ir_value *v = n->out[0];
	if (ir_value_use_count(g, v) == 0) {
		n->dead = true;
		return 0;
	}
	if (!ir_shape_known(&v->shape))
		return 0;
	for (int j = 0; j < n->nin; j++)
		if (n->in[j] && !ir_value_is_const(n->in[j]))
			return 0;
	const ir_tensor *in[3];
	ir_tensor ins[3];
	for (int j = 0; j < n->nin; j++) {
		ins[j] = n->in[j] ? (ir_tensor){n->in[j]->dt, n->in[j]->shape, n->in[j]->data}
		                  : (ir_tensor){0};
		in[j] = n->in[j] ? &ins[j] : NULL;
	}
	int64_t cnt = ir_shape_numel(&v->shape);
	ir_tensor out = {IR_DT_F32, v->shape, ir_arena_alloc(g->arena, (size_t)(cnt ? cnt : 1) * 4)};
	ir_tensor *outp[1] = {&out};
	if (!out.data) {
		diag_error(d, ir_node_loc(g, n), "out of memory");
		return -1;
	}
	if (ir_eval_node(n, in, outp, d))
		return -1;
	v->data = out.data;
	v->kind = IR_VAL_CONST;
	v->producer = NULL;
	keep_codes(g, n, v);
	n->dead = true;
	return 0;
}

/* A split of a dequantized integer becomes one slice per output, which
 * keep the grid (ir_op_keeps_quant) so that the dequantize sinks through
 * them: ONNX Runtime's QDQ Split and torch's chunk.  The bounds come from
 * the outputs' inferred extents.  1 done, 0 not, -1 out of memory. */
static int split_as_slices(ir_graph *g, ir_node *n)
{
	const ir_value *x = n->in[0];
	const ir_node *p = x->producer;
	if (!p || p->dead || p->op != IR_OP_DEQUANTIZE || ir_value_is_const(p->in[0]) || x->shape.rank < 1)
		return 0;
	int r = x->shape.rank;
	int64_t ax = ir_attr_int(n, "axis", 0);
	if (ax < 0)
		ax += r;
	if (ax < 0 || ax >= r)
		return 0;
	for (int k = 0; k < n->nout; k++)
		if (!n->out[k] || n->out[k]->shape.rank != r || n->out[k]->shape.d[ax] < 0)
			return 0;
	int64_t at = 0;
	for (int k = 0; k < n->nout; k++) {
		int64_t lo = at, hi = at + n->out[k]->shape.d[ax], a = ax;
		at = hi;
		const char *base = n->out[k]->name;
		ir_value *in[4] = {n->in[0], i64_const(g, base, ".start", &lo, 1), i64_const(g, base, ".end", &hi, 1),
		                   i64_const(g, base, ".axis", &a, 1)};
		if (!in[1] || !in[2] || !in[3])
			return -1;
		ir_value *y = n->out[k];
		y->producer = NULL;
		ir_node *sl = ir_graph_add_node(g, IR_OP_SLICE, n->name, 4, in, 1, &y);
		if (!sl)
			return -1;
		sl->src_op = n->src_op;
		sl->src_index = n->src_index;
	}
	n->dead = true;
	return 1;
}

/* A 2-D conv_transpose of a dequantized activation by dequantized
 * constant integer weights, quantized after (through a relu or clip),
 * becomes the conv it equals, which the folds below take as an integer
 * conv: x with s - 1 zeros after each element along each strided axis
 * (reshape to [N, C, H, 1, W, 1], pad with 0, reshape to [N, C, H s,
 * W s]: the dequantize sinks through them, the pad with x's zero point),
 * then a stride-1 conv by W'[m, c, i, j] = W[c, m, kh - 1 - i, kw - 1 - j]
 * (per-channel scales along axis 1 become axis 0's) with pads d (k - 1)
 * - p at the start and d (k - 1) - p + output_padding - (s - 1) at the
 * end (the trailing zeros' share), or, where that is negative, a slice
 * of the conv's input.  One group, explicit pads (no auto_pad or
 * output_shape), 8-bit x (the 16-bit convs' kernels are not fast enough
 * to pay for the zeros).  The conv runs s^2 times the transpose's MACs,
 * most of them on the inserted zeros: integer code all the same.  1
 * done, 0 not, -1 out of memory. */
static int convt_as_conv(ir_graph *g, ir_node *n)
{
	qdq_par px, pw;
	const ir_value *x = n->in[0];
	if (n->op != IR_OP_CONV_TRANSPOSE || n->nin < 2 || x->shape.rank != 4 || !ir_shape_known(&x->shape) ||
	    !dq_of(n->in[0], &px) || ir_value_is_const(px.q) || (px.q->dt != IR_DT_I8 && px.q->dt != IR_DT_U8) ||
	    !dq_of(n->in[1], &pw) || !ir_value_is_const(pw.q) ||
	    !pw.q->data || pw.q->shape.rank != 4 || (pw.ns > 1 && pw.axis != 1) || ir_attr_int(n, "group", 1) != 1 ||
	    strcmp(ir_attr_str(n, "auto_pad", "NOTSET"), "NOTSET") != 0 || ir_node_attr(n, "output_shape"))
		return 0;
	ir_node *u = ir_value_sole_user(g, n->out[0]);
	if (u && (u->op == IR_OP_RELU || u->op == IR_OP_CLIP)) /* the conv's fold takes it */
		u = ir_value_sole_user(g, u->out[0]);
	if (!u || u->op != IR_OP_QUANTIZE || (n->nin > 2 && n->in[2] && !ir_value_is_const(n->in[2]) &&
	                                      !dq_of(n->in[2], &(qdq_par){0})))
		return 0;
	const int64_t *ws = pw.q->shape.d, *xs = x->shape.d;
	int64_t C = ws[0], M = ws[1], K[2] = {ws[2], ws[3]}, st[2] = {1, 1}, dl[2] = {1, 1}, pd[4] = {0, 0, 0, 0},
	        op[2] = {0, 0};
	int cnt;
	const int64_t *a;
	if (xs[1] != C)
		return 0;
	if ((a = ir_attr_ints(n, "strides", &cnt)) && cnt == 2)
		st[0] = a[0], st[1] = a[1];
	if ((a = ir_attr_ints(n, "dilations", &cnt)) && cnt == 2)
		dl[0] = a[0], dl[1] = a[1];
	if ((a = ir_attr_ints(n, "pads", &cnt)) && cnt == 4)
		memcpy(pd, a, sizeof pd);
	if ((a = ir_attr_ints(n, "output_padding", &cnt)) && cnt == 2)
		op[0] = a[0], op[1] = a[1];
	int64_t cp[4], lo[2] = {0, 0}, hi[2];
	bool crop = false;
	for (int i = 0; i < 2; i++) {
		int64_t e = dl[i] * (K[i] - 1);
		if (st[i] < 1 || st[i] > 16 || pd[i] < 0 || pd[2 + i] < 0)
			return 0;
		cp[i] = e - pd[i];
		cp[2 + i] = e - pd[2 + i] + op[i] - (st[i] - 1);
		hi[i] = xs[2 + i] * st[i];
		/* a negative pad crops the conv's input instead */
		if (cp[i] < 0)
			lo[i] = -cp[i], cp[i] = 0, crop = true;
		if (cp[2 + i] < 0)
			hi[i] += cp[2 + i], cp[2 + i] = 0, crop = true;
		if (hi[i] - lo[i] < 1)
			return 0;
	}
	const char *base = n->out[0]->name;
	ir_value *xu = n->in[0];
	if (st[0] > 1 || st[1] > 1) {
		int64_t s6[6] = {xs[0], C, xs[2], 1, xs[3], 1}, s4[4] = {xs[0], C, xs[2] * st[0], xs[3] * st[1]};
		int64_t pads[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, st[0] - 1, 0, st[1] - 1};
		ir_value *c6 = i64_const(g, base, ".up6", s6, 6), *cp12 = i64_const(g, base, ".uppads", pads, 12);
		ir_value *c4 = i64_const(g, base, ".up4", s4, 4), *v6 = tagged_value(g, base, ".r6", IR_DT_F32);
		ir_value *vp = tagged_value(g, base, ".z6", IR_DT_F32), *v4 = tagged_value(g, base, ".up", IR_DT_F32);
		if (!c6 || !cp12 || !c4 || !v6 || !vp || !v4)
			return -1;
		ir_value *i1[2] = {xu, c6}, *i2[2] = {v6, cp12}, *i3[2] = {vp, c4};
		if (!ir_graph_add_node(g, IR_OP_RESHAPE, n->name, 2, i1, 1, &v6) ||
		    !ir_graph_add_node(g, IR_OP_PAD, n->name, 2, i2, 1, &vp) ||
		    !ir_graph_add_node(g, IR_OP_RESHAPE, n->name, 2, i3, 1, &v4))
			return -1;
		xu = v4;
	}
	if (crop) {
		int64_t axes[2] = {2, 3};
		ir_value *in[4] = {xu, i64_const(g, base, ".crop.start", lo, 2), i64_const(g, base, ".crop.end", hi, 2),
		                   i64_const(g, base, ".crop.axes", axes, 2)};
		ir_value *vc = tagged_value(g, base, ".crop", IR_DT_F32);
		if (!in[1] || !in[2] || !in[3] || !vc || !ir_graph_add_node(g, IR_OP_SLICE, n->name, 4, in, 1, &vc))
			return -1;
		xu = vc;
	}
	/* W' from W: out and in swapped, both kernel axes reversed */
	int64_t ns[4] = {M, C, K[0], K[1]};
	ir_shape wsh = ir_shape_make(4, ns);
	size_t es = ir_dtype_size(pw.q->dt);
	unsigned char *wt = ir_arena_alloc(g->arena, (size_t)(M * C * K[0] * K[1]) * es + 1);
	if (!wt)
		return -1;
	for (int64_t m = 0; m < M; m++)
		for (int64_t c = 0; c < C; c++)
			for (int64_t i = 0; i < K[0]; i++)
				for (int64_t j = 0; j < K[1]; j++) {
					int64_t from = ((c * M + m) * K[0] + (K[0] - 1 - i)) * K[1] + (K[1] - 1 - j);
					int64_t to = ((m * C + c) * K[0] + i) * K[1] + j;
					memcpy(wt + (size_t)to * es, (const unsigned char *)pw.q->data + (size_t)from * es, es);
				}
	ir_value *wq = ir_graph_add_const(g, ir_graph_unique_name(g, ir_arena_printf(g->arena, "%s.w", base)),
	                                  pw.q->dt, &wsh, wt);
	ir_value *wf = tagged_value(g, base, ".wdq", IR_DT_F32);
	if (!wq || !wf)
		return -1;
	ir_value *din[3] = {wq, pw.n->in[1], pw.n->nin > 2 ? pw.n->in[2] : NULL};
	ir_node *dq = ir_graph_add_node(g, IR_OP_DEQUANTIZE, pw.n->name, din[2] ? 3 : 2, din, 1, &wf);
	if (!dq)
		return -1;
	ir_node_set_int(g, dq, "axis", 0);
	ir_value *cin[3] = {xu, wf, n->nin > 2 ? n->in[2] : NULL};
	ir_value *y = n->out[0];
	y->producer = NULL;
	ir_node *cv = ir_graph_add_node(g, IR_OP_CONV, n->name, cin[2] ? 3 : 2, cin, 1, &y);
	if (!cv)
		return -1;
	int64_t one[2] = {1, 1};
	ir_node_set_ints(g, cv, "strides", one, 2);
	ir_node_set_ints(g, cv, "dilations", dl, 2);
	ir_node_set_ints(g, cv, "pads", cp, 4);
	ir_node_set_int(g, cv, "group", 1);
	cv->src_op = n->src_op;
	cv->src_index = n->src_index;
	n->dead = true;
	return 1;
}

int pass_fold_qdq(ir_graph *g, const pass_options *o, diag_sink *d)
{
	(void)o;
	if (ir_graph_toposort(g, d) || ir_infer_shapes(g, d))
		return -1;
	int nsplit = 0;
	for (int i = 0, nn = g->nnodes; i < nn; i++) {
		ir_node *n = g->nodes[i];
		int r = n->dead                          ? 0
		        : n->op == IR_OP_SPLIT          ? split_as_slices(g, n)
		        : n->op == IR_OP_CONV_TRANSPOSE ? convt_as_conv(g, n)
		                                        : 0;
		if (r < 0) {
			diag_error(d, NULL, "out of memory");
			return -1;
		}
		nsplit += r;
	}
	if (nsplit && (ir_graph_compact(g), ir_graph_toposort(g, d) || ir_infer_shapes(g, d)))
		return -1;
	said_set said = {.cnt = 0};
	/* Sink dequantizes through the ops that keep the grid, and cancel
	 * them against quantizes of the same parameters, to a fixed point. */
	for (int round = 0; round < g->nnodes + 1; round++) {
		int changed = 0;
		for (int i = 0; i < g->nnodes; i++) {
			ir_node *n = g->nodes[i];
			if (n->dead)
				continue;
			int r = n->op == IR_OP_QUANTIZE ? drop_qdq(g, n, &said, d) : sink_dq(g, n);
			if (r == 0 && n->op == IR_OP_QUANTIZE && !n->dead)
				r = hoist_q(g, n);
			if (r < 0) {
				if (!d->nerr)
					diag_error(d, NULL, "out of memory");
				return -1;
			}
			changed += r;
		}
		if (!changed)
			break;
		if (ir_graph_toposort(g, d) || ir_infer_shapes(g, d))
			return -1;
	}
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead || n->in[0]->dt != IR_DT_F32)
			continue;
		bool lut = ir_op_table_act(n->op);
		int r = n->op == IR_OP_CONV || n->op == IR_OP_MATMUL ? fold_one(g, n, &said, d)
		        : n->op == IR_OP_GEMM                       ? fold_gemm(g, n, &said, d)
		        : n->op == IR_OP_ADD || n->op == IR_OP_MUL  ? fold_eltwise(g, n, &said, d)
		        : lut                                       ? fold_lut(g, n, d)
		        : n->op == IR_OP_SOFTMAX                    ? fold_softmax(g, n)
		        : n->op == IR_OP_LAYER_NORM                 ? fold_layer_norm(g, n)
		        : n->op == IR_OP_CONCAT                     ? fold_concat(g, n, &said, d)
		                                                    : 0;
		if (r < 0)
			return -1;
	}
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (!n->dead && n->op == IR_OP_DEQUANTIZE && fold_dq(g, n, d))
			return -1;
		/* the folds leave the dequantizes they read from unread */
		if (!n->dead && n->op == IR_OP_DEQUANTIZE && ir_value_use_count(g, n->out[0]) == 0)
			n->dead = true;
	}
	for (int i = 0; i < g->nnodes; i++)
		if (!g->nodes[i]->dead && fold_pool_rq(g, g->nodes[i], d) < 0)
			return -1;
	/* fold_concat's requantizations are new nodes, at the end */
	ir_graph_compact(g);
	if (ir_graph_toposort(g, d) || ir_infer_shapes(g, d))
		return -1;
	warn_float(g, &said, d);
	return 0;
}
