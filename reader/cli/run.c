/* run.c: `xtrace run`: exec a program with the tracing library preloaded. It execs the program
 * itself (no fork), so pid, exit status and signals stay the program's own. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "options.h"

/* find_library puts the path of the tracing library next to this binary in lib (PATH_MAX
 * bytes): <prefix>/bin/xtrace uses <prefix>/lib/libxtrace.so, and a sanitizer build's bin-SAN/
 * uses lib-SAN/. tried gets the path it looked at. */
static int find_library(char *lib, char *tried, size_t tn)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
	if (len < 0) {
		snprintf(tried, tn, "/proc/self/exe");
		return -1;
	}
	self[len] = 0;
	char *bindir = dirname(self);
	char bindir_copy[PATH_MAX];
	snprintf(bindir_copy, sizeof bindir_copy, "%s", bindir);
	const char *base = basename(bindir_copy);
	const char *suffix = strncmp(base, "bin", 3) == 0 ? base + 3 : "";
	snprintf(tried, tn, "%s/../lib%s/libxtrace.so", bindir, suffix);
	/* An absolute, clean path: the program may change directory before it loads anything. */
	return realpath(tried, lib) ? 0 : -1;
}

int cmd_run(int argc, char **argv, const struct xt_command *cmd)
{
	struct cli_options opt = {0};
	/* CLI_PROGRAM: stop at the program's name, so its own options are left alone */
	int code = cli_parse_options(cmd, argc, argv, CLI_OUTPUT | CLI_PROGRAM, &opt);
	if (code >= 0)
		return code;
	if (optind >= argc)
		return cli_usage_error(cmd, "no program given");

	char lib[PATH_MAX], tried[PATH_MAX + 32];
	if (find_library(lib, tried, sizeof tried) < 0) {
		cli_warn("cannot find the tracing library %s: %s", tried, strerror(errno));
		return XT_EXIT_USAGE;
	}
	const char *old = getenv("LD_PRELOAD");
	char *preload = lib;
	if (old && old[0]) {
		size_t need = strlen(lib) + 1 + strlen(old) + 1;
		preload = malloc(need);
		if (!preload) {
			cli_warn("out of memory");
			return XT_EXIT_FAIL;
		}
		snprintf(preload, need, "%s:%s", lib, old);
	}
	if (setenv("LD_PRELOAD", preload, 1) < 0 ||
	    (opt.output && setenv("XTRACE_OUT", opt.output, 1) < 0)) {
		cli_warn("cannot set the environment: %s", strerror(errno));
		return XT_EXIT_FAIL;
	}
	fflush(NULL);
	execvp(argv[optind], argv + optind);
	int err = errno;
	cli_warn("cannot run %s: %s", argv[optind], strerror(err));
	/* The shell's codes: 127 not found, 126 found but not runnable. */
	return err == ENOENT ? 127 : 126;
}
