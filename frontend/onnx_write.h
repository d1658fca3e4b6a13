/* onnx_write.h: writing an IR graph back as an ONNX ModelProto (what
 * `qgtc train --save-onnx` produces), loadable by onnx and ONNX Runtime. */
#ifndef QGTC_FE_ONNX_WRITE_H
#define QGTC_FE_ONNX_WRITE_H

#include "ir.h"

/* Write g to `path` at ai.onnx opset 13 (raised where an op needs a later
 * one: HardSwish, Reshape allowzero, ...).  Constants become initializers
 * with raw_data; a symbolic batch dim becomes dim_param "batch".  Every op
 * or attribute that has no ONNX spelling is reported, all in one go.  The
 * file appears only when complete (temp + rename).  0 or -1. */
int fe_onnx_write(const ir_graph *g, const char *path, diag_sink *d);

/* The same into a malloc'd buffer (caller frees).  0 or -1. */
int fe_onnx_write_buffer(const ir_graph *g, void **buf, size_t *len, diag_sink *d);

#endif
