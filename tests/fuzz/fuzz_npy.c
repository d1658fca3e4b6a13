/* fuzz_npy.c: .npy bytes -> fe_npy_load_buffer.  A tensor that loads has
 * the element count its shape says, all of it readable. */
#include <stdlib.h>

#include "frontend.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_tensor t;
	if (fe_npy_load_buffer(data, size, "fuzz.npy", &t, &d) == 0) {
		int64_t n = ir_shape_numel(&t.shape);
		size_t bytes = (size_t)n * ir_dtype_size(t.dt);
		if (n < 0 || (n > 0 && !t.data))
			abort();
		volatile uint8_t sum = 0;
		for (size_t i = 0; i < bytes; i++)
			sum ^= ((const uint8_t *)t.data)[i];
		ir_tensor_free(&t);
	} else if (d.nerr == 0) {
		abort(); /* a failure is reported */
	}
	fuzz_done(&d, "npy");
	return 0;
}
