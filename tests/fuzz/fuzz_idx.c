/* fuzz_idx.c: an IDX images file and an IDX labels file (each gzipped or
 * not) -> qgt_dataset_load_idx_buffers.  The input is the images file's
 * length as 4 little-endian bytes, the images file, then the labels file. */
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	size_t k = (size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16 |
	           (size_t)data[3] << 24;
	data += 4;
	size -= 4;
	if (k > size)
		k = size;
	/* two exact-size copies, so ASan sees a read past either file's end */
	uint8_t *img = malloc(k ? k : 1), *lab = malloc(size - k ? size - k : 1);
	if (!img || !lab)
		abort();
	memcpy(img, data, k);
	memcpy(lab, data + k, size - k);
	diag_sink d;
	diag_sink_init_capture(&d);
	qgt_dataset ds;
	if (qgt_dataset_load_idx_buffers(&ds, img, k, "fuzz-images", lab, size - k, "fuzz-labels", NULL,
	                                 &d) == 0) {
		if (ds.n <= 0 || ds.sample_numel <= 0 || ds.nclasses <= 0)
			abort();
		volatile float sum = 0;
		for (int64_t i = 0; i < ds.n * ds.sample_numel; i++)
			sum += ds.x[i];
		qgt_dataset_free(&ds);
	} else if (d.nerr == 0 || ds.x || ds.y) {
		abort(); /* a failure is reported and leaves nothing */
	}
	fuzz_done(&d, "idx");
	free(img);
	free(lab);
	return 0;
}
