/* l_int_x86.c: integer convs on x86 with AVX512-VNNI, 16 outputs a
 * vector (cores with AVX-VNNI only keep l_int_dsp.c's tiles), and the
 * depthwise ones on AVX-512.  VPDPBUSD multiplies 4 unsigned bytes by 4
 * signed ones and adds the 4 products to an i32 lane, wrapping.
 *
 * Groupless convs.  Once per image the input is repacked on the stack
 * into a bordered buffer of channel quads: slot (q, r, col) holds the 4
 * bytes x[4q..4q+3, r - pb0, col - pb1] as u8 (i8 data flipped by 0x80,
 * which adds 128 to x and to its zero point alike), the border x's zero
 * point, so that the zero point folds into the bias: sum (x - zx) W' =
 * sum x W' - zx sum W'.  Channels past C read channel C - 1 against zero
 * weights.  With a column stride s > 1 a row keeps its columns in s
 * phases (col mod s), each phase's slots adjacent, so that for every tap
 * the 16 outputs of a vector read 16 adjacent slots.  A pointwise conv
 * (1x1, stride 1, no pads) is one row of H * W pixels.  Then per output
 * row, vector of 16 outputs and group of up to 8 output channels, a loop
 * over the channel quads whose trip runs each tap's slot vector through
 * VPDPBUSD against each channel's 4 weights, broadcast from memory.
 * Variants, each where it runs fewer instructions:
 *   - rows of 8 or fewer: two output rows a vector (8 lanes each);
 *   - one or two input channels (the quads would be mostly zeros): tap
 *     mode, per channel a bordered byte plane and lanes of 4 taps of a
 *     kernel row, gathered from one 64-byte load by a shuffle (VPERMB);
 *   - one quad (or channel): the loop runs over the taps (kernel rows);
 *   - pointwise convs whose pixels fill the vectors poorly: channel mode
 *     (cm_*), 16 output channels a vector.
 * The sums wrap in i32 as the interpreter's do (ir/k_conv.c); each
 * channel's vector is requantized by the one rule (be_int_out_v) and
 * stored as 16 adjacent outputs: the last vector of a row overlaps the
 * one before it, or, in a row narrower than 16, stores its valid lanes.
 *
 * Depthwise convs (be_x86_depthwise) take the tap-mode planes and gathers
 * a channel at a time.  Every kernel is the interpreter's byte for byte
 * (tests/backend/int_check.sh, x86_edges). */
#include <stdlib.h>
#include <string.h>

#include "l_int.h"

enum {
	XC_MT = 8,                /* output channels a group */
	XC_BUF_MAX = 512 * 1024   /* the repacked input's bytes, at most */
};

typedef struct xconv {
	int64_t N, C, C4, M, KK, in[2], k[2], s[2], d[2], pb[2], out[2];
	int64_t PH, PWs, RW;      /* buffer rows, slots a phase of a row, slots a row */
	int L;                    /* outputs a vector */
	int rows;                 /* output rows a vector: 2 (8 lanes each) for rows of <= 8 */
	bool taps;                /* tap mode: per channel a byte plane, 4 taps a lane (below) */
	int64_t tblk;             /* tap mode on rows narrower than 16: tblk whole rows a vector, or 0 */
	int64_t ng, ntrip, nx;    /* tap groups a kernel row; loop trips (quads or channels), x vectors a trip */
	int64_t pstride;          /* tap mode: bytes a channel's plane */
	bool cmode;               /* channel mode (cm_*): the buffer holds x - 128 as i8 */
	bool u8;                  /* x is u8 (else i8, flipped) */
	int32_t zx;               /* x's zero point as x's dtype holds it */
} xconv;

static LLVMValueRef c32(be_fn *f, int64_t v)
{
	return LLVMConstInt(f->i32, (unsigned long long)v, 1);
}

/* The shuffle mask (lo, lo + step, ...), n lanes (n <= 128). */
static LLVMValueRef lanes(be_fn *f, int lo, int step, int n)
{
	LLVMValueRef idx[128];
	for (int i = 0; i < n; i++)
		idx[i] = c32(f, lo + i * step);
	return LLVMConstVector(idx, (unsigned)n);
}

/* The buffer's extents (false when it would exceed XC_BUF_MAX): rows
 * cover every tap and the input; a phase's slots every store of the
 * packing (whole chunks of L slots) and every vector read. */
static bool xc_geom(xconv *g)
{
	int64_t S = g->s[1], L = g->L;
	int64_t ph = (g->out[0] - 1) * g->s[0] + (g->k[0] - 1) * g->d[0] + 1;
	int64_t pw = (g->out[1] - 1) * S + (g->k[1] - 1) * g->d[1] + 1;
	g->PH = ph > g->pb[0] + g->in[0] ? ph : g->pb[0] + g->in[0];
	pw = pw > g->pb[1] + g->in[1] ? pw : g->pb[1] + g->in[1];
	int64_t slots = (pw + S - 1) / S;
	int64_t nch = (g->in[1] + S * L - 1) / (S * L);
	int64_t st_end = (nch - 1) * L + (g->pb[1] + S - 1) / S + L;
	int64_t rd_end = (g->out[1] > L ? g->out[1] - L : 0) + (g->k[1] - 1) * g->d[1] / S + L;
	slots = slots > st_end ? slots : st_end;
	g->PWs = slots > rd_end ? slots : rd_end;
	g->RW = S * g->PWs;
	return g->C4 * g->PH * g->RW * 4 <= XC_BUF_MAX;
}

/* The four <L x i8> e[] interleaved: lane 4i + q is e[q][i]. */
static LLVMValueRef interleave4(be_fn *f, LLVMValueRef *e, int L)
{
	LLVMBuilderRef b = f->b;
	LLVMValueRef lo = LLVMBuildShuffleVector(b, e[0], e[1], lanes(f, 0, 1, 2 * L), "");
	LLVMValueRef hi = LLVMBuildShuffleVector(b, e[2], e[3], lanes(f, 0, 1, 2 * L), "");
	LLVMValueRef idx[64];
	for (int i = 0; i < L; i++)
		for (int q = 0; q < 4; q++)
			idx[4 * i + q] = c32(f, q * L + i);
	return LLVMBuildShuffleVector(b, lo, hi, LLVMConstVector(idx, (unsigned)(4 * L)), "");
}

/* Image nb of x into buf: x's zero point everywhere, then per channel
 * quad and input row, chunks of s L input pixels (the row's last one a
 * masked load whose missing lanes read the zero point), de-interleaved
 * into the s phases and interleaved into quads of channels. */
static void xc_pack(be_fn *f, const xconv *g, LLVMValueRef x, LLVMValueRef nb, LLVMValueRef buf)
{
	LLVMBuilderRef b = f->b;
	int L = g->L, S = (int)g->s[1], CW = S * L;
	int32_t zxu = (g->u8 ? g->zx : g->zx + 128) ^ (g->cmode ? 0x80 : 0);
	LLVMValueRef zb = LLVMConstInt(f->i8, (unsigned long long)(g->zx & 0xff), 0);
	LLVMBuildMemSet(b, buf, LLVMConstInt(f->i8, (unsigned long long)zxu, 0),
	                LLVMConstInt(f->i64, (unsigned long long)(g->C4 * g->PH * g->RW * 4), 0), 64);
	LLVMTypeRef vin = LLVMVectorType(f->i8, (unsigned)CW);
	int64_t plane = g->in[0] * g->in[1], nfull = g->in[1] / CW, tail = g->in[1] % CW;
	be_loop lq, lr;
	LLVMValueRef q = be_loop_begin(f, &lq, g->C4);
	LLVMValueRef ih = be_loop_begin(f, &lr, g->in[0]);
	LLVMValueRef src[4];
	for (int e = 0; e < 4; e++) {
		LLVMValueRef ch = be_add(f, be_mul(f, q, 4), be_ci(f, e));
		if (g->C % 4)
			ch = LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntUGT, ch, be_ci(f, g->C - 1), ""), be_ci(f, g->C - 1),
			                     ch, "");
		src[e] = be_add(f, be_mul(f, be_add(f, be_mul(f, nb, g->C), ch), plane), be_mul(f, ih, g->in[1]));
	}
	LLVMValueRef row = be_mul(f, be_add(f, be_add(f, be_mul(f, q, g->PH), ih), be_ci(f, g->pb[0])), g->RW);
	for (int part = 0; part < 2; part++) {
		int64_t cnt = part == 0 ? nfull : (tail > 0);
		if (cnt == 0)
			continue;
		be_loop lk;
		LLVMValueRef kk = part == 0 ? be_loop_begin(f, &lk, cnt) : be_ci(f, nfull);
		LLVMValueRef iw0 = be_mul(f, kk, CW), r[4];
		for (int e = 0; e < 4; e++) {
			LLVMValueRef at = be_add(f, src[e], iw0);
			LLVMValueRef p = LLVMBuildInBoundsGEP2(b, f->i8, x, &at, 1, "");
			if (part == 0) {
				r[e] = LLVMBuildLoad2(b, vin, p, "");
				LLVMSetAlignment(r[e], 1);
			} else {
				r[e] = be_load_first(f, vin, p, 1, tail, be_splat(f, vin, zb));
			}
			if (g->u8 == g->cmode)
				r[e] = LLVMBuildXor(b, r[e], be_splat(f, vin, LLVMConstInt(f->i8, 0x80, 0)), "");
		}
		/* the four rows as two halves (rows 0-1, 2-3) of 2 CW bytes; each
		 * phase's 64 bytes one shuffle of them (VPERMB / VPERMT2B for
		 * strides 1 and 2) */
		LLVMValueRef h[2] = {NULL, NULL};
		for (int k = 0; k < 2 && S <= 2; k++)
			h[k] = LLVMBuildShuffleVector(b, r[2 * k], r[2 * k + 1], lanes(f, 0, 1, 2 * CW), "");
		for (int j = 0; j < S; j++) {
			LLVMValueRef v;
			if (S <= 2) {
				LLVMValueRef idx[64];
				for (int i = 0; i < L; i++)
					for (int t = 0; t < 4; t++)
						idx[4 * i + t] = c32(f, t * CW + S * i + j);
				v = LLVMBuildShuffleVector(b, h[0], h[1], LLVMConstVector(idx, 4 * L), "");
			} else {
				LLVMValueRef e[4];
				for (int t = 0; t < 4; t++)
					e[t] = LLVMBuildShuffleVector(b, r[t], LLVMGetPoison(vin), lanes(f, j, S, L), "");
				v = interleave4(f, e, L);
			}
			int64_t phase = (g->pb[1] + j) % S, off = (g->pb[1] + j) / S;
			LLVMValueRef slot = be_add(f, be_add(f, row, be_mul(f, kk, L)), be_ci(f, phase * g->PWs + off));
			LLVMValueRef at = be_mul(f, slot, 4);
			LLVMSetAlignment(LLVMBuildStore(b, v, LLVMBuildInBoundsGEP2(b, f->i8, buf, &at, 1, "")), 1);
		}
		if (part == 0)
			be_loop_end(f, &lk);
	}
	be_loop_end(f, &lr);
	be_loop_end(f, &lq);
}

/* bytes (a multiple of 64) of buf set to v by 64-byte stores: a call of
 * memset costs more than the small planes' fill. */
static void fill64(be_fn *f, LLVMValueRef buf, int64_t bytes, int32_t v)
{
	LLVMBuilderRef b = f->b;
	LLVMTypeRef v64 = LLVMVectorType(f->i8, 64);
	LLVMValueRef val = be_splat(f, v64, LLVMConstInt(f->i8, (unsigned long long)(v & 0xff), 0));
	int64_t n = bytes / 64;
	if (n <= 8) {
		for (int64_t i = 0; i < n; i++) {
			LLVMValueRef at = be_ci(f, 64 * i);
			LLVMSetAlignment(LLVMBuildStore(b, val, LLVMBuildInBoundsGEP2(b, f->i8, buf, &at, 1, "")), 64);
		}
		return;
	}
	be_loop l;
	LLVMValueRef at = be_mul(f, be_loop_begin(f, &l, n), 64);
	LLVMSetAlignment(LLVMBuildStore(b, val, LLVMBuildInBoundsGEP2(b, f->i8, buf, &at, 1, "")), 64);
	be_loop_end(f, &l);
}

/* A byte permutation by blocks: dst[i] = src[map[i]] (flipped by 0x80
 * when flip), or fill where map[i] < 0, for i < n, as unrolled 64-byte
 * blocks: per block one or two masked loads of the window of src it
 * reads (no byte outside [0, slen) is touched), one VPERMB/VPERMT2B and
 * a blend with fill; whole 64-byte stores (n a multiple of 64) or, when
 * partial, a masked store of the first n % 64 bytes of the last block.
 * perm_ok says whether every block's window fits two loads. */
enum { PERM_BLOCKS_MAX = 64 };

static bool perm_ok(const int64_t *map, int64_t n)
{
	if (n > 64 * PERM_BLOCKS_MAX)
		return false;
	for (int64_t k = 0; k < n; k += 64) {
		int64_t lo = -1, hi = -1;
		for (int64_t i = k; i < k + 64 && i < n; i++)
			if (map[i] >= 0) {
				lo = lo < 0 || map[i] < lo ? map[i] : lo;
				hi = map[i] > hi ? map[i] : hi;
			}
		if (lo >= 0 && hi - lo >= 128)
			return false;
	}
	return true;
}

static void perm_blocks(be_fn *f, LLVMValueRef dst, LLVMValueRef src, int64_t slen, const int64_t *map, int64_t n,
                        int32_t fill, bool flip)
{
	LLVMBuilderRef b = f->b;
	LLVMTypeRef v64 = LLVMVectorType(f->i8, 64);
	LLVMValueRef fv = be_splat(f, v64, LLVMConstInt(f->i8, (unsigned long long)(fill & 0xff), 0));
	for (int64_t k = 0; k < n; k += 64) {
		int64_t lo = -1, hi = -1, nb = n - k < 64 ? n - k : 64;
		for (int64_t i = k; i < k + nb; i++)
			if (map[i] >= 0) {
				lo = lo < 0 || map[i] < lo ? map[i] : lo;
				hi = map[i] > hi ? map[i] : hi;
			}
		LLVMValueRef v = fv;
		if (lo >= 0) {
			LLVMValueRef w[2], idx[64], sel[64];
			for (int h = 0; h < 2; h++) {
				int64_t a = lo + 64 * h;
				if (a > hi) {
					w[h] = LLVMGetPoison(v64);
					continue;
				}
				int64_t cnt = a + 64 <= slen ? 64 : slen - a;
				LLVMValueRef at = be_ci(f, a);
				w[h] = be_load_first(f, v64, LLVMBuildGEP2(b, f->i8, src, &at, 1, ""), 1, cnt, NULL);
				if (flip)
					w[h] = LLVMBuildXor(b, w[h], be_splat(f, v64, LLVMConstInt(f->i8, 0x80, 0)), "");
			}
			for (int64_t i = 0; i < 64; i++) {
				bool on = i < nb && map[k + i] >= 0;
				idx[i] = c32(f, on ? map[k + i] - lo : 0);
				sel[i] = LLVMConstInt(f->i1, on, 0);
			}
			v = LLVMBuildShuffleVector(b, w[0], w[1], LLVMConstVector(idx, 64), "");
			v = LLVMBuildSelect(b, LLVMConstVector(sel, 64), v, fv, "");
		}
		LLVMValueRef at = be_ci(f, k);
		LLVMValueRef p = LLVMBuildInBoundsGEP2(b, f->i8, dst, &at, 1, "");
		if (nb == 64) {
			LLVMSetAlignment(LLVMBuildStore(b, v, p), 1);
		} else {
			be_store_first(f, v, p, 1, nb);
		}
	}
}

/* The map of a channel's bordered plane (bytes of it, slack included):
 * the input element each byte holds, or -1 (x's zero point).  NULL when
 * the blocks cannot take it (out of memory too: the row copies do). */
static int64_t *plane_map(const xconv *g, int64_t bytes)
{
	int64_t *map = malloc(sizeof *map * (size_t)bytes);
	if (!map)
		return NULL;
	for (int64_t i = 0; i < bytes; i++) {
		int64_t r = i / g->RW - g->pb[0], cc = i % g->RW - g->pb[1];
		map[i] = i < g->PH * g->RW && r >= 0 && r < g->in[0] && cc >= 0 && cc < g->in[1] ? r * g->in[1] + cc : -1;
	}
	if (!perm_ok(map, bytes)) {
		free(map);
		return NULL;
	}
	return map;
}

/* The plane of channel nc (batch * C + c) into buf, bordered as the
 * groupless conv's buffer but a byte a slot and one phase: x's zero
 * point everywhere (slack included), then each input row in chunks of
 * 16 pixels (the last one a masked load whose missing lanes read the
 * zero point, stored whole: into the border, or into the next row,
 * written after it). */
static void dw_pack(be_fn *f, const xconv *g, LLVMValueRef x, LLVMValueRef nc, LLVMValueRef buf, int64_t bytes)
{
	LLVMBuilderRef b = f->b;
	int32_t zxu = g->u8 ? g->zx : g->zx + 128;
	int64_t *map = plane_map(g, bytes);
	if (map) { /* the whole plane by permuted blocks */
		LLVMValueRef at = be_mul(f, nc, g->in[0] * g->in[1]);
		perm_blocks(f, buf, LLVMBuildInBoundsGEP2(b, f->i8, x, &at, 1, ""), g->in[0] * g->in[1], map, bytes, zxu,
		            !g->u8);
		free(map);
		return;
	}
	LLVMValueRef zb = LLVMConstInt(f->i8, (unsigned long long)(g->zx & 0xff), 0);
	fill64(f, buf, bytes, zxu);
	LLVMTypeRef vin = LLVMVectorType(f->i8, 16);
	int64_t nfull = g->in[1] / 16, tail = g->in[1] % 16;
	be_loop lr;
	LLVMValueRef ih = be_loop_begin(f, &lr, g->in[0]);
	LLVMValueRef src = be_add(f, be_mul(f, nc, g->in[0] * g->in[1]), be_mul(f, ih, g->in[1]));
	LLVMValueRef row = be_add(f, be_mul(f, be_add(f, ih, be_ci(f, g->pb[0])), g->RW), be_ci(f, g->pb[1]));
	for (int part = 0; part < 2; part++) {
		int64_t cnt = part == 0 ? nfull : (tail > 0);
		if (cnt == 0)
			continue;
		be_loop lk;
		LLVMValueRef k16 = be_mul(f, part == 0 ? be_loop_begin(f, &lk, cnt) : be_ci(f, nfull), 16);
		LLVMValueRef at = be_add(f, src, k16), r;
		LLVMValueRef p = LLVMBuildInBoundsGEP2(b, f->i8, x, &at, 1, "");
		if (part == 0) {
			r = LLVMBuildLoad2(b, vin, p, "");
			LLVMSetAlignment(r, 1);
		} else {
			r = be_load_first(f, vin, p, 1, tail, be_splat(f, vin, zb));
		}
		if (!g->u8)
			r = LLVMBuildXor(b, r, be_splat(f, vin, LLVMConstInt(f->i8, 0x80, 0)), "");
		LLVMValueRef slot = be_add(f, row, k16);
		LLVMSetAlignment(LLVMBuildStore(b, r, LLVMBuildInBoundsGEP2(b, f->i8, buf, &slot, 1, "")), 1);
		if (part == 0)
			be_loop_end(f, &lk);
	}
	be_loop_end(f, &lr);
}

/* One vector of L outputs at (oh, ow0) for the channels m0..m0+nm-1:
 * sums from bias' over the channel quads and taps, requantized, stored
 * (the first nvalid lanes by a masked store when nvalid < L).  w: the
 * group's weights, (quad, tap, channel) words. */
static void xc_vector(be_fn *f, const xconv *g, const be_iop *o, LLVMValueRef buf, LLVMValueRef wt,
                      LLVMValueRef wbase, LLVMValueRef bt, LLVMValueRef m0, int nm, LLVMValueRef oh,
                      LLVMValueRef ow0, LLVMValueRef nb, LLVMValueRef y, int64_t nvalid)
{
	LLVMBuilderRef b = f->b;
	int L = g->L;
	LLVMTypeRef vt = LLVMVectorType(f->i32, (unsigned)L);
	const char *dp = "llvm.x86.avx512.vpdpbusd.512";
	LLVMValueRef init[XC_MT], acc[XC_MT];
	for (int i = 0; i < nm; i++)
		init[i] = be_splat(f, vt, be_ld_t(f, f->i32, bt, be_add(f, m0, be_ci(f, i))));
	/* the loop over channel quads, the sums as phis */
	be_sum_loop sl;
	LLVMValueRef q = be_sum_loop_begin(f, &sl, "vnni.q", vt, nm, acc);
	/* one channel quad (or channel): the loop runs over the units (taps,
	 * or kernel rows in tap mode) instead, so that LLVM keeps no unit's
	 * weights in registers across vectors (72 of them spilled and shuffled
	 * on VWW's first conv) */
	bool units = g->ntrip == 1 && (g->taps ? g->k[0] : g->KK) > 1;
	int64_t nxu = units ? (g->taps ? g->ng : 1) : g->nx;
	LLVMValueRef wq = be_add(f, wbase, be_mul(f, q, nxu * nm)), xs[64];
	LLVMValueRef qq = units ? be_ci(f, 0) : q;
	if (g->taps) { /* per kernel row one load, a gather per 4 taps */
		LLVMTypeRef v64 = LLVMVectorType(f->i8, 64);
		LLVMValueRef pb = be_add(f, be_add(f, be_mul(f, qq, g->pstride), be_mul(f, oh, g->s[0] * g->RW)),
		                         be_mul(f, ow0, g->s[1]));
		for (int64_t kh = 0; kh < (units ? 1 : g->k[0]); kh++) {
			/* one load holds the row's taps, or a block's rows' */
			LLVMValueRef kr = units ? be_mul(f, q, g->d[0] * g->RW) : be_ci(f, kh * g->d[0] * g->RW);
			LLVMValueRef at = be_add(f, pb, kr);
			LLVMValueRef rw = LLVMBuildLoad2(b, v64, LLVMBuildInBoundsGEP2(b, f->i8, buf, &at, 1, ""), "");
			LLVMSetAlignment(rw, 1);
			for (int64_t gi = 0; gi < g->ng; gi++) {
				LLVMValueRef idx[64];
				for (int i = 0; i < 16; i++)
					for (int t = 0; t < 4; t++) {
						int64_t kw = 4 * gi + t, li = i, base = 0, ow = g->out[1];
						if (g->tblk) /* lane i: row i / OW, column i % OW of the block */
							base = i < g->tblk * ow ? i / ow * g->s[0] * g->RW : 0, li = i % ow;
						idx[4 * i + t] = c32(f, kw < g->k[1] ? base + g->s[1] * li + kw * g->d[1] : 0);
					}
				LLVMValueRef xq = LLVMBuildShuffleVector(b, rw, LLVMGetPoison(v64), LLVMConstVector(idx, 64), "");
				xs[kh * g->ng + gi] = LLVMBuildBitCast(b, xq, vt, "");
			}
		}
	} else { /* per tap the L slots of the channel quad */
		LLVMValueRef rowq = be_add(f, be_mul(f, qq, g->PH), be_mul(f, oh, g->s[0]));
		LLVMValueRef toff = NULL;
		if (units) { /* the taps' slot offsets, a table */
			int32_t off[64];
			for (int64_t t = 0; t < g->KK; t++) {
				int64_t kh = t / g->k[1], cd = t % g->k[1] * g->d[1];
				off[t] = (int32_t)(kh * g->d[0] * g->RW + cd % g->s[1] * g->PWs + cd / g->s[1]);
			}
			toff = be_table_i32(f, off, g->KK);
		}
		for (int64_t t = 0; t < (units ? 1 : g->KK); t++) {
			int64_t kh = t / g->k[1], cd = t % g->k[1] * g->d[1];
			LLVMValueRef o2 = units ? LLVMBuildSExt(b, be_ld_t(f, f->i32, toff, q), f->ity, "")
			                        : be_ci(f, kh * g->d[0] * g->RW + cd % g->s[1] * g->PWs + cd / g->s[1]);
			LLVMValueRef slot = be_add(f, be_add(f, be_mul(f, rowq, g->RW), ow0), o2);
			LLVMValueRef at = be_mul(f, slot, 4), xv;
			if (g->rows == 2) { /* 8 slots of this row and of the next output row's */
				LLVMTypeRef h8 = LLVMVectorType(f->i32, 8);
				LLVMValueRef at2 = be_add(f, at, be_ci(f, g->s[0] * g->RW * 4));
				LLVMValueRef x0 = LLVMBuildLoad2(b, h8, LLVMBuildInBoundsGEP2(b, f->i8, buf, &at, 1, ""), "");
				LLVMValueRef x1 = LLVMBuildLoad2(b, h8, LLVMBuildInBoundsGEP2(b, f->i8, buf, &at2, 1, ""), "");
				LLVMSetAlignment(x0, 4);
				LLVMSetAlignment(x1, 4);
				xv = LLVMBuildShuffleVector(b, x0, x1, lanes(f, 0, 1, 16), "");
			} else {
				xv = LLVMBuildLoad2(b, vt, LLVMBuildInBoundsGEP2(b, f->i8, buf, &at, 1, ""), "");
				LLVMSetAlignment(xv, 4);
			}
			xs[t] = xv;
		}
	}
	for (int64_t e = 0; e < nxu; e++)
		for (int i = 0; i < nm; i++) {
			LLVMValueRef w = be_ld_t(f, f->i32, wt, be_add(f, wq, be_ci(f, e * nm + i)));
			LLVMValueRef args[3] = {acc[i], xs[e], be_splat(f, vt, w)};
			acc[i] = be_intr(f, dp, NULL, 0, args, 3);
		}
	be_sum_loop_end(f, &sl, units ? g->nx / nxu : g->ntrip, init, acc);
	int64_t P = g->out[0] * g->out[1];
	for (int i = 0; i < nm; i++) {
		LLVMValueRef mi = be_add(f, m0, be_ci(f, i));
		LLVMValueRef r = be_int_out_v(f, o, acc[i], mi, 0);
		LLVMTypeRef oty = LLVMGetElementType(LLVMTypeOf(r));
		LLVMValueRef yi = be_add(f, be_add(f, be_mul(f, be_add(f, be_mul(f, nb, g->M), mi), P),
		                                   be_mul(f, oh, g->out[1])), ow0);
		LLVMValueRef p = LLVMBuildInBoundsGEP2(b, oty, y, &yi, 1, "");
		if (g->tblk) { /* the block's rows, adjacent */
			if (g->tblk * g->out[1] == L) {
				LLVMSetAlignment(LLVMBuildStore(b, r, p), 1);
			} else {
				be_store_first(f, r, p, 1, g->tblk * g->out[1]);
			}
		} else if (g->rows == 2 && nvalid < 8) { /* the two rows' first nvalid lanes */
			for (int h = 0; h < 2; h++) {
				LLVMValueRef rh = LLVMBuildShuffleVector(b, r, LLVMGetPoison(LLVMTypeOf(r)), lanes(f, 8 * h, 1, 8), "");
				LLVMValueRef yh = be_add(f, yi, be_ci(f, h * g->out[1]));
				be_store_first(f, rh, LLVMBuildInBoundsGEP2(b, oty, y, &yh, 1, ""), 1, nvalid);
			}
		} else if (nvalid >= L || g->rows == 2) { /* (two rows of 8: adjacent) */
			LLVMSetAlignment(LLVMBuildStore(b, r, p), 1);
		} else {
			be_store_first(f, r, p, 1, nvalid);
		}
	}
}

/* Every output vector of a row for every channel group. */
static void xc_row(be_fn *f, const xconv *g, const be_iop *o, LLVMValueRef buf, LLVMValueRef wt, LLVMValueRef bt,
                   LLVMValueRef oh, LLVMValueRef nb, LLVMValueRef y)
{
	int L = g->L;
	int64_t ow = g->out[1], nfull = ow / L, rest = ow % L, G = g->M / XC_MT, mt = g->M % XC_MT;
	for (int part = 0; part < 2; part++) {
		int64_t cnt = part == 0 ? nfull : (rest > 0);
		if (cnt == 0)
			continue;
		be_loop lv;
		LLVMValueRef ow0 = part == 0 ? be_mul(f, be_loop_begin(f, &lv, cnt), L) : be_ci(f, ow > L ? ow - L : 0);
		int64_t nvalid = part == 0 || ow > L ? L : ow;
		if (g->rows == 2)
			nvalid = ow;
		if (G > 0) {
			be_loop lg;
			LLVMValueRef gi = be_loop_begin(f, &lg, G);
			xc_vector(f, g, o, buf, wt, be_mul(f, gi, g->ntrip * g->nx * XC_MT), bt, be_mul(f, gi, XC_MT), XC_MT, oh,
			          ow0, nb, y, nvalid);
			be_loop_end(f, &lg);
		}
		if (mt > 0)
			xc_vector(f, g, o, buf, wt, be_ci(f, G * g->ntrip * g->nx * XC_MT), bt, be_ci(f, G * XC_MT), (int)mt, oh,
			          ow0, nb, y, nvalid);
		if (part == 0)
			be_loop_end(f, &lv);
	}
}

/* The weights as VPDPBUSD reads them: per group of XC_MT channels (the
 * last group the M % XC_MT left), per loop trip and x vector, a word per
 * channel holding the 4 W' bytes its x vector's lanes hold: channels 4q..
 * 4q+3 at tap t (quads), or taps 4gi..4gi+3 of kernel row kh of channel
 * c (tap mode); 0 past C or KW. */
static int32_t *xc_weights(const xconv *g, const int32_t *w32)
{
	int64_t n = (g->M + XC_MT - 1) / XC_MT * XC_MT * g->ntrip * g->nx;
	uint32_t *wp = calloc((size_t)n, sizeof *wp);
	if (!wp)
		return NULL;
	for (int64_t m = 0; m < g->M; m++) {
		int64_t grp = m / XC_MT, i = m % XC_MT;
		int64_t nm = grp < g->M / XC_MT ? XC_MT : g->M % XC_MT;
		for (int64_t q = 0; q < g->ntrip; q++)
			for (int64_t e = 0; e < g->nx; e++) {
				uint32_t word = 0;
				for (int t = 0; t < 4; t++) {
					int64_t c = g->taps ? q : 4 * q + t;
					int64_t kh = g->taps ? e / g->ng : 0, kw = g->taps ? 4 * (e % g->ng) + t : 0;
					int64_t tap = g->taps ? kh * g->k[1] + kw : e;
					if (c < g->C && kw < g->k[1])
						word |= (uint32_t)(uint8_t)w32[(m * g->C + c) * g->KK + tap] << (8 * t);
				}
				wp[grp * XC_MT * g->ntrip * g->nx + (q * g->nx + e) * nm + i] = word;
			}
	}
	return (int32_t *)wp;
}

/* Channel mode, for a pointwise conv whose pixels fill the vectors
 * poorly (36 of 48 lanes at 6 x 6, 9 of 16 at 3 x 3) and whose channels
 * fill them whole (M a multiple of 16): lanes are 16 output channels of
 * one pixel.  VPDPBUSD's unsigned operand is then the weights, W' + 128,
 * and its signed one the pixel's 4 channels x - 128 (the buffer packed
 * flipped), broadcast from memory: sum (W' + 128)(x - 128) = sum W' x -
 * 128 sum W' ... so sum W' x = that + 128 sum W' - 128 B_p with B_p the
 * pixel's sum of x - 128 over the quads (channels past C included, as
 * their W' = 0 lanes meet them too), all wrapping alike.  A tile is 8
 * pixels (the last one fewer) by 32 channels; its sums requantized per
 * lane and transposed by one shuffle into 8-byte rows of the output. */
enum { CM_T = 8, CM_V = 2 };

/* The pixel sums 128 B_p (16 a vector) into bs. */
static void cm_pixel_sums(be_fn *f, const xconv *g, LLVMValueRef buf, LLVMValueRef bs, int64_t P16)
{
	LLVMBuilderRef b = f->b;
	LLVMTypeRef vt = LLVMVectorType(f->i32, 16);
	LLVMValueRef ones = be_splat(f, vt, c32(f, 0x01010101));
	be_loop lp, lq;
	LLVMValueRef p0 = be_mul(f, be_loop_begin(f, &lp, P16 / 16), 16);
	LLVMValueRef sum = be_entry_alloca(f, vt, "cmsum");
	LLVMBuildStore(b, LLVMConstNull(vt), sum);
	LLVMValueRef q = be_loop_begin(f, &lq, g->C4);
	LLVMValueRef at = be_mul(f, be_add(f, be_mul(f, q, g->RW), p0), 4);
	LLVMValueRef xv = LLVMBuildLoad2(b, vt, LLVMBuildInBoundsGEP2(b, f->i8, buf, &at, 1, ""), "");
	LLVMSetAlignment(xv, 4);
	LLVMValueRef args[3] = {LLVMBuildLoad2(b, vt, sum, ""), ones, xv};
	LLVMBuildStore(b, be_intr(f, "llvm.x86.avx512.vpdpbusd.512", NULL, 0, args, 3), sum);
	be_loop_end(f, &lq);
	LLVMValueRef r = LLVMBuildShl(b, LLVMBuildLoad2(b, vt, sum, ""), be_splat(f, vt, c32(f, 7)), "");
	LLVMSetAlignment(LLVMBuildStore(b, r, LLVMBuildInBoundsGEP2(b, f->i32, bs, &p0, 1, "")), 4);
	be_loop_end(f, &lp);
}

/* A tile: pixels p0..p0+nt-1 by the nv vectors of 16 channels from m0. */
static void cm_tile(be_fn *f, const xconv *g, const be_iop *o, LLVMValueRef buf, LLVMValueRef wt, LLVMValueRef bt,
                    LLVMValueRef bs, LLVMValueRef m0, int nv, LLVMValueRef p0, int nt, LLVMValueRef nb, LLVMValueRef y)
{
	LLVMBuilderRef b = f->b;
	LLVMTypeRef vt = LLVMVectorType(f->i32, 16);
	LLVMValueRef sums[CM_T * CM_V], init[CM_T * CM_V];
	for (int t = 0; t < nt; t++) {
		LLVMValueRef bp = be_splat(f, vt, be_ld_t(f, f->i32, bs, be_add(f, p0, be_ci(f, t))));
		for (int v = 0; v < nv; v++) {
			LLVMValueRef at = be_add(f, m0, be_ci(f, 16 * v));
			LLVMValueRef bv = LLVMBuildLoad2(b, vt, LLVMBuildInBoundsGEP2(b, f->i32, bt, &at, 1, ""), "");
			LLVMSetAlignment(bv, 4);
			init[t * nv + v] = LLVMBuildSub(b, bv, bp, "");
		}
	}
	be_sum_loop sl;
	LLVMValueRef q = be_sum_loop_begin(f, &sl, "cm.q", vt, nt * nv, sums);
	LLVMValueRef wv[CM_V];
	for (int v = 0; v < nv; v++) { /* lane l: channel m0 + 16v + l's 4 bytes W' + 128 of quad q */
		LLVMValueRef at = be_mul(f, be_add(f, be_mul(f, be_add(f, LLVMBuildUDiv(b, m0, be_ci(f, 16), ""),
		                                                            be_ci(f, v)), g->C4), q), 16);
		wv[v] = LLVMBuildLoad2(b, vt, LLVMBuildInBoundsGEP2(b, f->i32, wt, &at, 1, ""), "");
		LLVMSetAlignment(wv[v], 64);
	}
	for (int t = 0; t < nt; t++) {
		LLVMValueRef xs = be_splat(f, vt, be_ld_t(f, f->i32, buf, be_add(f, be_mul(f, q, g->RW),
		                                                                  be_add(f, p0, be_ci(f, t)))));
		for (int v = 0; v < nv; v++) {
			LLVMValueRef args[3] = {sums[t * nv + v], wv[v], xs};
			sums[t * nv + v] = be_intr(f, "llvm.x86.avx512.vpdpbusd.512", NULL, 0, args, 3);
		}
	}
	be_sum_loop_end(f, &sl, g->C4, init, sums);
	/* per vector of channels: the nt pixels' 16 outputs, transposed into
	 * one row of nt bytes a channel */
	int64_t P = g->out[1];
	for (int v = 0; v < nv; v++) {
		LLVMValueRef mv = be_add(f, m0, be_ci(f, 16 * v)), r[CM_T];
		for (int t = 0; t < CM_T; t++)
			r[t] = t < nt ? be_int_out_v(f, o, sums[t * nv + v], mv, 1) : LLVMGetPoison(LLVMVectorType(f->i8, 16));
		LLVMValueRef c32v[4], c64[2], idx[128];
		for (int k = 0; k < 4; k++)
			c32v[k] = LLVMBuildShuffleVector(b, r[2 * k], r[2 * k + 1], lanes(f, 0, 1, 32), "");
		for (int k = 0; k < 2; k++)
			c64[k] = LLVMBuildShuffleVector(b, c32v[2 * k], c32v[2 * k + 1], lanes(f, 0, 1, 64), "");
		for (int l = 0; l < 16; l++)
			for (int t = 0; t < CM_T; t++)
				idx[8 * l + t] = c32(f, t * 16 + l);
		LLVMValueRef tr = LLVMBuildShuffleVector(b, c64[0], c64[1], LLVMConstVector(idx, 128), "");
		for (int l = 0; l < 16; l++) {
			LLVMValueRef row = LLVMBuildShuffleVector(b, tr, LLVMGetPoison(LLVMTypeOf(tr)), lanes(f, 8 * l, 1, 8), "");
			LLVMValueRef yi = be_add(f, be_mul(f, be_add(f, be_mul(f, nb, g->M), be_add(f, mv, be_ci(f, l))), P), p0);
			LLVMValueRef yp = LLVMBuildInBoundsGEP2(b, f->i8, y, &yi, 1, "");
			LLVMValueRef whole = LLVMBuildBitCast(b, row, f->i64, "");
			if (nt == CM_T || l < 15 || v < nv - 1) {
				LLVMSetAlignment(LLVMBuildStore(b, whole, yp), 1);
			} else { /* the vector's last row: masked where it ends the tensor */
				LLVMValueRef islast = LLVMBuildAnd(
					b, LLVMBuildICmp(b, LLVMIntEQ, nb, be_ci(f, g->N - 1), ""),
					LLVMBuildICmp(b, LLVMIntEQ, mv, be_ci(f, g->M - 16), ""), "");
				be_if last, rest;
				be_if_begin(f, &last, islast);
				be_store_first(f, row, yp, 1, nt);
				be_if_end(f, &last);
				be_if_begin(f, &rest, LLVMBuildNot(b, islast, ""));
				LLVMSetAlignment(LLVMBuildStore(b, whole, yp), 1);
				be_if_end(f, &rest);
			}
		}
	}
}

/* Every tile of image nb: groups of CM_V vectors of channels (the last
 * group one vector where M / 16 is odd), 8 pixels a tile, a short tile of
 * the P % 8 left. */
static void cm_image(be_fn *f, const xconv *g, const be_iop *o, LLVMValueRef buf, LLVMValueRef wt, LLVMValueRef bt,
                     LLVMValueRef bs, LLVMValueRef nb, LLVMValueRef y)
{
	int64_t P = g->out[1], nvec = g->M / 16, ngrp = nvec / CM_V, nfull = P / CM_T, rest = P % CM_T;
	for (int part = 0; part < 2; part++) {
		int64_t cnt = part == 0 ? ngrp : nvec % CM_V;
		if (cnt == 0)
			continue;
		be_loop lg;
		LLVMValueRef m0 = part == 0 ? be_mul(f, be_loop_begin(f, &lg, cnt), 16 * CM_V) : be_ci(f, ngrp * 16 * CM_V);
		int nv = part == 0 ? CM_V : 1;
		/* the short tile first: its rows are stored whole, 8 bytes, and
		 * their spill (the next channel's first pixels) is written after */
		if (rest)
			cm_tile(f, g, o, buf, wt, bt, bs, m0, nv, be_ci(f, nfull * CM_T), (int)rest, nb, y);
		if (nfull > 0) {
			be_loop lt;
			LLVMValueRef p0 = be_mul(f, be_loop_begin(f, &lt, nfull), CM_T);
			cm_tile(f, g, o, buf, wt, bt, bs, m0, nv, p0, CM_T, nb, y);
			be_loop_end(f, &lt);
		}
		if (part == 0)
			be_loop_end(f, &lg);
	}
}

/* Channel mode's weights (per vector of 16 channels, quad and lane, the 4
 * bytes W' + 128, 128 past C) and bias (+ 128 sum W'). */
static int32_t *cm_weights(const xconv *g, const int32_t *w32, int32_t *bias)
{
	uint32_t *wp = malloc(sizeof *wp * (size_t)(g->M * g->C4));
	if (!wp)
		return NULL;
	for (int64_t m = 0; m < g->M; m++) {
		uint32_t sum = 0;
		for (int64_t q = 0; q < g->C4; q++) {
			uint32_t word = 0;
			for (int e = 0; e < 4; e++) {
				int64_t c = 4 * q + e;
				int32_t w = c < g->C ? w32[m * g->C + c] : 0;
				sum += (uint32_t)w;
				word |= (uint32_t)(uint8_t)(w + 128) << (8 * e);
			}
			wp[((m / 16) * g->C4 + q) * 16 + m % 16] = word;
		}
		bias[m] = (int32_t)((uint32_t)bias[m] + 128u * sum);
	}
	return (int32_t *)wp;
}

/* Both kernels' operands: o from n (be_iop_free it whatever the
 * result), x's zero point into g, and W' (g->M channels of R elements)
 * with the zero point, as the buffers hold it, folded into the bias
 * (*w32 and *bias malloc'd or NULL: free them).  0, 1 when some w - zw
 * does not fit VPDPBUSD's i8, or -1 reported. */
static int xc_operands(be_fn *f, const ir_node *n, xconv *g, int64_t R, be_iop *o, int32_t **bias,
                       int32_t **w32)
{
	int32_t wmin, wmax;
	*w32 = NULL;
	*bias = malloc(sizeof **bias * (size_t)g->M);
	if (be_iop_init(f, n, o))
		return -1;
	if (!*bias) {
		diag_error(f->d, NULL, "out of memory");
		return -1;
	}
	g->zx = o->k.zx;
	if (!(*w32 = be_int_fold_weights(f, n, o, g->u8 ? o->k.zx : o->k.zx + 128, g->M, R, *bias, &wmin, &wmax)))
		return -1;
	return wmin < -128 || wmax > 127;
}

int be_x86_vnni_conv(be_fn *f, const ir_node *n)
{
	const ir_value *xv = n->in[0], *wv = n->in[1];
	const ir_shape *xs = &xv->shape;
	/* AVX512-VNNI with 512-bit vectors (AVX-VNNI cores keep the tiles) */
	if (f->vnni != 1 || f->vl < 16 || (xv->dt != IR_DT_U8 && xv->dt != IR_DT_I8) || wv->kind != IR_VAL_CONST || !wv->data ||
	    xs->rank < 3 || xs->rank > 4 || ir_attr_int(n, "group", 1) != 1)
		return 1;
	if (be_int_has_bias(n, 2) && (n->in[2]->kind != IR_VAL_CONST || !n->in[2]->data ||
	                              n->in[2]->dt != IR_DT_I32 || ir_shape_numel(&n->in[2]->shape) != wv->shape.d[0]))
		return 1;
	xconv G, *g = &G;
	memset(g, 0, sizeof *g);
	if (be_int_conv_geom(f, n, g->in, g->k, g->s, g->d, g->pb, g->out))
		return -1;
	g->N = xs->d[0], g->C = xs->d[1], g->C4 = (g->C + 3) / 4, g->M = n->out[0]->shape.d[1];
	g->KK = g->k[0] * g->k[1];
	g->L = 16;
	g->u8 = xv->dt == IR_DT_U8;
	if (g->s[1] > 4 || g->C < 1 || g->M < 1)
		return 1;
	if (g->KK == 1 && g->s[0] == 1 && g->s[1] == 1 && !g->pb[0] && !g->pb[1] && g->in[0] == g->out[0] &&
	    g->in[1] == g->out[1]) { /* pointwise: one row of H * W pixels */
		g->in[1] = g->out[1] = g->in[0] * g->in[1];
		g->in[0] = g->out[0] = 1;
	}
	/* a pointwise conv whose pixels fill under 90% of the lanes they take
	 * and whose channels fill them whole goes to channel mode */
	int64_t P = g->out[1];
	g->cmode = g->KK == 1 && g->in[0] == 1 && g->out[0] == 1 && g->s[1] == 1 && g->M % 16 == 0 && P % 16 &&
	           P * 10 < (P + 15) / 16 * 16 * 9;
	g->rows = g->out[1] <= 8 && g->out[0] >= 2 ? 2 : 1;
	/* tap mode where it runs fewer VPDPBUSD (one or two input channels:
	 * the quads would hold zeros), with its gathers' cost */
	g->ng = (g->k[1] + 3) / 4;
	g->taps = g->s[1] * 15 + (g->k[1] - 1) * g->d[1] <= 63 && g->C * g->k[0] * g->ng * 5 < g->C4 * g->KK * 4;
	g->ntrip = g->taps ? g->C : g->C4;
	g->nx = g->taps ? g->k[0] * g->ng : g->KK;
	if (g->nx > 64)
		return 1;
	int64_t size;
	if (g->taps) { /* planes of the padded width, one phase */
		int64_t ph = (g->out[0] - 1) * g->s[0] + (g->k[0] - 1) * g->d[0] + 1;
		int64_t pw = (g->out[1] - 1) * g->s[1] + (g->k[1] - 1) * g->d[1] + 1;
		g->PH = ph > g->pb[0] + g->in[0] ? ph : g->pb[0] + g->in[0];
		g->PWs = g->RW = pw > g->pb[1] + g->in[1] ? pw : g->pb[1] + g->in[1];
		g->pstride = (g->PH * g->RW + 16 + 63) / 64 * 64;
		int64_t R = g->out[1] < 16 ? 16 / g->out[1] : 0;
		R = R > g->out[0] ? g->out[0] : R;
		if (R >= 2 && (R - 1) * g->s[0] * g->RW + (g->out[1] - 1) * g->s[1] + (g->k[1] - 1) * g->d[1] <= 63)
			g->tblk = R;
		g->rows = 1; /* (narrow rows: blocks where they fit one load, else a row a vector) */
		int64_t reach = (g->PH - 1) * g->RW + g->s[1] * (g->out[1] > 16 ? g->out[1] - 16 : 0) + 64;
		size = ((g->C - 1) * g->pstride + (reach > g->pstride ? reach : g->pstride) + 63) / 64 * 64;
		if (size > XC_BUF_MAX)
			return 1;
	} else {
		if (!xc_geom(g))
			return 1;
		size = g->C4 * g->PH * g->RW * 4;
	}
	be_iop o;
	int32_t *bias, *w32, *wp = NULL;
	int rc = xc_operands(f, n, g, g->C * g->KK, &o, &bias, &w32);
	if (rc)
		goto done;
	rc = -1;
	if (!(wp = g->cmode ? cm_weights(g, w32, bias) : xc_weights(g, w32))) {
		diag_error(f->d, NULL, "out of memory");
		goto done;
	}
	char name[64];
	snprintf(name, sizeof name, "%s.vnni%d", f->name, n->id);
	int64_t nw = g->cmode ? g->M * g->C4 : (g->M + XC_MT - 1) / XC_MT * XC_MT * g->ntrip * g->nx;
	LLVMValueRef wt = be_opaque_const(
		f, name, LLVMConstStringInContext2(f->ctx, (const char *)wp, (size_t)nw * sizeof *wp, 1), 64);
	LLVMValueRef bt = be_table_i32(f, bias, g->M);
	LLVMValueRef x = be_ptr(f, xv), y = be_ptr(f, n->out[0]);
	LLVMValueRef buf = be_entry_alloca(f, LLVMArrayType2(f->i8, (uint64_t)size), "vnnibuf");
	LLVMSetAlignment(buf, 64);
	be_lifetime(f, true, buf, size);
	be_loop ln, lh;
	LLVMValueRef nb = be_loop_begin(f, &ln, g->N);
	if (g->taps) {
		be_loop lc;
		LLVMValueRef c = be_loop_begin(f, &lc, g->C), po = be_mul(f, c, g->pstride);
		dw_pack(f, g, x, be_add(f, be_mul(f, nb, g->C), c), LLVMBuildInBoundsGEP2(f->b, f->i8, buf, &po, 1, ""),
		        g->pstride);
		be_loop_end(f, &lc);
	} else {
		xc_pack(f, g, x, nb, buf);
	}
	if (g->cmode) {
		int64_t P16 = (P + 15) / 16 * 16;
		LLVMValueRef bs = be_entry_alloca(f, LLVMArrayType2(f->i32, (uint64_t)P16), "cmsums");
		LLVMSetAlignment(bs, 64);
		cm_pixel_sums(f, g, buf, bs, P16);
		cm_image(f, g, &o, buf, wt, bt, bs, nb, y);
	} else if (g->tblk) { /* blocks of rows, the last overlapping the one before */
		LLVMValueRef oh = be_mul(f, be_loop_begin(f, &lh, g->out[0] / g->tblk), g->tblk);
		xc_row(f, g, &o, buf, wt, bt, oh, nb, y);
		be_loop_end(f, &lh);
		if (g->out[0] % g->tblk)
			xc_row(f, g, &o, buf, wt, bt, be_ci(f, g->out[0] - g->tblk), nb, y);
	} else if (g->rows == 2) { /* row pairs, the last overlapping the one before when OH is odd */
		LLVMValueRef oh = be_mul(f, be_loop_begin(f, &lh, g->out[0] / 2), 2);
		xc_row(f, g, &o, buf, wt, bt, oh, nb, y);
		be_loop_end(f, &lh);
		if (g->out[0] % 2)
			xc_row(f, g, &o, buf, wt, bt, be_ci(f, g->out[0] - 2), nb, y);
	} else {
		LLVMValueRef oh = be_loop_begin(f, &lh, g->out[0]);
		xc_row(f, g, &o, buf, wt, bt, oh, nb, y);
		be_loop_end(f, &lh);
	}
	be_loop_end(f, &ln);
	be_lifetime(f, false, buf, size);
	rc = 0;
done:
	free(wp);
	free(w32);
	free(bias);
	be_iop_free(&o);
	return rc;
}

/* ------------------------------------------------------------ depthwise */

/* The 16 sums of the outputs whose taps start at plane elements at +
 * off[lane] (the taps at kh * d0 rows and kw * d1 columns on): per kernel
 * row one 64-byte load, the bytes of each output's
 * taps gathered in fours by one shuffle (VPERMB), and a VPDPBUSD per
 * four taps against the channel's words wl[] (kernel row, group of 4
 * taps); from bias' bv, requantized as channel c's. */
static LLVMValueRef dw_vector(be_fn *f, const xconv *g, const be_iop *o, LLVMValueRef buf, LLVMValueRef *wl,
                              LLVMValueRef bv, LLVMValueRef at, LLVMValueRef c, const int64_t *off)
{
	LLVMBuilderRef b = f->b;
	LLVMTypeRef v64 = LLVMVectorType(f->i8, 64), vt = LLVMVectorType(f->i32, 16);
	int ng = (int)(g->k[1] + 3) / 4;
	LLVMValueRef acc = bv;
	for (int64_t kh = 0; kh < g->k[0]; kh++) {
		LLVMValueRef e = be_add(f, at, be_ci(f, kh * g->d[0] * g->RW));
		LLVMValueRef row = LLVMBuildLoad2(b, v64, LLVMBuildInBoundsGEP2(b, f->i8, buf, &e, 1, ""), "");
		LLVMSetAlignment(row, 1);
		for (int gi = 0; gi < ng; gi++) {
			LLVMValueRef idx[64];
			for (int i = 0; i < 16; i++)
				for (int t = 0; t < 4; t++) {
					int64_t kw = 4 * gi + t;
					idx[4 * i + t] = c32(f, kw < g->k[1] ? off[i] + kw * g->d[1] : 0);
				}
			LLVMValueRef xq = LLVMBuildShuffleVector(b, row, LLVMGetPoison(v64), LLVMConstVector(idx, 64), "");
			LLVMValueRef args[3] = {acc, LLVMBuildBitCast(b, xq, vt, ""), wl[kh * ng + gi]};
			acc = be_intr(f, "llvm.x86.avx512.vpdpbusd.512", NULL, 0, args, 3);
		}
	}
	return be_int_out_v(f, o, acc, c, 0);
}

/* A depthwise conv (group = C = M) of i8/u8 data to i8/u8 with AVX512-VNNI:
 * every channel's bordered byte plane first (perm_blocks, or a copy a
 * row), then per channel vectors of 16 outputs, per kernel row one
 * 64-byte load of the plane and per 4 taps a gather (VPERMB) into
 * VPDPBUSD against the channel's tap words.  A vector is 16 outputs of a
 * row (the last one overlapping the one before it, or in a row narrower
 * than 16 its valid lanes stored), or, for rows narrower than 16, a block
 * of whole rows (16 / OW of them; the last block overlapping), stored as
 * one run of adjacent outputs.  0, -1 reported, or 1 when n is left to
 * the other kernels. */
int be_x86_depthwise(be_fn *f, const ir_node *n)
{
	const ir_value *xv = n->in[0], *wv = n->in[1];
	const ir_shape *xs = &xv->shape;
	if (f->vnni != 1 || f->vl < 16 || (xv->dt != IR_DT_U8 && xv->dt != IR_DT_I8) ||
	    (n->out[0]->dt != IR_DT_U8 && n->out[0]->dt != IR_DT_I8) || wv->kind != IR_VAL_CONST || !wv->data ||
	    xs->rank < 3 || xs->rank > 4)
		return 1;
	int64_t C = xs->d[1];
	if (be_int_has_bias(n, 2) && (n->in[2]->kind != IR_VAL_CONST || !n->in[2]->data ||
	                              n->in[2]->dt != IR_DT_I32 || ir_shape_numel(&n->in[2]->shape) != C))
		return 1;
	xconv G, *g = &G;
	memset(g, 0, sizeof *g);
	if (be_int_conv_geom(f, n, g->in, g->k, g->s, g->d, g->pb, g->out))
		return -1;
	g->N = xs->d[0], g->C = g->M = C, g->C4 = 1, g->KK = g->k[0] * g->k[1];
	g->L = 16;
	int64_t sx = g->s[1];
	g->u8 = xv->dt == IR_DT_U8;
	/* a vector's taps within one 64-byte load of its kernel row */
	if (g->s[1] * 15 + (g->k[1] - 1) * g->d[1] > 63 || g->k[0] * ((g->k[1] + 3) / 4) > 64)
		return 1;
	/* the plane: rows of the padded width, whose chunk stores spill into
	 * the next row (written after it) or the slack, which also takes the
	 * last vectors' loads */
	int64_t ph = (g->out[0] - 1) * g->s[0] + (g->k[0] - 1) * g->d[0] + 1;
	int64_t pw = (g->out[1] - 1) * g->s[1] + (g->k[1] - 1) * g->d[1] + 1;
	g->PH = ph > g->pb[0] + g->in[0] ? ph : g->pb[0] + g->in[0];
	g->PWs = g->RW = pw > g->pb[1] + g->in[1] ? pw : g->pb[1] + g->in[1];
	/* rows narrower than 16: blocks of R whole rows a vector (lane r * OW
	 * + c the output (oh0 + r, c): one store, R OW adjacent outputs) where
	 * their taps fit one load; else rows of 16 */
	int64_t OH = g->out[0], OW = g->out[1], R = OW < 16 ? 16 / OW : 0;
	R = R > OH ? OH : R;
	bool block = R >= 1 && (R - 1) * g->s[0] * g->RW + (OW - 1) * sx + (g->k[1] - 1) * g->d[1] <= 63;
	int64_t lane[16];
	for (int i = 0; i < 16; i++)
		lane[i] = block ? (i < R * OW ? i / OW * g->s[0] * g->RW + i % OW * sx : 0) : sx * i;
	int64_t reach = block ? (OH - R) * g->s[0] * g->RW : (OH - 1) * g->s[0] * g->RW + (OW > 16 ? OW - 16 : 0) * sx;
	reach += (g->k[0] - 1) * g->d[0] * g->RW + 64;
	int64_t bytes = g->PH * g->RW + 16 > reach ? g->PH * g->RW + 16 : reach;
	bytes = (bytes + 63) / 64 * 64;
	if (C * bytes > XC_BUF_MAX)
		return 1;
	be_iop o;
	int32_t *bias, *w32;
	int rc = xc_operands(f, n, g, g->KK, &o, &bias, &w32);
	if (rc)
		goto done;
	rc = -1;
	/* per channel, kernel row and group of 4 taps a word of their W' */
	int ng = (int)(g->k[1] + 3) / 4, nwc = (int)g->k[0] * ng;
	uint32_t *wp = calloc((size_t)(C * nwc), sizeof *wp);
	if (!wp) {
		diag_error(f->d, NULL, "out of memory");
		goto done;
	}
	for (int64_t ch = 0; ch < C; ch++)
		for (int64_t kh = 0; kh < g->k[0]; kh++)
			for (int64_t kw = 0; kw < g->k[1]; kw++)
				wp[ch * nwc + kh * ng + kw / 4] |= (uint32_t)(uint8_t)w32[ch * g->KK + kh * g->k[1] + kw] << (8 * (kw % 4));
	LLVMBuilderRef b = f->b;
	LLVMTypeRef vt = LLVMVectorType(f->i32, 16), oty = be_dt_type(f, o.odt);
	LLVMValueRef wt = be_table_i32(f, (const int32_t *)wp, C * nwc), bt = be_table_i32(f, bias, C);
	free(wp);
	LLVMValueRef x = be_ptr(f, xv), y = be_ptr(f, n->out[0]);
	/* every channel's plane first, then the sums (loads long after the
	 * stores that wrote them) */
	LLVMValueRef buf = be_entry_alloca(f, LLVMArrayType2(f->i8, (uint64_t)(C * bytes)), "dwbuf");
	LLVMSetAlignment(buf, 64);
	be_lifetime(f, true, buf, C * bytes);
	be_loop ln, lc;
	LLVMValueRef nb = be_loop_begin(f, &ln, g->N);
	LLVMValueRef c = be_loop_begin(f, &lc, C), po = be_mul(f, c, bytes);
	dw_pack(f, g, x, be_add(f, be_mul(f, nb, C), c), LLVMBuildInBoundsGEP2(b, f->i8, buf, &po, 1, ""), bytes);
	be_loop_end(f, &lc);
	c = be_loop_begin(f, &lc, C);
	LLVMValueRef nc = be_add(f, be_mul(f, nb, C), c), pc = be_mul(f, c, bytes);
	LLVMValueRef wl[64];
	for (int t = 0; t < nwc; t++)
		wl[t] = be_splat(f, vt, be_ld_t(f, f->i32, wt, be_add(f, be_mul(f, c, nwc), be_ci(f, t))));
	LLVMValueRef bv = be_splat(f, vt, be_ld_t(f, f->i32, bt, c));
	LLVMValueRef ybase = be_mul(f, nc, g->out[0] * g->out[1]);
	if (block) {
		/* R rows a vector, the last block at OH - R (overlapping the one
		 * before).  A block of fewer than 16 outputs is stored whole (a
		 * masked store's bytes cannot be forwarded to the next layer's
		 * loads, which then stall): its spill lands on the next block, or
		 * on the next channel, which is written after it; only the last
		 * channel's last block stores its outputs alone. */
		int64_t nfirst = (OH - R + R - 1) / R;
		for (int part = 0; part < 2; part++) {
			if (part == 0 && nfirst == 0)
				continue;
			be_loop lv;
			LLVMValueRef oh = part == 0 ? be_mul(f, be_loop_begin(f, &lv, nfirst), R) : be_ci(f, OH - R);
			LLVMValueRef r = dw_vector(f, g, &o, buf, wl, bv, be_add(f, pc, be_mul(f, oh, g->s[0] * g->RW)), c, lane);
			LLVMValueRef yi = be_add(f, ybase, be_mul(f, oh, OW));
			LLVMValueRef p = LLVMBuildInBoundsGEP2(b, oty, y, &yi, 1, "");
			if (R * OW == 16 || part == 0) {
				LLVMSetAlignment(LLVMBuildStore(b, r, p), 1);
			} else {
				LLVMValueRef islast = LLVMBuildICmp(b, LLVMIntEQ, nc, be_ci(f, g->N * C - 1), "");
				be_if last, rest;
				be_if_begin(f, &last, islast);
				be_store_first(f, r, p, 1, R * OW);
				be_if_end(f, &last);
				be_if_begin(f, &rest, LLVMBuildNot(b, islast, ""));
				LLVMSetAlignment(LLVMBuildStore(b, r, p), 1);
				be_if_end(f, &rest);
			}
			if (part == 0)
				be_loop_end(f, &lv);
		}
	} else {
		be_loop lr;
		LLVMValueRef oh = be_loop_begin(f, &lr, g->out[0]);
		LLVMValueRef prow = be_add(f, pc, be_mul(f, oh, g->s[0] * g->RW));
		/* (ow0 outputs on: plane column sx * ow0) */
		LLVMValueRef yrow = be_add(f, ybase, be_mul(f, oh, g->out[1]));
		int64_t ow = g->out[1], nfull = ow / 16, rest = ow % 16;
		for (int part = 0; part < 2; part++) {
			int64_t cnt = part == 0 ? nfull : (rest > 0);
			if (cnt == 0)
				continue;
			be_loop lv;
			LLVMValueRef ow0 = part == 0 ? be_mul(f, be_loop_begin(f, &lv, cnt), 16) : be_ci(f, ow > 16 ? ow - 16 : 0);
			LLVMValueRef r = dw_vector(f, g, &o, buf, wl, bv, be_add(f, prow, be_mul(f, ow0, sx)), c, lane);
			LLVMValueRef yi = be_add(f, yrow, ow0);
			LLVMValueRef p = LLVMBuildInBoundsGEP2(b, oty, y, &yi, 1, "");
			if (part == 0 || ow > 16)
				LLVMSetAlignment(LLVMBuildStore(b, r, p), 1);
			else
				be_store_first(f, r, p, 1, ow);
			if (part == 0)
				be_loop_end(f, &lv);
		}
		be_loop_end(f, &lr);
	}
	be_loop_end(f, &lc);
	be_loop_end(f, &ln);
	be_lifetime(f, false, buf, C * bytes);
	rc = 0;
done:
	free(w32);
	free(bias);
	be_iop_free(&o);
	return rc;
}
