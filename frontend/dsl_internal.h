/* dsl_internal.h: what the DSL's tokenizer (dsl_lex.c), grammar (dsl.y)
 * and evaluator (dsl.c) share: tokens, the syntax tree, the parse context. */
#ifndef QGTC_DSL_INTERNAL_H
#define QGTC_DSL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir.h"

enum {
	DSL_MAX_NEST = 64,       /* ( [ { nesting the tokenizer accepts */
	DSL_MAX_EXPR_DEPTH = 200, /* operator nesting in one expression */
	DSL_MAX_ERRORS = 50,     /* stop after this many errors */
	DSL_MAX_FILE = 16 << 20, /* bytes of source */
};

typedef struct dsl_loc {
	int line, col;           /* 1-based */
} dsl_loc;

/* A token as the tokenizer hands it to the parser. */
typedef struct dsl_token {
	dsl_loc loc;
	const char *p;           /* start in the source, for messages */
	size_t n;                /* length in the source */
	const char *s;           /* IDENT/STRING text, NUL-terminated (ctx arena) */
	int64_t i;               /* INT value */
	double f;                /* FLOAT value */
	bool eof;                /* the NL the tokenizer adds at end of file */
} dsl_token;

typedef enum {
	DSL_EX_INT, DSL_EX_FLOAT, DSL_EX_STR, DSL_EX_NAME, DSL_EX_LIST, DSL_EX_NEG, DSL_EX_BIN
} dsl_ex_kind;

typedef struct dsl_expr dsl_expr;
struct dsl_expr {
	dsl_ex_kind k;
	dsl_loc loc;
	int depth;               /* operator nesting, capped at DSL_MAX_EXPR_DEPTH */
	int64_t i;               /* INT */
	double f;                /* FLOAT */
	const char *s;           /* STR, NAME */
	int op;                  /* BIN: '+', '-', '*', '/' */
	dsl_expr *a, *b;         /* NEG: a; BIN: a op b */
	dsl_expr *items;         /* LIST: first item, linked by next */
	int nitems;
	dsl_expr *next;          /* next item of the enclosing list */
};

typedef struct dsl_exprs {
	dsl_expr *head, *tail;
	int n;
} dsl_exprs;

typedef struct dsl_arg dsl_arg;
struct dsl_arg {
	const char *key;         /* keyword, or NULL for a positional argument */
	dsl_loc loc;             /* keyword (or value) position */
	dsl_expr *val;
	dsl_arg *next;
};

typedef struct dsl_args {
	dsl_arg *head, *tail;
	int n;
} dsl_args;

typedef struct dsl_param dsl_param;
struct dsl_param {
	const char *name;
	dsl_loc loc;
	dsl_expr *dflt;          /* default value, or NULL */
	dsl_param *next;
};

typedef struct dsl_params {
	dsl_param *head, *tail;
	int n;
} dsl_params;

typedef enum {
	DSL_ST_MODEL, DSL_ST_WEIGHTS, DSL_ST_INPUT, DSL_ST_CONST, DSL_ST_BLOCK,
	DSL_ST_LAYER, DSL_ST_REPEAT, DSL_ST_OUTPUT
} dsl_st_kind;

typedef struct dsl_stmt dsl_stmt;
typedef struct dsl_stmts {
	dsl_stmt *head, *tail;
} dsl_stmts;

struct dsl_stmt {
	dsl_st_kind k;
	dsl_loc loc;             /* first token */
	const char *name;        /* MODEL/INPUT/CONST/BLOCK: the name; LAYER: "x =" target or
	                          * NULL; OUTPUT: the tensor (NULL: current) */
	dsl_loc name_loc;
	const char *callee;      /* LAYER: layer, block or tensor name */
	dsl_loc callee_loc;
	bool parens;             /* LAYER: written with an argument list */
	dsl_args *args;          /* LAYER, MODEL */
	const char *as;          /* LAYER: "-> name"; OUTPUT: "as name"; NULL if none */
	dsl_loc as_loc;
	const char *dtype;       /* INPUT */
	dsl_loc dtype_loc;
	dsl_exprs *dims;         /* INPUT */
	dsl_expr *value;         /* CONST: value; REPEAT: count */
	dsl_params *params;      /* BLOCK */
	dsl_stmts *body;         /* BLOCK, REPEAT */
	const char *path;        /* WEIGHTS */
	dsl_stmt *next;
};

/* The parse context (Lemon's %extra_context). */
typedef struct fe_dsl_ctx {
	ir_arena *arena;         /* tokens' text and the syntax tree */
	const char *file;        /* name used in diagnostics */
	const char *src;         /* the text */
	size_t len;
	diag_sink *d;
	int nerr;                /* errors reported (syntax and semantic) */
	int err_line;            /* last line a syntax/lexical error was reported on */
	dsl_loc at;              /* position of the token being parsed */
	bool too_many;           /* "too many errors" said; quiet from now on */
	bool stop;               /* the parser gave up: tokenize no further */
	bool oom;                /* out of memory (dsl_nomem): said once */
	dsl_stmts *program;      /* the top-level statements, once parsed */
	/* What a syntax tree constructor returns when the arena is out of
	 * memory, so that the grammar's actions have somewhere to write:
	 * parsing stops after the token, and the tree is never read. */
	union {
		dsl_expr e;
		dsl_exprs es;
		dsl_arg a;
		dsl_args as;
		dsl_param p;
		dsl_params ps;
		dsl_stmt s;
		dsl_stmts ss;
	} scratch;
} fe_dsl_ctx;

/* "FILE:LINE:COL: error: MSG", the source line and a caret. */
void dsl_error(fe_dsl_ctx *ctx, dsl_loc at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Same, followed by "FILE:LINE:COL: note: NOTE". */
void dsl_error_note(fe_dsl_ctx *ctx, dsl_loc at, const char *note, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Out of memory: "FILE: error: out of memory" (once), and stop parsing. */
void dsl_nomem(fe_dsl_ctx *ctx);

/* %syntax_error: "unexpected ..." at t, at most one per line. */
void dsl_syntax_error(fe_dsl_ctx *ctx, const dsl_token *t);

/* Tokenize and parse ctx->src into ctx->program.  0, or -1 after reporting
 * (ctx->program is then unusable). */
int dsl_parse_text(fe_dsl_ctx *ctx);

/* Syntax tree constructors, called from the grammar's actions.  All
 * allocate in ctx->arena; out of memory, they say so (dsl_nomem) and
 * return ctx->scratch. */
dsl_expr *dsl_ex_lit(fe_dsl_ctx *ctx, dsl_ex_kind k, const dsl_token *t);
dsl_expr *dsl_ex_list(fe_dsl_ctx *ctx, dsl_loc at, dsl_exprs *items);
dsl_expr *dsl_ex_neg(fe_dsl_ctx *ctx, dsl_loc at, dsl_expr *a);
dsl_expr *dsl_ex_bin(fe_dsl_ctx *ctx, dsl_loc at, int op, dsl_expr *a, dsl_expr *b);
dsl_exprs *dsl_exprs_add(fe_dsl_ctx *ctx, dsl_exprs *l, dsl_expr *e);
dsl_args *dsl_args_add(fe_dsl_ctx *ctx, dsl_args *l, const dsl_token *key, dsl_expr *val);
dsl_params *dsl_params_add(fe_dsl_ctx *ctx, dsl_params *l, const dsl_token *name, dsl_expr *dflt);
dsl_stmts *dsl_stmts_add(fe_dsl_ctx *ctx, dsl_stmts *l, dsl_stmt *s);
dsl_stmt *dsl_stmt_new(fe_dsl_ctx *ctx, dsl_st_kind k, dsl_loc at);

#endif
