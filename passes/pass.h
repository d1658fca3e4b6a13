/* pass.h: the pass manager.  A pipeline is a comma-separated list of pass
 * names ("shapes,fold-constants,dce"), each a record in one registry.
 * The registry holds the passes of this folder; a layer above registers
 * its own (qgt/ registers qgt) with pass_register before it runs a
 * pipeline, the way MLIR's passes register themselves, so passes/ never
 * includes what sits above it. */
#ifndef QGTC_PASS_H
#define QGTC_PASS_H

#include "ir.h"

typedef struct pass_options {
	bool print_after_all;       /* dump IR after every pass */
	const char *print_after;    /* comma list of pass names to dump after; may be NULL */
	FILE *print_out;            /* where dumps go; NULL means stderr */
	long print_max_inline;      /* ir_print's max_inline for dumps */
	bool verify_each;           /* run ir_verify after every pass */
	/* bnfold/quantize/bitpack settings (passes/quant.h); NULL: defaults
	 * (8-bit affine per-channel min-max, no bias correction). */
	const struct pass_quant_options *quant;
	/* The batch the graph is to run at: pass_run_pipeline binds a
	 * symbolic batch dimension to it before the first pass or, when the
	 * pipeline holds a pass that works on the model's own batch
	 * (pass_info.model_batch: qgt trains at its own), right after the
	 * last such pass, inferring shapes again.  0: leave it. */
	int64_t batch;
	/* The qgt pass's settings (qgt/qgt.h: training data, epochs, lambda,
	 * schedule, method); NULL: qgt says what it needs. */
	const struct qgt_pass_options *qgt;
	/* What the passes of one run hand on to later ones (passes/quant.h:
	 * the grids qgt trained onto, for quantize and quantize-act).
	 * pass_run_pipeline gives a run its own when NULL; a caller that
	 * gives one clears it (pass_handoff_clear). */
	struct pass_handoff *handoff;
	/* The patch pass's arena budget in bytes (--ram-budget); 0: none. */
	int64_t ram_budget;
	/* Where passes that change the memory plan say what they did
	 * (--report memory); NULL: nowhere. */
	FILE *memory_report;
} pass_options;

typedef struct pass_info {
	const char *name;           /* as written in a pipeline */
	const char *desc;           /* one line for --help and listings */
	int (*run)(ir_graph *g, const pass_options *o, diag_sink *d);
	bool model_batch;           /* works on the model's own batch dimension:
	                             * pass_options.batch is bound after it */
} pass_info;

/* The front every pipeline below starts with. */
#define PASS_FRONT_PIPELINE "shapes,fold-constants,unroll-rnn,lower-einsum,fold-qdq,fold-constants"
#define PASS_DEFAULT_PIPELINE PASS_FRONT_PIPELINE ",fold-pad,dce"
/* What compile, run, eval and validate run on a float model: the default
 * with batchnorm folded into the conv or gemm before it (training keeps
 * the default, where batchnorm stays live). */
#define PASS_INFER_PIPELINE PASS_FRONT_PIPELINE ",bnfold,fold-pad,dce,bitpack"
/* What the driver runs when quantization is asked for (-b, --bits, --scheme). */
/* quantize-act does nothing unless activations are asked for (-a), io-int
 * nothing without --io int. */
#define PASS_QUANT_PIPELINE \
	PASS_FRONT_PIPELINE ",dce,bnfold,quantize,quantize-act,fold-qdq,fold-pad,io-int,dce,bitpack"

/* Add a pass defined above passes/ to the registry (once, before any
 * pipeline naming it is checked or run; p must outlive them).  0, or -1
 * when its name is taken or the registry is full. */
int pass_register(const pass_info *p);
/* The registered passes: this folder's in pipeline order, then those
 * added by pass_register. */
int pass_count(void);
const pass_info *pass_at(int i);
const pass_info *pass_find(const char *name);

/* Check a pipeline string; reports unknown names with the list of known
 * ones.  0 or -1. */
int pass_check_pipeline(const char *pipeline, diag_sink *d);
/* Run the pipeline on g.  Stops at the first failing pass. 0 or -1. */
int pass_run_pipeline(ir_graph *g, const char *pipeline, const pass_options *o, diag_sink *d);

/* gemm n (alpha = beta = 1, trans_a = 0) as matmul(x, w) [+ C], in
 * place: w is its weight as [K, N] (transposed by the caller where
 * trans_b was set); the add, a new node, takes over n's output.  How
 * quantize-act and fold-qdq give a gemm the integer matmul.  0, or -1 out
 * of memory. */
int pass_gemm_as_matmul(ir_graph *g, ir_node *n, ir_value *w);

/* The bias of matmul n that add u adds, when u is one: a constant C (or
 * a quantizer's dequantize of one) of at most 2 dims whose last (and only
 * non-1) dim is n's output width N (W's last dim), added to n's output on
 * either side: gemm's C as
 * pass_gemm_as_matmul leaves it, and nn.Linear on a 3-D input, which
 * PyTorch exports as add(bias, matmul(x, W)).  NULL otherwise.  How
 * quantize-act and fold-qdq take it into the integer matmul. */
ir_value *pass_matmul_bias(const ir_node *n, const ir_node *u);

/* The positive scalar factor that node u applies to v, when it is
 * mul(v, c), mul(c, v) or div(v, c) with c a finite constant of one
 * element (attention's scores times 1 / sqrt(d)): c or 1 / c; else 0.
 * quantize-act ends a matmul's layer after it, and fold-qdq takes it into
 * the requantization. */
double pass_matmul_scale(const ir_node *u, const ir_value *v);

/* The passes (one file each). */
int pass_shapes(ir_graph *g, const pass_options *o, diag_sink *d);
int pass_fold_constants(ir_graph *g, const pass_options *o, diag_sink *d);
int pass_unroll_rnn(ir_graph *g, const pass_options *o, diag_sink *d);
int pass_lower_einsum(ir_graph *g, const pass_options *o, diag_sink *d);
int pass_dce(ir_graph *g, const pass_options *o, diag_sink *d);
/* A constant-mode pad of spatial axes whose constant is what the conv it
 * alone feeds pads with (0 on floats, x's zero point on integers) becomes
 * that conv's pads, and a pad of nothing goes (its users read its input):
 * one copy of the input fewer.  Folded pads are marked dead (dce drops
 * them). */
int pass_fold_pad(ir_graph *g, const pass_options *o, diag_sink *d);
int pass_fold_qdq(ir_graph *g, const pass_options *o, diag_sink *d);
int pass_quantize_act(ir_graph *g, const pass_options *o, diag_sink *d);
int pass_io_int(ir_graph *g, const pass_options *o, diag_sink *d);
int pass_bnfold(ir_graph *g, const pass_options *o, diag_sink *d);
int pass_quantize_weights(ir_graph *g, const pass_options *o, diag_sink *d);
int pass_bitpack_weights(ir_graph *g, const pass_options *o, diag_sink *d);
int pass_patch(ir_graph *g, const pass_options *o, diag_sink *d);

#endif
