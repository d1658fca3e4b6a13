/* finetune.c: the QGT fine-tune flow (QGT-NOTES lessons 1 and 4):
 * train with batchnorm live and the regularizer on, the lambda ramp and
 * the frozen last phase landing the kernels exactly on their grids, a
 * final projection (a fixed point of the quantize pass), and batchnorm
 * statistics re-estimated on the final kernels before anyone folds them.
 * Also the deployment of SQ's and the codebook's per-layer grids. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"
#include "train_internal.h"

int qgt_bn_reestimate(ir_graph *g, const qgt_dataset *ds, const qgt_train_config *c, int nb,
                      diag_sink *d)
{
	qgt_train_config cc = *c;
	cc.regs = NULL;
	cc.nregs = 0;
	cc.log = NULL;
	cc.input_grad = false;
	qgt_trainer *t = qgt_trainer_create(g, &cc, d);
	if (!t)
		return -1;
	int64_t b = t->batch, n = ds->n;
	int rc = -1;
	int64_t *idx = malloc(sizeof(int64_t) * (size_t)n);
	float *x = malloc(sizeof(float) * (size_t)(b * ds->sample_numel));
	int32_t *y = malloc(sizeof(int32_t) * (size_t)b);
	if (!idx || !x || !y) {
		diag_error(d, NULL, "out of memory");
		goto out;
	}
	uint64_t rs = c->seed * 0x9E3779B97F4A7C15ull + 7;
	for (int64_t i = 0; i < n; i++)
		idx[i] = i;
	qgt_shuffle(idx, n, &rs);
	if (nb > n / b)
		nb = (int)(n / b);
	for (int k = 0; k < nb; k++) {
		/* momentum 1/(k+1): the running statistics become the plain
		 * average over the nb batches. */
		t->cfg.bn_momentum = 1.0f / (float)(k + 1);
		qgt_gather_batch(ds, idx + (int64_t)k * b, b, x, y, 0, false, NULL);
		if (qgt_trainer_forward(t, x, NULL, true, NULL, NULL))
			goto out;
	}
	rc = 0;
out:
	free(idx);
	free(x);
	free(y);
	qgt_trainer_destroy(t);
	return rc;
}

int qgt_finetune(ir_graph *g, const qgt_dataset *ds, const qgt_train_config *c, qgt_reg *r,
                 int bn_batches, qgt_finetune_stats *st, diag_sink *d)
{
	memset(st, 0, sizeof *st);
	qgt_train_config cc = *c;
	cc.regs = r;
	cc.nregs = r ? 1 : 0;
	if (qgt_train(g, ds, &cc, &st->val_acc, d))
		return -1;
	if (r) {
		st->moved = qgt_reg_project(r, g, d);
		if (st->moved < 0)
			return -1;
	}
	if (bn_batches > 0 && qgt_bn_reestimate(g, ds, c, bn_batches, d))
		return -1;
	return 0;
}

/* ------------------------------------------------------- deployment */

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

/* Codebook levels = the distinct values of each channel, when there are
 * at most 2^bits of them (the weights sit on their learned levels). */
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

int qgt_reg_deploy(const qgt_reg *r, ir_graph *dst, diag_sink *d)
{
	const reg_ctx *c = (const reg_ctx *)r;
	if (c->o.kind == QGT_REG_QGT)
		return 0;
	for (int i = 0; i < c->nst; i++) {
		const qgt_reg_state *s = &c->st[i];
		ir_value *v = ir_graph_find_value(dst, s->v->name);
		if (!v || v->kind != IR_VAL_CONST || v->dt != IR_DT_F32 || !v->data || v->quant)
			continue;
		int axis = -1;
		for (int k = 0; k < dst->nnodes && axis < 0; k++)
			if (!dst->nodes[k]->dead && dst->nodes[k]->nin > 1 && dst->nodes[k]->in[1] == v)
				axis = pass_weight_axis(dst->nodes[k], 1);
		if (axis < 0)
			continue;
		pass_qspec sp = s->spec;
		sp.axis = axis;
		if (c->o.kind == QGT_REG_SQ)
			sp.scheme = s->sq_choice != IR_QS_NONE ? s->sq_choice : IR_QS_BINARY;
		int64_t n = ir_shape_numel(&v->shape);
		ir_quant *q = ir_arena_alloc(dst->arena, sizeof *q);
		float *dq = ir_arena_alloc(dst->arena, sizeof(float) * (size_t)(n ? n : 1));
		if (!q || !dq) {
			diag_error(d, NULL, "out of memory");
			return -1;
		}
		if (pass_quantize(v->data, &v->shape, &sp, dst->arena, q, dq, NULL, d))
			return -1;
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
