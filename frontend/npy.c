/* npy.c: NumPy .npy tensors in and out (format 1.0, 2.0, 3.0; C order;
 * little-endian).  '<f8' is read and narrowed to f32, since the IR has no
 * f64, and '<f2' widened to f32 (exactly); every other descr maps to its
 * own IR dtype. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend.h"

#define NPY_MAX_HEADER 65536 /* numpy itself refuses headers over 10000 */

static const struct {
	const char *descr;
	ir_dtype dt;
} npy_types[] = {
	{"<f4", IR_DT_F32}, {"|i1", IR_DT_I8},  {"<i1", IR_DT_I8},  {"|u1", IR_DT_U8},
	{"<u1", IR_DT_U8},  {"<i4", IR_DT_I32}, {"<i8", IR_DT_I64}, {"|b1", IR_DT_BOOL},
	{"<b1", IR_DT_BOOL}, {"<i2", IR_DT_I16}, {"<u2", IR_DT_U16},
};

/* ------------------------------------------------------ header parser */

typedef struct {
	const char *p, *end;
} hdr_cur;

static void skip_ws(hdr_cur *h)
{
	while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
		h->p++;
}

static bool eat(hdr_cur *h, char ch)
{
	skip_ws(h);
	if (h->p < h->end && *h->p == ch) {
		h->p++;
		return true;
	}
	return false;
}

/* A quoted Python string into buf (truncation is an error). */
static int parse_str(hdr_cur *h, char *buf, size_t n)
{
	skip_ws(h);
	if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
		return -1;
	char q = *h->p++;
	size_t k = 0;
	while (h->p < h->end && *h->p != q) {
		if (*h->p == '\\' || k + 1 >= n)
			return -1;
		buf[k++] = *h->p++;
	}
	if (h->p >= h->end)
		return -1;
	h->p++;
	buf[k] = 0;
	return 0;
}

static bool eat_word(hdr_cur *h, const char *w)
{
	skip_ws(h);
	size_t n = strlen(w);
	if ((size_t)(h->end - h->p) >= n && memcmp(h->p, w, n) == 0) {
		h->p += n;
		return true;
	}
	return false;
}

/* "()", "(5,)", "(2, 3)"; numpy may write "5L" in very old files. */
static int parse_shape(hdr_cur *h, ir_shape *s)
{
	s->rank = 0;
	if (!eat(h, '('))
		return -1;
	for (;;) {
		if (eat(h, ')'))
			return 0;
		skip_ws(h);
		if (h->p >= h->end || *h->p < '0' || *h->p > '9')
			return -1;
		int64_t v = 0;
		while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
			v = v * 10 + (*h->p++ - '0');
			if (v > IR_MAX_NUMEL)
				return -1;
		}
		if (h->p < h->end && *h->p == 'L')
			h->p++;
		if (s->rank == IR_MAX_RANK)
			return -1;
		s->d[s->rank++] = v;
		if (!eat(h, ',')) {
			if (!eat(h, ')'))
				return -1;
			return 0;
		}
	}
}

/* {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } */
static int parse_header(const char *path, const char *txt, size_t len, char *descr, size_t ndescr,
                        ir_shape *s, diag_sink *d)
{
	hdr_cur h = {txt, txt + len};
	bool got_descr = false, got_order = false, got_shape = false;
	if (!eat(&h, '{'))
		goto bad;
	for (;;) {
		if (eat(&h, '}'))
			break;
		char key[32];
		if (parse_str(&h, key, sizeof key) || !eat(&h, ':'))
			goto bad;
		if (strcmp(key, "descr") == 0) {
			if (parse_str(&h, descr, ndescr))
				goto bad;
			got_descr = true;
		} else if (strcmp(key, "fortran_order") == 0) {
			if (eat_word(&h, "True")) {
				diag_error(d, path, "fortran_order arrays are not supported (C order only)");
				return -1;
			}
			if (!eat_word(&h, "False"))
				goto bad;
			got_order = true;
		} else if (strcmp(key, "shape") == 0) {
			if (parse_shape(&h, s)) {
				diag_error(d, path, "bad .npy shape (rank over %d, negative or huge dim, or malformed)",
				           IR_MAX_RANK);
				return -1;
			}
			got_shape = true;
		} else {
			diag_error(d, path, "unknown .npy header key '%s'", key);
			return -1;
		}
		if (!eat(&h, ',')) {
			if (!eat(&h, '}'))
				goto bad;
			break;
		}
	}
	skip_ws(&h);
	if (h.p != h.end || !got_descr || !got_order || !got_shape)
		goto bad;
	return 0;
bad:
	diag_error(d, path, "malformed .npy header");
	return -1;
}

/* -------------------------------------------------------------- load */

/* Where the bytes come from: an open file or a buffer in memory. */
typedef struct npy_src {
	FILE *f;                    /* NULL: read from mem */
	const unsigned char *mem;
	size_t pos;
	uint64_t size;              /* total bytes (the file's, or the buffer's) */
} npy_src;

static int read_all(npy_src *s, void *p, size_t n)
{
	if (s->f)
		return fread(p, 1, n, s->f) == n ? 0 : -1;
	if (n > s->size - s->pos)
		return -1;
	memcpy(p, s->mem + s->pos, n);
	s->pos += n;
	return 0;
}

static int npy_read(npy_src *src, const char *path, ir_tensor *t, diag_sink *d)
{
	int rc = -1;
	char *hdr = NULL;
	void *raw = NULL;
	if (src->size > (uint64_t)FE_MAX_FILE_BYTES) {
		diag_error(d, path, "file is %llu bytes; the limit is %lld", (unsigned long long)src->size,
		           (long long)FE_MAX_FILE_BYTES);
		goto out;
	}
	unsigned char pre[12];
	if (read_all(src, pre, 8) || memcmp(pre, "\x93NUMPY", 6) != 0) {
		diag_error(d, path, "not a .npy file (bad magic)");
		goto out;
	}
	int major = pre[6];
	size_t hlen, off;
	if (major == 1) {
		if (read_all(src, pre + 8, 2))
			goto trunc;
		hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
		off = 10;
	} else if (major == 2 || major == 3) {
		if (read_all(src, pre + 8, 4))
			goto trunc;
		hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 |
		       (size_t)pre[11] << 24;
		off = 12;
	} else {
		diag_error(d, path, ".npy format version %d.%d is not supported", major, pre[7]);
		goto out;
	}
	if (hlen > NPY_MAX_HEADER) {
		diag_error(d, path, ".npy header is %zu bytes; the limit is %d", hlen, NPY_MAX_HEADER);
		goto out;
	}
	if (!(hdr = malloc(hlen + 1))) {
		diag_error(d, path, "out of memory");
		goto out;
	}
	if (read_all(src, hdr, hlen))
		goto trunc;
	hdr[hlen] = 0;
	char descr[16];
	ir_shape s;
	if (parse_header(path, hdr, hlen, descr, sizeof descr, &s, d))
		goto out;
	bool f8 = strcmp(descr, "<f8") == 0, f2 = strcmp(descr, "<f2") == 0;
	ir_dtype dt = f8 || f2 ? IR_DT_F32 : IR_DT_UNDEF;
	for (size_t i = 0; i < sizeof npy_types / sizeof *npy_types; i++)
		if (strcmp(descr, npy_types[i].descr) == 0)
			dt = npy_types[i].dt;
	if (dt == IR_DT_UNDEF) {
		diag_error(d, path, "unsupported .npy dtype '%s' (supported: <f4 <f8 <f2 |i1 |u1 <i2 <u2 <i4 <i8 |b1)",
		           descr);
		goto out;
	}
	int64_t numel = ir_shape_numel(&s);
	if (numel < 0) {
		diag_error(d, path, "element count overflows (more than %lld elements)",
		           (long long)IR_MAX_NUMEL);
		goto out;
	}
	size_t isz = f8 ? 8 : f2 ? 2 : ir_dtype_size(dt);
	uint64_t want = (uint64_t)numel * isz, have = src->size - off - hlen;
	if (src->size < off + hlen || have != want) {
		diag_error(d, path, "data is %lld bytes, expected %llu (%lld x %s)",
		           (long long)(src->size >= off + hlen ? (long long)have : -1),
		           (unsigned long long)want, (long long)numel, descr);
		goto out;
	}
	raw = malloc(want ? (size_t)(f2 ? 2 * want : want) : 1); /* f2: room to widen */
	if (!raw) {
		diag_error(d, path, "out of memory (%llu bytes)", (unsigned long long)want);
		goto out;
	}
	if (read_all(src, raw, (size_t)want))
		goto trunc;
	if (f8) {
		/* narrow in place: f32 slot i never overtakes f64 slot i */
		float *o = raw;
		for (int64_t i = 0; i < numel; i++) {
			double v;
			memcpy(&v, (char *)raw + 8 * i, 8);
			o[i] = (float)v;
		}
	} else if (f2) {
		/* widen in place from the end: f32 slot i lies at or after f16 slot i */
		float *o = raw;
		for (int64_t i = numel - 1; i >= 0; i--) {
			uint16_t h;
			memcpy(&h, (char *)raw + 2 * i, 2);
			o[i] = ir_f16_to_f32(h);
		}
	} else if (dt == IR_DT_BOOL) {
		for (int64_t i = 0; i < numel; i++)
			((uint8_t *)raw)[i] = ((uint8_t *)raw)[i] != 0;
	}
	t->dt = dt;
	t->shape = s;
	t->data = raw;
	raw = NULL;
	rc = 0;
	goto out;
trunc:
	diag_error(d, path, "truncated .npy file");
out:
	free(raw);
	free(hdr);
	return rc;
}

int fe_npy_load(const char *path, ir_tensor *t, diag_sink *d)
{
	memset(t, 0, sizeof *t);
	FILE *f = fopen(path, "rb");
	if (!f) {
		diag_error(d, path, "cannot open: %s", strerror(errno));
		return -1;
	}
	struct stat st;
	int rc = -1;
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode))
		diag_error(d, path, "not a regular file");
	else
		rc = npy_read(&(npy_src){.f = f, .size = (uint64_t)st.st_size}, path, t, d);
	fclose(f);
	return rc;
}

int fe_npy_load_buffer(const void *buf, size_t len, const char *diag_name, ir_tensor *t,
                       diag_sink *d)
{
	memset(t, 0, sizeof *t);
	return npy_read(&(npy_src){.mem = buf, .size = len}, diag_name, t, d);
}


/* -------------------------------------------------------------- save */

int fe_npy_save(const char *path, const ir_tensor *t, diag_sink *d)
{
	const char *descr = NULL;
	for (size_t i = 0; i < sizeof npy_types / sizeof *npy_types; i++)
		if (npy_types[i].dt == t->dt) {
			descr = npy_types[i].descr;
			break;
		}
	if (!descr) {
		diag_error(d, path, "cannot save dtype '%s' as .npy", ir_dtype_name(t->dt));
		return -1;
	}
	int64_t numel = ir_shape_numel(&t->shape);
	if (numel < 0) {
		char b[96];
		diag_error(d, path, "cannot save a tensor of shape %s",
		           ir_shape_str(&t->shape, b, sizeof b));
		return -1;
	}
	char hdr[512];
	int k = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
	for (int i = 0; i < t->shape.rank; i++)
		k += snprintf(hdr + k, sizeof hdr - (size_t)k, "%lld,%s", (long long)t->shape.d[i],
		              i + 1 < t->shape.rank ? " " : "");
	k += snprintf(hdr + k, sizeof hdr - (size_t)k, "), }");
	/* pad with spaces so the data starts 64-aligned; end with '\n' */
	size_t total = 10 + (size_t)k + 1;
	size_t pad = (64 - total % 64) % 64;
	memset(hdr + k, ' ', pad);
	k += (int)pad;
	hdr[k++] = '\n';
	unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(k & 0xff),
	                         (unsigned char)(k >> 8)};

	char *tmp = NULL;
	if (asprintf(&tmp, "%s.tmp", path) < 0) {
		diag_error(d, path, "out of memory");
		return -1;
	}
	FILE *f = fopen(tmp, "wb");
	if (!f) {
		diag_error(d, path, "cannot write: %s", strerror(errno));
		free(tmp);
		return -1;
	}
	size_t bytes = (size_t)numel * ir_dtype_size(t->dt);
	bool ok = fwrite(pre, 1, sizeof pre, f) == sizeof pre &&
	          fwrite(hdr, 1, (size_t)k, f) == (size_t)k &&
	          (bytes == 0 || fwrite(t->data, 1, bytes, f) == bytes);
	ok = (fflush(f) == 0) & ok;
	ok = (fclose(f) == 0) & ok;
	if (!ok || rename(tmp, path) != 0) {
		diag_error(d, path, "writing failed: %s", strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}
