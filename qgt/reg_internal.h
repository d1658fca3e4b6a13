/* reg_internal.h: what the regularizer files (reg_qgt.c, reg_sq.c,
 * reg_codebook.c) share: the per-kernel state and the hook context. */
#ifndef QGTC_QGT_REG_INTERNAL_H
#define QGTC_QGT_REG_INTERNAL_H

#include "qgt.h"

struct qgt_reg_state {
	ir_value *v;              /* the kernel (trainer graph) */
	ir_node *node;            /* its layer */
	pass_qspec spec;          /* grid, as the quantize pass will build it */
	double lambda;            /* before the schedule */
	int64_t n;
	ir_quant q;               /* current grid (malloc'd); q.codes NULL: none yet */
	float *dq;                /* DQ(Q(w)) on the current grid */
	int64_t refreshed;        /* step of the last grid refresh */
	bool frozen;              /* projected and held (last phase) */
	double lambda_now;        /* of the last step, for the report */
	/* SQ */
	ir_qscheme sq_choice;     /* IR_QS_BINARY or IR_QS_TERNARY; NONE before the first choice */
	int sq_switches;
	double sq_eb, sq_et;      /* errors of the last choice */
	/* codebook */
	double *lsum;             /* per level: sum of (w - c) over its members this step */
	int64_t *lcnt;
	/* STE */
	float *ste_w;             /* the float kernel while the forward runs on DQ(Q(w)) */
	bool ste_swapped;         /* p->w holds DQ(Q(w)) now, ste_w the float */
	float *lsq_m;             /* learned scales: momentum per channel */
};

typedef struct reg_ctx {
	qgt_reg hook;             /* first: qgt_reg * is a reg_ctx * */
	qgt_reg_options o;
	ir_graph *g;
	diag_sink *d;
	qgt_reg_state **by_id;    /* per value id of g; NULL: not a regularized kernel */
	int nv;
	qgt_reg_state *st;        /* the kernels, graph order */
	int nst;
} reg_ctx;

/* Recompute kernel s's grid for weights w into s->q / s->dq; returns
 * ||dq - w||^2 or NaN on error.  Per kind (reg_qgt.c, reg_sq.c,
 * reg_codebook.c). */
double qgt_grid_uniform(reg_ctx *c, qgt_reg_state *s, const float *w, bool refresh);
double qgt_grid_sq(reg_ctx *c, qgt_reg_state *s, const float *w, bool refresh);
double qgt_grid_codebook(reg_ctx *c, qgt_reg_state *s, const float *w, bool refresh);
/* Codebook: move the levels toward their clusters (after the update). */
void qgt_codebook_step(reg_ctx *c, qgt_reg_state *s, const float *w, float lr);

/* Quantize w with spec into s->q (freeing the old one) and s->dq. */
double qgt_grid_build(qgt_reg_state *s, const float *w, const pass_qspec *spec, diag_sink *d);

/* The hook plumbing (reg_qgt.c), shared with the STE hook (reg_ste.c):
 * the grid of s for w per kind (NaN on error); the first step of the
 * frozen phase (INT64_MAX when there is none); the state of parameter p,
 * or NULL when p is no regularized kernel; landing s on its grid (w =
 * DQ) and holding it there, 0 or -1. */
double qgt_reg_grid(reg_ctx *c, qgt_reg_state *s, const float *w, bool refresh);
int64_t qgt_reg_freeze_start(const reg_ctx *c, const qgt_progress *pr);
qgt_reg_state *qgt_reg_state_of(reg_ctx *c, const qgt_param *p);
int qgt_reg_freeze(reg_ctx *c, qgt_reg_state *s, float *w);

/* STE (reg_ste.c): the hooks of qgt_reg_options.method QGT_METHOD_STE. */
int qgt_ste_begin(void *ctx, qgt_param *p, const qgt_progress *pr);
double qgt_ste_apply(void *ctx, qgt_param *p, const qgt_progress *pr);
/* Learned scales apply to grid q: learn_scale asked, q built, affine or
 * symmetric (their scales are free; pow2, binary, ternary keep theirs). */
static inline bool qgt_lsq_on(const reg_ctx *c, const ir_quant *q)
{
	return c->o.learn_scale && q->codes && q->scale &&
	       (q->scheme == IR_QS_AFFINE || q->scheme == IR_QS_SYMMETRIC);
}
/* After a forward on DQ(Q(w)): the float kernel back into p->w, and with
 * learned scales one step on s's grid from the gradient p->g taken there. */
void qgt_ste_restore(reg_ctx *c, qgt_reg_state *s, qgt_param *p, const qgt_progress *pr);
/* Learned scales (learn_scale): one step on s's grid from the gradient g
 * taken at DQ(Q(w)). */
void qgt_lsq_step(reg_ctx *c, qgt_reg_state *s, const float *w, const float *g,
                  const qgt_progress *pr);

#endif
