/* blas.c: OpenBLAS's sgemm, opened when the trainer first needs it.
 *
 * Linked in, Debian's libopenblas (the pthread build) starts its thread
 * pool in a library constructor, before main: a thread per further core,
 * each spinning in sched_yield for about 0.1 s.  Every qgtc run paid for
 * it, `qgtc --version` and a compile included (0.07 s of CPU on two
 * cores), though only training multiplies matrices, and single-threaded
 * inside its own pool.  So the library is opened here, with
 * OPENBLAS_NUM_THREADS=1 in the environment it reads at start-up. */
#include <dlfcn.h>
#include <stdlib.h>

#include "blas.h"

__typeof__(cblas_sgemm) *qgt_sgemm;

int qgt_blas_open(diag_sink *d)
{
	if (qgt_sgemm)
		return 0;
	static const char *const names[] = {"libopenblas.so.0", "libopenblas.so"};
	setenv("OPENBLAS_NUM_THREADS", "1", 1);
	const char *why = "not found";
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			const char *e = dlerror();
			why = e ? e : why;
			continue;
		}
		void *fn = dlsym(h, "cblas_sgemm");
		if (fn) {
			/* object to function pointer: POSIX dlsym's documented use */
			*(void **)&qgt_sgemm = fn;
			return 0;
		}
		why = "it has no cblas_sgemm";
		dlclose(h);
	}
	diag_error(d, NULL, "training needs OpenBLAS (libopenblas.so.0): %s; install libopenblas0", why);
	return -1;
}
