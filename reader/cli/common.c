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
	switch (st) {
	case XTRACE_OK:
		return XT_EXIT_OK;
	case XTRACE_ERR_TRUNCATED:
		/* The reader's message names the offset. */
		cli_warn("%s: %s; read the complete generations before it", path, xtrace_error(r));
		return XT_EXIT_TRUNCATED;
	case XTRACE_ERR_NOMEM:
		cli_warn("%s: out of memory", path);
		return XT_EXIT_FAIL;
	case XTRACE_ERR_IO:
		cli_warn("%s: read error: %s", path, xtrace_error(r));
		return XT_EXIT_FAIL;
	case XTRACE_ERR_CORRUPT:
		break;
	}
	cli_warn("%s: corrupt trace: %s", path, xtrace_error(r));
	return XT_EXIT_FAIL;
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
	const struct xtrace_header *h = xtrace_get_header(r);
	return ts > h->start_ts ? ts - h->start_ts : 0;
}

int cli_out_close(struct xt_out *o)
{
	if (xt_out_close(o) == 0)
		return 0;
	cli_warn("cannot write the output");
	return -1;
}
