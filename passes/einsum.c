/* einsum.c: the lower-einsum pass.  An einsum of f32 operands of known
 * shapes becomes the ops every backend has, contracting the operands two
 * at a time, left to right, as matmuls (what numpy and ONNX Runtime do):
 *   - a label that no other operand and not the output has is summed out
 *     first (reduce_sum);
 *   - of two operands A and B, the labels both have and that are kept
 *     (the output or a later operand has them) are batch labels, the
 *     others both have are contracted, those of one only are its free
 *     labels; A is transposed to [batch, free A, contracted] and reshaped
 *     to [batch, M, K], B to [batch, K, N] (a size-1 batch axis of one
 *     expanded to the other's), and their matmul reshaped back to
 *     [batch..., free A..., free B...]; without batch labels the matmul
 *     is [M, K] x [K, N], so that a constant operand is a plain weight
 *     matrix for fold-constants and the quantizers;
 *   - the last term is transposed into the output's order.
 * Transposes and reshapes that change nothing are left out.  An einsum
 * with a label twice in one operand (a diagonal, a trace) or a symbolic
 * extent stays for the interpreter (ir/k_einsum.c, the reference).
 * requires: shapes.  preserves: nothing (new nodes, shapes inferred). */
#include <string.h>

#include "build.h"
#include "pass.h"

typedef struct term {
	ir_value *v;
	int rank;
	int lab[IR_MAX_RANK];    /* each axis's label */
	int64_t ext[IR_MAX_RANK]; /* each axis's extent (1 where it broadcasts) */
} term;

static int64_t prod(const int64_t *dim, const int *lab, int n)
{
	int64_t p = 1;
	for (int i = 0; i < n; i++)
		p *= dim[lab[i]];
	return p;
}

static int find(const int *lab, int n, int l)
{
	for (int i = 0; i < n; i++)
		if (lab[i] == l)
			return i;
	return -1;
}

/* t transposed so that its labels read want[0..n) (a permutation of
 * t's); unchanged when they already do. */
static void transpose_to(pass_builder *c, term *t, const int *want)
{
	int64_t perm[IR_MAX_RANK];
	bool same = true;
	for (int i = 0; i < t->rank; i++) {
		perm[i] = find(t->lab, t->rank, want[i]);
		same &= perm[i] == i;
	}
	if (same)
		return;
	ir_value *y = pass_b_op1(c, IR_OP_TRANSPOSE, t->v, "T");
	if (y)
		ir_node_set_ints(c->g, y->producer, "perm", perm, t->rank);
	t->v = y;
	int64_t ext[IR_MAX_RANK];
	for (int i = 0; i < t->rank; i++)
		ext[i] = t->ext[perm[i]];
	memcpy(t->ext, ext, sizeof ext);
	memcpy(t->lab, want, sizeof(int) * (size_t)t->rank);
}

/* v, of extents ext[0..r), reshaped to dims[0..n) (as many elements),
 * unless it has them. */
static ir_value *reshape(pass_builder *c, ir_value *v, const int64_t *ext, int r, const int64_t *dims, int n)
{
	if (r == n && memcmp(ext, dims, sizeof *dims * (size_t)n) == 0)
		return v;
	return pass_b_op2(c, IR_OP_RESHAPE, v, pass_b_ints(c, dims, n, false), "R");
}

/* Sum out t's labels that keep[] does not hold. */
static void sum_out(pass_builder *c, term *t, const bool *keep)
{
	int64_t axes[IR_MAX_RANK];
	int na = 0, r = 0;
	for (int i = 0; i < t->rank; i++)
		if (!keep[t->lab[i]]) {
			axes[na++] = i;
		} else {
			t->ext[r] = t->ext[i];
			t->lab[r++] = t->lab[i];
		}
	if (!na)
		return;
	ir_value *y = pass_b_op2(c, IR_OP_REDUCE_SUM, t->v, pass_b_ints(c, axes, na, false), "sum");
	if (y)
		ir_node_set_int(c->g, y->producer, "keepdims", 0);
	t->v = y;
	t->rank = r;
}

/* Expand t's size-1 axes of the labels in lab[0..n) to dim. */
static void expand_to(pass_builder *c, term *t, const int *lab, int n, const int64_t *dim)
{
	bool any = false;
	for (int i = 0; i < t->rank; i++)
		if (find(lab, n, t->lab[i]) >= 0 && t->ext[i] != dim[t->lab[i]]) {
			t->ext[i] = dim[t->lab[i]];
			any = true;
		}
	if (any)
		t->v = pass_b_op2(c, IR_OP_EXPAND, t->v, pass_b_ints(c, t->ext, t->rank, false), "X");
}

/* a x b over their shared labels: the labels keep[] holds stay (batch),
 * the others shared are contracted. */
static term contract(pass_builder *c, term a, term b, const bool *keep, const int64_t *dim)
{
	int bat[IR_MAX_RANK], fa[IR_MAX_RANK], fb[IR_MAX_RANK], con[IR_MAX_RANK];
	int nb = 0, na = 0, nf = 0, nc = 0;
	for (int i = 0; i < a.rank; i++) {
		int l = a.lab[i];
		if (find(b.lab, b.rank, l) < 0)
			fa[na++] = l;
		else if (keep[l])
			bat[nb++] = l;
		else
			con[nc++] = l;
	}
	for (int i = 0; i < b.rank; i++)
		if (find(a.lab, a.rank, b.lab[i]) < 0)
			fb[nf++] = b.lab[i];
	expand_to(c, &a, bat, nb, dim);
	expand_to(c, &b, bat, nb, dim);
	int wa[IR_MAX_RANK], wb[IR_MAX_RANK];
	memcpy(wa, bat, sizeof(int) * (size_t)nb);
	memcpy(wa + nb, fa, sizeof(int) * (size_t)na);
	memcpy(wa + nb + na, con, sizeof(int) * (size_t)nc);
	memcpy(wb, bat, sizeof(int) * (size_t)nb);
	memcpy(wb + nb, con, sizeof(int) * (size_t)nc);
	memcpy(wb + nb + nc, fb, sizeof(int) * (size_t)nf);
	transpose_to(c, &a, wa);
	transpose_to(c, &b, wb);
	/* free axes keep their own extents (1 where they broadcast later) */
	int64_t B = prod(dim, bat, nb), M = 1, K = prod(dim, con, nc), N = 1;
	term t = {.rank = nb + na + nf};
	for (int i = 0; i < nb; i++) {
		t.lab[i] = bat[i];
		t.ext[i] = dim[bat[i]];
	}
	for (int i = 0; i < na; i++) {
		t.lab[nb + i] = fa[i];
		M *= t.ext[nb + i] = a.ext[nb + i];
	}
	for (int i = 0; i < nf; i++) {
		t.lab[nb + na + i] = fb[i];
		N *= t.ext[nb + na + i] = b.ext[nb + nc + i];
	}
	int64_t da[3] = {B, M, K}, db[3] = {B, K, N}, dy[3] = {B, M, N};
	int o = nb ? 0 : 1; /* no batch labels: rank-2 matrices */
	ir_value *y = pass_b_op2(c, IR_OP_MATMUL, reshape(c, a.v, a.ext, a.rank, da + o, 3 - o),
	                         reshape(c, b.v, b.ext, b.rank, db + o, 3 - o), "mm");
	t.v = reshape(c, y, dy + o, 3 - o, t.ext, t.rank);
	return t;
}

/* 1 rewritten, 0 left for the interpreter, -1 out of memory. */
static int lower(ir_graph *g, ir_node *n)
{
	int ranks[IR_EINSUM_MAX_OPS];
	if (n->nin > IR_EINSUM_MAX_OPS || n->out[0]->dt != IR_DT_F32)
		return 0;
	for (int k = 0; k < n->nin; k++) {
		const ir_shape *s = &n->in[k]->shape;
		if (n->in[k]->dt != IR_DT_F32 || s->rank < 0)
			return 0;
		for (int i = 0; i < s->rank; i++)
			if (s->d[i] < 0)
				return 0;
		ranks[k] = s->rank;
	}
	ir_einsum e;
	char err[160];
	if (ir_einsum_parse(ir_attr_str(n, "equation", ""), n->nin, ranks, &e, err, sizeof err))
		return 0; /* shapes reported it */
	int64_t dim[IR_EINSUM_MAX_LABELS];
	for (int l = 0; l < e.nlab; l++)
		dim[l] = 1;
	term t[IR_EINSUM_MAX_OPS] = {0};
	for (int k = 0; k < e.nops; k++) {
		t[k].v = n->in[k];
		t[k].rank = e.rank[k];
		for (int i = 0; i < e.rank[k]; i++) {
			int l = e.lab[k][i];
			if (find(e.lab[k], i, l) >= 0)
				return 0; /* a diagonal */
			t[k].lab[i] = l;
			t[k].ext[i] = n->in[k]->shape.d[i];
			if (n->in[k]->shape.d[i] != 1)
				dim[l] = n->in[k]->shape.d[i];
		}
	}
	pass_builder c = {.g = g, .n = n, .base = n->out[0]->name};
	bool keep[IR_EINSUM_MAX_LABELS];
	for (int k = 0; k < e.nops; k++) {
		/* kept: in the output or in another operand still to come */
		for (int l = 0; l < e.nlab; l++)
			keep[l] = find(e.olab, e.orank, l) >= 0;
		for (int j = 0; j < e.nops; j++)
			for (int i = 0; j != k && i < t[j].rank; i++)
				keep[t[j].lab[i]] = true;
		sum_out(&c, &t[k], keep);
	}
	term cur = t[0];
	for (int k = 1; k < e.nops; k++) {
		for (int l = 0; l < e.nlab; l++)
			keep[l] = find(e.olab, e.orank, l) >= 0;
		for (int j = k + 1; j < e.nops; j++)
			for (int i = 0; i < t[j].rank; i++)
				keep[t[j].lab[i]] = true;
		cur = contract(&c, cur, t[k], keep, dim);
	}
	/* what is left: the output's labels, maybe size-1 ellipsis axes of
	 * one operand to broadcast, in some order */
	for (int l = 0; l < e.nlab; l++)
		keep[l] = find(e.olab, e.orank, l) >= 0;
	sum_out(&c, &cur, keep);
	transpose_to(&c, &cur, e.olab);
	expand_to(&c, &cur, e.olab, e.orank, dim);
	if (c.err || !cur.v)
		return -1;
	return pass_b_replace(&c, &cur.v);
}

static bool is_einsum(const ir_node *n)
{
	return n->op == IR_OP_EINSUM;
}

int pass_lower_einsum(ir_graph *g, const pass_options *o, diag_sink *d)
{
	(void)o;
	return pass_b_rewrite_all(g, is_einsum, lower, d);
}
