/* config.c: the XTRACE_* environment, read once at init. Cold path; no allocation. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctlproto.h"
#include "format.h"
#include "shim.h"

struct xt_config xt_config;

/* number parses a decimal environment value within [lo, hi], else returns def. */
static unsigned number(const char *name, unsigned def, unsigned lo, unsigned hi)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return def;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || v < lo || v > hi) {
		xt_say("%s=%s is not a number in [%u, %u]; using %u", name, s, lo, hi, def);
		return def;
	}
	return (unsigned)v;
}

void xt_config_load(void)
{
	const char *out = getenv("XTRACE_OUT");
	if (!out || !*out)
		out = "xtrace.%e.%p.xt";
	if (strlen(out) >= sizeof(xt_config.out_pattern)) {
		xt_say("XTRACE_OUT is longer than %zu bytes; using the default",
		       sizeof(xt_config.out_pattern) - 1);
		out = "xtrace.%e.%p.xt";
	}
	strcpy(xt_config.out_pattern, out);

	/* A run directory takes every process image of the tree, each in a file of its own. */
	const char *dir = getenv("XTRACE_DIR");
	xt_config.out_dir[0] = 0;
	if (dir && strlen(dir) >= sizeof(xt_config.out_dir))
		xt_say("XTRACE_DIR is longer than %zu bytes; using XTRACE_OUT",
		       sizeof(xt_config.out_dir) - 1);
	else if (dir)
		strcpy(xt_config.out_dir, dir);

	xt_config.stack_depth = number("XTRACE_STACK_DEPTH", 64, 1, XT_MAX_FRAMES);
	xt_config.gen_ms = number("XTRACE_GEN_MS", 1000, 1, 3600 * 1000);
	xt_config.sample_bytes = number("XTRACE_SAMPLE", 0, 0, 1u << 30);
	xt_config.sample_seed = number("XTRACE_SAMPLE_SEED", 0, 0, UINT_MAX);
	xt_config.compress = number("XTRACE_COMPRESS", 1, 0, 1) != 0;

	const char *u = getenv("XTRACE_UNWIND");
#ifdef XT_SANITIZED_THREADS
	/* Under TSan, libunwind's per-thread cache is torn down after TSan has finished with the
	 * exiting thread, and its lock then faults: walk frame pointers instead. */
	xt_config.unwind = XT_UNWIND_FP;
#else
	xt_config.unwind = XT_UNWIND_DWARF;
#endif
	if (u && *u) {
		if (strcmp(u, "dwarf") == 0)
			xt_config.unwind = XT_UNWIND_DWARF;
		else if (strcmp(u, "libunwind") == 0)
			xt_config.unwind = XT_UNWIND_LIBUNWIND;
		else if (strcmp(u, "fp") == 0)
			xt_config.unwind = XT_UNWIND_FP;
		else if (strcmp(u, "none") == 0)
			xt_config.unwind = XT_UNWIND_NONE;
		else
			xt_say("XTRACE_UNWIND=%s is not dwarf, libunwind, fp or none; using dwarf", u);
	}

	const char *st = getenv("XTRACE_START");
	xt_config.start_stopped = st && strcmp(st, "stopped") == 0;
	if (st && *st && !xt_config.start_stopped && strcmp(st, "recording") != 0)
		xt_say("XTRACE_START=%s is not recording or stopped; recording", st);
	xt_config.flight_mib = number("XTRACE_FLIGHT", 0, 0, 65536);
	/* Read here, on the program's thread: the generation thread must not call getenv. */
	if (!xt_ctl_dir(xt_config.ctl_dir, sizeof xt_config.ctl_dir, getenv("XDG_RUNTIME_DIR"),
			(unsigned long)geteuid()))
		xt_config.ctl_dir[0] = 0;
}
