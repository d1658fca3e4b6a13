/* autodiff.c: the trainer's plan over the IR: which constants are
 * parameters, which values need gradients, buffers for every activation
 * and gradient (allocated once, so the step loop never allocates), the
 * forward and backward sweeps, and softmax cross-entropy on the logits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blas.h"
#include "train_internal.h"

/* QGT_PROFILE=1 in the environment: time every node's forward and
 * backward and print a table when the trainer is destroyed. */
static double prof_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void qgt_train_config_default(qgt_train_config *c)
{
	memset(c, 0, sizeof *c);
	c->epochs = 1;
	c->batch = 128;
	c->lr = 0.01f;
	c->opt = QGT_OPT_SGD;
	c->momentum = 0.9f;
	c->beta1 = 0.9f;
	c->beta2 = 0.999f;
	c->eps = 1e-8f;
	c->sched = QGT_SCHED_CONST;
	c->step_gamma = 0.1f;
	c->threads = 2;
	c->bn_momentum = 0.1f;
}

/* Plan-time memory lives in one arena owned by the trainer. */
static ir_arena *trainer_arena(qgt_trainer *t);

void *qgt_plan_alloc(qgt_trainer *t, size_t n)
{
	return ir_arena_alloc(trainer_arena(t), n);
}

void qgt_attr_ints(const ir_node *n, const char *name, int nsp, int64_t *v)
{
	int cnt = 0;
	const int64_t *a = ir_attr_ints(n, name, &cnt);
	for (int i = 0; i < nsp; i++)
		v[i] = a && i < cnt ? a[i] : 1;
}

/* The arena hangs off a small wrapper allocated with the trainer. */
typedef struct trainer_box {
	qgt_trainer t;
	ir_arena *arena;
} trainer_box;

static ir_arena *trainer_arena(qgt_trainer *t)
{
	return ((trainer_box *)t)->arena;
}

float *qgt_grad_out(qgt_trainer *t, const ir_value *v, bool *acc)
{
	if (!v || !t->grad[v->id])
		return NULL;
	*acc = t->ginit[v->id];
	t->ginit[v->id] = true;
	return t->grad[v->id];
}

const float *qgt_grad_in(const qgt_trainer *t, const ir_value *v)
{
	if (!v || !t->ginit[v->id])
		return NULL;
	return t->grad[v->id];
}

int qgt_trainer_nparams(const qgt_trainer *t)
{
	return t->nparams;
}

qgt_param *qgt_trainer_param(qgt_trainer *t, int i)
{
	return i >= 0 && i < t->nparams ? &t->params[i] : NULL;
}

/* ------------------------------------------------------------ planning */

/* (A constant with quantization codes, the model's own, is fixed: its
 * data must stay what its codes dequantize to.) */
static bool is_f32_const(const ir_value *v)
{
	return v && v->kind == IR_VAL_CONST && v->dt == IR_DT_F32 && v->data && !(v->quant && v->quant->codes);
}

/* Role of input k of n when it is a parameter; -1 when it is not one. */
static int param_role(const ir_node *n, int k)
{
	switch (n->op) {
	case IR_OP_CONV:
	case IR_OP_CONV_TRANSPOSE:
	case IR_OP_GEMM:
		return k == 1 ? QGT_ROLE_WEIGHT : k == 2 ? QGT_ROLE_BIAS : -1;
	case IR_OP_MATMUL:
		return k <= 1 ? QGT_ROLE_WEIGHT : -1;
	case IR_OP_BATCHNORM:
	case IR_OP_LAYER_NORM: /* their Scale and B train as BN's gamma and beta */
	case IR_OP_INSTANCE_NORM:
		return k == 1 ? QGT_ROLE_BN_SCALE : k == 2 ? QGT_ROLE_BN_BIAS : -1;
	default:
		return -1;
	}
}

static int add_param(qgt_trainer *t, ir_value *v, ir_node *n, qgt_role role)
{
	for (int i = 0; i < t->nparams; i++)
		if (t->params[i].v == v)
			return 0;
	qgt_param *p = &t->params[t->nparams++];
	p->v = v;
	p->node = n;
	p->role = role;
	p->n = ir_shape_numel(&v->shape);
	p->w = v->data;
	size_t bytes = sizeof(float) * (size_t)(p->n > 0 ? p->n : 1);
	p->g = qgt_plan_alloc(t, bytes);
	p->m1 = qgt_plan_alloc(t, bytes);
	p->m2 = qgt_plan_alloc(t, bytes);
	if (!p->g || !p->m1 || !p->m2) {
		diag_error(t->d, t->g->src_file, "out of memory");
		return -1;
	}
	t->grad[v->id] = p->g;
	return 0;
}

static int plan_node(qgt_trainer *t, qgt_exec *e, size_t *tbuf)
{
	switch (e->n->op) {
	case IR_OP_CONV: return qgt_plan_conv(t, e, tbuf);
	case IR_OP_CONV_TRANSPOSE: return qgt_plan_convt(t, e, tbuf);
	case IR_OP_GEMM: return qgt_plan_gemm(t, e, tbuf);
	case IR_OP_MATMUL: return qgt_plan_matmul(t, e, tbuf);
	case IR_OP_BATCHNORM: return qgt_plan_batchnorm(t, e, tbuf);
	case IR_OP_LAYER_NORM: return qgt_plan_layer_norm(t, e, tbuf);
	case IR_OP_INSTANCE_NORM: return qgt_plan_instance_norm(t, e, tbuf);
	case IR_OP_FAKE_QUANT: return qgt_plan_fake_quant(t, e, tbuf);
	default: return qgt_plan_elem(t, e, tbuf);
	}
}

qgt_trainer *qgt_trainer_create(ir_graph *g, const qgt_train_config *c, diag_sink *d)
{
	trainer_box *box = calloc(1, sizeof *box);
	if (!box || !(box->arena = ir_arena_create())) {
		free(box);
		diag_error(d, g->src_file, "out of memory");
		return NULL;
	}
	qgt_trainer *t = &box->t;
	t->g = g;
	t->cfg = *c;
	t->d = d;
	t->nv = g->nvalues;
	if (g->ninputs != 1 || g->noutputs < 1) {
		diag_error(d, g->src_file, "training needs a model with one input and a score output (has %d inputs, %d outputs)",
		           g->ninputs, g->noutputs);
		goto fail;
	}
	t->in = g->inputs[0];
	char sb[96];
	if (t->in->dt != IR_DT_F32 || !ir_shape_known(&t->in->shape) || t->in->shape.rank < 1 ||
	    t->in->shape.d[0] != c->batch) {
		diag_error(d, g->src_file, "model input '%s' is %s%s; training needs f32 [%lld, ...] (bind the batch first)",
		           t->in->name, ir_dtype_name(t->in->dt),
		           ir_shape_str(&t->in->shape, sb, sizeof sb), (long long)c->batch);
		goto fail;
	}
	t->batch = c->batch;
	/* The loss reads the logits: a trailing softmax / log_softmax over
	 * the last axis is looked through. */
	ir_value *out = g->outputs[0];
	if (out->producer && !out->producer->dead &&
	    (out->producer->op == IR_OP_SOFTMAX || out->producer->op == IR_OP_LOG_SOFTMAX)) {
		int64_t ax = ir_attr_int(out->producer, "axis", -1);
		if (ax == -1 || ax == out->shape.rank - 1)
			out = out->producer->in[0];
	}
	t->logits = out;
	int64_t on = ir_shape_numel(&out->shape);
	if (out->dt != IR_DT_F32 || on <= 0 || out->shape.d[0] != c->batch || on % c->batch) {
		diag_error(d, g->src_file, "model output '%s' is %s%s; training needs f32 scores [%lld, classes]",
		           out->name, ir_dtype_name(out->dt), ir_shape_str(&out->shape, sb, sizeof sb),
		           (long long)c->batch);
		goto fail;
	}
	t->nclass = on / c->batch;

	int nv = t->nv;
	t->val = qgt_plan_alloc(t, sizeof(void *) * (size_t)(nv + 1));
	t->grad = qgt_plan_alloc(t, sizeof(float *) * (size_t)(nv + 1));
	t->ginit = qgt_plan_alloc(t, (size_t)nv + 1);
	t->numel = qgt_plan_alloc(t, sizeof(int64_t) * (size_t)(nv + 1));
	t->params = qgt_plan_alloc(t, sizeof(qgt_param) * (size_t)(nv + 1));
	t->ex = qgt_plan_alloc(t, sizeof(qgt_exec) * (size_t)(g->nnodes + 1));
	t->probs = qgt_plan_alloc(t, sizeof(float) * (size_t)on);
	if (!t->val || !t->grad || !t->ginit || !t->numel || !t->params || !t->ex || !t->probs) {
		diag_error(d, g->src_file, "out of memory");
		goto fail;
	}
	for (int i = 0; i < nv; i++) {
		ir_value *v = g->values[i];
		if (v->kind != IR_VAL_CONST && !ir_shape_known(&v->shape)) {
			diag_error(d, g->src_file, "value '%s' has no concrete shape %s; run shape inference with the batch bound",
			           v->name, ir_shape_str(&v->shape, sb, sizeof sb));
			goto fail;
		}
		t->numel[i] = ir_shape_numel(&v->shape);
		if (v->kind == IR_VAL_CONST)
			t->val[i] = v->data;
	}

	/* Parameters, in node order. */
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		for (int k = 0; k < n->nin; k++) {
			ir_value *v = n->in[k];
			if (!is_f32_const(v))
				continue;
			int role = param_role(n, k);
			if (role < 0 && c->train_all_consts && t->numel[v->id] > 0)
				role = QGT_ROLE_OTHER;
			if (role >= 0 && add_param(t, v, n, (qgt_role)role))
				goto fail;
		}
	}

	/* Activation buffers: one block for inputs and computed values. */
	size_t total = 0;
	for (int i = 0; i < nv; i++) {
		ir_value *v = g->values[i];
		if (v->kind == IR_VAL_CONST)
			continue;
		size_t bytes = (size_t)(t->numel[i] > 0 ? t->numel[i] : 1) * ir_dtype_size(v->dt);
		total += (bytes + 63) & ~(size_t)63;
	}
	/* Which computed values need gradients: those downstream of a
	 * parameter (or of the input with input_grad), in topological order. */
	bool *need = qgt_plan_alloc(t, (size_t)nv + 1);
	if (!need)
		goto fail;
	for (int i = 0; i < t->nparams; i++)
		need[t->params[i].v->id] = true;
	if (c->input_grad)
		need[t->in->id] = true;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		bool any = false;
		for (int k = 0; k < n->nin; k++)
			any |= n->in[k] && need[n->in[k]->id];
		if (!any)
			continue;
		/* Only f32 outputs carry gradients (indices, masks do not). */
		for (int k = 0; k < n->nout; k++)
			if (n->out[k] && n->out[k]->dt == IR_DT_F32)
				need[n->out[k]->id] = true;
	}
	for (int i = 0; i < nv; i++) {
		ir_value *v = g->values[i];
		if (need[i] && v->kind != IR_VAL_CONST)
			total += ((size_t)(t->numel[i] > 0 ? t->numel[i] : 1) * 4 + 63) & ~(size_t)63;
	}
	unsigned char *blk = qgt_plan_alloc(t, total + 64);
	if (!blk) {
		diag_error(d, g->src_file, "out of memory for %zu bytes of activations", total);
		goto fail;
	}
	blk = (unsigned char *)(((uintptr_t)blk + 63) & ~(uintptr_t)63);
	for (int i = 0; i < nv; i++) {
		ir_value *v = g->values[i];
		if (v->kind == IR_VAL_CONST)
			continue;
		t->val[i] = blk;
		blk += ((size_t)(t->numel[i] > 0 ? t->numel[i] : 1) * ir_dtype_size(v->dt) + 63) &
		       ~(size_t)63;
		if (need[i]) {
			t->grad[i] = (float *)blk;
			blk += ((size_t)(t->numel[i] > 0 ? t->numel[i] : 1) * 4 + 63) & ~(size_t)63;
		}
	}

	/* Per-node plans; every node a gradient must pass through needs a
	 * backward, and all that lack one are reported together. */
	size_t tbuf = 0;
	int missing = 0;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		qgt_exec *e = &t->ex[t->nex++];
		e->n = n;
		for (int k = 0; k < n->nin; k++)
			e->run_bwd |= n->in[k] && t->grad[n->in[k]->id] != NULL;
		int r = plan_node(t, e, &tbuf);
		if (r < 0)
			goto fail;
		if (e->run_bwd && !e->bwd) {
			diag_error(d, ir_node_loc(g, n), "training through op '%s' is not supported (no backward)",
			           ir_op_name(n->op));
			missing++;
		}
	}
	if (missing)
		goto fail;
	/* Parallelism is ours (over the batch, channels, elements): OpenBLAS
	 * runs single-threaded inside each task (blas.c opens it so), and
	 * its own pool never spins against ours. */
	if (qgt_blas_open(d))
		goto fail;
	t->profile = getenv("QGT_PROFILE") != NULL;
	t->nthreads = c->threads < 1 ? 1 : c->threads;
	t->pool = qgt_pool_create(t->nthreads);
	if (!t->pool)
		goto fail;
	t->nthreads = qgt_pool_size(t->pool);
	t->tbuf_len = tbuf;
	t->tbuf = qgt_plan_alloc(t, sizeof(float *) * (size_t)t->nthreads);
	for (int i = 0; t->tbuf && i < t->nthreads; i++)
		if (!(t->tbuf[i] = qgt_plan_alloc(t, sizeof(float) * (tbuf ? tbuf : 1))))
			goto fail;
	if (!t->tbuf)
		goto fail;
	if (c->teacher && c->distill > 0) {
		if (!(t->teacher = qgt_forward_trainer(c->teacher, c, d)))
			goto fail;
		if (t->teacher->nclass != t->nclass) {
			diag_error(d, g->src_file, "the teacher gives %lld scores per sample, the model %lld",
			           (long long)t->teacher->nclass, (long long)t->nclass);
			goto fail;
		}
	}
	return t;
fail:
	qgt_trainer_destroy(t);
	return NULL;
}

qgt_trainer *qgt_forward_trainer(ir_graph *g, const qgt_train_config *c, diag_sink *d)
{
	qgt_train_config cc = *c;
	cc.regs = NULL;
	cc.nregs = 0;
	cc.teacher = NULL;
	cc.distill = 0;
	cc.log = NULL;
	cc.input_grad = false;
	cc.act_ema = 0;
	return qgt_trainer_create(g, &cc, d);
}

void qgt_trainer_destroy(qgt_trainer *t)
{
	if (!t)
		return;
	trainer_box *box = (trainer_box *)t;
	if (t->profile && t->ex) {
		double tf = 0, tb = 0, mf = 0, mb = 0;
		for (int i = 0; i < t->nex; i++) {
			tf += t->ex[i].tf;
			tb += t->ex[i].tb;
			mf += t->ex[i].tf_min;
			mb += t->ex[i].tb_min;
		}
		fprintf(stderr, "qgt profile: forward %.3f s, backward %.3f s; fastest runs add up to %.3f + %.3f ms\n",
		        tf, tb, mf * 1e3, mb * 1e3);
		for (int i = 0; i < t->nex; i++)
			fprintf(stderr, "  %-16s %-40.40s fwd %8.3f s  bwd %8.3f s  fastest %7.3f + %7.3f ms\n",
			        ir_op_name(t->ex[i].n->op), t->ex[i].n->name, t->ex[i].tf, t->ex[i].tb,
			        t->ex[i].tf_min * 1e3, t->ex[i].tb_min * 1e3);
	}
	qgt_trainer_destroy(t->teacher);
	qgt_pool_destroy(t->pool);
	ir_arena_destroy(box->arena);
	free(box);
}

/* ------------------------------------------------------------- forward */

static int eval_generic(qgt_trainer *t, qgt_exec *e)
{
	ir_node *n = e->n;
	ir_tensor tin[n->nin + 1], tout[n->nout + 1];
	const ir_tensor *pin[n->nin + 1];
	ir_tensor *pout[n->nout + 1];
	for (int k = 0; k < n->nin; k++) {
		ir_value *v = n->in[k];
		pin[k] = NULL;
		if (!v)
			continue;
		tin[k] = (ir_tensor){v->dt, v->shape, t->val[v->id]};
		pin[k] = &tin[k];
	}
	for (int k = 0; k < n->nout; k++) {
		ir_value *v = n->out[k];
		pout[k] = NULL;
		if (!v)
			continue;
		memset(t->val[v->id], 0, (size_t)t->numel[v->id] * ir_dtype_size(v->dt));
		tout[k] = (ir_tensor){v->dt, v->shape, t->val[v->id]};
		pout[k] = &tout[k];
	}
	return ir_eval_node(n, pin, pout, t->d);
}

int qgt_trainer_forward(qgt_trainer *t, const float *x, const int32_t *y, bool train,
                        double *loss, int64_t *correct)
{
	t->train_mode = train;
	t->labels = y;
	memcpy(t->val[t->in->id], x, sizeof(float) * (size_t)t->numel[t->in->id]);
	for (int i = 0; i < t->nex; i++) {
		qgt_exec *e = &t->ex[i];
		double t0 = t->profile ? prof_now() : 0;
		int r = e->fwd ? e->fwd(t, e) : eval_generic(t, e);
		if (r)
			return -1;
		if (t->profile) {
			double dt = prof_now() - t0;
			e->tf += dt;
			if (dt < e->tf_min || e->tf_min == 0)
				e->tf_min = dt;
		}
	}
	/* Softmax cross-entropy, mean over the batch. */
	const float *z = qgt_f(t, t->logits);
	int64_t b = t->batch, k = t->nclass;
	double l = 0;
	int64_t ok = 0;
	for (int64_t i = 0; i < b; i++) {
		const float *zi = z + i * k;
		float *pi = t->probs + i * k;
		float mx = zi[0];
		int64_t best = 0;
		for (int64_t j = 1; j < k; j++)
			if (zi[j] > mx) {
				mx = zi[j];
				best = j;
			}
		double s = 0;
		for (int64_t j = 0; j < k; j++) {
			pi[j] = expf(zi[j] - mx);
			s += pi[j];
		}
		float inv = (float)(1.0 / s);
		for (int64_t j = 0; j < k; j++)
			pi[j] *= inv;
		if (y) {
			int32_t lab = y[i];
			if (lab < 0 || lab >= k) {
				diag_error(t->d, t->g->src_file, "label %d of sample %lld is out of range for %lld classes",
				           lab, (long long)i, (long long)k);
				return -1;
			}
			double lse = (double)mx + log(s);
			if (t->soft) {
				/* (1 - a) CE(label) + a CE(teacher), the teacher's
				 * entropy left out (it does not depend on the model) */
				double a = t->cfg.distill, ce = 0;
				const float *q = t->soft + i * k;
				for (int64_t j = 0; j < k; j++)
					ce += (double)q[j] * (lse - (double)zi[j]);
				l += (1 - a) * (lse - (double)zi[lab]) + a * ce;
			} else
				l += lse - (double)zi[lab];
			ok += best == lab;
		}
	}
	if (loss)
		*loss = l / (double)b;
	if (correct)
		*correct = ok;
	return 0;
}

const float *qgt_trainer_logits(const qgt_trainer *t, int64_t *classes)
{
	if (classes)
		*classes = t->nclass;
	return qgt_f(t, t->logits);
}

/* ------------------------------------------------------------ backward */

int qgt_trainer_backward(qgt_trainer *t)
{
	if (!t->labels) {
		diag_error(t->d, t->g->src_file, "backward needs a forward with labels");
		return -1;
	}
	memset(t->ginit, 0, (size_t)t->nv);
	bool acc;
	float *dz = qgt_grad_out(t, t->logits, &acc);
	if (dz) {
		int64_t b = t->batch, k = t->nclass;
		float inv = 1.0f / (float)b;
		float a = t->soft ? t->cfg.distill : 0;
		for (int64_t i = 0; i < b; i++)
			for (int64_t j = 0; j < k; j++) {
				float target = (j == t->labels[i] ? 1.0f - a : 0.0f) + (a ? a * t->soft[i * k + j] : 0);
				dz[i * k + j] = (t->probs[i * k + j] - target) * inv;
			}
	}
	for (int i = t->nex - 1; i >= 0; i--) {
		qgt_exec *e = &t->ex[i];
		if (!e->run_bwd || !e->bwd)
			continue;
		bool any = false;
		for (int k = 0; k < e->n->nout; k++)
			any |= qgt_grad_in(t, e->n->out[k]) != NULL;
		if (!any)
			continue;
		double t0 = t->profile ? prof_now() : 0;
		if (e->bwd(t, e))
			return -1;
		if (t->profile) {
			double dt = prof_now() - t0;
			e->tb += dt;
			if (dt < e->tb_min || e->tb_min == 0)
				e->tb_min = dt;
		}
	}
	/* Parameters no gradient reached get zeros. */
	for (int i = 0; i < t->nparams; i++)
		if (!t->ginit[t->params[i].v->id])
			memset(t->params[i].g, 0, sizeof(float) * (size_t)t->params[i].n);
	if (t->cfg.input_grad && !t->ginit[t->in->id])
		memset(t->grad[t->in->id], 0, sizeof(float) * (size_t)t->numel[t->in->id]);
	return 0;
}

const float *qgt_trainer_input_grad(const qgt_trainer *t)
{
	return t->cfg.input_grad ? t->grad[t->in->id] : NULL;
}
