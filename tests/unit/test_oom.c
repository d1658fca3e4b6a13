/* test_oom.c: out of memory, on purpose (Lua's ltests.h).  The program is
 * linked with -Wl,--wrap for malloc, calloc, realloc, free, strdup and
 * strndup, so every allocation the (static) qgtc libraries make comes
 * through the wrappers below; they make the Nth one fail and keep the set
 * of blocks still live.  For every N, each loader and pass pipeline must
 * either report "out of memory" and return nothing, or succeed with
 * exactly the result of a run without failures, and in both cases leave
 * nothing allocated.  (Allocations inside shared libraries are not seen:
 * libc's for fopen, asprintf and realpath, zlib's.  protobuf-c's are: the
 * ONNX loader gives it an allocator of its own.)  Works under ASan, whose
 * malloc is then the "real" one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "data.h"
#include "dsl.h"
#include "frontend.h"
#include "ir.h"
#include "onnx_write.h"
#include "pass.h"
#include "quant.h"

#define SRC QGTC_SOURCE_DIR
#define NODE_TESTS QGTC_SHARED_DIR "/onnx-node-tests"

/* ------------------------------------------------------- the wrappers */

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static bool tracking;       /* count calls and keep the live set */
static long ncalls;         /* allocation calls since oom_start */
static long fail_at;        /* the call that fails (1-based); 0: none */
static uint64_t nbytes;     /* bytes asked for since oom_start (a bound on the peak) */
static bool failed;         /* it did */

/* The live set: blocks allocated while tracking and not freed yet, in an
 * open-addressed table (linear probing, backward-shift deletion) kept
 * with the real allocator. */
static void **live;
static size_t live_cap, live_len;

static size_t live_hash(const void *p)
{
	return (size_t)(((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ull) & (live_cap - 1);
}

static void live_add(void *p)
{
	if ((live_len + 1) * 2 > live_cap) {
		size_t ocap = live_cap;
		void **old = live;
		live_cap = ocap ? ocap * 2 : 1024;
		live = __real_calloc(live_cap, sizeof *live);
		if (!live)
			abort(); /* the test's own bookkeeping */
		live_len = 0;
		for (size_t i = 0; i < ocap; i++)
			if (old[i])
				live_add(old[i]);
		__real_free(old);
	}
	size_t j = live_hash(p);
	while (live[j])
		j = (j + 1) & (live_cap - 1);
	live[j] = p;
	live_len++;
}

static void live_del(void *p)
{
	if (!live_cap)
		return;
	size_t j = live_hash(p);
	while (live[j] && live[j] != p)
		j = (j + 1) & (live_cap - 1);
	if (!live[j])
		return; /* allocated before tracking, or inside libc */
	live[j] = NULL;
	live_len--;
	for (size_t k = (j + 1) & (live_cap - 1); live[k]; k = (k + 1) & (live_cap - 1)) {
		void *q = live[k];
		live[k] = NULL;
		live_len--;
		live_add(q);
	}
}

static void live_clear(void)
{
	if (live)
		memset(live, 0, live_cap * sizeof *live);
	live_len = 0;
}

/* Does this call (of n bytes) fail? */
static bool oom_fail(size_t n)
{
	if (!tracking)
		return false;
	nbytes += n;
	if (++ncalls == fail_at) {
		failed = true;
		return true;
	}
	return false;
}

static void *track(void *p)
{
	if (p && tracking)
		live_add(p);
	return p;
}

void *__wrap_malloc(size_t n)
{
	return oom_fail(n) ? NULL : track(__real_malloc(n));
}

void *__wrap_calloc(size_t k, size_t n)
{
	return oom_fail(k * n) ? NULL : track(__real_calloc(k, n));
}

void *__wrap_realloc(void *p, size_t n)
{
	if (oom_fail(n))
		return NULL;
	void *q = __real_realloc(p, n);
	if (q && tracking) {
		if (p)
			live_del(p);
		live_add(q);
	}
	return q;
}

void __wrap_free(void *p)
{
	if (p)
		live_del(p);
	__real_free(p);
}

char *__wrap_strdup(const char *s)
{
	return oom_fail(strlen(s) + 1) ? NULL : track(__real_strdup(s));
}

char *__wrap_strndup(const char *s, size_t n)
{
	return oom_fail(strnlen(s, n) + 1) ? NULL : track(__real_strndup(s, n));
}

/* Start counting with call `n` to fail (0: none). */
static void oom_start(long n)
{
	live_clear();
	ncalls = 0;
	nbytes = 0;
	fail_at = n;
	failed = false;
	tracking = true;
}

static void oom_stop(void)
{
	tracking = false;
	fail_at = 0;
}

/* ------------------------------------------------------- the sweep */

/* One operation under test: does its work (and frees what it made),
 * reporting to d; on success *text is a description of its result
 * (printed graph, tensor bytes), built with tracking paused. */
typedef int (*oom_op)(const void *arg, diag_sink *d, char **text);

/* Pause tracking around work that is the test's, not the library's. */
static bool pause_tracking(void)
{
	bool was = tracking;
	tracking = false;
	return was;
}

static char *graph_text(const ir_graph *g)
{
	bool was = pause_tracking();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	ir_print(f, g, -1);
	fclose(f);
	tracking = was;
	return buf;
}

static char *bytes_text(const void *p, size_t n)
{
	bool was = pause_tracking();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", ((const unsigned char *)p)[i]);
	fclose(f);
	tracking = was;
	return buf;
}

/* Run op once with allocation `n` failing (0: none); *rc, *text (of a
 * success) and *msgs (what was reported) come back, malloc'd. */
static long run_once(oom_op op, const void *arg, long n, int *rc, char **text, char **msgs)
{
	char *mbuf = NULL;
	size_t mlen = 0;
	FILE *mf = open_memstream(&mbuf, &mlen);
	assert_non_null(mf);
	diag_sink d;
	diag_sink_init(&d, mf);
	*text = NULL;
	oom_start(n);
	*rc = op(arg, &d, text);
	long calls = ncalls;
	oom_stop();
	fclose(mf);
	*msgs = mbuf;
	if (*rc)
		assert_true(d.nerr > 0);
	return calls;
}

/* QGTC_OOM_ALL=1 runs every N; by default at most this many N per
 * operation, spread evenly over its allocations (all of them when there
 * are fewer). */
enum { MAX_SAMPLES = 1500 };

/* Sweep op over every failing allocation (or a sample); `good`: op
 * succeeds without failures (else it reports errors of its own, and each
 * failure must report those or out of memory). */
static void sweep(const char *what, oom_op op, const void *arg, bool good)
{
	/* QGTC_OOM_ONLY=TEXT: only the sweeps whose name holds TEXT;
	 * QGTC_OOM_TRACE=1: say which N runs (to find a crash). */
	const char *only = getenv("QGTC_OOM_ONLY"), *trace = getenv("QGTC_OOM_TRACE");
	if (only && !strstr(what, only))
		return;
	int rc0;
	char *ref = NULL, *refmsg = NULL;
	long total = run_once(op, arg, 0, &rc0, &ref, &refmsg);
	if ((rc0 == 0) != good)
		fail_msg("%s: %s without failures:\n%s", what, good ? "failed" : "succeeded", refmsg);
	if (live_len)
		fail_msg("%s: %zu blocks left allocated by a run without failures", what, live_len);
	assert_true(total > 0);
	const char *all = getenv("QGTC_OOM_ALL");
	long step = all && *all == '1' ? 1 : (total + MAX_SAMPLES - 1) / MAX_SAMPLES;
	long tested = 0;
	for (long n = 1; n <= total; n += step) {
		int rc;
		char *text = NULL, *msgs = NULL;
		if (trace && *trace == '1')
			print_message("%s: allocation %ld of %ld fails\n", what, n, total);
		run_once(op, arg, n, &rc, &text, &msgs);
		if (!failed)
			fail_msg("%s: allocation %ld of %ld was never made (not deterministic?)", what, n, total);
		if (live_len)
			fail_msg("%s: allocation %ld of %ld failed: %zu blocks left allocated (rc %d)\n%s",
			         what, n, total, live_len, rc, msgs);
		if (rc == 0 && rc0 == 0 && strcmp(text, ref) != 0)
			fail_msg("%s: allocation %ld of %ld failed, yet it succeeded with a different "
			         "result:\n%s\n%s", what, n, total, text, msgs);
		if (rc == 0 && rc0 != 0)
			fail_msg("%s: allocation %ld of %ld failed, yet it succeeded", what, n, total);
		if (rc != 0 && !strstr(msgs, "out of memory") && !(rc0 != 0 && strcmp(msgs, refmsg) == 0))
			fail_msg("%s: allocation %ld of %ld failed: not reported as out of memory:\n%s",
			         what, n, total, msgs);
		free(text);
		free(msgs);
		tested++;
	}
	print_message("%s: %ld allocations, %ld failures tried\n", what, total, tested);
	free(ref);
	free(refmsg);
}

/* ------------------------------------------------------ the operations */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

typedef struct text_arg {
	const char *name;
	const char *text;
	size_t len;
	const char *dir;
} text_arg;

/* A loader's result as an op's: the graph's text, or -1 if it failed. */
static int loaded(ir_graph *g, char **text)
{
	if (!g)
		return -1;
	*text = graph_text(g);
	ir_graph_destroy(g);
	return 0;
}

static int op_qir(const void *arg, diag_sink *d, char **text)
{
	const text_arg *a = arg;
	return loaded(ir_parse(a->text, a->len, a->name, d), text);
}

static int op_onnx(const void *arg, diag_sink *d, char **text)
{
	const text_arg *a = arg;
	return loaded(fe_onnx_load_buffer(a->text, a->len, a->name, a->dir, d), text);
}

static int op_dsl(const void *arg, diag_sink *d, char **text)
{
	const text_arg *a = arg;
	return loaded(fe_dsl_load_buffer(a->text, a->len, a->name, a->dir, d), text);
}

static int op_npy(const void *arg, diag_sink *d, char **text)
{
	const text_arg *a = arg;
	ir_tensor t;
	if (fe_npy_load_buffer(a->text, a->len, a->name, &t, d))
		return -1;
	size_t n = (size_t)ir_shape_numel(&t.shape) * ir_dtype_size(t.dt);
	*text = bytes_text(t.data, n);
	ir_tensor_free(&t);
	return 0;
}

typedef struct idx_arg {
	const unsigned char *img, *lab;
	size_t nimg, nlab;
} idx_arg;

static int op_idx(const void *arg, diag_sink *d, char **text)
{
	const idx_arg *a = arg;
	qgt_dataset ds;
	if (qgt_dataset_load_idx_buffers(&ds, a->img, a->nimg, "img.idx", a->lab, a->nlab, "lab.idx",
	                                 NULL, d))
		return -1;
	bool was = pause_tracking();
	char *x = bytes_text(ds.x, sizeof(float) * (size_t)(ds.n * ds.sample_numel));
	char *y = bytes_text(ds.y, sizeof(int32_t) * (size_t)ds.n);
	size_t nx = strlen(x), ny = strlen(y);
	*text = malloc(nx + ny + 2);
	assert_non_null(*text);
	memcpy(*text, x, nx);
	(*text)[nx] = '/';
	memcpy(*text + nx + 1, y, ny + 1);
	free(x);
	free(y);
	tracking = was;
	qgt_dataset_free(&ds);
	return 0;
}

/* A pipeline over a graph loaded (untracked) from a .qir, ONNX or DSL
 * file for each run. */
typedef struct pipe_arg {
	const char *path;
	const char *pipeline;
	const pass_options *o;
	const char *const *must;    /* what its result holds (NULL-terminated); may be NULL */
} pipe_arg;

static ir_graph *load_any(const char *path, diag_sink *d)
{
	size_t n = strlen(path);
	if (n > 4 && strcmp(path + n - 4, ".qgm") == 0)
		return fe_dsl_load(path, d);
	if (n > 5 && strcmp(path + n - 5, ".onnx") == 0)
		return fe_onnx_load(path, d);
	size_t len;
	char *text = slurp(path, &len);
	ir_graph *g = ir_parse(text, len, path, d);
	free(text);
	return g;
}

/* a's file loaded, and put through `pipeline` when not NULL, with
 * tracking paused: the test's setup, which must succeed. */
static ir_graph *load_untracked(const pipe_arg *a, const char *pipeline)
{
	bool was = pause_tracking();
	diag_sink quiet;
	diag_sink_init_capture(&quiet);
	ir_graph *g = load_any(a->path, &quiet);
	if (!g || (pipeline && pass_run_pipeline(g, pipeline, a->o, &quiet)))
		fail_msg("%s:\n%s", a->path, quiet.buf ? quiet.buf : "");
	diag_sink_fini(&quiet);
	tracking = was;
	return g;
}

static int op_pipeline(const void *arg, diag_sink *d, char **text)
{
	const pipe_arg *a = arg;
	ir_graph *g = load_untracked(a, NULL);
	int rc = pass_run_pipeline(g, a->pipeline, a->o, d);
	if (!rc)
		*text = graph_text(g);
	for (int i = 0; !rc && a->must && a->must[i]; i++)
		if (!strstr(*text, a->must[i]))
			fail_msg("%s after %s holds no '%s':\n%s", a->path, a->pipeline, a->must[i], *text);
	ir_graph_destroy(g);
	return rc;
}

/* fe_onnx_write_buffer of a graph loaded (and put through a pipeline,
 * when one is given) untracked: the written bytes are its result. */
static int op_onnx_write(const void *arg, diag_sink *d, char **text)
{
	const pipe_arg *a = arg;
	ir_graph *g = load_untracked(a, a->pipeline);
	void *buf = NULL;
	size_t len = 0;
	int rc = fe_onnx_write_buffer(g, &buf, &len, d);
	if (!rc)
		*text = bytes_text(buf, len);
	free(buf);
	bool w = pause_tracking();
	ir_graph_destroy(g);
	tracking = w;
	return rc;
}

/* -------------------------------------------------------------- tests */

static void sweep_file(const char *what, oom_op op, const char *path, const char *dir)
{
	text_arg a = {path, NULL, 0, dir};
	char *buf = slurp(path, &a.len);
	a.text = buf;
	sweep(what, op, &a, true);
	free(buf);
}

static void test_oom_qir_parse(void **state)
{
	(void)state;
	sweep_file("ir_parse conv_bn.qir", op_qir, SRC "/tests/passes/bnfold/conv_bn.qir", NULL);
	sweep_file("ir_parse narrow.qir", op_qir, SRC "/tests/passes/fold-qdq/narrow.qir", NULL);
	sweep_file("ir_parse int_raw.qir", op_qir, SRC "/tests/backend/int_raw.qir", NULL);
	/* weights with codes and packed bits, as the quantizing pipeline
	 * prints them */
	pass_quant_options qo = {.bits = 2, .scheme = IR_QS_AFFINE};
	pass_options o = {.quant = &qo};
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_graph *g = fe_dsl_load(SRC "/examples/ds_cnn_kws.qgm", &d);
	assert_non_null(g);
	assert_int_equal(pass_run_pipeline(g, PASS_QUANT_PIPELINE, &o, &d), 0);
	char *text = graph_text(g);
	ir_graph_destroy(g);
	diag_sink_fini(&d);
	text_arg a = {"kws-w2.qir", text, strlen(text), NULL};
	sweep("ir_parse kws-w2.qir", op_qir, &a, true);
	free(text);
	/* errors, and out of memory while reporting them */
	static const char bad[] = "graph g {\n  input %x: f32[2]\n  %y: f32[2] = nosuchop(%x)\n"
	                          "  %z: f32[2] = relu(%undefined)\n  output %y\n}\n";
	text_arg b = {"bad.qir", bad, sizeof bad - 1, NULL};
	sweep("ir_parse bad.qir", op_qir, &b, false);
}

static void test_oom_onnx_load(void **state)
{
	(void)state;
	sweep_file("onnx basic_conv_with_padding", op_onnx,
	           NODE_TESTS "/test_basic_conv_with_padding/model.onnx", NULL);
	sweep_file("onnx qlinearconv", op_onnx, NODE_TESTS "/test_qlinearconv/model.onnx", NULL);
	/* QDQ models as tests/quant/qdq_check.py writes them (--keep): int8,
	 * and int4 activations and weights (packed INT4 initializers) */
	sweep_file("onnx qdq_conv_i8_prepad", op_onnx, SRC "/tests/unit/oom/qdq_conv_i8_prepad.onnx", NULL);
	sweep_file("onnx qdq_conv_x4_w4", op_onnx, SRC "/tests/unit/oom/qdq_conv_x4_w4.onnx", NULL);
	sweep_file("onnx fashion_cnn", op_onnx, SRC "/examples/fashion_cnn/fashion_cnn.onnx", NULL);
	/* model-local functions: nested calls, a default, an overload */
	sweep_file("onnx local functions", op_onnx, SRC "/tests/fuzz/corpus/onnx/seed-local-functions.onnx", NULL);
}

/* Protobuf's memory is capped: a file of 2-byte empty TensorProtos (each
 * hundreds of bytes unpacked) is refused once unpacking it would pass
 * FE_ONNX_MAX_UNPACK_BYTES, and no more than that is ever allocated. */
static void test_oom_onnx_unpack_cap(void **state)
{
	(void)state;
	enum { N = 1 << 20 };
	size_t inner = 2 * (size_t)N; /* graph (7): initializer (5) x N */
	unsigned char *buf = malloc(inner + 16);
	assert_non_null(buf);
	size_t k = 0;
	buf[k++] = 7 << 3 | 2;
	for (size_t v = inner; v; v >>= 7) /* varint length */
		buf[k++] = (unsigned char)((v & 127) | (v > 127 ? 128 : 0));
	for (int i = 0; i < N; i++) {
		buf[k++] = 5 << 3 | 2;
		buf[k++] = 0;
	}
	size_t len = k;
	char *mbuf = NULL;
	size_t mlen = 0;
	FILE *mf = open_memstream(&mbuf, &mlen);
	assert_non_null(mf);
	diag_sink d;
	diag_sink_init(&d, mf);
	oom_start(0);
	ir_graph *g = fe_onnx_load_buffer(buf, len, "bomb.onnx", NULL, &d);
	uint64_t asked = nbytes;
	size_t left = live_len;
	oom_stop();
	fclose(mf);
	ir_graph_destroy(g);
	free(buf);
	if (g || !strstr(mbuf, "bomb.onnx: error: not a valid ONNX model (unpacking it would take more "
	                       "than"))
		fail_msg("bomb.onnx: expected the unpacking cap, got:\n%.2000s", mbuf);
	free(mbuf);
	uint64_t cap = FE_ONNX_MAX_UNPACK_BYTES(len);
	if (asked > cap + (1 << 20))
		fail_msg("bomb.onnx: %llu bytes allocated; the cap is %llu", (unsigned long long)asked,
		         (unsigned long long)cap);
	assert_int_equal(left, 0);
	print_message("bomb.onnx: %zu bytes, refused after %llu bytes allocated (cap %llu)\n", len,
	              (unsigned long long)asked, (unsigned long long)cap);
}

static void test_oom_dsl_load(void **state)
{
	(void)state;
	sweep_file("dsl ds_cnn_kws.qgm", op_dsl, SRC "/examples/ds_cnn_kws.qgm", SRC "/examples");
	sweep_file("dsl mobilenet_v1_025_vww.qgm", op_dsl, SRC "/examples/mobilenet_v1_025_vww.qgm",
	           SRC "/examples");
	/* with its weights from an ONNX file */
	sweep_file("dsl fashion_cnn.qgm", op_dsl, SRC "/examples/fashion_cnn.qgm", SRC "/examples");
	static const char bad[] = "model m\ninput x: f32[1, 4]\ndense(3, nosuch=1)\nundefined_layer(2)\n"
	                          "output as y\n";
	text_arg b = {"bad.qgm", bad, sizeof bad - 1, "."};
	sweep("dsl bad.qgm", op_dsl, &b, false);
}

static void test_oom_npy_idx_load(void **state)
{
	(void)state;
	sweep_file("npy x.npy", op_npy, SRC "/tests/unit/oom/x.npy", NULL);
	/* 3 images of 2x3 and their labels, big-endian IDX headers */
	static const unsigned char img[] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 3,
	                                    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18};
	static const unsigned char lab[] = {0, 0, 8, 1, 0, 0, 0, 3, 2, 0, 1};
	idx_arg a = {img, lab, sizeof img, sizeof lab};
	sweep("idx buffers", op_idx, &a, true);
}

static void test_oom_default_pipeline(void **state)
{
	(void)state;
	pass_options o = {.batch = 1};
	static const char *const integer[] = {"conv(%", "rq_mult=", NULL};
	pipe_arg a[] = {
		{SRC "/tests/passes/fold-qdq/narrow.qir", PASS_DEFAULT_PIPELINE, &o, NULL},
		/* fold-qdq makes its conv an integer one */
		{SRC "/tests/unit/oom/qdq_conv_i8_prepad.onnx", PASS_DEFAULT_PIPELINE, &o, integer},
		{SRC "/examples/fashion_cnn.qgm", PASS_DEFAULT_PIPELINE ",memplan", &o, NULL},
	};
	for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
		sweep(a[i].path, op_pipeline, &a[i], true);
}

/* small_cnn's W2A8 options: weights 2-bit, activations int8 calibrated
 * on 4 fixed 8x8 inputs. */
static pass_quant_options w2a8_options(void)
{
	enum { NCAL = 4, NUMEL = 8 * 8 };
	static float cal[NCAL * NUMEL];
	for (int i = 0; i < NCAL * NUMEL; i++)
		cal[i] = (float)((i * 7919) % 256) / 255.0f;
	return (pass_quant_options){.bits = 2, .scheme = IR_QS_AFFINE, .act_bits = 8,
	                            .calib_x = cal, .calib_n = NCAL, .calib_numel = NUMEL};
}

static void test_oom_quant_pipeline(void **state)
{
	(void)state;
	pass_quant_options qo = w2a8_options();
	pass_options o = {.quant = &qo, .batch = 1};
	static const char *const w2a8[] = {"%bn1.q: i8[1,4,8,8]", "%conv1.weight.int: u8[4,1,3,3]",
	                                   "= softmax(%dense1.f32.q)", NULL};
	pipe_arg a = {SRC "/tests/unit/oom/small_cnn.qgm", PASS_QUANT_PIPELINE ",memplan", &o, w2a8};
	sweep("small_cnn W2A8", op_pipeline, &a, true);
	/* weights only: codes, bit-packed */
	pass_quant_options qw = {.bits = 2, .scheme = IR_QS_AFFINE, .calib = PASS_CALIB_MSE};
	pass_options ow = {.quant = &qw, .batch = 1};
	static const char *const w2[] = {"bits=2", "codes=", NULL};
	pipe_arg b = {SRC "/tests/unit/oom/small_cnn.qgm", PASS_QUANT_PIPELINE ",memplan", &ow, w2};
	sweep("small_cnn W2", op_pipeline, &b, true);
}

/* The ONNX writer (--save-onnx): a float model, and a W2A8 one that it
 * expands into QDQ. */
static void test_oom_onnx_write(void **state)
{
	(void)state;
	pass_options o = {.batch = 1};
	pipe_arg f = {SRC "/examples/fashion_cnn/fashion_cnn.onnx", NULL, &o, NULL};
	sweep("onnx write fashion_cnn", op_onnx_write, &f, true);
	pass_quant_options qo = w2a8_options();
	pass_options oq = {.quant = &qo, .batch = 1};
	pipe_arg q = {SRC "/tests/unit/oom/small_cnn.qgm", PASS_QUANT_PIPELINE, &oq, NULL};
	sweep("onnx write small_cnn W2A8", op_onnx_write, &q, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oom_qir_parse),
		cmocka_unit_test(test_oom_onnx_load),
		cmocka_unit_test(test_oom_onnx_unpack_cap),
		cmocka_unit_test(test_oom_dsl_load),
		cmocka_unit_test(test_oom_npy_idx_load),
		cmocka_unit_test(test_oom_default_pipeline),
		cmocka_unit_test(test_oom_quant_pipeline),
		cmocka_unit_test(test_oom_onnx_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
