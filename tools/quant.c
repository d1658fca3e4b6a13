/* quant.c: the driver's side of quantization: load --calib-data for the
 * quantize pass's bias correction, and write the size reports.  The
 * quantization itself lives in passes/ (quant.h). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "data.h"
#include "driver.h"
#include "frontend.h"

static qgt_dataset calib_ds; /* what drv_quant_setup loaded */
static ir_tensor calib_npy;   /* or this, from --calib-data FILE.npy */
static ir_shape calib_shape;  /* a sample's shape in calib_npy */

int drv_quant_setup(drv_options *o, diag_sink *d)
{
	if (!o->calib_data)
		return DRV_OK;
	if (!o->quantize)
		diag_warn(d, NULL, "--calib-data without -b, --bits or --scheme: nothing to calibrate");
	size_t len = strlen(o->calib_data);
	if (len > 4 && strcmp(o->calib_data + len - 4, ".npy") == 0) {
		/* samples [N, ...] as the model takes them: f32, normalised */
		if (fe_npy_load(o->calib_data, &calib_npy, d))
			return DRV_ERROR;
		if (calib_npy.dt != IR_DT_F32 || calib_npy.shape.rank < 2 || calib_npy.shape.d[0] < 1) {
			char b[96];
			diag_error(d, o->calib_data, "calibration samples must be f32 [N, ...] with N >= 1, "
			           "as the model's input takes them; this file holds %s%s",
			           ir_dtype_name(calib_npy.dt), ir_shape_str(&calib_npy.shape, b, sizeof b));
			ir_tensor_free(&calib_npy);
			return DRV_ERROR;
		}
		int64_t per = ir_shape_numel(&calib_npy.shape) / calib_npy.shape.d[0];
		for (int64_t i = 0; i < ir_shape_numel(&calib_npy.shape); i++)
			if (!isfinite(((const float *)calib_npy.data)[i])) {
				diag_error(d, o->calib_data, "calibration sample %lld, element %lld, is not finite (%g)",
				           (long long)(i / per), (long long)(i % per), ((const float *)calib_npy.data)[i]);
				ir_tensor_free(&calib_npy);
				return DRV_ERROR;
			}
		o->quant.calib_x = calib_npy.data;
		o->quant.calib_src = o->calib_data;
		o->quant.calib_n = calib_npy.shape.d[0];
		o->quant.calib_numel = per;
		calib_shape = ir_shape_make(calib_npy.shape.rank - 1, calib_npy.shape.d + 1);
		o->quant.calib_shape = &calib_shape;
		return DRV_OK;
	}
	qgt_norm nm;
	qgt_norm_default(&nm);
	if (o->scale > 0)
		nm.scale = o->scale;
	if (o->mean && (nm.nmean = qgt_norm_parse_list(o->mean, nm.mean, 16)) < 0) {
		diag_error(d, NULL, "--mean needs numbers separated by commas, not '%s'", o->mean);
		return DRV_USAGE;
	}
	if (o->std && (nm.nstd = qgt_norm_parse_list(o->std, nm.std, 16)) < 0) {
		diag_error(d, NULL, "--std needs numbers separated by commas, not '%s'", o->std);
		return DRV_USAGE;
	}
	/* Calibrate on training samples: the test split is for evaluation. */
	if (qgt_dataset_load(&calib_ds, o->calib_data, QGT_SPLIT_TRAIN, &nm, d))
		return DRV_ERROR;
	o->quant.calib_x = calib_ds.x;
	o->quant.calib_src = o->calib_data;
	o->quant.calib_n = calib_ds.n;
	o->quant.calib_numel = calib_ds.sample_numel;
	o->quant.calib_shape = &calib_ds.sample;
	return DRV_OK;
}

void drv_quant_fini(drv_options *o)
{
	qgt_dataset_free(&calib_ds);
	ir_tensor_free(&calib_npy);
	o->quant.calib_x = NULL;
	o->quant.calib_shape = NULL;
}

/* ------------------------------------------------ the object's size */

/* Compile g for o's target into memory and measure the object (its
 * section table, as the backend read it). */
static int object_size(const drv_options *o, ir_graph *g, pass_object_size *sz, diag_sink *d)
{
	be_target t;
	if (be_target_resolve(o->target ? o->target : "host", o->mcpu, o->mattr, o->float_abi, &t, d))
		return -1;
	t.opt = o->opt_level;
	t.code = o->code_policy;
	be_options bo = {.emit = BE_EMIT_OBJ, .name = "qgtc_size", .sizes = sz};
	void *buf;
	size_t len;
	if (be_compile_buffer(g, &t, &bo, &buf, &len, d))
		return -1;
	free(buf);
	return 0;
}

/* Does this command write an object file (compile, -o FILE.o or default)? */
static bool emits_object(const drv_options *o)
{
	if (o->cmd != DRV_CMD_COMPILE)
		return false;
	if (o->emit != DRV_EMIT_DEFAULT)
		return o->emit == DRV_EMIT_OBJ && o->out_file && strcmp(o->out_file, "-") != 0;
	if (!o->out_file || strcmp(o->out_file, "-") == 0)
		return false;
	static const char *const other[] = {".qir", ".ll", ".bc", ".s", ".h"};
	size_t n = strlen(o->out_file);
	for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
		size_t e = strlen(other[i]);
		if (n >= e && strcmp(o->out_file + n - e, other[i]) == 0)
			return false;
	}
	return true;
}

/* The object for g and, with every ir_quant detached (the float weights
 * baked in, as without -b), the FP32 object of the same graph. */
static int measure(const drv_options *o, ir_graph *g, pass_object_size *q, pass_object_size *fp,
                   diag_sink *d)
{
	if (object_size(o, g, q, d))
		return -1;
	/* An integer-path graph has no float twin to strip back to: the FP32
	 * figure is the model itself through the float pipeline. */
	bool integer = false;
	for (int i = 0; i < g->nvalues; i++)
		integer |= g->values[i]->quant && !g->values[i]->quant->codes;
	if (integer) {
		ir_graph *f32 = drv_load_model(o->model, d);
		if (!f32)
			return -1;
		if (g->ninputs && g->inputs[0]->shape.rank > 0 && g->inputs[0]->shape.d[0] > 0)
			ir_graph_bind_batch(f32, g->inputs[0]->shape.d[0]);
		pass_options po = {0};
		int rc = pass_run_pipeline(f32, PASS_DEFAULT_PIPELINE, &po, d) || object_size(o, f32, fp, d);
		ir_graph_destroy(f32);
		return rc ? -1 : 0;
	}
	ir_quant **saved = calloc((size_t)g->nvalues + 1, sizeof *saved);
	if (!saved) {
		diag_error(d, NULL, "out of memory");
		return -1;
	}
	for (int i = 0; i < g->nvalues; i++) {
		saved[i] = g->values[i]->quant;
		g->values[i]->quant = NULL;
	}
	int rc = object_size(o, g, fp, d);
	for (int i = 0; i < g->nvalues; i++)
		g->values[i]->quant = saved[i];
	free(saved);
	return rc;
}

/* --report layers: every live node with its operand and result dtypes and
 * how it computes: in integers, in float, or as a boundary of the
 * integer path; the count of each closes the table, so float left between
 * integer layers is never silent. */
static void report_layers(const ir_graph *g, FILE *f)
{
	int nint = 0, nflt = 0, nbnd = 0;
	fprintf(f, "%-8s %-16s %-34s %s\n", "computes", "op", "operands -> result", "node");
	for (int i = 0; i < g->nnodes; i++) {
		const ir_node *n = g->nodes[i];
		if (n->dead)
			continue;
		char io[160];
		size_t k = 0;
		io[0] = 0;
		bool anyint = false, anyflt = false;
		for (int j = 0; j < n->nin && k < sizeof io - 40; j++) {
			const ir_value *v = n->in[j];
			if (!v || (j > 0 && v->kind == IR_VAL_CONST && !v->quant &&
			           (n->op == IR_OP_QUANTIZE || n->op == IR_OP_DEQUANTIZE)))
				continue; /* scale and zero point */
			k += (size_t)snprintf(io + k, sizeof io - k, "%s%s", k ? "," : "", ir_dtype_name(v->dt));
			anyint |= ir_dtype_is_qint(v->dt);
			anyflt |= v->dt == IR_DT_F32;
		}
		const ir_value *y = n->out[0];
		snprintf(io + k, sizeof io - k, " -> %s", y ? ir_dtype_name(y->dt) : "_");
		const char *how;
		if ((n->op == IR_OP_QUANTIZE && n->in[0]->dt == IR_DT_F32) || n->op == IR_OP_DEQUANTIZE) {
			how = "boundary";
			nbnd++;
		} else if (anyint || (y && ir_dtype_is_qint(y->dt))) {
			how = "integer";
			nint++;
		} else if (anyflt || (y && y->dt == IR_DT_F32)) {
			how = "float";
			nflt++;
		} else {
			how = "index";
		}
		fprintf(f, "%-8s %-16s %-34s %s\n", how, ir_op_name(n->op), io,
		        n->name && *n->name ? n->name : (y ? y->name : ""));
	}
	fprintf(f, "layers: %d integer, %d float, %d quantize/dequantize\n", nint, nflt, nbnd);
}

int drv_quant_report(const drv_options *o, const ir_graph *g, FILE *f, diag_sink *d)
{
	if (o->report_layers)
		report_layers(g, f);
	/* With an object to emit, the report measures the real thing: the
	 * object is compiled (and once more without the ir_quants, for the
	 * FP32 figure) into memory and their section tables read. */
	pass_object_size qs, fs;
	const pass_object_size *obj = NULL;
	if ((o->report_size || o->report_json) && emits_object(o)) {
		if (measure(o, (ir_graph *)g, &qs, &fs, d))
			return -1;
		obj = &qs;
	}
	if (o->report_size) {
		pass_quant_report(g, obj, f, false);
		if (obj) {
			size_t flash = qs.text + qs.rodata, flash32 = fs.text + fs.rodata, pk = pass_quant_packed_bytes(g);
			fprintf(f, "object flash: %zu bytes (.text %zu + .rodata* %zu)\n", flash, qs.text,
			        qs.rodata);
			fprintf(f, "FP32 object flash: %zu bytes (.text %zu + .rodata* %zu)\n", flash32,
			        fs.text, fs.rodata);
			fprintf(f, "object reduction: %.2fx (FP32 object flash / object flash)\n",
			        flash ? (double)flash32 / (double)flash : 0.0);
			if (pk)
				fprintf(f, "object vs packed lower bound: %.2fx (object flash / packed weights)\n",
				        (double)flash / (double)pk);
		}
	}
	if (!o->report_json)
		return 0;
	FILE *j = strcmp(o->report_json, "-") == 0 ? stdout : fopen(o->report_json, "w");
	if (!j) {
		diag_error(d, NULL, "cannot open '%s' for writing: %s", o->report_json, strerror(errno));
		return -1;
	}
	pass_quant_report(g, obj, j, true);
	int err = ferror(j);
	if (j != stdout && fclose(j))
		err = 1;
	if (err) {
		diag_error(d, NULL, "cannot write '%s'", o->report_json);
		return -1;
	}
	return 0;
}
