/* replay.c: main() for a fuzz harness outside libFuzzer: run it once on
 * each file named (folders: on each file inside), so the corpus and the
 * crashers kept there are regression inputs in every build, sanitized or
 * not.  Arguments starting with '-' (libFuzzer's flags) are skipped.
 * Exit 0 when every input ran; a crash is the failure. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		return -1;
	}
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, k;
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			uint8_t *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
		}
		k = fread(buf + len, 1, cap - len, f);
		len += k;
	} while (k > 0);
	fclose(f);
	/* an exact-size copy, so ASan sees reads past the input's end */
	uint8_t *in = malloc(len ? len : 1);
	if (in)
		memcpy(in, buf, len);
	free(buf);
	if (!in)
		return -1;
	LLVMFuzzerTestOneInput(in, len);
	free(in);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path, int *n)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		++*n;
		return run_file(path);
	}
	DIR *dir = opendir(path);
	if (!dir)
		return -1;
	char **names = NULL;
	size_t cnt = 0;
	for (struct dirent *e; (e = readdir(dir));) {
		if (e->d_name[0] == '.')
			continue;
		char **nn = realloc(names, sizeof *names * (cnt + 1));
		if (!nn)
			break;
		names = nn;
		size_t l = strlen(path) + strlen(e->d_name) + 2;
		names[cnt] = malloc(l);
		snprintf(names[cnt++], l, "%s/%s", path, e->d_name);
	}
	closedir(dir);
	qsort(names, cnt, sizeof *names, cmp);
	int rc = 0;
	for (size_t i = 0; i < cnt; i++) {
		if (run_path(names[i], n))
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0, n = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (argv[i][0] != '-' && run_path(argv[i], &n)) /* libFuzzer's flags: not ours */
			rc = 1;
	printf("replay: %d input(s) ran\n", n);
	return rc;
}
