/* k_einsum.c: einsum, ONNX's Einsum on f32 operands (numpy's einsum:
 * each output element the sum, over the labels the output drops, of the
 * product of the operands' elements at the labels' indices; ellipsis axes
 * broadcast).  The lower-einsum pass rewrites it as transposes, reshapes,
 * reductions and matmuls; this is the reference it is checked against,
 * and what runs where it does not (a label repeated within an operand: a
 * diagonal or a trace). */
#include <stdio.h>
#include <string.h>

#include "kernel.h"

static int letter_id(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return 26 + ch - 'a';
	return -1;
}

/* One term: the letters' ids (an ellipsis as -2 - k for its axis k of
 * nell), into ax; the axis count. */
static int term(const char *t, size_t len, int rank, int *ax, int *nell, char *err, size_t errlen)
{
	int nlet = 0, dots = -1;
	for (size_t i = 0; i < len; i++) {
		if (t[i] == '.') {
			if (dots >= 0 || i + 2 >= len || t[i + 1] != '.' || t[i + 2] != '.') {
				snprintf(err, errlen, "a term has a stray '.' or more than one ellipsis");
				return -1;
			}
			dots = nlet;
			i += 2;
			continue;
		}
		if (letter_id(t[i]) < 0) {
			snprintf(err, errlen, "'%c' is not a label (a-z, A-Z)", t[i]);
			return -1;
		}
		nlet++;
	}
	int ne = dots >= 0 ? rank - nlet : 0;
	if (rank >= 0 && (ne < 0 || (dots < 0 && nlet != rank))) {
		snprintf(err, errlen, "a term of %d labels for an operand of rank %d", nlet, rank);
		return -1;
	}
	int n = 0;
	for (size_t i = 0; i < len; i++) {
		if (t[i] == '.') {
			for (int k = 0; k < ne; k++)
				ax[n++] = -2 - k;
			i += 2;
			continue;
		}
		ax[n++] = letter_id(t[i]);
	}
	*nell = ne;
	return n;
}

int ir_einsum_parse(const char *eq, int nops, const int *ranks, ir_einsum *e, char *err, size_t errlen)
{
	memset(e, 0, sizeof *e);
	char buf[256];
	size_t n = 0;
	for (const char *p = eq; *p; p++)
		if (*p != ' ') {
			if (n + 1 >= sizeof buf) {
				snprintf(err, errlen, "the equation is too long");
				return -1;
			}
			buf[n++] = *p;
		}
	buf[n] = 0;
	char *arrow = strstr(buf, "->");
	size_t lhs = arrow ? (size_t)(arrow - buf) : n;
	if (nops < 1 || nops > IR_EINSUM_MAX_OPS) {
		snprintf(err, errlen, "%d operands; at most %d are supported", nops, IR_EINSUM_MAX_OPS);
		return -1;
	}
	e->nops = nops;
	int raw[IR_EINSUM_MAX_OPS][IR_MAX_RANK], nell[IR_EINSUM_MAX_OPS], maxell = 0, cnt[52] = {0};
	size_t at = 0;
	for (int k = 0; k < nops; k++) {
		size_t end = at;
		while (end < lhs && buf[end] != ',')
			end++;
		if ((k + 1 < nops) != (end < lhs)) {
			snprintf(err, errlen, "the equation has %s terms than the %d operands",
			         end < lhs ? "more" : "fewer", nops);
			return -1;
		}
		if (ranks[k] > IR_MAX_RANK) {
			snprintf(err, errlen, "operand %d has rank %d", k, ranks[k]);
			return -1;
		}
		int ax[IR_MAX_RANK + 64];
		if (end - at > IR_MAX_RANK + 3 + 52) {
			snprintf(err, errlen, "term %d is too long", k);
			return -1;
		}
		int r = term(buf + at, end - at, ranks[k], ax, &nell[k], err, errlen);
		if (r < 0)
			return -1;
		e->rank[k] = r;
		memcpy(raw[k], ax, sizeof(int) * (size_t)r);
		if (nell[k] > maxell)
			maxell = nell[k];
		for (int i = 0; i < r; i++)
			if (ax[i] >= 0)
				cnt[ax[i]]++;
		at = end + 1;
	}
	/* ids: ellipsis axes first (0..maxell), then letters in ASCII order */
	int id[52];
	for (int l = 0; l < 52; l++)
		id[l] = -1;
	e->nlab = maxell;
	for (int l = 0; l < maxell; l++)
		e->ell[l] = true;
	for (int l = 0; l < 52; l++)
		if (cnt[l])
			id[l] = e->nlab++;
	for (int k = 0; k < nops; k++)
		for (int i = 0; i < e->rank[k]; i++) {
			int a = raw[k][i];
			/* ellipsis axis j of nell[k] is axis maxell - nell[k] + j of the longest */
			e->lab[k][i] = a >= 0 ? id[a] : maxell - nell[k] + (-2 - a);
		}
	if (arrow) {
		const char *o = arrow + 2;
		int ax[IR_MAX_RANK + 64], ne;
		if (strlen(o) > IR_MAX_RANK + 3 + 52) {
			snprintf(err, errlen, "the output term is too long");
			return -1;
		}
		if (term(o, strlen(o), -1, ax, &ne, err, errlen) < 0)
			return -1;
		bool seen[IR_EINSUM_MAX_LABELS] = {false};
		int orank = 0;
		for (size_t i = 0; o[i]; i++) {
			if (o[i] == '.') {
				if (maxell > IR_MAX_RANK - orank) {
					snprintf(err, errlen, "the output has rank above %d", IR_MAX_RANK);
					return -1;
				}
				for (int l = 0; l < maxell; l++)
					e->olab[orank++] = l;
				i += 2;
				continue;
			}
			int l = letter_id(o[i]);
			if (!cnt[l]) {
				snprintf(err, errlen, "output label '%c' is in no operand", o[i]);
				return -1;
			}
			if (seen[id[l]]) {
				snprintf(err, errlen, "output label '%c' appears twice", o[i]);
				return -1;
			}
			seen[id[l]] = true;
			if (orank == IR_MAX_RANK) {
				snprintf(err, errlen, "the output has rank above %d", IR_MAX_RANK);
				return -1;
			}
			e->olab[orank++] = id[l];
		}
		e->orank = orank;
		if (maxell > 0 && !strstr(o, "...")) {
			snprintf(err, errlen, "the output drops the operands' ellipsis axes (no '...')");
			return -1;
		}
	} else {
		for (int l = 0; l < maxell; l++)
			e->olab[e->orank++] = l;
		for (int l = 0; l < 52; l++)
			if (cnt[l] == 1) {
				if (e->orank == IR_MAX_RANK) {
					snprintf(err, errlen, "the output has rank above %d", IR_MAX_RANK);
					return -1;
				}
				e->olab[e->orank++] = id[l];
			}
	}
	return 0;
}

/* The equation of n against its operands' ranks; -1 reported. */
static int parse_node(const ir_graph *g, const ir_node *n, const ir_shape *const *s, ir_einsum *e, diag_sink *d)
{
	int ranks[IR_EINSUM_MAX_OPS];
	for (int k = 0; k < n->nin && k < IR_EINSUM_MAX_OPS; k++)
		ranks[k] = s[k]->rank;
	char err[160];
	if (ir_einsum_parse(ir_attr_str(n, "equation", ""), n->nin, ranks, e, err, sizeof err)) {
		k_error(g, n, d, "equation '%s': %s", ir_attr_str(n, "equation", ""), err);
		return -1;
	}
	return 0;
}

/* Each label's extent (ellipsis axes broadcast, letters must agree). */
static int label_dims(const ir_graph *g, const ir_node *n, const ir_einsum *e, const ir_shape *const *s,
                      int64_t *dim, diag_sink *d)
{
	for (int l = 0; l < e->nlab; l++)
		dim[l] = -2;
	for (int k = 0; k < e->nops; k++)
		for (int i = 0; i < e->rank[k]; i++) {
			int l = e->lab[k][i];
			int64_t v = s[k]->d[i];
			if (dim[l] == -2 || (e->ell[l] && dim[l] == 1))
				dim[l] = v;
			else if (dim[l] != v && !(e->ell[l] && v == 1)) {
				k_error(g, n, d, "equation '%s': operand %d's axis %d is %lld where another operand has %lld",
				        ir_attr_str(n, "equation", ""), k, i, (long long)v, (long long)dim[l]);
				return -1;
			}
		}
	for (int l = 0; l < e->nlab; l++)
		if (dim[l] == -2)
			dim[l] = 1; /* an ellipsis axis of no operand this long */
	return 0;
}

int ir_infer_einsum(ir_graph *g, ir_node *n, diag_sink *d)
{
	const ir_shape *s[IR_EINSUM_MAX_OPS];
	for (int k = 0; k < n->nin; k++) {
		if (!k_need_in(g, n, k, d))
			return -1;
		const ir_value *v = n->in[k];
		if (v->dt != IR_DT_UNDEF && v->dt != IR_DT_F32) {
			k_error(g, n, d, "input %d '%s' has dtype %s; only f32 is supported", k, v->name,
			        ir_dtype_name(v->dt));
			return -1;
		}
		if (!k_in_ranked(n, k))
			return k_defer(n);
		if (k < IR_EINSUM_MAX_OPS)
			s[k] = &v->shape;
	}
	ir_einsum e;
	int64_t dim[IR_EINSUM_MAX_LABELS];
	if (parse_node(g, n, s, &e, d) || label_dims(g, n, &e, s, dim, d))
		return -1;
	int64_t od[IR_MAX_RANK];
	for (int i = 0; i < e.orank; i++)
		od[i] = dim[e.olab[i]];
	ir_shape os = ir_shape_make(e.orank, od);
	if (k_too_big(&os)) {
		char b[96];
		k_error(g, n, d, "output shape %s is too large", ir_shape_str(&os, b, sizeof b));
		return -1;
	}
	k_set_out(n, 0, IR_DT_F32, &os);
	return 0;
}

/* Every combination of the labels' indices, the output's labels first:
 * y[out] += prod_k x_k[at k's labels], summed in double. */
int ir_eval_einsum(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out, diag_sink *d)
{
	const ir_shape *s[IR_EINSUM_MAX_OPS];
	for (int k = 0; k < n->nin && k < IR_EINSUM_MAX_OPS; k++)
		s[k] = &in[k]->shape;
	ir_einsum e;
	int64_t dim[IR_EINSUM_MAX_LABELS];
	if (parse_node(NULL, n, s, &e, d) || label_dims(NULL, n, &e, s, dim, d))
		return -1;
	/* loop order: output labels, then the summed ones */
	int order[IR_EINSUM_MAX_LABELS], no = 0;
	bool isout[IR_EINSUM_MAX_LABELS] = {false};
	for (int i = 0; i < e.orank; i++) {
		order[no++] = e.olab[i];
		isout[e.olab[i]] = true;
	}
	int nout = no;
	for (int l = 0; l < e.nlab; l++)
		if (!isout[l])
			order[no++] = l;
	/* per operand, the stride of each label (0 where broadcast or absent) */
	int64_t st[IR_EINSUM_MAX_OPS][IR_EINSUM_MAX_LABELS];
	memset(st, 0, sizeof st);
	for (int k = 0; k < e.nops; k++) {
		int64_t ks[IR_MAX_RANK];
		k_strides(s[k], ks);
		for (int i = 0; i < e.rank[k]; i++)
			if (s[k]->d[i] != 1)
				st[k][e.lab[k][i]] += ks[i];
	}
	int64_t nsum = 1, ny = ir_shape_numel(&out[0]->shape);
	for (int i = nout; i < no; i++)
		nsum *= dim[order[i]];
	float *y = out[0]->data;
	int64_t idx[IR_EINSUM_MAX_LABELS] = {0};
	for (int64_t o = 0; o < ny; o++) {
		/* the output labels' indices from o (row-major over olab) */
		int64_t r = o;
		for (int i = nout - 1; i >= 0; i--) {
			idx[order[i]] = dim[order[i]] ? r % dim[order[i]] : 0;
			r = dim[order[i]] ? r / dim[order[i]] : 0;
		}
		double acc = 0;
		for (int64_t j = 0; j < nsum; j++) {
			int64_t q = j;
			for (int i = no - 1; i >= nout; i--) {
				idx[order[i]] = q % dim[order[i]];
				q /= dim[order[i]];
			}
			double p = 1;
			for (int k = 0; k < e.nops; k++) {
				int64_t off = 0;
				for (int i = 0; i < e.nlab; i++)
					off += idx[i] * st[k][i];
				p *= ((const float *)in[k]->data)[off];
			}
			acc += p;
		}
		y[o] = (float)acc;
	}
	return 0;
}
