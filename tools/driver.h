/* driver.h: the qgtc command-line driver.  Flags are parsed into one
 * drv_options; each command reads that struct, builds the pipeline and
 * reports through one diagnostic sink.  No compiler logic lives here. */
#ifndef QGTC_DRIVER_H
#define QGTC_DRIVER_H

#include "backend.h"
#include "ir.h"
#include "pass.h"
#include "qgt.h"
#include "quant.h"

#define QGTC_VERSION "0.1.0"

/* Exit statuses, documented in --help. */
enum {
	DRV_OK = 0,     /* success */
	DRV_ERROR = 1,  /* the model, an input or an output could not be handled */
	DRV_USAGE = 2,  /* bad command line */
};

typedef enum { DRV_CMD_COMPILE, DRV_CMD_RUN, DRV_CMD_HELP, DRV_CMD_OPT, DRV_CMD_EVAL,
               DRV_CMD_TRAIN, DRV_CMD_VALIDATE } drv_command;

typedef enum {
	DRV_EMIT_DEFAULT, /* not given: derived from -o's extension, else obj */
	DRV_EMIT_IR,
	DRV_EMIT_OBJ,
	DRV_EMIT_ASM,
	DRV_EMIT_LLVM,
	DRV_EMIT_HEADER,
} drv_emit;

typedef enum { DRV_ENGINE_INTERP, DRV_ENGINE_NATIVE } drv_engine;

typedef struct drv_options {
	drv_command cmd;
	const char *model;          /* MODEL operand */
	const char **inputs;        /* run: INPUT operands, in graph-input order */
	int ninputs;
	const char *help_topic;     /* help: command asked about, or NULL */

	drv_emit emit;
	const char *out_file;       /* -o; NULL: stdout */
	const char *pipeline;       /* --passes, or PASS_QUANT/INFER/DEFAULT_PIPELINE by command */
	bool print_after_all;       /* --print-ir-after-all */
	const char *print_after;    /* --print-ir-after; NULL if not given */
	long ir_max_inline;         /* --ir-weights: 8 (elided) or -1 (full) */
	bool verify_each;           /* --verify-each */
	int64_t batch;              /* --batch; 0: leave symbolic */
	drv_engine engine;          /* --engine */
	const char *output_dir;     /* --output-dir */
	bool quiet;                 /* -q: drop warnings */
	bool verbose;               /* -v */

	const char *target;         /* --target; NULL: host */
	const char *mcpu, *mattr;   /* -mcpu=, -mattr= */
	const char *float_abi;      /* -mfloat-abi= */
	int opt_level;              /* -O0..3 */
	be_code code_policy;        /* -O0..3: speed, -Os/-Oz: size, none: auto */
	const char *sym_name;       /* --name; NULL: from -o's stem */
	const char *header_file;    /* --header; NULL: next to -o */
	const char *depfile;        /* -MF; with -MD */
	bool depend;                /* -MD: write a make dependency file */
	bool profile;               /* --profile: per-node cycle counters in the object */
	bool report_memory;         /* --report memory */
	int64_t ram_budget;         /* --ram-budget BYTES; 0: none */
	char pipeline_buf[512];     /* the pipeline with patch appended */
	bool report_layers;         /* --report layers */

	const char *data_dir;       /* eval: --data */
	float scale;                /* eval: --scale */
	const char *mean, *std;     /* eval: --mean, --std lists; NULL: defaults */
	int64_t limit;              /* eval: --limit; 0: all */

	/* Quantization (tools/quant.c): -b, --bits, --scheme select
	 * PASS_QUANT_PIPELINE unless --passes is given. */
	bool quantize;              /* -b, --bits or --scheme given */
	bool pipeline_given;        /* --passes given */
	pass_quant_options quant;   /* what the passes read (pass_options.quant) */
	const char *calib_data;     /* --calib-data DIR; loaded by drv_quant_setup */
	bool report_size;           /* --report size */
	const char *report_json;    /* --report-json FILE */
	const char *report_html;    /* --report-html FILE (eval) */
	const char *report_points;  /* --report-points FILE: more runs for it */

	/* qgtc train (tools/train.c); 0 means the trainer's default. */
	int train_epochs;           /* --epochs */
	int64_t train_batch;        /* --batch-size */
	float train_lr;             /* --lr */
	int train_opt;              /* --optimizer: qgt_opt_kind */
	float train_momentum;       /* --momentum; < 0: default */
	float train_wd;             /* --weight-decay */
	int train_sched;            /* --schedule: qgt_sched_kind */
	int64_t train_warmup;       /* --warmup steps */
	uint64_t train_seed;        /* --seed */
	float train_val_split;      /* --val-split */
	int train_crop;             /* --crop PAD */
	bool train_flip;            /* --flip */
	int train_threads;          /* --threads */
	int64_t train_max_steps;    /* --max-steps */
	const char *save_onnx;      /* --save-onnx FILE */

	/* QGT (tools/qgt.c): the qgt pass fine-tunes before quantizing. */
	bool qgt;                   /* --qgt: the pipeline QGT_PIPELINE */
	qgt_pass_options qgtp;      /* its settings from --method, --lambda, --lambda-schedule,
	                             * --qgt-freeze, --grid-refresh, --act-ema,
	                             * --no-bn-reintro, --dump-histograms, --scheme
	                             * sq, --calib; drv_qgt_options adds the rest */
	bool method_given;          /* --method given */
	const char *qgt_sweep;      /* --lambda-sweep LO:HI:N */
	bool report_sensitivity;    /* --report sensitivity */
	bool scheme_given;          /* --scheme given (else -a picks symmetric) */
	bool eval_silent;           /* eval: do not print the top-1 line (sweeps) */
} drv_options;

/* The diagnostic sink of the driver: prints to stderr, or with -q
 * buffers and drops warnings (and their notes) when flushed. */
void drv_diag_init(diag_sink *d, const drv_options *o);
void drv_diag_flush(diag_sink *d);

/* Commands.  Each returns a DRV_* exit status. */
int drv_compile(const drv_options *o, diag_sink *d);
int drv_run(const drv_options *o, diag_sink *d);
int drv_eval(const drv_options *o, diag_sink *d);
/* One evaluation: top-1 (0..1) into *acc; DRV_* status (eval.c). */
int drv_eval_acc(const drv_options *o, double *acc, diag_sink *d);
int drv_train(const drv_options *o, diag_sink *d);
/* validate.c: compile, run on the target, compare with the interpreter. */
int drv_validate(const drv_options *o, diag_sink *d);

/* Shared by the commands (compile.c). */
ir_graph *drv_load_model(const char *path, diag_sink *d);
ir_graph *drv_load_qir(const char *path, diag_sink *d);
void drv_pass_options(const drv_options *o, pass_options *po);
/* Load o->model and run o's pipeline on it, a symbolic batch bound to
 * --batch or else `batch` (0: left open), then verify: *out, or NULL and
 * the DRV_* status. */
int drv_build(const drv_options *o, int64_t batch, ir_graph **out, diag_sink *d);
/* Report "cannot open 'PATH': REASON" unless path names a readable file. */
int drv_check_readable(const char *path, diag_sink *d);

/* Quantization (quant.c).  After parsing: load --calib-data into
 * o->quant; DRV_* status.  After the pipeline: --report size (to `f`) and
 * --report-json; 0 or -1.  drv_quant_fini frees what setup loaded. */
int drv_quant_setup(drv_options *o, diag_sink *d);
/* The train flags over the trainer settings in c (train.c): c holds the
 * defaults of whoever trains (qgt_train_config_default, or the qgt
 * pass's); progress goes to stdout unless -q. */
void drv_train_config(const drv_options *o, qgt_train_config *c);
/* Input normalisation from --scale/--mean/--std; DRV_* status. */
int drv_norm(const drv_options *o, qgt_norm *nm, diag_sink *d);

/* QGT (qgt.c).  The qgt pass's settings for this command (flags only: the
 * pass decides the rest); DRV_* status. */
int drv_qgt_options(const drv_options *o, qgt_pass_options *qp, diag_sink *d);
/* Is `pass` one of the pipeline's? */
bool drv_pipeline_has(const char *pipeline, const char *pass);
/* --lambda-sweep and --report sensitivity (eval). */
int drv_qgt_sweep(const drv_options *o, diag_sink *d);
int drv_qgt_sensitivity(const drv_options *o, diag_sink *d);

/* One row of the per-layer sensitivity: top-1 with only this kernel
 * quantized to `bits`. */
typedef struct drv_sens_row {
	char name[128];
	int64_t params, macs;
	size_t bytes;               /* at `bits`, as the size report counts them */
	int bits;
	char chosen[24];            /* the run's own width when it differs per layer
	                             * (--flash-budget): "1 binary", "4", "fp32"; else "" */
	double acc;
	bool bottleneck;            /* loses alone >= 1/3 of what all lose alone */
} drv_sens_row;
/* The rows at o's bits, most sensitive first (caller frees *rows), and
 * FP32's top-1; DRV_* status. */
int drv_sens_rows(const drv_options *o, drv_sens_row **rows, int *nrows, double *fp32, diag_sink *d);

/* o as a plain evaluation for reference runs (no fine-tuning, sweep,
 * budget or reports, nothing printed): FP32 when bits is 0 (the default
 * pipeline), else the weights at `bits`, per layer by `rules` (--bits'
 * syntax) when not NULL, on the quantization pipeline unless --passes. */
drv_options drv_plain_eval(const drv_options *o, int bits, const char *rules);
/* eval with its parameter bytes (the size report's total) and, when keep
 * is not NULL, the graph as evaluated (caller destroys); DRV_* status. */
int drv_eval_run(const drv_options *o, double *acc, size_t *bytes, ir_graph **keep, diag_sink *d);

/* --report-html (report.c). */
typedef struct drv_point {
	char label[64];
	const char *method;         /* fp32, ptq, qgt, ste, budget, sq, codebook */
	double bytes, acc;
} drv_point;
typedef struct drv_report {
	const char *model, *summary;
	const drv_point *pts;
	int npts;
	const drv_sens_row *rows;
	int nrows;
	double sens_fp32;
	const double *sweep_lambda, *sweep_acc;
	int nsweep;
	const ir_graph *before, *after;   /* weight histograms; may be NULL */
} drv_report;
int drv_report_html(const drv_report *r, const char *path, diag_sink *d);
/* The page for an eval run, or a lambda sweep (lambda/acc: n runs). */
int drv_eval_report(const drv_options *o, const double *lambda, const double *acc, int n, diag_sink *d);
int drv_quant_report(const drv_options *o, const ir_graph *g, FILE *f, diag_sink *d);
void drv_quant_fini(drv_options *o);

#endif
