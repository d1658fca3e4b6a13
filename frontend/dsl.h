/* dsl.h: the qgtc model DSL (.qgm files), a small language for writing
 * networks by hand.  The language is described in frontend/DSL.md. */
#ifndef QGTC_DSL_H
#define QGTC_DSL_H

#include <stddef.h>

#include "ir.h"

/* Read a .qgm model from `path` into a new graph (caller owns,
 * ir_graph_destroy).  The graph comes back toposorted, with shapes
 * inferred (batch may stay symbolic), weights initialised or loaded, and
 * g->src_file = path.  Errors read "FILE:LINE:COL: error: ..." followed by
 * the source line and a caret, as many as one run can find; NULL after
 * reporting them. */
ir_graph *fe_dsl_load(const char *path, diag_sink *d);

/* Same from memory.  `diag_name` names the text in messages; `base_dir`
 * (NULL: the current directory) is where weight files named by the model
 * are resolved.  The text may contain NUL bytes (they are reported). */
ir_graph *fe_dsl_load_buffer(const char *text, size_t len, const char *diag_name,
                             const char *base_dir, diag_sink *d);

#endif
