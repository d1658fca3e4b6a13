/* data.c: labelled datasets (IDX and NPY) for training and evaluation. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "data.h"
#include "frontend.h"


void qgt_norm_default(qgt_norm *n)
{
	memset(n, 0, sizeof *n);
	n->scale = 1.0f / 255.0f;
	n->nmean = n->nstd = 1;
	n->mean[0] = 0.0f;
	n->std[0] = 1.0f;
}

int qgt_norm_parse_list(const char *s, float *vals, int max)
{
	int k = 0;
	const char *p = s;
	while (*p) {
		char *end;
		errno = 0;
		float v = strtof(p, &end);
		if (end == p || errno || k == max)
			return -1;
		vals[k++] = v;
		p = end;
		if (*p == ',')
			p++;
		else if (*p)
			return -1;
	}
	return k ? k : -1;
}

void qgt_dataset_free(qgt_dataset *ds)
{
	free(ds->x);
	free(ds->y);
	memset(ds, 0, sizeof *ds);
}

static bool exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Find dir/base or dir/base.gz. */
static bool find_file(char *out, size_t n, const char *dir, const char *base)
{
	snprintf(out, n, "%s/%s", dir, base);
	if (exists(out))
		return true;
	snprintf(out, n, "%s/%s.gz", dir, base);
	return exists(out);
}

/* Where IDX bytes come from: a file through zlib's gzread (which reads
 * plain files too), or a buffer in memory, inflated here when it holds
 * gzip members (concatenated members and trailing garbage as gzread). */
typedef struct idx_src {
	gzFile gz;                  /* NULL: read from mem */
	const unsigned char *mem;
	size_t len, pos;
	bool gzip;                  /* mem starts with the gzip magic */
	bool done;                  /* mem: no more gzip members */
	z_stream zs;
} idx_src;

static bool gzip_magic(const unsigned char *p, size_t n)
{
	return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/* Up to n bytes into buf: the count, 0 at the end, -1 on corrupt data. */
static int idx_src_read(idx_src *s, void *buf, unsigned n)
{
	if (s->gz)
		return gzread(s->gz, buf, n);
	if (!s->gzip) {
		size_t k = s->len - s->pos < n ? s->len - s->pos : n;
		memcpy(buf, s->mem + s->pos, k);
		s->pos += k;
		return (int)k;
	}
	s->zs.next_out = buf;
	s->zs.avail_out = n;
	while (s->zs.avail_out > 0 && !s->done) {
		s->zs.next_in = (unsigned char *)s->mem + s->pos;
		s->zs.avail_in = (uInt)(s->len - s->pos < UINT_MAX ? s->len - s->pos : UINT_MAX);
		uInt before = s->zs.avail_in;
		int r = inflate(&s->zs, Z_NO_FLUSH);
		s->pos += before - s->zs.avail_in;
		if (r == Z_STREAM_END) {
			if (!gzip_magic(s->mem + s->pos, s->len - s->pos) || inflateReset(&s->zs) != Z_OK)
				s->done = true;
		} else if (r != Z_OK) {
			if (r == Z_BUF_ERROR && s->pos == s->len)
				s->done = true; /* truncated: what came out so far is all */
			else
				return -1;
		}
	}
	return (int)(n - s->zs.avail_out);
}

/* Read an IDX file of unsigned bytes from src (`path` names it).
 * Returns malloc'd data and its dims, or NULL (reported). */
static uint8_t *idx_read(idx_src *src, const char *path, int want_rank, int64_t *dims, diag_sink *d)
{
	uint8_t *data = NULL;
	unsigned char hdr[4];
	if (idx_src_read(src, hdr, 4) != 4 || hdr[0] || hdr[1]) {
		diag_error(d, path, "not an IDX file (bad magic)");
		goto fail;
	}
	if (hdr[2] != 0x08) {
		diag_error(d, path, "IDX element type 0x%02x is not supported (only unsigned bytes)",
		           hdr[2]);
		goto fail;
	}
	if (hdr[3] != want_rank) {
		diag_error(d, path, "IDX file has %d dimensions, expected %d", hdr[3], want_rank);
		goto fail;
	}
	/* The header's counts are checked against the cap before any data is
	 * inflated, and no more than they declare is ever inflated: a small
	 * gzip bomb gets an error, not gigabytes of bytes and then of floats. */
	int64_t total = 1;
	for (int i = 0; i < want_rank; i++) {
		unsigned char b[4];
		if (idx_src_read(src, b, 4) != 4) {
			diag_error(d, path, "truncated IDX header");
			goto fail;
		}
		dims[i] = (int64_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
		if (dims[i] <= 0) {
			diag_error(d, path, "IDX dimension %d (%lld) is empty or too large", i,
			           (long long)dims[i]);
			goto fail;
		}
		if (total > QGT_DATA_MAX_VALUES / dims[i]) {
			char shp[96];
			int k = 0;
			for (int j = 0; j <= i && k < (int)sizeof shp; j++)
				k += snprintf(shp + k, sizeof shp - (size_t)k, "%s%lld", j ? " x " : "",
				              (long long)dims[j]);
			diag_error(d, path,
			           "IDX header declares more than %lld values (%s%s); a data set holds at most "
			           "%lld (%lld MiB as floats)",
			           (long long)QGT_DATA_MAX_VALUES, shp, i + 1 < want_rank ? " x ..." : "",
			           (long long)QGT_DATA_MAX_VALUES, (long long)(QGT_DATA_MAX_VALUES * 4 >> 20));
			goto fail;
		}
		total *= dims[i];
	}
	data = malloc((size_t)total);
	if (!data) {
		diag_error(d, path, "out of memory for %lld bytes", (long long)total);
		goto fail;
	}
	int64_t got = 0;
	while (got < total) {
		unsigned chunk = total - got > (1 << 30) ? 1u << 30 : (unsigned)(total - got);
		int r = idx_src_read(src, data + got, chunk);
		if (r <= 0)
			break;
		got += r;
	}
	if (got != total) {
		diag_error(d, path, "truncated IDX data: %lld of %lld bytes", (long long)got,
		           (long long)total);
		goto fail;
	}
	return data;
fail:
	free(data);
	return NULL;
}

static uint8_t *idx_read_file(const char *path, int want_rank, int64_t *dims, diag_sink *d)
{
	idx_src src = {.gz = gzopen(path, "rb")};
	if (!src.gz) {
		diag_error(d, path, "cannot open: %s", strerror(errno));
		return NULL;
	}
	uint8_t *data = idx_read(&src, path, want_rank, dims, d);
	gzclose(src.gz);
	return data;
}

static uint8_t *idx_read_buffer(const void *buf, size_t len, const char *name, int want_rank,
                                int64_t *dims, diag_sink *d)
{
	idx_src src = {.mem = buf, .len = len, .gzip = gzip_magic(buf, len)};
	if (src.gzip && inflateInit2(&src.zs, 15 + 16) != Z_OK) {
		diag_error(d, name, "out of memory");
		return NULL;
	}
	uint8_t *data = idx_read(&src, name, want_rank, dims, d);
	if (src.gzip)
		inflateEnd(&src.zs);
	return data;
}

/* Normalise raw values into ds->x; `get(k)` reads raw element k. */
static void normalise(qgt_dataset *ds, const qgt_norm *nm, const void *raw, ir_dtype dt)
{
	int64_t per = ds->sample_numel;
	int64_t ch = ds->sample.rank >= 3 ? ds->sample.d[0] : 1;
	int64_t plane = per / (ch ? ch : 1);
	for (int64_t i = 0; i < ds->n * per; i++) {
		double v = dt == IR_DT_U8 ? ((const uint8_t *)raw)[i] : ((const float *)raw)[i];
		int c = (int)((i % per) / plane);
		float mean = nm->mean[nm->nmean > 1 ? c : 0];
		float sd = nm->std[nm->nstd > 1 ? c : 0];
		ds->x[i] = (float)((v * nm->scale - mean) / sd);
	}
}

static int check_norm(const qgt_dataset *ds, const qgt_norm *nm, const char *dir, diag_sink *d)
{
	int64_t ch = ds->sample.rank >= 3 ? ds->sample.d[0] : 1;
	if ((nm->nmean > 1 && nm->nmean != ch) || (nm->nstd > 1 && nm->nstd != ch)) {
		diag_error(d, dir, "--mean/--std give %d/%d values but samples have %lld channels",
		           nm->nmean, nm->nstd, (long long)ch);
		return -1;
	}
	for (int i = 0; i < nm->nstd; i++)
		if (nm->std[i] == 0.0f) {
			diag_error(d, dir, "--std must not be zero");
			return -1;
		}
	return 0;
}

/* Images x[xd] from ximg and labels y[yd] from ylab into ds; frees x and y. */
static int load_idx(qgt_dataset *ds, const char *dir, const qgt_norm *nm, diag_sink *d,
                    const char *ximg, uint8_t *x, const int64_t *xd, const char *ylab, uint8_t *y,
                    const int64_t *yd)
{
	int rc = -1;
	if (xd[0] != yd[0]) {
		diag_error(d, ylab, "%lld labels for %lld images in %s", (long long)yd[0],
		           (long long)xd[0], ximg);
		goto out;
	}
	ds->n = xd[0];
	int64_t sd[3] = {1, xd[1], xd[2]};
	ds->sample = ir_shape_make(3, sd);
	ds->sample_numel = xd[1] * xd[2];
	if (check_norm(ds, nm, dir, d))
		goto out;
	ds->x = malloc(sizeof(float) * (size_t)(ds->n * ds->sample_numel));
	ds->y = malloc(sizeof(int32_t) * (size_t)ds->n);
	if (!ds->x || !ds->y) {
		diag_error(d, dir, "out of memory");
		goto out;
	}
	normalise(ds, nm, x, IR_DT_U8);
	for (int64_t i = 0; i < ds->n; i++) {
		ds->y[i] = y[i];
		if (y[i] + 1 > ds->nclasses)
			ds->nclasses = y[i] + 1;
	}
	rc = 0;
out:
	free(x);
	free(y);
	return rc;
}

static int load_npy(qgt_dataset *ds, const char *dir, const qgt_norm *nm, diag_sink *d,
                    const char *xp, const char *yp)
{
	ir_tensor x = {0}, y = {0};
	int rc = -1;
	if (fe_npy_load(xp, &x, d) || fe_npy_load(yp, &y, d))
		goto out;
	if (x.dt != IR_DT_U8 && x.dt != IR_DT_F32) {
		diag_error(d, xp, "samples must be uint8 or float32, not %s", ir_dtype_name(x.dt));
		goto out;
	}
	if (x.shape.rank < 2 || x.shape.rank > 4) {
		diag_error(d, xp, "samples must have rank 2..4 (N, ...), not %d", x.shape.rank);
		goto out;
	}
	int64_t ny = ir_shape_numel(&y.shape);
	if (y.shape.rank != 1 || ny != x.shape.d[0]) {
		diag_error(d, yp, "labels must be a vector of %lld entries", (long long)x.shape.d[0]);
		goto out;
	}
	if (y.dt != IR_DT_U8 && y.dt != IR_DT_I32 && y.dt != IR_DT_I64) {
		diag_error(d, yp, "labels must be integers (uint8, int32 or int64), not %s",
		           ir_dtype_name(y.dt));
		goto out;
	}
	ds->n = x.shape.d[0];
	if (x.shape.rank == 3) {
		int64_t sd[3] = {1, x.shape.d[1], x.shape.d[2]};
		ds->sample = ir_shape_make(3, sd);
	} else {
		ds->sample = ir_shape_make(x.shape.rank - 1, x.shape.d + 1);
	}
	ds->sample_numel = ir_shape_numel(&ds->sample);
	if (check_norm(ds, nm, dir, d))
		goto out;
	ds->x = malloc(sizeof(float) * (size_t)(ds->n * ds->sample_numel));
	ds->y = malloc(sizeof(int32_t) * (size_t)ds->n);
	if (!ds->x || !ds->y) {
		diag_error(d, dir, "out of memory");
		goto out;
	}
	normalise(ds, nm, x.data, x.dt);
	for (int64_t i = 0; i < ds->n; i++) {
		int64_t v = y.dt == IR_DT_I64   ? ((int64_t *)y.data)[i]
		            : y.dt == IR_DT_I32 ? ((int32_t *)y.data)[i]
		                                : ((uint8_t *)y.data)[i];
		if (v < 0 || v > 65535) {
			diag_error(d, yp, "label %lld is %lld: labels must be integers in 0..65535",
			           (long long)i, (long long)v);
			goto out;
		}
		ds->y[i] = (int32_t)v;
		if (ds->y[i] + 1 > ds->nclasses)
			ds->nclasses = ds->y[i] + 1;
	}
	rc = 0;
out:
	ir_tensor_free(&x);
	ir_tensor_free(&y);
	return rc;
}

int qgt_dataset_load(qgt_dataset *ds, const char *dir, qgt_split split, const qgt_norm *norm,
                     diag_sink *d)
{
	memset(ds, 0, sizeof *ds);
	qgt_norm dflt;
	if (!norm) {
		qgt_norm_default(&dflt);
		norm = &dflt;
	}
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		diag_error(d, dir, "data directory not found");
		return -1;
	}
	char xp[4096], yp[4096];
	const char *pre = split == QGT_SPLIT_TRAIN ? "train" : "t10k";
	char xb[64], yb[64];
	snprintf(xb, sizeof xb, "%s-images-idx3-ubyte", pre);
	snprintf(yb, sizeof yb, "%s-labels-idx1-ubyte", pre);
	/* A failed load holds nothing: the caller has nothing to free. */
	if (find_file(xp, sizeof xp, dir, xb) && find_file(yp, sizeof yp, dir, yb)) {
		int64_t xd[3], yd[1];
		uint8_t *x = idx_read_file(xp, 3, xd, d);
		uint8_t *y = x ? idx_read_file(yp, 1, yd, d) : NULL;
		if (!y) {
			free(x);
			return -1;
		}
		if (load_idx(ds, dir, norm, d, xp, x, xd, yp, y, yd) == 0)
			return 0;
		qgt_dataset_free(ds);
		return -1;
	}
	pre = split == QGT_SPLIT_TRAIN ? "train" : "test";
	snprintf(xp, sizeof xp, "%s/%s_x.npy", dir, pre);
	snprintf(yp, sizeof yp, "%s/%s_y.npy", dir, pre);
	if (exists(xp) && exists(yp)) {
		if (load_npy(ds, dir, norm, d, xp, yp) == 0)
			return 0;
		qgt_dataset_free(ds);
		return -1;
	}
	diag_error(d, dir,
	           "no %s split found: expected %s-images-idx3-ubyte[.gz] and %s-labels-idx1-ubyte[.gz], "
	           "or %s_x.npy and %s_y.npy",
	           split == QGT_SPLIT_TRAIN ? "training" : "test",
	           split == QGT_SPLIT_TRAIN ? "train" : "t10k",
	           split == QGT_SPLIT_TRAIN ? "train" : "t10k", pre, pre);
	return -1;
}

int qgt_dataset_load_idx_buffers(qgt_dataset *ds, const void *img, size_t nimg, const char *img_name,
                                 const void *lab, size_t nlab, const char *lab_name,
                                 const qgt_norm *norm, diag_sink *d)
{
	memset(ds, 0, sizeof *ds);
	qgt_norm dflt;
	if (!norm) {
		qgt_norm_default(&dflt);
		norm = &dflt;
	}
	int64_t xd[3], yd[1];
	uint8_t *x = idx_read_buffer(img, nimg, img_name, 3, xd, d);
	uint8_t *y = x ? idx_read_buffer(lab, nlab, lab_name, 1, yd, d) : NULL;
	if (!y) {
		free(x);
		return -1;
	}
	if (load_idx(ds, img_name, norm, d, img_name, x, xd, lab_name, y, yd) == 0)
		return 0;
	qgt_dataset_free(ds);
	return -1;
}
