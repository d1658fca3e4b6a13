/* npy.c: NumPy .npy tensors in and out.  STUB: being written. */
#include "frontend.h"

int fe_npy_load(const char *path, ir_tensor *t, diag_sink *d)
{
	(void)t;
	diag_error(d, path, "not implemented yet");
	return -1;
}

int fe_npy_save(const char *path, const ir_tensor *t, diag_sink *d)
{
	(void)t;
	diag_error(d, path, "not implemented yet");
	return -1;
}
