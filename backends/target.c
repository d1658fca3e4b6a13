/* target.c: --target/-mcpu/-mattr/-mfloat-abi -> a normalised be_target. */
#include <string.h>

#include "llvm/lower_internal.h"

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static bool starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

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
	out->reloc = is_arm_m || (is_arm && strstr(out->triple, "none")) ? BE_RELOC_STATIC : BE_RELOC_PIC;
done:
	LLVMDisposeMessage(host_triple);
	LLVMDisposeMessage(host_cpu);
	LLVMDisposeMessage(host_feat);
	return rc;
}
