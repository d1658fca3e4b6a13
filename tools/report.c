/* report.c: `qgtc eval --report-html FILE`: one self-contained page (no
 * script, no external resource) with the runs' table, the accuracy-versus-
 * bytes Pareto plot, the lambda-sweep curve when one ran, the per-layer
 * sensitivity ("bottleneck") table and the weight histograms before and
 * after, all plots inline SVG with axes, labels and a legend.  Written to a
 * temporary file and renamed: a failure leaves nothing behind. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"
#include "qgt.h"

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++)
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
}

static const char *method_color(const char *m)
{
	static const struct { const char *m, *c; } tab[] = {
		{"fp32", "#222222"}, {"ptq", "#7a9cc6"}, {"qgt", "#d9534f"}, {"ste", "#5cb85c"},
		{"budget", "#9b59b6"}, {"sq", "#f0ad4e"}, {"codebook", "#17a2b8"},
	};
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (strncmp(m, tab[i].m, strlen(tab[i].m)) == 0)
			return tab[i].c;
	return "#777777";
}

enum { W = 640, H = 380, ML = 64, MR = 150, MT = 20, MB = 52 };

/* Axes frame, ticks and labels of a plot with a log x axis [x0, x1] and a
 * linear y axis [y0, y1]. */
static void axes(FILE *f, double x0, double x1, double y0, double y1, const char *xl, const char *yl)
{
	int pw = W - ML - MR, ph = H - MT - MB;
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" stroke=\"#888\"/>\n",
	        ML, MT, pw, ph);
	for (double e = floor(log10(x0)); e <= ceil(log10(x1)); e++)
		for (int m = 1; m <= 5; m += m == 1 ? 1 : 3) {
			double v = m * pow(10, e);
			if (v < x0 || v > x1)
				continue;
			double x = ML + pw * (log10(v) - log10(x0)) / (log10(x1) - log10(x0));
			fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>", x, MT, x,
			        MT + ph);
			fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%g</text>\n", x,
			        MT + ph + 14, v);
		}
	double step = y1 - y0 > 20 ? 10 : y1 - y0 > 8 ? 2 : y1 - y0 > 3 ? 1 : 0.5;
	for (double v = ceil(y0 / step) * step; v <= y1 + 1e-9; v += step) {
		double y = MT + ph - ph * (v - y0) / (y1 - y0);
		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>", ML, y, ML + pw, y);
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%g</text>\n", ML - 4,
		        y + 4, v);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">%s</text>\n", ML + pw / 2,
	        H - 12, xl);
	fprintf(f, "<text x=\"14\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\" "
	           "transform=\"rotate(-90 14 %d)\">%s</text>\n", MT + ph / 2, MT + ph / 2, yl);
}

static double px(double v, double x0, double x1)
{
	return ML + (W - ML - MR) * (log10(v) - log10(x0)) / (log10(x1) - log10(x0));
}

static double py(double v, double y0, double y1)
{
	int ph = H - MT - MB;
	return MT + ph - ph * (v - y0) / (y1 - y0);
}

static void y_range(const double *v, int n, double *y0, double *y1)
{
	double lo = 100, hi = 0;
	for (int i = 0; i < n; i++) {
		lo = fmin(lo, v[i]);
		hi = fmax(hi, v[i]);
	}
	*y0 = fmax(0, floor(lo - 1));
	*y1 = fmin(100, ceil(hi + 1));
	if (*y1 - *y0 < 2)
		*y1 = *y0 + 2;
}

static int cmp_bytes(const void *a, const void *b)
{
	double x = ((const drv_point *)a)->bytes, y = ((const drv_point *)b)->bytes;
	return (x > y) - (x < y);
}

static void pareto(FILE *f, const drv_report *r)
{
	drv_point *p = malloc(sizeof *p * (size_t)(r->npts ? r->npts : 1));
	double *acc = malloc(sizeof *acc * (size_t)(r->npts ? r->npts : 1));
	if (!p || !acc) {
		free(p);
		free(acc);
		return;
	}
	memcpy(p, r->pts, sizeof *p * (size_t)r->npts);
	qsort(p, (size_t)r->npts, sizeof *p, cmp_bytes);
	double x0 = p[0].bytes / 1.5, x1 = p[r->npts - 1].bytes * 1.5, y0, y1;
	for (int i = 0; i < r->npts; i++)
		acc[i] = 100 * p[i].acc;
	y_range(acc, r->npts, &y0, &y1);
	fprintf(f, "<svg id=\"pareto\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	           "xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\">\n", W, H, W, H);
	axes(f, x0, x1, y0, y1, "parameter bytes (log scale)", "top-1 %");
	/* the frontier: no point is both smaller and more accurate */
	fputs("<polyline class=\"frontier\" fill=\"none\" stroke=\"#999\" stroke-dasharray=\"4 3\" points=\"", f);
	double best = -1;
	for (int i = 0; i < r->npts; i++)
		if (acc[i] > best) {
			best = acc[i];
			fprintf(f, "%.1f,%.1f ", px(p[i].bytes, x0, x1), py(acc[i], y0, y1));
		}
	fputs("\"/>\n", f);
	/* labels beside their points, moved down a line while they would
	 * overlap one already placed (about 5.5 px a character at 10 px) */
	double (*box)[4] = malloc(sizeof *box * (size_t)r->npts);
	for (int i = 0; i < r->npts; i++) {
		double cx = px(p[i].bytes, x0, x1), cy = py(acc[i], y0, y1);
		fprintf(f, "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"><title>", cx, cy,
		        method_color(p[i].method));
		esc(f, p[i].label);
		fprintf(f, ": %.0f bytes, %.2f%%</title></circle>", p[i].bytes, acc[i]);
		double lx = cx + 7, ly = cy - 6, lw = 5.5 * (double)strlen(p[i].label);
		for (int tries = 0; box && tries < 12; tries++) {
			bool hit = false;
			for (int j = 0; j < i && !hit; j++)
				hit = lx < box[j][2] && box[j][0] < lx + lw && ly - 10 < box[j][3] && box[j][1] < ly;
			if (!hit)
				break;
			ly += 11;
		}
		if (box) {
			box[i][0] = lx;
			box[i][1] = ly - 10;
			box[i][2] = lx + lw;
			box[i][3] = ly;
		}
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">", lx, ly);
		esc(f, p[i].label);
		fputs("</text>\n", f);
	}
	free(box);
	/* legend: each method present once */
	int row = 0;
	for (int i = 0; i < r->npts; i++) {
		bool seen = false;
		for (int j = 0; j < i; j++)
			seen |= strcmp(r->pts[j].method, r->pts[i].method) == 0;
		if (seen)
			continue;
		int y = MT + 14 + 18 * row++;
		fprintf(f, "<g class=\"legend\"><circle cx=\"%d\" cy=\"%d\" r=\"5\" fill=\"%s\"/>"
		           "<text x=\"%d\" y=\"%d\" font-size=\"12\">", W - MR + 16, y - 4,
		        method_color(r->pts[i].method), W - MR + 26, y);
		esc(f, r->pts[i].method);
		fputs("</text></g>\n", f);
	}
	fputs("</svg>\n", f);
	free(p);
	free(acc);
}

static void sweep(FILE *f, const drv_report *r)
{
	double *acc = malloc(sizeof *acc * (size_t)r->nsweep);
	if (!acc)
		return;
	double x0 = INFINITY, x1 = 0, y0, y1;
	for (int i = 0; i < r->nsweep; i++) {
		acc[i] = 100 * r->sweep_acc[i];
		x0 = fmin(x0, r->sweep_lambda[i]);
		x1 = fmax(x1, r->sweep_lambda[i]);
	}
	x0 /= 2;
	x1 *= 2;
	y_range(acc, r->nsweep, &y0, &y1);
	fprintf(f, "<svg id=\"sweep\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	           "xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\">\n", W, H, W, H);
	axes(f, x0, x1, y0, y1, "lambda (log scale)", "top-1 %");
	fputs("<polyline fill=\"none\" stroke=\"#d9534f\" stroke-width=\"2\" points=\"", f);
	for (int i = 0; i < r->nsweep; i++)
		fprintf(f, "%.1f,%.1f ", px(r->sweep_lambda[i], x0, x1), py(acc[i], y0, y1));
	fputs("\"/>\n", f);
	for (int i = 0; i < r->nsweep; i++)
		fprintf(f, "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#d9534f\"><title>lambda %g: "
		           "%.2f%%</title></circle>\n", px(r->sweep_lambda[i], x0, x1), py(acc[i], y0, y1),
		        r->sweep_lambda[i], acc[i]);
	fprintf(f, "<g class=\"legend\"><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#d9534f\" "
	           "stroke-width=\"2\"/><text x=\"%d\" y=\"%d\" font-size=\"12\">QGT top-1</text></g>\n",
	        W - MR + 8, MT + 10, W - MR + 24, MT + 10, W - MR + 28, MT + 14);
	fputs("</svg>\n", f);
	free(acc);
}

enum { NB = 64 };

static void hist_svg(FILE *f, const int64_t *h, const char *color, const char *caption)
{
	int64_t mx = 1;
	for (int b = 0; b < NB; b++)
		mx = h[b] > mx ? h[b] : mx;
	int hw = 256, hh = 100;
	fprintf(f, "<figure><svg class=\"hist\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	           "xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\">", hw, hh + 16, hw, hh + 16);
	fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"#f7f7f7\"/>", hw, hh);
	for (int b = 0; b < NB; b++) {
		double bh = (double)h[b] / (double)mx * (hh - 4);
		if (h[b])
			fprintf(f, "<rect class=\"bar\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>",
			        b * (double)hw / NB, hh - bh, (double)hw / NB - 0.5, bh, color);
	}
	fprintf(f, "<text x=\"0\" y=\"%d\" font-size=\"10\">-1</text><text x=\"%d\" y=\"%d\" font-size=\"10\">0"
	           "</text><text x=\"%d\" y=\"%d\" font-size=\"10\">+1</text></svg><figcaption>",
	        hh + 12, hw / 2 - 3, hh + 12, hw - 14, hh + 12);
	esc(f, caption);
	fputs("</figcaption></figure>\n", f);
}

static void hists(FILE *f, const ir_graph *g, const char *color, const char *what)
{
	int64_t h[NB];
	fputs("<div>", f);
	for (int i = 0; i < g->nnodes; i++) {
		if (qgt_weight_hist(g->nodes[i], NB, h) != 1)
			continue;
		char cap[256];
		snprintf(cap, sizeof cap, "%s %s (%lld weights)", what, g->nodes[i]->in[1]->name,
		         (long long)ir_shape_numel(&g->nodes[i]->in[1]->shape));
		hist_svg(f, h, color, cap);
	}
	fputs("</div>\n", f);
}

int drv_report_html(const drv_report *r, const char *path, diag_sink *d)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp) {
		diag_error(d, NULL, "--report-html: path too long");
		return -1;
	}
	FILE *f = fopen(tmp, "w");
	if (!f) {
		diag_error(d, NULL, "cannot open '%s' for writing", tmp);
		return -1;
	}
	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>qgtc report: ", f);
	esc(f, r->model);
	fputs("</title>\n<style>\nbody { font-family: sans-serif; max-width: 72em; margin: 2em auto; }\n"
	      "table { border-collapse: collapse; margin: 1em 0; } td, th { border: 1px solid #ccc; "
	      "padding: 0.3em 0.6em; text-align: right; }\ntd:first-child, th:first-child { text-align: left; }\n"
	      "figure { display: inline-block; margin: 0.4em; } figcaption { font-size: 0.8em; }\n"
	      "tr.bottleneck td { background: #fde2e1; }\n</style></head><body>\n<h1>qgtc report: ", f);
	esc(f, r->model);
	fputs("</h1>\n<p>", f);
	esc(f, r->summary);
	fputs("</p>\n<h2>Runs</h2>\n<table id=\"runs\"><tr><th>run</th><th>method</th><th>parameter bytes</th>"
	      "<th>reduction vs FP32</th><th>top-1 %</th><th>vs FP32</th></tr>\n", f);
	double fp32b = 0, fp32a = -1;
	for (int i = 0; i < r->npts; i++)
		if (strcmp(r->pts[i].method, "fp32") == 0) {
			fp32b = r->pts[i].bytes;
			fp32a = r->pts[i].acc;
		}
	for (int i = 0; i < r->npts; i++) {
		const drv_point *p = &r->pts[i];
		fputs("<tr><td>", f);
		esc(f, p->label);
		fputs("</td><td>", f);
		esc(f, p->method);
		fprintf(f, "</td><td>%.0f</td><td>%.2fx</td><td>%.2f</td>", p->bytes, fp32b > 0 ? fp32b / p->bytes : 0,
		        100 * p->acc);
		if (fp32a >= 0)
			fprintf(f, "<td>%+.2f</td></tr>\n", 100 * (p->acc - fp32a));
		else
			fputs("<td></td></tr>\n", f);
	}
	fputs("</table>\n<h2>Accuracy against bytes</h2>\n<p>Each run's top-1 against its parameter bytes "
	      "(packed weights, quantization parameters and float parameters, as <code>--report-json</code> "
	      "counts them); the dashed line joins the runs no other run beats on both.</p>\n", f);
	if (r->npts > 0)
		pareto(f, r);
	if (r->nsweep > 0) {
		fputs("<h2>Lambda sweep</h2>\n<p>Top-1 after QGT fine-tuning at each lambda.</p>\n", f);
		sweep(f, r);
	}
	if (r->nrows > 0) {
		bool mix = r->rows[0].chosen[0] != 0;
		fprintf(f, "<h2>Per-layer sensitivity</h2>\n<p>Top-1 with only that layer's weights quantized to "
		           "%d bits, the rest FP32 (%.2f%%); a bottleneck loses alone a third or more of what all "
		           "layers lose alone.%s</p>\n<table id=\"layers\"><tr><th>layer</th><th>params</th><th>MACs</th>"
		           "<th>bits%s</th><th>bytes</th><th>top-1 %%</th><th>lost</th><th>bottleneck</th></tr>\n",
		        r->rows[0].bits, 100 * r->sens_fp32,
		        mix ? "  Bits and bytes are each layer's in this run, as the budget chose them." : "",
		        mix ? " chosen" : "");
		for (int i = 0; i < r->nrows; i++) {
			const drv_sens_row *s = &r->rows[i];
			char bits[24];
			snprintf(bits, sizeof bits, "%d", s->bits);
			fprintf(f, "<tr%s><td>", s->bottleneck ? " class=\"bottleneck\"" : "");
			esc(f, s->name);
			fprintf(f, "</td><td>%lld</td><td>%lld</td><td>%s</td><td>%zu</td><td>%.2f</td><td>%+.2f</td>"
			           "<td>%s</td></tr>\n", (long long)s->params, (long long)s->macs,
			        s->chosen[0] ? s->chosen : bits, s->bytes, 100 * s->acc, 100 * (s->acc - r->sens_fp32),
			        s->bottleneck ? "yes" : "");
		}
		fputs("</table>\n", f);
	}
	if (r->before || r->after) {
		fputs("<h2>Weight histograms</h2>\n<p>Each weight divided by the largest |w| of its output "
		      "channel, 64 bins over [-1, 1]: the model as given, then as deployed (batchnorm folded, "
		      "on its grid).</p>\n", f);
		if (r->before)
			hists(f, r->before, "#7a9cc6", "given:");
		if (r->after)
			hists(f, r->after, "#d9734e", "deployed:");
	}
	fputs("</body></html>\n", f);
	if (ferror(f) | fclose(f) || rename(tmp, path)) {
		remove(tmp);
		diag_error(d, NULL, "cannot write '%s'", path);
		return -1;
	}
	return 0;
}
