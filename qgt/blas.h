/* blas.h: the trainer's one BLAS routine, sgemm, from OpenBLAS opened on
 * first use (blas.c). */
#ifndef QGTC_QGT_BLAS_H
#define QGTC_QGT_BLAS_H

#include <cblas.h>

#include "ir.h"

/* Open OpenBLAS single-threaded and set qgt_sgemm (once; thread-unsafe:
 * call it before starting workers).  0, or -1 reported. */
int qgt_blas_open(diag_sink *d);

/* cblas_sgemm, valid after qgt_blas_open. */
extern __typeof__(cblas_sgemm) *qgt_sgemm;

#endif
