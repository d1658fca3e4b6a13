/* diag.c: the diagnostic sink every library function reports into, and
 * the JSON string writer of qgtc's reports. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0. */
static int utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	int n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	if (!n)
		return 0;
	unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
	unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (int i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

void diag_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	fputc('"', f);
	while (*p) {
		unsigned char c = *p;
		int n;
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			p++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			p++;
		} else if (c < 0x80) {
			fputc(c, f);
			p++;
		} else if ((n = utf8_len(p)) > 0) {
			fwrite(p, 1, (size_t)n, f);
			p += n;
		} else {
			fprintf(f, "\\u%04x", c);
			p++;
		}
	}
	fputc('"', f);
}

void diag_sink_init(diag_sink *d, FILE *out)
{
	memset(d, 0, sizeof *d);
	d->out = out;
}

void diag_sink_init_capture(diag_sink *d)
{
	memset(d, 0, sizeof *d);
	d->capture = true;
}

void diag_sink_fini(diag_sink *d)
{
	free(d->buf);
	d->buf = NULL;
	d->len = d->cap = 0;
}

static void append(diag_sink *d, const char *s, size_t n)
{
	if (d->len + n + 1 > d->cap) {
		size_t cap = d->cap ? d->cap : 256;
		while (cap < d->len + n + 1)
			cap *= 2;
		char *b = realloc(d->buf, cap);
		if (!b)
			return; /* keep what we have; counts stay right */
		d->buf = b;
		d->cap = cap;
	}
	memcpy(d->buf + d->len, s, n);
	d->len += n;
	d->buf[d->len] = 0;
}

void diag_report(diag_sink *d, diag_level lv, const char *loc, const char *fmt, ...)
{
	static const char *const what[] = {"error", "warning", "note"};
	char msg[2048];
	int k = snprintf(msg, sizeof msg, "%s: %s: ", loc ? loc : "qgtc", what[lv]);
	if (k < 0)
		k = 0;
	if ((size_t)k >= sizeof msg)
		k = sizeof msg - 1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + k, sizeof msg - (size_t)k, fmt, ap);
	va_end(ap);

	if (lv == DIAG_ERROR)
		d->nerr++;
	else if (lv == DIAG_WARNING)
		d->nwarn++;
	if (d->capture) {
		append(d, msg, strlen(msg));
		append(d, "\n", 1);
	} else {
		fprintf(d->out ? d->out : stderr, "%s\n", msg);
	}
}

int diag_edit_distance(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	if (na > 64 || nb > 64)
		return 99;
	int row[65];
	for (size_t j = 0; j <= nb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= na; i++) {
		int diag = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= nb; j++) {
			int up = row[j];
			int best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[nb];
}
