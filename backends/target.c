/* target.c: --target/-mcpu/-mattr/-mfloat-abi -> a normalised be_target. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "llvm/lower_internal.h"

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static bool starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* The architecture of a normalised triple (its text up to the first
 * '-') is the same as that of b. */
static bool same_arch(const char *a, const char *b)
{
	size_t n = strcspn(a, "-");
	return n == strcspn(b, "-") && strncmp(a, b, n) == 0;
}

/* Whether LLVM knows cpu and every feature of feat for the triple: it
 * has no C call that says so, and a name it does not know is only a
 * warning on stderr ("... is not a recognized processor/feature ...
 * (ignoring ...)"), after which code generation may abort.  So create a
 * target machine with stderr sent to a temporary file and read what it
 * wrote: 1 unknown CPU, 2 unknown feature, 0 known, -1 cannot tell. */
static int probe_names(LLVMTargetRef tgt, const char *triple, const char *cpu, const char *feat)
{
	FILE *tmp = tmpfile();
	if (!tmp)
		return -1;
	fflush(stderr);
	int saved = dup(2);
	if (saved < 0 || dup2(fileno(tmp), 2) < 0) {
		if (saved >= 0)
			close(saved);
		fclose(tmp);
		return -1;
	}
	LLVMTargetMachineRef tm = LLVMCreateTargetMachine(tgt, triple, cpu, feat, LLVMCodeGenLevelDefault,
	                                                  LLVMRelocDefault, LLVMCodeModelDefault);
	if (tm)
		LLVMDisposeTargetMachine(tm);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char buf[4096];
	size_t n = 0;
	if (fseek(tmp, 0, SEEK_SET) == 0)
		n = fread(buf, 1, sizeof buf - 1, tmp);
	buf[n] = 0;
	fclose(tmp);
	if (strstr(buf, "is not a recognized processor"))
		return 1;
	if (strstr(buf, "is not a recognized")) /* feature */
		return 2;
	return tm ? 0 : -1;
}

/* The Cortex-M cores LLVM knows that lack what code for a thumbv7em
 * triple uses (the DSP instructions; an FPU for hard float, the default),
 * and the triple that is theirs.  LLVM takes the pair and aborts in
 * instruction selection. */
static const struct {
	const char *cpu, *triple;
} not_v7em[] = {
	{"cortex-m0", "thumbv6m-none-eabi"},       {"cortex-m0plus", "thumbv6m-none-eabi"},
	{"cortex-m1", "thumbv6m-none-eabi"},       {"sc000", "thumbv6m-none-eabi"},
	{"cortex-m3", "thumbv7m-none-eabi"},       {"sc300", "thumbv7m-none-eabi"},
	{"cortex-m23", "thumbv8m.base-none-eabi"},
};

int be_target_resolve(const char *name, const char *mcpu, const char *mattr,
                      const char *float_abi, be_target *out, diag_sink *d)
{
	be_llvm_init();
	memset(out, 0, sizeof *out);
	out->opt = 3;
	if (!name || !*name)
		name = "host";
	be_float_abi fa = BE_FLOAT_ABI_DEFAULT;
	if (float_abi && *float_abi) {
		if (strcmp(float_abi, "hard") == 0)
			fa = BE_FLOAT_ABI_HARD;
		else if (strcmp(float_abi, "soft") == 0)
			fa = BE_FLOAT_ABI_SOFT;
		else {
			diag_error(d, NULL, "unknown float ABI '%s' (expected hard or soft)", float_abi);
			return -1;
		}
	}
	const char *raw, *cpu = "";
	char *host_feat = NULL, *host_cpu = NULL, *host_triple = NULL;
	if (strcmp(name, "x86_64") == 0 || strcmp(name, "x86-64") == 0) {
		raw = "x86_64-pc-linux-gnu";
		cpu = "x86-64";
	} else if (strcmp(name, "aarch64") == 0 || strcmp(name, "arm64") == 0) {
		raw = "aarch64-linux-gnu";
		cpu = "cortex-a72";
	} else if (strcmp(name, "armv7em") == 0 || strcmp(name, "cortex-m4") == 0) {
		raw = fa == BE_FLOAT_ABI_SOFT ? "thumbv7em-none-eabi" : "thumbv7em-none-eabihf";
		cpu = "cortex-m4";
		if (fa == BE_FLOAT_ABI_DEFAULT)
			fa = BE_FLOAT_ABI_HARD;
	} else if (strcmp(name, "host") == 0) {
		host_triple = LLVMGetDefaultTargetTriple();
		host_cpu = LLVMGetHostCPUName();
		host_feat = LLVMGetHostCPUFeatures();
		raw = host_triple;
		cpu = host_cpu;
		out->is_host = true;
	} else {
		raw = name;
	}
	char *norm = LLVMNormalizeTargetTriple(raw);
	copy(out->triple, sizeof out->triple, norm);
	LLVMDisposeMessage(norm);
	LLVMTargetRef tgt;
	char *err = NULL;
	int rc = 0;
	if (LLVMGetTargetFromTriple(out->triple, &tgt, &err)) {
		diag_error(d, NULL, "unknown target '%s' (expected x86_64, aarch64, armv7em, host or an "
		                    "LLVM triple of those architectures)", name);
		LLVMDisposeMessage(err);
		rc = -1;
		goto done;
	}
	bool is_arm_m = starts(out->triple, "thumbv6m") || starts(out->triple, "thumbv7m") ||
	                starts(out->triple, "thumbv7em") || starts(out->triple, "thumbv8m");
	bool is_arm = is_arm_m || starts(out->triple, "arm") || starts(out->triple, "thumb");
	if (fa != BE_FLOAT_ABI_DEFAULT && !is_arm) {
		diag_error(d, NULL, "-mfloat-abi applies to Arm targets only, not '%s'", out->triple);
		rc = -1;
		goto done;
	}
	if (!*cpu) {
		if (starts(out->triple, "x86_64"))
			cpu = "x86-64";
		else if (starts(out->triple, "aarch64"))
			cpu = "cortex-a72";
		else if (starts(out->triple, "thumbv7em"))
			cpu = "cortex-m4";
	}
	if (is_arm && fa == BE_FLOAT_ABI_DEFAULT)
		fa = strstr(out->triple, "hf") ? BE_FLOAT_ABI_HARD : BE_FLOAT_ABI_SOFT;
	if (is_arm && fa == BE_FLOAT_ABI_HARD && !strstr(out->triple, "hf")) {
		diag_error(d, NULL, "-mfloat-abi=hard needs a hard-float triple (e.g. ...-eabihf), not '%s'",
		           out->triple);
		rc = -1;
		goto done;
	}
	out->float_abi = is_arm ? fa : BE_FLOAT_ABI_DEFAULT;
	if (mcpu && strcmp(mcpu, "native") == 0) {
		/* gcc's and clang's spelling of this machine's CPU, with its
		 * features: for a target of the host's architecture only */
		char *ht = LLVMGetDefaultTargetTriple(), *hn = LLVMNormalizeTargetTriple(ht);
		bool same = same_arch(hn, out->triple);
		LLVMDisposeMessage(ht);
		LLVMDisposeMessage(hn);
		if (!same) {
			diag_error(d, NULL, "-mcpu=native names this machine's CPU, which cannot run target '%s'; "
			                    "give the target's CPU (e.g. -mcpu=%s)", out->triple, *cpu ? cpu : "generic");
			rc = -1;
			goto done;
		}
		if (!host_cpu) {
			host_cpu = LLVMGetHostCPUName();
			host_feat = LLVMGetHostCPUFeatures();
		}
		cpu = host_cpu;
		mcpu = NULL;
	}
	copy(out->cpu, sizeof out->cpu, mcpu && *mcpu ? mcpu : cpu);
	char feat[2048] = "";
	if (host_feat && (!mcpu || !*mcpu))
		snprintf(feat, sizeof feat, "%s", host_feat);
	if (is_arm && fa == BE_FLOAT_ABI_SOFT)
		snprintf(feat + strlen(feat), sizeof feat - strlen(feat), "%s+soft-float,-fpregs",
		         *feat ? "," : "");
	if (mattr && *mattr)
		snprintf(feat + strlen(feat), sizeof feat - strlen(feat), "%s%s", *feat ? "," : "", mattr);
	copy(out->features, sizeof out->features, feat);
	for (size_t i = 0; starts(out->triple, "thumbv7em") && i < sizeof not_v7em / sizeof not_v7em[0]; i++)
		if (strcmp(out->cpu, not_v7em[i].cpu) == 0) {
			diag_error(d, NULL, "-mcpu=%s has no DSP instructions (or FPU), which target '%s' (Armv7E-M: "
			                    "cortex-m4, cortex-m7) uses; for a %s give --target %s",
			           out->cpu, out->triple, out->cpu, not_v7em[i].triple);
			rc = -1;
			goto done;
		}
	if ((mcpu && *mcpu) || (mattr && *mattr)) {
		int bad = probe_names(tgt, out->triple, out->cpu, out->features);
		if (bad == 1 || bad == 2) {
			if (bad == 1)
				diag_error(d, NULL, "unknown CPU '%s' for target '%s' (-mcpu)", out->cpu, out->triple);
			else
				diag_error(d, NULL, "unknown feature in -mattr='%s' for target '%s' (features are +name or "
				                    "-name, comma-separated)", mattr ? mattr : "", out->triple);
			rc = -1;
			goto done;
		}
	}
	out->reloc = is_arm_m || (is_arm && strstr(out->triple, "none")) ? BE_RELOC_STATIC : BE_RELOC_PIC;
done:
	LLVMDisposeMessage(host_triple);
	LLVMDisposeMessage(host_cpu);
	LLVMDisposeMessage(host_feat);
	return rc;
}
