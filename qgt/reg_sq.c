/* reg_sq.c: Smart Quantization: an adaptive binary/ternary regularizer.
 * At each grid refresh every kernel measures its distance to its binary
 * grid (alpha sign(w)) and to its ternary grid ({-a, 0, +a}) and is pulled
 * toward the one it is closer to, ternary counting only when its error is
 * below sq_ternary_cost times binary's (it takes two bits, not one).  The
 * pull makes the choice self-reinforcing, so each layer settles on binary
 * or ternary within one run; switches are counted for the report. */
#include <math.h>
#include <string.h>

#include "reg_internal.h"

double qgt_grid_sq(reg_ctx *c, qgt_reg_state *s, const float *w, bool refresh)
{
	if (!refresh && s->q.codes) {
		double err;
		if (pass_quant_requantize(w, &s->v->shape, &s->q, s->dq, &err))
			return NAN;
		return err;
	}
	pass_qspec sp = s->spec;
	sp.scheme = IR_QS_BINARY;
	double eb = qgt_grid_build(s, w, &sp, c->d);
	sp.scheme = IR_QS_TERNARY;
	ir_quant qt;
	double et;
	if (!isfinite(eb) || pass_quantize(w, &s->v->shape, &sp, NULL, &qt, NULL, &et, c->d))
		return NAN;
	pass_quant_free(&qt);
	s->sq_eb = eb;
	s->sq_et = et;
	ir_qscheme pick = et < c->o.sq_ternary_cost * eb ? IR_QS_TERNARY : IR_QS_BINARY;
	if (s->sq_choice != IR_QS_NONE && pick != s->sq_choice)
		s->sq_switches++;
	s->sq_choice = pick;
	if (pick == IR_QS_TERNARY)
		return qgt_grid_build(s, w, &sp, c->d);
	return eb;
}
