/* dsl.y: Lemon grammar of the qgtc model DSL (.qgm), after SQLite's
 * parse.y.  The tokenizer (dsl_lex.c) pushes tokens; the actions only
 * build the syntax tree (dsl_internal.h), which dsl.c evaluates into IR.
 * Every statement ends with NL; a statement with a syntax error is
 * skipped up to its NL so one run reports the errors of every line.
 * The generated parser is a build product (dsl_build.cmake). */

%name fe_dsl_parse
%token_prefix TK_
%extra_context {fe_dsl_ctx *ctx}
%token_type {dsl_token}
%stack_size 2000
%start_symbol program

%include {
#include <assert.h>
#include <string.h>

#include "dsl_internal.h"
}

%syntax_error {
	dsl_syntax_error(ctx, &TOKEN);
}

%stack_overflow {
	if (ctx->err_line != ctx->at.line)
		dsl_error(ctx, ctx->at, "model text is nested too deeply");
	ctx->err_line = ctx->at.line;
	ctx->stop = true;
}

%parse_failure {
	/* The stack emptied while recovering: already reported. */
	(void)ctx;
}

/* Token codes, in a fixed order (dsl_lex.c maps keywords onto them). */
%token NL IDENT INT FLOAT STRING
       MODEL WEIGHTS INPUT OUTPUT CONST BLOCK REPEAT AS
       LPAREN RPAREN LBRACKET RBRACKET LBRACE RBRACE
       COMMA COLON EQ ARROW.

%left PLUS MINUS.
%left STAR SLASH.
%right UMINUS.

/* Every syntax tree piece lives in ctx->arena and is freed with it, so
 * a discarded piece needs no freeing; the destructors say so. */
%type stmts {dsl_stmts *}
%destructor stmts { (void)ctx; (void)$$; }
%type stmt {dsl_stmt *}
%destructor stmt { (void)ctx; (void)$$; }
%type call {dsl_stmt *}
%destructor call { (void)ctx; (void)$$; }
%type body {dsl_stmts *}
%destructor body { (void)ctx; (void)$$; }
%type args {dsl_args *}
%destructor args { (void)ctx; (void)$$; }
%type arglist {dsl_args *}
%destructor arglist { (void)ctx; (void)$$; }
%type params {dsl_params *}
%destructor params { (void)ctx; (void)$$; }
%type paramlist {dsl_params *}
%destructor paramlist { (void)ctx; (void)$$; }
%type exprs {dsl_exprs *}
%destructor exprs { (void)ctx; (void)$$; }
%type exprlist {dsl_exprs *}
%destructor exprlist { (void)ctx; (void)$$; }
%type expr {dsl_expr *}
%destructor expr { (void)ctx; (void)$$; }
%type rename {dsl_token}

program ::= stmts(S).                      { ctx->program = S; }

stmts(A) ::= .                             { A = dsl_stmts_add(ctx, NULL, NULL); }
stmts(A) ::= stmts(B) NL.                  { A = B; }
stmts(A) ::= stmts(B) stmt(S) NL.          { A = dsl_stmts_add(ctx, B, S); }
/* Recovery: drop the bad statement, report the next error again. */
stmts(A) ::= stmts(B) error NL.            { A = B; yypParser->yyerrcnt = -1; }

body(A) ::= LBRACE stmts(S) RBRACE.               { A = S; }
body(A) ::= LBRACE stmts(S) stmt(T) RBRACE.       { A = dsl_stmts_add(ctx, S, T); }

/* ---------------------------------------------------------- statements */

stmt(A) ::= MODEL(T) IDENT(N). {
	A = dsl_stmt_new(ctx, DSL_ST_MODEL, T.loc);
	A->name = N.s; A->name_loc = N.loc;
	A->args = dsl_args_add(ctx, NULL, NULL, NULL);
}
stmt(A) ::= MODEL(T) IDENT(N) LPAREN args(G) RPAREN. {
	A = dsl_stmt_new(ctx, DSL_ST_MODEL, T.loc);
	A->name = N.s; A->name_loc = N.loc; A->args = G;
}
stmt(A) ::= WEIGHTS(T) STRING(P). {
	A = dsl_stmt_new(ctx, DSL_ST_WEIGHTS, T.loc);
	A->path = P.s; A->name_loc = P.loc;
}
stmt(A) ::= INPUT(T) IDENT(N) COLON IDENT(D) LBRACKET exprs(L) RBRACKET. {
	A = dsl_stmt_new(ctx, DSL_ST_INPUT, T.loc);
	A->name = N.s; A->name_loc = N.loc;
	A->dtype = D.s; A->dtype_loc = D.loc; A->dims = L;
}
stmt(A) ::= CONST(T) IDENT(N) EQ expr(E). {
	A = dsl_stmt_new(ctx, DSL_ST_CONST, T.loc);
	A->name = N.s; A->name_loc = N.loc; A->value = E;
}
stmt(A) ::= BLOCK(T) IDENT(N) LPAREN params(P) RPAREN body(B). {
	A = dsl_stmt_new(ctx, DSL_ST_BLOCK, T.loc);
	A->name = N.s; A->name_loc = N.loc; A->params = P; A->body = B;
}
stmt(A) ::= BLOCK(T) IDENT(N) body(B). {
	A = dsl_stmt_new(ctx, DSL_ST_BLOCK, T.loc);
	A->name = N.s; A->name_loc = N.loc;
	A->params = dsl_params_add(ctx, NULL, NULL, NULL); A->body = B;
}
stmt(A) ::= REPEAT(T) expr(E) body(B). {
	A = dsl_stmt_new(ctx, DSL_ST_REPEAT, T.loc);
	A->value = E; A->body = B;
}
stmt(A) ::= OUTPUT(T). {
	A = dsl_stmt_new(ctx, DSL_ST_OUTPUT, T.loc);
}
stmt(A) ::= OUTPUT(T) IDENT(N). {
	A = dsl_stmt_new(ctx, DSL_ST_OUTPUT, T.loc);
	A->name = N.s; A->name_loc = N.loc;
}
stmt(A) ::= OUTPUT(T) IDENT(N) AS IDENT(M). {
	A = dsl_stmt_new(ctx, DSL_ST_OUTPUT, T.loc);
	A->name = N.s; A->name_loc = N.loc; A->as = M.s; A->as_loc = M.loc;
}
stmt(A) ::= OUTPUT(T) AS IDENT(M). {
	A = dsl_stmt_new(ctx, DSL_ST_OUTPUT, T.loc);
	A->as = M.s; A->as_loc = M.loc;
}
/* A layer or block applied to the current tensor, optionally named. */
stmt(A) ::= call(C) rename(R).             { A = C; A->as = R.s; A->as_loc = R.loc; }
stmt(A) ::= IDENT(N) EQ call(C) rename(R). {
	A = C; A->as = R.s; A->as_loc = R.loc;
	A->name = N.s; A->name_loc = N.loc; A->loc = N.loc;
}

call(A) ::= IDENT(N). {
	A = dsl_stmt_new(ctx, DSL_ST_LAYER, N.loc);
	A->callee = N.s; A->callee_loc = N.loc;
	A->args = dsl_args_add(ctx, NULL, NULL, NULL);
}
call(A) ::= IDENT(N) LPAREN args(G) RPAREN. {
	A = dsl_stmt_new(ctx, DSL_ST_LAYER, N.loc);
	A->callee = N.s; A->callee_loc = N.loc; A->parens = true; A->args = G;
}

rename(A) ::= .                            { memset(&A, 0, sizeof A); }
rename(A) ::= ARROW IDENT(N).              { A = N; }
rename(A) ::= ARROW STRING(N).             { A = N; }

/* ----------------------------------------------------------- arguments */

args(A) ::= .                              { A = dsl_args_add(ctx, NULL, NULL, NULL); }
args(A) ::= arglist(L).                    { A = L; }
args(A) ::= arglist(L) COMMA.              { A = L; }
arglist(A) ::= expr(E).                    { A = dsl_args_add(ctx, NULL, NULL, E); }
arglist(A) ::= IDENT(K) EQ expr(E).        { A = dsl_args_add(ctx, NULL, &K, E); }
arglist(A) ::= arglist(L) COMMA expr(E).   { A = dsl_args_add(ctx, L, NULL, E); }
arglist(A) ::= arglist(L) COMMA IDENT(K) EQ expr(E). { A = dsl_args_add(ctx, L, &K, E); }

params(A) ::= .                            { A = dsl_params_add(ctx, NULL, NULL, NULL); }
params(A) ::= paramlist(L).                { A = L; }
paramlist(A) ::= IDENT(N).                 { A = dsl_params_add(ctx, NULL, &N, NULL); }
paramlist(A) ::= IDENT(N) EQ expr(E).      { A = dsl_params_add(ctx, NULL, &N, E); }
paramlist(A) ::= paramlist(L) COMMA IDENT(N).           { A = dsl_params_add(ctx, L, &N, NULL); }
paramlist(A) ::= paramlist(L) COMMA IDENT(N) EQ expr(E). { A = dsl_params_add(ctx, L, &N, E); }

/* --------------------------------------------------------- expressions */

exprs(A) ::= .                             { A = dsl_exprs_add(ctx, NULL, NULL); }
exprs(A) ::= exprlist(L).                  { A = L; }
exprs(A) ::= exprlist(L) COMMA.            { A = L; }
exprlist(A) ::= expr(E).                   { A = dsl_exprs_add(ctx, NULL, E); }
exprlist(A) ::= exprlist(L) COMMA expr(E). { A = dsl_exprs_add(ctx, L, E); }

expr(A) ::= INT(T).                        { A = dsl_ex_lit(ctx, DSL_EX_INT, &T); }
expr(A) ::= FLOAT(T).                      { A = dsl_ex_lit(ctx, DSL_EX_FLOAT, &T); }
expr(A) ::= STRING(T).                     { A = dsl_ex_lit(ctx, DSL_EX_STR, &T); }
expr(A) ::= IDENT(T).                      { A = dsl_ex_lit(ctx, DSL_EX_NAME, &T); }
expr(A) ::= LBRACKET(T) exprs(L) RBRACKET. { A = dsl_ex_list(ctx, T.loc, L); }
expr(A) ::= LPAREN expr(E) RPAREN.         { A = E; }
expr(A) ::= MINUS(T) expr(E). [UMINUS]     { A = dsl_ex_neg(ctx, T.loc, E); }
expr(A) ::= expr(X) PLUS(T) expr(Y).       { A = dsl_ex_bin(ctx, T.loc, '+', X, Y); }
expr(A) ::= expr(X) MINUS(T) expr(Y).      { A = dsl_ex_bin(ctx, T.loc, '-', X, Y); }
expr(A) ::= expr(X) STAR(T) expr(Y).       { A = dsl_ex_bin(ctx, T.loc, '*', X, Y); }
expr(A) ::= expr(X) SLASH(T) expr(Y).      { A = dsl_ex_bin(ctx, T.loc, '/', X, Y); }
