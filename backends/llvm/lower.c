/* lower.c: graph -> LLVM module.  Builds `int NAME_run(inputs, outputs,
 * arena)`, which loads the caller's pointers and calls an internal body
 * whose parameters are noalias; the body runs the nodes in schedule order,
 * each lowered by its op family (l_*.c) into loops with constant bounds
 * over addresses taken from the memory plan: a float layer into a
 * function of its own that the body calls (layer functions, below), an
 * integer one inline. */
#include <stdlib.h>
#include <string.h>

#include <llvm-c/DebugInfo.h>

#include "lower.h"
#include "lower_internal.h"
#include "l_int.h"

/* ------------------------------------------------------------ helpers */

LLVMValueRef be_ci(be_fn *f, int64_t v)
{
	return LLVMConstInt(f->ity, (unsigned long long)v, 1);
}

LLVMValueRef be_cf(be_fn *f, float v)
{
	return LLVMConstReal(f->f32, (double)v);
}

LLVMValueRef be_add(be_fn *f, LLVMValueRef a, LLVMValueRef b)
{
	if (LLVMIsAConstantInt(b) && LLVMConstIntGetSExtValue(b) == 0)
		return a;
	if (LLVMIsAConstantInt(a) && LLVMConstIntGetSExtValue(a) == 0)
		return b;
	return LLVMBuildNSWAdd(f->b, a, b, "");
}

LLVMValueRef be_mul(be_fn *f, LLVMValueRef a, int64_t k)
{
	if (k == 1)
		return a;
	if (LLVMIsAConstantInt(a))
		return be_ci(f, LLVMConstIntGetSExtValue(a) * k);
	return LLVMBuildNSWMul(f->b, a, be_ci(f, k), "");
}

LLVMValueRef be_affine(be_fn *f, int64_t base, int n, const LLVMValueRef *ivs, const int64_t *st)
{
	LLVMValueRef acc = NULL;
	for (int i = 0; i < n; i++) {
		if (st[i] == 0)
			continue;
		if (LLVMIsAConstantInt(ivs[i])) {
			base += LLVMConstIntGetSExtValue(ivs[i]) * st[i];
			continue;
		}
		LLVMValueRef t = be_mul(f, ivs[i], st[i]);
		acc = acc ? be_add(f, acc, t) : t;
	}
	if (!acc)
		return be_ci(f, base);
	return base ? be_add(f, acc, be_ci(f, base)) : acc;
}

static LLVMValueRef gep(be_fn *f, LLVMValueRef p, LLVMValueRef idx)
{
	return LLVMBuildInBoundsGEP2(f->b, f->f32, p, &idx, 1, "");
}

LLVMValueRef be_ld(be_fn *f, LLVMValueRef p, LLVMValueRef idx)
{
	LLVMValueRef l = LLVMBuildLoad2(f->b, f->f32, gep(f, p, idx), "");
	LLVMSetAlignment(l, 4);
	return l;
}

LLVMValueRef be_vld(be_fn *f, const ir_value *v, LLVMValueRef p, LLVMValueRef idx)
{
	const be_cstore *c = v && f->cst ? &f->cst[v->id] : NULL;
	if (!c || c->dt == PASS_BIAS_F32)
		return be_ld(f, p, idx);
	if (c->dt == PASS_BIAS_F16)
		return be_f16_ld(f, p, idx);
	LLVMValueRef base = LLVMConstInt(f->i32, (unsigned long long)(uint32_t)(c->e0 + 127) << 23, 0);
	return be_code12_ld(f, p, idx, base, PASS_B12_MB, true);
}

void be_st(be_fn *f, LLVMValueRef p, LLVMValueRef idx, LLVMValueRef v)
{
	LLVMValueRef s = LLVMBuildStore(f->b, v, gep(f, p, idx));
	LLVMSetAlignment(s, 4);
}

#define BE_LIBM_NAME(e, n) #n,
const char *const be_libm_name[BE_LIBM_N] = {BE_LIBM_FUNCS(BE_LIBM_NAME)};
#undef BE_LIBM_NAME

/* A call of libm function `which` (BE_LIBM_*) on nargs f32 arguments. */
static LLVMValueRef libm_call(be_fn *f, int which, LLVMValueRef *args, unsigned nargs)
{
	const char *const *names = be_libm_name;
	LLVMTypeRef pt[2] = {f->f32, f->f32};
	LLVMTypeRef ft = LLVMFunctionType(f->f32, pt, nargs, 0);
	if (!f->libm[which]) {
		LLVMValueRef fn = LLVMGetNamedFunction(f->mod, names[which]);
		if (!fn)
			fn = LLVMAddFunction(f->mod, names[which], ft);
		LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
		                        LLVMCreateEnumAttribute(f->ctx, LLVMGetEnumAttributeKindForName("nounwind", 8), 0));
		f->libm[which] = fn;
	}
	return LLVMBuildCall2(f->b, ft, f->libm[which], args, nargs, "");
}

LLVMValueRef be_call(be_fn *f, int which, LLVMValueRef x)
{
	return libm_call(f, which, &x, 1);
}

LLVMValueRef be_call2(be_fn *f, int which, LLVMValueRef x, LLVMValueRef y)
{
	LLVMValueRef a[2] = {x, y};
	return libm_call(f, which, a, 2);
}

LLVMValueRef be_intr(be_fn *f, const char *name, LLVMTypeRef *ty, size_t nty, LLVMValueRef *args, unsigned n)
{
	unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
	if (id == 0) {
		diag_error(f->d, NULL, "internal error: LLVM has no intrinsic '%s'", name);
		return LLVMGetUndef(nty ? ty[0] : f->i32);
	}
	LLVMValueRef fn = LLVMGetIntrinsicDeclaration(f->mod, id, ty, nty);
	return LLVMBuildCall2(f->b, LLVMIntrinsicGetType(f->ctx, id, ty, nty), fn, args, n, "");
}

void be_asm_stack(be_fn *f, int64_t bytes)
{
	f->asm_stack = bytes > f->asm_stack ? bytes : f->asm_stack;
}

LLVMValueRef be_smmlar(be_fn *f, LLVMValueRef a, LLVMValueRef m, LLVMValueRef acc)
{
	LLVMTypeRef pt[3] = {f->i32, f->i32, f->i32};
	LLVMTypeRef fty = LLVMFunctionType(f->i32, pt, 3, 0);
	static const char text[] = "smmlar $0, $1, $2, $3", cons[] = "=r,r,r,r";
	LLVMValueRef ia = LLVMGetInlineAsm(fty, text, sizeof text - 1, (char *)cons, sizeof cons - 1, 0, 0,
	                                   LLVMInlineAsmDialectATT, 0);
	LLVMValueRef args[3] = {a, m, acc};
	return LLVMBuildCall2(f->b, fty, ia, args, 3, "");
}

LLVMValueRef be_sqrt(be_fn *f, LLVMValueRef x)
{
	return be_intr(f, "llvm.sqrt", &f->f32, 1, &x, 1);
}

LLVMValueRef be_fast(LLVMValueRef inst)
{
	if (LLVMIsAInstruction(inst) && LLVMCanValueUseFastMathFlags(inst))
		LLVMSetFastMathFlags(inst, LLVMFastMathAllowReassoc | LLVMFastMathAllowContract |
		                               LLVMFastMathNoSignedZeros);
	return inst;
}

/* Allocas go in the entry block, where mem2reg can promote them. */
LLVMValueRef be_entry_alloca(be_fn *f, LLVMTypeRef ty, const char *name)
{
	LLVMBasicBlockRef cur = LLVMGetInsertBlock(f->b);
	LLVMValueRef first = LLVMGetFirstInstruction(f->entry);
	if (first)
		LLVMPositionBuilderBefore(f->b, first);
	else
		LLVMPositionBuilderAtEnd(f->b, f->entry);
	LLVMValueRef a = LLVMBuildAlloca(f->b, ty, name);
	LLVMPositionBuilderAtEnd(f->b, cur);
	return a;
}

/* Arena byte off, addressed in the entry block (so that it dominates
 * every use). */
static LLVMValueRef arena_at(be_fn *f, int64_t off, const char *name)
{
	LLVMBasicBlockRef cur = LLVMGetInsertBlock(f->b);
	LLVMPositionBuilderAtEnd(f->b, f->entry);
	LLVMValueRef t = LLVMGetBasicBlockTerminator(f->entry);
	if (t)
		LLVMPositionBuilderBefore(f->b, t);
	LLVMValueRef o = LLVMConstInt(f->ity, (unsigned long long)off, 0);
	LLVMValueRef p = LLVMBuildInBoundsGEP2(f->b, f->i8, f->arena, &o, 1, name);
	LLVMPositionBuilderAtEnd(f->b, cur);
	return p;
}

/* The arena bytes [*lo, *hi) of buffer m (a root: its value's offset is
 * sub bytes into the buffer, which an in-place depthwise conv's output
 * starts below), when it is live across node positions [p0, p1]. */
static bool scratch_buf(const pass_mp_value *m, int p0, int p1, int64_t *lo, int64_t *hi)
{
	if (m->kind != MP_ARENA || m->alias >= 0 || m->last < p0 || m->def > p1)
		return false;
	int64_t n = m->span > 0 ? m->span : m->bytes;
	*lo = m->offset - m->sub;
	*hi = *lo + (n + PASS_MEMPLAN_ALIGN - 1) / PASS_MEMPLAN_ALIGN * PASS_MEMPLAN_ALIGN;
	return true;
}

static int range_cmp(const void *a, const void *b)
{
	int64_t x = ((const int64_t *)a)[0], y = ((const int64_t *)b)[0];
	return (x > y) - (x < y);
}

static LLVMValueRef scratch_alloca(be_fn *f, LLVMTypeRef ty, unsigned align, const char *name)
{
	LLVMValueRef a = be_entry_alloca(f, ty, name);
	if (align)
		LLVMSetAlignment(a, align);
	return a;
}

static LLVMValueRef slot_param(be_fn *f, int kind, int64_t key, LLVMValueRef gv, LLVMValueRef arg,
                               int64_t lo, int64_t hi);
static be_site site_get(const be_fn *f);
static void site_set(be_fn *f, be_site s);

LLVMValueRef be_scratch(be_fn *f, LLVMTypeRef ty, unsigned align, const char *name)
{
	const pass_mem_plan *pl = f->plan;
	if (!f->mcu || f->fn != (f->layer ? f->layer->fn : f->body.fn) || !f->body.arena || !pl || f->pos < 0 ||
	    !f->npos ||
	    f->nscr == (int)(sizeof f->scr / sizeof f->scr[0]) || align > PASS_MEMPLAN_ALIGN)
		return scratch_alloca(f, ty, align, name);
	int64_t bytes = (int64_t)LLVMABISizeOfType(LLVMGetModuleDataLayout(f->mod), ty);
	/* the nodes fused into this one so far run inside it: their outputs
	 * are written while the scratch is in use */
	int p1 = f->pos;
	for (int i = 0; i < f->g->nnodes; i++)
		if (f->fused[i] && f->npos[i] > p1) /* both by node id */
			p1 = f->npos[i];
	/* the occupied ranges by start, then the lowest aligned gap */
	int64_t(*r)[2] = malloc(sizeof *r * (size_t)(pl->nvalues + f->nscr + 1));
	if (!r || bytes <= 0) {
		free(r);
		return scratch_alloca(f, ty, align, name);
	}
	int n = 0;
	for (int i = 0; i < pl->nvalues; i++)
		if (scratch_buf(&pl->v[i], f->pos, p1, &r[n][0], &r[n][1]))
			n++;
	for (int k = 0; k < f->nscr; k++, n++)
		r[n][0] = f->scr[k][0], r[n][1] = f->scr[k][1];
	qsort(r, (size_t)n, sizeof *r, range_cmp);
	int64_t best = -1, at = 0;
	for (int k = 0; k <= n && best < 0; k++) {
		at = (at + PASS_MEMPLAN_ALIGN - 1) / PASS_MEMPLAN_ALIGN * PASS_MEMPLAN_ALIGN;
		int64_t end = k < n ? r[k][0] : pl->arena_size;
		if (at + bytes <= end && at + bytes <= pl->arena_size)
			best = at;
		else if (k < n && r[k][1] > at)
			at = r[k][1];
	}
	free(r);
	if (best < 0)
		return scratch_alloca(f, ty, align, name);
	f->scr[f->nscr][0] = best;
	f->scr[f->nscr][1] = best + bytes;
	f->nscr++;
	if (!f->layer)
		return arena_at(f, best, name);
	/* in a layer function: the body's address, in a slot of its own
	 * (noalias: no buffer of the node lies there) */
	be_site here = site_get(f);
	site_set(f, f->body);
	LLVMValueRef arg = arena_at(f, best, name);
	site_set(f, here);
	LLVMValueRef p = slot_param(f, MP_ARENA, best, NULL, arg, best, best + bytes);
	return p ? p : scratch_alloca(f, ty, align, name);
}

LLVMValueRef be_slot(be_fn *f)
{
	return be_entry_alloca(f, f->f32, "acc");
}

LLVMValueRef be_sel_lt(be_fn *f, LLVMValueRef a, LLVMValueRef b, LLVMValueRef x, LLVMValueRef y)
{
	return LLVMBuildSelect(f->b, LLVMBuildFCmp(f->b, LLVMRealOLT, a, b, ""), x, y, "");
}

/* -------------------------------------------------------------- loops */

LLVMValueRef be_loop_begin(be_fn *f, be_loop *l, int64_t n)
{
	memset(l, 0, sizeof *l);
	l->n = n;
	if (n == 1)
		return be_ci(f, 0);
	LLVMBasicBlockRef pre = LLVMGetInsertBlock(f->b);
	l->body = LLVMAppendBasicBlockInContext(f->ctx, f->fn, "loop");
	l->exit = LLVMAppendBasicBlockInContext(f->ctx, f->fn, "loop.end");
	if (n > 0)
		LLVMBuildBr(f->b, l->body);
	else
		LLVMBuildBr(f->b, l->exit); /* empty range: the body is unreachable */
	LLVMPositionBuilderAtEnd(f->b, l->body);
	l->phi = LLVMBuildPhi(f->b, f->ity, "i");
	if (n > 0) {
		LLVMValueRef z = be_ci(f, 0);
		LLVMAddIncoming(l->phi, &z, &pre, 1);
	}
	return l->phi;
}

LLVMValueRef be_loop_begin_v(be_fn *f, be_loop *l, LLVMValueRef n)
{
	memset(l, 0, sizeof *l);
	l->n = -1;
	l->nv = n;
	LLVMBasicBlockRef pre = LLVMGetInsertBlock(f->b);
	l->body = LLVMAppendBasicBlockInContext(f->ctx, f->fn, "loop");
	l->exit = LLVMAppendBasicBlockInContext(f->ctx, f->fn, "loop.end");
	LLVMBuildBr(f->b, l->body);
	LLVMPositionBuilderAtEnd(f->b, l->body);
	l->phi = LLVMBuildPhi(f->b, f->ity, "i");
	LLVMValueRef z = be_ci(f, 0);
	LLVMAddIncoming(l->phi, &z, &pre, 1);
	return l->phi;
}

void be_loop_end(be_fn *f, be_loop *l)
{
	if (l->n == 1)
		return;
	LLVMBasicBlockRef latch = LLVMGetInsertBlock(f->b);
	LLVMValueRef next = LLVMBuildNUWAdd(f->b, l->phi, be_ci(f, 1), "");
	LLVMValueRef done = LLVMBuildICmp(f->b, LLVMIntEQ, next,
	                                  l->nv ? l->nv : be_ci(f, l->n > 0 ? l->n : 1), "");
	LLVMBuildCondBr(f->b, done, l->exit, l->body);
	LLVMAddIncoming(l->phi, &next, &latch, 1);
	LLVMMoveBasicBlockAfter(l->exit, latch);
	LLVMPositionBuilderAtEnd(f->b, l->exit);
}

/* !llvm.loop metadata on a latch branch: no unrolling. */
void be_no_unroll(be_fn *f, LLVMValueRef br)
{
	LLVMMetadataRef tmp = LLVMTemporaryMDNode(f->ctx, NULL, 0);
	LLVMMetadataRef dis = LLVMMDStringInContext2(f->ctx, "llvm.loop.unroll.disable", 24);
	LLVMMetadataRef opt = LLVMMDNodeInContext2(f->ctx, &dis, 1);
	LLVMMetadataRef ops[2] = {tmp, opt};
	LLVMMetadataRef loop = LLVMMDNodeInContext2(f->ctx, ops, 2);
	LLVMMetadataReplaceAllUsesWith(tmp, loop);
	unsigned kind = LLVMGetMDKindIDInContext(f->ctx, "llvm.loop", 9);
	LLVMSetMetadata(br, kind, LLVMMetadataAsValue(f->ctx, loop));
}

void be_loop_no_unroll(be_fn *f, const be_loop *l)
{
	if (l->n != 1)
		be_no_unroll(f, LLVMGetBasicBlockTerminator(LLVMGetPreviousBasicBlock(l->exit)));
}

void be_nest_begin(be_fn *f, be_nest *nst, int rank, const int64_t *dims, LLVMValueRef *ivs)
{
	nst->rank = rank;
	for (int i = 0; i < rank; i++)
		ivs[i] = be_loop_begin(f, &nst->l[i], dims[i]);
}

void be_nest_end(be_fn *f, be_nest *nst)
{
	for (int i = nst->rank - 1; i >= 0; i--)
		be_loop_end(f, &nst->l[i]);
}

void be_copy_strided(be_fn *f, LLVMValueRef dst, int64_t dbase, const int64_t *dst_st,
                     LLVMValueRef src, int64_t sbase, const int64_t *src_st, int rank,
                     const int64_t *dims)
{
	be_copy_strided_t(f, f->f32, dst, dbase, dst_st, src, sbase, src_st, rank, dims);
}

void be_copy_strided_t(be_fn *f, LLVMTypeRef ty, LLVMValueRef dst, int64_t dbase,
                       const int64_t *dst_st, LLVMValueRef src, int64_t sbase,
                       const int64_t *src_st, int rank, const int64_t *dims)
{
	int64_t dm[IR_MAX_RANK * 2], ds[IR_MAX_RANK * 2], ss[IR_MAX_RANK * 2];
	int r = 0;
	for (int i = 0; i < rank; i++) {
		if (dims[i] == 0)
			return;
		if (dims[i] == 1)
			continue;
		if (r > 0 && ds[r - 1] == dst_st[i] * dims[i] && ss[r - 1] == src_st[i] * dims[i]) {
			dm[r - 1] *= dims[i];
			ds[r - 1] = dst_st[i];
			ss[r - 1] = src_st[i];
			continue;
		}
		dm[r] = dims[i];
		ds[r] = dst_st[i];
		ss[r] = src_st[i];
		r++;
	}
	be_nest nst;
	LLVMValueRef ivs[IR_MAX_RANK * 2] = {0};
	be_nest_begin(f, &nst, r, dm, ivs);
	LLVMValueRef v = be_ld_t(f, ty, src, be_affine(f, sbase, r, ivs, ss));
	be_st_t(f, ty, dst, be_affine(f, dbase, r, ivs, ds), v);
	be_nest_end(f, &nst);
}

void be_copy(be_fn *f, LLVMValueRef dst, LLVMValueRef src, int64_t n)
{
	int64_t one = 1;
	be_copy_strided(f, dst, 0, &one, src, 0, &one, 1, &n);
}

void be_fill(be_fn *f, LLVMValueRef dst, int64_t base, int64_t n, float v)
{
	if (n <= 0)
		return;
	be_loop l;
	LLVMValueRef i = be_loop_begin(f, &l, n);
	be_st(f, dst, be_add(f, i, be_ci(f, base)), be_cf(f, v));
	be_loop_end(f, &l);
}

int be_const_ints(const ir_node *n, int k, int64_t *v, int max)
{
	if (k >= n->nin || !n->in[k])
		return -2;
	return ir_const_ints(n->in[k], v, max);
}

int be_segments(int64_t in, int64_t k, int64_t s, int64_t dil, int64_t pb, int64_t pe,
                int64_t out, be_seg *seg)
{
	int ns = 0;
	for (int64_t o = 0; o < out; o++) {
		int64_t base = o * s - pb, lo = k, hi = 0, np = 0;
		for (int64_t t = 0; t < k; t++) {
			int64_t p = base + t * dil;
			if (p >= 0 && p < in) {
				if (t < lo)
					lo = t;
				hi = t + 1;
			}
			if (p >= -pb && p < in + pe)
				np++;
		}
		if (hi <= lo)
			lo = hi = 0;
		if (ns > 0 && seg[ns - 1].klo == lo && seg[ns - 1].khi == hi && seg[ns - 1].npad == np &&
		    seg[ns - 1].o0 + seg[ns - 1].n == o) {
			seg[ns - 1].n++;
			continue;
		}
		seg[ns++] = (be_seg){o, 1, lo, hi, np};
	}
	return ns;
}

/* ---------------------------------------------------- value addresses */

static LLVMValueRef layer_ptr(be_fn *f, const ir_value *v);

LLVMValueRef be_ptr(be_fn *f, const ir_value *v)
{
	if (f->layer)
		return layer_ptr(f, v);
	if (f->vptr[v->id])
		return f->vptr[v->id];
	const pass_mp_value *m = &f->plan->v[v->id];
	LLVMValueRef p = NULL;
	switch (m->kind) {
	case MP_NONE:
		return NULL;
	case MP_INPUT:
		p = f->inp[m->index];
		break;
	case MP_OUTPUT:
		p = f->outp[m->index];
		break;
	case MP_ARENA:
		p = arena_at(f, m->offset, "");
		break;
	case MP_CONST: {
		int64_t bytes = m->bytes;
		char gname[96];
		snprintf(gname, sizeof gname, "%s.c%d", f->name, v->id);
		LLVMValueRef init;
		if (f->cst && f->cst[v->id].dt == PASS_BIAS_F16)
			init = be_f16_array(f, v->data, ir_shape_numel(&v->shape));
		else if (f->cst && f->cst[v->id].dt == PASS_BIAS_B12)
			init = be_code12_array(f, v->data, ir_shape_numel(&v->shape), f->cst[v->id].e0, PASS_B12_MB);
		else if (bytes > 0 && v->data)
			init = LLVMConstStringInContext2(f->ctx, v->data, (size_t)bytes, 1);
		else
			init = LLVMConstNull(LLVMArrayType2(f->i8, (uint64_t)(bytes > 0 ? bytes : 1)));
		if (!init)
			return NULL;
		p = LLVMAddGlobal(f->mod, LLVMTypeOf(init), gname);
		LLVMSetInitializer(p, init);
		LLVMSetGlobalConstant(p, 1);
		LLVMSetLinkage(p, LLVMPrivateLinkage);
		LLVMSetUnnamedAddress(p, LLVMGlobalUnnamedAddr);
		LLVMSetAlignment(p, 16);
		break;
	}
	}
	f->vptr[v->id] = p;
	return p;
}

/* An opaque constant made before, kept so that one table serves every
 * node that needs it: LLVM uniques constants, so equal contents are one
 * init.  (Patch-based tiles run a layer's weights in several nodes;
 * externally_initialized keeps the constant-merge pass away from them.) */
struct be_oconst {
	LLVMValueRef init, g;
	unsigned align;
};

LLVMValueRef be_opaque_const(be_fn *f, const char *name, LLVMValueRef init, unsigned align)
{
	for (int i = 0; i < f->noconst; i++)
		if (f->oconst[i].init == init && f->oconst[i].align >= align)
			return f->oconst[i].g;
	LLVMValueRef g = LLVMAddGlobal(f->mod, LLVMTypeOf(init), name);
	LLVMSetInitializer(g, init);
	LLVMSetGlobalConstant(g, 1);
	LLVMSetExternallyInitialized(g, 1);
	LLVMSetLinkage(g, LLVMPrivateLinkage);
	LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
	if (align)
		LLVMSetAlignment(g, align);
	if (f->noconst == f->capoconst) {
		int cap = f->capoconst ? f->capoconst * 2 : 32;
		struct be_oconst *m = realloc(f->oconst, sizeof *m * (size_t)cap);
		if (!m)
			return g; /* only the sharing is lost */
		f->oconst = m;
		f->capoconst = cap;
	}
	f->oconst[f->noconst++] = (struct be_oconst){init, g, align};
	return g;
}

/* ---------------------------------------------------- layer functions */

/* Every lowered node becomes a function of its own, NAME.L<id>, called
 * from the body in order.  Whatever it reaches in memory comes in as a
 * pointer parameter (a slot): its operands' arena regions, the caller's
 * buffers, the float weights.  So two layers of one shape make the
 * same function, which the optimizer's mergefunc keeps once (repeated
 * blocks of a MobileNet compile and take flash once), and each function
 * LLVM optimises and selects stays small.  Unused slots get null, and
 * deadargelim drops them.  A slot is noalias unless its arena region
 * overlaps another slot's (an op in place shares one slot).  A layer
 * that lowered to one call of a shared kernel (be_fn.lcall: the compact
 * kernels, whose descriptor differs per layer) is inlined instead: its
 * function would be a call and a return, which nothing merges. */

/* The slot of (kind, key), made when new with the body's value arg; the
 * parameter, or NULL when the slots ran out. */
static LLVMValueRef slot_param(be_fn *f, int kind, int64_t key, LLVMValueRef gv, LLVMValueRef arg,
                               int64_t lo, int64_t hi)
{
	be_layer *L = f->layer;
	for (int k = 0; k < L->n; k++) {
		be_pslot *s = &L->s[k];
		if (s->kind == kind && s->key == key && s->gv == gv) {
			if (hi > s->hi)
				s->hi = hi;
			return LLVMGetParam(f->fn, (unsigned)k);
		}
	}
	if (L->n == BE_LAYER_SLOTS)
		return NULL;
	L->s[L->n] = (be_pslot){kind, key, gv, arg, lo, hi};
	return LLVMGetParam(f->fn, (unsigned)L->n++);
}

static be_site site_get(const be_fn *f)
{
	return (be_site){f->layer, f->fn, f->arena, f->inp, f->outp, f->entry};
}

static void site_set(be_fn *f, be_site s)
{
	f->layer = s.layer;
	f->fn = s.fn;
	f->arena = s.arena;
	f->inp = s.inp;
	f->outp = s.outp;
	f->entry = s.entry;
}

/* v's address as the body sees it: its global for a constant. */
static LLVMValueRef body_ptr(be_fn *f, const ir_value *v)
{
	be_site here = site_get(f);
	site_set(f, f->body);
	LLVMValueRef p = be_ptr(f, v);
	site_set(f, here);
	return p;
}

LLVMValueRef be_const_global(be_fn *f, const ir_value *v)
{
	return f->plan->v[v->id].kind == MP_CONST ? body_ptr(f, v) : NULL;
}

/* v's address inside a layer function: the body's address for it (made
 * in the body's entry block, cached there), passed in a slot; a global
 * finding no slot is used as it is. */
static LLVMValueRef layer_ptr(be_fn *f, const ir_value *v)
{
	const pass_mp_value *m = &f->plan->v[v->id];
	if (m->kind == MP_NONE)
		return NULL;
	LLVMValueRef arg = body_ptr(f, v), p;
	if (m->kind == MP_CONST)
		return (p = slot_param(f, -1, 0, arg, arg, 0, 0)) ? p : arg;
	p = m->kind == MP_ARENA ? slot_param(f, MP_ARENA, m->offset, NULL, arg, m->offset, m->offset + m->bytes)
	                        : slot_param(f, m->kind, m->index, NULL, arg, 0, 0);
	if (!p && !f->layer->full) {
		diag_error(f->d, NULL, "internal error: a layer reaches more than %d buffers",
		           BE_LAYER_SLOTS);
		f->layer->full = true;
	}
	return p;
}

/* The attributes of the body and the layer functions: nounwind, and the
 * kernel policy's size attributes. */
static void code_attrs(const be_fn *f, LLVMValueRef fn)
{
	LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, be_attr(f->ctx, "nounwind"));
	if (f->code == BE_CODE_SIZE || f->code == BE_CODE_MIN)
		LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, be_attr(f->ctx, "optsize"));
	if (f->code == BE_CODE_MIN)
		LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, be_attr(f->ctx, "minsize"));
}

/* Does node n get a layer function?  Float layers do.  Integer kernels
 * stay in the body: their register tiles (SMLAD on Cortex-M) need the
 * core registers that a pointer parameter per buffer would take (an
 * address of a global or an arena offset is rematerialised instead), and
 * their per-layer requantization constants leave little to merge.  So
 * does the dequantize after them: moved out, it cost the integer layers
 * 0.6% (VWW) to 1.8% (autoencoder) of their Cortex-M4 instructions
 * (bench/icount_m4.sh), through the body's code generation. */
static bool own_function(const ir_node *n)
{
	return n->op != IR_OP_DEQUANTIZE && n->nout >= 1 && n->out[0] && n->out[0]->dt == IR_DT_F32 &&
	       n->nin + n->nout <= BE_LAYER_SLOTS / 2;
}

/* Lower node n with fn into its layer function and call that from the
 * body where the builder stands.  -1 when lowering failed. */
static int layer_fn(be_fn *f, ir_node *n, int (*lower)(be_fn *, const ir_node *))
{
	LLVMTypeRef pt[BE_LAYER_SLOTS];
	for (int k = 0; k < BE_LAYER_SLOTS; k++)
		pt[k] = f->ptr;
	LLVMTypeRef ty = LLVMFunctionType(f->vd, pt, BE_LAYER_SLOTS, 0);
	char lname[300];
	snprintf(lname, sizeof lname, "%s.L%d", f->name, n->id);
	LLVMValueRef lf = LLVMAddFunction(f->mod, lname, ty);
	LLVMSetLinkage(lf, LLVMInternalLinkage);
	code_attrs(f, lf);
	LLVMAddAttributeAtIndex(lf, LLVMAttributeFunctionIndex, be_attr(f->ctx, "noinline"));
	be_layer L = {.fn = lf};
	LLVMBasicBlockRef at = LLVMGetInsertBlock(f->b);
	LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(f->ctx, lf, "entry");
	LLVMBasicBlockRef start = LLVMAppendBasicBlockInContext(f->ctx, lf, "start");
	site_set(f, (be_site){&L, lf, NULL, NULL, NULL, entry});
	LLVMPositionBuilderAtEnd(f->b, entry);
	LLVMBuildBr(f->b, start);
	LLVMPositionBuilderAtEnd(f->b, start);
	f->lcall = false;
	int rc = lower(f, n);
	if (rc == 0)
		LLVMBuildRetVoid(f->b);
	site_set(f, f->body);
	LLVMPositionBuilderAtEnd(f->b, at);
	if (rc || L.full)
		return -1;
	LLVMValueRef args[BE_LAYER_SLOTS];
	for (int k = 0; k < BE_LAYER_SLOTS; k++)
		args[k] = k < L.n ? L.s[k].arg : LLVMConstPointerNull(f->ptr);
	for (int k = 0; k < L.n; k++) {
		bool alone = true;
		for (int j = 0; j < L.n && alone; j++)
			alone = j == k || L.s[k].kind != MP_ARENA || L.s[j].kind != MP_ARENA ||
			        L.s[k].hi <= L.s[j].lo || L.s[j].hi <= L.s[k].lo;
		if (alone)
			LLVMAddAttributeAtIndex(lf, (unsigned)k + 1, be_attr(f->ctx, "noalias"));
		LLVMAddAttributeAtIndex(lf, (unsigned)k + 1, be_attr(f->ctx, "nocapture"));
	}
	if (f->lcall) { /* a call: inlined, the body makes it */
		LLVMRemoveEnumAttributeAtIndex(lf, LLVMAttributeFunctionIndex, LLVMGetEnumAttributeKindForName("noinline", 8));
		LLVMAddAttributeAtIndex(lf, LLVMAttributeFunctionIndex, be_attr(f->ctx, "alwaysinline"));
	}
	LLVMBuildCall2(f->b, ty, lf, args, BE_LAYER_SLOTS, "");
	return 0;
}

void be_ints_attr(const ir_node *n, const char *name, int nsp, int64_t *v)
{
	int cnt = 0;
	const int64_t *a = ir_attr_ints(n, name, &cnt);
	for (int i = 0; i < nsp; i++)
		v[i] = a && cnt == nsp ? a[i] : 1;
}

bool be_const_scalar(const ir_node *n, int k, float dflt, float *out)
{
	*out = dflt;
	if (k >= n->nin || !n->in[k])
		return true;
	const ir_value *v = n->in[k];
	if (v->kind != IR_VAL_CONST || !v->data || ir_shape_numel(&v->shape) != 1)
		return false;
	*out = (float)ir_const_get(v, 0);
	return true;
}

bool be_same_storage(be_fn *f, const ir_value *v, const ir_value *w)
{
	const pass_mp_value *a = &f->plan->v[v->id], *b = &f->plan->v[w->id];
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case MP_INPUT:
	case MP_OUTPUT: return a->index == b->index;
	case MP_ARENA: return a->offset == b->offset;
	case MP_CONST: return v == w;
	default: return false;
	}
}

/* ---------------------------------------------------------- the table */

typedef int (*be_lower_fn)(be_fn *f, const ir_node *n);

static be_lower_fn lower_table(ir_op op)
{
	if (ir_op_table[op].mem == IR_MEM_VIEW)
		return be_l_view;
	if (ir_op_is_unary(op))
		return be_l_unary;
	if (ir_op_is_reduce(op))
		return be_l_reduce;
	switch (op) {
	case IR_OP_CONV: return be_l_conv;
	case IR_OP_BATCHNORM: return be_l_batchnorm;
	case IR_OP_CLIP: return be_l_unary;
	case IR_OP_PRELU: return be_l_prelu;
	case IR_OP_MAX_POOL:
	case IR_OP_AVG_POOL: return be_l_pool;
	case IR_OP_GLOBAL_AVG_POOL:
	case IR_OP_GLOBAL_MAX_POOL: return be_l_global_pool;
	case IR_OP_GEMM: return be_l_gemm;
	case IR_OP_MATMUL: return be_l_matmul;
	case IR_OP_ADD:
	case IR_OP_SUB:
	case IR_OP_MUL:
	case IR_OP_DIV:
	case IR_OP_POW:
	case IR_OP_MAX:
	case IR_OP_MIN:
	case IR_OP_MOD: return be_l_binary;
	case IR_OP_CONCAT: return be_l_concat;
	case IR_OP_TRANSPOSE: return be_l_transpose;
	case IR_OP_SOFTMAX:
	case IR_OP_LOG_SOFTMAX: return be_l_softmax;
	case IR_OP_LAYER_NORM:
	case IR_OP_INSTANCE_NORM: return be_l_norm;
	case IR_OP_ARG_MAX:
	case IR_OP_ARG_MIN: return be_l_arg;
	case IR_OP_CUMSUM: return be_l_cumsum;
	case IR_OP_TOPK: return be_l_topk;
	case IR_OP_GATHER_ELEMENTS: return be_l_gather_elements;
	case IR_OP_SCATTER_ELEMENTS: return be_l_scatter_elements;
	case IR_OP_GATHER_ND: return be_l_gather_nd;
	case IR_OP_SCATTER_ND: return be_l_scatter_nd;
	case IR_OP_TRILU: return be_l_trilu;
	case IR_OP_ONE_HOT: return be_l_one_hot;
	case IR_OP_EXPAND:
	case IR_OP_TILE:
	case IR_OP_DEPTH_TO_SPACE:
	case IR_OP_SPACE_TO_DEPTH: return be_l_copy_map;
	case IR_OP_PAD: return be_l_pad;
	case IR_OP_SLICE: return be_l_slice;
	case IR_OP_GATHER: return be_l_gather;
	case IR_OP_SPLIT: return be_l_split;
	default: return NULL;
	}
}

/* Inputs that must be compile-time constants (shape-like operands). */
static bool is_static_operand(const ir_node *n, int k)
{
	if (ir_op_is_reduce(n->op))
		return k == 1;
	switch (n->op) {
	case IR_OP_RESHAPE:
	case IR_OP_UNSQUEEZE:
	case IR_OP_SQUEEZE:
	case IR_OP_EXPAND:
	case IR_OP_TILE:
	case IR_OP_CUMSUM: return k == 1;
	case IR_OP_SLICE: return k >= 1;
	case IR_OP_PAD: return k == 1 || k == 3;
	case IR_OP_SPLIT: return k == 1;
	case IR_OP_TOPK: return k == 1;
	case IR_OP_TRILU: return k == 1;
	case IR_OP_ONE_HOT: return k == 1;
	case IR_OP_DROPOUT: return k >= 1;
	default: return false;
	}
}

/* Ops that only move elements (l_shape.c, typed copies): any dtype. */
static bool moves_only(ir_op op)
{
	return op == IR_OP_TRANSPOSE || op == IR_OP_CONCAT || op == IR_OP_SPLIT || op == IR_OP_SLICE ||
	       op == IR_OP_EXPAND || op == IR_OP_TILE || op == IR_OP_DEPTH_TO_SPACE || op == IR_OP_SPACE_TO_DEPTH ||
	       op == IR_OP_GATHER || op == IR_OP_GATHER_ELEMENTS || op == IR_OP_SCATTER_ELEMENTS || op == IR_OP_TRILU ||
	       op == IR_OP_GATHER_ND || op == IR_OP_SCATTER_ND;
}

/* The op table's lowerings take f32 data; the element movers any dtype. */
static bool table_dtype_ok(const ir_node *n, int k, ir_dtype dt)
{
	if (n->op == IR_OP_POW && k == 1 && (dt == IR_DT_I32 || dt == IR_DT_I64) && n->in[0]->dt == IR_DT_F32)
		return true; /* an integer exponent of a float */
	if ((n->op == IR_OP_ARG_MAX || n->op == IR_OP_ARG_MIN || n->op == IR_OP_TOPK) && dt == IR_DT_I64 &&
	    n->in[0]->dt == IR_DT_F32)
		return true; /* the indices out */
	if (n->op == IR_OP_ONE_HOT)
		return k == 0 ? dt == IR_DT_I64 || dt == IR_DT_I32 || dt == IR_DT_F32 : dt == n->in[2]->dt;
	if ((n->op == IR_OP_REDUCE_SUM || n->op == IR_OP_REDUCE_MAX || n->op == IR_OP_REDUCE_MIN ||
	     n->op == IR_OP_REDUCE_PROD) && k == 0 && (dt == IR_DT_I64 || dt == IR_DT_I32))
		return true; /* integer sums, maxima, minima and products (l_reduce.c reduce_int) */
	if (n->op == IR_OP_CUMSUM && k == 0 && (dt == IR_DT_I64 || dt == IR_DT_I32))
		return true; /* running sums in the element type */
	if ((n->op == IR_OP_GATHER || n->op == IR_OP_GATHER_ELEMENTS || n->op == IR_OP_SCATTER_ELEMENTS ||
	     n->op == IR_OP_GATHER_ND || n->op == IR_OP_SCATTER_ND) && k == 1)
		return dt == IR_DT_I64 || dt == IR_DT_I32; /* the indices, constant or not */
	return dt == IR_DT_F32 || (moves_only(n->op) && dt == n->in[0]->dt);
}

bool be_inputs_ok(const ir_node *n, bool (*is_static)(const ir_node *n, int k),
                  bool (*dtype_ok)(const ir_node *n, int k, ir_dtype dt), const char *dt_note,
                  char *why, size_t wl)
{
	for (int k = 0; k < n->nin; k++) {
		const ir_value *v = n->in[k];
		if (!v)
			continue;
		if (is_static && is_static(n, k)) {
			if (v->kind != IR_VAL_CONST) {
				snprintf(why, wl, "input %d '%s' must be a constant", k, v->name);
				return false;
			}
			continue;
		}
		if (!ir_shape_known(&v->shape)) {
			snprintf(why, wl, "input %d '%s' has no concrete shape", k, v->name);
			return false;
		}
		if (v->kind == IR_VAL_CONST && !v->data && ir_shape_numel(&v->shape) > 0) {
			snprintf(why, wl, "constant '%s' has no data (elided)", v->name);
			return false;
		}
		if (dtype_ok && !dtype_ok(n, k, v->dt)) {
			snprintf(why, wl, "input %d '%s' has dtype %s%s", k, v->name, ir_dtype_name(v->dt),
			         dt_note);
			return false;
		}
	}
	return true;
}

bool be_llvm_supports(const ir_graph *g, const ir_node *n, char *why, size_t wl)
{
	if (be_lower_extra(g, n))
		return be_extra_supports(g, n, why, wl);
	if (n->op == IR_OP_LSTM || n->op == IR_OP_GRU || n->op == IR_OP_RNN) { /* the unroll-rnn pass left it */
		snprintf(why, wl, "compiled only with constant W, R and B and a known sequence length (the "
		         "unroll-rnn pass then rewrites it as matmuls and activations)");
		return false;
	}
	if (!lower_table(n->op)) {
		snprintf(why, wl, "op not implemented");
		return false;
	}
	if (!be_inputs_ok(n, is_static_operand, table_dtype_ok, " (only f32)", why, wl))
		return false;
	for (int k = 0; k < n->nout; k++) {
		const ir_value *v = n->out[k];
		if (!v)
			continue;
		bool side = (n->op == IR_OP_DROPOUT || n->op == IR_OP_MAX_POOL) && k == 1;
		if (side) {
			if (ir_value_use_count(g, v) > 0) {
				snprintf(why, wl, "output %d '%s' (%s) is used", k, v->name,
				         n->op == IR_OP_DROPOUT ? "mask" : "indices");
				return false;
			}
			continue;
		}
		if (!table_dtype_ok(n, k, v->dt) || !ir_shape_known(&v->shape)) {
			snprintf(why, wl, "output %d '%s' is not f32 with a concrete shape", k, v->name);
			return false;
		}
	}
	if (n->op == IR_OP_PAD && strcmp(ir_attr_str(n, "mode", "constant"), "constant") != 0) {
		snprintf(why, wl, "pad mode '%s' (only constant)", ir_attr_str(n, "mode", ""));
		return false;
	}
	if (n->op == IR_OP_CLIP)
		for (int k = 1; k < n->nin && k < 3; k++)
			if (n->in[k] && n->in[k]->kind != IR_VAL_CONST) {
				snprintf(why, wl, "clip bound %d must be a constant", k);
				return false;
			}
	return true;
}

/* ------------------------------------------------------------ profile */

/* --profile: which counter the instrumented object reads around each node.
 * SysTick's current value on Cortex-M (a 24-bit down-counter: the caller
 * starts it from the processor clock with reload 0xFFFFFF, so one tick is
 * one cycle; under QEMU -icount shift=0, 40 instructions), rdtsc on
 * x86-64, CNTVCT_EL0 (readable from user mode) on AArch64. */
typedef enum { PROF_NONE, PROF_SYSTICK, PROF_TSC, PROF_CNTVCT } prof_kind;

static prof_kind prof_counter(const be_fn *f, const be_target *t)
{
	if (!t || !t->profile)
		return PROF_NONE;
	if (f->mcu)
		return PROF_SYSTICK;
	if (strncmp(t->triple, "x86_64", 6) == 0)
		return PROF_TSC;
	if (strncmp(t->triple, "aarch64", 7) == 0)
		return PROF_CNTVCT;
	return PROF_NONE;
}

/* AArch64: `movz xzr, #node` before node's first counter read, a NOP
 * that names the node to an instruction-count plugin (tools/qemu_icount.c
 * under qemu-aarch64, where CNTVCT is the host's clock). */
static void prof_node_mark(be_fn *f, int node)
{
	char text[32];
	snprintf(text, sizeof text, "movz xzr, #%d", node);
	LLVMTypeRef fty = LLVMFunctionType(f->vd, NULL, 0, 0);
	LLVMValueRef ia = LLVMGetInlineAsm(fty, text, strlen(text), "~{memory}", 9, 1, 0, LLVMInlineAsmDialectATT, 0);
	LLVMBuildCall2(f->b, fty, ia, NULL, 0, "");
}

/* Keeps the node's memory operations between the two counter reads. */
static void prof_barrier(be_fn *f)
{
	LLVMTypeRef fty = LLVMFunctionType(f->vd, NULL, 0, 0);
	LLVMValueRef ia = LLVMGetInlineAsm(fty, "", 0, "~{memory}", 9, 1, 0, LLVMInlineAsmDialectATT, 0);
	LLVMBuildCall2(f->b, fty, ia, NULL, 0, "");
}

static LLVMValueRef prof_read(be_fn *f, prof_kind k)
{
	prof_barrier(f);
	LLVMValueRef v;
	if (k == PROF_SYSTICK) {
		LLVMValueRef cvr = LLVMConstIntToPtr(LLVMConstInt(f->i32, 0xE000E018u, 0), f->ptr);
		v = LLVMBuildLoad2(f->b, f->i32, cvr, "systick");
		LLVMSetVolatile(v, 1);
		v = LLVMBuildZExt(f->b, v, f->i64, "");
	} else if (k == PROF_TSC) {
		v = be_intr(f, "llvm.readcyclecounter", NULL, 0, NULL, 0);
	} else {
		LLVMTypeRef fty = LLVMFunctionType(f->i64, NULL, 0, 0);
		LLVMValueRef ia = LLVMGetInlineAsm(fty, "mrs $0, cntvct_el0", 18, "=r", 2, 1, 0,
		                                   LLVMInlineAsmDialectATT, 0);
		v = LLVMBuildCall2(f->b, fty, ia, NULL, 0, "cntvct");
	}
	prof_barrier(f);
	return v;
}

/* counts[node] += ticks from t0 to now. */
static void prof_add(be_fn *f, prof_kind k, LLVMValueRef counts, int node, LLVMValueRef t0)
{
	LLVMValueRef t1 = prof_read(f, k);
	LLVMValueRef dt = k == PROF_SYSTICK
	                      ? LLVMBuildAnd(f->b, LLVMBuildSub(f->b, t0, t1, ""),
	                                     LLVMConstInt(f->i64, 0xFFFFFFu, 0), "")
	                      : LLVMBuildSub(f->b, t1, t0, "");
	LLVMValueRef idx[2] = {LLVMConstInt(f->i32, 0, 0), LLVMConstInt(f->i32, (unsigned)node, 0)};
	LLVMTypeRef aty = LLVMGlobalGetValueType(counts);
	LLVMValueRef slot = LLVMBuildInBoundsGEP2(f->b, aty, counts, idx, 2, "");
	LLVMValueRef old = LLVMBuildLoad2(f->b, f->i64, slot, "");
	LLVMBuildStore(f->b, LLVMBuildAdd(f->b, old, dt, ""), slot);
}

/* ------------------------------------------------------------- module */

LLVMAttributeRef be_attr(LLVMContextRef c, const char *name)
{
	return LLVMCreateEnumAttribute(c, LLVMGetEnumAttributeKindForName(name, strlen(name)), 0);
}

int be_llvm_build(LLVMContextRef ctx, LLVMModuleRef mod, LLVMTargetDataRef td, const be_target *t,
                  ir_graph *g, const pass_mem_plan *plan, const char *name, int64_t *asm_stack, diag_sink *d)
{
	be_fn F, *f = &F;
	memset(f, 0, sizeof *f);
	f->ctx = ctx;
	f->mod = mod;
	f->g = g;
	f->plan = plan;
	f->name = name;
	f->d = d;
	be_vector_shape(t, &f->vl, &f->nreg);
	f->code = t ? t->code : BE_CODE_SPEED;
	f->mcu = t && (strncmp(t->triple, "thumbv6m", 8) == 0 || strncmp(t->triple, "thumbv7m", 8) == 0 ||
	               strncmp(t->triple, "thumbv7em", 9) == 0 || strncmp(t->triple, "thumbv8m", 8) == 0);
	f->dsp = t && ((strncmp(t->triple, "thumbv7em", 9) == 0 && !strstr(t->features, "-dsp")) ||
	               strstr(t->features, "+dsp"));
	f->vcvtr = f->dsp && f->nreg == 32 &&
	           (strncmp(t->triple, "thumbv7em", 9) == 0 || strncmp(t->triple, "thumbv8m.main", 13) == 0 ||
	            strncmp(t->triple, "thumbv8.1m.main", 15) == 0);
	f->isimd = be_int_simd(t);
	f->vnni = f->isimd == BE_ISIMD_AVX2 ? be_int_vnni(t) : 0;
	f->f32 = LLVMFloatTypeInContext(ctx);
	f->i1 = LLVMInt1TypeInContext(ctx);
	f->i8 = LLVMInt8TypeInContext(ctx);
	f->i32 = LLVMInt32TypeInContext(ctx);
	f->i64 = LLVMInt64TypeInContext(ctx);
	f->ity = LLVMIntPtrTypeInContext(ctx, td);
	f->ptr = LLVMPointerTypeInContext(ctx, 0);
	f->vd = LLVMVoidTypeInContext(ctx);
	int nin = g->ninputs, nout = g->noutputs, np = nin + nout + 1;
	f->vptr = calloc((size_t)g->nvalues + 1, sizeof *f->vptr);
	f->qw = be_qw_alloc(g->nvalues);
	f->cst = calloc((size_t)g->nvalues + 1, sizeof *f->cst);
	LLVMTypeRef *pt = calloc((size_t)np, sizeof *pt);
	LLVMValueRef *args = calloc((size_t)np, sizeof *args);
	if (!f->vptr || !f->qw || !f->cst || !pt || !args) {
		diag_error(d, NULL, "out of memory");
		free(f->vptr);
		free(f->qw);
		free(f->cst);
		free(pt);
		free(args);
		return -1;
	}
	for (int i = 0; i < g->nvalues; i++) {
		int e0 = 0;
		f->cst[i].dt = (signed char)pass_bias_dtype(g, g->values[i], &e0);
		f->cst[i].e0 = (short)e0;
	}
	int rc = -1;
	f->b = LLVMCreateBuilderInContext(ctx);

	/* The body: one noalias pointer per input, per output, and the arena. */
	for (int i = 0; i < np; i++)
		pt[i] = f->ptr;
	char bname[256];
	snprintf(bname, sizeof bname, "%s.body", name);
	LLVMTypeRef bty = LLVMFunctionType(f->vd, pt, (unsigned)np, 0);
	f->fn = LLVMAddFunction(mod, bname, bty);
	LLVMSetLinkage(f->fn, LLVMInternalLinkage);
	code_attrs(f, f->fn);
	for (int i = 0; i < np; i++) {
		LLVMAddAttributeAtIndex(f->fn, (unsigned)i + 1, be_attr(ctx, "noalias"));
		LLVMAddAttributeAtIndex(f->fn, (unsigned)i + 1, be_attr(ctx, "nocapture"));
		if (i < nin)
			LLVMAddAttributeAtIndex(f->fn, (unsigned)i + 1, be_attr(ctx, "readonly"));
	}
	f->inp = calloc((size_t)nin + 1, sizeof *f->inp);
	f->outp = calloc((size_t)nout + 1, sizeof *f->outp);
	for (int i = 0; i < nin; i++)
		f->inp[i] = LLVMGetParam(f->fn, (unsigned)i);
	for (int i = 0; i < nout; i++)
		f->outp[i] = LLVMGetParam(f->fn, (unsigned)(nin + i));
	f->arena = LLVMGetParam(f->fn, (unsigned)(nin + nout));
	f->entry = LLVMAppendBasicBlockInContext(ctx, f->fn, "entry");
	f->body = site_get(f);
	LLVMBasicBlockRef start = LLVMAppendBasicBlockInContext(ctx, f->fn, "start");
	LLVMPositionBuilderAtEnd(f->b, f->entry);
	LLVMBuildBr(f->b, start);
	LLVMPositionBuilderAtEnd(f->b, start);

	f->fused = calloc((size_t)g->nnodes + 1, sizeof *f->fused);
	if (!f->fused) {
		diag_error(d, NULL, "out of memory");
		goto out;
	}
	prof_kind prof = prof_counter(f, t);
	LLVMValueRef counts = NULL;
	if (t && t->profile && prof == PROF_NONE) {
		diag_error(d, NULL, "--profile: no cycle counter known for target '%s'", t->triple);
		goto out;
	}
	if (prof != PROF_NONE) {
		char pname[256];
		snprintf(pname, sizeof pname, "%s_profile", name);
		LLVMTypeRef aty = LLVMArrayType(f->i64, (unsigned)(g->nnodes ? g->nnodes : 1));
		counts = LLVMAddGlobal(mod, aty, pname);
		LLVMSetInitializer(counts, LLVMConstNull(aty));
		LLVMSetAlignment(counts, 8);
	}
	f->npos = calloc((size_t)g->nnodes + 1, sizeof *f->npos);
	if (!f->npos) {
		diag_error(d, NULL, "out of memory");
		goto out;
	}
	for (int i = 0; i < g->nnodes; i++)
		f->npos[i] = -1;
	for (int i = 0, np_ = 0; i < g->nnodes; i++) /* by node id, numbered as memplan does */
		if (!g->nodes[i]->dead) {
			if (g->nodes[i]->id >= 0 && g->nodes[i]->id < g->nnodes)
				f->npos[g->nodes[i]->id] = np_;
			np_++;
		}
	if (be_conv_layout(f))
		goto out;
	for (int i = 0; i < g->nnodes; i++) {
		ir_node *n = g->nodes[i];
		f->pos = -1;
		f->nscr = 0;
		if (n->dead || (n->id >= 0 && n->id < g->nnodes && f->fused[n->id]))
			continue;
		f->pos = n->id >= 0 && n->id < g->nnodes ? f->npos[n->id] : -1;
		bool any = false;
		for (int k = 0; k < n->nout; k++)
			if (n->out[k] && plan->v[n->out[k]->id].kind != MP_NONE &&
			    ir_shape_numel(&n->out[k]->shape) > 0)
				any = true;
		if (!any)
			continue;
		be_lower_fn fn = be_lower_extra(g, n);
		if (!fn)
			fn = lower_table(n->op);
		if (!fn) {
			diag_error(d, ir_node_loc(g, n), "backend: op %s is not supported by the native backend",
			           ir_op_name(n->op));
			goto out;
		}
		if (counts && prof == PROF_CNTVCT && i <= 0xFFFF)
			prof_node_mark(f, i);
		LLVMValueRef t0 = counts ? prof_read(f, prof) : NULL;
		int nerr = d ? d->nerr : 0;
		if ((own_function(n) ? layer_fn(f, n, fn) : fn(f, n)) || (d && d->nerr > nerr))
			goto out;
		if (counts)
			prof_add(f, prof, counts, i, t0);
	}
	f->pos = -1;
	be_l_compact_end(f);
	be_l_compact_int_end(f);
	/* Outputs not computed straight into their buffer: copy them there. */
	for (int k = 0; k < nout; k++) {
		ir_value *v = g->outputs[k];
		const pass_mp_value *m = &plan->v[v->id];
		if (m->kind == MP_OUTPUT && m->index == k)
			continue;
		LLVMValueRef src = be_ptr(f, v);
		int64_t cnt = ir_shape_numel(&v->shape);
		if (src && cnt > 0)
			be_copy_bytes(f, f->outp[k], src, cnt * (int64_t)ir_dtype_size(v->dt));
	}
	LLVMBuildRetVoid(f->b);

	/* The entry point: int NAME_run(const float *const in[], float *const out[], void *arena). */
	LLVMTypeRef rpt[3] = {f->ptr, f->ptr, f->ptr};
	LLVMTypeRef rty = LLVMFunctionType(f->i32, rpt, 3, 0);
	char rname[256];
	snprintf(rname, sizeof rname, "%s_run", name);
	LLVMValueRef run = LLVMAddFunction(mod, rname, rty);
	LLVMAddAttributeAtIndex(run, LLVMAttributeFunctionIndex, be_attr(ctx, "nounwind"));
	LLVMBasicBlockRef rb = LLVMAppendBasicBlockInContext(ctx, run, "entry");
	LLVMPositionBuilderAtEnd(f->b, rb);
	for (int i = 0; i < nin + nout; i++) {
		LLVMValueRef base = LLVMGetParam(run, i < nin ? 0 : 1);
		LLVMValueRef idx = LLVMConstInt(f->ity, (unsigned long long)(i < nin ? i : i - nin), 0);
		LLVMValueRef slot = LLVMBuildInBoundsGEP2(f->b, f->ptr, base, &idx, 1, "");
		args[i] = LLVMBuildLoad2(f->b, f->ptr, slot, "");
	}
	args[nin + nout] = LLVMGetParam(run, 2);
	LLVMBuildCall2(f->b, bty, f->fn, args, (unsigned)np, "");
	LLVMBuildRet(f->b, LLVMConstInt(f->i32, 0, 0));
	if (asm_stack)
		*asm_stack = f->asm_stack;
	rc = 0;
out:
	LLVMDisposeBuilder(f->b);
	free(f->oconst);
	free(f->fused);
	free(f->cl);
	f->cl = NULL;
	free(f->npos);
	f->npos = NULL;
	free(f->vptr);
	free(f->qw);
	free(f->cst);
	free(f->inp);
	free(f->outp);
	free(pt);
	free(args);
	return rc;
}
