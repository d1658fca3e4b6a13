/* memplan.h: static memory planning.  One plan per graph: which values live
 * in the caller's scratch arena, at which offset, and for how long.  The
 * backend's generated code, the header's ARENA_SIZE and `--report memory`
 * all read this one plan. */
#ifndef QGTC_MEMPLAN_H
#define QGTC_MEMPLAN_H

#include "ir.h"
#include "pass.h"

#define PASS_MEMPLAN_ALIGN 16 /* every arena offset is a multiple of this */

/* Where a value's bytes live at run time. */
typedef enum {
	MP_NONE = 0,  /* not needed at run time (dead, or a compile-time operand) */
	MP_CONST,     /* constant data (the backend emits it as .rodata) */
	MP_INPUT,     /* the caller's inputs[k] */
	MP_OUTPUT,    /* the caller's outputs[k] */
	MP_ARENA,     /* the arena, at `offset` */
} pass_mp_kind;

typedef struct pass_mp_value {
	pass_mp_kind kind;
	int index;            /* MP_INPUT/MP_OUTPUT: position k in g->inputs/outputs */
	int64_t offset;       /* MP_ARENA: byte offset in the arena */
	int64_t bytes;        /* storage size (numel * dtype size) */
	int alias;            /* id of the value whose storage this one shares, or -1 */
	int def, last;        /* node positions (in g->nodes order) of the definition and
	                       * last use of the storage; -1 when not in the arena */
	bool in_place;        /* shares an input's storage because the op ran in place */
	int64_t sub;          /* MP_ARENA: its bytes' offset in its buffer (an in-place
	                       * depthwise conv writes below its operand) */
	int64_t span;         /* MP_ARENA, a buffer's own value: the buffer's bytes */
} pass_mp_value;

typedef struct pass_mem_plan {
	int nvalues;          /* == g->nvalues when computed */
	pass_mp_value *v;     /* indexed by value id; caller-owned via the plan */
	int64_t arena_size;   /* bytes, a multiple of PASS_MEMPLAN_ALIGN */
	int64_t lower_bound;  /* max over nodes of the bytes live across that node */
} pass_mem_plan;

/* Plan g (toposorted, shapes known).  Graph inputs and outputs live in the
 * caller's buffers; views alias their operand unless they are graph
 * outputs; elementwise ops run in place when their operand dies there, and
 * so do integer depthwise convs, one output plane below their operand.
 * Returns a plan the caller frees with pass_memplan_destroy, or NULL after
 * reporting. */
pass_mem_plan *pass_memplan_compute(ir_graph *g, diag_sink *d);
void pass_memplan_destroy(pass_mem_plan *p);

/* `--report memory`: each arena tensor's offset, size and lifetime, then
 * the arena size and the lower bound. */
void pass_memplan_report(FILE *f, const ir_graph *g, const pass_mem_plan *p);

/* The bytes of arena buffers live across node position pos (the pos-th
 * live node of g->nodes). */
int64_t pass_memplan_live_at(const pass_mem_plan *p, int pos);

/* `--report memory`'s per-layer table: each node's op, output shape and
 * the arena bytes live across it, the peak marked. */
void pass_memplan_layers(FILE *f, const ir_graph *g, const pass_mem_plan *p);

/* The registry entry "memplan": checks that a plan can be made (the
 * backend recomputes the same plan deterministically). */
int pass_memplan(ir_graph *g, const pass_options *o, diag_sink *d);

#endif
