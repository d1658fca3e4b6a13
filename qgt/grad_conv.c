/* grad_conv.c: forward and backward of conv and conv_transpose (im2col +
 * sgemm over chunks of samples, parallel over the batch), gemm and matmul
 * (sgemm). */
#include <string.h>

#include "blas.h"
#include "kernel.h"
#include "train_internal.h"

/* ---------------------------------------------------------------- conv */

/* Columns of one im2col chunk (samples side by side) are capped near
 * this many floats, so a chunk stays in L2 while its GEMMs run.  Small
 * per-sample GEMMs waste most of OpenBLAS's time in packing and edges. */
enum { CONV_CHUNK_FLOATS = 96 * 1024, CONV_CHUNK_MAX = 16 };

typedef struct conv_st {
	int64_t n, c, h, w;       /* input */
	int64_t m, oh, ow;        /* output channels and extents */
	int64_t kh, kw, sh, sw, ph, pw, dh, dw;
	int64_t group, cg, mg;    /* groups, channels per group in and out */
	int64_t k, p;             /* gemm inner dim cg*kh*kw, output pixels */
	int64_t chunk;            /* samples per GEMM */
	bool direct;              /* 1x1, stride 1, no pad: the input is the column */
	bool shift;               /* stride 1, ow == w: a column row is a shifted input plane */
	int32_t *mask;            /* shift mode: per tap [kh*kw][p], all ones where it reads
	                           * inside the input */
	int64_t center;           /* column row (i*kw + j) of the tap that reads every input
	                           * pixel once, in shift mode; -1 if none */
	double *mom;              /* per-thread output moments (qgt_conv_moments), or NULL */
	int mom_threads;
	qgt_dy_src dy_src;        /* output gradient on demand (qgt_conv_take_dy); plane NULL if none */
	ir_value *x, *wv, *bv, *y;
} conv_st;

/* Per-thread scratch (tbuf): dW partial [m*k], dB partial [m], then the
 * chunk's columns [k][chunk*p], then its outputs or output gradients for
 * one group [mg][chunk*p], then dcol [k][chunk*p] (shift mode; else dcol
 * reuses the columns, spent by then). */
static float *conv_col(const conv_st *s, float *tb)
{
	return tb + s->m * s->k + s->m;
}

static float *conv_tmp(const conv_st *s, float *tb)
{
	return conv_col(s, tb) + s->k * s->chunk * s->p;
}

static float *conv_dcol(const conv_st *s, float *tb)
{
	return s->shift ? conv_tmp(s, tb) + s->mg * s->chunk * s->p : conv_col(s, tb);
}

/* Where a kernel tap reads: output row oy reads input row oy*sh + di,
 * valid for oy in [y0, y1); likewise columns with dj in [x0, x1). */
static void tap_range(int64_t d, int64_t st, int64_t in, int64_t out, int64_t *lo, int64_t *hi)
{
	int64_t l = d >= 0 ? 0 : (-d + st - 1) / st;
	int64_t h = in - d <= 0 ? 0 : (in - d + st - 1) / st;
	if (h > out)
		h = out;
	if (l > h)
		l = h;
	*lo = l;
	*hi = h;
}

/* Shift mode: tap (di, dj) reads x[q + off], off = di*w + dj, for output
 * pixel q, where its mask lets it.  [a, b) is the run of q it may read
 * at all, clipped to the plane: what lies outside the run, or wraps to
 * another row inside it, is masked. */
static void shift_run(const conv_st *s, int64_t di, int64_t dj, int64_t *off, int64_t *a,
                      int64_t *b)
{
	int64_t hw = s->h * s->w, y0, y1;
	tap_range(di, 1, s->h, s->oh, &y0, &y1);
	*off = di * s->w + dj;
	*a = y0 * s->ow > -*off ? y0 * s->ow : -*off;
	*b = y1 * s->ow < hw - *off ? y1 * s->ow : hw - *off;
	if (*a > *b)
		*a = *b;
}

/* Fill s->mask: tap (i, j) reads inside the input at output pixel q. */
static void conv_masks(conv_st *s)
{
	for (int64_t i = 0; i < s->kh; i++)
		for (int64_t j = 0; j < s->kw; j++) {
			int64_t y0, y1, x0, x1;
			tap_range(i * s->dh - s->ph, 1, s->h, s->oh, &y0, &y1);
			tap_range(j * s->dw - s->pw, 1, s->w, s->ow, &x0, &x1);
			int32_t *mk = s->mask + (i * s->kw + j) * s->p;
			for (int64_t oy = 0; oy < s->oh; oy++)
				for (int64_t ox = 0; ox < s->ow; ox++)
					mk[oy * s->ow + ox] = oy >= y0 && oy < y1 && ox >= x0 && ox < x1 ? -1 : 0;
		}
}

/* d[q] = s[q] where m[q] is all ones, else +0. */
static void masked_copy(float *restrict d, const float *restrict s, const int32_t *restrict m,
                        int64_t n)
{
	int64_t q = 0;
	for (; q + 4 <= n; q += 4) {
		v4i v = (v4i)v4f_load(s + q) & v4i_load(m + q);
		memcpy(d + q, &v, sizeof v);
	}
	for (; q < n; q++)
		d[q] = m[q] ? s[q] : 0.0f;
}

/* x[q] += r[q] where m[q] is all ones (else adds +0, which leaves x);
 * with `zero` r is cleared as it is read. */
static void masked_add(float *restrict x, float *restrict r, const int32_t *restrict m, int64_t n,
                       bool zero)
{
	int64_t q = 0;
	for (; q + 4 <= n; q += 4) {
		v4f v = (v4f)((v4i)v4f_load(r + q) & v4i_load(m + q)) + v4f_load(x + q);
		memcpy(x + q, &v, sizeof v);
		if (zero)
			memset(r + q, 0, sizeof v);
	}
	for (; q < n; q++) {
		x[q] += m[q] ? r[q] : 0.0f;
		if (zero)
			r[q] = 0;
	}
}

/* col[(c*kh + i)*kw + j][oy*ow + ox] = x[c][oy*sh - ph + i*dh][ox*sw - pw + j*dw],
 * 0 outside; column rows are ld apart. */
static void im2col(const conv_st *s, const float *x, float *col, int64_t ld)
{
	int64_t hw = s->h * s->w, ow = s->ow;
	for (int64_t c = 0; c < s->cg; c++)
		for (int64_t i = 0; i < s->kh; i++)
			for (int64_t j = 0; j < s->kw; j++) {
				float *row = col + ((c * s->kh + i) * s->kw + j) * ld;
				const float *xc = x + c * hw;
				int64_t di = i * s->dh - s->ph, dj = j * s->dw - s->pw, y0, y1, x0, x1;
				if (s->shift) {
					int64_t off, a, b;
					shift_run(s, di, dj, &off, &a, &b);
					memset(row, 0, sizeof(float) * (size_t)a);
					memset(row + b, 0, sizeof(float) * (size_t)(s->p - b));
					if (a < b)
						masked_copy(row + a, xc + a + off,
						            s->mask + (i * s->kw + j) * s->p + a, b - a);
					continue;
				}
				tap_range(di, s->sh, s->h, s->oh, &y0, &y1);
				tap_range(dj, s->sw, s->w, ow, &x0, &x1);
				memset(row, 0, sizeof(float) * (size_t)(y0 * ow));
				memset(row + y1 * ow, 0, sizeof(float) * (size_t)((s->oh - y1) * ow));
				for (int64_t oy = y0; oy < y1; oy++) {
					float *r = row + oy * ow;
					const float *xr = xc + (oy * s->sh + di) * s->w + dj;
					for (int64_t ox = 0; ox < x0; ox++)
						r[ox] = 0;
					if (s->sw == 1)
						memcpy(r + x0, xr + x0, sizeof(float) * (size_t)(x1 - x0));
					else
						for (int64_t ox = x0; ox < x1; ox++)
							r[ox] = xr[ox * s->sw];
					for (int64_t ox = x1; ox < ow; ox++)
						r[ox] = 0;
				}
			}
}

/* The adjoint of im2col: add columns back into dx, or with `first` (and
 * a center tap) store the center tap's and add the others, so that dx
 * need not be zeroed first.  In shift mode each tap row adds back in one
 * masked run (x + 0 is x); with `zero` the columns are left all zero, so
 * the next GEMM into them can add instead of having them cleared. */
static void col2im(const conv_st *s, float *col, int64_t ld, float *dx, bool first, bool zero)
{
	int64_t hw = s->h * s->w, ow = s->ow, kk = s->kh * s->kw;
	bool store = first && s->center >= 0;
	for (int64_t c = 0; c < s->cg; c++) {
		if (store) {
			float *restrict xc = dx + c * hw, *restrict row = col + (c * kk + s->center) * ld;
			if (zero)
				for (int64_t q = 0; q < hw; q++) {
					xc[q] = row[q];
					row[q] = 0;
				}
			else
				memcpy(xc, row, sizeof(float) * (size_t)hw);
		}
		for (int64_t i = 0; i < s->kh; i++)
			for (int64_t j = 0; j < s->kw; j++) {
				if (store && i * s->kw + j == s->center)
					continue;
				float *row = col + ((c * s->kh + i) * s->kw + j) * ld;
				float *xc = dx + c * hw;
				int64_t di = i * s->dh - s->ph, dj = j * s->dw - s->pw, y0, y1, x0, x1;
				tap_range(di, s->sh, s->h, s->oh, &y0, &y1);
				tap_range(dj, s->sw, s->w, ow, &x0, &x1);
				if (s->shift) {
					int64_t off, a, b;
					shift_run(s, di, dj, &off, &a, &b);
					if (a < b)
						masked_add(xc + a + off, row + a,
						           s->mask + (i * s->kw + j) * s->p + a, b - a, zero);
					if (zero) {
						memset(row, 0, sizeof(float) * (size_t)a);
						memset(row + b, 0, sizeof(float) * (size_t)(s->p - b));
					}
					continue;
				}
				for (int64_t oy = y0; oy < y1; oy++) {
					const float *restrict r = row + oy * ow;
					float *restrict xr = xc + (oy * s->sh + di) * s->w + dj;
					if (s->sw == 1)
						for (int64_t ox = x0; ox < x1; ox++)
							xr[ox] += r[ox];
					else
						for (int64_t ox = x0; ox < x1; ox++)
							xr[ox * s->sw] += r[ox];
				}
			}
	}
}

/* Sum of r[0..n) in 16 interleaved partial sums: vectorisable without
 * reassociation, and the same order every run. */
static float row_sum(const float *r, int64_t n)
{
	float acc[16] = {0};
	int64_t q = 0;
	for (; q + 16 <= n; q += 16)
		for (int l = 0; l < 16; l++)
			acc[l] += r[q + l];
	for (int l = 0; q < n; q++, l++)
		acc[l] += r[q];
	float s = 0;
	for (int l = 0; l < 16; l++)
		s += acc[l];
	return s;
}

typedef struct conv_job {
	qgt_trainer *t;
	conv_st *s;
	const float *x, *w, *b, *dy;
	float *y, *dx;
	bool dx_acc;
	bool dy_src;              /* take dY from s->dy_src, not dy */
} conv_job;

/* The columns of samples [b0, b0+ns), group gi, side by side, built in
 * col (a 1x1 conv's single sample is its input). */
static const float *chunk_cols(const conv_st *s, const float *x, int64_t b0, int64_t ns,
                               int64_t gi, float *col)
{
	int64_t chw = s->c * s->h * s->w, cghw = s->cg * s->h * s->w, ld = ns * s->p;
	if (s->direct && ns == 1)
		return x + b0 * chw + gi * cghw;
	for (int64_t q = 0; q < ns; q++)
		im2col(s, x + (b0 + q) * chw + gi * cghw, col + q * s->p, ld);
	return col;
}

/* y = r + bias, clearing r; with mom, the sum of the row's y goes to
 * mom[0] and the sum of squares to mom[m]. */
static void scatter_row(float *restrict y, float *restrict r, int64_t p, float bias,
                        double *mom, int64_t m)
{
	v4f bv = {bias, bias, bias, bias}, s0 = {0}, s1 = {0}, q0 = {0}, q1 = {0};
	int64_t e = 0;
	for (; e + 8 <= p; e += 8) {
		v4f a = v4f_load(r + e) + bv, b = v4f_load(r + e + 4) + bv;
		memcpy(y + e, &a, sizeof a);
		memcpy(y + e + 4, &b, sizeof b);
		memset(r + e, 0, 2 * sizeof a);
		s0 += a;
		s1 += b;
		q0 += a * a;
		q1 += b * b;
	}
	float ts = 0, tq = 0;
	for (; e < p; e++) {
		float v = r[e] + bias;
		y[e] = v;
		r[e] = 0;
		ts += v;
		tq += v * v;
	}
	if (mom) {
		v4f z = {0};
		mom[0] += v4f_total(s0, s1, z, z, ts);
		mom[m] += v4f_total(q0, q1, z, z, tq);
	}
}

static void conv_fwd_task(void *ctx, int tid, int64_t lo, int64_t hi)
{
	conv_job *j = ctx;
	conv_st *s = j->s;
	float *col = conv_col(s, j->t->tbuf[tid]), *tmp = conv_tmp(s, j->t->tbuf[tid]);
	int64_t mp = s->m * s->p;
	/* The GEMMs add into tmp and the scatter leaves it clear: cheaper
	 * than OpenBLAS clearing it before every GEMM (beta 0). */
	memset(tmp, 0, sizeof(float) * (size_t)(s->mg * s->chunk * s->p));
	for (int64_t b0 = lo; b0 < hi; b0 += s->chunk) {
		int64_t ns = hi - b0 < s->chunk ? hi - b0 : s->chunk, ld = ns * s->p;
		for (int64_t gi = 0; gi < s->group; gi++) {
			const float *src = chunk_cols(s, j->x, b0, ns, gi, col);
			/* Y[g] (mg x ns*p) = W[g] (mg x k) * cols (k x ns*p); the
			 * scatter to [sample][channel][pixel] adds the bias. */
			qgt_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)s->mg, (int)ld, (int)s->k,
			          1.0f, j->w + gi * s->mg * s->k, (int)s->k, src, (int)ld, 1.0f, tmp,
			          (int)ld);
			for (int64_t q = 0; q < ns; q++)
				for (int64_t m = 0; m < s->mg; m++) {
					int64_t ch = gi * s->mg + m;
					scatter_row(j->y + (b0 + q) * mp + ch * s->p, tmp + m * ld + q * s->p, s->p,
					            j->b ? j->b[ch] : 0.0f,
					            s->mom ? s->mom + 2 * tid * s->m + ch : NULL, s->m);
				}
		}
	}
}

static int conv_fwd(qgt_trainer *t, qgt_exec *e)
{
	conv_st *s = e->st;
	conv_job j = {t, s, qgt_f(t, s->x), qgt_f(t, s->wv), s->bv ? qgt_f(t, s->bv) : NULL, NULL,
	              qgt_f(t, s->y), NULL, false, false};
	if (s->mom)
		memset(s->mom, 0, sizeof(double) * (size_t)(2 * s->mom_threads * s->m));
	qgt_pool_run(t->pool, s->n, conv_fwd_task, &j);
	return 0;
}

bool qgt_conv_take_dy(qgt_trainer *t, const ir_node *conv, const qgt_dy_src *src)
{
	for (int i = 0; i < t->nex; i++) {
		qgt_exec *e = &t->ex[i];
		if (e->n == conv && e->fwd == conv_fwd) {
			((conv_st *)e->st)->dy_src = *src;
			return true;
		}
	}
	return false;
}

const double *qgt_conv_moments(qgt_trainer *t, const ir_node *conv, int *nthreads)
{
	for (int i = 0; i < t->nex; i++) {
		qgt_exec *e = &t->ex[i];
		if (e->n != conv || e->fwd != conv_fwd)
			continue;
		conv_st *s = e->st;
		if (!s->mom) {
			/* The pool is made after planning, with at most this many. */
			s->mom_threads = t->cfg.threads < 1 ? 1 : t->cfg.threads;
			s->mom = qgt_plan_alloc(t, sizeof(double) * (size_t)(2 * s->mom_threads * s->m));
		}
		*nthreads = s->mom_threads;
		return s->mom;
	}
	return NULL;
}

/* The rows of group gi of v ([n][m][p]: a conv's output or its gradient,
 * a conv_transpose's input) for samples [b0, b0 + ns), side by side (ld
 * ns*p) in tmp, or in place for one sample. */
static const float *group_rows(const conv_st *s, const float *v, int64_t b0, int64_t ns, int64_t gi,
                               float *tmp)
{
	int64_t mp = s->m * s->p;
	const float *vg = v + b0 * mp + gi * s->mg * s->p;
	if (ns == 1)
		return vg;
	for (int64_t q = 0; q < ns; q++)
		for (int64_t m = 0; m < s->mg; m++)
			memcpy(tmp + m * ns * s->p + q * s->p, vg + q * mp + m * s->p, sizeof(float) * (size_t)s->p);
	return tmp;
}

static void conv_bwd_task(void *ctx, int tid, int64_t lo, int64_t hi)
{
	conv_job *j = ctx;
	conv_st *s = j->s;
	float *dw = j->t->tbuf[tid], *db = dw + s->m * s->k;
	float *col = conv_col(s, dw), *tmp = conv_tmp(s, dw);
	memset(dw, 0, sizeof(float) * (size_t)(s->m * s->k + s->m));
	int64_t chw = s->c * s->h * s->w, cghw = s->cg * s->h * s->w;
	/* With a center tap col2im stores before it adds: no zeroing. */
	if (j->dx && !j->dx_acc && s->center < 0)
		memset(j->dx + lo * chw, 0, sizeof(float) * (size_t)((hi - lo) * chw));
	/* In shift mode dcol has a buffer of its own: cleared once here,
	 * col2im leaves it clear, and the dcol GEMMs add into it rather than
	 * have OpenBLAS clear it each time. */
	float *dcol = conv_dcol(s, dw);
	bool clear = j->dx && s->shift;
	if (clear)
		memset(dcol, 0, sizeof(float) * (size_t)(s->k * s->chunk * s->p));
	for (int64_t b0 = lo; b0 < hi; b0 += s->chunk) {
		int64_t ns = hi - b0 < s->chunk ? hi - b0 : s->chunk, ld = ns * s->p;
		for (int64_t gi = 0; gi < s->group; gi++) {
			const float *src = chunk_cols(s, j->x, b0, ns, gi, col);
			/* dY[g] of the chunk side by side, as the forward's Y. */
			const float *dyg = tmp;
			if (j->dy_src)
				for (int64_t q = 0; q < ns; q++)
					for (int64_t m = 0; m < s->mg; m++)
						s->dy_src.plane(s->dy_src.ctx, b0 + q, gi * s->mg + m,
						                tmp + m * ld + q * s->p);
			else
				dyg = group_rows(s, j->dy, b0, ns, gi, tmp);
			for (int64_t m = 0; m < s->mg; m++)
				db[gi * s->mg + m] += row_sum(dyg + m * ld, ld);
			/* dW[g] += dY[g] (mg x ns*p) * cols^T (ns*p x k) */
			qgt_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)s->mg, (int)s->k, (int)ld,
			          1.0f, dyg, (int)ld, src, (int)ld, 1.0f, dw + gi * s->mg * s->k,
			          (int)s->k);
			if (!j->dx)
				continue;
			/* dcol = W[g]^T (k x mg) * dY[g] (mg x ns*p), then scattered
			 * back; a 1x1 conv's single sample goes straight to dx. */
			float *dxg = j->dx + b0 * chw + gi * cghw;
			if (s->direct && ns == 1) {
				qgt_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)s->k, (int)s->p,
				          (int)s->mg, 1.0f, j->w + gi * s->mg * s->k, (int)s->k, dyg,
				          (int)s->p, j->dx_acc ? 1.0f : 0.0f, dxg, (int)s->p);
				continue;
			}
			qgt_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)s->k, (int)ld, (int)s->mg,
			          1.0f, j->w + gi * s->mg * s->k, (int)s->k, dyg, (int)ld,
			          clear ? 1.0f : 0.0f, dcol, (int)ld);
			for (int64_t q = 0; q < ns; q++)
				col2im(s, dcol + q * s->p, ld, dxg + q * chw, !j->dx_acc, clear);
		}
	}
}

/* Sum the per-thread partial dW [m*k] and db [nb] (each thread's scratch
 * starts with them) of the first `chunks` threads into the gradients, in
 * thread order. */
static void conv_reduce(qgt_trainer *t, const conv_st *s, int64_t chunks, int64_t nb)
{
	bool dw_acc = false, db_acc = false;
	float *dw = qgt_grad_out(t, s->wv, &dw_acc);
	float *db = s->bv ? qgt_grad_out(t, s->bv, &db_acc) : NULL;
	int64_t nw = s->m * s->k;
	for (int64_t th = 0; th < chunks; th++) {
		const float *pw = t->tbuf[th], *pb = pw + nw;
		for (int64_t i = 0; dw && i < nw; i++)
			dw[i] = th == 0 && !dw_acc ? pw[i] : dw[i] + pw[i];
		for (int64_t i = 0; db && i < nb; i++)
			db[i] = th == 0 && !db_acc ? pb[i] : db[i] + pb[i];
	}
}

static int conv_bwd(qgt_trainer *t, qgt_exec *e)
{
	conv_st *s = e->st;
	const float *dy = qgt_grad_in(t, s->y);
	bool dx_acc = false;
	float *dx = qgt_grad_out(t, s->x, &dx_acc);
	conv_job j = {t, s, qgt_f(t, s->x), qgt_f(t, s->wv), NULL, dy, NULL, dx, dx_acc, false};
	j.dy_src = s->dy_src.plane && s->dy_src.deferred(s->dy_src.ctx);
	int nt = t->nthreads;
	int64_t chunks = s->n < nt ? s->n : nt;
	qgt_pool_run(t->pool, s->n, conv_bwd_task, &j);
	conv_reduce(t, s, chunks, s->m);
	return 0;
}

/* The rest of s from its geometry: the GEMM's inner dim and pixels, the
 * direct and shift modes (with the shift masks and center tap), and the
 * samples a chunk. */
static int conv_st_finish(qgt_trainer *t, const ir_node *n, conv_st *s)
{
	s->k = s->cg * s->kh * s->kw;
	s->p = s->oh * s->ow;
	s->direct = s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->ph == 0 &&
	            s->pw == 0 && s->oh == s->h && s->ow == s->w;
	s->shift = s->sh == 1 && s->sw == 1 && s->ow == s->w;
	if (s->shift) {
		s->mask = qgt_plan_alloc(t, sizeof(int32_t) * (size_t)(s->kh * s->kw * s->p));
		if (!s->mask) {
			diag_error(t->d, ir_node_loc(t->g, n), "out of memory");
			return -1;
		}
		conv_masks(s);
	}
	s->center = -1;
	for (int64_t i = 0; s->shift && s->oh == s->h && i < s->kh; i++)
		for (int64_t j = 0; j < s->kw; j++)
			if (i * s->dh == s->ph && j * s->dw == s->pw)
				s->center = i * s->kw + j;
	int64_t per = (s->k + s->mg) * s->p;
	s->chunk = per > 0 ? CONV_CHUNK_FLOATS / per : 1;
	if (s->chunk > CONV_CHUNK_MAX)
		s->chunk = CONV_CHUNK_MAX;
	if (s->chunk > s->n)
		s->chunk = s->n;
	if (s->chunk < 1)
		s->chunk = 1;
	return 0;
}

/* Strides and dilations of n (1 when absent) into s, 1-D as 2-D. */
static void conv_st_attrs(const ir_node *n, int nsp, conv_st *s)
{
	int64_t st[2], dil[2];
	qgt_attr_ints(n, "strides", nsp, st);
	qgt_attr_ints(n, "dilations", nsp, dil);
	s->sh = nsp == 2 ? st[0] : 1;
	s->sw = st[nsp - 1];
	s->dh = nsp == 2 ? dil[0] : 1;
	s->dw = dil[nsp - 1];
}

/* A conv_st for n (conv, or conv_transpose as the conv it is the adjoint
 * of): its values, batch, channels in (c) and out (m) of that conv, groups,
 * strides and dilations; NULL out of memory. */
static conv_st *conv_st_new(qgt_trainer *t, ir_node *n, int nsp, int64_t c, int64_t m)
{
	conv_st *s = qgt_plan_alloc(t, sizeof *s);
	if (!s)
		return NULL;
	ir_value *b = n->nin > 2 ? n->in[2] : NULL;
	s->x = n->in[0];
	s->wv = n->in[1];
	s->bv = b && ir_shape_numel(&b->shape) > 0 ? b : NULL;
	s->y = n->out[0];
	s->n = s->x->shape.d[0];
	s->c = c;
	s->m = m;
	s->group = ir_attr_int(n, "group", 1);
	s->cg = s->c / s->group;
	s->mg = s->m / s->group;
	conv_st_attrs(n, nsp, s);
	return s;
}

int qgt_plan_conv(qgt_trainer *t, qgt_exec *e, size_t *tbuf)
{
	ir_node *n = e->n;
	ir_value *x = n->in[0], *w = n->in[1], *y = n->out[0];
	int r = x->shape.rank;
	if ((r != 3 && r != 4) || x->dt != IR_DT_F32 || w->shape.rank != r) {
		if (e->run_bwd) {
			diag_error(t->d, ir_node_loc(t->g, n), "training supports 1-D and 2-D convolutions only");
			return -1;
		}
		return 0;
	}
	int nsp = r - 2;
	conv_st *s = conv_st_new(t, n, nsp, x->shape.d[1], w->shape.d[0]);
	if (!s)
		return -1;
	int64_t in[2], k[2], st[2] = {1, 1}, dil[2] = {1, 1}, pb[2], pe[2];
	st[0] = s->sh, st[nsp - 1] = s->sw;
	dil[0] = s->dh, dil[nsp - 1] = s->dw;
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
	s->ph = nsp == 2 ? pb[0] : 0;
	s->pw = pb[nsp - 1];
	s->oh = nsp == 2 ? y->shape.d[2] : 1;
	s->ow = y->shape.d[r - 1];
	if (conv_st_finish(t, n, s))
		return -1;
	size_t need = (size_t)(s->m * s->k + s->m + s->chunk * (s->k + s->mg) * s->p);
	if (s->shift)
		need += (size_t)(s->k * s->chunk * s->p);
	if (need > *tbuf)
		*tbuf = need;
	e->st = s;
	e->fwd = conv_fwd;
	e->bwd = conv_bwd;
	return 0;
}

/* ------------------------------------------------------- conv_transpose */

/* conv_transpose is the adjoint of a conv: the one from its output back to
 * its input with its strides, dilations, begin pads and groups, whose
 * weights [M][cg][KH][KW] are conv_transpose's [C_in][C_out/group][KH][KW]
 * as they lie.  Its conv_st describes that conv (input: the transpose's
 * output y, [n][c][h][w]; output: the transpose's input x, [n][m][oh][ow]),
 * and with cols() its im2col:
 *   forward  y = col2im(W^T x) + b   (that conv's input gradient)
 *   dx       = W cols(dy)            (that conv's forward)
 *   dW       = x cols(dy)^T          (its weight gradient, x in dY's place)
 *   db       = dy summed per channel.
 * Per-thread scratch: dW partial [m*k], db partial [c], then [k][chunk*p]
 * (columns, or the forward's W^T x), then [mg][chunk*p] (x's or dx's rows
 * of a group, samples side by side). */
static float *convt_col(const conv_st *s, float *tb)
{
	return tb + s->m * s->k + s->c;
}

static float *convt_tmp(const conv_st *s, float *tb)
{
	return convt_col(s, tb) + s->k * s->chunk * s->p;
}

static void convt_fwd_task(void *ctx, int tid, int64_t lo, int64_t hi)
{
	conv_job *j = ctx;
	conv_st *s = j->s;
	float *dcol = convt_col(s, j->t->tbuf[tid]), *tmp = convt_tmp(s, j->t->tbuf[tid]);
	int64_t chw = s->c * s->h * s->w, cghw = s->cg * s->h * s->w, hw = s->h * s->w;
	/* col2im stores the center tap's columns, when there is one, and adds
	 * the others */
	if (s->center < 0)
		memset(j->y + lo * chw, 0, sizeof(float) * (size_t)((hi - lo) * chw));
	for (int64_t b0 = lo; b0 < hi; b0 += s->chunk) {
		int64_t ns = hi - b0 < s->chunk ? hi - b0 : s->chunk, ld = ns * s->p;
		for (int64_t gi = 0; gi < s->group; gi++) {
			const float *xg = group_rows(s, j->x, b0, ns, gi, tmp);
			/* W^T x: (k x mg) * (mg x ns*p) */
			qgt_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)s->k, (int)ld, (int)s->mg, 1.0f,
			          j->w + gi * s->mg * s->k, (int)s->k, xg, (int)ld, 0.0f, dcol, (int)ld);
			for (int64_t q = 0; q < ns; q++)
				col2im(s, dcol + q * s->p, ld, j->y + (b0 + q) * chw + gi * cghw, true, false);
		}
	}
	for (int64_t b = lo; j->b && b < hi; b++)
		for (int64_t ch = 0; ch < s->c; ch++) {
			float *yr = j->y + b * chw + ch * hw, bias = j->b[ch];
			for (int64_t q = 0; q < hw; q++)
				yr[q] += bias;
		}
}

static int convt_fwd(qgt_trainer *t, qgt_exec *e)
{
	conv_st *s = e->st;
	conv_job j = {t, s, qgt_f(t, s->x), qgt_f(t, s->wv), s->bv ? qgt_f(t, s->bv) : NULL, NULL,
	              qgt_f(t, s->y), NULL, false, false};
	qgt_pool_run(t->pool, s->n, convt_fwd_task, &j);
	return 0;
}

static void convt_bwd_task(void *ctx, int tid, int64_t lo, int64_t hi)
{
	conv_job *j = ctx;
	conv_st *s = j->s;
	float *dw = j->t->tbuf[tid], *db = dw + s->m * s->k;
	float *col = convt_col(s, dw), *tmp = convt_tmp(s, dw);
	memset(dw, 0, sizeof(float) * (size_t)(s->m * s->k + s->c));
	int64_t chw = s->c * s->h * s->w, hw = s->h * s->w, mp = s->m * s->p;
	for (int64_t b = lo; b < hi; b++)
		for (int64_t ch = 0; ch < s->c; ch++)
			db[ch] += row_sum(j->dy + b * chw + ch * hw, hw);
	for (int64_t b0 = lo; b0 < hi; b0 += s->chunk) {
		int64_t ns = hi - b0 < s->chunk ? hi - b0 : s->chunk, ld = ns * s->p;
		for (int64_t gi = 0; gi < s->group; gi++) {
			const float *cols = chunk_cols(s, j->dy, b0, ns, gi, col);
			if (j->dx) {
				/* dx[g] = W[g] (mg x k) * cols (k x ns*p), one sample's
				 * rows at a time out of tmp */
				qgt_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)s->mg, (int)ld, (int)s->k, 1.0f,
				          j->w + gi * s->mg * s->k, (int)s->k, cols, (int)ld, 0.0f, tmp, (int)ld);
				for (int64_t q = 0; q < ns; q++)
					for (int64_t m = 0; m < s->mg; m++) {
						float *d = j->dx + (b0 + q) * mp + (gi * s->mg + m) * s->p;
						const float *r = tmp + m * ld + q * s->p;
						if (j->dx_acc)
							for (int64_t e = 0; e < s->p; e++)
								d[e] += r[e];
						else
							memcpy(d, r, sizeof(float) * (size_t)s->p);
					}
			}
			/* dW[g] += x[g] (mg x ns*p) * cols^T (ns*p x k) */
			const float *xg = group_rows(s, j->x, b0, ns, gi, tmp);
			qgt_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)s->mg, (int)s->k, (int)ld, 1.0f, xg,
			          (int)ld, cols, (int)ld, 1.0f, dw + gi * s->mg * s->k, (int)s->k);
		}
	}
}

static int convt_bwd(qgt_trainer *t, qgt_exec *e)
{
	conv_st *s = e->st;
	bool dx_acc = false;
	float *dx = qgt_grad_out(t, s->x, &dx_acc);
	conv_job j = {t, s, qgt_f(t, s->x), qgt_f(t, s->wv), NULL, qgt_grad_in(t, s->y), NULL, dx, dx_acc, false};
	int64_t chunks = s->n < t->nthreads ? s->n : t->nthreads;
	qgt_pool_run(t->pool, s->n, convt_bwd_task, &j);
	conv_reduce(t, s, chunks, s->c);
	return 0;
}

int qgt_plan_convt(qgt_trainer *t, qgt_exec *e, size_t *tbuf)
{
	ir_node *n = e->n;
	ir_value *x = n->in[0], *w = n->in[1], *y = n->out[0];
	int r = x->shape.rank;
	if ((r != 3 && r != 4) || x->dt != IR_DT_F32 || w->shape.rank != r || !ir_shape_known(&y->shape)) {
		if (e->run_bwd) {
			diag_error(t->d, ir_node_loc(t->g, n), "training supports 1-D and 2-D conv_transpose only");
			return -1;
		}
		return 0;
	}
	int nsp = r - 2;
	int64_t pb[2] = {0, 0};
	if (k_convt_pads(t->g, n, &x->shape, &w->shape, pb, t->d))
		return -1;
	conv_st *s = conv_st_new(t, n, nsp, y->shape.d[1], x->shape.d[1]);
	if (!s)
		return -1;
	s->h = nsp == 2 ? y->shape.d[2] : 1;
	s->w = y->shape.d[r - 1];
	s->oh = nsp == 2 ? x->shape.d[2] : 1;
	s->ow = x->shape.d[r - 1];
	s->kh = nsp == 2 ? w->shape.d[2] : 1;
	s->kw = w->shape.d[r - 1];
	s->ph = nsp == 2 ? pb[0] : 0;
	s->pw = pb[nsp - 1];
	if (conv_st_finish(t, n, s))
		return -1;
	size_t need = (size_t)(s->m * s->k + s->c + s->chunk * (s->k + s->mg) * s->p);
	if (need > *tbuf)
		*tbuf = need;
	e->st = s;
	e->fwd = convt_fwd;
	e->bwd = convt_bwd;
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
	qgt_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans,
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
			qgt_sgemm(CblasRowMajor, CblasNoTrans, s->tb ? CblasNoTrans : CblasTrans, M, K, N,
			          s->alpha, dy, N, b, s->tb ? K : N, acc ? 1.0f : 0.0f, da, K);
		else /* dA[K,M] = alpha B' dY^T */
			qgt_sgemm(CblasRowMajor, s->tb ? CblasTrans : CblasNoTrans, CblasTrans, K, M, N,
			          s->alpha, b, s->tb ? K : N, dy, N, acc ? 1.0f : 0.0f, da, M);
	}
	float *db = qgt_grad_out(t, n->in[1], &acc);
	if (db) {
		if (!s->tb) /* dB[K,N] = alpha A'^T dY */
			qgt_sgemm(CblasRowMajor, s->ta ? CblasNoTrans : CblasTrans, CblasNoTrans, K, N, M,
			          s->alpha, a, s->ta ? M : K, dy, N, acc ? 1.0f : 0.0f, db, N);
		else /* dB[N,K] = alpha dY^T A' */
			qgt_sgemm(CblasRowMajor, CblasTrans, s->ta ? CblasTrans : CblasNoTrans, N, K, M,
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
		qgt_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)s->m, (int)s->n, (int)s->k,
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
			qgt_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, N, 1.0f, dyq, N,
			          b + ib * s->k * s->n, N, 1.0f, da + ia * s->m * s->k, K);
		if (db) /* dB = A^T dY */
			qgt_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, M, 1.0f,
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
	s->nbatch = 1;
	for (int i = 0; i < s->nb; i++) {
		s->yd[i] = ys->d[i];
		s->nbatch *= ys->d[i];
	}
	ir_bcast_strides(s->nb, ra, as->d, 1, s->sa);
	ir_bcast_strides(s->nb, rb, bs->d, 1, s->sb);
	e->st = s;
	e->fwd = matmul_fwd;
	e->bwd = matmul_bwd;
	return 0;
}
