/* quant.h: the quantizer family: one implementation of every weight
 * quantization scheme, shared by PTQ (the quantize pass), QGT training
 * (qgt/ regularizers) and the backend's constant packing.
 *
 * Given a float tensor and a pass_qspec, pass_quantize produces the codes,
 * the per-tensor or per-channel parameters (scales, zero points or
 * codebook levels) in an ir_quant, the dequantized tensor DQ(w), and the
 * squared error ||DQ(w) - w||^2.  pass_quant_error_grad gives the QGT
 * gradient of that error with DQ(w) held constant.
 *
 * Conventions (what an ir_quant produced here means):
 *  - Elements are row-major; codes[k] is the code of element k.
 *  - Per-channel parameters run along q->axis (nchan = shape.d[axis]);
 *    per-tensor: axis -1, nchan 1.  Which axis holds the output channels
 *    depends on the op; pass_weight_axis tells (conv/depthwise conv
 *    [O, I/g, kh, kw]: 0; conv_transpose [I, O/g, kh, kw]: 1; gemm B:
 *    0 with trans_b=1 ([N,K]), 1 with trans_b=0 ([K,N]); matmul B [..,K,N]:
 *    its last axis).
 *  - Codes are unsigned, 0..2^bits-1.  Signed schemes store the signed
 *    integer q offset by 2^(bits-1) ("excess-K": the code is q's two's
 *    complement with the top bit flipped):
 *      AFFINE     w = scale[c] * (code - zero_point[c]); codes 0..2^b-1;
 *                 the range always contains 0, so 0 is exact.
 *      SYMMETRIC  q = code - 2^(b-1) in -(2^(b-1)-1)..2^(b-1)-1 (code 0
 *                 unused); w = scale[c] * q.  bits >= 2.
 *      POW2       sign-magnitude: code = s << (b-1) | m, s = 1 for
 *                 negative; m = 0: w = 0, else w = +-scale[c] * 2^-(m-1),
 *                 m in 1..2^(b-1)-1; scale[c] is itself a power of two, so
 *                 every weight is a signed power of two (shifts only).
 *                 bits >= 2.
 *      BINARY     bits 1; code 1: +scale[c], code 0: -scale[c]
 *                 (alpha * sign(w), sign(0) = +1; alpha = mean |w|).
 *      TERNARY    bits 2; q = code - 2 in {-1, 0, +1}; w = scale[c] * q
 *                 (codes 1..3).  alpha = mean |w| over |w| > t, with the
 *                 threshold t = 0.7 mean |w| (TWN) or, for calib mse, the t
 *                 minimising the error; then each weight takes the nearest
 *                 of {-alpha, 0, +alpha}.
 *      CODEBOOK   w = levels[c << bits | code]; 2^bits levels per channel,
 *                 ascending, initialised by k-means (Lloyd) on the channel.
 *    Binary and ternary force bits to 1 and 2 (q->bits says so).
 *  - Rounding is to nearest, ties to even (rintf, as numpy's round).
 *  - Calibration (how the range is picked; affine, symmetric, pow2 and
 *    ternary): min-max; MSE-optimal clipping (a grid search per channel
 *    over clipping ratios, or the ternary threshold, minimising
 *    ||DQ(w)-w||^2); percentile P of |w| (symmetric, pow2) or the P and
 *    100-P percentiles (affine; numpy's linear interpolation).  Binary and
 *    codebook are MSE-optimal by construction and ignore calib; ternary
 *    treats percentile as min-max.
 *
 * Bit packing (pass_bitpack): the tensor is split into d[0] rows of
 * numel/d[0] elements (rank 0 or 1: one row); each row starts on a byte
 * boundary; within a row, code j occupies bits [j*bits, (j+1)*bits) of the
 * row's bit stream, whose bit t is bit (t % 8) of byte t / 8 (LSB first,
 * little-endian bit order, so a code may straddle two bytes for 3, 5, 6 or
 * 7 bits).  Padding bits are zero.  Per-channel parameters stay beside the
 * codes in the ir_quant (scale f32, zero_point i32, levels f32). */
#ifndef QGTC_PASS_QUANT_H
#define QGTC_PASS_QUANT_H

#include "ir.h"

typedef enum {
	PASS_CALIB_MINMAX = 0,  /* full range */
	PASS_CALIB_MSE,         /* clipping that minimises the weight MSE */
	PASS_CALIB_PERCENTILE,  /* clip at a percentile of the values */
} pass_calib;

/* What to do with one tensor. */
typedef struct pass_qspec {
	ir_qscheme scheme;      /* IR_QS_AFFINE .. IR_QS_CODEBOOK */
	int bits;               /* 1..8 (binary: 1, ternary: 2, whatever is given) */
	bool per_channel;       /* parameters per slice along axis */
	int axis;               /* channel axis when per_channel (see pass_weight_axis) */
	pass_calib calib;
	float percentile;       /* PASS_CALIB_PERCENTILE: P in (50, 100], e.g. 99.9 */
	bool f32_scales;        /* keep scales exact f32; default: round them to
	                         * fp16 values (pass_f16_round) so the backend can
	                         * store them in 2 bytes */
	int scale_mb;           /* unless f32_scales, at PASS_CODED_MAX_BITS bits
	                         * or fewer round them to scale codes of this many
	                         * mantissa bits instead (PASS_E12_MB, PASS_E8_MB:
	                         * pass_ecode_round; weights-only quantization);
	                         * 0: fp16 */
	bool ec_on;             /* pass_quantize's own, per tensor: rounding to */
	int ec_e0;              /* codes of this base exponent (callers: 0) */
} pass_qspec;

/* 8-bit affine, per-channel on axis 0, min-max. */
void pass_qspec_default(pass_qspec *s);

/* Quantize the n = numel(s) floats of w (shape s) per spec.  Fills q (its
 * arrays allocated in arena a, or with malloc when a is NULL: then free
 * them with pass_quant_free); writes DQ(w) to dq (n floats, may be NULL);
 * *err (may be NULL) = ||DQ(w) - w||^2.  0, or -1 after reporting a bad
 * spec (bits out of range, axis out of range, non-finite weights) or out
 * of memory to d.  Deterministic. */
int pass_quantize(const float *w, const ir_shape *s, const pass_qspec *spec, ir_arena *a,
                  ir_quant *q, float *dq, double *err, diag_sink *d);

/* Round w onto the grid already in q (scales, zero points or levels kept,
 * codes recomputed in place): QGT with a frozen grid.  dq and err as in
 * pass_quantize.  0, or -1 if s does not fit q. */
int pass_quant_requantize(const float *w, const ir_shape *s, ir_quant *q, float *dq, double *err);

/* DQ from q's codes and parameters: numel(s) floats into dq. */
void pass_dequantize(const ir_quant *q, const ir_shape *s, float *dq);

/* The values of channel c (0 per tensor) that the grid in q does not
 * clip: those within half a step of the end levels (affine, symmetric,
 * ternary: they round onto a level), or between the end levels
 * themselves (pow2, binary, codebook).  A straight-through gradient that
 * stops at the clip (STE-QAT, Hubara et al. 2016) passes where
 * lo <= w <= hi. */
void pass_quant_unclipped(const ir_quant *q, int64_t c, float *lo, float *hi);

/* sum (dq - w)^2 over n elements; with grad non-NULL also
 * grad = d/dw ||DQ(w) - w||^2 = 2 (w - dq), DQ(w) held constant (the QGT
 * gradient: the grid does not move with w). */
double pass_quant_error_grad(const float *w, const float *dq, int64_t n, float *grad);

/* Free the arrays of a q filled with a == NULL. */
void pass_quant_free(ir_quant *q);

/* Channel axis of input `in` of node n holding weights, for per-channel
 * quantization along output channels, or -1 if that input is not a weight
 * of a conv, conv_transpose, gemm or matmul.  Depthwise conv: 0 (one
 * channel per filter).  conv_transpose with groups: 1 (O/g channels, each
 * shared by the g groups), but 0 when O/g is 1 (depthwise: input channel
 * = output channel). */
int pass_weight_axis(const ir_node *n, int in);

/* Scales are stored in half precision when they can be: pass_f16_round
 * rounds x (nearest, ties to even) to the nearest IEEE binary16 normal
 * number when |x| is in the normal range [2^-14, 65504] and returns x
 * unchanged otherwise; pass_f16_exact says whether x is such a number (so
 * the backend may store it as 16 bits without changing it).  The quantizer
 * rounds each scale before computing codes, so DQ(w) (what the interpreter
 * simulates and QGT targets) is exactly what the compiled code computes. */
float pass_f16_round(float x);
bool pass_f16_exact(float x);
/* How q's parameters are stored (the backend stores them so, the size
 * report counts them so): scales as fp16 when every one is 0 or
 * pass_f16_exact, else f32; affine zero points packed at q->bits each
 * when every one is in [0, 2^bits), else i32. */
bool pass_quant_scales_f16(const ir_quant *q);
/* Scale codes, for low-bit weights with float activations, where a
 * channel of K weights takes K * bits / 8 bytes and an fp16 scale would
 * take 2 more: a code k of mb + 4 bits, 1 <= k < 2^(mb+4), stands for
 *   s = 2^(e0 + (k >> mb)) * (1 + (k & (2^mb - 1)) / 2^mb),
 * k = 0 for 0, e0 a base exponent per tensor (16 octaves above it).  The
 * f32 bits of s are ((e0 + 127) << 23) + (k << (23 - mb)), so a code
 * widens with a shift and an add.  Two widths:
 *   e12  mb = 8, 12 bits (two codes in three bytes), relative error at
 *        most 2^-9: the default (--scale-dtype e12);
 *   e8   mb = 4, one byte, relative error at most 2^-5 (--scale-dtype e8).
 * At PASS_CODED_MAX_BITS bits or fewer with float activations the
 * quantizer rounds scales so: it calibrates on the fp16 grid, and when
 * the nonzero scales span at most 14 octaves it calibrates again with
 * pass_ecode_base(the largest, plus room) as e0 and pass_ecode_round (the
 * nearest code's value, ties to even, clamped to codes 1 .. 2^(mb+4)-1)
 * as the rounding; else the tensor keeps fp16 scales.  A relative error
 * of 2^-(mb+1) moves the outermost level of a b-bit grid by at most
 * 2^(b-mb-2) steps: 1/256 of a step for e12 at 2 bits, 1/16 for e8.  e8
 * is not the default: under QGT (which trains on the fp16 grid; quantize
 * rounds the scales when it deploys) it cost 0.10 pt on average at 2
 * bits over the held-out models.  pass_ecode is the code of s (an
 * ecode value at base e0, or 0), with the sign as bit mb + 4;
 * pass_ecode_fits says whether each of d[0..n) is 0 or such a value for
 * one base (sign: negative values too), the least base that holds them
 * all in *e0; pass_quant_scales_ecode whether q's scales are stored so
 * (the backend stores them so, the size report counts them so). */
enum { PASS_CODED_MAX_BITS = 2, PASS_E8_MB = 4, PASS_E12_MB = 8, PASS_B12_MB = 7 };
int pass_ecode_base(float smax);
float pass_ecode_round(float s, int e0, int mb);
unsigned pass_ecode(float s, int e0, int mb);
bool pass_ecode_fits(const float *d, int64_t n, int mb, bool sign, int *e0);
bool pass_quant_scales_ecode(const ir_quant *q, int mb, int *e0);
bool pass_quant_zp_packable(const ir_quant *q);
/* The biases of layers that keep float activations but quantized weights
 * are rounded too, unless --bias-dtype f32:
 *   - at PASS_CODED_MAX_BITS bits or fewer, to "b12" (the default;
 *     --bias-dtype f16 keeps fp16): a sign and an ecode of mb =
 *     PASS_B12_MB (12 bits in all, two in three bytes) on a base e0 per
 *     tensor, pass_ecode_base(the largest |b|, plus room).
 *     pass_bias_b12_round gives the nearest such value: relative error at
 *     most 2^-8 within the 16 octaves below the largest, and |x| below
 *     them goes to the nearer of 0 and the least code (absolute error at
 *     most 2^e0, 2^-15 of the largest).  Quantize takes b12 for a tensor
 *     only where no value fp16 would keep lies below the least code (an
 *     outlier channel would flush the others' biases), else fp16;
 *   - else to fp16: pass_bias_round gives the nearest fp16 normal number
 *     or +0 (|x| below 2^-14 goes to the nearer of 0 and +-2^-14; above
 *     fp16's range x is returned unchanged), relative error at most 2^-11.
 * pass_bias_dtype says how constant v is stored (the backend stores it
 * so, the size report counts it so): PASS_BIAS_B12 (its base in *e0) or
 * PASS_BIAS_F16 where every value fits, for an f32 constant, not
 * quantized, read only as operand 2 (the bias) of conv or gemm nodes
 * whose weight is a quantized f32 constant; else PASS_BIAS_F32. */
enum { PASS_BIAS_F32, PASS_BIAS_F16, PASS_BIAS_B12 };
float pass_bias_round(float x);
float pass_bias_b12_round(float x, int e0);
int pass_bias_dtype(const ir_graph *g, const ir_value *v, int *e0);
/* Bytes of f32 constant v as the backend stores it (pass_bias_dtype). */
size_t pass_bias_bytes(const ir_graph *g, const ir_value *v);

/* Names: "affine", "symmetric", "pow2", "binary", "ternary", "codebook".
 * From name: IR_QS_NONE if unknown. */
const char *pass_qscheme_name(ir_qscheme s);
ir_qscheme pass_qscheme_from_name(const char *s);

/* ---------------------------------------------------------- bit packing */

/* Bytes of the packed form of a tensor of shape s at `bits` bits. */
size_t pass_bitpack_size(const ir_shape *s, int bits);
/* Pack codes (numel(s) of them) into out (pass_bitpack_size bytes). */
void pass_bitpack(const uint8_t *codes, const ir_shape *s, int bits, uint8_t *out);
/* Inverse of pass_bitpack. */
void pass_bitunpack(const uint8_t *packed, const ir_shape *s, int bits, uint8_t *codes);

/* ------------------------------------------------- the PTQ pipeline's options */

/* An activation grid fixed before quantize-act runs: QGT with -a trains
 * on the grids and hands them over, so the model deployed is the model
 * trained. */
typedef struct pass_act_grid {
	const char *name;           /* the value quantize-act quantizes */
	float scale;
	int32_t zero_point;
} pass_act_grid;

/* Options of the bnfold/quantize/bitpack passes (pass_options.quant). */
typedef struct pass_quant_options {
	int bits;                   /* default bits (-b), 1..8 */
	ir_qscheme scheme;          /* --scheme */
	bool per_tensor;            /* --granularity per-tensor */
	pass_calib calib;           /* --calib */
	float percentile;           /* --calib percentile:P */
	bool f32_scales;            /* --scale-dtype f32 (else fp16: see pass_f16_round) */
	int scale_mb;               /* --scale-dtype e12 (qgtc's default) or e8: scale
	                             * codes at 2 bits or fewer (pass_ecode_round); 0: fp16 */
	bool f32_biases;            /* --bias-dtype f32 (else fp16: see pass_bias_round) */
	bool b12_biases;            /* --bias-dtype b12 (qgtc's default): b12 at 2 bits
	                             * or fewer (pass_bias_b12_round) */
	const char *bits_rules;     /* --bits 'NAME=B,GLOB=B'; B 1..8, or 32/fp32: keep float; may be NULL */
	int mse_max_bits;           /* a layer at this many bits or fewer takes
	                             * the MSE grid whatever calib says (QGT's
	                             * policy at 2 bits, per layer: a hint or
	                             * rule may put one there); 0: none */
	/* Calibration inputs for bias correction and activation ranges
	 * (--calib-data), already normalised; NULL: no bias correction. */
	const float *calib_x;
	int64_t calib_n;            /* samples */
	int64_t calib_numel;        /* elements per sample (must match the graph input) */
	const ir_shape *calib_shape; /* a sample's shape as the data holds it, or
	                             * NULL: checked by count (ir_shape_feeds) */
	const char *calib_src;      /* where the samples came from, for diagnostics (or NULL) */
	int64_t calib_max;          /* use at most this many samples (0: 256) */
	/* Activations (-a, quantize-act): 0 keeps them float; 8 (i8) or 16 (i16). */
	int act_bits;
	pass_calib act_calib;       /* --act-calib: the observer */
	float act_percentile;       /* its P for percentile (0: 99.99) */
	bool io_int;                /* --io int: integer inputs and outputs (io-int) */
	/* quantize-act: a value named here (a value whose grid others share,
	 * see actquant.h) takes this grid instead of a calibrated one. */
	const pass_act_grid *act_grids;
	int n_act_grids;
} pass_quant_options;

/* A kernel whose grid was settled before the quantize pass runs: the qgt
 * pass trained it onto this grid, so quantize deploys exactly this spec
 * (the grid trained is the grid deployed, whatever -b and --calib say). */
typedef struct pass_weight_grid {
	const char *name;           /* the kernel (owned by the graph's arena) */
	pass_qspec spec;            /* its axis is the deploying node's */
	bool first;                 /* quantized before the other weights and left
	                             * out of bias correction; a codebook takes
	                             * each channel's distinct values as levels
	                             * when there are at most 2^bits (SQ's per-layer
	                             * scheme, learned codebooks) */
} pass_weight_grid;

/* What the passes of one pipeline run hand on to later ones
 * (pass_options.handoff).  The arrays are malloc'd; the names they hold
 * belong to the graph's arena. */
typedef struct pass_handoff {
	pass_weight_grid *weights;  /* qgt -> quantize */
	int nweights;
	pass_act_grid *acts;        /* qgt -> quantize-act (before act_grids) */
	int nacts;
} pass_handoff;

/* Free the arrays and empty h (may be NULL). */
void pass_handoff_clear(pass_handoff *h);

/* Check a --bits rule list ("conv1=8,fc=4,*dw*=4"); reports and returns -1
 * if malformed. */
int pass_quant_check_rules(const char *rules, diag_sink *d);

/* What the quantize pass does with node n's weight: 1 with *w and *spec
 * set (scheme, bits from a --bits rule over the node's hint over -b,
 * granularity, axis, calibration); 0 when n has no quantizable weight or
 * it stays float; -1 on a malformed --bits list (reported).  The QGT
 * regularizers use it to pull weights onto exactly the grid deployed. */
int pass_quant_spec_for(const pass_quant_options *qo, const ir_node *n, ir_value **w,
                        pass_qspec *spec, diag_sink *d);

/* The parameter bytes the size report counts for g (totals.total_bytes
 * of --report-json: packed weights, quantization parameters, float
 * parameters); *fp32_bytes (may be NULL) gets them all as f32.  And one
 * weight's share: its packed codes and quantization parameters (a float
 * weight: 4 bytes an element). */
size_t pass_quant_total_bytes(const ir_graph *g, size_t *fp32_bytes);
size_t pass_quant_weight_bytes(const ir_value *v);
/* The size report's "packed weights" of g: the lower bound an object's
 * flash is compared with. */
size_t pass_quant_packed_bytes(const ir_graph *g);

/* Sizes of the emitted object's sections, for the size report.
 * TODO(backend): the native backend fills this in after emitting the
 * object; until then the report says "object size: n/a". */
typedef struct pass_object_size {
	size_t text, rodata, data, bss;   /* bytes */
} pass_object_size;

/* Size report over g (after quantize; packed sizes from bitpack when it
 * ran, else computed the same way): per quantized weight: layer, params,
 * scheme, bits, granularity, packed bytes, share of the packed total;
 * totals: packed weights (the lower bound), quantization parameters,
 * float parameters (biases, unquantized constants), the FP32 size of the
 * same parameters and the reduction factors.  obj NULL: object size n/a.
 * Text, or JSON when json. */
void pass_quant_report(const ir_graph *g, const pass_object_size *obj, FILE *f, bool json);

#endif
