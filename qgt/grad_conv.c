/* grad_conv.c: forward and backward of conv (im2col + sgemm, parallel
 * over the batch), gemm and matmul (sgemm). */
#include <cblas.h>
#include <string.h>

#include "kernel.h"
#include "train_internal.h"

/* ---------------------------------------------------------------- conv */

typedef struct conv_st {
	int64_t n, c, h, w;       /* input */
	int64_t m, oh, ow;        /* output channels and extents */
	int64_t kh, kw, sh, sw, ph, pw, dh, dw;
	int64_t group, cg, mg;    /* groups, channels per group in and out */
	int64_t k, p;             /* gemm inner dim cg*kh*kw, output pixels */
	bool direct;              /* 1x1, stride 1, no pad: the input is the column */
	/* Backward: which gradients to make. */
	bool need_dx;
	ir_value *x, *wv, *bv, *y;
	float **dwt;              /* per thread: dW then dB partial sums (in tbuf) */
} conv_st;

/* col[(c*kh + i)*kw + j][oy*ow + ox] = x[c][oy*sh - ph + i*dh][ox*sw - pw + j*dw] */
static void im2col(const conv_st *s, const float *x, float *col)
{
	int64_t hw = s->h * s->w, p = s->p;
	for (int64_t c = 0; c < s->cg; c++)
		for (int64_t i = 0; i < s->kh; i++)
			for (int64_t j = 0; j < s->kw; j++) {
				float *row = col + ((c * s->kh + i) * s->kw + j) * p;
				const float *xc = x + c * hw;
				/* Valid output columns: 0 <= ox*sw - pw + j*dw < w. */
				int64_t off = j * s->dw - s->pw;
				int64_t lo = off >= 0 ? 0 : (-off + s->sw - 1) / s->sw;
				int64_t hi = s->w - off <= 0 ? 0 : (s->w - off + s->sw - 1) / s->sw;
				if (hi > s->ow)
					hi = s->ow;
				if (lo > hi)
					lo = hi;
				for (int64_t oy = 0; oy < s->oh; oy++) {
					float *r = row + oy * s->ow;
					int64_t iy = oy * s->sh - s->ph + i * s->dh;
					if (iy < 0 || iy >= s->h) {
						memset(r, 0, sizeof(float) * (size_t)s->ow);
						continue;
					}
					const float *xr = xc + iy * s->w + off;
					for (int64_t ox = 0; ox < lo; ox++)
						r[ox] = 0;
					if (s->sw == 1)
						memcpy(r + lo, xr + lo, sizeof(float) * (size_t)(hi - lo));
					else
						for (int64_t ox = lo; ox < hi; ox++)
							r[ox] = xr[ox * s->sw];
					for (int64_t ox = hi; ox < s->ow; ox++)
						r[ox] = 0;
				}
			}
}

/* The adjoint of im2col: add columns back into dx. */
static void col2im(const conv_st *s, const float *col, float *dx)
{
	int64_t hw = s->h * s->w, p = s->p;
	for (int64_t c = 0; c < s->cg; c++)
		for (int64_t i = 0; i < s->kh; i++)
			for (int64_t j = 0; j < s->kw; j++) {
				const float *row = col + ((c * s->kh + i) * s->kw + j) * p;
				float *xc = dx + c * hw;
				int64_t off = j * s->dw - s->pw;
				int64_t lo = off >= 0 ? 0 : (-off + s->sw - 1) / s->sw;
				int64_t hi = s->w - off <= 0 ? 0 : (s->w - off + s->sw - 1) / s->sw;
				if (hi > s->ow)
					hi = s->ow;
				for (int64_t oy = 0; oy < s->oh; oy++) {
					int64_t iy = oy * s->sh - s->ph + i * s->dh;
					if (iy < 0 || iy >= s->h)
						continue;
					const float *r = row + oy * s->ow;
					float *xr = xc + iy * s->w + off;
					for (int64_t ox = lo; ox < hi; ox++)
						xr[ox * s->sw] += r[ox];
				}
			}
}

typedef struct conv_job {
	qgt_trainer *t;
	conv_st *s;
	const float *x, *w, *b, *dy;
	float *y, *dx;
	bool dx_acc;
} conv_job;

static void conv_fwd_task(void *ctx, int tid, int64_t lo, int64_t hi)
{
	conv_job *j = ctx;
	conv_st *s = j->s;
	float *col = j->t->tbuf[tid];
	int64_t chw = s->c * s->h * s->w, mp = s->m * s->p;
	for (int64_t b = lo; b < hi; b++)
		for (int64_t gi = 0; gi < s->group; gi++) {
			const float *xg = j->x + b * chw + gi * s->cg * s->h * s->w;
			const float *src = xg;
			if (!s->direct) {
				im2col(s, xg, col);
				src = col;
			}
			float *yg = j->y + b * mp + gi * s->mg * s->p;
			/* The bias goes in first, the product on top (beta 1). */
			if (j->b)
				for (int64_t m = 0; m < s->mg; m++) {
					float bv = j->b[gi * s->mg + m];
					float *r = yg + m * s->p;
					for (int64_t q = 0; q < s->p; q++)
						r[q] = bv;
				}
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)s->mg, (int)s->p,
			            (int)s->k, 1.0f, j->w + gi * s->mg * s->k, (int)s->k, src, (int)s->p,
			            j->b ? 1.0f : 0.0f, yg, (int)s->p);
		}
}

static int conv_fwd(qgt_trainer *t, qgt_exec *e)
{
	conv_st *s = e->st;
	conv_job j = {t, s, qgt_f(t, s->x), qgt_f(t, s->wv), s->bv ? qgt_f(t, s->bv) : NULL, NULL,
	              qgt_f(t, s->y), NULL, false};
	qgt_pool_run(t->pool, s->n, conv_fwd_task, &j);
	return 0;
}

static void conv_bwd_task(void *ctx, int tid, int64_t lo, int64_t hi)
{
	conv_job *j = ctx;
	conv_st *s = j->s;
	float *col = j->t->tbuf[tid];
	float *dcol = col + s->k * s->p;
	float *dw = dcol + s->k * s->p;
	float *db = dw + s->m * s->k;
	memset(dw, 0, sizeof(float) * (size_t)(s->m * s->k + s->m));
	int64_t chw = s->c * s->h * s->w, mp = s->m * s->p, cghw = s->cg * s->h * s->w;
	for (int64_t b = lo; b < hi; b++) {
		if (j->dx && !j->dx_acc)
			memset(j->dx + b * chw, 0, sizeof(float) * (size_t)chw);
		for (int64_t gi = 0; gi < s->group; gi++) {
			const float *xg = j->x + b * chw + gi * cghw;
			const float *dyg = j->dy + b * mp + gi * s->mg * s->p;
			const float *src = xg;
			if (!s->direct) {
				im2col(s, xg, col);
				src = col;
			}
			/* dW[g] += dY[g] (mg x p) * col^T (p x k) */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)s->mg, (int)s->k,
			            (int)s->p, 1.0f, dyg, (int)s->p, src, (int)s->p, 1.0f,
			            dw + gi * s->mg * s->k, (int)s->k);
			for (int64_t m = 0; m < s->mg; m++) {
				const float *r = dyg + m * s->p;
				float acc = 0;
				for (int64_t q = 0; q < s->p; q++)
					acc += r[q];
				db[gi * s->mg + m] += acc;
			}
			if (!j->dx)
				continue;
			/* dcol = W[g]^T (k x mg) * dY[g] (mg x p), then scatter. */
			float *dxg = j->dx + b * chw + gi * cghw;
			if (s->direct) {
				cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)s->k, (int)s->p,
				            (int)s->mg, 1.0f, j->w + gi * s->mg * s->k, (int)s->k, dyg,
				            (int)s->p, 1.0f, dxg, (int)s->p);
			} else {
				cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)s->k, (int)s->p,
				            (int)s->mg, 1.0f, j->w + gi * s->mg * s->k, (int)s->k, dyg,
				            (int)s->p, 0.0f, dcol, (int)s->p);
				col2im(s, dcol, dxg);
			}
		}
	}
}

static int conv_bwd(qgt_trainer *t, qgt_exec *e)
{
	conv_st *s = e->st;
	const float *dy = qgt_grad_in(t, s->y);
	bool dx_acc = false, dw_acc = false, db_acc = false;
	float *dx = qgt_grad_out(t, s->x, &dx_acc);
	conv_job j = {t, s, qgt_f(t, s->x), qgt_f(t, s->wv), NULL, dy, NULL, dx, dx_acc};
	int nt = t->nthreads;
	int64_t chunks = s->n < nt ? s->n : nt;
	qgt_pool_run(t->pool, s->n, conv_bwd_task, &j);
	/* Reduce the per-thread partial dW/dB in thread order. */
	float *dw = qgt_grad_out(t, s->wv, &dw_acc);
	float *db = s->bv ? qgt_grad_out(t, s->bv, &db_acc) : NULL;
	int64_t nw = s->m * s->k;
	for (int64_t th = 0; th < chunks; th++) {
		const float *pw = t->tbuf[th] + 2 * s->k * s->p;
		const float *pb = pw + nw;
		if (dw) {
			bool first = th == 0 && !dw_acc;
			for (int64_t i = 0; i < nw; i++)
				dw[i] = first ? pw[i] : dw[i] + pw[i];
		}
		if (db) {
			bool first = th == 0 && !db_acc;
			for (int64_t i = 0; i < s->m; i++)
				db[i] = first ? pb[i] : db[i] + pb[i];
		}
	}
	return 0;
}

int qgt_plan_conv(qgt_trainer *t, qgt_exec *e, size_t *tbuf)
{
	ir_node *n = e->n;
	ir_value *x = n->in[0], *w = n->in[1], *b = n->nin > 2 ? n->in[2] : NULL, *y = n->out[0];
	int r = x->shape.rank;
	if ((r != 3 && r != 4) || x->dt != IR_DT_F32 || w->shape.rank != r) {
		if (e->run_bwd) {
			diag_error(t->d, ir_node_loc(t->g, n), "training supports 1-D and 2-D convolutions only");
			return -1;
		}
		return 0;
	}
	conv_st *s = qgt_plan_alloc(t, sizeof *s);
	if (!s)
		return -1;
	s->x = x;
	s->wv = w;
	s->bv = b && ir_shape_numel(&b->shape) > 0 ? b : NULL;
	s->y = y;
	s->n = x->shape.d[0];
	s->c = x->shape.d[1];
	s->m = w->shape.d[0];
	s->group = ir_attr_int(n, "group", 1);
	s->cg = s->c / s->group;
	s->mg = s->m / s->group;
	int nsp = r - 2;
	int64_t in[2], k[2], st[2] = {1, 1}, dil[2] = {1, 1}, pb[2], pe[2];
	int cnt;
	const int64_t *a = ir_attr_ints(n, "strides", &cnt);
	for (int i = 0; a && i < nsp && i < cnt; i++)
		st[i] = a[i];
	a = ir_attr_ints(n, "dilations", &cnt);
	for (int i = 0; a && i < nsp && i < cnt; i++)
		dil[i] = a[i];
	for (int i = 0; i < nsp; i++) {
		in[i] = x->shape.d[2 + i];
		k[i] = w->shape.d[2 + i];
	}
	if (k_resolve_pads(t->g, n, nsp, in, k, st, dil, pb, pe, t->d))
		return -1;
	/* 1-D runs as 2-D with a height of 1. */
	s->h = nsp == 2 ? in[0] : 1;
	s->w = in[nsp - 1];
	s->kh = nsp == 2 ? k[0] : 1;
	s->kw = k[nsp - 1];
	s->sh = nsp == 2 ? st[0] : 1;
	s->sw = st[nsp - 1];
	s->dh = nsp == 2 ? dil[0] : 1;
	s->dw = dil[nsp - 1];
	s->ph = nsp == 2 ? pb[0] : 0;
	s->pw = pb[nsp - 1];
	s->oh = nsp == 2 ? y->shape.d[2] : 1;
	s->ow = y->shape.d[r - 1];
	s->k = s->cg * s->kh * s->kw;
	s->p = s->oh * s->ow;
	s->direct = s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->ph == 0 &&
	            s->pw == 0 && s->oh == s->h && s->ow == s->w;
	size_t need = (size_t)(2 * s->k * s->p + s->m * s->k + s->m);
	if (need > *tbuf)
		*tbuf = need;
	e->st = s;
	e->fwd = conv_fwd;
	e->bwd = conv_bwd;
	return 0;
}

/* ---------------------------------------------------------------- gemm */

typedef struct gemm_st {
	int64_t m, n, k;
	bool ta, tb;
	float alpha, beta;
	int64_t c_rows, c_cols;   /* C broadcast: 0 rows means no C */
} gemm_st;

static int gemm_fwd(qgt_trainer *t, qgt_exec *e)
{
	gemm_st *s = e->st;
	ir_node *n = e->n;
	const float *a = qgt_f(t, n->in[0]), *b = qgt_f(t, n->in[1]);
	float *y = qgt_f(t, n->out[0]);
	float beta = 0;
	if (s->c_rows) {
		const float *c = qgt_f(t, n->in[2]);
		for (int64_t i = 0; i < s->m; i++)
			for (int64_t j = 0; j < s->n; j++)
				y[i * s->n + j] = c[(s->c_rows == 1 ? 0 : i) * s->c_cols + (s->c_cols == 1 ? 0 : j)];
		beta = s->beta;
	}
	cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans,
	            (int)s->m, (int)s->n, (int)s->k, s->alpha, a, s->ta ? (int)s->m : (int)s->k, b,
	            s->tb ? (int)s->k : (int)s->n, beta, y, (int)s->n);
	return 0;
}

static int gemm_bwd(qgt_trainer *t, qgt_exec *e)
{
	gemm_st *s = e->st;
	ir_node *n = e->n;
	const float *a = qgt_f(t, n->in[0]), *b = qgt_f(t, n->in[1]);
	const float *dy = qgt_grad_in(t, n->out[0]);
	int M = (int)s->m, N = (int)s->n, K = (int)s->k;
	bool acc;
	float *da = qgt_grad_out(t, n->in[0], &acc);
	if (da) {
		if (!s->ta) /* dA[M,K] = alpha dY B'^T */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, s->tb ? CblasNoTrans : CblasTrans, M, K, N,
			            s->alpha, dy, N, b, s->tb ? K : N, acc ? 1.0f : 0.0f, da, K);
		else /* dA[K,M] = alpha B' dY^T */
			cblas_sgemm(CblasRowMajor, s->tb ? CblasTrans : CblasNoTrans, CblasTrans, K, M, N,
			            s->alpha, b, s->tb ? K : N, dy, N, acc ? 1.0f : 0.0f, da, M);
	}
	float *db = qgt_grad_out(t, n->in[1], &acc);
	if (db) {
		if (!s->tb) /* dB[K,N] = alpha A'^T dY */
			cblas_sgemm(CblasRowMajor, s->ta ? CblasNoTrans : CblasTrans, CblasNoTrans, K, N, M,
			            s->alpha, a, s->ta ? M : K, dy, N, acc ? 1.0f : 0.0f, db, N);
		else /* dB[N,K] = alpha dY^T A' */
			cblas_sgemm(CblasRowMajor, CblasTrans, s->ta ? CblasTrans : CblasNoTrans, N, K, M,
			            s->alpha, dy, N, a, s->ta ? M : K, acc ? 1.0f : 0.0f, db, K);
	}
	float *dc = s->c_rows ? qgt_grad_out(t, n->in[2], &acc) : NULL;
	if (dc) {
		int64_t nc = s->c_rows * s->c_cols;
		if (!acc)
			memset(dc, 0, sizeof(float) * (size_t)nc);
		for (int64_t i = 0; i < s->m; i++)
			for (int64_t j = 0; j < s->n; j++)
				dc[(s->c_rows == 1 ? 0 : i) * s->c_cols + (s->c_cols == 1 ? 0 : j)] +=
					s->beta * dy[i * s->n + j];
	}
	return 0;
}

int qgt_plan_gemm(qgt_trainer *t, qgt_exec *e, size_t *tbuf)
{
	(void)tbuf;
	ir_node *n = e->n;
	gemm_st *s = qgt_plan_alloc(t, sizeof *s);
	if (!s)
		return -1;
	s->ta = ir_attr_int(n, "trans_a", 0) != 0;
	s->tb = ir_attr_int(n, "trans_b", 0) != 0;
	s->alpha = ir_attr_float(n, "alpha", 1.0f);
	s->beta = ir_attr_float(n, "beta", 1.0f);
	const ir_shape *as = &n->in[0]->shape, *bs = &n->in[1]->shape;
	s->m = s->ta ? as->d[1] : as->d[0];
	s->k = s->ta ? as->d[0] : as->d[1];
	s->n = s->tb ? bs->d[0] : bs->d[1];
	ir_value *c = n->nin > 2 ? n->in[2] : NULL;
	if (c && ir_shape_numel(&c->shape) > 0) {
		int cr = c->shape.rank;
		s->c_rows = cr == 2 ? c->shape.d[0] : 1;
		s->c_cols = cr >= 1 ? c->shape.d[cr - 1] : 1;
	}
	e->st = s;
	e->fwd = gemm_fwd;
	e->bwd = gemm_bwd;
	return 0;
}

/* -------------------------------------------------------------- matmul */

/* numpy matmul with broadcast batch dims, as in ir/k_linalg.c: a 1-D A
 * acts as [1,K], a 1-D B as [K,1]. */
typedef struct matmul_st {
	int64_t m, n, k, nbatch;
	int nb;
	int64_t sa[IR_MAX_RANK], sb[IR_MAX_RANK], yd[IR_MAX_RANK];
} matmul_st;

static void mm_offsets(const matmul_st *s, int64_t t, int64_t *ia, int64_t *ib)
{
	int64_t rem = t;
	*ia = *ib = 0;
	for (int i = s->nb - 1; i >= 0; i--) {
		int64_t idx = rem % s->yd[i];
		rem /= s->yd[i];
		*ia += idx * s->sa[i];
		*ib += idx * s->sb[i];
	}
}

static int matmul_fwd(qgt_trainer *t, qgt_exec *e)
{
	matmul_st *s = e->st;
	ir_node *n = e->n;
	const float *a = qgt_f(t, n->in[0]), *b = qgt_f(t, n->in[1]);
	float *y = qgt_f(t, n->out[0]);
	for (int64_t q = 0; q < s->nbatch; q++) {
		int64_t ia, ib;
		mm_offsets(s, q, &ia, &ib);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)s->m, (int)s->n, (int)s->k,
		            1.0f, a + ia * s->m * s->k, (int)s->k, b + ib * s->k * s->n, (int)s->n, 0.0f,
		            y + q * s->m * s->n, (int)s->n);
	}
	return 0;
}

static int matmul_bwd(qgt_trainer *t, qgt_exec *e)
{
	matmul_st *s = e->st;
	ir_node *n = e->n;
	const float *a = qgt_f(t, n->in[0]), *b = qgt_f(t, n->in[1]);
	const float *dy = qgt_grad_in(t, n->out[0]);
	bool acca, accb;
	float *da = qgt_grad_out(t, n->in[0], &acca);
	float *db = qgt_grad_out(t, n->in[1], &accb);
	if (da && !acca)
		memset(da, 0, sizeof(float) * (size_t)t->numel[n->in[0]->id]);
	if (db && !accb)
		memset(db, 0, sizeof(float) * (size_t)t->numel[n->in[1]->id]);
	int M = (int)s->m, N = (int)s->n, K = (int)s->k;
	for (int64_t q = 0; q < s->nbatch; q++) {
		int64_t ia, ib;
		mm_offsets(s, q, &ia, &ib);
		const float *dyq = dy + q * s->m * s->n;
		if (da) /* dA = dY B^T */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, N, 1.0f, dyq, N,
			            b + ib * s->k * s->n, N, 1.0f, da + ia * s->m * s->k, K);
		if (db) /* dB = A^T dY */
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, M, 1.0f,
			            a + ia * s->m * s->k, K, dyq, N, 1.0f, db + ib * s->k * s->n, N);
	}
	return 0;
}

int qgt_plan_matmul(qgt_trainer *t, qgt_exec *e, size_t *tbuf)
{
	(void)tbuf;
	ir_node *n = e->n;
	const ir_shape *as = &n->in[0]->shape, *bs = &n->in[1]->shape, *ys = &n->out[0]->shape;
	matmul_st *s = qgt_plan_alloc(t, sizeof *s);
	if (!s)
		return -1;
	s->m = as->rank >= 2 ? as->d[as->rank - 2] : 1;
	s->k = as->d[as->rank - 1];
	s->n = bs->rank >= 2 ? bs->d[bs->rank - 1] : 1;
	s->nb = ys->rank - (as->rank >= 2) - (bs->rank >= 2);
	int ra = as->rank > 2 ? as->rank - 2 : 0, rb = bs->rank > 2 ? bs->rank - 2 : 0;
	int64_t acc_a = 1, acc_b = 1;
	s->nbatch = 1;
	for (int i = s->nb - 1; i >= 0; i--) {
		int ia = i - (s->nb - ra), ib = i - (s->nb - rb);
		s->yd[i] = ys->d[i];
		s->nbatch *= ys->d[i];
		if (ia >= 0) {
			s->sa[i] = as->d[ia] == 1 ? 0 : acc_a;
			acc_a *= as->d[ia];
		}
		if (ib >= 0) {
			s->sb[i] = bs->d[ib] == 1 ? 0 : acc_b;
			acc_b *= bs->d[ib];
		}
	}
	e->st = s;
	e->fwd = matmul_fwd;
	e->bwd = matmul_bwd;
	return 0;
}
