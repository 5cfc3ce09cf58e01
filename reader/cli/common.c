/* common.c: helpers every subcommand uses: messages, usage errors, opening a trace and turning
 * the reader's end status into an exit code. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

#include "analysis/summary.h"
#include "cli.h"

int cli_no_symbols;

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("xtrace: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int cli_usage_error(const struct xt_command *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "xtrace: %s: ", cmd->name);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nusage: %s", cmd->usage);
	va_end(ap);
	return XT_EXIT_USAGE;
}

int cli_help(const struct xt_command *cmd)
{
	printf("usage: %s", cmd->usage);
	return XT_EXIT_OK;
}

const char *cli_file_arg(const struct xt_command *cmd, int argc, char **argv)
{
	if (optind >= argc) {
		cli_usage_error(cmd, "no trace file given");
		return NULL;
	}
	if (optind + 1 < argc) {
		cli_usage_error(cmd, "unexpected argument %s", argv[optind + 1]);
		return NULL;
	}
	return argv[optind];
}

xtrace_reader *cli_open(const char *path)
{
	char err[256] = "";
	xtrace_reader *r = xtrace_open(path, err, sizeof err);
	if (!r)
		cli_warn("%s", err[0] ? err : path);
	return r;
}

xtrace_reader *cli_open_arg(const struct xt_command *cmd, int argc, char **argv,
			    const char **path, int *code)
{
	*path = cli_file_arg(cmd, argc, argv);
	if (!*path) {
		*code = XT_EXIT_USAGE;
		return NULL;
	}
	xtrace_reader *r = cli_open(*path);
	*code = r ? XT_EXIT_OK : XT_EXIT_FAIL;
	return r;
}

int cli_read_end(const xtrace_reader *r, const char *path, enum xtrace_status st)
{
	if (st == XTRACE_OK)
		return XT_EXIT_OK;
	char msg[1024];
	xt_read_end_message(r, path, st, msg, sizeof msg);
	cli_warn("%s", msg);
	return st == XTRACE_ERR_TRUNCATED ? XT_EXIT_TRUNCATED : XT_EXIT_FAIL;
}

int cli_finish(struct xt_out *o, const xtrace_reader *r, const char *path, enum xtrace_status st)
{
	/* A failed write is the failure to report: the output is what the user asked for. */
	if (cli_out_close(o) < 0)
		return XT_EXIT_FAIL;
	return cli_read_end(r, path, st);
}

uint64_t cli_since_start(const xtrace_reader *r, uint64_t ts)
{
	return xt_since_start(r, ts);
}

int cli_out_close(struct xt_out *o)
{
	if (xt_out_close(o) == 0)
		return 0;
	cli_warn("cannot write the output");
	return -1;
}
