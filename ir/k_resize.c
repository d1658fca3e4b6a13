/* k_resize.c: resize (nearest, linear, cubic; optional antialias).
 *
 * Semantics follow ONNX Resize-19 as its reference implementation computes
 * it, which is what the conformance data was generated from:
 *  - every axis is interpolated independently; an axis that is not resized
 *    has scale 1 and maps each output index onto itself exactly;
 *  - output coordinate x maps to x_original by the coordinate
 *    transformation mode, using length_resized = scale * length_original
 *    (a real number, not the rounded output extent);
 *  - the taps around x_original are taken from the input with edge
 *    clamping, weighted by the mode's kernel (nearest picks one);
 *  - for tf_crop_and_resize an x_original outside [0, in-1] on any axis
 *    yields extrapolation_value.
 * The output extent is floor(in * scale) (scales given; computed in f32
 * as ONNX's own shape inference and runtimes do) or sizes, adjusted by
 * keep_aspect_ratio_policy.  The spec's prose also multiplies by the roi
 * extent for tf_crop_and_resize with scales; no implementation does, so
 * neither do we. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

#include "resize.h"

typedef ir_resize_plan rs_plan;

/* scales, sizes and roi as plain arrays, from constants (infer) or
 * tensors (eval).  A count of 0 means absent. */
typedef struct rs_operands {
	int nscales, nsizes, nroi;
	double scales[IR_MAX_RANK];
	int64_t sizes[IR_MAX_RANK];
	double roi[2 * IR_MAX_RANK];
} rs_operands;

static const char *const rs_mode_names[] = {"nearest", "linear", "cubic"};
static const char *const rs_ctm_names[] = {"half_pixel", "half_pixel_symmetric",
                                           "pytorch_half_pixel", "align_corners",
                                           "asymmetric", "tf_crop_and_resize"};
static const char *const rs_nearest_names[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                               "ceil"};

/* Index of s in names[0..n), or -1. */
static int rs_lookup(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* Read and validate the attributes that do not depend on operand shapes. */
int ir_resize_attrs(const ir_graph *g, const ir_node *n, rs_plan *p, diag_sink *d)
{
	const char *mode = ir_attr_str(n, "mode", "nearest");
	const char *ctm = ir_attr_str(n, "coordinate_transformation_mode", "half_pixel");
	const char *nm = ir_attr_str(n, "nearest_mode", "round_prefer_floor");
	int v;
	if ((v = rs_lookup(mode, rs_mode_names, 3)) < 0) {
		k_error(g, n, d, "mode '%s' is not supported (nearest, linear, cubic)", mode);
		return -1;
	}
	p->mode = (rs_mode)v;
	if ((v = rs_lookup(ctm, rs_ctm_names, 6)) < 0) {
		k_error(g, n, d, "coordinate_transformation_mode '%s' is not supported", ctm);
		return -1;
	}
	p->ctm = (rs_ctm)v;
	if ((v = rs_lookup(nm, rs_nearest_names, 4)) < 0) {
		k_error(g, n, d, "nearest_mode '%s' is not supported", nm);
		return -1;
	}
	p->nm = (rs_nearest)v;
	p->cubic_a = ir_attr_float(n, "cubic_coeff_a", -0.75f);
	p->extrap = ir_attr_float(n, "extrapolation_value", 0.0f);
	int64_t eo = ir_attr_int(n, "exclude_outside", 0), aa = ir_attr_int(n, "antialias", 0);
	if ((eo != 0 && eo != 1) || (aa != 0 && aa != 1)) {
		k_error(g, n, d, "exclude_outside %lld / antialias %lld must be 0 or 1", (long long)eo,
		        (long long)aa);
		return -1;
	}
	p->exclude_outside = eo;
	/* ONNX defines antialiasing for linear and cubic only. */
	p->antialias = aa && p->mode != RS_NEAREST;
	return 0;
}

/* Output extents and per-axis scales from X's shape and the operands.
 * Returns 0, 1 when the extents cannot be known yet (a resized axis is the
 * symbolic batch), or -1 reported. */
static int rs_shape(const ir_graph *g, const ir_node *n, const ir_shape *xs, const rs_operands *o,
                    rs_plan *p, diag_sink *d)
{
	char b[96];
	int r = xs->rank;
	p->rank = r;
	if (r < 1) {
		k_error(g, n, d, "input has shape %s; resize needs rank 1 or more",
		        ir_shape_str(xs, b, sizeof b));
		return -1;
	}
	/* axes[j]: the input axis that scales/sizes/roi entry j refers to. */
	int axes[IR_MAX_RANK], naxes = r, cnt = 0;
	const int64_t *ax = ir_attr_ints(n, "axes", &cnt);
	bool seen[IR_MAX_RANK] = {false};
	if (ax) {
		if (cnt < 1 || cnt > r) {
			k_error(g, n, d, "axes has %d values; input has rank %d", cnt, r);
			return -1;
		}
		naxes = cnt;
		for (int j = 0; j < cnt; j++) {
			axes[j] = k_axis(ax[j], r);
			if (axes[j] < 0 || seen[axes[j]]) {
				k_error(g, n, d, "axes[%d] = %lld is %s for rank %d", j, (long long)ax[j],
				        axes[j] < 0 ? "out of range" : "repeated", r);
				return -1;
			}
			seen[axes[j]] = true;
		}
	} else {
		for (int j = 0; j < r; j++)
			axes[j] = j;
	}
	if ((o->nscales > 0) == (o->nsizes > 0)) {
		k_error(g, n, d, "%s", o->nscales > 0 ? "both scales and sizes are given; exactly one may be"
		                                      : "neither scales nor sizes is given");
		return -1;
	}
	int ngiven = o->nscales > 0 ? o->nscales : o->nsizes;
	if (ngiven != naxes) {
		k_error(g, n, d, "%s has %d values, expected %d", o->nscales > 0 ? "scales" : "sizes",
		        ngiven, naxes);
		return -1;
	}
	for (int i = 0; i < r; i++) {
		p->in[i] = p->out[i] = xs->d[i];
		p->scale[i] = 1.0;
		p->roi_lo[i] = 0.0;
		p->roi_hi[i] = 1.0;
	}
	if (o->nroi > 0 && p->ctm == RS_TF_CROP) {
		if (o->nroi != 2 * naxes) {
			k_error(g, n, d, "roi has %d values, expected %d", o->nroi, 2 * naxes);
			return -1;
		}
		for (int j = 0; j < naxes; j++) {
			p->roi_lo[axes[j]] = o->roi[j];
			p->roi_hi[axes[j]] = o->roi[naxes + j];
		}
	}

	const char *policy = ir_attr_str(n, "keep_aspect_ratio_policy", "stretch");
	bool stretch = strcmp(policy, "stretch") == 0;
	bool not_larger = strcmp(policy, "not_larger") == 0;
	if (!stretch && !not_larger && strcmp(policy, "not_smaller") != 0) {
		k_error(g, n, d, "keep_aspect_ratio_policy '%s' is not supported", policy);
		return -1;
	}

	if (o->nscales > 0) {
		for (int j = 0; j < naxes; j++) {
			int a = axes[j];
			float s = (float)o->scales[j];
			if (!(s > 0.0f) || !isfinite(s)) {
				k_error(g, n, d, "scales[%d] is %g; must be positive", j, o->scales[j]);
				return -1;
			}
			p->scale[a] = s;
			if (p->in[a] == IR_DIM_SYM) {
				if (s != 1.0f)
					return 1;
				continue;
			}
			float ext = (float)p->in[a] * s;
			if (!(ext < (float)IR_MAX_NUMEL)) {
				k_error(g, n, d, "scales[%d] = %g makes axis %d too large", j, (double)s, a);
				return -1;
			}
			p->out[a] = (int64_t)floorf(ext);
		}
		return 0;
	}

	for (int j = 0; j < naxes; j++) {
		int a = axes[j];
		if (o->sizes[j] < 1 || o->sizes[j] > IR_MAX_NUMEL) {
			k_error(g, n, d, "sizes[%d] is %lld; must be positive", j, (long long)o->sizes[j]);
			return -1;
		}
		if (p->in[a] == IR_DIM_SYM)
			return 1;
		if (p->in[a] == 0) {
			k_error(g, n, d, "cannot resize axis %d of extent 0 to %lld", a,
			        (long long)o->sizes[j]);
			return -1;
		}
	}
	if (stretch) {
		for (int j = 0; j < naxes; j++) {
			int a = axes[j];
			p->out[a] = o->sizes[j];
			p->scale[a] = (double)p->out[a] / (double)p->in[a];
		}
		return 0;
	}
	/* One scale for all listed axes: the largest (not_smaller) or
	 * smallest (not_larger) of sizes/in, and extents round half up. */
	double sc = 0.0;
	for (int j = 0; j < naxes; j++) {
		double s = (double)o->sizes[j] / (double)p->in[axes[j]];
		if (j == 0 || (not_larger ? s < sc : s > sc))
			sc = s;
	}
	for (int j = 0; j < naxes; j++) {
		int a = axes[j];
		double ext = floor(sc * (double)p->in[a] + 0.5);
		if (!(ext < (double)IR_MAX_NUMEL)) {
			k_error(g, n, d, "sizes make axis %d too large", a);
			return -1;
		}
		p->out[a] = (int64_t)ext;
		p->scale[a] = sc;
	}
	return 0;
}

static void rs_out_shape(const rs_plan *p, ir_shape *ys)
{
	memset(ys, 0, sizeof *ys);
	ys->rank = p->rank;
	for (int i = 0; i < p->rank; i++)
		ys->d[i] = p->out[i];
}

/* State of optional input k: 0 absent (no slot, or an empty tensor),
 * 1 present, -1 not known yet (unranked, or its data is needed but it is
 * not a constant). */
static int rs_input_state(const ir_node *n, int k)
{
	if (k >= n->nin || !n->in[k])
		return 0;
	const ir_value *v = n->in[k];
	if (v->shape.rank < 0)
		return -1;
	int64_t cnt = ir_shape_numel(&v->shape);
	if (cnt == 0)
		return 0;
	if (cnt < 0 || !ir_value_is_const(v))
		return -1;
	return 1;
}

int ir_infer_resize(ir_graph *g, ir_node *n, diag_sink *d)
{
	if (!k_in_ranked(n, 0))
		return 0;
	if (!ir_resize_dtype_ok(n, n->in[0]->dt)) {
		k_error(g, n, d, "dtype %s is not supported (f32; i8, u8 and i16 in nearest mode)",
		        ir_dtype_name(n->in[0]->dt));
		return -1;
	}
	rs_plan p;
	memset(&p, 0, sizeof p);
	if (ir_resize_attrs(g, n, &p, d))
		return -1;
	int st_scales = rs_input_state(n, 2), st_sizes = rs_input_state(n, 3);
	if (st_scales < 0 || st_sizes < 0)
		return 0;
	rs_operands o;
	memset(&o, 0, sizeof o);
	if (st_scales) {
		const ir_value *v = n->in[2];
		int64_t cnt = ir_shape_numel(&v->shape);
		if (v->dt != IR_DT_F32 || cnt > IR_MAX_RANK) {
			k_error(g, n, d, "scales must be f32 with at most %d values, got %s with %lld",
			        IR_MAX_RANK, ir_dtype_name(v->dt), (long long)cnt);
			return -1;
		}
		o.nscales = (int)cnt;
		for (int i = 0; i < o.nscales; i++)
			o.scales[i] = ir_const_get(v, i);
	}
	if (st_sizes) {
		const ir_value *v = n->in[3];
		o.nsizes = ir_const_ints(v, o.sizes, IR_MAX_RANK);
		if (o.nsizes < 0) {
			k_error(g, n, d, "sizes must be i64 with at most %d values", IR_MAX_RANK);
			return -1;
		}
	}
	/* roi affects values only, so a computed roi does not hold the shape
	 * back; a constant one is checked now rather than at run time. */
	if (p.ctm == RS_TF_CROP && rs_input_state(n, 1) > 0) {
		const ir_value *v = n->in[1];
		int64_t cnt = ir_shape_numel(&v->shape);
		if (v->dt != IR_DT_F32 || cnt > 2 * IR_MAX_RANK) {
			k_error(g, n, d, "roi must be f32 with at most %d values, got %s with %lld",
			        2 * IR_MAX_RANK, ir_dtype_name(v->dt), (long long)cnt);
			return -1;
		}
		o.nroi = (int)cnt;
		for (int i = 0; i < o.nroi; i++)
			o.roi[i] = ir_const_get(v, i);
	}
	ir_shape ys;
	int rc = rs_shape(g, n, &n->in[0]->shape, &o, &p, d);
	if (rc < 0)
		return -1;
	if (rc > 0)
		return 0;
	rs_out_shape(&p, &ys);
	ir_shape t = ys;
	if (t.d[0] == IR_DIM_SYM)
		t.d[0] = 1;
	if (ir_shape_numel(&t) < 0) {
		char b[96];
		k_error(g, n, d, "output shape %s is too large", ir_shape_str(&ys, b, sizeof b));
		return -1;
	}
	k_set_out(n, 0, n->in[0]->dt, &ys);
	return 0;
}

/* ---------------------------------------------------------------- eval */

/* Taps of one axis: for output index x, taps idx[x*nt .. x*nt+nt) with
 * weights w[...]; outside[x] set when tf_crop_and_resize maps x outside
 * the input. */
typedef struct rs_axis {
	int nt;
	int64_t *idx;
	double *w;
	bool *outside;
} rs_axis;

/* x_original for output index x along axis a. */
double ir_resize_coord(const rs_plan *p, int a, int64_t x)
{
	double in = (double)p->in[a], s = p->scale[a];
	double len = s * in; /* length_resized, as a real number */
	double xr = (double)x;
	switch (p->ctm) {
	case RS_HALF_PIXEL:
		return (xr + 0.5) / s - 0.5;
	case RS_HALF_PIXEL_SYM: {
		double adjustment = (double)p->out[a] / len;
		double center = in / 2.0;
		double offset = center * (1.0 - adjustment);
		return offset + (xr + 0.5) / s - 0.5;
	}
	case RS_PYTORCH:
		/* The spec's 0; the reference's -0.5 agrees for nearest and
		 * linear but would blur a single cubic output. */
		return len <= 1.0 ? 0.0 : (xr + 0.5) / s - 0.5;
	case RS_ALIGN:
		return len == 1.0 ? 0.0 : xr * (in - 1.0) / (len - 1.0);
	case RS_ASYM:
		return xr / s;
	case RS_TF_CROP: {
		double lo = p->roi_lo[a], hi = p->roi_hi[a];
		if (len == 1.0)
			return (hi - lo) * (in - 1.0) / 2.0 + lo * (in - 1.0);
		return xr * (hi - lo) * (in - 1.0) / (len - 1.0) + lo * (in - 1.0);
	}
	}
	return 0.0;
}

/* Cubic convolution kernel with parameter A (Keys). */
static double rs_cubic(double x, double a)
{
	x = fabs(x);
	if (x <= 1.0)
		return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
	if (x < 2.0)
		return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;
	return 0.0;
}

/* Kernel support radius, and the scale the kernel is stretched by:
 * antialiasing widens the kernel by 1/scale when downsampling. */
static double rs_kernel_scale(const rs_plan *p, int a)
{
	return p->antialias && p->scale[a] < 1.0 ? p->scale[a] : 1.0;
}

int ir_resize_ntaps(const rs_plan *p, int a)
{
	if (p->mode == RS_NEAREST)
		return 1;
	double support = p->mode == RS_LINEAR ? 1.0 : 2.0;
	double start = floor(-support / rs_kernel_scale(p, a)) + 1.0;
	/* Saturate: a hostile tiny scale must not overflow the count. */
	return start < -(1 << 20) ? INT32_MAX : (int)(2 - 2 * (int64_t)start);
}

static int64_t rs_clamp(int64_t i, int64_t n)
{
	return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/* Fill the taps of output index x along axis a into idx/w (ax->nt each).
 *
 * Linear and cubic follow the reference's convention: with f = floor(x_o)
 * and r = x_o - f, an integral x_o is treated as f-1 with r = 1 (so r is
 * in (0, 1]).  Tap i (i from `start` = floor(-support/ks)+1 up to
 * 1-start) is input index f+i with weight kernel(ks * (i - r)), where ks
 * is the antialias kernel scale (1 without antialias).  exclude_outside
 * zeroes taps off the input and renormalises; antialias always
 * renormalises.  Indices are then clamped, which is the reference's edge
 * padding. */
void ir_resize_taps(const rs_plan *p, int a, double xo, int64_t *idx, double *w, int nt)
{
	int64_t in = p->in[a];
	/* A hostile roi can put x_o anywhere, past what int64 holds.  Every tap
	 * of a point that far off the input clamps to the same edge element
	 * (and with exclude_outside weighs 0), so moving it to just past the
	 * taps' reach changes nothing; NaN goes to the low edge. */
	double lim = (double)in + (double)nt + 2.0;
	xo = !(xo > -lim) ? -lim : xo > lim ? lim : xo;
	double f = floor(xo), r = xo - f;
	if (p->mode == RS_NEAREST) {
		bool up;
		switch (p->nm) {
		case RS_ROUND_FLOOR:
			up = r > 0.5;
			break;
		case RS_ROUND_CEIL:
			up = r >= 0.5;
			break;
		case RS_FLOOR:
			up = false;
			break;
		default:
			up = r > 0.0;
			break;
		}
		idx[0] = rs_clamp((int64_t)f + up, in);
		w[0] = 1.0;
		return;
	}
	if (r == 0.0) {
		f -= 1.0;
		r = 1.0;
	}
	double ks = rs_kernel_scale(p, a);
	int64_t start = 1 - nt / 2;
	double sum = 0.0;
	for (int t = 0; t < nt; t++) {
		int64_t i = start + t;
		double arg = ks * ((double)i - r);
		double wt = p->mode == RS_LINEAR ? fmax(0.0, 1.0 - fabs(arg)) : rs_cubic(arg, p->cubic_a);
		int64_t at = (int64_t)f + i;
		if (p->exclude_outside && (at < 0 || at >= in))
			wt = 0.0;
		idx[t] = rs_clamp(at, in);
		w[t] = wt;
		sum += wt;
	}
	if ((p->antialias || p->exclude_outside) && sum != 0.0)
		for (int t = 0; t < nt; t++)
			w[t] /= sum;
}

/* Read scales/sizes tensors, and roi when want_roi (only
 * tf_crop_and_resize reads it); NULL or empty means absent. */
static int rs_read_operands(const ir_node *n, const ir_tensor *const *in, bool want_roi,
                            rs_operands *o, diag_sink *d)
{
	memset(o, 0, sizeof *o);
	for (int k = 1; k < 4 && k < n->nin; k++) {
		const ir_tensor *t = in[k];
		if (!t || (k == 1 && !want_roi))
			continue;
		int64_t cnt = ir_shape_numel(&t->shape);
		if (cnt <= 0)
			continue;
		int max = k == 1 ? 2 * IR_MAX_RANK : IR_MAX_RANK;
		bool ok = cnt <= max &&
		          (k == 3 ? t->dt == IR_DT_I64 || t->dt == IR_DT_I32 : t->dt == IR_DT_F32);
		if (!ok) {
			static const char *const what[] = {"", "roi", "scales", "sizes"};
			k_error(NULL, n, d, "%s is %s with %lld values; expected %s with at most %d",
			        what[k], ir_dtype_name(t->dt), (long long)cnt, k == 3 ? "i64" : "f32",
			        max);
			return -1;
		}
		for (int64_t i = 0; i < cnt; i++) {
			if (k == 1)
				o->roi[i] = ((const float *)t->data)[i];
			else if (k == 2)
				o->scales[i] = ((const float *)t->data)[i];
			else if (t->dt == IR_DT_I64)
				o->sizes[i] = ((const int64_t *)t->data)[i];
			else
				o->sizes[i] = ((const int32_t *)t->data)[i];
		}
		if (k == 1)
			o->nroi = (int)cnt;
		else if (k == 2)
			o->nscales = (int)cnt;
		else
			o->nsizes = (int)cnt;
	}
	return 0;
}

int ir_eval_resize(const ir_node *n, const ir_tensor *const *in, ir_tensor *const *out,
                   diag_sink *d)
{
	rs_plan p;
	rs_operands o;
	memset(&p, 0, sizeof p);
	ir_dtype dt = in[0]->dt;
	if (!ir_resize_dtype_ok(n, dt)) {
		k_error(NULL, n, d, "dtype %s is not supported (f32; i8, u8 and i16 in nearest mode)",
		        ir_dtype_name(dt));
		return -1;
	}
	if (ir_resize_attrs(NULL, n, &p, d) || rs_read_operands(n, in, p.ctm == RS_TF_CROP, &o, d) ||
	    rs_shape(NULL, n, &in[0]->shape, &o, &p, d))
		return -1;
	ir_shape ys;
	rs_out_shape(&p, &ys);
	if (!ir_shape_eq(&ys, &out[0]->shape) || out[0]->dt != dt) {
		char b1[96], b2[96];
		k_error(NULL, n, d, "output is %s%s but the operands give %s%s",
		        ir_dtype_name(out[0]->dt), ir_shape_str(&out[0]->shape, b1, sizeof b1), ir_dtype_name(dt),
		        ir_shape_str(&ys, b2, sizeof b2));
		return -1;
	}
	int64_t total = ir_shape_numel(&ys);
	if (total <= 0)
		return 0;

	int r = p.rank, rc = -1;
	rs_axis ax[IR_MAX_RANK];
	memset(ax, 0, sizeof ax);
	for (int a = 0; a < r; a++) {
		int nt = ir_resize_ntaps(&p, a);
		if (nt > (1 << 16)) {
			k_error(NULL, n, d, "antialias kernel for scale %g on axis %d is too wide",
			        p.scale[a], a);
			goto out;
		}
		size_t nx = (size_t)p.out[a];
		ax[a].nt = nt;
		ax[a].idx = malloc(nx * (size_t)nt * sizeof *ax[a].idx);
		ax[a].w = malloc(nx * (size_t)nt * sizeof *ax[a].w);
		ax[a].outside = calloc(nx, sizeof *ax[a].outside);
		if (!ax[a].idx || !ax[a].w || !ax[a].outside) {
			k_error(NULL, n, d, "out of memory");
			goto out;
		}
		for (int64_t x = 0; x < p.out[a]; x++) {
			double xo = ir_resize_coord(&p, a, x);
			/* NaN (from a NaN roi) is outside too */
			if (p.ctm == RS_TF_CROP && !(xo >= 0.0 && xo <= (double)(p.in[a] - 1))) {
				ax[a].outside[x] = true;
				continue;
			}
			ir_resize_taps(&p, a, xo, ax[a].idx + x * nt, ax[a].w + x * nt, nt);
		}
	}

	const float *xd = in[0]->data;
	float *y = out[0]->data;
	int64_t oc[IR_MAX_RANK], t[IR_MAX_RANK];
	for (int64_t e = 0; e < total; e++) {
		int64_t rem = e;
		bool outside = false;
		for (int a = r - 1; a >= 0; a--) {
			oc[a] = rem % p.out[a];
			rem /= p.out[a];
			outside |= ax[a].outside[oc[a]];
		}
		if (dt != IR_DT_F32) { /* nearest: the one tap's element (never outside) */
			int64_t off = 0;
			for (int a = 0; a < r; a++)
				off = off * p.in[a] + ax[a].idx[oc[a]];
			size_t es = ir_dtype_size(dt);
			memcpy((char *)out[0]->data + (size_t)e * es, (const char *)in[0]->data + (size_t)off * es, es);
			continue;
		}
		if (outside) {
			y[e] = p.extrap;
			continue;
		}
		/* Sum over every combination of one tap per axis. */
		double acc = 0.0;
		memset(t, 0, sizeof t);
		for (;;) {
			double wt = 1.0;
			int64_t off = 0;
			for (int a = 0; a < r; a++) {
				int64_t k = oc[a] * ax[a].nt + t[a];
				wt *= ax[a].w[k];
				off = off * p.in[a] + ax[a].idx[k];
			}
			if (wt != 0.0)
				acc += wt * xd[off];
			int a = r - 1;
			while (a >= 0 && ++t[a] == ax[a].nt)
				t[a--] = 0;
			if (a < 0)
				break;
		}
		y[e] = (float)acc;
	}
	rc = 0;
out:
	for (int a = 0; a < r; a++) {
		free(ax[a].idx);
		free(ax[a].w);
		free(ax[a].outside);
	}
	return rc;
}
