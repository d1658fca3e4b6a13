/* bitpack.c: dense packing of quantization codes (layout in quant.h: rows
 * along dim 0, byte-aligned, LSB-first bit stream), the bitpack pass, and
 * the size report computed from the packed bytes.
 * The pass requires: weights quantized (ir_quant with codes).  keeps:
 * everything; sets ir_quant.packed/packed_bytes of each quantized value
 * that has none yet. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pass.h"
#include "quant.h"

static void rows_of(const ir_shape *s, int64_t *rows, int64_t *len)
{
	int64_t n = ir_shape_numel(s);
	*rows = s->rank >= 2 ? s->d[0] : 1;
	*len = *rows > 0 ? n / *rows : 0;
}

size_t pass_bitpack_size(const ir_shape *s, int bits)
{
	int64_t rows, len;
	rows_of(s, &rows, &len);
	return (size_t)rows * (size_t)((len * bits + 7) / 8);
}

void pass_bitpack(const uint8_t *codes, const ir_shape *s, int bits, uint8_t *out)
{
	int64_t rows, len;
	rows_of(s, &rows, &len);
	size_t rb = (size_t)((len * bits + 7) / 8);
	memset(out, 0, (size_t)rows * rb);
	unsigned mask = (1u << bits) - 1;
	for (int64_t r = 0; r < rows; r++) {
		uint8_t *row = out + (size_t)r * rb;
		for (int64_t j = 0; j < len; j++) {
			unsigned c = codes[r * len + j] & mask;
			int64_t t = j * bits;
			/* spread over at most two bytes (bits <= 8) */
			row[t / 8] |= (uint8_t)(c << (t % 8));
			if (t % 8 + bits > 8)
				row[t / 8 + 1] |= (uint8_t)(c >> (8 - t % 8));
		}
	}
}

void pass_bitunpack(const uint8_t *packed, const ir_shape *s, int bits, uint8_t *codes)
{
	int64_t rows, len;
	rows_of(s, &rows, &len);
	size_t rb = (size_t)((len * bits + 7) / 8);
	unsigned mask = (1u << bits) - 1;
	for (int64_t r = 0; r < rows; r++) {
		const uint8_t *row = packed + (size_t)r * rb;
		for (int64_t j = 0; j < len; j++) {
			int64_t t = j * bits;
			unsigned v = row[t / 8] >> (t % 8);
			if (t % 8 + bits > 8)
				v |= (unsigned)row[t / 8 + 1] << (8 - t % 8);
			codes[r * len + j] = (uint8_t)(v & mask);
		}
	}
}

int pass_bitpack_weights(ir_graph *g, const pass_options *o, diag_sink *d)
{
	(void)o;
	for (int i = 0; i < g->nvalues; i++) {
		ir_value *v = g->values[i];
		ir_quant *q = v->quant;
		if (!q || !q->codes || q->packed || !ir_shape_known(&v->shape))
			continue;
		size_t n = pass_bitpack_size(&v->shape, q->bits);
		q->packed = ir_arena_alloc(g->arena, n ? n : 1);
		if (!q->packed) {
			diag_error(d, NULL, "out of memory packing '%s'", v->name);
			return -1;
		}
		pass_bitpack(q->codes, &v->shape, q->bits, q->packed);
		q->packed_bytes = n;
	}
	return 0;
}

/* ---------------------------------------------------------- the report */

/* The first live node reading v as its weight, for the layer's name. */
static const ir_node *consumer(const ir_graph *g, const ir_value *v)
{
	for (int i = 0; i < g->nnodes; i++) {
		const ir_node *n = g->nodes[i];
		if (!n->dead && n->nin > 1 && n->in[1] == v)
			return n;
	}
	return NULL;
}

/* Bytes of q's parameters as the native backend stores them
 * (backends/llvm/l_qweight.c): codebook levels f32; scales and zero points
 * as pass_quant_scales_ecode / _f16 / pass_quant_zp_packable say. */
static size_t param_bytes(const ir_quant *q)
{
	size_t c = (size_t)q->nchan;
	if (q->levels)
		return (c << q->bits) * sizeof(float);
	size_t n = pass_quant_scales_ecode(q, PASS_E8_MB, NULL)    ? c
	           : pass_quant_scales_ecode(q, PASS_E12_MB, NULL) ? (c * 12 + 7) / 8
	           : c * (pass_quant_scales_f16(q) ? 2 : sizeof(float));
	if (q->zero_point)
		n += pass_quant_zp_packable(q) ? (c * (size_t)q->bits + 7) / 8 : c * sizeof(int32_t);
	return n;
}

static size_t packed_of(const ir_value *v)
{
	return v->quant->packed ? v->quant->packed_bytes : pass_bitpack_size(&v->shape, v->quant->bits);
}

/* The bits of an integer-path weight (i8/u8 elements, no codes) as the
 * backends pack it at the least: per channel the span of its values
 * (max - min + 1 levels; a 2-bit layer's 4, a ternary one's 3), one bit
 * where a channel has two values or fewer (binary); the most over its
 * channels.  8 for other dtypes. */
static int int_weight_bits(const ir_value *v)
{
	if ((v->dt != IR_DT_I8 && v->dt != IR_DT_U8) || !v->data)
		return 8 * (int)ir_dtype_size(v->dt);
	const ir_quant *q = v->quant;
	const uint8_t *w = v->data;
	int64_t n = ir_shape_numel(&v->shape), inner = 1;
	int64_t nchan = q && q->axis >= 0 && q->axis < v->shape.rank ? v->shape.d[q->axis] : 1;
	for (int a = q && nchan > 1 ? q->axis + 1 : v->shape.rank; a < v->shape.rank; a++)
		inner *= v->shape.d[a];
	/* per channel: the least and greatest value, and whether a value lies
	 * strictly between them (three values or more) */
	int(*mm)[3] = malloc((size_t)(nchan > 0 ? nchan : 1) * sizeof *mm);
	if (!mm)
		return 8; /* (out of memory: what i8 holds) */
	for (int64_t c = 0; c < nchan; c++)
		mm[c][0] = INT32_MAX, mm[c][1] = INT32_MIN, mm[c][2] = 0;
	for (int64_t i = 0; i < n; i++) {
		int64_t c = nchan > 1 ? (i / inner) % nchan : 0;
		int x = v->dt == IR_DT_I8 ? (int8_t)w[i] : w[i];
		mm[c][0] = x < mm[c][0] ? x : mm[c][0];
		mm[c][1] = x > mm[c][1] ? x : mm[c][1];
	}
	for (int64_t i = 0; i < n; i++) {
		int64_t c = nchan > 1 ? (i / inner) % nchan : 0;
		int x = v->dt == IR_DT_I8 ? (int8_t)w[i] : w[i];
		mm[c][2] |= x > mm[c][0] && x < mm[c][1];
	}
	int bits = 1;
	for (int64_t c = 0; c < nchan; c++) {
		int b = 1;
		while (mm[c][2] && (1 << b) < mm[c][1] - mm[c][0] + 1)
			b++;
		bits = b > bits ? b : bits;
	}
	free(mm);
	return bits;
}

typedef struct size_totals {
	size_t packed, qparams, fbytes, fp32, fp32w;
	int64_t fcount, qcount;
} size_totals;

/* What the size report counts, over every constant of g. */
static void size_totals_of(const ir_graph *g, size_totals *t)
{
	size_t packed = 0, qparams = 0, fbytes = 0, fp32 = 0, fp32w = 0;
	int64_t fcount = 0, qcount = 0;
	for (int i = 0; i < g->nvalues; i++) {
		const ir_value *v = g->values[i];
		if (v->kind != IR_VAL_CONST || !ir_shape_known(&v->shape))
			continue;
		int64_t n = ir_shape_numel(&v->shape);
		const ir_node *u = consumer(g, v);
		if (!u && v->dt == IR_DT_I32) /* a bias reads as operand 2 */
			for (int j = 0; j < g->nnodes && !u; j++)
				if (!g->nodes[j]->dead && g->nodes[j]->nin > 2 && g->nodes[j]->in[2] == v)
					u = g->nodes[j];
		bool intop = u && u->nin > 0 && u->in[0] && ir_dtype_is_qint(u->in[0]->dt) &&
		             (u->op == IR_OP_CONV || u->op == IR_OP_MATMUL);
		if (intop && v->quant && !v->quant->codes && ir_dtype_is_qint(v->dt)) {
			/* an integer-path weight: one integer per element as the
			 * backend stores it, and per channel the requantization
			 * multiplier and shift (plus zero points when it has any) */
			size_t c = (size_t)v->quant->nchan;
			bool zps = false;
			for (size_t k = 0; v->quant->zero_point && k < c; k++)
				zps |= v->quant->zero_point[k] != 0;
			packed += pass_bitpack_size(&v->shape, int_weight_bits(v));
			qparams += c * 8 + (zps ? c * 4 : 0);
			fp32 += (size_t)n * 4;
			fp32w += (size_t)n * 4;
			qcount += n;
			continue;
		}
		if (intop && v->dt == IR_DT_I32) { /* its i32 bias */
			fp32 += (size_t)n * 4;
			fbytes += (size_t)n * 4;
			fcount += n;
			continue;
		}
		if (v->dt != IR_DT_F32)
			continue;
		fp32 += (size_t)n * 4;
		if (v->quant) {
			packed += packed_of(v);
			qparams += param_bytes(v->quant);
			fp32w += (size_t)n * 4;
			qcount += n;
		} else {
			fbytes += pass_bias_bytes(g, v);
			fcount += n;
		}
	}
	*t = (size_totals){packed, qparams, fbytes, fp32, fp32w, fcount, qcount};
}

size_t pass_quant_total_bytes(const ir_graph *g, size_t *fp32_bytes)
{
	size_totals t;
	size_totals_of(g, &t);
	if (fp32_bytes)
		*fp32_bytes = t.fp32;
	return t.packed + t.qparams + t.fbytes;
}

size_t pass_quant_packed_bytes(const ir_graph *g)
{
	size_totals t;
	size_totals_of(g, &t);
	return t.packed;
}

size_t pass_quant_weight_bytes(const ir_value *v)
{
	if (!v->quant)
		return (size_t)ir_shape_numel(&v->shape) * ir_dtype_size(v->dt);
	if (!v->quant->codes)
		return (size_t)ir_shape_numel(&v->shape) * ir_dtype_size(v->dt) + param_bytes(v->quant);
	return packed_of(v) + param_bytes(v->quant);
}

void pass_quant_report(const ir_graph *g, const pass_object_size *obj, FILE *f, bool json)
{
	size_totals st;
	size_totals_of(g, &st);
	size_t packed = st.packed, qparams = st.qparams, fbytes = st.fbytes, fp32 = st.fp32,
	       fp32w = st.fp32w;
	int64_t fcount = st.fcount, qcount = st.qcount;
	size_t total = packed + qparams + fbytes;
	double red = total ? (double)fp32 / (double)total : 0;
	double redw = packed ? (double)fp32w / (double)packed : 0;
	const char *model = g->src_file ? g->src_file : g->name ? g->name : "";
	if (json) {
		fputs("{\n  \"model\": ", f);
		diag_json_str(f, model);
		fputs(",\n  \"layers\": [", f);
	} else {
		fprintf(f, "size report: %s\n", model);
		fprintf(f, "%-28s %-28s %8s %-9s %4s %-11s %9s %6s\n", "layer", "weight", "params",
		        "scheme", "bits", "granularity", "packed B", "share");
	}
	int k = 0;
	for (int i = 0; i < g->nvalues; i++) {
		const ir_value *v = g->values[i];
		if (v->kind != IR_VAL_CONST || !v->quant || !ir_shape_known(&v->shape))
			continue;
		const ir_node *n = consumer(g, v);
		const char *lname = n && n->name && *n->name ? n->name : "-";
		const ir_quant *q = v->quant;
		int64_t cnt = ir_shape_numel(&v->shape);
		if (!q->codes && !(v->dt == IR_DT_F32 || ir_dtype_is_qint(v->dt)))
			continue;
		int bits = q->codes ? q->bits : int_weight_bits(v);
		size_t pb = q->codes ? packed_of(v) : pass_bitpack_size(&v->shape, bits);
		double share = packed ? 100.0 * (double)pb / (double)packed : 0;
		const char *gran = q->axis < 0 ? "per-tensor" : "per-channel";
		if (json) {
			fputs(k ? ",\n    {" : "\n    {", f);
			fputs("\"layer\": ", f);
			diag_json_str(f, lname);
			fputs(", \"weight\": ", f);
			diag_json_str(f, v->name);
			fprintf(f,
			        ", \"params\": %lld, \"scheme\": \"%s\", \"bits\": %d, \"granularity\": "
			        "\"%s\", \"channels\": %d, \"packed_bytes\": %zu, \"qparam_bytes\": %zu, "
			        "\"share\": %.4f}",
			        (long long)cnt, pass_qscheme_name(q->scheme), bits, gran, q->nchan, pb,
			        param_bytes(q), share / 100.0);
		} else {
			fprintf(f, "%-28s %-28s %8lld %-9s %4d %-11s %9zu %5.1f%%\n", lname, v->name,
			        (long long)cnt, pass_qscheme_name(q->scheme), bits, gran, pb, share);
		}
		k++;
	}
	if (json) {
		fprintf(f,
		        "%s],\n  \"totals\": {\"quantized_params\": %lld, \"packed_weight_bytes\": %zu, "
		        "\"qparam_bytes\": %zu, \"float_params\": %lld, \"float_param_bytes\": %zu, "
		        "\"total_bytes\": %zu, \"fp32_bytes\": %zu, \"reduction\": %.3f, "
		        "\"reduction_weights_only\": %.3f},\n  \"object\": ",
		        k ? "\n  " : "", (long long)qcount, packed, qparams, (long long)fcount, fbytes,
		        total, fp32, red, redw);
		if (obj)
			fprintf(f, "{\"text\": %zu, \"rodata\": %zu, \"data\": %zu, \"bss\": %zu}\n}\n",
			        obj->text, obj->rodata, obj->data, obj->bss);
		else
			fputs("null\n}\n", f);
		return;
	}
	fprintf(f, "totals:\n");
	fprintf(f, "  quantized parameters     %10lld\n", (long long)qcount);
	fprintf(f, "  packed weights           %10zu bytes (lower bound)\n", packed);
	fprintf(f, "  quantization parameters  %10zu bytes (scales, zero points, levels)\n", qparams);
	fprintf(f, "  float parameters         %10zu bytes (%lld values: biases, unquantized)\n",
	        fbytes, (long long)fcount);
	fprintf(f, "  total                    %10zu bytes\n", total);
	fprintf(f, "  FP32 size                %10zu bytes\n", fp32);
	fprintf(f, "  reduction                %10.2fx (FP32 size / total)\n", red);
	fprintf(f, "  reduction, weights only  %10.2fx (FP32 weights / packed weights)\n", redw);
	if (obj)
		fprintf(f, "object size: .text %zu, .rodata %zu, .data %zu, .bss %zu bytes\n", obj->text,
		        obj->rodata, obj->data, obj->bss);
	else
		fprintf(f, "object size: n/a (native backend not available)\n");
}
