/* types.c: element types and shapes. */
#include <string.h>

#include "ir.h"

static const struct {
	const char *name;
	size_t size;
} dtypes[IR_DT__COUNT] = {
	[IR_DT_UNDEF] = {"undef", 0},
#define X(e, s, n) [IR_DT_##e] = {s, n},
	IR_DTYPES(X)
#undef X
};

size_t ir_dtype_size(ir_dtype t)
{
	return (unsigned)t < IR_DT__COUNT ? dtypes[t].size : 0;
}

const char *ir_dtype_name(ir_dtype t)
{
	return (unsigned)t < IR_DT__COUNT ? dtypes[t].name : "undef";
}

float ir_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31, m = h & 1023, u;
	if (e == 0) { /* zero or subnormal: m * 2^-24 */
		float f = (float)m * 0x1p-24f;
		return sign ? -f : f;
	}
	if (e == 31)
		u = sign | 0x7f800000u | m << 13; /* inf, NaN (payload kept) */
	else
		u = sign | (e + 112) << 23 | m << 13;
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

float ir_bf16_to_f32(uint16_t b)
{
	uint32_t u = (uint32_t)b << 16;
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

ir_dtype ir_dtype_from_name(const char *s)
{
	for (int t = 1; t < IR_DT__COUNT; t++)
		if (strcmp(s, dtypes[t].name) == 0)
			return (ir_dtype)t;
	return IR_DT_UNDEF;
}

int64_t ir_shape_numel(const ir_shape *s)
{
	if (s->rank < 0)
		return -1;
	/* The product of the nonzero extents is capped too, so that a zero
	 * extent cannot hide others whose partial products (a flatten's outer
	 * size, a stride) overflow int64, and the answer does not depend on
	 * where the zero stands. */
	int64_t n = 1;
	bool zero = false;
	for (int i = 0; i < s->rank; i++) {
		if (s->d[i] < 0)
			return -1;
		if (s->d[i] == 0) {
			zero = true;
			continue;
		}
		if (n > IR_MAX_NUMEL / s->d[i])
			return -1;
		n *= s->d[i];
	}
	return zero ? 0 : n;
}

bool ir_shape_known(const ir_shape *s)
{
	if (s->rank < 0)
		return false;
	for (int i = 0; i < s->rank; i++)
		if (s->d[i] < 0)
			return false;
	return true;
}

bool ir_shape_eq(const ir_shape *a, const ir_shape *b)
{
	if (a->rank != b->rank)
		return false;
	for (int i = 0; i < a->rank; i++)
		if (a->d[i] != b->d[i])
			return false;
	return true;
}

/* s without its dims of extent 1. */
static ir_shape squeezed(const ir_shape *s)
{
	ir_shape q = {0};
	for (int i = 0; i < s->rank; i++)
		if (s->d[i] != 1)
			q.d[q.rank++] = s->d[i];
	return q;
}

bool ir_shape_feeds(const ir_shape *sample, const ir_shape *in)
{
	if (sample->rank < 0 || in->rank < 1)
		return false;
	ir_shape item = ir_shape_make(in->rank - 1, in->d + 1);
	if (ir_shape_numel(sample) < 0 || ir_shape_numel(sample) != ir_shape_numel(&item))
		return false;
	ir_shape a = squeezed(sample), b = squeezed(&item);
	return a.rank <= 1 || b.rank <= 1 || ir_shape_eq(&a, &b);
}

ir_shape ir_shape_make(int rank, const int64_t *d)
{
	ir_shape s;
	memset(&s, 0, sizeof s);
	s.rank = rank;
	for (int i = 0; i < rank && i < IR_MAX_RANK; i++)
		s.d[i] = d[i];
	return s;
}

void ir_bcast_strides(int orank, int rank, const int64_t *d, int64_t unit, int64_t *st)
{
	int64_t acc = unit;
	for (int i = orank - 1; i >= 0; i--) {
		int j = i - (orank - rank);
		st[i] = j >= 0 && d[j] != 1 ? acc : 0;
		if (j >= 0)
			acc *= d[j];
	}
}

char *ir_shape_str(const ir_shape *s, char *buf, size_t n)
{
	if (s->rank < 0) {
		snprintf(buf, n, "[unknown]");
		return buf;
	}
	size_t k = 0;
	k += (size_t)snprintf(buf + k, n > k ? n - k : 0, "[");
	for (int i = 0; i < s->rank; i++) {
		if (s->d[i] == IR_DIM_SYM)
			k += (size_t)snprintf(buf + k, n > k ? n - k : 0, "%s?", i ? "," : "");
		else
			k += (size_t)snprintf(buf + k, n > k ? n - k : 0, "%s%lld", i ? "," : "",
			                      (long long)s->d[i]);
	}
	snprintf(buf + k, n > k ? n - k : 0, "]");
	return buf;
}

static const char *const qscheme_names[] = {
	[IR_QS_NONE] = "none",       [IR_QS_AFFINE] = "affine", [IR_QS_SYMMETRIC] = "symmetric",
	[IR_QS_POW2] = "pow2",       [IR_QS_BINARY] = "binary", [IR_QS_TERNARY] = "ternary",
	[IR_QS_CODEBOOK] = "codebook",
};

const char *ir_qscheme_name(ir_qscheme s)
{
	return (unsigned)s < sizeof qscheme_names / sizeof qscheme_names[0] ? qscheme_names[s] : "?";
}

ir_qscheme ir_qscheme_from_name(const char *s)
{
	for (int i = IR_QS_AFFINE; i <= IR_QS_CODEBOOK; i++)
		if (strcmp(s, qscheme_names[i]) == 0)
			return (ir_qscheme)i;
	return IR_QS_NONE;
}
