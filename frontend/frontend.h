/* frontend.h: turning model and tensor files into IR.  All format and
 * op-version quirks live behind this header. */
#ifndef QGTC_FRONTEND_H
#define QGTC_FRONTEND_H

#include "ir.h"

#define FE_MAX_FILE_BYTES ((int64_t)2 << 30)  /* cap on any file we read */
/* Cap on what unpacking an ONNX protobuf of len bytes may allocate (every
 * message struct, array, string and bytes field): a real model takes
 * about its size (raw_data is copied once), while a file of empty
 * submessages (2 bytes each, ~100 in memory) or packed one-byte varints
 * (8 in memory as int64) would take many times that. */
#define FE_ONNX_MAX_UNPACK_BYTES(len) (((uint64_t)64 << 20) + 4 * (uint64_t)(len))

/* Load an ONNX ModelProto from `path` into a new graph (caller owns,
 * ir_graph_destroy).  Unsupported ops/attributes/dtypes are all reported,
 * one diagnostic per node, before returning NULL.  The graph comes back
 * toposorted, with g->src_file = path and each node's src_index/src_op
 * set, shapes of graph inputs and constants set, computed values' shapes
 * unknown (rank -1) until shape inference. */
ir_graph *fe_onnx_load(const char *path, diag_sink *d);
/* Same from memory; `diag_name` names the model in messages and
 * `model_dir` (may be NULL: no external data allowed) is where
 * external_data files are resolved. */
ir_graph *fe_onnx_load_buffer(const void *buf, size_t len, const char *diag_name,
                              const char *model_dir, diag_sink *d);

/* Read a serialized ONNX TensorProto (.pb) into t (data malloc'd; free
 * with ir_tensor_free).  0 or -1 (reported, naming the file). */
int fe_onnx_load_tensor(const char *path, ir_tensor *t, diag_sink *d);

/* NumPy .npy (format 1.0/2.0/3.0, little-endian, C order): '<f4', '|i1',
 * '|u1', '<i4', '<i8', '|b1'; '<f8' is narrowed to f32.  Zero-element
 * arrays come back with data == NULL. */
int fe_npy_load(const char *path, ir_tensor *t, diag_sink *d);
/* Same from len bytes at buf; `diag_name` names them in messages. */
int fe_npy_load_buffer(const void *buf, size_t len, const char *diag_name, ir_tensor *t,
                       diag_sink *d);
/* Write t as .npy; the file appears only when complete (temp + rename). */
int fe_npy_save(const char *path, const ir_tensor *t, diag_sink *d);

#endif
