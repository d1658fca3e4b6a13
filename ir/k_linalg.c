/* k_linalg.c: gemm and matmul.
 *
 * gemm: Y = alpha * A' B' + beta * C, A' = trans_a ? A^T : A (so [M, K]),
 * B' = trans_b ? B^T : B ([K, N]), C optional and broadcast
 * unidirectionally to [M, N].
 * matmul: numpy matmul: 1-D operands get a 1 prepended (A) or appended (B)
 * which is removed from the result; leading (batch) dims broadcast. */
#include <string.h>

#include "kernel.h"

static int la_check_f32(const ir_graph *g, const ir_node *n, ir_dtype dt, int k, diag_sink *d)
{
	if (dt != IR_DT_F32) {
		k_error(g, n, d, "dtype %s is not supported (input %d; only f32)", ir_dtype_name(dt), k);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- gemm */

/* Output shape [M, N] of gemm from A, B and the optional C (NULL when
 * absent).  M may be symbolic (A's leading dim without trans_a); K and N
 * must be concrete.  A symbolic M is not compared against C. */
static int gemm_shape(const ir_graph *g, const ir_node *n, const ir_shape *as, const ir_shape *bs,
                      const ir_shape *cs, ir_shape *ys, diag_sink *d)
{
	char b1[96], b2[96];
	int64_t ta = ir_attr_int(n, "trans_a", 0), tb = ir_attr_int(n, "trans_b", 0);
	if ((ta != 0 && ta != 1) || (tb != 0 && tb != 1)) {
		k_error(g, n, d, "trans_a %lld / trans_b %lld must be 0 or 1", (long long)ta,
		        (long long)tb);
		return -1;
	}
	if (as->rank != 2 || bs->rank != 2) {
		k_error(g, n, d, "A %s and B %s must both be 2-D", ir_shape_str(as, b1, sizeof b1),
		        ir_shape_str(bs, b2, sizeof b2));
		return -1;
	}
	int64_t m = ta ? as->d[1] : as->d[0], ka = ta ? as->d[0] : as->d[1];
	int64_t kb = tb ? bs->d[1] : bs->d[0], nn = tb ? bs->d[0] : bs->d[1];
	if (ka == IR_DIM_SYM || kb == IR_DIM_SYM || nn == IR_DIM_SYM) {
		k_error(g, n, d, "A %s / B %s: the contraction and column dims must be concrete",
		        ir_shape_str(as, b1, sizeof b1), ir_shape_str(bs, b2, sizeof b2));
		return -1;
	}
	if (ka != kb) {
		k_error(g, n, d,
		        "A %s (trans_a %lld) has K=%lld but B %s (trans_b %lld) has K=%lld",
		        ir_shape_str(as, b1, sizeof b1), (long long)ta, (long long)ka,
		        ir_shape_str(bs, b2, sizeof b2), (long long)tb, (long long)kb);
		return -1;
	}
	if (cs) {
		bool ok = cs->rank <= 2;
		if (ok && cs->rank >= 1) {
			int64_t cn = cs->d[cs->rank - 1];
			ok = cn == 1 || cn == nn;
		}
		if (ok && cs->rank == 2) {
			int64_t cm = cs->d[0];
			ok = cm == 1 || cm == m || m == IR_DIM_SYM || cm == IR_DIM_SYM;
		}
		if (!ok) {
			k_error(g, n, d, "C %s does not broadcast to the output [%lld,%lld]",
			        ir_shape_str(cs, b1, sizeof b1), (long long)m, (long long)nn);
			return -1;
		}
	}
	memset(ys, 0, sizeof *ys);
	ys->rank = 2;
	ys->d[0] = m;
	ys->d[1] = nn;
	return 0;
}

int ir_infer_gemm(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_in_ranked(n, 0) || !k_in_ranked(n, 1))
		return 0;
	bool has_c = n->nin > 2 && n->in[2];
	if (has_c && !k_in_ranked(n, 2))
		return 0;
	for (int k = 0; k < (has_c ? 3 : 2); k++)
		if (la_check_f32(g, n, n->in[k]->dt, k, d))
			return -1;
	ir_shape ys;
	if (gemm_shape(g, n, &n->in[0]->shape, &n->in[1]->shape, has_c ? &n->in[2]->shape : NULL,
	               &ys, d))
		return -1;
	if (k_too_big(&ys)) {
		char b[96];
		k_error(g, n, d, "output shape %s is too large", ir_shape_str(&ys, b, sizeof b));
		return -1;
	}
	k_set_out(n, 0, IR_DT_F32, &ys);
	return 0;
}

int ir_eval_gemm(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_tensor *c = n->nin > 2 ? in[2] : NULL;
	for (int k = 0; k < (c ? 3 : 2); k++)
		if (la_check_f32(NULL, n, in[k]->dt, k, d))
			return -1;
	ir_shape ys;
	if (gemm_shape(NULL, n, &in[0]->shape, &in[1]->shape, c ? &c->shape : NULL, &ys, d))
		return -1;
	/* With concrete shapes the symbolic escape in gemm_shape is gone, but
	 * C's rows still have to be checked against M. */
	if (c && c->shape.rank == 2 && c->shape.d[0] != 1 && c->shape.d[0] != ys.d[0]) {
		char b[96];
		k_error(NULL, n, d, "C %s does not broadcast to the output [%lld,%lld]",
		        ir_shape_str(&c->shape, b, sizeof b), (long long)ys.d[0], (long long)ys.d[1]);
		return -1;
	}
	if (!ir_shape_eq(&ys, &out[0]->shape) || out[0]->dt != IR_DT_F32) {
		char b1[96], b2[96];
		k_error(NULL, n, d, "output is %s%s but the operands give f32%s",
		        ir_dtype_name(out[0]->dt), ir_shape_str(&out[0]->shape, b1, sizeof b1),
		        ir_shape_str(&ys, b2, sizeof b2));
		return -1;
	}
	int64_t ta = ir_attr_int(n, "trans_a", 0), tb = ir_attr_int(n, "trans_b", 0);
	double alpha = ir_attr_float(n, "alpha", 1.0f), beta = ir_attr_float(n, "beta", 1.0f);
	int64_t mm = ys.d[0], nn = ys.d[1];
	int64_t kk = ta ? in[0]->shape.d[0] : in[0]->shape.d[1];
	const float *a = in[0]->data, *b = in[1]->data;
	const float *cv = c ? c->data : NULL;
	float *y = out[0]->data;
	/* C element for (i, j): a broadcast dim of extent 1 always reads
	 * index 0; a missing leading dim likewise. */
	int crank = c ? c->shape.rank : 0;
	int64_t c_rows = crank == 2 ? c->shape.d[0] : 1;
	int64_t c_cols = crank >= 1 ? c->shape.d[crank - 1] : 1;

	for (int64_t i = 0; i < mm; i++)
		for (int64_t j = 0; j < nn; j++) {
			double acc = 0.0;
			for (int64_t k = 0; k < kk; k++) {
				double av = ta ? a[k * mm + i] : a[i * kk + k];
				double bv = tb ? b[j * kk + k] : b[k * nn + j];
				acc += av * bv;
			}
			acc *= alpha;
			if (cv) {
				int64_t ci = c_rows == 1 ? 0 : i, cj = c_cols == 1 ? 0 : j;
				acc += beta * cv[ci * c_cols + cj];
			}
			y[i * nn + j] = (float)acc;
		}
	return 0;
}

/* -------------------------------------------------------------- matmul */

/* Output shape of numpy matmul of shapes as and bs: batch dims broadcast,
 * then [M] unless A is 1-D, then [N] unless B is 1-D. */
static int matmul_shape(const ir_graph *g, const ir_node *n, const ir_shape *as, const ir_shape *bs,
                        ir_shape *ys, diag_sink *d)
{
	char b1[96], b2[96];
	if (as->rank < 1 || bs->rank < 1) {
		k_error(g, n, d, "A %s and B %s must have rank at least 1",
		        ir_shape_str(as, b1, sizeof b1), ir_shape_str(bs, b2, sizeof b2));
		return -1;
	}
	int64_t ka = as->d[as->rank - 1];
	int64_t kb = bs->rank == 1 ? bs->d[0] : bs->d[bs->rank - 2];
	/* A symbolic K can only be checked once the batch is bound. */
	if (ka != kb && ka != IR_DIM_SYM && kb != IR_DIM_SYM) {
		k_error(g, n, d, "A %s has K=%lld but B %s has K=%lld", ir_shape_str(as, b1, sizeof b1),
		        (long long)ka, ir_shape_str(bs, b2, sizeof b2), (long long)kb);
		return -1;
	}
	ir_shape ab, bb, ob;
	memset(&ab, 0, sizeof ab);
	memset(&bb, 0, sizeof bb);
	ab.rank = as->rank > 2 ? as->rank - 2 : 0;
	bb.rank = bs->rank > 2 ? bs->rank - 2 : 0;
	memcpy(ab.d, as->d, sizeof(int64_t) * (size_t)ab.rank);
	memcpy(bb.d, bs->d, sizeof(int64_t) * (size_t)bb.rank);
	if (k_broadcast_shape(&ab, &bb, &ob)) {
		k_error(g, n, d, "batch dims of A %s and B %s do not broadcast",
		        ir_shape_str(as, b1, sizeof b1), ir_shape_str(bs, b2, sizeof b2));
		return -1;
	}
	*ys = ob;
	if (as->rank >= 2)
		ys->d[ys->rank++] = as->d[as->rank - 2];
	if (bs->rank >= 2)
		ys->d[ys->rank++] = bs->d[bs->rank - 1];
	if (ys->rank > IR_MAX_RANK) {
		k_error(g, n, d, "result rank %d exceeds %d", ys->rank, IR_MAX_RANK);
		return -1;
	}
	return 0;
}

int ir_infer_matmul(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_in_ranked(n, 0) || !k_in_ranked(n, 1))
		return 0;
	bool integer = ir_dtype_is_qint(n->in[0]->dt);
	for (int k = 0; !integer && k < 2; k++)
		if (la_check_f32(g, n, n->in[k]->dt, k, d))
			return -1;
	if (!integer && n->nin > 2 && n->in[2]) {
		k_error(g, n, d, "a bias operand needs an integer matmul");
		return -1;
	}
	if (n->nin > 2 && n->in[2] && !k_in_ranked(n, 2))
		return 0;
	ir_shape ys;
	if (matmul_shape(g, n, &n->in[0]->shape, &n->in[1]->shape, &ys, d))
		return -1;
	ir_dtype ot = IR_DT_F32;
	const ir_shape *bs = &n->in[1]->shape;
	if (integer && (ot = k_int_check(g, n, bs->rank - 1, bs->rank >= 2 ? bs->d[bs->rank - 1] : 1,
	                                 2, d)) == IR_DT_UNDEF)
		return -1;
	if (k_too_big(&ys)) {
		char b[96];
		k_error(g, n, d, "output shape %s is too large", ir_shape_str(&ys, b, sizeof b));
		return -1;
	}
	k_set_out(n, 0, ot, &ys);
	return 0;
}

/* For each output batch index, locate the A and B matrices through
 * broadcast strides (0 along a broadcast dim of extent 1), then do a plain
 * [M,K] x [K,N] product.  A 1-D A acts as [1,K], a 1-D B as [K,1]. */
int ir_eval_matmul(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out,
                   diag_sink *d)
{
	bool integer = ir_dtype_is_qint(in[0]->dt);
	for (int k = 0; !integer && k < 2; k++)
		if (la_check_f32(NULL, n, in[k]->dt, k, d))
			return -1;
	const ir_shape *as = &in[0]->shape, *bs = &in[1]->shape;
	ir_shape ys;
	if (matmul_shape(NULL, n, as, bs, &ys, d))
		return -1;
	ir_dtype ot = IR_DT_F32;
	if (integer && (in[1]->dt != n->in[1]->dt ||
	                (ot = k_int_check(NULL, n, bs->rank - 1,
	                                  bs->rank >= 2 ? bs->d[bs->rank - 1] : 1, 2, d)) == IR_DT_UNDEF))
		return -1;
	if (!integer && n->nin > 2 && in[2]) {
		k_error(NULL, n, d, "a bias operand needs an integer matmul");
		return -1;
	}
	int64_t ka = as->d[as->rank - 1];
	int64_t kb = bs->rank == 1 ? bs->d[0] : bs->d[bs->rank - 2];
	if (ka != kb || !ir_shape_eq(&ys, &out[0]->shape) || out[0]->dt != ot) {
		char b1[96], b2[96], b3[96];
		k_error(NULL, n, d, "A %s, B %s and output %s do not match",
		        ir_shape_str(as, b1, sizeof b1), ir_shape_str(bs, b2, sizeof b2),
		        ir_shape_str(&out[0]->shape, b3, sizeof b3));
		return -1;
	}
	int64_t mm = as->rank >= 2 ? as->d[as->rank - 2] : 1;
	int64_t nn = bs->rank >= 2 ? bs->d[bs->rank - 1] : 1;
	int64_t kk = ka;
	int nb = ys.rank - (as->rank >= 2) - (bs->rank >= 2); /* batch rank */
	int ra = as->rank > 2 ? as->rank - 2 : 0, rb = bs->rank > 2 ? bs->rank - 2 : 0;

	/* Batch strides of A and B (in matrices), aligned right to the
	 * output batch dims; 0 where the operand lacks or broadcasts a dim. */
	int64_t sa[IR_MAX_RANK] = {0}, sb[IR_MAX_RANK] = {0};
	ir_bcast_strides(nb, ra, as->d, 1, sa);
	ir_bcast_strides(nb, rb, bs->d, 1, sb);
	int64_t nbatch = 1;
	for (int i = 0; i < nb; i++)
		nbatch *= ys.d[i];

	if (integer) {
		k_intop ko;
		k_intop_get(n, &ko);
		const int32_t *bias = n->nin > 2 && in[2] ? in[2]->data : NULL;
		for (int64_t t = 0; t < nbatch; t++) {
			int64_t rem = t, ia = 0, ib = 0;
			for (int i = nb - 1; i >= 0; i--) {
				int64_t idx = rem % ys.d[i];
				rem /= ys.d[i];
				ia += idx * sa[i];
				ib += idx * sb[i];
			}
			for (int64_t i = 0; i < mm; i++)
				for (int64_t j = 0; j < nn; j++) {
					int64_t acc = bias ? bias[j] : 0, zw = ko.zw[ko.nzw > 1 ? j : 0];
					for (int64_t k = 0; k < kk; k++) {
						int64_t av = k_int_get(in[0]->data, in[0]->dt, ia * mm * kk + i * kk + k);
						int64_t bv = k_int_get(in[1]->data, in[1]->dt, ib * kk * nn + k * nn + j);
						acc = (int32_t)(uint32_t)(acc + (av - ko.zx) * (bv - zw));
					}
					k_intop_store(&ko, out[0], t * mm * nn + i * nn + j, j, acc);
				}
		}
		return 0;
	}
	const float *a = in[0]->data, *b = in[1]->data;
	float *y = out[0]->data;
	for (int64_t t = 0; t < nbatch; t++) {
		int64_t rem = t, ia = 0, ib = 0;
		for (int i = nb - 1; i >= 0; i--) {
			int64_t idx = rem % ys.d[i];
			rem /= ys.d[i];
			ia += idx * sa[i];
			ib += idx * sb[i];
		}
		const float *am = a + ia * mm * kk, *bm = b + ib * kk * nn;
		float *ym = y + t * mm * nn;
		for (int64_t i = 0; i < mm; i++)
			for (int64_t j = 0; j < nn; j++) {
				double acc = 0.0;
				for (int64_t k = 0; k < kk; k++)
					acc += (double)am[i * kk + k] * bm[k * nn + j];
				ym[i * nn + j] = (float)acc;
			}
	}
	return 0;
}
