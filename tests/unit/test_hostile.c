/* test_hostile.c: malformed ONNX files (made by tests/hostile/make_hostile.py)
 * must fail to load with a diagnostic naming the file and the problem:
 * no crash, no hang, no leak.  Directory from argv[1] or QGTC_HOSTILE_DIR;
 * its expected.txt says what each file's diagnostics must contain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frontend.h"

#define MAX_CHECKS 16

typedef struct hostile_case {
	char file[256];
	char path[1024];
	int nchecks;
	char *checks[MAX_CHECKS]; /* substrings, or "nerr=N" */
} hostile_case;

static void test_hostile_file(void **state)
{
	hostile_case *hc = *state;
	diag_sink d;
	diag_sink_init_capture(&d);
	ir_graph *g = fe_onnx_load(hc->path, &d);
	if (g || d.nerr == 0 || !d.buf)
		print_error("%s: loaded=%d nerr=%d\n%s", hc->file, g != NULL, d.nerr, d.buf ? d.buf : "");
	assert_null(g);
	assert_true(d.nerr > 0);
	assert_non_null(d.buf);
	assert_non_null(strstr(d.buf, hc->file));
	for (int i = 0; i < hc->nchecks; i++) {
		const char *c = hc->checks[i];
		if (strncmp(c, "nerr=", 5) == 0) {
			if (d.nerr != atoi(c + 5))
				print_error("%s: want %s, got %d:\n%s", hc->file, c, d.nerr, d.buf);
			assert_int_equal(d.nerr, atoi(c + 5));
		} else {
			if (!strstr(d.buf, c))
				print_error("%s: want '%s' in:\n%s", hc->file, c, d.buf);
			assert_non_null(strstr(d.buf, c));
		}
	}
	diag_sink_fini(&d);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : getenv("QGTC_HOSTILE_DIR");
	if (!dir) {
		fprintf(stderr, "usage: test_hostile DIR (or set QGTC_HOSTILE_DIR)\n");
		return 2;
	}
	char path[1024];
	snprintf(path, sizeof path, "%s/expected.txt", dir);
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "test_hostile: cannot open %s\n", path);
		return 2;
	}
	hostile_case *cases = NULL;
	int n = 0;
	char line[1024];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = 0;
		char *tab = strchr(line, '\t');
		if (line[0] == '#' || !tab)
			continue;
		*tab = 0;
		hostile_case *hc = NULL;
		for (int i = 0; i < n; i++)
			if (strcmp(cases[i].file, line) == 0)
				hc = &cases[i];
		if (!hc) {
			hostile_case *nc = realloc(cases, sizeof *cases * (size_t)(n + 1));
			if (!nc)
				return 2;
			cases = nc;
			hc = &cases[n++];
			memset(hc, 0, sizeof *hc);
			snprintf(hc->file, sizeof hc->file, "%.255s", line);
			snprintf(hc->path, sizeof hc->path, "%.700s/%.255s", dir, line);
		}
		if (hc->nchecks < MAX_CHECKS)
			hc->checks[hc->nchecks++] = strdup(tab + 1);
	}
	fclose(f);
	if (n == 0) {
		fprintf(stderr, "test_hostile: no cases in %s\n", path);
		return 2;
	}
	struct CMUnitTest *tests = calloc((size_t)n, sizeof *tests);
	if (!tests)
		return 2;
	for (int i = 0; i < n; i++) {
		tests[i].name = cases[i].file;
		tests[i].test_func = test_hostile_file;
		tests[i].initial_state = &cases[i];
	}
	int rc = _cmocka_run_group_tests("hostile", tests, (size_t)n, NULL, NULL);
	for (int i = 0; i < n; i++)
		for (int k = 0; k < cases[i].nchecks; k++)
			free(cases[i].checks[k]);
	free(tests);
	free(cases);
	return rc;
}
