/* quant.c: the driver's side of quantization: load --calib-data for the
 * quantize pass's bias correction, and write the size reports.  The
 * quantization itself lives in passes/ (quant.h). */
#include <errno.h>
#include <string.h>

#include "data.h"
#include "driver.h"

static qgt_dataset calib_ds; /* what drv_quant_setup loaded */

int drv_quant_setup(drv_options *o, diag_sink *d)
{
	if (!o->calib_data)
		return DRV_OK;
	if (!o->quantize)
		diag_warn(d, NULL, "--calib-data without -b, --bits or --scheme: nothing to calibrate");
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
	o->quant.calib_n = calib_ds.n;
	o->quant.calib_numel = calib_ds.sample_numel;
	return DRV_OK;
}

void drv_quant_fini(drv_options *o)
{
	qgt_dataset_free(&calib_ds);
	o->quant.calib_x = NULL;
}

int drv_quant_report(const drv_options *o, const ir_graph *g, FILE *f, diag_sink *d)
{
	/* TODO(backend): pass the emitted object's section sizes instead of
	 * NULL once the native backend lands. */
	const pass_object_size *obj = NULL;
	if (o->report_size)
		pass_quant_report(g, obj, f, false);
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
