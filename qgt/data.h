/* data.h: labelled datasets for training and evaluation: IDX files (the
 * MNIST layout, gzipped or not) and NPY pairs, with input normalisation
 * x = (pixel * scale - mean) / std. */
#ifndef QGTC_QGT_DATA_H
#define QGTC_QGT_DATA_H

#include "ir.h"

/* Cap on the values of one loaded data set (samples x sample size):
 * 1 GiB as floats.  An IDX header declaring more is refused before its
 * data is inflated. */
#define QGT_DATA_MAX_VALUES ((int64_t)1 << 28)

typedef struct qgt_norm {
	float scale;                /* multiplies raw pixel values first */
	int nmean, nstd;            /* 1, or one per channel */
	float mean[16], std[16];
} qgt_norm;

typedef struct qgt_dataset {
	int64_t n;                  /* samples */
	ir_shape sample;            /* shape of one sample, e.g. [1,28,28] */
	int64_t sample_numel;
	float *x;                   /* n * sample_numel, normalised */
	int32_t *y;                 /* n labels */
	int nclasses;               /* max label + 1 */
} qgt_dataset;

typedef enum { QGT_SPLIT_TRAIN, QGT_SPLIT_TEST } qgt_split;

/* Defaults: scale 1/255, mean 0, std 1. */
void qgt_norm_default(qgt_norm *n);
/* Parse "0.5" or "0.485,0.456,0.406" into vals (max 16).  Count or -1. */
int qgt_norm_parse_list(const char *s, float *vals, int max);

/* Load split from dir: IDX files ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz])
 * or NPY pairs ({train,test}_{x,y}.npy).  Images of rank 2 get a channel
 * dim ([28,28] -> [1,28,28]).  0 (free ds with qgt_dataset_free), or -1
 * with the file and problem reported and ds holding nothing. */
int qgt_dataset_load(qgt_dataset *ds, const char *dir, qgt_split split, const qgt_norm *norm,
                     diag_sink *d);
/* The same from the bytes of an IDX images file (rank 3) and an IDX
 * labels file (rank 1), each gzipped or not; img_name and lab_name name
 * them in messages. */
int qgt_dataset_load_idx_buffers(qgt_dataset *ds, const void *img, size_t nimg, const char *img_name,
                                 const void *lab, size_t nlab, const char *lab_name,
                                 const qgt_norm *norm, diag_sink *d);
void qgt_dataset_free(qgt_dataset *ds);

#endif
