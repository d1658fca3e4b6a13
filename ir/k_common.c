/* k_common.c: shape helpers shared by the op kernels. */
#include <string.h>

#include "kernel.h"

int k_broadcast_shape(const ir_shape *a, const ir_shape *b, ir_shape *out)
{
	int r = a->rank > b->rank ? a->rank : b->rank;
	ir_shape o;
	memset(&o, 0, sizeof o);
	o.rank = r;
	for (int i = 0; i < r; i++) {
		int ia = i - (r - a->rank), ib = i - (r - b->rank);
		int64_t da = ia >= 0 ? a->d[ia] : 1, db = ib >= 0 ? b->d[ib] : 1;
		if (da == db || db == 1)
			o.d[i] = da;
		else if (da == 1)
			o.d[i] = db;
		else
			return -1;
	}
	*out = o;
	return 0;
}

int k_defer(ir_node *n)
{
	for (int k = 0; k < n->nout; k++)
		if (n->out[k])
			n->out[k]->shape.rank = -1;
	return 0;
}

bool k_need_in(const ir_graph *g, const ir_node *n, int k, diag_sink *d)
{
	if (k < n->nin && n->in[k])
		return true;
	k_error(g, n, d, "required input %d is missing", k);
	return false;
}

const ir_value *k_opt_val(const ir_node *n, int k)
{
	if (k >= n->nin || !n->in[k] || ir_shape_numel(&n->in[k]->shape) == 0)
		return NULL;
	return n->in[k];
}

bool k_too_big(const ir_shape *s)
{
	ir_shape t = *s;
	for (int i = 0; i < t.rank; i++)
		if (t.d[i] == IR_DIM_SYM)
			t.d[i] = 1;
	return ir_shape_numel(&t) < 0;
}

void k_strides(const ir_shape *s, int64_t *st)
{
	int64_t acc = 1;
	for (int i = s->rank - 1; i >= 0; i--) {
		st[i] = acc;
		acc *= s->d[i];
	}
}

int k_resolve_pads(const ir_graph *g, const ir_node *n, int nsp, const int64_t *in,
                   const int64_t *k, const int64_t *s, const int64_t *dil, int64_t *pb, int64_t *pe,
                   diag_sink *d)
{
	const char *ap = ir_attr_str(n, "auto_pad", "NOTSET");
	if (strcmp(ap, "NOTSET") == 0) {
		int np = 0;
		const int64_t *p = ir_attr_ints(n, "pads", &np);
		if (p && np != 2 * nsp) {
			k_error(g, n, d, "pads has %d values, expected %d", np, 2 * nsp);
			return -1;
		}
		for (int i = 0; i < nsp; i++) {
			pb[i] = p ? p[i] : 0;
			pe[i] = p ? p[nsp + i] : 0;
			if (pb[i] < 0 || pe[i] < 0) {
				k_error(g, n, d, "negative pads are not supported");
				return -1;
			}
		}
		return 0;
	}
	if (strcmp(ap, "VALID") == 0) {
		for (int i = 0; i < nsp; i++)
			pb[i] = pe[i] = 0;
		return 0;
	}
	bool upper = strcmp(ap, "SAME_UPPER") == 0;
	if (!upper && strcmp(ap, "SAME_LOWER") != 0) {
		k_error(g, n, d, "unknown auto_pad '%s'", ap);
		return -1;
	}
	for (int i = 0; i < nsp; i++) {
		int64_t out = (in[i] + s[i] - 1) / s[i];
		int64_t ek = (k[i] - 1) * dil[i] + 1;
		int64_t tot = (out - 1) * s[i] + ek - in[i];
		if (tot < 0)
			tot = 0;
		pb[i] = upper ? tot / 2 : tot - tot / 2;
		pe[i] = tot - pb[i];
	}
	return 0;
}
