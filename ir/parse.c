/* parse.c: reads the .qir text form back into a graph (the grammar is in
 * print.c).  A hand-written lexer and recursive descent; every error points
 * at a line and column, and parsing resumes at the next line so one run
 * reports every bad line.  Comments run from ';' to the end of a line; a
 * line whose first token is '#' is a comment too (test directives such as
 * '# RUN:' and '# CHECK:'). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

typedef enum {
	T_EOF, T_NL, T_IDENT, T_VREF, T_STR, T_NUM, T_PUNCT, T_BAD
} tok_kind;

typedef struct tok {
	tok_kind k;
	const char *p;          /* start in the text */
	size_t n;               /* length in the text */
	int line, col;
	char *s;                /* decoded name/string (malloc'd), for VREF/STR/IDENT */
} tok;

typedef struct parser {
	const char *src, *end, *cur;
	const char *file;
	int line;
	const char *line_start;
	tok t;                  /* current token */
	diag_sink *d;
	ir_graph *g;
	bool line_failed;       /* an error on this line was reported already */
	bool oom;               /* out of memory: reported, and the lexer reads
	                         * end of file from here on */
	tok *node_at;           /* where each node (by id) was written */
	int nnode_at, capnode_at;
} parser;

enum { MAX_ITEMS = 1 << 20 };

static void perr(parser *P, const tok *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void perr(parser *P, const tok *at, const char *fmt, ...)
{
	if (P->line_failed || P->oom)
		return;
	P->line_failed = true;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* Source line with a caret under the column, like gcc and chibicc. */
	const char *ls = at->p - (at->col - 1);
	const char *le = ls;
	while (le < P->end && *le != '\n')
		le++;
	int shown = (int)(le - ls) > 200 ? 200 : (int)(le - ls);
	char line[256];
	int k = 0;
	for (int i = 0; i < shown; i++)
		line[k++] = ls[i] == '\t' || (unsigned char)ls[i] >= 0x20 ? ls[i] : ' ';
	line[k] = 0;
	int col = at->col - 1 < shown ? at->col - 1 : shown;
	char loc[300];
	snprintf(loc, sizeof loc, "%s:%d:%d", P->file, at->line, at->col);
	diag_error(P->d, loc, "%s\n  %s\n  %*s^", msg, line, col, "");
}

/* An allocation failed: say so once and stop; what follows would only
 * report the consequences. */
static void nomem(parser *P)
{
	if (!P->oom)
		diag_error(P->d, P->file, "out of memory");
	P->oom = true;
}

/* ---------------------------------------------------------------- lexer */

static bool bare_char(int c)
{
	return isalnum(c) || c == '_' || c == '.';
}

/* Decode a quoted string starting at P->cur (on the opening quote). */
static char *lex_quoted(parser *P, tok *t)
{
	const char *p = P->cur + 1;
	size_t cap = 16, n = 0;
	char *s = malloc(cap);
	if (!s) {
		nomem(P);
		return NULL;
	}
	while (p < P->end && *p != '"' && *p != '\n') {
		int c = (unsigned char)*p++;
		if (c == '\\' && p < P->end) {
			c = (unsigned char)*p++;
			if (c == 'x' && p + 1 < P->end && isxdigit((unsigned char)p[0]) &&
			    isxdigit((unsigned char)p[1])) {
				char h[3] = {p[0], p[1], 0};
				c = (int)strtol(h, NULL, 16);
				p += 2;
			}
		}
		if (n + 2 > cap) {
			char *ns = realloc(s, cap *= 2);
			if (!ns) {
				free(s);
				nomem(P);
				return NULL;
			}
			s = ns;
		}
		s[n++] = (char)c;
	}
	s[n] = 0;
	if (p >= P->end || *p != '"') {
		t->k = T_BAD;
		P->cur = p;
		free(s);
		return NULL;
	}
	P->cur = p + 1;
	if (memchr(s, 0, n)) { /* a \x00 escape: names are C strings */
		t->k = T_BAD;
		free(s);
		return NULL;
	}
	return s;
}

static void next(parser *P)
{
	free(P->t.s);
	tok *t = &P->t;
	memset(t, 0, sizeof *t);
	while (P->cur < P->end && (*P->cur == ' ' || *P->cur == '\t' || *P->cur == '\r'))
		P->cur++;
	t->p = P->cur;
	t->line = P->line;
	t->col = (int)(P->cur - P->line_start) + 1;
	if (P->cur >= P->end || P->oom) {
		t->k = T_EOF;
		return;
	}
	int c = (unsigned char)*P->cur;
	if (c == '\n') {
		P->cur++;
		P->line++;
		P->line_start = P->cur;
		t->k = T_NL;
		t->n = 1;
		return;
	}
	if (c == '%') {
		P->cur++;
		if (P->cur < P->end && *P->cur == '"') {
			t->s = lex_quoted(P, t);
			if (!t->s) {
				t->k = P->oom ? T_EOF : T_BAD;
				t->n = (size_t)(P->cur - t->p);
				return;
			}
		} else {
			const char *s = P->cur;
			while (P->cur < P->end && bare_char((unsigned char)*P->cur))
				P->cur++;
			if (P->cur == s) {
				t->k = T_BAD;
				t->n = 1;
				return;
			}
			if (!(t->s = strndup(s, (size_t)(P->cur - s)))) {
				nomem(P);
				t->k = T_EOF;
				return;
			}
		}
		t->k = T_VREF;
		t->n = (size_t)(P->cur - t->p);
		return;
	}
	if (c == '"') {
		t->s = lex_quoted(P, t);
		t->k = t->s ? T_STR : P->oom ? T_EOF : T_BAD;
		t->n = (size_t)(P->cur - t->p);
		return;
	}
	if (isdigit(c) || ((c == '-' || c == '+') && P->cur + 1 < P->end &&
	                   (isdigit((unsigned char)P->cur[1]) || P->cur[1] == 'i' || P->cur[1] == 'n'))) {
		const char *s = P->cur++;
		while (P->cur < P->end && (isalnum((unsigned char)*P->cur) || *P->cur == '.' ||
		                           ((*P->cur == '-' || *P->cur == '+') &&
		                            (P->cur[-1] == 'e' || P->cur[-1] == 'E'))))
			P->cur++;
		t->k = T_NUM;
		t->n = (size_t)(P->cur - s);
		return;
	}
	if (isalpha(c) || c == '_') {
		const char *s = P->cur;
		while (P->cur < P->end && bare_char((unsigned char)*P->cur))
			P->cur++;
		t->k = T_IDENT;
		t->n = (size_t)(P->cur - s);
		if (!(t->s = strndup(s, t->n))) {
			nomem(P);
			t->k = T_EOF;
		}
		return;
	}
	if (strchr("{}()[],:=?*#;!", c) && c) {
		P->cur++;
		t->k = T_PUNCT;
		t->n = 1;
		return;
	}
	P->cur++;
	t->k = T_BAD;
	t->n = 1;
}

static bool is_punct(const parser *P, char c)
{
	return P->t.k == T_PUNCT && *P->t.p == c;
}

static bool is_ident(const parser *P, const char *w)
{
	return P->t.k == T_IDENT && strcmp(P->t.s, w) == 0;
}

static const char *tok_desc(const tok *t, char *buf, size_t n)
{
	switch (t->k) {
	case T_EOF: return "end of file";
	case T_NL: return "end of line";
	case T_BAD:
		if (t->n && (unsigned char)t->p[0] < 0x20)
			snprintf(buf, n, "character 0x%02x", (unsigned char)t->p[0]);
		else
			snprintf(buf, n, "'%.*s'", (int)(t->n > 40 ? 40 : t->n), t->p);
		return buf;
	default: snprintf(buf, n, "'%.*s'", (int)(t->n > 40 ? 40 : t->n), t->p); return buf;
	}
}

static bool expect(parser *P, char c)
{
	if (is_punct(P, c)) {
		next(P);
		return true;
	}
	char b[64];
	perr(P, &P->t, "expected '%c', found %s", c, tok_desc(&P->t, b, sizeof b));
	return false;
}

/* Skip a comment if the current token starts one: ';' to end of line. */
static void skip_comment(parser *P)
{
	if (!is_punct(P, ';') && !is_punct(P, '#'))
		return;
	while (P->cur < P->end && *P->cur != '\n')
		P->cur++;
	next(P);
}

/* Skip the rest of the line after an error. */
static void recover(parser *P)
{
	while (P->t.k != T_NL && P->t.k != T_EOF) {
		if (is_punct(P, ';')) {
			skip_comment(P);
			continue;
		}
		next(P);
	}
}

/* ---------------------------------------------------------------- items */

static bool parse_int(parser *P, int64_t *out)
{
	if (P->t.k != T_NUM) {
		char b[64];
		perr(P, &P->t, "expected an integer, found %s", tok_desc(&P->t, b, sizeof b));
		return false;
	}
	char buf[64];
	if (P->t.n >= sizeof buf) {
		perr(P, &P->t, "number too long");
		return false;
	}
	memcpy(buf, P->t.p, P->t.n);
	buf[P->t.n] = 0;
	char *e;
	errno = 0;
	long long v = strtoll(buf, &e, 10);
	if (*e || errno) {
		perr(P, &P->t, "'%s' is not an integer in range", buf);
		return false;
	}
	*out = v;
	next(P);
	return true;
}

static bool parse_float(parser *P, double *out)
{
	char buf[64];
	if (P->t.k == T_IDENT && (strcmp(P->t.s, "inf") == 0 || strcmp(P->t.s, "nan") == 0)) {
		*out = P->t.s[0] == 'i' ? INFINITY : NAN;
		next(P);
		return true;
	}
	if (P->t.k != T_NUM || P->t.n >= sizeof buf) {
		perr(P, &P->t, "expected a number, found %s", tok_desc(&P->t, buf, sizeof buf));
		return false;
	}
	memcpy(buf, P->t.p, P->t.n);
	buf[P->t.n] = 0;
	char *e;
	errno = 0;
	double v = strtod(buf, &e);
	if (*e || (errno && isinf(v))) {
		perr(P, &P->t, "'%s' is not a number in range", buf);
		return false;
	}
	*out = v;
	next(P);
	return true;
}

/* DTYPE '[' ('*' | dim (',' dim)*)? ']' */
static bool parse_type(parser *P, ir_dtype *dt, ir_shape *sh)
{
	char b[64];
	if (P->t.k != T_IDENT || (*dt = ir_dtype_from_name(P->t.s)) == IR_DT_UNDEF) {
		if (P->t.k == T_IDENT && strcmp(P->t.s, "undef") == 0)
			*dt = IR_DT_UNDEF;
		else {
			perr(P, &P->t, "expected an element type (f32, i8, u8, i16, u16, i32, i64, bool), found %s",
			     tok_desc(&P->t, b, sizeof b));
			return false;
		}
	}
	next(P);
	if (!expect(P, '['))
		return false;
	memset(sh, 0, sizeof *sh);
	if (is_punct(P, '*')) {
		next(P);
		sh->rank = -1;
		return expect(P, ']');
	}
	while (!is_punct(P, ']')) {
		if (sh->rank == IR_MAX_RANK) {
			perr(P, &P->t, "more than %d dimensions", IR_MAX_RANK);
			return false;
		}
		if (is_punct(P, '?')) {
			if (sh->rank != 0) {
				perr(P, &P->t, "only the first (batch) dimension may be symbolic");
				return false;
			}
			next(P);
			sh->d[sh->rank++] = IR_DIM_SYM;
		} else {
			tok at = P->t;
			int64_t v;
			if (!parse_int(P, &v))
				return false;
			if (v < 0) {
				perr(P, &at, "negative dimension %lld", (long long)v);
				return false;
			}
			sh->d[sh->rank++] = v;
		}
		if (!is_punct(P, ']') && !expect(P, ','))
			return false;
	}
	next(P);
	if (ir_shape_known(sh) && ir_shape_numel(sh) < 0) {
		perr(P, &P->t, "tensor has more than %lld elements", (long long)IR_MAX_NUMEL);
		return false;
	}
	return true;
}

static ir_value *lookup(parser *P, const tok *at)
{
	ir_value *v = ir_graph_find_value(P->g, at->s);
	if (!v)
		perr(P, at, "undefined value '%%%s'", at->s);
	return v;
}

static ir_value *define(parser *P, const tok *at, ir_dtype dt, const ir_shape *sh)
{
	if (ir_graph_find_value(P->g, at->s)) {
		perr(P, at, "value '%%%s' is defined twice", at->s);
		return NULL;
	}
	ir_value *v = ir_graph_add_value(P->g, at->s, dt, sh);
	if (!v)
		nomem(P);
	return v;
}

static void parse_quant(parser *P, ir_value *v);

/* 'input' VREF ':' type ['!quant{...}'] */
static void parse_input(parser *P)
{
	next(P);
	if (P->t.k != T_VREF) {
		char b[64];
		perr(P, &P->t, "expected a value name like %%x, found %s", tok_desc(&P->t, b, sizeof b));
		return;
	}
	tok name = P->t;
	if (!(name.s = strdup(P->t.s))) {
		nomem(P);
		return;
	}
	next(P);
	ir_dtype dt;
	ir_shape sh;
	if (expect(P, ':') && parse_type(P, &dt, &sh)) {
		ir_value *v = define(P, &name, dt, &sh);
		if (v)
			ir_graph_add_input(P->g, v);
		if (v && is_punct(P, '!'))
			parse_quant(P, v);
	}
	free(name.s);
}

/* '[' num (',' num)* ']' with exactly `want` numbers into a fresh arena
 * array of floats or int64s. */
static void *parse_list(parser *P, bool floats, int64_t want, const char *what)
{
	if (!expect(P, '['))
		return NULL;
	void *out = ir_arena_alloc(P->g->arena, (size_t)(want ? want : 1) * 8);
	if (!out) {
		nomem(P);
		return NULL;
	}
	int64_t k = 0;
	while (!is_punct(P, ']')) {
		if (k == want) {
			perr(P, &P->t, "%s has more than %lld values", what, (long long)want);
			return NULL;
		}
		double x;
		int64_t i;
		if (floats ? !parse_float(P, &x) : !parse_int(P, &i))
			return NULL;
		if (floats)
			((float *)out)[k] = (float)x;
		else
			((int64_t *)out)[k] = i;
		k++;
		if (!is_punct(P, ']') && !expect(P, ','))
			return NULL;
	}
	if (k != want) {
		perr(P, &P->t, "%s has %lld values, expected %lld", what, (long long)k, (long long)want);
		return NULL;
	}
	next(P);
	return out;
}

/* '!quant' '{' key '=' value (',' ...)* '}' after a constant's data: the
 * quantization annotation (see print.c). */
static void parse_quant(parser *P, ir_value *v)
{
	next(P); /* '!' */
	if (!is_ident(P, "quant")) {
		char b[64];
		perr(P, &P->t, "expected 'quant' after '!', found %s", tok_desc(&P->t, b, sizeof b));
		return;
	}
	next(P);
	if (!expect(P, '{'))
		return;
	ir_quant *q = ir_arena_alloc(P->g->arena, sizeof *q);
	if (!q) {
		nomem(P);
		return;
	}
	q->axis = -1;
	q->nchan = 1;
	int64_t n = ir_shape_numel(&v->shape);
	/* Each field once, in the printer's order: the arrays are sized by
	 * bits and axis, which must not change after them. */
	static const char *const order[] = {"scheme", "bits", "axis", "scale", "zero_point",
	                                    "levels", "codes"};
	enum { NKEYS = sizeof order / sizeof order[0] };
	int last = -1;
	unsigned seen = 0;
	tok start = P->t;
	while (!is_punct(P, '}')) {
		tok at = P->t;
		if (P->t.k != T_IDENT) {
			char b[64];
			perr(P, &at, "expected a quant field, found %s", tok_desc(&at, b, sizeof b));
			return;
		}
		char key[32];
		snprintf(key, sizeof key, "%s", P->t.s);
		int ki = 0;
		while (ki < NKEYS && strcmp(order[ki], key) != 0)
			ki++;
		if (ki < NKEYS && (seen >> ki & 1)) {
			perr(P, &at, "duplicate quant field '%s'", key);
			return;
		}
		if (ki < NKEYS && ki < last) {
			perr(P, &at, "quant field '%s' after '%s' (the order is scheme, bits, axis, scale, "
			             "zero_point, levels, codes)", key, order[last]);
			return;
		}
		if (ki < NKEYS) {
			last = ki;
			seen |= 1u << ki;
		}
		next(P);
		if (!expect(P, '='))
			return;
		int64_t iv;
		if (strcmp(key, "scheme") == 0) {
			if (P->t.k != T_STR || (q->scheme = ir_qscheme_from_name(P->t.s)) == IR_QS_NONE) {
				perr(P, &P->t, "unknown quantization scheme");
				return;
			}
			next(P);
		} else if (strcmp(key, "bits") == 0 || strcmp(key, "axis") == 0) {
			if (!parse_int(P, &iv))
				return;
			if (key[0] == 'b') {
				if (iv < 1 || iv > 16) {
					perr(P, &at, "bits=%lld: bits must be 1..8 (16 for activations)",
					     (long long)iv);
					return;
				}
				q->bits = (int)iv;
			} else {
				if (iv < -1 || (iv >= 0 && iv >= v->shape.rank)) {
					perr(P, &at, "axis=%lld is not an axis of %s", (long long)iv, v->name);
					return;
				}
				if (iv >= 0 && v->shape.d[iv] < 0) {
					perr(P, &at, "axis=%lld is the symbolic dimension of %s", (long long)iv,
					     v->name);
					return;
				}
				q->axis = (int)iv;
				q->nchan = iv < 0 ? 1 : (int)v->shape.d[iv];
			}
		} else if (strcmp(key, "scale") == 0 || strcmp(key, "levels") == 0) {
			if (!q->bits) {
				perr(P, &at, "'%s' must come after bits and axis", key);
				return;
			}
			int64_t want = key[0] == 's' ? q->nchan : (int64_t)q->nchan << q->bits;
			float *a = parse_list(P, true, want, key);
			if (!a)
				return;
			*(key[0] == 's' ? &q->scale : &q->levels) = a;
		} else if (strcmp(key, "zero_point") == 0 || strcmp(key, "codes") == 0) {
			bool zp = key[0] == 'z';
			if (!q->bits) {
				perr(P, &at, "'%s' must come after bits and axis", key);
				return;
			}
			int64_t want = zp ? q->nchan : n;
			int64_t *a = parse_list(P, false, want, key);
			if (!a)
				return;
			if (zp) {
				q->zero_point = ir_arena_alloc(P->g->arena, sizeof(int32_t) * (size_t)want);
				if (!q->zero_point) {
					nomem(P);
					return;
				}
				for (int64_t i = 0; i < want; i++)
					q->zero_point[i] = (int32_t)a[i];
			} else {
				q->codes = ir_arena_alloc(P->g->arena, (size_t)(want ? want : 1));
				if (!q->codes) {
					nomem(P);
					return;
				}
				for (int64_t i = 0; i < want; i++) {
					if (a[i] < 0 || a[i] >= (1 << q->bits)) {
						perr(P, &at, "code %lld does not fit in %d bits", (long long)a[i], q->bits);
						return;
					}
					q->codes[i] = (uint8_t)a[i];
				}
			}
		} else {
			perr(P, &at, "unknown quant field '%s' (scheme, bits, axis, scale, zero_point, "
			             "levels, codes)", key);
			return;
		}
		if (!is_punct(P, '}') && !expect(P, ','))
			return;
	}
	next(P);
	if (q->scheme == IR_QS_NONE || !q->bits) {
		perr(P, &P->t, "!quant needs scheme and bits");
		return;
	}
	char why[160];
	if (ir_quant_check(v, q, why, sizeof why)) {
		perr(P, &start, "%s", why);
		return;
	}
	v->quant = q;
}

/* 'const' VREF ':' type '=' ('elided' | '[' num (',' num)* ']') ['!quant{...}'] */
static void parse_const(parser *P)
{
	next(P);
	if (P->t.k != T_VREF) {
		char b[64];
		perr(P, &P->t, "expected a value name like %%w, found %s", tok_desc(&P->t, b, sizeof b));
		return;
	}
	tok name = P->t;
	if (!(name.s = strdup(P->t.s))) {
		nomem(P);
		return;
	}
	next(P);
	ir_dtype dt;
	ir_shape sh;
	void *data = NULL;
	if (!expect(P, ':') || !parse_type(P, &dt, &sh) || !expect(P, '='))
		goto out;
	int64_t n = ir_shape_numel(&sh);
	if (n < 0 || dt == IR_DT_UNDEF) {
		perr(P, &name, "a constant needs a concrete shape and element type");
		goto out;
	}
	if (is_ident(P, "elided")) {
		next(P);
		ir_value *v = define(P, &name, dt, &sh);
		if (v)
			v->kind = IR_VAL_CONST; /* data stays NULL */
		if (v && is_punct(P, '!'))
			parse_quant(P, v);
		goto out;
	}
	if (!expect(P, '['))
		goto out;
	/* Every value takes at least one byte of text: a shape that asks for
	 * more values than the rest of the file could hold is an error now,
	 * before its buffer is allocated (a few bytes must not ask for GBs). */
	if (n > P->end - P->t.p) {
		perr(P, &name, "%s holds %lld values, more than the %lld bytes of text left", name.s,
		     (long long)n, (long long)(P->end - P->t.p));
		goto out;
	}
	size_t es = ir_dtype_size(dt);
	data = calloc((size_t)(n ? n : 1), es);
	if (!data) {
		nomem(P);
		goto out;
	}
	int64_t k = 0;
	while (!is_punct(P, ']')) {
		tok at = P->t;
		if (k == n) {
			perr(P, &at, "more than %lld values for %s", (long long)n, name.s);
			goto out;
		}
		if (dt == IR_DT_F32) {
			double x;
			if (!parse_float(P, &x))
				goto out;
			((float *)data)[k] = (float)x;
		} else {
			int64_t x;
			if (!parse_int(P, &x))
				goto out;
			bool ok = true;
			switch (dt) {
			case IR_DT_I8: ok = x >= INT8_MIN && x <= INT8_MAX; ((int8_t *)data)[k] = (int8_t)x; break;
			case IR_DT_U8: ok = x >= 0 && x <= UINT8_MAX; ((uint8_t *)data)[k] = (uint8_t)x; break;
			case IR_DT_I16: ok = x >= INT16_MIN && x <= INT16_MAX; ((int16_t *)data)[k] = (int16_t)x; break;
			case IR_DT_U16: ok = x >= 0 && x <= UINT16_MAX; ((uint16_t *)data)[k] = (uint16_t)x; break;
			case IR_DT_I32: ok = x >= INT32_MIN && x <= INT32_MAX; ((int32_t *)data)[k] = (int32_t)x; break;
			case IR_DT_I64: ((int64_t *)data)[k] = x; break;
			case IR_DT_BOOL: ok = x == 0 || x == 1; ((uint8_t *)data)[k] = (uint8_t)x; break;
			default: break;
			}
			if (!ok) {
				perr(P, &at, "%lld does not fit in %s", (long long)x, ir_dtype_name(dt));
				goto out;
			}
		}
		k++;
		if (!is_punct(P, ']') && !expect(P, ','))
			goto out;
	}
	if (k != n) {
		perr(P, &P->t, "%lld values for %s, whose shape holds %lld", (long long)k, name.s,
		     (long long)n);
		goto out;
	}
	next(P);
	ir_value *v = define(P, &name, dt, &sh);
	if (v && ir_value_set_const(P->g, v, data))
		nomem(P);
	else if (v && is_punct(P, '!'))
		parse_quant(P, v);
out:
	free(data);
	free(name.s);
}

/* '{' name '=' value (',' name '=' value)* '}' */
static bool parse_attrs(parser *P, ir_node *n)
{
	next(P); /* '{' */
	while (!is_punct(P, '}')) {
		if (P->t.k != T_IDENT && P->t.k != T_STR) {
			char b[64];
			perr(P, &P->t, "expected an attribute name, found %s", tok_desc(&P->t, b, sizeof b));
			return false;
		}
		tok at = P->t;
		char *name = strdup(P->t.s);
		if (!name) {
			nomem(P);
			return false;
		}
		next(P);
		int kind = ir_op_attr_kind(n->op, name);
		bool ok = false;
		if (kind < 0) {
			perr(P, &at, "unknown attribute '%s' for %s", name, ir_op_name(n->op));
		} else if (ir_node_attr(n, name)) {
			perr(P, &at, "attribute '%s' given twice", name);
		} else if (expect(P, '=')) {
			int64_t iv;
			double fv;
			switch ((ir_attr_kind)kind) {
			case IR_ATTR_INT:
				if ((ok = parse_int(P, &iv)))
					ir_node_set_int(P->g, n, name, iv);
				break;
			case IR_ATTR_FLOAT:
				if ((ok = parse_float(P, &fv)))
					ir_node_set_float(P->g, n, name, (float)fv);
				break;
			case IR_ATTR_STR:
				if (P->t.k != T_STR) {
					char b[64];
					perr(P, &P->t, "expected a string, found %s", tok_desc(&P->t, b, sizeof b));
					break;
				}
				ir_node_set_str(P->g, n, name, P->t.s);
				next(P);
				ok = true;
				break;
			case IR_ATTR_INTS:
			case IR_ATTR_FLOATS: {
				if (!expect(P, '['))
					break;
				int cnt = 0, cap = 8;
				int64_t *iv_ = malloc(sizeof *iv_ * (size_t)cap);
				float *fv_ = malloc(sizeof *fv_ * (size_t)cap);
				ok = iv_ && fv_;
				if (!ok)
					nomem(P);
				while (ok && !is_punct(P, ']')) {
					if (cnt == 4096) {
						perr(P, &P->t, "attribute list too long");
						ok = false;
						break;
					}
					if (cnt == cap) {
						cap *= 2;
						int64_t *ni = realloc(iv_, sizeof *iv_ * (size_t)cap);
						if (ni)
							iv_ = ni;
						float *nf = ni ? realloc(fv_, sizeof *fv_ * (size_t)cap) : NULL;
						if (nf)
							fv_ = nf;
						if (!ni || !nf) {
							nomem(P);
							ok = false;
							break;
						}
					}
					if (kind == IR_ATTR_INTS)
						ok = parse_int(P, &iv_[cnt]);
					else if ((ok = parse_float(P, &fv)))
						fv_[cnt] = (float)fv;
					cnt++;
					if (ok && !is_punct(P, ']'))
						ok = expect(P, ',');
				}
				if (ok) {
					next(P);
					if (kind == IR_ATTR_INTS)
						ir_node_set_ints(P->g, n, name, iv_, cnt);
					else
						ir_node_set_floats(P->g, n, name, fv_, cnt);
				}
				free(iv_);
				free(fv_);
				break;
			}
			}
		}
		free(name);
		if (!ok)
			return false;
		if (!is_punct(P, '}') && !expect(P, ','))
			return false;
	}
	next(P);
	return true;
}

/* Node metadata comment: ';' [name] ['(' srcop ')'] ['#' index] */
static void parse_meta(parser *P, ir_node *n)
{
	next(P); /* ';' */
	if (P->t.k == T_IDENT || P->t.k == T_STR || P->t.k == T_NUM) {
		char *s = P->t.k == T_NUM ? strndup(P->t.p, P->t.n) : strdup(P->t.s);
		const char *name = s ? ir_arena_strdup(P->g->arena, s) : NULL;
		free(s);
		if (!name) {
			nomem(P);
			return;
		}
		n->name = name;
		next(P);
	}
	if (is_punct(P, '(')) {
		next(P);
		if (P->t.k == T_IDENT) {
			if (!(n->src_op = ir_arena_strdup(P->g->arena, P->t.s))) {
				nomem(P);
				return;
			}
			next(P);
		}
		if (!is_punct(P, ')')) {
			recover(P);
			return;
		}
		next(P);
	}
	if (is_punct(P, '#')) {
		next(P);
		int64_t k;
		if (P->t.k == T_NUM && parse_int(P, &k) && k >= 0 && k <= INT32_MAX)
			n->src_index = (int)k;
	}
	recover(P); /* anything else is commentary */
}

/* outs '=' op '(' args ')' [attrs] [meta] */
static void parse_node(parser *P)
{
	enum { MAXV = 1024 };
	tok outs[MAXV];
	ir_dtype dts[MAXV];
	ir_shape shs[MAXV];
	ir_value *in[MAXV], *out[MAXV];
	ir_quant *qs[MAXV];
	int nout = 0, nin = 0;
	char b[64];
	for (;;) {
		if (nout == MAXV) {
			perr(P, &P->t, "too many outputs");
			goto out;
		}
		outs[nout] = P->t;
		outs[nout].s = NULL;
		if (P->t.k == T_IDENT && strcmp(P->t.s, "_") == 0) {
			next(P);
			qs[nout] = NULL;
			nout++;
		} else if (P->t.k == T_VREF) {
			if (!(outs[nout].s = strdup(P->t.s))) {
				nomem(P);
				goto out;
			}
			next(P);
			nout++;
			if (!expect(P, ':') || !parse_type(P, &dts[nout - 1], &shs[nout - 1]))
				goto out;
			/* An activation's quantization, part of its type. */
			qs[nout - 1] = NULL;
			if (is_punct(P, '!')) {
				ir_value tv = {.name = outs[nout - 1].s, .dt = dts[nout - 1],
				               .shape = shs[nout - 1]};
				parse_quant(P, &tv);
				if (!tv.quant)
					goto out;
				qs[nout - 1] = tv.quant;
			}
		} else {
			perr(P, &P->t, "expected a value name, found %s", tok_desc(&P->t, b, sizeof b));
			goto out;
		}
		if (!is_punct(P, ','))
			break;
		next(P);
	}
	if (!expect(P, '='))
		goto out;
	if (P->t.k != T_IDENT) {
		perr(P, &P->t, "expected an op name, found %s", tok_desc(&P->t, b, sizeof b));
		goto out;
	}
	ir_op op = ir_op_from_name(P->t.s);
	if (op == IR_OP__COUNT) {
		perr(P, &P->t, "unknown op '%s'", P->t.s);
		goto out;
	}
	tok optok = P->t;
	next(P);
	if (!expect(P, '('))
		goto out;
	while (!is_punct(P, ')')) {
		if (nin == MAXV) {
			perr(P, &P->t, "too many inputs");
			goto out;
		}
		if (P->t.k == T_IDENT && strcmp(P->t.s, "_") == 0) {
			in[nin++] = NULL;
			next(P);
		} else if (P->t.k == T_VREF) {
			tok at = P->t;
			if (!(in[nin++] = lookup(P, &at)))
				goto out;
			next(P);
		} else {
			perr(P, &P->t, "expected an input like %%x or _, found %s",
			     tok_desc(&P->t, b, sizeof b));
			goto out;
		}
		if (!is_punct(P, ')') && !expect(P, ','))
			goto out;
	}
	next(P);
	const ir_op_info *oi = &ir_op_table[op];
	if (nin < oi->min_in || (oi->max_in >= 0 && nin > oi->max_in)) {
		perr(P, &optok, "%s takes %d..%d inputs, not %d", oi->name, oi->min_in, oi->max_in, nin);
		goto out;
	}
	if (nout < oi->min_out || (oi->max_out >= 0 && nout > oi->max_out)) {
		perr(P, &optok, "%s has %d..%d outputs, not %d", oi->name, oi->min_out, oi->max_out, nout);
		goto out;
	}
	for (int j = 0; j < nout; j++) {
		out[j] = NULL;
		if (!outs[j].s)
			continue;
		if (!(out[j] = define(P, &outs[j], dts[j], &shs[j])))
			goto out;
		out[j]->quant = qs[j];
	}
	ir_node *n = ir_graph_add_node(P->g, op, "", nin, in, nout, out);
	if (!n) {
		nomem(P);
		goto out;
	}
	if (P->nnode_at == P->capnode_at) {
		int cap = P->capnode_at ? 2 * P->capnode_at : 64;
		tok *na = realloc(P->node_at, sizeof *P->node_at * (size_t)cap);
		if (!na) {
			nomem(P);
			goto out;
		}
		P->node_at = na;
		P->capnode_at = cap;
	}
	P->node_at[P->nnode_at] = outs[0];
	P->node_at[P->nnode_at++].s = NULL;
	if (is_punct(P, '{') && !parse_attrs(P, n))
		goto out;
	while (is_punct(P, '!')) {
		next(P);
		tok at = P->t;
		int64_t bits;
		if (is_ident(P, "bits")) {
			next(P);
			if (!expect(P, '=') || !parse_int(P, &bits))
				goto out;
			if ((bits < 1 || bits > 8) && bits != 32) {
				perr(P, &at, "!bits=%lld: bits must be 1..8, or 32 for float", (long long)bits);
				goto out;
			}
			n->qhint.bits = (int)bits;
		} else if (is_ident(P, "per_channel") || is_ident(P, "per_tensor")) {
			n->qhint.gran = P->t.s[4] == 'c' ? IR_QGRAN_PER_CHANNEL : IR_QGRAN_PER_TENSOR;
			next(P);
		} else if (is_ident(P, "scheme")) {
			next(P);
			if (!expect(P, '='))
				goto out;
			tok st = P->t;
			ir_qscheme hs = P->t.k == T_IDENT ? ir_qscheme_from_name(P->t.s) : IR_QS_NONE;
			if (hs == IR_QS_NONE || hs == IR_QS_CODEBOOK) {
				perr(P, &st, "!scheme=%s: expected affine, symmetric, pow2, binary or ternary",
				     tok_desc(&st, b, sizeof b));
				goto out;
			}
			n->qhint.scheme = hs;
			next(P);
		} else {
			perr(P, &at, "unknown hint %s (expected bits=N, scheme=S, per_channel or per_tensor)",
			     tok_desc(&at, b, sizeof b));
			goto out;
		}
	}
	if (is_punct(P, ';'))
		parse_meta(P, n);
out:
	for (int j = 0; j < nout; j++)
		free(outs[j].s);
}

static void parse_output(parser *P)
{
	next(P);
	if (P->t.k != T_VREF) {
		char b[64];
		perr(P, &P->t, "expected a value name like %%y, found %s", tok_desc(&P->t, b, sizeof b));
		return;
	}
	tok at = P->t;
	ir_value *v = lookup(P, &at);
	if (v)
		ir_graph_add_output(P->g, v);
	next(P);
}

static void skip_blank(parser *P)
{
	for (;;) {
		if (P->t.k == T_NL)
			next(P);
		else if (is_punct(P, ';') || is_punct(P, '#'))
			skip_comment(P); /* '#' lines carry test directives (# RUN:, # CHECK:) */
		else
			return;
	}
}

/* The types a .qir declares must be the ones inference gives: a dump
 * edited by hand must not disagree with itself.  Errors from inference are
 * re-reported at the node's line.  Declared types stand where inference
 * cannot decide yet (an operand that is not constant). */
static void check_types(parser *P)
{
	for (int i = 0; i < P->g->nnodes && i < P->nnode_at; i++) {
		ir_node *n = P->g->nodes[i];
		tok *at = &P->node_at[i];
		ir_dtype dt[n->nout + 1];
		ir_shape sh[n->nout + 1];
		for (int j = 0; j < n->nout; j++)
			if (n->out[j]) {
				dt[j] = n->out[j]->dt;
				sh[j] = n->out[j]->shape;
			}
		diag_sink cap;
		diag_sink_init_capture(&cap);
		P->line_failed = false;
		int rc = ir_infer_node(P->g, n, &cap);
		if (ir_graph_oom(P->g) || (cap.nerr && !cap.buf)) {
			diag_sink_fini(&cap);
			nomem(P);
			return;
		}
		if (rc) {
			const char *msg = cap.buf ? strstr(cap.buf, "error: ") : NULL;
			char *nl = msg ? strchr(msg, '\n') : NULL;
			if (nl)
				*nl = 0;
			perr(P, at, "%s", msg ? msg + 7 : "shape inference failed");
			diag_sink_fini(&cap);
			continue;
		}
		diag_sink_fini(&cap);
		for (int j = 0; j < n->nout; j++) {
			ir_value *v = n->out[j];
			if (!v)
				continue;
			bool known = v->shape.rank >= 0 && v->dt != IR_DT_UNDEF;
			bool same_dt = dt[j] == IR_DT_UNDEF || dt[j] == v->dt;
			bool same_sh = sh[j].rank < 0 || ir_shape_eq(&sh[j], &v->shape);
			if (known && (!same_dt || !same_sh)) {
				char a[96], b[96];
				perr(P, at, "'%%%s' is declared %s%s but %s gives %s%s", v->name,
				     ir_dtype_name(dt[j]), sh[j].rank < 0 ? "[*]" : ir_shape_str(&sh[j], a, sizeof a),
				     ir_op_name(n->op), ir_dtype_name(v->dt), ir_shape_str(&v->shape, b, sizeof b));
			}
			/* Keep what was written, so print(parse(text)) == text. */
			v->dt = dt[j];
			v->shape = sh[j];
		}
	}
}

ir_graph *ir_parse(const char *text, size_t len, const char *filename, diag_sink *d)
{
	parser P = {.src = text, .end = text + len, .cur = text, .file = filename ? filename : "<input>",
	            .line = 1, .line_start = text, .d = d};
	int before = d->nerr;
	next(&P);
	skip_blank(&P);
	if (!is_ident(&P, "graph")) {
		char b[64];
		perr(&P, &P.t, "expected 'graph', found %s", tok_desc(&P.t, b, sizeof b));
		free(P.t.s);
		return NULL;
	}
	next(&P);
	char *gname = NULL;
	if (P.t.k == T_IDENT || P.t.k == T_STR)
		gname = strdup(P.t.s);
	else if (P.t.k == T_NUM)
		gname = strndup(P.t.p, P.t.n);
	else if (!P.oom) {
		char b[64];
		perr(&P, &P.t, "expected a graph name, found %s", tok_desc(&P.t, b, sizeof b));
		free(P.t.s);
		return NULL;
	}
	P.g = gname ? ir_graph_create(gname) : NULL;
	free(gname);
	if (!P.g || !(P.g->src_file = ir_arena_strdup(P.g->arena, P.file))) {
		nomem(&P);
		free(P.t.s);
		ir_graph_destroy(P.g);
		return NULL;
	}
	next(&P);
	if (!expect(&P, '{')) {
		free(P.t.s);
		ir_graph_destroy(P.g);
		return NULL;
	}
	int items = 0;
	for (;;) {
		P.line_failed = false;
		skip_blank(&P);
		P.line_failed = false;
		if (P.t.k == T_EOF) {
			perr(&P, &P.t, "unexpected end of file: missing '}'"); /* (none after nomem) */
			break;
		}
		if (is_punct(&P, '}')) {
			next(&P);
			skip_blank(&P);
			if (P.t.k != T_EOF) {
				char b[64];
				perr(&P, &P.t, "unexpected %s after the graph", tok_desc(&P.t, b, sizeof b));
			}
			break;
		}
		if (++items > MAX_ITEMS) {
			perr(&P, &P.t, "more than %d items", MAX_ITEMS);
			break;
		}
		if (is_ident(&P, "input"))
			parse_input(&P);
		else if (is_ident(&P, "const"))
			parse_const(&P);
		else if (is_ident(&P, "output"))
			parse_output(&P);
		else if (P.t.k == T_VREF || is_ident(&P, "_"))
			parse_node(&P);
		else {
			char b[64];
			perr(&P, &P.t, "expected 'input', 'const', 'output' or a node, found %s",
			     tok_desc(&P.t, b, sizeof b));
		}
		skip_comment(&P);
		if (P.t.k != T_NL && P.t.k != T_EOF && !is_punct(&P, '}')) {
			char b[64];
			perr(&P, &P.t, "unexpected %s at end of line", tok_desc(&P.t, b, sizeof b));
		}
		recover(&P);
	}
	free(P.t.s);
	if (ir_graph_oom(P.g))
		nomem(&P);
	if (d->nerr == before)
		check_types(&P);
	free(P.node_at);
	if (d->nerr > before) {
		ir_graph_destroy(P.g);
		return NULL;
	}
	return P.g;
}
