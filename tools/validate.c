/* validate.c: `qgtc validate MODEL [INPUT.npy...] [flags]`: compile MODEL
 * as `qgtc MODEL [flags] -o x.o` would, run the object on its target (this
 * machine for x86-64, qemu-aarch64 for AArch64, QEMU's mps2 boards for
 * Cortex-M0/M3/M4/M7) on a few inputs, and compare every output with what
 * the reference interpreter computes on the same compiled graph.  Prints
 * the largest error (0 for integer code, which must match byte for byte),
 * the cost of one inference (instructions on Cortex-M under -icount and on
 * AArch64 through qgtc's TCG plugin, time on the host), flash, arena and
 * stack (on Cortex-M also the stack the run used, painted and read back).
 * Like ST Edge AI's validate.
 *
 * The object is linked with a generated harness (inputs embedded as
 * bytes, outputs printed as hex) by the target's C compiler; everything
 * lives in a temporary folder, removed afterwards unless -v. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "data.h"
#include "driver.h"
#include "frontend.h"

#ifndef QGTC_RUNTIME_DIR
#define QGTC_RUNTIME_DIR "runtime"
#endif
#ifndef QGTC_ICOUNT_PLUGIN
#define QGTC_ICOUNT_PLUGIN "libqgtc_icount.so"
#endif

enum { DEFAULT_SAMPLES = 4, MAX_SAMPLES = 64, RUN_TIMEOUT_S = 600 };

typedef enum { VT_HOST, VT_AARCH64, VT_CORTEXM } val_kind;

/* How to build and run on one target. */
typedef struct val_target {
	val_kind kind;
	const char *cc;             /* C compiler that links the harness */
	const char *runner;         /* emulator, or NULL: run natively */
	const char *board;          /* qemu-system-arm -M (Cortex-M) */
	char mcpu[64], mfpu[32];    /* arm-none-eabi-gcc -mcpu=, -mfpu= */
	bool hard_float;
	const char *what;           /* how it runs, for the report */
} val_target;

typedef struct val_ctx {
	const drv_options *o;
	diag_sink *d;
	char dir[4096];             /* the temporary folder */
	ir_graph *g;
	int nsamp;
	ir_tensor *in;              /* [nsamp * ninputs] */
	ir_tensor *ref;             /* [nsamp * noutputs]: the interpreter's outputs */
	unsigned char **got;        /* [nsamp * noutputs]: the target's output bytes */
	uint64_t *cost;             /* [nsamp] instructions (Cortex-M, AArch64 with the plugin) */
	const char *plugin;         /* AArch64: tools/qemu_icount.c's plugin, or NULL */
	uint64_t *marks;            /* [2 * nsamp]: its counts at each start and stop */
	int nmarks;
	uint64_t *prof;             /* --profile: [g->nnodes] ticks over all samples */
	uint64_t *prof_insn;        /* AArch64 with the plugin: [g->nnodes] instructions, all samples */
	bool have_insn;
	double ns;                  /* host: nanoseconds per inference; < 0: not measured */
	int64_t stack;              /* NET_STACK_SIZE, or -1 */
	int64_t stack_used;         /* Cortex-M: the deepest byte the run wrote below main's SP, or -1 */
} val_ctx;

static bool on_path(const char *prog)
{
	const char *path = getenv("PATH");
	if (!path)
		return false;
	char buf[4096];
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		snprintf(buf, sizeof buf, "%.*s/%s", (int)n, n ? p : ".", prog);
		if (access(buf, X_OK) == 0)
			return true;
		p += n;
		p += *p == ':';
	}
	return false;
}

/* Which runner for the resolved target t; 0, or -1 after reporting. */
static int pick_target(const be_target *t, val_target *v, diag_sink *d)
{
	memset(v, 0, sizeof *v);
#if defined(__x86_64__)
	const char *host = "x86_64";
#elif defined(__aarch64__)
	const char *host = "aarch64";
#else
	const char *host = "";
#endif
	const char *need1 = NULL, *need2 = NULL;
	if (strncmp(t->triple, "x86_64", 6) == 0 || strncmp(t->triple, "aarch64", 7) == 0) {
		bool a64 = t->triple[0] == 'a';
		bool native = strncmp(t->triple, host, strlen(host)) == 0 && *host;
		if (!native && !a64) {
			diag_error(d, NULL, "validate runs x86-64 objects on an x86-64 machine only");
			return -1;
		}
		v->kind = a64 && !native ? VT_AARCH64 : VT_HOST;
		v->cc = native ? "cc" : "aarch64-linux-gnu-gcc";
		v->runner = native ? NULL : "qemu-aarch64";
		v->what = native ? "natively" : "under qemu-aarch64";
		need1 = v->cc;
		need2 = v->runner;
	} else if (strncmp(t->triple, "thumbv7em", 9) == 0 &&
	           (strcmp(t->cpu, "cortex-m4") == 0 || strcmp(t->cpu, "cortex-m7") == 0)) {
		bool m7 = strcmp(t->cpu, "cortex-m7") == 0;
		v->kind = VT_CORTEXM;
		v->cc = "arm-none-eabi-gcc";
		v->runner = "qemu-system-arm";
		v->board = m7 ? "mps2-an500" : "mps2-an386";
		v->what = m7 ? "on QEMU mps2-an500 (Cortex-M7)" : "on QEMU mps2-an386 (Cortex-M4)";
		snprintf(v->mcpu, sizeof v->mcpu, "%s", t->cpu);
		snprintf(v->mfpu, sizeof v->mfpu, "%s", m7 ? "fpv5-d16" : "fpv4-sp-d16");
		v->hard_float = t->float_abi != BE_FLOAT_ABI_SOFT;
		need1 = v->cc;
		need2 = v->runner;
	} else if (strncmp(t->triple, "thumbv7m", 8) == 0 || strncmp(t->triple, "thumbv6m", 8) == 0) {
		/* no FPU: soft float.  The Armv6-M code (Cortex-M0/M0+/M1) runs
		 * on the M3 board, which executes that subset as an M0 would:
		 * the same instructions, so the same count */
		bool v6 = t->triple[6] == '6';
		v->kind = VT_CORTEXM;
		v->cc = "arm-none-eabi-gcc";
		v->runner = "qemu-system-arm";
		v->board = "mps2-an385";
		v->what = v6 ? "on QEMU mps2-an385 (a Cortex-M3 running the Armv6-M code)"
		             : "on QEMU mps2-an385 (Cortex-M3)";
		snprintf(v->mcpu, sizeof v->mcpu, "%s", *t->cpu ? t->cpu : v6 ? "cortex-m0" : "cortex-m3");
		v->mfpu[0] = 0;
		v->hard_float = false;
		need1 = v->cc;
		need2 = v->runner;
	} else {
		diag_error(d, NULL, "validate runs x86_64, aarch64 and Cortex-M0/M3/M4/M7 (thumbv6m, thumbv7m, "
		           "armv7em) objects, not %s%s%s", t->triple, *t->cpu ? " -mcpu=" : "", t->cpu);
		return -1;
	}
	if (!on_path(need1) || (need2 && !on_path(need2))) {
		diag_error(d, NULL, "validate for %s needs %s%s%s on PATH (tools/setup.sh installs them)",
		           t->triple, need1, need2 ? " and " : "", need2 ? need2 : "");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ inputs */

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* One sample of graph input v: random (f32 uniform in [-1, 1), integers
 * uniform over their range). */
static int random_input(const ir_value *v, ir_tensor *t, uint64_t *seed, diag_sink *d)
{
	int64_t n = ir_shape_numel(&v->shape);
	size_t es = ir_dtype_size(v->dt);
	if (v->dt != IR_DT_F32 && !ir_dtype_is_qint(v->dt)) {
		diag_error(d, NULL, "input '%s' is %s: validate makes f32 and integer activation "
		           "inputs (give .npy files for others)", v->name, ir_dtype_name(v->dt));
		return -1;
	}
	t->dt = v->dt;
	t->shape = v->shape;
	t->data = calloc((size_t)(n ? n : 1), es);
	if (!t->data) {
		diag_error(d, NULL, "out of memory");
		return -1;
	}
	int64_t lo = 0, hi = 0;
	if (v->dt != IR_DT_F32)
		ir_value_range(v, &lo, &hi);
	for (int64_t i = 0; i < n; i++) {
		uint64_t r = rng_next(seed) >> 11;
		if (v->dt == IR_DT_F32) {
			((float *)t->data)[i] = (float)((double)r / 4503599627370496.0 - 1.0);
			continue;
		}
		int64_t q = lo + (int64_t)(r % (uint64_t)(hi - lo + 1));
		switch (v->dt) {
		case IR_DT_I8: ((int8_t *)t->data)[i] = (int8_t)q; break;
		case IR_DT_U8: ((uint8_t *)t->data)[i] = (uint8_t)q; break;
		case IR_DT_I16: ((int16_t *)t->data)[i] = (int16_t)q; break;
		default: ((uint16_t *)t->data)[i] = (uint16_t)q; break;
		}
	}
	return 0;
}

/* Sample s of an [N, ...] array a for graph input v (shape [1, ...] or
 * a's own when N is 1). */
static int slice_input(const ir_value *v, const ir_tensor *a, int s, ir_tensor *t)
{
	int64_t n = ir_shape_numel(&v->shape);
	size_t es = ir_dtype_size(v->dt);
	t->dt = v->dt;
	t->shape = v->shape;
	t->data = malloc((size_t)(n ? n : 1) * es);
	if (!t->data)
		return -1;
	memcpy(t->data, (const char *)a->data + (size_t)s * (size_t)n * es, (size_t)n * es);
	return 0;
}

/* How many samples array a holds for v; -1 if its shape does not fit:
 * [N, ...] of v's items, v's own shape without its batch of 1, or
 * [N, ...v's shape] (samples stacked with their batch of 1). */
static int samples_in(const ir_value *v, const ir_tensor *a)
{
	int64_t n = ir_shape_numel(&v->shape), m = ir_shape_numel(&a->shape);
	if (a->dt != v->dt || n <= 0 || m % n != 0)
		return -1;
	if (a->shape.rank == v->shape.rank) {
		for (int i = 1; i < a->shape.rank; i++)
			if (a->shape.d[i] != v->shape.d[i])
				return -1;
	} else if (a->shape.rank == v->shape.rank + 1) {
		for (int i = 0; i < v->shape.rank; i++)
			if (a->shape.d[i + 1] != v->shape.d[i])
				return -1;
	} else if (a->shape.rank != v->shape.rank - 1 || v->shape.d[0] != 1) {
		return -1;
	}
	return (int)(m / n < MAX_SAMPLES ? m / n : MAX_SAMPLES);
}

static int make_inputs(val_ctx *c)
{
	const drv_options *o = c->o;
	ir_graph *g = c->g;
	int want = o->limit > 0 ? (int)(o->limit < MAX_SAMPLES ? o->limit : MAX_SAMPLES) : DEFAULT_SAMPLES;
	ir_tensor *files = NULL;
	qgt_dataset ds = {0};
	int rc = -1;
	if (o->ninputs && o->ninputs != g->ninputs) {
		diag_error(c->d, o->model, "the model has %d inputs; %d input files were given",
		           g->ninputs, o->ninputs);
		return -1;
	}
	if (o->ninputs) {
		files = calloc((size_t)o->ninputs, sizeof *files);
		if (!files)
			goto out;
		for (int k = 0; k < o->ninputs; k++) {
			if (drv_check_readable(o->inputs[k], c->d) || fe_npy_load(o->inputs[k], &files[k], c->d))
				goto out;
			int m = samples_in(g->inputs[k], &files[k]);
			if (m < 0) {
				char want_s[128], got_s[128];
				ir_shape_str(&g->inputs[k]->shape, want_s, sizeof want_s);
				ir_shape_str(&files[k].shape, got_s, sizeof got_s);
				diag_error(c->d, o->inputs[k], "input %d '%s' of the compiled model is %s%s; "
				           "this file holds %s%s, not [N, ...] of those%s", k,
				           g->inputs[k]->name, ir_dtype_name(g->inputs[k]->dt), want_s,
				           ir_dtype_name(files[k].dt), got_s,
				           o->quant.io_int && files[k].dt == IR_DT_F32 && g->inputs[k]->dt != IR_DT_F32
				                   ? " (--io int takes the quantized integers)"
				                   : "");
				goto out;
			}
			/* every sample in the files (at most MAX_SAMPLES), or --limit's */
			int cap = o->limit > 0 ? want : MAX_SAMPLES;
			if (k == 0 || m < want)
				want = m < cap ? m : cap;
		}
	} else if (o->data_dir) {
		if (g->ninputs != 1 || g->inputs[0]->dt != IR_DT_F32) {
			diag_error(c->d, o->model, "--data feeds one f32 input; give .npy files instead");
			goto out;
		}
		qgt_norm nm;
		if (drv_norm(o, &nm, c->d) || qgt_dataset_load(&ds, o->data_dir, QGT_SPLIT_TEST, &nm, c->d))
			goto out;
		if (ds.sample_numel != ir_shape_numel(&g->inputs[0]->shape) ||
		    !ir_shape_feeds(&ds.sample, &g->inputs[0]->shape)) {
			char a[96], s[96];
			diag_error(c->d, o->data_dir, "a sample is %s; the model's input is %s",
			           ir_shape_str(&ds.sample, s, sizeof s),
			           ir_shape_str(&g->inputs[0]->shape, a, sizeof a));
			goto out;
		}
		if (ds.n < want)
			want = (int)ds.n;
	}
	c->nsamp = want;
	c->in = calloc((size_t)want * (size_t)g->ninputs, sizeof *c->in);
	if (!c->in)
		goto out;
	uint64_t seed = 0x9E3779B97F4A7C15ull ^ o->train_seed;
	for (int s = 0; s < want; s++)
		for (int k = 0; k < g->ninputs; k++) {
			ir_tensor *t = &c->in[s * g->ninputs + k];
			if (files) {
				if (slice_input(g->inputs[k], &files[k], s, t))
					goto out;
			} else if (ds.x) {
				ir_tensor a = {.dt = IR_DT_F32, .shape = g->inputs[0]->shape,
				               .data = ds.x + (size_t)s * (size_t)ds.sample_numel};
				if (slice_input(g->inputs[k], &a, 0, t))
					goto out;
			} else if (random_input(g->inputs[k], t, &seed, c->d)) {
				goto out;
			}
		}
	rc = 0;
out:
	if (rc && c->d->nerr == 0)
		diag_error(c->d, NULL, "out of memory");
	for (int k = 0; files && k < o->ninputs; k++)
		ir_tensor_free(&files[k]);
	free(files);
	qgt_dataset_free(&ds);
	return rc;
}

/* ------------------------------------------------- build and run */

/* Run argv with stdout and stderr into log (appended), at most timeout
 * seconds; the exit status, or -1 (could not start, killed). */
static int spawn(char *const argv[], const char *log, bool verbose)
{
	if (verbose) {
		fputs("+", stderr);
		for (int i = 0; argv[i]; i++)
			fprintf(stderr, " %s", argv[i]);
		fputc('\n', stderr);
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0) {
			dup2(nul, 0);
			close(nul);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	struct timespec nap = {0, 5 * 1000 * 1000};
	for (long waited = 0;; waited += 5) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		if (r < 0 && errno != EINTR)
			return -1;
		if (waited >= RUN_TIMEOUT_S * 1000L) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		nanosleep(&nap, NULL);
	}
}

/* The last lines of a log, as notes. */
static void show_log(const char *log, diag_sink *d)
{
	FILE *f = fopen(log, "r");
	if (!f)
		return;
	char line[512], tail[8][512];
	int n = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		snprintf(tail[n % 8], sizeof tail[0], "%s", line);
		n++;
	}
	fclose(f);
	for (int i = n > 8 ? n - 8 : 0; i < n; i++)
		diag_note(d, NULL, "%s", tail[i % 8]);
}

/* Does the log file hold the text? */
static bool log_has(const char *log, const char *text)
{
	FILE *f = fopen(log, "r");
	if (!f)
		return false;
	char line[512];
	bool found = false;
	while (!found && fgets(line, sizeof line, f))
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}

static bool all_f32_io(const ir_graph *g)
{
	for (int k = 0; k < g->ninputs; k++)
		if (g->inputs[k]->dt != IR_DT_F32)
			return false;
	for (int k = 0; k < g->noutputs; k++)
		if (g->outputs[k]->dt != IR_DT_F32)
			return false;
	return true;
}

/* The harness: the inputs as bytes, one run per sample (its outputs as
 * hex lines "out S K HEX", its cost "cost S N" on Cortex-M), then on the
 * host the time of one inference, "ns N". */
static int write_harness(const val_ctx *c, const val_target *v, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	const ir_graph *g = c->g;
	bool f32 = all_f32_io(g);
	const char *ct = f32 ? "const float *" : "const void *", *mt = f32 ? "float *" : "void *";
	fprintf(f, "/* generated by qgtc validate */\n#include <stdint.h>\n#include <stdio.h>\n"
	           "#include <string.h>\n#include <time.h>\n#include \"net.h\"\n\n");
	for (int s = 0; s < c->nsamp; s++)
		for (int k = 0; k < g->ninputs; k++) {
			const ir_tensor *t = &c->in[s * g->ninputs + k];
			size_t n = (size_t)ir_shape_numel(&t->shape) * ir_dtype_size(t->dt);
			fprintf(f, "static const unsigned char in_%d_%d[%zu] __attribute__((aligned(16))) = {",
			        s, k, n ? n : 1);
			for (size_t i = 0; i < n; i++)
				fprintf(f, "%s%u", i % 24 ? "," : i ? ",\n" : "\n", ((const unsigned char *)t->data)[i]);
			fprintf(f, "%s};\n", n ? "\n" : "0");
		}
	for (int k = 0; k < g->noutputs; k++) {
		size_t n = (size_t)ir_shape_numel(&g->outputs[k]->shape) * ir_dtype_size(g->outputs[k]->dt);
		fprintf(f, "static unsigned char out_%d[%zu] __attribute__((aligned(16)));\n", k, n ? n : 1);
	}
	fprintf(f, "static unsigned char arena[NET_ARENA_SIZE] __attribute__((aligned(16)));\n\n");
	fprintf(f, "static %sconst ins[%d][%d] = {\n", ct, c->nsamp, g->ninputs ? g->ninputs : 1);
	for (int s = 0; s < c->nsamp; s++) {
		fprintf(f, "\t{");
		for (int k = 0; k < g->ninputs; k++)
			fprintf(f, "%s(%s)in_%d_%d", k ? ", " : "", ct, s, k);
		fprintf(f, "%s},\n", g->ninputs ? "" : "0");
	}
	fprintf(f, "};\nstatic %sconst outs[%d] = {", mt, g->noutputs);
	for (int k = 0; k < g->noutputs; k++)
		fprintf(f, "%s(%s)out_%d", k ? ", " : "", mt, k);
	fprintf(f, "};\nstatic const unsigned long out_bytes[%d] = {", g->noutputs);
	for (int k = 0; k < g->noutputs; k++)
		fprintf(f, "%s%zu", k ? ", " : "",
		        (size_t)ir_shape_numel(&g->outputs[k]->shape) * ir_dtype_size(g->outputs[k]->dt));
	fprintf(f, "};\n\n");
	if (v->kind == VT_CORTEXM)
		/* SysTick from the processor clock: under -icount shift=0 one
		 * tick per 40 instructions (see bench/icount_m4_harness.c). */
		fputs("#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)\n"
		      "#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)\n"
		      "#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)\n"
		      "static uint32_t t0;\n"
		      "static void start(void)\n{\n\tSYST_CSR = 0;\n\tSYST_RVR = 0xFFFFFFu;\n\tSYST_CVR = 0;\n"
		      "\tSYST_CSR = 5;\n\twhile (SYST_CVR == 0)\n\t\t;\n\tt0 = SYST_CVR;\n\t(void)SYST_CSR;\n}\n"
		      "static unsigned long long stop(void)\n{\n\tuint32_t b = SYST_CVR;\n"
		      "\tuint32_t w = (SYST_CSR >> 16) & 1u;\n"
		      "\treturn (w ? (unsigned long long)t0 + 0x1000000u - b : (unsigned long long)(t0 - b)) * 40u;\n}\n"
		      /* the stack below main's SP painted before the first run,
		       * then the deepest byte it changed: what the run used */
		      "#ifdef NET_STACK_SIZE\n#define PAINT (NET_STACK_SIZE + 4096u)\n#else\n#define PAINT 65536u\n#endif\n"
		      "static unsigned char *sp0;\n"
		      "__attribute__((noinline)) static void paint(void)\n{\n"
		      "\tfor (unsigned long i = 128; i < PAINT; i++)\n\t\t((volatile unsigned char *)sp0)[-(long)i] = 0xA5;\n}\n"
		      "static unsigned long used(void)\n{\n"
		      "\tunsigned long i = PAINT - 1;\n"
		      "\twhile (i >= 128 && ((volatile unsigned char *)sp0)[-(long)i] == 0xA5)\n\t\ti--;\n"
		      "\treturn i >= 128 ? i : 0;\n}\n",
		      f);
	else if (v->kind == VT_AARCH64 && c->plugin)
		/* the plugin records its count at each `hint #85` (a NOP) */
		fputs("__attribute__((noinline)) static void mark(void)\n{\n"
		      "\t__asm__ volatile(\"hint #85\" ::: \"memory\");\n}\n"
		      "static void start(void) { mark(); }\n"
		      "static unsigned long long stop(void)\n{\n\tmark();\n\treturn 0;\n}\n",
		      f);
	else
		fputs("static void start(void) {}\nstatic unsigned long long stop(void) { return 0; }\n", f);
	bool paint = v->kind == VT_CORTEXM;
	fprintf(f, "\nint main(void)\n{\n"
	           "\tfor (int s = 0; s < %d; s++) {\n"
	           "%s"
	           "\t\tstart();\n"
	           "\t\tint rc = net_run(ins[s], outs, arena);\n"
	           "\t\tunsigned long long n = stop();\n"
	           "%s"
	           "\t\tif (rc) {\n\t\t\tprintf(\"rc %%d\\n\", rc);\n\t\t\treturn 1;\n\t\t}\n"
	           "\t\tfor (int k = 0; k < %d; k++) {\n"
	           "\t\t\tprintf(\"out %%d %%d \", s, k);\n"
	           "\t\t\tfor (unsigned long i = 0; i < out_bytes[k]; i++)\n"
	           "\t\t\t\tprintf(\"%%02x\", ((const unsigned char *)outs[k])[i]);\n"
	           "\t\t\tprintf(\"\\n\");\n\t\t}\n"
	           "\t\tprintf(\"cost %%d %%llu\\n\", s, n);\n\t}\n",
	        c->nsamp,
	        paint ? "\t\tif (s == 0) {\n\t\t\t__asm__ volatile(\"mov %0, sp\" : \"=r\"(sp0));\n\t\t\tpaint();\n\t\t}\n" : "",
	        paint ? "\t\tif (s == 0)\n\t\t\tprintf(\"stack %lu\\n\", used());\n" : "", g->noutputs);
	/* On the host the profile covers the timing loop's warm runs, not the
	 * samples': those first runs fault the arena's pages in and start
	 * from cold caches, which inflated the first nodes' shares. */
	const char *prof_print = "\tfor (int k = 0; k < NET_PROFILE_NODES; k++)\n"
	                         "\t\tif (net_profile[k])\n"
	                         "\t\t\tprintf(\"prof %d %llu\\n\", k, net_profile[k]);\n";
	if (c->prof && v->kind != VT_HOST)
		fputs(prof_print, f);
	if (v->kind == VT_HOST) {
		fputs("\tstruct timespec a, b;\n\tlong runs = 0;\n\tdouble ns = 0;\n"
		      "\tfor (int w = 0; w < 3; w++)\n\t\tnet_run(ins[0], outs, arena);\n",
		      f);
		if (c->prof)
			fputs("\tmemset(net_profile, 0, sizeof net_profile);\n", f);
		fputs("\tclock_gettime(CLOCK_MONOTONIC, &a);\n"
		      "\tdo {\n\t\tnet_run(ins[0], outs, arena);\n\t\truns++;\n"
		      "\t\tclock_gettime(CLOCK_MONOTONIC, &b);\n"
		      "\t\tns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);\n"
		      "\t} while (runs < 5 || ns < 2e8);\n"
		      "\tprintf(\"ns %.1f\\n\", ns / (double)runs);\n",
		      f);
		if (c->prof)
			fputs(prof_print, f);
	}
	fputs("\treturn 0;\n}\n", f);
	int err = ferror(f);
	return fclose(f) || err ? -1 : 0;
}

static int hexval(int ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Read the harness's output. */
static int read_results(val_ctx *c, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	const ir_graph *g = c->g;
	size_t cap = 1 << 16;
	char *line = malloc(cap);
	int rc = line ? 0 : -1;
	while (rc == 0 && line) {
		size_t len = 0;
		int ch;
		while ((ch = fgetc(f)) != EOF && ch != '\n') {
			if (len + 1 == cap) {
				char *nl = realloc(line, cap * 2);
				if (!nl) {
					rc = -1;
					break;
				}
				line = nl;
				cap *= 2;
			}
			line[len++] = (char)ch;
		}
		line[len] = 0;
		if (ch == EOF && len == 0)
			break;
		int s, k, at = 0;
		unsigned long long n;
		double ns;
		if (sscanf(line, "out %d %d %n", &s, &k, &at) == 2 && at > 0 && s >= 0 && s < c->nsamp &&
		    k >= 0 && k < g->noutputs) {
			size_t want = (size_t)ir_shape_numel(&g->outputs[k]->shape) * ir_dtype_size(g->outputs[k]->dt);
			if (strlen(line + at) != 2 * want)
				continue; /* left NULL: reported as missing */
			unsigned char *b = malloc(want ? want : 1);
			if (!b) {
				rc = -1;
				break;
			}
			for (size_t i = 0; i < want; i++)
				b[i] = (unsigned char)(hexval(line[at + 2 * i]) << 4 | hexval(line[at + 2 * i + 1]));
			free(c->got[s * g->noutputs + k]);
			c->got[s * g->noutputs + k] = b;
		} else if (sscanf(line, "stack %llu", &n) == 1) {
			c->stack_used = (int64_t)n;
		} else if (sscanf(line, "cost %d %llu", &s, &n) == 2 && s >= 0 && s < c->nsamp) {
			c->cost[s] = n;
		} else if (c->marks && sscanf(line, "icount-mark %d %llu", &k, &n) == 2 && k == c->nmarks &&
		           k < 2 * c->nsamp) {
			c->marks[c->nmarks++] = n;
		} else if (c->prof && sscanf(line, "prof %d %llu", &k, &n) == 2 && k >= 0 &&
		           k < g->nnodes) {
			c->prof[k] = n;
		} else if (c->prof_insn && sscanf(line, "icount-node %d %llu", &k, &n) == 2 && k >= 0 &&
		           k < g->nnodes) {
			c->prof_insn[k] = n;
			c->have_insn = true;
		} else if (sscanf(line, "ns %lf", &ns) == 1) {
			c->ns = ns;
		}
	}
	free(line);
	fclose(f);
	return rc;
}

/* Compile the harness with the object and run it; 0 or -1 after
 * reporting. */
static int build_and_run(val_ctx *c, const val_target *v)
{
	char src[4200], obj[4200], prog[4200], log[4200], out[4200], inc[4200];
	snprintf(src, sizeof src, "%s/harness.c", c->dir);
	snprintf(obj, sizeof obj, "%s/net.o", c->dir);
	snprintf(prog, sizeof prog, "%s/prog", c->dir);
	snprintf(log, sizeof log, "%s/build.log", c->dir);
	snprintf(out, sizeof out, "%s/run.txt", c->dir);
	snprintf(inc, sizeof inc, "-I%s", c->dir);
	if (write_harness(c, v, src)) {
		diag_error(c->d, NULL, "cannot write '%s': %s", src, strerror(errno));
		return -1;
	}
	const char *rt = getenv("QGTC_RUNTIME_DIR");
	rt = rt && *rt ? rt : QGTC_RUNTIME_DIR;
	char ld[4200], startup[4200], mcpu[96], mfpu[64];
	snprintf(ld, sizeof ld, "%s/mps2/mps2.ld", rt);
	snprintf(startup, sizeof startup, "%s/mps2/startup.c", rt);
	snprintf(mcpu, sizeof mcpu, "-mcpu=%s", v->mcpu);
	snprintf(mfpu, sizeof mfpu, "-mfpu=%s", v->mfpu);
	char *argv[32];
	int n = 0;
	argv[n++] = (char *)v->cc;
	argv[n++] = "-O2";
	argv[n++] = inc;
	if (v->kind == VT_CORTEXM) {
		if (access(ld, R_OK) || access(startup, R_OK)) {
			diag_error(c->d, NULL, "validate needs qgtc's Cortex-M runtime: no '%s' (set "
			           "QGTC_RUNTIME_DIR to the runtime/ folder of qgtc's sources)", ld);
			return -1;
		}
		argv[n++] = mcpu;
		argv[n++] = "-mthumb";
		argv[n++] = v->hard_float ? "-mfloat-abi=hard" : "-mfloat-abi=soft";
		if (v->hard_float)
			argv[n++] = mfpu;
		argv[n++] = "--specs=rdimon.specs";
		argv[n++] = "-T";
		argv[n++] = ld;
		argv[n++] = "-Wl,--no-warn-execstack";
		argv[n++] = startup;
	} else if (v->kind == VT_AARCH64) {
		argv[n++] = "-static";
	}
	argv[n++] = src;
	argv[n++] = obj;
	argv[n++] = "-lm";
	argv[n++] = "-o";
	argv[n++] = prog;
	argv[n] = NULL;
	int st = spawn(argv, log, c->o->verbose);
	if (st != 0 && v->kind == VT_CORTEXM && log_has(log, "will not fit in region")) {
		diag_error(c->d, NULL, "the object does not fit the QEMU %s board's memory (4 MB for code "
		           "and weights, 1 MB for data and the arena; runtime/mps2/mps2.ld)", v->board);
		show_log(log, c->d);
		return -1;
	}
	if (st != 0) {
		diag_error(c->d, NULL, "%s could not link the harness with the object (status %d)", v->cc, st);
		show_log(log, c->d);
		return -1;
	}
	n = 0;
	if (v->kind == VT_CORTEXM) {
		argv[n++] = "qemu-system-arm";
		argv[n++] = "-M";
		argv[n++] = (char *)v->board;
		argv[n++] = "-nographic";
		argv[n++] = "-icount";
		argv[n++] = "shift=0";
		argv[n++] = "-semihosting-config";
		argv[n++] = "enable=on,target=native";
		argv[n++] = "-kernel";
	} else if (v->kind == VT_AARCH64) {
		argv[n++] = "qemu-aarch64";
		argv[n++] = "-cpu";
		argv[n++] = "max";
		if (c->plugin) {
			argv[n++] = "-plugin";
			argv[n++] = (char *)c->plugin;
		}
	}
	argv[n++] = prog;
	argv[n] = NULL;
	st = spawn(argv, out, c->o->verbose);
	if (st != 0) {
		diag_error(c->d, NULL, "the program failed %s (status %d%s)", v->what, st,
		           st < 0 ? ": crashed or ran past the time limit" : "");
		show_log(out, c->d);
		return -1;
	}
	if (read_results(c, out)) {
		diag_error(c->d, NULL, "cannot read the program's output '%s'", out);
		return -1;
	}
	if (c->marks && c->nmarks == 2 * c->nsamp)
		for (int s = 0; s < c->nsamp; s++)
			c->cost[s] = c->marks[2 * s + 1] - c->marks[2 * s];
	else
		c->plugin = NULL; /* not counted */
	/* Test hook: QGTC_VALIDATE_TAMPER=1 flips one bit of what the target
	 * printed, so the test suite can show that a difference fails. */
	const char *tamper = getenv("QGTC_VALIDATE_TAMPER");
	if (tamper && strcmp(tamper, "1") == 0 && c->got[0])
		c->got[0][0] ^= 1;
	return 0;
}

/* Write what be_compile_buffer made, and the header. */
static int write_object(val_ctx *c, const be_target *t, pass_object_size *sz)
{
	char imports[2048] = "";
	be_options bo = {.emit = BE_EMIT_OBJ, .name = "net", .model_desc = c->o->model,
	                 .imports = imports, .imports_len = sizeof imports, .sizes = sz, .stack = &c->stack};
	void *buf = NULL;
	size_t len = 0;
	if (be_compile_buffer(c->g, t, &bo, &buf, &len, c->d))
		return -1;
	char path[4200];
	snprintf(path, sizeof path, "%s/net.o", c->dir);
	FILE *f = fopen(path, "wb");
	int rc = f && fwrite(buf, 1, len, f) == len ? 0 : -1;
	if (f && fclose(f))
		rc = -1;
	if (rc)
		diag_error(c->d, NULL, "cannot write '%s': %s", path, strerror(errno));
	free(buf);
	snprintf(path, sizeof path, "%s/net.h", c->dir);
	if (rc)
		return -1;
	return c->prof ? be_write_header_profile(c->g, "net", path, imports, c->stack, c->d)
	               : be_write_header(c->g, "net", path, imports, c->stack, c->d);
}

/* ------------------------------------------------------- compare */

/* Does g compute in integers only (quantize/dequantize at the edges)?
 * Then the target must reproduce the interpreter's bytes exactly. */
static bool integer_only(const ir_graph *g)
{
	bool any = false;
	for (int i = 0; i < g->nnodes; i++) {
		const ir_node *n = g->nodes[i];
		if (n->dead || n->op == IR_OP_QUANTIZE || n->op == IR_OP_DEQUANTIZE)
			continue;
		for (int j = 0; j < n->nout; j++) {
			if (!n->out[j])
				continue;
			if (n->out[j]->dt == IR_DT_F32)
				return false;
			any = true;
		}
	}
	return any;
}

static const char *group3(uint64_t v, char *buf, size_t n)
{
	char raw[32];
	int len = snprintf(raw, sizeof raw, "%llu", (unsigned long long)v), at = 0;
	for (int i = 0; i < len && (size_t)at + 2 < n; i++) {
		if (i && (len - i) % 3 == 0)
			buf[at++] = ',';
		buf[at++] = raw[i];
	}
	buf[at] = 0;
	return buf;
}

/* Multiply-accumulates of one inference of a conv/dense node (every
 * sample of the batch, every row of a matmul: qgt_layer_macs counts one
 * sample, out[0]'s first dimension); 0 for the others. */
static int64_t node_macs(const ir_node *n)
{
	bool kernel = n->op == IR_OP_CONV || n->op == IR_OP_GEMM || n->op == IR_OP_MATMUL;
	if (!kernel || n->nin < 2 || !n->in[1] || n->nout < 1 || !n->out[0])
		return 0;
	const ir_shape *ys = &n->out[0]->shape;
	return qgt_layer_macs(n) * (ys->rank > 0 ? ys->d[0] : 1);
}

/* --profile: where one inference spends its time, per node. */
static void print_profile(const val_ctx *c, const val_target *v)
{
	const ir_graph *g = c->g;
	/* instructions: SysTick ticks x 40 on Cortex-M, the plugin's counts on
	 * AArch64 (scale 1) */
	bool a64 = v->kind == VT_AARCH64 && c->have_insn;
	const uint64_t *prof = a64 ? c->prof_insn : c->prof;
	double scale = a64 ? 1 : 40;
	uint64_t total = 0;
	for (int k = 0; k < g->nnodes; k++)
		total += prof[k];
	bool m = v->kind == VT_CORTEXM || a64;
	printf("  per node (--profile; %s):\n", a64 ? "instructions, counted by the TCG plugin"
	                                       : m ? "instructions, SysTick ticks x 40 under -icount"
	                                       : c->ns >= 0 ? "time, the share of rdtsc/CNTVCT ticks"
	                                                    : "the share of CNTVCT ticks (emulated)");
	printf("    %-4s %-24s %-18s %-16s %10s %14s %9s %7s\n", "node", "name", "op", "shape", "MACs",
	       m ? "instructions" : c->ns >= 0 ? "us" : "ticks", m ? "instr/MAC" : "", "share");
	int64_t macs_all = 0;
	for (int k = 0; k < g->nnodes; k++) {
		if (!prof[k])
			continue;
		const ir_node *n = g->nodes[k];
		char shape[64] = "", b[40];
		if (n->nout && n->out[0])
			ir_shape_str(&n->out[0]->shape, shape, sizeof shape);
		int64_t macs = node_macs(n);
		macs_all += macs > 0 ? macs : 0;
		double per = (double)prof[k] / c->nsamp;
		const char *nm = n->name ? n->name : "";
		size_t len = strlen(nm);
		char name[32]; /* a long name by its tail, which tells layers apart */
		snprintf(name, sizeof name, "%s%s", len > 24 ? "..." : "", len > 24 ? nm + len - 21 : nm);
		printf("    %-4d %-24s %-18.18s %-16.16s %10s ", k, name, ir_op_name(n->op), shape,
		       macs > 0 ? group3((uint64_t)macs, b, sizeof b) : "-");
		char cost[40] = "", ipm[24] = "";
		if (m)
			group3((uint64_t)(per * scale + 0.5), cost, sizeof cost);
		else if (c->ns >= 0)
			snprintf(cost, sizeof cost, "%.2f", c->ns / 1000 * (double)prof[k] / (double)total);
		else
			snprintf(cost, sizeof cost, "%.0f", per);
		if (m && macs > 0)
			snprintf(ipm, sizeof ipm, "%.2f", per * scale / (double)macs);
		printf("%14s %9s %6.1f%%\n", cost, ipm, total ? 100.0 * (double)prof[k] / (double)total : 0);
	}
	char b1[40], b2[40];
	if (m)
		printf("    all nodes: %s instructions for %s MACs (%.2f/MAC)\n",
		       group3((uint64_t)((double)total / c->nsamp * scale + 0.5), b1, sizeof b1),
		       group3((uint64_t)macs_all, b2, sizeof b2),
		       macs_all ? (double)total / c->nsamp * scale / (double)macs_all : 0);
}

static int compare_and_report(val_ctx *c, const val_target *v, const pass_object_size *sz,
                              int64_t arena)
{
	const ir_graph *g = c->g;
	bool exact = integer_only(g);
	const char *src = c->o->ninputs ? "from the .npy files"
	                  : c->o->data_dir ? "from --data's test split" : "random, seeded";
	printf("validate: %s for %s, %s, %d input%s (%s)\n", c->o->model,
	       c->o->target ? c->o->target : "host", v->what, c->nsamp, c->nsamp == 1 ? "" : "s", src);
	int bad = 0;
	for (int k = 0; k < g->noutputs; k++) {
		const ir_value *o = g->outputs[k];
		int64_t n = ir_shape_numel(&o->shape);
		size_t bytes = (size_t)n * ir_dtype_size(o->dt);
		double maxerr = 0, maxref = 0;
		int same = 0, missing = 0;
		for (int s = 0; s < c->nsamp; s++) {
			const unsigned char *got = c->got[s * g->noutputs + k];
			const ir_tensor *ref = &c->ref[s * g->noutputs + k];
			if (!got) {
				missing++;
				continue;
			}
			same += memcmp(got, ref->data, bytes) == 0;
			for (int64_t i = 0; i < n; i++) {
				double a = ir_elem_get(got, o->dt, i), b = ir_elem_get(ref->data, o->dt, i);
				double e = isnan(a) != isnan(b) ? INFINITY : isnan(a) ? 0 : fabs(a - b);
				maxerr = e > maxerr ? e : maxerr;
				maxref = fabs(b) > maxref ? fabs(b) : maxref;
			}
		}
		char shape[128];
		ir_shape_str(&o->shape, shape, sizeof shape);
		printf("  output %d '%s' %s%s: max |error| %.3g", k, o->name, ir_dtype_name(o->dt), shape, maxerr);
		if (maxref > 0 && maxerr > 0)
			printf(" (%.3g of max |ref| %.4g)", maxerr / maxref, maxref);
		printf(", bit-exact on %d/%d inputs\n", same, c->nsamp);
		bool ok = missing == 0 &&
		          (exact || o->dt != IR_DT_F32 ? same == c->nsamp : maxerr <= 1e-4 * (maxref > 0 ? maxref : 1));
		if (missing)
			diag_error(c->d, NULL, "output %d '%s': the program printed no value for %d input%s",
			           k, o->name, missing, missing == 1 ? "" : "s");
		else if (!ok)
			diag_error(c->d, NULL, "output %d '%s' differs from the interpreter: %s", k, o->name,
			           exact || o->dt != IR_DT_F32 ? "integer code must match byte for byte"
			                                       : "more than 1e-4 of the largest output");
		bad += !ok;
	}
	char b1[40], b2[40], b3[40], b4[40];
	if (v->kind == VT_CORTEXM || (v->kind == VT_AARCH64 && c->plugin)) {
		uint64_t lo = c->cost[0], hi = c->cost[0];
		for (int s = 1; s < c->nsamp; s++) {
			lo = c->cost[s] < lo ? c->cost[s] : lo;
			hi = c->cost[s] > hi ? c->cost[s] : hi;
		}
		int res = v->kind == VT_CORTEXM ? 40 : 5; /* the count's resolution */
		if (hi < (uint64_t)res)
			printf("  instructions/inference: under %d", res);
		else
			printf("  instructions/inference: %s", group3(hi, b1, sizeof b1));
		if (lo != hi && lo >= (uint64_t)res)
			printf(" (fewest %s)", group3(lo, b2, sizeof b2));
		printf(v->kind == VT_CORTEXM ? " (QEMU -icount, +-%d)\n" : " (qemu-aarch64, TCG plugin, +-%d)\n",
		       res);
	} else if (c->ns >= 0) {
		printf("  time/inference: %.1f us (this machine)\n", c->ns / 1000);
	} else {
		printf("  time/inference: not measured (emulated; run the object on the board)\n");
	}
	if (c->prof)
		print_profile(c, v);
	printf("  flash: %s B (.text %s + .rodata %s)\n", group3(sz->text + sz->rodata, b1, sizeof b1),
	       group3(sz->text, b2, sizeof b2), group3(sz->rodata, b3, sizeof b3));
	printf("  arena: %s B\n", group3((uint64_t)arena, b4, sizeof b4));
	if (c->stack >= 0) {
		printf("  stack: %s B (NET_STACK_SIZE)", group3((uint64_t)c->stack, b1, sizeof b1));
		if (c->stack_used > 0)
			printf(", %s B used on the target", group3((uint64_t)c->stack_used, b2, sizeof b2));
		else if (c->stack_used == 0) /* the harness paints from 128 B below its SP */
			printf(", under 128 B used on the target");
		printf("\n");
	}
	printf("%s\n", bad ? "validate: FAILED" : exact ? "validate: ok (integer code, bit-exact)"
	                                                 : "validate: ok (float code, within 1e-4)");
	return bad ? -1 : 0;
}

/* --------------------------------------------------------- command */

static void remove_dir(const char *dir)
{
	static const char *const files[] = {"net.o", "net.h", "harness.c", "prog", "build.log", "run.txt"};
	char p[4200];
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

int drv_validate(const drv_options *o, diag_sink *d)
{
	be_target t;
	val_target v;
	if (be_target_resolve(o->target ? o->target : "host", o->mcpu, o->mattr, o->float_abi, &t, d) ||
	    pick_target(&t, &v, d))
		return DRV_ERROR;
	t.opt = o->opt_level;
	t.code = o->code_policy;
	t.profile = o->profile;
	val_ctx c = {.o = o, .d = d, .ns = -1, .stack = -1, .stack_used = -1};
	int rc = DRV_ERROR;
	int brc = drv_build(o, 1, &c.g, d);
	if (brc != DRV_OK)
		return brc;
	const char *tmp = getenv("TMPDIR");
	snprintf(c.dir, sizeof c.dir, "%s/qgtc-validate-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(c.dir)) {
		diag_error(d, NULL, "cannot create a temporary folder: %s", strerror(errno));
		c.dir[0] = 0;
		goto out;
	}
	if (make_inputs(&c))
		goto out;
	ir_graph *g = c.g;
	c.ref = calloc((size_t)c.nsamp * (size_t)g->noutputs, sizeof *c.ref);
	c.got = calloc((size_t)c.nsamp * (size_t)g->noutputs, sizeof *c.got);
	c.cost = calloc((size_t)c.nsamp, sizeof *c.cost);
	if (v.kind == VT_AARCH64) { /* count instructions when the plugin is there */
		const char *pl = getenv("QGTC_ICOUNT_PLUGIN");
		pl = pl && *pl ? pl : QGTC_ICOUNT_PLUGIN;
		if (access(pl, R_OK) == 0) {
			c.plugin = pl;
			c.marks = calloc((size_t)(2 * c.nsamp), sizeof *c.marks);
		}
	}
	if (o->profile)
		c.prof = calloc((size_t)g->nnodes + 1, sizeof *c.prof);
	if (o->profile && c.plugin)
		c.prof_insn = calloc((size_t)g->nnodes + 1, sizeof *c.prof_insn);
	if (!c.ref || !c.got || !c.cost || (o->profile && !c.prof)) {
		diag_error(d, NULL, "out of memory");
		goto out;
	}
	for (int s = 0; s < c.nsamp; s++)
		if (ir_interp_run(g, &c.in[s * g->ninputs], &c.ref[s * g->noutputs], d))
			goto out;
	pass_object_size sz;
	if (write_object(&c, &t, &sz))
		goto out;
	pass_mem_plan *p = pass_memplan_compute(g, d);
	if (!p)
		goto out;
	int64_t arena = p->arena_size;
	pass_memplan_destroy(p);
	if (build_and_run(&c, &v))
		goto out;
	rc = compare_and_report(&c, &v, &sz, arena) ? DRV_ERROR : DRV_OK;
out:
	if (c.dir[0]) {
		if (o->verbose)
			fprintf(stderr, "qgtc: validate: the harness, object and logs are in %s\n", c.dir);
		else
			remove_dir(c.dir);
	}
	for (int i = 0; c.in && i < c.nsamp * c.g->ninputs; i++)
		ir_tensor_free(&c.in[i]);
	for (int i = 0; c.ref && i < c.nsamp * c.g->noutputs; i++)
		ir_tensor_free(&c.ref[i]);
	for (int i = 0; c.got && i < c.nsamp * c.g->noutputs; i++)
		free(c.got[i]);
	free(c.in);
	free(c.ref);
	free(c.got);
	free(c.cost);
	free(c.marks);
	free(c.prof_insn);
	free(c.prof);
	ir_graph_destroy(c.g);
	return rc;
}
