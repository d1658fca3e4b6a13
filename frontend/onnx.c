/* onnx.c: ONNX ModelProto -> IR.  STUB: being written. */
#include "frontend.h"

ir_graph *fe_onnx_load_buffer(const void *buf, size_t len, const char *diag_name,
                              const char *model_dir, diag_sink *d)
{
	(void)buf; (void)len; (void)model_dir;
	diag_error(d, diag_name, "ONNX loading not implemented yet");
	return NULL;
}

ir_graph *fe_onnx_load(const char *path, diag_sink *d)
{
	diag_error(d, path, "ONNX loading not implemented yet");
	return NULL;
}

int fe_onnx_load_tensor(const char *path, ir_tensor *t, diag_sink *d)
{
	(void)t;
	diag_error(d, path, "not implemented yet");
	return -1;
}
