/* onnx.c: ONNX ModelProto -> IR: reading the file, tensors (initializers,
 * Constant nodes, .pb test data, external data), graph inputs/outputs.
 * Op translation lives in onnx_ops.c.  Files are untrusted: sizes are
 * capped, protobuf nesting is bounded, dims are checked for overflow. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx_internal.h"

/* Deepest protobuf message nesting we let protobuf-c recurse into (it has
 * no limit of its own; a crafted file could exhaust the stack).  Real
 * models nest a few levels (model/graph/node/attribute/graph...). */
#define FE_PB_MAX_DEPTH 64

/* ------------------------------------------------------------- dtypes */

static const char *const onnx_dt_names[] = {
	"undefined", "float", "uint8", "int8", "uint16", "int16", "int32", "int64", "string",
	"bool", "float16", "double", "uint32", "uint64", "complex64", "complex128", "bfloat16",
	"float8e4m3fn", "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "uint4", "int4",
	"float4e2m1", "float8e8m0", "uint2", "int2",
};

const char *fe_onnx_dtype_name(int32_t t)
{
	if (t >= 0 && (size_t)t < sizeof onnx_dt_names / sizeof *onnx_dt_names)
		return onnx_dt_names[t];
	return "unknown";
}

ir_dtype fe_onnx_dtype(int32_t t)
{
	switch (t) {
	case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return IR_DT_F32;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return IR_DT_I8;
	case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return IR_DT_U8;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return IR_DT_I32;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return IR_DT_I64;
	case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return IR_DT_BOOL;
	case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: return IR_DT_I16;
	case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: return IR_DT_U16;
	default: return IR_DT_UNDEF;
	}
}

ir_dtype fe_onnx_dtype_bits(int32_t t, int *bits)
{
	*bits = 0;
	switch (t) {
	case ONNX_DT_INT4: *bits = 4; return IR_DT_I8;
	case ONNX_DT_UINT4: *bits = 4; return IR_DT_U8;
	case ONNX_DT_INT2: *bits = 2; return IR_DT_I8;
	case ONNX_DT_UINT2: *bits = 2; return IR_DT_U8;
	default: return fe_onnx_dtype(t);
	}
}

/* Element k of packed sub-byte data p: `bits` wide, the first element in
 * the low bits of byte 0, sign-extended when sgn. */
static int fe_unpack(const uint8_t *p, int bits, bool sgn, int64_t k)
{
	int per = 8 / bits;
	int v = (p[k / per] >> (bits * (int)(k % per))) & ((1 << bits) - 1);
	return sgn && v >= 1 << (bits - 1) ? v - (1 << bits) : v;
}

int fe_onnx_set_bits(fe_onnx_ctx *c, const ir_value *v, int bits)
{
	if (!bits && v->id >= c->nbits)
		return 0; /* unrecorded reads as 0 */
	if (v->id >= c->nbits) {
		int n = v->id + 64 > 2 * c->nbits ? v->id + 64 : 2 * c->nbits;
		signed char *b = realloc(c->bits, (size_t)n);
		if (!b)
			return -1;
		memset(b + c->nbits, 0, (size_t)(n - c->nbits));
		c->bits = b;
		c->nbits = n;
	}
	c->bits[v->id] = (signed char)bits;
	return 0;
}

int fe_onnx_bits(const fe_onnx_ctx *c, const ir_value *v)
{
	return v && v->id < c->nbits ? c->bits[v->id] : 0;
}

/* ------------------------------------------------------------ files */

/* Read a whole regular file, at most FE_MAX_FILE_BYTES.  *buf malloc'd. */
void fe_onnx_note_wide(fe_onnx_ctx *c, const char *kind, const char *name, int32_t odt)
{
	if (c->wide_noted)
		return;
	c->wide_noted = true;
	diag_warn(c->d, c->file,
	          "%s '%s' is %s: qgtc computes in float32, so %s values (graph inputs and outputs, Casts "
	          "to them) are float32's, without %s rounding; the compiled code takes and returns float",
	          kind, name, fe_onnx_dtype_name(odt), fe_onnx_dtype_name(odt), fe_onnx_dtype_name(odt));
}

static int read_file(const char *path, unsigned char **buf, size_t *len, diag_sink *d)
{
	*buf = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		diag_error(d, path, "cannot open: %s", strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		diag_error(d, path, "not a regular file");
		close(fd);
		return -1;
	}
	if ((int64_t)st.st_size > FE_MAX_FILE_BYTES) {
		diag_error(d, path, "file is %lld bytes; the limit is %lld", (long long)st.st_size,
		           (long long)FE_MAX_FILE_BYTES);
		close(fd);
		return -1;
	}
	size_t n = (size_t)st.st_size;
	unsigned char *p = malloc(n ? n : 1);
	if (!p) {
		diag_error(d, path, "out of memory reading %zu bytes", n);
		close(fd);
		return -1;
	}
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			diag_error(d, path, "read failed: %s", r < 0 ? strerror(errno) : "file shrank");
			free(p);
			close(fd);
			return -1;
		}
		got += (size_t)r;
	}
	close(fd);
	*buf = p;
	*len = n;
	return 0;
}

/* The folder part of path ("." if none), malloc'd. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* ------------------------------------------------- protobuf pre-check */

static int pb_varint(const unsigned char *p, size_t len, size_t *i, uint64_t *v)
{
	uint64_t x = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (*i >= len)
			return -1;
		unsigned char b = p[(*i)++];
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

/* Walk the wire format with the message descriptors, checking lengths
 * and nesting depth before protobuf-c recurses.  0 ok, -1 malformed, -2
 * too deep. */
static int pb_scan(const unsigned char *p, size_t len, const ProtobufCMessageDescriptor *desc,
                   int depth)
{
	if (depth > FE_PB_MAX_DEPTH)
		return -2;
	size_t i = 0;
	while (i < len) {
		uint64_t tag, v;
		if (pb_varint(p, len, &i, &tag))
			return -1;
		switch (tag & 7) {
		case 0:
			if (pb_varint(p, len, &i, &v))
				return -1;
			break;
		case 1:
			if (len - i < 8)
				return -1;
			i += 8;
			break;
		case 5:
			if (len - i < 4)
				return -1;
			i += 4;
			break;
		case 2: {
			if (pb_varint(p, len, &i, &v) || v > len - i)
				return -1;
			uint64_t fnum = tag >> 3;
			const ProtobufCFieldDescriptor *f =
				desc && fnum <= UINT_MAX
					? protobuf_c_message_descriptor_get_field(desc, (unsigned)fnum)
					: NULL;
			if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
				int rc = pb_scan(p + i, (size_t)v, f->descriptor, depth + 1);
				if (rc)
					return rc;
			}
			i += (size_t)v;
			break;
		}
		default:
			return -1; /* groups (3, 4) and invalid wire types */
		}
	}
	return 0;
}

/* protobuf-c's allocator: everything it allocates unpacking one file
 * (message structs, arrays, strings, bytes) counts against the cap
 * FE_ONNX_MAX_UNPACK_BYTES, so that no file can make it take more. */
typedef struct pb_budget {
	uint64_t used, cap;
	bool over;                  /* a request would have passed the cap */
	bool oom;                   /* malloc failed */
} pb_budget;

static void *pb_alloc(void *data, size_t size)
{
	pb_budget *b = data;
	if (size > b->cap - b->used) {
		b->over = true;
		return NULL;
	}
	void *p = malloc(size ? size : 1);
	if (!p) {
		b->oom = true;
		return NULL;
	}
	b->used += size;
	return p;
}

static void pb_dealloc(void *data, void *p)
{
	(void)data;
	free(p);
}

/* What frees what fe_onnx_unpack returns. */
static ProtobufCAllocator pb_freer = {pb_alloc, pb_dealloc, NULL};

void *fe_onnx_unpack(const ProtobufCMessageDescriptor *desc, const unsigned char *buf, size_t len,
                     const char *name, const char *what, diag_sink *d)
{
	int rc = pb_scan(buf, len, desc, 0);
	if (rc == -2) {
		diag_error(d, name, "not a valid ONNX %s (messages nested deeper than %d)", what,
		           FE_PB_MAX_DEPTH);
		return NULL;
	}
	pb_budget b = {.cap = FE_ONNX_MAX_UNPACK_BYTES(len)};
	ProtobufCAllocator a = {pb_alloc, pb_dealloc, &b};
	ProtobufCMessage *m = rc ? NULL : protobuf_c_message_unpack(desc, &a, len, buf);
	if (m)
		return m;
	if (b.over)
		diag_error(d, name, "not a valid ONNX %s (unpacking it would take more than %llu bytes, "
		           "the limit for a file of %zu bytes)", what, (unsigned long long)b.cap, len);
	else if (b.oom)
		diag_error(d, name, "out of memory");
	else
		diag_error(d, name, "not a valid ONNX %s (protobuf parse failed)", what);
	return NULL;
}

void fe_onnx_unpack_free(void *m)
{
	if (m)
		protobuf_c_message_free_unpacked(m, &pb_freer);
}

/* ------------------------------------------------------------ tensors */

static int parse_i64(const char *s, int64_t *v)
{
	if (!s || !*s)
		return -1;
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno || *end || x < 0)
		return -1;
	*v = x;
	return 0;
}

/* Read `bytes` bytes of tp's external data into dst. */
static int read_external(const Onnx__TensorProto *tp, const char *loc, const char *what,
                         const char *model_dir, void *dst, size_t bytes, diag_sink *d)
{
	const char *location = NULL;
	int64_t offset = 0, length = -1;
	for (size_t i = 0; i < tp->n_external_data; i++) {
		const char *k = tp->external_data[i]->key ? tp->external_data[i]->key : "";
		const char *v = tp->external_data[i]->value;
		if (strcmp(k, "location") == 0) {
			location = v;
		} else if (strcmp(k, "offset") == 0) {
			if (parse_i64(v, &offset)) {
				diag_error(d, loc, "%s: bad external data offset '%s'", what, v ? v : "");
				return -1;
			}
		} else if (strcmp(k, "length") == 0) {
			if (parse_i64(v, &length)) {
				diag_error(d, loc, "%s: bad external data length '%s'", what, v ? v : "");
				return -1;
			}
		} else if (strcmp(k, "checksum") != 0) {
			diag_error(d, loc, "%s: unsupported external data key '%s'", what, k);
			return -1;
		}
	}
	if (!location || !*location) {
		diag_error(d, loc, "%s: external data without a location", what);
		return -1;
	}
	if (!model_dir) {
		diag_error(d, loc, "%s: external data '%s' is not allowed here (no model folder)", what,
		           location);
		return -1;
	}
	if (location[0] == '/') {
		diag_error(d, loc, "%s: external data path '%s' is absolute; it must lie inside the model's folder",
		           what, location);
		return -1;
	}
	for (const char *s = location; *s;) {
		size_t n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			diag_error(d, loc, "%s: external data path '%s' escapes the model's folder", what,
			           location);
			return -1;
		}
		s += n;
		s += *s == '/';
	}
	if (length >= 0 && (uint64_t)length != bytes) {
		diag_error(d, loc, "%s: external data length %lld, expected %zu bytes", what,
		           (long long)length, bytes);
		return -1;
	}

	int rc = -1, fd = -1;
	char *joined = NULL, *rdir = NULL, *rfile = NULL;
	if (asprintf(&joined, "%s/%s", model_dir, location) < 0) {
		joined = NULL;
		diag_error(d, loc, "out of memory");
		goto out;
	}
	rdir = realpath(model_dir, NULL);
	rfile = realpath(joined, NULL);
	if (!rdir || !rfile) {
		diag_error(d, loc, "%s: cannot open external data file '%s': %s", what, location,
		           strerror(errno));
		goto out;
	}
	size_t nd = strlen(rdir);
	if (strncmp(rfile, rdir, nd) != 0 || (rfile[nd] != '/' && strcmp(rdir, "/") != 0)) {
		diag_error(d, loc, "%s: external data path '%s' escapes the model's folder", what,
		           location);
		goto out;
	}
	fd = open(rfile, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		diag_error(d, loc, "%s: cannot read external data file '%s'", what, location);
		goto out;
	}
	if ((uint64_t)offset > (uint64_t)st.st_size || bytes > (uint64_t)st.st_size - (uint64_t)offset) {
		diag_error(d, loc, "%s: external data (offset %lld, %zu bytes) runs past the end of '%s' (%lld bytes)",
		           what, (long long)offset, bytes, location, (long long)st.st_size);
		goto out;
	}
	for (size_t got = 0; got < bytes;) {
		ssize_t r = pread(fd, (char *)dst + got, bytes - got, (off_t)(offset + (int64_t)got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			diag_error(d, loc, "%s: reading external data file '%s' failed", what, location);
			goto out;
		}
		got += (size_t)r;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(joined);
	free(rdir);
	free(rfile);
	return rc;
}

/* Typed-field count mismatch message. */
static int bad_count(const char *loc, const char *what, const char *field, size_t n, int64_t numel,
                     diag_sink *d)
{
	if (n == 0)
		diag_error(d, loc, "%s has no data (%lld elements expected)", what, (long long)numel);
	else
		diag_error(d, loc, "%s has %zu values in %s, expected %lld", what, n, field,
		           (long long)numel);
	return -1;
}

/* The tensor's bytes from its external file or raw_data into p: 1 read,
 * 0 neither (the typed field holds them), -1 error (reported). */
static int stored_bytes(const Onnx__TensorProto *tp, const char *loc, const char *what,
                        const char *model_dir, bool external, void *p, size_t bytes, diag_sink *d)
{
	if (external)
		return read_external(tp, loc, what, model_dir, p, bytes, d) ? -1 : 1;
	if (!tp->has_raw_data)
		return 0;
	memcpy(p, tp->raw_data.data, bytes);
	return 1;
}

/* The packed bytes of a sub-byte tensor (sizes checked) unpacked into
 * t's dtype, one element each. */
static int unpack_tensor(const Onnx__TensorProto *tp, const char *loc, const char *what,
                         const char *model_dir, bool external, int bits, size_t bytes,
                         ir_tensor *t, diag_sink *d)
{
	int64_t numel = ir_shape_numel(&t->shape);
	uint8_t *p = malloc(bytes);
	t->data = malloc((size_t)numel);
	if (!p || !t->data) {
		diag_error(d, loc, "%s: out of memory (%lld elements)", what, (long long)numel);
		free(p);
		ir_tensor_free(t);
		return -1;
	}
	int r = stored_bytes(tp, loc, what, model_dir, external, p, bytes, d);
	if (r < 0) {
		free(p);
		ir_tensor_free(t);
		return -1;
	}
	for (size_t i = 0; !r && i < bytes; i++)
		p[i] = (uint8_t)tp->int32_data[i];
	bool sgn = t->dt == IR_DT_I8;
	for (int64_t k = 0; k < numel; k++) {
		int v = fe_unpack(p, bits, sgn, k);
		if (sgn)
			((int8_t *)t->data)[k] = (int8_t)v;
		else
			((uint8_t *)t->data)[k] = (uint8_t)v;
	}
	free(p);
	return 0;
}

/* A double, float16 or bfloat16 tensor's numel values (odt), read (raw,
 * external, double_data or int32_data: one 16-bit pattern a value) as
 * f32: half precision widened exactly, double rounded, a finite double
 * beyond f32's range an error. */
static int float_tensor(const Onnx__TensorProto *tp, const char *loc, const char *what,
                        const char *model_dir, bool external, int32_t odt, size_t bytes, ir_tensor *t,
                        diag_sink *d)
{
	int64_t numel = ir_shape_numel(&t->shape);
	bool f64 = odt == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE, bf16 = odt == ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16;
	void *p = malloc(bytes);
	t->data = malloc((size_t)numel * sizeof(float));
	if (!p || !t->data) {
		diag_error(d, loc, "%s: out of memory (%lld elements)", what, (long long)numel);
		free(p);
		ir_tensor_free(t);
		return -1;
	}
	int r = stored_bytes(tp, loc, what, model_dir, external, p, bytes, d);
	if (r == 0 && f64)
		memcpy(p, tp->double_data, bytes);
	for (int64_t k = 0; r == 0 && !f64 && k < numel; k++) {
		if (tp->int32_data[k] < 0 || tp->int32_data[k] > 65535) {
			diag_error(d, loc, "%s: int32_data[%lld] is %d, not a 16-bit pattern", what, (long long)k,
			           (int)tp->int32_data[k]);
			r = -1;
			break;
		}
		((uint16_t *)p)[k] = (uint16_t)tp->int32_data[k];
	}
	for (int64_t k = 0; r >= 0 && k < numel; k++) {
		float f;
		if (f64) {
			double v = ((const double *)p)[k];
			f = (float)v;
			if (isinf(f) && !isinf(v)) {
				diag_error(d, loc, "%s: double value %g at element %lld is beyond f32's range", what, v,
				           (long long)k);
				r = -1;
				break;
			}
		} else {
			uint16_t h = ((const uint16_t *)p)[k];
			f = bf16 ? ir_bf16_to_f32(h) : ir_f16_to_f32(h);
		}
		((float *)t->data)[k] = f;
	}
	free(p);
	if (r < 0) {
		ir_tensor_free(t);
		return -1;
	}
	return 0;
}

bool fe_onnx_wide_float(int32_t odt)
{
	return odt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16 || odt == ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16 ||
	       odt == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
}

int fe_onnx_tensor(const Onnx__TensorProto *tp, const char *loc, const char *what,
                   const char *model_dir, ir_tensor *t, diag_sink *d)
{
	memset(t, 0, sizeof *t);
	if (!tp) {
		diag_error(d, loc, "%s has no tensor", what);
		return -1;
	}
	int32_t odt = tp->has_data_type ? tp->data_type : 0;
	int bits;
	ir_dtype dt = fe_onnx_dtype_bits(odt, &bits);
	/* A double constant (PyTorch exports clamp bounds as Constant(double)
	 * -> Cast(float) when constant folding is off) is read as f32: qgtc
	 * computes in f32, and a value f32 cannot hold is an error below. */
	bool f64 = odt == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
	/* float16 and bfloat16 (a model converted to half precision, its
	 * weights) widen to f32 exactly */
	bool half = odt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16 || odt == ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16;
	if (f64 || half)
		dt = IR_DT_F32;
	if (dt == IR_DT_UNDEF) {
		diag_error(d, loc, "%s has unsupported dtype '%s'", what, fe_onnx_dtype_name(odt));
		return -1;
	}
	if (tp->segment) {
		diag_error(d, loc, "%s is segmented; segmented tensors are not supported", what);
		return -1;
	}
	if (tp->n_dims > IR_MAX_RANK) {
		diag_error(d, loc, "%s has rank %zu; qgtc supports at most %d", what, tp->n_dims,
		           IR_MAX_RANK);
		return -1;
	}
	ir_shape s = {.rank = (int)tp->n_dims};
	for (int i = 0; i < s.rank; i++) {
		if (tp->dims[i] < 0 || tp->dims[i] > IR_MAX_NUMEL) {
			diag_error(d, loc, "%s has invalid dim %d (%lld)", what, i, (long long)tp->dims[i]);
			return -1;
		}
		s.d[i] = tp->dims[i];
	}
	int64_t numel = ir_shape_numel(&s);
	if (numel < 0) {
		diag_error(d, loc, "%s: element count overflows (more than %lld elements)", what,
		           (long long)IR_MAX_NUMEL);
		return -1;
	}
	size_t es = f64 ? sizeof(double) : half ? 2 : ir_dtype_size(dt);
	/* bytes stored: sub-byte elements are packed (ONNX: 8 / bits to a
	 * byte); unpacked, one per i8/u8 element */
	size_t bytes = bits ? ((size_t)numel * (size_t)bits + 7) / 8 : (size_t)numel * es;
	bool external = tp->has_data_location &&
	                tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;

	/* Cheap size checks first, so a forged count never drives a huge
	 * allocation. */
	if (!external && tp->has_raw_data && tp->raw_data.len != bytes) {
		diag_error(d, loc, "%s: raw_data has %zu bytes, expected %zu (%lld x %s%s)", what,
		           tp->raw_data.len, bytes, (long long)numel,
		           bits ? fe_onnx_dtype_name(odt) : ir_dtype_name(dt), bits ? ", packed" : "");
		return -1;
	}
	if (!external && !tp->has_raw_data && numel > 0) {
		size_t n;
		const char *field;
		switch (f64 ? IR_DT_UNDEF : half ? IR_DT_U16 : dt) {
		case IR_DT_UNDEF: n = tp->n_double_data, field = "double_data"; break;
		case IR_DT_F32: n = tp->n_float_data, field = "float_data"; break;
		case IR_DT_I64: n = tp->n_int64_data, field = "int64_data"; break;
		default: n = tp->n_int32_data, field = "int32_data"; break;
		}
		if (bits && n != bytes) {
			diag_error(d, loc, "%s has %zu values in int32_data, expected %zu (%lld x %s, "
			           "one packed byte each)", what, n, bytes, (long long)numel,
			           fe_onnx_dtype_name(odt));
			return -1;
		}
		if (!bits && n != (size_t)numel)
			return bad_count(loc, what, field, n, numel, d);
		for (size_t i = 0; bits && i < n; i++)
			if (tp->int32_data[i] < 0 || tp->int32_data[i] > 255) {
				diag_error(d, loc, "%s: int32_data[%zu] is %d, not a packed byte (0..255)",
				           what, i, (int)tp->int32_data[i]);
				return -1;
			}
	}
	if (external && bytes > (size_t)FE_MAX_FILE_BYTES) {
		diag_error(d, loc, "%s is %zu bytes; the limit is %lld", what, bytes,
		           (long long)FE_MAX_FILE_BYTES);
		return -1;
	}

	t->dt = dt;
	t->shape = s;
	if (numel == 0)
		return 0;
	if (bits)
		return unpack_tensor(tp, loc, what, model_dir, external, bits, bytes, t, d);
	if (f64 || half)
		return float_tensor(tp, loc, what, model_dir, external, odt, bytes, t, d);
	t->data = malloc(bytes);
	if (!t->data) {
		diag_error(d, loc, "%s: out of memory (%zu bytes)", what, bytes);
		return -1;
	}
	if (external) {
		if (read_external(tp, loc, what, model_dir, t->data, bytes, d)) {
			ir_tensor_free(t);
			return -1;
		}
	} else if (tp->has_raw_data) {
		/* Little-endian on disk and (qgtc's hosts) in memory. */
		memcpy(t->data, tp->raw_data.data, bytes);
	} else {
		for (int64_t i = 0; i < numel; i++) {
			switch (dt) {
			case IR_DT_F32: ((float *)t->data)[i] = tp->float_data[i]; break;
			case IR_DT_I64: ((int64_t *)t->data)[i] = tp->int64_data[i]; break;
			case IR_DT_I32: ((int32_t *)t->data)[i] = tp->int32_data[i]; break;
			case IR_DT_I8: ((int8_t *)t->data)[i] = (int8_t)tp->int32_data[i]; break;
			case IR_DT_U8: ((uint8_t *)t->data)[i] = (uint8_t)tp->int32_data[i]; break;
			case IR_DT_I16: ((int16_t *)t->data)[i] = (int16_t)tp->int32_data[i]; break;
			case IR_DT_U16: ((uint16_t *)t->data)[i] = (uint16_t)tp->int32_data[i]; break;
			case IR_DT_BOOL: ((uint8_t *)t->data)[i] = tp->int32_data[i] != 0; break;
			default: break;
			}
		}
	}
	if (dt == IR_DT_BOOL)
		for (int64_t i = 0; i < numel; i++)
			((uint8_t *)t->data)[i] = ((uint8_t *)t->data)[i] != 0;
	return 0;
}

/* --------------------------------------------------------------- graph */

static const char *nz(const char *s)
{
	return s ? s : "";
}

int fe_onnx_note_external(fe_onnx_ctx *c, const Onnx__TensorProto *tp)
{
	if (!c->model_dir || !tp->has_data_location ||
	    tp->data_location != ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
		return 0;
	for (size_t i = 0; i < tp->n_external_data; i++) {
		const char *k = tp->external_data[i]->key, *v = tp->external_data[i]->value;
		if (!k || strcmp(k, "location") != 0 || !v || !*v)
			continue;
		const char *path = strcmp(c->model_dir, ".") == 0
		                           ? v
		                           : ir_arena_printf(c->g->arena, "%s/%s", c->model_dir, v);
		if (!path || ir_graph_add_dep(c->g, path)) {
			diag_error(c->d, c->file, "out of memory");
			return -1;
		}
	}
	return 0;
}

static int add_initializer(fe_onnx_ctx *c, const Onnx__TensorProto *tp, size_t k)
{
	const char *name = nz(tp->name);
	if (!*name) {
		diag_error(c->d, c->file, "initializer %zu has no name", k);
		return -1;
	}
	char *what = ir_arena_printf(c->g->arena, "initializer '%s'", name);
	if (!what) {
		diag_error(c->d, c->file, "out of memory");
		return -1;
	}
	ir_tensor t;
	if (fe_onnx_tensor(tp, c->file, what, c->model_dir, &t, c->d))
		return -1;
	/* half-precision weights say the model computes in them (a double
	 * constant is a clamp bound PyTorch exported: no warning) */
	if (tp->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16 ||
	    tp->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16)
		fe_onnx_note_wide(c, "initializer", name, tp->data_type);
	if (fe_onnx_note_external(c, tp)) {
		ir_tensor_free(&t);
		return -1;
	}
	if (t.dt == IR_DT_F32 && t.data) { /* (infinities are legitimate: masks) */
		int64_t nn = 0, ne = ir_shape_numel(&t.shape);
		for (int64_t i = 0; i < ne; i++)
			nn += isnan(((const float *)t.data)[i]);
		if (nn)
			diag_warn(c->d, c->file, "%s holds %" PRId64 " NaN of %" PRId64 " values: what is computed from "
			          "it will be NaN", what, nn, ne);
	}
	ir_value *v = ir_graph_add_const(c->g, name, t.dt, &t.shape, t.data);
	ir_tensor_free(&t);
	if (!v) {
		if (ir_graph_oom(c->g))
			diag_error(c->d, c->file, "out of memory");
		else
			diag_error(c->d, c->file, "%s is defined more than once", what);
		return -1;
	}
	int bits;
	fe_onnx_dtype_bits(tp->data_type, &bits);
	if (fe_onnx_set_bits(c, v, bits)) {
		diag_error(c->d, c->file, "out of memory");
		return -1;
	}
	return 0;
}

static int add_graph_input(fe_onnx_ctx *c, const Onnx__ValueInfoProto *vi, size_t k)
{
	const char *name = nz(vi->name);
	diag_sink *d = c->d;
	if (!*name) {
		diag_error(d, c->file, "graph input %zu has no name", k);
		return -1;
	}
	ir_value *old = ir_graph_find_value(c->g, name);
	if (old && old->kind == IR_VAL_CONST)
		return 0; /* an initializer listed as input (IR version <= 3): a constant */
	if (old) {
		diag_error(d, c->file, "graph input '%s' is listed more than once", name);
		return -1;
	}
	const Onnx__TypeProto *tp = vi->type;
	if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type) {
		diag_error(d, c->file, "graph input '%s' is not a tensor (sequence, map, optional and sparse inputs are not supported)",
		           name);
		return -1;
	}
	const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
	int32_t odt = tt->has_elem_type ? tt->elem_type : 0;
	int bits;
	ir_dtype dt = fe_onnx_dtype_bits(odt, &bits);
	if (fe_onnx_wide_float(odt)) {
		fe_onnx_note_wide(c, "graph input", name, odt);
		dt = IR_DT_F32;
	}
	if (dt == IR_DT_UNDEF) {
		diag_error(d, c->file, "graph input '%s' has unsupported dtype '%s'", name,
		           fe_onnx_dtype_name(odt));
		return -1;
	}
	if (!tt->shape) {
		diag_error(d, c->file, "graph input '%s' has no shape; qgtc needs static shapes", name);
		return -1;
	}
	if (tt->shape->n_dim > IR_MAX_RANK) {
		diag_error(d, c->file, "graph input '%s' has rank %zu; qgtc supports at most %d", name,
		           tt->shape->n_dim, IR_MAX_RANK);
		return -1;
	}
	ir_shape s = {.rank = (int)tt->shape->n_dim};
	int64_t prod = 1;
	for (int i = 0; i < s.rank; i++) {
		const Onnx__TensorShapeProto__Dimension *dm = tt->shape->dim[i];
		if (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
			if (dm->dim_value < 0 || dm->dim_value > IR_MAX_NUMEL) {
				diag_error(d, c->file, "graph input '%s' has invalid dim %d (%lld)", name, i,
				           (long long)dm->dim_value);
				return -1;
			}
			s.d[i] = dm->dim_value;
			/* nonzero dims only, as ir_shape_numel counts them */
			if (s.d[i] && prod > IR_MAX_NUMEL / s.d[i]) {
				diag_error(d, c->file, "graph input '%s': element count overflows (more than %lld elements)",
				           name, (long long)IR_MAX_NUMEL);
				return -1;
			}
			if (s.d[i])
				prod *= s.d[i];
		} else if (i == 0) {
			s.d[i] = IR_DIM_SYM;
		} else {
			const char *p = dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
			                        ? nz(dm->dim_param)
			                        : "";
			diag_error(d, c->file, "graph input '%s' dim %d is symbolic ('%s'); qgtc needs static shapes except the batch dimension",
			           name, i, p);
			return -1;
		}
	}
	ir_value *v = ir_graph_add_value(c->g, name, dt, &s);
	if (!v || fe_onnx_set_bits(c, v, bits)) {
		diag_error(d, c->file, "out of memory");
		return -1;
	}
	ir_graph_add_input(c->g, v);
	return 0;
}

static void node_loc(fe_onnx_ctx *c, const Onnx__NodeProto *np, int index)
{
	c->np = np;
	c->index = index;
	snprintf(c->loc, sizeof c->loc, "%s: node %d '%s' (%s)", c->file, index, nz(np->name),
	         nz(np->op_type));
}

/* Pass 1 for one node: create the values it defines. */
static int define_outputs(fe_onnx_ctx *c)
{
	const Onnx__NodeProto *np = c->np;
	if (strcmp(nz(np->op_type), "Constant") == 0 &&
	    (!np->domain || !*np->domain || strcmp(np->domain, "ai.onnx") == 0)) {
		if (np->n_output != 1 || !*nz(np->output[0]) || np->n_input != 0) {
			diag_error(c->d, c->loc, "Constant takes no inputs and has one output");
			return -1;
		}
		if (ir_graph_find_value(c->g, np->output[0])) {
			diag_error(c->d, c->loc, "value '%s' is defined more than once", np->output[0]);
			return -1;
		}
		if (fe_onnx_constant(c, np->output[0])) {
			/* a placeholder keeps later uses from cascading */
			ir_graph_add_value(c->g, np->output[0], IR_DT_UNDEF, NULL);
			return -1;
		}
		return 0;
	}
	int rc = 0;
	for (size_t k = 0; k < np->n_output; k++) {
		const char *name = nz(np->output[k]);
		if (!*name)
			continue;
		if (!ir_graph_add_value(c->g, name, IR_DT_UNDEF, NULL)) {
			if (ir_graph_oom(c->g))
				diag_error(c->d, c->loc, "out of memory");
			else
				diag_error(c->d, c->loc, "value '%s' is defined more than once", name);
			rc = -1;
		}
	}
	return rc;
}

/* ---------------------------------------------------------------- If */

/* qgtc compiles static graphs, so an If is taken at compile time when its
 * condition is known then.  torch guards shape-dependent steps so (its
 * LocalResponseNorm squeezes a dimension when it is 1): the condition
 * comes from Shape, Gather and Equal of values whose shapes are fixed.
 * take_if infers the shapes of the condition's ancestors built so far and
 * folds those whose operands are all constant (or a Shape of a known
 * shape), as shapes and fold-constants would later, then translates the
 * chosen branch's nodes into the graph (ONNX names are unique across
 * subgraphs, so its values keep theirs) and binds each branch output to
 * the If's output.  Anything else is an error naming the node. */
enum { IF_MAX_DEPTH = 64, IF_FOLD_MAX_BYTES = 16 << 20 };

/* May the import fold n now?  Not quantization steps nor integer data
 * of 8 bits or fewer (weights that fold-qdq reads in their integer form);
 * shape computations (i64, i32, bool) and f32 do. */
static bool if_foldable(const ir_node *n)
{
	if (n->op == IR_OP_DEQUANTIZE || n->op == IR_OP_QUANTIZE || n->nout < 1)
		return false;
	if (n->op == IR_OP_SHAPE)
		return n->in[0] && ir_shape_known(&n->in[0]->shape);
	for (int j = 0; j < n->nin; j++) {
		const ir_value *v = n->in[j];
		if (v && (!ir_value_is_const(v) || v->dt == IR_DT_I8 || v->dt == IR_DT_U8))
			return false;
	}
	for (int j = 0; j < n->nout; j++) {
		const ir_value *v = n->out[j];
		if (v && (!ir_shape_known(&v->shape) ||
		          (uint64_t)ir_shape_numel(&v->shape) * ir_dtype_size(v->dt) > IF_FOLD_MAX_BYTES))
			return false;
	}
	return true;
}

/* Gather n of dimensions from a Shape whose input has a symbolic batch:
 * when every dimension it picks is static, its output is that constant
 * (torch's guards read the channel count of a batch-dynamic export).
 * True when n was folded so. */
static bool if_static_dims(ir_graph *g, ir_node *n)
{
	const ir_node *sh = n->nin >= 2 && n->in[0] ? n->in[0]->producer : NULL;
	const ir_value *ix = n->nin >= 2 ? n->in[1] : NULL;
	int64_t idx[64];
	int cnt = ix ? ir_const_ints(ix, idx, 64) : -1;
	if (n->op != IR_OP_GATHER || !sh || sh->dead || sh->op != IR_OP_SHAPE || !sh->in[0] || cnt < 0 ||
	    !n->out[0])
		return false;
	const ir_shape *xs = &sh->in[0]->shape;
	int r = xs->rank;
	int64_t st = ir_attr_int(sh, "start", 0), en = ir_attr_int(sh, "end", r);
	st = st < 0 ? st + r : st, en = en < 0 ? en + r : en;
	st = st < 0 ? 0 : st > r ? r : st, en = en < st ? st : en > r ? r : en;
	int64_t len = en - st, val[64];
	int64_t ax = ir_attr_int(n, "axis", 0);
	if (r < 0 || (ax != 0 && ax != -1))
		return false;
	for (int k = 0; k < cnt; k++) {
		int64_t j = idx[k] < 0 ? idx[k] + len : idx[k];
		if (j < 0 || j >= len || xs->d[st + j] < 0)
			return false;
		val[k] = xs->d[st + j];
	}
	ir_value *y = n->out[0];
	y->dt = IR_DT_I64;
	y->shape = ix->shape;
	if (ir_value_set_const(g, y, val))
		return false;
	y->producer = NULL;
	n->dead = true;
	return true;
}

/* Make cond a constant if the graph so far determines it: its ancestors
 * (nodes built so far, in their order) inferred and folded where they can
 * be.  Messages of those attempts go to q, not to the user: the passes
 * report the graph's real problems later. */
static bool if_known(fe_onnx_ctx *c, ir_value *cond, diag_sink *q)
{
	ir_graph *g = c->g;
	if (ir_value_is_const(cond))
		return cond->data != NULL;
	if (!cond->producer)
		return false;
	/* the ancestors, by a stack of producers */
	char *anc = calloc((size_t)g->nnodes + 1, 1);
	ir_node **st = malloc(sizeof *st * ((size_t)g->nnodes + 1));
	int sp = 0;
	bool ok = false;
	if (!anc || !st)
		goto out;
	for (int i = 0; i < g->nnodes; i++)
		g->nodes[i]->id = i;
	st[sp++] = cond->producer;
	anc[cond->producer->id] = 1;
	while (sp > 0) {
		ir_node *n = st[--sp];
		for (int j = 0; j < n->nin; j++) {
			ir_node *p = n->in[j] ? n->in[j]->producer : NULL;
			if (p && !p->dead && p->id >= 0 && p->id < g->nnodes && !anc[p->id]) {
				anc[p->id] = 1;
				st[sp++] = p;
			}
		}
	}
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		if (!anc[i] || n->dead || ir_infer_node(g, n, q))
			continue;
		if (if_foldable(n))
			ir_fold_node(g, n, q);
		else
			if_static_dims(g, n);
	}
	ok = ir_value_is_const(cond) && cond->data;
out:
	free(anc);
	free(st);
	return ok;
}

static bool is_op(const Onnx__NodeProto *np, const char *op)
{
	return strcmp(nz(np->op_type), op) == 0 &&
	       (!np->domain || !*np->domain || strcmp(np->domain, "ai.onnx") == 0);
}

static int take_if(fe_onnx_ctx *c, int depth);

/* Translate a branch's nodes as build does the graph's: values first,
 * then the nodes (an If by take_if), each at the If's index. */
static int translate_nodes(fe_onnx_ctx *c, Onnx__NodeProto *const *nodes, size_t n, int index, int depth)
{
	int rc = 0;
	for (size_t k = 0; k < n; k++) {
		node_loc(c, nodes[k], index);
		rc |= define_outputs(c);
	}
	for (size_t k = 0; k < n; k++) {
		if (is_op(nodes[k], "Constant"))
			continue;
		node_loc(c, nodes[k], index);
		rc |= is_op(nodes[k], "If") ? take_if(c, depth + 1) : fe_onnx_node(c);
	}
	return rc ? -1 : 0;
}

/* The If c->np: its condition folded (if_known), the chosen branch's
 * nodes translated, each If output bound to the branch's by an Identity
 * (or made the same constant). */
static int take_if(fe_onnx_ctx *c, int depth)
{
	const Onnx__NodeProto *np = c->np;
	int index = c->index;
	char loc[sizeof c->loc];
	memcpy(loc, c->loc, sizeof loc);
	if (depth > IF_MAX_DEPTH) {
		diag_error(c->d, loc, "If nested more than %d deep", IF_MAX_DEPTH);
		return -1;
	}
	const Onnx__GraphProto *br[2] = {NULL, NULL};
	for (size_t i = 0; i < np->n_attribute; i++) {
		const Onnx__AttributeProto *a = np->attribute[i];
		int k = strcmp(nz(a->name), "then_branch") == 0 ? 0 : strcmp(nz(a->name), "else_branch") == 0 ? 1 : -1;
		if (k < 0) {
			diag_error(c->d, loc, "unsupported attribute '%s'", nz(a->name));
			return -1;
		}
		br[k] = a->g;
	}
	if (!br[0] || !br[1]) {
		diag_error(c->d, loc, "If needs graph attributes then_branch and else_branch");
		return -1;
	}
	if (np->n_input != 1) {
		diag_error(c->d, loc, "If takes one input, the condition; has %zu", np->n_input);
		return -1;
	}
	ir_value *cond = ir_graph_find_value(c->g, nz(np->input[0]));
	if (!cond) {
		diag_error(c->d, loc, "input 0 '%s': unknown value name", nz(np->input[0]));
		return -1;
	}
	diag_sink q;
	diag_sink_init_capture(&q);
	bool known = if_known(c, cond, &q) && ir_shape_numel(&cond->shape) == 1;
	diag_sink_fini(&q);
	if (!known) {
		diag_error(c->d, loc,
		           "the condition '%s' is not known at compile time: qgtc compiles static graphs and takes an "
		           "If only when its condition folds to a constant (from constants and static dimensions)",
		           nz(np->input[0]));
		return -1;
	}
	const Onnx__GraphProto *b = br[ir_const_get(cond, 0) != 0 ? 0 : 1];
	const char *bname = b == br[0] ? "then_branch" : "else_branch";
	if (b->n_input) {
		diag_error(c->d, loc, "%s has inputs; an If branch takes none", bname);
		return -1;
	}
	if (b->n_output != np->n_output) {
		diag_error(c->d, loc, "%s has %zu outputs, the If %zu", bname, b->n_output, np->n_output);
		return -1;
	}
	if (b->n_sparse_initializer) {
		diag_error(c->d, loc, "%s: sparse initializers are not supported", bname);
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < b->n_initializer; i++)
		rc |= add_initializer(c, b->initializer[i], i);
	rc |= translate_nodes(c, b->node, b->n_node, index, depth);
	node_loc(c, np, index);
	for (size_t i = 0; i < np->n_output && !rc; i++) {
		const char *name = nz(np->output[i]), *bout = nz(b->output[i]->name);
		ir_value *y = *name ? ir_graph_find_value(c->g, name) : NULL;
		ir_value *x = ir_graph_find_value(c->g, bout);
		if (!y)
			continue;
		if (!x) {
			diag_error(c->d, loc, "%s output %zu '%s': unknown value name", bname, i, bout);
			rc = -1;
		} else if (ir_value_is_const(x) && x->data) {
			y->dt = x->dt;
			y->shape = x->shape;
			if (ir_value_set_const(c->g, y, x->data)) {
				diag_error(c->d, loc, "out of memory");
				return -1;
			}
		} else if (!ir_graph_add_node(c->g, IR_OP_IDENTITY, np->name, 1, &x, 1, &y)) {
			diag_error(c->d, loc, "out of memory");
			rc = -1;
		}
	}
	return rc ? -1 : 0;
}

static int presort(ir_graph *g);

static ir_graph *build(const Onnx__ModelProto *m, const char *file, const char *model_dir,
                       diag_sink *d)
{
	int nerr0 = d->nerr;
	const Onnx__GraphProto *G = m->graph;
	if (!G) {
		diag_error(d, file, "model has no graph");
		return NULL;
	}
	int64_t opset = -1;
	for (size_t i = 0; i < m->n_opset_import; i++) {
		const Onnx__OperatorSetIdProto *o = m->opset_import[i];
		const char *dom = nz(o->domain);
		if (!*dom || strcmp(dom, "ai.onnx") == 0)
			opset = o->has_version ? o->version : 1;
	}
	if (opset < 0)
		opset = 1;
	if (opset < FE_ONNX_OPSET_MIN || opset > FE_ONNX_OPSET_MAX) {
		diag_error(d, file, "ai.onnx opset %lld is not supported (qgtc supports opsets %d to %d)",
		           (long long)opset, FE_ONNX_OPSET_MIN, FE_ONNX_OPSET_MAX);
		return NULL;
	}
	ir_graph *g = ir_graph_create(G->name && *G->name ? G->name : "main");
	if (!g) {
		diag_error(d, file, "out of memory");
		return NULL;
	}
	g->src_file = ir_arena_strdup(g->arena, file);
	fe_onnx_ctx c = {.g = g, .d = d, .file = g->src_file, .model_dir = model_dir, .opset = opset};
	fe_onnx_flat fl = {0};
	if (!g->src_file) {
		diag_error(d, file, "out of memory");
		goto fail;
	}

	for (size_t i = 0; i < G->n_initializer; i++)
		if (add_initializer(&c, G->initializer[i], i) && G->initializer[i]->name)
			ir_graph_add_value(g, G->initializer[i]->name, IR_DT_UNDEF, NULL);
	for (size_t i = 0; i < G->n_sparse_initializer; i++) {
		const Onnx__SparseTensorProto *sp = G->sparse_initializer[i];
		diag_error(d, file, "sparse initializer '%s' is not supported",
		           sp->values ? nz(sp->values->name) : "");
	}
	/* A failed definition leaves a placeholder so that its uses do not
	 * cascade into "unknown value" errors. */
	for (size_t i = 0; i < G->n_input; i++)
		if (add_graph_input(&c, G->input[i], i) && G->input[i]->name)
			ir_graph_add_value(g, G->input[i]->name, IR_DT_UNDEF, NULL);
	if (G->n_node > INT_MAX / 2) {
		diag_error(d, file, "too many nodes (%zu)", G->n_node);
		goto fail;
	}
	if (fe_onnx_flatten(m, opset, file, &fl, d))
		goto fail;
	for (size_t i = 0; i < fl.n; i++) {
		node_loc(&c, fl.node[i], fl.origin[i]);
		c.opset = fl.opset[i];
		define_outputs(&c);
	}
	for (size_t i = 0; i < fl.n; i++) {
		const Onnx__NodeProto *np = fl.node[i];
		if (is_op(np, "Constant"))
			continue;
		node_loc(&c, np, fl.origin[i]);
		c.opset = fl.opset[i];
		if (is_op(np, "If"))
			take_if(&c, 0);
		else
			fe_onnx_node(&c);
	}
	c.opset = opset;
	if (G->n_output == 0)
		diag_error(d, file, "graph has no outputs");
	for (size_t i = 0; i < G->n_output; i++) {
		const char *name = nz(G->output[i]->name);
		ir_value *v = ir_graph_find_value(g, name);
		if (!v) {
			diag_error(d, file, "graph output '%s': unknown value name", name);
			continue;
		}
		ir_graph_add_output(g, v);
	}
	/* Nodes an If's condition folded (take_if) go now that every value
	 * has its uses. */
	for (int i = 0; i < g->nnodes; i++)
		if (g->nodes[i]->dead) {
			ir_graph_compact(g);
			break;
		}
	/* An error above may be a consequence: say what it was. */
	if (ir_graph_oom(g)) {
		diag_error(d, file, "out of memory");
		goto fail;
	}
	if (d->nerr > nerr0)
		goto fail;
	if (presort(g)) {
		diag_error(d, file, "out of memory");
		goto fail;
	}
	if (ir_graph_toposort(g, d))
		goto fail;
	fe_onnx_flat_free(&fl);
	free(c.bits);
	return g;
fail:
	fe_onnx_flat_free(&fl);
	free(c.bits);
	ir_graph_destroy(g);
	return NULL;
}

/* Put g's nodes in the smallest-index topological order (source order
 * when that is already valid), nodes on or behind a cycle last, in
 * O((V + E) log V).  ir_graph_toposort's sweeps then take one pass, not
 * one per node, on a hostile file listing a long chain backwards; it still
 * reports any cycle. */
static int presort(ir_graph *g)
{
	int n = g->nnodes, rc = -1;
	size_t ne = 0;
	for (int i = 0; i < n; i++) {
		g->nodes[i]->id = i;
		ne += (size_t)g->nodes[i]->nin;
	}
	int *indeg = calloc((size_t)n + 1, sizeof *indeg);
	size_t *start = calloc((size_t)n + 2, sizeof *start);
	size_t *fill = malloc(sizeof *fill * ((size_t)n + 1));
	int *edge = malloc(sizeof *edge * (ne + 1));
	int *heap = malloc(sizeof *heap * ((size_t)n + 1));
	char *placed = calloc((size_t)n + 1, 1);
	ir_node **order = malloc(sizeof *order * ((size_t)n + 1));
	if (!indeg || !start || !fill || !edge || !heap || !placed || !order)
		goto out;
	/* consumers of each node, CSR */
	for (int i = 0; i < n; i++)
		for (int j = 0; j < g->nodes[i]->nin; j++) {
			ir_value *v = g->nodes[i]->in[j];
			if (v && v->producer) {
				start[v->producer->id + 1]++;
				indeg[i]++;
			}
		}
	for (int i = 0; i < n; i++)
		start[i + 1] += start[i];
	for (int i = 0; i < n; i++)
		fill[i] = start[i];
	for (int i = 0; i < n; i++)
		for (int j = 0; j < g->nodes[i]->nin; j++) {
			ir_value *v = g->nodes[i]->in[j];
			if (v && v->producer)
				edge[fill[v->producer->id]++] = i;
		}
	int hn = 0, k = 0;
	for (int i = 0; i < n; i++)
		if (!indeg[i])
			heap[hn++] = i; /* ascending: already a min-heap */
	while (hn) {
		int top = heap[0];
		heap[0] = heap[--hn];
		for (int i = 0;;) { /* sift down */
			int l = 2 * i + 1, r = l + 1, m = i;
			if (l < hn && heap[l] < heap[m])
				m = l;
			if (r < hn && heap[r] < heap[m])
				m = r;
			if (m == i)
				break;
			int t = heap[i];
			heap[i] = heap[m];
			heap[m] = t;
			i = m;
		}
		order[k++] = g->nodes[top];
		placed[top] = 1;
		for (size_t e = start[top]; e < start[top + 1]; e++) {
			int c = edge[e];
			if (--indeg[c])
				continue;
			int i = hn++; /* sift up */
			heap[i] = c;
			while (i && heap[(i - 1) / 2] > heap[i]) {
				int t = heap[i];
				heap[i] = heap[(i - 1) / 2];
				heap[(i - 1) / 2] = t;
				i = (i - 1) / 2;
			}
		}
	}
	for (int i = 0; i < n; i++)
		if (!placed[i])
			order[k++] = g->nodes[i];
	for (int i = 0; i < n; i++) {
		g->nodes[i] = order[i];
		order[i]->id = i;
	}
	rc = 0;
out:
	free(indeg);
	free(start);
	free(fill);
	free(edge);
	free(heap);
	free(placed);
	free(order);
	return rc;
}

/* ------------------------------------------------------------ entries */

ir_graph *fe_onnx_load_buffer(const void *buf, size_t len, const char *diag_name,
                              const char *model_dir, diag_sink *d)
{
	const char *name = diag_name ? diag_name : "<memory>";
	if ((uint64_t)len > (uint64_t)FE_MAX_FILE_BYTES) {
		diag_error(d, name, "model is %zu bytes; the limit is %lld", len,
		           (long long)FE_MAX_FILE_BYTES);
		return NULL;
	}
	Onnx__ModelProto *m = fe_onnx_unpack(&onnx__model_proto__descriptor, buf, len, name, "model", d);
	if (!m)
		return NULL;
	ir_graph *g = build(m, name, model_dir, d);
	onnx__model_proto__free_unpacked(m, &pb_freer);
	return g;
}

ir_graph *fe_onnx_load(const char *path, diag_sink *d)
{
	unsigned char *buf;
	size_t len;
	if (read_file(path, &buf, &len, d))
		return NULL;
	char *dir = dir_of(path);
	ir_graph *g = NULL;
	if (!dir)
		diag_error(d, path, "out of memory");
	else
		g = fe_onnx_load_buffer(buf, len, path, dir, d);
	free(dir);
	free(buf);
	return g;
}

int fe_onnx_load_tensor(const char *path, ir_tensor *t, diag_sink *d)
{
	memset(t, 0, sizeof *t);
	unsigned char *buf;
	size_t len;
	if (read_file(path, &buf, &len, d))
		return -1;
	Onnx__TensorProto *tp =
		fe_onnx_unpack(&onnx__tensor_proto__descriptor, buf, len, path, "tensor", d);
	free(buf);
	if (!tp)
		return -1;
	char *dir = dir_of(path);
	char what[300];
	snprintf(what, sizeof what, "tensor '%.256s'", nz(tp->name));
	int rc = -1;
	if (!dir)
		diag_error(d, path, "out of memory");
	else
		rc = fe_onnx_tensor(tp, path, what, dir, t, d);
	free(dir);
	onnx__tensor_proto__free_unpacked(tp, &pb_freer);
	return rc;
}
