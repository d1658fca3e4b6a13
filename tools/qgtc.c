/* qgtc.c: the driver's entry point: the option table, the parser built on
 * it, --help rendered from it, and dispatch to the commands.  The one
 * table drives both parsing and help, so the two cannot disagree. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "driver.h"
#include "qgt.h"

typedef enum {
	OPT_HELP,
	OPT_VERSION,
	OPT_LIST_PASSES,
	OPT_QUIET,
	OPT_VERBOSE,
	OPT_EMIT,
	OPT_OUT,
	OPT_BATCH,
	OPT_ENGINE,
	OPT_OUTPUT_DIR,
	OPT_PASSES,
	OPT_PRINT_ALL,
	OPT_PRINT_AFTER,
	OPT_IR_WEIGHTS,
	OPT_VERIFY_EACH,
	OPT_DATA,
	OPT_SCALE,
	OPT_MEAN,
	OPT_STD,
	OPT_LIMIT,
	OPT_QBITS,
	OPT_BITS_LIST,
	OPT_SCHEME,
	OPT_GRANULARITY,
	OPT_CALIB,
	OPT_SCALE_DTYPE,
	OPT_BIAS_DTYPE,
	OPT_CALIB_DATA,
	OPT_ACT_BITS,
	OPT_ACT_CALIB,
	OPT_IO,
	OPT_REPORT,
	OPT_REPORT_JSON,
	OPT_REPORT_HTML,
	OPT_REPORT_POINTS,
	OPT_TARGET,
	OPT_MCPU,
	OPT_MATTR,
	OPT_FLOAT_ABI,
	OPT_OPT,
	OPT_NAME,
	OPT_HEADER,
	OPT_PRINT_TARGETS,
	OPT_MD,
	OPT_PROFILE,
	OPT_MF,
	OPT_EPOCHS,
	OPT_BATCH_SIZE,
	OPT_LR,
	OPT_OPTIMIZER,
	OPT_MOMENTUM,
	OPT_WD,
	OPT_SCHEDULE,
	OPT_WARMUP,
	OPT_SEED,
	OPT_VAL_SPLIT,
	OPT_CROP,
	OPT_FLIP,
	OPT_THREADS,
	OPT_MAX_STEPS,
	OPT_SAVE_ONNX,
	OPT_QGT,
	OPT_LAMBDA,
	OPT_LAMBDA_SCHED,
	OPT_LAMBDA_SWEEP,
	OPT_QGT_FREEZE,
	OPT_GRID_REFRESH,
	OPT_DUMP_HIST,
	OPT_NO_BN_REINTRO,
	OPT_BN_REESTIMATE,
	OPT_ACT_EMA,
	OPT_METHOD,
	OPT_DISTILL,
	OPT_LEARN_SCALES,
	OPT_FLASH_BUDGET,
	OPT_RAM_BUDGET,
} opt_id;

/* Which commands an option applies to, and where --help lists it. */
typedef enum { GRP_GENERAL, GRP_COMPILE, GRP_TARGET, GRP_RUN, GRP_EVAL, GRP_PIPELINE, GRP_QUANT,
               GRP_TRAIN, GRP_QGT } opt_group;

typedef struct drv_opt {
	opt_id id;
	const char *name;   /* "--emit" or "-o" */
	const char *alias;  /* another spelling ("-h"), or NULL */
	const char *arg;    /* metavariable; NULL: takes no argument */
	opt_group group;
	const char *help;   /* one line */
} drv_opt;

static const drv_opt options[] = {
	{OPT_HELP, "--help", "-h", NULL, GRP_GENERAL, "show this help and exit"},
	{OPT_VERSION, "--version", NULL, NULL, GRP_GENERAL, "print the version and exit"},
	{OPT_LIST_PASSES, "--list-passes", NULL, NULL, GRP_GENERAL,
	 "list the registered passes and exit"},
	{OPT_QUIET, "-q", "--quiet", NULL, GRP_GENERAL, "do not print warnings"},
	{OPT_VERBOSE, "-v", "--verbose", NULL, GRP_GENERAL,
	 "say more (run: print output names and shapes)"},
	{OPT_EMIT, "--emit", NULL, "KIND", GRP_COMPILE,
	 "obj (default), asm, llvm, header or ir; default from -o's extension"},
	{OPT_OUT, "-o", "--output", "FILE", GRP_COMPILE,
	 "write to FILE (default and '-': standard output)"},
	{OPT_BATCH, "--batch", NULL, "N", GRP_COMPILE,
	 "bind the symbolic batch dimension to N (eval: default 100)"},
	{OPT_ENGINE, "--engine", NULL, "ENGINE", GRP_RUN,
	 "interp: the reference interpreter (default); native: JIT through LLVM"},
	{OPT_OUTPUT_DIR, "--output-dir", NULL, "DIR", GRP_RUN,
	 "write output_<k>.npy into DIR (default '.')"},
	{OPT_DATA, "--data", NULL, "DIR", GRP_EVAL,
	 "labelled data: {t10k,train}-{images,labels}-idx*-ubyte[.gz] or test_{x,y}.npy"},
	{OPT_SCALE, "--scale", NULL, "S", GRP_EVAL,
	 "input normalisation x = (pixel * S - mean) / std (default 1/255)"},
	{OPT_MEAN, "--mean", NULL, "M[,M...]", GRP_EVAL, "mean, one value or one per channel (default 0)"},
	{OPT_STD, "--std", NULL, "S[,S...]", GRP_EVAL, "std, one value or one per channel (default 1)"},
	{OPT_LIMIT, "--limit", NULL, "N", GRP_EVAL, "evaluate only the first N test samples"},
	{OPT_PASSES, "--passes", NULL, "LIST", GRP_PIPELINE,
	 "run these passes instead of the default pipeline"},
	{OPT_PRINT_ALL, "--print-ir-after-all", NULL, NULL, GRP_PIPELINE,
	 "print the IR to stderr after every pass"},
	{OPT_PRINT_AFTER, "--print-ir-after", NULL, "PASS[,PASS]", GRP_PIPELINE,
	 "print the IR to stderr after the named passes"},
	{OPT_IR_WEIGHTS, "--ir-weights", NULL, "elided|full", GRP_PIPELINE,
	 "elide constants over 8 elements (default), or not"},
	{OPT_VERIFY_EACH, "--verify-each", NULL, NULL, GRP_PIPELINE,
	 "verify the IR after every pass"},
	{OPT_QBITS, "-b", "--default-bits", "N", GRP_QUANT,
	 "quantize weights to N bits (1..8); selects the quantization pipeline"},
	{OPT_BITS_LIST, "--bits", NULL, "LIST", GRP_QUANT,
	 "per-layer bits by node or weight name or glob: 'conv1=8,fc=4,*dw*=4' (32: float)"},
	{OPT_SCHEME, "--scheme", NULL, "SCHEME", GRP_QUANT,
	 "affine (default), symmetric, pow2, binary, ternary, codebook"},
	{OPT_GRANULARITY, "--granularity", NULL, "G", GRP_QUANT,
	 "per-channel (default) or per-tensor"},
	{OPT_CALIB, "--calib", NULL, "METHOD", GRP_QUANT,
	 "weight range: minmax (default), mse, percentile[:P] (P default 99.9)"},
	{OPT_SCALE_DTYPE, "--scale-dtype", NULL, "e12|e8|f16|f32", GRP_QUANT,
	 "per-channel scales rounded before the codes are chosen: at 2 bits or fewer with float "
	 "activations e12 (default; 12 bits, 2^-9 relative) or e8 (one byte, 2^-5), else fp16; "
	 "f16: fp16 at every width; f32: exact"},
	{OPT_BIAS_DTYPE, "--bias-dtype", NULL, "b12|f16|f32", GRP_QUANT,
	 "biases of quantized layers with float activations, rounded: b12 (default; 12 bits at 2 bits "
	 "or fewer, 2^-8 relative, else fp16), fp16, or f32"},
	{OPT_CALIB_DATA, "--calib-data", NULL, "DIR|FILE.npy", GRP_QUANT,
	 "bias correction and activation ranges on up to 256 training samples from DIR (as --data) "
	 "or from an f32 .npy [N, ...] of N samples, a sample being one item of the model's input "
	 "without its batch dimension (a model of input [B, C, H, W] takes [N, C, H, W])"},
	{OPT_ACT_BITS, "-a", "--act-bits", "N", GRP_QUANT,
	 "integer inference: activations int8 (8) or int16 (16); weights -b (default 8; symmetric "
	 "from 4 bits up unless --scheme)"},
	{OPT_IO, "--io", NULL, "float|int", GRP_QUANT,
	 "with -a: NAME_run takes and returns floats (default; quantized inside) or the integers "
	 "(the header states each one's SCALE and ZERO_POINT)"},
	{OPT_ACT_CALIB, "--act-calib", NULL, "METHOD", GRP_QUANT,
	 "activation ranges: minmax (default), mse, percentile[:P] (P default 99.99)"},
	{OPT_FLASH_BUDGET, "--flash-budget", NULL, "BYTES", GRP_QUANT,
	 "choose each layer's weight bits (1: binary, 2, 3, 4, 8 or float) so the parameters fit BYTES (K, M: "
	 "1024, 1048576), by each layer's sensitivity on --data's training split"},
	{OPT_REPORT, "--report", NULL, "size|memory|layers|sensitivity", GRP_QUANT,
	 "per-layer size report, arena plan, every layer with its dtypes (integer, float, or a "
	 "quantize/dequantize boundary), or (eval) layers ranked by the top-1 lost when only "
	 "that layer is quantized (repeatable)"},
	{OPT_REPORT_JSON, "--report-json", NULL, "FILE", GRP_QUANT, "write the size report as JSON"},
	{OPT_REPORT_POINTS, "--report-points", NULL, "FILE", GRP_EVAL,
	 "with --report-html: the runs to show beside this one (lines 'LABEL<tab>METHOD<tab>BYTES<tab>"
	 "TOP1%'; METHOD fp32, ptq, qgt, ste, budget, sq or codebook) instead of FP32 and PTQ measured "
	 "here"},
	{OPT_REPORT_HTML, "--report-html", NULL, "FILE", GRP_EVAL,
	 "eval: one self-contained page: this run against FP32 and PTQ, the accuracy-vs-bytes plot, "
	 "the lambda sweep (with --lambda-sweep), per-layer sensitivity, weight histograms"},
	{OPT_TARGET, "--target", NULL, "T", GRP_TARGET,
	 "x86_64, aarch64 (Pi 4), armv7em (Cortex-M4/M7), host (default) or an LLVM triple"},
	{OPT_MCPU, "-mcpu", NULL, "CPU", GRP_TARGET,
	 "CPU (defaults: x86-64, cortex-a72, cortex-m4; native: this machine's, for its own architecture)"},
	{OPT_MATTR, "-mattr", NULL, "+F,-G", GRP_TARGET, "CPU features, LLVM spelling"},
	{OPT_FLOAT_ABI, "-mfloat-abi", NULL, "hard|soft", GRP_TARGET,
	 "Cortex-M float ABI (default hard: FPU registers)"},
	{OPT_OPT, "-O", NULL, "0..3|s|z", GRP_TARGET,
	 "optimise for speed (0..3) or size (s, z: shared compact conv/dense kernels for every layer, integer ones included); default 3, with compact kernels for float layers with packed weights on Cortex-M"},
	{OPT_NAME, "--name", NULL, "NAME", GRP_TARGET,
	 "symbol prefix: NAME_run, NAME_ARENA_SIZE (default: -o's stem)"},
	{OPT_HEADER, "--header", NULL, "FILE", GRP_TARGET,
	 "write the C header here (default: next to -o, as STEM.h)"},
	{OPT_PRINT_TARGETS, "--print-targets", NULL, NULL, GRP_GENERAL,
	 "list the targets and exit"},
	{OPT_MD, "-MD", NULL, NULL, GRP_TARGET,
	 "also write a make dependency file (STEM.d, or -MF's): the model and the data files it read"},
	{OPT_MF, "-MF", NULL, "FILE", GRP_TARGET, "name of the -MD dependency file"},
	{OPT_RAM_BUDGET, "--ram-budget", NULL, "BYTES", GRP_TARGET,
	 "fit the arena in BYTES (K, M: 1024, 1048576): the first high-resolution layers run tile by "
	 "tile, recomputing halos, with the fewest extra MACs (--report memory shows the choice)"},
	{OPT_PROFILE, "--profile", NULL, NULL, GRP_TARGET,
	 "instrument the object: NAME_profile[k] sums the cycles (SysTick, rdtsc, CNTVCT) of node k; "
	 "validate prints them per layer"},
	{OPT_EPOCHS, "--epochs", NULL, "N", GRP_TRAIN, "passes over the training set (default 1)"},
	{OPT_BATCH_SIZE, "--batch-size", NULL, "N", GRP_TRAIN, "samples per step (default 128)"},
	{OPT_LR, "--lr", NULL, "X", GRP_TRAIN, "learning rate (default 0.01)"},
	{OPT_OPTIMIZER, "--optimizer", NULL, "sgd|adam|adamw", GRP_TRAIN, "optimizer (default sgd)"},
	{OPT_MOMENTUM, "--momentum", NULL, "X", GRP_TRAIN, "SGD momentum (default 0.9)"},
	{OPT_WD, "--weight-decay", NULL, "X", GRP_TRAIN,
	 "L2 decay (sgd, adam) or decoupled decay (adamw) (default 0)"},
	{OPT_SCHEDULE, "--schedule", NULL, "const|cosine|step", GRP_TRAIN,
	 "learning-rate schedule (default const; step: x0.1 every epochs/3)"},
	{OPT_WARMUP, "--warmup", NULL, "N", GRP_TRAIN, "linear learning-rate warm-up over N steps"},
	{OPT_SEED, "--seed", NULL, "S", GRP_TRAIN, "seed of shuffling, split, augmentation, dropout (default 0)"},
	{OPT_VAL_SPLIT, "--val-split", NULL, "F", GRP_TRAIN,
	 "hold out this fraction of the training set for validation (default 0)"},
	{OPT_CROP, "--crop", NULL, "PAD", GRP_TRAIN, "random crop with PAD pixels of zero padding"},
	{OPT_FLIP, "--flip", NULL, NULL, GRP_TRAIN,
	 "random horizontal flips (wrong for data sets where left and right differ)"},
	{OPT_THREADS, "--threads", NULL, "N", GRP_TRAIN, "worker threads (default 2)"},
	{OPT_MAX_STEPS, "--max-steps", NULL, "N", GRP_TRAIN, "stop after N steps"},
	{OPT_SAVE_ONNX, "--save-onnx", NULL, "FILE", GRP_TRAIN,
	 "write the trained model as ONNX; when compiling, the compiled graph (weights quantized "
	 "on a uniform grid as DequantizeLinear of their integers; with -a: QDQ ONNX)"},
	{OPT_QGT, "--qgt", NULL, NULL, GRP_QGT,
	 "fine-tune on --data's training split with the QGT regularizer (BN live), then quantize: "
	 "the pipeline with the qgt pass before bnfold"},
	{OPT_METHOD, "--method", NULL, "qgt|qgt-float|ste|ste-clip", GRP_QGT,
	 "how --qgt fine-tunes: qgt (default): the QGT regularizer with the forward on the "
	 "fake-quantized kernels; qgt-float: the regularizer alone, the forward "
	 "on the float kernels; ste: the baseline STE-QAT (the gradient straight through to the "
	 "float kernels; ste-clip: stopped where the grid clips) on the same trainer, data, "
	 "epochs and grid"},
	{OPT_LAMBDA, "--lambda", NULL, "L|RULES", GRP_QGT,
	 "regularizer strength, times the raw sum of squared grid errors with the task loss a "
	 "batch mean (default 0.01 (1+momentum)/lr: 1.9; qgt-float: (1+momentum)/(2 lr): 95), "
	 "or per layer 'conv1=0.1,*=1'"},
	{OPT_LAMBDA_SCHED, "--lambda-schedule", NULL, "const|linear|exp", GRP_QGT,
	 "ramp lambda from 1e-3 lambda up to lambda over training (default exp)"},
	{OPT_LAMBDA_SWEEP, "--lambda-sweep", NULL, "LO:HI:N", GRP_QGT,
	 "eval: fine-tune once per lambda (N log-spaced) and print top-1 against lambda"},
	{OPT_DISTILL, "--distill", NULL, "A", GRP_QGT,
	 "distil from the float model while fine-tuning: the target is (1-A) the label + A its "
	 "softmax, at one extra forward per step (0: off)"},
	{OPT_QGT_FREEZE, "--qgt-freeze", NULL, "F", GRP_QGT,
	 "last fraction F of the steps: kernels held on the grid, BN and biases train (default 0.15)"},
	{OPT_GRID_REFRESH, "--grid-refresh", NULL, "N", GRP_QGT,
	 "recompute the grid every N steps, frozen in between (default 50)"},
	{OPT_ACT_EMA, "--act-ema", NULL, "M", GRP_QGT,
	 "with -a: move each activation range toward every training batch's min and max by M "
	 "(a moving average); default 0: the ranges calibrated as the fine-tune starts stay"},
	{OPT_LEARN_SCALES, "--learn-scales", NULL, "on|off", GRP_QGT,
	 "train each affine or symmetric grid's scales by backprop (LSQ) from the gradient at the "
	 "quantized kernels (--method qgt or ste; default off)"},
	{OPT_NO_BN_REINTRO, "--no-bn-reintro", NULL, NULL, GRP_QGT,
	 "do not put a trainable per-channel batchnorm after kernels without one (folded-BN models) during --qgt"},
	{OPT_BN_REESTIMATE, "--bn-reestimate", NULL, "N", GRP_QGT,
	 "after fine-tuning, re-estimate batchnorm statistics on N batches of training data with the "
	 "final kernels (default 100; 0: keep the running averages of training)"},
	{OPT_DUMP_HIST, "--dump-histograms", NULL, "FILE", GRP_QGT,
	 "write per-layer weight histograms before and after QGT as JSON"},
};
enum { NOPTIONS = sizeof options / sizeof options[0] };

/* The values an option picks from by name.  One table parses them and
 * names them all in the error for a value not among them. */
typedef struct drv_choice {
	const char *name;
	int value;
} drv_choice;

enum { METHOD_QGT, METHOD_QGT_FLOAT, METHOD_STE, METHOD_STE_CLIP }; /* STE from METHOD_STE on */
enum { REPORT_SIZE, REPORT_MEMORY, REPORT_LAYERS, REPORT_SENSITIVITY };
enum { OPT_LEVEL_S = 4, OPT_LEVEL_Z };
enum { SCHEME_SQ = -1 }; /* not a grid of the IR: binary or ternary, by QGT */

typedef struct drv_choices {
	opt_id id;
	const char *verb;           /* error "OPT VERB a, b or c, not 'V'"; NULL:
	                             * "unknown OPT 'V' (expected a, b or c)" */
	const char *tail;           /* after the names in the error, or NULL */
	drv_choice c[8];            /* ends at the first NULL name */
} drv_choices;

static const drv_choices choices[] = {
	{OPT_EMIT, NULL, NULL,
	 {{"ir", DRV_EMIT_IR}, {"obj", DRV_EMIT_OBJ}, {"asm", DRV_EMIT_ASM},
	  {"llvm", DRV_EMIT_LLVM}, {"header", DRV_EMIT_HEADER}}},
	{OPT_ENGINE, NULL, NULL, {{"interp", DRV_ENGINE_INTERP}, {"native", DRV_ENGINE_NATIVE}}},
	{OPT_IR_WEIGHTS, "must be", NULL, {{"elided", 8}, {"full", -1}}},
	{OPT_OPTIMIZER, NULL, NULL,
	 {{"sgd", QGT_OPT_SGD}, {"adam", QGT_OPT_ADAM}, {"adamw", QGT_OPT_ADAMW}}},
	{OPT_SCHEDULE, NULL, NULL,
	 {{"const", QGT_SCHED_CONST}, {"cosine", QGT_SCHED_COSINE}, {"step", QGT_SCHED_STEP}}},
	{OPT_LAMBDA_SCHED, NULL, NULL,
	 {{"const", QGT_LSCHED_CONST}, {"linear", QGT_LSCHED_LINEAR}, {"exp", QGT_LSCHED_EXP}}},
	{OPT_LEARN_SCALES, "takes", NULL, {{"on", 1}, {"off", 0}}},
	{OPT_METHOD, NULL, NULL,
	 {{"qgt", METHOD_QGT}, {"qgt-float", METHOD_QGT_FLOAT}, {"ste", METHOD_STE},
	  {"ste-clip", METHOD_STE_CLIP}}},
	{OPT_SCHEME, NULL, NULL,
	 {{"affine", IR_QS_AFFINE}, {"symmetric", IR_QS_SYMMETRIC}, {"pow2", IR_QS_POW2},
	  {"binary", IR_QS_BINARY}, {"ternary", IR_QS_TERNARY}, {"codebook", IR_QS_CODEBOOK},
	  {"sq", SCHEME_SQ}}},
	{OPT_GRANULARITY, "must be", NULL, {{"per-channel", 0}, {"per-tensor", 1}}},
	{OPT_SCALE_DTYPE, "must be", NULL, {{"e12", PASS_E12_MB}, {"e8", PASS_E8_MB}, {"f16", 0}, {"f32", -1}}},
	{OPT_BIAS_DTYPE, "must be", NULL, {{"b12", 2}, {"f16", 0}, {"f32", 1}}},
	{OPT_CALIB, "must be", "[:P] with P in (50, 100]",
	 {{"minmax", PASS_CALIB_MINMAX}, {"mse", PASS_CALIB_MSE},
	  {"percentile", PASS_CALIB_PERCENTILE}}},
	{OPT_ACT_CALIB, "must be", "[:P] with P in (50, 100]",
	 {{"minmax", PASS_CALIB_MINMAX}, {"mse", PASS_CALIB_MSE},
	  {"percentile", PASS_CALIB_PERCENTILE}}},
	{OPT_IO, "must be", NULL, {{"float", 0}, {"int", 1}}},
	{OPT_REPORT, NULL, NULL,
	 {{"size", REPORT_SIZE}, {"memory", REPORT_MEMORY}, {"layers", REPORT_LAYERS},
	  {"sensitivity", REPORT_SENSITIVITY}}},
	{OPT_FLOAT_ABI, "must be", NULL, {{"hard", 0}, {"soft", 1}}},
	{OPT_OPT, "takes", NULL,
	 {{"0", 0}, {"1", 1}, {"2", 2}, {"3", 3}, {"s", OPT_LEVEL_S}, {"z", OPT_LEVEL_Z}}},
};
enum { NCHOICES = sizeof choices / sizeof choices[0] };

static const char *cmd_name(drv_command cmd)
{
	return cmd == DRV_CMD_RUN ? "run" : cmd == DRV_CMD_OPT ? "opt" : cmd == DRV_CMD_EVAL ? "eval"
	       : cmd == DRV_CMD_TRAIN ? "train" : cmd == DRV_CMD_VALIDATE ? "validate" : "";
}

static bool applies(const drv_opt *op, drv_command cmd)
{
	/* validate compiles as compile does, into a folder of its own */
	if (cmd == DRV_CMD_VALIDATE)
		return op->group != GRP_COMPILE && op->group != GRP_RUN && op->id != OPT_NAME &&
		       op->id != OPT_HEADER && op->id != OPT_MD && op->id != OPT_MF &&
		       op->id != OPT_REPORT_HTML && op->id != OPT_REPORT_POINTS &&
		       op->id != OPT_LAMBDA_SWEEP;
	if (op->id == OPT_BATCH)
		return cmd == DRV_CMD_COMPILE || cmd == DRV_CMD_OPT || cmd == DRV_CMD_EVAL;
	if (op->id == OPT_ENGINE)
		return cmd == DRV_CMD_RUN || cmd == DRV_CMD_EVAL;
	if (op->id == OPT_RAM_BUDGET) /* the patch pass, in compile's pipeline or opt's */
		return cmd == DRV_CMD_COMPILE || cmd == DRV_CMD_OPT;
	if (op->id == OPT_OPT) /* the native engine compiles too */
		return cmd == DRV_CMD_COMPILE || cmd == DRV_CMD_RUN || cmd == DRV_CMD_EVAL;
	switch (op->group) {
	case GRP_TARGET:
		return cmd == DRV_CMD_COMPILE;
	case GRP_COMPILE:
		return cmd == DRV_CMD_COMPILE || (cmd == DRV_CMD_OPT && op->id == OPT_OUT);
	case GRP_RUN:
		return cmd == DRV_CMD_RUN;
	case GRP_EVAL:
		/* compile and opt: the data of the qgt pass */
		return cmd == DRV_CMD_EVAL || cmd == DRV_CMD_TRAIN || cmd == DRV_CMD_COMPILE ||
		       cmd == DRV_CMD_OPT;
	case GRP_TRAIN:
		/* eval, compile and opt fine-tune with them in the qgt pass */
		return cmd == DRV_CMD_TRAIN || cmd == DRV_CMD_EVAL || cmd == DRV_CMD_COMPILE ||
		       cmd == DRV_CMD_OPT;
	case GRP_QGT:
		return cmd == DRV_CMD_EVAL || cmd == DRV_CMD_COMPILE || cmd == DRV_CMD_OPT;
	default:
		return true;
	}
}

/* ---------------------------------------------------------------- help */

static void print_option(FILE *f, const drv_opt *op)
{
	char left[80];
	bool is_long = op->name[1] == '-';
	int k = snprintf(left, sizeof left, "  %s%s%s", op->name,
	                 op->arg ? (is_long ? "=" : " ") : "", op->arg ? op->arg : "");
	if (op->alias && k > 0 && (size_t)k < sizeof left)
		snprintf(left + k, sizeof left - (size_t)k, ", %s%s%s", op->alias,
		         op->arg ? (op->alias[1] == '-' ? "=" : " ") : "", op->arg ? op->arg : "");
	if (strlen(left) > 29)
		fprintf(f, "%s\n%-30s%s\n", left, "", op->help);
	else
		fprintf(f, "%-30s%s\n", left, op->help);
}

static void print_group(FILE *f, opt_group grp, const char *title)
{
	fprintf(f, "\n%s:\n", title);
	for (int i = 0; i < NOPTIONS; i++)
		if (options[i].group == grp)
			print_option(f, &options[i]);
}

/* The group's options that apply to cmd. */
static void print_group_for(FILE *f, opt_group grp, const char *title, drv_command cmd)
{
	fprintf(f, "\n%s:\n", title);
	for (int i = 0; i < NOPTIONS; i++)
		if (options[i].group == grp && applies(&options[i], cmd))
			print_option(f, &options[i]);
}

static void print_passes(FILE *f)
{
	for (int i = 0; i < pass_count(); i++)
		fprintf(f, "  %-28s%s\n", pass_at(i)->name, pass_at(i)->desc);
}

static void print_help(FILE *f, drv_command topic)
{
	if (topic == DRV_CMD_OPT) {
		fputs("usage: qgtc opt MODEL --passes=a,b,c [-o FILE] [options]\n"
		      "\n"
		      "Run exactly the listed passes on MODEL (ONNX, .qir or .qgm) and print\n"
		      "the resulting IR, like LLVM's opt.  With no --passes, the IR is printed\n"
		      "as loaded.  A .qir written with --ir-weights=full is a complete model.\n",
		      f);
		print_group(f, GRP_PIPELINE, "Pipeline options");
		print_group(f, GRP_QUANT, "Quantization options");
		print_group(f, GRP_QGT, "QGT options (the qgt pass)");
		print_group(f, GRP_TRAIN, "Fine-tune options (the qgt pass)");
		print_group(f, GRP_EVAL, "Data options (the qgt pass trains on --data's training split)");
		print_group(f, GRP_GENERAL, "General options");
		fputs("\nPasses:\n", f);
		print_passes(f);
		fputs("\nExamples:\n"
		      "  qgtc model.onnx --emit ir --ir-weights=full -o model.qir\n"
		      "  qgtc opt model.qir --passes=shapes,fold-constants\n"
		      "  qgtc opt model.qir --passes=dce -o clean.qir\n"
		      "  qgtc opt model.qir --passes=shapes,qgt,bnfold,quantize -b 2 --data DIR --epochs 1\n",
		      f);
		return;
	}
	if (topic == DRV_CMD_TRAIN) {
		fputs("usage: qgtc train MODEL --data DIR [options]\n"
		      "\n"
		      "Train or fine-tune MODEL (FP32) on the training split of a labelled data\n"
		      "set: softmax cross-entropy on the model's output scores, batchnorm in\n"
		      "training mode, validation on a held-out split after each epoch.  The\n"
		      "trained model is written with --save-onnx.  Progress goes to standard\n"
		      "output: one updating line on a terminal, log lines otherwise.  A NaN\n"
		      "or Inf in the loss or the weights stops training with an error naming\n"
		      "the step and the tensor.\n",
		      f);
		print_group(f, GRP_TRAIN, "Train options");
		print_group(f, GRP_EVAL, "Data options");
		print_group(f, GRP_PIPELINE, "Pipeline options");
		print_group(f, GRP_GENERAL, "General options");
		fputs("\nExample:\n"
		      "  qgtc train model.onnx --data /usr/share/datasets/fashion-mnist --epochs 4 \\\n"
		      "      --lr 0.01 --schedule cosine --val-split 0.1 --save-onnx tuned.onnx\n",
		      f);
		return;
	}
	if (topic == DRV_CMD_EVAL) {
		fputs("usage: qgtc eval MODEL --data DIR [options]\n"
		      "\n"
		      "Report the top-1 accuracy of MODEL on the test split of a labelled\n"
		      "data set, through the reference interpreter.  DIR holds IDX files in the\n"
		      "MNIST layout (t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz])\n"
		      "or test_x.npy/test_y.npy.  Samples are normalised as\n"
		      "x = (pixel * scale - mean) / std.  The last line reads\n"
		      "'top-1: 90.33% (9033/10000)'.\n"
		      "\n"
		      "With --qgt the pipeline's qgt pass first fine-tunes the model on the\n"
		      "training split with the QGT regularizer for the grid that -b/--bits/\n"
		      "--scheme/--granularity/--calib describe (batchnorm live, lambda ramped up,\n"
		      "the last steps with the kernels held on the grid), then bnfold and\n"
		      "quantize deploy that grid: the pipeline holds the pass qgt before bnfold.\n"
		      "--scheme sq lets each layer settle on binary or ternary; --scheme codebook\n"
		      "learns the levels.  --method ste runs the baseline instead, STE\n"
		      "quantization-aware training on the same trainer, data, epochs and grid.\n",
		      f);
		print_group(f, GRP_EVAL, "Eval options");
		fputs("  --engine=ENGINE             interp (default) or native: the compiled code, JIT\n", f);
		print_group(f, GRP_QGT, "QGT options");
		print_group(f, GRP_TRAIN, "Fine-tune options (with --qgt)");
		fputs("  --batch=N                   samples per interpreter call (default 100)\n", f);
		print_group(f, GRP_PIPELINE, "Pipeline options");
		print_group(f, GRP_QUANT, "Quantization options");
		print_group(f, GRP_GENERAL, "General options");
		fputs("\nExamples:\n"
		      "  qgtc eval model.onnx --data /usr/share/datasets/fashion-mnist\n"
		      "  qgtc eval model.onnx --data /usr/share/datasets/fashion-mnist -b 2 --qgt --epochs 3\n"
		      "  qgtc eval model.onnx --data /usr/share/datasets/fashion-mnist -b 2 --qgt --method ste\n"
		      "  qgtc eval model.onnx --data DIR -b 2 --report sensitivity --limit 2000\n",
		      f);
		return;
	}
	if (topic == DRV_CMD_VALIDATE) {
		fputs("usage: qgtc validate MODEL [INPUT.npy...] [options]\n"
		      "\n"
		      "Compile MODEL as 'qgtc MODEL [options] -o x.o' would, run the object on\n"
		      "its target and compare every output with the reference interpreter's on\n"
		      "the same compiled graph: x86_64 runs here, aarch64 under qemu-aarch64,\n"
		      "armv7em (-mcpu=cortex-m4 or cortex-m7) on QEMU's mps2-an386/an500\n"
		      "boards, thumbv7m (Cortex-M3) and thumbv6m (Cortex-M0/M0+, whose code the\n"
		      "M3 executes) on mps2-an385; cross compilers and QEMU as tools/setup.sh\n"
		      "installs them.  The inputs are the .npy files given ([N, ...] per model\n"
		      "input, every sample run), or --data's first test samples, or seeded\n"
		      "random ones (--seed); --limit N runs N of them (default 4).  Prints the\n"
		      "largest error of each output, instructions per inference on Cortex-M\n"
		      "(QEMU -icount) and on aarch64 (qgtc's TCG plugin: the build's\n"
		      "libqgtc_icount.so, or the file that QGTC_ICOUNT_PLUGIN names), or the\n"
		      "time on this machine, then flash (.text + .rodata), arena, and stack\n"
		      "(NAME_STACK_SIZE; on Cortex-M also what the run used).  Integer code\n"
		      "must match the interpreter byte for byte, float code within 1e-4 of the\n"
		      "largest output; otherwise validate fails (exit 1).  --profile adds a\n"
		      "table of the nodes: op, shape, MACs, instructions (Cortex-M) or time,\n"
		      "instructions per MAC, share.  -v prints the commands and keeps the\n"
		      "harness, object and logs.\n",
		      f);
		print_group_for(f, GRP_TARGET, "Target options", DRV_CMD_VALIDATE);
		print_group_for(f, GRP_EVAL, "Input options", DRV_CMD_VALIDATE);
		print_group_for(f, GRP_QUANT, "Quantization options", DRV_CMD_VALIDATE);
		print_group(f, GRP_PIPELINE, "Pipeline options");
		print_group(f, GRP_GENERAL, "General options");
		fputs("\nExamples:\n"
		      "  qgtc validate model.onnx --target armv7em -a 8 --calib-data x.npy --profile\n"
		      "  qgtc validate model.onnx --target aarch64 --data DIR --limit 16\n"
		      "  qgtc validate model.onnx x.npy -b 4\n",
		      f);
		return;
	}
	if (topic == DRV_CMD_RUN) {
		fputs("usage: qgtc run MODEL [INPUT...] [options]\n"
		      "\n"
		      "Run MODEL on the given inputs and write each graph output k to\n"
		      "DIR/output_<k>.npy.  INPUTs feed the graph inputs in declaration order\n"
		      "(initializers are not inputs); each is a NumPy .npy file or a serialized\n"
		      "ONNX TensorProto .pb file, told apart by extension.  Inputs that are not\n"
		      "f32, and f32 inputs the shapes depend on (Resize scales, ...), are bound\n"
		      "as constants before the pipeline; a symbolic batch dimension takes its\n"
		      "size from the inputs.  Outputs keep their dtype; ONNX's int4/uint4/\n"
		      "int2/uint2 (inputs as .pb: packed) are written as int8/uint8, one\n"
		      "element per byte.  Nothing is printed on success unless -v.  If an\n"
		      "output cannot be written, the outputs written so far are removed.\n",
		      f);
		print_group(f, GRP_RUN, "Run options");
		print_group(f, GRP_PIPELINE, "Pipeline options");
		print_group(f, GRP_QUANT, "Quantization options");
		print_group(f, GRP_GENERAL, "General options");
		fprintf(f, "\nPasses (default pipeline: %s;\n  train: %s):\n", PASS_INFER_PIPELINE, PASS_DEFAULT_PIPELINE);
		print_passes(f);
		fputs("\nExamples:\n"
		      "  qgtc run model.onnx x.npy --output-dir out/\n"
		      "  qgtc run model.onnx input_0.pb input_1.pb -v\n"
		      "  qgtc run model.onnx x.npy --passes=shapes --print-ir-after-all\n",
		      f);
		return;
	}
	fputs("usage: qgtc MODEL [options]                  compile MODEL\n"
	      "       qgtc run MODEL [INPUT...] [options]   run MODEL on inputs\n"
	      "       qgtc eval MODEL --data DIR [options]  top-1 accuracy on a data set\n"
	      "       qgtc train MODEL --data DIR [options] train or fine-tune MODEL\n"
	      "       qgtc opt MODEL --passes=LIST          run passes, print the IR\n"
	      "       qgtc validate MODEL [INPUT...]        run on the target, compare\n"
	      "       qgtc help [COMMAND]                   show help\n"
	      "\n"
	      "qgtc compiles trained neural networks to native code for\n"
	      "microcontrollers: an object file with the weights baked in, a C header\n"
	      "stating the one arena it needs, and no heap.  '--emit ir' prints the IR\n"
	      "as it stands after the pass pipeline.\n"
	      "\n"
	      "Commands:\n"
	      "  qgtc MODEL ...              compile MODEL (see compile options)\n"
	      "  qgtc run MODEL INPUT...     run MODEL with the reference interpreter and\n"
	      "                              write its outputs as .npy files\n"
	      "  qgtc eval MODEL --data DIR  top-1 accuracy on the test split of a data set\n"
	      "  qgtc train MODEL --data DIR train (FP32) on the training split; see\n"
	      "                              'qgtc help train'\n"
	      "  qgtc opt MODEL --passes=L   run exactly the passes in L, print the IR\n"
	      "  qgtc validate MODEL         compile, run on the target (QEMU for ARM) and\n"
	      "                              compare with the interpreter; see\n"
	      "                              'qgtc help validate'\n"
	      "  qgtc help [COMMAND]         this help, or that of run, eval, train, opt, validate\n"
	      "\n"
	      "Model files:\n"
	      "  *.onnx                      ONNX ModelProto\n"
	      "  *.qir                       qgtc IR text (what --emit ir prints)\n"
	      "  *.qgm                       qgtc model DSL (see frontend/DSL.md)\n"
	      "  anything else               read as ONNX\n"
	      "\n"
	      "Input files (run):\n"
	      "  *.npy                       NumPy array (f4, f8 read as f4, i1, u1, i4, i8, b1)\n"
	      "  *.pb                        serialized ONNX TensorProto\n",
	      f);
	print_group(f, GRP_GENERAL, "General options");
	print_group(f, GRP_COMPILE, "Compile options");
	for (int i = 0; i < NOPTIONS; i++) /* a train option that compile takes too */
		if (options[i].id == OPT_SAVE_ONNX)
			print_option(f, &options[i]);
	print_group(f, GRP_TARGET, "Target options (compile)");
	print_group(f, GRP_RUN, "Run options");
	print_group(f, GRP_EVAL, "Eval options");
	print_group(f, GRP_PIPELINE, "Pipeline options (compile, run, eval, opt)");
	print_group(f, GRP_QUANT, "Quantization options (compile, run, eval, opt)");
	print_group(f, GRP_QGT, "QGT options (compile, eval, opt; fine-tune options: 'qgtc help train')");
	fprintf(f, "  (with -b, --bits or --scheme the pipeline is %s;\n   with --qgt %s)\n",
	        PASS_QUANT_PIPELINE, QGT_PIPELINE);
	fputs("\nOptions taking a value accept both '--opt=VALUE' and '--opt VALUE'.\n", f);
	fprintf(f, "\nPasses (default pipeline: %s;\n  train: %s):\n", PASS_INFER_PIPELINE, PASS_DEFAULT_PIPELINE);
	print_passes(f);
	fputs("\nExit status:\n"
	      "  0  success\n"
	      "  1  an error in the model, an input, the pipeline or writing an output\n"
	      "  2  a usage error: unknown option, bad option value, missing operand\n"
	      "\n"
	      "Examples:\n"
	      "  qgtc model.onnx --emit ir\n"
	      "  qgtc model.onnx --emit ir -o model.qir --ir-weights=full\n"
	      "  qgtc model.onnx --emit ir --batch 1 --print-ir-after=fold-constants\n"
	      "  qgtc run model.onnx x.npy --output-dir out/\n"
	      "  qgtc run model.onnx input_0.pb input_1.pb -v\n",
	      f);
}

/* ------------------------------------------------------------- parsing */

static void unknown_option(const char *arg, size_t namelen, diag_sink *d)
{
	char name[64];
	if (namelen >= sizeof name)
		namelen = sizeof name - 1;
	memcpy(name, arg, namelen);
	name[namelen] = 0;
	diag_error(d, NULL, "unknown option '%s'", name);
	const char *best = NULL;
	int bestd = 3;
	for (int i = 0; i < NOPTIONS; i++) {
		int e = diag_edit_distance(name, options[i].name);
		if (e < bestd) {
			bestd = e;
			best = options[i].name;
		}
	}
	if (best)
		diag_note(d, NULL, "did you mean '%s'?", best);
	diag_note(d, NULL, "see 'qgtc --help'");
}

static const drv_opt *find_option(const char *arg, size_t namelen)
{
	for (int i = 0; i < NOPTIONS; i++) {
		const char *names[2] = {options[i].name, options[i].alias};
		for (int k = 0; k < 2; k++)
			if (names[k] && strlen(names[k]) == namelen && strncmp(names[k], arg, namelen) == 0)
				return &options[i];
	}
	return NULL;
}

static int parse_int(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return -1;
	*out = v;
	return 0;
}

static const drv_choices *choices_of(opt_id id)
{
	for (int i = 0; i < NCHOICES; i++)
		if (choices[i].id == id)
			return &choices[i];
	return NULL;
}

/* The error for a value not among op's choices, naming them all. */
static int bad_choice(const drv_opt *op, const char *val, diag_sink *d)
{
	const drv_choices *ch = choices_of(op->id);
	char list[256];
	size_t n = 0, k = 0;
	list[0] = 0;
	while (ch->c[n].name)
		n++;
	for (size_t i = 0; i < n && k < sizeof list; i++)
		k += (size_t)snprintf(list + k, sizeof list - k, "%s%s",
		                      i == 0 ? "" : i + 1 == n ? " or " : ", ", ch->c[i].name);
	if (ch->verb)
		diag_error(d, NULL, "%s %s %s%s, not '%s'", op->name, ch->verb, list,
		           ch->tail ? ch->tail : "", val);
	else
		diag_error(d, NULL, "unknown %s '%s' (expected %s)", op->name, val, list);
	return -1;
}

/* The value `val` names among op's choices, into *v; an error if none
 * does.  Options without choices leave *v alone. */
static int choose(const drv_opt *op, const char *val, int *v, diag_sink *d)
{
	const drv_choices *ch = choices_of(op->id);
	if (!ch)
		return 0;
	for (const drv_choice *c = ch->c; c->name; c++)
		if (strcmp(val, c->name) == 0) {
			*v = c->value;
			return 0;
		}
	return bad_choice(op, val, d);
}

/* A positive byte count, with an optional suffix K (1024) or M (1048576). */
static int parse_bytes(const char *flag, const char *val, int64_t *out, diag_sink *d)
{
	char *end;
	errno = 0;
	double v = strtod(val, &end);
	double mul = *end == 'K' || *end == 'k' ? 1024.0 : *end == 'M' ? 1048576.0 : 1.0;
	if (mul != 1.0)
		end++;
	if (end == val || *end || errno || !(v >= 1) || v * mul >= 1e15) {
		diag_error(d, NULL, "%s needs a positive byte count (suffix K or M), not '%s'", flag, val);
		return -1;
	}
	*out = (int64_t)(v * mul);
	return 0;
}

/* Apply one option with its value (NULL if it takes none). */
static int apply_option(drv_options *o, const drv_opt *op, const char *val, bool *stop,
                        diag_sink *d)
{
	int pick = 0; /* the value among the option's choices */
	/* --calib percentile:P: P is read below */
	bool param = (op->id == OPT_CALIB || op->id == OPT_ACT_CALIB) &&
	             strncmp(val, "percentile:", 11) == 0;
	if (!param && choose(op, val, &pick, d))
		return -1;
	switch (op->id) {
	case OPT_HELP:
		*stop = true;
		o->help_topic = cmd_name(o->cmd);
		o->cmd = DRV_CMD_HELP;
		return 0;
	case OPT_VERSION:
		printf("qgtc %s\n", QGTC_VERSION);
		*stop = true;
		return 0;
	case OPT_LIST_PASSES:
		printf("Passes (default pipeline: %s;\n  train: %s):\n", PASS_INFER_PIPELINE, PASS_DEFAULT_PIPELINE);
		print_passes(stdout);
		*stop = true;
		return 0;
	case OPT_QUIET:
		o->quiet = true;
		return 0;
	case OPT_VERBOSE:
		o->verbose = true;
		return 0;
	case OPT_EMIT:
		o->emit = pick;
		return 0;
	case OPT_OUT:
		o->out_file = val;
		return 0;
	case OPT_BATCH:
		if (parse_int(val, &o->batch) || o->batch < 1 || o->batch > ((int64_t)1 << 31)) {
			diag_error(d, NULL, "--batch needs a positive integer, not '%s'", val);
			return -1;
		}
		return 0;
	case OPT_ENGINE:
		o->engine = pick;
		return 0;
	case OPT_OUTPUT_DIR:
		if (!*val) {
			diag_error(d, NULL, "--output-dir needs a directory name");
			return -1;
		}
		o->output_dir = val;
		return 0;
	case OPT_PASSES:
		if (pass_check_pipeline(val, d))
			return -1;
		o->pipeline = val;
		o->pipeline_given = true;
		return 0;
	case OPT_PRINT_ALL:
		o->print_after_all = true;
		return 0;
	case OPT_PRINT_AFTER:
		if (pass_check_pipeline(val, d))
			return -1;
		o->print_after = val;
		return 0;
	case OPT_IR_WEIGHTS:
		o->ir_max_inline = pick;
		return 0;
	case OPT_VERIFY_EACH:
		o->verify_each = true;
		return 0;
	case OPT_DATA:
		o->data_dir = val;
		return 0;
	case OPT_SCALE: {
		char *end;
		o->scale = strtof(val, &end);
		if (end == val || *end || !(o->scale > 0)) {
			diag_error(d, NULL, "--scale needs a positive number, not '%s'", val);
			return -1;
		}
		return 0;
	}
	case OPT_MEAN:
		o->mean = val;
		return 0;
	case OPT_STD:
		o->std = val;
		return 0;
	case OPT_EPOCHS:
	case OPT_BATCH_SIZE:
	case OPT_WARMUP:
	case OPT_SEED:
	case OPT_CROP:
	case OPT_THREADS:
	case OPT_MAX_STEPS: {
		int64_t v;
		bool zero_ok = op->id == OPT_WARMUP || op->id == OPT_SEED || op->id == OPT_CROP;
		if (parse_int(val, &v) || v < (zero_ok ? 0 : 1) || v > ((int64_t)1 << 31)) {
			diag_error(d, NULL, "%s needs a %s integer, not '%s'", op->name,
			           zero_ok ? "non-negative" : "positive", val);
			return -1;
		}
		switch (op->id) {
		case OPT_EPOCHS: o->train_epochs = (int)v; break;
		case OPT_BATCH_SIZE: o->train_batch = v; break;
		case OPT_WARMUP: o->train_warmup = v; break;
		case OPT_SEED: o->train_seed = (uint64_t)v; break;
		case OPT_CROP: o->train_crop = (int)v; break;
		case OPT_THREADS: o->train_threads = (int)v; break;
		default: o->train_max_steps = v; break;
		}
		return 0;
	}
	case OPT_LR:
	case OPT_MOMENTUM:
	case OPT_WD:
	case OPT_VAL_SPLIT: {
		char *end;
		float v = strtof(val, &end);
		bool ok = end != val && !*end && v >= 0 && v < 1e6f;
		if (op->id == OPT_LR)
			ok &= v > 0;
		if (op->id == OPT_VAL_SPLIT)
			ok &= v < 1;
		if (!ok) {
			diag_error(d, NULL, "%s needs a %s, not '%s'", op->name,
			           op->id == OPT_LR ? "positive number"
			           : op->id == OPT_VAL_SPLIT ? "fraction in [0, 1)" : "non-negative number",
			           val);
			return -1;
		}
		if (op->id == OPT_LR)
			o->train_lr = v;
		else if (op->id == OPT_MOMENTUM)
			o->train_momentum = v;
		else if (op->id == OPT_WD)
			o->train_wd = v;
		else
			o->train_val_split = v;
		return 0;
	}
	case OPT_OPTIMIZER:
		o->train_opt = pick;
		return 0;
	case OPT_SCHEDULE:
		o->train_sched = pick;
		return 0;
	case OPT_FLIP:
		o->train_flip = true;
		return 0;
	case OPT_SAVE_ONNX:
		o->save_onnx = val;
		return 0;
	case OPT_QGT:
		o->qgt = true;
		return 0;
	case OPT_LAMBDA: {
		float lam = o->qgtp.lambda;
		if (qgt_lambda_parse(val, &lam, &o->qgtp.lambda_rules, d))
			return -1;
		o->qgtp.lambda = lam;
		return 0;
	}
	case OPT_LAMBDA_SCHED:
		o->qgtp.lambda_sched = pick;
		return 0;
	case OPT_LAMBDA_SWEEP:
		o->qgt_sweep = val;
		return 0;
	case OPT_QGT_FREEZE:
	case OPT_DISTILL: {
		char *end;
		float v = strtof(val, &end);
		if (end == val || *end || !(v >= 0 && v < 1)) {
			diag_error(d, NULL, "%s needs a fraction in [0, 1), not '%s'", op->name, val);
			return -1;
		}
		*(op->id == OPT_DISTILL ? &o->qgtp.distill : &o->qgtp.freeze) = v;
		return 0;
	}
	case OPT_ACT_EMA: {
		char *end;
		float v = strtof(val, &end);
		if (end == val || *end || !(v >= 0 && v <= 1)) {
			diag_error(d, NULL, "--act-ema needs a fraction in [0, 1], not '%s'", val);
			return -1;
		}
		o->qgtp.act_ema = v;
		return 0;
	}
	case OPT_GRID_REFRESH: {
		int64_t v;
		if (parse_int(val, &v) || v < 1 || v > ((int64_t)1 << 31)) {
			diag_error(d, NULL, "--grid-refresh needs a positive integer, not '%s'", val);
			return -1;
		}
		o->qgtp.refresh = (int)v;
		return 0;
	}
	case OPT_BN_REESTIMATE: {
		int64_t v;
		if (parse_int(val, &v) || v < 0 || v > 1000000) {
			diag_error(d, NULL, "--bn-reestimate needs a batch count (0 to 1000000), not '%s'", val);
			return -1;
		}
		o->qgtp.bn_batches = (int)v;
		return 0;
	}
	case OPT_DUMP_HIST:
		o->qgtp.dump_hist = val;
		return 0;
	case OPT_FLASH_BUDGET: {
		int64_t v;
		if (parse_bytes("--flash-budget", val, &v, d))
			return -1;
		o->qgtp.flash_budget = (size_t)v;
		o->quantize = true;
		return 0;
	}
	case OPT_RAM_BUDGET:
		return parse_bytes("--ram-budget", val, &o->ram_budget, d);
	case OPT_LEARN_SCALES:
		o->qgtp.learn_scale = pick;
		return 0;
	case OPT_NO_BN_REINTRO:
		o->qgtp.bn_reintro = false;
		return 0;
	case OPT_METHOD:
		o->qgtp.method = pick >= METHOD_STE ? QGT_METHOD_STE : QGT_METHOD_REG;
		o->qgtp.ste_forward = pick == METHOD_QGT_FLOAT ? 0 : -1;
		o->qgtp.ste_clip = pick == METHOD_STE_CLIP;
		o->method_given = true;
		return 0;
	case OPT_LIMIT:
		if (parse_int(val, &o->limit) || o->limit < 1) {
			diag_error(d, NULL, "--limit needs a positive integer, not '%s'", val);
			return -1;
		}
		return 0;
	case OPT_QBITS: {
		int64_t b;
		if (parse_int(val, &b) || b < 1 || b > 8) {
			diag_error(d, NULL, "-b needs a bit width from 1 to 8, not '%s'", val);
			return -1;
		}
		o->quant.bits = (int)b;
		o->quantize = true;
		return 0;
	}
	case OPT_BITS_LIST:
		if (pass_quant_check_rules(val, d))
			return -1;
		o->quant.bits_rules = val;
		o->quantize = true;
		return 0;
	case OPT_SCHEME:
		o->quantize = true;
		if (pick == SCHEME_SQ) {
			/* Smart Quantization: binary or ternary per layer, chosen by
			 * QGT (--qgt); ternary is what the quantize pass falls back to. */
			o->qgtp.kind = QGT_REG_SQ;
			o->quant.scheme = IR_QS_TERNARY;
			return 0;
		}
		o->qgtp.kind = QGT_REG_QGT;
		o->scheme_given = true;
		o->quant.scheme = pick;
		return 0;
	case OPT_GRANULARITY:
		o->quant.per_tensor = pick;
		return 0;
	case OPT_SCALE_DTYPE:
		o->quant.f32_scales = pick < 0;
		o->quant.scale_mb = pick > 0 ? pick : 0;
		return 0;
	case OPT_BIAS_DTYPE:
		o->quant.f32_biases = pick == 1;
		o->quant.b12_biases = pick == 2;
		return 0;
	case OPT_CALIB:
	case OPT_ACT_CALIB: {
		bool act = op->id == OPT_ACT_CALIB;
		if (param) {
			char *end;
			float p = strtof(val + 11, &end);
			if (end == val + 11 || *end || !(p > 50 && p <= 100))
				return bad_choice(op, val, d);
			*(act ? &o->quant.act_percentile : &o->quant.percentile) = p;
			pick = PASS_CALIB_PERCENTILE;
		}
		if (act)
			o->quant.act_calib = pick;
		else {
			o->quant.calib = pick;
			o->qgtp.calib_given = true;
		}
		return 0;
	}
	case OPT_CALIB_DATA:
		o->calib_data = val;
		return 0;
	case OPT_ACT_BITS: {
		int64_t b;
		if (parse_int(val, &b) || (b != 8 && b != 16)) {
			diag_error(d, NULL, "-a needs 8 or 16 (int8 or int16 activations), not '%s'", val);
			return -1;
		}
		o->quant.act_bits = (int)b;
		o->quantize = true;
		return 0;
	}
	case OPT_IO:
		o->quant.io_int = pick;
		return 0;
	case OPT_REPORT: {
		bool *flag[] = {[REPORT_SIZE] = &o->report_size, [REPORT_MEMORY] = &o->report_memory,
		                [REPORT_LAYERS] = &o->report_layers,
		                [REPORT_SENSITIVITY] = &o->report_sensitivity};
		*flag[pick] = true;
		return 0;
	}
	case OPT_TARGET:
		o->target = val;
		return 0;
	case OPT_MCPU:
		o->mcpu = val;
		return 0;
	case OPT_MATTR:
		o->mattr = val;
		return 0;
	case OPT_FLOAT_ABI:
		o->float_abi = val;
		return 0;
	case OPT_OPT:
		o->opt_level = pick < OPT_LEVEL_S ? pick : 2;
		o->code_policy = pick < OPT_LEVEL_S     ? BE_CODE_SPEED
		                  : pick == OPT_LEVEL_S ? BE_CODE_SIZE
		                                        : BE_CODE_MIN;
		return 0;
	case OPT_NAME:
		o->sym_name = val;
		return 0;
	case OPT_HEADER:
		o->header_file = val;
		return 0;
	case OPT_PRINT_TARGETS:
		puts("Targets (--target):\n"
		     "  x86_64     x86_64-pc-linux-gnu, -mcpu default x86-64 (x86-64-v3 for AVX2)\n"
		     "  aarch64    aarch64-unknown-linux-gnu, -mcpu default cortex-a72 (Raspberry Pi 4)\n"
		     "  armv7em    thumbv7em-none-eabihf, -mcpu default cortex-m4 (cortex-m7: add\n"
		     "             -mattr=-fp64 for a single-precision FPU); -mfloat-abi=soft: eabi\n"
		     "  host       this machine, CPU and features detected\n"
		     "  TRIPLE     any LLVM triple, normalised (e.g. thumbv7em-none-eabi)");
		*stop = true;
		return 0;
	case OPT_MD:
		o->depend = true;
		return 0;
	case OPT_PROFILE:
		o->profile = true;
		return 0;
	case OPT_MF:
		o->depfile = val;
		return 0;
	case OPT_REPORT_HTML:
		o->report_html = val;
		return 0;
	case OPT_REPORT_POINTS:
		o->report_points = val;
		return 0;
	case OPT_REPORT_JSON:
		o->report_json = val;
		return 0;
	}
	return 0;
}

/* Parse argv into o.  Returns DRV_OK to go on, DRV_USAGE on a bad
 * command line, or -1 when an option like --version already did all. */
static int parse_args(int argc, char **argv, drv_options *o, diag_sink *d)
{
	int i = 1;
	if (argc > 1 && strcmp(argv[1], "run") == 0) {
		o->cmd = DRV_CMD_RUN;
		i = 2;
	} else if (argc > 1 && strcmp(argv[1], "opt") == 0) {
		o->cmd = DRV_CMD_OPT;
		o->pipeline = "";
		i = 2;
	} else if (argc > 1 && strcmp(argv[1], "eval") == 0) {
		o->cmd = DRV_CMD_EVAL;
		i = 2;
	} else if (argc > 1 && strcmp(argv[1], "validate") == 0) {
		o->cmd = DRV_CMD_VALIDATE;
		i = 2;
	} else if (argc > 1 && strcmp(argv[1], "train") == 0) {
		o->cmd = DRV_CMD_TRAIN;
		o->train_momentum = -1;
		i = 2;
	} else if (argc > 1 && strcmp(argv[1], "help") == 0) {
		o->cmd = DRV_CMD_HELP;
		o->help_topic = argc > 2 ? argv[2] : "";
		if (argc > 3) {
			diag_error(d, NULL, "'qgtc help' takes at most one command name");
			return DRV_USAGE;
		}
		return DRV_OK;
	}
	o->inputs = calloc((size_t)argc, sizeof *o->inputs);
	if (!o->inputs) {
		diag_error(d, NULL, "out of memory");
		return DRV_ERROR;
	}
	bool only_operands = false;
	for (; i < argc; i++) {
		const char *arg = argv[i];
		if (only_operands || arg[0] != '-' || arg[1] == 0) {
			if (!o->model && o->cmd == DRV_CMD_COMPILE && !only_operands &&
			    (strcmp(arg, "run") == 0 || strcmp(arg, "help") == 0 ||
			     strcmp(arg, "opt") == 0 || strcmp(arg, "eval") == 0 ||
			     strcmp(arg, "validate") == 0)) {
				diag_error(d, NULL, "the command '%s' must come first: qgtc %s ...", arg, arg);
				return DRV_USAGE;
			}
			if (!o->model)
				o->model = arg;
			else if (o->cmd == DRV_CMD_RUN || o->cmd == DRV_CMD_VALIDATE)
				o->inputs[o->ninputs++] = arg;
			else {
				diag_error(d, NULL, "unexpected operand '%s': one model per compile", arg);
				diag_note(d, NULL, "to run a model on inputs: qgtc run %s %s ...", o->model, arg);
				return DRV_USAGE;
			}
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			only_operands = true;
			continue;
		}
		bool is_long = arg[1] == '-';
		/* --opt=VALUE, and the gcc-style -mcpu=VALUE */
		const char *eq = is_long || arg[1] == 'm' ? strchr(arg, '=') : NULL;
		size_t namelen = eq ? (size_t)(eq - arg) : strlen(arg);
		const char *val = eq ? eq + 1 : NULL;
		const drv_opt *op = find_option(arg, namelen);
		if (!op && !is_long && namelen > 2) {
			/* -oFILE */
			op = find_option(arg, 2);
			if (op && op->arg) {
				namelen = 2;
				val = arg + 2;
			} else
				op = NULL;
		}
		if (!op) {
			unknown_option(arg, namelen, d);
			return DRV_USAGE;
		}
		if (!applies(op, o->cmd)) {
			if (op->group == GRP_RUN)
				diag_error(d, NULL, "option '%s' applies only to 'qgtc run'", op->name);
			else if (o->cmd == DRV_CMD_COMPILE)
				diag_error(d, NULL, "option '%s' does not apply to compiling", op->name);
			else
				diag_error(d, NULL, "option '%s' applies only to compiling (not to 'qgtc %s')",
				           op->name, cmd_name(o->cmd));
			diag_note(d, NULL, "see 'qgtc --help'");
			return DRV_USAGE;
		}
		if (op->arg && !val) {
			if (i + 1 >= argc) {
				diag_error(d, NULL, "option '%s' needs an argument (%s)", op->name, op->arg);
				return DRV_USAGE;
			}
			val = argv[++i];
		} else if (!op->arg && val) {
			diag_error(d, NULL, "option '%s' takes no argument", op->name);
			return DRV_USAGE;
		}
		bool stop = false;
		if (apply_option(o, op, val, &stop, d))
			return DRV_USAGE;
		if (stop)
			return o->cmd == DRV_CMD_HELP ? DRV_OK : -1;
	}
	if (o->quantize && !o->pipeline_given && o->cmd != DRV_CMD_OPT)
		o->pipeline = PASS_QUANT_PIPELINE;
	else if (!o->pipeline_given && o->cmd != DRV_CMD_TRAIN && o->cmd != DRV_CMD_OPT)
		o->pipeline = PASS_INFER_PIPELINE;
	if (o->quant.io_int && !o->quant.act_bits) {
		diag_error(d, NULL, "--io int needs integer activations (-a 8 or -a 16)");
		return DRV_USAGE;
	}
	/* Integer inference: symmetric weights from 4 bits up unless asked
	 * otherwise (no weight zero point, as CMSIS-NN; below 4 bits the
	 * symmetric grid loses a level, 3 of 4 at 2 bits, so affine stays);
	 * eval calibrates on its own data. */
	if (o->quant.act_bits && !o->scheme_given && o->quant.bits >= 4)
		o->quant.scheme = IR_QS_SYMMETRIC;
	if (o->quant.act_bits && !o->calib_data && o->cmd == DRV_CMD_EVAL)
		o->calib_data = o->data_dir;
	bool qgt_listed = o->pipeline_given && drv_pipeline_has(o->pipeline, "qgt");
	if (o->qgtp.kind == QGT_REG_SQ && !o->qgt && !o->qgt_sweep && !qgt_listed) {
		diag_error(d, NULL, "--scheme sq is chosen during training: add --qgt --data DIR");
		return DRV_USAGE;
	}
	if (o->method_given && !o->qgt && !qgt_listed) {
		diag_error(d, NULL, "--method says how --qgt fine-tunes: add --qgt --data DIR");
		return DRV_USAGE;
	}
	if ((o->qgtp.learn_scale >= 0 || o->qgtp.distill >= 0) && !o->qgt && !o->qgt_sweep && !qgt_listed) {
		diag_error(d, NULL, "%s says how --qgt fine-tunes: add --qgt --data DIR",
		           o->qgtp.distill >= 0 ? "--distill" : "--learn-scales");
		return DRV_USAGE;
	}
	if (o->qgtp.method == QGT_METHOD_STE && o->qgt_sweep) {
		diag_error(d, NULL, "--lambda-sweep sweeps the QGT regularizer's lambda; --method ste has none");
		return DRV_USAGE;
	}
	if (o->qgtp.method == QGT_METHOD_STE &&
	    (o->qgtp.kind == QGT_REG_SQ || o->quant.scheme == IR_QS_CODEBOOK)) {
		diag_error(d, NULL, "--method ste trains onto the quantize pass's own grid; --scheme %s "
		           "grids are chosen by their regularizer (--method qgt)",
		           o->qgtp.kind == QGT_REG_SQ ? "sq" : "codebook");
		return DRV_USAGE;
	}
	if ((o->qgt || o->qgt_sweep) && !o->pipeline_given)
		o->pipeline = QGT_PIPELINE;
	if (o->report_points && !o->report_html) {
		diag_error(d, NULL, "--report-points adds runs to --report-html: give --report-html FILE");
		return DRV_USAGE;
	}
	if (o->qgtp.flash_budget) {
		if (o->quant.bits_rules) {
			diag_error(d, NULL, "--flash-budget chooses every layer's bits: drop the --bits rules");
			return DRV_USAGE;
		}
		if (o->qgt_sweep || o->report_sensitivity) {
			diag_error(d, NULL, "--flash-budget does not combine with %s",
			           o->qgt_sweep ? "--lambda-sweep" : "--report sensitivity");
			return DRV_USAGE;
		}
		if (!o->data_dir) {
			diag_error(d, NULL, "--flash-budget measures each layer's sensitivity on labelled data: "
			           "give --data DIR");
			return DRV_USAGE;
		}
		if (!o->pipeline_given)
			o->pipeline = o->qgt ? QGT_BUDGET_PIPELINE : QGT_BUDGET_QUANT_PIPELINE;
		o->qgtp.budget_for_qgt = o->qgt;
	}
	if (o->ram_budget) {
		if (o->pipeline_given) {
			if (!drv_pipeline_has(o->pipeline, "patch"))
				diag_warn(d, NULL, "--ram-budget: the pipeline (--passes) has no 'patch' pass; the "
				                   "arena is planned without patches");
		} else {
			int n = snprintf(o->pipeline_buf, sizeof o->pipeline_buf, "%s,patch", o->pipeline);
			if (n < 0 || n >= (int)sizeof o->pipeline_buf) {
				diag_error(d, NULL, "internal error: the pipeline is too long to add 'patch' to");
				return DRV_ERROR;
			}
			o->pipeline = o->pipeline_buf;
		}
	}
	if (!o->model) {
		diag_error(d, NULL, "no model file given");
		diag_note(d, NULL, "usage: qgtc MODEL [options], or qgtc run MODEL [INPUT...]; "
		                   "see 'qgtc --help'");
		return DRV_USAGE;
	}
	return DRV_OK;
}

/* ---------------------------------------------------------- diagnostics */

void drv_diag_init(diag_sink *d, const drv_options *o)
{
	if (o->quiet)
		diag_sink_init_capture(d);
	else
		diag_sink_init(d, stderr);
}

/* Level of one formatted diagnostic line: 'e', 'w', 'n', or 0. */
static char line_level(const char *s, size_t n)
{
	static const struct {
		const char *tag;
		char lv;
	} tags[] = {{": error: ", 'e'}, {": warning: ", 'w'}, {": note: ", 'n'}};
	const char *first = NULL;
	char lv = 0;
	for (size_t k = 0; k < 3; k++) {
		const char *p = memmem(s, n, tags[k].tag, strlen(tags[k].tag));
		if (p && (!first || p < first)) {
			first = p;
			lv = tags[k].lv;
		}
	}
	return lv;
}

void drv_diag_flush(diag_sink *d)
{
	if (!d->capture || !d->buf)
		return;
	bool drop = false;
	for (const char *p = d->buf; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) + 1 : strlen(p);
		char lv = line_level(p, n);
		if (lv == 'w')
			drop = true;
		else if (lv == 'e')
			drop = false;
		if (!drop)
			fwrite(p, 1, n, stderr);
		p += n;
	}
	d->len = 0;
	d->buf[0] = 0;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	drv_options o = {
		.cmd = DRV_CMD_COMPILE,
		.pipeline = PASS_DEFAULT_PIPELINE,
		.opt_level = 3,
		.ir_max_inline = 8,
		.engine = DRV_ENGINE_INTERP,
		.output_dir = ".",
		.quant = {.bits = 8, .scheme = IR_QS_AFFINE, .percentile = 99.9f, .scale_mb = PASS_E12_MB,
		          .b12_biases = true},
		.train_momentum = -1,
		.train_sched = -1,
	};
	qgt_pass_options_default(&o.qgtp);
	diag_sink d;
	diag_sink_init(&d, stderr);
	/* passes from above the pass layer, before any pipeline is checked */
	int rc = qgt_register_passes() ? DRV_ERROR : parse_args(argc, argv, &o, &d);
	if (rc < 0) {
		rc = DRV_OK; /* --version, --list-passes */
	} else if (rc == DRV_OK && o.cmd == DRV_CMD_HELP) {
		if (strcmp(o.help_topic, "") == 0)
			print_help(stdout, DRV_CMD_COMPILE);
		else if (strcmp(o.help_topic, "run") == 0)
			print_help(stdout, DRV_CMD_RUN);
		else if (strcmp(o.help_topic, "opt") == 0)
			print_help(stdout, DRV_CMD_OPT);
		else if (strcmp(o.help_topic, "eval") == 0)
			print_help(stdout, DRV_CMD_EVAL);
		else if (strcmp(o.help_topic, "train") == 0)
			print_help(stdout, DRV_CMD_TRAIN);
		else if (strcmp(o.help_topic, "validate") == 0)
			print_help(stdout, DRV_CMD_VALIDATE);
		else {
			diag_error(&d, NULL, "no help for '%s' (commands: run, opt, eval, train, validate)",
			           o.help_topic);
			rc = DRV_USAGE;
		}
	} else if (rc == DRV_OK) {
		diag_sink_fini(&d);
		drv_diag_init(&d, &o);
		rc = drv_quant_setup(&o, &d);
		if (rc == DRV_OK)
			rc = o.cmd == DRV_CMD_RUN ? drv_run(&o, &d)
			     : o.cmd == DRV_CMD_EVAL ? drv_eval(&o, &d)
			     : o.cmd == DRV_CMD_TRAIN ? drv_train(&o, &d)
			     : o.cmd == DRV_CMD_VALIDATE ? drv_validate(&o, &d)
			                             : drv_compile(&o, &d);
		drv_diag_flush(&d);
		drv_quant_fini(&o);
	}
	if (fflush(stdout) && rc == DRV_OK) {
		fprintf(stderr, "qgtc: error: cannot write to standard output: %s\n", strerror(errno));
		rc = DRV_ERROR;
	}
	diag_sink_fini(&d);
	free(o.inputs);
	return rc;
}
