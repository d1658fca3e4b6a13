/* dsl_lex.c: the DSL's hand-written tokenizer, which pushes tokens into
 * the Lemon parser (dsl.y), and the located diagnostics both report with.
 * Hostile text (NUL bytes, unterminated comments, huge numbers, deep
 * nesting, truncation) gets one exact error, never a crash. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dsl_internal.h"
#include "dsl_parse.h"

/* The Lemon-generated entry points (dsl_parse.c has no prototypes). */
void *fe_dsl_parseAlloc(void *(*alloc)(size_t), fe_dsl_ctx *ctx);
void fe_dsl_parse(void *parser, int major, dsl_token minor);
void fe_dsl_parseFree(void *parser, void (*dealloc)(void *));

/* --------------------------------------------------------- diagnostics */

static void vreport(fe_dsl_ctx *ctx, dsl_loc at, const char *note, const char *fmt, va_list ap)
{
	if (ctx->too_many)
		return;
	ctx->nerr++;
	if (ctx->nerr > DSL_MAX_ERRORS) {
		ctx->too_many = true;
		diag_error(ctx->d, ctx->file, "too many errors; stopping");
		return;
	}
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	/* Find the line: count from the start (errors are few). */
	const char *ls = ctx->src, *end = ctx->src + ctx->len;
	for (int line = 1; line < at.line && ls < end; ls++)
		if (*ls == '\n')
			line++;
	const char *le = ls;
	while (le < end && *le != '\n')
		le++;
	int shown = (int)(le - ls) > 200 ? 200 : (int)(le - ls);
	char text[256];
	int k = 0;
	for (int i = 0; i < shown; i++)
		text[k++] = ls[i] == '\t' || ((unsigned char)ls[i] >= 0x20 && (unsigned char)ls[i] < 0x7f)
		                    ? ls[i]
		                    : ' ';
	while (k > 0 && (text[k - 1] == ' ' || text[k - 1] == '\r'))
		k--; /* trailing blanks: nothing to see */
	text[k] = 0;
	int col = at.col - 1 < 200 ? at.col - 1 : 200;
	char caret[256];
	for (int i = 0; i < col; i++) /* tabs stay tabs so the caret lines up */
		caret[i] = i < shown && ls[i] == '\t' ? '\t' : ' ';
	caret[col] = 0;
	char loc[300];
	snprintf(loc, sizeof loc, "%s:%d:%d", ctx->file, at.line, at.col);
	if (note)
		diag_error(ctx->d, loc, "%s\n  %s\n  %s^\n%s: note: %s", msg, text, caret, loc, note);
	else
		diag_error(ctx->d, loc, "%s\n  %s\n  %s^", msg, text, caret);
}

void dsl_error(fe_dsl_ctx *ctx, dsl_loc at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(ctx, at, NULL, fmt, ap);
	va_end(ap);
}

void dsl_error_note(fe_dsl_ctx *ctx, dsl_loc at, const char *note, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(ctx, at, note, fmt, ap);
	va_end(ap);
}

void dsl_nomem(fe_dsl_ctx *ctx)
{
	if (!ctx->oom) {
		ctx->nerr++;
		diag_error(ctx->d, ctx->file, "out of memory");
	}
	ctx->oom = ctx->stop = true;
}

/* One lexical or syntax error per line: the first is the real one. */
static void line_error(fe_dsl_ctx *ctx, dsl_loc at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void line_error(fe_dsl_ctx *ctx, dsl_loc at, const char *fmt, ...)
{
	if (ctx->err_line == at.line)
		return;
	ctx->err_line = at.line;
	va_list ap;
	va_start(ap, fmt);
	vreport(ctx, at, NULL, fmt, ap);
	va_end(ap);
}

void dsl_syntax_error(fe_dsl_ctx *ctx, const dsl_token *t)
{
	if (t->eof) {
		line_error(ctx, t->loc, "unexpected end of file");
	} else if (t->n == 0 || t->p[0] == '\n') {
		line_error(ctx, t->loc, "unexpected end of line");
	} else {
		int n = t->n > 32 ? 32 : (int)t->n;
		line_error(ctx, t->loc, "unexpected %s'%.*s%s'",
		           t->p[0] == '"' ? "string " : isdigit((unsigned char)t->p[0]) ? "number " : "", n,
		           t->p, t->n > 32 ? "..." : "");
	}
}

/* ----------------------------------------------------------- tokenizer */

typedef struct lexer {
	fe_dsl_ctx *ctx;
	void *parser;
	const char *src_begin, *cur, *end;
	int line;
	const char *line_start;
	int last;                /* last token pushed (0: none yet) */
	char open[DSL_MAX_NEST]; /* open brackets */
	dsl_loc open_at[DSL_MAX_NEST];
	int depth;
	bool fatal;              /* stop: the rest cannot be tokenized sensibly */
} lexer;

static dsl_loc here(const lexer *L, const char *p)
{
	return (dsl_loc){L->line, (int)(p - L->line_start) + 1};
}

static void push(lexer *L, int major, dsl_token *t)
{
	L->ctx->at = t->loc;
	L->last = major;
	fe_dsl_parse(L->parser, major, *t);
}

static const struct {
	const char *word;
	int tk;
} keywords[] = {
	{"model", TK_MODEL}, {"weights", TK_WEIGHTS}, {"input", TK_INPUT}, {"output", TK_OUTPUT},
	{"const", TK_CONST}, {"block", TK_BLOCK}, {"repeat", TK_REPEAT}, {"as", TK_AS},
};

static char *arena_strndup(fe_dsl_ctx *ctx, const char *s, size_t n)
{
	char *r = ir_arena_alloc(ctx->arena, n + 1);
	if (r) {
		memcpy(r, s, n);
		r[n] = 0;
	}
	return r;
}

/* A number: digits, optional fraction and exponent.  Anything glued to it
 * (28x28, 1.2.3) makes the whole run an invalid number. */
static bool lex_number(lexer *L, dsl_token *t, int *major)
{
	const char *s = L->cur, *p = s;
	bool isfloat = false;
	while (p < L->end && isdigit((unsigned char)*p))
		p++;
	if (p + 1 < L->end && *p == '.' && isdigit((unsigned char)p[1])) {
		isfloat = true;
		p++;
		while (p < L->end && isdigit((unsigned char)*p))
			p++;
	}
	if (p < L->end && (*p == 'e' || *p == 'E')) {
		const char *q = p + 1;
		if (q < L->end && (*q == '+' || *q == '-'))
			q++;
		if (q < L->end && isdigit((unsigned char)*q)) {
			isfloat = true;
			p = q;
			while (p < L->end && isdigit((unsigned char)*p))
				p++;
		}
	}
	const char *e = p;
	while (e < L->end && (isalnum((unsigned char)*e) || *e == '_' || *e == '.'))
		e++;
	t->p = s;
	t->n = (size_t)(e - s);
	L->cur = e;
	if (e != p) {
		int n = t->n > 32 ? 32 : (int)t->n;
		line_error(L->ctx, t->loc, "invalid number '%.*s%s'", n, s, t->n > 32 ? "..." : "");
		return false;
	}
	char buf[400];
	if (t->n >= sizeof buf) {
		line_error(L->ctx, t->loc, isfloat ? "number out of range" : "integer out of range");
		return false;
	}
	memcpy(buf, s, t->n);
	buf[t->n] = 0;
	errno = 0;
	if (isfloat) {
		t->f = strtod(buf, NULL);
		if (errno == ERANGE || !isfinite(t->f)) {
			line_error(L->ctx, t->loc, "number out of range");
			return false;
		}
		*major = TK_FLOAT;
	} else {
		long long v = strtoll(buf, NULL, 10);
		if (errno == ERANGE) {
			line_error(L->ctx, t->loc, "integer out of range");
			return false;
		}
		t->i = v;
		t->f = (double)v;
		*major = TK_INT;
	}
	return true;
}

/* "..." on one line; \" and \\ escape. */
static bool lex_string(lexer *L, dsl_token *t)
{
	const char *s = L->cur, *p = s + 1;
	size_t cap = 32, n = 0;
	char *buf = malloc(cap);
	if (!buf) {
		dsl_nomem(L->ctx);
		L->fatal = true;
		return false;
	}
	bool bad_nul = false;
	while (p < L->end && *p != '"' && *p != '\n') {
		char c = *p++;
		if (c == '\\' && p < L->end && (*p == '"' || *p == '\\'))
			c = *p++;
		if (c == 0)
			bad_nul = true;
		if (n + 2 > cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				dsl_nomem(L->ctx);
				L->fatal = true;
				return false;
			}
			buf = nb;
		}
		buf[n++] = c;
	}
	t->p = s;
	if (p >= L->end || *p != '"') {
		L->cur = p;
		t->n = (size_t)(p - s);
		free(buf);
		line_error(L->ctx, t->loc, "unterminated string");
		return false;
	}
	L->cur = p + 1;
	t->n = (size_t)(L->cur - s);
	if (bad_nul) {
		free(buf);
		line_error(L->ctx, t->loc, "NUL byte in string");
		return false;
	}
	t->s = arena_strndup(L->ctx, buf, n);
	free(buf);
	if (!t->s) {
		dsl_nomem(L->ctx);
		L->fatal = true;
		return false;
	}
	return true;
}

static bool ident_start(int c)
{
	return isalpha(c) || c == '_';
}

static bool ident_char(int c)
{
	return isalnum(c) || c == '_';
}

/* Skip blanks and comments.  false: fatal (unterminated comment). */
static bool skip_space(lexer *L)
{
	for (;;) {
		while (L->cur < L->end && (*L->cur == ' ' || *L->cur == '\t' || *L->cur == '\r'))
			L->cur++;
		if (L->cur >= L->end)
			return true;
		if (*L->cur == '#') {
			while (L->cur < L->end && *L->cur != '\n')
				L->cur++;
			continue;
		}
		if (*L->cur == '/' && L->cur + 1 < L->end && L->cur[1] == '*') {
			dsl_loc at = here(L, L->cur);
			const char *p = L->cur + 2;
			for (;;) {
				if (p + 1 >= L->end) {
					line_error(L->ctx, at, "unterminated comment");
					return false;
				}
				if (p[0] == '*' && p[1] == '/')
					break;
				if (*p == '\n') {
					L->line++;
					L->line_start = p + 1;
				}
				p++;
			}
			L->cur = p + 2;
			continue;
		}
		return true;
	}
}

/* A newline ends a statement unless the line ends inside an argument
 * list after '(' '[' or ','. */
static bool continues(int last)
{
	return last == TK_LPAREN || last == TK_LBRACKET || last == TK_COMMA;
}

static void push_nl(lexer *L, dsl_token *t, bool eof)
{
	/* A statement cannot span lines in the middle of a bracket: let the
	 * parser complain about this line and forget its open ( and [. */
	while (L->depth > 0 && L->open[L->depth - 1] != '{')
		L->depth--;
	t->eof = eof;
	push(L, TK_NL, t);
}

static void run_lexer(lexer *L)
{
	fe_dsl_ctx *ctx = L->ctx;
	for (;;) {
		if (ctx->too_many || ctx->stop) {
			L->fatal = true;
			return;
		}
		if (!skip_space(L)) {
			L->fatal = true;
			return;
		}
		dsl_token t = {0};
		t.p = L->cur;
		t.loc = here(L, L->cur);
		if (L->cur >= L->end)
			break;
		int c = (unsigned char)*L->cur;
		int major = 0;
		if (c == '\n') {
			t.n = 1;
			if (L->last && L->last != TK_NL && !continues(L->last))
				push_nl(L, &t, false);
			L->cur++;
			L->line++;
			L->line_start = L->cur;
			continue;
		}
		if (isdigit(c) || (c == '.' && L->cur + 1 < L->end && isdigit((unsigned char)L->cur[1]))) {
			if (c == '.') {
				t.n = 1;
				L->cur++;
				line_error(ctx, t.loc, "a number needs a digit before '.'");
				continue;
			}
			if (!lex_number(L, &t, &major))
				continue;
			push(L, major, &t);
			continue;
		}
		if (ident_start(c)) {
			const char *s = L->cur;
			while (L->cur < L->end && ident_char((unsigned char)*L->cur))
				L->cur++;
			/* dotted names: features.0, block.conv */
			while (L->cur + 1 < L->end && *L->cur == '.' && ident_char((unsigned char)L->cur[1])) {
				L->cur++;
				while (L->cur < L->end && ident_char((unsigned char)*L->cur))
					L->cur++;
			}
			t.n = (size_t)(L->cur - s);
			t.s = arena_strndup(ctx, s, t.n);
			if (!t.s) {
				dsl_nomem(ctx);
				L->fatal = true;
				return;
			}
			major = TK_IDENT;
			for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++)
				if (strcmp(t.s, keywords[k].word) == 0)
					major = keywords[k].tk;
			push(L, major, &t);
			continue;
		}
		if (c == '"') {
			if (lex_string(L, &t))
				push(L, TK_STRING, &t);
			if (L->fatal)
				return;
			continue;
		}
		t.n = 1;
		L->cur++;
		switch (c) {
		case '(': major = TK_LPAREN; break;
		case ')': major = TK_RPAREN; break;
		case '[': major = TK_LBRACKET; break;
		case ']': major = TK_RBRACKET; break;
		case '{': major = TK_LBRACE; break;
		case '}': major = TK_RBRACE; break;
		case ',': major = TK_COMMA; break;
		case ':': major = TK_COLON; break;
		case '=': major = TK_EQ; break;
		case '+': major = TK_PLUS; break;
		case '*': major = TK_STAR; break;
		case '/': major = TK_SLASH; break;
		case '-':
			if (L->cur < L->end && *L->cur == '>') {
				L->cur++;
				t.n = 2;
				major = TK_ARROW;
			} else {
				major = TK_MINUS;
			}
			break;
		default:
			if (c >= 0x20 && c < 0x7f)
				line_error(ctx, t.loc, "unexpected character '%c'", c);
			else if (c == 0)
				line_error(ctx, t.loc, "unexpected NUL byte");
			else
				line_error(ctx, t.loc, "unexpected byte 0x%02x", c);
			continue;
		}
		if (c == '(' || c == '[' || c == '{') {
			if (L->depth >= DSL_MAX_NEST) {
				line_error(ctx, t.loc, "nesting deeper than %d levels", DSL_MAX_NEST);
				L->fatal = true;
				return;
			}
			L->open[L->depth] = (char)c;
			L->open_at[L->depth++] = t.loc;
		} else if ((c == ')' || c == ']' || c == '}') && L->depth > 0) {
			L->depth--;
		}
		push(L, major, &t);
	}
	/* End of file: close the last statement, then the 0 token. */
	dsl_token t = {0};
	const char *e = L->end;
	if (e > L->src_begin && e[-1] == '\n') {
		/* point at the end of the last line rather than past it */
		const char *ls = e - 1;
		while (ls > L->src_begin && ls[-1] != '\n')
			ls--;
		t.loc = (dsl_loc){L->line - 1, (int)(e - 1 - ls) + 1};
	} else {
		t.loc = here(L, e);
	}
	t.p = e;
	t.eof = true;
	for (int k = L->depth - 1; k >= 0; k--)
		if (L->open[k] == '{') {
			line_error(ctx, t.loc, "unexpected end of file: the '{' on line %d is not closed",
			           L->open_at[k].line);
			L->fatal = true;
			return;
		}
	if (L->last && L->last != TK_NL)
		push_nl(L, &t, true);
	ctx->at = t.loc;
	fe_dsl_parse(L->parser, 0, t);
}

int dsl_parse_text(fe_dsl_ctx *ctx)
{
	lexer L = {0};
	L.ctx = ctx;
	L.cur = L.src_begin = ctx->src;
	L.end = ctx->src + ctx->len;
	L.line = 1;
	L.line_start = ctx->src;
	L.parser = fe_dsl_parseAlloc(malloc, ctx);
	if (!L.parser) {
		dsl_nomem(ctx);
		return -1;
	}
	int before = ctx->nerr;
	run_lexer(&L);
	fe_dsl_parseFree(L.parser, free);
	if (ctx->nerr != before || L.fatal || !ctx->program)
		return -1;
	return 0;
}
