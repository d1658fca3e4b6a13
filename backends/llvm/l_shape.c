/* l_shape.c: data movement: concat, transpose, slice, split, pad
 * (constant mode) and gather, each one or more strided copies with
 * compile-time strides (be_copy_strided); a gather of run-time indices
 * a loop over them. */
#include <string.h>

#include "lower.h"

static int64_t prod(const ir_shape *s, int lo, int hi)
{
	int64_t p = 1;
	for (int i = lo; i < hi; i++)
		p *= s->d[i];
	return p;
}

/* Copy x (shape xs) into y at element offset `at`, y's block layout being
 * [outer, ylen, inner] and x's [outer, xlen, inner]. */
static void copy_block(be_fn *f, LLVMTypeRef ty, LLVMValueRef y, int64_t at, int64_t ylen,
                       LLVMValueRef x, int64_t xat, int64_t xlen, int64_t len, int64_t outer,
                       int64_t inner)
{
	int64_t dims[2] = {outer, len * inner};
	int64_t ds[2] = {ylen * inner, 1}, ss[2] = {xlen * inner, 1};
	be_copy_strided_t(f, ty, y, at, ds, x, xat, ss, 2, dims);
}

int be_l_concat(be_fn *f, const ir_node *n)
{
	const ir_shape *ys = &n->out[0]->shape;
	int r = ys->rank, axis = k_axis(ir_attr_int(n, "axis", 0), r);
	int64_t outer = prod(ys, 0, axis), inner = prod(ys, axis + 1, r), at = 0;
	LLVMValueRef y = be_ptr(f, n->out[0]);
	for (int k = 0; k < n->nin; k++) {
		int64_t len = n->in[k]->shape.d[axis];
		if (len > 0 && outer > 0 && inner > 0)
			copy_block(f, be_dt_type(f, n->out[0]->dt), y, at * inner, ys->d[axis],
			           be_ptr(f, n->in[k]), 0, len, len, outer, inner);
		at += len;
	}
	return 0;
}

int be_l_split(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape;
	int r = xs->rank, axis = k_axis(ir_attr_int(n, "axis", 0), r);
	int64_t outer = prod(xs, 0, axis), inner = prod(xs, axis + 1, r), at = 0;
	LLVMValueRef x = be_ptr(f, n->in[0]);
	for (int k = 0; k < n->nout; k++) {
		if (!n->out[k])
			continue;
		int64_t len = n->out[k]->shape.d[axis];
		LLVMValueRef y = be_ptr(f, n->out[k]);
		if (y && len > 0 && outer > 0 && inner > 0)
			copy_block(f, be_dt_type(f, n->in[0]->dt), y, 0, len, x, at * inner, xs->d[axis], len,
			           outer, inner);
		at += len;
	}
	return 0;
}

int be_l_transpose(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape, *ys = &n->out[0]->shape;
	int r = xs->rank, perm[IR_MAX_RANK], cnt = 0;
	const int64_t *p = ir_attr_ints(n, "perm", &cnt);
	for (int i = 0; i < r; i++)
		perm[i] = p && cnt == r ? (int)p[i] : r - 1 - i;
	int64_t xst[IR_MAX_RANK], yst[IR_MAX_RANK], sst[IR_MAX_RANK];
	k_strides(xs, xst);
	k_strides(ys, yst);
	for (int i = 0; i < r; i++)
		sst[i] = xst[perm[i]];
	be_copy_strided_t(f, be_dt_type(f, n->out[0]->dt), be_ptr(f, n->out[0]), 0, yst,
	                  be_ptr(f, n->in[0]), 0, sst, r, ys->d);
	return 0;
}

/* ONNX slice rules, as ir/k_shape.c's slice_plan (operands validated by
 * inference already): the first index and step per axis. */
int be_l_slice(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape, *ys = &n->out[0]->shape;
	int r = xs->rank;
	int64_t v[4][IR_MAX_RANK];
	bool have[4];
	int cnt = -1;
	for (int k = 0; k < 4; k++) {
		int c = be_const_ints(n, k + 1, v[k], IR_MAX_RANK);
		have[k] = c >= 0 && (k < 2 || ir_shape_numel(&n->in[k + 1]->shape) > 0);
		if (have[k])
			cnt = c;
	}
	int64_t first[IR_MAX_RANK] = {0}, step[IR_MAX_RANK];
	for (int i = 0; i < r; i++)
		step[i] = 1;
	for (int i = 0; i < cnt; i++) {
		int a = k_axis(have[2] ? v[2][i] : i, r);
		int64_t dim = xs->d[a], st = have[3] ? v[3][i] : 1, b = v[0][i];
		if (b < 0)
			b += dim;
		if (st > 0)
			b = b < 0 ? 0 : b > dim ? dim : b;
		else
			b = b < 0 ? 0 : b > dim - 1 ? dim - 1 : b;
		first[a] = b;
		step[a] = st;
	}
	int64_t xst[IR_MAX_RANK], yst[IR_MAX_RANK], sst[IR_MAX_RANK], base = 0;
	k_strides(xs, xst);
	k_strides(ys, yst);
	for (int i = 0; i < r; i++) {
		sst[i] = xst[i] * step[i];
		base += first[i] * xst[i];
	}
	be_copy_strided_t(f, be_dt_type(f, n->out[0]->dt), be_ptr(f, n->out[0]), 0, yst,
	                  be_ptr(f, n->in[0]), base, sst, r, ys->d);
	return 0;
}

/* Constant mode: fill with the value, then copy what survives cropping. */
int be_l_pad(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape, *ys = &n->out[0]->shape;
	int r = xs->rank;
	int64_t pads[2 * IR_MAX_RANK], axes[IR_MAX_RANK];
	int npads = be_const_ints(n, 1, pads, 2 * IR_MAX_RANK);
	int naxes = n->nin > 3 && n->in[3] && ir_shape_numel(&n->in[3]->shape) > 0
	                    ? be_const_ints(n, 3, axes, IR_MAX_RANK)
	                    : -1;
	int na = naxes >= 0 ? naxes : r;
	int64_t pb[IR_MAX_RANK] = {0}, pe[IR_MAX_RANK] = {0};
	for (int i = 0; i < na && 2 * i < npads; i++) {
		int a = k_axis(naxes >= 0 ? axes[i] : i, r);
		pb[a] = pads[i];
		pe[a] = pads[na + i];
	}
	float val = 0;
	if (n->nin > 2 && n->in[2] && ir_shape_numel(&n->in[2]->shape) > 0) {
		if (n->in[2]->kind != IR_VAL_CONST) {
			diag_error(f->d, ir_node_loc(f->g, n), "backend: pad value must be a constant");
			return -1;
		}
		val = (float)ir_const_get(n->in[2], 0);
	}
	LLVMValueRef y = be_ptr(f, n->out[0]), x = be_ptr(f, n->in[0]);
	int64_t total = ir_shape_numel(ys);
	be_fill(f, y, 0, total, val);
	int64_t xst[IR_MAX_RANK], yst[IR_MAX_RANK], dims[IR_MAX_RANK], sb = 0, db = 0;
	k_strides(xs, xst);
	k_strides(ys, yst);
	for (int i = 0; i < r; i++) {
		int64_t s0 = pb[i] < 0 ? -pb[i] : 0, d0 = pb[i] > 0 ? pb[i] : 0;
		dims[i] = xs->d[i] + (pb[i] < 0 ? pb[i] : 0) + (pe[i] < 0 ? pe[i] : 0);
		if (dims[i] <= 0)
			return 0;
		sb += s0 * xst[i];
		db += d0 * yst[i];
	}
	be_copy_strided(f, y, db, yst, x, sb, xst, r, dims);
	return 0;
}

/* Element p of n's indices (operand 1, i32 or i64), read at run time,
 * along an axis of ext elements: a negative one counts from the end; *ok
 * says whether it then lies in [0, ext).  The index, 0 where not ok: the
 * caller selects what an index outside gives. */
static LLVMValueRef run_index(be_fn *f, const ir_node *n, LLVMValueRef p, int64_t ext, LLVMValueRef *ok)
{
	LLVMBuilderRef b = f->b;
	LLVMTypeRef i64 = LLVMInt64TypeInContext(f->ctx);
	LLVMValueRef v = LLVMBuildSExtOrBitCast(b, be_ld_t(f, be_dt_type(f, n->in[1]->dt), be_ptr(f, n->in[1]), p), i64, "");
	LLVMValueRef e64 = LLVMConstInt(i64, (unsigned long long)ext, 0);
	v = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSLT, v, LLVMConstNull(i64), ""), LLVMBuildAdd(b, v, e64, ""), v, "");
	*ok = LLVMBuildICmp(b, LLVMIntULT, v, e64, "");
	return LLVMBuildSelect(b, *ok, LLVMBuildIntCast2(b, v, f->ity, 1, ""), be_ci(f, 0), "");
}

/* gather_elements and scatter_elements: a nest over the elements of n's
 * indices (operand 1); *p an element's offset there, the result the
 * offset in data (operand 0) of the element at the same coordinates but
 * the axis one, read from indices (run_index, *ok). */
static LLVMValueRef elements_begin(be_fn *f, const ir_node *n, be_nest *on, LLVMValueRef *p, LLVMValueRef *ok)
{
	const ir_shape *xs = &n->in[0]->shape, *is = &n->in[1]->shape;
	int r = xs->rank, axis = k_axis(ir_attr_int(n, "axis", 0), r);
	int64_t xst[IR_MAX_RANK], ist[IR_MAX_RANK], xo[IR_MAX_RANK];
	k_strides(xs, xst);
	k_strides(is, ist);
	for (int i = 0; i < r; i++)
		xo[i] = i == axis ? 0 : xst[i];
	LLVMValueRef oi[IR_MAX_RANK];
	be_nest_begin(f, on, r, is->d, oi);
	*p = be_affine(f, 0, r, oi, ist);
	LLVMValueRef v = run_index(f, n, *p, xs->d[axis], ok);
	return be_add(f, be_affine(f, 0, r, oi, xo), be_mul(f, v, xst[axis]));
}

/* n's output at dst..dst+cnt = its data (operand 0) at src.., or zeros
 * where !ok (an index outside its axis). */
static void copy_block_ok(be_fn *f, const ir_node *n, LLVMValueRef dst, LLVMValueRef src, LLVMValueRef ok,
                          int64_t cnt)
{
	LLVMTypeRef ty = be_dt_type(f, n->out[0]->dt);
	be_loop l;
	LLVMValueRef i = be_loop_begin(f, &l, cnt);
	LLVMValueRef e = be_ld_t(f, ty, be_ptr(f, n->in[0]), be_add(f, src, i));
	be_st_t(f, ty, be_ptr(f, n->out[0]), be_add(f, dst, i), LLVMBuildSelect(f->b, ok, e, LLVMConstNull(ty), ""));
	be_loop_end(f, &l);
}

/* Gather of indices known only at run time (token ids into an embedding
 * table): per index, its block of `inner` elements; an index outside
 * [-ext, ext), which ONNX leaves undefined and the interpreter refuses,
 * reads nothing and gives zeros. */
static void gather_dyn(be_fn *f, const ir_node *n, int64_t outer, int64_t ext, int64_t inner, int64_t nidx)
{
	LLVMValueRef ok;
	be_loop lo, lj;
	LLVMValueRef o = be_loop_begin(f, &lo, outer);
	LLVMValueRef j = be_loop_begin(f, &lj, nidx);
	LLVMValueRef v = run_index(f, n, j, ext, &ok);
	LLVMValueRef src = be_mul(f, be_add(f, be_mul(f, o, ext), v), inner);
	copy_block_ok(f, n, be_mul(f, be_add(f, be_mul(f, o, nidx), j), inner), src, ok, inner);
	be_loop_end(f, &lj);
	be_loop_end(f, &lo);
}

int be_l_gather(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape;
	const ir_value *iv = n->in[1];
	int r = xs->rank, axis = k_axis(ir_attr_int(n, "axis", 0), r);
	int64_t outer = prod(xs, 0, axis), ext = xs->d[axis], inner = prod(xs, axis + 1, r);
	int64_t nidx = ir_shape_numel(&iv->shape);
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	if (outer <= 0 || inner <= 0 || nidx <= 0)
		return 0;
	if (iv->kind != IR_VAL_CONST) {
		gather_dyn(f, n, outer, ext, inner, nidx);
		return 0;
	}
	/* constant indices: one strided copy per index */
	for (int64_t j = 0; j < nidx; j++) {
		int64_t v = (int64_t)ir_const_get(iv, j);
		if (v < 0)
			v += ext;
		copy_block(f, be_dt_type(f, n->out[0]->dt), y, j * inner, nidx, x, v * inner, ext, 1, outer, inner);
	}
	return 0;
}

/* gather_elements (ir/k_shape.c): per output element, data at its own
 * coordinates with the axis one read from indices; an index outside
 * [-ext, ext) (the interpreter refuses it) reads nothing and gives 0. */
int be_l_gather_elements(be_fn *f, const ir_node *n)
{
	if (k_axis(ir_attr_int(n, "axis", 0), n->in[0]->shape.rank) < 0)
		return -1;
	if (ir_shape_numel(&n->in[1]->shape) <= 0)
		return 0;
	LLVMBuilderRef b = f->b;
	LLVMTypeRef ty = be_dt_type(f, n->out[0]->dt);
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]), p, ok;
	be_nest on;
	LLVMValueRef src = elements_begin(f, n, &on, &p, &ok);
	LLVMValueRef e = be_ld_t(f, ty, x, src);
	be_st_t(f, ty, y, p, LLVMBuildSelect(b, ok, e, LLVMConstNull(ty), ""));
	be_nest_end(f, &on);
	return 0;
}

/* An update e meeting the old value under reduction red: e itself
 * ("none"), or the f32 sum, product, max or min. */
static LLVMValueRef scatter_combine(be_fn *f, const char *red, LLVMValueRef old, LLVMValueRef e)
{
	LLVMBuilderRef b = f->b;
	if (strcmp(red, "add") == 0)
		return LLVMBuildFAdd(b, old, e, "");
	if (strcmp(red, "mul") == 0)
		return LLVMBuildFMul(b, old, e, "");
	if (strcmp(red, "max") == 0)
		return LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOGT, e, old, ""), e, old, "");
	if (strcmp(red, "min") == 0)
		return LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLT, e, old, ""), e, old, "");
	return e;
}

/* scatter_elements (ir/k_shape.c): y = data, then each update in order
 * at its target (an index outside the axis, which the interpreter
 * refuses, writes nothing), stored or combined (f32 add, mul, max, min). */
int be_l_scatter_elements(be_fn *f, const ir_node *n)
{
	const char *red = ir_attr_str(n, "reduction", "none");
	if (k_axis(ir_attr_int(n, "axis", 0), n->in[0]->shape.rank) < 0)
		return -1;
	LLVMBuilderRef b = f->b;
	LLVMTypeRef ty = be_dt_type(f, n->out[0]->dt);
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]), up = be_ptr(f, n->in[2]), p, ok;
	if (!be_same_storage(f, n->in[0], n->out[0]))
		be_copy_bytes(f, y, x, ir_shape_numel(&n->in[0]->shape) * (int64_t)ir_dtype_size(n->out[0]->dt));
	if (ir_shape_numel(&n->in[1]->shape) <= 0)
		return 0;
	be_nest on;
	/* out of range: the element at 0 along the axis, rewritten unchanged */
	LLVMValueRef dst = elements_begin(f, n, &on, &p, &ok);
	LLVMValueRef old = be_ld_t(f, ty, y, dst), nv = scatter_combine(f, red, old, be_ld_t(f, ty, up, p));
	be_st_t(f, ty, y, dst, LLVMBuildSelect(b, ok, nv, old, ""));
	be_nest_end(f, &on);
	return 0;
}

/* gather_nd and scatter_nd (ir/k_shape.c): per batch bi and tuple j of
 * indices (a loop each), the offset of the tuple's block in data, its k
 * coordinates read at run time (run_index); *ok whether all lie in their
 * axes (else the offset is 0's and the caller reads or writes nothing). */
static LLVMValueRef nd_begin(be_fn *f, const ir_node *n, int b, be_loop *lb, be_loop *lj, LLVMValueRef *bi,
                             LLVMValueRef *j, LLVMValueRef *ok, int64_t *ntup, int64_t *block)
{
	const ir_shape *xs = &n->in[0]->shape, *is = &n->in[1]->shape;
	int k = (int)is->d[is->rank - 1];
	int64_t batches = 1;
	*ntup = 1, *block = 1;
	for (int i = 0; i < b; i++)
		batches *= xs->d[i];
	for (int i = b; i < is->rank - 1; i++)
		*ntup *= is->d[i];
	for (int i = b + k; i < xs->rank; i++)
		*block *= xs->d[i];
	LLVMBuilderRef bld = f->b;
	*bi = be_loop_begin(f, lb, batches);
	*j = be_loop_begin(f, lj, *ntup);
	LLVMValueRef tup = be_mul(f, be_add(f, be_mul(f, *bi, *ntup), *j), k), off = be_mul(f, *bi, ir_shape_numel(xs) / (batches ? batches : 1));
	*ok = LLVMConstInt(f->i1, 1, 0);
	int64_t st = *block;
	for (int t = k - 1; t >= 0; t--) {
		LLVMValueRef okt, v = run_index(f, n, be_add(f, tup, be_ci(f, t)), xs->d[b + t], &okt);
		*ok = LLVMBuildAnd(bld, *ok, okt, "");
		off = be_add(f, off, be_mul(f, v, st));
		st *= xs->d[b + t];
	}
	return off;
}

/* gather_nd: each tuple's block copied; a tuple outside data (which the
 * interpreter refuses) gives zeros. */
int be_l_gather_nd(be_fn *f, const ir_node *n)
{
	if (ir_shape_numel(&n->out[0]->shape) <= 0)
		return 0;
	LLVMValueRef bi, j, ok;
	be_loop lb, lj;
	int64_t ntup, block;
	LLVMValueRef src = nd_begin(f, n, (int)ir_attr_int(n, "batch_dims", 0), &lb, &lj, &bi, &j, &ok, &ntup, &block);
	copy_block_ok(f, n, be_mul(f, be_add(f, be_mul(f, bi, ntup), j), block), src, ok, block);
	be_loop_end(f, &lj);
	be_loop_end(f, &lb);
	return 0;
}

/* scatter_nd: y = data, then each tuple's block in order replaced by (or
 * combined with: f32 add, mul, max, min) its updates; a tuple outside
 * data writes its old values back. */
int be_l_scatter_nd(be_fn *f, const ir_node *n)
{
	const char *red = ir_attr_str(n, "reduction", "none");
	LLVMBuilderRef b = f->b;
	LLVMTypeRef ty = be_dt_type(f, n->out[0]->dt);
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]), up = be_ptr(f, n->in[2]), bi, j, ok;
	if (!be_same_storage(f, n->in[0], n->out[0]))
		be_copy_bytes(f, y, x, ir_shape_numel(&n->in[0]->shape) * (int64_t)ir_dtype_size(n->out[0]->dt));
	if (ir_shape_numel(&n->in[2]->shape) <= 0)
		return 0;
	be_loop lb, lj, le;
	int64_t ntup, block;
	LLVMValueRef dst = nd_begin(f, n, 0, &lb, &lj, &bi, &j, &ok, &ntup, &block);
	LLVMValueRef src = be_mul(f, j, block);
	LLVMValueRef e = be_loop_begin(f, &le, block);
	LLVMValueRef at = be_add(f, dst, e);
	LLVMValueRef old = be_ld_t(f, ty, y, at), nv = scatter_combine(f, red, old, be_ld_t(f, ty, up, be_add(f, src, e)));
	be_st_t(f, ty, y, at, LLVMBuildSelect(b, ok, nv, old, ""));
	be_loop_end(f, &le);
	be_loop_end(f, &lj);
	be_loop_end(f, &lb);
	return 0;
}

/* one_hot (ir/k_shape.c): each output element values[1] where the index
 * (read at run time; negative ones counted from depth) is its position
 * along the axis, values[0] elsewhere. */
int be_l_one_hot(be_fn *f, const ir_node *n)
{
	const ir_shape *ys = &n->out[0]->shape;
	int r = ys->rank, axis = k_axis(ir_attr_int(n, "axis", -1), r);
	if (axis < 0 || ir_shape_numel(ys) <= 0)
		return axis < 0 ? -1 : 0;
	int64_t depth = ys->d[axis], dims[3] = {1, depth, 1};
	for (int i = 0; i < axis; i++)
		dims[0] *= ys->d[i];
	for (int i = axis + 1; i < r; i++)
		dims[2] *= ys->d[i];
	LLVMBuilderRef b = f->b;
	const ir_value *iv = n->in[0];
	LLVMTypeRef ty = be_dt_type(f, n->out[0]->dt), i64 = LLVMInt64TypeInContext(f->ctx);
	LLVMValueRef ip = be_ptr(f, iv), vp = be_ptr(f, n->in[2]), y = be_ptr(f, n->out[0]);
	LLVMValueRef off = be_ld_t(f, ty, vp, be_ci(f, 0)), on1 = be_ld_t(f, ty, vp, be_ci(f, 1));
	int64_t yst[3] = {depth * dims[2], dims[2], 1}, ist[3] = {dims[2], 0, 1};
	be_nest nn;
	LLVMValueRef oi[3];
	be_nest_begin(f, &nn, 3, dims, oi);
	LLVMValueRef ie = be_ld_t(f, be_dt_type(f, iv->dt), ip, be_affine(f, 0, 3, oi, ist));
	LLVMValueRef v = iv->dt == IR_DT_F32 ? LLVMBuildFPToSI(b, ie, i64, "") : LLVMBuildSExtOrBitCast(b, ie, i64, "");
	LLVMValueRef dep = LLVMConstInt(i64, (unsigned long long)depth, 0);
	v = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSLT, v, LLVMConstNull(i64), ""), LLVMBuildAdd(b, v, dep, ""), v, "");
	LLVMValueRef a = LLVMBuildSExtOrBitCast(b, oi[1], i64, "");
	LLVMValueRef hit = LLVMBuildICmp(b, LLVMIntEQ, v, a, "");
	be_st_t(f, ty, y, be_affine(f, 0, 3, oi, yst), LLVMBuildSelect(b, hit, on1, off, ""));
	be_nest_end(f, &nn);
	return 0;
}

/* trilu (ir/k_shape.c): each element kept or 0 by its row and column. */
int be_l_trilu(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape;
	int r = xs->rank;
	int64_t k = n->nin > 1 && n->in[1] ? (int64_t)ir_const_get(n->in[1], 0) : 0;
	bool up = ir_attr_int(n, "upper", 1) != 0;
	if (r < 2 || ir_shape_numel(xs) <= 0)
		return r < 2 ? -1 : 0;
	LLVMBuilderRef b = f->b;
	LLVMTypeRef ty = be_dt_type(f, n->out[0]->dt);
	LLVMValueRef x = be_ptr(f, n->in[0]), y = be_ptr(f, n->out[0]);
	int64_t dims[3] = {ir_shape_numel(xs) / (xs->d[r - 2] * xs->d[r - 1]), xs->d[r - 2], xs->d[r - 1]};
	int64_t st[3] = {dims[1] * dims[2], dims[2], 1};
	be_nest on;
	LLVMValueRef oi[3];
	be_nest_begin(f, &on, 3, dims, oi);
	LLVMValueRef p = be_affine(f, 0, 3, oi, st);
	LLVMValueRef diff = LLVMBuildSub(b, oi[2], oi[1], ""); /* j - i */
	LLVMValueRef keep = LLVMBuildICmp(b, up ? LLVMIntSGE : LLVMIntSLE, diff, be_ci(f, k), "");
	LLVMValueRef e = be_ld_t(f, ty, x, p);
	be_st_t(f, ty, y, p, LLVMBuildSelect(b, keep, e, LLVMConstNull(ty), ""));
	be_nest_end(f, &on);
	return 0;
}

/* expand, tile, depth_to_space, space_to_depth: the copy map of
 * ir/k_shape.c (ir_copy_map), any dtype. */
int be_l_copy_map(be_fn *f, const ir_node *n)
{
	const ir_shape *xs = &n->in[0]->shape, *ys = &n->out[0]->shape;
	int rank;
	int64_t dims[IR_MAX_RANK], st[IR_MAX_RANK], yst[IR_MAX_RANK];
	if (ir_copy_map(n, xs, ys, &rank, dims, st))
		return -1;
	ir_shape ds = {.rank = rank};
	for (int i = 0; i < rank; i++)
		ds.d[i] = dims[i];
	k_strides(&ds, yst);
	be_copy_strided_t(f, be_dt_type(f, n->out[0]->dt), be_ptr(f, n->out[0]), 0, yst, be_ptr(f, n->in[0]), 0,
	                  st, rank, dims);
	return 0;
}
