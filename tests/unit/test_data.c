/* test_data.c: labelled data sets: IDX (gzipped or not), NPY pairs, and
 * clean errors for missing or malformed files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "data.h"
#include "frontend.h"

#define FMNIST "/usr/share/datasets/fashion-mnist"

static char tmpdir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/qgtc-test-data-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const void *p, size_t n)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* Loading `split` from dir fails with a diagnostic containing want, and
 * the failed load holds no memory (the caller has nothing to free). */
static void expect_load_error(const char *dir, qgt_split split, const qgt_norm *nm,
                              const char *want)
{
	qgt_dataset ds;
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(qgt_dataset_load(&ds, dir, split, nm, &d), -1);
	if (!strstr(d.buf, want))
		fail_msg("expected a diagnostic containing\n%s\ngot\n%s", want, d.buf);
	assert_null(ds.x);
	assert_null(ds.y);
	diag_sink_fini(&d);
}

static void test_data_fashion_mnist_test_split(void **state)
{
	(void)state;
	if (access(FMNIST "/t10k-labels-idx1-ubyte.gz", R_OK) != 0)
		skip();
	qgt_dataset ds;
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(qgt_dataset_load(&ds, FMNIST, QGT_SPLIT_TEST, NULL, &d), 0);
	assert_int_equal(ds.n, 10000);
	assert_int_equal(ds.sample.rank, 3);
	assert_int_equal(ds.sample.d[0], 1);
	assert_int_equal(ds.sample.d[1], 28);
	assert_int_equal(ds.sample.d[2], 28);
	assert_int_equal(ds.nclasses, 10);
	/* Fashion-MNIST's test set is balanced: 1000 of each class. */
	int count[10] = {0};
	for (int64_t i = 0; i < ds.n; i++)
		count[ds.y[i]]++;
	for (int c = 0; c < 10; c++)
		assert_int_equal(count[c], 1000);
	/* default normalisation maps pixels to [0, 1] */
	float lo = 1, hi = 0;
	for (int64_t i = 0; i < ds.n * ds.sample_numel; i++) {
		lo = ds.x[i] < lo ? ds.x[i] : lo;
		hi = ds.x[i] > hi ? ds.x[i] : hi;
	}
	assert_true(lo == 0.0f && hi == 1.0f);
	qgt_dataset_free(&ds);
	diag_sink_fini(&d);
}

/* A 2-image 2x2 IDX pair written by hand, uncompressed; here as files. */
static const unsigned char pair_img[] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2,
                                         0, 51, 102, 255, 255, 0, 0, 0};
static const unsigned char pair_lab[] = {0, 0, 8, 1, 0, 0, 0, 2, 3, 1};

static void test_data_idx_plain_with_normalisation(void **state)
{
	(void)state;
	write_file("t10k-images-idx3-ubyte", pair_img, sizeof pair_img);
	write_file("t10k-labels-idx1-ubyte", pair_lab, sizeof pair_lab);
	qgt_norm nm;
	qgt_norm_default(&nm);
	nm.mean[0] = 0.5f;
	nm.std[0] = 0.5f;
	qgt_dataset ds;
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(qgt_dataset_load(&ds, tmpdir, QGT_SPLIT_TEST, &nm, &d), 0);
	assert_int_equal(ds.n, 2);
	assert_int_equal(ds.y[0], 3);
	assert_int_equal(ds.y[1], 1);
	assert_int_equal(ds.nclasses, 4);
	/* (p/255 - 0.5)/0.5: 0 -> -1, 51 -> -0.6, 102 -> -0.2, 255 -> 1 */
	assert_float_equal(ds.x[0], -1.0f, 1e-6);
	assert_float_equal(ds.x[1], -0.6f, 1e-6);
	assert_float_equal(ds.x[2], -0.2f, 1e-6);
	assert_float_equal(ds.x[3], 1.0f, 1e-6);
	assert_float_equal(ds.x[4], 1.0f, 1e-6);
	qgt_dataset_free(&ds);
	diag_sink_fini(&d);
}

/* The pair from memory, the images gzipped (two members, as
 * gzip -c a b > c writes) and the labels plain. */
static void test_data_idx_buffers(void **state)
{
	(void)state;
	unsigned char gz[256];
	size_t ngz = 0;
	for (int part = 0; part < 2; part++) {
		z_stream zs = {0};
		assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
		zs.next_in = (unsigned char *)pair_img + (part ? 10 : 0);
		zs.avail_in = part ? sizeof pair_img - 10 : 10;
		zs.next_out = gz + ngz;
		zs.avail_out = (uInt)(sizeof gz - ngz);
		assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
		ngz = sizeof gz - zs.avail_out;
		deflateEnd(&zs);
	}
	qgt_dataset ds;
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(qgt_dataset_load_idx_buffers(&ds, gz, ngz, "img.gz", pair_lab,
	                                              sizeof pair_lab, "lab", NULL, &d), 0);
	assert_int_equal(ds.n, 2);
	assert_int_equal(ds.y[0], 3);
	assert_float_equal(ds.x[1], 0.2f, 1e-6);
	assert_float_equal(ds.x[4], 1.0f, 1e-6);
	qgt_dataset_free(&ds);
	/* cut inside the second member: truncated data, named */
	assert_int_equal(qgt_dataset_load_idx_buffers(&ds, gz, ngz - 12, "img.gz", pair_lab,
	                                              sizeof pair_lab, "lab", NULL, &d), -1);
	assert_non_null(strstr(d.buf, "img.gz: error: truncated IDX data"));
	/* a corrupt gzip stream is an error, never a crash */
	gz[14] ^= 0xff;
	assert_int_equal(qgt_dataset_load_idx_buffers(&ds, gz, ngz, "img.gz", pair_lab,
	                                              sizeof pair_lab, "lab", NULL, &d), -1);
	assert_int_equal(qgt_dataset_load_idx_buffers(&ds, pair_img, sizeof pair_img, "img", pair_lab, 9,
	                                              "lab", NULL, &d), -1);
	assert_non_null(strstr(d.buf, "lab: error: truncated IDX data: 1 of 2 bytes"));
	assert_null(ds.x);
	diag_sink_fini(&d);
}

static void test_data_idx_errors_name_the_file(void **state)
{
	(void)state;
	expect_load_error("/nonexistent/dir", QGT_SPLIT_TEST, NULL,
	                  "/nonexistent/dir: error: data directory not found");

	/* truncated pixel data */
	const unsigned char img[] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3};
	write_file("train-images-idx3-ubyte", img, sizeof img);
	write_file("train-labels-idx1-ubyte", pair_lab, sizeof pair_lab);
	expect_load_error(tmpdir, QGT_SPLIT_TRAIN, NULL,
	                  "train-images-idx3-ubyte: error: truncated IDX data: 3 of 8 bytes");

	/* bad magic */
	write_file("train-images-idx3-ubyte", "\x12\x34\x56\x78", 4);
	expect_load_error(tmpdir, QGT_SPLIT_TRAIN, NULL, "not an IDX file");

	/* absurd dimension */
	const unsigned char huge[] = {0, 0, 8, 3, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 2};
	write_file("train-images-idx3-ubyte", huge, sizeof huge);
	expect_load_error(tmpdir, QGT_SPLIT_TRAIN, NULL,
	                  "IDX header declares more than 268435456 values (2147483647 x ...)");

	/* mean/std per channel must match the channel count */
	qgt_norm nm;
	qgt_norm_default(&nm);
	assert_int_equal(qgt_norm_parse_list("0.1,0.2,0.3", nm.mean, 16), 3);
	nm.nmean = 3;
	const unsigned char img2[] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 7};
	const unsigned char lab2[] = {0, 0, 8, 1, 0, 0, 0, 1, 0};
	write_file("train-images-idx3-ubyte", img2, sizeof img2);
	write_file("train-labels-idx1-ubyte", lab2, sizeof lab2);
	expect_load_error(tmpdir, QGT_SPLIT_TRAIN, &nm, "give 3/1 values but samples have 1 channels");
	assert_int_equal(qgt_norm_parse_list("0.1,x", nm.mean, 16), -1);
}

/* Append one gzip member holding p[0..n) to f. */
static void gz_member(FILE *f, const void *p, size_t n)
{
	z_stream zs = {0};
	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	size_t cap = deflateBound(&zs, (uLong)n);
	unsigned char *out = malloc(cap);
	assert_non_null(out);
	zs.next_in = (unsigned char *)p;
	zs.avail_in = (uInt)n;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	assert_int_equal(fwrite(out, 1, cap - zs.avail_out, f), cap - zs.avail_out);
	deflateEnd(&zs);
	free(out);
}

/* A gzip bomb: a 300 KB images file whose header declares 257 images of
 * 1024x1024 and whose data inflates to all of them (257 MiB, 1 GiB as
 * floats).  It is refused from its header, before inflating. */
static void test_data_idx_gzip_bomb(void **state)
{
	(void)state;
	const unsigned char hdr[] = {0, 0, 8, 3, 0, 0, 1, 1, 0, 0, 4, 0, 0, 0, 4, 0};
	unsigned char *zeros = calloc(1, 1 << 20);
	assert_non_null(zeros);
	char path[512];
	snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", tmpdir);
	unlink(path); /* a plain file comes before the .gz */
	snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", tmpdir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	gz_member(f, hdr, sizeof hdr);
	for (int i = 0; i < 257; i++)
		gz_member(f, zeros, 1 << 20);
	assert_true(ftell(f) < 400000);
	fclose(f);
	unsigned char lab[8 + 257] = {0, 0, 8, 1, 0, 0, 1, 1};
	write_file("train-labels-idx1-ubyte", lab, sizeof lab);
	qgt_dataset ds;
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(qgt_dataset_load(&ds, tmpdir, QGT_SPLIT_TRAIN, NULL, &d), -1);
	assert_non_null(d.buf);
	assert_non_null(strstr(d.buf, "train-images-idx3-ubyte.gz: error: IDX header declares more than "
	                              "268435456 values (257 x 1024 x 1024); a data set holds at most "
	                              "268435456 (1024 MiB as floats)"));
	assert_null(ds.x);
	diag_sink_fini(&d);

	/* the same from memory, the header alone (the cap applies before
	 * any data is inflated), and a labels file as large */
	unsigned char lab2[8] = {0, 0, 8, 1, 0x10, 0, 0, 1};
	diag_sink_init_capture(&d);
	assert_int_equal(qgt_dataset_load_idx_buffers(&ds, hdr, sizeof hdr, "img", lab2, sizeof lab2,
	                                              "lab", NULL, &d), -1);
	assert_non_null(strstr(d.buf, "img: error: IDX header declares more than 268435456 values"));
	assert_null(ds.x);
	const unsigned char img1[] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 7};
	assert_int_equal(qgt_dataset_load_idx_buffers(&ds, img1, sizeof img1, "img", lab2,
	                                              sizeof lab2, "lab", NULL, &d), -1);
	assert_non_null(strstr(d.buf, "lab: error: IDX header declares more than 268435456 values "
	                              "(268435457)"));
	diag_sink_fini(&d);
	free(zeros);
}

/* An NPY v1.0 file: descr like "<f4", shape as "(2,)" or "(2, 2, 2)". */
static void write_npy(const char *name, const char *descr, const char *shape, const void *p,
                      size_t n)
{
	char hdr[128];
	int len = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
	                   descr, shape);
	int total = (10 + len + 1 + 63) / 64 * 64;
	char buf[256 + 64];
	memcpy(buf, "\x93NUMPY\x01\x00", 8);
	buf[8] = (char)((total - 10) & 0xff);
	buf[9] = (char)((total - 10) >> 8);
	memcpy(buf + 10, hdr, (size_t)len);
	memset(buf + 10 + len, ' ', (size_t)(total - 10 - len));
	buf[total - 1] = '\n';
	char path[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, (size_t)total, f), (size_t)total);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* Bad NPY labels name the file and the problem, and a failed load holds
 * no memory (expect_load_error). */
static void test_data_npy_label_errors(void **state)
{
	(void)state;
	/* a folder of its own: tmpdir holds IDX files, which come first */
	char dir[512];
	snprintf(dir, sizeof dir, "%s/npy", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	const uint8_t x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	write_npy("npy/test_x.npy", "|u1", "(2, 2, 2)", x, sizeof x);

	const float yf[2] = {1, 0};
	write_npy("npy/test_y.npy", "<f4", "(2,)", yf, sizeof yf);
	expect_load_error(dir, QGT_SPLIT_TEST, NULL,
	                  "test_y.npy: error: labels must be integers (uint8, int32 or int64), not f32");

	const int64_t yl[2] = {1, 70000};
	write_npy("npy/test_y.npy", "<i8", "(2,)", yl, sizeof yl);
	expect_load_error(dir, QGT_SPLIT_TEST, NULL,
	                  "test_y.npy: error: label 1 is 70000: labels must be integers in 0..65535");

	const int64_t ok[2] = {1, 3};
	write_npy("npy/test_y.npy", "<i8", "(2,)", ok, sizeof ok);
	qgt_dataset ds;
	diag_sink d;
	diag_sink_init_capture(&d);
	assert_int_equal(qgt_dataset_load(&ds, dir, QGT_SPLIT_TEST, NULL, &d), 0);
	assert_int_equal(ds.n, 2);
	assert_int_equal(ds.nclasses, 4);
	assert_int_equal(ds.y[1], 3);
	qgt_dataset_free(&ds);
	diag_sink_fini(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_fashion_mnist_test_split),
		cmocka_unit_test(test_data_idx_plain_with_normalisation),
		cmocka_unit_test(test_data_idx_buffers),
		cmocka_unit_test(test_data_idx_errors_name_the_file),
		cmocka_unit_test(test_data_idx_gzip_bomb),
		cmocka_unit_test(test_data_npy_label_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
